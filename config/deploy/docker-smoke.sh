#!/usr/bin/env bash
# npm run docker:smoke — builds the production image and proves it works as a sidecar:
#   the V4 simulator (a container of the same image, other command) and the gateway, both with
#   --network host on free ports; waits for the image's HEALTHCHECK to report healthy; one legacy
#   call of each kind; non-root; SIGTERM drains and exits 0. Prints image size, time to healthy
#   and the user id. Exits non-zero on any failure.
# With no Docker daemon it says so and exits 0 without claiming a pass.
#
# Settings (all optional):
#   SMOKE_IMAGE        tag to build and test (legacy-user-gateway:smoke)
#   SMOKE_BUILD_CA_FILE a PEM file of CAs that `npm ci` in the build must trust (TLS-inspecting
#                      proxy). Default: the locally added CAs in /usr/local/share/ca-certificates/.
#   SMOKE_KEEP=1       leave the containers behind for a look (removed by default)
set -euo pipefail

cd "$(dirname "$0")/../.."
IMAGE=${SMOKE_IMAGE:-legacy-user-gateway:smoke}
RUN_ID="lug-smoke-$$"
SIM="$RUN_ID-v4"
GW="$RUN_ID-gateway"
API_KEY="smoke-key-$$"

say() { printf 'docker-smoke: %s\n' "$*"; }
fail() {
  printf 'docker-smoke: FAIL: %s\n' "$*" >&2
  if docker inspect "$GW" >/dev/null 2>&1; then
    printf -- '--- gateway logs (last 30 lines) ---\n' >&2
    docker logs --tail 30 "$GW" >&2 2>&1 || true
  fi
  exit 1
}

if ! command -v docker >/dev/null 2>&1; then
  say "SKIPPED: no docker command on this machine; nothing was built or tested (this is not a pass)."
  exit 0
fi
if ! docker info >/dev/null 2>&1; then
  say "SKIPPED: no Docker daemon answers (docker info failed); nothing was built or tested (this is not a pass)."
  exit 0
fi
command -v curl >/dev/null 2>&1 || fail "curl is needed on the host for the legacy calls"

