/* test_cli_decisions.c - colb serve's window of decisions (serve/decisions.c)
 * and its captures for snapshots: a capture is the window as it was when
 * taken, whatever the writer does to the window afterwards (copy on write
 * of its chunks), and the window is unchanged by being captured; a saved
 * capture loads back to the same window. A window of 10,000 decisions in
 * dimension 3: three chunks, the last one short. And the record of which
 * generation made which decision numbers (serve/generations.c), which
 * tells a decision that left the window (expired) from one never made
 * (unknown). */
#include "testutil.h"

#include <errno.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "decisions.h"
#include "generations.h"

#define W 10000
#define D 3

/* the context of decision q (a function of q, so that any mix-up shows) */
static void ctx(uint64_t q, double *x)
{
    for (int j = 0; j < D; j++)
        x[j] = (double)q + 0.25 * j;
}

/* Make decisions first .. last - 1 (generation gen) and reward every one
 * whose number is a multiple of `every` (0: none), in window r and in the
 * reference r2 (may be NULL). */
static void make(decisions *r, decisions *r2, uint64_t first, uint64_t last, uint32_t gen, uint64_t every)
{
    double x[D];
    for (uint64_t q = first; q < last; q++) {
        decision_id id = { gen, q };
        ctx(q, x);
        decisions_put(r, id, q % 97, x);
        if (r2)
            decisions_put(r2, id, q % 97, x);
        if (every && q % every == 0) {
            decisions_mark_rewarded(r, id);
            if (r2)
                decisions_mark_rewarded(r2, id);
        }
    }
}

/* Reward, in r and r2, every pending decision below `last` whose number is
 * k modulo m: rewards anywhere in the window. */
static void reward_some(decisions *r, decisions *r2, uint64_t last, uint64_t k, uint64_t m)
{
    for (uint64_t q = last > W ? last - W : 1; q < last; q++)
        if (q % m == k) {
            decision_id id = { 1, q };
            decisions_mark_rewarded(r, id);
            decisions_mark_rewarded(r2, id);
        }
}

/* The block of a capture of r, taken and saved at once. */
static unsigned char *block_now(decisions *r, size_t *len)
{
    decisions_image *im = decisions_capture(r, UINT64_MAX);
    assert_non_null(im);
    unsigned char *b;
    assert_int_equal(decisions_image_save(im, UINT64_MAX, &b, len), 0);
    decisions_image_free(im);
    return b;
}

static void assert_same_block(const unsigned char *a, size_t al, const unsigned char *b, size_t bl)
{
    assert_int_equal(al, bl);
    assert_memory_equal(a, b, al);
}

/* A capture held while the writer goes on (the ring wrapped over every
 * chunk, rewards all over the window) saves the window as it was; the
 * window itself equals a reference that was never captured; two captures
 * at once each keep their own moment. */
static void test_capture_frozen(void **state)
{
    (void)state;
    decisions *r = decisions_create(W, D), *ref = decisions_create(W, D);
    assert_non_null(r);
    assert_non_null(ref);
    make(r, ref, 1, 25000, 1, 3); /* wrapped twice */
    size_t l0, l1, lb, lc, lr, lw;
    unsigned char *b0 = block_now(r, &l0);
    decisions_image *im = decisions_capture(r, UINT64_MAX);
    assert_non_null(im);
    make(r, ref, 25000, 31000, 1, 5); /* the writer goes on: over every chunk */
    reward_some(r, ref, 31000, 1, 7);
    unsigned char *b1 = block_now(r, &l1);
    decisions_image *im2 = decisions_capture(r, UINT64_MAX);
    assert_non_null(im2);
    make(r, ref, 31000, 37123, 1, 0);
    reward_some(r, ref, 37123, 2, 3);
    unsigned char *bb, *bc;
    assert_int_equal(decisions_image_save(im, UINT64_MAX, &bb, &lb), 0);
    assert_int_equal(decisions_image_save(im2, UINT64_MAX, &bc, &lc), 0);
    assert_same_block(b0, l0, bb, lb);
    assert_same_block(b1, l1, bc, lc);
    decisions_image_free(im);
    decisions_image_free(im2);
    unsigned char *br = block_now(ref, &lr), *bw = block_now(r, &lw);
    assert_same_block(br, lr, bw, lw);
    /* the captures of the same moment differ from each other */
    assert_true(l0 != l1 || memcmp(b0, b1, l0));
    free(b0);
    free(b1);
    free(bb);
    free(bc);
    free(br);
    free(bw);
    decisions_free(r);
    decisions_free(ref);
}

