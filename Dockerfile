# ESKIT's images: one build, one target per service, and one for the web console.
#   docker build --target event-store -t eskit/event-store .
#   (likewise crud-store, metrics-consumer, jetstream-bridge, console)
# compose.yaml builds all five (`make deploy`). The build stage installs every dependency and bundles each service
# with esbuild (deploy/image/bundle.ts) into one ES module; the service images hold only that bundle, plus, for the
# Event Store, its SQL migrations and PGlite, and for every service koffi (the runtime packages that cannot be
# bundled: they load files beside their own modules). The same step builds the console's static files with Vite and
# bundles the console's server; the console image holds those two and nothing else. No node_modules of the build, no
# TypeScript, no tsx. deploy/test/ checks this file and runs the bundles it copies (no Docker engine there).
# The code runs on Node.js 20.19+; the images use the current LTS.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
# Dependencies first, so that a change of the sources does not reinstall them.
COPY package.json package-lock.json .npmrc ./
COPY gen/package.json gen/
COPY server-kit/package.json server-kit/
COPY event-store/package.json event-store/
COPY crud-store/package.json crud-store/
COPY metrics-consumer/package.json metrics-consumer/
COPY client/package.json client/
COPY cli/package.json cli/
COPY test-kit/package.json test-kit/
COPY console/package.json console/
COPY jetstream-bridge/package.json jetstream-bridge/
# npm ci runs the root's `prepare` (cli/scripts/bundle.mjs), which bundles the eskit command when its sources are there
# (here they are not yet: it says so and does nothing; the images do not hold the command).
COPY cli/scripts/ cli/scripts/
RUN npm ci --no-audit --no-fund
COPY . .
RUN node --import tsx deploy/image/bundle.ts /out

# What every image shares: a non-root user and production mode.
FROM ${NODE_IMAGE} AS base
ENV NODE_ENV=production
WORKDIR /app
USER node

# What the service images share besides.
FROM base AS runtime
# glibc malloc settings for memory freed after a burst of clients: see
# server-kit/src/memory/allocator-env.ts (a unit test keeps the two the same).
ENV MALLOC_ARENA_MAX=2
# koffi and its binary, with which each service trims its C heap after a crowd of clients leaves
# (server-kit/src/memory/malloc-trim.ts).
COPY --from=build /out/node_modules/ /app/node_modules/

FROM runtime AS event-store
COPY --from=build /out/services/event-store/ /app/services/event-store/
COPY --from=build /out/migrations/ /app/migrations/
# Without DATABASE_URL the store runs on embedded PGlite, in a directory the node user may write.
ENV PORT=8081 ESKIT_DATA_DIR=/home/node/data
EXPOSE 8081
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=6 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "services/event-store/main.mjs"]

FROM runtime AS crud-store
COPY --from=build /out/services/crud-store/ /app/services/crud-store/
ENV PORT=8082
EXPOSE 8082
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=6 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "services/crud-store/main.mjs"]

FROM runtime AS metrics-consumer
COPY --from=build /out/services/metrics-consumer/ /app/services/metrics-consumer/
ENV PORT=8083
EXPOSE 8083
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=6 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "services/metrics-consumer/main.mjs"]

# The JetStream bridge: the Application Log onto a NATS JetStream stream (jetstream-bridge/README.md). Its stop waits
# for the publish in flight and the final offset save: Compose gives it the time (stop_grace_period).
FROM runtime AS jetstream-bridge
COPY --from=build /out/services/jetstream-bridge/ /app/services/jetstream-bridge/
ENV PORT=8084
EXPOSE 8084
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=6 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "services/jetstream-bridge/main.mjs"]

# The web console: static files and the small server that serves them with /config.json (the stores' URLs as the
# browser reaches them: CONSOLE_EVENT_STORE_URL, CONSOLE_CRUD_STORE_URL) and /healthz.
FROM base AS console
COPY --from=build /out/console/ /app/console/
ENV PORT=8080 CONSOLE_ROOT=/app/console/dist
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=6 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "console/main.mjs"]
