/* sparse.c - compressed sparse row matrices (sparse.h): construction from
 * triplets, row selection, and products with dense blocks. */
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
