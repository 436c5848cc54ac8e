#!/bin/bash
# smoke-test.sh — boots the vm test guest under QEMU and checks everything vm
# relies on: ssh as the user and as root, sudo -n, the systemctl stand-in,
# S3 suspend and wake-up, the guest agent, savevm/-loadvm, ACPI power-down,
# guest-initiated power-off, both disk buses and both NICs, static network
# configuration from the kernel command line.
#
# Usage: tests/guest/smoke-test.sh [OUTDIR]   (OUTDIR: see build-guest.sh)
# Environment: SMOKE_ACCEL (default tcg), SMOKE_BOOT_TIMEOUT (s, default 120).
# Prints one `ok -`/`FAIL -` line per check, `# ` lines with timings, and
# `N passed, N failed` last; exits 0 only when nothing failed.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SCRIPT_DIR
readonly ACCEL=${SMOKE_ACCEL:-tcg}
readonly BOOT_TIMEOUT=${SMOKE_BOOT_TIMEOUT:-120}

PASSED=0
FAILED=0
QEMU_PID=
PORT=
TMP=

pass() {
	PASSED=$((PASSED + 1))
	printf 'ok - %s\n' "$*"
}
fail() {
	FAILED=$((FAILED + 1))
	printf 'FAIL - %s\n' "$*"
}
note() { printf '# %s\n' "$*"; }

# expect NAME WANTED GOT
expect() {
	if [[ $3 == "$2" ]]; then
		pass "$1"
	else
		fail "$1 (wanted '$2', got '$3')"
	fi
}

elapsed_since() {
	local now=$EPOCHREALTIME
	awk -v a="$1" -v b="$now" 'BEGIN { printf "%.1f", b - a }'
}

# ----------------------------------------------------------- plumbing ---

cleanup() {
	stop_qemu
	[[ -z $TMP ]] || rm -rf "$TMP"
}

# QMP (the monitor), HMP through QMP, and the guest agent protocol, in one
# small client; python3 because bash cannot talk to a unix socket.
write_client() {
	cat >"$TMP/client.py" <<'EOF'
import json, os, socket, sys

# The guest agent answers nothing to these when they succeed.
NO_REPLY = {"guest-shutdown", "guest-suspend-ram", "guest-suspend-disk",
            "guest-suspend-hybrid"}

def main():
    mode, path, command = sys.argv[1:4]
    args = json.loads(sys.argv[4]) if len(sys.argv) > 4 else None
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(30)
    sock.connect(path)
    f = sock.makefile("rw")

    def send(name, arguments=None):
        msg = {"execute": name}
        if arguments is not None:
            msg["arguments"] = arguments
        f.write(json.dumps(msg) + "\n")
        f.flush()

    def reply():
        while True:
            line = f.readline()
            if not line:
                sys.exit("connection closed")
            msg = json.loads(line)
            if "return" in msg or "error" in msg:
                return msg

    if mode == "qga":
        # Flush whatever an earlier client left in the channel.
        send("guest-sync", {"id": os.getpid()})
        while reply().get("return") != os.getpid():
            pass
    else:
        json.loads(f.readline())  # the greeting
        send("qmp_capabilities")
        reply()
    if mode == "hmp":
        send("human-monitor-command", {"command-line": command})
    else:
        send(command, args)
    if mode == "qga" and command in NO_REPLY:
        return
    msg = reply()
    if "error" in msg:
        sys.exit("%s: %s" % (command, msg["error"].get("desc")))
    if mode == "hmp":
        sys.stdout.write(msg["return"])
    else:
        print(json.dumps(msg["return"]))

main()
EOF
}

qmp() { timeout 40 python3 "$TMP/client.py" qmp "$TMP/qmp.sock" "$@"; }
hmp() { timeout 40 python3 "$TMP/client.py" hmp "$TMP/qmp.sock" "$1"; }
qga() { timeout 40 python3 "$TMP/client.py" qga "$TMP/qga.sock" "$@"; }

