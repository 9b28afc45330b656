/* routes.c - the routes of the HTTP API (routes.h). */
#include "routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char JSON[] = "application/json";

route_id routes_match(const char *path, const char **arg)
{
    *arg = NULL;
    if (!strcmp(path, "/v1/choose"))
        return R_CHOOSE;
    if (!strcmp(path, "/v1/choose/batch"))
        return R_CHOOSE_BATCH;
    if (!strcmp(path, "/v1/reward"))
        return R_REWARD;
    if (!strcmp(path, "/v1/reward/batch"))
        return R_REWARD_BATCH;
    if (!strcmp(path, "/v1/stats"))
        return R_STATS;
    if (!strncmp(path, "/v1/users/", 10)) {
        *arg = path + 10;
        return R_USER;
    }
    if (!strcmp(path, "/healthz"))
        return R_HEALTH;
    if (!strcmp(path, "/metrics"))
        return R_METRICS;
    return R_OTHER;
}

static int is_post(route_id r) { return r == R_CHOOSE || r == R_CHOOSE_BATCH || r == R_REWARD || r == R_REWARD_BATCH; }

int routes_method_ok(route_id r, const char *method)
{
    if (is_post(r))
        return !strcmp(method, "POST");
    return !strcmp(method, "GET") || !strcmp(method, "HEAD");
}

const char *routes_allow(route_id r) { return is_post(r) ? "POST" : "GET, HEAD"; }

int routes_needs_token(route_id r) { return r != R_HEALTH; }

int routes_token_ok(const routes_ctx *c, const char *auth)
{
    if (!c->token)
        return 1;
    /* the scheme's case does not matter and one or more spaces follow it
     * (RFC 7235 2.1, RFC 6750 2.1); whitespace at the end of the field is
     * not part of its value (RFC 7230 3.2.4), and libmicrohttpd keeps it */
    if (!auth || strncasecmp(auth, "Bearer ", 7))
        return 0;
    const char *given = auth + 7, *want = c->token;
    while (*given == ' ')
        given++;
    size_t gl = strlen(given), wl = strlen(want);
    while (gl && (given[gl - 1] == ' ' || given[gl - 1] == '\t'))
        gl--;
    unsigned char diff = (unsigned char)(gl != wl);
    for (size_t i = 0; i < wl; i++) /* every byte of the token, whatever matches */
        diff |= (unsigned char)(want[i] ^ (i < gl ? given[i] : 0));
    return diff == 0;
}

void routes_error(answer *ans, unsigned status, const char *code, const char *msg)
{
    memset(ans, 0, sizeof *ans);
    ans->status = status;
    ans->content_type = JSON;
    ans->body = codec_error(code, msg, &ans->len);
    if (status == 503)
        ans->retry_after = 1;
}

static void answer_json(answer *ans, unsigned status, char *body, size_t len)
{
    memset(ans, 0, sizeof *ans);
    ans->status = body ? status : 503;
    ans->content_type = JSON;
    ans->body = body;
    ans->len = len;
    if (!body)
        routes_error(ans, 503, "out_of_memory", "out of memory");
}

void routes_unavailable(answer *ans, const char *why)
{
    sbuf b = { 0 };
    size_t len;
    sbuf_put(&b, "{\"status\":\"unavailable\",\"reason\":", 33);
    codec_put_string(&b, why, strlen(why));
    sbuf_put(&b, "}", 1);
    char *body = sbuf_take(&b, &len);
    answer_json(ans, 503, body, len);
    ans->retry_after = 1;
}

/* The job's results, allocated in the request's arena. */
static int prepare(job *j, arena *a)
{
    if (j->kind == JOB_CHOOSE) {
        j->ids = arena_alloc(a, j->choose.n_decisions * sizeof *j->ids);
        j->arms = arena_alloc(a, j->choose.n_decisions * sizeof *j->arms);
        return j->ids && j->arms ? 0 : -1;
    }
    if (j->kind == JOB_REWARD) {
        j->item_status = arena_alloc(a, j->reward.n);
        return j->item_status ? 0 : -1;
    }
    return 0;
}

