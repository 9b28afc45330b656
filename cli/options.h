/* options.h - the settings of one colb run and the table of named options
 * that set them. The same names serve as long command-line options
 * (--users 100) and as keys of experiment files (users = 100), so the two
 * can never disagree. */
#ifndef COLB_CLI_OPTIONS_H
#define COLB_CLI_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "colb/colb.h"

#define MAX_POLICIES 16
#define MAX_SWEEP 32
#define NAME_LEN 64
/* Paths up to Linux's PATH_MAX; messages hold two paths and a reason. */
#define PATH_LEN 4096
#define ERR_LEN (2 * PATH_LEN + 512)

typedef enum data_kind { DATA_SYNTHETIC = 0, DATA_LASTFM = 1, DATA_LOGGED = 2 } data_kind;

typedef struct run_config {
    colb_sim_spec sim;               /* env, policy params, T, R, seed, threads */
    char policies[MAX_POLICIES][NAME_LEN];
    size_t n_policies;
    int learner_noise_set;           /* 0: learner R follows the env noise */
    int club_own_alpha_set;          /* club-own-alpha given: club-alpha does not set it */
    data_kind data;
    char data_dir[PATH_LEN];         /* Last.FM directory */
    char features[PATH_LEN], positives[PATH_LEN];
    char feature_cache[PATH_LEN];
    int protocol;                    /* 0 auto, 1 shared, 2 per-user */
    size_t top_users;                /* 0: all */
    int club_tune;
    size_t club_burn_in;
    size_t club_tune_repeats;
    /* one swept parameter */
    char sweep_key[NAME_LEN];
    char sweep_values[MAX_SWEEP][NAME_LEN];
    size_t n_sweep;
    char out_dir[PATH_LEN];
    char title[256];
    char claim[512];                 /* free text: what the paper claims */
    int quiet;
    /* hardening (issue 17) */
    size_t max_memory;               /* bytes; 0: colb_memory_budget_default() */
    /* fair comparisons: tune every policy's width the same way, or none */
    int tune;
    size_t tune_burn_in, tune_repeats;
    int plots;                       /* run gnuplot (0: write the plots' .dat and .gp only) */
} run_config;

/* Defaults of `colb run`. */
void config_default(run_config *c);

/* Set option `key` (without leading dashes) to `value`. On failure returns
 * non-zero and writes a one-line reason into err. */
int config_set(run_config *c, const char *key, const char *value, char *err, size_t err_len);

/* The setting of `base` at sweep point s into *out: base with its swept
 * key set to the s-th value (base itself without a sweep). 0, or non-zero
 * with the reason in err (every value is checked before a run). */
int config_at(const run_config *base, size_t s, run_config *out, char *err, size_t err_len);

/* 1 if `key` names an option that takes no value on the command line. */
int option_is_flag(const char *key);

/* 1 if `key` is a known option. */
int option_known(const char *key);

/* The options given on one command line, to refuse one given twice (as
 * experiment files refuse a key set twice: which of the two was meant?). */
typedef struct seen_opts {
    const char *key[256], *as[256]; /* option name, the argument that gave it */
    size_t n;
} seen_opts;

/* 0 when option `key` (kept by pointer: a literal or option_name()),
 * given as argument `as` ("-j", "--sweep=users=1,2"; kept by pointer), is
 * new in s; else -1 with "option '--threads' is given twice (first as
 * '-j'); give each option once" in err. */
int option_given_once(seen_opts *s, const char *key, const char *as, char *err, size_t err_len);

/* The option table's own copy of the name `key` (static storage), or NULL
 * for an unknown key. */
const char *option_name(const char *key);

/* The name of every option (static storage), in the table's order, into
 * names[0..max): how many (for suggest.h). */
size_t option_names(const char **names, size_t max);

/* Print the options, grouped, with their defaults, to f. */
void options_help(FILE *f);

/* Check the combination of settings (after all options are set). */
int config_check(const run_config *c, char *err, size_t err_len);

/* The value of option `key` in c as text ("" for an unknown key). */
void config_get(const run_config *c, const char *key, char *out, size_t len);

/* The kinds of environment that read option `key` ("clustered|personalized",
 * the names of --env), and in *why (may be NULL) why the others do not when
 * that is not plain, or NULL; NULL for an option that every kind reads
 * (every option outside the environment and data groups, env, arms). */
const char *option_envs(const char *key, const char **why);

/* Such a list for a message: "clustered|personalized" as "clustered,
 * personalized", into out (len bytes, cut if it must be). */
void option_envs_text(const char *envs, char *out, size_t len);

/* 1 when some setting of c reads option `key`: its environment does (or,
 * with a sweep over env, the environment of one of the swept values). */
int config_env_uses(const run_config *c, const char *key);

/* The kinds of environment the settings of c run on, "personalized" or
 * "clustered, lastfm" (a sweep over env), into out. */
void config_env_names(const run_config *c, char *out, size_t len);

