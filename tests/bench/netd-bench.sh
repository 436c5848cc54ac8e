#!/bin/bash
# Benchmark: the median time from request to tap fd, for vm-netd against
# QEMU's qemu-bridge-helper (a setuid copy, started as QEMU starts it: fork,
# the other fds closed, exec, --fd; as QEMU 7.2, Debian 12's, closes them
# and as later releases do) and against the sudo way (ip tuntap add + ip link
# set master/up, then open), on the same bridge in the same namespace, in
# the same run (vm-netd, both ways of qemu-bridge-helper and the floor
# below in turns).
# Prints the ratios, and how much of vm-netd's time is the floor under it:
# the setuid exec and the loader of a program linked as vm-netd is.
# Needs root.
set -u
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: the benchmark needs root"
	exit 77
fi
N=${BENCH_ITERATIONS:-40}
D=/run/vm-netd-test
NS=vmnetd-bench-$$
U=vmnetd-bench
QBH=/usr/lib/qemu/qemu-bridge-helper
BRIDGE_CONF=/etc/qemu/bridge.conf
made_bridge_conf=

cleanup() {
	ip netns del "$NS" 2>/dev/null
	userdel "$U" 2>/dev/null
	[ -n "$made_bridge_conf" ] && rm -f "$BRIDGE_CONF" && rmdir /etc/qemu 2>/dev/null
	rm -rf "$D"
}
trap cleanup EXIT
cleanup

mkdir -m 0755 -p "$D"
install -o root -g root -m 4755 "${NETD_HELPER:?}" "$D/vm-netd"
install -o root -g root -m 0755 "${NETD_BENCH:?}" "$D/netd-bench"
install -o root -g root -m 4755 "${NETD_FLOOR:?}" "$D/netd-floor"
useradd -M -s /usr/sbin/nologin "$U"
printf 'log %s/audit.log\nbridge br0\nallow %s br0 1\n' "$D" "$U" >"$D/netd.conf"
ip netns add "$NS"
ip -n "$NS" link add br0 type bridge
ip -n "$NS" link set br0 up

as_user() {
	ip netns exec "$NS" setpriv --reuid="$U" --regid="$(id -gn $U)" --init-groups \
		env -i VM_NETD="$D/vm-netd" "$D/netd-bench" "$@"
}

if [ -x "$QBH" ]; then
	if [ ! -e "$BRIDGE_CONF" ]; then
		mkdir -p /etc/qemu
		echo "allow br0" >"$BRIDGE_CONF"
		made_bridge_conf=1
	fi
	install -o root -g root -m 4755 "$QBH" "$D/qemu-bridge-helper"
	# qemu-bridge-helper drops to CAP_NET_ADMIN before it opens /dev/net/tun,
	# so it needs the 0666 node udev makes on most hosts; give it one in a
	# private mount namespace rather than change this host's (vm-netd opens
	# it as root: the mode is nothing to it). The two helpers take turns in
	# one run, so that a load on this shared machine weighs on both alike.
	mknod -m 0666 "$D/tun" c 10 200
	results=$(unshare -m sh -c 'mount --bind "$1/tun" /dev/net/tun && shift && "$@"' sh "$D" \
		ip netns exec "$NS" setpriv --reuid="$U" --regid="$(id -gn $U)" --init-groups \
		env VM_NETD="$D/vm-netd" "$D/netd-bench" turns "$D/qemu-bridge-helper" "$D/netd-floor" br0 "$N")
	echo "$results"
else
	results=$(as_user netd br0 "$N")$'\n'$(as_user floor "$D/netd-floor" "$N")
	echo "$results"
	echo "qemu-bridge-helper: not installed, no comparison"
fi
line=$(ip netns exec "$NS" "$D/netd-bench" ip "$U" br0 "$N") && results+=$'\n'"$line" && echo "$line"

median() { sed -n "s/^$1 .*$2_median_us=\([0-9]*\).*/\1/p" <<<"$results"; }
ratio() { # label, ours, theirs
	[ -n "$2" ] && [ -n "$3" ] &&
		awk -v a="$2" -v b="$3" -v label="$1" 'BEGIN {
			printf "ratio vm-netd / %s = %.2f (%.2f ms vs %.2f ms)\n", label, a / b, a / 1000, b / 1000 }'
}
# Until the caller goes on: vm at the fd, QEMU at its helper's end. Then
# the same moment for both: the fd in hand, and the helper gone.
ratio "qemu-bridge-helper as QEMU 7.2 starts it, until the caller goes on with the tap" \
	"$(median netd fd)" "$(median qbh-7.2 end)"
ratio "qemu-bridge-helper as QEMU 7.2 starts it, until the fd is in hand" \
	"$(median netd fd)" "$(median qbh-7.2 fd)"
ratio "qemu-bridge-helper as later QEMU starts it, until the caller goes on with the tap" \
	"$(median netd fd)" "$(median qbh end)"
ratio "qemu-bridge-helper as later QEMU starts it, until the fd is in hand" \
	"$(median netd fd)" "$(median qbh fd)"
ratio "qemu-bridge-helper, until the helper has ended" "$(median netd end)" "$(median qbh end)"
ratio "ip tuntap + ip link" "$(median netd fd)" "$(median ip fd)"
# The floor: what vm-netd's steps may take under the target (0.5 of later
# QEMU's fd in hand), once the exec and the loader have had theirs.
floor=$(median floor fd)
[ -n "$floor" ] && awk -v f="$floor" -v n="$(median netd fd)" -v q="$(median qbh fd)" 'BEGIN {
	printf "ratio floor / vm-netd = %.2f: the setuid exec and loader of a program linked as vm-netd, until its main, take %.2f ms of its %.2f ms\n", f / n, f / 1000, n / 1000
	if (q != "")
		printf "the target, 0.5 of later QEMU (%.2f ms), leaves vm-netd'"'"'s steps %.2f ms after that floor; they take %.2f ms\n", q / 2000, (q / 2 - f) / 1000, (n - f) / 1000 }'
