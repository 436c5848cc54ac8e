#!/usr/bin/env bash
# tests/leftovers.sh names what a run left behind: here a directory under
# /tmp made after the snapshot, and, in a private home (private-home.sh, as
# root), a machine's handle below it (removed again, whatever happens).
# Usage: test-leftovers.sh LEFTOVERS_SH STATE_DIR
set -u
leftovers=${1:?usage: test-leftovers.sh LEFTOVERS_SH STATE_DIR}
state=${2:?usage: test-leftovers.sh LEFTOVERS_SH STATE_DIR}
left='' handle=''
trap 'rm -rf "$left" "$handle" "$state"' EXIT
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
check "the tests are named as who left it" grep -qx "the tests left behind:" <<<"$out"
out=$("$leftovers" check "$state" "the demo")
check "... or whoever the caller names" grep -qx "the demo left behind:" <<<"$out"
check "the finding is kept in STATE_DIR/left" grep -qx "file $left" "$state/left"
out=$("$leftovers" still "$state" "the demo")
check "still: what is there yet is named" grep -qx "  file $left" <<<"$out"
rm -rf "$left"
out=$("$leftovers" still "$state" "the demo")
# shellcheck disable=SC2016 # expanded by the inner shell
check "still: what has gone since is not ($out)" bash -c '! grep -qF "$1" <<<"$2"' _ "$left" "$out"

home=$(getent passwd "$(id -u)" | cut -d: -f6)
if [ "$(stat -f -c %T "$home" 2>/dev/null)" = tmpfs ]; then
	rm -rf "$left"
	"$leftovers" snapshot "$state"
	mkdir -p "$home/.local/state/vm/$(uname -n)"
	handle=$home/.local/state/vm/$(uname -n)/97
	mkdir "$handle" && touch "$handle/machine"
	out=$("$leftovers" check "$state")
	check "a machine's handle left below the home is named" grep -qx "  handle $handle" <<<"$out"
	check "... and not vm's directories above it ($out)" test "$(grep -c "^  handle $home" <<<"$out")" -eq 1
	rm -rf "$handle"
	out=$("$leftovers" check "$state")
	check "once it is gone, it is not named ($out)" test "$(grep -c "^  handle $home" <<<"$out")" -eq 0
else
	echo "SKIP: the handle check needs a private home (root: private-home.sh gives one)"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
