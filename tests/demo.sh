#!/usr/bin/env bash
# The README's demo: the small test guest (built from Debian packages by
# tests/guest/build-guest.sh, cached) driven with the installed vm, from init
# to an archive of the running machine. See tests/guest/demo.sh.
#
# Without DIR the demo keeps nothing, and says so: it takes stock of /tmp,
# the machines' handles and the rest tests/leftovers.sh looks at before it
# starts, and names what is new after. The finding stays in .test-state/demo
# for tests/run-all.sh, which CI runs next, to count in its own check.
set -euo pipefail
export VM_TEST_GUEST_DIR=${VM_TEST_GUEST_DIR:-/var/cache/vm/test-guest}
root=$(cd "$(dirname "$0")/.." && pwd)
state=$root/.test-state/demo
if [ $# -gt 0 ] || ! { rm -rf "$state" && "$root/tests/leftovers.sh" snapshot "$state"; } 2>/dev/null; then
	exec "$root/tests/guest/demo.sh" "$@"
fi
rc=0
"$root/tests/guest/demo.sh" || rc=$?
echo
"$root/tests/leftovers.sh" check "$state" "the demo" || true
exit "$rc"
