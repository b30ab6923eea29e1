import { describe, expect, expectTypeOf, it } from 'vitest'

import { ConfigError, isRetriable, KafkaError, KafkaTsError } from '../../src/errors.js'
import { ERROR_CODES, ErrorCode, errorInfo, UNKNOWN_ERROR_CODE_NAME } from '../../src/protocol/error-codes.js'

// [code, name, retriable, staleMetadata] as Kafka 4.0's Errors.java and exception classes define them.
const SPOT_CHECKS: [number, string, boolean, boolean][] = [
  [-1, 'UNKNOWN_SERVER_ERROR', false, false],
  [0, 'NONE', false, false],
  [1, 'OFFSET_OUT_OF_RANGE', false, false],
  [2, 'CORRUPT_MESSAGE', true, false],
  [3, 'UNKNOWN_TOPIC_OR_PARTITION', true, true],
  [5, 'LEADER_NOT_AVAILABLE', true, true],
  [6, 'NOT_LEADER_OR_FOLLOWER', true, true],
  [7, 'REQUEST_TIMED_OUT', true, false],
  [8, 'BROKER_NOT_AVAILABLE', false, false],
  [9, 'REPLICA_NOT_AVAILABLE', true, true],
  [10, 'MESSAGE_TOO_LARGE', false, false],
  [13, 'NETWORK_EXCEPTION', true, true],
  [14, 'COORDINATOR_LOAD_IN_PROGRESS', true, false],
  [15, 'COORDINATOR_NOT_AVAILABLE', true, false],
  [16, 'NOT_COORDINATOR', true, false],
  [17, 'INVALID_TOPIC_EXCEPTION', false, false],
  [19, 'NOT_ENOUGH_REPLICAS', true, false],
  [20, 'NOT_ENOUGH_REPLICAS_AFTER_APPEND', true, false],
  [22, 'ILLEGAL_GENERATION', false, false],
  [25, 'UNKNOWN_MEMBER_ID', false, false],
  [27, 'REBALANCE_IN_PROGRESS', false, false],
  [29, 'TOPIC_AUTHORIZATION_FAILED', false, false],
  [35, 'UNSUPPORTED_VERSION', false, false],
  [36, 'TOPIC_ALREADY_EXISTS', false, false],
  [41, 'NOT_CONTROLLER', true, false],
  [42, 'INVALID_REQUEST', false, false],
  [45, 'OUT_OF_ORDER_SEQUENCE_NUMBER', false, false],
  [46, 'DUPLICATE_SEQUENCE_NUMBER', false, false],
  [47, 'INVALID_PRODUCER_EPOCH', false, false],
  [48, 'INVALID_TXN_STATE', false, false],
  [51, 'CONCURRENT_TRANSACTIONS', true, false],
  [56, 'KAFKA_STORAGE_ERROR', true, true],
  [59, 'UNKNOWN_PRODUCER_ID', false, false],
  [70, 'FETCH_SESSION_ID_NOT_FOUND', true, false],
  [71, 'INVALID_FETCH_SESSION_EPOCH', true, false],
  [72, 'LISTENER_NOT_FOUND', true, true],
  [74, 'FENCED_LEADER_EPOCH', true, true],
  [75, 'UNKNOWN_LEADER_EPOCH', true, false], // RetriableException, not InvalidMetadataException
  [78, 'OFFSET_NOT_AVAILABLE', true, false],
  [79, 'MEMBER_ID_REQUIRED', false, false],
  [82, 'FENCED_INSTANCE_ID', false, false],
  [87, 'INVALID_RECORD', false, false],
  [88, 'UNSTABLE_OFFSET_COMMIT', true, false],
  [89, 'THROTTLING_QUOTA_EXCEEDED', true, false],
  [90, 'PRODUCER_FENCED', false, false],
  [100, 'UNKNOWN_TOPIC_ID', true, true],
  [103, 'INCONSISTENT_TOPIC_ID', true, true],
  [106, 'FETCH_SESSION_TOPIC_ID_ERROR', true, false],
  [110, 'FENCED_MEMBER_EPOCH', false, false],
  [113, 'STALE_MEMBER_EPOCH', false, false],
  [120, 'TRANSACTION_ABORTABLE', false, false],
  [122, 'SHARE_SESSION_NOT_FOUND', true, false],
  [123, 'INVALID_SHARE_SESSION_EPOCH', true, false],
  [128, 'INVALID_REGULAR_EXPRESSION', false, false],
  [129, 'REBOOTSTRAP_REQUIRED', false, false],
]

