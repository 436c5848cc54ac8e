#include "emulator/qemu.h"

#include "config/words.h"
#include "emulator/forwards.h"
#include "log.h"
#include "strbuf.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

char *qemu_disk_image(const struct config *cfg, bool base_only)
{
	if (!config_bool(cfg, "VM_USE_SNAPSHOTS"))
		return xstrdup(config_get(cfg, "VM_IMAGE_FILENAME"));
	return xstrdup(config_get(cfg, base_only ? "VM_SNAPSHOT_BASE_FILENAME"
						 : "VM_SNAPSHOT_BACKING_FILENAME"));
}

int qemu_nat_ssh_port(const struct config *cfg)
{
	return 2200 + (int)config_int(cfg, "VM_MACHINE_ID");
}

/* Whether KVM's CPUID offers SSE3 (leaf 1, ECX bit 0), which every x86-64
 * CPU since 2004 has and QEMU's default CPU model asks for. Some sandboxes
 * offer a /dev/kvm without it, on which guests hang. */
static bool kvm_cpuid_has_sse3(int kvm)
{
	enum { MAX_ENTRIES = 256 };
	struct kvm_cpuid2 *cpuid =
	    xcalloc(1, sizeof(*cpuid) + MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2));
	cpuid->nent = MAX_ENTRIES;
	bool found = false;
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) == 0)
		for (unsigned i = 0; i < cpuid->nent; i++)
			if (cpuid->entries[i].function == 1)
				found = cpuid->entries[i].ecx & 1;
	free(cpuid);
	return found;
}

/* KVM can be used when /dev/kvm opens, speaks the stable API, makes a
 * virtual machine and offers the basic CPU features. */
static bool kvm_usable(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return false;
	bool usable = false;
	if (ioctl(kvm, KVM_GET_API_VERSION, 0) == KVM_API_VERSION) {
		int vm = ioctl(kvm, KVM_CREATE_VM, 0);
		if (vm >= 0) {
			usable = kvm_cpuid_has_sse3(kvm);
			close(vm);
		}
	}
	close(kvm);
	return usable;
}

/* Whether argv (from index from on) has option (-NAME, or QEMU's --NAME). */
static bool names_option(char *const argv[], size_t from, const char *option)
{
	for (size_t i = from; argv[i]; i++)
		if (!strcmp(argv[i], option) || (argv[i][0] == '-' && !strcmp(argv[i] + 1, option)))
			return true;
	return false;
}

/* With KVM the guest gets the host's CPU, as the original always gave it:
 * without it guests lose the host's CPU features, and states the original
 * saved may not load. VM_QEMU_EXTRA or vm run's arguments may choose
 * another. */
const char *qemu_default_cpu(const char *accel, char *const words[])
{
	return strcmp(accel, "kvm") || names_option(words, 0, "-cpu") ? NULL : "host";
}

/* Called once the whole command line is built. */
static void add_host_cpu(const char *accel, struct strv *argv, size_t user_from)
{
	const char *cpu = qemu_default_cpu(accel, strv_argv(argv) + user_from);
	if (!cpu)
		return;
	strv_add(argv, "-cpu");
	strv_add(argv, cpu);
}

int qemu_accelerator(const struct config *cfg, const char **accel, struct error *err)
{
	const char *chosen = config_get(cfg, "VM_QEMU_ACCEL");
	if (!strcmp(chosen, "auto")) {
		bool kvm = kvm_usable();
		log_debug("%s", kvm ? "/dev/kvm is usable: using KVM"
				    : "/dev/kvm is not usable: using TCG (slower)");
		chosen = kvm ? "kvm" : "tcg";
	}
	*accel = chosen;
	return 0;
}

/* A value inside a QEMU option string, where ',' separates options and
 * ",," stands for a comma. */
static char *option_value(const char *value)
{
	struct strbuf sb = STRBUF_INIT;
	for (const char *c = value; *c; c++) {
		if (*c == ',')
			strbuf_addc(&sb, ',');
		strbuf_addc(&sb, *c);
	}
	return strbuf_take(&sb);
}

