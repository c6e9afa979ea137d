/*
 * Table-driven tests of program loading (runtime/core/program.c) and of the
 * argument checks method init makes, on programs crafted in C (fbbuild.h).
 *
 * Each case starts from a small valid program, changes one thing (in the
 * description, in the bytes, or both), and states the status and a fragment
 * of the message that names the problem. The classes: flatbuffer damage
 * (vtable sizes, offsets, union types, zero-length vectors), operator
 * argument counts and kinds of executorch_prim operators, huge planned
 * sizes, delegate segments and named data out of range, extended headers.
 * The undamaged programs are checked to load, initialize and compute the
 * right answer first, so a case cannot pass because everything fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fbbuild.h"
#include "internal.h"
#include "testutil.h"

/* ---- where things are in a built program -------------------------------- */

/* ---- the base programs -------------------------------------------------- */

/* Values of the executorch_prim program: every kind a prim operator might
 * be handed. */
enum {
  V_INT3, V_INT4, V_OUT, V_DOUBLE, V_TENSOR, V_LIST, V_INT2, V_NULL, V_BOOL,
  V_TENSOR_OUT, N_PRIM_VALUES
};

static void prim_program(tp_program *p, const char *op, uint32_t n_args,
                         const int32_t *args) {
  memset(p, 0, sizeof *p);
  static const int32_t two[1] = {2};
  static const int64_t list[1] = {V_INT2};
  p->n_values = N_PRIM_VALUES;
  p->values[V_INT3] = tp_int(3);
  p->values[V_INT4] = tp_int(4);
  p->values[V_OUT] = tp_int(0);
  p->values[V_DOUBLE] = tp_double(1.5);
  p->values[V_TENSOR] = tp_tensor(6, 1, two, 1, 0);
  p->values[V_LIST] = tp_int_list(1, list);
  p->values[V_INT2] = tp_int(2);
  p->values[V_NULL] = tp_null();
  p->values[V_BOOL] = tp_bool(true);
  p->values[V_TENSOR_OUT] = tp_tensor(6, 1, two, 1, 16);
  p->n_outputs = 1;
  p->outputs[0] = V_OUT;
  p->n_ops = 1;
  p->ops[0] = op;
  p->n_instrs = 1;
  p->instrs[0].type = IT_KERNEL;
  p->instrs[0].n_args = n_args;
  memcpy(p->instrs[0].args, args, n_args * sizeof *args);
  p->n_buffers = 2;
  p->buffer_sizes[1] = 32;
}

/* ---- loading and initializing ------------------------------------------- */

typedef struct run {
  uint8_t *bytes;
  size_t size;
  et_program prog;
  et_method *m;
  void *arena;
  void *planned[4];
  size_t planned_sizes[4];
  et_diag diag;
} run;

/* Load; then (when init) get the metadata and initialize "forward" with
 * exactly the memory it asks for (a planned buffer over 1 MiB gets 64 bytes
 * instead: the refusal is what is tested). Returns the first failure. */
static et_status load_init(run *r, bool init) {
  et_diag_clear(&r->diag);
  et_status st = et_program_load(&r->prog, r->bytes, r->size, ET_LOAD_DEFAULT);
  if (st) {
    et_format(r->diag.message, sizeof r->diag.message, "%s",
              et_program_message(&r->prog));
    return st;
  }
  if (!init) return ET_OK;
  et_method_meta meta;
  st = et_program_method_meta(&r->prog, "forward", tu_portable_registry(),
                              &meta, &r->diag);
  if (st) {
    /* Init makes the same checks first and must fail the same way. */
    _Alignas(16) static uint8_t small[64];
    et_method_memory mem;
    memset(&mem, 0, sizeof mem);
    mem.arena = small;
    mem.arena_size = sizeof small;
    et_status st2 = et_method_init(&r->prog, "forward", tu_portable_registry(),
                                   &mem, &r->m, &r->diag);
    if (st2 != st)
      fail_msg("metadata failed with %s but init with %s (%s)",
               et_status_name(st), et_status_name(st2), r->diag.message);
    r->m = NULL;
    return st;
  }
  et_method_memory mem;
  memset(&mem, 0, sizeof mem);
  r->arena = aligned_alloc(16, (meta.arena_bytes + 15) / 16 * 16 + 16);
  mem.arena = r->arena;
  mem.arena_size = meta.arena_bytes;
  assert_true(meta.n_planned <= 4);
  for (size_t i = 0; i < meta.n_planned; i++) {
    size_t want = et_method_meta_planned_size(&meta, i);
    size_t give = want > (1u << 20) ? 64 : want;
    r->planned[i] = aligned_alloc(16, (give + 15) / 16 * 16 + 16);
    memset(r->planned[i], 0, give);
    r->planned_sizes[i] = give;
  }
  mem.planned = r->planned;
  mem.planned_sizes = r->planned_sizes;
  mem.n_planned = meta.n_planned;
  return et_method_init(&r->prog, "forward", tu_portable_registry(), &mem,
                        &r->m, &r->diag);
}

static void run_free(run *r) {
  if (r->m) et_method_destroy(r->m);
  free(r->arena);
  for (int i = 0; i < 4; i++) free(r->planned[i]);
  free(r->bytes);
  memset(r, 0, sizeof *r);
}

/* ---- the controls: the undamaged programs work -------------------------- */

static void test_add_program_runs(void **state) {
  (void)state;
  tp_program p;
  tp_add_program(&p);
  run r;
  memset(&r, 0, sizeof r);
  r.bytes = tp_build(&p, &r.size, NULL);
  et_status st = load_init(&r, true);
  if (st) fail_msg("%s: %s", et_status_name(st), r.diag.message);
  const float x[2] = {1, 2}, y[2] = {3, 4};
  const int64_t sizes[1] = {2};
  assert_int_equal(et_method_set_input_tensor(r.m, 0, ET_FLOAT, 1, sizes, x,
                                              sizeof x), ET_OK);
  assert_int_equal(et_method_set_input_tensor(r.m, 1, ET_FLOAT, 1, sizes, y,
                                              sizeof y), ET_OK);
  st = et_method_execute(r.m);
  if (st) fail_msg("execute: %s", et_method_message(r.m));
  const et_value *out = et_method_output(r.m, 0);
  assert_int_equal(out->tag, ET_TAG_TENSOR);
  const float *o = (const float *)out->u.t->data;
  assert_true(o[0] == 4.0f && o[1] == 6.0f);
  run_free(&r);
}

