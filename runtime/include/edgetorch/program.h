/*
 * et_program: a loaded `.pte` file (upstream ExecuTorch's format, ET12).
 *
 * et_program_load() verifies the whole file once: header, extended header,
 * segments, every flatbuffer offset and vector length, every index a method
 * uses (values, operators, delegates, segments, buffers, memory ids, jump
 * destinations) and every size product, with overflow-checked arithmetic.
 * Afterwards the program is trusted and nothing else re-checks the bytes.
 *
 * Ownership: the caller owns both the et_program struct and the bytes, which
 * must stay alive and unchanged while the program or any of its methods is in
 * use. Constants and delegate data are used in place (zero copy).
 * The bytes must be 16-byte aligned (constants are read as typed data).
 *
 * Thread-safety: a loaded program is immutable and may be shared by threads;
 * each thread needs its own et_method.
 */
#ifndef EDGETORCH_PROGRAM_H
#define EDGETORCH_PROGRAM_H

#include <edgetorch/backend.h>
#include <edgetorch/kernel.h>
#include <edgetorch/status.h>
#include <edgetorch/value.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The file identifier this runtime reads. */
#define ET_PTE_IDENTIFIER "ET12"

typedef struct et_program {
  const uint8_t *data;
  size_t size;
  /* Private: what load found, as offsets into `data`. */
  uint32_t program_size;       /* flatbuffer bytes, headers included */
  uint64_t segment_base;       /* absolute offset of segment data */
  uint32_t root;               /* Program table */
  uint32_t plans, n_plans;     /* execution_plan vector */
  uint32_t segments, n_segments;
  uint32_t delegate_data, n_delegate_data;
  uint32_t inline_constants, n_inline_constants; /* deprecated buffers */
  uint32_t constant_offsets, n_constant_offsets;
  const uint8_t *constant_segment; /* NULL: constants are inline (or none) */
  uint64_t constant_segment_size;
  uint32_t mutable_offsets, n_mutable_offsets;
  const uint8_t *mutable_segment;
  uint64_t mutable_segment_size;
  et_diag diag;
  /* Set by et_program_set_release (after load), else NULL. */
  void (*release)(void *user, const void *data, size_t size);
  void *release_user;
} et_program;

/* Load options (flags for et_program_load). */
#define ET_LOAD_DEFAULT 0u

/*
 * Verify `data[0..size)` and fill `p`. On failure returns InvalidProgram,
 * NotSupported (a newer format) or InvalidArgument, with the reason in
 * p->diag.message (what, and the byte offset where it was found).
 */
et_status et_program_load(et_program *p, const void *data, size_t size,
                          unsigned flags);

/*
 * Optional, after a successful load: a hook that takes ranges of the
 * program's bytes nothing needs to stay in memory any more (a delegate's
 * payload and the weights its backend copied into its own layout at init).
 * The bytes must stay readable: a loader that mapped the file can give the
 * pages back (they come back from the file if read again); a loader with
 * the bytes on the heap sets no hook. So the hook only changes memory use.
 */
void et_program_set_release(et_program *p,
                            void (*fn)(void *user, const void *data,
                                       size_t size),
                            void *user);
/* Backends (init only): hand a range of the program's bytes to its release
 * hook; nothing happens without one or outside the program's bytes. */
void et_program_release(const et_program *p, const void *data, size_t size);

/* The message of the last failure on `p` ("" if none). */
const char *et_program_message(const et_program *p);

size_t et_program_method_count(const et_program *p);
/* Name of method i (NUL-terminated, points into the program bytes). */
const char *et_program_method_name(const et_program *p, size_t i);

/* ---- Kernels and backends a method may use ---- */

typedef struct et_registry {
  const et_kernel_table *const *kernel_tables; /* searched in order */
  size_t n_kernel_tables;
  const et_backend *const *backends;
  size_t n_backends;
} et_registry;

/* ---- Method metadata: everything a caller needs before loading ---- */

typedef struct et_tensor_info {
  int8_t dtype;
  uint8_t dynamism;
  uint32_t rank;
  int32_t sizes[ET_MAX_RANK];     /* for a dynamic tensor, the upper bound */
  uint8_t dim_order[ET_MAX_RANK];
  size_t nbytes;                  /* at the sizes above */
  bool planned;                   /* lives in a planned buffer */
} et_tensor_info;

typedef struct et_io_info {
  uint32_t tag;       /* et_tag of the value */
  et_tensor_info tensor; /* valid when tag == ET_TAG_TENSOR */
  union {
    int64_t i;
    double d;
    bool b;
  } scalar;           /* traced value of a scalar input */
} et_io_info;

typedef struct et_method_meta {
  const char *name;
  size_t n_inputs;
  size_t n_outputs;
  size_t n_planned;         /* planned buffers the caller provides */
  size_t n_instructions;    /* over all chains */
  size_t n_operators;
  size_t n_delegates;
  size_t n_values;
  size_t arena_bytes;       /* exact method-arena bytes et_method_init needs */
  /* Private */
  const et_program *program;
  uint32_t plan;
} et_method_meta;

/*
 * Metadata of method `name`. `registry` is used only to ask backends for
 * their arena needs (NULL: delegates are counted as needing none). A failure
 * is described in `diag` (optional); the program itself is never written, so
 * threads sharing it may call this at once.
 */
et_status et_program_method_meta(const et_program *p, const char *name,
                                 const et_registry *registry,
                                 et_method_meta *out, et_diag *diag);
et_status et_method_meta_input(const et_method_meta *m, size_t i,
                               et_io_info *out);
et_status et_method_meta_output(const et_method_meta *m, size_t i,
                                et_io_info *out);
/* Size in bytes of planned buffer i (i < n_planned). */
size_t et_method_meta_planned_size(const et_method_meta *m, size_t i);
/* Operator i's name as the registry looks it up ("aten::add.out"). */
et_status et_method_meta_operator(const et_method_meta *m, size_t i,
                                  char *buf, size_t cap);
/* out_uses[i]: the number of KernelCall instructions that use operator i,
 * for i < n (one pass over the method's instructions). */
void et_method_meta_operator_uses(const et_method_meta *m, size_t *out_uses,
                                  size_t n);
/* Delegate i's backend id. */
const char *et_method_meta_delegate(const et_method_meta *m, size_t i);

/* Bytes of constant data (constant segment or deprecated inline buffers). */
size_t et_program_constant_bytes(const et_program *p);

#ifdef __cplusplus
}
#endif

#endif /* EDGETORCH_PROGRAM_H */
