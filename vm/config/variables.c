#include "config/variables.h"

#include "config/words.h"
#include "protocol.h"
#include "strv.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* SETTING(name, type, default, summary[, allowed values]), MANDATORY(name,
 * type, summary[, ...]), DERIVED(name, summary). */
#define SETTING(n, t, d, s, ...)                                                                   \
	{                                                                                          \
		.name = n, .type = t, .fallback = d, .kind = VARIABLE_SETTING, .summary = s,       \
		__VA_ARGS__                                                                        \
	}
#define MANDATORY(n, t, s, ...)                                                                    \
	{                                                                                          \
		.name = n, .type = t, .kind = VARIABLE_SETTING, .mandatory = true, .summary = s,   \
		__VA_ARGS__                                                                        \
	}
#define DERIVED(n, s)                                                                              \
	{                                                                                          \
		.name = n, .type = VARIABLE_TEXT, .kind = VARIABLE_DERIVED, .summary = s           \
	}
#define ONE_OF(words) .allowed = words
#define RANGE(lo, hi) .min = lo, .max = hi

#define MAX_MEMORY_MIB (16LL * 1024 * 1024)

const struct variable variables[] = {
    MANDATORY("VM_CONFIG", VARIABLE_NAME,
	      "name of the per-machine configuration file (global vmrc: .vmrc)"),
    MANDATORY("VM_FMT", VARIABLE_WORD, "disk image format and file extension (global vmrc: qcow2)"),
    MANDATORY("VM_SAVE_DELAY", VARIABLE_TEXT,
	      "accepted for compatibility; vm waits for the real end of a snapshot (global "
	      "vmrc: 5)"),
    MANDATORY("VM_MACHINE_NAME", VARIABLE_NAME, "machine name, used in file names"),
    MANDATORY("VM_MACHINE_ID", VARIABLE_INTEGER, "two digits, 00-99, unique among running machines",
	      RANGE(0, 99), .digits = 2),
    MANDATORY("VM_MACHINE_OWNER", VARIABLE_TEXT, "host user the machine belongs to"),
    SETTING("VM_MACHINE_USER", VARIABLE_TEXT, NULL,
	    "guest user for ssh (default: VM_MACHINE_OWNER)"),
    SETTING("VM_MACHINE_MEM", VARIABLE_INTEGER, "1024", "guest memory in MiB",
	    RANGE(1, MAX_MEMORY_MIB)),
    SETTING("VM_HOME", VARIABLE_PATH, NULL, "machine directory (default: the current directory)"),
    SETTING("VM_HOME_OVERRIDES_CWD", VARIABLE_BOOL, NULL,
	    "yes: VM_HOME wins over a .vmrc in the current directory"),
    SETTING("VM_LIB", VARIABLE_PATH, NULL, "directory holding the global vmrc and shell library"),
    SETTING("VM_SSH_ATTEMPTS", VARIABLE_INTEGER, "30",
	    "ssh tries during vm start, 2 s apart at most", RANGE(1, 100000)),
    SETTING("VM_DATEFMT", VARIABLE_TEXT, "%F %T",
	    "strftime format of timestamps; empty: date's default"),
    SETTING("VM_LOG", VARIABLE_PATH, NULL,
	    "progress log, used when the file exists and is writable"),
    SETTING("VM_ERRLOG", VARIABLE_PATH, NULL,
	    "error log, used when the file exists and is writable"),
    SETTING("VM_USE_SNAPSHOTS", VARIABLE_NOT_NO, "yes",
	    "no: one image NAME.FMT instead of base + backing"),
    SETTING("VM_NET_GUEST", VARIABLE_TEXT, NULL,
	    "guest host name or address (default: VM_MACHINE_NAME)"),
    SETTING("VM_NET_HOST", VARIABLE_TEXT, "localhost", "host of the legacy TCP monitor"),
    SETTING("VM_NET_LISTEN", VARIABLE_TEXT, "127.0.0.1",
	    "address the legacy TCP monitor listens on"),
    SETTING("VM_NET_PORT", VARIABLE_INTEGER, NULL,
	    "port of the legacy TCP monitor (default: 77<ID>)", RANGE(1, 65535)),
    SETTING("VM_NET_BRIDGE", VARIABLE_WORD, "br0", "bridge the guest's tap is attached to"),
    SETTING("VM_NET_FORWARD", VARIABLE_TEXT, NULL,
	    "NAT: host ports forwarded to the guest, HOST:GUEST[/udp] ..."),
    SETTING("VM_NET_FORWARD_ADDR", VARIABLE_TEXT, "127.0.0.1",
	    "NAT: host address the forwards listen on"),
    SETTING("VM_SNAPSHOT_SEEDNAME_DEFAULT", VARIABLE_NAME, "seed",
	    "default seed part of the file names"),
    SETTING("VM_SNAPSHOT_BASENAME_DEFAULT", VARIABLE_NAME, "base",
	    "default base part of the file names"),
    SETTING("VM_SNAPSHOT_BACKINGNAME_DEFAULT", VARIABLE_NAME, "backing",
	    "default backing part of the file names"),
    SETTING("VM_SNAPSHOT_SEEDNAME", VARIABLE_NAME, NULL, "seed part of the file names"),
    SETTING("VM_SNAPSHOT_BASENAME", VARIABLE_NAME, NULL, "base part of the file names"),
    SETTING("VM_SNAPSHOT_BACKINGNAME", VARIABLE_NAME, NULL, "backing part of the file names"),
    SETTING("VM_QEMU", VARIABLE_PATH, "qemu-system-x86_64", "the emulator"),
    SETTING("VM_QEMU_EXTRA", VARIABLE_WORDS, NULL, "extra emulator arguments (shell-like words)"),
    SETTING("VM_QEMU_DISPLAY", VARIABLE_TEXT, NULL, "passed as -display"),
    SETTING("VM_QEMU_VNC", VARIABLE_TEXT, NULL, "passed as -vnc"),
    SETTING("VM_QEMU_ACCEL", VARIABLE_ENUM, "auto", "auto, kvm or tcg", ONE_OF("auto kvm tcg")),
    SETTING("VM_DISK_IF", VARIABLE_ENUM, "ide",
	    "disk interface; virtio recommended for new machines",
	    ONE_OF("ide virtio scsi sd mtd floppy pflash none")),
    SETTING("VM_NET_MODEL", VARIABLE_WORD, "e1000",
	    "NIC model; virtio-net-pci recommended for new machines"),
    SETTING("VM_NET_QUEUES", VARIABLE_INTEGER, "1",
	    "bridged: the tap's queues, 1-8; more than 1 needs VM_NET_MODEL=virtio-net-pci",
	    RANGE(1, NETD_MAX_QUEUES)),
    SETTING("VM_GUEST_AGENT", VARIABLE_BOOL, "no",
	    "yes: use the QEMU guest agent for suspend, power-off and sync"),
    SETTING("VM_SSH_OPTS", VARIABLE_WORDS, NULL, "extra ssh options for guest access"),
    SETTING("VM_MONITOR", VARIABLE_ENUM, "unix", "unix, or tcp to add the legacy TCP monitor",
	    ONE_OF("unix tcp")),
    DERIVED("VM_SNAPSHOT_SEED_FILENAME", "NAME-SEEDNAME.FMT"),
    DERIVED("VM_SNAPSHOT_BASE_FILENAME", "NAME-BASENAME.FMT"),
    DERIVED("VM_SNAPSHOT_BACKING_FILENAME", "NAME-BACKINGNAME.FMT"),
    DERIVED("VM_IMAGE_FILENAME", "NAME.FMT, the single image used with VM_USE_SNAPSHOTS=no"),
    DERIVED("VM_NET_MAC", "the guest's MAC address, DE:AD:BE:EF:<ID>:11"),
    DERIVED("VM_CALLING_DIR", "the directory vm was called from"),
    DERIVED("VM_PARAMS", "the arguments given to a script"),
    DERIVED("VM_VERBOSE", "yes when vm was called with -v"),
    DERIVED("VM_BIN", "the vm program itself"),
    DERIVED("VM_FUNCTIONS", "the shell library scripts get (vm_echo, vm_ssh, ...)"),
};

