// `npm run bench`: kafkats against its peers in one run (issue 14). Installs the peers into
// bench/peers' own node_modules (never the root package's), starts the brokers (real Kafka
// through scripts/kafka.sh, one node, and the reference cluster in its own process), runs
// interleaved rounds and writes BENCHMARKS.md and bench/peers/chart.svg.
//
//   npm run bench [-- --quick] [--rounds N] [--scale F] [--brokers kafka,reference] [--clients a,b]
//                 [--out DIR] [--publish] [--no-install] [--render results.json]
//
// --quick     1 round, small counts (< 3 min once installed); writes to bench/peers/out/
// --scale F   multiply every message count by F (default 1)
// --out DIR   where BENCHMARKS.md and chart.svg go (default: the repository root and bench/peers/)
// --publish   write to the default places even with --quick (the report says it was a quick run)
// --render F  no measuring: draw BENCHMARKS.md and the chart again from a results.json
// Environment: BENCH_KAFKA_STATE (default /tmp/kafkats-bench-peers), BENCH_KAFKA_PORT_BASE
// (default 59000: ports 59092, 59192, 59292, 59392, 59492), KAFKA_VERSION (default 4.4.0).
//
// Every measurement is one child process (bench/peers/client.ts, or kcat under /usr/bin/time),
// so a peer that fails, hangs or cannot be installed is an error cell in the table, never the end
// of the run.

import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { ClientName, Job, Measurement, Scenario } from './client.js'
import { installPeers, peerVersions } from './install.js'
import { writeReport, type Cell, type Report, type Row } from './report.js'
import { startBrokers, type Broker } from './brokers.js'

const HERE = fileURLToPath(new URL('.', import.meta.url))
const ROOT = join(HERE, '..', '..')

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    scale: { type: 'string', default: '1' },
    brokers: { type: 'string', default: 'kafka,reference' },
    clients: { type: 'string' },
    out: { type: 'string' },
    publish: { type: 'boolean', default: false },
    render: { type: 'string' },
    'no-install': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
})
if (opts.help) {
  console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n\n')[0])
  process.exit(0)
}

/** Where the report goes: the committed places, or a directory of its own. */
function publish(report: Report, outDir: string | undefined): string[] {
  return writeReport(report, {
    markdown: outDir === undefined ? join(ROOT, 'BENCHMARKS.md') : join(outDir, 'BENCHMARKS.md'),
    svg: outDir === undefined ? join(HERE, 'chart.svg') : join(outDir, 'chart.svg'),
    json: outDir === undefined ? join(HERE, 'results.json') : join(outDir, 'results.json'),
    chartLink: outDir === undefined ? 'bench/peers/chart.svg' : 'chart.svg',
  })
}

if (opts.render !== undefined) {
  const report = JSON.parse(readFileSync(opts.render, 'utf8')) as Report
  console.log(publish(report, opts.out).join('\n'))
  process.exit(0)
}

const quick = opts.quick
const rounds = Number(opts.rounds ?? (quick ? 1 : 5))
if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError('--rounds needs a positive integer')
const PARTITIONS = 6
/** Messages per measurement (sends for latency); quick counts keep a run under 3 minutes. */
const scale = Number(opts.scale)
if (!(scale > 0)) throw new RangeError('--scale needs a positive number')
const scaled = (n: number): number => Math.max(100, Math.round(n * scale))
const COUNTS = Object.fromEntries(
  Object.entries(
    quick
      ? { produce100: 50_000, produce1024: 20_000, consume: 50_000, latency: 500 }
      : { produce100: 300_000, produce1024: 100_000, consume: 300_000, latency: 2000 },
  ).map(([k, v]) => [k, scaled(v)]),
) as { produce100: number; produce1024: number; consume: number; latency: number }
const TIMEOUT_MS = quick ? 60_000 : 120_000

type Contender = ClientName | 'kafkats-messages' | 'kcat' | 'limit'
const ALL: Contender[] = ['kafkats', 'kafkats-messages', 'kafkajs', 'platformatic', 'confluent', 'kcat', 'limit']
const wanted = new Set<string>(opts.clients?.split(',') ?? ALL)

interface Plan {
  row: string
  scenario: 'produce' | 'consume' | 'latency'
  size: number
  count: number
  contenders: Contender[]
}

