// What every Admin module needs: the shared client core, the retry policy, the default request
// timeout; and the two retry shapes the Admin uses, whole calls and per-resource batches.

import type { KafkaClient } from '../cluster/client.js'
import { backoffDelay, retry, sleep, type RetryPolicy } from '../cluster/retry.js'
import { isRetriable } from '../errors.js'
import { AdminBatchError } from './errors.js'

export interface AdminContext {
  readonly client: KafkaClient
  readonly policy: RetryPolicy
  /** Sent as the request's timeoutMs where the API has one, and bounds each response. */
  readonly timeoutMs: number
}

/** Options every Admin call takes. */
export interface AdminCallOptions {
  signal?: AbortSignal
  /** Time allowed for each broker answer (ms); default the client's requestTimeout. */
  timeout?: number
}

/** Runs a whole call, retried while its errors are retriable (marking metadata stale first when they say so). */
export function retried<T>(
  ctx: AdminContext,
  what: string,
  signal: AbortSignal | undefined,
  operation: () => Promise<T>,
): Promise<T> {
  return retry(ctx.policy, operation, {
    what,
    signal,
    onRetry: (err) => {
      if ((err as { staleMetadata?: unknown }).staleMetadata === true) ctx.client.metadata.markStale()
    },
  })
}

/** One resource's outcome in a batch answer. */
export type Outcome<R> = { value: R } | { error: Error }

/**
 * Runs a per-resource batch: `send` is called with the keys still to do and answers each; keys
 * whose error is retriable (or all, when `send` throws a retriable error) are sent again after a
 * backoff, up to the policy's attempts. Resolves with every result, or throws AdminBatchError
 * naming each key that failed (and carrying those that succeeded).
 */
export async function batch<R>(
  ctx: AdminContext,
  apiName: string,
  keys: readonly string[],
  signal: AbortSignal | undefined,
  send: (keys: string[]) => Promise<Map<string, Outcome<R>>>,
): Promise<Map<string, R>> {
  return batchRetrying(ctx, apiName, keys, signal, isRetriable, send)
}

/** `batch` with its own choice of which per-resource errors to send again. */
export async function batchRetrying<R>(
  ctx: AdminContext,
  apiName: string,
  keys: readonly string[],
  signal: AbortSignal | undefined,
  canRetry: (err: unknown) => boolean,
  send: (keys: string[]) => Promise<Map<string, Outcome<R>>>,
): Promise<Map<string, R>> {
  const results = new Map<string, R>()
  const errors = new Map<string, Error>()
  let todo = [...new Set(keys)]
  for (let attempt = 1; todo.length > 0; attempt++) {
    const last = attempt >= ctx.policy.maxAttempts
    const again: string[] = []
    try {
      const answers = await send(todo)
      for (const key of todo) {
        const outcome = answers.get(key)
        if (outcome === undefined) {
          errors.set(key, new Error(`${apiName}: the broker did not answer for ${key}`))
        } else if ('value' in outcome) {
          results.set(key, outcome.value)
          errors.delete(key)
        } else {
          errors.set(key, outcome.error)
          if (canRetry(outcome.error) && !last) again.push(key)
        }
      }
    } catch (err) {
      if (signal?.aborted || !isRetriable(err) || last) throw err
      again.push(...todo)
    }
    todo = again
    if (todo.length > 0) {
      ctx.client.metadata.markStale()
      await sleep(backoffDelay(ctx.policy, attempt), signal, apiName)
    }
  }
  if (errors.size > 0) throw new AdminBatchError(apiName, errors, results)
  return results
}

/** Kafka's TopicPartition.toString: 'orders-3'. */
export function tpKey(topic: string, partition: number): string {
  return `${topic}-${partition}`
}
