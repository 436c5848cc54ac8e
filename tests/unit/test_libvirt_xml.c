/* The libvirt domain of a machine: the same decisions as the emulator's
 * command line (qemu.c), and the PCI layout a saved state needs. */
#include "emulator/libvirt_xml.h"
#include "emulator/qemu.h"
#include "vmtest.h"
#include "xalloc.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct config cfg;

/* The test machine, with a base, a bridge, the guest agent and a device of
 * its own. */
static void machine(void)
{
	vt_test_machine(&cfg);
	free(vt_write(cfg.home, "tg-base.qcow2", ""));
	vars_set(&cfg.vars, "VM_NET_BRIDGE", "br0");
	vars_set(&cfg.vars, "VM_GUEST_AGENT", "yes");
	vars_set(&cfg.vars, "VM_QEMU_EXTRA", "-device virtio-rng-pci");
}

static char *domain(enum qemu_network network, struct strv *unmapped)
{
	struct libvirt_domain d = {.cfg = &cfg, .name = "tg", .network = network};
	struct strbuf xml = STRBUF_INIT;
	struct error err;
	cr_assert_eq(libvirt_domain_xml(&d, &xml, unmapped, &err), 0, "%s", err.msg);
	return strbuf_take(&xml);
}

#define assert_has(text, part) cr_assert(strstr(text, part), "'%s' lacks '%s'", text, part)
#define assert_lacks(text, part) cr_assert_not(strstr(text, part), "'%s' has '%s'", text, part)

/* The PCI device drivers of the command line, in QEMU's order: the -device
 * options as given, then the virtio disks (QEMU makes them last). */
static char *pci_order(void)
{
	struct runtime rt = {.qmp_socket = "q", .ga_socket = "a", .pid_file = "p"};
	struct qemu_launch launch = {.cfg = &cfg, .rt = &rt, .network = QEMU_NET_NAT};
	struct strv argv = STRV_INIT;
	struct error err;
	cr_assert_eq(qemu_build_command(&launch, &argv, &err), 0, "%s", err.msg);
	struct strbuf order = STRBUF_INIT;
	for (size_t i = 0; i + 1 < argv.n; i++)
		if (!strcmp(argv.v[i], "-device") && strncmp(argv.v[i + 1], "virtserialport", 14))
			strbuf_addf(&order, "%.*s ", (int)strcspn(argv.v[i + 1], ","),
				    argv.v[i + 1]);
	for (size_t i = 0; i + 1 < argv.n; i++)
		if (!strcmp(argv.v[i], "-drive") && strstr(argv.v[i + 1], "if=virtio"))
			strbuf_adds(&order, "virtio-blk");
	strv_free(&argv);
	return strbuf_take(&order);
}

Test(libvirt_xml, slots_follow_the_command_lines_device_order)
{
	machine();
	/* If this changes, plan_slots in libvirt_xml.c must follow it, or the
	 * states vm stop -s saves no longer load under libvirt. */
	char *order = pci_order();
	cr_assert_str_eq(order, "virtio-net-pci virtio-serial virtio-rng-pci virtio-blk");
	free(order);
	struct strv unmapped = STRV_INIT;
	char *xml = domain(QEMU_NET_NAT, &unmapped);
	const char *nic = strstr(xml, "<interface"), *serial = strstr(xml, "virtio-serial"),
		   *rng = strstr(xml, "<rng"), *disk = strstr(xml, "<disk");
	cr_assert(nic && serial && rng && disk);
	assert_has(nic, "slot='0x03'");
	cr_assert(strstr(nic, "slot='0x03'") < strstr(nic, "</interface>"));
	cr_assert(strstr(serial, "slot='0x04'") < strstr(serial, "</controller>"));
	cr_assert(strstr(rng, "slot='0x05'") < strstr(rng, "</rng>"));
	cr_assert(strstr(disk, "slot='0x06'") < strstr(disk, "</disk>"));
	cr_assert_eq(unmapped.n, 0);
	free(xml);
}

Test(libvirt_xml, ide_and_no_agent_take_no_slots)
{
	machine();
	vars_set(&cfg.vars, "VM_DISK_IF", "ide");
	vars_set(&cfg.vars, "VM_GUEST_AGENT", "no");
	vars_set(&cfg.vars, "VM_QEMU_EXTRA", "-cdrom install.iso");
	struct strv unmapped = STRV_INIT;
	char *xml = domain(QEMU_NET_BRIDGE, &unmapped);
	assert_has(xml, "<target dev='hda' bus='ide'/>\n    </disk>");
	assert_lacks(xml, "slot='0x04'");
	assert_lacks(xml, "guest_agent");
	assert_has(xml, "<source bridge='br0'/>");
	char *iso = xasprintf("<source file='%s/install.iso'/>\n      <target dev='hdc'", cfg.home);
	assert_has(xml, iso);
	free(iso);
	free(xml);
}

