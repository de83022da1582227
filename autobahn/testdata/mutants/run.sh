#!/bin/sh
# run.sh MUTANT [CASES]: plant one deliberate bug (MUTANT.patch, beside this
# script) in a throwaway worktree of HEAD, build the suite and the project's
# testees from it, and run the Autobahn cases CASES (a JSON list; default
# the mutant's own, below) against the project's server (the suite as
# client) and the project's client (the suite as server). It prints each
# side's summary, whose "not OK" list names the cases the bug fails.
#
# Not run in CI: each mutant takes from seconds to a few minutes. See
# autobahn/FIDELITY.md for the results. Ports 19101 and 19102 on 127.0.0.1.
set -eu
mutant=$1
here=$(cd "$(dirname "$0")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel)
case "$mutant" in
frame-surrogate-accepted) cases='["6.*"]' ;;
frame-mask-offset) cases='["1.*", "5.*", "12.1.10"]' ;;
frame-non-minimal-length) cases='["1.*", "2.*"]' ;;
frame-rsv1-on-continuation) cases='["1.*", "5.*", "12.*"]' ;;
deflate-tail-kept) cases='["12.1.1", "12.1.2", "13.1.1", "13.2.1"]' ;;
deflate-window-one-too-long) cases='["13.3.*", "13.5.*"]' ;;
*) echo "unknown mutant $mutant" >&2; exit 2 ;;
esac
cases=${2:-$cases}

tmp=$(mktemp -d)
git -C "$repo" worktree add --quiet --detach "$tmp/src" HEAD
cleanup() {
	[ -n "${srv:-}" ] && kill "$srv" 2>/dev/null || true
	[ -n "${fz:-}" ] && kill "$fz" 2>/dev/null || true
	git -C "$repo" worktree remove --force "$tmp/src"
	rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp/src"
git apply "$here/$mutant.patch"
go build -o "$tmp/bin/" ./autobahn/cmd/wstest ./autobahn/cmd/testee-server ./autobahn/cmd/testee-client

echo "== $mutant: the suite against the project's server, cases $cases"
cat >"$tmp/client.json" <<EOS
{"outdir": "$tmp/servers", "servers": [{"agent": "rfc6455-ws-server", "url": "ws://127.0.0.1:19101"}], "cases": $cases}
EOS
"$tmp/bin/testee-server" -addr 127.0.0.1:19101 >"$tmp/testee-server.out" 2>&1 &
srv=$!
until grep -q 'serving on' "$tmp/testee-server.out"; do sleep 0.2; done
"$tmp/bin/wstest" -m fuzzingclient -s "$tmp/client.json" -j 2 | sed -n '/^Agent/,$p' || true
kill "$srv"
srv=

echo "== $mutant: the project's client against the suite, cases $cases"
cat >"$tmp/server.json" <<EOS
{"url": "ws://127.0.0.1:19102", "outdir": "$tmp/clients", "cases": $cases}
EOS
"$tmp/bin/wstest" -m fuzzingserver -s "$tmp/server.json" >"$tmp/fuzzingserver.out" 2>&1 &
fz=$!
until grep -q 'fuzzing server on' "$tmp/fuzzingserver.out"; do sleep 0.2; done
"$tmp/bin/testee-client" -url ws://127.0.0.1:19102 -agent rfc6455-ws-client -j 2 >/dev/null 2>&1 || true
kill -INT "$fz"
wait "$fz" || true
fz=
sed -n '/^Agent/,$p' "$tmp/fuzzingserver.out"
