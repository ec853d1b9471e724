#!/usr/bin/env bash
# Prints the path of a Temporal CLI (dev server with UI), building it once if needed.
# Order: $TEMPORAL_CLI_PATH, `temporal` on PATH, the project's .tools/, the per-user cache,
# then `go install` into the cache (the SDK's own download cannot work offline).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

want="$TEMPORAL_CLI_VERSION"
cached="$CACHE_ROOT/temporal-cli/$want/temporal"
local_copy="$TOOLS_DIR/temporal"

version_ok() { "$1" --version 2>/dev/null | grep -q "temporal version"; }

if [[ -n "${TEMPORAL_CLI_PATH:-}" ]]; then
  [[ -x "$TEMPORAL_CLI_PATH" ]] || die "TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH is not an executable file"
  echo "$TEMPORAL_CLI_PATH"; exit 0
fi
if command -v temporal >/dev/null 2>&1 && version_ok "$(command -v temporal)"; then
  command -v temporal; exit 0
fi
if [[ -x "$local_copy" ]] && version_ok "$local_copy"; then
  echo "$local_copy"; exit 0
fi
if [[ ! -x "$cached" ]]; then
  command -v go >/dev/null 2>&1 || die "no Temporal CLI found. Install it (https://docs.temporal.io/cli), set TEMPORAL_CLI_PATH, or install Go >= 1.25 so this script can build it."
  log "building Temporal CLI v$want with Go (several minutes, once per machine)…"
  mkdir -p "$(dirname "$cached")"
  tmpbin="$(mktemp -d)"
  GOBIN="$tmpbin" GOFLAGS="-trimpath" go install "github.com/temporalio/cli/cmd/temporal@v$want" >&2
  mv "$tmpbin/temporal" "$cached"
  rmdir "$tmpbin"
fi
mkdir -p "$TOOLS_DIR"
ln -sf "$cached" "$local_copy"
echo "$local_copy"