static int add_accelerator(const struct config *cfg, struct strv *argv, const char **chosen,
			   struct error *err)
{
	if (qemu_accelerator(cfg, chosen, err) < 0)
		return -1;
	strv_add(argv, "-accel");
	strv_add(argv, *chosen);
	return 0;
}

int qemu_check_disk(const struct config *cfg, bool base_only, struct error *err)
{
	char *image = qemu_disk_image(cfg, base_only);
	if (access(image, F_OK) < 0) {
		bool snapshots = config_bool(cfg, "VM_USE_SNAPSHOTS");
		error_set(err, "disk image %s/%s does not exist: %s", cfg->home, image,
			  !snapshots ? "put the machine's image there"
			  : base_only
			      ? "run 'vm init' to create it from the seed image"
			      : "run 'vm init' to create it, or 'vm run -b' to run the base image");
		free(image);
		return -1;
	}
	free(image);
	return 0;
}

const char *qemu_disk_interface(const struct config *cfg)
{
	return config_get(cfg, "VM_DISK_IF");
}

static int add_disk(const struct qemu_launch *launch, struct strv *argv, struct error *err)
{
	const struct config *cfg = launch->cfg;
	if (qemu_check_disk(cfg, launch->base_only, err) < 0)
		return -1;
	char *image = qemu_disk_image(cfg, launch->base_only);
	strv_add(argv, "-drive");
	char *file = option_value(image);
	strv_addf(argv, "file=%s,format=%s,if=%s", file, config_get(cfg, "VM_FMT"),
		  qemu_disk_interface(cfg));
	free(file);
	free(image);
	return 0;
}

const char *qemu_net_model(const struct config *cfg)
{
	return config_get(cfg, "VM_NET_MODEL");
}

bool qemu_has_guest_agent(const struct config *cfg)
{
	return config_bool(cfg, "VM_GUEST_AGENT");
}

/* NAT: QEMU's user network, with ssh's forward and the machine's own. */
static int add_user_network(const struct qemu_launch *launch, struct strv *argv, struct error *err)
{
	const struct config *cfg = launch->cfg;
	struct forwards fw;
	const char *addr;
	if (forwards_from_config(cfg, &fw, &addr, err) < 0)
		return -1;
	if (fw.n && !forwards_addr_is_loopback(addr))
		report_warn(launch->report,
			    "VM_NET_FORWARD_ADDR=%s: the forwarded ports of the guest can be "
			    "reached from the network, not only from this host",
			    addr);
	struct strv opts = STRV_INIT;
	strv_add(&opts, "user,id=net0");
	strv_addf(&opts, "hostfwd=tcp:127.0.0.1:%d-:22", qemu_nat_ssh_port(cfg));
	forwards_add_hostfwd(&fw, addr, &opts);
	strv_push(argv, strv_join(&opts, ","));
	strv_free(&opts);
	forwards_free(&fw);
	return 0;
}

/* The NIC models QEMU gives several queues (mq=on, MSI-X vectors). */
static bool model_has_queues(const char *model)
{
	static const char *const models[] = {"virtio-net-pci", "virtio-net",
					     "virtio-net-pci-non-transitional",
					     "virtio-net-pci-transitional"};
	for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++)
		if (!strcmp(model, models[i]))
			return true;
	return false;
}

unsigned qemu_net_queues(const struct config *cfg, enum qemu_network network)
{
	return network == QEMU_NET_BRIDGE ? (unsigned)config_int(cfg, "VM_NET_QUEUES") : 1;
}

