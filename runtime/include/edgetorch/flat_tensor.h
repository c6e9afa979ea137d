/*
 * et_ptd: a `.ptd` file (upstream ExecuTorch's FlatTensor format, "FT01")
 * read as an et_data_map, for programs whose tensors are stored outside the
 * `.pte` (an exporter's external_constants option).
 *
 * et_ptd_load() verifies the whole file once, like et_program_load: the
 * header, every flatbuffer offset and vector length, every segment (inside
 * the file, overflow-checked), every named entry's segment index and layout
 * (a known dtype, rank <= ET_MAX_RANK, as many dim_order entries as sizes).
 * Lookups afterwards trust it.
 *
 *   et_ptd ptd;
 *   if (et_ptd_load(&ptd, bytes, size)) ... et_ptd_message(&ptd) ...
 *   memory.external = &ptd.map;   // then et_method_init(...)
 *
 * Like a program, the bytes are used in place: they must be 16-byte aligned
 * and outlive the methods that use them. No allocation, no OS.
 */
#ifndef EDGETORCH_FLAT_TENSOR_H
#define EDGETORCH_FLAT_TENSOR_H

#include <edgetorch/data_map.h>
#include <edgetorch/status.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ET_PTD_IDENTIFIER "FT01"

typedef struct et_ptd {
  et_data_map map; /* give &ptd.map to et_method_memory.external */
  /* Private: what load found. */
  const uint8_t *data;
  size_t size;
  uint32_t segments, n_segments;     /* DataSegment tables */
  uint32_t named_data, n_named_data; /* NamedData tables */
  uint32_t fb_end;                   /* flatbuffer bytes, header included */
  uint64_t segment_base;
  et_diag diag;
} et_ptd;

/*
 * Verify `data[0..size)` and fill `ptd`. InvalidExternalData (with the
 * reason and byte offset in the message) for a damaged file, NotSupported for
 * another FlatTensor version, InvalidArgument for unaligned bytes.
 */
et_status et_ptd_load(et_ptd *ptd, const void *data, size_t size);

/* The message of the last failure ("" if none). */
const char *et_ptd_message(const et_ptd *ptd);

/* Number of named entries, and entry i's key (NULL when i is out of range). */
size_t et_ptd_key_count(const et_ptd *ptd);
const char *et_ptd_key(const et_ptd *ptd, size_t i);

#ifdef __cplusplus
}
#endif

#endif /* EDGETORCH_FLAT_TENSOR_H */
