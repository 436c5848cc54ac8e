/* Running out of memory: the program ends with a message and SIGABRT,
 * after the handler the program set (vm-netd records and answers its
 * request there, and exits). */
#include "xalloc.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

/* Far more than any allocator gives. */
static const size_t too_much = SIZE_MAX / 2;

static void exit_42(void)
{
	_exit(42);
}

static int handled;

static void count_and_return(void)
{
	handled++;
}

static void allocate_again(void)
{
	/* The handler is taken away before it runs: no recursion. */
	(void)xmalloc(too_much);
	_exit(43);
}

Test(xalloc, without_handler_aborts, .signal = SIGABRT)
{
	(void)xmalloc(too_much);
}

Test(xalloc, handler_runs_first, .exit_code = 42)
{
	xalloc_on_exhaustion(exit_42);
	(void)xcalloc(too_much, 2);
}

Test(xalloc, handler_that_returns_still_aborts, .signal = SIGABRT)
{
	xalloc_on_exhaustion(count_and_return);
	(void)xstrndup("x", 1);
	cr_assert_eq(handled, 0, "no failure, no call");
	(void)xrealloc(NULL, too_much);
}

Test(xalloc, allocation_in_the_handler_aborts, .signal = SIGABRT)
{
	xalloc_on_exhaustion(allocate_again);
	(void)xmalloc(too_much);
}
