#!/bin/bash
# A query writes nothing: the commands that only look (status, sh, a
# script, cmd, ssh, console, stop and kill when nothing runs, list) leave
# no handle below the home (~/.local/state/vm/HOST/ID) nor anything in
# $XDG_RUNTIME_DIR, in a session and without one (cron); only the commands
# that change the machine make its handle (init's lock; run and start:
# the lock, the record, the sockets), and the same queries still see a
# machine that runs. A real emulator (vm run --nat, on an empty disk: no
# guest needed) and an empty home of its own (private-home.sh).
TEST_NAME=queries
# private-home.sh gives this test its home: lib.sh's own place below the
# real one is not needed (and would be a directory below ~/.local/state).
export VM_TEST_OWN_STATE=no
. "$(dirname "$0")/lib.sh"

home=$(getent passwd "$(id -u)" | cut -d: -f6)
# It removes what is below ~/.local/state between rounds: never in a real home.
if [ "$(id -u)" != 0 ] || [ -n "$(ls -A "$home")" ] || [ "$(stat -f -c %T "$home")" != tmpfs ]; then
	echo "SKIP: needs the empty home of its own that private-home.sh gives root"
	exit 77
fi
ID=$(free_id $((50 + RANDOM % 40)))
emulator=
queries_cleanup() {
	if [ -n "$emulator" ]; then
		(cd "$work/q" && "$VM" kill >/dev/null 2>&1)
		kill -KILL "$emulator" 2>/dev/null
		wait "$emulator" 2>/dev/null
	fi
	cleanup
}
trap queries_cleanup EXIT

# written: what there is below the home's ~/.local/state and in the
# session directory (one path a line).
written() { find "$home/.local/state" ${XDG_RUNTIME_DIR:+"$XDG_RUNTIME_DIR"} -mindepth 1 2>/dev/null | sort; }

# each_query: runs every command that only looks, as the user would; the
# output of each goes to $work/out/N.
each_query() {
	local n=0 args
	mkdir -p "$work/out"
	printf 'echo "$VM_MACHINE_NAME" "$@"\n' >"$work/script"
	chmod +x "$work/script"
	for args in 'status' 'status -s' 'status -q -s' 'status -j -s' "sh -c true" \
		"$work/script x" 'cmd info status' 'cmd -j query-status' 'ssh true' \
		'console' 'console --log' 'list' 'list -j' 'stop -n' 'stop -s st' 'kill'; do
		n=$((n + 1))
		# shellcheck disable=SC2086 # the words of one command line
		"$VM" $args </dev/null >"$work/out/$n" 2>&1
		echo "rc=$? $args" >>"$work/out/$n"
	done
}

# queries_write_nothing WHAT: each query leaves nothing behind.
queries_write_nothing() {
	local before after
	before=$(written)
	each_query
	after=$(written)
	detail=$(diff <(echo "$before") <(echo "$after"))
	check "$1: no query wrote below ~/.local/state or in XDG_RUNTIME_DIR" \
		test "$before" = "$after"
	detail=
}

new_machine q "VM_MACHINE_ID=$ID" VM_MACHINE_MEM=64 VM_QEMU_ACCEL=tcg
handle=$(runtime_dir "$ID")

echo "# a machine that was never initialised"
queries_write_nothing "in a session"
check "the status of a machine that never ran: not running ($(head -c 300 "$work/out/2"))" \
	grep -q "not running" "$work/out/2"
check "cmd on it: not running, exit 1" grep -q "^rc=1 cmd info status" "$work/out/7"
rm -rf "$home/.local/state" # what the round above left: this one is judged alone
(unset XDG_RUNTIME_DIR && queries_write_nothing "without XDG_RUNTIME_DIR (cron)")
check "the home is as empty as it was: nothing below ~/.local/state" \
	test -z "$(find "$home/.local/state" -mindepth 1 2>/dev/null)"

echo "# an initialised machine that never ran (its handle gone: a machine moved, a new home)"
run init
check "init works ($err)" test "$rc" = 0
check "init, which changes the machine, made its handle under its lock" test -f "$handle/lock"
rm -r "$home/.local/state"
queries_write_nothing "initialised"
check "status -s of the initialised machine: not running, exit 1" \
	grep -q "^rc=1 status -s" "$work/out/2"

echo "# a stopped machine with an interrupted archive's overlay: status merges it, under the lock"
rm -r "$home/.local/state"
overlay=.t-backing.qcow2.archive-overlay
qemu-img create -q -f qcow2 -b t-backing.qcow2 -F qcow2 "$overlay"
write "$overlay" 0xcd 2M
run status -s
merged() { [ ! -e "$overlay" ] && reads t-backing.qcow2 0xcd 2M; }
check "status wrote the overlay into the disk and removed it ($err)" merged
check "the merge, which changes the machine, made its handle for the lock" test -f "$handle/lock"

echo "# the machine runs: vm run makes its handle, and the queries see it"
rm -r "$home/.local/state"
"$VM" run --nat >"$work/run.out" 2>&1 &
emulator=$!
for _ in $(seq 100); do [ -S "$handle/qmp.sock" ] && break; sleep 0.1; done
check "vm run made the handle: lock, record, pid file, monitor socket" \
	test -f "$handle/lock" -a -f "$handle/machine" -a -f "$handle/qemu.pid" -a -S "$handle/qmp.sock"
run status -s
check "status -s sees it run ($out)" contains "$out" "emulator:  running"
run cmd info status
check "cmd reaches its monitor ($out)" contains "$out" "VM status: running"
run list
check "list shows it ($out)" contains "$out" "$ID"
run kill
check "kill ends it ($err)" test "$rc" = 0
wait "$emulator"
emulator=

finish
