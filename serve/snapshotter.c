/* snapshotter.c - the background snapshot writer (snapshotter.h). The
 * library's own atomic writer (colb_snapshot_writer_open on a path) cannot
 * serve here: it would read the policy while the writer thread changes it.
 * So the state is frozen first - by fork(), the child process holding the
 * state as it was (copy-on-write pages, as redis's BGSAVE does), or, when
 * fork fails or is turned off, by a capture in the writer (state_capture)
 * - and then written with the same protocol (docs/format.md, "Writing"),
 * into a temporary of a fixed name that the next snapshot replaces (a
 * crash leaves no temporaries behind to pile up). */
#define _GNU_SOURCE /* fopencookie, sync_file_range, close_range, pipe2 */
#include "snapshotter.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "thread_sched.h"
#include "wal.h"
#include "writeback.h"

/* Seconds to wait for a child to exit after SIGKILL (at most --snapshot-
 * stall): it normally takes milliseconds; one still in the kernel after
 * that is in an uninterruptible wait (a hung disk), which can last for
 * ever, and is left there (reap). */
#define KILL_WAIT 5.0

/* Room for this many children left unreaped at first; the list grows. */
#define LEFT_FIRST 16

static void partial_path(char *out, size_t len, const char *dir)
{
    snprintf(out, len, "%s/snapshot.colb.tmp", dir);
}

/* The snapshot the last one replaced, kept (a second link to it, made
 * before the rename) for the next one to write over: removing a file frees
 * its blocks there and then, ~14 ms for 45 MB on ext4 mounted with
 * `discard`, in which every group commit of the log waited (the rename
 * over the old snapshot did it); overwritten in place, its blocks are
 * neither freed nor allocated again. Only a snapshot that was committed
 * becomes the spare: no child that may still run writes to it. */
static void spare_path(char *out, size_t len, const char *dir)
{
    snprintf(out, len, "%s/snapshot.colb.spare", dir);
}

void snapshot_remove_partial(const char *dir)
{
    char tmp[4300];
    partial_path(tmp, sizeof tmp, dir);
    unlink(tmp);
}

/* A snapshot is written in two steps. The data goes to the page cache as
 * fast as the state serialises (a fork()ed child exits then: while it
 * lives, every page the server changes is copied first, a fault and a
 * TLB flush of the other CPU each - 7.6 % of the server's time under a
 * snapshot a second with a child that also paced its writeback,
 * docs/performance.md); then its writeback is started
 * a step at a time at --background-write-rate at most (writeback.h:
 * written as fast as the disk takes it, each group commit's fdatasync of
 * the log, which acknowledges rewards, would wait behind what the disk was
 * given meanwhile: 20-140 ms), and the file is synced and renamed into
 * place. */

/* Step one: the capture im into tmp (*len: its bytes), not synced. 0, or
 * an errno with *step (and why, when the capture said what). */
static int write_data(const char *tmp, const char *spare, const state_image *im, size_t *len, size_t *policy_len,
                      const char **step, char *why, size_t why_len)
{
    unlink(tmp);
    int reuse = rename(spare, tmp) == 0;
    int fd = reuse ? open(tmp, O_WRONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) != 0 || st.st_nlink != 1)) {
        /* a spare with another name is the live snapshot: commit() links
         * the snapshot as the spare just before its rename, and a crash or
         * a failed rename between the two leaves both names on one file.
         * Written in place, it would be the snapshot itself that changes,
         * and the rename of the same file to itself does nothing. */
        close(fd);
        fd = -1;
        unlink(tmp);
        reuse = 0;
    }
    if (!reuse)
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    *step = "create";
    if (!f) {
        int e = fd >= 0 ? ENOMEM : errno;
        if (fd >= 0)
            close(fd);
        return e;
    }
    *step = "write";
    setvbuf(f, NULL, _IOFBF, (size_t)1 << 20); /* fewer system calls: the child's life is this step */
    int e = state_image_write(im, f, len, policy_len, why, why_len) != 0 ? EIO : 0; /* why says what */
    if (!e && fflush(f) != 0)
        e = errno;
    if (!e && reuse && ftruncate(fileno(f), (off_t)*len) != 0) /* the spare's end, if it was longer */
        e = errno, *step = "truncate";
    if (fclose(f) != 0 && !e)
        e = errno;
    return e;
}

