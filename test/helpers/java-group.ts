// Kafka's Java KafkaConsumer as a consumer group member (test/fixtures/java-group/GroupMember.java,
// group.protocol=consumer): it prints what it reads and commits after each poll, and leaves the
// group when stopped. Compiled once per source version with javac against javaClientClasspath()
// into the kafkats cache (cached(): a half-written class folder is never used).

import { configArgs, javaProgram, startJavaChild } from './java-program.js'

const classpath = javaProgram(new URL('../fixtures/java-group/GroupMember.java', import.meta.url), 'java-group')

export interface JavaMember {
  /** The partitions the member owns now (as its rebalance listener last printed). */
  readonly assigned: readonly number[]
  /** Asks the member to commit, leave the group and exit; resolves when it has. */
  stop(timeoutMs?: number): Promise<void>
}

/** Starts a Java group member; `onRecord` gets each value it reads. */
export function startJavaMember(
  bootstrap: string[],
  groupId: string,
  topic: string,
  onRecord: (value: string, partition: number) => void,
  config: Record<string, string | number> = {},
): JavaMember {
  let assigned: number[] = []
  const member = startJavaChild(
    classpath(),
    'GroupMember',
    [bootstrap.join(','), groupId, topic, ...configArgs(config)],
    (event) => {
      if (event.event === 'assigned') assigned = (event.partitions as number[] | undefined) ?? []
      else if (event.event === 'record') onRecord(event.value as string, event.partition as number)
    },
  )
  return {
    get assigned() {
      return assigned
    },
    stop: (timeoutMs) => member.stop(timeoutMs),
  }
}