static void test_prim_program_runs(void **state) {
  (void)state;
  static const struct {
    const char *op;
    int64_t want;
  } ops[] = {{"executorch_prim::add.Scalar", 7},
             {"executorch_prim::mul.Scalar", 12},
             {"executorch_prim::floordiv.int", 0},
             {"executorch_prim::mod.int", 3}};
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
    tp_program p;
    const int32_t args[3] = {V_INT3, V_INT4, V_OUT};
    prim_program(&p, ops[i].op, 3, args);
    run r;
    memset(&r, 0, sizeof r);
    r.bytes = tp_build(&p, &r.size, NULL);
    et_status st = load_init(&r, true);
    if (st) fail_msg("%s: %s: %s", ops[i].op, et_status_name(st),
                     r.diag.message);
    assert_int_equal(et_method_execute(r.m), ET_OK);
    const et_value *out = et_method_output(r.m, 0);
    assert_int_equal(out->tag, ET_TAG_INT);
    if (out->u.i != ops[i].want)
      fail_msg("%s gave %lld, expected %lld", ops[i].op, (long long)out->u.i,
               (long long)ops[i].want);
    run_free(&r);
  }
  /* et_view of the tensor with sizes [2] into the tensor output. */
  tp_program p;
  const int32_t args[3] = {V_TENSOR, V_LIST, V_TENSOR_OUT};
  prim_program(&p, "executorch_prim::et_view.default", 3, args);
  run r;
  memset(&r, 0, sizeof r);
  r.bytes = tp_build(&p, &r.size, NULL);
  et_status st = load_init(&r, true);
  if (st) fail_msg("et_view: %s: %s", et_status_name(st), r.diag.message);
  run_free(&r);
}

/* ---- the cases ---------------------------------------------------------- */

enum { LOAD, INIT };

typedef struct pcase {
  const char *name;
  /* The program: the executorch_prim program calling `op` with args when op
   * is set, else the aten::add.out program; then `edit` (optional). */
  const char *op;
  uint32_t n_args;
  int32_t args[6];
  void (*edit)(tp_program *p);
  /* Byte damage after building (optional). */
  void (*damage)(uint8_t *b, size_t size, const tp_layout *l);
  int phase;        /* LOAD: et_program_load only; INIT: through init */
  et_status status; /* expected (ET_OK for the controls) */
  const char *frag[2];
} pcase;

/* flatbuffer damage ------------------------------------------------------- */
static void d_plan_vt_size_2(uint8_t *b, size_t n, const tp_layout *l) {
  (void)n;
  tfb_wr16(b, tfb_vtable(b, l->plan), 2);
}
static void d_evalue_vt_size_odd(uint8_t *b, size_t n, const tp_layout *l) {
  (void)n;
  tfb_wr16(b, tfb_vtable(b, l->evalue[1]), 7);
}
static void d_tensor_vt_past_end(uint8_t *b, size_t n, const tp_layout *l) {
  (void)n;
  tfb_wr16(b, tfb_vtable(b, l->val[0]), 0xfffe);
}
static void d_instr_table_past_end(uint8_t *b, size_t n, const tp_layout *l) {
  (void)n;
  tfb_wr16(b, tfb_vtable(b, l->instr[0]) + 2, 0xfff0);
}
static void d_kernelcall_field_outside(uint8_t *b, size_t n,
                                       const tp_layout *l) {
  (void)n;
  tfb_wr16(b, tfb_vtable(b, l->args[0]) + 4 + 2 * 1, 0x7ff0);
}
static void d_values_offset_past_end(uint8_t *b, size_t n, const tp_layout *l) {
  (void)n;
  tfb_wr32(b, tfb_slot(b, l->plan, PLAN_VALUES), 0x7ffffff0u);
}
static void d_values_offset_wraps(uint8_t *b, size_t n, const tp_layout *l) {
  (void)n;
  /* slot + uoffset wraps to 8 in 32-bit arithmetic: inside the file. */
  size_t s = tfb_slot(b, l->plan, PLAN_VALUES);
  tfb_wr32(b, s, (uint32_t)(0x100000008ull - s));
}
static void d_values_len_wraps(uint8_t *b, size_t n, const tp_layout *l) {
  (void)n;
  tfb_wr32(b, l->plan_values_vec, 0x40000001u); /* * 4 = 4 mod 2^32 */
}
static void d_name_unterminated(uint8_t *b, size_t n, const tp_layout *l) {
  (void)n;
  size_t s = tfb_target(b, l->plan, PLAN_NAME);
  b[s + 4 + tfb_rd32(b, s)] = 'x';
}
static void d_sizes_offset_past_end(uint8_t *b, size_t n, const tp_layout *l) {
  (void)n;
  tfb_wr32(b, tfb_slot(b, l->val[0], TENSOR_SIZES), 0xfffffff0u);
}
static void d_buffer_sizes_len(uint8_t *b, size_t n, const tp_layout *l) {
  (void)n;
  tfb_wr32(b, l->buffer_sizes_vec, 0x20000000u); /* * 8 = 0 mod 2^32 */
}
static void d_root_offset(uint8_t *b, size_t n, const tp_layout *l) {
  (void)l;
  tfb_wr32(b, 0, (uint32_t)n);
}
static void d_operator_name_len(uint8_t *b, size_t n, const tp_layout *l) {
  (void)n;
  size_t ops = tfb_target(b, l->plan, PLAN_OPERATORS);
  size_t op = ops + 4 + tfb_rd32(b, ops + 4);
  tfb_wr32(b, tfb_target(b, op, OPERATOR_NAME), 0xfffffff0u);
}

