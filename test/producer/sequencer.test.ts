// The per-partition Sequencer as a pure state machine: every (outcome × in-flight state) pair,
// table-driven, no cluster. Each row says what the batch under test (A) comes to and what the
// partition sends afterwards, as (producer epoch : base sequence), when every later attempt is
// answered. The expectations follow Kafka's broker rules (ProducerAppendInfo.checkSequence: a
// duplicate of a retained batch is answered with its offset, a skipped sequence is
// OUT_OF_ORDER_SEQUENCE_NUMBER, a new epoch must start at 0) and the Java client's
// (TransactionManager: unresolved sequences, local epoch bumps for idempotent producers).

import { describe, expect, it } from 'vitest'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { MAX_EPOCH, Sequencer, outcomeOfCode, type Outcome, type SequencedBatch } from '../../src/producer/sequencer.js'

interface B extends SequencedBatch {
  name: string
}

const DELIVERY = 500
const LEADER = 1

function batch(name: string, order: number, createdAt: number): B {
  return {
    name,
    order,
    count: 1,
    createdAt,
    attempts: 0,
    nextAttemptAt: 0,
    producerId: -1n,
    producerEpoch: -1,
    baseSequence: -1,
    maybeWritten: false,
    encoded: null,
  }
}

type InFlightState = 'alone' | 'earlier in flight' | 'later in flight' | 'unresolved earlier'

/**
 * One partition's producer state as Kafka's broker keeps it (ProducerAppendInfo.checkSequence,
 * ProducerStateEntry): a duplicate of a retained batch gets its original offset, an older epoch
 * INVALID_PRODUCER_EPOCH, a new epoch must start at 0, the same epoch must continue at lastSeq + 1.
 */
class ModelBroker {
  readonly log: string[] = []
  readonly #retained = new Map<string, number>()
  pid = 7n
  epoch = 0
  lastSeq = -1

  produce(b: B): Outcome {
    const key = `${b.producerId}/${b.producerEpoch}/${b.baseSequence}`
    const dup = this.#retained.get(key)
    if (dup !== undefined) return { kind: 'written', baseOffset: BigInt(dup) }
    if (b.producerId === this.pid && b.producerEpoch < this.epoch) return { kind: 'fenced' }
    const newEpoch = b.producerId !== this.pid || b.producerEpoch !== this.epoch
    if (newEpoch ? b.baseSequence !== 0 : b.baseSequence !== this.lastSeq + 1) return { kind: 'out-of-order' }
    this.pid = b.producerId
    this.epoch = b.producerEpoch
    this.lastSeq = b.baseSequence + b.count - 1
    this.#retained.set(key, this.log.length)
    this.log.push(b.name)
    return { kind: 'written', baseOffset: BigInt(this.log.length - 1) }
  }
}

type Step = Outcome | 'expire'

/** What A's first attempt did on the broker for each injected answer. */
function appendedBy(step: Step): boolean {
  return step === 'expire' || step.kind === 'written' || step.kind === 'lost' || step.kind === 'maybe-appended'
}

/**
 * Sets up the state around A (in flight, sequence after the batches before it), applies A's
 * injected first answer, then lets the model broker answer every later attempt. Returns the
 * settlements and sends, and checks that what was reported matches the broker's log.
 */
