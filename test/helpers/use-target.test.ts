// useTarget(): the target is started before the tests, reached through the stand-in it returns,
// and stopped after the suite's own afterAll hooks (which close its clients) ran.

import { afterAll, describe, expect, it } from 'vitest'

import { useTarget } from './use-target.js'

interface FakeTarget {
  name: string
  bootstrap: string[]
  stop(): Promise<void>
}

function fakeStart(name: string, events: string[]): () => Promise<FakeTarget> {
  return async () => {
    events.push(`start ${name}`)
    return {
      name,
      bootstrap: [`${name}:9092`],
      stop: async () => {
        events.push(`stop ${name}`)
      },
    }
  }
}

const suiteEvents: string[] = []

afterAll(() => {
  // Runs after the describe's hooks: the suite's clients were closed before its target stopped.
  expect(suiteEvents).toEqual(['start a', 'test', 'closers', 'stop a'])
})

describe('useTarget', () => {
  const target = useTarget(fakeStart('a', suiteEvents))
  afterAll(() => {
    suiteEvents.push('closers')
    expect(target.bootstrap).toEqual(['a:9092'])
  })

  it('forwards to the target started in beforeAll', () => {
    suiteEvents.push('test')
    expect(target.name).toBe('a')
    expect(target.bootstrap).toEqual(['a:9092'])
    expect('stop' in target).toBe(true)
    expect({ ...target }.name).toBe('a')
  })

  it('is read-only', () => {
    expect(() => {
      target.name = 'b'
    }).toThrow(/read-only/)
    expect(target.name).toBe('a')
  })
})

describe('useTarget, used before its beforeAll', () => {
  const events: string[] = []
  const target = useTarget(fakeStart('b', events))
  let early: unknown
  try {
    // Collecting the suite: nothing is started yet.
    early = target.name
  } catch (err) {
    early = err
  }

  it('threw a clear error then, and forwards once started', () => {
    expect(early).toBeInstanceOf(Error)
    expect((early as Error).message).toMatch(/outside the tests it was started for/)
    expect(events).toEqual(['start b'])
    expect(target.name).toBe('b')
  })
})

describe('useTarget with a class instance', () => {
  class Cluster {
    readonly #servers = ['c:9092']
    stopped = false
    get bootstrapServers(): string[] {
      return this.#servers
    }
    servers(): string[] {
      return this.#servers
    }
    async stop(): Promise<void> {
      this.stopped = true
    }
  }
  const target = useTarget(async () => new Cluster())

  it('runs its methods and getters on the instance (#private fields work)', () => {
    expect(target.bootstrapServers).toEqual(['c:9092'])
    expect(target.servers()).toEqual(['c:9092'])
  })
})
