#include "emulator/bridge.h"

#include "log.h"

#include <stdlib.h>
#include <unistd.h>

int bridge_attach(struct machine *m, struct qemu_launch *launch, struct netclient_tap *tap,
		  struct error *err)
{
	tap->nfds = 0;
	tap->helper = 0;
	if (launch->network != QEMU_NET_BRIDGE)
		return 0;
	/* Before vm-netd makes a tap that the command line would refuse. */
	if (qemu_check_net_queues(&m->cfg, launch->network, launch->report, err) < 0)
		return -1;
	pid_t pid = 0;
	if (machine_running(m, &pid))
		return error_set(err,
				 "the machine %s is already running (pid %d): use 'vm stop' or "
				 "'vm kill' first",
				 machine_name(m), (int)pid);
	const char *bridge = config_get(&m->cfg, "VM_NET_BRIDGE");
	log_debug("asking %s for a tap on %s", netclient_helper_path(), bridge);
	if (netclient_open_tap(bridge, (unsigned)config_int(&m->cfg, "VM_MACHINE_ID"),
			       launch->create_bridge, qemu_net_queues(&m->cfg, launch->network),
			       tap, err) < 0)
		return -1;
	log_progress("tap %s on bridge %s, MAC %s, %zu queue%s", tap->name, bridge,
		     config_get(&m->cfg, "VM_NET_MAC"), tap->nfds, tap->nfds > 1 ? "s" : "");
	launch->tap = tap;
	return 0;
}

void bridge_release(struct netclient_tap *tap)
{
	netclient_close_tap(tap);
}
