#!/usr/bin/env bash
# A real, local Kubernetes control plane for development and tests:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler and KWOK fake nodes,
# all on 127.0.0.1, built from Go modules by hack/build-binaries.sh; next to them a real node
# (kubelet, containerd, kube-proxy, CoreDNS, a registry: hack/cluster/node.sh) where pods run.
#
#   hack/cluster.sh up            build if needed, start (idempotent), wait until Ready
#   hack/cluster.sh down          stop every process (state is kept)
#   hack/cluster.sh delete        stop and remove the cluster's state
#   hack/cluster.sh status        what runs, where
#   hack/cluster.sh kubeconfig    print the kubeconfig path
#   hack/cluster.sh env           print shell exports (KUBECONFIG, PATH with the binaries)
#   hack/cluster.sh stop  COMPONENT   / start COMPONENT   (fault tests: etcd, kube-apiserver, ...)
#   hack/cluster.sh host-check    list what a real node left on the host; fails if anything
#
# BERTH_REAL_NODES=0 turns the real node off (KWOK nodes only, nothing needs root). It is on by
# default; only one cluster per machine can run it (the others say so and run KWOK only).
#
# BERTH_CLUSTER names the cluster (default "local"; tests use "test"), so a developer's
# cluster and the test cluster can run side by side. BERTH_CACHE (default ~/.cache/berth)
# holds binaries and cluster state.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${BERTH_CACHE:-$HOME/.cache/berth}
name=${BERTH_CLUSTER:-local}
dir="$cache/clusters/$name"
pki="$dir/pki"
logs="$dir/logs"
run="$dir/run"
bin_k8s="$cache/bin/kubernetes-$KUBERNETES_VERSION"
bin_etcd="$cache/bin/etcd-$ETCD_VERSION"
bin_kwok="$cache/bin/kwok-$KWOK_VERSION-r$BUILD_REVISION"
bin_helm="$cache/bin/helm-$HELM_VERSION-r$BUILD_REVISION"
kubeconfig="$dir/kubeconfig"
components=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
# KWOK fake nodes: how many, and how many pods each holds (scale benchmarks need 2 x N pods,
# e.g. BERTH_KWOK_NODES=5 BERTH_KWOK_PODS=6000 for 10,000 Apps; the last node is tainted).
NODES=${BERTH_KWOK_NODES:-3}
PODS_PER_NODE=${BERTH_KWOK_PODS:-2000}

