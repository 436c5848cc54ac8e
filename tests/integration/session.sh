#!/bin/bash
# A machine outlives the session that started it, and every context of its
# owner finds the same one: a real unprivileged user and the real test
# guest.
#   - logind's part done by hand: /run/user/UID made (login), vm start in it,
#     /run/user/UID removed (logout) and made again empty (login): status,
#     cmd and stop -s still reach the machine; start -l brings back the
#     same boot;
#   - cron (no XDG_RUNTIME_DIR), su and su -m (root's environment): status
#     and stop work;
#   - two starts at once from two contexts: one emulator, and the other
#     start names its pid;
#   - a machine an earlier vm started (handle in /run/user/UID/vm/ID) is
#     found and stopped.
# The owner's home is long, so that the sockets' paths are over the 108
# bytes of a unix socket address.
TEST_NAME=session
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to create a user and its /run/user/UID"; exit 77; }
. "$(dirname "$0")/guest.sh"

U=vmsession
home=$work/home-of-a-user-whose-path-is-long-enough-to-pass-the-unix-socket-limit
machine=$home/sm
ID=$(free_id $((50 + RANDOM % 40)))
chmod 755 "$work"
session_cleanup() {
	local p
	for p in $(pgrep -u "$U" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	[ -n "${uid:-}" ] && rm -rf "/run/user/$uid"
	userdel "$U" 2>/dev/null
	guest_cleanup
}
trap session_cleanup EXIT
userdel "$U" 2>/dev/null
useradd -M -d "$home" -s /bin/sh "$U" || exit 1
uid=$(id -u "$U")
mkdir -m 755 "$home" && mkdir "$machine"
cp "$GUEST_SEED" "$machine/sm-seed.qcow2"
cp "$GUEST_KERNEL" "$GUEST_INITRD" "$GUEST_KEY" "$work/known_hosts" "$machine/"
cat >"$machine/.vmrc" <<VMRC
VM_MACHINE_NAME=sm
VM_MACHINE_ID=$ID
VM_MACHINE_OWNER=$U
VM_MACHINE_USER=$GUEST_USER
VM_MACHINE_MEM=256
VM_QEMU_ACCEL=${VM_TEST_ACCEL:-tcg}
VM_DISK_IF=virtio
VM_NET_MODEL=virtio-net-pci
VM_QEMU_EXTRA="-kernel $(basename "$GUEST_KERNEL") -initrd $(basename "$GUEST_INITRD") -append '$GUEST_APPEND' -device virtio-rng-pci -serial file:console.log"
VM_SSH_OPTS="-i $(basename "$GUEST_KEY") -o UserKnownHostsFile=known_hosts"
VMRC
chown -R "$U:" "$home"
chmod 600 "$machine/$(basename "$GUEST_KEY")" "$machine/sm-seed.qcow2"
place=$home/.local/state/vm/$(uname -n)/$ID

# The owner's contexts. Each runs vm in the machine directory with the
# environment that context has.
base_env=(HOME="$home" USER="$U" LOGNAME="$U" SHELL=/bin/sh PATH=/usr/local/bin:/usr/bin:/bin
	VM_LIB="$VM_LIB")
as_session() {
	(cd "$machine" && exec setpriv --reuid "$U" --regid "$U" --init-groups \
		env -i "${base_env[@]}" XDG_RUNTIME_DIR="/run/user/$uid" "$VM" "$@")
}
as_cron() {
	(cd "$machine" && exec setpriv --reuid "$U" --regid "$U" --init-groups \
		env -i "${base_env[@]}" "$VM" "$@")
}
# su keeps root's XDG_RUNTIME_DIR (a directory that is not the owner's);
# su -m keeps root's HOME too.
as_su() { su -s /bin/sh "$U" -c "cd '$machine' && VM_LIB='$VM_LIB' '$VM' $*"; }
as_su_m() { (cd "$machine" && su -m -s /bin/sh "$U" -c "'$VM' $*"); }
login() { mkdir -m 700 "/run/user/$uid" && chown "$U:" "/run/user/$uid"; }
logout() { rm -rf "/run/user/$uid"; }
sm_boot_id() { as_cron ssh cat /proc/sys/kernel/random/boot_id 2>/dev/null; }
emulators() { pgrep -u "$U" -f "^qemu-system" | xargs; }
say() { out=$("$@" 2>&1) && rc=0 || rc=$?; }

as_cron init >/dev/null || { echo "FAIL: vm init as $U"; exit 1; }
mkdir -p /run/user

echo "# a session starts the machine; logout, login"
login
say as_session start --nat
check "start --nat in a login session ($out)" test "$rc" = 0
boot1=$(sm_boot_id)
check "the guest answers ($boot1)" test "${#boot1}" = 36
check "the handle is in the home, 0700: $place" \
	test -S "$place/qmp.sock" -a "$(stat -c %a "$place")" = 700
check "nothing of it in the session's directory" test ! -e "/run/user/$uid/vm"
logout
login
say as_session status
check "after logout and login: vm status says running ($out)" \
	bash -c '[ "$1" = 0 ] && grep -q "^emulator:  running (pid [1-9]" <<<"$2"' _ "$rc" "$out"
say as_session cmd info status
check "vm cmd info status answers ($out)" test "$rc" = 0 -a "$out" = "VM status: running"
say as_session stop -s s1
check "vm stop -s s1 saves ($out)" test "$rc" = 0
check "the emulator is gone" test -z "$(emulators)"
say as_session start --nat -l s1
check "vm start -l s1 ($out)" test "$rc" = 0
check "the same boot: boot_id $boot1" test "$(sm_boot_id)" = "$boot1"

echo "# the same machine from cron and through su"
say as_cron status
check "cron (no XDG_RUNTIME_DIR): status says running ($out)" \
	bash -c '[ "$1" = 0 ] && grep -q "^emulator:  running" <<<"$2"' _ "$rc" "$out"
say as_su status
check "su (root's XDG_RUNTIME_DIR): status says running ($out)" \
	bash -c '[ "$1" = 0 ] && grep -q "^emulator:  running" <<<"$2"' _ "$rc" "$out"
say as_su_m status
check "su -m (root's HOME): status says running ($out)" \
	bash -c '[ "$1" = 0 ] && grep -q "^emulator:  running" <<<"$2"' _ "$rc" "$out"
say as_cron list
check "cron: vm list shows it ($out)" grep -q "^sm  *$ID  *running" <<<"$out"
say as_su stop -s s2
check "su: vm stop -s s2 saves ($out)" test "$rc" = 0
check "the emulator is gone" test -z "$(emulators)"
say as_cron start --nat -l s2
check "cron: vm start -l s2 ($out)" test "$rc" = 0
check "still the same boot" test "$(sm_boot_id)" = "$boot1"
say as_cron stop -s s2
check "cron: vm stop -s s2 saves ($out)" test "$rc" = 0
check "the emulator is gone" test -z "$(emulators)"

echo "# two starts at once, from a session and from cron"
# A brace group that execs: $! is vm's own pid.
{ cd "$machine" && exec setpriv --reuid "$U" --regid "$U" --init-groups env -i "${base_env[@]}" \
	XDG_RUNTIME_DIR="/run/user/$uid" "$VM" start --nat -l s2; } >"$work/a.out" 2>&1 &
a=$!
{ cd "$machine" && exec setpriv --reuid "$U" --regid "$U" --init-groups env -i "${base_env[@]}" \
	"$VM" start --nat -l s2; } >"$work/b.out" 2>&1 &
b=$!
wait "$a" && ra=0 || ra=$?
wait "$b" && rb=0 || rb=$?
check "exactly one emulator ($(emulators))" test "$(emulators | wc -w)" = 1
detail="session: $ra $(cat "$work/a.out"); cron: $rb $(cat "$work/b.out")"
check "one start succeeds, the other is refused" test "$((ra + rb))" = 1 -a "$((ra * rb))" = 0
loser=$work/a.out winner=$b
[ "$ra" = 0 ] && loser=$work/b.out winner=$a
pid=$(sed -n 's/.*(pid \([0-9]*\)).*/\1/p' "$loser" | head -1)
check "the refused start names the winner (pid $pid: its vm $winner, or its emulator $(emulators))" \
	test -n "$pid" -a \( "$pid" = "$winner" -o "$pid" = "$(emulators)" \)
detail=
say as_cron kill
check "vm kill" test "$rc" = 0

echo "# a machine an earlier vm started in a session (/run/user/UID/vm/ID)"
# Its emulator's command line as vm starts it, with the handle in the
# session's directory as earlier versions kept it, the lock held by the
# process that runs the emulator.
say as_cron start --nat -l s2
pid=$(emulators)
mapfile -d '' args <"/proc/$pid/cmdline"
say as_cron stop -s s2
old=/run/user/$uid/vm/$ID
mkdir -p -m 700 "/run/user/$uid/vm" "$old" && chown "$U:" "/run/user/$uid/vm" "$old"
for i in "${!args[@]}"; do
	args[i]=$(sed -E "s,(path=|^)(/proc/self/fd/[0-9]+|$place)/,\\1$old/," <<<"${args[i]}")
done
printf '%s\n' "name=sm" "home=$machine" network=nat "ssh_port=22$ID" \
	"disk=$machine/sm-backing.qcow2" >"$old/machine"
chown "$U:" "$old/machine"
(cd "$machine" && exec setpriv --reuid "$U" --regid "$U" --init-groups \
	setsid flock "$old/lock" "${args[@]}" >"$work/old.out" 2>&1 &)
for _ in $(seq 60); do [ -S "$old/qmp.sock" ] && [ -s "$old/qemu.pid" ] && break; sleep 0.5; done
check "the earlier layout's emulator runs" test -S "$old/qmp.sock" -a -n "$(emulators)"
say as_cron status -s
check "cron: status finds it ($out)" grep -q "^emulator:  running (pid $(cat "$old/qemu.pid"))" <<<"$out"
say as_cron stop -s s3
check "cron: stop -s s3 stops it ($out)" test "$rc" = 0
for _ in $(seq 20); do [ -z "$(emulators)" ] && break; sleep 0.5; done
check "its emulator is gone" test -z "$(emulators)"

finish
