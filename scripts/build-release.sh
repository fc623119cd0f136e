#!/usr/bin/env bash
# The one recipe that turns a source tree into a runnable Vigie release folder. The Dockerfile's
# build stage runs exactly this script, and CI runs it too (scripts/check-release.sh) in a clean
# copy, so the image recipe is proven on machines that have no Docker engine.
#
#   scripts/build-release.sh SRC_DIR OUT_DIR
#
# SRC_DIR: a source tree (package.json, package-lock.json, tsconfig.json, src/, connectors/, bin/,
#          rules/, config/). It is built in place: node_modules/ and dist/ are created there.
# OUT_DIR: created (must not exist yet); receives only what the runtime needs: production
#          node_modules (better-sqlite3 compiled), dist/, bin/, rules/, config/, the health check.
# Needs node + npm, and python3, make and g++ for better-sqlite3's native build.
set -euo pipefail

src=${1:?usage: build-release.sh SRC_DIR OUT_DIR}
out=${2:?usage: build-release.sh SRC_DIR OUT_DIR}
src=$(cd "$src" && pwd)
if [ -e "$out" ]; then echo "build-release: $out already exists" >&2; exit 1; fi

cd "$src"
echo "build-release: node $(node --version), npm $(npm --version), in $src"

# 1. Every dependency, exactly as locked; `prepare` compiles TypeScript to dist/ (and any build
#    step hooked into it, such as data tables). better-sqlite3 compiles here: never --ignore-scripts.
npm ci --no-audit --no-fund
test -f dist/src/cli.js || { echo "build-release: npm ci did not build dist/" >&2; exit 1; }

# 2. The runtime keeps production dependencies only.
npm prune --omit=dev --no-audit --no-fund

# 3. A smoke test that opens a database: a native module that loads can still crash on first use.
node -e "const D=require('better-sqlite3'); const db=new D(':memory:'); db.prepare('select 1').get(); db.close();"

# 4. The release folder.
mkdir -p "$out/scripts"
cp -a package.json package-lock.json node_modules dist bin rules "$out/"
mkdir -p "$out/config"
cp -a config/demo config/vigie.example.yml config/rules.local.example.yml "$out/config/"
cp -a scripts/healthcheck.mjs "$out/scripts/"
# Source maps point at the sources; the runtime does not need them.
find "$out/dist" -name '*.map' -delete
echo "build-release: release in $out ($(du -sh "$out" | cut -f1))"
