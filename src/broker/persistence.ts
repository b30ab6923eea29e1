// `dataDir`: the cluster's state survives a restart, and a kill -9. journal.ts writes the files
// as the cluster changes (what is where, and what survives what, is at its top); this module
// says what the state is and reads it back on start: batches keep their offsets and leader
// epochs, producer state (sequences, ongoing transactions, aborted transactions) is rebuilt by
// replaying the batches like Kafka's log recovery, a torn batch at the end of a log (a crash
// mid-write) is cut off, and every replica starts in sync (high watermark = log end).
// Group membership is not kept (members rejoin, as after a coordinator failover); a consumer
// (KIP-848) group keeps its type and group epoch, so a member joining after the restart gets the
// next epoch and the group is not taken for a classic one; pending
// transactional offset commits are dropped. Transactions keep their state: an ongoing one is
// aborted after its timeout (counted from the restart), a prepared one is completed.

import { readFileSync, truncateSync } from 'node:fs'
import { join } from 'node:path'
import { ConfigError } from '../errors.js'
import {
  decodeControlRecord,
  decodeRecordBatch,
  readBatchHeader,
  splitBatches,
  verifyBatchCrc,
} from '../protocol/record-batch.js'
import type { AclBinding } from './acls.js'
import type { Cluster } from './cluster.js'
import type { ScramMechanism } from './sasl.js'
import { offsetKey, type CommittedOffset } from './group-state.js'
import type { Journal, OffsetRecord } from './journal.js'
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
    /** endOffset: written by versions that saved on stop only; now the log file says. */
    partitions: { replicas: number[]; leaderEpoch: number; logStartOffset: number; endOffset?: number }[]
  }[]
  groups: {
    groupId: string
    protocolType: string | null
    generationId: number
    /** topic, partition, offset, leader epoch, metadata, commit timestamp (absent in `meta`). */
    offsets?: [string, number, string, number, string, number][]
  }[]
  /** offsets.log lines up to this sequence number are already in `groups` (0 or absent: none). */
  offsetsSeq?: number
  /** KIP-848 groups (their offsets are in `groups`); absent when there are none. */
  consumerGroups?: { groupId: string; groupEpoch: number }[]
  transactions: {
    transactionalId: string
    producerId: string
    producerEpoch: number
    timeoutMs: number
    state: string
    /** Transactions V2 (absent in files written before it). */
    tv2?: boolean
    partitions: [string, number[]][]
    groups: string[]
  }[]
  /** ACL bindings, when the authorizer is on (absent in older files). */
  acls?: AclBinding[]
  /** SCRAM credentials set through the Admin: user, mechanism, salt, iterations, StoredKey, ServerKey (base64). */
  scram?: [string, ScramMechanism, string, number, string, string][]
}

const STATE_FILE = 'state.json'
const OFFSETS_FILE = 'offsets.log'

/** The state without committed offsets (`withOffsets` false): what decides whether to rewrite. */
function snapshot(cluster: Cluster, withOffsets: boolean, offsetsSeq: number): SavedState {
  const state: SavedState = {
    version: 1,
    clusterId: cluster.clusterId,
    nextProducerId: cluster.producerIdWatermark.toString(),
    dynamicTopicDefaults: Object.fromEntries(cluster.dynamicTopicDefaults),
    topics: [],
    groups: [],
    transactions: [],
  }
  for (const t of cluster.topics.all()) {
    state.topics.push({
      name: t.name,
      id: t.id,
      configs: Object.fromEntries(t.configs),
      partitions: t.partitions.map((p) => ({
        replicas: p.replicas,
        leaderEpoch: p.leaderEpoch,
        logStartOffset: p.logStartOffset,
      })),
    })
  }
  for (const g of cluster.groups.groups.values()) {
    const saved: SavedState['groups'][number] = {
      groupId: g.groupId,
      protocolType: g.protocolType,
      generationId: g.generationId,
    }
    if (withOffsets) saved.offsets = [...g.offsets].map(([key, o]) => offsetTuple(key, o))
    state.groups.push(saved)
  }
  for (const txn of cluster.transactions.txns.values()) {
    state.transactions.push({
      transactionalId: txn.transactionalId,
      producerId: txn.producerId.toString(),
      producerEpoch: txn.producerEpoch,
      timeoutMs: txn.timeoutMs,
      state: txn.state,
      tv2: txn.tv2,
      partitions: [...txn.partitions].map(([topic, set]) => [topic, [...set]]),
      groups: [...txn.groups],
    })
  }
  if (cluster.authorizer !== undefined) state.acls = cluster.authorizer.all()
  if (cluster.scramStore.users.size > 0)
    state.scram = [...cluster.scramStore.users].flatMap(([user, byMechanism]) =>
      [...byMechanism].map(([m, c]): NonNullable<SavedState['scram']>[number] => [
        user,
        m,
        c.salt.toString('base64'),
        c.iterations,
        c.storedKey.toString('base64'),
        c.serverKey.toString('base64'),
      ]),
    )
  if (withOffsets) state.offsetsSeq = offsetsSeq
  if (cluster.consumerGroups.groups.size > 0)
    state.consumerGroups = [...cluster.consumerGroups.groups.values()].map((g) => ({
      groupId: g.groupId,
      groupEpoch: g.groupEpoch,
    }))
  return state
}

