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
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing Debian packages: ${need_apt[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
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
