/* experiment.c - experiment files (the strict INI reader of ini.c) and
 * readings. */
#include "experiment.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ini.h"

/* Experiment files are a few KiB; anything larger is not one. */
#define MAX_EXPERIMENT_FILE (1u << 20)

/* A key seen in a section, to reject a second one (a malformed file: which
 * of the two was meant?). */
typedef struct seen_key {
    char section[NAME_LEN + 16], key[NAME_LEN];
    size_t line;
} seen_key;

typedef struct load_ctx {
    experiment *e;
    seen_key *seen;
    size_t n_seen, cap_seen;
    size_t reading_line[MAX_READINGS];
    size_t check_line[MAX_CHECKS];
} load_ctx;

/* 0 when `key` is new in `section` (and records it), else -1 with err set. */
static int first_time(load_ctx *c, size_t line, const char *section, const char *key, char *err,
                      size_t err_len)
{
    for (size_t i = 0; i < c->n_seen; i++)
        if (!strcmp(c->seen[i].section, section) && !strcmp(c->seen[i].key, key)) {
            snprintf(err, err_len, "'%s' is set twice in %s%s%s (first on line %zu)", key,
                     *section ? "[" : "the top level", section, *section ? "]" : "", c->seen[i].line);
            return -1;
        }
    if (c->n_seen == c->cap_seen) {
        size_t cap = c->cap_seen ? 2 * c->cap_seen : 32;
        seen_key *ns = realloc(c->seen, cap * sizeof *ns);
        if (!ns) {
            snprintf(err, err_len, "out of memory");
            return -1;
        }
        c->seen = ns;
        c->cap_seen = cap;
    }
    seen_key *k = &c->seen[c->n_seen++];
    snprintf(k->section, sizeof k->section, "%s", section);
    snprintf(k->key, sizeof k->key, "%s", key);
    k->line = line;
    return 0;
}

/* An indented line continues title, claim or a reading's note: the text is
 * appended after a blank. */
static int continue_text(run_config *rc, const char *key, const char *more, char *err, size_t err_len)
{
    const char *cur = !strcmp(key, "title") ? rc->title : !strcmp(key, "claim") ? rc->claim : NULL;
    if (!cur) {
        snprintf(err, err_len, "'%s' does not continue onto an indented line (only title, claim and note do)",
                 key);
        return -1;
    }
    size_t n = strlen(cur) + strlen(more) + 2;
    char *v = malloc(n);
    if (!v) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    snprintf(v, n, "%s %s", cur, more);
    int rc_ = config_set(rc, key, v, err, err_len);
    free(v);
    return rc_;
}

/* Keys of experiment files that are not options of `colb run`. */
static int meta_entry(load_ctx *c, const char *name, const char *value, int *handled, char *err,
                      size_t err_len)
{
    experiment *e = c->e;
    *handled = 1;
    if (!strcmp(name, "figure")) {
        if (strlen(value) >= NAME_LEN) {
            snprintf(err, err_len, "figure name too long");
            return 0;
        }
        snprintf(e->figure, NAME_LEN, "%s", value);
        return 1;
    }
    if (!strcmp(name, "metric")) {
        if (strcmp(value, "regret") && strcmp(value, "ratio")) {
            snprintf(err, err_len, "metric: '%s' is not regret or ratio", value);
            return 0;
        }
        e->metric = !strcmp(value, "ratio") ? METRIC_RATIO : METRIC_REGRET;
        return 1;
    }
    if (!strcmp(name, "check")) {
        if (e->n_checks == MAX_CHECKS) {
            snprintf(err, err_len, "more than %d checks", MAX_CHECKS);
            return 0;
        }
        if (check_parse(value, &e->checks[e->n_checks], err, err_len))
            return 0;
        e->n_checks++;
        return 1;
    }
    *handled = 0;
    return 1;
}

void experiment_file_part(char *out, size_t len, const char *name)
{
    size_t n = 0;
    for (; *name && n + 1 < len; name++) {
        unsigned char ch = (unsigned char)*name;
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '-' || ch == '_' || ch == '.';
        out[n++] = ok ? (char)ch : '_';
    }
    if (len)
        out[n] = '\0';
}

/* 0 when no reading of e has the file-name form of `name`, else -1 with
 * err naming both: their plots would overwrite each other. */
static int new_file_part(const load_ctx *c, const char *name, char *err, size_t err_len)
{
    char mine[NAME_LEN], theirs[NAME_LEN];
    experiment_file_part(mine, sizeof mine, name);
    for (size_t i = 0; i < c->e->n_readings; i++) {
        experiment_file_part(theirs, sizeof theirs, c->e->reading[i]);
        if (!strcmp(mine, theirs)) {
            snprintf(err, err_len, "readings '%s' (line %zu) and '%s' would write the same plot files "
                     "(as '%s': file names read characters other than letters, digits, '-', '_' and "
                     "'.' as '_'); rename one", c->e->reading[i], c->reading_line[i], name, mine);
            return -1;
        }
    }
    return 0;
}

