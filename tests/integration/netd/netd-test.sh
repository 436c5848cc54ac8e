#!/bin/bash
# vm-netd's root tests. Creates a network namespace, unprivileged users and a
# group, installs the test build of vm-netd setuid root in $NETD_TEST_DIR
# with a root-owned policy there, and sends requests as those users, from
# inside the namespace, through vm's own client code (netd-client) or raw.
# Asserts what a user and an admin would see: replies, links (ip link),
# audit records (the policy's log file and syslog), /proc/<helper>/status.
# Prints "N passed, N failed"; exits 77 (SKIP) without root.
set -u

if [ "${ROOT_TESTS:-auto}" = disabled ]; then
	echo "SKIP: root tests disabled (-Droot_tests=disabled)"
	exit 77
fi
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: vm-netd's tests need root (namespaces, users, a setuid helper)"
	[ "${ROOT_TESTS:-auto}" = enabled ] && exit 1 # -Droot_tests=enabled: must run
	exit 77
fi
for tool in ip useradd groupadd userdel setpriv; do
	if ! command -v "$tool" >/dev/null; then
		echo "SKIP: $tool is missing"
		exit 77
	fi
done
if [ ! -c /dev/net/tun ]; then
	echo "SKIP: /dev/net/tun is missing"
	exit 77
fi

D=${NETD_TEST_DIR:?}
NS=vmnetd-test-$$
ALICE=vmnetd-alice BOB=vmnetd-bob BOBBY=vmnetd-bobby CAROL=vmnetd-carol DAVE=vmnetd-dave
LAB=vmnetd-lab
USERS="$ALICE $BOB $BOBBY $CAROL $DAVE"
CLIENT=$D/netd-client
bg_pids=()

cleanup() {
	for pid in "${bg_pids[@]}"; do
		kill "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	umount "$D/full" 2>/dev/null
	umount "$D/nosuid" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	for u in $USERS; do
		userdel "$u" 2>/dev/null
	done
	groupdel "$LAB" 2>/dev/null
	rm -rf "$D"
}
trap cleanup EXIT

# shellcheck source=../check.sh
. "$(dirname "${BASH_SOURCE[0]}")/../check.sh"
lacks() { [ -n "$1" ] && ! grep -qF -- "$2" <<<"$1"; }

# as USER CLIENT-ARGS...: the client as USER in the namespace, with a clean
# environment (VM_NETD points vm's client code at the test helper).
as() {
	local user=$1
	shift
	ip netns exec "$NS" setpriv --reuid="$user" --regid="$(id -gn "$user")" --init-groups \
		env -i PATH=/usr/bin:/bin VM_NETD="$D/vm-netd" "$CLIENT" "$@" 2>&1
}

links() { ip -n "$NS" -o link show | awk -F': ' '{sub(/@.*/, "", $2); print $2}' | sort | xargs; }
audit_lines() { wc -l <"$D/audit.log"; }

# Syslog records between two markers sent around a command.
mark_seq=0
syslog_mark() {
	mark_seq=$((mark_seq + 1))
	"$CLIENT" syslog-send "$D/syslog" "MARK-$mark_seq"
}
syslog_records_since_mark() {
	"$CLIENT" syslog-send "$D/syslog" "END-$mark_seq"
	local i
	for i in $(seq 1 200); do
		grep -qx "END-$mark_seq" "$D/syslog.out" && break
		sleep 0.05
	done
	sed -n "/^MARK-$mark_seq\$/,/^END-$mark_seq\$/p" "$D/syslog.out" | grep -c 'vm-netd\['
}

# observe COMMAND...: runs COMMAND with the links, the audit file's length and
# a syslog mark taken first; sets the caller's before, audit_before, out, rc
# and records (the syslog records since the mark).
observe() {
	before=$(links)
	audit_before=$(audit_lines)
	syslog_mark
	out=$("$@")
	rc=$?
	records=$(syslog_records_since_mark)
}

# attack NAME EXPECTED FILE_RECORDS COMMAND...: the output contains EXPECTED
# (a denial), no link appears or goes, syslog got exactly one record and the
# policy's log file FILE_RECORDS (1, or 0 when the policy itself is broken).
attack() {
	local name=$1 expected=$2 file_records=$3
	shift 3
	local before after audit_before out rc records
	observe "$@"
	after=$(links)
	detail=$out check "$name: denied" contains "$out" "$expected"
	detail="before: $before; after: $after" check "$name: nothing created" [ "$before" = "$after" ]
	detail="$records records" check "$name: one syslog record" [ "$records" = 1 ]
	detail="$(tail -n 3 "$D/audit.log")" check "$name: audit file records: $file_records" \
		[ $(($(audit_lines) - audit_before)) = "$file_records" ]
}

# ---- setup ---------------------------------------------------------------
cleanup
mkdir -m 0755 -p "$D"
install -o root -g root -m 4755 "$NETD_HELPER" "$D/vm-netd"
install -o root -g root -m 0755 "$NETD_CLIENT" "$D/netd-client"
install -o root -g root -m 0644 "$EVIL_PRELOAD" "$D/evil.so"
install -o root -g root -m 0755 "$VM_TEST_BIN" "$D/vm"
cp -r "$VM_TEST_LIB" "$D/lib"
chmod -R a+rX "$D/lib"
groupadd "$LAB"
# Homes of their own: vm keeps a running machine's handle below its owner's.
for u in $USERS; do
	useradd -M -d "$D/home-$u" -s /usr/sbin/nologin "$u"
	install -d -o "$u" -g "$(id -gn "$u")" -m 0700 "$D/home-$u"
done
usermod -a -G "$LAB" "$CAROL"
ip netns add "$NS"
ip -n "$NS" link set lo up
for br in br0 br2 br3 brgranted012345 brdenied0123456; do
	ip -n "$NS" link add "$br" type bridge
	ip -n "$NS" link set "$br" up
done
ip -n "$NS" link set br0 mtu 1400
ip -n "$NS" link add veth0 type veth peer name veth1

write_policy() {
	rm -f "$D/netd.conf" # never through a symlink a test left behind
	cat >"$D/netd.conf" <<POLICY
# vm-netd test policy
log $D/audit.log
bridge br0
bridge br1                             # declared, does not exist
bridge br3
bridge vmlab create 10.77.0.1/24
bridge lo
bridge veth0
bridge vm41t0
bridge brgranted012345
bridge brdenied0123456
allow $ALICE br0 2
allow $ALICE br1 1
allow $ALICE vmlab 1
allow $ALICE lo 1
allow $ALICE veth0 1
allow $ALICE vm41t0 1
allow $ALICE brgranted012345 1
allow @$LAB br0 1
allow $BOB br0 1
allow $BOBBY br3 1
POLICY
	chown root:root "$D/netd.conf"
	chmod 0644 "$D/netd.conf"
}
write_policy
touch "$D/audit.log"
chmod 0640 "$D/audit.log"

"$CLIENT" syslog-sink "$D/syslog" "$D/syslog.out" >"$D/sink.ready" &
bg_pids+=($!)
for i in $(seq 1 100); do
	grep -q listening "$D/sink.ready" 2>/dev/null && break
	sleep 0.05
done

# ---- a granted tap ---------------------------------------------------------
coproc HOLD { as "$ALICE" tap br0 10 --hold; }
bg_pids+=($HOLD_PID)
read -r -t 30 line <&"${HOLD[0]}"
detail=$line check "granted tap: fd arrives and TUNGETIFF names it vm10t0" \
	[ "$line" = "granted vm10t0 fd-name=vm10t0" ]
read -r -t 30 line <&"${HOLD[0]}" # "holding"
info=$(ip -n "$NS" -d link show vm10t0 2>&1)
detail=$info check "granted tap: owned by the caller" \
	matches "$info" "tun type tap .*user ($ALICE|$(id -u $ALICE))( |$)"
detail=$info check "granted tap: not persistent" contains "$info" "persist off"
detail=$info check "granted tap: enslaved to br0" contains "$info" "master br0"
detail=$info check "granted tap: up" matches "$info" "<[^>]*,UP[,>]"
detail=$info check "granted tap: MTU taken from the bridge (1400)" contains "$info" "mtu 1400"
admin_list=$(ip netns exec "$NS" "$D/vm-netd" --list 2>&1)
detail=$admin_list check "vm-netd --list shows the tap and its owner" \
	matches "$admin_list" "vm10t0 +br0 +$ALICE +up"
query=$(as "$ALICE" query)
detail=$query check "query (vm net): alice's grant on br0 shows 1 of 2 in use" \
	contains "$query" "grant br0 2 1 1"
vmnet=$(ip netns exec "$NS" setpriv --reuid="$ALICE" --regid="$(id -gn $ALICE)" --init-groups \
	env -i PATH=/usr/bin:/bin VM_NETD="$D/vm-netd" "$D/vm" net 2>&1)
detail=$vmnet check "vm net: shows the grants, quotas and use" \
	matches "$vmnet" "br0 +2 +1 +ready"
detail=$vmnet check "vm net: a missing 'create' bridge says how to create it" \
	matches "$vmnet" "vmlab +1 +0 +missing; 'vm start --bridge' creates it"
vmnet=$(ip netns exec "$NS" setpriv --reuid="$DAVE" --regid="$(id -gn $DAVE)" --init-groups \
	env -i PATH=/usr/bin:/bin VM_NETD="$D/vm-netd" "$D/vm" net 2>&1)
detail=$vmnet check "vm net: no grant says which line to ask for" \
	contains "$vmnet" "grants $DAVE no bridge: ask your admin to add 'allow $DAVE BRIDGE 1'"
exec {HOLD[1]}>&-
wait "$HOLD_PID"
info=$(ip -n "$NS" link show vm10t0 2>&1)
detail=$info check "granted tap: gone once the fd is closed" contains "$info" "does not exist"
last=$(grep "user=$ALICE op=query" "$D/audit.log" | tail -n 1)
detail=$last check "audit record: time uid user op machine bridge tap queues result reason" \
	matches "$last" "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z uid=$(id -u $ALICE) user=$ALICE op=query machine=00 bridge=- tap=- queues=- result=granted rule=- reason=\"[^\"]*\"$"
grep -E "op=tap machine=10 bridge=br0 tap=vm10t0 queues=1 result=granted" "$D/audit.log" >/dev/null
check "audit record of the grant names machine, bridge, tap and queues" [ $? = 0 ]
grant_line=$(grep -n "^allow $ALICE br0 2\$" "$D/netd.conf" | cut -d: -f1)
last=$(grep "tap=vm10t0 queues=1 result=granted" "$D/audit.log" | tail -n 1)
detail=$last check "audit record of a grant names the policy line that granted it" \
	contains "$last" "result=granted rule=$D/netd.conf:$grant_line "

