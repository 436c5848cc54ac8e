#!/bin/bash
# vm export under a real libvirt (Debian 12: libvirt 9.0, QEMU 7.2, TCG):
# the real test guest boots once with vm and saves its state; its export is
# defined in libvirt; the saved state, redefined as a libvirt snapshot,
# resumes under libvirt (the guest's agent answers with the same boot_id);
# a plain virsh start boots it afresh (a new boot_id); destroy, snapshot
# metadata and undefine clean up. Then the export of the machine bridged with
# VM_NET_QUEUES=2 starts under libvirt on a bridge the test makes: libvirt's
# tap and emulator have 2 queues, the guest sees 2 queue pairs and echoes UDP
# over the bridge. libvirtd runs in a network namespace of its own, so
# whatever network it would set up (and the bridge) stays there; it and
# virtlogd are started here (no systemd needed) and stopped by pid at the
# end. Root only.
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
# What the daemons started here make on their first start, their state
# under /run/libvirt and /var/lib/libvirt, goes when they stop: the paths
# that were not there before they started, deepest first.
daemon_state() { find /run/libvirt /var/lib/libvirt -mindepth 1 2>/dev/null | LC_ALL=C sort; }
daemon_state_before=
made_run_libvirt=
remove_daemon_state() {
	[ -n "$daemon_state_before" ] || return 0
	local path
	LC_ALL=C comm -13 "$daemon_state_before" <(daemon_state) | LC_ALL=C sort -r |
		while IFS= read -r path; do
			rm -f "$path" 2>/dev/null || rmdir "$path" 2>/dev/null
		done
	[ -n "$made_run_libvirt" ] && rmdir /run/libvirt 2>/dev/null
	daemon_state_before=
}
stop_daemons() {
	local pid
	for pid in "${daemons[@]}"; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	daemons=()
	remove_daemon_state
}
libvirt_cleanup() {
	if [ -n "$dom" ]; then
		virsh destroy "$dom" >/dev/null 2>&1
		virsh snapshot-delete "$dom" --current --metadata >/dev/null 2>&1
		virsh undefine "$dom" --snapshots-metadata >/dev/null 2>&1
	fi
	[ -n "$domlog" ] && rm -f "$domlog"
	if [ -n "${bridged:-}" ]; then
		virsh destroy "$bridged" >/dev/null 2>&1
		virsh undefine "$bridged" >/dev/null 2>&1
		rm -f "/var/log/libvirt/qemu/$bridged.log"
	fi
	[ -n "${br:-}" ] && lv_net ip link del "$br" 2>/dev/null
	stop_daemons
	guest_cleanup
}
trap libvirt_cleanup EXIT

# A daemon the machine already runs (systemd's) is used as it is; else
# virtlogd (libvirt sends the emulator's output through it) and libvirtd,
# in the foreground, by pid.
if ! virsh version >/dev/null 2>&1; then
	daemon_state_before=$work/daemon-state.before
	daemon_state >"$daemon_state_before"
	[ -e /run/libvirt ] || made_run_libvirt=1
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
# agent_run DOMAIN PATH [ARG...]: what PATH ARG... prints in the guest, run
# by its agent through libvirt.
agent_run() {
	local domain=$1 pid status
	shift
	pid=$(agent "$domain" "$(python3 -c 'import json, sys
print(json.dumps({"execute": "guest-exec", "arguments":
    {"path": sys.argv[1], "arg": sys.argv[2:], "capture-output": True}}))' "$@")" |
		sed -n 's/.*"pid":\([0-9]*\).*/\1/p')
	[ -n "$pid" ] || return 1
	for ((i = 0; i < 50; i++)); do
		status=$(agent "$domain" "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":$pid}}")
		if contains "$status" '"exited":true'; then
			sed -n 's/.*"out-data":"\([^"]*\)".*/\1/p' <<<"$status" | base64 -d
			return 0
		fi
		sleep 0.1
	done
	return 1
}
# agent_boot_id DOMAIN: the guest's boot_id, read by the agent.
agent_boot_id() { agent_run "$1" /bin/cat /proc/sys/kernel/random/boot_id; }

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

