/*
 * Shape inference and kernels of the CPU backend's nodes (fp32, NHWC where
 * upstream's graph is NHWC). Semantics follow XNNPACK's subgraph operators
 * as upstream's XNNCompiler defines them.
 */
#include "xnn_gemm.h"
#include "xnn_internal.h"
#include "xnn_vec.h"

#include <math.h>
#include <string.h>

#define FLAG_TRANSPOSE_W 0x1u
#define FLAG_TF_RESHAPE_2D 0x4u
#define FLAG_LEGACY 0x4u
#define FLAG_ALIGN_CORNERS 0x8u
#define FLAG_KEEP_DIMS 0x40u

static bool fail(et_diag *d, const char *what, uint32_t a, uint32_t b) {
  et_diag_set(d, ET_INVALID_ARGUMENT, what, a, b);
  return false;
}

static const xnn_val *V(const xnn_graph *g, uint32_t id) { return &g->vals[id]; }

static size_t numel(uint32_t rank, const uint32_t *dims) {
  size_t n = 1;
  for (uint32_t i = 0; i < rank; i++) n *= dims[i];
  return n;
}

static bool conv_out(uint32_t in, uint32_t pa, uint32_t pb, uint32_t k,
                     uint32_t dil, uint32_t s, uint32_t *out) {
  uint64_t eff = (uint64_t)(k - 1) * dil + 1, padded = (uint64_t)in + pa + pb;
  if (padded < eff) return false;
  *out = (uint32_t)((padded - eff) / s + 1);
  return true;
}

