/*
 * Method metadata: what a method needs (arena bytes, planned buffers, inputs,
 * outputs, operators, delegates), counted from the verified program before
 * any memory is given.
 */
#include "method_priv.h"

#include <string.h>

static size_t mul_sat(size_t n, size_t size) {
  return (size && n > SIZE_MAX / size) ? SIZE_MAX : n * size;
}

_Static_assert(sizeof(layout_ptrs) == LAYOUT_BLOCKS * sizeof(void *),
               "layout_ptrs holds only the block pointers");

/* Block i of the arena: count index, element size and alignment, in the
 * order of layout_ptrs's members. */
#define BLOCK(cnt, type) {cnt, sizeof(type), _Alignof(type)}
static const struct {
  uint8_t count;
  uint16_t size;
  uint8_t align;
} kBlocks[LAYOUT_BLOCKS] = {
    BLOCK(CNT_ONE, et_method),          BLOCK(CNT_VALUES, et_value),
    BLOCK(CNT_TENSORS, et_tensor),      BLOCK(CNT_RANK_TOTAL, int32_t),
    BLOCK(CNT_RANK_TOTAL, int64_t),     BLOCK(CNT_LIST_ITEMS, et_value *),
    BLOCK(CNT_INSTRS, et_instr),        BLOCK(CNT_ARGS, et_value *),
    BLOCK(CNT_CHAINS_1, uint32_t),      BLOCK(CNT_OPS, const et_kernel *),
    BLOCK(CNT_DELEGATES, et_delegate_rt), BLOCK(CNT_SPECS, et_compile_spec),
    BLOCK(CNT_INPUTS, uint32_t),        BLOCK(CNT_OUTPUTS, uint32_t),
    BLOCK(CNT_INPUTS, et_value),        BLOCK(CNT_INPUTS, int32_t *),
    BLOCK(CNT_INPUT_RANK, int32_t),     BLOCK(CNT_INPUTS, uint8_t),
    BLOCK(CNT_INPUTS, uint8_t)};

/* The one description of the method arena's layout. */
void et_method_layout(et_arena *a, const counts *c, layout_ptrs *o) {
  for (int i = 0; i < LAYOUT_BLOCKS; i++)
    o->p[i] = et_arena_alloc(a, mul_sat(c->n[kBlocks[i].count], kBlocks[i].size),
                             kBlocks[i].align);
  /* Delegates allocate after this point; start them on a fresh boundary. */
  et_arena_alloc(a, 0, ET_ARENA_ALIGN);
}

size_t et_align_up(size_t n) {
  return n > SIZE_MAX - (ET_ARENA_ALIGN - 1)
             ? SIZE_MAX
             : (n + ET_ARENA_ALIGN - 1) & ~(size_t)(ET_ARENA_ALIGN - 1);
}

const et_backend *et_find_backend(const et_registry *reg, const char *id) {
  if (!reg) return NULL;
  for (size_t i = 0; i < reg->n_backends; i++)
    if (reg->backends[i] && reg->backends[i]->id &&
        strcmp(reg->backends[i]->id, id) == 0)
      return reg->backends[i];
  return NULL;
}

