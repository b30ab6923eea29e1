// Whole frames on the wire: `int32 size`, then a request or response header, then the body.
// Shared by the client and the reference broker (the codec is shared; their logic is not).

import { ProtocolDecodeError } from '../errors.js'
import { requestHeaderVersion, responseHeaderVersion, type ApiDefinition, type Input } from './api.js'
import { apiByKey } from './messages/index.js'
import { RequestHeader } from './messages/request-header.js'
import { ResponseHeader } from './messages/response-header.js'
import { Reader } from './reader.js'
import type { Writer } from './writer.js'

/** Appends a size-prefixed request frame to `w`. */
export function writeRequestFrame<Req>(
  w: Writer,
  api: ApiDefinition<Req, unknown>,
  version: number,
  correlationId: number,
  clientId: string | null,
  body: Input<Req>,
): void {
  const at = w.beginLength()
  RequestHeader.encode(w, requestHeaderVersion(api, version), {
    requestApiKey: api.apiKey,
    requestApiVersion: version,
    correlationId,
    clientId,
  })
  api.encodeRequest(w, version, body)
  w.endLength(at)
}

/** Appends a size-prefixed response frame to `w`. */
export function writeResponseFrame<Res>(
  w: Writer,
  api: ApiDefinition<unknown, Res>,
  version: number,
  correlationId: number,
  body: Input<Res>,
): void {
  const at = w.beginLength()
  ResponseHeader.encode(w, responseHeaderVersion(api, version), { correlationId })
  api.encodeResponse(w, version, body)
  w.endLength(at)
}

/** The correlation id of a response frame (its first four bytes), read before knowing the API. */
export function peekCorrelationId(frame: Uint8Array): number {
  if (frame.length < 4) throw new ProtocolDecodeError(`response frame of ${frame.length} bytes has no correlation id`)
  return (frame[0]! << 24) | (frame[1]! << 16) | (frame[2]! << 8) | frame[3]! | 0
}

/**
 * Decodes a response frame body (without the size prefix) sent for `api` at `version`. Strict by
 * default: bytes after the body are an error, which is how tests hold the reference broker to
 * exact answers. `ignoreTrailingBytes` reads like Kafka's Java client, whose
 * AbstractResponse.parseResponse never checks what remains after the body; the client uses it.
 */
export function readResponseFrame<Res>(
  frame: Uint8Array,
  api: ApiDefinition<unknown, Res>,
  version: number,
  options?: { ignoreTrailingBytes?: boolean },
): { correlationId: number; body: Res } {
  const r = new Reader(frame)
  const header = ResponseHeader.decode(r, responseHeaderVersion(api, version))
  const body = api.decodeResponse(r, version)
  if (options?.ignoreTrailingBytes === true) r.check()
  else r.finish(`${api.name} v${version} response`)
  return { correlationId: header.correlationId, body }
}

export interface DecodedRequest {
  header: RequestHeader
  /** The API, or undefined when no broker listener serves this key. */
  api: ApiDefinition<unknown, unknown> | undefined
  /** The decoded body, or undefined when the API or version is unknown (answer UNSUPPORTED_VERSION). */
  body: unknown
  /** Bytes after the body, ignored as Kafka ignores them (see readRequestFrame). */
  trailingBytes: number
}

/**
 * Decodes a request frame (without the size prefix). The API key and version come first, so the
 * header version can be chosen; unknown APIs or versions still yield the header so the broker
 * can answer with an error that carries the correlation id.
 *
 * Bytes after a whole body are ignored, for every API, as Apache Kafka does: RequestHeader.parse
 * reads the header as a prefix, then RequestContext.parseRequest -> AbstractRequest.parseRequest
 * -> <Api>Request.parse reads the generated message from the rest and never checks what remains
 * (clients/.../common/requests/, Kafka 3.x-4.x). librdkafka 2.15 relies on it: its all-topics
 * Metadata v13 ends with 3 extra bytes. A header or body that runs short is still an error.
 */
export function readRequestFrame(frame: Uint8Array): DecodedRequest {
  if (frame.length < 8) throw new ProtocolDecodeError(`request frame of ${frame.length} bytes is shorter than a header`)
  const apiKey = (((frame[0]! << 8) | frame[1]!) << 16) >> 16
  const version = (((frame[2]! << 8) | frame[3]!) << 16) >> 16
  const api = apiByKey(apiKey)
  const known = api !== undefined && version >= api.minVersion && version <= api.maxVersion
  const r = new Reader(frame)
  // An unknown version's header layout is unknown too; v1 (no tagged fields) is the safe read of
  // the fields every header version starts with.
  const header = RequestHeader.decode(r, known ? requestHeaderVersion(api, version) : 1)
  r.check()
  if (!known) return { header, api, body: undefined, trailingBytes: 0 }
  const body = api.decodeRequest(r, version)
  r.check()
  return { header, api, body, trailingBytes: r.remaining }
}