log() { printf '[cluster %s %s] %s\n' "$name" "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

kubectl() { "$bin_k8s/kubectl" --kubeconfig "$kubeconfig" "$@"; }

pid_of() { local f="$run/$1.pid"; [ -f "$f" ] && cat "$f"; }
running() { local p; p=$(pid_of "$1") && [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

free_ports() { # prints N free TCP ports on 127.0.0.1
  python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

ensure_ports() {
  if [ -f "$dir/ports.env" ]; then source "$dir/ports.env"; return; fi
  read -r ETCD_PORT ETCD_PEER_PORT APISERVER_PORT KCM_PORT SCHED_PORT KWOK_PORT < <(free_ports 6)
  cat >"$dir/ports.env" <<EOF
ETCD_PORT=$ETCD_PORT
ETCD_PEER_PORT=$ETCD_PEER_PORT
APISERVER_PORT=$APISERVER_PORT
KCM_PORT=$KCM_PORT
SCHED_PORT=$SCHED_PORT
KWOK_PORT=$KWOK_PORT
EOF
}

# port_taken PORT: true when something else listens there (a stale ports.env after a reboot).
port_taken() { python3 -c "import socket,sys; s=socket.socket(); sys.exit(0 if s.connect_ex(('127.0.0.1',$1))==0 else 1)"; }

# --- certificates -------------------------------------------------------------------------
# cert NAME CN [O] [SANS]: a key pair signed by the cluster CA (or by CA=front-proxy-ca).
cert() {
  local n=$1 cn=$2 o=${3:-} sans=${4:-} ca=${CA:-ca}
  mkdir -p "$pki"
  [ -f "$pki/$n.crt" ] && return 0
  local subj="/CN=$cn"; [ -n "$o" ] && subj="/O=$o$subj"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$pki/$n.key" -subj "$subj" -out "$pki/$n.csr" 2>/dev/null
  local ext="$pki/$n.ext"
  if [ -n "$sans" ]; then
    printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n' "$sans" >"$ext"
  else
    printf 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n' >"$ext"
  fi
  openssl x509 -req -in "$pki/$n.csr" -CA "$pki/$ca.crt" -CAkey "$pki/$ca.key" -CAcreateserial \
    -days 3650 -extfile "$ext" -out "$pki/$n.crt" 2>/dev/null
  rm -f "$pki/$n.csr" "$ext"
}

ca() {
  local n=$1
  [ -f "$pki/$n.crt" ] && return 0
  openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$pki/$n.key" -subj "/CN=berth-$n" \
    -days 3650 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign,digitalSignature \
    -out "$pki/$n.crt" 2>/dev/null
}

make_pki() {
  mkdir -p "$pki"; chmod 700 "$pki"
  # Each certificate is made only when missing, so an older cluster gets the ones added since.
  [ -f "$pki/admin.crt" ] || log "generating certificates in $pki"
  ca ca
  ca front-proxy-ca
  cert apiserver kube-apiserver "" "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.96.0.1"
  cert admin berth-admin system:masters
  # The apiserver's client identity towards kubelets (logs, exec, port-forward on the real node).
  cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
  cert controller-manager system:kube-controller-manager
  cert scheduler system:kube-scheduler
  cert kwok kwok system:masters
  CA=front-proxy-ca cert front-proxy-client front-proxy-client
  [ -f "$pki/sa.key" ] || { openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null; openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null; }
}

# write_kubeconfig FILE CERTNAME
write_kubeconfig() {
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: berth-$name
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority: $pki/ca.crt
users:
- name: $2
  user:
    client-certificate: $pki/$2.crt
    client-key: $pki/$2.key
contexts:
- name: berth-$name
  context: {cluster: berth-$name, user: $2}
current-context: berth-$name
EOF
}

# --- processes ----------------------------------------------------------------------------
spawn() { # spawn NAME CMD...: start in its own session, log to logs/NAME.log
  local n=$1; shift
  running "$n" && return 0
  # 8>&- 7>&-: the daemon must not inherit (and so hold) the cluster's or the real node's lock.
  setsid "$@" >>"$logs/$n.log" 2>&1 </dev/null 8>&- 7>&- &
  echo $! >"$run/$n.pid"
}

wait_for() { # wait_for WHAT SECONDS CMD...
  local what=$1 t=$2; shift 2
  local end=$((SECONDS + t))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge $end ] && die "$what not ready after ${t}s (see $logs)"
    sleep 0.2
  done
}

curl_ok() { curl -fsS --max-time 2 "$@"; }

start_etcd() {
  spawn etcd "$bin_etcd/etcd" --name berth --data-dir "$dir/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "berth=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync --quota-backend-bytes 4294967296 --log-level warn
  wait_for etcd 30 curl_ok "http://127.0.0.1:$ETCD_PORT/health"
}

# With the real node, the apiserver dials kubelets at their InternalIP (the node's name does not
# resolve). Without it, the default order (Hostname first) is kept: KWOK's fake node IPs must
# never be dialled, and with the real node BERTH-OUTPUT rejects them (hack/cluster/node.sh).
kubelet_address_flags=()
set_kubelet_address_flags() {
  kubelet_address_flags=()
  if [ "$REAL_NODES" != 0 ] && node_owned; then kubelet_address_flags=(--kubelet-preferred-address-types InternalIP,Hostname); fi
}

start_kube_apiserver() {
  spawn kube-apiserver "$bin_k8s/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --secure-port "$APISERVER_PORT" --advertise-address 127.0.0.1 \
    --endpoint-reconciler-type none \
    --service-cluster-ip-range 10.96.0.0/16 --service-node-port-range 30000-32767 \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --client-ca-file "$pki/ca.crt" \
    --authorization-mode Node,RBAC --anonymous-auth=true \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --api-audiences https://kubernetes.default.svc.cluster.local \
    --requestheader-client-ca-file "$pki/front-proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
    --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
    --requestheader-extra-headers-prefix X-Remote-Extra- \
    --proxy-client-cert-file "$pki/front-proxy-client.crt" --proxy-client-key-file "$pki/front-proxy-client.key" \
    --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "$pki/ca.crt" "${kubelet_address_flags[@]}" \
    --allow-privileged=true --profiling=false --v=1
  wait_for kube-apiserver 60 curl_ok --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
    "https://127.0.0.1:$APISERVER_PORT/readyz"
}

start_kube_controller_manager() {
  spawn kube-controller-manager "$bin_k8s/kube-controller-manager" \
    --kubeconfig "$dir/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$dir/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$dir/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$KCM_PORT" --leader-elect=false \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
    --use-service-account-credentials=true --controllers '*' \
    --allocate-node-cidrs=false --profiling=false --v=1 \
    --kube-api-qps 300 --kube-api-burst 500 --concurrent-deployment-syncs 10 --concurrent-replicaset-syncs 10
  wait_for kube-controller-manager 30 curl_ok -k "https://127.0.0.1:$KCM_PORT/healthz"
}

start_kube_scheduler() {
  spawn kube-scheduler "$bin_k8s/kube-scheduler" \
    --kubeconfig "$dir/scheduler.kubeconfig" \
    --authentication-kubeconfig "$dir/scheduler.kubeconfig" \
    --authorization-kubeconfig "$dir/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$SCHED_PORT" --leader-elect=false --profiling=false --v=1 \
    --kube-api-qps 300 --kube-api-burst 500
  wait_for kube-scheduler 30 curl_ok -k "https://127.0.0.1:$SCHED_PORT/healthz"
}

start_kwok() {
  spawn kwok "$bin_kwok/kwok" --kubeconfig "$dir/kwok.kubeconfig" \
    --config "$here/cluster/kwok-stages.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --node-lease-duration-seconds 40 --cidr 10.244.0.1/16 --node-ip 10.240.0.1 \
    --server-address "127.0.0.1:$KWOK_PORT"
  wait_for kwok 30 curl_ok "http://127.0.0.1:$KWOK_PORT/healthz"
}

start_component() {
  case $1 in
    etcd) start_etcd ;;
    kube-apiserver) start_kube_apiserver ;;
    kube-controller-manager) start_kube_controller_manager ;;
    kube-scheduler) start_kube_scheduler ;;
    kwok) start_kwok ;;
    *) die "unknown component $1 (one of: ${components[*]})" ;;
  esac
}

