// DescribeCluster (60), v0-2: the cluster id, controller and brokers (KIP-700). Broker
// listeners only describe brokers; asking for controllers is UNSUPPORTED_ENDPOINT_TYPE.
// v2 can include fenced (here: stopped) brokers.

import { ErrorCode } from '../../protocol/error-codes.js'
import { DescribeCluster } from '../../protocol/messages/describe-cluster.js'
import { clusterAuthorizedOperations } from './authz.js'
import { CLUSTER_AUTHORIZED_OPERATIONS } from './metadata.js'
import { defineHandler } from './types.js'

const BROKERS_ENDPOINT = 1

export const describeClusterHandler = defineHandler({
  api: DescribeCluster,
  handle(ctx, req) {
    const { cluster, version } = ctx
    const endpointType = version >= 1 ? req.endpointType : BROKERS_ENDPOINT
    if (endpointType !== BROKERS_ENDPOINT) {
      return {
        errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE,
        errorMessage: 'The broker only handles BROKER endpoints',
        endpointType,
        clusterId: cluster.clusterId,
        controllerId: -1,
      }
    }
    const includeFenced = version >= 2 && req.includeFencedBrokers
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      endpointType,
      clusterId: cluster.clusterId,
      controllerId: cluster.controllerId,
      brokers: cluster.brokers
        .filter((b) => b.running || includeFenced)
        .map((b) => ({
          brokerId: b.id,
          host: b.host,
          port: b.port,
          rack: b.rack,
          isFenced: version >= 2 ? !b.running : false,
        })),
      clusterAuthorizedOperations: req.includeClusterAuthorizedOperations
        ? clusterAuthorizedOperations(ctx, CLUSTER_AUTHORIZED_OPERATIONS)
        : -2147483648,
    }
  },
  errorResponse(ctx, _req, errorCode) {
    return { errorCode, clusterId: ctx.cluster.clusterId }
  },
})
