/* vm init: the base image copied from the seed, and an empty backing file
 * on it, following the original's rules on existing and orphaned files. */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "emulator/runtime.h"
#include "log.h"
#include "storage/image.h"
#include "sys/tempfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char init_usage[] =
    "Usage: vm init [-t|--dry-run] [-k|--clobber-backing] [-b|--clobber-base] [-v|--verbose]\n"
    "\n"
    "Copies the seed image NAME-seed.FMT to the base image NAME-base.FMT, then\n"
    "creates the backing file NAME-backing.FMT on it (qemu-img create -f FMT\n"
    "-b NAME-base.FMT -F FMT), in the machine directory. The machine must not run.\n"
    "\n"
    "  -t, --dry-run          say what would be done, change nothing\n"
    "  -k, --clobber-backing  replace an existing backing file (its changes are lost)\n"
    "  -b, --clobber-base     copy the seed again over an existing base file, and\n"
    "                         make a fresh backing file on it (changes are lost)\n"
    "  -v, --verbose          say each step\n"
    "  -h, --help             show this text\n"
    "\n"
    "Rules:\n"
    "  - An existing base file is kept and used; only -b replaces it.\n"
    "  - An existing backing file holds the machine's changes: it is replaced with\n"
    "    -k, or with -b (a backing file made on the old base would no longer match\n"
    "    the new one), and never when its base is missing (an orphan) unless -k.\n"
    "  - The base is written under a temporary name and renamed when complete, so\n"
    "    a failed or interrupted copy (Ctrl-C) never leaves a half base.\n"
    "  - With VM_USE_SNAPSHOTS=no the machine has one image and init has nothing\n"
    "    to do.\n";

struct init_options {
	bool dry_run;
	bool clobber_backing;
	bool clobber_base;
};

struct init_files {
	const char *home, *seed, *base, *backing, *fmt;
};

/* What init does, once the rules allow it. */
struct init_plan {
	bool copy_base;
	bool replace_base;
	bool replace_backing;
};

/* err's message, then advice. */
static int add_advice(struct error *err, const char *advice)
{
	char msg[sizeof(err->msg)];
	snprintf(msg, sizeof(msg), "%s", err->msg);
	return error_set(err, "%s; %s", msg, advice);
}

/* An image init builds on must be of the machine's format and whole: the
 * seed is checked before gigabytes are copied, a kept base before a
 * backing file is made on it. advice says what to do when it is not. */
static int check_image(const char *path, const char *fmt, const char *advice, struct error *err)
{
	struct image_info info;
	if (image_info(path, &info, err) < 0)
		return add_advice(err, advice);
	const char *found = info.format ? info.format : "?";
	int rc = 0;
	if (info.virtual_size == 0)
		rc = error_set(err, "%s is empty (a %s image of size 0)", path, found);
	else if (strcmp(found, fmt))
		rc = error_set(err,
			       "%s is a %s image, and VM_FMT is %s: convert it (qemu-img convert "
			       "-f %s -O %s %s NEW, then rename NEW to %s)%s",
			       path, found, fmt, found, fmt, path, path,
			       strcmp(found, "raw") ? ", or set VM_FMT" : "");
	image_info_free(&info);
	if (rc == 0)
		rc = image_open_chain(path, err);
	return rc < 0 ? add_advice(err, advice) : 0;
}

static int check_inputs(const struct init_files *f, const struct init_plan *plan, struct error *err)
{
	if (plan->copy_base)
		return check_image(f->seed, f->fmt,
				   "the seed must be the installed guest's disk image, whole", err);
	return check_image(f->base, f->fmt,
			   "'vm init -b' copies the seed again over the existing base", err);
}

/* Applies the rules on existing and orphaned files. */
static int make_plan(const struct init_files *f, const struct init_options *o,
		     struct init_plan *plan, struct error *err)
{
	bool have_base = image_exists(f->base), have_backing = image_exists(f->backing);
	*plan = (struct init_plan){
	    .copy_base = !have_base || o->clobber_base,
	    .replace_base = have_base,
	    .replace_backing = have_backing,
	};
	if (have_backing && !o->clobber_backing) {
		if (!have_base)
			return error_set(
			    err,
			    "%s exists but its base %s does not (an orphaned backing "
			    "file, useless without the base it was made on); use -k to "
			    "replace it with a fresh one on a new base",
			    f->backing, f->base);
		/* As in the original, -b starts over from the seed: a backing file
		 * made on the old base would no longer match the new one. */
		if (!o->clobber_base)
			return error_set(err,
					 "%s and %s exist already: the machine is initialised; "
					 "use -k to replace the backing file (its changes are "
					 "lost), or -b to start over from the seed (base and "
					 "backing file)",
					 f->base, f->backing);
	}
	if (plan->copy_base && !image_exists(f->seed))
		return error_set(err,
				 "no seed image %s in %s: put the installed guest's disk image "
				 "there under that name%s",
				 f->seed, f->home,
				 have_base ? ", or leave out -b to keep the base" : "");
	return check_inputs(f, plan, err);
}

