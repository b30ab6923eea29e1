// A job queue on a share group (KIP-932): two workers read the same partitions, each job goes to
// one worker at a time, and a worker says what happened to each: accept (done), release (let
// anyone try again) or reject (never again). Job 7 fails on its first delivery and is released;
// it comes back with deliveryCount 2 and succeeds. The group is set to start at the oldest
// records (share.auto.offset.reset=earliest) before any worker joins: a new share group otherwise
// starts at the end.
//
// Run: npx tsx examples/share-reader.ts   (KAFKA_BOOTSTRAP on Kafka 4.2+, or an in-process reference cluster)

import { Admin, ShareReader, Writer, type ShareMessage } from 'kafkats'

async function kafka(): Promise<{ brokers: string[]; stop: () => Promise<void> }> {
  const bootstrap = process.env.KAFKA_BOOTSTRAP
  if (bootstrap) return { brokers: bootstrap.split(','), stop: async () => {} }
  const { Cluster } = await import('kafkats/broker')
  const cluster = await Cluster.start({ brokers: 3, defaultPartitions: 2 })
  return { brokers: cluster.bootstrapServers, stop: () => cluster.stop() }
}

const { brokers, stop } = await kafka()
const topic = `example-jobs-${Date.now()}`
const groupId = `example-workers-${Date.now()}`
const JOBS = 20
try {
  const admin = new Admin({ brokers })
  await admin.createTopics([{ name: topic, partitions: 2 }], { waitForLeaders: true })
  await admin.alterConfigs([{ type: 'group', name: groupId, set: { 'share.auto.offset.reset': 'earliest' } }])
  await admin.close()

  const writer = new Writer({ brokers, topic })
  await writer.writeMessages(Array.from({ length: JOBS }, (_, i) => ({ key: `job-${i}`, value: `job-${i}` })))
  await writer.close()

  const done = new Map<string, string>() // job -> worker
  let retried: ShareMessage | undefined
  const work = async (name: string): Promise<void> => {
    const worker = new ShareReader({ brokers, groupId, topics: [topic], acknowledgementMode: 'explicit' })
    try {
      const deadline = Date.now() + 60_000
      while (done.size < JOBS && Date.now() < deadline) {
        for (const job of await worker.fetchMessages({ timeout: 500 })) {
          const id = job.value!.toString()
          if (id === 'job-7' && job.deliveryCount === 1) {
            worker.acknowledge(job, 'release') // failed: someone tries again
            continue
          }
          if (id === 'job-7') retried = job
          done.set(id, name)
          worker.acknowledge(job, 'accept')
        }
      }
      await worker.commit()
    } finally {
      await worker.close()
    }
  }
  await Promise.all([work('worker-a'), work('worker-b')])

  const workers = new Set(done.values())
  console.log(`${done.size} jobs done by ${workers.size} worker(s)`)
  console.log(`job-7 done on delivery ${retried?.deliveryCount} by ${done.get('job-7')}`)
} finally {
  await stop()
}
