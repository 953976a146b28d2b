# shellcheck shell=bash
# The local cluster's real node, sourced by hack/cluster.sh: a kubelet with containerd, runc and a
# CNI bridge next to the KWOK nodes, kube-proxy (iptables mode) for Services, CoreDNS for cluster
# DNS and a registry (Debian's docker-registry, the CNCF distribution) with images built from files
# on this machine. Pods there run real processes; Pools that select node group "real" (and
# tolerate its taint) put apps on it. All of it runs as plain background processes owned by the
# cluster: pid files in $run, logs in $logs, state in $dir/node.
#
# Needs root (bridge, iptables, mounts, cgroups). The host state it touches, all put back by
# node_down: the bridge berth0 (10.245.1.1/24), iptables chains BERTH-* / KUBE-* / CNI-* and the
# jumps to them, sysctls (ip_forward, and those the kubelet sets), cgroups kubepods/, mounts under
# $dir/node and /run/netns, and the fixed paths /run/containerd, /var/lib/cni, /var/log/containers,
# /var/lib/kubelet (removed when they did not exist before). Because of those fixed paths only one
# cluster on the machine runs the real node (its name is in $cache/real-node.owner).
#
# Uses from cluster.sh: $here $cache $name $dir $pki $logs $run $bin_k8s, log die spawn running
# stop_component wait_for curl_ok cert write_kubeconfig kubectl.

REAL_NODES=${BERTH_REAL_NODES:-1}
NODE_NAME=real-1
NODE_BRIDGE=berth0
NODE_IP=10.245.1.1                  # the bridge's address: node InternalIP, DNS, registry
NODE_POD_CIDR=10.245.1.0/24         # pods on the real node (KWOK's fake pod IPs are 10.244.0.0/16)
NODE_CLUSTER_CIDR=10.245.0.0/16
SERVICE_CIDR=10.96.0.0/16           # kube-apiserver's --service-cluster-ip-range
KWOK_CIDRS="10.244.0.0/16 10.240.0.0/16"  # KWOK's fake pod and node IPs: never routed off the machine
REGISTRY_PORT=5000
REGISTRY="$NODE_IP:$REGISTRY_PORT"
CONTAINERD_SOCK=/run/containerd/containerd.sock
bin_kubelet="$cache/bin/kubelet-$KUBERNETES_VERSION"
bin_coredns="$cache/bin/coredns-$COREDNS_VERSION"
nd="$dir/node"
owner_file="$cache/real-node.owner"
node_components=(registry containerd kubelet kube-proxy coredns)   # registry-local is optional
# Sysctls saved at the first `up` and restored by `down`: ip_forward (pod -> ClusterIP -> pod needs
# it), and those the kubelet sets on start (protectKernelDefaults is off).
NODE_SYSCTLS="net.ipv4.ip_forward vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes"
# Fixed host paths that containerd, CNI, the kubelet and `ip netns` create.
NODE_HOST_PATHS="/run/containerd /var/lib/cni /var/log/containers /var/log/pods /var/lib/kubelet /run/netns"

# --- ownership ------------------------------------------------------------------------------
# node_wanted: real nodes are on, we are root, and no other running cluster holds the node.
node_wanted() {
  [ "$REAL_NODES" != 0 ] || return 1
  if [ "$(id -u)" != 0 ]; then
    log "the real node needs root (bridge, iptables, mounts): running with KWOK nodes only (BERTH_REAL_NODES=0 silences this)"
    return 1
  fi
  local owner; owner=$(cat "$owner_file" 2>/dev/null || true)
  if [ -n "$owner" ] && [ "$owner" != "$name" ]; then
    local other="$cache/clusters/$owner"
    if [ -d "$other" ] && RUN_DIR="$other/run" node_alive; then
      log "the real node belongs to cluster '$owner' (one per machine: it uses fixed host paths);" \
        "cluster '$name' runs with KWOK nodes only. Free it with: BERTH_CLUSTER=$owner hack/cluster.sh down"
      return 1
    fi
    log "cluster '$owner' held the real node but is not running it: cleaning up after it"
    BERTH_CLUSTER=$owner "$here/cluster.sh" node-down || true
  fi
  echo "$name" >"$owner_file"
}

node_owned() { [ "$(cat "$owner_file" 2>/dev/null)" = "$name" ]; }

# node_alive: the kubelet of the cluster whose run dir is $RUN_DIR (default ours) is running.
node_alive() {
  local p; p=$(cat "${RUN_DIR:-$run}/kubelet.pid" 2>/dev/null) && [ -n "$p" ] && kill -0 "$p" 2>/dev/null
}

