// The shape every generated API module exports, and the helpers generated code calls. Generated
// encoders branch on the version per field (one module per API, all versions), like franz-go.

import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

/** A tagged field this codec does not know, kept as raw bytes so it survives a decode/encode. */
export interface TaggedField {
  tag: number
  data: Buffer
}

/**
 * What an encoder accepts: every field may be left out, and then takes its schema default (as
 * in Kafka's generated Java messages). Decoders always return every field.
 */
export type Input<T> = T extends Uint8Array | bigint | string | number | boolean | null | undefined | TaggedField
  ? T
  : T extends readonly (infer E)[]
    ? readonly Input<E>[]
    : { [K in keyof T]?: Input<T[K]> | undefined }

export interface ApiDefinition<Req, Res> {
  readonly apiKey: number
  readonly name: string
  readonly minVersion: number
  readonly maxVersion: number
  /** The highest version a broker advertises by default (below maxVersion when the latest is unstable). */
  readonly maxStableVersion: number
  /** First flexible (KIP-482) version, or Infinity when the API never became flexible. */
  readonly flexibleFrom: number
  encodeRequest(w: Writer, version: number, message: Input<Req>): void
  decodeRequest(r: Reader, version: number): Req
  encodeResponse(w: Writer, version: number, message: Input<Res>): void
  decodeResponse(r: Reader, version: number): Res
}

/** Request header v2 (with tagged fields) for flexible versions, otherwise v1. */
export function requestHeaderVersion(api: ApiDefinition<unknown, unknown>, version: number): number {
  return version >= api.flexibleFrom ? 2 : 1
}

/**
 * Response header v1 for flexible versions, otherwise v0 — except ApiVersions, whose response
 * header is always v0 so that a client can read it before knowing what the broker speaks (KIP-511).
 */
export function responseHeaderVersion(api: ApiDefinition<unknown, unknown>, version: number): number {
  if (api.apiKey === 18) return 0
  return version >= api.flexibleFrom ? 1 : 0
}

export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'
export const EMPTY_BYTES: Buffer = Buffer.alloc(0)
