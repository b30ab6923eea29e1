// COORDINATOR_LOAD_IN_PROGRESS, as a Kafka group coordinator answers while it reads its
// partition of __consumer_offsets after becoming that partition's leader (at startup, or when
// the previous coordinator stopped). Kafka's window lasts as long as the load; here it is a
// count, so tests stay deterministic: the first `coordinatorLoadRequests` group requests
// (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, ...) that reach a
// coordinator for an offsets partition it has just taken over are answered with the error.
// FindCoordinator itself answers as usual, as Kafka's does.

import { ErrorCode } from '../protocol/error-codes.js'

export class CoordinatorLoad {
  /** Per offsets partition: the broker coordinating it when last looked at (-1: none). */
  #owners: number[] = []
  /** Per offsets partition: requests still to answer COORDINATOR_LOAD_IN_PROGRESS. */
  #remaining = new Map<number, number>()

  constructor(
    private readonly requests: number,
    private readonly ownerOf: (offsetsPartition: number) => number,
    private readonly partitions: number,
  ) {}

  /** Every coordinator loads at startup. */
  started(): void {
    this.#owners = Array.from({ length: this.partitions }, (_, p) => this.ownerOf(p))
    if (this.requests === 0) return
    for (let p = 0; p < this.partitions; p++) this.#remaining.set(p, this.requests)
  }

  /** A broker stopped or started: the offsets partitions whose coordinator changed load again. */
  changed(): void {
    for (let p = 0; p < this.partitions; p++) {
      const owner = this.ownerOf(p)
      if (owner !== this.#owners[p] && owner >= 0 && this.requests > 0) this.#remaining.set(p, this.requests)
      this.#owners[p] = owner
    }
  }

  /** Starts a load of one offsets partition now (faults.loadCoordinator). */
  load(offsetsPartition: number, requests: number): void {
    this.#remaining.set(offsetsPartition, requests)
  }

  /** The error for one group request to this partition's coordinator (0: none), counted. */
  take(offsetsPartition: number): number {
    const left = this.#remaining.get(offsetsPartition)
    if (left === undefined) return ErrorCode.NONE
    if (left <= 1) this.#remaining.delete(offsetsPartition)
    else this.#remaining.set(offsetsPartition, left - 1)
    return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
  }
}