bool et_xnn_infer(const xnn_graph *g, const xnn_node *n, uint32_t *rank,
                  uint32_t *dims, et_diag *d) {
  const xnn_val *a = V(g, n->in[0]);
  uint32_t r = a->rank;
  memset(dims, 0, sizeof(uint32_t) * XNN_MAX_DIMS);
  switch (n->type) {
    case XN_ADD: case XN_DIV: case XN_MINIMUM: case XN_MULTIPLY:
    case XN_SUBTRACT: case XN_MAXIMUM: case XN_PRELU: {
      const xnn_val *b = V(g, n->in[1]);
      r = a->rank > b->rank ? a->rank : b->rank;
      for (uint32_t i = 0; i < r; i++) {
        uint32_t da = i < r - a->rank ? 1 : a->dims[i - (r - a->rank)];
        uint32_t db = i < r - b->rank ? 1 : b->dims[i - (r - b->rank)];
        if (da != db && da != 1 && db != 1)
          return fail(d, "XnnpackBackend: binary node: dims %u and %u do not "
                         "broadcast", da, db);
        dims[i] = da == 1 ? db : da;
      }
      break;
    }
    case XN_BMM: {
      const xnn_val *b = V(g, n->in[1]);
      if (a->rank < 2 || b->rank < 2)
        return fail(d, "XnnpackBackend: batch matmul of ranks %u and %u",
                    a->rank, b->rank);
      bool tb = n->flags & FLAG_TRANSPOSE_W;
      uint32_t M = a->dims[a->rank - 2], K = a->dims[a->rank - 1];
      uint32_t Kb = tb ? b->dims[b->rank - 1] : b->dims[b->rank - 2];
      uint32_t N = tb ? b->dims[b->rank - 2] : b->dims[b->rank - 1];
      if (K != Kb)
        return fail(d, "XnnpackBackend: batch matmul inner dims %u and %u",
                    K, Kb);
      r = a->rank > b->rank ? a->rank : b->rank;
      for (uint32_t i = 0; i + 2 < r; i++) {
        uint32_t da = i < r - a->rank ? 1 : a->dims[i - (r - a->rank)];
        uint32_t db = i < r - b->rank ? 1 : b->dims[i - (r - b->rank)];
        if (da != db && da != 1 && db != 1)
          return fail(d, "XnnpackBackend: batch matmul batch dims %u and %u",
                      da, db);
        dims[i] = da == 1 ? db : da;
      }
      dims[r - 2] = M;
      dims[r - 1] = N;
      break;
    }
    case XN_FULLY_CONNECTED: {
      const xnn_val *f = V(g, n->in[1]);
      bool tw = n->flags & FLAG_TRANSPOSE_W;
      if (f->rank != 2 || f->dims[tw ? 1 : 0] != n->n ||
          f->dims[tw ? 0 : 1] != n->k)
        return fail(d, "XnnpackBackend: fully connected filter is not %u x "
                       "%u", (uint32_t)n->n, (uint32_t)n->k);
      if (r < 1 || a->dims[r - 1] != n->k)
        return fail(d, "XnnpackBackend: fully connected input's last dim is "
                       "%u; the filter has %u input channels",
                    r ? a->dims[r - 1] : 0, (uint32_t)n->k);
      if (n->flags & FLAG_TF_RESHAPE_2D) {
        dims[0] = (uint32_t)(numel(r, a->dims) / (n->k ? n->k : 1));
        dims[1] = (uint32_t)n->n;
        r = 2;
      } else {
        memcpy(dims, a->dims, sizeof(uint32_t) * r);
        dims[r - 1] = (uint32_t)n->n;
      }
      break;
    }
    case XN_CONV2D: case XN_DW_CONV2D: case XN_DECONV2D: case XN_AVG_POOL:
    case XN_MAX_POOL: {
      const xnn_conv *c = &n->p.conv;
      if (r != 4)
        return fail(d, "XnnpackBackend: 2-D node (type %u) on a rank %u "
                       "input", n->type, r);
      uint32_t C = a->dims[3], oc = C, oh, ow;
      if (n->type == XN_CONV2D || n->type == XN_DECONV2D) {
        if ((uint64_t)c->groups * c->gic != C)
          return fail(d, "XnnpackBackend: convolution input has %u channels; "
                         "the node expects %u per group", C, c->gic);
        oc = c->groups * c->goc;
      } else if (n->type == XN_DW_CONV2D) {
        if (C != c->groups)
          return fail(d, "XnnpackBackend: depthwise input has %u channels; "
                         "the node expects %u", C, c->groups);
        oc = c->groups * c->goc;
      }
      if (n->type == XN_DECONV2D) {
        uint64_t eh = (uint64_t)(c->kh - 1) * c->dh + 1,
                 ew = (uint64_t)(c->kw - 1) * c->dw + 1;
        uint64_t h = a->dims[1] ? (uint64_t)c->sh * (a->dims[1] - 1) : 0,
                 w = a->dims[2] ? (uint64_t)c->sw * (a->dims[2] - 1) : 0;
        h += c->ah + eh;
        w += c->aw + ew;
        if (h < (uint64_t)c->pt + c->pb || w < (uint64_t)c->pl + c->pr ||
            h - c->pt - c->pb > 0xFFFFFFu || w - c->pl - c->pr > 0xFFFFFFu)
          return fail(d, "XnnpackBackend: deconvolution output size from "
                         "input %ux%u is invalid", a->dims[1], a->dims[2]);
        oh = (uint32_t)(h - c->pt - c->pb);
        ow = (uint32_t)(w - c->pl - c->pr);
      } else if (!conv_out(a->dims[1], c->pt, c->pb, c->kh, c->dh, c->sh,
                           &oh) ||
                 !conv_out(a->dims[2], c->pl, c->pr, c->kw, c->dw, c->sw,
                           &ow)) {
        return fail(d, "XnnpackBackend: 2-D node: input %ux%u is smaller "
                       "than the kernel window", a->dims[1], a->dims[2]);
      }
      dims[0] = a->dims[0];
      dims[1] = oh;
      dims[2] = ow;
      dims[3] = oc;
      break;
    }
    case XN_GLOBAL_AVG_POOL:
      if (r != 4 && r != 3)
        return fail(d, "XnnpackBackend: global average pooling of rank %u "
                       "(%u)", r, 0);
      if (n->flags & FLAG_KEEP_DIMS) {
        memcpy(dims, a->dims, sizeof(uint32_t) * r);
        for (uint32_t i = 1; i + 1 < r; i++) dims[i] = 1;
      } else {
        dims[0] = a->dims[0];
        dims[1] = a->dims[r - 1];
        r = 2;
      }
      break;
    case XN_TRANSPOSE:
      if (n->p.shape.n != r)
        return fail(d, "XnnpackBackend: transpose perm of %u entries on "
                       "rank %u", n->p.shape.n, r);
      for (uint32_t i = 0; i < r; i++) dims[i] = a->dims[n->p.shape.a[i]];
      break;
    case XN_RESHAPE: {
      size_t total = numel(r, a->dims), known = 1;
      uint32_t wild = XNN_MAX_DIMS;
      r = n->p.shape.n;
      for (uint32_t i = 0; i < r; i++) {
        uint32_t s = n->p.shape.a[i];
        if (s == 0) {
          if (wild != XNN_MAX_DIMS)
            return fail(d, "XnnpackBackend: reshape with two inferred dims "
                           "(%u and %u)", wild, i);
          wild = i;
        } else {
          if (known > XNN_MAX_ELEMS / s)
            return fail(d, "XnnpackBackend: reshape dim %u too large (%u)", i,
                        s);
          known *= s;
        }
        dims[i] = s;
      }
      if (wild != XNN_MAX_DIMS) {
        if (known == 0 || total % known)
          return fail(d, "XnnpackBackend: reshape cannot infer dim %u (%u "
                         "elements)", wild, (uint32_t)total);
        dims[wild] = (uint32_t)(total / known);
      } else if (known != total) {
        return fail(d, "XnnpackBackend: reshape to %u elements from %u",
                    (uint32_t)known, (uint32_t)total);
      }
      break;
    }
    case XN_SLICE:
      if (n->p.shape.n != r)
        return fail(d, "XnnpackBackend: slice of %u dims on rank %u",
                    n->p.shape.n, r);
      for (uint32_t i = 0; i < r; i++) {
        uint32_t off = n->p.shape.a[i], sz = n->p.shape.b[i];
        if (off > a->dims[i])
          return fail(d, "XnnpackBackend: slice offset %u beyond dim %u", off,
                      a->dims[i]);
        if (sz == 0) sz = a->dims[i] - off;
        if (sz > a->dims[i] - off)
          return fail(d, "XnnpackBackend: slice of %u from dim %u", sz,
                      a->dims[i]);
        dims[i] = sz;
      }
      break;
    case XN_CONSTANT_PAD:
      if (n->p.shape.n != r)
        return fail(d, "XnnpackBackend: pad of %u dims on rank %u",
                    n->p.shape.n, r);
      for (uint32_t i = 0; i < r; i++) {
        uint64_t s = (uint64_t)a->dims[i] + n->p.shape.a[i] + n->p.shape.b[i];
        if (s > 0xFFFFFFu)
          return fail(d, "XnnpackBackend: pad makes dim %u of %u", i,
                      (uint32_t)s);
        dims[i] = (uint32_t)s;
      }
      break;
    case XN_CAT2: case XN_CAT3: case XN_CAT4: case XN_CAT5: {
      uint32_t ax = n->p.axis;
      if (ax >= r)
        return fail(d, "XnnpackBackend: concatenate axis %u on rank %u", ax,
                    r);
      memcpy(dims, a->dims, sizeof(uint32_t) * r);
      for (unsigned k = 1; k < n->n_in; k++) {
        const xnn_val *b = V(g, n->in[k]);
        if (b->rank != r)
          return fail(d, "XnnpackBackend: concatenate of ranks %u and %u", r,
                      b->rank);
        for (uint32_t i = 0; i < r; i++)
          if (i != ax && b->dims[i] != a->dims[i])
            return fail(d, "XnnpackBackend: concatenate inputs differ in dim "
                           "%u (%u)", i, b->dims[i]);
        dims[ax] += b->dims[ax];
      }
      break;
    }
    case XN_RESIZE_BILINEAR:
      if (r != 4)
        return fail(d, "XnnpackBackend: resize of rank %u (%u)", r, 0);
      dims[0] = a->dims[0];
      dims[1] = n->p.resize.h;
      dims[2] = n->p.resize.w;
      dims[3] = a->dims[3];
      break;
    case XN_SOFTMAX:
      if (r < 1) return fail(d, "XnnpackBackend: softmax of rank %u (%u)", r, 0);
      memcpy(dims, a->dims, sizeof(uint32_t) * r);
      break;
    default: /* element-wise unary */
      memcpy(dims, a->dims, sizeof(uint32_t) * r);
      break;
  }
  *rank = r;
  return true;
}

/* ---- kernels ----------------------------------------------------------- */

static void clamp_buf(float *p, size_t n, float lo, float hi) {
  if (lo == -INFINITY && hi == INFINITY) return;
  for (size_t i = 0; i < n; i++) p[i] = p[i] < lo ? lo : (p[i] > hi ? hi : p[i]);
}

/* Element strides of `v` broadcast to rank-6 `out` dims. */
static void bstrides(const xnn_val *v, size_t *st) {
  size_t s = 1;
  for (int i = XNN_MAX_DIMS - 1; i >= 0; i--) {
    int vi = i - (XNN_MAX_DIMS - (int)v->rank);
    uint32_t dim = vi >= 0 ? v->dims[vi] : 1;
    st[i] = dim == 1 ? 0 : s;
    s *= dim;
  }
}

/* Elements one task of a cheap element-wise loop should at least cover, and
 * of one with a transcendental function per element. */
#define GRAIN_CHEAP ((size_t)1 << 16)
#define GRAIN_COSTLY ((size_t)1 << 12)

static size_t grain_rows(size_t elems_per_row, size_t grain_elems) {
  return elems_per_row ? grain_elems / elems_per_row + 1 : 1;
}

