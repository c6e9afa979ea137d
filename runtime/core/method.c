/*
 * Method metadata, init and execute.
 *
 * Init turns a verified plan into flat runtime structures in the caller's
 * arena: values, tensors, resolved kernels and argument pointer lists.
 * Execute then walks instructions without touching the flatbuffer again.
 * The arena layout is computed by one function (layout) that both counts
 * (for metadata) and allocates (for init), so the reported size is exact.
 */
#include "internal.h"

#include <edgetorch/arena.h>

#include <string.h>

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
  int32_t **input_bounds; /* per input: bound sizes of a tensor input */
  uint8_t *input_set;
  uint8_t *input_planned;
  et_kernel_ctx kctx;
  et_diag kdiag; /* kernel failures land here first */
  et_diag diag;
  et_method_stats stats;
  const et_data_map *external; /* what backends see at init */
  bool destroyed;
};

/* What a plan needs, counted from the flatbuffer. */
typedef struct counts {
  size_t values, tensors, rank_total, list_items, instrs, args, chains, ops,
      delegates, specs, inputs, outputs, input_rank;
  size_t delegate_bytes;
} counts;

typedef struct layout_ptrs {
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
  int32_t **input_bounds;
  int32_t *input_rank;
  uint8_t *input_set, *input_planned;
} layout_ptrs;

static size_t mul_sat(size_t n, size_t size) {
  return (size && n > SIZE_MAX / size) ? SIZE_MAX : n * size;
}

#define ALLOC(a, field, n, type)                                               \
  (field = (type *)et_arena_alloc(a, mul_sat((n), sizeof(type)),              \
                                   _Alignof(type)))

/* The one description of the method arena's layout. */
static void layout(et_arena *a, const counts *c, layout_ptrs *o) {
  ALLOC(a, o->m, 1, et_method);
  ALLOC(a, o->values, c->values, et_value);
  ALLOC(a, o->tensors, c->tensors, et_tensor);
  ALLOC(a, o->sizes, c->rank_total, int32_t);
  ALLOC(a, o->strides, c->rank_total, int64_t);
  ALLOC(a, o->list_items, c->list_items, et_value *);
  ALLOC(a, o->instrs, c->instrs, et_instr);
  ALLOC(a, o->args, c->args, et_value *);
  ALLOC(a, o->chain_begin, c->chains + 1, uint32_t);
  ALLOC(a, o->kernels, c->ops, const et_kernel *);
  ALLOC(a, o->delegates, c->delegates, et_delegate_rt);
  ALLOC(a, o->specs, c->specs, et_compile_spec);
  ALLOC(a, o->inputs, c->inputs, uint32_t);
  ALLOC(a, o->outputs, c->outputs, uint32_t);
  ALLOC(a, o->input_bounds, c->inputs, int32_t *);
  ALLOC(a, o->input_rank, c->input_rank, int32_t);
  ALLOC(a, o->input_set, c->inputs, uint8_t);
  ALLOC(a, o->input_planned, c->inputs, uint8_t);
  /* Delegates allocate after this point; start them on a fresh boundary. */
  et_arena_alloc(a, 0, ET_ARENA_ALIGN);
}

static size_t align_up(size_t n) {
  return n > SIZE_MAX - (ET_ARENA_ALIGN - 1)
             ? SIZE_MAX
             : (n + ET_ARENA_ALIGN - 1) & ~(size_t)(ET_ARENA_ALIGN - 1);
}

static const et_backend *find_backend(const et_registry *reg, const char *id) {
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
    const et_backend *b = id ? find_backend(reg, id) : NULL;
    if (b && b->arena_bytes) {
      const uint8_t *data;
      size_t size, bytes = 0;
      if ((st = et_delegate_data(p, r, &del, &data, &size, diag))) return st;
      /* The specs are not needed to size; backends that need them read
       * them in init. */
      if ((st = b->arena_bytes(data, size, NULL, 0, &bytes)))
        return et_diag_set(diag, st, "backend '%s' could not size delegate %u",
                           id, d);
      c->delegate_bytes += align_up(bytes);
    }
  }
  return fb_ok(r) ? ET_OK : et_fb_error(r, diag);
}

static size_t arena_bytes_for(const counts *c) {
  et_arena a;
  layout_ptrs o;
  et_arena_init_counting(&a);
  layout(&a, c, &o);
  size_t total = a.used;
  return total > SIZE_MAX - c->delegate_bytes ? SIZE_MAX
                                              : total + c->delegate_bytes;
}

/* ---- metadata ------------------------------------------------------------ */

