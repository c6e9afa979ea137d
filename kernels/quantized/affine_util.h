/*
 * Helpers of torchao's affine quantization kernels (op_quantize_affine.c,
 * op_dequantize_affine.c, op_choose_qparams_affine.c): the block geometry
 * a block_size argument describes, torchao's target dtypes and quant_min /
 * quant_max defaults, and PyTorch's arithmetic in Float, Half, BFloat16 or
 * Double step by step.
 *
 * Values are carried as doubles that hold a value of some float dtype
 * exactly; et_qa_round(dtype, v) is the rounding a PyTorch tensor of that
 * dtype applies (Half and BFloat16 through float, as c10 converts). An
 * operation "in dtype T" computes in T's opmath type (float for Float, Half
 * and BFloat16; double for Double) and rounds the result to T, as
 * PyTorch's CPU kernels do. Needs float arithmetic without excess precision
 * (FLT_EVAL_METHOD 0), like quant_util.h.
 *
 * Pure and thread-safe; no memory is allocated.
 */
#ifndef ET_KERNELS_QUANTIZED_AFFINE_UTIL_H
#define ET_KERNELS_QUANTIZED_AFFINE_UTIL_H

#include "quantized/quant_util.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * How a block_size argument cuts a tensor (torchao's _get_reduction_params):
 * along dim d a block is blen[d] elements long and there are groups[d]
 * blocks. block_size[d] == 1: one block per element (blen 1); 1 <
 * block_size[d] < size: size / block_size[d] blocks (block_size must divide
 * the size); block_size[d] == size: one block over the whole dim. Blocks
 * are numbered row-major over groups (the layout torchao's scale.view()
 * reads).
 */
typedef struct et_qa_blocks {
  uint32_t rank;
  size_t sizes[ET_MAX_RANK];
  size_t blen[ET_MAX_RANK];
  size_t groups[ET_MAX_RANK];
  bool reduced[ET_MAX_RANK]; /* torchao reduces over this dim (amin/amax) */
  size_t nblocks;            /* product of groups */
  size_t numel;              /* product of sizes */
} et_qa_blocks;

/* Read block_size (an int list of in's rank) and fill `out`; named errors
 * for a length other than in's rank, a size below 1 (unless it equals the
 * dim's size) and a size that does not divide its dim. */
et_status et_qa_blocks_init(et_kernel_ctx *ctx, const et_tensor *in,
                            const et_value *block_size, et_qa_blocks *out);

/* The block element (row-major index) `idx` (a multi-index of b's rank)
 * belongs to, for the first element of the row `idx` starts; elements j of
 * that row (along the last dim) belong to block base + j / et_qa_row_blen. */
static inline size_t et_qa_row_base(const et_qa_blocks *b, const size_t *idx) {
  size_t p = 0;
  for (uint32_t d = 0; d + 1 < b->rank; d++) p = p * b->groups[d] + idx[d] / b->blen[d];
  return b->rank ? p * b->groups[b->rank - 1] : 0;
}
static inline size_t et_qa_row_len(const et_qa_blocks *b) {
  return b->rank ? b->sizes[b->rank - 1] : 1;
}
static inline size_t et_qa_row_blen(const et_qa_blocks *b) {
  return b->rank ? b->blen[b->rank - 1] : 1;
}
/* Advance the multi-index of a row (dims but the last) to the next row. */
static inline void et_qa_row_next(const et_qa_blocks *b, size_t *idx) {
  for (uint32_t d = b->rank > 0 ? b->rank - 1 : 0; d-- > 0;) {
    if (++idx[d] < b->sizes[d]) return;
    idx[d] = 0;
  }
}

/*
 * A target dtype of torchao's affine ops (its _DTYPE_TO_QVALUE_BOUNDS
 * without the sub-byte dtypes a program cannot name): Byte, Char, Short or
 * Int, with its bounds. `name` names the argument.
 */
et_status et_qa_target_dtype(et_kernel_ctx *ctx, const et_value *v, const char *name,
                             int *out_dtype, int64_t *out_lo, int64_t *out_hi);

