// The retry policy. Each operation has exactly one retry owner (the Writer for a batch, the
// client for a metadata wait, ...): layers below it never retry on their own, so budgets do not
// multiply (kafkajs#962: nested retriers turned 5 retries into 25). Only retriable errors are
// retried; the backoff is exponential with jitter, like Java's retry.backoff.ms (100 ms) growing
// to retry.backoff.max.ms (1000 ms) with ±20 % jitter (KIP-580).

import { KafkaTsError, isRetriable } from '../errors.js'
import { abortErrorFor } from '../net/errors.js'

export interface RetryPolicy {
  /** Attempts in total, the first included (kafka-go's MaxAttempts). */
  maxAttempts: number
  /** Backoff before the second attempt (ms); doubles each time. */
  backoffMs: number
  /** Cap of the backoff (ms). */
  backoffMaxMs: number
  /** Relative jitter: the backoff is multiplied by a random factor in [1 - jitter, 1 + jitter]. */
  jitter?: number
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 10,
  backoffMs: 100,
  backoffMaxMs: 1000,
  jitter: 0.2,
})

/** The wait before attempt `attempt + 1`, after `attempt` failed attempts (attempt ≥ 1). */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const exponent = Math.max(0, attempt - 1)
  const base = Math.min(policy.backoffMaxMs, policy.backoffMs * 2 ** Math.min(exponent, 30))
  const jitter = policy.jitter ?? 0.2
  const factor = 1 - jitter + 2 * jitter * random()
  return Math.max(0, Math.round(Math.min(policy.backoffMaxMs * (1 + jitter), base * factor)))
}

/**
 * The attempts ran out (or a non-retriable error ended them). `cause` is the last error;
 * `errors` holds one per attempt. Never retriable itself: its owner already retried.
 */
export class RetriesExhaustedError extends KafkaTsError {
  readonly retriable = false
  readonly attempts: number
  readonly errors: readonly unknown[]

  constructor(what: string, errors: readonly unknown[]) {
    const last = errors[errors.length - 1]
    const detail = last instanceof Error ? last.message : String(last)
    super('KAFKATS_RETRIES_EXHAUSTED', `${what} failed after ${errors.length} attempt(s): ${detail}`, { cause: last })
    this.attempts = errors.length
    this.errors = errors
  }
}

export interface RetryOptions {
  /** Names the operation in errors. */
  what: string
  signal?: AbortSignal | undefined
  /** Which errors to retry (default: isRetriable). */
  retriable?: ((error: unknown) => boolean) | undefined
  /** Called before each backoff, e.g. to refresh metadata or count retries. */
  onRetry?: ((error: unknown, attempt: number, delayMs: number) => void | Promise<void>) | undefined
}

/**
 * Runs `operation` until it succeeds, a non-retriable error occurs, or `maxAttempts` ran out.
 * A non-retriable error on the first attempt is thrown as is; otherwise the failure is a
 * RetriesExhaustedError carrying every attempt's error. An abort ends it at once.
 */
export async function retry<T>(
  policy: RetryPolicy,
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const { signal } = options
  const canRetry = options.retriable ?? isRetriable
  const errors: unknown[] = []
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw abortErrorFor(signal, options.what)
    try {
      return await operation(attempt)
    } catch (err) {
      if (signal?.aborted) throw abortErrorFor(signal, options.what)
      errors.push(err)
      if (!canRetry(err)) {
        if (errors.length === 1) throw err
        throw new RetriesExhaustedError(options.what, errors)
      }
      if (attempt >= policy.maxAttempts) throw new RetriesExhaustedError(options.what, errors)
      const delay = backoffDelay(policy, attempt)
      await options.onRetry?.(err, attempt, delay)
      await sleep(delay, signal, options.what)
    }
  }
}

/** Resolves after `ms`, or rejects with an AbortError when `signal` fires first. */
export function sleep(ms: number, signal?: AbortSignal, what = 'sleep'): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortErrorFor(signal, what))
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(abortErrorFor(signal!, what))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
