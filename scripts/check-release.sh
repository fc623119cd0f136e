#!/usr/bin/env bash
# Proves the image recipe without a Docker engine (CI, as root, on a clean machine):
#   1. copies the build context (git's files minus .dockerignore) to a scratch folder,
#   2. runs scripts/build-release.sh there, as the Dockerfile's build stage does,
#   3. makes the release read-only (owned by root) and gives an unprivileged user only a data
#      folder, like the container's read-only root filesystem with a /data volume and /config:ro,
#   4. runs `vigie demo`, `vigie check-config`, `vigie once` and `vigie run` + the HEALTHCHECK
#      script against it as that user, and checks that nothing outside the data folder is writable.
#
#   scripts/check-release.sh [--keep]
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
keep=${1:-}
start=$(date +%s)

scratch=$(mktemp -d /tmp/vigie-release.XXXXXX)
chmod 755 "$scratch"
cleanup() {
  if [ -n "${run_pid:-}" ]; then kill "$run_pid" 2>/dev/null || true; fi
  if [ "$keep" = "--keep" ]; then echo "check-release: kept $scratch"; else rm -rf "$scratch"; fi
}
trap cleanup EXIT

# ---- 1. the build context
ignored=$(grep -v '^\s*#' .dockerignore | grep -v '^\s*$' | tr '\n' '|' | sed 's/|$//')
mkdir "$scratch/src"
git ls-files -co --exclude-standard -z \
  | grep -zvE "^(${ignored//\*/[^/]*})(/|$)" \
  | xargs -0 cp --parents -t "$scratch/src"

# ---- 2. the build stage's recipe (VIGIE_PREBUILT_RELEASE=DIR skips it: only for iterating on this script)
if [ -n "${VIGIE_PREBUILT_RELEASE:-}" ]; then
  echo "check-release: NOT building, reusing $VIGIE_PREBUILT_RELEASE" >&2
  cp -a "$VIGIE_PREBUILT_RELEASE" "$scratch/app"
else
  bash scripts/build-release.sh "$scratch/src" "$scratch/app"
fi
echo "check-release: built in $(( $(date +%s) - start )) s"

# ---- 3. an unprivileged user who may write only the data folder
user=vigie-ci
if ! id "$user" >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then useradd --system --no-create-home --shell /usr/sbin/nologin "$user"; else user=$(id -un); fi
fi
as_user() {
  if [ "$(id -u)" = 0 ]; then
    exec_prefix setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups --reset-env -- env HOME="$scratch/data" PATH="$PATH" VIGIE_LOG_LEVEL=warn "$@"
  else
    exec_prefix env HOME="$scratch/data" VIGIE_LOG_LEVEL=warn "$@"
  fi
}
exec_prefix() { "$@"; }
mkdir -p "$scratch/data" "$scratch/config"
if [ "$(id -u)" = 0 ]; then
  chown -R root:root "$scratch/app" "$scratch/config"
  chown "$user" "$scratch/data"
fi
chmod -R a+rX,go-w "$scratch/app" "$scratch/config"
cat > "$scratch/config/vigie.yml" <<YAML
organisation: { name: Release check, domains: [party.example] }
state: { path: $scratch/data/vigie.db }
connectors:
  - { name: demo, type: file, paths: [$scratch/app/config/demo/microsoft-365-audit.jsonl, $scratch/app/config/demo/google-reports.jsonl, $scratch/app/config/demo/dovecot.log], schedule: "*/5 * * * *" }
receivers:
  - { name: console, type: console }
server: { listen: "127.0.0.1:0" }
YAML
chmod 444 "$scratch/config/vigie.yml"
vigie="$scratch/app/bin/vigie.js"
cd "$scratch/data"

fail() { echo "check-release: FAILED: $*" >&2; exit 1; }

# ---- 4. what the container does
as_user node "$vigie" demo > "$scratch/demo.out" || fail "vigie demo exited $?"
grep -q 'Vigie demo:' "$scratch/demo.out" || fail "vigie demo printed no header"
grep -qE '^(CRITICAL|HIGH|MEDIUM|LOW)|critical|high' "$scratch/demo.out" || fail "vigie demo printed no alert"
echo "check-release: vigie demo ok ($(grep -c . "$scratch/demo.out") lines)"

as_user node "$vigie" check-config -c "$scratch/config/vigie.yml" || fail "check-config rejected the release config"
as_user node "$vigie" check-config -c "$scratch/app/config/demo/vigie.yml" >/dev/null || fail "check-config rejected the demo config"
echo "check-release: vigie check-config ok"

as_user node "$vigie" once -c "$scratch/config/vigie.yml" > "$scratch/once.out" 2>&1 || { cat "$scratch/once.out" >&2; fail "vigie once exited non-zero"; }
test -s "$scratch/data/vigie.db" || fail "vigie once wrote no state file in the data folder"
echo "check-release: vigie once ok (state file $(du -h "$scratch/data/vigie.db" | cut -f1))"

# The daemon with its health server; the HEALTHCHECK script must see it ready, then SIGTERM = exit 0.
port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
# exec: the background job's pid is the daemon itself, so SIGTERM reaches it.
(exec_prefix() { exec "$@"; }; as_user env VIGIE_LISTEN="127.0.0.1:$port" node "$vigie" run -c "$scratch/config/vigie.yml") 2> "$scratch/run.log" &
run_pid=$!
ready=""
for _ in $(seq 1 100); do
  if as_user env VIGIE_LISTEN="127.0.0.1:$port" node "$scratch/app/scripts/healthcheck.mjs" 2>/dev/null; then ready=yes; break; fi
  sleep 0.2
done
[ -n "$ready" ] || { cat "$scratch/run.log" >&2; fail "the HEALTHCHECK never passed"; }
node -e "fetch('http://127.0.0.1:$port/metrics').then(r=>r.text()).then(t=>{if(!t.includes('vigie_events_ingested_total'))process.exit(1)})" || fail "/metrics lacks vigie_events_ingested_total"
kill -TERM "$run_pid"
wait "$run_pid" || fail "vigie run did not exit 0 on SIGTERM"
run_pid=""
echo "check-release: vigie run ok (HEALTHCHECK passed, /metrics served, clean SIGTERM)"

# Nothing but the data folder is writable by the user.
for d in "$scratch/app" "$scratch/app/node_modules" "$scratch/app/dist" "$scratch/config"; do
  if as_user sh -c "touch '$d/.write-test'" 2>/dev/null; then fail "$d is writable by the runtime user"; fi
done
echo "check-release: only the data folder is writable"

cd "$repo"
echo "check-release: passed in $(( $(date +%s) - start )) s"
