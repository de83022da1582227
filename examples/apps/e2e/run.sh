#!/usr/bin/env bash
# End-to-end tests of the chat and dashboard examples: headless Chromium
# (Debian's chromium, driven by playwright-core), two chat processes behind
# nginx sharing rooms through redis-server, and the dashboard; then the
# chat tests again against a chat in event mode (-event: server/event's
# epoll loops); then WebSockets over HTTP/2 from Chromium to examples/echo
# (a Go test that drives the browser through the DevTools protocol).
#
#   bash examples/apps/e2e/run.sh
#
# It installs what is missing (apt-get as root, npm ci), builds the
# examples, starts every server on 127.0.0.1 on free ports, runs the tests
# with bounded timeouts and stops everything it started, pass or fail.
# Screenshots and server logs go to e2e/artifacts/ (or $ARTIFACTS).
#
# It runs in seven steps (install, npm, build, servers, tests, chat tests
# in event mode, HTTP/2), each announced as "step i/7"; while one runs, a line every 4 s says which and
# for how long (E2E_HEARTBEAT=seconds to change), so the output never goes
# quiet for more than 5 s. The last line is the verdict and where the
# artifacts are.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
APPS=$(dirname "$HERE")
ARTIFACTS=${ARTIFACTS:-$HERE/artifacts}
START=$(date +%s)
log() { echo "e2e [$(( $(date +%s) - START ))s] $*"; }

# --- Progress: steps and a heartbeat -----------------------------------------
STEPS=7
STEP_FILE=$(mktemp /tmp/ws-e2e-step.XXXXXX)
step() { # step I NAME: the run is now in step I of $STEPS
	echo "$1 $(date +%s) $2" >"$STEP_FILE"
	log "step $1/$STEPS: $2"
}
# heartbeat: a line every E2E_HEARTBEAT seconds (4), due on a fixed
# schedule so that a slow moment on a busy machine does not add up, and
# timed with bash's EPOCHSECONDS where it has it (no process per line).
heartbeat() {
	local n t0 name every=${E2E_HEARTBEAT:-4} t next
	next=$(( ${EPOCHSECONDS:-$(date +%s)} + every ))
	while :; do
		t=${EPOCHSECONDS:-$(date +%s)}
		[ "$next" -gt "$t" ] && sleep $(( next - t ))
		next=$(( next + every ))
		read -r n t0 name <"$STEP_FILE" 2>/dev/null || continue
		t=${EPOCHSECONDS:-$(date +%s)}
		echo "e2e [$(( t - START ))s] step $n/$STEPS: $name: still running, $(( t - t0 ))s in this step"
	done
}
heartbeat &
HEARTBEAT=$!
stop_heartbeat() {
	kill "$HEARTBEAT" 2>/dev/null || true
	wait "$HEARTBEAT" 2>/dev/null || true
	rm -f "$STEP_FILE"
}
trap 'rc=$?; stop_heartbeat; [ "$rc" = 0 ] || log "FAIL (exit $rc) before the servers started"' EXIT

