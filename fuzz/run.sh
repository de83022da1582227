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

log_dir=$(mktemp -d "${TMPDIR:-/tmp}/wsfuzz.XXXXXX")
table="| target | time | execs | new interesting | corpus | result |
| --- | --- | --- | --- | --- | --- |"
crashers=""
failed=0
start_all=$(date +%s)
echo "fuzz/run.sh: $(echo "$selected" | wc -l) targets, -fuzztime=$FUZZTIME -parallel=$PARALLEL, logs in $log_dir"
while read -r mod pkg name; do
	id="$(basename "$(cd "$root/$mod/$pkg" && pwd)").$name"
	log="$log_dir/$id.log"
	t0=$(date +%s)
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
	secs=$(( $(date +%s) - t0 ))
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
	printf '%-40s %5ss  execs %-10s new %-5s corpus %-6s %s\n' "$id" "$secs" "${execs:-?}" "${newi:-?}" "${total:-?}" "$result"
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
if [ -n "$crashers" ]; then
	echo
	echo "New failing inputs, now regression tests under testdata/fuzz:$crashers"
fi
exit $failed
