// kafkats/streams next to Java Kafka Streams 4.4.0 on the same machine and broker: word count and a
// windowed count (1 s tumbling windows, 1 000 keys) over N input records, at_least_once and
// exactly_once_v2. Each application runs in its own process (bench/streams/app.ts,
// bench/streams/StreamsBench.java), one thread, no record cache (one output per update, as
// kafkats/streams), its guarantee's default commit interval (30 s / 100 ms).
//
//   npm run bench:streams -- [--records 1000000] [--quick] [--targets reference,kafka]
//                            [--runtimes kafkats,java] [--guarantees at_least_once,exactly_once_v2]
//                            [--topologies wordcount,windowed] [--partitions 4]
//                            [--kafka-port-base 39000] [--out bench/streams-results.md]
//
// --quick: 100 000 records. Targets: `reference` is the reference broker in its own process
// (bench/broker-server.ts, 1 broker); `kafka` is Apache Kafka, one node: KAFKA_BOOTSTRAP when set
// (KAFKATS_KAFKA_STATE names its state dir so its CPU can be read), else scripts/kafka.sh on
// --kafka-port-base (+92 plaintext, +192, +292, +392, +492; state /tmp/kafkats-bench-streams),
// stopped at the end.
//
// The input is written first (not measured). A run is timed from the application's RUNNING to
// the moment it is done: under at_least_once when its output holds one record per update (3 per
// line for word count, 1 per record windowed); under exactly_once_v2 when its group has committed
// every input and repartition record (and no transaction is open). records/s = N / that time; CPU
// s per 1M = the application process's CPU time (user + system) over that time, per 1M input
// records; the broker's the same. Startup (process start to RUNNING: JVM start and class loading,
// tsx, group join) is shown apart.

import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

import { Admin } from '../src/admin/admin.js'
import { Murmur2Balancer } from '../src/producer/balancers.js'
import { Writer } from '../src/producer/writer.js'
import { compileJava } from '../test/streams/helpers/java-streams.js'
import { peer } from '../test/helpers/peers.js'

const HERE = fileURLToPath(new URL('.', import.meta.url))
const ROOT = join(HERE, '..')

const { values: opts } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    quick: { type: 'boolean', default: false },
    targets: { type: 'string', default: 'reference,kafka' },
    runtimes: { type: 'string', default: 'kafkats,java' },
    guarantees: { type: 'string', default: 'at_least_once,exactly_once_v2' },
    topologies: { type: 'string', default: 'wordcount,windowed' },
    partitions: { type: 'string', default: '4' },
    'kafka-port-base': { type: 'string', default: '39000' },
    out: { type: 'string', default: join(HERE, 'streams-results.md') },
    help: { type: 'boolean', default: false },
  },
})
if (opts.help) {
  console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n\n')[0])
  process.exit(0)
}
const list = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '')
const N = opts.quick ? 100_000 : Number(opts.records)
const partitions = Number(opts.partitions)
if (!Number.isInteger(N) || N < 1) throw new RangeError('--records needs a positive integer')
if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError('--partitions needs a positive integer')
const targets = list(opts.targets)
const runtimes = list(opts.runtimes) as ('kafkats' | 'java')[]
const guarantees = list(opts.guarantees) as ('at_least_once' | 'exactly_once_v2')[]
const topologies = list(opts.topologies) as ('wordcount' | 'windowed')[]
for (const [name, values, allowed] of [
  ['targets', targets, ['reference', 'kafka']],
  ['runtimes', runtimes, ['kafkats', 'java']],
  ['guarantees', guarantees, ['at_least_once', 'exactly_once_v2']],
  ['topologies', topologies, ['wordcount', 'windowed']],
] as const) {
  const bad = values.filter((v) => !(allowed as readonly string[]).includes(v))
  if (values.length === 0 || bad.length > 0) throw new RangeError(`--${name}: one or more of ${allowed.join(', ')}`)
}

// ---------------------------------------------------------------------------------------------
// Brokers

