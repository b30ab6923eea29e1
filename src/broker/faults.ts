// Fault injection: `cluster.faults`.
//
// Every fault is deterministic: it applies to exactly the requests or partitions named, in the
// order requests arrive, and nothing happens on a timer of its own. Without faults, followers
// already copy asynchronously, one event-loop turn after an append (see topics.ts).
//
//   await faults.stopBroker(id)          the broker stops listening and drops its connections;
//                                        it leaves every ISR (the last member stays, as in KRaft)
//                                        and its partitions elect the next live ISR member.
//   await faults.startBroker(id)         it listens again on the same port, catches up and
//                                        rejoins the ISRs; offline partitions get a leader.
//   faults.moveLeader(topic, p, broker)  makes `broker` (a replica, added to the ISR if needed)
//                                        the leader, bumping the leader epoch. Clients see
//                                        NOT_LEADER_OR_FOLLOWER / FENCED_LEADER_EPOCH after it.
//   faults.shrinkIsr(topic, p, replicas) sets the ISR (the leader always stays in it); with
//                                        fewer than min.insync.replicas, acks=-1 produce fails
//                                        with NOT_ENOUGH_REPLICAS.
//   faults.lagReplica(topic, p, broker, lagging = true)
//                                        the follower stops fetching (at once, not after a round)
//                                        but stays in the ISR, so the high watermark stops:
//                                        acks=-1 produce waits (and times out) and consumers see
//                                        no new data until it resumes (a fetch round at once). A
//                                        lagging follower elected leader keeps the older high
//                                        watermark it last heard, and does not count a lagging
//                                        follower until it fetches again.
//   faults.dropConnections(brokerId)     closes every client connection of the broker.
//   faults.evictFetchSessions(brokerId)  forgets every fetch session of the broker (KIP-227), as
//                                        Kafka's FetchSessionCache evicts under pressure: the next
//                                        incremental Fetch answers FETCH_SESSION_ID_NOT_FOUND.
//   faults.failNext(api, count, code, { broker? })
//                                        the next `count` requests of `api` (key or name, e.g.
//                                        'Produce' or 0), on any broker or on `broker`, are
//                                        answered with `code` in every error field (Kafka's
//                                        error response for the request); nothing is applied.
//   faults.delay(api, ms, { broker?, count? })
//                                        requests of `api` wait `ms` before being handled
//                                        (the next `count` ones, or all until clear()).
//   faults.blackhole(brokerId, on = true) the broker reads requests and never answers them,
//                                        without closing connections (a hung broker).
//   faults.dropResponse(api, count, { broker? })
//                                        the next `count` requests of `api` are handled in full
//                                        (a Produce is appended and replicated as its acks ask,
//                                        an OffsetCommit stored...) and then the connection is
//                                        closed instead of answering: the response was lost after
//                                        the request was applied, as when a Kafka broker's reply
//                                        dies with its connection or the client times out first.
//                                        A retry must be recognised as a duplicate.
//   faults.failPartition(topic, p, code, { count?, api?, broker? })
//                                        inside the next `count` (default 1) Produce requests (or
//                                        Fetch, with api: 'Fetch') that name topic-p, only that
//                                        partition (for Fetch: where it is read, leader or follower) is answered with
//                                        `code` and nothing of it is
//                                        applied; the request's other partitions are handled as
//                                        usual. Kafka answers per partition (ReplicaManager), so
//                                        one partition of a multi-partition request can fail alone.
//   faults.lagMetadata(brokerId, on = true)
//                                        the broker answers Metadata from the view it had when
//                                        the fault was set (leaders, leader epochs, ISRs, brokers,
//                                        topics created or deleted since), until turned off or
//                                        cleared: a KRaft broker behind on the metadata log.
//                                        Setting it again freezes a newer view. Other requests
//                                        (Produce, Fetch...) use the current state.
//   faults.lagSecurity(brokerId, requests)
//                                        after an ACL or SCRAM change (CreateAcls, DeleteAcls,
//                                        AlterUserScramCredentials, on any broker), the broker goes
//                                        on authorizing, listing ACLs, describing SCRAM credentials
//                                        and checking SCRAM logins as before it, until it has
//                                        handled `requests` more requests (any API) since the
//                                        latest change: a KRaft broker applying the metadata log a
//                                        moment after the controller answered (security-views.ts).
//                                        0 turns it off.
//   faults.groupError(groupId, api, code, { count? })
//                                        the next `count` (default 1) requests of `api` (JoinGroup,
//                                        SyncGroup, Heartbeat, LeaveGroup, OffsetCommit,
//                                        OffsetFetch, ...) about `groupId`, at its coordinator, are
//                                        answered with `code` (e.g. UNKNOWN_MEMBER_ID,
//                                        ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS) and not
//                                        applied: the group's state is left as it was.
//   faults.loadCoordinator(groupId, requests = 1)
//                                        the group's coordinator starts loading its offsets
//                                        partition now: the next `requests` group requests for
//                                        any group of that partition answer
//                                        COORDINATOR_LOAD_IN_PROGRESS (as after a move, see the
//                                        coordinatorLoadRequests option).
//   faults.clear()                       removes failNext/delay/dropResponse/failPartition/
//                                        groupError/lagMetadata/lagSecurity/blackhole/lagging faults.

