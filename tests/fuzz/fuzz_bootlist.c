/* libFuzzer: the boot list's line parser, line by line as bootlist_load
 * reads the machine list, on arbitrary text.
 * Properties: an accepted line yields a sane entry (absolute directory
 * without '..' or a trailing '/', an owner that is a user name and not root,
 * a time-out in range, a save name exactly when the action saves); written
 * back as a line it parses to the same entry; a directory is listed once. */
#include "boot/bootlist.h"

#include "xalloc.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

static void check_sane(const struct boot_entry *e)
{
	size_t len = strlen(e->dir);
	check(e->dir[0] == '/' && (len == 1 || e->dir[len - 1] != '/'));
	check(!strstr(e->dir, "/../") && strcmp(e->dir, "/..") &&
	      (len < 3 || strcmp(e->dir + len - 3, "/..")));
	check(e->owner[0] && e->owner[0] != '-' && strcmp(e->owner, "root") &&
	      strspn(e->owner, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			       "0123456789._-$") == strlen(e->owner));
	check(e->timeout_s >= 1 && e->timeout_s <= BOOT_TIMEOUT_MAX_S);
	check((e->shutdown == BOOT_SHUTDOWN_SAVE) == (e->save_name != NULL));
}

static void check_same(const struct boot_entry *a, const struct boot_entry *b)
{
	check(!strcmp(a->dir, b->dir) && !strcmp(a->owner, b->owner) &&
	      a->shutdown == b->shutdown && a->timeout_s == b->timeout_s && a->nat == b->nat);
	check(!a->save_name || !strcmp(a->save_name, b->save_name));
}

/* The entry as an admin would write it; it must read back the same. */
static void check_round_trip(const struct boot_entry *e)
{
	char *line =
	    xasprintf("%s %s %s%s %ds%s\n", e->dir, e->owner,
		      e->shutdown == BOOT_SHUTDOWN_SAVE ? "save:" : "poweroff",
		      e->save_name ? e->save_name : "", e->timeout_s, e->nat ? " nat" : "");
	struct boot_entry again;
	struct error err;
	check(bootlist_parse_line(line, &again, &err) == 1);
	check_same(e, &again);
	boot_entry_free(&again);
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct boot_list list = {0};
	const char *text = (const char *)data;
	for (size_t start = 0, lineno = 1; start < size; lineno++) {
		const char *nl = memchr(text + start, '\n', size - start);
		size_t end = nl ? (size_t)(nl - text) + 1 : size;
		char *line = strndup(text + start, end - start);
		start = end;
		struct boot_entry entry;
		struct error err;
		int rc = bootlist_parse_line(line, &entry, &err);
		free(line);
		if (rc <= 0)
			continue;
		check_sane(&entry);
		check_round_trip(&entry);
		entry.line = (int)lineno;
		bool twin = bootlist_find(&list, entry.dir) != NULL;
		check((bootlist_add(&list, &entry, &err) < 0) == twin);
		boot_entry_free(&entry);
	}
	for (size_t i = 0; i < list.count; i++)
		for (size_t j = i + 1; j < list.count; j++)
			check(strcmp(list.entries[i].dir, list.entries[j].dir));
	bootlist_free(&list);
	return 0;
}
