/* vm archive: its options, the combinations it refuses, and the choice
 * between --create and the update. */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "log.h"
#include "storage/archive.h"
#include "sys/tempfile.h"

#include <stdio.h>
#include <string.h>

static const char archive_usage[] =
    "Usage: vm archive [-c|--create] [-d|--delvm NAME] [-s|--savevm NAME]\n"
    "                  [-z|--compress xz|gzip|bzip2|lz4|zstd] [-b|--compress-base]\n"
    "                  [-f|--force] [-v|--verbose]\n"
    "\n"
    "Backs the machine's images up into NAME-<timestamp>, a directory named after\n"
    "the base file's modification time, in the machine directory.\n"
    "\n"
    "  -c, --create         with the machine stopped: commit the backing file into\n"
    "                       the base, copy the base into a new archive, start a fresh\n"
    "                       backing file and archive it too\n"
    "  (no --create)        with the machine running: sync the guest, copy the backing\n"
    "                       file into the archive of the current base as\n"
    "                       NAME-backing-<timestamp>.FMT while the guest runs on,\n"
    "                       writing into a temporary overlay that is merged back\n"
    "  -s, --savevm NAME    update: save the machine's state as NAME before copying\n"
    "  -d, --delvm NAME     update: delete the saved state NAME from the copy\n"
    "  -z, --compress TOOL  compress the archived backing file with xz, gzip, bzip2,\n"
    "                       lz4 or zstd (the tool must be installed)\n"
    "  -b, --compress-base  compress the archived base too (needs -z); left out, the\n"
    "                       archive runs in place once the .vmrc is copied into it\n"
    "  -f, --force          --create: commit although other images in the directory\n"
    "                       use the base as backing file, or the backing file holds\n"
    "                       saved states (these are lost)\n"
    "  -v, --verbose        say each step\n"
    "  -h, --help           show this text\n"
    "\n"
    "Every file is written under a temporary name and renamed when complete, and an\n"
    "archive directory appears only once it is complete: an interrupted or failed\n"
    "archive leaves the live machine and earlier archives as they were. An existing\n"
    "archive directory is never overwritten. The overlay of an interrupted update\n"
    "is merged back by the next vm command on the machine, which says so.\n";

struct archive_options {
	bool create;
	const char *compress;
	struct archive_job job;
};

/* Returns 1 to go on, 0 after --help, -1 after a usage error (reported). */
static int parse_options(int argc, char **argv, struct archive_options *opts)
{
	static const struct option longopts[] = {
	    {"create", no_argument, NULL, 'c'},
	    {"delvm", required_argument, NULL, 'd'},
	    {"savevm", required_argument, NULL, 's'},
	    {"compress", required_argument, NULL, 'z'},
	    {"compress-base", no_argument, NULL, 'b'},
	    {"force", no_argument, NULL, 'f'},
	    {0},
	};
	struct cli_options o = {.command = "archive",
				.usage = archive_usage,
				.shortopts = "cd:s:z:bf",
				.longopts = longopts,
				.no_arguments = true};
	int c;
	while ((c = cli_next_option(&o, argc, argv)) >= 0) {
		if (c == 'c')
			opts->create = true;
		else if (c == 'd')
			opts->job.delvm = optarg;
		else if (c == 's')
			opts->job.savevm = optarg;
		else if (c == 'z')
			opts->compress = optarg;
		else if (c == 'b')
			opts->job.compress_base = true;
		else if (c == 'f')
			opts->job.force = true;
	}
	if (c == CLI_DONE)
		return 1;
	return o.status == 0 ? 0 : -1;
}

/* The combinations that make no sense, refused before anything is done. */
static int check_combinations(const struct archive_options *o)
{
	if (o->create && o->job.savevm)
		return cli_usage_error("archive",
				       "--savevm saves the state of a running machine, and "
				       "--create needs it stopped; use one or the other");
	if (o->create && o->job.delvm)
		return cli_usage_error("archive",
				       "--delvm deletes a saved state from the copy an update "
				       "makes, and --create archives a fresh, empty backing file; "
				       "use one or the other");
	if (o->job.compress_base && !o->compress)
		return cli_usage_error("archive", "--compress-base needs --compress TOOL (xz, "
						  "gzip, bzip2, lz4 or zstd)");
	if (o->job.force && !o->create)
		return cli_usage_error("archive", "--force only applies to --create");
	return 0;
}

/* Finds the compressor and makes sure its tool is there before starting. */
static int check_compressor(struct archive_options *o)
{
	if (!o->compress)
		return 0;
	struct error err;
	o->job.compressor = compressor_find(o->compress, &err);
	if (!o->job.compressor || compressor_check(o->job.compressor, &err) < 0) {
		log_error("%s", err.msg);
		return 1;
	}
	return 0;
}

static int run_archive(struct archive_options *o, struct machine *m)
{
	const struct config *cfg = &m->cfg;
	if (!config_bool(cfg, "VM_USE_SNAPSHOTS")) {
		log_error("vm archive works on base and backing files, and this machine "
			  "(VM_USE_SNAPSHOTS=no) has the single image %s; copy it while the "
			  "machine is stopped",
			  config_get(cfg, "VM_IMAGE_FILENAME"));
		return 1;
	}
	struct archive_job *job = &o->job;
	job->m = m;
	job->cfg = cfg;
	job->name = config_get(cfg, "VM_MACHINE_NAME");
	job->fmt = config_get(cfg, "VM_FMT");
	job->base = config_get(cfg, "VM_SNAPSHOT_BASE_FILENAME");
	job->backing = config_get(cfg, "VM_SNAPSHOT_BACKING_FILENAME");
	job->report = &cli_report;
	/* An update refuses a stopped machine, after keeping what an
	 * interrupted one left. */
	if (!o->create && !machine_running(m, NULL))
		cli_merge_overlay_stopped(m, false);
	struct error err;
	bool was_running = !o->create && machine_running(m, NULL);
	int rc = o->create ? archive_create(job, &err) : archive_update(job, &err);
	if (rc < 0 && was_running)
		machine_report_death(m, &err);
	if (rc < 0) {
		log_error("%s", err.msg);
		return 1;
	}
	return 0;
}

int cmd_archive(int argc, char **argv)
{
	struct archive_options o = {0};
	int parsed = parse_options(argc, argv, &o);
	if (parsed <= 0)
		return parsed < 0 ? 1 : 0;
	if (check_combinations(&o) || check_compressor(&o))
		return 1;
	struct machine m;
	if (cli_open_machine(&m, RUNTIME_FIND) < 0)
		return 1;
	tempfile_tell_interruptions();
	int rc = run_archive(&o, &m);
	machine_close(&m);
	return rc;
}
