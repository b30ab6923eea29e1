// CreateTopics (19, v2-7), DeleteTopics (20, v1-6), CreatePartitions (37, v0-3).
// Kafka 4 brokers forward these to the controller; here every broker applies them directly.
// A topic named twice in one request is INVALID_REQUEST for that name (Kafka's duplicate check).
// ACLs: CREATE on the cluster or the topic, DESCRIBE_CONFIGS to see a created topic's configs
// (topicConfigErrorCode), DELETE on the cluster or the topic, ALTER on the topic (CreatePartitions).

import type { Input } from '../../protocol/api.js'
import { ZERO_UUID } from '../../protocol/api.js'
import { ErrorCode } from '../../protocol/error-codes.js'
import { CreatePartitions } from '../../protocol/messages/create-partitions.js'
import { CreateTopics, type CreateTopicsResponseCreatableTopicResult } from '../../protocol/messages/create-topics.js'
import { DeleteTopics } from '../../protocol/messages/delete-topics.js'
import { TopicError, type Topic } from '../topics.js'
import { describeTopicConfigs } from './configs.js'
import { AclOperation, ResourceType } from '../acls.js'
import { allowed, clusterAllowed } from './authz.js'
import { defineHandler } from './types.js'

function duplicates(names: string[]): Set<string> {
  const seen = new Set<string>()
  const dup = new Set<string>()
  for (const n of names) {
    if (seen.has(n)) dup.add(n)
    seen.add(n)
  }
  return dup
}

type CreateResult = Input<CreateTopicsResponseCreatableTopicResult>

const MAX_PARTITIONS_PER_BATCH = 10000