/* A node split over index ranges (rows, tiles, channels) by et_parallel. */
typedef struct node_job {
  const xnn_graph *g;
  const xnn_node *n;
} node_job;

static void binary_rows(void *ctx, size_t begin, size_t end) {
  const node_job *J = (const node_job *)ctx;
  const xnn_graph *g = J->g;
  const xnn_node *n = J->n;
  const xnn_val *a = V(g, n->in[0]), *b = V(g, n->in[1]), *o = V(g, n->out);
  uint32_t od[XNN_MAX_DIMS];
  size_t sa[XNN_MAX_DIMS], sb[XNN_MAX_DIMS];
  for (int i = 0; i < XNN_MAX_DIMS; i++) {
    int oi = i - (XNN_MAX_DIMS - (int)o->rank);
    od[i] = oi >= 0 ? o->dims[oi] : 1;
  }
  bstrides(a, sa);
  bstrides(b, sb);
  const float *pa = a->data, *pb = b->data;
  float *po = o->data;
  size_t inner = od[5], ia = sa[5], ib = sb[5];
  uint32_t ctr[5] = {0};
  for (size_t i = 5, q = begin; i-- > 0;) { /* row `begin`'s index */
    ctr[i] = (uint32_t)(q % od[i]);
    q /= od[i];
  }
  for (size_t q = begin; q < end; q++) {
    size_t oa = 0, ob = 0;
    for (int i = 0; i < 5; i++) {
      oa += ctr[i] * sa[i];
      ob += ctr[i] * sb[i];
    }
    const float *x = pa + oa, *y = pb + ob;
    float *z = po + q * inner;
#define LOOP(expr)                                                           \
  if (ia == 1 && ib == 1)                                                    \
    for (size_t j = 0; j < inner; j++) {                                     \
      float u = x[j], v = y[j];                                              \
      z[j] = (expr);                                                         \
    }                                                                        \
  else                                                                       \
    for (size_t j = 0; j < inner; j++) {                                     \
      float u = x[j * ia], v = y[j * ib];                                    \
      z[j] = (expr);                                                         \
    }
    switch (n->type) {
      case XN_ADD: LOOP(u + v) break;
      case XN_SUBTRACT: LOOP(u - v) break;
      case XN_MULTIPLY: LOOP(u * v) break;
      case XN_DIV: LOOP(u / v) break;
      case XN_MINIMUM: LOOP(isnan(u) || isnan(v) ? NAN : (u < v ? u : v)) break;
      case XN_MAXIMUM: LOOP(isnan(u) || isnan(v) ? NAN : (u > v ? u : v)) break;
      case XN_PRELU: LOOP(u < 0.0f ? u * v : u) break;
      default: break;
    }
#undef LOOP
    for (int i = 4; i >= 0; i--) {
      if (++ctr[i] < od[i]) break;
      ctr[i] = 0;
    }
  }
  clamp_buf(po + begin * inner, (end - begin) * inner, n->lo, n->hi);
}

static void binary(const xnn_graph *g, const xnn_node *n) {
  const xnn_val *o = V(g, n->out);
  size_t inner = o->rank ? o->dims[o->rank - 1] : 1;
  size_t total = numel(o->rank, o->dims);
  if (!total) return;
  size_t outer = total / inner;
  node_job J = {g, n};
  et_parallel_for(g->par, outer,
                  grain_rows(inner, n->type == XN_DIV ? GRAIN_COSTLY * 4
                                                      : GRAIN_CHEAP),
                  binary_rows, &J);
}

static bool costly_unary(uint8_t type) {
  switch (type) {
    case XN_SIGMOID: case XN_SQRT: case XN_RSQRT: case XN_LOG: case XN_EXP:
    case XN_SIN: case XN_COS: case XN_TANH: case XN_GELU: case XN_ELU:
      return true;
    default:
      return false;
  }
}

static void unary_range(void *ctx, size_t begin, size_t end) {
  const node_job *J = (const node_job *)ctx;
  const xnn_node *n = J->n;
  const xnn_val *a = V(J->g, n->in[0]), *o = V(J->g, n->out);
  size_t cnt = end - begin;
  const float *x = a->data + begin;
  float *z = o->data + begin;
  float al = n->p.alpha;
  int vf = n->type == XN_EXP       ? ET_XNN_V_EXP
           : n->type == XN_SIGMOID ? ET_XNN_V_SIGMOID
           : n->type == XN_TANH    ? ET_XNN_V_TANH
           : n->type == XN_GELU    ? ET_XNN_V_GELU
                                   : -1;
  if (vf >= 0) {
    et_xnn_vfn_pick(vf)(cnt, x, z);
    clamp_buf(z, cnt, n->lo, n->hi);
    return;
  }
#define LOOP(expr)                         \
  for (size_t j = 0; j < cnt; j++) {       \
    float u = x[j];                        \
    z[j] = (expr);                         \
  }
  switch (n->type) {
    case XN_FLOOR: LOOP(floorf(u)) break;
    case XN_CEIL: LOOP(ceilf(u)) break;
    case XN_SQRT: LOOP(sqrtf(u)) break;
    case XN_RSQRT: LOOP(1.0f / sqrtf(u)) break;
    case XN_HARDSWISH:
      LOOP(u * fminf(fmaxf(u + 3.0f, 0.0f), 6.0f) * (1.0f / 6.0f)) break;
    case XN_NEGATE: LOOP(-u) break;
    case XN_SQUARE: LOOP(u * u) break;
    case XN_ABS: LOOP(fabsf(u)) break;
    case XN_LOG: LOOP(logf(u)) break;
    case XN_SIN: LOOP(sinf(u)) break;
    case XN_COS: LOOP(cosf(u)) break;
    case XN_ELU: LOOP(u > 0.0f ? u : al * expm1f(u)) break;
    case XN_LEAKY_RELU: LOOP(u >= 0.0f ? u : u * al) break;
    default: /* clamp, copy, convert */
      if (z != x) memmove(z, x, cnt * sizeof(float));
      break;
  }
#undef LOOP
  clamp_buf(z, cnt, n->lo, n->hi);
}

/* In place (z == x) is fine too: each index reads only its own element. */
static void unary(const xnn_graph *g, const xnn_node *n) {
  const xnn_val *o = V(g, n->out);
  node_job J = {g, n};
  et_parallel_for(g->par, numel(o->rank, o->dims),
                  costly_unary(n->type) ? GRAIN_COSTLY : GRAIN_CHEAP,
                  unary_range, &J);
}

static void softmax_rows(void *ctx, size_t begin, size_t end) {
  const node_job *J = (const node_job *)ctx;
  const xnn_val *a = V(J->g, J->n->in[0]), *o = V(J->g, J->n->out);
  size_t c = o->dims[o->rank - 1];
  et_xnn_softmax_fn *row = et_xnn_softmax_pick();
  for (size_t r = begin; r < end; r++) row(c, a->data + r * c, o->data + r * c);
}

