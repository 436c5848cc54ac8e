#!/bin/bash
# The bash completion, driven as bash drives it: COMP_WORDS/COMP_CWORD set,
# the function `complete -p vm` names called, COMPREPLY read back.
# Usage: test-completion.sh COMPLETION-SCRIPT (VM_TEST_BIN, VM_LIB set)
set -u
: "${VM_TEST_BIN:?}" "${VM_LIB:?}"
completion=$1
passed=0 failed=0
expect() { # NAME EXPECTED ACTUAL (newline-separated lists)
	if [ "$2" = "$3" ]; then passed=$((passed + 1)); echo "ok - $1"
	else failed=$((failed + 1)); echo "FAIL - $1"; echo "  expected: $(echo $2)"; echo "  got:      $(echo $3)"; fi
}
expect_has() { # NAME WORD... -- ACTUAL
	local name=$1 missing="" w; shift
	local words=()
	while [ "$1" != -- ]; do words+=("$1"); shift; done
	shift
	for w in "${words[@]}"; do grep -qxF -- "$w" <<<"$1" || missing+=" $w"; done
	if [ -z "$missing" ]; then passed=$((passed + 1)); echo "ok - $name"
	else failed=$((failed + 1)); echo "FAIL - $name: missing$missing"; echo "  got: $(echo $1)"; fi
}

# shellcheck source=/dev/null
. "$completion"
spec=$(complete -p vm)
expect "complete -p vm names the function" "complete -F _vm vm" "$spec"
function=$(sed -n 's/.*-F \([^ ]*\) .*/\1/p' <<<"$spec")

# What bash would offer for the command line WORDS... (the last one is being typed).
offers() {
	COMP_WORDS=("$VM_TEST_BIN" "$@")
	COMP_CWORD=$#
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	"$function" vm "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}" | grep . | sort -u
}

work=$(mktemp -d)
# The completions run vm on machine 42 below, which must make no handle for
# it below the home (a query writes nothing): one made is removed (without
# private-home.sh, the home is the user's own).
handle=$(getent passwd "$(id -u)" | cut -d: -f6)/.local/state/vm/$(uname -n)/42
[ -e "$handle" ] && handle=
trap 'rm -rf "$work"; [ -z "$handle" ] || rmdir "$handle" 2>/dev/null' EXIT
cd "$work" || exit 1

# --- commands and options ---------------------------------------------------
expect_has "all commands" init run start stop kill cmd status archive export sh ssh console list net boot -- "$(offers '')"
expect_has "console's options" --log -- "$(offers console --)"
expect "commands by prefix" "$(printf 'start\nstatus\nstop')" "$(offers st)"
nl=$'\n'
# (stop's old spellings --vm-save and --nosuspend work but are not offered.)
expect_has "stop's options" --savevm --poweroff --reboot --no-suspend --help --verbose \
	-s -p -r -n -h -v -- "$(offers stop --)$nl$(offers stop -)"
expect_has "start's options" --nat --bridge --ssh-attempts --loadvm --encapsulate -- "$(offers start --)"
expect_has "archive's options" --create --delvm --savevm --compress --compress-base -z -c -d -s -b -- \
	"$(offers archive --)$nl$(offers archive -)"
expect_has "export's options" --libvirt --nat --output --name --state --uuid -n -o -s -u -- \
	"$(offers export --)$nl$(offers export -)"
expect_has "boot's options" --file --verbose --help -f -- "$(offers boot --)$nl$(offers boot -)"
expect "options by prefix" "$(printf -- '--poweroff')" "$(offers stop --p)"

# --- compressors --------------------------------------------------------------
expect "compressor names" "$(printf 'bzip2\ngzip\nlz4\nxz\nzstd')" "$(offers archive -z '')"
expect "compressor by prefix" "zstd" "$(offers archive --compress z)"

# --- snapshot names from the image (the machine is not running) --------------
mkdir machine && cd machine || exit 1
printf 'VM_MACHINE_NAME=comp\nVM_MACHINE_ID=42\nVM_MACHINE_OWNER=%s\n' "$(id -un)" >.vmrc
if command -v qemu-img >/dev/null; then
	qemu-img create -q -f qcow2 comp-backing.qcow2 1M
	qemu-img snapshot -c alpha comp-backing.qcow2
	qemu-img snapshot -c beta comp-backing.qcow2
	expect "start -l: the saved states" "$(printf 'alpha\nbeta')" "$(offers start -l '')"
	expect "run --loadvm by prefix" "beta" "$(offers run --loadvm b)"
	expect "stop -s" "$(printf 'alpha\nbeta')" "$(offers stop -s '')"
	expect "archive -d" "$(printf 'alpha\nbeta')" "$(offers archive -d '')"
	expect "export --state" "$(printf 'alpha\nbeta')" "$(offers export --state '')"
	expect "cmd loadvm" "alpha" "$(offers cmd loadvm a)"
	VM_USE_SNAPSHOTS=no
	export VM_USE_SNAPSHOTS
	qemu-img create -q -f qcow2 comp.qcow2 1M
	qemu-img snapshot -c gamma comp.qcow2
	expect "single image: its states" "gamma" "$(offers start -l '')"
	unset VM_USE_SNAPSHOTS
else
	echo "ok - snapshot names # SKIP qemu-img not installed"
fi
cd .. || exit 1
if [ -n "$handle" ]; then
	expect "the completions made no handle for machine 42" "" "$(ls -d "$handle" 2>/dev/null)"
fi

# --- boot: actions, then the listed machine directories ----------------------
printf '# list\n/srv/vm/guix daniel save:boot 600\n/home/alice/lab alice poweroff\n' >machines
export VM_BOOT_LIST=$work/machines
expect "boot: the actions" "$(printf 'start\nstatus\nstop')" "$(offers boot '')"
expect "boot start: listed directories" "$(printf '/home/alice/lab\n/srv/vm/guix')" "$(offers boot start '')"
expect "boot -f LIST stop: by prefix" "/srv/vm/guix" "$(offers boot -f "$work/machines" stop /s)"

# --- systemctl ... vm@: the listed machines as vm@.service instances --------
expect "complete -p systemctl goes through vm's wrapper" "complete -F _vm_systemctl systemctl" \
	"$(complete -p systemctl)"
_systemctl() { COMPREPLY=($(compgen -W "sshd.service vm.service" -- "$2")); } # stands in for systemd's own
printf '/srv/vm/guix daniel save:boot\n/home/alice/lab-1.d alice poweroff\n' >machines
units() { # what bash would offer for systemctl WORDS...
	COMP_WORDS=(systemctl "$@")
	COMP_CWORD=$#
	COMPREPLY=()
	_vm_systemctl systemctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}" | grep . | sort -u
}
expect "systemctl start vm@: the listed machines, escaped as systemd does (and for the shell)" \
	"$(printf '%s\n' 'vm@home-alice-lab\\x2d1.d.service' vm@srv-vm-guix.service)" "$(units start vm@)"
expect "systemctl start s: systemctl's own units stay" "sshd.service" "$(units start s)"
expect "systemctl start vm@srv: by prefix" "vm@srv-vm-guix.service" "$(units start vm@srv)"
if command -v systemd-escape >/dev/null; then
	expect "the escape agrees with systemd-escape --path" \
		"$(systemd-escape --path '/home/alice/lab-1.d/.x y/')" "$(_vm_escape_path '/home/alice/lab-1.d/.x y/')"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
