#!/usr/bin/env bash
# Builds the local control plane (and the real node's kubelet, kube-proxy and CoreDNS) from Go
# modules into a cache outside the repository:
#   $BERTH_CACHE/bin/<component>-<version>/<binary>
# A component already in the cache is not rebuilt. Safe to run concurrently with itself
# (a lock serialises builds) and to interrupt (results are moved into place atomically).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${BERTH_CACHE:-$HOME/.cache/berth}
mkdir -p "$cache/bin" "$cache/build"

log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

command -v go >/dev/null || { echo "go is required to build the local control plane (https://go.dev/dl)" >&2; exit 1; }

exec 9>"$cache/build/.lock"
flock 9

export GOFLAGS=-buildvcs=false CGO_ENABLED=0 GOTOOLCHAIN=local
jobs=$(nproc)

# done <dir> <binaries...>: true when every binary is already in place
have() { local d=$1; shift; for b in "$@"; do [ -x "$d/$b" ] || return 1; done; }

# Runs a long command, printing a heartbeat with elapsed time so a cold build shows progress.
with_progress() {
  local what=$1; shift
  local start=$SECONDS
  "$@" &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 30 &
    wait $! 2>/dev/null || true
    kill -0 "$pid" 2>/dev/null && log "$what: still building ($((SECONDS - start)) s)"
  done
  wait "$pid"
  log "$what: done in $((SECONDS - start)) s"
}

# compile LABEL DEST MODULE OUT LDFLAGS PACKAGES...: go build in MODULE into a temporary
# directory (OUT names the binary; empty: one per package), moved to DEST when done.
compile() {
  local label=$1 dest=$2 mod=$3 out=$4 ld=$5; shift 5
  local tmp="$dest.tmp.$$"; mkdir -p "$tmp"
  with_progress "$label" bash -c "cd '$mod' && go build -p $jobs -trimpath -ldflags '$ld' -o '$tmp/$out' $*"
  rm -rf "$dest"; mv "$tmp" "$dest"
}

