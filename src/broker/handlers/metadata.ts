// Metadata (key 3), v0-13.
//
// - A null topic list (v1+), or an empty one in v0, means every topic.
// - v12+ may name topics by id only; an unknown id is UNKNOWN_TOPIC_ID.
// - Auto-creation (auto.create.topics.enable and, v4+, allowAutoTopicCreation): like Kafka 4's
//   KRaft brokers, the topic is created but the request that triggered it is answered with
//   UNKNOWN_TOPIC_OR_PARTITION (AutoTopicCreationManager sends the creation to the controller
//   and answers at once); the next Metadata request sees it. Invalid names get
//   INVALID_TOPIC_EXCEPTION and are never created.
// - A partition without a live leader is LEADER_NOT_AVAILABLE with leader -1.
// - A broker under faults.lagMetadata answers from its frozen view (metadata-view.ts): stale
//   leaders, epochs, ISRs and brokers; topics created since are UNKNOWN_TOPIC_OR_PARTITION
//   (auto-creation still reaches the controller), topics deleted since are still listed.

import { ZERO_UUID, type Input } from '../../protocol/api.js'
import { ErrorCode } from '../../protocol/error-codes.js'
import { Metadata, type MetadataResponse, type MetadataResponseTopic } from '../../protocol/messages/metadata.js'
import { liveBrokerViews, viewTopic, type BrokerView, type TopicView } from '../metadata-view.js'
import { TopicError, validateTopicName } from '../topics.js'
import { AclOperation, ResourceType } from '../acls.js'
import { allowed, authorizedOperations, clusterAllowed, clusterAuthorizedOperations } from './authz.js'
import { defineHandler } from './types.js'

/**
 * Kafka's Topic.INTERNAL_TOPICS: an answer for a topic that does not exist (yet) still says
 * `isInternal` for these names (KafkaApis.getTopicMetadata / AutoTopicCreationManager use
 * Topic.isInternal(name)).
 */
export const INTERNAL_TOPICS: ReadonlySet<string> = new Set([
  '__consumer_offsets',
  '__transaction_state',
  '__share_group_state',
])

/** Kafka's AclOperation bits a fully authorized principal holds on a topic (READ..ALTER_CONFIGS). */
export const TOPIC_AUTHORIZED_OPERATIONS =
  (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 10) | (1 << 11)
/** ... and on the cluster (CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE). */
export const CLUSTER_AUTHORIZED_OPERATIONS =
  (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12)
const NOT_REQUESTED = -2147483648

function brokerList(brokers: BrokerView[], version: number): Input<MetadataResponse>['brokers'] {
  return brokers.map((b) => ({ ...b, rack: version >= 1 ? b.rack : null }))
}

export function topicMetadata(topic: TopicView, version: number, includeOps: boolean): Input<MetadataResponseTopic> {
  return {
    errorCode: 0,
    name: topic.name,
    topicId: version >= 10 ? topic.id : ZERO_UUID,
    isInternal: topic.internal,
    partitions: topic.partitions.map((p) => ({
      errorCode: p.leader < 0 ? ErrorCode.LEADER_NOT_AVAILABLE : 0,
      partitionIndex: p.index,
      leaderId: p.leader,
      leaderEpoch: version >= 7 ? p.leaderEpoch : -1,
      replicaNodes: p.replicas,
      isrNodes: p.isr,
      offlineReplicas: version >= 5 ? p.offlineReplicas : [],
    })),
    topicAuthorizedOperations:
      version >= 8 ? (includeOps ? TOPIC_AUTHORIZED_OPERATIONS : NOT_REQUESTED) : NOT_REQUESTED,
  }
}

