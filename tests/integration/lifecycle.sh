#!/bin/bash
# The emulator's lifecycle on the real test guest under QEMU: run, start,
# status, ssh, cmd, stop (suspend + save, -n, -p, -r), start -l, kill, two
# machines at once, VM_USE_SNAPSHOTS=no, and an emulator that dies at start.
# The guest boots once; every test starts from its saved "ready" state.
TEST_NAME=lifecycle
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/guest.sh"

# Ids are picked just before use, with their NAT port free at that moment.
ID=$(free_id $((50 + RANDOM % 40)))
main=$work/tg

echo "# boot once and save the ready state"
guest_machine "$main" tg $ID
machines+=("$main")
run init
check "vm init makes base and backing ($err)" test "$rc" = 0
run start --nat
check "start --nat boots the guest ($err)" test "$rc" = 0
ready_boot_id=$(boot_id)
check "the guest answers ssh with its boot_id ($ready_boot_id)" \
	test "${#ready_boot_id}" = 36
run stop -s ready
check "stop -s ready succeeds ($err)" test "$rc" = 0
[ "$failed" = 0 ] || { finish; exit 1; }

echo "# run --nat in the background, then cmd"
"$VM" run --nat -l ready >"$work/run.out" 2>&1 &
runner=$!
for ((i = 0; i < 300; i++)); do
	run cmd info status
	[ "$rc" = 0 ] && break
	sleep 0.1
done
check "cmd info status answers while run is in the foreground ($err)" \
	test "$out" = "VM status: running"
run cmd --json query-status
check "cmd --json sends raw QMP" contains "$out" '"status":"running"'
run cmd --json '{"execute":"no-such-command"}'
check "a refused QMP command exits 1" test "$rc" = 1
check "... and its error reply is shown" contains "$out" CommandNotFound
run start --nat
check "start while run runs is refused" test "$rc" = 1
check "... saying it already runs" contains "$err" "already running"
run kill
check "kill ends the emulator of run ($err)" test "$rc" = 0
wait "$runner"
check "run exits 0 once the emulator quits" test "$?" = 0
run cmd info status
check "cmd on a stopped machine exits 1" test "$rc" = 1
check "... saying it does not run" contains "$err" "tg is not running"
run kill
check "kill of a stopped machine fails, as the original's" test "$rc" = 1
check "... saying so on stderr" contains "$err" "virtual machine tg is not running"

echo "# run refusals"
run run --nat -- -daemonize
check "run refuses -daemonize" test "$rc" = 1
check "... naming it" contains "$err" "-daemonize is not allowed"
VM_NETD=/nonexistent run run
check "run without --nat and without vm-netd points to --nat" contains "$err" "cannot be run: No such file or directory; install vm with 'meson install' (it installs vm-netd setuid root); or use --nat"
run run --nat --bridge
check "--nat and --bridge exclude each other" test "$rc" = 1

out=$(VM_QEMU_DISPLAY=curses "$VM" start --nat 2>&1) && rc=0 || rc=$?
check "start refuses a curses display without --encapsulate" contains "$out" "use --encapsulate"

echo "# Ctrl-C while start waits stops the emulator"
sed -i 's/^VM_SSH_OPTS=.*/VM_SSH_OPTS="-o IdentitiesOnly=yes -i \/dev\/null"/' .vmrc
run start --nat -l ready -s 2
check "start -s 2 gives up when ssh does not log in" test "$rc" = 1
check "... after 2 attempts, with ssh's reason ($err)" \
	contains "$err" "did not answer ssh at tester@127.0.0.1:22$ID after 2 attempts (last: ssh"
check "... and says the emulator still runs" contains "$err" "the emulator is still running"
run status -s
check "status -s: running and reachable without logging in" test "$rc" = 0
check "... ssh not checked" contains "$out" "ssh:       not checked"
"$VM" kill >/dev/null
"$VM" start --nat -l ready >"$work/start.out" 2>&1 &
starter=$!
for ((i = 0; i < 300; i++)); do
	[ -S "$(runtime_dir $ID)/qmp.sock" ] && [ -n "$(qemu_pid $ID)" ] && break
	sleep 0.1
