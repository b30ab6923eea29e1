// A coarse timer wheel for request deadlines. Thousands of requests in flight would otherwise mean
// thousands of setTimeout handles created and cleared per second (platformatic's Connection.send
// does that); here one interval ticks every `resolution` ms while anything is scheduled, and a
// deadline fires on the first tick at or after it (so up to one resolution late). undici's
// lib/util/timers.js makes the same trade at about 500 ms. The interval stops at the first sweep
// that finds nothing scheduled, so an idle process has no timer for more than one tick.

export interface WheelEntry {
  /** Absolute time (ms, Date.now() clock) at which the entry fires. */
  readonly deadline: number
  /** Called once from the sweep, unless cancelled first. */
  readonly fire: () => void
}

interface Slot extends WheelEntry {
  bucket: number
}

export class TimerWheel {
  readonly resolution: number
  /** Entries by the tick they fire on: tick = ceil(deadline / resolution). */
  readonly #buckets = new Map<number, Set<Slot>>()
  #size = 0
  #timer: NodeJS.Timeout | null = null
  #lastTick = 0

  constructor(resolution = 100) {
    this.resolution = resolution
  }

  get size(): number {
    return this.#size
  }

  /** Schedules `fire` at `deadline`; returns a handle for `cancel`. */
  schedule(deadline: number, fire: () => void): WheelEntry {
    if (this.#timer === null) {
      this.#lastTick = Math.floor(Date.now() / this.resolution)
      this.#timer = setInterval(() => this.sweep(Date.now()), this.resolution)
      // The wheel alone must never keep a process alive: sockets and user promises do that.
      this.#timer.unref()
    }
    // A deadline already behind the last sweep goes in the next bucket the sweep will visit.
    const bucket = Math.max(Math.ceil(deadline / this.resolution), this.#lastTick)
    const slot: Slot = { deadline, fire, bucket }
    let set = this.#buckets.get(bucket)
    if (set === undefined) this.#buckets.set(bucket, (set = new Set()))
    set.add(slot)
    this.#size++
    return slot
  }

  /** Removes an entry that has not fired yet (a no-op otherwise). */
  cancel(entry: WheelEntry): void {
    const slot = entry as Slot
    const set = this.#buckets.get(slot.bucket)
    if (set === undefined || !set.delete(slot)) return
    this.#size--
    if (set.size === 0) this.#buckets.delete(slot.bucket)
    // The interval runs on until a sweep finds the wheel empty: one request at a time (an awaited
    // send) empties it at every answer, and stopping here cost a clearInterval and a new
    // setInterval per request.
  }

  /** Fires every entry whose deadline is at or before `now`. Exposed for tests. */
  sweep(now: number): void {
    const tick = Math.floor(now / this.resolution)
    const due: Slot[] = []
    // Walk the ticks since the last sweep; when the process stalled for a long time, walking the
    // (few) buckets is cheaper than walking every skipped tick.
    if (tick - this.#lastTick > this.#buckets.size) {
      for (const [bucket, set] of this.#buckets) if (bucket <= tick) this.#take(bucket, set, due)
    } else {
      for (let t = this.#lastTick; t <= tick; t++) {
        const set = this.#buckets.get(t)
        if (set !== undefined) this.#take(t, set, due)
      }
    }
    this.#lastTick = tick
    if (this.#size === 0) this.#stop()
    for (const slot of due) {
      try {
        slot.fire()
      } catch (err) {
        // A timeout handler that throws is a bug; surface it without killing the other entries.
        queueMicrotask(() => {
          throw err
        })
      }
    }
  }

  #take(bucket: number, set: Set<Slot>, due: Slot[]): void {
    this.#buckets.delete(bucket)
    this.#size -= set.size
    for (const slot of set) due.push(slot)
  }

  #stop(): void {
    if (this.#timer !== null) {
      clearInterval(this.#timer)
      this.#timer = null
    }
  }
}

/** The process-wide wheel every connection uses for request deadlines. */
export const requestTimers = new TimerWheel(100)
