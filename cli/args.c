/* args.c - the command line of colb's subcommands, read one way (args.h). */
#include "args.h"

#include <stdio.h>
#include <string.h>

#include "suggest.h"

void args_init(arg_reader *r, int argc, char **argv, const arg_opt *opts, size_t n_opts, const char *see)
{
    memset(r, 0, sizeof *r);
    r->argc = argc;
    r->argv = argv;
    r->opts = opts;
    r->n_opts = n_opts;
    r->see = see;
}

void args_split(const char *a, size_t *key_len, const char **value)
{
    const char *eq = strchr(a + 2, '=');
    *key_len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
    *value = eq ? eq + 1 : NULL;
}

/* The option of r named key[0..len) ("out"), or NULL. */
static const arg_opt *find_long(const arg_reader *r, const char *key, size_t len)
{
    for (size_t i = 0; i < r->n_opts; i++)
        if (strlen(r->opts[i].name) == len && !strncmp(r->opts[i].name, key, len))
            return &r->opts[i];
    return NULL;
}

/* The option of r whose short form is the start of a ("-j" of "-j4"), or
 * NULL. */
static const arg_opt *find_short(const arg_reader *r, const char *a)
{
    for (size_t i = 0; i < r->n_opts; i++)
        if (r->opts[i].short_ && !strncmp(r->opts[i].short_, a, 2))
            return &r->opts[i];
    return NULL;
}

/* The "unknown option" message for long option key[0..len), with the
 * closest of r's names. */
static void unknown(const arg_reader *r, const char *key, size_t len, char *err, size_t err_len)
{
    const char *names[ARGS_MAX];
    size_t n = 0;
    for (size_t i = 0; i < r->n_opts && n < sizeof names / sizeof names[0]; i++)
        names[n++] = r->opts[i].name;
    suggest_unknown(err, err_len, "option", "--", key, len, names, n, r->see);
}

int args_next(arg_reader *r, const arg_opt **opt, const char **value, char *err, size_t err_len)
{
    *opt = NULL;
    *value = NULL;
    if (r->next >= r->argc)
        return 0;
    const char *a = r->argv[r->next++];
    if (!r->operands_only && !strcmp(a, "--")) {
        r->operands_only = 1;
        return args_next(r, opt, value, err, err_len);
    }
    if (r->operands_only || a[0] != '-' || !a[1]) {
        *value = a;
        return 1;
    }
    const arg_opt *o;
    const char *joined, *as; /* as: the argument that names it, for messages */
    size_t shown;            /* the length of its name in a */
    if (a[1] == '-') {
        size_t len;
        args_split(a, &len, &joined);
        o = find_long(r, a + 2, len);
        if (!o) {
            unknown(r, a + 2, len, err, err_len);
            return -1;
        }
        as = a;
        shown = len + 2;
    } else {
        o = find_short(r, a);
        if (!o || (o->flag && a[2])) { /* no suggestion for one letter */
            suggest_unknown(err, err_len, "option", "", a, strlen(a), NULL, 0, r->see);
            return -1;
        }
        joined = a[2] ? a + 2 : NULL;
        as = o->short_;
        shown = 2;
    }
    if (option_given_once(&r->seen, o->name, as, err, err_len))
        return -1;
    if (o->flag && joined) {
        snprintf(err, err_len, "option '%.*s' takes no value", (int)shown, a);
        return -1;
    }
    if (!o->flag && !joined) {
        if (r->next >= r->argc) {
            snprintf(err, err_len, "option '%.*s' needs a value", (int)shown, a);
            return -1;
        }
        joined = r->argv[r->next++];
        if (!*joined) { /* --out '' as --out= */
            snprintf(err, err_len, "option '%.*s' needs a value", (int)shown, a);
            return -1;
        }
    } else if (!o->flag && !*joined) { /* --out= : no option takes an empty value */
        snprintf(err, err_len, "option '%.*s' needs a value", (int)shown, a);
        return -1;
    }
    *opt = o;
    *value = joined;
    return 1;
}
