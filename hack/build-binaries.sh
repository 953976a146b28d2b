#!/usr/bin/env bash
# Builds the local control plane from Go modules into a cache outside the repository:
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

build_kubernetes() {
  local v=$KUBERNETES_VERSION dest="$cache/bin/kubernetes-$KUBERNETES_VERSION"
  local bins=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
  have "$dest" "${bins[@]}" && return 0
  local minor=${v#v}; minor=${minor#*.}; minor=${minor%%.*}
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
  local ld="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=$v -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
    ld+=" -X $p.buildDate=2000-01-01T00:00:00Z -X $p.gitCommit=berth-local-build"
  done
  local tmp="$dest.tmp.$$"
  mkdir -p "$tmp"
  log "kubernetes $v: compiling ${bins[*]} with $jobs jobs (a cold build takes 20-40 min on 2 cores)"
  with_progress "kubernetes $v" bash -c "cd '$mod' && go build -p $jobs -trimpath -ldflags '$ld' -o '$tmp/' \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl"
  rm -rf "$dest"; mv "$tmp" "$dest"
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
  local tmp="$dest.tmp.$$"; mkdir -p "$tmp"
  with_progress "etcd $v" bash -c "cd '$mod' && go build -p $jobs -trimpath -ldflags '-s -w' -o '$tmp/etcd' go.etcd.io/etcd/server/v3"
  rm -rf "$dest"; mv "$tmp" "$dest"
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

want=${*:-kubernetes etcd kwok helm}
for c in $want; do
  case $c in
    kubernetes) build_kubernetes ;;
    etcd) build_etcd ;;
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