describe('Kafka error-code table', () => {
  it.each(SPOT_CHECKS)('%i is %s (retriable=%s, staleMetadata=%s)', (code, name, retriable, stale) => {
    const info = errorInfo(code)
    expect(info.code).toBe(code)
    expect(info.name).toBe(name)
    expect(info.retriable).toBe(retriable)
    expect(info.staleMetadata === true).toBe(stale)
    expect((ErrorCode as Record<string, number>)[name]).toBe(code)
  })

  it('carries Kafka default messages', () => {
    expect(errorInfo(ErrorCode.NOT_LEADER_OR_FOLLOWER).message).toBe(
      'For requests intended only for the leader, this error indicates that the broker is not the current leader. ' +
        'For requests intended for any replica, this error indicates that the broker is not a replica of the topic partition.',
    )
    expect(errorInfo(ErrorCode.REBALANCE_IN_PROGRESS).message).toBe('The group is rebalancing, so a rejoin is needed.')
    expect(errorInfo(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS).message).toBe(
      "The coordinator is loading and hence can't process requests.",
    )
    expect(errorInfo(ErrorCode.NONE).message).toBe('')
    for (const info of ERROR_CODES) if (info.code !== 0) expect(info.message.length, info.name).toBeGreaterThan(0)
  })

  it('marks the errors that need a coordinator lookup, a group rejoin or mean a fenced producer', () => {
    const names = (pick: (i: (typeof ERROR_CODES)[number]) => boolean | undefined) =>
      ERROR_CODES.filter((i) => pick(i) === true).map((i) => i.name)
    expect(names((i) => i.staleCoordinator)).toEqual(['COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR'])
    expect(names((i) => i.rejoinGroup)).toEqual([
      'ILLEGAL_GENERATION',
      'UNKNOWN_MEMBER_ID',
      'REBALANCE_IN_PROGRESS',
      'MEMBER_ID_REQUIRED',
      'FENCED_MEMBER_EPOCH',
    ])
    expect(names((i) => i.fencedProducer)).toEqual(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED'])
  })

  it('has the full, well-formed table', () => {
    const codes = ERROR_CODES.map((i) => i.code)
    const names = ERROR_CODES.map((i) => i.name)
    expect(new Set(codes).size).toBe(codes.length)
    expect(new Set(names).size).toBe(names.length)
    for (const name of names) expect(name).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/)
    // Contiguous from -1 through 129 (Kafka 4.0), in order, with no gaps.
    expect(codes).toEqual(Array.from({ length: 131 }, (_, i) => i - 1))
    expect(Object.keys(ErrorCode)).toEqual(names)
    expect(Object.values(ErrorCode)).toEqual(codes)
    for (const info of ERROR_CODES) {
      // InvalidMetadataException extends RetriableException.
      if (info.staleMetadata) expect(info.retriable, info.name).toBe(true)
      expect(errorInfo(info.code)).toBe(info)
      // exactOptionalPropertyTypes: flags are present only when true.
      for (const flag of ['staleMetadata', 'staleCoordinator', 'rejoinGroup', 'fencedProducer'] as const) {
        if (flag in info) expect(info[flag]).toBe(true)
      }
    }
    expect(Object.isFrozen(ErrorCode)).toBe(true)
    expect(Object.isFrozen(ERROR_CODES)).toBe(true)
    expect(Object.isFrozen(errorInfo(6))).toBe(true)
  })

  it('types ErrorCode members as their literal codes', () => {
    expectTypeOf(ErrorCode.NOT_LEADER_OR_FOLLOWER).toEqualTypeOf<6>()
    expectTypeOf(ErrorCode.UNKNOWN_SERVER_ERROR).toEqualTypeOf<-1>()
  })

  it('answers for codes it does not know, without throwing', () => {
    for (const code of [130, 999, -2, 32767, Number.NaN]) {
      const info = errorInfo(code)
      expect(info.name).toBe(UNKNOWN_ERROR_CODE_NAME)
      expect(info.retriable).toBe(false)
      expect(info.staleMetadata).toBeUndefined()
      expect(Object.is(info.code, code)).toBe(true)
      expect(info.message).toContain(String(code))
    }
  })
})

