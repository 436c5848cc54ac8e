#!/usr/bin/env bash
# What a test run left behind: files under /tmp, the handles of machines
# below the runner's home (~/.local/state/vm/HOST/ID, which vm keeps after a
# machine ends), emulators, network namespaces, users and groups, network
# links (taps, bridges), and the state a libvirtd started by a test makes
# (/run/libvirt, /var/lib/libvirt) that were not there before it.
# Usage: leftovers.sh snapshot STATE_DIR      (before the run)
#        leftovers.sh check STATE_DIR [WHO]   (after: names each thing WHO,
#                                              "the tests", left, and exits 1
#                                              if there is one; STATE_DIR/left
#                                              keeps the list)
#        leftovers.sh still STATE_DIR [WHO]   (later: names what of that list
#                                              is still there, exits 1 if any)
# STATE_DIR must not be under /tmp.
set -uo pipefail
mode=${1:?usage: leftovers.sh snapshot|check|still STATE_DIR [WHO]}
state=${2:?usage: leftovers.sh snapshot|check|still STATE_DIR [WHO]}
who=${3:-the tests}

# The source tree and its build directories are the run's own, not
# something a test left, even when the checkout is under /tmp.
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)

# One line per thing, "KIND NAME", sorted.
inventory() {
	# The shell harness that may drive a run keeps its own files under
	# /tmp/bash_jobs.* and /tmp/bash_tool_*: not the suite's.
	find /tmp -xdev -mindepth 1 \( -path "$src" -o -path '/tmp/bash_jobs.*' -o -path '/tmp/bash_tool_*' \) \
		-prune -o -print 2>/dev/null | sed 's/^/file /'
	# vm's own directories above the handles (~/.local/state/vm/HOST) are
	# made once for good; a machine's handle is the test's.
	local home
	home=$(getent passwd "$(id -u)" | cut -d: -f6)
	find "$home/.local/state/vm" -mindepth 2 -maxdepth 2 2>/dev/null | sed 's/^/handle /'
	pgrep -f '^(/[^ ]*/)?qemu-system-' 2>/dev/null | while read -r pid; do
		printf 'emulator %s %s\n' "$pid" "$(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | cut -c1-160)"
	done
	ip netns list 2>/dev/null | awk '{ print "netns " $1 }'
	find /run/libvirt /var/lib/libvirt 2>/dev/null | sed 's/^/daemon-state /'
	cut -d: -f1 /etc/passwd | sed 's/^/user /'
	cut -d: -f1 /etc/group | sed 's/^/group /'
	ip -o -d link show 2>/dev/null | awk '{
		name = $2; sub(/:$/, "", name); sub(/@.*/, "", name)
		kind = "link"
		if ($0 ~ / tun /) kind = "tap"
		else if ($0 ~ / bridge /) kind = "bridge"
		print "link " name " (" kind ")" }'
}

case $mode in
snapshot)
	mkdir -p "$state"
	inventory | LC_ALL=C sort -u >"$state/before"
	;;
check)
	# What is new, twice a few seconds apart: what another program on the
	# machine had open for a moment is gone by the second look.
	inventory | LC_ALL=C sort -u >"$state/after"
	LC_ALL=C comm -13 "$state/before" "$state/after" >"$state/new"
	if [ -s "$state/new" ]; then
		sleep 3
		inventory | LC_ALL=C sort -u >"$state/after"
		LC_ALL=C comm -12 "$state/new" "$state/after" >"$state/new2"
		mv "$state/new2" "$state/new"
	fi
	# For files and daemon state, only the topmost new path (not its
	# contents).
	awk '
		$1 == "file" || $1 == "daemon-state" {
			path = substr($0, length($1) + 2)
			if (top != "" && index(path, top "/") == 1)
				next
			top = path
		}
		{ print }' "$state/new" >"$state/left"
	if [ -s "$state/left" ]; then
		echo "$who left behind:"
		sed 's/^/  /' "$state/left"
		exit 1
	fi
	echo "$who left nothing behind"
	;;
still)
	# What another program made meanwhile and has removed since is not
	# counted: only what is there yet.
	inventory | LC_ALL=C sort -u >"$state/now"
	LC_ALL=C sort -u "$state/left" | LC_ALL=C comm -12 - "$state/now" >"$state/still"
	if [ -s "$state/still" ]; then
		echo "$who left behind:"
		sed 's/^/  /' "$state/still"
		exit 1
	fi
	echo "$who left nothing behind"
	;;
*)
	echo "usage: leftovers.sh snapshot|check|still STATE_DIR [WHO]" >&2
	exit 2
	;;
esac
