/* Extreme-element scans (NaN wins, first index on ties). */
#include "util/minmax_util.h"

#include "util/shape_util.h"

#define FIELD_u8 i
#define FIELD_i8 i
#define FIELD_i16 i
#define FIELD_i32 i
#define FIELD_i64 i
#define FIELD_b i
#define FIELD_f32 f
#define FIELD_f16 f
#define FIELD_bf16 f
#define FIELD_f64 d
#define FIELD(S) FIELD_##S

/* `!(v <= best)` is "v > best or v is NaN" (best is never NaN here: a NaN
 * ends the scan), so one comparison serves both rules; integers compile it
 * to a plain v > best. */
#define DEFINE_SCAN(E, T, S)                                                   \
  static void scan_##S(et_minmax *m, bool want_max, const T *p, int64_t stride, \
                       int64_t n, int64_t first) {                             \
    typedef ET_CT(S) ct;                                                       \
    int64_t i = 0;                                                             \
    ct best;                                                                   \
    int64_t bi;                                                                \
    if (!m->found) {                                                           \
      best = ET_LD(S, p[0]);                                                   \
      bi = first;                                                              \
      i = 1;                                                                   \
      m->found = true;                                                         \
      if (best != best) {                                                      \
        m->nan = true;                                                         \
        n = 0;                                                                 \
      }                                                                        \
    } else {                                                                   \
      best = m->v.FIELD(S);                                                    \
      bi = m->idx;                                                             \
    }                                                                          \
    if (want_max) {                                                            \
      for (; i < n; i++) {                                                     \
        const ct v = ET_LD(S, p[i * stride]);                                  \
        if (!(v <= best)) {                                                    \
          best = v;                                                            \
          bi = first + i;                                                      \
          if (v != v) {                                                        \
            m->nan = true;                                                     \
            break;                                                             \
          }                                                                    \
        }                                                                      \
      }                                                                        \
    } else {                                                                   \
      for (; i < n; i++) {                                                     \
        const ct v = ET_LD(S, p[i * stride]);                                  \
        if (!(v >= best)) {                                                    \
          best = v;                                                            \
          bi = first + i;                                                      \
          if (v != v) {                                                        \
            m->nan = true;                                                     \
            break;                                                             \
          }                                                                    \
        }                                                                      \
      }                                                                        \
    }                                                                          \
    m->v.FIELD(S) = best;                                                      \
    m->idx = bi;                                                               \
  }
ET_FOREACH_REALHBBF16(DEFINE_SCAN)

int et_minmax_acc_dtype(int dtype) {
  if (dtype == ET_DOUBLE) return ET_DOUBLE;
  if (et_dtype_is_floating(dtype)) return ET_FLOAT;
  return ET_LONG;
}

void et_minmax_init(et_minmax *m) {
  m->v.d = 0;
  m->v.i = 0;
  m->idx = 0;
  m->found = false;
  m->nan = false;
}

void et_minmax_scan(et_minmax *m, bool want_max, const void *src, int dtype,
                    int64_t stride, int64_t n, int64_t first) {
  if (n <= 0 || m->nan) return;
  switch (dtype) {
#define CASE_SCAN(E, T, S)                                                     \
  case E:                                                                      \
    scan_##S(m, want_max, (const T *)src, stride, n, first);                   \
    break;
    ET_FOREACH_REALHBBF16(CASE_SCAN)
  default:
    break;
  }
}

void et_minmax_scan_iter(et_minmax *m, bool want_max, const void *data, int dtype,
                         int64_t base, et_nd_iter *red) {
  const int64_t es = (int64_t)et_dtype_size(dtype);
  int64_t pos = 0;
  et_nd_iter_reset(red);
  if (red->inner <= 0) return;
  do {
    et_minmax_scan(m, want_max, (const char *)data + (base + red->off[0]) * es, dtype,
                   red->inner_stride[0], red->inner, pos);
    pos += red->inner;
  } while (!m->nan && et_nd_iter_next(red));
}

void et_minmax_store(const et_minmax *m, void *dst, int dtype) {
  et_convert(dst, dtype, 1, &m->v, et_minmax_acc_dtype(dtype), 1, 1);
}

et_status et_minmax_check_nonempty(et_kernel_ctx *ctx, const et_tensor *in, uint32_t mask) {
  for (uint32_t d = 0; d < in->rank; d++)
    if ((mask & (1u << d)) && in->sizes[d] == 0)
      return ET_K_FAIL(ctx, "Expected reduction dim %u to have non-zero size", (unsigned)d);
  return ET_OK;
}

/* Walk the plan's outputs: for each, scan its reduced elements and hand the
 * result to the store step (value and/or index). */