/* union types ------------------------------------------------------------- */
static void d_evalue_type_0(uint8_t *b, size_t n, const tp_layout *l) {
  (void)n;
  b[tfb_slot(b, l->evalue[2], EVALUE_TYPE)] = 0;
}
static void d_evalue_type_12(uint8_t *b, size_t n, const tp_layout *l) {
  (void)n;
  b[tfb_slot(b, l->evalue[2], EVALUE_TYPE)] = 12;
}
static void d_evalue_int_as_tensor(uint8_t *b, size_t n, const tp_layout *l) {
  (void)n;
  b[tfb_slot(b, l->evalue[2], EVALUE_TYPE)] = KT_TENSOR;
}
static void d_evalue_int_as_string(uint8_t *b, size_t n, const tp_layout *l) {
  (void)n;
  b[tfb_slot(b, l->evalue[2], EVALUE_TYPE)] = KT_STRING;
}
static void d_evalue_int_as_intlist(uint8_t *b, size_t n, const tp_layout *l) {
  (void)n;
  b[tfb_slot(b, l->evalue[2], EVALUE_TYPE)] = KT_INT_LIST;
}
static void d_evalue_tensor_as_int(uint8_t *b, size_t n, const tp_layout *l) {
  (void)n;
  b[tfb_slot(b, l->evalue[0], EVALUE_TYPE)] = KT_INT;
}
static void d_evalue_no_payload(uint8_t *b, size_t n, const tp_layout *l) {
  (void)n;
  tfb_wr16(b, tfb_vtable(b, l->evalue[2]) + 4 + 2 * EVALUE_VAL, 0);
}
static void e_big_int(tp_program *p) { p->values[2] = tp_int(0x7ffffff0); }
static void d_instr_type_6(uint8_t *b, size_t n, const tp_layout *l) {
  (void)n;
  b[tfb_slot(b, l->instr[0], INSTR_TYPE)] = 6;
}
static void d_instr_type_0(uint8_t *b, size_t n, const tp_layout *l) {
  (void)n;
  b[tfb_slot(b, l->instr[0], INSTR_TYPE)] = 0;
}
static void d_instr_kernel_as_move(uint8_t *b, size_t n, const tp_layout *l) {
  (void)n;
  b[tfb_slot(b, l->instr[0], INSTR_TYPE)] = IT_MOVE;
}
static void d_instr_kernel_as_delegate(uint8_t *b, size_t n,
                                       const tp_layout *l) {
  (void)n;
  b[tfb_slot(b, l->instr[0], INSTR_TYPE)] = IT_DELEGATE;
}
static void d_instr_kernel_as_jump(uint8_t *b, size_t n, const tp_layout *l) {
  (void)n;
  b[tfb_slot(b, l->instr[0], INSTR_TYPE)] = IT_JUMP_FALSE;
}
static void d_instr_as_kernel(uint8_t *b, size_t n, const tp_layout *l) {
  (void)n;
  b[tfb_slot(b, l->instr[0], INSTR_TYPE)] = IT_KERNEL;
}
static void e_free_instr(tp_program *p) {
  p->instrs[0].type = IT_FREE;
  p->instrs[0].a = 0;
}
static void d_instr_no_args(uint8_t *b, size_t n, const tp_layout *l) {
  (void)n;
  tfb_wr16(b, tfb_vtable(b, l->instr[0]) + 4 + 2 * INSTR_ARGS, 0);
}

/* zero-length vectors ------------------------------------------------------ */
static void e_no_values(tp_program *p) {
  p->n_values = 0;
  p->n_instrs = 0;
}
static void d_no_chains(uint8_t *b, size_t n, const tp_layout *l) {
  (void)n;
  tfb_wr32(b, tfb_target(b, l->plan, PLAN_CHAINS), 0);
}
static void d_no_plans(uint8_t *b, size_t n, const tp_layout *l) {
  (void)n;
  tfb_wr32(b, tfb_target(b, l->root, PROGRAM_EXECUTION_PLAN), 0);
}
static void e_no_args(tp_program *p) { p->instrs[0].n_args = 0; }
static void e_no_buffer_sizes(tp_program *p) { p->n_buffers = 0; }
static void e_no_operators(tp_program *p) { p->n_ops = 0; }
static void e_no_instructions(tp_program *p) { p->n_instrs = 0; }
static void e_rank0_tensor(tp_program *p) {
  p->values[3].rank = 0;
  p->n_instrs = 0;
}
static void e_no_inputs_outputs(tp_program *p) {
  p->n_inputs = 0;
  p->n_outputs = 0;
}
static void e_arg_out_of_range(tp_program *p) { p->instrs[0].args[2] = 99; }
static void e_arg_negative(tp_program *p) { p->instrs[0].args[1] = -1; }
static void e_output_out_of_range(tp_program *p) { p->outputs[0] = 4; }
static void e_int_list_item_not_int(tp_program *p) {
  static const int64_t items[2] = {2, 0}; /* value 0 is a tensor */
  p->values[p->n_values++] = tp_int_list(2, items);
}
static void e_int_list_item_out_of_range(tp_program *p) {
  static const int64_t items[1] = {(int64_t)1 << 40};
  p->values[p->n_values++] = tp_int_list(1, items);
}
static void e_tensor_list_item_not_tensor(tp_program *p) {
  tp_value v;
  memset(&v, 0, sizeof v);
  v.type = KT_TENSOR_LIST;
  v.n = 2;
  v.items[0] = 0;
  v.items[1] = 2; /* an Int */
  p->values[p->n_values++] = v;
}
static void e_unknown_operator(tp_program *p) {
  p->ops[0] = "executorch_prim::nope.Scalar";
}

/* tensors and planned sizes ----------------------------------------------- */
/* An INT64_MAX planned buffer: a tensor past its end on 64-bit targets; on
 * 32-bit ones the buffer itself is refused first (more than size_t holds). */
#if SIZE_MAX > 0xFFFFFFFFu
#define BIG_BUFFER_REFUSAL INV, {"value 3", "past the end of planned buffer 0"}
#else
#define BIG_BUFFER_REFUSAL \
  ET_NOT_SUPPORTED, {"planned buffer 0", "more than this target can address"}
#endif

