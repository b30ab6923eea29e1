// @integration
// Issue 17 item 4: regular-expression subscription with the classic group protocol, resolved on
// the client as Java's subscribe(Pattern) does with group.protocol=classic: the pattern must match
// the whole topic name, internal topics are left out, and a matching topic created later joins on
// the next metadata refresh (partitionWatchInterval) through a rejoin.

import { describe, expect, it } from 'vitest'
import { Reader } from '../../src/consumer/reader.js'
import type { FetchedMessage } from '../../src/consumer/fetch-result.js'
import { createTopic, produce, readMessages, startTarget, targetName, unique, valueOf, waitFor } from './helpers.js'
import { useTarget } from '../helpers/use-target.js'

const target = useTarget(startTarget)

const rf = (): number => Math.min(3, target.brokerIds.length)

function byTopic(messages: readonly FetchedMessage[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>()
  for (const m of messages) out.set(m.topic, (out.get(m.topic) ?? new Set()).add(valueOf(m)))
  return out
}

describe(`Reader topicPattern with the classic protocol on ${targetName}`, () => {
  it('reads the topics whose whole name matches, and a matching topic created later', async () => {
    const prefix = unique('rx').replace(/-/g, '_')
    for (const name of [`${prefix}-a`, `${prefix}-b`, `${prefix}x-c`, `x${prefix}-d`]) {
      await createTopic(target.bootstrap, name, 2, rf())
      await produce(target.bootstrap, name, 20, { prefix: `${name}:` })
    }
    const assigned: string[] = []
    const reader = new Reader({
      brokers: target.bootstrap,
      groupId: unique('rx-g'),
      topicPattern: `${prefix}-.*`,
      groupProtocol: 'classic',
      partitionWatchInterval: 300,
      maxWait: 100,
      onAssign: (ps) => void assigned.push(...ps.map((p) => p.topic)),
    })
    try {
      const read = await readMessages(reader, 40)
      // Committed, so the rejoin for the new topic hands nothing of these out again.
      await reader.commitMessages(...read)
      const first = byTopic(read)
      expect([...first.keys()].sort()).toEqual([`${prefix}-a`, `${prefix}-b`])
      expect(first.get(`${prefix}-a`)?.size).toBe(20)
      expect(reader.groupProtocol).toBe('classic')

      await createTopic(target.bootstrap, `${prefix}-later`, 2, rf())
      await produce(target.bootstrap, `${prefix}-later`, 20, { prefix: 'later:' })
      const later = byTopic(await readMessages(reader, 20, 30_000))
      expect([...later.keys()]).toEqual([`${prefix}-later`])
      expect(later.get(`${prefix}-later`)?.size).toBe(20)
      await waitFor(
        () => reader.assignment().some((p) => p.topic === `${prefix}-later`),
        10_000,
        'the new topic assigned',
      )
      expect(assigned.filter((t) => !t.startsWith(`${prefix}-`))).toEqual([])
    } finally {
      await reader.close()
    }
  }, 90_000)

  it('leaves internal topics out even when the pattern matches them', async () => {
    const prefix = unique('rxi').replace(/-/g, '_')
    await createTopic(target.bootstrap, `${prefix}-a`, 1, rf())
    await produce(target.bootstrap, `${prefix}-a`, 5)
    const reader = new Reader({
      brokers: target.bootstrap,
      groupId: unique('rxi-g'),
      topicPattern: `__.*|${prefix}-.*`,
      groupProtocol: 'classic',
      maxWait: 100,
    })
    try {
      await readMessages(reader, 5)
      expect(reader.assignment().length).toBeGreaterThan(0)
      expect(reader.assignment().filter((p) => p.topic.startsWith('__'))).toEqual([])
    } finally {
      await reader.close()
    }
  }, 60_000)
})
