// node:diagnostics_channel channels, so APMs and tests can observe the clients without wrapping
// them. Messages are published only while a channel has subscribers (no cost otherwise) and
// never carry credentials: brokers, sizes, durations, topic/partition, errors.
//
//   import diagnostics_channel from 'node:diagnostics_channel'
//   diagnostics_channel.subscribe('kafkats:request', (m) => console.log(m))

import diagnostics_channel from 'node:diagnostics_channel'

export const CHANNEL_NAMES = {
  /** A connection is ready (TCP, TLS, ApiVersions, SASL done): { clientId, broker, durationMs }. */
  connect: 'kafkats:connect',
  /** A ready connection ended: { clientId, broker, error } (error null when closed on purpose). */
  disconnect: 'kafkats:disconnect',
  /** A response arrived: { clientId, broker, apiKey, apiName, apiVersion, responseBytes, durationMs } (queued to answered). */
  request: 'kafkats:request',
  /** A batch was acknowledged or failed for good: { clientId, topic, partition, records, baseOffset, error }. */
  produce: 'kafkats:produce',
  /** A Fetch was answered: { clientId, broker, records, bytes, durationMs }. */
  fetch: 'kafkats:fetch',
  /** An OffsetCommit was answered: { clientId, groupId, durationMs }. */
  commit: 'kafkats:commit',
  /** A group join completed: { clientId, groupId, assignedPartitions, durationMs }. */
  rebalance: 'kafkats:rebalance',
  /** A problem a client handled or reported (the warn/error lines with an error): { level, message, error }. */
  error: 'kafkats:error',
} as const

export type ChannelName = keyof typeof CHANNEL_NAMES

export const channels: Readonly<Record<ChannelName, diagnostics_channel.Channel>> = Object.freeze(
  Object.fromEntries(
    Object.entries(CHANNEL_NAMES).map(([key, name]) => [key, diagnostics_channel.channel(name)]),
  ) as Record<ChannelName, diagnostics_channel.Channel>,
)

/** Publishes `make()` on a channel when someone listens (the message is built only then). */
export function publish(name: ChannelName, make: () => object): void {
  const channel = channels[name]
  if (channel.hasSubscribers) channel.publish(make())
}
