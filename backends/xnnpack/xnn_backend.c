/*
 * The CPU backend (id "XnnpackBackend"): reads upstream's XNNPACK payload,
 * verifies it, prepares weights, and runs the graph on xnn_ops.c's kernels.
 * See edgetorch/xnnpack_backend.h.
 *
 * Payload: [XNNHeader "XH00" | XNNGraph flatbuffer ("XN00"/"XN01") | constant
 * data], or a bare flatbuffer (legacy). Layout facts: upstream's
 * backends/xnnpack/serialization/schema.fbs and runtime/XNNHeader.h.
 *
 * One function (plan) walks the graph both to count the arena bytes
 * (arena_bytes) and to fill them (init), so the reported size is exact.
 */
#include <edgetorch/program.h>
#include <edgetorch/xnnpack_backend.h>

#include "../../runtime/core/fb.h"
#include "xnn_gemm.h"
#include "xnn_qgemm.h"
#include "xnn_internal.h"

#include <math.h>
#include <string.h>

/* XNNGraph fields (deprecated ones keep their slot). */
enum {
  G_VERSION = 0, G_XNODES = 1, G_XVALUES = 2, G_NUM_EXTERNS = 3,
  G_INPUT_IDS = 4, G_OUTPUT_IDS = 5, G_CONSTANT_DATA = 8
};
enum { XDT_FP32 = 1, XDT_FP16 = 2, XDT_INT32 = 12, XDT_PFP32 = 13,
       XDT_BF16 = 14 };
#define VFLAG_IN 1u
#define VFLAG_OUT 2u
#define MAX_EXTERNS 4096u
#define MAX_ELEMS XNN_MAX_ELEMS

typedef struct payload {
  const uint8_t *fb;
  uint32_t fb_size;
  const uint8_t *cdata; /* NULL without a header */
  uint64_t cdata_size;
  fb_reader r;
  fb_table root;
  fb_vec nodes, values, cd;
  uint32_t n_ext;
} payload;

/* A bump allocator that either counts (base == NULL) or hands out memory. */
typedef struct bump {
  uint8_t *base;
  size_t used, cap;
} bump;

static void *take(bump *b, size_t bytes) {
  size_t start = (b->used + 15u) & ~(size_t)15u;
  if (start < b->used || bytes > SIZE_MAX - start) {
    b->used = SIZE_MAX;
    return NULL;
  }
  b->used = start + bytes;
  if (!b->base) return NULL;
  if (b->used > b->cap) return NULL;
  return b->base + start;
}

static et_status bad(et_diag *d, const char *fmt, uint32_t a, uint32_t b) {
  return et_diag_set(d, ET_INVALID_PROGRAM, fmt, a, b);
}

static et_status fb_bad(const payload *P, et_diag *d) {
  return et_diag_set(d, ET_INVALID_PROGRAM,
                     "XnnpackBackend: the graph flatbuffer is damaged at byte "
                     "%u (reading %s, field %d)",
                     P->r.bad_at, P->r.what, P->r.field);
}