interface Target {
  name: string
  bootstrap: string[]
  pids: () => number[]
  stop: () => Promise<void>
}

async function startReference(): Promise<Target> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'broker-server.ts'), '--brokers', '1'], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const [first] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string]
  return {
    name: 'reference broker (1)',
    bootstrap: (JSON.parse(first) as { bootstrap: string }).bootstrap.split(','),
    pids: () => [child.pid!],
    stop: async () => {
      if (child.exitCode !== null) return
      const done = once(child, 'exit')
      child.stdin!.end('stop\n')
      await done
    },
  }
}

function kafkaPids(state: string): number[] {
  if (!existsSync(state)) return []
  return readdirSync(state)
    .filter((d) => d.startsWith('node-') && existsSync(join(state, d, 'kafka.pid')))
    .map((d) => Number(readFileSync(join(state, d, 'kafka.pid'), 'utf8').trim()))
}

async function startKafka(): Promise<Target> {
  const version = process.env.KAFKA_VERSION ?? '4.4.0'
  if (process.env.KAFKA_BOOTSTRAP) {
    const state = process.env.KAFKATS_KAFKA_STATE ?? ''
    return {
      name: `Kafka at ${process.env.KAFKA_BOOTSTRAP}`,
      bootstrap: process.env.KAFKA_BOOTSTRAP.split(','),
      pids: () => kafkaPids(state),
      stop: async () => {},
    }
  }
  const base = Number(opts['kafka-port-base'])
  const env = {
    ...process.env,
    KAFKATS_KAFKA_STATE: '/tmp/kafkats-bench-streams',
    KAFKATS_PORT_PLAINTEXT: String(base + 92),
    KAFKATS_PORT_SASL: String(base + 192),
    KAFKATS_PORT_SSL: String(base + 292),
    KAFKATS_PORT_SASL_SSL: String(base + 392),
    KAFKATS_PORT_CONTROLLER: String(base + 492),
  }
  const script = join(ROOT, 'scripts', 'kafka.sh')
  execFileSync(script, ['start', '--nodes', '1'], { env, stdio: ['ignore', 'ignore', 'inherit'] })
  const bootstrap = execFileSync(script, ['bootstrap'], { env, encoding: 'utf8' }).trim()
  return {
    name: `Kafka ${version} (1 node)`,
    bootstrap: bootstrap.split(','),
    pids: () => kafkaPids(env.KAFKATS_KAFKA_STATE),
    stop: async () => {
      execFileSync(script, ['stop'], { env, stdio: ['ignore', 'ignore', 'inherit'] })
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Measuring

const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100

/** CPU seconds (user + system, reaped children included) of the processes. */
function cpuSeconds(pids: number[]): number {
  let ticks = 0
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])
    } catch {
      // not on Linux, or gone
    }
  }
  return ticks / TICK
}

const VOCAB = Array.from({ length: 1000 }, (_, i) => `w${(i * 7919) % 1000}`)

async function writeInputs(bootstrap: string[], words: string, win: string): Promise<void> {
  const t0 = Date.now() - 2 * N
  for (const [topic, make] of [
    [
      words,
      (i: number) => ({
        key: `l${i}`,
        value: `${VOCAB[i % 1000]} ${VOCAB[(i * 31) % 1000]} ${VOCAB[(i * 97) % 1000]}`,
      }),
    ],
    [win, (i: number) => ({ key: `k${i % 1000}`, value: 'x', timestamp: t0 + i })],
  ] as const) {
    const writer = new Writer({ brokers: bootstrap, topic, balancer: new Murmur2Balancer({ consistent: true }) })
    try {
      for (let i = 0; i < N; i += 10_000) {
        await writer.writeMessages(Array.from({ length: Math.min(10_000, N - i) }, (_, j) => make(i + j)))
      }
    } finally {
      await writer.close()
    }
  }
}

