/* A tiny FlatBuffer writer for C tests; see fbbuild.h. */
#include "fbbuild.h"

#include "internal.h"

#include <stdlib.h>
#include <string.h>

void tfb_init(tfb *b) {
  b->cap = 256;
  b->len = 0;
  b->buf = calloc(1, b->cap);
}

void tfb_free(tfb *b) {
  free(b->buf);
  memset(b, 0, sizeof *b);
}

size_t tfb_alloc(tfb *b, size_t n, size_t align) {
  size_t pos = (b->len + align - 1) / align * align;
  size_t end = pos + n;
  if (end > b->cap) {
    size_t cap = b->cap;
    while (cap < end) cap *= 2;
    b->buf = realloc(b->buf, cap);
    memset(b->buf + b->cap, 0, cap - b->cap);
    b->cap = cap;
  }
  b->len = end;
  return pos;
}

void tfb_w8(tfb *b, size_t at, uint8_t v) { b->buf[at] = v; }
void tfb_w16(tfb *b, size_t at, uint16_t v) {
  b->buf[at] = (uint8_t)v;
  b->buf[at + 1] = (uint8_t)(v >> 8);
}
void tfb_w32(tfb *b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; i++) b->buf[at + i] = (uint8_t)(v >> (8 * i));
}
void tfb_w64(tfb *b, size_t at, uint64_t v) {
  for (int i = 0; i < 8; i++) b->buf[at + i] = (uint8_t)(v >> (8 * i));
}
void tfb_link(tfb *b, size_t at, size_t target) {
  tfb_w32(b, at, (uint32_t)(target - at));
}

static void put(tfb *b, size_t at, unsigned size, uint64_t v) {
  switch (size) {
  case 1: tfb_w8(b, at, (uint8_t)v); break;
  case 2: tfb_w16(b, at, (uint16_t)v); break;
  case 4: tfb_w32(b, at, (uint32_t)v); break;
  default: tfb_w64(b, at, v); break;
  }
}

size_t tfb_table(tfb *b, size_t n, const tfb_field *f, size_t *slots) {
  unsigned max_id = 0;
  for (size_t i = 0; i < n; i++)
    if (f[i].id + 1 > max_id) max_id = f[i].id + 1;
  /* Field offsets inside the table, each aligned to its size. */
  size_t offs[32];
  size_t end = 4;
  for (size_t i = 0; i < n; i++) {
    end = (end + f[i].size - 1) / f[i].size * f[i].size;
    offs[i] = end;
    end += f[i].size;
  }
  size_t vt_size = 4 + 2 * (size_t)max_id;
  /* The vtable sits right before the table; the table starts 8-aligned. */
  size_t vt = tfb_alloc(b, vt_size, 2);
  while ((b->len % 8) != 0) tfb_alloc(b, 1, 1);
  size_t t = tfb_alloc(b, end, 8);
  tfb_w16(b, vt, (uint16_t)vt_size);
  tfb_w16(b, vt + 2, (uint16_t)end);
  for (size_t i = 0; i < n; i++) {
    tfb_w16(b, vt + 4 + 2 * f[i].id, (uint16_t)offs[i]);
    put(b, t + offs[i], f[i].size, f[i].value);
    if (slots) slots[i] = t + offs[i];
  }
  tfb_w32(b, t, (uint32_t)(t - vt));
  return t;
}

size_t tfb_vec(tfb *b, uint32_t n, unsigned elem, const void *data) {
  size_t align = elem > 4 ? elem : 4;
  while ((b->len + 4) % align) tfb_alloc(b, 1, 1);
  size_t pos = tfb_alloc(b, 4 + (size_t)n * elem, 4);
  tfb_w32(b, pos, n);
  if (data && n) memcpy(b->buf + pos + 4, data, (size_t)n * elem);
  return pos;
}

size_t tfb_vec_refs(tfb *b, uint32_t n) { return tfb_vec(b, n, 4, NULL); }

size_t tfb_str(tfb *b, const char *s) {
  size_t n = strlen(s);
  size_t pos = tfb_alloc(b, 4 + n + 1, 4);
  tfb_w32(b, pos, (uint32_t)n);
  memcpy(b->buf + pos + 4, s, n);
  return pos;
}

/* ---- programs -------------------------------------------------------------- */

tp_value tp_int(int64_t v) {
  tp_value x;
  memset(&x, 0, sizeof x);
  x.type = KT_INT;
  x.i = v;
  return x;
}