function run(state: InFlightState, step: Step): string[] {
  const s = new Sequencer<B>({ idempotent: true, maxAttempts: 3, deliveryTimeout: DELIVERY, maxInFlight: 5 })
  s.adopt({ producerId: 7n, producerEpoch: 0 })
  const broker = new ModelBroker()
  const gapStep = step !== 'expire' && step.kind === 'out-of-order'
  const answers = new Map<B, Outcome>()
  const all: B[] = []
  const send = (b: B): void => {
    s.send(b, LEADER)
    all.push(b)
  }
  const A = batch('A', 1, 1_000)
  if (state === 'earlier in flight') {
    const E = batch('E', 0, 1_000)
    send(E)
    // An OUT_OF_ORDER for A while E is in flight: E had not reached the log when A arrived.
    if (gapStep) answers.set(E, { kind: 'rejected' })
    else answers.set(E, broker.produce(E))
  }
  if (state === 'unresolved earlier') {
    // U was sent, its answer lost, and it ran out of time while A was on its way. It reached the
    // log unless A's answer is OUT_OF_ORDER (then the gap is U).
    const U = batch('U', 0, 0)
    send(U)
    if (!gapStep) broker.produce(U)
  }
  send(A)
  if (state === 'unresolved earlier') {
    s.onOutcome(all[0]!, { kind: 'lost' }, 0)
    s.expire(DELIVERY + 100)
  }
  if (state === 'later in flight') send(batch('L', 2, 10_000))
  // OUT_OF_ORDER with nothing earlier unresolved or in flight: the broker lost our state (it now
  // expects a sequence we never sent).
  if (gapStep && (state === 'alone' || state === 'later in flight')) broker.lastSeq = 5
  if (appendedBy(step)) broker.produce(A)

  const log: string[] = []
  const flush = (): void => {
    for (const x of s.settled.splice(0)) {
      const b = x.batch.name
      if (x.written) log.push(`${b} written${x.baseOffset < 0n ? ' (offset unknown)' : ''}`)
      else log.push(`${b} failed ${x.why}${x.maybeWritten ? ' (maybe written)' : ''}`)
      const inLog = broker.log.filter((n) => n === b).length
      if (x.written) expect(inLog, `${b} reported written`).toBe(1)
      else if (!x.maybeWritten) expect(inLog, `${b} reported not written`).toBe(0)
    }
  }
  if (step === 'expire') {
    s.onOutcome(A, { kind: 'lost' }, 0)
    s.expire(A.createdAt + DELIVERY + 1)
    s.settleDangling()
  } else {
    s.onOutcome(A, step, 0)
  }
  flush()
  for (let guard = 0; guard < 50; guard++) {
    const answered = s.inFlight[0]
    if (answered !== undefined) {
      s.onOutcome(answered, answers.get(answered) ?? broker.produce(answered), 0)
      answers.delete(answered)
      flush()
      continue
    }
    const next = s.nextRetry(1e9)
    flush()
    if (next === 'wait') {
      expect(s.needsProducerId).toBe(true)
      log.push('new producer id')
      s.adopt({ producerId: 8n, producerEpoch: 0 })
      flush()
      continue
    }
    if (next === null) break
    if (typeof next === 'number') throw new Error('a retry not due at 1e9')
    s.send(next, LEADER)
    log.push(`send ${next.name} ${next.producerId === 8n ? 'new id ' : ''}${next.producerEpoch}:${next.baseSequence}`)
  }
  s.settleDangling()
  flush()
  expect(s.idle).toBe(true)
  // Every batch was settled exactly once.
  for (const b of all) expect(log.filter((l) => l.startsWith(`${b.name} `)).length, b.name).toBe(1)
  // The log holds each batch at most once, in creation order.
  expect(broker.log).toEqual(['U', 'E', 'A', 'L'].filter((n) => broker.log.includes(n)))
  return log
}

const OUTCOMES: [string, Step][] = [
  ['success', outcomeOfCode(ErrorCode.NONE, false, 42n)],
  ['duplicate', outcomeOfCode(ErrorCode.DUPLICATE_SEQUENCE_NUMBER, false, -1n)],
  ['retriable (NOT_LEADER_OR_FOLLOWER)', outcomeOfCode(ErrorCode.NOT_LEADER_OR_FOLLOWER, true, -1n)],
  ['timeout / lost response', { kind: 'lost' }],
  ['OUT_OF_ORDER_SEQUENCE_NUMBER', outcomeOfCode(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, false, -1n)],
  ['UNKNOWN_PRODUCER_ID', outcomeOfCode(ErrorCode.UNKNOWN_PRODUCER_ID, false, -1n)],
  ['INVALID_PRODUCER_EPOCH', outcomeOfCode(ErrorCode.INVALID_PRODUCER_EPOCH, false, -1n)],
  ['non-retriable (MESSAGE_TOO_LARGE)', outcomeOfCode(ErrorCode.MESSAGE_TOO_LARGE, false, -1n)],
  ['delivery timeout', 'expire'],
]

