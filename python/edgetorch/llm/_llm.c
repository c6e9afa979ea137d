/*
 * edgetorch.llm._llm: the C tokenizers and sampler of extension/llm/ for
 * Python. Thin: every operation is one call into C; encode and decode run
 * without the GIL (a loaded tokenizer is immutable).
 *
 * Errors raise TokenizerError ("<Status>: <message>", with .status and
 * .code, upstream's error names and numbers) or SamplerError.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "runner.h"
#include "sampler.h"
#include "tokenizer.h"

#include <stdlib.h>
#include <string.h>

static PyObject *g_tok_error, *g_sampler_error, *g_gen_error;

static PyObject *raise_st(PyObject *type, et_status st, const char *message) {
  const char *name = et_status_name(st);
  PyObject *msg = PyUnicode_FromFormat("%s: %s", name,
                                       (message && message[0]) ? message : "(no message)");
  if (!msg) return NULL;
  PyObject *exc = PyObject_CallOneArg(type, msg);
  Py_DECREF(msg);
  if (!exc) return NULL;
  PyObject *sname = PyUnicode_FromString(name);
  PyObject *code = PyLong_FromLong((long)st);
  if (sname && code && PyObject_SetAttrString(exc, "status", sname) == 0 &&
      PyObject_SetAttrString(exc, "code", code) == 0)
    PyErr_SetObject(type, exc);
  Py_XDECREF(sname);
  Py_XDECREF(code);
  Py_DECREF(exc);
  return NULL;
}

/* ---- Tokenizer ----------------------------------------------------------- */

typedef struct {
  PyObject_HEAD et_tokenizer *tok;
} TokObject;

static PyTypeObject Tok_Type;

static PyObject *tok_wrap(et_tokenizer *t) {
  TokObject *o = PyObject_New(TokObject, &Tok_Type);
  if (!o) {
    et_tokenizer_free(t);
    return NULL;
  }
  o->tok = t;
  return (PyObject *)o;
}

static void tok_dealloc(TokObject *self) {
  et_tokenizer_free(self->tok);
  PyObject_Free(self);
}

static PyObject *mod_load_file(PyObject *mod, PyObject *arg) {
  (void)mod;
  PyObject *path = NULL;
  if (!PyUnicode_FSConverter(arg, &path)) return NULL;
  et_tokenizer *t = NULL;
  et_diag d;
  et_diag_clear(&d);
  et_status st;
  const char *p = PyBytes_AS_STRING(path);
  Py_BEGIN_ALLOW_THREADS st = et_tokenizer_load_file(p, &t, &d);
  Py_END_ALLOW_THREADS Py_DECREF(path);
  if (st != ET_OK) return raise_st(g_tok_error, st, d.message);
  return tok_wrap(t);
}

static PyObject *mod_load_buffer(PyObject *mod, PyObject *arg) {
  (void)mod;
  Py_buffer b;
  if (PyObject_GetBuffer(arg, &b, PyBUF_SIMPLE) < 0) return NULL;
  et_tokenizer *t = NULL;
  et_diag d;
  et_diag_clear(&d);
  et_status st;
  Py_BEGIN_ALLOW_THREADS st = et_tokenizer_load_buffer(b.buf, (size_t)b.len, &t, &d);
  Py_END_ALLOW_THREADS PyBuffer_Release(&b);
  if (st != ET_OK) return raise_st(g_tok_error, st, d.message);
  return tok_wrap(t);
}

static PyObject *ids_to_list(const int32_t *ids, size_t n) {
  PyObject *l = PyList_New((Py_ssize_t)n);
  if (!l) return NULL;
  for (size_t i = 0; i < n; i++) {
    PyObject *v = PyLong_FromLong(ids[i]);
    if (!v) {
      Py_DECREF(l);
      return NULL;
    }
    PyList_SET_ITEM(l, (Py_ssize_t)i, v);
  }
  return l;
}