static void e_buffer_int64_max(tp_program *p) {
  p->buffer_sizes[1] = INT64_MAX;
}
static void e_buffer_negative(tp_program *p) { p->buffer_sizes[1] = -1; }
static void e_unused_buffer_int64_min(tp_program *p) {
  p->n_buffers = 3;
  p->buffer_sizes[2] = INT64_MIN;
}
static void e_offset_near_int64_max(tp_program *p) {
  p->buffer_sizes[1] = INT64_MAX;
  p->values[3].offset = (uint64_t)INT64_MAX - 3; /* 4-aligned, 4 bytes left */
}
static void e_offset_wraps(tp_program *p) {
  p->values[3].offset = UINT64_MAX - 7; /* + 8 bytes = 2^64 */
}
static void e_offset_wraps_big_buffer(tp_program *p) {
  p->buffer_sizes[1] = INT64_MAX;
  p->values[3].offset = UINT64_MAX - 7;
}
static void e_offset_unaligned(tp_program *p) { p->values[3].offset = 34; }
static void e_memory_id_2(tp_program *p) { p->values[3].mem_id = 2; }
static void e_numel_overflow(tp_program *p) {
  p->values[3].rank = 3;
  for (int d = 0; d < 3; d++) {
    p->values[3].sizes[d] = INT32_MAX;
    p->values[3].dim_order[d] = (uint8_t)d;
  }
}
static void e_nbytes_overflow(tp_program *p) {
  /* 2^62 floats: the count fits, the bytes do not. */
  p->values[3].rank = 4;
  for (int d = 0; d < 4; d++) {
    p->values[3].sizes[d] = 1 << 16;
    p->values[3].dim_order[d] = (uint8_t)d;
  }
  p->values[3].sizes[3] = 1 << 14; /* 2^62 elements * 4 bytes = 2^64 */
}
static void e_huge_tensor(tp_program *p) {
  p->values[3].sizes[0] = INT32_MAX; /* 8 GiB in a 48-byte buffer */
}
static void e_negative_size(tp_program *p) { p->values[3].sizes[0] = -2; }
static void e_dim_order_repeat(tp_program *p) {
  p->values[3].rank = 2;
  p->values[3].sizes[1] = 1;
  p->values[3].dim_order[0] = 0;
  p->values[3].dim_order[1] = 0;
}
static void e_rank_too_big(tp_program *p) {
  tp_value *v = &p->values[3];
  v->rank = ET_MAX_RANK + 1;
  for (int d = 0; d < ET_MAX_RANK + 1; d++) {
    v->sizes[d] = 1;
    v->dim_order[d] = (uint8_t)d;
  }
}
static void e_dtype_unknown(tp_program *p) { p->values[3].dtype = 99; }
static void e_constant_index(tp_program *p) {
  p->values[1].mem_id = 0;
  p->values[1].dbi = 5;
}
static void e_constant_too_small(tp_program *p) {
  static const int32_t eight[1] = {8};
  p->n_constants = 2;
  p->values[1] = tp_tensor(6, 1, eight, 0, 0); /* 32 bytes; buffer has 16 */
  p->values[1].dbi = 1;
}

/* delegates, segments, named data, headers -------------------------------- */
static void e_delegate(tp_program *p, int8_t loc, uint32_t index) {
  p->n_delegates = 1;
  p->delegates[0].id = "NoSuchBackend";
  p->delegates[0].location = loc;
  p->delegates[0].index = index;
}
static void e_delegate_segment_ok(tp_program *p) {
  e_delegate(p, 1, 0);
  p->n_segments = 1;
  p->segments[0] = (tp_segment){0, 16};
  p->segment_bytes = 16;
}
static void e_delegate_segment_size_max(tp_program *p) {
  e_delegate_segment_ok(p);
  p->segments[0].size = UINT64_MAX;
}
static void e_delegate_segment_wraps(tp_program *p) {
  e_delegate_segment_ok(p);
  p->segments[0] = (tp_segment){UINT64_MAX - 7, 16};
}
static void e_delegate_segment_past_file(tp_program *p) {
  e_delegate_segment_ok(p);
  p->segments[0] = (tp_segment){(uint64_t)1 << 40, 4};
}
static void e_delegate_segment_one_past(tp_program *p) {
  e_delegate_segment_ok(p);
  p->segments[0] = (tp_segment){1, 16};
}
static void e_delegate_segment_index(tp_program *p) {
  e_delegate_segment_ok(p);
  p->delegates[0].index = 3;
}
static void e_delegate_no_base(tp_program *p) {
  e_delegate_segment_ok(p);
  p->segment_bytes = 0;
  p->segments[0].size = 4;
}
static void e_delegate_inline_index(tp_program *p) {
  e_delegate(p, 0, 2);
  p->n_delegate_data = 1;
}
static void e_delegate_location(tp_program *p) {
  e_delegate(p, 5, 0);
  p->n_delegate_data = 1;
}
static void e_delegate_inline_ok(tp_program *p) {
  e_delegate(p, 0, 0);
  p->n_delegate_data = 1;
}
static void e_named_ok(tp_program *p) {
  p->n_segments = 1;
  p->segments[0] = (tp_segment){0, 16};
  p->segment_bytes = 16;
  p->n_named = 1;
  p->named[0] = (tp_named){"weight", 0};
}
static void e_named_index(tp_program *p) {
  e_named_ok(p);
  p->named[0].segment = 4;
}
static void e_named_index_max(tp_program *p) {
  e_named_ok(p);
  p->named[0].segment = UINT32_MAX;
}
static void e_named_no_segments(tp_program *p) {
  p->n_named = 1;
  p->named[0] = (tp_named){"weight", 0};
}
static void d_named_no_key(uint8_t *b, size_t n, const tp_layout *l) {
  (void)n;
  tfb_wr16(b, tfb_vtable(b, l->named[0]) + 4, 0);
}
static void d_segment_base_past_file(uint8_t *b, size_t n, const tp_layout *l) {
  (void)l;
  tfb_wr64(b, 24, n + 16);
}
static void d_segment_size_wraps(uint8_t *b, size_t n, const tp_layout *l) {
  (void)n;
  (void)l;
  tfb_wr64(b, 32, UINT64_MAX);
}
static void d_program_size_past_file(uint8_t *b, size_t n,
                                     const tp_layout *l) {
  (void)l;
  tfb_wr64(b, 16, (uint64_t)n + 1);
}
static void d_header_length_short(uint8_t *b, size_t n, const tp_layout *l) {
  (void)n;
  (void)l;
  tfb_wr32(b, 12, 16);
}

