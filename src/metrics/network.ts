// The Java client's network metrics (its Selector's, in the client's own group): requests and
// responses counted and sized as they cross the connections, plus the requests awaiting an answer.

import type { NetObserver } from '../net/connection.js'
import type { MetricsRegistry } from './registry.js'

export function networkMetrics(registry: MetricsRegistry, group: string, inFlight: () => number): NetObserver {
  const sent = registry.sensor()
  const received = registry.sensor()
  registry.countMeter(group, 'request', 'requests sent', sent)
  registry.avgMax(group, 'request-size', 'size of requests sent (bytes)', sent)
  registry.meter(group, 'outgoing-byte', 'bytes sent to all brokers', sent)
  registry.countMeter(group, 'response', 'responses received', received)
  registry.meter(group, 'incoming-byte', 'bytes read from all brokers', received)
  registry.add(group, 'requests-in-flight', 'The current number of requests awaiting a response', 'gauge', inFlight)
  const clock = registry.clock
  return {
    requestSent: (bytes) => sent.record(bytes, clock()),
    responseReceived: (bytes) => received.record(bytes, clock()),
  }
}
