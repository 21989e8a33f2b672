# One image for every process of the service; docker-compose.yml picks the command:
#   node dist/apps/api/main.js (default) | node dist/apps/worker/main.js | node dist/scripts/migrate.js
# The last stage (runtime) is the default target; `--target test` builds the test runner instead (the whole
# suite, Redis and Postgres included: the `test` service of docker-compose.yml).
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS base
WORKDIR /app
# No telemetry or notices at install time: npm's funding/audit/update messages off, and no dependency install
# scripts at all (npm ci --ignore-scripts below; none is needed: swc and msgpackr come as prebuilt optional
# packages). That also keeps the analytics postinstall of @scarf/scarf (pulled in by swagger-ui-dist) from
# running; package.json's "scarfSettings", SCARF_ANALYTICS and DO_NOT_TRACK turn it off should it ever run (as
# in a plain `npm ci` outside the image), and .npmrc keeps npm's own notices and audit off there too.
ENV NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    SCARF_ANALYTICS=false \
    DO_NOT_TRACK=1

# Build: every dependency (swc), then compile apps, libs and scripts to dist/.
FROM base AS build
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts
COPY tsconfig.json .swcrc ./
COPY apps ./apps
COPY libs ./libs
COPY scripts ./scripts
COPY bench ./bench
RUN npm run build

# Production dependencies only, installed afresh (not pruned from the build's tree).
FROM base AS prod-deps
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --ignore-scripts

# The test suite (npm test: typecheck, build, unit, integration, e2e and fault tests). The suite starts private
# Redis and Postgres servers from these packages (test/support/global-setup.ts, and the fault tests' own), and the
# dashboard test drives Debian's chromium, so it needs nothing else; it runs as `node` because Postgres refuses to
# run as root.
FROM base AS test
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server postgresql chromium \
 && rm -rf /var/lib/apt/lists/*
RUN chown node:node /app
USER node
COPY --chown=node:node package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts
COPY --chown=node:node bench/package.json bench/package-lock.json ./bench/
RUN npm ci --prefix bench --install-strategy=shallow --ignore-scripts
COPY --chown=node:node . .
CMD ["npm", "test"]

# Runtime: production dependencies, compiled code and migrations, owned by root and run as the unprivileged
# `node` user (the process cannot rewrite its own code).
FROM base AS runtime
ENV NODE_ENV=production
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist/apps ./dist/apps
COPY --from=build /app/dist/libs ./dist/libs
COPY --from=build /app/dist/scripts ./dist/scripts
COPY migrations ./migrations
COPY package.json ./
USER node
EXPOSE 3000
CMD ["node", "dist/apps/api/main.js"]
