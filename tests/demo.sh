#!/usr/bin/env bash
# The README's demo: a machine directory for the small test guest, driven
# with the installed vm. Prints each command before running it and stops at
# the first failure.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
export VM_TEST_GUEST_DIR=${VM_TEST_GUEST_DIR:-/var/cache/vm/test-guest}

if [ -x "$src/tests/guest/demo.sh" ] && [ -f "$VM_TEST_GUEST_DIR/guest.env" ]; then
	exec "$src/tests/guest/demo.sh"
fi

# Until the emulator commands land, the demo shows a machine directory and
# vm sh on it.
run() {
	printf '\n$ %s\n' "$*"
	"$@"
}
demo=$(mktemp -d /tmp/vm-demo.XXXXXX)
cd "$demo"
cat >.vmrc <<VMRC
VM_MACHINE_NAME=demo
VM_MACHINE_ID=42
VM_MACHINE_OWNER=$(id -un)
VM_MACHINE_MEM=256
VMRC
run cat .vmrc
run vm sh -c 'echo "$VM_MACHINE_NAME: base $VM_SNAPSHOT_BASE_FILENAME, backing $VM_SNAPSHOT_BACKING_FILENAME, MAC $VM_NET_MAC"'
run vm --help
echo
echo "demo machine directory: $demo"
