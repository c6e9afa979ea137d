/*
 * Method init: turns a verified plan into flat runtime structures in the
 * caller's arena (values, tensors, resolved kernels, argument pointer lists),
 * so that execute never touches the flatbuffer again; and destroy.
 */
#include "method_priv.h"

#include <string.h>

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

static et_status fill_kernel_call(et_method *m, et_instr *in, uint32_t pc,
                                  const fb_reader *r, const fb_vec *args,
                                  et_value **arg_slots) {
  in->args = arg_slots;
  in->n_args = args->len;
  for (uint32_t i = 0; i < args->len; i++) {
    arg_slots[i] = &m->values[fb_vec_i32(r, args, i)];
    /* A delegate may write any of its arguments. */
    if (in->type != IT_KERNEL && arg_slots[i]->tag == ET_TAG_TENSOR)
      arg_slots[i]->u.t->flags |= ET_TENSOR_PRODUCED;
  }
  if (in->type != IT_KERNEL) return ET_OK; /* in->a is a delegate index */
  const et_kernel *k = m->kernels[in->a];
  size_t n_sig = strlen(k->sig);
  if (n_sig != args->len)
    return et_diag_set(&m->diag, ET_INVALID_PROGRAM,
                       "instruction %u (%s) passes %u arguments; the kernel "
                       "takes %zu",
                       pc, k->name, args->len, n_sig);
  for (uint32_t i = 0; i < args->len; i++) {
    et_value *v = arg_slots[i];
    char c = k->sig[i];
    if (!et_kernel_sig_accepts(c, v->tag)) {
      const char *or_none, *kind = et_kernel_sig_kind(c, &or_none);
      return et_diag_set(&m->diag, ET_INVALID_PROGRAM,
                         "instruction %u (%s): argument %u (value %u) is %s, "
                         "expected %s%s",
                         pc, k->name, i, (unsigned)(v - m->values),
                         et_tag_name((int)v->tag), kind, or_none);
    }
    if (v->tag != ET_TAG_TENSOR) continue;
    et_tensor *t = v->u.t;
    if (c == 'W' && (t->flags & ET_TENSOR_CONSTANT))
      return et_diag_set(&m->diag, ET_INVALID_PROGRAM,
                         "instruction %u (%s): argument %u writes value %u, "
                         "which is a constant",
                         pc, k->name, i, (unsigned)(v - m->values));
    if (c == 'W' || c == 'P') t->flags |= ET_TENSOR_PRODUCED;
    /* What a written argument points at is known only at run time when a
     * view or move can re-point it, or when it is the caller's input. */
    bool may_alias = (t->flags & (ET_TENSOR_ALIASED | ET_TENSOR_CALLER)) != 0;
    /* A tensor without storage of its own gets data only from an input,
     * a view, a move or a delegate; check it at run time. */
    bool no_storage = c != 'P' && !t->data && et_tensor_nbytes(t) &&
                      !(t->flags & ET_TENSOR_CALLER);
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
    m->kernels[i] = et_find_kernel(reg, name);
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
    et_delegate_rt *rt = &m->delegates[d]; /* zeroed by et_method_init */
    fb_vec_table(r, &plan->delegates, d, &del, "BackendDelegate");
    const char *id = fb_string(r, &del, DELEGATE_ID, NULL, "BackendDelegate");
    fb_vector(r, &del, DELEGATE_SPECS, 4, &specs, "compile_specs");
    if (!fb_ok(r)) return et_fb_error(r, &m->diag);
    if ((st = et_delegate_data(p, r, &del, &data, &size, &m->diag))) return st;
    const et_backend *b = et_find_backend(reg, id);
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
    /* The slot counts as live (destroy calls the backend) only once init
     * succeeded: a handle whose init failed is never destroyed. */
    void *handle = NULL;
    et_diag_clear(&m->diag);
    st = b->init(&rt->ctx, data, size, cs, specs.len, &handle);
    if (st) {
      if (m->diag.status != st)
        et_diag_set(&m->diag, st, "backend '%s' failed to initialize delegate %u",
                    id, d);
      return st;
    }
    if (arena->used - before > budget) {
      if (b->destroy) b->destroy(handle);
      return et_diag_set(&m->diag, ET_INTERNAL,
                         "backend '%s' took %zu arena bytes but declared %zu",
                         id, arena->used - before, budget);
    }
    rt->ctx.arena = NULL; /* only init may allocate */
    rt->ctx.program = NULL;
    rt->ctx.external = NULL;
    rt->handle = handle;
    rt->backend = b;
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
  if ((st = et_method_open_counted(p, name, registry, &r, &plan, &index, &c, diag)))
    return st;
  et_method_fill_meta(p, &plan, index, &c, &meta);
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
  et_method_layout(&arena, &c, &o);
  if (arena.failed || !o.m)
    return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED,
                       "method '%s' arena layout did not fit in %zu bytes",
                       name, memory->arena_size);
  et_method *m = o.m;
  memset(m, 0, sizeof *m);
  /* The arena may hold a destroyed method's handles: no slot is live until
   * its backend's init succeeds. */
  memset(o.delegates, 0, c.delegates * sizeof *o.delegates);
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
  m->input_values = o.input_values;
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

  m->max_instructions = (uint64_t)c.instrs * ET_INSTRUCTION_BUDGET;

  if ((st = fill_values(m, p, &r, &plan, &o, memory)) ||
      (st = resolve_kernels(m, p, &r, &plan, registry)))
    return et_diag_set(diag, st, "%s", m->diag.message);
  /* An unplanned input will point at the caller's memory: read only. */
  for (uint32_t i = 0; i < plan.inputs.len; i++) {
    et_value *v = &m->values[m->inputs[i]];
    if (v->tag == ET_TAG_TENSOR && !v->u.t->data)
      v->u.t->flags |= ET_TENSOR_CALLER;
  }
  if ((st = fill_instructions(m, p, &r, &plan, &o)))
    return et_diag_set(diag, st, "%s", m->diag.message);
  for (uint32_t i = 0; i < plan.outputs.len; i++) {
    const et_value *v = &m->values[m->outputs[i]];
    if (v->tag == ET_TAG_TENSOR && !v->u.t->data && et_tensor_nbytes(v->u.t) &&
        !(v->u.t->flags &
          (ET_TENSOR_ALIASED | ET_TENSOR_PRODUCED | ET_TENSOR_CALLER)))
      return et_diag_set(diag, ET_INVALID_PROGRAM,
                         "output %u (value %u) has no memory", i,
                         m->outputs[i]);
  }

  size_t rank_i = 0;
  for (uint32_t i = 0; i < plan.inputs.len; i++) {
    et_value *v = &m->values[m->inputs[i]];
    m->input_values[i] = *v;
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
