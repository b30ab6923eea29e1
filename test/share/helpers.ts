// Share group test helpers: a topic and a share group configured for a test (earliest start,
// short acquisition lock, a delivery count limit), and reading until a condition holds.

import { Admin } from '../../src/admin/admin.js'
import type { ShareMessage, ShareReader } from '../../src/share/share-reader.js'

export interface GroupSettings {
  /** share.record.lock.duration.ms (the broker floor is 1000 in scripts/kafka.sh). */
  lockMs?: number
  /** share.delivery.count.limit (Kafka's floor is 2). */
  deliveryLimit?: number
}

/**
 * Sets the share group's configs before any member joins: start from the earliest offset (the
 * default, 'latest', would skip what the test produced first), and the lock and limit given.
 */
export async function configureShareGroup(bootstrap: string[], groupId: string, settings: GroupSettings = {}) {
  const admin = new Admin({ brokers: bootstrap })
  try {
    const set: Record<string, string> = { 'share.auto.offset.reset': 'earliest' }
    if (settings.lockMs !== undefined) set['share.record.lock.duration.ms'] = String(settings.lockMs)
    if (settings.deliveryLimit !== undefined) set['share.delivery.count.limit'] = String(settings.deliveryLimit)
    await admin.alterConfigs([{ type: 'group', name: groupId, set }])
  } finally {
    await admin.close()
  }
}

export const text = (m: ShareMessage): string => m.value?.toString('utf8') ?? ''

/** Fetches until `done()` says so or `timeoutMs` passes (then throws, naming what was seen). */
export async function fetchUntil(
  reader: ShareReader,
  onBatch: (batch: ShareMessage[]) => void,
  done: () => boolean,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    const left = deadline - Date.now()
    if (left <= 0) throw new Error('fetchUntil: timed out')
    onBatch(await reader.fetchMessages({ timeout: Math.min(left, 2000) }))
  }
}