/* NAME of section "reading NAME", the blanks before it skipped. */
static const char *reading_name(const char *section)
{
    const char *rname = section + 8;
    while (*rname == ' ' || *rname == '\t')
        rname++;
    return rname;
}

/* The index of reading `rname`, e->n_readings for one not defined yet. */
static size_t reading_index(const experiment *e, const char *rname)
{
    size_t i = 0;
    while (i < e->n_readings && strcmp(e->reading[i], rname))
        i++;
    return i;
}

static int on_entry(void *user, size_t line, const char *section, const char *name, const char *value,
                    int cont, char *err, size_t err_len)
{
    load_ctx *c = user;
    experiment *e = c->e;
    if (!strcmp(section, "quick")) {
        if (!name)
            return 0;
        if (cont) {
            snprintf(err, err_len, "[quick] entries do not continue onto indented lines");
            return -1;
        }
        if (first_time(c, line, section, name, err, err_len))
            return -1;
        run_config *tmp = malloc(sizeof *tmp);
        if (!tmp) {
            snprintf(err, err_len, "out of memory");
            return -1;
        }
        *tmp = e->base; /* validate the value now, apply it in quick mode */
        int bad = config_set(tmp, name, value, err, err_len);
        free(tmp);
        if (bad)
            return -1;
        if (e->n_quick == MAX_QUICK || strlen(name) >= NAME_LEN || strlen(value) >= QUICK_VAL_LEN) {
            snprintf(err, err_len, "too many (> %d) or too long [quick] entries", MAX_QUICK);
            return -1;
        }
        snprintf(e->quick_key[e->n_quick], NAME_LEN, "%s", name);
        snprintf(e->quick_val[e->n_quick], QUICK_VAL_LEN, "%s", value);
        e->n_quick++;
        return 0;
    }
    if (!*section) { /* the top level (no section header has come yet) */
        if (cont)
            return continue_text(&e->base, name, value, err, err_len);
        if (strcmp(name, "check") && first_time(c, line, section, name, err, err_len))
            return -1;
        if (!strcmp(name, "check") && e->n_checks < MAX_CHECKS)
            c->check_line[e->n_checks] = line;
        int handled;
        int ok = meta_entry(c, name, value, &handled, err, err_len);
        if (handled)
            return ok ? 0 : -1;
        return config_set(&e->base, name, value, err, err_len);
    }
    if (strncmp(section, "reading ", 8) != 0 || !section[8]) {
        snprintf(err, err_len, "unknown section [%s] (expected [reading NAME] or [quick])", section);
        return -1;
    }
    const char *rname = reading_name(section);
    size_t i = reading_index(e, rname);
    if (!name) { /* the section header: a new reading, even if it stays empty */
        if (i < e->n_readings) {
            snprintf(err, err_len, "reading '%s' is defined twice (first on line %zu)", rname,
                     c->reading_line[i]);
            return -1;
        }
        if (i == MAX_READINGS || strlen(rname) >= NAME_LEN) {
            snprintf(err, err_len, "more than %d readings, or a reading name of %d characters or more",
                     MAX_READINGS, NAME_LEN);
            return -1;
        }
        if (strchr(rname, ',')) { /* --readings NAME,... could not name it */
            snprintf(err, err_len, "reading '%s': a reading name has no ',' (--readings NAME,... "
                     "separates names by commas); rename it", rname);
            return -1;
        }
        if (new_file_part(c, rname, err, err_len))
            return -1;
        snprintf(e->reading[i], NAME_LEN, "%s", rname);
        e->cfg[i] = e->base;
        c->reading_line[i] = line;
        e->n_readings++;
        return 0;
    }
    if (!strcmp(name, "note") && !text_is_utf8(value)) {
        snprintf(err, err_len, "note of reading '%s': the text is not UTF-8 (reports carry it as UTF-8 text)", rname);
        return -1;
    }
    if (!strcmp(name, "note")) { /* indented continuation lines append */
        if (!cont && first_time(c, line, section, name, err, err_len))
            return -1;
        size_t n = strlen(e->reading_note[i]);
        if (n + strlen(value) + 2 > sizeof e->reading_note[i]) {
            snprintf(err, err_len, "note of reading '%s' is longer than %zu characters", rname,
                     sizeof e->reading_note[i] - 1);
            return -1;
        }
        snprintf(e->reading_note[i] + n, sizeof e->reading_note[i] - n, "%s%s", n ? " " : "", value);
        return 0;
    }
    if (cont)
        return continue_text(&e->cfg[i], name, value, err, err_len);
    if (first_time(c, line, section, name, err, err_len))
        return -1;
    if (!strcmp(name, "figure") || !strcmp(name, "metric") || !strcmp(name, "check")) {
        snprintf(err, err_len, "'%s' belongs at the top level, before the first [reading]", name);
        return -1;
    }
    return config_set(&e->cfg[i], name, value, err, err_len);
}

