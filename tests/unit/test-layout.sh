#!/bin/bash
# The front end's dependency rule (vm/README.md), checked on the includes:
# the parts are layered, and a part includes only its own headers, common/'s
# and those of the parts below it (so sys/, the bottom, uses common/ only). Every source file sits in a part.
# Only the commands (cmd/) print errors.
# Usage: test-layout.sh VM-SOURCE-DIR
set -u
src=$1
layers=(sys config net emulator guest storage boot cmd)
passed=0 failed=0
fail() { failed=$((failed + 1)); echo "FAIL - $*"; }

rank() { # PART -> its place in the layers, or nothing
	local i
	for i in "${!layers[@]}"; do [ "${layers[$i]}" = "$1" ] && echo "$i"; done
}

for f in "$src"/*.c "$src"/*.h; do
	[ -e "$f" ] || continue
	[ "$(basename "$f")" = main.c ] || fail "$f is outside the parts: move it into one"
done

for dir in "$src"/*/; do
	part=$(basename "$dir")
	[ "$part" = data ] && continue
	own=$(rank "$part")
	if [ -z "$own" ]; then
		fail "vm/$part is not a part of the rule: add it to vm/README.md and to this test"
		continue
	fi
	for f in "$dir"*.[ch]; do
		while IFS= read -r inc; do
			case $inc in
			*/*)
				used=${inc%%/*}
				r=$(rank "$used")
				if [ -z "$r" ]; then
					fail "${f#"$src"/} includes $inc: no such part"
				elif [ "$r" -gt "$own" ]; then
					fail "${f#"$src"/} ($part) includes $inc: $used is above $part"
				else
					passed=$((passed + 1))
				fi
				;;
			*)
				if [ -e "$src/../common/$inc" ] || [ "$inc" = build-config.h ]; then
					passed=$((passed + 1))
				else
					fail "${f#"$src"/} includes \"$inc\": name a front-end header by its part (part/$inc)"
				fi
				;;
			esac
		done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
	done
done

# Errors are told once, at the top: below cmd/ a part returns struct error
# and never prints one (log.h's debug, progress and warnings are fine).
for f in "$src"/*/*.[ch]; do
	part=$(basename "$(dirname "$f")")
	case $part in cmd | data) continue ;; esac
	if grep -n 'log_error *(' "$f" >/dev/null; then
		fail "${f#"$src"/} prints an error (log_error): return it in struct error for the command to tell"
	else
		passed=$((passed + 1))
	fi
done

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
