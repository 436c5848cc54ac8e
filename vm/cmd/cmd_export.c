/* vm export: the machine as a libvirt domain, for when one host is
 * outgrown. vm does not grow a cluster; it hands the machine on. */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "config/words.h"
#include "emulator/libvirt_xml.h"
#include "emulator/qemu.h"
#include "emulator/runtime.h"
#include "emulator/savedstate.h"
#include "log.h"
#include "storage/image.h"
#include "sys/tempfile.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char export_usage[] =
    "Usage: vm export [--libvirt] [-n|--nat] [-o|--output FILE] [--name NAME] [-v|--verbose]\n"
    "       vm export -s|--state STATE -u|--uuid UUID [same options]\n"
    "\n"
    "Prints the stopped machine as a libvirt domain XML (for virsh define): the\n"
    "same memory, accelerator, disk chain (the backing file over the base), NIC\n"
    "(model, MAC, a bridge interface on VM_NET_BRIDGE), serial console, guest\n"
    "agent channel, direct kernel boot and display as 'vm run' gives the\n"
    "emulator. VM_QEMU_EXTRA words without a libvirt element are passed on in\n"
    "<qemu:commandline>, each named in a warning.\n"
    "\n"
    "      --libvirt      libvirt's domain XML (the only format, and the default)\n"
    "  -n, --nat          user networking, as 'vm run --nat' (without its ssh forward)\n"
    "  -o, --output FILE  write the XML to FILE instead of standard output\n"
    "      --name NAME    the domain's name (default: VM_MACHINE_NAME)\n"
    "  -s, --state STATE  print the <domainsnapshot> of the saved state STATE (vm\n"
    "                     stop -s, vm archive -s) instead, for virsh\n"
    "                     snapshot-create --redefine\n"
    "  -u, --uuid UUID    the domain's UUID (with --state: virsh domuuid NAME)\n"
    "  -v, --verbose      say each step\n"
    "  -h, --help         show this text\n"
    "\n"
    "The machine must be stopped, with VM_USE_SNAPSHOTS other than no and both\n"
    "images there. Then: virsh define FILE; virsh start NAME boots it afresh. To go\n"
    "on from a saved state instead (see vm(1)):\n"
    "  vm export -s STATE -u \"$(virsh domuuid NAME)\" -o STATE.xml\n"
    "  virsh snapshot-create NAME STATE.xml --redefine\n"
    "  virsh snapshot-revert NAME STATE\n";

struct export_options {
	enum qemu_network network;
	char *output; /* absolute: vm changes into the machine directory */
	const char *name;
	const char *state;
	const char *uuid;
};

enum { OPT_NAME = 256, OPT_LIBVIRT };

