#!/bin/bash
# Faults around a running machine, on the real test guest (issue 16): vm
# stop -s killed (SIGKILL, SIGTERM) at several points, vm kill during a
# save, the emulator killed under start, stop and archive, a full disk at
# the save and under the guest (io-error). After each fault comes the
# command a user would run next, which must work or say exactly what to do.
# The machine's name holds ',' and '=' (QEMU option syntax) so that every
# step also proves such a name works end to end. The guest boots once;
# every round starts from a saved state.
TEST_NAME=faults
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/guest.sh"

mname='fa,x=y'
ID=$(free_id $((50 + RANDOM % 40)))
# On a tmpfs of its own (root only), a filler file makes the disk full at will.
dir=$work/machine
small=false
if [ "$(id -u)" = 0 ]; then
	mkdir "$dir"
	mount -t tmpfs -o size=2G tmpfs "$dir" && mnt=$dir && small=true
fi
guest_machine "$dir" "$mname" "$ID"
machines+=("$dir")

# wait_line FILE TEXT: until FILE holds TEXT (about 60 s at most).
wait_line() {
	local i
	for ((i = 0; i < 3000; i++)); do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.02
	done
	return 1
}
# stop_in_background STATE: vm stop -v -s STATE as a job, its pid in
# $stopper. The last stop's output goes first: the job truncates the files
# only once it runs, and wait_line must not find its line in what the last
# stop wrote (a signal would then reach a vm that has not yet started).
stop_in_background() {
	rm -f "$work/stop.out" "$work/stop.err"
	"$VM" stop -v -s "$1" >"$work/stop.out" 2>"$work/stop.err" &
	stopper=$!
}
states() { qemu-img snapshot -l -U "$mname-backing.qcow2" | awk 'NR > 2 { print $2 }' | xargs; }
has_state() { [[ " $(states) " == *" $1 "* ]]; }
# A SIGKILLed emulator leaves its pid file: the process must be there too.
running() {
	local pid
	pid=$(qemu_pid "$ID")
	[ -n "$pid" ] && ! gone "$pid"
}
# fill_disk MIB: leaves about MIB MiB free on the machine's tmpfs.
fill_disk() {
	local avail
	avail=$(df -B1M --output=avail "$dir" | tail -1)
	fallocate -l $(((avail - $1) * 1048576)) "$dir/filler"
}
free_disk() { rm -f "$dir/filler"; }

echo "# a name with ',' and '=' passes init and boots; one with ':' is refused"
mkdir "$work/colon"
printf '%s\n' VM_MACHINE_NAME=a:b VM_MACHINE_ID=$ID VM_MACHINE_OWNER="$(id -un)" >"$work/colon/.vmrc"
out=$(cd "$work/colon" && "$VM" init -t 2>&1) && rc=0 || rc=$?
check "VM_MACHINE_NAME=a:b is refused at validation ($out)" contains "$out" "cannot hold ':'"
run init
check "init of '$mname' ($err)" test "$rc" = 0
# The archive of the base, made while the backing file has no saved states
# yet, for the archive update below.
run archive --create
check "archive --create of '$mname' ($err)" test "$rc" = 0
run start --nat
check "start --nat of '$mname' boots the guest ($err)" test "$rc" = 0
run stop -s ready
check "stop -s ready ($err)" test "$rc" = 0
[ "$failed" = 0 ] || { finish; exit 1; }

echo "# the emulator killed while start waits for ssh"
"$VM" start --nat -l ready >/dev/null 2>"$work/start.err" &
starter=$!
for ((i = 0; i < 600; i++)); do
	[ -n "$(qemu_pid "$ID")" ] && break
	sleep 0.05
done
kill -KILL "$(qemu_pid "$ID")"
wait "$starter" && rc=0 || rc=$?
err=$(cat "$work/start.err")
check "start fails" test "$rc" = 1
check "... saying the emulator died of SIGKILL ($err)" contains "$err" "the emulator died (signal 9, Killed)"