/* 1 when policy `pol` is listed by reading r, or by any reading when r is
 * e->n_readings (the base stands for the readings of a file without any). */
static int listed(const experiment *e, size_t r, const char *pol)
{
    if (e->n_readings == 0 || r < e->n_readings) {
        const run_config *rc = e->n_readings ? &e->cfg[r] : &e->base;
        for (size_t k = 0; k < rc->n_policies; k++)
            if (!strcmp(rc->policies[k], pol))
                return 1;
        return 0;
    }
    for (size_t i = 0; i < e->n_readings; i++)
        if (listed(e, i, pol))
            return 1;
    return 0;
}

/* 0 when every check names policies (and readings, "policy/reading") that
 * the file runs, else the line of the first that does not, with err set: such
 * a check would never be judged, silently (the report lists only checks whose
 * A ran). */
static size_t checks_named(const load_ctx *c, char *err, size_t err_len)
{
    const experiment *e = c->e;
    for (size_t i = 0; i < e->n_checks; i++) {
        const char *side[2] = { e->checks[i].a, e->checks[i].b };
        for (int k = 0; k < 2; k++) {
            char pol[sizeof e->checks[i].a];
            snprintf(pol, sizeof pol, "%s", side[k]);
            char *slash = strchr(pol, '/');
            size_t r = e->n_readings;
            if (slash) {
                *slash = '\0';
                for (r = 0; r < e->n_readings && strcmp(e->reading[r], slash + 1); r++)
                    ;
                if (r == e->n_readings) {
                    snprintf(err, err_len, "check: '%s' names no reading of this file ('%s')", side[k],
                             slash + 1);
                    return c->check_line[i];
                }
            }
            if (!listed(e, r, pol)) {
                snprintf(err, err_len, "check: '%s' is not in the policies of %s%s", pol,
                         slash ? "reading " : "any reading", slash ? slash + 1 : "");
                return c->check_line[i];
            }
        }
    }
    return 0;
}

/* 0 when no key set in the file is also the key swept where it applies,
 * else the line of the first, with the reason in err: a reading's value
 * of its own swept key (inherited or its own sweep), or a top-level value
 * of the top-level sweep's key that no reading lifts, is used nowhere,
 * while settings.txt would list it (the command line refuses the same:
 * main.c, check_swept_options). */
static int sweeps(const run_config *c, const char *key)
{
    return c->n_sweep && !strcmp(c->sweep_key, key);
}

static size_t swept_values(const load_ctx *c, char *err, size_t err_len)
{
    const experiment *e = c->e;
    for (size_t i = 0; i < c->n_seen; i++) {
        const seen_key *k = &c->seen[i];
        const char *key = option_name(k->key);
        if (!key || !strcmp(key, "sweep"))
            continue;
        int top = !k->section[0], swept;
        if (top) { /* swept at the top level and by every reading */
            swept = sweeps(&e->base, key);
            for (size_t r = 0; r < e->n_readings; r++)
                swept = swept && sweeps(&e->cfg[r], key);
        } else { /* "reading NAME" ([quick] values are checked where they apply) */
            size_t r = strncmp(k->section, "reading ", 8) ? e->n_readings : reading_index(e, reading_name(k->section));
            swept = r < e->n_readings && sweeps(&e->cfg[r], key);
        }
        if (swept) {
            snprintf(err, err_len, "'%s' is swept in %s%s%s (sweep = %s=...), so the value set here is not used; "
                     "leave it out or sweep another key", k->key, top ? "every reading" : "[", top ? "" : k->section,
                     top ? "" : "]", key);
            return k->line;
        }
    }
    return 0;
}

/* Parse text into e; "NAME:LINE: reason" on failure. */
static int load_text(experiment *e, const char *name, const char *text, size_t len, char *err,
                     size_t err_len)
{
    load_ctx c = { .e = e };
    char why[PATH_LEN];
    why[0] = '\0';
    size_t line = ini_parse(text, len, on_entry, &c, why, sizeof why);
    if (!line)
        line = swept_values(&c, why, sizeof why);
    free(c.seen);
    if (!line)
        line = checks_named(&c, why, sizeof why);
    if (line) {
        snprintf(err, err_len, "%s:%zu: %s", name, line, why[0] ? why : "malformed line");
        return -1;
    }
    return 0;
}

