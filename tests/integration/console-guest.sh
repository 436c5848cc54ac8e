#!/bin/bash
# vm console on the real test guest, driven through tmux as a person would:
# the login prompt appears, a login works, Ctrl-] detaches and restores the
# terminal, a second attach is refused with the first one's pid, attaching
# again works; --log shows the boot; a guest that never answers ssh makes
# vm start quote its console; VM_QEMU_EXTRA's own -serial is named.
TEST_NAME=console
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/guest.sh"

command -v tmux >/dev/null || { echo "SKIP: tmux is not installed (tests/setup-debian.sh installs it)"; exit 77; }
session=vmconsole-$$
# A tmux server of the test's own, its socket in the test's directory: the
# default one would make /tmp/tmux-UID, which outlives the test, and would
# put the session into a server the user may be running.
tmux_() { tmux -S "$work/tmux" "$@"; }
tmux_cleanup() {
	tmux_ kill-server 2>/dev/null
	guest_cleanup
}
trap tmux_cleanup EXIT

# no_serial_file: the machine's VM_QEMU_EXTRA without guest_machine's -serial.
no_serial_file() { sed -i 's/ -serial file:[^ "]*//' .vmrc; }
# pane: what the tmux pane shows now.
pane() { tmux_ capture-pane -p -t "$session" -S -200; }
# wait_pane TEXT SECONDS: until the pane shows TEXT.
wait_pane() {
	local end=$((SECONDS + $2))
	while ((SECONDS < end)); do
		pane | grep -qF -- "$1" && return 0
		sleep 0.3
	done
	detail=$(pane | tail -n 8)
	return 1
}
# attach: vm console in the tmux pane; when it ends, the terminal's settings
# are written to $work/stty.N and the status to $work/status.N.
attached=0
attach() {
	attached=$((attached + 1))
	local script="cd '$dir' && '$VM' console; echo \$? >'$work/status.$attached'; stty -a >'$work/stty.$attached'; sleep 600"
	if tmux_ has-session -t "$session" 2>/dev/null; then
		tmux_ respawn-pane -k -t "$session" "$script"
	else
		tmux_ new-session -d -s "$session" -x 100 -y 30 \
			-e VM_LIB="$VM_LIB" -e XDG_RUNTIME_DIR="$XDG_RUNTIME_DIR" "$script"
	fi
}
# restored N: attach N's terminal was back in cooked mode once it ended.
restored() { grep -qw icanon "$work/stty.$1" && grep -qw echo "$work/stty.$1" && ! grep -qw -- -icanon "$work/stty.$1"; }
console_pid() { pgrep -f -P "$(tmux_ display -p -t "$session" '#{pane_pid}')" "console" | head -n 1; }
wait_file() { # FILE SECONDS
	local end=$((SECONDS + $2))
	while ((SECONDS < end)); do [ -s "$1" ] && return 0; sleep 0.2; done
	return 1
}

ID=$(free_id $((50 + RANDOM % 40)))
dir=$work/con
guest_machine "$dir" con "$ID"
no_serial_file
machines+=("$dir")
run init
check "vm init ($err)" test "$rc" = 0
run start --nat
check "vm start --nat ($err)" test "$rc" = 0

echo "# --log: what the console showed"
run console --log
check "console --log shows the guest's login prompt" contains "$out" "testguest login:"

echo "# attach, log in, detach"
attach
check "vm console says how to detach" wait_pane "Ctrl-] detaches" 10
tmux_ send-keys -t "$session" Enter
check "the login prompt appears" wait_pane "testguest login:" 30
tmux_ send-keys -t "$session" "$GUEST_USER" Enter
check "... then the password prompt" wait_pane "Password:" 20
tmux_ send-keys -t "$session" "$GUEST_CONSOLE_PASSWORD" Enter
sleep 1
tmux_ send-keys -t "$session" 'echo "console says $((6 * 7)) as $(id -un)"' Enter
check "a login works: the guest's shell answers" wait_pane "console says 42 as $GUEST_USER" 20

first=$(console_pid)
run console </dev/null
check "a second attach is refused" test "$rc" = 1
check "... naming the first one's pid ($first)" contains "$err" "attached already (vm console, pid $first)"

tmux_ send-keys -t "$session" C-]
check "Ctrl-] detaches" wait_pane "Detached from the console of con" 10
wait_file "$work/stty.1" 10
check "... and vm console exits 0" test "$(cat "$work/status.1")" = 0
check "... with the terminal restored (echo, icanon)" restored 1

echo "# attach again"
attach
check "attaching again works" wait_pane "Ctrl-] detaches" 10
tmux_ send-keys -t "$session" 'echo "again $((6 * 7))"' Enter
check "... into the same login session" wait_pane "again 42" 20
kill -TERM "$(console_pid)"
wait_file "$work/stty.2" 10
check "SIGTERM ends vm console (status $(cat "$work/status.2"))" test "$(cat "$work/status.2")" = 143
check "... with the terminal restored" restored 2

echo "# the emulator ends while attached"
attach
check "attached a third time" wait_pane "Ctrl-] detaches" 10
run kill
check "vm kill while attached ($err)" test "$rc" = 0
check "vm console says the emulator closed the console" wait_pane "The emulator closed the console" 10
wait_file "$work/stty.3" 10
check "... exits 1" test "$(cat "$work/status.3")" = 1
check "... with the terminal restored" restored 3

echo "# refusals"
run console
check "console of a stopped machine exits 1" test "$rc" = 1
check "... saying it does not run" contains "$err" "con is not running"
sed -i 's|^VM_QEMU_EXTRA="|VM_QEMU_EXTRA="-serial null |' .vmrc
run console
check "a VM_QEMU_EXTRA with -serial is named" contains "$err" "VM_QEMU_EXTRA takes the serial port itself"
sed -i 's|^VM_QEMU_EXTRA="-serial null |VM_QEMU_EXTRA="|' .vmrc

echo "# a guest that never answers ssh: start quotes its console"
# No driver for this NIC in the guest: no network, so no ssh. Without
# "quiet" the kernel writes to the console from its first second on.
printf 'VM_NET_MODEL=rtl8139\n' >>.vmrc
sed -i 's/ quiet//' .vmrc
run start --nat -s 15
check "start gives up ($err)" test "$rc" = 1
check "... quoting the console's last lines" contains "$err" "Last lines of the console: "
quoted=$(sed -n 's/.*Last lines of the console: \([^;]\{1,20\}\).*/\1/p' <<<"$err")
start_err=$err
run console --log
check "... which are the guest's own ($quoted)" test -n "$quoted" -a "${out#*"$quoted"}" != "$out"
err=$start_err
check "... and pointing to vm console" contains "$err" "'vm console' to look"
run kill
check "kill ($err)" test "$rc" = 0
finish
