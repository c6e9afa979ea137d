/*
 * A tiny FlatBuffer writer for crafting programs and .ptd files in C tests
 * (hosted: uses malloc). Two levels:
 *
 *  tfb_*  bytes: tables, vectors and strings written front to back (a parent
 *         first, its children after it, as uoffsets point forward); each
 *         table's vtable just before it. Offsets are patched with tfb_link
 *         once the child is written, so a test can also patch any byte to
 *         damage the buffer on purpose.
 *  tp_*   a whole .pte program from a small description (values, operators,
 *         instructions, delegates, segments, named data), with the positions
 *         of its tables reported back so a test can damage one of them.
 *
 * The layouts follow upstream's schema/program.fbs and flat_tensor.fbs (field
 * ids in runtime/core/internal.h); this is a test tool, not a general
 * FlatBuffer library.
 */
#ifndef EDGETORCH_TESTS_FBBUILD_H
#define EDGETORCH_TESTS_FBBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- bytes ---------------------------------------------------------------- */

typedef struct tfb {
  uint8_t *buf;
  size_t len, cap;
} tfb;

void tfb_init(tfb *b);
void tfb_free(tfb *b);
/* Append n zero bytes at a position aligned to `align`; returns it. */
size_t tfb_alloc(tfb *b, size_t n, size_t align);
void tfb_w8(tfb *b, size_t at, uint8_t v);
void tfb_w16(tfb *b, size_t at, uint16_t v);
void tfb_w32(tfb *b, size_t at, uint32_t v);
void tfb_w64(tfb *b, size_t at, uint64_t v);
/* Store the uoffset from `at` to `target` (target > at) at `at`. */
void tfb_link(tfb *b, size_t at, size_t target);

/* A field of a table: id, byte size (1, 2, 4 or 8) and value. A reference
 * field (a table, vector or string) is 4 bytes whose value is patched later
 * with tfb_link(b, slots[i], child). */
typedef struct tfb_field {
  unsigned id;
  unsigned size;
  uint64_t value;
} tfb_field;

/* Write a vtable and its table; slots[i] (optional) receives the absolute
 * position of field i. Returns the table's position. */
size_t tfb_table(tfb *b, size_t n, const tfb_field *f, size_t *slots);
/* A vector of n elements of `elem` bytes (data may be NULL: zeros); returns
 * the position of its length word. */
size_t tfb_vec(tfb *b, uint32_t n, unsigned elem, const void *data);
/* A vector of n references (zero until linked): element i is at
 * returned + 4 + 4 * i. */
size_t tfb_vec_refs(tfb *b, uint32_t n);
size_t tfb_str(tfb *b, const char *s);

/* ---- programs -------------------------------------------------------------- */

#define TP_MAX 16

/* A value of the plan (KT_* of internal.h). */
typedef struct tp_value {
  uint8_t type;
  int64_t i;          /* KT_INT */
  double d;           /* KT_DOUBLE */
  bool b;             /* KT_BOOL */
  const char *str;    /* KT_STRING */
  /* KT_TENSOR */
  int8_t dtype;
  int8_t dynamism;
  uint32_t rank;
  int32_t sizes[24];
  uint8_t dim_order[24];
  uint32_t mem_id;    /* 0: not planned */
  uint64_t offset;    /* planned offset */
  uint32_t dbi;       /* data_buffer_idx */
  /* KT_INT_LIST (value indices), KT_TENSOR_LIST / KT_OPT_TENSOR_LIST */
  uint32_t n;
  int64_t items[8];
} tp_value;

/* An instruction (IT_*): KERNEL/DELEGATE: a = operator/delegate index and
 * args; MOVE: a -> b; JUMP_FALSE: a = condition, b = destination; FREE: a. */
typedef struct tp_instr {
  uint8_t type;
  int32_t a, b;
  uint32_t n_args;
  int32_t args[8];
} tp_instr;

