/* reproduce.c - placeholder while the report generator lands. */
#include "reproduce.h"

#include <stdio.h>

int cmd_reproduce(int argc, char **argv)
{
    (void)argc, (void)argv;
    fprintf(stderr, "colb: reproduce is not available yet\n");
    return 1;
}
