/* vm-netd's seccomp filter (built at build time), installed in a child with
 * its fds at sandbox.h's numbers: what it lets through works, everything
 * else (other syscalls, other fds, other ioctls, x32, i386) kills. */
#include "sandbox.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

enum action {
	SEND_ON_REQUEST,
	GETPID,
	WRITE_STDOUT,
	X32_GETPID,
	I386_GETPID,
	WRONG_IOCTL,
	RIGHT_IOCTL_WRONG_FD,
	SENDTO_REQUEST,
	OPEN,
	RESTART_SYSCALL,
	SET_TAP_MAC,
	QUEUES_SETIFF_AND_CLOSE,
	QUEUE_SETOWNER,
	SETIFF_PAST_THE_QUEUES
};

#define LAST_QUEUE_FD (SANDBOX_FD_TUN_QUEUES + SANDBOX_TUN_QUEUES - 1)

/* Runs action in a sandboxed child; returns its wait status. */
static int run_sandboxed(enum action action)
{
	int sv[2];
	cr_assert(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		/* /dev/null stands in for the tun: the filter acts before any driver. */
		int tun = SANDBOX_FD_TUN, request = SANDBOX_FD_REQUEST;
		int null = open("/dev/null", O_RDWR);
		if (dup2(sv[1], request) != request || dup2(null, tun) != tun)
			_exit(97);
		for (int fd = SANDBOX_FD_TUN_QUEUES; fd <= LAST_QUEUE_FD + 1; fd++)
			if (dup2(null, fd) != fd)
				_exit(97);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || sandbox_install() < 0)
			_exit(99);
		char byte = 'x';
		struct iovec iov = {&byte, 1};
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
		switch (action) {
		case SEND_ON_REQUEST:
			_exit(sendmsg(request, &msg, 0) == 1 ? 0 : 98);
		case RESTART_SYSCALL:
			/* With nothing to restart the kernel answers EINTR. */
			_exit(syscall(SYS_restart_syscall) < 0 ? 0 : 98);
		case GETPID:
			getpid();
			break;
		case WRITE_STDOUT:
			syscall(SYS_write, 1, "x", 1);
			break;
		case X32_GETPID:
			syscall(__X32_SYSCALL_BIT | SYS_getpid);
			break;
		case I386_GETPID: {
			long ret = 20; /* getpid in the i386 table */
			__asm__ volatile("int $0x80" : "+a"(ret)::"memory");
			break;
		}
		case WRONG_IOCTL:
			ioctl(tun, TUNSETPERSIST, 1);
			break;
		case RIGHT_IOCTL_WRONG_FD:
			ioctl(request, TUNSETIFF, NULL);
			break;
		case SET_TAP_MAC:
			ioctl(tun, SIOCSIFHWADDR, NULL);
			break;
		case SENDTO_REQUEST:
			sendto(request, "x", 1, 0, NULL, 0);
			break;
		case OPEN:
			syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
			break;
		case QUEUES_SETIFF_AND_CLOSE: {
			/* /dev/null answers ENOTTY: the filter let the call through. */
			struct ifreq ifr = {0};
			for (int fd = SANDBOX_FD_TUN_QUEUES; fd <= LAST_QUEUE_FD; fd++)
				if (ioctl(fd, TUNSETIFF, &ifr) == 0 || close(fd) < 0)
					_exit(98);
			_exit(0);
		}
		case QUEUE_SETOWNER:
			ioctl(SANDBOX_FD_TUN_QUEUES, TUNSETOWNER, 0);
			break;
		case SETIFF_PAST_THE_QUEUES:
			ioctl(LAST_QUEUE_FD + 1, TUNSETIFF, NULL);
			break;
		}
		_exit(0);
	}
	int status;
	cr_assert(waitpid(pid, &status, 0) == pid);
	close(sv[0]);
	close(sv[1]);
	return status;
}

