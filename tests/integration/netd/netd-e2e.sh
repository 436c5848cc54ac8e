#!/bin/bash
# End to end: an unprivileged user runs 'vm start' of the test guest,
# bridged (no --nat) to a bridge inside a network namespace, through the
# setuid test build of vm-netd, twice: first with a multi-queue tap
# (VM_NET_QUEUES=2, two vCPUs: Linux's virtio_net uses as many queue pairs as
# it has CPUs), then, after 'vm kill', with the default single-queue tap
# (fd=). Each time the guest must answer ssh and echo UDP from inside the
# namespace on the address it took from vm.ip=, see as many queues on its NIC
# as the tap has, the audit log must name the grant's queues, and after
# 'vm kill' the tap must be gone. Prints "N passed, N failed"; exits 77
# (SKIP) without root or without the test guest (tests/guest/build-guest.sh
# builds it).
set -u

NEEDS_ROOT_FOR="a namespace, a user, a setuid helper"
# shellcheck source=root-and-guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/root-and-guest.sh"
[ -c /dev/net/tun ] || skip "/dev/net/tun is missing"

D=${NETD_TEST_DIR:?}
NS=vmnetd-e2e-$$
U=vmnetd-e2e
ID=47
GUEST_IP=10.99.$ID.2

# shellcheck source=../check.sh
. "$(dirname "${BASH_SOURCE[0]}")/../check.sh"

