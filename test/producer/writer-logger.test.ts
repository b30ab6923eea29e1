// The Writer's `logger` option (issue 16, prepared with issue 11): what it handles itself goes
// to the logger instead of process.emitWarning; a bad logger option is a ConfigError.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/errors.js'
import type { LogFields, Logger } from '../../src/logger.js'
import { Writer } from '../../src/producer/writer.js'
import { startReferenceCluster, uniqueTopic } from './helpers.js'

type Cluster = Awaited<ReturnType<typeof startReferenceCluster>>
let cluster: Cluster

beforeAll(async () => {
  cluster = await startReferenceCluster()
}, 60_000)

afterAll(async () => {
  await cluster?.stop()
})

describe('Writer logger', () => {
  it('logs a completion callback that threw, with the bindings, and no process warning', async () => {
    const topic = uniqueTopic('writer-logger')
    cluster.createTopic(topic, { partitions: 1 })
    const lines: { level: string; fields: LogFields; message: string }[] = []
    const make = (bindings: LogFields): Logger => {
      const at = (level: string) => (a: LogFields | string, b?: string) =>
        void lines.push(
          typeof a === 'string'
            ? { level, fields: bindings, message: a }
            : { level, fields: { ...bindings, ...a }, message: b ?? '' },
        )
      return {
        debug: at('debug'),
        info: at('info'),
        warn: at('warn'),
        error: at('error'),
        child: (more) => make({ ...bindings, ...more }),
      }
    }
    const warnings: Error[] = []
    const onWarning = (w: Error): void => void warnings.push(w)
    process.on('warning', onWarning)
    const boom = new Error('callback bug')
    let called = 0
    const writer = new Writer({
      brokers: cluster.bootstrapServers,
      topic,
      async: true,
      logger: make({}),
      completion: () => {
        called++
        throw boom
      },
    })
    try {
      await writer.writeMessages({ value: 'x' })
      await writer.flush()
      expect(called).toBe(1)
      expect(lines).toContainEqual({
        level: 'error',
        fields: { client: 'writer', err: boom },
        message: 'the completion callback threw',
      })
      await new Promise((r) => setImmediate(r))
      expect(warnings).toEqual([])
    } finally {
      process.off('warning', onWarning)
      await writer.close()
    }
  })

  it('refuses a logger without the four methods', () => {
    expect(
      () => new Writer({ brokers: ['127.0.0.1:9092'], topic: 't', logger: { warn() {} } as unknown as Logger }),
    ).toThrow(ConfigError)
  })
})