/** exactly_once_v2 done: every input and repartition record committed (a repartition log ends with a marker), no transaction open. */
async function caughtUp(admin: Admin, groupId: string, input: string): Promise<boolean> {
  const internal = (await admin.listTopics()).filter((t) => t.startsWith(`${groupId}-`) && t.endsWith('-repartition'))
  const committed = await admin.committedOffsets(groupId, { topics: [input, ...internal] })
  const parts = committed.map((c) => ({ topic: c.topic, partition: c.partition, spec: 'latest' as const }))
  const hw = await admin.listOffsets(parts)
  const lso = await admin.listOffsets(parts, { isolationLevel: 'read_committed' })
  return committed.every((c, i) => {
    const end = hw[i]!.offset ?? 0n
    if (lso[i]!.offset !== end) return false
    if (end === 0n) return true
    return c.offset !== null && c.offset >= (internal.includes(c.topic) ? end - 1n : end)
  })
}

/** at_least_once done: the output holds `expected` records (no transaction markers in it). */
async function outputCount(admin: Admin, output: string): Promise<bigint> {
  const ends = await admin.listOffsets(
    Array.from({ length: partitions }, (_, partition) => ({ topic: output, partition, spec: 'latest' as const })),
  )
  return ends.reduce((sum, e) => sum + (e.offset ?? 0n), 0n)
}

interface Row {
  target: string
  topology: string
  guarantee: string
  runtime: string
  seconds: number
  startup: number
  cpu: number
  brokerCpu: number
}

let javaClasspath: string | undefined

async function run(
  target: Target,
  admin: Admin,
  runtime: 'kafkats' | 'java',
  topology: 'wordcount' | 'windowed',
  guarantee: 'at_least_once' | 'exactly_once_v2',
  input: string,
): Promise<Row> {
  const appId = `bench-${runtime}-${topology}-${guarantee === 'at_least_once' ? 'alos' : 'eos'}-${Date.now().toString(36)}`
  const output = `${appId}-out`
  await admin.createTopics([{ name: output, partitions, replicationFactor: 1 }])
  const stateDir = mkdtempSync(join(tmpdir(), 'bench-streams-'))
  const spawned = performance.now()
  let child: ChildProcess
  if (runtime === 'java') {
    javaClasspath ??= compileJava('StreamsBench', join(HERE, 'streams'))
    const argv = [target.bootstrap.join(','), appId, topology, input, output, guarantee, stateDir]
    child = spawn(peer('java'), ['-Xmx1g', '-cp', javaClasspath, 'StreamsBench', ...argv], {
      stdio: ['pipe', 'pipe', 'inherit'],
    })
  } else {
    const argv = JSON.stringify({ brokers: target.bootstrap, applicationId: appId, topology, input, output, guarantee })
    // KAFKATS_BENCH_CPU_PROF=<dir>: the application writes a CPU profile there (for investigations).
    const prof = process.env.KAFKATS_BENCH_CPU_PROF
    const profile = prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []
    child = spawn(process.execPath, [...profile, '--import', 'tsx', join(HERE, 'streams', 'app.ts'), argv], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'inherit'],
    })
  }
  const exited = once(child, 'exit')
  try {
    const lines = createInterface({ input: child.stdout! })
    await new Promise<void>((resolve, reject) => {
      lines.on('line', (l) =>
        l === 'RUNNING' ? resolve() : l === 'ERROR' ? reject(new Error(`${runtime} failed`)) : undefined,
      )
      child.on('exit', (code) => reject(new Error(`${runtime} exited with ${code}`)))
    })
    const started = performance.now()
    const cpu0 = cpuSeconds([child.pid!])
    const broker0 = cpuSeconds(target.pids())
    const expected = BigInt(topology === 'wordcount' ? 3 * N : N)
    const deadline = Date.now() + 1_800_000
    for (;;) {
      const done =
        guarantee === 'at_least_once'
          ? (await outputCount(admin, output)) >= expected
          : await caughtUp(admin, appId, input)
      if (done) break
      if (Date.now() > deadline) throw new Error(`${runtime} ${topology} ${guarantee}: not done after 30 minutes`)
      await new Promise((r) => setTimeout(r, 100))
    }
    const row: Row = {
      target: target.name,
      topology,
      guarantee,
      runtime,
      seconds: (performance.now() - started) / 1000,
      startup: (started - spawned) / 1000,
      cpu: cpuSeconds([child.pid!]) - cpu0,
      brokerCpu: cpuSeconds(target.pids()) - broker0,
    }
    // A sanity check on what was measured: one output record per update, no more, no fewer.
    if (guarantee === 'exactly_once_v2' && (await outputCount(admin, output)) < expected) {
      throw new Error(`${runtime} ${topology}: fewer output records than updates`)
    }
    return row
  } finally {
    child.stdin!.end()
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    await exited
    clearTimeout(timer)
    rmSync(stateDir, { recursive: true, force: true })
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(`${appId}-`))
    await admin.deleteTopics(mine).catch(() => undefined)
  }
}

