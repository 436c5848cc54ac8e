/* The live archive's overlay merge when the emulator ends while vm
 * completes it, against a scripted fake QEMU: the overlay keeps its second
 * name (.merged: the next command removes it) only once QEMU reported the
 * merge complete; before that the disk may lack the guest's last writes,
 * and the next command must write the overlay into the disk. */
#include "emulator/qmp.h"
#include "fake_qemu.h"
#include "storage/overlay.h"
#include "vmtest.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* QEMU's report that the merge job ended, with more members (an error). */
#define JOB_COMPLETED(more)                                                                        \
	"{\"event\": \"BLOCK_JOB_COMPLETED\", \"data\": {\"device\": \"vm-archive-merge\", "       \
	"\"type\": \"commit\", \"len\": 1, \"offset\": 1" more "}}\r\n"

struct merge {
	char *disk, *overlay, *merged;
	int rc;
	struct error err;
};

/* overlay_merge_live on a disk and its overlay file in a fresh directory.
 * The fake QEMU runs the disk through the overlay, has the merge job ready
 * and accepts its completion; then it sends last (NULL: nothing) and ends. */
static void merge_ending_with(struct merge *m, const char *last)
{
	char *dir = vt_tmpdir();
	m->disk = vt_write(dir, "disk.qcow2", "disk");
	m->overlay = vt_write(dir, ".disk.qcow2.archive-overlay", "overlay");
	cr_assert(asprintf(&m->merged, "%s.merged", m->overlay) > 0);
	char *drives;
	cr_assert(
	    asprintf(&drives,
		     "{\"return\": [{\"device\": \"drive0\", \"inserted\": {\"file\": \"%s\", "
		     "\"node-name\": \"vm-archive-overlay\"}}], \"id\": @ID}\r\n",
		     m->overlay) > 0);
	const struct step steps[] = {
	    fake_qemu_handshake[0],
	    fake_qemu_handshake[1],
	    {"query-block", drives},
	    {"query-block-jobs",
	     "{\"return\": [{\"device\": \"vm-archive-merge\", \"status\": \"ready\"}], \"id\": "
	     "@ID}\r\n"},
	    {"block-job-complete", "{\"return\": {}, \"id\": @ID}\r\n"},
	    {NULL, last},
	    {0}};
	struct peer p;
	struct qmp q;
	cr_assert_eq(qmp_open_fd(&q, start_peer_hanging_up(&p, steps), 2000, &m->err), 0, "%s",
		     m->err.msg);
	enum overlay_found found;
	m->rc = overlay_merge_live(&q, m->disk, &found, &m->err);
	qmp_close(&q);
	stop_peer(&p);
	free(drives);
	free(dir);
}

static void merge_free(struct merge *m)
{
	free(m->disk), free(m->overlay), free(m->merged);
}

Test(overlay, an_emulator_ending_before_the_merge_completes_leaves_the_overlay_to_write_back)
{
	struct merge m;
	merge_ending_with(&m, NULL);
	cr_assert_eq(m.rc, -1);
	char *want = NULL;
	cr_assert(asprintf(&want,
			   "the emulator ended while the overlay %s was merged back into %s: the "
			   "next vm command writes it into %s, so no write of the guest is lost",
			   m.overlay, m.disk, m.disk) > 0);
	cr_assert_str_eq(m.err.msg, want);
	cr_assert(vt_exists(m.overlay), "the overlay is kept");
	cr_assert(!vt_exists(m.merged), "the overlay must lose its second name");
	free(want);
	merge_free(&m);
}

Test(overlay, an_emulator_ending_once_the_merge_completed_leaves_the_overlay_to_remove)
{
	struct merge m;
	merge_ending_with(&m, JOB_COMPLETED(""));
	cr_assert_eq(m.rc, -1);
	cr_assert(strstr(m.err.msg, "the emulator ended just after the overlay"), "%s", m.err.msg);
	cr_assert(strstr(m.err.msg, "the next vm command removes it"), "%s", m.err.msg);
	cr_assert(vt_exists(m.overlay));
	cr_assert(vt_exists(m.merged), "the overlay keeps its second name: the disk has it all");
	merge_free(&m);
}

Test(overlay, a_failed_merge_reported_before_the_end_leaves_the_overlay_to_write_back)
{
	struct merge m;
	merge_ending_with(&m, JOB_COMPLETED(", \"error\": \"Input/output error\""));
	cr_assert_eq(m.rc, -1);
	cr_assert(strstr(m.err.msg, "the next vm command writes it into"), "%s", m.err.msg);
	cr_assert(!vt_exists(m.merged));
	merge_free(&m);
}
