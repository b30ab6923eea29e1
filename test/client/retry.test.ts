import { describe, expect, it } from 'vitest'
import { backoffDelay, retry, RetriesExhaustedError, sleep, type RetryPolicy } from '../../src/cluster/retry.js'
import { KafkaError } from '../../src/errors.js'
import { AbortError, ConnectionError } from '../../src/net/errors.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'

const policy: RetryPolicy = { maxAttempts: 4, backoffMs: 10, backoffMaxMs: 40, jitter: 0.2 }

describe('backoffDelay', () => {
  it('doubles from retry.backoff.ms up to retry.backoff.max.ms (Java defaults 100 → 1000)', () => {
    const java: RetryPolicy = { maxAttempts: 10, backoffMs: 100, backoffMaxMs: 1000, jitter: 0 }
    expect([1, 2, 3, 4, 5, 6, 10].map((a) => backoffDelay(java, a))).toEqual([100, 200, 400, 800, 1000, 1000, 1000])
  })

  it('applies ±20 % jitter', () => {
    const java: RetryPolicy = { maxAttempts: 10, backoffMs: 100, backoffMaxMs: 1000, jitter: 0.2 }
    expect(backoffDelay(java, 1, () => 0)).toBe(80)
    expect(backoffDelay(java, 1, () => 0.999999)).toBe(120)
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(java, 3)
      expect(d).toBeGreaterThanOrEqual(320)
      expect(d).toBeLessThanOrEqual(480)
    }
  })
})

describe('retry', () => {
  it('retries retriable errors and returns the first success', async () => {
    let calls = 0
    const seen: number[] = []
    const result = await retry(
      policy,
      async (attempt) => {
        calls++
        if (attempt < 3) throw KafkaError.fromCode(ErrorCode.NOT_LEADER_OR_FOLLOWER)
        return 'ok'
      },
      { what: 'op', onRetry: (_e, attempt) => void seen.push(attempt) },
    )
    expect(result).toBe('ok')
    expect(calls).toBe(3)
    expect(seen).toEqual([1, 2])
  })

  it('does not retry a non-retriable error and throws it as is', async () => {
    let calls = 0
    const boom = KafkaError.fromCode(ErrorCode.TOPIC_AUTHORIZATION_FAILED)
    await expect(
      retry(
        policy,
        async () => {
          calls++
          throw boom
        },
        { what: 'op' },
      ),
    ).rejects.toBe(boom)
    expect(calls).toBe(1)
  })

  it('gives up after maxAttempts with every error and the last as cause', async () => {
    let calls = 0
    const err = await retry(
      policy,
      async () => {
        calls++
        throw new ConnectionError(`down ${calls}`)
      },
      { what: 'connecting' },
    ).catch((e: unknown) => e)
    expect(calls).toBe(4)
    expect(err).toBeInstanceOf(RetriesExhaustedError)
    const exhausted = err as RetriesExhaustedError
    expect(exhausted.attempts).toBe(4)
    expect(exhausted.errors).toHaveLength(4)
    expect((exhausted.cause as Error).message).toMatch(/down 4/)
    expect(exhausted.message).toMatch(/connecting failed after 4 attempt\(s\): down 4/)
    expect(exhausted.retriable).toBe(false) // its owner already retried: nobody above retries again
  })

  it('stops a later non-retriable error with the history kept', async () => {
    let calls = 0
    const err = await retry(
      policy,
      async () => {
        calls++
        if (calls === 1) throw new ConnectionError('down')
        throw KafkaError.fromCode(ErrorCode.INVALID_TOPIC_EXCEPTION)
      },
      { what: 'op' },
    ).catch((e: unknown) => e)
    expect(calls).toBe(2)
    expect(err).toBeInstanceOf(RetriesExhaustedError)
    expect((err as RetriesExhaustedError).cause).toBeInstanceOf(KafkaError)
  })

  it('honours an AbortSignal during the backoff', async () => {
    const controller = new AbortController()
    const slow: RetryPolicy = { maxAttempts: 10, backoffMs: 10_000, backoffMaxMs: 10_000 }
    const started = Date.now()
    const p = retry(
      slow,
      async () => {
        throw new ConnectionError('down')
      },
      { what: 'op', signal: controller.signal },
    )
    setTimeout(() => controller.abort(), 20)
    await expect(p).rejects.toBeInstanceOf(AbortError)
    expect(Date.now() - started).toBeLessThan(1000)
  })

  it('sleep rejects at once on an aborted signal', async () => {
    await expect(sleep(1000, AbortSignal.abort())).rejects.toBeInstanceOf(AbortError)
  })
})