/* constant and mutable segments ------------------------------------------ */
static void e_const_segment_ok(tp_program *p) {
  p->n_segments = 1;
  p->segments[0] = (tp_segment){0, 16};
  p->segment_bytes = 16;
  p->subseg[0].present = true;
  p->subseg[0].n_offsets = 2; /* offset 0 is the unused placeholder */
  p->values[1].mem_id = 0;
  p->values[1].dbi = 1;
}
static void e_const_offset_past(tp_program *p) {
  e_const_segment_ok(p);
  p->subseg[0].offsets[1] = 17;
}
static void e_const_offset_max(tp_program *p) {
  e_const_segment_ok(p);
  p->subseg[0].offsets[1] = UINT64_MAX;
}
static void e_const_tensor_past(tp_program *p) {
  e_const_segment_ok(p);
  p->subseg[0].offsets[1] = 12; /* 8 bytes from 12 in a 16-byte segment */
}
static void e_const_segment_index(tp_program *p) {
  e_const_segment_ok(p);
  p->subseg[0].segment = 3;
}
static void e_const_index_past(tp_program *p) {
  e_const_segment_ok(p);
  p->values[1].dbi = 2;
}
static void e_const_and_inline(tp_program *p) {
  e_const_segment_ok(p);
  p->n_constants = 2;
}
static void e_mutable_ok(tp_program *p) {
  p->n_segments = 1;
  p->segments[0] = (tp_segment){0, 16};
  p->segment_bytes = 16;
  p->subseg[1].present = true;
  p->subseg[1].n_offsets = 2;
  p->values[3].dbi = 1; /* planned, with initial data */
}
static void e_mutable_tensor_past(tp_program *p) {
  e_mutable_ok(p);
  p->subseg[1].offsets[1] = 12;
}
static void e_mutable_index_past(tp_program *p) {
  e_mutable_ok(p);
  p->values[3].dbi = 3;
}
static void e_mutable_offset_past(tp_program *p) {
  e_mutable_ok(p);
  p->subseg[1].offsets[1] = 100;
}

/* instruction semantics ---------------------------------------------------- */
static void e_move_changes_kind(tp_program *p) {
  p->instrs[p->n_instrs++] = (tp_instr){IT_MOVE, 2, 0, 0, {0}};
}
static void e_move_out_of_range(tp_program *p) {
  p->instrs[p->n_instrs++] = (tp_instr){IT_MOVE, 0, 40, 0, {0}};
}
static void e_free_int(tp_program *p) {
  p->instrs[p->n_instrs++] = (tp_instr){IT_FREE, 2, 0, 0, {0}};
}
static void e_jump_on_none(tp_program *p) {
  p->values[p->n_values++] = tp_null();
  p->instrs[p->n_instrs++] = (tp_instr){IT_JUMP_FALSE, 4, 0, 0, {0}};
}
static void e_jump_negative(tp_program *p) {
  p->instrs[p->n_instrs++] = (tp_instr){IT_JUMP_FALSE, 0, -1, 0, {0}};
}
static void e_jump_to_end(tp_program *p) {
  p->values[p->n_values++] = tp_bool(true);
  p->instrs[p->n_instrs++] = (tp_instr){IT_JUMP_FALSE, 4, 2, 0, {0}};
}
static void e_op_name_overlong(tp_program *p) {
  static char name[200];
  memset(name, 'a', sizeof name - 1);
  memcpy(name, "aten::", 6);
  p->ops[0] = name;
}
static void e_op_name_empty(tp_program *p) { p->ops[0] = ""; }

#define PRIM(name, op, n, ...) name, op, n, {__VA_ARGS__}, NULL, NULL, INIT
#define ADD(name, edit, damage, phase) name, NULL, 0, {0}, edit, damage, phase
#define INV ET_INVALID_PROGRAM

