/* cmlb.h - CMLB's schedule, shared with SCLB and the tests (internal). */
#ifndef COLB_CMLB_H
#define COLB_CMLB_H

#include <stddef.h>

#include "colb/policy.h"

/* T_explore = ceil(C d (N T)^{2 alpha} ln(1/delta)), capped at T. */
size_t colb__cmlb_explore_rounds(size_t N, size_t T, size_t d, double alpha, double C, double delta);

/* The paper's threshold gamma = 3 / (N T)^alpha (Lemma 1). */
double colb__cmlb_gamma(size_t N, size_t T, double alpha);

/* 1 once a CMLB policy has clustered its users. */
int colb__cmlb_is_clustered(const colb_policy *p);

/* SCLB: the current phase (0 before the first round) and its CMLB. */
size_t colb__sclb_phase(const colb_policy *p);
const colb_policy *colb__sclb_inner(const colb_policy *p);

#endif
