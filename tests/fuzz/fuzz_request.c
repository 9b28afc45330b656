/* fuzz_request.c - libFuzzer harness: the request parser of colb serve
 * (serve/codec.c). Input: one byte choosing what is parsed (mod 5: choose,
 * choose batch, reward, reward batch, a user id and a decision id), then
 * the body. Every input is either refused with a message or parsed into a
 * request whose every field is within the limits (checked here: a
 * violation aborts); a single choose's fast path is checked against the
 * general path. Seed corpus: tests/fuzz/corpus/request/. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "colb/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

static void check_choose(const choose_req *q, const codec_limits *lim, int batch)
{
    size_t total = 0;
    check(q->n_rounds >= 1 && q->n_rounds <= (batch ? lim->max_batch : 1));
    for (size_t r = 0; r < q->n_rounds; r++) {
        const choose_round *rd = &q->rounds[r];
        check(rd->K >= 1 && rd->K <= lim->max_contexts);
        check(rd->n_users >= 1 && rd->n_users <= lim->max_batch);
        for (size_t i = 0; i < rd->K * lim->dim; i++)
            check(isfinite(rd->X[i]) && fabs(rd->X[i]) <= COLB_CONTEXT_MAX);
        for (size_t i = 0; i < rd->n_users; i++) {
            char err[160];
            check(strlen(rd->users[i]) == rd->user_len[i]);
            check(codec_check_user_id(rd->users[i], rd->user_len[i], lim->max_id_bytes, err, sizeof err) == 0);
            for (size_t j = 0; j < i; j++)
                check(strcmp(rd->users[i], rd->users[j]) != 0);
        }
        total += rd->n_users;
    }
    check(total == q->n_decisions);
}

/* A single choose's fast path (codec.c, choose_fast) against the general
 * path: "\f" + body, which the strict reader leaves to cJSON (a form feed
 * is not its whitespace), is accepted exactly when the body is, as the
 * same request. */
static void same_as_general(const char *body, size_t len, const codec_limits *lim, int rc, const choose_req *q)
{
    char *ff = malloc(len + 1);
    if (!ff)
        return;
    ff[0] = '\f';
    memcpy(ff + 1, body, len);
    arena a = { 0 };
    choose_req r;
    char err[768];
    int rc2 = codec_parse_choose(ff, len + 1, 0, lim, &a, &r, err, sizeof err);
    check(rc == rc2);
    if (rc == 0) {
        const choose_round *u = q->rounds, *v = r.rounds;
        check(u->K == v->K && !memcmp(u->X, v->X, u->K * lim->dim * sizeof(double)));
        check(u->user_len[0] == v->user_len[0] && !memcmp(u->users[0], v->users[0], u->user_len[0] + 1));
    }
    arena_free(&a);
    free(ff);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const codec_limits lim = { 3, 8, 16, 32 };
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    char err[768] = "";
    arena a = { 0 };
    int kind = data[0] % 5;
    if (kind <= 1) {
        choose_req q;
        int rc = codec_parse_choose(body, len, kind, &lim, &a, &q, err, sizeof err);
        if (rc == 0)
            check_choose(&q, &lim, kind);
        else
            check(err[0] != '\0');
        if (kind == 0)
            same_as_general(body, len, &lim, rc, &q);
    } else if (kind <= 3) {
        reward_req q;
        if (codec_parse_reward(body, len, kind == 3, &lim, &a, &q, err, sizeof err) == 0) {
            check(q.n >= 1 && q.n <= (kind == 3 ? lim.max_batch : 1));
            for (size_t i = 0; i < q.n; i++)
                check(q.items[i].id.seq >= 1 && isfinite(q.items[i].y) && fabs(q.items[i].y) <= COLB_REWARD_MAX);
        } else {
            check(err[0] != '\0');
        }
    } else {
        decision_id id;
        if (codec_parse_decision(body, len, &id) == 0) {
            char back[48]; /* a decision id reads back as itself */
            snprintf(back, sizeof back, "%u-%llu", (unsigned)id.gen, (unsigned long long)id.seq);
            check(strlen(back) == len && !memcmp(back, body, len));
        }
        if (codec_check_user_id(body, len, 64, err, sizeof err) != 0)
            check(err[0] != '\0');
    }
    arena_free(&a);
    return 0;
}
