// SASL (PLAIN, SCRAM-SHA-256/512; SaslHandshake v0 raw tokens and v1 SaslAuthenticate) and TLS
// listeners, over the raw protocol and with kcat and KafkaJS.

import { execFileSync } from 'node:child_process'
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import { Kafka, logLevel } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { ApiVersions } from '../../src/protocol/messages/api-versions.js'
import { Metadata } from '../../src/protocol/messages/metadata.js'
import { SaslAuthenticate } from '../../src/protocol/messages/sasl-authenticate.js'
import { SaslHandshake } from '../../src/protocol/messages/sasl-handshake.js'
import { peer } from '../helpers/peers.js'
import { run, TestClient, waitFor } from './helpers.js'

const USERS = { alice: 'alice-secret', bob: 'b0b' }

/** The client side of SCRAM (RFC 5802), enough to test the broker. */
function scramClient(mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512', user: string, password: string) {
  const hash = mechanism === 'SCRAM-SHA-512' ? 'sha512' : 'sha256'
  const nonce = randomBytes(12).toString('base64')
  const first = `n=${user},r=${nonce}`
  return {
    first: Buffer.from(`n,,${first}`),
    final(serverFirst: string): { message: Buffer; expectedServer: string } {
      const attrs = new Map(serverFirst.split(',').map((p) => [p[0]!, p.slice(2)]))
      const salted = pbkdf2Sync(
        password,
        Buffer.from(attrs.get('s')!, 'base64'),
        Number(attrs.get('i')),
        hash === 'sha512' ? 64 : 32,
        hash,
      )
      const clientKey = createHmac(hash, salted).update('Client Key').digest()
      const storedKey = createHash(hash).update(clientKey).digest()
      const withoutProof = `c=biws,r=${attrs.get('r')}`
      const authMessage = `${first},${serverFirst},${withoutProof}`
      const signature = createHmac(hash, storedKey).update(authMessage).digest()
      const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!))
      const serverKey = createHmac(hash, salted).update('Server Key').digest()
      return {
        message: Buffer.from(`${withoutProof},p=${proof.toString('base64')}`),
        expectedServer: `v=${createHmac(hash, serverKey).update(authMessage).digest('base64')}`,
      }
    },
  }
}