/* A fork()ed child (a snapshot's: serve/snapshotter.c) does not inherit
 * the window's chunks: fork() copies none of their page tables, and the
 * parent's writes after it are no copies-on-write of the kernel. The
 * child finds none of their pages mapped; the parent's capture, saved
 * after the fork and after the parent wrote over every chunk, equals the
 * block saved at the capture. */
static void test_chunks_not_forked(void **state)
{
    (void)state;
    decisions *r = decisions_create(W, D);
    assert_non_null(r);
    make(r, NULL, 1, 25000, 1, 3);
    size_t l0;
    unsigned char *b0 = block_now(r, &l0);
    decisions_image *im = decisions_capture(r, UINT64_MAX);
    assert_non_null(im);
    enum { NC = (W + DECISIONS_CHUNK - 1) / DECISIONS_CHUNK };
    uintptr_t first[NC], last[NC], page = (uintptr_t)sysconf(_SC_PAGESIZE); /* each chunk's first and last page */
    for (size_t c = 0; c < NC; c++) {
        size_t bytes;
        uintptr_t p = (uintptr_t)decisions_chunk_memory(r, c, &bytes);
        first[c] = p & ~(page - 1);
        last[c] = (p + bytes - 1) & ~(page - 1);
    }
    int back[2];
    assert_int_equal(pipe(back), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) { /* the child: is any of those pages in its memory? (mincore: ENOMEM when not) */
        unsigned char mapped = 0, vec;
        for (size_t c = 0; c < NC; c++)
            if (mincore((void *)first[c], 1, &vec) == 0 || errno != ENOMEM ||
                mincore((void *)last[c], 1, &vec) == 0 || errno != ENOMEM)
                mapped = 1;
        _exit(write(back[1], &mapped, 1) == 1 ? 0 : 1);
    }
    close(back[1]);
    unsigned char mapped = 2;
    assert_int_equal(read(back[0], &mapped, 1), 1);
    assert_int_equal(mapped, 0);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    make(r, NULL, 25000, 37123, 1, 0); /* over every chunk, the flags changed too */
    reward_some(r, r, 37123, 2, 3);
    unsigned char *b;
    size_t l;
    assert_int_equal(decisions_image_save(im, UINT64_MAX, &b, &l), 0);
    assert_same_block(b0, l0, b, l);
    decisions_image_free(im);
    close(back[0]);
    free(b0);
    free(b);
    decisions_free(r);
}

/* A capture saved with the decisions from `from` on left to the log
 * (their rewarded flags only), loaded, and those decisions put again (as a
 * restart does from the log's choose records), is the window saved whole;
 * malformed flag blocks are refused. From a point older than the window
 * (the log holds more than W decisions) and from inside it. */
