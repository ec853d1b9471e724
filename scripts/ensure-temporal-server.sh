#!/usr/bin/env bash
# Prints the directory of a self-hosted Temporal server of docker-compose.yml's version (1.29.1),
# building it once if needed. The directory holds `temporal-server`, `temporal-sql-tool`, the
# PostgreSQL schemas shipped in the server module (schema/postgresql/v12/...) and the server's own
# config/development-postgres12.yaml, which src/devtools/production-temporal.ts starts from.
# Order: $TEMPORAL_SERVER_DIR (a directory of that layout), the per-user cache, then `go install`
# into the cache (no replace directives in the server's go.mod, so `go install pkg@version` works).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

want="1.29.1"
cached="$CACHE_ROOT/temporal-server/$want"

complete() {
  [[ -x "$1/temporal-server" && -x "$1/temporal-sql-tool" ]] &&
    [[ -f "$1/schema/postgresql/v12/temporal/schema.sql" && -d "$1/schema/postgresql/v12/visibility/versioned" ]] &&
    [[ -f "$1/config/development-postgres12.yaml" ]]
}

if [[ -n "${TEMPORAL_SERVER_DIR:-}" ]]; then
  complete "$TEMPORAL_SERVER_DIR" ||
    die "TEMPORAL_SERVER_DIR=$TEMPORAL_SERVER_DIR lacks temporal-server, temporal-sql-tool, schema/postgresql/v12 or config/development-postgres12.yaml"
  echo "$TEMPORAL_SERVER_DIR"; exit 0
fi
if ! complete "$cached"; then
  command -v go >/dev/null 2>&1 || die "no Temporal server v$want found. Install Go >= 1.24 so this script can build it, or set TEMPORAL_SERVER_DIR."
  log "building Temporal server v$want and its SQL tool with Go (about 3 minutes on 2 cores, once per machine)…"
  mkdir -p "$(dirname "$cached")"
  tmp="$(mktemp -d "$(dirname "$cached")/.build-XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  GOBIN="$tmp" GOFLAGS="-trimpath -buildvcs=false" \
    go install "go.temporal.io/server/cmd/server@v$want" "go.temporal.io/server/cmd/tools/sql@v$want" >&2
  mv "$tmp/server" "$tmp/temporal-server"
  mv "$tmp/sql" "$tmp/temporal-sql-tool"
  # The schemas and configs ship in the module, which `go install` just put in the module cache.
  module="$(go env GOMODCACHE)/go.temporal.io/server@v$want"
  [[ -d "$module/schema/postgresql/v12" ]] || die "the server module has no schema/postgresql/v12 at $module"
  mkdir -p "$tmp/schema/postgresql" "$tmp/config/dynamicconfig"
  cp -R "$module/schema/postgresql/v12" "$tmp/schema/postgresql/"
  cp "$module/config/development-postgres12.yaml" "$tmp/config/"
  cp "$module/config/dynamicconfig/development-sql.yaml" "$tmp/config/dynamicconfig/"
  chmod -R u+w "$tmp" && chmod 755 "$tmp"
  rm -rf "$cached"
  mv "$tmp" "$cached"
  trap - EXIT
fi
echo "$cached"
