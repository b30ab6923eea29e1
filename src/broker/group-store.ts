// The groups by id and their committed offsets: validation of a commit against the group's
// generation and members, plain and transactional commits (journalled when the cluster has a
// data dir), OffsetDelete, and DeleteGroups. The membership protocol is in groups.ts.
//
// Commits are checked against the generation and member (ILLEGAL_GENERATION,
// UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, REBALANCE_IN_PROGRESS in CompletingRebalance); a
// commit with generation -1 to a group without members ("simple" group) is accepted.
// Transactional commits stay pending per producer until the transaction ends.

import { ErrorCode } from '../protocol/error-codes.js'
import type { Cluster } from './cluster.js'
import { Group, offsetKey, splitOffsetKey, type CommittedOffset } from './group-state.js'

export class GroupStore {
  readonly groups = new Map<string, Group>()

  constructor(protected readonly cluster: Cluster) {}

  get(groupId: string): Group | undefined {
    return this.groups.get(groupId)
  }

  getOrCreate(groupId: string): Group {
    let g = this.groups.get(groupId)
    if (g === undefined) {
      g = new Group(groupId)
      this.groups.set(groupId, g)
    }
    return g
  }

  /** ClassicGroup.validateOffsetCommit (0 when the commit may proceed). */
  validateCommit(
    group: Group,
    generationId: number,
    memberId: string,
    groupInstanceId: string | null,
    transactional: boolean,
  ): number {
    if (group.state === 'Dead') return ErrorCode.COORDINATOR_NOT_AVAILABLE
    if (generationId < 0 && group.state === 'Empty') return 0
    if (generationId >= 0 || memberId !== '' || groupInstanceId !== null) {
      if (groupInstanceId !== null) {
        const existing = group.staticMembers.get(groupInstanceId)
        if (existing === undefined) return ErrorCode.UNKNOWN_MEMBER_ID
        if (existing !== memberId) return ErrorCode.FENCED_INSTANCE_ID
      } else if (!group.members.has(memberId)) {
        return ErrorCode.UNKNOWN_MEMBER_ID
      }
      if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION
    } else if (!transactional && group.state !== 'Empty') {
      return ErrorCode.UNKNOWN_MEMBER_ID
    }
    if (!transactional && group.state === 'CompletingRebalance') return ErrorCode.REBALANCE_IN_PROGRESS
    return 0
  }

  commit(group: Group, topic: string, partition: number, value: CommittedOffset): void {
    // On disk (with a data dir) before the commit is acknowledged.
    this.cluster.journal?.appendOffset({
      g: group.groupId,
      t: topic,
      p: partition,
      o: value.offset.toString(),
      e: value.leaderEpoch,
      m: value.metadata,
      ts: value.commitTimestamp,
    })
    group.offsets.set(offsetKey(topic, partition), value)
  }

  /** OffsetDelete, and offsets of a deleted topic. */
  deleteOffset(group: Group, topic: string, partition: number): void {
    if (!group.offsets.has(offsetKey(topic, partition))) return
    this.cluster.journal?.appendOffset({ g: group.groupId, t: topic, p: partition })
    group.offsets.delete(offsetKey(topic, partition))
  }

  commitTransactional(
    group: Group,
    producerId: bigint,
    topic: string,
    partition: number,
    value: CommittedOffset,
  ): void {
    let pending = group.pendingTxnOffsets.get(producerId)
    if (pending === undefined) group.pendingTxnOffsets.set(producerId, (pending = new Map()))
    pending.set(offsetKey(topic, partition), value)
  }

  /** The transaction of `producerId` ended: its pending offsets become committed, or are dropped. */
  completeTransaction(groupId: string, producerId: bigint, commit: boolean): void {
    const group = this.groups.get(groupId)
    const pending = group?.pendingTxnOffsets.get(producerId)
    if (group === undefined || pending === undefined) return
    group.pendingTxnOffsets.delete(producerId)
    if (!commit) return
    for (const [k, v] of pending) {
      const { topic, partition } = splitOffsetKey(k)
      this.commit(group, topic, partition, v)
    }
  }

  hasPendingTxnOffset(group: Group, topic: string, partition: number): boolean {
    const key = offsetKey(topic, partition)
    for (const pending of group.pendingTxnOffsets.values()) if (pending.has(key)) return true
    return false
  }

  onTopicDeleted(topic: string): void {
    for (const g of this.groups.values()) {
      for (const key of [...g.offsets.keys()]) {
        const at = splitOffsetKey(key)
        if (at.topic === topic) this.deleteOffset(g, topic, at.partition)
      }
    }
  }

  /** DeleteGroups: only groups without members; their offsets go too. */
  deleteGroup(groupId: string): number {
    const group = this.groups.get(groupId)
    if (group === undefined || group.state === 'Dead') return ErrorCode.GROUP_ID_NOT_FOUND
    if (group.state !== 'Empty') return ErrorCode.NON_EMPTY_GROUP
    this.cluster.journal?.appendOffset({ g: groupId })
    group.state = 'Dead'
    this.groups.delete(groupId)
    return 0
  }
}
