/* serve.h - `colb serve`: collaborative recommendations as a crash-safe
 * HTTP/JSON service (docs/serve.md). The colb tool's main dispatches the
 * subcommand here. */
#ifndef COLB_SERVE_SERVE_H
#define COLB_SERVE_SERVE_H

/* Run `colb serve` with the arguments after "serve". Returns the exit
 * status: 0 stopped by SIGTERM/SIGINT after a final snapshot (or --help,
 * --dump-log done), 1 failure, 2 usage error. */
int serve_main(int argc, char **argv);

#endif