tp_value tp_double(double v) {
  tp_value x;
  memset(&x, 0, sizeof x);
  x.type = KT_DOUBLE;
  x.d = v;
  return x;
}

tp_value tp_bool(bool v) {
  tp_value x;
  memset(&x, 0, sizeof x);
  x.type = KT_BOOL;
  x.b = v;
  return x;
}

tp_value tp_null(void) {
  tp_value x;
  memset(&x, 0, sizeof x);
  x.type = KT_NULL;
  return x;
}

tp_value tp_tensor(int8_t dtype, uint32_t rank, const int32_t *sizes,
                   uint32_t mem_id, uint64_t offset) {
  tp_value x;
  memset(&x, 0, sizeof x);
  x.type = KT_TENSOR;
  x.dtype = dtype;
  x.rank = rank;
  for (uint32_t d = 0; d < rank && d < 24; d++) {
    x.sizes[d] = sizes[d];
    x.dim_order[d] = (uint8_t)d;
  }
  x.mem_id = mem_id;
  x.offset = offset;
  return x;
}

tp_value tp_int_list(uint32_t n, const int64_t *items) {
  tp_value x;
  memset(&x, 0, sizeof x);
  x.type = KT_INT_LIST;
  x.n = n;
  for (uint32_t i = 0; i < n && i < 8; i++) x.items[i] = items[i];
  return x;
}

void tp_add_program(tp_program *p) {
  memset(p, 0, sizeof *p);
  static const int32_t two[1] = {2};
  p->n_values = 4;
  p->values[0] = tp_tensor(6 /* Float */, 1, two, 1, 0);
  p->values[1] = tp_tensor(6, 1, two, 1, 16);
  p->values[2] = tp_int(1);
  p->values[3] = tp_tensor(6, 1, two, 1, 32);
  p->n_inputs = 2;
  p->inputs[0] = 0;
  p->inputs[1] = 1;
  p->n_outputs = 1;
  p->outputs[0] = 3;
  p->n_ops = 1;
  p->ops[0] = "aten::add.out";
  p->n_instrs = 1;
  p->instrs[0].type = IT_KERNEL;
  p->instrs[0].a = 0;
  p->instrs[0].n_args = 5;
  const int32_t args[5] = {0, 1, 2, 3, 3};
  memcpy(p->instrs[0].args, args, sizeof args);
  p->n_buffers = 2;
  p->buffer_sizes[0] = 0;
  p->buffer_sizes[1] = 48;
}

static size_t value_payload(tfb *b, const tp_value *v) {
  size_t slot[12], t;
  switch (v->type) {
  case KT_NULL:
    return tfb_table(b, 0, NULL, NULL);
  case KT_INT: {
    tfb_field f[] = {{0, 8, (uint64_t)v->i}};
    return tfb_table(b, 1, f, NULL);
  }
  case KT_BOOL: {
    tfb_field f[] = {{0, 1, v->b}};
    return tfb_table(b, 1, f, NULL);
  }
  case KT_DOUBLE: {
    uint64_t bits;
    memcpy(&bits, &v->d, sizeof bits);
    tfb_field f[] = {{0, 8, bits}};
    return tfb_table(b, 1, f, NULL);
  }
  case KT_STRING: {
    tfb_field f[] = {{0, 4, 0}};
    t = tfb_table(b, 1, f, slot);
    tfb_link(b, slot[0], tfb_str(b, v->str ? v->str : ""));
    return t;
  }
  case KT_INT_LIST:
  case KT_DOUBLE_LIST: {
    tfb_field f[] = {{0, 4, 0}};
    t = tfb_table(b, 1, f, slot);
    tfb_link(b, slot[0], tfb_vec(b, v->n, 8, v->items));
    return t;
  }
  case KT_BOOL_LIST: {
    uint8_t items[8];
    for (uint32_t i = 0; i < v->n && i < 8; i++) items[i] = v->items[i] != 0;
    tfb_field f[] = {{0, 4, 0}};
    t = tfb_table(b, 1, f, slot);
    tfb_link(b, slot[0], tfb_vec(b, v->n, 1, items));
    return t;
  }
  case KT_TENSOR_LIST:
  case KT_OPT_TENSOR_LIST: {
    int32_t items[8];
    for (uint32_t i = 0; i < v->n && i < 8; i++) items[i] = (int32_t)v->items[i];
    tfb_field f[] = {{0, 4, 0}};
    t = tfb_table(b, 1, f, slot);
    tfb_link(b, slot[0], tfb_vec(b, v->n, 4, items));
    return t;
  }
  case KT_TENSOR: {
    tfb_field f[8];
    size_t n = 0;
    f[n++] = (tfb_field){TENSOR_SCALAR_TYPE, 1, (uint8_t)v->dtype};
    f[n++] = (tfb_field){TENSOR_SIZES, 4, 0};
    f[n++] = (tfb_field){TENSOR_DIM_ORDER, 4, 0};
    f[n++] = (tfb_field){TENSOR_DATA_BUFFER_IDX, 4, v->dbi};
    f[n++] = (tfb_field){TENSOR_DYNAMISM, 1, (uint8_t)v->dynamism};
    if (v->mem_id) f[n++] = (tfb_field){TENSOR_ALLOCATION, 4, 0};
    t = tfb_table(b, n, f, slot);
    tfb_link(b, slot[1], tfb_vec(b, v->rank, 4, v->sizes));
    tfb_link(b, slot[2], tfb_vec(b, v->rank, 1, v->dim_order));
    if (v->mem_id) {
      tfb_field a[] = {{ALLOC_MEMORY_ID, 4, v->mem_id},
                       {ALLOC_OFFSET_LOW, 4, (uint32_t)v->offset},
                       {ALLOC_OFFSET_HIGH, 4, (uint32_t)(v->offset >> 32)}};
      tfb_link(b, slot[5], tfb_table(b, 3, a, NULL));
    }
    return t;
  }
  default:
    return tfb_table(b, 0, NULL, NULL);
  }
}

