/* A back-to-front flatbuffer builder; see fb_builder.h. */
#include "fb_builder.h"

#include <stdlib.h>
#include <string.h>

void fbb_init(fbb *b) {
  memset(b, 0, sizeof *b);
  b->minalign = 1;
}

void fbb_free(fbb *b) {
  free(b->buf);
  memset(b, 0, sizeof *b);
}

/* Make room for n more bytes in front of the data. */
static bool reserve(fbb *b, size_t n) {
  if (b->failed) return false;
  if (b->cap - b->size >= n) return true;
  size_t cap = b->cap ? b->cap : 1024;
  while (cap - b->size < n) {
    if (cap > SIZE_MAX / 2 || cap > 0xFFFFFFFFu) {
      b->failed = true;
      return false;
    }
    cap *= 2;
  }
  uint8_t *nb = (uint8_t *)malloc(cap);
  if (!nb) {
    b->failed = true;
    return false;
  }
  if (b->size) memcpy(nb + cap - b->size, b->buf + b->cap - b->size, b->size);
  free(b->buf);
  b->buf = nb;
  b->cap = cap;
  return true;
}

/* n == 0 returns early: an empty builder has no buffer yet, and NULL + 0
 * is undefined. */
static void push(fbb *b, const void *p, size_t n) {
  if (!n || !reserve(b, n)) return;
  b->size += n;
  memcpy(b->buf + b->cap - b->size, p, n);
}

static void pad(fbb *b, size_t n) {
  if (!n || !reserve(b, n)) return;
  b->size += n;
  memset(b->buf + b->cap - b->size, 0, n);
}

/* Pad so that after `extra` more bytes the data is `align`-aligned. */
static void align_to(fbb *b, size_t align, size_t extra) {
  if (align > b->minalign) b->minalign = align;
  size_t p = (~(b->size + extra) + 1) & (align - 1);
  pad(b, p);
}

static void push_u32(fbb *b, uint32_t v) {
  uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                   (uint8_t)(v >> 24)};
  push(b, le, 4);
}

static void push_u16(fbb *b, uint16_t v) {
  uint8_t le[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
  push(b, le, 2);
}

static void push_u64(fbb *b, uint64_t v) {
  uint8_t le[8];
  for (int i = 0; i < 8; i++) le[i] = (uint8_t)(v >> (8 * i));
  push(b, le, 8);
}

/* A uoffset to `r`, written at the current front (4-aligned). */
static void push_uoffset(fbb *b, fbb_ref r) {
  align_to(b, 4, 0);
  push_u32(b, (uint32_t)(b->size + 4 - r));
}

fbb_ref fbb_string(fbb *b, const char *s, size_t len) {
  align_to(b, 4, len + 1);
  pad(b, 1);
  push(b, s, len);
  push_u32(b, (uint32_t)len);
  return (fbb_ref)b->size;
}

fbb_ref fbb_vector(fbb *b, const void *data, size_t n, size_t elem_size,
                   size_t align) {
  size_t bytes = n * elem_size;
  align_to(b, 4, bytes);
  align_to(b, align, bytes);
  push(b, data, bytes); /* elements are stored in order */
  push_u32(b, (uint32_t)n);
  return (fbb_ref)b->size;
}

fbb_ref fbb_vector_refs(fbb *b, const fbb_ref *refs, size_t n) {
  align_to(b, 4, n * 4);
  for (size_t i = n; i-- > 0;) push_uoffset(b, refs[i]);
  push_u32(b, (uint32_t)n);
  return (fbb_ref)b->size;
}

void fbb_table_start(fbb *b) {
  memset(b->field_pos, 0, sizeof b->field_pos);
  b->n_fields = 0;
  b->table_base = (uint32_t)b->size;
}

static void field(fbb *b, int id) {
  if (id < 0 || id >= FBB_MAX_FIELDS) {
    b->failed = true;
    return;
  }
  b->field_pos[id] = (uint32_t)b->size;
  if (id + 1 > b->n_fields) b->n_fields = id + 1;
}

void fbb_add_u8(fbb *b, int id, uint8_t v) {
  push(b, &v, 1);
  field(b, id);
}

void fbb_add_u32(fbb *b, int id, uint32_t v) {
  align_to(b, 4, 4);
  push_u32(b, v);
  field(b, id);
}

void fbb_add_u64(fbb *b, int id, uint64_t v) {
  align_to(b, 8, 8);
  push_u64(b, v);
  field(b, id);
}

void fbb_add_f64(fbb *b, int id, double v) {
  uint64_t u;
  memcpy(&u, &v, 8);
  fbb_add_u64(b, id, u);
}

void fbb_add_ref(fbb *b, int id, fbb_ref r) {
  if (!r) return;
  push_uoffset(b, r);
  field(b, id);
}

fbb_ref fbb_table_end(fbb *b) {
  /* The table's start: a soffset to its vtable. */
  align_to(b, 4, 4);
  push_u32(b, 0);
  fbb_ref obj = (fbb_ref)b->size;
  for (int i = b->n_fields; i-- > 0;)
    push_u16(b, b->field_pos[i] ? (uint16_t)(obj - b->field_pos[i]) : 0);
  /* The object's inline size: the soffset and every field pushed since
   * fbb_table_start. */
  push_u16(b, (uint16_t)(obj - b->table_base));
  push_u16(b, (uint16_t)(4 + 2 * b->n_fields));
  fbb_ref vt = (fbb_ref)b->size;
  if (!b->failed) {
    int32_t so = (int32_t)(vt - obj);
    uint8_t *at = b->buf + b->cap - obj;
    for (int i = 0; i < 4; i++) at[i] = (uint8_t)((uint32_t)so >> (8 * i));
  }
  b->n_fields = 0;
  return obj;
}

const uint8_t *fbb_finish(fbb *b, fbb_ref root, const char *ident,
                          bool size_prefixed, size_t *out_size) {
  size_t head = 4 + (ident ? 4 : 0) + (size_prefixed ? 4 : 0);
  align_to(b, b->minalign < 8 ? 8 : b->minalign, head);
  if (ident) push(b, ident, 4);
  push_uoffset(b, root);
  if (size_prefixed) push_u32(b, (uint32_t)b->size);
  *out_size = b->failed ? 0 : b->size;
  return b->failed ? NULL : b->buf + b->cap - b->size;
}
