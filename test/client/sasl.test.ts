import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/errors.js'
import { Connection } from '../../src/net/connection.js'
import { SaslAuthenticationError } from '../../src/net/errors.js'
import {
  authenticate,
  oauthBearerInitialResponse,
  ScramClient,
  validateSaslConfig,
  type SaslConfig,
} from '../../src/net/sasl.js'
import { negotiateApiVersions } from '../../src/net/versions.js'
import { FakeBroker, type ReceivedRequest } from './fake-broker.js'

describe('SCRAM client', () => {
  it('matches the RFC 7677 SCRAM-SHA-256 test vector and verifies the server signature', async () => {
    const client = new ScramClient('sha256', 'user', 'pencil', 'rOprNGfwEbeRWgbNEkqO')
    expect(client.clientFirstMessage()).toBe('n,,n=user,r=rOprNGfwEbeRWgbNEkqO')
    const serverFirst = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'
    expect(await client.clientFinalMessage(serverFirst)).toBe(
      'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
    )
    expect(() => client.verifyServerFinal('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')).not.toThrow()
  })

  it('rejects a forged server signature', async () => {
    const client = new ScramClient('sha256', 'user', 'pencil', 'rOprNGfwEbeRWgbNEkqO')
    client.clientFirstMessage()
    await client.clientFinalMessage(
      'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
    )
    expect(() => client.verifyServerFinal('v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')).toThrow(
      SaslAuthenticationError,
    )
    expect(() => client.verifyServerFinal('e=invalid-proof')).toThrow(/refused: invalid-proof/)
  })

  it('rejects a server nonce that does not extend ours, and too few iterations', async () => {
    const a = new ScramClient('sha256', 'user', 'pencil', 'abc')
    a.clientFirstMessage()
    await expect(a.clientFinalMessage('r=xyz123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096')).rejects.toThrow(/nonce/)
    const b = new ScramClient('sha256', 'user', 'pencil', 'abc')
    b.clientFirstMessage()
    await expect(b.clientFinalMessage('r=abc123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1000')).rejects.toThrow(/iterations/)
  })

  it('escapes = and , in the user name (RFC 5802 saslname)', () => {
    expect(new ScramClient('sha512', 'a=b,c', 'p', 'n').clientFirstMessage()).toBe('n,,n=a=3Db=2Cc,r=n')
  })
})

describe('OAUTHBEARER and PLAIN messages', () => {
  it('builds the RFC 7628 initial response with extensions', () => {
    expect(oauthBearerInitialResponse({ value: 'tok', extensions: { traceId: '42' } })).toBe(
      'n,,\x01auth=Bearer tok\x01traceId=42\x01\x01',
    )
    expect(() => oauthBearerInitialResponse({ value: 'tok', extensions: { auth: 'x' } })).toThrow()
  })

  it('validates SASL configs with the option named', () => {
    expect(() => validateSaslConfig({ mechanism: 'scram-sha-1' })).toThrow(ConfigError)
    expect(() => validateSaslConfig({ mechanism: 'plain', username: '', password: 'x' })).toThrow(/sasl.username/)
    expect(() => validateSaslConfig({ mechanism: 'oauthbearer' })).toThrow(/sasl.token/)
    expect(() => validateSaslConfig({ mechanism: 'scram-sha-512', username: 'u', password: 'p' })).not.toThrow()
  })
})

