/*
 * Table-driven tests of the .ptd reader (runtime/core/flat_tensor.c) on
 * FlatTensor files crafted in C (fbbuild.h): the header, the segments, the
 * named entries and their layouts, and flatbuffer damage inside them. Each
 * case changes one thing in a valid two-entry file and states the status and
 * a fragment of the message; the valid file is checked first to load and to
 * give back exactly the bytes and layouts written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <edgetorch/edgetorch.h>

#include "fbbuild.h"

typedef struct ptd_entry {
  const char *key; /* NULL: no key field */
  uint32_t segment;
  bool layout;
  int8_t dtype;
  uint32_t rank, n_dim_order;
  int32_t sizes[20];
} ptd_entry;

typedef struct ptd_spec {
  uint32_t version;
  uint32_t n_segments;
  tp_segment segments[4];
  uint32_t n_entries;
  ptd_entry entries[3];
  uint64_t segment_bytes;
} ptd_spec;

typedef struct ptd_layout {
  size_t root, entry[3], layout[3];
  size_t fb_end, base;
} ptd_layout;

/* Entry "a": 2 floats {1, 2} in segment 0 with a layout; entry "b": 2 floats
 * {3, 4} in segment 1 without one. */
static void base_spec(ptd_spec *s) {
  memset(s, 0, sizeof *s);
  s->n_segments = 2;
  s->segments[0] = (tp_segment){0, 8};
  s->segments[1] = (tp_segment){16, 8};
  s->segment_bytes = 32;
  s->n_entries = 2;
  s->entries[0] = (ptd_entry){"a", 0, true, 6 /* Float */, 1, 1, {2}};
  s->entries[1] = (ptd_entry){"b", 1, false, 0, 0, 0, {0}};
}

static uint8_t *build_ptd(const ptd_spec *s, size_t *out_size,
                          ptd_layout *out) {
  ptd_layout lay;
  memset(&lay, 0, sizeof lay);
  tfb b;
  tfb_init(&b);
  tfb_alloc(&b, 48, 16);
  memcpy(b.buf + 4, "FT01", 4);
  memcpy(b.buf + 8, "FH01", 4);
  tfb_w32(&b, 12, 40);
  tfb_w64(&b, 16, 48);
  size_t slots[3];
  tfb_field rf[] = {{0, 4, s->version}, {1, 4, 0}, {2, 4, 0}};
  lay.root = tfb_table(&b, 3, rf, slots);
  tfb_w32(&b, 0, (uint32_t)lay.root);
  size_t segs = tfb_vec_refs(&b, s->n_segments);
  tfb_link(&b, slots[1], segs);
  for (uint32_t i = 0; i < s->n_segments; i++) {
    tfb_field f[] = {{0, 8, s->segments[i].offset},
                     {1, 8, s->segments[i].size}};
    tfb_link(&b, segs + 4 + 4 * i, tfb_table(&b, 2, f, NULL));
  }
  size_t named = tfb_vec_refs(&b, s->n_entries);
  tfb_link(&b, slots[2], named);
  for (uint32_t i = 0; i < s->n_entries; i++) {
    const ptd_entry *e = &s->entries[i];
    tfb_field f[3];
    size_t n = 0, es[3];
    f[n++] = (tfb_field){1, 4, e->segment};
    if (e->key) f[n++] = (tfb_field){0, 4, 0};
    if (e->layout) f[n++] = (tfb_field){2, 4, 0};
    lay.entry[i] = tfb_table(&b, n, f, es);
    tfb_link(&b, named + 4 + 4 * i, lay.entry[i]);
    if (e->key) tfb_link(&b, es[1], tfb_str(&b, e->key));
    if (e->layout) {
      size_t ls[3];
      tfb_field lf[] = {{0, 1, (uint8_t)e->dtype}, {1, 4, 0}, {2, 4, 0}};
      lay.layout[i] = tfb_table(&b, 3, lf, ls);
      tfb_link(&b, es[e->key ? 2 : 1], lay.layout[i]);
      tfb_link(&b, ls[1], tfb_vec(&b, e->rank, 4, e->sizes));
      uint8_t order[20];
      for (uint32_t d = 0; d < 20; d++) order[d] = (uint8_t)d;
      tfb_link(&b, ls[2], tfb_vec(&b, e->n_dim_order, 1, order));
    }
  }
  lay.fb_end = b.len;
  tfb_w64(&b, 24, b.len - 48);
  lay.base = tfb_alloc(&b, (size_t)s->segment_bytes, 16);
  tfb_w64(&b, 32, lay.base);
  tfb_w64(&b, 40, s->segment_bytes);
  /* Segment data: float k+1 at float index k of each 16-byte block. */
  const float vals[8] = {1, 2, 0, 0, 3, 4, 0, 0};
  memcpy(b.buf + lay.base, vals,
         s->segment_bytes < sizeof vals ? (size_t)s->segment_bytes
                                        : sizeof vals);
  uint8_t *out_buf = aligned_alloc(16, (b.len + 15) / 16 * 16 + 16);
  memcpy(out_buf, b.buf, b.len);
  *out_size = b.len;
  if (out) *out = lay;
  tfb_free(&b);
  return out_buf;
}

