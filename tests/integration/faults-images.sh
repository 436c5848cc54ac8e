#!/bin/bash
# Faults around the images, without a guest (issue 16): bad seeds found
# before the copy, init and archive --create interrupted (Ctrl-C, SIGTERM)
# at several points of a slow qemu-img, a leaked cluster in the base, the
# .vmrc line limit. Each fault is followed by the command a user would run
# next, which must work or say exactly what to do.
TEST_NAME=faults-images
. "$(dirname "$0")/lib.sh"

# A qemu-img that is slow to create images, when $work/slow exists, and to
# look at them, when $work/slow-info does (it then marks its start with the
# file qemu-img-info).
real_qemu_img=$(command -v qemu-img)
mkdir "$work/bin"
cat >"$work/bin/qemu-img" <<EOF
#!/bin/sh
[ "\$1" = create ] && [ -e "$work/slow" ] && sleep 1.5
[ "\$1" = info ] && [ -e "$work/slow-info" ] && : >qemu-img-info && sleep 1.5
exec "$real_qemu_img" "\$@"
EOF
chmod +x "$work/bin/qemu-img"
export PATH=$work/bin:$PATH

echo "# bad seeds are refused before anything is copied"
new_machine raw-seed
rm t-seed.qcow2
truncate -s 64M t-seed.qcow2
run init
check "a raw seed is refused" test "$rc" = 1
check "... naming its format and what to set ($err)" contains "$err" "t-seed.qcow2 is a raw image, and VM_FMT is qcow2: convert it (qemu-img convert -f raw -O qcow2"
check "... before the copy: no base, no temporary file" only_files t-seed.qcow2

new_machine empty-seed
: >t-seed.qcow2
run init
check "an empty seed is refused ($err)" contains "$err" "t-seed.qcow2 is empty"
check "... and nothing is made" only_files t-seed.qcow2

# broken_chain FILE: a qcow2 whose backing file, gone.qcow2, is missing.
broken_chain() {
	qemu-img create -q -f qcow2 gone.qcow2 64M &&
		qemu-img create -q -f qcow2 -b gone.qcow2 -F qcow2 "$1" && rm gone.qcow2
}

new_machine broken-chain
broken_chain t-seed.qcow2
run init
check "a seed whose backing file is missing is refused" test "$rc" = 1
check "... with all qemu-img said, the missing file first ($err)" contains "$err" "Could not open 'gone.qcow2'"
check "... and nothing is made" only_files t-seed.qcow2

echo "# an unusable base that is kept points to -b"
new_machine broken-base
broken_chain t-base.qcow2
run init
check "init refuses the broken base" test "$rc" = 1
check "... suggesting vm init -b ($err)" contains "$err" "'vm init -b' copies the seed again"
run init -b
check "init -b then works ($err)" test "$rc" = 0
check "... and the machine opens" qemu-img info --backing-chain t-backing.qcow2 >/dev/null

echo "# VM_FMT=raw with snapshots is refused up front"
new_machine raw-fmt VM_FMT=raw
run init
check "init refuses VM_FMT=raw" test "$rc" = 1
check "... saying to set VM_USE_SNAPSHOTS=no ($err)" contains "$err" "set VM_USE_SNAPSHOTS=no"
check "... with no temporary name in the message" eval '! contains "$err" .tmp-'
check "... and nothing is made" only_files t-seed.qcow2

# interrupt SIGNAL PATTERN DELAY ARGS...: vm ARGS in a process group of
# its own (as on a terminal), sent SIGNAL DELAY seconds after a file whose
# name matches the regex PATTERN appears, to the whole group (Ctrl-C
# reaches qemu-img too); sets rc and err.
interrupt() {
	local sig=$1 pattern=$2 delay=$3 i
	shift 3
	# A background job starts with SIGINT ignored: undo that, as a terminal would.
	setsid python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$VM" "$@" 2>"$work/stderr" &
	local pid=$!
	for ((i = 0; i < 1000; i++)); do
		ls -A | grep -q -- "$pattern" && break
		sleep 0.01
	done
	sleep "$delay"
	kill -"$sig" -- -"$pid" 2>/dev/null
	wait "$pid" && rc=0 || rc=$?
	err=$(cat "$work/stderr")
}

