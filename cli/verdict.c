/* verdict.c - evaluating the paper's claims on measured numbers.
 *
 * With A and B's means m and 95% half-widths c at each sweep point:
 *   significantly below: mA + cA < mB - cB (the intervals do not overlap);
 *   when A and B ran on the same repeats (paired: the same environments,
 *   repeat by repeat), on the per-repeat differences d = A - B instead:
 *   mean(d) + half(d) < 0, the 95% interval of the mean difference below 0
 *   (Student t, R - 1 degrees of freedom; "above" likewise). Non-overlap
 *   of the two intervals ignores the pairing and, with the environment's
 *   share of the variance common to A and B, misses differences the paired
 *   repeats measure well;
 *   A < B        supported     A below B at every point, significantly at
 *                              more than half of the points;
 *                not supported A significantly above B at some point, or
 *                              A not below B (above or equal: a tie
 *                              is not "A < B") at half of the
 *                              points or more;
 *                inconclusive  otherwise.
 *   A < B @last  the same rule at the last point only.
 *   A ~ B        supported     at every point |mA - mB| <= 10% of mB, or the
 *                              intervals overlap, or mA <= mB;
 *                              (paired: A not significantly above B);
 *                not supported A significantly more than 10% above B
 *                              somewhere: mA - cA > 1.1 (mB + cB), A's
 *                              whole interval above 110% of B's (paired:
 *                              the interval of e = A - B - 0.1 |B| above
 *                              0; being better is never a failure of
 *                              "competitive");
 *                inconclusive  otherwise: A above B by more than 10% with
 *                              separate intervals somewhere, but not
 *                              significantly more than 10% above.
 *   A - B decreasing: gap g = mA - mB with half-width sqrt(cA^2 + cB^2)
 *                (paired: half(d), the interval of the per-repeat gaps;
 *                the first and last points are different settings, taken
 *                as independent); supported if the
 *                last gap is significantly below the first, not supported
 *                if significantly above, inconclusive otherwise. Needs two
 *                or more points.
 *   A NaN or infinite mean or half-width anywhere gives "not run": there is
 *   no number to judge. */
#include "verdict.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *verdict_name(verdict v)
{
    switch (v) {
    case V_SUPPORTED: return "supported";
    case V_NOT_SUPPORTED: return "not supported";
    case V_INCONCLUSIVE: return "inconclusive";
    default: return "not run";
    }
}

static void skip_blanks(const char **p)
{
    while (**p == ' ' || **p == '\t')
        (*p)++;
}

static int read_name(const char **p, char *out, size_t len)
{
    skip_blanks(p);
    size_t n = 0;
    while (**p && strchr("abcdefghijklmnopqrstuvwxyz0123456789-_./", **p) && n + 1 < len) {
        /* a '-' followed by a blank is the gap operator, not part of a name */
        if (**p == '-' && ((*p)[1] == ' ' || (*p)[1] == '\t'))
            break;
        out[n++] = *(*p)++;
    }
    out[n] = '\0';
    return n ? 0 : -1;
}

int check_parse(const char *spec, check *c, char *err, size_t err_len)
{
    memset(c, 0, sizeof *c);
    const char *bar = strchr(spec, '|');
    if (bar) {
        const char *t = bar + 1;
        while (*t == ' ')
            t++;
        snprintf(c->text, sizeof c->text, "%s", t);
    }
    const char *p = spec;
    if (read_name(&p, c->a, sizeof c->a))
        goto bad;
    skip_blanks(&p);
    if (*p == '<')
        c->op = OP_LESS;
    else if (*p == '~')
        c->op = OP_SIMILAR;
    else if (*p == '-')
        c->op = OP_GAP_DECREASING;
    else
        goto bad;
    p++;
    if (read_name(&p, c->b, sizeof c->b))
        goto bad;
    skip_blanks(&p);
    if (c->op == OP_GAP_DECREASING) {
        if (strncmp(p, "decreasing", 10))
            goto bad;
        p += 10;
    } else if (!strncmp(p, "@last", 5)) {
        if (c->op != OP_LESS)
            goto bad;
        c->op = OP_LESS_AT_LAST;
        p += 5;
    }
    skip_blanks(&p);
    if (*p && *p != '|')
        goto bad;
    return 0;
bad:
    snprintf(err, err_len, "check: '%s' is not 'A < B', 'A < B @last', 'A ~ B' or 'A - B decreasing'",
             spec);
    return -1;
}

void check_format(const check *c, char *out, size_t len)
{
    switch (c->op) {
    case OP_LESS: snprintf(out, len, "%s < %s", c->a, c->b); break;
    case OP_LESS_AT_LAST: snprintf(out, len, "%s < %s at the last point", c->a, c->b); break;
    case OP_SIMILAR: snprintf(out, len, "%s ~ %s", c->a, c->b); break;
    case OP_GAP_DECREASING: snprintf(out, len, "%s - %s decreasing", c->a, c->b); break;
    }
}

