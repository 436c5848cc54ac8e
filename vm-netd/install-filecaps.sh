#!/bin/sh
# meson install script for netd_privilege=filecaps: vm-netd gets exactly the
# capabilities it needs instead of the setuid bit. CAP_SETPCAP lets it clear
# its bounding set before it drops to CAP_NET_ADMIN alone.
set -eu
path="${DESTDIR-}$1"
chmod 0755 "$path"
setcap cap_net_admin,cap_setpcap+ep "$path"
echo "Gave $path the capabilities cap_net_admin,cap_setpcap+ep"
