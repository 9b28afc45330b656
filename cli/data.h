/* data.h - the environment of one setting: synthetic (the library's
 * generators) or a data set (Last.FM, or the user's logged data) loaded once
 * and shared read-only by every job of the setting. */
#ifndef COLB_CLI_DATA_H
#define COLB_CLI_DATA_H

#include "options.h"

typedef struct data_env {
    void *ds;                /* colb_dataset * when a data set is used */
    int protocol;            /* resolved protocol of the data set */
    size_t K;
} data_env;

/* The data set of c loads and has the items c's --arms needs, and
 * features of a dimension its policies take (the Last.FM folder,
 * --data-dir or COLB_DATA_DIR, or the logged files; the Last.FM feature
 * cache is made if absent); checked before any work, for every setting.
 * 0, or -1 with the reason in err; -2 when the Last.FM folder is not
 * there at all (colb reproduce then skips its figure). */
int data_check(const run_config *c, char *err, size_t err_len);

/* Prepare c->sim for its environment: learner noise default, data sets
 * (loaded, filtered to top users, plugged in as c->sim.make_env). 0, or
 * -1 / -2 with err as data_check. */
int data_env_open(data_env *d, run_config *c, char *err, size_t err_len);
void data_env_close(data_env *d);

/* The Last.FM folder of c, into out: one rule for --data-dir and
 * $COLB_DATA_DIR: the data folder is --data-dir, else $COLB_DATA_DIR, else
 * ../shared/data; the Last.FM files are in its hetrec2011-lastfm-2k
 * folder, or in the folder itself when it holds artists.dat (it is the
 * Last.FM folder). 0, or -1 when no such folder is there (out: the path
 * looked for), -2 when the data folder's artists.dat is a folder and -3
 * when it is another file that is not a regular one (a device, a pipe),
 * with no hetrec2011-lastfm-2k folder beside it (out: that artists.dat). */
int data_lastfm_dir(const run_config *c, char *out, size_t len);

/* The Last.FM feature cache of c: --feature-cache, else
 * results/cache/lastfm-dD.colbfeat. */
void data_cache_path(const run_config *c, char *out, size_t len);

/* Grid-search club-alpha and club-alpha2 on a burn-in (colb_club_tune) and
 * set them in c; `chosen` receives "club-alpha=A club-alpha2=B". Returns 0,
 * -1 on error, 1 when c->sim.stop asked to stop. */
int data_tune_club(data_env *d, run_config *c, char *chosen, char *err, size_t err_len);

#endif
