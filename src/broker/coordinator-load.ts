// COORDINATOR_LOAD_IN_PROGRESS, as a Kafka group coordinator answers while it reads its
// partition of __consumer_offsets after becoming that partition's leader (at startup, or when
// the previous coordinator stopped). Kafka's window lasts as long as the load; here it is a
// count, so tests stay deterministic: the first `coordinatorLoadRequests` group requests
// (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, ...) that reach a
// coordinator for an offsets partition it has just taken over are answered with the error.
// Such a load also ends `coordinatorLoadMs` after it started, answered or not: Kafka loads a
// partition once, so a group first seen later is served at once (librdkafka waits 3 s before
// rejoining after the error). A load started by faults.loadCoordinator is a count only.
// FindCoordinator itself answers as usual, as Kafka's does.

import { ErrorCode } from '../protocol/error-codes.js'

export class CoordinatorLoad {
  /** Per offsets partition: the broker coordinating it when last looked at (-1: none). */
  #owners: number[] = []
  /** Per offsets partition: requests still to answer COORDINATOR_LOAD_IN_PROGRESS, and until when. */
  #remaining = new Map<number, { left: number; until: number }>()

  constructor(
    private readonly requests: number,
    private readonly ownerOf: (offsetsPartition: number) => number,
    private readonly partitions: number,
    /** How long a load at startup or after a move lasts at most (0: until its requests are answered). */
    private readonly loadMs = 0,
  ) {}

  #deadline(): number {
    return this.loadMs > 0 ? performance.now() + this.loadMs : Infinity
  }

  /** Every coordinator loads at startup. */
  started(): void {
    this.#owners = Array.from({ length: this.partitions }, (_, p) => this.ownerOf(p))
    if (this.requests === 0) return
    const until = this.#deadline()
    for (let p = 0; p < this.partitions; p++) this.#remaining.set(p, { left: this.requests, until })
  }

  /** A broker stopped or started: the offsets partitions whose coordinator changed load again. */
  changed(): void {
    for (let p = 0; p < this.partitions; p++) {
      const owner = this.ownerOf(p)
      if (owner !== this.#owners[p] && owner >= 0 && this.requests > 0) {
        this.#remaining.set(p, { left: this.requests, until: this.#deadline() })
      }
      this.#owners[p] = owner
    }
  }

  /** Starts a load of one offsets partition now (faults.loadCoordinator). */
  load(offsetsPartition: number, requests: number): void {
    this.#remaining.set(offsetsPartition, { left: requests, until: Infinity })
  }

  /** The error for one group request to this partition's coordinator (0: none), counted. */
  take(offsetsPartition: number): number {
    const load = this.#remaining.get(offsetsPartition)
    if (load === undefined) return ErrorCode.NONE
    if (load.until <= performance.now()) {
      this.#remaining.delete(offsetsPartition)
      return ErrorCode.NONE
    }
    if (load.left <= 1) this.#remaining.delete(offsetsPartition)
    else load.left--
    return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
  }
}
