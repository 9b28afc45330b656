/* fuzz_json.c - libFuzzer harness: colb serve's strict JSON reader
 * (serve/json_strict.c) against cJSON. Input: any bytes. Whenever the
 * strict reader takes an input, cJSON must take it too, end at the same
 * byte and build the same tree: the same types, keys, strings, valueint
 * and doubles bit for bit, in the same order, with the same prev links (a
 * difference aborts). json_strict_number is checked against strtod on
 * every prefix the grammar accepts. Seed corpus: tests/fuzz/corpus/json/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "codec.h"
#include "json_strict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

static int same_str(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }

/* cJSON's links of a list of siblings: each prev is the one before, and
 * the first one's is the last. */
static void links(const cJSON *first)
{
    const cJSON *last = first;
    for (; last && last->next; last = last->next)
        check(last->next->prev == last);
    check(!first || first->prev == last);
}

static void same_tree(const cJSON *x, const cJSON *y)
{
    for (; x || y; x = x->next, y = y->next) {
        check(x && y);
        check(x->type == y->type && x->valueint == y->valueint);
        check(!memcmp(&x->valuedouble, &y->valuedouble, sizeof(double)));
        check(same_str(x->string, y->string) && same_str(x->valuestring, y->valuestring));
        check(!x->child == !y->child);
        links(x->child);
        links(y->child);
        same_tree(x->child, y->child);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    arena a = { 0 };
    const char *end = NULL, *cend = NULL;
    cJSON *t = json_strict_parse(s, size, &a, &end);
    if (t) {
        cJSON *c = cJSON_ParseWithLengthOpts(s, size, &cend, 0);
        check(c != NULL && cend == end);
        same_tree(t, c);
        cJSON_Delete(c);
    }
    arena_free(&a);
    /* numbers: the longest prefix of up to 63 bytes, then every shorter one */
    size_t n = size < 63 ? size : 63;
    char buf[64];
    for (size_t k = n; k > 0; k--) {
        double v;
        if (json_strict_number(s, k, &v))
            continue;
        memcpy(buf, s, k);
        buf[k] = '\0';
        char *e;
        double w = strtod(buf, &e);
        check(e == buf + k && !memcmp(&v, &w, sizeof v));
    }
    return 0;
}
