// One fixed sequence of transactional requests over the raw protocol, sent to a one-broker
// cluster, and what each answers (error names, epoch moves). Captured from real Kafka by
// test/fixtures/txn-answers/capture.ts; test/broker/transactions-answers.test.ts replays it on
// the reference broker and compares. Epochs are relative to InitProducerId's, so the answers do
// not depend on ids the broker chose.

import { ErrorCode, errorInfo } from '../../src/protocol/error-codes.js'
import { AddPartitionsToTxn } from '../../src/protocol/messages/add-partitions-to-txn.js'
import { CreateTopics } from '../../src/protocol/messages/create-topics.js'
import { EndTxn } from '../../src/protocol/messages/end-txn.js'
import { FindCoordinator } from '../../src/protocol/messages/find-coordinator.js'
import { InitProducerId } from '../../src/protocol/messages/init-producer-id.js'
import { Produce } from '../../src/protocol/messages/produce.js'
import { TxnOffsetCommit } from '../../src/protocol/messages/txn-offset-commit.js'
import { makeBatch, sleep, TestClient } from './helpers.js'

export interface Answer {
  step: string
  error: string
  /** EndTxn v5 / InitProducerId: the epoch answered, relative to the first one (absent otherwise). */
  epoch?: number
}

const name = (code: number) => (code === 0 ? 'NONE' : errorInfo(code).name)

