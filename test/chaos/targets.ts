// Where the chaos run happens and how its faults are applied: the reference cluster in this
// process (the sized test), the reference cluster in a child process (the long script, so the
// Writer and the brokers do not share an event loop), or real Kafka (node kills with SIGKILL
// through scripts/kafka.sh kill-node, leader moves through the Admin API).

import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Cluster } from '../../src/broker/index.js'
import { brokerIdsOf, isr, realKafkaFaults, waitFor, waitForLeader } from '../helpers/real-kafka.js'
import type { FaultEvent, FaultKind } from './plan.js'
import { REAL_KAFKA_KINDS, REFERENCE_KINDS } from './plan.js'

export interface ChaosTarget {
  name: string
  bootstrap: string[]
  brokerIds: number[]
  kinds: readonly FaultKind[]
  /** Real Kafka reassigns before electing, which waits for every replica. */
  moveLeaderNeedsAllUp: boolean
  /** How long a fault that is undone (crash, lagMetadata, shrinkIsr) may last at most, in ms. */
  undoWithinMs: readonly [number, number]
  longUndoWithinMs?: readonly [number, number]
  apply(topic: string, event: FaultEvent): Promise<void>
  /** Lifts every fault and restarts stopped brokers, so the verifier reads a whole cluster. */
  heal(topic: string): Promise<void>
  stop(): Promise<void>
}

/**
 * Reference faults last 0.5-4 s at most, one in four 6-12 s: outages the Writer's defaults
 * (deliveryTimeout 120 s) must ride out, the long ones as long as a Kafka leader election.
 */
const REFERENCE_UNDO_MS = [500, 4000] as const
const REFERENCE_LONG_UNDO_MS = [6000, 12_000] as const
/** broker.session.timeout.ms of a crashed reference node: shorter crashes never fail over. */
const REFERENCE_SESSION_TIMEOUT_MS = 3000

/** Applies one fault to a reference cluster (shared by the in-process and child-process targets). */
export async function applyReferenceFault(cluster: Cluster, topic: string, e: FaultEvent): Promise<void> {
  const f = cluster.faults
  switch (e.kind) {
    case 'crash':
      // As on Kafka, the crashed node stays leader and coordinator until its session expires
      // (3 s here, 9 s on Kafka): clients meet refused connections first, then the failover.
      return f.stopBroker(e.broker, { sessionTimeoutMs: REFERENCE_SESSION_TIMEOUT_MS })
    case 'restart':
      return f.startBroker(e.broker)
    case 'moveLeader':
      return f.moveLeader(topic, e.partition, e.broker)
    case 'dropConnections':
      return f.dropConnections(e.broker)
    case 'dropResponse':
      return f.dropResponse('Produce', e.count, { broker: e.broker })
    case 'failPartition':
      return f.failPartition(topic, e.partition, e.code, { count: e.count })
    case 'lagMetadata':
      return f.lagMetadata(e.broker, e.on)
    case 'shrinkIsr': {
      // Down to the leader alone: below min.insync.replicas, so acks=all answers NOT_ENOUGH_REPLICAS.
      const p = cluster.topics.partition(topic, e.partition)
      if (p !== undefined) f.shrinkIsr(topic, e.partition, [p.leader])
      return
    }
    case 'restoreIsr': {
      const p = cluster.topics.partition(topic, e.partition)
      if (p !== undefined)
        f.shrinkIsr(
          topic,
          e.partition,
          p.replicas.filter((r) => cluster.isAlive(r)),
        )
      return
    }
  }
}

export async function healReference(cluster: Cluster, topic: string): Promise<void> {
  cluster.faults.clear()
  for (const b of cluster.brokers) if (!b.running) await cluster.faults.startBroker(b.id)
  const t = cluster.topics.get(topic)
  for (const p of t?.partitions ?? []) cluster.faults.shrinkIsr(topic, p.index, p.replicas)
}

/** A 3-broker reference cluster in this process. */
export async function referenceTarget(): Promise<ChaosTarget> {
  const { Cluster } = await import('../../src/broker/index.js')
  const cluster = await Cluster.start({ brokers: 3 })
  return {
    name: 'the reference cluster (in process)',
    bootstrap: cluster.bootstrapServers,
    brokerIds: cluster.brokers.map((b) => b.id),
    kinds: REFERENCE_KINDS,
    moveLeaderNeedsAllUp: false,
    undoWithinMs: REFERENCE_UNDO_MS,
    longUndoWithinMs: REFERENCE_LONG_UNDO_MS,
    apply: (topic, e) => applyReferenceFault(cluster, topic, e),
    heal: (topic) => healReference(cluster, topic),
    stop: () => cluster.stop(),
  }
}

