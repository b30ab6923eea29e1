// What the Reader needs of a group membership, whichever protocol runs it: the classic one
// (group.ts: JoinGroup/SyncGroup, client-side balancers) or KIP-848's consumer protocol
// (consumer-group.ts: ConsumerGroupHeartbeat, server-side assignors). `FallbackMembership` starts
// with the consumer protocol and turns to the classic one when the coordinator does not speak it.

import type { TopicPartition } from './config.js'
import type { MembershipView, OffsetCommitter } from './commits.js'
import type { Ownership } from './ownership.js'

export interface Membership extends MembershipView {
  /** The protocol in use: 'consumer' (KIP-848) or 'classic'. */
  readonly groupProtocol: 'consumer' | 'classic'
  readonly state: 'unjoined' | 'joining' | 'stable' | 'closed'
  start(committer: OffsetCommitter): void
  assignment(): TopicPartition[]
  ownership(topic: string, partition: number): Ownership | undefined
  leaveForPollTimeout(error: Error): void
  resume(): void
  close(signal: AbortSignal): Promise<void>
}

/**
 * Delegates to the consumer-protocol membership until it reports that the coordinator lacks
 * ConsumerGroupHeartbeat (before it ever joined); from then on to a classic membership.
 */
export class FallbackMembership implements Membership {
  #current: Membership
  #committer: OffsetCommitter | null = null

  constructor(
    first: (fallBack: () => void) => Membership,
    private readonly classic: () => Membership,
  ) {
    this.#current = first(() => {
      this.#current = this.classic()
      if (this.#committer !== null) this.#current.start(this.#committer)
    })
  }

  get groupProtocol(): 'consumer' | 'classic' {
    return this.#current.groupProtocol
  }

  get groupId(): string {
    return this.#current.groupId
  }
  get generationId(): number {
    return this.#current.generationId
  }
  get memberId(): string {
    return this.#current.memberId
  }
  get groupInstanceId(): string | null {
    return this.#current.groupInstanceId
  }
  get isFenced(): boolean {
    return this.#current.isFenced
  }
  get epochMovesWithoutRebalance(): boolean {
    return this.#current.epochMovesWithoutRebalance === true
  }
  get state() {
    return this.#current.state
  }
  start(committer: OffsetCommitter): void {
    this.#committer = committer
    this.#current.start(committer)
  }
  assignment(): TopicPartition[] {
    return this.#current.assignment()
  }
  ownership(topic: string, partition: number): Ownership | undefined {
    return this.#current.ownership(topic, partition)
  }
  wasLost(ownershipId: number): boolean {
    return this.#current.wasLost(ownershipId)
  }
  fenced(errorCode: number, generationId: number, memberId: string): void {
    this.#current.fenced(errorCode, generationId, memberId)
  }
  requestRejoin(reason: string): void {
    this.#current.requestRejoin(reason)
  }
  async waitStable(signal: AbortSignal): Promise<void> {
    // The membership may be replaced while waiting: wait on whichever is current then.
    for (;;) {
      const current = this.#current
      await current.waitStable(signal).catch((err: unknown) => {
        if (current === this.#current) throw err
      })
      if (current === this.#current) return
    }
  }
  leaveForPollTimeout(error: Error): void {
    this.#current.leaveForPollTimeout(error)
  }
  resume(): void {
    this.#current.resume()
  }
  close(signal: AbortSignal): Promise<void> {
    return this.#current.close(signal)
  }
}