# ---- vm run, bridged, with a stand-in emulator --------------------------------
# The stand-in shows what the emulator would get: its arguments, and what
# the inherited fd is (the kernel's fdinfo names the tap).
cat >"$D/fake-qemu" <<'FAKE'
#!/bin/bash
for arg; do
	case $arg in
	tap,*fds=*) fds=${arg##*fds=} ;;
	tap,*) fd=${arg##*fd=} ;;
	esac
done
echo "args: $*"
# vm reaps vm-netd before it execs the emulator: no child of its own here.
# Read with builtins before anything forks (bash reaps any child it finds).
read -r kids </proc/$$/task/$$/children
for kid in $kids; do
	read -r comm </proc/$kid/comm && echo "child: $comm"
done
[ -n "${fd:-}" ] && echo "tap fd $fd: $(grep iff /proc/$$/fdinfo/$fd)"
for f in ${fds//:/ }; do
	echo "queue fd $f: $(grep iff /proc/$$/fdinfo/$f | xargs)"
done
echo "links: $(ip -o link show master br0 | awk -F': ' '{print $2}' | xargs)"
FAKE
chmod 0755 "$D/fake-qemu"
machine() { # USER ID: a machine directory owned by USER
	local dir=$D/machine-$1
	mkdir -p "$dir"
	printf 'VM_MACHINE_NAME=m%s\nVM_MACHINE_ID=%s\nVM_MACHINE_OWNER=%s\nVM_USE_SNAPSHOTS=no\nVM_QEMU=%s\nVM_QEMU_ACCEL=tcg\n' \
		"$2" "$2" "$1" "$D/fake-qemu" >"$dir/.vmrc"
	touch "$dir/m$2.qcow2"
	chown -R "$1" "$dir"
	echo "$dir"
}
vm_as() { # USER DIR VM-ARGS...
	local user=$1 dir=$2
	shift 2
	ip netns exec "$NS" setpriv --reuid="$user" --regid="$(id -gn "$user")" --init-groups \
		env -i PATH=/usr/bin:/bin:/usr/sbin:/sbin VM_LIB="$D/lib" VM_NETD="$D/vm-netd" \
		VM_HOME="$dir" "$D/vm" "$@" 2>&1
}
out=$(vm_as "$ALICE" "$(machine "$ALICE" 33)" run)
detail=$out check "vm run: the emulator gets -netdev tap,id=net0,fd=N" \
	matches "$out" "-netdev tap,id=net0,fd=[0-9]+ "
detail=$out check "vm run: fd N is the tap vm33t0 (fdinfo)" matches "$out" "tap fd [0-9]+: iff:[[:space:]]+vm33t0"
detail=$out check "vm run: the tap is on br0 while the emulator runs" contains "$out" "links: vm33t0"
detail=$out check "vm run: the MAC is DE:AD:BE:EF:<ID>:11" contains "$out" "mac=DE:AD:BE:EF:33:11"
detail=$out check "vm run: no vnet_hdr= on the command line" lacks "$out" "vnet_hdr"
detail=$out check "vm run: the emulator has no vm-netd for a child (vm reaped it before the exec)" \
	lacks "$out" "child: vm-netd"
info=$(ip -n "$NS" link show vm33t0 2>&1)
detail=$info check "vm run: the tap is gone once the emulator has exited" contains "$info" "does not exist"
out=$(vm_as "$DAVE" "$(machine "$DAVE" 34)" run)
detail=$out check "vm run: a denial names the policy line to add" \
	contains "$out" "vm: run: vm-netd denied a tap on br0 for $DAVE: ask your admin to add 'allow $DAVE br0 1' to $D/netd.conf"
dir=$(machine "$ALICE" 35)
echo "VM_NET_BRIDGE=vmlab" >>"$dir/.vmrc"
out=$(vm_as "$ALICE" "$dir" run)
detail=$out check "vm run on a missing 'create' bridge without --bridge: denied" \
	contains "$out" "vm-netd denied a tap on vmlab"
out=$(vm_as "$ALICE" "$dir" run --bridge)
info=$(ip -n "$NS" -d link show vmlab 2>&1)
detail=$out check "vm run --bridge: the emulator gets the tap vm35t0" \
	matches "$out" "tap fd [0-9]+: iff:[[:space:]]+vm35t0"
detail=$info check "vm run --bridge: vm-netd created the bridge vmlab" contains "$info" "bridge forward_delay"
ip -n "$NS" link del vmlab 2>/dev/null
dir=$(machine "$ALICE" 36)
echo "VM_QEMU_DISPLAY=curses" >>"$dir/.vmrc"
out=$(vm_as "$ALICE" "$dir" start --encapsulate)
detail=$out check "vm start --encapsulate, bridged: refused (screen would drop the tap)" \
	contains "$out" "--encapsulate cannot hand vm-netd's tap to the emulator"
info=$(ip -n "$NS" link show vm36t0 2>&1)
detail=$info check "vm start --encapsulate, bridged: no tap left behind" contains "$info" "does not exist"
out=$(vm_as "$DAVE" "$D/machine-$DAVE" run --nat)
detail=$out check "vm run --nat: no vm-netd involved" contains "$out" "-netdev user,id=net0"
# VM_NET_QUEUES: every queue's fd reaches the emulator, and only those.
dir=$(machine "$ALICE" 37)
printf 'VM_NET_MODEL=virtio-net-pci\nVM_NET_QUEUES=3\n' >>"$dir/.vmrc"
out=$(vm_as "$ALICE" "$dir" run)
detail=$out check "vm run, VM_NET_QUEUES=3: -netdev tap,id=net0,fds=A:B:C" \
	matches "$out" "-netdev tap,id=net0,fds=[0-9]+:[0-9]+:[0-9]+ "
detail=$out check "vm run, VM_NET_QUEUES=3: virtio-net-pci with mq=on and 8 vectors" \
	contains "$out" "-device virtio-net-pci,netdev=net0,mq=on,vectors=8,mac=DE:AD:BE:EF:37:11"
detail=$out check "vm run, VM_NET_QUEUES=3: the emulator inherits 3 queues of vm37t0, multi-queue" \
	[ "$(grep -cE "^queue fd [0-9]+: iff: vm37t0$" <<<"$out")" = 3 ]
info=$(ip -n "$NS" link show vm37t0 2>&1)
detail=$info check "vm run, VM_NET_QUEUES=3: the tap is gone once the emulator has exited" contains "$info" "does not exist"
dir=$(machine "$ALICE" 38)
printf 'VM_NET_MODEL=e1000\nVM_NET_QUEUES=2\n' >>"$dir/.vmrc"
audit_before=$(audit_lines)
out=$(vm_as "$ALICE" "$dir" run)
detail=$out check "vm run, VM_NET_QUEUES=2 with e1000: refused, naming both variables" \
	contains "$out" "vm: run: VM_NET_QUEUES=2 needs a NIC with several queues, and VM_NET_MODEL=e1000 has one"
detail=$out check "vm run, VM_NET_QUEUES=2 with e1000: refused before vm-netd or the emulator ran" \
	bash -c '! grep -q "^args:" <<<"$1" && [ "$2" = "$3" ]' _ "$out" "$audit_before" "$(audit_lines)"
out=$(vm_as "$ALICE" "$dir" run --nat)
detail=$out check "vm run --nat, VM_NET_QUEUES=2: a warning, one queue, and it runs" \
	bash -c 'grep -q "VM_NET_QUEUES=2 is for bridged networking" <<<"$1" && grep -q -- "-device e1000,netdev=net0,mac=" <<<"$1"' _ "$out"

# ---- the helper's own state during a request -------------------------------
st=$(as "$ALICE" status br0 12)
uid=$(id -u $ALICE) gid=$(id -g $ALICE)
detail=$st check "helper state: Uid all the caller's" matches "$st" "Uid:	$uid	$uid	$uid	$uid$"
detail=$st check "helper state: real, effective and fs gid the caller's, the saved one 0 (no prlimit from the caller)" \
	matches "$st" "Gid:	$gid	$gid	0	$gid$"
detail=$st check "helper state: no supplementary groups" matches "$st" "Groups:[[:space:]]*$"
detail=$st check "helper state: CapEff 0x1000" contains "$st" "CapEff:	0000000000001000"
detail=$st check "helper state: CapPrm 0x1000" contains "$st" "CapPrm:	0000000000001000"
detail=$st check "helper state: CapBnd 0" contains "$st" "CapBnd:	0000000000000000"
detail=$st check "helper state: CapInh and CapAmb 0" \
	matches "$(grep -E 'CapInh|CapAmb' <<<"$st" | grep -vc ':	0000000000000000')" "^0$"
detail=$st check "helper state: NoNewPrivs 1" contains "$st" "NoNewPrivs:	1"
detail=$st check "helper state: Seccomp 2" contains "$st" "Seccomp:	2"
detail=$st check "helper state: the request then succeeds" contains "$st" "result: granted vm12t0"

# ---- multi-queue taps (protocol version 2's queues field) -------------------
# The quota counts taps, not queues: bobby's quota on br3 is 1.
coproc MQ { as "$BOBBY" tap br3 13 -q 4 --hold; }
bg_pids+=($MQ_PID)
read -r -t 30 line <&"${MQ[0]}"
read -r -t 30 queues <&"${MQ[0]}"
read -r -t 30 holding <&"${MQ[0]}"
detail=$line check "4 queues, quota 1: granted" [ "$line" = "granted vm13t0 fd-name=vm13t0" ]
detail=$queues check "4 queues: 4 fds in one message, each TUNGETIFF vm13t0 with IFF_MULTI_QUEUE" \
	[ "$queues" = "fds: 4 vm13t0 vm13t0 vm13t0 vm13t0 mq=on" ]
info=$(ip -n "$NS" -d link show vm13t0 2>&1)
detail=$info check "4 queues: one tap, multi_queue, not persistent, on br3, the caller's" \
	bash -c 'grep -q "multi_queue" <<<"$1" && grep -q "persist off" <<<"$1" && grep -q "master br3" <<<"$1" && grep -qE "user ($2|$3)( |$)" <<<"$1"' _ \
	"$info" "$BOBBY" "$(id -u $BOBBY)"
txq=$(ip netns exec "$NS" ls /sys/class/net/vm13t0/queues 2>&1 | xargs)
detail=$txq check "4 queues: the kernel counts 4 tx queues on vm13t0" \
	[ "$(tr ' ' '\n' <<<"$txq" | grep -c '^tx-')" = 4 ]
query=$(as "$BOBBY" query)
detail=$query check "4 queues: vm net counts 1 tap of 1 on br3" contains "$query" "grant br3 1 1 1"
attack "4 queues, then a second tap: over the quota of 1" "already has 1 taps on br3" 1 \
	as "$BOBBY" tap br3 14 -q 4
attack "4 queues, then a second single-queue tap: over the quota" "already has 1 taps on br3" 1 \
	as "$BOBBY" tap br3 14
records=$(grep -c "op=tap machine=13 bridge=br3 tap=vm13t0 queues=4 result=granted" "$D/audit.log")
detail=$(grep "machine=13 " "$D/audit.log") check "4 queues: one audit record, naming the 4 queues" [ "$records" = 1 ]
exec {MQ[1]}>&-
wait "$MQ_PID"
info=$(ip -n "$NS" link show vm13t0 2>&1)
detail=$info check "4 queues: the tap is gone once all its fds are closed" contains "$info" "does not exist"
# The most the helper gives, and a single queue as before (no IFF_MULTI_QUEUE).
out=$(as "$ALICE" raw queues 8)
detail=$out check "8 queues (the limit): granted, 8 fds of one multi-queue tap" \
	matches "$out" "^fds: 8 (vm42t0 ){8}mq=on$"
out=$(as "$ALICE" raw valid)
detail=$out check "1 queue: granted, 1 fd, not multi-queue (as before protocol 2)" \
	matches "$out" "^fds: 1 vm42t0 mq=off$"
st=$(as "$ALICE" status br0 15 4)
detail=$st check "helper state, 4 queues asked: NoNewPrivs 1, Seccomp 2, CapEff 0x1000" \
	bash -c 'grep -q "NoNewPrivs:	1" <<<"$1" && grep -q "Seccomp:	2" <<<"$1" && grep -q "CapEff:	0000000000001000" <<<"$1"' _ "$st"
detail=$st check "helper state, 4 queues asked: Uid all the caller's" matches "$st" "Uid:	$uid	$uid	$uid	$uid$"
detail=$st check "helper state, 4 queues asked: granted, with 4 fds" \
	bash -c 'grep -q "result: granted vm15t0" <<<"$1" && grep -q "^fds: 4 vm15t0 vm15t0 vm15t0 vm15t0 mq=on$" <<<"$1"' _ "$st"
# A vm of another protocol version, and a helper of another (the old one,
# as it answered version 2's longer request).
attack "a version 1 request (vm of before multi-queue taps)" "result: denied-bad-request" 1 as "$ALICE" raw v1
detail=$(tail -n 1 "$D/audit.log") check "a version 1 request: the record says which version" \
	contains "$(tail -n 1 "$D/audit.log")" 'reason="bad request: protocol version 1, expected 2"'
ln -sf "$D/netd-client" "$D/vm-netd-v1"
out=$(ip netns exec "$NS" setpriv --reuid="$ALICE" --regid="$(id -gn "$ALICE")" --init-groups \
	env -i PATH=/usr/bin:/bin VM_NETD="$D/vm-netd-v1" "$CLIENT" tap br0 16 2>&1)
detail=$out check "a helper of protocol version 1: vm says to install matching versions" \
	contains "$out" "denied: vm-netd at $D/vm-netd-v1 speaks protocol 1, vm speaks 2: install matching versions"

# ---- the policy ------------------------------------------------------------
out=$(as "$ALICE" tap br0 11 -n 3)
detail=$out check "quota: 2 taps granted" [ "$(grep -c '^granted' <<<"$out")" = 2 ]
detail=$out check "quota: the third denied, naming the rule" \
	contains "$out" "denied: $ALICE already has 2 taps on br0, the policy's quota"
# Many helpers at once (as at boot): the quota still holds.
mkfifo -m 0644 "$D/hold"
exec {holdfd}<>"$D/hold"
race_pids=()
for i in 1 2 3 4 5 6; do
	as "$ALICE" tap br0 $((60 + i)) --hold {holdfd}>&- <"$D/hold" >"$D/race.$i" &
	race_pids+=($!)
done
for i in 1 2 3 4 5 6; do
	for t in $(seq 1 600); do
		grep -q holding "$D/race.$i" && break
		sleep 0.05
	done
done
granted=$(cat "$D"/race.* | grep -c '^granted')
detail=$(cat "$D"/race.*) check "quota under concurrency: 6 parallel requests, exactly 2 granted" [ "$granted" = 2 ]
exec {holdfd}>&-
rm -f "$D/hold"
wait "${race_pids[@]}"
out=$(as "$CAROL" tap br0 20)
detail=$out check "grant through a group (@$LAB)" contains "$out" "granted vm20t0"
out=$(as "$DAVE" tap br0 21)
detail=$out check "no grant: denied, saying which line the admin must add" \
	contains "$out" "ask your admin to add 'allow $DAVE br0 1' to $D/netd.conf"
missing=$(as "$ALICE" raw name "$(printf br1 | od -An -tx1 | tr -d ' \n')")
forbidden=$(as "$ALICE" raw name "$(printf br2 | od -An -tx1 | tr -d ' \n')")
detail="$missing / $forbidden" check "declared bridge that does not exist: denied" \
	contains "$missing" "result: denied -"
detail="$missing / $forbidden" check "a missing and a forbidden bridge get the same reply" \
	[ "$missing" = "$forbidden" ]
attack "create bridge not asked for" "denied:" 1 as "$ALICE" tap vmlab 22
out=$(as "$ALICE" tap vmlab 22 -c)
info=$(ip -n "$NS" -d link show vmlab 2>&1; ip -n "$NS" addr show vmlab 2>&1)
detail="$out $info" check "create bridge on demand: granted" contains "$out" "granted vm22t0"
detail=$info check "create bridge on demand: a bridge, up, with its address" \
	matches "$info" "bridge.*10\.77\.0\.1/24|10\.77\.0\.1/24"
detail=$info check "create bridge on demand: it is a bridge" contains "$info" "bridge forward_delay"
ip -n "$NS" link del vmlab
setup=$(ip netns exec "$NS" "$D/vm-netd" --setup 2>&1)
detail=$setup check "vm-netd --setup creates the declared bridges" \
	contains "$setup" "vmlab: created with 10.77.0.1/24"
ip -n "$NS" link del vmlab

# ---- attacks: names ----------------------------------------------------------
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
attack "name of 0 bytes" "result: denied" 1 as "$ALICE" raw name ""
attack "name of 15 bytes" "result: denied" 1 as "$ALICE" raw name "$(hex abcdefghijklmno)"
attack "name of 16 bytes" "result: denied" 1 as "$ALICE" raw name "$(hex abcdefghijklmnop)"
attack "name of 17 bytes" "result: denied" 1 as "$ALICE" raw name "$(hex abcdefghijklmnopq)"
attack "name of 64 bytes" "result: denied" 1 as "$ALICE" raw name "$(printf 'b%.0s' $(seq 64) | od -An -tx1 | tr -d ' \n')"
attack "granted bridge name + 1 byte (CVE-2019-13164)" "result: denied" 1 \
	as "$ALICE" raw name "$(hex brgranted012345X)"
attack "granted bridge name + 49 bytes" "result: denied" 1 \
	as "$ALICE" raw name "$(hex brgranted012345XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX)"
attack "denied bridge name + 1 byte" "result: denied" 1 as "$ALICE" raw name "$(hex brdenied0123456X)"
attack "name with /" "result: denied" 1 as "$ALICE" raw name "$(hex br/0)"
attack "name .." "result: denied" 1 as "$ALICE" raw name "$(hex ..)"
attack "name with a space" "result: denied" 1 as "$ALICE" raw name "$(hex 'br 0')"
attack "name with %d" "result: denied" 1 as "$ALICE" raw name "$(hex 'br%d')"
attack "name with a newline" "result: denied" 1 as "$ALICE" raw name "$(printf 'br\n0' | od -An -tx1 | tr -d ' \n')"
attack "name with non-ASCII bytes" "result: denied" 1 as "$ALICE" raw name "$(hex 'brü0')"

# ---- attacks: the wrong bridge -------------------------------------------------
coproc BOBHOLD { as "$BOB" tap br0 41 --hold; }
bg_pids+=($BOBHOLD_PID)
read -r -t 30 line <&"${BOBHOLD[0]}"
detail=$line check "bob holds vm41t0" [ "$line" = "granted vm41t0 fd-name=vm41t0" ]
read -r -t 30 line <&"${BOBHOLD[0]}"
detail=$(links) check "lo, veth0 and vm41t0 exist (the wrong bridges below are real)" \
	matches "$(links)" "(^| )lo .*veth0 veth1 vm41t0$"
attack "bridge lo" "denied:" 1 as "$ALICE" tap lo 30
attack "bridge that is not a bridge (veth0)" "denied:" 1 as "$ALICE" tap veth0 30
attack "another user's tap as the bridge" "denied:" 1 as "$ALICE" tap vm41t0 30
attack "same machine ID as another user's tap" "machine ID 41 already has taps of another user" 1 \
	as "$ALICE" tap br0 41
# A link named like a tap that is not one (root's veth, say) is no user's
# machine: vm-netd counts tun devices only, and the tap takes the next name.
ip -n "$NS" link add vm62t0 type veth peer name vm62peer
out=$(as "$ALICE" tap br0 62)
detail=$out check "a veth named vm62t0 is no tap: alice is granted machine 62, as vm62t1" \
	[ "$out" = "granted vm62t1 fd-name=vm62t1" ]
ip -n "$NS" link del vm62t0

# ---- attacks: confusable users -------------------------------------------------
attack "bobby is not bob" "denied:" 1 as "$BOBBY" tap br0 31
attack "bob is not bobby" "denied:" 1 as "$BOB" tap br3 31
exec {BOBHOLD[1]}>&-
wait "$BOBHOLD_PID"

# ---- attacks: messages -----------------------------------------------------------
attack "truncated request" "result: denied-bad-request" 1 as "$ALICE" raw truncated
attack "oversized request" "result: denied-bad-request" 1 as "$ALICE" raw oversized
attack "wrong version" "result: denied-bad-request" 1 as "$ALICE" raw version
attack "wrong type" "result: denied-bad-request" 1 as "$ALICE" raw type
attack "unknown flags" "result: denied-bad-request" 1 as "$ALICE" raw flags
attack "two requests in one message" "result: denied-bad-request" 1 as "$ALICE" raw double
attack "a request carrying an fd" "result: denied-bad-request" 1 as "$ALICE" raw fdpass
attack "no request at all (time-out)" "no request within" 1 as "$ALICE" raw none
# The queues field: 1-8, and nothing else.
for n in 0 9 256 65536 2147483648 4294967295 -1; do
	attack "$n queues" "result: denied-bad-request" 1 as "$ALICE" raw queues "$n"
done
detail=$(tail -n 1 "$D/audit.log") check "bad queues: the record names what was asked" \
	contains "$(tail -n 1 "$D/audit.log")" 'queues=4294967295 result=denied-bad-request rule=- reason="bad request: 4294967295 queues, expected 1-8"'
attack "4 queues and trailing bytes" "result: denied-bad-request" 1 as "$ALICE" raw queues-trailing 4
attack "2 queues, with 2 fds from the caller" "result: denied-bad-request" 1 as "$ALICE" raw queues-fds 2
attack "8 queues, with 8 fds from the caller" "result: denied-bad-request" 1 as "$ALICE" raw queues-fds 8

# ---- attacks: descriptors ----------------------------------------------------------
attack "fd 3 not a socket" "exit: 1" 1 as "$ALICE" fd3 notsock
attack "fd 3 a stream socket" "exit: 1" 1 as "$ALICE" fd3 stream
attack "fd 3 closed" "exit: 1" 1 as "$ALICE" fd3 closed
attack "fds 0-2 closed at exec" "result: denied" 1 as "$DAVE" fd3 close012

# Every fd above 3 is closed: the client leaves a file open at fd 5 and at
# a high fd (70000, above 65535, where the hard RLIMIT_NOFILE lets it) across
# exec, and the test looks at the helper's fds while it waits for the
# request. Then again with close_range failing (ENOSYS, as on kernels before
# 5.9): the client's filter needs no_new_privs, so the helper runs
# unprivileged there, but its first step is the same.
echo "for no helper" >"$D/planted"
chmod 0644 "$D/planted"
high_limit=()
prlimit --nofile=100000:100000 true 2>/dev/null && high_limit=(prlimit --nofile=100000:100000)
helper_waits_for_request() { [[ "$(cat "/proc/$1/syscall" 2>/dev/null)" == "47 0x3 "* ]]; }
fd_closed_in() { [ -e "/proc/$1/fd/3" ] && [ ! -e "/proc/$1/fd/$2" ]; } # PID FD
planted_fds() { # NAME CLIENT-PLANT-ARGS...: the client's output in $plant_out
	local name=$1 pid= high= targets client hold
	shift
	rm -f "$D/plant.in" "$D/plant.out"
	mkfifo -m 0600 "$D/plant.in"
	ip netns exec "$NS" "${high_limit[@]}" setpriv --reuid="$ALICE" \
		--regid="$(id -gn "$ALICE")" --init-groups env -i PATH=/usr/bin:/bin \
		VM_NETD="$D/vm-netd" "$CLIENT" plant "$D/planted" "$@" br0 44 \
		<"$D/plant.in" >"$D/plant.out" 2>&1 &
	client=$!
	exec {hold}>"$D/plant.in" # the client asks once this closes
	for _ in $(seq 250); do
		read -r pid high <<<"$(sed -n 's/^helper \([0-9]*\) planted 5 \([0-9]*\)$/\1 \2/p' "$D/plant.out")"
		[ -n "$pid" ] && helper_waits_for_request "$pid" && break
		sleep 0.02
	done
	targets=$(for f in /proc/"${pid:-none}"/fd/*; do readlink "$f"; done)
	detail="$(cat "$D/plant.out"); fds: $(ls /proc/"${pid:-none}"/fd 2>&1 | xargs)" \
		check "$name: the helper waits for its request on fd 3" \
		helper_waits_for_request "${pid:-none}"
	detail=$targets check "$name: the helper holds none of the fds its caller left open" \
		lacks "$targets" "$D/planted"
	detail=$(ls /proc/"${pid:-none}"/fd 2>&1 | xargs) \
		check "$name: fd ${high:-?} is closed in the helper" \
		fd_closed_in "${pid:-none}" "${high:-none}"
	if [ -n "$high" ] && [ "$high" -lt 65536 ]; then
		echo "note - $name: no fd above 65535 here (the hard RLIMIT_NOFILE is $((high + 1)), and root lacks CAP_SYS_RESOURCE to raise it)"
	fi
	exec {hold}>&-
	wait "$client"
	plant_out=$(cat "$D/plant.out")
	rm -f "$D/plant.in" "$D/plant.out"
}
planted_fds "fds left open"
detail=$plant_out check "fds left open: the request is still granted" \
	contains "$plant_out" "result: granted vm44t0"
planted_fds "fds left open, close_range ENOSYS" --no-close-range
detail=$plant_out check "fds left open, close_range ENOSYS: answered (no_new_privs)" \
	contains "$plant_out" "no_new_privs"

# ---- attacks: the environment --------------------------------------------------------
rm -f "$D/preload-ran"
printf 'bridge br0\nallow %s br0 9\n' "$DAVE" >"$D/allow-all.conf"
hostile_env() {
	ip netns exec "$NS" setpriv --reuid="$1" --regid="$(id -gn "$1")" --init-groups \
		env -i PATH=/usr/bin:/bin LD_PRELOAD="$D/evil.so" LD_LIBRARY_PATH="$D" \
		LD_AUDIT="$D/evil.so" MALLOC_CHECK_=3 TZ=Evil/Zone LANG=xx_XX.UTF-8 \
		VM_NETD_POLICY="$D/allow-all.conf" NETD_POLICY_PATH="$D/allow-all.conf" \
		VM_NETD="$D/vm-netd" "$CLIENT" "${@:2}" 2>&1
}
attack "LD_PRELOAD and other variables ignored" "result: denied" 1 hostile_env "$DAVE" raw valid
check "LD_PRELOAD never ran in the helper" [ ! -e "$D/preload-ran" ]
out=$(hostile_env "$ALICE" raw valid)
detail=$out check "hostile environment: a granted request still works" contains "$out" "result: granted vm42t0"
detail=$(tail -n 1 "$D/audit.log") check "hostile environment: the audit time is still UTC" \
	matches "$(tail -n 1 "$D/audit.log")" "^[0-9-]{10}T[0-9:]{8}Z "

# ---- limits the caller set cannot leave a grant unaudited ---------------------------
# vm-netd raises RLIMIT_FSIZE where it may (CAP_SYS_RESOURCE in the bounding
# set): the grant is audited. Where it may not, a limit too small for the
# record refuses the request instead.
fsize_client() {
	ip netns exec "$NS" setpriv --reuid="$DAVE" --regid="$(id -gn $DAVE)" --init-groups \
		prlimit --fsize=1 env -i VM_NETD="$D/vm-netd" "$CLIENT" raw valid
}
cap_sys_resource=$((0x$(awk '/^CapBnd/ {print $2}' /proc/self/status) >> 24 & 1))
sed -i "s/^allow $BOB br0 1\$/&\nallow $DAVE br0 1/" "$D/netd.conf"
if [ "$cap_sys_resource" = 1 ]; then
	before=$(audit_lines)
	out=$(fsize_client 2>&1)
	fsize_audited() { [ $(($(audit_lines) - before)) = 1 ] && contains "$out" "result: granted"; }
	detail=$out check "RLIMIT_FSIZE=1 from the caller: raised, the grant is audited" fsize_audited
else
	attack "RLIMIT_FSIZE=1 from the caller (no CAP_SYS_RESOURCE here): refused, not unaudited" \
		"result: failed" 0 fsize_client
fi
write_policy

# ---- memory limits the caller set: each request answered and recorded -------------
# RLIMIT_AS, RLIMIT_DATA and RLIMIT_STACK survive exec. vm-netd raises them
# where it may (CAP_SYS_RESOURCE in the bounding set); where it may not, a
# limit the loader survives but vm-netd's steps would not fails the request,
# answered and recorded, where it used to abort with neither. Only the
# helper is limited (a wrapper as VM_NETD, not the client). A request with
# no answer counts only where the loader failed: its exit status 127, or
# netd-floor (linked as vm-netd, doing nothing) not starting under the same
# limit.
install -o root -g root -m 4755 "$NETD_FLOOR" "$D/netd-floor"
sed -i "s/^allow $BOB br0 1\$/&\nallow $DAVE br0 1/" "$D/netd.conf"
limit_helper() { # RESOURCE BYTES: $D/limited-netd runs vm-netd under that limit
	printf '#!/bin/sh\nexec prlimit --%s=%s %s "$@"\n' "$1" "$2" "$D/vm-netd" >"$D/limited-netd"
	chmod 0755 "$D/limited-netd"
}
limited_request() {
	ip netns exec "$NS" setpriv --reuid="$DAVE" --regid="$(id -gn $DAVE)" --init-groups \
		env -i PATH=/usr/bin:/bin VM_NETD="$D/limited-netd" "$CLIENT" tap br0 86 2>&1
}
floor_starts() { # RESOURCE BYTES
	ip netns exec "$NS" setpriv --reuid="$DAVE" --regid="$(id -gn $DAVE)" --init-groups \
		prlimit --"$1"="$2" "$D/netd-floor" 3>/dev/null 2>/dev/null
}
# The least BYTES (to 16 KiB) under which netd-floor starts.
floor_limit() { # RESOURCE
	local low=0 high=$((64 << 20)) mid
	while [ $((high - low)) -gt 16384 ]; do
		mid=$(((low + high) / 2))
		if floor_starts "$1" "$mid"; then high=$mid; else low=$mid; fi
	done
	echo "$high"
}
# limited_try RESOURCE BYTES: one request under the limit; adds to
# sweep_bad (what should not be), sweep_refused, sweep_loader, and sets
# sweep_granted to BYTES when granted.
limited_try() {
	local before audit_before out rc records
	observe limited_request
	if contains "$out" "without an answer"; then
		if contains "$out" "exit status 127" || ! floor_starts "$1" "$2"; then
			sweep_loader=$((sweep_loader + 1))
		else
			sweep_bad+=" [$2: $out]"
		fi
	elif [ "$records" != 1 ]; then
		sweep_bad+=" [$2: $records syslog records: $out]"
	elif contains "$out" "granted vm86t0"; then
		sweep_granted=$2
	elif contains "$out" "too little memory: your limits" && ! contains "$out" "granted"; then
		sweep_refused=$((sweep_refused + 1))
	else
		sweep_bad+=" [$2: $out]"
	fi
}
# memory_sweep RESOURCE: from 64 KiB under where netd-floor starts, by
# 16 KiB, then by 1 MiB once vm-netd answers, up to its first grant.
memory_sweep() {
	local value step=16384 tries=0
	value=$(($(floor_limit "$1") - 65536))
	sweep_bad= sweep_refused=0 sweep_loader=0 sweep_granted=
	while [ -z "$sweep_granted" ] && [ "$tries" -lt 120 ]; do
		limit_helper "$1" "$value"
		limited_try "$1" "$value"
		tries=$((tries + 1))
		# Once a request got past the loader, the rest by 1 MiB.
		[ "$sweep_loader" -lt "$tries" ] && step=1048576
		value=$((value + step))
	done
}
before_sweeps=$(links)
for resource in as data; do
	memory_sweep "$resource"
	name="RLIMIT_${resource^^} from the caller"
	detail=$sweep_bad check "$name: every request the loader survived is answered, with one record" \
		[ -z "$sweep_bad" ]
	detail="loader failures $sweep_loader, refused $sweep_refused" \
		check "$name: granted once the limit leaves room" [ -n "$sweep_granted" ]
	if [ "$cap_sys_resource" = 1 ]; then
		detail="refused $sweep_refused" check "$name: raised, never refused" [ "$sweep_refused" = 0 ]
	else
		detail="loader failures $sweep_loader" check \
			"$name (no CAP_SYS_RESOURCE here): too low for the steps, refused naming the limits" \
			[ "$sweep_refused" -gt 0 ]
	fi
done
# The stack: where the loader starts depends on where the kernel puts the
# stack's top (random), so netd-floor must start 10 times in 10; vm-netd's
# steps may take 4 KiB more than the loader (printf's own frames).
stack_floor=4096
while [ "$stack_floor" -lt $((1 << 20)) ]; do
	starts=0
	for run in $(seq 10); do floor_starts stack "$stack_floor" && starts=$((starts + 1)); done
	[ "$starts" = 10 ] && break
	stack_floor=$((stack_floor + 1024))
done
sweep_bad= sweep_refused=0 sweep_loader=0
answered=0
for value in $((stack_floor + 4096)) $((stack_floor + 6144)) $((stack_floor + 8192)); do
	limit_helper stack "$value"
	for run in 1 2 3 4 5; do
		sweep_granted=
		limited_try stack "$value"
		[ -n "$sweep_granted" ] && answered=$((answered + 1))
	done
done
all_granted() { [ "$answered" = 15 ] && [ -z "$sweep_bad" ]; }
detail="netd-floor starts from $stack_floor bytes; granted $answered;$sweep_bad" check \
	"RLIMIT_STACK from the caller, 4 KiB above the loader's need: all 15 granted, with one record" \
	all_granted

# ---- the caller's fd limit: each request answered and recorded ----------------------
# RLIMIT_NOFILE survives exec as well. vm-netd raises it where it may; where
# it may not, a limit too low for its fixed fd numbers and what the name
# service opens fails the request, answered and recorded, down to the least
# limit the loader survives (the record needs fd 4 only). Hard limits from 4
# to 40, and then a soft limit of 5 under the usual hard one.
nofile_bad= nofile_refused= nofile_granted= nofile_loader=
for value in $(seq 4 40); do
	limit_helper nofile "$value:$value"
	observe limited_request
	if contains "$out" "without an answer" && contains "$out" "exit status 127"; then
		nofile_loader+=" $value" # ld.so had no fd for libmnl
	elif [ "$records" != 1 ]; then
		nofile_bad+=" [$value: $records syslog records: $out]"
	elif contains "$out" "granted vm86t0"; then
		nofile_granted+=" $value"
	elif contains "$out" "too few files: your limit (ulimit -n $value) leaves vm-netd fewer than 32"; then
		nofile_refused+=" $value"
	else
		nofile_bad+=" [$value: $out]"
	fi
done
nofile_seen="loader failures:$nofile_loader; refused:$nofile_refused; granted:$nofile_granted"
detail="$nofile_seen;$nofile_bad" check \
	"RLIMIT_NOFILE from the caller: every request the loader survived is answered, with one record" \
	[ -z "$nofile_bad" ]
detail=$nofile_seen check "RLIMIT_NOFILE from the caller: the loader fails only below 5" \
	[ "$nofile_loader" = " 4" ]
if [ "$cap_sys_resource" = 1 ]; then
	detail=$nofile_seen check "RLIMIT_NOFILE from the caller: raised, granted from 5 on" \
		[ "$nofile_granted" = " $(seq -s ' ' 5 40)" ]
else
	detail=$nofile_seen check \
		"RLIMIT_NOFILE from the caller (no CAP_SYS_RESOURCE here): refused naming the limit below 32, granted from 32 on" \
		[ "$nofile_refused" = " $(seq -s ' ' 5 31)" ] && [ "$nofile_granted" = " $(seq -s ' ' 32 40)" ]
fi
limit_helper nofile 5:4096
out=$(limited_request)
detail=$out check "RLIMIT_NOFILE of 5 under a hard limit of 4096: raised, granted" \
	contains "$out" "granted vm86t0"
rm -f "$D/limited-netd"
detail="before: $before_sweeps; after: $(links)" check "the caller's limits: no tap left" \
	[ "$(links)" = "$before_sweeps" ]
write_policy

# ---- no_new_privs set by the caller ---------------------------------------------------
out=$(ip netns exec "$NS" setpriv --reuid="$ALICE" --regid="$(id -gn $ALICE)" --init-groups \
	--no-new-privs env -i VM_NETD="$D/vm-netd" "$CLIENT" tap br0 43 2>&1)
detail=$out check "no_new_privs: refused with a clear message" contains "$out" "no_new_privs"

# ---- the host not set up right: vm says what is wrong and what to do ----------------------
# What a user's vm run prints when the host lacks what vm-netd needs: one
# line, exit status 1, nothing created, and the record says the same.
# setup_failure NAME EXPECTED SYSLOG_RECORDS FILE_RECORDS COMMAND...
setup_failure() {
	local name=$1 expected=$2 syslog_records=$3 file_records=$4
	shift 4
	local before audit_before out rc records
	observe "$@"
	detail=$out check "$name: vm says what is wrong and what to do, in one line" \
		[ "$out" = "$expected" ]
	detail=$out check "$name: exit status 1" [ "$rc" = 1 ]
	detail="before: $before; after: $(links)" check "$name: nothing created" [ "$before" = "$(links)" ]
	detail="$records records" check "$name: syslog records: $syslog_records" [ "$records" = "$syslog_records" ]
	detail="$(tail -n 2 "$D/audit.log")" check "$name: audit file records: $file_records" \
		[ $(($(audit_lines) - audit_before)) = "$file_records" ]
	if [ "$syslog_records" = 1 ]; then
		local record reason=${expected#vm: [a-z]*: }
		reason=${reason#vm-netd could not make a tap on br0: }
		reason=${reason%; or use --nat} # vm's advice, not in vm-netd's record
		record=$(sed -n "/^MARK-$mark_seq\$/,/^END-$mark_seq\$/p" "$D/syslog.out" | grep 'vm-netd\[')
		detail=$record check "$name: the record gives the same reason" \
			contains "$record" "reason=\"$reason\""
	fi
}
# vm_via PLACE HELPER USER ID [COMMAND]: vm run (or COMMAND) of USER's
# machine ID with VM_NET_BRIDGE=br0 and HELPER as vm-netd, started through
# PLACE (a command that runs its arguments in the namespace, set up as the
# case needs).
vm_via() {
	local place=$1 helper=$2 user=$3 dir
	dir=$(machine "$user" "$4")
	echo "VM_NET_BRIDGE=br0" >>"$dir/.vmrc"
	"$place" setpriv --reuid="$user" --regid="$(id -gn "$user")" --init-groups \
		env -i PATH=/usr/bin:/bin:/usr/sbin:/sbin VM_LIB="$D/lib" VM_NETD="$helper" \
		VM_HOME="$dir" "$D/vm" "${5:-run}" 2>&1
}
in_ns() { ip netns exec "$NS" "$@"; }
# A mount namespace of its own whose /dev/net is an empty tmpfs (no tun
# driver, or a container without the device), or holds only a tun node of
# a mode (0600: a host without udev's rule; 0666: udev's).
without_tun() {
	ip netns exec "$NS" unshare -m --propagation private \
		sh -c 'mount -t tmpfs -o mode=0755 tmpfs /dev/net && exec "$@"' sh "$@"
}
tun_mode() {
	local mode=$1
	shift
	ip netns exec "$NS" unshare -m --propagation private \
		sh -c 'mount -t tmpfs -o mode=0755 tmpfs /dev/net && mknod -m "$0" /dev/net/tun c 10 200 &&
			exec "$@"' "$mode" "$@"
}
tun_0600() { tun_mode 0600 "$@"; }
tun_0666() { tun_mode 0666 "$@"; }
# A container that drops CAP_NET_ADMIN from the bounding set.
no_net_admin_bound() { ip netns exec "$NS" setpriv --bounding-set=-net_admin "$@"; }

setup_failure "no /dev/net/tun (no tun driver, or a container without it)" \
	"vm: run: vm-netd could not make a tap on br0: cannot open /dev/net/tun (No such file or directory): the tun driver is not loaded, or a container lacks the device: ask your admin to run 'modprobe tun', or to pass /dev/net/tun into the container; or use --nat" \
	1 1 vm_via without_tun "$D/vm-netd" "$ALICE" 50
setup_failure "vm start, no /dev/net/tun" \
	"vm: start: vm-netd could not make a tap on br0: cannot open /dev/net/tun (No such file or directory): the tun driver is not loaded, or a container lacks the device: ask your admin to run 'modprobe tun', or to pass /dev/net/tun into the container; or use --nat" \
	1 1 vm_via without_tun "$D/vm-netd" "$ALICE" 56 start
out=$(vm_via without_tun "$D/vm-netd" "$ALICE" 59 net)
rc=$?
detail=$out check "no /dev/net/tun: vm net still lists the grants (exit 0)" \
	bash -c '[ "$1" = 0 ] && grep -qE "^ *br0 +2 +[0-9]+ +ready" <<<"$2"' _ "$rc" "$out"
check "no /dev/net/tun: the host's /dev/net/tun is untouched" [ -c /dev/net/tun ]
mkdir -m 0755 "$D/nosuid"
mount -t tmpfs -o nosuid,mode=0755,size=4m tmpfs "$D/nosuid"
cp -p "$D/vm-netd" "$D/nosuid/vm-netd"
setup_failure "vm-netd setuid root on a nosuid file system" \
	"vm: run: vm-netd ($D/nosuid/vm-netd) is on a file system mounted nosuid, which ignores setuid and file capabilities: install vm with a --prefix on another (e.g. /usr/local), or remount it without nosuid; or use --nat" \
	1 0 vm_via in_ns "$D/nosuid/vm-netd" "$ALICE" 51
umount "$D/nosuid"
rmdir "$D/nosuid"
install -o root -g root -m 0755 "$NETD_HELPER" "$D/vm-netd-plain"
setup_failure "vm-netd installed without its setuid bit" \
	"vm: run: vm-netd ($D/vm-netd-plain) is not setuid root (owner uid 0, mode 0755) and has no file capabilities: run 'meson install' as root, which makes it root's and 4755; or use --nat" \
	1 0 vm_via in_ns "$D/vm-netd-plain" "$ALICE" 52
rm -f "$D/vm-netd-plain"
setup_failure "CAP_NET_ADMIN not in the bounding set (a container without it)" \
	"vm: run: vm-netd cannot have CAP_NET_ADMIN here: the capability bounding set lacks it (a container or service that drops it); run vm outside it, or give it CAP_NET_ADMIN; or use --nat" \
	1 1 vm_via no_net_admin_bound "$D/vm-netd" "$ALICE" 53
# A user who debugs with strace -f, as that user: the kernel starts the
# traced helper without its setuid bit. vm_via hands PLACE "setpriv" and its
# three options, then the command; the user's strace goes in between.
traced_by_user() { ip netns exec "$NS" "${@:1:4}" strace -f -qq -o /dev/null "${@:5}"; }
setup_failure "vm run under the user's own strace -f" \
	"vm: run: vm-netd is being traced (strace -f, gdb), and the kernel ignores the setuid bit and file capabilities of a program a user traces: trace vm without -f, or as root; or use --nat" \
	1 0 vm_via traced_by_user "$D/vm-netd" "$ALICE" 45
# A container whose seccomp filter forbids vm-netd's own: root installs it
# without no_new_privs, so the setuid bit still counts below it.
filter_forbids_seccomp() { ip netns exec "$NS" "$CLIENT" under-filter 1 "$@"; }
setup_failure "a seccomp filter of the caller's forbids vm-netd's (a container's)" \
	"vm: run: vm-netd could not make a tap on br0: cannot install the seccomp filter (Operation not permitted): vm runs under a seccomp filter (a container's or a service's) that forbids it: run vm outside that sandbox, or have it allow prctl() and seccomp(); or use --nat" \
	1 1 vm_via filter_forbids_seccomp "$D/vm-netd" "$ALICE" 49
if command -v setcap >/dev/null; then
	install -o root -g root -m 0755 "$NETD_HELPER" "$D/vm-netd-filecaps"
	setcap cap_net_admin,cap_setpcap+ep "$D/vm-netd-filecaps"
	setup_failure "vm-netd with file capabilities, /dev/net/tun 0600" \
		"vm: run: vm-netd could not make a tap on br0: /dev/net/tun is not open to uid $(id -u "$ALICE"), and vm-netd (with file capabilities, not setuid root) opens it as you: ask your admin to make it 0666 (udev's usual), or to install vm-netd setuid root; or use --nat" \
		1 0 vm_via tun_0600 "$D/vm-netd-filecaps" "$ALICE" 54
	setup_failure "vm-netd with file capabilities, a 'log' file in the policy" \
		"vm: run: vm-netd could not make a tap on br0: cannot open the audit log $D/audit.log as uid $(id -u "$ALICE"): vm-netd has file capabilities, not root's rights: ask your admin to remove the 'log' line from the policy (records then go to syslog), or to install vm-netd setuid root; or use --nat" \
		1 0 vm_via tun_0666 "$D/vm-netd-filecaps" "$ALICE" 57
	# --check of such an install tries what each subject of the rules would
	# meet: root can read the policy, but vm-netd works as its caller.
	check_filecaps() { # NAME EXPECTED-STATUS TEXT PLACE
		local out rc
		out=$("$4" "$D/vm-netd-filecaps" --check 2>&1)
		rc=$?
		detail=$out check "--check, file capabilities, $1: exit status $2" [ "$rc" = "$2" ]
		detail=$out check "--check, file capabilities, $1: says so" contains "$out" "$3"
	}
	check_filecaps "a 'log' file" 1 "vm-netd: $D/netd.conf: vm-netd has file capabilities, so it works as its caller, and as user $ALICE it cannot write the log file $D/audit.log (Permission denied): remove the 'log' line from the policy (records then go to syslog), or install vm-netd setuid root" tun_0666
	check_filecaps "a 'log' file, for a group's members too" 1 "and as a member of group $LAB it cannot write the log file $D/audit.log" tun_0666
	sed -i '/^log /d' "$D/netd.conf"
	check_filecaps "/dev/net/tun 0600" 1 "and as user $BOB it cannot open /dev/net/tun (Permission denied): make it 0666 (udev's usual), or install vm-netd setuid root" tun_0600
	chmod 0600 "$D/netd.conf"
	check_filecaps "a policy only root can read" 1 "and as user $BOBBY it cannot read the policy: $D/netd.conf: Permission denied: make the policy, its includes and their directories readable by the users it names (chmod 0644), or install vm-netd setuid root" tun_0666
	out=$("$D/vm-netd" --check 2>&1)
	detail=$out check "--check, setuid root, a policy only root can read: OK (vm-netd reads it as root)" \
		contains "$out" "$D/netd.conf: OK: "
	chmod 0644 "$D/netd.conf"
	check_filecaps "every subject can use the install" 0 "$D/netd.conf: OK: 9 bridges, 10 rules; vm-netd has file capabilities, and each user and group the rules name can use them" tun_0666
	write_policy
	rm -f "$D/vm-netd-filecaps"
else
	echo "ok - vm-netd with file capabilities, /dev/net/tun 0600 # SKIP no setcap here"
fi
# No syslog daemon (no /dev/log: a container, a minimal host) and no log
# file: the grant cannot be recorded, so it is undone.
sed -i '/^log /d' "$D/netd.conf"
without_syslog() {
	mv "$D/syslog" "$D/syslog.away"
	in_ns "$@"
	local rc=$?
	mv "$D/syslog.away" "$D/syslog"
	return $rc
}
setup_failure "no syslog and no log file" \
	"vm: run: vm-netd could not make a tap on br0: syslog did not take the audit record and the policy names no log file, so nothing was granted: ask your admin to run a syslog daemon (one that listens on /dev/log) or to name a 'log' file in the policy; or use --nat" \
	0 0 vm_via without_syslog "$D/vm-netd" "$ALICE" 55
setup_failure "vm net, no syslog and no log file: told as a query, not a tap" \
	"vm: net: vm-netd could not answer what it grants: syslog did not take the audit record and the policy names no log file, so nothing was granted: ask your admin to run a syslog daemon (one that listens on /dev/log) or to name a 'log' file in the policy" \
	0 0 vm_via without_syslog "$D/vm-netd" "$ALICE" 58 net
# A syslog daemon that is behind (its queue full: a boot's burst, a
# journal being flushed) while syslog is the only place for the record: the
# grant waits for it, a bounded while, rather than fail at once.
busy_syslog() { # MS: the busy daemon at $D/syslog, the usual one kept aside
	mv "$D/syslog" "$D/syslog.away"
	"$CLIENT" syslog-busy "$D/syslog" "$D/syslog.busy" "$1" >"$D/busy.ready" &
	busy_pid=$!
	for i in $(seq 1 100); do
		grep -q full "$D/busy.ready" 2>/dev/null && break
		sleep 0.05
	done
}
usual_syslog() {
	kill "$busy_pid"
	wait "$busy_pid" 2>/dev/null
	rm -f "$D/syslog" "$D/syslog.busy" "$D/busy.ready"
	mv "$D/syslog.away" "$D/syslog"
}
busy_syslog 200
out=$(as "$ALICE" tap br0 92)
sleep 0.3
detail="$out; $(cat "$D/busy.ready")" check "syslog behind for 0.2 s, no log file: granted once it takes the record" \
	contains "$out" "granted vm92t0"
detail=$(cat "$D/syslog.busy" 2>&1) check "... and the record is syslog's" \
	grep -q "machine=92 bridge=br0 tap=vm92t0 queues=1 result=granted" "$D/syslog.busy"
usual_syslog
busy_syslog -1
before_links=$(links)
start=$(date +%s%N)
out=$(as "$ALICE" tap br0 93)
ms=$((($(date +%s%N) - start) / 1000000))
detail="$out (${ms} ms)" check "syslog that never reads, no log file: nothing granted, and the wait is bounded (< 2 s)" \
	bash -c 'grep -q "syslog did not take the audit record" <<<"$1" && [ "$2" -lt 2000 ]' _ "$out" "$ms"
detail="before: $before_links; after: $(links)" check "... and no tap is left" [ "$before_links" = "$(links)" ]
usual_syslog
write_policy

# ---- non-root callers get no admin modes ------------------------------------------------
out=$(ip netns exec "$NS" setpriv --reuid="$ALICE" --regid="$(id -gn $ALICE)" --init-groups \
	"$D/vm-netd" --check /etc/shadow 2>&1)
detail=$out check "--check is for root only" contains "$out" "is for root"

# ---- --check warns of a rule for a user or group this host does not know ---------------
printf 'allow vmnetd-nosuchuser br0 1\nallow @vmnetd-nosuchgroup br0 1\n' >>"$D/netd.conf"
lines=$(wc -l <"$D/netd.conf")
out=$("$D/vm-netd" --check 2>&1)
rc=$?
detail=$out check "--check, a rule for an unknown user: warned, with its line" contains "$out" \
	"vm-netd: $D/netd.conf:$((lines - 1)): warning: user vmnetd-nosuchuser is unknown on this host, so the rule grants nothing"
detail=$out check "--check, a rule for an unknown group: warned, with its line" contains "$out" \
	"vm-netd: $D/netd.conf:$lines: warning: group vmnetd-nosuchgroup is unknown on this host, so the rule grants nothing"
detail=$out check "--check, unknown subjects: the policy is still valid (exit 0, OK)" \
	bash -c '[ "$1" = 0 ] && grep -q ": OK: " <<<"$2"' _ "$rc" "$out"
write_policy
out=$("$D/vm-netd" --check 2>&1)
detail=$out check "--check, every subject known: no warning" bash -c '! grep -q warning <<<"$1"' _ "$out"

# ---- attacks: the policy file ------------------------------------------------------------
policy_attack() {
	local name=$1
	attack "policy $name: everything denied" "denied: vm-netd's policy $D/netd.conf is unusable" 0 \
		as "$ALICE" tap br0 44
	local out
	out=$("$D/vm-netd" --check 2>&1)
	detail=$out check "policy $name: vm-netd --check reports it" matches "$out" "$D/netd\.conf"
	write_policy
	out=$("$D/vm-netd" --check 2>&1)
	detail=$out check "policy $name: restored, the policy checks OK again" contains "$out" "OK"
}
chmod g+w "$D/netd.conf"
policy_attack "group-writable"
mv "$D/netd.conf" "$D/netd.real"
ln -s "$D/netd.real" "$D/netd.conf"
policy_attack "a symlink"
rm -f "$D/netd.real"
chown "$ALICE" "$D/netd.conf"
policy_attack "not owned by root"
echo "frobnicate br0" >>"$D/netd.conf"
policy_attack "unparseable"
echo "include $D/missing.conf" >>"$D/netd.conf"
policy_attack "with a missing include"
install -o "$ALICE" -m 0644 /dev/null "$D/users.conf"
echo "include $D/users.conf" >>"$D/netd.conf"
policy_attack "with an include a user owns"
echo "include $D/netd.conf" >>"$D/netd.conf"
policy_attack "including itself"

# ---- attacks: what a tap's holder may do with its fd (finding 1, 4) ------------------------------
# The kernel lets whoever holds a tap's fd make it persistent, give it to
# any uid and set its MAC, without a capability. vm-netd counts taps by the
# alias it set (only CAP_NET_ADMIN changes that) and deletes persistent taps
# no process holds.
# abuser USER CLIENT-ARGS...: USER's client as coproc EVIL, asking for a tap
# and holding it after what the arguments make it do; line is its grant,
# abused what it did. Close ${EVIL[1]} and wait for $EVIL_PID to end it.
abuser() {
	coproc EVIL { as "$@" --hold; }
	bg_pids+=($EVIL_PID)
	read -r -t 30 line <&"${EVIL[0]}"
	read -r -t 30 abused <&"${EVIL[0]}"
	read -r -t 30 _ <&"${EVIL[0]}" # holding
}
tap_mac() { ip -n "$NS" -o link show "$1" 2>/dev/null | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }
info=""
for i in 1 2 3; do
	out=$(as "$BOBBY" tap br3 70 --persist-owner 4242)
	info+="$out; "
done
detail="$info $(links)" check "persist + re-own + close, 3 times (quota 1): never more than one tap" \
	[ "$(ip -n "$NS" -o link show master br3 | grep -c ' vm70t')" -le 1 ]
detail=$info check "persist + re-own + close: the holder's own request still works" \
	[ "$(grep -o 'granted vm70t' <<<"$info" | wc -l)" = 3 ]
out=$(as "$BOBBY" tap br3 71)
info=$(ip -n "$NS" link show vm70t0 2>&1)
detail=$info check "a persistent vm tap no process holds is deleted by the next request" \
	contains "$info" "does not exist"
abuser "$BOBBY" tap br3 72 --persist-owner 4242
detail="$line / $abused" check "holder made its tap persistent and gave it to uid 4242" \
	contains "$abused" "owner 4242: done"
out=$(as "$BOBBY" tap br3 73)
detail=$out check "re-owned tap still counts against its maker: quota denied" \
	contains "$out" "already has 1 taps on br3"
admin_list=$(ip netns exec "$NS" "$D/vm-netd" --list 2>&1)
detail=$admin_list check "vm-netd --list shows whom the tap was made for, not the owner its holder set" \
	matches "$admin_list" "vm72t0 +br3 +$BOBBY +up"
exec {EVIL[1]}>&-
wait "$EVIL_PID"
# A holder may also turn its tap's carrier off (TUNSETCARRIER) and make it
# persistent while it still holds it: vm-netd then takes it for one no
# process holds, and the next request deletes it. The holder loses its own
# tap, and gets no more than its quota.
abuser "$BOBBY" tap br3 60 --carrier-off
detail="$line / $abused" check "holder made its tap persistent and turned its carrier off" \
	contains "$abused" "carrier off: done"
out=$(as "$BOBBY" tap br3 61 -n 2)
info=$(ip -n "$NS" link show vm60t0 2>&1)
detail="$out / $info" check "a held tap with its carrier off counts as let go: the next request deletes it" \
	bash -c 'grep -q "^granted vm61t0" <<<"$1" && grep -q "does not exist" <<<"$2"' _ "$out" "$info"
detail=$out check "carrier off: the holder still gets no more than its quota (1)" \
	contains "$out" "already has 1 taps on br3"
exec {EVIL[1]}>&-
wait "$EVIL_PID"
abuser "$BOB" tap br0 74 --persist-owner "$(id -u "$ALICE")"
out=$(as "$ALICE" tap br0 75 -n 2)
detail="$abused / $out" check "a tap given to alice does not use up alice's quota: 2 of 2 granted" \
	[ "$(grep -c '^granted' <<<"$out")" = 2 ]
out=$(as "$ALICE" tap br0 74)
detail=$out check "a tap given to alice does not give alice its machine ID" \
	contains "$out" "machine ID 74 already has taps of another user"
exec {EVIL[1]}>&-
wait "$EVIL_PID"
out=$(as "$ALICE" tap br0 76 --hold --mac 00:00:00:00:00:01 </dev/null)
mac=$(tap_mac vm76t0)
detail=$out check "holder may set its tap's MAC (the kernel allows it; SECURITY.md says what remains)" \
	contains "$out" "abused: mac 00:00:00:00:00:01: done"
coproc HOLD { as "$ALICE" tap br0 77 --hold; }
bg_pids+=($HOLD_PID)
read -r -t 30 line <&"${HOLD[0]}"
read -r -t 30 holding <&"${HOLD[0]}"
mac=$(tap_mac vm77t0)
detail="$line: $mac" check "a new tap has a high MAC (FE:...) from vm-netd, before it is enslaved" \
	matches "$mac" "^fe:"
exec {HOLD[1]}>&-
wait "$HOLD_PID"
coproc HOLD { as "$ALICE" tap vmlab 78 -c --hold --mac 00:00:00:00:00:01; }
bg_pids+=($HOLD_PID)
read -r -t 30 line <&"${HOLD[0]}"
read -r -t 30 abused <&"${HOLD[0]}"
read -r -t 30 holding <&"${HOLD[0]}"
mac=$(tap_mac vmlab)
assign=$(ip netns exec "$NS" cat /sys/class/net/vmlab/addr_assign_type 2>&1)
detail="$line / $abused / bridge $mac, assign type $assign" \
	check "a bridge vm-netd creates has a fixed MAC: a port's low MAC is not adopted" \
	[ "${mac:0:6}" = "fe:ff:" ] && [ "$assign" = 3 ]
exec {HOLD[1]}>&-
wait "$HOLD_PID"
ip -n "$NS" link del vmlab

# ---- a half-made bridge is brought to its declared state (finding 5) -------------------
ip -n "$NS" link add vmlab type bridge # as a helper killed half-way leaves it: down, no address
out=$(as "$ALICE" tap vmlab 79)
info=$(ip -n "$NS" addr show vmlab 2>&1)
detail="$out $info" check "half-made 'create' bridge: a request brings it up with its address" \
	bash -c 'grep -q "granted vm79t0" <<<"$1" && grep -q "10\.77\.0\.1/24" <<<"$2" && grep -q "[<,]UP[,>]" <<<"$2"' _ "$out" "$info"
ip -n "$NS" link del vmlab
ip -n "$NS" link add vmlab type bridge
setup=$(ip netns exec "$NS" "$D/vm-netd" --setup 2>&1)
info=$(ip -n "$NS" addr show vmlab 2>&1)
detail="$setup $info" check "half-made 'create' bridge: --setup brings it up with its address" \
	bash -c 'grep -q "10\.77\.0\.1/24" <<<"$1" && grep -q "[<,]UP[,>]" <<<"$1"' _ "$info"
ip -n "$NS" link del vmlab

# ---- one user cannot stall another (finding 3, 6) -----------------------------------------
coproc STALL { as "$BOB" stall br0 80; }
bg_pids+=($STALL_PID)
read -r -t 30 line <&"${STALL[0]}"
start=$(date +%s%N)
out=$(timeout 10 bash -c "$(declare -f as); NS=$NS D=$D CLIENT=$CLIENT; as $ALICE tap br0 81")
ms=$((($(date +%s%N) - start) / 1000000))
detail="$line: $out (${ms} ms)" check "bob's helper with a reply bob never reads does not delay alice (< 1 s)" \
	bash -c '[ "$1" -lt 1000 ] && grep -q "granted vm81t0" <<<"$2"' _ "$ms" "$out"
exec {STALL[1]}>&-
wait "$STALL_PID"
flock "$D/lock" sleep 1 & # the lock the helper once took: now nobody's business
lock_pid=$!
out=$(as "$ALICE" stopcont br0 82)
detail=$out check "helper stopped and continued during its request (Ctrl-Z, fg): still answers" \
	contains "$out" "result: granted vm82t0"
wait "$lock_pid"
rm -f "$D/lock"
# The helper peeks at its request to open no tun for a query. A caller that
# keeps the helper's own socket end takes the query back out after that
# peek and sends a tap request in its place: one record per try, and the
# swapped request fails with its record, no tap, not killed by the sandbox.
# swapped_request WHAT ID RECORD [QUEUES]: a client swaps its request of
# machine ID after the helper's peek (netd-client swap), until it wins:
# the helper answers "failed, the request changed", writes one record per
# try (the last one failed, matching RECORD) and leaves no tap. WHAT names
# the checks.
swapped_request() {
	local what=$1 id=$2 record=$3 before before_links out tries
	before=$(audit_lines)
	before_links=$(links)
	out=$(as "$ALICE" swap br0 "$id" ${4:+"$4"})
	echo "# $what: $(grep swapped <<<"$out")"
	tries=$(sed -n 's/^swapped on try \([0-9]*\)$/\1/p' <<<"$out")
	detail=$out check "$what after the peek: failed, the request changed, answered, not killed" \
		bash -c '[ -n "$1" ] && grep -q "^exit: 1$" <<<"$2" &&
			grep -q "^result: failed - the request changed after vm-netd opened it$" <<<"$2"' _ "$tries" "$out"
	detail="$(tail -n 1 "$D/audit.log")" check "$what: one record per try, the last one failed" \
		bash -c '[ "$1" = "$2" ] && tail -n 1 "$3" | grep -q "$4"' _ \
		"$(($(audit_lines) - before))" "$tries" "$D/audit.log" "$record"
	detail="before: $before_links; after: $(links)" check "$what: no tap left" \
		[ "$before_links" = "$(links)" ]
}
swapped_request "a query swapped for a tap request" 91 "op=tap machine=91 .*result=failed"
# The same with a tap request of 1 queue swapped for one of 4: the helper
# opened no queue fds, and says the request changed, not that it cannot
# open /dev/net/tun.
swapped_request "a tap of 1 queue swapped for 4" 92 "op=tap machine=92 .*queues=4 .*result=failed" 4
# Fifty helpers at once: the quota holds exactly, without a lock.
mkfifo -m 0644 "$D/hold"
exec {holdfd}<>"$D/hold"
race_pids=()
for i in $(seq 1 50); do
	as "$ALICE" tap br0 83 --hold {holdfd}>&- <"$D/hold" >"$D/race50.$i" &
	race_pids+=($!)
done
for i in $(seq 1 50); do
	for t in $(seq 1 600); do
		grep -qE 'holding|^denied' "$D/race50.$i" && break
		sleep 0.05
	done
done
granted=$(cat "$D"/race50.* | grep -c '^granted')
on_br0=$(ip -n "$NS" -o link show master br0 | grep -c ' vm83t')
detail="$(sort "$D"/race50.* | uniq -c)" check "quota under 50 parallel requests: exactly 2 granted, 2 taps" \
	[ "$granted" = 2 ] && [ "$on_br0" = 2 ]
exec {holdfd}>&-
rm -f "$D/hold" "$D"/race50.*
wait "${race_pids[@]}"

# ---- no user's flood of requests costs another user a machine --------------------------
# A request that cannot be granted makes no tap, and a machine ID is the
# user's whose tap for it is the oldest: a user who floods vm-netd with
# requests for another user's machine (at the quota, or for a machine the
# other one has) makes none of that user's requests fail. Before, each
# flooding request made a tap for a moment, and 1 in 5 of the other user's
# requests was refused the machine as in use.
# flood USER ID: USER asks for machine ID on br0, in 6 loops at once (each
# a shell of USER's in the namespace, as fast as it can), until end_flood;
# the answers go to $D/flood.out.
flood_links=$(links)
flood_pids=()
flood() {
	rm -f "$D/flood.stop" "$D/flood.out"
	for _ in 1 2 3 4 5 6; do
		ip netns exec "$NS" setpriv --reuid="$1" --regid="$(id -gn "$1")" --init-groups \
			env -i PATH=/usr/bin:/bin VM_NETD="$D/vm-netd" bash -c \
			'until [ -e "$1" ]; do "$2" tap br0 "$3"; done' _ "$D/flood.stop" "$CLIENT" "$2" \
			>>"$D/flood.out" 2>&1 &
		flood_pids+=($!)
		bg_pids+=($!)
	done
}
end_flood() {
	touch "$D/flood.stop"
	wait "${flood_pids[@]}"
	flood_pids=()
	rm -f "$D/flood.stop"
}
# granted_times USER ID N TAP: of N requests of USER's for machine ID, how
# many were granted TAP.
granted_times() {
	local n=0
	for _ in $(seq "$3"); do
		contains "$(as "$1" tap br0 "$2")" "granted $4" && n=$((n + 1))
	done
	echo "$n"
}
# flooded HOLDER HOLD_ID ID TAP WHAT REFUSAL: while HOLDER holds a tap for
# machine HOLD_ID, bob floods machine ID; alice asks for it 30 times and is
# granted TAP each time, and each of bob's requests is refused, saying
# REFUSAL. WHAT names the checks.
flooded() {
	local holder=$1 hold_id=$2 id=$3 tap=$4 what=$5 refusal=$6 line ok
	coproc HOLD { as "$holder" tap br0 "$hold_id" --hold; }
	bg_pids+=($HOLD_PID)
	read -r -t 30 line <&"${HOLD[0]}"
	flood "$BOB" "$id"
	ok=$(granted_times "$ALICE" "$id" 30 "$tap")
	end_flood
	detail="held: $line; alice: $ok of 30; bob's flood: $(sort "$D/flood.out" | uniq -c)" \
		check "$what: alice is granted $tap 30 times of 30" [ "$ok" = 30 ]
	detail=$(sort "$D/flood.out" | uniq -c) check "$what: every one of bob's requests refused" \
		bash -c '[ -s "$1" ] && ! grep -qv "^denied: $2" "$1"' _ "$D/flood.out" "$refusal"
	exec {HOLD[1]}>&-
	wait "$HOLD_PID"
	rm -f "$D/flood.out"
}
# Bob's quota on br0 is 1; alice's is 2.
flooded "$BOB" 94 95 vm95t0 "bob at his quota floods machine 95" ""
flooded "$ALICE" 96 96 vm96t1 "bob floods machine 96, which alice has" \
	"machine ID 96 already has taps of another user"
# Alice and bob race for a free machine, 3 requests each at once, five
# times: the user of the oldest tap gets it, the other none.
race_machine() {
	local id=$1 pids=() u i t
	mkfifo -m 0644 "$D/hold"
	exec {holdfd}<>"$D/hold"
	for u in "$ALICE" "$BOB"; do
		for i in 1 2 3; do
			as "$u" tap br0 "$id" --hold {holdfd}>&- <"$D/hold" >"$D/race.$u.$i" &
			pids+=($!)
		done
	done
	for u in "$ALICE" "$BOB"; do
		for i in 1 2 3; do
			for t in $(seq 1 600); do
				grep -qE 'holding|^denied' "$D/race.$u.$i" && break
				sleep 0.05
			done
		done
	done
	echo "$(cat "$D/race.$ALICE".* | grep -c '^granted'):$(cat "$D/race.$BOB".* | grep -c '^granted')"
	exec {holdfd}>&-
	wait "${pids[@]}"
	rm -f "$D/hold" "$D"/race.*
}
rounds=""
for id in 45 46 47 48 49; do
	rounds+="$(race_machine "$id") "
done
detail="granted to alice:bob, by round: $rounds" \
	check "alice and bob race for a free machine: one of them gets it, never both" \
	bash -c 'for r in $1; do case $r in [12]:0 | 0:1) ;; *) exit 1 ;; esac; done' _ "$rounds"
detail="before: $flood_links; after: $(links)" check "the floods and the races: no tap left" \
	[ "$flood_links" = "$(links)" ]

# ---- the audit record is whole, or there is no grant (finding 2) --------------------------
before=$(audit_lines)
out=$(as "$ALICE" prlimit br0 84)
after=$(tail -n 1 "$D/audit.log")
detail=$out check "prlimit(RLIMIT_FSIZE=0) on the running helper: refused by the kernel" \
	contains "$out" "prlimit: Operation not permitted"
detail="$out / $after" check "prlimit attempt: granted with its whole record" \
	bash -c 'grep -q "result: granted vm84t0" <<<"$1" && [ "$2" = 1 ] && grep -q "tap=vm84t0 queues=1 result=granted .*\"$" <<<"$3"' _ \
	"$out" "$(($(audit_lines) - before))" "$after"
# A full file system: the record cannot be written whole, so nothing is
# granted, and the cut record does not swallow the next one.
mkdir -m 0755 "$D/full"
mount -t tmpfs -o size=8k,mode=0755 tmpfs "$D/full"
head -c 8100 /dev/zero | tr '\0' '#' | fold -w 99 >"$D/full/audit.log" 2>/dev/null
chmod 0640 "$D/full/audit.log"
sed -i "s|^log .*|log $D/full/audit.log|" "$D/netd.conf"
before_links=$(links)
out=$(as "$ALICE" tap br0 85)
detail="$out; $(tail -c 300 "$D/full/audit.log")" check "full disk: the grant is undone and answered as failed" \
	contains "$out" "could not be written whole"
detail="$before_links / $(links)" check "full disk: no tap left" [ "$before_links" = "$(links)" ]
bad=$(grep -vcE '^(#+|[0-9-]{10}T[0-9:]{8}Z uid=.*reason="[^"]*")$' "$D/full/audit.log")
detail=$(tail -c 300 "$D/full/audit.log") check "full disk: the log holds no cut record (a cut one is blanked)" [ "$bad" = 0 ]
umount "$D/full"
rmdir "$D/full"
write_policy

# ---- a bridge a failed grant made stays while another user's tap is on it ---------------
# Bob's request makes vmlab and enslaves his tap; before his record is
# written (bob stops his own helper there), alice's tap joins vmlab; then
# the disk is full, bob's record fails and his grant is undone. His tap
# goes, and the bridge he made used to go with it, taking alice's machine
# off the network: now it stays, since alice's tap is on it.
mkdir -m 0755 "$D/full"
mount -t tmpfs -o size=64k,mode=0755 tmpfs "$D/full"
sed -i -e "s|^log .*|log $D/full/audit.log|" -e "s/^allow $ALICE vmlab 1\$/&\nallow $BOB vmlab 1/" "$D/netd.conf"
held=""
for try in $(seq 1 100); do
	ip -n "$NS" link del vmlab 2>/dev/null
	records=$(cat "$D/full/audit.log" 2>/dev/null | wc -l)
	coproc HOLD { as "$BOB" hold-enslaved vmlab 97; }
	bg_pids+=($HOLD_PID)
	read -r -t 30 line <&"${HOLD[0]}"
	# Held, and the record not written yet: the window this test needs.
	[ "$line" = "held after enslave" ] && [ "$(cat "$D/full/audit.log" 2>/dev/null | wc -l)" = "$records" ] &&
		held="on try $try" && break
	exec {HOLD[1]}>&-
	wait "$HOLD_PID"
done
if [ -n "$held" ]; then
	mkfifo -m 0644 "$D/alice.hold"
	exec {alice_hold}<>"$D/alice.hold"
	as "$ALICE" tap vmlab 98 --hold {alice_hold}>&- <"$D/alice.hold" >"$D/alice.out" &
	alice_pid=$!
	bg_pids+=($alice_pid)
	for t in $(seq 1 600); do
		grep -qE 'holding|^denied' "$D/alice.out" && break
		sleep 0.05
	done
	alice_line=$(head -n 1 "$D/alice.out")
	# The disk is full, and so is the log's last page (a line of #, as
	# vm-netd blanks a cut record): bob's record cannot be written.
	pad=$((4096 - $(stat -c %s "$D/full/audit.log") % 4096))
	{ head -c $((pad - 1)) /dev/zero | tr '\0' '#'; echo; } >>"$D/full/audit.log"
	cat /dev/zero >"$D/full/filler" 2>/dev/null
	exec {HOLD[1]}>&-
	bob_out=$(cat <&"${HOLD[0]}")
	wait "$HOLD_PID"
	detail="held $held; bob: $bob_out" check "bob's grant that made vmlab fails with its record: undone" \
		contains "$bob_out" "could not be written whole"
	info=$(ip -n "$NS" -d link show vm98t0 2>&1; ip -n "$NS" addr show vmlab 2>&1)
	detail="alice: $alice_line; $info" check "the bridge bob's failed grant made stays, with alice's tap on it" \
		bash -c 'grep -q "^granted vm98t0" <<<"$1" && grep -q "master vmlab" <<<"$2" &&
			grep -q "10\.77\.0\.1/24" <<<"$2"' _ "$alice_line" "$info"
	detail=$(links) check "bob's tap is gone" lacks "$(links)" vm97t0
	exec {alice_hold}>&-
	wait "$alice_pid"
	rm -f "$D/alice.hold" "$D/alice.out"
else
	check "bob's helper held after its tap was enslaved, before its record, in 100 tries" false
fi
ip -n "$NS" link del vmlab 2>/dev/null
umount "$D/full"
rmdir "$D/full"
write_policy

# ---- files the helper makes are root's (finding 7) ------------------------------------
mv "$D/audit.log" "$D/audit.log.keep"
out=$(as "$ALICE" tap br0 86)
detail="$out $(ls -l "$D/audit.log")" check "an audit log vm-netd creates is root:root, 0640" \
	[ "$(stat -c %U:%G:%a "$D/audit.log")" = root:root:640 ]
cat "$D/audit.log" >>"$D/audit.log.keep"
mv "$D/audit.log.keep" "$D/audit.log"
rm -f "$D/audit.fifo"
mkfifo -m 0640 "$D/audit.fifo"
sed -i "s|^log .*|log $D/audit.fifo|" "$D/netd.conf"
out=$(timeout 10 bash -c "$(declare -f as); NS=$NS D=$D CLIENT=$CLIENT; as $ALICE tap br0 87")
detail=$out check "a FIFO as the audit log: refused at once, not hung" contains "$out" "audit log"
rm -f "$D/audit.fifo"
write_policy

# ---- where the policy and the log live (finding 8, 10) -----------------------------------
mkdir -m 0700 "$D/netd.d"
echo "include $D/netd.d/*.conf" >>"$D/netd.conf"
out=$(as "$ALICE" tap br0 88)
detail=$out check "an empty drop-in directory only root can read: checked as root, the policy works" \
	contains "$out" "granted vm88t0"
rmdir "$D/netd.d"
write_policy
chmod o+w "$D"
out=$(as "$ALICE" tap br0 89)
chmod o-w "$D"
detail=$out check "the policy's directory writable by others: everything denied" \
	contains "$out" "is unusable"
mkdir -m 0777 "$D/open"
sed -i "s|^log .*|log $D/open/audit.log|" "$D/netd.conf"
out=$(as "$ALICE" tap br0 89)
detail=$out check "the log's directory writable by others: refused" contains "$out" "writable by others"
rmdir "$D/open"
write_policy
many=$(seq -s, 60001 60070),$(getent group "$LAB" | cut -d: -f3)
out=$(ip netns exec "$NS" setpriv --reuid="$DAVE" --regid="$(id -gn "$DAVE")" --groups="$many" \
	env -i VM_NETD="$D/vm-netd" "$CLIENT" tap br0 90 2>&1)
detail=$out check "a caller in 71 groups: the 71st still counts (@$LAB grants)" contains "$out" "granted vm90t0"
if unshare --user --map-root-user true 2>/dev/null; then
	out=$(ip netns exec "$NS" setpriv --reuid="$ALICE" --regid="$(id -gn $ALICE)" --init-groups \
		unshare --user --map-root-user env -i VM_NETD="$D/vm-netd" "$CLIENT" raw valid 2>&1)
	detail=$out check "started in a user namespace: refused, saying so" contains "$out" "initial user namespace"
else
	echo "ok - started in a user namespace: refused # SKIP no user namespaces here"
fi

# ---- every audit record has every field ---------------------------------------------------
bad=$(grep -vcE '^[0-9-]{10}T[0-9:]{8}Z uid=[0-9]+ user=[^ ]+ op=(tap|query|-) machine=([0-9]{2}|-) bridge=[^ ]+ tap=[^ ]+ queues=([0-9]+|-) result=[a-z-]+ rule=[^ ]+ reason="[^"]*"$' "$D/audit.log")
detail=$(head -n 3 "$D/audit.log") check "audit file: every record is one well-formed line" [ "$bad" = 0 ]
bad=$(grep 'vm-netd\[' "$D/syslog.out" | grep -vcE '^<(84|86)>vm-netd\[[0-9]+\]: [0-9-]{10}T[0-9:]{8}Z uid=')
check "syslog: every record is authpriv and well-formed" [ "$bad" = 0 ]

finish