static void softmax(const xnn_graph *g, const xnn_node *n) {
  const xnn_val *o = V(g, n->out);
  size_t c = o->dims[o->rank - 1];
  size_t rows = c ? numel(o->rank, o->dims) / c : 0;
  node_job J = {g, n};
  et_parallel_for(g->par, rows, grain_rows(c, GRAIN_COSTLY), softmax_rows, &J);
}

static void fully_connected(const xnn_graph *g, const xnn_node *n) {
  const xnn_val *a = V(g, n->in[0]), *o = V(g, n->out);
  size_t K = n->k, N = n->n;
  size_t M = K ? numel(a->rank, a->dims) / K : 0;
  const float *w = n->w;
  if (!w) {
    const xnn_val *f = V(g, n->in[1]);
    bool tw = n->flags & FLAG_TRANSPOSE_W;
    et_xnn_pack_b(n->scratch, f->data, K, N, tw ? N : 1, tw ? 1 : K);
    w = n->scratch;
  }
  if (K == 0) { /* M is then the input's row count, not numel / K */
    size_t rows = a->rank ? numel(a->rank - 1, a->dims) : 1;
    et_xnn_gemm_packed(rows, N, 0, NULL, 0, NULL, n->bias, o->data, N, n->lo,
                       n->hi);
    return;
  }
  et_xnn_gemm_packed_par(g->par, M, N, K, a->data, K, w, n->bias, o->data, N,
                         n->lo, n->hi);
}

/* Output rows [r0, r1) (row = batch * OH + oy) of an im2col convolution,
 * with im2col row buffer `col`; the GEMM splits over `par` when given. */
static void conv2d_rows(const xnn_graph *g, const xnn_node *n, size_t r0,
                        size_t r1, float *col, et_parallel *par) {
  const xnn_val *a = V(g, n->in[0]), *o = V(g, n->out);
  const xnn_conv *c = &n->p.conv;
  uint32_t H = a->dims[1], W = a->dims[2], C = a->dims[3];
  uint32_t OH = o->dims[1], OW = o->dims[2], OC = o->dims[3];
  size_t K = n->k, N = n->n, per = et_xnn_packed_floats(K, N);
  for (size_t r = r0; r < r1; r++) {
    uint32_t b = (uint32_t)(r / OH), oy = (uint32_t)(r % OH);
    for (uint32_t gi = 0; gi < c->groups; gi++) {
      for (uint32_t ox = 0; ox < OW; ox++) {
        float *row = col + (size_t)ox * K;
        for (uint32_t ky = 0; ky < c->kh; ky++) {
          int64_t iy = (int64_t)oy * c->sh + (int64_t)ky * c->dh - c->pt;
          int64_t ix0 = (int64_t)ox * c->sw - c->pl;
          if (c->groups == 1 && c->dw == 1 && iy >= 0 && iy < H) {
            /* One group, no dilation: the window row's taps are one run of
             * the input row (kw * C floats), zeros where it leaves it. */
            int64_t k0 = ix0 < 0 ? -ix0 : 0;
            int64_t k1 = (int64_t)W - ix0 < (int64_t)c->kw ? (int64_t)W - ix0
                                                             : c->kw;
            float *dst = row + (size_t)ky * c->kw * C;
            if (k1 <= k0) {
              memset(dst, 0, (size_t)c->kw * C * sizeof(float));
              continue;
            }
            memset(dst, 0, (size_t)k0 * C * sizeof(float));
            memcpy(dst + (size_t)k0 * C,
                   a->data + (((size_t)b * H + (size_t)iy) * W +
                              (size_t)(ix0 + k0)) * C,
                   (size_t)(k1 - k0) * C * sizeof(float));
            memset(dst + (size_t)k1 * C, 0,
                   (size_t)(c->kw - k1) * C * sizeof(float));
            continue;
          }
          for (uint32_t kx = 0; kx < c->kw; kx++) {
            int64_t ix = (int64_t)ox * c->sw + (int64_t)kx * c->dw - c->pl;
            float *dst = row + ((size_t)ky * c->kw + kx) * c->gic;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) {
              memset(dst, 0, c->gic * sizeof(float));
            } else {
              const float *src = a->data +
                                 (((size_t)b * H + (size_t)iy) * W +
                                  (size_t)ix) * C + (size_t)gi * c->gic;
              memcpy(dst, src, c->gic * sizeof(float));
            }
          }
        }
      }
      float *out = o->data + (((size_t)b * OH + oy) * OW) * OC +
                   (size_t)gi * N;
      et_xnn_gemm_packed_par(par, OW, N, K, col, K, n->w + gi * per,
                             n->bias ? n->bias + (size_t)gi * N : NULL, out,
                             OC, n->lo, n->hi);
    }
  }
}

typedef struct conv_job {
  const xnn_graph *g;
  const xnn_node *n;
  size_t rows, slots;
} conv_job;

/* Task s: its share of the rows, in im2col slot s (each slot is used by the
 * one call whose range holds it). */
static void conv2d_slots(void *ctx, size_t begin, size_t end) {
  const conv_job *J = (const conv_job *)ctx;
  for (size_t s = begin; s < end; s++)
    conv2d_rows(J->g, J->n, J->rows * s / J->slots,
                J->rows * (s + 1) / J->slots,
                J->n->scratch + s * J->n->scratch_floats, NULL);
}

static void conv2d(const xnn_graph *g, const xnn_node *n) {
  const xnn_val *a = V(g, n->in[0]), *o = V(g, n->out);
  uint32_t B = a->dims[0], H = a->dims[1], W = a->dims[2], C = a->dims[3];
  uint32_t OH = o->dims[1], OW = o->dims[2], OC = o->dims[3];
  size_t K = n->k, N = n->n;
  if (!n->scratch) { /* 1x1, stride 1, no padding, one group */
    et_xnn_gemm_packed_par(g->par, (size_t)B * H * W, N, K, a->data, C, n->w,
                           n->bias, o->data, OC, n->lo, n->hi);
    return;
  }
  /* Split the output rows over the im2col slots when each slot gets enough
   * work; else one slot, the GEMM of each row split instead. */
  size_t rows = (size_t)B * OH;
  uint64_t work = (uint64_t)rows * OW * OC * K; /* multiply-adds */
  /* Twice as many slots as threads (tasks are claimed as threads come
   * free, so a thread that starts late takes fewer rows, not half). */
  size_t threads = et_parallel_threads(g->par);
  size_t slots = threads > 1 ? 2 * threads : 1;
  if (slots > XNN_CONV_SLOTS) slots = XNN_CONV_SLOTS;
  if (slots > rows) slots = rows;
  if (work / ET_XNN_GRAIN_FMA < 2 * (uint64_t)slots) slots = 1;
  if (slots <= 1) {
    conv2d_rows(g, n, 0, rows, n->scratch, g->par);
    return;
  }
  conv_job J = {g, n, rows, slots};
  et_parallel_for(g->par, slots, 1, conv2d_slots, &J);
}

