# syntax=docker/dockerfile:1
# The Conclave server image: `docker build -t conclave:0.1.0 .` (docs/deployment.md).
#
# Two stages. `build` installs the locked dependencies with `npm ci` (whose prepare step
# compiles TypeScript into dist/) and then drops the dev dependencies; `runtime` gets only
# dist/, bin/, the production node_modules and package.json, runs as an unprivileged user,
# and keeps its data on the /data volume.

ARG NODE_IMAGE=node:20-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
# lmdb and msgpackr-extract ship prebuilt binaries for linux x64 and arm64; the toolchain
# is only the fallback for other platforms, and stays in this stage.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# The sources must be present for npm ci: its prepare step runs tsc (see .dockerignore for
# what is left out).
COPY . .
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund \
 && npm prune --omit=dev --no-audit --no-fund \
 && test -f dist/cli/main.js

FROM ${NODE_IMAGE} AS runtime
# tini is PID 1: it forwards SIGTERM to the server (node as PID 1 ignores signals it has no
# handler for) and reaps zombies.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 conclave \
 && useradd --system --uid 10001 --gid conclave --home-dir /data --no-create-home --shell /usr/sbin/nologin conclave \
 && mkdir -p /data /etc/conclave \
 && chown conclave:conclave /data
WORKDIR /opt/conclave
ENV NODE_ENV=production
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/bin ./bin
RUN ln -s /opt/conclave/bin/conclave /usr/local/bin/conclave
# A single-node default; compose and Kubernetes mount their own at the same path.
COPY deploy/docker/conclave.yaml /etc/conclave/conclave.yaml
# Numeric, so Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
VOLUME ["/data"]
EXPOSE 7070 7100
# Node 20 has fetch; the slim image has no curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:7070/v1/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "conclave", "server", "--config", "/etc/conclave/conclave.yaml"]
# Extra server flags go after the image name, e.g. `docker run conclave:0.1.0 --insecure`.
CMD []