echo "# a bridged multi-queue machine: its export starts under libvirt"
# The bridge is in libvirtd's own network namespace when it was started here
# (with an address there, to reach the guest over it); with the machine's
# own libvirtd, a bridge of no address in the host's network.
bridged=vm-export-bridged-$ID
br=vmexport$ID
bridged_ip=10.98.$ID.2
own_network=
[ ${#daemons[@]} = 2 ] && own_network=/proc/${daemons[1]}/ns/net
# lv_net COMMAND...: COMMAND in libvirtd's network.
lv_net() {
	if [ -n "$own_network" ]; then nsenter --net="$own_network" "$@"; else "$@"; fi
}
lv_net ip link add "$br" type bridge
[ -n "$own_network" ] && lv_net ip addr add "10.98.$ID.1/24" dev "$br"
lv_net ip link set "$br" up
sed -i "s|^VM_QEMU_EXTRA=\"|VM_QEMU_EXTRA=\"-smp 2 |; s|-append '$GUEST_APPEND'|-append '$GUEST_APPEND vm.ip=$bridged_ip/24'|" .vmrc
printf 'VM_NET_BRIDGE=%s\nVM_NET_QUEUES=2\n' "$br" >>.vmrc
run export --name "$bridged" -o "$work/bridged.xml"
check "vm export of a bridged machine with VM_NET_QUEUES=2 ($err)" test "$rc" = 0
check "... names the tap's 2 queues" grep -q "<driver name='qemu' queues='2'/>" "$work/bridged.xml"
check "... validates" eval 'virt-xml-validate "$work/bridged.xml" domain >/dev/null 2>&1'
out=$(virsh define "$work/bridged.xml" 2>&1)
check "virsh define takes it ($out)" eval 'virsh dominfo "$bridged" >/dev/null'
out=$(virsh start "$bridged" 2>&1)
require "virsh start ($out)" test "$(virsh domstate "$bridged")" = running
out=$(virsh domiflist "$bridged")
echo "$out" | sed 's/^/# /'
tap=$(awk '$2 == "bridge" { print $1 }' <<<"$out")
check "virsh domiflist: a bridge interface on $br, virtio, vm's MAC" \
	grep -qiE "^ *[a-z0-9]+ +bridge +$br +virtio +de:ad:be:ef:$ID:11 *$" <<<"$out"
out=$(virsh dumpxml "$bridged")
check "virsh dumpxml of the running domain names its tap ($tap)" contains "$out" "<target dev='$tap'/>"
check "... and its 2 queues" contains "$out" "<driver name='qemu' queues='2'/>"
pid=$(cat "/run/libvirt/qemu/$bridged.pid" 2>/dev/null)
# The emulator's -netdev and NIC, as libvirt wrote them (JSON, or key=value).
net_args=$(tr '\0' '\n' <"/proc/${pid:-0}/cmdline" 2>&1 | grep hostnet)
echo "$net_args" | sed 's/^/# /'
detail=$net_args check "the emulator libvirt started got the tap's 2 queues (fds=A:B)" \
	grep -qE '"fds":"[0-9]+:[0-9]+"|fds=[0-9]+:[0-9]+' <<<"$net_args"
detail=$net_args check "... and virtio-net-pci with mq=on" \
	grep -qE 'virtio-net-pci.*"mq":true|virtio-net-pci,.*mq=on' <<<"$net_args"
taps=$(grep -h iff "/proc/${pid:-0}"/fdinfo/* 2>/dev/null | xargs)
detail=$taps check "... and holds both queues of $tap" test "$taps" = "iff: $tap iff: $tap"
info=$(lv_net ip -d link show "$tap" 2>&1)
detail=$info check "the tap $tap is on $br, multi-queue" \
	eval 'contains "$info" "master $br" && contains "$info" multi_queue'
check "the guest boots and its agent answers through libvirt" wait_agent "$bridged" 180
nic=$(agent_run "$bridged" /bin/sh -c 'for d in /sys/class/net/*; do [ "$(cat $d/address)" = de:ad:be:ef:'"$ID"':11 ] && echo "${d##*/}: $(ls $d/queues | xargs)"; done; echo "cpus: $(grep -c ^processor /proc/cpuinfo)"')
detail=$nic check "the guest has 2 vCPUs" contains "$nic" "cpus: 2"
detail=$nic check "the guest's NIC has 2 queue pairs (rx-0 rx-1 tx-0 tx-1)" \
	grep -qE "^[a-z0-9]+: rx-0 rx-1 tx-0 tx-1$" <<<"$nic"
if [ -n "$own_network" ]; then
	agent "$bridged" '{"execute":"guest-exec","arguments":{"path":"/usr/bin/udpecho","arg":["5353"]}}' >/dev/null
	echoed=$(lv_net python3 "$(dirname "$0")/../udp_flows.py" "$bridged_ip" 16 2>&1)
	detail=$echoed check "the guest echoes 16 of 16 UDP flows over $br" test "$echoed" = 16
else
	echo "# the machine's own libvirtd runs in the host's network: no address there, no traffic"
fi
out=$(virsh destroy "$bridged" 2>&1)
check "virsh destroy ($out)" test "$(virsh domstate "$bridged")" = "shut off"
check "... and the tap is gone" eval '! lv_net ip link show "$tap" >/dev/null 2>&1'
out=$(virsh undefine "$bridged" 2>&1)
check "virsh undefine ($out)" eval '! virsh dominfo "$bridged" >/dev/null 2>&1'
rm -f "/var/log/libvirt/qemu/$bridged.log"
bridged=

echo "# a bridged ide machine: libvirt takes its export too"
bridged=vm-export-bridged-ide-$ID
sed -i 's/^VM_DISK_IF=.*/VM_DISK_IF=ide/; s/^VM_NET_MODEL=.*/VM_NET_MODEL=e1000/; /^VM_NET_QUEUES=/d' .vmrc
"$VM" export --name "$bridged" -o "$work/bridged.xml"
out=$(virsh define "$work/bridged.xml" 2>&1)
check "virsh define takes the bridged export ($out)" contains "$(virsh dumpxml "$bridged")" "<source bridge='$br'/>"
virsh undefine "$bridged" >/dev/null
bridged=

finish