// Messages between this process and reference-child.ts.
export type ChildCall = { op: 'apply'; topic: string; event: FaultEvent } | { op: 'heal'; topic: string }
export type ChildRequest = ChildCall & { id: number }
export type ChildMessage =
  | { ready: { bootstrap: string[]; brokerIds: number[] } }
  | { id: number; ok: true }
  | { id: number; ok: false; error: string }

/** A 3-broker reference cluster in a child process (run with tsx), faults sent over IPC. */
export async function referenceChildTarget(): Promise<ChaosTarget> {
  const entry = fileURLToPath(new URL('./reference-child.ts', import.meta.url))
  const child: ChildProcess = fork(entry, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>()
  let nextId = 0
  let exited: Error | undefined
  const ready = new Promise<{ bootstrap: string[]; brokerIds: number[] }>((resolve, reject) => {
    child.on('message', (m: ChildMessage) => {
      if ('ready' in m) return resolve(m.ready)
      const w = waiting.get(m.id)
      waiting.delete(m.id)
      if (m.ok) w?.resolve()
      else w?.reject(new Error(m.error))
    })
    child.on('exit', (code, signal) => {
      exited = new Error(`the reference cluster's process exited (${code ?? signal})`)
      reject(exited)
      for (const w of waiting.values()) w.reject(exited)
      waiting.clear()
    })
  })
  const { bootstrap, brokerIds } = await ready
  const call = (req: ChildCall): Promise<void> =>
    new Promise((resolve, reject) => {
      if (exited !== undefined) return reject(exited)
      const id = nextId++
      waiting.set(id, { resolve, reject })
      child.send({ ...req, id })
    })
  return {
    name: 'the reference cluster (child process)',
    bootstrap,
    brokerIds,
    kinds: REFERENCE_KINDS,
    moveLeaderNeedsAllUp: false,
    undoWithinMs: REFERENCE_UNDO_MS,
    longUndoWithinMs: REFERENCE_LONG_UNDO_MS,
    apply: (topic, event) => call({ op: 'apply', topic, event }),
    heal: (topic) => call({ op: 'heal', topic }),
    stop: async () => {
      if (exited !== undefined) return
      const gone = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await gone
    },
  }
}

/**
 * Real Kafka at `bootstrap`, nodes killed with SIGKILL (test/helpers/real-kafka.ts: scripts/kafka.sh
 * kill-node, or KAFKA_KILL_NODE). A restart waits until every partition's ISR is whole again, so
 * the next crash never takes the last up-to-date replica.
 */
export async function realKafkaTarget(bootstrap: string[], partitions: number): Promise<ChaosTarget> {
  const brokerIds = await brokerIdsOf(bootstrap)
  const faults = realKafkaFaults(bootstrap)
  const down = new Set<number>()
  const isrWhole = async (topic: string) => {
    for (let p = 0; p < partitions; p++) if ((await isr(bootstrap, topic, p)).length < brokerIds.length) return false
    return true
  }
  return {
    name: `Kafka at ${bootstrap.join(',')}`,
    bootstrap,
    brokerIds,
    kinds: REAL_KAFKA_KINDS,
    moveLeaderNeedsAllUp: true,
    // A killed node is down for 5-15 s plus its restart (the leader election alone waits for
    // broker.session.timeout.ms).
    undoWithinMs: [5000, 15_000],
    apply: async (topic, e) => {
      switch (e.kind) {
        case 'crash':
          // A restart that failed leaves a node down: never take a second one.
          if (down.size > 0) throw new Error(`node ${[...down].join(',')} is still down; not killing ${e.broker}`)
          down.add(e.broker)
          return faults.killBroker(e.broker)
        case 'restart':
          await faults.startBroker(e.broker)
          down.delete(e.broker)
          return waitFor(() => isrWhole(topic), 120_000, `every ISR of ${topic} whole after node ${e.broker} restarted`)
        case 'moveLeader':
          await faults.moveLeader(topic, e.partition, e.broker)
          return waitForLeader(bootstrap, topic, e.partition, e.broker)
        default:
          throw new Error(`real Kafka cannot inject ${e.kind}`)
      }
    },
    heal: async (topic) => {
      for (const id of down) await faults.startBroker(id)
      down.clear()
      await waitFor(() => isrWhole(topic), 120_000, `every ISR of ${topic} whole`)
    },
    stop: async () => {},
  }
}
