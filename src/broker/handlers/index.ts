// The table of served APIs: API key → handler. ApiVersions advertises exactly these.
// One file per API or API family; a new API is served by adding its handler here.

import { createAclsHandler, deleteAclsHandler, describeAclsHandler } from './acls.js'
import { apiVersionsHandler } from './api-versions.js'
import { alterConfigsHandler, describeConfigsHandler, incrementalAlterConfigsHandler } from './configs.js'
import { deleteRecordsHandler } from './delete-records.js'
import { consumerGroupDescribeHandler, consumerGroupHeartbeatHandler } from './consumer-groups.js'
import { describeClusterHandler } from './describe-cluster.js'
import { describeProducersHandler } from './describe-producers.js'
import { fetchHandler } from './fetch.js'
import { findCoordinatorHandler } from './find-coordinator.js'
import {
  deleteGroupsHandler,
  describeGroupsHandler,
  heartbeatHandler,
  joinGroupHandler,
  leaveGroupHandler,
  listGroupsHandler,
  syncGroupHandler,
} from './groups.js'
import { initProducerIdHandler } from './init-producer-id.js'
import { listOffsetsHandler } from './list-offsets.js'
import { metadataHandler } from './metadata.js'
import { offsetCommitHandler, offsetDeleteHandler, offsetFetchHandler, txnOffsetCommitHandler } from './offsets.js'
import { offsetForLeaderEpochHandler } from './offset-for-leader-epoch.js'
import { produceHandler } from './produce.js'
import { saslAuthenticateHandler, saslHandshakeHandler } from './sasl.js'
import { shareAcknowledgeHandler, shareFetchHandler } from './share.js'
import { shareGroupDescribeHandler, shareGroupHeartbeatHandler } from './share-groups.js'
import { alterUserScramCredentialsHandler, describeUserScramCredentialsHandler } from './scram.js'
import { createPartitionsHandler, createTopicsHandler, deleteTopicsHandler } from './topics-admin.js'
import { describeTransactionsHandler, listTransactionsHandler } from './transactions-admin.js'
import { addOffsetsToTxnHandler, addPartitionsToTxnHandler, endTxnHandler } from './transactions.js'
import type { AnyHandler } from './types.js'

const handlers: AnyHandler[] = [
  produceHandler,
  fetchHandler,
  listOffsetsHandler,
  metadataHandler,
  offsetCommitHandler,
  offsetFetchHandler,
  findCoordinatorHandler,
  joinGroupHandler,
  heartbeatHandler,
  leaveGroupHandler,
  syncGroupHandler,
  describeGroupsHandler,
  listGroupsHandler,
  apiVersionsHandler,
  createTopicsHandler,
  deleteTopicsHandler,
  deleteRecordsHandler,
  initProducerIdHandler,
  offsetForLeaderEpochHandler,
  addPartitionsToTxnHandler,
  addOffsetsToTxnHandler,
  endTxnHandler,
  txnOffsetCommitHandler,
  describeConfigsHandler,
  alterConfigsHandler,
  createPartitionsHandler,
  deleteGroupsHandler,
  incrementalAlterConfigsHandler,
  offsetDeleteHandler,
  describeClusterHandler,
  describeProducersHandler,
  saslHandshakeHandler,
  saslAuthenticateHandler,
  consumerGroupHeartbeatHandler,
  consumerGroupDescribeHandler,
  describeAclsHandler,
  createAclsHandler,
  deleteAclsHandler,
  describeUserScramCredentialsHandler,
  alterUserScramCredentialsHandler,
  describeTransactionsHandler,
  listTransactionsHandler,
  shareGroupHeartbeatHandler,
  shareGroupDescribeHandler,
  shareFetchHandler,
  shareAcknowledgeHandler,
]

export const HANDLERS: ReadonlyMap<number, AnyHandler> = new Map(handlers.map((h) => [h.api.apiKey, h]))
