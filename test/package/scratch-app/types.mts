// Type-checked by test/package/tarball.test.ts with `module: nodenext` in ESM mode (a .mts file).
import { Writer } from 'kafkats'
import { Cluster } from 'kafkats/broker'

export const writer: Writer = new Writer({ brokers: ['127.0.0.1:9092'], topic: 'orders' })
export const started: Promise<Cluster> = Cluster.start({ brokers: 1 })

// @ts-expect-error the declarations are real types, not `any`: a topic is a string
export const wrong = new Writer({ brokers: ['127.0.0.1:9092'], topic: 42 })
