// Reference broker throughput, with librdkafka's kcat as the load: how fast the broker takes
// produce requests and serves fetches, so client benchmarks know whether the broker is their
// bottleneck. The cluster runs in a child process (bench/broker-server.ts) so it has its own
// event loop; kcat is native code, so it costs the broker little CPU.
//
//   npx tsx bench/broker.ts [--brokers 1,3] [--codecs none,lz4,zstd] [--sizes 100,1024]
//                           [--repeat 3] [--scale 1] [--partitions 3] [--profile] [--real-kafka]
//
// Per broker count, size and codec: a fresh topic (replication factor = broker count), then
//   produce: kcat -P -l FILE -X acks=all -X linger.ms=5 -X batch.num.messages=10000 -X compression.codec=C
//   fetch:   kcat -C -o beginning -c N -e -q -f .   (one byte per message on stdout, counted)
// each timed from spawn to exit (kcat's start and metadata round trip are included: ~10 ms).
// Best of --repeat runs per point: the machine may be shared, and the best run is the one least
// disturbed. "CPU broker / kcat" is the CPU time of the broker process(es) and of kcat over the
// run's wall time (100% = one core busy: the reference broker is single-threaded, so ~100% means
// it is the limit; librdkafka compresses on one thread per broker connection).
//
// --profile   CPU-profile the reference broker's thread (V8 inspector in the child) during the
//             produce runs and, separately, the fetch runs; prints the top self-time frames.
//             The profiler slows the broker: take rates from a run without it.
// --real-kafka the same runs against Apache Kafka (scripts/kafka.sh, own state dir and ports:
//              --kafka-port-base 39000 gives 39092/39192/39292/39392/39492; stopped at the end)

import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface, type Interface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const HERE = fileURLToPath(new URL('.', import.meta.url))
const ROOT = join(HERE, '..')
const KCAT = process.env.KCAT ?? 'kcat'

