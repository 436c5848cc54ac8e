#!/usr/bin/env bash
# The README's demo on the test guest: a machine directory, vm init, start,
# status, ssh, a web server in the guest reached from the host through a port
# forward on 127.0.0.1 (VM_NET_FORWARD), what the serial console showed (vm
# console --log; attaching needs a terminal), stop -s (suspend and save),
# start -l (the same guest back in a second), status, delvm (the state is
# not needed any more), stop -p, an archive of the stopped machine (archive
# --create), then the machine started again and archived while it runs (vm
# archive: the guest is not paused, and answers ssh after). Prints each
# command before running it and checks what it must show; the first step
# that fails ends the demo, naming the step.
#
# Usage: tests/guest/demo.sh [DIR]   (the guest: $VM_TEST_GUEST_DIR, built
# by tests/guest/build-guest.sh; vm: $VM, else the one in PATH). Without
# DIR the demo runs in a temporary directory it removes at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
VM=${VM:-vm}
guest_dir=${VM_TEST_GUEST_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vm/test-guest}
[ -f "$guest_dir/guest.env" ] || "$here/build-guest.sh" "$guest_dir" >/dev/null
# shellcheck disable=SC1091
. "$guest_dir/guest.env"

keep=${1:+yes}
demo=${1:-$(mktemp -d /tmp/vm-demo.XXXXXX)}
mkdir -p "$demo"
cd "$demo"
demo=$(pwd -P)
id=42
# vm keeps a machine's handle (~/.local/state/vm/HOST/ID) after it ends; the
# demo machine's goes with its directory (when the handle's record is the
# demo's: another machine of that ID keeps its own).
forget_handle() {
	local handle
	handle=$(getent passwd "$(id -u)" | cut -d: -f6)/.local/state/vm/$(uname -n)/$id
	if grep -qxF "home=$demo" "$handle/machine" 2>/dev/null; then rm -rf "$handle"; fi
}
cleanup() {
	"$VM" kill >/dev/null 2>&1 || true
	if [ -z "$keep" ]; then
		forget_handle
		cd /
		rm -rf "$demo"
	fi
}
trap cleanup EXIT

# fail WHAT: the step that went wrong, told once; the trap cleans up.
fail() {
	printf '\ndemo: FAILED: %s\n' "$*" >&2
	exit 1
}
# shown CMD...: CMD as one would type it (words with blanks quoted; a
# pipeline, "eval LINE", as LINE).
shown() {
	[ "$1" != eval ] || { printf '%s' "$2"; return; }
	local word line=
	for word; do
		case $word in *[!A-Za-z0-9_./:=@%+,-]*) word="'$word'" ;; esac
		line+=" $word"
	done
	printf '%s' "${line# }"
}
# run CMD...: a step, its output as it comes; it must succeed.
run() {
	printf '\n$ %s\n' "$(shown "$@")"
	local rc=0
	"$@" || rc=$?
	[ "$rc" = 0 ] || fail "$(shown "$@") exited $rc"
}
# expect TEXT CMD...: a step that must succeed and print TEXT.
expect() {
	local want=$1 out rc=0
	shift
	printf '\n$ %s\n' "$(shown "$@")"
	out=$("$@") || rc=$?
	printf '%s\n' "$out"
	[ "$rc" = 0 ] || fail "$(shown "$@") exited $rc"
	[[ $out == *"$want"* ]] || fail "$(shown "$@") did not print \"$want\""
}

cp "$GUEST_SEED" demo-seed.qcow2
chmod u+w demo-seed.qcow2
cp "$GUEST_KNOWN_HOSTS" known_hosts
# ssh wants a private key only its user can read; the shared guest's is not.
install -m 600 "$GUEST_KEY" id_ed25519
GUEST_KEY=$demo/id_ed25519
# The guest's web server (port 8080) is forwarded from host port 8000 + ID,
# or the next one nobody listens on, on 127.0.0.1 only (vm's default, said
# here so that no global vmrc opens it to the network).
port=$((8000 + id))
while [ -n "$(ss -Htln "sport = :$port")" ]; do port=$((port + 1)); done
cat >.vmrc <<VMRC
VM_MACHINE_NAME=demo
VM_MACHINE_ID=$id
VM_MACHINE_OWNER=$(id -un)
VM_MACHINE_USER=$GUEST_USER
VM_MACHINE_MEM=256
VM_DISK_IF=virtio
VM_NET_MODEL=virtio-net-pci
VM_NET_FORWARD=$port:8080
VM_NET_FORWARD_ADDR=127.0.0.1
VM_QEMU_EXTRA="-kernel $GUEST_KERNEL -initrd $GUEST_INITRD -append '$GUEST_APPEND' -device virtio-rng-pci"
VM_SSH_OPTS="-i $GUEST_KEY -o UserKnownHostsFile=$demo/known_hosts"
VMRC

run cat .vmrc
run "$VM" init
run "$VM" start --nat -v
expect "127.0.0.1:$port->8080/tcp" "$VM" status
run "$VM" ssh uname -a
run "$VM" ssh 'mkdir -p www && echo "hello from the guest" >www/index.html && busybox httpd -p 8080 -h www'
page=http://127.0.0.1:$port/
expect "hello from the guest" curl -sS -m 10 "$page"
expect "udhcpc: lease of" eval "$(printf %q "$VM") console --log | grep udhcpc"
run "$VM" stop -s demo
run "$VM" start -l demo --nat
expect "hello from the guest" curl -sS -m 10 "$page"
run "$VM" status
run "$VM" cmd delvm demo
run "$VM" stop -p
run "$VM" archive --create -v
archive=$(echo demo-*/)
run ls -l "$archive"
run "$VM" start --nat
run "$VM" archive -v
expect "demo-backing-" ls -l "$archive"
expect "running" "$VM" cmd info status
run "$VM" ssh uptime
run "$VM" stop -p
echo
if [ -n "$keep" ]; then
	echo "demo machine directory: $demo"
else
	echo "demo machine directory: $demo (removed now; tests/demo.sh DIR keeps one)"
fi
