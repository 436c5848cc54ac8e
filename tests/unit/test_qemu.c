/* The emulator's command line, built from a machine's configuration. */
#include "emulator/qemu.h"
#include "net/netclient.h"
#include "vmtest.h"
#include "xalloc.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct config cfg;
static struct runtime rt = {.qmp_socket = "/run/vm/42/qmp.sock",
			    .ga_socket = "/run/vm/42/agent.sock",
			    .pid_file = "/run/vm/42/qemu.pid"};

/* The test machine, with its single image's name and its TCP monitor's
 * address. */
static void machine(void)
{
	vt_test_machine(&cfg);
	vars_set(&cfg.vars, "VM_IMAGE_FILENAME", "tg.qcow2");
	vars_set(&cfg.vars, "VM_NET_LISTEN", "127.0.0.1");
	vars_set(&cfg.vars, "VM_NET_PORT", "7742");
}

static char *build(struct qemu_launch launch, struct error *err, int *rc)
{
	launch.cfg = &cfg;
	launch.rt = &rt;
	struct strv argv = STRV_INIT;
	*rc = qemu_build_command(&launch, &argv, err);
	char *line = strv_join(&argv, " ");
	strv_free(&argv);
	return line;
}

static char *built(struct qemu_launch launch)
{
	struct error err;
	int rc;
	char *line = build(launch, &err, &rc);
	cr_assert_eq(rc, 0, "%s", err.msg);
	return line;
}

#define assert_has(line, part) cr_assert(strstr(line, part), "'%s' lacks '%s'", line, part)
#define assert_lacks(line, part) cr_assert_not(strstr(line, part), "'%s' has '%s'", line, part)

Test(qemu, nat_machine_in_the_background)
{
	machine();
	vars_set(&cfg.vars, "VM_QEMU_EXTRA", "-kernel /k -append 'console=ttyS0 quiet'");
	char *line = built(
	    (struct qemu_launch){.network = QEMU_NET_NAT, .background = true, .loadvm = "ready"});
	assert_has(line, "qemu-system-x86_64 -name guest=tg,process=vm-tg -accel tcg -m 256 ");
	assert_has(line, "-pidfile /run/vm/42/qemu.pid ");
	assert_has(line, "-drive file=tg-backing.qcow2,format=qcow2,if=virtio ");
	assert_has(line, "-netdev user,id=net0,hostfwd=tcp:127.0.0.1:2242-:22 ");
	assert_has(line, "-device virtio-net-pci,netdev=net0,mac=DE:AD:BE:EF:42:11 ");
	assert_has(line, "-chardev socket,id=qmp,path=/run/vm/42/qmp.sock,server=on,wait=off "
			 "-mon chardev=qmp,mode=control");
	assert_has(line, "-display none");
	assert_has(line, "-loadvm ready");
	/* VM_QEMU_EXTRA's quoted word stays one argument. */
	assert_has(line, "-kernel /k -append console=ttyS0 quiet");
	assert_lacks(line, "-monitor");
	assert_lacks(line, "agent");
	cr_assert_eq(qemu_nat_ssh_port(&cfg), 2242);
	free(line);
}

Test(qemu, nat_forwards_join_ssh_on_the_user_network)
{
	machine();
	vars_set(&cfg.vars, "VM_NET_FORWARD", "8080:80 5353:53/udp");
	char *line = built((struct qemu_launch){.network = QEMU_NET_NAT});
	assert_has(line, "-netdev user,id=net0,hostfwd=tcp:127.0.0.1:2242-:22,"
			 "hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=udp:127.0.0.1:5353-:53 ");
	free(line);
	vars_set(&cfg.vars, "VM_NET_FORWARD_ADDR", "0.0.0.0");
	line = built((struct qemu_launch){.network = QEMU_NET_NAT});
	/* ssh stays on the loopback address whatever the forwards use. */
	assert_has(line, "hostfwd=tcp:127.0.0.1:2242-:22,hostfwd=tcp:0.0.0.0:8080-:80,");
	free(line);
	vars_set(&cfg.vars, "VM_NET_FORWARD", "8080");
	struct error err;
	int rc;
	free(build((struct qemu_launch){.network = QEMU_NET_NAT}, &err, &rc));
	cr_assert_eq(rc, -1);
	cr_assert(strstr(err.msg, "VM_NET_FORWARD: '8080' is not HOST:GUEST"), "%s", err.msg);
}

