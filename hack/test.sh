#!/usr/bin/env bash
# The one test command (`npm test`): installs what is missing, then lint, type check, unit
# tests, and integration tests against a real local control plane (etcd, kube-apiserver,
# controller manager, scheduler, KWOK nodes, and a real node unless BERTH_REAL_NODES=0) that it
# builds and starts itself. Afterwards the cluster is stopped and the host checked.
#
#   BERTH_TEST_ONLY=unit|integration   run one part
#   BERTH_KEEP_CLUSTER=1               leave the test cluster running afterwards (faster reruns)
#   BERTH_TEST_GREP=pattern            passed to mocha --grep
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
start=$SECONDS
log() { printf '\n[test %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

hack/install-deps.sh

export BERTH_TEST_STATS
BERTH_TEST_STATS=$(mktemp)
trap 'rm -f "$BERTH_TEST_STATS"' EXIT
only=${BERTH_TEST_ONLY:-all}
grep_args=(); [ -n "${BERTH_TEST_GREP:-}" ] && grep_args=(--grep "$BERTH_TEST_GREP")
status=0

summary() {
  python3 - "$BERTH_TEST_STATS" <<'PY'
import json, sys
p = f = s = 0
for line in open(sys.argv[1]):
    r = json.loads(line); p += r["passed"]; f += r["failed"]; s += r["skipped"]
    print(f"  {r['suite']}: {r['passed']} passed, {r['failed']} failed, {r['skipped']} skipped")
print(f"tests: {p} passed, {f} failed, {s} skipped")
PY
}

if [ "$only" = all ] || [ "$only" = unit ]; then
  log "lint (eslint)"
  npx eslint . || status=1
  log "type check (tsc --noEmit)"
  npx tsc --noEmit || status=1
  log "unit tests"
  BERTH_TEST_SUITE=unit npx mocha "${grep_args[@]}" 'test/unit/**/*.test.ts' || status=1
fi

if [ "$only" = all ] || [ "$only" = integration ]; then
  export BERTH_CLUSTER=${BERTH_CLUSTER:-test}
  # CI starts from a clean slate; locally a kept test cluster is reused.
  [ "${CI:-}" = true ] && hack/cluster.sh delete >/dev/null 2>&1 || true
  log "starting the test control plane ($BERTH_CLUSTER)"
  # Stopped afterwards unless kept (never kept under CI). The trap is set before `up`, so a
  # start that fails half-way is stopped too: the real node touches the host.
  teardown=1; [ "${BERTH_KEEP_CLUSTER:-}" = 1 ] && [ "${CI:-}" != true ] && teardown=0
  [ $teardown = 1 ] && trap 'hack/cluster.sh down; rm -f "$BERTH_TEST_STATS"' EXIT
  hack/cluster.sh up
  eval "$(hack/cluster.sh env)"
  export BERTH_KUBECTL="$(command -v kubectl)" BERTH_HELM="$(command -v helm)" BERTH_ROOT="$root"
  log "integration tests against $(kubectl config view -o jsonpath='{.clusters[0].cluster.server}')"
  [ -n "${BERTH_REAL_NODE:-}" ] && log "real node $BERTH_REAL_NODE, registry $BERTH_REGISTRY"
  BERTH_TEST_SUITE=integration npx mocha --timeout 180000 "${grep_args[@]}" 'test/integration/**/*.test.ts' || status=1
  if [ $teardown = 1 ]; then
    log "stopping the test cluster"
    hack/cluster.sh down
    trap 'rm -f "$BERTH_TEST_STATS"' EXIT
    # The real node must leave the host as it found it: no bridge, chain, mount or process.
    if [ -n "${BERTH_REAL_NODE:-}" ]; then
      if hack/cluster.sh host-check; then ok=1; else ok=0; status=1; fi
      echo "{\"suite\": \"host restored after down\", \"passed\": $ok, \"failed\": $((1 - ok)), \"skipped\": 0}" >>"$BERTH_TEST_STATS"
    fi
  fi
fi

log "finished in $((SECONDS - start)) s"
summary
exit $status
