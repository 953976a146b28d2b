#!/usr/bin/env bash
# The one run command (`npm start`): installs what is missing, picks a cluster — the current
# kubeconfig's when it answers, otherwise a local control plane started here — installs the
# CRDs and runs Berth (controllers and API server) in the foreground.
#
#   BERTH_LOCAL=1       always use the local control plane, even when a kubeconfig answers
#   BERTH_API_PORT      API server port (default 8080), BERTH_METRICS_PORT (default 8081)
#   BERTH_ROUTER_PORT   the router's HTTP port (default 8088), BERTH_ROUTER_METRICS_PORT (8089)
#   BERTH_APPS_DOMAIN   apps answer on <app>.<domain> through the router (default berth.localhost)
#   BERTH_GIT_PORT      the Deis git push endpoint's SSH port (default 2222), BERTH_GIT_METRICS_PORT (8092)
#   BERTH_ROUTER_UPSTREAM_CIDRS  pod networks the router may connect to (default: the real
#                       node's 10.245.0.0/16, so KWOK's fake pod IPs are never dialled;
#                       set it empty to allow any)
#   BERTH_ROUTER_ACTIVATOR_ADDRESS  where sleeping apps' Services point (default: the real node's
#                       bridge address, where the router also listens)
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[berth %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

hack/install-deps.sh
hack/build-binaries.sh kubernetes
eval "$(hack/cluster.sh env | grep PATH)"   # our kubectl and helm first on PATH

reachable() { kubectl --request-timeout=3s get --raw /readyz >/dev/null 2>&1; }

if [ "${BERTH_LOCAL:-}" != 1 ] && reachable; then
  log "using the cluster of the current kubeconfig: $(kubectl config current-context 2>/dev/null || echo '?')"
else
  log "no cluster answers on the current kubeconfig: starting the local control plane"
  hack/cluster.sh up
  eval "$(hack/cluster.sh env)"
fi

kubectl create namespace berth-system --dry-run=client -o yaml | kubectl apply -f - >/dev/null
log "installing CRDs (server-side apply)"
kubectl apply --server-side --field-manager=berth-install --force-conflicts -f crds/ >/dev/null
kubectl wait --for=condition=Established --timeout=60s -f crds/ >/dev/null

export BERTH_API_PORT=${BERTH_API_PORT:-8080} BERTH_METRICS_PORT=${BERTH_METRICS_PORT:-8081}
export BERTH_ROUTER_PORT=${BERTH_ROUTER_PORT:-8088} BERTH_ROUTER_METRICS_PORT=${BERTH_ROUTER_METRICS_PORT:-8089}
export BERTH_APPS_DOMAIN=${BERTH_APPS_DOMAIN:-berth.localhost}
export BERTH_GIT_PORT=${BERTH_GIT_PORT:-2222} BERTH_GIT_METRICS_PORT=${BERTH_GIT_METRICS_PORT:-8092}
export BERTH_ROUTER_UPSTREAM_CIDRS=${BERTH_ROUTER_UPSTREAM_CIDRS-10.245.0.0/16}
# The router also listens on the real node's bridge address, when there is one, so pods reach it.
bridge_ip=$(ip -4 -o addr show dev berth0 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | head -1 || true)
export BERTH_ROUTER_ADDRESSES=${BERTH_ROUTER_ADDRESSES:-127.0.0.1${bridge_ip:+,$bridge_ip}}
# ...and sleeping apps' Services point there (EndpointSlices of the router's), so their ClusterIP wakes them.
if [ -n "$bridge_ip" ]; then export BERTH_ROUTER_ACTIVATOR_ADDRESS=${BERTH_ROUTER_ACTIVATOR_ADDRESS:-$bridge_ip}; fi
cat >&2 <<EOF

  Berth API:     http://127.0.0.1:$BERTH_API_PORT   (tsuru: /1.0/..., Deis: /v1/...)
  metrics:       http://127.0.0.1:$BERTH_METRICS_PORT/metrics  (/healthz, /readyz)
  router:        http://127.0.0.1:$BERTH_ROUTER_PORT   apps on <app>.$BERTH_APPS_DOMAIN and on their domains
                 (metrics: http://127.0.0.1:$BERTH_ROUTER_METRICS_PORT/metrics)
  git push:      ssh://git@127.0.0.1:$BERTH_GIT_PORT/<app>.git   (Deis: deis keys:add, then git push deis master)
  kubeconfig:    ${KUBECONFIG:-~/.kube/config}
  try:           export KUBECONFIG=${KUBECONFIG:-~/.kube/config}; kubectl apply -f examples/ && kubectl get berth -A
EOF
if [ -n "${BERTH_REAL_NODE:-}" ]; then
  cat >&2 <<EOF
  real node:     $BERTH_REAL_NODE (pools selecting berth.dev/node-group=real), registry $BERTH_REGISTRY
  hello app:     kubectl apply -f examples/real-node/ && curl -H 'Host: hello.$BERTH_APPS_DOMAIN' http://127.0.0.1:$BERTH_ROUTER_PORT/
EOF
else
  echo "                 curl -H 'Host: hello.$BERTH_APPS_DOMAIN' http://127.0.0.1:$BERTH_ROUTER_PORT/" >&2
fi
echo >&2
# The router and the git endpoint are processes of their own (as in the Helm chart); they stop with Berth.
node --import tsx src/main.ts router &
router_pid=$!
node --import tsx src/main.ts git &
git_pid=$!
trap 'kill "$router_pid" "$git_pid" 2>/dev/null || true; wait "$router_pid" "$git_pid" 2>/dev/null || true' EXIT
node --import tsx src/main.ts run
