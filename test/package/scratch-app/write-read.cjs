// What a CommonJS user of the installed package runs (require(esm)): a reference cluster from
// kafkats/broker, a Writer, a partition Reader, and errors checked with instanceof.
// test/package/tarball.test.ts asserts its output.
'use strict'
const { ConfigError, FirstOffset, KafkaTsError, Reader, Writer } = require('kafkats')
const { Cluster } = require('kafkats/broker')

async function main() {
  const cluster = await Cluster.start({ brokers: 1 })
  try {
    cluster.createTopic('cjs-topic', { partitions: 1, replicationFactor: 1 })
    const brokers = cluster.bootstrapServers
    const writer = new Writer({ brokers, topic: 'cjs-topic' })
    await writer.writeMessages({ key: 'k1', value: 'one' }, { key: 'k2', value: 'two' })
    await writer.close()

    const reader = new Reader({ brokers, topic: 'cjs-topic', partition: 0, startOffset: FirstOffset })
    for (let i = 0; i < 2; i++) {
      const message = await reader.fetchMessage({ signal: AbortSignal.timeout(20_000) })
      console.log(`cjs read ${message.offset} ${message.key}=${message.value}`)
    }
    await reader.close()
  } finally {
    await cluster.stop()
  }

  try {
    new Writer({ brokers: [], topic: 'cjs-topic' })
  } catch (err) {
    console.log(`ConfigError ${err instanceof ConfigError} KafkaTsError ${err instanceof KafkaTsError} ${err.code}`)
  }
  // require() and import() must hand out the same module instance (no dual-package copy).
  const esm = await import('kafkats')
  console.log(`same module ${esm.Writer === Writer && esm.KafkaTsError === KafkaTsError}`)
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