const PLANS: Plan[] = [
  {
    row: 'produce 100 B',
    scenario: 'produce',
    size: 100,
    count: COUNTS.produce100,
    contenders: ['kafkats', 'kafkajs', 'platformatic', 'confluent', 'kcat', 'limit'],
  },
  {
    row: 'produce 1 KiB',
    scenario: 'produce',
    size: 1024,
    count: COUNTS.produce1024,
    contenders: ['kafkats', 'kafkajs', 'platformatic', 'confluent', 'kcat', 'limit'],
  },
  {
    row: 'consume 100 B',
    scenario: 'consume',
    size: 100,
    count: COUNTS.consume,
    contenders: ['kafkats', 'kafkats-messages', 'kafkajs', 'platformatic', 'confluent', 'kcat'],
  },
  {
    row: 'awaited single send 100 B',
    scenario: 'latency',
    size: 100,
    count: COUNTS.latency,
    contenders: ['kafkats', 'kafkajs', 'platformatic', 'confluent'],
  },
]

// ---------------------------------------------------------------------------------------------

function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`)
}

/** The same bytes client.ts sends, one per line, for kcat -P -l. */
function valueText(size: number): string {
  let s = ''
  for (let i = 0; s.length < size; i++) s += `{"n":${i},"user":"u${(i * 7919) % 100_000}","ok":true}`
  return s.slice(0, size)
}

const workDir = join(tmpdir(), `kafkats-bench-${process.pid}`)
mkdirSync(workDir, { recursive: true })
const inputs = new Map<string, string>()
function inputFile(size: number, count: number): string {
  const key = `${size}-${count}`
  let file = inputs.get(key)
  if (file === undefined) {
    file = join(workDir, `values-${key}.txt`)
    writeFileSync(file, (valueText(size) + '\n').repeat(count))
    inputs.set(key, file)
  }
  return file
}

/** Runs a child; resolves with stdout, or rejects with its stderr's tail. */
function runChild(cmd: string, args: string[], timeoutMs: number, stdout: 'pipe' | 'ignore' = 'pipe'): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', stdout, 'pipe'], detached: true })
    let out = ''
    let err = ''
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(0, 20_000)))
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL') // its process group: tsx's and kcat's children too
      } catch {
        // already gone
      }
      reject(new Error(`timed out after ${timeoutMs / 1000} s`))
    }, timeoutMs)
    child.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve(out)
      else {
        // The first line that names an error, else the last line.
        const lines = err.trim().split('\n')
        const named = lines.find((l) => /error|Error|fail|refused|unknown/.test(l)) ?? lines.at(-1) ?? ''
        reject(new Error(`exit ${code ?? signal}: ${named.trim().slice(0, 200)}`))
      }
    })
  })
}

async function nodeClient(job: Job): Promise<Measurement> {
  const out = await runChild(
    process.execPath,
    ['--import', 'tsx', join(HERE, 'client.ts'), JSON.stringify(job)],
    TIMEOUT_MS,
  )
  const line = out.trim().split('\n').pop() ?? ''
  return JSON.parse(line) as Measurement
}

/** kcat under GNU time: wall, CPU and peak RSS of the whole process (its start included, ~10 ms). */
async function kcat(args: string[], messages: number): Promise<Measurement> {
  const timeFile = join(workDir, 'time.txt')
  rmSync(timeFile, { force: true })
  await runChild('/usr/bin/time', ['-f', '%e %U %S %M', '-o', timeFile, 'kcat', ...args], TIMEOUT_MS, 'ignore')
  const [wall, user, sys, rssKiB] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number)
  return { messages, seconds: wall!, cpuSeconds: user! + sys!, maxRssMiB: rssKiB! / 1024 }
}

let sequence = 0
const unique = (prefix: string): string => `${prefix}-${process.pid}-${++sequence}`

async function measure(broker: Broker, plan: Plan, who: Contender, consumeTopic: string): Promise<Measurement> {
  const base = { bootstrap: broker.bootstrap, size: plan.size, count: plan.count, partitions: PARTITIONS }
  if (plan.scenario === 'consume') {
    const groupId = unique('bench-group')
    if (who === 'kcat') {
      return kcat(
        [
          '-C',
          '-b',
          broker.bootstrap,
          '-G',
          groupId,
          '-X',
          'auto.offset.reset=earliest',
          '-c',
          String(plan.count),
          '-q',
          '-f',
          '.',
          consumeTopic,
        ],
        plan.count,
      )
    }
    const scenario: Scenario = who === 'kafkats-messages' ? 'consume-messages' : 'consume-batches'
    const client: ClientName = who === 'kafkats-messages' ? 'kafkats' : (who as ClientName)
    return nodeClient({ ...base, client, scenario, topic: consumeTopic, groupId })
  }
  const topic = unique(`bench-${plan.size}`)
  await broker.createTopic(topic, PARTITIONS)
  try {
    if (who === 'kcat') {
      // librdkafka's best batched settings: idempotent, acks=all, linger 5 ms, big batches.
      return await kcat(
        [
          '-P',
          '-b',
          broker.bootstrap,
          '-t',
          topic,
          '-l',
          '-X',
          'acks=all',
          '-X',
          'enable.idempotence=true',
          '-X',
          'linger.ms=5',
          '-X',
          'batch.num.messages=10000',
          '-X',
          'queue.buffering.max.messages=1000000',
          inputFile(plan.size, plan.count),
        ],
        plan.count,
      )
    }
    const scenario: Scenario = who === 'limit' ? 'limit' : plan.scenario === 'latency' ? 'latency' : 'produce'
    const client: ClientName = who === 'limit' ? 'kafkats' : (who as ClientName)
    return await nodeClient({ ...base, client, scenario, topic, groupId: '' })
  } finally {
    await broker.deleteTopic(topic).catch(() => {})
  }
}

// ---------------------------------------------------------------------------------------------

const started = performance.now()
const loadBefore = loadavg()
const installNotes = opts['no-install'] ? ['--no-install: peers used as found'] : await installPeers(log)
const brokers = await startBrokers(
  opts.brokers
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== ''),
  log,
)
const rows: Row[] = []
try {
  for (const broker of brokers.started) {
    // The consume topic is filled once per broker, by kcat (fast, and a third party's batches).
    const consumeTopic = unique('bench-consume')
    const consumePlan = PLANS.find((p) => p.scenario === 'consume')!
    await broker.createTopic(consumeTopic, PARTITIONS)
    await kcat(
      [
        '-P',
        '-b',
        broker.bootstrap,
        '-t',
        consumeTopic,
        '-l',
        '-X',
        'acks=all',
        '-X',
        'linger.ms=5',
        '-X',
        'batch.num.messages=10000',
        inputFile(consumePlan.size, consumePlan.count),
      ],
      consumePlan.count,
    )
    const cells = new Map<string, Cell>()
    for (const plan of PLANS) {
      for (const who of plan.contenders) {
        if (wanted.has(who)) cells.set(`${plan.row}|${who}`, { contender: who, runs: [], errors: [] })
      }
    }
    for (let round = 0; round < rounds; round++) {
      for (const plan of PLANS) {
        // Interleaved: each round starts the rotation one client later.
        const order = plan.contenders.filter((c) => wanted.has(c))
        const rotated = order.map((_, i) => order[(i + round) % order.length]!)
        for (const who of rotated) {
          const cell = cells.get(`${plan.row}|${who}`)!
          try {
            const m = await measure(broker, plan, who, consumeTopic)
            cell.runs.push(m)
            log(`${broker.name} r${round + 1} ${plan.row} ${who}: ${Math.round(m.messages / m.seconds)} msg/s`)
          } catch (err) {
            const message = err instanceof Error ? err.message : String(err)
            cell.errors.push(message)
            log(`${broker.name} r${round + 1} ${plan.row} ${who}: ERROR ${message}`)
          }
        }
      }
    }
    for (const plan of PLANS) {
      rows.push({
        broker: broker.name,
        row: plan.row,
        scenario: plan.scenario,
        size: plan.size,
        count: plan.count,
        cells: plan.contenders.filter((c) => wanted.has(c)).map((c) => cells.get(`${plan.row}|${c}`)!),
      })
    }
  }
} finally {
  await brokers.stop()
  rmSync(workDir, { recursive: true, force: true })
}

const report: Report = {
  quick,
  rounds,
  partitions: PARTITIONS,
  rows,
  brokerErrors: brokers.errors,
  installNotes,
  machine: {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: totalmem() / 2 ** 30,
    freeGiB: freemem() / 2 ** 30,
    loadBefore,
    loadAfter: loadavg(),
    node: process.version,
  },
  versions: peerVersions(),
  minutes: (performance.now() - started) / 60_000,
  date: new Date().toISOString(),
}
const outDir = opts.publish ? undefined : (opts.out ?? (quick ? join(HERE, 'out') : undefined))
const files = publish(report, outDir)
log(`done in ${report.minutes.toFixed(1)} min: ${files.join(', ')}`)