/* Window taps the vector depthwise path takes (8 x 8); larger windows and
 * channel multipliers above 1 take the plain loop. */
#define DW_MAX_TAPS 64

/* Output rows [begin, end) (row = batch * OH + oy). */
static void dwconv2d_rows(void *ctx, size_t begin, size_t end) {
  const node_job *J = (const node_job *)ctx;
  const xnn_node *n = J->n;
  const xnn_val *a = V(J->g, n->in[0]), *o = V(J->g, n->out);
  const xnn_conv *c = &n->p.conv;
  uint32_t H = a->dims[1], W = a->dims[2], C = a->dims[3];
  uint32_t OH = o->dims[1], OW = o->dims[2], OC = o->dims[3];
  uint32_t mult = c->goc; /* output channels per input channel */
  size_t window = (size_t)c->kh * c->kw;
  if (mult == 1 && window <= DW_MAX_TAPS) {
    /* The vector kernel over the taps inside the input: one call for the
     * run of pixels whose whole window row lies inside (their taps are one
     * pattern shifted along the row), one call per pixel at the edges. */
    et_xnn_dw_fn *pixel = et_xnn_dw_pick();
    const float *xs[DW_MAX_TAPS], *ws[DW_MAX_TAPS];
    /* Interior: ox * sw >= pl and ox * sw + (kw - 1) * dw - pl < W. */
    int64_t span = (int64_t)(c->kw - 1) * c->dw;
    int64_t lo = ((int64_t)c->pl + c->sw - 1) / c->sw;
    int64_t hi = (int64_t)W - 1 + c->pl - span < 0
                     ? 0
                     : ((int64_t)W - 1 + c->pl - span) / c->sw + 1;
    if (hi > (int64_t)OW) hi = OW;
    if (lo > hi) lo = hi;
    for (size_t r = begin; r < end; r++) {
      uint32_t b = (uint32_t)(r / OH), oy = (uint32_t)(r % OH);
      for (uint32_t ox = 0; ox < OW;) {
        size_t run = (int64_t)ox == lo && hi > lo ? (size_t)(hi - lo) : 1;
        size_t taps = 0;
        for (uint32_t ky = 0; ky < c->kh; ky++) {
          int64_t iy = (int64_t)oy * c->sh + (int64_t)ky * c->dh - c->pt;
          if (iy < 0 || iy >= H) continue;
          for (uint32_t kx = 0; kx < c->kw; kx++) {
            int64_t ix = (int64_t)ox * c->sw + (int64_t)kx * c->dw - c->pl;
            if (ix < 0 || ix >= W) continue;
            xs[taps] = a->data +
                       (((size_t)b * H + (size_t)iy) * W + (size_t)ix) * C;
            ws[taps++] = n->w + ((size_t)ky * c->kw + kx) * OC;
          }
        }
        pixel(OC, taps, xs, ws, n->bias,
              o->data + (((size_t)b * OH + oy) * OW + ox) * OC, n->lo, n->hi,
              run, (size_t)c->sw * C, OC);
        ox += (uint32_t)run;
      }
    }
    return;
  }
  for (size_t r = begin; r < end; r++) {
    uint32_t b = (uint32_t)(r / OH), oy = (uint32_t)(r % OH);
    {
      for (uint32_t ox = 0; ox < OW; ox++) {
        float *z = o->data + (((size_t)b * OH + oy) * OW + ox) * OC;
        for (uint32_t k = 0; k < OC; k++) z[k] = n->bias ? n->bias[k] : 0.0f;
        for (uint32_t ky = 0; ky < c->kh; ky++) {
          int64_t iy = (int64_t)oy * c->sh + (int64_t)ky * c->dh - c->pt;
          if (iy < 0 || iy >= H) continue;
          for (uint32_t kx = 0; kx < c->kw; kx++) {
            int64_t ix = (int64_t)ox * c->sw + (int64_t)kx * c->dw - c->pl;
            if (ix < 0 || ix >= W) continue;
            const float *x =
                a->data + (((size_t)b * H + (size_t)iy) * W + (size_t)ix) * C;
            const float *w = n->w + ((size_t)ky * c->kw + kx) * OC;
            if (mult == 1)
              for (uint32_t k = 0; k < OC; k++) z[k] += x[k] * w[k];
            else
              for (uint32_t k = 0; k < OC; k++) z[k] += x[k / mult] * w[k];
          }
        }
        clamp_buf(z, OC, n->lo, n->hi);
      }
    }
  }
}

/* A window node (depthwise convolution, pooling) split by output rows
 * (batch x height); `grain`: the work one task should at least do, in
 * window taps. */
static void window_rows(const xnn_graph *g, const xnn_node *n, size_t grain,
                        et_parallel_fn rows) {
  const xnn_val *o = V(g, n->out);
  const xnn_conv *c = &n->p.conv;
  node_job J = {g, n};
  size_t row = (size_t)o->dims[2] * o->dims[3] * c->kh * c->kw;
  et_parallel_for(g->par, (size_t)o->dims[0] * o->dims[1],
                  grain_rows(row, grain), rows, &J);
}

static void dwconv2d(const xnn_graph *g, const xnn_node *n) {
  window_rows(g, n, ET_XNN_GRAIN_FMA, dwconv2d_rows);
}

/* Output channels [begin, end) (channel = group * goc + oc): each task
 * scatters every input pixel into its own channels only. */
static void deconv2d_channels(void *ctx, size_t begin, size_t end) {
  const node_job *J = (const node_job *)ctx;
  const xnn_node *n = J->n;
  const xnn_val *a = V(J->g, n->in[0]), *o = V(J->g, n->out);
  const xnn_conv *c = &n->p.conv;
  uint32_t B = a->dims[0], H = a->dims[1], W = a->dims[2], C = a->dims[3];
  uint32_t OH = o->dims[1], OW = o->dims[2], OC = o->dims[3];
  size_t pixels = (size_t)B * OH * OW;
  for (size_t px = 0; px < pixels; px++)
    for (size_t k = begin; k < end; k++)
      o->data[px * OC + k] = n->bias ? n->bias[k] : 0.0f;
  for (uint32_t b = 0; b < B; b++)
    for (uint32_t iy = 0; iy < H; iy++)
      for (uint32_t ix = 0; ix < W; ix++) {
        const float *x = a->data + (((size_t)b * H + iy) * W + ix) * C;
        for (uint32_t ky = 0; ky < c->kh; ky++) {
          int64_t oy = (int64_t)iy * c->sh + (int64_t)ky * c->dh - c->pt;
          if (oy < 0 || oy >= OH) continue;
          for (uint32_t kx = 0; kx < c->kw; kx++) {
            int64_t ox = (int64_t)ix * c->sw + (int64_t)kx * c->dw - c->pl;
            if (ox < 0 || ox >= OW) continue;
            float *z = o->data + (((size_t)b * OH + (size_t)oy) * OW +
                                  (size_t)ox) * OC;
            for (size_t k = begin; k < end; k++) {
              size_t gi = k / c->goc, oc = k % c->goc;
              const float *w =
                  n->w + (((gi * c->goc + oc) * c->kh + ky) * c->kw + kx) *
                             c->gic;
              const float *xi = x + gi * c->gic;
              float s = 0.0f;
              for (uint32_t ci = 0; ci < c->gic; ci++) s += xi[ci] * w[ci];
              z[k] += s;
            }
          }
        }
      }
  for (size_t px = 0; px < pixels; px++) {
    float *z = o->data + px * OC;
    clamp_buf(z + begin, end - begin, n->lo, n->hi);
  }
}

