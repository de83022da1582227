#!/usr/bin/env bash
# Runs wshostile against the project's echo server in both modes (net/http
# and -raw), each with permessage-deflate, on 127.0.0.1 with a free port,
# with short bounds to match short server timeouts. Exits non-zero when
# any attack FAILs in either mode (both modes always run).
#
# Adjust without editing:
#   SERVER_FLAGS   flags of examples/echo in both modes: its timeouts and
#                  limits, short so the attacks that wait for them are quick
#   HOSTILE_FLAGS  flags of wshostile: its bounds must match the server's
#                  (-handshake-timeout above echo's, -stall above its
#                  write timeout and keepalive interval + timeout,
#                  -read-limit equal to its read limit)
#   MODES          "http raw" by default
#   OUT            directory for the JSON results and server logs
set -euo pipefail
cd "$(dirname "$0")/.."

SERVER_FLAGS="${SERVER_FLAGS:--compress -handshake-timeout 3s -write-timeout 2s -keepalive 2s -keepalive-timeout 2s -read-limit 8388608}"
HOSTILE_FLAGS="${HOSTILE_FLAGS:--release 2s -stall 6s -handshake-timeout 4s -probe-timeout 5s -settle 5s -slow 50 -idle 500 -idle-time 6s -churn 1000 -resets 200 -read-limit 8388608 -flood-conns 4}"
MODES="${MODES:-http raw}"
OUT="${OUT:-$(mktemp -d)}"
mkdir -p "$OUT"

bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/echo" ./examples/echo
go build -o "$bin/wshostile" ./hostile/cmd/wshostile

status=0
for mode in $MODES; do
	extra=""
	[ "$mode" = raw ] && extra="-raw"
	log="$OUT/echo-$mode.log"
	# shellcheck disable=SC2086 # the flags are meant to split
	"$bin/echo" -addr 127.0.0.1:0 $extra $SERVER_FLAGS 2>"$log" &
	pid=$!
	url=""
	for _ in $(seq 100); do
		url=$(sed -n 's/^echo: serving on \(ws:[^ ]*\)$/\1/p' "$log")
		[ -n "$url" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$url" ]; then
		echo "hostile: echo ($mode) did not start:"; cat "$log"
		kill "$pid" 2>/dev/null || true
		status=1
		continue
	fi
	echo "== wshostile against echo $extra $SERVER_FLAGS at $url (PID $pid)"
	# shellcheck disable=SC2086
	"$bin/wshostile" -url "$url" -pid "$pid" $HOSTILE_FLAGS -json "$OUT/hostile-$mode.json" || status=1
	kill -INT "$pid" 2>/dev/null || true
	for _ in $(seq 100); do # echo waits up to -grace (5 s) for close handshakes
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "hostile: echo ($mode) still running 10 s after SIGINT; killing it"
		kill -KILL "$pid" 2>/dev/null || true
		status=1
	fi
	wait "$pid" 2>/dev/null || true
done
echo "hostile: results in $OUT"
exit $status