# --- Install what is missing -------------------------------------------
step 1 "install what is missing (apt-get)"
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v redis-server >/dev/null || need+=(redis-server)
command -v nghttpx >/dev/null || [ -x /usr/sbin/nghttpx ] || need+=(nghttp2-proxy) # for the root module's third-party HTTP/2 test (.ci/run)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
if ((${#need[@]})); then
	SUDO=
	[ "$(id -u)" = 0 ] || SUDO=sudo
	log "installing ${need[*]}"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive timeout 900 $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

step 2 "npm ci (playwright-core)"
if [ ! -f "$HERE/node_modules/playwright-core/package.json" ] ||
	[ "$HERE/package-lock.json" -nt "$HERE/node_modules/.package-lock.json" ]; then
	log "npm ci"
	(cd "$HERE" && timeout 300 npm ci --no-audit --no-fund --loglevel=error)
fi

# --- Build ---------------------------------------------------------------
step 3 "build chat and dashboard"
WORK=$(mktemp -d /tmp/ws-e2e.XXXXXX)
chmod 755 "$WORK" # nginx's worker may run as another user
log "building into $WORK"
(cd "$APPS" && go build -o "$WORK/chat" ./chat && go build -o "$WORK/dashboard" ./dashboard)

# --- Start the servers -------------------------------------------------------
PIDS=()
cleanup() {
	local rc=$?
	# Newest first, so that nginx goes before the chats and they go before
	# Redis; each gets 5 s to exit after SIGTERM, then SIGKILL.
	local i pid
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		pid=${PIDS[i]}
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	mkdir -p "$ARTIFACTS"
	cp "$WORK"/*.log "$ARTIFACTS"/ 2>/dev/null || true
	if [ "$rc" != 0 ]; then
		for f in "$WORK"/*.log; do echo "--- $f"; tail -n 30 "$f"; done
	fi
	rm -rf "$WORK"
	stop_heartbeat
	if [ "$rc" = 0 ]; then
		log "PASS: all tests passed; stopped everything; screenshots and server logs in $ARTIFACTS"
	else
		log "FAIL (exit $rc): stopped everything; screenshots and server logs in $ARTIFACTS"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

freeport() {
	node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# waitport PORT NAME: wait up to 15 s for a listener.
waitport() {
	for _ in $(seq 150); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "$2 did not listen on 127.0.0.1:$1 within 15 s" >&2
	return 1
}

start() { # start NAME COMMAND...: run in the background, log to $WORK/NAME.log
	local name=$1; shift
	"$@" >"$WORK/$name.log" 2>&1 &
	PIDS+=($!)
}

step 4 "start redis, three chats (one in event mode), nginx and the dashboard"
CHAT=$(freeport); REDIS=$(freeport); CHAT_A=$(freeport); CHAT_B=$(freeport); NGX=$(freeport); DASH=$(freeport)
CHAT_EV=$(freeport)

start redis redis-server --bind 127.0.0.1 --port "$REDIS" --save "" --appendonly no --dir "$WORK" --daemonize no
waitport "$REDIS" redis-server
start chat "$WORK/chat" -addr "127.0.0.1:$CHAT" -debug
start chat-event "$WORK/chat" -addr "127.0.0.1:$CHAT_EV" -debug -event
start chat-a "$WORK/chat" -addr "127.0.0.1:$CHAT_A" -redis "127.0.0.1:$REDIS" -debug
start chat-b "$WORK/chat" -addr "127.0.0.1:$CHAT_B" -redis "127.0.0.1:$REDIS" -debug
start dashboard "$WORK/dashboard" -addr "127.0.0.1:$DASH" -rate 20 -queue 16 -policy coalesce -debug
sed -e "s|@DIR@|$WORK|g" -e "s|@PORT@|$NGX|g" -e "s|@CHAT_A@|$CHAT_A|g" -e "s|@CHAT_B@|$CHAT_B|g" \
	"$HERE/nginx.conf.tmpl" >"$WORK/nginx.conf"
"$NGINX" -t -q -c "$WORK/nginx.conf" -p "$WORK" -e "$WORK/nginx-error.log"
start nginx "$NGINX" -c "$WORK/nginx.conf" -p "$WORK" -e "$WORK/nginx-error.log"
for p in "$CHAT:chat" "$CHAT_EV:chat-event" "$CHAT_A:chat-a" "$CHAT_B:chat-b" "$DASH:dashboard" "$NGX:nginx"; do
	waitport "${p%%:*}" "${p#*:}"
done
log "servers up: chat :$CHAT, chat-event :$CHAT_EV, redis :$REDIS, chat-a :$CHAT_A, chat-b :$CHAT_B, nginx :$NGX, dashboard :$DASH"

# --- Test ----------------------------------------------------------------------
cd "$HERE"
export CHAT_URL="http://127.0.0.1:$CHAT" NGINX_URL="http://127.0.0.1:$NGX" DASH_URL="http://127.0.0.1:$DASH"
export CHAT_A_ADDR="127.0.0.1:$CHAT_A" CHAT_B_ADDR="127.0.0.1:$CHAT_B"
export ARTIFACTS CHROMIUM=${CHROMIUM:-$(command -v chromium)}
mkdir -p "$ARTIFACTS"
step 5 "tests in headless Chromium ($(ls tests/*.test.mjs | wc -l) files, node --test)"
timeout 420 node --test --test-concurrency=1 --test-timeout=120000 tests/*.test.mjs
step 6 "core chat tests in headless Chromium against the chat in event mode (-event)"
# The four tests of the chat's behaviour (rooms, private messages, typing,
# a killed connection's recovery), not the screenshot: 49 s in a run here.
(CHAT_URL="http://127.0.0.1:$CHAT_EV" ARTIFACTS="$ARTIFACTS/event" timeout 240 node --test --test-concurrency=1 --test-timeout=120000 \
	--test-name-pattern='exchange messages|private message|typing indicator|reconnects and recovers' tests/chat.test.mjs)
step 7 "WebSockets over HTTP/2 in Chromium (examples/echo TestChromiumHTTP2, root module)"
(cd "$APPS/../.." && CHROMIUM="$CHROMIUM" timeout 180 go test -count=1 -run 'TestChromiumHTTP2' -v ./examples/echo/ | grep -E '^(=== RUN|--- |PASS|FAIL|ok|\s+chromium_test)')
