// What a synchronous writeMessages call waits for: the outcome of each of its messages, collected
// as batches settle (possibly across partitions and in any order), then one result or one error.

import { abortErrorFor } from '../net/errors.js'
import { WriteErrors } from './errors.js'

/** Where Kafka put one message of a synchronous writeMessages call. */
export interface WriteResult {
  topic: string
  partition: number
  /**
   * The offset Kafka returned; -1n when it returned none: acks 'none', or a batch whose own
   * answer was lost and that a later batch of the partition proved written.
   */
  offset: bigint
}

/** Collects the outcome of each message of one synchronous writeMessages call. */
export class WriteTracker {
  readonly promise: Promise<WriteResult[]>
  #resolve!: (results: WriteResult[]) => void
  #reject!: (err: Error) => void
  #remaining: number
  readonly #results: WriteResult[]
  readonly #errors: (Error | undefined)[]
  #failed = 0

  constructor(count: number) {
    this.#remaining = count
    this.#results = new Array<WriteResult>(count)
    this.#errors = new Array<Error | undefined>(count)
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
  }

  /** The callback for message `index`, which went to `topic`/`partition`. */
  settler(index: number, topic: string, partition: number): (error: Error | null, offset: bigint) => void {
    return (error, offset) => {
      if (error !== null) {
        this.#errors[index] = error
        this.#failed++
      } else {
        this.#results[index] = { topic, partition, offset }
      }
      if (--this.#remaining > 0) return
      if (this.#failed === 0) this.#resolve(this.#results)
      else if (this.#errors.length === 1) this.#reject(this.#errors[0]!)
      else this.#reject(new WriteErrors(this.#errors))
    }
  }

  /** Nobody will await the promise: keep a late rejection from being reported as unhandled. */
  abandon(): void {
    this.promise.catch(noop)
  }
}

/** Awaits the tracker unless the signal fires first; either way its late outcome is handled. */
export function raceAbortOwned(tracker: WriteTracker, signal: AbortSignal): Promise<WriteResult[]> {
  tracker.abandon()
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(abortErrorFor(signal, 'writeMessages'))
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    tracker.promise.then(
      (results) => {
        signal.removeEventListener('abort', onAbort)
        resolve(results)
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(err)
      },
    )
  })
}

export function noop(): void {}
