#!/bin/sh
# Runs each libFuzzer harness from its seed corpus, for SECONDS or for N
# executions, and fails a harness that finds a problem or whose final
# coverage ("cov:") stays under its floor in floors: a harness linking code
# built without coverage instrumentation sees only its own few edges and
# never reaches it.
# Usage: run-fuzzers.sh SECONDS [HARNESS...]
#        run-fuzzers.sh --runs N [--keep DIR] [--no-floors] [HARNESS...]
# HARNESS defaults to every fuzz_* in $FUZZ_BUILD_DIR, else
# build-fuzz/tests/fuzz. --keep DIR keeps the grown corpora (DIR/NAME) and
# the logs (DIR/NAME.log), for a longer campaign (see README). --no-floors
# is for a build without sanitizers, which counts fewer edges than the
# ASan+UBSan build the floors are measured in.
# Build the harnesses first:
#   CC=clang meson setup build-fuzz -Dfuzzers=true -Db_sanitize=address,undefined -Db_lundef=false
#   ninja -C build-fuzz
set -eu
usage="usage: run-fuzzers.sh SECONDS | --runs N [--keep DIR] [--no-floors] [HARNESS...]"
keep= floors=yes
if [ "${1:-}" = --runs ]; then
	limit="-runs=${2:?$usage}"
	shift 2
	if [ "${1:-}" = --keep ]; then
		keep=${2:?$usage}
		shift 2
	fi
	if [ "${1:-}" = --no-floors ]; then
		floors=no
		shift
	fi
else
	limit="-max_total_time=${1:?$usage}"
	shift
fi
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -eq 0 ]; then
	dir=${FUZZ_BUILD_DIR:-build-fuzz/tests/fuzz}
	set --
	for h in "$dir"/fuzz_*; do
		[ -f "$h" ] && [ -x "$h" ] && set -- "$@" "$h"
	done
	[ $# -gt 0 ] || { echo "no fuzz harnesses in $dir; build them first (see $0)" >&2; exit 1; }
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/vmfuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM # dash runs no EXIT trap on a signal otherwise
passed=0 failed=0
for harness in "$@"; do
	name=$(basename "$harness")
	seeds="$here/corpus/${name#fuzz_}"
	floor=$(awk -v n="${name#fuzz_}" '$1 == n { print $2 }' "$here/floors")
	if [ -n "$keep" ]; then
		corpus=$keep/$name
		mkdir -p "$corpus"
	else
		corpus=$(mktemp -d "$work/$name.XXXXXX")
	fi
	log=$corpus.log
	echo "== $name, $limit (coverage floor ${floor:-none})"
	if ! "$harness" "$limit" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
		-artifact_prefix="$work/" "$corpus" "$seeds" >"$log" 2>&1; then
		tail -n 40 "$log"
		for input in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
			[ -f "$input" ] && echo "the input, as hex:" && od -An -tx1 "$input" | head -n 20
		done
		echo "FAIL: $name found a problem (above)"
		failed=$((failed + 1))
		rm -f "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*
		continue
	fi
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
	grep -E 'stat::number_of_executed_units|stat::average_exec_per_sec' "$log" || true
	echo "final cov: ${cov:-none}"
	if [ "$floors" = no ]; then
		passed=$((passed + 1))
	elif [ -z "$floor" ]; then
		echo "FAIL: $name has no coverage floor in $here/floors"
		failed=$((failed + 1))
	elif [ -z "$cov" ] || [ "$cov" -lt "$floor" ]; then
		echo "FAIL: $name reached cov ${cov:-none} < floor $floor: the code it feeds is not" \
			"instrumented (build it with -fsanitize=fuzzer-no-link)"
		failed=$((failed + 1))
	else
		passed=$((passed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
