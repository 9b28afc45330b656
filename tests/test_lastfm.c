/* test_lastfm.c - the Last.FM loader (src/data/lastfm.c): the whole pipeline and
 * the feature cache on a small synthetic directory in the HetRec format
 * generated here (quick), strict parse errors with file:line, and, when the
 * real data set is present, its sizes and the cache on it.
 *
 * The real data is looked up in $COLB_DATA_DIR, else ../shared/data relative
 * to the current directory (make check runs from the repository root); the
 * test is skipped when it is absent. */
#include "testutil.h"

#include <inttypes.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "colb/dataset.h"
#include "data/textio.h"

static char tmpdir[256];

static const char *const files[] = { "artists.dat", "tags.dat", "user_taggedartists.dat",
                                     "user_artists.dat", "cache.bin", "real-cache.bin" };

static int setup_dir(void **state)
{
    (void)state;
    const char *t = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/colb-lastfm-XXXXXX", t && *t ? t : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    char path[512];
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", tmpdir, files[i]);
        unlink(path);
    }
    return rmdir(tmpdir);
}

static const char *path_of(const char *name)
{
    static char paths[sizeof files / sizeof *files][512];
    size_t i = 0;
    while (i < sizeof files / sizeof *files && strcmp(files[i], name) != 0)
        i++;
    assert_true(i < sizeof files / sizeof *files);
    snprintf(paths[i], sizeof paths[i], "%s/%s", tmpdir, name);
    return paths[i];
}

static void put(const char *name, const char *text)
{
    FILE *f = fopen(path_of(name), "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* ---- a synthetic HetRec directory ------------------------------------------
 * Ten tagged artists in two groups (metal: ids 1 2 3 5 8; pop: 13 21 34 55
 * 89) and one never tagged (144). Latin-1 tag "die \xC4rzte". Atomic tags
 * used: metal heavy black thrash | pop dance die \xC3\xA4rzte synth = 9.
 * One assignment names artist 999, absent from artists.dat (skipped); tag
 * 10 "!!!" has no atomic tag; tag 9 is never used. */
static const uint64_t group_a[] = { 1, 2, 3, 5, 8 }, group_b[] = { 13, 21, 34, 55, 89 };
static const int tags_a[] = { 1, 2, 3, 7 }, tags_b[] = { 4, 5, 6, 8 };

static void write_artists(void)
{
    put("artists.dat", "id\tname\turl\tpictureURL\n"
                       "1\tIron Maiden\thttp://a/1\thttp://p/1.jpg\n"
                       "2\tMetallica\thttp://a/2\t\n"
                       "3\tSlayer\thttp://a/3\thttp://p/3.jpg\n"
                       "5\tDarkthrone\thttp://a/5\t\n"
                       "8\tMayhem\thttp://a/8\t\n"
                       "13\tMadonna\thttp://a/13\t\n"
                       "21\tKylie\thttp://a/21\t\n"
                       "34\tDie \xC3\x84rzte\thttp://a/34\t\n"
                       "55\tBritney\thttp://a/55\t\n"
                       "89\tRobyn\thttp://a/89\t\n"
                       "144\tNever Tagged\thttp://a/144\t\n");
}

static void write_tags(const char *first_tag)
{
    char buf[512];
    snprintf(buf, sizeof buf,
             "tagID\ttagValue\n1\t%s\n2\tHeavy Metal\n3\tblack-metal\n4\tpop\n5\tDance Pop\n"
             "6\tdie \xC4rzte\n7\tthrash\n8\tsynth-pop\n9\tunused tag\n10\t!!!\n",
             first_tag);
    put("tags.dat", buf);
}

static void write_tagged(const char *extra)
{
    char buf[8192];
    size_t n = (size_t)snprintf(buf, sizeof buf, "userID\tartistID\ttagID\tday\tmonth\tyear\n");
    for (int g = 0; g < 2; g++)
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 4; j++) {
                uint64_t a = g ? group_b[i] : group_a[i];
                int t = g ? tags_b[j] : tags_a[j];
                if ((i * 7 + j) % 5 == 4)
                    continue; /* not every artist has every tag */
                for (int rep = 0; rep <= (i + j) % 3; rep++) /* several users */
                    n += (size_t)snprintf(buf + n, sizeof buf - n, "%d\t%" PRIu64 "\t%d\t1\t%d\t2009\n",
                                          100 + rep, a, t, 1 + (i + j) % 12);
            }
    n += (size_t)snprintf(buf + n, sizeof buf - n, "100\t999\t1\t1\t1\t2010\n100\t3\t10\t1\t1\t2010\n%s",
                          extra);
    put("user_taggedartists.dat", buf);
}

static void write_listened(const char *extra)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "userID\tartistID\tweight\n100\t1\t50\n100\t2\t7\n100\t13\t1\n101\t3\t4\n101\t5\t9\n"
             "101\t55\t2\n102\t8\t1\n102\t144\t30\n103\t21\t0\n%s",
             extra);
    put("user_artists.dat", buf);
}

