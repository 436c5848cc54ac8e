#!/bin/bash
# What vm adds to the emulator's own work, as ratios measured in the same
# run on the real test guest:
#   cmd    vm cmd info status    against a bare QMP round trip
#   start  vm start -l ready     against the same emulator started by hand,
#                                its SSH banner polled, then one ssh login
#   stop   vm stop -s NAME       against the savevm alone
TEST_NAME=bench-lifecycle
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
. "$here/../integration/guest.sh"
ROUNDS=${BENCH_ROUNDS:-20}
ID=$(free_id $((50 + RANDOM % 40)))
now() { date +%s.%N; }
ms() { awk -v a="$1" -v b="$2" -v n="${3:-1}" 'BEGIN { printf "%.1f", (b - a) * 1000 / n }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

guest_machine "$work/tb" tb $ID
machines+=("$work/tb")
"$VM" init >/dev/null && "$VM" start --nat >/dev/null && "$VM" stop -s ready >/dev/null ||
	{ echo "FAIL: cannot prepare the guest"; exit 1; }
sock=$(runtime_dir $ID)/qmp.sock

# cmd: vm (a whole process: configuration, runtime directory, QMP) against
# the round trip alone.
"$VM" start --nat -l ready >/dev/null || exit 1
bare=$(python3 "$here/qmp_bare.py" "$sock" "info status" "$ROUNDS")
t0=$(now)
for ((i = 0; i < ROUNDS; i++)); do "$VM" cmd info status >/dev/null || exit 1; done
vm_cmd=$(ms "$t0" "$(now)" "$ROUNDS")
echo "cmd: vm cmd info status ${vm_cmd} ms, bare QMP round trip ${bare} ms, ratio $(ratio "$vm_cmd" "$bare")"

# The rest repeats each measurement, alternating vm and the baseline, and
# compares medians: the machine may be busy with other work.
REPEAT=${BENCH_REPEAT:-3}
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# stop: the savevm alone (through a bare client), then vm stop -s, which
# also suspends the guest, quits the emulator and syncs.
bare_saves=() vm_stops=()
for ((r = 0; r < REPEAT; r++)); do
	"$VM" status -q || "$VM" start --nat -l ready >/dev/null || exit 1
	t0=$(now)
	python3 "$here/qmp_bare.py" "$sock" "savevm bench-bare" 1 >/dev/null
	bare_saves+=("$(ms "$t0" "$(now)")")
	t0=$(now)
	"$VM" stop -s bench-vm >/dev/null || exit 1
	vm_stops+=("$(ms "$t0" "$(now)")")
done
vm_stop=$(median "${vm_stops[@]}") bare_save=$(median "${bare_saves[@]}")
echo "stop: vm stop -s ${vm_stop} ms, savevm alone ${bare_save} ms, ratio $(ratio "$vm_stop" "$bare_save")"

# start: the emulator by hand with vm's own command line, the SSH banner
# polled every 50 ms, then one ssh login (the guest's own ready time),
# against vm start.
cmdline=$("$VM" start --nat -l ready -v | sed -n 's/^\[[^]]*\] starting //p')
"$VM" kill >/dev/null
ssh_opts=(-T -o BatchMode=yes -o ConnectTimeout=5 -o LogLevel=ERROR -p 22$ID -i "$GUEST_KEY"
	-o UserKnownHostsFile="$work/known_hosts" -l "$GUEST_USER" 127.0.0.1)
bare_starts=() vm_starts=()
for ((r = 0; r < REPEAT; r++)); do
	t0=$(now)
	eval "setsid $cmdline" >/dev/null 2>&1 &
	python3 "$here/banner_wait.py" "22$ID" && ssh "${ssh_opts[@]}" true 2>/dev/null
	ready=$?
	bare_starts+=("$(ms "$t0" "$(now)")")
	# Not started by vm, so not under its lock: by its pid file.
	pid=$(qemu_pid $ID)
	kill "$pid"
	[ "$ready" = 0 ] || { echo "FAIL: the emulator started by hand never answered ssh"; exit 1; }
	for ((i = 0; i < 100; i++)); do gone "$pid" && break; sleep 0.1; done
	t0=$(now)
	"$VM" start --nat -l ready >/dev/null || exit 1
	vm_starts+=("$(ms "$t0" "$(now)")")
	"$VM" kill >/dev/null
done
vm_start=$(median "${vm_starts[@]}") bare_start=$(median "${bare_starts[@]}")
echo "start: vm start -l ${vm_start} ms, emulator + ssh by hand ${bare_start} ms, ratio $(ratio "$vm_start" "$bare_start")"
