// Golden vectors are copied from the real clients' own tests (facts, cited per table):
//   kafka-go      balancer_test.go (segmentio/kafka-go @ 3ce29796): TestHashBalancer, TestReferenceHashBalancer,
//                 TestCRC32Balancer, TestMurmur2, TestMurmur2Balancer (incl. kafka-python's test_partitioner.py
//                 values), TestLeastBytes, TestRoundRobin
//   Java          clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java testMurmur2 (apache/kafka)
//   KafkaJS       src/producer/partitioners/default/murmur2.spec.js (generated with the Java client's murmur2)
//   Sarama        partitioner_test.go (IBM/sarama): TestMurmur2, TestMurmur2Partitioner (Java DefaultPartitioner
//                 assignments), TestConsistentCRCHashPartitioner, TestHashPartitionerMinInt32
//   librdkafka    src/rdfnv1a.c unittest_fnv1a, src/rdmurmur2.c unittest, tests/0048-partitioner.c
//   FNV-1a        the FNV reference test suite (isthe.com/chongo/src/fnv/test_fnv.c): "", "a", "foobar"
//   CRC-32        the standard check value crc32("123456789") = 0xcbf43926

import { describe, expect, it } from 'vitest'
import { ConfigError, KafkaTsError } from '../../src/errors.js'
import type { Bytes, Message } from '../../src/message.js'
import {
  BalancerFunc,
  CRC32Balancer,
  Hash,
  LeastBytes,
  Murmur2Balancer,
  ReferenceHash,
  RoundRobin,
  Sticky,
  type Balancer,
} from '../../src/producer/balancers.js'
import { crc32, fnv1a32, murmur2 } from '../../src/producer/hash.js'
import { UserPartitioner } from '../../examples/custom-partitioner.js'

const msg = (key: Bytes | undefined, value: Bytes = null): Message => (key === undefined ? { value } : { key, value })
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)
/** kafka-go's CRC32/Murmur2 tests (after librdkafka 0048) use 17 partitions with ids i*i. */
const squares = range(17).map((i) => i * i)

/** A deterministic random source (mulberry32), for reproducible distribution tests. */
function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('fnv1a32', () => {
  it('matches the FNV reference vectors', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5)
    expect(fnv1a32('a')).toBe(0xe40c292c)
    expect(fnv1a32('foobar')).toBe(0xbf9cf968)
    expect(fnv1a32(new Uint8Array(0))).toBe(0x811c9dc5)
  })

  it('matches librdkafka rdfnv1a.c unittest_fnv1a (values are |int32(hash)|, as Sarama)', () => {
    const cases: [string, number][] = [
      ['kafka', 0xd33c4e1],
      ['giberish123456789', 0x77a58295],
      ['1234', 0x23bdd03],
      ['234', 0x2dea3cd2],
      ['34', 0x740fa83e],
      ['4', 0x310ca263],
      ['PreAmbleWillBeRemoved,ThePrePartThatIs', 0x65cbd69c],
      ['reAmbleWillBeRemoved,ThePrePartThatIs', 0x6e49c79a],
      ['eAmbleWillBeRemoved,ThePrePartThatIs', 0x69eed356],
      ['AmbleWillBeRemoved,ThePrePartThatIs', 0x6abcc023],
      ['', 0x7ee3623b],
    ]
    for (const [key, expected] of cases) expect(Math.abs(fnv1a32(key) | 0), key).toBe(expected)
  })

  it('hashes "1468509572224" to 2^31 (Sarama TestHashPartitionerMinInt32)', () => {
    expect(fnv1a32('1468509572224')).toBe(0x80000000)
  })
})

