// The client commands' shared pieces, in process: where the bootstrap list and credentials come
// from (flags, then the environment), bad flag values as UsageError naming
// the flag (exit 2), JSON that keeps 64-bit values exact, and aligned tables.

import { afterEach, describe, expect, it, vi } from 'vitest'
import { UsageError } from '../../src/cli/args.js'
import {
  ENV,
  clientConfig,
  keyValues,
  optionalInt,
  parseCommand,
  table,
  toJson,
  CONNECTION_FLAGS,
} from '../../src/cli/common.js'

afterEach(() => {
  vi.unstubAllEnvs()
})

describe('clientConfig', () => {
  it('takes --bootstrap, else the environment, else 127.0.0.1:9092', () => {
    vi.stubEnv(ENV.bootstrap, 'a:1,b:2')
    expect(clientConfig({ bootstrap: 'c:3' }).brokers).toBe('c:3')
    expect(clientConfig({}).brokers).toBe('a:1,b:2')
    vi.stubEnv(ENV.bootstrap, undefined)
    expect(clientConfig({}).brokers).toBe('127.0.0.1:9092')
  })

  it('builds SASL from the flags, the password from KAFKA_SASL_PASSWORD when not given', () => {
    vi.stubEnv(ENV.saslPassword, 'from-env')
    expect(clientConfig({ 'sasl-mechanism': 'SCRAM-SHA-512', 'sasl-username': 'u' }).sasl).toEqual({
      mechanism: 'scram-sha-512',
      username: 'u',
      password: 'from-env',
    })
    expect(() => clientConfig({ 'sasl-mechanism': 'gssapi', 'sasl-username': 'u' })).toThrow(UsageError)
    expect(() => clientConfig({ 'sasl-mechanism': 'plain' })).toThrow(/--sasl-username: required/)
    vi.stubEnv(ENV.saslPassword, undefined)
    expect(() => clientConfig({ 'sasl-mechanism': 'plain', 'sasl-username': 'u' })).toThrow(/--sasl-password: required/)
  })

  it('reads TLS files, and names the flag when one cannot be read or half a key pair is given', () => {
    expect(clientConfig({ tls: true }).tls).toEqual({})
    expect(clientConfig({ 'tls-ca': 'package.json' }).tls).toMatchObject({ ca: expect.stringContaining('"name"') })
    expect(() => clientConfig({ 'tls-ca': '/nonexistent/ca.pem' })).toThrow(/--tls-ca: cannot read/)
    expect(() => clientConfig({ 'tls-cert': 'package.json' })).toThrow(/--tls-cert: needs --tls-key/)
  })
})

describe('flag values', () => {
  it('turns parse failures and bad values into UsageError naming the flag', () => {
    expect(() => parseCommand(['--nope'], CONNECTION_FLAGS)).toThrow(/--nope: unknown flag/)
    expect(() => parseCommand(['--bootstrap'], CONNECTION_FLAGS)).toThrow(UsageError)
    expect(parseCommand(['orders', '-b', 'x:1', '--json'], CONNECTION_FLAGS)).toEqual({
      values: { bootstrap: 'x:1', json: true },
      positionals: ['orders'],
    })
    expect(() => keyValues('--config', ['retention.ms'])).toThrow(/--config: expected key=value/)
    expect(keyValues('--config', ['a=b=c', 'x='])).toEqual({ a: 'b=c', x: '' })
    expect(() => optionalInt('--partitions', 'three', 1)).toThrow(/--partitions: must be an integer/)
    expect(() => optionalInt('--partitions', '0', 1)).toThrow(UsageError)
    expect(optionalInt('--partitions', undefined, 1)).toBeUndefined()
  })
})

describe('output', () => {
  it('writes bigints as numbers when exact and as strings beyond 2^53', () => {
    expect(toJson({ offset: 42n, producerId: 9007199254740993n })).toBe('{"offset":42,"producerId":"9007199254740993"}')
  })

  it('aligns columns and shows missing values as -', () => {
    const lines: string[] = []
    table(
      { line: (t) => void lines.push(t), write: () => {} },
      ['TOPIC', 'LAG'],
      [
        ['orders', 5n],
        ['a', null],
      ],
    )
    expect(lines).toEqual(['TOPIC   LAG', 'orders  5', 'a       -'])
  })
})
