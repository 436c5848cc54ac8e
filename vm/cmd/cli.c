#include "cmd/cli.h"

#include "log.h"
#include "storage/image.h"
#include "storage/overlay.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

int cli_help(const char *usage)
{
	fputs(usage, stdout);
	return 0;
}

static void add_option(struct cli_options *o, size_t *n, const struct option *opt)
{
	if (*n + 1 >= sizeof(o->all_) / sizeof(o->all_[0]))
		abort(); /* a programming error: a command with too many options */
	o->all_[(*n)++] = *opt;
}

/* The shared options joined with the command's own, for getopt_long. */
static void prepare(struct cli_options *o)
{
	static const struct option help = {"help", no_argument, NULL, 'h'},
				   verbose = {"verbose", no_argument, NULL, 'v'},
				   json = {"json", no_argument, NULL, 'j'},
				   nat = {"nat", no_argument, NULL, 'n'},
				   bridge = {"bridge", no_argument, NULL, 'c'};
	/* "-" hands each argument back in order, so options are read anywhere
	 * even under POSIXLY_CORRECT, which would end them at the first argument. */
	int len = snprintf(o->optstring_, sizeof(o->optstring_), "%s:hv%s%s%s",
			   o->leading_only ? "+" : "-", o->json ? "j" : "", o->network ? "nc" : "",
			   o->shortopts ? o->shortopts : "");
	if (len < 0 || (size_t)len >= sizeof(o->optstring_))
		abort();
	size_t n = 0;
	add_option(o, &n, &help);
	add_option(o, &n, &verbose);
	if (o->json)
		add_option(o, &n, &json);
	if (o->network) {
		add_option(o, &n, &nat);
		add_option(o, &n, &bridge);
	}
	for (const struct option *opt = o->longopts; opt && opt->name; opt++)
		add_option(o, &n, opt);
	o->all_[n] = (struct option){0};
	optind = 0; /* GNU getopt starts afresh, so a command may be parsed again */
	opterr = 0;
	o->started_ = true;
	o->operands_ = 0;
}

/* An argument met among the options: kept at the front of the slots already
 * read (optarg points at strings, never at slots, so none is lost). */
static void keep_operand(struct cli_options *o, char **argv)
{
	argv[1 + o->operands_++] = argv[optind - 1];
}

/* The arguments met among the options, put back just before those after
 * "--", so that argv[optind..argc) holds them all, in their order. */
static void place_operands(struct cli_options *o, char **argv)
{
	int n = o->operands_;
	memmove(&argv[optind - n], &argv[1], (size_t)n * sizeof(*argv));
	optind -= n;
	o->operands_ = 0;
}

static int exit_with(struct cli_options *o, int status)
{
	o->status = status;
	return CLI_EXIT;
}

/* The option getopt_long refused, with c '?' or ':'. */
static int option_error(struct cli_options *o, int c, char **argv)
{
	char what[256];
	if (c == ':')
		snprintf(what, sizeof(what), "option %s needs a value", argv[optind - 1]);
	else if (optopt)
		snprintf(what, sizeof(what), "unknown option -%c", optopt);
	else
		snprintf(what, sizeof(what), "unknown option '%s'", argv[optind - 1]);
	if (o->passthrough && c != ':')
		log_error("%s; options for %s go after --, e.g. 'vm %s -- %s'", what,
			  o->passthrough, o->command, argv[optind - 1]);
	else
		log_error("%s; see 'vm %s --help'", what, o->command);
	return exit_with(o, 1);
}

/* What the shared options leave to check once all are read. */
static int finish(struct cli_options *o, int argc, char **argv)
{
	place_operands(o, argv);
	if (o->no_arguments && optind < argc)
		return exit_with(
		    o, cli_usage_error(o->command, "unexpected argument '%s'", argv[optind]));
	if (o->network && o->network->network == QEMU_NET_NAT && o->network->create_bridge)
		return exit_with(
		    o, cli_usage_error(o->command, "--nat and --bridge cannot be used together"));
	return CLI_DONE;
}

int cli_next_option(struct cli_options *o, int argc, char **argv)
{
	if (!o->started_)
		prepare(o);
	int c;
	while ((c = getopt_long(argc, argv, o->optstring_, o->all_, NULL)) != -1) {
		switch (c) {
		case 1:
			keep_operand(o, argv);
			continue;
		case 'h':
			return exit_with(o, cli_help(o->usage));
		case 'v':
			log_set_verbose(true);
			continue;
		case '?':
		case ':':
			return option_error(o, c, argv);
		}
		if (o->json && c == 'j')
			*o->json = true;
		else if (o->network && c == 'n')
			o->network->network = QEMU_NET_NAT;
		else if (o->network && c == 'c')
			o->network->create_bridge = true;
		else
			return c;
	}
	return finish(o, argc, argv);
}

