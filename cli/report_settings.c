/* report_settings.c - the settings of an experiment in words, for the
 * report (report_settings.h): one line for the settings every reading
 * shares, and per reading what it changes. Both read the settings back from
 * config_dump_values, the text settings.txt holds with the options no
 * policy reads as settings, not comments. */
#include "report_settings.h"

#include <stdlib.h>
#include <string.h>

#include "markdown.h"

/* The settings of a run_config as `key = value` lines (config_dump_values:
 * the options no policy reads, comments in settings.txt, are values here). */
typedef struct dump {
    char *text;
    size_t len;
} dump;

static int dump_config(dump *d, const run_config *c)
{
    d->text = NULL;
    d->len = 0;
    FILE *f = open_memstream(&d->text, &d->len);
    if (!f)
        return -1;
    config_dump_values(f, "x", c);
    return fclose(f) == 0 ? 0 : -1;
}

/* The value of `key` in a dump ("" if absent). */
static const char *dump_get(const dump *d, const char *key, char *out, size_t len)
{
    out[0] = '\0';
    size_t k = strlen(key);
    for (const char *p = d->text; p && *p;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n > k + 3 && !strncmp(p, key, k) && !strncmp(p + k, " = ", 3)) {
            snprintf(out, len, "%.*s", (int)(n - k - 3), p + k + 3);
            break;
        }
        p += n + (e != NULL);
    }
    return out;
}

/* "SYMBOL = VALUE UNIT", or with the swept values in braces when `key` is
 * the swept option: "N = {10, 30, 100} users". */
static void item(FILE *f, const run_config *c, const char *sep, const char *key, const char *symbol,
                 const char *value, const char *unit, int *shown_sweep)
{
    fprintf(f, "%s%s%s", sep, symbol, *symbol ? " = " : "");
    if (c->n_sweep && !strcmp(c->sweep_key, key)) {
        fputc('{', f);
        for (size_t s = 0; s < c->n_sweep; s++) {
            fputs(s ? ", " : "", f);
            md_text(f, c->sweep_values[s]);
        }
        fputc('}', f);
        *shown_sweep = 1;
    } else {
        md_text(f, value);
    }
    fprintf(f, "%s%s", *unit && *unit != ')' ? " " : "", unit);
}

