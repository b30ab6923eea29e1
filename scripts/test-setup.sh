#!/usr/bin/env bash
# Installs what the test suite runs besides Node: third-party peers whose bytes our codec and
# broker are checked against. Safe to run repeatedly; does nothing when all is present.
#   - kcat (librdkafka), lz4 and zstd command-line tools: Debian packages (needs root for apt)
#   - openssl: the Writer suite makes the certificates of its mutual-TLS reference cluster with it
#   - Apache Kafka's Java client jars (kafka-clients and its codecs) from Maven Central into ~/.m2
set -euo pipefail

missing=()
for tool in kcat lz4 zstd gzip openssl; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "test-setup: missing ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "test-setup: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The Java client reads what our codecs write (test/protocol/compression.test.ts).
KAFKA_CLIENTS_VERSION=4.4.0
jar="$HOME/.m2/repository/org/apache/kafka/kafka-clients/$KAFKA_CLIENTS_VERSION/kafka-clients-$KAFKA_CLIENTS_VERSION.jar"
if [ ! -f "$jar" ]; then
  command -v mvn >/dev/null 2>&1 || { echo "test-setup: Maven (mvn) is needed to fetch kafka-clients" >&2; exit 1; }
  echo "test-setup: fetching org.apache.kafka:kafka-clients:$KAFKA_CLIENTS_VERSION with Maven"
  mvn -q -B dependency:get -Dartifact="org.apache.kafka:kafka-clients:$KAFKA_CLIENTS_VERSION" >/dev/null
fi
echo "test-setup: ok"
