#!/bin/bash
# vm archive --create's copy throughput against cp of the same files in the
# same run (cp followed by sync of the copies, since vm flushes what it
# writes before renaming it into place), as a ratio: above 1, vm is slower.
set -eu
VM=${VM_TEST_BIN:?VM_TEST_BIN must name the vm binary}
export VM_LIB=${VM_LIB:?VM_LIB must name vm/data/lib}
unset VM_HOME VM_CONFIG VM_USE_SNAPSHOTS VM_LOG VM_ERRLOG
ROUNDS=${ROUNDS:-4}

work=$(mktemp -d /tmp/vm-bench-archive-XXXXXX)
trap 'rm -rf "$work"' EXIT
export XDG_RUNTIME_DIR=$work/run
mkdir -m 700 "$XDG_RUNTIME_DIR"
cd "$work"
printf '%s\n' VM_MACHINE_NAME=b VM_MACHINE_ID=89 VM_MACHINE_OWNER=root >.vmrc
# 512 MiB of data in the seed (random: nothing in the copy path shrinks it).
head -c 512M /dev/urandom >data.raw
qemu-img convert -f raw -O qcow2 data.raw b-seed.qcow2
rm data.raw
"$VM" init
size_mib=$(($(stat -c %s b-base.qcow2) / 1048576))

now() { date +%s.%N; }
elapsed() { awk -v a="$(now)" -v b="$1" 'BEGIN { print a - b }'; }
# calc EXPRESSION: floating-point arithmetic on numbers given as awk code.
calc() { awk "BEGIN { print $1 }"; }
median() { printf '%s\n' "$@" | sort -g | sed -n "$((($# + 1) / 2))p"; }

time_archive() {
	sync
	local start
	start=$(now)
	"$VM" archive --create
	vm_times+=("$(elapsed "$start")")
}
time_cp() {
	mkdir cp-copy
	sync
	local start
	start=$(now)
	cp b-base.qcow2 b-backing.qcow2 cp-copy/
	sync cp-copy/b-base.qcow2 cp-copy/b-backing.qcow2
	cp_times+=("$(elapsed "$start")")
}

# Each round starts from clean page caches' dirt (sync) and the order
# alternates, so that neither side pays for the other's writeback.
vm_times=() cp_times=()
for ((r = 0; r < ROUNDS; r++)); do
	rm -rf b-2* cp-copy
	if ((r % 2)); then
		time_cp
		time_archive
	else
		time_archive
		time_cp
	fi
done
vm_t=$(median "${vm_times[@]}")
cp_t=$(median "${cp_times[@]}")
printf 'archive --create  %6.3f s  %7.1f MiB/s (%d MiB base, median of %d)\n' "$vm_t" \
	"$(calc "$size_mib / $vm_t")" "$size_mib" "$ROUNDS"
printf 'cp + sync         %6.3f s  %7.1f MiB/s\n' "$cp_t" "$(calc "$size_mib / $cp_t")"
printf 'ratio archive --create / cp + sync: %.2f\n' "$(calc "$vm_t / $cp_t")"
