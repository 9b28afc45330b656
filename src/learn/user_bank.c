/* user_bank.c - one independent learner per user (see user_bank.h). */
#include "learn/user_bank.h"

#include <string.h>

/* Users scored per call of ridge_scores_many: large enough for DGEMM to run
 * near its peak, small enough that the scores stay in cache. */
#define USERS_BLOCK 256

colb_status colb__users_init(colb__users *b, size_t N, size_t d, const colb_learner_params *p)
{
    memset(b, 0, sizeof *b);
    return colb__ridge_init(&b->r, N, d, p);
}

void colb__users_free(colb__users *b)
{
    colb__ridge_free(&b->r);
    colb__scratch_free(&b->s);
    memset(b, 0, sizeof *b);
}

colb_status colb__users_reserve(colb__users *b, size_t K)
{
    return colb__scratch_reserve(&b->s, b->r.d, K, USERS_BLOCK);
}

void colb__users_choose_all(colb__users *b, const double *X, size_t K, size_t *arms)
{
    size_t N = b->r.n;
    for (size_t u0 = 0; u0 < N; u0 += USERS_BLOCK) {
        size_t m = N - u0 < USERS_BLOCK ? N - u0 : USERS_BLOCK;
        colb__ridge_scores_many(&b->r, NULL, u0, m, X, K, b->s.scores, b->s.work);
        for (size_t i = 0; i < m; i++)
            arms[u0 + i] = colb__argmax(b->s.scores + i * K, K);
    }
}

size_t colb__users_choose(colb__users *b, size_t u, const double *X, size_t K)
{
    colb__ridge_scores(&b->r, u, X, K, b->s.scores, b->s.work);
    return colb__argmax(b->s.scores, K);
}
