/* ETDump recorder and writer; see etdump.h. */
#include "etdump.h"

#include "fb_builder.h"

#include <edgetorch/pal.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* devtools/etdump/etdump_schema_flatcc.fbs field ids (declaration order). */
enum { ETDUMP_VERSION_F = 0, ETDUMP_RUN_DATA = 1 };
enum { RUN_NAME = 0, RUN_BUNDLED_INPUT = 1, RUN_ALLOCATORS = 2, RUN_EVENTS = 3 };
enum { EVENT_PROFILE = 0, EVENT_ALLOCATION = 1, EVENT_DEBUG = 2 };
enum {
  PE_NAME = 0, PE_CHAIN = 1, PE_INSTR = 2, PE_DID_INT = 3, PE_DID_STR = 4,
  PE_METADATA = 5, PE_START = 6, PE_END = 7
};
enum {
  DE_CHAIN = 0, DE_INSTR = 1, DE_ENTRY = 2, DE_DID_INT = 3, DE_DID_STR = 4,
  DE_NAME = 5
};
enum {
  VAL_TYPE = 0, VAL_TENSOR = 1, VAL_TENSOR_LIST = 2, VAL_INT = 3,
  VAL_FLOAT = 4, VAL_DOUBLE = 5, VAL_BOOL = 6, VAL_OUTPUT = 7
};
enum { VT_NULL = 0, VT_INT = 1, VT_BOOL = 2, VT_FLOAT = 3, VT_DOUBLE = 4, VT_TENSOR = 5 };
enum { TS_SCALAR_TYPE = 0, TS_SIZES = 1, TS_STRIDES = 2, TS_OFFSET = 3 };

enum { R_PROFILE = 0, R_DEBUG = 1 };

typedef struct rec {
  uint8_t type;
  uint8_t vtype;   /* debug: VT_* */
  int8_t dtype;    /* debug tensors */
  uint8_t rank;
  bool output;     /* debug: a program output */
  uint32_t block;
  const char *name;  /* interned or static */
  const char *dstr;  /* delegate_debug_id_str, interned, or NULL */
  const char *node;  /* backend event: the name the backend gave, or NULL */
  uint32_t nth;      /* backend event: 1 + earlier events of that name in
                        the same delegate call */
  int32_t chain, instr, did;
  uint64_t start, end;
  int64_t offset;    /* debug tensor: offset in the debug buffer */
  int64_t ival;
  double dval;
  int64_t sizes[ET_MAX_RANK], strides[ET_MAX_RANK];
} rec;

typedef struct open_backend {
  const char *name;
  int32_t did;
  uint64_t start;
} open_backend;

struct et_etdump {
  et_tracer tracer; /* first: the callbacks recover the recorder from it */
  uint64_t (*now)(void *);
  void *now_user;
  bool capture;
  rec *recs;
  size_t n_recs, cap_recs;
  char **blocks;
  size_t n_blocks;
  char **strings; /* interned */
  size_t n_strings;
  uint8_t *debug;
  size_t debug_size, debug_cap;
  /* The instruction being run. */
  uint64_t instr_start;
  int32_t chain, instr;
  open_backend stack[16];
  int depth;
  /* Backend event names seen in the current instruction, and how often. */
  struct {
    const char *name;
    uint32_t count;
  } seen[64];
  int n_seen;
  bool oom;
};

static uint64_t pal_now(void *user) {
  (void)user;
  return et_pal_time_ns();
}

static rec *new_rec(et_etdump *d, uint8_t type) {
  if (d->n_recs == d->cap_recs) {
    size_t cap = d->cap_recs ? 2 * d->cap_recs : 256;
    rec *r = (rec *)realloc(d->recs, cap * sizeof *r);
    if (!r) {
      d->oom = true;
      return NULL;
    }
    d->recs = r;
    d->cap_recs = cap;
  }
  rec *r = &d->recs[d->n_recs++];
  memset(r, 0, sizeof *r);
  r->type = type;
  r->block = d->n_blocks ? (uint32_t)d->n_blocks - 1 : 0;
  r->chain = d->chain;
  r->instr = d->instr;
  r->did = -1;
  return r;
}