echo "# vm stop -s interrupted, then the next command"
# The window is the one the fault was found in: from the freeze at the
# wake-up (stop -v then says "saving the state as") through the save and the
# quit; the delays are counted from there. Each round starts from the state
# the one before saved: a bad save shows in the next start.
previous=ready
round=0
for fault in KILL:0 TERM:0 KILL:0.3 TERM:0.1; do
	sig=${fault%%:*} delay=${fault#*:}
	round=$((round + 1))
	state=s$round
	run start --nat -l "$previous"
	check "start -l $previous ($err)" test "$rc" = 0
	# Random data in the guest's memory make each save last (a second or
	# so), so that the signal comes while it runs; the states keep it.
	[ "$round" = 1 ] && guest_says 'dd if=/dev/urandom of=/dev/shm/fill bs=1M count=48 2>/dev/null'
	stop_in_background "$state"
	wait_line "$work/stop.out" "saving the state as"
	sleep "$delay"
	kill -"$sig" "$stopper"
	wait "$stopper" && rc=0 || rc=$?
	err=$(cat "$work/stop.err")
	if [ "$sig" = TERM ]; then
		check "SIGTERM $delay s into the save: stop finishes first, then exits 143 ($rc)" test "$rc" = 143
		check "... saying so ($err)" contains "$err" "came while the state was being saved: vm finished the stop first"
		check "... the machine is stopped" eval '! running'
		check "... with the state saved" has_state "$state"
	fi
	if running; then
		run stop -s "$state"
		check "SIG$sig $delay s into the save: the next stop -s works ($err)" test "$rc" = 0
	fi
	if [ "$sig" = KILL ] && [ "$delay" = 0 ]; then
		check "... saying it saved the paused guest as it was" contains "$err" "the guest is paused"
	fi
	check "... the machine is stopped, with $state" eval '! running && has_state "$state"'
	previous=$state
done
run start --nat -l "$previous"
check "the last state, $previous, starts and answers ssh ($err)" test "$rc" = 0

echo "# vm stop -s killed while it asks the guest to suspend, then stop -s and start -l"
# The guest may carry out the killed stop's request after vm is gone: the
# next stop must not ask again, or the second request is saved with the
# state and sends the guest back to sleep each time it is loaded. The kill
# comes 0.1 and 0.4 s after stop says it asks, and once the request is
# surely in the guest (its ssh has just returned).
boot=$(boot_id)
for point in 0.1 0.4 delivered; do
	state=k-$point
	stop_in_background "$state"
	wait_line "$work/stop.out" "suspending the guest"
	if [ "$point" = delivered ]; then
		for ((i = 0; i < 3000; i++)); do
			pgrep -P "$stopper" -x ssh >/dev/null && break
			sleep 0.01
		done
		while pgrep -P "$stopper" -x ssh >/dev/null; do sleep 0.01; done
	else
		sleep "$point"
	fi
	kill -KILL "$stopper"
	wait "$stopper" 2>/dev/null
	run stop -s "$state"
	check "SIGKILL $point into the suspend: the next stop -s works ($err)" test "$rc" = 0
	check "... giving the killed stop's request its time first" contains "$err" "an interrupted vm stop may have asked the guest to suspend already"
	run start --nat -l "$state"
	check "... start -l $state works ($err)" test "$rc" = 0
	check "... the guest did not go back to sleep once loaded" eval '! contains "$err" "went to sleep"'
	check "... it is the same boot, and answers ssh" test "$(boot_id)" = "$boot"
done

echo "# a state saved with a suspend still to come in the guest: start -l wakes it again"
# The guest asks to suspend again as soon as it has resumed once.
in_guest 'n=$(cat /sys/power/suspend_stats/success); setsid sh -c "while [ \$(cat /sys/power/suspend_stats/success) = $n ]; do usleep 50000; done; sudo -n systemctl suspend" </dev/null >/dev/null 2>&1 &'
run stop -s pending
check "stop -s pending ($err)" test "$rc" = 0
run start --nat -l pending
check "start -l pending works ($err)" test "$rc" = 0
check "... saying it woke the guest" contains "$err" "the guest went to sleep while vm waited for it to answer: waking it"
check "... the same boot answers ssh" test "$(boot_id)" = "$boot"

echo "# vm kill while stop -s saves"
# A guest with more to save makes the save last.
guest_says 'dd if=/dev/urandom of=/dev/shm/fill bs=1M count=48 2>/dev/null' || true
stop_in_background during-kill
wait_line "$work/stop.out" "saving the state as"
run kill
wait "$stopper" && stop_rc=0 || stop_rc=$?
check "kill waits for the save under way ($out)" contains "$out" "is saving the state of $mname: waiting for the save to finish"
check "... the stop finishes ($(cat "$work/stop.err"))" test "$stop_rc" = 0
check "... the state is whole" has_state during-kill
run start --nat -l during-kill
check "... and it starts ($err)" test "$rc" = 0

echo "# the emulator killed under vm stop -s"
for sig in KILL TERM; do
	running || "$VM" start --nat -l ready >/dev/null 2>&1
	stop_in_background dead
	wait_line "$work/stop.out" "suspending the guest"
	kill -"$sig" "$(qemu_pid "$ID")"
	wait "$stopper" && rc=0 || rc=$?
	err=$(cat "$work/stop.err")
	check "SIG$sig to the emulator: stop fails ($rc)" test "$rc" = 1
	check "... saying the emulator died ($err)" contains "$err" "the emulator of $mname died"
	[ "$sig" = TERM ] && check "... of SIGTERM" contains "$err" "(signal 15, Terminated)"
	check "... and how to go on" contains "$err" "'vm start' starts the machine again"
done

echo "# the emulator killed under vm archive"
run start --nat -l ready
"$VM" archive -v >"$work/archive.out" 2>"$work/archive.err" &
archiver=$!
wait_line "$work/archive.out" "syncing the guest"
kill -KILL "$(qemu_pid "$ID")"
wait "$archiver" && rc=0 || rc=$?
err=$(cat "$work/archive.err")
check "archive fails ($rc)" test "$rc" = 1
check "... saying the emulator died, not to resume it ($err)" contains "$err" "the emulator of $mname died"

if $small; then
	echo "# a full disk at the save"
	run start --nat -l ready
	fill_disk 2
	run stop -s full
	check "stop -s on a full disk fails" test "$rc" = 1
	check "... naming the full disk ($err)" contains "$err" "the disk holding $dir/$mname-backing.qcow2 is full ("
	check "... and what the save needs" contains "$err" "MiB free; about 256 MiB needed)"
	check "... the guest runs on" wait_ssh 60
	free_disk
	run stop -s full
	check "... once space is freed, stop -s works ($err)" test "$rc" = 0

	echo "# a full disk under the guest (io-error)"
	run start --nat -l ready
	fill_disk 1
	timeout 120 "$VM" ssh 'dd if=/dev/urandom of=$HOME/fill bs=1M count=24 conv=fsync' >/dev/null 2>&1 &
	writer=$!
	for ((i = 0; i < 600; i++)); do
		"$VM" cmd info status 2>/dev/null | grep -q io-error && break
		sleep 0.1
	done
	run status -s
	check "status shows the io-error pause ($out)" contains "$out" "guest io-error"
	check "... and what to do" contains "$out" "free space there, then resume the guest with 'vm cmd cont'"
	run stop -s stuck
	check "stop -s refuses while the guest waits for space" test "$rc" = 1
	check "... saying what to do ($err)" contains "$err" "then resume the guest with 'vm cmd cont'; then run vm stop again"
	free_disk
	run cmd cont
	check "after freeing space, vm cmd cont resumes the guest ($err)" test "$rc" = 0
	wait "$writer"
	check "... the guest's write completes, and it answers" guest_says 'rm $HOME/fill'
	run stop -s after-io-error
	check "... and stop -s works ($err)" test "$rc" = 0
else
	echo "SKIP: a full disk (mounting a small tmpfs needs root)"
fi

kill_all
finish
