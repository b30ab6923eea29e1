#!/usr/bin/env bash
# npm run test:kafka [-- vitest args]: the integration suites against real Apache Kafka.
#
# The integration suites are the test files under test/producer, test/consumer, test/admin,
# test/client, test/cli, test/streams and test/share that carry the marker line `// @integration` (anywhere in the file, usually at the
# top). The marker promises that the file honours KAFKA_BOOTSTRAP: with it set, every test runs
# against that cluster (3 brokers, with the KAFKA_BOOTSTRAP_SASL/SSL listeners and credentials
# of scripts/kafka.sh env) and none is skipped. Files without it (unit suites, *-faults.test.ts on the reference
# cluster's fault injection) are not run here; `npm test` runs everything on the reference broker.
#
# With KAFKA_BOOTSTRAP already set (docker/compose.yml, any cluster, see docker/README.md) the
# suites just run against it. Otherwise this starts a 3-node Kafka with scripts/kafka.sh (version
# KAFKA_VERSION, default 4.4.0; state dir KAFKATS_KAFKA_STATE, ports KAFKATS_PORT_*), runs the
# suites against it, and stops it again whatever happens. The suites share one cluster, so the
# files run one after another.
set -Eeuo pipefail
cd "$(dirname "$0")/.."

log() { echo "test:kafka: $*" >&2; }

suite_files=(test/producer/*.test.ts test/consumer/*.test.ts test/admin/*.test.ts test/client/*.test.ts test/cli/*.test.ts test/streams/*.test.ts test/share/*.test.ts)
mapfile -t files < <(grep -l -E '^// @integration\b' "${suite_files[@]}" 2>/dev/null | sort)
# KAFKATS_SUITES="a b": only the marked files whose path contains one of these words (CI runs the
# whole set on the newest Kafka and the version-sensitive suites on older ones).
if [[ -n "${KAFKATS_SUITES:-}" ]]; then
  selected=()
  for f in "${files[@]}"; do
    for word in $KAFKATS_SUITES; do
      if [[ $f == *"$word"* ]]; then
        selected+=("$f")
        break
      fi
    done
  done
  ((${#selected[@]})) || {
    log "KAFKATS_SUITES='$KAFKATS_SUITES' matches no @integration file"
    exit 1
  }
  files=("${selected[@]}")
fi
((${#files[@]})) || {
  log "no test file under test/producer, test/consumer, test/admin, test/client, test/cli, test/streams or test/share carries the '// @integration' marker"
  exit 1
}
# A file that reads KAFKA_BOOTSTRAP (itself or through its helpers' startTarget, often passed to
# test/helpers/use-target.ts's useTarget) but has no marker
# is left out on purpose or by oversight: say which, so an oversight is seen. *-faults.test.ts
# files use the reference cluster's fault injection and are left out by design.
for f in "${suite_files[@]}"; do
  [[ -f $f && $f != *-faults.test.ts ]] || continue
  if ! grep -q -E '^// @integration\b' "$f" && grep -q -E 'KAFKA_BOOTSTRAP|startTarget\(|useTarget\(' "$f"; then
    log "not run against real Kafka (no '// @integration' marker): $f"
  fi
done

summary=$(mktemp)
run_suites() { # label
  log "running against $1: ${files[*]}"
  local t0=$SECONDS rc=0
  # The plain closing line of scripts/vitest-summary.ts is repeated with the label at the end.
  npx vitest run --no-file-parallelism "${files[@]}" "${vitest_args[@]}" | tee "$summary" || rc=${PIPESTATUS[0]}
  local line
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$summary" | tail -n 1 || true)
  echo "test:kafka: $1: ${line:-no summary (vitest exited with $rc)} in $((SECONDS - t0)) s"
  # No skipped tests against real Kafka either (unless vitest arguments chose a subset).
  if [[ $rc -eq 0 && ${#vitest_args[@]} -eq 0 && $line == *skipped* ]]; then
    echo "test:kafka: tests were skipped; an @integration suite must run every test against real Kafka" >&2
    rc=1
  fi
  return "$rc"
}
vitest_args=("$@")

if [[ -n "${KAFKA_BOOTSTRAP:-}" ]]; then
  rc=0
  run_suites "Kafka at $KAFKA_BOOTSTRAP" || rc=$?
  rm -f "$summary"
  exit "$rc"
fi

export KAFKA_VERSION=${KAFKA_VERSION:-4.4.0}
# Exported so that the suites' scripts/kafka.sh stop-node/start-node find this cluster.
export KAFKATS_KAFKA_STATE=${KAFKATS_KAFKA_STATE:-/tmp/kafkats-kafka}
if scripts/kafka.sh status >/dev/null 2>&1 || [[ $? -eq 1 ]]; then
  log "a Kafka started from $KAFKATS_KAFKA_STATE is running already; this script starts and stops its own."
  log "Test against that one with: eval \"\$(KAFKATS_KAFKA_STATE=$KAFKATS_KAFKA_STATE scripts/kafka.sh env)\"; npm run test:kafka"
  log "or stop it (scripts/kafka.sh stop), or pick another KAFKATS_KAFKA_STATE and KAFKATS_PORT_* for this run."
  exit 1
fi

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  local t0=$SECONDS
  scripts/kafka.sh stop >/dev/null 2>&1 || log "stopping Kafka failed; run: KAFKATS_KAFKA_STATE=$KAFKATS_KAFKA_STATE scripts/kafka.sh stop"
  log "Kafka stopped in $((SECONDS - t0)) s"
  rm -f "$summary"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

t0=$SECONDS
log "starting Apache Kafka $KAFKA_VERSION, 3 nodes (state dir $KAFKATS_KAFKA_STATE)"
# One rack per node with the rack-aware replica selector: test/consumer/reader-rack.test.ts sees
# fetches served by the follower in the client's rack (KIP-392). Clients without a rack are unaffected.
# StandardAuthorizer for the ACL suites (test/admin/admin-acls, test/cli/security-commands); with
# allow.everyone.if.no.acl.found, resources without ACLs stay open to every other suite.
KAFKATS_KAFKA_AUTHORIZER=${KAFKATS_KAFKA_AUTHORIZER:-1} \
  KAFKATS_KAFKA_RACKS=${KAFKATS_KAFKA_RACKS:-rack-a,rack-b,rack-c} scripts/kafka.sh start --nodes 3 --version "$KAFKA_VERSION" >/dev/null
log "Kafka $KAFKA_VERSION ready in $((SECONDS - t0)) s"
set -a
# shellcheck disable=SC1091
. "$KAFKATS_KAFKA_STATE/kafka.env"
set +a
rc=0
run_suites "Kafka $KAFKA_VERSION (3 nodes, scripts/kafka.sh)" || rc=$?
exit "$rc"
