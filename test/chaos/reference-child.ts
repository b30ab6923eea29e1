// Child-process entry for the chaos script: runs a 3-broker reference cluster on its own event
// loop and applies the faults the parent sends over IPC (see referenceChildTarget in targets.ts).

import { Cluster } from '../../src/broker/index.js'
import { applyReferenceFault, healReference, type ChildMessage, type ChildRequest } from './targets.js'

const send = (m: ChildMessage) => process.send?.(m)
const cluster = await Cluster.start({ brokers: 3 })
process.on('message', (req: ChildRequest) => {
  const done =
    req.op === 'apply' ? applyReferenceFault(cluster, req.topic, req.event) : healReference(cluster, req.topic)
  done.then(
    () => send({ id: req.id, ok: true }),
    (err: unknown) => send({ id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  )
})
process.on('SIGTERM', () => void cluster.stop().finally(() => process.exit(0)))
// The parent went away without stopping us: stop too, rather than linger with open ports.
process.on('disconnect', () => void cluster.stop().finally(() => process.exit(0)))
send({ ready: { bootstrap: cluster.bootstrapServers, brokerIds: cluster.brokers.map((b) => b.id) } })