static void deconv2d(const xnn_graph *g, const xnn_node *n) {
  const xnn_val *a = V(g, n->in[0]), *o = V(g, n->out);
  const xnn_conv *c = &n->p.conv;
  node_job J = {g, n};
  size_t per_channel = (size_t)a->dims[0] * a->dims[1] * a->dims[2] * c->kh *
                       c->kw * c->gic;
  et_parallel_for(g->par, o->dims[3], grain_rows(per_channel, ET_XNN_GRAIN_FMA),
                  deconv2d_channels, &J);
}

/* Output rows [begin, end) (row = batch * OH + oy). */
static void pool_rows(void *ctx, size_t begin, size_t end) {
  const node_job *J = (const node_job *)ctx;
  const xnn_node *n = J->n;
  const xnn_val *a = V(J->g, n->in[0]), *o = V(J->g, n->out);
  const xnn_conv *c = &n->p.conv;
  uint32_t H = a->dims[1], W = a->dims[2], C = a->dims[3];
  uint32_t OH = o->dims[1], OW = o->dims[2];
  bool mx = n->type == XN_MAX_POOL;
  for (size_t r = begin; r < end; r++) {
    uint32_t b = (uint32_t)(r / OH), oy = (uint32_t)(r % OH);
    {
      for (uint32_t ox = 0; ox < OW; ox++) {
        float *z = o->data + (((size_t)b * OH + oy) * OW + ox) * C;
        uint32_t cnt = 0;
        for (uint32_t k = 0; k < C; k++) z[k] = mx ? -INFINITY : 0.0f;
        for (uint32_t ky = 0; ky < c->kh; ky++) {
          int64_t iy = (int64_t)oy * c->sh + (int64_t)ky * c->dh - c->pt;
          if (iy < 0 || iy >= H) continue;
          for (uint32_t kx = 0; kx < c->kw; kx++) {
            int64_t ix = (int64_t)ox * c->sw + (int64_t)kx * c->dw - c->pl;
            if (ix < 0 || ix >= W) continue;
            const float *x =
                a->data + (((size_t)b * H + (size_t)iy) * W + (size_t)ix) * C;
            cnt++;
            if (mx)
              for (uint32_t k = 0; k < C; k++)
                z[k] = (x[k] > z[k] || isnan(x[k])) ? x[k] : z[k];
            else
              for (uint32_t k = 0; k < C; k++) z[k] += x[k];
          }
        }
        if (!mx) {
          float inv = cnt ? 1.0f / (float)cnt : 0.0f;
          for (uint32_t k = 0; k < C; k++) z[k] *= inv;
        }
        clamp_buf(z, C, n->lo, n->hi);
      }
    }
  }
}

static void pool(const xnn_graph *g, const xnn_node *n) {
  window_rows(g, n, GRAIN_CHEAP, pool_rows);
}

static void global_avg(const xnn_graph *g, const xnn_node *n) {
  const xnn_val *a = V(g, n->in[0]), *o = V(g, n->out);
  uint32_t B = a->dims[0], C = a->dims[a->rank - 1];
  size_t bc = (size_t)B * C;
  size_t S = bc ? numel(a->rank, a->dims) / bc : 0;
  for (uint32_t b = 0; b < B; b++) {
    float *z = o->data + (size_t)b * C;
    for (uint32_t k = 0; k < C; k++) z[k] = 0.0f;
    for (size_t s = 0; s < S; s++) {
      const float *x = a->data + ((size_t)b * S + s) * C;
      for (uint32_t k = 0; k < C; k++) z[k] += x[k];
    }
    float inv = S ? 1.0f / (float)S : 0.0f;
    for (uint32_t k = 0; k < C; k++) z[k] *= inv;
  }
  clamp_buf(o->data, (size_t)B * C, n->lo, n->hi);
}

typedef struct bmm_job {
  const xnn_graph *g;
  const xnn_node *n;
  et_parallel *par; /* for each batch's GEMM (NULL when batches split) */
} bmm_job;

/* Batches [begin, end) of the output (batch dims broadcast). */
static void bmm_batches(void *ctx, size_t begin, size_t end) {
  const bmm_job *J = (const bmm_job *)ctx;
  const xnn_node *n = J->n;
  const xnn_val *a = V(J->g, n->in[0]), *b = V(J->g, n->in[1]),
                *o = V(J->g, n->out);
  uint32_t r = o->rank;
  size_t M = o->dims[r - 2], N = o->dims[r - 1], K = a->dims[a->rank - 1];
  bool tb = n->flags & FLAG_TRANSPOSE_W;
  size_t sa[XNN_MAX_DIMS] = {0}, sb[XNN_MAX_DIMS] = {0};
  size_t stA = 1, stB = 1;
  for (int i = (int)r - 3; i >= 0; i--) {
    int ai = i - ((int)r - (int)a->rank), bi = i - ((int)r - (int)b->rank);
    uint32_t da = ai >= 0 ? a->dims[ai] : 1, db = bi >= 0 ? b->dims[bi] : 1;
    sa[i] = da == 1 ? 0 : stA;
    sb[i] = db == 1 ? 0 : stB;
    stA *= da;
    stB *= db;
  }
  for (size_t q = begin; q < end; q++) {
    size_t ia = 0, ib = 0, rest = q;
    for (int i = (int)r - 3; i >= 0; i--) {
      size_t ci = rest % o->dims[i];
      rest /= o->dims[i];
      ia += ci * sa[i];
      ib += ci * sb[i];
    }
    const float *pa = a->data + ia * M * K, *pb = b->data + ib * K * N;
    float *pc = o->data + q * M * N;
    if (!tb && K) {
      et_xnn_gemm_par(J->par, M, N, K, pa, K, pb, N, pc, N, n->lo, n->hi);
    } else {
      for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) {
          float s = 0.0f;
          for (size_t k = 0; k < K; k++)
            s += pa[i * K + k] * (tb ? pb[j * K + k] : pb[k * N + j]);
          pc[i * N + j] = s < n->lo ? n->lo : (s > n->hi ? n->hi : s);
        }
    }
  }
}

