// Requests whose newer versions name topics by id instead of name (Produce v13, OffsetCommit
// v10, OffsetFetch v10, TxnOffsetCommit v6): the handlers work on names, so the id is resolved
// on the way in and echoed on the way out, as Kafka's answers do (name "", the request's id).

import { ZERO_UUID } from '../../protocol/api.js'
import type { RequestContext } from './types.js'

/** A request topic as the handler sees it: the name it works on, how the answer names it. */
export interface ResolvedTopic {
  /** The topic's name; '' when an id names no topic (answer UNKNOWN_TOPIC_ID). */
  name: string
  /** Whether the request named a topic id that no topic has. */
  unknownId: boolean
  /** The answer's topic fields: the name before `idVersion`, the id from it on. */
  answer: { name: string; topicId: string }
}

/** Resolves a request topic given by `name` (before `idVersion`) or `topicId` (from it on). */
export function resolveTopic(
  ctx: RequestContext,
  idVersion: number,
  topic: { name: string; topicId: string },
): ResolvedTopic {
  if (ctx.version < idVersion) {
    return { name: topic.name, unknownId: false, answer: { name: topic.name, topicId: ZERO_UUID } }
  }
  const name = ctx.cluster.topics.getById(topic.topicId)?.name
  return { name: name ?? '', unknownId: name === undefined, answer: { name: '', topicId: topic.topicId } }
}

/** How an answer names the topic `name` at this version (offsets listed without a request topic). */
export function answerTopic(ctx: RequestContext, idVersion: number, name: string): { name: string; topicId: string } {
  if (ctx.version < idVersion) return { name, topicId: ZERO_UUID }
  return { name: '', topicId: ctx.cluster.topics.get(name)?.id ?? ZERO_UUID }
}
