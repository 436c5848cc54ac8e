# vm's shell library, loaded into `vm sh` shells and vm scripts.
# POSIX sh, so that any $SHELL can load it. The functions mean what they mean
# inside vm itself.

# The current time in VM_DATEFMT (empty: date's default).
vm_timestamp() {
	if [ -z "${VM_DATEFMT-}" ]; then date; else date +"$VM_DATEFMT"; fi
}

# Appends "[TIMESTAMP NAME] message" to a log that exists and is writable.
vm_log_to() {
	[ -n "$1" ] && [ -f "$1" ] && [ -w "$1" ] || return 0
	printf '[%s %s] %s\n' "$(vm_timestamp)" "${0##*/}" "$2" >>"$1" ||
		printf 'vm: cannot write to log %s (continuing without it)\n' "$1" >&2
	return 0
}

# A progress message: always shown, and logged to VM_LOG.
vm_echo() {
	printf '[%s] %s\n' "$(vm_timestamp)" "$*"
	vm_log_to "${VM_LOG-}" "$*"
}

# A progress message shown only with -v (VM_VERBOSE=yes), always logged.
vm_echo_if_verbose() {
	[ "${VM_VERBOSE-}" = yes ] && printf '[%s] %s\n' "$(vm_timestamp)" "$*"
	vm_log_to "${VM_LOG-}" "$*"
}

# An error: to stderr as "vm: message", logged to VM_ERRLOG, then exit 1.
vm_die() {
	printf 'vm: %s\n' "$*" >&2
	vm_log_to "${VM_ERRLOG-}" "$*"
	exit 1
}

# Runs a command in the guest (or logs in) as VM_MACHINE_USER.
vm_ssh() {
	"${VM_BIN:-vm}" ssh "$@"
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
