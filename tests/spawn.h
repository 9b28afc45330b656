/* spawn.h - for tests that run the colb tool ($COLB, testutil.h's
 * colb_bin) as a child process and look at its exit status and stderr:
 * bounded in time, and optionally with a full disk or a signal at a given
 * moment. */
#ifndef COLB_TEST_SPAWN_H
#define COLB_TEST_SPAWN_H

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

static inline double spawn_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* In a forked child: exec colb with the NULL-terminated `args` (at most
 * 62); _exit(127) if it cannot. */
static inline void colb_exec(char *const args[])
{
    char *argv[64];
    size_t n = 0;
    argv[n++] = (char *)colb_bin();
    for (size_t i = 0; args[i] && n < 63; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    execv(argv[0], argv);
    _exit(127);
}

/* Run colb with the NULL-terminated `args` (stdout discarded; stderr, its
 * first len - 1 bytes, into err). With fsize > 0 the child may write files
 * of at most fsize bytes (a full disk); with kill_after > 0 it gets signal
 * `sig` that many seconds after its start; with limit > 0 it is killed
 * (SIGKILL) once it has run that long. The exit status, or 128 + the
 * signal that ended it. */
static inline int colb_spawn(char *const args[], char *err, size_t len, long fsize, double kill_after, int sig,
                             double limit)
{
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fd[1], 2);
        close(fd[0]);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        if (fsize > 0) {
            struct rlimit rl = { (rlim_t)fsize, (rlim_t)fsize };
            signal(SIGXFSZ, SIG_IGN);
            setrlimit(RLIMIT_FSIZE, &rl);
        }
        colb_exec(args);
    }
    close(fd[1]);
    double t0 = spawn_now();
    int signalled = kill_after <= 0, killed = 0;
    size_t n = 0;
    for (;;) { /* stderr is read while the child runs, until it closes it */
        double t = spawn_now() - t0;
        if (!signalled && t >= kill_after) {
            kill(pid, sig);
            signalled = 1;
        }
        if (limit > 0 && t > limit && !killed) {
            kill(pid, SIGKILL);
            killed = 1;
        }
        struct pollfd p = { fd[0], POLLIN, 0 };
        if (poll(&p, 1, 10) <= 0)
            continue;
        char sink[4096];
        ssize_t r = n + 1 < len ? read(fd[0], err + n, len - 1 - n) : read(fd[0], sink, sizeof sink);
        if (r <= 0)
            break;
        if (n + 1 < len)
            n += (size_t)r;
    }
    err[n] = '\0';
    close(fd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#endif