/* ---- the valid file --------------------------------------------------------- */

static void test_ptd_valid(void **state) {
  (void)state;
  ptd_spec s;
  base_spec(&s);
  size_t n;
  uint8_t *bytes = build_ptd(&s, &n, NULL);
  et_ptd ptd;
  et_status st = et_ptd_load(&ptd, bytes, n);
  if (st) fail_msg("%s: %s", et_status_name(st), et_ptd_message(&ptd));
  assert_int_equal(et_ptd_key_count(&ptd), 2);
  assert_string_equal(et_ptd_key(&ptd, 0), "a");
  assert_string_equal(et_ptd_key(&ptd, 1), "b");
  assert_null(et_ptd_key(&ptd, 2));
  et_named_data nd;
  assert_int_equal(ptd.map.get(&ptd.map, "a", &nd), ET_OK);
  assert_int_equal(nd.nbytes, 8);
  const float *f = nd.data;
  assert_true(f[0] == 1.0f && f[1] == 2.0f);
  assert_int_equal(nd.dtype, ET_FLOAT);
  assert_int_equal(nd.rank, 1);
  assert_non_null(nd.sizes);
  assert_int_equal(tfb_rd32(nd.sizes, 0), 2);
  assert_int_equal(nd.dim_order[0], 0);
  assert_int_equal(ptd.map.get(&ptd.map, "b", &nd), ET_OK);
  f = nd.data;
  assert_true(f[0] == 3.0f && f[1] == 4.0f);
  assert_null(nd.sizes);
  assert_int_equal(ptd.map.get(&ptd.map, "c", &nd), ET_NOT_FOUND);
  assert_int_equal(ptd.map.get(&ptd.map, "", &nd), ET_NOT_FOUND);
  free(bytes);

  /* NULL and unaligned data are refused before anything is read. */
  assert_int_equal(et_ptd_load(&ptd, NULL, 64), ET_INVALID_ARGUMENT);
  assert_non_null(strstr(et_ptd_message(&ptd), "no data"));
  _Alignas(16) uint8_t buf[80] = {0};
  assert_int_equal(et_ptd_load(&ptd, buf + 4, 64), ET_INVALID_ARGUMENT);
  assert_non_null(strstr(et_ptd_message(&ptd), "aligned"));
  assert_int_equal(et_ptd_load(NULL, buf, 64), ET_INVALID_ARGUMENT);
}

/* ---- the cases ------------------------------------------------------------- */

typedef struct ptd_case {
  const char *name;
  void (*edit)(ptd_spec *s);
  void (*damage)(uint8_t *b, size_t *size, const ptd_layout *l);
  et_status status;
  const char *frag[2];
} ptd_case;