import { apiByKey } from '../protocol/messages/index.js'
import type { Cluster } from './cluster.js'
import { captureMetadataView } from './metadata-view.js'

interface FailRule {
  apiKey: number
  broker: number | undefined
  remaining: number
  errorCode: number
}

interface DelayRule {
  apiKey: number
  broker: number | undefined
  /** Infinity for "until clear()". */
  remaining: number
  ms: number
}

interface DropRule {
  apiKey: number
  broker: number | undefined
  remaining: number
}

interface PartitionRule {
  apiKey: number
  broker: number | undefined
  topic: string
  partition: number
  remaining: number
  errorCode: number
}

interface GroupRule {
  apiKey: number
  groupId: string
  remaining: number
  errorCode: number
}

/** The APIs whose partitions failPartition can fail one by one. */
const PARTITION_FAULT_APIS = new Set(['produce', 'fetch'])

export interface FaultDecision {
  delayMs: number
  errorCode?: number
  /** Handle the request, then close the connection instead of answering. */
  dropResponse?: boolean
}

const API_KEYS_BY_NAME = new Map<string, number>()
for (let key = 0; key < 100; key++) {
  const api = apiByKey(key)
  if (api !== undefined) API_KEYS_BY_NAME.set(api.name.toLowerCase(), key)
}

function resolveApiKey(api: number | string): number {
  if (typeof api === 'number') {
    if (apiByKey(api) === undefined) throw new RangeError(`unknown API key ${api}`)
    return api
  }
  const key = API_KEYS_BY_NAME.get(api.toLowerCase())
  if (key === undefined) throw new RangeError(`unknown API name '${api}'`)
  return key
}

export class Faults {
  private fails: FailRule[] = []
  private delays: DelayRule[] = []
  private drops: DropRule[] = []
  private partitionFails: PartitionRule[] = []
  private groupFails: GroupRule[] = []

  constructor(private readonly cluster: Cluster) {}

  /** Crashes a broker; with `sessionTimeoutMs` its leaderships and coordinators move only after it. */
  async stopBroker(brokerId: number, opts: { sessionTimeoutMs?: number } = {}): Promise<void> {
    await this.cluster.stopBroker(brokerId, opts)
  }

  async startBroker(brokerId: number): Promise<void> {
    await this.cluster.startBroker(brokerId)
  }

  moveLeader(topic: string, partition: number, toBroker: number): void {
    const p = this.partition(topic, partition)
    if (!p.replicas.includes(toBroker))
      throw new RangeError(
        `broker ${toBroker} is not a replica of ${topic}-${partition} (replicas ${p.replicas.join(',')})`,
      )
    if (!this.cluster.isAlive(toBroker)) throw new RangeError(`broker ${toBroker} is not running`)
    if (!p.isr.includes(toBroker)) p.setIsr([...p.isr, toBroker])
    p.setLeader(toBroker)
  }

  shrinkIsr(topic: string, partition: number, replicas: number[]): void {
    this.partition(topic, partition).setIsr(replicas)
  }

  lagReplica(topic: string, partition: number, brokerId: number, lagging = true): void {
    const p = this.partition(topic, partition)
    // Lagging starts at once (no fetch round first); resuming is a fetch round now.
    if (lagging) p.lagging.add(brokerId)
    else {
      p.lagging.delete(brokerId)
      p.replicate()
    }
  }

  dropConnections(brokerId: number): void {
    this.cluster.broker(brokerId).dropConnections('fault: dropConnections')
  }

  evictFetchSessions(brokerId: number): void {
    this.cluster.broker(brokerId).fetchSessions.clear()
  }

