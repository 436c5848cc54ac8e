#!/bin/bash
# vm archive on the real test guest: the archive --create makes boots in
# place with the data written before it; an update with -s and -d leaves
# the guest running and reachable, the copy without the deleted state and
# with the data written before the update (booted to be sure).
TEST_NAME=archive-guest
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/guest.sh"


ID=$(free_id 80)
live=$work/live
restore=$work/restore

echo "# a machine with data, archived with --create"
guest_machine "$live" tg $ID
machines+=("$live")
require "vm init" vmt init
require "vm start --nat" vmt start --nat
check "the guest writes a file" in_guest 'echo before-archive >marker && sync'
require "vm stop -p" vmt stop -p
run archive --create
dir=tg-$(date -r tg-base.qcow2 +%Y%m%d%H%M%S)
require "vm archive --create ($err)" test "$rc" = 0

echo "# the archive boots in place"
cp .vmrc "$dir/"
machines+=("$live/$dir")
cd "$dir" || exit 1
require "vm start in the archive directory" vmt start --nat
check "the file written before the archive is there" \
	test "$(in_guest cat marker 2>&1)" = before-archive
check "vm stop -p in the archive" vmt stop -p
cd "$live" || exit 1

echo "# an update of the running machine with -s and -d"
require "vm start --nat" vmt start --nat
check "the guest writes another file" in_guest 'echo before-update >marker2 && sync'
run archive --savevm upd --delvm upd -v
require "vm archive -s upd -d upd ($err)" test "$rc" = 0
check "... says how long the guest was paused for the state" \
	grep -qE '^saved the state upd; the guest was paused [0-9]+\.[0-9] s for it$' <<<"$out"
copy=$(cd "$dir" && ls tg-backing-*.qcow2 2>/dev/null | head -n 1)
check "the copy is in the archive, named with its own time ($copy)" test -n "$copy"
check "the live machine keeps running" contains "$(vmt cmd info status 2>&1)" "running"
check "ssh works afterwards" in_guest true
check "the live backing file has the saved state upd" \
	contains "$(qemu-img snapshot -U -l tg-backing.qcow2)" " upd "
snapshots=$(qemu-img snapshot -l "$dir/$copy" 2>&1) && rc=0 || rc=$?
check "qemu-img snapshot -l reads the archived copy ($snapshots)" test "$rc" = 0
check "the archived copy has no state upd" eval '! contains "$snapshots" " upd "'
check "the archived copy is clean" clean "$dir/$copy"
run archive --delvm nosuch
check "-d of a state the backing file does not have is refused" test "$rc" = 1
check "... naming the states it has" contains "$err" "no saved state 'nosuch' to delete from the copy (it has: upd)"

echo "# a compressed update"
run archive --compress zstd
check "vm archive -z zstd ($err)" test "$rc" = 0
zst=$(cd "$dir" && ls tg-backing-*.qcow2.zst 2>/dev/null | head -n 1)
check "the copy is compressed ($zst)" test -n "$zst"
zstd -dcq "$dir/$zst" >"$dir/unpacked.qcow2"
check "the decompressed copy is clean" clean "$dir/unpacked.qcow2"
check "... and has the saved state upd" contains "$(qemu-img snapshot -l "$dir/unpacked.qcow2")" " upd "
rm "$dir/unpacked.qcow2"

echo "# SIGTERM during the copy"
"$VM" archive &
pid=$!
check "the copy gets under way" wait_for_temp "$dir/.tg-backing-*.tmp-*"
kill -TERM "$pid"
wait "$pid" && rc=0 || rc=$?
check "vm dies of SIGTERM (status $rc)" test "$rc" = 143
check "the overlay was merged back first" test ! -e .tg-backing.qcow2.archive-overlay
check "the guest runs" contains "$(vmt cmd info status 2>&1)" "running"
check "ssh works" in_guest true
check "no temporary file is left in the archive" test -z "$(ls -A "$dir" | grep '\.tmp-')"
require "vm stop -p" vmt stop -p

echo "# the copy boots with the data written before the update"
guest_machine "$restore" tg $ID
machines+=("$restore")
rm tg-seed.qcow2
cp "$live/$dir/tg-base.qcow2" tg-base.qcow2
cp "$live/$dir/$copy" tg-backing.qcow2
require "vm start on the archived copy" vmt start --nat
check "the file written before the update is there" \
	test "$(in_guest cat marker2 2>&1)" = before-update
check "... and the one written before the archive" \
	test "$(in_guest cat marker 2>&1)" = before-archive
require "vm stop -p" vmt stop -p
cd "$live" || exit 1

finish