/* Step two: tmp's writeback at pace's rate at most (NULL: no limit; none
 * as soon as *hurry is set), then it is synced, the log up to the
 * snapshot's lsn made durable, and tmp renamed to path. 0, or an errno
 * with *step (why: from the log). */
static int commit(const char *dir, const char *tmp, const char *path, const char *spare, const state_image *im,
                  writeback_pace *pace, const _Atomic int *hurry, const char **step, char *why, size_t why_len)
{
    *step = "open";
    int fd = open(tmp, O_WRONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return e;
    }
    writeback wb;
    writeback_init(&wb, fd, pace, hurry); /* a stop waits for this snapshot: not at its pace */
    for (off_t done = 0; done < st.st_size;) {
        done = st.st_size - done > WRITEBACK_STEP ? done + WRITEBACK_STEP : st.st_size;
        writeback_step(&wb, done);
    }
    *step = "fsync";
    int e = fsync(fd) != 0 ? errno : 0;
    if (close(fd) != 0 && !e)
        e = errno, *step = "close";
    /* the log up to the snapshot's lsn durable first, with the decisions
     * it left to the log (a choose is not synced when answered): after a
     * power cut the log never ends before it */
    uint64_t from, to;
    if (!e && state_image_log_range(im, &from, &to) && wal_sync_range(dir, from, to, why, why_len) != 0)
        e = EIO;
    if (!e)
        (void)link(path, spare); /* none yet, or one left: the rename frees the old one's blocks */
    if (!e && rename(tmp, path) != 0)
        e = errno, *step = "rename";
    if (!e && wal_sync_dir(dir) != 0)
        e = errno, *step = "fsync of the folder";
    return e;
}

/* The error of a snapshot that failed with e at step (tmp removed). -1. */
static int failed(const char *path, const char *tmp, int e, const char *step, const char *why, char *err,
                  size_t err_len)
{
    unlink(tmp);
    if (why[0])
        snprintf(err, err_len, "%s: cannot write the snapshot (%s)", path, why);
    else
        snprintf(err, err_len, "%s: cannot write the snapshot (%s: %s)", path, step, strerror(e));
    return -1;
}

/* Step one (data set: the data written, *len its bytes), then step two
 * if commit_too (at pace; the child leaves it to its parent). 0, or -1
 * with err. */
static int write_steps(const char *dir, const state_image *im, int data, int commit_too, writeback_pace *pace,
                       const _Atomic int *hurry, size_t *len, size_t *policy_len, char *err, size_t err_len)
{
    char path[4200], tmp[4300], spare[4300], why[4400] = "";
    snprintf(path, sizeof path, "%s/snapshot.colb", dir);
    partial_path(tmp, sizeof tmp, dir); /* one writer: DIR is locked */
    spare_path(spare, sizeof spare, dir);
    const char *step = "create";
    int e = data ? write_data(tmp, spare, im, len, policy_len, &step, why, sizeof why) : 0;
    if (!e && commit_too)
        e = commit(dir, tmp, path, spare, im, pace, hurry, &step, why, sizeof why);
    return e ? failed(path, tmp, e, step, why, err, err_len) : 0;
}

int snapshot_write(const char *dir, const state_image *im, size_t *len, char *err, size_t err_len)
{
    return write_steps(dir, im, 1, 1, NULL, NULL, len, NULL, err, err_len);
}

struct snapshotter {
    char dir[4096];
    int archive, quiet;
    size_t recycle_bytes; /* the log's preallocated segment size (wal_drop_segments) */
    metrics *m;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    state_image *im;      /* its capture (written by the child when there is one) */
    pid_t child;          /* snapshotter_fork's child (0: none) */
    int child_fd;         /* the read end of its report */
    int window_fd;        /* the write end of its window's blocks (-1: sent, or none) */
    double stall;         /* seconds the child may go without progress (child_wait) */
    writeback_pace *pace; /* the rate snapshots are written at most, shared (writeback.h; NULL: no limit) */
    _Atomic int hurry;    /* snapshotter_hurry: the snapshot being written goes at full speed */
    uint64_t lsn, keep;
    size_t prepare;       /* snapshotter_prepare's size (0: none asked) */
    void *ready;          /* a larger one, touched, for snapshotter_take_buffer (NULL: none) */
    size_t ready_len;
    int busy, stop;
    pthread_t th;
    /* children killed that had not exited when given up on (blocked in
     * the kernel), reaped later (reap_left; mu): each stays a child of
     * this process until then, so its pid cannot be reused meanwhile.
     * Every one is kept, however many: snapshotter_fork makes room for
     * its child before it forks (a child it could not keep would stay a
     * zombie until this process exits) */
    pid_t *left;
    size_t n_left, cap_left;
};

