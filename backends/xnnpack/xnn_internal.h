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
} xnn_val;

typedef struct xnn_conv {
  uint32_t pt, pr, pb, pl, kh, kw, sh, sw, dh, dw, gic, goc, groups, ah, aw;
} xnn_conv;

typedef struct xnn_node {
  uint8_t type;
  uint8_t n_in;
  uint32_t in[5];
  uint32_t out;
  uint32_t flags;
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
/* Run one node on current dims and data. */
et_status et_xnn_run(const xnn_graph *g, const xnn_node *n, et_diag *diag);

#endif
