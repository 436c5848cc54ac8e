#!/bin/bash
# The longest freeze of the guest during an update of a 1 GiB backing file,
# as the host sees it: a probe times the answers of an echo service in the
# guest every 20 ms (tests/integration/live_probe.py). Side by side in the same run:
#   live   vm archive (overlay, copy while the guest runs, live merge)
#   pause  what vm archive did before: pause the guest (QMP stop), copy the
#          backing file with vm's own copy (copy-file: image_copy, as the
#          old update did), resume it (cont)
# and the probe's noise with nothing going on; then vm archive -s, whose
# savevm pauses the guest (QEMU's own pause, which vm reports), apart.
TEST_NAME=bench-archive-live
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
. "$here/../integration/guest.sh"
ID=$(free_id $((50 + RANDOM % 40)))
probe_py=$here/../integration/live_probe.py
mon2=$work/mon2.sock
echo_port=$((24000 + ID))
guest_machine "$work/tb" tb $ID VM_MACHINE_MEM=1400 "VM_NET_FORWARD=\"$echo_port:5353/udp\"" \
	"VM_QEMU_EXTRA=\"\$VM_QEMU_EXTRA -chardev socket,id=mon2,path=$mon2,server=on,wait=off -mon chardev=mon2,mode=control\""
machines+=("$work/tb")
fail() { echo "FAIL: $*"; exit 1; }
copy_file=${VM_COPY_FILE:?VM_COPY_FILE must name the copy-file benchmark tool}
"$VM" init >/dev/null && "$VM" archive --create >/dev/null && "$VM" start --nat >/dev/null ||
	fail "cannot prepare the guest"
"$VM" ssh '(udpecho 5353 </dev/null >/dev/null 2>&1 &)' || fail "cannot start the echo service"
dir=tb-$(date -r tb-base.qcow2 +%Y%m%d%H%M%S)
# A saved state of a guest with 1 GiB of data in memory makes the backing file.
"$VM" ssh 'for d in /dev/shm /tmp; do dd if=/dev/zero bs=1M count=520 2>/dev/null | tr "\0" x >$d/fill; done' &&
	"$VM" cmd savevm grow >/dev/null && "$VM" ssh 'rm /dev/shm/fill /tmp/fill' ||
	fail "cannot grow the backing file"
size_mib=$(($(stat -c %s tb-backing.qcow2) >> 20))

# probed COMMAND...: runs it under the probe; prints "MAX_WAIT STOPS".
probed() {
	"$probe_py" "$echo_port" "$mon2" "$work/probe.out" >"$work/probe.ready" &
	local p=$! i
	for ((i = 0; i < 1000; i++)); do
		grep -q ready "$work/probe.ready" 2>/dev/null && break
		sleep 0.01
	done
	sleep 0.5
	"$@" >"$work/probed.out" || fail "$*"
	sleep 0.5
	kill -TERM "$p" && wait "$p"
	echo "$(sed -n 's/^max_wait //p' "$work/probe.out") $(sed -n 's/^stops //p' "$work/probe.out")"
}
pause_and_copy() {
	"$VM" cmd stop && "$copy_file" tb-backing.qcow2 "$dir/paused.qcow2" && "$VM" cmd cont
}
sync
read -r idle _ < <(probed sleep 2)
sync
read -r live live_stops < <(probed "$VM" archive)
sync
read -r pause pause_stops < <(probed pause_and_copy)
sync
read -r saved saved_stops < <(probed "$VM" archive -s bench)
savevm=$(sed -n 's/.*the guest was paused \([0-9.]*\) s for it.*/\1/p' "$work/probed.out")
printf 'backing file: %d MiB; longest wait for the guest to answer:\n' "$size_mib"
printf '  idle guest            %6.3f s\n' "$idle"
printf '  vm archive (live)     %6.3f s  (%s STOP events)\n' "$live" "$live_stops"
printf '  pause, copy, resume   %6.3f s  (%s STOP events)\n' "$pause" "$pause_stops"
printf '  vm archive -s (live)  %6.3f s  (%s STOP events; its savevm paused the guest %s s)\n' \
	"$saved" "$saved_stops" "$savevm"
awk -v l="$live" -v p="$pause" 'BEGIN { printf "ratio live / pause-and-copy: %.3f\n", l / p }'
"$VM" stop -p >/dev/null
