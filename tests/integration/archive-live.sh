#!/bin/bash
# vm archive's live update on the real test guest: the guest keeps
# answering while its backing file (grown past 256 MiB by a saved state) is
# copied (a host-side probe of an echo service in the guest, every 20 ms),
# and is never stopped; the copy is the image as it was, saved
# states included; vm killed at each step (VM_TEST_STOP_AT stops it there,
# then SIGKILL) and after the merge, the emulator killed with the overlay in
# use and while the merge completes, and a full archive disk: the next
# command merges the overlay back (or removes it once merged) and says so,
# and no write of the guest is lost.
TEST_NAME=archive-live
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/guest.sh"

probe_py=$(dirname "$0")/live_probe.py
bg= probe=
trap '[ -n "$probe" ] && kill "$probe"; [ -n "$bg" ] && kill -KILL "$bg"; guest_cleanup' EXIT

ID=$(free_id 80)
live=$work/live
mon2=$work/mon2.sock
# A second monitor, for the probe's view of the emulator's events.
echo_port=$((24000 + ID))
guest_machine "$live" tg $ID VM_MACHINE_MEM=384 "VM_NET_FORWARD=\"$echo_port:5353/udp\"" \
	"VM_QEMU_EXTRA=\"\$VM_QEMU_EXTRA -chardev socket,id=mon2,path=$mon2,server=on,wait=off -mon chardev=mon2,mode=control\""
machines+=("$live")
overlay=.tg-backing.qcow2.archive-overlay

# probe_start / probe_stop: the host-side probe (live_probe.py) around a step.

probe_start() {
	"$probe_py" "$echo_port" "$mon2" "$work/probe.out" >"$work/probe.ready" &
	probe=$!
	local i
	for ((i = 0; i < 1000; i++)); do
		grep -q ready "$work/probe.ready" 2>/dev/null && return 0
		sleep 0.01
	done
	return 1
}
probe_stop() {
	kill -TERM "$probe" && wait "$probe"
	probe=
}
probed() { sed -n "s/^$1 //p" "$work/probe.out"; }
# stopped PID: the process is stopped (it reached its VM_TEST_STOP_AT point).
stopped() {
	local i
	for ((i = 0; i < 6000; i++)); do
		[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = T ] && return 0
		sleep 0.01
	done
	return 1
}
# archive_stopped_at POINT: vm archive, run until it stops at POINT.
archive_stopped_at() {
	VM_TEST_STOP_AT=$1 "$VM" archive >"$work/bg.out" 2>&1 &
	bg=$!
	stopped "$bg"
}
tmp_count() { find "$dir" -name '.tg-backing-*.tmp-*' | wc -l; }

echo "# a running machine with a backing file of at least 256 MiB"
require "vm init" vmt init
require "vm archive --create" vmt archive --create
dir=tg-$(date -r tg-base.qcow2 +%Y%m%d%H%M%S)
require "vm start --nat" vmt start --nat
require "the guest's echo service runs" in_guest '(udpecho 5353 </dev/null >/dev/null 2>&1 &)'
# Pages of data in the guest's memory make its saved state big.
fill='for d in /dev/shm /tmp; do dd if=/dev/zero bs=1M count=140 2>/dev/null | tr "\0" x >$d/fill; done'
require "the guest fills 280 MiB of memory (two tmpfs)" in_guest "$fill"
require "vm cmd savevm grow" vmt cmd savevm grow
in_guest 'rm /dev/shm/fill /tmp/fill'
size=$(stat -c %s tg-backing.qcow2)
require "the backing file has grown to $((size >> 20)) MiB" test "$size" -ge $((256 << 20))
check "the guest writes a file" in_guest 'echo before-update >m1 && sync'

echo "# the probe's own noise, the guest idle"
require "the probe is watching" probe_start
sleep 2
probe_stop
echo "# (longest wait for an answer $(probed max_wait) s in $(probed probes) probes)"