/* One line describing the settings shared by the readings. */
void report_settings_line(FILE *f, const experiment *e)
{
    const run_config *c = &e->base;
    dump d;
    if (dump_config(&d, c)) {
        free(d.text);
        fputs("(settings unavailable)", f);
        return;
    }
    char env[64], v[PATH_LEN];
    int sw = 0;
    dump_get(&d, "env", env, sizeof env);
    item(f, c, "", "env", "env", env, "", &sw);
    if (!strcmp(env, "lastfm") || !strcmp(env, "logged")) {
        item(f, c, ", ", "protocol", "protocol", dump_get(&d, "protocol", v, sizeof v), "", &sw);
        snprintf(v, sizeof v, "%zu", c->top_users);
        item(f, c, ", ", "top-users", "M", c->top_users ? v : "all",
             c->top_users ? "most active users" : "users", &sw); /* "M = all users" */
    } else {
        snprintf(v, sizeof v, "%zu", c->sim.env.users);
        item(f, c, ", ", "users", "N", v, "users", &sw);
        if (!strcmp(env, "clustered")) {
            snprintf(v, sizeof v, "%zu", c->sim.env.clusters);
            item(f, c, " in ", "clusters", "L", v, "clusters", &sw);
            snprintf(v, sizeof v, "%g", c->sim.env.zipf);
            item(f, c, ", ", "zipf", "Zipf z", v, "", &sw);
        } else {
            snprintf(v, sizeof v, "%g", c->sim.env.sigma_theta);
            item(f, c, ", ", "sigma-theta", "spread sigma_theta", v, "", &sw);
        }
    }
    snprintf(v, sizeof v, "%zu", c->sim.env.dim);
    item(f, c, ", ", "dim", "d", v, "", &sw);
    snprintf(v, sizeof v, "%zu", c->sim.env.arms);
    item(f, c, ", ", "arms", "K", v, "arms", &sw);
    snprintf(v, sizeof v, "%zu", c->sim.horizon);
    item(f, c, ", ", "horizon", "T", v, "rounds", &sw);
    snprintf(v, sizeof v, "%zu", c->sim.repeats);
    item(f, c, ", ", "repeats", "", v, "repeats", &sw);
    if (strcmp(env, "lastfm") && strcmp(env, "logged")) { /* data sets have no noise */
        snprintf(v, sizeof v, "%g", c->sim.env.noise);
        item(f, c, ", ", "noise", "noise sigma", v, "", &sw);
    }
    dump_get(&d, "width", v, sizeof v);
    item(f, c, ", ", "width", "width", v, "", &sw);
    if (!strcmp(v, "fixed")) {
        snprintf(v, sizeof v, "%g", c->sim.policy.learner.alpha);
        item(f, c, " (", "alpha", "alpha", v, ")", &sw);
    } else {
        snprintf(v, sizeof v, "%g", c->sim.policy.learner.delta);
        item(f, c, " (", "delta", "delta", v, "", &sw);
        snprintf(v, sizeof v, "%g", c->sim.policy.learner.lambda);
        item(f, c, ", ", "lambda", "lambda", v, ")", &sw);
    }
    fprintf(f, ", seed %llu", (unsigned long long)c->sim.seed);
    if (c->n_sweep && !sw) {
        fputs("; swept: ", f);
        item(f, c, "", c->sweep_key, c->sweep_key, "", "", &sw);
    }
    fputs("; policies ", f); /* of every reading, in order of appearance */
    const char *seen[MAX_READINGS * MAX_POLICIES];
    size_t n_seen = 0;
    for (size_t r = 0; r < e->n_readings; r++)
        for (size_t i = 0; i < e->cfg[r].n_policies; i++) {
            size_t j = 0;
            while (j < n_seen && strcmp(seen[j], e->cfg[r].policies[i]))
                j++;
            if (j == n_seen) {
                seen[n_seen++] = e->cfg[r].policies[i];
                fprintf(f, "%s%s", j ? ", " : "", e->cfg[r].policies[i]);
            }
        }
    fputc('.', f);
    free(d.text);
}

/* The settings in which reading c differs from the base b. */
void report_reading_diff(FILE *f, const run_config *b, const run_config *c)
{
    static const char *const ignore[] = { "title", "claim", "out", "quiet", "threads", "plots" };
    dump db, dc;
    int bad = dump_config(&db, b);
    bad |= dump_config(&dc, c);
    size_t shown = 0;
    for (const char *p = bad ? NULL : dc.text; p && *p;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (eq && eq > p + 1 && p[0] != '[' && p[0] != '#') { /* '#': an option no setting reads */
            char key[NAME_LEN], vb[PATH_LEN], vc[PATH_LEN];
            snprintf(key, sizeof key, "%.*s", (int)(eq - 1 - p), p);
            int skip = 0;
            for (size_t i = 0; i < sizeof ignore / sizeof ignore[0]; i++)
                skip |= !strcmp(key, ignore[i]);
            if (!skip && strcmp(dump_get(&db, key, vb, sizeof vb), dump_get(&dc, key, vc, sizeof vc))) {
                fputs(shown++ ? ", " : "Settings of this reading: ", f);
                char kv[NAME_LEN + PATH_LEN + 4];
                snprintf(kv, sizeof kv, "%s = %s", key, vc);
                md_code(f, kv, 0);
            }
        }
        p += n + (e != NULL);
    }
    if (shown)
        fputs(".\n\n", f);
    free(db.text);
    free(dc.text);
}
