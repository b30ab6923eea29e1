// The README's Streams examples, built and run through the TopologyTestDriver: they compile
// (this file is type-checked) and do what the README says. Keep the two in step.

import { expect, it } from 'vitest'

import {
  Serdes,
  StreamsBuilder,
  Suppressed,
  TimeWindows,
  TopologyTestDriver,
  WindowedSerdes,
} from '../../src/streams/index.js'

interface Order {
  id: string
  total: number
}
interface User {
  name: string
}

const S = Serdes.String

it('read, transform, filter, write', () => {
  const builder = new StreamsBuilder()
  builder
    .stream('orders', { key: Serdes.String, value: Serdes.Json<Order>() })
    .filter((_id, order): order is Order => order !== null && order.total > 100)
    .mapValues((order) => ({ ...order, vip: true }), { value: Serdes.Json<Order & { vip: boolean }>() })
    .to('big-orders')
  const driver = new TopologyTestDriver(builder.build())
  const orders = { key: S, value: Serdes.Json<Order>() }
  driver.pipe('orders', orders, 'o1', { id: 'o1', total: 50 }, 1)
  driver.pipe('orders', orders, 'o2', { id: 'o2', total: 500 }, 2)
  driver.pipe('orders', orders, 'o3', null, 3)
  expect(driver.records('big-orders', { key: S, value: Serdes.Json<unknown>() })).toEqual([
    { key: 'o2', value: { id: 'o2', total: 500, vip: true }, timestamp: 2 },
  ])
})

it('a windowed aggregator with one final count per window', () => {
  const builder = new StreamsBuilder()
  builder
    .stream('clicks', { key: Serdes.String, value: Serdes.String })
    .groupByKey()
    .windowedBy(TimeWindows.ofSizeAndGrace(60_000, 10_000))
    .count()
    .suppress(Suppressed.untilWindowCloses())
    .toStream()
    .to('clicks-per-minute', { value: Serdes.Long })
  const driver = new TopologyTestDriver(builder.build())
  const strings = { key: S, value: S }
  driver.pipe('clicks', strings, 'ann', '/a', 1_000)
  driver.pipe('clicks', strings, 'ann', '/b', 59_000)
  driver.pipe('clicks', strings, 'bob', '/a', 65_000) // window [0, 60 s) is not closed until 70 s
  driver.pipe('clicks', strings, 'ann', '/c', 68_000) // in grace: counts for [60 s, 120 s)
  driver.pipe('clicks', strings, 'bob', '/z', 70_000) // stream time 70 s: [0, 60 s) closes
  const out = driver.records('clicks-per-minute', { key: WindowedSerdes.timeWindowed(S, 60_000), value: Serdes.Long })
  expect(out.map((r) => [r.key, r.value])).toEqual([[{ key: 'ann', window: { start: 0, end: 60_000 } }, 2]])
})

it('a stream-table left join', () => {
  const builder = new StreamsBuilder()
  const users = builder.table('users', { key: Serdes.String, value: Serdes.Json<User>() })
  builder
    .stream('page-views', { key: Serdes.String, value: Serdes.String })
    .leftJoin(users, (page, user) => `${user?.name ?? 'anonymous'} viewed ${page}`, { value: Serdes.String })
    .to('enriched-views')
  const driver = new TopologyTestDriver(builder.build())
  driver.pipe('users', { key: S, value: Serdes.Json<User>() }, 'u1', { name: 'Ann' }, 1)
  driver.pipe('page-views', { key: S, value: S }, 'u1', '/home', 2)
  driver.pipe('page-views', { key: S, value: S }, 'u2', '/about', 3)
  expect(driver.records('enriched-views', { key: S, value: S }).map((r) => r.value)).toEqual([
    'Ann viewed /home',
    'anonymous viewed /about',
  ])
})
