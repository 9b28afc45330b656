/* snap_table.c - parameter structs as snapshot groups (see snap_table.h). */
#include "persist/snap_table.h"

#include <limits.h>
#include <string.h>

static size_t size_of(char type)
{
    return type == 'z' ? sizeof(size_t) : type == 'i' ? sizeof(int) : 8;
}

void colb__snap_params_save(colb__snap_out *w, const char *name, const void *base,
                            const colb__snap_param *t, size_t n)
{
    colb__snap_group_begin(w, name);
    for (size_t i = 0; i < n; i++) {
        const char *at = (const char *)base + t[i].off;
        switch (t[i].type) {
        case 'z': colb__snap_u64(w, t[i].name, *(const size_t *)at); break;
        case 'u': colb__snap_u64(w, t[i].name, *(const uint64_t *)at); break;
        case 'd': colb__snap_f64(w, t[i].name, *(const double *)at); break;
        default: colb__snap_u64(w, t[i].name, (uint64_t)(int64_t)*(const int *)at); break;
        }
    }
    colb__snap_group_end(w);
}

colb_status colb__snap_params_load(colb__snap_in *in, const colb__snap_group *g, const char *name,
                                   void *base, const colb__snap_param *t, size_t n)
{
    colb__snap_group pg;
    colb_status st = colb__snap_get_group(in, g, name, &pg);
    for (size_t i = 0; i < n && st == COLB_OK; i++) {
        colb__snap_field f;
        if (colb__snap_find(&pg, t[i].name, &f) != COLB_OK)
            continue; /* written before the field existed: its default */
        char *at = (char *)base + t[i].off;
        uint64_t v = 0;
        if (t[i].type == 'd')
            st = colb__snap_get_f64(in, &pg, t[i].name, 1, (double *)at);
        else if ((st = colb__snap_get_u64(in, &pg, t[i].name, &v)) != COLB_OK)
            break;
        else if (t[i].type == 'u')
            *(uint64_t *)at = v;
        else if (v > (t[i].type == 'z' ? (uint64_t)SIZE_MAX : (uint64_t)INT_MAX))
            st = colb__snap_error(in, COLB_EPARSE, "snapshot: parameter '%s.%s' = %llu is out of "
                                  "range", pg.path, t[i].name, (unsigned long long)v);
        else if (t[i].type == 'z')
            *(size_t *)at = (size_t)v;
        else
            *(int *)at = (int)v;
    }
    return st;
}

const char *colb__snap_params_diff(const void *a, const void *b, const colb__snap_param *t,
                                   size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp((const char *)a + t[i].off, (const char *)b + t[i].off, size_of(t[i].type)))
            return t[i].name;
    return NULL;
}
