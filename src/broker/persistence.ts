// `dataDir`: the cluster's state survives a restart. On stop() the cluster writes
//   <dataDir>/state.json        cluster id, producer id watermark, topics (ids, configs, replica
//                               lists, leader epochs, log start offsets), dynamic broker
//                               configs, committed group offsets, transactional ids
//   <dataDir>/logs/<topicId>-<partition>.log   the partition's batches, exactly as stored
// and on start it reads them back: batches keep their offsets and leader epochs, producer state
// (sequences, ongoing transactions, aborted transactions) is rebuilt by replaying the batches
// like Kafka's log recovery, and every replica starts in sync (high watermark = log end).
// Group membership is not kept (members rejoin, as after a coordinator failover); pending
// transactional offset commits are dropped.

import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { decodeControlRecord, decodeRecordBatch, readBatchHeader, splitBatches } from '../protocol/record-batch.js'
import type { Cluster } from './cluster.js'
import type { Partition } from './topics.js'

interface SavedState {
  version: 1
  clusterId: string
  nextProducerId: string
  dynamicTopicDefaults: Record<string, string>
  topics: {
    name: string
    id: string
    configs: Record<string, string>
    partitions: { replicas: number[]; leaderEpoch: number; logStartOffset: number; endOffset: number }[]
  }[]
  groups: {
    groupId: string
    protocolType: string | null
    generationId: number
    offsets: [string, number, string, number, string, number][]
  }[]
  transactions: {
    transactionalId: string
    producerId: string
    producerEpoch: number
    timeoutMs: number
    state: string
    partitions: [string, number[]][]
    groups: string[]
  }[]
}

const STATE_FILE = 'state.json'

function logFile(dir: string, topicId: string, partition: number): string {
  return join(dir, 'logs', `${topicId}-${partition}.log`)
}

export async function saveState(cluster: Cluster, dir: string): Promise<void> {
  await mkdir(join(dir, 'logs'), { recursive: true })
  const state: SavedState = {
    version: 1,
    clusterId: cluster.clusterId,
    nextProducerId: cluster.producerIdWatermark.toString(),
    dynamicTopicDefaults: Object.fromEntries(cluster.dynamicTopicDefaults),
    topics: [],
    groups: [],
    transactions: [],
  }
  const keep = new Set<string>()
  for (const t of cluster.topics.all()) {
    state.topics.push({
      name: t.name,
      id: t.id,
      configs: Object.fromEntries(t.configs),
      partitions: t.partitions.map((p) => ({
        replicas: p.replicas,
        leaderEpoch: p.leaderEpoch,
        logStartOffset: p.logStartOffset,
        endOffset: p.log.endOffset,
      })),
    })
    for (const p of t.partitions) {
      const file = logFile(dir, t.id, p.index)
      keep.add(file)
      await writeAtomically(file, Buffer.concat([...p.log.batches()].map((b) => b.data)))
    }
  }
  for (const g of cluster.groups.groups.values()) {
    const offsets: SavedState['groups'][number]['offsets'] = []
    for (const [key, o] of g.offsets) {
      const i = key.lastIndexOf('\u0000')
      offsets.push([
        key.slice(0, i),
        Number(key.slice(i + 1)),
        o.offset.toString(),
        o.leaderEpoch,
        o.metadata,
        o.commitTimestamp,
      ])
    }
    state.groups.push({ groupId: g.groupId, protocolType: g.protocolType, generationId: g.generationId, offsets })
  }
  for (const txn of cluster.transactions.txns.values()) {
    state.transactions.push({
      transactionalId: txn.transactionalId,
      producerId: txn.producerId.toString(),
      producerEpoch: txn.producerEpoch,
      timeoutMs: txn.timeoutMs,
      state: txn.state,
      partitions: [...txn.partitions].map(([topic, set]) => [topic, [...set]]),
      groups: [...txn.groups],
    })
  }
  // Logs of deleted topics go.
  for (const name of await readdir(join(dir, 'logs'))) {
    const file = join(dir, 'logs', name)
    if (!keep.has(file)) await rm(file, { force: true })
  }
  await writeAtomically(join(dir, STATE_FILE), Buffer.from(JSON.stringify(state)))
}