cleanup() {
	local pid
	pid=$(cat "$D"/home/.local/state/vm/*/"$ID"/qemu.pid 2>/dev/null)
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	# Whatever else the test's own user still runs (its emulator when the
	# pid file is gone with $D): only this test starts processes as $U.
	local uid
	uid=$(id -u "$U" 2>/dev/null) &&
		for pid in $(ps -o pid= -u "$uid"); do kill -9 "$pid" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	[ -n "$(id -u $U 2>/dev/null)" ] && rm -rf "/tmp/vm-$(id -u $U)"
	userdel "$U" 2>/dev/null
	rm -rf "$D"
}
trap cleanup EXIT
cleanup

# ---- the host side: helper, policy, user, namespace, bridge ---------------
mkdir -m 0755 -p "$D"
install -o root -g root -m 4755 "$NETD_HELPER" "$D/vm-netd"
install -o root -g root -m 0755 "$VM_TEST_BIN" "$D/vm"
cp -r "$VM_TEST_LIB" "$D/lib"
chmod -R a+rX "$D/lib"
cat >"$D/netd.conf" <<POLICY
log $D/audit.log
bridge br0
allow $U br0 1
POLICY
chmod 0644 "$D/netd.conf"
useradd -M -d "$D/home" -s /bin/sh "$U"
mkdir -m 0700 "$D/home"
chown "$U:" "$D/home"
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add br0 type bridge
ip -n "$NS" addr add "10.99.$ID.1/24" dev br0
ip -n "$NS" link set br0 up

# ---- the user's machine: the guest's seed as its one image -----------------
m=$D/home/e2e
mkdir -p "$m"
cp "$GUEST_SEED" "$m/e2e.qcow2"
chmod 0644 "$m/e2e.qcow2"
cp "$GUEST_KERNEL" "$GUEST_INITRD" "$GUEST_KEY" "$m/"
key=$m/$(basename "$GUEST_KEY")
cat >"$m/.vmrc" <<VMRC
VM_MACHINE_NAME=e2e
VM_MACHINE_ID=$ID
VM_MACHINE_OWNER=$U
VM_MACHINE_USER=$GUEST_USER
VM_MACHINE_MEM=256
VM_USE_SNAPSHOTS=no
VM_QEMU_ACCEL=${VM_TEST_ACCEL:-tcg}
VM_QEMU_DISPLAY=none
VM_DISK_IF=virtio
VM_NET_MODEL=virtio-net-pci
VM_NET_QUEUES=2
VM_NET_BRIDGE=br0
VM_NET_GUEST=$GUEST_IP
VM_SSH_ATTEMPTS=150
VM_QEMU_EXTRA="-kernel $m/$(basename "$GUEST_KERNEL") -initrd $m/$(basename "$GUEST_INITRD") -append '$GUEST_APPEND vm.ip=$GUEST_IP/24' -device virtio-rng-pci -smp 2 -serial file:$m/console.log"
VM_SSH_OPTS="-i $key -o UserKnownHostsFile=$m/known_hosts"
VMRC
chown -R "$U:" "$m"
chmod 0600 "$key"

# as_user COMMAND...: COMMAND as the user, inside the namespace.
as_user() {
	ip netns exec "$NS" setpriv --reuid="$U" --regid="$(id -gn $U)" --init-groups \
		env -i HOME="$D/home" USER="$U" LOGNAME="$U" PATH=/usr/local/bin:/usr/bin:/bin \
		VM_LIB="$D/lib" VM_NETD="$D/vm-netd" VM_HOME="$m" "$@" 2>&1
}

# in_guest COMMAND: COMMAND in the guest over the bridge, from the namespace.
in_guest() {
	as_user ssh -i "$key" -o UserKnownHostsFile="$m/known_hosts" -o BatchMode=yes \
		-o StrictHostKeyChecking=accept-new -o ConnectTimeout=20 "$GUEST_USER@$GUEST_IP" "$@"
}
# echo_flows N: how many of N UDP flows the guest's udpecho answers, from
# inside the namespace.
echo_flows() {
	in_guest '(udpecho 5353 </dev/null >/dev/null 2>&1 &)' >/dev/null
	ip netns exec "$NS" python3 "$(dirname "${BASH_SOURCE[0]}")/../udp_flows.py" "$GUEST_IP" "$1" 2>&1
}
# guest_nic: the guest's own view of its NIC (the one with vm's MAC): its
# queues, and its vCPUs.
guest_nic() {
	in_guest 'for d in /sys/class/net/*; do [ "$(cat $d/address)" = de:ad:be:ef:'"$ID"':11 ] && echo "${d##*/}: $(ls $d/queues | xargs)"; done; echo "cpus: $(grep -c ^processor /proc/cpuinfo)"'
}
emulator_pid() { cat "$D"/home/.local/state/vm/*/"$ID"/qemu.pid 2>/dev/null; }
# host_tx_queues: the tap's transmit queues, as the host counts them.
host_tx_queues() { ip netns exec "$NS" ls /sys/class/net/vm${ID}t0/queues 2>&1 | grep -c '^tx-'; }

# start_bridged QUEUES: vm start as the user, and what every bridged start
# must give: the user's tap on br0, the guest's answer over it, the grant of
# QUEUES queues in the audit log.
start_bridged() {
	local out rc info answer s=s
	[ "$1" = 1 ] && s=
	out=$(as_user "$D/vm" start -v)
	rc=$?
	detail="$out
$(tail -n 20 "$m/console.log" 2>/dev/null)" check "vm start (bridged, $1 queue$s) exits 0 once the guest answers ssh" [ "$rc" = 0 ]
	info=$(ip -n "$NS" -d link show vm${ID}t0 2>&1)
	detail=$info check "the guest's tap vm${ID}t0 is on br0" contains "$info" "master br0"
	detail=$info check "the tap belongs to the user" \
		grep -qE "tun type tap .*user ($U|$(id -u $U))( |$)" <<<"$info"
	answer=$(in_guest 'cat /proc/sys/kernel/hostname; cat /sys/class/net/*/address')
	detail=$answer check "the guest answers ssh at $GUEST_IP from inside the namespace" \
		contains "$answer" "$GUEST_HOSTNAME"
	detail=$answer check "the guest's MAC is DE:AD:BE:EF:$ID:11" contains "$answer" "de:ad:be:ef:$ID:11"
	grep -q "op=tap machine=$ID bridge=br0 tap=vm${ID}t0 queues=$1 result=granted" "$D/audit.log" 2>/dev/null
	detail=$(cat "$D/audit.log" 2>&1) check "the grant ($1 queue$s) is in the audit log" [ $? = 0 ]
}

# kill_bridged: vm kill, and the tap goes with the emulator.
killed() { [ "$rc" = 0 ] && ! contains "$out" "not running"; }
tap_went() { [ "$tap_was_there" = 0 ] && contains "$info" "does not exist"; }
kill_bridged() {
	ip -n "$NS" link show vm${ID}t0 >/dev/null 2>&1
	tap_was_there=$?
	out=$(as_user "$D/vm" kill)
	rc=$?
	detail=$out check "vm kill exits 0, the emulator was running" killed
	for _ in $(seq 1 200); do
		ip -n "$NS" link show vm${ID}t0 >/dev/null 2>&1 || break
		sleep 0.1
	done
	info=$(ip -n "$NS" link show vm${ID}t0 2>&1)
	detail=$info check "after vm kill the tap (there before) is gone" tap_went
}

