# Shared by the image tests (init.sh, archive.sh): a scratch directory,
# pass/fail counting, running vm, and looking into images with qemu-img and
# qemu-io. Source it after setting TEST_NAME.
set -u

VM=${VM_TEST_BIN:?VM_TEST_BIN must name the vm binary}
export VM_LIB=${VM_LIB:?VM_LIB must name vm/data/lib}
unset VM_HOME VM_CONFIG VM_USE_SNAPSHOTS VM_LOG VM_ERRLOG

# vm keeps running machines below the user's home (~/.local/state/vm), one
# place per user whatever the session: as root, each test gets a place of
# its own (a bind mount in a mount namespace of its own), so that tests
# running at once, and root's own machines, never meet. (A user namespace
# would not do for others: / would belong to an unmapped uid, which vm
# refuses above its directories.)
if [ -z "${VM_TEST_OWN_STATE:-}" ]; then
	export VM_TEST_OWN_STATE=1
	ns=(unshare -m --propagation private)
	if [ "$(id -u)" = 0 ] && "${ns[@]}" true 2>/dev/null; then exec "${ns[@]}" "$BASH" "$0" "$@"; fi
	VM_TEST_OWN_STATE=no
	echo "# not root: the tests use the real ~/.local/state/vm" >&2
fi

work=$(mktemp -d "/tmp/vm-test-${TEST_NAME:-images}-XXXXXX")
export XDG_RUNTIME_DIR=$work/run
mkdir -m 700 "$XDG_RUNTIME_DIR"
state_dir=$(getent passwd "$(id -u)" | cut -d: -f6)/.local/state/vm
if [ "$VM_TEST_OWN_STATE" = 1 ]; then
	mkdir -p -m 700 "$state_dir" "$work/state" && mount --bind "$work/state" "$state_dir" ||
		exit 1
fi
# gone PID: the process has ended, all its threads with it (a zombie nobody
# reaps counts: in some containers PID 1 does not reap the orphans it
# inherits). A killed emulator's main thread is a zombie as soon as it ends,
# while its other threads may still hold the machine's lock for a moment.
gone() {
	[ ! -e "/proc/$1" ] && return 0
	grep -q '^State:.*zombie' "/proc/$1/status" 2>/dev/null &&
		[ "$(ls "/proc/$1/task" 2>/dev/null | wc -l)" -le 1 ]
}
# runtime_dir ID: where vm keeps machine ID's handle while it runs.
runtime_dir() { echo "$state_dir/$(uname -n)/$1"; }
# free_id [AFTER]: a machine id (above AFTER) whose NAT ssh port 22<ID> is
# free on loopback, so that tests running at the same time (other
# checkouts, other users) do not collide.
free_id() {
	local id
	for ((id = ${1:-49} + 1; id <= 99; id++)); do
		ss -Htln "sport = :22$id" 2>/dev/null | grep -q . || { echo "$id"; return; }
	done
	echo "FAIL: no free machine id (ports 2250-2299 all taken)" >&2
	exit 1
}

holder=
mnt=

cleanup() {
	[ -n "$holder" ] && kill "$holder" 2>/dev/null && wait "$holder" 2>/dev/null
	[ -n "$mnt" ] && cd / && umount "$mnt" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=check.sh
. "$(dirname "${BASH_SOURCE[0]}")/check.sh"

out= err= rc=
# run ARGS...: runs vm in the current directory, keeping stdout, stderr, status.
run() {
	out=$("$VM" "$@" 2>"$work/stderr") && rc=0 || rc=$?
	err=$(cat "$work/stderr")
}

# new_machine NAME [VMRC LINES...]: a machine directory (machine t, id 42)
# with a seed image whose first MiB holds the byte 0xab; cd into it.
new_machine() {
	local dir=$work/$1
	shift
	mkdir -p "$dir" && cd "$dir" || exit 1
	printf '%s\n' VM_MACHINE_NAME=t VM_MACHINE_ID=42 VM_MACHINE_OWNER=root "$@" >.vmrc
	qemu-img create -q -f qcow2 t-seed.qcow2 64M
	qemu-io -c 'write -P 0xab 0 1M' t-seed.qcow2 >/dev/null
}
# small_disk_machine SIZE: a machine directory (machine t, id 42, no images)
# on a tmpfs of SIZE, to run out of space in; cd into it. Needs root.
small_disk_machine() {
	mnt=$work/small
	mkdir "$mnt"
	mount -t tmpfs -o size="$1" tmpfs "$mnt"
	cd "$mnt" || exit 1
	printf '%s\n' VM_MACHINE_NAME=t VM_MACHINE_ID=42 VM_MACHINE_OWNER=root >.vmrc
}
# leave_small_disk: back to $work, the tmpfs gone.
leave_small_disk() { cd "$work" && umount "$mnt" && mnt=; }
# write IMAGE PATTERN OFFSET [LENGTH]: the guest writes PATTERN there.
write() { qemu-io -c "write -P $2 $3 ${4:-1M}" "$1" >/dev/null; }
# reads IMAGE PATTERN OFFSET: the image (through its backing chain) holds
# the byte PATTERN over 1 MiB at OFFSET.
reads() { qemu-io -r -c "read -P $2 $3 1M" "$1" 2>&1 | grep -q 'read 1048576/1048576'; }
# allocates IMAGE: bytes the image itself (not its backing file) holds.
allocates() { qemu-io -r -c 'alloc 0 64M' "$1" | sed -n 's,^\([0-9]*\)/.*,\1,p'; }
backing_of() { qemu-img info --output=json "$1" | sed -n 's/.*"backing-filename": "\(.*\)".*/\1/p'; }
clean() { qemu-img check -q "$1" >/dev/null 2>&1; }
# sound IMAGE: no corruption. An emulator killed (vm kill) while the guest
# allocates may leave leaked clusters: harmless, qemu-img check -r leaks
# frees them. (qemu-img check exits 3 for leaks only.)
sound() {
	local rc=0
	qemu-img check -q "$1" >/dev/null 2>&1 || rc=$?
	[ "$rc" = 0 ] || echo "# qemu-img check $1: exit $rc"
	[ "$rc" = 0 ] || [ "$rc" = 3 ]
}
inode() { stat -c %i "$1"; }
# Only these files (besides .vmrc) are in the directory: no temporary files.
only_files() { [ "$(ls -A | grep -v '^\.vmrc$' | sort | xargs)" = "$*" ]; }

# hold_lock ID [PID FILE CONTENT]: holds machine ID's lock as its emulator
# would, until release_lock.
hold_lock() {
	local dir
	dir=$(runtime_dir "$1")
	mkdir -p -m 700 "$state_dir" "$(dirname "$dir")" "$dir"
	rm -f "$work/locked"
	mkfifo "$work/locked"
	# exec keeps the pid, so that killing it lets go of the lock.
	(
		exec 9>"$dir/lock"
		flock -x 9
		echo locked >"$work/locked"
		exec sleep 600
	) &
	holder=$!
	read -r _ <"$work/locked"
	echo "$holder" >"$dir/qemu.pid"
}
release_lock() {
	kill "$holder" && wait "$holder" 2>/dev/null
	holder=
}

# wait_for_temp PATTERN: waits until a file matching the glob PATTERN
# exists and has data (a copy is under way); fails after about a minute.
wait_for_temp() {
	local i f
	for ((i = 0; i < 6000; i++)); do
		for f in $1; do
			[ -s "$f" ] && return 0
		done
		sleep 0.01
	done
	return 1
}
