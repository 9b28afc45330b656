/* user_bank.h - one independent learner per user (internal): LinUCB-Ind and
 * the individual phase of CMLB. Choosing for every user of a round is one
 * batched scoring call (ridge_scores_many: two DGEMMs per block of users). */
#ifndef COLB_USER_BANK_H
#define COLB_USER_BANK_H

#include "linalg/ridge.h"

typedef struct colb__users {
    colb__ridge r;       /* N models */
    colb__scratch s;     /* scores of a block of users */
} colb__users;

colb_status colb__users_init(colb__users *b, size_t N, size_t d, const colb_learner_params *p);
void colb__users_free(colb__users *b);

/* Make the scratch fit K arms. */
colb_status colb__users_reserve(colb__users *b, size_t K);

/* arms[u] for every user u on contexts X (K x d). Requires reserve(K). */
void colb__users_choose_all(colb__users *b, const double *X, size_t K, size_t *arms);

/* The arm of one user. Requires reserve(K). */
size_t colb__users_choose(colb__users *b, size_t u, const double *X, size_t K);

#endif
