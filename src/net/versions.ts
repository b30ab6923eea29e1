// API version negotiation, per broker connection (franz-go's broker.loadVersions; platformatic
// asks one bootstrap broker for the whole cluster, which breaks during rolling upgrades).
//
// The broker's ApiVersions answer gives a range per API; we use min(our max, its max) and never a
// version it did not offer. Our own floor per API sits above the broker's where Kafka 4.0 lies:
// it advertises Produce from v0 but rejects v0-v2 (KIP-896, KAFKA-18659). Our own ceiling sits
// below the codec's where a newer version changes what a request means (CLIENT_MAX_VERSIONS).

import { KafkaError } from '../errors.js'
import type { ApiDefinition } from '../protocol/api.js'
import { ErrorCode } from '../protocol/error-codes.js'
import { readResponseFrame } from '../protocol/frame.js'
import { ApiKey, ApiVersions, type ApiVersionsResponse } from '../protocol/messages/index.js'
import type { Connection, RequestOptions } from './connection.js'
import { UnsupportedVersionError, type BrokerAddress } from './errors.js'

export const CLIENT_SOFTWARE_NAME = 'kafkats'
export const CLIENT_SOFTWARE_VERSION = '0.1.0'

/**
 * The lowest version of each API this client sends: the KIP-896 floor of Kafka 4.0 (so we never
 * send what 4.0 rejects even when it is advertised), raised where the client relies on a field
 * (Metadata v1: a null topic list means "all"; SaslHandshake v1: SaslAuthenticate framing).
 */
export const CLIENT_MIN_VERSIONS: ReadonlyMap<number, number> = new Map([
  [ApiKey.Produce, 3],
  [ApiKey.Fetch, 4],
  [ApiKey.ListOffsets, 1],
  [ApiKey.Metadata, 1],
  [ApiKey.OffsetCommit, 2],
  [ApiKey.OffsetFetch, 1],
  [ApiKey.CreateTopics, 2],
  [ApiKey.DeleteTopics, 1],
  [ApiKey.OffsetForLeaderEpoch, 2],
  [ApiKey.DescribeAcls, 1],
  [ApiKey.CreateAcls, 1],
  [ApiKey.DeleteAcls, 1],
  [ApiKey.DescribeConfigs, 1],
  [ApiKey.AlterReplicaLogDirs, 1],
  [ApiKey.DescribeLogDirs, 1],
  [ApiKey.CreateDelegationToken, 1],
  [ApiKey.RenewDelegationToken, 1],
  [ApiKey.ExpireDelegationToken, 1],
  [ApiKey.DescribeDelegationToken, 1],
  [ApiKey.SaslHandshake, 1],
  // Kafka 4.4 lists JoinGroup v0-1 again; 4.0 rejected them (KIP-896), so we keep v2.
  [ApiKey.JoinGroup, 2],
])

/**
 * The highest version of each API this client sends, where it is below the codec's (Kafka
 * 4.4.0's) newest: versions whose meaning the client does not handle yet. Each of these replaces
 * topic names with topic ids, and the client addresses these requests by name. Fetch v13+ is
 * not capped here: the fetcher sends topic ids there and picks v12 itself when it has none.
 */
export const CLIENT_MAX_VERSIONS: ReadonlyMap<number, number> = new Map([
  [ApiKey.Produce, 12], // v13: topic ids (KIP-516)
  [ApiKey.OffsetCommit, 9], // v10: topic ids (KIP-848)
  [ApiKey.OffsetFetch, 9], // v10: topic ids (KIP-848)
  [ApiKey.TxnOffsetCommit, 5], // v6: topic ids (KIP-1319)
])

/** What version negotiation needs to know about an API (any ApiDefinition has it). */
export type ApiVersionInfo = Pick<
  ApiDefinition<unknown, unknown>,
  'apiKey' | 'name' | 'minVersion' | 'maxStableVersion'
>

export interface VersionRange {
  min: number
  max: number
}

