// One group of kafkats Readers and Java KafkaConsumers (test/helpers/java-group.ts) reading one
// topic, each record's deliveries counted by value: what the mixed-group suites share
// (reader-consumer-protocol-java: a KIP-848 group of both; reader-rolling-upgrade-java: Java classic
// members while Readers upgrade and downgrade the group). Records are the produce() helper's
// values 0..total-1.

import { CommitRejectedError } from '../../src/consumer/errors.js'
import { Reader } from '../../src/consumer/reader.js'
import { startJavaMember, type JavaMember } from '../helpers/java-group.js'
import { valueOf } from './helpers.js'

interface Member {
  reader: Reader
  stop: AbortController
  done: Promise<void>
}

export class MixedGroup {
  readonly readers = new Map<string, Member>()
  readonly javas = new Map<string, JavaMember>()
  readonly byKind = { kafkats: 0, java: 0 }
  #counts: Uint8Array
  #distinct = 0

  constructor(
    readonly bootstrap: string[],
    readonly groupId: string,
    readonly topic: string,
    readonly total: number,
  ) {
    this.#counts = new Uint8Array(total)
  }

  get distinct(): number {
    return this.#distinct
  }

  #record(value: string, kind: 'kafkats' | 'java'): void {
    if (this.#counts[Number(value)]!++ === 0) this.#distinct++
    this.byKind[kind]++
  }

  /** A consumer-protocol Reader that reads in batches and commits each (refused commits ignored). */
  joinKafkats(name: string): void {
    const reader = new Reader({
      brokers: this.bootstrap,
      groupId: this.groupId,
      topic: this.topic,
      groupProtocol: 'consumer',
      maxWait: 200,
      partitionMaxBytes: 2048,
    })
    const stop = new AbortController()
    const done = (async () => {
      for (;;) {
        let batch
        try {
          batch = await reader.fetchBatch({ signal: stop.signal })
        } catch (err) {
          if (stop.signal.aborted) return
          throw err
        }
        for (const m of batch.messages) this.#record(valueOf(m), 'kafkats')
        await reader.commitMessages(...batch.messages).catch((err: unknown) => {
          if (!(err instanceof CommitRejectedError)) throw err
        })
      }
    })()
    this.readers.set(name, { reader, stop, done })
  }

  async leaveKafkats(name: string): Promise<void> {
    const r = this.readers.get(name)!
    r.stop.abort()
    await r.done
    await r.reader.close()
    this.readers.delete(name)
  }

  /** A Java KafkaConsumer; `props` are its consumer configs on top of java-group.ts's. */
  joinJava(name: string, props?: Record<string, string | number>): void {
    const onValue = (v: string) => this.#record(v, 'java')
    this.javas.set(name, startJavaMember(this.bootstrap, this.groupId, this.topic, onValue, props))
  }

  async leaveJava(name: string): Promise<void> {
    await this.javas.get(name)!.stop()
    this.javas.delete(name)
  }

  progress(): string {
    return `${this.#distinct} of ${this.total} read (kafkats ${this.byKind.kafkats}, java ${this.byKind.java})`
  }

  /** Every member leaves. */
  async stop(): Promise<void> {
    for (const name of [...this.readers.keys()]) await this.leaveKafkats(name)
    for (const name of [...this.javas.keys()]) await this.leaveJava(name)
  }

  /** Records delivered more than once (extra deliveries) and never. */
  tally(): { duplicates: number; missing: number } {
    let duplicates = 0
    let missing = 0
    for (const c of this.#counts) {
      if (c === 0) missing++
      else duplicates += c - 1
    }
    return { duplicates, missing }
  }
}
