/* Bundled programs: verify once, then read; see bundled.h. */
#include "bundled.h"

#include "../runtime/core/fb.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* bundled_program_schema.fbs field ids. */
enum { BP_VERSION = 0, BP_SUITES = 1, BP_PROGRAM = 2 };
enum { SUITE_METHOD = 0, SUITE_CASES = 1 };
enum { CASE_INPUTS = 0, CASE_OUTPUTS = 1 };
enum { VALUE_TYPE = 0, VALUE_VAL = 1 };
enum { VU_TENSOR = 1, VU_INT = 2, VU_BOOL = 3, VU_DOUBLE = 4 };
enum { BT_SCALAR_TYPE = 0, BT_SIZES = 1, BT_DATA = 2, BT_DIM_ORDER = 3 };

bool et_bundled_is(const void *data, size_t size) {
  return data && size >= 8 && memcmp((const uint8_t *)data + 4, "BP08", 4) == 0;
}

/* A tensor of a test vector, read from a verified file. */
typedef struct bt {
  int dtype;
  uint32_t rank;
  int64_t sizes[ET_MAX_RANK];
  const uint8_t *data;
  size_t nbytes;
} bt;

static bool fail(fb_reader *r, uint32_t at, const char *what) {
  return fb_fail(r, at, what);
}

/* Open value table v: its union tag and payload table. */
static uint8_t open_value(fb_reader *r, const fb_table *v, fb_table *payload) {
  uint8_t tag = fb_u8(r, v, VALUE_TYPE, 0, "Value");
  if (!fb_subtable(r, v, VALUE_VAL, payload, "Value")) {
    if (fb_ok(r)) fail(r, v->pos, "Value without a payload");
    return 0;
  }
  if (tag < VU_TENSOR || tag > VU_DOUBLE) {
    fail(r, v->pos, "Value of an unknown union type");
    return 0;
  }
  return tag;
}

static bool read_tensor(fb_reader *r, const fb_table *t, bt *out) {
  fb_vec sizes, data;
  memset(out, 0, sizeof *out);
  out->dtype = fb_i8(r, t, BT_SCALAR_TYPE, 0, "Tensor");
  fb_vector(r, t, BT_SIZES, 4, &sizes, "Tensor.sizes");
  fb_vector(r, t, BT_DATA, 1, &data, "Tensor.data");
  if (!fb_ok(r)) return false;
  size_t es = out->dtype >= 0 && out->dtype < ET_DTYPE_END
                  ? et_dtype_size(out->dtype)
                  : 0;
  if (!es) return fail(r, t->pos, "Tensor of an unknown scalar type");
  if (sizes.len > ET_MAX_RANK) return fail(r, sizes.pos, "Tensor rank above 16");
  size_t numel = 1;
  out->rank = sizes.len;
  for (uint32_t d = 0; d < sizes.len; d++) {
    int32_t s = fb_vec_i32(r, &sizes, d);
    if (s < 0) return fail(r, sizes.pos, "Tensor with a negative size");
    out->sizes[d] = s;
    if (s && numel > SIZE_MAX / (size_t)s)
      return fail(r, sizes.pos, "Tensor size overflows");
    numel *= (size_t)s;
  }
  if (numel > SIZE_MAX / es || numel * es != data.len)
    return fail(r, data.pos ? data.pos : t->pos,
                "Tensor data length differs from its sizes");
  out->data = r->buf + data.pos;
  out->nbytes = data.len;
  return true;
}

static bool check_values(fb_reader *r, const fb_table *tc, unsigned id,
                         const char *what) {
  fb_vec vals;
  fb_vector(r, tc, id, 4, &vals, what);
  for (uint32_t i = 0; i < vals.len && fb_ok(r); i++) {
    fb_table v, p;
    bt t;
    if (!fb_vec_table(r, &vals, i, &v, what)) break;
    uint8_t tag = open_value(r, &v, &p);
    if (tag == VU_TENSOR) read_tensor(r, &p, &t);
    else if (tag == VU_INT) (void)fb_i64(r, &p, 0, 0, "Int");
    else if (tag == VU_BOOL) (void)fb_u8(r, &p, 0, 0, "Bool");
    else if (tag == VU_DOUBLE) (void)fb_f64(r, &p, 0, 0, "Double");
  }
  return fb_ok(r);
}

