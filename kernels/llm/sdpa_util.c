/* See sdpa_util.h. */
#include "llm/sdpa_util.h"

#include "util/shape_util.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

et_status et_llm_check_4d(et_kernel_ctx *ctx, const et_tensor *t, const char *name) {
  ET_K_TRY(et_k_check_tensor(ctx, t, name));
  if (t->rank != 4) {
    return ET_K_FAIL(ctx, "%s must have 4 dimensions (upstream's [batch, seq, heads, "
                     "head_dim] layout), got %" PRIu32, name, t->rank);
  }
  return et_k_check_contiguous(ctx, t, name);
}

et_status et_llm_check_4d_float(et_kernel_ctx *ctx, const et_tensor *t, const char *name) {
  ET_K_TRY(et_llm_check_4d(ctx, t, name));
  if (t->dtype != ET_FLOAT) {
    return ET_K_FAIL(ctx, "%s has dtype %s; edgetorch's llama:: attention takes Float "
                     "(float32) only", name, et_dtype_name(t->dtype));
  }
  return ET_OK;
}

et_status et_llm_check_positions(et_kernel_ctx *ctx, int64_t start_pos, int64_t seq_len,
                                 const et_tensor *cache, const char *name) {
  const int64_t len = cache->sizes[1];
  if (start_pos < 0 || start_pos > len || seq_len > len - start_pos) {
    return ET_K_FAIL(ctx, "start_pos %" PRId64 " + seq_len %" PRId64
                     " is outside %s's %" PRId64 " positions (start_pos must be >= 0 and "
                     "start_pos + seq_len <= the cache length)",
                     start_pos, seq_len, name, len);
  }
  return ET_OK;
}

et_status et_llm_check_value_fits(et_kernel_ctx *ctx, const et_tensor *value,
                                  const char *vname, const et_tensor *cache,
                                  const char *cname) {
  ET_K_TRY(et_k_check_same_dtype(ctx, value, vname, cache, cname));
  static const int dims[3] = {0, 2, 3};
  for (int i = 0; i < 3; i++) {
    const int d = dims[i];
    if (value->sizes[d] != cache->sizes[d]) {
      char vs[64], cs[64];
      et_k_tensor_shape_str(vs, sizeof vs, value);
      et_k_tensor_shape_str(cs, sizeof cs, cache);
      return ET_K_FAIL(ctx, "%s %s does not fit %s %s: dimension %d differs (both are "
                       "[batch, seq, heads, head_dim])", vname, vs, cname, cs, d);
    }
  }
  return ET_OK;
}

void et_llm_write_rows(const et_tensor *value, et_tensor *cache, int64_t start_pos) {
  const size_t es = et_dtype_size(value->dtype);
  const size_t row = (size_t)value->sizes[2] * (size_t)value->sizes[3] * es;
  const size_t s = (size_t)value->sizes[1], c = (size_t)cache->sizes[1];
  for (size_t b = 0; b < (size_t)value->sizes[0]; b++) {
    if (s == 0 || row == 0) break;
    memmove((char *)cache->data + (b * c + (size_t)start_pos) * row,
            (const char *)value->data + b * s * row, s * row);
  }
}

