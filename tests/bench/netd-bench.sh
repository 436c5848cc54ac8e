#!/bin/bash
# Benchmark: the median time from request to tap fd, for vm-netd against
# QEMU's qemu-bridge-helper (a setuid copy, started as QEMU starts it: fork,
# the other fds closed, exec, --fd; as QEMU 7.2, Debian 12's, closes them
# and as later releases do) and against the sudo way (ip tuntap add + ip link
# set master/up, then open), on the same bridge in the same namespace, in
# the same run (vm-netd, both ways of qemu-bridge-helper and the floor
# below in turns).
# Prints the ratios, and how much of vm-netd's time is the floor under it:
# the setuid exec and the loader of a program linked as vm-netd is; and what
# another user's flood of requests costs a user's request beyond the load
# any program would put on the CPU.
# Needs root.
set -u
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: the benchmark needs root"
	exit 77
fi
N=${BENCH_ITERATIONS:-40}
D=/run/vm-netd-test
NS=vmnetd-bench-$$
NS2=vmnetd-bench-links-$$
U=vmnetd-bench
U2=vmnetd-bench-flood
QBH=/usr/lib/qemu/qemu-bridge-helper
BRIDGE_CONF=/etc/qemu/bridge.conf
made_bridge_conf=

flood_pids=()
# flood COMMAND...: the second user runs COMMAND in 6 loops at once, in the
# namespace, until end_flood.
flood() {
	rm -f "$D/flood.stop"
	for _ in 1 2 3 4 5 6; do
		ip netns exec "$NS" setpriv --reuid="$U2" --regid="$(id -gn $U2)" --init-groups \
			env -i VM_NETD="$D/vm-netd" bash -c 'until [ -e "$1" ]; do "${@:2}" >/dev/null 2>&1; done' \
			_ "$D/flood.stop" "$@" &
		flood_pids+=($!)
	done
	sleep 0.5
}
end_flood() {
	[ ${#flood_pids[@]} = 0 ] && return
	touch "$D/flood.stop"
	wait "${flood_pids[@]}"
	flood_pids=()
}

cleanup() {
	end_flood
	ip netns del "$NS" 2>/dev/null
	ip netns del "$NS2" 2>/dev/null
	userdel "$U" 2>/dev/null
	userdel "$U2" 2>/dev/null
	[ -n "$made_bridge_conf" ] && rm -f "$BRIDGE_CONF" && rmdir /etc/qemu 2>/dev/null
	rm -rf "$D"
}
trap cleanup EXIT
cleanup

mkdir -m 0755 -p "$D"
install -o root -g root -m 4755 "${NETD_HELPER:?}" "$D/vm-netd"
install -o root -g root -m 0755 "${NETD_BENCH:?}" "$D/netd-bench"
install -o root -g root -m 4755 "${NETD_FLOOR:?}" "$D/netd-floor"
install -o root -g root -m 0755 "${NETD_CLIENT:?}" "$D/netd-client"
useradd -M -s /usr/sbin/nologin "$U"
useradd -M -s /usr/sbin/nologin "$U2"
printf 'log %s/audit.log\nbridge br0\nallow %s br0 1\nallow %s br0 1\n' "$D" "$U" "$U2" >"$D/netd.conf"
ip netns add "$NS"
ip -n "$NS" link add br0 type bridge
ip -n "$NS" link set br0 up

as_user() {
	ip netns exec "${NETNS:-$NS}" setpriv --reuid="$U" --regid="$(id -gn $U)" --init-groups \
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
# A host's other links (a container host has dozens of veths): vm-netd's
# census asks the kernel for tun devices only, so they should cost it
# nothing. A second namespace like the first but for 20 veth pairs; vm-netd
# in each by turns, five rounds.
OTHER_LINKS=40
ip netns add "$NS2"
ip -n "$NS2" link add br0 type bridge
ip -n "$NS2" link set br0 up
for i in $(seq $((OTHER_LINKS / 2))); do
	ip -n "$NS2" link add "va$i" type veth peer name "vb$i" 2>/dev/null || break
done
if [ "$(ip -n "$NS2" -o link show type veth | wc -l)" = "$OTHER_LINKS" ]; then
	for round in 1 2 3 4 5; do
		line=$(as_user netd br0 $((N / 5 + 1)) | sed 's/^netd /netd-alone /') &&
			results+=$'\n'"$line"
		line=$(NETNS=$NS2 as_user netd br0 $((N / 5 + 1)) | sed 's/^netd /netd-links /') &&
			results+=$'\n'"$line"
	done
else
	echo "no veth pairs here: vm-netd among other links not measured"
fi

# Another user's flood: the second user asks vm-netd for a tap (machine 31,
# on the same bridge) in 6 loops at once, each request a helper of its own,
# granted and given back or refused at the quota. The same 6 loops starting
# the floor program instead load the CPU as much and do none of vm-netd's
# work: the ratio is what vm-netd's work itself, the kernel's locks
# included, costs another user's request. Three rounds each, in turns.
for round in 1 2 3; do
	flood "$D/netd-client" tap br0 31
	line=$(as_user netd br0 $((N / 5 + 1)) | sed 's/^netd /netd-flooded /') && results+=$'\n'"$line"
	end_flood
	flood "$D/netd-bench" floor "$D/netd-floor" 1
	line=$(as_user netd br0 $((N / 5 + 1)) | sed 's/^netd /netd-loaded /') && results+=$'\n'"$line"
	end_flood
done

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
# The median of the rounds' medians, each way.
rounds_median() { median "$1" fd | sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
links=$(rounds_median netd-links)
[ -n "$links" ] && awk -v l="$links" -v n="$(rounds_median netd-alone)" -v k="$OTHER_LINKS" 'BEGIN {
	printf "ratio vm-netd among %d other links / vm-netd alone = %.2f (%.2f ms vs %.2f ms)\n", k, l / n, l / 1000, n / 1000 }'
flooded=$(rounds_median netd-flooded)
[ -n "$flooded" ] && awk -v f="$flooded" -v l="$(rounds_median netd-loaded)" 'BEGIN {
	printf "ratio vm-netd while another user floods it / while that user runs as many loops of the floor program = %.2f (%.2f ms vs %.2f ms)\n", f / l, f / 1000, l / 1000 }'
# The floor: what vm-netd's steps may take under the target (0.5 of later
# QEMU's fd in hand), once the exec and the loader have had theirs.
floor=$(median floor fd)
[ -n "$floor" ] && awk -v f="$floor" -v n="$(median netd fd)" -v q="$(median qbh fd)" 'BEGIN {
	printf "ratio floor / vm-netd = %.2f: the setuid exec and loader of a program linked as vm-netd, until its main, take %.2f ms of its %.2f ms\n", f / n, f / 1000, n / 1000
	if (q != "")
		printf "the target, 0.5 of later QEMU (%.2f ms), leaves vm-netd'"'"'s steps %.2f ms after that floor; they take %.2f ms\n", q / 2000, (q / 2 - f) / 1000, (n - f) / 1000 }'
