/*
 * et_arena: a bump allocator over a caller's buffer.
 *
 * The caller owns the buffer; the arena never frees single blocks, only
 * resets as a whole. An arena whose base is NULL counts instead of
 * allocating: it returns no memory but records how many bytes the same
 * sequence of requests would need, which is how method metadata knows the
 * exact arena size before a method is loaded.
 *
 * Thread-safety: none.
 */
#ifndef EDGETORCH_ARENA_H
#define EDGETORCH_ARENA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Alignment the arena's base must have, and the largest it hands out. */
#define ET_ARENA_ALIGN 16u

typedef struct et_arena {
  uint8_t *base; /* NULL: counting mode */
  size_t size;
  size_t used;   /* bytes consumed so far, padding included */
  size_t failed; /* bytes of the first request that did not fit (0: none) */
} et_arena;

void et_arena_init(et_arena *a, void *base, size_t size);
/* A counting arena (see above). */
void et_arena_init_counting(et_arena *a);
/* `align` must be a power of two no larger than ET_ARENA_ALIGN. Returns NULL
 * when the request does not fit (or always, in counting mode). */
void *et_arena_alloc(et_arena *a, size_t bytes, size_t align);
void et_arena_reset(et_arena *a);

#ifdef __cplusplus
}
#endif

#endif /* EDGETORCH_ARENA_H */
