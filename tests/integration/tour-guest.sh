#!/bin/bash
# What a new user meets on the real test guest: the README's tour, its vm
# commands as written (no bridge: vm-netd cannot be reached), each exiting
# 0; vm cmd with a monitor command that QEMU refuses, which exits 1; a
# misspelt VM_ name in .vmrc, warned of once on stderr; and a
# second machine directory given the same VM_MACHINE_ID (a copied machine
# whose .vmrc kept it), whose commands must never act on the first
# machine's emulator and say which ID to change.
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

echo "# vm cmd and what the monitor refuses"
run cmd info status
check "cmd info status exits 0 ($err)" test "$rc" = 0
run cmd loadvm no-such-state
check "cmd loadvm of a state that does not exist exits 1" test "$rc" = 1
check "... with QEMU's answer ($out)" contains "$out" "Error: Snapshot 'no-such-state' does not exist"
check "... and says the monitor refused it ($err)" contains "$err" "the monitor refused the command"
check "... that the guest is left paused, and how to resume it" contains "$err" "the guest is left paused (restore-vm): resume it with 'vm cmd cont'"
run cmd cont
check "... which vm cmd cont does ($err)" contains "$("$VM" cmd info status)" "running"
run cmd info no-such-thing
check "cmd of an unknown command exits 1 ($out)" test "$rc" = 1
run cmd savevm a b
check "cmd with wrong arguments exits 1 ($out)" test "$rc" = 1
run cmd info snapshots
check "cmd info snapshots exits 0 ($err)" test "$rc" = 0

echo "# a misspelt variable in .vmrc"
echo VM_MACHINE_MEN=512 >>.vmrc
typo="warning: .vmrc:$(wc -l <.vmrc): VM_MACHINE_MEN is not a vm variable; did you mean VM_MACHINE_MEM?"
run status --json
check "status --json with VM_MACHINE_MEN in .vmrc exits 0 ($err)" test "$rc" = 0
check "... stdout is still the JSON alone" python3 -c 'import json, sys; json.loads(sys.argv[1])' "$out"
check "... stderr the one warning, with file and line ($err)" test "$err" = "vm: status: $typo"
# shellcheck disable=SC2016 # the script expands it
printf '#!/usr/bin/env vm\nvm_ssh true\n"$VM_BIN" status -s >/dev/null\n' >"$work/typo-script"
run "$work/typo-script"
check "a script running vm twice exits 0 ($err)" test "$rc" = 0
check "... and is warned once ($err)" test "$err" = "vm: $work/typo-script: $typo"
sed -i '$d' .vmrc

echo "# a second machine with the same VM_MACHINE_ID"
first_pid=$(qemu_pid "$ID")
alive() { ! gone "$1"; }
copy=$work/guix2
guest_machine "$copy" guix2 "$ID"
machines+=("$copy")
taken="ID $ID is taken by the machine guix in $main, which is running (pid $first_pid): give guix2 an ID of its own (VM_MACHINE_ID in $copy/.vmrc"
for command in status kill "stop -n" "stop -s x" "cmd info status" "ssh true" "console --log" \
	"start --nat" "run --nat" "archive" "init" "archive --create" "export --nat"; do
	read -ra words <<<"$command"
	run "${words[@]}"
	check "$command of the copy exits 1" test "$rc" = 1
	check "... naming the running machine and the ID to change ($err)" contains "$err" "$taken"
done
check "the first machine's emulator still runs" alive "$first_pid"
cd "$main" || exit 1
run ssh true
check "... and its guest answers ssh ($err)" test "$rc" = 0
ln -s "$main" "$work/link"
cd "$work/link" || exit 1
run status -s
check "status through a symlink to the machine directory is the machine's own ($err)" test "$rc" = 0
cd "$main" || exit 1

kill_all
finish
