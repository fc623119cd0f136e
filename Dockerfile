# Placeholder image recipe; the operations issue finishes it (multi-stage, non-root, read-only root FS).
FROM node:22-bookworm-slim
WORKDIR /app
COPY . .
RUN npm ci && npm prune --omit=dev
ENTRYPOINT ["node", "bin/vigie.js"]
CMD ["run", "-c", "/config/vigie.yml"]
