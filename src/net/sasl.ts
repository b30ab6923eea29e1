// SASL authentication over Kafka's SaslHandshake v1 + SaslAuthenticate (KIP-152): PLAIN,
// SCRAM-SHA-256/512 (RFC 5802 / RFC 7677, with the server signature verified so a man in the
// middle cannot pretend to have accepted us) and OAUTHBEARER (RFC 7628, token from a callback).

import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto'
import { ConfigError } from '../errors.js'
import { ErrorCode } from '../protocol/error-codes.js'
import { SaslAuthenticate, SaslHandshake } from '../protocol/messages/index.js'
import type { Connection } from './connection.js'
import { SaslAuthenticationError } from './errors.js'
import type { ApiVersionTable } from './versions.js'

export interface SaslPlainConfig {
  mechanism: 'plain'
  username: string
  password: string
  /** Authorization identity (authzid); empty to act as `username`. */
  authorizationIdentity?: string
}

export interface SaslScramConfig {
  mechanism: 'scram-sha-256' | 'scram-sha-512'
  username: string
  password: string
}

export interface OAuthBearerToken {
  /** The bearer token (a JWT, usually). */
  value: string
  /** SASL extensions sent with the token (KIP-342), e.g. { logicalCluster: 'lkc-1' }. */
  extensions?: Record<string, string>
}

export interface SaslOAuthBearerConfig {
  mechanism: 'oauthbearer'
  /** Called for every new connection, so a refreshed token is used once the old one expires. */
  token: () => OAuthBearerToken | string | Promise<OAuthBearerToken | string>
}

export type SaslConfig = SaslPlainConfig | SaslScramConfig | SaslOAuthBearerConfig

const MECHANISM_NAMES = {
  plain: 'PLAIN',
  'scram-sha-256': 'SCRAM-SHA-256',
  'scram-sha-512': 'SCRAM-SHA-512',
  oauthbearer: 'OAUTHBEARER',
} as const

/** Checks a SASL config once, at construction, so a typo fails early with the option named. */
export function validateSaslConfig(sasl: unknown, option = 'sasl'): asserts sasl is SaslConfig {
  if (typeof sasl !== 'object' || sasl === null) throw new ConfigError(option, 'must be an object with a mechanism')
  const config = sasl as Record<string, unknown>
  const mechanism = config.mechanism
  if (typeof mechanism !== 'string' || !(mechanism in MECHANISM_NAMES)) {
    throw new ConfigError(
      `${option}.mechanism`,
      `must be one of ${Object.keys(MECHANISM_NAMES).join(', ')}; got ${String(mechanism)}`,
    )
  }
  if (mechanism === 'oauthbearer') {
    if (typeof config.token !== 'function')
      throw new ConfigError(`${option}.token`, 'must be a function returning the bearer token')
    return
  }
  if (typeof config.username !== 'string' || config.username === '')
    throw new ConfigError(`${option}.username`, 'must be a non-empty string')
  if (typeof config.password !== 'string') throw new ConfigError(`${option}.password`, 'must be a string')
}

/** One SASL mechanism as a client state machine: bytes to send, given what the server said last. */
interface Mechanism {
  /** The next message to send (`challenge` is null for the first), or null when done. */
  step(challenge: Buffer | null): Promise<Buffer | null>
}

/**
 * Authenticates `connection` (already version-negotiated). Throws SaslAuthenticationError with
 * the broker's message on failure. Sets `connection.sessionExpiresAt` when the broker limits the
 * session (KIP-368), so the pool replaces the connection before the broker drops it.
 */
