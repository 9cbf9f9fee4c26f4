# The classops controller image. Build: docker build -t ghcr.io/your-org/classops:0.1.0 .
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY schemas ./schemas
COPY scripts/compile-schemas.mjs ./scripts/
# npm run build: tsc, then the schema validators compiled ahead of time (dist/validators/).
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates openssh-client && rm -rf /var/lib/apt/lists/*
WORKDIR /work
COPY --from=build /app/node_modules /app/node_modules
COPY --from=build /app/dist /app/dist
COPY --from=build /app/schemas /app/schemas
COPY package.json /app/
USER 10001
ENTRYPOINT ["node", "/app/dist/cli.js"]
CMD ["run"]
