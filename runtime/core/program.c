/*
 * Program loading: header checks, then one verification pass over every
 * structure a method can reach. Afterwards method init and execute may rely
 * on every index, offset and size being in range.
 */
#include "internal.h"

#include <string.h>

void et_reader_init(const et_program *p, fb_reader *r) {
  fb_init(r, p->data, p->program_size);
}

et_status et_fb_error(const fb_reader *r, et_diag *diag) {
  if (r->steps > r->max_steps)
    return et_diag_set(diag, ET_INVALID_PROGRAM,
                       "verification needs over %llu steps: tables shared "
                       "by too many references",
                       (unsigned long long)r->max_steps);
  /* Field numbers are the order of the fields in upstream's schema.fbs. */
  if (r->field >= 0)
    return et_diag_set(diag, ET_INVALID_PROGRAM,
                       "malformed flatbuffer: %s field %d at byte offset %u",
                       r->what, r->field, r->bad_at);
  return et_diag_set(diag, ET_INVALID_PROGRAM,
                     "malformed flatbuffer: %s at byte offset %u", r->what,
                     r->bad_at);
}

ET_PRINTF_FORMAT(2, 3)
static et_status invalid(et_diag *d, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  et_diag_setv(d, ET_INVALID_PROGRAM, fmt, ap);
  va_end(ap);
  return ET_INVALID_PROGRAM;
}

/* Segment i of the program as a span of the file. */
static et_status segment_span(const et_program *p, fb_reader *r, uint32_t i,
                              const uint8_t **out, uint64_t *out_size,
                              et_diag *diag) {
  if (i >= p->n_segments)
    return invalid(diag, "segment index %u out of range (program has %u)", i,
                   p->n_segments);
  fb_vec segs = {p->segments, p->n_segments, true};
  fb_table seg;
  fb_vec_table(r, &segs, i, &seg, "DataSegment");
  uint64_t off = fb_u64(r, &seg, SEGMENT_OFFSET, 0, "DataSegment");
  uint64_t size = fb_u64(r, &seg, SEGMENT_SIZE, 0, "DataSegment");
  if (!fb_ok(r)) return et_fb_error(r, diag);
  uint64_t start = p->segment_base + off;
  if (start < off || start > p->size || size > p->size - start)
    return invalid(diag,
                   "segment %u (offset %llu, size %llu) lies outside the %zu "
                   "byte file",
                   i, (unsigned long long)off, (unsigned long long)size,
                   p->size);
  if (size != 0 && p->segment_base == 0)
    return invalid(diag, "segment %u has data but no extended header gives "
                         "the segment base", i);
  *out = p->data + start;
  *out_size = size;
  return ET_OK;
}

/* A SubsegmentOffsets table: its segment and offsets vector. */
static et_status subsegment(et_program *p, fb_reader *r, const fb_table *t,
                            const char *what, const uint8_t **seg,
                            uint64_t *seg_size, uint32_t *offs,
                            uint32_t *n_offs) {
  uint32_t idx = fb_u32(r, t, SUBSEG_INDEX, 0, what);
  fb_vec v;
  fb_vector(r, t, SUBSEG_OFFSETS, 8, &v, what);
  if (!fb_ok(r)) return et_fb_error(r, &p->diag);
  *offs = v.pos;
  *n_offs = v.len;
  *seg = NULL;
  *seg_size = 0;
  if (v.len == 0) return ET_OK;
  et_status st = segment_span(p, r, idx, seg, seg_size, &p->diag);
  if (st) return st;
  for (uint32_t k = 0; k < v.len; k++)
    if (fb_vec_u64(r, &v, k) > *seg_size)
      return invalid(&p->diag, "%s offset %u (%llu) is past its segment's %llu "
                               "bytes", what, k,
                     (unsigned long long)fb_vec_u64(r, &v, k),
                     (unsigned long long)*seg_size);
  return ET_OK;
}

et_status et_plan_open(const et_program *p, fb_reader *r, uint32_t index,
                       et_plan *out, et_diag *diag) {
  memset(out, 0, sizeof *out);
  if (index >= p->n_plans)
    return et_diag_set(diag, ET_NOT_FOUND, "method index %u out of range",
                       index);
  fb_vec plans = {p->plans, p->n_plans, true};
  fb_vec_table(r, &plans, index, &out->table, "ExecutionPlan");
  const fb_table *t = &out->table;
  out->name = fb_string(r, t, PLAN_NAME, NULL, "ExecutionPlan");
  fb_vector(r, t, PLAN_VALUES, 4, &out->values, "ExecutionPlan");
  fb_vector(r, t, PLAN_INPUTS, 4, &out->inputs, "ExecutionPlan");
  fb_vector(r, t, PLAN_OUTPUTS, 4, &out->outputs, "ExecutionPlan");
  fb_vector(r, t, PLAN_CHAINS, 4, &out->chains, "ExecutionPlan");
  fb_vector(r, t, PLAN_OPERATORS, 4, &out->operators, "ExecutionPlan");
  fb_vector(r, t, PLAN_DELEGATES, 4, &out->delegates, "ExecutionPlan");
  fb_vector(r, t, PLAN_BUFFER_SIZES, 8, &out->buffer_sizes,
            "ExecutionPlan");
  if (!fb_ok(r)) return et_fb_error(r, diag);
  if (!out->name) return invalid(diag, "method %u has no name", index);
  if (!out->values.present || !out->inputs.present || !out->outputs.present ||
      !out->buffer_sizes.present)
    return invalid(diag,
                   "method '%s' lacks values, inputs, outputs or "
                   "non_const_buffer_sizes",
                   out->name);
  return ET_OK;
}

