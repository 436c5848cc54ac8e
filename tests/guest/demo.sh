#!/usr/bin/env bash
# The README's demo on the test guest: a machine directory, vm init, start,
# status, ssh, stop -s (suspend and save), start -l (the same guest back in
# a second), status, delvm (the state is not needed any more), stop -p, and
# an archive of the stopped machine (archive --create). Prints each command before running it and stops at
# the first failure.
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

run() {
	printf '\n$ %s\n' "$*"
	"$@"
}

cp "$GUEST_SEED" demo-seed.qcow2
chmod u+w demo-seed.qcow2
cp "$GUEST_KNOWN_HOSTS" known_hosts
# ssh wants a private key only its user can read; the shared guest's is not.
install -m 600 "$GUEST_KEY" id_ed25519
GUEST_KEY=$demo/id_ed25519
cat >.vmrc <<VMRC
VM_MACHINE_NAME=demo
VM_MACHINE_ID=$id
VM_MACHINE_OWNER=$(id -un)
VM_MACHINE_USER=$GUEST_USER
VM_MACHINE_MEM=256
VM_DISK_IF=virtio
VM_NET_MODEL=virtio-net-pci
VM_QEMU_EXTRA="-kernel $GUEST_KERNEL -initrd $GUEST_INITRD -append '$GUEST_APPEND' -device virtio-rng-pci"
VM_SSH_OPTS="-i $GUEST_KEY -o UserKnownHostsFile=$demo/known_hosts"
VMRC

run cat .vmrc
run "$VM" init
run "$VM" start --nat -v
run "$VM" status
run "$VM" ssh uname -a
run "$VM" stop -s demo
run "$VM" start -l demo --nat
run "$VM" status
run "$VM" cmd delvm demo
run "$VM" stop -p
run "$VM" archive --create -v
run ls -l demo-*/
echo
if [ -n "$keep" ]; then
	echo "demo machine directory: $demo"
else
	echo "demo machine directory: $demo (removed now; tests/demo.sh DIR keeps one)"
fi
