#!/usr/bin/env bash
# Run real Apache Kafka 4.x or 3.9 (KRaft, combined broker+controller nodes) on 127.0.0.1 for kafkats'
# integration tests, without Docker: the jars come from Maven Central (the only artifact source
# reachable in CI) and are cached outside the repo; the JVM is the machine's Java 17+.
#
#   scripts/kafka.sh start|stop|status|restart [--version V] [--nodes 1|3]
#   scripts/kafka.sh bootstrap [plaintext|sasl|ssl|sasl_ssl]   print a bootstrap list
#   scripts/kafka.sh env                  print `export KAFKA_...` lines (eval "$(scripts/kafka.sh env)")
#   scripts/kafka.sh stop-node N | start-node N   stop/restart one node, keeping its data (failover tests)
#   scripts/kafka.sh kill-node N          crash one node: SIGKILL, no controlled shutdown (chaos tests);
#                                         start-node N brings it back with its data (log recovery)
#   scripts/kafka.sh download [--version V]       only fill the jar cache (for CI cache warm-up)
#   scripts/kafka.sh certs DIR            generate the test CA, broker and client certificates into DIR
#
# Environment (all optional):
#   KAFKA_VERSION            Kafka version from Maven Central (default 4.4.0; 4.0.0 and later work, and 3.9.x)
#   KAFKATS_KAFKA_NODES      node count when --nodes is not given (default 1)
#   KAFKATS_CACHE            jar cache root (default ~/.cache/kafkats)
#   KAFKATS_KAFKA_STATE      state dir: configs, logs, pids, data, certs, kafka.env (default /tmp/kafkats-kafka)
#   KAFKATS_PORT_PLAINTEXT   first PLAINTEXT port (default 9092; node N uses base+N-1)
#   KAFKATS_PORT_SASL        first SASL_PLAINTEXT port (default 9192)
#   KAFKATS_PORT_SSL         first SSL port (default 9292)
#   KAFKATS_PORT_SASL_SSL    first SASL_SSL port (default 9392)
#   KAFKATS_PORT_CONTROLLER  first KRaft controller port (default 9492)
#   KAFKATS_KAFKA_AUTHORIZER 1: run StandardAuthorizer (ACLs enforced) with super.users User:admin and
#                            User:ANONYMOUS (the PLAINTEXT inter-broker/controller principal, so PLAINTEXT
#                            clients too) and allow.everyone.if.no.acl.found=true, so suites without ACLs
#                            keep working (default: no authorizer, the ACL APIs answer SECURITY_DISABLED)
#   KAFKATS_KAFKA_RACKS      comma-separated broker.rack per node (e.g. rack-a,rack-b,rack-c; default none):
#                            sets broker.rack and replica.selector.class=RackAwareReplicaSelector (KIP-392)
#   KAFKATS_START_TIMEOUT    seconds to wait for the cluster (default 120)
#   KAFKATS_STOP_TIMEOUT     seconds between SIGTERM and SIGKILL (default 30)
#   KAFKA_HEAP_OPTS          JVM heap per node (default "-Xms128m -Xmx512m": CI has 2 cores and runs 3 nodes)
#   KAFKA_OPTS               extra JVM options per node
#   JAVA_HOME                Java to use (default: java on PATH)
set -Eeuo pipefail
# set -e alone exits silently: say which command failed (die() covers the expected failures).
trap 'echo "kafka.sh: error: command failed (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

VERSION=${KAFKA_VERSION:-4.4.0}
NODES=${KAFKATS_KAFKA_NODES:-1}
CACHE_ROOT=${KAFKATS_CACHE:-$HOME/.cache/kafkats}
STATE=${KAFKATS_KAFKA_STATE:-/tmp/kafkats-kafka}
HOST=127.0.0.1
PORT_PLAINTEXT=${KAFKATS_PORT_PLAINTEXT:-9092}
PORT_SASL=${KAFKATS_PORT_SASL:-9192}
PORT_SSL=${KAFKATS_PORT_SSL:-9292}
PORT_SASL_SSL=${KAFKATS_PORT_SASL_SSL:-9392}
PORT_CONTROLLER=${KAFKATS_PORT_CONTROLLER:-9492}
START_TIMEOUT=${KAFKATS_START_TIMEOUT:-120}
STOP_TIMEOUT=${KAFKATS_STOP_TIMEOUT:-30}
HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m}
RACKS=${KAFKATS_KAFKA_RACKS:-}

# Test-only credentials; they are also written to kafka.env for the test suites.
SASL_USER=kafkats
SASL_PASSWORD=kafkats-secret
ADMIN_USER="admin"
ADMIN_PASSWORD=admin-secret
SSL_PASSWORD=kafkats-ssl

# Maven plugin pinned so a new Maven default cannot change how the jars are resolved.
DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1
# Log4j version used when the Kafka poms bring no log4j-core (4.0.x): the one Kafka 4.0 ships.
LOG4J_FALLBACK=2.24.3
# Kafka 3.x logs through log4j 1: its tarball ships reload4j (and the SLF4J binding for it).
RELOAD4J=1.2.25

die() {
  echo "kafka.sh: error: $*" >&2
  exit 1
}
log() { echo "kafka.sh: $*" >&2; }

