#!/bin/bash
# Boot-time start of the real test guest through the installed LSB init
# script, as root, for an unprivileged owner:
#   start  brings the guest up, and its emulator belongs to the owner;
#   status reports it;
#   stop   suspends it and saves its state under the configured name;
#   start  again restores that state: the same boot_id;
# and the same through vm boot directly, whether or not the owner is logged
# in (/run/user/UID made and removed as logind does), and for a listed
# machine the owner started by hand in a login session: boot start leaves
# it alone, boot stop saves it.
# Needs root, a vm whose start/stop exist (the lifecycle change), and the
# test guest built by tests/guest/build-guest.sh in VM_TEST_GUEST_DIR (its
# guest.env describes it). The machine is listed with 'nat', so no bridge or
# vm-netd is involved.
# Usage: test-boot-guest.sh SOURCE-DIR (VM_TEST_BIN set)
set -u
src=$1
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "vm boot runs as root and starts machines as their owners; run as root"
: "${VM_TEST_BIN:?}"
if "$VM_TEST_BIN" start 2>&1 | grep -q "not implemented yet"; then
	skip "vm start is not implemented yet (the lifecycle change)"
fi
guest_env=${VM_TEST_GUEST_DIR:-/var/cache/vm/test-guest}/guest.env
[ -f "$guest_env" ] ||
	skip "no test guest at $guest_env: build it with tests/guest/build-guest.sh (tests/setup-debian.sh does)"
# shellcheck source=/dev/null
. "$guest_env"

# shellcheck source=../check.sh
. "$(dirname "${BASH_SOURCE[0]}")/../check.sh"

