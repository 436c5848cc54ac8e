# Shared by the tests and benchmarks that run the real test guest: finding
# (or building) it, machine directories for it, and making sure no emulator
# outlives the test. Source it after lib.sh.

# The test guest: built once and cached (tests/guest/build-guest.sh).
src_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
guest_dir=${VM_TEST_GUEST_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vm/test-guest}
if [ ! -f "$guest_dir/guest.env" ] || [ -x "$src_dir/tests/guest/build-guest.sh" ]; then
	if [ -x "$src_dir/tests/guest/build-guest.sh" ]; then
		"$src_dir/tests/guest/build-guest.sh" "$guest_dir" >/dev/null 2>"$work/build-guest.log" || {
			cat "$work/build-guest.log"
			echo "FAIL: the test guest cannot be built"
			exit 1
		}
	else
		echo "SKIP: no test guest in $guest_dir and no tests/guest/build-guest.sh to build one"
		exit 77
	fi
fi
# shellcheck disable=SC1091
. "$guest_dir/guest.env"
cp "$GUEST_KNOWN_HOSTS" "$work/known_hosts"
# ssh refuses a key its owner's group or others can read, and a shared guest
# is world-readable: use a private copy.
install -m 600 "$GUEST_KEY" "$work/id_ed25519"
GUEST_KEY=$work/id_ed25519

# guest_machine DIR NAME ID [VMRC LINES...]: a machine directory for the test
# guest (its seed copied in), not yet initialised; cd into it.
guest_machine() {
	local dir=$1 name=$2 id=$3
	shift 3
	mkdir -p "$dir" && cd "$dir" || exit 1
	cat >.vmrc <<VMRC
VM_MACHINE_NAME=$name
VM_MACHINE_ID=$id
VM_MACHINE_OWNER=$(id -un)
VM_MACHINE_USER=$GUEST_USER
VM_MACHINE_MEM=256
VM_QEMU_ACCEL=${VM_TEST_ACCEL:-tcg}
VM_DISK_IF=virtio
VM_NET_MODEL=virtio-net-pci
VM_QEMU_EXTRA="-kernel $GUEST_KERNEL -initrd $GUEST_INITRD -append '$GUEST_APPEND' -device virtio-rng-pci -serial file:$dir/console.log"
VM_SSH_OPTS="-i $GUEST_KEY -o UserKnownHostsFile=$work/known_hosts"
VMRC
	printf '%s\n' "$@" >>.vmrc
	cp "$GUEST_SEED" "$name-seed.qcow2"
	chmod u+w "$name-seed.qcow2"
}

# Every machine directory a test made, so that no emulator outlives it.
machines=()
# kill_all: vm kill in every machine directory (then SIGKILL by pid file).
kill_all() {
	local dir pid
	for dir in "${machines[@]}"; do
		(cd "$dir" && "$VM" kill >/dev/null 2>&1)
	done
	for pid in "$state_dir"/*/*/qemu.pid "$XDG_RUNTIME_DIR"/vm/*/qemu.pid; do
		[ -f "$pid" ] && kill -9 "$(cat "$pid")" 2>/dev/null
	done
	return 0
}
guest_cleanup() {
	kill_all
	cleanup
}
trap guest_cleanup EXIT

# vmt ARGS...: vm with a time-out: a hung guest must fail the test, not CI.
vmt() { timeout 600 "$VM" "$@"; }
# in_guest COMMAND: a command in the guest, as the test user.
in_guest() { vmt ssh "$@"; }
# require DESCRIPTION COMMAND...: a step the rest depends on; the test ends
# at once when it fails.
require() {
	local before=$failed
	check "$@"
	[ "$failed" = "$before" ] || {
		finish
		exit 1
	}
}

# guest_says COMMAND: what the guest prints for COMMAND (run through vm ssh).
guest_says() { "$VM" ssh "$@" 2>/dev/null; }
boot_id() { guest_says cat /proc/sys/kernel/random/boot_id; }
uptime_s() { guest_says cat /proc/uptime | cut -d' ' -f1; }
# wait_ssh SECONDS: until the guest answers ssh.
wait_ssh() {
	local end=$((SECONDS + $1))
	while ((SECONDS < end)); do
		"$VM" ssh true 2>/dev/null && return 0
		sleep 1
	done
	return 1
}
qemu_pid() { cat "$(runtime_dir "$1")/qemu.pid" 2>/dev/null; }
