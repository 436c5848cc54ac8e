#include "emulator/libvirt_xml.h"

#include "config/words.h"
#include "xalloc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"

/* What VM_QEMU_EXTRA says that the domain XML has elements for; the rest
 * is passed on as it is. */
struct extra {
	const char *kernel, *initrd, *append;
	const char *vcpus;
	const char *machine;
	const char *cpu;
	const char *serial_file;
	const char *cdrom;
	bool rng;
	struct strv passed; /* words without an element, in their order */
};

/* The PCI slots QEMU gives vm's devices on its default machine: the VGA
 * card at 2, then the -device options in command-line order (the NIC, the
 * agent's virtio-serial, VM_QEMU_EXTRA's), then virtio disks. A saved state
 * loads only into the same layout, so the domain spells it out. */
struct slots {
	int nic, agent, rng, disk; /* 0: no such device */
};

static void plan_slots(const struct config *cfg, const struct extra *x, struct slots *s)
{
	int next = 3;
	s->nic = next++;
	s->agent = qemu_has_guest_agent(cfg) ? next++ : 0;
	s->rng = x->rng ? next++ : 0;
	s->disk = !strcmp(qemu_disk_interface(cfg), "virtio") ? next++ : 0;
}

static void add_address(struct strbuf *xml, int indent, int slot)
{
	if (slot)
		strbuf_addf(xml,
			    "%*s<address type='pci' domain='0x0000' bus='0x00' slot='0x%02x' "
			    "function='0x0'/>\n",
			    indent, "", slot);
}

static void add_escaped(struct strbuf *xml, const char *text)
{
	for (const char *c = text; *c; c++) {
		switch (*c) {
		case '&':
			strbuf_adds(xml, "&amp;");
			break;
		case '<':
			strbuf_adds(xml, "&lt;");
			break;
		case '>':
			strbuf_adds(xml, "&gt;");
			break;
		case '"':
			strbuf_adds(xml, "&quot;");
			break;
		case '\'':
			strbuf_adds(xml, "&apos;");
			break;
		default:
			strbuf_addc(xml, *c);
		}
	}
}

