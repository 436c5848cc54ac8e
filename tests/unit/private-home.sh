#!/bin/bash
# Runs a unit test (its arguments) with a private, empty home directory: a
# tmpfs over the user's home in a mount namespace of its own. vm keeps its
# running machines below the home (~/.local/state/vm), and unit tests must
# leave the user's own home untouched.
# Root only: in a user namespace / would belong to an unmapped uid, which vm
# refuses above its directories; the tests that need a private home skip.
home=$(getent passwd "$(id -u)" | cut -d: -f6)
ns=(unshare -m)
if [ "$(id -u)" != 0 ] || ! "${ns[@]}" true 2>/dev/null || [ ! -d "$home" ]; then
	echo "private-home: no mount namespace of its own (needs root); the real home $home" >&2
	exec "$@"
fi
exec "${ns[@]}" bash -c 'mount --make-rprivate / && mount -t tmpfs -o mode=0700 tmpfs "$1" &&
	shift && exec "$@"' private-home "$home" "$@"