int qemu_check_net_queues(const struct config *cfg, enum qemu_network network,
			  const struct report *report, struct error *err)
{
	unsigned queues = (unsigned)config_int(cfg, "VM_NET_QUEUES");
	const char *model = qemu_net_model(cfg);
	if (queues <= 1)
		return 0;
	/* .vmrc's queues are for the tap; a --nat start keeps working. */
	if (network == QEMU_NET_NAT) {
		report_warn(report,
			    "VM_NET_QUEUES=%u is for bridged networking: NAT (QEMU's user network) "
			    "has one queue",
			    queues);
		return 0;
	}
	if (!model_has_queues(model))
		return error_set(err,
				 "VM_NET_QUEUES=%u needs a NIC with several queues, and "
				 "VM_NET_MODEL=%s has one: set VM_NET_MODEL=virtio-net-pci (the "
				 "guest needs its virtio_net driver), or VM_NET_QUEUES=1",
				 queues, model);
	return 0;
}

/* One queue: fd=, as before multi-queue taps; several: fds=A:B:... */
static void add_tap(const struct netclient_tap *tap, struct strv *argv)
{
	struct strbuf fds = STRBUF_INIT;
	for (size_t i = 0; i < tap->nfds; i++)
		strbuf_addf(&fds, "%s%d", i ? ":" : "", tap->fds[i]);
	strv_addf(argv, "tap,id=net0,%s=%s", tap->nfds > 1 ? "fds" : "fd", strbuf_str(&fds));
	strbuf_free(&fds);
}

int qemu_add_network(const struct qemu_launch *launch, struct strv *argv, struct error *err)
{
	const struct config *cfg = launch->cfg;
	if (qemu_check_net_queues(cfg, launch->network, launch->report, err) < 0)
		return -1;
	strv_add(argv, "-netdev");
	if (launch->network == QEMU_NET_BRIDGE && (!launch->tap || !launch->tap->nfds))
		return error_set(err, "bridged networking needs a tap from vm-netd first");
	/* No vnet_hdr=: QEMU refuses it together with fd= and finds out itself. */
	if (launch->network == QEMU_NET_BRIDGE)
		add_tap(launch->tap, argv);
	else if (add_user_network(launch, argv, err) < 0)
		return -1;
	strv_add(argv, "-device");
	size_t queues = launch->network == QEMU_NET_BRIDGE ? launch->tap->nfds : 1;
	/* A vector per queue each way, one for the control queue, one for the
	 * configuration (QEMU's own rule for virtio-net). */
	if (queues > 1)
		strv_addf(argv, "%s,netdev=net0,mq=on,vectors=%zu,mac=%s", qemu_net_model(cfg),
			  2 * queues + 2, config_get(cfg, "VM_NET_MAC"));
	else
		strv_addf(argv, "%s,netdev=net0,mac=%s", qemu_net_model(cfg),
			  config_get(cfg, "VM_NET_MAC"));
	return 0;
}

static void add_monitors(const struct qemu_launch *launch, struct strv *argv)
{
	const struct config *cfg = launch->cfg;
	strv_add(argv, "-chardev");
	strv_addf(argv, "socket,id=qmp,path=%s,server=on,wait=off", launch->rt->qmp_socket);
	strv_add(argv, "-mon");
	strv_add(argv, "chardev=qmp,mode=control");
	if (!strcmp(config_get(cfg, "VM_MONITOR"), "tcp")) {
		const char *listen = config_get(cfg, "VM_NET_LISTEN");
		const char *port = config_get(cfg, "VM_NET_PORT");
		report_warn(launch->report,
			    "VM_MONITOR=tcp: anyone who can reach %s:%s controls this emulator",
			    listen, port);
		strv_add(argv, "-monitor");
		strv_addf(argv, "telnet:%s:%s,server=on,wait=off", listen, port);
	}
	if (qemu_has_guest_agent(cfg)) {
		strv_add(argv, "-chardev");
		strv_addf(argv, "socket,id=agent,path=%s,server=on,wait=off",
			  launch->rt->ga_socket);
		strv_add(argv, "-device");
		strv_add(argv, "virtio-serial");
		strv_add(argv, "-device");
		strv_add(argv, "virtserialport,chardev=agent,name=org.qemu.guest_agent.0");
	}
}