describe('KafkaError', () => {
  it('formats the name, code, default message and the given context', () => {
    const err = KafkaError.fromCode(6, { topic: 't', partition: 3, broker: 1 })
    expect(err.message).toBe(
      'NOT_LEADER_OR_FOLLOWER (6): For requests intended only for the leader, this error indicates that the broker ' +
        'is not the current leader. For requests intended for any replica, this error indicates that the broker is ' +
        'not a replica of the topic partition. [topic=t partition=3 broker=1]',
    )
    expect(err.code).toBe('KAFKA_NOT_LEADER_OR_FOLLOWER')
    expect(err.name).toBe('KafkaError')
    expect(err.errorCode).toBe(6)
    expect(err.errorName).toBe('NOT_LEADER_OR_FOLLOWER')
    expect(err.retriable).toBe(true)
    expect(err.staleMetadata).toBe(true)
    expect(err.topic).toBe('t')
    expect(err.partition).toBe(3)
    expect(err.broker).toBe(1)
    expect(err).toBeInstanceOf(Error)
    expect(err instanceof KafkaTsError).toBe(true)
    expect(err instanceof KafkaError).toBe(true)
  })

  it('keeps only the context it was given', () => {
    const err = KafkaError.fromCode(ErrorCode.REBALANCE_IN_PROGRESS, { groupId: 'g', apiName: 'Heartbeat' })
    expect(err.message).toBe(
      'REBALANCE_IN_PROGRESS (27): The group is rebalancing, so a rejoin is needed. [api=Heartbeat group=g]',
    )
    expect(err.retriable).toBe(false)
    expect(err.staleMetadata).toBe(false)
    expect(err.groupId).toBe('g')
    expect(err.apiName).toBe('Heartbeat')
    for (const key of ['broker', 'topic', 'partition', 'errorMessage', 'cause']) expect(key in err, key).toBe(false)

    const bare = KafkaError.fromCode(ErrorCode.TOPIC_ALREADY_EXISTS)
    expect(bare.message).toBe('TOPIC_ALREADY_EXISTS (36): Topic with this name already exists.')
  })

  it('prefers the broker error_message and keeps a cause', () => {
    const cause = new Error('inner')
    const err = KafkaError.fromCode(ErrorCode.INVALID_CONFIG, {
      topic: 'x',
      errorMessage: 'Invalid value -5 for configuration retention.ms',
      cause,
    })
    expect(err.message).toBe('INVALID_CONFIG (40): Invalid value -5 for configuration retention.ms [topic=x]')
    expect(err.errorMessage).toBe('Invalid value -5 for configuration retention.ms')
    expect(err.cause).toBe(cause)
    // A null or empty error_message falls back to Kafka's default text.
    expect(KafkaError.fromCode(40, { errorMessage: null }).message).toBe(
      'INVALID_CONFIG (40): Configuration is invalid.',
    )
    expect(KafkaError.fromCode(40, { errorMessage: '' }).message).toBe('INVALID_CONFIG (40): Configuration is invalid.')
  })

  it('handles an unknown code', () => {
    const err = KafkaError.fromCode(4242, { broker: 2 })
    expect(err.code).toBe('KAFKA_UNKNOWN_ERROR_CODE')
    expect(err.errorCode).toBe(4242)
    expect(err.retriable).toBe(false)
    expect(err.message).toMatch(/^UNKNOWN_ERROR_CODE \(4242\): .*4242.* \[broker=2\]$/)
  })
})

describe('isRetriable', () => {
  it('follows the table for broker errors', () => {
    expect(isRetriable(KafkaError.fromCode(ErrorCode.NOT_ENOUGH_REPLICAS))).toBe(true)
    expect(isRetriable(KafkaError.fromCode(ErrorCode.REQUEST_TIMED_OUT))).toBe(true)
    expect(isRetriable(KafkaError.fromCode(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER))).toBe(false)
    expect(isRetriable(KafkaError.fromCode(ErrorCode.PRODUCER_FENCED))).toBe(false)
  })

  it('honours a boolean retriable on any kafkats error, and nothing else', () => {
    class FakeNetworkError extends KafkaTsError {
      readonly retriable = true
      constructor() {
        super('KAFKATS_NETWORK', 'connection reset')
      }
    }
    expect(isRetriable(new FakeNetworkError())).toBe(true)
    expect(isRetriable(new ConfigError('brokers', 'must not be empty'))).toBe(false)
    expect(isRetriable(Object.assign(new Error('x'), { retriable: true }))).toBe(false)
    expect(isRetriable({ retriable: true })).toBe(false)
    expect(isRetriable(undefined)).toBe(false)
    expect(isRetriable('NOT_LEADER_OR_FOLLOWER')).toBe(false)
  })
})
