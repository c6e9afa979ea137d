/* Hosted tensor helpers shared by edgetorch-run and the Python binding
 * (see host_tensor.h). */
#include "host_tensor.h"

/* The kernels' conversions, so that the tools round exactly as they do. */
#include "../kernels/util/dtype_util.h"

#include <string.h>

uint16_t et_host_float_to_half(float f) { return et_float_to_half(f); }
float et_host_half_to_float(uint16_t h) { return et_half_to_float(h); }
uint16_t et_host_float_to_bf16(float f) { return et_float_to_bf16(f); }
float et_host_bf16_to_float(uint16_t b) { return et_bf16_to_float(b); }

bool et_host_element_as_double(const void *data, int dtype, size_t i,
                               double *out) {
  const uint8_t *p = (const uint8_t *)data + i * et_dtype_size(dtype);
  switch (dtype) {
  case ET_FLOAT: { float v; memcpy(&v, p, 4); *out = v; return true; }
  case ET_DOUBLE: { double v; memcpy(&v, p, 8); *out = v; return true; }
  case ET_HALF: { uint16_t v; memcpy(&v, p, 2); *out = et_half_to_float(v); return true; }
  case ET_BFLOAT16: { uint16_t v; memcpy(&v, p, 2); *out = et_bf16_to_float(v); return true; }
  case ET_LONG: { int64_t v; memcpy(&v, p, 8); *out = (double)v; return true; }
  case ET_INT: { int32_t v; memcpy(&v, p, 4); *out = v; return true; }
  case ET_SHORT: { int16_t v; memcpy(&v, p, 2); *out = v; return true; }
  case ET_CHAR: { int8_t v; memcpy(&v, p, 1); *out = v; return true; }
  case ET_BYTE: case ET_BOOL: *out = *p; return true;
  case ET_UINT16: { uint16_t v; memcpy(&v, p, 2); *out = v; return true; }
  case ET_UINT32: { uint32_t v; memcpy(&v, p, 4); *out = v; return true; }
  case ET_UINT64: { uint64_t v; memcpy(&v, p, 8); *out = (double)v; return true; }
  default: return false;
  }
}

void et_host_strides_for(uint32_t rank, const int64_t *sizes,
                         const uint8_t *dim_order, int64_t *strides) {
  int64_t s = 1;
  for (uint32_t k = rank; k-- > 0;) {
    uint32_t d = dim_order[k];
    strides[d] = s;
    s *= sizes[d] ? sizes[d] : 1;
  }
}

bool et_host_identity_order(uint32_t rank, const uint8_t *dim_order) {
  for (uint32_t d = 0; d < rank; d++) {
    if (dim_order[d] != d) return false;
  }
  return true;
}

bool et_host_is_compact(uint32_t rank, const int64_t *sizes,
                        const int64_t *strides) {
  int64_t expect = 1;
  for (uint32_t d = rank; d-- > 0;) {
    if (sizes[d] != 1 && strides[d] != expect) return false;
    expect *= sizes[d];
  }
  return true;
}

static void row_major(uint32_t rank, const int64_t *sizes, int64_t *strides) {
  int64_t s = 1;
  for (uint32_t d = rank; d-- > 0;) {
    strides[d] = s;
    s *= sizes[d];
  }
}