done
pid=$(qemu_pid $ID)
kill -INT "$starter"
wait "$starter"
check "start exits 1 when interrupted" test "$?" = 1
check "... saying the emulator was stopped" contains "$(cat "$work/start.out")" "interrupted; the emulator was stopped"
check "the emulator is gone" gone "$pid"
sed -i "s|^VM_SSH_OPTS=.*|VM_SSH_OPTS=\"-i $GUEST_KEY -o UserKnownHostsFile=$work/known_hosts\"|" .vmrc

echo "# start, status, ssh"
run start --nat -l ready
check "start -l ready succeeds ($err)" test "$rc" = 0
check "the monitor is a socket in a private runtime directory" \
	test "$(stat -c %a "$(runtime_dir $ID)")" = 700 -a -S "$(runtime_dir $ID)/qmp.sock"
check "the emulator listens on nothing but the loopback ssh forward" \
	test "$(ss -Hltunp | grep "pid=$(qemu_pid $ID)," | awk '{print $5}' | xargs)" = "127.0.0.1:22$ID"
run status
check "status exits 0 when running and reachable ($out)" test "$rc" = 0
check "status shows the emulator running" contains "$out" "guest running"
check "status shows the forwarded ssh address" contains "$out" "tester@127.0.0.1:22$ID"
check "status logs in over ssh" contains "$out" "ssh:       yes"
run status --json
check "status --json is JSON with running true" \
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(not (d["running"] and d["ssh"] and d["network"]=="nat"))' "$out"
run status -q
check "status -q prints nothing" test -z "$out" -a "$rc" = 0
run status -v
check "status -v names the guest's control method" contains "$out" "control:   systemctl"
run status -q -v
check "status -q and -v exclude each other" test "$rc" = 1
check "ssh runs a command in the guest: the ready state's boot_id" \
	test "$(boot_id)" = "$ready_boot_id"
check "ssh passes the exit status through" test "$("$VM" ssh 'exit 7' 2>/dev/null; echo $?)" = 7
run list --json
check "list --json shows the machine" \
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(not any(m["name"]=="tg" and m["id"]=="'$ID'" and m["state"]=="running" for m in d))' "$out"
run start --nat
check "start of a running machine is refused" test "$rc" = 1
check "... saying so" contains "$err" "already running"

echo "# stop -s, then start -l: the same guest carries on"
before_boot=$(boot_id)
before_up=$(uptime_s)
pid=$(qemu_pid $ID)
run stop -s s1
check "stop -s s1 succeeds ($err)" test "$rc" = 0
check "the emulator is gone" gone "$pid"
check "the state was recorded as saved while suspended" grep -qx "s1 waking" tg-backing.qcow2.suspended
check "the image holds the state" contains "$(qemu-img snapshot -l tg-backing.qcow2)" " s1 "
run start --nat -l s1
check "start -l s1 succeeds ($err)" test "$rc" = 0
check "the same boot_id after the restore" test "$(boot_id)" = "$before_boot"
after_up=$(uptime_s)
check "the uptime carried on ($before_up -> $after_up)" \
	awk -v a="$before_up" -v b="$after_up" 'BEGIN { exit !(b > a) }'
check "the guest's timers work after the resume (sleep 1 returns)" \
	timeout 20 "$VM" ssh "sleep 1" 

run cmd savevm tmp1
check "cmd savevm saves a state" contains "$(qemu-img snapshot -U -l tg-backing.qcow2)" " tmp1 "
check "... recorded as saved while running: no record" test -z "$(grep '^tmp1 ' tg-backing.qcow2.suspended)"
run cmd delvm s1
check "cmd delvm deletes a state ($err)" test "$rc" = 0
check "... and its record" test -z "$(grep '^s1 ' tg-backing.qcow2.suspended 2>/dev/null)"
run status -s
check "status lists the saved states, the one saved asleep marked ($(grep states: <<<"$out"))" \
	contains "$out" "states:    ready (asleep), tmp1"
run status -s --json
check "... and status --json, with whether each was saved asleep" \
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(not ([(s["name"], s["asleep"]) for s in d["states"]] == [("ready", True), ("tmp1", False)] and all(s["saved"] > 0 for s in d["states"])))' "$out"

echo "# stop -n -s: saved while running"
run stop -n -s s2
check "stop -n -s s2 succeeds ($err)" test "$rc" = 0
check "s2 is not recorded as suspended" test -z "$(grep '^s2 ' tg-backing.qcow2.suspended)"
run start --nat -l s2
check "start -l s2 succeeds ($err)" test "$rc" = 0
check "s2 is the same guest" test "$(boot_id)" = "$before_boot"

