// The group coordinator: found with FindCoordinator (key type 0, group) and cached until a
// response or a broken connection says it moved (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE,
// Java's markCoordinatorUnknown). Group traffic (join, sync, heartbeat, commit, offset fetch,
// leave) goes to it over the 'group' connection, so a long JoinGroup or a commit never waits
// behind a Fetch long poll.

import type { Logger } from '../logger.js'
import type { KafkaClient } from '../cluster/client.js'
import { retry, type RetryPolicy } from '../cluster/retry.js'
import { KafkaError } from '../errors.js'
import { ConnectionError, RequestTimeoutError } from '../net/errors.js'
import { raceAbort, type BrokerEndpoint } from '../net/pool.js'
import type { ApiDefinition } from '../protocol/api.js'
import { ErrorCode, errorInfo } from '../protocol/error-codes.js'
import { FindCoordinator } from '../protocol/messages/index.js'
import type { BodyFor } from '../cluster/client.js'

/** FindCoordinator key type of a consumer group (1 is a transactional id, 2 a share group). */
const GROUP_KEY_TYPE = 0

export class Coordinator {
  readonly #client: KafkaClient
  readonly #groupId: string
  readonly #policy: RetryPolicy
  #node: BrokerEndpoint | null = null
  #finding: Promise<BrokerEndpoint> | null = null
  readonly #logger: Logger | undefined

  constructor(client: KafkaClient, groupId: string, policy: RetryPolicy, logger?: Logger) {
    this.#logger = logger
    this.#client = client
    this.#groupId = groupId
    this.#policy = policy
  }

  /** The coordinator's node id, or -1 while unknown. */
  get nodeId(): number {
    return this.#node?.nodeId ?? -1
  }

  /** A response or the connection said the coordinator moved: look it up again next time. */
  markUnknown(): void {
    this.#node = null
  }

  /** The coordinator, looked up when not known (retried while the errors are retriable). */
  find(signal?: AbortSignal): Promise<BrokerEndpoint> {
    if (this.#node !== null) return Promise.resolve(this.#node)
    if (this.#finding === null) {
      const finding = retry(this.#policy, () => this.#lookup(), {
        what: `FindCoordinator for group '${this.#groupId}'`,
        onRetry: (err, attempt) => this.#logger?.warn({ err, attempt }, 'group coordinator not found; retrying'),
      })
      this.#finding = finding
      const clear = (): void => {
        if (this.#finding === finding) this.#finding = null
      }
      finding.then(clear, clear)
    }
    return raceAbort(this.#finding, signal, 'FindCoordinator')
  }

  /**
   * Sends one request to the coordinator. A connection failure or timeout forgets the
   * coordinator (it may have moved) and is thrown; error codes in the response are the
   * caller's to read (`checkCoordinatorError` helps).
   */
  async send<Req, Res>(
    api: ApiDefinition<Req, Res>,
    body: BodyFor<Req>,
    options: { signal?: AbortSignal | undefined; timeoutMs?: number } = {},
  ): Promise<Res> {
    const node = await this.find(options.signal)
    try {
      return await this.#client.requestTo(node, api, body, {
        signal: options.signal,
        workload: 'group',
        timeoutMs: options.timeoutMs,
      })
    } catch (err) {
      if (err instanceof ConnectionError || err instanceof RequestTimeoutError) this.markUnknown()
      throw err
    }
  }

  /** For a response error code: forgets the coordinator when the code says it moved; true if it did. */
  checkCoordinatorError(code: number): boolean {
    if (errorInfo(code).staleCoordinator === true) {
      this.markUnknown()
      return true
    }
    return false
  }

  async #lookup(): Promise<BrokerEndpoint> {
    const broker = this.#client.anyBroker()
    const response = await this.#client.requestTo(
      broker,
      FindCoordinator,
      (version) =>
        version >= 4
          ? { keyType: GROUP_KEY_TYPE, coordinatorKeys: [this.#groupId] }
          : { key: this.#groupId, keyType: GROUP_KEY_TYPE },
      { workload: 'admin' },
    )
    let errorCode = response.errorCode
    let errorMessage = response.errorMessage
    let node: BrokerEndpoint = { nodeId: response.nodeId, host: response.host, port: response.port }
    const entry = response.coordinators.find((c) => c.key === this.#groupId) ?? response.coordinators[0]
    if (entry !== undefined) {
      errorCode = entry.errorCode
      errorMessage = entry.errorMessage
      node = { nodeId: entry.nodeId, host: entry.host, port: entry.port }
    }
    if (errorCode !== ErrorCode.NONE) {
      throw KafkaError.fromCode(errorCode, { apiName: 'FindCoordinator', groupId: this.#groupId, errorMessage })
    }
    if (node.nodeId < 0 || node.host === '') {
      throw KafkaError.fromCode(ErrorCode.COORDINATOR_NOT_AVAILABLE, {
        apiName: 'FindCoordinator',
        groupId: this.#groupId,
      })
    }
    this.#node = node
    return node
  }
}
