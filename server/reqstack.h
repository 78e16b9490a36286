/*
 * reqstack.h: runs each request on a stack mlflowd owns instead of the
 * civetweb worker's own (Debian's libcivetweb creates its workers with a
 * fixed 100 KiB stack, set when the library was compiled, which SQLite's
 * recursive LIKE matching can overflow). Each worker thread gets one stack
 * of MLF_REQUEST_STACK_BYTES, mapped on its first request with a guard page
 * below it, committed by the kernel only as far as it is used, and released
 * by mlf_reqstack_thread_exit.
 */
#ifndef MLF_REQSTACK_H
#define MLF_REQSTACK_H

/* Run fn(arg) on the calling thread's request stack and return its result.
 * Falls back to running fn on the current stack when the request stack
 * cannot be mapped (fn then runs with the worker's own stack). */
int mlf_reqstack_run(int (*fn)(void *), void *arg);
/* Unmap the calling thread's request stack (from the thread-exit callback). */
void mlf_reqstack_thread_exit(void);
/* Bytes of the calling thread's request stack that the deepest request so
 * far has touched (0 before the first); for tests and diagnostics. */
long mlf_reqstack_high_water(void);

#endif