static void fill_meta(const et_program *p, const et_plan *plan, uint32_t index,
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
static et_status open_counted(const et_program *p, const char *name,
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
                                 et_method_meta *out) {
  /* The program's message buffer is the only place a failure here can be
   * reported; it is written only on failure. */
  et_diag *diag = (et_diag *)&((et_program *)p)->diag;
  uint32_t index;
  fb_reader r;
  et_plan plan;
  counts c;
  memset(out, 0, sizeof *out);
  et_status st = open_counted(p, name, registry, &r, &plan, &index, &c, diag);
  if (st) return st;
  fill_meta(p, &plan, index, &c, out);
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

size_t et_method_meta_operator_uses(const et_method_meta *m, size_t i) {
  fb_reader r;
  et_plan plan;
  size_t uses = 0;
  et_reader_init(m->program, &r);
  if (et_plan_open(m->program, &r, m->plan, &plan, NULL)) return 0;
  for (uint32_t k = 0; k < plan.chains.len; k++) {
    fb_table chain, instr, a;
    fb_vec instrs;
    fb_vec_table(&r, &plan.chains, k, &chain, "Chain");
    fb_vector(&r, &chain, CHAIN_INSTRUCTIONS, 4, &instrs, "instructions");
    for (uint32_t pc = 0; pc < instrs.len && fb_ok(&r); pc++) {
      fb_vec_table(&r, &instrs, pc, &instr, "Instruction");
      if (fb_u8(&r, &instr, INSTR_TYPE, 0, "type") != IT_KERNEL) continue;
      fb_subtable(&r, &instr, INSTR_ARGS, &a, "KernelCall");
      if ((size_t)fb_i32(&r, &a, 0, 0, "op_index") == i) uses++;
    }
  }
  return uses;
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

/* ---- init ---------------------------------------------------------------- */

static uint32_t tag_of(uint8_t kt) {
  static const uint8_t map[] = {ET_TAG_NONE,        ET_TAG_NONE,
                                ET_TAG_INT,         ET_TAG_BOOL,
                                ET_TAG_DOUBLE,      ET_TAG_TENSOR,
                                ET_TAG_STRING,      ET_TAG_LIST_INT,
                                ET_TAG_LIST_DOUBLE, ET_TAG_LIST_BOOL,
                                ET_TAG_LIST_TENSOR, ET_TAG_LIST_OPTIONAL_TENSOR};
  return kt < sizeof map ? map[kt] : ET_TAG_NONE;
}

static const char *kind_name(char c) {
  switch (c) {
  case 'T': case 'W': case 'P': return "Tensor";
  case 't': return "Tensor or None";
  case 'I': return "Int";
  case 'i': return "Int or None";
  case 'D': return "Double";
  case 'd': return "Double or None";
  case 'B': return "Bool";
  case 'b': return "Bool or None";
  case 'S': return "Scalar";
  case 's': return "Scalar or None";
  case 'L': return "ListInt";
  case 'l': return "ListInt or None";
  case 'F': return "ListDouble";
  case 'f': return "ListDouble or None";
  case 'G': return "ListBool";
  case 'V': return "ListTensor";
  case 'O': return "ListOptionalTensor";
  case 'Z': return "String";
  case 'z': return "String or None";
  case 'N': return "None";
  default: return "anything";
  }
}

static const et_kernel *find_kernel(const et_registry *reg, const char *name) {
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
    if (find_kernel(registry, op)) continue;
    missing++;
    if (cap > len)
      len += et_format(buf + len, cap - len, "%s%s", missing > 1 ? ", " : "",
                       op);
  }
  return missing;
}

/* A tensor whose data is in the caller's data map: a constant points at the
 * map's bytes, a planned tensor gets a copy of them. */
static et_status fill_external(et_method *m, const fb_reader *r, uint32_t i,
                               const et_tensor_desc *td, et_tensor *t,
                               const et_data_map *map) {
  et_named_data nd;
  memset(&nd, 0, sizeof nd);
  et_status st = map ? map->get(map, td->external, &nd) : ET_NOT_FOUND;
  if (st)
    return et_diag_set(&m->diag, st, "value %u: external tensor '%s' not "
                       "found", i, td->external);
  size_t es = et_dtype_size(td->dtype), rank = td->rank;
  if (nd.nbytes != td->nbytes || (td->nbytes && !nd.data) ||
      (uintptr_t)nd.data % (es > 8 ? 8 : es) ||
      (nd.sizes && (nd.dtype != td->dtype || nd.rank != rank ||
                    memcmp(nd.sizes, r->buf + td->sizes.pos, 4 * rank) ||
                    memcmp(nd.dim_order, r->buf + td->dim_order.pos, rank))))
    return et_diag_set(&m->diag, ET_INVALID_EXTERNAL_DATA,
                       "value %u: external tensor '%s' has %zu bytes or a "
                       "layout unlike the program's %zu", i, td->external,
                       nd.nbytes, td->nbytes);
  if (td->where == TD_PLANNED) {
    if (td->nbytes) memcpy(t->data, nd.data, td->nbytes);
  } else {
    t->data = (void *)(uintptr_t)nd.data;
    t->capacity = td->nbytes;
    t->flags = ET_TENSOR_CONSTANT;
  }
  return ET_OK;
}

static et_status fill_tensor(et_method *m, const et_program *p, fb_reader *r,
                             const et_plan *plan, uint32_t i,
                             const fb_table *val, et_tensor *t, int32_t *sizes,
                             int64_t *strides, const et_method_memory *mem) {
  et_tensor_desc td;
  et_status st = et_tensor_describe(p, r, plan, i, val, &td, &m->diag);
  if (st) return st;
  t->rank = td.rank;
  t->dtype = td.dtype;
  t->dynamism = td.dynamism;
  t->sizes = sizes;
  t->strides = strides;
  t->dim_order = r->buf + td.dim_order.pos;
  t->flags = 0;
  for (uint32_t d = 0; d < td.rank; d++) sizes[d] = fb_vec_i32(r, &td.sizes, d);
  et_tensor_update_strides(t);
  t->data = NULL;
  t->capacity = 0;
  if (td.where == TD_CONSTANT) {
    /* Constants are never written: the runtime refuses W arguments that
     * are constants, so dropping const here is safe. */
    t->data = (void *)(uintptr_t)td.constant;
    t->capacity = td.nbytes;
    t->flags = ET_TENSOR_CONSTANT;
  } else if (td.where == TD_PLANNED) {
    size_t b = td.memory_id - 1;
    if (b >= mem->n_planned || !mem->planned || !mem->planned_sizes ||
        (!mem->planned[b] && td.nbytes) ||
        td.offset + td.nbytes > mem->planned_sizes[b])
      return et_diag_set(&m->diag, ET_MEMORY_ALLOCATION_FAILED,
                         "value %u: planned buffer %zu is missing or under "
                         "%llu + %zu bytes", i, b,
                         (unsigned long long)td.offset, td.nbytes);
    t->data = (uint8_t *)mem->planned[b] + td.offset;
    t->capacity = td.nbytes;
    t->flags = ET_TENSOR_PLANNED;
    if (td.initial && td.nbytes) memcpy(t->data, td.initial, td.nbytes);
  }
  if (td.external) return fill_external(m, r, i, &td, t, mem->external);
  return ET_OK;
}

static et_status fill_values(et_method *m, const et_program *p, fb_reader *r,
                             const et_plan *plan, layout_ptrs *o,
                             const et_method_memory *mem) {
  size_t tensor_i = 0, rank_i = 0, item_i = 0;
  et_status st;
  for (uint32_t i = 0; i < plan->values.len; i++) {
    uint8_t type;
    fb_table val;
    fb_vec items;
    et_value *v = &o->values[i];
    if ((st = et_value_open(p, r, plan, i, &type, &val, &m->diag))) return st;
    memset(v, 0, sizeof *v);
    v->tag = tag_of(type);
    switch (type) {
    case KT_INT: v->u.i = fb_i64(r, &val, 0, 0, "Int"); break;
    case KT_BOOL: v->u.b = fb_u8(r, &val, 0, 0, "Bool") != 0; break;
    case KT_DOUBLE: v->u.d = fb_f64(r, &val, 0, 0, "Double"); break;
    case KT_STRING: {
      uint32_t len;
      v->u.str.ptr = fb_string(r, &val, 0, &len, "String");
      v->u.str.len = len;
      if (!v->u.str.ptr) v->u.str.ptr = "";
      break;
    }
    case KT_TENSOR: {
      et_tensor *t = &o->tensors[tensor_i++];
      if ((st = fill_tensor(m, p, r, plan, i, &val, t, o->sizes + rank_i,
                            o->strides + rank_i, mem)))
        return st;
      rank_i += t->rank;
      v->u.t = t;
      break;
    }
    case KT_INT_LIST:
      fb_vector(r, &val, 0, 8, &items, "IntList");
      for (uint32_t k = 0; k < items.len; k++)
        o->list_items[item_i + k] = &o->values[fb_vec_i64(r, &items, k)];
      v->u.ilist.items = o->list_items + item_i;
      v->u.ilist.len = items.len;
      item_i += items.len;
      break;
    case KT_TENSOR_LIST:
    case KT_OPT_TENSOR_LIST:
      fb_vector(r, &val, 0, 4, &items, "TensorList");
      for (uint32_t k = 0; k < items.len; k++) {
        int32_t idx = fb_vec_i32(r, &items, k);
        o->list_items[item_i + k] = idx < 0 ? NULL : &o->values[idx];
      }
      v->u.tlist.items = o->list_items + item_i;
      v->u.tlist.len = items.len;
      item_i += items.len;
      break;
    case KT_DOUBLE_LIST:
      fb_vector(r, &val, 0, 8, &items, "DoubleList");
      v->u.dlist.items = (const double *)(const void *)(r->buf + items.pos);
      v->u.dlist.len = items.len;
      break;
    case KT_BOOL_LIST:
      fb_vector(r, &val, 0, 1, &items, "BoolList");
      v->u.blist.items = r->buf + items.pos;
      v->u.blist.len = items.len;
      break;
    default:
      break;
    }
  }
  /* Items were resolved against values that may not have been filled yet
   * when they were read; pointers stay valid, only tags matter, and those
   * were checked by the verifier. */
  return fb_ok(r) ? ET_OK : et_fb_error(r, &m->diag);
}

static bool value_is_input(const et_method *m, const et_value *v) {
  for (size_t i = 0; i < m->meta.n_inputs; i++)
    if (&m->values[m->inputs[i]] == v) return true;
  return false;
}

static et_status fill_kernel_call(et_method *m, et_instr *in, uint32_t pc,
                                  const fb_reader *r, const fb_vec *args,
                                  et_value **arg_slots) {
  const et_kernel *k = m->kernels[in->a];
  in->args = arg_slots;
  in->n_args = args->len;
  for (uint32_t i = 0; i < args->len; i++)
    arg_slots[i] = &m->values[fb_vec_i32(r, args, i)];
  if (in->type != IT_KERNEL) return ET_OK;
  size_t n_sig = strlen(k->sig);
  if (n_sig != args->len)
    return et_diag_set(&m->diag, ET_INVALID_PROGRAM,
                       "instruction %u (%s) passes %u arguments; the kernel "
                       "takes %zu",
                       pc, k->name, args->len, n_sig);
  for (uint32_t i = 0; i < args->len; i++) {
    et_value *v = arg_slots[i];
    char c = k->sig[i];
    if (!et_kernel_sig_accepts(c, v->tag))
      return et_diag_set(&m->diag, ET_INVALID_PROGRAM,
                         "instruction %u (%s): argument %u (value %u) is %s, "
                         "expected %s",
                         pc, k->name, i, (unsigned)(v - m->values),
                         et_tag_name((int)v->tag), kind_name(c));
    if (v->tag != ET_TAG_TENSOR) continue;
    et_tensor *t = v->u.t;
    if (c == 'W' && (t->flags & ET_TENSOR_CONSTANT))
      return et_diag_set(&m->diag, ET_INVALID_PROGRAM,
                         "instruction %u (%s): argument %u writes value %u, "
                         "which is a constant",
                         pc, k->name, i, (unsigned)(v - m->values));
    bool may_alias = (t->flags & ET_TENSOR_ALIASED) != 0;
    /* A tensor without storage of its own gets data only from an input,
     * a view, a move or a delegate; check it at run time. */
    bool no_storage =
        c != 'P' && !t->data && et_tensor_nbytes(t) && !value_is_input(m, v);
    if (!no_storage && !(c == 'W' && may_alias)) continue;
    if (i >= 32)
      return et_diag_set(&m->diag, ET_NOT_SUPPORTED,
                         "instruction %u (%s): argument %u: only the first "
                         "32 can have run-time checks",
                         pc, k->name, i);
    if (no_storage) in->check |= 1u << i;
    if (c == 'W' && may_alias) in->wcheck |= 1u << i;
  }
  return ET_OK;
}

/* Mark tensors a view or a move can re-point: writing to them needs a
 * run-time look at what they point to. */
static void mark_aliased(et_method *m, fb_reader *r, const et_plan *plan) {
  for (uint32_t c = 0; c < plan->chains.len; c++) {
    fb_table chain, instr, a;
    fb_vec instrs, args;
    fb_vec_table(r, &plan->chains, c, &chain, "Chain");
    fb_vector(r, &chain, CHAIN_INSTRUCTIONS, 4, &instrs, "Chain");
    for (uint32_t pc = 0; pc < instrs.len && fb_ok(r); pc++) {
      fb_vec_table(r, &instrs, pc, &instr, "Instruction");
      uint8_t type = fb_u8(r, &instr, INSTR_TYPE, 0, "Instruction type");
      fb_subtable(r, &instr, INSTR_ARGS, &a, "Instruction");
      if (type == IT_MOVE) {
        et_value *to = &m->values[fb_i32(r, &a, 1, 0, "MoveCall")];
        if (to->tag == ET_TAG_TENSOR) to->u.t->flags |= ET_TENSOR_ALIASED;
      } else if (type == IT_KERNEL) {
        const char *sig = m->kernels[fb_i32(r, &a, 0, 0, "op_index")]->sig;
        fb_vector(r, &a, 1, 4, &args, "call args");
        for (uint32_t i = 0; i < args.len && sig[i]; i++) {
          et_value *v = &m->values[fb_vec_i32(r, &args, i)];
          if (sig[i] == 'P' && v->tag == ET_TAG_TENSOR)
            v->u.t->flags |= ET_TENSOR_ALIASED;
        }
      }
    }
  }
}

static et_status fill_instructions(et_method *m, const et_program *p,
                                   fb_reader *r, const et_plan *plan,
                                   layout_ptrs *o) {
  (void)p;
  uint32_t pc_all = 0;
  mark_aliased(m, r, plan);
  if (!fb_ok(r)) return et_fb_error(r, &m->diag);
  size_t arg_i = 0;
  et_status st;
  for (uint32_t c = 0; c < plan->chains.len; c++) {
    fb_table chain;
    fb_vec instrs;
    fb_vec_table(r, &plan->chains, c, &chain, "Chain");
    fb_vector(r, &chain, CHAIN_INSTRUCTIONS, 4, &instrs, "Chain");
    o->chain_begin[c] = pc_all;
    for (uint32_t pc = 0; pc < instrs.len; pc++, pc_all++) {
      fb_table instr, a;
      fb_vec args;
      et_instr *in = &o->instrs[pc_all];
      memset(in, 0, sizeof *in);
      fb_vec_table(r, &instrs, pc, &instr, "Instruction");
      in->type = fb_u8(r, &instr, INSTR_TYPE, 0, "Instruction type");
      fb_subtable(r, &instr, INSTR_ARGS, &a, "Instruction");
      in->a = (uint32_t)fb_i32(r, &a, 0, 0, "instruction field 0");
      in->b = (uint32_t)fb_i32(r, &a, 1, 0, "instruction field 1");
      if (!fb_ok(r)) return et_fb_error(r, &m->diag);
      if (in->type == IT_KERNEL || in->type == IT_DELEGATE) {
        fb_vector(r, &a, 1, 4, &args, "call args");
        if ((st = fill_kernel_call(m, in, pc, r, &args, o->args + arg_i)))
          return st;
        arg_i += args.len;
      }
    }
  }
  o->chain_begin[plan->chains.len] = pc_all;
  return ET_OK;
}

static et_status resolve_kernels(et_method *m, const et_program *p,
                                 fb_reader *r, const et_plan *plan,
                                 const et_registry *reg) {
  size_t missing = 0, len = 0;
  char list[ET_DIAG_CAP];
  list[0] = '\0';
  for (uint32_t i = 0; i < plan->operators.len; i++) {
    char name[ET_OP_NAME_CAP];
    et_status st = et_operator_name(p, r, plan, i, name, sizeof name, &m->diag);
    if (st) return st;
    m->kernels[i] = find_kernel(reg, name);
    if (!m->kernels[i]) {
      missing++;
      if (len < sizeof list)
        len += et_format(list + len, sizeof list - len, "%s%s",
                         missing > 1 ? ", " : "", name);
    }
  }
  if (missing)
    return et_diag_set(&m->diag, ET_OPERATOR_MISSING,
                       "method '%s' needs %zu operator%s the registry lacks: %s",
                       plan->name, missing, missing > 1 ? "s" : "", list);
  return ET_OK;
}

static et_status init_delegates(et_method *m, const et_program *p, fb_reader *r,
                                const et_plan *plan, const et_registry *reg,
                                layout_ptrs *o, et_arena *arena) {
  size_t spec_i = 0;
  for (uint32_t d = 0; d < plan->delegates.len; d++) {
    fb_table del;
    fb_vec specs;
    const uint8_t *data;
    size_t size;
    et_status st;
    et_delegate_rt *rt = &m->delegates[d];
    memset(rt, 0, sizeof *rt);
    fb_vec_table(r, &plan->delegates, d, &del, "BackendDelegate");
    const char *id = fb_string(r, &del, DELEGATE_ID, NULL, "BackendDelegate");
    fb_vector(r, &del, DELEGATE_SPECS, 4, &specs, "compile_specs");
    if (!fb_ok(r)) return et_fb_error(r, &m->diag);
    if ((st = et_delegate_data(p, r, &del, &data, &size, &m->diag))) return st;
    const et_backend *b = find_backend(reg, id);
    if (!b)
      return et_diag_set(&m->diag, ET_NOT_FOUND,
                         "delegate %u needs backend '%s', which is not "
                         "registered", d, id);
    if (b->abi_version != ET_BACKEND_ABI_VERSION || !b->init || !b->execute)
      return et_diag_set(&m->diag, ET_DELEGATE_INVALID_COMPATIBILITY,
                         "backend '%s' has ABI version %u (runtime expects "
                         "%u) or lacks init/execute", id, b->abi_version,
                         ET_BACKEND_ABI_VERSION);
    et_compile_spec *cs = o->specs + spec_i;
    for (uint32_t k = 0; k < specs.len; k++) {
      fb_table spec;
      fb_vec value;
      fb_vec_table(r, &specs, k, &spec, "CompileSpec");
      cs[k].key = fb_string(r, &spec, SPEC_KEY, NULL, "CompileSpec");
      fb_vector(r, &spec, SPEC_VALUE, 1, &value, "CompileSpec");
      cs[k].value = r->buf + value.pos;
      cs[k].value_size = value.len;
    }
    spec_i += specs.len;
    rt->backend = b;
    rt->ctx.backend_id = b->id;
    rt->ctx.delegate_index = d;
    rt->ctx.diag = &m->diag;
    rt->ctx.arena = arena;
    rt->ctx.program = p;
    rt->ctx.external = m->external;
    et_arena_alloc(arena, 0, ET_ARENA_ALIGN);
    size_t before = arena->used;
    size_t budget = 0;
    if (b->arena_bytes && (st = b->arena_bytes(data, size, NULL, 0, &budget)))
      return et_diag_set(&m->diag, st, "backend '%s' could not size delegate %u",
                         id, d);
    st = b->init(&rt->ctx, data, size, cs, specs.len, &rt->handle);
    if (st) {
      if (m->diag.status != st)
        et_diag_set(&m->diag, st, "backend '%s' failed to initialize delegate %u",
                    id, d);
      return st;
    }
    if (arena->used - before > budget) {
      if (b->destroy) b->destroy(rt->handle);
      rt->backend = NULL;
      return et_diag_set(&m->diag, ET_INTERNAL,
                         "backend '%s' took %zu arena bytes but declared %zu",
                         id, arena->used - before, budget);
    }
    rt->ctx.arena = NULL; /* only init may allocate */
    rt->ctx.program = NULL;
    rt->ctx.external = NULL;
  }
  return ET_OK;
}

void *et_backend_alloc(et_backend_ctx *ctx, size_t bytes, size_t align) {
  return ctx && ctx->arena ? et_arena_alloc(ctx->arena, bytes, align) : NULL;
}

et_status et_method_init(const et_program *p, const char *name,
                         const et_registry *registry,
                         const et_method_memory *memory, et_method **out,
                         et_diag *diag) {
  et_method_meta meta;
  uint32_t index;
  fb_reader r;
  et_plan plan;
  counts c;
  et_arena arena;
  layout_ptrs o;
  et_status st;
  if (out) *out = NULL;
  if (!p || !name || !memory || !out)
    return et_diag_set(diag, ET_INVALID_ARGUMENT,
                       "et_method_init: a NULL argument");
  if ((st = open_counted(p, name, registry, &r, &plan, &index, &c, diag)))
    return st;
  fill_meta(p, &plan, index, &c, &meta);
  size_t need = meta.arena_bytes;
  if (!memory->arena || ((uintptr_t)memory->arena % ET_ARENA_ALIGN))
    return et_diag_set(diag, ET_INVALID_ARGUMENT,
                       "method arena must be a non-NULL, %u-byte aligned "
                       "buffer", ET_ARENA_ALIGN);
  if (memory->arena_size < need)
    return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED,
                       "method '%s' needs %zu arena bytes; the arena has %zu",
                       name, need, memory->arena_size);
  size_t n_planned = plan.buffer_sizes.len ? plan.buffer_sizes.len - 1 : 0;
  for (size_t b = 0; b < n_planned; b++) {
    size_t want = (size_t)fb_vec_i64(&r, &plan.buffer_sizes, (uint32_t)b + 1);
    if (b >= memory->n_planned || !memory->planned_sizes ||
        memory->planned_sizes[b] < want || (want && !memory->planned[b]))
      return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED,
                         "method '%s' needs planned buffer %zu of %zu bytes; "
                         "%s",
                         name, b, want,
                         b >= memory->n_planned ? "it was not provided"
                                                : "the one provided is smaller");
    if ((uintptr_t)memory->planned[b] % ET_ARENA_ALIGN)
      return et_diag_set(diag, ET_INVALID_ARGUMENT,
                         "planned buffer %zu must be %u-byte aligned", b,
                         ET_ARENA_ALIGN);
  }

  et_arena_init(&arena, memory->arena, memory->arena_size);
  layout(&arena, &c, &o);
  if (arena.failed || !o.m)
    return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED,
                       "method '%s' arena layout did not fit in %zu bytes",
                       name, memory->arena_size);
  et_method *m = o.m;
  memset(m, 0, sizeof *m);
  m->meta = meta;
  m->program = p;
  m->values = o.values;
  m->tensors = o.tensors;
  m->instrs = o.instrs;
  m->chain_begin = o.chain_begin;
  m->n_chains = (uint32_t)c.chains;
  m->kernels = o.kernels;
  m->delegates = o.delegates;
  m->inputs = o.inputs;
  m->outputs = o.outputs;
  m->input_bounds = o.input_bounds;
  m->input_set = o.input_set;
  m->input_planned = o.input_planned;
  m->external = memory->external;
  m->kctx.diag = &m->kdiag;
  m->kctx.scratch = (uint8_t *)memory->scratch;
  m->kctx.scratch_size = memory->scratch ? memory->scratch_size : 0;
  for (uint32_t i = 0; i < plan.inputs.len; i++)
    m->inputs[i] = (uint32_t)fb_vec_i32(&r, &plan.inputs, i);
  for (uint32_t i = 0; i < plan.outputs.len; i++)
    m->outputs[i] = (uint32_t)fb_vec_i32(&r, &plan.outputs, i);

  if ((st = fill_values(m, p, &r, &plan, &o, memory)) ||
      (st = resolve_kernels(m, p, &r, &plan, registry)) ||
      (st = fill_instructions(m, p, &r, &plan, &o)))
    return et_diag_set(diag, st, "%s", m->diag.message);

  size_t rank_i = 0;
  for (uint32_t i = 0; i < plan.inputs.len; i++) {
    et_value *v = &m->values[m->inputs[i]];
    m->input_set[i] = 0;
    m->input_bounds[i] = NULL;
    m->input_planned[i] = 0;
    if (v->tag == ET_TAG_TENSOR) {
      et_tensor *t = v->u.t;
      m->input_bounds[i] = o.input_rank + rank_i;
      for (uint32_t d = 0; d < t->rank; d++) m->input_bounds[i][d] = t->sizes[d];
      rank_i += t->rank;
      m->input_planned[i] = (t->flags & ET_TENSOR_PLANNED) != 0;
      /* A constant or empty input needs nothing from the caller. */
      if ((t->flags & ET_TENSOR_CONSTANT) || et_tensor_nbytes(t) == 0)
        m->input_set[i] = 1;
    } else {
      m->input_set[i] = 1; /* scalars keep their traced value */
    }
  }
  if ((st = init_delegates(m, p, &r, &plan, registry, &o, &arena))) {
    et_method_destroy(m);
    return et_diag_set(diag, st, "%s", m->diag.message);
  }
  et_diag_clear(&m->diag);
  *out = m;
  return ET_OK;
}