echo "# stop -r -s: the state is saved, the guest reboots, the emulator keeps running"
pid=$(qemu_pid $ID)
run stop -r -s before-reboot
check "stop -r -s succeeds ($err)" test "$rc" = 0
check "... saying once what the state holds" test "$err" = \
	"vm: stop: warning: the state before-reboot holds the machine from before this reboot: 'vm start -l before-reboot' brings it back as it was then"
check "... and saving it" contains "$(qemu-img snapshot -U -l tg-backing.qcow2)" " before-reboot "
check "the emulator still runs" test -n "$pid" -a ! "$(gone "$pid" && echo gone)"
check "the guest comes back over ssh" wait_ssh 120
rebooted=$(boot_id)
check "with a new boot_id" test -n "$rebooted" -a "$rebooted" != "$before_boot"

echo "# stop -p: the guest powers off, the emulator ends"
pid=$(qemu_pid $ID)
run stop -p -v
check "stop -p succeeds ($err)" test "$rc" = 0
check "the guest reached shutdown" contains "$out" "the guest has shut down"
check "the emulator is gone" gone "$pid"
run status -q
check "status now exits 1" test "$rc" = 1
run status -s
check "status of the stopped machine lists its saved states ($(grep states: <<<"$out"))" \
	contains "$out" "states:    ready (asleep), tmp1, s2, before-reboot"
check "the guest said it powers off" grep -q "reboot: Power down" console.log

echo "# stop -p without ssh: ACPI power-down"
run start --nat -l ready
pid=$(qemu_pid $ID)
sed -i 's/^VM_SSH_OPTS=.*/VM_SSH_OPTS="-o IdentitiesOnly=yes -i \/dev\/null"/' .vmrc
run stop -p -v
check "stop -p falls back to ACPI ($err)" contains "$out" "falling back to ACPI power-down"
check "... and succeeds" test "$rc" = 0
check "the emulator is gone" gone "$pid"
sed -i "s|^VM_SSH_OPTS=.*|VM_SSH_OPTS=\"-i $GUEST_KEY -o UserKnownHostsFile=$work/known_hosts\"|" .vmrc

echo "# a paused guest: stop -p and -r refuse at once, stop -n quits without a sync"
run start --nat -l ready
pid=$(qemu_pid $ID)
vmt cmd stop >/dev/null
for how in "-p power off" "-r reboot"; do
	run stop ${how%% *}
	check "stop ${how%% *} is refused ($err)" test "$rc" = 1 -a "$err" = \
		"vm: stop: the guest is paused, so it cannot ${how#* }: resume it with 'vm cmd cont' first, or quit the emulator as it is with 'vm stop -n'"
done
check "... leaving the guest paused" contains "$(vmt cmd info status)" "paused"
run stop -n -v
check "stop -n succeeds ($err)" test "$rc" = 0
check "... saying it quits without a sync" contains "$err" \
	"warning: the guest is paused, so its file systems cannot be synced: the emulator quits without ('vm cmd cont' first lets vm stop sync them)"
check "... trying none" eval '! contains "$out" "syncing the guest"'
check "the emulator is gone" gone "$pid"

echo "# kill of a hung guest"
run start --nat -l ready
pid=$(qemu_pid $ID)
kill -STOP "$pid"
run kill -v
check "kill of a hung emulator succeeds ($err)" test "$rc" = 0
check "... saying it had to kill it" contains "$out" "it was killed"
check "the emulator is gone" gone "$pid"

echo "# two machines at once"
ID2=$(free_id "$ID")
second=$work/tg2
guest_machine "$second" tg2 $ID2
machines+=("$second")
run init
cp "$main/tg-backing.qcow2" tg2-backing.qcow2
qemu-img rebase -u -F qcow2 -b tg2-base.qcow2 tg2-backing.qcow2
run start --nat -l ready
check "the second machine starts ($err)" test "$rc" = 0
cd "$main"
run start --nat -l ready
check "the first starts beside it ($err)" test "$rc" = 0
run list --json
check "list shows both" \
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(sorted(m["id"] for m in d) != ["'$ID'","'$ID2'"])' "$out"
guest_says 'echo one >/tmp/which'
(cd "$second" && guest_says 'echo two >/tmp/which')
check "each ssh reaches its own guest" \
	test "$(guest_says cat /tmp/which)/$(cd "$second" && guest_says cat /tmp/which)" = one/two
