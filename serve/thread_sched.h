/* thread_sched.h - how the service's threads share the cores (docs/serve.md,
 * "Threads and the scheduler"). The threads that answer requests ask the
 * kernel for short time slices (set once on the main thread, which every
 * thread started after inherits); the threads that work in the background
 * (the applier, a snapshot's writer, the log's preallocation) go back to
 * the default slice; the applier may step aside into SCHED_IDLE while it
 * runs the updates of a reward batch. */
#ifndef COLB_SERVE_THREAD_SCHED_H
#define COLB_SERVE_THREAD_SCHED_H

#include <sys/types.h>

/* The calling thread's time slice under the kernel's EEVDF scheduler
 * (Linux 6.12 or later: sched_attr.sched_runtime of a SCHED_OTHER
 * thread), in microseconds, clamped by the kernel to 100..100,000; 0: the
 * kernel's default. Threads started later inherit it. Its class and nice
 * value are kept. 0, or -1 where the kernel does not take it (an older
 * kernel keeps its default, which is harmless). */
int thread_sched_slice(unsigned us);

/* Thread tid (a thread id, 0 for the caller) into SCHED_IDLE (idle = 1)
 * or back into SCHED_OTHER (0). 0, or -1 when not allowed. */
int thread_sched_idle(pid_t tid, int idle);

/* 1 when a thread of this process may leave SCHED_IDLE again: an
 * unprivileged process needs RLIMIT_NICE of 20 or more, or CAP_SYS_NICE
 * (the kernel treats SCHED_IDLE as nice 20). Found out by a short-lived
 * thread that goes there and back; 0 otherwise. */
int thread_sched_idle_reversible(void);

#endif