/* quant_min / quant_max (Scalar?: None gives the dtype's bound; Int,
 * Double or Bool) checked against the target dtype's bounds, as torchao's
 * _get_and_check_qmin_qmax. */
et_status et_qa_qrange(et_kernel_ctx *ctx, const et_value *qmin, const et_value *qmax,
                       int dtype, double *out_min, double *out_max);

/* A float dtype (Float, Half, BFloat16, Double). */
static inline bool et_qa_is_float(int dt) {
  return dt == ET_FLOAT || dt == ET_HALF || dt == ET_BFLOAT16 || dt == ET_DOUBLE;
}

/* A per-block parameter tensor (scale or zero_point): contiguous, nblocks
 * elements; a scale is a float dtype, a zero point an integer (Byte, Char,
 * Short, Int, Long) or float dtype. */
et_status et_qa_check_param(et_kernel_ctx *ctx, const et_tensor *t, const char *name,
                            size_t nblocks, bool scale);

/* PyTorch's type promotion of two float dtypes. */
static inline int et_qa_promote(int a, int b) {
  if (a == b) return a;
  if (a == ET_DOUBLE || b == ET_DOUBLE) return ET_DOUBLE;
  return ET_FLOAT; /* Half with BFloat16, or either with Float */
}

/* v rounded to dtype `dt` (static_cast<T>(double) in c10). */
static inline double et_qa_round(int dt, double v) {
  switch (dt) {
  case ET_DOUBLE: return v;
  case ET_FLOAT: return (float)v;
  case ET_HALF: return et_half_to_float(et_float_to_half((float)v));
  default: return et_bf16_to_float(et_float_to_bf16((float)v));
  }
}

/* An integer converted to float dtype `dt` (static_cast<T>(int64_t):
 * through float for the 16-bit dtypes). */
static inline double et_qa_from_int(int dt, int64_t v) {
  return dt == ET_DOUBLE ? (double)v : et_qa_round(dt, (double)(float)v);
}

/* a op b in dtype t (a and b exact in t). */
static inline double et_qa_mul(int t, double a, double b) {
  return t == ET_DOUBLE ? a * b : et_qa_round(t, (double)((float)a * (float)b));
}
static inline double et_qa_div(int t, double a, double b) {
  return t == ET_DOUBLE ? a / b : et_qa_round(t, (double)((float)a / (float)b));
}
static inline double et_qa_add(int t, double a, double b) {
  return t == ET_DOUBLE ? a + b : et_qa_round(t, (double)((float)a + (float)b));
}
static inline double et_qa_sub(int t, double a, double b) {
  return t == ET_DOUBLE ? a - b : et_qa_round(t, (double)((float)a - (float)b));
}
/* torch.round (half to even) of a value of dtype t. */
static inline double et_qa_rint(int t, double a) {
  return t == ET_DOUBLE ? nearbyint(a) : (double)et_q_rintf((float)a);
}

/* Element i of an integer (Byte, Char, Short, UInt16, Int, Long) or float
 * tensor converted to float dtype `dt`, as tensor.to(dt) does. */
static inline double et_qa_get_as(const void *data, int src, size_t i, int dt) {
  if (et_qa_is_float(src)) return et_qa_round(dt, et_q_get_real(data, src, i));
  return et_qa_from_int(dt, et_q_get_int(data, src, i));
}

/* A float value converted to an integer dtype as PyTorch does on x86-64
 * (tensor.to(dtype)): NaN and values beyond int32 (int64 for Byte and
 * Long) give that type's minimum, then 8- and 16-bit dtypes wrap. */
static inline int64_t et_qa_to_int(int dt, double v) {
  switch (dt) {
  case ET_BYTE: return (uint8_t)(uint64_t)et_f64_to_i64(v);
  case ET_CHAR: return (int8_t)(uint8_t)(uint32_t)et_f64_to_i32(v);
  case ET_SHORT: return (int16_t)(uint16_t)(uint32_t)et_f64_to_i32(v);
  case ET_INT: return et_f64_to_i32(v);
  default: return et_f64_to_i64(v);
  }
}

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_QUANTIZED_AFFINE_UTIL_H */
