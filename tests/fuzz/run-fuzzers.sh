#!/bin/sh
# Runs each libFuzzer harness for SECONDS, starting from its seed corpus.
# Usage: run-fuzzers.sh SECONDS [HARNESS...]   (default: every fuzz_* in
# $FUZZ_BUILD_DIR, else build-fuzz/tests/fuzz)
# Build the harnesses first:
#   CC=clang meson setup build-fuzz -Dfuzzers=true -Db_sanitize=address,undefined -Db_lundef=false
#   ninja -C build-fuzz
set -eu
seconds=${1:?usage: run-fuzzers.sh SECONDS [HARNESS...]}
shift
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -eq 0 ]; then
	dir=${FUZZ_BUILD_DIR:-build-fuzz/tests/fuzz}
	set --
	for h in "$dir"/fuzz_*; do
		[ -f "$h" ] && [ -x "$h" ] && set -- "$@" "$h"
	done
	[ $# -gt 0 ] || { echo "no fuzz harnesses in $dir; build them first (see $0)" >&2; exit 1; }
fi
status=0
for harness in "$@"; do
	name=$(basename "$harness")
	seeds="$here/corpus/${name#fuzz_}"
	work=$(mktemp -d)
	echo "== $name for ${seconds}s"
	if ! "$harness" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 \
		-print_final_stats=1 "$work" "$seeds" >"$work.log" 2>&1; then
		tail -n 40 "$work.log"
		status=1
	else
		grep -E 'stat::number_of_executed_units|Done' "$work.log" | head -n 2
	fi
	rm -rf "$work" "$work.log"
done
exit $status