usage() {
  sed -n "2,/^set -Eeuo/p" "${BASH_SOURCE[0]}" | sed -e "/^set -Eeuo/d" -e "s/^# \{0,1\}//" >&2
  exit 2
}

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 not found on PATH ($2)"
}

# ---------------------------------------------------------------------------------------------
# Java

JAVA=java
[[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]] && JAVA=$JAVA_HOME/bin/java

check_java() {
  command -v "$JAVA" >/dev/null 2>&1 || die "java not found (install a JDK 17+, or set JAVA_HOME)"
  local spec
  spec=$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')
  [[ "${spec%%.*}" =~ ^[0-9]+$ ]] || die "cannot tell the version of $JAVA"
  # Kafka 4.x brokers need Java 17 (KIP-750).
  ((${spec%%.*} >= 17)) || die "Kafka $VERSION needs Java 17+, $JAVA is $spec (set JAVA_HOME)"
}

JVM_OPTS=(-XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
  -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true)
# Short-lived helper JVMs (storage format, readiness probe) start faster with C1 only and SerialGC.
TOOL_JVM_OPTS=(-Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true)

# ---------------------------------------------------------------------------------------------
# Jars from Maven Central

DIST=""
LIBS=""
set_dist() {
  DIST=$CACHE_ROOT/kafka-$VERSION
  LIBS=$DIST/libs
}

write_pom() { # file, dependencies xml
  cat >"$1" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by kafkats scripts/kafka.sh: only used to resolve Kafka's runtime jars. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.kafkats</groupId>
  <artifactId>$2</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
$3
  </dependencies>
</project>
EOF
}

dep() { # groupId artifactId version
  printf '    <dependency><groupId>%s</groupId><artifactId>%s</artifactId><version>%s</version></dependency>\n' "$1" "$2" "$3"
}

mvn_copy() { # pom, output dir, extra args...
  local pom=$1 out=$2
  shift 2
  if ! mvn -B -q -f "$pom" "$DEP_PLUGIN:copy-dependencies" -DincludeScope=runtime \
    -DoutputDirectory="$out" "$@" >"$DIST/mvn.log" 2>&1; then
    tail -n 40 "$DIST/mvn.log" >&2
    die "Maven could not resolve Kafka $VERSION (full log: $DIST/mvn.log)"
  fi
}

download() {
  set_dist
  [[ -f "$LIBS/.complete" ]] && return 0
  need mvn "Kafka's jars are fetched from Maven Central with Maven"
  mkdir -p "$DIST"
  # Parallel starts (several test runners) must not download into the same folder at once. The
  # lock lives in a subshell so that the brokers started later do not inherit (and hold) it.
  (
    if command -v flock >/dev/null 2>&1; then flock 8; fi
    [[ -f "$LIBS/.complete" ]] || download_locked
  ) 8>"$DIST/.lock"
}