et_status et_plan_find(const et_program *p, const char *name, uint32_t *out,
                       et_diag *diag) {
  fb_reader r;
  et_reader_init(p, &r);
  fb_vec plans = {p->plans, p->n_plans, true};
  for (uint32_t i = 0; i < p->n_plans; i++) {
    fb_table t;
    fb_vec_table(&r, &plans, i, &t, "ExecutionPlan");
    const char *n = fb_string(&r, &t, PLAN_NAME, NULL, "ExecutionPlan");
    if (!fb_ok(&r)) return et_fb_error(&r, diag);
    if (n && strcmp(n, name) == 0) { /* the first of that name */
      *out = i;
      return ET_OK;
    }
  }
  return et_diag_set(diag, ET_NOT_FOUND, "program has no method named '%s'",
                     name);
}

et_status et_value_open(const et_program *p, fb_reader *r, const et_plan *plan,
                        uint32_t index, uint8_t *out_type, fb_table *out_val,
                        et_diag *diag) {
  (void)p;
  fb_table ev;
  if (index >= plan->values.len)
    return invalid(diag, "value index %u out of range (method '%s' has %u)",
                   index, plan->name, plan->values.len);
  fb_vec_table(r, &plan->values, index, &ev, "EValue");
  *out_type = fb_u8(r, &ev, EVALUE_TYPE, 0, "EValue");
  fb_subtable(r, &ev, EVALUE_VAL, out_val, "EValue");
  if (!fb_ok(r)) return et_fb_error(r, diag);
  if (*out_type == KT_NONE || *out_type > KT_OPT_TENSOR_LIST)
    return invalid(diag, "value %u has unknown type %u", index, *out_type);
  if (*out_type != KT_NULL && out_val->pos == 0)
    return invalid(diag, "value %u (type %u) has no payload", index, *out_type);
  return ET_OK;
}

/* Largest power of two <= the element size and <= 8: the alignment a typed
 * read of the element needs on every supported target. */
static size_t elem_align(size_t es) {
  return es >= 8 ? 8 : es >= 4 ? 4 : es >= 2 ? 2 : 1;
}

