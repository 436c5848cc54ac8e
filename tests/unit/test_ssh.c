/* vm ssh as the user's own ssh sees it: batch mode, a connect time-out,
 * accept-new host keys (never "no"), VM_SSH_OPTS split like shell words,
 * the guest user and host. A stand-in ssh records its arguments; the real
 * ssh is exercised against the real guest in the lifecycle tests. */
#include "vmtest.h"
#include "xalloc.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

Test(ssh, runs_the_users_ssh_with_safe_options)
{
	char *dir = vt_tmpdir(), *bin = vt_tmpdir();
	char *vmrc = xasprintf("%sVM_NET_GUEST=10.77.0.33\n"
			       "VM_SSH_OPTS=\"-i '/keys/my key' -o Compression=yes\"\n",
			       vt_guide_vmrc);
	free(vt_write(dir, ".vmrc", vmrc));
	char *fake =
	    vt_write(bin, "ssh", "#!/bin/sh\nfor a; do printf '[%s]' \"$a\"; done\necho\n");
	cr_assert_eq(chmod(fake, 0755), 0);
	char *path = xasprintf("PATH=%s:/usr/bin:/bin", bin);
	char *runtime = xasprintf("XDG_RUNTIME_DIR=%s", vt_tmpdir());
	char *lib = xasprintf("VM_LIB=%s", getenv("VM_TEST_LIB"));
	const char *env[] = {path, runtime, lib, "HOME=/nonexistent", NULL};
	struct vt_result r =
	    vt_exec(dir, env, (const char *[]){getenv("VM_TEST_BIN"), "ssh", "uname", "-a", NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "[-T][-o][BatchMode=yes][-o][ConnectTimeout=10][-o]"
				"[StrictHostKeyChecking=accept-new][-o][LogLevel=ERROR][-p][22]"
				"[-i][/keys/my key][-o][Compression=yes][-l][guido][10.77.0.33][--]"
				"[uname][-a]\n");
	cr_assert_str_eq(r.err, "vm: ssh: warning: the machine guix is not running here; trying "
				"10.77.0.33 anyway\n");
	vt_result_free(&r);
}
