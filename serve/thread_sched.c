/* thread_sched.c - the service's threads' time slices and classes
 * (thread_sched.h). sched_setattr has no glibc wrapper in Debian 12: it is
 * called by its number, with the kernel's struct laid out here. */
#define _GNU_SOURCE /* SCHED_IDLE, syscall */
#include "thread_sched.h"

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

/* struct sched_attr of <linux/sched/types.h> (its first version, 48 bytes) */
typedef struct sched_attr_v0 {
    uint32_t size, policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime, deadline, period;
} sched_attr_v0;

int thread_sched_slice(unsigned us)
{
    sched_attr_v0 a = { .size = sizeof a };
    if (syscall(SYS_sched_getattr, 0, &a, (unsigned)sizeof a, 0) != 0 || a.policy != SCHED_OTHER)
        return -1; /* a real-time or idle thread has no fair slice to set */
    a.size = sizeof a;
    a.flags = 0;
    a.runtime = (uint64_t)us * 1000u; /* getattr gave the slice in force; 0 asks for the default */
    return syscall(SYS_sched_setattr, 0, &a, 0) == 0 ? 0 : -1;
}

int thread_sched_idle(pid_t tid, int idle)
{
    struct sched_param sp = { 0 };
    return syscall(SYS_sched_setscheduler, tid, idle ? SCHED_IDLE : SCHED_OTHER, &sp) == 0 ? 0 : -1;
}

static void *probe_main(void *arg)
{
    int *ok = arg;
    *ok = thread_sched_idle(0, 1) == 0 && thread_sched_idle(0, 0) == 0;
    return NULL;
}

int thread_sched_idle_reversible(void)
{
    pthread_t t;
    int ok = 0;
    if (pthread_create(&t, NULL, probe_main, &ok) != 0)
        return 0;
    pthread_join(t, NULL); /* a thread stuck in SCHED_IDLE ends here */
    return ok;
}
