#!/bin/bash
# vm export under a real libvirt (Debian 12: libvirt 9.0, QEMU 7.2, TCG):
# the real test guest boots once with vm and saves its state; its export is
# defined in libvirt; the saved state, redefined as a libvirt snapshot,
# resumes under libvirt (the guest's agent answers with the same boot_id);
# a plain virsh start boots it afresh (a new boot_id); destroy, snapshot
# metadata and undefine clean up. libvirtd runs in a network namespace of its
# own, so whatever network it would set up stays there; it and virtlogd are
# started here (no systemd needed) and stopped by pid at the end. Root only.
TEST_NAME=export-libvirt
skip() { echo "SKIP: $*"; exit 77; }
[ "${ROOT_TESTS:-auto}" = disabled ] && skip "root tests disabled (-Droot_tests=disabled)"
if [ "$(id -u)" != 0 ]; then
	[ "${ROOT_TESTS:-auto}" = enabled ] && { echo "FAIL: root tests enabled, not root"; exit 1; }
	skip "libvirt's system instance runs as root (it starts the emulator as libvirt-qemu)"
fi
for tool in virsh libvirtd virtlogd virt-xml-validate unshare; do
	command -v $tool >/dev/null ||
		skip "$tool is missing (tests/setup-debian.sh installs libvirt-daemon-system libvirt-clients)"
done
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../guest.sh"

export LIBVIRT_DEFAULT_URI=qemu:///system
daemons=()
dom= domlog=
stop_daemons() {
	local pid
	for pid in "${daemons[@]}"; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	daemons=()
}
libvirt_cleanup() {
	if [ -n "$dom" ]; then
		virsh destroy "$dom" >/dev/null 2>&1
		virsh snapshot-delete "$dom" --current --metadata >/dev/null 2>&1
		virsh undefine "$dom" --snapshots-metadata >/dev/null 2>&1
	fi
	[ -n "$domlog" ] && rm -f "$domlog"
	[ -n "${bridged:-}" ] && virsh undefine "$bridged" >/dev/null 2>&1
	stop_daemons
	guest_cleanup
}
trap libvirt_cleanup EXIT

# A daemon the machine already runs (systemd's) is used as it is; else
# virtlogd (libvirt sends the emulator's output through it) and libvirtd,
# in the foreground, by pid.
if ! virsh version >/dev/null 2>&1; then
	virtlogd >"$work/virtlogd.log" 2>&1 &
	daemons+=($!)
	unshare --net libvirtd >"$work/libvirtd.log" 2>&1 &
	daemons+=($!)
	for ((i = 0; i < 600; i++)); do
		virsh version >/dev/null 2>&1 && break
		sleep 0.1
	done
fi
virsh version >/dev/null 2>&1 || {
	echo "FAIL - libvirtd did not answer"
	tail "$work/libvirtd.log" "$work/virtlogd.log" 2>/dev/null
	exit 1
}
pass "libvirt answers (started here: ${#daemons[@]} daemons)"

not_contains() { ! contains "$1" "$2"; }
# agent DOMAIN JSON: the guest agent's answer through libvirt.
agent() { virsh qemu-agent-command "$1" "$2" --timeout 5 2>/dev/null; }
# wait_agent DOMAIN SECONDS: until the agent answers guest-ping.
wait_agent() {
	local end=$((SECONDS + $2))
	while ((SECONDS < end)); do
		agent "$1" '{"execute":"guest-ping"}' | grep -q '"return"' && return 0
		sleep 1
	done
	return 1
}
# agent_boot_id DOMAIN: the guest's boot_id, read by the agent.
agent_boot_id() {
	local pid
	pid=$(agent "$1" '{"execute":"guest-exec","arguments":{"path":"/bin/cat","arg":["/proc/sys/kernel/random/boot_id"],"capture-output":true}}' |
		sed -n 's/.*"pid":\([0-9]*\).*/\1/p')
	[ -n "$pid" ] || return 1
	for ((i = 0; i < 50; i++)); do
		local status
		status=$(agent "$1" "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":$pid}}")
		if contains "$status" '"exited":true'; then
			sed -n 's/.*"out-data":"\([^"]*\)".*/\1/p' <<<"$status" | base64 -d
			return 0
		fi
		sleep 0.1
	done
	return 1
}

ID=$(free_id $((50 + RANDOM % 40)))
dir=$work/lv
dom=vm-export-test-$ID
domlog=/var/log/libvirt/qemu/$dom.log
# libvirt's emulator runs as libvirt-qemu: it must reach the images and the
# kernel, so the directories are searchable and the kernel is beside them
# (relative, as a user may write it; the export makes it absolute).
chmod 711 "$work"
guest_machine "$dir" lv "$ID" VM_GUEST_AGENT=yes
machines+=("$dir")
cp "$GUEST_KERNEL" vmlinuz
cp "$GUEST_INITRD" initrd.img
sed -i "s|$GUEST_KERNEL|vmlinuz|; s|$GUEST_INITRD|initrd.img|" .vmrc

