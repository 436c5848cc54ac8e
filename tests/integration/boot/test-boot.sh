#!/bin/bash
# vm boot, as root, against an unprivileged owner: the list's refusals, the
# owner's identity in the processes it starts, the parallel start, the
# time-out, broken entries next to good ones, the exit status, refusal when
# not root. Machines here fail fast or block on a FIFO .vmrc (so the test
# holds them at a known step without any sleep); the real guest is in
# test-boot-guest.sh.
set -u

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: vm boot runs as root and starts machines as other users; run as root"
	exit 77
fi
: "${VM_TEST_BIN:?set VM_TEST_BIN to the built vm}" "${VM_LIB:?set VM_LIB to vm/data/lib}"

# shellcheck source=../check.sh
. "$(dirname "${BASH_SOURCE[0]}")/../check.sh"

owner=vmboot-alice other=vmboot-bob group=vmboot-grp
root=$(mktemp -d /tmp/vm-boot-test.XXXXXX)
chmod 755 "$root"
cleanup() {
	local p
	for p in $(pgrep -u "$owner"); do kill -KILL "$p"; done 2>/dev/null # the test user's leftovers
	userdel "$owner" 2>/dev/null
	userdel "$other" 2>/dev/null
	groupdel "$group" 2>/dev/null
	rm -rf "$root"
}
trap cleanup EXIT
cleanup_users_only() { userdel "$owner" 2>/dev/null; userdel "$other" 2>/dev/null; groupdel "$group" 2>/dev/null; }
cleanup_users_only
groupadd "$group"
useradd -M -d "$root/home-alice" -s /usr/sbin/nologin -G "$group" "$owner"
useradd -M -d /nonexistent -s /usr/sbin/nologin "$other"
mkdir -m 700 "$root/home-alice" && chown "$owner:" "$root/home-alice"

# A copy of vm and its library any user can run (the build tree may not be
# reachable by others).
mkdir -p "$root/bin" "$root/lib" "$root/state"
cp "$VM_TEST_BIN" "$root/bin/vm" && cp -r "$VM_LIB"/. "$root/lib/"
chmod -R a+rX "$root/bin" "$root/lib"
vm=$root/bin/vm
export VM_LIB=$root/lib VM_BOOT_STATE=$root/state

machine() { # DIR OWNER [VMRC-OWNER]: a machine directory with a valid .vmrc
	mkdir -p "$1"
	printf 'VM_MACHINE_NAME=%s\nVM_MACHINE_ID=4%s\nVM_MACHINE_OWNER=%s\n' \
		"$(basename "$1")" "$((RANDOM % 10))" "${3:-$2}" >"$1/.vmrc"
	chown -R "$2:" "$1"
	chmod 700 "$1"
}
fifo_machine() { # DIR OWNER: its .vmrc is a FIFO: reading it blocks until the test writes
	mkdir -p "$1" && mkfifo -m 600 "$1/.vmrc" && chown -R "$2:" "$1" && chmod 700 "$1"
}
list() { # the machine list, root-owned 0644
	cat >"$root/machines"
	chmod 644 "$root/machines"
}
run_boot() { # ARGS...: sets out, rc
	out=$("$vm" boot -f "$root/machines" "$@" 2>&1)
	rc=$?
}

# --- refusal when not root -------------------------------------------------
list <<<"$root/m1 $owner poweroff 30"
machine "$root/m1" "$owner"
out=$(setpriv --reuid "$owner" --regid "$owner" --init-groups "$vm" boot -f "$root/machines" start 2>&1)
rc=$?
check "not root: exit 1" test "$rc" = 1
check "not root: says root is needed" contains "$out" "must be run as root"

# --- the list file itself -------------------------------------------------
chmod 664 "$root/machines"
run_boot start
check "group-writable list: refused" test "$rc" = 1
check "group-writable list: says why" contains "$out" "writable by root only"
run_boot -f "$root/no-such-list" start
check "missing list: exit 1 and names it" \
	bash -c '[ "$1" = 1 ] && grep -qF "$2" <<<"$3"' _ "$rc" "$root/no-such-list" "$out"
: >"$root/empty" && chmod 644 "$root/empty"
out=$("$vm" boot -f "$root/empty" start 2>&1)
check "empty list: nothing to do, exit 0" test $? = 0
run_boot frobnicate
check "unknown action: exit 1, names the actions" \
	bash -c '[ "$1" = 1 ] && grep -qF "start, stop or status" <<<"$2"' _ "$rc" "$out"