// ---------------------------------------------------------------------------------------------

const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })

function table(rows: Row[]): string {
  const out = [
    '| broker | topology | guarantee | runtime | records/s | CPU s per 1M | broker CPU s per 1M | time s | startup s |',
    '|---|---|---|---|---:|---:|---:|---:|---:|',
  ]
  for (const r of rows) {
    out.push(
      `| ${r.target} | ${r.topology} | ${r.guarantee} | ${r.runtime === 'java' ? 'Kafka Streams 4.4.0' : 'kafkats/streams'} | ` +
        `${fmt(N / r.seconds)} | ${fmt((r.cpu * 1e6) / N, 1)} | ${fmt((r.brokerCpu * 1e6) / N, 1)} | ${fmt(r.seconds, 1)} | ${fmt(r.startup, 1)} |`,
    )
  }
  return out.join('\n')
}

async function main(): Promise<void> {
  const rows: Row[] = []
  const load0 = loadavg()
  const started = new Date()
  for (const name of targets) {
    const target = name === 'reference' ? await startReference() : await startKafka()
    const admin = new Admin({ brokers: target.bootstrap })
    try {
      const stamp = Date.now().toString(36)
      const words = `bench-words-${stamp}`
      const win = `bench-win-${stamp}`
      await admin.createTopics([
        { name: words, partitions, replicationFactor: 1 },
        { name: win, partitions, replicationFactor: 1 },
      ])
      const t0 = performance.now()
      await writeInputs(target.bootstrap, words, win)
      console.error(
        `${target.name}: ${fmt(N)} records per input written in ${fmt((performance.now() - t0) / 1000, 1)} s`,
      )
      for (const topology of topologies) {
        for (const guarantee of guarantees) {
          for (const runtime of runtimes) {
            const row = await run(target, admin, runtime, topology, guarantee, topology === 'wordcount' ? words : win)
            rows.push(row)
            console.error(table([row]).split('\n')[2])
          }
        }
      }
      await admin.deleteTopics([words, win]).catch(() => undefined)
    } finally {
      await admin.close()
      await target.stop()
    }
  }
  const load1 = loadavg()
  const report = [
    `# kafkats/streams and Kafka Streams: throughput`,
    '',
    `\`npm run bench:streams${opts.quick ? ' -- --quick' : N === 1_000_000 ? '' : ` -- --records ${N}`}\`, ${started.toISOString()}: ` +
      `${fmt(N)} input records per topology, ${partitions} partitions, one application process with one thread each, ` +
      `no record cache, default commit intervals. ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}; ` +
      `load average ${load0.map((l) => l.toFixed(2)).join(' ')} before, ${load1.map((l) => l.toFixed(2)).join(' ')} after ` +
      '(the machine may be shared: compare rows of one run).',
    '',
    table(rows),
    '',
    'Word count: lines of 3 words (1 000 distinct), grouped by word through a repartition topic. ' +
      'Windowed: 1 000 keys, 1 s tumbling windows with 1 s grace, timestamps 1 ms apart. Time from RUNNING ' +
      'until done (bench/streams.ts says how each guarantee is judged done); CPU is the process time over that span.',
    '',
  ].join('\n')
  console.log(report)
  writeFileSync(opts.out, report)
}

await main()
