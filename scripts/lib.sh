# Shared helpers for the provisioning scripts. Sourced, not run.
set -euo pipefail

PROJECT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="$PROJECT_ROOT/.tools"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/ess-scale-in"

TEMPORAL_CLI_VERSION="1.5.1"
JAVA_TEST_SERVER_VERSION="$(sed -n 's:.*<temporal.version>\(.*\)</temporal.version>.*:\1:p' "$PROJECT_ROOT/tools/java-test-server/pom.xml")"

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }
