#!/usr/bin/env bash
# Makes a fresh Debian 12 machine ready for vm: installs the packages it
# needs to build, run and test, builds it, installs it under /usr/local and
# builds the small test guest that the demo and the tests boot. It needs
# root: run by another user, it asks sudo, or su (for the root password) on a
# machine without sudo, as a fresh Debian 12 with a root password is.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
	# build
	meson ninja-build pkg-config gcc libc6-dev clang
	libcap-ng-dev libmnl-dev libseccomp-dev libjson-c-dev libcriterion-dev
	scdoc bash-completion python3
	# run: the emulator, images, guest access, archives
	qemu-system-x86 qemu-utils openssh-client screen
	xz-utils gzip bzip2 lz4 zstd
	# vm-netd and its tests: netlink tools, namespaces, users, capabilities
	iproute2 util-linux passwd libcap2-bin procps strace
	# the test guest, built from Debian packages without mounting anything
	e2fsprogs cpio binutils apt
	# the console test drives a terminal
	tmux
	# the demo fetches a page from the guest through a port forward
	curl
	# the install test reads the man pages
	man-db
	# vm export's tests: libvirt's schemas (virt-xml-validate) and a real
	# libvirt daemon to define and boot the export in
	libvirt-daemon-system libvirt-clients libxml2-utils
	# the boot test verifies the units (systemd-analyze)
	systemd
)

if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null; then
		exec sudo "$0" "$@"
	fi
	echo "setup-debian.sh: needs root; there is no sudo, so su asks for root's password" >&2
	exec su root -c "$(printf '%q ' "$0" "$@")"
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${packages[@]}"

[ -d build ] || meson setup build --prefix=/usr/local
meson compile -C build
meson install -C build --quiet

# The test guest, shared by every user of this machine (the demo runs as you).
export VM_TEST_GUEST_DIR=${VM_TEST_GUEST_DIR:-/var/cache/vm/test-guest}
mkdir -p "$(dirname "$VM_TEST_GUEST_DIR")"
if [ -x tests/guest/build-guest.sh ]; then
	tests/guest/build-guest.sh "$VM_TEST_GUEST_DIR" >/dev/null
	chmod -R a+rX "$VM_TEST_GUEST_DIR"
fi
echo "vm is installed: $(command -v vm)"