et_status et_tensor_describe(const et_program *p, fb_reader *r,
                             const et_plan *plan, uint32_t index,
                             const fb_table *t, et_tensor_desc *out,
                             et_diag *diag) {
  memset(out, 0, sizeof *out);
  int8_t dtype = fb_i8(r, t, TENSOR_SCALAR_TYPE, 0, "Tensor");
  int32_t storage_offset = fb_i32(r, t, TENSOR_STORAGE_OFFSET, 0,
                                  "Tensor");
  fb_vector(r, t, TENSOR_SIZES, 4, &out->sizes, "Tensor");
  fb_vector(r, t, TENSOR_DIM_ORDER, 1, &out->dim_order, "Tensor");
  uint32_t dbi = fb_u32(r, t, TENSOR_DATA_BUFFER_IDX, 0, "Tensor");
  fb_table alloc, extra;
  fb_subtable(r, t, TENSOR_ALLOCATION, &alloc, "Tensor");
  int8_t layout = fb_i8(r, t, TENSOR_LAYOUT, 0, "Tensor");
  int8_t dyn = fb_i8(r, t, TENSOR_DYNAMISM, 0, "Tensor");
  fb_subtable(r, t, TENSOR_EXTRA, &extra, "Tensor");
  int8_t location = fb_i8(r, &extra, EXTRA_LOCATION, 0,
                          "ExtraTensorInfo");
  if (!fb_ok(r)) return et_fb_error(r, diag);

  size_t es = et_dtype_size(dtype);
  if (es == 0)
    return invalid(diag, "value %u: tensor has unsupported scalar type %d",
                   index, dtype);
  if (storage_offset != 0)
    return invalid(diag, "value %u: tensor storage_offset %d (must be 0)",
                   index, storage_offset);
  if (!out->sizes.present || !out->dim_order.present)
    return invalid(diag, "value %u: tensor lacks sizes or dim_order", index);
  if (out->sizes.len != out->dim_order.len)
    return invalid(diag, "value %u: tensor has %u sizes but %u dim_order "
                         "entries", index, out->sizes.len, out->dim_order.len);
  if (out->sizes.len > ET_MAX_RANK)
    return invalid(diag, "value %u: tensor rank %u exceeds the limit of %d",
                   index, out->sizes.len, ET_MAX_RANK);
  if (layout != 0)
    return et_diag_set(diag, ET_NOT_SUPPORTED,
                       "value %u: tensor layout %d is not supported (only "
                       "strided)", index, layout);
  if (dyn == ET_DYNAMIC_UNBOUND)
    return et_diag_set(diag, ET_NOT_SUPPORTED,
                       "value %u: dynamic unbound tensors are not supported",
                       index);
  if (dyn != ET_STATIC && dyn != ET_DYNAMIC_BOUND)
    return invalid(diag, "value %u: unknown shape_dynamism %d", index, dyn);
  if (location) { /* 1, EXTERNAL: data_buffer_idx is ignored */
    out->external = fb_string(r, &extra, EXTRA_FQN, NULL, "ExtraTensorInfo");
    if (!fb_ok(r)) return et_fb_error(r, diag);
    if (location != 1 || !out->external || !out->external[0])
      return invalid(diag, "value %u: bad external tensor (location %d)",
                     index, location);
    dbi = 0;
  }

  out->dtype = dtype;
  out->dynamism = (uint8_t)dyn;
  out->rank = out->sizes.len;
  uint32_t seen = 0;
  size_t numel = 1;
  bool overflow = false;
  for (uint32_t d = 0; d < out->rank; d++) {
    int32_t s = fb_vec_i32(r, &out->sizes, d);
    uint8_t o = fb_vec_u8(r, &out->dim_order, d);
    if (s < 0)
      return invalid(diag, "value %u: tensor size %d in dimension %u is "
                           "negative", index, s, d);
    if (o >= out->rank || (seen & (1u << o)))
      return invalid(diag, "value %u: dim_order is not a permutation of "
                           "0..%u", index, out->rank - 1);
    seen |= 1u << o;
    if (s != 0 && numel > SIZE_MAX / (size_t)s) overflow = true;
    numel *= (size_t)s;
  }
  if (overflow || numel > SIZE_MAX / es)
    return invalid(diag, "value %u: tensor element count overflows", index);
  out->nbytes = numel * es;
  size_t align = elem_align(es);

  if (alloc.pos) {
    uint32_t mem_id = fb_u32(r, &alloc, ALLOC_MEMORY_ID, 0,
                             "AllocationDetails");
    uint64_t lo = fb_u32(r, &alloc, ALLOC_OFFSET_LOW, 0,
                         "AllocationDetails");
    uint64_t hi = fb_u32(r, &alloc, ALLOC_OFFSET_HIGH, 0,
                         "AllocationDetails");
    if (!fb_ok(r)) return et_fb_error(r, diag);
    uint64_t offset = lo | (hi << 32);
    if (mem_id == 0 || mem_id >= plan->buffer_sizes.len)
      return invalid(diag, "value %u: memory_id %u out of range (method has "
                           "%u planned buffers)", index, mem_id,
                     plan->buffer_sizes.len ? plan->buffer_sizes.len - 1 : 0);
    int64_t bsize = fb_vec_i64(r, &plan->buffer_sizes, mem_id);
    if (bsize < 0 || offset > (uint64_t)bsize ||
        out->nbytes > (uint64_t)bsize - offset)
      return invalid(diag, "value %u: planned at offset %llu with %zu bytes, "
                           "past the end of planned buffer %u (%lld bytes)",
                     index, (unsigned long long)offset, out->nbytes,
                     mem_id - 1, (long long)bsize);
    if (offset % align)
      return invalid(diag, "value %u: planned offset %llu is not aligned to "
                           "%zu bytes", index, (unsigned long long)offset,
                     align);
    out->where = TD_PLANNED;
    out->memory_id = mem_id;
    out->offset = offset;
    if (dbi > 0) {
      if (dbi >= p->n_mutable_offsets || !p->mutable_segment)
        return invalid(diag, "value %u: initial data index %u out of range "
                             "(%u mutable buffers)", index, dbi,
                       p->n_mutable_offsets);
      fb_vec mo = {p->mutable_offsets, p->n_mutable_offsets, true};
      uint64_t off = fb_vec_u64(r, &mo, dbi);
      if (out->nbytes > p->mutable_segment_size - off)
        return invalid(diag, "value %u: %s data (%zu bytes at %llu) past "
                             "the end of its segment", index, "initial",
                       out->nbytes, (unsigned long long)off);
      out->initial = p->mutable_segment + off;
    }
    return ET_OK;
  }
  if (out->external) out->where = TD_EXTERNAL;
  if (dbi == 0) return ET_OK;

  const uint8_t *data;
  if (p->constant_segment || p->n_constant_offsets > 0) {
    if (dbi >= p->n_constant_offsets)
      return invalid(diag, "value %u: constant buffer index %u out of range "
                           "(%u constants)", index, dbi, p->n_constant_offsets);
    fb_vec co = {p->constant_offsets, p->n_constant_offsets, true};
    uint64_t off = fb_vec_u64(r, &co, dbi);
    if (out->nbytes > p->constant_segment_size - off)
      return invalid(diag, "value %u: %s data (%zu bytes at %llu) past "
                           "the end of its segment", index, "constant",
                     out->nbytes, (unsigned long long)off);
    data = p->constant_segment + off;
  } else {
    if (dbi >= p->n_inline_constants)
      return invalid(diag, "value %u: constant buffer index %u out of range "
                           "(%u constants)", index, dbi, p->n_inline_constants);
    fb_vec ib = {p->inline_constants, p->n_inline_constants, true};
    fb_table buf;
    fb_vec storage;
    fb_vec_table(r, &ib, dbi, &buf, "Buffer");
    fb_vector(r, &buf, 0, 1, &storage, "Buffer");
    if (!fb_ok(r)) return et_fb_error(r, diag);
    if (storage.len < out->nbytes)
      return invalid(diag, "value %u: constant buffer %u has %u bytes, tensor "
                           "needs %zu", index, dbi, storage.len, out->nbytes);
    data = p->data + storage.pos;
  }
  if (((uintptr_t)data) % align)
    return invalid(diag, "value %u: constant data is not aligned to %zu bytes",
                   index, align);
  out->where = TD_CONSTANT;
  out->constant = data;
  return ET_OK;
}