run kill
check "kill of one machine" test "$rc" = 0
(cd "$second" && "$VM" status -q)
check "leaves the other running" test "$?" = 0
pid=$(qemu_pid $ID2)
(cd "$second" && "$VM" stop -n -v >"$work/stop-n.out" 2>&1)
check "stop -n syncs the guest and quits" test "$?" = 0 -a "$(gone "$pid" && echo gone)" = gone
check "... syncing through ssh first" grep -q "syncing the guest's file systems through ssh" "$work/stop-n.out"

echo "# VM_USE_SNAPSHOTS=no"
ID2=$(free_id "$ID")
single=$work/tg3
guest_machine "$single" tg3 $ID2 VM_USE_SNAPSHOTS=no
machines+=("$single")
cp "$main/tg-backing.qcow2" tg3.qcow2
qemu-img rebase -u -F qcow2 -b "$main/tg-base.qcow2" tg3.qcow2
run start --nat -l ready -v
check "start runs the single image ($err)" test "$rc" = 0
check "... NAME.FMT" contains "$out" "file=tg3.qcow2,"
check "the guest answers" test "$(boot_id)" = "$ready_boot_id"
run stop -n -s n1
check "stop -n -s saves into the single image ($err)" \
	contains "$(qemu-img snapshot -l tg3.qcow2)" " n1 "
run stop
check "stop alone asks for -s NAME or -n" contains "$err" "name the state to save with -s NAME, or give -n"
run stop -n
check "stop of a stopped machine says it does not run" contains "$err" "tg3 is not running"

echo "# VM_GUEST_AGENT=yes: suspend and power-off through the guest agent"
ID2=$(free_id "$ID")
agent=$work/tga
guest_machine "$agent" tga $ID2 VM_GUEST_AGENT=yes
machines+=("$agent")
run init
run start --nat
check "a machine with the agent channel boots ($err)" test "$rc" = 0
agent_boot=$(boot_id)
# Without ssh, only the agent can do it.
sed -i 's/^VM_SSH_OPTS=.*/VM_SSH_OPTS="-o IdentitiesOnly=yes -i \/dev\/null"/' .vmrc
run stop -v -s a1
check "stop -s suspends through the agent ($err)" test "$rc" = 0
check "... saying so" contains "$out" "suspending the guest through the guest agent"
sed -i "s|^VM_SSH_OPTS=.*|VM_SSH_OPTS=\"-i $GUEST_KEY -o UserKnownHostsFile=$work/known_hosts\"|" .vmrc
run start --nat -l a1
check "start -l a1 brings it back ($err)" test "$rc" = 0
check "the same guest" test "$(boot_id)" = "$agent_boot"
"$VM" ssh 'echo written-before-stop > agent-sync-marker'
sed -i 's/^VM_SSH_OPTS=.*/VM_SSH_OPTS="-o IdentitiesOnly=yes -i \/dev\/null"/' .vmrc
run stop -v -n
check "stop -n syncs through the agent ($err)" \
	contains "$out" "syncing the guest's file systems through the guest agent"
sed -i "s|^VM_SSH_OPTS=.*|VM_SSH_OPTS=\"-i $GUEST_KEY -o UserKnownHostsFile=$work/known_hosts\"|" .vmrc
run start --nat
check "a fresh boot after stop -n ($err)" test "$rc" = 0
check "... finds what was written before it" \
	test "$("$VM" ssh cat agent-sync-marker 2>&1)" = written-before-stop
pid=$(qemu_pid $ID2)
run stop -v -p
check "stop -p powers off through the agent ($err)" \
	contains "$out" "powering the guest off through the guest agent"
check "... and the emulator is gone" gone "$pid"

echo "# an emulator that dies at start"
ID2=$(free_id "$ID")
broken=$work/broken
guest_machine "$broken" broken $ID2
machines+=("$broken")
echo 'VM_QEMU_EXTRA="-device no-such-device"' >>.vmrc
run init
run start --nat
check "start exits 1" test "$rc" = 1
check "... saying the emulator exited ($err)" contains "$err" "the emulator exited at start"
check "... quoting its error" contains "$err" "-device no-such-device: 'no-such-device'"
run status -q
check "nothing is left running" test "$rc" = 1

finish