export async function authenticate(
  connection: Connection,
  versions: ApiVersionTable,
  sasl: SaslConfig,
  signal?: AbortSignal,
): Promise<void> {
  const name = MECHANISM_NAMES[sasl.mechanism]
  const broker = connection.address
  const handshake = await connection.send(SaslHandshake, versions.pick(SaslHandshake), { mechanism: name }, { signal })
  if (handshake.errorCode !== ErrorCode.NONE) {
    const offered = handshake.mechanisms.join(', ') || 'none'
    throw new SaslAuthenticationError(`the broker does not accept SASL mechanism ${name} (it offers: ${offered})`, {
      broker,
    })
  }
  const version = versions.pick(SaslAuthenticate)
  const mechanism = createMechanism(sasl)
  let challenge: Buffer | null = null
  for (let round = 0; round < 10; round++) {
    let message: Buffer | null
    try {
      message = await mechanism.step(challenge)
    } catch (err) {
      if (err instanceof SaslAuthenticationError) throw err
      throw new SaslAuthenticationError(`${name}: ${err instanceof Error ? err.message : String(err)}`, {
        broker,
        cause: err,
      })
    }
    if (message === null) return
    const response = await connection.send(SaslAuthenticate, version, { authBytes: message }, { signal })
    if (response.errorCode !== ErrorCode.NONE) {
      const detail = response.errorMessage ?? `error code ${response.errorCode}`
      throw new SaslAuthenticationError(`${name} authentication failed: ${detail}`, { broker })
    }
    if (response.sessionLifetimeMs > 0n) connection.sessionExpiresAt = Date.now() + Number(response.sessionLifetimeMs)
    challenge = response.authBytes
  }
  throw new SaslAuthenticationError(`${name}: too many rounds`, { broker })
}

function createMechanism(sasl: SaslConfig): Mechanism {
  switch (sasl.mechanism) {
    case 'plain':
      return plainMechanism(sasl)
    case 'scram-sha-256':
    case 'scram-sha-512':
      return scramMechanism(
        new ScramClient(sasl.mechanism === 'scram-sha-256' ? 'sha256' : 'sha512', sasl.username, sasl.password),
      )
    case 'oauthbearer':
      return oauthBearerMechanism(sasl)
  }
}

function plainMechanism(sasl: SaslPlainConfig): Mechanism {
  let sent = false
  return {
    async step() {
      if (sent) return null
      sent = true
      // RFC 4616: authzid NUL authcid NUL passwd
      return Buffer.from(`${sasl.authorizationIdentity ?? ''}\0${sasl.username}\0${sasl.password}`, 'utf8')
    },
  }
}

function oauthBearerMechanism(sasl: SaslOAuthBearerConfig): Mechanism {
  let sent = false
  return {
    async step() {
      if (sent) return null
      sent = true
      const raw = await sasl.token()
      const token = typeof raw === 'string' ? { value: raw } : raw
      if (typeof token?.value !== 'string' || token.value === '')
        throw new Error('the token callback returned no token')
      return Buffer.from(oauthBearerInitialResponse(token), 'utf8')
    },
  }
}

/** RFC 7628 initial client response: GS2 header, then kvpairs separated by ^A. */
export function oauthBearerInitialResponse(token: OAuthBearerToken): string {
  let kvpairs = `auth=Bearer ${token.value}\x01`
  for (const [key, value] of Object.entries(token.extensions ?? {})) {
    if (key === 'auth' || !/^[A-Za-z]+$/.test(key)) throw new Error(`invalid SASL extension name '${key}'`)
    kvpairs += `${key}=${value}\x01`
  }
  return `n,,\x01${kvpairs}\x01`
}

function scramMechanism(client: ScramClient): Mechanism {
  let round = 0
  return {
    async step(challenge) {
      round++
      if (round === 1) return Buffer.from(client.clientFirstMessage(), 'utf8')
      if (round === 2) return Buffer.from(await client.clientFinalMessage(challenge!.toString('utf8')), 'utf8')
      client.verifyServerFinal(challenge!.toString('utf8'))
      return null
    },
  }
}

// --- SCRAM (RFC 5802) -----------------------------------------------------------------------------

/** Kafka's minimum (ScramMechanism.minIterations); fewer means a weak or forged server-first message. */
const SCRAM_MIN_ITERATIONS = 4096

/** A SCRAM client conversation; the nonce can be fixed for tests against the RFC vectors. */
export class ScramClient {
  readonly #hash: 'sha256' | 'sha512'
  readonly #username: string
  readonly #password: string
  readonly #clientNonce: string
  #clientFirstBare = ''
  #expectedServerSignature: Buffer | null = null

