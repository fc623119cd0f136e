# Vigie container image. The build stage runs scripts/build-release.sh, the same script CI runs
# (scripts/check-release.sh) to prove this recipe without a Docker engine.
#
#   docker build -t vigie .
#   docker run --rm vigie demo                       # no config needed
#   docker run -d --read-only --tmpfs /tmp -v vigie-data:/data \
#     -v "$PWD/config:/config:ro" -p 127.0.0.1:9464:9464 vigie   # see compose.yaml

# ---- build: compilers for better-sqlite3, npm ci, TypeScript, then production dependencies only
FROM node:22-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN bash scripts/build-release.sh /src /app

# ---- runtime: Node LTS, no compilers, no npm run at start, non-root, read-only root filesystem
FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    VIGIE_LISTEN=0.0.0.0:9464
RUN groupadd --system --gid 10001 vigie \
 && useradd --system --uid 10001 --gid vigie --home-dir /data --no-create-home --shell /usr/sbin/nologin vigie \
 && mkdir -p /data /config \
 && chown vigie:vigie /data
COPY --from=build /app /app
RUN ln -s /app/bin/vigie.js /usr/local/bin/vigie
# The state file lives in /data (a volume); the config is mounted read-only at /config; /tmp is a
# tmpfs. Nothing else is written, so the container runs with --read-only. With no state.path in
# the config, the default is <working dir>/data/vigie.db, i.e. /data/vigie.db from /.
WORKDIR /
VOLUME ["/data"]
USER vigie:vigie
EXPOSE 9464
# No --start-period: /readyz itself gives each stream 3 intervals after start to complete a run.
HEALTHCHECK --interval=60s --timeout=10s --retries=3 \
  CMD ["node", "/app/scripts/healthcheck.mjs"]
ENTRYPOINT ["vigie"]
CMD ["run", "-c", "/config/vigie.yml"]
