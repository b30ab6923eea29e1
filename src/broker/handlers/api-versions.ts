// ApiVersions (key 18): the APIs this broker serves and their version ranges.
//
// Only APIs with a handler are advertised, each from its lowest to its highest stable version
// in Kafka 4.4.0's schemas (what Kafka 4.4.0 advertises, test/broker/kafka-answers.test.ts);
// Produce is advertised from v0 although v0-2 are rejected, exactly as Kafka 4.x does for
// librdkafka's sake (KAFKA-18659). v5 (KIP-1242): a request naming another cluster id or node id
// gets REBOOTSTRAP_REQUIRED and no API list, as Kafka 4.4 answers. v3+ requests must carry a valid client
// software name and version (KIP-511) or get INVALID_REQUEST. Features: metadata.version and
// transaction.version (supported 0-2, finalized at the cluster's `transactionVersion`, 2 by
// default as on a fresh Kafka 4.4 cluster, probed with ApiVersions v4: supported 0-2, finalized 2);
// group.version finalized 1 while the consumer group protocol is served, as on Kafka 4.4;
// share.version supported 0-2 and finalized 2 while share groups are served (the `shareGroups`
// option), as on a cluster Kafka 4.4.0 formats.

import { ErrorCode } from '../../protocol/error-codes.js'
import { ApiVersions } from '../../protocol/messages/api-versions.js'
import { defineHandler } from './types.js'

const SOFTWARE_PATTERN = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/

/** metadata.version as a fresh Kafka 4.4.0 cluster finalizes it (supported 7-33, finalized 33). */
const METADATA_VERSION = 33

/**
 * The finalized feature levels. Kafka leaves a feature at level 0 out of the list, so a client
 * sees no `transaction.version` at all when it is 0 (and uses the V1 protocol, as for 1).
 */
function finalized(transactionVersion: number, consumerGroups: boolean, shareGroups: boolean) {
  const out = [{ name: 'metadata.version', minVersionLevel: METADATA_VERSION, maxVersionLevel: METADATA_VERSION }]
  if (transactionVersion > 0)
    out.push({ name: 'transaction.version', minVersionLevel: transactionVersion, maxVersionLevel: transactionVersion })
  // group.version 1 is what enables KIP-848 on Kafka 4.x (finalized on a fresh 4.4 cluster; 3.9 has none).
  if (consumerGroups) out.push({ name: 'group.version', minVersionLevel: 1, maxVersionLevel: 1 })
  // share.version 2 is what a fresh Kafka 4.4.0 cluster finalizes (share groups on, supported 0-2).
  if (shareGroups) out.push({ name: 'share.version', minVersionLevel: 2, maxVersionLevel: 2 })
  return out
}

export const apiVersionsHandler = defineHandler({
  api: ApiVersions,
  handle(ctx, req) {
    if (ctx.version >= 3) {
      if (!SOFTWARE_PATTERN.test(req.clientSoftwareName) || !SOFTWARE_PATTERN.test(req.clientSoftwareVersion)) {
        return { errorCode: ErrorCode.INVALID_REQUEST }
      }
      ctx.connection.attributes.set('clientSoftware', `${req.clientSoftwareName}/${req.clientSoftwareVersion}`)
    }
    if (ctx.version >= 5 && req.clusterId !== null) {
      const otherNode = req.nodeId !== -1 && req.nodeId !== ctx.broker.id
      if (req.clusterId !== ctx.cluster.clusterId || otherNode) return { errorCode: ErrorCode.REBOOTSTRAP_REQUIRED }
    }
    const features = ctx.version >= 3
    return {
      errorCode: 0,
      apiKeys: ctx.broker.advertisedApis(),
      throttleTimeMs: 0,
      supportedFeatures: features
        ? [
            { name: 'metadata.version', minVersion: 7, maxVersion: METADATA_VERSION },
            { name: 'transaction.version', minVersion: 0, maxVersion: 2 },
            { name: 'share.version', minVersion: 0, maxVersion: 2 },
          ]
        : [],
      finalizedFeaturesEpoch: features ? 1n : -1n,
      finalizedFeatures: features
        ? finalized(
            ctx.cluster.options.transactionVersion,
            ctx.cluster.options.groupProtocols.includes('consumer'),
            ctx.cluster.options.shareGroups,
          )
        : [],
    }
  },
  errorResponse(_ctx, _req, errorCode) {
    return { errorCode, apiKeys: [] }
  },
})
