/* experiment.c - experiment files (INI via libinih) and readings. */
#include "experiment.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

typedef struct load_ctx {
    experiment *e;
    char err[512];
    int in_reading;          /* a [reading] section has started */
} load_ctx;

/* Keys of experiment files that are not options of `colb run`. */
static int meta_entry(load_ctx *c, const char *name, const char *value, int *handled)
{
    experiment *e = c->e;
    *handled = 1;
    if (!strcmp(name, "figure")) {
        if (strlen(value) >= NAME_LEN) {
            snprintf(c->err, sizeof c->err, "figure name too long");
            return 0;
        }
        snprintf(e->figure, NAME_LEN, "%s", value);
        return 1;
    }
    if (!strcmp(name, "metric")) {
        if (strcmp(value, "regret") && strcmp(value, "ratio")) {
            snprintf(c->err, sizeof c->err, "metric: '%s' is not regret or ratio", value);
            return 0;
        }
        e->metric = !strcmp(value, "ratio") ? METRIC_RATIO : METRIC_REGRET;
        return 1;
    }
    if (!strcmp(name, "check")) {
        if (e->n_checks == MAX_CHECKS) {
            snprintf(c->err, sizeof c->err, "more than %d checks", MAX_CHECKS);
            return 0;
        }
        if (check_parse(value, &e->checks[e->n_checks], c->err, sizeof c->err))
            return 0;
        e->n_checks++;
        return 1;
    }
    *handled = 0;
    return 1;
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
    load_ctx *c = user;
    experiment *e = c->e;
    if (!strcmp(section, "quick")) {
        run_config *tmp = malloc(sizeof *tmp);
        if (!tmp) {
            snprintf(c->err, sizeof c->err, "out of memory");
            return 0;
        }
        *tmp = e->base; /* validate the value now, apply it in quick mode */
        int bad = config_set(tmp, name, value, c->err, sizeof c->err);
        free(tmp);
        if (bad)
            return 0;
        if (e->n_quick == MAX_QUICK || strlen(name) >= NAME_LEN || strlen(value) >= NAME_LEN) {
            snprintf(c->err, sizeof c->err, "too many or too long [quick] entries");
            return 0;
        }
        snprintf(e->quick_key[e->n_quick], NAME_LEN, "%s", name);
        snprintf(e->quick_val[e->n_quick], NAME_LEN, "%s", value);
        e->n_quick++;
        return 1;
    }
    if (!*section) {
        int handled;
        int ok = meta_entry(c, name, value, &handled);
        if (handled)
            return ok;
        if (c->in_reading) {
            snprintf(c->err, sizeof c->err, "top-level key '%s' after a [reading] section", name);
            return 0;
        }
        return config_set(&e->base, name, value, c->err, sizeof c->err) == 0;
    }
    if (strncmp(section, "reading ", 8) != 0 || !section[8]) {
        snprintf(c->err, sizeof c->err, "unknown section [%s] (expected [reading NAME] or [quick])", section);
        return 0;
    }
    const char *rname = section + 8;
    size_t i = 0;
    while (i < e->n_readings && strcmp(e->reading[i], rname))
        i++;
    if (i == e->n_readings) {
        if (i == MAX_READINGS || strlen(rname) >= NAME_LEN) {
            snprintf(c->err, sizeof c->err, "too many readings or name too long ([%s])", section);
            return 0;
        }
        snprintf(e->reading[i], NAME_LEN, "%s", rname);
        e->cfg[i] = e->base;
        e->n_readings++;
        c->in_reading = 1;
    }
    if (!name) /* section header only (inih with INI_CALL_HANDLER_ON_NEW_SECTION) */
        return 1;
    if (!strcmp(name, "note")) { /* indented continuation lines append */
        size_t n = strlen(e->reading_note[i]);
        snprintf(e->reading_note[i] + n, sizeof e->reading_note[i] - n, "%s%s", n ? " " : "", value);
        return 1;
    }
    return config_set(&e->cfg[i], name, value, c->err, sizeof c->err) == 0;
}

int experiment_load(experiment *e, const char *path, char *err, size_t err_len)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return -1;
    }
    load_ctx c = { .e = e };
    int line = ini_parse_file(f, on_entry, &c);
    fclose(f);
    if (line > 0) {
        snprintf(err, err_len, "%s:%d: %s", path, line, c.err[0] ? c.err : "malformed line (expected key = value or [section])");
        return -1;
    }
    if (line < 0) {
        snprintf(err, err_len, "%s: cannot read the file", path);
        return -1;
    }
    return 0;
}

int experiment_load_text(experiment *e, const char *name, const char *text, char *err, size_t err_len)
{
    load_ctx c = { .e = e };
    int line = ini_parse_string(text, on_entry, &c);
    if (line != 0) {
        snprintf(err, err_len, "%s:%d: %s", name, line, c.err[0] ? c.err : "malformed line");
        return -1;
    }
    return 0;
}

int experiment_apply_quick(experiment *e, char *err, size_t err_len)
{
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
