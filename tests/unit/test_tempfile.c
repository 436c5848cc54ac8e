/* tempfile: files and directories made under a temporary name, renamed
 * into place when complete, removed when abandoned or interrupted. */
#include "sys/tempfile.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char workdir[64];

static void make_workdir(void)
{
	snprintf(workdir, sizeof(workdir), "/tmp/vm-test-tempfile-XXXXXX");
	cr_assert_not_null(mkdtemp(workdir));
}

static int remove_entry(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	return remove(p);
}

static void remove_workdir(void)
{
	nftw(workdir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(tempfile, .init = make_workdir, .fini = remove_workdir, .timeout = 60);

static char *path(const char *name)
{
	static char paths[4][256];
	static int next;
	char *p = paths[next++ % 4];
	snprintf(p, sizeof(paths[0]), "%s/%s", workdir, name);
	return p;
}

/* The names in dir, sorted and joined with spaces. */
static char *listing(const char *dir)
{
	static char out[1024];
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	cr_assert_geq(n, 0);
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
			if (out[0])
				strcat(out, " ");
			strcat(out, names[i]->d_name);
		}
		free(names[i]);
	}
	free(names);
	return out;
}

static void write_text(int fd, const char *text)
{
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
}

Test(tempfile, appears_under_its_name_only_when_committed)
{
	struct tempfile tf;
	struct error err;
	cr_assert_eq(tempfile_create(&tf, path("image"), &err), 0, "%s", err.msg);
	cr_assert_eq(strncmp(tf.path, path(".image.tmp-"), strlen(path(".image.tmp-"))), 0,
		     "temporary name %s", tf.path);
	write_text(tf.fd, "data");
	cr_assert_eq(access(path("image"), F_OK), -1, "the target exists before the commit");
	cr_assert_eq(tempfile_commit(&tf, 0, &err), 0, "%s", err.msg);
	cr_assert_str_eq(listing(workdir), "image");
}

Test(tempfile, never_replaces_unless_asked)
{
	FILE *f = fopen(path("image"), "w");
	fputs("old", f);
	fclose(f);
	struct tempfile tf;
	struct error err;
	cr_assert_eq(tempfile_create(&tf, path("image"), &err), 0);
	write_text(tf.fd, "new");
	cr_assert_eq(tempfile_commit(&tf, 0, &err), -1);
	cr_assert(strstr(err.msg, "already exists"), "%s", err.msg);
	cr_assert_str_eq(listing(workdir), "image", "the temporary file was left");
	cr_assert_eq(tempfile_create(&tf, path("image"), &err), 0);
	write_text(tf.fd, "new");
	cr_assert_eq(tempfile_commit(&tf, TEMPFILE_REPLACE, &err), 0, "%s", err.msg);
	char buf[8] = "";
	f = fopen(path("image"), "r");
	cr_assert_not_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	cr_assert_str_eq(buf, "new");
}

Test(tempfile, discard_removes_it)
{
	struct tempfile tf;
	struct error err;
	cr_assert_eq(tempfile_create(&tf, path("image"), &err), 0);
	tempfile_discard(&tf);
	tempfile_discard(&tf); /* twice is harmless */
	cr_assert_str_eq(listing(workdir), "");
}

static void track_two_files(struct tempdir *td)
{
	for (int i = 0; i < 2; i++) {
		char name[300];
		snprintf(name, sizeof(name), "%s/file%d", td->path, i);
		tempdir_track(td, name);
		FILE *f = fopen(name, "w");
		fputs("x", f);
		fclose(f);
	}
}

Test(tempfile, a_directory_appears_whole)
{
	struct tempdir td;
	struct error err;
	cr_assert_eq(tempdir_create(&td, path(".archive.partial"), path("archive"), &err), 0);
	track_two_files(&td);
	cr_assert_str_eq(listing(workdir), ".archive.partial");
	cr_assert_eq(tempdir_commit(&td, &err), 0, "%s", err.msg);
	cr_assert_str_eq(listing(workdir), "archive");
	cr_assert_str_eq(listing(path("archive")), "file0 file1");
}

Test(tempfile, a_directory_never_replaces_one)
{
	mkdir(path("archive"), 0755);
	struct tempdir td;
	struct error err;
	cr_assert_eq(tempdir_create(&td, path(".archive.partial"), path("archive"), &err), 0);
	track_two_files(&td);
	cr_assert_eq(tempdir_commit(&td, &err), -1);
	cr_assert(strstr(err.msg, "already exists"), "%s", err.msg);
	cr_assert_str_eq(listing(workdir), "archive", "the partial directory was left");
	cr_assert_str_eq(listing(path("archive")), "");
}

Test(tempfile, a_discarded_directory_goes_with_its_files)
{
	struct tempdir td;
	struct error err;
	cr_assert_eq(tempdir_create(&td, path(".archive.partial"), path("archive"), &err), 0);
	track_two_files(&td);
	tempdir_discard(&td);
	cr_assert_str_eq(listing(workdir), "");
}

/* SIGTERM in the middle of making a file and a directory removes both,
 * and the process still dies of the signal. */
Test(tempfile, a_signal_removes_everything_in_the_making)
{
	int ready[2];
	cr_assert_eq(pipe(ready), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct tempfile tf;
		struct tempdir td;
		struct error err;
		if (tempfile_create(&tf, path("image"), &err) < 0 ||
		    tempdir_create(&td, path(".archive.partial"), path("archive"), &err) < 0)
			_exit(1);
		track_two_files(&td);
		write_text(ready[1], "r");
		pause();
		_exit(0);
	}
	close(ready[1]);
	char c;
	cr_assert_eq(read(ready[0], &c, 1), 1);
	cr_assert_str_neq(listing(workdir), "");
	kill(pid, SIGTERM);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, "status %#x", status);
	cr_assert_str_eq(listing(workdir), "", "left behind: %s", listing(workdir));
}

Test(tempfile, left_overs_of_a_killed_run_are_found)
{
	struct tempfile tf;
	struct error err;
	cr_assert_eq(tempfile_create(&tf, path("image"), &err), 0);
	close(tf.fd); /* as if vm had been killed: the file stays */
	FILE *f = fopen(path(".image.tmp-not-ours"), "w");
	fclose(f);
	cr_assert_eq(tempfile_remove_stale(path("image")), 1);
	cr_assert_str_eq(listing(workdir), ".image.tmp-not-ours");
}