WORK=$(mktemp -d)
PROXY_PID=""
cleanup() {
  [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null
  if [ "${SMOKE_KEEP:-0}" != 1 ]; then
    docker rm -f "$GW" "$SIM" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# ---- build ----------------------------------------------------------------------------------------
docker image inspect node:24-slim >/dev/null 2>&1 ||
  say "note: no local node:24-slim; where no registry is reachable build it first: bash ../shared/tools/node-base-image.sh"
build_args=(--network host -t "$IMAGE")
ca_file=${SMOKE_BUILD_CA_FILE:-}
if [ -z "$ca_file" ] && compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  cat /usr/local/share/ca-certificates/*.crt >"$WORK/build-ca.pem"
  ca_file="$WORK/build-ca.pem"
fi
if [ -n "$ca_file" ]; then
  say "build trusts the extra CAs in ${SMOKE_BUILD_CA_FILE:-/usr/local/share/ca-certificates/*.crt} (BUILD_CA_CERT)"
  build_args+=(--build-arg "BUILD_CA_CERT=$(cat "$ca_file")")
fi
say "building $IMAGE"
build_start=$(date +%s)
docker build "${build_args[@]}" . >"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log" >&2; fail "docker build failed"; }
say "built in $(($(date +%s) - build_start)) s"

# Nothing secret in the image: no key in its environment, no CA text in its history.
if docker image inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$IMAGE" | grep -Eq '^V4_API_KEY'; then
  fail "the image sets V4_API_KEY* in its environment"
fi
if docker history --no-trunc "$IMAGE" | grep -q 'BEGIN CERTIFICATE'; then
  fail "the build CA reached the runtime image's history"
fi

# The compose example validates, where a compose implementation is installed.
compose_file=config/deploy/docker-compose.yml
if docker compose version >/dev/null 2>&1; then
  docker compose -f "$compose_file" config -q || fail "$compose_file does not validate (docker compose config)"
  say "ok  $compose_file validates (docker compose config)"
elif command -v docker-compose >/dev/null 2>&1; then
  docker-compose -f "$compose_file" config -q || fail "$compose_file does not validate (docker-compose config)"
  say "ok  $compose_file validates (docker-compose $(docker-compose version --short 2>/dev/null) config)"
else
  say "note: no docker compose / docker-compose here: $compose_file not validated (the unit test parses it)"
fi

# ---- free ports -----------------------------------------------------------------------------------
free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})"
}
SIM_PORT=$(free_port)
PORT=$(free_port)
ADMIN_PORT=$(free_port)
while [ "$PORT" = "$SIM_PORT" ]; do PORT=$(free_port); done
while [ "$ADMIN_PORT" = "$PORT" ] || [ "$ADMIN_PORT" = "$SIM_PORT" ]; do ADMIN_PORT=$(free_port); done
V4_PORT=$(free_port)
while [ "$V4_PORT" = "$PORT" ] || [ "$V4_PORT" = "$SIM_PORT" ] || [ "$V4_PORT" = "$ADMIN_PORT" ]; do V4_PORT=$(free_port); done
say "ports: simulator $SIM_PORT (behind a delay proxy on $V4_PORT), gateway $PORT, admin $ADMIN_PORT"

# ---- V4 simulator (same image, other command) -----------------------------------------------------
docker run -d --name "$SIM" --network host --no-healthcheck \
  -e SIM_HOST=127.0.0.1 -e SIM_PORT="$SIM_PORT" -e SIM_API_KEYS="$API_KEY" \
  "$IMAGE" node dist/src/v4-simulator/cli.js >/dev/null || fail "could not start the simulator"
for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$SIM_PORT/" && break
  sleep 0.1
done
curl -s -o /dev/null "http://127.0.0.1:$SIM_PORT/" || { docker logs "$SIM" >&2; fail "the simulator did not come up"; }

# V4 as the gateway sees it: the simulator behind a pass-through proxy on the host that holds any
# request naming "slow" for 2 s, so that a call can be in flight when SIGTERM arrives.
node -e '
const http = require("http");
const [listenPort, simPort] = process.argv.slice(1).map(Number);
http.createServer((req, res) => {
  const forward = () => {
    const up = http.request({ host: "127.0.0.1", port: simPort, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on("error", () => { res.writeHead(502); res.end(); });
    req.pipe(up);
  };
  if (req.url.includes("slow")) setTimeout(forward, 2000); else forward();
}).listen(listenPort, "127.0.0.1");
' "$V4_PORT" "$SIM_PORT" &
PROXY_PID=$!
for _ in $(seq 1 50); do
  curl -s -o /dev/null "http://127.0.0.1:$V4_PORT/" && break
  sleep 0.1
done

# ---- the gateway, its key as a secret file ------------------------------------------------------
printf '%s\n' "$API_KEY" >"$WORK/v4_api_key"
chmod 0444 "$WORK/v4_api_key" # readable by the container's uid 1000, as a Docker/Kubernetes secret is
start_ms=$(date +%s%3N)
# --health-interval=1s only polls faster than the image's 10 s so the time to healthy is measured
# finely; the check itself is the image's HEALTHCHECK command.
docker run -d --name "$GW" --network host --stop-timeout 15 --health-interval=1s \
  -e V4_BASE_URL="http://127.0.0.1:$V4_PORT" \
  -e V4_API_KEY_FILE=/run/secrets/v4_api_key \
  -e PORT="$PORT" -e ADMIN_PORT="$ADMIN_PORT" \
  -v "$WORK/v4_api_key:/run/secrets/v4_api_key:ro" \
  "$IMAGE" >/dev/null || fail "could not start the gateway"

health=starting
for _ in $(seq 1 600); do
  health=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$GW" 2>/dev/null || echo gone)
  running=$(docker inspect -f '{{.State.Running}}' "$GW" 2>/dev/null || echo false)
  [ "$health" = healthy ] && break
  [ "$health" = unhealthy ] && fail "the gateway became unhealthy"
  [ "$running" = true ] || fail "the gateway exited before it became healthy"
  sleep 0.1
done
[ "$health" = healthy ] || fail "the gateway was not healthy within 60 s (status: $health)"
healthy_ms=$(($(date +%s%3N) - start_ms))
say "healthy after ${healthy_ms} ms"

# ---- one legacy call of each kind -----------------------------------------------------------------
BASE="http://127.0.0.1:$PORT"
# call NAME EXPECTED_STATUS EXPECTED_BODY_SUBSTRING curl-args...
call() {
  local name=$1 want=$2 grep_for=$3
  shift 3
  local status
  status=$(curl -sS -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' "$@") || fail "$name: curl failed"
  if [ "$status" != "$want" ]; then
    fail "$name: status $status, wanted $want: $(head -c 400 "$WORK/body")"
  fi
  if [ -n "$grep_for" ] && ! grep -q -- "$grep_for" "$WORK/body"; then
    fail "$name: body lacks $grep_for: $(head -c 400 "$WORK/body")"
  fi
  grep -qi '^deprecation:' "$WORK/headers" || fail "$name: no Deprecation header"
  say "ok  $status  $name"
}
json=(-H 'Content-Type: application/json')
call "POST   /api/management/user" 201 '"cid":"CUST-SMOKE"' \
  -X POST "$BASE/api/management/user" "${json[@]}" -d '{"email":"smoke+test@example.com","name":"Smoke Test","cid":"CUST-SMOKE"}'
grep -qi '^location: /api/management/user/' "$WORK/headers" || fail "POST: no Location header"
call "GET    /api/management/user/{email}" 200 '"email":"smoke+test@example.com"' \
  "$BASE/api/management/user/Smoke%2Btest%40Example.com"
call "GET    /api/management/user?email=" 200 '"cid":"CUST-SMOKE"' \
  "$BASE/api/management/user?email=smoke%2Btest%40example.com"
call "GET    /api/management/user (list)" 200 '"email":"smoke+test@example.com"' \
  "$BASE/api/management/user"
call "PUT    /api/management/user/{email}" 200 '"name":"Smoke Tested"' \
  -X PUT "$BASE/api/management/user/smoke%2Btest%40example.com" "${json[@]}" -d '{"name":"Smoke Tested","cid":"CUST-SMOKE-2"}'
call "DELETE /api/management/user/{email}" 204 '' \
  -X DELETE "$BASE/api/management/user/smoke%2Btest%40example.com"
call "GET    after DELETE" 404 'USER_NOT_FOUND' \
  "$BASE/api/management/user/smoke%2Btest%40example.com"
call "GET    ?service= (rejected by the gateway)" 400 'SERVICE_PARAMETER_REMOVED' \
  "$BASE/api/management/user?service=premium"
ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADMIN_PORT/readyz")
[ "$ready" = 200 ] || fail "/readyz answered $ready"
say "ok  200  admin /readyz"

# ---- non-root -------------------------------------------------------------------------------------
uid=$(docker exec "$GW" id -u) || fail "docker exec id -u failed"
user=$(docker exec "$GW" id -un 2>/dev/null || echo '?')
[ "$uid" != 0 ] || fail "the gateway runs as root"
pid1=$(docker exec "$GW" cat /proc/1/cmdline | tr '\0' ' ')
say "ok  runs as uid $uid ($user); PID 1 is: $pid1"

# ---- SIGTERM with a call in flight: it is answered, then the gateway exits 0 ----------------------
# The lookup of slow@example.com is held 2 s by the proxy; SIGTERM arrives while it waits.
curl -sS -o "$WORK/inflight.body" -w '%{http_code}' "$BASE/api/management/user/slow%40example.com" >"$WORK/inflight.status" 2>"$WORK/inflight.err" &
inflight_pid=$!
sleep 0.5
stop_start=$(date +%s%3N)
docker stop "$GW" >"$WORK/stop.out" 2>&1 &
stop_pid=$!
# While it drains, /readyz says so (Kubernetes takes the pod out of its Services' endpoints).
sleep 0.3
draining=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADMIN_PORT/readyz" || true)
wait "$stop_pid" || fail "docker stop failed: $(cat "$WORK/stop.out")"
stop_ms=$(($(date +%s%3N) - stop_start))
[ "$draining" = 503 ] || fail "/readyz answered '$draining' while draining, wanted 503"
say "ok  503  admin /readyz while draining"
wait "$inflight_pid" || true
inflight=$(cat "$WORK/inflight.status" 2>/dev/null || true)
if [ "$inflight" != 404 ] || ! grep -q USER_NOT_FOUND "$WORK/inflight.body"; then
  fail "the call in flight at SIGTERM got '${inflight:-no answer}' $(cat "$WORK/inflight.err" "$WORK/inflight.body" 2>/dev/null | head -c 300), wanted its 404 USER_NOT_FOUND"
fi
say "ok  404  call in flight at SIGTERM was answered (drained)"
exit_code=$(docker inspect -f '{{.State.ExitCode}}' "$GW")
[ "$exit_code" = 0 ] || fail "exit code $exit_code after SIGTERM, wanted 0"
docker logs "$GW" 2>/dev/null | grep -q '"message":"stopped"' || fail "no 'stopped' log line after SIGTERM"
say "ok  SIGTERM (docker stop): exit code 0 after ${stop_ms} ms"

size_bytes=$(docker image inspect -f '{{.Size}}' "$IMAGE")
size_mb=$(awk -v b="$size_bytes" 'BEGIN { printf "%.1f", b / 1000 / 1000 }')
say "PASS"
say "image:           $IMAGE ($size_mb MB)"
say "time to healthy: $healthy_ms ms"
say "user id:         $uid ($user)"
