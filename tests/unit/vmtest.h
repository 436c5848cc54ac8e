/* Helpers for tests that drive the built vm program the way a user does. */
#pragma once

#include <stdbool.h>

struct vt_result {
	int status;
	char *out;
	char *err;
};

/* A fresh directory, inside one made for the whole run (/tmp/vmtest.*) that
 * the test runner removes after the last test, whatever became of the
 * tests: failed, crashed or timed out. VMTEST_KEEP=1 keeps it (the runner
 * names it) for a look after a failure. */
char *vt_tmpdir(void);
/* Gives this test process (and the vm it runs) an empty home of its own: a
 * tmpfs over the user's home in a new mount namespace (vm keeps running
 * machines below the home). Skips the test when that cannot be done. */
void vt_private_home(void);
/* Writes text to dir/name (mode 0644); returns the path. */
char *vt_write(const char *dir, const char *name, const char *text);
char *vt_read(const char *path);
bool vt_exists(const char *path);
/* A directory usable as VM_LIB: the real vmrc/functions from the source
 * tree, or, with global_vmrc != NULL, that text as the global vmrc. */
char *vt_lib(const char *global_vmrc);
/* Runs vm with args in cwd. The environment is exactly PATH, HOME, LANG=C,
 * VM_LIB=lib plus env (NAME=value strings, NULL-terminated; may be NULL). */
struct vt_result vt_vm(const char *cwd, const char *lib, const char *const *env,
		       const char *const *args);
/* Runs argv as it is (argv[0] looked up in env's PATH) with exactly env. */
struct vt_result vt_exec(const char *cwd, const char *const *env, const char *const *argv);
void vt_result_free(struct vt_result *r);
struct config;
/* The machine tg (ID 42, 256 MiB, TCG, virtio disk and network, qcow2) of
 * the emulator's command-line tests: a fresh directory, made the current
 * one, with an empty backing file, and in cfg what its .vmrc would give. */
void vt_test_machine(struct config *cfg);
/* The guide's example .vmrc. */
extern const char vt_guide_vmrc[];
