// The hand-out rules the rebalance wait and maxPollInterval rest on (src/consumer/handout.ts).

import { afterEach, describe, expect, it, vi } from 'vitest'
import { HandOuts } from '../../src/consumer/handout.js'

const rec = (partition: number, offset: bigint) => ({ topic: 't', partition, offset })
const tp = (partition: number) => ({ topic: 't', partition })

afterEach(() => {
  vi.useRealTimers()
})

describe('HandOuts', () => {
  it('a partition is done once a commit covers its highest offset handed out, not before', () => {
    const h = new HandOuts(60_000, () => {})
    h.handedOut([rec(0, 5n), rec(0, 7n), rec(1, 3n)])
    expect(h.holding([tp(0), tp(1), tp(2)])).toEqual([tp(0), tp(1)])
    h.committed([{ ...tp(0), offset: 7n }]) // offset + 1 of message 6: message 7 is still held
    expect(h.holding([tp(0)])).toEqual([tp(0)])
    h.committed([{ ...tp(0), offset: 8n }])
    expect(h.holding([tp(0), tp(1)])).toEqual([tp(1)])
    h.releaseAll()
    expect(h.holding([tp(1)])).toEqual([])
    h.close()
  })

  it('waitDone resolves when released, with what is still held at the timeout or abort', async () => {
    const h = new HandOuts(60_000, () => {})
    const signal = new AbortController().signal
    h.handedOut([rec(0, 1n), rec(1, 1n)])
    const waiting = h.waitDone([tp(0)], 10_000, signal)
    h.committed([{ ...tp(1), offset: 2n }]) // another partition: still waiting
    h.forget([tp(0)])
    expect(await waiting).toEqual([])

    h.handedOut([rec(2, 0n)])
    expect(await h.waitDone([tp(2)], 30, signal)).toEqual([tp(2)])
    const interrupt = new AbortController()
    const stopped = h.waitDone([tp(2)], 10_000, interrupt.signal)
    interrupt.abort()
    expect(await stopped).toEqual([tp(2)])
    h.close()
  })

  it('the poll clock runs from the read that handed records out until all are done with', () => {
    vi.useFakeTimers()
    const timeouts: number[] = []
    const h = new HandOuts(1000, () => timeouts.push(Date.now()))
    // Nothing held: no clock.
    vi.advanceTimersByTime(5000)
    expect(timeouts).toEqual([])
    // Held, then done with in time: no timeout.
    h.handedOut([rec(0, 0n)])
    vi.advanceTimersByTime(900)
    h.committed([{ ...tp(0), offset: 1n }])
    vi.advanceTimersByTime(5000)
    expect(timeouts).toEqual([])
    // A later hand-out does not restart a clock already running; a partial commit does not stop it.
    h.handedOut([rec(0, 1n), rec(1, 0n)])
    vi.advanceTimersByTime(600)
    h.handedOut([rec(1, 1n)])
    h.committed([{ ...tp(0), offset: 2n }])
    vi.advanceTimersByTime(399)
    expect(timeouts).toEqual([])
    vi.advanceTimersByTime(1)
    expect(timeouts).toHaveLength(1)
    h.close()
  })
})