/* Count what the plan needs; also asks backends for their arena bytes. */
static et_status count_plan(const et_program *p, fb_reader *r,
                            const et_plan *plan, const et_registry *reg,
                            counts *c, et_diag *diag) {
  memset(c, 0, sizeof *c);
  et_status st;
  c->values = plan->values.len;
  for (uint32_t i = 0; i < plan->values.len; i++) {
    uint8_t type;
    fb_table val;
    fb_vec items;
    if ((st = et_value_open(p, r, plan, i, &type, &val, diag))) return st;
    if (type == KT_TENSOR) {
      fb_vec sizes;
      fb_vector(r, &val, TENSOR_SIZES, 4, &sizes, "Tensor");
      c->tensors++;
      c->rank_total += sizes.len;
    } else if (type == KT_INT_LIST) {
      fb_vector(r, &val, 0, 8, &items, "IntList");
      c->list_items += items.len;
    } else if (type == KT_TENSOR_LIST || type == KT_OPT_TENSOR_LIST) {
      fb_vector(r, &val, 0, 4, &items, "TensorList");
      c->list_items += items.len;
    }
  }
  c->inputs = plan->inputs.len;
  c->outputs = plan->outputs.len;
  for (uint32_t i = 0; i < plan->inputs.len; i++) {
    uint8_t type;
    fb_table val;
    if ((st = et_value_open(p, r, plan, (uint32_t)fb_vec_i32(r, &plan->inputs, i),
                            &type, &val, diag)))
      return st;
    if (type == KT_TENSOR) {
      fb_vec sizes;
      fb_vector(r, &val, TENSOR_SIZES, 4, &sizes, "Tensor");
      c->input_rank += sizes.len;
    }
  }
  c->chains = plan->chains.len;
  c->chains_1 = (size_t)plan->chains.len + 1;
  c->one = 1;
  for (uint32_t k = 0; k < plan->chains.len; k++) {
    fb_table chain, instr, a;
    fb_vec instrs, args;
    fb_vec_table(r, &plan->chains, k, &chain, "Chain");
    fb_vector(r, &chain, CHAIN_INSTRUCTIONS, 4, &instrs, "Chain");
    c->instrs += instrs.len;
    for (uint32_t pc = 0; pc < instrs.len && fb_ok(r); pc++) {
      fb_vec_table(r, &instrs, pc, &instr, "Instruction");
      uint8_t type = fb_u8(r, &instr, INSTR_TYPE, 0, "Instruction type");
      if (type == IT_KERNEL || type == IT_DELEGATE) {
        fb_subtable(r, &instr, INSTR_ARGS, &a, "Instruction");
        fb_vector(r, &a, 1, 4, &args, "call args");
        c->args += args.len;
      }
    }
  }
  c->ops = plan->operators.len;
  c->delegates = plan->delegates.len;
  for (uint32_t d = 0; d < plan->delegates.len; d++) {
    fb_table del;
    fb_vec specs;
    fb_vec_table(r, &plan->delegates, d, &del, "BackendDelegate");
    fb_vector(r, &del, DELEGATE_SPECS, 4, &specs, "compile_specs");
    c->specs += specs.len;
    const char *id = fb_string(r, &del, DELEGATE_ID, NULL, "BackendDelegate");
    const et_backend *b = id ? et_find_backend(reg, id) : NULL;
    if (b && b->arena_bytes) {
      const uint8_t *data;
      size_t size, bytes = 0;
      if ((st = et_delegate_data(p, r, &del, &data, &size, diag))) return st;
      /* The specs are not needed to size; backends that need them read
       * them in init. */
      if ((st = b->arena_bytes(data, size, NULL, 0, &bytes)))
        return et_diag_set(diag, st, "backend '%s' could not size delegate %u",
                           id, d);
      c->delegate_bytes += et_align_up(bytes);
    }
  }
  return fb_ok(r) ? ET_OK : et_fb_error(r, diag);
}

static size_t arena_bytes_for(const counts *c) {
  et_arena a;
  layout_ptrs o;
  et_arena_init_counting(&a);
  et_method_layout(&a, c, &o);
  size_t total = a.used;
  return total > SIZE_MAX - c->delegate_bytes ? SIZE_MAX
                                              : total + c->delegate_bytes;
}

/* ---- metadata ------------------------------------------------------------ */

void et_method_fill_meta(const et_program *p, const et_plan *plan, uint32_t index,
                      const counts *c, et_method_meta *out) {
  memset(out, 0, sizeof *out);
  out->name = plan->name;
  out->n_inputs = plan->inputs.len;
  out->n_outputs = plan->outputs.len;
  out->n_planned = plan->buffer_sizes.len ? plan->buffer_sizes.len - 1 : 0;
  out->n_instructions = c->instrs;
  out->n_operators = c->ops;
  out->n_delegates = c->delegates;
  out->n_values = c->values;
  out->arena_bytes = arena_bytes_for(c);
  out->program = p;
  out->plan = index;
}

