/*
 * Table-driven tests of the bounds-checked FlatBuffer reader (runtime/core/fb.c).
 *
 * One hand-laid 92-byte buffer (below, byte by byte) holds a root table with
 * a scalar, a vector, a string, a subtable and a vector of tables. Each case
 * patches a few bytes of it (or none), runs one accessor and checks either
 * the value read or the failure: that the reader went bad, at which byte
 * offset, in which field, and what it was reading (the names the program
 * loader puts into its messages).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "fb.h"

/* The buffer, little-endian:
 *   0  root uoffset -> 20
 *   4  vtable of the root: vt_size 14, t_size 24, fields at 4, 8, 12, 16, 20
 *  20  root table: soffset 16 (vtable at 4)
 *  24    f0 u32 0x11223344
 *  28    f1 uoffset -> 44  (vector of int32)
 *  32    f2 uoffset -> 56  (string)
 *  36    f3 uoffset -> 80  (table U)
 *  40    f4 uoffset -> 64  (vector of tables)
 *  44  vector: len 2, 7, -1
 *  56  string: len 3, "abc", NUL
 *  64  vector of tables: len 1, uoffset -> 80
 *  72  vtable of U: vt_size 6, t_size 12, f0 at 4
 *  80  table U: soffset 8 (vtable at 72), f0 u64 0x0102030405060708 at 84
 */
static const uint8_t kBase[92] = {
    20, 0, 0, 0,                                  /* 0: root */
    14, 0, 24, 0, 4, 0, 8, 0, 12, 0, 16, 0, 20, 0, /* 4: vtable */
    0, 0,                                         /* 18: pad */
    16, 0, 0, 0,                                  /* 20: soffset */
    0x44, 0x33, 0x22, 0x11,                       /* 24: f0 */
    16, 0, 0, 0,                                  /* 28: f1 -> 44 */
    24, 0, 0, 0,                                  /* 32: f2 -> 56 */
    44, 0, 0, 0,                                  /* 36: f3 -> 80 */
    24, 0, 0, 0,                                  /* 40: f4 -> 64 */
    2, 0, 0, 0, 7, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, /* 44: int vector */
    3, 0, 0, 0, 'a', 'b', 'c', 0,                 /* 56: string */
    1, 0, 0, 0, 12, 0, 0, 0,                      /* 64: table vector */
    6, 0, 12, 0, 4, 0, 0, 0,                      /* 72: vtable of U */
    8, 0, 0, 0,                                   /* 80: soffset */
    8, 7, 6, 5, 4, 3, 2, 1,                       /* 84: U.f0 */
};

enum op {
  OP_ROOT,      /* fb_root */
  OP_U32,       /* fb_u32 of root field `id` */
  OP_U8,
  OP_I8,
  OP_I32,
  OP_U64,
  OP_F64,
  OP_VECTOR,    /* fb_vector of root field `id`, 4-byte elements */
  OP_VECTOR8,   /* ... with 8-byte elements */
  OP_STRING,    /* fb_string of root field `id` */
  OP_SUBTABLE,  /* fb_subtable of root field `id`, then its u64 field 0 */
  OP_VEC_TABLE, /* element `index` of the table vector of field 4 */
  OP_TABLE_AT,  /* fb_table_at(`index`) */
};

typedef struct fb_case {
  const char *name;
  /* Up to two patches: 4 bytes little-endian each (or 2 when wide == 2). */
  int at1;
  uint32_t v1;
  int at2;
  uint32_t v2;
  int wide;          /* bytes per patch: 4 (default when 0) or 2 or 1 */
  uint32_t size;     /* buffer size (0: the whole 92 bytes) */
  enum op op;
  unsigned id;       /* field id */
  uint32_t index;
  /* Expectations. */
  bool bad;
  uint64_t value;    /* a scalar, a vector length, a string length, a pos */
  uint32_t bad_at;
  const char *what;  /* the `what` recorded */
  int field;         /* the field recorded (-1: none) */
} fb_case;