export const createTopicsHandler = defineHandler({
  api: CreateTopics,
  handle(ctx, req) {
    const { cluster, version } = ctx
    const dup = duplicates(req.topics.map((t) => t.name))
    const results: CreateResult[] = []
    const failed = (name: string, errorCode: number, errorMessage: string | null): CreateResult => ({
      name,
      errorCode,
      errorMessage,
      numPartitions: -1,
      replicationFactor: -1,
      configs: version >= 5 ? null : [],
    })
    // ReplicationControlManager.validateTotalNumberOfPartitions: the whole request is refused,
    // before any per-topic check, when it asks for more than 10000 partitions in total.
    let total = 0
    for (const t of req.topics) {
      total +=
        t.assignments.length > 0
          ? t.assignments.length
          : t.numPartitions === -1
            ? cluster.options.defaultPartitions
            : Math.max(0, t.numPartitions)
    }
    if (total > MAX_PARTITIONS_PER_BATCH) {
      return {
        throttleTimeMs: 0,
        topics: req.topics.map((t) =>
          failed(t.name, ErrorCode.POLICY_VIOLATION, 'Excessively large number of partitions per request.'),
        ),
      }
    }
    const mayCreateAll = clusterAllowed(ctx, AclOperation.CREATE)
    for (const t of req.topics) {
      if (dup.has(t.name)) {
        results.push(failed(t.name, ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'))
        continue
      }
      if (!mayCreateAll && !allowed(ctx, ResourceType.TOPIC, t.name, AclOperation.CREATE)) {
        results.push(failed(t.name, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Authorization failed.'))
        continue
      }
      let topic: Topic
      try {
        topic = cluster.topics.create(
          {
            name: t.name,
            numPartitions: t.numPartitions,
            replicationFactor: t.replicationFactor,
            assignments: t.assignments,
            configs: t.configs,
          },
          {
            partitions: cluster.options.defaultPartitions,
            replicationFactor: cluster.options.defaultReplicationFactor,
          },
          req.validateOnly,
        )
      } catch (err) {
        if (!(err instanceof TopicError)) throw err
        results.push(failed(t.name, err.errorCode, err.message))
        continue
      }
      const partitions = req.validateOnly
        ? t.assignments.length > 0
          ? t.assignments.length
          : t.numPartitions === -1
            ? cluster.options.defaultPartitions
            : t.numPartitions
        : topic.partitions.length
      const rf =
        t.assignments.length > 0
          ? t.assignments[0]!.brokerIds.length
          : t.replicationFactor === -1
            ? cluster.options.defaultReplicationFactor
            : t.replicationFactor
      if (!req.validateOnly) cluster.log.info(`created topic ${t.name} (${partitions} partitions, rf ${rf})`)
      // Without DESCRIBE_CONFIGS on the topic the answer leaves out its configs, partition count
      // and replication factor (ReplicationControlManager.createTopic, authorizedToReturnConfigs).
      if (version >= 5 && !allowed(ctx, ResourceType.TOPIC, t.name, AclOperation.DESCRIBE_CONFIGS)) {
        results.push({
          name: t.name,
          topicId: version >= 7 && !req.validateOnly ? topic.id : ZERO_UUID,
          errorCode: 0,
          errorMessage: null,
          topicConfigErrorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
          numPartitions: -1,
          replicationFactor: -1,
          configs: [],
        })
        continue
      }
      results.push({
        name: t.name,
        topicId: version >= 7 && !req.validateOnly ? topic.id : ZERO_UUID,
        errorCode: 0,
        errorMessage: null,
        numPartitions: partitions,
        replicationFactor: rf,
        configs:
          version >= 5
            ? describeTopicConfigs(cluster, topic, null, false, false).map((c) => ({
                name: c.name,
                value: c.value,
                readOnly: c.readOnly,
                configSource: c.configSource,
                isSensitive: c.isSensitive,
              }))
            : [],
      })
    }
    return { throttleTimeMs: 0, topics: results }
  },
  errorResponse(_ctx, req, errorCode) {
    return {
      topics: req.topics.map((t) => ({
        name: t.name,
        errorCode,
        errorMessage: null,
        numPartitions: -1,
        replicationFactor: -1,
        configs: null,
      })),
    }
  },
})

export const deleteTopicsHandler = defineHandler({
  api: DeleteTopics,
  handle(ctx, req) {
    const { cluster, version } = ctx
    const requested = version >= 6 ? req.topics : req.topicNames.map((name) => ({ name, topicId: ZERO_UUID }))
    const dup = duplicates(requested.map((t) => t.name ?? t.topicId))
    const mayDeleteAll = clusterAllowed(ctx, AclOperation.DELETE)
    const responses = requested.map((t) => {
      const result = (errorCode: number, errorMessage: string | null = null, name = t.name) => ({
        name,
        topicId: t.topicId,
        errorCode,
        errorMessage,
      })
      if (dup.has(t.name ?? t.topicId)) return result(ErrorCode.INVALID_REQUEST, 'Duplicate topic name.')
      if (t.name !== null && t.topicId !== ZERO_UUID)
        return result(ErrorCode.INVALID_REQUEST, 'You may not specify both topic name and topic id.')
      const topic = t.name !== null ? cluster.topics.get(t.name) : cluster.topics.getById(t.topicId)
      // Kafka checks DELETE (on the cluster, else on the topic) before existence, so a refused
      // principal learns nothing of the topic.
      const name = t.name ?? topic?.name
      if (name !== undefined && !mayDeleteAll && !allowed(ctx, ResourceType.TOPIC, name, AclOperation.DELETE))
        return result(ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Authorization failed.')
      if (topic === undefined)
        return result(t.name !== null ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.UNKNOWN_TOPIC_ID)
      cluster.topics.delete(topic)
      cluster.groups.onTopicDeleted(topic.name)
      cluster.log.info(`deleted topic ${topic.name}`)
      return { name: topic.name, topicId: version >= 6 ? topic.id : ZERO_UUID, errorCode: 0, errorMessage: null }
    })
    return { throttleTimeMs: 0, responses }
  },
  errorResponse(ctx, req, errorCode) {
    const requested = ctx.version >= 6 ? req.topics : req.topicNames.map((name) => ({ name, topicId: ZERO_UUID }))
    return { responses: requested.map((t) => ({ name: t.name, topicId: t.topicId, errorCode, errorMessage: null })) }
  },
})

export const createPartitionsHandler = defineHandler({
  api: CreatePartitions,
  handle(ctx, req) {
    const { cluster } = ctx
    const dup = duplicates(req.topics.map((t) => t.name))
    const results = req.topics.map((t) => {
      if (dup.has(t.name))
        return { name: t.name, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic name.' }
      if (!allowed(ctx, ResourceType.TOPIC, t.name, AclOperation.ALTER))
        return { name: t.name, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Authorization failed.' }
      const topic = cluster.topics.get(t.name)
      if (topic === undefined)
        return {
          name: t.name,
          errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          errorMessage: `The topic '${t.name}' does not exist.`,
        }
      try {
        cluster.topics.addPartitions(
          topic,
          t.count,
          t.assignments?.map((a) => a.brokerIds),
          req.validateOnly,
        )
      } catch (err) {
        if (!(err instanceof TopicError)) throw err
        return { name: t.name, errorCode: err.errorCode, errorMessage: err.message }
      }
      return { name: t.name, errorCode: 0, errorMessage: null }
    })
    return { throttleTimeMs: 0, results }
  },
  errorResponse(_ctx, req, errorCode) {
    return { results: req.topics.map((t) => ({ name: t.name, errorCode, errorMessage: null })) }
  },
})
