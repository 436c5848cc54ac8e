# vm's shell functions, with the names and meanings of the original's
# functions.sh: messages, logs, errors, checks and a progress spinner.
# POSIX sh, so that any $SHELL can load it. The functions mean what they mean
# inside vm itself; each is documented in vm(1), SCRIPTS.

VM_ERRCNT=${VM_ERRCNT:-0}

# The current time in VM_DATEFMT (empty: date's default).
vm_get_timestamp() {
	if [ -z "${VM_DATEFMT-}" ]; then date; else date +"$VM_DATEFMT"; fi
}
vm_timestamp() { vm_get_timestamp; }

# Appends "[TIMESTAMP NAME] message" to a log that exists and is writable.
vm_log_to() {
	[ -n "$1" ] && [ -f "$1" ] && [ -w "$1" ] || return 0
	printf '[%s %s] %s\n' "$(vm_get_timestamp)" "${0##*/}" "$2" >>"$1" ||
		printf 'vm: cannot write to log %s (continuing without it)\n' "$1" >&2
	return 0
}

vm_is_verbose() {
	[ "${VM_VERBOSE-}" = yes ] || [ "${VERBOSE-}" = 1 ]
}

# A progress message: always shown, and logged to VM_LOG.
vm_echo() {
	vm_progress_stop
	printf '[%s] %s\n' "$(vm_get_timestamp)" "$*"
	vm_log_to "${VM_LOG-}" "$*"
}

# A progress message shown only with -v (VM_VERBOSE=yes), always logged.
vm_echo_if_verbose() {
	vm_progress_stop
	if vm_is_verbose; then printf '[%s] %s\n' "$(vm_get_timestamp)" "$*"; fi
	vm_log_to "${VM_LOG-}" "$*"
}

# An error that does not stop the script yet: to stderr as "vm: message",
# and counted for vm_die_if_error.
vm_squeal() {
	VM_ERRCNT=$((VM_ERRCNT + 1))
	printf 'vm: %s\n' "$*" >&2
}

# Exits 1 after "vm: exiting after N errors" when vm_squeal was called.
vm_die_if_error() {
	[ "$VM_ERRCNT" -gt 0 ] || return 0
	vm_progress_stop
	if [ "$VM_ERRCNT" -gt 1 ]; then set -- s; else set -- ""; fi
	printf 'vm: exiting after %d error%s\n' "$VM_ERRCNT" "$1" >&2
	exit 1
}

# An error: to stderr as "vm: message", logged to VM_ERRLOG, then exit 1.
vm_die() {
	vm_progress_stop
	printf 'vm: %s\n' "$*" >&2
	vm_log_to "${VM_ERRLOG-}" "$*"
	exit 1
}

# Dies unless the variable NAME is set (an empty value counts as missing,
# as for vm's own mandatory variables).
vm_check_var() {
	case "$1" in
	"" | [0-9]* | *[!A-Za-z0-9_]*) vm_die "vm_check_var: '$1' is not a variable name" ;;
	esac
	eval "[ -n \"\${$1-}\" ]" || vm_die "${VM_CONFIG:-.vmrc}: mandatory variable $1 not set"
}

# Squeals (see vm_die_if_error) when the program NAME is not in PATH. With
# VM_LIST_PKG set, prints the Debian package it comes from instead.
vm_check_prog() {
	if ! command -v "$1" >/dev/null 2>&1; then
		vm_squeal "program '$1' not found (install it, or fix PATH)"
	elif [ -n "${VM_LIST_PKG-}" ] && command -v dpkg >/dev/null 2>&1; then
		printf '%s %s\n' "$1" "$(dpkg -S "$(command -v "$1")" 2>/dev/null | cut -f1 -d:)"
	fi
}

# Dies unless run as root.
vm_check_root() {
	[ "$(id -u)" = 0 ] || vm_die "this command needs root privileges"
}

# Succeeds when this machine's emulator runs, and sets QPID to its pid. Asks
# vm itself (its lock and pid file), never the process list.
vm_check_running() {
	QPID=$("${VM_BIN:-vm}" list 2>/dev/null |
		awk -v id="${VM_MACHINE_ID-}" 'NR > 1 && $2 == id { print $4; exit }')
	[ -n "$QPID" ]
}

# With -v on a terminal: MESSAGE after a spinner, until vm_progress_stop
# (vm_echo, vm_echo_if_verbose and vm_die stop it too).
vm_progress() {
	vm_is_verbose && [ -t 1 ] || return 0
	if [ -z "${VM_SPINNER_PID-}" ]; then
		(
			trap 'exit 0' TERM
			while :; do
				for c in '|' / - "\\"; do
					printf '%s\r' "$c"
					sleep 0.2
				done
			done
		) &
		VM_SPINNER_PID=$!
	fi
	printf '\r  %s\r' "$*"
}

vm_progress_stop() {
	[ -n "${VM_SPINNER_PID-}" ] || return 0
	kill "$VM_SPINNER_PID" 2>/dev/null
	wait "$VM_SPINNER_PID" 2>/dev/null
	VM_SPINNER_PID=
	printf '\r\033[K'
}
