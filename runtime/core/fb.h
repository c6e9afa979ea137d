/*
 * A bounds-checked FlatBuffer reader (private to runtime/core).
 *
 * Every read is checked against the buffer: a table's vtable, the field's
 * place inside the table, a vector's length times its element size, a
 * string's terminator. A failed check marks the reader bad (recording the
 * first offending byte offset and what was being read) and returns an empty
 * result, so callers read a whole structure and test fb_ok() once.
 *
 * Values are read byte by byte in little-endian order, so neither the
 * buffer's alignment nor the host's byte order matters.
 */
#ifndef EDGETORCH_CORE_FB_H
#define EDGETORCH_CORE_FB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fb_reader {
  const uint8_t *buf;
  uint32_t size;
  bool bad;
  uint32_t bad_at;  /* byte offset of the first failed check */
  const char *what; /* the table (schema name) being read then */
  int field;        /* its field number in the schema, or -1 */
  /* Work done (tables opened, vector elements walked) and the most allowed:
   * a file whose tables are shared by many references cannot make a reader
   * walk them once per reference without end. */
  uint64_t steps, max_steps;
} fb_reader;

/* A table; pos == 0 means absent. */
typedef struct fb_table {
  uint32_t pos;
  uint32_t vt;
  uint16_t vt_size;
  uint16_t t_size;
} fb_table;

/* A vector; pos is the first element. len == 0 and pos == 0 when absent. */
typedef struct fb_vec {
  uint32_t pos;
  uint32_t len;
  bool present;
} fb_vec;

static inline uint16_t fb_rd16(const uint8_t *p) {
  return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t fb_rd32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
         ((uint32_t)p[3] << 24);
}
static inline uint64_t fb_rd64(const uint8_t *p) {
  return (uint64_t)fb_rd32(p) | ((uint64_t)fb_rd32(p + 4) << 32);
}

void fb_init(fb_reader *r, const uint8_t *buf, uint32_t size);
bool fb_fail(fb_reader *r, uint32_t at, const char *what);
static inline bool fb_ok(const fb_reader *r) { return !r->bad; }
/* Charge n steps of work; false (and the reader bad) past max_steps. */
bool fb_charge(fb_reader *r, uint64_t n);

/* Open the table at absolute position pos (vtable checked). */
bool fb_table_at(fb_reader *r, uint32_t pos, fb_table *out, const char *what);
/* The root table; a failure names it `what` ("Program table" for fb_root). */
bool fb_root_named(fb_reader *r, fb_table *out, const char *what);
bool fb_root(fb_reader *r, fb_table *out);

/* Absolute position of field `id` if present and `size` bytes fit inside the
 * table; 0 if absent (or bad). */
uint32_t fb_field(fb_reader *r, const fb_table *t, unsigned id, unsigned size,
                  const char *what);

uint8_t fb_u8(fb_reader *r, const fb_table *t, unsigned id, uint8_t dflt,
              const char *what);
int8_t fb_i8(fb_reader *r, const fb_table *t, unsigned id, int8_t dflt,
             const char *what);
uint32_t fb_u32(fb_reader *r, const fb_table *t, unsigned id, uint32_t dflt,
                const char *what);
int32_t fb_i32(fb_reader *r, const fb_table *t, unsigned id, int32_t dflt,
               const char *what);
uint64_t fb_u64(fb_reader *r, const fb_table *t, unsigned id, uint64_t dflt,
                const char *what);
int64_t fb_i64(fb_reader *r, const fb_table *t, unsigned id, int64_t dflt,
               const char *what);
double fb_f64(fb_reader *r, const fb_table *t, unsigned id, double dflt,
              const char *what);

/* A referenced table field; false if absent or bad (out->pos == 0). */
bool fb_subtable(fb_reader *r, const fb_table *t, unsigned id, fb_table *out,
                 const char *what);
/* A vector field whose elements are `elem` bytes; false if absent or bad. */
bool fb_vector(fb_reader *r, const fb_table *t, unsigned id, unsigned elem,
               fb_vec *out, const char *what);
/* A string field (NUL checked); *out_len excludes the NUL. NULL if absent. */
const char *fb_string(fb_reader *r, const fb_table *t, unsigned id,
                      uint32_t *out_len, const char *what);
/* Element i of a vector of tables. */
bool fb_vec_table(fb_reader *r, const fb_vec *v, uint32_t i, fb_table *out,
                  const char *what);

/* Element reads of verified vectors (no further checks: the vector's bounds
 * were checked when it was opened). */
static inline int32_t fb_vec_i32(const fb_reader *r, const fb_vec *v,
                                 uint32_t i) {
  return (int32_t)fb_rd32(r->buf + v->pos + 4u * i);
}
static inline int64_t fb_vec_i64(const fb_reader *r, const fb_vec *v,
                                 uint32_t i) {
  return (int64_t)fb_rd64(r->buf + v->pos + 8u * i);
}
static inline uint64_t fb_vec_u64(const fb_reader *r, const fb_vec *v,
                                  uint32_t i) {
  return fb_rd64(r->buf + v->pos + 8u * i);
}
static inline uint8_t fb_vec_u8(const fb_reader *r, const fb_vec *v,
                                uint32_t i) {
  return r->buf[v->pos + i];
}

#endif /* EDGETORCH_CORE_FB_H */
