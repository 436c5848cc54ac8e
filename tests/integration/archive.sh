#!/bin/bash
# vm archive --create with the real qemu-img and compressors, on images the
# test writes with qemu-io (the running guest's side is archive-guest.sh):
# what lands in the archive, the refusals, other overlays, every compressor
# round trip, and that kill -9, SIGTERM and a full disk leave the live
# images intact and never a partial archive that looks complete.
TEST_NAME=archive
. "$(dirname "$0")/lib.sh"

# archive_dir: the archive of the current base, as vm names it.
archive_dir() { echo "t-$(date -r t-base.qcow2 +%Y%m%d%H%M%S)"; }
# initialised NAME: a machine with base and backing, and guest data in the
# backing file (0xcd at 8M).
initialised() {
	new_machine "$1"
	"$VM" init >/dev/null || exit 1
	write t-backing.qcow2 0xcd 8M
}

echo "# --create"
initialised create
run archive --create
dir=$(archive_dir)
check "archive --create succeeds ($err)" test "$rc" = 0
check "the archive is named after the base's mtime ($dir)" test -d "$dir"
check "it holds the base and the backing file, nothing else" \
	test "$(ls -A "$dir" | xargs)" = "t-backing.qcow2 t-base.qcow2"
check "the guest's data was committed into the live base" reads t-base.qcow2 0xcd 8M
check "the archived base holds the guest's data" reads "$dir/t-base.qcow2" 0xcd 8M
check "the archived base holds the seed's data" reads "$dir/t-base.qcow2" 0xab 0
check "the archived base equals the live one" cmp -s t-base.qcow2 "$dir/t-base.qcow2"
check "the archived backing file sits on the archived base, by relative name" \
	test "$(backing_of "$dir/t-backing.qcow2")" = t-base.qcow2
check "the live backing file is fresh and empty" test "$(allocates t-backing.qcow2)" = 0
check "the live backing file still shows the guest's data" reads t-backing.qcow2 0xcd 8M
check "no temporary files or directories are left" only_files "$dir" t-backing.qcow2 t-base.qcow2 t-seed.qcow2
cp .vmrc "$dir/"
(cd "$dir" && "$VM" init -t >"$work/in-archive" 2>&1)
check "the archive is a machine directory: vm finds its images there" \
	contains "$(cat "$work/in-archive")" "initialised"
check "its images are clean" clean "$dir/t-backing.qcow2"

echo "# the same base again"
mtime=$(stat -c %Y t-base.qcow2)
run archive --create
check "a second --create on an unchanged base is refused" test "$rc" = 1
check "the refusal names the existing archive and the update" \
	contains "$err" "archive $dir exists already"
check "the existing archive is untouched" cmp -s t-base.qcow2 "$dir/t-base.qcow2"
check "no partial directory is left" test -z "$(ls -A | grep partial)"

echo "# refusals before anything is done"
initialised refusals
write t-backing.qcow2 0xce 9M
before=$(stat -c %Y.%i t-base.qcow2 t-backing.qcow2 | xargs)
unchanged() { test "$(stat -c %Y.%i t-base.qcow2 t-backing.qcow2 | xargs)" = "$before" && reads t-backing.qcow2 0xce 9M && only_files t-backing.qcow2 t-base.qcow2 t-seed.qcow2; }
run archive --create --savevm x
check "--savevm with --create is refused" test "$rc" = 1
check "... saying why" contains "$err" "--create needs it stopped"
run archive --create --delvm x
check "--delvm with --create is refused" test "$rc" = 1
run archive --create --compress-base
check "--compress-base without --compress is refused" test "$rc" = 1
check "... naming --compress" contains "$err" "--compress-base needs --compress"
run archive --force
check "--force without --create is refused" test "$rc" = 1
run archive --create --compress rar
check "an unknown compressor is refused" test "$rc" = 1
check "... listing the known ones" contains "$err" "choose xz, gzip, bzip2, lz4 or zstd"
mkdir -p "$work/bin"
ln -sf "$(command -v qemu-img)" "$work/bin/qemu-img"
out=$(PATH=$work/bin "$VM" archive --create --compress zstd 2>&1) && rc=0 || rc=$?
check "a missing compressor is refused before starting" test "$rc" = 1
check "... saying what to install ($out)" contains "$out" "zstd not found: install it (Debian: apt-get install zstd)"
check "nothing was changed by the refusals" unchanged