  failNext(api: number | string, count: number, errorCode: number, opts: { broker?: number } = {}): void {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`)
    this.fails.push({ apiKey: resolveApiKey(api), broker: opts.broker, remaining: count, errorCode })
  }

  dropResponse(api: number | string, count: number, opts: { broker?: number } = {}): void {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`)
    this.drops.push({ apiKey: resolveApiKey(api), broker: opts.broker, remaining: count })
  }

  failPartition(
    topic: string,
    partition: number,
    errorCode: number,
    opts: { count?: number; api?: 'Produce' | 'Fetch'; broker?: number } = {},
  ): void {
    const count = opts.count ?? 1
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`)
    if (!Number.isInteger(partition) || partition < 0)
      throw new RangeError(`partition must be a non-negative integer, got ${partition}`)
    const apiName = opts.api ?? 'Produce'
    if (!PARTITION_FAULT_APIS.has(String(apiName).toLowerCase()))
      throw new RangeError(`failPartition applies to Produce or Fetch, not '${String(apiName)}'`)
    this.partitionFails.push({
      apiKey: resolveApiKey(apiName),
      broker: opts.broker,
      topic,
      partition,
      remaining: count,
      errorCode,
    })
  }

  /**
   * The error to answer for one partition of a request (called by the Produce and Fetch
   * handlers), consuming one use of the matching failPartition fault; undefined for none.
   */
  takePartition(brokerId: number, apiKey: number, topic: string, partition: number): number | undefined {
    const rule = this.partitionFails.find(
      (r) =>
        r.apiKey === apiKey &&
        r.topic === topic &&
        r.partition === partition &&
        (r.broker === undefined || r.broker === brokerId),
    )
    if (rule === undefined) return undefined
    rule.remaining--
    if (rule.remaining <= 0) this.partitionFails.splice(this.partitionFails.indexOf(rule), 1)
    return rule.errorCode
  }

  groupError(groupId: string, api: number | string, errorCode: number, opts: { count?: number } = {}): void {
    const count = opts.count ?? 1
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`)
    this.groupFails.push({ apiKey: resolveApiKey(api), groupId, remaining: count, errorCode })
  }

  /** The error injected for one request of `apiKey` about `groupId` (undefined for none), counted. */
  takeGroup(groupId: string, apiKey: number): number | undefined {
    const rule = this.groupFails.find((r) => r.apiKey === apiKey && r.groupId === groupId)
    if (rule === undefined) return undefined
    rule.remaining--
    if (rule.remaining <= 0) this.groupFails.splice(this.groupFails.indexOf(rule), 1)
    return rule.errorCode
  }

  loadCoordinator(groupId: string, requests = 1): void {
    if (!Number.isInteger(requests) || requests < 1)
      throw new RangeError(`requests must be a positive integer, got ${requests}`)
    this.cluster.coordinatorLoad.load(this.cluster.offsetsPartitionOf(groupId), requests)
  }

  delay(api: number | string, ms: number, opts: { broker?: number; count?: number } = {}): void {
    if (!(ms >= 0)) throw new RangeError(`ms must be >= 0, got ${ms}`)
    this.delays.push({ apiKey: resolveApiKey(api), broker: opts.broker, remaining: opts.count ?? Infinity, ms })
  }

  lagMetadata(brokerId: number, on = true): void {
    const broker = this.cluster.broker(brokerId)
    broker.metadataView = on ? captureMetadataView(this.cluster) : undefined
  }

  lagSecurity(brokerId: number, requests: number): void {
    if (!Number.isInteger(requests) || requests < 0)
      throw new RangeError(`requests must be a non-negative integer, got ${requests}`)
    this.cluster.broker(brokerId)
    this.cluster.security.lag(brokerId, requests)
  }

  blackhole(brokerId: number, on = true): void {
    this.cluster.broker(brokerId).blackholed = on
  }

  clear(): void {
    this.fails = []
    this.delays = []
    this.drops = []
    this.partitionFails = []
    this.groupFails = []
    this.cluster.security.clear()
    for (const b of this.cluster.brokers) {
      b.blackholed = false
      b.metadataView = undefined
    }
    for (const t of this.cluster.topics.all()) {
      for (const p of t.partitions) {
        if (p.lagging.size > 0) {
          p.lagging.clear()
          p.replicate()
        }
      }
    }
  }

  /** Consumes the faults that apply to one request (called by the dispatcher). */
  take(brokerId: number, apiKey: number, _apiName: string): FaultDecision {
    const decision: FaultDecision = { delayMs: 0 }
    const matches = (r: { apiKey: number; broker: number | undefined; remaining: number }): boolean =>
      r.apiKey === apiKey && (r.broker === undefined || r.broker === brokerId) && r.remaining > 0
    const delay = this.delays.find(matches)
    if (delay !== undefined) {
      decision.delayMs = delay.ms
      delay.remaining--
      if (delay.remaining <= 0) this.delays.splice(this.delays.indexOf(delay), 1)
    }
    const fail = this.fails.find(matches)
    if (fail !== undefined) {
      decision.errorCode = fail.errorCode
      fail.remaining--
      if (fail.remaining <= 0) this.fails.splice(this.fails.indexOf(fail), 1)
    }
    // An injected error is a response too: a request that fails is not also dropped.
    const drop = decision.errorCode === undefined ? this.drops.find(matches) : undefined
    if (drop !== undefined) {
      decision.dropResponse = true
      drop.remaining--
      if (drop.remaining <= 0) this.drops.splice(this.drops.indexOf(drop), 1)
    }
    return decision
  }

  private partition(topic: string, partition: number) {
    const p = this.cluster.topics.partition(topic, partition)
    if (p === undefined) throw new RangeError(`unknown partition ${topic}-${partition}`)
    return p
  }
}