stop_component() {
  local n=$1 p
  p=$(pid_of "$n") || return 0
  if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  fi
  rm -f "$run/$n.pid"
}

# $NODES fake nodes (three by default): the last in node group "dedicated" (tainted), the others
# in "general", so pools can target different nodes with a node selector and tolerations.
# Each holds $PODS_PER_NODE pods (KWOK keeps a node's allocatable once set).
register_nodes() {
  local i group taint
  for i in $(seq 0 $((NODES - 1))); do
    if [ "$i" -eq $((NODES - 1)) ] && [ "$NODES" -gt 1 ]; then
      group=dedicated; taint='[{"key":"berth.dev/dedicated","value":"true","effect":"NoSchedule"}]'
    else
      group=general; taint='[]'
    fi
    cat <<EOF
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels:
    type: kwok
    kubernetes.io/hostname: kwok-node-$i
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    node-role.kubernetes.io/agent: ""
    berth.dev/node-group: $group
    topology.kubernetes.io/zone: zone-$((i % 2))
spec:
  taints: $taint
---
EOF
  done | kubectl apply -f - >/dev/null
  local size
  size=$(printf '{"status":{"capacity":{"cpu":"32","memory":"256Gi","pods":"%s"},"allocatable":{"cpu":"32","memory":"256Gi","pods":"%s"}}}' "$PODS_PER_NODE" "$PODS_PER_NODE")
  for i in $(seq 0 $((NODES - 1))); do
    kubectl patch node "kwok-node-$i" --subresource=status --type=merge -p "$size" >/dev/null
  done
}

nodes_ready() {
  local ready
  ready=$(kubectl get nodes -l type=kwok -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True || true)
  [ "$ready" -ge "$NODES" ]
}

healthy() {
  for c in "${components[@]}"; do running "$c" || return 1; done
  curl_ok --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
    "https://127.0.0.1:$APISERVER_PORT/readyz" >/dev/null 2>&1
}

cmd_up() {
  local start=$SECONDS want_node=0
  mkdir -p "$dir" "$logs" "$run"
  if [ "$REAL_NODES" != 0 ]; then "$here/build-binaries.sh" kubernetes etcd kwok helm kubelet coredns
  else "$here/build-binaries.sh" kubernetes etcd kwok helm; fi
  for t in curl openssl python3 setsid; do command -v "$t" >/dev/null || die "$t is required (hack/install-deps.sh installs it)"; done
  exec 8>"$dir/.lock"; flock 8
  # The real node is claimed and started under a machine-wide lock: two clusters coming up at
  # once cannot both take it.
  if [ "$REAL_NODES" != 0 ]; then exec 7>"$cache/real-node.lock"; flock 7; fi
  node_wanted && want_node=1
  [ $want_node = 1 ] || exec 7>&-
  set_kubelet_address_flags
  if [ -f "$dir/ports.env" ]; then
    source "$dir/ports.env"
    if healthy && { [ $want_node = 0 ] || node_healthy; }; then
      register_nodes # BERTH_KWOK_NODES / BERTH_KWOK_PODS may have grown since
      log "already running: $kubeconfig"; print_where; return 0
    fi
    apiserver_flags_current || { log "restarting kube-apiserver (kubelet flags changed)"; stop_component kube-apiserver; }
    # Ports of a stopped cluster may have been taken by someone else since.
    if ! running kube-apiserver && port_taken "$APISERVER_PORT"; then rm -f "$dir/ports.env"; fi
    if ! running etcd && port_taken "$ETCD_PORT"; then rm -f "$dir/ports.env"; fi
  fi
  ensure_ports
  make_pki
  write_kubeconfig "$kubeconfig" admin
  write_kubeconfig "$dir/controller-manager.kubeconfig" controller-manager
  write_kubeconfig "$dir/scheduler.kubeconfig" scheduler
  write_kubeconfig "$dir/kwok.kubeconfig" kwok
  for c in "${components[@]}"; do
    log "starting $c"
    start_component "$c"
  done
  register_nodes
  wait_for "kwok nodes" 60 nodes_ready
  # The default ServiceAccount shows that the token controller works.
  wait_for "default service account" 30 kubectl get serviceaccount default -n default
  if [ $want_node = 1 ]; then node_up; exec 7>&-; fi
  log "ready in $((SECONDS - start)) s"
  print_where
}

