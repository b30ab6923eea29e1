// @integration
// Issue 17 item 4: incremental fetch sessions (KIP-227) in the Reader, on by default as in Java.
// The Fetch requests the Reader writes are decoded on the wire (test/helpers/fetch-wire.ts): after
// one full fetch per broker, requests carry the broker's session id and the next epoch and list
// only partitions whose position moved; `fetchSessions: false` lists every partition every time.
// Against real Kafka the broker's acceptance of each incremental request (no session error, every
// record read once) is the check that the requests are what Kafka expects.

import { describe, expect, it } from 'vitest'
import type { FetchedMessage } from '../../src/consumer/fetch-result.js'
import { Reader } from '../../src/consumer/reader.js'
import { fetchWire, type WireFetch } from '../helpers/fetch-wire.js'
import {
  createTopic,
  produce,
  readMessages,
  sleep,
  startTarget,
  targetName,
  unique,
  valueOf,
  waitFor,
} from './helpers.js'
import { useTarget } from '../helpers/use-target.js'

const target = useTarget(startTarget)

const PARTITIONS = 12

async function topicWith(count: number): Promise<string> {
  const topic = unique('fsess')
  await createTopic(target.bootstrap, topic, PARTITIONS, Math.min(3, target.brokerIds.length))
  await produce(target.bootstrap, topic, count, { prefix: 'v-' })
  return topic
}

function values(messages: readonly FetchedMessage[]): Set<string> {
  return new Set(messages.map(valueOf))
}

function mean(list: readonly WireFetch[]): number {
  return list.reduce((n, f) => n + f.bytes, 0) / Math.max(1, list.length)
}

