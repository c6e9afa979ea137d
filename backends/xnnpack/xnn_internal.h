/*
 * Private to backends/xnnpack: the verified graph the CPU backend executes.
 *
 * Values are indexed by their serialized id (id_out). Every value has a rank
 * and a bound (the declared dims: upstream writes upper bounds for dynamic
 * dims); at execute the current dims are propagated from the inputs and must
 * fit the storage reserved for the bound.
 */
#ifndef EDGETORCH_XNN_INTERNAL_H
#define EDGETORCH_XNN_INTERNAL_H

#include <edgetorch/backend.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XNN_MAX_DIMS 6
/* Most elements of one tensor: 2^40 where size_t has 64 bits, 2^28 (1 GiB
 * of float) on 32-bit targets, so element and byte counts cannot wrap. */
#if SIZE_MAX > 0xFFFFFFFFu
#define XNN_MAX_ELEMS ((size_t)1 << 40)
#else
#define XNN_MAX_ELEMS ((size_t)1 << 28)
#endif
#define XNN_INVALID_ID 0xFFFFFFFFu
/* Convolutions through im2col split their output rows over at most this
 * many threads, each with its own im2col row in the node's scratch (which
 * holds this many rows): more threads than slots share the slots' work. */
#ifndef XNN_CONV_SLOTS
#define XNN_CONV_SLOTS 4u
#endif

/* XNodeUnion tags (schema.fbs order). */
enum {
  XN_ADD = 1, XN_FULLY_CONNECTED, XN_SOFTMAX, XN_SIGMOID, XN_TRANSPOSE,
  XN_CLAMP, XN_CONV2D, XN_DIV, XN_RESIZE_BILINEAR, XN_CONSTANT_PAD,
  XN_AVG_POOL, XN_MINIMUM, XN_DW_CONV2D, XN_MAX_POOL, XN_MULTIPLY,
  XN_SUBTRACT, XN_FLOOR, XN_CONVERT, XN_GLOBAL_AVG_POOL, XN_RESHAPE,
  XN_ARGMAX_POOL, XN_SQRT, XN_CEIL, XN_HARDSWISH, XN_LEAKY_RELU, XN_MAXIMUM,
  XN_NEGATE, XN_SQUARE, XN_ELU, XN_ABS, XN_PRELU, XN_CAT2, XN_CAT3, XN_CAT4,
  XN_SLICE, XN_SDPA, XN_BMM, XN_CAT5, XN_DECONV2D, XN_RSQRT, XN_LOG, XN_GELU,
  XN_TANH, XN_EXP, XN_SIN, XN_COPY, XN_COS, XN_NODE_END
};

enum { VK_UNUSED = 0, VK_CONST, VK_INPUT, VK_OUTPUT, VK_INTERNAL };

typedef struct xnn_val {
  uint8_t kind;
  uint8_t rank;
  uint8_t written; /* init: some node (or the caller) writes it */
  uint32_t ext; /* args index for inputs/outputs */
  uint32_t bound[XNN_MAX_DIMS];
  uint32_t dims[XNN_MAX_DIMS]; /* current */
  size_t cap;                  /* elements the storage holds */
  float *data;
  uint32_t const_idx;          /* constant_data entry (VK_CONST) */
  /* Quantization (xnn_q.c): XNNDatatype, bytes per element, and the
   * parameters. data points at esize-byte elements (float* by history). */
  uint8_t dt, esize, qkind; /* qkind: XQ_* */
  float qs;                 /* per tensor: scale */
  int32_t qz;               /* per tensor: zero point */
  uint32_t qch, qgroup, qnscale, qscale_buf; /* per channel / group */
  uint32_t qscale_pos;      /* inline scale vector: flatbuffer position */
  size_t rcap;              /* qdint8: rows rs and rz hold */
  float *rs;                /* qdint8: per-row scales (bound rows) */
  int32_t *rz;              /* qdint8: per-row zero points */
  int32_t *ra;              /* qdint8: per-row sums of 32-element chunks */
} xnn_val;

enum { XQ_NONE = 0, XQ_CHANNEL = 1, XQ_TENSOR = 2, XQ_TOKEN = 3,
       XQ_GROUP = 4 };
enum { XDT_F32 = 1, XDT_QINT8 = 3, XDT_QUINT8 = 4, XDT_QINT32 = 5,
       XDT_QCINT8 = 6, XDT_QCINT32 = 7, XDT_QCINT4 = 8, XDT_QDINT8 = 9,
       XDT_QBINT4 = 10 };

/* Bounds that keep int8 sums inside int32: terms per sum (each at most
 * 255 * 128 in magnitude) and the int32 bias. */