/* What the child reports through its pipe. */
typedef struct report {
    int rc;
    size_t len, policy_len;
    char err[4400];
} report;

/* Reap the children left earlier that have exited since (mu held). */
static void reap_left(snapshotter *s)
{
    for (size_t i = 0; i < s->n_left;) {
        pid_t r = waitpid(s->left[i], NULL, WNOHANG);
        if (r == s->left[i] || (r < 0 && errno == ECHILD))
            s->left[i] = s->left[--s->n_left];
        else
            i++;
    }
}

/* Reap child pid within `wait` seconds (*status, unless NULL); 1, or 0
 * while it is still there - a SIGKILL takes effect only when the child
 * leaves the kernel, and an uninterruptible wait (a hung disk) can last
 * for ever. Such a child is left to reap_left. */
static int reap(snapshotter *s, pid_t pid, int *status, double wait)
{
    double until = now_s() + wait;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            return 1;
        if (r == 0 && now_s() >= until)
            break;
        if (r == 0)
            usleep(10000);
    }
    pthread_mutex_lock(&s->mu);
    if (s->n_left < s->cap_left) /* always: snapshotter_fork made room for its child */
        s->left[s->n_left++] = pid;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

/* Room in s->left for one more child (mu held): 0, or -1 when there is
 * no memory for it. */
static int left_room(snapshotter *s)
{
    if (s->n_left < s->cap_left)
        return 0;
    size_t cap = s->cap_left ? 2 * s->cap_left : LEFT_FIRST;
    pid_t *l = cap <= SIZE_MAX / sizeof *l ? realloc(s->left, cap * sizeof *l) : NULL;
    if (!l)
        return -1;
    s->left = l;
    s->cap_left = cap;
    return 0;
}

/* Seconds to wait for a killed child. */
static double kill_wait(const snapshotter *s) { return s->stall < KILL_WAIT ? s->stall : KILL_WAIT; }

/* The descriptors of a child: its report goes to REPORT_FD, the window's
 * blocks come from WINDOW_FD - two u64 lengths, of serve.decisions and
 * serve.window_log (0: none), then their bytes; a first length of
 * UINT64_MAX: the server could not serialise them. */
#define REPORT_FD 3
#define WINDOW_FD 4