static const pcase kCases[] = {
    /* ---- flatbuffer damage: vtable sizes ---- */
    {ADD("plan vtable size 2", NULL, d_plan_vt_size_2, LOAD), INV,
     {"malformed flatbuffer", "ExecutionPlan"}},
    {ADD("EValue vtable size odd", NULL, d_evalue_vt_size_odd, LOAD), INV,
     {"malformed flatbuffer", "EValue"}},
    {ADD("Tensor vtable size past the end", NULL, d_tensor_vt_past_end, LOAD),
     INV, {"malformed flatbuffer", "EValue field 1"}},
    {ADD("Instruction table size past the end", NULL, d_instr_table_past_end,
         LOAD), INV, {"malformed flatbuffer", "Instruction"}},
    {ADD("KernelCall field placed outside its table", NULL,
         d_kernelcall_field_outside, LOAD), INV,
     {"malformed flatbuffer", "KernelCall field 1"}},
    /* ---- offsets ---- */
    {ADD("root offset at the end of the file", NULL, d_root_offset, LOAD), INV,
     {"malformed flatbuffer", "root offset"}},
    {ADD("values offset past the end", NULL, d_values_offset_past_end, LOAD),
     INV, {"malformed flatbuffer", "ExecutionPlan field 2"}},
    {ADD("values offset wrapping uint32", NULL, d_values_offset_wraps, LOAD),
     INV, {"malformed flatbuffer", "ExecutionPlan field 2"}},
    {ADD("values length * 4 wrapping uint32", NULL, d_values_len_wraps, LOAD),
     INV, {"malformed flatbuffer", "ExecutionPlan field 2"}},
    {ADD("buffer sizes length * 8 wrapping uint32", NULL, d_buffer_sizes_len,
         LOAD), INV, {"malformed flatbuffer", "ExecutionPlan field 8"}},
    {ADD("method name without terminator", NULL, d_name_unterminated, LOAD),
     INV, {"malformed flatbuffer", "ExecutionPlan field 0"}},
    {ADD("tensor sizes offset past the end", NULL, d_sizes_offset_past_end,
         LOAD), INV, {"malformed flatbuffer", "Tensor field 2"}},
    {ADD("operator name length past the end", NULL, d_operator_name_len,
         LOAD), INV, {"malformed flatbuffer", "Operator field 0"}},
    {ADD("kernel argument value out of range", e_arg_out_of_range, NULL, LOAD),
     INV, {"argument 2 refers to value 99", "out of range"}},
    {ADD("kernel argument value negative", e_arg_negative, NULL, LOAD), INV,
     {"argument 1 refers to value -1", "out of range"}},
    {ADD("output value out of range", e_output_out_of_range, NULL, LOAD), INV,
     {"output 0 refers to value 4", "out of range"}},
    {ADD("int list item out of range", e_int_list_item_out_of_range, NULL,
         LOAD), INV, {"int list item", "out of range"}},
    {ADD("int list item of the wrong kind", e_int_list_item_not_int, NULL,
         LOAD), INV, {"int list item refers to value 0", "expected type 2"}},
    {ADD("tensor list item of the wrong kind", e_tensor_list_item_not_tensor,
         NULL, LOAD), INV,
     {"tensor list item refers to value 2", "expected type 5"}},
    {ADD("constant buffer index out of range", e_constant_index, NULL, LOAD),
     INV, {"value 1", "constant buffer index 5 out of range"}},
    {ADD("constant buffer smaller than its tensor", e_constant_too_small,
         NULL, LOAD), INV, {"value 1", "has 16 bytes, tensor needs 32"}},
    /* ---- union types ---- */
    {ADD("EValue type 0 (None)", NULL, d_evalue_type_0, LOAD), INV,
     {"value 2", "unknown type 0"}},
    {ADD("EValue type 12 (past the union)", NULL, d_evalue_type_12, LOAD), INV,
     {"value 2", "unknown type 12"}},
    {ADD("EValue says Tensor, payload is an Int", NULL,
         d_evalue_int_as_tensor, LOAD), INV, {"value 2", "lacks sizes"}},
    {ADD("EValue says String, payload is an Int", e_big_int,
         d_evalue_int_as_string, LOAD), INV,
     {"malformed flatbuffer", "String field 0"}},
    {ADD("EValue says IntList, payload is an Int", e_big_int,
         d_evalue_int_as_intlist, LOAD), INV,
     {"malformed flatbuffer", "IntList field 0"}},
    {ADD("EValue says Int, payload is a Tensor (caught by the kernel "
         "signature)", NULL, d_evalue_tensor_as_int, INIT), INV,
     {"argument 0 (value 0)", "expected"}},
    {ADD("EValue with no payload", NULL, d_evalue_no_payload, LOAD), INV,
     {"value 2", "no payload"}},
    {ADD("Instruction type 6", NULL, d_instr_type_6, LOAD), INV,
     {"instruction 0", "unknown type 6"}},
    {ADD("Instruction type 0 (None)", NULL, d_instr_type_0, LOAD), INV,
     {"instruction 0", "unknown type 0"}},
    {ADD("Instruction says MoveCall, payload is a KernelCall", NULL,
         d_instr_kernel_as_move, LOAD), INV,
     {"instruction 0", "out of range"}},
    {ADD("Instruction says DelegateCall, payload is a KernelCall", NULL,
         d_instr_kernel_as_delegate, LOAD), INV,
     {"instruction 0", "delegate index 0 out of range"}},
    {ADD("Instruction says JumpFalseCall, payload is a KernelCall", NULL,
         d_instr_kernel_as_jump, LOAD), INV,
     {"instruction 0", "jump destination"}},
    {ADD("Instruction says KernelCall, payload is a FreeCall", e_free_instr,
         d_instr_as_kernel, LOAD), INV,
     {"instruction 0", "no argument list"}},
    {ADD("Instruction with no payload", NULL, d_instr_no_args, LOAD), INV,
     {"instruction 0", "no arguments"}},
    /* ---- zero-length vectors ---- */
    {ADD("no values, inputs refer to value 0", e_no_values, NULL, LOAD), INV,
     {"input 0 refers to value 0", "0 values"}},
    {ADD("no chains", NULL, d_no_chains, LOAD), INV, {"no chains", NULL}},
    {ADD("no execution plans: loads, method not found", NULL, d_no_plans,
         INIT), ET_NOT_FOUND, {"forward", NULL}},
    {ADD("kernel call with no arguments", e_no_args, NULL, INIT), INV,
     {"passes 0 arguments", "aten::add.out"}},
    {ADD("no planned buffers, tensors planned in buffer 1", e_no_buffer_sizes,
         NULL, LOAD), INV, {"memory_id 1 out of range", NULL}},
    {ADD("no operators, a kernel call uses operator 0", e_no_operators, NULL,
         LOAD), INV, {"operator index 0 out of range", NULL}},
    {ADD("no instructions: a valid constant method", e_no_instructions, NULL,
         INIT), ET_OK, {NULL, NULL}},
    {ADD("rank-0 tensor (empty sizes and dim_order)", e_rank0_tensor, NULL,
         INIT), ET_OK, {NULL, NULL}},
    {ADD("no inputs or outputs", e_no_inputs_outputs, NULL, INIT), ET_OK,
     {NULL, NULL}},
    /* ---- executorch_prim operators: argument counts and kinds ---- */
    {PRIM("add.Scalar with 2 arguments", "executorch_prim::add.Scalar", 2,
          V_INT3, V_INT4), INV,
     {"passes 2 arguments", "executorch_prim::add.Scalar"}},
    {PRIM("add.Scalar with 4 arguments", "executorch_prim::add.Scalar", 4,
          V_INT3, V_INT4, V_OUT, V_OUT), INV,
     {"passes 4 arguments", "takes 3"}},
    {PRIM("add.Scalar with no arguments", "executorch_prim::add.Scalar", 0, 0),
     INV, {"passes 0 arguments", "takes 3"}},
    {PRIM("add.Scalar given a tensor", "executorch_prim::add.Scalar", 3,
          V_TENSOR, V_INT4, V_OUT), INV,
     {"argument 0 (value 4)", "executorch_prim::add.Scalar"}},
    {PRIM("add.Scalar given an int list", "executorch_prim::add.Scalar", 3,
          V_INT3, V_LIST, V_OUT), INV, {"argument 1 (value 5)", NULL}},
    {PRIM("add.Scalar writing into None", "executorch_prim::add.Scalar", 3,
          V_INT3, V_INT4, V_NULL), INV, {"argument 2 (value 7)", NULL}},
    {PRIM("sub.Scalar with 1 argument", "executorch_prim::sub.Scalar", 1,
          V_INT3), INV, {"passes 1 arguments", "takes 3"}},
    {PRIM("neg.Scalar writing into a tensor", "executorch_prim::neg.Scalar",
          2, V_INT3, V_TENSOR), INV, {"argument 1 (value 4)", NULL}},
    {PRIM("sym_ite.Scalar with 3 arguments", "executorch_prim::sym_ite.Scalar",
          3, V_BOOL, V_INT3, V_OUT), INV, {"passes 3 arguments", "takes 4"}},
    {PRIM("floordiv.int given a double", "executorch_prim::floordiv.int", 3,
          V_INT3, V_DOUBLE, V_OUT), INV, {"argument 1 (value 3)", NULL}},
    {PRIM("mod.int given a bool", "executorch_prim::mod.int", 3, V_BOOL,
          V_INT3, V_OUT), INV, {"argument 0 (value 8)", NULL}},
    {PRIM("et_view with 2 arguments", "executorch_prim::et_view.default", 2,
          V_TENSOR, V_LIST), INV, {"passes 2 arguments", "takes 3"}},
    {PRIM("et_view with 4 arguments", "executorch_prim::et_view.default", 4,
          V_TENSOR, V_LIST, V_TENSOR_OUT, V_TENSOR_OUT), INV,
     {"passes 4 arguments", "takes 3"}},
    {PRIM("et_view given an int for the sizes",
          "executorch_prim::et_view.default", 3, V_TENSOR, V_INT2,
          V_TENSOR_OUT), INV, {"argument 1 (value 6)", NULL}},
    {PRIM("et_view into an int", "executorch_prim::et_view.default", 3,
          V_TENSOR, V_LIST, V_OUT), INV, {"argument 2 (value 2)", NULL}},
    {PRIM("et_view of None", "executorch_prim::et_view.default", 3, V_NULL,
          V_LIST, V_TENSOR_OUT), INV, {"argument 0 (value 7)", NULL}},
    {PRIM("et_copy_index with 2 arguments",
          "executorch_prim::et_copy_index.tensor", 2, V_TENSOR_OUT, V_TENSOR),
     INV, {"passes 2 arguments", "takes 3"}},
    {PRIM("et_copy_index with 5 arguments",
          "executorch_prim::et_copy_index.tensor", 5, V_TENSOR_OUT, V_TENSOR,
          V_INT2, V_INT2, V_INT2), INV, {"passes 5 arguments", "takes 3"}},
    {PRIM("et_copy_index given a double index",
          "executorch_prim::et_copy_index.tensor", 3, V_TENSOR_OUT, V_TENSOR,
          V_DOUBLE), INV, {"argument 2 (value 3)", NULL}},
    {PRIM("et_copy_index into an int", "executorch_prim::et_copy_index.tensor",
          3, V_INT3, V_TENSOR, V_INT2), INV, {"argument 0 (value 0)", NULL}},
    {PRIM("et_copy_index from a list", "executorch_prim::et_copy_index.tensor",
          3, V_TENSOR_OUT, V_LIST, V_INT2), INV,
     {"argument 1 (value 5)", NULL}},
    {ADD("operator the registry lacks", e_unknown_operator, NULL, INIT),
     ET_OPERATOR_MISSING, {"executorch_prim::nope.Scalar", NULL}},
    /* ---- tensors and huge planned sizes ---- */
#if SIZE_MAX > 0xFFFFFFFFu
    {ADD("planned buffer of INT64_MAX bytes: loads, init refuses", 
         e_buffer_int64_max, NULL, INIT), ET_MEMORY_ALLOCATION_FAILED,
     {"planned buffer 0", "9223372036854775807"}},
#else /* more than a 32-bit target can address: refused at load */
    {ADD("planned buffer of INT64_MAX bytes: refused at load",
         e_buffer_int64_max, NULL, LOAD), ET_NOT_SUPPORTED,
     {"planned buffer 0", "9223372036854775807"}},
#endif
    {ADD("planned buffer of -1 bytes", e_buffer_negative, NULL, LOAD), INV,
     {"planned buffer 0", "-1 bytes"}},
    {ADD("unused planned buffer of INT64_MIN bytes", e_unused_buffer_int64_min,
         NULL, LOAD), INV, {"planned buffer 1 has negative size", NULL}},
    {ADD("tensor 4 bytes before INT64_MAX in an INT64_MAX buffer",
         e_offset_near_int64_max, NULL, LOAD), BIG_BUFFER_REFUSAL},
    {ADD("offset + nbytes wrapping 2^64", e_offset_wraps, NULL, LOAD), INV,
     {"value 3", "past the end of planned buffer 0"}},
    {ADD("offset + nbytes wrapping 2^64 in an INT64_MAX buffer",
         e_offset_wraps_big_buffer, NULL, LOAD), BIG_BUFFER_REFUSAL},
    {ADD("planned offset not aligned for the dtype", e_offset_unaligned, NULL,
         LOAD), INV, {"value 3", "not aligned"}},
    {ADD("memory_id past the planned buffers", e_memory_id_2, NULL, LOAD), INV,
     {"value 3", "memory_id 2 out of range"}},
    {ADD("element count overflowing size_t", e_numel_overflow, NULL, LOAD),
     INV, {"value 3", "overflows"}},
    {ADD("byte count overflowing size_t", e_nbytes_overflow, NULL, LOAD), INV,
     {"value 3", "overflows"}},
    {ADD("8 GiB tensor in a 48-byte buffer", e_huge_tensor, NULL, LOAD), INV,
#if SIZE_MAX > 0xFFFFFFFFu
     {"value 3", "past the end of planned buffer 0"}},
#else /* 8 GiB is more bytes than a 32-bit size_t counts */
     {"value 3", "overflows"}},
