/* The elementwise engine: broadcast runs, chunked conversion, typed loops. */
#include "util/elementwise_util.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

typedef union ew_slot {
  int64_t i;
  double d;
} ew_slot;

/* Elements laid out densely in the tensor's dim order (what the runtime's
 * tensors always are; kernels also pass strided views here). */
static bool is_dense(const et_tensor *t) {
  if (!t->strides) return true;
  int64_t s = 1;
  for (uint32_t k = t->rank; k-- > 0;) {
    const uint8_t d = t->dim_order[k];
    if (t->sizes[d] != 1 && t->strides[d] != s) return false;
    s *= t->sizes[d];
  }
  return true;
}

static bool is_compute_dtype(int dt) {
  return dt == ET_LONG || dt == ET_FLOAT || dt == ET_DOUBLE || dt == ET_BOOL;
}

et_status et_ew_apply(et_kernel_ctx *ctx, et_tensor *out, const et_tensor *const *in,
                      const char *const *names, uint32_t nin, const et_ew_spec *spec) {
  if (nin > ET_EW_MAX_IN) return et_kernel_fail(ctx, ET_INTERNAL, "too many inputs");
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  if (!is_compute_dtype(spec->out_compute))
    return et_kernel_fail(ctx, ET_INTERNAL, "bad compute dtype");
  for (uint32_t k = 0; k < nin; k++) {
    ET_K_TRY(et_k_check_tensor(ctx, in[k], names[k]));
    if (!is_compute_dtype(spec->in_compute[k]))
      return et_kernel_fail(ctx, ET_INTERNAL, "bad compute dtype");
  }

  /* Dense tensors with the same sizes and dim order and compute dtypes
   * throughout: element i of each input is element i of the output, and a
   * one-element input is the same value for every i. Then whole runs go to
   * the loop at once (the common case; no n-d iteration). */
  bool flat = out->dtype == spec->out_compute &&
              (spec->wrap_dtype < 0 || spec->wrap_dtype == out->dtype) &&
              is_dense(out);
  bool single[ET_EW_MAX_IN];
  for (uint32_t k = 0; flat && k < nin; k++) {
    const et_tensor *t = in[k];
    bool same = t->dtype == spec->in_compute[k] && t->rank == out->rank;
    size_t numel = 1;
    for (uint32_t d = 0; d < t->rank; d++) {
      numel *= (size_t)t->sizes[d];
      same = same && d < out->rank && t->sizes[d] == out->sizes[d] &&
             t->dim_order[d] == out->dim_order[d];
    }
    same = same && is_dense(t);
    single[k] = !same && numel == 1 && t->rank <= out->rank &&
                t->dtype == spec->in_compute[k];
    flat = same || single[k];
  }
  if (flat) {
    size_t numel = 1;
    for (uint32_t d = 0; d < out->rank; d++) numel *= (size_t)out->sizes[d];
    ew_slot fill[ET_EW_MAX_IN][ET_EW_CHUNK];
    const void *ptrs[ET_EW_MAX_IN];
    size_t run = numel, es = et_dtype_size(out->dtype);
    for (uint32_t k = 0; k < nin; k++) {
      ptrs[k] = in[k]->data;
      if (single[k]) {
        run = numel < ET_EW_CHUNK ? numel : ET_EW_CHUNK;
        et_convert(fill[k], in[k]->dtype, 1, in[k]->data, in[k]->dtype, 0, run);
        ptrs[k] = fill[k];
      }
    }
    for (size_t c = 0; run && c < numel; c += run) {
      const size_t m = numel - c < run ? numel - c : run;
      const void *at[ET_EW_MAX_IN];
      for (uint32_t k = 0; k < nin; k++)
        at[k] = single[k] ? ptrs[k]
                          : (const char *)ptrs[k] + c * et_dtype_size(in[k]->dtype);
      spec->fn((char *)out->data + c * es, at, m, spec->param);
    }
    return ET_OK;
  }

  int64_t sizes[ET_MAX_RANK];
  int64_t bstrides[ET_EW_MAX_IN][ET_MAX_RANK];
  const int64_t *strides[ET_EW_MAX_IN + 1];
  et_k_sizes64(out, sizes);
  strides[0] = out->strides;
  for (uint32_t k = 0; k < nin; k++) {
    if (!et_broadcast_strides(in[k], out->rank, out->sizes, bstrides[k])) {
      char si[96], so[96];
      et_k_tensor_shape_str(si, sizeof si, in[k]);
      et_k_tensor_shape_str(so, sizeof so, out);
      return ET_K_FAIL(ctx, "%s %s does not broadcast to the output shape %s", names[k],
                       si, so);
    }
    strides[k + 1] = bstrides[k];
  }

  et_nd_iter it;
  et_nd_iter_init(&it, out->rank, sizes, nin + 1, strides, out->dim_order);
  if (it.inner == 0) return ET_OK;

  const int odt = out->dtype, ocd = spec->out_compute;
  const size_t oes = et_dtype_size(odt);
  const bool wrap = spec->wrap_dtype >= 0 && spec->wrap_dtype != odt;
  const bool out_direct = odt == ocd && !wrap && it.inner_stride[0] == 1;
  bool in_direct[ET_EW_MAX_IN];
  size_t ies[ET_EW_MAX_IN];
  bool all_direct = out_direct;
  for (uint32_t k = 0; k < nin; k++) {
    ies[k] = et_dtype_size(in[k]->dtype);
    in_direct[k] = in[k]->dtype == spec->in_compute[k] && it.inner_stride[k + 1] == 1;
    all_direct = all_direct && in_direct[k];
  }

  ew_slot ibuf[ET_EW_MAX_IN][ET_EW_CHUNK];
  ew_slot obuf[ET_EW_CHUNK];
  ew_slot wbuf[ET_EW_CHUNK];
  const void *ptrs[ET_EW_MAX_IN];
  const int64_t n = it.inner;

  do {
    char *obase = (char *)out->data + it.off[0] * (int64_t)oes;
    if (all_direct) {
      for (uint32_t k = 0; k < nin; k++)
        ptrs[k] = (const char *)in[k]->data + it.off[k + 1] * (int64_t)ies[k];
      spec->fn(obase, ptrs, (size_t)n, spec->param);
      continue;
    }
    for (int64_t c = 0; c < n; c += ET_EW_CHUNK) {
      const int64_t m = n - c < ET_EW_CHUNK ? n - c : ET_EW_CHUNK;
      for (uint32_t k = 0; k < nin; k++) {
        const int64_t is = it.inner_stride[k + 1];
        const char *src = (const char *)in[k]->data;
        if (in_direct[k]) {
          ptrs[k] = src + (it.off[k + 1] + c) * (int64_t)ies[k];
        } else if (is == 0) {
          /* broadcast along the run: fill once, reuse for every chunk */
          if (c == 0)
            et_convert(ibuf[k], spec->in_compute[k], 1,
                       src + it.off[k + 1] * (int64_t)ies[k], in[k]->dtype, 0,
                       (size_t)(n < ET_EW_CHUNK ? n : ET_EW_CHUNK));
          ptrs[k] = ibuf[k];
        } else {
          et_convert(ibuf[k], spec->in_compute[k], 1,
                     src + (it.off[k + 1] + c * is) * (int64_t)ies[k], in[k]->dtype,
                     is, (size_t)m);
          ptrs[k] = ibuf[k];
        }
      }
      if (out_direct) {
        spec->fn(obase + c * (int64_t)oes, ptrs, (size_t)m, spec->param);
        continue;
      }
      spec->fn(obuf, ptrs, (size_t)m, spec->param);
      const int64_t os = it.inner_stride[0];
      char *dst = obase + c * os * (int64_t)oes;
      if (wrap) {
        et_convert(wbuf, spec->wrap_dtype, 1, obuf, ocd, 1, (size_t)m);
        et_convert(dst, odt, os, wbuf, spec->wrap_dtype, 1, (size_t)m);
      } else {
        et_convert(dst, odt, os, obuf, ocd, 1, (size_t)m);
      }
    }
  } while (et_nd_iter_next(&it));
  return ET_OK;
}

