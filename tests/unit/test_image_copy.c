/* image_copy and filecopy: what a user would check with cmp, du and ls
 * after a copy, a full disk and an interrupted copy. */
#include "storage/filecopy.h"
#include "storage/image.h"
#include "sys/tempfile.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MiB (1024 * 1024ULL)

static char workdir[64];

static void make_workdir(void)
{
	snprintf(workdir, sizeof(workdir), "/tmp/vm-test-copy-XXXXXX");
	cr_assert_not_null(mkdtemp(workdir));
}

static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d));) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static void clean_workdir(void)
{
	remove_tree(workdir);
}

TestSuite(image_copy, .init = make_workdir, .fini = clean_workdir, .timeout = 120);

static char *in_workdir(const char *name)
{
	static char paths[4][512];
	static int next;
	char *p = paths[next++ % 4];
	snprintf(p, sizeof(paths[0]), "%s/%s", workdir, name);
	return p;
}

/* Fills [offset, offset + len) of fd with pseudo-random bytes. */
static void write_data(int fd, uint64_t offset, uint64_t len)
{
	static unsigned char buf[MiB];
	static uint64_t state = 0x9e3779b97f4a7c15ULL;
	while (len) {
		size_t n = len < sizeof(buf) ? len : sizeof(buf);
		for (size_t i = 0; i < n; i += 8) {
			state ^= state << 13, state ^= state >> 7, state ^= state << 17;
			memcpy(buf + i, &state, n - i < 8 ? n - i : 8);
		}
		cr_assert_eq(pwrite(fd, buf, n, (off_t)offset), (ssize_t)n);
		offset += n, len -= n;
	}
}

struct extent {
	uint64_t offset, len;
};

/* A file of size bytes: data where extents say, holes elsewhere. */
static void make_sparse_file(const char *path, uint64_t size, const struct extent *data, int n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(fd, 0, "cannot create %s: %s", path, strerror(errno));
	for (int i = 0; i < n; i++)
		write_data(fd, data[i].offset, data[i].len);
	cr_assert_eq(ftruncate(fd, (off_t)size), 0);
	close(fd);
}

static bool same_content(const char *a, const char *b)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	cr_assert(fa && fb);
	static char ba[MiB], bb[MiB];
	bool same = true;
	for (;;) {
		size_t na = fread(ba, 1, sizeof(ba), fa), nb = fread(bb, 1, sizeof(bb), fb);
		if (na != nb || memcmp(ba, bb, na)) {
			same = false;
			break;
		}
		if (na == 0)
			break;
	}
	fclose(fa);
	fclose(fb);
	return same;
}

static uint64_t allocated(const char *path)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	return (uint64_t)st.st_blocks * 512;
}

