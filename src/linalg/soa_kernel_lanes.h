/* soa_kernel_lanes.h - the lanes' ridge step (soa_kernel.h ridge_step_lanes)
 * written once with GCC's generic vectors and included by each of
 * soa_kernel_avx512.c, soa_kernel_avx2.c and soa_kernel_portable.c, which
 * compile it with their own ISA flags (one zmm, two ymm or four xmm
 * registers per 8-lane vector). Internal to those three files: define
 * LANES_NAME(f) (the path's suffix) before including it.
 *
 * Why generic vectors and not intrinsics: each lane must repeat the flat
 * ridge bank's scalar step bit for bit (ridge_step_portable: products
 * rounded, every sum in its scalar order); an operation on an 8-lane vector
 * is the same IEEE operation on each lane, and ISO C mode (-std=c11)
 * contracts nothing into FMAs, so the one source gives the same bits on
 * every path and is vectorised across the lanes by construction. Products
 * are written as statements of their own so that a compiler that contracts
 * within an expression (clang's default) has nothing to fuse.
 *
 * Why hand-written (not BLAS): LOCB steps every neighbourhood containing the
 * user with the same sample; here one vector instruction serves the
 * neighbourhoods of a block of 8 at once, on the packed upper triangles
 * (120 entries at d = 15), where a BLAS call per model costs more in
 * overhead than its 225 multiply-adds. Ceiling: the flop rate of the other
 * SoA kernels (bench/bench.c); this one is bound by its rounded products
 * (no FMA) and the loads of A, V and the carried scores. */
#ifndef LANES_NAME
#error "define LANES_NAME and LANES_VW before including soa_kernel_lanes.h"
#endif

/* LANES_VW lanes per vector, the path's native width (8, 4 or 2 doubles):
 * GCC lowers a generic vector wider than the hardware's through memory. */
typedef double lanes_v __attribute__((vector_size(LANES_VW * 8), aligned(8), may_alias));
typedef long long lanes_m __attribute__((vector_size(LANES_VW * 8), aligned(8), may_alias));

#define LD(p) (*(const lanes_v *)(p))
#define ST(p, v) (*(lanes_v *)(p) = (v))
/* v with the lanes outside mk set to +0: z - MASKED(mk, t) is z - t on the
 * lanes of mk and exactly z on the others (z - (+0) is z for every z, -0
 * and NaN included); an addition z + t is written z - (-t), the same bits
 * (IEEE subtraction adds the negated operand, and negation is exact). */
#define MASKED(mk, v) ((lanes_v)((lanes_m)(v) & (mk)))

/* One step of the lanes h .. h + LANES_VW - 1 (mk: the stepped ones): the
 * kernel's body, inlined twice by ridge_step_lanes - with d = 15 a
 * constant (the loops unrolled whole and u kept in registers; the
 * benchmarks' dimension) and with any d (u in memory). up: d vectors of
 * scratch for u. */
