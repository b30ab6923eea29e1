// Errors of the transactional Writer (broker error codes still arrive as KafkaError, as causes).

import { KafkaTsError, type KafkaTsErrorOptions } from '../errors.js'

/**
 * A newer Writer with the same transactionalId took over (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH
 * from the transaction coordinator). Terminal, as Java's ProducerFencedException: every later
 * call fails with it; close the Writer.
 */
export class ProducerFencedError extends KafkaTsError {
  readonly retriable = false
  readonly transactionalId: string

  constructor(transactionalId: string, options?: KafkaTsErrorOptions) {
    super(
      'KAFKATS_PRODUCER_FENCED',
      `the transactional Writer '${transactionalId}' is fenced (a newer instance took over); close it`,
      options,
    )
    this.transactionalId = transactionalId
  }
}

/**
 * The authorizer refuses this principal WRITE on the transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
 * the broker's error as `cause`). Terminal, as Java's TransactionalIdAuthorizationException: every
 * later call fails with it; close the Writer.
 */
export class TransactionalIdAuthorizationError extends KafkaTsError {
  readonly retriable = false
  readonly transactionalId: string

  constructor(transactionalId: string, options?: KafkaTsErrorOptions) {
    super(
      'KAFKATS_TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
      `the transactional Writer '${transactionalId}' may not use its transactional id (refused by the broker's authorizer); close it`,
      options,
    )
    this.transactionalId = transactionalId
  }
}

/** A call that does not fit the transaction's state (a write outside a transaction, commit with none open, ...). */
export class TransactionStateError extends KafkaTsError {
  readonly retriable = false

  constructor(message: string, options?: KafkaTsErrorOptions) {
    super('KAFKATS_TRANSACTION_STATE', message, options)
  }
}

/**
 * The transaction cannot commit: something in it failed (`cause`). abortTransaction() ends it
 * and the Writer can begin another (Java's abortable errors).
 */
export class TransactionAbortableError extends KafkaTsError {
  readonly retriable = false

  constructor(message: string, options?: KafkaTsErrorOptions) {
    super('KAFKATS_TRANSACTION_ABORTABLE', message, options)
  }
}

/** Records dropped because their transaction was aborted before they were sent (Java's TransactionAbortedException). */
export class TransactionAbortedError extends KafkaTsError {
  readonly retriable = false

  constructor() {
    super('KAFKATS_TRANSACTION_ABORTED', 'the transaction was aborted before these records were sent')
  }
}

/**
 * EndTxn was not answered within the transaction timeout: the transaction may have committed (or
 * aborted). Never reported as aborted. Call the same method (commitTransaction / abortTransaction)
 * again to learn the outcome; nothing else is allowed meanwhile.
 */
export class TransactionOutcomeUnknownError extends KafkaTsError {
  readonly retriable = true
  readonly committing: boolean

  constructor(committing: boolean, options?: KafkaTsErrorOptions) {
    super(
      'KAFKATS_TRANSACTION_OUTCOME_UNKNOWN',
      `${committing ? 'commit' : 'abort'} not confirmed within the transaction timeout: the outcome is unknown; ` +
        `call ${committing ? 'commitTransaction' : 'abortTransaction'}() again`,
      options,
    )
    this.committing = committing
  }
}