/** A broker-side SCRAM/PLAIN/OAUTHBEARER implementation for the handshake tests. */
function saslBroker(users: Record<string, string>, options: { forgeSignature?: boolean; lifetimeMs?: bigint } = {}) {
  const sessions = new Map<
    unknown,
    {
      mechanism: string
      state?: { authMessage: string; saltedPassword: Buffer; hash: string; serverFirst: string; bare: string }
    }
  >()
  return (r: ReceivedRequest): unknown => {
    if (r.api.name === 'SaslHandshake') {
      const mechanism = r.body.mechanism as string
      const enabled = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER']
      sessions.set(r.socket, { mechanism })
      return { errorCode: enabled.includes(mechanism) ? 0 : 33, mechanisms: enabled }
    }
    if (r.api.name !== 'SaslAuthenticate') return undefined
    const session = sessions.get(r.socket)!
    const text = (r.body.authBytes as Buffer).toString('utf8')
    const fail = (msg: string) => ({
      errorCode: 58,
      errorMessage: msg,
      authBytes: Buffer.alloc(0),
      sessionLifetimeMs: 0n,
    })
    const ok = (bytes: string) => ({
      errorCode: 0,
      errorMessage: null,
      authBytes: Buffer.from(bytes),
      sessionLifetimeMs: options.lifetimeMs ?? 0n,
    })
    if (session.mechanism === 'PLAIN') {
      const [, user, pass] = text.split('\0')
      return users[user!] === pass ? ok('') : fail('Authentication failed: Invalid username or password')
    }
    if (session.mechanism === 'OAUTHBEARER')
      return text.includes('auth=Bearer good-token') ? ok('') : fail('invalid token')
    const hash = session.mechanism === 'SCRAM-SHA-256' ? 'sha256' : 'sha512'
    if (session.state === undefined) {
      const bare = text.slice(3)
      const user = /n=([^,]*)/.exec(bare)![1]!
      const nonce = /r=([^,]*)/.exec(bare)![1]!
      const password = users[user]
      if (password === undefined) return fail('unknown user')
      const salt = randomBytes(16)
      const saltedPassword = pbkdf2Sync(password, salt, 4096, hash === 'sha256' ? 32 : 64, hash)
      const serverFirst = `r=${nonce}srv${randomBytes(6).toString('hex')},s=${salt.toString('base64')},i=4096`
      session.state = { authMessage: '', saltedPassword, hash, serverFirst, bare }
      return ok(serverFirst)
    }
    const st = session.state
    const withoutProof = text.slice(0, text.indexOf(',p='))
    const proof = Buffer.from(text.slice(text.indexOf(',p=') + 3), 'base64')
    const authMessage = `${st.bare},${st.serverFirst},${withoutProof}`
    const clientKey = createHmac(hash, st.saltedPassword).update('Client Key').digest()
    const storedKey = createHash(hash).update(clientKey).digest()
    const signature = createHmac(hash, storedKey).update(authMessage).digest()
    const recovered = Buffer.from(proof.map((b, i) => b ^ signature[i]!))
    if (!createHash(hash).update(recovered).digest().equals(storedKey))
      return fail(
        'Authentication failed during authentication due to invalid credentials with SASL mechanism ' +
          session.mechanism,
      )
    const serverKey = createHmac(hash, st.saltedPassword).update('Server Key').digest()
    let serverSignature = createHmac(hash, serverKey).update(authMessage).digest()
    if (options.forgeSignature === true) serverSignature = Buffer.alloc(serverSignature.length, 1)
    return ok(`v=${serverSignature.toString('base64')}`)
  }
}

describe('authenticate over SaslHandshake + SaslAuthenticate', () => {
  let broker: FakeBroker | undefined
  afterEach(async () => {
    await broker?.stop()
    broker = undefined
  })

  async function login(sasl: SaslConfig, options?: Parameters<typeof saslBroker>[1]): Promise<Connection> {
    broker ??= await FakeBroker.start(saslBroker({ alice: 'wonderland' }, options))
    const c = await Connection.connect({ host: '127.0.0.1', port: broker.port, clientId: 'x' })
    try {
      await authenticate(c, await negotiateApiVersions(c), sasl)
      return c
    } catch (err) {
      c.destroy()
      throw err
    }
  }

  for (const mechanism of ['scram-sha-256', 'scram-sha-512', 'plain'] as const) {
    it(`logs in with ${mechanism} and rejects a wrong password`, async () => {
      const c = await login({ mechanism, username: 'alice', password: 'wonderland' })
      c.destroy()
      const err = await login({ mechanism, username: 'alice', password: 'nope' }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(SaslAuthenticationError)
      expect((err as Error).message).toMatch(/authentication failed/i)
    })
  }

  it('detects a SCRAM server that cannot prove it knows the password', async () => {
    const err = await login(
      { mechanism: 'scram-sha-256', username: 'alice', password: 'wonderland' },
      { forgeSignature: true },
    ).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SaslAuthenticationError)
    expect((err as Error).message).toMatch(/server signature/)
  })

  it('sends the OAUTHBEARER token from the callback', async () => {
    const c = await login({ mechanism: 'oauthbearer', token: async () => ({ value: 'good-token' }) })
    c.destroy()
    await expect(login({ mechanism: 'oauthbearer', token: () => 'bad-token' })).rejects.toBeInstanceOf(
      SaslAuthenticationError,
    )
  })

  it('records the session lifetime (KIP-368)', async () => {
    const c = await login({ mechanism: 'plain', username: 'alice', password: 'wonderland' }, { lifetimeMs: 60_000n })
    expect(c.sessionExpiresAt).toBeGreaterThan(Date.now() + 50_000)
    c.destroy()
  })
})