Test(qemu, base_only_and_single_image)
{
	machine();
	vt_write(cfg.home, "tg-base.qcow2", "");
	vt_write(cfg.home, "tg.qcow2", "");
	char *line = built((struct qemu_launch){.network = QEMU_NET_NAT, .base_only = true});
	assert_has(line, "file=tg-base.qcow2,");
	free(line);
	vars_set(&cfg.vars, "VM_USE_SNAPSHOTS", "no");
	line = built((struct qemu_launch){.network = QEMU_NET_NAT});
	assert_has(line, "file=tg.qcow2,");
	free(line);
}

Test(qemu, a_missing_image_says_what_to_do)
{
	machine();
	unlink("tg-backing.qcow2");
	struct error err;
	int rc;
	free(build((struct qemu_launch){.network = QEMU_NET_NAT}, &err, &rc));
	cr_assert_eq(rc, -1);
	assert_has(err.msg, "tg-backing.qcow2 does not exist");
	assert_has(err.msg, "'vm run -b'");
}

Test(qemu, daemonize_is_refused_wherever_it_appears)
{
	machine();
	char *args[] = {"-S", "-daemonize"};
	struct error err;
	int rc;
	free(build((struct qemu_launch){.network = QEMU_NET_NAT, .user_args = args, .user_argc = 2},
		   &err, &rc));
	cr_assert_eq(rc, -1);
	assert_has(err.msg, "-daemonize is not allowed");
	vars_set(&cfg.vars, "VM_QEMU_EXTRA", "-daemonize");
	free(build((struct qemu_launch){.network = QEMU_NET_NAT}, &err, &rc));
	cr_assert_eq(rc, -1);
}

Test(qemu, bridged_networking_uses_the_tap_from_vm_netd)
{
	machine();
	struct error err;
	int rc;
	free(build((struct qemu_launch){.network = QEMU_NET_BRIDGE}, &err, &rc));
	cr_assert_eq(rc, -1);
	cr_assert_str_eq(err.msg, "bridged networking needs a tap from vm-netd first");
	struct netclient_tap tap = {.fds = {7}, .nfds = 1, .name = "vm42t0"};
	char *line = built((struct qemu_launch){.network = QEMU_NET_BRIDGE, .tap = &tap});
	/* One queue (VM_NET_QUEUES=1, the default): the line of old. */
	assert_has(line, "-netdev tap,id=net0,fd=7 -device virtio-net-pci,netdev=net0,"
			 "mac=DE:AD:BE:EF:42:11 ");
	assert_lacks(line, "vnet_hdr");
	assert_lacks(line, "hostfwd");
	assert_lacks(line, "mq=");
	assert_lacks(line, "vectors");
	free(line);
}

/* VM_NET_QUEUES=N: all the tap's fds, and virtio-net's queues and MSI-X
 * vectors (one per queue each way, control and configuration). */
Test(qemu, a_multi_queue_tap_gives_fds_mq_and_vectors)
{
	machine();
	vars_set(&cfg.vars, "VM_NET_QUEUES", "2");
	struct netclient_tap two = {.fds = {7, 9}, .nfds = 2, .name = "vm42t0"};
	char *line = built((struct qemu_launch){.network = QEMU_NET_BRIDGE, .tap = &two});
	assert_has(line, "-netdev tap,id=net0,fds=7:9 -device virtio-net-pci,netdev=net0,mq=on,"
			 "vectors=6,mac=DE:AD:BE:EF:42:11 ");
	assert_lacks(line, "fd=7");
	assert_lacks(line, "vhost");
	free(line);
	vars_set(&cfg.vars, "VM_NET_QUEUES", "4");
	struct netclient_tap four = {.fds = {5, 6, 10, 11}, .nfds = 4, .name = "vm42t0"};
	line = built((struct qemu_launch){.network = QEMU_NET_BRIDGE, .tap = &four});
	assert_has(line, "-netdev tap,id=net0,fds=5:6:10:11 -device virtio-net-pci,netdev=net0,"
			 "mq=on,vectors=10,mac=DE:AD:BE:EF:42:11 ");
	free(line);
}

