/* online.c - embedding colb in a recommender: colb's recommended policy
 * (cohort) serving users online, round by round, through the public API only.
 * It needs no horizon: it finds the groups of users with alike tastes as
 * their feedback arrives, and users may be added at any time.
 *
 * Each round the application has K candidate items (their feature vectors),
 * asks the policy which item to show to each user who is online, shows it,
 * and reports the user's feedback. Here the users' feedback is simulated from
 * hidden preference vectors; in a real system it comes from the users.
 *
 * Build: cc -std=c11 online.c $(pkg-config --cflags --libs colb) -o online
 *        (in this repository: make build/examples/online) */
#include <stdio.h>
#include <stdlib.h>

#include "colb/colb.h"

enum { N = 60, D = 8, K = 10, T = 400 };

static int fail(const char *what, colb_status st, const char *detail)
{
    fprintf(stderr, "online: %s: %s (%s)\n", what, colb_strerror(st), detail);
    return 1;
}

int main(void)
{
    colb_policy_params pp;
    colb_policy_params_default(&pp);
    pp.users = N;
    pp.dim = D;
    pp.learner.noise = 0.1;         /* the feedback's noise scale */
    colb_policy *policy;
    char msg[256];
    colb_status st = colb_policy_create("recommended", &pp, &policy, msg, sizeof msg);
    if (st != COLB_OK)
        return fail("create", st, msg);

    /* hidden tastes: three groups of users (only the simulation knows them) */
    colb_rng rng;
    colb_rng_seed(&rng, 42, 0);
    double taste[3][D], items[K * D];
    for (int g = 0; g < 3; g++)
        colb_rng_sphere(&rng, taste[g], D);

    double regret = 0;
    for (int t = 0; t < T; t++) {
        colb_rng_normal_fill(&rng, items, K * D, 0.35);   /* this round's items */
        if ((st = colb_policy_begin_round(policy, items, K)) != COLB_OK)
            return fail("begin_round", st, colb_policy_last_error(policy));
        for (size_t u = 0; u < N; u++) {
            if (colb_rng_uniform(&rng) < 0.2)
                continue;                                   /* user u is offline */
            size_t arm;
            if ((st = colb_policy_choose(policy, u, &arm)) != COLB_OK)
                return fail("choose", st, colb_policy_last_error(policy));
            const double *th = taste[u % 3];
            double best = -1e300, got = 0;
            for (int k = 0; k < K; k++) {
                double m = 0;
                for (int j = 0; j < D; j++)
                    m += th[j] * items[k * D + j];
                if (m > best)
                    best = m;
                if ((size_t)k == arm)
                    got = m;
            }
            regret += best - got;
            double feedback = got + 0.1 * colb_rng_normal(&rng);
            if ((st = colb_policy_observe(policy, u, arm, feedback)) != COLB_OK)
                return fail("observe", st, colb_policy_last_error(policy));
        }
        if ((st = colb_policy_end_round(policy)) != COLB_OK)
            return fail("end_round", st, colb_policy_last_error(policy));
        if (t + 1 == T / 2) {
            /* A restart: the service saves what it learned, stops, and
             * comes back exactly where it was (a real one saves to a file:
             * colb_policy_save(policy, path, ...) is atomic and durable, and
             * colb_policy_load(path, NULL, &policy, ...) reads it back;
             * colb_policy_add_users takes users who sign up meanwhile). */
            size_t len = 0;
            colb_policy_save_buffer(policy, NULL, 0, &len, msg, sizeof msg); /* the size */
            unsigned char *snap = malloc(len);
            if (!snap || (st = colb_policy_save_buffer(policy, snap, len, &len, msg, sizeof msg)) != COLB_OK)
                return fail("save", snap ? st : COLB_ENOMEM, msg);
            colb_policy_free(policy);
            st = colb_policy_load_buffer(snap, len, NULL, &policy, msg, sizeof msg);
            free(snap);
            if (st != COLB_OK)
                return fail("load", st, msg);
            printf("round %3d: saved %zu bytes, restarted, loaded\n", t + 1, len);
        }
        if ((t + 1) % 100 == 0)
            printf("round %3d: regret per user %.2f  [%s]\n", t + 1, regret / N,
                   colb_policy_info(policy));
    }
    size_t labels[N], n_clusters;
    if (colb_policy_clusters(policy, labels, &n_clusters) == COLB_OK)
        printf("clusters found: %zu (true: 3)\n", n_clusters);
    colb_policy_free(policy);
    return 0;
}
