// A wake-up primitive for the Reader's loops: tasks check their condition, then wait for a
// notify() (or a timeout, or an abort). Node runs one task at a time, so a check followed by
// wait() in the same synchronous stretch cannot miss a notification.
//
// Waits listen to several signals (the caller's and a long-lived one such as the Reader's close)
// with listeners added and removed explicitly, never through AbortSignal.any: on Node 20 each
// AbortSignal.any call leaves an entry in every source signal that GC never removes
// (nodejs/node#55351), so a long-lived signal would grow by one entry per wait.

import { abortErrorFor } from '../net/errors.js'

/** The signals a wait stops on: one, none, or several (undefined entries are skipped). */
export type Signals = AbortSignal | undefined | readonly (AbortSignal | undefined)[]

/** The first of `signals` that has already aborted. */
export function abortedOf(signals: Signals): AbortSignal | undefined {
  if (signals === undefined || !Array.isArray(signals)) {
    const one = signals as AbortSignal | undefined
    return one?.aborted === true ? one : undefined
  }
  for (const s of signals as readonly (AbortSignal | undefined)[]) if (s?.aborted === true) return s
  return undefined
}

/**
 * Calls `onAbort` once, with the first of `signals` to abort, after removing every listener.
 * Returns the function that stops listening; call it when the wait ends another way.
 */
export function onAnyAbort(signals: Signals, onAbort: (signal: AbortSignal) => void): () => void {
  const list = (Array.isArray(signals) ? signals : [signals]) as readonly (AbortSignal | undefined)[]
  const listeners: [AbortSignal, () => void][] = []
  let listening = true
  const stop = (): void => {
    if (!listening) return
    listening = false
    for (const [signal, listener] of listeners) signal.removeEventListener('abort', listener)
  }
  for (const signal of list) {
    if (signal === undefined) continue
    const listener = (): void => {
      stop()
      onAbort(signal)
    }
    listeners.push([signal, listener])
    signal.addEventListener('abort', listener, { once: true })
  }
  return stop
}

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
   * (carrying that signal's reason) when one of `signals` fires. Resolving carries no value:
   * callers look at their condition again.
   */
  wait(signals?: Signals, timeoutMs?: number, what = 'wait'): Promise<void> {
    const aborted = abortedOf(signals)
    if (aborted !== undefined) return Promise.reject(abortErrorFor(aborted, what))
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined
      let stopListening = (): void => {}
      const done = (): void => {
        this.#waiters.delete(wake)
        if (timer !== undefined) clearTimeout(timer)
        stopListening()
      }
      const wake = (): void => {
        done()
        resolve()
      }
      this.#waiters.add(wake)
      if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) timer = setTimeout(wake, Math.max(0, timeoutMs))
      stopListening = onAnyAbort(signals, (signal) => {
        done()
        reject(abortErrorFor(signal, what))
      })
    })
  }
}

/**
 * An AbortSignal that fires after `ms` or when `parent` does. Its listener on `parent` goes away
 * when either fires, so a long-lived parent keeps nothing once the deadline has passed.
 */
export function deadlineSignal(ms: number, parent?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(Math.max(0, ms))
  if (parent === undefined) return timeout
  if (parent.aborted) return parent
  const combined = new AbortController()
  onAnyAbort([parent, timeout], (signal) => combined.abort(signal.reason))
  return combined.signal
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects: the caller checks the signal). */
export function sleepQuietly(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}