Test(qemu, several_queues_need_a_nic_that_has_them)
{
	machine();
	vars_set(&cfg.vars, "VM_NET_QUEUES", "2");
	struct netclient_tap two = {.fds = {7, 9}, .nfds = 2, .name = "vm42t0"};
	const char *models[] = {"e1000", "rtl8139", "e1000e"};
	for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++) {
		vars_set(&cfg.vars, "VM_NET_MODEL", models[i]);
		struct error err;
		int rc;
		free(build((struct qemu_launch){.network = QEMU_NET_BRIDGE, .tap = &two}, &err,
			   &rc));
		cr_assert_eq(rc, -1, "%s", models[i]);
		assert_has(err.msg, "VM_NET_QUEUES=2 needs a NIC with several queues");
		assert_has(err.msg, "VM_NET_MODEL=");
		assert_has(err.msg, models[i]);
		assert_has(err.msg, "set VM_NET_MODEL=virtio-net-pci");
		struct error check;
		cr_expect_eq(qemu_check_net_queues(&cfg, QEMU_NET_BRIDGE, NULL, &check), -1);
	}
	/* One queue suits any model. */
	vars_set(&cfg.vars, "VM_NET_QUEUES", "1");
	struct netclient_tap one = {.fds = {7}, .nfds = 1, .name = "vm42t0"};
	char *line = built((struct qemu_launch){.network = QEMU_NET_BRIDGE, .tap = &one});
	assert_has(line, "-netdev tap,id=net0,fd=7 -device e1000e,netdev=net0,mac=");
	free(line);
}

/* A .vmrc's queues are the tap's: a --nat start ignores them (with a
 * warning), whatever the model, and asks for one queue. */
Test(qemu, nat_has_one_queue)
{
	machine();
	vars_set(&cfg.vars, "VM_NET_QUEUES", "4");
	vars_set(&cfg.vars, "VM_NET_MODEL", "e1000");
	char *line = built((struct qemu_launch){.network = QEMU_NET_NAT});
	assert_has(line, "-device e1000,netdev=net0,mac=");
	assert_lacks(line, "mq=");
	free(line);
	cr_expect_eq(qemu_net_queues(&cfg, QEMU_NET_NAT), 1);
	cr_expect_eq(qemu_net_queues(&cfg, QEMU_NET_BRIDGE), 4);
}

Test(qemu, tcp_monitor_agent_and_displays)
{
	machine();
	vars_set(&cfg.vars, "VM_MONITOR", "tcp");
	vars_set(&cfg.vars, "VM_GUEST_AGENT", "yes");
	vars_set(&cfg.vars, "VM_QEMU_VNC", ":2");
	char *line = built((struct qemu_launch){.network = QEMU_NET_NAT, .background = true});
	assert_has(line, "-monitor telnet:127.0.0.1:7742,server=on,wait=off");
	assert_has(line, "socket,id=agent,path=/run/vm/42/agent.sock,server=on,wait=off");
	assert_has(line, "virtserialport,chardev=agent,name=org.qemu.guest_agent.0");
	assert_has(line, "-vnc :2");
	assert_lacks(line, "-display none");
	free(line);
	vars_set(&cfg.vars, "VM_QEMU_DISPLAY", "curses");
	line = built((struct qemu_launch){.network = QEMU_NET_NAT});
	assert_has(line, "-display curses");
	struct strv argv = STRV_INIT;
	struct error err;
	struct qemu_launch launch = {.cfg = &cfg, .rt = &rt, .network = QEMU_NET_NAT};
	cr_assert_eq(qemu_build_command(&launch, &argv, &err), 0);
	cr_assert(qemu_uses_curses(strv_argv(&argv)));
	strv_free(&argv);
	free(line);
}