static void run_plan(et_reduce_plan *p, bool want_max, const et_tensor *in, et_tensor *vals,
                     et_tensor *idx) {
  if (p->outer.inner == 0) return;
  const size_t ves = vals ? et_dtype_size(vals->dtype) : 0;
  do {
    for (int64_t j = 0; j < p->outer.inner; j++) {
      const int64_t o = p->outer.off[0] + j * p->outer.inner_stride[0];
      const int64_t base = p->outer.off[1] + j * p->outer.inner_stride[1];
      et_minmax m;
      et_minmax_init(&m);
      et_minmax_scan_iter(&m, want_max, in->data, in->dtype, base, &p->red);
      if (vals) et_minmax_store(&m, (char *)vals->data + o * (int64_t)ves, vals->dtype);
      if (idx) ((int64_t *)idx->data)[o] = m.idx;
    }
  } while (et_nd_iter_next(&p->outer));
}

et_status et_minmax_amax_out(et_kernel_ctx *ctx, et_value **args, bool want_max) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[3]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  uint32_t mask;
  ET_K_TRY(et_reduce_mask(ctx, in, args[1], "dim", &mask));
  ET_K_TRY(et_minmax_check_nonempty(ctx, in, mask));
  et_reduce_plan p;
  ET_K_TRY(et_reduce_plan_init(ctx, &p, in, mask, args[2]->u.b, out));
  run_plan(&p, want_max, in, out, NULL);
  return ET_OK;
}

et_status et_minmax_dim_out(et_kernel_ctx *ctx, et_value **args, bool want_max) {
  const et_tensor *in = args[0]->u.t;
  const bool keepdim = args[2]->u.b;
  et_tensor *vals = args[3]->u.t, *idx = args[4]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, vals, "values"));
  ET_K_TRY(et_k_check_tensor(ctx, idx, "indices"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", vals, "values"));
  ET_K_TRY(et_k_check_dtype(ctx, idx, ET_LONG, "indices"));
  uint32_t mask;
  ET_K_TRY(et_reduce_mask(ctx, in, args[1], "dim", &mask));
  ET_K_TRY(et_minmax_check_nonempty(ctx, in, mask));
  int64_t sizes[ET_MAX_RANK];
  uint32_t rank;
  et_reduce_shape(in, mask, keepdim, sizes, &rank);
  ET_K_TRY(et_k_resize(ctx, idx, sizes, rank, "indices"));
  et_reduce_plan p;
  ET_K_TRY(et_reduce_plan_init(ctx, &p, in, mask, keepdim, vals));
  ET_K_TRY(et_k_check_same_dim_order(ctx, vals, "values", idx, "indices"));
  run_plan(&p, want_max, in, vals, idx);
  return ET_OK;
}

et_status et_minmax_unary_out(et_kernel_ctx *ctx, et_value **args, bool want_max) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[1]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  if (et_tensor_numel(in) == 0)
    return ET_K_FAIL(ctx, "Expected reduction dim to be specified for input.numel() == 0");
  et_reduce_plan p;
  ET_K_TRY(et_reduce_plan_init(ctx, &p, in, in->rank >= 32 ? 0xffffffffu : (1u << in->rank) - 1u,
                               false, out));
  run_plan(&p, want_max, in, out, NULL);
  return ET_OK;
}

et_status et_minmax_arg_out(et_kernel_ctx *ctx, et_value **args, bool want_max) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[3]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_dtype(ctx, out, ET_LONG, "out"));
  if (in->dtype == ET_BOOL) return ET_K_FAIL(ctx, "self: Bool input is not supported");
  const bool all = args[1]->tag != ET_TAG_INT;
  if (all && et_tensor_numel(in) == 0)
    return ET_K_FAIL(ctx, "Expected reduction dim to be specified for input.numel() == 0");
  uint32_t mask;
  ET_K_TRY(et_reduce_mask(ctx, in, args[1], "dim", &mask));
  ET_K_TRY(et_minmax_check_nonempty(ctx, in, mask));
  et_reduce_plan p;
  ET_K_TRY(et_reduce_plan_init(ctx, &p, in, mask, args[2]->u.b, out));
  if (all) {
    /* the index is the flat position in logical (row-major) order, whatever
     * the input's dim order: walk the reduced dims in logical order */
    int64_t sizes[ET_MAX_RANK];
    et_k_sizes64(in, sizes);
    const int64_t *strides[1] = {in->strides};
    et_nd_iter_init(&p.red, in->rank, sizes, 1, strides, NULL);
  }
  run_plan(&p, want_max, in, NULL, out);
  return ET_OK;
}
