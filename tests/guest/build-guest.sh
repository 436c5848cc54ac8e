#!/bin/bash
# build-guest.sh — build (or reuse) the tiny x86_64 Linux guest that vm's
# integration tests boot under QEMU.
#
# Usage: tests/guest/build-guest.sh [OUTDIR]
#
# OUTDIR defaults to ${VM_TEST_GUEST_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vm/test-guest}.
# Downloaded .deb files are kept in ${VM_TEST_GUEST_DEBS:-OUTDIR/../debs}.
# The last line on stdout is OUTDIR; progress goes to stderr.
#
# The guest is made of Debian packages only (kernel, busybox-static, dropbear,
# qemu-guest-agent) plus three small static programs of ours, sudo.c,
# seedrng.c and udpecho.c, built without mounting anything and without root: files
# are staged in a directory, mkfs.ext4 -d copies them into the image and
# debugfs sets their owners afterwards. A build is kept until this script or
# its inputs change (delete OUTDIR to pick up a newer Debian kernel).
# OUTDIR receives:
#
#   vmlinuz            the Debian kernel's bzImage (not the PVH vmlinux: S3
#                      resume needs the bzImage entry point)
#   initrd.img         busybox initramfs: loads the drivers, finds the root
#   seed.qcow2         the root file system (read-only file; boot an overlay)
#   id_ed25519[.pub]   client key authorised for root and GUEST_USER
#   host_ed25519.pub   the guest's ssh host key
#   known_hosts        that host key for any host name: `* ssh-ed25519 ...`
#   guest.env          shell assignments describing all of the above
#   stamp              hash of the inputs; a matching stamp means "complete"
#
# Guest kernel arguments understood besides the usual ones:
#   root=DEV|LABEL=L|UUID=U  default LABEL=vm-test-root (any of vda/sda)
#   vm.ip=ADDR/PREFIX vm.gw=ADDR vm.dns=ADDR   static network on eth0
#                            (default: DHCP with udhcpc)
#   vm.hostname=NAME         default testguest
#   vm.rescue                a shell on the console if the root is not found
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SCRIPT_DIR
# Every file of tests/guest/ this build reads: the stamp hashes all of them.
readonly INPUTS=(build-guest.sh sudo.c seedrng.c udpecho.c)

readonly GUEST_USER=tester
readonly GUEST_UID=1000
# The test user's password on the serial console (never over ssh), and its
# hash as busybox's mkpasswd -m sha512 gives it with this fixed salt.
readonly CONSOLE_PASSWORD=tester
readonly CONSOLE_PASSWORD_HASH='$6$vmtestguestsalt1$KAmpzCfM5e64kjndWDbDyhAq7XpFmdyTiVNR3kFHS4J8LRuxdgNEq23A71XDDrUjlLjh8kHWwkqjXYCVWokl91'
readonly GUEST_HOSTNAME=testguest
readonly ROOT_LABEL=vm-test-root
readonly ROOTFS_SIZE=64M

# The kernel comes from whatever linux-image-amd64 points to today.
readonly KERNEL_META=linux-image-amd64
# busybox for everything, dropbear for ssh, and the libraries dropbear needs.
readonly ROOTFS_PKGS=(busybox-static dropbear-bin libc6 libcrypt1 libgmp10
	libtomcrypt1 libtommath1 zlib1g)
# The QEMU guest agent (VM_GUEST_AGENT=yes) and its libraries.
readonly AGENT_PKGS=(qemu-guest-agent libglib2.0-0 libnuma1 libudev1 liburing2
	libffi8 libpcre2-8-0 libmount1 libselinux1 libblkid1)

# Drivers the initramfs loads (their dependencies are added from the
# modules' own metadata). First the virtio devices (disk, NIC, the guest
# agent's serial port, virtio-rng so that dropbear does not wait for
# entropy), vm's default NIC e1000, ext4, and the ACPI power button with its
# input device for acpid.
readonly MODULES=(virtio_pci virtio_blk virtio_net virtio_console virtio_rng
	e1000 ext4 crc32c_generic button evdev)
# Then IDE disks (vm's default disk interface): ATA on the pc machine, AHCI
# on q35. Probing them costs half a second under TCG, so the initramfs loads
# these only when the root is not on a virtio disk.
readonly ATA_MODULES=(ata_piix ata_generic ahci sd_mod)
# Not loaded at all: tun and bridge, on the root file system for a test to
# load (netd-kernel runs vm-netd on this kernel).
readonly NET_MODULES=(tun bridge)

# Library directories of a Debian amd64 system, searched for NEEDED entries.
readonly LIBDIRS=(lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu lib usr/lib)

say() { printf 'build-guest: %s\n' "$*" >&2; }
die() {
	say "error: $*"
	exit 1
}