# apiserver_flags_current: a running apiserver was started with the kubelet flags wanted now.
apiserver_flags_current() {
  running kube-apiserver || return 0
  local args has=0 want=0
  args=$(cmdline_of "$(pid_of kube-apiserver)")
  [[ $args == *--kubelet-client-certificate* ]] || return 1
  [[ $args == *--kubelet-preferred-address-types* ]] && has=1
  [ ${#kubelet_address_flags[@]} -gt 0 ] && want=1
  [ $has = $want ]
}

print_where() {
  cat <<EOF
kube-apiserver: https://127.0.0.1:$APISERVER_PORT ($KUBERNETES_VERSION)
kubeconfig:     $kubeconfig
try:            $bin_k8s/kubectl --kubeconfig $kubeconfig get nodes
EOF
  if node_owned && [ -d "$nd" ]; then
    echo "real node:      $NODE_NAME ($NODE_IP), label berth.dev/node-group=real, taint berth.dev/real-node=true:NoSchedule"
    echo "registry:       $REGISTRY (images: $(awk '{printf "%s ", $1}' "$nd/images.txt" 2>/dev/null | sed "s#$REGISTRY/##g"))"
  fi
}

cmd_down() {
  # The real node first (its pods leave through the apiserver), then the plane's clients, etcd
  # last, each stop in parallel within its tier.
  # Under the real node's lock, so that another cluster's `up` never takes it over half-stopped.
  if node_owned; then
    exec 7>"$cache/real-node.lock"; flock 7
    node_owned && node_down
    exec 7>&-
  fi
  local c
  for c in kwok kube-scheduler kube-controller-manager; do stop_component "$c" & done
  wait
  stop_component kube-apiserver
  stop_component etcd
  log "stopped"
}

cmd_status() {
  [ -f "$dir/ports.env" ] && source "$dir/ports.env"
  local all=("${components[@]}")
  node_owned && all+=("${node_components[@]}" registry-local)
  for c in "${all[@]}"; do
    if running "$c"; then echo "$c: running (pid $(pid_of "$c"))"; else echo "$c: stopped"; fi
  done
  [ -f "$dir/ports.env" ] && print_where
  healthy
}

# shellcheck source=cluster/node.sh
source "$here/cluster/node.sh"

case ${1:-up} in
  up) cmd_up ;;
  down) cmd_down ;;
  delete) cmd_down; rm -rf "$dir"; log "deleted" ;;
  status) cmd_status ;;
  kubeconfig) echo "$kubeconfig" ;;
  env)
    echo "export KUBECONFIG=$kubeconfig"
    echo "export PATH=$bin_k8s:$bin_helm:$bin_etcd:$bin_kwok:\$PATH"
    [ -f "$dir/ports.env" ] && sed 's/^/export BERTH_/' "$dir/ports.env"
    if node_owned && running kubelet; then
      echo "export BERTH_REGISTRY=$REGISTRY BERTH_REAL_NODE=$NODE_NAME"
      running registry-local && echo "export BERTH_REGISTRY_LOCAL=127.0.0.1:$REGISTRY_PORT"
    fi ;;
  node-down) node_owned && node_down ;;   # by another cluster's `up` taking the node over (it holds the lock)
  host-check)
    left=$(node_leftovers)
    if [ -n "$left" ]; then echo "$left"; exit 1; fi
    echo "host clean: no bridge, iptables chain, mount, process or cgroup of a real node" ;;
  stop) source "$dir/ports.env"; stop_component "${2:?component}" ;;
  start) source "$dir/ports.env"; set_kubelet_address_flags; start_component "${2:?component}" ;;
  *) die "usage: $0 up|down|delete|status|kubeconfig|env|host-check|stop C|start C" ;;
esac
