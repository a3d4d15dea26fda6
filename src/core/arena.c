#include "core/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena_block {
    struct arena_block *next;
    size_t size;
    size_t used;
    max_align_t data[];
};

struct arena_cleanup {
    struct arena_cleanup *next;
    arena_cleanup_fn fn;
    void *data;
};

struct arena {
    struct arena_block *head;   /* current block; the first block is last in the chain */
    struct arena_cleanup *cleanups;
    size_t block_size;
    size_t used_total;
};

#define ARENA_ALIGN (_Alignof(max_align_t))

static struct arena_block *
block_new(size_t size)
{
    struct arena_block *b = malloc(sizeof(*b) + size);
    if (b == NULL) {
        fprintf(stderr, "arena: out of memory allocating %zu bytes\n", size);
        abort();
    }
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

arena_t *
arena_create(size_t block_size)
{
    arena_t *a = malloc(sizeof(*a));
    if (a == NULL) {
        return NULL;
    }
    a->block_size = block_size < 1024 ? 1024 : block_size;
    a->head = block_new(a->block_size);
    a->cleanups = NULL;
    a->used_total = 0;
    return a;
}

void
arena_reset(arena_t *a)
{
    if (a == NULL) {
        return;
    }
    while (a->cleanups != NULL) {
        struct arena_cleanup *c = a->cleanups;
        a->cleanups = c->next; /* unlink first: a cleanup may not run twice */
        c->fn(c->data);
    }
    while (a->head->next != NULL) {
        struct arena_block *b = a->head;
        a->head = b->next;
        free(b);
    }
    a->head->used = 0;
    a->used_total = 0;
}

void
arena_destroy(arena_t *a)
{
    if (a == NULL) {
        return;
    }
    arena_reset(a);
    free(a->head);
    free(a);
}

void *
arena_alloc(arena_t *a, size_t n)
{
    size_t need = (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
    if (need == 0) {
        need = ARENA_ALIGN;
    }
    struct arena_block *b = a->head;
    if (b->size - b->used < need) {
        size_t size = need > a->block_size ? need : a->block_size;
        b = block_new(size);
        b->next = a->head;
        a->head = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += need;
    a->used_total += need;
    return p;
}

void *
arena_calloc(arena_t *a, size_t n)
{
    void *p = arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

char *
arena_strndup(arena_t *a, const char *s, size_t n)
{
    if (s == NULL) {
        return NULL;
    }
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
arena_strdup(arena_t *a, const char *s)
{
    return s == NULL ? NULL : arena_strndup(a, s, strlen(s));
}

char *
arena_sprintf(arena_t *a, const char *fmt, ...)
{
    /* Most results are short: format once into the stack, a second time only when longer. */
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        return arena_strdup(a, "");
    }
    if ((size_t)n < sizeof(small)) {
        return arena_strndup(a, small, (size_t)n);
    }
    char *p = arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

char *
arena_concat(arena_t *a, ...)
{
    size_t total = 0;
    va_list ap;
    va_start(ap, a);
    for (const char *s = va_arg(ap, const char *); s != NULL; s = va_arg(ap, const char *)) {
        total += strlen(s);
    }
    va_end(ap);
    char *out = arena_alloc(a, total + 1), *p = out;
    va_start(ap, a);
    for (const char *s = va_arg(ap, const char *); s != NULL; s = va_arg(ap, const char *)) {
        size_t n = strlen(s);
        memcpy(p, s, n);
        p += n;
    }
    va_end(ap);
    *p = '\0';
    return out;
}

char *
arena_decimal(arena_t *a, long long v)
{
    char num[24], *p = num + sizeof(num);
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    *--p = '\0';
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0) {
        *--p = '-';
    }
    return arena_strndup(a, p, (size_t)(num + sizeof(num) - 1 - p));
}

void
arena_cleanup_add(arena_t *a, arena_cleanup_fn fn, void *data)
{
    struct arena_cleanup *c = arena_alloc(a, sizeof(*c));
    c->fn = fn;
    c->data = data;
    c->next = a->cleanups;
    a->cleanups = c;
}

size_t
arena_used(const arena_t *a)
{
    return a->used_total;
}