static PyObject *tok_encode(TokObject *self, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"text", "add_bos", NULL};
  PyObject *text;
  int add_bos = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|p", kwlist, &text, &add_bos)) return NULL;
  const char *s;
  Py_ssize_t n;
  PyObject *owned = NULL;
  if (PyUnicode_Check(text)) {
    s = PyUnicode_AsUTF8AndSize(text, &n);
    if (!s) return NULL;
  } else if (PyBytes_Check(text)) {
    s = PyBytes_AS_STRING(text);
    n = PyBytes_GET_SIZE(text);
  } else if (PyByteArray_Check(text)) {
    owned = PyBytes_FromObject(text);
    if (!owned) return NULL;
    s = PyBytes_AS_STRING(owned);
    n = PyBytes_GET_SIZE(owned);
  } else {
    PyErr_SetString(PyExc_TypeError, "encode() takes str or bytes");
    return NULL;
  }
  int32_t *ids = NULL;
  size_t nids = 0;
  et_diag d;
  et_diag_clear(&d);
  et_status st;
  Py_INCREF(text);
  Py_BEGIN_ALLOW_THREADS st = et_tokenizer_encode(self->tok, s, (size_t)n, add_bos, &ids, &nids, &d);
  Py_END_ALLOW_THREADS Py_DECREF(text);
  Py_XDECREF(owned);
  if (st != ET_OK) return raise_st(g_tok_error, st, d.message);
  PyObject *l = ids_to_list(ids, nids);
  free(ids);
  return l;
}

/* A sequence of ints into a malloc'd int32 array. */
static int32_t *ids_from(PyObject *seq, size_t *out_n) {
  PyObject *fast = PySequence_Fast(seq, "ids must be a sequence of ints");
  if (!fast) return NULL;
  Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
  int32_t *ids = malloc((size_t)(n ? n : 1) * sizeof *ids);
  if (!ids) {
    Py_DECREF(fast);
    PyErr_NoMemory();
    return NULL;
  }
  for (Py_ssize_t i = 0; i < n; i++) {
    long v = PyLong_AsLong(PySequence_Fast_GET_ITEM(fast, i));
    if (v == -1 && PyErr_Occurred()) {
      free(ids);
      Py_DECREF(fast);
      return NULL;
    }
    ids[i] = (v < INT32_MIN || v > INT32_MAX) ? -1 : (int32_t)v;
  }
  Py_DECREF(fast);
  *out_n = (size_t)n;
  return ids;
}

static PyObject *tok_decode(TokObject *self, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"ids", "skip_special", NULL};
  PyObject *seq;
  int skip = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|p", kwlist, &seq, &skip)) return NULL;
  size_t n;
  int32_t *ids = ids_from(seq, &n);
  if (!ids) return NULL;
  char *text = NULL;
  size_t len = 0;
  et_diag d;
  et_diag_clear(&d);
  et_status st;
  Py_BEGIN_ALLOW_THREADS st = et_tokenizer_decode(self->tok, ids, n, skip, &text, &len, &d);
  Py_END_ALLOW_THREADS free(ids);
  if (st != ET_OK) return raise_st(g_tok_error, st, d.message);
  PyObject *r = PyBytes_FromStringAndSize(text, (Py_ssize_t)len);
  free(text);
  return r;
}

static PyObject *tok_token_bytes(TokObject *self, PyObject *arg) {
  long id = PyLong_AsLong(arg);
  if (id == -1 && PyErr_Occurred()) return NULL;
  const uint8_t *b;
  size_t l;
  if (id < INT32_MIN || id > INT32_MAX ||
      et_tokenizer_token_bytes(self->tok, (int32_t)id, &b, &l) != ET_OK)
    return raise_st(g_tok_error, ET_INVALID_ARGUMENT, "token id outside the vocabulary");
  return PyBytes_FromStringAndSize((const char *)b, (Py_ssize_t)l);
}

static PyObject *tok_token_id(TokObject *self, PyObject *arg) {
  Py_ssize_t n;
  const char *s = PyUnicode_AsUTF8AndSize(arg, &n);
  if (!s) return NULL;
  return PyLong_FromLong(et_tokenizer_token_id(self->tok, s, (size_t)n));
}

static PyObject *tok_is_special(TokObject *self, PyObject *arg) {
  long id = PyLong_AsLong(arg);
  if (id == -1 && PyErr_Occurred()) return NULL;
  return PyBool_FromLong(id >= 0 && id <= INT32_MAX &&
                         et_tokenizer_is_special(self->tok, (int32_t)id));
}