static bool has_graphical_session(const struct config *cfg)
{
	return config_get(cfg, "DISPLAY") || config_get(cfg, "WAYLAND_DISPLAY");
}

static void add_display(const struct qemu_launch *launch, struct strv *argv)
{
	const char *display = config_get(launch->cfg, "VM_QEMU_DISPLAY");
	const char *vnc = config_get(launch->cfg, "VM_QEMU_VNC");
	if (display) {
		strv_add(argv, "-display");
		strv_add(argv, display);
	} else if (!vnc && (launch->background || !has_graphical_session(launch->cfg))) {
		/* No window to open: QEMU would fail to start its default one. */
		strv_add(argv, "-display");
		strv_add(argv, "none");
	}
	if (vnc) {
		strv_add(argv, "-vnc");
		strv_add(argv, vnc);
	}
}

static int refuse_daemonize(char *const argv[], struct error *err)
{
	for (size_t i = 0; argv[i]; i++)
		if (!strcmp(argv[i], "-daemonize") || !strcmp(argv[i], "--daemonize"))
			return error_set(err, "-daemonize is not allowed: vm keeps track of the "
					      "emulator itself; use 'vm start' to run it in the "
					      "background");
	return 0;
}

bool qemu_user_takes_serial(char *const argv[], size_t user_from)
{
	return names_option(argv, user_from, "-serial") ||
	       names_option(argv, user_from, "-nographic");
}

/* The guest's first serial port on a socket for vm console, with what the
 * guest writes there logged: QEMU appends to the log (logappend), so that
 * vm can trim it while the emulator runs. Not when the user's words take
 * the serial port or the terminal themselves. */
static void add_console(const struct qemu_launch *launch, struct strv *argv, size_t user_from)
{
	if (qemu_user_takes_serial(strv_argv(argv), user_from))
		return;
	strv_add(argv, "-chardev");
	strv_addf(argv, "socket,id=console,path=%s,server=on,wait=off,logfile=%s,logappend=on",
		  launch->rt->console_socket, launch->rt->console_log);
	strv_add(argv, "-serial");
	strv_add(argv, "chardev:console");
}

int qemu_build_command(const struct qemu_launch *launch, struct strv *argv, struct error *err)
{
	const struct config *cfg = launch->cfg;
	strv_add(argv, config_get(cfg, "VM_QEMU"));
	char *name = option_value(config_get(cfg, "VM_MACHINE_NAME"));
	strv_add(argv, "-name");
	/* guest= named: a name with '=' is no key of its own. */
	strv_addf(argv, "guest=%s,process=vm-%s", name, name);
	free(name);
	const char *accel = "tcg";
	if (add_accelerator(cfg, argv, &accel, err) < 0)
		return -1;
	strv_add(argv, "-m");
	strv_add(argv, config_get(cfg, "VM_MACHINE_MEM"));
	strv_add(argv, "-pidfile");
	strv_add(argv, launch->rt->pid_file);
	if (add_disk(launch, argv, err) < 0 || qemu_add_network(launch, argv, err) < 0)
		return -1;
	add_monitors(launch, argv);
	add_display(launch, argv);
	if (launch->loadvm) {
		strv_add(argv, "-loadvm");
		strv_add(argv, launch->loadvm);
	}
	size_t user_from = argv->n;
	if (config_words(cfg, "VM_QEMU_EXTRA", argv, err) < 0)
		return -1;
	for (int i = 0; i < launch->user_argc; i++)
		strv_add(argv, launch->user_args[i]);
	add_host_cpu(accel, argv, user_from);
	add_console(launch, argv, user_from);
	return refuse_daemonize(strv_argv(argv), err);
}

bool qemu_uses_curses(char *const argv[])
{
	for (size_t i = 0; argv[i]; i++)
		if ((!strcmp(argv[i], "-display") && argv[i + 1] &&
		     !strncmp(argv[i + 1], "curses", 6)) ||
		    !strcmp(argv[i], "-curses"))
			return true;
	return false;
}
