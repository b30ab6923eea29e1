// The contract between the broker's dispatcher and one API's handler.

import type { ApiDefinition, Input } from '../../protocol/api.js'
import type { RequestHeader } from '../../protocol/messages/request-header.js'
import type { BrokerNode } from '../broker.js'
import type { Cluster } from '../cluster.js'
import type { Connection } from '../connection.js'

export interface RequestContext {
  readonly cluster: Cluster
  readonly broker: BrokerNode
  readonly connection: Connection
  readonly header: RequestHeader
  readonly version: number
  /** Aborted when the connection closes or the broker stops (ends long polls). */
  readonly signal: AbortSignal
}

/** What a handler returns: a response body, or null to send nothing (Produce with acks=0). */
export type HandlerResult<Res> = Input<Res> | null

export interface Handler<Req, Res> {
  readonly api: ApiDefinition<Req, Res>
  /** Lowest version served (default: the API's minVersion, i.e. what Kafka 4.0 accepts). */
  readonly minVersion?: number
  /** Lowest version advertised in ApiVersions when it differs from what is served (Produce: 0). */
  readonly advertisedMinVersion?: number
  handle(ctx: RequestContext, request: Req): HandlerResult<Res> | Promise<HandlerResult<Res>>
  /**
   * A response failing every part of `request` with `errorCode`: what Kafka sends when a
   * request fails as a whole (AbstractRequest.getErrorResponse), used for injected faults and
   * for unexpected handler errors (UNKNOWN_SERVER_ERROR).
   */
  errorResponse(ctx: RequestContext, request: Req, errorCode: number): Input<Res> | null
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyHandler = Handler<any, any>

/** Identity helper that checks a handler against its API's types. */
export function defineHandler<Req, Res>(handler: Handler<Req, Res>): Handler<Req, Res> {
  return handler
}
