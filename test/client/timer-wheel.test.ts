import { describe, expect, it, vi } from 'vitest'
import { TimerWheel } from '../../src/net/timer-wheel.js'

describe('TimerWheel', () => {
  it('fires entries at the first sweep at or after their deadline', () => {
    const wheel = new TimerWheel(100)
    const fired: string[] = []
    const now = Date.now()
    wheel.schedule(now + 150, () => fired.push('a'))
    wheel.schedule(now + 450, () => fired.push('b'))
    wheel.sweep(now + 100)
    expect(fired).toEqual([])
    wheel.sweep(now + 260)
    expect(fired).toEqual(['a'])
    wheel.sweep(now + 10_000)
    expect(fired).toEqual(['a', 'b'])
    expect(wheel.size).toBe(0)
  })

  it('never fires a cancelled entry', () => {
    const wheel = new TimerWheel(100)
    let fired = 0
    const entry = wheel.schedule(Date.now() + 10, () => fired++)
    wheel.cancel(entry)
    wheel.cancel(entry) // twice is harmless
    wheel.sweep(Date.now() + 1000)
    expect(fired).toBe(0)
    expect(wheel.size).toBe(0)
  })

  it('fires a deadline already in the past on the next sweep', () => {
    const wheel = new TimerWheel(100)
    const now = Date.now()
    wheel.sweep(now)
    let fired = 0
    wheel.schedule(now - 5000, () => fired++)
    wheel.sweep(now + 1)
    expect(fired).toBe(1)
  })

  it('runs on one interval while entries exist, and fires by itself', async () => {
    const wheel = new TimerWheel(20)
    const started = Date.now()
    const firedAt = await new Promise<number>((resolve) => wheel.schedule(started + 50, () => resolve(Date.now())))
    expect(firedAt - started).toBeGreaterThanOrEqual(45)
    expect(firedAt - started).toBeLessThan(500)
    expect(wheel.size).toBe(0)
  })

  it('handles many entries in one bucket', () => {
    const wheel = new TimerWheel(100)
    const now = Date.now()
    let fired = 0
    const entries = Array.from({ length: 10_000 }, (_, i) => wheel.schedule(now + 50 + (i % 7), () => fired++))
    for (let i = 0; i < entries.length; i += 2) wheel.cancel(entries[i]!)
    wheel.sweep(now + 1000)
    expect(fired).toBe(5000)
  })
  // An awaited single send schedules one deadline and cancels it at the answer: stopping the
  // interval on every cancel meant a setInterval and a clearInterval per request.
  it('keeps its interval across a cancel that empties it, and stops at the next sweep that finds nothing', () => {
    const setSpy = vi.spyOn(globalThis, 'setInterval')
    const clearSpy = vi.spyOn(globalThis, 'clearInterval')
    try {
      const wheel = new TimerWheel(100)
      const now = Date.now()
      for (let i = 0; i < 100; i++) wheel.cancel(wheel.schedule(now + 30_000, () => {}))
      expect(setSpy).toHaveBeenCalledTimes(1)
      expect(clearSpy).not.toHaveBeenCalled()
      wheel.sweep(now + 100)
      expect(clearSpy).toHaveBeenCalledTimes(1)
      // Empty and stopped: the next deadline starts it again.
      let fired = 0
      wheel.schedule(now + 150, () => fired++)
      expect(setSpy).toHaveBeenCalledTimes(2)
      wheel.sweep(now + 300)
      expect(fired).toBe(1)
      expect(clearSpy).toHaveBeenCalledTimes(2)
    } finally {
      setSpy.mockRestore()
      clearSpy.mockRestore()
    }
  })
})