describe('SASL', () => {
  let cluster: Cluster
  beforeAll(async () => {
    cluster = await Cluster.start({ sasl: { users: USERS }, groupInitialRebalanceDelayMs: 0 })
  })
  afterAll(async () => {
    await cluster.stop()
  })

  it('PLAIN over SaslAuthenticate (handshake v1)', async () => {
    const c = await TestClient.connect(cluster.bootstrapServers[0]!)
    expect((await c.send(ApiVersions, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' })).errorCode).toBe(0)
    const hs = await c.send(SaslHandshake, 1, { mechanism: 'PLAIN' })
    expect(hs).toMatchObject({ errorCode: 0, mechanisms: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] })
    const auth = await c.send(SaslAuthenticate, 2, { authBytes: Buffer.from('\u0000alice\u0000alice-secret') })
    expect(auth.errorCode).toBe(0)
    expect((await c.send(Metadata, 12, { topics: null })).brokers).toHaveLength(1)
    // Authenticated already: another handshake is an illegal state.
    expect((await c.send(SaslHandshake, 1, { mechanism: 'PLAIN' })).errorCode).toBe(ErrorCode.ILLEGAL_SASL_STATE)
    c.close()
  })

  it('closes connections that skip authentication, fail it, or ask for an unknown mechanism', async () => {
    const early = await TestClient.connect(cluster.bootstrapServers[0]!)
    await expect(early.send(Metadata, 12, { topics: null })).rejects.toThrow('connection closed')
    const bad = await TestClient.connect(cluster.bootstrapServers[0]!)
    await bad.send(SaslHandshake, 1, { mechanism: 'PLAIN' })
    const failed = await bad.send(SaslAuthenticate, 1, { authBytes: Buffer.from('\u0000alice\u0000wrong') })
    expect(failed).toMatchObject({
      errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED,
      errorMessage: 'Authentication failed: Invalid username or password',
    })
    await bad.closed
    const unknown = await TestClient.connect(cluster.bootstrapServers[0]!)
    const hs = await unknown.send(SaslHandshake, 1, { mechanism: 'GSSAPI' })
    expect(hs.errorCode).toBe(ErrorCode.UNSUPPORTED_SASL_MECHANISM)
    await unknown.closed
  })

  it('PLAIN with raw tokens after SaslHandshake v0', async () => {
    const c = await TestClient.connect(cluster.bootstrapServers[0]!)
    expect((await c.send(SaslHandshake, 0, { mechanism: 'PLAIN' })).errorCode).toBe(0)
    const token = Buffer.from('\u0000bob\u0000b0b')
    const frame = Buffer.alloc(4 + token.length)
    frame.writeInt32BE(token.length)
    token.copy(frame, 4)
    c.writeRaw(frame)
    await waitFor(() => c.unexpected.length === 1, 5000, 'the raw SASL reply')
    expect(c.unexpected[0]!.length).toBe(0)
    // Kafka framing resumes after the raw exchange, authenticated.
    expect((await c.send(Metadata, 12, { topics: null })).brokers).toHaveLength(1)
    c.close()
  })

  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
    it(`${mechanism}: a correct proof authenticates and the server signature checks out; a wrong one fails`, async () => {
      const c = await TestClient.connect(cluster.bootstrapServers[0]!)
      await c.send(SaslHandshake, 1, { mechanism })
      const client = scramClient(mechanism, 'alice', 'alice-secret')
      const first = await c.send(SaslAuthenticate, 2, { authBytes: client.first })
      expect(first.errorCode).toBe(0)
      const { message, expectedServer } = client.final(first.authBytes.toString())
      const final = await c.send(SaslAuthenticate, 2, { authBytes: message })
      expect(final.errorCode).toBe(0)
      expect(final.authBytes.toString()).toBe(expectedServer)
      expect((await c.send(Metadata, 12, { topics: null })).brokers).toHaveLength(1)
      c.close()

      const w = await TestClient.connect(cluster.bootstrapServers[0]!)
      await w.send(SaslHandshake, 1, { mechanism })
      const wrong = scramClient(mechanism, 'alice', 'not-it')
      const f1 = await w.send(SaslAuthenticate, 2, { authBytes: wrong.first })
      const f2 = await w.send(SaslAuthenticate, 2, { authBytes: wrong.final(f1.authBytes.toString()).message })
      expect(f2.errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED)
      await w.closed
    })
  }

  for (const mechanism of ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']) {
    it(`kcat authenticates with ${mechanism}`, async () => {
      const b = cluster.bootstrapServers.join(',')
      const sasl = [
        '-X',
        'security.protocol=SASL_PLAINTEXT',
        '-X',
        `sasl.mechanisms=${mechanism}`,
        '-X',
        'sasl.username=alice',
        '-X',
        'sasl.password=alice-secret',
      ]
      const topic = `sasl-${mechanism.toLowerCase()}`
      const p = await run(peer('kcat'), ['-b', b, ...sasl, '-P', '-t', topic], {
        timeoutMs: 30_000,
        input: 'one\ntwo\n',
      })
      expect(p.code, p.stderr).toBe(0)
      const c = await run(peer('kcat'), ['-b', b, ...sasl, '-C', '-t', topic, '-e', '-o', 'beginning', '-q'], {
        timeoutMs: 30_000,
      })
      expect(c.stdout.trim().split('\n')).toEqual(['one', 'two'])
      const bad = await run(
        peer('kcat'),
        [
          '-b',
          b,
          '-X',
          'security.protocol=SASL_PLAINTEXT',
          '-X',
          `sasl.mechanisms=${mechanism}`,
          '-X',
          'sasl.username=alice',
          '-X',
          'sasl.password=nope',
          '-L',
          '-m',
          '3',
        ],
        { timeoutMs: 30_000 },
      )
      expect(bad.code).not.toBe(0)
    })
  }

  it('KafkaJS authenticates with PLAIN and SCRAM-SHA-256', async () => {
    for (const mechanism of ['plain', 'scram-sha-256'] as const) {
      const kafka = new Kafka({
        brokers: cluster.bootstrapServers,
        logLevel: logLevel.NOTHING,
        sasl:
          mechanism === 'plain'
            ? { mechanism, username: 'bob', password: 'b0b' }
            : { mechanism, username: 'bob', password: 'b0b' },
        retry: { retries: 3 },
      })
      const admin = kafka.admin()
      await admin.connect()
      await admin.createTopics({ topics: [{ topic: `kjs-sasl-${mechanism}`, numPartitions: 1 }] })
      expect(await admin.listTopics()).toContain(`kjs-sasl-${mechanism}`)
      await admin.disconnect()
    }
  })
})

describe('TLS listeners', () => {
  let cluster: Cluster
  let dir: string
  let cert: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kafkats-tls-'))
    execFileSync(
      peer('openssl'),
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore', timeout: 30_000 },
    )
    cert = await readFile(join(dir, 'cert.pem'), 'utf8')
    cluster = await Cluster.start({ brokers: 2, tls: { key: await readFile(join(dir, 'key.pem')), cert } })
  })
  afterAll(async () => {
    await cluster.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('serves the protocol over TLS; a plaintext client is dropped without harm', async () => {
    const [host, port] = cluster.bootstrapServers[0]!.split(':')
    const socket = tlsConnect({ host: host!, port: Number(port), ca: cert })
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => resolve())
      socket.once('error', reject)
    })
    socket.destroy()
    const plain = await TestClient.connect(cluster.bootstrapServers[0]!)
    plain.writeRaw(Buffer.from([0, 0, 0, 8, 0, 18, 0, 0, 0, 0, 0, 1]))
    await plain.closed
  })

  it('kcat and KafkaJS produce and consume over TLS', async () => {
    const caFile = join(dir, 'cert.pem')
    const b = cluster.bootstrapServers.join(',')
    const ssl = ['-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${caFile}`]
    const p = await run(peer('kcat'), ['-b', b, ...ssl, '-P', '-t', 'tls-topic'], {
      timeoutMs: 30_000,
      input: 'secure\n',
    })
    expect(p.code, p.stderr).toBe(0)
    const c = await run(peer('kcat'), ['-b', b, ...ssl, '-C', '-t', 'tls-topic', '-e', '-o', 'beginning', '-q'], {
      timeoutMs: 30_000,
    })
    expect(c.stdout.trim()).toBe('secure')
    const kafka = new Kafka({ brokers: cluster.bootstrapServers, ssl: { ca: [cert] }, logLevel: logLevel.NOTHING })
    const admin = kafka.admin()
    await admin.connect()
    expect(await admin.listTopics()).toContain('tls-topic')
    await admin.disconnect()
  })
})