et_status et_llm_sdpa_prepare(et_kernel_ctx *ctx, const et_tensor *q, const et_tensor *k,
                              const et_tensor *v, int64_t start_pos, const et_tensor *mask,
                              bool is_causal, const double *scale, et_tensor *out,
                              et_llm_attn *out_attn) {
  memset(out_attn, 0, sizeof *out_attn);
  ET_K_TRY(et_llm_check_4d_float(ctx, q, "query"));
  ET_K_TRY(et_llm_check_4d_float(ctx, k, "key"));
  ET_K_TRY(et_llm_check_4d_float(ctx, v, "value"));
  if (!et_k_same_shape(k, v)) {
    char ks[64], vs[64];
    et_k_tensor_shape_str(ks, sizeof ks, k);
    et_k_tensor_shape_str(vs, sizeof vs, v);
    return ET_K_FAIL(ctx, "key %s and value %s must have the same shape", ks, vs);
  }
  const int64_t B = q->sizes[0], S = q->sizes[1], H = q->sizes[2], D = q->sizes[3];
  const int64_t C = k->sizes[1], Hkv = k->sizes[2];
  if (k->sizes[0] != B || k->sizes[3] != D) {
    char qs[64], ks[64];
    et_k_tensor_shape_str(qs, sizeof qs, q);
    et_k_tensor_shape_str(ks, sizeof ks, k);
    return ET_K_FAIL(ctx, "query %s and key %s must agree in batch (dim 0) and head_dim "
                     "(dim 3)", qs, ks);
  }
  if (Hkv < 1 || H % Hkv != 0) {
    return ET_K_FAIL(ctx, "query heads (%" PRId64 ") must be a multiple of key/value heads "
                     "(%" PRId64 ")", H, Hkv);
  }
  if (mask && is_causal) {
    return ET_K_FAIL(ctx, "attn_mask and is_causal cannot both be set");
  }
  ET_K_TRY(et_llm_check_positions(ctx, start_pos, S, k, "the key cache"));
  if (mask) {
    ET_K_TRY(et_k_check_tensor(ctx, mask, "attn_mask"));
    if (mask->dtype != ET_FLOAT) {
      return ET_K_FAIL(ctx, "attn_mask has dtype %s; it must be Float (additive)",
                       et_dtype_name(mask->dtype));
    }
    if (mask->rank != 2 || mask->sizes[0] != S || mask->sizes[1] != C) {
      char ms[64];
      et_k_tensor_shape_str(ms, sizeof ms, mask);
      return ET_K_FAIL(ctx, "attn_mask %s must be [seq_len, cache length] = [%" PRId64
                       ", %" PRId64 "]", ms, S, C);
    }
    ET_K_TRY(et_k_check_contiguous(ctx, mask, "attn_mask"));
  }
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  if (out->dtype != ET_FLOAT) {
    return ET_K_FAIL(ctx, "out has dtype %s; it must be Float like query",
                     et_dtype_name(out->dtype));
  }
  ET_K_TRY(et_k_resize_like(ctx, out, q, "out"));
  ET_K_TRY(et_k_check_contiguous(ctx, out, "out"));
  if (et_tensor_numel(q) == 0) return ET_OK; /* no rows: nothing to run */
  const size_t hd = (size_t)Hkv * (size_t)D;
  et_llm_attn a;
  memset(&a, 0, sizeof a);
  a.q = (const float *)q->data;
  a.k = (const float *)k->data;
  a.v = (const float *)v->data;
  a.out = (float *)out->data;
  a.mask = mask ? (const float *)mask->data : NULL;
  a.mask_stride = (size_t)C;
  a.B = (size_t)B;
  a.S = (size_t)S;
  a.H = (size_t)H;
  a.Hkv = (size_t)Hkv;
  a.D = (size_t)D;
  a.q_sh = a.o_sh = (size_t)D;
  a.q_ss = a.o_ss = (size_t)H * (size_t)D;
  a.q_sb = a.o_sb = (size_t)S * (size_t)H * (size_t)D;
  a.k_sh = a.v_sh = (size_t)D;
  a.k_ss = a.v_ss = hd;
  a.k_sb = a.v_sb = (size_t)C * hd;
  /* Without a mask only the positions written so far take part (upstream's
   * num_keys_for_causal_attention); a mask covers the whole cache. */
  a.n_keys = mask ? (size_t)C : (size_t)(start_pos + S);
  a.start_pos = (size_t)start_pos;
  a.causal = is_causal;
  a.scale = scale ? (float)*scale : (float)(1.0 / sqrt((double)D));
  *out_attn = a;
  return ET_OK;
}

et_status et_llm_sdpa(et_kernel_ctx *ctx, const et_tensor *q, const et_tensor *k,
                      const et_tensor *v, int64_t start_pos, const et_tensor *mask,
                      bool is_causal, const double *scale, et_tensor *out) {
  et_llm_attn a;
  ET_K_TRY(et_llm_sdpa_prepare(ctx, q, k, v, start_pos, mask, is_causal, scale, out, &a));
  if (a.B) et_llm_attention(ctx->parallel, &a);
  return ET_OK;
}