/* 1 for an option of the policies (the learners', the collaboration's, one
 * policy's, the tunings'): every option outside the run, environment and
 * data groups. */
int option_of_policies(const char *key);

/* The policies that read option `key` under some settings, for messages
 * and --help: "cmlb, sclb", or "every policy but random" (into out, len
 * bytes); "" for an option not of the policies. */
void option_policies_text(const char *key, char *out, size_t len);

/* 1 when some setting of c (each value of its sweep) has a policy that
 * reads option `key` as it is set there (the shared width's alpha only with
 * width = fixed, club-burn-in only with club-tune = 1, ...: the library's
 * colb_sim_spec_param_read for its keys, options.c setting_reads for the
 * tunings); 1 for an option not of the policies. */
int config_policies_use(const run_config *c, const char *key);

/* The one-line message for option `key` that no policy of the settings
 * cfg[0..n_cfg) reads (config_policies_use is 0 for each), `swept` when
 * it is the swept option: "--cmlb-alpha is read only by cmlb, sclb, which
 * are not among --policies (linucb-ind); leave it out", or why the
 * policies that may read it do not here: "--alpha is the fixed width, read
 * only with --width fixed, and --width is oful; leave it out". */
void config_policies_unread(const run_config *cfg, size_t n_cfg, const char *key, int swept, char *err,
                            size_t err_len);

/* Write every setting of c as `key = value` lines under [reading NAME]
 * (settings.txt); the swept option, a learner noise that follows a swept
 * noise and an unset --max-memory are comments (not in effect as written); an
 * option that no setting's environment reads (config_env_uses) is written
 * as a comment, "# zipf = 1 (not used by env personalized)", not as a
 * setting in effect, and so is an option that no policy of any setting
 * reads (config_policies_use): "# cmlb-alpha = 0.2 (not read by the
 * policies of this reading)". */
void config_dump(FILE *f, const char *reading, const run_config *c);

/* config_dump for settings whose options varied[0..n) are set elsewhere
 * (bench-quality's grid): each is written as a comment saying `why`, as the
 * swept option is ("# users = 100 (swept: see sweep)"), and so is a
 * learner noise that follows a varying noise. */
void config_dump_varied(FILE *f, const char *reading, const run_config *c, const char *const *varied, size_t n,
                        const char *why);

/* config_dump, with the options that no policy reads written as settings
 * (only the environment's are comments): the values the report compares
 * readings by. */
void config_dump_values(FILE *f, const char *reading, const run_config *c);

/* The protocol of a data set's contexts that the setting runs with: 1
 * shared, 2 per-user; `auto` (0) is per-user when every policy is
 * sequential (club, random), else shared. */
int config_protocol(const run_config *c);

/* A string of every setting that the results of `policy` can depend on:
 * two settings with equal signatures give bit-identical results for that
 * policy, so `colb run` runs it once (readings that differ only in what a
 * policy ignores share its runs). It includes what the setting's other
 * policies decide for it: the protocol `auto` resolves to, and whether
 * random runs beside it (its ratios). Whole, whatever the paths' lengths
 * (a cut one would let settings that differ after the cut share runs):
 * allocated, the caller frees; NULL when out of memory. */
char *config_signature(const run_config *c, const char *policy);

/* Strict number parsing: the whole string, finite, within [lo, hi]; no
 * blank before or after it (" 5", "5 " are not numbers, as for the
 * library's parameters by name; an experiment file's values are trimmed
 * before they get here). */
int parse_double(const char *s, double lo, double hi, double *out);
int parse_size(const char *s, size_t lo, size_t hi, size_t *out);

/* A byte count: a decimal number with an optional K, M, G or T suffix
 * (powers of 1024, an optional B after it): "512M", "1.5G", "2e9"; with a
 * suffix a fraction of a byte is dropped ("1.3K" is 1331). 0, or -1 when
 * s is not one, -2 when it is more than 0 and less than one byte ("0.5",
 * "1e-300": never rounded to 0, which callers may read as "not set"), -3
 * when it is 2^64 bytes or more, -4 for a fraction without a suffix
 * ("1.5": most likely 1.5G or 1.5M, never cut to 1 byte). */
int parse_bytes(const char *s, size_t *out);

/* parse_bytes's -4 as a refusal of option `dashes``name` given `value`
 * ("max-memory: '1.5' is not a whole number of bytes (a unit missing? ..."). */
void bytes_fraction_error(const char *dashes, const char *name, const char *value, char *err, size_t err_len);

/* Index of v among the choices "a|b|c" (0, 1, 2), or -1. */
int option_choice_index(const char *choices, const char *v);

/* 1 when s is well-formed UTF-8 (no overlong forms, surrogates or code
 * points above U+10FFFF): the text of titles, claims and notes goes into
 * SVG plots, which an XML reader refuses otherwise, and into reports. */
int text_is_utf8(const char *s);

#endif
