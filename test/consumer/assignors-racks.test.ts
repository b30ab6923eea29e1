// KIP-881: the 'range' balancer given members' racks and the replicas' racks, checked against
// Kafka's own Java RangeAssignor (kafka-clients 4.4.0, test/fixtures/java-range/RangeRacks.java)
// run on the same group: the same assignment for every case.

import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { RangeGroupBalancer } from '../../src/consumer/assignors/index.js'
import { javaProgram } from '../helpers/java-program.js'
import { peer } from '../helpers/peers.js'

const javaClasspath = javaProgram(new URL('../fixtures/java-range/RangeRacks.java', import.meta.url), 'java-range')

interface Case {
  name: string
  /** Per partition, the racks of its replicas. */
  replicaRacks: string[][]
  /** member id → rack ('' for none). */
  members: Record<string, string>
}

const CASES: Case[] = [
  {
    name: 'one replica per partition, racks spread',
    replicaRacks: [['a'], ['b'], ['c'], ['a'], ['b'], ['c']],
    members: { m1: 'c', m2: 'a' },
  },
  {
    name: 'uneven: more partitions in one rack than its member may take',
    replicaRacks: [['a'], ['a'], ['a'], ['a'], ['b'], ['c'], ['a']],
    members: { m1: 'a', m2: 'b', m3: 'c' },
  },
  {
    name: 'two replicas each, a member without a rack',
    replicaRacks: [
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'a'],
      ['a', 'b'],
      ['b', 'c'],
    ],
    members: { m1: 'c', m2: '', m3: 'b' },
  },
  {
    name: 'no member rack matches: plain range',
    replicaRacks: [['a'], ['a'], ['b'], ['b']],
    members: { m1: 'x', m2: 'y' },
  },
]

function javaAssignment(c: Case, cp: string): Record<string, number[]> {
  const out = execFileSync(
    peer('java'),
    [
      '-cp',
      cp,
      'RangeRacks',
      't',
      String(c.replicaRacks.length),
      c.replicaRacks.map((r) => r.join(',')).join(';'),
      ...Object.entries(c.members).map(([id, rack]) => `${id}:${rack}`),
    ],
    { encoding: 'utf8' },
  )
  const result: Record<string, number[]> = {}
  for (const line of out.trim().split('\n')) {
    const [id, list] = line.split(' ')
    result[id!] = list === undefined || list === '' ? [] : list.split(',').map(Number)
  }
  return result
}

function ourAssignment(c: Case): Record<string, number[]> {
  const members = Object.entries(c.members).map(([id, rack]) => ({
    id,
    topics: ['t'],
    rackId: rack === '' ? null : rack,
  }))
  const ids = c.replicaRacks.map((_, i) => i)
  const racks = new Map([['t', new Map(c.replicaRacks.map((r, i) => [i, r]))]])
  const assigned = new RangeGroupBalancer().assign(members, new Map([['t', ids]]), { partitionRacks: racks })
  const result: Record<string, number[]> = {}
  for (const [id, topics] of assigned) result[id] = [...(topics.get('t') ?? [])].sort((a, b) => a - b)
  return result
}

describe("'range' with racks (KIP-881) matches Kafka's RangeAssignor", () => {
  it.each(CASES.map((c) => [c.name, c] as const))(
    '%s',
    (_name, c) => {
      const cp = javaClasspath()
      expect(ourAssignment(c)).toEqual(javaAssignment(c, cp))
    },
    120_000,
  )

  it('prefers same-rack partitions (the first case by hand)', () => {
    expect(ourAssignment(CASES[0]!)).toEqual({ m1: [1, 2, 5], m2: [0, 3, 4] })
  })
})