static inline __attribute__((always_inline)) void
LANES_NAME(lanes_body)(double *A, double *V, double *b, double *th, const double *t0,
                       const double *x, double y, double w, const size_t d, size_t h,
                       lanes_m mk, const double *ninc, const double *Xt, size_t Kp,
                       double *mq, double *s_out, lanes_v *up)
{
    const lanes_v zero = { 0 }, one = zero + 1.0;
    /* u = A x by one pass over the packed rows: entry (j, k), k > j, adds
     * its term to u_j (row j) and to u_k (column k), so that every u_i is
     * still summed over its index in increasing order; then s = x^T u,
     * <x, theta0>, <x, theta> (over j in order) */
#pragma GCC unroll 16
    for (size_t j = 0; j < d; j++)
        up[j] = zero;
    lanes_v s = zero, p0 = zero, p = zero, t;
    size_t e = 0;
#pragma GCC unroll 16
    for (size_t j = 0; j < d; j++) {
        lanes_v acc = up[j];
        t = LD(A + e * 8 + h) * x[j];
        acc = acc + t;
        e++;
#pragma GCC unroll 16
        for (size_t k = j + 1; k < d; k++, e++) {
            lanes_v a = LD(A + e * 8 + h);
            t = a * x[k];
            acc = acc + t;
            t = a * x[j];
            up[k] = up[k] + t;
        }
        up[j] = acc;
        t = acc * x[j];
        s = s + t;
        t = LD(t0 + j * 8 + h) * x[j];
        p0 = p0 + t;
        t = LD(th + j * 8 + h) * x[j];
        p = p + t;
    }
    lanes_v ws = s * w;
    lanes_v c = w / (1.0 + ws);
    lanes_v ry = (y - p0) * w;
    lanes_v gain = c * (y - p);
    /* A -= (u_j u_k) c, V += (w x_k) x_j, b += ry x, theta += gain u */
    e = 0;
#pragma GCC unroll 16
    for (size_t j = 0; j < d; j++) {
        lanes_v uj = up[j];
#pragma GCC unroll 16
        for (size_t k = j; k < d; k++, e++) {
            t = uj * up[k];
            t = t * c;
            ST(A + e * 8 + h, LD(A + e * 8 + h) - MASKED(mk, t));
            t = one * ninc[e]; /* a broadcast (zero + v would turn -0 into +0) */
            ST(V + e * 8 + h, LD(V + e * 8 + h) - MASKED(mk, t));
        }
        t = ry * x[j];
        ST(b + j * 8 + h, LD(b + j * 8 + h) - MASKED(mk, -t));
        t = gain * uj;
        ST(th + j * 8 + h, LD(th + j * 8 + h) - MASKED(mk, -t));
    }
    /* the carried means and forms (round_scores.c's carry): t_k = x_k^T u
     * summed over the dimensions in order, q_k -= (c t_k) t_k,
     * m_k += gain t_k; eight arms at a time (Kp is a multiple of 8, Xt's
     * columns K..Kp-1 are zero, and the padding arms' values are never
     * read) */
    double *m = mq + h, *q = mq + Kp * 8 + h;
    for (size_t k = 0; k < Kp; k += 8) {
        lanes_v ta[8], pr;
#pragma GCC unroll 8
        for (int a = 0; a < 8; a++)
            ta[a] = zero;
#pragma GCC unroll 16
        for (size_t l = 0; l < d; l++) {
            lanes_v ul = up[l];
            const double *xr = Xt + l * Kp + k;
#pragma GCC unroll 8
            for (int a = 0; a < 8; a++) {
                pr = ul * xr[a];
                ta[a] = ta[a] + pr;
            }
        }
#pragma GCC unroll 8
        for (int a = 0; a < 8; a++) {
            double *qa = q + (k + a) * 8, *ma = m + (k + a) * 8;
            pr = c * ta[a];
            pr = pr * ta[a];
            ST(qa, LD(qa) - MASKED(mk, pr));
            pr = gain * ta[a];
            ST(ma, LD(ma) - MASKED(mk, -pr));
        }
    }
    ST(s_out + h, s);
}

static void LANES_NAME(ridge_step_lanes)(double *A, double *V, double *b, double *th,
                                         const double *t0, const double *x, double y, double w,
                                         size_t d, unsigned mask, const double *Xt, size_t K,
                                         size_t Kp, double *mq, double *s_out, double *u)
{
    (void)K;
    /* -(w x_k) x_j of entry (j, k), k >= j: V's increments, the same for
     * every lane (what the flat bank's lower triangle gets, mirrored onto
     * its upper one) */
    double *ninc = u + 8 * d;
    for (size_t j = 0, e = 0; j < d; j++)
        for (size_t k = j; k < d; k++, e++) {
            double wx = w * x[k];
            wx = wx * x[j];
            ninc[e] = -wx;
        }
    for (size_t h = 0; h < 8; h += LANES_VW) { /* lanes h .. h + LANES_VW - 1 */
        if (!((mask >> h) & ((1u << LANES_VW) - 1)))
            continue;
        lanes_m mk;
        for (int l = 0; l < LANES_VW; l++)
            mk[l] = (mask >> (h + l)) & 1 ? -1 : 0;
        if (d == 15) {
            lanes_v uv[15];
            LANES_NAME(lanes_body)(A, V, b, th, t0, x, y, w, 15, h, mk, ninc, Xt, Kp, mq, s_out, uv);
        } else {
            LANES_NAME(lanes_body)(A, V, b, th, t0, x, y, w, d, h, mk, ninc, Xt, Kp, mq, s_out,
                                   (lanes_v *)u);
        }
    }
}

#undef LD
#undef ST
#undef MASKED
