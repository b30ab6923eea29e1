// The processor graph a StreamsBuilder records, and the Topology it builds: nodes (sources,
// processors, sinks), stores, sub-topologies (the parts connected other than through a topic:
// a repartition topic starts a new one) and a description in Kafka Streams' format.

import { TopologyError } from './errors.js'
import type { Processor } from './processor.js'
import type { Serde } from './serdes.js'
import type { BytesStoreSupplier } from './stores.js'

/** Chooses a record's event time (ms) from the consumed record; default: its timestamp. */
export type TimestampExtractor = (record: {
  topic: string
  partition: number
  offset: bigint
  key: unknown
  value: unknown
  timestamp: number
}) => number

interface NodeBase {
  name: string
  children: string[]
  parents: string[]
  /** Creation order: sub-topologies are numbered by their first node, as in Kafka Streams. */
  index: number
}

export interface SourceNode extends NodeBase {
  kind: 'source'
  /** Internal topics are named without the `<applicationId>-` prefix here. */
  topics: string[]
  internal: boolean
  keySerde: Serde<unknown> | undefined
  valueSerde: Serde<unknown> | undefined
  timestampExtractor: TimestampExtractor | undefined
}

export interface ProcessorNode extends NodeBase {
  kind: 'processor'
  supplier: () => Processor
  stores: string[]
}

export interface SinkNode extends NodeBase {
  kind: 'sink'
  topic: string
  internal: boolean
  keySerde: Serde<unknown> | undefined
  valueSerde: Serde<unknown> | undefined
}

export type GraphNode = SourceNode | ProcessorNode | SinkNode

export interface StoreSpec {
  name: string
  keySerde: Serde<unknown>
  valueSerde: Serde<unknown>
  supplier: BytesStoreSupplier
  /** Backed by the changelog topic `<applicationId>-<name>-changelog`. */
  logged: boolean
  /** Values carry their timestamp (Kafka's timestamped key-value store format). */
  timestamped: boolean
  /**
   * Set for what Kafka Streams makes a window or session store (windowed aggregations, a
   * stream-stream join's two windows): its retention (ms), for its changelog's configs.
   */
  windowRetention?: number
}

/** Internal topics, by name without the application prefix. */
export interface InternalTopicSpec {
  name: string
  kind: 'repartition' | 'changelog'
  /** Fixed by the user (repartition({ partitions })); otherwise derived at start. */
  partitions: number | undefined
  /** A window or session store's changelog: the store's retention (ms). */
  windowRetention?: number
}

export interface Subtopology {
  id: number
  nodes: GraphNode[]
  sources: SourceNode[]
  stores: string[]
  /** Changelog topics of its logged stores (names without the application prefix). */
  changelogs: string[]
}

const NAME = /^[a-zA-Z0-9._-]+$/

export class TopologyGraph {
  readonly nodes = new Map<string, GraphNode>()
  readonly stores = new Map<string, StoreSpec>()
  readonly internalTopics = new Map<string, InternalTopicSpec>()
  #index = 0
  #order = 0

  /** Kafka Streams' generated names: `<PREFIX><10-digit counter>`. */
  newName(prefix: string): string {
    return `${prefix}${String(this.#index++).padStart(10, '0')}`
  }

  /** Consumes counter values the way Kafka Streams does for nodes it then names otherwise. */
  skipNames(count: number): void {
    this.#index += count
  }

  /** A user-given name, checked (it becomes part of topic names). */
  checkName(name: string): string {
    if (!NAME.test(name) || name.length > 200) {
      throw new TopologyError(`name '${name}': use letters, digits, '.', '_' and '-' (at most 200)`)
    }
    if (this.nodes.has(name)) throw new TopologyError(`name '${name}' is used twice in the topology`)
    return name
  }

