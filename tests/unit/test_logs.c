/* VM_LOG and VM_ERRLOG: lines in the VM_DATEFMT format, only in files that
 * already exist; a log that cannot be written is reported, never fatal. */
#include "vmtest.h"
#include "xalloc.h"

#include <criterion/criterion.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void assert_matches(const char *text, const char *pattern)
{
	regex_t re;
	cr_assert_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE), 0, "%s", pattern);
	cr_assert_eq(regexec(&re, text, 0, NULL, 0), 0, "'%s' does not match /%s/", text, pattern);
	regfree(&re);
}

static char *machine_with_logs(const char *extra)
{
	char *dir = vt_tmpdir();
	char *vmrc = xasprintf("%sVM_LOG=$VM_HOME/progress.log\nVM_ERRLOG=errors.log\n%s",
			       vt_guide_vmrc, extra);
	free(vt_write(dir, ".vmrc", vmrc));
	free(vmrc);
	return dir;
}

Test(logs, progress_goes_to_vm_log_in_datefmt)
{
	char *dir = machine_with_logs("VM_DATEFMT='%Y/%m/%d'\n");
	char *log = vt_write(dir, "progress.log", "");
	struct vt_result r = vt_vm(dir, vt_lib(NULL), NULL,
				   (const char *[]){"sh", "-c", "vm_echo from the shell", NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	char *text = vt_read(log);
	char *pattern = xasprintf("^\\[[0-9]{4}/[0-9]{2}/[0-9]{2} sh\\] running bash in %s\n"
				  "\\[[0-9]{4}/[0-9]{2}/[0-9]{2} bash\\] from the shell\n$",
				  dir);
	assert_matches(text, pattern);
	vt_result_free(&r);
}

Test(logs, errors_go_to_vm_errlog)
{
	char *dir = machine_with_logs("VM_DATEFMT='%H:%M'\nVM_MACHINE_ID=3\n");
	char *log = vt_write(dir, "errors.log", "earlier line\n");
	struct vt_result r =
	    vt_vm(dir, vt_lib(NULL), NULL, (const char *[]){"sh", "-c", "true", NULL});
	cr_assert_eq(r.status, 1);
	assert_matches(vt_read(log),
		       "^earlier line\n"
		       "\\[[0-9]{2}:[0-9]{2} sh\\] \\.vmrc:[0-9]+: VM_MACHINE_ID must be 2 "
		       "digits, 00 to 99, not '3'\n"
		       "\\[[0-9]{2}:[0-9]{2} sh\\] exiting after 1 error\n$");
	vt_result_free(&r);
}

Test(logs, empty_datefmt_uses_dates_default)
{
	char *dir = machine_with_logs("VM_DATEFMT=\n");
	char *log = vt_write(dir, "progress.log", "");
	struct vt_result r = vt_vm(dir, vt_lib(NULL), (const char *[]){"TZ=UTC", NULL},
				   (const char *[]){"sh", "-c", "true", NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	assert_matches(vt_read(log), "^\\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9]{2} "
				     "[0-9]{2}:[0-9]{2}:[0-9]{2} UTC [0-9]{4} sh\\] running bash");
	vt_result_free(&r);
}

Test(logs, verbose_progress_goes_to_stdout_with_timestamp)
{
	char *dir = machine_with_logs("VM_DATEFMT=%Y\n");
	struct vt_result r =
	    vt_vm(dir, vt_lib(NULL), NULL, (const char *[]){"sh", "-v", "-c", "echo ok", NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	char *pattern = xasprintf("^\\[[0-9]{4}\\] running bash in %s\nok\n$", dir);
	assert_matches(r.out, pattern);
	vt_result_free(&r);
}

Test(logs, logs_that_do_not_exist_are_left_alone)
{
	char *dir = machine_with_logs("VM_MACHINE_ID=x\n");
	struct vt_result r =
	    vt_vm(dir, vt_lib(NULL), NULL, (const char *[]){"sh", "-c", "true", NULL});
	cr_assert_eq(r.status, 1);
	char *progress = xasprintf("%s/progress.log", dir),
	     *errors = xasprintf("%s/errors.log", dir);
	cr_assert_not(vt_exists(progress), "progress.log was created");
	cr_assert_not(vt_exists(errors), "errors.log was created");
	vt_result_free(&r);
}

Test(logs, a_failed_log_write_is_reported_and_not_fatal)
{
	char *dir = vt_tmpdir();
	char *vmrc = xasprintf("%sVM_LOG=/dev/full\n", vt_guide_vmrc);
	free(vt_write(dir, ".vmrc", vmrc));
	struct vt_result r =
	    vt_vm(dir, vt_lib(NULL), NULL, (const char *[]){"sh", "-c", "echo still here", NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "still here\n");
	cr_assert_str_eq(r.err, "vm: cannot write to log /dev/full: No space left on device "
				"(continuing without it)\n");
	vt_result_free(&r);
}