/* A significantly below (sign -1) or above (+1) B at point i. */
static int significant(int sign, const double *ma, const double *ca, const double *mb, const double *cb,
                       const paired_point *pp, size_t i)
{
    if (pp)
        return sign < 0 ? pp[i].d_mean + pp[i].d_half < 0.0 : pp[i].d_mean - pp[i].d_half > 0.0;
    return sign < 0 ? ma[i] + ca[i] < mb[i] - cb[i] : ma[i] - ca[i] > mb[i] + cb[i];
}

static verdict less(const double *ma, const double *ca, const double *mb, const double *cb,
                    const paired_point *pp, size_t n, char *why, size_t len)
{
    size_t below = 0, sig_below = 0, sig_above = 0;
    for (size_t i = 0; i < n; i++) {
        below += ma[i] < mb[i];
        sig_below += significant(-1, ma, ca, mb, cb, pp, i);
        sig_above += significant(+1, ma, ca, mb, cb, pp, i);
    }
    snprintf(why, len, "A below B at %zu of %zu points (significantly at %zu), significantly above at %zu%s",
             below, n, sig_below, sig_above, pp ? " (paired repeats)" : "");
    if (below == n && 2 * sig_below > n)
        return V_SUPPORTED;
    if (sig_above > 0 || 2 * below <= n)
        return V_NOT_SUPPORTED;
    return V_INCONCLUSIVE;
}

verdict check_eval(const check *c, const double *ma, const double *ca, const double *mb,
                   const double *cb, const paired_point *pp, size_t n, char *why, size_t len)
{
    if (n == 0) {
        snprintf(why, len, "no data");
        return V_NOT_RUN;
    }
    for (size_t i = 0; i < n; i++)
        if (!isfinite(ma[i]) || !isfinite(ca[i]) || !isfinite(mb[i]) || !isfinite(cb[i])) {
            snprintf(why, len, "no value at point %zu", i + 1);
            return V_NOT_RUN;
        }
    for (size_t i = 0; pp && i < n; i++)
        if (!isfinite(pp[i].d_mean) || !isfinite(pp[i].d_half) || !isfinite(pp[i].e_mean) ||
            !isfinite(pp[i].e_half))
            pp = NULL; /* no paired numbers everywhere: the intervals */
    switch (c->op) {
    case OP_LESS:
        return less(ma, ca, mb, cb, pp, n, why, len);
    case OP_LESS_AT_LAST:
        return less(ma + n - 1, ca + n - 1, mb + n - 1, cb + n - 1, pp ? pp + n - 1 : NULL, 1, why, len);
    case OP_SIMILAR: {
        size_t close = 0, worse = 0;
        for (size_t i = 0; i < n; i++) {
            /* not significantly different (A significantly below B is
             * "better" anyway) */
            int overlap = !significant(+1, ma, ca, mb, cb, pp, i) && !significant(-1, ma, ca, mb, cb, pp, i);
            int within = fabs(ma[i] - mb[i]) <= 0.1 * fabs(mb[i]);
            close += overlap || within || ma[i] <= mb[i];
            double hb = mb[i] + cb[i]; /* upper end of B's interval */
            worse += pp ? pp[i].e_mean - pp[i].e_half > 0.0 : ma[i] - ca[i] > hb + 0.1 * fabs(hb);
        }
        snprintf(why, len, "A within 10%% of B, %s or better at %zu of %zu points; significantly worse by >10%% at %zu%s",
                 pp ? "not significantly different" : "overlapping", close, n, worse,
                 pp ? " (paired repeats)" : "");
        /* significantly worse by more than 10% is evidence; "not
         * significantly different" at that point only the lack of it */
        return worse ? V_NOT_SUPPORTED : close == n ? V_SUPPORTED : V_INCONCLUSIVE;
    }
    case OP_GAP_DECREASING: {
        if (n < 2) {
            snprintf(why, len, "needs two or more sweep points");
            return V_INCONCLUSIVE;
        }
        double g0 = ma[0] - mb[0], g1 = ma[n - 1] - mb[n - 1];
        double h0 = pp ? pp[0].d_half : sqrt(ca[0] * ca[0] + cb[0] * cb[0]);
        double h1 = pp ? pp[n - 1].d_half : sqrt(ca[n - 1] * ca[n - 1] + cb[n - 1] * cb[n - 1]);
        if (pp) {
            g0 = pp[0].d_mean;
            g1 = pp[n - 1].d_mean;
        }
        snprintf(why, len, "gap A - B: %.3g +- %.2g at the first point, %.3g +- %.2g at the last%s", g0, h0, g1,
                 h1, pp ? " (paired repeats)" : "");
        if (g1 + h1 < g0 - h0)
            return V_SUPPORTED;
        if (g1 - h1 > g0 + h0)
            return V_NOT_SUPPORTED;
        return V_INCONCLUSIVE;
    }
    }
    return V_NOT_RUN;
}