static void print_plan(const struct init_files *f, const struct init_plan *plan)
{
	if (plan->copy_base)
		printf("would copy %s to %s%s\n", f->seed, f->base,
		       plan->replace_base ? " (replacing the existing base)" : "");
	else
		printf("would keep the existing %s\n", f->base);
	char *command = image_create_overlay_command(f->backing, f->base, f->fmt);
	printf("would run: %s%s\n", command,
	       plan->replace_backing ? " (replacing the existing backing file)" : "");
	free(command);
}

static int carry_out(const struct init_files *f, const struct init_plan *plan, struct error *err)
{
	int stale = tempfile_remove_stale(f->base) + tempfile_remove_stale(f->backing);
	if (stale)
		log_progress("removed %d temporary file%s left by an interrupted init", stale,
			     stale == 1 ? "" : "s");
	if (plan->copy_base) {
		log_progress("copying %s to %s", f->seed, f->base);
		if (image_copy(f->seed, f->base, IMAGE_REPLACE, &cli_report, err) < 0)
			return -1;
	} else {
		log_progress("keeping the existing %s", f->base);
	}
	log_progress("creating %s on %s", f->backing, f->base);
	return image_create_overlay(f->backing, f->base, f->fmt, IMAGE_REPLACE, err);
}

static int init_machine(const struct config *cfg, const struct init_options *o, struct error *err)
{
	if (!strcmp(config_get(cfg, "VM_FMT"), "raw"))
		return error_set(err,
				 "VM_FMT=raw has no backing files, and init makes a base and a "
				 "backing file on it: set VM_USE_SNAPSHOTS=no to run on the "
				 "single image %s",
				 config_get(cfg, "VM_IMAGE_FILENAME"));
	struct init_files f = {
	    .home = cfg->home,
	    .seed = config_get(cfg, "VM_SNAPSHOT_SEED_FILENAME"),
	    .base = config_get(cfg, "VM_SNAPSHOT_BASE_FILENAME"),
	    .backing = config_get(cfg, "VM_SNAPSHOT_BACKING_FILENAME"),
	    .fmt = config_get(cfg, "VM_FMT"),
	};
	/* The lock is held for the whole of init, so that the machine cannot
	 * start on half-made images. */
	struct runtime rt;
	if (runtime_lock_stopped(&rt, config_get(cfg, "VM_MACHINE_ID"),
				 config_get(cfg, "VM_MACHINE_NAME"), cfg->home,
				 config_get(cfg, "VM_CONFIG"),
				 "init would change the images under it", err) < 0) {
		runtime_close(&rt);
		return -1;
	}
	struct init_plan plan;
	int rc = make_plan(&f, o, &plan, err);
	if (rc == 0 && o->dry_run)
		print_plan(&f, &plan);
	else if (rc == 0)
		rc = carry_out(&f, &plan, err);
	runtime_close(&rt);
	return rc;
}

int cmd_init(int argc, char **argv)
{
	static const struct option longopts[] = {{"dry-run", no_argument, NULL, 't'},
						 {"clobber-backing", no_argument, NULL, 'k'},
						 {"clobber-base", no_argument, NULL, 'b'},
						 {0}};
	struct init_options opts = {0};
	struct cli_options o = {.command = "init",
				.usage = init_usage,
				.shortopts = "tkb",
				.longopts = longopts,
				.no_arguments = true};
	int c;
	while ((c = cli_next_option(&o, argc, argv)) >= 0) {
		if (c == 't')
			opts.dry_run = true;
		else if (c == 'k')
			opts.clobber_backing = true;
		else if (c == 'b')
			opts.clobber_base = true;
	}
	if (c == CLI_EXIT)
		return o.status;
	struct config cfg;
	if (cli_load_machine(&cfg) < 0)
		return 1;
	tempfile_tell_interruptions();
	int rc = 0;
	if (!config_bool(&cfg, "VM_USE_SNAPSHOTS")) {
		printf("VM_USE_SNAPSHOTS=no: this machine runs on the single image %s, so init "
		       "has nothing to do\n",
		       config_get(&cfg, "VM_IMAGE_FILENAME"));
	} else {
		struct error err;
		if (init_machine(&cfg, &opts, &err) < 0) {
			log_error("%s", err.msg);
			rc = 1;
		}
	}
	config_free(&cfg);
	return rc;
}