/* header */
static void d_short(uint8_t *b, size_t *n, const ptd_layout *l) {
  (void)b;
  (void)l;
  *n = 47;
}
static void d_ident(uint8_t *b, size_t *n, const ptd_layout *l) {
  (void)n;
  (void)l;
  b[7] = '2';
}
static void d_magic(uint8_t *b, size_t *n, const ptd_layout *l) {
  (void)n;
  (void)l;
  b[11] = '2';
}
static void d_header_len_39(uint8_t *b, size_t *n, const ptd_layout *l) {
  (void)n;
  (void)l;
  tfb_wr32(b, 12, 39);
}
static void d_header_len_past(uint8_t *b, size_t *n, const ptd_layout *l) {
  (void)l;
  tfb_wr32(b, 12, (uint32_t)*n);
}
static void d_fb_size_past(uint8_t *b, size_t *n, const ptd_layout *l) {
  (void)l;
  tfb_wr64(b, 24, *n);
}
static void d_fb_offset_huge(uint8_t *b, size_t *n, const ptd_layout *l) {
  (void)n;
  (void)l;
  tfb_wr64(b, 16, (uint64_t)1 << 63);
}
static void d_fb_wraps(uint8_t *b, size_t *n, const ptd_layout *l) {
  (void)n;
  (void)l;
  tfb_wr64(b, 24, UINT64_MAX - 40); /* 48 + size wraps to 7 */
}
static void d_base_inside_fb(uint8_t *b, size_t *n, const ptd_layout *l) {
  (void)n;
  (void)l;
  tfb_wr64(b, 32, 16);
}
static void d_base_past(uint8_t *b, size_t *n, const ptd_layout *l) {
  (void)l;
  tfb_wr64(b, 32, *n + 16);
}
static void d_seg_size_wraps(uint8_t *b, size_t *n, const ptd_layout *l) {
  (void)n;
  (void)l;
  tfb_wr64(b, 40, UINT64_MAX);
}
static void d_truncated_segments(uint8_t *b, size_t *n, const ptd_layout *l) {
  (void)b;
  *n = l->base + 8; /* the header still claims 32 bytes of segment data */
}
/* flatbuffer */
static void d_root_past(uint8_t *b, size_t *n, const ptd_layout *l) {
  (void)n;
  tfb_wr32(b, 0, (uint32_t)l->fb_end);
}
static void d_root_vt_odd(uint8_t *b, size_t *n, const ptd_layout *l) {
  (void)n;
  tfb_wr16(b, tfb_vtable(b, l->root), 9);
}
static void d_segments_offset(uint8_t *b, size_t *n, const ptd_layout *l) {
  (void)n;
  tfb_wr32(b, tfb_slot(b, l->root, 1), 0xfffffff0u);
}
static void d_named_len(uint8_t *b, size_t *n, const ptd_layout *l) {
  (void)n;
  size_t s = tfb_slot(b, l->root, 2);
  tfb_wr32(b, s + tfb_rd32(b, s), 0x40000000u);
}
static void d_key_unterminated(uint8_t *b, size_t *n, const ptd_layout *l) {
  (void)n;
  size_t s = tfb_slot(b, l->entry[0], 0);
  size_t str = s + tfb_rd32(b, s);
  b[str + 4 + 1] = 'z';
}
static void d_layout_sizes_offset(uint8_t *b, size_t *n, const ptd_layout *l) {
  (void)n;
  tfb_wr32(b, tfb_slot(b, l->layout[0], 1), 0x7fffffffu);
}
static void d_entry_offset(uint8_t *b, size_t *n, const ptd_layout *l) {
  (void)n;
  size_t s = tfb_slot(b, l->root, 2);
  size_t v = s + tfb_rd32(b, s);
  tfb_wr32(b, v + 4, 0xffffff00u);
}
/* spec edits */
static void e_version(ptd_spec *s) { s->version = 1; }
static void e_seg_too_big(ptd_spec *s) { s->segments[0].size = 33; }
static void e_seg_wraps(ptd_spec *s) {
  s->segments[1] = (tp_segment){16, UINT64_MAX - 8};
}
static void e_seg_offset_past(ptd_spec *s) {
  s->segments[1] = (tp_segment){(uint64_t)1 << 40, 0};
}
static void e_entry_segment(ptd_spec *s) { s->entries[0].segment = 2; }
static void e_entry_segment_max(ptd_spec *s) {
  s->entries[1].segment = UINT32_MAX;
}
static void e_no_key(ptd_spec *s) { s->entries[1].key = NULL; }
static void e_dtype(ptd_spec *s) { s->entries[0].dtype = 99; }
static void e_rank(ptd_spec *s) {
  s->entries[0].rank = ET_MAX_RANK + 1;
  s->entries[0].n_dim_order = ET_MAX_RANK + 1;
}
static void e_dim_order_count(ptd_spec *s) {
  s->entries[0].rank = 2;
  s->entries[0].sizes[1] = 1;
}
static void e_no_segments(ptd_spec *s) { s->n_segments = 0; }
static void e_no_entries(ptd_spec *s) { s->n_entries = 0; }
static void e_rank0(ptd_spec *s) {
  s->entries[0].rank = 0;
  s->entries[0].n_dim_order = 0;
}
static void e_empty_segment(ptd_spec *s) { s->segments[1] = (tp_segment){32, 0}; }

#define XD ET_INVALID_EXTERNAL_DATA