#define NOP -1, 0, -1, 0, 0, 0

static const fb_case kCases[] = {
    /* ---- the undamaged buffer: every accessor reads what was written ---- */
    {"root", NOP, OP_ROOT, 0, 0, false, 20, 0, NULL, -1},
    {"u32 field", NOP, OP_U32, 0, 0, false, 0x11223344u, 0, NULL, -1},
    {"u8 field", NOP, OP_U8, 0, 0, false, 0x44, 0, NULL, -1},
    {"i8 field", NOP, OP_I8, 0, 0, false, 0x44, 0, NULL, -1},
    {"i32 field", NOP, OP_I32, 0, 0, false, 0x11223344u, 0, NULL, -1},
    {"absent field past the vtable gives the default", NOP, OP_U32, 9, 0,
     false, 77, 0, NULL, -1},
    {"field with offset 0 gives the default", 14, 0, -1, 0, 2, 0, OP_U32, 3,
     0, false, 77, 0, NULL, -1},
    {"int vector", NOP, OP_VECTOR, 1, 0, false, 2, 0, NULL, -1},
    {"string", NOP, OP_STRING, 2, 0, false, 3, 0, NULL, -1},
    {"subtable", NOP, OP_SUBTABLE, 3, 0, false, 0x0102030405060708ull, 0,
     NULL, -1},
    {"vector of tables", NOP, OP_VEC_TABLE, 4, 0, false, 80, 0, NULL, -1},
    {"zero-length vector", 44, 0, -1, 0, 0, 0, OP_VECTOR, 1, 0, false, 0, 0,
     NULL, -1},
    {"empty string", 56, 0, 60, 0, 0, 0, OP_STRING, 2, 0, false, 0, 0, NULL,
     -1},

    /* ---- vtable sizes ---- */
    {"vtable size 2 (below the 4-byte header)", 4, 2, -1, 0, 2, 0, OP_ROOT,
     0, 0, true, 0, 20, "Program table", -1},
    {"vtable size 0", 4, 0, -1, 0, 2, 0, OP_ROOT, 0, 0, true, 0, 20,
     "Program table", -1},
    {"odd vtable size", 4, 13, -1, 0, 2, 0, OP_ROOT, 0, 0, true, 0, 20,
     "Program table", -1},
    {"vtable size past the end", 4, 0xfffe, -1, 0, 2, 0, OP_ROOT, 0, 0, true,
     0, 20, "Program table", -1},
    {"vtable starting past the end (soffset -1000)", 20, (uint32_t)-1000, -1,
     0, 0, 0, OP_ROOT, 0, 0, true, 0, 20, "Program table", -1},
    {"vtable before the buffer (soffset 2^31-1)", 20, 0x7fffffffu, -1, 0, 0,
     0, OP_ROOT, 0, 0, true, 0, 20, "Program table", -1},
    {"vtable 2 bytes before the end", 20, (uint32_t)(20 - 90), -1, 0, 0, 0,
     OP_ROOT, 0, 0, true, 0, 20, "Program table", -1},
    {"table size below 4", 6, 2, -1, 0, 2, 0, OP_ROOT, 0, 0, true, 0, 20,
     "Program table", -1},
    {"table size past the end", 6, 200, -1, 0, 2, 0, OP_ROOT, 0, 0, true, 0,
     20, "Program table", -1},
    {"field outside a table shrunk to 8 bytes", 6, 8, -1, 0, 2, 0, OP_U32, 1,
     0, true, 0, 28, "t", 1},
    {"u64 field straddling the table end", 8, 22, -1, 0, 2, 0, OP_U64, 0, 0,
     true, 0, 42, "t", 0},
    {"f64 field straddling the table end", 8, 22, -1, 0, 2, 0, OP_F64, 0, 0,
     true, 0, 42, "t", 0},
    {"subtable's vtable size odd", 72, 5, -1, 0, 2, 0, OP_SUBTABLE, 3, 0,
     true, 0, 80, "t", 3},
    {"subtable's vtable size past the end", 72, 0xfffe, -1, 0, 2, 0, OP_SUBTABLE, 3,
     0, true, 0, 80, "t", 3},

    /* ---- root and table offsets ---- */
    {"root offset past the end", 0, 0xfffffff0u, -1, 0, 0, 0, OP_ROOT, 0, 0,
     true, 0, 0, "root offset", -1},
    {"root offset inside the 8-byte prefix", 0, 4, -1, 0, 0, 0, OP_ROOT, 0,
     0, true, 0, 0, "root offset", -1},
    {"root offset 3 bytes from the end", 0, 89, -1, 0, 0, 0, OP_ROOT, 0, 0,
     true, 0, 0, "root offset", -1},
    {"buffer of 6 bytes", -1, 0, -1, 0, 0, 6, OP_ROOT, 0, 0, true, 0, 0, "root offset",
     -1},
    {"table at position 0", NOP, OP_TABLE_AT, 0, 0, true, 0, 0, "t", -1},
    {"table 2 bytes before the end", NOP, OP_TABLE_AT, 0, 90, true, 0, 90,
     "t", -1},

    /* ---- vector and string offsets ---- */
    {"vector uoffset past the end", 28, 0x7fffffffu, -1, 0, 0, 0, OP_VECTOR,
     1, 0, true, 0, 28, "t", 1},
    {"vector uoffset wrapping uint32 (28 + 0xfffffff0 = 12 mod 2^32)", 28,
     0xfffffff0u, -1, 0, 0, 0, OP_VECTOR, 1, 0, true, 0, 28, "t", 1},
    {"vector length word straddling the end", 28, 62, -1, 0, 0, 0, OP_VECTOR,
     1, 0, true, 0, 90, "t", 1},
    {"vector length past the end", 44, 13, -1, 0, 0, 0, OP_VECTOR, 1, 0, true,
     0, 44, "t", 1},
    {"vector length * 4 wrapping uint32 (0x40000001)", 44, 0x40000001u, -1, 0,
     0, 0, OP_VECTOR, 1, 0, true, 0, 44, "t", 1},
    {"vector length * 8 wrapping uint32 (0x20000001)", 44, 0x20000001u, -1, 0,
     0, 0, OP_VECTOR8, 1, 0, true, 0, 44, "t", 1},
    {"vector length 0xffffffff", 44, 0xffffffffu, -1, 0, 0, 0, OP_VECTOR, 1,
     0, true, 0, 44, "t", 1},
    {"string without its terminator", 60, 0x64636261u, -1, 0, 0, 0,
     OP_STRING, 2, 0, true, 0, 60, "t", 2},
    {"string whose terminator would be the byte past the end", 56, 32, -1, 0,
     0, 0, OP_STRING, 2, 0, true, 0, 60, "t", 2},
    {"string length 0xffffffff", 56, 0xffffffffu, -1, 0, 0, 0, OP_STRING, 2,
     0, true, 0, 56, "t", 2},
    {"string uoffset wrapping uint32", 32, 0xfffffff0u, -1, 0, 0, 0,
     OP_STRING, 2, 0, true, 0, 32, "t", 2},
    {"subtable uoffset past the end", 36, 128, -1, 0, 0, 0, OP_SUBTABLE, 3, 0,
     true, 0, 36, "t", 3},
    {"subtable uoffset wrapping uint32", 36, 0xffffffffu, -1, 0, 0, 0,
     OP_SUBTABLE, 3, 0, true, 0, 36, "t", 3},
    {"subtable uoffset 0 (points at itself: its soffset is the uoffset)", 36,
     0, -1, 0, 0, 0, OP_SUBTABLE, 3, 0, true, 0, 36, "t", 3},
    {"vector-of-tables index past its length", NOP, OP_VEC_TABLE, 4, 1, true,
     0, 68, "t", -1},
    {"vector-of-tables element uoffset past the end", 68, 0xffffffffu, -1, 0,
     0, 0, OP_VEC_TABLE, 4, 0, true, 0, 68, "t", -1},
    {"vector-of-tables element pointing at a bad vtable", 72, 1, -1, 0, 2, 0,
     OP_VEC_TABLE, 4, 0, true, 0, 80, "t", -1},
    {"vector-of-tables length past the end", 64, 7, -1, 0, 0, 0, OP_VEC_TABLE,
     4, 0, true, 0, 64, "t", 4},
};