static int read_all(int fd, void *p, size_t n)
{
    for (char *b = p; n > 0;) {
        ssize_t k = read(fd, b, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

/* In the child: the window's blocks from the server, into im. 0, or -1. */
static int child_window(state_image *im)
{
    uint64_t len[2];
    if (read_all(WINDOW_FD, len, sizeof len) || len[0] == UINT64_MAX || len[0] > SIZE_MAX || len[1] > SIZE_MAX)
        return -1;
    unsigned char *dec = malloc(len[0] ? (size_t)len[0] : 1), *ref = len[1] ? malloc((size_t)len[1]) : NULL;
    if (!dec || (len[1] && !ref) || read_all(WINDOW_FD, dec, (size_t)len[0]) ||
        (len[1] && read_all(WINDOW_FD, ref, (size_t)len[1]))) {
        free(dec);
        free(ref);
        return -1;
    }
    state_image_adopt_window(im, dec, (size_t)len[0], ref, (size_t)len[1]);
    return 0;
}

/* The fork()ed child: the whole process as it was at the fork, with one
 * thread (this one). Only what is safe after a fork in a threaded process
 * runs here: glibc's malloc and stdio are (it takes their locks across
 * fork), the state's structures are private copies; nothing here takes a
 * lock another thread of the parent could have held. */
static void child_main(const char *dir, state_image *im, pid_t parent, int report_fd, int window_fd)
{
    /* dies with the writer thread: an orphan must not rename its snapshot
     * over the one of a server restarted on DIR */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(2);
    prctl(PR_SET_NAME, "colb-snapshot");
    thread_sched_slice(0); /* background work: the default slice (thread_sched.h) */
    /* no copy of the parent's connections, listening socket, log or lock:
     * a connection the parent closes must close now, not when this exits
     * (the two pipes' ends first above WINDOW_FD, lest one dup2 close the
     * other) */
    int rf = fcntl(report_fd, F_DUPFD, WINDOW_FD + 1), wf = fcntl(window_fd, F_DUPFD, WINDOW_FD + 1);
    if (rf < 0 || wf < 0 || dup2(rf, REPORT_FD) != REPORT_FD || dup2(wf, WINDOW_FD) != WINDOW_FD)
        _exit(2);
    if (close_range(WINDOW_FD + 1, ~0U, 0) != 0)
        for (long f = WINDOW_FD + 1, n = sysconf(_SC_OPEN_MAX); f < n; f++)
            close((int)f);
    setpriority(PRIO_PROCESS, 0, getpriority(PRIO_PROCESS, 0) + 10); /* as the thread's, below */
    report r = { 0 };
    /* im is not freed here: its references to the window's chunks are the
     * server's, whose snapshot thread serialises the window and sends it */
    if (child_window(im) != 0) {
        r.rc = -1;
        snprintf(r.err, sizeof r.err, "the snapshot process did not get the decision window from the server");
    } else {
        r.rc = write_steps(dir, im, 1, 0, NULL, NULL, &r.len, &r.policy_len, r.err, sizeof r.err); /* step one: the parent commits */
    }
    const char *b = (const char *)&r;
    for (size_t left = sizeof r; left > 0;) {
        ssize_t k = write(REPORT_FD, b, left);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            _exit(2);
        b += k;
        left -= (size_t)k;
    }
    _exit(0);
}

int snapshotter_fork(snapshotter *s, state_image *im)
{
    pthread_mutex_lock(&s->mu);
    reap_left(s);
    int room = left_room(s); /* should the child have to be left, its pid is kept */
    pthread_mutex_unlock(&s->mu);
    if (room != 0) {
        errno = ENOMEM;
        return -1;
    }
    int pfd[2], wfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0)
        return -1;
    if (pipe2(wfd, O_CLOEXEC) != 0) {
        int e = errno;
        close(pfd[0]);
        close(pfd[1]);
        errno = e;
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0)
        child_main(s->dir, im, parent, pfd[1], wfd[0]);
    int e = errno;
    close(pfd[1]);
    close(wfd[0]);
    if (pid < 0) {
        close(pfd[0]);
        close(wfd[1]);
        errno = e;
        return -1;
    }
    /* the window's blocks go out as the child takes them (child_wait),
     * a megabyte a wake-up where the system allows pipes that large */
    fcntl(wfd[1], F_SETFL, O_NONBLOCK);
    fcntl(wfd[1], F_SETPIPE_SZ, 1 << 20);
    s->child = pid;
    s->child_fd = pfd[0];
    s->window_fd = wfd[1];
    return 0;
}

void snapshotter_cancel(snapshotter *s)
{
    if (s->child <= 0)
        return;
    pid_t pid = s->child;
    s->child = 0;
    kill(pid, SIGKILL);
    close(s->child_fd);
    if (s->window_fd >= 0)
        close(s->window_fd);
    s->window_fd = -1;
    if (!reap(s, pid, NULL, kill_wait(s)))
        fprintf(stderr, "colb serve: the snapshot process %d, killed, has not exited %g s later (blocked in the "
                "kernel): left to end there\n", (int)pid, kill_wait(s));
}

/* What shows that a snapshot child is still getting on: the CPU time it
 * has used (utime + stime of /proc/PID/stat, in clock ticks; 0 if
 * unreadable) and the size and modification time of its temporary file
 * (-1 before it exists). Between them they cover every phase of a healthy
 * child: serialising uses CPU, writing grows the file or, over the spare,
 * changes its time (at the disk's pace when the kernel throttles it), and
 * the waits in which neither changes - the pacing's for 8 MB of writeback,
 * the fsyncs at the end - last what the disk takes for a few MB. A stopped child, or one blocked on a lock or in I/O that
 * does not complete, changes neither. Elapsed time alone could not tell a
 * stuck child from the minutes a large snapshot takes. */
typedef struct progress {
    unsigned long long cpu;
    long long bytes, mtime_ns; /* the file's: written over in place (the spare), it grows no more */
} progress;

static progress child_progress(const snapshotter *s)
{
    progress p = { 0, -1, -1 };
    char path[4300], line[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)s->child);
    FILE *f = fopen(path, "r");
    if (f) {
        /* after "(comm)": state ppid pgrp session tty tpgid flags minflt
         * cminflt majflt cmajflt utime stime */
        const char *paren = fgets(line, sizeof line, f) ? strrchr(line, ')') : NULL;
        unsigned long long ut, st;
        if (paren && sscanf(paren + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) == 2)
            p.cpu = ut + st;
        fclose(f);
    }
    struct stat sb;
    partial_path(path, sizeof path, s->dir);
    if (stat(path, &sb) == 0) {
        p.bytes = (long long)sb.st_size;
        p.mtime_ns = (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
    }
    return p;
}

/* The child's report, once it has exited. 0, or -1 with err. A child that
 * made no progress (child_progress) for s->stall seconds is killed: the
 * snapshot fails, and the writer, which waits for it at SIGTERM, is not
 * held for ever. */
static int child_wait(snapshotter *s, state_image *im, size_t *len, size_t *policy_len, char *err, size_t err_len)
{
    report r;
    size_t got = 0;
    /* what the child reads first: the window's blocks (WINDOW_FD) */
    uint64_t head[2] = { UINT64_MAX, 0 };
    const unsigned char *part[3] = { (const unsigned char *)head, NULL, NULL };
    size_t part_len[3] = { sizeof head, 0, 0 }, parts = 1, at = 0, off = 0;
    if (state_image_window(im, &part[1], &part_len[1], &part[2], &part_len[2]) == 0) {
        head[0] = part_len[1];
        head[1] = part_len[2];
        parts = 3;
    }
    int tick_ms = s->stall < 4 ? (int)(s->stall * 250) : 1000, stalled = 0;
    progress last = child_progress(s);
    double moved = now_s(); /* when progress was last seen */
    while (got < sizeof r) {
        while (at < parts && off == part_len[at]) { /* the next part to send */
            at++;
            off = 0;
        }
        if (at == parts && s->window_fd >= 0) { /* all sent */
            close(s->window_fd);
            s->window_fd = -1;
        }
        struct pollfd pfd[2] = { { s->child_fd, POLLIN, 0 }, { s->window_fd, POLLOUT, 0 } };
        int ready = poll(pfd, s->window_fd >= 0 ? 2 : 1, tick_ms > 0 ? tick_ms : 1);
        if (ready < 0 && errno != EINTR)
            break;
        if (ready > 0 && s->window_fd >= 0 && pfd[1].revents) {
            ssize_t k = write(s->window_fd, part[at] + off, part_len[at] - off);
            if (k > 0) {
                off += (size_t)k;
            } else if (k < 0 && errno != EINTR && errno != EAGAIN) { /* the child is gone: its report says why */
                close(s->window_fd);
                s->window_fd = -1;
            }
        }
        if (ready > 0 && pfd[0].revents) {
            ssize_t k = read(s->child_fd, (char *)&r + got, sizeof r - got);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                break;
            got += (size_t)k;
        }
        if (ready != 0)
            continue;
        progress p = child_progress(s);
        if (p.cpu != last.cpu || p.bytes != last.bytes || p.mtime_ns != last.mtime_ns) {
            last = p;
            moved = now_s();
        } else if (now_s() - moved >= s->stall) {
            stalled = 1;
            kill(s->child, SIGKILL);
            break;
        }
    }
    if (s->window_fd >= 0)
        close(s->window_fd);
    s->window_fd = -1;
    close(s->child_fd);
    int status = 0;
    pid_t pid = s->child;
    s->child = 0;
    if (stalled) {
        int gone = reap(s, pid, &status, kill_wait(s));
        snprintf(err, err_len, "the snapshot process %d made no progress for %g s (--snapshot-stall: no CPU time "
                 "used, snapshot.colb.tmp not written): killed%s", (int)pid, s->stall,
                 gone ? "" : ", but it has not exited yet (blocked in the kernel): left to end there");
        return -1;
    }
    /* it has reported, or closed its pipe: it is exiting - unless its exit
     * blocks in the kernel (closing a file on a hung disk) */
    if (!reap(s, pid, &status, s->stall)) {
        kill(pid, SIGKILL); /* it runs none of its code again */
        if (got == sizeof r && r.rc == 0) { /* written before it reported: ours to commit */
            *len = r.len;
            *policy_len = r.policy_len;
            return 0;
        }
        snprintf(err, err_len, "the snapshot process %d has not exited %g s after its pipe closed (blocked in the "
                 "kernel): killed, left to end there", (int)pid, s->stall);
        return -1;
    }
    if (got == sizeof r && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        r.err[sizeof r.err - 1] = '\0';
        *len = r.len;
        *policy_len = r.policy_len;
        if (r.rc)
            snprintf(err, err_len, "%s", r.err);
        return r.rc ? -1 : 0;
    }
    if (WIFSIGNALED(status))
        snprintf(err, err_len, "the snapshot process %d was killed by signal %d", (int)pid, WTERMSIG(status));
    else
        snprintf(err, err_len, "the snapshot process %d failed (exit status %d)", (int)pid,
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return -1;
}

/* The pages of b[0, n) in place, written once. A store per page, through
 * volatile (a memset to 0 of what malloc gave would be made a calloc,
 * which touches nothing of a new mapping); madvise(MADV_POPULATE_WRITE)
 * (Linux 5.14) first, which faults them in within one call. On this
 * paravirtualised guest a page fault costs ~10 us, a vCPU's time that
 * serves nothing else: 50 MB took 130 ms by stores alone, 8 ms by the
 * madvise and then 60 ms by the stores (the hypervisor's own tables: the
 * first write to each page after the madvise still traps, so the madvise
 * alone left 60 ms to the applier's save). */
static void populate(unsigned char *b, size_t n)
{
    volatile unsigned char *v = b;
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
#ifdef MADV_POPULATE_WRITE
    uintptr_t lo = ((uintptr_t)b + pg - 1) & ~(uintptr_t)(pg - 1), hi = ((uintptr_t)b + n) & ~(uintptr_t)(pg - 1);
    if (hi > lo)
        (void)madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE); /* else the stores do it all */
#endif
    for (size_t i = 0; i < n; i += pg)
        v[i] = 0;
    v[n - 1] = 0;
}

/* A capture buffer of n bytes, its pages touched, as s->ready (none when
 * there is no memory for it: the snapshot then stops waiting for it after
 * 5 s, and the save grows the state's own). Snapshot thread, mu not held. */
static void touch_buffer(snapshotter *s, size_t n)
{
    unsigned char *b = malloc(n);
    if (!b)
        return;
    populate(b, n);
    pthread_mutex_lock(&s->mu);
    s->ready = b;
    s->ready_len = n;
    pthread_mutex_unlock(&s->mu);
}

static void *main_loop(void *arg)
{
    snapshotter *s = arg;
    prctl(PR_SET_NAME, "colb-snapshot"); /* as ps and top show it */
    /* this thread's nice value (Linux: per thread) 10 above the others': on
     * busy cores its serialising (seconds of CPU for a large decision
     * window) yields to the writer and the HTTP threads, which answer the
     * requests; a snapshot only takes longer */
    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), getpriority(PRIO_PROCESS, 0) + 10);
    thread_sched_slice(0); /* and the default slice, not the request threads' (thread_sched.h) */
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->im && !s->stop && !s->prepare)
            pthread_cond_wait(&s->cv, &s->mu);
        if (!s->im && !s->stop) { /* snapshotter_prepare */
            size_t n = s->prepare;
            pthread_mutex_unlock(&s->mu);
            touch_buffer(s, n);
            pthread_mutex_lock(&s->mu);
            s->prepare = 0;
            continue;
        }
        if (!s->im)
            break;
        state_image *im = s->im;
        uint64_t lsn = s->lsn, keep = s->keep;
        pthread_mutex_unlock(&s->mu);
        char err[4400];
        double t0 = now_s();
        size_t len = 0, policy_len = 0;
        /* a child's snapshot is committed here, once the child has gone
         * and its pages cost the server no copies */
        int forked = s->child != 0;
        /* the window first, before the policy's save: the capture's hold
         * on the window's chunks ends then (state.h); a child gets it
         * from here (child_wait) */
        state_image_serialise_window(im);
        double saved = -1; /* a deferred capture: wait for the applier to save its policy */
        if (!forked && state_image_await_policy(im, &saved) == 0 && saved >= 0)
            metrics_observe(&s->m->snapshot_policy, saved);
        int rc = forked ? child_wait(s, im, &len, &policy_len, err, sizeof err)
                        : write_steps(s->dir, im, 1, 1, s->pace, &s->hurry, &len, &policy_len, err, sizeof err);
        if (rc == 0 && forked)
            rc = write_steps(s->dir, im, 0, 1, s->pace, &s->hurry, &len, NULL, err, sizeof err);
        state_image_free(im);
        if (rc == 0 && wal_drop_segments(s->dir, keep, s->archive, s->recycle_bytes, err, sizeof err) != 0)
            rc = 1; /* the snapshot is good; old segments linger until the next one */
        if (rc < 0) {
            atomic_fetch_add_explicit(&s->m->snapshot_failures, 1, memory_order_relaxed);
            fprintf(stderr, "colb serve: %s; the log is kept, the next snapshot retries\n", err);
        } else {
            if (rc > 0)
                fprintf(stderr, "colb serve: %s\n", err);
            atomic_fetch_add_explicit(&s->m->snapshots, 1, memory_order_relaxed);
            if (forked)
                atomic_fetch_add_explicit(&s->m->snapshot_forks, 1, memory_order_relaxed);
            atomic_store_explicit(&s->m->snapshot_bytes, len, memory_order_relaxed);
            atomic_store_explicit(&s->m->snapshot_policy_bytes, policy_len, memory_order_relaxed);
            atomic_store_explicit(&s->m->snapshot_lsn, lsn, memory_order_relaxed);
            metrics_observe(&s->m->snapshot_seconds, now_s() - t0);
        }
        pthread_mutex_lock(&s->mu);
        s->im = NULL;
        s->busy = 0;
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int snapshotter_start(snapshotter **out, const char *dir, int archive, size_t recycle_bytes, double stall,
                      writeback_pace *pace, int quiet, metrics *m, char *err, size_t err_len)
{
    snapshotter *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    s->archive = archive;
    s->recycle_bytes = recycle_bytes;
    s->stall = stall;
    s->window_fd = -1;
    s->pace = pace;
    s->quiet = quiet;
    s->m = m;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (pthread_create(&s->th, NULL, main_loop, s) != 0) {
        snprintf(err, err_len, "cannot start the snapshot thread");
        free(s);
        return -1;
    }
    *out = s;
    return 0;
}