static const ptd_case kCases[] = {
    /* header */
    {"file shorter than the header", NULL, d_short, XD, {"too short", NULL}},
    {"identifier FT02", NULL, d_ident, XD, {"not a FlatTensor file", NULL}},
    {"header magic FH02", NULL, d_magic, XD, {"not a FlatTensor file", NULL}},
    {"header length 39", NULL, d_header_len_39, XD,
     {"header length 39", "out of range"}},
    {"header length past the file", NULL, d_header_len_past, XD,
     {"header length", "out of range"}},
    {"flatbuffer size past the file", NULL, d_fb_size_past, XD,
     {"flatbuffer", "outside the"}},
    {"flatbuffer offset 2^63", NULL, d_fb_offset_huge, XD,
     {"flatbuffer (9223372036854775808", "outside the"}},
    {"flatbuffer offset + size wrapping 2^64", NULL, d_fb_wraps, XD,
     {"flatbuffer", "outside the"}},
    {"segment base inside the flatbuffer", NULL, d_base_inside_fb, XD,
     {"segments (16", "outside the"}},
    {"segment base past the file", NULL, d_base_past, XD,
     {"segments", "outside the"}},
    {"segment data size wrapping 2^64", NULL, d_seg_size_wraps, XD,
     {"18446744073709551615", "outside the"}},
    {"file cut inside the segment data", NULL, d_truncated_segments, XD,
     {"segments", "outside the"}},
    /* flatbuffer damage */
    {"root offset past the flatbuffer", NULL, d_root_past, XD,
     {"malformed flatbuffer", "root offset"}},
    {"root vtable size odd", NULL, d_root_vt_odd, XD,
     {"malformed flatbuffer", "FlatTensor table"}},
    {"segments offset wrapping uint32", NULL, d_segments_offset, XD,
     {"malformed flatbuffer", "FlatTensor field 1"}},
    {"named data length past the end", NULL, d_named_len, XD,
     {"malformed flatbuffer", "FlatTensor field 2"}},
    {"key without terminator", NULL, d_key_unterminated, XD,
     {"malformed flatbuffer", "NamedData field 0"}},
    {"layout sizes offset past the end", NULL, d_layout_sizes_offset, XD,
     {"malformed flatbuffer", "TensorLayout field 1"}},
    {"named data element offset past the end", NULL, d_entry_offset, XD,
     {"malformed flatbuffer", "NamedData"}},
    /* version */
    {"version 1", e_version, NULL, ET_NOT_SUPPORTED,
     {"version 1", "reads 0"}},
    /* segments */
    {"segment one byte past the segment data", e_seg_too_big, NULL, XD,
     {"segment 0 (offset 0, size 33)", "lies outside"}},
    {"segment offset + size wrapping 2^64", e_seg_wraps, NULL, XD,
     {"segment 1", "lies outside"}},
    {"segment offset 2^40", e_seg_offset_past, NULL, XD,
     {"segment 1 (offset 1099511627776", "lies outside"}},
    {"empty segment at the end of the data: loads", e_empty_segment, NULL,
     ET_OK, {NULL, NULL}},
    /* entries */
    {"entry segment index 2 of 2", e_entry_segment, NULL, XD,
     {"entry 0", "segment index 2 out of range (2 segments)"}},
    {"entry segment index UINT32_MAX", e_entry_segment_max, NULL, XD,
     {"entry 1", "segment index 4294967295"}},
    {"entry without a key", e_no_key, NULL, XD, {"entry 1", "no key"}},
    {"entries but no segments", e_no_segments, NULL, XD,
     {"entry 0", "(0 segments)"}},
    {"no entries: loads", e_no_entries, NULL, ET_OK, {NULL, NULL}},
    {"layout of unknown dtype", e_dtype, NULL, XD,
     {"entry 'a'", "dtype 99"}},
    {"layout rank above the limit", e_rank, NULL, XD,
     {"entry 'a'", "17 sizes"}},
    {"layout with fewer dim_order entries than sizes", e_dim_order_count,
     NULL, XD, {"entry 'a'", "2 sizes, 1 dim_order"}},
    {"rank-0 layout: loads", e_rank0, NULL, ET_OK, {NULL, NULL}},
};

static void test_ptd_cases(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof kCases / sizeof kCases[0]; i++) {
    const ptd_case *c = &kCases[i];
    ptd_spec s;
    base_spec(&s);
    if (c->edit) c->edit(&s);
    size_t n;
    ptd_layout lay;
    uint8_t *bytes = build_ptd(&s, &n, &lay);
    if (c->damage) c->damage(bytes, &n, &lay);
    et_ptd ptd;
    et_status st = et_ptd_load(&ptd, bytes, n);
    const char *msg = et_ptd_message(&ptd);
    if (st != c->status)
      fail_msg("%s: got %s (%s), expected %s", c->name, et_status_name(st),
               msg, et_status_name(c->status));
    if (st != ET_OK && !msg[0])
      fail_msg("%s: %s without a message", c->name, et_status_name(st));
    for (int k = 0; k < 2; k++)
      if (c->frag[k] && !strstr(msg, c->frag[k]))
        fail_msg("%s: message \"%s\" does not say \"%s\"", c->name, msg,
                 c->frag[k]);
    if (st == ET_OK) {
      /* Every key of a file that loads can be looked up. */
      for (size_t k = 0; k < et_ptd_key_count(&ptd); k++) {
        et_named_data nd;
        assert_int_equal(ptd.map.get(&ptd.map, et_ptd_key(&ptd, k), &nd),
                         ET_OK);
      }
    }
    free(bytes);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ptd_valid),
      cmocka_unit_test(test_ptd_cases),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