et_status et_operator_name(const et_program *p, fb_reader *r,
                           const et_plan *plan, uint32_t index, char *buf,
                           size_t cap, et_diag *diag) {
  (void)p;
  fb_table op;
  uint32_t nlen = 0, olen = 0;
  if (index >= plan->operators.len)
    return invalid(diag, "operator index %u out of range (method '%s' has %u)",
                   index, plan->name, plan->operators.len);
  fb_vec_table(r, &plan->operators, index, &op, "Operator");
  const char *name = fb_string(r, &op, OPERATOR_NAME, &nlen, "Operator");
  const char *overload = fb_string(r, &op, OPERATOR_OVERLOAD, &olen,
                                   "Operator");
  if (!fb_ok(r)) return et_fb_error(r, diag);
  if (!name || nlen == 0)
    return invalid(diag, "operator %u has no name", index);
  if ((size_t)nlen + olen + 2 > cap || memchr(name, 0, nlen) ||
      (overload && memchr(overload, 0, olen)))
    return invalid(diag, "operator %u has a malformed or overlong name",
                   index);
  memcpy(buf, name, nlen);
  size_t n = nlen;
  if (overload && olen) {
    buf[n++] = '.';
    memcpy(buf + n, overload, olen);
    n += olen;
  }
  buf[n] = '\0';
  return ET_OK;
}

et_status et_delegate_data(const et_program *p, fb_reader *r,
                           const fb_table *delegate, const uint8_t **out,
                           size_t *out_size, et_diag *diag) {
  fb_table ref;
  fb_subtable(r, delegate, DELEGATE_PROCESSED, &ref, "BackendDelegate");
  int8_t loc = fb_i8(r, &ref, DATAREF_LOCATION, 0, "DataReference");
  uint32_t idx = fb_u32(r, &ref, DATAREF_INDEX, 0, "DataReference");
  if (!fb_ok(r)) return et_fb_error(r, diag);
  if (!ref.pos) return invalid(diag, "delegate has no processed data");
  if (loc == 0) {
    if (idx >= p->n_delegate_data)
      return invalid(diag, "delegate inline data index %u out of range (%u)",
                     idx, p->n_delegate_data);
    fb_vec dd = {p->delegate_data, p->n_delegate_data, true};
    fb_table t;
    fb_vec data;
    fb_vec_table(r, &dd, idx, &t, "BackendDelegateInlineData");
    fb_vector(r, &t, 0, 1, &data, "BackendDelegateInlineData");
    if (!fb_ok(r)) return et_fb_error(r, diag);
    *out = p->data + data.pos;
    *out_size = data.len;
    return ET_OK;
  }
  if (loc == 1) {
    uint64_t size;
    et_status st = segment_span(p, r, idx, out, &size, diag);
    if (st) return st;
    if (size > SIZE_MAX) return invalid(diag, "delegate segment too large");
    *out_size = (size_t)size;
    return ET_OK;
  }
  return invalid(diag, "delegate data location %d is unknown", loc);
}

/* Check that value `idx` exists and has kernel type `type`. */
static et_status expect_type(const et_program *p, fb_reader *r,
                             const et_plan *plan, int64_t idx, uint8_t type,
                             uint32_t owner, const char *what, et_diag *diag) {
  uint8_t t;
  fb_table val;
  if (idx < 0 || idx >= (int64_t)plan->values.len)
    return invalid(diag, "value %u: %s refers to value %lld, out of range "
                         "(method '%s' has %u)", owner, what, (long long)idx,
                   plan->name, plan->values.len);
  et_status st = et_value_open(p, r, plan, (uint32_t)idx, &t, &val, diag);
  if (st) return st;
  if (t != type)
    return invalid(diag, "value %u: %s refers to value %lld of type %u, "
                         "expected type %u", owner, what, (long long)idx, t,
                   type);
  return ET_OK;
}

