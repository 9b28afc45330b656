/* status.c - names and messages of the status codes (colb/status.h). */
#include "colb/status.h"

const char *colb_strerror(colb_status s)
{
    switch (s) {
#define COLB_STATUS_MSG_(name, value, msg) case COLB_##name: return msg;
        COLB_STATUS_TABLE(COLB_STATUS_MSG_)
#undef COLB_STATUS_MSG_
    default: return "unknown status";
    }
}

const char *colb_status_name(colb_status s)
{
    switch (s) {
#define COLB_STATUS_NAME_(name, value, msg) case COLB_##name: return "COLB_" #name;
        COLB_STATUS_TABLE(COLB_STATUS_NAME_)
#undef COLB_STATUS_NAME_
    default: return "COLB_UNKNOWN";
    }
}