echo "# an update while the guest runs (vm stopped halfway through the copy)"
require "the probe is watching" probe_start
archive_stopped_at copy
check "vm stops halfway through the copy" test -e "$overlay"
check "the guest writes into the overlay meanwhile" in_guest 'echo during-copy >m2 && sync'
kill -CONT "$bg"
wait "$bg" && rc=0 || rc=$?
check "vm archive ($(cat "$work/bg.out"))" test "$rc" = 0
probe_stop
check "the guest never took more than 0.5 s to answer ($(probed max_wait) s, $(probed probes) probes)" \
	awk -v w="$(probed max_wait)" 'BEGIN { exit !(w <= 0.5) }'
check "the guest was never stopped (no STOP event; $(probed stops))" test "$(probed stops)" = 0
check "the overlay was merged back (BLOCK_JOB_COMPLETED)" contains "$(probed event)" BLOCK_JOB_COMPLETED
copy=$(cd "$dir" && ls tg-backing-*.qcow2 | head -n 1)
check "the copy is in the archive ($copy)" test -n "$copy"
check "no overlay is left" test ! -e "$overlay"
check "the copy is clean" clean "$dir/$copy"
live_states=$(qemu-img snapshot -U -l tg-backing.qcow2 | awk 'NR > 2 { print $2 }' | xargs)
copy_states=$(qemu-img snapshot -l "$dir/$copy" | awk 'NR > 2 { print $2 }' | xargs)
check "the copy has the live backing file's saved states ($copy_states)" \
	test "$copy_states" = "$live_states" -a -n "$copy_states"
check "the guest still has both files" test "$(in_guest cat m1 m2 | xargs)" = "before-update during-copy"
require "the guest runs" contains "$(vmt cmd info status)" "running"

echo "# vm cmd savevm while an update runs never writes into the overlay"
archive_stopped_at overlay
timeout 60 "$VM" cmd savevm during >/dev/null 2>"$work/cmd.err" && rc=0 || rc=$?
check "it is refused ($(cat "$work/cmd.err"))" test "$rc" != 0
check "the overlay has no saved state" test -z "$(qemu-img snapshot -U -l "$overlay")"
kill -CONT "$bg"
wait "$bg" && rc=0 || rc=$?
check "the update goes on ($(cat "$work/bg.out"))" test "$rc" = 0
check "the guest runs" in_guest true

echo "# SIGKILL at each step; the next command merges the overlay and says so"
for point in overlay copy merge; do
	archive_stopped_at "$point"
	check "[$point] vm stopped there" test -e "$overlay"
	check "[$point] the guest writes meanwhile" in_guest "echo $point >k-$point && sync"
	kill -KILL "$bg"
	wait "$bg" 2>/dev/null
	check "[$point] the guest still runs" in_guest true
	if [ "$point" = merge ]; then
		run stop -s killed
		check "[$point] vm stop -s killed ($err)" test "$rc" = 0
	else
		run status -s
	fi
	check "[$point] ... says it merged the overlay ($err)" \
		contains "$err" "found the overlay $live/$overlay that an interrupted vm archive left: the guest's writes in it are merged back"
	check "[$point] no overlay is left" test ! -e "$overlay"
done
check "the saved state went into the backing file" \
	contains "$(qemu-img snapshot -l tg-backing.qcow2)" " killed "
check "the backing file is clean" clean tg-backing.qcow2
require "vm start" vmt start --nat
check "the guest has what it wrote at each step" \
	test "$(in_guest cat k-overlay k-copy k-merge | xargs)" = "overlay copy merge"

echo "# the next update removes the killed ones' temporary files"
before=$(tmp_count)
check "the killed updates left temporary files ($before)" test "$before" -gt 0
run archive
check "vm archive ($err)" test "$rc" = 0
check "... says it removed them" contains "$err" "left by an interrupted vm archive"
check "none is left" test "$(tmp_count)" = 0

echo "# the emulator dies with the overlay in use; vm start merges it"
archive_stopped_at overlay
in_guest 'echo emulator-died >k-died && sync'
kill -KILL "$bg"
wait "$bg" 2>/dev/null
qemu=$(qemu_pid "$ID")
kill -KILL "$qemu"
for ((i = 0; i < 100; i++)); do gone "$qemu" && break; sleep 0.1; done
check "the overlay file is there" test -e "$overlay"
run start --nat
check "vm start ($err)" test "$rc" = 0
check "... says it merged the overlay" contains "$err" "found the overlay"
check "no overlay is left" test ! -e "$overlay"
check "the guest has what it wrote on the overlay" test "$(in_guest cat k-died)" = emulator-died