static void patch(uint8_t *b, int at, uint32_t v, int wide) {
  if (at < 0) return;
  int n = wide ? wide : 4;
  for (int i = 0; i < n; i++) b[at + i] = (uint8_t)(v >> (8 * i));
}

static void run_case(const fb_case *c) {
  uint8_t buf[sizeof kBase];
  memcpy(buf, kBase, sizeof buf);
  patch(buf, c->at1, c->v1, c->wide);
  patch(buf, c->at2, c->v2, c->wide);
  fb_reader r;
  fb_init(&r, buf, c->size ? c->size : (uint32_t)sizeof buf);
  fb_table root, t;
  fb_vec v;
  uint64_t got = 0;
  bool ok = true;
  if (c->op != OP_ROOT && c->op != OP_TABLE_AT) {
    if (!fb_root(&r, &root)) fail_msg("%s: the root does not open", c->name);
  }
  switch (c->op) {
  case OP_ROOT:
    ok = fb_root(&r, &t);
    got = t.pos;
    break;
  case OP_TABLE_AT:
    ok = fb_table_at(&r, c->index, &t, "t");
    got = t.pos;
    break;
  case OP_U32: got = fb_u32(&r, &root, c->id, 77, "t"); break;
  case OP_U8: got = fb_u8(&r, &root, c->id, 77, "t"); break;
  case OP_I8: got = (uint64_t)(int64_t)fb_i8(&r, &root, c->id, 77, "t"); break;
  case OP_I32: got = (uint64_t)(int64_t)fb_i32(&r, &root, c->id, 77, "t"); break;
  case OP_U64: got = fb_u64(&r, &root, c->id, 77, "t"); break;
  case OP_F64: {
    double d = fb_f64(&r, &root, c->id, 77.0, "t");
    memcpy(&got, &d, sizeof got);
    break;
  }
  case OP_VECTOR:
  case OP_VECTOR8:
    ok = fb_vector(&r, &root, c->id, c->op == OP_VECTOR ? 4 : 8, &v, "t");
    got = v.len;
    if (ok && v.len == 2) {
      assert_int_equal(fb_vec_i32(&r, &v, 0), 7);
      assert_int_equal(fb_vec_i32(&r, &v, 1), -1);
    }
    if (ok) assert_true(v.present);
    break;
  case OP_STRING: {
    uint32_t len = 99;
    const char *s = fb_string(&r, &root, c->id, &len, "t");
    ok = s != NULL;
    got = len;
    if (ok) assert_memory_equal(s, "abc", len);
    if (!ok) assert_int_equal(len, 0);
    break;
  }
  case OP_SUBTABLE:
    ok = fb_subtable(&r, &root, c->id, &t, "t");
    got = ok ? fb_u64(&r, &t, 0, 0, "u") : 0;
    if (!ok) assert_int_equal(t.pos, 0);
    break;
  case OP_VEC_TABLE:
    ok = fb_vector(&r, &root, c->id, 4, &v, "t") &&
         fb_vec_table(&r, &v, c->index, &t, "t");
    got = t.pos;
    if (!ok) assert_int_equal(t.pos, 0);
    break;
  }
  if (c->op >= OP_U32 && c->op <= OP_F64) {
    /* Scalars: the reader's state is the result; a failed read gives the
     * default. */
    ok = fb_ok(&r);
    if (!ok && c->op != OP_F64 && got != 77)
      fail_msg("%s: a failed read gave %llu, not the default", c->name,
               (unsigned long long)got);
  }
  if (c->bad) {
    if (fb_ok(&r)) fail_msg("%s: the reader accepted it (read %llu)", c->name,
                            (unsigned long long)got);
    if (ok) fail_msg("%s: the accessor reported success", c->name);
    if (r.bad_at != c->bad_at || strcmp(r.what, c->what) != 0 ||
        r.field != c->field)
      fail_msg("%s: failure recorded at byte %u in '%s' field %d; expected "
               "byte %u in '%s' field %d", c->name, r.bad_at, r.what, r.field,
               c->bad_at, c->what, c->field);
  } else {
    if (!fb_ok(&r))
      fail_msg("%s: the reader failed at byte %u ('%s' field %d)", c->name,
               r.bad_at, r.what, r.field);
    if (!ok) fail_msg("%s: the accessor reported failure", c->name);
    if (c->op == OP_I32 || c->op == OP_I8) got &= 0xffffffffu;
    if (got != c->value)
      fail_msg("%s: read %llu, expected %llu", c->name,
               (unsigned long long)got, (unsigned long long)c->value);
  }
}

