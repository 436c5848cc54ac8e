/* What qemu-img does to images, run through the one spawner. */
#include "storage/image.h"

#include "log.h"
#include "strbuf.h"
#include "sys/spawn.h"
#include "sys/tempfile.h"
#include "xalloc.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Without qemu-img's "qemu-img: " before each line: the message names
 * the job. */
static char *without_prefixes(const char *text)
{
	static const char prefix[] = "qemu-img: ";
	struct strbuf sb = STRBUF_INIT;
	for (const char *in = text; *in; in++) {
		bool line_start = in == text || (in - text >= 2 && !strncmp(in - 2, "; ", 2));
		if (line_start && !strncmp(in, prefix, sizeof(prefix) - 1))
			in += sizeof(prefix) - 1;
		if (!*in)
			break;
		strbuf_addc(&sb, *in);
	}
	return strbuf_take(&sb);
}

/* Runs qemu-img with args; what describes the job for messages. stdout is
 * captured unless show_output (for qemu-img's own progress display). */
static int run_qemu_img(struct strv *args, const char *what, bool show_output,
			struct spawn_result *res, struct error *err)
{
	struct spawn_options opts = {.capture_stdout = !show_output, .capture_stderr = true};
	char *line = strv_join(args, " ");
	log_debug("running %s", line);
	free(line);
	if (spawn_run(strv_argv(args), &opts, res, err) < 0) {
		if (!spawn_program_exists(args->v[0]))
			return error_set(err, "qemu-img not found: install it (Debian: apt-get "
					      "install qemu-utils)");
		return -1;
	}
	if (res->status != 0) {
		/* check reports on stdout, everything else on stderr. */
		bool quiet_stderr = !res->err[0] || res->err[strspn(res->err, " \n")] == '\0';
		/* All of it: the first line often names the cause, the last
		 * the consequence. */
		char *lines =
		    spawn_last_lines(quiet_stderr && res->out ? res->out : res->err, SIZE_MAX);
		char *reason = without_prefixes(lines);
		error_set(err, "%s: %s", what, reason[0] ? reason : "no reason given");
		free(lines);
		free(reason);
		spawn_result_free(res);
		return -1;
	}
	return 0;
}

static int run_simple(struct strv *args, const char *what, bool show_output, struct error *err)
{
	struct spawn_result res;
	int rc = run_qemu_img(args, what, show_output, &res, err);
	if (rc == 0)
		spawn_result_free(&res);
	strv_free(args);
	return rc;
}

static char *json_string_dup(struct json_object *obj, const char *key)
{
	struct json_object *value;
	if (!json_object_object_get_ex(obj, key, &value) ||
	    !json_object_is_type(value, json_type_string))
		return NULL;
	return xstrdup(json_object_get_string(value));
}

static uint64_t json_u64(struct json_object *obj, const char *key)
{
	struct json_object *value;
	if (!json_object_object_get_ex(obj, key, &value))
		return 0;
	return (uint64_t)json_object_get_int64(value);
}

static void read_snapshots(struct json_object *obj, struct image_info *info)
{
	struct json_object *list;
	if (!json_object_object_get_ex(obj, "snapshots", &list) ||
	    !json_object_is_type(list, json_type_array))
		return;
	size_t n = json_object_array_length(list);
	info->snapshot_dates = xcalloc(n ? n : 1, sizeof(*info->snapshot_dates));
	for (size_t i = 0; i < n; i++) {
		struct json_object *snapshot = json_object_array_get_idx(list, i);
		char *name = json_string_dup(snapshot, "name");
		if (!name)
			continue;
		info->snapshot_dates[info->snapshots.n] = (long long)json_u64(snapshot, "date-sec");
		strv_push(&info->snapshots, name);
	}
}

static int parse_info(const char *path, const char *text, struct image_info *info,
		      struct error *err)
{
	struct json_object *obj = json_tokener_parse(text);
	if (!obj || !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return error_set(err, "qemu-img info %s: unexpected output (not a JSON object)",
				 path);
	}
	info->format = json_string_dup(obj, "format");
	info->virtual_size = json_u64(obj, "virtual-size");
	info->actual_size = json_u64(obj, "actual-size");
	info->backing_file = json_string_dup(obj, "backing-filename");
	info->full_backing_file = json_string_dup(obj, "full-backing-filename");
	read_snapshots(obj, info);
	json_object_put(obj);
	return 0;
}

int image_info(const char *path, struct image_info *info, struct error *err)
{
	*info = (struct image_info){.snapshots = STRV_INIT};
	struct strv args = STRV_INIT;
	strv_add(&args, "qemu-img");
	strv_add(&args, "info");
	strv_add(&args, "--force-share");
	strv_add(&args, "--output=json");
	strv_add(&args, "--");
	strv_add(&args, path);
	struct spawn_result res;
	char *what = xasprintf("cannot read image %s", path);
	int rc = run_qemu_img(&args, what, false, &res, err);
	free(what);
	strv_free(&args);
	if (rc < 0)
		return -1;
	rc = parse_info(path, res.out, info, err);
	spawn_result_free(&res);
	return rc;
}

