#!/bin/bash
# `meson install` into a temporary DESTDIR: everything lands where it should
# with the right modes (and owners and the setuid bit or file capabilities
# when root), configuration files are never overwritten, and what was
# installed works from there: vm --help, vm-netd --check on the example
# policy, man -l on each page, the completion, the units and the init script.
# Usage: test-install.sh MESON BUILD-DIR PREFIX BINDIR SYSCONFDIR LIBEXECDIR DATADIR MANDIR UNITDIR COMPLETIONDIR NETD-PRIVILEGE HOOKDIR SOURCE-DIR
set -u
meson=$1 build=$2 prefix=$3 bindir=$4 sysconfdir=$5 libexecdir=$6 datadir=$7 mandir=$8
unitdir=$9 completiondir=${10} netd_privilege=${11} hookdir=${12} srcdir=${13}
case $mandir in /*) ;; *) mandir=$prefix/$mandir ;; esac
# shellcheck source=../check.sh
. "$(dirname "${BASH_SOURCE[0]}")/../check.sh"
skip() { echo "ok - $1 # SKIP $2"; }

dest=$(mktemp -d)
trap 'rm -rf "$dest" "$dest.log"' EXIT
install_all() { "$meson" install -C "$build" --no-rebuild --destdir "$dest" >"$dest.log" 2>&1; }
check "meson install into DESTDIR" install_all || { cat "$dest.log"; }
rm -f "$dest.log"

root=$(id -u)
mode_is() { # FILE MODE [OWNER]: mode (and owner, when root)
	[ -e "$dest$1" ] || { echo "  $1 is not installed"; return 1; }
	local got
	got=$(stat -c %a "$dest$1")
	[ "$got" = "$2" ] || { echo "  $1: mode $got, expected $2"; return 1; }
	if [ "$root" = 0 ] && [ -n "${3-}" ]; then
		got=$(stat -c %U "$dest$1")
		[ "$got" = "$3" ] || { echo "  $1: owner $got, expected $3"; return 1; }
	fi
}
check "vm: 0755 root" mode_is "$bindir/vm" 755 root
check "global vmrc: 0644" mode_is "$sysconfdir/vm/vmrc" 644 root
check "machine list example: 0644 root" mode_is "$sysconfdir/vm/machines" 644 root
check "shell library: 0644" mode_is "$datadir/vm/vm-functions.sh" 644 root
check "variables.txt: 0644" mode_is "$datadir/vm/variables.txt" 644 root
check "init script: 0755 root" mode_is "$sysconfdir/init.d/vm" 755 root
check "vm.service: 0644" mode_is "$unitdir/vm.service" 644 root
check "vm@.service: 0644" mode_is "$unitdir/vm@.service" 644 root
check "completion: 0644" mode_is "$completiondir/vm" 644 root
check "completion start-up hook: 0644" mode_is "$hookdir/vm" 644 root
# Nothing outside the prefix and sysconfdir: an install under /tmp must not
# make every user's shell source a file under /tmp.
case $hookdir in "$prefix"/* | "$sysconfdir"/*) hook_inside=yes ;; *) hook_inside=no ;; esac
detail="hook dir $hookdir, prefix $prefix, sysconfdir $sysconfdir" \
	check "completion start-up hook: inside the prefix or sysconfdir" [ "$hook_inside" = yes ]
outside=$(cd "$dest" && find . -type f | sed 's|^\.||' | grep -v -e "^$prefix/" -e "^$sysconfdir/" \
	-e "^/lib/systemd/" -e "^/usr/lib/systemd/")
detail=$outside check "meson install writes nothing outside the prefix and sysconfdir" [ -z "$outside" ]
for page in man1/vm.1 man5/vmrc.5 man8/vm-netd.8 man5/vm-netd.conf.5; do
	check "man page $page: 0644" mode_is "$mandir/$page" 644 root
done

# vm-netd's policy path is compiled in; a relative one would be resolved
# against whatever directory the caller runs it from.
out=$("$meson" setup "$dest/relative-policy" "$srcdir" -Dnetd_policy=etc/vm/netd.conf 2>&1)
detail=$(tail -n 3 <<<"$out") check "meson setup refuses a relative netd_policy" \
	bash -c '! [ -e "$2/relative-policy/build.ninja" ] && grep -q "netd_policy must be an absolute path" <<<"$1"' _ "$out" "$dest"
rm -rf "$dest/relative-policy"

# --- what was installed works from there -------------------------------------
out=$("$dest$bindir/vm" --help 2>&1)
check "installed vm --help: exit 0, lists the commands" \
	bash -c '[ $? = 0 ] && grep -q "^Commands:" <<<"$1" && grep -q "^  boot " <<<"$1"' _ "$out"
check "installed vm boot --help names the installed list" \
	bash -c '"$1" boot --help | grep -qF "$2/vm/machines"' _ "$dest$bindir/vm" "$sysconfdir"
for page in man1/vm.1 man5/vmrc.5 man8/vm-netd.8 man5/vm-netd.conf.5; do
	name=$(basename "$page")
	out=$(MANWIDTH=80 man -l "$dest$mandir/$page" 2>"$dest/man.err")
	check "man -l $name: renders without warnings" \
		bash -c '[ -n "$1" ] && grep -q "^NAME" <<<"$1" && [ ! -s "$2" ]' _ "$out" "$dest/man.err"
	[ -s "$dest/man.err" ] && sed 's/^/    | /' "$dest/man.err"
done
check "man pages name the installed paths" grep -qF "$sysconfdir/vm/machines" "$dest$mandir/man1/vm.1"
check "completion: loads and registers for vm" \
	bash -c '. "$1" && complete -p vm | grep -q -- "-F _vm vm"' _ "$dest$completiondir/vm"
check "completion start-up hook: loads vm's completion, systemctl's too" \
	bash -c 'sed "s|$2|$1$2|g" "$1$3/vm" >"$1/hook" && . "$1/hook" &&
		complete -p vm | grep -q -- "-F _vm vm" &&
		complete -p systemctl | grep -q -- "-F _vm_systemctl"' _ "$dest" "$completiondir" "$hookdir"
check "units and init script run the installed vm" \
	grep -qF "ExecStart=-$bindir/vm boot start" "$dest$unitdir/vm.service"
check "vm@.service: start and stop the instance's directory" \
	bash -c 'grep -qF "ExecStart=$2/vm boot start %f" "$1" && grep -qF "ExecStop=$2/vm boot stop %f" "$1"' _ \
	"$dest$unitdir/vm@.service" "$bindir"
if command -v systemd-analyze >/dev/null; then
	# A template is verified through an instance of it.
	cp "$dest$unitdir/vm@.service" "$dest/vm@srv-vm-test.service"
	for unit in "$dest$unitdir/vm.service" "$dest/vm@srv-vm-test.service"; do
		out=$(systemd-analyze verify --man=no "$unit" 2>&1 | grep -v "is not executable")
		check "systemd-analyze verify $(basename "$unit"): no complaints" test -z "$out"
		[ -n "$out" ] && echo "$out" | sed 's/^/    | /'
	done
else
	skip "systemd-analyze verify" "systemd-analyze not installed"
fi
check "init script: LSB header" grep -q '^### BEGIN INIT INFO' "$dest$sysconfdir/init.d/vm"
check "init script: valid sh" sh -n "$dest$sysconfdir/init.d/vm"
"$dest$sysconfdir/init.d/vm" frobnicate >/dev/null 2>&1
check "init script: unknown action exits 2 (LSB)" test $? = 2
"$dest$sysconfdir/init.d/vm" reload >/dev/null 2>&1
check "init script: reload is unimplemented, exits 3 (LSB)" test $? = 3

# --- vm-netd and its example policy (from the vm-netd change) -----------------
netd=$dest$libexecdir/vm-netd
if [ ! -e "$netd" ]; then
	skip "vm-netd installed setuid/capabilities, --check on the example policy" \
		"vm-netd is not part of this build yet"
else
	if [ "$root" != 0 ]; then
		skip "vm-netd privilege" "not root: meson cannot chown or setcap"
	elif [ "$netd_privilege" = filecaps ]; then
		check "vm-netd: file capabilities" bash -c 'getcap "$1" | grep -q "cap_net_admin"' _ "$netd"
		check "vm-netd: root-owned, no setuid" bash -c '[ "$(stat -c %U:%a "$1")" = root:755 ]' _ "$netd"
	else
		check "vm-netd: setuid root (4755)" bash -c '[ "$(stat -c %U:%a "$1")" = root:4755 ]' _ "$netd"
	fi
	check "example policy: 0644 root" mode_is "$sysconfdir/vm/netd.conf" 644 root
	# How the setuid program is linked (SECURITY.md, hardening).
	dynamic=$(readelf -d "$netd" 2>&1)
	detail=$(grep -E "FLAGS" <<<"$dynamic") check "vm-netd: full RELRO (GNU_RELRO, BIND_NOW)" \
		bash -c 'readelf -lW "$1" | grep -q GNU_RELRO && grep -qE "\(FLAGS\).*BIND_NOW|\(FLAGS_1\).* NOW" <<<"$2"' _ "$netd" "$dynamic"
	detail=$(grep -E "RPATH|RUNPATH" <<<"$dynamic") check "vm-netd: no RPATH or RUNPATH" \
		bash -c '! grep -qE "\((RPATH|RUNPATH)\)" <<<"$1"' _ "$dynamic"
	needed=$(sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' <<<"$dynamic" | tr '\n' ' ')
	detail="needs: $needed" check "vm-netd: loads no libseccomp (the filter is built in) and no libcap-ng (linked in)" \
		bash -c '[ -n "$1" ] && ! grep -qE "libseccomp|libcap-ng" <<<"$1"' _ "$needed"
	if [ "$root" = 0 ]; then
		check "vm-netd --check on the example policy" "$netd" --check "$dest$sysconfdir/vm/netd.conf"
	else
		skip "vm-netd --check" "root-only mode"
	fi
fi

# --- a reinstall keeps the admin's configuration -------------------------------
for f in vm/vmrc vm/machines vm/netd.conf; do
	[ -e "$dest$sysconfdir/$f" ] && echo "# edited by the admin" >>"$dest$sysconfdir/$f"
done
install_all
for f in vm/vmrc vm/machines vm/netd.conf; do
	if [ -e "$dest$sysconfdir/$f" ]; then
		check "reinstall keeps the edited $f" grep -q "edited by the admin" "$dest$sysconfdir/$f"
	fi
done

finish