int routes_prepare(const routes_ctx *c, route_id r, const char *arg, const char *body, size_t len, arena *a,
                   job *j, answer *ans)
{
    char err[768];
    memset(j, 0, sizeof *j);
    switch (r) {
    case R_CHOOSE:
    case R_CHOOSE_BATCH:
        if (codec_parse_choose(body, len, r == R_CHOOSE_BATCH, &c->lim, a, &j->choose, err, sizeof err)) {
            routes_error(ans, 400, "bad_request", err);
            return 0;
        }
        j->kind = JOB_CHOOSE;
        break;
    case R_REWARD:
    case R_REWARD_BATCH:
        if (codec_parse_reward(body, len, r == R_REWARD_BATCH, &c->lim, a, &j->reward, err, sizeof err)) {
            routes_error(ans, 400, "bad_request", err);
            return 0;
        }
        j->kind = JOB_REWARD;
        break;
    case R_STATS:
        j->kind = JOB_STATS;
        break;
    case R_USER: {
        size_t n = strlen(arg);
        if (codec_check_user_id(arg, n, c->lim.max_id_bytes, err, sizeof err)) {
            routes_error(ans, 400, "bad_request", err);
            return 0;
        }
        j->kind = JOB_USER;
        j->user = arg;
        j->user_len = n;
        break;
    }
    case R_HEALTH: {
        char why[512];
        if (engine_health(c->e, why, sizeof why)) {
            routes_unavailable(ans, why);
        } else {
            char *ok = malloc(16);
            if (ok)
                memcpy(ok, "{\"status\":\"ok\"}", 16);
            answer_json(ans, 200, ok, 15);
        }
        return 0;
    }
    case R_METRICS:
        memset(ans, 0, sizeof *ans);
        ans->body = metrics_render(c->m, &ans->len);
        ans->status = ans->body ? 200 : 503;
        ans->content_type = "text/plain; version=0.0.4; charset=utf-8";
        return 0;
    default:
        routes_error(ans, 404, "not_found", "no such route (see docs/serve.md)");
        return 0;
    }
    if (prepare(j, a)) {
        routes_error(ans, 503, "out_of_memory", "out of memory");
        return 0;
    }
    return 1;
}

static const char *conflict_code(dec_status d)
{
    return d == DEC_UNKNOWN ? "unknown_decision" : d == DEC_EXPIRED ? "expired_decision" : "already_rewarded";
}

static const char *conflict_text(dec_status d)
{
    return d == DEC_UNKNOWN ? "no such decision (never made, or made just before a crash and lost with it)"
           : d == DEC_EXPIRED ? "the decision is older than the decision window (--decision-window)"
                              : "the decision was rewarded already (the reward is applied and durable)";
}

void routes_finish(route_id r, const job *j, answer *ans)
{
    if (j->status) {
        routes_error(ans, j->status, j->err_code, j->err_msg);
        return;
    }
    sbuf b = { 0 };
    size_t len;
    switch (j->kind) {
    case JOB_STATS:
    case JOB_USER: /* a copy: the job keeps its body (freed with the request) */
        sbuf_put(&b, j->body, j->body_len);
        break;
    case JOB_CHOOSE:
        if (r == R_CHOOSE) {
            codec_put_decisions(&b, j->ids, j->arms, 1);
        } else {
            sbuf_put(&b, "{\"decisions\":[", 14);
            codec_put_decisions(&b, j->ids, j->arms, j->choose.n_decisions);
            sbuf_put(&b, "]}", 2);
        }
        break;
    case JOB_REWARD:
        if (r == R_REWARD) {
            dec_status d = (dec_status)j->item_status[0];
            if (d != DEC_PENDING) {
                char msg[256], id[48];
                snprintf(id, sizeof id, "%u-%llu", (unsigned)j->reward.items[0].id.gen,
                         (unsigned long long)j->reward.items[0].id.seq);
                snprintf(msg, sizeof msg, "decision %s: %s", id, conflict_text(d));
                routes_error(ans, 409, conflict_code(d), msg);
                return;
            }
            sbuf_put(&b, "{\"decision\":", 12);
            codec_put_decision(&b, j->reward.items[0].id);
            sbuf_put(&b, ",\"applied\":true}", 16);
        } else {
            size_t applied = 0;
            for (size_t i = 0; i < j->reward.n; i++)
                applied += j->item_status[i] == DEC_PENDING;
            sbuf_printf(&b, "{\"applied\":%zu,\"conflicts\":[", applied);
            int first = 1;
            for (size_t i = 0; i < j->reward.n; i++) {
                dec_status d = (dec_status)j->item_status[i];
                if (d == DEC_PENDING)
                    continue;
                sbuf_printf(&b, "%s{\"index\":%zu,\"decision\":", first ? "" : ",", i);
                codec_put_decision(&b, j->reward.items[i].id);
                sbuf_printf(&b, ",\"code\":\"%s\",\"error\":\"%s\"}", conflict_code(d), conflict_text(d));
                first = 0;
            }
            sbuf_put(&b, "]}", 2);
        }
        break;
    }
    char *body = sbuf_take(&b, &len);
    answer_json(ans, 200, body, len);
}