describe('murmur2', () => {
  it('matches Java UtilsTest.testMurmur2', () => {
    expect(murmur2('21')).toBe(-973932308)
    expect(murmur2('foobar')).toBe(-790332482)
    expect(murmur2('a-little-bit-long-string')).toBe(-985981536)
    expect(murmur2('a-little-bit-longer-string')).toBe(-1486304829)
    expect(murmur2('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8')).toBe(-58897971)
    expect(murmur2(new Uint8Array([0x61, 0x62, 0x63]))).toBe(479470107)
  })

  it('matches KafkaJS murmur2.spec.js (generated with the Java client)', () => {
    const testData: Record<string, number> = {
      '0': 971027396,
      '1': -1993445489,
      '128': -326012175,
      '2187': -1508407203,
      '16384': -325739742,
      '78125': -1654490814,
      '279936': 1462227128,
      '823543': -2014198330,
      '2097152': 607668903,
      '4782969': -1182699775,
      '10000000': -1830336757,
      '19487171': -1603849305,
      '35831808': -857013643,
      '62748517': -1167431028,
      '105413504': -381294639,
      '170859375': -1658323481,
      '100:48069': 1009543857,
    }
    for (const [key, expected] of Object.entries(testData)) {
      expect(murmur2(key), key).toBe(expected)
      expect(murmur2(Buffer.from(key)), key).toBe(expected)
    }
  })

  it('matches kafka-go TestMurmur2 (librdkafka rdmurmur2.c unittest)', () => {
    const cases: [string, number][] = [
      ['kafka', 0xd067cf64],
      ['giberish123456789', 0x8f552b0c],
      ['1234', 0x9fc97b14],
      ['234', 0xe7c009ca],
      ['34', 0x873930da],
      ['4', 0x5a4b5ca1],
      ['PreAmbleWillBeRemoved,ThePrePartThatIs', 0x78424f1c],
      ['reAmbleWillBeRemoved,ThePrePartThatIs', 0x4a62b377],
      ['eAmbleWillBeRemoved,ThePrePartThatIs', 0xe0e4e09e],
      ['AmbleWillBeRemoved,ThePrePartThatIs', 0x62b8b43f],
      ['', 0x106e08d9],
    ]
    for (const [key, expected] of cases) expect(murmur2(key) >>> 0, key).toBe(expected)
  })

  it('matches Sarama TestMurmur2 (verified against the Java client)', () => {
    const cases: [string, number][] = [
      ['foo', 597841616],
      ['bar', 988958145],
      ['baz', 1973573280],
      ['', 275646681],
      ['kafka', 3496464228],
      ['sarama', 770765511],
    ]
    for (const [key, expected] of cases) expect(murmur2(key) >>> 0, key).toBe(expected)
  })

  it('returns a signed int32', () => {
    for (const key of ['21', 'foobar', 'x', 'yy', 'zzz', 'kafka']) {
      const h = murmur2(key)
      expect(h | 0).toBe(h)
    }
  })
})

describe('crc32', () => {
  it('has the IEEE check value', () => {
    expect(crc32('123456789')).toBe(0xcbf43926)
    expect(crc32('')).toBe(0)
    expect(crc32(new Uint8Array(0))).toBe(0)
  })

  it('matches librdkafka tests/0048-partitioner.c (crc32 of its keys)', () => {
    expect(crc32('23456')).toBe(0xb1b451d7)
    expect(crc32('this is another string with more length to it perhaps')).toBe(0xb0150df7)
    expect(crc32('hejsan')).toBe(0xd077037e)
  })

  it('is unsigned (Sarama: crc32("SheetJS") = 2647669026)', () => {
    expect(crc32('SheetJS')).toBe(2647669026)
  })
})

describe('string keys hash as their UTF-8 bytes', () => {
  it('for ASCII, non-ASCII, lone surrogates, and long strings (scratch growth)', () => {
    const rnd = seeded(7)
    const alphabet = [
      'a',
      'Z',
      '0',
      ' ',
      '\u0000',
      '\u007f',
      '\u0080',
      'é',
      '€',
      '\u07ff',
      '\u0800',
      '😀',
      '\ud800',
      '\udfff',
    ]
    const strings = ['', 'a', 'abcd', 'abcde', 'x'.repeat(64), 'x'.repeat(65), 'é'.repeat(700), '😀'.repeat(3000)]
    for (let i = 0; i < 300; i++) {
      const len = Math.floor(rnd() * (i < 250 ? 80 : 3000))
      let s = ''
      for (let j = 0; j < len; j++) s += alphabet[Math.floor(rnd() * alphabet.length)]!
      strings.push(s)
    }
    for (const s of strings) {
      const bytes = Buffer.from(s, 'utf8')
      expect(fnv1a32(s)).toBe(fnv1a32(bytes))
      expect(murmur2(s)).toBe(murmur2(bytes))
      expect(crc32(s)).toBe(crc32(bytes))
    }
    // After growing the scratch buffer, short keys still hash right.
    expect(murmur2('21')).toBe(-973932308)
  })

  it('hashes a Uint8Array view by its own bytes only', () => {
    const backing = Buffer.from('xx123456789yy')
    expect(crc32(new Uint8Array(backing.buffer, backing.byteOffset + 2, 9))).toBe(0xcbf43926)
    expect(crc32(backing.subarray(2, 11))).toBe(0xcbf43926)
  })
})

