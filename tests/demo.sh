#!/usr/bin/env bash
# The README's demo: the small test guest (built from Debian packages by
# tests/guest/build-guest.sh, cached) driven with the installed vm, from init
# to an archive. See tests/guest/demo.sh.
set -euo pipefail
export VM_TEST_GUEST_DIR=${VM_TEST_GUEST_DIR:-/var/cache/vm/test-guest}
exec "$(dirname "$0")/guest/demo.sh" "$@"