const { values: opts } = parseArgs({
  options: {
    brokers: { type: 'string', default: '1,3' },
    codecs: { type: 'string', default: 'none,lz4,zstd' },
    sizes: { type: 'string', default: '100,1024' },
    repeat: { type: 'string', default: '3' },
    scale: { type: 'string', default: '1' },
    partitions: { type: 'string', default: '3' },
    profile: { type: 'boolean', default: false },
    'real-kafka': { type: 'boolean', default: false },
    'kafka-port-base': { type: 'string', default: '39000' },
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
const brokerCounts = list(opts.brokers).map(Number)
const codecs = list(opts.codecs)
const sizes = list(opts.sizes).map(Number)
const repeat = Number(opts.repeat)
const scale = Number(opts.scale)
const partitions = Number(opts.partitions)
const checks: [string, number[]][] = [
  ['repeat', [repeat]],
  ['partitions', [partitions]],
  ['brokers', brokerCounts],
  ['sizes', sizes],
]
for (const [name, values] of checks) {
  if (values.length === 0 || !values.every((v) => Number.isInteger(v) && v >= 1))
    throw new RangeError(`--${name} needs positive integers`)
}
if (!(scale > 0)) throw new RangeError('--scale needs a positive number')
const KAFKA_VERSION = process.env.KAFKA_VERSION ?? '4.4.0'

/** Messages per run: 1M of 100 B values (100 MB), ~200 MB of 1 KiB ones (each run ~0.4-2 s here). */
function messagesFor(size: number): number {
  const base = size <= 200 ? 1_000_000 : Math.round(200_000_000 / size)
  return Math.max(1000, Math.round(base * scale))
}

// ---------------------------------------------------------------------------------------------
// Input: log-like text lines (compressible about like JSON events), exactly `size` bytes each.

function writeInput(dir: string, size: number, count: number): string {
  const words =
    'order user payment shipped created updated EUR USD warehouse item quantity price status ok retry'.split(' ')
  let seed = 0x2545f491
  const rand = (n: number): number => {
    seed ^= seed << 13
    seed ^= seed >>> 17
    seed ^= seed << 5
    return (seed >>> 0) % n
  }
  const lines: string[] = []
  for (let i = 0; i < count; i++) {
    let l = `{"id":${i},"ts":${1700000000000 + i * 37},"user":"u${rand(100000)}","text":"`
    while (l.length < size) l += `${words[rand(words.length)]} ${rand(10000)} `
    lines.push(l.slice(0, size))
  }
  const file = join(dir, `values-${size}-${count}.txt`)
  writeFileSync(file, lines.join('\n') + '\n')
  return file
}

// ---------------------------------------------------------------------------------------------
// Targets

interface Target {
  name: string
  brokers: number
  bootstrap: string
  /** Creates a topic with `partitions` partitions and replication factor = broker count. */
  createTopic(name: string): Promise<void>
  deleteTopic(name: string): Promise<void>
  /** Broker process ids, for CPU accounting. */
  pids(): number[]
  /** Starts / stops (writing `file`) a CPU profile of the broker, when it can. */
  profile?: { start(): Promise<void>; stop(file: string): Promise<void> }
  stop(): Promise<void>
}

class LineChannel {
  private readonly waiting: ((line: string) => void)[] = []
  private readonly lines: string[] = []
  constructor(rl: Interface) {
    rl.on('line', (line) => {
      const w = this.waiting.shift()
      if (w !== undefined) w(line)
      else this.lines.push(line)
    })
  }
  next(): Promise<string> {
    const l = this.lines.shift()
    if (l !== undefined) return Promise.resolve(l)
    return new Promise((resolve) => this.waiting.push(resolve))
  }
}

async function startReference(brokers: number): Promise<Target> {
  const execArgv = ['--import', 'tsx']
  const child = spawn(process.execPath, [...execArgv, join(HERE, 'broker-server.ts'), '--brokers', String(brokers)], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const channel = new LineChannel(createInterface({ input: child.stdout! }))
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`broker-server exited with ${code}`)
  })
  exited.catch(() => {})
  const first = await Promise.race([channel.next(), exited])
  const bootstrap = (JSON.parse(first) as { bootstrap: string }).bootstrap
  const command = async (line: string): Promise<void> => {
    child.stdin!.write(line + '\n')
    const answer = await Promise.race([channel.next(), exited])
    if (answer !== 'ok') throw new Error(`broker-server: ${line}: ${answer}`)
  }
  return {
    name: 'reference',
    brokers,
    bootstrap,
    createTopic: (name) => command(`create ${name} ${partitions} ${brokers}`),
    deleteTopic: (name) => command(`delete ${name}`),
    pids: () => [child.pid!],
    profile: { start: () => command('profile-start'), stop: (file) => command(`profile-stop ${file}`) },
    stop: async () => {
      if (child.exitCode !== null) return
      const done = once(child, 'exit')
      child.stdin!.end('stop\n')
      await done
    },
  }
}

function kafkaEnv(base: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    KAFKATS_KAFKA_STATE: '/tmp/kafkats-bench-kafka',
    KAFKATS_PORT_PLAINTEXT: String(base + 92),
    KAFKATS_PORT_SASL: String(base + 192),
    KAFKATS_PORT_SSL: String(base + 292),
    KAFKATS_PORT_SASL_SSL: String(base + 392),
    KAFKATS_PORT_CONTROLLER: String(base + 492),
  }
}

