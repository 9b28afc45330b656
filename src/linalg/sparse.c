/* tfidf.c - compressed sparse row matrices (construction from triplets, row
 * selection, products with dense blocks) and TF-IDF weighting (sparse.h).
 *
 * TF-IDF follows the textbook definition (Salton and Buckley 1988; Manning,
 * Raghavan and Schuetze, "Introduction to Information Retrieval", 2008,
 * sec. 6.2-6.3): raw term frequency times idf = ln(N / df), then cosine (L2)
 * normalisation of each document. No smoothing is needed because every
 * vocabulary term that occurs has df >= 1; a term present in every document
 * carries no information and gets weight 0. (scikit-learn's default,
 * ln((1 + N) / (1 + df)) + 1, differs; see docs/data.md.) */
#include "linalg/sparse.h"

#include <math.h>
#include <string.h>

#include "core/util.h"

void colb__csr_free(colb__csr *a)
{
    if (!a)
        return;
    free(a->ptr);
    free(a->col);
    free(a->val);
    a->ptr = NULL;
    a->col = NULL;
    a->val = NULL;
    a->nnz = 0;
}

colb_status colb__csr_from_coo(size_t rows, size_t cols, size_t n, const size_t *ri,
                               const size_t *ci, const double *v, colb__csr *out)
{
    memset(out, 0, sizeof *out);
    if ((n && (!ri || !ci || !v)) || rows == SIZE_MAX || cols == SIZE_MAX)
        return COLB_EINVAL;
    for (size_t t = 0; t < n; t++)
        if (ri[t] >= rows || ci[t] >= cols)
            return COLB_EINVAL;
    /* Two stable counting sorts (by column, then by row) order the triplets
     * by (row, column, input position). */
    size_t *cnt = colb__calloc((rows > cols ? rows : cols) + 1, sizeof(size_t));
    size_t *p1 = colb__malloc(n, sizeof(size_t));
    size_t *p2 = colb__malloc(n, sizeof(size_t));
    out->ptr = colb__calloc(rows + 1, sizeof(size_t));
    if (!cnt || !p1 || !p2 || !out->ptr) {
        free(cnt);
        free(p1);
        free(p2);
        colb__csr_free(out);
        return COLB_ENOMEM;
    }
    for (size_t t = 0; t < n; t++)
        cnt[ci[t] + 1]++;
    for (size_t c = 0; c < cols; c++)
        cnt[c + 1] += cnt[c];
    for (size_t t = 0; t < n; t++)
        p1[cnt[ci[t]]++] = t;
    memset(cnt, 0, ((rows > cols ? rows : cols) + 1) * sizeof(size_t));
    for (size_t t = 0; t < n; t++)
        cnt[ri[t] + 1]++;
    for (size_t r = 0; r < rows; r++)
        cnt[r + 1] += cnt[r];
    for (size_t j = 0; j < n; j++) {
        size_t t = p1[j];
        p2[cnt[ri[t]]++] = t;
    }
    /* Merge duplicates. */
    size_t m = 0;
    for (size_t j = 0; j < n; j++)
        m += j == 0 || ri[p2[j]] != ri[p2[j - 1]] || ci[p2[j]] != ci[p2[j - 1]];
    out->col = colb__malloc(m, sizeof(size_t));
    out->val = colb__malloc(m, sizeof(double));
    if (!out->col || !out->val) {
        free(cnt);
        free(p1);
        free(p2);
        colb__csr_free(out);
        return COLB_ENOMEM;
    }
    size_t w = 0;
    for (size_t j = 0; j < n; j++) {
        size_t t = p2[j];
        if (j > 0 && ri[t] == ri[p2[j - 1]] && ci[t] == ci[p2[j - 1]]) {
            out->val[w - 1] += v[t];
        } else {
            out->col[w] = ci[t];
            out->val[w] = v[t];
            out->ptr[ri[t] + 1]++;
            w++;
        }
    }
    for (size_t r = 0; r < rows; r++)
        out->ptr[r + 1] += out->ptr[r];
    out->rows = rows;
    out->cols = cols;
    out->nnz = m;
    free(cnt);
    free(p1);
    free(p2);
    return COLB_OK;
}

