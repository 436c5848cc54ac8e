/* The floor under vm-netd: a setuid program linked as vm-netd is (libc,
 * libmnl, the static libcap-ng and its constructor, PIE, full RELRO) that
 * says so on fd 3 as soon as its main runs, and ends. The time to that
 * word, started as vm starts vm-netd, is what the kernel's setuid exec and
 * the dynamic loader cost before any of vm-netd's steps runs: netd-bench.sh
 * weighs the target against it. Where it cannot start under a limit, the
 * loader cannot, and vm-netd could not record a request (netd-test.sh). */
#include <cap-ng.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	(void)argv;
	/* Never taken: it keeps both libraries linked, as in vm-netd. */
	if (argc > 1) {
		capng_clear(CAPNG_SELECT_ALL);
		return mnl_socket_open(NETLINK_ROUTE) != NULL;
	}
	return write(3, "", 1) == 1 ? 0 : 1;
}
