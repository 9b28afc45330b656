/* colb/dataset.h - logged data sets and the environment that replays them.
 *
 * A colb_dataset is a fixed catalogue of n_items items, each with a
 * d-dimensional feature vector, and n_users users, each with the set of items
 * that user rated positively (reward 1; every other item has reward 0).
 * Items and users are addressed by dense indices 0..n-1; their original ids
 * (arbitrary non-negative integers from the source files) are kept.
 *
 * Sources:
 *   colb_dataset_create   arrays in memory;
 *   colb_dataset_load     the general two-file text format of docs/data.md;
 *   colb_lastfm_load      the HetRec 2011 Last.FM files, with the item
 *                         features of the paper's section 6.2 (atomic tags,
 *                         TF-IDF, top principal components) and an optional
 *                         feature cache.
 *
 * A dataset is immutable after creation: it may be read from several threads
 * at once and shared by several environments. */
#ifndef COLB_DATASET_H
#define COLB_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "colb/env.h"
#include "colb/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct colb_dataset colb_dataset;

/* ---- creation and access ------------------------------------------------ */

/* Create a dataset by copying the caller's arrays.
 *   n_items >= 1 items, 1 <= dim <= COLB_DIM_MAX;
 *   item_ids[n_items]          distinct original item ids;
 *   features[n_items * dim]    row-major, item i's vector at features + i*dim,
 *                              all finite and within +-COLB_CONTEXT_MAX
 *                              (colb/limits.h: every context a policy takes,
 *                              as the loaders below require);
 *   n_users >= 1 users, user_ids[n_users] distinct;
 *   pos_ptr[n_users + 1]       user u's positives are
 *                              pos_items[pos_ptr[u] .. pos_ptr[u+1]), item
 *                              indices < n_items, in any order, duplicates
 *                              allowed (they are sorted and merged);
 *                              pos_ptr[0] == 0, non-decreasing.
 * Users may have no positives. Errors: COLB_EINVAL (NULL, bad shape,
 * duplicate id, index out of range; msg names it), COLB_ENONFIN (a NaN/Inf
 * feature), COLB_ERANGE (dim > COLB_DIM_MAX, a feature beyond
 * +-COLB_CONTEXT_MAX), COLB_ENOMEM. On error *out is NULL. Cost O(n_items d + P log P). */
colb_status colb_dataset_create(size_t n_items, size_t dim, const uint64_t *item_ids,
                                const double *features, size_t n_users, const uint64_t *user_ids,
                                const size_t *pos_ptr, const size_t *pos_items,
                                colb_dataset **out, char *msg, size_t msg_len);

/* Release a dataset; NULL is harmless. Environments created over it must be
 * freed first. */
void colb_dataset_free(colb_dataset *ds);

size_t colb_dataset_users(const colb_dataset *ds);
size_t colb_dataset_items(const colb_dataset *ds);
size_t colb_dataset_dim(const colb_dataset *ds);

/* Total number of (user, item) positives (after merging duplicates). */
size_t colb_dataset_n_positives(const colb_dataset *ds);

/* The n_items x dim row-major feature matrix, owned by ds. */
const double *colb_dataset_features(const colb_dataset *ds);

/* User u's positives: returns their count and points *items (may be NULL
 * when only the count is wanted) at the item indices, strictly increasing,
 * owned by ds. 0 for u out of range. */
size_t colb_dataset_positives(const colb_dataset *ds, size_t u, const size_t **items);

/* 1 when item index i is a positive of user u, else 0 (also for indices out
 * of range). O(log |positives of u|). */
int colb_dataset_is_positive(const colb_dataset *ds, size_t u, size_t i);

/* Original ids (UINT64_MAX for an index out of range). */
uint64_t colb_dataset_item_id(const colb_dataset *ds, size_t i);
uint64_t colb_dataset_user_id(const colb_dataset *ds, size_t u);

/* Index of the item / user with original id `id`; COLB_ENOTFOUND if none,
 * COLB_EINVAL on NULL. O(log n). */
colb_status colb_dataset_item_index(const colb_dataset *ds, uint64_t id, size_t *index);
colb_status colb_dataset_user_index(const colb_dataset *ds, uint64_t id, size_t *index);

/* A 64-bit fingerprint of the whole data set (dimensions, ids, features,
 * positives; XXH3-64 of their little-endian bytes): equal for data sets
 * with the same content, whatever their source. Snapshots of logged-data
 * environments store it to recognise their data set. O(size of ds). */
uint64_t colb_dataset_fingerprint(const colb_dataset *ds);

