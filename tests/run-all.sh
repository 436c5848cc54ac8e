#!/usr/bin/env bash
# Runs every test: the unit and integration suites (root tests included when
# run as root), the unit suite again under ASan+UBSan, and the fuzzers for a
# bounded time; then checks that the tests left nothing behind. Ends with
# "N passed, N failed, N skipped"; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
export VM_TEST_GUEST_DIR=${VM_TEST_GUEST_DIR:-/var/cache/vm/test-guest}
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
status=0
logs=()
checks=() # summarize.py --check NAME=RESULT, for checks made here
state=$PWD/.test-state
tests/leftovers.sh snapshot "$state"

step() {
	printf '\n=== %s\n' "$*"
}

build() { # DIR [meson options...]
	local dir=$1
	shift
	{ [ -d "$dir" ] || meson setup "$dir" "$@" >/dev/null; } && meson compile -C "$dir" >/dev/null
}

step "build"
if ! build build --prefix=/usr/local; then
	meson compile -C build
	echo "0 passed, 1 failed"
	exit 1
fi

step "unit, integration and root tests"
meson test -C build --print-errorlogs --no-rebuild || status=1
logs+=(build/meson-logs/testlog.json)

step "unit tests under AddressSanitizer and UndefinedBehaviorSanitizer"
if build build-asan -Db_sanitize=address,undefined -Db_lundef=false; then
	# The test programs themselves may leak; the vm programs they start get
	# ASan's defaults (leaks reported) since tests give vm a clean environment.
	ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C build-asan --suite unit --print-errorlogs --no-rebuild || status=1
	logs+=(build-asan/meson-logs/testlog.json)
else
	echo "the sanitizer build failed"
	status=1
fi

step "fuzzers, ${FUZZ_SECONDS}s each"
if ! command -v clang >/dev/null; then
	echo "SKIP: the fuzzers need clang, which is not installed (apt-get install clang)"
	checks+=(--check "fuzzers=SKIP")
elif CC=clang build build-fuzz -Dfuzzers=true -Db_sanitize=address,undefined -Db_lundef=false; then
	FUZZ_SECONDS=$FUZZ_SECONDS meson test -C build-fuzz --suite fuzz --print-errorlogs \
		--no-rebuild || status=1
	logs+=(build-fuzz/meson-logs/testlog.json)
	# What each harness reached, from its own output: the coverage against its
	# floor (tests/fuzz/floors) and the executions.
	python3 -c 'import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    out = t.get("stdout", "").splitlines()
    head = [l for l in out if l.startswith("== ")]
    keep = [l for l in out if l.startswith(("final cov:", "stat::number_of_executed_units"))]
    print(" ".join((head[:1] or [t["name"]]) + keep))' build-fuzz/meson-logs/testlog.json
else
	echo "the fuzzer build failed"
	checks+=(--check "fuzzer build=FAIL")
fi

step "nothing left behind"
# The demo runs before this (as in CI: tests/demo.sh, then this), so what it
# left is in the snapshot above; tests/demo.sh recorded it: what of it is
# still there is told here, once.
demo=$PWD/.test-state/demo
if [ -f "$demo/left" ]; then
	if tests/leftovers.sh still "$demo" "tests/demo.sh (run $(date -r "$demo/left" '+%F %T'))"; then
		checks+=(--check "the demo left nothing behind=OK")
	else
		checks+=(--check "the demo left nothing behind=FAIL")
	fi
	rm -rf "$demo"
fi
if tests/leftovers.sh check "$state"; then
	checks+=(--check "nothing left behind=OK")
else
	checks+=(--check "nothing left behind=FAIL")
fi

step "summary"
python3 tests/summarize.py "${checks[@]}" "${logs[@]}" || status=1
exit $status