/* VM_NET_QUEUES: the bridged interface's queues, with QEMU's own
 * virtio-net as vm runs it; NAT has one queue; a NIC without queues is
 * refused as vm start refuses it. */
Test(libvirt_xml, a_multi_queue_tap_is_the_drivers_queues)
{
	machine();
	struct strv unmapped = STRV_INIT;
	char *xml = domain(QEMU_NET_BRIDGE, &unmapped);
	assert_lacks(xml, "<driver name='qemu' queues=");
	free(xml);
	vars_set(&cfg.vars, "VM_NET_QUEUES", "4");
	xml = domain(QEMU_NET_BRIDGE, &unmapped);
	assert_has(xml, "<model type='virtio'/>\n      <driver name='qemu' queues='4'/>\n");
	free(xml);
	xml = domain(QEMU_NET_NAT, &unmapped);
	assert_lacks(xml, "queues=");
	free(xml);
	vars_set(&cfg.vars, "VM_NET_MODEL", "e1000");
	struct libvirt_domain d = {.cfg = &cfg, .name = "tg", .network = QEMU_NET_BRIDGE};
	struct strbuf out = STRBUF_INIT;
	struct error err;
	cr_assert_eq(libvirt_domain_xml(&d, &out, &unmapped, &err), -1);
	assert_has(err.msg, "VM_NET_QUEUES=4 needs a NIC with several queues");
	strbuf_free(&out);
	strv_free(&unmapped);
}

Test(libvirt_xml, unmapped_words_are_passed_on_and_listed)
{
	machine();
	vars_set(&cfg.vars, "VM_QEMU_EXTRA", "-smp 4,sockets=2 -device \"e1000,id=x'\"");
	vars_set(&cfg.vars, "VM_QEMU_DISPLAY", "gtk");
	vars_set(&cfg.vars, "VM_QEMU_VNC", ":1,password=on");
	struct strv unmapped = STRV_INIT;
	char *xml = domain(QEMU_NET_NAT, &unmapped);
	char *list = strv_join(&unmapped, "|");
	cr_assert_str_eq(list,
			 "-smp|4,sockets=2|-device|e1000,id=x'|-display|gtk|-vnc|:1,password=on");
	assert_has(xml, "<qemu:arg value='e1000,id=x&apos;'/>");
	assert_has(xml, "<vcpu>1</vcpu>");
	assert_lacks(xml, "<graphics");
	free(list);
	strv_free(&unmapped);
	free(xml);
}

Test(libvirt_xml, a_saved_state_carries_the_domain_and_its_uuid)
{
	machine();
	struct libvirt_domain d = {.cfg = &cfg,
				   .name = "tg",
				   .uuid = "0b6f4b2e-6b1c-4c55-9a31-3d3c2f0a9e11",
				   .network = QEMU_NET_NAT};
	struct libvirt_state state = {"ready", 1796162136};
	struct strbuf xml = STRBUF_INIT;
	struct strv unmapped = STRV_INIT;
	struct error err;
	cr_assert_eq(libvirt_snapshot_xml(&d, &state, &xml, &unmapped, &err), 0, "%s", err.msg);
	const char *s = strbuf_str(&xml);
	assert_has(s, "<domainsnapshot>\n  <name>ready</name>\n");
	assert_has(s, "<creationTime>1796162136</creationTime>");
	assert_has(s, "<disk name='vda' snapshot='internal'/>");
	assert_has(s, "<uuid>0b6f4b2e-6b1c-4c55-9a31-3d3c2f0a9e11</uuid>");
	assert_has(s, "</domain>\n</domainsnapshot>\n");
	/* vm stop -s and vm archive -s both save states: it names neither. */
	char *description = xasprintf("  <description>the saved state ready of the machine in "
				      "%s</description>\n  <state>",
				      cfg.home);
	assert_has(s, description);
	assert_lacks(s, "vm stop");
	free(description);
	strbuf_free(&xml);
	d.uuid = NULL;
	cr_assert_eq(libvirt_snapshot_xml(&d, &state, &xml, &unmapped, &err), -1);
	strbuf_free(&xml);
}

Test(libvirt_xml, an_unknown_disk_interface_is_refused)
{
	machine();
	vars_set(&cfg.vars, "VM_DISK_IF", "floppy");
	struct libvirt_domain d = {.cfg = &cfg, .name = "tg", .network = QEMU_NET_NAT};
	struct strbuf xml = STRBUF_INIT;
	struct strv unmapped = STRV_INIT;
	struct error err;
	cr_assert_eq(libvirt_domain_xml(&d, &xml, &unmapped, &err), -1);
	assert_has(err.msg, "VM_DISK_IF=floppy has no libvirt equivalent");
	strbuf_free(&xml);
}