// prettier-ignore
const EXPECTED: Record<string, Record<InFlightState, string[]>> = {
  success: {
    alone: ['A written'],
    'earlier in flight': ['A written', 'E written'],
    'later in flight': ['A written', 'L written'],
    'unresolved earlier': ['U written (offset unknown)', 'A written'],
  },
  duplicate: {
    alone: ['A written (offset unknown)'],
    'earlier in flight': ['A written (offset unknown)', 'E written'],
    'later in flight': ['A written (offset unknown)', 'L written'],
    'unresolved earlier': ['U written (offset unknown)', 'A written (offset unknown)'],
  },
  'retriable (NOT_LEADER_OR_FOLLOWER)': {
    alone: ['send A 0:0', 'A written'],
    'earlier in flight': ['E written', 'send A 0:1', 'A written'],
    'later in flight': ['send A 0:0', 'A written', 'send L 0:1', 'L written'],
    'unresolved earlier': ['send A 0:1', 'U written (offset unknown)', 'A written'],
  },
  'timeout / lost response': {
    alone: ['send A 0:0', 'A written'],
    'earlier in flight': ['E written', 'send A 0:1', 'A written'],
    'later in flight': ['L written', 'send A 0:0', 'A written'],
    'unresolved earlier': ['send A 0:1', 'U written (offset unknown)', 'A written'],
  },
  OUT_OF_ORDER_SEQUENCE_NUMBER: {
    alone: ['send A 1:0', 'A written'],
    'earlier in flight': ['send E 0:0', 'E written', 'send A 0:1', 'A written'],
    'later in flight': ['send A 1:0', 'A written', 'send L 1:1', 'L written'],
    'unresolved earlier': ['U failed expired', 'send A 1:0', 'A written'],
  },
  UNKNOWN_PRODUCER_ID: {
    alone: ['send A 1:0', 'A written'],
    'earlier in flight': ['send E 0:0', 'E written', 'send A 0:1', 'A written'],
    'later in flight': ['send A 1:0', 'A written', 'send L 1:1', 'L written'],
    'unresolved earlier': ['U failed expired', 'send A 1:0', 'A written'],
  },
  INVALID_PRODUCER_EPOCH: {
    alone: ['new producer id', 'send A new id 0:0', 'A written'],
    'earlier in flight': ['E written', 'new producer id', 'send A new id 0:0', 'A written'],
    'later in flight': ['new producer id', 'send A new id 0:0', 'A written', 'send L new id 0:1', 'L written'],
    'unresolved earlier': ['new producer id', 'U failed expired (maybe written)', 'send A new id 0:0', 'A written'],
  },
  'non-retriable (MESSAGE_TOO_LARGE)': {
    alone: ['A failed error'],
    'earlier in flight': ['A failed error', 'E written'],
    'later in flight': ['A failed error', 'send L 1:0', 'L written'],
    'unresolved earlier': ['A failed error', 'U failed expired (maybe written)'],
  },
  'delivery timeout': {
    alone: ['A failed expired (maybe written)'],
    'earlier in flight': ['E written', 'A failed expired (maybe written)'],
    'later in flight': ['A written (offset unknown)', 'L written'],
    'unresolved earlier': ['U failed expired (maybe written)', 'A failed expired (maybe written)'],
  },
}

describe('Sequencer: every outcome in every in-flight state (idempotent)', () => {
  for (const [name, step] of OUTCOMES) {
    for (const state of ['alone', 'earlier in flight', 'later in flight', 'unresolved earlier'] as const) {
      it(`${name}, ${state}`, () => {
        expect(run(state, step)).toEqual(EXPECTED[name]![state])
      })
    }
  }
})

