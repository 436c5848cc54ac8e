#!/bin/bash
# What a new user meets on the real test guest: the README's tour, its vm
# commands as written (no bridge: vm-netd cannot be reached), each exiting
# 0.
TEST_NAME=tour
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/guest.sh"
# No tap for anyone: a tour step that needs the bridge fails here.
export VM_NETD=/nonexistent

ID=$(free_id $((50 + RANDOM % 40)))
main=$work/guix
guest_machine "$main" guix "$ID"
machines+=("$main")

echo "# the README's tour, as written"
# Its first sh block's vm lines, without their comments.
tour=$(awk '/^## A tour/ { t = 1 } t && /^```sh/ { b = 1; next } b && /^```/ { exit } b' \
	"$src_dir/README.md" | sed -n 's/^\(vm [^#]*[^# ]\) *\(#.*\)\{0,1\}$/\1/p')
require "the README has a tour of vm commands" test -n "$tour"
while IFS= read -r line; do
	read -ra words <<<"$line"
	words[0]=$VM
	out=$(timeout 600 "${words[@]}" 2>&1 </dev/null) && rc=0 || rc=$?
	check "tour: '$line' exits 0" test "$rc" = 0
	[ "$rc" = 0 ] || printf '%s\n' "$out" | sed 's/^/    /'
done <<<"$tour"
run status -s
require "after the tour the machine runs ($err)" test "$rc" = 0

kill_all
finish