function offsetTuple(key: string, o: CommittedOffset): NonNullable<SavedState['groups'][number]['offsets']>[number] {
  const i = key.lastIndexOf('\u0000')
  return [key.slice(0, i), Number(key.slice(i + 1)), o.offset.toString(), o.leaderEpoch, o.metadata, o.commitTimestamp]
}

/**
 * Writes state.json if anything but the offsets changed since the last write (or `force`, on
 * stop). Cheap when nothing changed: one JSON.stringify of the metadata, no write.
 */
export function saveState(cluster: Cluster, journal: Journal, force = false): void {
  journal.saveState(
    JSON.stringify(snapshot(cluster, false, 0)),
    () => JSON.stringify(snapshot(cluster, true, journal.offsetsSeq)),
    force,
  )
}

/** The cluster id saved in `dir`, if any (a restarted cluster keeps its id). */
export function savedClusterId(dir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')) as SavedState).clusterId
  } catch {
    return undefined
  }
}

function readState(dir: string): SavedState | undefined {
  const file = join(dir, STATE_FILE)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new ConfigError('dataDir', `cannot read ${file} (${(err as Error).message})`)
  }
  let state: SavedState
  try {
    state = JSON.parse(text) as SavedState
  } catch (err) {
    throw new ConfigError('dataDir', `${file} is not a kafkats state file (${(err as Error).message})`)
  }
  if (state.version !== 1) throw new ConfigError('dataDir', `${file}: unknown state version ${String(state.version)}`)
  return state
}

/**
 * offsets.log records newer than `afterSeq`. A torn last line (a crash mid-write) is cut off the
 * file, so that the next record starts on a line of its own.
 */
function readOffsetRecords(dir: string, afterSeq: number): { records: OffsetRecord[]; lines: number } {
  const file = join(dir, OFFSETS_FILE)
  let data: Buffer
  try {
    data = readFileSync(file)
  } catch {
    return { records: [], lines: 0 }
  }
  const whole = data.lastIndexOf(0x0a) + 1
  if (whole < data.length) truncateSync(file, whole)
  const records: OffsetRecord[] = []
  let lines = 0
  for (const line of data.subarray(0, whole).toString('utf8').split('\n')) {
    if (line === '') continue
    let record: OffsetRecord
    try {
      record = JSON.parse(line) as OffsetRecord
    } catch {
      continue
    }
    lines++
    if (record.s > afterSeq) records.push(record)
  }
  return { records, lines }
}

/** Reads the state back into a cluster whose brokers are running (so preferred leaders lead again). */
export async function loadState(cluster: Cluster, journal: Journal): Promise<void> {
  const dir = journal.dir
  const state = readState(dir)
  const { records, lines } = readOffsetRecords(dir, state?.offsetsSeq ?? 0)
  journal.loading = true
  try {
    if (state !== undefined) await loadSnapshot(cluster, journal, state)
    // Offset changes made after state.json was written, in order.
    for (const r of records) {
      if (r.t === undefined || r.p === undefined) {
        cluster.groups.groups.delete(r.g)
        continue
      }
      const group = cluster.groups.getOrCreate(r.g)
      if (r.o === undefined) group.offsets.delete(offsetKey(r.t, r.p))
      else
        group.offsets.set(offsetKey(r.t, r.p), {
          offset: BigInt(r.o),
          leaderEpoch: r.e ?? -1,
          metadata: r.m ?? '',
          commitTimestamp: r.ts ?? 0,
        })
    }
  } finally {
    journal.loading = false
  }
  const lastSeq = Math.max(state?.offsetsSeq ?? 0, ...records.map((r) => r.s))
  journal.loaded(JSON.stringify(snapshot(cluster, false, 0)), lines, lastSeq)
}