describe(`Reader fetch sessions (KIP-227) on ${targetName}`, () => {
  it('sends one full fetch per broker, then incremental ones listing only moved partitions', async () => {
    const topic = await topicWith(1200)
    const wire = fetchWire()
    const reader = new Reader({
      brokers: target.bootstrap,
      groupId: unique('fsess-g'),
      topic,
      maxWait: 100,
      socketFactory: wire.socketFactory,
    })
    try {
      const read = await readMessages(reader, 1200)
      expect(values(read).size).toBe(1200)
      const caughtUp = wire.fetches.length
      await sleep(1500) // idle long polls
      const idle = wire.fetches.slice(caughtUp)
      expect(idle.length).toBeGreaterThan(0)

      // Sessions are per broker: every request is either a full one asking for a session (epoch 0)
      // or an incremental one in the session the broker named, epochs counting up by one.
      const byBroker = new Map<string, WireFetch[]>()
      for (const f of wire.fetches) byBroker.set(f.address, [...(byBroker.get(f.address) ?? []), f])
      for (const list of byBroker.values()) {
        expect(list[0]!.sessionEpoch).toBe(0)
        expect(list[0]!.partitions.length).toBeGreaterThan(0)
        const incremental = list.filter((f) => f.sessionEpoch > 0)
        expect(incremental.length).toBeGreaterThan(0)
        expect(new Set(incremental.map((f) => f.sessionId)).size).toBe(1)
        expect(incremental[0]!.sessionId).not.toBe(0)
        incremental.forEach((f, i) => expect(f.sessionEpoch).toBe(i + 1))
      }
      // Caught up, nothing moves: an idle incremental fetch lists no partition at all.
      for (const f of idle) {
        expect(f.sessionEpoch).toBeGreaterThan(0)
        expect(f.partitions).toEqual([])
      }

      // New records still arrive through the session.
      await produce(target.bootstrap, topic, 60, { prefix: 'w-' })
      const more = await readMessages(reader, 60)
      expect(values(more)).toEqual(new Set(Array.from({ length: 60 }, (_, i) => `w-${i}`)))
    } finally {
      await reader.close()
    }
  }, 60_000)

  it('fetchSessions: false lists every partition in every request, and costs more bytes', async () => {
    const topic = await topicWith(600)
    const run = async (fetchSessions: boolean): Promise<WireFetch[]> => {
      const wire = fetchWire()
      const reader = new Reader({
        brokers: target.bootstrap,
        groupId: unique('fsess-cmp'),
        topic,
        maxWait: 100,
        fetchSessions,
        socketFactory: wire.socketFactory,
      })
      try {
        expect(values(await readMessages(reader, 600)).size).toBe(600)
        await sleep(1500)
      } finally {
        await reader.close()
      }
      return wire.fetches
    }
    const off = await run(false)
    const on = await run(true)
    for (const f of off) {
      expect(f.sessionId).toBe(0)
      expect(f.sessionEpoch).toBe(-1)
      expect(f.forgotten).toEqual([])
    }
    // Every sessionless request to a broker names all the partitions it leads for this Reader.
    const led = new Map<string, number>()
    for (const f of off) led.set(f.address, Math.max(led.get(f.address) ?? 0, f.partitions.length))
    expect([...led.values()].reduce((a, b) => a + b, 0)).toBe(PARTITIONS)
    const idleOff = off.slice(-5)
    for (const f of idleOff) expect(f.partitions.length).toBe(led.get(f.address))
    expect(mean(on)).toBeLessThan(mean(off))
    const incremental = on.filter((f) => f.sessionEpoch > 0)
    console.info(
      `[fetch sessions] ${targetName}, ${PARTITIONS} partitions: sessionless ${off.length} requests, ` +
        `mean ${mean(off).toFixed(1)} B; with sessions ${on.length} requests, mean ${mean(on).toFixed(1)} B ` +
        `(incremental mean ${mean(incremental).toFixed(1)} B)`,
    )
  }, 60_000)

  it('forgets a paused partition and lists it again on resume', async () => {
    const topic = await topicWith(0)
    const wire = fetchWire()
    const reader = new Reader({
      brokers: target.bootstrap,
      groupId: unique('fsess-pause'),
      topic,
      maxWait: 100,
      socketFactory: wire.socketFactory,
    })
    try {
      await waitFor(() => reader.assignment().length === PARTITIONS, 30_000, 'the assignment')
      await waitFor(() => wire.fetches.some((f) => f.sessionEpoch > 1), 30_000, 'incremental fetches')
      const id = reader.client.metadata.topic(topic)?.topicId
      const key = (p: number): string[] => [`${topic}:${p}`, `${id}:${p}`]
      reader.pause([{ topic, partition: 3 }])
      const pausedAt = wire.fetches.length
      await waitFor(
        () => wire.fetches.slice(pausedAt).some((f) => f.forgotten.some((k) => key(3).includes(k))),
        10_000,
        'partition 3 forgotten',
      )
      await produce(target.bootstrap, topic, 20, { prefix: 'p3-', partition: 3 })
      await produce(target.bootstrap, topic, 20, { prefix: 'p5-', partition: 5 })
      const got = await readMessages(reader, 20)
      expect(values(got)).toEqual(new Set(Array.from({ length: 20 }, (_, i) => `p5-${i}`)))
      await sleep(500)
      const resumedAt = wire.fetches.length
      reader.resume([{ topic, partition: 3 }])
      const after = await readMessages(reader, 20)
      expect(values(after)).toEqual(new Set(Array.from({ length: 20 }, (_, i) => `p3-${i}`)))
      expect(wire.fetches.slice(resumedAt).some((f) => f.partitions.some((k) => key(3).includes(k)))).toBe(true)
    } finally {
      await reader.close()
    }
  }, 60_000)

  it('reads every record once per group through members joining and leaving', async () => {
    const topic = await topicWith(0)
    const groupId = unique('fsess-reb')
    const wires = [fetchWire(), fetchWire()]
    const config = { brokers: target.bootstrap, groupId, topic, maxWait: 100, sessionTimeout: 10_000 }
    const a = new Reader({ ...config, socketFactory: wires[0]!.socketFactory })
    const seen = new Map<string, number>()
    // Reads (committing each record) until `until` holds; short polls so the condition is checked often.
    const drain = async (r: Reader, until: () => boolean, ms: number): Promise<void> => {
      const deadline = Date.now() + ms
      while (!until() && Date.now() < deadline) {
        let m: FetchedMessage
        try {
          m = await r.fetchMessage({ signal: AbortSignal.timeout(250) })
        } catch (err) {
          if (err instanceof Error && err.name === 'TimeoutError') continue
          if (err instanceof Error && /abort/i.test(err.message)) continue
          throw err
        }
        seen.set(valueOf(m), (seen.get(valueOf(m)) ?? 0) + 1)
        // A record handed out just before its partition moved may not commit: the new owner reads it again.
        await r.commitMessages(m).catch(() => {})
      }
    }
    let b: Reader | undefined
    try {
      await waitFor(() => a.assignment().length === PARTITIONS, 30_000, 'a owns everything')
      await produce(target.bootstrap, topic, 300, { prefix: 'x-' })
      await drain(a, () => seen.size >= 300, 30_000)
      b = new Reader({ ...config, socketFactory: wires[1]!.socketFactory })
      const joined = b
      const both = Promise.all([
        drain(a, () => a.assignment().length < PARTITIONS && joined.assignment().length > 0, 30_000),
        drain(joined, () => a.assignment().length < PARTITIONS && joined.assignment().length > 0, 30_000),
      ])
      await both
      await produce(target.bootstrap, topic, 300, { prefix: 'y-' })
      await Promise.all([drain(a, () => seen.size >= 600, 30_000), drain(joined, () => seen.size >= 600, 30_000)])
      // The member that gave partitions up told its brokers' sessions to forget them.
      expect(wires[0]!.fetches.some((f) => f.forgotten.length > 0)).toBe(true)
      await joined.close()
      b = undefined
      await produce(target.bootstrap, topic, 300, { prefix: 'z-' })
      await drain(a, () => seen.size >= 900, 30_000)
      expect(seen.size).toBe(900)
      for (const prefix of ['x-', 'y-', 'z-'])
        for (let i = 0; i < 300; i++) expect(seen.has(`${prefix}${i}`), `${prefix}${i}`).toBe(true)
    } finally {
      await b?.close()
      await a.close()
    }
  }, 120_000)
})
