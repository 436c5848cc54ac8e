/* vm archive without --create: a copy of the running machine's backing
 * file added to the archive of its base. */
#include "archive.h"

int archive_update(const struct archive_job *job, struct error *err)
{
	(void)job;
	return error_set(err, "the update of a running machine's archive is not implemented yet; "
			      "stop the machine and use vm archive --create");
}