async function loadSnapshot(cluster: Cluster, journal: Journal, state: SavedState): Promise<void> {
  cluster.reserveProducerIds(BigInt(state.nextProducerId) - 1n)
  for (const [k, v] of Object.entries(state.dynamicTopicDefaults)) cluster.dynamicTopicDefaults.set(k, v)
  for (const b of state.acls ?? []) cluster.authorizer?.add(b)
  for (const [user, m, salt, iterations, storedKey, serverKey] of state.scram ?? [])
    cluster.scramStore.set(user, m, {
      salt: Buffer.from(salt, 'base64'),
      iterations,
      storedKey: Buffer.from(storedKey, 'base64'),
      serverKey: Buffer.from(serverKey, 'base64'),
    })
  const now = Date.now()
  const keep = new Set<string>()
  for (const t of state.topics) {
    const topic = cluster.topics.restore(
      t.name,
      t.id,
      t.configs,
      t.partitions.map((p) => p.replicas),
    )
    for (const [i, saved] of t.partitions.entries()) {
      const p = topic.partitions[i]!
      const file = journal.logPath(t.id, i)
      keep.add(file)
      await replayLog(p, file, now, cluster)
      p.log.resetOffsets(saved.logStartOffset, saved.endOffset ?? saved.logStartOffset)
      if (saved.logStartOffset > p.log.logStartOffset) p.log.advanceStartOffset(saved.logStartOffset)
      // Batches written after state.json may carry a newer leader epoch.
      p.leaderEpoch = Math.max(saved.leaderEpoch, p.log.epochs[p.log.epochs.length - 1]?.epoch ?? 0)
      p.log.assignEpoch(p.leaderEpoch, p.log.endOffset)
      p.highWatermark = 0
      p.replicate()
    }
  }
  for (const file of journal.strayLogs(keep)) cluster.log.warn(`${file}: no topic has this log; ignored`)
  for (const g of state.groups) {
    const group = cluster.groups.getOrCreate(g.groupId)
    group.protocolType = g.protocolType
    group.generationId = g.generationId
    for (const [topic, partition, offset, leaderEpoch, metadata, commitTimestamp] of g.offsets ?? []) {
      group.offsets.set(offsetKey(topic, partition), { offset: BigInt(offset), leaderEpoch, metadata, commitTimestamp })
    }
  }
  for (const g of state.consumerGroups ?? []) cluster.consumerGroups.restore(g.groupId, g.groupEpoch)
  for (const s of state.transactions) {
    const now = Date.now()
    cluster.transactions.txns.set(s.transactionalId, {
      transactionalId: s.transactionalId,
      producerId: BigInt(s.producerId),
      previousProducerId: -1n,
      nextProducerId: -1n,
      producerEpoch: s.producerEpoch,
      lastProducerEpoch: -1,
      timeoutMs: s.timeoutMs,
      state: s.state as 'Empty',
      tv2: s.tv2 === true,
      partitions: new Map(s.partitions.map(([topic, ps]) => [topic, new Set(ps)])),
      groups: new Set(s.groups),
      // An ongoing transaction gets a full timeout from the restart before it is aborted.
      startMs: now,
      lastUpdateMs: now,
    })
  }
  // A transaction whose EndTxn was answered (a Prepare state) gets its markers now.
  cluster.transactions.recover()
}

/** The whole batches at the start of `data` that pass their CRC (Kafka's log recovery). */
function validBatches(data: Buffer): Buffer[] {
  const out: Buffer[] = []
  let views: Buffer[]
  try {
    views = splitBatches(data)
  } catch {
    // A garbage length: keep what precedes it, found batch by batch.
    views = []
    let at = 0
    while (data.length - at >= 61) {
      const size = data.readInt32BE(at + 8) + 12
      if (size < 61 || size > data.length - at) break
      views.push(data.subarray(at, at + size))
      at += size
    }
  }
  for (const view of views) {
    try {
      verifyBatchCrc(view, 0)
    } catch {
      break
    }
    out.push(view)
  }
  return out
}

/** Re-adds a partition's batches and rebuilds its producer state (Kafka's log recovery). */
async function replayLog(p: Partition, file: string, now: number, cluster: Cluster): Promise<void> {
  let data: Buffer
  try {
    data = readFileSync(file)
  } catch {
    return
  }
  const batches = validBatches(data)
  const valid = batches.reduce((n, b) => n + b.length, 0)
  if (valid < data.length) {
    // A batch torn by a crash mid-write was never acknowledged: cut it off, as Kafka's recovery does.
    cluster.log.warn(`${file}: dropping ${data.length - valid} bytes after the last whole batch`)
    truncateSync(file, valid)
  }
  for (const view of batches) {
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