/* Find, open and count the plan named `name`. */
et_status et_method_open_counted(const et_program *p, const char *name,
                              const et_registry *registry, fb_reader *r,
                              et_plan *plan, uint32_t *index, counts *c,
                              et_diag *diag) {
  et_status st;
  if (!name) return et_diag_set(diag, ET_INVALID_ARGUMENT, "method name is NULL");
  if ((st = et_plan_find(p, name, index, diag))) return st;
  et_reader_init(p, r);
  if ((st = et_plan_open(p, r, *index, plan, diag))) return st;
  return count_plan(p, r, plan, registry, c, diag);
}

et_status et_program_method_meta(const et_program *p, const char *name,
                                 const et_registry *registry,
                                 et_method_meta *out, et_diag *diag) {
  uint32_t index;
  fb_reader r;
  et_plan plan;
  counts c;
  memset(out, 0, sizeof *out);
  et_status st = et_method_open_counted(p, name, registry, &r, &plan, &index, &c, diag);
  if (st) return st;
  et_method_fill_meta(p, &plan, index, &c, out);
  return ET_OK;
}

static et_status io_info(const et_method_meta *m, const fb_vec *which_vec,
                         int outputs, size_t i, et_io_info *out) {
  (void)which_vec;
  const et_program *p = m->program;
  fb_reader r;
  et_plan plan;
  uint8_t type;
  fb_table val;
  et_status st;
  memset(out, 0, sizeof *out);
  et_reader_init(p, &r);
  if ((st = et_plan_open(p, &r, m->plan, &plan, NULL))) return st;
  const fb_vec *v = outputs ? &plan.outputs : &plan.inputs;
  if (i >= v->len) return ET_INVALID_ARGUMENT;
  uint32_t idx = (uint32_t)fb_vec_i32(&r, v, (uint32_t)i);
  if ((st = et_value_open(p, &r, &plan, idx, &type, &val, NULL))) return st;
  switch (type) {
  case KT_TENSOR: {
    et_tensor_desc td;
    if ((st = et_tensor_describe(p, &r, &plan, idx, &val, &td, NULL))) return st;
    out->tag = ET_TAG_TENSOR;
    out->tensor.dtype = td.dtype;
    out->tensor.dynamism = td.dynamism;
    out->tensor.rank = td.rank;
    for (uint32_t d = 0; d < td.rank; d++) {
      out->tensor.sizes[d] = fb_vec_i32(&r, &td.sizes, d);
      out->tensor.dim_order[d] = fb_vec_u8(&r, &td.dim_order, d);
    }
    out->tensor.nbytes = td.nbytes;
    out->tensor.planned = td.where == TD_PLANNED;
    break;
  }
  case KT_INT:
    out->tag = ET_TAG_INT;
    out->scalar.i = fb_i64(&r, &val, 0, 0, "Int");
    break;
  case KT_DOUBLE:
    out->tag = ET_TAG_DOUBLE;
    out->scalar.d = fb_f64(&r, &val, 0, 0, "Double");
    break;
  case KT_BOOL:
    out->tag = ET_TAG_BOOL;
    out->scalar.b = fb_u8(&r, &val, 0, 0, "Bool") != 0;
    break;
  case KT_NULL: out->tag = ET_TAG_NONE; break;
  case KT_STRING: out->tag = ET_TAG_STRING; break;
  case KT_INT_LIST: out->tag = ET_TAG_LIST_INT; break;
  case KT_DOUBLE_LIST: out->tag = ET_TAG_LIST_DOUBLE; break;
  case KT_BOOL_LIST: out->tag = ET_TAG_LIST_BOOL; break;
  case KT_TENSOR_LIST: out->tag = ET_TAG_LIST_TENSOR; break;
  default: out->tag = ET_TAG_LIST_OPTIONAL_TENSOR; break;
  }
  return ET_OK;
}

et_status et_method_meta_input(const et_method_meta *m, size_t i,
                               et_io_info *out) {
  return io_info(m, NULL, 0, i, out);
}

et_status et_method_meta_output(const et_method_meta *m, size_t i,
                                et_io_info *out) {
  return io_info(m, NULL, 1, i, out);
}