static int count_entries(const char *dir)
{
	int n = 0;
	DIR *d = opendir(dir);
	cr_assert_not_null(d);
	for (struct dirent *e; (e = readdir(d));)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static const struct extent mixed[] = {{0, 3 * MiB}, {8 * MiB, MiB + 123}, {20 * MiB, 4096}};

Test(image_copy, content_is_equal_and_mode_follows_umask)
{
	char *src = in_workdir("seed.img"), *dst = in_workdir("base.img");
	make_sparse_file(src, 24 * MiB + 7, mixed, 3);
	mode_t old = umask(027);
	struct error err;
	int rc = image_copy(src, dst, 0, NULL, &err);
	umask(old);
	cr_assert_eq(rc, 0, "%s", err.msg);
	cr_assert(same_content(src, dst), "the copy differs from the source");
	struct stat st;
	cr_assert_eq(stat(dst, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0640, "mode %o, not 0666 less the umask 027",
		     st.st_mode & 0777);
	cr_assert_eq(count_entries(workdir), 2, "a temporary file was left behind");
}

static void assert_holes_kept(unsigned flags)
{
	char *src = in_workdir("sparse.img"), *dst = in_workdir("sparse-copy.img");
	const struct extent one[] = {{100 * MiB, MiB}};
	make_sparse_file(src, 256 * MiB, one, 1);
	struct error err;
	cr_assert_eq(image_copy(src, dst, flags, NULL, &err), 0, "%s", err.msg);
	struct stat st;
	cr_assert_eq(stat(dst, &st), 0);
	cr_assert_eq(st.st_size, 256 * MiB);
	cr_assert_leq(allocated(dst), 2 * MiB, "the 256 MiB copy of 1 MiB of data takes %llu bytes",
		      (unsigned long long)allocated(dst));
	cr_assert(same_content(src, dst));
}

Test(image_copy, holes_are_kept)
{
	assert_holes_kept(0);
}

Test(image_copy, holes_are_kept_by_the_plain_loop)
{
	assert_holes_kept(IMAGE_PLAIN);
}

static enum filecopy_method copy_with(const char *src, const char *dst, unsigned flags)
{
	int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert(in >= 0 && out >= 0);
	struct stat st;
	fstat(in, &st);
	struct filecopy job = {.in = in,
			       .out = out,
			       .size = (uint64_t)st.st_size,
			       .in_name = src,
			       .out_name = dst,
			       .flags = flags};
	struct error err;
	cr_assert_eq(filecopy_run(&job, &err), 0, "%s", err.msg);
	close(in);
	close(out);
	return job.method;
}

Test(image_copy, plain_loop_when_asked)
{
	char *src = in_workdir("a"), *dst = in_workdir("b");
	make_sparse_file(src, 24 * MiB, mixed, 3);
	cr_assert_eq(copy_with(src, dst, FILECOPY_NO_REFLINK | FILECOPY_NO_COPY_RANGE),
		     FILECOPY_READ_WRITE);
	cr_assert(same_content(src, dst));
}

Test(image_copy, falls_back_across_file_systems)
{
	/* /dev/shm is a tmpfs and /tmp is not: copy_file_range says EXDEV. */
	struct stat shm, tmp;
	if (stat("/dev/shm", &shm) < 0 || stat(workdir, &tmp) < 0 || shm.st_dev == tmp.st_dev)
		cr_skip_test("needs /dev/shm on another file system than /tmp");
	char src[] = "/dev/shm/vm-test-copy-XXXXXX";
	int fd = mkstemp(src);
	cr_assert_geq(fd, 0);
	close(fd);
	make_sparse_file(src, 24 * MiB, mixed, 3);
	char *dst = in_workdir("from-shm");
	enum filecopy_method method = copy_with(src, dst, 0);
	bool same = same_content(src, dst);
	unlink(src);
	cr_assert(same, "the copy across file systems differs");
	cr_assert_eq(method, FILECOPY_READ_WRITE, "copied by %s", filecopy_method_name(method));
	cr_assert_leq(allocated(dst), 6 * MiB, "holes were filled in");
}

Test(image_copy, same_file_system_uses_the_kernel)
{
	char *src = in_workdir("k1"), *dst = in_workdir("k2");
	make_sparse_file(src, 24 * MiB, mixed, 3);
	enum filecopy_method method = copy_with(src, dst, 0);
	cr_assert(method == FILECOPY_REFLINK || method == FILECOPY_COPY_RANGE, "copied by %s",
		  filecopy_method_name(method));
	cr_assert(same_content(src, dst));
}

Test(image_copy, refuses_to_overwrite_unless_asked)
{
	char *src = in_workdir("new"), *dst = in_workdir("old");
	make_sparse_file(src, MiB, mixed, 1);
	FILE *f = fopen(dst, "w");
	fputs("precious", f);
	fclose(f);
	struct error err;
	cr_assert_eq(image_copy(src, dst, 0, NULL, &err), -1);
	cr_assert(strstr(err.msg, "already exists"), "%s", err.msg);
	cr_assert_eq(count_entries(workdir), 2);
	cr_assert_eq(image_copy(src, dst, IMAGE_REPLACE, NULL, &err), 0, "%s", err.msg);
	cr_assert(same_content(src, dst));
}

Test(image_copy, missing_source_is_named)
{
	struct error err;
	cr_assert_eq(image_copy(in_workdir("nothing"), in_workdir("x"), 0, NULL, &err), -1);
	cr_assert(strstr(err.msg, "nothing") && strstr(err.msg, "No such file"), "%s", err.msg);
	cr_assert_eq(count_entries(workdir), 0);
}

Test(image_copy, full_disk_leaves_nothing)
{
	if (geteuid() != 0)
		cr_skip_test("SKIP: mounting a small tmpfs needs root");
	char *src = in_workdir("big");
	make_sparse_file(src, 8 * MiB, (struct extent[]){{0, 4 * MiB}}, 1);
	/* In the work directory, so that it goes with it whatever happens. */
	const char *mnt = in_workdir("full");
	cr_assert_eq(mkdir(mnt, 0700), 0);
	cr_assert_eq(mount("tmpfs", mnt, "tmpfs", 0, "size=1M"), 0, "mount: %s", strerror(errno));
	char dst[128];
	snprintf(dst, sizeof(dst), "%s/base.img", mnt);
	struct error err;
	int rc = image_copy(src, dst, 0, NULL, &err);
	int left = count_entries(mnt);
	umount(mnt);
	rmdir(mnt);
	cr_assert_eq(rc, -1, "the copy of 4 MiB into 1 MiB succeeded");
	cr_assert(strstr(err.msg, "No space left on device") && strstr(err.msg, "free some space"),
		  "unclear message: %s", err.msg);
	cr_assert(strstr(err.msg, dst), "the message does not name the file: %s", err.msg);
	cr_assert_eq(left, 0, "the full file system keeps %d file(s)", left);
}

/* Starts image_copy in a child, waits (inotify) until the temporary file is
 * being written, sends sig, and returns the child's wait status. */
static int interrupt_copy(const char *src, const char *dst, int sig)
{
	int in = inotify_init1(IN_CLOEXEC);
	cr_assert_geq(inotify_add_watch(in, workdir, IN_MODIFY), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct error err;
		_exit(image_copy(src, dst, IMAGE_PLAIN, NULL, &err) == 0 ? 0 : 1);
	}
	char buf[4096] __attribute__((aligned(8)));
	bool writing = false;
	while (!writing) {
		ssize_t n = read(in, buf, sizeof(buf));
		cr_assert_gt(n, 0);
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			if (ev->len && strstr(ev->name, ".tmp-"))
				writing = true;
			p += sizeof(*ev) + ev->len;
		}
	}
	kill(pid, sig);
	close(in);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static void make_large_source(const char *src)
{
	/* Large enough that the copy is surely still running when the signal
	 * arrives, sparse so that it costs little to make. */
	const struct extent data[] = {{0, 64 * MiB}, {512 * MiB, 192 * MiB}};
	make_sparse_file(src, 1024 * MiB, data, 2);
}

Test(image_copy, ctrl_c_leaves_no_base_and_no_temporary_file)
{
	char *src = in_workdir("seed.img"), *dst = in_workdir("base.img");
	make_large_source(src);
	int status = interrupt_copy(src, dst, SIGINT);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT,
		  "the copy did not die of SIGINT (status %#x)", status);
	cr_assert_eq(access(dst, F_OK), -1, "a half base exists");
	cr_assert_eq(count_entries(workdir), 1, "the temporary file was left behind");
}

Test(image_copy, kill_9_leaves_no_base)
{
	char *src = in_workdir("seed.img"), *dst = in_workdir("base.img");
	make_large_source(src);
	int status = interrupt_copy(src, dst, SIGKILL);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	cr_assert_eq(access(dst, F_OK), -1, "a half base exists");
	/* What SIGKILL left, the next run removes (under the machine's lock). */
	cr_assert_eq(count_entries(workdir), 2, "expected the seed and one left-over");
	cr_assert_eq(tempfile_remove_stale(dst), 1);
	cr_assert_eq(count_entries(workdir), 1);
}

/* What vm archive -v says it copied: a small disk is not "0 MiB". */
Test(image_copy, sizes_are_told_in_the_unit_that_fits)
{
	char text[32];
	filecopy_size_text(917504, text, sizeof(text));
	cr_assert_str_eq(text, "896.0 KiB");
	filecopy_size_text(1023, text, sizeof(text));
	cr_assert_str_eq(text, "1023 bytes");
	filecopy_size_text(3ULL << 30, text, sizeof(text));
	cr_assert_str_eq(text, "3.0 GiB");
}