#endif
    {ADD("negative tensor size", e_negative_size, NULL, LOAD), INV,
     {"value 3", "negative"}},
    {ADD("dim_order not a permutation", e_dim_order_repeat, NULL, LOAD), INV,
     {"value 3", "dim_order is not a permutation"}},
    {ADD("rank above the limit", e_rank_too_big, NULL, LOAD), INV,
     {"value 3", "exceeds the limit"}},
    {ADD("unknown scalar type", e_dtype_unknown, NULL, LOAD), INV,
     {"value 3", "unsupported scalar type 99"}},
    /* ---- delegate segments ---- */
    {ADD("delegate in a valid segment: loads", e_delegate_segment_ok, NULL,
         LOAD), ET_OK, {NULL, NULL}},
    {ADD("delegate inline: loads", e_delegate_inline_ok, NULL, LOAD), ET_OK,
     {NULL, NULL}},
    {ADD("segment size UINT64_MAX", e_delegate_segment_size_max, NULL, LOAD),
     INV, {"segment 0", "lies outside"}},
    {ADD("segment offset + size wrapping 2^64", e_delegate_segment_wraps, NULL,
         LOAD), INV, {"segment 0", "lies outside"}},
    {ADD("segment offset past the file", e_delegate_segment_past_file, NULL,
         LOAD), INV, {"segment 0", "lies outside"}},
    {ADD("segment one byte past the file", e_delegate_segment_one_past, NULL,
         LOAD), INV, {"segment 0", "lies outside"}},
    {ADD("delegate segment index out of range", e_delegate_segment_index,
         NULL, LOAD), INV, {"segment index 3 out of range", NULL}},
    {ADD("segment data without a segment base", e_delegate_no_base, NULL,
         LOAD), INV, {"segment 0", "segment base"}},
    {ADD("delegate inline data index out of range", e_delegate_inline_index,
         NULL, LOAD), INV, {"inline data index 2 out of range", NULL}},
    {ADD("delegate data location 5", e_delegate_location, NULL, LOAD), INV,
     {"location 5", "unknown"}},
    /* ---- named data ---- */
    {ADD("named data in a valid segment: loads", e_named_ok, NULL, LOAD), ET_OK,
     {NULL, NULL}},
    {ADD("named data segment index out of range", e_named_index, NULL, LOAD),
     INV, {"named data 0", "segment index 4 out of range"}},
    {ADD("named data segment index UINT32_MAX", e_named_index_max, NULL, LOAD),
     INV, {"named data 0", "segment index 4294967295"}},
    {ADD("named data with no segments", e_named_no_segments, NULL, LOAD), INV,
     {"named data 0", "segment index 0 out of range"}},
    {ADD("named data without a key", e_named_ok, d_named_no_key, LOAD), INV,
     {"named data 0", "missing key"}},
    /* ---- constant and mutable segments ---- */
    {ADD("constant in a segment: loads", e_const_segment_ok, NULL, LOAD),
     ET_OK, {NULL, NULL}},
    {ADD("constant offset past its segment", e_const_offset_past, NULL, LOAD),
     INV, {"constant segment offset 1 (17)", "16 bytes"}},
    {ADD("constant offset UINT64_MAX", e_const_offset_max, NULL, LOAD), INV,
     {"constant segment offset 1 (18446744073709551615)", NULL}},
    {ADD("constant tensor running past its segment", e_const_tensor_past,
         NULL, LOAD), INV,
     {"value 1: constant data (8 bytes at 12)", "past the end"}},
    {ADD("constant segment index out of range", e_const_segment_index, NULL,
         LOAD), INV, {"segment index 3 out of range", NULL}},
    {ADD("constant index past the offsets", e_const_index_past, NULL, LOAD),
     INV, {"value 1", "constant buffer index 2 out of range (2 constants)"}},
    {ADD("both a constant segment and inline constants", e_const_and_inline,
         NULL, LOAD), INV, {"both a constant segment and inline", NULL}},
    {ADD("initial data in the mutable segment: loads", e_mutable_ok, NULL,
         LOAD), ET_OK, {NULL, NULL}},
    {ADD("initial data running past its segment", e_mutable_tensor_past, NULL,
         LOAD), INV, {"value 3: initial data (8 bytes at 12)", "past the end"}},
    {ADD("initial data index past the offsets", e_mutable_index_past, NULL,
         LOAD), INV, {"value 3", "initial data index 3 out of range"}},
    {ADD("mutable offset past its segment", e_mutable_offset_past, NULL, LOAD),
     INV, {"mutable data segment offset 1 (100)", NULL}},
    /* ---- instruction semantics ---- */
    {ADD("move that changes a value's kind", e_move_changes_kind, NULL, LOAD),
     INV, {"instruction 1", "changes the kind"}},
    {ADD("move to a value out of range", e_move_out_of_range, NULL, LOAD), INV,
     {"instruction 1", "move 0 -> 40 out of range"}},
    {ADD("free of an Int", e_free_int, NULL, LOAD), INV,
     {"instruction 1", "not a tensor"}},
    {ADD("jump on a None", e_jump_on_none, NULL, LOAD), INV,
     {"instruction 1", "not a Bool or tensor"}},
    {ADD("jump to -1", e_jump_negative, NULL, LOAD), INV,
     {"instruction 1", "jump destination -1"}},
    {ADD("jump to the end of the chain: loads", e_jump_to_end, NULL, LOAD),
     ET_OK, {NULL, NULL}},
    {ADD("operator name over the limit", e_op_name_overlong, NULL, LOAD), INV,
     {"operator 0", "overlong name"}},
    {ADD("empty operator name", e_op_name_empty, NULL, LOAD), INV,
     {"operator 0 has no name", NULL}},
    /* ---- extended header ---- */
    {ADD("segment base past the file", e_named_ok, d_segment_base_past_file,
         LOAD), INV, {"segment base", NULL}},
    {ADD("segment data size wrapping 2^64", e_named_ok, d_segment_size_wraps,
         LOAD), INV, {"segment base", NULL}},
    {ADD("program_size past the file", NULL, d_program_size_past_file, LOAD),
     INV, {"program_size", NULL}},
    {ADD("extended header length below 24", NULL, d_header_length_short,
         LOAD), INV, {"extended header length 16", NULL}},
};