# --- broken entries are reported; the good machine still goes on ----------
machine "$root/good" "$owner"
printf 'VM_LOG=%s/log\nVM_ERRLOG=%s/errlog\n' "$root/good" "$root/good" >>"$root/good/.vmrc"
install -o "$owner" -m 600 /dev/null "$root/good/log"
install -o "$owner" -m 600 /dev/null "$root/good/errlog"
machine "$root/badrc" "$owner"
printf 'VM_MACHINE_NAME=$(id)\n' >>"$root/badrc/.vmrc"
machine "$root/notmine" "$owner" "$other"
mkdir -m 700 "$root/rootonly" && cp "$root/good/.vmrc" "$root/rootonly/"
list <<EOF2
# a comment
$root/good $owner save:boot 60
$root/missing $owner poweroff 60
$root/unknown-owner vmboot-nosuchuser poweroff 60
$root/badrc $owner poweroff 60
$root/syntax $owner freeze
$root/notmine $owner poweroff 60
$root/rootonly $owner poweroff 60
EOF2
run_boot start
echo "$out" | sed 's/^/    | /'
check "broken entries: exit 1" test "$rc" = 1
check "bad line: FILE:LINE and reason" contains "$out" "$root/machines:6: 'freeze' is not a shutdown action"
check "missing directory: reported with the reason" \
	contains "$out" "$root/missing ($owner): configuration: vm: sh: cannot change into VM_HOME $root/missing: No such file"
check "unknown owner: reported" contains "$out" "$root/unknown-owner (vmboot-nosuchuser): unknown owner"
check "bad .vmrc: reported with FILE:LINE" contains "$out" "$root/badrc ($owner): configuration: vm: sh: .vmrc:4:"
check "owner mismatch: reported" contains "$out" "VM_MACHINE_OWNER=$other but the machine list (line 7) says $owner"
check "run as the owner, never as root: a root-only directory is out of reach" \
	contains "$out" "$root/rootonly ($owner): configuration: vm: sh: cannot change into VM_HOME $root/rootonly: Permission denied"
# The good machine got past its configuration to `vm start` itself.
if "$vm" start --help >/dev/null 2>&1 && ! "$vm" start 2>&1 | grep -q "not implemented yet"; then
	check "good machine: reached vm start" contains "$out" "$root/good ($owner): "
else
	check "good machine: reached vm start (not implemented yet here)" \
		contains "$out" "$root/good ($owner): vm start failed (exit 1): vm: start: not implemented yet"
fi
check "good machine: the outcome is in its VM_ERRLOG" \
	grep -qE "^\[[^]]* boot\] vm start failed \(exit 1\)" "$root/good/errlog"
check "summary counts every machine that failed" contains "$out" "start failed for 6 of 6 machines"

# --- only listed directories may be named ----------------------------------
run_boot status "$root/elsewhere"
check "unlisted directory: refused, says how to list it" \
	bash -c '[ "$1" = 1 ] && grep -qF "is not listed in" <<<"$2"' _ "$rc" "$out"

# --- the owner's identity and environment, read from the live process ------
# A FIFO .vmrc holds the owner's vm in open() until the test opens the other
# end (vm then refuses it: not a regular file), so the process can be looked
# at for as long as needed.
owner_pid() { # DIR: the owner's process working on machine DIR, if any
	local p
	for p in $(pgrep -u "$owner"); do
		if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qxF "VM_HOME=$1"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}
wait_for_owner_pids() { # DIR...: waits (up to 90 s) until each has a live process at once
	local deadline=$((SECONDS + 90)) d missing
	while [ "$SECONDS" -lt "$deadline" ]; do
		missing=0
		for d in "$@"; do owner_pid "$d" >/dev/null || missing=1; done
		[ "$missing" = 0 ] && return 0
		sleep 0.1 # nothing to wait on: a process appearing sends no event
	done
	return 1
}
inspect_identity() { # PID
	local pid=$1 uid gid gids groups env want
	uid=$(id -u "$owner") gid=$(id -g "$owner")
	gids=$(id -G "$owner" | tr ' ' '\n' | sort -n | tr '\n' ' ')
	grep -q "^Uid:	$uid	$uid	$uid	$uid$" "/proc/$pid/status" || { grep Uid "/proc/$pid/status"; return 1; }
	grep -q "^Gid:	$gid	$gid	$gid	$gid$" "/proc/$pid/status" || { grep Gid "/proc/$pid/status"; return 1; }
	groups=$(sed -n 's/^Groups:\t//p' "/proc/$pid/status" | tr ' ' '\n' | grep . | sort -n | tr '\n' ' ')
	[ "$groups" = "$gids" ] || { echo "groups '$groups', expected '$gids'"; return 1; }
	grep -q '^CapEff:	0000000000000000$' "/proc/$pid/status" || { grep CapEff "/proc/$pid/status"; return 1; }
	env=$(tr '\0' '\n' <"/proc/$pid/environ")
	for want in "HOME=$root/home-alice" "USER=$owner" "LOGNAME=$owner" "VM_HOME=$root/held"; do
		grep -qxF "$want" <<<"$env" || { echo "missing $want"; return 1; }
	done
}
fifo_machine "$root/held" "$owner"
list <<<"$root/held $owner poweroff 120"
"$vm" boot -f "$root/machines" start >"$root/held.out" 2>&1 &
boot_pid=$!
check "owner's process appears" wait_for_owner_pids "$root/held"
pid=$(owner_pid "$root/held")
check "owner's process: uid, gid, groups, no capabilities, HOME/USER/LOGNAME/VM_HOME" \
	inspect_identity "$pid"
