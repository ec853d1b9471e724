# syntax=docker/dockerfile:1
# The ess-scale-in worker image: compiled JavaScript (npm run build → dist/) and a workflow bundle
# built once here, so the container neither transpiles TypeScript nor runs webpack at start.
# Not built in CI (no Docker engine there); test/unit/compose.test.ts checks this file against the code.
#
#   docker build -t ess-scale-in .
#   docker run --env-file .env ess-scale-in                    # the worker
#   docker run --rm ess-scale-in ess-scale-in --help          # the CLI, same image
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# ---- build: all dependencies, compile, bundle the workflows ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && node dist/worker.js --write-workflow-bundle dist/workflow-bundle.js

# ---- deps: production dependencies only ----
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- runtime ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js \
    METRICS_PORT=9464 \
    LOG_FORMAT=json
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# `ess-scale-in` on the PATH runs the compiled CLI (worker, emulator, start, status, …).
RUN printf '#!/bin/sh\nexec node /app/dist/cli.js "$@"\n' > /usr/local/bin/ess-scale-in \
 && chmod 0755 /usr/local/bin/ess-scale-in
# The node image's unprivileged user (uid 1000); nothing in /app is writable by it.
USER node
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "dist/observability/healthcheck.js"]
# The SDK handles SIGTERM: no new tasks, running activities get 30 s (shutdownGraceTime).
STOPSIGNAL SIGTERM
CMD ["node", "dist/worker.js"]
