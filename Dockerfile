# legacy-user-gateway: the production image (a sidecar next to each legacy client).
#
#   docker build -t legacy-user-gateway:<version> .
#   docker run --rm --network host --stop-timeout 15 \
#     -e V4_BASE_URL=https://v4.example.com -e V4_API_KEY_FILE=/run/secrets/v4_api_key \
#     -v /path/to/key:/run/secrets/v4_api_key:ro legacy-user-gateway:<version>
#
# Three stages: `deps` installs the production dependencies only, `build` compiles the TypeScript
# with the dev dependencies, and the runtime stage copies node_modules from `deps` and dist/ from
# `build`. The runtime image holds no dev dependency, no source, no npm cache and no build argument.
#
# BUILD_CA_CERT (optional, build stages only): the PEM text of a CA that `npm ci` must trust, for
# builds behind a TLS-inspecting proxy. It is not a secret (a CA certificate is public) and it never
# reaches the runtime image: only the `deps` and `build` stages declare it.

# ---- production dependencies --------------------------------------------------------------------
FROM node:24-slim AS deps
WORKDIR /app
ARG BUILD_CA_CERT=""
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency runs an install script (all are plain JavaScript).
RUN if [ -n "$BUILD_CA_CERT" ]; then printf '%s\n' "$BUILD_CA_CERT" > /tmp/build-ca.pem && export NODE_EXTRA_CA_CERTS=/tmp/build-ca.pem; fi \
 && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -f /tmp/build-ca.pem

# ---- compile --------------------------------------------------------------------------------------
FROM node:24-slim AS build
WORKDIR /app
ARG BUILD_CA_CERT=""
COPY package.json package-lock.json ./
RUN if [ -n "$BUILD_CA_CERT" ]; then printf '%s\n' "$BUILD_CA_CERT" > /tmp/build-ca.pem && export NODE_EXTRA_CA_CERTS=/tmp/build-ca.pem; fi \
 && npm ci --ignore-scripts --no-audit --no-fund \
 && rm -f /tmp/build-ca.pem
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# Only src/ is in the context (see .dockerignore), so this compiles the gateway and the simulator.
RUN npx tsc -p tsconfig.build.json

# ---- runtime --------------------------------------------------------------------------------------
FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
# Owned by root, read-only to the user the gateway runs as.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
# The gateway finds config/default.json by walking up from dist/src/: it must sit next to dist/.
COPY config ./config

# The unprivileged `node` user of the base image (uid/gid 1000), numeric so that Kubernetes'
# runAsNonRoot can verify it.
USER 1000:1000

# PORT (legacy traffic) and ADMIN_PORT (/healthz, /readyz, /metrics); defaults of config/default.json.
EXPOSE 8080 9090

# No curl in the slim image: node itself asks /healthz. It follows ADMIN_PORT when that is set
# (set ADMIN_PORT rather than adminPort in a CONFIG_FILE, or the check looks at the wrong port).
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "const p=(process.env.ADMIN_PORT||'').trim()||'9090';require('http').get({host:'127.0.0.1',port:p,path:'/healthz',timeout:2000},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1)).on('timeout',()=>process.exit(1))"]

# node is PID 1, started directly (exec form: no shell, no npm in between), so SIGTERM reaches the
# gateway's own handler, which drains calls in flight for up to SHUTDOWN_GRACE_MS (10 s) and exits 0.
# Give the runtime more than that before it kills: `docker run --stop-timeout 15`, compose
# `stop_grace_period: 15s`, Kubernetes `terminationGracePeriodSeconds: 30`.
STOPSIGNAL SIGTERM
CMD ["node", "--max-semi-space-size=8", "dist/src/server.js"]
