/* engine.c - recovery, the writer thread, its job queue, group commit of
 * answers and snapshot scheduling (engine.h). */
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "applier.h"
#include "clock.h"
#include "records.h"
#include "snapshotter.h"
#include "state.h"

#define MARKS 256 /* log marks kept: they span twice --window-log-bytes */

struct engine {
    serve_config c;
    metrics *m;
    state s;
    wal *w;
    snapshotter *snap;
    writeback_pace pace;     /* --background-write-rate: the log's zeros and the snapshots together */
    applier *ap;             /* NULL: the writer runs the rewards' updates */
    int lock_fd;
    /* the queue (mu) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *head, *tail;
    size_t depth;
    int stopping;
    int running;             /* a thread holds the state: the writer, or a request's own (engine_run) */
    int inline_job;          /* ... a request's own: small updates run there when the applier is idle */
    int broken;              /* the log or the policy failed: no more writes */
    char broken_msg[512];
    pthread_t writer;
    int writer_started;
    /* the running thread's: scratch for a request's users (ids, lens, slots)
     * or rewards (slots: users, xs: chosen contexts, ys) */
    const char **ids;
    size_t *lens;
    uint64_t *slots;
    const double **xs;
    double *ys;
    size_t scratch_cap;
    uint64_t snap_lsn, snap_wal_bytes, rewards_since;
    double snap_time;
    double due_since;        /* when the pending snapshot fell due, 0: none */
    int await_applier;       /* it waits for the applier's queue to empty, or for its buffer */
    int counted;             /* policy_counted is set: the policy's size, counted for the */
    size_t policy_counted;   /* first snapshot (snapshot_way) */
    double buffer_asked;     /* when snapshot_way asked for a capture buffer, 0: not waiting */
    double work_since;       /* seconds spent in run_batch since the last snapshot */
    double snap_pause;       /* the last snapshot's pause of the writer, seconds */
    unsigned fork_failed;    /* snapshots captured in the writer because fork failed */
    /* where the log stood, every --window-log-bytes / 128 of it: which
     * decisions a snapshot can leave to the log (window_ref) */
    struct { uint64_t lsn, bytes, next_seq; } marks[MARKS];
    size_t marks_n, marks_at; /* held; the oldest's index */
};

static uint64_t unix_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static void note(const engine *e, const char *fmt, const char *a)
{
    if (!e->c.quiet)
        fprintf(stderr, fmt, a);
}

static void job_error(job *j, unsigned status, const char *code, const char *msg)
{
    j->status = status;
    j->err_code = code;
    snprintf(j->err_msg, sizeof j->err_msg, "%s", msg);
}

/* ---- the state folder ---------------------------------------------------------- */

static int make_dirs(const char *path, char *err, size_t err_len)
{
    char p[SERVE_PATH_LEN];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            if (mkdir(p, 0755) != 0 && errno != EEXIST)
                goto fail;
            *s = '/';
        }
    if (mkdir(p, 0755) != 0 && errno != EEXIST)
        goto fail;
    return 0;
fail:
    snprintf(err, err_len, "--state %s: cannot create %s: %s", path, p, strerror(errno));
    return -1;
}

/* One server per folder: the folder itself is locked (flock on its
 * descriptor), so that no file inside it, removed or replaced, can let a
 * second server in (a lock file could be deleted under a running server). */