echo "# refused while the machine runs"
hold_lock 42
run archive --create
check "--create is refused while the machine runs" test "$rc" = 1
check "... saying so with the pid" contains "$err" "t is running (pid $holder); stop it first"
release_lock
check "nothing was changed" unchanged

echo "# the update needs the machine running"
run archive
check "an update of a stopped machine is refused" test "$rc" = 1
check "... saying what to do" contains "$err" "t is not running; an update copies the running machine's backing file: start it (vm start), or use --create"
check "nothing was changed" unchanged

echo "# a machine without snapshots"
new_machine single VM_USE_SNAPSHOTS=no
run archive --create
check "archive refuses a machine with VM_USE_SNAPSHOTS=no" test "$rc" = 1
check "... naming its single image" contains "$err" "has the single image t.qcow2"
cd "$work/refusals" || exit 1

echo "# other overlays on the base"
qemu-img create -q -f qcow2 -b t-base.qcow2 -F qcow2 other.qcow2
qemu-img create -q -f qcow2 -b t-seed.qcow2 -F qcow2 unrelated.qcow2
echo "not an image" >notes.qcow2
run archive --create
check "--create refuses to commit under another overlay" test "$rc" = 1
check "... naming it, and only it" contains "$err" "other.qcow2 uses t-base.qcow2 as backing file"
check "... and --force" contains "$err" "use --force"
check "the base is not committed into" test "$(stat -c %Y.%i t-base.qcow2 t-backing.qcow2 | xargs)" = "$before"
run archive --create --force
check "--force commits anyway ($err)" test "$rc" = 0
check "... with a warning naming the overlay" contains "$err" "other.qcow2"
check "the archive holds the data" reads "$(archive_dir)/t-base.qcow2" 0xce 9M
rm other.qcow2 unrelated.qcow2 notes.qcow2

echo "# saved states in the backing file"
initialised states
qemu-img snapshot -c before-archive t-backing.qcow2
run archive --create
check "--create refuses to lose saved states" test "$rc" = 1
check "... naming them" contains "$err" "saved states (before-archive)"
check "no archive was made" test ! -e "$(archive_dir)"
run archive --create --force
check "--force archives anyway ($err)" test "$rc" = 0

echo "# a backing file that is not on the base"
initialised stranger
qemu-img create -q -f qcow2 -b t-seed.qcow2 -F qcow2 t-backing.qcow2
run archive --create
check "--create refuses to commit into another image" test "$rc" = 1
check "... saying what the backing file is on" contains "$err" "is not made on t-base.qcow2 (its backing file is t-seed.qcow2)"

echo "# every compressor round-trips"
initialised compress
declare -A ext=([xz]=xz [gzip]=gz [bzip2]=bz2 [lz4]=lz4 [zstd]=zst)
for z in xz gzip bzip2 lz4 zstd; do
	write t-backing.qcow2 0xcd 8M
	run archive --create --compress "$z" --compress-base
	dir=$(archive_dir)
	check "$z: archive --create -z $z -b succeeds ($err)" test "$rc" = 0
	check "$z: both files are compressed" \
		test "$(ls -A "$dir" | xargs)" = "t-backing.qcow2.${ext[$z]} t-base.qcow2.${ext[$z]}"
	mkdir -p "$work/unpacked-$z"
	for f in t-base t-backing; do
		"$z" -dc "$dir/$f.qcow2.${ext[$z]}" >"$work/unpacked-$z/$f.qcow2"
	done
	check "$z: the decompressed base is clean" clean "$work/unpacked-$z/t-base.qcow2"
	check "$z: the decompressed backing file is clean" clean "$work/unpacked-$z/t-backing.qcow2"
	check "$z: the decompressed base holds the guest's data" reads "$work/unpacked-$z/t-base.qcow2" 0xcd 8M
	check "$z: the decompressed base equals the live one" cmp -s t-base.qcow2 "$work/unpacked-$z/t-base.qcow2"
	# The next round writes into the base again, maybe within the same second.
	mv "$dir" "$work/archive-$z"