void et_method_destroy(et_method *m) {
  if (!m || m->destroyed) return;
  for (size_t d = 0; d < m->meta.n_delegates; d++)
    if (m->delegates[d].backend && m->delegates[d].backend->destroy)
      m->delegates[d].backend->destroy(m->delegates[d].handle);
  m->destroyed = true;
}

/* ---- inputs, outputs ----------------------------------------------------- */

const et_method_meta *et_method_get_meta(const et_method *m) { return &m->meta; }
const char *et_method_message(const et_method *m) { return m->diag.message; }
et_status et_method_status(const et_method *m) { return m->diag.status; }
size_t et_method_input_count(const et_method *m) { return m->meta.n_inputs; }
size_t et_method_output_count(const et_method *m) { return m->meta.n_outputs; }
et_method_stats et_method_get_stats(const et_method *m) { return m->stats; }

const et_value *et_method_output(const et_method *m, size_t i) {
  return i < m->meta.n_outputs ? &m->values[m->outputs[i]] : NULL;
}

const et_value *et_method_input(const et_method *m, size_t i) {
  return i < m->meta.n_inputs ? &m->values[m->inputs[i]] : NULL;
}

et_status et_method_set_input_tensor(et_method *m, size_t i, int dtype,
                                     uint32_t rank, const int64_t *sizes,
                                     const void *data, size_t nbytes) {
  if (i >= m->meta.n_inputs)
    return et_diag_set(&m->diag, ET_INVALID_ARGUMENT,
                       "input %zu out of range: method '%s' has %zu inputs", i,
                       m->meta.name, m->meta.n_inputs);
  et_value *v = &m->values[m->inputs[i]];
  if (v->tag != ET_TAG_TENSOR)
    return et_diag_set(&m->diag, ET_INVALID_ARGUMENT,
                       "input %zu is %s, not a tensor", i, et_tag_name((int)v->tag));
  et_tensor *t = v->u.t;
  if (dtype != t->dtype)
    return et_diag_set(&m->diag, ET_INVALID_ARGUMENT,
                       "input %zu: dtype %s, expected %s", i,
                       et_dtype_name(dtype), et_dtype_name(t->dtype));
  if (rank != t->rank)
    return et_diag_set(&m->diag, ET_INVALID_ARGUMENT,
                       "input %zu: rank %u, expected %u", i, rank, t->rank);
  const int32_t *bound = m->input_bounds[i];
  size_t numel = 1;
  for (uint32_t d = 0; d < rank; d++) {
    bool ok = t->dynamism == ET_STATIC ? sizes[d] == bound[d]
                                       : sizes[d] >= 0 && sizes[d] <= bound[d];
    if (!ok)
      return et_diag_set(&m->diag, ET_INVALID_ARGUMENT,
                         "input %zu: size %lld in dimension %u, expected %s%d",
                         i, (long long)sizes[d], d,
                         t->dynamism == ET_STATIC ? "" : "at most ", bound[d]);
    numel *= (size_t)sizes[d];
  }
  size_t want = numel * et_dtype_size(t->dtype);
  if (nbytes != want || (want && !data))
    return et_diag_set(&m->diag, ET_INVALID_ARGUMENT,
                       "input %zu: %zu bytes of data given, the tensor needs "
                       "%zu", i, nbytes, want);
  if (m->input_planned[i]) {
    if (et_tensor_resize64(t, sizes, rank))
      return et_diag_set(&m->diag, ET_INVALID_ARGUMENT,
                         "input %zu: cannot resize", i);
    if (want) memmove(t->data, data, want);
  } else {
    size_t es = et_dtype_size(t->dtype);
    size_t align = es >= 8 ? 8 : es;
    if ((uintptr_t)data % align)
      return et_diag_set(&m->diag, ET_INVALID_ARGUMENT,
                         "input %zu: data must be aligned to %zu bytes", i,
                         align);
    t->data = (void *)(uintptr_t)data;
    t->capacity = want;
    if (et_tensor_resize64(t, sizes, rank)) {
      /* Unplanned static inputs keep their shape; capacity bounds dynamic. */
      return et_diag_set(&m->diag, ET_INVALID_ARGUMENT,
                         "input %zu: cannot resize", i);
    }
  }
  m->input_set[i] = 1;
  return ET_OK;
}

