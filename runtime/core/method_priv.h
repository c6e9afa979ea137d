/*
 * Private to runtime/core: the method's runtime structures, shared by
 * method_meta.c (counting and metadata), method_init.c (building them in the
 * caller's arena) and method_execute.c (inputs, outputs, the instruction loop).
 */
#ifndef EDGETORCH_CORE_METHOD_PRIV_H
#define EDGETORCH_CORE_METHOD_PRIV_H

#include "internal.h"

#include <edgetorch/arena.h>

typedef struct et_instr {
  uint8_t type;
  uint32_t a, b;    /* operator/delegate index, move from/to, cond/dest */
  uint32_t n_args;
  uint32_t check;   /* bit k: argument k's tensor must have data (k < 32) */
  uint32_t wcheck;  /* bit k: written argument k may alias a constant */
  et_value **args;
} et_instr;

typedef struct et_delegate_rt {
  const et_backend *backend;
  void *handle;
  et_backend_ctx ctx;
} et_delegate_rt;

struct et_method {
  et_method_meta meta;
  const et_program *program;
  et_value *values;
  et_tensor *tensors;
  et_instr *instrs;
  uint32_t *chain_begin; /* [n_chains + 1] */
  uint32_t n_chains;
  const et_kernel **kernels; /* per operator */
  et_delegate_rt *delegates;
  uint32_t *inputs, *outputs;
  /* Each input's value as init made it: execute and set_input restore it, so
   * a MoveCall into an input never redirects the caller's data. */
  et_value *input_values;
  int32_t **input_bounds; /* per input: bound sizes of a tensor input */
  uint8_t *input_set;
  uint8_t *input_planned;
  et_kernel_ctx kctx;
  et_diag kdiag; /* kernel failures land here first */
  et_diag diag;
  et_method_stats stats;
  uint64_t max_instructions;
  et_tracer *tracer; /* NULL: no tracing */
  const et_data_map *external; /* what backends see at init */
  bool destroyed;
};

/* What a plan needs, counted from the flatbuffer. */
/* What a plan needs, counted from the flatbuffer. The named counts double
 * as an array (n[]) that et_method_layout indexes. */
enum {
  CNT_ONE, CNT_VALUES, CNT_TENSORS, CNT_RANK_TOTAL, CNT_LIST_ITEMS,
  CNT_INSTRS, CNT_ARGS, CNT_CHAINS_1, CNT_OPS, CNT_DELEGATES, CNT_SPECS,
  CNT_INPUTS, CNT_OUTPUTS, CNT_INPUT_RANK, CNT_N
};
typedef union counts {
  struct {
    size_t one, values, tensors, rank_total, list_items, instrs, args,
        chains_1, ops, delegates, specs, inputs, outputs, input_rank;
    size_t chains, delegate_bytes;
  };
  size_t n[CNT_N];
} counts;

/* The method arena's blocks, in layout order (see et_method_layout). */
#define LAYOUT_BLOCKS 19
typedef union layout_ptrs {
  struct {
    et_method *m;
    et_value *values;
    et_tensor *tensors;
    int32_t *sizes;
    int64_t *strides;
    et_value **list_items;
    et_instr *instrs;
    et_value **args;
    uint32_t *chain_begin;
    const et_kernel **kernels;
    et_delegate_rt *delegates;
    et_compile_spec *specs;
    uint32_t *inputs, *outputs;
    et_value *input_values;
    int32_t **input_bounds;
    int32_t *input_rank;
    uint8_t *input_set, *input_planned;
  };
  void *p[LAYOUT_BLOCKS];
} layout_ptrs;

/* The one description of the method arena's layout: counts (a counting
 * arena) and allocates (the caller's arena). */
void et_method_layout(et_arena *a, const counts *c, layout_ptrs *o);
const et_backend *et_find_backend(const et_registry *reg, const char *id);
const et_kernel *et_find_kernel(const et_registry *reg, const char *name);
/* Find, open and count the plan named `name`; then fill its metadata. */
et_status et_method_open_counted(const et_program *p, const char *name,
                                 const et_registry *registry, fb_reader *r,
                                 et_plan *plan, uint32_t *index, counts *c,
                                 et_diag *diag);
void et_method_fill_meta(const et_program *p, const et_plan *plan,
                         uint32_t index, const counts *c, et_method_meta *out);
size_t et_align_up(size_t n);

#endif /* EDGETORCH_CORE_METHOD_PRIV_H */