echo "# vm boots the guest once and saves its state"
run init
check "vm init ($err)" test "$rc" = 0
run start --nat
check "vm start --nat ($err)" test "$rc" = 0
saved_boot=$(boot_id)
check "the guest answers ssh with its boot_id ($saved_boot)" test "${#saved_boot}" = 36
run stop -s ready
check "vm stop -s ready ($err)" test "$rc" = 0
[ "$failed" = 0 ] || { finish; exit 1; }

echo "# the export, defined"
run export --nat --name "$dom" -o "$work/dom.xml"
check "vm export --nat -o ($err)" test "$rc" = 0
check "... names no unmapped word: the test guest's extras all map ($err)" \
	not_contains "$err" "no libvirt element"
check "... validates" eval 'virt-xml-validate "$work/dom.xml" domain >/dev/null 2>&1'
out=$(virsh define "$work/dom.xml" 2>&1)
check "virsh define takes it ($out)" eval 'virsh dominfo "$dom" >/dev/null'
out=$(virsh dumpxml "$dom")
check "... under TCG (type='qemu')" contains "$out" "<domain type='qemu'"
check "... on the backing file" contains "$out" "<source file='$dir/lv-backing.qcow2'"
out=$(virsh snapshot-list "$dom" --name)
check "libvirt lists no saved state by itself (its snapshots need metadata)" test -z "$out"

echo "# the saved state, redefined, resumes under libvirt"
uuid=$(virsh domuuid "$dom")
run export --nat --name "$dom" -s ready -u "$uuid" -o "$work/ready.xml"
check "vm export -s ready -u UUID ($err)" test "$rc" = 0
out=$(virsh snapshot-create "$dom" "$work/ready.xml" --redefine 2>&1)
check "virsh snapshot-create --redefine takes it ($out)" contains "$out" "Domain snapshot ready created"
out=$(virsh snapshot-list "$dom" --name)
check "... and snapshot-list lists it" test "$out" = ready
out=$(virsh snapshot-revert "$dom" ready 2>&1)
check "virsh snapshot-revert starts the emulator on the saved state ($out)" \
	test "$(virsh domstate "$dom")" = running
check "... with -loadvm ready" grep -q -- "-loadvm ready" "$domlog"
check "... under TCG" grep -q -- "-accel tcg" "$domlog"
check "the guest's agent answers through libvirt" wait_agent "$dom" 90
resumed_boot=$(agent_boot_id "$dom")
check "... from the same boot: the state resumed ($resumed_boot)" test "$resumed_boot" = "$saved_boot"
virsh destroy "$dom" >/dev/null

echo "# a plain virsh start boots afresh"
: >"$dir/console.log" # vm's own runs wrote there too
out=$(virsh start "$dom" 2>&1)
check "virsh start ($out)" test "$(virsh domstate "$dom")" = running
check "the guest boots and its agent answers through libvirt" wait_agent "$dom" 120
fresh_boot=$(agent_boot_id "$dom")
check "... from a new boot ($fresh_boot)" eval '[ ${#fresh_boot} = 36 ] && [ "$fresh_boot" != "$saved_boot" ]'
# console_says TEXT SECONDS: the serial console shows TEXT in time.
console_says() {
	local end=$((SECONDS + $2))
	while ((SECONDS < end)); do
		grep -q "$1" "$dir/console.log" && return 0
		sleep 1
	done
	return 1
}
check "the serial console goes to console.log, as VM_QEMU_EXTRA's -serial file: said" \
	console_says "testguest login:" 30

echo "# clean up"
out=$(virsh destroy "$dom" 2>&1)
check "virsh destroy ($out)" test "$(virsh domstate "$dom")" = "shut off"
virsh snapshot-delete "$dom" ready --metadata >/dev/null
out=$(virsh undefine "$dom" 2>&1)
check "virsh undefine ($out)" eval '! virsh dominfo "$dom" >/dev/null 2>&1'
check "the backing file is given back" test "$(stat -c %U "$dir/lv-backing.qcow2")" = root
dom=

echo "# a bridged ide machine: libvirt takes its export too"
bridged=vm-export-bridged-$ID
sed -i 's/^VM_DISK_IF=.*/VM_DISK_IF=ide/; s/^VM_NET_MODEL=.*/VM_NET_MODEL=e1000/' .vmrc
"$VM" export --name "$bridged" -o "$work/bridged.xml"
out=$(virsh define "$work/bridged.xml" 2>&1)
check "virsh define takes the bridged export ($out)" contains "$(virsh dumpxml "$bridged")" "<source bridge='br0'/>"
virsh undefine "$bridged" >/dev/null
bridged=

finish
