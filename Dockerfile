# The classops image: one image runs every command (run, gallery, validate, pr-report, ...).
#   docker build -t ghcr.io/your-org/classops:0.1.0 .
# test/integration/image.test.ts reproduces the final stage without a container engine:
# the packed project, production dependencies from the lock file, each command run from there.

# Build: every dependency from the lock file, TypeScript compiled.
# npm install, not npm ci: both follow package-lock.json, but npm ci refuses this lock
# ("Missing: @unrs/resolver-binding-android-arm-eabi@ from lock file": other platforms'
# optional binaries, absent from the registry mirror the lock was made with). Switch to
# npm ci once the lock holds them; test/integration/image.test.ts checks the versions.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY schemas ./schemas
COPY scripts/compile-schemas.mjs ./scripts/
# npm run build: tsc, then the schema validators compiled ahead of time (dist/validators/).
RUN npm run build

# Production dependencies only, at the lock file's versions, no install scripts.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-bookworm-slim
# git for the git source; tini as PID 1 forwards SIGTERM to node and reaps git's children.
RUN apt-get update \
  && apt-get install -y --no-install-recommends git ca-certificates openssh-client tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY schemas ./schemas
COPY students ./students
COPY package.json README.md ./
# The root file system can be read-only: classops writes only under its working directory
# (.classops-cache, out/) and HOME, both /work, an emptyDir in the chart.
ENV NODE_ENV=production HOME=/work
WORKDIR /work
# Numeric, so Kubernetes can check runAsNonRoot without reading /etc/passwd.
USER 10001:10001
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/cli.js"]
CMD ["run"]
