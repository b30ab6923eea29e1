// A ShareReader in its own process, for share-reader.test.ts: it fetches one batch, reports the
// offsets it holds as one JSON line on stdout, and waits to be killed (SIGKILL: no acknowledgement,
// no session close, no leave) without acknowledging anything.

import { ShareReader } from '../../src/share/share-reader.js'

const args = JSON.parse(process.argv[2]!) as { bootstrap: string[]; topic: string; groupId: string }
const reader = new ShareReader({
  brokers: args.bootstrap,
  groupId: args.groupId,
  topics: [args.topic],
  acknowledgementMode: 'explicit',
})
for (;;) {
  const batch = await reader.fetchMessages({ timeout: 2000 })
  if (batch.length > 0) {
    process.stdout.write(`${JSON.stringify({ held: batch.map((m) => Number(m.offset)) })}\n`)
    break
  }
}
setInterval(() => {}, 60_000)
