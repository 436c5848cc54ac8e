# bash completion for vm(1): commands, their options (read from `vm CMD
# --help`, so they cannot drift from the program), snapshot names, compressor
# names and the machine directories listed for boot.

# The commands, from the list `vm --help` prints.
_vm_commands()
{
	"$1" --help 2>/dev/null | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p'
}

# A command's options, from its usage text.
_vm_options()
{
	"$1" "$2" --help 2>/dev/null | grep -oE -- '(--[a-z][a-z-]*|(^|[[ |,])-[a-zA-Z]\b)' |
		sed 's/^[[ |,]//' | sort -u
	printf '%s\n' -h --help -v --verbose
}

# The names in the first two columns of `info snapshots` / `qemu-img snapshot
# -l` output: "ID TAG ...", ID a number or "--".
_vm_snapshot_tags()
{
	awk '$1 ~ /^([0-9]+|--)$/ && NF > 1 { print $2 }'
}

# The machine's saved states: from its monitor when it runs, else from the
# image itself.
_vm_snapshots()
{
	local vm=$1 files file
	if "$vm" status -q -s >/dev/null 2>&1; then
		"$vm" cmd info snapshots 2>/dev/null | _vm_snapshot_tags
		return
	fi
	files=$("$vm" sh -c 'if [ "$VM_USE_SNAPSHOTS" = no ]; then echo "$VM_HOME/$VM_IMAGE_FILENAME"; else echo "$VM_HOME/$VM_SNAPSHOT_BACKING_FILENAME"; fi' 2>/dev/null) || return
	while IFS= read -r file; do
		[ -r "$file" ] && qemu-img snapshot -U -l "$file" 2>/dev/null | _vm_snapshot_tags
	done <<<"$files"
}

# The machine directories in the boot list (a root-owned, world-readable file).
_vm_boot_dirs()
{
	local list=${VM_BOOT_LIST:-@SYSCONFDIR@/vm/machines}
	[ -r "$list" ] && awk '$1 ~ /^\// { print $1 }' "$list"
}

_vm()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local vm=${COMP_WORDS[0]} command="" i
	COMPREPLY=()
	if [ "$COMP_CWORD" = 1 ]; then
		# A command, or a script to run (vm SCRIPT).
		COMPREPLY=($(compgen -W "$(_vm_commands "$vm")" -- "$cur"))
		[[ $cur == */* || $cur == .* ]] && COMPREPLY+=($(compgen -f -- "$cur"))
		return
	fi
	command=${COMP_WORDS[1]}
	case "$command:$prev" in
	run:-l | run:--loadvm | start:-l | start:--loadvm | stop:-s | stop:--savevm | \
		stop:--vm-save | archive:-d | archive:--delvm | archive:-s | archive:--savevm | \
		export:-s | export:--state | cmd:loadvm | cmd:delvm | cmd:savevm)
		COMPREPLY=($(compgen -W "$(_vm_snapshots "$vm")" -- "$cur"))
		return
		;;
	archive:-z | archive:--compress)
		COMPREPLY=($(compgen -W "xz gzip bzip2 lz4 zstd" -- "$cur"))
		return
		;;
	start:-s | start:--ssh-attempts | export:--name | export:-u | export:--uuid)
		return
		;;
	boot:-f | boot:--file | export:-o | export:--output)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_vm_options "$vm" "$command")" -- "$cur"))
		return
	fi
	case "$command" in
	boot)
		# The first word after the options is the action, the rest directories.
		local action=""
		for ((i = 2; i < COMP_CWORD; i++)); do
			case "${COMP_WORDS[i]}" in
			-f | --file) ((i++)) ;;
			-*) ;;
			*) action=${COMP_WORDS[i]} && break ;;
			esac
		done
		if [ -z "$action" ]; then
			COMPREPLY=($(compgen -W "start stop status" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_vm_boot_dirs)" -- "$cur"))
		fi
		;;
	cmd)
		[ "$COMP_CWORD" = 2 ] || [[ ${COMP_WORDS[COMP_CWORD - 1]} == -* ]] &&
			COMPREPLY=($(compgen -W "info savevm loadvm delvm system_wakeup system_powerdown system_reset stop cont quit" -- "$cur"))
		[ "$prev" = info ] &&
			COMPREPLY=($(compgen -W "status snapshots block network cpus version name" -- "$cur"))
		;;
	sh | ssh) ;;
	*)
		# Other commands take no operands; a script's own arguments are files.
		[ -e "$command" ] && COMPREPLY=($(compgen -f -- "$cur"))
		;;
	esac
}
complete -F _vm vm

# systemctl ... vm@<TAB>: the machines of the boot list as instances of the
# vm@.service template. The shell loads this file at start-up through
# bash_completion.d, so it wraps systemctl's own completion and adds them.

# A directory as systemd-escape --path writes it.
_vm_escape_path()
{
	local path=$1 out="" c i
	while [[ $path == */ && $path != / ]]; do path=${path%/}; done
	path=${path#/}
	if [ -z "$path" ]; then
		printf -- '-'
		return
	fi
	for ((i = 0; i < ${#path}; i++)); do
		c=${path:i:1}
		if [ "$c" = / ]; then
			out+=-
		elif [[ $c == [A-Za-z0-9:_] || ($c == . && i -gt 0) ]]; then
			out+=$c
		else
			printf -v c '\\x%02x' "'$c"
			out+=$c
		fi
	done
	printf '%s' "$out"
}

_vm_unit_instances()
{
	local dir
	_vm_boot_dirs | while IFS= read -r dir; do
		printf 'vm@%s.service\n' "$(_vm_escape_path "$dir")"
	done
}

_vm_systemctl()
{
	local cur=${COMP_WORDS[COMP_CWORD]}
	if ! declare -F _systemctl >/dev/null && declare -F _completion_loader >/dev/null; then
		_completion_loader systemctl >/dev/null 2>&1
		complete -F _vm_systemctl systemctl # the loader put systemctl's own back
	fi
	COMPREPLY=()
	declare -F _systemctl >/dev/null && _systemctl "$@"
	if [[ $cur == vm@* ]]; then
		# As typed on the command line: the shell makes each \\ one \ again.
		local unit
		while IFS= read -r unit; do
			[[ $unit == "$cur"* ]] && COMPREPLY+=("${unit//\\/\\\\}")
		done < <(_vm_unit_instances)
	fi
}
complete -F _vm_systemctl systemctl