et_status et_method_set_input_value(et_method *m, size_t i, const et_value *in) {
  if (i >= m->meta.n_inputs)
    return et_diag_set(&m->diag, ET_INVALID_ARGUMENT,
                       "input %zu out of range: method '%s' has %zu inputs", i,
                       m->meta.name, m->meta.n_inputs);
  et_value *v = &m->values[m->inputs[i]];
  if (v->tag == ET_TAG_TENSOR) {
    if (in->tag != ET_TAG_TENSOR)
      return et_diag_set(&m->diag, ET_INVALID_ARGUMENT,
                         "input %zu is a tensor, got %s", i,
                         et_tag_name((int)in->tag));
    const et_tensor *t = in->u.t;
    int64_t sizes[ET_MAX_RANK];
    if (t->rank > ET_MAX_RANK)
      return et_diag_set(&m->diag, ET_INVALID_ARGUMENT, "input %zu: rank %u",
                         i, t->rank);
    for (uint32_t d = 0; d < t->rank; d++) sizes[d] = t->sizes[d];
    return et_method_set_input_tensor(m, i, t->dtype, t->rank, sizes, t->data,
                                      et_tensor_nbytes(t));
  }
  if (in->tag != v->tag)
    return et_diag_set(&m->diag, ET_INVALID_ARGUMENT, "input %zu is %s, got %s",
                       i, et_tag_name((int)v->tag), et_tag_name((int)in->tag));
  bool same = true;
  if (v->tag == ET_TAG_INT) same = in->u.i == v->u.i;
  if (v->tag == ET_TAG_BOOL) same = in->u.b == v->u.b;
  if (v->tag == ET_TAG_DOUBLE) {
    double diff = in->u.d - v->u.d, tol = 1e-4 + 1e-5 * (v->u.d < 0 ? -v->u.d : v->u.d);
    same = diff <= tol && -diff <= tol;
  }
  if (!same)
    return et_diag_set(&m->diag, ET_INVALID_ARGUMENT,
                       "input %zu: scalar inputs must equal the value the "
                       "program was exported with", i);
  m->input_set[i] = 1;
  return ET_OK;
}