# Runs a command in the guest as USER, bounded in time.
guest() {
	local user=$1
	shift
	timeout 30 ssh -i "$TMP/id_ed25519" -o UserKnownHostsFile="$GUEST_KNOWN_HOSTS" \
		-o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=10 \
		-o LogLevel=ERROR -p "$PORT" "$user@127.0.0.1" "$@"
}

qemu_alive() { [[ -n $QEMU_PID ]] && kill -0 "$QEMU_PID" 2>/dev/null; }

stop_qemu() {
	if qemu_alive; then
		kill "$QEMU_PID" 2>/dev/null || true
		wait "$QEMU_PID" 2>/dev/null || true
	fi
	QEMU_PID=
}

show_logs() {
	note "last lines of the emulator's stderr and the guest console:"
	tail -n 5 "$TMP/qemu.err" "$TMP/console.log" 2>/dev/null | sed 's/^/#   /'
}

# start_qemu MACHINE DISK_IF NIC APPEND_EXTRA [QEMU_ARGS...]
# Boots the guest on the overlay TMP/disk.qcow2 with the guest's ssh port
# forwarded to a loopback port that QEMU picks (port 0: no race for a free
# port); sets PORT from the monitor.
start_qemu() {
	local machine=$1 disk_if=$2 nic=$3 append=$4 i
	shift 4
	rm -f "$TMP/qmp.sock" "$TMP/qga.sock"
	qemu-system-x86_64 -machine "$machine" -accel "$ACCEL" -m 256 \
		-display none -serial "file:$TMP/console.log" -monitor none \
		-kernel "$GUEST_KERNEL" -initrd "$GUEST_INITRD" \
		-append "$GUEST_APPEND $append" \
		-drive "file=$TMP/disk.qcow2,format=qcow2,if=$disk_if" \
		-netdev user,id=n0,hostfwd=tcp:127.0.0.1:0-:22 \
		-device "$nic,netdev=n0" \
		-qmp "unix:$TMP/qmp.sock,server=on,wait=off" \
		"$@" </dev/null >"$TMP/qemu.err" 2>&1 &
	QEMU_PID=$!
	for ((i = 0; i < 100; i++)); do
		[[ -S $TMP/qmp.sock ]] && break
		qemu_alive || break
		sleep 0.1
	done
	PORT=$(hmp 'info usernet' 2>/dev/null | awk '/HOST_FORWARD/ { print $4; exit }')
	[[ -n $PORT ]]
}

# Agent channel, as vm adds it with VM_GUEST_AGENT=yes.
agent_args() {
	printf '%s\n' -device virtio-serial \
		-chardev "socket,id=qga0,path=$TMP/qga.sock,server=on,wait=off" \
		-device virtserialport,chardev=qga0,name=org.qemu.guest_agent.0
}

