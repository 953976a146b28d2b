#!/usr/bin/env bash
# Installs everything Berth's two commands need on a fresh Debian machine, then the npm
# packages. Idempotent: each step checks first, so a warm machine passes in a second.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[deps %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

need_apt=()
for pair in curl:curl openssl:openssl python3:python3 setsid:util-linux flock:util-linux git:git; do
  command -v "${pair%%:*}" >/dev/null || need_apt+=("${pair#*:}")
done
command -v go >/dev/null || need_apt+=(golang-go)
command -v node >/dev/null || need_apt+=(nodejs npm)
# The builder's tests push to a throwaway registry (Debian's docker-registry), real node or not.
command -v docker-registry >/dev/null || need_apt+=(docker-registry)
# The local cluster's real node (hack/cluster/node.sh; BERTH_REAL_NODES=0 turns it off): the
# container runtime, CNI plugins, iptables, a registry, and what the images are built from.
# It runs as root, so these install only as root.
if [ "${BERTH_REAL_NODES:-1}" != 0 ] && [ "$(id -u)" -eq 0 ]; then
  for pkg in containerd runc containernetworking-plugins iptables conntrack busybox-static docker-registry \
    gcc libc6-dev binutils; do
    dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need_apt+=("$pkg")
  done
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing Debian packages: ${need_apt[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  # Packages with a service (containerd, docker-registry) must not start it: the cluster script
  # runs its own instances. policy-rc.d tells invoke-rc.d so; ours is removed afterwards.
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    trap '$sudo rm -f "$policy"' EXIT
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null; $sudo chmod +x "$policy"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || { log "Node.js >= 20 is required (found $(node --version))"; exit 1; }

# npm packages: reinstall only when package-lock.json changed since the last install.
stamp=node_modules/.berth-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi

# A real cloud API client for the wire tests (cached; its absence only skips those tests).
hack/install-cloud-client.sh >/dev/null || log "cloud API client not cached: its wire tests will skip"
# The real Deis v1 CLI for its end-to-end test (built once from the Go module proxy, ~1 min;
# its absence only skips that test).
hack/build-deis-cli.sh >/dev/null || log "Deis CLI not built: its end-to-end test will skip"