describe('RoundRobin (kafka-go TestRoundRobin)', () => {
  for (const n of [7, 8]) {
    for (const chunkSize of [undefined, -1, 0, 5, 12]) {
      it(`${n} partitions, chunkSize ${chunkSize}`, () => {
        const rr = new RoundRobin(chunkSize === undefined ? {} : { chunkSize })
        const expectedChunk = chunkSize === undefined || chunkSize < 1 ? 1 : chunkSize
        for (let i = 0; i < 50; i++) {
          expect(rr.balance(msg(null), range(n))).toBe(Math.floor(i / expectedChunk) % n)
        }
      })
    }
  }

  it('cycles through the ids given, starting with the first', () => {
    const rr = new RoundRobin()
    const partitions = [3, 5, 9]
    expect(Array.from({ length: 7 }, () => rr.balance(msg('k'), partitions))).toEqual([3, 5, 9, 3, 5, 9, 3])
  })

  it('rejects a non-integer chunk size', () => {
    expect(() => new RoundRobin({ chunkSize: 1.5 })).toThrow(ConfigError)
  })
})

describe('LeastBytes', () => {
  // kafka-go TestLeastBytes: every case ends on partition 0.
  const cases: Record<string, { keys: string[]; partitions: number[][] }> = {
    'single message': { keys: ['key'], partitions: [[0, 1, 2]] },
    'multiple messages, no partition change': {
      keys: ['a', 'ab', 'abc', 'abcd'],
      partitions: [
        [0, 1, 2],
        [0, 1, 2],
        [0, 1, 2],
        [0, 1, 2],
      ],
    },
    'partition gained': {
      keys: ['hello world 1', 'hello world 2', 'hello world 3'],
      partitions: [
        [0, 1],
        [0, 1],
        [0, 1, 2],
      ],
    },
    'partition lost': {
      keys: ['hello world 1', 'hello world 2', 'hello world 3'],
      partitions: [
        [0, 1, 2],
        [0, 1, 2],
        [0, 1],
      ],
    },
  }
  for (const [label, test] of Object.entries(cases)) {
    it(`kafka-go: ${label}`, () => {
      const lb = new LeastBytes()
      let partition = -1
      test.keys.forEach((key, i) => (partition = lb.balance(msg(key), test.partitions[i]!)))
      expect(partition).toBe(0)
    })
  }

  it('sends to the partition with the fewest bytes, ties to the lowest id, counting key + value UTF-8 bytes', () => {
    const lb = new LeastBytes()
    const p = [0, 1, 2]
    expect(lb.balance(msg('k', 'value'), p)).toBe(0) // 0:6
    expect(lb.balance(msg(null, 'ab'), p)).toBe(1) // 1:2
    expect(lb.balance(msg(null, '€'), p)).toBe(2) // 2:3 ('€' is 3 bytes)
    expect(lb.balance(msg(null, new Uint8Array(1)), p)).toBe(1) // 1:3
    expect(lb.balance(msg(null, null), p)).toBe(1) // tie 1:3, 2:3 -> 1
    expect(lb.balance(msg(null, 'x'), p)).toBe(1) // 1:4
    expect(lb.balance(msg(null, 'x'), p)).toBe(2) // 2:4
  })

  it('balances bytes across partitions', () => {
    const lb = new LeastBytes()
    const rnd = seeded(3)
    const partitions = [0, 1, 2, 3, 4]
    const totals = new Map<number, number>()
    for (let i = 0; i < 5000; i++) {
      const size = 1 + Math.floor(rnd() * 200)
      const p = lb.balance(msg(null, 'x'.repeat(size)), partitions)
      totals.set(p, (totals.get(p) ?? 0) + size)
    }
    const values = [...totals.values()]
    expect(values).toHaveLength(5)
    expect(Math.max(...values) - Math.min(...values)).toBeLessThanOrEqual(200)
  })

  it('restarts its counters when the partition ids change', () => {
    const lb = new LeastBytes()
    expect(lb.balance(msg(null, 'xx'), [0, 1])).toBe(0)
    expect(lb.balance(msg(null, 'x'), [0, 1])).toBe(1)
    expect(lb.balance(msg(null, 'x'), [0, 2])).toBe(0) // same length, new ids: starts over
    expect(lb.balance(msg(null, 'x'), [0, 2])).toBe(2)
  })
})