static void test_fb_cases(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof kCases / sizeof kCases[0]; i++)
    run_case(&kCases[i]);
}

/* A failed reader stays failed: later reads give defaults and the first
 * failure is the one recorded. */
static void test_fb_first_failure_sticks(void **state) {
  (void)state;
  uint8_t buf[sizeof kBase];
  memcpy(buf, kBase, sizeof buf);
  buf[28] = 0xf0; /* f1's uoffset now leaves the buffer */
  buf[29] = 0xff;
  fb_reader r;
  fb_table root, t;
  fb_vec v;
  fb_init(&r, buf, sizeof buf);
  assert_true(fb_root(&r, &root));
  assert_false(fb_vector(&r, &root, 1, 4, &v, "first"));
  assert_int_equal(fb_u32(&r, &root, 0, 5, "later"), 5);
  assert_null(fb_string(&r, &root, 2, NULL, "later"));
  assert_false(fb_subtable(&r, &root, 3, &t, "later"));
  assert_false(fb_table_at(&r, 20, &t, "later"));
  assert_string_equal(r.what, "first");
  assert_int_equal(r.field, 1);
  assert_int_equal(r.bad_at, 28);
  /* fb_fail keeps the first record too. */
  assert_false(fb_fail(&r, 3, "other"));
  assert_int_equal(r.bad_at, 28);
}

