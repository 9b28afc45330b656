/* maximal_cluster.c - MAXIMAL-CLUSTER (Algorithm 3), union-find components
 * and the small-component merge rule (colb/cluster.h). */
#include "colb/cluster.h"
#include "colb/limits.h"

#include <string.h>

#include "core/util.h"
#include "linalg/soa_kernel.h"

/* The bytes of the transposed estimates that colb_maximal_cluster visits
 * per pass of the rows: half a core's L1 (48 KB on Zen 5 and on recent
 * Xeons). bench section 6, N = 10,000 / 50,000 at d = 15: 8-40 KB all
 * 42-57 / 970-1,310 ms, 96-512 KB 72-75 / 1,770-1,910 ms. */
#define MC_CHUNK_BYTES (24u * 1024u)
/* The distances by halves (colb_maximal_cluster) pay while fewer than one
 * pair in MC_AGAIN_MAX is summed again, as measured over a chunk's first
 * MC_PROBE rows' worth of pairs. */
#define MC_PROBE 32u
#define MC_AGAIN_MAX 16u

/* Union-find with path halving and union by size. */
static size_t uf_find(size_t *parent, size_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

/* The sets of a and b joined; the root of the union. */
static size_t uf_union(size_t *parent, size_t *size, size_t a, size_t b)
{
    a = uf_find(parent, a);
    b = uf_find(parent, b);
    if (a == b)
        return a;
    if (size[a] < size[b]) {
        size_t t = a;
        a = b;
        b = t;
    }
    parent[b] = a;
    size[a] += size[b];
    return a;
}

/* Labels from union-find roots, numbered by smallest member. */
static size_t uf_labels(size_t *parent, size_t N, size_t *labels, size_t *root_label)
{
    size_t n = 0;
    for (size_t i = 0; i < N; i++)
        root_label[i] = (size_t)-1;
    for (size_t i = 0; i < N; i++) {
        size_t r = uf_find(parent, i);
        if (root_label[r] == (size_t)-1)
            root_label[r] = n++;
        labels[i] = root_label[r];
    }
    return n;
}

colb_status colb_merge_small(size_t N, size_t *labels, size_t *n_clusters, double pstar)
{
    if (!labels || !n_clusters || N == 0)
        return COLB_EINVAL;
    if (!isfinite(pstar) || pstar < 0.0 || pstar > 1.0)
        return isfinite(pstar) ? COLB_ERANGE : COLB_ENONFIN;
    size_t C = *n_clusters;
    if (C > N) /* N labels name at most N clusters; the arrays below are C long */
        return COLB_ERANGE;
    size_t *size = colb__calloc(C, sizeof(size_t)), *map = colb__malloc(C, sizeof(size_t));
    if (!size || !map) {
        free(size);
        free(map);
        return COLB_ENOMEM;
    }
    for (size_t i = 0; i < N; i++) {
        if (labels[i] >= C) {
            free(size);
            free(map);
            return COLB_ERANGE;
        }
        size[labels[i]]++;
    }
    double min_size = pstar * (double)N;
    /* small clusters all map to one id, given at the first small member */
    size_t n = 0, small_id = (size_t)-1;
    for (size_t c = 0; c < C; c++)
        map[c] = (size_t)-1;
    for (size_t i = 0; i < N; i++) {
        size_t c = labels[i];
        if (map[c] == (size_t)-1) {
            if ((double)size[c] < min_size) {
                if (small_id == (size_t)-1)
                    small_id = n++;
                map[c] = small_id;
            } else {
                map[c] = n++;
            }
        }
        labels[i] = map[c];
    }
    *n_clusters = n;
    free(size);
    free(map);
    return COLB_OK;
}

colb_status colb_components(size_t N, const size_t *edges, size_t n_edges, size_t *labels,
                            size_t *n_clusters)
{
    if (!labels || !n_clusters || N == 0 || (n_edges && !edges))
        return COLB_EINVAL;
    size_t *parent = colb__malloc(N, 3 * sizeof(size_t));
    if (!parent)
        return COLB_ENOMEM;
    size_t *size = parent + N, *tmp = parent + 2 * N;
    for (size_t i = 0; i < N; i++) {
        parent[i] = i;
        size[i] = 1;
    }
    for (size_t e = 0; e < n_edges; e++) {
        if (edges[2 * e] >= N || edges[2 * e + 1] >= N) {
            free(parent);
            return COLB_ERANGE;
        }
        uf_union(parent, size, edges[2 * e], edges[2 * e + 1]);
    }
    *n_clusters = uf_labels(parent, N, labels, tmp);
    free(parent);
    return COLB_OK;
}

colb_status colb_maximal_cluster(const double *theta, size_t N, size_t d, double gamma,
                                 const double *radius, double pstar, size_t *labels,
                                 size_t *n_clusters)
{
    if (!theta || !labels || !n_clusters || N == 0 || d == 0)
        return COLB_EINVAL;
    /* sizes first: an N x d array that memory cannot hold is out of range,
     * not a NaN (and the transposed copy's bytes must not overflow) */
    if (d > COLB_DIM_MAX || N > (size_t)-1 / (d * sizeof(double)))
        return COLB_ERANGE;
    if (!colb__finite(theta, N * d))
        return COLB_ENONFIN;
    if (radius) {
        if (!colb__finite(radius, N))
            return COLB_ENONFIN;
        for (size_t i = 0; i < N; i++)
            if (radius[i] < 0.0)
                return COLB_ERANGE;
    } else if (!isfinite(gamma) || gamma < 0.0) {
        return isfinite(gamma) ? COLB_ERANGE : COLB_ENONFIN;
    }
    if (!isfinite(pstar) || pstar < 0.0 || pstar > 1.0)
        return isfinite(pstar) ? COLB_ERANGE : COLB_ENONFIN;

    /* Inputs whose squared distances leave the doubles' range are scaled
     * by a power of two: down by the least shift that keeps d (2 max)^2
     * finite (beyond 2^499: 1e308 - (-1e308) overflowed), up to a largest
     * magnitude of 1 when all are below 2^-400 (1e-200 squared underflowed
     * to 0 <= gamma^2 = 0). Scaling up is exact; scaling down is exact but
     * for entries 2^-1022 below the shifted ones, lost anyway to the
     * squares of the large ones. Other inputs are used as they are. */
    double m = radius ? 0.0 : gamma;
    for (size_t i = 0; i < N * d; i++)
        m = fabs(theta[i]) > m ? fabs(theta[i]) : m;
    for (size_t i = 0; radius && i < N; i++)
        m = radius[i] > m ? radius[i] : m;
    int e = m > 0.0 ? ilogb(m) : 0, shift = e > 499 ? 499 - e : e < -400 ? -e : 0;
    double *scaled = NULL;
    if (shift) {
        if (!(scaled = colb__malloc(N, (d + 1) * sizeof(double))))
            return COLB_ENOMEM;
        for (size_t i = 0; i < N * d; i++)
            scaled[i] = ldexp(theta[i], shift);
        for (size_t i = 0; radius && i < N; i++)
            scaled[N * d + i] = ldexp(radius[i], shift);
        theta = scaled;
        radius = radius ? scaled + N * d : NULL;
        gamma = ldexp(gamma, shift);
    }
    const colb__soa_kernel *kern = colb__soa_env_kernel(); /* dist2: the same bits on every path */
    size_t *parent = colb__malloc(N, 3 * sizeof(size_t));
    /* the transposed copy's rows a multiple of 8 columns long, on cache
     * lines: the kernel's loads then start on a line (and its size is a
     * multiple of 64 bytes, as aligned_alloc requires) */
    size_t ld = (N + 7) / 8 * 8;
    double *thT = d <= (size_t)-1 / sizeof(double) / ld ? aligned_alloc(64, ld * d * sizeof(double)) : NULL;
    /* the pairs go by chunks of `cols` columns (below): a row's distances
     * and edge bits, one chunk at a time */
    size_t cols = MC_CHUNK_BYTES / (d * sizeof(double)) / 8 * 8;
    cols = cols < 64 ? 64 : cols;
    size_t chunk = cols < N ? cols : N;
    double *d2 = colb__malloc(chunk, sizeof(double));
    uint64_t *far = colb__malloc(chunk / 64 + 1, sizeof(uint64_t));
    size_t *idx = colb__malloc(chunk, sizeof(size_t));
    colb_status st = COLB_ENOMEM;
    if (!parent || !thT || !d2 || !far || !idx)
        goto out;
    size_t *size = parent + N, *tmp = parent + 2 * N;
    for (size_t i = 0; i < N; i++) {
        parent[i] = i;
        size[i] = 1;
    }
    colb__soa_transpose(theta, N, d, ld, thT);
    double g2 = gamma * gamma;
    /* A pair's squared distance sums its coordinates' squares in order, so
     * its partial sums only grow (adding a square never rounds a sum
     * down): a partial sum already over the pair's bound decides "far"
     * exactly, whatever h is. So the distances go over the first h = d/2
     * coordinates first, and only the pairs that are not far by then and
     * not yet in one component are summed over all d coordinates again,
     * gathered, to the same bits as one pass. bench section 6 (d = 15, 35
     * groups): 47-49 -> 32-34 ms at N = 10,000, 1.12-1.19 -> 0.75-0.77 s
     * at 50,000; clusters that the bound barely parts fall back to one
     * pass (MC_AGAIN_MAX) and take as long as before. */
    size_t half = d >= 8 ? d / 2 : d;
    /* The pairs by chunks of columns that stay in L1 while every row
     * passes over them: row by row over all columns, each row read the
     * whole transposed copy from L2 or beyond (1.2 MB at N = 10,000, d =
     * 15; bench section 6, one pass of d: 79-84 -> 48-49 ms, and 2.4-3.2
     * -> 1.14-1.16 s at N = 50,000). The edges are the same, found in
     * another order, and the labels depend only on the components. */
    for (size_t j0 = 0; j0 < N; j0 += cols) {
        size_t j1 = N - j0 > cols ? j0 + cols : N, h = half, seen = 0, again = 0;
        for (size_t i = 0; i + 1 < j1; i++) {
            /* d2[q] = ||theta_i - theta_s+q||^2 over the chunk's columns
             * from s, over the first h coordinates (no ||a||^2 + ||b||^2 -
             * 2 a^T b cancellation): those after i, from the cache line
             * they start in - the few at or before i that come with it are
             * pairs met already, or i itself, whose edges change no
             * component */
            const double *ti = theta + i * d;
            size_t s = (i + 1) / 8 * 8 > j0 ? (i + 1) / 8 * 8 : j0, n = j1 - s, nu = 0;
            kern->dist2(thT + s, ld, ti, h, n, d2);
            /* the edges: d2 <= (r_i + r_j)^2, or <= gamma^2, the complement
             * of the kernels' tests d2 > (r_i + r_j)^2 (far_bits) and d2 >
             * gamma^2 (above_bits), each as the scalar expression evaluates
             * it (no NaN here: the inputs are finite); vectorised, and the
             * union-find visits only the edges (the scalar test of every
             * pair was a third of a 10,000-user clustering) */
            if (radius)
                kern->far_bits(d2, radius + s, radius[i], n, far);
            else
                kern->above_bits(d2, n, g2, far);
            /* a pair already in one component adds nothing: not summed
             * again, not joined (most pairs of a cluster, once its first
             * rows have joined it) */
            size_t ri = uf_find(parent, i);
            for (size_t w = 0; w < (n + 63) / 64; w++) {
                uint64_t near = ~far[w];
                if (n - w * 64 < 64)
                    near &= ((uint64_t)1 << (n - w * 64)) - 1;
                for (; near; near &= near - 1) {
                    size_t j = s + w * 64 + colb__ctz64(near);
                    if (uf_find(parent, j) == ri)
                        continue;
                    if (h == d)
                        ri = uf_union(parent, size, ri, j);
                    else
                        idx[nu++] = j;
                }
            }
            /* gathered, a pair costs several times its share of the
             * contiguous pass: when too many are summed again (clusters
             * that the bound barely parts), the chunk's other rows sum
             * every coordinate at once */
            seen += n;
            again += nu;
            if (h < d && seen >= MC_PROBE * cols && again * MC_AGAIN_MAX > seen)
                h = d;
            if (nu == 0)
                continue;
            /* the undecided pairs over all d coordinates, tested as
             * far_bits and above_bits test */
            kern->dist2_idx(thT, ld, ti, d, idx, nu, d2);
            for (size_t q = 0; q < nu; q++) {
                double t = radius ? radius[i] + radius[idx[q]] : 0.0;
                if (!(d2[q] > (radius ? t * t : g2)))
                    ri = uf_union(parent, size, ri, idx[q]);
            }
        }
    }
    *n_clusters = uf_labels(parent, N, labels, tmp);
    st = COLB_OK;
out:
    free(parent);
    free(thT);
    free(d2);
    free(far);
    free(idx);
    free(scaled);
    return st == COLB_OK ? colb_merge_small(N, labels, n_clusters, pstar) : st;
}
