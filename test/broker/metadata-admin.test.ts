// Metadata, topic administration, configs and DescribeCluster over the raw protocol.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from '../../src/broker/index.js'
import { ZERO_UUID } from '../../src/protocol/api.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { CreatePartitions } from '../../src/protocol/messages/create-partitions.js'
import { CreateTopics } from '../../src/protocol/messages/create-topics.js'
import { DeleteTopics } from '../../src/protocol/messages/delete-topics.js'
import { DescribeCluster } from '../../src/protocol/messages/describe-cluster.js'
import { DescribeConfigs } from '../../src/protocol/messages/describe-configs.js'
import { IncrementalAlterConfigs } from '../../src/protocol/messages/incremental-alter-configs.js'
import { AlterConfigs } from '../../src/protocol/messages/alter-configs.js'
import { Metadata } from '../../src/protocol/messages/metadata.js'
import { TestClient } from './helpers.js'

describe('Metadata and topic administration', () => {
  let cluster: Cluster
  let c: TestClient
  beforeAll(async () => {
    cluster = await Cluster.start({ brokers: 3 })
    c = await TestClient.connect(cluster.bootstrapServers[0]!)
  })
  afterAll(async () => {
    c.close()
    await cluster.stop()
  })

  it('answers every Metadata version with brokers, cluster id and controller', async () => {
    for (let v = 0; v <= 13; v++) {
      const r = await c.send(Metadata, v, { topics: v === 0 ? [] : null })
      expect(r.brokers.map((b) => b.nodeId)).toEqual([0, 1, 2])
      if (v >= 2) expect(r.clusterId).toBe(cluster.clusterId)
      if (v >= 1) expect(r.controllerId).toBe(0)
    }
  })

  it('auto-creates a topic but answers the creating request UNKNOWN_TOPIC_OR_PARTITION (Kafka 4 KRaft)', async () => {
    const first = await c.send(Metadata, 12, { topics: [{ name: 'auto-1' }], allowAutoTopicCreation: true })
    expect(first.topics[0]).toMatchObject({ name: 'auto-1', errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION })
    const second = await c.send(Metadata, 12, { topics: [{ name: 'auto-1' }], allowAutoTopicCreation: true })
    expect(second.topics[0]!.errorCode).toBe(0)
    expect(second.topics[0]!.partitions).toHaveLength(1)
    // default.replication.factor = min(3, brokers)
    expect(second.topics[0]!.partitions[0]!.replicaNodes).toHaveLength(3)
    expect(second.topics[0]!.topicId).not.toBe(ZERO_UUID)
  })

  it('does not auto-create when the request or the cluster says no, and rejects invalid names', async () => {
    const r = await c.send(Metadata, 12, { topics: [{ name: 'no-auto' }], allowAutoTopicCreation: false })
    expect(r.topics[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
    expect(cluster.topics.get('no-auto')).toBeUndefined()
    const bad = await c.send(Metadata, 12, { topics: [{ name: 'bad name!' }], allowAutoTopicCreation: true })
    expect(bad.topics[0]!.errorCode).toBe(ErrorCode.INVALID_TOPIC_EXCEPTION)
  })

  it('says isInternal for the internal topic names even when they do not exist (Topic.isInternal)', async () => {
    const r = await c.send(Metadata, 12, {
      topics: [{ name: '__consumer_offsets' }, { name: '__transaction_state' }, { name: 'not-internal' }],
      allowAutoTopicCreation: false,
    })
    expect(r.topics.map((t) => [t.name, t.errorCode, t.isInternal])).toEqual([
      ['__consumer_offsets', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, true],
      ['__transaction_state', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, true],
      ['not-internal', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, false],
    ])
  })

  it('looks topics up by id in v12+ and answers UNKNOWN_TOPIC_ID', async () => {
    await c.send(CreateTopics, 7, { topics: [{ name: 'by-id', numPartitions: 2, replicationFactor: 1 }] })
    const id = cluster.topics.get('by-id')!.id
    const r = await c.send(Metadata, 12, { topics: [{ name: null, topicId: id }] })
    expect(r.topics[0]).toMatchObject({ name: 'by-id', topicId: id, errorCode: 0 })
    const unknown = await c.send(Metadata, 12, { topics: [{ name: null, topicId: 'AAAAAAAAAAAAAAAAAAAAAQ' }] })
    expect(unknown.topics[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_ID)
  })

  it('CreateTopics: success with configs, validateOnly, and Kafka error codes', async () => {
    const r = await c.send(CreateTopics, 7, {
      topics: [
        { name: 'ct-ok', numPartitions: 4, replicationFactor: 2, configs: [{ name: 'retention.ms', value: '1000' }] },
        { name: 'ct-parts', numPartitions: 0, replicationFactor: 1 },
        { name: 'ct-rf', numPartitions: 1, replicationFactor: 4 },
        { name: 'ct-cfg', numPartitions: 1, replicationFactor: 1, configs: [{ name: 'no.such.config', value: '1' }] },
        {
          name: 'ct-badval',
          numPartitions: 1,
          replicationFactor: 1,
          configs: [{ name: 'cleanup.policy', value: 'shred' }],
        },
        {
          name: 'ct-assign',
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [
            { partitionIndex: 0, brokerIds: [2, 1] },
            { partitionIndex: 1, brokerIds: [0, 2] },
          ],
        },
        {
          name: 'ct-badassign',
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [{ partitionIndex: 0, brokerIds: [7] }],
        },
        { name: 'ct-dup', numPartitions: 1, replicationFactor: 1 },
        { name: 'ct-dup', numPartitions: 1, replicationFactor: 1 },
      ],
    })
    const byName = (n: string) => r.topics.filter((t) => t.name === n)
    expect(byName('ct-ok')[0]).toMatchObject({ errorCode: 0, numPartitions: 4, replicationFactor: 2 })
    expect(byName('ct-ok')[0]!.configs!.find((x) => x.name === 'retention.ms')).toMatchObject({
      value: '1000',
      configSource: 1,
    })
    expect(byName('ct-parts')[0]!.errorCode).toBe(ErrorCode.INVALID_PARTITIONS)
    expect(byName('ct-rf')[0]!.errorCode).toBe(ErrorCode.INVALID_REPLICATION_FACTOR)
    expect(byName('ct-cfg')[0]!.errorCode).toBe(ErrorCode.INVALID_CONFIG)
    expect(byName('ct-badval')[0]!.errorCode).toBe(ErrorCode.INVALID_CONFIG)
    expect(byName('ct-assign')[0]!.errorCode).toBe(0)
    expect(cluster.topics.get('ct-assign')!.partitions.map((p) => p.replicas)).toEqual([
      [2, 1],
      [0, 2],
    ])
    expect(cluster.topics.get('ct-assign')!.partitions[0]!.leader).toBe(2)
    expect(byName('ct-badassign')[0]!.errorCode).toBe(ErrorCode.INVALID_REPLICA_ASSIGNMENT)
    expect(byName('ct-dup').every((t) => t.errorCode === ErrorCode.INVALID_REQUEST)).toBe(true)

    const huge = await c.send(CreateTopics, 7, {
      topics: [
        { name: 'ct-huge', numPartitions: 9000, replicationFactor: 1 },
        { name: 'ct-huge2', numPartitions: 1001, replicationFactor: 1 },
      ],
    })
    expect(huge.topics.map((t) => [t.errorCode, t.errorMessage])).toEqual([
      [ErrorCode.POLICY_VIOLATION, 'Excessively large number of partitions per request.'],
      [ErrorCode.POLICY_VIOLATION, 'Excessively large number of partitions per request.'],
    ])
    const again = await c.send(CreateTopics, 7, { topics: [{ name: 'ct-ok', numPartitions: 1, replicationFactor: 1 }] })
    expect(again.topics[0]!.errorCode).toBe(ErrorCode.TOPIC_ALREADY_EXISTS)
    const dry = await c.send(CreateTopics, 7, {
      topics: [{ name: 'ct-dry', numPartitions: 2, replicationFactor: 1 }],
      validateOnly: true,
    })
    expect(dry.topics[0]).toMatchObject({ errorCode: 0, numPartitions: 2 })
    expect(cluster.topics.get('ct-dry')).toBeUndefined()
    await c.send(CreateTopics, 7, { topics: [{ name: 'ct.dot', numPartitions: 1, replicationFactor: 1 }] })
    const collide = await c.send(CreateTopics, 7, {
      topics: [{ name: 'ct_dot', numPartitions: 1, replicationFactor: 1 }],
    })
    expect(collide.topics[0]!.errorCode).toBe(ErrorCode.INVALID_TOPIC_EXCEPTION)
    // Old versions encode without the v5+ fields.
    const v2 = await c.send(CreateTopics, 2, { topics: [{ name: 'ct-v2', numPartitions: 1, replicationFactor: 1 }] })
    expect(v2.topics[0]!.errorCode).toBe(0)
  })

  it('CreatePartitions and DeleteTopics', async () => {
    await c.send(CreateTopics, 7, { topics: [{ name: 'cp', numPartitions: 2, replicationFactor: 1 }] })
    const r = await c.send(CreatePartitions, 3, {
      topics: [
        { name: 'cp', count: 5, assignments: null },
        { name: 'cp-missing', count: 2, assignments: null },
      ],
    })
    expect(r.results.map((x) => x.errorCode)).toEqual([0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION])
    expect(cluster.topics.get('cp')!.partitions).toHaveLength(5)
    const shrink = await c.send(CreatePartitions, 3, { topics: [{ name: 'cp', count: 3, assignments: null }] })
    expect(shrink.results[0]!.errorCode).toBe(ErrorCode.INVALID_PARTITIONS)

    const del = await c.send(DeleteTopics, 6, { topics: [{ name: 'cp' }, { name: 'nope' }] })
    expect(del.responses.map((x) => x.errorCode)).toEqual([0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION])
    expect(cluster.topics.get('cp')).toBeUndefined()
    await c.send(CreateTopics, 7, { topics: [{ name: 'del-id', numPartitions: 1, replicationFactor: 1 }] })
    const id = cluster.topics.get('del-id')!.id
    const delById = await c.send(DeleteTopics, 6, {
      topics: [
        { name: null, topicId: id },
        { name: null, topicId: 'AAAAAAAAAAAAAAAAAAAAAQ' },
      ],
    })
    expect(delById.responses.map((x) => x.errorCode)).toEqual([0, ErrorCode.UNKNOWN_TOPIC_ID])
    const v1 = await c.send(DeleteTopics, 1, { topicNames: ['by-id'] })
    expect(v1.responses[0]!.errorCode).toBe(0)
  })

  it('DescribeConfigs and IncrementalAlterConfigs for topics and brokers', async () => {
    await c.send(CreateTopics, 7, { topics: [{ name: 'cfg', numPartitions: 1, replicationFactor: 1 }] })
    const before = await c.send(DescribeConfigs, 4, {
      resources: [{ resourceType: 2, resourceName: 'cfg', configurationKeys: null }],
      includeSynonyms: true,
    })
    const retention = before.results[0]!.configs.find((x) => x.name === 'retention.ms')!
    expect(retention).toMatchObject({ value: '604800000', configSource: 5, configType: 5 })
    expect(before.results[0]!.configs.find((x) => x.name === 'cleanup.policy')).toMatchObject({
      value: 'delete',
      configType: 7,
    })

    const alter = await c.send(IncrementalAlterConfigs, 1, {
      resources: [
        {
          resourceType: 2,
          resourceName: 'cfg',
          configs: [
            { name: 'retention.ms', configOperation: 0, value: '5000' },
            { name: 'cleanup.policy', configOperation: 2, value: 'compact' },
          ],
        },
        {
          resourceType: 2,
          resourceName: 'missing',
          configs: [{ name: 'retention.ms', configOperation: 0, value: '1' }],
        },
        { resourceType: 2, resourceName: 'cfg2', configs: [] },
      ],
    })
    expect(alter.responses.map((x) => x.errorCode)).toEqual([
      0,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    ])
    const topic = cluster.topics.get('cfg')!
    expect(topic.config('retention.ms')).toBe('5000')
    expect(topic.config('cleanup.policy')).toBe('delete,compact')

    const bad = await c.send(IncrementalAlterConfigs, 1, {
      resources: [
        { resourceType: 2, resourceName: 'cfg', configs: [{ name: 'retention.ms', configOperation: 2, value: '1' }] },
      ],
    })
    expect(bad.responses[0]!.errorCode).toBe(ErrorCode.INVALID_CONFIG)
    const badValue = await c.send(IncrementalAlterConfigs, 1, {
      resources: [
        {
          resourceType: 2,
          resourceName: 'cfg',
          configs: [{ name: 'min.insync.replicas', configOperation: 0, value: '0' }],
        },
      ],
    })
    expect(badValue.responses[0]!.errorCode).toBe(ErrorCode.INVALID_CONFIG)

    const del = await c.send(IncrementalAlterConfigs, 0, {
      resources: [
        { resourceType: 2, resourceName: 'cfg', configs: [{ name: 'retention.ms', configOperation: 1, value: null }] },
      ],
    })
    expect(del.responses[0]!.errorCode).toBe(0)
    expect(topic.config('retention.ms')).toBe('604800000')

    // A cluster-wide dynamic default (log.retention.ms) applies to topics without an override.
    const broker = await c.send(IncrementalAlterConfigs, 1, {
      resources: [
        {
          resourceType: 4,
          resourceName: '',
          configs: [{ name: 'log.retention.ms', configOperation: 0, value: '7000' }],
        },
      ],
    })
    expect(broker.responses[0]!.errorCode).toBe(0)
    expect(topic.config('retention.ms')).toBe('7000')
    const after = await c.send(DescribeConfigs, 4, {
      resources: [{ resourceType: 2, resourceName: 'cfg', configurationKeys: ['retention.ms'] }],
      includeSynonyms: true,
    })
    expect(after.results[0]!.configs).toHaveLength(1)
    expect(after.results[0]!.configs[0]).toMatchObject({ value: '7000', configSource: 3 })
    const readOnly = await c.send(IncrementalAlterConfigs, 1, {
      resources: [
        { resourceType: 4, resourceName: '0', configs: [{ name: 'num.partitions', configOperation: 0, value: '3' }] },
      ],
    })
    expect(readOnly.responses[0]!.errorCode).toBe(ErrorCode.INVALID_REQUEST)

    const brokerCfg = await c.send(DescribeConfigs, 4, {
      resources: [{ resourceType: 4, resourceName: '0', configurationKeys: null }],
    })
    expect(brokerCfg.results[0]!.configs.find((x) => x.name === 'num.partitions')).toMatchObject({
      value: '1',
      readOnly: true,
    })
    const otherBroker = await c.send(DescribeConfigs, 4, {
      resources: [{ resourceType: 4, resourceName: '2', configurationKeys: null }],
    })
    expect(otherBroker.results[0]!.errorCode).toBe(ErrorCode.INVALID_REQUEST)
    for (let v = 1; v <= 4; v++) {
      const r = await c.send(DescribeConfigs, v, {
        resources: [{ resourceType: 2, resourceName: 'cfg', configurationKeys: null }],
      })
      expect(r.results[0]!.errorCode).toBe(0)
    }

    // The legacy AlterConfigs replaces the topic's whole override set.
    const legacy = await c.send(AlterConfigs, 2, {
      resources: [{ resourceType: 2, resourceName: 'cfg', configs: [{ name: 'max.message.bytes', value: '2000' }] }],
    })
    expect(legacy.responses[0]!.errorCode).toBe(0)
    expect([...topic.configs.keys()]).toEqual(['max.message.bytes'])
    await c.send(IncrementalAlterConfigs, 1, {
      resources: [
        { resourceType: 4, resourceName: '', configs: [{ name: 'log.retention.ms', configOperation: 1, value: null }] },
      ],
    })
  })

  it('cluster.createTopic sets topics up without a client, with Kafka validation', () => {
    cluster.createTopic('direct', { partitions: 2, replicationFactor: 2, configs: { 'cleanup.policy': 'compact' } })
    expect(cluster.topics.get('direct')!.partitions.map((p) => p.replicas.length)).toEqual([2, 2])
    expect(cluster.topics.get('direct')!.compacted).toBe(true)
    cluster.createTopic('direct-assigned', { assignments: [[2], [1]] })
    expect(cluster.topics.get('direct-assigned')!.partitions.map((p) => p.leader)).toEqual([2, 1])
    expect(() => cluster.createTopic('direct')).toThrow(/already exists/)
  })

  it('DescribeCluster lists brokers, and fenced (stopped) ones on request', async () => {
    for (let v = 0; v <= 2; v++) {
      const r = await c.send(DescribeCluster, v, { endpointType: 1 })
      expect(r).toMatchObject({ errorCode: 0, clusterId: cluster.clusterId, controllerId: 0 })
      expect(r.brokers.map((b) => b.brokerId)).toEqual([0, 1, 2])
    }
    const controllers = await c.send(DescribeCluster, 1, { endpointType: 2 })
    expect(controllers.errorCode).toBe(ErrorCode.UNSUPPORTED_ENDPOINT_TYPE)
    await cluster.faults.stopBroker(2)
    const fenced = await c.send(DescribeCluster, 2, { endpointType: 1, includeFencedBrokers: true })
    expect(fenced.brokers.find((b) => b.brokerId === 2)?.isFenced).toBe(true)
    const live = await c.send(DescribeCluster, 2, { endpointType: 1 })
    expect(live.brokers.map((b) => b.brokerId)).toEqual([0, 1])
    await cluster.faults.startBroker(2)
  })
})
