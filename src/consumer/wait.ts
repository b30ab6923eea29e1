// A wake-up primitive for the Reader's loops: tasks check their condition, then wait for a
// notify() (or a timeout, or an abort). Node runs one task at a time, so a check followed by
// wait() in the same synchronous stretch cannot miss a notification.

import { abortErrorFor } from '../net/errors.js'

export class Notifier {
  #waiters = new Set<() => void>()

  /** Wakes every current waiter. */
  notify(): void {
    if (this.#waiters.size === 0) return
    const waiters = this.#waiters
    this.#waiters = new Set()
    for (const wake of waiters) wake()
  }

  get waiting(): number {
    return this.#waiters.size
  }

  /**
   * Resolves on the next notify(), or after `timeoutMs` (when given); rejects with an AbortError
   * when `signal` fires. Resolving carries no value: callers look at their condition again.
   */
  wait(signal?: AbortSignal, timeoutMs?: number, what = 'wait'): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortErrorFor(signal, what))
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined
      const done = (): void => {
        this.#waiters.delete(wake)
        if (timer !== undefined) clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
      }
      const wake = (): void => {
        done()
        resolve()
      }
      const onAbort = (): void => {
        done()
        reject(abortErrorFor(signal!, what))
      }
      this.#waiters.add(wake)
      if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) timer = setTimeout(wake, Math.max(0, timeoutMs))
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }
}

/** An AbortSignal that fires when any of `signals` does (undefined entries are skipped). */
export function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal {
  const list = signals.filter((s): s is AbortSignal => s !== undefined)
  if (list.length === 1) return list[0]!
  return AbortSignal.any(list)
}

/** An AbortSignal that fires after `ms` or when `parent` does. */
export function deadlineSignal(ms: number, parent?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(Math.max(0, ms))
  return parent === undefined ? timeout : AbortSignal.any([parent, timeout])
}