/* Many small batches (attention heads) split by batch; few large ones split
 * each GEMM into tiles. */
static void bmm(const xnn_graph *g, const xnn_node *n) {
  const xnn_val *a = V(g, n->in[0]), *o = V(g, n->out);
  uint32_t r = o->rank;
  size_t M = o->dims[r - 2], N = o->dims[r - 1], K = a->dims[a->rank - 1];
  size_t nb = numel(r - 2, o->dims);
  size_t per = M * N * (K ? K : 1);
  bool tb = n->flags & FLAG_TRANSPOSE_W;
  if (nb >= 2 * et_parallel_threads(g->par) || tb || !K) {
    bmm_job J = {g, n, NULL};
    et_parallel_for(g->par, nb, grain_rows(per, ET_XNN_GRAIN_FMA), bmm_batches,
                    &J);
  } else {
    bmm_job J = {g, n, g->par};
    bmm_batches(&J, 0, nb);
  }
}

/* ---- data movement, for any element size (float and int8 values) ------ */

/* A batch of 2-D transposes: z[b][j][i] = x[b][i][j] for i < rows,
 * j < cols; task t is the column block t (of TB columns) of every batch. */
#define TB 16
typedef struct tr2d_job {
  const uint8_t *x;
  uint8_t *z;
  size_t batch, rows, cols, es;
} tr2d_job;

#define TR2D_LOOP(T)                                                        \
  for (size_t b = 0; b < J->batch; b++) {                                   \
    const T *x = (const T *)J->x + b * R * Cc;                              \
    T *z = (T *)J->z + b * R * Cc;                                          \
    for (size_t j0 = begin * TB; j0 < end * TB && j0 < Cc; j0 += TB) {      \
      size_t j1 = j0 + TB < Cc ? j0 + TB : Cc;                              \
      for (size_t i0 = 0; i0 < R; i0 += TB) {                               \
        size_t i1 = i0 + TB < R ? i0 + TB : R;                              \
        for (size_t j = j0; j < j1; j++)                                    \
          for (size_t i = i0; i < i1; i++) z[j * R + i] = x[i * Cc + j];    \
      }                                                                     \
    }                                                                       \
  }

static void tr2d_blocks(void *ctx, size_t begin, size_t end) {
  const tr2d_job *J = (const tr2d_job *)ctx;
  size_t R = J->rows, Cc = J->cols;
  if (J->es == 4) {
    TR2D_LOOP(uint32_t)
  } else {
    TR2D_LOOP(uint8_t)
  }
}
#undef TR2D_LOOP

void et_xnn_transpose(const xnn_graph *g, const xnn_val *a, const xnn_val *o,
                      const uint32_t *perm, size_t es) {
  uint32_t r = o->rank;
  /* Output dims whose input dims follow each other in the input move
   * together: merged, most permutations are one batched 2-D transpose
   * (NCHW <-> NHWC: [N][C][HW] <-> [N][HW][C]). */
  {
    size_t md[XNN_MAX_DIMS]; /* merged output dims, in input order below */
    uint32_t first[XNN_MAX_DIMS], mr = 0;
    for (uint32_t i = 0; i < r; i++) {
      uint32_t p = perm[i];
      if (mr && p == first[mr - 1] + 1) {
        md[mr - 1] *= a->dims[p];
        first[mr - 1] = p; /* the last input dim of the group */
      } else {
        md[mr] = a->dims[p];
        first[mr++] = p;
      }
    }
    /* Groups in input order: g0 < g1 (2-D) or g0 < g1 < g2 with output
     * order (g0, g2, g1) (batched). Group k's last input dim is first[k]. */
    size_t batch = 0, rows = 0, cols = 0;
    if (mr == 2 && first[1] < first[0]) {
      batch = 1, rows = md[1], cols = md[0];
    } else if (mr == 3 && first[0] < first[2] && first[2] < first[1]) {
      batch = md[0], rows = md[2], cols = md[1];
    }
    if (batch) {
      tr2d_job J = {(const uint8_t *)a->data, (uint8_t *)o->data, batch, rows, cols, es};
      size_t blocks = (cols + TB - 1) / TB;
      size_t per = batch * rows * TB;
      et_parallel_for(g->par, blocks, per ? (1u << 16) / per + 1 : blocks,
                      tr2d_blocks, &J);
      return;
    }
  }
  size_t ist[XNN_MAX_DIMS], s = 1, st[XNN_MAX_DIMS];
  for (int i = (int)r - 1; i >= 0; i--) {
    ist[i] = s;
    s *= a->dims[i];
  }
  for (uint32_t i = 0; i < r; i++) st[i] = ist[perm[i]];
  size_t total = numel(r, o->dims);
  if (total == 0) return;
  uint32_t ctr[XNN_MAX_DIMS] = {0};
  size_t inner = r ? o->dims[r - 1] : 1, is = r ? st[r - 1] : 1;
  for (size_t q = 0; q < total; q += inner) {
    size_t off = 0;
    for (uint32_t i = 0; i + 1 < r; i++) off += ctr[i] * st[i];
    uint8_t *z = (uint8_t *)o->data + q * es;
    const uint8_t *x = (const uint8_t *)a->data + off * es;
    if (es == 4)
      for (size_t j = 0; j < inner; j++) ((uint32_t *)z)[j] = ((const uint32_t *)x)[j * is];
    else
      for (size_t j = 0; j < inner; j++) z[j] = x[j * is];
    for (int i = (int)r - 2; i >= 0; i--) {
      if (++ctr[i] < o->dims[i]) break;
      ctr[i] = 0;
    }
  }
}

void et_xnn_box_copy(const void *src, const uint32_t *sdims, void *dst,
                     const uint32_t *ddims, uint32_t r, const uint32_t *off,
                     const uint32_t *box, bool into, size_t es) {
  size_t ss[XNN_MAX_DIMS], ds[XNN_MAX_DIMS], s1 = 1, s2 = 1;
  for (int i = (int)r - 1; i >= 0; i--) {
    ss[i] = s1;
    ds[i] = s2;
    s1 *= sdims[i];
    s2 *= ddims[i];
  }
  size_t total = numel(r, box);
  if (total == 0) return;
  size_t inner = r ? box[r - 1] : 1;
  uint32_t ctr[XNN_MAX_DIMS] = {0};
  for (size_t q = 0; q < total; q += inner) {
    size_t big = 0, small = 0;
    for (uint32_t i = 0; i < r; i++) {
      size_t c = ctr[i];
      if (into) {
        small += c * ss[i];
        big += (c + off[i]) * ds[i];
      } else {
        big += (c + off[i]) * ss[i];
        small += c * ds[i];
      }
    }
    if (into)
      memcpy((uint8_t *)dst + big * es, (const uint8_t *)src + small * es, inner * es);
    else
      memcpy((uint8_t *)dst + small * es, (const uint8_t *)src + big * es, inner * es);
    for (int i = (int)r - 2; i >= 0; i--) {
      if (++ctr[i] < box[i]) break;
      ctr[i] = 0;
    }
  }
}

