/*
 * arena.h — a per-request memory arena with cleanups.
 *
 * Allocations come from large blocks and are freed all at once by arena_reset() or
 * arena_destroy(). Foreign resources (PGresult, bson_t, json_object, curl slists) are
 * tied to the arena with arena_cleanup_add(): their destructors run, newest first, when
 * the arena is reset. A handler therefore cannot leak by forgetting to free.
 */
#ifndef MK_ARENA_H
#define MK_ARENA_H

#include <stddef.h>

typedef struct arena arena_t;
typedef void (*arena_cleanup_fn)(void *data);

/* Create an arena whose blocks are at least block_size bytes. NULL on out-of-memory. */
arena_t *arena_create(size_t block_size);

/* Run all cleanups, free all blocks but the first. Pointers from the arena become invalid. */
void arena_reset(arena_t *a);

/* arena_reset() then free the arena itself. NULL is accepted. */
void arena_destroy(arena_t *a);

/* Allocate n bytes aligned for any type. Never returns NULL: aborts on out-of-memory,
 * because a worker that cannot allocate a few KiB cannot answer anyway. */
void *arena_alloc(arena_t *a, size_t n);

/* arena_alloc + zero. */
void *arena_calloc(arena_t *a, size_t n);

/* Copies of strings, valid until the next reset. NULL in gives NULL out. */
char *arena_strdup(arena_t *a, const char *s);
char *arena_strndup(arena_t *a, const char *s, size_t n);

/* printf into the arena. */
char *arena_sprintf(arena_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The strings up to a NULL joined, and a number in decimal: copies, not the formatter (the
 * keys and header values of every request). */
char *arena_concat(arena_t *a, ...) __attribute__((sentinel));
char *arena_decimal(arena_t *a, long long v);

/* Run fn(data) at the next reset (or destroy). Newest registered runs first. */
void arena_cleanup_add(arena_t *a, arena_cleanup_fn fn, void *data);

/* Bytes handed out since the last reset (for metrics and limits). */
size_t arena_used(const arena_t *a);

#endif