static void test_left_to_log(void **state)
{
    (void)state;
    static const uint64_t froms[] = { 1, 9000, 17000, 23455 };
    for (size_t f = 0; f < sizeof froms / sizeof froms[0]; f++) {
        decisions *r = decisions_create(W, D);
        assert_non_null(r);
        make(r, NULL, 1, 23456, 2, 4);
        for (uint64_t q = 23456 - W; q < 23456; q += 9) { /* more rewards, all over the window */
            decision_id id = { 2, q };
            decisions_mark_rewarded(r, id);
        }
        size_t whole_len, part_len, ref_len;
        unsigned char *whole = block_now(r, &whole_len), *part, *refb;
        decisions_image *im = decisions_capture(r, UINT64_MAX);
        assert_non_null(im);
        decisions_ref ref = { 77, froms[f], 0, 23456, 2 };
        assert_int_equal(decisions_image_save(im, ref.seq_from, &part, &part_len), 0);
        assert_int_equal(decisions_image_save_ref(im, &ref, &refb, &ref_len), 0);
        decisions_image_free(im);
        assert_int_equal(ref.bits_from, froms[f] + W < 23456 ? 23456 - W : froms[f]);
        assert_true(part_len < whole_len);
        char err[256];
        size_t stored = 0;
        decisions *l = decisions_load(part, part_len, D, UINT64_MAX, 0, 23456, &stored, err, sizeof err);
        assert_non_null(l);
        assert_int_equal(stored, W);
        /* the same loaded into smaller windows (the log's decisions put
         * again all the same): what the whole one resized to them holds */
        enum { SMALL = 3 };
        static const size_t small[SMALL] = { W / 2, 777, 1 };
        decisions *ls[SMALL];
        for (int k = 0; k < SMALL; k++) {
            ls[k] = decisions_load(part, part_len, D, UINT64_MAX, small[k], 23456, &stored, err, sizeof err);
            assert_non_null(ls[k]);
            assert_int_equal(decisions_window(ls[k]), small[k]);
            assert_int_equal(stored, W);
        }
        decisions_ref got;
        uint64_t *bits;
        assert_int_equal(decisions_ref_load(refb, ref_len, W, 23456, &got, &bits, err, sizeof err), 0);
        assert_true(got.lsn == ref.lsn && got.seq_from == ref.seq_from && got.bits_from == ref.bits_from &&
                    got.next_seq == ref.next_seq && got.gen == ref.gen);
        double x[D];
        for (uint64_t q = got.seq_from; q < got.next_seq; q++) {
            decision_id id = { 2, q };
            ctx(q, x);
            decisions_put(l, id, q % 97, x);
            for (int k = 0; k < SMALL; k++)
                decisions_put(ls[k], id, q % 97, x);
        }
        decisions_ref_mark(l, &got, bits);
        for (int k = 0; k < SMALL; k++)
            decisions_ref_mark(ls[k], &got, bits);
        free(bits);
        size_t back_len;
        unsigned char *back = block_now(l, &back_len);
        assert_same_block(whole, whole_len, back, back_len);
        for (int k = 0; k < SMALL; k++) {
            decisions *whole_l = decisions_load(whole, whole_len, D, UINT64_MAX, 0, 23456, NULL, err, sizeof err);
            assert_non_null(whole_l);
            whole_l = decisions_resize(whole_l, small[k], 23456);
            assert_non_null(whole_l);
            size_t a_len, b_len;
            unsigned char *a = block_now(whole_l, &a_len), *bk = block_now(ls[k], &b_len);
            assert_same_block(a, a_len, bk, b_len);
            free(a);
            free(bk);
            decisions_free(whole_l);
            decisions_free(ls[k]);
        }
        /* refused: another next_seq, window, a cut or longer block */
        assert_int_equal(decisions_ref_load(refb, ref_len, W, 23457, &got, &bits, err, sizeof err), -1);
        assert_non_null(strstr(err, "serve.window_log is malformed"));
        if (froms[f] + W / 2 < 23456) /* flags of decisions a window of W / 2 no longer holds */
            assert_int_equal(decisions_ref_load(refb, ref_len, W / 2, 23456, &got, &bits, err, sizeof err), -1);
        assert_int_equal(decisions_ref_load(refb, ref_len - 8, W, 23456, &got, &bits, err, sizeof err), -1);
        assert_int_equal(decisions_ref_load(refb, 39, W, 23456, &got, &bits, err, sizeof err), -1);
        assert_null(bits);
        decisions_free(l);
        decisions_free(r);
        free(whole);
        free(part);
        free(refb);
        free(back);
    }
}

/* A saved capture loads back to a window that answers every query as the
 * window did: pending (its user and context), rewarded, not held - left
 * the window (decisions_passed) or never made. */
