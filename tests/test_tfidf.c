/* test_tfidf.c - CSR construction and products (src/linalg/sparse.h) and TF-IDF
 * of a tiny corpus against values computed by hand. */
#include "testutil.h"

#include "data/tfidf.h"

static void test_csr_from_coo(void **state)
{
    (void)state;
    /* 3 x 4, unsorted, with duplicates (summed) and an empty row */
    const size_t ri[] = { 2, 0, 2, 0, 2, 0 };
    const size_t ci[] = { 3, 1, 0, 1, 3, 0 };
    const double v[] = { 1, 2, 3, 4, 5, 6 };
    colb__csr a;
    assert_ok(colb__csr_from_coo(3, 4, 6, ri, ci, v, &a));
    assert_int_equal(a.rows, 3);
    assert_int_equal(a.cols, 4);
    assert_int_equal(a.nnz, 4);
    const size_t ptr[] = { 0, 2, 2, 4 }, col[] = { 0, 1, 0, 3 };
    const double val[] = { 6, 6, 3, 6 };
    for (int i = 0; i < 4; i++)
        assert_int_equal(a.ptr[i], ptr[i]);
    for (int t = 0; t < 4; t++) {
        assert_int_equal(a.col[t], col[t]);
        assert_true(a.val[t] == val[t]);
    }
    /* products against the dense matrix */
    double x[4 * 2] = { 1, 2, 3, 4, -1, 0.5, 2, 0 }, y[3 * 2], z[4 * 2];
    colb__csr_mm(&a, 2, x, 4, y, 3);
    const double dense[3][4] = { { 6, 6, 0, 0 }, { 0, 0, 0, 0 }, { 3, 0, 0, 6 } };
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < 3; i++) {
            double s = 0;
            for (int j = 0; j < 4; j++)
                s += dense[i][j] * x[j + 4 * c];
            assert_true(y[i + 3 * c] == s);
        }
    colb__csr_mtm(&a, 2, y, 3, z, 4);
    for (int c = 0; c < 2; c++)
        for (int j = 0; j < 4; j++) {
            double s = 0;
            for (int i = 0; i < 3; i++)
                s += dense[i][j] * y[i + 3 * c];
            assert_true(z[j + 4 * c] == s);
        }
    /* row selection */
    colb__csr b;
    const size_t rows[] = { 2, 0, 2 };
    assert_ok(colb__csr_select_rows(&a, 3, rows, &b));
    assert_int_equal(b.rows, 3);
    assert_int_equal(b.nnz, 6);
    assert_int_equal(b.ptr[1], 2);
    assert_int_equal(b.col[0], 0);
    assert_true(b.val[1] == 6 && b.val[2] == 6 && b.val[4] == 3);
    colb__csr_free(&b);
    const size_t bad_row[] = { 3 };
    assert_status(colb__csr_select_rows(&a, 1, bad_row, &b), COLB_EINVAL);
    colb__csr_free(&a);
    colb__csr_free(&a); /* idempotent */

    const size_t bad[] = { 3 };
    const size_t zero[] = { 0 };
    const double one[] = { 1 };
    assert_status(colb__csr_from_coo(3, 4, 1, bad, zero, one, &a), COLB_EINVAL);
    assert_status(colb__csr_from_coo(3, 4, 1, zero, bad + 0, one, &a), COLB_OK);
    colb__csr_free(&a);
    const size_t four[] = { 4 };
    assert_status(colb__csr_from_coo(3, 4, 1, zero, four, one, &a), COLB_EINVAL);
}

/* The corpus (artists x terms, raw counts):
 *   a0: t0 x2, t1 x1
 *   a1: t1 x1
 *   a2: (no tags)
 *   a3: t0 x1, t2 x3
 * n_docs = 3; df = (2, 2, 1); idf = (ln 1.5, ln 1.5, ln 3). */
static void test_tfidf_hand_computed(void **state)
{
    (void)state;
    const size_t ri[] = { 0, 0, 0, 1, 3, 3, 3, 3 };
    const size_t ci[] = { 0, 1, 0, 1, 0, 2, 2, 2 };
    const double v[] = { 1, 1, 1, 1, 1, 1, 1, 1 };
    colb__csr a;
    assert_ok(colb__csr_from_coo(4, 3, 8, ri, ci, v, &a));
    double idf[3];
    size_t nd = 0;
    assert_ok(colb__tfidf(&a, idf, &nd));
    assert_int_equal(nd, 3);
    const double l15 = log(1.5), l3 = log(3.0);
    assert_close(idf[0], l15, 1e-15);
    assert_close(idf[1], l15, 1e-15);
    assert_close(idf[2], l3, 1e-15);
    /* a0 = (2 l15, l15) / (l15 sqrt 5) = (2, 1)/sqrt 5 */
    assert_int_equal(a.ptr[1] - a.ptr[0], 2);
    assert_close(a.val[0], 2 / sqrt(5.0), 1e-15);
    assert_close(a.val[1], 1 / sqrt(5.0), 1e-15);
    /* a1 = (0, 1, 0) */
    assert_close(a.val[2], 1.0, 1e-15);
    /* a2 empty */
    assert_int_equal(a.ptr[3], a.ptr[2]);
    /* a3 = (l15, 3 l3) / sqrt(l15^2 + 9 l3^2) */
    double n3 = sqrt(l15 * l15 + 9 * l3 * l3);
    assert_int_equal(a.col[3], 0);
    assert_int_equal(a.col[4], 2);
    assert_close(a.val[3], l15 / n3, 1e-15);
    assert_close(a.val[4], 3 * l3 / n3, 1e-15);
    colb__csr_free(&a);
}

static void test_tfidf_term_in_every_doc(void **state)
{
    (void)state;
    /* t0 is in both documents: idf 0; d1 has only t0 and becomes zero */
    const size_t ri[] = { 0, 0, 1 }, ci[] = { 0, 1, 0 };
    const double v[] = { 5, 2, 1 };
    colb__csr a;
    assert_ok(colb__csr_from_coo(2, 3, 3, ri, ci, v, &a));
    double idf[3];
    size_t nd;
    assert_ok(colb__tfidf(&a, idf, &nd));
    assert_int_equal(nd, 2);
    assert_true(idf[0] == 0.0);
    assert_close(idf[1], log(2.0), 1e-15);
    assert_true(idf[2] == 0.0); /* df = 0: no term, no weight */
    assert_true(a.val[0] == 0.0);
    assert_close(a.val[1], 1.0, 1e-15);
    assert_true(a.val[2] == 0.0);
    colb__csr_free(&a);
}

static void test_tfidf_rejects_bad_counts(void **state)
{
    (void)state;
    const size_t ri[] = { 0 }, ci[] = { 0 };
    const double neg[] = { -1 }, nan_[] = { NAN };
    colb__csr a;
    assert_ok(colb__csr_from_coo(1, 1, 1, ri, ci, neg, &a));
    assert_status(colb__tfidf(&a, NULL, NULL), COLB_EINVAL);
    colb__csr_free(&a);
    assert_ok(colb__csr_from_coo(1, 1, 1, ri, ci, nan_, &a));
    assert_status(colb__tfidf(&a, NULL, NULL), COLB_EINVAL);
    colb__csr_free(&a);
    assert_status(colb__tfidf(NULL, NULL, NULL), COLB_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csr_from_coo),
        cmocka_unit_test(test_tfidf_hand_computed),
        cmocka_unit_test(test_tfidf_term_in_every_doc),
        cmocka_unit_test(test_tfidf_rejects_bad_counts),
    };
    return cmocka_run_group_tests_name("tfidf", tests, NULL, NULL);
}