void snapshotter_wait(snapshotter *s)
{
    pthread_mutex_lock(&s->mu);
    while (s->busy)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

int snapshotter_busy(snapshotter *s)
{
    pthread_mutex_lock(&s->mu);
    int b = s->busy;
    pthread_mutex_unlock(&s->mu);
    return b;
}

void snapshotter_submit(snapshotter *s, state_image *im, uint64_t lsn, uint64_t keep)
{
    pthread_mutex_lock(&s->mu);
    while (s->busy)
        pthread_cond_wait(&s->cv, &s->mu);
    s->im = im;
    s->lsn = lsn;
    s->keep = keep;
    s->busy = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void snapshotter_prepare(snapshotter *s, size_t len)
{
    pthread_mutex_lock(&s->mu);
    if (!s->busy && !s->prepare && !s->ready) {
        s->prepare = len;
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
}

size_t snapshotter_take_buffer(snapshotter *s, void **buf)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->busy ? 0 : s->ready_len;
    *buf = n ? s->ready : NULL;
    if (n) {
        s->ready = NULL;
        s->ready_len = 0;
    }
    pthread_mutex_unlock(&s->mu);
    return n;
}

void snapshotter_hurry(snapshotter *s)
{
    atomic_store_explicit(&s->hurry, 1, memory_order_relaxed);
}

void snapshotter_stop(snapshotter *s)
{
    if (!s)
        return;
    snapshotter_hurry(s);
    snapshotter_wait(s);
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->th, NULL);
    reap_left(s); /* those still in the kernel: zombies until this process exits */
    free(s->ready);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->left);
    free(s);
}
