/*
 * Scalars: schema arguments of kind S, which arrive as Int, Double or Bool
 * values (the runtime has checked the tag). Their own dtype is Long, Double
 * or Bool, as upstream's Scalar.
 *
 * Thread-safe, pure.
 */
#ifndef ET_KERNELS_UTIL_SCALAR_UTIL_H
#define ET_KERNELS_UTIL_SCALAR_UTIL_H

#include <edgetorch/value.h>

#include "util/dtype_util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A value in one of the engine's compute dtypes (Long, Float, Double, Bool). */
typedef union et_cval {
  int64_t i;
  float f;
  double d;
  et_bool8 b;
} et_cval;

/* ET_LONG, ET_DOUBLE or ET_BOOL (ET_LONG for anything unexpected). */
int et_scalar_dtype(const et_value *v);
bool et_scalar_is_floating(const et_value *v);
bool et_scalar_is_integral(const et_value *v); /* Int, not Bool */
double et_scalar_to_double(const et_value *v);
/* Doubles are truncated (NaN and out-of-range give INT64_MIN, no UB). */
int64_t et_scalar_to_int64(const et_value *v);
bool et_scalar_to_bool(const et_value *v);

/*
 * Upstream's promote_type_with_scalar: a Bool scalar keeps the tensor's
 * dtype; an Int scalar keeps integral and floating dtypes and turns Bool into
 * Long; a Double scalar keeps floating dtypes and turns the rest into Float
 * (not Double).
 */
int et_promote_type_with_scalar(int tensor_dtype, const et_value *s);

/* The scalar cast to compute dtype `compute` (upstream's scalar_to<T>). */
et_cval et_scalar_cast(const et_value *v, int compute);

/*
 * Upstream's extract_scalar for a kernel whose common dtype is `common`:
 * the scalar must be representable in `common` without changing kind
 * (integral common: an Int in range; floating common: an Int or a Double
 * within the finite range; Bool common: an Int or Bool). On success the
 * value is written in et_ew_compute_dtype(common) (Bool as 0/1 in .i).
 */
bool et_scalar_extract(const et_value *v, int common, et_cval *out);

/* `v` as printf's %g prints it (six significant digits; the last may
 * differ), into buf; returns buf. For messages: et_format has no %g. */
const char *et_double_str(double v, char *buf, size_t cap);

/* "Int", "Double" or "Bool" with the value, for messages. */
void et_scalar_describe(const et_value *v, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_UTIL_SCALAR_UTIL_H */
