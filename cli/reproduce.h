/* reproduce.h - `colb reproduce`: the paper's experiments in one command. */
#ifndef COLB_CLI_REPRODUCE_H
#define COLB_CLI_REPRODUCE_H

int cmd_reproduce(int argc, char **argv);

#endif
