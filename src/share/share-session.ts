// One share session with one broker (KIP-932, Java's ShareSessionHandler): the partitions the
// session fetches and its epoch. Epoch 0 opens the session with every partition; each answered
// request moves the epoch on by one; later requests list only partitions added (or carrying
// acknowledgements) and forget removed ones; -1 closes it. A session error starts over at 0.
// Kafka refuses acknowledgements on an opening request (epoch 0): after a reset, the pending ones
// wait for the session's second request.
//
// Requests on one session run one at a time (`#chain`): the epoch orders them.

import type { ShareMessage } from './share-message.js'
import type { AcknowledgementBatch } from './acknowledgements.js'
import type { SharePartition } from './share-membership.js'

export const FINAL_EPOCH = -1

export function partitionKey(topic: string, partition: number): string {
  return `${topic}:${partition}`
}

export class ShareSession {
  readonly nodeId: number
  epoch = 0
  /** Partitions the broker has in the session, by key. */
  readonly inSession = new Map<string, SharePartition>()
  /** Records delivered by this session's last fetch and not handed out yet. */
  readonly buffered: ShareMessage[] = []
  inFlight = false
  #chain: Promise<unknown> = Promise.resolve()

  constructor(nodeId: number) {
    this.nodeId = nodeId
  }

  /** Runs `task` after every request already queued on this session. */
  serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(task, task)
    this.#chain = run.catch(() => {})
    return run
  }

  /** The next epoch after an answered request (int32, wrapping to 1 as Java does). */
  advance(): void {
    this.epoch = this.epoch >= 0x7fffffff ? 1 : this.epoch + 1
  }

  reset(): void {
    this.epoch = 0
    this.inSession.clear()
  }

  /**
   * The topics and forgotten topics of the next ShareFetch: every wanted partition when opening,
   * else the added ones and those carrying acknowledgements.
   */
  plan(
    wanted: ReadonlyMap<string, SharePartition>,
    acks: ReadonlyMap<string, { part: SharePartition; batches: AcknowledgementBatch[] }>,
  ): {
    topics: {
      topicId: string
      partitions: { partitionIndex: number; acknowledgementBatches: AcknowledgementBatch[] }[]
    }[]
    forgotten: { topicId: string; partitions: number[] }[]
  } {
    const listed = new Map<string, { part: SharePartition; batches: AcknowledgementBatch[] }>()
    for (const [key, part] of wanted) {
      if (this.epoch === 0 || !this.inSession.has(key)) listed.set(key, { part, batches: [] })
    }
    if (this.epoch !== 0) for (const [key, a] of acks) listed.set(key, { part: a.part, batches: a.batches })
    const forgotten: SharePartition[] = []
    if (this.epoch !== 0) for (const [key, part] of this.inSession) if (!wanted.has(key)) forgotten.push(part)
    return { topics: byTopic([...listed.values()]), forgotten: forgottenByTopic(forgotten) }
  }

  /** After an answered fetch built by `plan`: the session now holds exactly `wanted`. */
  applied(wanted: ReadonlyMap<string, SharePartition>): void {
    this.inSession.clear()
    for (const [key, part] of wanted) this.inSession.set(key, part)
    this.advance()
  }
}

function byTopic(list: { part: SharePartition; batches: AcknowledgementBatch[] }[]) {
  const topics = new Map<
    string,
    { topicId: string; partitions: { partitionIndex: number; acknowledgementBatches: AcknowledgementBatch[] }[] }
  >()
  for (const { part, batches } of list) {
    let t = topics.get(part.topicId)
    if (t === undefined) topics.set(part.topicId, (t = { topicId: part.topicId, partitions: [] }))
    t.partitions.push({ partitionIndex: part.partition, acknowledgementBatches: batches })
  }
  return [...topics.values()]
}

function forgottenByTopic(list: SharePartition[]) {
  const topics = new Map<string, { topicId: string; partitions: number[] }>()
  for (const part of list) {
    let t = topics.get(part.topicId)
    if (t === undefined) topics.set(part.topicId, (t = { topicId: part.topicId, partitions: [] }))
    t.partitions.push(part.partition)
  }
  return [...topics.values()]
}