echo "# the emulator dies while vm completes the merge; no write is lost"
# vm stops once the merge is ready, the guest writes 4 MiB more, and the
# emulator is killed as soon as vm has asked QEMU to complete the merge.
# QEMU moves the guest onto the disk only when vm finalizes the job, which
# it has not. Whether QEMU had made the job pending (the disk holding it
# all) is QEMU's timing: vm then names the overlay merged, from the events
# QEMU sent before it ended, and the next command removes it; if not, the
# next command writes it into the disk (unit test overlay drives both).
# late_write: the guest writes 4 MiB into k-late; sets sum to their md5.
late_write() { sum=$(in_guest 'dd if=/dev/urandom of=k-late bs=64k count=64 conv=fsync 2>/dev/null && md5sum <k-late'); }
# archive_killed_completing: vm archive stopped once the merge is ready, the
# guest writes 4 MiB into the overlay (late_write), and vm killed once it
# has asked QEMU to complete the merge.
archive_killed_completing() {
	archive_stopped_at ready,completing
	late_write
	kill -CONT "$bg"
	stopped "$bg"
	kill -KILL "$bg"
	wait "$bg" 2>/dev/null
}
# kill_emulator: SIGKILL to the emulator, and wait until it is gone.
kill_emulator() {
	qemu=$(qemu_pid "$ID")
	kill -KILL "$qemu"
	for ((i = 0; i < 100; i++)); do gone "$qemu" && return 0; sleep 0.1; done
	echo "# the emulator ($qemu) is not gone: $(grep ^State "/proc/$qemu/status" 2>&1)"
	return 1
}
archive_stopped_at ready,completing
check "vm stops once the merge is ready" test -e "$overlay"
late_write
check "the guest writes 4 MiB into the overlay ($sum)" test -n "$sum"
kill -CONT "$bg"
check "vm stops with the merge completing" stopped "$bg"
kill_emulator
kill -CONT "$bg"
wait "$bg" && rc=0 || rc=$?
out=$(cat "$work/bg.out")
# QEMU wrote only its notice that it created the overlay: not a cause.
check "vm archive fails, saying the emulator died, killed ($out)" \
	bash -c '[ "$1" = 1 ] && grep -qF "the emulator of tg died (killed, or it crashed" <<<"$2" &&
		! grep -qF "Formatting" <<<"$2"' _ "$rc" "$out"
check "... and leaves the overlay to the next command" test -e "$overlay"
run start --nat
check "vm start ($err)" test "$rc" = 0
check "no overlay is left" eval '! ls -A | grep -q archive-overlay'
check "the guest has its last 4 MiB" test "$(in_guest 'md5sum <k-late')" = "$sum"

echo "# vm killed as the merge completes: the next command finishes it"
# QEMU then holds the merge, pending, with the guest's disk writes, until a
# vm command finalizes it.
archive_killed_completing
run status -s
check "vm status finishes the merge, saying so ($err)" \
	contains "$err" "found the overlay $live/$overlay that an interrupted vm archive left: the guest's writes in it are merged back"
check "... no overlay is left" eval '! ls -A | grep -q archive-overlay'
check "... and the guest writes to its disk again" in_guest 'echo again >k-again && sync'
check "the guest has its last 4 MiB" test "$(in_guest 'md5sum <k-late')" = "$sum"

echo "# vm killed as the merge completes, then the emulator dies: no write is lost"
archive_killed_completing
kill_emulator
check "the overlay has no second name" test -e "$overlay" -a ! -e "$overlay.merged"
run start --nat
check "vm start writes the overlay into the disk ($err)" \
	contains "$err" "$overlay that an interrupted vm archive left: the guest's writes in it are merged back"
