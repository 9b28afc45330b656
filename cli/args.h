/* args.h - the command line of colb's subcommands, read one way: a long
 * option as `--key value` or `--key=value`, a short one as `-j N` or
 * `-jN`, a flag alone (`--quick`; `--quick=1` is refused), every argument
 * after `--` an operand; each option at most once; an unknown option told
 * in one line with the closest known name (suggest_unknown). colb
 * reproduce, bench-quality and serve read their options with args_next;
 * colb run, whose options are the keys of experiment files (options.c)
 * and whose command line a checkpoint saves, splits each with args_split
 * and tells an unknown one with suggest_unknown. */
#ifndef COLB_CLI_ARGS_H
#define COLB_CLI_ARGS_H

#include <stddef.h>

#include "options.h" /* seen_opts */

/* The most options one reader takes: as many as seen_opts holds. */
#define ARGS_MAX (sizeof ((seen_opts *)0)->key / sizeof ((seen_opts *)0)->key[0])

/* One option of a subcommand. */
typedef struct arg_opt {
    const char *name;   /* the long name without its dashes: "out" (static) */
    const char *short_; /* its short form ("-j"), or NULL */
    int flag;           /* 1: takes no value (--quick); 0: takes one (--out DIR) */
} arg_opt;

/* The reading of one command line; argv and opts are borrowed for its
 * life. */
typedef struct arg_reader {
    int argc;
    char **argv;
    int next;            /* argv[next] is read next */
    int operands_only;   /* 1 after "--" */
    const arg_opt *opts;
    size_t n_opts;
    const char *see;     /* "colb reproduce --help", for messages */
    seen_opts seen;      /* the options given so far */
} arg_reader;

/* Start reading argv[0..argc) against the options opts[0..n_opts) (at most
 * ARGS_MAX), `see` ("colb serve --help") named in messages. */
void args_init(arg_reader *r, int argc, char **argv, const arg_opt *opts, size_t n_opts, const char *see);

/* The next argument. Returns 1 with an option in *opt and its value in
 * *value (NULL for a flag): the text after '=' (--out=DIR) or after a
 * short option (-j4), else the next argument, whatever it looks like
 * (`--out --quick` is the folder "--quick"); 1 with *opt NULL and the word
 * in *value for an operand (an argument that does not start with '-', "-"
 * alone, every argument after "--"); 0 when every argument is read; -1
 * with one line in err for a usage error: an unknown option ("unknown
 * option '--quik'; did you mean '--quick'? (see SEE)"), an option without
 * its value or with an empty one, --out= ("option '--out' needs a
 * value"), a flag with one ("option '--quick' takes no value"), an option
 * given twice (option_given_once: "-j" and "--threads" are one option). */
int args_next(arg_reader *r, const arg_opt **opt, const char **value, char *err, size_t err_len);

/* Split the long option a ("--key" or "--key=value"): the length of the
 * key (at a + 2) into *key_len, the text after the first '=' into *value
 * (NULL without one). */
void args_split(const char *a, size_t *key_len, const char **value);

#endif