timeout 90 bash -c 'exec 3>"$1"' _ "$root/held/.vmrc"
wait "$boot_pid"
check "held machine: reported once released" \
	grep -qF "$root/held ($owner): configuration: vm: sh: .vmrc: not a regular file" "$root/held.out"

# --- in parallel: both machines are being handled at once ------------------
rm -rf "$root/held"
fifo_machine "$root/p1" "$owner"
fifo_machine "$root/p2" "$owner"
list <<EOF2
$root/p1 $owner poweroff 120
$root/p2 $owner poweroff 120
EOF2
"$vm" boot -f "$root/machines" start >"$root/par.out" 2>&1 &
boot_pid=$!
# Each machine's vm stays blocked until the test releases it: one after the
# other, p2's would not appear before p1's was released.
check "parallel: both machines are being handled at once" \
	wait_for_owner_pids "$root/p1" "$root/p2"
timeout 90 bash -c 'exec 3>"$1" 4>"$2"' _ "$root/p1/.vmrc" "$root/p2/.vmrc"
wait "$boot_pid"
check "parallel: both reported" \
	bash -c '[ "$(grep -c "not a regular file" "$1")" = 2 ]' _ "$root/par.out"

# --- a machine over its time-out is reported; the others are not held -----
rm -rf "$root/p1" "$root/p2"
fifo_machine "$root/slow" "$owner"
machine "$root/fast" "$owner"
list <<EOF2
$root/slow $owner poweroff 3
$root/fast $owner poweroff 60
EOF2
run_boot start
check "time-out: exit 1" test "$rc" = 1
check "time-out: reported with the time" contains "$out" "$root/slow ($owner): reading its configuration did not finish within 3 s"
check "time-out: the other machine was handled" contains "$out" "$root/fast ($owner): "
check "time-out: no process of the slow machine is left" \
	bash -c '! grep -lx "VM_HOME=$1" /proc/[0-9]*/environ 2>/dev/null | grep -q .' _ "$root/slow"

# --- syslog: every outcome reaches the system log too ------------------------
# This host may have no syslog daemon: in a private mount namespace, /dev is
# a fresh tmpfs with the few devices vm needs, and /dev/log is a socket this
# test reads.
list <<EOF2
$root/good $owner save:boot 60
$root/missing $owner poweroff 60
EOF2
syslog_records=$root/syslog-records
unshare --mount bash -s "$root" "$vm" "$syslog_records" <<'EOF2'
set -eu
root=$1 vm=$2 records=$3
mount --make-rprivate /
mkdir -p "$root/olddev"
mount --bind /dev "$root/olddev"
mount -t tmpfs -o mode=755 vmtestdev /dev
for dev in null zero full random urandom tty; do
	touch "/dev/$dev"
	mount --bind "$root/olddev/$dev" "/dev/$dev"
done
ln -s /proc/self/fd /dev/fd
python3 - /dev/log "$records" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(5)
with open(sys.argv[2], "wb") as out:
    try:
        while True:
            out.write(s.recv(65536) + b"\n")
            out.flush()
    except socket.timeout:
        pass
PY
listener=$!
while [ ! -S /dev/log ]; do sleep 0.05; done
chmod 666 /dev/log
"$vm" boot -f "$root/machines" start >/dev/null 2>&1 || true
wait "$listener"
EOF2
records=$(cat "$syslog_records" 2>/dev/null)
check "syslog: a broken machine's reason is logged as vm-boot" \
	contains "$records" "vm-boot[" 
check "syslog: ... naming the machine and why" \
	contains "$records" "$root/missing ($owner): configuration: vm: sh: cannot change into VM_HOME $root/missing"
check "syslog: the good machine's outcome is logged too" contains "$records" "$root/good ($owner): "

# --- vm-netd --setup runs before the machines start -------------------------
cat >"$root/fake-netd" <<EOF2
#!/bin/sh
echo "\$*" >>"$root/netd.calls"
EOF2
chmod 755 "$root/fake-netd"
list <<<"$root/fast $owner poweroff 60"
VM_NETD=$root/fake-netd run_boot start
check "start runs vm-netd --setup first" grep -qx -- "--setup" "$root/netd.calls"
rm -f "$root/netd.calls"
VM_NETD=$root/fake-netd run_boot stop
check "stop does not run vm-netd --setup" test ! -e "$root/netd.calls"

finish