typedef struct tp_delegate {
  const char *id;
  int8_t location; /* 0 inline, 1 segment */
  uint32_t index;
} tp_delegate;

typedef struct tp_segment {
  uint64_t offset, size;
} tp_segment;

typedef struct tp_named {
  const char *key;
  uint32_t segment;
} tp_named;

typedef struct tp_program {
  const char *name; /* method name; "forward" when NULL */
  uint32_t n_values;
  tp_value values[TP_MAX];
  uint32_t n_inputs, n_outputs;
  int32_t inputs[4], outputs[4];
  uint32_t n_ops;
  const char *ops[4]; /* "namespace::name" or "namespace::name.overload" */
  uint32_t n_instrs;
  tp_instr instrs[TP_MAX];
  uint32_t n_buffers; /* non_const_buffer_sizes; entry 0 is unused */
  int64_t buffer_sizes[4];
  uint32_t n_delegates;
  tp_delegate delegates[2];
  uint32_t n_delegate_data; /* inline delegate payloads (4 bytes each) */
  uint32_t n_constants;     /* inline constant buffers of 16 bytes each;
                               buffer 0 is the empty placeholder */
  uint32_t n_segments;
  tp_segment segments[4];
  uint64_t segment_bytes; /* bytes of segment data after the flatbuffer */
  uint32_t n_named;
  tp_named named[2];
  /* constant_segment (index 0) and mutable_data_segments[0] (index 1):
   * SubsegmentOffsets tables, written when present. */
  struct {
    bool present;
    uint32_t segment;
    uint32_t n_offsets;
    uint64_t offsets[4];
  } subseg[2];
} tp_program;

/* Where tp_build put things (absolute byte positions). */
typedef struct tp_layout {
  size_t root, plan;
  size_t evalue[TP_MAX], val[TP_MAX]; /* EValue table, its payload table */
  size_t instr[TP_MAX], args[TP_MAX]; /* Instruction, its args table */
  size_t plan_values_vec;             /* length word of plan.values */
  size_t buffer_sizes_vec;
  size_t segment[4];                  /* DataSegment tables */
  size_t delegate[2];                 /* BackendDelegate tables */
  size_t named[2];                    /* NamedData tables */
  size_t program_size;                /* flatbuffer bytes */
} tp_layout;

/* The builders of common values. */
tp_value tp_int(int64_t v);
tp_value tp_double(double v);
tp_value tp_bool(bool v);
tp_value tp_null(void);
/* A float tensor of rank <= 4, contiguous; planned in buffer `mem_id` at
 * `offset` when mem_id > 0. */
tp_value tp_tensor(int8_t dtype, uint32_t rank, const int32_t *sizes,
                   uint32_t mem_id, uint64_t offset);
tp_value tp_int_list(uint32_t n, const int64_t *items);

/* A minimal valid program: one method "forward" computing
 * out = aten::add.out(x, y, alpha, out) on float[2] tensors planned in one
 * buffer. Tests start from it and change one thing. */
void tp_add_program(tp_program *p);

/* Serialize (16-byte aligned heap block; free() it). */
uint8_t *tp_build(const tp_program *p, size_t *out_size, tp_layout *out);

/* Reading and patching built bytes in place (little-endian). */
uint32_t tfb_rd32(const uint8_t *b, size_t at);
void tfb_wr16(uint8_t *b, size_t at, uint16_t v);
void tfb_wr32(uint8_t *b, size_t at, uint32_t v);
void tfb_wr64(uint8_t *b, size_t at, uint64_t v);
/* The vtable of the table at t. */
size_t tfb_vtable(const uint8_t *b, size_t t);
/* Position of field `id` of the table at t (it must be present). */
size_t tfb_slot(const uint8_t *b, size_t t, unsigned id);
/* Where the reference field `id` of table t points. */
size_t tfb_target(const uint8_t *b, size_t t, unsigned id);

#endif