describe('Sequencer: other rules', () => {
  it('needs a new producer id instead of bumping past the largest epoch', () => {
    const s = new Sequencer<B>({ idempotent: true, maxAttempts: 3, deliveryTimeout: DELIVERY, maxInFlight: 5 })
    s.adopt({ producerId: 7n, producerEpoch: MAX_EPOCH })
    const A = batch('A', 0, 0)
    s.send(A, LEADER)
    s.onOutcome(A, { kind: 'out-of-order' }, 0)
    expect(s.nextRetry(1)).toBe('wait')
    expect(s.needsProducerId).toBe(true)
    s.adopt({ producerId: 8n, producerEpoch: 0 })
    expect(s.nextRetry(1)).toBe(A)
    expect([A.producerId, A.producerEpoch, A.baseSequence]).toEqual([8n, 0, 0])
  })

  it('sends nothing new while a retry waits or answers from another leader are due, and caps in-flight batches', () => {
    const s = new Sequencer<B>({ idempotent: true, maxAttempts: 3, deliveryTimeout: DELIVERY, maxInFlight: 2 })
    s.adopt({ producerId: 7n, producerEpoch: 0 })
    const [a, b] = [batch('a', 0, 0), batch('b', 1, 0)]
    s.send(a, LEADER)
    expect(s.canSend(LEADER + 1)).toBe(false)
    s.send(b, LEADER)
    expect(s.canSend(LEADER)).toBe(false) // two in flight
    s.onOutcome(a, { kind: 'rejected' }, 50)
    expect(s.canSend(LEADER)).toBe(false) // a retry waits for b's answer
    s.onOutcome(b, { kind: 'out-of-order' }, 50)
    expect(s.nextRetry(10)).toBe(50)
    expect(s.nextRetry(50)).toBe(a)
    expect(a.baseSequence).toBe(0)
  })

  it('keeps one batch in flight until the broker has acknowledged one under the current producer id and epoch', () => {
    // Kafka 4 accepts any sequence from a producer it does not know (ProducerAppendInfo.checkSequence
    // with no entry): had b (sequence 1) gone out behind a, and a been refused before the append
    // (NOT_ENOUGH_REPLICAS), b would have been appended first and a's retry after it.
    const s = new Sequencer<B>({ idempotent: true, maxAttempts: 3, deliveryTimeout: DELIVERY, maxInFlight: 5 })
    s.adopt({ producerId: 7n, producerEpoch: 0 })
    const [a, b, c] = [batch('a', 0, 0), batch('b', 1, 0), batch('c', 2, 0)]
    expect(s.canSend(LEADER)).toBe(true)
    s.send(a, LEADER)
    expect(s.canSend(LEADER)).toBe(false)
    s.onOutcome(a, { kind: 'rejected' }, 0)
    expect(s.nextRetry(0)).toBe(a)
    s.send(a, LEADER)
    expect(s.canSend(LEADER)).toBe(false)
    s.onOutcome(a, { kind: 'written', baseOffset: 0n }, 0)
    expect(s.canSend(LEADER)).toBe(true) // anchored: now pipelined
    s.send(b, LEADER)
    expect(s.canSend(LEADER)).toBe(true)
    s.send(c, LEADER)
    // After a bump the new epoch is unknown to the broker's sequence checks until acknowledged.
    s.onOutcome(b, { kind: 'written', baseOffset: 1n }, 0)
    s.onOutcome(c, { kind: 'out-of-order' }, 0)
    const retried = s.nextRetry(1)
    expect(retried).toBe(c)
    expect([c.producerEpoch, c.baseSequence]).toEqual([1, 0])
    s.send(c, LEADER)
    expect(s.canSend(LEADER)).toBe(false)
  })

  it('without idempotence: no sequences, maxAttempts ends a batch, OUT_OF_ORDER is an error', () => {
    const s = new Sequencer<B>({ idempotent: false, maxAttempts: 2, deliveryTimeout: DELIVERY, maxInFlight: 5 })
    const a = batch('a', 0, 0)
    s.send(a, LEADER)
    expect(a.baseSequence).toBe(-1)
    s.onOutcome(a, { kind: 'lost' }, 0)
    expect(s.nextRetry(0)).toBe(a)
    s.send(a, LEADER)
    s.onOutcome(a, { kind: 'rejected' }, 0)
    expect(s.settled.splice(0)).toEqual([{ batch: a, written: false, why: 'attempts', maybeWritten: true }])
    const b = batch('b', 1, 0)
    s.send(b, LEADER)
    s.onOutcome(b, { kind: 'out-of-order' }, 0)
    expect(s.settled.splice(0)).toEqual([{ batch: b, written: false, why: 'error', maybeWritten: false }])
  })

  it('classifies Produce error codes by whether the leader may have appended', () => {
    expect(outcomeOfCode(ErrorCode.NOT_ENOUGH_REPLICAS, true, -1n)).toEqual({ kind: 'rejected' })
    expect(outcomeOfCode(ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND, true, -1n)).toEqual({ kind: 'maybe-appended' })
    expect(outcomeOfCode(ErrorCode.REQUEST_TIMED_OUT, true, -1n)).toEqual({ kind: 'maybe-appended' })
    expect(outcomeOfCode(ErrorCode.INVALID_RECORD, false, -1n)).toEqual({ kind: 'fatal' })
    expect(outcomeOfCode(ErrorCode.NONE, false, 9n)).toEqual({ kind: 'written', baseOffset: 9n })
  })
})

