#include <stdio.h>
#include "colb/colb.h"
int main(void) { puts("colb " COLB_VERSION_STRING); return 0; }
