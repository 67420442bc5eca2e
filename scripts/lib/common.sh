# Shared by scripts/run, scripts/test, scripts/bench and scripts/verify: paths, logging and the install step.
# Sourced, not executed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
# Two glibc malloc arenas for the service (and everything else started from here) instead of up to eight per core:
# the native part of the API's memory otherwise keeps growing under load (docs/adr/0030-memory-bounds.md). It must be
# in the environment when the process starts; a value already set wins.
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"

say() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

need() { command -v "$1" >/dev/null 2>&1 || die "$1 is required but not installed ($2)"; }

# Installs Debian packages that are missing (CI machines start without them). Needs root or sudo.
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo -n"
  # Some sandboxes leave /dev/null as 0644, which breaks apt's unprivileged download user: restore the usual mode.
  [ -w /dev/null ] && [ "$(stat -c %a /dev/null)" != 666 ] && $sudo chmod 666 /dev/null
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# npm ci when node_modules is missing or older than package-lock.json; dotnet restore; compile the contract.
setup() {
  need node "Node.js 20"
  need npm "npm"
  need dotnet ".NET SDK 10 (see global.json)"
  local stamp=node_modules/.traceability-lock
  if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
    say "npm ci (Hardhat, solc-js, OpenZeppelin, ethers)"
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
    cp package-lock.json "$stamp"
  fi
  say "compiling contracts (solc-js from node_modules, offline)"
  ./node_modules/.bin/hardhat compile --quiet
  say "dotnet restore"
  dotnet restore Traceability.sln --nologo -v quiet >/dev/null
}

# A free TCP port on 127.0.0.1.
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