/* The union idiom (type byte + table): the reader itself does not know the
 * pairing, so a table of the wrong kind is read as whatever fields its vtable
 * has, always inside its bounds. */
static void test_fb_union_type_mismatch_stays_in_bounds(void **state) {
  (void)state;
  fb_reader r;
  fb_table root, u;
  fb_vec v;
  fb_init(&r, kBase, sizeof kBase);
  assert_true(fb_root(&r, &root));
  assert_true(fb_subtable(&r, &root, 3, &u, "t"));
  /* U has one 8-byte field: read as a vector (an "IntList"), its first four
   * bytes 0x05060708 are a uoffset far past the end. */
  assert_false(fb_vector(&r, &u, 0, 8, &v, "IntList"));
  assert_string_equal(r.what, "IntList");
  assert_int_equal(r.field, 0);
  assert_int_equal(r.bad_at, 84);
  /* Read as a string, the same. */
  fb_init(&r, kBase, sizeof kBase);
  assert_true(fb_root(&r, &root));
  assert_true(fb_subtable(&r, &root, 3, &u, "t"));
  assert_null(fb_string(&r, &u, 0, NULL, "String"));
  assert_string_equal(r.what, "String");
  /* A field id beyond U's vtable is absent, not a read past it. */
  fb_init(&r, kBase, sizeof kBase);
  assert_true(fb_root(&r, &root));
  assert_true(fb_subtable(&r, &root, 3, &u, "t"));
  assert_int_equal(fb_u32(&r, &u, 5, 9, "Tensor"), 9);
  assert_true(fb_ok(&r));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fb_cases),
      cmocka_unit_test(test_fb_first_failure_sticks),
      cmocka_unit_test(test_fb_union_type_mismatch_stays_in_bounds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
