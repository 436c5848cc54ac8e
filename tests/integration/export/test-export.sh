#!/bin/bash
# vm export without a daemon: the domain XML of every kind of machine the
# tests have (bridged or NAT, ide or virtio, with the guest agent, direct
# kernel boot, a VNC display, words with no element) validates against
# libvirt's own schema (virt-xml-validate), says what the emulator command
# line says, and the refusals (running, VM_USE_SNAPSHOTS=no, missing images)
# are clear. export-libvirt.sh boots an export under a real libvirt.
TEST_NAME=export
. "$(dirname "$0")/../lib.sh"

command -v virt-xml-validate >/dev/null ||
	{ echo "SKIP: virt-xml-validate is missing (apt-get install libvirt-clients libxml2-utils)"; exit 77; }

# valid KIND FILE: the file validates as KIND (domain or domainsnapshot).
valid() {
	virt-xml-validate "$2" "$1" >"$work/validate.out" 2>&1 && return 0
	sed 's/^/    /' "$work/validate.out"
	return 1
}
# export_ok WHAT ARGS...: vm export succeeds and its XML validates.
export_ok() {
	local what=$1
	shift
	run export "$@"
	printf '%s\n' "$out" >"$work/out.xml"
	check "$what: vm export exits 0 ($err)" test "$rc" = 0
	check "$what: the XML validates" valid domain "$work/out.xml"
}
has() { check "$1" contains "$out" "$2"; }
not_contains() { ! contains "$1" "$2"; }
lacks() { check "$1" not_contains "$out" "$2"; }

echo "# the defaults: bridged, ide, e1000 (what vm run gives)"
new_machine plain VM_MACHINE_MEM=384 VM_QEMU_ACCEL=tcg
run export
check "before vm init: refused" test "$rc" = 1
check "... naming the missing base and what to do ($err)" \
	contains "$err" "t-base.qcow2 does not exist: run 'vm init'"
check "... printing no XML" test -z "$out"
"$VM" init >/dev/null
export_ok "bridged ide"
has "TCG is type='qemu'" "<domain type='qemu'>"
has "name" "<name>t</name>"
has "memory in MiB" "<memory unit='MiB'>384</memory>"
has "one vCPU" "<vcpu>1</vcpu>"
has "QEMU's default machine" "machine='pc'>hvm</type>"
has "the backing file on top" "<source file='$work/plain/t-backing.qcow2'/>"
has "... over the base" "<source file='$work/plain/t-base.qcow2'/>"
has "... in VM_FMT" "<format type='qcow2'/>"
has "ide disk" "<target dev='hda' bus='ide'/>"
has "a bridge interface on br0" "<source bridge='br0'/>"
has "the MAC DE:AD:BE:EF:<ID>:11" "<mac address='DE:AD:BE:EF:42:11'/>"
has "e1000 NIC" "<model type='e1000'/>"
has "... in QEMU's slot 3" "slot='0x03'"
has "a serial console" "<console type='pty'>"
has "ACPI stays on (the power button)" "<acpi/>"
lacks "no agent channel without VM_GUEST_AGENT" "guest_agent"
lacks "TCG: QEMU's default CPU" "<cpu"
lacks "no <qemu:commandline> when everything maps" "qemu:commandline"
check "no warning when everything maps" test -z "$err"

echo "# bridged on another bridge, and KVM"
printf '%s\n' VM_NET_BRIDGE=vmlab VM_QEMU_ACCEL=kvm >>.vmrc
export_ok "bridged vmlab, kvm"
has "KVM is type='kvm'" "<domain type='kvm'>"
has "... with the host's CPU, as vm run gives it" "<cpu mode='host-passthrough'/>"
printf '%s\n' 'VM_QEMU_EXTRA="-cpu Haswell"' >>.vmrc
export_ok "kvm, -cpu Haswell"
has "VM_QEMU_EXTRA's -cpu wins" "<model fallback='allow'>Haswell</model>"
lacks "... over the host's" "host-passthrough"
has "bridge from VM_NET_BRIDGE" "<source bridge='vmlab'/>"

echo "# a multi-queue tap"
new_machine mq VM_QEMU_ACCEL=tcg VM_NET_MODEL=virtio-net-pci VM_NET_QUEUES=4
"$VM" init >/dev/null
export_ok "bridged, VM_NET_QUEUES=4"
has "the interface's 4 queues, QEMU's virtio-net (no vhost)" "<driver name='qemu' queues='4'/>"

echo "# NAT, virtio, virtio-net, the guest agent, direct kernel boot"
new_machine full VM_QEMU_ACCEL=tcg VM_DISK_IF=virtio VM_NET_MODEL=virtio-net-pci \
	VM_GUEST_AGENT=yes \
	"VM_QEMU_EXTRA=\"-kernel vmlinuz -initrd /boot/initrd.img -append 'console=ttyS0 root=LABEL=<r&d>' -device virtio-rng-pci -smp 2 -serial file:console.log\""
