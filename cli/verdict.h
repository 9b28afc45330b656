/* verdict.h - claims of the paper as checks on measured numbers.
 *
 * A check is one line of an experiment file:
 *     check = A < B | text
 *     check = A ~ B | text
 *     check = A < B @last | text
 *     check = A - B decreasing | text
 * where A and B are policy names and the text says, in words, what the paper
 * claims. It is evaluated on the per-setting means and 95% half-widths of the
 * experiment's metric (regret, or regret / random's regret), one value per
 * sweep point, separately for every reading. Exact rules in verdict.c and
 * docs/experiments.md. */
#ifndef COLB_CLI_VERDICT_H
#define COLB_CLI_VERDICT_H

#include <stddef.h>

typedef enum check_op {
    OP_LESS = 0,          /* A < B at every sweep point */
    OP_SIMILAR = 1,       /* A ~ B: competitive at every sweep point */
    OP_LESS_AT_LAST = 2,  /* A < B at the last sweep point */
    OP_GAP_DECREASING = 3 /* A - B shrinks from the first to the last point */
} check_op;

typedef enum verdict {
    V_SUPPORTED = 0,
    V_NOT_SUPPORTED = 1,
    V_INCONCLUSIVE = 2,
    V_NOT_RUN = 3         /* a policy of the check did not run */
} verdict;

typedef struct check {
    check_op op;
    char a[64], b[64];
    char text[256];
} check;

/* A against B at one sweep point when both ran on the same repeats (the
 * same environments, repeat by repeat): mean and 95% half-width (Student t,
 * R - 1 degrees of freedom) of the per-repeat difference d = A - B, and of
 * the excess over 110% of B, e = A - B - 0.1 |B|. */
typedef struct paired_point {
    double d_mean, d_half;
    double e_mean, e_half;
} paired_point;

/* Parse "A OP B [@last] [| text]". Returns 0, or -1 with err set. */
int check_parse(const char *spec, check *c, char *err, size_t err_len);

/* Evaluate c on n >= 1 sweep points: ma/ca (mean, 95% half-width) of A, mb/cb
 * of B; pp (n points, or NULL) the paired statistics when A and B ran on the
 * same repeats: then "significantly" is judged on the per-repeat
 * differences, else on the two intervals. `why` receives a short sentence
 * with the numbers behind the verdict. */
verdict check_eval(const check *c, const double *ma, const double *ca, const double *mb,
                   const double *cb, const paired_point *pp, size_t n, char *why, size_t why_len);

/* "supported", "not supported", "inconclusive", "not run". */
const char *verdict_name(verdict v);

/* Write the check back as "A < B" etc. */
void check_format(const check *c, char *out, size_t len);

#endif