size_t et_method_meta_planned_size(const et_method_meta *m, size_t i) {
  fb_reader r;
  et_plan plan;
  et_reader_init(m->program, &r);
  if (i >= m->n_planned || et_plan_open(m->program, &r, m->plan, &plan, NULL))
    return 0;
  return (size_t)fb_vec_i64(&r, &plan.buffer_sizes, (uint32_t)i + 1);
}

et_status et_method_meta_operator(const et_method_meta *m, size_t i, char *buf,
                                  size_t cap) {
  fb_reader r;
  et_plan plan;
  char name[ET_OP_NAME_CAP];
  et_status st;
  et_reader_init(m->program, &r);
  if ((st = et_plan_open(m->program, &r, m->plan, &plan, NULL))) return st;
  if ((st = et_operator_name(m->program, &r, &plan, (uint32_t)i, name,
                             sizeof name, NULL)))
    return st;
  if (strlen(name) >= cap) return ET_INVALID_ARGUMENT;
  memcpy(buf, name, strlen(name) + 1);
  return ET_OK;
}

void et_method_meta_operator_uses(const et_method_meta *m, size_t *out_uses,
                                  size_t n) {
  fb_reader r;
  et_plan plan;
  for (size_t i = 0; i < n; i++) out_uses[i] = 0;
  et_reader_init(m->program, &r);
  if (et_plan_open(m->program, &r, m->plan, &plan, NULL)) return;
  for (uint32_t k = 0; k < plan.chains.len; k++) {
    fb_table chain, instr, a;
    fb_vec instrs;
    fb_vec_table(&r, &plan.chains, k, &chain, "Chain");
    fb_vector(&r, &chain, CHAIN_INSTRUCTIONS, 4, &instrs, "instructions");
    for (uint32_t pc = 0; pc < instrs.len && fb_ok(&r); pc++) {
      fb_vec_table(&r, &instrs, pc, &instr, "Instruction");
      if (fb_u8(&r, &instr, INSTR_TYPE, 0, "type") != IT_KERNEL) continue;
      fb_subtable(&r, &instr, INSTR_ARGS, &a, "KernelCall");
      size_t op = (size_t)fb_i32(&r, &a, 0, 0, "op_index");
      if (op < n) out_uses[op]++;
    }
  }
}

const char *et_method_meta_delegate(const et_method_meta *m, size_t i) {
  fb_reader r;
  et_plan plan;
  fb_table d;
  et_reader_init(m->program, &r);
  if (et_plan_open(m->program, &r, m->plan, &plan, NULL) ||
      i >= plan.delegates.len)
    return NULL;
  fb_vec_table(&r, &plan.delegates, (uint32_t)i, &d, "BackendDelegate");
  return fb_string(&r, &d, DELEGATE_ID, NULL, "BackendDelegate");
}

const et_kernel *et_find_kernel(const et_registry *reg, const char *name) {
  for (size_t t = 0; reg && t < reg->n_kernel_tables; t++) {
    const et_kernel *k =
        reg->kernel_tables[t] ? et_kernel_table_find(reg->kernel_tables[t], name)
                              : NULL;
    if (k) return k;
  }
  return NULL;
}

size_t et_method_missing_operators(const et_program *p, const char *name,
                                   const et_registry *registry, char *buf,
                                   size_t cap) {
  uint32_t index;
  fb_reader r;
  et_plan plan;
  size_t missing = 0, len = 0;
  if (cap) buf[0] = '\0';
  if (et_plan_find(p, name, &index, NULL)) return 0;
  et_reader_init(p, &r);
  if (et_plan_open(p, &r, index, &plan, NULL)) return 0;
  for (uint32_t i = 0; i < plan.operators.len; i++) {
    char op[ET_OP_NAME_CAP];
    if (et_operator_name(p, &r, &plan, i, op, sizeof op, NULL)) continue;
    if (et_find_kernel(registry, op)) continue;
    missing++;
    if (cap > len)
      len += et_format(buf + len, cap - len, "%s%s", missing > 1 ? ", " : "",
                       op);
  }
  return missing;
}

/* A tensor whose data is in the caller's data map: a constant points at the
 * map's bytes, a planned tensor gets a copy of them. */