et_ew_spec et_ew_spec_uniform(et_ew_fn fn, const void *param, int compute,
                              uint32_t nin) {
  et_ew_spec s;
  s.fn = fn;
  s.param = param;
  s.out_compute = compute;
  for (uint32_t k = 0; k < ET_EW_MAX_IN; k++) s.in_compute[k] = k < nin ? compute : ET_LONG;
  s.wrap_dtype = -1;
  return s;
}

et_ew_fn et_ew_pick(const et_ew_fns *fns, int compute) {
  switch (compute) {
  case ET_LONG: return fns->i64;
  case ET_FLOAT: return fns->f32;
  case ET_DOUBLE: return fns->f64;
  case ET_BOOL: return fns->b;
  default: return NULL;
  }
}

et_status et_ew_binary(et_kernel_ctx *ctx, const et_tensor *a, const et_tensor *b,
                       et_tensor *out, int common, const et_ew_fns *fns,
                       const void *param) {
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, b, "other"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  int64_t shape[ET_MAX_RANK];
  uint32_t rank;
  ET_K_TRY(et_k_broadcast_shape(ctx, a, "self", b, "other", shape, &rank));
  ET_K_TRY(et_k_resize(ctx, out, shape, rank, "out"));
  int compute = et_ew_compute_dtype(common);
  et_ew_fn fn = et_ew_pick(fns, compute);
  if (!fn)
    return ET_K_FAIL(ctx, "dtype %s is not supported", et_dtype_name(common));
  et_ew_spec spec = et_ew_spec_uniform(fn, param, compute, 2);
  if (et_dtype_is_integral(common, true)) spec.wrap_dtype = common;
  const et_tensor *ins[2] = {a, b};
  static const char *const names[2] = {"self", "other"};
  return et_ew_apply(ctx, out, ins, names, 2, &spec);
}

et_status et_ew_unary(et_kernel_ctx *ctx, const et_tensor *a, et_tensor *out,
                      int common, int compute, const et_ew_fns *fns,
                      const void *param) {
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_resize_like(ctx, out, a, "out"));
  et_ew_fn fn = et_ew_pick(fns, compute);
  if (!fn)
    return ET_K_FAIL(ctx, "dtype %s is not supported", et_dtype_name(a->dtype));
  et_ew_spec spec = et_ew_spec_uniform(fn, param, compute, 1);
  if (et_dtype_is_integral(common, true)) spec.wrap_dtype = common;
  const et_tensor *ins[1] = {a};
  static const char *const names[1] = {"self"};
  return et_ew_apply(ctx, out, ins, names, 1, &spec);
}

et_status et_ew_predicate(et_kernel_ctx *ctx, const et_tensor *a, et_tensor *out,
                          const et_ew_fns *fns) {
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_dtype(ctx, out, ET_BOOL, "out"));
  ET_K_TRY(et_k_resize_like(ctx, out, a, "out"));
  const int compute = et_ew_compute_dtype(a->dtype);
  et_ew_spec spec = et_ew_spec_uniform(et_ew_pick(fns, compute), NULL, compute, 1);
  spec.out_compute = ET_BOOL;
  const et_tensor *ins[1] = {a};
  static const char *const names[1] = {"self"};
  return et_ew_apply(ctx, out, ins, names, 1, &spec);
}
