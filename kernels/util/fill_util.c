/* Scalar fill. */
#include "util/fill_util.h"

#include "util/broadcast_util.h"
#include "util/dtype_util.h"
#include "util/scalar_util.h"
#include "util/shape_util.h"

et_status et_fill_scalar(et_kernel_ctx *ctx, et_tensor *out, const et_value *value) {
  ET_K_TRY(et_k_check_writable(ctx, out, "out"));
  union {
    uint64_t u;
    uint8_t bytes[8];
  } elem;
  elem.u = 0;
  bool ok;
  if (value->tag == ET_TAG_DOUBLE) {
    ok = et_convert(elem.bytes, out->dtype, 1, &value->u.d, ET_DOUBLE, 1, 1);
  } else if (value->tag == ET_TAG_BOOL) {
    et_bool8 b = value->u.b ? 1 : 0;
    ok = et_convert(elem.bytes, out->dtype, 1, &b, ET_BOOL, 1, 1);
  } else {
    ok = et_convert(elem.bytes, out->dtype, 1, &value->u.i, ET_LONG, 1, 1);
  }
  if (!ok) return ET_K_FAIL(ctx, "out: dtype %s is not supported", et_dtype_name(out->dtype));
  const size_t n = et_tensor_numel(out);
  if (n == 0) return ET_OK;
  /* a dense tensor in any dim order is numel consecutive elements */
  et_fill_bytes(out->data, elem.bytes, et_dtype_size(out->dtype), n);
  return ET_OK;
}
