/* Bump allocation over caller memory; a NULL base only counts. */
#include <edgetorch/arena.h>

void et_arena_init(et_arena *a, void *base, size_t size) {
  a->base = (uint8_t *)base;
  a->size = base ? size : 0;
  a->used = 0;
  a->failed = 0;
}

void et_arena_init_counting(et_arena *a) { et_arena_init(a, NULL, 0); }

void *et_arena_alloc(et_arena *a, size_t bytes, size_t align) {
  if (align == 0 || align > ET_ARENA_ALIGN || (align & (align - 1)) != 0)
    align = ET_ARENA_ALIGN;
  /* Offsets, not addresses, are aligned: the base is ET_ARENA_ALIGN aligned,
   * so counting and real arenas pad identically. */
  size_t start = (a->used + (align - 1)) & ~(align - 1);
  if (start < a->used || bytes > SIZE_MAX - start) {
    if (!a->failed) a->failed = SIZE_MAX;
    return NULL;
  }
  size_t end = start + bytes;
  if (!a->base) {
    a->used = end;
    return NULL;
  }
  if (end > a->size) {
    if (!a->failed) a->failed = end;
    return NULL;
  }
  a->used = end;
  return a->base + start;
}

void et_arena_reset(et_arena *a) {
  a->used = 0;
  a->failed = 0;
}
