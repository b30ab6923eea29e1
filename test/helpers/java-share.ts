// Kafka's Java KafkaShareConsumer as a share group member (test/fixtures/java-share/ShareMember.java):
// it prints what it reads and how it acknowledged it, commits after each poll, leaves when
// stopped. Compiled once per source version with javac against javaClientClasspath() into the
// kafkats cache (cached(): a half-written class folder is never used).

import { configArgs, javaProgram, startJavaChild } from './java-program.js'

const classpath = javaProgram(new URL('../fixtures/java-share/ShareMember.java', import.meta.url), 'java-share')

export interface JavaShareRecord {
  partition: number
  offset: number
  deliveryCount: number
  value: string
  ack: 'accept' | 'release' | 'reject'
}

export interface JavaShareMember {
  /** Resolves once the member's first poll has returned (it is in the group). */
  readonly polling: Promise<void>
  /** Asks the member to commit, leave the group and exit; resolves when it has. */
  stop(timeoutMs?: number): Promise<void>
}

/** Starts a Java share group member; `onRecord` gets each record it reads. */
export function startJavaShareMember(
  bootstrap: string[],
  groupId: string,
  topic: string,
  script: 'implicit' | 'mod3',
  onRecord: (record: JavaShareRecord) => void,
  config: Record<string, string | number> = {},
): JavaShareMember {
  let onPolling = (): void => {}
  const member = startJavaChild(
    classpath(),
    'ShareMember',
    [bootstrap.join(','), groupId, topic, script, ...configArgs(config)],
    (event) => {
      if (event.event === 'polling') onPolling()
      else if (event.event === 'record') onRecord(event as unknown as JavaShareRecord)
    },
  )
  const polling = new Promise<void>((resolve, reject) => {
    onPolling = resolve
    void member.exited.then((code) =>
      reject(new Error(`ShareMember exited with ${code} before polling\n${member.stderr()}`)),
    )
  })
  polling.catch(() => {})
  return { polling, stop: (timeoutMs) => member.stop(timeoutMs) }
}
