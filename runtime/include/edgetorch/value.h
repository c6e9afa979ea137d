/*
 * Tensors and values: what instructions read and write.
 *
 * et_tensor describes a dense tensor: dtype, rank, sizes, dim order, strides
 * (derived from sizes and dim order) and a data pointer. A method's tensors
 * live in the method arena; their data lives in a caller's planned buffer, in
 * the program bytes (constants, used in place) or in caller memory (unplanned
 * inputs). Tensors never own memory.
 *
 * et_value is upstream's EValue: a tagged union over None, Int, Double, Bool,
 * String, Tensor and lists. A value's tag is fixed when a method is
 * initialized and kernels may rely on the tags their signature declares (see
 * kernel.h), with one exception that upstream's runtime makes too: the
 * scalar prim operators (executorch_prim::*) store their result as a value
 * of the result's kind, so a scalar return slot may change among Int, Double
 * and Bool (upstream's exporter declares them all Int). A kernel that reads
 * such a value by its declared kind validates it as it does any integer or
 * bool a program supplies.
 *
 * Thread-safety: none; a method and its values belong to one thread at a time.
 */
#ifndef EDGETORCH_VALUE_H
#define EDGETORCH_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Upstream's ScalarType numbering (schema/scalar_type.fbs). */
typedef enum et_dtype {
  ET_BYTE = 0,  /* uint8 */
  ET_CHAR = 1,  /* int8 */
  ET_SHORT = 2, /* int16 */
  ET_INT = 3,   /* int32 */
  ET_LONG = 4,  /* int64 */
  ET_HALF = 5,  /* IEEE binary16 */
  ET_FLOAT = 6,
  ET_DOUBLE = 7,
  ET_COMPLEX_HALF = 8,
  ET_COMPLEX_FLOAT = 9,
  ET_COMPLEX_DOUBLE = 10,
  ET_BOOL = 11,
  ET_QINT8 = 12,
  ET_QUINT8 = 13,
  ET_QINT32 = 14,
  ET_BFLOAT16 = 15,
  ET_QUINT4X2 = 16,
  ET_QUINT2X4 = 17,
  ET_BITS16 = 22,
  ET_FLOAT8E5M2 = 23,
  ET_FLOAT8E4M3FN = 24,
  ET_FLOAT8E5M2FNUZ = 25,
  ET_FLOAT8E4M3FNUZ = 26,
  ET_UINT16 = 27,
  ET_UINT32 = 28,
  ET_UINT64 = 29,
  ET_DTYPE_END = 30
} et_dtype;

/* Bytes per element, or 0 for a dtype edgetorch does not know. */
size_t et_dtype_size(int dtype);
/* "Float", "Long", ... (upstream's names), or "Unknown". */
const char *et_dtype_name(int dtype);

/* Tensor shape dynamism, as in the schema. */
typedef enum et_dynamism {
  ET_STATIC = 0,
  ET_DYNAMIC_BOUND = 1,
  ET_DYNAMIC_UNBOUND = 2
} et_dynamism;

/* Largest rank a tensor may have (upstream's kTensorDimensionLimit). */
#define ET_MAX_RANK 16

typedef struct et_tensor {
  void *data;               /* NULL until set (unplanned input/output) */
  int32_t *sizes;           /* [rank]; mutable for dynamic tensors */
  const uint8_t *dim_order; /* [rank]; outermost to innermost */
  int64_t *strides;         /* [rank], in elements, derived from sizes */
  size_t capacity;          /* bytes usable at data (the planned bound) */
  uint32_t rank;
  int8_t dtype;             /* et_dtype */
  uint8_t dynamism;         /* et_dynamism */
  uint8_t flags;            /* ET_TENSOR_* below */
  uint8_t reserved;
} et_tensor;