"$VM" init >/dev/null
export_ok "NAT virtio agent kernel" --nat
has "user networking for NAT" "<interface type='user'>"
lacks "... no bridge" "<source bridge="
has "virtio disk" "<target dev='vda' bus='virtio'/>"
has "virtio-net NIC" "<model type='virtio'/>"
has "the agent channel" "<target type='virtio' name='org.qemu.guest_agent.0'/>"
has "... on QEMU's slot 4 (the second -device)" "<controller type='virtio-serial' index='0'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>"
has "virtio-rng from VM_QEMU_EXTRA" "<rng model='virtio'>"
has "-smp 2: two vCPUs" "<vcpu>2</vcpu>"
has "-kernel, made absolute" "<kernel>$work/full/vmlinuz</kernel>"
has "-initrd" "<initrd>/boot/initrd.img</initrd>"
has "-append, escaped" "<cmdline>console=ttyS0 root=LABEL=&lt;r&amp;d&gt;</cmdline>"
lacks "no boot device with a kernel" "<boot dev="
has "-serial file: is the serial port" "<source path='$work/full/console.log'/>"
check "no unmapped words: all of VM_QEMU_EXTRA maps ($err)" not_contains "$err" "no libvirt element"
check "a warning that the NAT ssh forward does not carry over" \
	contains "$err" "libvirt's user networking forwards no ports: not the guest's ssh (127.0.0.1:2242)"
printf '%s\n' 'VM_NET_FORWARD="8080:80"' >>.vmrc
run export --nat
check "... nor VM_NET_FORWARD's ($err)" contains "$err" "nor VM_NET_FORWARD's 8080:80"

echo "# a display, words with no element, --name, -o"
new_machine shown VM_QEMU_ACCEL=tcg VM_QEMU_VNC=127.0.0.1:3 \
	"VM_QEMU_EXTRA=\"-usb -device usb-tablet -global kvm-pit.lost_tick_policy=discard\""
"$VM" init >/dev/null
export_ok "vnc, unmapped words" --name web-1
has "VNC :3 is port 5903 on its address" "<graphics type='vnc' port='5903' autoport='no' listen='127.0.0.1'/>"
has "--name names the domain" "<name>web-1</name>"
has "unmapped words go into <qemu:commandline>" "<qemu:arg value='-usb'/>
    <qemu:arg value='-device'/>
    <qemu:arg value='usb-tablet'/>
    <qemu:arg value='-global'/>"
has "... with libvirt's namespace" "xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'"
check "a warning names each unmapped word ($err)" \
	contains "$err" "vm: export: warning: no libvirt element for these emulator arguments, passed on as they are in <qemu:commandline>: -usb -device usb-tablet -global kvm-pit.lost_tick_policy=discard"
run export -o "$work/shown.xml" --name web-1
check "-o FILE: exit 0 ($err)" test "$rc" = 0
check "... nothing on stdout" test -z "$out"
check "... the file validates" valid domain "$work/shown.xml"
check "... the same XML as on stdout" \
	test "$(cat "$work/shown.xml")" = "$(cat "$work/out.xml")"
check "... and only the file is new" only_files "t-backing.qcow2 t-base.qcow2 t-seed.qcow2"
(cd "$work" && VM_HOME=$work/shown "$VM" export -o rel.xml 2>/dev/null)
check "-o with a relative name: from where vm was called (VM_HOME elsewhere)" \
	valid domain "$work/rel.xml"
run export --libvirt --name ''
check "an empty --name is refused" contains "$err" "--name needs a non-empty name"
run export --xml
check "an unknown option is refused" test "$rc" = 1

echo "# a saved state, for snapshot-create --redefine"
cd "$work/full" || exit 1
qemu-img snapshot -c ready t-backing.qcow2
uuid=0b6f4b2e-6b1c-4c55-9a31-3d3c2f0a9e11
run export -n -s ready -u $uuid
printf '%s\n' "$out" >"$work/state.xml"
check "--state: exit 0 ($err)" test "$rc" = 0
check "... a <domainsnapshot> that validates" valid domainsnapshot "$work/state.xml"
has "... named after the state" "<name>ready</name>"
has "... an internal snapshot of the virtio disk" "<disk name='vda' snapshot='internal'/>"
has "... with its memory" "<memory snapshot='internal'/>"
has "... and the domain with the UUID" "<uuid>$uuid</uuid>"
date_sec=$(qemu-img info --output=json t-backing.qcow2 | sed -n 's/.*"date-sec": \([0-9]*\).*/\1/p')
has "... taken when qemu-img says ($date_sec)" "<creationTime>$date_sec</creationTime>"
run export -s ready
check "--state without --uuid: refused, saying how to get it" contains "$err" '--uuid "$(virsh domuuid NAME)"'
run export -s gone -u $uuid
check "an unknown state: refused, listing those there ($err)" \
	contains "$err" "t-backing.qcow2 holds no saved state gone (it holds: ready)"
run export -u not-a-uuid
check "a malformed UUID is refused" contains "$err" "'not-a-uuid' is not a UUID"

echo "# refusals"
cd "$work/plain" || exit 1
hold_lock 42
run export
check "a running machine: refused" test "$rc" = 1
check "... saying to stop it first ($err)" \
	contains "$err" "t is running (pid $holder); stop it first"
check "... with vm stop -s or -p" contains "$err" "'vm stop -s STATE' or power it off with 'vm stop -p'"
check "... printing no XML" test -z "$out"
release_lock
rm t-backing.qcow2
run export
check "a missing backing file: refused ($err)" \
	contains "$err" "t-backing.qcow2 does not exist: run 'vm init' to create it"
new_machine single VM_USE_SNAPSHOTS=no
mv t-seed.qcow2 t.qcow2
run export
check "VM_USE_SNAPSHOTS=no: refused" test "$rc" = 1
check "... pointing at the single image ($err)" \
	contains "$err" "VM_USE_SNAPSHOTS=no: this machine runs on the single image $work/single/t.qcow2"

finish