async function writeAtomically(file: string, data: Buffer): Promise<void> {
  const tmp = `${file}.tmp`
  await writeFile(tmp, data)
  await rename(tmp, file)
}

/** The cluster id saved in `dir`, if any (a restarted cluster keeps its id). */
export async function savedClusterId(dir: string): Promise<string | undefined> {
  try {
    return (JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8')) as SavedState).clusterId
  } catch {
    return undefined
  }
}

/** Reads the state back into a cluster whose brokers are running (so preferred leaders lead again). */
export async function loadState(cluster: Cluster, dir: string): Promise<void> {
  let text: string
  try {
    text = await readFile(join(dir, STATE_FILE), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
    throw err
  }
  const state = JSON.parse(text) as SavedState
  if (state.version !== 1) throw new Error(`${dir}: unknown state version ${String(state.version)}`)
  cluster.reserveProducerIds(BigInt(state.nextProducerId) - 1n)
  for (const [k, v] of Object.entries(state.dynamicTopicDefaults)) cluster.dynamicTopicDefaults.set(k, v)
  const now = Date.now()
  for (const t of state.topics) {
    const topic = cluster.topics.restore(
      t.name,
      t.id,
      t.configs,
      t.partitions.map((p) => p.replicas),
    )
    for (const [i, saved] of t.partitions.entries()) {
      const p = topic.partitions[i]!
      let data: Buffer
      try {
        data = await readFile(logFile(dir, t.id, i))
      } catch {
        data = Buffer.alloc(0)
      }
      await replayLog(p, data, now)
      p.log.resetOffsets(saved.logStartOffset, saved.endOffset)
      if (saved.logStartOffset > p.log.logStartOffset) p.log.advanceStartOffset(saved.logStartOffset)
      p.leaderEpoch = saved.leaderEpoch
      p.log.assignEpoch(saved.leaderEpoch, p.log.endOffset)
      p.highWatermark = 0
      p.replicate()
    }
  }
  for (const g of state.groups) {
    const group = cluster.groups.getOrCreate(g.groupId)
    group.protocolType = g.protocolType
    group.generationId = g.generationId
    for (const [topic, partition, offset, leaderEpoch, metadata, commitTimestamp] of g.offsets) {
      cluster.groups.commit(group, topic, partition, { offset: BigInt(offset), leaderEpoch, metadata, commitTimestamp })
    }
  }
  for (const s of state.transactions) {
    cluster.transactions.txns.set(s.transactionalId, {
      transactionalId: s.transactionalId,
      producerId: BigInt(s.producerId),
      previousProducerId: -1n,
      producerEpoch: s.producerEpoch,
      lastProducerEpoch: -1,
      timeoutMs: s.timeoutMs,
      state: s.state as 'Empty',
      partitions: new Map(s.partitions.map(([topic, ps]) => [topic, new Set(ps)])),
      groups: new Set(s.groups),
      // An ongoing transaction gets a full timeout from the restart before it is aborted.
      startMs: now,
      lastUpdateMs: now,
    })
  }
}

/** Re-adds a partition's batches and rebuilds its producer state (Kafka's log recovery). */
async function replayLog(p: Partition, data: Buffer, now: number): Promise<void> {
  if (data.length === 0) return
  for (const view of splitBatches(data)) {
    const batch = Buffer.allocUnsafeSlow(view.length)
    view.copy(batch)
    const h = readBatchHeader(batch)
    const stored = p.log.restore(batch, h, now)
    if (h.producerId < 0n) continue
    if (h.isControl) {
      const decoded = await decodeRecordBatch(batch, { verifyCrc: false })
      const record = decoded.records[0]
      if (record === undefined) continue
      const control = decodeControlRecord(record)
      if (control.type === 'other') continue
      p.producers.onMarker(
        h.producerId,
        h.producerEpoch,
        control.type === 'commit',
        stored.baseOffset,
        control.coordinatorEpoch ?? 0,
        stored.maxTimestamp,
      )
    } else {
      p.producers.onAppend(h, stored.baseOffset, stored.lastOffset, stored.maxTimestamp)
    }
  }
}
