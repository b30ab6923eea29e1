// A group member in its own process, for reader-paused-member.test.ts: the test stops it with
// SIGSTOP (no heartbeats, as in a long GC pause or a frozen VM) and continues it later. It reads
// `read` messages, reports them, commits them when told to, and reports its rebalance callbacks,
// each as one JSON line on stdout.

import { Reader } from '../../src/consumer/reader.js'
import type { FetchedMessage } from '../../src/consumer/fetch-result.js'

export interface PausedMemberArgs {
  bootstrap: string[]
  topic: string
  groupId: string
  sessionTimeout: number
  read: number
}

const args = JSON.parse(process.argv[2]!) as PausedMemberArgs
const say = (event: object): void => {
  process.stdout.write(`${JSON.stringify(event)}\n`)
}

const reader = new Reader({
  brokers: args.bootstrap,
  topic: args.topic,
  groupId: args.groupId,
  sessionTimeout: args.sessionTimeout,
  heartbeatInterval: 500,
  onRevoke: (partitions) => say({ revoked: partitions.map((p) => p.partition) }),
  onLost: (partitions) => say({ lost: partitions.map((p) => p.partition) }),
})

const signal = AbortSignal.timeout(60_000)
const messages: FetchedMessage[] = []
while (messages.length < args.read) messages.push(await reader.fetchMessage({ signal }))
say({ read: messages.map((m) => String(m.offset)) })

process.on('message', (command) => {
  if (command === 'commit') {
    reader.commitMessages(messages).then(
      () => say({ commit: 'ok' }),
      (err: unknown) => say({ commit: (err as Error).name, reason: (err as { reason?: string }).reason }),
    )
  } else if (command === 'close') {
    void reader.close().finally(() => process.exit(0))
  }
})
