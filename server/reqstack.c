/*
 * reqstack.c: per-thread request stacks (see reqstack.h).
 *
 * A request switches to its thread's stack with swapcontext and back when
 * fn returns (uc_link). The stack is an anonymous mapping with
 * MAP_NORESERVE, so an idle worker costs address space only; pages are
 * committed as a request touches them. After a request that went deeper
 * than MLF_REQUEST_STACK_WARM_BYTES (seen on a probe page just below that
 * depth, which is zero until something writes it), the pages below are
 * given back with MADV_DONTNEED, so one deep request does not leave
 * megabytes resident on every worker it ran on.
 */
#include "reqstack.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "../api/limits.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define MLF_ASAN_FIBERS 1
#endif

struct reqstack {
	char *map; /* whole mapping: guard page, then the stack */
	size_t map_len;
	char *lo, *top; /* usable stack [lo, top) */
	ucontext_t caller, callee;
	int (*fn)(void *);
	void *arg;
	int result;
#ifdef MLF_ASAN_FIBERS
	void *fake_stack;
	const void *caller_bottom;
	size_t caller_size;
#endif
};

static _Thread_local struct reqstack *tls_stack;

static size_t page_size(void)
{
	long p = sysconf(_SC_PAGESIZE);
	return p > 0 ? (size_t)p : 4096;
}

static struct reqstack *stack_get(void)
{
	if (tls_stack)
		return tls_stack;
	size_t pg = page_size();
	size_t len = MLF_REQUEST_STACK_BYTES + pg + sizeof(struct reqstack);
	len = (len + pg - 1) / pg * pg;
	char *m =
	    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	if (mprotect(m, pg, PROT_NONE) != 0) { /* guard page: an overflow faults instead of corrupting */
		munmap(m, len);
		return NULL;
	}
	/* The bookkeeping lives in the mapping's last bytes, above the stack. */
	struct reqstack *s = (struct reqstack *)(m + len - sizeof(struct reqstack));
	memset(s, 0, sizeof *s);
	s->map = m;
	s->map_len = len;
	s->lo = m + pg;
	s->top = (char *)((uintptr_t)s & ~(uintptr_t)63);
	tls_stack = s;
	return s;
}

static void trampoline(void)
{
	struct reqstack *s = tls_stack;
#ifdef MLF_ASAN_FIBERS
	__sanitizer_finish_switch_fiber(NULL, &s->caller_bottom, &s->caller_size);
#endif
	s->result = s->fn(s->arg);
#ifdef MLF_ASAN_FIBERS
	__sanitizer_start_switch_fiber(NULL, s->caller_bottom, s->caller_size);
#endif
	/* returning resumes s->caller (uc_link) */
}

/* Give back the pages of a deep request (see the file comment). */
static void release_deep_pages(struct reqstack *s)
{
	size_t pg = page_size();
	char *probe = s->top - MLF_REQUEST_STACK_WARM_BYTES - pg;
	if (probe < s->lo)
		return;
	const uint64_t *w = (const uint64_t *)(void *)probe;
	for (size_t i = 0; i < pg / sizeof *w; i++) {
		if (w[i]) {
			madvise(s->lo, (size_t)(probe + pg - s->lo), MADV_DONTNEED);
			return;
		}
	}
}

int mlf_reqstack_run(int (*fn)(void *), void *arg)
{
	/* volatile: getcontext returns twice in the compiler's eyes */
	struct reqstack *volatile s = stack_get();
	if (!s || getcontext(&s->callee) != 0)
		return fn(arg);
	s->fn = fn;
	s->arg = arg;
	s->callee.uc_stack.ss_sp = s->lo;
	s->callee.uc_stack.ss_size = (size_t)(s->top - s->lo);
	s->callee.uc_link = &s->caller;
	makecontext(&s->callee, trampoline, 0);
#ifdef MLF_ASAN_FIBERS
	__sanitizer_start_switch_fiber(&s->fake_stack, s->lo, (size_t)(s->top - s->lo));
#endif
	if (swapcontext(&s->caller, &s->callee) != 0)
		return fn(arg);
#ifdef MLF_ASAN_FIBERS
	__sanitizer_finish_switch_fiber(s->fake_stack, NULL, NULL);
#endif
	release_deep_pages(s);
	return s->result;
}

long mlf_reqstack_high_water(void)
{
	struct reqstack *s = tls_stack;
	if (!s)
		return 0;
	/* Pages never written read as zero (the kernel's zero page). */
	const char *p = s->lo;
	while (p < s->top && !*p)
		p++;
	return (long)(s->top - p);
}

void mlf_reqstack_thread_exit(void)
{
	struct reqstack *s = tls_stack;
	if (!s)
		return;
	tls_stack = NULL;
	munmap(s->map, s->map_len);
}