static void reader(const et_bundled *b, fb_reader *r, fb_table *root) {
  fb_init(r, b->data, (uint32_t)b->size);
  fb_root(r, root);
}

et_status et_bundled_open(const void *data, size_t size, et_bundled *out,
                          et_diag *diag) {
  if (!data || !out)
    return et_diag_set(diag, ET_INVALID_ARGUMENT, "et_bundled_open: NULL");
  memset(out, 0, sizeof *out);
  if (size > 0xFFFFFFF0u)
    return et_diag_set(diag, ET_INVALID_ARGUMENT, "bundled program too large");
  if (!et_bundled_is(data, size))
    return et_diag_set(diag, ET_INVALID_PROGRAM,
                       "not a bundled program: bytes 4..8 are not 'BP08'");
  fb_reader r;
  fb_table root, suite, tc;
  fb_vec suites, cases, program;
  fb_init(&r, (const uint8_t *)data, (uint32_t)size);
  fb_root(&r, &root);
  uint32_t version = fb_u32(&r, &root, BP_VERSION, 0, "BundledProgram");
  fb_vector(&r, &root, BP_SUITES, 4, &suites, "BundledProgram.method_test_suites");
  fb_vector(&r, &root, BP_PROGRAM, 1, &program, "BundledProgram.program");
  if (fb_ok(&r) && !program.len) fail(&r, root.pos, "BundledProgram without a program");
  for (uint32_t s = 0; s < suites.len && fb_ok(&r); s++) {
    if (!fb_vec_table(&r, &suites, s, &suite, "BundledMethodTestSuite")) break;
    if (!fb_string(&r, &suite, SUITE_METHOD, NULL, "BundledMethodTestSuite") &&
        fb_ok(&r))
      fail(&r, suite.pos, "test suite without a method name");
    fb_vector(&r, &suite, SUITE_CASES, 4, &cases, "test_cases");
    for (uint32_t c = 0; c < cases.len && fb_ok(&r); c++) {
      if (!fb_vec_table(&r, &cases, c, &tc, "BundledMethodTestCase")) break;
      check_values(&r, &tc, CASE_INPUTS, "inputs");
      check_values(&r, &tc, CASE_OUTPUTS, "expected_outputs");
    }
  }
  if (!fb_ok(&r))
    return et_diag_set(diag, ET_INVALID_PROGRAM,
                       "bundled program is damaged at byte %u (reading %s)",
                       r.bad_at, r.what ? r.what : "?");
  out->data = (const uint8_t *)data;
  out->size = size;
  out->version = version;
  out->program = r.buf + program.pos;
  out->program_size = program.len;
  out->n_suites = suites.len;
  return ET_OK;
}

static bool open_case(const et_bundled *b, uint32_t s, uint32_t c,
                      fb_reader *r, fb_table *tc) {
  fb_table root, suite;
  fb_vec suites, cases;
  reader(b, r, &root);
  fb_vector(r, &root, BP_SUITES, 4, &suites, "suites");
  if (s >= suites.len) return false;
  fb_vec_table(r, &suites, s, &suite, "suite");
  fb_vector(r, &suite, SUITE_CASES, 4, &cases, "cases");
  if (c >= cases.len) return false;
  return fb_vec_table(r, &cases, c, tc, "case");
}

const char *et_bundled_suite_method(const et_bundled *b, uint32_t s) {
  fb_reader r;
  fb_table root, suite;
  fb_vec suites;
  reader(b, &r, &root);
  fb_vector(&r, &root, BP_SUITES, 4, &suites, "suites");
  if (s >= suites.len) return NULL;
  fb_vec_table(&r, &suites, s, &suite, "suite");
  return fb_string(&r, &suite, SUITE_METHOD, NULL, "suite");
}

uint32_t et_bundled_case_count(const et_bundled *b, uint32_t s) {
  fb_reader r;
  fb_table root, suite;
  fb_vec suites, cases;
  reader(b, &r, &root);
  fb_vector(&r, &root, BP_SUITES, 4, &suites, "suites");
  if (s >= suites.len) return 0;
  fb_vec_table(&r, &suites, s, &suite, "suite");
  fb_vector(&r, &suite, SUITE_CASES, 4, &cases, "cases");
  return cases.len;
}

