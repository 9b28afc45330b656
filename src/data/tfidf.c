/* tfidf.c - TF-IDF weighting of a documents x terms count matrix (tfidf.h).
 *
 * TF-IDF follows the textbook definition (Salton and Buckley 1988; Manning,
 * Raghavan and Schuetze, "Introduction to Information Retrieval", 2008,
 * sec. 6.2-6.3): raw term frequency times idf = ln(N / df), then cosine (L2)
 * normalisation of each document. No smoothing is needed because every
 * vocabulary term that occurs has df >= 1; a term present in every document
 * carries no information and gets weight 0. (scikit-learn's default,
 * ln((1 + N) / (1 + df)) + 1, differs; see docs/data.md.) */
#include "data/tfidf.h"

#include <math.h>
#include <string.h>

#include "core/util.h"

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