  #add<N extends GraphNode>(node: N, parents: readonly string[]): N {
    if (this.nodes.has(node.name)) throw new TopologyError(`processor name '${node.name}' is used twice`)
    for (const p of parents) {
      const parent = this.nodes.get(p)
      if (parent === undefined) throw new TopologyError(`unknown parent '${p}'`)
      if (parent.kind === 'sink') throw new TopologyError(`sink '${p}' cannot have children`)
      parent.children.push(node.name)
      node.parents.push(p)
    }
    this.nodes.set(node.name, node)
    return node
  }

  addSource(
    name: string,
    topics: readonly string[],
    options: Pick<SourceNode, 'internal' | 'keySerde' | 'valueSerde' | 'timestampExtractor'>,
  ): SourceNode {
    if (topics.length === 0) throw new TopologyError('a source needs at least one topic')
    for (const topic of topics) {
      for (const node of this.nodes.values()) {
        if (node.kind === 'source' && node.topics.includes(topic)) {
          throw new TopologyError(`topic '${topic}' is read by two sources ('${node.name}' and '${name}')`)
        }
      }
    }
    return this.#add(
      { kind: 'source', name, topics: [...topics], children: [], parents: [], index: this.#order++, ...options },
      [],
    )
  }

  addProcessor(name: string, supplier: () => Processor, parents: readonly string[], stores: string[] = []): string {
    for (const s of stores) if (!this.stores.has(s)) throw new TopologyError(`unknown store '${s}'`)
    this.#add({ kind: 'processor', name, supplier, stores, children: [], parents: [], index: this.#order++ }, parents)
    return name
  }

  addSink(
    name: string,
    topic: string,
    parents: readonly string[],
    options: Pick<SinkNode, 'internal' | 'keySerde' | 'valueSerde'>,
  ): void {
    this.#add({ kind: 'sink', name, topic, children: [], parents: [], index: this.#order++, ...options }, parents)
  }

  addStore(spec: StoreSpec): void {
    if (this.stores.has(spec.name)) throw new TopologyError(`store '${spec.name}' is defined twice`)
    if (!NAME.test(spec.name)) throw new TopologyError(`store name '${spec.name}': use letters, digits, '.', '_', '-'`)
    this.stores.set(spec.name, spec)
    if (spec.logged) {
      const topic = `${spec.name}-changelog`
      this.internalTopics.set(topic, {
        name: topic,
        kind: 'changelog',
        partitions: undefined,
        ...(spec.windowRetention === undefined ? {} : { windowRetention: spec.windowRetention }),
      })
    }
  }

  addRepartitionTopic(name: string, partitions: number | undefined): void {
    if (this.internalTopics.has(name)) throw new TopologyError(`repartition topic '${name}' is defined twice`)
    this.internalTopics.set(name, { name, kind: 'repartition', partitions })
  }

  build(): Topology {
    return new Topology(this)
  }
}

export class Topology {
  readonly subtopologies: Subtopology[]
  readonly stores: ReadonlyMap<string, StoreSpec>
  readonly internalTopics: ReadonlyMap<string, InternalTopicSpec>
  /** Sub-topology of each store (a store belongs to exactly one). */
  readonly storeOwner = new Map<string, number>()

  constructor(graph: TopologyGraph) {
    if (graph.nodes.size === 0) throw new TopologyError('the topology is empty: add a stream() or table()')
    this.stores = new Map(graph.stores)
    this.internalTopics = new Map(graph.internalTopics)
    for (const node of graph.nodes.values()) {
      if (node.kind === 'sink' && (node.keySerde === undefined || node.valueSerde === undefined)) {
        const which = node.keySerde === undefined ? 'key' : 'value'
        throw new TopologyError(
          `${node.name} (topic '${node.topic}') has no ${which} serde: an operator before it changed the ${which}; pass { ${which}: Serdes.X }`,
        )
      }
    }
    this.subtopologies = groups(graph)
    for (const sub of this.subtopologies) {
      for (const store of sub.stores) {
        const owner = this.storeOwner.get(store)
        if (owner !== undefined && owner !== sub.id) {
          throw new TopologyError(`store '${store}' is used by sub-topologies ${owner} and ${sub.id}`)
        }
        this.storeOwner.set(store, sub.id)
      }
    }
  }

