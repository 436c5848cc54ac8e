/* The console log stays bounded: once past CONSOLE_LOG_MAX it is cut to
 * its last CONSOLE_LOG_KEEP bytes when vm reads it. */
#include "emulator/console.h"
#include "vmtest.h"
#include "xalloc.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static off_t size_of(const char *path)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	return st.st_size;
}

Test(console, a_large_log_is_cut_to_its_end)
{
	char *dir = vt_tmpdir();
	struct runtime rt = {.console_log = xasprintf("%s/console.log", dir)};
	int fd = open(rt.console_log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	char line[64];
	for (int i = 0; size_of(rt.console_log) <= CONSOLE_LOG_MAX; i++) {
		int n = snprintf(line, sizeof(line), "line %07d of the guest's console\n", i);
		cr_assert_eq(write(fd, line, (size_t)n), n);
	}
	char *text = console_log_read(&rt);
	cr_assert_not_null(text);
	cr_assert_eq(size_of(rt.console_log), CONSOLE_LOG_KEEP);
	cr_assert_eq(strlen(text), CONSOLE_LOG_KEEP);
	cr_assert(strstr(text, line), "the newest line is kept");
	cr_assert_null(strstr(text, "line 0000000 "), "the oldest line is gone");
	/* The emulator appends on: its next line lands at the new end. */
	cr_assert_eq(write(fd, "after the cut\n", 14), 14);
	free(text);
	text = console_log_read(&rt);
	cr_assert_eq(strlen(text), CONSOLE_LOG_KEEP + 14);
	cr_assert(strstr(text, "after the cut\n"));
	free(text);
	close(fd);
	unlink(rt.console_log);
	rmdir(dir);
	free(rt.console_log);
	free(dir);
}

Test(console, a_small_log_is_read_whole_and_a_missing_one_is_null)
{
	char *dir = vt_tmpdir();
	struct runtime rt = {.console_log = xasprintf("%s/console.log", dir)};
	cr_assert_null(console_log_read(&rt));
	free(vt_write(dir, "console.log", "testguest login: "));
	char *text = console_log_read(&rt);
	cr_assert_str_eq(text, "testguest login: ");
	free(text);
	unlink(rt.console_log);
	rmdir(dir);
	free(rt.console_log);
	free(dir);
}
