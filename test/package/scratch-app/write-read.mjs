// What an ESM user of the installed package runs: a reference cluster from kafkats/broker, a
// Writer, and a consumer-group Reader that commits. test/package/tarball.test.ts asserts its output.
import { FirstOffset, Hash, Reader, Writer } from 'kafkats'
import { Cluster } from 'kafkats/broker'

const cluster = await Cluster.start({ brokers: 3, groupInitialRebalanceDelayMs: 0 })
try {
  cluster.createTopic('esm-topic', { partitions: 3, replicationFactor: 3 })
  const brokers = cluster.bootstrapServers
  const writer = new Writer({ brokers, topic: 'esm-topic', balancer: new Hash() })
  await writer.writeMessages({ key: 'a', value: 'one' }, { key: 'b', value: 'two' }, { key: 'c', value: 'three' })
  await writer.close()

  const reader = new Reader({ brokers, groupId: 'esm-group', groupTopics: ['esm-topic'], startOffset: FirstOffset })
  const read = []
  for (let i = 0; i < 3; i++) {
    const message = await reader.fetchMessage({ signal: AbortSignal.timeout(20_000) })
    await reader.commitMessages(message)
    read.push(`${message.key}=${message.value}`)
  }
  await reader.close()
  console.log(`esm read ${read.sort().join(' ')}`)
} finally {
  await cluster.stop()
}