/* 8-4-4-4-12 hexadecimal digits, as libvirt writes them. */
static bool is_uuid(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* path as the caller meant it, from the directory vm was called in. */
static char *calling_dir_path(const char *path)
{
	char *cwd = path[0] == '/' ? NULL : getcwd(NULL, 0);
	char *abs = cwd ? xasprintf("%s/%s", cwd, path) : xstrdup(path);
	free(cwd);
	return abs;
}

/* Returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, struct export_options *o)
{
	static const struct option longopts[] = {
	    {"libvirt", no_argument, NULL, OPT_LIBVIRT},
	    {"nat", no_argument, NULL, 'n'},
	    {"output", required_argument, NULL, 'o'},
	    {"name", required_argument, NULL, OPT_NAME},
	    {"state", required_argument, NULL, 's'},
	    {"uuid", required_argument, NULL, 'u'},
	    {0},
	};
	struct cli_options opts = {.command = "export",
				   .usage = export_usage,
				   .shortopts = "no:s:u:",
				   .longopts = longopts,
				   .no_arguments = true};
	int c;
	while ((c = cli_next_option(&opts, argc, argv)) >= 0) {
		if (c == 'n')
			o->network = QEMU_NET_NAT;
		else if (c == 'o') {
			free(o->output);
			o->output = calling_dir_path(optarg);
		} else if (c == OPT_NAME)
			o->name = optarg;
		else if (c == 's')
			o->state = optarg;
		else if (c == 'u')
			o->uuid = optarg;
	}
	if (c == CLI_EXIT)
		return opts.status;
	if (o->name && !*o->name)
		return cli_usage_error("export", "--name needs a non-empty name");
	if (o->uuid && !is_uuid(o->uuid))
		return cli_usage_error(
		    "export", "'%s' is not a UUID (virsh domuuid NAME prints one)", o->uuid);
	if (o->state && !o->uuid)
		return cli_usage_error("export",
				       "--state needs the defined domain's UUID: add --uuid "
				       "\"$(virsh domuuid %s)\"",
				       o->name ? o->name : "NAME");
	return -1;
}

/* What a domain can be made of: a base and a backing file, both there. */
static int check_images(const struct config *cfg, struct error *err)
{
	if (!config_bool(cfg, "VM_USE_SNAPSHOTS"))
		return error_set(err,
				 "VM_USE_SNAPSHOTS=no: this machine runs on the single image "
				 "%s/%s, and vm export describes a base and a backing file; "
				 "export its single image by hand (a <disk> on it), or make it "
				 "the seed of a machine with snapshots (vm init)",
				 cfg->home, config_get(cfg, "VM_IMAGE_FILENAME"));
	if (qemu_check_disk(cfg, true, err) < 0 || qemu_check_disk(cfg, false, err) < 0)
		return -1;
	return 0;
}

/* What vm run --nat forwards has no place in libvirt's user networking. */
static void warn_forwards(const struct config *cfg, enum qemu_network network)
{
	const char *forwards = config_get(cfg, "VM_NET_FORWARD");
	if (network == QEMU_NET_NAT)
		log_warn("libvirt's user networking forwards no ports: not the guest's ssh "
			 "(127.0.0.1:%d)%s%s; reach the guest through its agent, virsh console "
			 "or a bridge",
			 qemu_nat_ssh_port(cfg), forwards ? ", nor VM_NET_FORWARD's " : "",
			 forwards ? forwards : "");
}

static void warn_unmapped(struct strv *unmapped)
{
	if (!unmapped->n)
		return;
	char *words = words_join_quoted(strv_argv(unmapped));
	log_warn("no libvirt element for these emulator arguments, passed on as they are in "
		 "<qemu:commandline>: %s",
		 words);
	free(words);
}

static int write_output(const char *path, const char *xml, struct error *err)
{
	if (!path) {
		fputs(xml, stdout);
		return fflush(stdout) == 0 ? 0 : error_errno(err, "cannot write the XML");
	}
	struct tempfile tf;
	if (tempfile_create(&tf, path, err) < 0)
		return -1;
	size_t len = strlen(xml), done = 0;
	while (done < len) {
		ssize_t n = write(tf.fd, xml + done, len - done);
		if (n < 0) {
			error_errno(err, "cannot write %s", path);
			tempfile_discard(&tf);
			return -1;
		}
		done += (size_t)n;
	}
	return tempfile_commit(&tf, TEMPFILE_REPLACE, err);
}

/* The saved state as the backing file lists it. */
static int find_state(const struct config *cfg, const char *name, struct libvirt_state *state,
		      struct error *err)
{
	const char *backing = config_get(cfg, "VM_SNAPSHOT_BACKING_FILENAME");
	struct image_info info;
	if (image_info(backing, &info, err) < 0)
		return -1;
	int rc = -1;
	for (size_t i = 0; i < info.snapshots.n; i++)
		if (!strcmp(info.snapshots.v[i], name)) {
			*state = (struct libvirt_state){name, info.snapshot_dates[i]};
			rc = 0;
		}
	if (rc < 0) {
		char *names = words_join(info.snapshots.n, strv_argv(&info.snapshots));
		error_set(err, "%s holds no saved state %s (%s%s)", backing, name,
			  info.snapshots.n ? "it holds: "
					   : "it holds none; save one with vm stop -s ",
			  info.snapshots.n ? names : name);
		free(names);
	}
	image_info_free(&info);
	if (rc == 0 && savedstate_lookup(backing, name) == SAVEDSTATE_SUSPENDED)
		log_warn(
		    "%s was saved while the guest slept (not by vm stop): QEMU 7.2 loads it "
		    "with the guest hung in its sleep; save it again with vm start -l %s, then "
		    "vm stop -s %s",
		    name, name, name);
	return rc;
}

static int describe(const struct libvirt_domain *d, const struct export_options *o,
		    struct strbuf *xml, struct strv *unmapped, struct error *err)
{
	if (!o->state)
		return libvirt_domain_xml(d, xml, unmapped, err);
	struct libvirt_state state;
	if (find_state(d->cfg, o->state, &state, err) < 0)
		return -1;
	return libvirt_snapshot_xml(d, &state, xml, unmapped, err);
}

static int export_machine(const struct config *cfg, const struct export_options *o,
			  struct error *err)
{
	if (check_images(cfg, err) < 0)
		return -1;
	struct libvirt_domain d = {
	    .cfg = cfg,
	    .name = o->name ? o->name : config_get(cfg, "VM_MACHINE_NAME"),
	    .uuid = o->uuid,
	    .network = o->network,
	};
	struct strbuf xml = STRBUF_INIT;
	struct strv unmapped = STRV_INIT;
	int rc = describe(&d, o, &xml, &unmapped, err);
	if (rc == 0) {
		warn_unmapped(&unmapped);
		warn_forwards(d.cfg, d.network);
		rc = write_output(o->output, strbuf_str(&xml), err);
	}
	if (rc == 0 && o->output && !o->state)
		log_progress("wrote the domain %s to %s; next: virsh define %s", d.name, o->output,
			     o->output);
	else if (rc == 0 && o->output)
		log_progress("wrote the saved state %s to %s; next: virsh snapshot-create %s %s "
			     "--redefine",
			     o->state, o->output, d.name, o->output);
	strv_free(&unmapped);
	strbuf_free(&xml);
	return rc;
}

int cmd_export(int argc, char **argv)
{
	struct export_options o = {.network = QEMU_NET_BRIDGE};
	int parsed = parse_options(argc, argv, &o);
	struct config cfg;
	if (parsed >= 0 || cli_load_machine(&cfg) < 0) {
		free(o.output);
		return parsed >= 0 ? parsed : 1;
	}
	struct error err;
	struct runtime rt;
	/* The lock is held while exporting, so the machine cannot start meanwhile. */
	int rc = runtime_lock_stopped(&rt, config_get(&cfg, "VM_MACHINE_ID"),
				      config_get(&cfg, "VM_MACHINE_NAME"), cfg.home,
				      config_get(&cfg, "VM_CONFIG"),
				      "libvirt must not boot a second emulator on its images; "
				      "save its state with 'vm stop -s STATE' or power it off "
				      "with 'vm stop -p', then export it",
				      &err);
	if (rc == 0)
		rc = export_machine(&cfg, &o, &err);
	if (rc < 0)
		log_error("%s", err.msg);
	runtime_close(&rt);
	config_free(&cfg);
	free(o.output);
	return rc < 0 ? 1 : 0;
}
