// Hand-over under a fault only the reference cluster injects: a member fenced by the coordinator
// (Heartbeat UNKNOWN_MEMBER_ID) while it waits for records it handed out stops waiting, and its
// partitions are lost at once (issue 11 item 1-2; Java: "Giving away all assigned partitions as lost").

import { describe, expect, it } from 'vitest'
import type { ReaderConfig, TopicPartition } from '../../src/consumer/config.js'
import { CommitRejectedError } from '../../src/consumer/errors.js'
import { Reader } from '../../src/consumer/reader.js'
import { createTopic, produce, sleep, startTarget, unique, waitFor } from './helpers.js'
import { useTarget } from '../helpers/use-target.js'
import { toB } from './handover-balancer.js'

const target = useTarget(() => startTarget({ reference: true }))

describe('hand-over with a fenced member (reference cluster)', () => {
  it('a member fenced while it waits for records handed out stops waiting: the partitions are lost at once', async () => {
    const topic = unique('handover-fenced')
    const groupId = unique('handover-fenced-g')
    await createTopic(target.bootstrap, topic, 1)
    await produce(target.bootstrap, topic, 20)
    const lost: { at: number; partitions: TopicPartition[] }[] = []
    const config = (tag: 'A' | 'B'): ReaderConfig => ({
      brokers: target.bootstrap,
      groupId,
      topic,
      sessionTimeout: 10_000,
      heartbeatInterval: 100,
      rebalanceTimeout: 10_000,
      // Classic: a client-side balancer, and the error is injected into Heartbeat.
      groupProtocol: 'classic',
      groupBalancers: [toB(tag, 'eager')],
      onLost: (partitions) => void lost.push({ at: Date.now(), partitions }),
    })
    const faults = target.cluster!.faults as unknown as {
      groupError(groupId: string, api: string, code: number, opts?: { count?: number }): void
    }
    const a = new Reader(config('A'))
    let b: Reader | undefined
    try {
      const signal = AbortSignal.timeout(60_000)
      const batch = await a.fetchBatch({ signal })
      b = new Reader(config('B'))
      await sleep(500) // A now waits for its batch before rejoining
      expect(lost).toEqual([])
      const fencedAt = Date.now()
      faults.groupError(groupId, 'Heartbeat', 25 /* UNKNOWN_MEMBER_ID */)
      await waitFor(() => lost.length > 0, 5000, 'A to lose the partition')
      expect(lost[0]!.at - fencedAt).toBeLessThan(2000) // not after rebalanceTimeout
      expect(lost[0]!.partitions).toEqual([{ topic, partition: 0 }])
      const error = await a.commitMessages(...batch.messages).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(CommitRejectedError)
      expect((error as CommitRejectedError).reason).toBe('fenced')
    } finally {
      await b?.close()
      await a.close()
    }
  }, 90_000)
})