/* ---- execute ------------------------------------------------------------- */

static et_status jump_condition(et_method *m, uint32_t pc, const et_value *v,
                                bool *out) {
  if (v->tag == ET_TAG_BOOL) {
    *out = v->u.b;
    return ET_OK;
  }
  const et_tensor *t = v->u.t;
  if (t->dtype != ET_BOOL || (!t->data && et_tensor_numel(t)))
    return et_diag_set(&m->diag, ET_INVALID_PROGRAM,
                       "instruction %u: jump condition is a %s tensor, "
                       "expected Bool", pc, et_dtype_name(t->dtype));
  const uint8_t *b = (const uint8_t *)t->data;
  size_t n = et_tensor_numel(t);
  *out = true;
  for (size_t k = 0; k < n; k++)
    if (!b[k]) {
      *out = false;
      break;
    }
  return ET_OK;
}

/* The run-time checks init could not settle (see fill_kernel_call). */
static et_status check_args(et_method *m, const et_instr *in, uint32_t pc,
                            const et_kernel *k) {
  for (uint32_t a = 0; a < in->n_args && a < 32; a++) {
    const et_tensor *t = in->args[a]->u.t;
    if ((in->check >> a & 1u) && !t->data && et_tensor_numel(t))
      return et_diag_set(&m->diag, ET_INVALID_STATE,
                         "instruction %u (%s): argument %u (value %u) has no "
                         "data", pc, k->name, a,
                         (unsigned)(in->args[a] - m->values));
    if ((in->wcheck >> a & 1u) && (t->flags & ET_TENSOR_CONSTANT))
      return et_diag_set(&m->diag, ET_INVALID_PROGRAM,
                         "instruction %u (%s): argument %u (value %u) writes "
                         "a constant via a view or move", pc,
                         k->name, a, (unsigned)(in->args[a] - m->values));
  }
  return ET_OK;
}