#define XNN_Q8_MAX_K 32768u
#define XNN_Q8_MAX_BIAS ((int64_t)1 << 30)

/* Prepared weights of a quantized FC / convolution (xnn_q.c). */
typedef struct xnn_qprep {
  uint8_t kind;     /* QP_* */
  int8_t *w8;       /* packed int8 columns (et_xnn_qpack_s8), per group */
  uint8_t *w4;      /* packed 4-bit columns (et_xnn_qpack_4) */
  float *cs, *q4;   /* 4-bit: chunk scales, per-column correction */
  int32_t *bias;    /* static: int32 bias with -za*colsum folded */
  int32_t *colsum;  /* dynamic int8: column sums */
  float *scale;     /* static: requant multipliers; dynamic: weight scale */
  float *biasf;     /* dynamic: fp32 bias or NULL */
  int32_t za, zo, qmin, qmax;
  size_t kp;        /* packed K */
  size_t wstride;   /* static conv: packed bytes per group */
} xnn_qprep;
enum { QP_NONE = 0, QP_S8 = 1, QP_DQ8 = 2, QP_DQ4 = 3 };

typedef struct xnn_conv {
  uint32_t pt, pr, pb, pl, kh, kw, sh, sw, dh, dw, gic, goc, groups, ah, aw;
} xnn_conv;

typedef struct xnn_node {
  uint8_t type;
  uint8_t n_in;
  uint32_t in[5];
  uint32_t out;
  uint32_t flags;
  uint8_t fuse_clamp; /* the next node is a clamp the untraced loop folds in */
  float lo, hi; /* output clamp */
  union {
    xnn_conv conv; /* conv, depthwise, deconv; pooling uses pt..dw */
    struct {
      uint32_t n;
      uint32_t a[XNN_MAX_DIMS], b[XNN_MAX_DIMS];
      float value;
    } shape; /* transpose perm (a), reshape (a), slice (a offsets, b sizes),
                pad (a pre, b post, value) */
    uint32_t axis;
    float alpha; /* elu, leaky relu */
    struct {
      uint32_t h, w;
    } resize;
  } p;
  const float *w;    /* packed filter (FC, conv, deconv, depthwise) */
  const float *bias; /* copied bias or NULL */
  size_t k, n;       /* FC/conv GEMM sizes per group */
  float *scratch;    /* conv: XNN_CONV_SLOTS im2col rows; FC: packed filter */
  xnn_qprep *q;      /* quantized nodes: prepared weights, or NULL */
  size_t scratch_floats; /* conv: one slot's floats */
} xnn_node;

typedef struct xnn_graph {
  uint32_t n_vals, n_nodes, n_ext;
  xnn_val *vals;
  xnn_node *nodes;
  et_parallel *par; /* execute: the method's parallel-for hook or NULL */
} xnn_graph;

/* Shape of a node's output from its inputs' current dims; false (with a
 * message in diag) when they do not fit together. */
bool et_xnn_infer(const xnn_graph *g, const xnn_node *n, uint32_t *rank,
                  uint32_t *dims, et_diag *diag);
/* Quantized nodes (xnn_q.c): whether node n runs on quantized values
 * (any input or output not fp32), their init-time checks, and their run. */
bool et_xnn_is_quant_node(const xnn_graph *g, const xnn_node *n);
et_status et_xnn_qcheck(const xnn_graph *g, const xnn_node *n, uint32_t i,
                        et_diag *diag);
et_status et_xnn_qrun(const xnn_graph *g, const xnn_node *n, et_diag *diag);
/* Data movement of `es`-byte elements (4: float, 1: int8), shared by the
 * float and the quantized nodes (xnn_ops.c). Transpose: o = a permuted by
 * perm (a batched 2-D transpose when the permutation merges into one, in
 * parallel over g->par). Box copy: the box of `box` dims at `off` in src
 * into dense dst (slice), or dense src into the box at `off` of dst (into:
 * pad). Cat: node n's inputs along its axis. */
void et_xnn_transpose(const xnn_graph *g, const xnn_val *a, const xnn_val *o,
                      const uint32_t *perm, size_t es);
void et_xnn_box_copy(const void *src, const uint32_t *sdims, void *dst,
                     const uint32_t *ddims, uint32_t r, const uint32_t *off,
                     const uint32_t *box, bool into, size_t es);
void et_xnn_cat(const xnn_graph *g, const xnn_node *n, size_t es);
/* Run one node on current dims and data. */
et_status et_xnn_run(const xnn_graph *g, const xnn_node *n, et_diag *diag);

#endif