done
write t-backing.qcow2 0xcd 8M
run archive --create --compress zstd
dir=$(archive_dir)
check "-z without -b compresses only the backing file" \
	test "$(ls -A "$dir" | xargs)" = "t-backing.qcow2.zst t-base.qcow2"

echo "# kill -9 during the copy"
new_machine killed
rm t-seed.qcow2
qemu-img create -q -f qcow2 t-seed.qcow2 2G
qemu-io -c 'write -P 0x11 0 400M' t-seed.qcow2 >/dev/null
"$VM" init >/dev/null
write t-backing.qcow2 0xcd 8M
"$VM" archive --create &
pid=$!
check "the copy gets under way" wait_for_temp ".t-*.partial/.t-base.qcow2.tmp-*"
kill -KILL "$pid"
wait "$pid" 2>/dev/null
dir=$(archive_dir)
check "no archive directory appears" test ! -e "$dir"
check "what is left is hidden and named partial" test -d ".$dir.partial"
check "the live base is clean" clean t-base.qcow2
check "the live backing file is clean" clean t-backing.qcow2
check "the guest still sees its data" reads t-backing.qcow2 0xcd 8M
check "... and the seed's" reads t-backing.qcow2 0x11 100M
run archive --create -v
check "the next --create works ($err)" test "$rc" = 0
check "... and says it removed the left-over ($err)" contains "$err" "removed .$dir.partial, left unfinished by an interrupted vm archive"
check "the archive is complete" cmp -s t-base.qcow2 "$dir/t-base.qcow2"
check "no partial directory is left" test -z "$(ls -A | grep partial)"

echo "# SIGTERM during the copy"
rm -rf "$dir"
write t-backing.qcow2 0xce 9M
"$VM" archive --create &
pid=$!
check "the copy gets under way" wait_for_temp ".t-*.partial/.t-base.qcow2.tmp-*"
kill -TERM "$pid"
wait "$pid" && rc=0 || rc=$?
check "vm dies of SIGTERM (status $rc)" test "$rc" = 143
check "nothing is left of the archive" only_files t-backing.qcow2 t-base.qcow2 t-seed.qcow2
check "the live backing file is clean and shows the data" eval 'clean t-backing.qcow2 && reads t-backing.qcow2 0xce 9M'

echo "# a full disk during the copy"
if [ "$(id -u)" = 0 ]; then
	small_disk_machine 16M
	qemu-img create -q -f qcow2 t-base.qcow2 64M
	qemu-io -c 'write -P 0xab 0 9M' t-base.qcow2 >/dev/null
	qemu-img create -q -f qcow2 -b t-base.qcow2 -F qcow2 t-backing.qcow2
	write t-backing.qcow2 0xcd 12M
	run archive --create
	check "--create fails" test "$rc" = 1
	check "the message says the archive was not made and why ($err)" \
		contains "$err" "archive $(archive_dir) not made: cannot write"
	check "the message says what to do ($err)" contains "$err" "No space left on device (the copy needs up to"
	check "no archive, no partial directory, no temporary file" only_files t-backing.qcow2 t-base.qcow2
	check "the live base is clean" clean t-base.qcow2
	check "the live backing file is clean" clean t-backing.qcow2
	check "the guest's data is there" eval 'reads t-backing.qcow2 0xcd 12M && reads t-backing.qcow2 0xab 0'
	leave_small_disk
else
	echo "SKIP: a full disk (mounting a small tmpfs needs root)"
fi

finish