int experiment_load_keep(experiment *e, const char *path, char **text, char *err, size_t err_len)
{
    size_t len;
    *text = NULL;
    if (ini_read_file(path, MAX_EXPERIMENT_FILE, text, &len, err, err_len))
        return -1;
    snprintf(e->source, sizeof e->source, "%s", path);
    return load_text(e, path, *text, len, err, err_len);
}

int experiment_load(experiment *e, const char *path, char *err, size_t err_len)
{
    char *text;
    int rc = experiment_load_keep(e, path, &text, err, err_len);
    free(text);
    return rc;
}

int experiment_load_text(experiment *e, const char *name, const char *text, char *err, size_t err_len)
{
    return load_text(e, name, text, strlen(text), err, err_len);
}

int experiment_load_mem(experiment *e, const char *name, const char *text, size_t len, char *err,
                        size_t err_len)
{
    return load_text(e, name, text, len, err, err_len);
}

int experiment_apply_quick(experiment *e, char *err, size_t err_len)
{
    for (size_t i = 0; i < e->n_quick; i++)
        config_get(&e->base, e->quick_key[i], e->quick_full[i], sizeof e->quick_full[i]);
    e->quick_applied = 1;
    for (size_t i = 0; i < e->n_quick; i++)
        if (experiment_set(e, e->quick_key[i], e->quick_val[i], err, err_len))
            return -1;
    return 0;
}

int experiment_set(experiment *e, const char *key, const char *value, char *err, size_t err_len)
{
    if (config_set(&e->base, key, value, err, err_len))
        return -1;
    for (size_t i = 0; i < e->n_readings; i++)
        if (config_set(&e->cfg[i], key, value, err, err_len))
            return -1;
    return 0;
}

void experiment_finish(experiment *e)
{
    if (e->n_readings == 0) {
        snprintf(e->reading[0], NAME_LEN, "default");
        e->cfg[0] = e->base;
        e->n_readings = 1;
    }
}

int reading_list_parse(const char *list, char buf[MAX_READINGS * NAME_LEN], const char *names[MAX_READINGS],
                       size_t *n, char *err, size_t err_len)
{
    size_t len = strlen(list);
    *n = 0;
    if (len >= MAX_READINGS * NAME_LEN) {
        snprintf(err, err_len, "--readings: the list is longer than %d characters", MAX_READINGS * NAME_LEN - 1);
        return -1;
    }
    memcpy(buf, list, len + 1);
    for (char *p = buf;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (!*p || strlen(p) >= NAME_LEN) {
            snprintf(err, err_len, "--readings: '%s' is not a list of reading names (NAME,NAME,...)", list);
            return -1;
        }
        for (size_t i = 0; i < *n; i++)
            if (!strcmp(names[i], p)) {
                snprintf(err, err_len, "--readings: reading '%s' is named twice", p);
                return -1;
            }
        if (*n == MAX_READINGS) {
            snprintf(err, err_len, "--readings: more than %d readings", MAX_READINGS);
            return -1;
        }
        names[(*n)++] = p;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

int experiment_has_reading(const experiment *e, const char *name)
{
    for (size_t i = 0; i < e->n_readings; i++)
        if (!strcmp(e->reading[i], name))
            return 1;
    return 0;
}

size_t experiment_keep_readings(experiment *e, const char *const *names, size_t n)
{
    size_t kept = 0;
    for (size_t i = 0; i < e->n_readings; i++)
        for (size_t k = 0; k < n; k++)
            kept += !strcmp(e->reading[i], names[k]);
    if (kept == 0)
        return 0;
    size_t to = 0;
    for (size_t i = 0; i < e->n_readings; i++) {
        int keep = 0;
        for (size_t k = 0; k < n && !keep; k++)
            keep = !strcmp(e->reading[i], names[k]);
        if (!keep) {
            memcpy(e->left_out[e->n_left_out++], e->reading[i], NAME_LEN);
            continue;
        }
        if (to != i) {
            memcpy(e->reading[to], e->reading[i], NAME_LEN);
            memcpy(e->reading_note[to], e->reading_note[i], sizeof e->reading_note[to]);
            e->cfg[to] = e->cfg[i];
        }
        to++;
    }
    e->n_readings = to;
    return kept;
}

void experiment_reading_names(const experiment *e, char *out, size_t len)
{
    out[0] = '\0';
    for (size_t i = 0; i < e->n_readings; i++) {
        size_t at = strlen(out);
        snprintf(out + at, len - at, "%s%s", i ? ", " : "", e->reading[i]);
    }
}