/* With KVM the guest gets the host's CPU, as the original always gave it,
 * unless VM_QEMU_EXTRA or vm run's arguments choose one. */
Test(qemu, kvm_guests_get_the_host_cpu)
{
	machine();
	vars_set(&cfg.vars, "VM_QEMU_ACCEL", "kvm");
	char *line = built((struct qemu_launch){.network = QEMU_NET_NAT});
	assert_has(line, "-accel kvm ");
	assert_has(line, " -cpu host");
	free(line);
	vars_set(&cfg.vars, "VM_QEMU_EXTRA", "-smp 2 -cpu max");
	line = built((struct qemu_launch){.network = QEMU_NET_NAT});
	assert_lacks(line, "-cpu host");
	assert_has(line, "-smp 2 -cpu max");
	free(line);
	vars_unset(&cfg.vars, "VM_QEMU_EXTRA");
	char *user[] = {"-cpu", "qemu64", NULL};
	line =
	    built((struct qemu_launch){.network = QEMU_NET_NAT, .user_args = user, .user_argc = 2});
	assert_lacks(line, "-cpu host");
	assert_has(line, "-cpu qemu64");
	free(line);
}

Test(qemu, tcg_guests_keep_qemus_default_cpu)
{
	machine();
	char *line = built((struct qemu_launch){.network = QEMU_NET_NAT});
	assert_has(line, "-accel tcg ");
	assert_lacks(line, "-cpu");
	free(line);
}

/* Commas are QEMU's option separator: a name holding them (or '=') is
 * escaped wherever it enters an option string. */
Test(qemu, commas_and_equals_in_the_name_are_escaped)
{
	machine();
	vars_set(&cfg.vars, "VM_MACHINE_NAME", "a,b=c");
	vt_write(cfg.home, "a,b=c-backing.qcow2", "");
	vars_set(&cfg.vars, "VM_SNAPSHOT_BACKING_FILENAME", "a,b=c-backing.qcow2");
	char *line = built((struct qemu_launch){.network = QEMU_NET_NAT, .background = true});
	assert_has(line, "-name guest=a,,b=c,process=vm-a,,b=c ");
	assert_has(line, "-drive file=a,,b=c-backing.qcow2,format=qcow2,if=virtio ");
	free(line);
}

static void keep_warning(void *ctx, const char *text)
{
	strv_add(ctx, text);
}

/* The builder tells its warnings to the report of whoever asked (vm run or
 * vm start print them); without one it tells nothing. */
Test(qemu, exposed_ports_are_told_to_the_callers_report)
{
	struct strv warned = STRV_INIT;
	const struct report report = {.warn = keep_warning, .ctx = &warned};
	machine();
	vars_set(&cfg.vars, "VM_MONITOR", "tcp");
	vars_set(&cfg.vars, "VM_NET_FORWARD", "8080:80");
	vars_set(&cfg.vars, "VM_NET_FORWARD_ADDR", "0.0.0.0");
	free(built((struct qemu_launch){.network = QEMU_NET_NAT, .report = &report}));
	cr_assert_eq(warned.n, 2);
	cr_assert_str_eq(warned.v[0],
			 "VM_NET_FORWARD_ADDR=0.0.0.0: the forwarded ports of the guest "
			 "can be reached from the network, not only from this host");
	cr_assert_str_eq(
	    warned.v[1],
	    "VM_MONITOR=tcp: anyone who can reach 127.0.0.1:7742 controls this emulator");
	strv_free(&warned);
	free(built((struct qemu_launch){.network = QEMU_NET_NAT}));
}
