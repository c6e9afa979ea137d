/*
 * NumPy .npy files: read and write dense, C-ordered arrays.
 *
 * Reading accepts format versions 1.0, 2.0 and 3.0 and these descrs:
 *   <f2 <f4 <f8 <c8 <c16 <i2 <i4 <i8 <u2 <u4 <u8   (little-endian)
 *   |i1 |u1 |b1   (byte-order neutral; '<', '>' and '=' are accepted too)
 *   <V2 |V2       bfloat16: ml_dtypes' bfloat16 has no NumPy type code, so
 *                 np.save writes it as a 2-byte void; read it back in Python
 *                 with np.load(f).view(ml_dtypes.bfloat16).
 * Big-endian multi-byte data and fortran_order True are refused
 * (NotSupported) with a message saying how to convert. Everything in the
 * header is checked (magic, version, length, dict syntax, keys, shape, and
 * that the data is all there, no more and no less); a malformed file gives
 * InvalidArgument and a message, never an out-of-bounds read.
 *
 * Writing always produces a version 1.0 header padded to 64 bytes, as
 * np.save does.
 *
 * The host must be little-endian (as the runtime is).
 * Ownership: an et_npy_array from et_npy_read_file owns its data; release it
 * with et_npy_free. One from et_npy_parse points into the caller's buffer.
 * Thread-safety: no shared state.
 */
#ifndef EDGETORCH_EXT_NPY_H
#define EDGETORCH_EXT_NPY_H

#include <edgetorch/status.h>
#include <edgetorch/value.h>

#include <stddef.h>
#include <stdint.h>

typedef struct et_npy_array {
  int dtype;     /* et_dtype */
  uint32_t rank;
  int64_t shape[ET_MAX_RANK];
  size_t numel;  /* product of shape (1 for rank 0) */
  size_t nbytes; /* numel * element size */
  void *data;    /* nbytes bytes */
  unsigned version; /* format major version: 1, 2 or 3 */
  /* Private: heap block owning data (et_npy_read_file), or NULL. */
  void *storage;
} et_npy_array;

/* Parse a complete .npy image. out->data points into `buf`. */
et_status et_npy_parse(const void *buf, size_t size, et_npy_array *out,
                       et_diag *diag);

/* Read and parse a file. out->data is 16-byte aligned and owned by `out`.
 * The message names the file. */
et_status et_npy_read_file(const char *path, et_npy_array *out, et_diag *diag);

void et_npy_free(et_npy_array *a);

/* The descr written for `dtype` ("<f4"), or NULL if .npy cannot hold it. */
const char *et_npy_descr(int dtype);

/* The dtype a descr maps to, or -1 (NotSupported) if unknown. */
int et_npy_dtype_from_descr(const char *descr, size_t len);

/*
 * Write a version 1.0 header for an array of `dtype` and `shape[rank]` into
 * buf. The header length is a multiple of 64 and never exceeds
 * ET_NPY_HEADER_MAX. *out_len receives it.
 */
#define ET_NPY_HEADER_MAX 1024u
et_status et_npy_header(int dtype, uint32_t rank, const int64_t *shape,
                        char *buf, size_t cap, size_t *out_len, et_diag *diag);

/* Write a whole .npy file: header then `nbytes` bytes of C-ordered data,
 * which must equal numel * element size. */
et_status et_npy_write_file(const char *path, int dtype, uint32_t rank,
                            const int64_t *shape, const void *data,
                            size_t nbytes, et_diag *diag);

#endif /* EDGETORCH_EXT_NPY_H */
