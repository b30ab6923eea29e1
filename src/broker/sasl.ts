// SASL authentication on the broker side: PLAIN (RFC 4616) and SCRAM-SHA-256/512 (RFC 5802 /
// RFC 7677), after Kafka's PlainSaslServer and ScramSaslServer.
//
// A connection on a SASL listener must authenticate before anything but ApiVersions,
// SaslHandshake and SaslAuthenticate (Kafka's SaslServerAuthenticator closes the connection on
// "Unexpected Kafka request of type X during SASL handshake"). After SaslHandshake v1 the
// tokens travel in SaslAuthenticate requests; after v0 they are raw size-prefixed frames.
// A failed authentication is answered with SASL_AUTHENTICATION_FAILED and the connection closes.

import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto'

export type SaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'

export interface SaslOptions {
  /** Enabled mechanisms, in the order SaslHandshake lists them. Default: all three. */
  mechanisms?: SaslMechanism[]
  /** Users and their passwords. */
  users: Record<string, string>
}

export class SaslAuthenticationError extends Error {}

/** One authentication exchange: feed it client tokens; it returns server tokens. */
export interface SaslExchange {
  readonly mechanism: SaslMechanism
  /** The authenticated user once `complete`. */
  principal: string | undefined
  complete: boolean
  /** Throws SaslAuthenticationError on bad credentials or malformed tokens. */
  evaluate(token: Buffer): Buffer
}

