#!/usr/bin/env bash
# tests/leftovers.sh names what a run left behind: here a directory under
# /tmp made after the snapshot (removed again, whatever happens).
# Usage: test-leftovers.sh LEFTOVERS_SH STATE_DIR
set -u
leftovers=${1:?usage: test-leftovers.sh LEFTOVERS_SH STATE_DIR}
state=${2:?usage: test-leftovers.sh LEFTOVERS_SH STATE_DIR}
left=
trap 'rm -rf "$left" "$state"' EXIT
passed=0 failed=0
check() { # DESCRIPTION COMMAND...
	if "${@:2}"; then passed=$((passed + 1)); else echo "FAIL: $1"; failed=$((failed + 1)); fi
}

"$leftovers" snapshot "$state"
left=$(mktemp -d /tmp/vm-leftovers-test.XXXXXX)
touch "$left/inside"
out=$("$leftovers" check "$state")
rc=$?
check "a leftover makes the check fail" test "$rc" -eq 1
check "the leftover is named" grep -qx "  file $left" <<<"$out"
check "its contents are not listed one by one" test "$(grep -c "$left" <<<"$out")" -eq 1
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
