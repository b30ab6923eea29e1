// bench/peers/report.ts: what `npm run bench` writes from its measurements (medians, ratios to
// kafkats, error cells, the quick-run label, the SVG chart).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { KEPT_NOTES_MARKER, median, ratios, svg, writeReport, type Report, type Row } from '../../bench/peers/report.js'

const run = (messages: number, seconds: number, latencyP99?: number) => ({
  messages,
  seconds,
  cpuSeconds: seconds / 2,
  maxRssMiB: 100,
  ...(latencyP99 === undefined ? {} : { latency: { p50: latencyP99 / 4, p99: latencyP99, p999: latencyP99 * 2 } }),
})

const produce: Row = {
  broker: 'Kafka 4.4.0',
  row: 'produce 100 B',
  scenario: 'produce',
  size: 100,
  count: 1000,
  cells: [
    { contender: 'kafkats', runs: [run(1000, 1), run(1000, 2), run(1000, 4)], errors: [] }, // median 500/s
    { contender: 'kafkajs', runs: [run(1000, 8), run(1000, 4)], errors: [] }, // median (125 + 250) / 2
    { contender: 'confluent', runs: [], errors: ['exit 1: cannot find module'] },
  ],
}

const latency: Row = {
  broker: 'Kafka 4.4.0',
  row: 'awaited single send 100 B',
  scenario: 'latency',
  size: 100,
  count: 10,
  cells: [
    { contender: 'kafkats', runs: [run(10, 1, 3)], errors: [] },
    { contender: 'confluent', runs: [run(10, 1, 1)], errors: [] },
  ],
}

function report(quick: boolean): Report {
  return {
    quick,
    rounds: 3,
    partitions: 6,
    rows: [produce, latency],
    brokerErrors: [],
    installNotes: [],
    machine: {
      cpu: 'CPU',
      cores: 2,
      memoryGiB: 24,
      freeGiB: 20,
      loadBefore: [1, 2, 3],
      loadAfter: [1, 2, 3],
      node: 'v20',
    },
    versions: { kafkats: '0.1.0' },
    minutes: 1,
    date: '2026-12-03T00:00:00.000Z',
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'bench-report-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe('bench report', () => {
  it('takes medians of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(median([])).toBeNaN()
  })

  it('gives throughput ratios to kafkats, and p99 latency ratios (lower is better)', () => {
    const r = ratios(produce)
    expect(r.get('kafkats')).toBe(1)
    expect(r.get('kafkajs')).toBeCloseTo(187.5 / 500)
    expect(r.has('confluent')).toBe(false) // no runs: an error cell, no ratio
    expect(ratios(latency).get('confluent')).toBeCloseTo(1 / 3)
  })

  it("pools the rounds' latency samples for the percentiles", () => {
    const samples = (from: number): number[] => Array.from({ length: 1000 }, (_, i) => from + i / 1000)
    const pooled: Row = {
      ...latency,
      cells: [
        {
          contender: 'kafkats',
          runs: [
            { ...run(1000, 1, 99), samples: samples(0) }, // 0.000 .. 0.999
            { ...run(1000, 1, 99), samples: samples(1) }, // 1.000 .. 1.999
          ],
          errors: [],
        },
      ],
    }
    writeReport(
      { ...report(false), rows: [pooled] },
      { markdown: join(tmp, 'p.md'), svg: join(tmp, 'p.svg'), chartLink: 'p.svg' },
    )
    // 2000 samples: p50 is the 1000th (0.999), p99 the 1980th (1.979), p999 the 1998th (1.997).
    expect(readFileSync(join(tmp, 'p.md'), 'utf8')).toContain('| kafkats | 1.00 | 1.98 | 2.00 | 1.00 |')
  })

  it('writes the table with error cells, the quick label only for quick runs, and the chart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-report-'))
    try {
      for (const quick of [true, false]) {
        const md = join(dir, 'B.md')
        const chart = join(dir, 'c.svg')
        writeReport(report(quick), { markdown: md, svg: chart, chartLink: 'c.svg' })
        const text = readFileSync(md, 'utf8')
        expect(text.includes('not the result')).toBe(quick)
        expect(text).toContain('| kafkats | 500 | 0.1 | 1.00 | 1000.00 | 100 |  |')
        expect(text).toContain('| KafkaJS | 188 |')
        expect(text).toContain('1: exit 1: cannot find module')
        expect(text).toContain('![ratios to kafkats](c.svg)')
        expect(readFileSync(chart, 'utf8')).toBe(svg(report(quick)))
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('keeps the hand-written notes after the marker when a run rewrites the tables', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-report-'))
    try {
      const md = join(dir, 'B.md')
      const notes = `${KEPT_NOTES_MARKER}\n\n## Focused measurement\n\nnpx tsx bench/latency.ts: p99 1.2 ms\n`
      writeFileSync(md, `# old tables\n\n| stale | 1 |\n\n${notes}`)
      const to = { markdown: md, svg: join(dir, 'c.svg'), chartLink: 'c.svg' }
      writeReport(report(false), to)
      writeReport(report(false), to) // twice: the notes are not duplicated
      const text = readFileSync(md, 'utf8')
      expect(text).not.toContain('| stale | 1 |')
      expect(text).toContain('| kafkats | 500 | 0.1 | 1.00 | 1000.00 | 100 |  |')
      expect(text.endsWith(notes)).toBe(true)
      expect(text.split(KEPT_NOTES_MARKER)).toHaveLength(2)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('draws one bar per measured contender and marks the failed ones', () => {
    const s = svg(report(false))
    expect(s.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    expect(s.trim().endsWith('</svg>')).toBe(true)
    expect(s.match(/<rect x="190"/g)).toHaveLength(4) // kafkats, KafkaJS; kafkats, confluent
    expect(s).toContain('>error</text>')
    expect(s).toContain('>0.38×</text>') // KafkaJS produce
    expect(s).toContain('>3.00×</text>') // confluent latency: kafkats p99 / its p99
  })
})