check "no overlay is left" eval '! ls -A | grep -q archive-overlay'
check "the guest has its last 4 MiB" test "$(in_guest 'md5sum <k-late')" = "$sum"

echo "# vm killed just before it finalizes the merge, then the emulator dies"
# The job was pending: the disk held all of the overlay, and QEMU the
# guest's new writes. The overlay has its second name: it is removed.
archive_stopped_at ready,finalizing
late_write
kill -CONT "$bg"
check "vm stops with the merge pending" stopped "$bg"
check "the overlay has its second name" test -e "$overlay.merged"
kill -KILL "$bg"
wait "$bg" 2>/dev/null
kill_emulator
run start --nat
check "vm start removes the overlay, saying so ($err)" \
	contains "$err" "$overlay, left by an interrupted vm archive after its writes were merged back"
check "no overlay is left" eval '! ls -A | grep -q archive-overlay'
check "the guest has its last 4 MiB" test "$(in_guest 'md5sum <k-late')" = "$sum"

echo "# vm killed between the merge and the overlay's removal"
# The overlay is out of the chain by then and the guest writes to the disk
# again: the overlay's older blocks must never be written over those.
stale="$overlay, left by an interrupted vm archive after its writes were merged back"
archive_stopped_at merged
kill -KILL "$bg"
wait "$bg" 2>/dev/null
check "the overlay file is left" test -e "$overlay"
run status -s
check "with the emulator running, vm status removes it, saying so ($err)" contains "$err" "removed $live/$stale"
check "... no overlay is left" eval '! ls -A | grep -q archive-overlay'
# overwrite_late CHAR: the guest writes CHAR over the same 1 MiB of its file late.
overwrite_late() { in_guest "dd if=/dev/zero bs=64k count=16 2>/dev/null | tr '\\0' $1 | dd of=late bs=64k conv=notrunc,fsync 2>/dev/null"; }
overwrite_late a
archive_stopped_at copy,merged
overwrite_late b
kill -CONT "$bg"
stopped "$bg"
kill -KILL "$bg"
wait "$bg" 2>/dev/null
check "killed after the merge again: the overlay file is left" test -e "$overlay"
overwrite_late c
run kill
check "with the emulator gone, vm kill removes it, saying so ($err)" contains "$err" "removed $stale"
check "... no overlay is left" eval '! ls -A | grep -q archive-overlay'
check "... the backing file is not corrupt" sound tg-backing.qcow2
qemu-img check -q -r leaks tg-backing.qcow2 >/dev/null 2>&1
require "vm start" vmt start --nat
check "the guest's write after the merge is there, not the overlay's" \
	test "$(in_guest "tr -d c <late | wc -c")" = 0
# The killed updates' unfinished copies (the next archive would remove them).
rm -f "$dir"/.tg-backing-*.tmp-*

echo "# a full archive disk during the copy"
if [ "$(id -u)" = 0 ]; then
	mkdir "$work/saved"
	cp -a "$dir/." "$work/saved/"
	mount -t tmpfs -o size=$(($(du -sm "$dir" | cut -f1) + 40))M tmpfs "$dir"
	mnt=$live/$dir
	cp -a "$work/saved/." "$dir/"
	run archive
	check "vm archive fails" test "$rc" = 1
	check "... saying why ($err)" contains "$err" "No space left on device"
	check "no overlay is left" test ! -e "$overlay"
	check "no temporary file is left" test "$(tmp_count)" = 0
	check "the guest runs" contains "$(vmt cmd info status)" "running"
	check "... and answers" in_guest true
	cd "$live" && umount "$dir" && mnt=
else
	echo "SKIP: a full disk (mounting a small tmpfs needs root)"
fi

echo "# vm status tells of a paused guest and how to resume it"
vmt cmd stop >/dev/null
run status -s
check "vm status says so ($out)" contains "$out" "guest paused: resume it with 'vm cmd cont'"
vmt cmd cont >/dev/null
check "... and vm cmd cont resumes it" contains "$(vmt cmd info status)" "running"

require "vm stop -p" vmt stop -p
check "the backing file is clean after the stop" clean tg-backing.qcow2
finish
