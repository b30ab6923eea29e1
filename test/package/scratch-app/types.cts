// Type-checked by test/package/tarball.test.ts with `module: nodenext` in CommonJS mode (a .cts
// file): both import forms that compile to require() must see kafkats' declarations.
import { Reader, Writer, type WriterConfig } from 'kafkats'
import broker = require('kafkats/broker')

const config: WriterConfig = { brokers: ['127.0.0.1:9092'], topic: 'orders' }
export const writer: Writer = new Writer(config)
export const reader: Reader = new Reader({ brokers: ['127.0.0.1:9092'], topic: 'orders', partition: 0 })
export const started: Promise<broker.Cluster> = broker.Cluster.start({ brokers: 1 })

// @ts-expect-error the declarations are real types, not `any`: a topic is a string
export const wrong = new Writer({ brokers: ['127.0.0.1:9092'], topic: 42 })
