#!/bin/sh
# instructions.sh: instructions executed per benchmark op, counted by
# valgrind's callgrind, for the benchmarks of this module that match a
# regexp. Unlike timings, the counts do not move with the load of other
# jobs on a shared machine, so small changes and libraries side by side
# can be compared in one run. They are not times: a locked atomic
# operation or a cache miss costs many cycles and counts as one
# instruction.
#
#   ./instructions.sh 'BenchmarkServer/lib=(ours|gobwas)/comp=off/type=binary/size=16B/depth=16$' 20000
#
# Each matching benchmark runs twice, for N and 6N ops (N defaults to
# 1000), and the difference divided by 5N is printed, so the set-up of a
# benchmark drops out. Needs valgrind (Debian: apt-get install valgrind).
set -eu
pattern=${1:?usage: instructions.sh benchmark-regexp [N]}
n=${2:-1000}
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind not found" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$(dirname "$0")"
go test -c -o "$dir/bench.test" .
count() { # benchmark ops -> instructions of the whole run
	GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
		"$dir/bench.test" -test.run '^$' -test.bench "$1" -test.benchtime "$2x" 2>&1 |
		awk '/Collected/ {print $4}'
}
# List the sub-benchmarks the pattern selects, from a run of one op each.
"$dir/bench.test" -test.run '^$' -test.bench "$pattern" -test.benchtime 1x 2>/dev/null |
	awk '/^Benchmark/ {sub(/-[0-9]+$/, "", $1); print $1}' | while read -r name; do
	# Anchor every element: go test matches each level of a name on its own.
	exact=$(printf '%s' "$name" | sed 's/[][().*+?^$|]/\\&/g; s|/|$/^|g; s|^|^|; s|$|$|')
	a=$(count "$exact" "$n")
	b=$(count "$exact" $((6 * n)))
	printf '%-70s %12d instructions/op\n' "$name" $(((b - a) / (5 * n)))
done
