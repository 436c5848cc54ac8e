#!/bin/bash
# Runs a unit test (its arguments) with a private, empty home directory: a
# tmpfs over the user's home in a mount namespace of its own. vm keeps its
# running machines below the home (~/.local/state/vm), and unit tests must
# leave the user's own home untouched.
home=$(getent passwd "$(id -u)" | cut -d: -f6)
if [ "$(id -u)" = 0 ]; then ns=(unshare -m); else ns=(unshare --map-current-user -m); fi
if ! "${ns[@]}" true 2>/dev/null || [ ! -d "$home" ]; then
	echo "private-home: cannot make a mount namespace; running in the real home $home" >&2
	exec "$@"
fi
exec "${ns[@]}" bash -c 'mount --make-rprivate / && mount -t tmpfs -o mode=0700 tmpfs "$1" &&
	shift && exec "$@"' private-home "$home" "$@"