void et_xnn_cat(const xnn_graph *g, const xnn_node *n, size_t es) {
  const xnn_val *o = V(g, n->out);
  uint32_t ax = n->p.axis, r = o->rank;
  size_t outer = numel(ax, o->dims), inner = numel(r - ax - 1, o->dims + ax + 1);
  size_t orow = (size_t)o->dims[ax] * inner * es, at = 0;
  uint8_t *z = (uint8_t *)o->data;
  for (unsigned k = 0; k < n->n_in; k++) {
    const xnn_val *a = V(g, n->in[k]);
    size_t row = (size_t)a->dims[ax] * inner * es;
    if (row)
      for (size_t q = 0; q < outer; q++)
        memcpy(z + q * orow + at, (const uint8_t *)a->data + q * row, row);
    at += row;
  }
}

static void resize(const xnn_graph *g, const xnn_node *n) {
  const xnn_val *a = V(g, n->in[0]), *o = V(g, n->out);
  uint32_t B = a->dims[0], H = a->dims[1], W = a->dims[2], C = a->dims[3];
  uint32_t OH = o->dims[1], OW = o->dims[2];
  bool ac = n->flags & FLAG_ALIGN_CORNERS, legacy = n->flags & FLAG_LEGACY;
  if (!H || !W || !OH || !OW) return;
  float sy = ac ? (OH > 1 ? (float)(H - 1) / (float)(OH - 1) : 0.0f)
                : (float)H / (float)OH;
  float sx = ac ? (OW > 1 ? (float)(W - 1) / (float)(OW - 1) : 0.0f)
                : (float)W / (float)OW;
  for (uint32_t b = 0; b < B; b++)
    for (uint32_t oy = 0; oy < OH; oy++) {
      float fy = ac || legacy ? (float)oy * sy : ((float)oy + 0.5f) * sy - 0.5f;
      if (fy < 0) fy = 0;
      uint32_t y0 = (uint32_t)fy;
      if (y0 > H - 1) y0 = H - 1;
      uint32_t y1 = y0 + 1 < H ? y0 + 1 : H - 1;
      float ly = fy - (float)y0;
      for (uint32_t ox = 0; ox < OW; ox++) {
        float fx =
            ac || legacy ? (float)ox * sx : ((float)ox + 0.5f) * sx - 0.5f;
        if (fx < 0) fx = 0;
        uint32_t x0 = (uint32_t)fx;
        if (x0 > W - 1) x0 = W - 1;
        uint32_t x1 = x0 + 1 < W ? x0 + 1 : W - 1;
        float lx = fx - (float)x0;
        const float *p00 = a->data + (((size_t)b * H + y0) * W + x0) * C;
        const float *p01 = a->data + (((size_t)b * H + y0) * W + x1) * C;
        const float *p10 = a->data + (((size_t)b * H + y1) * W + x0) * C;
        const float *p11 = a->data + (((size_t)b * H + y1) * W + x1) * C;
        float *z = o->data + (((size_t)b * OH + oy) * OW + ox) * C;
        for (uint32_t k = 0; k < C; k++) {
          float top = p00[k] + (p01[k] - p00[k]) * lx;
          float bot = p10[k] + (p11[k] - p10[k]) * lx;
          z[k] = top + (bot - top) * ly;
        }
      }
    }
}

et_status et_xnn_run(const xnn_graph *g, const xnn_node *n, et_diag *d) {
  const xnn_val *o = V(g, n->out);
  if (et_xnn_is_quant_node(g, n)) {
    /* The int8 im2col row was sized for the declared output width. */
    if (n->type == XN_CONV2D && n->q &&
        (size_t)o->dims[2] * n->q->kp > n->scratch_floats)
      return et_diag_set(d, ET_INVALID_ARGUMENT,
                         "XnnpackBackend: convolution output width %u "
                         "exceeds the exported bound", o->dims[2]);
    return et_xnn_qrun(g, n, d);
  }
  switch (n->type) {
    case XN_ADD: case XN_DIV: case XN_MINIMUM: case XN_MULTIPLY:
    case XN_SUBTRACT: case XN_MAXIMUM: case XN_PRELU:
      binary(g, n);
      break;
    case XN_FULLY_CONNECTED: fully_connected(g, n); break;
    case XN_CONV2D:
      /* The im2col row was sized for the declared output width. */
      if (n->scratch && (size_t)o->dims[2] * n->k > n->scratch_floats)
        return et_diag_set(d, ET_INVALID_ARGUMENT,
                           "XnnpackBackend: convolution output width %u "
                           "exceeds the exported bound", o->dims[2]);
      conv2d(g, n);
      break;
    case XN_DW_CONV2D: dwconv2d(g, n); break;
    case XN_DECONV2D: deconv2d(g, n); break;
    case XN_AVG_POOL: case XN_MAX_POOL: pool(g, n); break;
    case XN_GLOBAL_AVG_POOL: global_avg(g, n); break;
    case XN_BMM: bmm(g, n); break;
    case XN_SOFTMAX: softmax(g, n); break;
    case XN_TRANSPOSE:
      et_xnn_transpose(g, V(g, n->in[0]), o, n->p.shape.a, sizeof(float));
      break;
    case XN_RESHAPE: {
      const xnn_val *a = V(g, n->in[0]);
      size_t cnt = numel(o->rank, o->dims);
      if (cnt && o->data != a->data)
        memmove(o->data, a->data, cnt * sizeof(float));
      break;
    }
    case XN_SLICE: {
      const xnn_val *a = V(g, n->in[0]);
      et_xnn_box_copy(a->data, a->dims, o->data, o->dims, o->rank, n->p.shape.a,
                      o->dims, false, sizeof(float));
      break;
    }
    case XN_CONSTANT_PAD: {
      const xnn_val *a = V(g, n->in[0]);
      size_t cnt = numel(o->rank, o->dims);
      for (size_t i = 0; i < cnt; i++) o->data[i] = n->p.shape.value;
      et_xnn_box_copy(a->data, a->dims, o->data, o->dims, o->rank, n->p.shape.a,
                      a->dims, true, sizeof(float));
      break;
    }
    case XN_CAT2: case XN_CAT3: case XN_CAT4: case XN_CAT5:
      et_xnn_cat(g, n, sizeof(float));
      break;
    case XN_RESIZE_BILINEAR: resize(g, n); break;
    default: unary(g, n); break;
  }
  return ET_OK;
}