static size_t instr_args(tfb *b, const tp_instr *in) {
  size_t slot[2];
  switch (in->type) {
  case IT_KERNEL:
  case IT_DELEGATE: {
    tfb_field f[] = {{0, 4, (uint32_t)in->a}, {1, 4, 0}};
    size_t t = tfb_table(b, 2, f, slot);
    tfb_link(b, slot[1], tfb_vec(b, in->n_args, 4, in->args));
    return t;
  }
  case IT_FREE: {
    tfb_field f[] = {{0, 4, (uint32_t)in->a}};
    return tfb_table(b, 1, f, NULL);
  }
  default: {
    tfb_field f[] = {{0, 4, (uint32_t)in->a}, {1, 4, (uint32_t)in->b}};
    return tfb_table(b, 2, f, NULL);
  }
  }
}

/* Refs vector of n at `slot`; returns its first element's position. */
static size_t refs(tfb *b, size_t slot, uint32_t n) {
  size_t v = tfb_vec_refs(b, n);
  tfb_link(b, slot, v);
  return v + 4;
}

uint8_t *tp_build(const tp_program *p, size_t *out_size, tp_layout *out) {
  tp_layout lay;
  memset(&lay, 0, sizeof lay);
  tfb b;
  tfb_init(&b);
  /* Root offset, file identifier and the 32-byte extended header. */
  tfb_alloc(&b, 40, 16);
  memcpy(b.buf + 4, "ET12", 4);
  memcpy(b.buf + 8, "eh00", 4);
  tfb_w32(&b, 12, 32);

  tfb_field pf[8];
  size_t n = 0, ps[8];
  pf[n++] = (tfb_field){PROGRAM_EXECUTION_PLAN, 4, 0};
  pf[n++] = (tfb_field){PROGRAM_CONSTANT_BUFFER, 4, 0};
  pf[n++] = (tfb_field){PROGRAM_DELEGATE_DATA, 4, 0};
  pf[n++] = (tfb_field){PROGRAM_SEGMENTS, 4, 0};
  pf[n++] = (tfb_field){PROGRAM_NAMED_DATA, 4, 0};
  if (p->subseg[0].present) pf[n++] = (tfb_field){PROGRAM_CONSTANT_SEGMENT, 4, 0};
  size_t mut_field = n;
  if (p->subseg[1].present) pf[n++] = (tfb_field){PROGRAM_MUTABLE_SEGMENTS, 4, 0};
  lay.root = tfb_table(&b, n, pf, ps);
  tfb_w32(&b, 0, (uint32_t)lay.root);

  /* The plan. */
  size_t plans = refs(&b, ps[0], 1);
  tfb_field plf[] = {{PLAN_NAME, 4, 0},    {PLAN_VALUES, 4, 0},
                     {PLAN_INPUTS, 4, 0},  {PLAN_OUTPUTS, 4, 0},
                     {PLAN_CHAINS, 4, 0},  {PLAN_OPERATORS, 4, 0},
                     {PLAN_DELEGATES, 4, 0}, {PLAN_BUFFER_SIZES, 4, 0}};
  size_t pls[8];
  lay.plan = tfb_table(&b, 8, plf, pls);
  tfb_link(&b, plans, lay.plan);
  tfb_link(&b, pls[0], tfb_str(&b, p->name ? p->name : "forward"));

  size_t vals = refs(&b, pls[1], p->n_values);
  lay.plan_values_vec = vals - 4;
  for (uint32_t i = 0; i < p->n_values; i++) {
    size_t es[2];
    tfb_field ef[] = {{EVALUE_TYPE, 1, p->values[i].type}, {EVALUE_VAL, 4, 0}};
    lay.evalue[i] = tfb_table(&b, 2, ef, es);
    tfb_link(&b, vals + 4 * i, lay.evalue[i]);
    lay.val[i] = value_payload(&b, &p->values[i]);
    tfb_link(&b, es[1], lay.val[i]);
  }
  tfb_link(&b, pls[2], tfb_vec(&b, p->n_inputs, 4, p->inputs));
  tfb_link(&b, pls[3], tfb_vec(&b, p->n_outputs, 4, p->outputs));

  size_t chains = refs(&b, pls[4], 1);
  tfb_field cf[] = {{0, 4, 0}, {1, 4, 0}, {CHAIN_INSTRUCTIONS, 4, 0}};
  size_t cs[3];
  size_t chain = tfb_table(&b, 3, cf, cs);
  tfb_link(&b, chains, chain);
  tfb_link(&b, cs[0], tfb_vec(&b, 0, 4, NULL));
  tfb_link(&b, cs[1], tfb_vec(&b, 0, 4, NULL));
  size_t instrs = refs(&b, cs[2], p->n_instrs);
  for (uint32_t i = 0; i < p->n_instrs; i++) {
    size_t is[2];
    tfb_field inf[] = {{INSTR_TYPE, 1, p->instrs[i].type}, {INSTR_ARGS, 4, 0}};
    lay.instr[i] = tfb_table(&b, 2, inf, is);
    tfb_link(&b, instrs + 4 * i, lay.instr[i]);
    lay.args[i] = instr_args(&b, &p->instrs[i]);
    tfb_link(&b, is[1], lay.args[i]);
  }

  size_t ops = refs(&b, pls[5], p->n_ops);
  for (uint32_t i = 0; i < p->n_ops; i++) {
    char name[256];
    const char *full = p->ops[i];
    const char *colon = strstr(full, "::");
    const char *dot = strchr(colon ? colon : full, '.');
    size_t nlen = dot ? (size_t)(dot - full) : strlen(full);
    memcpy(name, full, nlen);
    name[nlen] = '\0';
    size_t os[2];
    tfb_field of[] = {{OPERATOR_NAME, 4, 0}, {OPERATOR_OVERLOAD, 4, 0}};
    size_t t = tfb_table(&b, 2, of, os);
    tfb_link(&b, ops + 4 * i, t);
    tfb_link(&b, os[0], tfb_str(&b, name));
    tfb_link(&b, os[1], tfb_str(&b, dot ? dot + 1 : ""));
  }

  size_t dels = refs(&b, pls[6], p->n_delegates);
  for (uint32_t i = 0; i < p->n_delegates; i++) {
    size_t ds[3];
    tfb_field df[] = {{DELEGATE_ID, 4, 0}, {DELEGATE_PROCESSED, 4, 0},
                      {DELEGATE_SPECS, 4, 0}};
    lay.delegate[i] = tfb_table(&b, 3, df, ds);
    tfb_link(&b, dels + 4 * i, lay.delegate[i]);
    tfb_link(&b, ds[0], tfb_str(&b, p->delegates[i].id));
    tfb_field rf[] = {{DATAREF_LOCATION, 1, (uint8_t)p->delegates[i].location},
                      {DATAREF_INDEX, 4, p->delegates[i].index}};
    tfb_link(&b, ds[1], tfb_table(&b, 2, rf, NULL));
    tfb_link(&b, ds[2], tfb_vec(&b, 0, 4, NULL));
  }
  lay.buffer_sizes_vec = tfb_vec(&b, p->n_buffers, 8, p->buffer_sizes);
  tfb_link(&b, pls[7], lay.buffer_sizes_vec);

  /* Program-level vectors. */
  size_t cb = refs(&b, ps[1], p->n_constants);
  for (uint32_t i = 0; i < p->n_constants; i++) {
    size_t s[1];
    tfb_field f[] = {{0, 4, 0}};
    size_t t = tfb_table(&b, 1, f, s);
    tfb_link(&b, cb + 4 * i, t);
    /* Storage 16-byte aligned, as upstream's force_align. */
    while ((b.len + 4) % 16) tfb_alloc(&b, 1, 1);
    tfb_link(&b, s[0], tfb_vec(&b, i ? 16 : 0, 1, NULL));
  }
  size_t dd = refs(&b, ps[2], p->n_delegate_data);
  for (uint32_t i = 0; i < p->n_delegate_data; i++) {
    size_t s[1];
    tfb_field f[] = {{0, 4, 0}};
    size_t t = tfb_table(&b, 1, f, s);
    tfb_link(&b, dd + 4 * i, t);
    tfb_link(&b, s[0], tfb_vec(&b, 4, 1, "abcd"));
  }
  size_t segs = refs(&b, ps[3], p->n_segments);
  for (uint32_t i = 0; i < p->n_segments; i++) {
    tfb_field f[] = {{SEGMENT_OFFSET, 8, p->segments[i].offset},
                     {SEGMENT_SIZE, 8, p->segments[i].size}};
    lay.segment[i] = tfb_table(&b, 2, f, NULL);
    tfb_link(&b, segs + 4 * i, lay.segment[i]);
  }
  size_t named = refs(&b, ps[4], p->n_named);
  for (uint32_t i = 0; i < p->n_named; i++) {
    size_t s[2];
    tfb_field f[] = {{0, 4, 0}, {1, 4, p->named[i].segment}};
    lay.named[i] = tfb_table(&b, 2, f, s);
    tfb_link(&b, named + 4 * i, lay.named[i]);
    tfb_link(&b, s[0], tfb_str(&b, p->named[i].key));
  }

  for (int k = 0; k < 2; k++) {
    if (!p->subseg[k].present) continue;
    size_t at = k == 0 ? ps[5] : ps[mut_field];
    if (k == 1) at = refs(&b, at, 1);
    size_t s[2];
    tfb_field f[] = {{SUBSEG_INDEX, 4, p->subseg[k].segment},
                     {SUBSEG_OFFSETS, 4, 0}};
    tfb_link(&b, at, tfb_table(&b, 2, f, s));
    tfb_link(&b, s[1], tfb_vec(&b, p->subseg[k].n_offsets, 8,
                               p->subseg[k].offsets));
  }

  lay.program_size = b.len;
  tfb_w64(&b, 16, b.len);
  if (p->segment_bytes) {
    size_t base = tfb_alloc(&b, (size_t)p->segment_bytes, 16);
    tfb_w64(&b, 24, base);
    tfb_w64(&b, 32, p->segment_bytes);
  }
  tfb_alloc(&b, 0, 16);

  uint8_t *out_buf = aligned_alloc(16, b.len ? b.len : 16);
  memcpy(out_buf, b.buf, b.len);
  *out_size = b.len;
  if (out) *out = lay;
  tfb_free(&b);
  return out_buf;
}