static void expect_killed(enum action action, const char *what)
{
	int status = run_sandboxed(action);
	cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS, "%s: status 0x%x", what,
		  status);
}

/* The sanitizers' own run-time makes syscalls the filter refuses. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define SANITIZED 1
#endif
#endif

static void expect_allowed(enum action action, const char *what)
{
	int status = run_sandboxed(action);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: status 0x%x", what, status);
}

Test(sandbox, allowed_calls_work)
{
#ifdef SANITIZED
	cr_skip_test("the sanitizers' run-time makes syscalls vm-netd's filter refuses");
#endif
	expect_allowed(SEND_ON_REQUEST, "sendmsg on the request socket");
	expect_allowed(QUEUES_SETIFF_AND_CLOSE, "TUNSETIFF and close on each queue fd (9-15)");
}

/* A helper stopped and continued while it waits (Ctrl-Z, then fg) resumes
 * through restart_syscall, which the kernel issues itself. */
Test(sandbox, the_kernels_restart_syscall_is_allowed)
{
#ifdef SANITIZED
	cr_skip_test("the sanitizers' run-time makes syscalls vm-netd's filter refuses");
#endif
	expect_allowed(RESTART_SYSCALL, "restart_syscall");
}

Test(sandbox, everything_else_kills)
{
	expect_killed(GETPID, "getpid");
	expect_killed(OPEN, "openat");
	expect_killed(WRITE_STDOUT, "write to an fd that is not the audit log");
	expect_killed(WRONG_IOCTL, "a tun ioctl other than TUNSETIFF/TUNSETOWNER");
	expect_killed(SET_TAP_MAC, "SIOCSIFHWADDR on the tun fd");
	expect_killed(RIGHT_IOCTL_WRONG_FD, "TUNSETIFF on another fd");
	expect_killed(SENDTO_REQUEST, "sendto on the request socket");
	expect_killed(QUEUE_SETOWNER, "TUNSETOWNER on a queue fd (the first queue's alone)");
	expect_killed(SETIFF_PAST_THE_QUEUES, "TUNSETIFF on fd 16, past the queues");
}

/* Whether this kernel runs i386 system calls at all: without ia32
 * emulation (not built in, or ia32_emulation=0) int 0x80 faults with
 * SIGSEGV before any filter sees it. Asked of an unfiltered child. */
static void fault_exit(int sig)
{
	_exit(128 + sig);
}

static bool kernel_has_i386_abi(void)
{
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		signal(SIGSEGV, fault_exit); /* a plain exit, not the runner's crash report */
		long ret = 20;		     /* getpid in the i386 table */
		__asm__ volatile("int $0x80" : "+a"(ret)::"memory");
		_exit(ret == getpid() ? 0 : 1);
	}
	int status;
	cr_assert(waitpid(pid, &status, 0) == pid);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

Test(sandbox, other_abis_kill)
{
	expect_killed(X32_GETPID, "x32 getpid");
	if (kernel_has_i386_abi())
		expect_killed(I386_GETPID, "i386 getpid through int 0x80");
	else
		cr_log_info(
		    "this kernel has no i386 ABI (int 0x80 faults): nothing to filter there");
}

/* The words for a refused filter: a filter of the caller's (the root tests
 * build one for real), a kernel without seccomp filters (which no test
 * machine here is), or nothing to add. */
Test(sandbox, a_refused_filter_is_explained)
{
	const char *caller = sandbox_refusal_advice(EPERM, true);
	cr_expect(caller && strstr(caller, "vm runs under a seccomp filter"), "%s", caller);
	cr_expect_str_eq(sandbox_refusal_advice(EINVAL, true), caller,
			 "a filter's EINVAL is the filter's");
	const char *kernel = sandbox_refusal_advice(EINVAL, false);
	cr_expect(kernel && strstr(kernel, "CONFIG_SECCOMP_FILTER"), "%s", kernel);
	cr_expect_null(sandbox_refusal_advice(ENOMEM, false));
}
