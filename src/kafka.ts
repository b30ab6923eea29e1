// `Kafka`: one client for many roles (KafkaJS's `new Kafka()`, kafka-go's Transport, franz-go's
// Client). It owns what roles can share: the bootstrap addresses, the metadata cache (one
// Metadata request serves every role) and the version table of each broker (one ApiVersions
// per broker). Writers, Readers and Admins made from it keep their own connections, metrics and
// stats (see src/cluster/client.ts for why connections are not shared). Closing it closes the
// roles still open, readers first so their last commits go out, then writers (which flush), then
// admins, and then the shared parts.

import { Admin, type AdminConfig } from './admin/admin.js'
import { KafkaClient, type ClientConfig } from './cluster/client.js'
import type { ReaderConfig } from './consumer/config.js'
import { Reader } from './consumer/reader.js'
import { TransactionalProcessor, type TransactionalProcessorConfig } from './eos/processor.js'
import { ConfigError } from './errors.js'
import { createDefaultLogger, safeLogger, type Logger } from './logger.js'
import { ClosedError } from './net/errors.js'
import type { WriterConfig } from './producer/config.js'
import { Writer } from './producer/writer.js'

/** Options only the `Kafka` instance takes: every role made from it shares them. */
const SHARED_OPTIONS = [
  'brokers',
  'tls',
  'sasl',
  'socketFactory',
  'metadataMaxAge',
  'allowAutoTopicCreation',
] as const satisfies readonly (keyof ClientConfig)[]

export type SharedOption = (typeof SHARED_OPTIONS)[number]

export interface KafkaConfig extends ClientConfig {
  /**
   * The default `logger` of the Writers and Readers made from this instance (a role's own
   * `logger` option wins), and where `close()` reports a role that failed to close.
   */
  logger?: Logger
}

/** A role's options when made from a `Kafka` instance: everything but the shared connection options. */
export type RoleConfig<C extends ClientConfig> = Omit<C, SharedOption>

/** Options of the instance that are defaults for its roles (a role may set its own). */
type RoleDefaults = Pick<KafkaConfig, 'clientId' | 'connectTimeout' | 'requestTimeout' | 'connectionsMaxIdle'>

type Role = Writer | Reader | Admin

export class Kafka {
  readonly #config: KafkaConfig
  readonly #core: KafkaClient
  readonly #log: Logger
  readonly #defaults: RoleDefaults
  readonly #readers = new Set<Reader>()
  readonly #writers = new Set<Writer>()
  readonly #admins = new Set<Admin>()
  #closing: Promise<void> | null = null

  constructor(config: KafkaConfig) {
    if (typeof config !== 'object' || config === null) throw new ConfigError('config', 'must be an object')
    this.#config = { ...config }
    // The core validates the connection options and serves the metadata on its own connections.
    this.#core = new KafkaClient(config, 'shared')
    this.#log = safeLogger(config.logger ?? createDefaultLogger()).child({ client: 'kafka' })
    const defaults: RoleDefaults = { clientId: this.#core.clientId }
    if (config.connectTimeout !== undefined) defaults.connectTimeout = config.connectTimeout
    if (config.requestTimeout !== undefined) defaults.requestTimeout = config.requestTimeout
    if (config.connectionsMaxIdle !== undefined) defaults.connectionsMaxIdle = config.connectionsMaxIdle
    this.#defaults = defaults
  }

  get clientId(): string {
    return this.#core.clientId
  }

  /** True once `close()` was called: no more roles can be made. */
  get closed(): boolean {
    return this.#closing !== null
  }

  /** The shared core (bootstrap, metadata cache, version tables), e.g. for tests. */
  get client(): KafkaClient {
    return this.#core
  }

  /** A Writer on this instance's metadata; `close()` it when done, or let `kafka.close()` do it. */
  writer(config: RoleConfig<WriterConfig> = {}): Writer {
    const full: WriterConfig = { ...this.#roleConfig(config, 'writer'), ...this.#loggerDefault(config) }
    return this.#track(this.#writers, (sharing) => new Writer(full, sharing))
  }

  /** A Reader (group or direct, as its options say) on this instance's metadata. */
  reader(config: RoleConfig<ReaderConfig>): Reader {
    const full: ReaderConfig = { ...this.#roleConfig(config, 'reader'), ...this.#loggerDefault(config) }
    return this.#track(this.#readers, (sharing) => new Reader(full, sharing))
  }

  /** An Admin on this instance's metadata. */
  admin(config: RoleConfig<AdminConfig> = {}): Admin {
    const full: AdminConfig = this.#roleConfig(config, 'admin')
    return this.#track(this.#admins, (sharing) => new Admin(full, sharing))
  }

  /** A TransactionalProcessor; it owns nothing, so closing its Reader and Writer (or this instance) ends it. */
  transactionalProcessor(config: TransactionalProcessorConfig): TransactionalProcessor {
    this.#open()
    return new TransactionalProcessor(config)
  }

  /**
   * Closes the roles still open, in order (readers, so their commits go out and they leave their
   * groups; then writers, which flush; then admins), then the shared parts. Each role is closed
   * even when one before it fails; the first failure is thrown at the end and the others are
   * logged. Calls after the first return the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    const failures: unknown[] = []
    for (const roles of [this.#readers, this.#writers, this.#admins] as const) {
      const results = await Promise.allSettled([...roles].map((role: Role) => role.close()))
      for (const r of results) if (r.status === 'rejected') failures.push(r.reason)
    }
    await this.#core.close()
    for (const err of failures.slice(1)) this.#log.warn({ err }, 'a role failed to close')
    if (failures.length > 0) throw failures[0]
  }

  #open(): void {
    if (this.#closing !== null) throw new ClosedError('Kafka client')
  }

  /** Makes a role, remembered until its client closes (by itself or by `close()`). */
  #track<R extends Role>(roles: Set<R>, make: (sharing: { shared: KafkaClient; onClose: () => void }) => R): R {
    this.#open()
    // A role whose constructor closed it again (an aborted signal) is never remembered.
    const made: { role?: R; closed?: true } = {}
    made.role = make({
      shared: this.#core,
      onClose: () => {
        if (made.role === undefined) made.closed = true
        else roles.delete(made.role)
      },
    })
    if (made.closed !== true) roles.add(made.role)
    return made.role
  }

  #roleConfig<C extends ClientConfig>(config: RoleConfig<C>, role: string): C {
    if (typeof config !== 'object' || config === null)
      throw new ConfigError('config', `${role} options must be an object`)
    // Types keep these out; plain JavaScript may still pass them, and silently ignoring one would
    // mislead (a Writer "to another cluster" writing to this one).
    for (const option of SHARED_OPTIONS) {
      if (option in config) {
        throw new ConfigError(option, `is set on the Kafka instance and shared by its roles, not per ${role}`)
      }
    }
    const shared: Pick<ClientConfig, SharedOption> = { brokers: this.#core.bootstrap.map(addressOf) }
    const c = this.#config
    if (c.tls !== undefined) shared.tls = c.tls
    if (c.sasl !== undefined) shared.sasl = c.sasl
    if (c.socketFactory !== undefined) shared.socketFactory = c.socketFactory
    return { ...this.#defaults, ...config, ...shared } as C
  }

  #loggerDefault(config: { logger?: Logger }): { logger?: Logger } {
    return config.logger === undefined && this.#config.logger !== undefined ? { logger: this.#config.logger } : {}
  }
}

function addressOf(b: { host: string; port: number }): string {
  return b.host.includes(':') ? `[${b.host}]:${b.port}` : `${b.host}:${b.port}`
}