usage() {
	cat <<EOF
usage: $0 [OUTDIR]
Builds the vm test guest into OUTDIR (default
\${VM_TEST_GUEST_DIR:-\${XDG_CACHE_HOME:-\$HOME/.cache}/vm/test-guest}) unless
it already holds a complete build of this script; prints OUTDIR last.
EOF
}

# ---------------------------------------------------------------- setup ---

resolve_outdir() {
	local dir=${1:-${VM_TEST_GUEST_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vm/test-guest}}
	dir=${dir%/}
	[[ -n $dir ]] || die "OUTDIR must not be /"
	mkdir -p "$(dirname "$dir")"
	# Absolute, because guest.env names files by their final path.
	OUTDIR=$(cd "$(dirname "$dir")" && pwd)/$(basename "$dir")
	DEBDIR=${VM_TEST_GUEST_DEBS:-$(dirname "$OUTDIR")/debs}
}

check_tools() {
	local tool missing=()
	for tool in apt-get apt-cache dpkg-deb readelf objcopy mkfs.ext4 debugfs \
		qemu-img ssh-keygen cpio gzip gcc strip flock sha256sum; do
		command -v "$tool" >/dev/null || missing+=("$tool")
	done
	((${#missing[@]} == 0)) || die "missing tools: ${missing[*]}" \
		"(Debian: apt-get install apt dpkg binutils e2fsprogs qemu-utils" \
		"openssh-client cpio gzip gcc libc6-dev util-linux)"
}

inputs_hash() {
	(cd "$SCRIPT_DIR" && sha256sum "${INPUTS[@]}") | sha256sum | cut -d' ' -f1
}

# A build is complete only once its stamp exists: the stamp is written last,
# in the temporary directory, before that directory is renamed to OUTDIR.
is_complete() {
	[[ -f $OUTDIR/stamp && $(<"$OUTDIR/stamp") == "$1" ]]
}

# Parallel test runs may all ask for the guest: one builds, the others wait
# and then find it complete.
take_lock() {
	exec 9>"$OUTDIR.lock" || die "cannot write $OUTDIR.lock (a guest built by another user?)"
	if ! flock -n 9; then
		say "waiting for another build of $OUTDIR"
		flock 9
	fi
}

make_workdir() {
	# Left-overs of builds that were killed: no build runs, we hold the lock.
	rm -rf "$OUTDIR".build.??????
	WORK=$(mktemp -d "$OUTDIR.build.XXXXXX")
	trap 'rm -rf "$WORK"' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	PKGROOT=$WORK/packages
	ROOTFS=$WORK/rootfs
	INITRAMFS=$WORK/initramfs
	OUT=$WORK/out
	mkdir -p "$PKGROOT" "$ROOTFS" "$INITRAMFS" "$OUT"
}

# ------------------------------------------------------------- packages ---

# Prints "PACKAGE FILENAME DEPENDS..." for the candidate version of each
# package, FILENAME being what apt-get download names the file, so that a
# cached file is recognised without asking the network. One apt-cache call
# for all: each call costs most of a second.
apt_candidates() {
	apt-cache show --no-all-versions "$@" 2>/dev/null | awk '
		function out() {
			if (p != "") {
				gsub(":", "%3a", v)
				print p, p "_" v "_" a ".deb", d
			}
			p = v = a = d = ""
		}
		/^Package: / { p = $2 }
		/^Version: / { v = $2 }
		/^Architecture: / { a = $2 }
		/^Depends: / { d = substr($0, 10) }
		/^$/ { out() }
		END { out() }'
}

# The kernel package linux-image-amd64 points to today. Root on a fresh
# system has no package lists yet, and nobody else can fix that.
kernel_package() {
	local info
	info=$(apt_candidates "$KERNEL_META")
	if [[ -z $info ]]; then
		((EUID == 0)) || die "apt knows no $KERNEL_META: run apt-get update as root"
		say "apt has no package lists: running apt-get update"
		apt-get update -qq >&2 || die "apt-get update failed"
		info=$(apt_candidates "$KERNEL_META")
	fi
	read -r _ _ info <<<"$info"
	[[ $info == linux-image-* ]] || die "cannot tell which kernel $KERNEL_META depends on"
	printf '%s\n' "${info%% *}"
}

# Prints the path of each package's .deb in DEBDIR, downloading what is not
# there. Downloads land in a private directory first, so an interrupted
# download never looks like a cached package.
fetch_debs() {
	local pkg file tmp missing=() files=() opts=()
	declare -A filename=()
	mkdir -p "$DEBDIR"
	while read -r pkg file _; do
		filename[$pkg]=$file
	done < <(apt_candidates "$@")
	for pkg in "$@"; do
		file=${filename[$pkg]:-}
		[[ -n $file ]] || die "apt knows no package $pkg"
		files+=("$DEBDIR/$file")
		[[ -s $DEBDIR/$file ]] || missing+=("$pkg")
	done
	if ((${#missing[@]})); then
		say "downloading ${missing[*]}"
		# apt drops to the _apt user for downloads, who cannot write here.
		((EUID != 0)) || opts=(-o APT::Sandbox::User=root)
		tmp=$(mktemp -d "$DEBDIR/.download.XXXXXX")
		(cd "$tmp" && apt-get download -q "${opts[@]}" "${missing[@]}") >&2 ||
			{
				rm -rf "$tmp"
				die "apt-get download failed"
			}
		mv -f "$tmp"/*.deb "$DEBDIR"/
		rm -rf "$tmp"
	fi
	for file in "${files[@]}"; do
		[[ -s $file ]] || die "download did not produce $file"
		printf '%s\n' "$file"
	done
}

unpack_debs() {
	local deb
	for deb in "$@"; do
		dpkg-deb -x "$deb" "$PKGROOT" || die "cannot unpack $deb"
	done
}

download_and_unpack() {
	local kpkg debs
	kpkg=$(kernel_package)
	say "kernel package: $kpkg"
	debs=$(fetch_debs "$kpkg" "${ROOTFS_PKGS[@]}" "${AGENT_PKGS[@]}")
	mapfile -t debs <<<"$debs"
	unpack_debs "${debs[@]}"
	KVER=$(basename "$(find "$PKGROOT/lib/modules" -mindepth 1 -maxdepth 1 -type d)")
	[[ -f $PKGROOT/boot/vmlinuz-$KVER ]] || die "no boot/vmlinuz-$KVER in $kpkg"
}

# ---------------------------------------------------------------- files ---

# Follows symlinks inside PKGROOT (absolute targets mean PKGROOT-relative),
# printing the relative path of what a path finally names.
resolve_in_pkgroot() {
	local rel=$1 target n=0
	while [[ -L $PKGROOT/$rel ]]; do
		((++n < 40)) || die "symlink loop at $rel"
		target=$(readlink "$PKGROOT/$rel")
		if [[ $target == /* ]]; then
			rel=${target#/}
		else
			rel=$(dirname "$rel")/$target
		fi
	done
	printf '%s\n' "$rel"
}

# Copies PKGROOT/REL to ROOTFS/REL, and along a symlink what it points to.
copy_from_pkgroot() {
	local rel=$1 target
	[[ -e $PKGROOT/$rel || -L $PKGROOT/$rel ]] || die "no $rel in the packages"
	mkdir -p "$ROOTFS/$(dirname "$rel")"
	cp -P "$PKGROOT/$rel" "$ROOTFS/$rel"
	if [[ -L $PKGROOT/$rel ]]; then
		target=$(readlink "$PKGROOT/$rel")
		if [[ $target == /* ]]; then
			copy_from_pkgroot "${target#/}"
		else
			copy_from_pkgroot "$(dirname "$rel")/$target"
		fi
	fi
}

find_library() {
	local name=$1 dir
	for dir in "${LIBDIRS[@]}"; do
		if [[ -e $PKGROOT/$dir/$name || -L $PKGROOT/$dir/$name ]]; then
			printf '%s\n' "$dir/$name"
			return 0
		fi
	done
	return 1
}

declare -A INSTALLED_ELF=()

# Copies an executable or library and, recursively, the libraries it is
# linked against (its NEEDED entries) and its program interpreter.
install_elf() {
	local rel=$1 real lib found interp
	[[ -z ${INSTALLED_ELF[$rel]:-} ]] || return 0
	INSTALLED_ELF[$rel]=1
	copy_from_pkgroot "$rel"
	real=$PKGROOT/$(resolve_in_pkgroot "$rel")
	interp=$(readelf -l "$real" | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
	[[ -z $interp ]] || copy_from_pkgroot "${interp#/}"
	for lib in $(readelf -d "$real" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
		found=$(find_library "$lib") ||
			die "$rel needs $lib, which none of the downloaded packages has"
		install_elf "$found"
	done
}

# Runs a program from the unpacked packages on the host, with their loader
# and libraries, so the host's own libraries do not matter.
run_unpacked() {
	local prog=$1 loader libpath dir
	shift
	loader=$PKGROOT/$(resolve_in_pkgroot lib64/ld-linux-x86-64.so.2)
	libpath=
	for dir in "${LIBDIRS[@]}"; do libpath+=${libpath:+:}$PKGROOT/$dir; done
	"$loader" --library-path "$libpath" "$PKGROOT/$prog" "$@"
}

# Writes stdin to a file of the staged root file system with the given mode.
# Whatever was there goes first: writing through a staged symlink (a busybox
# applet link points to /bin/busybox) would write to the host's file.
put() {
	local mode=$1 path=$2
	mkdir -p "$(dirname "$path")"
	rm -f "$path"
	cat >"$path"
	chmod "$mode" "$path"
}

# ------------------------------------------------------------ initramfs ---

declare -A MODULE_PATH=()
declare -A MODULE_BUILTIN=()
declare -A MODULE_QUEUED=()
MODULE_ORDER=()

# Sets NAME to the module name of a .ko path: no directory, no suffix, `_`
# for `-` (the kernel treats them alike).
module_name() {
	NAME=${1##*/}
	NAME=${NAME%%.ko*}
	NAME=${NAME//-/_}
}

index_modules() {
	local mdir=$PKGROOT/lib/modules/$KVER path NAME
	while IFS= read -r path; do
		module_name "$path"
		MODULE_PATH[$NAME]=$path
	done < <(find "$mdir/kernel" -name '*.ko*')
	while IFS= read -r path; do
		module_name "$path"
		MODULE_BUILTIN[$NAME]=1
	done <"$mdir/modules.builtin"
}

# The package ships no modules.dep (depmod writes it at install time), so the
# dependencies come from each module's own `depends=` field.
module_depends() {
	local tmp=$WORK/modinfo
	objcopy -O binary -j .modinfo "$1" "$tmp"
	tr '\0' '\n' <"$tmp" | sed -n 's/^depends=//p' | tr ',' ' '
}

# Depth first, so that every module comes after the ones it needs.
queue_module() {
	local name=${1//-/_} dep
	[[ -z ${MODULE_QUEUED[$name]:-} && -z ${MODULE_BUILTIN[$name]:-} ]] || return 0
	[[ -n ${MODULE_PATH[$name]:-} ]] || die "kernel $KVER has no module $name"
	MODULE_QUEUED[$name]=1
	for dep in $(module_depends "${MODULE_PATH[$name]}"); do
		queue_module "$dep"
	done
	MODULE_ORDER+=("$name")
}

# busybox insmod reads plain .ko files only.
copy_module() {
	local src=$1 dst=$2
	case $src in
	*.ko.xz) xz -dc "$src" >"$dst" ;;
	*.ko.zst) zstd -qdc "$src" >"$dst" ;;
	*.ko.gz) gzip -dc "$src" >"$dst" ;;
	*) cp "$src" "$dst" ;;
	esac
}

# DIR NAME...: each module NAME as DIR/NAME.ko.
copy_modules() {
	local dir=$1 name
	shift
	mkdir -p "$dir"
	for name; do copy_module "${MODULE_PATH[$name]}" "$dir/$name.ko"; done
}

stage_modules() {
	local name n_base dir=$INITRAMFS/lib/modules
	index_modules
	for name in "${MODULES[@]}"; do queue_module "$name"; done
	n_base=${#MODULE_ORDER[@]}
	for name in "${ATA_MODULES[@]}"; do queue_module "$name"; done
	copy_modules "$dir" "${MODULE_ORDER[@]}"
	printf '%s\n' "${MODULE_ORDER[@]:0:n_base}" >"$dir/load-order"
	printf '%s\n' "${MODULE_ORDER[@]:n_base}" >"$dir/load-order.ata"
	say "initramfs modules: ${MODULE_ORDER[*]}"
}

# NET_MODULES and what they need beyond the initramfs's, as
# /lib/modules/NAME.ko on the root file system, in /lib/modules/load-order.net
# (after stage_modules: the index and the modules already queued are its).
stage_net_modules() {
	local name first=${#MODULE_ORDER[@]} dir=$ROOTFS/lib/modules
	for name in "${NET_MODULES[@]}"; do queue_module "$name"; done
	copy_modules "$dir" "${MODULE_ORDER[@]:first}"
	printf '%s\n' "${MODULE_ORDER[@]:first}" >"$dir/load-order.net"
}

# Links for every applet at its usual place (for root) and in /bin (dropbear
# gives ordinary users PATH=/usr/bin:/bin only).
install_busybox_links() {
	local root=$1 applet
	mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin"
	cp "$PKGROOT/bin/busybox" "$root/bin/busybox"
	while IFS= read -r applet; do
		[[ $applet == */* ]] || continue # linuxrc: not wanted
		[[ -e $root/$applet || -L $root/$applet ]] ||
			ln -s /bin/busybox "$root/$applet"
		[[ -e $root/bin/${applet##*/} || -L $root/bin/${applet##*/} ]] ||
			ln -s busybox "$root/bin/${applet##*/}"
	done < <(run_busybox --list-full)
}

run_busybox() { "$PKGROOT/bin/busybox" "$@"; }

write_init() {
	put 0755 "$INITRAMFS/init" <<'EOF'
#!/bin/sh
# /init of the vm test guest's initramfs: load the drivers, find the root
# file system, hand over to its /sbin/init.
PATH=/sbin:/bin:/usr/sbin:/usr/bin
export PATH

# The archive holds no device nodes (it is built without root): the console
# and the disks come from devtmpfs.
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys

root=LABEL=@ROOT_LABEL@
rootfstype=ext4
rootflags=rw
init=/sbin/init
rescue=
for arg in $(cat /proc/cmdline); do
	case $arg in
	root=*) root=${arg#root=} ;;
	rootfstype=*) rootfstype=${arg#rootfstype=} ;;
	rootflags=*) rootflags=rw,${arg#rootflags=} ;;
	init=*) init=${arg#init=} ;;
	vm.rescue) rescue=yes ;;
	esac
done

fail() {
	echo "initramfs: $*"
	if [ -n "$rescue" ]; then
		echo "initramfs: vm.rescue given: starting a shell"
		exec sh
	fi
	echo "initramfs: powering off (add vm.rescue for a shell instead)"
	poweroff -f
}

load_modules() {
	while read -r module; do
		insmod "/lib/modules/$module.ko" || echo "initramfs: cannot load $module"
	done <"$1"
}

find_root() {
	case $root in
	LABEL=* | UUID=*) findfs "$root" 2>/dev/null ;;
	*) [ -b "$root" ] && echo "$root" ;;
	esac
}

# wait_root TENTHS: disks appear asynchronously; sets dev when root is there.
wait_root() {
	tries=0
	until dev=$(find_root) && [ -n "$dev" ]; do
		tries=$((tries + 1))
		[ "$tries" -le "$1" ] || return 1
		usleep 100000
	done
}

load_modules /lib/modules/load-order
# The IDE drivers only when the root is not on a virtio disk: they take half
# a second to probe. Then up to 20 s, as ATA probing is slow under TCG.
dev=
if ! ls /sys/block | grep -q '^vd' || ! wait_root 10; then
	load_modules /lib/modules/load-order.ata
	wait_root 200 || fail "root file system $root not found"
fi

mkdir -p /newroot
mount -t "$rootfstype" -o "$rootflags" "$dev" /newroot ||
	fail "cannot mount $dev ($root) as $rootfstype"
[ -x "/newroot$init" ] || fail "$root has no $init"
mount --move /dev /newroot/dev
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
exec switch_root /newroot "$init"
EOF
	sed -i "s/@ROOT_LABEL@/$ROOT_LABEL/" "$INITRAMFS/init"
}

build_initramfs() {
	say "building initrd.img"
	mkdir -p "$INITRAMFS"/{dev,proc,sys,newroot}
	install_busybox_links "$INITRAMFS"
	stage_modules
	write_init
	# -R 0:0: the files belong to root in the guest whoever builds it.
	(cd "$INITRAMFS" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet) | gzip -9 >"$OUT/initrd.img"
}

# ------------------------------------------------------------ root fs ---

stage_programs() {
	install_busybox_links "$ROOTFS"
	install_elf usr/sbin/dropbear
	install_elf usr/sbin/qemu-ga
	# Ours: sudo (the guest has no PAM and no sudo package) and seedrng
	# (busybox 1.35 has none; see seedrng.c for why the guest needs it).
	build_static sudo.c usr/bin/sudo -DSUDO_ALLOWED_UID="$GUEST_UID"
	chmod 4755 "$ROOTFS/usr/bin/sudo"
	build_static seedrng.c sbin/seedrng
	mkdir -p "$ROOTFS/var/lib/seedrng"
	head -c 64 /dev/urandom | put 0600 "$ROOTFS/var/lib/seedrng/seed"
	# udpecho: busybox's nc has no UDP mode; the UDP forward tests need one.
	build_static udpecho.c usr/bin/udpecho
}

# build_static SOURCE DEST [CFLAGS...]: a program of ours, static so that it
# needs nothing from the guest's libraries.
build_static() {
	local src=$1 dest=$ROOTFS/$2
	shift 2
	rm -f "$dest" # as in put()
	gcc -static -Os -Wall -Wextra -Werror "$@" -o "$dest" "$SCRIPT_DIR/$src" ||
		die "cannot build $src (gcc -static needs libc6-dev)"
	strip "$dest"
}

stage_skeleton() {
	local d
	for d in dev proc sys run tmp mnt root etc/dropbear etc/init.d \
		var/log home/"$GUEST_USER"/.ssh root/.ssh usr/share/udhcpc; do
		mkdir -p "$ROOTFS/$d"
	done
	chmod 1777 "$ROOTFS/tmp"
	chmod 0700 "$ROOTFS/root" "$ROOTFS/root/.ssh" "$ROOTFS/home/$GUEST_USER/.ssh"
	ln -s /run "$ROOTFS/var/run"
	# /etc stays clean at run time: rcS and udhcpc write these under /run.
	ln -s /run/resolv.conf "$ROOTFS/etc/resolv.conf"
	ln -s /run/hosts "$ROOTFS/etc/hosts"
}

stage_accounts() {
	put 0644 "$ROOTFS/etc/passwd" <<EOF
root:x:0:0:root:/root:/bin/sh
$GUEST_USER:x:$GUEST_UID:$GUEST_UID:vm test user:/home/$GUEST_USER:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
	put 0644 "$ROOTFS/etc/group" <<EOF
root:x:0:
tty:x:5:
$GUEST_USER:x:$GUEST_UID:
nogroup:x:65534:
EOF
	# `*`: no password can ever match; ssh logins are by key only (dropbear
	# runs with -s). The test user's password, GUEST_CONSOLE_PASSWORD, serves
	# the serial console's getty only (vm console's test).
	put 0640 "$ROOTFS/etc/shadow" <<EOF
root:*:19000:0:99999:7:::
$GUEST_USER:$CONSOLE_PASSWORD_HASH:19000:0:99999:7:::
nobody:*:19000:0:99999:7:::
EOF
	# dropbear refuses users whose shell is not listed here.
	put 0644 "$ROOTFS/etc/shells" <<'EOF'
/bin/sh
/bin/ash
EOF
	# glibc's getpwnam (in dropbear) needs to know to read the files.
	put 0644 "$ROOTFS/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
shadow: files
hosts: files dns
EOF
	put 0644 "$ROOTFS/etc/profile" <<'EOF'
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
PS1='\u@\h:\w\$ '
EOF
	put 0644 "$ROOTFS/etc/hostname" <<<"$GUEST_HOSTNAME"
	put 0644 "$ROOTFS/etc/os-release" <<'EOF'
PRETTY_NAME="vm test guest (busybox and dropbear from Debian 12)"
NAME="vm test guest"
ID=vm-test-guest
ID_LIKE=debian
VERSION_ID=1
EOF
}

stage_keys() {
	ssh-keygen -q -t ed25519 -N '' -C vm-test-guest -f "$OUT/id_ed25519" >&2
	cp "$OUT/id_ed25519.pub" "$ROOTFS/root/.ssh/authorized_keys"
	cp "$OUT/id_ed25519.pub" "$ROOTFS/home/$GUEST_USER/.ssh/authorized_keys"
	chmod 0600 "$ROOTFS/root/.ssh/authorized_keys" \
		"$ROOTFS/home/$GUEST_USER/.ssh/authorized_keys"

	# The host key is made now, so that known_hosts can be written now.
	run_unpacked usr/bin/dropbearkey -t ed25519 \
		-f "$ROOTFS/etc/dropbear/dropbear_ed25519_host_key" >/dev/null 2>&1 ||
		die "dropbearkey failed"
	chmod 0600 "$ROOTFS/etc/dropbear/dropbear_ed25519_host_key"
	run_unpacked usr/bin/dropbearkey -y \
		-f "$ROOTFS/etc/dropbear/dropbear_ed25519_host_key" 2>/dev/null |
		awk '$1 == "ssh-ed25519" { print $1, $2, "vm-test-guest" }' \
			>"$OUT/host_ed25519.pub"
	[[ -s $OUT/host_ed25519.pub ]] || die "cannot read the host key back"
	# `*` matches any host name, also the `[127.0.0.1]:PORT` of a forwarded port.
	printf '* %s\n' "$(<"$OUT/host_ed25519.pub")" >"$OUT/known_hosts"
}

stage_init() {
	put 0644 "$ROOTFS/etc/inittab" <<'EOF'
# busybox init: rcS boots, rcK runs before the power-off or reboot.
::sysinit:/etc/init.d/rcS
::respawn:/usr/sbin/dropbear -F -E -s -r /etc/dropbear/dropbear_ed25519_host_key
::respawn:/sbin/acpid -f
ttyS0::respawn:/sbin/getty -L 115200 ttyS0 vt100
::ctrlaltdel:/sbin/reboot
::shutdown:/etc/init.d/rcK
::restart:/sbin/init
EOF
	put 0755 "$ROOTFS/etc/init.d/rcS" <<'EOF'
#!/bin/sh
# The whole boot of the vm test guest.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH

# The initramfs moves /dev, /proc and /sys here; mount what is missing.
[ -e /proc/mounts ] || mount -t proc proc /proc
mounted() { grep -q "^[^ ]* $1 " /proc/mounts; }
mounted /dev || mount -t devtmpfs devtmpfs /dev
mounted /sys || mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm
# dropbear needs ptys for interactive sessions.
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /dev/shm
mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs /run
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /tmp
ln -sf /proc/self/fd /dev/fd
ln -sf fd/0 /dev/stdin
ln -sf fd/1 /dev/stdout
ln -sf fd/2 /dev/stderr
: >/run/resolv.conf
mkdir -p /run/lock /var/log
# Before anything wants random numbers: without virtio-rng the kernel would
# need seconds to get ready, and dropbear would wait.
seedrng
touch /var/log/lastlog /var/log/wtmp

ip= gw= dns= name=$(cat /etc/hostname)
for arg in $(cat /proc/cmdline); do
	case $arg in
	vm.ip=*) ip=${arg#vm.ip=} ;;
	vm.gw=*) gw=${arg#vm.gw=} ;;
	vm.dns=*) dns=${arg#vm.dns=} ;;
	vm.hostname=*) name=${arg#vm.hostname=} ;;
	esac
done
hostname "$name"
printf '127.0.0.1 localhost\n127.0.1.1 %s\n' "$name" >/run/hosts

ip link set lo up
if [ -e /sys/class/net/eth0 ]; then
	if [ -n "$ip" ]; then
		ip addr add "$ip" dev eth0
		ip link set eth0 up
		[ -z "$gw" ] || ip route add default via "$gw" dev eth0
		[ -z "$dns" ] || echo "nameserver $dns" >/run/resolv.conf
	else
		ip link set eth0 up
		# Backgrounds itself if no lease comes quickly (a bridge without DHCP).
		udhcpc -i eth0 -b -t 3 -T 1 -A 5 -p /run/udhcpc.eth0.pid \
			-s /etc/udhcpc/default.script >/dev/null
	fi
fi

# udev would make /dev/virtio-ports/NAME; there is no udev here.
mkdir -p /dev/virtio-ports
for f in /sys/class/virtio-ports/*/name; do
	[ -r "$f" ] || continue
	port=${f%/name}
	port=${port##*/}
	read -r pname <"$f" && [ -n "$pname" ] && ln -sf "../$port" "/dev/virtio-ports/$pname"
done
qga=/dev/virtio-ports/org.qemu.guest_agent.0
if [ -e "$qga" ] && [ -x /usr/sbin/qemu-ga ]; then
	qemu-ga -d -m virtio-serial -p "$qga" -f /run/qemu-ga.pid
fi
EOF
	put 0755 "$ROOTFS/etc/init.d/rcK" <<'EOF'
#!/bin/sh
# Run by init before it kills everything and powers off or reboots: leave a
# clean file system behind.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
sync
mount -o remount,ro / 2>/dev/null
sync
EOF
	# busybox acpid runs /etc/acpi/PWRF/00000080 for the power button
	# (QEMU's system_powerdown): see its compiled-in action table.
	put 0755 "$ROOTFS/etc/acpi/PWRF/00000080" <<'EOF'
#!/bin/sh
exec /sbin/poweroff
EOF
	# Debian's busybox looks for /etc/udhcpc/default.script, upstream's for
	# /usr/share/udhcpc/default.script: both find it.
	ln -s /etc/udhcpc/default.script "$ROOTFS/usr/share/udhcpc/default.script"
	put 0755 "$ROOTFS/etc/udhcpc/default.script" <<'EOF'
#!/bin/sh
# Called by busybox udhcpc with deconfig|bound|renew|leasefail|nak.
case $1 in
deconfig)
	ip -4 addr flush dev "$interface"
	ip link set "$interface" up
	;;
bound | renew)
	# A renewal of the same address must not drop open connections.
	if ! ip -4 addr show dev "$interface" | grep -q " $ip/${mask:-24} "; then
		ip -4 addr flush dev "$interface"
		ip addr add "$ip/${mask:-24}" dev "$interface"
	fi
	if [ -n "$router" ]; then
		ip route del default dev "$interface" 2>/dev/null
		set -- $router
		ip route add default via "$1" dev "$interface"
	fi
	if [ -n "$dns" ]; then
		: >/run/resolv.conf
		for d in $dns; do echo "nameserver $d" >>/run/resolv.conf; done
	fi
	;;
esac
exit 0
EOF
}

# What vm runs in a guest, made to work as on a systemd guest.
stage_stand_ins() {
	put 0755 "$ROOTFS/usr/bin/systemctl" <<'EOF'
#!/bin/sh
# systemctl stand-in of the vm test guest (busybox init, no systemd).
# Like the real one, suspend/poweroff/reboot return at once and the guest
# goes down a moment later, so the ssh session that asked ends cleanly.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
later() {
	setsid sh -c "sleep 0.3; $1" </dev/null >/dev/null 2>&1 &
}
case $1 in
suspend) sync; later 'echo mem >/sys/power/state' ;;
poweroff) later 'poweroff' ;;
reboot) later 'reboot' ;;
halt) later 'halt' ;;
is-system-running) echo running ;;
status)
	# LSB "unknown unit": qemu-ga then suspends through /sys/power/state.
	echo "systemctl: unit $2 unknown in the test guest" >&2
	exit 4
	;;