/* indent, then open, the escaped text, then close: one line. */
static void add_line(struct strbuf *xml, int indent, const char *open, const char *text,
		     const char *close)
{
	strbuf_addf(xml, "%*s%s", indent, "", open);
	add_escaped(xml, text);
	strbuf_addf(xml, "%s\n", close);
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static const char *after_prefix(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(s, prefix, n) ? NULL : s + n;
}

/* -smp N or -smp cpus=N: the vCPU count; anything richer is passed on. */
static const char *plain_vcpus(const char *value)
{
	const char *n = after_prefix(value, "cpus=");
	n = n ? n : value;
	return all_digits(n) ? n : NULL;
}

/* Takes the option at words[*i] (and its value) when it maps to an element. */
static bool map_option(struct extra *x, char **words, size_t *i)
{
	const char *opt = words[*i], *value = words[*i + 1];
	if (!value)
		return false;
	const char **field = NULL;
	if (!strcmp(opt, "-kernel"))
		field = &x->kernel;
	else if (!strcmp(opt, "-initrd"))
		field = &x->initrd;
	else if (!strcmp(opt, "-append"))
		field = &x->append;
	else if (!strcmp(opt, "-smp") && plain_vcpus(value))
		x->vcpus = plain_vcpus(value);
	else if ((!strcmp(opt, "-machine") || !strcmp(opt, "-M")) && !strchr(value, ','))
		field = &x->machine;
	else if ((!strcmp(opt, "-cpu") || !strcmp(opt, "--cpu")) && !strchr(value, ','))
		field = &x->cpu;
	else if (!strcmp(opt, "-serial") && after_prefix(value, "file:"))
		x->serial_file = after_prefix(value, "file:");
	else if (!strcmp(opt, "-cdrom"))
		field = &x->cdrom;
	else if (!strcmp(opt, "-device") && !strcmp(value, "virtio-rng-pci"))
		x->rng = true;
	else
		return false;
	if (field)
		*field = value;
	(*i)++;
	return true;
}

static void map_extra(struct extra *x, char **words)
{
	for (size_t i = 0; words[i]; i++)
		if (!map_option(x, words, &i))
			strv_add(&x->passed, words[i]);
}

/* A path the emulator was given relative to the machine directory, made
 * absolute (libvirt starts the emulator elsewhere). */
static char *machine_path(const struct config *cfg, const char *path)
{
	if (path[0] == '/')
		return xstrdup(path);
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s/%s", cfg->home, path);
	return strbuf_take(&sb);
}

static void add_path_line(struct strbuf *xml, const struct config *cfg, int indent,
			  const char *open, const char *path, const char *close)
{
	char *abs = machine_path(cfg, path);
	add_line(xml, indent, open, abs, close);
	free(abs);
}

/* qemu-system-ARCH: ARCH; any other emulator name: x86_64, vm's default. */
static const char *emulator_arch(const char *qemu)
{
	const char *base = strrchr(qemu, '/');
	const char *arch = after_prefix(base ? base + 1 : qemu, "qemu-system-");
	return arch && *arch ? arch : "x86_64";
}

static void add_os(struct strbuf *xml, const struct config *cfg, const struct extra *x)
{
	const char *qemu = config_get(cfg, "VM_QEMU");
	strbuf_adds(xml, "  <os>\n");
	/* QEMU's default machine, which the saved states were made on. */
	strbuf_addf(xml, "    <type arch='%s' machine='", emulator_arch(qemu));
	add_escaped(xml, x->machine ? x->machine : "pc");
	strbuf_adds(xml, "'>hvm</type>\n");
	if (x->kernel)
		add_path_line(xml, cfg, 4, "<kernel>", x->kernel, "</kernel>");
	if (x->initrd)
		add_path_line(xml, cfg, 4, "<initrd>", x->initrd, "</initrd>");
	if (x->append)
		add_line(xml, 4, "<cmdline>", x->append, "</cmdline>");
	if (!x->kernel)
		strbuf_adds(xml, "    <boot dev='hd'/>\n");
	strbuf_adds(xml, "  </os>\n");
}

static void add_cpu(struct strbuf *xml, const char *cpu)
{
	if (!cpu)
		return;
	if (!strcmp(cpu, "host")) {
		strbuf_adds(xml, "  <cpu mode='host-passthrough'/>\n");
		return;
	}
	strbuf_adds(xml, "  <cpu mode='custom' match='exact'>\n");
	add_line(xml, 4, "<model fallback='allow'>", cpu, "</model>");
	strbuf_adds(xml, "  </cpu>\n");
}

/* libvirt's target device names and buses for vm's disk interfaces. */
static int disk_target(const char *interface, const char **dev, struct error *err)
{
	if (!strcmp(interface, "virtio"))
		*dev = "vda";
	else if (!strcmp(interface, "ide"))
		*dev = "hda";
	else if (!strcmp(interface, "scsi"))
		*dev = "sda";
	else
		return error_set(err,
				 "VM_DISK_IF=%s has no libvirt equivalent here; use ide, virtio "
				 "or scsi",
				 interface);
	return 0;
}

/* The backing file over the base, as vm init made them. */
static int add_disk(struct strbuf *xml, const struct config *cfg, int slot, struct error *err)
{
	const char *interface = qemu_disk_interface(cfg), *dev = NULL;
	if (disk_target(interface, &dev, err) < 0)
		return -1;
	const char *fmt = config_get(cfg, "VM_FMT");
	strbuf_adds(xml, "    <disk type='file' device='disk'>\n");
	add_line(xml, 6, "<driver name='qemu' type='", fmt, "'/>");
	char *top = qemu_disk_image(cfg, false), *base = qemu_disk_image(cfg, true);
	add_path_line(xml, cfg, 6, "<source file='", top, "'/>");
	strbuf_adds(xml, "      <backingStore type='file'>\n");
	add_line(xml, 8, "<format type='", fmt, "'/>");
	add_path_line(xml, cfg, 8, "<source file='", base, "'/>");
	strbuf_adds(xml, "        <backingStore/>\n"
			 "      </backingStore>\n");
	free(top);
	free(base);
	strbuf_addf(xml, "      <target dev='%s' bus='%s'/>\n", dev, interface);
	add_address(xml, 6, slot);
	strbuf_adds(xml, "    </disk>\n");
	return 0;
}

/* QEMU's default CD-ROM drive (ide1-cd0), empty unless -cdrom names a file. */
static void add_cdrom(struct strbuf *xml, const struct config *cfg, const char *cdrom)
{
	strbuf_adds(xml, "    <disk type='file' device='cdrom'>\n"
			 "      <driver name='qemu' type='raw'/>\n");
	if (cdrom)
		add_path_line(xml, cfg, 6, "<source file='", cdrom, "'/>");
	strbuf_adds(xml, "      <target dev='hdc' bus='ide'/>\n"
			 "      <readonly/>\n"
			 "    </disk>\n");
}

/* libvirt's model names are QEMU's device names but for virtio's. */
static const char *nic_model(const char *device)
{
	if (!strcmp(device, "virtio-net-pci") || !strcmp(device, "virtio-net"))
		return "virtio";
	return device;
}

static void add_interface(struct strbuf *xml, const struct libvirt_domain *d, int slot)
{
	const struct config *cfg = d->cfg;
	if (d->network == QEMU_NET_NAT) {
		strbuf_adds(xml, "    <interface type='user'>\n");
	} else {
		strbuf_adds(xml, "    <interface type='bridge'>\n");
		add_line(xml, 6, "<source bridge='", config_get(cfg, "VM_NET_BRIDGE"), "'/>");
	}
	add_line(xml, 6, "<mac address='", config_get(cfg, "VM_NET_MAC"), "'/>");
	add_line(xml, 6, "<model type='", nic_model(qemu_net_model(cfg)), "'/>");
	/* vm's multi-queue tap; QEMU's own virtio-net, as vm runs it (no vhost). */
	unsigned queues = qemu_net_queues(cfg, d->network);
	if (queues > 1)
		strbuf_addf(xml, "      <driver name='qemu' queues='%u'/>\n", queues);
	add_address(xml, 6, slot);
	strbuf_adds(xml, "    </interface>\n");
}

/* The serial console (QEMU's default serial port, or VM_QEMU_EXTRA's
 * -serial file:), QEMU's default parallel port, and the agent's channel. */
static void add_ports(struct strbuf *xml, const struct config *cfg, const struct extra *x,
		      int agent_slot)
{
	if (x->serial_file) {
		strbuf_adds(xml, "    <serial type='file'>\n");
		add_path_line(xml, cfg, 6, "<source path='", x->serial_file, "'/>");
		strbuf_adds(xml, "      <target port='0'/>\n"
				 "    </serial>\n");
	} else {
		strbuf_adds(xml, "    <serial type='pty'>\n"
				 "      <target port='0'/>\n"
				 "    </serial>\n"
				 "    <console type='pty'>\n"
				 "      <target type='serial' port='0'/>\n"
				 "    </console>\n");
	}
	strbuf_adds(xml, "    <parallel type='null'>\n"
			 "      <target port='0'/>\n"
			 "    </parallel>\n");
	if (!agent_slot)
		return;
	strbuf_adds(xml, "    <controller type='virtio-serial' index='0'>\n");
	add_address(xml, 6, agent_slot);
	strbuf_adds(xml, "    </controller>\n"
			 "    <channel type='unix'>\n"
			 "      <target type='virtio' name='org.qemu.guest_agent.0'/>\n"
			 "    </channel>\n");
}

/* VM_QEMU_VNC as QEMU reads it: [HOST]:DISPLAY; anything richer is passed on. */
static bool add_vnc(struct strbuf *xml, const char *vnc)
{
	const char *colon = strrchr(vnc, ':');
	if (!colon || !all_digits(colon + 1) || strchr(vnc, ',') || strlen(colon + 1) > 4)
		return false;
	char *host = colon == vnc ? xstrdup("0.0.0.0") : xstrndup(vnc, colon - vnc);
	strbuf_addf(xml, "    <graphics type='vnc' port='%d' autoport='no' listen='",
		    5900 + atoi(colon + 1));
	add_escaped(xml, host);
	strbuf_adds(xml, "'/>\n");
	free(host);
	return true;
}

static void add_display(struct strbuf *xml, const struct config *cfg, struct strv *passed)
{
	const char *display = config_get(cfg, "VM_QEMU_DISPLAY");
	const char *vnc = config_get(cfg, "VM_QEMU_VNC");
	if (display && !strcmp(display, "sdl")) {
		strbuf_adds(xml, "    <graphics type='sdl'/>\n");
	} else if (display && strcmp(display, "none")) {
		strv_add(passed, "-display");
		strv_add(passed, display);
	}
	if (vnc && !add_vnc(xml, vnc)) {
		strv_add(passed, "-vnc");
		strv_add(passed, vnc);
	}
	/* QEMU's default graphics card, there whatever the display. */
	strbuf_adds(xml, "    <video>\n"
			 "      <model type='vga'/>\n"
			 "    </video>\n");
}

static int add_devices(struct strbuf *xml, const struct libvirt_domain *d, struct extra *x,
		       struct error *err)
{
	const char *qemu = config_get(d->cfg, "VM_QEMU");
	struct slots slots;
	plan_slots(d->cfg, x, &slots);
	strbuf_adds(xml, "  <devices>\n");
	if (strchr(qemu, '/'))
		add_line(xml, 4, "<emulator>", qemu, "</emulator>");
	if (add_disk(xml, d->cfg, slots.disk, err) < 0)
		return -1;
	add_cdrom(xml, d->cfg, x->cdrom);
	add_interface(xml, d, slots.nic);
	add_ports(xml, d->cfg, x, slots.agent);
	add_display(xml, d->cfg, &x->passed);
	/* vm's machines have no USB controller and no balloon: neither has
	 * QEMU's default pc machine. */
	strbuf_adds(xml, "    <controller type='usb' model='none'/>\n");
	if (x->rng) {
		strbuf_adds(xml, "    <rng model='virtio'>\n"
				 "      <backend model='random'>/dev/urandom</backend>\n");
		add_address(xml, 6, slots.rng);
		strbuf_adds(xml, "    </rng>\n");
	}
	strbuf_adds(xml, "    <memballoon model='none'/>\n");
	strbuf_adds(xml, "  </devices>\n");
	return 0;
}

static void add_passed(struct strbuf *xml, struct strv *passed)
{
	if (!passed->n)
		return;
	strbuf_adds(xml, "  <qemu:commandline>\n");
	for (size_t i = 0; i < passed->n; i++)
		add_line(xml, 4, "<qemu:arg value='", passed->v[i], "'/>");
	strbuf_adds(xml, "  </qemu:commandline>\n");
}

static int write_domain(const struct libvirt_domain *d, const char *type, struct extra *x,
			struct strbuf *xml, struct error *err)
{
	const struct config *cfg = d->cfg;
	struct strbuf body = STRBUF_INIT;
	add_line(&body, 2, "<name>", d->name, "</name>");
	if (d->uuid)
		add_line(&body, 2, "<uuid>", d->uuid, "</uuid>");
	add_line(&body, 2, "<description>exported by vm from ", cfg->home, "</description>");
	add_line(&body, 2, "<memory unit='MiB'>", config_get(cfg, "VM_MACHINE_MEM"), "</memory>");
	add_line(&body, 2, "<vcpu>", x->vcpus ? x->vcpus : "1", "</vcpu>");
	add_os(&body, cfg, x);
	/* Without <acpi/> libvirt turns ACPI off, which QEMU has on: the
	 * power button (vm stop -p) needs it. */
	strbuf_adds(&body, "  <features>\n"
			   "    <acpi/>\n"
			   "    <apic/>\n"
			   "  </features>\n");
	add_cpu(&body, x->cpu);
	if (add_devices(&body, d, x, err) < 0) {
		strbuf_free(&body);
		return -1;
	}
	add_passed(&body, &x->passed);
	strbuf_addf(xml, "<domain type='%s'%s>\n", type,
		    x->passed.n ? " xmlns:qemu='" QEMU_NS "'" : "");
	strbuf_adds(xml, strbuf_str(&body));
	strbuf_adds(xml, "</domain>\n");
	strbuf_free(&body);
	return 0;
}

int libvirt_domain_xml(const struct libvirt_domain *d, struct strbuf *xml, struct strv *unmapped,
		       struct error *err)
{
	const char *accel;
	if (qemu_accelerator(d->cfg, &accel, err) < 0 ||
	    qemu_check_net_queues(d->cfg, d->network, NULL, err) < 0)
		return -1;
	struct strv words = STRV_INIT;
	const char *extra = config_get(d->cfg, "VM_QEMU_EXTRA");
	if (extra && words_split(extra, &words, err) < 0) {
		strv_free(&words);
		return error_prefix(err, "VM_QEMU_EXTRA");
	}
	struct extra x = {.passed = STRV_INIT};
	map_extra(&x, strv_argv(&words));
	if (!x.cpu)
		x.cpu = qemu_default_cpu(accel, strv_argv(&words));
	int rc = write_domain(d, !strcmp(accel, "kvm") ? "kvm" : "qemu", &x, xml, err);
	for (size_t i = 0; rc == 0 && i < x.passed.n; i++)
		strv_add(unmapped, x.passed.v[i]);
	strv_free(&x.passed);
	strv_free(&words);
	return rc;
}

int libvirt_snapshot_xml(const struct libvirt_domain *d, const struct libvirt_state *state,
			 struct strbuf *xml, struct strv *unmapped, struct error *err)
{
	const char *dev = NULL;
	if (!d->uuid)
		return error_set(err, "a saved state's description needs the domain's UUID");
	if (disk_target(qemu_disk_interface(d->cfg), &dev, err) < 0)
		return -1;
	struct strbuf domain = STRBUF_INIT;
	if (libvirt_domain_xml(d, &domain, unmapped, err) < 0) {
		strbuf_free(&domain);
		return -1;
	}
	strbuf_adds(xml, "<domainsnapshot>\n");
	add_line(xml, 2, "<name>", state->name, "</name>");
	/* Whatever saved it: vm stop -s, vm archive -s, vm cmd savevm. */
	strbuf_adds(xml, "  <description>the saved state ");
	add_escaped(xml, state->name);
	add_line(xml, 0, " of the machine in ", d->cfg->home, "</description>");
	/* QEMU 7.2 loads every state running (vm export warns of one saved
	 * while the guest slept). */
	strbuf_addf(xml,
		    "  <state>running</state>\n"
		    "  <creationTime>%lld</creationTime>\n"
		    "  <memory snapshot='internal'/>\n"
		    "  <disks>\n"
		    "    <disk name='%s' snapshot='internal'/>\n"
		    "    <disk name='hdc' snapshot='no'/>\n"
		    "  </disks>\n",
		    state->created, dev);
	strbuf_adds(xml, strbuf_str(&domain));
	strbuf_adds(xml, "</domainsnapshot>\n");
	strbuf_free(&domain);
	return 0;
}
