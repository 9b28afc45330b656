/* tfidf.h - TF-IDF weighting of a sparse documents x terms count matrix
 * (internal): the Last.FM artists' tag features (lastfm.c). */
#ifndef COLB_TFIDF_H
#define COLB_TFIDF_H

#include "linalg/sparse.h"

/* TF-IDF of a documents x terms count matrix, in place:
 *     w(a, t) = tf(a, t) * ln(n_docs / df(t)),
 * tf = the raw count, df(t) = the number of rows with a non-zero count of t,
 * n_docs = the number of rows with at least one non-zero count; then every
 * non-zero row is scaled to unit Euclidean norm (rows that become all-zero,
 * because all their terms occur in every document, stay zero; so do empty
 * rows). idf (may be NULL) receives cols values (0 for terms with df = 0);
 * *n_docs (may be NULL) the count above. Counts must be >= 0 and finite:
 * COLB_EINVAL otherwise. */
colb_status colb__tfidf(colb__csr *a, double *idf, size_t *n_docs);

#endif
