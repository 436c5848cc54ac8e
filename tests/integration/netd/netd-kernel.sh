#!/bin/bash
# vm-netd on another kernel: the test guest's own, Debian 12's, whatever
# kernel this host runs. The guest boots under QEMU with vm-netd's test
# build, netd-client and libmnl from this host, and loads tun and bridge
# from its own modules (tests/guest/build-guest.sh puts them on its root
# file system). As the guest's
# unprivileged user, the checks of netd-root that depend on the kernel: the
# helper's final state read from /proc, the bridge it creates, the quota
# under parallel held requests, a tap made persistent and given away,
# queues, a helper stopped and continued, one whose reply is stalled (root
# is not delayed), the caller's fd and memory limits, one record per
# request; then the seccomp unit tests. Prints "N passed, N failed"; exits
# 77 (SKIP) without root or the test guest.
set -u

NEEDS_ROOT_FOR="the guest's modules and files are made as root"
# shellcheck source=root-and-guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/root-and-guest.sh"

# shellcheck source=../check.sh
. "$(dirname "${BASH_SOURCE[0]}")/../check.sh"

W=$(mktemp -d /tmp/vm-netd-kernel.XXXXXX)
qemu_pid=
cleanup() {
	[ -n "$qemu_pid" ] && kill -9 "$qemu_pid" 2>/dev/null && wait "$qemu_pid" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT

# ---- what the guest gets: the helper, the client, libmnl, the unit test ------------
mkdir "$W/files" "$W/unit"
install -m 0755 "${NETD_HELPER:?}" "$W/files/vm-netd"
install -m 0755 "${NETD_CLIENT:?}" "$W/files/netd-client"
cp -L "$(ldd "$NETD_HELPER" | awk '$1 == "libmnl.so.0" { print $3 }')" "$W/files/libmnl.so.0"
# The seccomp unit tests, with the libraries Criterion needs (the guest has
# Debian 12's libc, and nothing else of them).
if [ -n "${NETD_SANDBOX_TEST:-}" ]; then
	mkdir "$W/unit/lib"
	cp "$NETD_SANDBOX_TEST" "$W/unit/test_sandbox"
	ldd "$NETD_SANDBOX_TEST" | awk '$2 == "=>" && $1 !~ /^(libc\.so|ld-linux)/ { print $3 }' |
		while read -r lib; do cp -L "$lib" "$W/unit/lib/"; done
fi
truncate -s 48M "$W/files.img"
mkfs.ext4 -q -d "$W/files" -L netd-files "$W/files.img"
qemu-img create -q -f qcow2 -F qcow2 -b "$GUEST_SEED" "$W/root.qcow2"

# ---- the guest, its ssh on a free loopback port -----------------------------------
port=
for p in $(seq 2300 2399); do
	ss -Htln "sport = :$p" 2>/dev/null | grep -q . || { port=$p; break; }
done
[ -n "$port" ] || { echo "FAIL: no free port in 2300-2399"; exit 1; }
install -m 0600 "$GUEST_KEY" "$W/key"
printf '[127.0.0.1]:%s %s\n' "$port" "$(cat "$GUEST_HOST_KEY")" >"$W/known_hosts"
qemu-system-x86_64 -m 512 -smp 1 -display none -no-reboot \
	-kernel "$GUEST_KERNEL" -initrd "$GUEST_INITRD" -append "$GUEST_APPEND" \
	-drive "file=$W/root.qcow2,if=virtio" -drive "file=$W/files.img,if=virtio,format=raw" \
	-netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$port-:22" -device virtio-net-pci,netdev=n0 \
	-device virtio-rng-pci -serial "file:$W/console.log" &
qemu_pid=$!
ssh_guest() { # [SSH OPTIONS] COMMAND: run by the guest's user, through its shell
	ssh -q -p "$port" -i "$W/key" -o UserKnownHostsFile="$W/known_hosts" -o BatchMode=yes \
		-o ConnectTimeout=5 "$@"
}
guest() { ssh_guest -n "$GUEST_USER@127.0.0.1" "$1"; }
up=
for _ in $(seq 90); do
	guest true 2>/dev/null && { up=1; break; }
	kill -0 "$qemu_pid" 2>/dev/null || break
	sleep 2
done
detail=$(tail -n 5 "$W/console.log" 2>&1) check "the guest answers ssh" [ -n "$up" ]
[ -n "$up" ] || { finish; exit 1; }
kernel=$(guest 'uname -r')
echo "note - this host runs Linux $(uname -r); the guest, $kernel"
detail=$kernel check "the guest runs its own kernel, $GUEST_KERNEL_VERSION" \
	[ "$kernel" = "$GUEST_KERNEL_VERSION" ]

# ---- root's part in the guest: modules, the helper setuid root, the policy ----------
H=/usr/local/libexec/vm-netd
C=/mnt/netd/netd-client
D=/run/vm-netd-test
out=$(guest "sudo sh -ec '
	mkdir -p /mnt/netd && mount /dev/vdb /mnt/netd
	for m in \$(cat /lib/modules/load-order.net); do insmod /lib/modules/\$m.ko; done
	cp /mnt/netd/libmnl.so.0 /lib/x86_64-linux-gnu/libmnl.so.0
	mkdir -p /usr/local/libexec && cp /mnt/netd/vm-netd $H && chmod 4755 $H
	mkdir -m 0755 -p $D
	printf \"log $D/audit.log\nbridge br0 create 10.99.0.1/24\nallow $GUEST_USER br0 1\nallow root br0 1\n\" >$D/netd.conf
	chmod 0644 $D/netd.conf
	ls -l /dev/net/tun $H'" 2>&1)
detail=$out check "the guest has loaded tun and bridge, its own, and has vm-netd setuid root" \
	matches "$out" "^-rwsr-xr-x .* $H"
# For the guest's shell: a tap whose last fd closed leaves /sys/class/net a
# moment later.
taps_gone='for t in $(seq 25); do ls /sys/class/net | grep -q "^vm" || break; sleep 0.2; done'
requests=0
ask() { # COUNT COMMAND: COUNT requests, made by the guest's user; its output in $out
	requests=$((requests + $1))
	out=$(guest "export VM_NETD=$H; cd /tmp; $2" 2>&1)
}

ask 1 "$C tap br0 7 -c"
detail=$out check "a tap on a bridge the policy creates: granted" contains "$out" "granted vm07t0"
mac=$(guest 'cat /sys/class/net/br0/address')
detail=$mac check "the bridge vm-netd made has its fixed MAC (FE:...)" matches "$mac" '^fe:'
record=$(guest "sudo tail -n 1 $D/audit.log")
detail=$record check "the grant's record names the bridge it made and the policy line" \
	contains "$record" 'rule=/run/vm-netd-test/netd.conf:3 reason="tap vm07t0 on new bridge br0"'

# The helper's final state, from /proc while it waits for its request.
ask 1 "$C status br0 12"
T=$'\t'
for line in "Uid:${T}1000${T}1000${T}1000${T}1000" "CapInh:${T}0000000000000000" \
	"CapPrm:${T}0000000000001000" "CapEff:${T}0000000000001000" "CapBnd:${T}0000000000000000" \
	"CapAmb:${T}0000000000000000" "NoNewPrivs:${T}1" "Seccomp:${T}2"; do
	detail=$out check "the helper's state on this kernel: ${line//$T/ }" contains "$out" "status $line"
done

# The quota under 10 parallel requests that hold their taps.
ask 10 "mkfifo hold; exec 9<>hold
	for i in 0 1 2 3 4 5 6 7 8 9; do $C tap br0 2\$i --hold <hold >p.\$i 2>&1 9>&- & done
	for t in \$(seq 120); do
		[ \"\$(cat p.* | grep -cE '^(granted|denied)')\" = 10 ] && break; sleep 0.5
	done
	echo \"granted=\$(cat p.* | grep -c '^granted') taps=\$(ls /sys/class/net | grep -c '^vm')\"
	exec 9>&-; wait; rm -f hold p.*"
detail=$out check "quota 1 under 10 parallel held requests: exactly 1 granted, 1 tap" \
	contains "$out" "granted=1 taps=1"

# A tap its holder made persistent and gave to uid 4242: counted as its
# maker's while held, shown as its maker's, deleted by the next request
# once let go.
ask 3 "mkfifo hold; exec 9<>hold
	$C tap br0 30 --persist-owner 4242 --hold <hold >p.30 2>&1 9>&- &
	for t in \$(seq 60); do grep -q holding p.30 && break; sleep 0.5; done
	$C tap br0 31; sudo $H --list
	exec 9>&-; wait; echo \"after: \$(ls /sys/class/net | grep '^vm' | xargs)\"
	$C tap br0 32; $taps_gone; echo \"then: \$(ls /sys/class/net | grep '^vm' | xargs)\"
	rm -f hold p.30"
detail=$out check "a tap made persistent and given away still counts against its maker" \
	contains "$out" "already has 1 taps on br0"
detail=$out check "--list shows its true maker" matches "$out" "vm30t0 +br0 +$GUEST_USER "
detail=$out check "once let go, the next request deletes it and is granted" \
	bash -c 'grep -q "^after: vm30t0$" <<<"$1" && grep -q "^granted vm32t0" <<<"$1" &&
		grep -q "^then: $" <<<"$1"' _ "$out"

ask 1 "$C tap br0 33 -q 4"
detail=$out check "a tap of 4 queues: granted, 4 fds, multi-queue" contains "$out" "fds: 4 vm33t0"
ask 1 "$C stopcont br0 34"
detail=$out check "a helper stopped and continued during its request: granted" \
	contains "$out" "result: granted vm34t0"

# A caller that stalls its helper's reply delays no one else: root's request
# meanwhile is answered at once (it would wait forever behind a lock).
ask 2 "mkfifo hold; exec 9<>hold
	$C stall br0 35 <hold >p.35 2>&1 9>&- &
	for t in \$(seq 60); do grep -q holding p.35 && break; sleep 0.5; done
	s=\$(cut -d' ' -f1 /proc/uptime)
	sudo env VM_NETD=$H $C tap br0 36
	e=\$(cut -d' ' -f1 /proc/uptime)
	echo \"root took \$s \$e\"; exec 9>&-; wait; rm -f hold p.35"
took=$(awk '/^root took/ { printf "%.2f", $4 - $3 }' <<<"$out")
detail="$out" check "while the user stalls its helper, root is granted at once (${took:-?} s)" \
	bash -c 'grep -q "^granted vm36t0" <<<"$1" && awk -v t="$2" "BEGIN { exit !(t != \"\" && t < 2) }"' \
	_ "$out" "$took"

# The caller's limits (fds, address space, data): raised where the
# bounding set has CAP_SYS_RESOURCE, else, where too low, refused naming
# them; each way answered.
bounding=$(guest "awk '/^CapBnd/ { print \$2 }' /proc/self/status")
with_resource=$((0x${bounding:-0} >> 24 & 1))
for limit in "-n 5" "-n 9" "-n 31" "-n 32" "-v 4096" "-d 1024"; do
	ask 1 "printf '#!/bin/sh\nulimit $limit\ncat /proc/self/limits\nexec $H\n' >lim
		chmod 755 lim; VM_NETD=/tmp/lim $C tap br0 37; rm -f lim"
	case $limit in
	-n*) in_force="Max open files +${limit#-n } " ;;
	-v*) in_force="Max address space +$((${limit#-v } * 1024)) " ;;
	-d*) in_force="Max data size +$((${limit#-d } * 1024)) " ;;
	esac
	detail=$out check "ulimit $limit is in force where the helper starts" matches "$out" "$in_force"
	if [ "$with_resource" = 1 ] || [ "$limit" = "-n 32" ]; then
		detail=$out check "ulimit $limit for the helper: granted" contains "$out" "granted vm37t0"
	else
		detail=$out check "ulimit $limit for the helper (no CAP_SYS_RESOURCE): refused, naming it" \
			contains "$out" "ulimit $limit"
	fi
done

records=$(guest "sudo cat $D/audit.log | wc -l")
detail="$records records for $requests requests" check "one record per request" \
	[ "$records" = "$requests" ]
left=$(guest "$taps_gone; ls /sys/class/net | grep '^vm' | xargs")
detail=$left check "no tap is left in the guest" [ -z "$left" ]

# ---- the seccomp filter's unit tests on this kernel --------------------------------
if [ -n "${NETD_SANDBOX_TEST:-}" ]; then
	out=$(tar -C "$W/unit" -cf - . | ssh_guest "$GUEST_USER@127.0.0.1" 'mkdir unit &&
		tar -C unit -xf - && cd unit && LD_LIBRARY_PATH=$PWD/lib ./test_sandbox 2>&1
		cd .. && rm -rf unit')
	detail=$out check "the sandbox unit tests pass on this kernel" \
		matches "$out" 'Synthesis: Tested: ([0-9]+) \| Passing: \1 \| Failing: 0 \| Crashing: 0'
else
	echo "note - the sandbox unit tests were not built (no Criterion): not run in the guest"
fi
finish
