// Helpers of the streams runtime suites: input written with explicit keys and timestamps, and
// an output topic read back (every record, with a fresh group) until a condition holds.

import { expect } from 'vitest'

import { FirstOffset } from '../../../src/consumer/offsets.js'
import { Reader } from '../../../src/consumer/reader.js'
import { Writer } from '../../../src/producer/writer.js'
import { Murmur2Balancer } from '../../../src/producer/balancers.js'
import { unique } from '../../consumer/helpers.js'
import type { KafkaStreams, StreamsState } from '../../../src/streams/index.js'

export interface Out {
  key: Buffer | null
  value: Buffer | null
  partition: number
  timestamp: number
}

/** Writes records by key (murmur2, as Java's producer), values as UTF-8 strings. */
export async function writeInput(
  bootstrap: string[],
  topic: string,
  records: { key: string | null; value: string | null; timestamp?: number }[],
): Promise<void> {
  const writer = new Writer({ brokers: bootstrap, topic, balancer: new Murmur2Balancer({ consistent: true }) })
  try {
    await writer.writeMessages(
      records.map((r) => ({
        key: r.key,
        value: r.value,
        ...(r.timestamp === undefined ? {} : { timestamp: r.timestamp }),
      })),
    )
  } finally {
    await writer.close()
  }
}

/** Reads a topic from the start until `done(records so far)` is true; rejects after `timeoutMs`. */
export async function readUntil(
  bootstrap: string[],
  topic: string,
  done: (records: Out[]) => boolean,
  timeoutMs = 30_000,
): Promise<Out[]> {
  const reader = new Reader({ brokers: bootstrap, groupId: unique('verify'), topic, startOffset: FirstOffset })
  const records: Out[] = []
  const signal = AbortSignal.timeout(timeoutMs)
  try {
    while (!done(records)) {
      const batch = await reader.fetchBatch({ signal }).catch((err: unknown) => {
        throw new Error(`${topic}: condition not met after ${timeoutMs} ms with ${records.length} records`, {
          cause: err,
        })
      })
      for (const m of batch.messages) {
        records.push({ key: m.key, value: m.value, partition: m.partition, timestamp: m.timestamp })
      }
    }
    return records
  } finally {
    await reader.close()
  }
}

/** The last value per key (strings; values decoded by `value`). */
export function lastValues<V>(records: Out[], value: (b: Buffer) => V): Map<string, V> {
  const out = new Map<string, V>()
  for (const r of records) {
    const k = r.key === null ? '' : r.key.toString('utf8')
    if (r.value === null) out.delete(k)
    else out.set(k, value(r.value))
  }
  return out
}

/** Resolves when the application reaches `state` (rejects on ERROR or after the timeout). */
export function reach(app: KafkaStreams, state: StreamsState, timeoutMs = 60_000): Promise<void> {
  if (app.state === state) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ${state} after ${timeoutMs} ms (${app.state})`)), timeoutMs)
    app.onStateChange((next) => {
      if (next === state) {
        clearTimeout(timer)
        resolve()
      } else if (next === 'ERROR') {
        clearTimeout(timer)
        reject(new Error('application failed', { cause: app.error }))
      }
    })
  })
}

/** Word counts of `lines`, split as the word-count topologies split them. */
export function counts(lines: string[]): Map<string, number> {
  const out = new Map<string, number>()
  for (const l of lines) for (const w of l.toLowerCase().split(/\W+/)) if (w !== '') out.set(w, (out.get(w) ?? 0) + 1)
  return out
}

export const total = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0)

/** Each key's Long values in the order read (one key lives in one partition: offset order). */
export function updates(records: Out[]): Map<string, number[]> {
  const out = new Map<string, number[]>()
  for (const r of records) {
    const k = r.key!.toString('utf8')
    out.set(k, [...(out.get(k) ?? []), Number(r.value!.readBigInt64BE(0))])
  }
  return out
}

/** Exactly once: every word's count updates are 1..n with n its true count, no other word appears. */
export function expectExact(records: Out[], truth: Map<string, number>): void {
  const seen = updates(records)
  expect([...seen.keys()].sort()).toEqual([...truth.keys()].sort())
  for (const [word, n] of truth) {
    expect(seen.get(word), word).toEqual(Array.from({ length: n }, (_, i) => i + 1))
  }
}
