#!/usr/bin/env bash
# Caches a real client of the cloud services API for the golden wire tests: the npm package
# @cleverbrush/clickhouse-cloud-api-client (a TypeScript client of the ClickHouse Cloud API with
# a configurable base URL), unpacked into ~/.cache/berth/clients/ (not into node_modules: it is
# a test fixture, not a dependency). Idempotent; prints the package directory. Fails (exit 1)
# only when the registry cannot be reached; the tests then skip with the reason.
set -euo pipefail
version=1.1.0
dir=${BERTH_CLOUD_CLIENT_DIR:-$HOME/.cache/berth/clients/clickhouse-cloud-api-client-$version}
if [ ! -f "$dir/package/dist/index.js" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "@cleverbrush/clickhouse-cloud-api-client@$version" >/dev/null 2>&1) || { echo "npm registry unreachable: could not fetch @cleverbrush/clickhouse-cloud-api-client@$version" >&2; exit 1; }
  mkdir -p "$dir"
  tar -xzf "$tmp"/*.tgz -C "$dir"
fi
echo "$dir/package"