/* A new dataset with the same items and the M users with the most positives
 * (ties: lower original id first), in that order: user 0 of *out has the
 * most positives. COLB_ERANGE unless 1 <= M <= n_users. Caller frees *out. */
colb_status colb_dataset_top_users(const colb_dataset *ds, size_t M, colb_dataset **out);

/* ---- the general text format (docs/data.md) ------------------------------ */

/* Load a dataset from two text files:
 *   features_path   lines  item_id SEP f1 SEP ... SEP fd
 *   positives_path  lines  user_id SEP item_id
 * SEP is a tab or a comma, detected per file from its first data line. Each
 * file may start with one header line (the first non-blank, non-comment line
 * when its first field does not start like a number: a digit, or a sign or
 * point and a digit; a first line with a number that is no valid id is an
 * error); blank lines and lines starting
 * with '#' are skipped; CRLF line ends are accepted; fields may carry
 * surrounding spaces. Ids are non-negative integers < 2^64, not necessarily
 * contiguous. Items keep the order of the features file; users are ordered
 * by increasing id; duplicate positives are merged.
 * Errors: COLB_EIO "cannot open 'PATH': reason"; COLB_EPARSE
 * "PATH:LINE: what was expected" for the first malformed line (wrong field
 * count, not a number, NaN/Inf, a feature beyond +-COLB_CONTEXT_MAX
 * (colb/limits.h: no policy takes it as a context), more than COLB_DIM_MAX
 * features per item, duplicate item id,
 * unknown item, no data, d == 0); COLB_ENOMEM. On error *out is NULL. */
colb_status colb_dataset_load(const char *features_path, const char *positives_path,
                              colb_dataset **out, char *msg, size_t msg_len);

/* colb_dataset_load under a memory budget of max_memory bytes (0: the
 * default, colb/limits.h): a file may have at most budget / 16 bytes (the
 * loader's memory per byte of input; a device such as /dev/zero ends with
 * an error once that many bytes have come), and the rows the features need
 * (items x d) are checked against the budget before they are allocated.
 * Over the budget: COLB_ENOMEM with the file and the estimate in msg; a
 * max_memory beyond COLB_MEMORY_MAX (1024T): COLB_ERANGE. */
colb_status colb_dataset_load_ex(const char *features_path, const char *positives_path,
                                 size_t max_memory, colb_dataset **out, char *msg, size_t msg_len);

/* Write ds in the format read by colb_dataset_load (tab-separated, one
 * header line each, doubles as %.17g so that they round-trip exactly). The
 * load gives ds back bit for bit when its users are in increasing order of
 * id and each has a positive (as a loaded data set's are); otherwise its
 * users come back sorted by id, those without positives left out (the
 * positives file names users only in their pairs). Each
 * file is written to a temporary name and renamed into place, both
 * temporaries made before either is renamed: a folder that cannot take one
 * (missing, not writable) fails the call with both files as they were;
 * only a failure between the two renames (a disk error) leaves the new
 * features beside the old positives. COLB_EIO on failure (msg names the
 * file). */
colb_status colb_dataset_write(const colb_dataset *ds, const char *features_path,
                               const char *positives_path, char *msg, size_t msg_len);

/* ---- Last.FM (HetRec 2011, hetrec2011-lastfm-2k) ------------------------- */

/* Which file defines a positive (user, artist) pair. */
typedef enum colb_lastfm_positives {
    COLB_LASTFM_LISTENED = 0, /* user_artists.dat: the user listened to the
                                 artist (weight >= 1); the default */
    COLB_LASTFM_TAGGED = 1    /* user_taggedartists.dat: the user tagged the
                                 artist at least once */
} colb_lastfm_positives;

/* Most principal components a Last.FM load computes (colb_lastfm_params.dim). */
#define COLB_LASTFM_DIM_MAX 1000u

typedef struct colb_lastfm_params {
    size_t dim;                      /* number of principal components, in
                                        [1, COLB_LASTFM_DIM_MAX]; default 25 */
    uint64_t seed;                   /* seed of the randomized SVD; default 1 */
    size_t oversample;               /* SVD oversampling p in [0, 1000]; default 25 */
    size_t power_iters;              /* SVD power iterations q in [0, 1000]; default 20.
                                        The TF-IDF spectrum is flat (sigma_25/sigma_26 =
                                        1.012), so p = 10, q = 4 leaves errors of 1e-2 in
                                        the singular values; the defaults give 1e-10
                                        (docs/data.md). */
    colb_lastfm_positives positives; /* default COLB_LASTFM_LISTENED */
    size_t max_memory;               /* budget in bytes (colb/limits.h), 0: the default;
                                        each file may have budget / 16 bytes and all
                                        of them together need about 16 bytes of
                                        memory per byte; at most COLB_MEMORY_MAX
                                        (1024T, COLB_ERANGE beyond) */
} colb_lastfm_params;