download_locked() {
  log "downloading Kafka $VERSION and its dependencies from Maven Central into $LIBS"
  local t0=$SECONDS tmp
  rm -rf "$DIST"/libs.partial.* # left by an interrupted earlier attempt (we hold the lock)
  tmp=$(mktemp -d "$DIST/libs.partial.XXXXXX")
  # kafka_2.13 pulls kafka-server, -metadata, -raft, -storage, the coordinators, kafka-clients
  # and Scala; kafka.Kafka and kafka.tools.StorageTool (the format tool) both live in it.
  write_pom "$DIST/pom.xml" kafka-dist "$(dep org.apache.kafka kafka_2.13 "$VERSION")"
  mvn_copy "$DIST/pom.xml" "$tmp"

  # The release tarball adds a logging backend and the SLF4J binding that the poms leave out
  # (4.0.x poms have no log4j at all). Without the binding the broker logs nothing, and the
  # readiness check reads the log. Kafka 3.x: reload4j (log4j 1); 4.x: log4j2, matching the
  # log4j-core version Kafka resolved, if any.
  local log4j=$LOG4J_FALLBACK binding="log4j-slf4j-impl" jar
  if is_kafka3; then
    local slf4j=1.7.36
    for jar in "$tmp"/slf4j-api-*.jar; do
      if [[ -f "$jar" ]]; then
        slf4j=${jar##*/slf4j-api-}
        slf4j=${slf4j%.jar}
      fi
    done
    log4j="reload4j-$RELOAD4J"
    write_pom "$DIST/pom-log4j.xml" kafka-log4j "$(
      dep ch.qos.reload4j reload4j "$RELOAD4J"
      dep org.slf4j slf4j-reload4j "$slf4j"
    )"
  else
  for jar in "$tmp"/log4j-core-*.jar; do
    if [[ -f "$jar" ]]; then
      log4j=${jar##*/log4j-core-}
      log4j=${log4j%.jar}
    fi
  done
  # SLF4J 2 needs the other binding (Kafka 4.0-4.4 still use SLF4J 1.7).
  for jar in "$tmp"/slf4j-api-2.*.jar; do
    if [[ -f "$jar" ]]; then binding="log4j-slf4j2-impl"; fi
  done
  write_pom "$DIST/pom-log4j.xml" kafka-log4j "$(
    dep org.apache.logging.log4j log4j-api "$log4j"
    dep org.apache.logging.log4j log4j-core "$log4j"
    dep org.apache.logging.log4j "$binding" "$log4j"
  )"
  fi
  mvn_copy "$DIST/pom-log4j.xml" "$tmp" -DexcludeTransitive=true

  [[ -f "$tmp/kafka_2.13-$VERSION.jar" ]] || die "Maven did not deliver kafka_2.13-$VERSION.jar"
  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"
  local jars=("$LIBS"/*.jar)
  # Marker written last: a download cut short is redone next time instead of half-used.
  printf 'kafka %s\nlog4j %s\njars %s\n' "$VERSION" "$log4j" "${#jars[@]}" >"$LIBS/.complete"
  log "downloaded ${#jars[@]} jars in $((SECONDS - t0)) s"
}

# Ready.class is compiled once per Kafka version against that version's kafka-clients.
READY_CP=""
build_ready() {
  READY_CP=""
  local out=$DIST/tools
  if [[ -f "$out/Ready.class" && "$out/Ready.class" -nt "$SCRIPT_DIR/kafka/Ready.java" ]]; then
    READY_CP=$out
    return 0
  fi
  local javac=javac
  [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/javac" ]] && javac=$JAVA_HOME/bin/javac
  if ! command -v "$javac" >/dev/null 2>&1; then
    log "javac not found: the readiness check falls back to the broker logs only"
    return 0
  fi
  mkdir -p "$out"
  "$javac" -nowarn -d "$out" -cp "$LIBS/*" "$SCRIPT_DIR/kafka/Ready.java" >&2 || die "could not compile $SCRIPT_DIR/kafka/Ready.java"
  READY_CP=$out
}

# ---------------------------------------------------------------------------------------------
# Certificates

gen_certs() { # dir
  local dir=$1
  if [[ -f "$dir/ca.pem" && -f "$dir/broker.keystore.p12" && -f "$dir/broker.truststore.p12" && -f "$dir/client.pem" ]]; then
    return 0
  fi
  need openssl "used to create the test certificates"
  need keytool "used to create the broker truststore (it comes with Java)"
  mkdir -p "$dir"
  log "generating test certificates in $dir"
  (
    cd "$dir"
    openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days 3650 -subj "/CN=kafkats test CA" \
      -keyout ca.key -out ca.pem \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>>openssl.log
    leaf() { # name, CN, extendedKeyUsage, subjectAltName
      openssl req -new -newkey rsa:2048 -sha256 -nodes -subj "/CN=$2" -keyout "$1.key" -out "$1.csr" 2>>openssl.log
      printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\n%s\n' \
        "$3" "${4:+subjectAltName=$4}" >"$1.ext"
      openssl x509 -req -sha256 -days 3650 -in "$1.csr" -CA ca.pem -CAkey ca.key \
        -set_serial "0x$(openssl rand -hex 16)" -extfile "$1.ext" -out "$1.pem" 2>>openssl.log
      rm -f "$1.csr" "$1.ext"
    }
    # One broker certificate for every node: loopback for scripts/kafka.sh, the compose
    # service names for docker/compose.yml (clients verify the host name by default).
    leaf broker localhost serverAuth,clientAuth \
      "DNS:localhost,IP:127.0.0.1,IP:::1,DNS:kafka-1,DNS:kafka-2,DNS:kafka-3"
    # Optional mTLS identity (the SSL listeners use ssl.client.auth=requested).
    leaf client kafkats-client clientAuth ""
    openssl pkcs12 -export -name broker -in broker.pem -inkey broker.key -certfile ca.pem \
      -passout "pass:$SSL_PASSWORD" -out broker.keystore.p12
    openssl pkcs12 -export -name client -in client.pem -inkey client.key -certfile ca.pem \
      -passout "pass:$SSL_PASSWORD" -out client.keystore.p12
    # openssl 3.0 cannot mark a certificate as trusted for Java, so keytool builds the truststore.
    rm -f broker.truststore.p12
    keytool -importcert -noprompt -alias kafkats-ca -file ca.pem -storetype PKCS12 \
      -keystore broker.truststore.p12 -storepass "$SSL_PASSWORD" >keytool.log 2>&1 ||
      { cat keytool.log >&2 && die "keytool failed"; }
    rm -f keytool.log openssl.log
    # File names and password files as the apache/kafka image expects them (docker/compose.yml).
    for f in keystore_creds key_creds truststore_creds; do printf '%s' "$SSL_PASSWORD" >"$f"; done
    cat >kafka_server_jaas.conf <<EOF
KafkaServer {
  org.apache.kafka.common.security.plain.PlainLoginModule required
    user_$SASL_USER="$SASL_PASSWORD"
    user_$ADMIN_USER="$ADMIN_PASSWORD";
  org.apache.kafka.common.security.scram.ScramLoginModule required;
};
EOF
    # Test-only material: readable by the container user of the apache/kafka image too.
    chmod a+r ./*
  )
}

# ---------------------------------------------------------------------------------------------
# Configuration

node_dir() { echo "$STATE/node-$1"; }
port() { echo $(($1 + $2 - 1)); } # base, node

bootstrap_list() { # base port
  local i out=""
  for ((i = 1; i <= NODES; i++)); do out+="${out:+,}$HOST:$(port "$1" "$i")"; done
  echo "$out"
}

quorum_voters() {
  local i out=""
  for ((i = 1; i <= NODES; i++)); do out+="${out:+,}$i@$HOST:$(port "$PORT_CONTROLLER" "$i")"; done
  echo "$out"
}

write_server_properties() { # node
  local n=$1 dir rf isr
  dir=$(node_dir "$n")
  # Internal topics replicated on every node of a 3-node cluster (min ISR 2 like production);
  # a single node cannot do better than 1.
  if ((NODES >= 3)); then rf=3 isr=2; else rf=$NODES isr=1; fi
  local pt sasl ssl saslssl ctl
  pt=$(port "$PORT_PLAINTEXT" "$n")
  sasl=$(port "$PORT_SASL" "$n")
  ssl=$(port "$PORT_SSL" "$n")
  saslssl=$(port "$PORT_SASL_SSL" "$n")
  ctl=$(port "$PORT_CONTROLLER" "$n")
  cat >"$dir/server.properties" <<EOF
# Generated by kafkats scripts/kafka.sh for Kafka $VERSION, node $n of $NODES.
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$(quorum_voters)
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://$HOST:$pt,SASL_PLAINTEXT://$HOST:$sasl,SSL://$HOST:$ssl,SASL_SSL://$HOST:$saslssl,CONTROLLER://$HOST:$ctl
advertised.listeners=PLAINTEXT://$HOST:$pt,SASL_PLAINTEXT://$HOST:$sasl,SSL://$HOST:$ssl,SASL_SSL://$HOST:$saslssl
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data

# SASL: PLAIN users come from the JAAS config below, SCRAM users were added at format time.
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$SASL_USER="$SASL_PASSWORD" user_$ADMIN_USER="$ADMIN_PASSWORD";
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$SASL_USER="$SASL_PASSWORD" user_$ADMIN_USER="$ADMIN_PASSWORD";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;

# TLS for SSL and SASL_SSL. On the SSL listener a client certificate is optional (mTLS tests use certs/client.pem).
ssl.keystore.type=PKCS12
ssl.keystore.location=$STATE/certs/broker.keystore.p12
ssl.keystore.password=$SSL_PASSWORD
ssl.key.password=$SSL_PASSWORD
ssl.truststore.type=PKCS12
ssl.truststore.location=$STATE/certs/broker.truststore.p12
ssl.truststore.password=$SSL_PASSWORD
listener.name.ssl.ssl.client.auth=requested

# Test-friendly defaults.
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
num.partitions=1
default.replication.factor=$NODES
min.insync.replicas=1
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr

# Small footprint: CI has 2 cores and may run 3 nodes.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=33554432
EOF
  rack_properties "$n" >>"$dir/server.properties"
  share_properties >>"$dir/server.properties"
}

# Share groups (KIP-932, kafkats' ShareReader). From Kafka 4.2 they are production-ready and the
# format tool finalizes share.version at the release's level (2 on 4.4), so no feature flag is
# needed. The tests give their groups a short acquisition lock (group config
# share.record.lock.duration.ms), which Kafka refuses below this broker floor (default 15 s).
# 3.9 and 4.0 (early access, another protocol) and 4.1 (preview, share.version=0) are left as they are.
share_properties() {
  local major=${VERSION%%.*} minor=${VERSION#*.}
  minor=${minor%%.*}
  ((major > 4 || (major == 4 && minor >= 2))) || return 0
  printf '\n# Share groups (KIP-932): short per-group acquisition locks allowed for tests.\n%s\n' \
    group.share.min.record.lock.duration.ms=1000
}

# KIP-392 (fetch from the closest replica): node N's rack is the Nth entry of KAFKATS_KAFKA_RACKS.
rack_properties() { # node
  [[ -n $RACKS ]] || return 0
  local racks rack
  IFS=, read -r -a racks <<<"$RACKS"
  rack=${racks[$(($1 - 1))]:-}
  [[ -n $rack ]] || die "KAFKATS_KAFKA_RACKS='$RACKS' names no rack for node $1"
  printf '\n# Racks (KAFKATS_KAFKA_RACKS).\nbroker.rack=%s\nreplica.selector.class=%s\n' \
    "$rack" org.apache.kafka.common.replica.RackAwareReplicaSelector
}

# KAFKATS_KAFKA_AUTHORIZER=1: ACLs enforced by StandardAuthorizer; resources without ACLs stay
# open, and the PLAINTEXT principal (inter-broker and controller traffic) is a super user.
write_authorizer_properties() { # node
  [[ ${KAFKATS_KAFKA_AUTHORIZER:-0} == 1 ]] || return 0
  cat >>"$(node_dir "$1")/server.properties" <<EOF

# KAFKATS_KAFKA_AUTHORIZER=1
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:$ADMIN_USER;User:ANONYMOUS
allow.everyone.if.no.acl.found=true
EOF
}

is_kafka3() { [[ ${VERSION%%.*} == 3 ]]; }

# JVM options that pick the logging config written by write_log4j, at a level (INFO, WARN, ERROR).
log_opts() {
  if is_kafka3; then
    LOG_OPTS=(-Dlog4j.configuration="file:$STATE/log4j.properties" -Dkafkats.log.level="$1")
  else
    LOG_OPTS=(-Dlog4j2.configurationFile="$STATE/log4j2.properties" -Dkafkats.log.level="$1")
  fi
}

write_log4j() {
  # Everything goes to stdout, which start() sends to node-N/kafka.log. The level can be set per
  # process, so the readiness probe reuses this file with -Dkafkats.log.level=ERROR. Kafka 4.x
  # reads the log4j2 file, 3.x (reload4j) the log4j 1 one: the same settings in both syntaxes.
  cat >"$STATE/log4j.properties" <<'EOF'
log4j.rootLogger=${kafkats.log.level}, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.common.config.AbstractConfig=WARN
EOF
  cat >"$STATE/log4j2.properties" <<'EOF'
status = warn
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = ${sys:kafkats.log.level:-INFO}
rootLogger.appenderRef.stdout.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
# The full config dump (hundreds of lines per start) drowns the useful lines; server.properties is beside the log.
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = WARN
EOF
}

write_client_properties() {
  local c=$STATE/clients
  mkdir -p "$c"
  local plain_jaas="org.apache.kafka.common.security.plain.PlainLoginModule required username=\"$SASL_USER\" password=\"$SASL_PASSWORD\";"
  local scram_jaas="org.apache.kafka.common.security.scram.ScramLoginModule required username=\"$SASL_USER\" password=\"$SASL_PASSWORD\";"
  local admin_jaas="org.apache.kafka.common.security.scram.ScramLoginModule required username=\"$ADMIN_USER\" password=\"$ADMIN_PASSWORD\";"
  local tls="ssl.truststore.type=PEM
ssl.truststore.location=$STATE/certs/ca.pem"
  printf 'bootstrap.servers=%s\n' "$(bootstrap_list "$PORT_PLAINTEXT")" >"$c/plaintext.properties"
  printf 'bootstrap.servers=%s\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=%s\n' \
    "$(bootstrap_list "$PORT_SASL")" "$plain_jaas" >"$c/sasl-plain.properties"
  printf 'bootstrap.servers=%s\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-256\nsasl.jaas.config=%s\n' \
    "$(bootstrap_list "$PORT_SASL")" "$scram_jaas" >"$c/sasl-scram-sha-256.properties"
  printf 'bootstrap.servers=%s\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config=%s\n' \
    "$(bootstrap_list "$PORT_SASL")" "$admin_jaas" >"$c/sasl-scram-sha-512-admin.properties"
  printf 'bootstrap.servers=%s\nsecurity.protocol=SSL\n%s\n' "$(bootstrap_list "$PORT_SSL")" "$tls" >"$c/ssl.properties"
  printf 'bootstrap.servers=%s\nsecurity.protocol=SSL\n%s\nssl.keystore.type=PKCS12\nssl.keystore.location=%s\nssl.keystore.password=%s\n' \
    "$(bootstrap_list "$PORT_SSL")" "$tls" "$STATE/certs/client.keystore.p12" "$SSL_PASSWORD" >"$c/ssl-mtls.properties"
  printf 'bootstrap.servers=%s\nsecurity.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-256\nsasl.jaas.config=%s\n%s\n' \
    "$(bootstrap_list "$PORT_SASL_SSL")" "$scram_jaas" "$tls" >"$c/sasl-ssl-scram-sha-256.properties"
}

write_env() {
  # Plain KEY=value lines: `set -a; . kafka.env; set +a` in bash, `node --env-file`, or any dotenv parser.
  cat >"$STATE/kafka.env.tmp" <<EOF
KAFKA_VERSION=$VERSION
KAFKA_NODES=$NODES
KAFKA_BOOTSTRAP=$(bootstrap_list "$PORT_PLAINTEXT")
KAFKA_BOOTSTRAP_SASL=$(bootstrap_list "$PORT_SASL")
KAFKA_BOOTSTRAP_SSL=$(bootstrap_list "$PORT_SSL")
KAFKA_BOOTSTRAP_SASL_SSL=$(bootstrap_list "$PORT_SASL_SSL")
KAFKA_SSL_CA=$STATE/certs/ca.pem
KAFKA_SSL_CERT=$STATE/certs/client.pem
KAFKA_SSL_KEY=$STATE/certs/client.key
KAFKA_SASL_MECHANISMS=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
KAFKA_SASL_USERNAME=$SASL_USER
KAFKA_SASL_PASSWORD=$SASL_PASSWORD
KAFKA_SASL_ADMIN_USERNAME=$ADMIN_USER
KAFKA_SASL_ADMIN_PASSWORD=$ADMIN_PASSWORD
EOF
  mv "$STATE/kafka.env.tmp" "$STATE/kafka.env"
}

# Remembers how the running cluster was started, so stop/status/bootstrap need no flags.
save_cluster() {
  printf 'VERSION=%s\nNODES=%s\nCLUSTER_ID=%s\nPORT_PLAINTEXT=%s\nPORT_SASL=%s\nPORT_SSL=%s\nPORT_SASL_SSL=%s\nPORT_CONTROLLER=%s\n' \
    "$VERSION" "$NODES" "$1" "$PORT_PLAINTEXT" "$PORT_SASL" "$PORT_SSL" "$PORT_SASL_SSL" "$PORT_CONTROLLER" >"$STATE/cluster"
}

CLUSTER_ID=""
load_cluster() {
  [[ -f "$STATE/cluster" ]] || return 1
  local k v
  while IFS='=' read -r k v; do
    case $k in
    VERSION) VERSION=$v ;;
    NODES) NODES=$v ;;
    CLUSTER_ID) CLUSTER_ID=$v ;;
    PORT_PLAINTEXT) PORT_PLAINTEXT=$v ;;
    PORT_SASL) PORT_SASL=$v ;;
    PORT_SSL) PORT_SSL=$v ;;
    PORT_SASL_SSL) PORT_SASL_SSL=$v ;;
    PORT_CONTROLLER) PORT_CONTROLLER=$v ;;
    esac
  done <"$STATE/cluster"
}

new_cluster_id() {
  # A Kafka Uuid is 16 random bytes in unpadded base64url; skip ones starting with "-", which
  # the format tool's argument parser would take for an option (Kafka's own generator does too).
  local id
  while :; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    [[ $id == -* || ${#id} -ne 22 ]] || break
  done
  echo "$id"
}

# ---------------------------------------------------------------------------------------------
# Processes

node_pid() { # node -> prints the pid if that node's JVM is alive
  local f pid
  f=$(node_dir "$1")/kafka.pid
  [[ -f "$f" ]] || return 1
  pid=$(<"$f")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  # Guard against a recycled pid: it must still be our broker.
  ps -p "$pid" -o args= 2>/dev/null | grep -q 'kafka\.Kafka' || return 1
  echo "$pid"
}

port_busy() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

check_ports_free() { # node
  local p
  for p in "$PORT_PLAINTEXT" "$PORT_SASL" "$PORT_SSL" "$PORT_SASL_SSL" "$PORT_CONTROLLER"; do
    p=$(port "$p" "$1")
    if port_busy "$p"; then
      die "port $HOST:$p is already in use (another Kafka? see KAFKATS_PORT_* to move the ports)"
    fi
  done
}

format_node() { # node, cluster id
  local dir
  dir=$(node_dir "$1")
  # SCRAM credentials can only be written into the metadata log: format time is the simplest place.
  log_opts WARN
  "$JAVA" "${TOOL_JVM_OPTS[@]}" "${LOG_OPTS[@]}" \
    -cp "$LIBS/*" kafka.tools.StorageTool format -t "$2" -c "$dir/server.properties" \
    --add-scram "SCRAM-SHA-256=[name=$SASL_USER,password=$SASL_PASSWORD]" \
    --add-scram "SCRAM-SHA-512=[name=$SASL_USER,password=$SASL_PASSWORD]" \
    --add-scram "SCRAM-SHA-256=[name=$ADMIN_USER,password=$ADMIN_PASSWORD]" \
    --add-scram "SCRAM-SHA-512=[name=$ADMIN_USER,password=$ADMIN_PASSWORD]" \
    >"$dir/format.log" 2>&1
}

launch_node() { # node
  local dir pid
  dir=$(node_dir "$1")
  # A restarted node (start-node) gets a fresh log, so the readiness check reads only this run.
  [[ -f "$dir/kafka.log" ]] && mv "$dir/kafka.log" "$dir/kafka.log.prev"
  log_opts INFO
  # KAFKA_HEAP_OPTS / KAFKA_OPTS are word-split on purpose: they hold several JVM flags.
  # shellcheck disable=SC2086
  (
    cd "$dir"
    # setsid: the broker must outlive this script and not get the caller's Ctrl-C/SIGHUP
    # (nohup where there is no setsid, e.g. macOS).
    local detach=nohup
    command -v setsid >/dev/null 2>&1 && detach=setsid
    exec "$detach" "$JAVA" $HEAP_OPTS "${JVM_OPTS[@]}" ${KAFKA_OPTS:-} "${LOG_OPTS[@]}" \
      -cp "$LIBS/*" kafka.Kafka "$dir/server.properties" >"$dir/kafka.log" 2>&1 </dev/null
  ) &
  pid=$!
  echo "$pid" >"$dir/kafka.pid"
}

STOP_ON_FAILURE=0
fail_start() { # message
  local i dir
  for ((i = 1; i <= NODES; i++)); do
    dir=$(node_dir "$i")
    [[ -f "$dir/kafka.log" ]] || continue
    echo "----- last lines of $dir/kafka.log -----" >&2
    tail -n 30 "$dir/kafka.log" >&2
  done
  log "$1"
  if ((STOP_ON_FAILURE)); then
    log "stopping what was started"
    stop_cluster >/dev/null 2>&1 || true
  fi
  exit 1
}

wait_ready() { # deadline (SECONDS), nodes to wait for...
  local deadline=$1 i dir pending
  shift
  # 1) Each node logs "Kafka Server started" only once its broker is registered and unfenced.
  while :; do
    pending=0
    for i in "$@"; do
      dir=$(node_dir "$i")
      node_pid "$i" >/dev/null || fail_start "node $i exited during startup (log: $dir/kafka.log)"
      grep -q 'Kafka Server started' "$dir/kafka.log" 2>/dev/null || pending=1
    done
    ((pending)) || break
    ((SECONDS < deadline)) || fail_start "Kafka did not start within ${START_TIMEOUT}s"
    sleep 0.5
  done
  # 2) Every listener answers with all brokers in its metadata, through a real client with the
  #    test credentials (one check per listener: each costs a TLS/SCRAM handshake on a busy CPU).
  [[ -n "$READY_CP" ]] || return 0
  local left=$((deadline - SECONDS))
  ((left > 5)) || left=5
  log_opts ERROR
  "$JAVA" "${TOOL_JVM_OPTS[@]}" "${LOG_OPTS[@]}" \
    -cp "$READY_CP:$LIBS/*" Ready "$((left * 1000))" "$NODES" \
    "$STATE/clients/plaintext.properties" "$STATE/clients/sasl-scram-sha-256.properties" \
    "$STATE/clients/ssl.properties" "$STATE/clients/sasl-ssl-scram-sha-256.properties" >"$STATE/ready.log" 2>&1 ||
    { cat "$STATE/ready.log" >&2 && fail_start "Kafka started but its listeners did not all answer"; }
}

running_nodes() {
  local i n=0
  for ((i = 1; i <= NODES; i++)); do node_pid "$i" >/dev/null && n=$((n + 1)); done
  echo "$n"
}

start_cluster() {
  local requested_version=$REQ_VERSION requested_nodes=$REQ_NODES
  if load_cluster; then
    local up
    up=$(running_nodes)
    if ((up == NODES)); then
      if [[ $requested_version != "$VERSION" || $requested_nodes != "$NODES" ]]; then
        die "Kafka $VERSION with $NODES node(s) is already running; run '$0 stop' first"
      fi
      log "Kafka $VERSION ($NODES node(s)) is already running"
      bootstrap_list "$PORT_PLAINTEXT"
      return 0
    fi
    if ((up > 0)); then
      die "$up of $NODES node(s) of the previous cluster still run; '$0 start-node N' or '$0 stop' first"
    fi
    stop_cluster >/dev/null 2>&1 || true # leftovers of a crashed run
  fi
  VERSION=$requested_version NODES=$requested_nodes
  [[ "$NODES" =~ ^(1|3)$ ]] || die "--nodes must be 1 or 3 (a KRaft quorum needs an odd count)"

  local t0=$SECONDS i
  check_java
  for ((i = 1; i <= NODES; i++)); do check_ports_free "$i"; done
  download
  build_ready
  local t_prep=$SECONDS
  mkdir -p "$STATE"
  gen_certs "$STATE/certs"
  write_log4j
  write_client_properties
  rm -f "$STATE/kafka.env"

  local cid t_format
  cid=$(new_cluster_id)
  save_cluster "$cid"
  local pids=()
  for ((i = 1; i <= NODES; i++)); do
    rm -rf "$(node_dir "$i")"
    mkdir -p "$(node_dir "$i")/data"
    write_server_properties "$i"
    write_authorizer_properties "$i"
    format_node "$i" "$cid" &
    pids+=($!)
  done
  for ((i = 1; i <= NODES; i++)); do
    wait "${pids[$((i - 1))]}" || { cat "$(node_dir "$i")/format.log" >&2; die "formatting node $i failed"; }
  done
  t_format=$SECONDS
  local t_launch=$SECONDS

  local all=()
  for ((i = 1; i <= NODES; i++)); do
    launch_node "$i"
    all+=("$i")
  done
  log "started Kafka $VERSION, $NODES node(s), cluster id $cid; logs: $STATE/node-*/kafka.log"
  STOP_ON_FAILURE=1
  wait_ready $((SECONDS + START_TIMEOUT)) "${all[@]}"
  STOP_ON_FAILURE=0
  write_env
  log "ready in $((SECONDS - t0)) s (jars/javac $((t_prep - t0)) s, certs+format $((t_format - t_prep)) s," \
    "boot $((SECONDS - t_launch)) s); env file: $STATE/kafka.env"
  bootstrap_list "$PORT_PLAINTEXT"
}

stop_pids() { # pids...
  (($#)) || return 0
  kill -TERM "$@" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT)) p alive
  while :; do
    alive=()
    for p in "$@"; do kill -0 "$p" 2>/dev/null && alive+=("$p"); done
    ((${#alive[@]})) || return 0
    if ((SECONDS >= deadline)); then
      log "still running after ${STOP_TIMEOUT}s, killing: ${alive[*]}"
      kill -KILL "${alive[@]}" 2>/dev/null || true
      return 0
    fi
    sleep 0.2
  done
}

stop_cluster() {
  load_cluster || true
  local i pid pids=() dir
  for dir in "$STATE"/node-*; do
    [[ -d "$dir" ]] || continue
    i=${dir##*/node-}
    if pid=$(node_pid "$i"); then pids+=("$pid"); fi
  done
  if ((${#pids[@]})); then
    log "stopping ${#pids[@]} Kafka node(s)"
    stop_pids "${pids[@]}"
  else
    log "Kafka is not running"
  fi
  # Data is thrown away so the next start is a fresh cluster; logs and certificates stay.
  for dir in "$STATE"/node-*; do
    [[ -d "$dir" ]] || continue
    rm -rf "$dir/data" "$dir/kafka.pid"
  done
  rm -f "$STATE/kafka.env" "$STATE/cluster"
}

stop_node() { # node
  load_cluster || die "no cluster was started from $STATE"
  local pid
  pid=$(node_pid "$1") || die "node $1 is not running"
  log "stopping node $1 (pid $pid), keeping its data"
  stop_pids "$pid"
  rm -f "$(node_dir "$1")/kafka.pid"
}

# A crash, not a shutdown: no controlled shutdown, no leadership handed over, no flush; the
# controller notices when the node's heartbeats stop (broker.session.timeout.ms).
kill_node() { # node
  load_cluster || die "no cluster was started from $STATE"
  local pid
  pid=$(node_pid "$1") || die "node $1 is not running"
  log "killing node $1 (pid $pid) with SIGKILL, keeping its data"
  kill -KILL "$pid" 2>/dev/null || true
  # node_pid stops matching once the JVM is gone (a zombie no longer shows kafka.Kafka).
  local i
  for ((i = 0; i < 300; i++)); do
    node_pid "$1" >/dev/null || break
    sleep 0.1
  done
  node_pid "$1" >/dev/null && die "node $1 (pid $pid) survived SIGKILL for 30 s"
  # A start-node right after this found the node's ports still answering (seen in the chaos run):
  # wait until none does, so the restart does not fail its free-port check.
  local p busy
  for ((i = 0; i < 300; i++)); do
    busy=0
    for p in "$PORT_PLAINTEXT" "$PORT_SASL" "$PORT_SSL" "$PORT_SASL_SSL" "$PORT_CONTROLLER"; do
      port_busy "$(port "$p" "$1")" && busy=1
    done
    ((busy)) || return 0
    sleep 0.1
  done
  die "node $1's ports still answer 30 s after SIGKILL"
  rm -f "$(node_dir "$1")/kafka.pid"
}

start_node() { # node
  load_cluster || die "no cluster was started from $STATE"
  ((${1} >= 1 && ${1} <= NODES)) || die "node must be 1..$NODES"
  node_pid "$1" >/dev/null && { log "node $1 is already running"; return 0; }
  set_dist
  check_ports_free "$1"
  READY_CP="" # only this node's log is waited for: the other nodes may be down on purpose
  launch_node "$1"
  wait_ready $((SECONDS + START_TIMEOUT)) "$1"
  log "node $1 is up"
}

status() {
  if ! load_cluster; then
    echo "Kafka: not running (state dir $STATE)"
    return 3
  fi
  local i pid up=0 rss
  echo "Kafka $VERSION, $NODES node(s), cluster id $CLUSTER_ID, state dir $STATE"
  for ((i = 1; i <= NODES; i++)); do
    if pid=$(node_pid "$i"); then
      up=$((up + 1))
      rss=$(ps -p "$pid" -o rss= | tr -d ' ')
      echo "  node $i: running, pid $pid, RSS $((rss / 1024)) MiB, PLAINTEXT $HOST:$(port "$PORT_PLAINTEXT" "$i")," \
        "SASL_PLAINTEXT $HOST:$(port "$PORT_SASL" "$i"), SSL $HOST:$(port "$PORT_SSL" "$i")," \
        "SASL_SSL $HOST:$(port "$PORT_SASL_SSL" "$i"), log $(node_dir "$i")/kafka.log"
    else
      echo "  node $i: stopped (log $(node_dir "$i")/kafka.log)"
    fi
  done
  ((up == NODES)) && return 0
  ((up == 0)) && return 3
  return 1
}

print_bootstrap() { # [listener]
  load_cluster || true
  case ${1:-plaintext} in
  plaintext | PLAINTEXT) bootstrap_list "$PORT_PLAINTEXT" ;;
  sasl | SASL_PLAINTEXT | sasl_plaintext) bootstrap_list "$PORT_SASL" ;;
  ssl | SSL) bootstrap_list "$PORT_SSL" ;;
  sasl_ssl | SASL_SSL) bootstrap_list "$PORT_SASL_SSL" ;;
  *) die "unknown listener '$1' (plaintext, sasl, ssl, sasl_ssl)" ;;
  esac
}

print_env() {
  [[ -f "$STATE/kafka.env" ]] || die "Kafka is not running (no $STATE/kafka.env)"
  sed 's/^/export /' "$STATE/kafka.env"
}

# ---------------------------------------------------------------------------------------------

main() {
  local cmd=${1:-}
  [[ -n "$cmd" ]] || usage
  shift
  local args=()
  REQ_VERSION="" REQ_NODES=""
  while (($#)); do
    case $1 in
    --version) VERSION=${2:?--version needs a value} && shift 2 ;;
    --version=*) VERSION=${1#*=} && shift ;;
    --nodes) NODES=${2:?--nodes needs a value} && shift 2 ;;
    --nodes=*) NODES=${1#*=} && shift ;;
    -h | --help) usage ;;
    *) args+=("$1") && shift ;;
    esac
  done
  [[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+([.-][A-Za-z0-9.-]+)?$ ]] || die "bad Kafka version '$VERSION'"
  # What the caller asked for, before a running cluster's saved settings are loaded.
  REQ_VERSION=$VERSION REQ_NODES=$NODES
  case $cmd in
  start) start_cluster ;;
  stop) stop_cluster ;;
  restart) stop_cluster && start_cluster ;;
  status) status || exit $? ;; # 3 = stopped, 1 = some nodes down
  bootstrap) print_bootstrap "${args[0]:-}" ;;
  env) print_env ;;
  download) download && log "Kafka $VERSION jars in $LIBS" ;;
  certs)
    [[ ${#args[@]} -eq 1 ]] || die "usage: $0 certs DIR"
    gen_certs "${args[0]}"
    log "certificates in ${args[0]}"
    ;;
  stop-node | start-node | kill-node)
    [[ "${args[0]:-}" =~ ^[0-9]+$ ]] || die "usage: $0 $cmd N"
    "${cmd/-/_}" "${args[0]}"
    ;;
  *) usage ;;
  esac
}

main "$@"