describe('Sequencer.split (MESSAGE_TOO_LARGE)', () => {
  const options = { idempotent: true, maxAttempts: 3, deliveryTimeout: DELIVERY, maxInFlight: 5 }

  function sized(name: string, order: number, count: number): B {
    return { ...batch(name, order, 0), count }
  }

  it('gives the halves the refused batch’s sequence range and place, so nothing else is renumbered', () => {
    const seq = new Sequencer<B>(options)
    seq.adopt({ producerId: 7n, producerEpoch: 0 })
    const [a, b] = [sized('A', 0, 4), sized('B', 1, 2)]
    seq.send(a, LEADER)
    seq.send(b, LEADER)
    expect([a.baseSequence, b.baseSequence]).toEqual([0, 4])
    const [a1, a2] = [sized('A1', 0, 2), sized('A2', 0.5, 2)]
    expect(seq.split(a, [a1, a2], 0)).toBe(true)
    // Kafka answers the batch after the refused one OUT_OF_ORDER_SEQUENCE_NUMBER (sequence 0 is missing).
    seq.onOutcome(b, { kind: 'out-of-order' }, 0)
    const sent: string[] = []
    for (let next = seq.nextRetry(0); typeof next === 'object' && next !== null; next = seq.nextRetry(0)) {
      seq.send(next, LEADER)
      sent.push(`${next.name} ${next.producerEpoch}:${next.baseSequence}`)
      seq.onOutcome(next, { kind: 'written', baseOffset: 0n }, 0)
    }
    expect(sent).toEqual(['A1 0:0', 'A2 0:2', 'B 0:4'])
    expect(seq.bumps).toBe(0)
  })

  it('refuses to split a batch an earlier attempt may have written', () => {
    const seq = new Sequencer<B>(options)
    seq.adopt({ producerId: 7n, producerEpoch: 0 })
    const a = sized('A', 0, 4)
    seq.send(a, LEADER)
    seq.onOutcome(a, { kind: 'lost' }, 0)
    seq.send(seq.nextRetry(0) as B, LEADER)
    expect(seq.split(a, [sized('A1', 0, 2), sized('A2', 0.5, 2)], 0)).toBe(false)
    expect(seq.inFlight).toEqual([a])
  })
})