void colb_lastfm_params_default(colb_lastfm_params *p);

/* The 8 bytes a Last.FM feature cache file starts with (no NUL). */
#define COLB_LASTFM_CACHE_MAGIC "COLBFEAT"
#define COLB_LASTFM_CACHE_MAGIC_LEN 8

/* What a load did (all fields are filled on success). */
typedef struct colb_lastfm_info {
    int cache_hit;        /* 1: features read from the cache file */
    int cache_written;    /* 1: the cache file was (re)written */
    size_t n_assignments; /* tag assignments read */
    size_t n_skipped;     /* of which name an artist missing from artists.dat */
    size_t n_docs;        /* artists with at least one atomic tag */
    size_t n_terms;       /* distinct atomic tags (vocabulary size) */
    double explained;     /* share of the centred TF-IDF matrix's squared
                             Frobenius norm captured by the dim components */
} colb_lastfm_info;

/* Load the Last.FM data set from directory `dir` (artists.dat, tags.dat,
 * user_taggedartists.dat, user_artists.dat). Items are the artists of
 * artists.dat in file order; each gets the scores of its TF-IDF vector of
 * atomic tags on the top p->dim principal components (artists never tagged
 * get the zero vector: the centre of the feature space). Users are those
 * with at least one positive, by increasing id. See docs/data.md for the
 * pipeline and for why positives come from user_artists.dat by default.
 *
 * cache_path (may be NULL): a binary feature cache (docs/data.md; it
 * starts with COLB_LASTFM_CACHE_MAGIC). When it exists and matches the
 * parameters and the checksums of the three input files the features are
 * read from it; otherwise they are computed and the cache is (re)written
 * atomically. An existing cache_path that is not a regular file (a folder,
 * a device, a FIFO: never opened), or a non-empty file that does not start
 * with the magic (someone else's file), is neither read nor replaced:
 * COLB_EIO before any work. info may be NULL.
 *
 * Errors: COLB_EINVAL/COLB_ERANGE (parameters), COLB_EIO (missing file,
 * cache not writable, cache_path not a feature cache), COLB_EPARSE
 * ("FILE:LINE: ..."), COLB_ENOMEM, COLB_ENUMERIC (SVD failure). On error
 * *out is NULL. */
colb_status colb_lastfm_load_ex(const char *dir, const colb_lastfm_params *p,
                                const char *cache_path, colb_dataset **out,
                                colb_lastfm_info *info, char *msg, size_t msg_len);

/* colb_lastfm_load_ex with default parameters but for `dim`. */
colb_status colb_lastfm_load(const char *dir, size_t dim, const char *cache_path,
                             colb_dataset **out, char *msg, size_t msg_len);

/* ---- the logged-data environment --------------------------------------- */

typedef enum colb_logged_protocol {
    /* Each round K distinct items drawn uniformly, shown to every user
     * (shared contexts): the multi-agent protocol of the paper, sec. 6.2. */
    COLB_LOGGED_SHARED = 0,
    /* Each round, for each user separately, one item drawn uniformly from
     * that user's positives and K-1 other distinct items drawn uniformly
     * from the rest, in a uniformly random order (users without positives:
     * K uniform items). The CLUB protocol (Gentile, Li, Zappella 2014). */
    COLB_LOGGED_PER_USER = 1
} colb_logged_protocol;

/* An environment replaying ds: the users are ds's users, the dimension its
 * feature dimension, K arms per round. The reward of user u for arm k is 1
 * when the item shown as arm k is a positive of u, else 0 (no noise); the
 * regret is max over the K shown items of the reward minus the reward of k.
 * All draws come from the context stream of `seed` (colb/rng.h), in an order
 * that does not depend on the policy, so every policy sees the same rounds.
 * Cost per round O(K) for SHARED, O(N K) for PER_USER; contexts are copied
 * from ds on first request (K x d per user).
 * ds is borrowed and must outlive the environment. Errors: COLB_EINVAL,
 * COLB_ERANGE (K == 0 or K > n_items), COLB_ENOMEM. */
colb_status colb_env_create_logged(const colb_dataset *ds, colb_logged_protocol proto, size_t K,
                                   uint64_t seed, colb_env **out, char *msg, size_t msg_len);

/* The K item indices shown to user u in the current round (owned by e,
 * valid until the next round); NULL before the first round, for u out of
 * range, or when e is not a logged-data environment. */
const size_t *colb_env_logged_items(const colb_env *e, size_t u);

#ifdef __cplusplus
}
#endif
#endif