static et_status verify_value(const et_program *p, fb_reader *r,
                              const et_plan *plan, uint32_t i, et_diag *diag) {
  uint8_t type;
  fb_table val;
  fb_vec items;
  et_status st = et_value_open(p, r, plan, i, &type, &val, diag);
  if (st) return st;
  switch (type) {
  case KT_NULL: case KT_INT: case KT_BOOL: case KT_DOUBLE:
    fb_field(r, &val, 0, type == KT_BOOL ? 1 : 8, "scalar value");
    break;
  case KT_STRING:
    fb_string(r, &val, 0, NULL, "String");
    break;
  case KT_TENSOR: {
    et_tensor_desc td;
    return et_tensor_describe(p, r, plan, i, &val, &td, diag);
  }
  case KT_INT_LIST:
    fb_vector(r, &val, 0, 8, &items, "IntList");
    if (!fb_ok(r)) break;
    for (uint32_t k = 0; k < items.len; k++)
      if ((st = expect_type(p, r, plan, fb_vec_i64(r, &items, k), KT_INT, i,
                            "int list item", diag)))
        return st;
    break;
  case KT_DOUBLE_LIST:
    fb_vector(r, &val, 0, 8, &items, "DoubleList");
    break;
  case KT_BOOL_LIST:
    fb_vector(r, &val, 0, 1, &items, "BoolList");
    break;
  case KT_TENSOR_LIST:
  case KT_OPT_TENSOR_LIST:
    fb_vector(r, &val, 0, 4, &items, "TensorList");
    if (!fb_ok(r)) break;
    for (uint32_t k = 0; k < items.len; k++) {
      int32_t idx = fb_vec_i32(r, &items, k);
      if (type == KT_OPT_TENSOR_LIST && idx == -1) continue;
      if ((st = expect_type(p, r, plan, idx, KT_TENSOR, i, "tensor list item",
                            diag)))
        return st;
    }
    break;
  default:
    break;
  }
  return fb_ok(r) ? ET_OK : et_fb_error(r, diag);
}

static et_status verify_instruction(const et_program *p, fb_reader *r,
                                    const et_plan *plan, uint32_t chain,
                                    uint32_t pc, uint32_t n_instr,
                                    const fb_table *instr, et_diag *diag) {
  uint8_t type = fb_u8(r, instr, INSTR_TYPE, 0, "Instruction");
  fb_table a;
  fb_vec args;
  fb_subtable(r, instr, INSTR_ARGS, &a, "Instruction");
  if (!fb_ok(r)) return et_fb_error(r, diag);
  if (!a.pos)
    return invalid(diag, "chain %u instruction %u has no arguments", chain, pc);
  uint32_t nv = plan->values.len;
  et_status st;
  uint8_t vt;
  fb_table vv;
  switch (type) {
  case IT_KERNEL:
  case IT_DELEGATE: {
    int32_t idx = fb_i32(r, &a, 0, 0, "KernelCall");
    fb_vector(r, &a, 1, 4, &args, "KernelCall");
    if (!fb_ok(r)) return et_fb_error(r, diag);
    uint32_t limit = type == IT_KERNEL ? plan->operators.len
                                       : plan->delegates.len;
    if (idx < 0 || (uint32_t)idx >= limit)
      return invalid(diag, "chain %u instruction %u: %s index %d out of range "
                           "(%u)", chain, pc,
                     type == IT_KERNEL ? "operator" : "delegate", idx, limit);
    if (!args.present)
      return invalid(diag, "chain %u instruction %u has no argument list",
                     chain, pc);
    if (!fb_charge(r, args.len)) return et_fb_error(r, diag);
    for (uint32_t k = 0; k < args.len; k++) {
      int32_t v = fb_vec_i32(r, &args, k);
      if (v < 0 || (uint32_t)v >= nv)
        return invalid(diag, "chain %u instruction %u: argument %u refers to "
                             "value %d, out of range (%u values)", chain, pc,
                       k, v, nv);
    }
    return ET_OK;
  }
  case IT_MOVE: {
    int32_t from = fb_i32(r, &a, 0, 0, "MoveCall");
    int32_t to = fb_i32(r, &a, 1, 0, "MoveCall");
    uint8_t tf, tt;
    if (!fb_ok(r)) return et_fb_error(r, diag);
    if (from < 0 || (uint32_t)from >= nv || to < 0 || (uint32_t)to >= nv)
      return invalid(diag, "chain %u instruction %u: move %d -> %d out of "
                           "range (%u values)", chain, pc, from, to, nv);
    if ((st = et_value_open(p, r, plan, (uint32_t)from, &tf, &vv, diag)) ||
        (st = et_value_open(p, r, plan, (uint32_t)to, &tt, &vv, diag)))
      return st;
    /* Values keep their kind for the whole run: kernels rely on it. */
    if (tf != tt)
      return invalid(diag, "chain %u instruction %u: move %d (type %u) -> "
                           "%d (type %u) changes the kind",
                     chain, pc, from, tf, to, tt);
    return ET_OK;
  }
  case IT_JUMP_FALSE: {
    int32_t cond = fb_i32(r, &a, 0, 0, "JumpFalseCall");
    int32_t dest = fb_i32(r, &a, 1, 0, "JumpFalseCall");
    if (!fb_ok(r)) return et_fb_error(r, diag);
    if (dest < 0 || (uint32_t)dest > n_instr)
      return invalid(diag, "chain %u instruction %u: jump destination %d is "
                           "outside the chain (%u instructions)", chain, pc,
                     dest, n_instr);
    if (cond < 0 || (uint32_t)cond >= nv)
      return invalid(diag, "chain %u instruction %u: condition value %d out "
                           "of range", chain, pc, cond);
    if ((st = et_value_open(p, r, plan, (uint32_t)cond, &vt, &vv, diag)))
      return st;
    if (vt != KT_BOOL && vt != KT_TENSOR)
      return invalid(diag, "chain %u instruction %u: jump condition value %d "
                           "is not a Bool or tensor", chain, pc, cond);
    return ET_OK;
  }
  case IT_FREE: {
    int32_t v = fb_i32(r, &a, 0, 0, "FreeCall");
    if (!fb_ok(r)) return et_fb_error(r, diag);
    if (v < 0 || (uint32_t)v >= nv)
      return invalid(diag, "chain %u instruction %u: free of value %d out of "
                           "range", chain, pc, v);
    if ((st = et_value_open(p, r, plan, (uint32_t)v, &vt, &vv, diag)))
      return st;
    if (vt != KT_TENSOR)
      return invalid(diag, "chain %u instruction %u: free of value %d, which "
                           "is not a tensor", chain, pc, v);
    return ET_OK;
  }
  default:
    return invalid(diag, "chain %u instruction %u has unknown type %u", chain,
                   pc, type);
  }
}