/* Strings live as long as the recorder; equal strings are stored once. */
static const char *intern(et_etdump *d, const char *s, size_t len) {
  for (size_t i = 0; i < d->n_strings; i++)
    if (strlen(d->strings[i]) == len && memcmp(d->strings[i], s, len) == 0)
      return d->strings[i];
  char **ns = (char **)realloc(d->strings, (d->n_strings + 1) * sizeof *ns);
  char *c = (char *)malloc(len + 1);
  if (ns) d->strings = ns;
  if (!ns || !c) {
    free(c);
    d->oom = true;
    return "";
  }
  memcpy(c, s, len);
  c[len] = 0;
  d->strings[d->n_strings++] = c;
  return c;
}

static void new_block(et_etdump *d, const char *name) {
  char **nb = (char **)realloc(d->blocks, (d->n_blocks + 1) * sizeof *nb);
  if (!nb) {
    d->oom = true;
    return;
  }
  d->blocks = nb;
  d->blocks[d->n_blocks++] = (char *)intern(d, name, strlen(name));
}

static void profile(et_etdump *d, const char *name, uint64_t start,
                    uint64_t end) {
  rec *r = new_rec(d, R_PROFILE);
  if (!r) return;
  r->name = name;
  r->start = start;
  r->end = end;
}

/* Upstream's ETDump supports these dtypes (the Inspector reads them). */
static bool loggable_dtype(int dtype) {
  switch (dtype) {
  case ET_BYTE: case ET_CHAR: case ET_SHORT: case ET_INT: case ET_LONG:
  case ET_BITS16: case ET_UINT16:
  case ET_HALF: case ET_FLOAT: case ET_DOUBLE: case ET_BOOL:
    return true;
  default: return false;
  }
}

static int64_t debug_write(et_etdump *d, const void *data, size_t n) {
  if (n == 0) return -1;
  size_t at = (d->debug_size + 63) & ~(size_t)63; /* 64-byte aligned entries */
  if (at + n > d->debug_cap) {
    size_t cap = d->debug_cap ? d->debug_cap : 4096;
    while (cap < at + n) cap *= 2;
    uint8_t *nb = (uint8_t *)realloc(d->debug, cap);
    if (!nb) {
      d->oom = true;
      return -1;
    }
    d->debug = nb;
    d->debug_cap = cap;
  }
  memset(d->debug + d->debug_size, 0, at - d->debug_size);
  memcpy(d->debug + at, data, n);
  d->debug_size = at + n;
  return (int64_t)at;
}

/* dstr: a backend node known by name alone (did -1), else NULL. */
static void log_value(et_etdump *d, const et_value *v, bool output,
                      int32_t did, const char *dstr) {
  rec r0;
  memset(&r0, 0, sizeof r0);
  switch (v->tag) {
  case ET_TAG_TENSOR: {
    const et_tensor *t = v->u.t;
    if (!loggable_dtype(t->dtype) || t->rank > ET_MAX_RANK) return;
    size_t nbytes = et_tensor_nbytes(t);
    if (nbytes && !t->data) return;
    r0.vtype = VT_TENSOR;
    r0.dtype = t->dtype;
    r0.rank = (uint8_t)t->rank;
    for (uint32_t k = 0; k < t->rank; k++) {
      r0.sizes[k] = t->sizes[k];
      r0.strides[k] = t->strides ? t->strides[k] : 0;
    }
    r0.offset = debug_write(d, t->data, nbytes);
    break;
  }
  case ET_TAG_LIST_TENSOR:
    /* One debug event per tensor (the Inspector lists them in order). */
    for (size_t k = 0; k < v->u.tlist.len; k++)
      if (v->u.tlist.items[k])
        log_value(d, v->u.tlist.items[k], output, did, dstr);
    return;
  case ET_TAG_INT: r0.vtype = VT_INT; r0.ival = v->u.i; break;
  case ET_TAG_DOUBLE: r0.vtype = VT_DOUBLE; r0.dval = v->u.d; break;
  case ET_TAG_BOOL: r0.vtype = VT_BOOL; r0.ival = v->u.b; break;
  default: return;
  }
  rec *r = new_rec(d, R_DEBUG);
  if (!r) return;
  uint32_t block = r->block;
  int32_t chain = r->chain, instr = r->instr;
  *r = r0;
  r->type = R_DEBUG;
  r->block = block;
  r->chain = output ? 0 : chain;
  r->instr = output ? -1 : instr;
  r->did = output ? -1 : did;
  r->dstr = output ? NULL : dstr;
  r->output = output;
}

