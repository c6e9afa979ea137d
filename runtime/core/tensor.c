/* Tensor helpers shared by the runtime and kernels: sizes, dtypes, resize. */
#include <edgetorch/status.h>
#include <edgetorch/value.h>

#include <string.h>

size_t et_dtype_size(int dtype) {
  switch (dtype) {
  case ET_BYTE: case ET_CHAR: case ET_BOOL: case ET_QINT8: case ET_QUINT8:
  case ET_QUINT4X2: case ET_QUINT2X4: case ET_FLOAT8E5M2: case ET_FLOAT8E4M3FN:
  case ET_FLOAT8E5M2FNUZ: case ET_FLOAT8E4M3FNUZ:
    return 1;
  case ET_SHORT: case ET_HALF: case ET_BFLOAT16: case ET_BITS16: case ET_UINT16:
    return 2;
  case ET_INT: case ET_FLOAT: case ET_QINT32: case ET_UINT32: case ET_COMPLEX_HALF:
    return 4;
  case ET_LONG: case ET_DOUBLE: case ET_UINT64: case ET_COMPLEX_FLOAT:
    return 8;
  case ET_COMPLEX_DOUBLE:
    return 16;
  default:
    return 0;
  }
}

const char *et_dtype_name(int dtype) {
  switch (dtype) {
  case ET_BYTE: return "Byte";
  case ET_CHAR: return "Char";
  case ET_SHORT: return "Short";
  case ET_INT: return "Int";
  case ET_LONG: return "Long";
  case ET_HALF: return "Half";
  case ET_FLOAT: return "Float";
  case ET_DOUBLE: return "Double";
  case ET_COMPLEX_HALF: return "ComplexHalf";
  case ET_COMPLEX_FLOAT: return "ComplexFloat";
  case ET_COMPLEX_DOUBLE: return "ComplexDouble";
  case ET_BOOL: return "Bool";
  case ET_QINT8: return "QInt8";
  case ET_QUINT8: return "QUInt8";
  case ET_QINT32: return "QInt32";
  case ET_BFLOAT16: return "BFloat16";
  case ET_QUINT4X2: return "QUInt4x2";
  case ET_QUINT2X4: return "QUInt2x4";
  case ET_BITS16: return "Bits16";
  case ET_FLOAT8E5M2: return "Float8_e5m2";
  case ET_FLOAT8E4M3FN: return "Float8_e4m3fn";
  case ET_FLOAT8E5M2FNUZ: return "Float8_e5m2fnuz";
  case ET_FLOAT8E4M3FNUZ: return "Float8_e4m3fnuz";
  case ET_UINT16: return "UInt16";
  case ET_UINT32: return "UInt32";
  case ET_UINT64: return "UInt64";
  default: return "Unknown";
  }
}

const char *et_tag_name(int tag) {
  static const char *const names[] = {
      "None", "Tensor", "String", "Double", "Int", "Bool", "ListBool",
      "ListDouble", "ListInt", "ListTensor", "ListScalar", "ListOptionalTensor"};
  return (tag >= 0 && tag < (int)(sizeof names / sizeof names[0])) ? names[tag]
                                                                   : "Unknown";
}

size_t et_tensor_numel(const et_tensor *t) {
  size_t n = 1;
  for (uint32_t d = 0; d < t->rank; d++) n *= (size_t)t->sizes[d];
  return n;
}

size_t et_tensor_nbytes(const et_tensor *t) {
  return et_tensor_numel(t) * et_dtype_size(t->dtype);
}

bool et_tensor_is_contiguous(const et_tensor *t) {
  for (uint32_t d = 0; d < t->rank; d++)
    if (t->dim_order[d] != d) return false;
  return true;
}

bool et_tensor_is_channels_last(const et_tensor *t) {
  if (t->rank == 4)
    return t->dim_order[0] == 0 && t->dim_order[1] == 2 &&
           t->dim_order[2] == 3 && t->dim_order[3] == 1;
  if (t->rank == 5)
    return t->dim_order[0] == 0 && t->dim_order[1] == 2 &&
           t->dim_order[2] == 3 && t->dim_order[3] == 4 &&
           t->dim_order[4] == 1;
  return false;
}

/* Strides from sizes and dim order; a zero size counts as one so that strides
 * stay meaningful for empty tensors (as upstream does). */
void et_tensor_update_strides(et_tensor *t) {
  if (t->rank == 0) return;
  int64_t s = 1;
  for (uint32_t k = t->rank; k-- > 0;) {
    uint8_t d = t->dim_order[k];
    t->strides[d] = s;
    s *= t->sizes[d] ? t->sizes[d] : 1;
  }
}

int et_tensor_resize64(et_tensor *t, const int64_t *sizes, uint32_t rank) {
  if (rank != t->rank) return ET_NOT_SUPPORTED;
  bool same = true;
  size_t numel = 1;
  for (uint32_t d = 0; d < rank; d++) {
    if (sizes[d] < 0 || sizes[d] > INT32_MAX) return ET_INVALID_ARGUMENT;
    if (sizes[d] != t->sizes[d]) same = false;
    if (sizes[d] != 0 && numel > SIZE_MAX / (size_t)sizes[d])
      return ET_INVALID_ARGUMENT;
    numel *= (size_t)sizes[d];
  }
  if (same) return ET_OK;
  if (t->dynamism == ET_STATIC) return ET_NOT_SUPPORTED;
  size_t es = et_dtype_size(t->dtype);
  if (numel > SIZE_MAX / (es ? es : 1) || numel * es > t->capacity)
    return ET_NOT_SUPPORTED;
  for (uint32_t d = 0; d < rank; d++) t->sizes[d] = (int32_t)sizes[d];
  et_tensor_update_strides(t);
  return ET_OK;
}

int et_tensor_resize(et_tensor *t, const int32_t *sizes, uint32_t rank) {
  int64_t s64[ET_MAX_RANK];
  if (rank > ET_MAX_RANK) return ET_NOT_SUPPORTED;
  for (uint32_t d = 0; d < rank; d++) s64[d] = sizes[d];
  return et_tensor_resize64(t, s64, rank);
}

double et_double_list_get(const et_value *v, size_t i) {
  double x;
  memcpy(&x, (const uint8_t *)v->u.dlist.items + i * sizeof(double), sizeof x);
  return x;
}
