#!/bin/sh
# meson install script: installs a configuration file only when the target
# does not exist yet, so that an admin's edits survive reinstalls.
# Usage: install-if-absent.sh SOURCE DIR MODE
set -eu
src=$1 dir=$2 mode=$3
dest="${DESTDIR-}$dir/$(basename "$src")"
mkdir -p "${DESTDIR-}$dir"
if [ -e "$dest" ]; then
	echo "Keeping existing $dest"
else
	install -m "$mode" "$src" "$dest"
	echo "Installing $dest"
fi
