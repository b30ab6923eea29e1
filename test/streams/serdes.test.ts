// The built-in serdes against the bytes Kafka's own serializers (kafka-clients 4.4.0) write: a
// tiny Java probe prints the hex for each input, and ours must match it byte for byte.

import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { KafkaTsError } from '../../src/errors.js'
import { Serdes, SerdeError, type Serde } from '../../src/streams/index.js'
import { javaClientClasspath, peer } from '../helpers/peers.js'

let dir: string
let classpath: string

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'serde-probe-'))
  classpath = javaClientClasspath()
  const javac = join(peer('java'), '..', 'javac')
  execFileSync(javac, ['-cp', classpath, '-d', dir, join(import.meta.dirname, 'java', 'SerdeProbe.java')])
}, 120_000)

afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** What Kafka's serializer writes for each `type:value`, as hex. */
function java(inputs: string[]): string[] {
  const out = execFileSync(peer('java'), ['-cp', `${dir}:${classpath}`, 'SerdeProbe', ...inputs], { encoding: 'utf8' })
  return out.replace(/\n$/, '').split('\n')
}

function hex<T>(serde: Serde<T>, value: T): string {
  return Buffer.from(serde.serialize(value)).toString('hex')
}

describe('serdes write what Kafka writes', () => {
  it('Long: 8-byte big-endian two complement', () => {
    const values = [0, 1, -1, 255, 256, 2 ** 31, -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]
    const expected = java(values.map((v) => `long:${v}`))
    expect(values.map((v) => hex(Serdes.Long, v))).toEqual(expected)
    for (const [i, v] of values.entries()) expect(Serdes.Long.deserialize(Buffer.from(expected[i]!, 'hex'))).toBe(v)
  }, 30_000)

  it('BigInt: the Long bytes over the whole int64 range', () => {
    const values = [9223372036854775807n, -9223372036854775808n, 42n]
    const expected = java(values.map((v) => `long:${v}`))
    expect(values.map((v) => hex(Serdes.BigInt, v))).toEqual(expected)
    for (const [i, v] of values.entries()) expect(Serdes.BigInt.deserialize(Buffer.from(expected[i]!, 'hex'))).toBe(v)
  }, 30_000)

  it('Integer: 4-byte big-endian', () => {
    const values = [0, 1, -1, 2147483647, -2147483648, 65536]
    const expected = java(values.map((v) => `int:${v}`))
    expect(values.map((v) => hex(Serdes.Integer, v))).toEqual(expected)
    for (const [i, v] of values.entries()) expect(Serdes.Integer.deserialize(Buffer.from(expected[i]!, 'hex'))).toBe(v)
  }, 30_000)

  it('Double: IEEE-754 big-endian, NaN and infinities as Java writes them', () => {
    const values = ['0.0', '-0.0', '1.5', '-3.141592653589793', '1.0E300', '4.9E-324', 'NaN', 'Infinity', '-Infinity']
    const expected = java(values.map((v) => `double:${v}`))
    expect(values.map((v) => hex(Serdes.Double, Number(v)))).toEqual(expected)
    for (const [i, v] of values.entries())
      expect(Serdes.Double.deserialize(Buffer.from(expected[i]!, 'hex'))).toBe(Number(v))
  }, 30_000)

  it('String: UTF-8', () => {
    const values = ['', 'hello', 'grüße', '日本語', 'emoji 🎉']
    const expected = java(values.map((v) => `string:${v}`))
    expect(values.map((v) => hex(Serdes.String, v))).toEqual(expected)
  }, 30_000)
})

describe('bad input', () => {
  it('a wrong size is a SerdeError, as Java throws SerializationException', () => {
    expect(() => Serdes.Long.deserialize(Buffer.alloc(7))).toThrow(SerdeError)
    expect(() => Serdes.Integer.deserialize(Buffer.alloc(8))).toThrow(SerdeError)
    expect(() => Serdes.Double.deserialize(Buffer.alloc(0))).toThrow(SerdeError)
  })

  it('Long refuses values it would round', () => {
    expect(() => Serdes.Long.serialize(2 ** 53)).toThrow(SerdeError)
    expect(() => Serdes.Long.serialize(1.5)).toThrow(SerdeError)
    expect(() => Serdes.Long.deserialize(Buffer.from('0020000000000000', 'hex'))).toThrow(/safe integer/)
  })

  it('Integer refuses what is not an int32', () => {
    expect(() => Serdes.Integer.serialize(2 ** 31)).toThrow(SerdeError)
  })

  it('Json round-trips and reports bad bytes and cycles', () => {
    const serde = Serdes.Json<{ a: number[] }>()
    expect(Buffer.from(serde.serialize({ a: [1, 2] })).toString()).toBe('{"a":[1,2]}')
    expect(serde.deserialize(Buffer.from('{"a":[3]}'))).toEqual({ a: [3] })
    expect(() => serde.deserialize(Buffer.from('{'))).toThrow(SerdeError)
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    const err = (() => {
      try {
        Serdes.Json<unknown>().serialize(cyclic)
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(KafkaTsError)
    expect((err as KafkaTsError).code).toBe('KAFKATS_STREAMS_SERDE')
  })

  it('user serdes from two functions', () => {
    const upper = Serdes.from<string>(
      (v) => Buffer.from(v.toUpperCase()),
      (b) => b.toString().toLowerCase(),
    )
    expect(Buffer.from(upper.serialize('ab')).toString()).toBe('AB')
    expect(upper.deserialize(Buffer.from('CD'))).toBe('cd')
  })
})