node_healthy() {
  local c
  for c in "${node_components[@]}"; do running "$c" || return 1; done
  node_ready
}

node_ready() {
  [ "$(kubectl get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

# cmdline_of PID: the process's arguments, space-separated (empty when it is gone).
cmdline_of() { { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null || true; }

# --- host state -----------------------------------------------------------------------------
save_host_state() {
  [ -f "$nd/host-before.env" ] && return 0
  local k p
  {
    for k in $NODE_SYSCTLS; do echo "sysctl $k $(sysctl -n "$k")"; done
    for p in $NODE_HOST_PATHS; do [ -e "$p" ] && echo "path $p"; done
  } >"$nd/host-before.env.tmp"
  mv "$nd/host-before.env.tmp" "$nd/host-before.env"
}

restore_host_state() {
  [ -f "$nd/host-before.env" ] || return 0
  local kind k v p
  while read -r kind k v; do
    [ "$kind" = sysctl ] && [ "$(sysctl -n "$k")" != "$v" ] && sysctl -qw "$k=$v"
  done <"$nd/host-before.env"
  for p in $NODE_HOST_PATHS; do
    grep -qx "path $p" "$nd/host-before.env" || rm -rf "$p"
  done
  rm -f "$nd/host-before.env"
}

# chain_rules TOOL: `iptables-save` lines of the chains the node owns (BERTH-*, KUBE-*, CNI-*).
owned_chain_re='(BERTH|KUBE|CNI)-[A-Za-z0-9_-]+'

# drop_chains TOOL: removes every jump to an owned chain, then the chains themselves, in each table.
drop_chains() {
  local ipt=$1 table rule chain
  for table in filter nat mangle raw; do
    "$ipt-save" -t "$table" 2>/dev/null | grep -E "^-A [A-Z]+ .*-j $owned_chain_re( |\$)" | while read -r rule; do
      # shellcheck disable=SC2086 # the rule is iptables-save's words, split as the shell would
      eval "$ipt -w -t $table -D ${rule#-A }" 2>/dev/null || true
    done
    "$ipt-save" -t "$table" 2>/dev/null | grep -oE "^:$owned_chain_re" | tr -d : | while read -r chain; do
      "$ipt" -w -t "$table" -F "$chain" 2>/dev/null || true
    done
    "$ipt-save" -t "$table" 2>/dev/null | grep -oE "^:$owned_chain_re" | tr -d : | while read -r chain; do
      "$ipt" -w -t "$table" -X "$chain" 2>/dev/null || true
    done
  done
}

# node_leftovers: prints what the real node left on the host (nothing after a clean `down`).
node_leftovers() {
  local ipt p
  ip link show "$NODE_BRIDGE" >/dev/null 2>&1 && echo "bridge $NODE_BRIDGE"
  ip -o link show type veth 2>/dev/null | grep -q "master $NODE_BRIDGE" && echo "veths on $NODE_BRIDGE"
  for ipt in iptables ip6tables; do
    "$ipt-save" 2>/dev/null | grep -oE "^:$owned_chain_re" | sed "s/^:/$ipt chain /"
  done
  nft list tables 2>/dev/null | grep -E 'kube-proxy|kubelet' | sed 's/^/nft /'
  awk -v d="$cache/clusters/" 'index($2, d) == 1 || $2 ~ "^/run/netns/cni-" || $2 ~ "^/run/containerd/" || $2 ~ "^/var/lib/kubelet/" {print "mount " $2}' /proc/self/mounts
  local args
  for p in /proc/[0-9]*; do
    args=$(cmdline_of "${p#/proc/}")
    case $args in
      *containerd-shim*"$CONTAINERD_SOCK"* | "$bin_kubelet"/* | "$bin_coredns"/* | containerd\ --config\ "$cache"/* | docker-registry\ serve\ "$cache"/*)
        echo "process ${p#/proc/} ${args:0:100}" ;;
    esac
  done
  ls -d /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods 2>/dev/null | sed 's/^/cgroup /'
  [ -f "$owner_file" ] && echo "owner file $owner_file ($(cat "$owner_file"))"
  return 0
}

# --- start ----------------------------------------------------------------------------------
node_preflight() {
  local t missing=()
  for t in containerd containerd-shim-runc-v2 ctr runc iptables ip6tables ip conntrack docker-registry gcc strip ldd; do
    command -v "$t" >/dev/null || missing+=("$t")
  done
  [ -x /bin/busybox ] || missing+=(busybox-static)
  [ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
  [ ${#missing[@]} -eq 0 ] || die "the real node needs: ${missing[*]} (run hack/install-deps.sh, or BERTH_REAL_NODES=0 for KWOK only)"
  local major; major=$(containerd --version | awk '{print $3}' | sed 's/^v//; s/\..*//')
  [ "$major" = 1 ] || die "containerd $major.x found: the real node's configuration is written for containerd 1.x (Debian 12's 1.6)"
  for t in kubelet kube-proxy; do [ -x "$bin_kubelet/$t" ] || die "$bin_kubelet/$t missing (hack/build-binaries.sh kubelet)"; done
  [ -x "$bin_coredns/coredns" ] || die "$bin_coredns/coredns missing (hack/build-binaries.sh coredns)"
}

# The bridge owns the node's address (the kubelet refuses a loopback node IP and this kernel has no
# dummy interface). Pods get routes to their subnet and to the Service range only, no masquerade;
# BERTH-FORWARD rejects anything from the bridge that would leave through another interface, and
# BERTH-OUTPUT rejects KWOK's fake pod and node IPs (kube-proxy programs their Services too, and
# the apiserver dials nodes' InternalIPs for logs): no traffic leaves this machine.
node_network() {
  ip link show "$NODE_BRIDGE" >/dev/null 2>&1 || ip link add "$NODE_BRIDGE" type bridge
  ip addr show dev "$NODE_BRIDGE" | grep -q "inet $NODE_IP/" || ip addr add "$NODE_IP/${NODE_POD_CIDR#*/}" dev "$NODE_BRIDGE"
  ip link set "$NODE_BRIDGE" up
  sysctl -qw net.ipv4.ip_forward=1
  local chain builtin cidr
  for chain in BERTH-FORWARD BERTH-OUTPUT; do
    builtin=${chain#BERTH-}
    iptables -w -N "$chain" 2>/dev/null || iptables -w -F "$chain"
    iptables -w -C "$builtin" -j "$chain" 2>/dev/null || iptables -w -I "$builtin" -j "$chain"
  done
  iptables -w -A BERTH-FORWARD -i "$NODE_BRIDGE" ! -o "$NODE_BRIDGE" -j REJECT
  for cidr in $KWOK_CIDRS; do
    iptables -w -A BERTH-FORWARD -d "$cidr" -j REJECT
    iptables -w -A BERTH-OUTPUT -d "$cidr" -j REJECT
  done
  mkdir -p "$nd/cni/net.d" "$nd/cni/ipam"
  cat >"$nd/cni/net.d/10-berth.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "berth",
  "plugins": [
    {"type": "bridge", "bridge": "$NODE_BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$nd/cni/ipam",
              "ranges": [[{"subnet": "$NODE_POD_CIDR", "gateway": "$NODE_IP"}]], "routes": [{"dst": "$SERVICE_CIDR"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
}

node_certs() {
  # Client certificates (the Node authorizer knows system:node:<name> in system:nodes;
  # system:kube-proxy is bound to system:node-proxier by default) and the kubelet's serving
  # certificate, which the apiserver verifies with the cluster CA (--kubelet-certificate-authority).
  cert "kubelet-$NODE_NAME" "system:node:$NODE_NAME" system:nodes
  cert "kubelet-$NODE_NAME-serving" "$NODE_NAME" "" "DNS:$NODE_NAME,IP:$NODE_IP"
  cert kube-proxy system:kube-proxy
  write_kubeconfig "$nd/kubelet.kubeconfig" "kubelet-$NODE_NAME"
  write_kubeconfig "$nd/kube-proxy.kubeconfig" kube-proxy
}

start_registry() {
  mkdir -p "$nd/registry"
  cat >"$nd/registry/config.yml" <<EOF
version: 0.1
log: {level: warn, fields: {service: registry}}
storage:
  filesystem: {rootdirectory: $nd/registry/data}
  delete: {enabled: true}
http: {addr: "$REGISTRY"}
EOF
  spawn registry docker-registry serve "$nd/registry/config.yml"
  wait_for registry 20 curl_ok "http://$REGISTRY/v2/"
  # The same storage on 127.0.0.1 too, by a second process (the registry has one listen address):
  # image tools use plain HTTP for localhost without being told. Optional: skipped when taken.
  if running registry-local || ! port_taken "$REGISTRY_PORT"; then
    sed "s#addr: \"$REGISTRY\"#addr: \"127.0.0.1:$REGISTRY_PORT\"#" "$nd/registry/config.yml" >"$nd/registry/config-local.yml"
    spawn registry-local docker-registry serve "$nd/registry/config-local.yml"
    wait_for registry-local 20 curl_ok "http://127.0.0.1:$REGISTRY_PORT/v2/"
  else
    log "127.0.0.1:$REGISTRY_PORT is taken: the registry listens on $REGISTRY only"
  fi
}

# containerd (Debian's 1.6) without systemd. restrict_oom_score_adj: this VM withholds
# CAP_SYS_RESOURCE, so runc cannot give the pause container its oom_score_adj of -998 and every
# sandbox would fail ("can't get final child's PID from pipe: EOF"). Images come from our registry
# over plain HTTP; the sandbox image is ours too.
start_containerd() {
  mkdir -p "$nd/containerd"
  cat >"$nd/containerd/config.toml" <<EOF
version = 2
root = "$nd/containerd/root"
state = "$nd/containerd/state"
[grpc]
  address = "$CONTAINERD_SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$REGISTRY/berth/pause:3.10"
  enable_selinux = false
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$nd/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."$REGISTRY"]
    endpoint = ["http://$REGISTRY"]
EOF
  spawn containerd containerd --config "$nd/containerd/config.toml"
  wait_for containerd 20 ctr --address "$CONTAINERD_SOCK" version
}

start_kubelet() {
  cat >"$nd/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: "$NODE_IP"
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
containerRuntimeEndpoint: "unix://$CONTAINERD_SOCK"
cgroupDriver: cgroupfs
failCgroupV1: false          # the host has cgroup v1 (hybrid); 1.35 refuses it unless told
failSwapOn: false
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$pki/ca.crt"}
authorization: {mode: Webhook}
tlsCertFile: "$pki/kubelet-$NODE_NAME-serving.crt"
tlsPrivateKeyFile: "$pki/kubelet-$NODE_NAME-serving.key"
rotateCertificates: false
serverTLSBootstrap: false
clusterDomain: cluster.local
clusterDNS: ["$NODE_IP"]
podLogsDir: "$nd/pod-logs"
registerWithTaints: [{key: berth.dev/real-node, value: "true", effect: NoSchedule}]
serializeImagePulls: false
imageGCHighThresholdPercent: 100
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%"}
# A changed ConfigMap (the cluster API's logger levels) reaches a mounted volume at the pod's next
# sync: the kubelet watches the ConfigMaps its pods use (Watch, the default, said here) and
# resyncs each pod every syncFrequency (times up to 1.5, jitter). 20s instead of the default 1m
# bounds that at 30s (test/integration/real-node/cluster-loggers.test.ts reads it from /configz).
configMapAndSecretChangeDetectionStrategy: Watch
syncFrequency: 20s
EOF
  spawn kubelet "$bin_kubelet/kubelet" --config "$nd/kubelet.yaml" --kubeconfig "$nd/kubelet.kubeconfig" \
    --root-dir "$nd/kubelet" --cert-dir "$nd/kubelet-pki" --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" \
    --node-labels "type=real,berth.dev/node-group=real" --v=1
}

# kube-proxy in iptables mode. It leaves the host's conntrack sysctls alone (maxPerCore 0, timeouts
# 0s) and does not set route_localnet (localhostNodePorts false); NodePorts open on the node IP only.
start_kube_proxy() {
  cat >"$nd/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: "$nd/kube-proxy.kubeconfig"}
hostnameOverride: "$NODE_NAME"
mode: iptables
clusterCIDR: "$NODE_CLUSTER_CIDR"
healthzBindAddress: "127.0.0.1:$PROXY_HEALTHZ_PORT"
metricsBindAddress: "127.0.0.1:$PROXY_METRICS_PORT"
conntrack: {maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {localhostNodePorts: false}
nodePortAddresses: ["primary"]
EOF
  spawn kube-proxy "$bin_kubelet/kube-proxy" --config "$nd/kube-proxy.yaml" --v=1
}

# CoreDNS on the node's address, port 53, reading Services and Endpoints with the admin
# kubeconfig. Names outside cluster.local are refused: pods have no way off this machine anyway.
start_coredns() {
  cat >"$nd/Corefile" <<EOF
cluster.local:53 in-addr.arpa:53 ip6.arpa:53 {
  bind $NODE_IP
  ready 127.0.0.1:$DNS_READY_PORT
  errors
  cache 5
  loadbalance
  kubernetes cluster.local in-addr.arpa ip6.arpa {
    kubeconfig $kubeconfig berth-$name
    pods insecure
    fallthrough in-addr.arpa ip6.arpa
  }
}
EOF
  spawn coredns "$bin_coredns/coredns" -conf "$nd/Corefile"
}

# Ports of the node's local-only endpoints, picked free once and kept, like the plane's.
node_ports() {
  if [ ! -f "$nd/ports.env" ]; then
    local a b c
    read -r a b c < <(free_ports 3)
    printf 'PROXY_HEALTHZ_PORT=%s\nPROXY_METRICS_PORT=%s\nDNS_READY_PORT=%s\n' "$a" "$b" "$c" >"$nd/ports.env"
  fi
  # shellcheck disable=SC1091
  source "$nd/ports.env"
}

node_up() {
  local start=$SECONDS
  node_preflight
  mkdir -p "$nd"
  save_host_state
  node_ports
  node_network
  node_certs
  log "starting the real node $NODE_NAME ($NODE_IP): registry, images, containerd, kubelet, kube-proxy, coredns"
  start_registry
  python3 "$here/cluster/images/build.py" --registry "$REGISTRY" --cache "$cache/images" >"$nd/images.txt" \
    || die "building or pushing the images failed"
  start_containerd
  start_kubelet
  start_kube_proxy
  start_coredns
  wait_for "node $NODE_NAME" 90 node_ready
  kubectl uncordon "$NODE_NAME" >/dev/null
  wait_for coredns 30 curl_ok "http://127.0.0.1:$DNS_READY_PORT/ready"
  log "real node $NODE_NAME Ready in $((SECONDS - start)) s; registry $REGISTRY"
}

# --- stop -----------------------------------------------------------------------------------
# node_down: everything node_up did, undone, whatever state the plane is in.
# A subshell without errexit: every step is tried, whatever failed before it.
node_down() (
  set +e
  [ -d "$nd" ] || { node_owned && rm -f "$owner_file"; return 0; }
  local kc=("$bin_k8s/kubectl" --kubeconfig "$kubeconfig" --request-timeout 5s)
  # Pods off the node while the kubelet still runs, so that CNI DEL and unmounts happen.
  if running kubelet && "${kc[@]}" get node "$NODE_NAME" >/dev/null 2>&1; then
    "${kc[@]}" cordon "$NODE_NAME" >/dev/null 2>&1 || true
    "${kc[@]}" delete pods -A --field-selector "spec.nodeName=$NODE_NAME" --grace-period 1 --wait --timeout 20s >/dev/null 2>&1 || true
  fi
  stop_component coredns
  stop_component kube-proxy
  [ -x "$bin_kubelet/kube-proxy" ] && "$bin_kubelet/kube-proxy" --cleanup >/dev/null 2>&1
  stop_component kubelet
  # Whatever still runs (the plane was gone, or a pod did not stop in time).
  if running containerd; then
    local ns t
    for ns in $(ctr --address "$CONTAINERD_SOCK" namespaces ls -q 2>/dev/null); do
      for t in $(ctr --address "$CONTAINERD_SOCK" -n "$ns" tasks ls -q 2>/dev/null); do
        ctr --address "$CONTAINERD_SOCK" -n "$ns" tasks kill -s SIGKILL "$t" >/dev/null 2>&1
        ctr --address "$CONTAINERD_SOCK" -n "$ns" tasks delete -f "$t" >/dev/null 2>&1
      done
    done
  fi
  stop_component containerd
  stop_shims
  stop_component registry
  stop_component registry-local
  # The kubelet bind-mounts its root dir onto itself; volumes and containerd's rootfs mounts live below.
  awk -v d="$nd/" 'index($2, d) == 1 || $2 ~ "^/run/netns/cni-" || $2 ~ "^/run/containerd/" {print $2}' /proc/self/mounts |
    sort -r | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
  rm -f /run/netns/cni-* 2>/dev/null
  drop_chains iptables; drop_chains ip6tables
  ip link del "$NODE_BRIDGE" 2>/dev/null
  remove_cgroups
  rm -rf "$nd/cni/ipam"
  restore_host_state
  "${kc[@]}" delete node "$NODE_NAME" --ignore-not-found >/dev/null 2>&1 || true
  node_owned && rm -f "$owner_file"
  log "real node stopped, host restored"
)

# Shims outlive containerd by design; those of our containerd (its socket in their arguments) go.
stop_shims() {
  local p pids=()
  for p in /proc/[0-9]*; do
    case $(cmdline_of "${p#/proc/}") in
      *containerd-shim*"-address $CONTAINERD_SOCK"*) pids+=("${p#/proc/}") ;;
    esac
  done
  [ ${#pids[@]} -eq 0 ] && return 0
  kill -TERM "${pids[@]}" 2>/dev/null; sleep 1; kill -KILL "${pids[@]}" 2>/dev/null
  return 0
}

# The kubelet's cgroup tree (cgroupfs driver, cgroup v1: one per hierarchy), deepest first.
remove_cgroups() {
  local d
  for d in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  return 0
}
