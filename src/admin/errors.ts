// The Admin's own errors. A batch call (create three topics, delete two groups) can half
// succeed: AdminBatchError says which resources failed and why, and carries what succeeded.

import { KafkaTsError } from '../errors.js'

/**
 * Some resources of a batch call failed. `errors` maps each failed resource (a topic name, a
 * group id, 'topic-partition' for partition calls, 'type:name' for configs) to its error (a
 * KafkaError with Kafka's code and message); `results` holds the resources that succeeded.
 */
export class AdminBatchError<R = unknown> extends KafkaTsError {
  readonly apiName: string
  readonly errors: ReadonlyMap<string, Error>
  readonly results: ReadonlyMap<string, R>

  constructor(apiName: string, errors: ReadonlyMap<string, Error>, results: ReadonlyMap<string, R>) {
    const total = errors.size + results.size
    const shown = [...errors].slice(0, 5).map(([name, err]) => `${name}: ${err.message}`)
    const more = errors.size > 5 ? `; and ${errors.size - 5} more` : ''
    super(
      'KAFKATS_ADMIN_BATCH',
      `${apiName} failed for ${errors.size} of ${total} resource(s): ${shown.join('; ')}${more}`,
      { cause: errors.values().next().value },
    )
    this.apiName = apiName
    this.errors = errors
    this.results = results
  }
}

/**
 * A group's committed offsets cannot be reset while it has members (kafka-consumer-groups.sh
 * refuses too): stop its consumers first.
 */
export class GroupNotEmptyError extends KafkaTsError {
  readonly groupId: string
  readonly state: string

  constructor(groupId: string, state: string) {
    super(
      'KAFKATS_GROUP_NOT_EMPTY',
      `group '${groupId}' is ${state}: offsets can only be reset while the group is Empty (stop its consumers first)`,
    )
    this.groupId = groupId
    this.state = state
  }
}