  constructor(
    hash: 'sha256' | 'sha512',
    username: string,
    password: string,
    clientNonce = randomBytes(24).toString('base64'),
  ) {
    this.#hash = hash
    this.#username = username
    this.#password = password
    this.#clientNonce = clientNonce
  }

  /** `n,,n=<user>,r=<nonce>`: no channel binding, no authzid. */
  clientFirstMessage(): string {
    this.#clientFirstBare = `n=${saslName(this.#username)},r=${this.#clientNonce}`
    return `n,,${this.#clientFirstBare}`
  }

  /** Answers the server-first message with the proof; remembers the server signature to expect. */
  async clientFinalMessage(serverFirst: string): Promise<string> {
    const attributes = parseScramAttributes(serverFirst)
    if (attributes.has('e')) throw new SaslAuthenticationError(`SCRAM: the server refused: ${attributes.get('e')}`)
    const nonce = attributes.get('r')
    const salt = attributes.get('s')
    const iterations = Number(attributes.get('i'))
    if (nonce === undefined || salt === undefined || !Number.isInteger(iterations)) {
      throw new SaslAuthenticationError('SCRAM: malformed server-first message')
    }
    if (!nonce.startsWith(this.#clientNonce) || nonce.length === this.#clientNonce.length) {
      throw new SaslAuthenticationError('SCRAM: the server nonce does not extend the client nonce')
    }
    if (iterations < SCRAM_MIN_ITERATIONS) {
      throw new SaslAuthenticationError(
        `SCRAM: ${iterations} iterations is below the minimum of ${SCRAM_MIN_ITERATIONS}`,
      )
    }
    const saltedPassword = await pbkdf2Async(this.#password, Buffer.from(salt, 'base64'), iterations, this.#hash)
    const clientKey = hmac(this.#hash, saltedPassword, 'Client Key')
    const storedKey = createHash(this.#hash).update(clientKey).digest()
    const clientFinalWithoutProof = `c=biws,r=${nonce}` // biws = base64("n,,")
    const authMessage = `${this.#clientFirstBare},${serverFirst},${clientFinalWithoutProof}`
    const clientSignature = hmac(this.#hash, storedKey, authMessage)
    const proof = Buffer.alloc(clientKey.length)
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ clientSignature[i]!
    const serverKey = hmac(this.#hash, saltedPassword, 'Server Key')
    this.#expectedServerSignature = hmac(this.#hash, serverKey, authMessage)
    return `${clientFinalWithoutProof},p=${proof.toString('base64')}`
  }

  /** Checks the server's signature: only a server that knows the password's keys can produce it. */
  verifyServerFinal(serverFinal: string): void {
    const attributes = parseScramAttributes(serverFinal)
    if (attributes.has('e')) throw new SaslAuthenticationError(`SCRAM: the server refused: ${attributes.get('e')}`)
    const signature = attributes.get('v')
    const expected = this.#expectedServerSignature
    if (signature === undefined || expected === null)
      throw new SaslAuthenticationError('SCRAM: malformed server-final message')
    const actual = Buffer.from(signature, 'base64')
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
      throw new SaslAuthenticationError(
        'SCRAM: the server signature does not match; the server may not be who it claims',
      )
    }
  }
}

/** RFC 5802 saslname: '=' → '=3D', ',' → '=2C'. */
function saslName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C')
}

function parseScramAttributes(message: string): Map<string, string> {
  const attributes = new Map<string, string>()
  for (const part of message.split(',')) {
    const eq = part.indexOf('=')
    if (eq !== 1) continue // attributes are one letter; anything else is an extension we ignore
    attributes.set(part[0]!, part.slice(2))
  }
  return attributes
}

function hmac(hash: string, key: Buffer, data: string): Buffer {
  return createHmac(hash, key).update(data, 'utf8').digest()
}

function pbkdf2Async(password: string, salt: Buffer, iterations: number, hash: 'sha256' | 'sha512'): Promise<Buffer> {
  const keyLength = hash === 'sha256' ? 32 : 64
  return new Promise((resolve, reject) =>
    pbkdf2(password, salt, iterations, keyLength, hash, (err, key) => (err ? reject(err) : resolve(key))),
  )
}