static int lock_dir(engine *e, char *err, size_t err_len)
{
    e->lock_fd = open(e->c.state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (e->lock_fd < 0) {
        snprintf(err, err_len, "--state %s: cannot open the folder: %s", e->c.state_dir, strerror(errno));
        return -1;
    }
    if (flock(e->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(err, err_len, "--state %s: %s", e->c.state_dir,
                 errno == EWOULDBLOCK ? "another colb serve is using this folder" : strerror(errno));
        close(e->lock_fd);
        e->lock_fd = -1;
        return -1;
    }
    return 0;
}

/* ---- recovery ------------------------------------------------------------------ */

typedef struct replay {
    state *s;
    uint64_t records;
} replay;

static int visit_apply(void *ctx, uint64_t lsn, uint32_t type, const unsigned char *p, size_t n, char *err,
                       size_t err_len)
{
    replay *r = ctx;
    if (type == WAL_LOST) { /* records of them lost, skipped by --repair-log (wal.h) */
        state_fill_lost(r->s);
        return 0;
    }
    if (r->s->fill.lsn) { /* decisions the snapshot left to the log, then the records after it */
        if (lsn <= r->s->lsn)
            return state_fill(r->s, lsn, type, p, n, err, err_len);
        if (state_fill_done(r->s, err, err_len))
            return -1;
    }
    r->records++;
    return state_apply(r->s, lsn, type, p, n, err, err_len);
}

typedef struct sync_wait {
    wal_waiter w;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, ok;
} sync_wait;

static void sync_done(wal_waiter *w, int ok)
{
    sync_wait *s = (sync_wait *)w;
    pthread_mutex_lock(&s->mu);
    s->done = 1;
    s->ok = ok;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Write the pending records and wait until they are durable. */
static int write_durably(engine *e, char *err, size_t err_len)
{
    uint64_t pos;
    if (wal_write(e->w, &pos, err, err_len))
        return -1;
    sync_wait s = { .w.done = sync_done };
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.cv, NULL);
    wal_await(e->w, &s.w, pos);
    pthread_mutex_lock(&s.mu);
    while (!s.done)
        pthread_cond_wait(&s.cv, &s.mu);
    pthread_mutex_unlock(&s.mu);
    pthread_mutex_destroy(&s.mu);
    pthread_cond_destroy(&s.cv);
    if (!s.ok)
        wal_failed(e->w, err, err_len);
    return s.ok ? 0 : -1;
}

static int write_snapshot_now(engine *e, const decisions_ref *ref, char *err, size_t err_len)
{
    state_image *im = state_capture(&e->s, 1, 0, ref, err, err_len); /* the writer is not running */
    size_t len;
    int rc = im ? snapshot_write(e->c.state_dir, im, &len, err, err_len) : -1;
    state_image_free(im);
    return rc;
}

/* ---- the decisions a snapshot leaves to the log -------------------------------- */

/* Mark where the log stands (after the writer wrote its records), every
 * --window-log-bytes / 128 bytes of it. */
static void mark_log(engine *e, int force)
{
    uint64_t bytes = atomic_load_explicit(&e->m->wal_bytes, memory_order_relaxed);
    size_t step = e->c.window_log_bytes / 128 > 65536 ? e->c.window_log_bytes / 128 : 65536;
    if (!e->c.window_log_bytes)
        return;
    if (e->marks_n) {
        size_t newest = (e->marks_at + e->marks_n - 1) % MARKS;
        if (!force && bytes - e->marks[newest].bytes < step)
            return;
    }
    size_t i = (e->marks_at + e->marks_n) % MARKS;
    if (e->marks_n == MARKS)
        e->marks_at = (e->marks_at + 1) % MARKS;
    else
        e->marks_n++;
    e->marks[i].lsn = e->s.lsn;
    e->marks[i].bytes = bytes;
    e->marks[i].next_seq = e->s.next_seq;
}

/* The decisions the next snapshot leaves to the log: those made since the
 * oldest mark within --window-log-bytes of the log's end (all in this
 * generation: marks start after its START record). 0 if none. */
static int window_ref(const engine *e, decisions_ref *ref)
{
    uint64_t bytes = atomic_load_explicit(&e->m->wal_bytes, memory_order_relaxed);
    memset(ref, 0, sizeof *ref);
    for (size_t k = 0; k < e->marks_n; k++) {
        size_t i = (e->marks_at + k) % MARKS;
        if (bytes - e->marks[i].bytes > e->c.window_log_bytes)
            continue;
        if (e->marks[i].next_seq == e->s.next_seq || e->marks[i].lsn >= e->s.lsn)
            return 0;
        ref->lsn = e->marks[i].lsn + 1;
        ref->seq_from = e->marks[i].next_seq;
        ref->next_seq = e->s.next_seq;
        ref->gen = e->s.gen;
        return 1;
    }
    return 0;
}

/* ---- recovery ------------------------------------------------------------------ */

/* The first log record after the snapshot (load_window). */
typedef struct first_record {
    int seen;
    uint32_t type;
    uint64_t window;         /* a START record's */
} first_record;

static int visit_first(void *ctx, uint64_t lsn, uint32_t type, const unsigned char *p, size_t n, char *err,
                       size_t err_len)
{
    (void)lsn;
    first_record *f = ctx;
    rec_start r;
    f->seen = 1;
    f->type = type;
    if (type == REC_START && rec_start_get(p, n, &r) == 0)
        f->window = r.window;
    snprintf(err, err_len, "seen");
    return -1; /* that one is enough */
}

/* The decision window the state needs right after its snapshot (at lsn,
 * with a window of `stored`: state_window_fn), from the log after it, read
 * without changing anything (the replay repairs it). No record: this
 * start's --decision-window, which state_start then sets. A START record
 * first (a start that took no snapshot before it ended): that generation's
 * window, which it resized the snapshot's to. Anything else, or a log the
 * replay will have to repair or refuse: the stored one, since the records
 * after the snapshot are of its generation and their replay needs the
 * window they were made with (a reward for a decision the window held
 * then must find it). So a resume with a smaller window after a SIGTERM
 * never allocates the larger one. */
static size_t load_window(void *ctx, uint64_t lsn, size_t stored)
{
    const engine *e = ctx;
    first_record f = { 0, 0, 0 };
    uint64_t last;
    char err[4400];
    int rc = wal_read(e->c.state_dir, lsn, lsn, 0, visit_first, &f, &last, NULL, 0, err, sizeof err);
    if (!f.seen)
        return rc == 0 ? e->c.decision_window : stored;
    if (f.type == REC_START && f.window > 0 && f.window <= DECISIONS_WINDOW_MAX)
        return (size_t)f.window;
    return stored;
}

static int recover(engine *e, char *err, size_t err_len)
{
    serve_config *c = &e->c;
    char path[SERVE_PATH_LEN + 32];
    snprintf(path, sizeof path, "%s/snapshot.colb", c->state_dir);
    int have_snap = access(path, F_OK) == 0, have_log = wal_exists(c->state_dir);
    if (have_log < 0) {
        snprintf(err, err_len, "--state %s: cannot list the folder", c->state_dir);
        return -1;
    }
    if (!have_snap && have_log) {
        snprintf(err, err_len, "--state %s has log segments but no snapshot.colb: not a state colb serve "
                 "can resume (docs/serve.md, \"Restart\")", c->state_dir);
        return -1;
    }
    if (!have_snap) {
        if (!serve_config_given(c, "dim")) {
            snprintf(err, err_len, "--state %s is new: give the policy's context dimension with --dim d",
                     c->state_dir);
            return -2;
        }
        if (state_init(&e->s, c, err, err_len) || write_snapshot_now(e, NULL, err, err_len))
            return -1;
        note(e, "colb serve: new state in %s\n", c->state_dir);
    }
    double t_load = now_s(), t_replay = t_load;
    if (have_snap) {
        int rc = state_load(&e->s, c->state_dir, c, load_window, e, err, err_len);
        if (rc)
            return rc;
        /* the log is replayed on this kernel path: on another one than the
         * state's, the updates may round differently than they did live
         * (docs/serve.md, "Moving a state"); a move is no reason to refuse */
        const char *kernel = colb_kernel_path();
        if (e->s.kernel[0] && kernel && strcmp(e->s.kernel, kernel)) {
            char msg[160];
            snprintf(msg, sizeof msg, "colb serve: state written with kernel %s, running %s: replayed updates may "
                     "differ in the last bits\n", e->s.kernel, kernel);
            note(e, "%s", msg);
        }
        t_replay = now_s();
    }
    replay r = { &e->s, 0 };
    uint64_t last;
    char torn[4400];
    uint64_t from = e->s.lsn, refilled = e->s.fill.lsn ? e->s.fill.next_seq - e->s.fill.seq_from : 0;
    if (wal_read(c->state_dir, e->s.fill.lsn ? e->s.fill.lsn - 1 : e->s.lsn, e->s.lsn,
                 WAL_REPAIR | (c->repair_log ? WAL_CUT_GAP : 0), visit_apply, &r, &last, torn, sizeof torn, err,
                 err_len) ||
        (e->s.fill.lsn && state_fill_done(&e->s, err, err_len)))
        return -1;
    if (last < from)
        last = from; /* the log read from before the snapshot: its end is at least the snapshot's */
    for (char *line = torn, *nl; torn[0] && line; line = nl ? nl + 1 : NULL) { /* a line each */
        nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        note(e, "colb serve: %s\n", line);
    }
    if (e->s.lost_stretches && !c->quiet)
        fprintf(stderr, "colb serve: --repair-log 1: of the decisions the snapshot left to the log, %llu were lost "
                "with the damaged records (a reward for one answers 409 expired_decision), and %llu rewards for "
                "them logged after the snapshot were not applied; a snapshot is taken now\n",
                (unsigned long long)e->s.lost_decisions, (unsigned long long)e->s.lost_rewards);
    if (have_snap && !c->quiet)
        fprintf(stderr, "colb serve: resumed %s: snapshot at lsn %llu (loaded in %.3f s), %llu decisions read "
                "back from the log and %llu log records replayed in %.3f s; %zu users, %llu decisions, %llu "
                "rewards\n", c->state_dir, (unsigned long long)from, t_replay - t_load,
                (unsigned long long)(refilled - e->s.lost_decisions), (unsigned long long)r.records, now_s() - t_replay,
                users_count(e->s.users), (unsigned long long)e->s.decisions, (unsigned long long)e->s.rewards);
    if (e->s.arm_mismatches && !c->quiet)
        fprintf(stderr, "colb serve: %llu replayed choices differ from the logged arms (floating point on "
                "another machine?); the logged arms were kept\n", (unsigned long long)e->s.arm_mismatches);
    /* a new generation: its START record, durable before anything is served */
    uint32_t gen = e->s.gen + 1;
    if (wal_open(&e->w, c->state_dir, last + 1, c->commit_wait_us, c->commit_interval_us, c->wal_segment_bytes,
                 &e->pace, e->m, err, err_len))
        return -1;
    if (state_start(&e->s, gen, c->decision_window)) {
        snprintf(err, err_len, "out of memory for a window of %zu decisions", c->decision_window);
        return -1;
    }
    unsigned char *p = wal_reserve(e->w, REC_START, rec_start_size());
    if (!p) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    rec_start st = { gen, c->decision_window, unix_ms() };
    rec_start_put(p, &st);
    wal_commit(e->w);
    e->s.lsn = wal_last_lsn(e->w);
    if (write_durably(e, err, err_len))
        return -1;
    wal_unpace(e->w); /* the first reward is not paced after the start's commit */
    /* after records lost by --repair-log, a snapshot at once: the next
     * start needs neither them nor --repair-log */
    if (e->s.lost_stretches) {
        if (write_snapshot_now(e, NULL, err, err_len))
            return -1;
        from = e->s.lsn;
    }
    e->snap_lsn = from;
    atomic_store_explicit(&e->m->snapshot_lsn, from, memory_order_relaxed); /* the snapshot loaded (or taken) */
    e->snap_time = now_s();
    mark_log(e, 1);
    if (e->s.fenced) {
        e->broken = 1;
        snprintf(e->broken_msg, sizeof e->broken_msg, "%s", e->s.fence_msg);
    }
    return 0;
}

/* ---- the writer ------------------------------------------------------------------- */

/* The writer's scratch arrays for requests of up to n users or rewards
 * (on failure some may have grown: harmless, the capacity stays). */
static int grow(engine *e, size_t n)
{
#define GROW(f)                                                                                     \
    do {                                                                                            \
        void *t = realloc((void *)e->f, n * sizeof *e->f);                                          \
        if (!t)                                                                                     \
            return -1;                                                                              \
        e->f = t;                                                                                   \
    } while (0)
    if (n <= e->scratch_cap)
        return 0;
    GROW(ids);
    GROW(lens);
    GROW(slots);
    GROW(xs);
    GROW(ys);
#undef GROW
    e->scratch_cap = n;
    return 0;
}

/* Refuse writes from now on; said once on stderr (a failed log fails
 * every batch after it again). */
static void set_broken(engine *e, const char *msg)
{
    pthread_mutex_lock(&e->mu);
    int first = !e->broken;
    if (first) { /* the first message, cut to fit */
        size_t n = strnlen(msg, sizeof e->broken_msg - 1);
        memcpy(e->broken_msg, msg, n);
        e->broken_msg[n] = '\0';
    }
    e->broken = 1;
    pthread_mutex_unlock(&e->mu);
    if (first)
        note(e, "colb serve: %s; writes are refused from now on\n", msg);
}

static void apply_failed(void *ctx, const char *msg) { set_broken(ctx, msg); }

/* Wait until the applier has run every queued update: from then on the
 * writer holds the policy alone and it has every logged reward. */
static void drain(engine *e)
{
    char why[256];
    if (e->ap && applier_drain(e->ap, why, sizeof why))
        state_fence(&e->s, why); /* set_broken was called by the applier */
}

static void do_choose(engine *e, job *j)
{
    state *s = &e->s;
    drain(e);
    const choose_req *q = &j->choose;
    size_t total = q->n_decisions, id_bytes = 0, k = 0;
    if (grow(e, total))
        return job_error(j, 503, "out_of_memory", "out of memory");
    for (size_t r = 0; r < q->n_rounds; r++)
        for (size_t i = 0; i < q->rounds[r].n_users; i++, k++) {
            e->ids[k] = q->rounds[r].users[i];
            e->lens[k] = q->rounds[r].user_len[i];
            id_bytes += e->lens[k];
        }
    /* Every round's memory budget first: begin_round refuses a K beyond it
     * (with the policy's users, under --max-memory), so a request refused
     * for it must not have added (and logged, and counted) its new users or
     * run its earlier rounds before. The policy cannot take users back, so
     * the check comes before any change, not a rollback after: here for the
     * users known, in state_add_users for the new ones with them; a replay
     * then meets only what the live service did. */
    size_t K_max = 0;
    char why[512];
    for (size_t r = 0; r < q->n_rounds; r++)
        K_max = q->rounds[r].K > K_max ? q->rounds[r].K : K_max;
    if (state_round_check(s, K_max, why, sizeof why))
        return job_error(j, 507, "out_of_memory", why);
    /* room for the USERS record first (an upper bound): nothing may change
     * that cannot be logged */
    unsigned char *p = wal_reserve(e->w, REC_USERS, rec_users_size(total, id_bytes));
    if (!p)
        return job_error(j, 503, "out_of_memory", "out of memory");
    size_t first, added;
    if (state_add_users(s, e->ids, e->lens, total, e->c.max_users, K_max, e->slots, &first, &added, why,
                        sizeof why)) {
        wal_cancel(e->w);
        return job_error(j, 507, "user_limit", why);
    }
    if (added) {
        unsigned char *q2 = rec_users_put(p, first, added);
        for (size_t u = first; u < first + added; u++) {
            size_t len;
            const char *id = users_id(s->users, u, &len);
            q2 = rec_users_put_id(q2, id, len);
        }
        wal_commit_len(e->w, (size_t)(q2 - p));
        s->lsn = wal_last_lsn(e->w);
        atomic_store_explicit(&e->m->users, users_count(s->users), memory_order_relaxed);
    } else {
        wal_cancel(e->w);
    }
    size_t off = 0;
    for (size_t r = 0; r < q->n_rounds; r++) {
        const choose_round *rd = &q->rounds[r];
        const uint64_t *slots = e->slots + off; /* from state_add_users */
        p = wal_reserve(e->w, REC_CHOOSE, rec_choose_size(rd->n_users, rd->K, s->d));
        if (!p)
            return job_error(j, 503, "out_of_memory", "out of memory");
        decision_id id;
        int code;
        int rc = state_choose(s, rd->K, rd->X, rd->n_users, slots, j->arms + off, NULL, 0, &id, &code, why,
                              sizeof why);
        if (rc < 0) {
            wal_cancel(e->w);
            return job_error(j, (unsigned)code, code == STATE_FULL ? "out_of_memory" : "policy_failed", why);
        }
        /* the chosen contexts alone (--compact-choose) when the policy's
         * choices leave no state and they are fewer than the round's: a
         * replay runs the round
         * without its choices (state.c apply_choose). Not when the round
         * failed: a replay must fail at the same user. */
        if (rc == 0 && e->c.compact_choose && rd->n_users < rd->K && colb_policy_choices_leave_no_state(s->p)) {
            rec_chosen_put(p, id, rd->K, s->d, rd->X, rd->n_users, slots, j->arms + off);
            wal_commit_as(e->w, REC_CHOSEN, rec_chosen_size(rd->n_users, s->d));
        } else {
            rec_choose_put(p, id, rd->K, s->d, rd->X, rd->n_users, slots, j->arms + off);
            wal_commit(e->w);
        }
        s->lsn = wal_last_lsn(e->w);
        for (size_t i = 0; i < rd->n_users; i++) {
            j->ids[off + i] = id;
            j->ids[off + i].seq += i;
        }
        off += rd->n_users;
        atomic_fetch_add_explicit(&e->m->decisions, rd->n_users, memory_order_relaxed);
        if (rc > 0) {
            set_broken(e, s->fence_msg);
            return job_error(j, 500, "policy_failed", s->fence_msg);
        }
    }
    j->wait_durable = e->c.sync_decisions;
}

/* Check and log a reward request's items; their updates run here, or in
 * the applier after the writer has logged them (applier.h). */
static void do_reward(engine *e, job *j)
{
    state *s = &e->s;
    const reward_req *q = &j->reward;
    if (e->ap && grow(e, q->n))
        return job_error(j, 503, "out_of_memory", "out of memory");
    unsigned char *p = wal_reserve(e->w, REC_REWARD, rec_reward_size(q->n));
    if (!p)
        return job_error(j, 503, "out_of_memory", "out of memory");
    unsigned char *w = rec_reward_put(p, 0);
    size_t count = 0;
    int fenced = 0;
    for (size_t i = 0; i < q->n; i++) {
        if (s->fenced) {
            job_error(j, 500, "policy_failed", s->fence_msg);
            break;
        }
        dec_status ds;
        if (e->ap) {
            ds = state_accept_reward(s, q->items[i].id, e->slots + count, e->xs + count);
            e->ys[count] = q->items[i].y;
        } else {
            ds = state_reward(s, q->items[i].id, q->items[i].y, &fenced);
        }
        j->item_status[i] = (unsigned char)ds;
        if (ds == DEC_PENDING) {
            w = rec_reward_put_item(w, q->items[i].id, q->items[i].y);
            count++;
        } else {
            _Atomic uint64_t *c = ds == DEC_UNKNOWN ? &e->m->conflicts_unknown
                                  : ds == DEC_EXPIRED ? &e->m->conflicts_expired : &e->m->conflicts_rewarded;
            atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
        }
    }
    if (count) {
        rec_reward_put(p, count);
        wal_commit_len(e->w, rec_reward_size(count));
        s->lsn = wal_last_lsn(e->w);
        e->rewards_since += count;
        atomic_fetch_add_explicit(&e->m->rewards, count, memory_order_relaxed);
        /* the window's contexts stay put until the next choose, which drains first */
        if (e->ap && e->inline_job)
            atomic_fetch_add_explicit(&e->m->inline_updates,
                                      applier_run_or_push(e->ap, count, e->slots, e->xs, e->ys), memory_order_relaxed);
        else if (e->ap)
            applier_push(e->ap, count, e->slots, e->xs, e->ys);
    } else {
        wal_cancel(e->w);
    }
    if (fenced)
        set_broken(e, s->fence_msg);
    /* answered once durable: also a refusal as "rewarded already", whose
     * reward may still be on its way to the disk */
    j->wait_durable = 1;
}

static void on_durable(wal_waiter *w, int ok)
{
    job *j = (job *)((char *)w - offsetof(job, waiter));
    if (!ok)
        job_error(j, 503, "log_failed", "the log could not be written; the request is not durable (see /healthz)");
    j->done(j);
}

static void run_batch(engine *e, job *batch)
{
    pthread_mutex_lock(&e->mu);
    int broken = e->broken;
    pthread_mutex_unlock(&e->mu);
    for (job *j = batch; j; j = j->next) {
        j->status = 0;
        j->wait_durable = 0;
        switch (j->kind) {
        case JOB_CHOOSE:
        case JOB_REWARD:
            if (broken || e->s.fenced) {
                pthread_mutex_lock(&e->mu);
                job_error(j, 503, "unavailable", e->broken_msg);
                pthread_mutex_unlock(&e->mu);
            } else if (j->kind == JOB_CHOOSE) {
                do_choose(e, j);
            } else {
                do_reward(e, j);
            }
            break;
        case JOB_STATS: {
            drain(e);
            pthread_mutex_lock(&e->mu);
            int refusing = e->broken; /* as /healthz has it */
            pthread_mutex_unlock(&e->mu);
            j->body = state_stats_json(&e->s, refusing, &j->body_len);
            if (!j->body)
                job_error(j, 503, "out_of_memory", "out of memory");
            break;
        }
        case JOB_USER: {
            drain(e);
            int code = state_user_json(&e->s, j->user, j->user_len, &j->body, &j->body_len);
            if (code == 404)
                job_error(j, 404, "unknown_user", "no such user");
            else if (code != 200)
                job_error(j, 503, "out_of_memory", "out of memory");
            break;
        }
        }
        broken |= e->s.fenced;
    }
    uint64_t pos = 0;
    char err[512];
    if (wal_write(e->w, &pos, err, sizeof err) != 0) {
        set_broken(e, err);
        for (job *j = batch; j; j = j->next)
            if (j->kind == JOB_CHOOSE || j->kind == JOB_REWARD)
                job_error(j, 503, "log_failed", err);
    }
    atomic_fetch_add_explicit(&e->m->writer_batches, 1, memory_order_relaxed);
    for (job *j = batch, *next; j; j = next) {
        next = j->next; /* done() may free j */
        if (j->status == 0 && j->wait_durable) {
            if (j->park)
                j->park(j);
            j->waiter.done = on_durable;
            wal_await(e->w, &j->waiter, pos);
        } else {
            j->done(j);
        }
    }
}

/* How this snapshot freezes the state: 1, a fork()ed child; 0, a capture
 * into the state's buffer; -1, not yet: the buffer is being prepared.
 * --snapshot-fork 1 always forks. Otherwise the capture's buffer must
 * hold the policy with its pages in place - the save's first touch of a
 * new one cost 116-190 ms at 46 MB, with chooses waiting - so when the
 * policy outgrew it (or there is none yet), the snapshot thread allocates
 * and touches one meanwhile (snapshotter_prepare) and the snapshot waits
 * for it (5 s at most); one forced (a stop) does not wait, and the save
 * grows the buffer. The policy's size: its part of the last snapshot
 * this server wrote (what a capture copies: the window is shared, however
 * many pending contexts the snapshot then writes), else (none yet) counted
 * (colb_policy_save_buffer's size query: 0.2 ms at 44 MB, no pass over
 * the state), with the policy drained. Under auto a policy of
 * SNAPSHOT_FORK_MIN_BYTES or more forks. */
static int snapshot_way(engine *e, int force)
{
    state *s = &e->s;
    if (SNAPSHOTTER_CAN_FORK && e->c.snapshot_fork == 1)
        return 1;
    if (!s->p)
        return 0;
    void *ready;
    size_t ready_len = snapshotter_take_buffer(e->snap, &ready);
    if (ready_len)
        state_adopt_buffer(s, ready, ready_len);
    size_t need = (size_t)atomic_load_explicit(&e->m->snapshot_policy_bytes, memory_order_relaxed);
    if (need == 0) {
        if (!e->counted) {
            char msg[256];
            drain(e);
            if (colb_policy_save_buffer(s->p, NULL, 0, &e->policy_counted, msg, sizeof msg) != COLB_ERANGE)
                e->policy_counted = 0; /* the save itself will say what is wrong */
            e->counted = 1;
        }
        need = e->policy_counted;
    }
    if (SNAPSHOTTER_CAN_FORK && e->c.snapshot_fork == SNAPSHOT_FORK_AUTO && (double)need >= SNAPSHOT_FORK_MIN_BYTES)
        return 1;
    /* waited 5 s (the thread found no memory for it, say): the save
     * grows the buffer it has, or says why it cannot */
    double now = now_s();
    if (need <= s->policy_cap || force || (e->buffer_asked > 0 && now - e->buffer_asked >= 5.0)) {
        e->buffer_asked = 0;
        return 0;
    }
    if (e->buffer_asked == 0)
        e->buffer_asked = now;
    snapshotter_prepare(e->snap, state_buffer_size(need));
    return -1;
}

/* The applier's call for a deferred capture (state_image_save_policy). */
static void save_policy_call(void *im, colb_policy *p, int failed)
{
    (void)p; /* the state's, which the capture names */
    state_image_save_policy(im, failed);
}

/* Whether a snapshot falls due (the log has grown since the last one). */
static int snapshot_due(const engine *e, uint64_t bytes, double now)
{
    /* --snapshot-replay: a restart replays the log since the last
     * snapshot, and replaying a record costs at most what applying it
     * cost the writer (no parsing, no answer, a choose not scored again),
     * so the writer's work since then bounds the replay; the spacing keeps
     * snapshot pauses under a tenth of the writer's time */
    int costly = e->c.snapshot_replay > 0 && e->work_since >= e->c.snapshot_replay &&
                 now - e->snap_time >= 10 * e->snap_pause;
    return costly || e->rewards_since >= e->c.snapshot_every || bytes - e->snap_wal_bytes >= e->c.snapshot_log_bytes ||
           now - e->snap_time >= (double)e->c.snapshot_interval;
}

/* The log sequence number the snapshot being written covers, else the
 * last one written: a snapshot that failed covers nothing, so the state
 * stays newer than the last snapshot - the next one retries it, and
 * engine_stop takes it. (The snapshotter stores the metric before it
 * ceases to be busy.) */
static uint64_t snapshot_covers(engine *e)
{
    return snapshotter_busy(e->snap) ? e->snap_lsn : atomic_load_explicit(&e->m->snapshot_lsn, memory_order_relaxed);
}

static void maybe_snapshot(engine *e, int force)
{
    state *s = &e->s;
    uint64_t bytes = atomic_load_explicit(&e->m->wal_bytes, memory_order_relaxed);
    double now = now_s();
    if (s->lsn == snapshot_covers(e))
        return;
    if (!force) {
        if (!snapshot_due(e, bytes, now))
            return;
        /* the capture waits for the rewards' queued updates: wait instead
         * for a moment the queue is empty, up to a second */
        if (!e->due_since)
            e->due_since = now;
        e->await_applier = atomic_load_explicit(&e->m->apply_depth, memory_order_relaxed) &&
                           now - e->due_since < 1.0;
        if (e->await_applier)
            return;
    }
    if (snapshotter_busy(e->snap)) /* one at a time: the capture reuses the last one's policy buffer */
        return;
    /* a child that holds the state as it is (docs/serve.md, "Snapshots"),
     * else a capture, once its buffer is ready (looked for every
     * millisecond, as for the applier) */
    int way = snapshot_way(e, force);
    e->await_applier = way < 0;
    if (e->await_applier)
        return;
    e->due_since = 0;
    char err[SERVE_ERR_LEN];
    e->snap_time = now;
    decisions_ref ref;
    int has_ref = window_ref(e, &ref);
    /* a child needs the queued updates run first, a capture leaves the
     * policy to the applier, after them (below) */
    int fork_it = way, deferred = 0;
    if (fork_it || !e->ap)
        drain(e);
    state_image *im = fork_it ? state_capture(s, 1, 0, &ref, err, sizeof err) : NULL;
    if (im && snapshotter_fork(e->snap, im) != 0) {
        if (!e->fork_failed++)
            note(e, "colb serve: snapshot: fork: %s; capturing in the writer instead\n", strerror(errno));
        state_image_free(im);
        im = NULL;
    }
    if (!im) {
        deferred = e->ap != NULL;
        if (!(im = state_capture(s, 0, deferred, &ref, err, sizeof err))) {
            atomic_fetch_add_explicit(&e->m->snapshot_failures, 1, memory_order_relaxed);
            note(e, "colb serve: snapshot: %s\n", err);
            return;
        }
    }
    if (wal_rotation_useful(e->w) && wal_rotate(e->w, err, sizeof err)) {
        snapshotter_cancel(e->snap); /* a child, if any */
        state_image_free(im);
        if (wal_failed(e->w, NULL, 0)) {
            set_broken(e, err);
            return;
        }
        /* no new segment (a full disk, a read-only folder): the log goes on
         * in its current one, untouched, and the snapshot is retried later,
         * as one that fails to write (after the same spacing) */
        e->work_since = 0;
        e->rewards_since = 0;
        e->snap_wal_bytes = bytes;
        atomic_fetch_add_explicit(&e->m->snapshot_failures, 1, memory_order_relaxed);
        note(e, "colb serve: snapshot: %s; retried later (the log keeps everything)\n", err);
        return;
    }
    e->snap_pause = now_s() - now;
    metrics_observe(&e->m->snapshot_pause, e->snap_pause);
    e->work_since = 0;
    if (deferred) /* the applier saves the policy as the log up to here left it */
        applier_push_call(e->ap, save_policy_call, im);
    /* the log is kept from the records that make the decisions left to it */
    snapshotter_submit(e->snap, im, s->lsn, has_ref ? ref.lsn : wal_segment_start(e->w));
    if (!has_ref) {
        /* no decision since any mark in the window: this snapshot holds
         * them all and keeps no log before it, so those marks would point
         * into dropped segments once a decision is made; the window starts
         * again here */
        e->marks_n = 0;
        mark_log(e, 1);
    }
    e->snap_lsn = s->lsn;
    e->rewards_since = 0;
    e->snap_wal_bytes = bytes;
}

/* Run a batch (the caller holds the state: e->running) and what follows
 * each batch. */
static void run_held(engine *e, job *batch)
{
    double t0 = now_s();
    run_batch(e, batch);
    e->work_since += now_s() - t0;
    if (e->ap)
        e->work_since += applier_take_work(e->ap);
    mark_log(e, 0);
}

/* Give the state back (e->mu held). The writer is woken when there is
 * something for it: queued jobs, a stop, a snapshot that waits for the
 * applier (it looks again every millisecond). */
static void release_held(engine *e)
{
    e->running = 0;
    if (e->head || e->stopping || e->await_applier)
        pthread_cond_signal(&e->cv);
}

static void *writer_main(void *arg)
{
    engine *e = arg;
    prctl(PR_SET_NAME, "colb-writer"); /* as ps and top show it */
    for (;;) {
        pthread_mutex_lock(&e->mu);
        if (e->running || (!e->head && !e->stopping)) {
            /* wake up to check the snapshot interval; while a snapshot is
             * due and waits for the applier to finish its queue (see
             * maybe_snapshot), every millisecond: taken as soon as the
             * applier is idle, it has nothing to drain, and the writer's
             * pause is the fork's alone (measured with cohort's 1,000-reward
             * batches: the drain had been 1-55 ms of a 10-64 ms pause) */
            struct timespec until = deadline_in(e->await_applier ? 0.001 : 1.0);
            pthread_cond_timedwait(&e->cv, &e->mu, &until);
        }
        if (e->running) { /* a request's thread holds the state; release_held wakes the writer */
            pthread_mutex_unlock(&e->mu);
            continue;
        }
        job *batch = e->head;
        e->head = e->tail = NULL;
        e->depth = 0;
        e->running = 1;
        int stop = e->stopping && !batch;
        pthread_mutex_unlock(&e->mu);
        atomic_store_explicit(&e->m->queue_depth, 0, memory_order_relaxed);
        if (batch)
            run_held(e, batch);
        if (stop) {
            drain(e);
            /* a snapshot child dies with this thread (PR_SET_PDEATHSIG):
             * let it finish, and its commit without the pace */
            snapshotter_hurry(e->snap);
            snapshotter_wait(e->snap);
            return NULL; /* holding the state: nothing runs after a stop */
        }
        pthread_mutex_lock(&e->mu);
        int broken = e->broken; /* set_broken's, from the applier too */
        pthread_mutex_unlock(&e->mu);
        if (!broken)
            maybe_snapshot(e, 0);
        pthread_mutex_lock(&e->mu);
        release_held(e);
        pthread_mutex_unlock(&e->mu);
    }
}

/* ---- the engine ------------------------------------------------------------------- */

void engine_free(engine *e)
{
    if (!e)
        return;
    if (e->writer_started)
        engine_stop(e);
    applier_stop(e->ap);
    if (e->w)
        wal_close(e->w);
    snapshotter_stop(e->snap);
    writeback_pace_destroy(&e->pace); /* neither bulk writer runs any more */
    if (e->s.users)
        state_free(&e->s);
    if (e->lock_fd >= 0)
        close(e->lock_fd);
    pthread_mutex_destroy(&e->mu);
    pthread_cond_destroy(&e->cv);
    free(e->ids);
    free(e->lens);
    free(e->slots);
    free(e->xs);
    free(e->ys);
    free(e);
}

int engine_open(engine **out, serve_config *c, metrics *m, char *err, size_t err_len)
{
    *out = NULL;
    engine *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    e->lock_fd = -1;
    e->m = m;
    pthread_mutex_init(&e->mu, NULL);
    cond_init_monotonic(&e->cv); /* timed waits: the writer's */
    writeback_pace_init(&e->pace, (double)c->background_write_rate);
    e->c = *c;
    int rc = 0;
    char snap[SERVE_PATH_LEN + 32];
    snprintf(snap, sizeof snap, "%s/snapshot.colb", c->state_dir);
    /* a new state: its options checked before anything is created; a folder
     * with log segments and no snapshot is not one (recover refuses it) */
    if (access(snap, F_OK) != 0 && wal_exists(c->state_dir) <= 0) {
        int bad = !serve_config_given(c, "dim");
        if (bad)
            snprintf(err, err_len, "--state %s is new: give the policy's context dimension with --dim d",
                     c->state_dir);
        if (bad || state_check_options(c, err, err_len)) {
            engine_free(e);
            return -2;
        }
    }
    int locked = !make_dirs(c->state_dir, err, err_len) && !lock_dir(e, err, err_len);
    if (locked)
        snapshot_remove_partial(c->state_dir);
    if (!locked || (rc = recover(e, err, err_len)) ||
        snapshotter_start(&e->snap, c->state_dir, c->archive_log, c->wal_segment_bytes, (double)c->snapshot_stall,
                          &e->pace, c->quiet, m, err, err_len)) {
        engine_free(e);
        return rc == -2 ? -2 : -1;
    }
    *c = e->c; /* the resumed policy options */
    if (!SNAPSHOTTER_CAN_FORK && c->snapshot_fork == 1)
        note(e, "colb serve: --snapshot-fork 1: %s\n",
             "this is an AddressSanitizer build, whose allocator a fork()ed child can deadlock on; snapshots are "
             "captured in the writer (serve/snapshotter.h)");
    atomic_store_explicit(&m->users, users_count(e->s.users), memory_order_relaxed);
    atomic_store_explicit(&m->decisions, e->s.decisions, memory_order_relaxed);
    atomic_store_explicit(&m->rewards, e->s.rewards, memory_order_relaxed);
    int cls = APPLIER_NORMAL;
    if (c->apply_queue &&
        applier_start(&e->ap, c->apply_queue, c->applier_class, e->s.d, &e->s.p, apply_failed, e,
                      &m->apply_depth, &m->idle_updates, &cls) != 0) {
        snprintf(err, err_len, "cannot start the applier thread (out of memory?)");
        engine_free(e);
        return -1;
    }
    if (c->apply_queue && cls != c->applier_class && c->applier_class == APPLIER_IDLE)
        note(e, "colb serve: --applier-class idle: %s\n",
             "this process may not leave SCHED_IDLE again (it needs CAP_SYS_NICE, or ulimit -e 20 or more): the "
             "applier stays in the default class");
    if (pthread_create(&e->writer, NULL, writer_main, e) != 0) {
        snprintf(err, err_len, "cannot start the writer thread");
        engine_free(e);
        return -1;
    }
    e->writer_started = 1;
    *out = e;
    return 0;
}

void engine_limits(const engine *e, codec_limits *lim)
{
    lim->dim = e->s.d;
    lim->max_contexts = e->c.max_contexts;
    lim->max_batch = e->c.max_batch;
    lim->max_id_bytes = e->c.max_id_bytes;
}

int engine_submit(engine *e, job *j)
{
    j->next = NULL;
    pthread_mutex_lock(&e->mu);
    if (e->stopping || e->depth >= e->c.max_queue) {
        int stopping = e->stopping;
        pthread_mutex_unlock(&e->mu);
        if (!stopping)
            atomic_fetch_add_explicit(&e->m->overloaded, 1, memory_order_relaxed);
        job_error(j, 503, stopping ? "stopping" : "overloaded",
                  stopping ? "the server is shutting down" : "too many requests are waiting (--max-queue); retry");
        return 503;
    }
    if (e->tail)
        e->tail->next = j;
    else
        e->head = j;
    e->tail = j;
    e->depth++;
    atomic_store_explicit(&e->m->queue_depth, e->depth, memory_order_relaxed);
    if (!e->running) /* else release_held wakes the writer when the holder lets go */
        pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
    return 0;
}

int engine_run(engine *e, job *j)
{
    /* not a job that would wait for the applier's queue (anything but a
     * reward): that wait is better spent by the writer than by a thread
     * whose other connections wait meanwhile */
    if (j->kind != JOB_REWARD && e->c.apply_queue && atomic_load_explicit(&e->m->apply_depth, memory_order_relaxed))
        return 0;
    pthread_mutex_lock(&e->mu);
    if (e->running || e->head || e->stopping) {
        pthread_mutex_unlock(&e->mu);
        return 0;
    }
    e->running = 1;
    pthread_mutex_unlock(&e->mu);
    j->next = NULL;
    e->inline_job = 1;
    run_held(e, j);
    e->inline_job = 0;
    atomic_fetch_add_explicit(&e->m->inline_jobs, 1, memory_order_relaxed);
    /* snapshots stay the writer's: a fork()ed child dies with the thread
     * that forked it (snapshotter.h), and the writer outlives the HTTP
     * threads */
    int due = !snapshotter_busy(e->snap) && e->s.lsn != snapshot_covers(e) &&
              snapshot_due(e, atomic_load_explicit(&e->m->wal_bytes, memory_order_relaxed), now_s());
    pthread_mutex_lock(&e->mu);
    release_held(e); /* what other threads queued meanwhile goes to the writer */
    if (due)
        pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
    return 1;
}

int engine_health(engine *e, char *why, size_t len)
{
    pthread_mutex_lock(&e->mu);
    int rc = e->broken || e->stopping ? -1 : 0;
    if (rc)
        snprintf(why, len, "%s", e->stopping ? "the server is shutting down" : e->broken_msg);
    pthread_mutex_unlock(&e->mu);
    return rc;
}

void engine_hurry(engine *e) { wal_hurry(e->w); }

int engine_stop(engine *e)
{
    pthread_mutex_lock(&e->mu);
    int already = e->stopping;
    e->stopping = 1;
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
    if (already)
        return 0;
    if (e->writer_started)
        pthread_join(e->writer, NULL);
    e->writer_started = 0;
    applier_stop(e->ap); /* drained by the writer as it stopped */
    e->ap = NULL;
    snapshotter_stop(e->snap); /* a background snapshot in progress finishes (or fails) first */
    e->snap = NULL;
    int rc = 0;
    /* newer than the last snapshot written: the last one may have failed */
    if (!e->broken && e->s.lsn != atomic_load_explicit(&e->m->snapshot_lsn, memory_order_relaxed)) {
        char err[SERVE_ERR_LEN];
        decisions_ref ref;
        int has_ref = window_ref(e, &ref);
        if (wal_rotate(e->w, err, sizeof err) || write_snapshot_now(e, &ref, err, sizeof err) ||
            wal_drop_segments(e->c.state_dir, has_ref ? ref.lsn : wal_segment_start(e->w), e->c.archive_log,
                              e->c.wal_segment_bytes, err, sizeof err)) {
            fprintf(stderr, "colb serve: final snapshot: %s (the log is kept)\n", err);
            rc = -1;
        } else if (!e->c.quiet) {
            fprintf(stderr, "colb serve: final snapshot at lsn %llu\n", (unsigned long long)e->s.lsn);
        }
    } else if (e->broken && !e->c.quiet) {
        /* the model may hold requests answered 503, which a snapshot would
         * keep (docs/serve.md, "Disk full"): the next start reads the log */
        fprintf(stderr, "colb serve: no final snapshot: the service was read-only (%s)\n", e->broken_msg);
    }
    wal_close(e->w);
    e->w = NULL;
    if (e->lock_fd >= 0)
        close(e->lock_fd);
    e->lock_fd = -1;
    return rc;
}

/* ---- --dump-log ----------------------------------------------------------------- */

typedef struct dumper {
    FILE *out;
    size_t d;
    double *X;
} dumper;

static void put_id(sbuf *b, decision_id id) { codec_put_decision(b, id); }

static int visit_dump(void *ctx, uint64_t lsn, uint32_t type, const unsigned char *p, size_t n, char *err,
                      size_t err_len)
{
    dumper *dp = ctx;
    sbuf b = { 0 };
    sbuf_printf(&b, "{\"lsn\":%llu,", (unsigned long long)lsn);
    int bad = 0;
    if (type == WAL_LOST) { /* p NULL, n records (WAL_SKIP_LOST) */
        sbuf_printf(&b, "\"type\":\"lost\",\"records\":%zu}", n);
    } else if (type == REC_START) {
        rec_start r;
        bad = rec_start_get(p, n, &r);
        if (!bad)
            sbuf_printf(&b, "\"type\":\"start\",\"generation\":%u,\"window\":%llu,\"unix_ms\":%llu}", (unsigned)r.gen,
                        (unsigned long long)r.window, (unsigned long long)r.unix_ms);
    } else if (type == REC_USERS) {
        rec_users r;
        bad = rec_users_get(p, n, &r);
        if (!bad) {
            sbuf_printf(&b, "\"type\":\"users\",\"first_slot\":%llu,\"ids\":[", (unsigned long long)r.first_slot);
            size_t pos = 0, len;
            for (size_t i = 0; i < r.n; i++) {
                const char *id = rec_users_id(&r, &pos, &len);
                if (i)
                    sbuf_put(&b, ",", 1);
                codec_put_string(&b, id, len);
            }
            sbuf_put(&b, "]}", 2);
        }
    } else if (type == REC_CHOOSE || type == REC_CHOSEN) {
        rec_choose r;
        bad = type == REC_CHOOSE ? rec_choose_get(p, n, dp->d, &r) : rec_chosen_get(p, n, dp->d, &r);
        size_t rows = bad ? 0 : rec_choose_rows(&r);
        double *X = bad ? NULL : realloc(dp->X, rows * dp->d * sizeof *X);
        if (!bad && X) {
            dp->X = X;
            rec_choose_contexts(&r, X);
            /* chosen: the contexts are the users' chosen ones, in order */
            sbuf_printf(&b, "\"type\":\"%s\",\"first\":", r.chosen ? "chosen" : "choose");
            put_id(&b, r.first);
            sbuf_printf(&b, ",\"K\":%zu,\"users\":[", r.K);
            for (size_t i = 0; i < r.n; i++)
                sbuf_printf(&b, "%s%llu", i ? "," : "", (unsigned long long)rec_choose_slot(&r, i));
            sbuf_put(&b, "],\"arms\":[", 10);
            for (size_t i = 0; i < r.n; i++)
                sbuf_printf(&b, "%s%u", i ? "," : "", (unsigned)rec_choose_arm(&r, i));
            sbuf_put(&b, "],\"contexts\":[", 14);
            for (size_t k = 0; k < rows; k++) {
                sbuf_put(&b, k ? ",[" : "[", k ? 2 : 1);
                for (size_t i = 0; i < dp->d; i++) {
                    if (i)
                        sbuf_put(&b, ",", 1);
                    codec_put_double(&b, X[k * dp->d + i]);
                }
                sbuf_put(&b, "]", 1);
            }
            sbuf_put(&b, "]}", 2);
        }
    } else if (type == REC_REWARD) {
        rec_reward r;
        bad = rec_reward_get(p, n, &r);
        if (!bad) {
            sbuf_put(&b, "\"type\":\"reward\",\"rewards\":[", 27);
            for (size_t i = 0; i < r.n; i++) {
                decision_id id;
                double y;
                rec_reward_item(&r, i, &id, &y);
                sbuf_put(&b, i ? ",{\"decision\":" : "{\"decision\":", i ? 13 : 12);
                put_id(&b, id);
                sbuf_put(&b, ",\"reward\":", 10);
                codec_put_double(&b, y);
                sbuf_put(&b, "}", 1);
            }
            sbuf_put(&b, "]}", 2);
        }
    } else {
        sbuf_printf(&b, "\"type\":\"unknown\",\"code\":%u,\"bytes\":%zu}", (unsigned)type, n);
    }
    size_t len;
    char *line = sbuf_take(&b, &len);
    if (bad || !line) {
        free(line);
        snprintf(err, err_len, "log record %llu is malformed", (unsigned long long)lsn);
        return -1;
    }
    fprintf(dp->out, "%s\n", line);
    free(line);
    return 0;
}

/* --dump-log loads the state for its dimension only: no window to speak of. */
static size_t smallest_window(void *ctx, uint64_t lsn, size_t stored)
{
    (void)ctx;
    (void)lsn;
    (void)stored;
    return 1;
}

int engine_dump_log(const serve_config *c, FILE *out, char *err, size_t err_len)
{
    serve_config rc = *c;
    state s;
    rc.quiet = 1;
    if (state_load(&s, c->state_dir, &rc, smallest_window, NULL, err, err_len))
        return -1;
    dumper dp = { out, s.d, NULL };
    uint64_t covered = s.lsn, last; /* damage within the snapshot: listed as lost, as a start skips it */
    state_free(&s);
    char torn[4400];
    int r = wal_read(c->state_dir, 0, covered, WAL_ARCHIVE | WAL_SKIP_LOST, visit_dump, &dp, &last, torn, sizeof torn,
                     err, err_len);
    free(dp.X);
    if (r == 0 && torn[0])
        fprintf(stderr, "colb serve: %s\n", torn);
    return r;
}
