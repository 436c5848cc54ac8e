/* Progress is drawn only for a person at a terminal: vm init on a pty shows
 * a bar that reaches 100%; with stdout a pipe or file it prints nothing. */
#include "strbuf.h"
#include "vmtest.h"
#include "xalloc.h"

#include <criterion/criterion.h>
#include <poll.h>
#include <pty.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char *machine_with_seed(void)
{
	char *dir = vt_tmpdir();
	free(vt_write(dir, ".vmrc", vt_guide_vmrc));
	char *cmd = xasprintf("qemu-img create -q -f qcow2 %s/guix-seed.qcow2 64M && "
			      "qemu-io -c 'write -P 0xab 0 8M' %s/guix-seed.qcow2 >/dev/null",
			      dir, dir);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	free(cmd);
	return dir;
}

/* Runs vm ARGS in dir with a pseudo-terminal as stdout; returns what the
 * terminal showed. */
static char *run_on_terminal(const char *dir, const char *const *args, int *status)
{
	int master;
	pid_t pid = forkpty(&master, NULL, NULL, NULL);
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (chdir(dir) < 0)
			_exit(126);
		setenv("VM_LIB", getenv("VM_TEST_LIB"), 1);
		setenv("XDG_RUNTIME_DIR", dir, 1);
		const char *argv[8] = {getenv("VM_TEST_BIN")};
		for (int i = 0; args[i] && i < 6; i++)
			argv[i + 1] = args[i];
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	struct strbuf seen = STRBUF_INIT;
	for (;;) {
		struct pollfd pfd = {master, POLLIN, 0};
		if (poll(&pfd, 1, 60000) <= 0)
			break;
		char buf[4096];
		ssize_t n = read(master, buf, sizeof(buf));
		if (n <= 0)
			break; /* EIO once the child has exited */
		strbuf_add(&seen, buf, (size_t)n);
	}
	cr_assert_eq(waitpid(pid, status, 0), pid);
	close(master);
	return strbuf_take(&seen);
}

/* Each test inits machine 33 of its own: a home (and runtime directory) each. */
TestSuite(progress, .init = vt_private_home);

Test(progress, init_draws_a_bar_on_a_terminal)
{
	char *dir = machine_with_seed();
	int status;
	char *screen = run_on_terminal(dir, (const char *[]){"init", NULL}, &status);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "init failed: %s", screen);
	cr_assert(strstr(screen, "\r"), "no redrawn line: '%s'", screen);
	cr_assert(strstr(screen, "] 100%"), "the bar never reached 100%%: '%s'", screen);
	cr_assert(strstr(screen, "[##############################]"), "no full bar: '%s'", screen);
	free(screen);
}

Test(progress, init_prints_nothing_into_a_pipe)
{
	char *dir = machine_with_seed();
	char *runtime = xasprintf("XDG_RUNTIME_DIR=%s", dir);
	struct vt_result r = vt_vm(dir, vt_lib(NULL), (const char *[]){runtime, NULL},
				   (const char *[]){"init", NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "");
	cr_assert_str_eq(r.err, "");
	vt_result_free(&r);
}

Test(progress, compression_draws_a_bar_on_a_terminal)
{
	char *dir = vt_tmpdir();
	free(vt_write(dir, ".vmrc", vt_guide_vmrc));
	/* Random data: gzip takes long enough for the bar to be drawn. */
	char *cmd = xasprintf("cd %s && head -c 48M /dev/urandom >seed.raw && "
			      "qemu-img convert -f raw -O qcow2 seed.raw guix-seed.qcow2 && "
			      "rm seed.raw",
			      dir);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	free(cmd);
	int status;
	char *screen = run_on_terminal(dir, (const char *[]){"init", NULL}, &status);
	free(screen);
	screen = run_on_terminal(dir, (const char *[]){"archive", "-c", "-z", "gzip", "-b", NULL},
				 &status);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "archive failed: %s", screen);
	cr_assert(strstr(screen, "compressing with gzip"), "no bar while compressing: '%s'",
		  screen);
	free(screen);
}