# With user networking the host side of a forwarded port always accepts, so
# only the server's banner shows that sshd is there.
wait_banner() {
	local deadline=$((SECONDS + $1)) line
	while ((SECONDS < deadline)); do
		qemu_alive || return 1
		# shellcheck disable=SC2016 # $1 is the inner shell's
		line=$(timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" &&
			IFS= read -r -t 2 line <&3 && printf "%s" "$line"' _ "$PORT" 2>/dev/null) || true
		[[ $line != SSH-* ]] || return 0
		sleep 0.2
	done
	return 1
}

# wait_status STATUS SECONDS: the emulator's run state (query-status).
wait_status() {
	local deadline=$((SECONDS + $2)) status=
	while ((SECONDS < deadline)); do
		status=$(qmp query-status 2>/dev/null | sed -n 's/.*"status": "\([a-z-]*\)".*/\1/p')
		[[ $status != "$1" ]] || return 0
		sleep 0.2
	done
	return 1
}

# wait_exit SECONDS: the emulator ends by itself (the guest powered off).
wait_exit() {
	local deadline=$((SECONDS + $1))
	while ((SECONDS < deadline)); do
		if ! qemu_alive; then
			wait "$QEMU_PID" 2>/dev/null || true
			QEMU_PID=
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# boot NAME: waits for ssh, prints the time it took; false (and logs) if not.
boot() {
	local t0=$1 name=$2
	if wait_banner "$BOOT_TIMEOUT"; then
		pass "$name: ssh banner"
		note "timing: $name: emulator start to ssh banner $(elapsed_since "$t0") s"
	else
		fail "$name: no ssh banner within ${BOOT_TIMEOUT}s"
		show_logs
		stop_qemu
		return 1
	fi
}

new_overlay() {
	rm -f "$TMP/disk.qcow2"
	qemu-img create -q -f qcow2 -b "$GUEST_SEED" -F qcow2 "$TMP/disk.qcow2"
}

# -------------------------------------------------------------- steps ---

build_guest() {
	local t0=$EPOCHREALTIME dir
	if ! dir=$("$SCRIPT_DIR/build-guest.sh" "$@" | tail -n 1) || [[ ! -f $dir/guest.env ]]; then
		fail "build-guest.sh"
		return 1
	fi
	pass "build-guest.sh (or its cache)"
	note "timing: build-guest.sh $(elapsed_since "$t0") s"
	# shellcheck source=/dev/null
	. "$dir/guest.env"
	# A private copy: ssh refuses a key others can read, and a guest built
	# by root for everyone (chmod a+rX) has such a key.
	install -m 0600 "$GUEST_KEY" "$TMP/id_ed25519"
}

check_logins() {
	local name=$1 user_id root_id
	user_id=$(guest "$GUEST_USER" cat /proc/sys/kernel/random/boot_id) || user_id=
	root_id=$(guest root cat /proc/sys/kernel/random/boot_id) || root_id=
	if [[ -n $user_id ]]; then pass "$name: ssh as $GUEST_USER"; else fail "$name: ssh as $GUEST_USER"; fi
	if [[ -n $root_id ]]; then pass "$name: ssh as root"; else fail "$name: ssh as root"; fi
	expect "$name: same boot_id for both users" "$user_id" "$root_id"
	BOOT_ID=$user_id
}

check_accounts() {
	expect "sudo -n as $GUEST_USER runs as root" 0 \
		"$(guest "$GUEST_USER" sudo -n id -u 2>&1 || true)"
	# Only the test user may use sudo: nobody (uid 65534) must be refused.
	if guest root "su -s /bin/sh nobody -c 'sudo -n id -u'" >/dev/null 2>&1; then
		fail "sudo refuses other users"
	else
		pass "sudo refuses other users"
	fi
	expect "systemctl is-system-running" running \
		"$(guest "$GUEST_USER" systemctl is-system-running 2>&1 || true)"
	expect "hostname" "$GUEST_HOSTNAME" "$(guest "$GUEST_USER" hostname 2>&1 || true)"
	expect "timers work (sleep 1 under timeout 10)" slept \
		"$(guest "$GUEST_USER" 'timeout 10 sleep 1 && echo slept' 2>&1 || true)"
}

check_agent() {
	expect "guest agent answers guest-ping" '{}' "$(qga guest-ping 2>&1 || true)"
}

# suspend NAME COMMAND...: COMMAND suspends the guest to RAM; QEMU must say
# "suspended", wake it with system_wakeup, and the same boot must answer.
check_suspend() {
	local name=$1 t0 id
	shift
	if ! "$@" >/dev/null 2>&1; then
		fail "suspend via $name: the command failed"
		return
	fi
	if wait_status suspended 20; then
		pass "suspend via $name: QEMU reports suspended"
	else
		fail "suspend via $name: QEMU never reported suspended"
		return
	fi
	t0=$EPOCHREALTIME
	qmp system_wakeup >/dev/null || fail "system_wakeup refused"
	if wait_status running 10 && id=$(guest root cat /proc/sys/kernel/random/boot_id); then
		expect "suspend via $name: resumed, same boot" "$BOOT_ID" "$id"
		note "timing: system_wakeup to ssh answer $(elapsed_since "$t0") s"
	else
		fail "suspend via $name: no answer after system_wakeup"
	fi
}

# The virtio machine with the agent: logins, accounts, suspend twice, a
# snapshot for the next step, then ACPI power-down.
test_virtio_machine() {
	local t0=$EPOCHREALTIME agent
	mapfile -t agent < <(agent_args)
	new_overlay
	start_qemu pc virtio virtio-net-pci "" -device virtio-rng-pci "${agent[@]}" ||
		{
			fail "virtio: emulator did not start"
			show_logs
			return
		}
	boot "$t0" virtio || return 0
	check_logins virtio
	check_accounts
	check_agent
	check_suspend "ssh sudo -n systemctl suspend" \
		guest "$GUEST_USER" sudo -n systemctl suspend
	check_suspend "guest agent guest-suspend-ram" qga guest-suspend-ram

	if hmp 'savevm smoke' >/dev/null && hmp 'info snapshots' | grep -q smoke; then
		pass "savevm smoke"
	else
		fail "savevm smoke"
	fi
	t0=$EPOCHREALTIME
	qmp system_powerdown >/dev/null || true
	if wait_exit 10; then
		pass "system_powerdown: the emulator exits"
		note "timing: system_powerdown to emulator exit $(elapsed_since "$t0") s"
	else
		fail "system_powerdown: the emulator still runs after 10 s"
		show_logs
		stop_qemu
	fi
}

# -loadvm of the snapshot above: the same boot goes on at once; then the
# guest powers itself off the way `vm stop -p` asks it to.
test_loadvm() {
	local t0=$EPOCHREALTIME id agent
	mapfile -t agent < <(agent_args)
	start_qemu pc virtio virtio-net-pci "" -device virtio-rng-pci "${agent[@]}" \
		-loadvm smoke || {
		fail "loadvm: emulator did not start"
		show_logs
		return
	}
	boot "$t0" loadvm || return 0
	id=$(guest root cat /proc/sys/kernel/random/boot_id) || id=
	expect "loadvm: same boot as when saved" "$BOOT_ID" "$id"
	expect "loadvm: timers work" slept \
		"$(guest "$GUEST_USER" 'timeout 10 sleep 1 && echo slept' 2>&1 || true)"
	t0=$EPOCHREALTIME
	guest "$GUEST_USER" sudo -n systemctl poweroff >/dev/null 2>&1 || true
	if wait_exit 15; then
		pass "sudo -n systemctl poweroff: the emulator exits"
		note "timing: systemctl poweroff to emulator exit $(elapsed_since "$t0") s"
	else
		fail "sudo -n systemctl poweroff: the emulator still runs after 15 s"
		stop_qemu
	fi
}

# vm's defaults: IDE disk, e1000, no virtio-rng; here with a static address
# and host name from the kernel command line.
test_vm_defaults() {
	local machine=$1 name="$1+ide+e1000" t0=$EPOCHREALTIME agent
	mapfile -t agent < <(agent_args)
	new_overlay
	start_qemu "$machine" ide e1000 \
		"vm.ip=10.0.2.15/24 vm.gw=10.0.2.2 vm.hostname=static-guest" "${agent[@]}" ||
		{
			fail "$name: emulator did not start"
			show_logs
			return
		}
	boot "$t0" "$name" || return 0
	check_logins "$name"
	expect "$name: root file system on /dev/sda" /dev/sda \
		"$(guest root "awk '\$2 == \"/\" { print \$1 }' /proc/mounts" 2>&1 || true)"
	expect "$name: host name from vm.hostname" static-guest \
		"$(guest root hostname 2>&1 || true)"
	expect "$name: address from vm.ip" 10.0.2.15/24 \
		"$(guest root "ip -4 -o addr show dev eth0 | awk '{ print \$4 }'" 2>&1 || true)"
	t0=$EPOCHREALTIME
	qga guest-shutdown >/dev/null 2>&1 || true
	if wait_exit 15; then
		pass "$name: guest agent guest-shutdown: the emulator exits"
		note "timing: guest-shutdown to emulator exit $(elapsed_since "$t0") s"
	else
		fail "$name: guest agent guest-shutdown: the emulator still runs after 15 s"
		show_logs
		stop_qemu
	fi
}

main() {
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/vm-smoke.XXXXXX")
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	write_client
	if build_guest "$@"; then
		test_virtio_machine
		test_loadvm
		test_vm_defaults pc
		test_vm_defaults q35
	fi
	printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
	((FAILED == 0))
}

main "$@"
