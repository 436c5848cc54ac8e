#!/bin/bash
# vm init with the real qemu-img: every rule on existing and orphaned files,
# the dry run, the refusal while the machine runs, and no half-written base
# when the copy fails or is interrupted.
TEST_NAME=init
. "$(dirname "$0")/lib.sh"

echo "# a fresh machine"
new_machine fresh
run init
check "init succeeds (rc $rc: $err)" test "$rc" = 0
check "base equals the seed" cmp -s t-seed.qcow2 t-base.qcow2
check "backing file is made on the base by relative name" test "$(backing_of t-backing.qcow2)" = t-base.qcow2
check "the guest sees the seed's data through the backing file" reads t-backing.qcow2 0xab 0
check "no temporary files are left" only_files t-backing.qcow2 t-base.qcow2 t-seed.qcow2
check "init is silent without -v" test -z "$out"

echo "# the dry run"
new_machine dry
run init --dry-run
check "dry run succeeds" test "$rc" = 0
check "dry run names the copy" contains "$out" "would copy t-seed.qcow2 to t-base.qcow2"
check "dry run names the qemu-img command" contains "$out" "qemu-img create -f qcow2 -b t-base.qcow2 -F qcow2 t-backing.qcow2"
check "dry run changes nothing" only_files t-seed.qcow2
"$VM" init >/dev/null
write t-backing.qcow2 0xcd 8M
base_inode=$(inode t-base.qcow2) backing_inode=$(inode t-backing.qcow2)
run init -t -b -k
check "dry run with -b -k succeeds" test "$rc" = 0
check "dry run says the base is replaced" contains "$out" "replacing the existing base"
check "dry run says the backing file is replaced" contains "$out" "replacing the existing backing file"
check "dry run -b -k keeps the base" test "$(inode t-base.qcow2)" = "$base_inode"
check "dry run -b -k keeps the backing file" test "$(inode t-backing.qcow2)" = "$backing_inode"
run init -t
check "dry run applies the rules too" test "$rc" = 1
check "dry run's refusal says what to do" contains "$err" "use -k"

echo "# an initialised machine: base and backing exist"
run init
check "init refuses" test "$rc" = 1
check "refusal says the machine is initialised and names -k and -b" contains "$err" "initialised; use -k to replace the backing file"
check "the refusal names -b, as the original's did" contains "$err" "or -b to start over"
check "refusal keeps the backing file's changes" reads t-backing.qcow2 0xcd 8M
check "refusal keeps the base" test "$(inode t-base.qcow2)" = "$base_inode"

echo "# -k: a fresh backing file on the existing base"
run init -k
check "init -k succeeds ($err)" test "$rc" = 0
check "the base is kept" test "$(inode t-base.qcow2)" = "$base_inode"
check "the backing file's changes are gone" reads t-backing.qcow2 0x00 8M
check "the new backing file sits on the base" reads t-backing.qcow2 0xab 0


echo "# -b without -k while a backing file exists: start over, as the original"
write t-backing.qcow2 0xcd 8M
write t-seed.qcow2 0xee 0
run init -b
check "init -b succeeds ($err)" test "$rc" = 0
check "the base is a new copy of the changed seed" cmp -s t-seed.qcow2 t-base.qcow2
check "the guest sees the new seed" reads t-backing.qcow2 0xee 0
check "the backing file is fresh" reads t-backing.qcow2 0x00 8M

echo "# -b -k: start over from the seed"
write t-backing.qcow2 0xcd 8M
write t-seed.qcow2 0xef 0
run init -b -k
check "init -b -k succeeds ($err)" test "$rc" = 0
check "the base is a new copy of the changed seed" cmp -s t-seed.qcow2 t-base.qcow2
check "the guest sees the new seed" reads t-backing.qcow2 0xef 0
check "the backing file's changes are gone" reads t-backing.qcow2 0x00 8M
check "no temporary files are left" only_files t-backing.qcow2 t-base.qcow2 t-seed.qcow2