et_status et_bundled_set_inputs(const et_bundled *b, uint32_t s, uint32_t c,
                                et_method *m, et_diag *diag) {
  fb_reader r;
  fb_table tc;
  fb_vec vals;
  if (!open_case(b, s, c, &r, &tc))
    return et_diag_set(diag, ET_INVALID_ARGUMENT,
                       "bundled program has no test case %u of suite %u", c, s);
  fb_vector(&r, &tc, CASE_INPUTS, 4, &vals, "inputs");
  if (vals.len != et_method_input_count(m))
    return et_diag_set(diag, ET_INVALID_ARGUMENT,
                       "test case %u has %u inputs; the method takes %zu", c,
                       vals.len, et_method_input_count(m));
  for (uint32_t i = 0; i < vals.len; i++) {
    fb_table v, p;
    fb_vec_table(&r, &vals, i, &v, "Value");
    uint8_t tag = open_value(&r, &v, &p);
    et_status st;
    if (tag == VU_TENSOR) {
      bt t;
      read_tensor(&r, &p, &t);
      st = et_method_set_input_tensor(m, i, t.dtype, t.rank, t.sizes, t.data,
                                      t.nbytes);
    } else {
      et_value val;
      memset(&val, 0, sizeof val);
      if (tag == VU_INT) {
        val.tag = ET_TAG_INT;
        val.u.i = fb_i64(&r, &p, 0, 0, "Int");
      } else if (tag == VU_BOOL) {
        val.tag = ET_TAG_BOOL;
        val.u.b = fb_u8(&r, &p, 0, 0, "Bool") != 0;
      } else {
        val.tag = ET_TAG_DOUBLE;
        val.u.d = fb_f64(&r, &p, 0, 0, "Double");
      }
      st = et_method_set_input_value(m, i, &val);
    }
    if (st)
      return et_diag_set(diag, st, "test case %u, input %u: %s", c, i,
                         et_method_message(m));
  }
  return ET_OK;
}

static float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f,
           man = h & 0x3ff, bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (man << 13);
  } else if (exp) {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  } else if (man) { /* subnormal */
    int e = -1;
    do {
      man <<= 1;
      e++;
    } while (!(man & 0x400));
    bits = sign | ((uint32_t)(112 - e) << 23) | ((man & 0x3ff) << 13);
  } else {
    bits = sign;
  }
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

/* Element k of a tensor as a double (every numeric dtype). */
static double elem(int dtype, const uint8_t *p, size_t k) {
  switch (dtype) {
  case ET_BYTE: case ET_BOOL: return p[k];
  case ET_CHAR: return (int8_t)p[k];
  case ET_SHORT: { int16_t v; memcpy(&v, p + 2 * k, 2); return v; }
  case ET_UINT16: case ET_BITS16: { uint16_t v; memcpy(&v, p + 2 * k, 2); return v; }
  case ET_INT: { int32_t v; memcpy(&v, p + 4 * k, 4); return v; }
  case ET_UINT32: { uint32_t v; memcpy(&v, p + 4 * k, 4); return v; }
  case ET_LONG: { int64_t v; memcpy(&v, p + 8 * k, 8); return (double)v; }
  case ET_UINT64: { uint64_t v; memcpy(&v, p + 8 * k, 8); return (double)v; }
  case ET_FLOAT: { float v; memcpy(&v, p + 4 * k, 4); return v; }
  case ET_DOUBLE: { double v; memcpy(&v, p + 8 * k, 8); return v; }
  case ET_HALF: { uint16_t v; memcpy(&v, p + 2 * k, 2); return half_to_float(v); }
  case ET_BFLOAT16: {
    uint16_t v;
    memcpy(&v, p + 2 * k, 2);
    uint32_t bits = (uint32_t)v << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
  }
  default: return NAN;
  }
}

