/*
 * Private to runtime/core: schema field ids and the pieces program.c and
 * method.c share (opening a plan, describing a tensor, reading a value).
 */
#ifndef EDGETORCH_CORE_INTERNAL_H
#define EDGETORCH_CORE_INTERNAL_H

#include <edgetorch/method.h>
#include <edgetorch/program.h>

#include "fb.h"

/* Field ids of schema/program.fbs (declaration order; a union takes two). */
enum {
  PROGRAM_VERSION = 0, PROGRAM_EXECUTION_PLAN = 1, PROGRAM_CONSTANT_BUFFER = 2,
  PROGRAM_DELEGATE_DATA = 3, PROGRAM_SEGMENTS = 4, PROGRAM_CONSTANT_SEGMENT = 5,
  PROGRAM_MUTABLE_SEGMENTS = 6, PROGRAM_NAMED_DATA = 7
};
enum {
  PLAN_NAME = 0, PLAN_CONTAINER_META = 1, PLAN_VALUES = 2, PLAN_INPUTS = 3,
  PLAN_OUTPUTS = 4, PLAN_CHAINS = 5, PLAN_OPERATORS = 6, PLAN_DELEGATES = 7,
  PLAN_BUFFER_SIZES = 8
};
enum { EVALUE_TYPE = 0, EVALUE_VAL = 1 };
enum {
  KT_NONE = 0, KT_NULL = 1, KT_INT = 2, KT_BOOL = 3, KT_DOUBLE = 4,
  KT_TENSOR = 5, KT_STRING = 6, KT_INT_LIST = 7, KT_DOUBLE_LIST = 8,
  KT_BOOL_LIST = 9, KT_TENSOR_LIST = 10, KT_OPT_TENSOR_LIST = 11
};
enum {
  TENSOR_SCALAR_TYPE = 0, TENSOR_STORAGE_OFFSET = 1, TENSOR_SIZES = 2,
  TENSOR_DIM_ORDER = 3, TENSOR_REQUIRES_GRAD = 4, TENSOR_DATA_BUFFER_IDX = 5,
  TENSOR_ALLOCATION = 6, TENSOR_LAYOUT = 7, TENSOR_DYNAMISM = 8,
  TENSOR_EXTRA = 9
};
enum { ALLOC_MEMORY_ID = 0, ALLOC_OFFSET_LOW = 1, ALLOC_OFFSET_HIGH = 2 };
enum { EXTRA_MUTABLE_IDX = 0, EXTRA_FQN = 1, EXTRA_LOCATION = 2 };
enum { OPERATOR_NAME = 0, OPERATOR_OVERLOAD = 1 };
enum { INSTR_TYPE = 0, INSTR_ARGS = 1 };
enum {
  IT_NONE = 0, IT_KERNEL = 1, IT_DELEGATE = 2, IT_MOVE = 3, IT_JUMP_FALSE = 4,
  IT_FREE = 5
};
enum { CHAIN_INSTRUCTIONS = 2 };
enum { DELEGATE_ID = 0, DELEGATE_PROCESSED = 1, DELEGATE_SPECS = 2 };
enum { DATAREF_LOCATION = 0, DATAREF_INDEX = 1 };
enum { SPEC_KEY = 0, SPEC_VALUE = 1 };
enum { SEGMENT_OFFSET = 0, SEGMENT_SIZE = 1 };
enum { SUBSEG_INDEX = 0, SUBSEG_OFFSETS = 1 };

/* Verification's work budget: tables opened and vector elements walked per
 * byte of the flatbuffer (plus 4096). Each table is at least 8 bytes and
 * reached about twice, each vector element at least 4 bytes and walked at
 * most twice, so an unshared file needs under one step per byte (every file
 * upstream's exporter wrote that we tried needs well under one); a file
 * whose tables are shared by many references is refused instead of being
 * walked once per reference. */
#ifndef ET_VERIFY_STEPS_PER_BYTE
#define ET_VERIFY_STEPS_PER_BYTE 2u
#endif

/* Longest "namespace::name.overload" the runtime accepts. */
#define ET_OP_NAME_CAP 128

/* An opened execution plan. */
typedef struct et_plan {
  fb_table table;
  const char *name;
  fb_vec values, inputs, outputs, chains, operators, delegates, buffer_sizes;
} et_plan;

/* Where a tensor's data lives. */
enum { TD_NONE = 0, TD_CONSTANT = 1, TD_PLANNED = 2, TD_EXTERNAL = 3 };

typedef struct et_tensor_desc {
  int8_t dtype;
  uint8_t dynamism;
  uint32_t rank;
  fb_vec sizes;     /* int32 */
  fb_vec dim_order; /* uint8 */
  size_t nbytes;    /* at the (bound) sizes */
  int where;        /* TD_* */
  const uint8_t *constant; /* TD_CONSTANT */
  uint32_t memory_id;      /* TD_PLANNED: 1-based */
  uint64_t offset;         /* TD_PLANNED */
  const uint8_t *initial;  /* TD_PLANNED with initial data, else NULL */
  /* Data in an et_data_map under this name: a constant (TD_EXTERNAL) or a
   * planned tensor's initial data (TD_PLANNED). NULL otherwise. */
  const char *external;
} et_tensor_desc;

et_status et_plan_open(const et_program *p, fb_reader *r, uint32_t index,
                       et_plan *out, et_diag *diag);
/* Index of the plan named `name`, or NotFound. */
et_status et_plan_find(const et_program *p, const char *name, uint32_t *out,
                       et_diag *diag);
/* Open value `index` of a plan: its kernel type and union table. */
et_status et_value_open(const et_program *p, fb_reader *r, const et_plan *plan,
                        uint32_t index, uint8_t *out_type, fb_table *out_val,
                        et_diag *diag);
/* Describe (and check) the tensor table of value `index`. */
et_status et_tensor_describe(const et_program *p, fb_reader *r,
                             const et_plan *plan, uint32_t index,
                             const fb_table *tensor, et_tensor_desc *out,
                             et_diag *diag);
/* "name.overload" (or "name") of operator `index` into buf. */
et_status et_operator_name(const et_program *p, fb_reader *r,
                           const et_plan *plan, uint32_t index, char *buf,
                           size_t cap, et_diag *diag);
/* A delegate's processed bytes. */
et_status et_delegate_data(const et_program *p, fb_reader *r,
                           const fb_table *delegate, const uint8_t **out,
                           size_t *out_size, et_diag *diag);
/* Turn a reader failure into InvalidProgram with the offset. */
et_status et_fb_error(const fb_reader *r, et_diag *diag);

void et_reader_init(const et_program *p, fb_reader *r);

#endif /* EDGETORCH_CORE_INTERNAL_H */
