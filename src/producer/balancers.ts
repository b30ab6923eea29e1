// Balancers choose the partition of each message a Writer sends (kafka-go's Balancer). Each one is bit-compatible
// with the client it is named after, so that a key lands on the same partition whichever client produced it:
//
//   RoundRobin       kafka-go RoundRobin (with ChunkSize)
//   LeastBytes       kafka-go LeastBytes
//   Hash             kafka-go Hash = Sarama NewHashPartitioner = librdkafka fnv1a for keys (FNV-1a, abs after modulo)
//   ReferenceHash    kafka-go ReferenceHash = Sarama NewReferenceHashPartitioner (FNV-1a, masked to 31 bits)
//   CRC32Balancer    kafka-go CRC32Balancer = librdkafka consistent_random / consistent (CRC-32 IEEE, unsigned)
//   Murmur2Balancer  kafka-go Murmur2Balancer = librdkafka murmur2_random / murmur2 = Java's keyed records
//   Sticky           the Java client's built-in partitioner (KIP-480 / KIP-794 without the adaptive part)
//
// `partitions` is the list of partition ids to choose from, sorted ascending (the Writer passes every partition of
// the topic for a keyed message, so normally 0..n-1, and only those with a leader for a keyless one, KIP-794). Every balancer returns one of its elements: the hashing balancers compute an index
// `i` the way their reference client computes the partition number and return `partitions[i]`, which is the same
// number when the list is 0..n-1. (kafka-go's Hash and ReferenceHash return `i` itself; for the 0..n-1 list a
// Writer passes that is identical.) An empty list throws a KafkaTsError with code KAFKATS_NO_PARTITIONS.

import { ConfigError, KafkaTsError } from '../errors.js'
import type { Bytes, Message } from '../message.js'
import { crc32, fnv1a32, murmur2, type HashInput } from './hash.js'

/** Chooses the partition of a message among `partitions` (sorted ascending); returns one of them. */
export interface Balancer {
  balance(message: Message, partitions: readonly number[]): number
}

/** A 32-bit hash of a key (bytes, or a string meaning its UTF-8); signed or unsigned, only the low 32 bits count. */
export type Hasher32 = (key: HashInput) => number

/** A source of uniform random numbers in [0, 1), like Math.random (the default). */
export type RandomSource = () => number

const EMPTY = new Uint8Array(0)

function noPartitions(): KafkaTsError {
  return new KafkaTsError('KAFKATS_NO_PARTITIONS', 'balancer called with an empty list of partitions')
}

/** `partitions[index]`, throwing when the list is empty (the index is NaN or out of range then). */
function at(partitions: readonly number[], index: number): number {
  const p = partitions[index]
  if (p === undefined) throw noPartitions()
  return p
}

/** Bytes a key or value takes on the wire (UTF-8 for strings); 0 for null. */
function byteSize(b: Bytes | undefined): number {
  if (b === null || b === undefined) return 0
  return typeof b === 'string' ? Buffer.byteLength(b, 'utf8') : b.byteLength
}

/** Size of a message as kafka-go counts it: len(Key) + len(Value). */
function messageBytes(message: Message): number {
  return byteSize(message.key) + byteSize(message.value)
}

function randomPartition(random: RandomSource, partitions: readonly number[]): number {
  return at(partitions, Math.floor(random() * partitions.length))
}

// ---------------------------------------------------------------------------------------------------------------

/** Wraps a plain function as a Balancer (kafka-go's BalancerFunc). */
export class BalancerFunc implements Balancer {
  readonly #fn: (message: Message, partitions: readonly number[]) => number

  constructor(fn: (message: Message, partitions: readonly number[]) => number) {
    this.#fn = fn
  }

  balance(message: Message, partitions: readonly number[]): number {
    return this.#fn(message, partitions)
  }
}

// ---------------------------------------------------------------------------------------------------------------

export interface RoundRobinOptions {
  /** Messages sent to a partition before moving on to the next one (kafka-go ChunkSize); values < 1 mean 1. */
  chunkSize?: number
}

/**
 * kafka-go's RoundRobin: a uint32 counter starting at 0, message number `c` goes to
 * `partitions[floor(c / chunkSize) % partitions.length]`, so the first message goes to the first partition.
 */
export class RoundRobin implements Balancer {
  readonly #chunkSize: number
  #counter = 0

  constructor(options: RoundRobinOptions = {}) {
    const chunkSize = options.chunkSize ?? 1
    if (!Number.isSafeInteger(chunkSize)) throw new ConfigError('chunkSize', `must be an integer, got ${chunkSize}`)
    this.#chunkSize = chunkSize < 1 ? 1 : Math.min(chunkSize, 0xffffffff)
  }