static void test_capture_loads(void **state)
{
    (void)state;
    decisions *r = decisions_create(W, D);
    assert_non_null(r);
    make(r, NULL, 1, 23456, 2, 4);
    size_t len;
    unsigned char *b = block_now(r, &len);
    make(r, NULL, 23456, 24000, 2, 0); /* after the capture: not in the loaded window */
    char err[256];
    decisions *l = decisions_load(b, len, D, UINT64_MAX, 0, 23456, NULL, err, sizeof err);
    assert_non_null(l);
    size_t pending = 0;
    for (uint64_t q = 1; q < 23456 + 10; q++) {
        decision_id id = { 2, q };
        uint64_t u = 0;
        const double *x = NULL;
        dec_status s = decisions_find(l, id, &u, &x);
        dec_status want = q >= 23456 || q + W < 23456 ? DEC_UNKNOWN : q % 4 == 0 ? DEC_REWARDED : DEC_PENDING;
        if (s != want)
            fail_msg("decision %llu: status %d, expected %d", (unsigned long long)q, (int)s, (int)want);
        if (s == DEC_PENDING) {
            double e[D];
            ctx(q, e);
            assert_int_equal(u, q % 97);
            assert_memory_equal(x, e, sizeof e);
            pending++;
        }
        assert_int_equal(decisions_passed(l, q, 23456), q + W < 23456);
        /* the same number of another generation: not held */
        decision_id other[] = { { 0, q }, { 3, q }, { UINT32_MAX, q } };
        for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
            if (decisions_find(l, other[i], &u, &x) != DEC_UNKNOWN)
                fail_msg("decision %u-%llu: held", (unsigned)other[i].gen, (unsigned long long)q);
    }
    assert_int_equal(pending, W - W / 4);
    free(b);
    decisions_free(l);
    decisions_free(r);
}

typedef struct saver {
    decisions_image *im;
    unsigned char *b;
    size_t len;
    int rc;
} saver;

static void *save_main(void *arg)
{
    saver *s = arg;
    s->rc = decisions_image_save(s->im, UINT64_MAX, &s->b, &s->len);
    decisions_image_free(s->im); /* drops the chunks while the writer goes on */
    return NULL;
}

/* A capture saved and freed by another thread while the writer changes the
 * window (what colb serve does; ASan in make sanitize checks the memory). */
static void test_capture_other_thread(void **state)
{
    (void)state;
    decisions *r = decisions_create(W, D);
    assert_non_null(r);
    make(r, NULL, 1, 15000, 1, 2);
    for (int round = 0; round < 20; round++) {
        uint64_t at = 15000 + (uint64_t)round * 3000;
        size_t l0;
        unsigned char *b0 = block_now(r, &l0);
        saver s = { decisions_capture(r, UINT64_MAX), NULL, 0, -1 };
        assert_non_null(s.im);
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, save_main, &s), 0);
        make(r, NULL, at, at + 3000, 1, 3);
        pthread_join(th, NULL);
        assert_int_equal(s.rc, 0);
        assert_same_block(b0, l0, s.b, s.len);
        free(b0);
        free(s.b);
    }
    decisions_free(r);
}

/* A capture for the decisions numbered below some number shares only the
 * chunks that may hold one - a chunk whose every slot was put since its
 * first put numbered at or above it holds none - and saves the block a
 * capture of everything saves below that number; it refuses to save below
 * a larger one. Decisions put out of order make every capture share every
 * chunk. */
static void test_capture_below(void **state)
{
    (void)state;
    decisions *r = decisions_create(W, D);
    assert_non_null(r);
    /* 2.5 passes over the window: chunk 0 (slots 0-4095) was last put
     * whole from 10001 on, chunk 1 (4096-8191) from 14096, chunk 2
     * (8192-9999) from 18192 */
    make(r, NULL, 1, 25000, 1, 3);
    const uint64_t below[] = { 1, 10001, 14096, 14097, 18192, 18193, 26000 };
    const size_t shared[] = { 0, 0, 1, 2, 2, 3, 3 };
    for (size_t i = 0; i < sizeof below / sizeof below[0]; i++) {
        decisions_image *im = decisions_capture(r, below[i]), *all = decisions_capture(r, UINT64_MAX);
        assert_non_null(im);
        assert_non_null(all);
        assert_int_equal(decisions_shared_chunks(r), 3);
        decisions_image_free(all);
        if (decisions_shared_chunks(r) != shared[i])
            fail_msg("a capture below %llu shares %zu chunks, not %zu", (unsigned long long)below[i],
                     decisions_shared_chunks(r), shared[i]);
        all = decisions_capture(r, UINT64_MAX);
        unsigned char *b, *ba, *bx;
        size_t l, la, lx;
        assert_int_equal(decisions_image_save(im, below[i], &b, &l), 0);
        assert_int_equal(decisions_image_save(all, below[i], &ba, &la), 0);
        assert_same_block(b, l, ba, la);
        assert_int_equal(decisions_image_save(im, below[i] + 1, &bx, &lx), -1);
        free(b);
        free(ba);
        decisions_image_free(all);
        decisions_image_free(im);
    }
    assert_int_equal(decisions_shared_chunks(r), 0);
    double x[D] = { 0 };
    decision_id old = { 1, 100 };
    decisions_put(r, old, 0, x); /* out of order */
    decisions_image *im = decisions_capture(r, 10001);
    assert_non_null(im);
    assert_int_equal(decisions_shared_chunks(r), 3);
    decisions_image_free(im);
    decisions_free(r);
}