export const metadataHandler = defineHandler({
  api: Metadata,
  handle(ctx, req) {
    const { cluster, version } = ctx
    const includeOps = version >= 8 && req.includeTopicAuthorizedOperations
    const all = req.topics === null || (version === 0 && req.topics.length === 0)
    // This broker's view: the cluster's current state, or the one frozen by faults.lagMetadata.
    const stale = ctx.broker.metadataView
    const byName = (name: string): TopicView | undefined => {
      if (stale !== undefined) return stale.byName.get(name)
      const t = cluster.topics.get(name)
      return t === undefined ? undefined : viewTopic(t)
    }
    const byId = (id: string): TopicView | undefined => {
      if (stale !== undefined) return stale.byId.get(id)
      const t = cluster.topics.getById(id)
      return t === undefined ? undefined : viewTopic(t)
    }
    const topics: Input<MetadataResponseTopic>[] = []
    // Topics the principal may not describe are left out of a full listing, and refused when named.
    const visible = (name: string): boolean => allowed(ctx, ResourceType.TOPIC, name, AclOperation.DESCRIBE)
    const refused = (name: string | null, topicId?: string): Input<MetadataResponseTopic> => ({
      errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
      name,
      ...(topicId !== undefined ? { topicId } : {}),
      isInternal: name !== null && INTERNAL_TOPICS.has(name),
      partitions: [],
    })
    if (all) {
      const every = stale !== undefined ? [...stale.byName.values()] : cluster.topics.all().map(viewTopic)
      for (const t of every) if (visible(t.name)) topics.push(topicMetadata(t, version, includeOps))
    } else {
      const autoCreate = cluster.options.autoCreateTopics && (version < 4 || req.allowAutoTopicCreation)
      for (const rt of req.topics ?? []) {
        if (rt.name === null) {
          const t = version >= 10 ? byId(rt.topicId) : undefined
          if (t === undefined)
            topics.push({ errorCode: ErrorCode.UNKNOWN_TOPIC_ID, name: null, topicId: rt.topicId, partitions: [] })
          else if (!visible(t.name)) topics.push(refused(null, rt.topicId))
          else topics.push(topicMetadata(t, version, includeOps))
          continue
        }
        if (!visible(rt.name)) {
          topics.push(refused(rt.name))
          continue
        }
        const t = byName(rt.name)
        if (t !== undefined) {
          topics.push(topicMetadata(t, version, includeOps))
          continue
        }
        const invalid = validateTopicName(rt.name) !== undefined
        let errorCode: number = invalid ? ErrorCode.INVALID_TOPIC_EXCEPTION : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        // A lagging broker forwards the creation too; the controller knows the topic may exist.
        const mayCreate =
          clusterAllowed(ctx, AclOperation.CREATE) || allowed(ctx, ResourceType.TOPIC, rt.name, AclOperation.CREATE)
        if (autoCreate && !invalid && !mayCreate) errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED
        else if (autoCreate && !invalid && cluster.topics.get(rt.name) === undefined) {
          try {
            cluster.topics.create(
              { name: rt.name, numPartitions: -1, replicationFactor: -1 },
              {
                partitions: cluster.options.defaultPartitions,
                replicationFactor: cluster.options.defaultReplicationFactor,
              },
            )
            ctx.cluster.log.info(`auto-created topic ${rt.name}`)
          } catch (err) {
            if (err instanceof TopicError)
              errorCode =
                err.errorCode === ErrorCode.INVALID_REPLICATION_FACTOR
                  ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
                  : err.errorCode
            else throw err
          }
        }
        topics.push({ errorCode, name: rt.name, isInternal: INTERNAL_TOPICS.has(rt.name), partitions: [] })
      }
    }
    return {
      throttleTimeMs: 0,
      brokers: brokerList(stale?.brokers ?? liveBrokerViews(cluster), version),
      clusterId: cluster.clusterId,
      controllerId: stale?.controllerId ?? cluster.controllerId,
      // Each named topic's operations for this principal, unknown ones too; refused topics are
      // added after KafkaApis sets them, so they keep the default.
      topics: includeOps
        ? topics.map((t) =>
            typeof t.name === 'string' && t.errorCode !== ErrorCode.TOPIC_AUTHORIZATION_FAILED
              ? {
                  ...t,
                  topicAuthorizedOperations: authorizedOperations(
                    ctx,
                    ResourceType.TOPIC,
                    t.name,
                    TOPIC_AUTHORIZED_OPERATIONS,
                  ),
                }
              : t,
          )
        : topics,
      clusterAuthorizedOperations:
        version >= 8 && version <= 10 && req.includeClusterAuthorizedOperations
          ? clusterAuthorizedOperations(ctx, CLUSTER_AUTHORIZED_OPERATIONS)
          : NOT_REQUESTED,
      errorCode: 0,
    }
  },
  errorResponse(ctx, req, errorCode) {
    // Kafka's MetadataRequest.getErrorResponse: every requested topic carries the error (v13 also top-level).
    return {
      brokers: [],
      topics: (req.topics ?? []).map((t) => ({
        errorCode,
        name: t.name,
        topicId: ctx.version >= 10 ? t.topicId : ZERO_UUID,
        partitions: [],
      })),
      errorCode: ctx.version >= 13 ? errorCode : 0,
    }
  },
})