static void compare_tensor(const bt *want, const et_tensor *got, double rtol,
                           double atol, et_bundled_output *o) {
  if (got->dtype != want->dtype || got->rank != want->rank) {
    snprintf(o->why, sizeof o->why, "got %s rank %u, expected %s rank %u",
             et_dtype_name(got->dtype), got->rank, et_dtype_name(want->dtype),
             want->rank);
    return;
  }
  for (uint32_t d = 0; d < got->rank; d++)
    if (got->sizes[d] != want->sizes[d]) {
      snprintf(o->why, sizeof o->why, "size %d in dimension %u, expected %lld",
               got->sizes[d], d, (long long)want->sizes[d]);
      return;
    }
  if (!et_tensor_is_contiguous(got)) {
    snprintf(o->why, sizeof o->why, "output is not in contiguous dim order");
    return;
  }
  size_t n = et_tensor_numel(got);
  if (n && !got->data) {
    snprintf(o->why, sizeof o->why, "output has no data");
    return;
  }
  o->ok = true;
  for (size_t k = 0; k < n; k++) {
    double g = elem(got->dtype, (const uint8_t *)got->data, k);
    double w = elem(want->dtype, want->data, k);
    if (isnan(g) && isnan(w)) continue;
    double diff = fabs(g - w);
    if (isnan(diff)) diff = INFINITY;
    double rel = w != 0 ? diff / fabs(w) : (diff ? INFINITY : 0);
    if (diff > o->max_abs) {
      o->max_abs = diff;
      o->worst_index = k;
    }
    if (rel > o->max_rel) o->max_rel = rel;
    if (!(diff <= atol + rtol * fabs(w))) o->ok = false;
  }
}

et_status et_bundled_verify(const et_bundled *b, uint32_t s, uint32_t c,
                            const et_method *m, double rtol, double atol,
                            et_bundled_output *out, size_t n_out,
                            bool *out_ok, et_diag *diag) {
  fb_reader r;
  fb_table tc;
  fb_vec vals;
  *out_ok = false;
  if (!open_case(b, s, c, &r, &tc))
    return et_diag_set(diag, ET_INVALID_ARGUMENT,
                       "bundled program has no test case %u of suite %u", c, s);
  fb_vector(&r, &tc, CASE_OUTPUTS, 4, &vals, "expected_outputs");
  if (vals.len != et_method_output_count(m))
    return et_diag_set(diag, ET_INVALID_ARGUMENT,
                       "test case %u expects %u outputs; the method has %zu",
                       c, vals.len, et_method_output_count(m));
  bool all = true;
  for (uint32_t i = 0; i < vals.len; i++) {
    et_bundled_output o;
    memset(&o, 0, sizeof o);
    fb_table v, p;
    fb_vec_table(&r, &vals, i, &v, "Value");
    uint8_t tag = open_value(&r, &v, &p);
    const et_value *got = et_method_output(m, i);
    if (tag == VU_TENSOR) {
      bt want;
      read_tensor(&r, &p, &want);
      if (got->tag != ET_TAG_TENSOR)
        snprintf(o.why, sizeof o.why, "output is %s, expected a tensor",
                 et_tag_name((int)got->tag));
      else
        compare_tensor(&want, got->u.t, rtol, atol, &o);
    } else {
      double w = tag == VU_INT    ? (double)fb_i64(&r, &p, 0, 0, "Int")
                 : tag == VU_BOOL ? fb_u8(&r, &p, 0, 0, "Bool")
                                  : fb_f64(&r, &p, 0, 0, "Double");
      double g = got->tag == ET_TAG_INT    ? (double)got->u.i
                 : got->tag == ET_TAG_BOOL ? got->u.b
                 : got->tag == ET_TAG_DOUBLE ? got->u.d
                                             : NAN;
      if (isnan(g) && got->tag != ET_TAG_DOUBLE) {
        snprintf(o.why, sizeof o.why, "output is %s, expected a scalar",
                 et_tag_name((int)got->tag));
      } else {
        o.max_abs = fabs(g - w);
        o.ok = o.max_abs <= atol + rtol * fabs(w) || (isnan(g) && isnan(w));
      }
    }
    all = all && o.ok;
    if (i < n_out) out[i] = o;
  }
  *out_ok = all;
  return ET_OK;
}
