#!/usr/bin/env bash
# Runs every native fuzz target of the repository, one after another
# (go test -fuzz accepts one target per invocation).
#
#   fuzz/run.sh                    every target for FUZZTIME (default 1m)
#   fuzz/run.sh -ci                every target for a short bounded time (CI)
#   fuzz/run.sh -t 10m -p 1        10 minutes per target, one worker
#   fuzz/run.sh -r 'Deflate|Flate' only targets whose "pkg.Target" matches
#   fuzz/run.sh -l                 list the targets and exit
#
# Options (environment variables in brackets):
#   -t DURATION   time per target, as for go test -fuzztime [FUZZTIME]
#   -p N          fuzzing workers per target (go test -parallel) [PARALLEL]
#   -r REGEX      run only targets whose "dir.FuzzName" matches (grep -E) [FUZZ_MATCH]
#   -o FILE       also append the results table to FILE [FUZZ_RESULTS]
#   -m DURATION   time to minimize each new input, as for go test
#                 -fuzzminimizetime (default 10s; go's own 60s stalls the
#                 slower targets for a minute per new input) [FUZZMINTIME]
#   -ci           FUZZTIME=4s, PARALLEL=2, FUZZMINTIME=1s unless set: all
#                 targets in about 3 minutes on 2 cores, builds included
#   -l            list targets only
#   -promote N    instead of fuzzing, copy up to N of the smallest inputs
#                 that fuzzing has found (go's cache, $(go env GOCACHE)/fuzz)
#                 into each target's testdata/fuzz/<Target>/, to refresh the
#                 checked-in seed corpora; files already there are kept
#
# Progress: before each target, a line with its number of the total; while
# it runs, the time in it of -fuzztime, execs and corpus so far, the time
# elapsed and an estimate of what is left, every second on a terminal
# (one line rewritten) and every 4 s otherwise (FUZZ_PROGRESS=seconds to
# change), so the output never goes quiet for more than 5 s. The last lines
# are the verdict, where the logs are and where failing inputs went.
#
# A failing input is written by go test into <package>/testdata/fuzz/<Target>/,
# where it becomes a regression test that every `go test` runs. The script
# collects those paths, prints them at the end and exits 1 when there is any.
# Commit them together with the fix (or, for a bug still open, leave the
# target failing and report it).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

FUZZTIME=${FUZZTIME:-}
PARALLEL=${PARALLEL:-}
FUZZ_MATCH=${FUZZ_MATCH:-}
FUZZ_RESULTS=${FUZZ_RESULTS:-}
FUZZMINTIME=${FUZZMINTIME:-}
ci=0
list=0
promote=0
while [ $# -gt 0 ]; do
	case "$1" in
	-t) FUZZTIME=$2; shift ;;
	-p) PARALLEL=$2; shift ;;
	-r) FUZZ_MATCH=$2; shift ;;
	-o) FUZZ_RESULTS=$2; shift ;;
	-m) FUZZMINTIME=$2; shift ;;
	-ci) ci=1 ;;
	-l) list=1 ;;
	-promote) promote=$2; shift ;;
	-h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
	*) echo "fuzz/run.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
if [ $ci = 1 ]; then
	FUZZTIME=${FUZZTIME:-4s}
	PARALLEL=${PARALLEL:-2}
	FUZZMINTIME=${FUZZMINTIME:-1s}
fi
FUZZMINTIME=${FUZZMINTIME:-10s}
FUZZTIME=${FUZZTIME:-1m}
PARALLEL=${PARALLEL:-1}

# Packages with fuzz targets: directories of the root module, then the
# interop module (its own go.mod, run from inside it).
ROOT_DIRS="frame handshake deflate conn server client autobahn/engine"
INTEROP_DIRS="interop"

# targets prints "moduledir pkgdir FuzzName" for every target, found in the
# source so that listing needs no build.
targets() {
	local mod dir f
	for dir in $ROOT_DIRS; do
		[ -d "$dir" ] || continue
		for f in "$dir"/*_test.go; do
			sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(f \*testing\.F).*/\1/p' "$f"
		done | sort -u | sed "s|^|. ./$dir |"
	done
	for dir in $INTEROP_DIRS; do
		[ -f "$dir/go.mod" ] || continue
		for f in "$dir"/*_test.go; do
			sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(f \*testing\.F).*/\1/p' "$f"
		done | sort -u | sed "s|^|$dir . |"
	done
}

selected=$(targets | while read -r mod pkg name; do
	id="$(basename "$(cd "$root/$mod/$pkg" && pwd)").$name"
	if [ -z "$FUZZ_MATCH" ] || echo "$id" | grep -Eq "$FUZZ_MATCH"; then
		echo "$mod $pkg $name"
	fi
done)
if [ $list = 1 ]; then
	echo "$selected" | awk '{d = $1 "/" $2; gsub(/\/\.\//, "/", d); sub(/^\.\//, "", d); sub(/\/\.$/, "", d); print d " " $3}'
	exit 0
fi
if [ -z "$selected" ]; then
	echo "fuzz/run.sh: no target matches" >&2
	exit 2