static float rd_f32(fb_reader *r, const fb_table *t, unsigned id, float dflt) {
  uint32_t p = fb_field(r, t, id, 4, "float field");
  if (!p) return dflt;
  uint32_t bits = fb_rd32(r->buf + p);
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

static uint32_t vec_u32(const payload *P, const fb_vec *v, uint32_t i) {
  return (uint32_t)fb_vec_i32(&P->r, v, i);
}

/* ---- header and root --------------------------------------------------- */

static et_status open_payload(const void *data, size_t size, payload *P,
                              et_diag *d) {
  const uint8_t *b = (const uint8_t *)data;
  memset(P, 0, sizeof *P);
  if (!b || size < 8)
    return et_diag_set(d, ET_INVALID_PROGRAM,
                       "XnnpackBackend: payload of %zu bytes is too short",
                       size);
  if (size >= 30 && memcmp(b + 4, "XH00", 4) == 0) {
    uint32_t hlen = fb_rd16(b + 8);
    uint32_t fo = fb_rd32(b + 10), fs = fb_rd32(b + 14), co = fb_rd32(b + 18);
    uint64_t cs = fb_rd64(b + 22);
    if (hlen < 30 || fo > size || fs > size - fo || co > size ||
        cs > size - co)
      return et_diag_set(d, ET_INVALID_PROGRAM,
                         "XnnpackBackend: XH00 header (length %u, flatbuffer "
                         "at %u size %u, constants at %u) does not fit the "
                         "%zu byte payload", hlen, fo, fs, co, size);
    P->fb = b + fo;
    P->fb_size = fs;
    P->cdata = b + co;
    P->cdata_size = cs;
  } else {
    if (size > UINT32_MAX)
      return et_diag_set(d, ET_INVALID_PROGRAM,
                         "XnnpackBackend: payload too large");
    P->fb = b;
    P->fb_size = (uint32_t)size;
  }
  if (P->fb_size < 8 ||
      (memcmp(P->fb + 4, "XN00", 4) != 0 && memcmp(P->fb + 4, "XN01", 4) != 0))
    return et_diag_set(d, ET_DELEGATE_INVALID_COMPATIBILITY,
                       "XnnpackBackend: the graph's identifier is not XN00 or "
                       "XN01 (a newer or different serialization)");
  fb_init(&P->r, P->fb, P->fb_size);
  fb_table_at(&P->r, fb_rd32(P->fb), &P->root, "XNNGraph");
  fb_vector(&P->r, &P->root, G_XNODES, 4, &P->nodes, "XNNGraph.xnodes");
  fb_vector(&P->r, &P->root, G_XVALUES, 4, &P->values, "XNNGraph.xvalues");
  fb_vector(&P->r, &P->root, G_CONSTANT_DATA, 4, &P->cd,
            "XNNGraph.constant_data");
  P->n_ext = fb_u32(&P->r, &P->root, G_NUM_EXTERNS, 0, "XNNGraph");
  if (!fb_ok(&P->r)) return fb_bad(P, d);
  if (P->n_ext > MAX_EXTERNS)
    return bad(d, "XnnpackBackend: num_externs %u exceeds %u", P->n_ext,
               MAX_EXTERNS);
  if (P->values.len > (1u << 24) || P->nodes.len > (1u << 24))
    return bad(d, "XnnpackBackend: %u values / %u nodes is implausible",
               P->values.len, P->nodes.len);
  return ET_OK;
}

/* ---- values ------------------------------------------------------------ */

static size_t numel_of(uint32_t rank, const uint32_t *dims) {
  size_t n = 1;
  for (uint32_t i = 0; i < rank; i++) {
    if (dims[i] && n > MAX_ELEMS / dims[i]) return SIZE_MAX;
    n *= dims[i];
  }
  return n;
}


/* Quantization parameters of value i (XNNQuantParams union: 1
 * PerChannelQuant{scale, channel_dim, scale_buffer_idx, num_scales}, 2
 * PerTensorQuant{scale, zero_point}, 3 PerTokenDynamicQuant{
 * num_nonbatch_dims}, 4 PerChannelGroupQuant{scale, channel_dim,
 * group_size, scale_bf16 (deprecated), scale_buffer_idx, num_scales}).
 * Dims are checked afterwards by check_qdims. */
static et_status read_qparams(payload *P, uint32_t i, xnn_val *v, int dt,
                              uint8_t qtype, const fb_table *qp, et_diag *d) {
  fb_reader *r = &P->r;
  fb_vec sv;
  memset(&sv, 0, sizeof sv);
  v->qkind = qtype;
  v->dt = (uint8_t)(dt > 0 && dt < 255 ? dt : 0);
  switch (qtype) {
    case XQ_TENSOR:
      v->qs = rd_f32(r, qp, 0, 0.0f);
      v->qz = fb_i32(r, qp, 1, 0, "PerTensorQuant");
      if (!fb_ok(r)) return fb_bad(P, d);
      if (dt != XDT_QINT8 && dt != XDT_QUINT8 && dt != XDT_QINT32)
        return bad(d, "XnnpackBackend: value %u: per-tensor quantization of "
                      "datatype %u (qint8, quint8 or qint32 expected)", i,
                   (uint32_t)dt);
      if (!(v->qs > 0.0f) || !isfinite(v->qs) || v->qs < 1e-30f)
        return bad(d, "XnnpackBackend: value %u: per-tensor scale is not a "
                      "positive finite number (datatype %u)", i, v->dt);
      if ((dt == XDT_QINT8 && (v->qz < -128 || v->qz > 127)) ||
          (dt == XDT_QUINT8 && (v->qz < 0 || v->qz > 255)) ||
          (dt == XDT_QINT32 && v->qz != 0))
        return bad(d, "XnnpackBackend: value %u: zero point out of its "
                      "datatype's range (datatype %u)", i, v->dt);
      v->esize = dt == XDT_QINT32 ? 4 : 1;
      return ET_OK;
    case XQ_TOKEN: {
      int32_t nb = fb_i32(r, qp, 0, 0, "PerTokenDynamicQuant");
      if (!fb_ok(r)) return fb_bad(P, d);
      if (dt != XDT_QDINT8)
        return bad(d, "XnnpackBackend: value %u: per-token quantization of "
                      "datatype %u (qdint8 expected)", i, (uint32_t)dt);
      if (nb != 1)
        return et_diag_set(d, ET_NOT_SUPPORTED,
                           "XnnpackBackend: value %u: dynamic quantization "
                           "with %d non-batch dims (1 supported)", i, nb);
      v->esize = 1;
      return ET_OK;
    }
    case XQ_CHANNEL: case XQ_GROUP: {
      bool grp = qtype == XQ_GROUP;
      fb_vector(r, qp, 0, 4, &sv, "scale");
      int32_t ch = fb_i32(r, qp, 1, 0, "PerChannelQuant");
      int32_t gs = grp ? fb_i32(r, qp, 2, 0, "PerChannelGroupQuant") : 0;
      v->qscale_buf = fb_u32(r, qp, grp ? 4 : 2, 0, "PerChannelQuant");
      v->qnscale = fb_u32(r, qp, grp ? 5 : 3, 0, "PerChannelQuant");
      if (!fb_ok(r)) return fb_bad(P, d);
      if (grp ? dt != XDT_QBINT4
              : (dt != XDT_QCINT8 && dt != XDT_QCINT32 && dt != XDT_QCINT4))
        return bad(d, "XnnpackBackend: value %u: per-channel or blockwise "
                      "quantization of datatype %u", i, (uint32_t)dt);
      if (ch < 0 || ch >= XNN_MAX_DIMS || (grp && gs <= 0))
        return bad(d, "XnnpackBackend: value %u: channel_dim %d / group "
                      "size is invalid", i, (uint32_t)ch);
      v->qch = (uint32_t)ch;
      v->qgroup = (uint32_t)gs;
      if (v->qscale_buf) {
        if (v->qscale_buf >= P->cd.len)
          return bad(d, "XnnpackBackend: value %u: scale_buffer_idx %u "
                        "beyond the constant table", i, v->qscale_buf);
      } else {
        v->qnscale = sv.len;
        v->qscale_pos = sv.present ? sv.pos : 0;
        if (!sv.present)
          return bad(d, "XnnpackBackend: value %u: per-channel quantization "
                        "without scales (datatype %u)", i, v->dt);
      }
      v->esize = dt == XDT_QCINT32 ? 4 : 1;
      return ET_OK;
    }
    default:
      return bad(d, "XnnpackBackend: value %u: quant_params type %u is not "
                    "one of 1-4 (per channel, per tensor, per token, per "
                    "channel group)", i, qtype);
  }
}

/* Dims-dependent checks of a quantized value (its bound is known). */
static et_status check_qdims(const xnn_val *v, uint32_t i, et_diag *d) {
  if (v->qkind == XQ_CHANNEL) {
    if (v->qch >= v->rank || v->qnscale != v->bound[v->qch])
      return bad(d, "XnnpackBackend: value %u: %u scales for channel_dim "
                    "of a value with other dims (or channel_dim beyond the "
                    "rank)", i, v->qnscale);
  } else if (v->qkind == XQ_GROUP) {
    if (v->rank != 2 || v->qch != 0 || !v->bound[1] ||
        v->bound[1] % v->qgroup ||
        (uint64_t)v->bound[0] * (v->bound[1] / v->qgroup) != v->qnscale)
      return bad(d, "XnnpackBackend: value %u: blockwise quantization with "
                    "group size %u does not fit the value's dims (rank 2, "
                    "channel_dim 0, groups dividing the input channels, one "
                    "scale per group expected)", i, v->qgroup);
    if (v->qgroup % 32u && v->qgroup != v->bound[1])
      return et_diag_set(d, ET_NOT_SUPPORTED,
                         "XnnpackBackend: value %u: blockwise group size %u "
                         "(this backend runs multiples of 32, or one group "
                         "per row)", i, v->qgroup);
  } else if (v->qkind == XQ_TOKEN) {
    if (v->rank < 1)
      return bad(d, "XnnpackBackend: value %u: dynamically quantized value "
                    "of rank %u", i, v->rank);
  }
  if ((v->dt == XDT_QCINT4 || v->dt == XDT_QBINT4) && !v->const_idx)
    return bad(d, "XnnpackBackend: value %u: a 4-bit value that is not "
                  "constant (datatype %u)", i, v->dt);
  return ET_OK;
}

/* Read value i into *v (its id into *id). */
static et_status read_value(payload *P, uint32_t i, xnn_val *v, uint32_t *id,
                            et_diag *d) {
  fb_reader *r = &P->r;
  et_status st;
  fb_table xv, tv;
  fb_vec dims;
  fb_table qv, qp;
  uint8_t qtype = 0;
  memset(v, 0, sizeof *v);
  fb_vec_table(r, &P->values, i, &xv, "XValue");
  uint8_t type = fb_u8(r, &xv, 0, 0, "XValue");
  fb_subtable(r, &xv, 1, &tv, "XValue.xvalue_union");
  if (!fb_ok(r)) return fb_bad(P, d);
  if (type == 2 && tv.pos) {
    /* XNNQuantizedTensorValue{tensor_value, quant_params (union)}. */
    qv = tv;
    memset(&tv, 0, sizeof tv);
    memset(&qp, 0, sizeof qp);
    fb_subtable(r, &qv, 0, &tv, "XNNQuantizedTensorValue.tensor_value");
    qtype = fb_u8(r, &qv, 1, 0, "XNNQuantizedTensorValue");
    fb_subtable(r, &qv, 2, &qp, "XNNQuantizedTensorValue.quant_params");
    if (!fb_ok(r)) return fb_bad(P, d);
    if (!tv.pos || !qp.pos || qtype < XQ_CHANNEL || qtype > XQ_GROUP)
      return bad(d, "XnnpackBackend: value %u: quantized value without a "
                    "tensor or with quant_params type %u", i, qtype);
  } else if (type != 1 || !tv.pos) {
    return bad(d, "XnnpackBackend: value %u has union type %u", i, type);
  }
  uint32_t dt_pos = fb_field(r, &tv, 0, 2, "XNNTensorValue.datatype");
  int dt = dt_pos ? (int16_t)fb_rd16(r->buf + dt_pos) : 0;
  uint32_t dq_pos = fb_field(r, &tv, 7, 2, "XNNTensorValue.dq_datatype");
  int dq = dq_pos ? (int16_t)fb_rd16(r->buf + dq_pos) : 0;
  uint32_t num_dims = fb_u32(r, &tv, 1, 0, "XNNTensorValue");
  fb_vector(r, &tv, 2, 4, &dims, "XNNTensorValue.dims");
  v->const_idx = fb_u32(r, &tv, 3, 0, "XNNTensorValue");
  uint32_t ext = fb_u32(r, &tv, 4, 0, "XNNTensorValue");
  uint32_t flags = fb_u32(r, &tv, 5, 0, "XNNTensorValue");
  *id = fb_u32(r, &tv, 6, 0, "XNNTensorValue");
  if (!fb_ok(r)) return fb_bad(P, d);
  if (dq != 0)
    return et_diag_set(d, ET_NOT_SUPPORTED,
                       "XnnpackBackend: value %u has dq_datatype %d (the "
                       "legacy dynamic quantization form, which this "
                       "backend does not run)", i, dq);
  if (!qtype && dt >= 3 && dt <= 11)
    return bad(d, "XnnpackBackend: value %u has quantized datatype %d but "
                  "no quantization parameters", i, (uint32_t)dt);
  if (qtype) {
    if ((st = read_qparams(P, i, v, dt, qtype, &qp, d))) return st;
  } else if (dt != XDT_FP32) {
    return et_diag_set(d, ET_NOT_SUPPORTED,
                       "XnnpackBackend: value %u has datatype %d; this "
                       "backend runs fp32 and quantized int8/int4 values "
                       "only (2=fp16 12=int32 14=bf16)", i, dt);
  } else {
    v->dt = XDT_F32;
    v->esize = 4;
  }
  if (flags & ~(VFLAG_IN | VFLAG_OUT) || flags == (VFLAG_IN | VFLAG_OUT))
    return bad(d, "XnnpackBackend: value %u has flags 0x%x", i, flags);
  if (dims.len > XNN_MAX_DIMS || (dims.present && num_dims != dims.len))
    return bad(d, "XnnpackBackend: value %u has %u dims (at most 6, "
                  "num_dims must agree)", i, dims.len);
  v->rank = (uint8_t)dims.len;
  for (uint32_t k = 0; k < dims.len; k++)
    v->bound[k] = v->dims[k] = vec_u32(P, &dims, k);
  size_t n = numel_of(v->rank, v->bound);
  if (n == SIZE_MAX)
    return bad(d, "XnnpackBackend: value %u has too many elements (%u dims)",
               i, v->rank);
  v->cap = n;
  if (v->qkind && (st = check_qdims(v, i, d))) return st;
  if (flags && v->dt != XDT_F32 && v->dt != XDT_QINT8 && v->dt != XDT_QUINT8)
    return et_diag_set(d, ET_NOT_SUPPORTED,
                       "XnnpackBackend: value %u: a delegate input or output "
                       "of datatype %u (fp32, qint8 and quint8 ones are "
                       "supported)", i, v->dt);
  if (v->const_idx && (v->dt == XDT_QDINT8))
    return bad(d, "XnnpackBackend: value %u: a dynamically quantized value "
                  "with constant data %u", i, v->const_idx);
  if (flags) {
    if (ext >= P->n_ext)
      return bad(d, "XnnpackBackend: external value %u has external id %u "
                    "beyond num_externs", i, ext);
    if (v->const_idx)
      return bad(d, "XnnpackBackend: external value %u is also constant %u",
                 i, v->const_idx);
    v->kind = flags == VFLAG_IN ? VK_INPUT : VK_OUTPUT;
    v->ext = ext;
  } else if (v->const_idx) {
    if (v->const_idx >= P->cd.len)
      return bad(d, "XnnpackBackend: value %u names constant %u, beyond the "
                    "constant table", i, v->const_idx);
    v->kind = VK_CONST;
  } else {
    v->kind = VK_INTERNAL;
  }
  if (*id >= P->values.len)
    return bad(d, "XnnpackBackend: value %u has id %u beyond the value count",
               i, *id);
  return ET_OK;
}

/* The value whose id is `id`: upstream writes id == index, so look there
 * first. */
static et_status find_value(payload *P, uint32_t id, xnn_val *v, bool *found,
                            et_diag *d) {
  uint32_t got;
  et_status st;
  *found = false;
  if (id < P->values.len) {
    if ((st = read_value(P, id, v, &got, d))) return st;
    if (got == id) return (*found = true), ET_OK;
  }
  for (uint32_t k = 0; k < P->values.len; k++) {
    if ((st = read_value(P, k, v, &got, d))) return st;
    if (got == id) return (*found = true), ET_OK;
  }
  return ET_OK;
}

/* Entry `key` of the program's named data (Program field 7: NamedData
 * {key, segment_index}; DataSegment {offset, size} after the segment base).
 * The program was verified at load; the spans are checked again anyway. */
static et_status program_named(const et_program *p, const char *key,
                               const uint8_t **out, size_t *out_size) {
  fb_reader r;
  fb_table root, nd, seg;
  fb_vec v, segs = {p->segments, p->n_segments, true};
  fb_init(&r, p->data, p->program_size);
  fb_table_at(&r, p->root, &root, "Program");
  fb_vector(&r, &root, 7, 4, &v, "Program.named_data");
  for (uint32_t i = 0; i < v.len && fb_ok(&r); i++) {
    fb_vec_table(&r, &v, i, &nd, "NamedData");
    const char *k = fb_string(&r, &nd, 0, NULL, "NamedData.key");
    if (!k || strcmp(k, key) != 0) continue;
    uint32_t si = fb_u32(&r, &nd, 1, 0, "NamedData");
    if (si >= p->n_segments) return ET_NOT_FOUND;
    fb_vec_table(&r, &segs, si, &seg, "DataSegment");
    uint64_t off = fb_u64(&r, &seg, 0, 0, "DataSegment");
    uint64_t size = fb_u64(&r, &seg, 1, 0, "DataSegment");
    uint64_t start = p->segment_base + off;
    if (!fb_ok(&r) || start < off || start > p->size ||
        size > p->size - start)
      return ET_NOT_FOUND;
    *out = p->data + start;
    *out_size = (size_t)size;
    return ET_OK;
  }
  return ET_NOT_FOUND;
}

/* Bytes of constant `idx`: inline (offset into the constant data) or named.
 * `ctx` NULL: sizing only, no lookup. */
static et_status const_bytes(payload *P, et_backend_ctx *ctx, uint32_t idx,
                             size_t want, const uint8_t **out, et_diag *d) {
  fb_reader *r = &P->r;
  fb_table c;
  *out = NULL;
  fb_vec_table(r, &P->cd, idx, &c, "ConstantDataOffset");
  uint64_t off = fb_u64(r, &c, 0, 0, "ConstantDataOffset");
  uint64_t size = fb_u64(r, &c, 1, 0, "ConstantDataOffset");
  uint32_t klen = 0;
  const char *key = fb_string(r, &c, 2, &klen, "ConstantDataOffset.named_key");
  if (!fb_ok(r)) return fb_bad(P, d);
  if (size < want)
    return et_diag_set(d, ET_INVALID_PROGRAM,
                       "XnnpackBackend: constant %u has %llu bytes; its value "
                       "needs %zu", idx, (unsigned long long)size, want);
  if (!ctx) return ET_OK;
  if (key && klen) {
    /* Upstream's NamedDataMap: the program's named data, then the .ptd. */
    et_named_data nd;
    et_status st = ET_NOT_FOUND;
    memset(&nd, 0, sizeof nd);
    if (ctx->program) {
      const uint8_t *pd = NULL;
      size_t ps = 0;
      st = program_named(ctx->program, key, &pd, &ps);
      nd.data = pd;
      nd.nbytes = ps;
    }
    if (st && ctx->external)
      st = ctx->external->get(ctx->external, key, &nd);
    if (st)
      return et_diag_set(d, ET_NOT_FOUND,
                         "XnnpackBackend: constant %u: named data '%s' not "
                         "found in the program or the external data map",
                         idx, key);
    if (nd.nbytes < want || !nd.data)
      return et_diag_set(d, ET_INVALID_EXTERNAL_DATA,
                         "XnnpackBackend: named data '%s' has %zu bytes; %zu "
                         "needed", key, nd.nbytes, want);
    *out = (const uint8_t *)nd.data;
    return ET_OK;
  }
  if (!P->cdata || off > P->cdata_size || want > P->cdata_size - off)
    return et_diag_set(d, ET_INVALID_PROGRAM,
                       "XnnpackBackend: constant %u (offset %llu, %zu bytes) "
                       "lies outside the payload's constant data", idx,
                       (unsigned long long)off, want);
  *out = P->cdata + off;
  return ET_OK;
}

/* ---- nodes ------------------------------------------------------------- */

static et_status read_dims_vec(payload *P, const fb_table *t, unsigned id,
                               uint32_t n, uint32_t *out, const char *what,
                               uint32_t node, et_diag *d) {
  fb_vec v;
  fb_vector(&P->r, t, id, 4, &v, what);
  if (!fb_ok(&P->r)) return fb_bad(P, d);
  if (!v.present || v.len > XNN_MAX_DIMS || (n != UINT32_MAX && v.len != n))
    return et_diag_set(d, ET_INVALID_PROGRAM,
                       "XnnpackBackend: node %u: %s is missing or has the "
                       "wrong length", node, what);
  for (uint32_t k = 0; k < v.len; k++) out[k] = vec_u32(P, &v, k);
  return ET_OK;
}

/* Node i into *n and its debug handle (XNode.debug_handle, field 2: the id
 * of the graph node it came from) into *out_debug. The handle only labels
 * trace events: one beyond int32 is kept as -1 (no id) rather than refused. */
static et_status read_node(payload *P, uint32_t i, xnn_node *n,
                           int32_t *out_debug, et_diag *d) {
  fb_reader *r = &P->r;
  fb_table xn, t, mm;
  et_status st;
  memset(n, 0, sizeof *n);
  fb_vec_table(r, &P->nodes, i, &xn, "XNode");
  uint8_t type = fb_u8(r, &xn, 0, 0, "XNode");
  uint32_t dh = fb_u32(r, &xn, 2, 0, "XNode.debug_handle");
  *out_debug = dh <= (uint32_t)INT32_MAX ? (int32_t)dh : -1;
  fb_subtable(r, &xn, 1, &t, "XNode.xnode_union");
  n->lo = -INFINITY;
  n->hi = INFINITY;
  if (fb_subtable(r, &xn, 3, &mm, "XNode.output_min_max")) {
    /* Absent fields hold the schema default, 0.0. */
    n->lo = rd_f32(r, &mm, 0, 0.0f);
    n->hi = rd_f32(r, &mm, 1, 0.0f);
  }
  if (!fb_ok(r)) return fb_bad(P, d);
  if (type == 0 || type >= XN_NODE_END || !t.pos)
    return bad(d, "XnnpackBackend: node %u has union type %u", i, type);
  n->type = type;
  if (isnan(n->lo) || isnan(n->hi) || n->lo > n->hi)
    return bad(d, "XnnpackBackend: node %u has an output clamp with min > "
                  "max or NaN (type %u)", i, type);
#define U(id) fb_u32(r, &t, (id), 0, "node field")
  switch (type) {
    case XN_ADD: case XN_DIV: case XN_MINIMUM: case XN_MULTIPLY:
    case XN_SUBTRACT: case XN_MAXIMUM: case XN_PRELU: case XN_BMM:
      n->n_in = 2;
      n->in[0] = U(0);
      n->in[1] = U(1);
      n->out = U(2);
      n->flags = U(3);
      break;
    case XN_SOFTMAX: case XN_SIGMOID: case XN_CLAMP: case XN_FLOOR:
    case XN_CONVERT: case XN_GLOBAL_AVG_POOL: case XN_SQRT: case XN_CEIL:
    case XN_HARDSWISH: case XN_NEGATE: case XN_SQUARE: case XN_ABS:
    case XN_RSQRT: case XN_LOG: case XN_GELU: case XN_TANH: case XN_EXP:
    case XN_SIN: case XN_COPY: case XN_COS:
      n->n_in = 1;
      n->in[0] = U(0);
      n->out = U(1);
      n->flags = U(2);
      break;
    case XN_FULLY_CONNECTED:
      n->n_in = 3;
      n->in[0] = U(0);
      n->in[1] = U(1);
      n->in[2] = U(2);
      n->out = U(3);
      n->flags = U(4);
      break;
    case XN_CONV2D: case XN_DW_CONV2D: case XN_DECONV2D: {
      xnn_conv *c = &n->p.conv;
      c->pt = U(0); c->pr = U(1); c->pb = U(2); c->pl = U(3);
      c->kh = U(4); c->kw = U(5); c->sh = U(6); c->sw = U(7);
      c->dh = U(8); c->dw = U(9); c->gic = U(10); c->goc = U(11);
      c->groups = U(12); c->ah = U(13); c->aw = U(14);
      n->n_in = 3;
      n->in[0] = U(15);
      n->in[1] = U(16);
      n->in[2] = U(17);
      n->out = U(18);
      n->flags = U(19);
      break;
    }
    case XN_AVG_POOL: case XN_MAX_POOL: {
      xnn_conv *c = &n->p.conv;
      c->pt = U(0); c->pr = U(1); c->pb = U(2); c->pl = U(3);
      c->kh = U(4); c->kw = U(5); c->sh = U(6); c->sw = U(7);
      c->dh = U(8); c->dw = U(9);
      /* Average pooling has no dilation: upstream leaves it 0. */
      if (!c->dh) c->dh = 1;
      if (!c->dw) c->dw = 1;
      n->n_in = 1;
      n->in[0] = U(10);
      n->out = U(11);
      n->flags = U(12);
      break;
    }
    case XN_TRANSPOSE: case XN_RESHAPE:
      n->p.shape.n = U(0);
      if ((st = read_dims_vec(P, &t, 1, UINT32_MAX, n->p.shape.a,
                              type == XN_TRANSPOSE ? "perm" : "new_shape", i,
                              d)))
        return st;
      {
        fb_vec v;
        fb_vector(r, &t, 1, 4, &v, "dims");
        n->p.shape.n = v.len;
      }
      n->n_in = 1;
      n->in[0] = U(2);
      n->out = U(3);
      n->flags = U(4);
      break;
    case XN_SLICE: {
      fb_vec v;
      fb_vector(r, &t, 1, 4, &v, "offsets");
      n->p.shape.n = v.len;
      if ((st = read_dims_vec(P, &t, 1, UINT32_MAX, n->p.shape.a, "offsets",
                              i, d)) ||
          (st = read_dims_vec(P, &t, 2, v.len, n->p.shape.b, "sizes", i, d)))
        return st;
      n->n_in = 1;
      n->in[0] = U(3);
      n->out = U(4);
      n->flags = U(5);
      break;
    }
    case XN_CONSTANT_PAD: {
      fb_vec v;
      fb_vector(r, &t, 0, 4, &v, "pre_paddings");
      n->p.shape.n = v.len;
      if ((st = read_dims_vec(P, &t, 0, UINT32_MAX, n->p.shape.a,
                              "pre_paddings", i, d)) ||
          (st = read_dims_vec(P, &t, 1, v.len, n->p.shape.b, "post_paddings",
                              i, d)))
        return st;
      n->p.shape.value = rd_f32(r, &t, 2, 0.0f);
      n->n_in = 1;
      n->in[0] = U(3);
      n->out = U(4);
      n->flags = U(5);
      break;
    }
    case XN_CAT2: case XN_CAT3: case XN_CAT4: case XN_CAT5:
      n->p.axis = U(0);
      n->n_in = (uint8_t)(type == XN_CAT5 ? 5 : type - XN_CAT2 + 2);
      for (unsigned k = 0; k < 4; k++) n->in[k] = U(1 + k);
      n->in[4] = U(7);
      n->out = U(5);
      n->flags = U(6);
      break;
    case XN_ELU: case XN_LEAKY_RELU:
      n->p.alpha = rd_f32(r, &t, 0, 0.0f);
      n->n_in = 1;
      n->in[0] = U(1);
      n->out = U(2);
      n->flags = U(3);
      break;
    case XN_RESIZE_BILINEAR:
      n->p.resize.h = U(0);
      n->p.resize.w = U(1);
      n->n_in = 1;
      n->in[0] = U(2);
      n->out = U(3);
      n->flags = U(4);
      break;
    default:
      return et_diag_set(d, ET_NOT_SUPPORTED,
                         "XnnpackBackend: node %u has type %u (%s), which "
                         "this backend does not run yet", i, type,
                         type == XN_ARGMAX_POOL ? "ArgMaxPooling2d"
                         : type == XN_SDPA      ? "ScaledDotProductAttention"
                                                : "unknown");
  }
#undef U
  if (!fb_ok(r)) return fb_bad(P, d);
  for (unsigned k = 0; k < n->n_in; k++) {
    bool optional = k == 2 && (type == XN_FULLY_CONNECTED ||
                               type == XN_CONV2D || type == XN_DW_CONV2D ||
                               type == XN_DECONV2D);
    if (n->in[k] == XNN_INVALID_ID && optional) continue;
    if (n->in[k] >= P->values.len)
      return bad(d, "XnnpackBackend: node %u reads value id %u, beyond the "
                    "value count", i, n->in[k]);
  }
  if (n->out >= P->values.len)
    return bad(d, "XnnpackBackend: node %u writes value id %u, beyond the "
                  "value count", i, n->out);
  if (type == XN_TRANSPOSE) {
    uint32_t seen = 0;
    for (uint32_t k = 0; k < n->p.shape.n; k++) {
      if (n->p.shape.a[k] >= n->p.shape.n || (seen >> n->p.shape.a[k]) & 1)
        return bad(d, "XnnpackBackend: node %u: transpose perm is not a "
                      "permutation (entry %u)", i, k);
      seen |= 1u << n->p.shape.a[k];
    }
  }
  if (type == XN_CONV2D || type == XN_DW_CONV2D || type == XN_DECONV2D ||
      type == XN_AVG_POOL || type == XN_MAX_POOL) {
    const xnn_conv *c = &n->p.conv;
    bool conv = type != XN_AVG_POOL && type != XN_MAX_POOL;
    if (!c->kh || !c->kw || !c->sh || !c->sw || !c->dh || !c->dw ||
        c->kh > 1024 || c->kw > 1024 || c->dh > 1024 || c->dw > 1024 ||
        c->pt > 65536 || c->pb > 65536 || c->pl > 65536 || c->pr > 65536 ||
        c->sh > 65536 || c->sw > 65536 ||
        (conv && (!c->groups || !c->gic || !c->goc ||
                  (uint64_t)c->groups * c->goc > (1u << 24) ||
                  (uint64_t)c->groups * c->gic > (1u << 24))))
      return bad(d, "XnnpackBackend: node %u (type %u) has a zero or "
                    "implausible kernel, stride, dilation, padding or group "
                    "count", i, type);
    if (type == XN_DECONV2D && (c->ah >= c->sh || c->aw >= c->sw))
      return bad(d, "XnnpackBackend: node %u: deconvolution adjustment must "
                    "be smaller than the stride (type %u)", i, type);
    if (type == XN_DW_CONV2D && c->gic != 1)
      return bad(d, "XnnpackBackend: node %u: depthwise convolution with %u "
                    "input channels per group", i, c->gic);
  }
  if (type == XN_RESIZE_BILINEAR &&
      (!n->p.resize.h || !n->p.resize.w || n->p.resize.h > 65536 ||
       n->p.resize.w > 65536))
    return bad(d, "XnnpackBackend: node %u: resize to %u rows", i,
               n->p.resize.h);
  return ET_OK;
}

/* ---- plan: count or fill ------------------------------------------------ */

typedef struct handle {
  xnn_graph g;
  int32_t *debug; /* per node: XNode.debug_handle, or -1 */
} handle;

/* Trace event names: the schema's XNodeUnion member names without "XNN". */
static const char *const NODE_NAMES[] = {
    "?", "Add", "FullyConnected", "Softmax", "Sigmoid", "StaticTranspose",
    "Clamp", "Conv2d", "Div", "StaticResizeBilinear2D", "StaticConstantPad",
    "AvgPooling2d", "Minimum", "DepthwiseConv2d", "MaxPooling2d", "Multiply",
    "Subtract", "Floor", "Convert", "GlobalAvgPooling2d", "StaticReshape",
    "ArgMaxPooling2d", "SquareRoot", "Ceiling", "Hardswish", "LeakyReLU",
    "Maximum", "Negate", "Square", "ELU", "Abs", "PReLU", "Concatenate2",
    "Concatenate3", "Concatenate4", "StaticSlice",
    "ScaledDotProductAttention", "BatchMatrixMultiply", "Concatenate5",
    "ConvTranspose2d", "ReciprocalSquareRoot", "Log", "Gelu", "Tanh", "Exp",
    "Sin", "Copy", "Cos"};
_Static_assert(sizeof NODE_NAMES / sizeof NODE_NAMES[0] == XN_NODE_END,
               "one name per XNodeUnion tag");

static bool is_weight_use(const xnn_node *n, unsigned k) {
  return (k == 1 || k == 2) &&
         (n->type == XN_FULLY_CONNECTED || n->type == XN_CONV2D ||
          n->type == XN_DW_CONV2D || n->type == XN_DECONV2D);
}


/* Whether node n's input (in[0]) is quantized (counting: read it again). */
static bool plan_in_quantized(payload *P, const xnn_graph *g,
                              const xnn_node *n, bool fill) {
  xnn_val a;
  bool found = false;
  if (fill) return g->vals[n->in[0]].dt != XDT_F32;
  if (find_value(P, n->in[0], &a, &found, NULL) || !found) return false;
  return a.dt != XDT_F32;
}

/* Where the `count` scales of quantized constant v are: inline fp32, a
 * buffer of fp32 (per channel) or of bf16 (blockwise), or one per-tensor
 * scale. Checked for size always; when reading (ctx given), each must be
 * positive and finite. */
/* Bytes of the program the backend has copied into its own memory: its
 * release hook may give them back (fill pass only; see et_program_release). */
static void done_with(et_backend_ctx *ctx, const void *p, size_t n) {
  if (ctx) et_program_release(ctx->program, p, n);
}

typedef struct scale_src {
  const uint8_t *src; /* NULL: per tensor, `one` */
  bool bf16;
  float one;
} scale_src;

static inline float scale_at(const scale_src *s, size_t k) {
  if (!s->src) return s->one;
  uint32_t bits = s->bf16 ? (uint32_t)fb_rd16(s->src + 2 * k) << 16
                          : fb_rd32(s->src + 4 * k);
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

static et_status find_scales(payload *P, et_backend_ctx *ctx,
                             const xnn_val *v, size_t count, uint32_t i,
                             scale_src *out, et_diag *d) {
  out->src = NULL;
  out->bf16 = v->qkind == XQ_GROUP && v->qscale_buf;
  out->one = v->qs;
  if (v->qkind == XQ_TENSOR) return ET_OK; /* one scale for every channel */
  if (v->qnscale != count)
    return et_diag_set(d, ET_INVALID_PROGRAM,
                       "XnnpackBackend: node %u: %u weight scales, %u "
                       "expected", i, v->qnscale, (uint32_t)count);
  if (v->qscale_buf) {
    et_status st = const_bytes(P, ctx, v->qscale_buf,
                               count * (out->bf16 ? 2u : 4u), &out->src, d);
    if (st) return st;
  } else {
    out->src = P->r.buf + v->qscale_pos;
  }
  if (!ctx) return ET_OK;
  for (size_t k = 0; k < count; k++) {
    float f = scale_at(out, k);
    if (!(f > 0.0f) || !isfinite(f))
      return bad(d, "XnnpackBackend: node %u: weight scale %u is not a "
                    "positive finite number", i, (uint32_t)k);
  }
  return ET_OK;
}

/* The scales as floats into dst (fill) or only checked for size (counting:
 * dst NULL). */
static et_status load_scales(payload *P, et_backend_ctx *ctx,
                             const xnn_val *v, float *dst, size_t count,
                             uint32_t i, et_diag *d) {
  scale_src s;
  et_status st = find_scales(P, dst ? ctx : NULL, v, count, i, &s, d);
  if (st || !dst) return st;
  for (size_t k = 0; k < count; k++) dst[k] = scale_at(&s, k);
  if (s.src) done_with(ctx, s.src, count * (s.bf16 ? 2u : 4u));
  return ET_OK;
}

typedef struct qb_scales {
  scale_src s;
  size_t per_row, group;
} qb_scales;

static float qb_scale_of(const void *ctx, size_t nn, size_t kk) {
  const qb_scales *q = (const qb_scales *)ctx;
  return scale_at(&q->s, nn * q->per_row + kk / q->group);
}

/* Quantized fully connected / convolution weights: checked and prepared
 * (int8 columns packed, 4-bit repacked, scales, folded biases). */
static et_status plan_qweights(payload *P, et_backend_ctx *ctx, bump *b,
                               xnn_graph *g, xnn_node *n, const xnn_val *f,
                               const xnn_val *bias, size_t nout, uint32_t i,
                               et_diag *d) {
  et_status st;
  bool fill = b->base != NULL, found = true, found2 = true;
  xnn_val a, o;
  if (fill) {
    a = g->vals[n->in[0]];
    o = g->vals[n->out];
  } else if ((st = find_value(P, n->in[0], &a, &found, d)) ||
             (st = find_value(P, n->out, &o, &found2, d))) {
    return st;
  }
  if (!found || !found2)
    return bad(d, "XnnpackBackend: node %u names a value id that no value "
                  "has (%u)", i, n->in[0]);
  if (f->kind != VK_CONST || (bias && bias->kind != VK_CONST))
    return et_diag_set(d, ET_NOT_SUPPORTED,
                       "XnnpackBackend: node %u: a quantized node with a "
                       "non-constant filter or bias", i);
  xnn_qprep *q = (xnn_qprep *)take(b, sizeof(xnn_qprep));
  if (q) memset(q, 0, sizeof *q);
  n->q = q;
  size_t K = n->k, N = n->n;
  bool fc = n->type == XN_FULLY_CONNECTED, tw = fc && (n->flags & 1u);
  const uint8_t *fdata = NULL, *bdata = NULL;
  if (a.dt == XDT_QDINT8 && o.dt == XDT_F32 && fc &&
      (!bias || bias->dt == XDT_F32)) {
    /* Dynamic: qd8 activations x qc8w / qc4w / qb4w weights, fp32 out. */
    if ((f->dt == XDT_QCINT8 && f->qkind == XQ_CHANNEL &&
         f->qch == (tw ? 1u : 0u)) ||
        (f->dt == XDT_QINT8 && f->qkind == XQ_TENSOR && f->qz == 0)) {
      if (K > XNN_Q8_MAX_K)
        return et_diag_set(d, ET_NOT_SUPPORTED,
                           "XnnpackBackend: node %u: int8 fully connected "
                           "with %zu input channels (at most %u: the int32 "
                           "sums must not overflow)", i, K,
                           (unsigned)XNN_Q8_MAX_K);
      if ((st = const_bytes(P, fill ? ctx : NULL, f->const_idx, K * N,
                            &fdata, d)))
        return st;
      size_t kp = et_xnn_qpack_s8_kp(K);
      if (kp && N > MAX_ELEMS / kp)
        return et_diag_set(d, ET_INVALID_PROGRAM,
                           "XnnpackBackend: node %u: filter of %u output "
                           "channels is too large (at most %zu packed "
                           "elements)", i, (uint32_t)N, (size_t)MAX_ELEMS);
      int8_t *w8 = (int8_t *)take(b, et_xnn_qpack_s8_bytes(K, N));
      int32_t *cs = (int32_t *)take(b, N * sizeof(int32_t));
      float *sc = (float *)take(b, N * sizeof(float));
      if ((st = load_scales(P, ctx, f, fill ? sc : NULL, N, i, d)))
        return st;
      if (q && w8 && cs && sc) {
        et_xnn_qpack_s8(w8, (const int8_t *)fdata, K, N, tw ? N : 1,
                        tw ? 1 : K, cs);
        done_with(ctx, fdata, K * N);
        q->kind = QP_DQ8;
        q->w8 = w8;
        q->colsum = cs;
        q->scale = sc;
        q->kp = kp;
      }
    } else if ((f->dt == XDT_QCINT4 && f->qkind == XQ_CHANNEL &&
                f->qch == 0) ||
               (f->dt == XDT_QBINT4 && f->qkind == XQ_GROUP)) {
      if (tw)
        return et_diag_set(d, ET_NOT_SUPPORTED,
                           "XnnpackBackend: node %u: a transposed 4-bit "
                           "filter", i);
      size_t rowb = (K + 1) / 2, kp = et_xnn_qpack_4_kp(K);
      if (rowb && N > MAX_ELEMS / rowb)
        return et_diag_set(d, ET_INVALID_PROGRAM,
                           "XnnpackBackend: node %u: filter of %u output "
                           "channels is too large (at most %zu packed "
                           "elements)", i, (uint32_t)N, (size_t)MAX_ELEMS);
      if ((st = const_bytes(P, fill ? ctx : NULL, f->const_idx, rowb * N,
                            &fdata, d)))
        return st;
      size_t nsc = f->dt == XDT_QBINT4 ? N * (K / f->qgroup) : N;
      uint8_t *w4 = (uint8_t *)take(b, et_xnn_qpack_4_bytes(K, N));
      float *chs = (float *)take(b, et_xnn_qpack_4_nscales(K, N) * sizeof(float));
      float *q4 = (float *)take(b, et_xnn_qpack_4_ncols(N) * sizeof(float));
      qb_scales qs = {{NULL, false, 0.0f},
                      f->dt == XDT_QBINT4 ? K / f->qgroup : 1,
                      f->dt == XDT_QBINT4 ? f->qgroup : (K ? K : 1)};
      if ((st = find_scales(P, fill ? ctx : NULL, f, nsc, i, &qs.s, d)))
        return st;
      if (q && w4 && chs && q4) {
        et_xnn_qpack_4(w4, chs, q4, fdata, rowb, K, N, qb_scale_of, &qs);
        done_with(ctx, fdata, rowb * N);
        if (qs.s.src) done_with(ctx, qs.s.src, nsc * (qs.s.bf16 ? 2u : 4u));
        q->kind = QP_DQ4;
        q->w4 = w4;
        q->cs = chs;
        q->q4 = q4;
        q->kp = kp;
      }
    } else {
      return et_diag_set(d, ET_NOT_SUPPORTED,
                         "XnnpackBackend: node %u: dynamically quantized "
                         "fully connected with filter datatype %u (qcint8, "
                         "qcint4 or qbint4 per output channel supported)",
                         i, f->dt);
    }
    if (bias) {
      if ((st = const_bytes(P, fill ? ctx : NULL, bias->const_idx,
                            nout * sizeof(float), &bdata, d)))
        return st;
      float *bc = (float *)take(b, nout * sizeof(float));
      if (bc && q) {
        memcpy(bc, bdata, nout * sizeof(float));
        done_with(ctx, bdata, nout * sizeof(float));
        q->biasf = bc;
      }
    }
    return ET_OK;
  }
  /* Static: qs8 in and out, per-channel int8 filter, int32 bias. */
  uint32_t wch = n->type == XN_DW_CONV2D ? 3u : (tw ? 1u : 0u);
  bool wq = (f->dt == XDT_QCINT8 && f->qkind == XQ_CHANNEL &&
             f->qch == wch) ||
            (f->dt == XDT_QINT8 && f->qkind == XQ_TENSOR && f->qz == 0);
  if (a.dt != XDT_QINT8 || o.dt != XDT_QINT8 || !wq ||
      (bias && ((bias->dt != XDT_QCINT32 && bias->dt != XDT_QINT32))) ||
      n->type == XN_DECONV2D)
    return et_diag_set(d, ET_NOT_SUPPORTED,
                       "XnnpackBackend: node %u (type %u): this quantized "
                       "signature is not supported (static: qint8 input and "
                       "output, qcint8 per-output-channel or zero-point-0 qint8 "
                       "filter, qint32/"
                       "qcint32 bias; dynamic: qdint8 input, fp32 output)",
                       i, n->type);
  size_t groups = n->type == XN_CONV2D ? n->p.conv.groups : 1;
  size_t nfilter = f->cap;
  /* int32 sums: |a*w| <= 2^14 (2^15 - 1 with a zero point taken off) per
   * term, so K (or the window) and the bias are bounded so that no sum
   * can overflow. */
  size_t terms = n->type == XN_DW_CONV2D
                     ? (size_t)n->p.conv.kh * n->p.conv.kw
                     : K;
  if (terms > (n->type == XN_DW_CONV2D ? XNN_Q8_MAX_K / 4 : XNN_Q8_MAX_K))
    return et_diag_set(d, ET_NOT_SUPPORTED,
                       "XnnpackBackend: node %u: int8 node with %zu terms "
                       "per sum (the int32 sums must not overflow)", i,
                       terms);
  if ((st = const_bytes(P, fill ? ctx : NULL, f->const_idx, nfilter, &fdata,
                        d)))
    return st;
  if (bias && (st = const_bytes(P, fill ? ctx : NULL, bias->const_idx,
                                nout * 4, &bdata, d)))
    return st;
  float *ws = (float *)take(b, nout * sizeof(float));
  if ((st = load_scales(P, ctx, f, fill ? ws : NULL, nout, i, d))) return st;
  bool dw = n->type == XN_DW_CONV2D;
  size_t kp = dw ? 0 : et_xnn_qpack_s8_kp(K);
  if (!dw && kp && groups * N > MAX_ELEMS / kp)
    return et_diag_set(d, ET_INVALID_PROGRAM,
                       "XnnpackBackend: node %u: filter of %u output channels "
                       "is too large (at most %zu packed elements)", i,
                       (uint32_t)N, (size_t)MAX_ELEMS);
  size_t per_group = dw ? 0 : et_xnn_qpack_s8_bytes(K, N);
  int8_t *w8 = (int8_t *)take(b, dw ? nfilter : groups * per_group);
  int32_t *bq = (int32_t *)take(b, nout * sizeof(int32_t));
  float *rq = (float *)take(b, nout * sizeof(float));
  int32_t *cs = (int32_t *)take(b, nout * sizeof(int32_t));
  if (q && w8 && bq && rq && cs && ws) {
    if (dw) {
      memcpy(w8, fdata, nfilter);
      memset(cs, 0, nout * sizeof(int32_t));
    } else {
      for (size_t gi = 0; gi < groups; gi++)
        et_xnn_qpack_s8(w8 + gi * per_group, (const int8_t *)fdata + gi * N * K,
                        K, N, tw ? groups * N : 1, tw ? 1 : K, cs + gi * N);
    }
    for (size_t c = 0; c < nout; c++) {
      int32_t bv = 0;
      if (bdata) memcpy(&bv, bdata + 4 * c, 4);
      /* The zero-point correction folds into the bias (the im2col pads
       * with the input zero point, so it holds at the borders too). */
      int64_t fold = (int64_t)bv - (int64_t)a.qz * cs[c];
      if (fold < -XNN_Q8_MAX_BIAS || fold > XNN_Q8_MAX_BIAS)
        return bad(d, "XnnpackBackend: node %u: bias of channel %u "
                      "beyond 2^30 with the zero-point correction", i,
                   (uint32_t)c);
      bq[c] = (int32_t)fold;
      rq[c] = a.qs * ws[c] / o.qs;
      if (!isfinite(rq[c]))
        return bad(d, "XnnpackBackend: node %u: requantization scale of "
                      "channel %u is not finite", i, (uint32_t)c);
    }
    done_with(ctx, fdata, nfilter);
    if (bdata) done_with(ctx, bdata, nout * 4);
    q->kind = QP_S8;
    q->w8 = w8;
    q->bias = bq;
    q->scale = rq;
    q->colsum = cs;
    q->za = a.qz;
    q->zo = o.qz;
    q->kp = kp;
    q->wstride = per_group;
  }
  if (n->type == XN_CONV2D) {
    size_t ow = o.rank == 4 ? o.bound[2] : 0;
    if (ow && kp > MAX_ELEMS / XNN_CONV_SLOTS / ow)
      return bad(d, "XnnpackBackend: node %u: convolution scratch too "
                    "large (type %u)", i, n->type);
    n->scratch_floats = ow * kp; /* bytes of one int8 im2col slot */
    n->scratch = (float *)take(b, XNN_CONV_SLOTS * n->scratch_floats);
  }
  return ET_OK;
}

/* Prepare node `n`'s weights (fill mode: `data` of filter and bias known) or
 * count them. */
static et_status plan_weights(payload *P, et_backend_ctx *ctx, bump *b,
                              xnn_graph *g, xnn_node *n, const xnn_val *f,
                              const xnn_val *bias, uint32_t i, et_diag *d) {
  et_status st;
  const uint8_t *fdata = NULL, *bdata = NULL;
  size_t nout, nfilter = f->cap;
  if (n->type == XN_FULLY_CONNECTED) {
    if (f->rank != 2)
      return bad(d, "XnnpackBackend: node %u: fully connected filter has "
                    "rank %u (2 expected)", i, f->rank);
    bool tw = n->flags & 1u;
    n->n = tw ? f->bound[1] : f->bound[0];
    n->k = tw ? f->bound[0] : f->bound[1];
    nout = n->n;
  } else {
    const xnn_conv *c = &n->p.conv;
    if (f->rank != 4)
      return bad(d, "XnnpackBackend: node %u: convolution filter has rank "
                    "%u (4 expected)", i, f->rank);
    nout = (size_t)c->groups * c->goc;
    bool ok;
    if (n->type == XN_DW_CONV2D)
      ok = f->bound[0] == 1 && f->bound[1] == c->kh && f->bound[2] == c->kw &&
           f->bound[3] == nout;
    else
      ok = f->bound[0] == nout && f->bound[1] == c->kh &&
           f->bound[2] == c->kw && f->bound[3] == c->gic;
    if (!ok)
      return bad(d, "XnnpackBackend: node %u: filter dims do not match the "
                    "kernel, groups and channels (type %u)", i, n->type);
    n->k = (size_t)c->kh * c->kw * c->gic;
    n->n = c->goc;
  }
  if (bias && (bias->rank != 1 || bias->bound[0] != nout))
    return bad(d, "XnnpackBackend: node %u: bias has %u elements, not one "
                  "per output channel", i, bias->rank ? bias->bound[0] : 0);
  if (f->dt != XDT_F32 || (bias && bias->dt != XDT_F32) ||
      plan_in_quantized(P, g, n, b->base != NULL))
    return plan_qweights(P, ctx, b, g, n, f, bias, nout, i, d);
  if (f->kind != VK_CONST) {
    if (n->type != XN_FULLY_CONNECTED)
      return et_diag_set(d, ET_NOT_SUPPORTED,
                         "XnnpackBackend: node %u: convolution with a "
                         "non-constant filter", i);
    /* Packed at execute into scratch. */
    n->scratch_floats = et_xnn_packed_floats(n->k, n->n);
    n->scratch = (float *)take(b, n->scratch_floats * sizeof(float));
  } else {
    if ((st = const_bytes(P, b->base ? ctx : NULL, f->const_idx,
                          nfilter * sizeof(float), &fdata, d)))
      return st;
    size_t groups = n->type == XN_CONV2D ? n->p.conv.groups : 1;
    size_t floats = n->type == XN_CONV2D || n->type == XN_FULLY_CONNECTED
                        ? groups * et_xnn_packed_floats(n->k, n->n)
                        : nfilter;
    float *w = (float *)take(b, floats * sizeof(float));
    n->w = w;
    if (w) {
      /* The constant may be unaligned: read it through a copy. */
      if (n->type == XN_FULLY_CONNECTED) {
        float *tmp = w; /* pack in place is impossible: go element-wise */
        size_t K = n->k, N = n->n;
        bool tw = n->flags & 1u;
        for (size_t p = 0, o = 0; p < N; p += ET_XNN_NR)
          for (size_t kk = 0; kk < K; kk++)
            for (size_t j = 0; j < ET_XNN_NR; j++, o++) {
              float v = 0.0f;
              if (p + j < N) {
                size_t src = tw ? kk * N + p + j : (p + j) * K + kk;
                memcpy(&v, fdata + src * sizeof(float), sizeof v);
              }
              tmp[o] = v;
            }
      } else if (n->type == XN_CONV2D) {
        size_t K = n->k, N = n->n, per = et_xnn_packed_floats(K, N);
        for (size_t gi = 0; gi < groups; gi++) {
          float *dst = w + gi * per;
          for (size_t p = 0, o = 0; p < N; p += ET_XNN_NR)
            for (size_t kk = 0; kk < K; kk++)
              for (size_t j = 0; j < ET_XNN_NR; j++, o++) {
                float v = 0.0f;
                if (p + j < N)
                  memcpy(&v,
                         fdata + ((gi * N + p + j) * K + kk) * sizeof(float),
                         sizeof v);
                dst[o] = v;
              }
        }
      } else {
        memcpy(w, fdata, nfilter * sizeof(float));
      }
      done_with(b->base ? ctx : NULL, fdata, nfilter * sizeof(float));
    }
  }
  if (bias) {
    if (bias->kind != VK_CONST)
      return et_diag_set(d, ET_NOT_SUPPORTED,
                         "XnnpackBackend: node %u: a non-constant bias", i);
    if ((st = const_bytes(P, b->base ? ctx : NULL, bias->const_idx,
                          nout * sizeof(float), &bdata, d)))
      return st;
    float *bc = (float *)take(b, nout * sizeof(float));
    if (bc) {
      memcpy(bc, bdata, nout * sizeof(float));
      done_with(ctx, bdata, nout * sizeof(float));
    }
    n->bias = bc;
  }
  if (n->type == XN_CONV2D) {
    /* im2col of one output row: bounded by the output's declared width. */
    xnn_val ov;
    bool found = true;
    if (b->base)
      ov = g->vals[n->out];
    else if ((st = find_value(P, n->out, &ov, &found, d)))
      return st;
    if (!found)
      return bad(d, "XnnpackBackend: node %u writes value id %u, which no "
                    "value has", i, n->out);
    size_t ow = ov.rank == 4 ? ov.bound[2] : 0;
    bool direct = n->p.conv.kh == 1 && n->p.conv.kw == 1 &&
                  n->p.conv.sh == 1 && n->p.conv.sw == 1 && !n->p.conv.pt &&
                  !n->p.conv.pl && !n->p.conv.pb && !n->p.conv.pr &&
                  n->p.conv.groups == 1;
    if (!direct) {
      if (ow && n->k > MAX_ELEMS / XNN_CONV_SLOTS / ow)
        return bad(d, "XnnpackBackend: node %u: convolution scratch too "
                      "large (type %u)", i, n->type);
      n->scratch_floats = ow * n->k;
      n->scratch = (float *)take(
          b, XNN_CONV_SLOTS * n->scratch_floats * sizeof(float));
    }
  }
  (void)g;
  return ET_OK;
}

/* Whether node i's output goes only to the int8 clamp right after it, in
 * the same quantization, so that the untraced loop may run node i with the
 * clamp's bounds and output and skip the clamp (XNNPACK fuses these too).
 * The integer bounds of the two clamps in a row and of the intersection are
 * the same when the intervals meet; quantized producers only, whose every
 * kernel clamps through the output range. */
static bool clamp_fuses(const xnn_graph *g, uint32_t i) {
  const xnn_node *n = &g->nodes[i], *c = &g->nodes[i + 1];
  if (c->type != XN_CLAMP || c->n_in != 1 || c->in[0] != n->out) return false;
  switch (n->type) {
    case XN_CONV2D: case XN_DW_CONV2D: case XN_FULLY_CONNECTED: case XN_ADD:
    case XN_MULTIPLY: break;
    default: return false;
  }
  const xnn_val *v = &g->vals[n->out], *o = &g->vals[c->out];
  if (v->kind != VK_INTERNAL || !et_xnn_is_quant_node(g, n) ||
      (v->dt != XDT_QINT8 && v->dt != XDT_QUINT8) || v->qkind != XQ_TENSOR ||
      o->dt != v->dt || o->qkind != XQ_TENSOR || o->qs != v->qs ||
      o->qz != v->qz)
    return false;
  float lo = n->lo > c->lo ? n->lo : c->lo, hi = n->hi < c->hi ? n->hi : c->hi;
  if (!(lo <= hi)) return false;
  for (uint32_t k = 0; k < g->n_nodes; k++) {
    if (k == i + 1) continue;
    for (unsigned j = 0; j < g->nodes[k].n_in; j++)
      if (g->nodes[k].in[j] == n->out) return false;
  }
  return true;
}

/*
 * Walk the graph. Counting (b->base == NULL, ctx may be NULL): only sizes.
 * Filling: `vals` and `nodes` point into b; everything is verified.
 */
static et_status plan(payload *P, et_backend_ctx *ctx, bump *b, handle **out,
                      et_diag *d) {
  et_status st;
  handle *h = (handle *)take(b, sizeof(handle));
  xnn_val *vals = (xnn_val *)take(b, sizeof(xnn_val) * P->values.len);
  xnn_node *nodes = (xnn_node *)take(b, sizeof(xnn_node) * P->nodes.len);
  int32_t *debug = (int32_t *)take(b, sizeof(int32_t) * P->nodes.len);
  bool fill = b->base != NULL;
  if (fill && (!h || !vals || !nodes || !debug))
    return et_diag_set(d, ET_MEMORY_ALLOCATION_FAILED,
                       "XnnpackBackend: arena block too small");
  xnn_graph gl;
  memset(&gl, 0, sizeof gl);
  xnn_graph *g = fill ? &h->g : &gl;
  g->n_vals = P->values.len;
  g->n_nodes = P->nodes.len;
  g->n_ext = P->n_ext;
  g->vals = vals;
  g->nodes = nodes;
  if (fill) {
    h->debug = debug;
    memset(vals, 0, sizeof(xnn_val) * P->values.len);
  }

  /* Values: internal ones get storage for their bound. */
  uint8_t ext_seen[MAX_EXTERNS / 8];
  memset(ext_seen, 0, sizeof ext_seen);
  for (uint32_t i = 0; i < P->values.len; i++) {
    xnn_val v;
    uint32_t id;
    if ((st = read_value(P, i, &v, &id, d))) return st;
    if (v.kind == VK_INPUT || v.kind == VK_OUTPUT) {
      if ((ext_seen[v.ext / 8] >> (v.ext % 8)) & 1)
        return bad(d, "XnnpackBackend: external id %u is used twice (value "
                      "%u)", v.ext, i);
      ext_seen[v.ext / 8] |= (uint8_t)(1u << (v.ext % 8));
    }
    if (v.kind == VK_INTERNAL) {
      v.data = (float *)take(b, v.cap * v.esize);
      if (v.dt == XDT_QDINT8) {
        /* Per-row parameters for the bound's rows. */
        size_t last = v.bound[v.rank - 1], rows = last ? v.cap / last : 0;
        v.rcap = rows;
        v.rs = (float *)take(b, rows * sizeof(float));
        v.rz = (int32_t *)take(b, rows * sizeof(int32_t));
        v.ra = (int32_t *)take(b, rows * et_xnn_qd8_nchunks(last) *
                                      sizeof(int32_t));
      }
      if (b->used == SIZE_MAX)
        return bad(d, "XnnpackBackend: value %u is too large (%u dims)", i,
                   v.rank);
    }
    if (fill) {
      if (vals[id].kind != VK_UNUSED)
        return bad(d, "XnnpackBackend: two values have id %u (value %u)", id,
                   i);
      vals[id] = v;
    }
  }

  /* Nodes: weights packed; constant inputs used as plain tensors copied. */
  for (uint32_t i = 0; i < P->nodes.len; i++) {
    xnn_node tmp, *n = fill ? &nodes[i] : &tmp;
    int32_t dh;
    if ((st = read_node(P, i, n, &dh, d))) return st;
    if (fill) debug[i] = dh;
    if (n->type == XN_FULLY_CONNECTED || n->type == XN_CONV2D ||
        n->type == XN_DW_CONV2D || n->type == XN_DECONV2D) {
      /* Counting needs the filter's and bias's dims: read them again. */
      xnn_val f, bv;
      bool have_bias = n->in[2] != XNN_INVALID_ID;
      if (fill) {
        f = vals[n->in[1]];
        if (have_bias) bv = vals[n->in[2]];
      } else {
        bool ff = false, fb = !have_bias;
        if ((st = find_value(P, n->in[1], &f, &ff, d))) return st;
        if (have_bias && (st = find_value(P, n->in[2], &bv, &fb, d)))
          return st;
        if (!ff || !fb)
          return bad(d, "XnnpackBackend: node %u names a value id that no "
                        "value has (%u)", i, n->in[1]);
      }
      if (fill && (f.kind == VK_UNUSED || (have_bias && bv.kind == VK_UNUSED)))
        return bad(d, "XnnpackBackend: node %u names a value id that no "
                      "value has (%u)", i, n->in[1]);
      if ((st = plan_weights(P, ctx, b, g, n, &f, have_bias ? &bv : NULL, i,
                             d)))
        return st;
    }
    for (unsigned k = 0; k < n->n_in; k++) {
      if (is_weight_use(n, k) || n->in[k] == XNN_INVALID_ID) continue;
      if (fill && vals[n->in[k]].kind == VK_CONST &&
          vals[n->in[k]].dt != XDT_F32)
        return et_diag_set(d, ET_NOT_SUPPORTED,
                           "XnnpackBackend: node %u: quantized constant "
                           "value %u as a plain input", i, n->in[k]);
      if (!fill) {
        /* Counting: a constant input costs a copy of its bytes. */
        xnn_val v;
        bool found;
        if ((st = find_value(P, n->in[k], &v, &found, d))) return st;
        if (found && v.kind == VK_CONST) take(b, v.cap * sizeof(float));
      } else if (vals[n->in[k]].kind == VK_CONST) {
        xnn_val *v = &vals[n->in[k]];
        const uint8_t *src;
        float *copy = (float *)take(b, v->cap * sizeof(float));
        if ((st = const_bytes(P, ctx, v->const_idx, v->cap * sizeof(float),
                              &src, d)))
          return st;
        if (copy && v->cap) {
          memcpy(copy, src, v->cap * sizeof(float));
          done_with(ctx, src, v->cap * sizeof(float));
        }
        if (!v->data) v->data = copy; /* first copy serves every reader */
      }
    }
  }
  if (b->used == SIZE_MAX)
    return et_diag_set(d, ET_INVALID_PROGRAM,
                       "XnnpackBackend: the graph's memory overflows");
  if (!fill) return ET_OK;
  if (b->used > b->cap)
    return et_diag_set(d, ET_INTERNAL,
                       "XnnpackBackend: plan took %zu bytes of %zu", b->used,
                       b->cap);

  /* Every id named exists; inputs are defined before use; outputs are
   * written by exactly one node; shapes propagate from the bounds. */
  for (uint32_t v = 0; v < g->n_vals; v++)
    if (vals[v].kind == VK_UNUSED)
      return bad(d, "XnnpackBackend: value id %u is not defined (%u values)",
                 v, g->n_vals);
  for (uint32_t v = 0; v < g->n_vals; v++)
    vals[v].written = vals[v].kind == VK_CONST || vals[v].kind == VK_INPUT;
  for (uint32_t i = 0; i < g->n_nodes; i++) {
    xnn_node *n = &nodes[i];
    xnn_val *o = &vals[n->out];
    if ((o->kind != VK_INTERNAL && o->kind != VK_OUTPUT) || o->written)
      return bad(d, "XnnpackBackend: node %u writes value %u, a constant, an "
                    "input or a value already written", i, n->out);
    for (unsigned k = 0; k < n->n_in; k++)
      if (n->in[k] != XNN_INVALID_ID && !vals[n->in[k]].written)
        return bad(d, "XnnpackBackend: node %u reads value %u before any "
                      "node writes it", i, n->in[k]);
    o->written = 1;
    if ((st = et_xnn_qcheck(g, n, i, d))) return st;
    uint32_t rank, dims[XNN_MAX_DIMS];
    if (!et_xnn_infer(g, n, &rank, dims, d)) return d ? d->status : ET_INVALID_PROGRAM;
    size_t ne = numel_of(rank, dims);
    if (rank != o->rank || ne > o->cap)
      return et_diag_set(d, ET_INVALID_PROGRAM,
                         "XnnpackBackend: node %u (type %u) makes a rank %u "
                         "output of %zu elements; value %u declares rank %u "
                         "and %zu", i, n->type, rank, ne, n->out, o->rank,
                         o->cap);
    memcpy(o->dims, dims, sizeof dims);
  }
  for (uint32_t v = 0; v < g->n_vals; v++)
    if (vals[v].kind == VK_OUTPUT && !vals[v].written)
      return bad(d, "XnnpackBackend: output value %u (external id %u) is "
                    "never written", v, vals[v].ext);
  if (fill)
    for (uint32_t i = 0; i < g->n_nodes; i++)
      nodes[i].fuse_clamp = i + 1 < g->n_nodes && clamp_fuses(g, i);
  *out = h;
  return ET_OK;
}

/* ---- backend entry points ---------------------------------------------- */

static et_status xnn_arena_bytes(const void *processed, size_t size,
                                 const et_compile_spec *specs, size_t n_specs,
                                 size_t *out_bytes) {
  payload P;
  bump b = {NULL, 0, 0};
  handle *h;
  et_status st;
  (void)specs;
  (void)n_specs;
  /* arena_bytes has no way to say why a payload is refused: report 0 bytes
   * and let init, which verifies the same way before taking any memory,
   * fail with the message. */
  *out_bytes = 0;
  if ((st = open_payload(processed, size, &P, NULL))) return ET_OK;
  if ((st = plan(&P, NULL, &b, &h, NULL))) return ET_OK;
  *out_bytes = b.used;
  return ET_OK;
}

static et_status xnn_init(et_backend_ctx *ctx, const void *processed,
                          size_t size, const et_compile_spec *specs,
                          size_t n_specs, void **out_handle) {
  payload P;
  bump count = {NULL, 0, 0};
  handle *h = NULL;
  et_status st;
  et_diag *d = ctx->diag;
  (void)specs;
  (void)n_specs;
  *out_handle = NULL;
  if ((st = open_payload(processed, size, &P, d))) return st;
  if ((st = plan(&P, NULL, &count, &h, d))) return st;
  void *mem = et_backend_alloc(ctx, count.used, 16);
  if (!mem && count.used)
    return et_diag_set(d, ET_MEMORY_ALLOCATION_FAILED,
                       "XnnpackBackend: delegate %u needs %zu arena bytes",
                       ctx->delegate_index, count.used);
  bump b = {(uint8_t *)mem, 0, count.used};
  if ((st = plan(&P, ctx, &b, &h, d))) return st;
  /* Everything execute reads was copied into the arena: the payload's
   * pages may go back to the file. */
  done_with(ctx, processed, size);
  *out_handle = h;
  return ET_OK;
}

/* The tensor dtype of a value's storage. */
static int val_dtype(const xnn_val *v) {
  if (v->dt == XDT_QINT8 || v->dt == XDT_QDINT8) return ET_CHAR;
  if (v->dt == XDT_QUINT8) return ET_BYTE;
  return ET_FLOAT;
}

/* The node loop with one event pair per node (its debug handle as the
 * delegate debug id), apart so that the untraced loop stays as it was. */
#if defined(__GNUC__)
__attribute__((noinline, cold))
#endif
static et_status run_traced(handle *h, et_tracer *tr, et_diag *d) {
  const xnn_graph *g = &h->g;
  for (uint32_t i = 0; i < g->n_nodes; i++) {
    const char *name = NODE_NAMES[g->nodes[i].type];
    et_tracer_backend_event(tr, ET_TRACE_BACKEND_BEGIN, name, h->debug[i]);
    et_status st = et_xnn_run(g, &g->nodes[i], d);
    et_tracer_backend_event(tr, ET_TRACE_BACKEND_END, name, h->debug[i]);
    if (st) return st;
    if (et_tracer_wants_outputs(tr)) {
      /* The node's output as a float32 view at its current dims, in the
       * graph's layout (NHWC where the lowering made the value so). */
      const xnn_val *o = &g->vals[g->nodes[i].out];
      int32_t sizes[XNN_MAX_DIMS];
      int64_t strides[XNN_MAX_DIMS];
      int64_t step = 1;
      for (uint32_t k = o->rank; k-- > 0;) {
        sizes[k] = (int32_t)o->dims[k];
        strides[k] = step;
        step *= o->dims[k];
      }
      et_tensor t;
      memset(&t, 0, sizeof t);
      t.data = o->data;
      t.sizes = sizes;
      t.strides = strides;
      t.rank = o->rank;
      t.dtype = (et_dtype)val_dtype(o);
      t.capacity = o->cap * o->esize;
      et_tracer_backend_output(tr, name, h->debug[i], &t);
    }
  }
  return ET_OK;
}

static et_status xnn_execute(et_backend_ctx *ctx, void *hv, et_value **args,
                             size_t n_args) {
  handle *h = (handle *)hv;
  et_diag *d = ctx->diag;
  if (!h)
    return et_diag_set(d, ET_DELEGATE_INVALID_HANDLE,
                       "XnnpackBackend: no handle");
  xnn_graph *g = &h->g;
  /* Bind inputs: dims in the tensor's dim order (NHWC inputs arrive as
   * channels-last tensors). */
  for (uint32_t v = 0; v < g->n_vals; v++) {
    xnn_val *x = &g->vals[v];
    if (x->kind != VK_INPUT && x->kind != VK_OUTPUT) continue;
    if (x->ext >= n_args || !args[x->ext] ||
        args[x->ext]->tag != ET_TAG_TENSOR)
      return et_diag_set(d, ET_INVALID_ARGUMENT,
                         "XnnpackBackend: delegate argument %u (value %u) is "
                         "missing or not a tensor", x->ext, v);
    et_tensor *t = args[x->ext]->u.t;
    /* Upstream writes a scalar as dims [1]. */
    bool scalar = t->rank == 0 && x->rank == 1 && x->bound[0] == 1;
    int want = val_dtype(x);
    if ((int)t->dtype != want || (t->rank != x->rank && !scalar))
      return et_diag_set(d, ET_INVALID_ARGUMENT,
                         "XnnpackBackend: delegate argument %u must be a "
                         "%s tensor of rank %u", x->ext,
                         want == ET_FLOAT ? "Float"
                         : want == ET_CHAR ? "Char (int8)" : "Byte (uint8)",
                         x->rank);
    if (x->kind == VK_INPUT) {
      for (uint32_t k = 0; k < t->rank; k++) {
        int32_t s = t->sizes[t->dim_order ? t->dim_order[k] : k];
        x->dims[k] = s < 0 ? 0 : (uint32_t)s;
      }
      if (scalar) x->dims[0] = 1;
      x->data = (float *)t->data;
      x->cap = et_tensor_numel(t);
      if (!x->data && x->cap)
        return et_diag_set(d, ET_INVALID_ARGUMENT,
                           "XnnpackBackend: input %u has no data", x->ext);
    }
  }
  /* Propagate shapes. */
  for (uint32_t i = 0; i < g->n_nodes; i++) {
    xnn_node *n = &g->nodes[i];
    xnn_val *o = &g->vals[n->out];
    uint32_t rank, dims[XNN_MAX_DIMS];
    if (!et_xnn_infer(g, n, &rank, dims, d))
      return d && d->status ? d->status : ET_INVALID_ARGUMENT;
    size_t ne = numel_of(rank, dims);
    if (o->kind == VK_OUTPUT) {
      et_tensor *t = args[o->ext]->u.t;
      int32_t sz[XNN_MAX_DIMS];
      for (uint32_t k = 0; k < t->rank && k < XNN_MAX_DIMS; k++)
        sz[t->dim_order ? t->dim_order[k] : k] = (int32_t)dims[k];
      if (t->rank && et_tensor_resize(t, sz, t->rank))
        return et_diag_set(d, ET_INVALID_ARGUMENT,
                           "XnnpackBackend: output %u cannot take the "
                           "computed shape (%zu elements)", o->ext, ne);
      o->data = (float *)t->data;
      o->cap = et_tensor_numel(t);
      if (!o->data && ne)
        return et_diag_set(d, ET_INVALID_ARGUMENT,
                           "XnnpackBackend: output %u has no data", o->ext);
    } else if (ne > o->cap) {
      return et_diag_set(d, ET_INVALID_ARGUMENT,
                         "XnnpackBackend: node %u's output needs %zu "
                         "elements; the graph reserved %zu (inputs beyond "
                         "their bounds?)", i, ne, o->cap);
    }
    memcpy(o->dims, dims, sizeof dims);
  }
  g->par = ctx->parallel;
  if (ctx->tracer) return run_traced(h, ctx->tracer, d);
  for (uint32_t i = 0; i < g->n_nodes; i++) {
    const xnn_node *n = &g->nodes[i];
    et_status st;
    if (n->fuse_clamp) { /* node i into the clamp's output and bounds */
      const xnn_node *c = &g->nodes[i + 1];
      xnn_node f = *n;
      f.out = c->out;
      f.lo = n->lo > c->lo ? n->lo : c->lo;
      f.hi = n->hi < c->hi ? n->hi : c->hi;
      st = et_xnn_run(g, &f, d);
      i++;
    } else {
      st = et_xnn_run(g, n, d);
    }
    if (st) return st;
  }
  return ET_OK;
}

const et_backend et_xnnpack_backend = {
    ET_BACKEND_ABI_VERSION, "XnnpackBackend", xnn_arena_bytes, xnn_init,
    xnn_execute, NULL};
