#!/bin/bash
# The front end's dependency rule (vm/README.md), checked on the includes:
# the parts are layered, and a part includes only its own headers, common/'s
# and those of the parts below it (so sys/, the bottom, uses common/ only). Every source file sits in a part.
# Only the commands (cmd/) speak to the user (errors, warnings, progress).
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

# Errors are told once, at the top: below cmd/ nothing speaks to the user.
# A part returns its error in struct error, and hands a warning, a line of
# what it did or its progress to the struct report its caller gave it
# (sys/report.h); the commands print both. The step log (log_progress,
# log_debug: VM_LOG and -v) stays where the step is done: it is the record
# of what vm did, not a message to act on.
says='(^|[^A-Za-z0-9_.>])(log_(error|warn|info)|progress_(start|update|tick|spinner|finish|visible)|v?printf|puts|putchar|perror) *\(|(v?fprintf|fputs|fputc|putc) *\(([^;]*, *)?(stderr|stdout)|\( *(STDERR|STDOUT)_FILENO *,'
# The ones that may: FILE (a pattern)|what the line holds (ERE)|why.
allowed=(
	"sys/progress.[ch]|.|it draws the bars and spinners, for the commands' report (cmd/cli_report.c)"
	"config/config.c|internal error|a bug (a variable outside the table), no user's doing: told where it is found, then abort()"
	"sys/tempfile.c|internal error|a bug (more files in the making than vm ever has): told, then abort()"
	"sys/tempfile.c|writev *\( *STDERR_FILENO|the signal handler removing the temporary files: async-signal-safe, and no caller runs on to tell it"
)
declare -A used speaking
below=()
for f in "$src"/*/*.[ch]; do
	case $(basename "$(dirname "$f")") in cmd | data) ;; *) below+=("${f#"$src"/}") ;; esac
done
while IFS= read -r hit; do # FILE:LINE:TEXT
	rel=${hit%%:*} rest=${hit#*:}
	line=${rest%%:*} text=${rest#*:}
	ok=
	for i in "${!allowed[@]}"; do
		IFS='|' read -r file what _ <<<"${allowed[$i]}"
		# shellcheck disable=SC2053 # file is a pattern
		if [[ $rel == $file && $text =~ $what ]]; then
			ok=1 used[$i]=1
		fi
	done
	[ -n "$ok" ] && continue
	speaking[$rel]=1
	fail "$rel:$line speaks to the user: return the error in struct error, tell a warning or progress through the caller's struct report (sys/report.h): $text"
done < <(cd "$src" && grep -nE -- "$says" "${below[@]}")
for rel in "${below[@]}"; do
	[ -n "${speaking[$rel]:-}" ] || passed=$((passed + 1))
done
for i in "${!allowed[@]}"; do
	[ -n "${used[$i]:-}" ] || fail "no longer needed, remove it from the list: ${allowed[$i]}"
done

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