/* A resized window keeps the newest decisions and their rewards; a saved
 * window loaded into a smaller one holds the same as the saved one
 * resized (and a larger or equal one asked: the saved one's size). */
static void test_resize(void **state)
{
    (void)state;
    decisions *r = decisions_create(W, D);
    assert_non_null(r);
    make(r, NULL, 1, 12000, 1, 5);
    decisions_image *hold = decisions_capture(r, UINT64_MAX); /* shared chunks are copied, not changed */
    r = decisions_resize(r, 4500, 12000);
    assert_non_null(r);
    assert_int_equal(decisions_window(r), 4500);
    for (uint64_t q = 7000; q < 12000; q++) {
        decision_id id = { 1, q };
        uint64_t u;
        const double *x;
        dec_status s = decisions_find(r, id, &u, &x);
        assert_int_equal(s, q < 7500 ? DEC_UNKNOWN : q % 5 == 0 ? DEC_REWARDED : DEC_PENDING);
        assert_int_equal(decisions_passed(r, q, 12000), q < 7500);
    }
    unsigned char *b;
    size_t len;
    assert_int_equal(decisions_image_save(hold, UINT64_MAX, &b, &len), 0);
    decisions_image_free(hold);
    char err[256];
    decisions *l = decisions_load(b, len, D, UINT64_MAX, 0, 12000, NULL, err, sizeof err);
    assert_non_null(l);
    assert_int_equal(decisions_window(l), W);
    decisions_free(l);
    assert_non_null(l = decisions_load(b, len, D, UINT64_MAX, W + 1, 12000, NULL, err, sizeof err));
    assert_int_equal(decisions_window(l), W);
    decisions_free(l);
    size_t stored = 0, rl, ll;
    assert_non_null(l = decisions_load(b, len, D, UINT64_MAX, 4500, 12000, &stored, err, sizeof err));
    assert_int_equal(stored, W);
    assert_int_equal(decisions_window(l), 4500);
    unsigned char *rb = block_now(r, &rl), *lb = block_now(l, &ll);
    assert_same_block(rb, rl, lb, ll);
    free(rb);
    free(lb);
    free(b);
    decisions_free(l);
    decisions_free(r);
}

/* The expected answer of generations_made for generations 0 to 6 and
 * numbers 0 to 79 when generation gen[i] made first[i] .. first[i + 1] - 1
 * (the last, up to next - 1), numbers below `before` of generations 1 to
 * before_gen being unrecorded. */
static void check_made(const generations *g, const uint32_t *gen, const uint64_t *first, size_t n, uint64_t next,
                       uint64_t before, uint32_t before_gen)
{
    for (uint32_t k = 0; k <= 6; k++)
        for (uint64_t q = 0; q < 80; q++) {
            int want = GEN_NOT_MADE;
            if (k && q && q < next && q < before)
                want = k <= before_gen ? GEN_UNRECORDED : GEN_NOT_MADE;
            for (size_t i = 0; k && q && q < next && q >= before && i < n; i++)
                if (gen[i] == k && q >= first[i] && q < (i + 1 < n ? first[i + 1] : next))
                    want = GEN_MADE;
            decision_id id = { k, q };
            int got = generations_made(g, id, next);
            if (got != want)
                fail_msg("decision %u-%llu: %d, expected %d", (unsigned)k, (unsigned long long)q, got, want);
        }
}