*)
	echo "systemctl (test guest stand-in): '$1' is not supported" >&2
	exit 1
	;;
esac
EOF
	ln -s /usr/bin/systemctl "$ROOTFS/bin/loginctl"
	# qemu-ga's guest-shutdown runs /sbin/shutdown, which busybox lacks.
	put 0755 "$ROOTFS/sbin/shutdown" <<'EOF'
#!/bin/sh
# shutdown stand-in: -r reboots, -h/-P (the default) powers off; no delays.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
action=poweroff
for arg; do
	case $arg in
	-r) action=reboot ;;
	-H) action=halt ;;
	esac
done
exec $action
EOF
}

# mkfs.ext4 -d copies the builder's ownership; debugfs then gives every
# file to root and the home directory to the test user, so no root is needed.
fix_ownership() {
	local image=$1 cmds=$WORK/debugfs.cmds path uid
	(cd "$ROOTFS" && find . -mindepth 1) | while IFS= read -r path; do
		path=${path#.}
		uid=0
		[[ $path != /home/$GUEST_USER && $path != /home/$GUEST_USER/* ]] ||
			uid=$GUEST_UID
		printf 'sif "%s" uid %d\nsif "%s" gid %d\n' "$path" "$uid" "$path" "$uid"
	done >"$cmds"
	debugfs -w -f "$cmds" "$image" >/dev/null 2>"$WORK/debugfs.err" ||
		die "debugfs failed: $(cat "$WORK/debugfs.err")"
	# debugfs reports failed commands on stderr but still exits 0.
	! grep -v '^debugfs ' "$WORK/debugfs.err" >&2 || die "debugfs could not set owners"
}

build_rootfs() {
	say "building seed.qcow2"
	stage_skeleton
	stage_programs
	stage_accounts
	stage_keys
	stage_init
	stage_stand_ins
	stage_net_modules
	truncate -s "$ROOTFS_SIZE" "$WORK/root.img"
	mkfs.ext4 -q -F -L "$ROOT_LABEL" -m 0 -E root_owner=0:0 -d "$ROOTFS" \
		"$WORK/root.img" >&2 || die "mkfs.ext4 failed"
	fix_ownership "$WORK/root.img"
	qemu-img convert -f raw -O qcow2 "$WORK/root.img" "$OUT/seed.qcow2" ||
		die "qemu-img convert failed"
	# Tests boot overlays on it (or vm init copies it); never the seed itself.
	chmod 0444 "$OUT/seed.qcow2"
}

# ------------------------------------------------------------- outputs ---

# Single quotes, so the file is also valid in vm's safe .vmrc subset.
env_line() {
	printf "%s='%s'\n" "$1" "${2//\'/\'\\\'\'}"
}

write_outputs() {
	local append="console=ttyS0 root=LABEL=$ROOT_LABEL quiet"
	cp "$PKGROOT/boot/vmlinuz-$KVER" "$OUT/vmlinuz"
	{
		echo "# The vm test guest, made by tests/guest/build-guest.sh."
		env_line GUEST_DIR "$OUTDIR"
		env_line GUEST_USER "$GUEST_USER"
		env_line GUEST_UID "$GUEST_UID"
		env_line GUEST_HOSTNAME "$GUEST_HOSTNAME"
		env_line GUEST_KERNEL "$OUTDIR/vmlinuz"
		env_line GUEST_KERNEL_VERSION "$KVER"
		env_line GUEST_INITRD "$OUTDIR/initrd.img"
		env_line GUEST_SEED "$OUTDIR/seed.qcow2"
		env_line GUEST_KEY "$OUTDIR/id_ed25519"
		env_line GUEST_KNOWN_HOSTS "$OUTDIR/known_hosts"
		env_line GUEST_HOST_KEY "$OUTDIR/host_ed25519.pub"
		env_line GUEST_AGENT yes
		env_line GUEST_CONSOLE_PASSWORD "$CONSOLE_PASSWORD"
		env_line GUEST_APPEND "$append"
		# The seed has no boot loader: whatever boots it passes these, e.g.
		# vm through VM_QEMU_EXTRA (which honours the double quotes).
		env_line GUEST_QEMU_EXTRA "-kernel $OUTDIR/vmlinuz -initrd $OUTDIR/initrd.img -append \"$append\""
	} >"$OUT/guest.env"
}

# The stamp last, then one rename: OUTDIR is either the old build or the
# complete new one. The old one goes with WORK.
install_outdir() {
	printf '%s\n' "$1" >"$OUT/stamp"
	if [[ -e $OUTDIR ]]; then
		mv "$OUTDIR" "$WORK/previous"
	fi
	mv "$OUT" "$OUTDIR"
}

main() {
	local hash
	case ${1:-} in -h | --help)
		usage
		exit 0
		;;
	esac
	(($# <= 1)) || {
		usage >&2
		exit 2
	}
	# stdout carries only the result; everything else goes to stderr.
	exec 3>&1 1>&2
	resolve_outdir "${1:-}"
	hash=$(inputs_hash)
	if ! is_complete "$hash"; then
		check_tools
		take_lock
		if ! is_complete "$hash"; then
			SECONDS=0
			make_workdir
			download_and_unpack
			build_initramfs
			build_rootfs
			write_outputs
			install_outdir "$hash"
			say "built $OUTDIR in ${SECONDS}s"
		fi
	fi
	printf '%s\n' "$OUTDIR" >&3
}

main "$@"