colb_status colb__csr_select_rows(const colb__csr *a, size_t n, const size_t *rows, colb__csr *out)
{
    memset(out, 0, sizeof *out);
    if (!a || (n && !rows))
        return COLB_EINVAL;
    size_t m = 0;
    for (size_t j = 0; j < n; j++) {
        if (rows[j] >= a->rows)
            return COLB_EINVAL;
        m += a->ptr[rows[j] + 1] - a->ptr[rows[j]];
    }
    out->ptr = colb__malloc(n + 1, sizeof(size_t));
    out->col = colb__malloc(m, sizeof(size_t));
    out->val = colb__malloc(m, sizeof(double));
    if (!out->ptr || !out->col || !out->val) {
        colb__csr_free(out);
        return COLB_ENOMEM;
    }
    out->ptr[0] = 0;
    for (size_t j = 0; j < n; j++) {
        size_t b = a->ptr[rows[j]], e = a->ptr[rows[j] + 1], w = out->ptr[j];
        memcpy(out->col + w, a->col + b, (e - b) * sizeof(size_t));
        memcpy(out->val + w, a->val + b, (e - b) * sizeof(double));
        out->ptr[j + 1] = w + (e - b);
    }
    out->rows = n;
    out->cols = a->cols;
    out->nnz = m;
    return COLB_OK;
}

void colb__csr_mm(const colb__csr *a, size_t l, const double *x, size_t ldx, double *y,
                  size_t ldy)
{
    for (size_t c = 0; c < l; c++) {
        const double *xc = x + c * ldx;
        double *yc = y + c * ldy;
        for (size_t i = 0; i < a->rows; i++) {
            double acc = 0.0;
            for (size_t t = a->ptr[i]; t < a->ptr[i + 1]; t++)
                acc += a->val[t] * xc[a->col[t]];
            yc[i] = acc;
        }
    }
}

void colb__csr_mtm(const colb__csr *a, size_t l, const double *x, size_t ldx, double *y,
                   size_t ldy)
{
    for (size_t c = 0; c < l; c++) {
        const double *xc = x + c * ldx;
        double *yc = y + c * ldy;
        memset(yc, 0, a->cols * sizeof(double));
        for (size_t i = 0; i < a->rows; i++) {
            double xi = xc[i];
            for (size_t t = a->ptr[i]; t < a->ptr[i + 1]; t++)
                yc[a->col[t]] += a->val[t] * xi;
        }
    }
}

colb_status colb__tfidf(colb__csr *a, double *idf, size_t *n_docs)
{
    if (!a)
        return COLB_EINVAL;
    for (size_t t = 0; t < a->nnz; t++)
        if (!isfinite(a->val[t]) || a->val[t] < 0.0)
            return COLB_EINVAL;
    size_t *df = colb__calloc(a->cols, sizeof(size_t));
    double *w = colb__malloc(a->cols, sizeof(double));
    if (!df || !w) {
        free(df);
        free(w);
        return COLB_ENOMEM;
    }
    size_t docs = 0;
    for (size_t i = 0; i < a->rows; i++) {
        int any = 0;
        for (size_t t = a->ptr[i]; t < a->ptr[i + 1]; t++)
            if (a->val[t] > 0.0) {
                df[a->col[t]]++;
                any = 1;
            }
        docs += (size_t)any;
    }
    for (size_t c = 0; c < a->cols; c++)
        w[c] = df[c] ? log((double)docs / (double)df[c]) : 0.0;
    for (size_t i = 0; i < a->rows; i++) {
        double ss = 0.0;
        for (size_t t = a->ptr[i]; t < a->ptr[i + 1]; t++) {
            a->val[t] *= w[a->col[t]];
            ss += a->val[t] * a->val[t];
        }
        if (ss > 0.0) {
            double nrm = sqrt(ss);
            for (size_t t = a->ptr[i]; t < a->ptr[i + 1]; t++)
                a->val[t] /= nrm;
        }
    }
    if (idf)
        memcpy(idf, w, a->cols * sizeof(double));
    if (n_docs)
        *n_docs = docs;
    free(df);
    free(w);
    return COLB_OK;
}