static PyObject *tok_set_bos_eos(TokObject *self, PyObject *args) {
  int bos, eos;
  if (!PyArg_ParseTuple(args, "ii", &bos, &eos)) return NULL;
  if (et_tokenizer_set_bos_eos(self->tok, bos, eos) != ET_OK)
    return raise_st(g_tok_error, ET_INVALID_ARGUMENT, "bos/eos id outside the vocabulary");
  Py_RETURN_NONE;
}

static PyObject *tok_get_vocab_size(TokObject *self, void *c) {
  (void)c;
  return PyLong_FromUnsignedLong(et_tokenizer_vocab_size(self->tok));
}
static PyObject *tok_get_bos(TokObject *self, void *c) {
  (void)c;
  return PyLong_FromLong(et_tokenizer_bos_id(self->tok));
}
static PyObject *tok_get_eos(TokObject *self, void *c) {
  (void)c;
  return PyLong_FromLong(et_tokenizer_eos_id(self->tok));
}
static PyObject *tok_get_kind(TokObject *self, void *c) {
  (void)c;
  return PyUnicode_FromString(et_tokenizer_kind_name(et_tokenizer_kind_of(self->tok)));
}

/* ---- StreamDecoder ------------------------------------------------------- */

typedef struct {
  PyObject_HEAD TokObject *owner;
  et_token_stream s;
  char *buf;
  size_t cap;
} StreamObject;

static PyTypeObject Stream_Type;

static PyObject *tok_stream(TokObject *self, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"skip_special", NULL};
  int skip = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|p", kwlist, &skip)) return NULL;
  StreamObject *o = PyObject_New(StreamObject, &Stream_Type);
  if (!o) return NULL;
  o->cap = et_token_stream_max_bytes(self->tok);
  o->buf = malloc(o->cap);
  if (!o->buf) {
    o->owner = NULL;
    Py_DECREF(o);
    return PyErr_NoMemory();
  }
  Py_INCREF(self);
  o->owner = self;
  et_token_stream_init(&o->s, self->tok, skip);
  return (PyObject *)o;
}

static void stream_dealloc(StreamObject *self) {
  free(self->buf);
  Py_XDECREF(self->owner);
  PyObject_Free(self);
}

static PyObject *stream_push(StreamObject *self, PyObject *arg) {
  long id = PyLong_AsLong(arg);
  if (id == -1 && PyErr_Occurred()) return NULL;
  size_t len = 0;
  et_status st = (id < INT32_MIN || id > INT32_MAX)
                     ? ET_INVALID_ARGUMENT
                     : et_token_stream_push(&self->s, (int32_t)id, self->buf, self->cap, &len);
  if (st != ET_OK) return raise_st(g_tok_error, st, "token id outside the vocabulary");
  return PyBytes_FromStringAndSize(self->buf, (Py_ssize_t)len);
}

static PyObject *stream_flush(StreamObject *self, PyObject *unused) {
  (void)unused;
  size_t len = 0;
  et_status st = et_token_stream_flush(&self->s, self->buf, self->cap, &len);
  if (st != ET_OK) return raise_st(g_tok_error, st, "flush failed");
  return PyBytes_FromStringAndSize(self->buf, (Py_ssize_t)len);
}

/* ---- Sampler ------------------------------------------------------------- */

typedef struct {
  PyObject_HEAD et_sampler s;
  void *scratch;
  size_t scratch_bytes;
} SamplerObject;

static PyTypeObject Sampler_Type;

