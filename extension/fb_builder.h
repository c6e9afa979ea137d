/*
 * A small flatbuffer builder (back to front, as the format expects): the
 * ETDump and bundled-program writers use it. Heap memory; errors are sticky
 * (fbb.failed) so callers check once at the end.
 *
 * Children are built before their parents: a table's string, vector and
 * sub-table fields take references returned earlier. Only one table may be
 * under construction at a time.
 */
#ifndef EDGETORCH_FB_BUILDER_H
#define EDGETORCH_FB_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FBB_MAX_FIELDS 16

typedef uint32_t fbb_ref; /* distance from the end of the buffer */

typedef struct fbb {
  uint8_t *buf;
  size_t cap, size, minalign;
  bool failed;
  uint32_t field_pos[FBB_MAX_FIELDS]; /* 0: absent */
  int n_fields;
  uint32_t table_base; /* size when the open table started */
} fbb;

void fbb_init(fbb *b);
void fbb_free(fbb *b);

fbb_ref fbb_string(fbb *b, const char *s, size_t len);
/* A vector of n scalars of elem_size bytes (little-endian in memory). */
fbb_ref fbb_vector(fbb *b, const void *data, size_t n, size_t elem_size,
                   size_t align);
/* A vector of n references (tables or strings). */
fbb_ref fbb_vector_refs(fbb *b, const fbb_ref *refs, size_t n);

void fbb_table_start(fbb *b);
void fbb_add_u8(fbb *b, int id, uint8_t v);
void fbb_add_u32(fbb *b, int id, uint32_t v);
void fbb_add_u64(fbb *b, int id, uint64_t v);
void fbb_add_f64(fbb *b, int id, double v);
void fbb_add_ref(fbb *b, int id, fbb_ref r);
fbb_ref fbb_table_end(fbb *b);

/* Finish with root table `root` and a 4-character identifier; with
 * size_prefixed, a uint32 byte count comes first (flatcc's
 * *_start_as_root_with_size). Returns the bytes (inside b) and their size. */
const uint8_t *fbb_finish(fbb *b, fbb_ref root, const char *ident,
                          bool size_prefixed, size_t *out_size);

#endif /* EDGETORCH_FB_BUILDER_H */
