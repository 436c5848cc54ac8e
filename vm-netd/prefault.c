/* Step 0: the code, the constants and the stack the steps will use, mapped
 * up front.
 *
 * Each first touch of a page is a page fault, and on a paravirtualised host
 * (a cloud VM without nested paging) a fault costs 15 us: a request touches
 * some twenty pages of libc's code and constants and a dozen of stack, a
 * third of a millisecond. Asking the kernel to map them in one call costs a tenth of
 * that. Nothing depends on it: on a kernel without MADV_POPULATE_* (before
 * 5.14) the calls fail and the pages fault in as before. */
#include "netd.h"

#include <link.h>
#include <stdint.h>
#include <sys/mman.h>

#define PAGE ((uintptr_t)4096)
/* More than the steps' deepest stack (netlink's 32 KiB buffer and the
 * audit lines), less than the 128 KiB the kernel maps for it at exec. */
#define STACK_USED ((uintptr_t)96 * 1024)

static int map_read_only(struct dl_phdr_info *object, size_t size, void *unused)
{
	for (int i = 0; i < object->dlpi_phnum; i++) {
		const ElfW(Phdr) *seg = &object->dlpi_phdr[i];
		if (seg->p_type != PT_LOAD || (seg->p_flags & PF_W))
			continue;
		uintptr_t start = (object->dlpi_addr + seg->p_vaddr) & ~(PAGE - 1);
		uintptr_t end =
		    (object->dlpi_addr + seg->p_vaddr + seg->p_memsz + PAGE - 1) & ~(PAGE - 1);
		madvise((void *)start, end - start, MADV_POPULATE_READ);
	}
	return 0;
}

void prefault_memory(void)
{
	char here;
	uintptr_t top = ((uintptr_t)&here & ~(PAGE - 1)) + PAGE;
	madvise((void *)(top - STACK_USED), STACK_USED, MADV_POPULATE_WRITE);
	dl_iterate_phdr(map_read_only, NULL);
}