/** Runs the sequence against the one broker at `address` (it must be the coordinator of everything). */
export async function runTxnScript(address: string, suffix: string, settleMs: number): Promise<Answer[]> {
  const c = await TestClient.connect(address)
  const out: Answer[] = []
  const topic = `txn-answers-${suffix}`
  try {
    await c.send(CreateTopics, 7, {
      topics: [{ name: topic, numPartitions: 1, replicationFactor: 1 }],
      timeoutMs: 30_000,
    })
    await sleep(settleMs)
    // The coordinators must be there first (a fresh Kafka creates __transaction_state and
    // __consumer_offsets on the first FindCoordinator): not part of the answers.
    const v2id = `v2-${suffix}`
    const v1id = `v1-${suffix}`
    for (const [keyType, keys] of [
      [1, [v2id, v1id]],
      [0, [`g-${suffix}`]],
    ] as const) {
      for (let attempt = 0; ; attempt++) {
        const r = await c.send(FindCoordinator, 4, { keyType, coordinatorKeys: [...keys] })
        if (r.coordinators.every((k) => k.errorCode === 0)) break
        if (attempt > 60) throw new Error(`no coordinator: ${JSON.stringify(r.coordinators)}`)
        await sleep(500)
      }
    }
    const init = async (id: string, step: string, timeoutMs = 60_000) => {
      const send = () =>
        c.send(InitProducerId, 5, {
          transactionalId: id,
          transactionTimeoutMs: timeoutMs,
          producerId: -1n,
          producerEpoch: -1,
        })
      let r = await send()
      // A fresh Kafka has no producer-id block for a few seconds: retried, not an answer of the script.
      for (let i = 0; i < 60 && r.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS; i++) {
        await sleep(500)
        r = await send()
      }
      out.push({ step, error: name(r.errorCode) })
      return r
    }
    const produce = async (id: string, pid: bigint, epoch: number, seq: number, version: number, step: string) => {
      const r = await c.send(Produce, version, {
        transactionalId: id,
        acks: -1,
        timeoutMs: 5000,
        topicData: [
          {
            name: topic,
            partitionData: [
              {
                index: 0,
                records: await makeBatch(2, {
                  producerId: pid,
                  producerEpoch: epoch,
                  baseSequence: seq,
                  transactional: true,
                }),
              },
            ],
          },
        ],
      })
      out.push({ step, error: name(r.responses[0]!.partitionResponses[0]!.errorCode) })
    }
    const end = async (
      id: string,
      pid: bigint,
      epoch: number,
      commit: boolean,
      version: number,
      base: number,
      step: string,
    ) => {
      const r = await c.send(EndTxn, version, {
        transactionalId: id,
        producerId: pid,
        producerEpoch: epoch,
        committed: commit,
      })
      const a: Answer = { step, error: name(r.errorCode) }
      if (version >= 5 && r.errorCode === 0) a.epoch = r.producerEpoch - base
      out.push(a)
    }
    const txnCommit = async (id: string, pid: bigint, epoch: number, group: string, version: number, step: string) => {
      const r = await c.send(TxnOffsetCommit, version, {
        transactionalId: id,
        groupId: group,
        producerId: pid,
        producerEpoch: epoch,
        generationIdOrMemberEpoch: -1,
        memberId: '',
        groupInstanceId: null,
        topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: 1n, committedMetadata: '' }] }],
      })
      out.push({ step, error: name(r.topics[0]!.partitions[0]!.errorCode) })
    }

    // Transactions V2.
    const a = await init(v2id, 'v2 InitProducerId')
    const e = a.producerEpoch
    await produce(v2id, a.producerId, e, 0, 12, 'v2 Produce v12, partition not added')
    await end(v2id, a.producerId, e, true, 5, e, 'v2 EndTxn commit')
    await sleep(settleMs)
    await end(v2id, a.producerId, e, true, 5, e, 'v2 EndTxn commit retried with the old epoch')
    await end(v2id, a.producerId, e, false, 5, e, 'v2 EndTxn abort with the old epoch')
    await produce(v2id, a.producerId, e, 2, 12, 'v2 Produce with the old epoch after the commit')
    await produce(v2id, a.producerId, e + 1, 0, 12, 'v2 Produce with the new epoch, sequence 0')
    await end(v2id, a.producerId, e + 1, false, 5, e, 'v2 EndTxn abort')
    await sleep(settleMs)
    await end(v2id, a.producerId, e + 2, true, 5, e, 'v2 EndTxn commit of an empty transaction')
    await end(v2id, a.producerId, e + 2, false, 5, e, 'v2 EndTxn abort of an empty transaction')
    await sleep(settleMs)
    await end(v2id, a.producerId, e + 1, false, 5, e, 'v2 EndTxn with an epoch two behind')
    await txnCommit(v2id, a.producerId, e + 3, `g-${suffix}`, 5, 'v2 TxnOffsetCommit v5 without AddOffsetsToTxn')
    await end(v2id, a.producerId, e + 3, true, 5, e, 'v2 EndTxn commit of the offsets')

    // Transactions V1.
    const b = await init(v1id, 'v1 InitProducerId')
    await produce(v1id, b.producerId, b.producerEpoch, 0, 11, 'v1 Produce v11, partition not added')
    const added = await c.send(AddPartitionsToTxn, 3, {
      v3AndBelowTransactionalId: v1id,
      v3AndBelowProducerId: b.producerId,
      v3AndBelowProducerEpoch: b.producerEpoch,
      v3AndBelowTopics: [{ name: topic, partitions: [0] }],
    })
    out.push({
      step: 'v1 AddPartitionsToTxn',
      error: name(added.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode),
    })
    await produce(v1id, b.producerId, b.producerEpoch, 0, 11, 'v1 Produce v11 after AddPartitionsToTxn')
    await end(v1id, b.producerId, b.producerEpoch, true, 4, b.producerEpoch, 'v1 EndTxn v4 commit')
    await sleep(settleMs)
    await end(v1id, b.producerId, b.producerEpoch, true, 4, b.producerEpoch, 'v1 EndTxn v4 commit retried')
    await end(v1id, b.producerId, b.producerEpoch, false, 4, b.producerEpoch, 'v1 EndTxn v4 abort after the commit')
    await end(v1id, b.producerId, b.producerEpoch, false, 4, b.producerEpoch, 'v1 EndTxn v4 abort of nothing')
    await txnCommit(
      v1id,
      b.producerId,
      b.producerEpoch,
      `g-${suffix}`,
      4,
      'v1 TxnOffsetCommit v4 without AddOffsetsToTxn',
    )
    await produce(v1id, b.producerId, b.producerEpoch, 2, 11, 'v1 Produce v11 after the commit')

    // V2 transactions that outlive their timeout (1 s; Kafka looks every 10 s): one opened by a
    // Produce v12 right after InitProducerId, one after an EndTxn v5. The epoch the abort left is
    // probed with commits, which change nothing here: a commit with the current epoch or the one
    // before it is INVALID_TXN_STATE (the transaction is CompleteAbort), any other PRODUCER_FENCED.
    const timedOut = async (label: string, afterEndTxn: boolean) => {
      const tid = `${label}-${suffix}`
      const t = await init(tid, `${label}: InitProducerId`, 1000)
      let e = t.producerEpoch
      if (afterEndTxn) {
        await end(tid, t.producerId, e, false, 5, t.producerEpoch, `${label}: EndTxn v5 abort of nothing`)
        await sleep(settleMs)
        e++
      }
      await produce(tid, t.producerId, e, 0, 12, `${label}: Produce v12`)
      const commit = (epoch: number) =>
        c.send(EndTxn, 5, { transactionalId: tid, producerId: t.producerId, producerEpoch: epoch, committed: true })
      // Waits for the abort: until then the transaction is Ongoing at epoch e, so e + 1 is fenced.
      for (let i = 0; i < 60 && (await commit(e + 1)).errorCode === ErrorCode.PRODUCER_FENCED; i++) await sleep(500)
      for (const d of [0, 1, 2, 3])
        out.push({
          step: `${label}: EndTxn commit with epoch + ${d} after the timeout`,
          error: name((await commit(e + d)).errorCode),
        })
      await produce(tid, t.producerId, e, 2, 12, `${label}: Produce v12 with the epoch before the timeout`)
    }
    await timedOut('timeout-first', false)
    await timedOut('timeout-later', true)
  } finally {
    c.close()
  }
  return out
}