async function startRealKafka(brokers: number): Promise<Target> {
  const env = kafkaEnv(Number(opts['kafka-port-base']))
  const script = join(ROOT, 'scripts', 'kafka.sh')
  const t0 = performance.now()
  execFileSync(script, ['start', '--nodes', String(brokers)], { env, stdio: ['ignore', 'ignore', 'inherit'] })
  console.error(`  Kafka (${brokers} node(s)) started in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  const bootstrap = execFileSync(script, ['bootstrap'], { env, encoding: 'utf8' }).trim()
  // Topic administration through the kafkats client (imported only here: the default run does
  // not depend on client code).
  const { KafkaClient } = await import('../src/cluster/client.js')
  const { CreateTopics } = await import('../src/protocol/messages/index.js')
  const client = new KafkaClient({ brokers: bootstrap.split(','), clientId: 'bench-broker-admin' })
  const state = env.KAFKATS_KAFKA_STATE!
  return {
    name: `Kafka ${KAFKA_VERSION}`,
    brokers,
    bootstrap,
    createTopic: async (name) => {
      const response = await client.requestTo(client.bootstrap[0]!, CreateTopics, {
        topics: [{ name, numPartitions: partitions, replicationFactor: brokers }],
        timeoutMs: 30_000,
      })
      const code = response.topics[0]!.errorCode
      if (code !== 0) throw new Error(`CreateTopics ${name} failed with error ${code}`)
    },
    // The state dir's data is thrown away by `kafka.sh stop`.
    deleteTopic: async () => {},
    pids: () =>
      readdirSync(state)
        .filter((d) => d.startsWith('node-') && existsSync(join(state, d, 'kafka.pid')))
        .map((d) => Number(readFileSync(join(state, d, 'kafka.pid'), 'utf8').trim())),
    stop: async () => {
      await client.close().catch(() => {})
      execFileSync(script, ['stop'], { env, stdio: ['ignore', 'ignore', 'inherit'] })
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Measuring

const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100

/** CPU seconds (user + system, children included) of the processes. */
function cpuSeconds(pids: number[]): number {
  let ticks = 0
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      // utime, stime, cutime, cstime are fields 14-17 (1-based), i.e. 11-14 after the comm.
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])
    } catch {
      // not on Linux, or gone
    }
  }
  return ticks / TICK
}

/** CPU seconds of this process's children that have exited (cutime + cstime): kcat runs. */
function childrenCpuSeconds(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[13]) + Number(fields[14])) / TICK
  } catch {
    return 0
  }
}

interface Timed {
  seconds: number
  brokerCpu: number
  /** CPU seconds of kcat itself (this process's reaped children). */
  kcatCpu: number
  stdoutBytes: number
  stderr: string
}

async function runKcat(args: string[], target: Target): Promise<Timed> {
  const cpu0 = cpuSeconds(target.pids())
  const kcat0 = childrenCpuSeconds()
  const t0 = performance.now()
  const child: ChildProcess = spawn(KCAT, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdoutBytes = 0
  let stderr = ''
  child.stdout!.on('data', (b: Buffer) => (stdoutBytes += b.length))
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()))
  const [code] = (await once(child, 'close')) as [number | null]
  const seconds = (performance.now() - t0) / 1000
  const brokerCpu = cpuSeconds(target.pids()) - cpu0
  const kcatCpu = childrenCpuSeconds() - kcat0
  if (code !== 0) throw new Error(`kcat ${args.join(' ')} exited with ${code}: ${stderr}`)
  return { seconds, brokerCpu, kcatCpu, stdoutBytes, stderr }
}

/** Waits until every broker reports every partition of `topic` with a leader (kcat -L on each). */
async function waitForLeaders(target: Target, topic: string): Promise<void> {
  const deadline = Date.now() + 30_000
  for (const broker of target.bootstrap.split(',')) {
    for (;;) {
      let ok = false
      try {
        const out = execFileSync(KCAT, ['-L', '-J', '-b', broker, '-t', topic, '-m', '5'], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        })
        const meta = JSON.parse(out) as {
          topics: { topic: string; error?: string; partitions: { leader: number }[] }[]
        }
        const t = meta.topics.find((x) => x.topic === topic)
        ok =
          t !== undefined && !t.error && t.partitions.length === partitions && t.partitions.every((p) => p.leader >= 0)
      } catch {
        ok = false
      }
      if (ok) break
      if (Date.now() > deadline) throw new Error(`topic ${topic} has no leaders on ${broker} after 30 s`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

interface Row {
  target: string
  brokers: number
  size: number
  codec: string
  messages: number
  produce: Timed
  fetch: Timed
}

let topicSeq = 0
let warmFile = ''

/** Where --profile writes the per-run profiles, and which were written per cluster and phase. */
let profileDir: string | undefined
const profiles = new Map<string, string[]>()

async function profiled<T>(target: Target, phase: string, run: () => Promise<T>): Promise<T> {
  if (profileDir === undefined || target.profile === undefined) return run()
  const key = `${target.name}, ${target.brokers} broker(s), ${phase}`
  const file = join(profileDir, `${topicSeq}-${target.brokers}-${phase}.cpuprofile`)
  await target.profile.start()
  try {
    return await run()
  } finally {
    await target.profile.stop(file)
    profiles.set(key, [...(profiles.get(key) ?? []), file])
  }
}

async function measure(target: Target, size: number, codec: string, file: string, messages: number): Promise<Row> {
  let produce: Timed | undefined
  let fetch: Timed | undefined
  for (let r = 0; r < repeat; r++) {
    const topic = `bench-${process.pid}-${topicSeq++}-${size}-${codec}`
    await target.createTopic(topic)
    await waitForLeaders(target, topic)
    // One acks=all message per partition first, so the timed run does not include a new
    // topic's start-up (Kafka's followers begin fetching a moment after the topic is created).
    for (let i = 0; i < partitions; i++) {
      await runKcat(`-P -b ${target.bootstrap} -t ${topic} -p ${i} -X acks=all -l ${warmFile}`.split(' '), target)
    }
    const produceArgs =
      `-P -b ${target.bootstrap} -t ${topic} -l -X acks=all -X linger.ms=5 -X batch.num.messages=10000 ` +
      `-X compression.codec=${codec} ${file}`
    const p = await profiled(target, 'produce', () => runKcat(produceArgs.split(' '), target))
    if (/fail|error/i.test(p.stderr)) throw new Error(`produce to ${topic}: ${p.stderr}`)
    const total = messages + partitions
    const fetchArgs = `-C -b ${target.bootstrap} -t ${topic} -o beginning -c ${total} -e -q -f .`
    const f = await profiled(target, 'fetch', () => runKcat(fetchArgs.split(' '), target))
    if (f.stdoutBytes !== total) throw new Error(`fetch from ${topic}: ${f.stdoutBytes} messages, expected ${total}`)
    if (produce === undefined || p.seconds < produce.seconds) produce = p
    if (fetch === undefined || f.seconds < fetch.seconds) fetch = f
    await target.deleteTopic(topic)
  }
  return { target: target.name, brokers: target.brokers, size, codec, messages, produce: produce!, fetch: fetch! }
}

// ---------------------------------------------------------------------------------------------
// CPU profile summary (--profile)

interface ProfileNode {
  id: number
  children?: number[]
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
}

function summariseProfiles(files: string[], top = 15): string {
  const self = new Map<string, number>()
  let total = 0
  let idle = 0
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as {
      nodes: ProfileNode[]
      samples: number[]
      timeDeltas: number[]
    }
    const byId = new Map(profile.nodes.map((n) => [n.id, n]))
    const parent = new Map<number, number>()
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
    // Samples under bench/broker-server.ts are the bench's own commands (the profiler stopping
    // and serialising itself), not broker work.
    const benchOwn = new Map<number, boolean>()
    const isBenchOwn = (id: number | undefined): boolean => {
      if (id === undefined) return false
      let v = benchOwn.get(id)
      if (v === undefined) {
        v = byId.get(id)!.callFrame.url.endsWith('/bench/broker-server.ts') || isBenchOwn(parent.get(id))
        benchOwn.set(id, v)
      }
      return v
    }
    profile.samples.forEach((id, i) => {
      const dt = profile.timeDeltas[i] ?? 0
      const n = byId.get(id)!
      const { functionName, url, lineNumber } = n.callFrame
      if (isBenchOwn(id)) return
      if (functionName === '(idle)') {
        idle += dt
        return
      }
      total += dt
      // Line numbers are of tsx's output, not the source: shown for node's own files only.
      const path = url.replace(/^file:\/\//, '').replace(ROOT + '/', '')
      const where = url === '' ? '' : path.startsWith('node:') ? ` ${path}:${lineNumber + 1}` : ` ${path}`
      const key = `${functionName || '(anonymous)'}${where}`
      self.set(key, (self.get(key) ?? 0) + dt)
    })
  }
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)
  const lines = [
    `busy ${(total / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s; top self time:`,
    '',
    '| self ms | % of busy | function |',
    '|--:|--:|---|',
    ...rows.map(([k, v]) => `| ${(v / 1000).toFixed(0)} | ${((100 * v) / total).toFixed(1)} | \`${k}\` |`),
  ]
  return lines.join('\n')
}

// ---------------------------------------------------------------------------------------------

function kcatVersion(): string {
  try {
    const out = execFileSync(KCAT, ['-V'], { encoding: 'utf8' })
    const v = /Version (\S+)/.exec(out)?.[1] ?? '?'
    const lib = /librdkafka (\S+)/.exec(out)?.[1] ?? '?'
    return `kcat ${v}, librdkafka ${lib}`
  } catch {
    return 'kcat not found'
  }
}

function table(rows: Row[]): string {
  const mb = (r: Row, s: number): string => ((r.messages * r.size) / 1e6 / s).toFixed(0)
  const rate = (r: Row, s: number): string => Math.round(r.messages / s).toLocaleString('en-US')
  const pct = (cpu: number, t: Timed): string => `${Math.round((100 * cpu) / t.seconds)}%`
  const cpu = (t: Timed): string => `${pct(t.brokerCpu, t)} / ${pct(t.kcatCpu, t)}`
  return [
    '| broker | n | value | codec | messages | produce msg/s | produce MB/s | CPU broker / kcat | fetch msg/s | fetch MB/s | CPU broker / kcat |',
    '|---|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|',
    ...rows.map(
      (r) =>
        `| ${r.target} | ${r.brokers} | ${r.size} B | ${r.codec} | ${r.messages.toLocaleString('en-US')} | ` +
        `${rate(r, r.produce.seconds)} | ${mb(r, r.produce.seconds)} | ${cpu(r.produce)} | ` +
        `${rate(r, r.fetch.seconds)} | ${mb(r, r.fetch.seconds)} | ${cpu(r.fetch)} |`,
    ),
  ].join('\n')
}

async function main(): Promise<void> {
  const started = performance.now()
  const load = loadavg()
  const dir = mkdtempSync(join(tmpdir(), 'kafkats-bench-broker-'))
  const rows: Row[] = []
  if (opts.profile) profileDir = mkdtempSync(join(tmpdir(), 'kafkats-broker-profile-'))
  let current: Target | undefined
  const cleanup = (): void => {
    rmSync(dir, { recursive: true, force: true })
  }
  process.on('SIGINT', () => {
    void (current?.stop() ?? Promise.resolve()).finally(() => {
      cleanup()
      process.exit(130)
    })
  })
  try {
    const files = new Map<number, string>()
    for (const size of sizes) files.set(size, writeInput(dir, size, messagesFor(size)))
    warmFile = join(dir, 'warm-up.txt')
    writeFileSync(warmFile, 'warm-up\n')
    const kinds: ['reference' | 'kafka', number][] = []
    for (const n of brokerCounts) kinds.push(['reference', n])
    if (opts['real-kafka']) for (const n of brokerCounts) kinds.push(['kafka', n])
    for (const [kind, n] of kinds) {
      console.error(`${kind === 'reference' ? 'reference cluster' : 'Apache Kafka'}, ${n} broker(s)`)
      current = kind === 'reference' ? await startReference(n) : await startRealKafka(n)
      try {
        for (const size of sizes) {
          for (const codec of codecs) {
            const row = await measure(current, size, codec, files.get(size)!, messagesFor(size))
            rows.push(row)
            console.error(
              `  ${size} B ${codec}: produce ${row.produce.seconds.toFixed(2)} s, fetch ${row.fetch.seconds.toFixed(2)} s`,
            )
          }
        }
      } finally {
        await current.stop()
        current = undefined
      }
    }
  } finally {
    cleanup()
  }

  const cpu = cpus()
  console.log(`## Reference broker throughput (kcat load)\n`)
  console.log(
    `Machine: ${cpu[0]?.model ?? '?'}, ${cpu.length} cores, Node ${process.version}, ${kcatVersion()}, ` +
      `load average at start ${load.map((x) => x.toFixed(1)).join('/')}.`,
  )
  console.log(
    `Topics: ${partitions} partitions, replication factor = broker count; produce acks=all, linger.ms=5, ` +
      `batch.num.messages=10000; values are log-like text lines. Best of ${repeat} run(s) per point; ` +
      `MB = 10^6 payload bytes; times include kcat start-up and metadata (~10 ms). ` +
      `CPU = process CPU time / wall time of the best run (100% = one core busy); the reference broker ` +
      `runs on one thread (its GC and socket syscalls can take it a little past 100%). ` +
      `The reference brokers of a cluster share that one process and thread, and model replication ` +
      `(followers copy nothing); Kafka's followers really fetch and write.\n`,
  )
  console.log(table(rows))
  for (const [key, files] of profiles) {
    console.log(
      `\n### CPU profile of the ${key} (${files.length} run(s); the profiler slows the broker, so rates above ` +
        `are lower; samples are wall-clock, so a busy machine inflates the times, not the shares much)\n`,
    )
    console.log(summariseProfiles(files))
  }
  if (profileDir !== undefined) console.log(`\n(.cpuprofile files in ${profileDir})`)
  console.log(`\nTotal ${((performance.now() - started) / 1000).toFixed(0)} s.`)
}

await main()
