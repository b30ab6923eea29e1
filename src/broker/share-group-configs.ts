// Per-group share configs (KIP-932 group configs: IncrementalAlterConfigs / AlterConfigs /
// DescribeConfigs on a GROUP resource), validated as Kafka 4.4.0 validates them (its error
// messages, seen on a 4.4.0 broker): each value within the broker's bounds, e.g.
// share.record.lock.duration.ms within group.share.min/max.record.lock.duration.ms (15000-60000).
// Only the share.* configs are kept; other group configs (consumer.*, streams.*) are refused
// as unknown. share.auto.offset.reset takes 'latest' or 'earliest' (not Kafka's by_duration).

import { ErrorCode } from '../protocol/error-codes.js'
import type { ResolvedOptions } from './config.js'

interface GroupConfigDef {
  name: string
  type: 'int' | 'string'
  defaultValue: (o: ResolvedOptions) => string
  /** An error message for a bad value, or undefined. */
  check: (value: string, o: ResolvedOptions) => string | undefined
}

function intRange(name: string, typeMin: number, bounds: (o: ResolvedOptions) => [number, number]) {
  return (value: string, o: ResolvedOptions): string | undefined => {
    if (!/^-?\d+$/.test(value.trim()))
      return `Invalid value ${value} for configuration ${name}: Not a number of type INT`
    const n = Number(value)
    if (n < typeMin) return `Invalid value ${value} for configuration ${name}: Value must be at least ${typeMin}`
    const [min, max] = bounds(o)
    if (n < min || n > max) return `${name} must be in the range ${min} to ${max} inclusive.`
    return undefined
  }
}

const DEFS: GroupConfigDef[] = [
  {
    name: 'share.record.lock.duration.ms',
    type: 'int',
    defaultValue: (o) => String(o.shareRecordLockDurationMs),
    check: intRange('share.record.lock.duration.ms', 1000, (o) => [o.shareMinRecordLockDurationMs, 60000]),
  },
  {
    name: 'share.delivery.count.limit',
    type: 'int',
    defaultValue: (o) => String(o.shareDeliveryCountLimit),
    check: intRange('share.delivery.count.limit', 2, () => [2, 10]),
  },
  {
    name: 'share.session.timeout.ms',
    type: 'int',
    defaultValue: (o) => String(o.shareGroupSessionTimeoutMs),
    check: intRange('share.session.timeout.ms', 1, () => [45000, 60000]),
  },
  {
    name: 'share.heartbeat.interval.ms',
    type: 'int',
    defaultValue: (o) => String(o.shareGroupHeartbeatIntervalMs),
    check: intRange('share.heartbeat.interval.ms', 1, () => [5000, 15000]),
  },
  {
    name: 'share.partition.max.record.locks',
    type: 'int',
    defaultValue: (o) => String(o.sharePartitionMaxRecordLocks),
    check: intRange('share.partition.max.record.locks', 100, () => [100, 10000]),
  },
  {
    name: 'share.auto.offset.reset',
    type: 'string',
    defaultValue: (o) => o.shareAutoOffsetReset,
    check: (v) =>
      v === 'latest' || v === 'earliest'
        ? undefined
        : `Invalid value ${v} for configuration share.auto.offset.reset: the reference broker takes 'earliest' or 'latest'.`,
  },
]

const BY_NAME = new Map(DEFS.map((d) => [d.name, d]))

export interface GroupConfigChange {
  name: string
  /** 0 SET, 1 DELETE (APPEND/SUBTRACT are refused: no list configs). */
  op: number
  value: string | null
}

export interface GroupConfigEntry {
  name: string
  value: string
  /** 8 GROUP_CONFIG when set for the group, 5 DEFAULT_CONFIG otherwise (as Kafka 4.4.0 answers). */
  source: number
  type: 'int' | 'string'
}

export class ShareGroupConfigs {
  private readonly byGroup = new Map<string, Map<string, string>>()

  constructor(private readonly options: ResolvedOptions) {}

  /** Applies (or with validateOnly checks) changes; an error or undefined. */
  alter(
    groupId: string,
    changes: GroupConfigChange[],
    replaceAll: boolean,
    validateOnly: boolean,
  ): { errorCode: number; errorMessage: string } | undefined {
    const next = replaceAll ? new Map<string, string>() : new Map(this.byGroup.get(groupId))
    for (const c of changes) {
      const def = BY_NAME.get(c.name)
      if (def === undefined)
        return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: `Unknown group config name: ${c.name}` }
      if (c.op === 1) {
        next.delete(c.name)
        continue
      }
      if (c.op !== 0)
        return {
          errorCode: ErrorCode.INVALID_CONFIG,
          errorMessage: `Config value append/subtract is not allowed for config key ${c.name}`,
        }
      if (c.value === null)
        return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Null value not supported for : ${c.name}` }
      const error = def.check(c.value, this.options)
      if (error !== undefined) return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: error }
      next.set(c.name, c.value.trim())
    }
    if (!validateOnly) this.byGroup.set(groupId, next)
    return undefined
  }

  describe(groupId: string, keys: string[] | null): GroupConfigEntry[] {
    const set = this.byGroup.get(groupId)
    return DEFS.filter((d) => keys === null || keys.includes(d.name)).map((d) => {
      const own = set?.get(d.name)
      return {
        name: d.name,
        value: own ?? d.defaultValue(this.options),
        source: own !== undefined ? 8 : 5,
        type: d.type,
      }
    })
  }

  private value(groupId: string, name: string): string {
    return this.byGroup.get(groupId)?.get(name) ?? BY_NAME.get(name)!.defaultValue(this.options)
  }

  lockDurationMs(groupId: string): number {
    return Number(this.value(groupId, 'share.record.lock.duration.ms'))
  }

  deliveryCountLimit(groupId: string): number {
    return Number(this.value(groupId, 'share.delivery.count.limit'))
  }

  sessionTimeoutMs(groupId: string): number {
    return Number(this.value(groupId, 'share.session.timeout.ms'))
  }

  heartbeatIntervalMs(groupId: string): number {
    return Number(this.value(groupId, 'share.heartbeat.interval.ms'))
  }

  maxRecordLocks(groupId: string): number {
    return Number(this.value(groupId, 'share.partition.max.record.locks'))
  }

  autoOffsetReset(groupId: string): 'latest' | 'earliest' {
    return this.value(groupId, 'share.auto.offset.reset') === 'earliest' ? 'earliest' : 'latest'
  }
}
