/* Memory the caller's limits leave the helper. RLIMIT_AS and RLIMIT_DATA
 * survive exec, and hygiene can raise them only as far as the caller's hard
 * limits without CAP_SYS_RESOURCE: what is then too little fails the
 * request with its record and answer, never an abort without either. */
#include "netd.h"

#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

/* Far more than a request takes (each policy file is read whole, up to
 * 64 KiB), far less than any emulator needs: no real user's limit is below. */
#define NETD_MEMORY_ROOM (16 << 20)

bool memory_room(void)
{
	/* Counted against both limits when mapped; never touched, so no page
	 * is faulted in. Not charged to the host's commit limit either, but
	 * under vm.overcommit_memory=2, where the kernel ignores MAP_NORESERVE:
	 * there a host short of memory fails it too ("or free memory"). */
	void *p = mmap(NULL, NETD_MEMORY_ROOM, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return false;
	munmap(p, NETD_MEMORY_ROOM);
	return true;
}

/* In ulimit's unit, KiB. */
static void format_limit(char *buf, size_t size, int resource)
{
	struct rlimit limit;
	if (getrlimit(resource, &limit) < 0 || limit.rlim_cur == RLIM_INFINITY)
		snprintf(buf, size, "unlimited");
	else
		snprintf(buf, size, "%llu", (unsigned long long)limit.rlim_cur / 1024);
}

void decide_out_of_memory(struct netd_state *s)
{
	char as[32], data[32];
	format_limit(as, sizeof(as), RLIMIT_AS);
	format_limit(data, sizeof(data), RLIMIT_DATA);
	netd_decide(s, NETD_FAILED, ENOMEM,
		    "too little memory: your limits (ulimit -v %s, ulimit -d %s, in KiB) leave "
		    "vm-netd less than %d MiB; raise them, or free memory",
		    as, data, NETD_MEMORY_ROOM >> 20);
}

void fail_out_of_memory(struct netd_state *s, const char *syslog_path)
{
	decide_out_of_memory(s);
	if (s->syslog_fd < 0)
		s->syslog_fd = syslog_connect(syslog_path);
	audit(s);
	reply(s);
	_exit(1);
}
