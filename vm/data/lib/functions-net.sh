# vm's network shell functions, with the names and meanings of the
# original's functions-net.sh: the guest over ssh, the emulator's state. Every
# one goes through vm itself, so they follow the machine's configuration
# (NAT port, VM_SSH_OPTS, the owner's key) as vm's commands do. POSIX sh.

# The address VM_NET_HOST (the monitor's host) resolves to.
vm_get_ip() {
	getent hosts "${VM_NET_HOST:-localhost}" | awk '{ print $1; exit }'
}

# The canonical (fully qualified) name of the host or address NAME, or "".
vm_get_full_name() {
	getent hosts "$1" | awk '{ print $2; exit }'
}

# The round-trip times of one ping to VM_NET_HOST ("min/avg/max/mdev = ...").
vm_ping() {
	ping -c 1 "${VM_NET_HOST:-localhost}" 2>/dev/null | tail -n 1 | cut -c24-
}

# The emulator's state (running, paused, ...); nothing when it does not answer.
vm_get_status() {
	"${VM_BIN:-vm}" cmd info status 2>/dev/null | sed -n 's/^VM status: //p'
}

# "ok" when ssh logs into the guest, else ssh's reason.
vm_check_ssh() {
	"${VM_BIN:-vm}" ssh echo ok 2>&1 | sed 's,^ssh: ,,'
}

# The guest's systemctl, else its loginctl (the path); fails when it has neither.
vm_get_control_method() {
	vm_ssh 'command -v systemctl || command -v loginctl' 2>/dev/null | head -n 1 | grep .
}

# Runs a command in the guest (or logs in) as VM_MACHINE_USER.
vm_ssh() {
	"${VM_BIN:-vm}" ssh -- "$@"
}

# Runs a command in the guest as root (sudo -n unless the guest user is root).
vm_sudo() {
	if [ "${VM_MACHINE_USER-}" = root ]; then
		vm_ssh "$@"
	else
		vm_ssh sudo -n "$@"
	fi
}

# Flushes the guest's file systems, then the host's under VM_HOME.
vm_sync() {
	vm_sudo sync || return 1
	sync -f "${VM_HOME:-.}" 2>/dev/null || sync
}