uint32_t tfb_rd32(const uint8_t *b, size_t at) {
  return (uint32_t)b[at] | (uint32_t)b[at + 1] << 8 |
         (uint32_t)b[at + 2] << 16 | (uint32_t)b[at + 3] << 24;
}
void tfb_wr16(uint8_t *b, size_t at, uint16_t v) {
  b[at] = (uint8_t)v;
  b[at + 1] = (uint8_t)(v >> 8);
}
void tfb_wr32(uint8_t *b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; i++) b[at + i] = (uint8_t)(v >> (8 * i));
}
void tfb_wr64(uint8_t *b, size_t at, uint64_t v) {
  for (int i = 0; i < 8; i++) b[at + i] = (uint8_t)(v >> (8 * i));
}
size_t tfb_vtable(const uint8_t *b, size_t t) {
  return t - (size_t)(int32_t)tfb_rd32(b, t);
}
size_t tfb_slot(const uint8_t *b, size_t t, unsigned id) {
  size_t vt = tfb_vtable(b, t);
  return t + (size_t)(b[vt + 4 + 2 * id] | b[vt + 5 + 2 * id] << 8);
}
size_t tfb_target(const uint8_t *b, size_t t, unsigned id) {
  size_t s = tfb_slot(b, t, id);
  return s + tfb_rd32(b, s);
}