static int sampler_init(SamplerObject *self, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"vocab_size", "temperature", "top_k", "top_p", "seed", NULL};
  Py_ssize_t vocab;
  double temperature = 0.0, top_p = 1.0;
  int top_k = 0;
  unsigned long long seed = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "n|didK", kwlist, &vocab, &temperature, &top_k,
                                   &top_p, &seed))
    return -1;
  et_diag d;
  et_diag_clear(&d);
  if (vocab <= 0) {
    raise_st(g_sampler_error, ET_INVALID_ARGUMENT, "vocab_size must be positive");
    return -1;
  }
  et_status st = et_sampler_init(&self->s, (size_t)vocab, (float)temperature, top_k,
                                 (float)top_p, seed, &d);
  if (st != ET_OK) {
    raise_st(g_sampler_error, st, d.message);
    return -1;
  }
  free(self->scratch);
  self->scratch_bytes = et_sampler_scratch_size((size_t)vocab);
  self->scratch = malloc(self->scratch_bytes);
  if (!self->scratch) {
    PyErr_NoMemory();
    return -1;
  }
  return 0;
}

static void sampler_dealloc(SamplerObject *self) {
  free(self->scratch);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *sampler_sample(SamplerObject *self, PyObject *arg) {
  if (!self->scratch) return raise_st(g_sampler_error, ET_INVALID_STATE, "not initialized");
  Py_buffer b;
  if (PyObject_GetBuffer(arg, &b, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return NULL;
  if (b.itemsize != 4 || (b.format && strcmp(b.format, "f") != 0 && strcmp(b.format, "<f") != 0 &&
                          strcmp(b.format, "=f") != 0)) {
    PyBuffer_Release(&b);
    return raise_st(g_sampler_error, ET_INVALID_ARGUMENT, "logits must be float32");
  }
  if ((size_t)b.len != self->s.vocab * 4) {
    PyBuffer_Release(&b);
    return raise_st(g_sampler_error, ET_INVALID_ARGUMENT,
                    "logits must have vocab_size elements");
  }
  int32_t tok = -1;
  et_diag d;
  et_diag_clear(&d);
  et_status st = et_sampler_sample(&self->s, b.buf, self->scratch, self->scratch_bytes, &tok, &d);
  PyBuffer_Release(&b);
  if (st != ET_OK) return raise_st(g_sampler_error, st, d.message);
  return PyLong_FromLong(tok);
}

static PyObject *sampler_next_u64(SamplerObject *self, PyObject *unused) {
  (void)unused;
  return PyLong_FromUnsignedLongLong(et_sampler_next_u64(&self->s));
}

static PyObject *sampler_next_double(SamplerObject *self, PyObject *unused) {
  (void)unused;
  return PyFloat_FromDouble(et_sampler_next_double(&self->s));
}

/* ---- tables ----------------------------------------------------------- */

static PyMethodDef tok_methods[] = {
    {"encode", (PyCFunction)(void (*)(void))tok_encode, METH_VARARGS | METH_KEYWORDS,
     "encode(text, add_bos=False) -> list[int]"},
    {"decode", (PyCFunction)(void (*)(void))tok_decode, METH_VARARGS | METH_KEYWORDS,
     "decode(ids, skip_special=False) -> bytes"},
    {"token_bytes", (PyCFunction)tok_token_bytes, METH_O, "token_bytes(id) -> bytes"},
    {"token_id", (PyCFunction)tok_token_id, METH_O, "token_id(text) -> int (-1: none)"},
    {"is_special", (PyCFunction)tok_is_special, METH_O, "is_special(id) -> bool"},
    {"set_bos_eos", (PyCFunction)tok_set_bos_eos, METH_VARARGS, "set_bos_eos(bos, eos)"},
    {"stream", (PyCFunction)(void (*)(void))tok_stream, METH_VARARGS | METH_KEYWORDS,
     "stream(skip_special=False) -> StreamDecoder"},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef tok_getset[] = {
    {"vocab_size", (getter)tok_get_vocab_size, NULL, "one past the largest id", NULL},
    {"bos_id", (getter)tok_get_bos, NULL, "BOS id or -1", NULL},
    {"eos_id", (getter)tok_get_eos, NULL, "EOS id or -1", NULL},
    {"kind", (getter)tok_get_kind, NULL, "hf_bpe, sentencepiece_bpe, sentencepiece_unigram", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyTypeObject Tok_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "edgetorch.llm._llm.Tokenizer",
    .tp_basicsize = sizeof(TokObject),
    .tp_dealloc = (destructor)tok_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A loaded tokenizer (load_file / load_buffer).",
    .tp_methods = tok_methods,
    .tp_getset = tok_getset,
};

static PyMethodDef stream_methods[] = {
    {"push", (PyCFunction)stream_push, METH_O, "push(id) -> bytes (whole UTF-8 characters)"},
    {"flush", (PyCFunction)stream_flush, METH_NOARGS, "flush() -> bytes"},
    {NULL, NULL, 0, NULL}};

static PyTypeObject Stream_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "edgetorch.llm._llm.StreamDecoder",
    .tp_basicsize = sizeof(StreamObject),
    .tp_dealloc = (destructor)stream_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Streaming decoder: push ids, get whole UTF-8 characters.",
    .tp_methods = stream_methods,
};

static PyMethodDef sampler_methods[] = {
    {"sample", (PyCFunction)sampler_sample, METH_O, "sample(logits: float32 buffer) -> int"},
    {"next_u64", (PyCFunction)sampler_next_u64, METH_NOARGS, "next raw RNG value"},
    {"next_double", (PyCFunction)sampler_next_double, METH_NOARGS, "next draw in [0, 1)"},
    {NULL, NULL, 0, NULL}};

static PyTypeObject Sampler_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "edgetorch.llm._llm.Sampler",
    .tp_basicsize = sizeof(SamplerObject),
    .tp_dealloc = (destructor)sampler_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Sampler(vocab_size, temperature=0.0, top_k=0, top_p=1.0, seed=0)",
    .tp_methods = sampler_methods,
    .tp_init = (initproc)sampler_init,
    .tp_new = PyType_GenericNew,
};

/* ---- Generator (extension/llm/runner.h) --------------------------------- */

typedef struct {
  PyObject_HEAD et_llm_runner *r;
  int busy; /* a generation runs (the runner takes one at a time) */
} GenObject;

static PyTypeObject Gen_Type;

static int gen_init(GenObject *self, PyObject *args, PyObject *kw) {
  static char *names[] = {"model", "tokenizer", "threads", NULL};
  PyObject *model = NULL, *tokp = NULL;
  unsigned int threads = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O&O&|I", names, PyUnicode_FSConverter, &model,
                                   PyUnicode_FSConverter, &tokp, &threads)) {
    Py_XDECREF(model);
    return -1;
  }
  if (self->r) {
    et_llm_runner_free(self->r);
    self->r = NULL;
  }
  et_diag diag;
  et_diag_clear(&diag);
  et_status st;
  et_llm_runner *r = NULL;
  const char *mp = PyBytes_AS_STRING(model), *tp = PyBytes_AS_STRING(tokp);
  Py_BEGIN_ALLOW_THREADS
  st = et_llm_runner_load(mp, tp, threads, &r, &diag);
  Py_END_ALLOW_THREADS
  Py_DECREF(model);
  Py_DECREF(tokp);
  if (st != ET_OK) {
    raise_st(g_gen_error, st, diag.message);
    return -1;
  }
  self->r = r;
  return 0;
}

static void gen_dealloc(GenObject *self) {
  et_llm_runner_free(self->r);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

typedef struct {
  PyObject *callback; /* or NULL */
  int failed;         /* the callback raised */
} gen_cb;

/* Called without the GIL: take it to call the Python callback. */
static int gen_on_text(void *user, const char *text, size_t len) {
  gen_cb *cb = (gen_cb *)user;
  if (!cb->callback) return 0;
  PyGILState_STATE g = PyGILState_Ensure();
  PyObject *piece = PyUnicode_DecodeUTF8(text, (Py_ssize_t)len, "replace");
  PyObject *res = piece ? PyObject_CallOneArg(cb->callback, piece) : NULL;
  Py_XDECREF(piece);
  int stop = 0;
  if (!res) {
    cb->failed = 1;
    stop = 1;
  } else {
    stop = res == Py_False; /* returning False stops the generation */
    Py_DECREF(res);
  }
  PyGILState_Release(g);
  return stop;
}

static PyObject *gen_generate(GenObject *self, PyObject *args, PyObject *kw) {
  static char *names[] = {"prompt", "max_new_tokens", "temperature", "top_k", "top_p",
                          "seed", "bos", "stop_at_eos", "on_text", NULL};
  const char *prompt;
  Py_ssize_t plen;
  int max_new = -1, top_k = 0, stop_eos = 1;
  float temperature = 0.0f, top_p = 0.0f;
  unsigned long long seed = 0;
  PyObject *bos = Py_None, *callback = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "s#|ififKOpO", names, &prompt, &plen, &max_new,
                                   &temperature, &top_k, &top_p, &seed, &bos, &stop_eos,
                                   &callback))
    return NULL;
  if (!self->r) {
    PyErr_SetString(PyExc_RuntimeError, "Generator is not initialized");
    return NULL;
  }
  if (self->busy) {
    PyErr_SetString(PyExc_RuntimeError, "this Generator is already generating");
    return NULL;
  }
  if (callback != Py_None && !PyCallable_Check(callback)) {
    PyErr_SetString(PyExc_TypeError, "on_text must be callable or None");
    return NULL;
  }
  et_llm_options o;
  et_llm_options_default(&o);
  o.max_new_tokens = max_new < 0 ? -1 : max_new;
  o.temperature = temperature;
  o.top_k = top_k;
  o.top_p = top_p;
  o.seed = (uint64_t)seed;
  o.stop_eos = stop_eos;
  if (bos != Py_None) {
    int b = PyObject_IsTrue(bos);
    if (b < 0) return NULL;
    o.add_bos = b;
  }
  gen_cb cb = {callback == Py_None ? NULL : callback, 0};
  et_llm_stats stats;
  int32_t *ids = NULL;
  size_t n = 0;
  et_diag diag;
  et_diag_clear(&diag);
  et_status st;
  /* the text, gathered here for the result */
  self->busy = 1;
  Py_BEGIN_ALLOW_THREADS
  st = et_llm_generate(self->r, prompt, (size_t)plen, &o, gen_on_text, &cb, &stats, &ids, &n,
                       &diag);
  Py_END_ALLOW_THREADS
  self->busy = 0;
  if (cb.failed) {
    free(ids);
    return NULL; /* the callback's exception */
  }
  if (st != ET_OK) {
    free(ids);
    return raise_st(g_gen_error, st, diag.message);
  }
  PyObject *list = ids_to_list(ids, n);
  free(ids);
  if (!list) return NULL;
  return Py_BuildValue("{sNsnsnsdsdsdsdsnsO}", "ids", list, "prompt_tokens",
                       (Py_ssize_t)stats.prompt_tokens, "generated_tokens",
                       (Py_ssize_t)stats.generated_tokens, "ttft_s", stats.ttft_s,
                       "decode_s", stats.decode_s, "prefill_tokens_per_s",
                       stats.prefill_tokens_per_s, "decode_tokens_per_s",
                       stats.decode_tokens_per_s, "peak_rss_bytes",
                       (Py_ssize_t)stats.peak_rss_bytes, "stopped_on_eos",
                       stats.stopped_on_eos ? Py_True : Py_False);
}