owner=vmboot-guest
tmp=$(mktemp -d /tmp/vm-boot-guest.XXXXXX)
chmod 755 "$tmp"
init=$tmp/inst/etc/init.d/vm
cleanup() {
	[ -x "$init" ] && "$init" stop >/dev/null 2>&1
	[ -n "${uid:-}" ] && rm -rf "/run/user/$uid"
	local p
	for p in $(pgrep -u "$owner" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	userdel "$owner" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
userdel "$owner" 2>/dev/null
useradd -M -d "$tmp/home" -s /usr/sbin/nologin "$owner" || exit 1
mkdir -m 700 "$tmp/home" && chown "$owner:" "$tmp/home"
uid=$(id -u "$owner")
# What logind does at the owner's first login and last logout.
login() { mkdir -p /run/user && mkdir -m 700 "/run/user/$uid" && chown "$owner:" "/run/user/$uid"; }
logout() { rm -rf "/run/user/$uid"; }

# The real thing: vm installed into a prefix, so that the init script, the
# global vmrc and the state directory are the installed ones.
echo "# installing vm into $tmp/inst"
meson setup "$tmp/build" "$src" --prefix="$tmp/inst" -Droot_tests=disabled >"$tmp/setup.log" 2>&1 &&
	ninja -C "$tmp/build" >"$tmp/build.log" 2>&1 &&
	meson install -C "$tmp/build" --no-rebuild >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp"/*.log; echo "FAIL - install into a prefix"; exit 1; }
chmod -R a+rX "$tmp/inst"
# The units as installed (their ExecStart exists), the template as an
# instance for a real directory.
units=$(dirname "$(find "$tmp/inst" -name vm.service | head -1)")
detail=$(SYSTEMD_UNIT_PATH=$units: systemd-analyze verify --man=no vm.service \
	"vm@$(systemd-escape --path "$tmp").service" 2>&1)
check "systemd-analyze verify: vm.service and vm@.service" test $? = 0 -a -z "$detail"
detail=
vm=$tmp/inst/bin/vm
unset VM_LIB # the installed global vmrc, as at boot

# The owner's machine: the guest's seed, kernel and keys in its directory,
# booted directly with the guest's kernel: a base image copied from the seed
# and a backing file on it, as vm init makes them.
machine=$tmp/machines/bootguest
mkdir -p "$machine"
cp "$GUEST_SEED" "$machine/bootguest-base.qcow2"
qemu-img create -q -f qcow2 -b bootguest-base.qcow2 -F qcow2 "$machine/bootguest-backing.qcow2"
cp "$GUEST_KERNEL" "$GUEST_INITRD" "$GUEST_KEY" "$GUEST_KNOWN_HOSTS" "$machine/"
chmod 600 "$machine/$(basename "$GUEST_KEY")"
chmod 644 "$machine"/bootguest-*.qcow2
cat >"$machine/.vmrc" <<EOF2
VM_MACHINE_NAME=bootguest
VM_MACHINE_ID=58
VM_MACHINE_OWNER=$owner
VM_MACHINE_USER=$GUEST_USER
VM_MACHINE_MEM=256
VM_DISK_IF=virtio
VM_NET_MODEL=virtio-net-pci
VM_QEMU_DISPLAY=none
VM_QEMU_EXTRA="-kernel \$VM_HOME/$(basename "$GUEST_KERNEL") -initrd \$VM_HOME/$(basename "$GUEST_INITRD") -append '$GUEST_APPEND' -device virtio-rng-pci"
VM_SSH_OPTS="-i \$VM_HOME/$(basename "$GUEST_KEY") -o UserKnownHostsFile=\$VM_HOME/$(basename "$GUEST_KNOWN_HOSTS")"
EOF2
chown -R "$owner:" "$machine"
printf '%s %s save:boot 600 nat\n' "$machine" "$owner" >"$tmp/machines.list"
chmod 644 "$tmp/machines.list"
export VM_BOOT_LIST=$tmp/machines.list

as_owner() { # the owner's own vm, with the environment vm boot gives it
	setpriv --reuid "$owner" --regid "$owner" --init-groups env -i HOME="$tmp/home" \
		USER="$owner" LOGNAME="$owner" PATH=/usr/local/bin:/usr/bin:/bin \
		VM_HOME="$machine" VM_HOME_OVERRIDES_CWD=yes "$vm" "$@"
}
boot_id() { as_owner ssh cat /proc/sys/kernel/random/boot_id 2>/dev/null; }
emulator_users() { # the users that run an emulator for this machine
	local p
	for p in $(pgrep -f "qemu-system"); do
		if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qxF "VM_HOME=$machine" ||
			[ "$(readlink "/proc/$p/cwd")" = "$machine" ]; then
			ps -o user= -p "$p"
		fi
	done | sort -u
}

out=$("$init" start 2>&1)
rc=$?
echo "$out" | sed 's/^/    | /'
check "init start: exit 0" test "$rc" = 0
check "init start: the emulator runs as the owner, not as root" test "$(emulator_users)" = "$owner"
id1=$(boot_id)
check "the guest answers ssh" test -n "$id1"
login # the owner logs in while the machine runs

out=$("$init" status 2>&1)
rc=$?
check "init status: exit 0 and names the machine" \
	bash -c '[ "$1" = 0 ] && grep -qF "$2" <<<"$3"' _ "$rc" "$machine" "$out"

out=$("$init" stop 2>&1)
rc=$?
echo "$out" | sed 's/^/    | /'
check "init stop: exit 0" test "$rc" = 0
check "init stop: the emulator is gone" test -z "$(emulator_users)"
saved_as_boot() { # some image of the machine holds a state named boot
	local f
	for f in "$machine"/*; do
		[ -f "$f" ] && qemu-img snapshot -U -l "$f" 2>/dev/null | awk '{print $2}' | grep -qx boot && return 0
	done
	return 1
}
check "init stop: the state is saved as 'boot'" saved_as_boot
"$init" status >/dev/null 2>&1
check "init status after stop: exit 3 (not running)" test $? = 3

out=$("$init" start 2>&1)
rc=$?
echo "$out" | sed 's/^/    | /'
check "init start again: exit 0, state restored" \
	bash -c '[ "$1" = 0 ] && grep -qF "restored" <<<"$2"' _ "$rc" "$out"
id2=$(boot_id)
check "the same boot: boot_id $id1 again" test -n "$id2" -a "$id2" = "$id1"

# saved: the emulator is gone and the image holds a state named boot.
saved() { [ -z "$(emulator_users)" ] && saved_as_boot; }
# boot ACTION: vm boot directly, as the unit does; out and rc.
boot() { out=$("$vm" boot "$@" 2>&1) && rc=0 || rc=$?; echo "$out" | sed 's/^/    | /'; }
said() { [ "$rc" = 0 ] && grep -qF "$1" <<<"$out"; }

echo "# vm boot directly, the owner logged in, then not"
boot stop
check "boot stop, the owner logged in: saved" said "state saved as 'boot'"
check "boot stop: the emulator is gone, the state saved" saved
logout
boot start
check "boot start, nobody logged in: restored" said "restored"
check "the same boot: boot_id $id1" test "$(boot_id)" = "$id1"
login
boot status
check "boot status, the owner logged in: running" said "running"
boot stop
check "boot stop: saved" said "state saved as 'boot'"
check "the emulator is gone, the state saved" saved
boot start
check "boot start: restored" said "restored"
check "the same boot: boot_id $id1" test "$(boot_id)" = "$id1"

echo "# a listed machine the owner started by hand in a login session"
boot stop
hand() {
	setpriv --reuid "$owner" --regid "$owner" --init-groups env -i HOME="$tmp/home" \
		USER="$owner" LOGNAME="$owner" PATH=/usr/local/bin:/usr/bin:/bin \
		XDG_RUNTIME_DIR="/run/user/$uid" VM_HOME="$machine" VM_HOME_OVERRIDES_CWD=yes \
		"$vm" "$@"
}
hand start --nat -l boot >/dev/null 2>&1
check "started by hand: the same boot" test "$(boot_id)" = "$id1"
pid=$(pgrep -u "$owner" -f "^qemu-system")
boot start
check "boot start reports it running and leaves it alone" \
	bash -c '[ "$1" = 0 ] && grep -qF "already running" <<<"$2" && [ "$(pgrep -u "$3" -f "^qemu-system")" = "$4" ]' \
	_ "$rc" "$out" "$owner" "$pid"
boot status
check "boot status: running" said "running"
logout
boot stop
check "boot stop saves it, its owner logged out" said "state saved as 'boot'"
check "the emulator is gone, the state saved" saved
boot status
check "boot status: not running" bash -c '[ "$1" != 0 ] && grep -qF "not running" <<<"$2"' _ "$rc" "$out"
boot start
check "boot start restores it" said "restored"
check "the same boot: boot_id $id1" test "$(boot_id)" = "$id1"

"$init" stop >/dev/null 2>&1
finish
