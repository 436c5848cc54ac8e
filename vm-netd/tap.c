#include "tap.h"

#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

int tap_create(int tun_fd, const char *name, uid_t owner, struct error *err)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	/* vnet headers let virtio-net offload; QEMU sees the flag for itself. */
	ifr.ifr_flags = (short)(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_TUN_EXCL);
	if (ioctl(tun_fd, TUNSETIFF, &ifr) < 0)
		return error_errno(err, "cannot create tap %s", name);
	if (strncmp(ifr.ifr_name, name, sizeof(ifr.ifr_name)))
		return error_set(err, "the kernel named the tap %.16s, not %s", ifr.ifr_name, name);
	if (ioctl(tun_fd, TUNSETOWNER, (unsigned long)owner) < 0)
		return error_errno(err, "cannot give tap %s to uid %u", name, (unsigned)owner);
	return 0;
}
