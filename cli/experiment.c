/* experiment.c - experiment files (INI via libinih) and readings. */
#include "experiment.h"

#include <errno.h>
#include <string.h>

#include <ini.h>

typedef struct load_ctx {
    experiment *e;
    char err[512];
    int in_reading;          /* a [reading] section has started */
} load_ctx;

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
    load_ctx *c = user;
    experiment *e = c->e;
    if (!*section) {
        if (c->in_reading) {
            snprintf(c->err, sizeof c->err, "top-level key '%s' after a [reading] section", name);
            return 0;
        }
        return config_set(&e->base, name, value, c->err, sizeof c->err) == 0;
    }
    if (strncmp(section, "reading ", 8) != 0 || !section[8]) {
        snprintf(c->err, sizeof c->err, "unknown section [%s] (expected [reading NAME])", section);
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