static void write_all(void)
{
    write_artists();
    write_tags("metal");
    write_tagged("");
    write_listened("");
}

static colb_status load(size_t dim, uint64_t seed, const char *cache, colb_dataset **ds,
                        colb_lastfm_info *info, char *msg)
{
    colb_lastfm_params p;
    colb_lastfm_params_default(&p);
    p.dim = dim;
    p.seed = seed;
    return colb_lastfm_load_ex(tmpdir, &p, cache, ds, info, msg, 512);
}

static void test_params_default(void **state)
{
    (void)state;
    colb_lastfm_params p;
    colb_lastfm_params_default(&p);
    assert_int_equal(p.dim, 25);
    assert_true(p.seed == 1);
    assert_int_equal(p.positives, COLB_LASTFM_LISTENED);
    assert_true(p.oversample >= 10 && p.power_iters >= 4);
}

static void test_synthetic_pipeline(void **state)
{
    (void)state;
    write_all();
    colb_dataset *ds;
    colb_lastfm_info info;
    char msg[512];
    colb_status s = load(2, 1, NULL, &ds, &info, msg);
    if (s != COLB_OK)
        fail_msg("load: %s", msg);
    assert_int_equal(colb_dataset_items(ds), 11);
    assert_int_equal(colb_dataset_dim(ds), 2);
    assert_int_equal(info.n_docs, 10);
    assert_int_equal(info.n_terms, 9);
    assert_int_equal(info.n_skipped, 1);
    assert_false(info.cache_hit);
    assert_false(info.cache_written);
    assert_true(info.explained > 0.3 && info.explained <= 1.0 + 1e-12);
    /* items in artists.dat order with their ids */
    assert_true(colb_dataset_item_id(ds, 0) == 1);
    assert_true(colb_dataset_item_id(ds, 10) == 144);
    /* users with a positive (weight >= 1), by id; 103 only has weight 0 */
    assert_int_equal(colb_dataset_users(ds), 3);
    assert_true(colb_dataset_user_id(ds, 0) == 100);
    assert_true(colb_dataset_user_id(ds, 2) == 102);
    assert_int_equal(colb_dataset_n_positives(ds), 8);
    size_t i144, i13;
    assert_ok(colb_dataset_item_index(ds, 144, &i144));
    assert_ok(colb_dataset_item_index(ds, 13, &i13));
    assert_true(colb_dataset_is_positive(ds, 2, i144));
    assert_true(colb_dataset_is_positive(ds, 0, i13));
    const double *f = colb_dataset_features(ds);
    /* the never-tagged artist sits at the centre */
    assert_true(f[i144 * 2] == 0.0 && f[i144 * 2 + 1] == 0.0);
    /* PCA scores: zero mean over the documents, orthogonal columns */
    double m0 = 0, m1 = 0, c01 = 0, c00 = 0, c11 = 0;
    for (size_t i = 0; i < 10; i++) {
        m0 += f[i * 2];
        m1 += f[i * 2 + 1];
        c00 += f[i * 2] * f[i * 2];
        c11 += f[i * 2 + 1] * f[i * 2 + 1];
        c01 += f[i * 2] * f[i * 2 + 1];
    }
    assert_true(fabs(m0) < 1e-12 && fabs(m1) < 1e-12);
    assert_true(fabs(c01) < 1e-12 * c00);
    assert_true(c00 >= c11 && c11 > 0);
    /* the first component separates metal (items 0-4) from pop (5-9) */
    for (size_t i = 1; i < 10; i++) {
        int same_group = (i < 5) == (0 < 5);
        int same_sign = (f[i * 2] > 0) == (f[0] > 0);
        assert_int_equal(same_group, same_sign);
        assert_true(fabs(f[i * 2]) > 1e-3);
    }
    colb_dataset_free(ds);

    /* tagged positives: the taggers 100..102 of known artists */
    colb_lastfm_params p;
    colb_lastfm_params_default(&p);
    p.dim = 2;
    p.positives = COLB_LASTFM_TAGGED;
    s = colb_lastfm_load_ex(tmpdir, &p, NULL, &ds, &info, msg, sizeof msg);
    if (s != COLB_OK)
        fail_msg("load tagged: %s", msg);
    assert_int_equal(colb_dataset_users(ds), 3);
    size_t i3;
    assert_ok(colb_dataset_item_index(ds, 3, &i3));
    assert_true(colb_dataset_is_positive(ds, 0, i3)); /* user 100 tagged artist 3 ("!!!") */
    assert_false(colb_dataset_is_positive(ds, 0, i144));
    colb_dataset_free(ds);

    /* simple entry point */
    s = colb_lastfm_load(tmpdir, 3, NULL, &ds, msg, sizeof msg);
    if (s != COLB_OK)
        fail_msg("colb_lastfm_load: %s", msg);
    assert_int_equal(colb_dataset_dim(ds), 3);
    colb_dataset_free(ds);
}

