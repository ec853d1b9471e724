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
# Debian's Chromium, for the Temporal UI browser test (test/integration/ui.test.ts drives it with
# playwright-core; Playwright's own browser download does not work offline).
if [[ -x /usr/bin/chromium ]]; then
  log "Chromium: $(/usr/bin/chromium --version 2>/dev/null | head -n1)"
elif command -v apt-get >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]]; then
  log "installing Debian's chromium (apt-get)…"
  apt-get update >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >&2
  [[ -x /usr/bin/chromium ]] || die "apt-get installed chromium, but /usr/bin/chromium is missing"
  log "Chromium: $(/usr/bin/chromium --version 2>/dev/null | head -n1)"
else
  log "Chromium is missing: install Debian's 'chromium' package as root (apt-get install -y chromium) so /usr/bin/chromium exists; the UI test fails without it"
fi
# Debian's PostgreSQL server (15 on bookworm; docker-compose.yml runs 16), for the production topology
# (src/devtools/production-temporal.ts, `npm run test:production`): initdb and postgres from /usr/lib/postgresql.
if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  log "PostgreSQL: $(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
elif command -v apt-get >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]]; then
  log "installing Debian's postgresql (apt-get)…"
  apt-get update >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql >&2
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || die "apt-get installed postgresql, but /usr/lib/postgresql/*/bin/initdb is missing"
else
  log "PostgreSQL is missing: install Debian's 'postgresql' package as root (apt-get install -y postgresql); npm run test:production needs it"
fi