const size_t variables_count = sizeof(variables) / sizeof(variables[0]);

const struct variable *variable_find(const char *name)
{
	for (size_t i = 0; i < variables_count; i++)
		if (!strcmp(variables[i].name, name))
			return &variables[i];
	return NULL;
}

#define NEAR_MAX_EDITS 2
#define NEAR_SHORT 6 /* a part after VM_ this short allows one edit only */
#define NEAR_MAX_LENGTH 64

/* The edits (optimal string alignment: change, insert, delete, swap of two
 * neighbours) from a to b, case aside; a number over NEAR_MAX_EDITS for
 * names too long to be anyone's typo. */
static size_t edits(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	if (n > NEAR_MAX_LENGTH || m > NEAR_MAX_LENGTH)
		return NEAR_MAX_EDITS + 1;
	size_t d[NEAR_MAX_LENGTH + 1][NEAR_MAX_LENGTH + 1];
	for (size_t i = 0; i <= n; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= m; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= n; i++)
		for (size_t j = 1; j <= m; j++) {
			int ca = toupper((unsigned char)a[i - 1]),
			    cb = toupper((unsigned char)b[j - 1]);
			size_t best = d[i - 1][j - 1] + (ca != cb);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && ca == toupper((unsigned char)b[j - 2]) &&
			    toupper((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[n][m];
}

const struct variable *variable_near(const char *name)
{
	if (strncmp(name, "VM_", 3) || variable_find(name))
		return NULL;
	size_t allowed = strlen(name + 3) < NEAR_SHORT ? 1 : NEAR_MAX_EDITS;
	const struct variable *nearest = NULL;
	size_t fewest = allowed + 1;
	for (size_t i = 0; i < variables_count; i++) {
		size_t n = edits(name, variables[i].name);
		if (n < fewest) {
			fewest = n;
			nearest = &variables[i];
		}
	}
	return nearest;
}

/* "a, b or c" from "a b c". */
static char *alternatives(const char *words)
{
	struct strv list = STRV_INIT;
	char *copy = xstrdup(words);
	for (char *save, *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
		strv_add(&list, w);
	free(copy);
	char *head = NULL;
	if (list.n > 1) {
		char *last = list.v[--list.n];
		char *rest = strv_join(&list, ", ");
		head = xasprintf("%s or %s", rest, last);
		free(rest);
		free(last);
	} else {
		head = strv_join(&list, "");
	}
	strv_free(&list);
	return head;
}

char *variable_allowed(const struct variable *v)
{
	switch (v->type) {
	case VARIABLE_BOOL:
		return xstrdup("yes or no");
	case VARIABLE_NOT_NO:
		return xstrdup("no, or anything else for yes");
	case VARIABLE_ENUM:
		return alternatives(v->allowed);
	case VARIABLE_INTEGER:
		if (v->digits)
			return xasprintf("%d digits, %0*lld to %lld", v->digits, v->digits, v->min,
					 v->max);
		return xasprintf("a whole number from %lld to %lld", v->min, v->max);
	case VARIABLE_WORD:
		return xstrdup("one word of letters, digits, '.', '_' and '-'");
	case VARIABLE_NAME:
		return xstrdup("usable in file names (no '/', no white space, not . or ..)");
	case VARIABLE_WORDS:
		return xstrdup("words as a shell splits them (quotes and backslashes), never run");
	case VARIABLE_PATH:
	case VARIABLE_TEXT:
		break;
	}
	return NULL;
}

static bool is_one_of(const char *value, const char *words)
{
	size_t len = strlen(value);
	for (const char *p = words; *p;) {
		size_t n = strcspn(p, " ");
		if (n == len && !strncmp(p, value, n))
			return true;
		p += n + (p[n] == ' ');
	}
	return false;
}

static bool is_integer(const struct variable *v, const char *value)
{
	size_t len = strlen(value);
	if (!len || strspn(value, "0123456789") != len || len > 18 ||
	    (v->digits && len != (size_t)v->digits))
		return false;
	long long n = strtoll(value, NULL, 10);
	return n >= v->min && n <= v->max;
}

static bool is_word(const char *value)
{
	if (!*value)
		return false;
	for (const char *p = value; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			return false;
	return true;
}

static bool is_name(const char *value)
{
	if (!*value || !strcmp(value, ".") || !strcmp(value, ".."))
		return false;
	for (const char *p = value; *p; p++)
		if (*p == '/' || isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
			return false;
	return true;
}

static bool valid(const struct variable *v, const char *value, struct error *why)
{
	switch (v->type) {
	case VARIABLE_BOOL:
		return !strcmp(value, "yes") || !strcmp(value, "no");
	case VARIABLE_ENUM:
		return is_one_of(value, v->allowed);
	case VARIABLE_INTEGER:
		return is_integer(v, value);
	case VARIABLE_WORD:
		return is_word(value);
	case VARIABLE_NAME:
		return is_name(value);
	case VARIABLE_WORDS: {
		struct strv words = STRV_INIT;
		int rc = words_split(value, &words, why);
		strv_free(&words);
		return rc == 0;
	}
	case VARIABLE_NOT_NO:
	case VARIABLE_PATH:
	case VARIABLE_TEXT:
		break;
	}
	return true;
}

int variable_check(const struct variable *v, const char *value, struct error *err)
{
	if (v->type == VARIABLE_NAME && strchr(value, ':'))
		return error_set(err,
				 "%s '%s' cannot hold ':': QEMU and qemu-img would read its image "
				 "names as protocol:file",
				 v->name, value);
	struct error why = {""};
	if (valid(v, value, &why))
		return 0;
	if (why.msg[0])
		return error_set(err, "%s: %s", v->name, why.msg);
	char *allowed = variable_allowed(v);
	error_set(err, "%s must be %s, not '%s'", v->name, allowed, value);
	free(allowed);
	return -1;
}

bool variable_bool(const struct variable *v, const char *value)
{
	if (!value)
		value = v->fallback;
	if (v->type == VARIABLE_NOT_NO)
		return !value || strcmp(value, "no") != 0;
	return value && !strcmp(value, "yes");
}