describe('Hash (kafka-go Hash, Sarama NewHashPartitioner)', () => {
  it('kafka-go TestHashBalancer', () => {
    expect(new Hash().balance(msg(null), [0, 1, 2])).toBe(0) // nil key: round-robin, first call
    expect(new Hash().balance(msg('blah'), [0, 1])).toBe(0)
    expect(new Hash().balance(msg('blah'), [0, 1, 2])).toBe(1)
    expect(new Hash().balance(msg('boop'), [0, 1, 2])).toBe(2)
    expect(new Hash({ hasher: crc32 }).balance(msg('boop'), [0, 1, 2])).toBe(1) // custom hash
    expect(new Hash().balance(msg('20'), range(16))).toBe(1) // hash code with MSB set
  })

  it('librdkafka 0048 fnv1a_random expectations (17 partitions)', () => {
    const h = new Hash()
    const p = range(17)
    expect(h.balance(msg(''), p)).toBe(0x7ee3623b % 17)
    expect(h.balance(msg('23456'), p)).toBe(0x27e6f469 % 17)
    expect(h.balance(msg('this is another string with more length to it perhaps'), p)).toBe(0x155e3e5f % 17)
    expect(h.balance(msg('hejsan'), p)).toBe(0x17b1e27a % 17)
  })

  it('handles a hash of exactly 2^31 (Sarama TestHashPartitionerMinInt32)', () => {
    // int32(0x80000000) % 50 = -48 in Go, negated: 48
    expect(new Hash().balance(msg('1468509572224'), range(50))).toBe(48)
  })

  it('sends keyless messages round-robin, bytes and strings alike', () => {
    const h = new Hash()
    const p = [0, 1, 2]
    expect([h.balance(msg(null), p), h.balance(msg(undefined), p), h.balance(msg(null), p)]).toEqual([0, 1, 2])
    expect(h.balance(msg(Buffer.from('blah')), p)).toBe(1)
    expect(h.balance(msg(new Uint8Array(Buffer.from('boop'))), p)).toBe(2)
  })
})

describe('ReferenceHash (kafka-go ReferenceHash, Sarama NewReferenceHashPartitioner)', () => {
  it('kafka-go TestReferenceHashBalancer', () => {
    expect(new ReferenceHash().balance(msg('blah'), [0, 1])).toBe(0)
    expect(new ReferenceHash().balance(msg('blah'), [0, 1, 2])).toBe(1)
    expect(new ReferenceHash().balance(msg('castle'), [0, 1, 2])).toBe(2)
    expect(new ReferenceHash({ hasher: crc32 }).balance(msg('boop'), [0, 1, 2])).toBe(1)
    expect(new ReferenceHash().balance(msg('20'), range(16))).toBe(15) // Hash gives 1 here
  })

  it('sends keyless messages to a random partition', () => {
    expect(new ReferenceHash({ random: () => 0 }).balance(msg(null), [4, 5, 6])).toBe(4)
    expect(new ReferenceHash({ random: () => 0.99 }).balance(msg(null), [4, 5, 6])).toBe(6)
  })
})

