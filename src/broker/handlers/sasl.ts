// SaslHandshake (17, v0-1) and SaslAuthenticate (36, v0-2); the mechanisms are in ../sasl.ts.
// On a listener without SASL (or after authentication) both answer ILLEGAL_SASL_STATE, as
// KafkaApis does. An unknown mechanism gets UNSUPPORTED_SASL_MECHANISM with the enabled list,
// and a failed authentication SASL_AUTHENTICATION_FAILED; both close the connection after
// the response.

import { ErrorCode } from '../../protocol/error-codes.js'
import { SaslAuthenticate } from '../../protocol/messages/sasl-authenticate.js'
import { SaslHandshake } from '../../protocol/messages/sasl-handshake.js'
import type { Connection } from '../connection.js'
import {
  ALL_MECHANISMS,
  createExchange,
  SaslAuthenticationError,
  type SaslExchange,
  type SaslMechanism,
} from '../sasl.js'
import { defineHandler } from './types.js'

export interface SaslSession {
  exchange: SaslExchange | undefined
  /** After SaslHandshake v0, tokens arrive as raw size-prefixed frames. */
  raw: boolean
  authenticated: boolean
  principal: string | undefined
}

export function saslSession(conn: Connection): SaslSession {
  let s = conn.attributes.get('sasl') as SaslSession | undefined
  if (s === undefined) {
    s = { exchange: undefined, raw: false, authenticated: false, principal: undefined }
    conn.attributes.set('sasl', s)
  }
  return s
}

export const saslHandshakeHandler = defineHandler({
  api: SaslHandshake,
  handle(ctx, req) {
    const sasl = ctx.cluster.options.sasl
    const session = saslSession(ctx.connection)
    const enabled = sasl?.mechanisms ?? ALL_MECHANISMS
    if (sasl === undefined || session.authenticated) return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] }
    if (!enabled.includes(req.mechanism as SaslMechanism)) {
      ctx.connection.closeAfterResponse()
      return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: enabled }
    }
    session.exchange = createExchange(
      req.mechanism as SaslMechanism,
      sasl.users,
      ctx.cluster.scramCredentials,
      ctx.cluster.security.of(ctx.broker.id).scram,
    )
    session.raw = ctx.version === 0
    return { errorCode: 0, mechanisms: enabled }
  },
  errorResponse(_ctx, _req, errorCode) {
    return { errorCode, mechanisms: [] }
  },
})

export const saslAuthenticateHandler = defineHandler({
  api: SaslAuthenticate,
  handle(ctx, req) {
    const session = saslSession(ctx.connection)
    const exchange = session.exchange
    if (ctx.cluster.options.sasl === undefined || session.authenticated || exchange === undefined) {
      return {
        errorCode: ErrorCode.ILLEGAL_SASL_STATE,
        errorMessage: 'Unexpected SaslAuthenticate request',
        authBytes: Buffer.alloc(0),
      }
    }
    try {
      const authBytes = exchange.evaluate(req.authBytes)
      if (exchange.complete) {
        session.authenticated = true
        session.principal = exchange.principal
      }
      return { errorCode: 0, errorMessage: null, authBytes, sessionLifetimeMs: 0n }
    } catch (err) {
      ctx.connection.closeAfterResponse()
      const message = err instanceof SaslAuthenticationError ? err.message : 'Authentication failed'
      return { errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: message, authBytes: Buffer.alloc(0) }
    }
  },
  errorResponse(_ctx, _req, errorCode) {
    return { errorCode, errorMessage: null, authBytes: Buffer.alloc(0) }
  },
})

/** A raw (SaslHandshake v0) token: the server token, size-prefixed. Throws to close the connection. */
export function evaluateRawToken(session: SaslSession, token: Buffer): Buffer {
  const exchange = session.exchange!
  const out = exchange.evaluate(token)
  if (exchange.complete) {
    session.authenticated = true
    session.principal = exchange.principal
    session.raw = false
  }
  const frame = Buffer.allocUnsafe(4 + out.length)
  frame.writeInt32BE(out.length, 0)
  out.copy(frame, 4)
  return frame
}