  balance(_message: Message, partitions: readonly number[]): number {
    const counter = this.#counter
    this.#counter = (counter + 1) >>> 0 // Go's uint32 wraps around
    return at(partitions, Math.floor(counter / this.#chunkSize) % partitions.length)
  }
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * kafka-go's LeastBytes: sends each message to the partition that has received the fewest bytes through this
 * balancer (bytes = key length + value length, UTF-8 for strings); ties go to the lowest partition id. The counters
 * restart from zero whenever the set of partitions changes. (kafka-go only notices a change of the number of
 * partitions; this also notices a change of ids, so the result is always one of `partitions`.)
 */
export class LeastBytes implements Balancer {
  /** The partitions as last given, to notice a change. */
  #seen: number[] = []
  /** The same ids sorted ascending, and the bytes sent to each. */
  #ids: number[] = []
  #bytes: number[] = []

  balance(message: Message, partitions: readonly number[]): number {
    if (!sameList(this.#seen, partitions)) this.#reset(partitions)
    const bytes = this.#bytes
    if (bytes.length === 0) throw noPartitions()
    let minIndex = 0
    let minBytes = bytes[0]!
    for (let i = 1; i < bytes.length; i++) {
      const b = bytes[i]!
      if (b < minBytes) {
        minIndex = i
        minBytes = b
      }
    }
    bytes[minIndex] = minBytes + messageBytes(message)
    return this.#ids[minIndex]!
  }

  #reset(partitions: readonly number[]): void {
    this.#seen = partitions.slice()
    this.#ids = partitions.slice().sort((a, b) => a - b)
    this.#bytes = new Array<number>(partitions.length).fill(0)
  }
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

// ---------------------------------------------------------------------------------------------------------------

export interface HashOptions {
  /** The hash of the key; FNV-1a 32 by default (kafka-go's Hasher, Sarama's WithCustomHashFunction). */
  hasher?: Hasher32
}

/**
 * kafka-go's Hash, identical to Sarama's NewHashPartitioner (and librdkafka's fnv1a): with `h` the hash of the key
 * as a signed int32, the index is `h % n` (truncated, sign of `h`), negated when negative. Messages without a key
 * (null or unset) go round-robin, as in kafka-go (Sarama picks at random). An empty key is a key and is hashed.
 */
export class Hash implements Balancer {
  readonly #hasher: Hasher32
  readonly #rr = new RoundRobin()

  constructor(options: HashOptions = {}) {
    this.#hasher = options.hasher ?? fnv1a32
  }

  balance(message: Message, partitions: readonly number[]): number {
    const key = message.key
    if (key === null || key === undefined) return this.#rr.balance(message, partitions)
    const index = (this.#hasher(key) | 0) % partitions.length
    return at(partitions, index < 0 ? -index : index)
  }
}

/**
 * kafka-go's ReferenceHash, identical to Sarama's NewReferenceHashPartitioner (the Java client's way of making a
 * hash positive): the index is `(h & 0x7fffffff) % n`, FNV-1a 32 by default. Messages without a key (null or unset)
 * go to a random partition, as in both.
 */
export class ReferenceHash implements Balancer {
  readonly #hasher: Hasher32
  readonly #random: RandomSource

  constructor(options: HashOptions & { random?: RandomSource } = {}) {
    this.#hasher = options.hasher ?? fnv1a32
    this.#random = options.random ?? Math.random
  }

  balance(message: Message, partitions: readonly number[]): number {
    const key = message.key
    if (key === null || key === undefined) return randomPartition(this.#random, partitions)
    return at(partitions, (this.#hasher(key) & 0x7fffffff) % partitions.length)
  }
}

// ---------------------------------------------------------------------------------------------------------------

export interface ConsistentOptions {
  /** Hash messages without a key too instead of choosing a random partition (librdkafka's non-`_random` mode). */
  consistent?: boolean
  /** Random source for keyless messages; Math.random by default. */
  random?: RandomSource
}

/**
 * kafka-go's CRC32Balancer = librdkafka's `consistent_random` partitioner (default) or, with `consistent: true`,
 * its `consistent` partitioner: the index is `crc32(key) % n` with the CRC unsigned. As in librdkafka a null and an
 * empty key are the same: without `consistent` both go to a random partition, with it both hash as no bytes
 * (crc32 = 0, so the first partition).
 */
export class CRC32Balancer implements Balancer {
  readonly #consistent: boolean
  readonly #random: RandomSource

  constructor(options: ConsistentOptions = {}) {
    this.#consistent = options.consistent ?? false
    this.#random = options.random ?? Math.random
  }

  balance(message: Message, partitions: readonly number[]): number {
    let key: HashInput | null | undefined = message.key
    if (key === null || key === undefined || key.length === 0) {
      if (!this.#consistent) return randomPartition(this.#random, partitions)
      key = EMPTY
    }
    return at(partitions, crc32(key) % partitions.length)
  }
}

/**
 * kafka-go's Murmur2Balancer = librdkafka's `murmur2_random` partitioner (default) or, with `consistent: true`, its
 * `murmur2` partitioner; keyed messages go where the Java client sends them: index `(murmur2(key) & 0x7fffffff) % n`.
 * A null (or unset) key goes to a random partition unless `consistent`, which hashes it as no bytes; an empty key is
 * a key and is always hashed (murmur2 of no bytes is 0x106e08d9).
 */
export class Murmur2Balancer implements Balancer {
  readonly #consistent: boolean
  readonly #random: RandomSource

  constructor(options: ConsistentOptions = {}) {
    this.#consistent = options.consistent ?? false
    this.#random = options.random ?? Math.random
  }

  balance(message: Message, partitions: readonly number[]): number {
    let key: HashInput | null | undefined = message.key
    if (key === null || key === undefined) {
      if (!this.#consistent) return randomPartition(this.#random, partitions)
      key = EMPTY
    }
    return at(partitions, (murmur2(key) & 0x7fffffff) % partitions.length)
  }
}

// ---------------------------------------------------------------------------------------------------------------

export interface StickyOptions {
  /** Bytes of keyless messages assigned to a partition before switching (Java's batch.size); default 16384. */
  batchBytes?: number
  /** Random source for choosing the next partition; Math.random by default. */
  random?: RandomSource
}

/**
 * The Java client's default partitioner (BuiltInPartitioner, KIP-480 sticky / KIP-794 uniform sticky), adapted to a
 * per-message balancer:
 *
 * - A message with a key (an empty key counts) goes where Java sends it: `(murmur2(key) & 0x7fffffff) % n`. Keyed
 *   messages do not count towards the sticky partition's bytes (as in Java).
 * - Messages without a key all go to one "sticky" partition, chosen at random, until `batchBytes` bytes have been
 *   assigned to it: each message counts key + value bytes, at least 1, and the message that reaches `batchBytes`
 *   is still sent to the sticky partition (Java also switches after the append that reaches batch.size). The next
 *   keyless message then starts a new sticky partition chosen uniformly at random among the other partitions (the
 *   same one only when it is the only partition; Java's uniform choice may pick the same partition again, the
 *   KIP-480 cache did not). When the sticky partition disappears from `partitions`, a new one is chosen at once.
 *
 * Java's adaptive part (weighting by broker queue sizes) and its `linger`-aware switch deferral are not modelled:
 * the balancer does not see batches. Use one instance per topic, like the Java client keeps one per topic.
 */
export class Sticky implements Balancer {
  readonly #batchBytes: number
  readonly #random: RandomSource
  /** The sticky partition id, or -1 when a new one must be chosen. */
  #current = -1
  /** Index of #current in the last `partitions` seen, to check membership in O(1) when the list is unchanged. */
  #currentIndex = -1
  /** The partition to avoid when choosing the next sticky partition (-1: none). */
  #previous = -1
  #assigned = 0

  constructor(options: StickyOptions = {}) {
    const batchBytes = options.batchBytes ?? 16384
    if (!Number.isSafeInteger(batchBytes) || batchBytes < 1) {
      throw new ConfigError('batchBytes', `must be a positive integer, got ${batchBytes}`)
    }
    this.#batchBytes = batchBytes
    this.#random = options.random ?? Math.random
  }

  balance(message: Message, partitions: readonly number[]): number {
    const n = partitions.length
    if (n === 0) throw noPartitions()
    const key = message.key
    if (key !== null && key !== undefined) return at(partitions, (murmur2(key) & 0x7fffffff) % n)

    let current = this.#current
    if (current >= 0 && partitions[this.#currentIndex] !== current) {
      // The list changed: is the sticky partition still there?
      const index = partitions.indexOf(current)
      if (index < 0) current = -1
      else this.#currentIndex = index
    }
    if (current < 0) {
      current = this.#next(partitions)
      this.#current = current
      this.#assigned = 0
    }

    this.#assigned += Math.max(1, messageBytes(message))
    if (this.#assigned >= this.#batchBytes) {
      this.#previous = current
      this.#current = -1
    }
    return current
  }

  #next(partitions: readonly number[]): number {
    const n = partitions.length
    const avoid = this.#previous < 0 || n === 1 ? -1 : partitions.indexOf(this.#previous)
    let index: number
    if (avoid < 0) {
      index = Math.floor(this.#random() * n)
    } else {
      index = Math.floor(this.#random() * (n - 1))
      if (index >= avoid) index++
    }
    this.#currentIndex = index
    return at(partitions, index)
  }
}