static et_status verify_plan(et_program *p, fb_reader *r, uint32_t index) {
  et_plan plan;
  et_diag *diag = &p->diag;
  et_status st = et_plan_open(p, r, index, &plan, diag);
  if (st) return st;
  if (!fb_charge(r, (uint64_t)plan.inputs.len + plan.outputs.len +
                        plan.buffer_sizes.len))
    return et_fb_error(r, diag);
  /* Checked first: every later size_t use of a planned size relies on it. */
  for (uint32_t i = 1; i < plan.buffer_sizes.len; i++) {
    int64_t b = fb_vec_i64(r, &plan.buffer_sizes, i);
    if (b < 0)
      return invalid(diag, "method '%s': planned buffer %u has negative size (%lld bytes)",
                     plan.name, i - 1, (long long)b);
    if ((uint64_t)b > SIZE_MAX)
      return et_diag_set(diag, ET_NOT_SUPPORTED,
                         "method '%s': planned buffer %u needs %lld bytes, "
                         "more than this target can address (%zu)",
                         plan.name, i - 1, (long long)b, (size_t)SIZE_MAX);
  }
  for (uint32_t i = 0; i < plan.values.len; i++)
    if ((st = verify_value(p, r, &plan, i, diag))) return st;
  const fb_vec *io[2] = {&plan.inputs, &plan.outputs};
  for (int k = 0; k < 2; k++)
    for (uint32_t i = 0; i < io[k]->len; i++) {
      int32_t v = fb_vec_i32(r, io[k], i);
      if (v < 0 || (uint32_t)v >= plan.values.len)
        return invalid(diag, "method '%s': %s %u refers to value %d, out of "
                             "range (%u values)", plan.name,
                       k ? "output" : "input", i, v, plan.values.len);
    }
  char name[ET_OP_NAME_CAP];
  for (uint32_t i = 0; i < plan.operators.len; i++)
    if ((st = et_operator_name(p, r, &plan, i, name, sizeof name, diag)))
      return st;
  for (uint32_t i = 0; i < plan.delegates.len; i++) {
    fb_table d;
    fb_vec specs;
    const uint8_t *data;
    size_t size;
    fb_vec_table(r, &plan.delegates, i, &d, "BackendDelegate");
    const char *id = fb_string(r, &d, DELEGATE_ID, NULL, "BackendDelegate");
    fb_vector(r, &d, DELEGATE_SPECS, 4, &specs, "BackendDelegate");
    if (!fb_ok(r)) return et_fb_error(r, diag);
    if (!id) return invalid(diag, "delegate %u has no backend id", i);
    if ((st = et_delegate_data(p, r, &d, &data, &size, diag))) return st;
    for (uint32_t k = 0; k < specs.len; k++) {
      fb_table spec;
      fb_vec value;
      fb_vec_table(r, &specs, k, &spec, "CompileSpec");
      const char *key = fb_string(r, &spec, SPEC_KEY, NULL, "CompileSpec");
      fb_vector(r, &spec, SPEC_VALUE, 1, &value, "CompileSpec");
      if (!fb_ok(r)) return et_fb_error(r, diag);
      if (!key) return invalid(diag, "delegate %u compile spec %u has no key",
                               i, k);
    }
  }
  /* Upstream writes at least one chain, even for a constant method. */
  if (plan.chains.len == 0)
    return invalid(diag, "method '%s' has no chains", plan.name);
  for (uint32_t c = 0; c < plan.chains.len; c++) {
    fb_table chain;
    fb_vec instrs;
    fb_vec_table(r, &plan.chains, c, &chain, "Chain");
    fb_vector(r, &chain, CHAIN_INSTRUCTIONS, 4, &instrs, "Chain");
    if (!fb_ok(r)) return et_fb_error(r, diag);
    if (!instrs.present) return invalid(diag, "chain %u has no instructions "
                                              "vector", c);
    for (uint32_t pc = 0; pc < instrs.len; pc++) {
      fb_table instr;
      fb_vec_table(r, &instrs, pc, &instr, "Instruction");
      if (!fb_ok(r)) return et_fb_error(r, diag);
      if ((st = verify_instruction(p, r, &plan, c, pc, instrs.len, &instr,
                                   diag)))
        return st;
    }
  }
  /* A name that repeats an earlier method's is not refused (upstream picks
   * the first, and so does et_plan_find): checking would cost time
   * quadratic in the number of methods. */
  return ET_OK;
}

static bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }

static et_status check_header(et_program *p) {
  const uint8_t *d = p->data;
  if (p->size < 8)
    return invalid(&p->diag, "file is %zu bytes, too small to be a program",
                   p->size);
  if (memcmp(d + 4, ET_PTE_IDENTIFIER, 4) != 0) {
    if (d[4] == 'E' && d[5] == 'T' && is_digit(d[6]) && is_digit(d[7])) {
      bool newer = d[6] > '1' || (d[6] == '1' && d[7] > '2');
      return et_diag_set(&p->diag, ET_NOT_SUPPORTED,
                         "program format %c%c%c%c is %s than %s, the format "
                         "this runtime reads",
                         d[4], d[5], d[6], d[7], newer ? "newer" : "older",
                         ET_PTE_IDENTIFIER);
    }
    return invalid(&p->diag, "not an ExecuTorch program: file identifier "
                             "bytes are %x %x %x %x, expected '%s'",
                   d[4], d[5], d[6], d[7], ET_PTE_IDENTIFIER);
  }
  uint64_t program_size = p->size;
  p->segment_base = 0;
  if (p->size >= 12 && memcmp(d + 8, "eh00", 4) == 0) {
    if (p->size < 32)
      return invalid(&p->diag, "extended header truncated (file is %zu bytes)",
                     p->size);
    uint32_t len = fb_rd32(d + 12);
    if (len < 24)
      return invalid(&p->diag, "extended header length %u is below 24", len);
    program_size = fb_rd64(d + 16);
    uint64_t base = fb_rd64(d + 24);
    uint64_t seg_size = (len >= 32 && p->size >= 40) ? fb_rd64(d + 32) : 0;
    if (program_size < 12 || program_size > p->size)
      return invalid(&p->diag, "extended header program_size %llu exceeds the "
                               "%zu byte file",
                     (unsigned long long)program_size, p->size);
    if (base != 0 && (base < program_size || base > p->size ||
                      seg_size > p->size - base))
      return invalid(&p->diag, "extended header segment base %llu + %llu "
                               "bytes lies outside the %zu byte file",
                     (unsigned long long)base, (unsigned long long)seg_size,
                     p->size);
    p->segment_base = base;
  }
  if (program_size > UINT32_MAX)
    return invalid(&p->diag, "program flatbuffer of %llu bytes exceeds 4 GiB",
                   (unsigned long long)program_size);
  p->program_size = (uint32_t)program_size;
  return ET_OK;
}