echo "# an existing base without backing file"
new_machine keepbase
"$VM" init >/dev/null
rm t-backing.qcow2
base_inode=$(inode t-base.qcow2)
base_mtime=$(stat -c %Y t-base.qcow2)
rm t-seed.qcow2
run init
check "init makes the backing file without needing the seed ($err)" test "$rc" = 0
check "the base is untouched" test "$(inode t-base.qcow2)$(stat -c %Y t-base.qcow2)" = "$base_inode$base_mtime"
check "the backing file sits on it" reads t-backing.qcow2 0xab 0

echo "# an orphaned backing file: no base"
new_machine orphan
"$VM" init >/dev/null
rm t-base.qcow2
backing_inode=$(inode t-backing.qcow2)
run init
check "init refuses an orphan" test "$rc" = 1
check "refusal calls it an orphan and names -k" contains "$err" "orphaned backing file"
check "refusal names -k" contains "$err" "use -k"
check "the orphan is kept" test "$(inode t-backing.qcow2)" = "$backing_inode"
check "no base appears" test ! -e t-base.qcow2
run init -k
check "init -k replaces the orphan ($err)" test "$rc" = 0
check "the base is copied" cmp -s t-seed.qcow2 t-base.qcow2
check "the new backing file sits on it" reads t-backing.qcow2 0xab 0

echo "# no seed"
new_machine noseed
rm t-seed.qcow2
run init
check "init without a seed fails" test "$rc" = 1
check "the message names the seed and the directory" contains "$err" "no seed image t-seed.qcow2 in $work/noseed"
check "nothing is created" only_files

echo "# VM_USE_SNAPSHOTS=no"
new_machine single VM_USE_SNAPSHOTS=no
run init
check "init succeeds" test "$rc" = 0
check "init says there is nothing to do" contains "$out" "nothing to do"
check "nothing is created" only_files t-seed.qcow2

echo "# refused while the machine runs"
new_machine running
hold_lock 42
run init
check "init refuses" test "$rc" = 1
check "refusal says it runs, with the pid, and what to do" contains "$err" "t is running (pid $holder); stop it first"
check "nothing is created" only_files t-seed.qcow2
run init -t
check "the dry run refuses too" test "$rc" = 1
release_lock
run init
check "init works once the machine stopped ($err)" test "$rc" = 0

echo "# a copy interrupted by SIGTERM leaves no half base"
new_machine interrupted
rm t-seed.qcow2
truncate -s 2G "$work/seed.raw"
dd if=/dev/urandom of="$work/seed.raw" bs=1M count=256 seek=1024 conv=notrunc status=none
qemu-img convert -f raw -O qcow2 "$work/seed.raw" t-seed.qcow2
rm "$work/seed.raw"
"$VM" init 2>"$work/stderr" &
pid=$!
wait_for_temp ".t-base.qcow2.tmp-*"
kill -TERM "$pid"
wait "$pid" && rc=0 || rc=$?
check "vm died of SIGTERM (status $rc)" test "$rc" = 143
err=$(cat "$work/stderr")
check "... saying what it removed ($err)" contains "$err" "vm: interrupted; removed ./.t-base.qcow2.tmp-"
check "no half base and no temporary file" only_files t-seed.qcow2

echo "# a full disk leaves no half base"
if [ "$(id -u)" = 0 ]; then
	small_disk_machine 6M
	qemu-img create -q -f qcow2 t-seed.qcow2 64M
	qemu-io -c 'write -P 0xab 0 4M' t-seed.qcow2 >/dev/null
	run init
	check "init fails" test "$rc" = 1
	check "the message names the base and the cause ($err)" contains "$err" "cannot write t-base.qcow2"
	check "the message says what to do" contains "$err" "free some space"
	check "no half base, no temporary file, no backing file" only_files t-seed.qcow2
	leave_small_disk
else
	echo "SKIP: a full disk (mounting a small tmpfs needs root)"
fi

finish
