// dataDir: logs, topics, committed offsets and producer state survive a cluster restart.

import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import { ConfigError } from '../../src/errors.js'
import { AddPartitionsToTxn } from '../../src/protocol/messages/add-partitions-to-txn.js'
import { CreateTopics } from '../../src/protocol/messages/create-topics.js'
import { DeleteRecords } from '../../src/protocol/messages/delete-records.js'
import { EndTxn } from '../../src/protocol/messages/end-txn.js'
import { Fetch } from '../../src/protocol/messages/fetch.js'
import { InitProducerId } from '../../src/protocol/messages/init-producer-id.js'
import { Metadata } from '../../src/protocol/messages/metadata.js'
import { OffsetCommit } from '../../src/protocol/messages/offset-commit.js'
import { OffsetFetch } from '../../src/protocol/messages/offset-fetch.js'
import { Produce } from '../../src/protocol/messages/produce.js'
import { decodeRecordBatches } from '../../src/protocol/record-batch.js'
import { peer } from '../helpers/peers.js'
import { makeBatch, run, TestClient } from './helpers.js'

// Raw requests with exact answers expected: the clusters start with their group coordinators
// loaded (coordinatorLoadRequests: 0); the clients' retries of a load are tested elsewhere.
describe('dataDir persistence', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kafkats-broker-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  const produce = async (c: TestClient, topic: string, records: Buffer, transactionalId: string | null = null) =>
    (
      await c.send(Produce, 9, {
        transactionalId,
        acks: -1,
        timeoutMs: 1000,
        topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
      })
    ).responses[0]!.partitionResponses[0]!

  it('restores topics, batches, offsets, producer state and transactions', async () => {
    const first = await Cluster.start({ coordinatorLoadRequests: 0, brokers: 2, dataDir: dir })
    const clusterId = first.clusterId
    let c = await TestClient.connect(first.bootstrapServers[0]!)
    await c.send(CreateTopics, 7, {
      topics: [
        {
          name: 'kept',
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [{ partitionIndex: 0, brokerIds: [0, 1] }],
          configs: [{ name: 'retention.ms', value: '123456' }],
        },
      ],
    })
    const topicId = first.topics.get('kept')!.id
    for (let i = 0; i < 3; i++) await produce(c, 'kept', await makeBatch(4, { valuePrefix: `plain${i}` }))
    const { producerId: pid } = await c.send(InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 1000 })
    const idem = await makeBatch(2, { producerId: pid, producerEpoch: 0, baseSequence: 0 })
    const idemOffset = (await produce(c, 'kept', idem)).baseOffset
    // An aborted transaction.
    const coord = await TestClient.connect(first.coordinatorFor('persist-txn')!.address)
    const txn = await coord.send(InitProducerId, 4, { transactionalId: 'persist-txn', transactionTimeoutMs: 60_000 })
    expect(txn.errorCode).toBe(0)
    await coord.send(AddPartitionsToTxn, 3, {
      v3AndBelowTransactionalId: 'persist-txn',
      v3AndBelowProducerId: txn.producerId,
      v3AndBelowProducerEpoch: txn.producerEpoch,
      v3AndBelowTopics: [{ name: 'kept', partitions: [0] }],
    })
    await produce(
      c,
      'kept',
      await makeBatch(1, {
        producerId: txn.producerId,
        producerEpoch: txn.producerEpoch,
        baseSequence: 0,
        transactional: true,
      }),
      'persist-txn',
    )
    await coord.send(EndTxn, 3, {
      transactionalId: 'persist-txn',
      producerId: txn.producerId,
      producerEpoch: txn.producerEpoch,
      committed: false,
    })
    // The abort marker is written a moment after EndTxn answers (as on Kafka): wait for it, so the
    // state saved below is the completed transaction, whatever the machine's load.
    const kept = first.topics.partition('kept', 0)!
    for (let i = 0; i < 400 && kept.producers.ongoing().length > 0; i++) await new Promise((r) => setTimeout(r, 5))
    expect(kept.producers.ongoing()).toEqual([])
    await c.send(DeleteRecords, 2, {
      topics: [{ name: 'kept', partitions: [{ partitionIndex: 0, offset: 4n }] }],
      timeoutMs: 1000,
    })
    const gc = await TestClient.connect(first.coordinatorFor('pg')!.address)
    await gc.send(OffsetCommit, 9, {
      groupId: 'pg',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      topics: [{ name: 'kept', partitions: [{ partitionIndex: 0, committedOffset: 9n, committedMetadata: 'm' }] }],
    })
    const endBefore = first.topics.partition('kept', 0)!.log.endOffset
    c.close()
    coord.close()
    gc.close()
    await first.stop()

    const second = await Cluster.start({ coordinatorLoadRequests: 0, brokers: 2, dataDir: dir })
    try {
      expect(second.clusterId).toBe(clusterId)
      c = await TestClient.connect(second.bootstrapServers[0]!)
      const md = await c.send(Metadata, 12, { topics: [{ name: 'kept' }] })
      expect(md.topics[0]).toMatchObject({ errorCode: 0, topicId })
      expect(md.topics[0]!.partitions[0]).toMatchObject({ leaderId: 0, replicaNodes: [0, 1], isrNodes: [0, 1] })
      const p = second.topics.partition('kept', 0)!
      expect(second.topics.get('kept')!.config('retention.ms')).toBe('123456')
      expect(p.log.endOffset).toBe(endBefore)
      expect(p.logStartOffset).toBe(4)
      expect(p.highWatermark).toBe(endBefore)
      // The idempotent producer's retry is still recognised as a duplicate.
      expect((await produce(c, 'kept', idem)).baseOffset).toBe(idemOffset)
      // Producer ids are not reused.
      expect(
        (await c.send(InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 1000 })).producerId,
      ).toBeGreaterThan(txn.producerId)
      // read_committed still skips the aborted transaction.
      const f = await c.send(Fetch, 12, {
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 1 << 20,
        isolationLevel: 1,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic: 'kept', partitions: [{ partition: 0, fetchOffset: 4n, partitionMaxBytes: 1 << 20 }] }],
      })
      const part = f.responses[0]!.partitions[0]!
      expect(part.abortedTransactions).toEqual([{ producerId: txn.producerId, firstOffset: 14n }])
      expect((await decodeRecordBatches(part.records)).map((b) => b.baseOffset)[0]).toBe(4n)
      const gc2 = await TestClient.connect(second.coordinatorFor('pg')!.address)
      const offsets = await gc2.send(OffsetFetch, 7, {
        groupId: 'pg',
        topics: [{ name: 'kept', partitionIndexes: [0] }],
      })
      expect(offsets.topics[0]!.partitions[0]).toMatchObject({ committedOffset: 9n, metadata: 'm' })
      gc2.close()
      // The transactional id continues with a bumped epoch.
      const coord2 = await TestClient.connect(second.coordinatorFor('persist-txn')!.address)
      const again = await coord2.send(InitProducerId, 4, {
        transactionalId: 'persist-txn',
        transactionTimeoutMs: 60_000,
      })
      coord2.close()
      expect(again).toMatchObject({ producerId: txn.producerId, producerEpoch: txn.producerEpoch + 1 })
      c.close()
    } finally {
      await second.stop()
    }
    await expect(
      Cluster.start({ coordinatorLoadRequests: 0, dataDir: dir, clusterId: 'AAAAAAAAAAAAAAAAAAAAAQ' }),
    ).rejects.toThrow(/does not match/)
  })

  it('has every acknowledged write on disk without stop() (as after kill -9); a torn batch at a log end is cut', async () => {
    const cdir = await mkdtemp(join(tmpdir(), 'kafkats-broker-crash-'))
    const crashed = await Cluster.start({ coordinatorLoadRequests: 0, dataDir: cdir })
    try {
      const c = await TestClient.connect(crashed.bootstrapServers[0]!)
      await c.send(CreateTopics, 7, { topics: [{ name: 'crash', numPartitions: 1, replicationFactor: 1 }] })
      const batches = [await makeBatch(3), await makeBatch(2), await makeBatch(4)]
      expect((await produce(c, 'crash', batches[0]!)).errorCode).toBe(0)
      // DeleteRecords rewrites the log and state.json; what follows is only appended.
      await c.send(DeleteRecords, 2, {
        topics: [{ name: 'crash', partitions: [{ partitionIndex: 0, offset: 1n }] }],
        timeoutMs: 1000,
      })
      for (const b of batches.slice(1)) expect((await produce(c, 'crash', b)).errorCode).toBe(0)
      // A topic made through the API (no request to save state.json after it) and written to at once.
      crashed.createTopic('direct', { partitions: 1 })
      expect((await produce(c, 'direct', await makeBatch(5))).errorCode).toBe(0)
      // An idempotent producer's batch: its retry after the restart must be seen as a duplicate.
      const { producerId: pid } = await c.send(InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 1000 })
      const idem = await makeBatch(2, { producerId: pid, producerEpoch: 0, baseSequence: 0 })
      expect((await produce(c, 'direct', idem)).baseOffset).toBe(5n)
      const commit = (offset: bigint) =>
        c.send(OffsetCommit, 9, {
          groupId: 'crash-g',
          generationIdOrMemberEpoch: -1,
          memberId: '',
          topics: [
            { name: 'crash', partitions: [{ partitionIndex: 0, committedOffset: offset, committedMetadata: '' }] },
          ],
        })
      await commit(2n)
      // Only offsets.log changes here: nothing else about the group or topics does.
      await commit(7n)
      c.close()
      // A crash in the middle of writing a batch leaves part of it at the end of the file.
      const file = join(cdir, 'logs', `${crashed.topics.get('crash')!.id}-0.log`)
      const whole = (await stat(file)).size
      expect(whole).toBe(batches.reduce((n, b) => n + b.length, 0))
      await appendFile(file, (await readFile(file)).subarray(0, 40))
      const offsetsLog = join(cdir, 'offsets.log')
      await appendFile(offsetsLog, '{"s":99,"g":"crash-g","t":"cra')

      // Another cluster on the same directory sees exactly what the files hold (the page cache
      // is all a killed process leaves behind); the crashed one is never stopped before.
      const restarted = await Cluster.start({ coordinatorLoadRequests: 0, dataDir: cdir })
      try {
        const p = restarted.topics.partition('crash', 0)!
        expect({ start: p.logStartOffset, end: p.log.endOffset, hw: p.highWatermark }).toEqual({
          start: 1,
          end: 9,
          hw: 9,
        })
        expect((await stat(file)).size).toBe(whole)
        // The torn offsets.log line is cut too, so the next commit starts a line of its own.
        expect(await readFile(offsetsLog, 'utf8')).toMatch(/^(\{[^\n]*\}\n)+$/)
        expect(restarted.topics.partition('direct', 0)!.log.endOffset).toBe(7)
        const rc = await TestClient.connect(restarted.bootstrapServers[0]!)
        expect(await produce(rc, 'direct', idem)).toMatchObject({ errorCode: 0, baseOffset: 5n })
        expect(restarted.topics.partition('direct', 0)!.log.endOffset).toBe(7)
        const next = await rc.send(InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 1000 })
        expect(next.producerId).toBeGreaterThan(pid)
        rc.close()
        const gc = await TestClient.connect(restarted.coordinatorFor('crash-g')!.address)
        const offsets = await gc.send(OffsetFetch, 7, {
          groupId: 'crash-g',
          topics: [{ name: 'crash', partitionIndexes: [0] }],
        })
        gc.close()
        expect(offsets.topics[0]!.partitions[0]!.committedOffset).toBe(7n)
      } finally {
        await restarted.stop()
      }
    } finally {
      await crashed.stop()
      await rm(cdir, { recursive: true, force: true })
    }
  })

  it('refuses a state.json it cannot read with a ConfigError, and leaves it as it was', async () => {
    const bad = await mkdtemp(join(tmpdir(), 'kafkats-broker-bad-'))
    try {
      await writeFile(join(bad, 'state.json'), '{"version":1, truncated')
      const error = await Cluster.start({ coordinatorLoadRequests: 0, dataDir: bad }).then(
        () => undefined,
        (err: unknown) => err,
      )
      expect(error).toBeInstanceOf(ConfigError)
      expect(String(error)).toMatch(/state\.json is not a kafkats state file/)
      expect(await readFile(join(bad, 'state.json'), 'utf8')).toBe('{"version":1, truncated')
    } finally {
      await rm(bad, { recursive: true, force: true })
    }
  })

  it('acknowledges nothing once a data dir write fails, and says so once', async () => {
    const fdir = await mkdtemp(join(tmpdir(), 'kafkats-broker-fail-'))
    const errors: string[] = []
    const cluster = await Cluster.start({
      coordinatorLoadRequests: 0,
      dataDir: fdir,
      logger: { error: (m) => errors.push(m) },
    })
    try {
      cluster.createTopic('doomed', { partitions: 1 })
      // The partition's file cannot be created once its directory is gone.
      await rm(join(fdir, 'logs'), { recursive: true })
      const c = await TestClient.connect(cluster.bootstrapServers[0]!)
      await expect(produce(c, 'doomed', await makeBatch(2))).rejects.toThrow()
      c.close()
      expect(cluster.topics.partition('doomed', 0)!.log.endOffset).toBe(0)
      const again = await TestClient.connect(cluster.bootstrapServers[0]!)
      await expect(again.send(Metadata, 12, { topics: [{ name: 'doomed' }] })).rejects.toThrow()
      again.close()
      expect(errors.filter((m) => m.startsWith('data dir'))).toEqual([
        expect.stringMatching(/^data dir .* a write failed \(ENOENT.*the broker acknowledges nothing more$/),
      ])
    } finally {
      await cluster.stop().catch(() => {})
      await rm(fdir, { recursive: true, force: true })
    }
  })

  it('kcat resumes a consumer group from committed offsets after a cluster restart', async () => {
    const kdir = await mkdtemp(join(tmpdir(), 'kafkats-broker-kcat-'))
    try {
      const lines = (n: number, p: string) => Array.from({ length: n }, (_, i) => `${p}-${i}`).join('\n') + '\n'
      let cluster = await Cluster.start({ coordinatorLoadRequests: 0, dataDir: kdir, groupInitialRebalanceDelayMs: 0 })
      let b = cluster.bootstrapServers.join(',')
      await run(peer('kcat'), ['-b', b, '-P', '-t', 'restart'], { timeoutMs: 30_000, input: lines(200, 'before') })
      const args = (bootstrap: string) => [
        '-b',
        bootstrap,
        '-G',
        'restart-g',
        '-X',
        'auto.offset.reset=earliest',
        '-e',
        '-q',
        'restart',
      ]
      const first = await run(peer('kcat'), args(b), { timeoutMs: 60_000 })
      expect(first.stdout.split('\n').filter((l) => l !== '')).toHaveLength(200)
      await cluster.stop()

      cluster = await Cluster.start({ coordinatorLoadRequests: 0, dataDir: kdir, groupInitialRebalanceDelayMs: 0 })
      b = cluster.bootstrapServers.join(',')
      await run(peer('kcat'), ['-b', b, '-P', '-t', 'restart'], { timeoutMs: 30_000, input: lines(30, 'after') })
      const second = await run(peer('kcat'), args(b), { timeoutMs: 60_000 })
      expect(
        second.stdout
          .split('\n')
          .filter((l) => l !== '')
          .sort(),
      ).toEqual(lines(30, 'after').trim().split('\n').sort())
      await cluster.stop()
    } finally {
      await rm(kdir, { recursive: true, force: true })
    }
  })
})