# check_queues N: the tap, the emulator and the guest all have N queues
# (with two vCPUs, the guest would take a second queue pair if offered one).
multi_queue() { contains "$info" "multi_queue"; }
single_queue() { ! multi_queue; }
check_queues() {
	local n=$1 i fds='[0-9]+' mq= taps= nic= s=s
	[ "$n" = 1 ] && s=
	for ((i = 0; i < n; i++)); do
		taps+=" iff: vm${ID}t0"
		nic+=" rx-$i"
	done
	for ((i = 0; i < n; i++)); do nic+=" tx-$i"; done
	info=$(ip -n "$NS" -d link show vm${ID}t0 2>&1)
	if [ "$n" -gt 1 ]; then
		detail=$info check "the tap is multi-queue" multi_queue
		for ((i = 1; i < n; i++)); do fds+=':[0-9]+'; done
		fds="fds=$fds"
		# A vector per queue each way, one for control, one for config.
		mq=",mq=on,vectors=$((2 * n + 2))"
	else
		detail=$info check "the tap is not multi-queue" single_queue
		fds="fd=$fds"
	fi
	detail=$(ip netns exec "$NS" ls /sys/class/net/vm${ID}t0/queues 2>&1 | xargs) \
		check "the tap has $n queue$s on the host" [ "$(host_tx_queues)" = "$n" ]
	pid=$(emulator_pid)
	cmdline=$(tr '\0' ' ' <"/proc/${pid:-0}/cmdline" 2>&1)
	detail=$cmdline check "the emulator got -netdev tap,id=net0,$fds" \
		grep -qE -- "-netdev tap,id=net0,$fds " <<<"$cmdline"
	detail=$cmdline check "the emulator got -device virtio-net-pci,netdev=net0$mq,mac=..." \
		contains "$cmdline" "-device virtio-net-pci,netdev=net0$mq,mac=DE:AD:BE:EF:$ID:11 "
	emulator_taps=$(grep -h iff "/proc/${pid:-0}"/fdinfo/* 2>/dev/null | xargs)
	detail=$emulator_taps check "the emulator holds $n queue$s of vm${ID}t0" \
		[ "$emulator_taps" = "${taps# }" ]
	queues=$(guest_nic)
	detail=$queues check "the guest has 2 vCPUs" contains "$queues" "cpus: 2"
	detail=$queues check "the guest's NIC has $n queue pair$s (${nic# })" \
		grep -qE "^[a-z0-9]+: ${nic# }$" <<<"$queues"
}

# ---- a multi-queue tap (VM_NET_QUEUES=2), from both sides --------------------
start_bridged 2
check_queues 2
# Traffic over the bridge, both ways: 64 flows to the guest's udpecho; the
# tap spreads new flows over its queues by their hash, so both of the
# guest's receive queues take some (their MSI-X interrupts, input.0 and
# input.1, count them).
rx_interrupts() { in_guest "grep -E -- '-input\.[01]\$' /proc/interrupts" | awk '{n = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i; print $NF, n}'; }
before=$(rx_interrupts)
echoed=$(echo_flows 64)
after=$(rx_interrupts)
detail=$echoed check "traffic flows over the bridge: the guest echoes 64 of 64 UDP flows" [ "$echoed" = 64 ]
both_queues() {
	local q b a
	for q in input.0 input.1; do
		b=$(awk -v q="$q" '$1 ~ q"$" {print $2}' <<<"$before")
		a=$(awk -v q="$q" '$1 ~ q"$" {print $2}' <<<"$after")
		[ -n "$a" ] && [ "${a:-0}" -gt "${b:-0}" ] || return 1
	done
}
echo "# rx interrupts before: $(xargs <<<"$before"); after: $(xargs <<<"$after")"
detail="before: $before; after: $after" check "both of the guest's receive queues took packets" both_queues
kill_bridged

# ---- one queue (VM_NET_QUEUES unset: its default, 1): the same guest ---------
# started again, still with two vCPUs.
sed -i '/^VM_NET_QUEUES=/d' "$m/.vmrc"
start_bridged 1
check_queues 1
echoed=$(echo_flows 16)
detail=$echoed check "traffic flows over the bridge: the guest echoes 16 of 16 UDP flows" [ "$echoed" = 16 ]
kill_bridged

finish
