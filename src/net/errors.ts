// Errors raised below the Kafka protocol: the socket, timeouts, aborts, version negotiation and
// SASL. Each is a KafkaTsError with a stable `code`; the ones worth sending again declare
// `retriable: true`, which is what `isRetriable()` (src/errors.ts) reads.

import { KafkaTsError, type KafkaTsErrorOptions } from '../errors.js'

/** Where a network error happened. */
export interface BrokerAddress {
  host: string
  port: number
  /** Node id, when known (bootstrap connections have none). */
  nodeId?: number
}

function where(address: BrokerAddress | undefined): string {
  if (address === undefined) return ''
  const node = address.nodeId === undefined ? '' : ` (node ${address.nodeId})`
  return ` [${address.host}:${address.port}${node}]`
}

/**
 * The connection failed or broke: refused, reset, closed by the peer, TLS failure, or closed by
 * us while the request was pending. Retriable (on a new connection), and the metadata that sent
 * us there may be stale, like Kafka's NetworkException.
 */
export class ConnectionError extends KafkaTsError {
  readonly retriable: boolean
  readonly staleMetadata = true
  declare readonly broker?: BrokerAddress

  constructor(message: string, options?: KafkaTsErrorOptions & { broker?: BrokerAddress; retriable?: boolean }) {
    super('KAFKATS_CONNECTION', message + where(options?.broker), options)
    this.retriable = options?.retriable ?? true
    if (options?.broker !== undefined) (this as { broker?: BrokerAddress }).broker = options.broker
  }
}

/** No response arrived within the request timeout (Java's request.timeout.ms). Retriable. */
export class RequestTimeoutError extends KafkaTsError {
  readonly retriable = true
  // A broker that stops answering may have lost leadership (or be hung while others took over):
  // refresh metadata before retrying, as the Java client does, or retries keep hitting it.
  readonly staleMetadata = true
  readonly timeoutMs: number

  constructor(what: string, timeoutMs: number, broker?: BrokerAddress) {
    super('KAFKATS_REQUEST_TIMEOUT', `${what} timed out after ${timeoutMs} ms${where(broker)}`)
    this.timeoutMs = timeoutMs
  }
}

/** The caller's AbortSignal fired. Never retried: the caller asked to stop. */
export class AbortError extends KafkaTsError {
  readonly retriable = false

  constructor(what: string, reason?: unknown) {
    super('KAFKATS_ABORTED', `${what} was aborted`, reason === undefined ? undefined : { cause: reason })
  }
}

/** The broker cannot speak a version of an API that this client can use. Not retriable. */
export class UnsupportedVersionError extends KafkaTsError {
  readonly retriable = false
  readonly apiName: string

  constructor(apiName: string, message: string, broker?: BrokerAddress) {
    super('KAFKATS_UNSUPPORTED_VERSION', `${apiName}: ${message}${where(broker)}`)
    this.apiName = apiName
  }
}

/** SASL authentication failed (bad credentials, unsupported mechanism, a forged server). Not retriable. */
export class SaslAuthenticationError extends KafkaTsError {
  readonly retriable = false

  constructor(message: string, options?: KafkaTsErrorOptions & { broker?: BrokerAddress }) {
    super('KAFKATS_SASL_AUTHENTICATION', message + where(options?.broker), options)
  }
}

/** An operation on a client or connection that was already closed. Not retriable. */
export class ClosedError extends KafkaTsError {
  readonly retriable = false

  constructor(what: string) {
    super('KAFKATS_CLOSED', `${what} is closed`)
  }
}

/** The AbortError for `signal`, keeping its reason as the cause. */
export function abortErrorFor(signal: AbortSignal, what: string): AbortError {
  return new AbortError(what, signal.reason)
}
