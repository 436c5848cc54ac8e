#!/bin/bash
# What vm runs does not outlive it, and does not hold the machine's lock:
# a slow qemu-img (a wrapper on PATH) under vm init, then vm killed
# (SIGKILL) or interrupted (SIGTERM) while it runs, then the next command.
TEST_NAME=children
. "$(dirname "$0")/lib.sh"

real_qemu_img=$(command -v qemu-img)
mkdir "$work/bin"
cat >"$work/bin/qemu-img" <<EOF
#!/bin/bash
if [ "\$1" = create ]; then
	ls -l /proc/\$\$/fd/ >"$work/slow.fds"
	echo \$\$ >"$work/slow.pid"
	sleep "\$(cat "$work/slow.time")"
fi
exec "$real_qemu_img" "\$@"
EOF
chmod +x "$work/bin/qemu-img"
# soon_gone PID: gone within 2 s.
soon_gone() {
	for _ in $(seq 20); do gone "$1" && return 0; sleep 0.1; done
	return 1
}
slow_init() {
	rm -f "$work/slow.pid"
	PATH="$work/bin:$PATH" "$VM" init >"$work/init.out" 2>&1 &
	vm_pid=$!
	for _ in $(seq 100); do [ -s "$work/slow.pid" ] && break; sleep 0.1; done
	slow=$(cat "$work/slow.pid" 2>/dev/null)
}

echo "# vm init killed while qemu-img create runs"
new_machine t
echo 8 >"$work/slow.time"
slow_init
check "the slow qemu-img runs ($slow)" test -n "$slow"
detail=$(cat "$work/slow.fds")
check "qemu-img has not inherited the machine's lock" \
	bash -c '! grep -q " -> .*/42/lock$" "$1"' _ "$work/slow.fds"
detail=
run status -s
check "status while init works: another vm command, with its pid ($out)" \
	contains "$out" "not running; another vm command is working on this machine (pid $vm_pid)"
run init
check "a second init names the first ($err)" \
	contains "$err" "another vm command is working on t (pid $vm_pid)"
kill -KILL "$vm_pid"
wait "$vm_pid" 2>/dev/null
check "qemu-img died with vm" soon_gone "$slow"
run status -s
check "the next status: not running, no pid 0 ($out)" \
	bash -c 'grep -qx "emulator:  not running" <<<"$1" && ! grep -q "pid 0" <<<"$1"' _ "$out"
run init -k
check "the next init works ($err)" test "$rc" = 0 -a -f t-backing.qcow2

echo "# vm init interrupted (SIGTERM) while qemu-img create runs"
rm -f t-backing.qcow2
echo 3 >"$work/slow.time"
slow_init
check "the slow qemu-img runs ($slow)" test -n "$slow"
kill -TERM "$vm_pid"
wait "$vm_pid" 2>/dev/null
check "qemu-img was stopped with vm" gone "$slow"
sleep 4 # past the wrapper's sleep: a surviving qemu-img would write now
check "no temporary file came back ($(ls -A | xargs))" only_files t-base.qcow2 t-seed.qcow2

finish