static PyObject *gen_encode(GenObject *self, PyObject *args) {
  const char *prompt;
  Py_ssize_t plen;
  int bos = -1;
  if (!PyArg_ParseTuple(args, "s#|i", &prompt, &plen, &bos)) return NULL;
  int32_t *ids = NULL;
  size_t n = 0;
  et_diag diag;
  et_diag_clear(&diag);
  et_status st = et_llm_encode(self->r, prompt, (size_t)plen, bos, &ids, &n, &diag);
  if (st != ET_OK) return raise_st(g_gen_error, st, diag.message);
  PyObject *list = ids_to_list(ids, n);
  free(ids);
  return list;
}

static PyObject *gen_get_info(GenObject *self, void *c) {
  (void)c;
  if (!self->r) Py_RETURN_NONE;
  const et_llm_info *I = et_llm_runner_info(self->r);
  PyObject *eos = PyList_New((Py_ssize_t)I->n_eos);
  if (!eos) return NULL;
  for (size_t i = 0; i < I->n_eos; i++)
    PyList_SET_ITEM(eos, (Py_ssize_t)i, PyLong_FromLongLong(I->eos_ids[i]));
  return Py_BuildValue("{sLsLsLsLsNsOsO}", "max_seq_len", (long long)I->max_seq_len,
                       "max_context_len", (long long)I->max_context_len, "vocab_size",
                       (long long)I->vocab_size, "bos_id", (long long)I->bos_id, "eos_ids", eos,
                       "dynamic_shape", I->dynamic_shape ? Py_True : Py_False, "full_logits",
                       I->full_logits ? Py_True : Py_False);
}