int image_open_chain(const char *path, struct error *err)
{
	struct strv args = STRV_INIT;
	strv_add(&args, "qemu-img");
	strv_add(&args, "info");
	strv_add(&args, "--backing-chain");
	strv_add(&args, "--force-share");
	strv_add(&args, "--");
	strv_add(&args, path);
	char *what = xasprintf("%s does not open with its backing files", path);
	int rc = run_simple(&args, what, false, err);
	free(what);
	return rc;
}

void image_info_free(struct image_info *info)
{
	free(info->format);
	free(info->backing_file);
	free(info->full_backing_file);
	strv_free(&info->snapshots);
	free(info->snapshot_dates);
	*info = (struct image_info){.snapshots = STRV_INIT};
}

static void overlay_args(struct strv *args, const char *path, const char *backing, const char *fmt)
{
	strv_add(args, "qemu-img");
	strv_add(args, "create");
	strv_add(args, "-q");
	strv_addf(args, "-f%s", fmt);
	strv_addf(args, "-b%s", backing);
	strv_addf(args, "-F%s", fmt);
	strv_add(args, "--");
	strv_add(args, path);
}

char *image_create_overlay_command(const char *path, const char *backing, const char *fmt)
{
	return xasprintf("qemu-img create -f %s -b %s -F %s %s", fmt, backing, fmt, path);
}

int image_create_overlay(const char *path, const char *backing, const char *fmt, unsigned flags,
			 struct error *err)
{
	if (!(flags & IMAGE_REPLACE) && access(path, F_OK) == 0)
		return error_set(err, "%s already exists; vm does not overwrite it", path);
	/* The temporary name reserves the place; qemu-img then writes that file. */
	struct tempfile tf;
	if (tempfile_create(&tf, path, err) < 0)
		return -1;
	struct strv args = STRV_INIT;
	overlay_args(&args, tf.path, backing, fmt);
	char *what = xasprintf("cannot create %s on %s", path, backing);
	int rc = run_simple(&args, what, false, err);
	free(what);
	if (rc < 0) {
		tempfile_discard(&tf);
		return -1;
	}
	return tempfile_commit(&tf, (flags & IMAGE_REPLACE) ? TEMPFILE_REPLACE : 0, err);
}

int image_commit(const char *path, const struct report *report, struct error *err)
{
	bool progress = report_child_progress(report);
	struct strv args = STRV_INIT;
	strv_add(&args, "qemu-img");
	strv_add(&args, "commit");
	strv_add(&args, progress ? "-p" : "-q");
	strv_add(&args, "--");
	strv_add(&args, path);
	char *what = xasprintf("cannot commit %s into its base", path);
	int rc = run_simple(&args, what, progress, err);
	free(what);
	return rc;
}

/* path opened without its backing file, which deleting a snapshot never
 * reads: a copy in an archive may sit beside a compressed base, or none. */
static char *without_backing(const char *path, const char *fmt)
{
	struct json_object *file = json_object_new_object();
	json_object_object_add(file, "driver", json_object_new_string("file"));
	json_object_object_add(file, "filename", json_object_new_string(path));
	struct json_object *spec = json_object_new_object();
	json_object_object_add(spec, "driver", json_object_new_string(fmt));
	json_object_object_add(spec, "backing", NULL);
	json_object_object_add(spec, "file", file);
	char *text = xasprintf("json:%s",
			       json_object_to_json_string_ext(
				   spec, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(spec);
	return text;
}

int image_snapshot_delete(const char *path, const char *fmt, const char *name, struct error *err)
{
	struct strv args = STRV_INIT;
	strv_add(&args, "qemu-img");
	strv_add(&args, "snapshot");
	strv_add(&args, "-d");
	strv_add(&args, name);
	strv_add(&args, "--");
	strv_push(&args, without_backing(path, fmt));
	char *what = xasprintf("cannot delete snapshot '%s' from %s", name, path);
	int rc = run_simple(&args, what, false, err);
	free(what);
	return rc;
}

int image_repair_leaks(const char *path, const char *fmt, long *repaired, struct error *err)
{
	*repaired = 0;
	if (!strcmp(fmt, "raw"))
		return 0; /* nothing to leak */
	struct strv args = STRV_INIT;
	strv_add(&args, "qemu-img");
	strv_add(&args, "check");
	strv_add(&args, "-rleaks");
	strv_add(&args, "--output=json");
	strv_addf(&args, "-f%s", fmt);
	strv_add(&args, "--");
	strv_add(&args, path);
	struct spawn_result res;
	char *what = xasprintf("cannot repair %s (qemu-img check -r leaks)", path);
	int rc = run_qemu_img(&args, what, false, &res, err);
	free(what);
	strv_free(&args);
	if (rc < 0)
		return -1;
	struct json_object *obj = json_tokener_parse(res.out);
	if (obj && json_object_is_type(obj, json_type_object))
		*repaired = (long)json_u64(obj, "leaks-fixed");
	json_object_put(obj);
	spawn_result_free(&res);
	return 0;
}