/* Load with the cache; check hit/written flags; return the features copy. */
static double *cached(size_t dim, uint64_t seed, int want_hit, colb_lastfm_info *info)
{
    colb_dataset *ds;
    char msg[512];
    colb_status s = load(dim, seed, path_of("cache.bin"), &ds, info, msg);
    if (s != COLB_OK)
        fail_msg("load: %s", msg);
    if (info->cache_hit != want_hit)
        fail_msg("dim %zu seed %" PRIu64 ": cache_hit %d, expected %d", dim, seed, info->cache_hit,
                 want_hit);
    assert_int_equal(info->cache_written, !want_hit);
    size_t n = colb_dataset_items(ds) * dim;
    double *f = malloc(n * sizeof *f);
    assert_non_null(f);
    memcpy(f, colb_dataset_features(ds), n * sizeof *f);
    colb_dataset_free(ds);
    return f;
}

static void test_cache(void **state)
{
    (void)state;
    write_all();
    unlink(path_of("cache.bin"));
    colb_lastfm_info i1, i2, i3;
    double *a = cached(2, 1, 0, &i1);  /* built and written */
    double *b = cached(2, 1, 1, &i2);  /* reused */
    assert_memory_equal(a, b, 11 * 2 * sizeof(double));
    assert_int_equal(i2.n_docs, i1.n_docs);
    assert_int_equal(i2.n_terms, i1.n_terms);
    assert_int_equal(i2.n_skipped, i1.n_skipped);
    assert_true(i2.explained == i1.explained);
    free(b);
    /* parameters are part of the key */
    free(cached(3, 1, 0, &i3));
    free(cached(3, 1, 1, &i3));
    b = cached(2, 1, 0, &i3);          /* the dim-3 cache does not serve dim 2 */
    assert_memory_equal(a, b, 11 * 2 * sizeof(double)); /* rebuilt identically */
    free(b);
    free(cached(2, 2, 0, &i3));        /* seed */
    free(cached(2, 2, 1, &i3));
    colb_lastfm_params p;
    colb_lastfm_params_default(&p);
    p.dim = 2;
    p.seed = 2;
    p.power_iters = 3;
    colb_dataset *ds;
    char msg[512];
    assert_ok(colb_lastfm_load_ex(tmpdir, &p, path_of("cache.bin"), &ds, &i3, msg, sizeof msg));
    assert_false(i3.cache_hit);         /* power iterations */
    colb_dataset_free(ds);
    free(cached(2, 1, 0, &i3));
    free(cached(2, 1, 1, &i3));

    /* the content of an input file, same size: "metal" -> "metaL" */
    write_tags("metaL");
    b = cached(2, 1, 0, &i3);
    assert_memory_equal(a, b, 11 * 2 * sizeof(double)); /* tokens are lower-cased */
    free(b);
    write_tags("metal");
    free(cached(2, 1, 0, &i3));
    write_tags("metal");                /* rewritten, same bytes: still valid */
    free(cached(2, 1, 1, &i3));
    write_tagged("100\t1\t4\t1\t1\t2011\n"); /* artists and assignments count too */
    b = cached(2, 1, 0, &i3);
    assert_memory_not_equal(a, b, 11 * 2 * sizeof(double));
    free(b);
    write_tagged("");
    free(cached(2, 1, 0, &i3));
    /* user_artists.dat is not part of the key (positives are always read) */
    write_listened("104\t89\t3\n");
    free(cached(2, 1, 1, &i3));
    write_listened("");

    /* a damaged cache is rebuilt: one flipped payload byte, a truncated
     * file */
    FILE *fp = fopen(path_of("cache.bin"), "r+b");
    assert_non_null(fp);
    fseek(fp, 200, SEEK_SET);
    int c = fgetc(fp);
    fseek(fp, 200, SEEK_SET);
    fputc(c ^ 1, fp);
    fclose(fp);
    b = cached(2, 1, 0, &i3);
    assert_memory_equal(a, b, 11 * 2 * sizeof(double));
    free(b);
    assert_int_equal(truncate(path_of("cache.bin"), 100), 0);
    free(cached(2, 1, 0, &i3));
    free(cached(2, 1, 1, &i3));
    /* a cache whose checksum matches but whose feature is beyond
     * COLB_CONTEXT_MAX (no data set may hold it) is rebuilt, as a NaN is */
    {
        size_t n = 0;
        unsigned char *cb = (unsigned char *)slurp(path_of("cache.bin"), &n);
        assert_non_null(cb);
        const double big = 1e300;
        uint64_t bits, h;
        memcpy(&bits, &big, 8);
        size_t at = 128 + 8 * 11; /* header, 11 item ids, then feature 0 */
        assert_true(n == at + 8 * 11 * 2 + 8);
        for (int k = 0; k < 8; k++)
            cb[at + (size_t)k] = (unsigned char)(bits >> (8 * k));
        h = colb__fnv1a64(COLB__FNV64_INIT, cb, n - 8);
        for (int k = 0; k < 8; k++)
            cb[n - 8 + (size_t)k] = (unsigned char)(h >> (8 * k));
        assert_int_equal(spit(path_of("cache.bin"), cb, n), 0);
        free(cb);
        b = cached(2, 1, 0, &i3);
        assert_memory_equal(a, b, 11 * 2 * sizeof(double));
        free(b);
    }
    /* a file without the magic is not a cache but someone's file: neither
     * read nor replaced, before any work; nor is a FIFO (never opened: the
     * load would wait for a writer); an empty file may be replaced */
    fp = fopen(path_of("cache.bin"), "r+b");
    assert_non_null(fp);
    fputs("COLBFEAX", fp);
    fclose(fp);
    size_t n_before, n_after;
    char *before = slurp(path_of("cache.bin"), &n_before);
    assert_status(load(2, 1, path_of("cache.bin"), &ds, &i3, msg), COLB_EIO);
    assert_null(ds);
    assert_non_null(strstr(msg, "not a colb feature cache"));
    char *after = slurp(path_of("cache.bin"), &n_after);
    assert_int_equal(n_before, n_after);
    assert_memory_equal(before, after, n_before);
    free(before);
    free(after);
    assert_int_equal(unlink(path_of("cache.bin")), 0);
    assert_int_equal(mkfifo(path_of("cache.bin"), 0644), 0);
    assert_status(load(2, 1, path_of("cache.bin"), &ds, &i3, msg), COLB_EIO);
    assert_null(ds);
    assert_non_null(strstr(msg, "not a regular file"));
    struct stat st;
    assert_int_equal(stat(path_of("cache.bin"), &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    assert_int_equal(unlink(path_of("cache.bin")), 0);
    put("cache.bin", "");
    free(cached(2, 1, 0, &i3));
    free(cached(2, 1, 1, &i3));
    free(a);

    /* an unwritable cache path is an error, not a silent miss */
    char bad[600];
    snprintf(bad, sizeof bad, "%s/no/such/dir/cache.bin", tmpdir);
    assert_status(load(2, 1, bad, &ds, &i3, msg), COLB_EIO);
    assert_null(ds);
    assert_non_null(strstr(msg, bad));
}

static void expect_parse_error(const char *file, int line, const char *what)
{
    colb_dataset *ds = (colb_dataset *)1;
    colb_lastfm_info info;
    char msg[512], prefix[600];
    colb_status s = load(2, 1, NULL, &ds, &info, msg);
    if (s != COLB_EPARSE)
        fail_msg("status %s, expected COLB_EPARSE (msg: %s)", colb_status_name(s), msg);
    assert_null(ds);
    snprintf(prefix, sizeof prefix, "%s:%d: ", path_of(file), line);
    if (strncmp(msg, prefix, strlen(prefix)) != 0)
        fail_msg("message '%s' does not start with '%s'", msg, prefix);
    if (!strstr(msg, what))
        fail_msg("message '%s' does not mention '%s'", msg, what);
}

static void test_parse_errors(void **state)
{
    (void)state;
    write_all();
    /* the extra lines of write_tagged/write_listened follow a known count */
    put("artists.dat", "id\tname\turl\tpictureURL\n1\ta\tu\t\n2\tb\tu\n");
    expect_parse_error("artists.dat", 3, "expected 4 tab-separated fields");
    put("artists.dat", "id\tname\turl\tpictureURL\n1\ta\tu\t\nx\tb\tu\t\n");
    expect_parse_error("artists.dat", 3, "integer artist id");
    put("artists.dat", "id\tname\turl\tpictureURL\n1\ta\tu\t\n2\tb\tu\t\n1\tc\tu\t\n");
    expect_parse_error("artists.dat", 4, "found 1 again (first on line 2)");
    write_artists();
    put("tags.dat", "tagID\ttagValue\n1\tmetal\n1\tpop\n");
    expect_parse_error("tags.dat", 3, "found 1 again");
    put("tags.dat", "tagID\ttagValue\n1\tmetal\tx\n");
    expect_parse_error("tags.dat", 2, "expected 2 tab-separated fields");
    write_tags("metal");
    /* count the lines written by write_tagged("") */
    write_tagged("");
    FILE *f = fopen(path_of("user_taggedartists.dat"), "rb");
    int lines = 0, ch;
    while ((ch = fgetc(f)) != EOF)
        lines += ch == '\n';
    fclose(f);
    write_tagged("100\t1\t1\t1\t13\t2009\n");
    expect_parse_error("user_taggedartists.dat", lines + 1, "month in [1, 12]");
    write_tagged("100\t1\t77\t1\t1\t2009\n");
    expect_parse_error("user_taggedartists.dat", lines + 1, "unknown id 77");
    write_tagged("100\t1\t1\t1\t1\n");
    expect_parse_error("user_taggedartists.dat", lines + 1, "expected 6 tab-separated fields");
    write_tagged("100\t1\t1\t0\t1\t2009\n");
    expect_parse_error("user_taggedartists.dat", lines + 1, "day in [1, 31]");
    write_tagged("");
    write_listened("104\t4\t1\n");
    expect_parse_error("user_artists.dat", 11, "unknown id 4");
    write_listened("104\t1\t-1\n");
    expect_parse_error("user_artists.dat", 11, "weight");
    /* a NUL ends no line: it is an error, not the end of "104 1 5" */
    write_listened("104\t1\t5");
    f = fopen(path_of("user_artists.dat"), "ab");
    assert_non_null(f);
    fwrite("\0junk\n", 1, 6, f);
    fclose(f);
    expect_parse_error("user_artists.dat", 11, "found a NUL byte");
    write_listened("");

    /* missing directory or file */
    colb_dataset *ds;
    char msg[512];
    colb_lastfm_params p;
    colb_lastfm_params_default(&p);
    assert_status(colb_lastfm_load_ex("/nonexistent-colb-dir", &p, NULL, &ds, NULL, msg, sizeof msg),
                  COLB_EIO);
    assert_non_null(strstr(msg, "/nonexistent-colb-dir/artists.dat"));
    /* parameters */
    assert_status(load(0, 1, NULL, &ds, NULL, msg), COLB_ERANGE);
    assert_status(load(10, 1, NULL, &ds, NULL, msg), COLB_ERANGE); /* > 9 atomic tags */
    assert_non_null(strstr(msg, "min(10, 9)"));
    assert_status(colb_lastfm_load_ex(tmpdir, NULL, NULL, &ds, NULL, msg, sizeof msg), COLB_EINVAL);
}

/* ---- the real data ------------------------------------------------------ */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void test_real_data(void **state)
{
    (void)state;
    char dir[1024];
    lastfm_test_dir(dir, sizeof dir);
    const char *cache = path_of("real-cache.bin");
    unlink(cache);
    colb_lastfm_params p;
    colb_lastfm_params_default(&p);
    colb_lastfm_info info;
    colb_dataset *a, *b;
    char msg[512];
    double t0 = now();
    colb_status s = colb_lastfm_load_ex(dir, &p, cache, &a, &info, msg, sizeof msg);
    double t1 = now();
    if (s != COLB_OK)
        fail_msg("load: %s", msg);
    assert_false(info.cache_hit);
    assert_int_equal(colb_dataset_users(a), 1892);
    assert_int_equal(colb_dataset_items(a), 17632);
    assert_int_equal(colb_dataset_dim(a), 25);
    assert_int_equal(colb_dataset_n_positives(a), 92834);
    assert_int_equal(info.n_assignments, 186479);
    assert_int_equal(info.n_skipped, 1538);
    assert_int_equal(info.n_docs, 12133);
    const double *f = colb_dataset_features(a);
    size_t zero = 0;
    for (size_t i = 0; i < 17632; i++) {
        int z = 1;
        for (size_t j = 0; j < 25; j++)
            z &= f[i * 25 + j] == 0.0;
        zero += (size_t)z;
    }
    assert_int_equal(zero, 17632 - 12133); /* the artists never tagged */
    double t2 = now();
    s = colb_lastfm_load_ex(dir, &p, cache, &b, &info, msg, sizeof msg);
    double t3 = now();
    if (s != COLB_OK)
        fail_msg("reload: %s", msg);
    assert_true(info.cache_hit);
    assert_memory_equal(colb_dataset_features(a), colb_dataset_features(b),
                        17632 * 25 * sizeof(double));
    print_message("Last.FM: %zu users, %zu artists, %zu atomic tags, %zu tagged artists, "
                  "explained %.4f; build %.3f s, cache hit %.3f s\n",
                  colb_dataset_users(b), colb_dataset_items(b), info.n_terms, info.n_docs,
                  info.explained, t1 - t0, t3 - t2);
    colb_dataset_free(a);
    colb_dataset_free(b);
    unlink(cache);
}

/* Long tier: the default SVD settings against a far more converged run
 * (p = 40, q = 80): singular values (column norms of the scores) to 1e-8
 * relative, the 25-dimensional score subspace to 1e-3 (projector
 * difference, Frobenius). ~10 s. */
static void test_real_data_svd_accuracy(void **state)
{
    (void)state;
    if (!long_tier()) {
        print_message("long tier only (COLB_LONG=1)\n");
        skip();
    }
    char dir[1024];
    lastfm_test_dir(dir, sizeof dir);
    colb_lastfm_params p;
    colb_lastfm_params_default(&p);
    colb_dataset *a, *r;
    char msg[512];
    assert_ok(colb_lastfm_load_ex(dir, &p, NULL, &a, NULL, msg, sizeof msg));
    p.oversample = 40;
    p.power_iters = 80;
    assert_ok(colb_lastfm_load_ex(dir, &p, NULL, &r, NULL, msg, sizeof msg));
    const size_t n = colb_dataset_items(a), k = colb_dataset_dim(a);
    const double *fa = colb_dataset_features(a), *fr = colb_dataset_features(r);
    double sa[25], sr[25], worst = 0.0;
    for (size_t j = 0; j < k; j++) {
        double x = 0.0, y = 0.0;
        for (size_t i = 0; i < n; i++) {
            x += fa[i * k + j] * fa[i * k + j];
            y += fr[i * k + j] * fr[i * k + j];
        }
        sa[j] = sqrt(x);
        sr[j] = sqrt(y);
        worst = fmax(worst, fabs(sa[j] - sr[j]) / sr[j]);
    }
    /* ||P_a - P_r||_F^2 = 2k - 2 ||Ua^T Ur||_F^2 with U = scores / s */
    double g = 0.0;
    for (size_t x = 0; x < k; x++)
        for (size_t y = 0; y < k; y++) {
            double d = 0.0;
            for (size_t i = 0; i < n; i++)
                d += fa[i * k + x] * fr[i * k + y];
            d /= sa[x] * sr[y];
            g += d * d;
        }
    double pd = sqrt(fabs(2.0 * (double)k - 2.0 * g));
    print_message("default SVD vs reference: max relative singular value error %.2e, "
                  "subspace projector difference %.2e\n",
                  worst, pd);
    assert_true(worst < 1e-8);
    assert_true(pd < 1e-3);
    colb_dataset_free(a);
    colb_dataset_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_default),
        cmocka_unit_test(test_synthetic_pipeline),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_real_data),
        cmocka_unit_test(test_real_data_svd_accuracy),
    };
    return cmocka_run_group_tests_name("lastfm", tests, setup_dir, teardown_dir);
}