/* "aten::add.out" -> "native_call_add.out", as upstream's codegen names it. */
static const char *native_call_name(et_etdump *d, const char *op) {
  const char *s = strstr(op, "::");
  s = s ? s + 2 : op;
  char buf[192];
  int n = snprintf(buf, sizeof buf, "native_call_%s", s);
  if (n < 0) return "native_call";
  return intern(d, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static void on_event(et_tracer *self, const struct et_method *m, int phase,
                     uint32_t chain, uint32_t instr, et_status status) {
  et_etdump *d = (et_etdump *)self;
  (void)status;
  if (phase == ET_TRACE_INSTR_BEGIN) {
    d->chain = (int32_t)chain;
    d->instr = (int32_t)instr;
    d->depth = 0;
    d->n_seen = 0;
    d->instr_start = d->now(d->now_user);
    return;
  }
  if (phase != ET_TRACE_INSTR_END) return;
  uint64_t end = d->now(d->now_user);
  et_trace_event e;
  if (et_method_trace_info(m, chain, instr, &e) == ET_OK) {
    if (e.kind == ET_TRACE_KERNEL) {
      profile(d, "OPERATOR_CALL", d->instr_start, end);
      profile(d, native_call_name(d, e.name), d->instr_start, end);
      if (d->capture && e.n_args) {
        /* Outputs: the written tensors before the return slot (which
         * repeats the out argument), else the return slot. */
        bool any = false;
        for (uint32_t a = 0; a + 1 < e.n_args && e.sig && e.sig[a]; a++)
          if (e.sig[a] == 'W' || e.sig[a] == 'P') {
            log_value(d, e.args[a], false, -1, NULL);
            any = true;
          }
        /* Else (out lists, functional returns): the last tensor or tensor
         * list argument. */
        for (uint32_t a = e.n_args; !any && a-- > 0;)
          if (e.args[a]->tag == ET_TAG_TENSOR ||
              e.args[a]->tag == ET_TAG_LIST_TENSOR) {
            log_value(d, e.args[a], false, -1, NULL);
            any = true;
          }
      }
    } else if (e.kind == ET_TRACE_DELEGATE) {
      profile(d, "DELEGATE_CALL", d->instr_start, end);
      if (d->capture)
        for (uint32_t a = 0; a < e.n_args; a++) log_value(d, e.args[a], false, -1, NULL);
    }
  }
  d->chain = -1;
  d->instr = -1;
}

/* A backend's own event (a delegate node). Its name is kept even when it
 * has an id: the ETDump carries the id (delegate_debug_id_int, what an
 * ETRecord's delegate map resolves) and, as the event name, "<name> #<k>"
 * (upstream's XNNPACK profiler's form) so that nodes sharing a debug handle
 * stay distinct events; the name is also the delegate_debug_metadata. */
static void on_backend_event(et_tracer *self, int phase, const char *name,
                             int32_t did) {
  et_etdump *d = (et_etdump *)self;
  if (phase == ET_TRACE_BACKEND_BEGIN) {
    if (d->depth < 16) {
      open_backend *o = &d->stack[d->depth];
      o->name = name ? intern(d, name, strlen(name)) : NULL;
      o->did = did;
      o->start = d->now(d->now_user); /* last: interning is not the node's */
    }
    d->depth++;
    return;
  }
  uint64_t now = d->now(d->now_user);
  if (phase != ET_TRACE_BACKEND_END || d->depth == 0) return;
  d->depth--;
  if (d->depth >= 16) return;
  open_backend *o = &d->stack[d->depth];
  rec *r = new_rec(d, R_PROFILE);
  if (!r) return;
  r->start = o->start;
  r->end = now;
  r->node = o->name;
  if (o->name) {
    int k = 0;
    while (k < d->n_seen && d->seen[k].name != o->name) k++;
    if (k == d->n_seen && k < 64) {
      d->seen[k].name = o->name;
      d->seen[k].count = 0;
      d->n_seen++;
    }
    r->nth = k < 64 ? ++d->seen[k].count : 0;
  }
  if (o->did >= 0)
    r->did = o->did;
  else
    r->dstr = o->name ? o->name : "";
}

/* A backend node's output (capture on): a debug event with the node's
 * delegate_debug_id_int in the instruction being run, as upstream's
 * log_intermediate_output_delegate writes it; the Inspector files it with
 * the node's profile event (same instruction, chain and id). A node known
 * by name alone gets its name as delegate_debug_id_str, as its profile
 * event does (the Inspector collates events by instruction and both ids). */
static void on_backend_output(et_tracer *self, const char *name, int32_t did,
                              const et_tensor *t) {
  et_etdump *d = (et_etdump *)self;
  if (!d->capture || !t || (did < 0 && !name)) return;
  et_value v;
  memset(&v, 0, sizeof v);
  v.tag = ET_TAG_TENSOR;
  v.u.t = (et_tensor *)t;
  log_value(d, &v, false, did,
            did < 0 ? intern(d, name, strlen(name)) : NULL);
}

et_etdump *et_etdump_create(void) {
  et_etdump *d = (et_etdump *)calloc(1, sizeof *d);
  if (!d) return NULL;
  d->tracer.event = on_event;
  d->tracer.backend_event = on_backend_event;
  d->tracer.backend_output = on_backend_output;
  d->now = pal_now;
  d->chain = d->instr = -1;
  return d;
}

void et_etdump_reset(et_etdump *d) {
  d->n_recs = 0;
  d->n_blocks = 0;
  d->debug_size = 0;
  d->depth = 0;
}

void et_etdump_free(et_etdump *d) {
  if (!d) return;
  for (size_t i = 0; i < d->n_strings; i++) free(d->strings[i]);
  free(d->strings);
  free(d->blocks);
  free(d->recs);
  free(d->debug);
  free(d);
}

void et_etdump_set_clock(et_etdump *d, uint64_t (*now)(void *), void *user) {
  d->now = now ? now : pal_now;
  d->now_user = now ? user : NULL;
}

void et_etdump_set_capture(et_etdump *d, bool on) { d->capture = on; }

et_tracer *et_etdump_tracer(et_etdump *d) { return &d->tracer; }

et_status et_etdump_method_init(et_etdump *d, const et_program *p,
                                const char *name, const et_registry *registry,
                                const et_method_memory *memory,
                                et_method **out, et_diag *diag) {
  new_block(d, "Default");
  uint64_t t0 = d->now(d->now_user);
  et_status st = et_method_init(p, name, registry, memory, out, diag);
  uint64_t t1 = d->now(d->now_user);
  profile(d, "Method::init", t0, t1);
  profile(d, "Program::load_method", t0, t1);
  if (st == ET_OK) et_method_set_tracer(*out, &d->tracer);
  return st;
}

void et_etdump_begin_block(et_etdump *d, const char *name) {
  new_block(d, name);
}

void et_etdump_record(et_etdump *d, const char *name, uint64_t start,
                      uint64_t end) {
  profile(d, intern(d, name, strlen(name)), start, end);
}

uint64_t et_etdump_now(et_etdump *d) { return d->now(d->now_user); }

et_status et_etdump_execute(et_etdump *d, et_method *m) {
  new_block(d, "Execute");
  et_method_set_tracer(m, &d->tracer);
  uint64_t t0 = d->now(d->now_user);
  et_status st = et_method_execute(m);
  uint64_t t1 = d->now(d->now_user);
  et_method_set_tracer(m, NULL); /* the method may outlive the recorder */
  profile(d, "Method::execute", t0, t1);
  if (st == ET_OK && d->capture)
    for (size_t i = 0; i < et_method_output_count(m); i++)
      log_value(d, et_method_output(m, i), true, -1, NULL);
  return st;
}

/* ---- serialization ------------------------------------------------------- */

static fbb_ref str_ref(fbb *b, const char *s) {
  return s ? fbb_string(b, s, strlen(s)) : 0;
}

static fbb_ref debug_value(fbb *b, const rec *r) {
  fbb_ref tensor = 0, scalar = 0, out = 0;
  if (r->vtype == VT_TENSOR) {
    fbb_ref sizes = fbb_vector(b, r->sizes, r->rank, 8, 8);
    fbb_ref strides = fbb_vector(b, r->strides, r->rank, 8, 8);
    fbb_table_start(b);
    fbb_add_u64(b, TS_OFFSET, (uint64_t)r->offset);
    fbb_add_ref(b, TS_SIZES, sizes);
    fbb_add_ref(b, TS_STRIDES, strides);
    fbb_add_u8(b, TS_SCALAR_TYPE, (uint8_t)r->dtype);
    tensor = fbb_table_end(b);
  } else {
    fbb_table_start(b);
    if (r->vtype == VT_DOUBLE)
      fbb_add_f64(b, 0, r->dval);
    else if (r->vtype == VT_INT)
      fbb_add_u64(b, 0, (uint64_t)r->ival);
    else
      fbb_add_u8(b, 0, (uint8_t)(r->ival != 0));
    scalar = fbb_table_end(b);
  }
  if (r->output) {
    fbb_table_start(b);
    fbb_add_u8(b, 0, 1);
    out = fbb_table_end(b);
  }
  fbb_table_start(b);
  if (tensor) fbb_add_ref(b, VAL_TENSOR, tensor);
  if (r->vtype == VT_INT) fbb_add_ref(b, VAL_INT, scalar);
  if (r->vtype == VT_DOUBLE) fbb_add_ref(b, VAL_DOUBLE, scalar);
  if (r->vtype == VT_BOOL) fbb_add_ref(b, VAL_BOOL, scalar);
  if (out) fbb_add_ref(b, VAL_OUTPUT, out);
  fbb_add_u8(b, VAL_TYPE, r->vtype);
  return fbb_table_end(b);
}

static fbb_ref event_ref(fbb *b, const rec *r) {
  fbb_ref inner;
  if (r->type == R_PROFILE) {
    const char *nm = r->dstr ? NULL : r->name;
    char buf[96];
    fbb_ref meta = 0;
    if (r->did >= 0 && r->node) {
      int n = snprintf(buf, sizeof buf, "%s #%u", r->node, (unsigned)r->nth);
      nm = n > 0 ? buf : r->node;
      meta = fbb_vector(b, r->node, strlen(r->node), 1, 1);
    }
    fbb_ref name = str_ref(b, nm);
    fbb_ref dstr = str_ref(b, r->dstr);
    fbb_table_start(b);
    fbb_add_u64(b, PE_START, r->start);
    fbb_add_u64(b, PE_END, r->end);
    fbb_add_ref(b, PE_NAME, name);
    fbb_add_u32(b, PE_CHAIN, (uint32_t)r->chain);
    fbb_add_u32(b, PE_INSTR, (uint32_t)r->instr);
    if (r->did >= 0) fbb_add_u32(b, PE_DID_INT, (uint32_t)r->did);
    fbb_add_ref(b, PE_DID_STR, dstr);
    if (meta) fbb_add_ref(b, PE_METADATA, meta);
    inner = fbb_table_end(b);
  } else {
    fbb_ref value = debug_value(b, r);
    fbb_ref dstr = str_ref(b, r->dstr);
    fbb_table_start(b);
    fbb_add_u64(b, DE_CHAIN, (uint64_t)(r->chain < 0 ? 0 : r->chain));
    fbb_add_ref(b, DE_ENTRY, value);
    fbb_add_u32(b, DE_INSTR, (uint32_t)r->instr);
    if (r->did >= 0) fbb_add_u32(b, DE_DID_INT, (uint32_t)r->did);
    fbb_add_ref(b, DE_DID_STR, dstr);
    inner = fbb_table_end(b);
  }
  fbb_table_start(b);
  fbb_add_ref(b, r->type == R_PROFILE ? EVENT_PROFILE : EVENT_DEBUG, inner);
  return fbb_table_end(b);
}

et_status et_etdump_serialize(const et_etdump *d, uint8_t **out,
                              size_t *out_size) {
  *out = NULL;
  *out_size = 0;
  if (d->oom) return ET_MEMORY_ALLOCATION_FAILED;
  fbb b;
  fbb_init(&b);
  size_t nb = d->n_blocks;
  fbb_ref *runs = (fbb_ref *)calloc(nb ? nb : 1, sizeof *runs);
  fbb_ref *evs = (fbb_ref *)calloc(d->n_recs ? d->n_recs : 1, sizeof *evs);
  if (!runs || !evs) {
    free(runs);
    free(evs);
    return ET_MEMORY_ALLOCATION_FAILED;
  }
  size_t i = 0;
  for (size_t k = 0; k < nb; k++) {
    size_t n = 0;
    while (i < d->n_recs && d->recs[i].block == k) evs[n++] = event_ref(&b, &d->recs[i++]);
    fbb_ref events = fbb_vector_refs(&b, evs, n);
    fbb_ref name = str_ref(&b, d->blocks[k]);
    fbb_table_start(&b);
    fbb_add_ref(&b, RUN_NAME, name);
    fbb_add_ref(&b, RUN_EVENTS, events);
    runs[k] = fbb_table_end(&b);
  }
  fbb_ref run_data = fbb_vector_refs(&b, runs, nb);
  fbb_table_start(&b);
  fbb_add_u32(&b, ETDUMP_VERSION_F, 0);
  fbb_add_ref(&b, ETDUMP_RUN_DATA, run_data);
  fbb_ref root = fbb_table_end(&b);
  size_t size;
  const uint8_t *bytes = fbb_finish(&b, root, "ED00", true, &size);
  free(runs);
  free(evs);
  et_status st = ET_MEMORY_ALLOCATION_FAILED;
  if (bytes && (*out = (uint8_t *)malloc(size))) {
    memcpy(*out, bytes, size);
    *out_size = size;
    st = ET_OK;
  }
  fbb_free(&b);
  return st;
}

const uint8_t *et_etdump_debug_buffer(const et_etdump *d, size_t *out_size) {
  *out_size = d->debug_size;
  return d->debug;
}

static et_status write_file(const char *path, const void *data, size_t n,
                            et_diag *diag) {
  FILE *f = fopen(path, "wb");
  if (!f)
    return et_diag_set(diag, ET_ACCESS_FAILED, "cannot open '%s' for writing",
                       path);
  size_t w = n ? fwrite(data, 1, n, f) : 0;
  int bad = fclose(f) != 0 || w != n;
  return bad ? et_diag_set(diag, ET_ACCESS_FAILED, "could not write '%s'", path)
             : ET_OK;
}

et_status et_etdump_write(const et_etdump *d, const char *etdp_path,
                          const char *debug_path, et_diag *diag) {
  uint8_t *bytes;
  size_t size;
  et_status st = et_etdump_serialize(d, &bytes, &size);
  if (st)
    return et_diag_set(diag, st, "ETDump: out of memory while recording");
  st = write_file(etdp_path, bytes, size, diag);
  free(bytes);
  if (!st && debug_path)
    st = write_file(debug_path, d->debug, d->debug_size, diag);
  return st;
}

size_t et_etdump_event_count(const et_etdump *d) { return d->n_recs; }

bool et_etdump_event_get(const et_etdump *d, size_t i, et_etdump_event *out) {
  if (i >= d->n_recs || d->recs[i].type != R_PROFILE) return false;
  const rec *r = &d->recs[i];
  out->block = d->blocks[r->block];
  out->run = r->block;
  out->name = r->dstr || r->node ? NULL : r->name;
  out->delegate_name = r->dstr ? r->dstr : r->node;
  out->chain = r->chain;
  out->instruction = r->instr;
  out->delegate_debug_id = r->did;
  out->start = r->start;
  out->end = r->end;
  out->nth = r->node ? r->nth : 0;
  return true;
}

bool et_etdump_debug_get(const et_etdump *d, size_t i, et_etdump_debug *out) {
  if (i >= d->n_recs || d->recs[i].type != R_DEBUG) return false;
  const rec *r = &d->recs[i];
  memset(out, 0, sizeof *out);
  out->run = r->block;
  out->chain = r->chain;
  out->instruction = r->instr;
  out->tag = r->vtype == VT_TENSOR   ? ET_TAG_TENSOR
             : r->vtype == VT_INT    ? ET_TAG_INT
             : r->vtype == VT_DOUBLE ? ET_TAG_DOUBLE
                                     : ET_TAG_BOOL;
  out->dtype = r->dtype;
  out->rank = r->rank;
  out->sizes = r->sizes;
  out->offset = r->vtype == VT_TENSOR ? r->offset : -1;
  out->i = r->ival;
  out->d = r->dval;
  out->delegate_debug_id = r->did;
  out->delegate_name = r->dstr;
  return true;
}