#define ET_TENSOR_CONSTANT 0x01 /* data is in the program bytes: read only */
#define ET_TENSOR_PLANNED 0x02  /* data is in a planned buffer */
/* The value may be re-pointed while the method runs (a view's output or a
 * move's target), so what it points at is only known at run time. */
#define ET_TENSOR_ALIASED 0x04
/* data is the caller's (an unplanned input): the program only reads it. */
#define ET_TENSOR_CALLER 0x08
/* Init's bookkeeping: some instruction writes or re-points the tensor. */
#define ET_TENSOR_PRODUCED 0x10
/* Tensors a kernel must never write. */
#define ET_TENSOR_READ_ONLY (ET_TENSOR_CONSTANT | ET_TENSOR_CALLER)

/* Upstream's EValue tags (runtime/core/tag.h). */
typedef enum et_tag {
  ET_TAG_NONE = 0,
  ET_TAG_TENSOR = 1,
  ET_TAG_STRING = 2,
  ET_TAG_DOUBLE = 3,
  ET_TAG_INT = 4,
  ET_TAG_BOOL = 5,
  ET_TAG_LIST_BOOL = 6,
  ET_TAG_LIST_DOUBLE = 7,
  ET_TAG_LIST_INT = 8,
  ET_TAG_LIST_TENSOR = 9,
  ET_TAG_LIST_SCALAR = 10,
  ET_TAG_LIST_OPTIONAL_TENSOR = 11
} et_tag;

/* "Tensor", "Int", ... */
const char *et_tag_name(int tag);

struct et_value;

typedef struct et_value {
  uint32_t tag; /* et_tag */
  union {
    int64_t i;
    double d;
    bool b;
    et_tensor *t;
    struct {
      const char *ptr; /* not NUL-terminated */
      size_t len;
    } str;
    /* Int list: each item is an Int value, read at use time because
     * symbolic sizes change while a method runs. */
    struct {
      struct et_value *const *items;
      size_t len;
    } ilist;
    /* Tensor list and optional tensor list: items point at Tensor values
     * (for the optional list, an item may be NULL for None). */
    struct {
      struct et_value *const *items;
      size_t len;
    } tlist;
    struct {
      const double *items; /* may be unaligned: read with et_double_list_get */
      size_t len;
    } dlist;
    struct {
      const uint8_t *items; /* one byte per bool */
      size_t len;
    } blist;
  } u;
} et_value;

/* Number of elements (product of sizes); 1 for rank 0. */
size_t et_tensor_numel(const et_tensor *t);
/* numel * element size. */
size_t et_tensor_nbytes(const et_tensor *t);
/* True if dim_order is 0..rank-1. */
bool et_tensor_is_contiguous(const et_tensor *t);
/* True if rank 4 with dim order 0,2,3,1 (or rank 5 with 0,2,3,4,1). */
bool et_tensor_is_channels_last(const et_tensor *t);

/*
 * Give `t` new sizes of the same rank. STATIC tensors accept only their
 * current sizes; DYNAMIC tensors accept any sizes whose byte count fits the
 * tensor's capacity. Strides are recomputed from the dim order. Returns
 * ET_NOT_SUPPORTED or ET_INVALID_ARGUMENT (nothing changed) on refusal.
 */
int et_tensor_resize(et_tensor *t, const int32_t *sizes, uint32_t rank);
/* Same with 64-bit sizes (as kernels compute them). */
int et_tensor_resize64(et_tensor *t, const int64_t *sizes, uint32_t rank);
/* Recompute t->strides from t->sizes and t->dim_order. */
void et_tensor_update_strides(et_tensor *t);

/* Item i of an int list; the runtime guarantees each item is an Int. */
static inline int64_t et_int_list_get(const et_value *v, size_t i) {
  return v->u.ilist.items[i]->u.i;
}
/* Item i of a double list (the flatbuffer stores it unaligned). */
double et_double_list_get(const et_value *v, size_t i);

#ifdef __cplusplus
}
#endif

#endif /* EDGETORCH_VALUE_H */