void et_host_copy_strided(void *dst, const int64_t *dst_strides,
                          const void *src, const int64_t *src_strides,
                          size_t esize, uint32_t rank, const int64_t *sizes) {
  for (uint32_t d = 0; d < rank; d++) {
    if (sizes[d] <= 0) return;
  }
  if (rank == 0) {
    memcpy(dst, src, esize);
    return;
  }
  int64_t ds[ET_MAX_RANK], ss[ET_MAX_RANK];
  if (dst_strides) memcpy(ds, dst_strides, rank * sizeof *ds);
  else row_major(rank, sizes, ds);
  if (src_strides) memcpy(ss, src_strides, rank * sizeof *ss);
  else row_major(rank, sizes, ss);
  uint8_t *out = dst;
  const uint8_t *in = src;
  const int64_t es = (int64_t)esize;
  const int64_t inner = sizes[rank - 1];
  const bool rows = ds[rank - 1] == 1 && ss[rank - 1] == 1;
  int64_t idx[ET_MAX_RANK] = {0};
  for (;;) {
    int64_t doff = 0, soff = 0;
    for (uint32_t d = 0; d + 1 < rank; d++) {
      doff += idx[d] * ds[d];
      soff += idx[d] * ss[d];
    }
    if (rows) {
      memcpy(out + doff * es, in + soff * es, (size_t)inner * esize);
    } else {
      for (int64_t k = 0; k < inner; k++) {
        memcpy(out + (doff + k * ds[rank - 1]) * es,
               in + (soff + k * ss[rank - 1]) * es, esize);
      }
    }
    /* Advance the outer multi-index. */
    uint32_t d = rank - 1;
    while (d-- > 0) {
      if (++idx[d] < sizes[d]) break;
      idx[d] = 0;
    }
    if (d == UINT32_MAX) return;
  }
}

/* ---- default inputs -------------------------------------------------------- */

static uint64_t gen_next(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  *s = x;
  return x;
}

static float gen_float(uint64_t *s) {
  return (float)((double)(gen_next(s) >> 40) / 16777216.0 * 2.0 - 1.0);
}

void et_host_fill_default(void *buf, int dtype, size_t numel,
                          uint64_t *s) {
  uint8_t *p = buf;
  size_t es = et_dtype_size(dtype);
  for (size_t i = 0; i < numel; i++, p += es) {
    switch (dtype) {
    case ET_FLOAT: { float v = gen_float(s); memcpy(p, &v, 4); break; }
    case ET_DOUBLE: { double v = gen_float(s); memcpy(p, &v, 8); break; }
    case ET_HALF: { uint16_t v = et_float_to_half(gen_float(s)); memcpy(p, &v, 2); break; }
    case ET_BFLOAT16: { uint16_t v = et_float_to_bf16(gen_float(s)); memcpy(p, &v, 2); break; }
    case ET_COMPLEX_FLOAT: {
      float v[2];
      v[0] = gen_float(s);
      v[1] = gen_float(s);
      memcpy(p, v, 8);
      break;
    }
    case ET_COMPLEX_DOUBLE: {
      double v[2];
      v[0] = gen_float(s);
      v[1] = gen_float(s);
      memcpy(p, v, 16);
      break;
    }
    case ET_COMPLEX_HALF: {
      uint16_t v[2];
      v[0] = et_float_to_half(gen_float(s));
      v[1] = et_float_to_half(gen_float(s));
      memcpy(p, v, 4);
      break;
    }
    case ET_BOOL: *p = (uint8_t)((i % 2) == 0); break;
    case ET_LONG: case ET_UINT64: {
      uint64_t v = (gen_next(s) >> 32) % ET_HOST_GEN_INT_RANGE;
      memcpy(p, &v, 8);
      break;
    }
    case ET_INT: case ET_UINT32: {
      uint32_t v = (uint32_t)((gen_next(s) >> 32) % ET_HOST_GEN_INT_RANGE);
      memcpy(p, &v, 4);
      break;
    }
    case ET_SHORT: case ET_UINT16: {
      uint16_t v = (uint16_t)((gen_next(s) >> 32) % ET_HOST_GEN_INT_RANGE);
      memcpy(p, &v, 2);
      break;
    }
    case ET_CHAR: case ET_BYTE:
      *p = (uint8_t)((gen_next(s) >> 32) % ET_HOST_GEN_INT_RANGE);
      break;
    default: {
      uint64_t v = gen_next(s);
      memcpy(p, &v, es < 8 ? es : 8);
      break;
    }
    }
  }
}