# k8s_ldflags VERSION: the version stamps (otherwise /version reports v0.0.0 and Helm's
# kubeVersion checks fail).
k8s_ldflags() {
  local v=$1 minor=${1#v1.} ld="-s -w"; minor=${minor%%.*}
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=$v -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
    ld+=" -X $p.buildDate=2000-01-01T00:00:00Z -X $p.gitCommit=berth-local-build"
  done
  echo "$ld"
}

build_kubernetes() {
  local v=$KUBERNETES_VERSION dest="$cache/bin/kubernetes-$KUBERNETES_VERSION"
  local bins=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
  have "$dest" "${bins[@]}" && return 0
  local staging=v0.${v#v1.}
  local mod="$cache/build/kubernetes-$v"
  mkdir -p "$mod"
  log "kubernetes $v: resolving the staging modules (k8s.io/* $staging)"
  local gomod
  gomod=$(cd "$mod" && go mod download -json "k8s.io/kubernetes@$v" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  {
    echo "module berth.dev/localcluster/kubernetes"
    echo
    echo "go 1.25.0"
    echo
    echo "require k8s.io/kubernetes $v"
    echo
    # Every staging module that k8s.io/kubernetes replaces with ./staging/... is published
    # under its own path at v0.<minor>.<patch>.
    grep -E '^\s*k8s\.io/[a-z0-9-]+ => \./staging/' "$gomod" | awk -v s="$staging" '{print "replace " $1 " => " $1 " " s}'
  } >"$mod/go.mod"
  cat >"$mod/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubectl/pkg/cmd"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  log "kubernetes $v: downloading modules"
  (cd "$mod" && go mod tidy -e >/dev/null 2>&1 || true)
  (cd "$mod" && go get "k8s.io/kubernetes@$v" >/dev/null && go mod download)
  log "kubernetes $v: compiling ${bins[*]} with $jobs jobs (a cold build takes 20-40 min on 2 cores)"
  compile "kubernetes $v" "$dest" "$mod" "" "$(k8s_ldflags "$v")" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
}

# kubelet and kube-proxy for the local real node (hack/cluster.sh). A separate component so that
# adding it never rebuilds the control plane: its module is a copy of the one above with two
# more packages in tools.go. `go mod tidy` only adds the modules those packages need (netlink,
# knftables, ...), every version already there stays, so the Go build cache is shared and only
# the ~120 kubelet/kube-proxy-only packages compile (about 2 min on 2 cores, after the plane).
build_kubelet() {
  local v=$KUBERNETES_VERSION dest="$cache/bin/kubelet-$KUBERNETES_VERSION"
  have "$dest" kubelet kube-proxy && return 0
  build_kubernetes
  local src="$cache/build/kubernetes-$v" mod="$cache/build/kubelet-$v"
  mkdir -p "$mod"
  sed 's#^module .*#module berth.dev/localcluster/kubelet#' "$src/go.mod" >"$mod/go.mod"
  cp "$src/go.sum" "$mod/go.sum"
  printf '//go:build tools\n\npackage tools\n\nimport (\n\t_ "k8s.io/kubernetes/cmd/kube-proxy"\n\t_ "k8s.io/kubernetes/cmd/kubelet"\n)\n' >"$mod/tools.go"
  log "kubelet $v: downloading modules"
  (cd "$mod" && go mod tidy -e >/dev/null 2>&1 || true)
  (cd "$mod" && go mod download)
  compile "kubelet $v" "$dest" "$mod" "" "$(k8s_ldflags "$v")" k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy
}

# CoreDNS, the real node's cluster DNS. Its go.mod has no replace directives, so
# `go install github.com/coredns/coredns@v` would work, but it compiles every plugin (the cloud
# DNS providers' SDKs, etcd, dnstap, ...). A main of our own with the few plugins the local
# cluster uses builds in a fraction of the time; its client-go is the same v0.<minor> as ours.
build_coredns() {
  local v=$COREDNS_VERSION dest="$cache/bin/coredns-$COREDNS_VERSION"
  have "$dest" coredns && return 0
  local mod="$cache/build/coredns-$v"
  mkdir -p "$mod"
  printf 'module berth.dev/localcluster/coredns\n\ngo 1.25.0\n' >"$mod/go.mod"
  cat >"$mod/main.go" <<'GO'
// CoreDNS with the plugins the local cluster needs (the order of Directives is the order
// of the plugin chain, as in CoreDNS's plugin.cfg).
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
)

func init() {
	dnsserver.Directives = []string{"bind", "ready", "errors", "log", "cache", "loadbalance", "kubernetes"}
}

func main() { coremain.Run() }
GO
  log "coredns $v: downloading modules"
  # Only the packages main.go imports are fetched (not every plugin's cloud SDK), quietly; on
  # failure tidy runs again to show why.
  (cd "$mod" && go get "github.com/coredns/coredns/coremain@$v" >/dev/null 2>&1 && go mod tidy >/dev/null 2>&1) ||
    (cd "$mod" && go mod tidy)
  compile "coredns $v" "$dest" "$mod" coredns "-s -w" .
}

build_etcd() {
  local v=$ETCD_VERSION dest="$cache/bin/etcd-$ETCD_VERSION"
  have "$dest" etcd && return 0
  local mod="$cache/build/etcd-$v"
  mkdir -p "$mod"
  log "etcd $v: downloading modules"
  # go.etcd.io/etcd/server/v3 has replace directives, so `go install pkg@v` refuses it:
  # build it as a dependency of a module of our own.
  printf 'module berth.dev/localcluster/etcd\n\ngo 1.24\n' >"$mod/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' >"$mod/tools.go"
  (cd "$mod" && go get "go.etcd.io/etcd/server/v3@$v" >/dev/null && go mod tidy >/dev/null)
  compile "etcd $v" "$dest" "$mod" etcd "-s -w" go.etcd.io/etcd/server/v3
}

# go_install <name> <pkg> <version> [ldflags]: for modules without replace directives.
go_install() {
  local name=$1 pkg=$2 v=$3 ld="-s -w ${4:-}" dest="$cache/bin/$1-$3-r$BUILD_REVISION"
  have "$dest" "$name" && return 0
  local tmp="$dest.tmp.$$"; mkdir -p "$tmp"
  log "$name $v: go install $pkg@$v"
  with_progress "$name $v" env GOBIN="$tmp" go install -trimpath -ldflags "$ld" "$pkg@$v"
  rm -rf "$dest"; mv "$tmp" "$dest"
}

# Everything by default; the real node's parts only when real nodes are on (BERTH_REAL_NODES).
want=${*:-kubernetes etcd kwok helm}
[ $# -eq 0 ] && [ "${BERTH_REAL_NODES:-1}" != 0 ] && want+=" kubelet coredns"
for c in $want; do
  case $c in
    kubernetes) build_kubernetes ;;
    etcd) build_etcd ;;
    kubelet) build_kubelet ;;
    coredns) build_coredns ;;
    kwok) go_install kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK_VERSION" ;;
    helm)
      # Like Helm's Makefile: its version, and the Kubernetes version `helm template` assumes
      # (otherwise v1.20, which fails charts with a kubeVersion constraint).
      k8s_minor=${KUBERNETES_VERSION#v1.}; k8s_minor=${k8s_minor%%.*}
      go_install helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION" \
        "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean \
         -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$k8s_minor \
         -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$k8s_minor" ;;
    *) echo "unknown component: $c" >&2; exit 2 ;;
  esac
done
log "binaries ready in $cache/bin"