export interface VersionBounds {
  /** Lowest acceptable version (raises the client floor, e.g. a feature that needs v7+). */
  min?: number | undefined
  /** Highest version to use (lowers our maximum, e.g. logic not yet written for newer versions). */
  max?: number | undefined
}

/** What one broker speaks, and the choice of version for each request to it. */
export class ApiVersionTable {
  readonly #ranges: ReadonlyMap<number, VersionRange>
  readonly #broker: BrokerAddress | undefined
  readonly #features: ReadonlyMap<string, number>

  constructor(
    ranges: Iterable<{ apiKey: number; minVersion: number; maxVersion: number }>,
    broker?: BrokerAddress,
    finalizedFeatures: Iterable<{ name: string; maxVersionLevel: number }> = [],
  ) {
    const map = new Map<number, VersionRange>()
    for (const r of ranges) map.set(r.apiKey, { min: r.minVersion, max: r.maxVersion })
    this.#ranges = map
    this.#broker = broker
    this.#features = new Map([...finalizedFeatures].map((f) => [f.name, f.maxVersionLevel]))
  }

  /** The finalized level of a cluster feature (ApiVersions v3+, e.g. 'transaction.version'); 0 when absent, as Java reads it. */
  featureLevel(name: string): number {
    return this.#features.get(name) ?? 0
  }

  /** The broker's advertised range for an API, or undefined when it does not serve it. */
  range(apiKey: number): VersionRange | undefined {
    return this.#ranges.get(apiKey)
  }

  /** Whether some version of `api` is usable with this broker. */
  supports(api: ApiVersionInfo, bounds?: VersionBounds): boolean {
    return this.#choose(api, bounds) >= 0
  }

  /** The version to send: the highest both sides speak, within bounds; throws UnsupportedVersionError otherwise. */
  pick(api: ApiVersionInfo, bounds?: VersionBounds): number {
    const version = this.#choose(api, bounds)
    if (version >= 0) return version
    const theirs = this.#ranges.get(api.apiKey)
    const ours = ourRange(api, bounds)
    const message =
      theirs === undefined
        ? 'the broker does not support this API'
        : `the broker supports v${theirs.min}-v${theirs.max}, this client needs v${ours.min}-v${ours.max}`
    throw new UnsupportedVersionError(api.name, message, this.#broker)
  }

  #choose(api: ApiVersionInfo, bounds: VersionBounds | undefined): number {
    const theirs = this.#ranges.get(api.apiKey)
    if (theirs === undefined) return -1
    const ours = ourRange(api, bounds)
    const max = Math.min(ours.max, theirs.max)
    const min = Math.max(ours.min, theirs.min)
    return max >= min ? max : -1
  }
}

function ourRange(api: ApiVersionInfo, bounds: VersionBounds | undefined): VersionRange {
  let min = Math.max(api.minVersion, CLIENT_MIN_VERSIONS.get(api.apiKey) ?? 0)
  let max = Math.min(api.maxStableVersion, CLIENT_MAX_VERSIONS.get(api.apiKey) ?? Infinity)
  if (bounds?.min !== undefined) min = Math.max(min, bounds.min)
  if (bounds?.max !== undefined) max = Math.min(max, bounds.max)
  return { min, max }
}

/**
 * Asks the broker on `connection` which versions it speaks. Starts with the newest ApiVersions
 * version we know; a broker that does not know it answers UNSUPPORTED_VERSION with a v0 body that
 * lists the ApiVersions versions it does know (KIP-511), and we ask again with the highest (v0
 * when it lists none, as Java's NetworkClient does). Each retry is a lower version: bounded.
 */