/* A saved record loads back to the same answers; one that does not fit
 * the state (its generation, its next number) or is cut is refused. */
static void check_saved(const generations *g, uint32_t gen, uint64_t next, const uint32_t *gens, const uint64_t *first,
                        size_t n, uint64_t before, uint32_t before_gen)
{
    unsigned char *b;
    size_t len;
    char err[256];
    assert_int_equal(generations_save(g, &b, &len), 0);
    generations *l = generations_create();
    assert_non_null(l);
    assert_int_equal(generations_load(l, b, len, gen, next, err, sizeof err), 0);
    check_made(l, gens, first, n, next, before, before_gen);
    assert_int_equal(generations_load(l, b, len, gen + 1, next, err, sizeof err), -1);
    assert_non_null(strstr(err, "serve.generations is malformed"));
    if (n)
        assert_int_equal(generations_load(l, b, len, gen, first[n - 1] - 1, err, sizeof err), -1);
    assert_int_equal(generations_load(l, b, len - 8, gen, next, err, sizeof err), -1);
    assert_int_equal(generations_load(l, b, 23, gen, next, err, sizeof err), -1);
    generations_free(l);
    free(b);
}

/* Which generation made which numbers: exactly the numbers from its start
 * to the next one's (a generation that made none, here 3, made none of
 * them); an id of another generation, or of a number its generation did
 * not make, was not made, however old. A record started from a state
 * that did not keep one leaves the numbers before it unrecorded. */
static void test_generations(void **state)
{
    (void)state;
    generations *g = generations_create();
    assert_non_null(g);
    uint32_t gens[] = { 1, 2, 4, 6 };
    uint64_t first[] = { 1, 21, 41, 61 };
    check_made(g, gens, first, 0, 1, 0, 0);
    check_saved(g, 0, 1, gens, first, 0, 0, 0);
    assert_int_equal(generations_start(g, 1, 1), 0);
    assert_int_equal(generations_start(g, 2, 21), 0);
    assert_int_equal(generations_start(g, 3, 41), 0);
    check_made(g, gens, first, 2, 41, 0, 0); /* 3 has made nothing yet */
    assert_int_equal(generations_start(g, 4, 41), 0); /* ... nor ever */
    check_made(g, gens, first, 3, 55, 0, 0);
    check_saved(g, 4, 55, gens, first, 3, 0, 0);
    assert_int_equal(generations_start(g, 5, 61), 0);
    assert_int_equal(generations_start(g, 6, 61), 0);
    check_made(g, gens, first, 4, 70, 0, 0);
    check_saved(g, 6, 70, gens, first, 4, 0, 0);

    /* from a state of generation 3 at number 30 that kept no record */
    uint32_t later[] = { 3, 5 };
    uint64_t from[] = { 30, 40 };
    assert_int_equal(generations_unrecorded(g, 3, 30), 0);
    check_made(g, later, from, 1, 30, 30, 3);
    assert_int_equal(generations_start(g, 4, 30), 0); /* 3 made nothing more */
    later[0] = 4;
    check_made(g, later, from, 1, 40, 30, 3);
    assert_int_equal(generations_start(g, 5, 40), 0);
    check_made(g, later, from, 2, 50, 30, 3);
    check_saved(g, 5, 50, later, from, 2, 30, 3);
    /* ... and from a new state (nothing made, no generation yet) */
    assert_int_equal(generations_unrecorded(g, 0, 1), 0);
    check_made(g, later, from, 0, 1, 0, 0);
    generations_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capture_frozen),
        cmocka_unit_test(test_chunks_not_forked),
        cmocka_unit_test(test_capture_loads),
        cmocka_unit_test(test_capture_other_thread),
        cmocka_unit_test(test_capture_below),
        cmocka_unit_test(test_resize),
        cmocka_unit_test(test_left_to_log),
        cmocka_unit_test(test_generations),
    };
    return cmocka_run_group_tests_name("colb serve: the decision window", tests, NULL, NULL);
}