echo "# init interrupted while qemu-img creates the backing file"
touch "$work/slow"
for sig in INT TERM; do
	for delay in 0 0.7; do
		new_machine "init-$sig-$delay"
		interrupt "$sig" '^\.t-backing\.qcow2\.tmp-' "$delay" init
		status=$((128 + $(kill -l "$sig")))
		check "init, SIG$sig $delay s into the backing file: vm dies of it ($rc)" test "$rc" = "$status"
		check "... saying what it removed ($err)" contains "$err" "vm: interrupted; removed ./.t-backing.qcow2.tmp-"
		run init
		check "... the next init works ($err)" test "$rc" = 0
		check "... leaving base and backing only" only_files t-backing.qcow2 t-base.qcow2 t-seed.qcow2
	done
done

echo "# init interrupted before it makes anything"
touch "$work/slow-info"
new_machine init-early
interrupt INT '^qemu-img-info$' 0.2 init
check "init, SIGINT while it checks the seed: vm dies of it ($rc)" test "$rc" = 130
check "... saying it was interrupted ($err)" test "$err" = "vm: interrupted"
rm qemu-img-info
check "... and nothing is made" only_files t-seed.qcow2
rm "$work/slow-info"

echo "# archive --create interrupted while it makes the archive"
for sig in INT TERM; do
	new_machine "archive-$sig"
	rm -f "$work/slow"
	"$VM" init >/dev/null 2>&1
	write t-backing.qcow2 0xcd 0
	touch "$work/slow"
	interrupt "$sig" '\.partial$' 0.2 archive --create
	check "archive --create, SIG$sig: vm dies of it ($rc)" test "$rc" = $((128 + $(kill -l "$sig")))
	check "... saying it removed the archive in the making ($err)" contains "$err" ".partial"
	check "... which is gone" eval '! ls -A | grep -q partial'
	rm -f "$work/slow"
	run archive --create
	check "... the next archive --create works ($err)" test "$rc" = 0
	check "... and the base holds the data" reads t-base.qcow2 0xcd 0
done

echo "# a leaked cluster in the base (an interrupted commit) is freed"
new_machine leak
"$VM" init >/dev/null 2>&1
write t-backing.qcow2 0xcd 0
# One cluster past the end, counted as used by nothing: what a commit killed
# between allocating and mapping leaves.
python3 - t-base.qcow2 <<'EOF'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    h = f.read(104)
    cluster = 1 << struct.unpack(">I", h[20:24])[0]
    table = struct.unpack(">Q", h[48:56])[0]
    assert struct.unpack(">I", h[96:100])[0] == 4  # 16-bit refcounts
    n = (f.seek(0, 2) + cluster - 1) // cluster
    f.truncate((n + 1) * cluster)
    f.seek(table)
    block = struct.unpack(">Q", f.read(8))[0]
    f.seek(block + 2 * n)
    f.write(struct.pack(">H", 1))
EOF
check "the base has a leak" eval '! clean t-base.qcow2'
run archive -v --create
check "archive --create works ($err)" test "$rc" = 0
check "... saying it freed the leak" contains "$out" "freed 1 leaked cluster in t-base.qcow2"
check "... and the base is clean" clean t-base.qcow2

echo "# the .vmrc line limit"
new_machine limit
for ((i = 3; i < 4096; i++)); do echo "# $i"; done >>.vmrc
run init -t
check "a .vmrc of 4096 lines is read ($err)" test "$rc" = 0
echo "# one more" >>.vmrc
run init -t
check "one of 4097 lines is refused at the line ($err)" contains "$err" ".vmrc:4097: too many lines (at most 4096)"

finish
