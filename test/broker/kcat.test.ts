// librdkafka (kcat 1.7 / librdkafka 2.0) against the reference cluster. When these fail the
// broker is wrong until shown otherwise. Every kcat run is bounded by a timeout.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import { peer } from '../helpers/peers.js'
import { run } from './helpers.js'

const N = 10_000

function lines(n: number, prefix: string): string {
  return Array.from({ length: n }, (_, i) => `${prefix}-${i}`).join('\n') + '\n'
}

async function kcat(args: string[], input?: string, timeoutMs = 30_000) {
  const r = await run(peer('kcat'), args, input === undefined ? { timeoutMs } : { timeoutMs, input })
  if (r.timedOut) throw new Error(`kcat ${args.join(' ')} timed out\n${r.stderr.slice(-2000)}`)
  return r
}

describe('kcat (librdkafka)', () => {
  let cluster: Cluster
  let bootstrap: string
  beforeAll(async () => {
    cluster = await Cluster.start({ brokers: 3, defaultPartitions: 3, groupInitialRebalanceDelayMs: 0 })
    bootstrap = cluster.bootstrapServers.join(',')
  })
  afterAll(async () => {
    await cluster.stop()
  })

  it('lists metadata (kcat -L)', async () => {
    await kcat(['-b', bootstrap, '-P', '-t', 'listed'], 'x\n')
    const r = await kcat(['-b', bootstrap, '-L'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('3 brokers:')
    for (const b of cluster.brokers) expect(r.stdout).toContain(`broker ${b.id} at ${b.host}:${b.port}`)
    expect(r.stdout).toMatch(/topic "listed" with 3 partitions:/)
    expect(r.stdout).toMatch(/partition 0, leader \d, replicas: \d,\d,\d, isrs: \d,\d,\d/)
  })

  for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
    it(`produces and consumes ${N} messages with ${codec}`, async () => {
      const topic = `kcat-${codec}`
      const produced = await kcat(
        ['-b', bootstrap, '-P', '-t', topic, '-z', codec, '-X', 'linger.ms=5'],
        lines(N, codec),
        60_000,
      )
      expect(produced.code, produced.stderr).toBe(0)
      const consumed = await kcat(
        ['-b', bootstrap, '-C', '-t', topic, '-e', '-o', 'beginning', '-q'],
        undefined,
        60_000,
      )
      expect(consumed.code, consumed.stderr).toBe(0)
      const got = consumed.stdout.split('\n').filter((l) => l !== '')
      expect(got).toHaveLength(N)
      expect(new Set(got)).toEqual(new Set(lines(N, codec).trim().split('\n')))
      // The broker stored the batches as sent: compressed with the producer's codec.
      const codecs = new Set(
        cluster.topics
          .get(topic)!
          .partitions.flatMap((p) => [...p.log.batches()].map((b) => b.data.readInt16BE(21) & 7)),
      )
      expect(codecs.has(['none', 'gzip', 'snappy', 'lz4', 'zstd'].indexOf(codec))).toBe(true)
    })
  }

  it('produces idempotently (enable.idempotence=true) without duplicates', async () => {
    const produced = await kcat(
      ['-b', bootstrap, '-P', '-t', 'kcat-idem', '-X', 'enable.idempotence=true', '-X', 'acks=all'],
      lines(N, 'idem'),
      60_000,
    )
    expect(produced.code, produced.stderr).toBe(0)
    const consumed = await kcat(
      ['-b', bootstrap, '-C', '-t', 'kcat-idem', '-e', '-o', 'beginning', '-q'],
      undefined,
      60_000,
    )
    const got = consumed.stdout.split('\n').filter((l) => l !== '')
    expect(got).toHaveLength(N)
    expect(new Set(got).size).toBe(N)
    const pids = new Set(
      cluster.topics.get('kcat-idem')!.partitions.flatMap((p) => [...p.log.batches()].map((b) => b.producerId)),
    )
    expect(pids.size).toBe(1)
    expect([...pids][0]).toBeGreaterThanOrEqual(0n)
  })

  it('consumes in a group, commits, and resumes from the committed offsets', async () => {
    await kcat(['-b', bootstrap, '-P', '-t', 'kcat-group'], lines(300, 'first'))
    const args = ['-b', bootstrap, '-G', 'kcat-g', '-X', 'auto.offset.reset=earliest', '-e', '-q', 'kcat-group']
    const first = await kcat(args, undefined, 60_000)
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout.split('\n').filter((l) => l !== '')).toHaveLength(300)
    const group = cluster.groups.get('kcat-g')!
    const committed = [...group.offsets.values()].reduce((n, o) => n + Number(o.offset), 0)
    expect(committed).toBe(300)

    await kcat(['-b', bootstrap, '-P', '-t', 'kcat-group'], lines(50, 'second'))
    const second = await kcat(args, undefined, 60_000)
    const got = second.stdout.split('\n').filter((l) => l !== '')
    expect(got.sort()).toEqual(lines(50, 'second').trim().split('\n').sort())
  })

  it('survives a broker stop during consumption (leaders move)', async () => {
    await kcat(['-b', bootstrap, '-P', '-t', 'kcat-failover', '-X', 'acks=all'], lines(1000, 'a'))
    await cluster.faults.stopBroker(1)
    const live = cluster.bootstrapServers.join(',')
    const consumed = await kcat(
      ['-b', live, '-C', '-t', 'kcat-failover', '-e', '-o', 'beginning', '-q'],
      undefined,
      60_000,
    )
    expect(consumed.stdout.split('\n').filter((l) => l !== '')).toHaveLength(1000)
    await cluster.faults.startBroker(1)
  })
})