int cli_parse_help_verbose(const char *command, const char *usage, bool no_arguments, int argc,
			   char **argv)
{
	struct cli_options o = {.command = command, .usage = usage, .no_arguments = no_arguments};
	int c = cli_next_option(&o, argc, argv);
	if (c == CLI_EXIT)
		return o.status;
	return -1; /* no option of its own can be returned: CLI_DONE */
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("%s; see 'vm %s --help'", msg, command);
	return 1;
}

/* On stderr, so that what a script reads on stdout (status --json) stays
 * as it was. */
static void tell_config_warnings(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->warnings.n; i++)
		log_warn("%s", cfg->warnings.v[i]);
}

int cli_load_machine(struct config *cfg)
{
	struct error err;
	if (config_load(cfg, environ, &err) < 0) {
		log_error("%s", err.msg);
		config_free(cfg);
		return -1;
	}
	tell_config_warnings(cfg);
	return 0;
}

int cli_open_machine(struct machine *m, enum runtime_reach how)
{
	struct error err;
	if (machine_open(m, how, &err) < 0) {
		log_error("%s", err.msg);
		return -1;
	}
	tell_config_warnings(&m->cfg);
	return 0;
}

/* What the merge of an interrupted archive's overlay came to: its failure
 * with what to do (advice), or what was found. */
static void tell_merge(int rc, enum overlay_found found, const char *overlay, const char *disk,
		       const struct error *err, const char *advice)
{
	if (rc < 0)
		log_error("cannot merge back the overlay %s that an interrupted vm archive left: "
			  "%s; %s",
			  overlay, err->msg, advice);
	else
		overlay_report(found, overlay, disk, &cli_report);
}

int cli_merge_overlay_live(struct machine *m, struct qmp *q)
{
	struct error err;
	char *disk = machine_disk(m, &err);
	if (!disk) {
		log_error("%s", err.msg);
		return -1;
	}
	char *overlay = overlay_path(disk);
	enum overlay_found found;
	int rc = overlay_merge_live(q, disk, &found, &err);
	tell_merge(rc, found, overlay, disk, &err,
		   "the guest runs on and keeps writing into it: try again, or end the emulator "
		   "with vm kill, which then merges it with qemu-img");
	free(overlay);
	free(disk);
	return rc;
}

/* QEMU refuses a -loadvm of a state the disk does not hold only after it
 * started ("Snapshot 'x' does not exist in one or more devices"), and names
 * none it does hold: tell them first. When the image cannot be read, QEMU
 * is left to say why. */
static int check_saved_state(const struct machine *m, const struct qemu_launch *launch,
			     struct error *err)
{
	char *disk = qemu_disk_image(&m->cfg, launch->base_only);
	struct image_info info;
	struct error unread;
	if (image_info(disk, &info, &unread) < 0) {
		log_debug("cannot list the saved states: %s", unread.msg);
		free(disk);
		return 0;
	}
	int rc = 0;
	if (!strv_contains(&info.snapshots, launch->loadvm)) {
		char *names = strv_join(&info.snapshots, ", ");
		rc = info.snapshots.n
			 ? error_set(err,
				     "no saved state '%s' in %s/%s: its saved states are %s; name "
				     "one of them, or leave out -l",
				     launch->loadvm, m->cfg.home, disk, names)
			 : error_set(err,
				     "no saved state '%s' in %s/%s: it has none ('vm stop -s NAME' "
				     "saves one); leave out -l",
				     launch->loadvm, m->cfg.home, disk);
		free(names);
	}
	image_info_free(&info);
	free(disk);
	return rc;
}

int cli_claim_machine(struct machine *m, const struct qemu_launch *launch, struct error *err)
{
	if (machine_claim(m, launch, err) < 0)
		return -1;
	if (cli_merge_overlay_stopped(m, true) < 0) {
		runtime_unlock(&m->rt);
		return error_set(err, "%s was not started, so that the overlay's writes stay",
				 machine_name(m));
	}
	if (launch->loadvm && check_saved_state(m, launch, err) < 0) {
		runtime_unlock(&m->rt);
		return -1;
	}
	return 0;
}

int cli_merge_overlay_stopped(struct machine *m, bool locked)
{
	char *disk = qemu_disk_image(&m->cfg, false);
	char *overlay = overlay_path(disk);
	int rc = 0;
	struct error err;
	/* Under the lock, no emulator can start on the disk meanwhile. */
	if (image_exists(overlay) && (locked || runtime_lock(&m->rt, &err) == 0)) {
		enum overlay_found found;
		rc = overlay_merge_stopped(disk, &found, &cli_report, &err);
		tell_merge(rc, found, overlay, disk, &err,
			   "it holds the guest's last writes: free space or fix the cause, then "
			   "run the command again");
		if (!locked)
			runtime_unlock(&m->rt);
	}
	free(overlay);
	free(disk);
	return rc;
}