export async function negotiateApiVersions(connection: Connection, options?: RequestOptions): Promise<ApiVersionTable> {
  let version = ApiVersions.maxStableVersion
  for (let attempt = 0; attempt < 3; attempt++) {
    const frame = await connection.sendRaw(
      ApiVersions,
      version,
      { clientSoftwareName: CLIENT_SOFTWARE_NAME, clientSoftwareVersion: CLIENT_SOFTWARE_VERSION },
      options,
    )
    const response = decodeApiVersionsResponse(frame, version)
    if (response.errorCode === ErrorCode.UNSUPPORTED_VERSION) {
      const offered = response.apiKeys.find((k) => k.apiKey === ApiKey.ApiVersions)
      const next = Math.min(offered?.maxVersion ?? 0, version - 1)
      if (next < 0 || next >= version) break
      version = next
      continue
    }
    if (response.errorCode !== ErrorCode.NONE) {
      throw KafkaError.fromCode(response.errorCode, withBroker({ apiName: 'ApiVersions' }, connection.nodeId))
    }
    const table = new ApiVersionTable(response.apiKeys, connection.address, response.finalizedFeatures ?? [])
    connection.apiVersions = table
    return table
  }
  throw new UnsupportedVersionError(
    'ApiVersions',
    'the broker rejected every ApiVersions version this client can send',
    connection.address,
  )
}

/**
 * Version tables by broker address, shared by the pools of one `Kafka` instance's roles: each
 * broker is asked ApiVersions once, and dials to one address that overlap wait for the same
 * answer instead of asking again. `forget` drops an address's table (its connection broke: the
 * broker may have been restarted with another version), so the next dial asks again.
 */
export class VersionTableCache {
  readonly #tables = new Map<string, ApiVersionTable>()
  readonly #pending = new Map<string, Promise<ApiVersionTable>>()

  /** The table for `address`: known, being negotiated by another dial, or negotiated on `connection`. */
  async tableFor(address: string, connection: Connection): Promise<ApiVersionTable> {
    let table = this.#tables.get(address)
    if (table === undefined) {
      const pending = this.#pending.get(address)
      if (pending !== undefined) table = await pending
      else {
        const negotiating = negotiateApiVersions(connection)
        this.#pending.set(address, negotiating)
        try {
          table = await negotiating
          this.#tables.set(address, table)
        } finally {
          this.#pending.delete(address)
        }
      }
    }
    connection.apiVersions = table
    return table
  }

  forget(address: string): void {
    this.#tables.delete(address)
  }
}

/** What negotiation reads from an ApiVersions answer. */
type ApiVersionsAnswer = Pick<ApiVersionsResponse, 'errorCode' | 'apiKeys'> &
  Partial<Pick<ApiVersionsResponse, 'finalizedFeatures'>>

/**
 * Decodes at the version sent; a broker that did not understand it answers in v0 (KIP-511).
 * Some answer UNSUPPORTED_VERSION in neither layout: librdkafka's mock cluster (2.0.2, 2.15.1) writes a
 * one-byte compact count, classic entries and no tagged fields. Java copes because it ignores
 * trailing bytes: ApiVersionsResponse.parse reads the requested version (else v0), finds an empty
 * api_keys list, and NetworkClient.handleApiVersionsResponse then retries at v0. We decode
 * strictly, so a layout is taken only when it fits exactly, and when neither fits we read just
 * the error code, the first field of every version: UNSUPPORTED_VERSION retries at v0 as well.
 */
function decodeApiVersionsResponse(frame: Buffer, version: number): ApiVersionsAnswer {
  let error: unknown
  try {
    return readResponseFrame(frame, ApiVersions, version).body
  } catch (err) {
    error = err
  }
  if (version !== 0) {
    try {
      const fallback = readResponseFrame(frame, ApiVersions, 0).body
      if (fallback.errorCode !== ErrorCode.NONE) return fallback
    } catch {
      // Neither layout: only the error code below can still tell us something.
    }
  }
  // The header is always v0 (a 4-byte correlation id), then the int16 error code.
  if (frame.length >= 6 && frame.readInt16BE(4) === ErrorCode.UNSUPPORTED_VERSION) {
    return { errorCode: ErrorCode.UNSUPPORTED_VERSION, apiKeys: [] }
  }
  throw error
}

function withBroker<T extends object>(context: T, nodeId: number | undefined): T & { broker?: number } {
  return nodeId === undefined ? context : { ...context, broker: nodeId }
}