describe('CRC32Balancer (kafka-go CRC32Balancer, librdkafka consistent / consistent_random)', () => {
  it('kafka-go TestCRC32Balancer (librdkafka 0048 consistent_random), partitions i*i', () => {
    const b = new CRC32Balancer()
    expect(b.balance(msg('23456'), squares)).toBe(squares[0xb1b451d7 % 17])
    expect(b.balance(msg('this is another string with more length to it perhaps'), squares)).toBe(
      squares[0xb0150df7 % 17],
    )
    expect(b.balance(msg('hejsan'), squares)).toBe(squares[0xd077037e % 17])
  })

  it('null and empty keys go to a random partition by default', () => {
    const last = new CRC32Balancer({ random: () => 0.999 })
    const first = new CRC32Balancer({ random: () => 0 })
    for (const key of [null, undefined, '', new Uint8Array(0)]) {
      expect(last.balance(msg(key), squares)).toBe(256)
      expect(first.balance(msg(key), squares)).toBe(0)
    }
  })

  it('consistent: null and empty keys hash alike (crc32 = 0: the first partition)', () => {
    const b = new CRC32Balancer({ consistent: true, random: () => 0.999 })
    for (const key of [null, undefined, '', new Uint8Array(0)]) expect(b.balance(msg(key), squares)).toBe(0)
    expect(b.balance(msg('hejsan'), squares)).toBe(squares[0xd077037e % 17])
  })

  it('Sarama TestConsistentCRCHashPartitioner (100 partitions)', () => {
    const b = new CRC32Balancer()
    const p = range(100)
    expect(b.balance(msg('abc123def456'), p)).toBe(57)
    expect(b.balance(msg('SheetJS'), p)).toBe(26)
    expect(b.balance(msg('9e8c7f4cf45857cfff7645d6'), p)).toBe(24)
    expect(b.balance(msg('3900446192ff85a5f67da10c'), p)).toBe(75)
    expect(b.balance(msg('0f4407b7a67d6d27de372198'), p)).toBe(50)
  })
})

describe('Murmur2Balancer (kafka-go Murmur2Balancer, librdkafka murmur2 / murmur2_random, Java)', () => {
  it('kafka-go TestMurmur2Balancer, librdkafka cases (partitions i*i)', () => {
    const b = new Murmur2Balancer({ random: () => 8 / 17 })
    expect(b.balance(msg(null), squares)).toBe(64) // random
    expect(b.balance(msg(''), squares)).toBe(squares[0x106e08d9 % 17])
    expect(b.balance(msg('23456'), squares)).toBe(squares[0x058d780f % 17])
    expect(b.balance(msg('this is another string with more length to it perhaps'), squares)).toBe(
      squares[0x4f7703da % 17],
    )
    expect(b.balance(msg('hejsan'), squares)).toBe(squares[0x5ec19395 % 17])
  })

  it('kafka-go TestMurmur2Balancer, kafka-python cases (1000 partitions)', () => {
    const b = new Murmur2Balancer()
    const p = range(1000)
    expect(b.balance(msg(''), p)).toBe(681)
    expect(b.balance(msg('a'), p)).toBe(524)
    expect(b.balance(msg('ab'), p)).toBe(434)
    expect(b.balance(msg('abc'), p)).toBe(107)
    expect(b.balance(msg('123456789'), p)).toBe(566)
    expect(b.balance(msg(new Uint8Array([0, 32])), p)).toBe(742)
  })

  it('Sarama TestMurmur2Partitioner: Java DefaultPartitioner assignments (100 partitions)', () => {
    const b = new Murmur2Balancer()
    const p = range(100)
    const expected: [string, number][] = [
      ['foo', 16],
      ['bar', 45],
      ['baz', 80],
      ['kafka', 80],
      ['sarama', 11],
    ]
    for (const [key, partition] of expected) expect(b.balance(msg(key), p), key).toBe(partition)
    expect(b.balance(msg('foo'), [0])).toBe(0)
  })

  it('consistent: a null key hashes as no bytes, like librdkafka murmur2', () => {
    const b = new Murmur2Balancer({ consistent: true, random: () => 0.999 })
    expect(b.balance(msg(null), squares)).toBe(squares[0x106e08d9 % 17])
    expect(b.balance(msg(undefined), squares)).toBe(squares[0x106e08d9 % 17])
  })

  it('keyless messages are random without consistent', () => {
    const b = new Murmur2Balancer({ random: seeded(1) })
    const seen = new Set<number>()
    for (let i = 0; i < 500; i++) seen.add(b.balance(msg(null), squares))
    expect(seen.size).toBe(17)
  })
})

