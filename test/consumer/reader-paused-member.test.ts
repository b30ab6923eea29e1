// @integration
// D2 where the coordinator itself resets a member (real Kafka and the reference cluster): a
// member in its own process is stopped (SIGSTOP: no heartbeats, like a long GC pause or a frozen
// VM) past its session timeout while it holds records it read. The coordinator removes it and a
// new member takes the partition over, reads from the start and commits. When the old member
// runs again, its partition is lost (onLost, not onRevoke: it was never asked to give it up) and
// its commit of the old records is refused: the group's committed offset stays the new owner's.

import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { Reader } from '../../src/consumer/reader.js'
import { forkJsonChild } from '../helpers/json-child.js'
import type { PausedMemberArgs } from './paused-member-child.js'
import { committedOffsets, createTopic, produce, readMessages, startTarget, unique, waitFor } from './helpers.js'
import { useTarget } from '../helpers/use-target.js'

const CHILD = fileURLToPath(new URL('./paused-member-child.ts', import.meta.url))
// Kafka's smallest allowed session (group.min.session.timeout.ms defaults to 6 s).
const SESSION_MS = 6000

const target = useTarget(startTarget, { startTimeout: 120_000 })

interface Member {
  child: ChildProcess
  events: Record<string, unknown>[]
  stderr: () => string
}

function startMember(args: PausedMemberArgs): Member {
  const events: Record<string, unknown>[] = []
  const { child, stderr } = forkJsonChild(CHILD, args, (event) => events.push(event))
  return { child, events, stderr }
}

function eventOf(member: Member, key: string): Record<string, unknown> | undefined {
  return member.events.find((e) => key in e)
}

describe('a member stopped past its session timeout', () => {
  it('loses its partition and cannot commit what it read before; the new owner keeps its commit', async () => {
    const topic = unique('paused')
    const groupId = unique('paused-g')
    await createTopic(target.bootstrap, topic, 1, Math.min(3, target.brokerIds.length))
    await produce(target.bootstrap, topic, 20)

    const old = startMember({ bootstrap: target.bootstrap, topic, groupId, sessionTimeout: SESSION_MS, read: 5 })
    let next: Reader | undefined
    try {
      await waitFor(() => eventOf(old, 'read') !== undefined, 60_000, `the old member reads (${old.stderr()})`)
      expect(eventOf(old, 'read')).toEqual({ read: ['0', '1', '2', '3', '4'] })

      // Frozen: the coordinator hears nothing from it, removes it, and gives the partition to the
      // new member, which starts where the group committed (nothing yet: the beginning).
      old.child.kill('SIGSTOP')
      next = new Reader({ brokers: target.bootstrap, topic, groupId, sessionTimeout: SESSION_MS })
      const taken = await readMessages(next, 20, 90_000)
      expect(taken[0]!.offset).toBe(0n)
      await next.commitMessages(taken)
      expect((await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0)).toBe(20n)

      // It runs again and tries to commit what it read before the pause.
      old.child.kill('SIGCONT')
      old.child.send('commit')
      await waitFor(
        () => eventOf(old, 'commit') !== undefined,
        60_000,
        `the old member's commit ends (${old.stderr()})`,
      )
      expect(eventOf(old, 'commit')).toMatchObject({ commit: 'CommitRejectedError' })
      await waitFor(() => eventOf(old, 'lost') !== undefined, 30_000, 'onLost')
      expect(eventOf(old, 'lost')).toEqual({ lost: [0] })
      expect(eventOf(old, 'revoked')).toBeUndefined()
      // Nothing rewound: the group's offset is still the new owner's.
      expect((await committedOffsets(target.bootstrap, groupId, topic, 1)).get(0)).toBe(20n)
    } finally {
      old.child.kill('SIGCONT')
      old.child.kill('SIGKILL')
      await next?.close()
    }
  }, 240_000)
})
