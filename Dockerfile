# syntax=docker/dockerfile:1
#
# One image recipe for every service of the monorepo:
#
#   docker build --build-arg SERVICE=orders-service -t market/orders-service .
#
# SERVICE is the workspace folder: users-service, listings-service, orders-service,
# payments-service or api-gateway. The image runs `node dist/main.js` in /app/$SERVICE as the
# non-root `node` user. The api-gateway image also holds the built storefront (storefront/dist),
# which it serves at /. The base image is Debian (glibc) because bcrypt's prebuilt binaries need
# it; on alpine it would have to be compiled.

# ---- manifests: the only inputs of `npm ci`, so its layers are reused until a dependency changes
FROM node:24-bookworm-slim AS manifests
WORKDIR /app
COPY package.json package-lock.json ./
COPY common/package.json common/
COPY users-service/package.json users-service/
COPY listings-service/package.json listings-service/
COPY orders-service/package.json orders-service/
COPY payments-service/package.json payments-service/
COPY api-gateway/package.json api-gateway/
COPY storefront/package.json storefront/

# ---- build: all dependencies (TypeScript is a devDependency), then compile common and SERVICE
FROM manifests AS build
# Before ARG SERVICE, so this layer is one and the same for all five images.
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json ./
COPY common/tsconfig.json common/
COPY common/src common/src
ARG SERVICE
RUN test -n "$SERVICE" || { echo 'Pass --build-arg SERVICE=<workspace folder>, e.g. orders-service' >&2; exit 1; }
COPY ${SERVICE}/tsconfig.json ${SERVICE}/
COPY ${SERVICE}/src ${SERVICE}/src
RUN npx tsc -b "$SERVICE" && test -f "$SERVICE/dist/main.js"
# The storefront (typechecked against common's contracts, bundled by esbuild), for the gateway only;
# the other images get an empty folder, as a COPY below cannot depend on SERVICE.
COPY storefront/tsconfig.json storefront/build.mjs storefront/index.html storefront/
COPY storefront/src storefront/src
RUN if [ "$SERVICE" = api-gateway ]; then npm run build -w storefront && test -f storefront/dist/app.js; else mkdir -p storefront/dist; fi

# ---- prod-deps: runtime dependencies only. Every runtime dependency is declared in the root
# package.json, hence --include-workspace-root: `-w common -w $SERVICE` alone installs nothing but
# the two workspace links. The selected workspaces are linked as node_modules/@market/*.
FROM manifests AS prod-deps
ARG SERVICE
RUN npm ci --omit=dev --include-workspace-root -w common -w "$SERVICE" --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime
FROM node:24-bookworm-slim AS runtime
ARG SERVICE
ENV NODE_ENV=production
LABEL org.opencontainers.image.title="market/${SERVICE}" \
      org.opencontainers.image.description="market ${SERVICE}"
WORKDIR /app
# Owned by root and only readable by `node`: the process cannot rewrite its own code.
COPY package.json ./
COPY common/package.json common/
COPY ${SERVICE}/package.json ${SERVICE}/
COPY --from=prod-deps /app/node_modules node_modules
COPY --from=build /app/common/dist common/dist
COPY --from=build /app/${SERVICE}/dist ${SERVICE}/dist
COPY --from=build /app/storefront/dist storefront/dist
WORKDIR /app/${SERVICE}
USER node
# Exec form: node is PID 1 and receives SIGTERM itself (the services shut down gracefully on it).
# Each service's port and /healthz probe differ, so the health checks live in docker-compose.yml
# and in the Kubernetes probes rather than here.
CMD ["node", "dist/main.js"]