describe('Sticky', () => {
  /** A random source that replays `values` (then repeats the last). */
  const replay = (...values: number[]) => {
    let i = 0
    return () => values[Math.min(i++, values.length - 1)]!
  }

  it('stays on one partition until batchBytes of keyless messages, then switches', () => {
    const s = new Sticky({ batchBytes: 100, random: replay(0.5, 0, 0.99) })
    const p = [0, 1, 2, 3]
    const got: number[] = []
    for (let i = 0; i < 25; i++) got.push(s.balance(msg(null, 'x'.repeat(10)), p))
    // first pick: floor(0.5*4) = 2; then among the 3 others [0,1,3]: floor(0*3) = 0 -> 0; then among [1,2,3]: 3
    expect(got).toEqual([...Array<number>(10).fill(2), ...Array<number>(10).fill(0), ...Array<number>(5).fill(3)])
  })

  it('the message that reaches the boundary stays; a big message fills a batch alone', () => {
    const s = new Sticky({ batchBytes: 100, random: replay(0, 0, 0) })
    const p = [0, 1, 2]
    expect(s.balance(msg(null, 'x'.repeat(99)), p)).toBe(0)
    expect(s.balance(msg(null, 'x'.repeat(50)), p)).toBe(0) // 149 >= 100: switch after it
    expect(s.balance(msg(null, 'x'.repeat(500)), p)).toBe(1) // not 0 again
    expect(s.balance(msg(null, 'x'), p)).toBe(0)
  })

  it('counts an empty message as one byte', () => {
    const s = new Sticky({ batchBytes: 3, random: replay(0, 0, 0) })
    const p = [0, 1]
    expect(Array.from({ length: 7 }, () => s.balance(msg(null, null), p))).toEqual([0, 0, 0, 1, 1, 1, 0])
  })

  it('never picks the same partition twice in a row when there is another, and covers all partitions', () => {
    const s = new Sticky({ batchBytes: 16384, random: seeded(11) })
    const p = [1, 4, 7, 8, 30]
    const value = new Uint8Array(1024)
    const batches: number[] = []
    for (let i = 0; i < 16 * 200; i++) {
      const partition = s.balance(msg(null, value), p)
      if (i % 16 === 0) batches.push(partition)
      else expect(partition).toBe(batches[batches.length - 1])
    }
    for (let i = 1; i < batches.length; i++) expect(batches[i]).not.toBe(batches[i - 1])
    const counts = new Map<number, number>()
    for (const b of batches) counts.set(b, (counts.get(b) ?? 0) + 1)
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual(p)
    for (const c of counts.values()) expect(c).toBeGreaterThan(20) // 200 batches over 5 partitions
  })

  it('stays on the only partition', () => {
    const s = new Sticky({ batchBytes: 1 })
    for (let i = 0; i < 5; i++) expect(s.balance(msg(null, 'x'), [7])).toBe(7)
  })

  it('hashes keyed messages like Java (murmur2) without counting them', () => {
    const s = new Sticky({ batchBytes: 20, random: replay(0, 0.99) })
    const p = range(100)
    expect(s.balance(msg(null, 'x'.repeat(10)), p)).toBe(0)
    expect(s.balance(msg('foo', 'x'.repeat(1000)), p)).toBe(16) // Sarama/Java: foo -> 16 of 100
    expect(s.balance(msg('kafka'), p)).toBe(80)
    expect(s.balance(msg('', 'x'), p)).toBe(new Murmur2Balancer().balance(msg(''), p)) // empty key is a key
    expect(s.balance(msg(null, 'x'.repeat(9)), p)).toBe(0) // 19 bytes: still 0
    expect(s.balance(msg(null, 'x'), p)).toBe(0) // 20: reaches the boundary
    expect(s.balance(msg(null, 'x'), p)).toBe(99)
  })

  it('moves at once when the sticky partition disappears, and follows a moved index', () => {
    const s = new Sticky({ batchBytes: 1000, random: replay(0.5, 0) })
    expect(s.balance(msg(null, 'x'), [0, 1, 2])).toBe(1)
    expect(s.balance(msg(null, 'x'), [1, 2])).toBe(1) // still there, other index
    expect(s.balance(msg(null, 'x'), [0, 1, 2])).toBe(1)
    expect(s.balance(msg(null, 'x'), [0, 2])).toBe(0) // gone: new choice
  })

  it('rejects a bad batchBytes', () => {
    expect(() => new Sticky({ batchBytes: 0 })).toThrow(ConfigError)
    expect(() => new Sticky({ batchBytes: 1.5 })).toThrow(ConfigError)
  })
})

