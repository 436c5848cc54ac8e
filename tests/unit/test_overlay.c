/* The live archive's overlay merge when the emulator ends while vm
 * follows it, against a scripted fake QEMU: the overlay keeps its second
 * name (.merged: the next command removes it) only once the job was
 * pending, when the disk holds everything and QEMU holds the guest's new
 * writes; before that, or when the job then failed, the disk may lack the
 * guest's last writes, and the next command must write the overlay into
 * the disk. */
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
/* The job's change of status. */
#define JOB_STATUS(status)                                                                         \
	"{\"event\": \"JOB_STATUS_CHANGE\", \"data\": {\"id\": \"vm-archive-merge\", \"status\": " \
	"\"" status "\"}}\r\n"
#define RETURN_OK "{\"return\": {}, \"id\": @ID}\r\n"

struct merge {
	char *disk, *overlay, *merged;
	int rc;
	struct error err;
	struct peer p;
};

/* overlay_merge_live on a disk and its overlay file in a fresh directory.
 * The fake QEMU runs the disk through the overlay, has the merge job in
 * status, then plays script (up to 3 steps) and ends. */
static void merge_ending_with(struct merge *m, const char *status, const struct step *script)
{
	char *dir = vt_tmpdir();
	m->disk = vt_write(dir, "disk.qcow2", "disk");
	m->overlay = vt_write(dir, ".disk.qcow2.archive-overlay", "overlay");
	cr_assert(asprintf(&m->merged, "%s.merged", m->overlay) > 0);
	char *drives, *jobs;
	cr_assert(
	    asprintf(&drives,
		     "{\"return\": [{\"device\": \"drive0\", \"inserted\": {\"file\": \"%s\", "
		     "\"node-name\": \"vm-archive-overlay\"}}], \"id\": @ID}\r\n",
		     m->overlay) > 0);
	cr_assert(asprintf(&jobs,
			   "{\"return\": [{\"device\": \"vm-archive-merge\", \"status\": \"%s\"}], "
			   "\"id\": @ID}\r\n",
			   status) > 0);
	struct step steps[8] = {fake_qemu_handshake[0],
				fake_qemu_handshake[1],
				{"query-block", drives},
				{"query-block-jobs", jobs}};
	for (int i = 0; script[i].expect || script[i].reply; i++)
		steps[4 + i] = script[i];
	struct qmp q;
	cr_assert_eq(qmp_open_fd(&q, start_peer_hanging_up(&m->p, steps), 2000, &m->err), 0, "%s",
		     m->err.msg);
	enum overlay_found found;
	m->rc = overlay_merge_live(&q, m->disk, &found, &m->err);
	qmp_close(&q);
	stop_peer(&m->p);
	free(drives);
	free(jobs);
	free(dir);
}

static void expect_written_back(const struct merge *m)
{
	cr_assert_eq(m->rc, -1);
	char *want = NULL;
	cr_assert(asprintf(&want,
			   "the emulator ended while the overlay %s was merged back into %s: the "
			   "next vm command writes it into %s, so no write of the guest is lost",
			   m->overlay, m->disk, m->disk) > 0);
	cr_assert_str_eq(m->err.msg, want);
	cr_assert(vt_exists(m->overlay), "the overlay is kept");
	cr_assert(!vt_exists(m->merged), "the overlay must lose its second name");
	free(want);
}

static void expect_removed_next(const struct merge *m)
{
	cr_assert_eq(m->rc, -1);
	cr_assert(strstr(m->err.msg, "the emulator ended just after the overlay"), "%s",
		  m->err.msg);
	cr_assert(strstr(m->err.msg, "the next vm command removes it"), "%s", m->err.msg);
	cr_assert(vt_exists(m->overlay));
	cr_assert(vt_exists(m->merged), "the overlay keeps its second name: the disk has it all");
}

static void merge_free(struct merge *m)
{
	free(m->disk), free(m->overlay), free(m->merged);
}

/* Completed, and QEMU ended before the job was pending: the disk may lack
 * the guest's last writes, so the overlay has no second name yet. */
Test(overlay, an_emulator_ending_before_the_job_is_pending_leaves_the_overlay_to_write_back)
{
	struct merge m;
	const struct step script[] = {{"block-job-complete", RETURN_OK JOB_STATUS("waiting")}, {0}};
	merge_ending_with(&m, "ready", script);
	expect_written_back(&m);
	cr_expect_eq(m.p.n_seen, 4, "no finalize before the job is pending");
	merge_free(&m);
}

Test(overlay, an_emulator_ending_once_the_job_is_pending_leaves_the_overlay_to_remove)
{
	struct merge m;
	const struct step script[] = {{"block-job-complete", RETURN_OK JOB_STATUS("pending")},
				      {"block-job-finalize", NULL},
				      {0}};
	merge_ending_with(&m, "ready", script);
	expect_removed_next(&m);
	merge_free(&m);
}

Test(overlay, an_emulator_ending_once_the_merge_completed_leaves_the_overlay_to_remove)
{
	struct merge m;
	const struct step script[] = {{"block-job-complete", RETURN_OK JOB_STATUS("pending")},
				      {"block-job-finalize", RETURN_OK JOB_COMPLETED("")},
				      {0}};
	merge_ending_with(&m, "ready", script);
	expect_removed_next(&m);
	merge_free(&m);
}

/* A vm killed while the job was pending: the next one finalizes it. */
Test(overlay, a_pending_job_found_is_finalized)
{
	struct merge m;
	const struct step script[] = {
	    {"block-job-finalize", RETURN_OK JOB_COMPLETED("") JOB_STATUS("concluded")}, {0}};
	merge_ending_with(&m, "pending", script);
	cr_assert_eq(m.rc, 0, "%s", m.err.msg);
	cr_expect_str_eq(m.p.seen[3], "block-job-finalize");
	cr_assert(!vt_exists(m.overlay), "the overlay is removed");
	cr_assert(!vt_exists(m.merged), "and its second name");
	merge_free(&m);
}

/* A finalize QEMU refuses must not leave the guest's disk held: vm cancels
 * the job, and the guest goes on on the overlay. */
Test(overlay, a_refused_finalize_cancels_the_job)
{
	struct merge m;
	const struct step script[] = {
	    {"block-job-finalize",
	     "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}, \"id\": @ID}\r\n"},
	    {"block-job-cancel", RETURN_OK},
	    {0}};
	merge_ending_with(&m, "pending", script);
	cr_assert_eq(m.rc, -1);
	cr_expect(strstr(m.err.msg, "cannot finish the merge of the overlay"), "%s", m.err.msg);
	cr_expect_str_eq(m.p.seen[4], "block-job-cancel");
	cr_assert(vt_exists(m.overlay));
	cr_assert(!vt_exists(m.merged), "the overlay is live again");
	merge_free(&m);
}

Test(overlay, a_failed_merge_reported_before_the_end_leaves_the_overlay_to_write_back)
{
	struct merge m;
	const struct step script[] = {
	    {"block-job-complete", RETURN_OK JOB_STATUS("pending")},
	    {"block-job-finalize", RETURN_OK JOB_COMPLETED(", \"error\": \"Input/output error\"")},
	    {0}};
	merge_ending_with(&m, "ready", script);
	expect_written_back(&m);
	merge_free(&m);
}