et_status et_method_execute(et_method *m) {
  if (m->destroyed)
    return et_diag_set(&m->diag, ET_INVALID_STATE, "method was destroyed");
  for (size_t i = 0; i < m->meta.n_inputs; i++)
    if (!m->input_set[i])
      return et_diag_set(&m->diag, ET_INVALID_STATE,
                         "input %zu of method '%s' was not set", i,
                         m->meta.name);
  uint64_t executed = 0;
  et_status st = ET_OK;
  for (uint32_t c = 0; c < m->n_chains && !st; c++) {
    const uint32_t begin = m->chain_begin[c], end = m->chain_begin[c + 1];
    uint32_t pc = begin;
    while (pc < end) {
      if (++executed > ET_MAX_INSTRUCTIONS) {
        st = et_diag_set(&m->diag, ET_INVALID_PROGRAM,
                         "method '%s' ran more than %u instructions; the "
                         "program loops", m->meta.name, ET_MAX_INSTRUCTIONS);
        break;
      }
      const et_instr *in = &m->instrs[pc];
      switch (in->type) {
      case IT_KERNEL: {
        const et_kernel *k = m->kernels[in->a];
        if (in->check | in->wcheck) {
          st = check_args(m, in, pc - begin, k);
          if (st) break;
        }
        m->kctx.op_name = k->name;
        m->kctx.scratch_used = 0;
        st = k->fn(&m->kctx, in->args);
        if (st) {
          et_diag_set(&m->diag, st, "instruction %u: %s", pc - begin,
                      m->kdiag.status == st ? m->kdiag.message : k->name);
          et_diag_clear(&m->kdiag);
        }
        pc++;
        break;
      }
      case IT_DELEGATE: {
        et_delegate_rt *d = &m->delegates[in->a];
        st = d->backend->execute(&d->ctx, d->handle, in->args, in->n_args);
        if (st && m->diag.status != st)
          et_diag_set(&m->diag, st, "instruction %u: backend '%s' failed",
                      pc - begin, d->backend->id);
        pc++;
        break;
      }
      case IT_MOVE:
        m->values[in->b] = m->values[in->a];
        pc++;
        break;
      case IT_JUMP_FALSE: {
        bool cond = false;
        st = jump_condition(m, pc - begin, &m->values[in->a], &cond);
        pc = cond ? pc + 1 : begin + in->b;
        break;
      }
      case IT_FREE:
      default:
        /* Planned memory is never freed; bounded tensors keep theirs. */
        pc++;
        break;
      }
      if (st) break;
    }
  }
  m->stats.executions++;
  m->stats.instructions = executed;
  /* Planned inputs' memory may have been reused by the plan. */
  for (size_t i = 0; i < m->meta.n_inputs; i++)
    if (m->input_planned[i]) m->input_set[i] = 0;
  if (!st) et_diag_clear(&m->diag);
  return st;
}
