// The Reader's async iterators (messages(), batches()): each step marks the item the loop
// processed before (auto-commit, see IterateOptions in reader.ts) and takes the next one.
// Split from reader.ts.

import { ClosedError } from '../net/errors.js'

export interface ReaderIteration<T> {
  /** The next item, waiting for one. */
  next: () => Promise<T>
  /** Takes an item at once when one is waiting, so that such a step awaits nothing (messages()). */
  poll?: () => T | undefined
  /** Group mode with autoCommit: mark what the loop processed. */
  autoCommit: boolean
  /** Marks the processed item; a promise when the step must wait for a commit first. */
  mark: (processed: T) => Promise<void> | null
  /** The loop was left: a commit of what is still owed to wait for, if any. */
  onReturn: () => Promise<void> | undefined
}

export function iterateReader<T>(o: ReaderIteration<T>): AsyncIterableIterator<T> {
  let previous: T | null = null
  let done = false
  const ended = (err: unknown): IteratorResult<T> => {
    // Closing ends the loop quietly; any other error goes to the loop.
    if (!(err instanceof ClosedError)) throw err
    done = true
    return { done: true, value: undefined }
  }
  const slow = async (marking: Promise<void> | null): Promise<IteratorResult<T>> => {
    if (marking !== null) await marking
    try {
      const item = await o.next()
      previous = item
      return { done: false, value: item }
    } catch (err) {
      return ended(err)
    }
  }
  const iterator: AsyncIterableIterator<T> = {
    next: (): Promise<IteratorResult<T>> => {
      if (done) return Promise.resolve({ done: true, value: undefined })
      // The loop asked for more: the previous item was processed.
      const processed = previous
      previous = null
      let marking: Promise<void> | null = null
      try {
        if (processed !== null && o.autoCommit) marking = o.mark(processed)
        if (marking === null && o.poll !== undefined) {
          const item = o.poll()
          if (item !== undefined) {
            previous = item
            return Promise.resolve({ done: false, value: item })
          }
        }
      } catch (err) {
        try {
          return Promise.resolve(ended(err))
        } catch (error) {
          return Promise.reject(error as Error)
        }
      }
      return slow(marking)
    },
    return: async (): Promise<IteratorResult<T>> => {
      done = true
      previous = null
      if (o.autoCommit) {
        const owed = o.onReturn()
        if (owed !== undefined) await owed
      }
      return { done: true, value: undefined }
    },
    [Symbol.asyncIterator]() {
      return iterator
    },
  }
  return iterator
}
