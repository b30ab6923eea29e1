// What each broker enforces of the cluster's ACLs and SCRAM credentials. Kafka's controller
// answers CreateAcls, DeleteAcls and AlterUserScramCredentials once the change is committed to
// the metadata log; every broker, the one asked too, applies it when it replays the log, a
// moment later. The reference brokers apply changes at once, unless `faults.lagSecurity(broker,
// requests)`: that broker then goes on authorizing, listing ACLs, describing SCRAM credentials
// and checking SCRAM logins with what it had before a change until it has handled `requests`
// more requests (any API) since the latest change, then applies them all. Counted in requests,
// not time, so a test sees the same stale answers on every run.

import type { Authorizer } from './acls.js'
import type { ScramCredentialStore } from './sasl.js'

export interface SecurityState {
  readonly authorizer: Authorizer | undefined
  readonly scram: ScramCredentialStore
}

interface Lag {
  requests: number
  /** The state before the first change not applied yet; undefined when up to date. */
  stale: SecurityState | undefined
  left: number
}

export class SecurityViews {
  readonly #lags = new Map<number, Lag>()

  constructor(private readonly live: SecurityState) {}

  /** Makes broker `brokerId` apply changes `requests` requests late (0: at once again). */
  lag(brokerId: number, requests: number): void {
    if (requests === 0) this.#lags.delete(brokerId)
    else this.#lags.set(brokerId, { requests, stale: undefined, left: 0 })
  }

  clear(): void {
    this.#lags.clear()
  }

  /** Called just before the live ACLs or credentials change: lagging brokers keep what they had. */
  beforeChange(): void {
    for (const lag of this.#lags.values()) {
      lag.stale ??= { authorizer: this.live.authorizer?.clone(), scram: this.live.scram.clone() }
      lag.left = lag.requests
    }
  }

  /** What broker `brokerId` enforces now. */
  of(brokerId: number): SecurityState {
    return this.#lags.get(brokerId)?.stale ?? this.live
  }

  /** One request reached the broker (counted before it is handled). */
  counted(brokerId: number): void {
    const lag = this.#lags.get(brokerId)
    if (lag?.stale !== undefined && --lag.left < 0) lag.stale = undefined
  }
}
