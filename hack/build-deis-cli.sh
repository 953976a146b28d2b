#!/usr/bin/env bash
# Builds the real Deis v1 CLI (1.13.4) from the Go module proxy into the cache, for
# test/integration/api/deis-cli.test.ts (BERTH_DEIS_CLI=<path> runs it). deis/deis predates Go
# modules, so it is built from a small module of our own that requires it.
set -euo pipefail
version=${DEIS_CLI_VERSION:-v1.13.4}
cache=${BERTH_CACHE:-$HOME/.cache/berth}
out="$cache/bin/deis-cli-$version/deis"
if [ -x "$out" ]; then echo "$out"; exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/go.mod" <<MOD
module deiscli

go 1.22

require github.com/deis/deis $version
MOD
mkdir -p "$(dirname "$out")"
(cd "$work" && GOFLAGS=-mod=mod go build -o "$out" github.com/deis/deis/client)
echo "$out"