  /**
   * Kafka Streams' TopologyDescription text (names without the application prefix). Nodes of a
   * sub-topology are listed as Kafka lists them (larger sub-tree first, then by name); the order
   * inside `-->` and `<--` lists is the order the edges were added.
   */
  describe(): string {
    const lines = ['Topologies:']
    for (const sub of this.subtopologies) {
      lines.push(`   Sub-topology: ${sub.id}`)
      const members = new Set(sub.nodes.map((n) => n.name))
      const byName = new Map(sub.nodes.map((n) => [n.name, n]))
      const size = (node: GraphNode): number => {
        const seen = new Set<string>()
        const walk = (n: GraphNode): void => {
          if (seen.has(n.name)) return
          seen.add(n.name)
          for (const c of n.children) if (members.has(c)) walk(byName.get(c)!)
        }
        walk(node)
        return seen.size
      }
      const ordered = sub.nodes
        .map((n) => ({ n, size: size(n) }))
        .sort((a, b) => b.size - a.size || (a.n.name < b.n.name ? -1 : a.n.name > b.n.name ? 1 : 0))
      for (const { n: node } of ordered) {
        if (node.kind === 'source') lines.push(`    Source: ${node.name} (topics: [${node.topics.join(', ')}])`)
        else if (node.kind === 'processor')
          lines.push(`    Processor: ${node.name} (stores: [${node.stores.join(', ')}])`)
        else lines.push(`    Sink: ${node.name} (topic: ${node.topic})`)
        if (node.kind !== 'sink')
          lines.push(`      --> ${node.children.length === 0 ? 'none' : node.children.join(', ')}`)
        if (node.parents.length > 0) lines.push(`      <-- ${node.parents.join(', ')}`)
      }
      lines.push('')
    }
    return lines.join('\n') + '\n'
  }

  /** Every topic read, with whether it is internal. */
  sourceTopics(): { topic: string; internal: boolean; subtopology: number }[] {
    return this.subtopologies.flatMap((sub) =>
      sub.sources.flatMap((s) => s.topics.map((topic) => ({ topic, internal: s.internal, subtopology: sub.id }))),
    )
  }
}

/** Connected components of the graph (edges only; a topic between a sink and a source does not connect). */
function groups(graph: TopologyGraph): Subtopology[] {
  const parent = new Map<string, string>()
  const find = (x: string): string => {
    let r = x
    while (parent.get(r) !== r) r = parent.get(r)!
    parent.set(x, r)
    return r
  }
  for (const name of graph.nodes.keys()) parent.set(name, name)
  for (const node of graph.nodes.values()) for (const child of node.children) parent.set(find(child), find(node.name))
  // Processors sharing a store (a join reading a table's store) run in one task.
  const storeUser = new Map<string, string>()
  for (const node of graph.nodes.values()) {
    if (node.kind !== 'processor') continue
    for (const s of node.stores) {
      const other = storeUser.get(s)
      if (other === undefined) storeUser.set(s, node.name)
      else parent.set(find(node.name), find(other))
    }
  }
  const byRoot = new Map<string, GraphNode[]>()
  for (const node of [...graph.nodes.values()].sort((a, b) => a.index - b.index)) {
    const root = find(node.name)
    const list = byRoot.get(root) ?? []
    list.push(node)
    byRoot.set(root, list)
  }
  return [...byRoot.values()].map((nodes, id) => {
    const stores = [...new Set(nodes.flatMap((n) => (n.kind === 'processor' ? n.stores : [])))]
    return {
      id,
      nodes,
      sources: nodes.filter((n): n is SourceNode => n.kind === 'source'),
      stores,
      changelogs: stores.filter((s) => graph.stores.get(s)!.logged).map((s) => `${s}-changelog`),
    }
  })
}