fi
if [ "$promote" != 0 ]; then
	cache=$(go env GOCACHE)/fuzz
	while read -r mod pkg name; do
		importpath=$(cd "$root/$mod" && go list "$pkg")
		src="$cache/$importpath/$name"
		dst="$root/$mod/$pkg/testdata/fuzz/$name"
		[ -d "$src" ] || { echo "$importpath $name: nothing in the cache"; continue; }
		mkdir -p "$dst"
		n=0
		for f in $(ls -S -r "$src" | head -n "$promote"); do
			[ -e "$dst/$f" ] || { cp "$src/$f" "$dst/$f"; n=$((n + 1)); }
		done
		echo "$importpath $name: $n inputs copied to ${dst#$root/}"
	done <<<"$selected"
	exit 0
fi

# seconds DURATION: a go duration such as 4s, 1m, 1m30s or 1h in whole
# seconds, or nothing for another form (-fuzztime 1000x counts runs).
seconds() {
	local d=$1 total=0 n
	[[ $d =~ ^([0-9]+h)?([0-9]+m)?([0-9]+s)?$ ]] && [ -n "$d" ] || return 0
	for n in "${BASH_REMATCH[1]%h}:3600" "${BASH_REMATCH[2]%m}:60" "${BASH_REMATCH[3]%s}:1"; do
		[ -n "${n%%:*}" ] && total=$(( total + ${n%%:*} * ${n#*:} ))
	done
	echo "$total"
}

# clock SECONDS: 75 -> 1m15s.
clock() {
	local s=$1
	if [ "$s" -ge 60 ]; then echo "$((s / 60))m$((s % 60))s"; else echo "${s}s"; fi
}

# now: the time in seconds, without a process where bash has EPOCHSECONDS
# (5.0 and later): on a machine busy fuzzing, every fork is slow.
now() {
	if [ -n "${EPOCHSECONDS:-}" ]; then echo "$EPOCHSECONDS"; else date +%s; fi
}

# ticker I N ID LOG T0 EST: prints the progress of target I of N, whose go
# test writes LOG and started at T0, until killed. EST is the estimate of
# a whole target in seconds (empty: unknown), for the time left. Lines are
# due every FUZZ_PROGRESS seconds (4) from T0, not 4 s after the previous
# one, so the time spent making a line does not add up.
ticker() {
	local i=$1 n=$2 id=$3 log=$4 t0=$5 est=$6 every=${FUZZ_PROGRESS:-4} cr='' t in_t next last execs corpus left line
	if [ -t 1 ]; then every=1; cr=1; fi
	next=$(( t0 + every ))
	while :; do
		t=${EPOCHSECONDS:-$(date +%s)}
		[ "$next" -gt "$t" ] && sleep $(( next - t ))
		next=$(( next + every ))
		t=${EPOCHSECONDS:-$(date +%s)}
		in_t=$(( t - t0 ))
		# go test -fuzz reports every 3 s: "fuzz: elapsed: 10s, execs:
		# 123 (12/sec), new interesting: 4 (total: 20)".
		last=$(tail -n 4 "$log" 2>/dev/null)
		execs='' corpus=''
		[[ $last =~ .*execs:\ ([0-9]+).*\(total:\ ([0-9]+)\) ]] && execs=${BASH_REMATCH[1]} corpus=${BASH_REMATCH[2]}
		line="fuzz [$i/$n] $id: $(clock "$in_t") in it (-fuzztime $FUZZTIME)"
		if [ -n "$execs" ]; then
			line="$line, execs $execs, corpus $corpus"
		else
			line="$line, building or replaying the corpus"
		fi
		line="$line | elapsed $(clock $(( t - start_all )))"
		if [ -n "$est" ]; then
			left=$(( est - in_t )); [ "$left" -lt 0 ] && left=0
			left=$(( left + est * (n - i) ))
			line="$line, ~$(clock "$left") left"
		fi
		if [ -n "$cr" ]; then printf '\r\033[K%s' "$line"; else echo "$line"; fi
	done
}

log_dir=$(mktemp -d "${TMPDIR:-/tmp}/wsfuzz.XXXXXX")
table="| target | time | execs | new interesting | corpus | result |
| --- | --- | --- | --- | --- | --- |"
crashers=""
failed=0
start_all=$(now)
n_targets=$(echo "$selected" | wc -l)
fuzz_secs=$(seconds "$FUZZTIME")
ticker_pid=
stop_ticker() {
	[ -n "$ticker_pid" ] || return 0
	kill "$ticker_pid" 2>/dev/null
	wait "$ticker_pid" 2>/dev/null
	ticker_pid=
	if [ -t 1 ]; then printf '\r\033[K'; fi
}
trap stop_ticker EXIT
trap 'stop_ticker; exit 130' INT TERM
echo "fuzz/run.sh: $n_targets targets, -fuzztime=$FUZZTIME -parallel=$PARALLEL, logs in $log_dir"
i=0
done_secs=0
while read -r mod pkg name; do
	i=$((i + 1))
	id="$(basename "$(cd "$root/$mod/$pkg" && pwd)").$name"
	log="$log_dir/$id.log"
	t0=$(now)
	# The estimate of a target: the mean of those done, or -fuzztime and
	# 10 s to build and replay the corpus before the first one ends.
	est=
	if [ "$i" -gt 1 ]; then
		est=$(( done_secs / (i - 1) ))
	elif [ -n "$fuzz_secs" ]; then
		est=$(( fuzz_secs + 10 ))
	fi
	[ -t 1 ] || echo "fuzz [$i/$n_targets] $id: starting"
	ticker "$i" "$n_targets" "$id" "$log" "$t0" "$est" </dev/null &
	ticker_pid=$!
	# -run=^$ skips the package's ordinary tests; the target's seed corpus
	# still runs first, as the baseline of the fuzzing run.
	for attempt in 1 2; do
		(cd "$root/$mod" && go test -run='^$' -fuzz="^$name\$" -fuzztime="$FUZZTIME" \
			-fuzzminimizetime="$FUZZMINTIME" -parallel="$PARALLEL" "$pkg") >"$log" 2>&1
		rc=$?
		# go test -fuzz sometimes ends a short run with "context deadline
		# exceeded" and no failing input: the deadline hit a worker in the
		# middle of an execution. That is the engine, not a finding; run
		# the target once more, and count a second such end as a failure.
		if [ $rc != 0 ] && grep -q 'context deadline exceeded' "$log" &&
			! grep -q 'Failing input written to' "$log"; then
			[ $attempt = 1 ] && echo "fuzz/run.sh: $id ended with the engine's deadline error and no failing input; running it again"
			continue
		fi
		break
	done
	stop_ticker
	secs=$(( $(now) - t0 ))
	done_secs=$(( done_secs + secs ))
	# The last progress line: "fuzz: elapsed: 10s, execs: 123 (12/sec), new interesting: 4 (total: 20)".
	last=$(grep -E '^fuzz: elapsed: .*execs: ' "$log" | tail -n 1)
	execs=$(echo "$last" | sed -n 's/.*execs: \([0-9]*\).*/\1/p')
	newi=$(echo "$last" | sed -n 's/.*new interesting: \([0-9]*\).*/\1/p')
	total=$(echo "$last" | sed -n 's/.*(total: \([0-9]*\)).*/\1/p')
	result=ok
	if [ -z "$last" ] && [ $rc = 0 ]; then
		# The whole -fuzztime went to replaying the corpus (the baseline).
		execs=0 newi=0 total=$(sed -n 's/.*baseline coverage: [0-9]*\/\([0-9]*\) completed.*/\1/p' "$log" | tail -n 1)
		result="ok (corpus replay only)"
	fi
	if [ $rc != 0 ]; then
		failed=1
		result=FAIL
		for c in $(sed -n 's/.*Failing input written to \(testdata\/fuzz\/[^ ]*\).*/\1/p' "$log"); do
			crashers="$crashers
  $mod/$pkg/$c"
			result="FAIL (crasher $c)"
		done
		echo "---- $id failed; log $log:"
		grep -v '^fuzz: elapsed' "$log" | tail -n 40
	fi
	printf '[%d/%d] %-40s %5ss  execs %-10s new %-5s corpus %-6s %s\n' "$i" "$n_targets" "$id" "$secs" "${execs:-?}" "${newi:-?}" "${total:-?}" "$result"
	table="$table
| $id | ${secs}s | ${execs:-?} | ${newi:-?} | ${total:-?} | $result |"
done <<<"$selected"

echo
echo "fuzz/run.sh: $(( $(date +%s) - start_all ))s in all ($(date -u +%Y-%m-%dT%H:%MZ), $(go version | awk '{print $3}'), -fuzztime=$FUZZTIME -parallel=$PARALLEL)"
echo "$table"
if [ -n "$FUZZ_RESULTS" ]; then
	{
		echo
		echo "Run of $(date -u +%Y-%m-%dT%H:%MZ): fuzz/run.sh -t $FUZZTIME -p $PARALLEL${FUZZ_MATCH:+ -r '$FUZZ_MATCH'}"
		echo
		echo "$table"
	} >>"$FUZZ_RESULTS"
fi
echo
if [ -n "$crashers" ]; then
	echo "New failing inputs, now regression tests under testdata/fuzz:$crashers"
fi
n_failed=$(echo "$table" | grep -c '| FAIL' || true)
if [ $failed = 0 ]; then
	echo "fuzz/run.sh: PASS: $n_targets targets in $(clock $(( $(date +%s) - start_all ))), no failing input; logs in $log_dir${FUZZ_RESULTS:+; table appended to $FUZZ_RESULTS}"
	echo "(a failing input would have been written to <package>/testdata/fuzz/<Target>/, where go test replays it)"
else
	echo "fuzz/run.sh: FAIL: $n_failed of $n_targets targets failed in $(clock $(( $(date +%s) - start_all ))); logs in $log_dir${FUZZ_RESULTS:+; table appended to $FUZZ_RESULTS}"
fi
exit $failed