et_status et_host_default_input_size(const et_tensor_info *t, size_t index,
                                     size_t max_bytes, const char *how_input,
                                     const char *how_limit, int64_t *sizes,
                                     size_t *out_numel, size_t *out_nbytes,
                                     et_diag *diag) {
  size_t numel = 1;
  bool overflow = false;
  char shape[160];
  size_t n = et_format(shape, sizeof shape, "[");
  for (uint32_t d = 0; d < t->rank && d < ET_MAX_RANK; d++) {
    sizes[d] = t->sizes[d] < 0 ? 0 : t->sizes[d];
    if (sizes[d] && numel > SIZE_MAX / (size_t)sizes[d]) overflow = true;
    else numel *= (size_t)sizes[d];
    if (n < sizeof shape)
      n += et_format(shape + n, sizeof shape - n, "%s%lld", d ? ", " : "",
                     (long long)sizes[d]);
  }
  if (n < sizeof shape) et_format(shape + n, sizeof shape - n, "]");
  size_t es = et_dtype_size(t->dtype);
  if (!overflow && es && numel > SIZE_MAX / es) overflow = true;
  size_t nbytes = overflow ? SIZE_MAX : numel * es;
  if (overflow || nbytes > max_bytes) {
    return et_diag_set(
        diag, ET_OUT_OF_RESOURCES,
        "input %zu (%s %s) would need %s%zu bytes to generate, above the limit "
        "of %zu bytes for generated inputs; give the input explicitly with "
        "%s, or raise the limit with %s",
        index, et_dtype_name(t->dtype), shape, overflow ? "more than " : "",
        nbytes, max_bytes, how_input, how_limit);
  }
  *out_numel = numel;
  *out_nbytes = nbytes;
  return ET_OK;
}

const char *et_host_numpy_name(int dtype, bool *ml_dtypes) {
  bool ml = false;
  const char *name = NULL;
  switch (dtype) {
  case ET_BYTE: name = "uint8"; break;
  case ET_CHAR: name = "int8"; break;
  case ET_SHORT: name = "int16"; break;
  case ET_INT: name = "int32"; break;
  case ET_LONG: name = "int64"; break;
  case ET_HALF: name = "float16"; break;
  case ET_FLOAT: name = "float32"; break;
  case ET_DOUBLE: name = "float64"; break;
  case ET_COMPLEX_FLOAT: name = "complex64"; break;
  case ET_COMPLEX_DOUBLE: name = "complex128"; break;
  case ET_BOOL: name = "bool_"; break;
  case ET_QINT8: name = "int8"; break;
  case ET_QUINT8: name = "uint8"; break;
  case ET_QINT32: name = "int32"; break;
  case ET_BITS16: name = "uint16"; break;
  case ET_UINT16: name = "uint16"; break;
  case ET_UINT32: name = "uint32"; break;
  case ET_UINT64: name = "uint64"; break;
  case ET_BFLOAT16: name = "bfloat16"; ml = true; break;
  case ET_FLOAT8E5M2: name = "float8_e5m2"; ml = true; break;
  case ET_FLOAT8E4M3FN: name = "float8_e4m3fn"; ml = true; break;
  case ET_FLOAT8E5M2FNUZ: name = "float8_e5m2fnuz"; ml = true; break;
  case ET_FLOAT8E4M3FNUZ: name = "float8_e4m3fnuz"; ml = true; break;
  default: break;
  }
  if (ml_dtypes) *ml_dtypes = ml;
  return name;
}

const char *et_host_method_load_hint(et_status st, const char *message) {
  if (st == ET_OPERATOR_MISSING) {
    return "; no kernel library linked into this runtime (the portable "
           "kernels, kernels/portable/ops.def) has it: re-export so that it "
           "is decomposed or delegated, or add a kernel (docs/adding-a-kernel.md)";
  }
  if (st == ET_NOT_FOUND && message && strstr(message, "backend") &&
      strstr(message, "not registered")) {
    return "; this runtime lacks that backend: build the runtime with it, or "
           "export without the partitioner that made the delegate";
  }
  return "";
}
