/* touched.c - the models a round touched (see touched.h). */
#include "core/touched.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

colb_status colb__touched_init(colb__touched *t, size_t cap)
{
    memset(t, 0, sizeof *t);
    t->list = colb__malloc(cap / 8 + 1, sizeof(size_t));
    t->mark = colb__calloc(cap ? cap : 1, 1);
    if (!t->list || !t->mark) {
        colb__touched_free(t);
        return COLB_ENOMEM;
    }
    t->cap = cap;
    return COLB_OK;
}

void colb__touched_free(colb__touched *t)
{
    free(t->list);
    free(t->mark);
    memset(t, 0, sizeof *t);
}

colb_status colb__touched_grow(colb__touched *t, size_t cap)
{
    if (cap <= t->cap)
        return COLB_OK;
    if (colb__realloc_n(&t->list, cap / 8 + 1, sizeof(size_t)) || colb__realloc_n(&t->mark, cap, 1))
        return COLB_ENOMEM; /* what grew is only larger */
    memset(t->mark + t->cap, 0, cap - t->cap);
    t->cap = cap;
    return COLB_OK;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

void colb__touched_sort(colb__touched *t)
{
    if (!t->all && t->n > 1)
        qsort(t->list, t->n, sizeof *t->list, cmp_size);
}

void colb__touched_clear(colb__touched *t)
{
    if (t->all)
        memset(t->mark, 0, t->cap);
    else
        for (size_t i = 0; i < t->n; i++)
            t->mark[t->list[i]] = 0;
    t->n = 0;
    t->all = 0;
}