et_status et_program_load(et_program *p, const void *data, size_t size,
                          unsigned flags) {
  (void)flags;
  memset(p, 0, sizeof *p);
  p->data = (const uint8_t *)data;
  p->size = size;
  if (!data)
    return et_diag_set(&p->diag, ET_INVALID_ARGUMENT, "program data is NULL");
  if ((uintptr_t)data % 16)
    return et_diag_set(&p->diag, ET_INVALID_ARGUMENT,
                       "program data at %p is not 16-byte aligned", data);
  et_status st = check_header(p);
  if (st) return st;

  fb_reader r;
  fb_table root, cseg;
  fb_vec v;
  et_reader_init(p, &r);
  r.max_steps = (uint64_t)p->program_size * ET_VERIFY_STEPS_PER_BYTE + 4096;
  if (!fb_root(&r, &root)) return et_fb_error(&r, &p->diag);
  p->root = root.pos;

  fb_vector(&r, &root, PROGRAM_EXECUTION_PLAN, 4, &v, "Program");
  if (!fb_ok(&r)) return et_fb_error(&r, &p->diag);
  if (!v.present) return invalid(&p->diag, "program has no execution plans");
  p->plans = v.pos;
  p->n_plans = v.len;

  fb_vector(&r, &root, PROGRAM_SEGMENTS, 4, &v, "Program");
  p->segments = v.pos;
  p->n_segments = v.len;
  fb_vector(&r, &root, PROGRAM_DELEGATE_DATA, 4, &v,
            "Program");
  p->delegate_data = v.pos;
  p->n_delegate_data = v.len;
  fb_vector(&r, &root, PROGRAM_CONSTANT_BUFFER, 4, &v, "Program");
  p->inline_constants = v.pos;
  p->n_inline_constants = v.len;
  if (!fb_ok(&r)) return et_fb_error(&r, &p->diag);

  for (uint32_t i = 0; i < p->n_segments; i++) {
    const uint8_t *seg;
    uint64_t seg_size;
    if ((st = segment_span(p, &r, i, &seg, &seg_size, &p->diag))) return st;
  }
  if (fb_subtable(&r, &root, PROGRAM_CONSTANT_SEGMENT, &cseg,
                  "Program")) {
    if ((st = subsegment(p, &r, &cseg, "constant segment", &p->constant_segment,
                         &p->constant_segment_size, &p->constant_offsets,
                         &p->n_constant_offsets)))
      return st;
  }
  if (!fb_ok(&r)) return et_fb_error(&r, &p->diag);
  if (p->n_constant_offsets > 0 && p->n_inline_constants > 0)
    return invalid(&p->diag, "program has both a constant segment and inline "
                             "constant buffers");
  fb_vector(&r, &root, PROGRAM_MUTABLE_SEGMENTS, 4, &v,
            "Program");
  if (!fb_ok(&r)) return et_fb_error(&r, &p->diag);
  if (v.len > 0) {
    fb_table ms;
    fb_vec_table(&r, &v, 0, &ms, "SubsegmentOffsets");
    if (!fb_ok(&r)) return et_fb_error(&r, &p->diag);
    if ((st = subsegment(p, &r, &ms, "mutable data segment",
                         &p->mutable_segment, &p->mutable_segment_size,
                         &p->mutable_offsets, &p->n_mutable_offsets)))
      return st;
  }
  fb_vector(&r, &root, PROGRAM_NAMED_DATA, 4, &v, "Program");
  if (!fb_ok(&r)) return et_fb_error(&r, &p->diag);
  for (uint32_t i = 0; i < v.len; i++) {
    fb_table nd;
    fb_vec_table(&r, &v, i, &nd, "NamedData");
    const char *key = fb_string(&r, &nd, 0, NULL, "NamedData");
    uint32_t seg = fb_u32(&r, &nd, 1, 0, "NamedData");
    if (!fb_ok(&r)) return et_fb_error(&r, &p->diag);
    if (!key || seg >= p->n_segments)
      return invalid(&p->diag, "named data %u: missing key or segment index "
                               "%u out of range", i, seg);
  }

  for (uint32_t i = 0; i < p->n_plans; i++)
    if ((st = verify_plan(p, &r, i))) return st;
  et_diag_clear(&p->diag);
  return ET_OK;
}

const char *et_program_message(const et_program *p) { return p->diag.message; }

void et_program_set_release(et_program *p,
                            void (*fn)(void *user, const void *data,
                                       size_t size),
                            void *user) {
  p->release = fn;
  p->release_user = user;
}

void et_program_release(const et_program *p, const void *data, size_t size) {
  const uint8_t *b = (const uint8_t *)data;
  if (!p || !p->release || !b || !size || b < p->data ||
      (size_t)(b - p->data) > p->size || size > p->size - (size_t)(b - p->data))
    return;
  p->release(p->release_user, data, size);
}

size_t et_program_method_count(const et_program *p) { return p->n_plans; }

const char *et_program_method_name(const et_program *p, size_t i) {
  fb_reader r;
  et_plan plan;
  et_reader_init(p, &r);
  if (i >= p->n_plans || et_plan_open(p, &r, (uint32_t)i, &plan, NULL))
    return NULL;
  return plan.name;
}

size_t et_program_constant_bytes(const et_program *p) {
  if (p->constant_segment) return (size_t)p->constant_segment_size;
  size_t total = 0;
  fb_reader r;
  et_reader_init(p, &r);
  fb_vec ib = {p->inline_constants, p->n_inline_constants, true};
  for (uint32_t i = 0; i < p->n_inline_constants; i++) {
    fb_table buf;
    fb_vec storage;
    fb_vec_table(&r, &ib, i, &buf, "Buffer");
    fb_vector(&r, &buf, 0, 1, &storage, "Buffer");
    total += storage.len;
  }
  return total;
}
