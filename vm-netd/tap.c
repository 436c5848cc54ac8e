#include "tap.h"

#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

/* vnet headers let virtio-net offload; QEMU sees the flag for itself. */
#define TAP_FLAGS (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)

/* -1: refused (errno); -2: the kernel put the fd on a device named got
 * (it writes back the name of the device the fd is now on). */
static int set_iff(int tun_fd, const char *name, int flags, char got[IFNAMSIZ])
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = (short)flags;
	if (ioctl(tun_fd, TUNSETIFF, &ifr) < 0)
		return -1;
	memcpy(got, ifr.ifr_name, IFNAMSIZ);
	got[IFNAMSIZ - 1] = '\0';
	return strncmp(ifr.ifr_name, name, sizeof(ifr.ifr_name)) ? -2 : 0;
}

int tap_create(int tun_fd, const char *name, uid_t owner, bool multi_queue, struct error *err)
{
	int flags = TAP_FLAGS | IFF_TUN_EXCL | (multi_queue ? IFF_MULTI_QUEUE : 0);
	char got[IFNAMSIZ];
	int rc = set_iff(tun_fd, name, flags, got);
	if (rc == -1)
		return error_errno(err, "cannot create tap %s", name);
	if (rc == -2)
		return error_set(err, "the kernel named the tap %s, not %s", got, name);
	if (ioctl(tun_fd, TUNSETOWNER, (unsigned long)owner) < 0)
		return error_errno(err, "cannot give tap %s to uid %u", name, (unsigned)owner);
	return 0;
}

int tap_attach_queue(int tun_fd, const char *name, struct error *err)
{
	/* Not IFF_TUN_EXCL (the tap exists); the flags must be the tap's. */
	char got[IFNAMSIZ];
	int rc = set_iff(tun_fd, name, TAP_FLAGS | IFF_MULTI_QUEUE, got);
	if (rc == -1)
		return error_errno(err, "cannot attach a queue to tap %s", name);
	if (rc == -2)
		return error_set(err, "a queue for tap %s went to %s", name, got);
	return 0;
}