static void run_pcase(const pcase *c) {
  tp_program p;
  if (c->op)
    prim_program(&p, c->op, c->n_args, c->args);
  else
    tp_add_program(&p);
  if (c->edit) c->edit(&p);
  tp_layout lay;
  run r;
  memset(&r, 0, sizeof r);
  r.bytes = tp_build(&p, &r.size, &lay);
  if (c->damage) c->damage(r.bytes, r.size, &lay);
  et_status st = load_init(&r, c->phase == INIT);
  if (st != c->status)
    fail_msg("%s: got %s (%s), expected %s", c->name, et_status_name(st),
             r.diag.message, et_status_name(c->status));
  if (st != ET_OK && !r.diag.message[0])
    fail_msg("%s: %s without a message", c->name, et_status_name(st));
  for (int k = 0; k < 2; k++)
    if (c->frag[k] && !strstr(r.diag.message, c->frag[k]))
      fail_msg("%s: message \"%s\" does not say \"%s\"", c->name,
               r.diag.message, c->frag[k]);
  run_free(&r);
}

static void test_program_cases(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof kCases / sizeof kCases[0]; i++)
    run_pcase(&kCases[i]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_add_program_runs),
      cmocka_unit_test(test_prim_program_runs),
      cmocka_unit_test(test_program_cases),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
