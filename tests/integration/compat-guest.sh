#!/bin/bash
# Habits of the original's users on the real test guest: the original's own
# example-script (only its #! line adapted; tests/integration/compat/), with
# and without -u; the network helpers of functions-net.sh as a script uses
# them; 'vm cmd info status -v'; 'vm kill || ...'; -cpu host where KVM works.
# The guest boots once.
TEST_NAME=compat
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/guest.sh"
here=$(cd "$(dirname "$0")" && pwd)
lacks() { ! contains "$@"; }
export PATH="$(dirname "$VM"):$PATH" # for the example-script's #!/usr/bin/env vm

ID=$(free_id $((50 + RANDOM % 40)))
main=$work/tg
accel=tcg
[ -w /dev/kvm ] && [ -z "${VM_TEST_ACCEL-}" ] && accel=auto
guest_machine "$main" tg $ID "VM_QEMU_ACCEL=$accel"
machines+=("$main")
run init
check "vm init ($err)" test "$rc" = 0
run start --nat -v
check "start --nat boots the guest ($err)" test "$rc" = 0
[ "$failed" = 0 ] || { finish; exit 1; }

echo "# options anywhere, as the guide's own example"
run cmd info status -v
check "vm cmd info status -v: the monitor's answer ($out)" contains "$out" "VM status: running"
check "... -v was vm's: the monitor was not sent '-v'" lacks "$out" "Invalid parameter"

echo "# -cpu host with KVM"
pid=$(qemu_pid $ID)
cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline")
if contains "$cmdline" "-accel kvm"; then
	check "a KVM guest gets -cpu host" contains "$cmdline" "-cpu host"
else
	echo "ok - a KVM guest gets -cpu host # SKIP no usable /dev/kvm here (TCG)"
	check "a TCG guest keeps QEMU's default CPU" lacks "$cmdline" "-cpu"
fi

echo "# the original's example-script"
calling=$work/calling
mkdir -p "$calling"
cp "$here/compat/example-script" "$calling/"
cd "$calling" || exit 1
out=$(VM_HOME=$main ./example-script 2>"$work/stderr") && rc=0 || rc=$?
err=$(cat "$work/stderr")
check "without -u: it ends in vm_die (exit 1)" test "$rc" = 1
check "... with vm_die's message" \
	test "$err" = "vm: This line is never executed when ssh completes successfully!"
check "... vm_echo shows the (empty) parameters" contains "$out" "] called with parameters (try -u): ''"
check "... the machine's name, id and owner" \
	contains "$out" $'Name:  tg\nID:    '"$ID"$'\nOwner: '"$(id -un)"
check "... run in the machine directory" contains "$out" "Current directory:  $main"
check "... VM_HOME and VM_CALLING_DIR" \
	contains "$out" $'VM_HOME:            '"$main"$'\nVM_CALLING_DIR:     '"$calling"
out=$(VM_HOME=$main ./example-script -u 2>"$work/stderr") && rc=0 || rc=$?
err=$(cat "$work/stderr")
check "with -u: functions-net.sh loads ($err)" lacks "$err" "No such file"
check "... vm_echo shows the parameter" contains "$out" "] called with parameters (try -u): '-u'"
check "... vm_ssh uptime answers from the guest" contains "$out" " up "
check "... and the script goes on" contains "$out" " There is work to be done."
# The original fed scripts to bash on standard input, so ssh swallowed the
# rest of the script; vm runs the file (see vm(1), COMPATIBILITY).
check "... its last line runs under vm (exit 1)" test "$rc" = 1
cd "$main" || exit 1

echo "# functions-net.sh as a script uses it"
cat >"$work/net-script" <<'SCRIPT'
. $VM_LIB/functions-net.sh
vm_check_running && echo "running=$QPID"
echo "status=$(vm_get_status)"
echo "ssh=$(vm_check_ssh)"
echo "control=$(vm_get_control_method)"
echo "user=$(vm_ssh id -un)"
echo "root=$(vm_sudo id -u)"
vm_sync && echo synced
echo "ip=$(vm_get_ip)"
SCRIPT
run "$work/net-script"
check "the script succeeds ($err)" test "$rc" = 0
check "vm_check_running: running, QPID the emulator's pid" contains "$out" "running=$pid"
check "vm_get_status: running" contains "$out" "status=running"
check "vm_check_ssh: ok" contains "$out" "ssh=ok"
check "vm_get_control_method: the guest's systemctl" contains "$out" "control=/"
check "vm_ssh: the guest user" contains "$out" "user=$GUEST_USER"
check "vm_sudo: root in the guest" contains "$out" "root=0"
check "vm_sync" contains "$out" "synced"
check "vm_get_ip: VM_NET_HOST's address" bash -c '[[ $1 == *ip=127.0.0.1* || $1 == *ip=::1* ]]' _ "$out"

echo "# vm kill || ..."
run kill
check "kill of the running machine: exit 0 ($err)" test "$rc" = 0
"$VM" kill 2>/dev/null || fallback=yes
check "kill again fails, so 'vm kill || ...' takes the other branch" test "${fallback-}" = yes
run "$work/net-script"
check "vm_check_running: not running any more" lacks "$out" "running="
check "vm_get_status: nothing" contains "$out" $'status=\n'

finish