static PyMethodDef gen_methods[] = {
    {"generate", (PyCFunction)(void (*)(void))gen_generate, METH_VARARGS | METH_KEYWORDS,
     "generate(prompt, max_new_tokens=-1, temperature=0.0, top_k=0, top_p=0.0, seed=0, "
     "bos=None, stop_at_eos=True, on_text=None) -> dict"},
    {"encode", (PyCFunction)gen_encode, METH_VARARGS, "encode(prompt, bos=-1) -> list[int]"},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef gen_getset[] = {
    {"info", (getter)gen_get_info, NULL, "what the program says about itself", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyTypeObject Gen_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "edgetorch.llm._llm.Generator",
    .tp_basicsize = sizeof(GenObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Generator(model, tokenizer, threads=0): the C text generation runner",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)gen_init,
    .tp_dealloc = (destructor)gen_dealloc,
    .tp_methods = gen_methods,
    .tp_getset = gen_getset,
};

static PyMethodDef module_methods[] = {
    {"load_file", mod_load_file, METH_O, "load_file(path) -> Tokenizer"},
    {"load_buffer", mod_load_buffer, METH_O, "load_buffer(bytes) -> Tokenizer"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module_def = {PyModuleDef_HEAD_INIT, "_llm",
                                        "edgetorch's C tokenizers and sampler", -1,
                                        module_methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__llm(void);
PyMODINIT_FUNC PyInit__llm(void) {
  if (PyType_Ready(&Tok_Type) < 0 || PyType_Ready(&Stream_Type) < 0 ||
      PyType_Ready(&Sampler_Type) < 0 || PyType_Ready(&Gen_Type) < 0)
    return NULL;
  PyObject *m = PyModule_Create(&module_def);
  if (!m) return NULL;
  PyObject *dict = Py_BuildValue("{sOsO}", "status", Py_None, "code", Py_None);
  if (!dict) goto fail;
  g_tok_error = PyErr_NewExceptionWithDoc(
      "edgetorch.llm.TokenizerError",
      "A tokenizer file that cannot be loaded, or a bad id. `status` is upstream's "
      "name of the error (\"InvalidArgument\", \"NotSupported\"), `code` its number.",
      PyExc_ValueError, dict);
  g_sampler_error = PyErr_NewExceptionWithDoc("edgetorch.llm.SamplerError",
                                              "Bad sampler settings or logits.",
                                              PyExc_ValueError, dict);
  g_gen_error = g_tok_error ? PyErr_NewExceptionWithDoc(
                                  "edgetorch.llm.GeneratorError",
                                  "A program that is not an LLM, a prompt that does not fit "
                                  "the context, or a failure while generating. `status` and "
                                  "`code` as TokenizerError's.",
                                  PyExc_ValueError, dict)
                            : NULL;
  Py_DECREF(dict);
  if (!g_tok_error || !g_sampler_error || !g_gen_error) goto fail;
  if (PyModule_AddObjectRef(m, "TokenizerError", g_tok_error) < 0 ||
      PyModule_AddObjectRef(m, "SamplerError", g_sampler_error) < 0 ||
      PyModule_AddObjectRef(m, "Tokenizer", (PyObject *)&Tok_Type) < 0 ||
      PyModule_AddObjectRef(m, "StreamDecoder", (PyObject *)&Stream_Type) < 0 ||
      PyModule_AddObjectRef(m, "Sampler", (PyObject *)&Sampler_Type) < 0 ||
      PyModule_AddObjectRef(m, "GeneratorError", g_gen_error) < 0 ||
      PyModule_AddObjectRef(m, "Generator", (PyObject *)&Gen_Type) < 0)
    goto fail;
  return m;
fail:
  Py_DECREF(m);
  return NULL;
}