export const ALL_MECHANISMS: SaslMechanism[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']

export function createExchange(
  mechanism: SaslMechanism,
  users: Record<string, string>,
  credentials: ScramCredentialCache,
  stored: ScramCredentialStore,
): SaslExchange {
  return mechanism === 'PLAIN' ? new PlainExchange(users) : new ScramExchange(mechanism, users, credentials, stored)
}

class PlainExchange implements SaslExchange {
  readonly mechanism = 'PLAIN' as const
  principal: string | undefined
  complete = false

  constructor(private readonly users: Record<string, string>) {}

  evaluate(token: Buffer): Buffer {
    const parts = token.toString('utf8').split('\u0000')
    if (parts.length !== 3) throw new SaslAuthenticationError('Invalid SASL/PLAIN response: expected 3 tokens')
    const [authzid, username, password] = parts as [string, string, string]
    if (username === '') throw new SaslAuthenticationError('Authentication failed: username not specified')
    if (password === '') throw new SaslAuthenticationError('Authentication failed: password not specified')
    const expected = Object.hasOwn(this.users, username) ? this.users[username] : undefined
    if (expected === undefined || !safeEqual(Buffer.from(expected), Buffer.from(password))) {
      throw new SaslAuthenticationError('Authentication failed: Invalid username or password')
    }
    if (authzid !== '' && authzid !== username) {
      throw new SaslAuthenticationError(
        'Authentication failed: Client requested an authorization id that is different from username',
      )
    }
    this.principal = username
    this.complete = true
    return Buffer.alloc(0)
  }
}

export interface ScramCredential {
  salt: Buffer
  iterations: number
  storedKey: Buffer
  serverKey: Buffer
}

export type ScramMechanism = 'SCRAM-SHA-256' | 'SCRAM-SHA-512'

/** StoredKey and ServerKey from a salted password (RFC 5802), as Kafka's ScramFormatter derives them. */
export function scramCredential(
  mechanism: ScramMechanism,
  salt: Buffer,
  iterations: number,
  salted: Buffer,
): ScramCredential {
  const hash = mechanism === 'SCRAM-SHA-512' ? 'sha512' : 'sha256'
  return {
    salt,
    iterations,
    storedKey: createHash(hash)
      .update(hmac(hash, salted, 'Client Key'))
      .digest(),
    serverKey: hmac(hash, salted, 'Server Key'),
  }
}

/**
 * SCRAM credentials set through AlterUserScramCredentials (Kafka keeps them in the metadata log):
 * per user, per mechanism. They take precedence over the `sasl.users` passwords for SCRAM logins.
 */
export class ScramCredentialStore {
  readonly users = new Map<string, Map<ScramMechanism, ScramCredential>>()

  get(mechanism: SaslMechanism, user: string): ScramCredential | undefined {
    return mechanism === 'PLAIN' ? undefined : this.users.get(user)?.get(mechanism)
  }

  set(user: string, mechanism: ScramMechanism, credential: ScramCredential): void {
    let byMechanism = this.users.get(user)
    if (byMechanism === undefined) {
      byMechanism = new Map()
      this.users.set(user, byMechanism)
    }
    byMechanism.set(mechanism, credential)
  }

  /** A copy (the credentials themselves are never changed in place). */
  clone(): ScramCredentialStore {
    const copy = new ScramCredentialStore()
    for (const [user, byMechanism] of this.users) copy.users.set(user, new Map(byMechanism))
    return copy
  }

  /** False when the user has no credential for the mechanism. */
  delete(user: string, mechanism: ScramMechanism): boolean {
    const byMechanism = this.users.get(user)
    if (byMechanism?.delete(mechanism) !== true) return false
    if (byMechanism.size === 0) this.users.delete(user)
    return true
  }
}

/** Salted credentials per user and mechanism, derived once (Kafka stores them like this in KRaft). */
export class ScramCredentialCache {
  private readonly cache = new Map<string, ScramCredential>()

  get(mechanism: SaslMechanism, user: string, password: string): ScramCredential {
    const key = `${mechanism}\u0000${user}\u0000${password}`
    let c = this.cache.get(key)
    if (c === undefined) {
      const hash = mechanism === 'SCRAM-SHA-512' ? 'sha512' : 'sha256'
      const salt = randomBytes(16)
      const iterations = 4096
      const salted = pbkdf2Sync(password, salt, iterations, hash === 'sha512' ? 64 : 32, hash)
      c = scramCredential(mechanism as ScramMechanism, salt, iterations, salted)
      this.cache.set(key, c)
    }
    return c
  }
}

class ScramExchange implements SaslExchange {
  principal: string | undefined
  complete = false
  private state: 'first' | 'final' = 'first'
  private clientFirstBare = ''
  private serverFirst = ''
  private nonce = ''
  private gs2Header = ''
  private credential: ScramCredential | undefined
  private readonly hash: 'sha256' | 'sha512'

  constructor(
    readonly mechanism: SaslMechanism,
    private readonly users: Record<string, string>,
    private readonly credentials: ScramCredentialCache,
    private readonly stored: ScramCredentialStore,
  ) {
    this.hash = mechanism === 'SCRAM-SHA-512' ? 'sha512' : 'sha256'
  }

  evaluate(token: Buffer): Buffer {
    const text = token.toString('utf8')
    if (this.state === 'first') return this.first(text)
    return this.final(text)
  }

  private first(text: string): Buffer {
    // gs2-header: "n,," or "n,a=authzid," (channel binding is not supported: "y" or "p" fail).
    const m = /^([ny]),(a=[^,]*)?,(.*)$/.exec(text)
    if (m === null) throw new SaslAuthenticationError('Invalid SCRAM client first message')
    this.gs2Header = `${m[1]},${m[2] ?? ''},`
    this.clientFirstBare = m[3]!
    const attrs = parseAttributes(this.clientFirstBare)
    const user = attrs.get('n')
    const clientNonce = attrs.get('r')
    if (user === undefined || clientNonce === undefined || clientNonce === '')
      throw new SaslAuthenticationError('Invalid SCRAM client first message')
    const username = user.replace(/=2C/g, ',').replace(/=3D/g, '=')
    const authzid = m[2]?.slice(2)
    if (authzid !== undefined && authzid !== '' && authzid !== username) {
      throw new SaslAuthenticationError(
        'Authentication failed: Client requested an authorization id that is different from username',
      )
    }
    const password = Object.hasOwn(this.users, username) ? this.users[username] : undefined
    const credential =
      this.stored.get(this.mechanism, username) ??
      (password !== undefined ? this.credentials.get(this.mechanism, username, password) : undefined)
    if (credential === undefined)
      throw new SaslAuthenticationError(
        `Authentication failed during authentication due to invalid credentials with SASL mechanism ${this.mechanism}`,
      )
    this.credential = credential
    this.principal = username
    this.nonce = clientNonce + randomBytes(18).toString('base64')
    this.serverFirst = `r=${this.nonce},s=${this.credential.salt.toString('base64')},i=${this.credential.iterations}`
    this.state = 'final'
    return Buffer.from(this.serverFirst)
  }

  private final(text: string): Buffer {
    const credential = this.credential!
    const proofAt = text.lastIndexOf(',p=')
    if (proofAt < 0) throw new SaslAuthenticationError('Invalid SCRAM client final message')
    const withoutProof = text.slice(0, proofAt)
    const attrs = parseAttributes(withoutProof)
    // Kafka only checks that the client's nonce ends with the server's (ScramSaslServer), which
    // librdkafka relies on: it sends its own nonce again in front of the combined one.
    if (!(attrs.get('r') ?? '').endsWith(this.nonce))
      throw new SaslAuthenticationError('Invalid client nonce in the final client message.')
    if (attrs.get('c') !== Buffer.from(this.gs2Header).toString('base64'))
      throw new SaslAuthenticationError('Invalid SCRAM client final message: channel binding mismatch')
    const proof = Buffer.from(text.slice(proofAt + 3), 'base64')
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`
    const clientSignature = hmac(this.hash, credential.storedKey, authMessage)
    if (proof.length !== clientSignature.length) throw this.invalid()
    const clientKey = Buffer.alloc(proof.length)
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i]! ^ clientSignature[i]!
    if (!safeEqual(createHash(this.hash).update(clientKey).digest(), credential.storedKey)) throw this.invalid()
    this.complete = true
    return Buffer.from(`v=${hmac(this.hash, credential.serverKey, authMessage).toString('base64')}`)
  }

  private invalid(): SaslAuthenticationError {
    return new SaslAuthenticationError(
      `Authentication failed during authentication due to invalid credentials with SASL mechanism ${this.mechanism}`,
    )
  }
}

function parseAttributes(text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const part of text.split(',')) {
    const eq = part.indexOf('=')
    if (eq === 1) out.set(part[0]!, part.slice(2))
  }
  return out
}

function hmac(hash: string, key: Buffer, data: string): Buffer {
  return createHmac(hash, key).update(data).digest()
}

function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}