describe('BalancerFunc', () => {
  it('calls the function with the message and the partitions', () => {
    const b = new BalancerFunc((message, partitions) => (message.key === 'last' ? partitions.at(-1)! : partitions[0]!))
    expect(b.balance(msg('last'), [2, 3, 5])).toBe(5)
    expect(b.balance(msg('x'), [2, 3, 5])).toBe(2)
  })
})

describe('every balancer', () => {
  const make = (): [string, Balancer][] => [
    ['RoundRobin', new RoundRobin()],
    ['RoundRobin chunk 3', new RoundRobin({ chunkSize: 3 })],
    ['LeastBytes', new LeastBytes()],
    ['Hash', new Hash()],
    ['ReferenceHash', new ReferenceHash()],
    ['CRC32Balancer', new CRC32Balancer()],
    ['CRC32Balancer consistent', new CRC32Balancer({ consistent: true })],
    ['Murmur2Balancer', new Murmur2Balancer()],
    ['Murmur2Balancer consistent', new Murmur2Balancer({ consistent: true })],
    ['Sticky', new Sticky({ batchBytes: 64 })],
    ['UserPartitioner', new UserPartitioner()],
  ]

  it('returns one of the partitions given, whatever the ids and keys', () => {
    const rnd = seeded(5)
    const keys: (Bytes | undefined)[] = [null, undefined, '', new Uint8Array(0), '20', '1468509572224', 'é😀']
    for (let i = 0; i < 200; i++) keys.push(Buffer.from(range(1 + Math.floor(rnd() * 40)).map(() => rnd() * 256)))
    const wrong: string[] = []
    for (const [name, balancer] of make()) {
      for (let round = 0; round < 30; round++) {
        const partitions = range(64)
          .filter(() => rnd() < 0.3)
          .map((p) => p * 3)
        if (partitions.length === 0) partitions.push(7)
        for (const key of keys) {
          const p = balancer.balance(msg(key, 'v'), partitions)
          if (!partitions.includes(p)) wrong.push(`${name}: ${p} not in ${partitions.join(',')}`)
        }
      }
    }
    expect(wrong).toEqual([])
  })

  it('is consistent per key for the hashing balancers', () => {
    const p = range(12)
    for (const [name, b] of make().filter(([n]) => /Hash|CRC|Murmur|User/.test(n))) {
      for (const key of ['a', 'user-17', Buffer.from([1, 2, 3])]) {
        const first = b.balance(msg(key), p)
        for (let i = 0; i < 5; i++) expect(b.balance(msg(key, 'x'.repeat(i)), p), name).toBe(first)
      }
    }
  })

  it('throws a KafkaTsError on an empty partition list', () => {
    for (const [name, balancer] of make().filter(([n]) => n !== 'UserPartitioner')) {
      for (const key of [null, 'k']) {
        let error: unknown
        try {
          balancer.balance(msg(key), [])
        } catch (e) {
          error = e
        }
        expect(error, name).toBeInstanceOf(KafkaTsError)
        expect((error as KafkaTsError).code).toBe('KAFKATS_NO_PARTITIONS')
      }
    }
  })
})

describe('examples/custom-partitioner.ts', () => {
  it('routes by the unsigned FNV-1a of the key, keyless to the first partition', () => {
    const b = new UserPartitioner()
    const p = [0, 1, 2, 3, 4, 5]
    for (const key of ['user-1', 'user-2', 'order-42', 'a', 'é', Buffer.from([0xff, 0])]) {
      expect(b.balance(msg(key), p)).toBe(fnv1a32(key) % 6)
    }
    expect(b.balance(msg(null), [3, 4])).toBe(3)
    expect(b.balance(msg('a'), range(3))).toBe(0xe40c292c % 3)
  })
})
