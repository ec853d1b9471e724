#!/usr/bin/env bash
# One-time set-up on a fresh machine: npm packages, the Temporal CLI, the Java test server.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$PROJECT_ROOT"
if [[ ! -d node_modules/@temporalio/worker ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "installing npm packages (npm ci)…"
  npm ci --no-audit --no-fund >&2
fi
cli="$(bash scripts/ensure-temporal-cli.sh)"
log "Temporal CLI: $cli ($("$cli" --version))"
tss="$(bash scripts/ensure-java-test-server.sh)"
log "Java test server wrapper: $tss"
