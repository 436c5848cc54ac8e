# What netd-e2e and netd-kernel need first: root (else SKIP, or FAIL under
# -Droot_tests=enabled) and the test guest, built when it is missing, its
# guest.env read. Source it with NEEDS_ROOT_FOR set to why root is needed;
# it defines skip, and guest_dir.
skip() {
	echo "SKIP: $*"
	exit 77
}
[ "${ROOT_TESTS:-auto}" = disabled ] && skip "root tests disabled (-Droot_tests=disabled)"
if [ "$(id -u)" != 0 ]; then
	[ "${ROOT_TESTS:-auto}" = enabled ] && { echo "FAIL: -Droot_tests=enabled, but not root"; exit 1; }
	skip "needs root ($NEEDS_ROOT_FOR)"
fi
guest_dir=${VM_TEST_GUEST_DIR:-/var/cache/vm/test-guest}
if [ ! -f "$guest_dir/guest.env" ] && [ -x "${SOURCE_DIR:-}/tests/guest/build-guest.sh" ]; then
	"$SOURCE_DIR/tests/guest/build-guest.sh" "$guest_dir" >/dev/null ||
		{ echo "FAIL: the test guest cannot be built"; exit 1; }
fi
[ -f "$guest_dir/guest.env" ] ||
	skip "no test guest in $guest_dir (build it with tests/guest/build-guest.sh)"
# shellcheck disable=SC1091
. "$guest_dir/guest.env"
