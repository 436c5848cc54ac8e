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

/* The emulator runs the disk through the overlay, the merge job is ready,
 * vm completes it; then the script's ending. */
#define RUNNING_ON_OVERLAY(overlay)                                                                \
	{"query-block",                                                                            \
	 "{\"return\": [{\"device\": \"drive0\", \"inserted\": {\"file\": \"" overlay              \
	 "\", \"node-name\": \"vm-archive-overlay\"}}], \"id\": @ID}\r\n"},                        \
	    {"query-block-jobs",                                                                   \
	     "{\"return\": [{\"device\": \"vm-archive-merge\", \"status\": \"ready\"}], \"id\": "  \
	     "@ID}\r\n"},                                                                          \
	{                                                                                          \
		"block-job-complete", "{\"return\": {}, \"id\": @ID}\r\n"                          \
	}

struct merge {
	char *disk, *overlay, *merged;
	int rc;
	struct error err;
};

/* overlay_merge_live on a disk and its overlay file in a fresh directory,
 * the fake QEMU playing steps (which name the overlay as "OVERLAY") and
 * then hanging up. */
static void merge_with(struct merge *m, const struct step *script)
{
	char *dir = vt_tmpdir();
	m->disk = vt_write(dir, "disk.qcow2", "disk");
	m->overlay = vt_write(dir, ".disk.qcow2.archive-overlay", "overlay");
	m->merged = NULL;
	cr_assert(asprintf(&m->merged, "%s.merged", m->overlay) > 0);
	/* The script, with the overlay's real path in the query-block reply. */
	struct step steps[16];
	char *texts[16] = {0};
	size_t n = 0;
	for (; script[n].expect || script[n].reply; n++) {
		steps[n] = script[n];
		const char *at = script[n].reply ? strstr(script[n].reply, "OVERLAY") : NULL;
		if (at) {
			cr_assert(asprintf(&texts[n], "%.*s%s%s", (int)(at - script[n].reply),
					   script[n].reply, m->overlay,
					   at + strlen("OVERLAY")) > 0);
			steps[n].reply = texts[n];
		}
	}
	steps[n] = (struct step){0};
	struct peer p;
	struct qmp q;
	cr_assert_eq(qmp_open_fd(&q, start_peer_hanging_up(&p, steps), 2000, &m->err), 0, "%s",
		     m->err.msg);
	enum overlay_found found;
	m->rc = overlay_merge_live(&q, m->disk, &found, &m->err);
	qmp_close(&q);
	stop_peer(&p);
	for (size_t i = 0; i < n; i++)
		free(texts[i]);
	free(dir);
}

static void merge_free(struct merge *m)
{
	free(m->disk), free(m->overlay), free(m->merged);
}

Test(overlay, an_emulator_ending_before_the_merge_completes_leaves_the_overlay_to_write_back)
{
	const struct step script[] = {
	    fake_qemu_handshake[0], fake_qemu_handshake[1], RUNNING_ON_OVERLAY("OVERLAY"), {0}};
	struct merge m;
	merge_with(&m, script);
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
	const struct step script[] = {
	    fake_qemu_handshake[0],
	    fake_qemu_handshake[1],
	    RUNNING_ON_OVERLAY("OVERLAY"),
	    {NULL, "{\"event\": \"BLOCK_JOB_COMPLETED\", \"data\": {\"device\": "
		   "\"vm-archive-merge\", \"type\": \"commit\", \"len\": 1, \"offset\": 1}}\r\n"},
	    {0}};
	struct merge m;
	merge_with(&m, script);
	cr_assert_eq(m.rc, -1);
	cr_assert(strstr(m.err.msg, "the emulator ended just after the overlay"), "%s", m.err.msg);
	cr_assert(strstr(m.err.msg, "the next vm command removes it"), "%s", m.err.msg);
	cr_assert(vt_exists(m.overlay));
	cr_assert(vt_exists(m.merged), "the overlay keeps its second name: the disk has it all");
	merge_free(&m);
}

Test(overlay, a_failed_merge_reported_before_the_end_leaves_the_overlay_to_write_back)
{
	const struct step script[] = {
	    fake_qemu_handshake[0],
	    fake_qemu_handshake[1],
	    RUNNING_ON_OVERLAY("OVERLAY"),
	    {NULL, "{\"event\": \"BLOCK_JOB_COMPLETED\", \"data\": {\"device\": "
		   "\"vm-archive-merge\", \"type\": \"commit\", \"len\": 1, \"offset\": 0, "
		   "\"error\": \"Input/output error\"}}\r\n"},
	    {0}};
	struct merge m;
	merge_with(&m, script);
	cr_assert_eq(m.rc, -1);
	cr_assert(strstr(m.err.msg, "the next vm command writes it into"), "%s", m.err.msg);
	cr_assert(!vt_exists(m.merged));
	merge_free(&m);
}
