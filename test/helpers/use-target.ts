// The opening every integration suite repeated: start a target (a cluster) in beforeAll, stop it
// in afterAll, and reach it from the tests through a variable assigned in between.
//
//   const target = useTarget(startTarget)                            // test/consumer or test/producer helpers
//   const target = useTarget(() => startTarget({ reference: true }))
//
// registers both hooks where it is called (file or describe level) and returns the target as a
// stand-in that forwards to the started one, so tests keep writing `target.bootstrap`. Which
// cluster is started (KAFKA_BOOTSTRAP or the reference cluster) stays the startTarget's choice.
// Kept out of those helpers so that the scripts importing them (chaos runs) do not load vitest.
//
// Hooks: vitest runs after-hooks in reverse order (sequence.hooks 'stack', its default), so an
// afterAll registered after useTarget() (closing the suite's clients) runs before the stop.

import { afterAll, beforeAll } from 'vitest'

export interface Stoppable {
  stop(): Promise<void>
}

export interface UseTargetOptions {
  /** beforeAll's timeout (default: the config's hookTimeout). */
  startTimeout?: number
  /** afterAll's timeout (default: the config's hookTimeout). */
  stopTimeout?: number
}

export function useTarget<T extends Stoppable>(start: () => Promise<T>, options: UseTargetOptions = {}): T {
  let started: T | undefined
  beforeAll(async () => {
    started = await start()
  }, options.startTimeout)
  afterAll(async () => {
    const target = started
    started = undefined
    await target?.stop()
  }, options.stopTimeout)
  const current = (): T => {
    if (started === undefined)
      throw new Error(
        'the target is used outside the tests it was started for (before its beforeAll ran, after its afterAll, or its start failed)',
      )
    return started
  }
  // Only reads are forwarded: a suite never replaces the target's fields.
  return new Proxy({} as T, {
    get: (_, key) => {
      const target = current()
      const value = Reflect.get(target, key) as unknown
      // Methods run on the target itself, not on the stand-in (a class's #private fields need it).
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
    },
    has: (_, key) => Reflect.has(current(), key),
    ownKeys: () => Reflect.ownKeys(current()),
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(current(), key)
      // The stand-in's own (empty) object has none of them: a proxy may only report them configurable.
      return descriptor === undefined ? undefined : { ...descriptor, configurable: true }
    },
    set: () => {
      throw new Error('the target of useTarget() is read-only')
    },
  })
}
