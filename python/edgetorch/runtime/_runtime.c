/*
 * edgetorch.runtime._runtime: the CPython face of the C runtime.
 *
 * Objects:
 *   Program  owns one et_module (extension/module.c) and, for programs given
 *            as bytes, the Python object holding those bytes (the module may
 *            use them in place, so they must outlive it).
 *   Method   a borrowed et_method of its Program's module. It keeps a strong
 *            reference to the Program, so the module (and the method memory
 *            it owns) lives at least as long as any Method.
 *
 * Threads: kernels and delegates run on one process-wide thread pool
 * (set_num_threads / get_num_threads; default: the CPUs the process may
 * use), attached to a method for each execute. A pool that
 * set_num_threads replaces lives on until the executes using it finish.
 *
 * Thread-safety: an et_module belongs to one thread at a time, so every call
 * that touches a module holds the Program's lock (a method never runs
 * concurrently with itself). The lock is only ever
 * waited for with the GIL released, so a thread that holds the lock may take
 * the GIL back (to build output arrays) without deadlocking.
 *
 * numpy is used only through its Python API (no numpy headers at build time):
 * inputs are read through the buffer protocol or DLPack, outputs are copied
 * into arrays made by numpy.empty.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <edgetorch/edgetorch.h>
#include <edgetorch/module.h>

#include "etdump.h"
#include "file_kind.h"
#include "host_tensor.h"
#include "threadpool.h"

#include <pthread.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

PyMODINIT_FUNC PyInit__runtime(void);

/* ------------------------------------------------------------------------ */
/* DLPack ABI (https://dmlc.github.io/dlpack/latest/c_api.html).            */
/* Declared here from the published specification rather than included, so */
/* the build needs no DLPack headers.                                       */

typedef struct {
  int32_t device_type;
  int32_t device_id;
} dl_device;

typedef struct {
  uint8_t code;
  uint8_t bits;
  uint16_t lanes;
} dl_dtype;

typedef struct {
  void *data;
  dl_device device;
  int32_t ndim;
  dl_dtype dtype;
  int64_t *shape;
  int64_t *strides; /* in elements; NULL means compact row-major */
  uint64_t byte_offset;
} dl_tensor;

typedef struct dl_managed {
  dl_tensor t;
  void *manager_ctx;
  void (*deleter)(struct dl_managed *self);
} dl_managed;

typedef struct dl_managed_v {
  struct {
    uint32_t major;
    uint32_t minor;
  } version;
  void *manager_ctx;
  void (*deleter)(struct dl_managed_v *self);
  uint64_t flags;
  dl_tensor t;
} dl_managed_v;

enum {
  DL_INT = 0,
  DL_UINT = 1,
  DL_FLOAT = 2,
  DL_BFLOAT = 4,
  DL_COMPLEX = 5,
  DL_BOOL = 6,
  DL_FLOAT8_E4M3FN = 10,
  DL_FLOAT8_E4M3FNUZ = 11,
  DL_FLOAT8_E5M2 = 12,
  DL_FLOAT8_E5M2FNUZ = 13
};
enum { DL_CPU = 1, DL_CUDA_HOST = 3 };

/* ------------------------------------------------------------------------ */
/* Module state (single-phase init: one interpreter).                       */

static PyObject *g_error;            /* EdgetorchError */
static PyObject *g_ndarray;          /* numpy.ndarray */
static PyObject *g_np_empty;         /* numpy.empty */
static PyObject *g_np_asarray;       /* numpy.asarray */
static PyObject *g_np_dtype_of[ET_DTYPE_END]; /* et_dtype -> numpy.dtype */
static PyObject *g_dtype_code;       /* dict numpy.dtype -> et_dtype (int) */
static PyTypeObject *g_TensorInfo;
static PyTypeObject *g_MethodMeta;
static PyObject *g_str_dtype, *g_str_detach, *g_str_cpu, *g_str_dlpack,
    *g_str_item;

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */

/* Raise EdgetorchError("<Status>: <message>") with .status and .code set.
 * Returns NULL so callers can `return raise_status(...)`. */
static PyObject *raise_status_str(et_status st, const char *message) {
  const char *name = et_status_name(st);
  PyObject *msg = PyUnicode_FromFormat(
      "%s: %s", name, (message && message[0]) ? message : "(no message)");
  if (!msg) return NULL;
  PyObject *exc = PyObject_CallOneArg(g_error, msg);
  Py_DECREF(msg);
  if (!exc) return NULL;
  PyObject *sname = PyUnicode_FromString(name);
  PyObject *code = PyLong_FromLong((long)st);
  if (!sname || !code || PyObject_SetAttrString(exc, "status", sname) < 0 ||
      PyObject_SetAttrString(exc, "code", code) < 0) {
    Py_XDECREF(sname);
    Py_XDECREF(code);
    Py_DECREF(exc);
    return NULL;
  }
  Py_DECREF(sname);
  Py_DECREF(code);
  PyErr_SetObject(g_error, exc);
  Py_DECREF(exc);
  return NULL;
}

static PyObject *raise_status(et_status st, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  PyObject *msg = PyUnicode_FromFormatV(fmt, ap);
  va_end(ap);
  if (!msg) return NULL;
  const char *s = PyUnicode_AsUTF8(msg);
  PyObject *r = s ? raise_status_str(st, s) : NULL;
  Py_DECREF(msg);
  return r;
}

/* A file of another ExecuTorch kind than expected: say which, and what to
 * do (the same advice edgetorch-run gives). */
static PyObject *raise_wrong_kind(et_status st, const char *what,
                                  et_file_kind_id got, et_file_kind_id want) {
  const char *todo;
  if (want == ET_KIND_PTE && got == ET_KIND_PTD)
    todo = "load the program's .pte and give this file as data "
           "(data_files=[...], or data_path= in Runtime.load_program)";
  else if (want == ET_KIND_PTE && got == ET_KIND_BPTE)
    todo = "load the .pte the bundle was made from (a bundle holds a program "
           "plus test inputs)";
  else if (want == ET_KIND_PTD && got == ET_KIND_PTE)
    todo = "load it as the program; data files are the .ptd files written "
           "beside it";
  else
    todo = want == ET_KIND_PTE ? "load a .pte program" : "give .ptd files";
  return raise_status(st, "%s is %s, not %s; %s", what, et_file_kind_desc(got),
                      et_file_kind_desc(want), todo);
}

/* ------------------------------------------------------------------------ */
/* dtype tables                                                              */

static PyObject *np_dtype_for(int et) {
  if (et < 0 || et >= ET_DTYPE_END) return NULL;
  return g_np_dtype_of[et];
}

/* The et_dtype of numpy dtype `d`, or -1 (no Python error set). */
static int et_dtype_for_np(PyObject *d, int *out) {
  PyObject *v = PyDict_GetItemWithError(g_dtype_code, d);
  if (!v) {
    if (PyErr_Occurred()) return -1;
    *out = -1;
    return 0;
  }
  *out = (int)PyLong_AsLong(v);
  return 0;
}

static int init_dtype_tables(void) {
  PyObject *np = PyImport_ImportModule("numpy");
  if (!np) return -1;
  PyObject *ml = PyImport_ImportModule("ml_dtypes");
  if (!ml) {
    Py_DECREF(np);
    return -1;
  }
  PyObject *dtype_ctor = PyObject_GetAttrString(np, "dtype");
  g_ndarray = PyObject_GetAttrString(np, "ndarray");
  g_np_empty = PyObject_GetAttrString(np, "empty");
  g_np_asarray = PyObject_GetAttrString(np, "asarray");
  g_dtype_code = PyDict_New();
  int rc = -1;
  if (!dtype_ctor || !g_ndarray || !g_np_empty || !g_np_asarray ||
      !g_dtype_code)
    goto done;
  for (int et = 0; et < ET_DTYPE_END; et++) {
    bool from_ml = false;
    const char *np_name = et_host_numpy_name(et, &from_ml);
    if (!np_name) continue;
    /* Quantized and bit types share a numpy dtype with a plain integer type,
     * which is the one an array of that numpy dtype means. */
    const int reverse = et != ET_QINT8 && et != ET_QUINT8 && et != ET_QINT32 &&
                        et != ET_BITS16;
    PyObject *scalar = PyObject_GetAttrString(from_ml ? ml : np, np_name);
    if (!scalar) {
      /* An older ml_dtypes may lack a float8 flavour: leave it unmapped. */
      if (from_ml && PyErr_ExceptionMatches(PyExc_AttributeError)) {
        PyErr_Clear();
        continue;
      }
      goto done;
    }
    PyObject *d = PyObject_CallOneArg(dtype_ctor, scalar);
    Py_DECREF(scalar);
    if (!d) goto done;
    g_np_dtype_of[et] = d; /* owned by the table */
    if (reverse) {
      PyObject *code = PyLong_FromLong(et);
      if (!code) goto done;
      int e = PyDict_SetItem(g_dtype_code, d, code);
      Py_DECREF(code);
      if (e < 0) goto done;
    }
  }
  rc = 0;
done:
  Py_XDECREF(dtype_ctor);
  Py_DECREF(np);
  Py_DECREF(ml);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Threads: one pool for the process, guarded by the GIL                     */

typedef struct shared_pool {
  et_threadpool *tp;
  Py_ssize_t users; /* executes running on it */
} shared_pool;

static shared_pool *g_pool;     /* current; made on first use */
static uint32_t g_num_threads;  /* 0: et_cpu_count() */

static uint32_t num_threads(void) {
  return g_num_threads ? g_num_threads : et_cpu_count();
}

static void pool_free(shared_pool *sp) {
  et_threadpool_destroy(sp->tp); /* joins idle workers: no GIL needed */
  PyMem_RawFree(sp);
}

/* The current pool for one execute (NULL: serial; also when a pool cannot
 * be made, which changes speed, not results). GIL held. */
static shared_pool *pool_acquire(void) {
  if (num_threads() <= 1) return NULL;
  if (!g_pool) {
    shared_pool *sp = PyMem_RawCalloc(1, sizeof *sp);
    if (!sp) return NULL;
    if (et_threadpool_create(num_threads(), &sp->tp) != ET_OK) {
      PyMem_RawFree(sp);
      return NULL;
    }
    g_pool = sp;
  }
  g_pool->users++;
  return g_pool;
}

static void pool_release(shared_pool *sp) {
  if (sp && --sp->users == 0 && sp != g_pool) pool_free(sp);
}

/* A forked child has no workers: forget the parent's pool (its memory
 * leaks; its threads do not exist here) and make a new one on demand. */
static void pool_atfork_child(void) { g_pool = NULL; }

static PyObject *rt_set_num_threads(PyObject *self, PyObject *arg) {
  (void)self;
  long n = PyLong_AsLong(arg);
  if (n == -1 && PyErr_Occurred()) return NULL;
  if (n < 1 || n > (long)ET_THREADPOOL_MAX) {
    PyErr_Format(PyExc_ValueError,
                 "set_num_threads: want 1 to %u threads, got %ld",
                 ET_THREADPOOL_MAX, n);
    return NULL;
  }
  if ((uint32_t)n != num_threads()) {
    shared_pool *old = g_pool;
    g_pool = NULL;
    if (old && old->users == 0) pool_free(old);
  }
  g_num_threads = (uint32_t)n;
  Py_RETURN_NONE;
}

/* Programs loaded from now on use the optimized kernels (default) or the
 * portable ones alone (set_optimized_kernels). */
static int g_optimized_kernels = 1;

static PyObject *rt_set_optimized_kernels(PyObject *self, PyObject *arg) {
  (void)self;
  int on = PyObject_IsTrue(arg);
  if (on < 0) return NULL;
  g_optimized_kernels = on;
  Py_RETURN_NONE;
}

static PyObject *rt_get_optimized_kernels(PyObject *self, PyObject *unused) {
  (void)self;
  (void)unused;
  return PyBool_FromLong(g_optimized_kernels);
}

static PyObject *rt_get_num_threads(PyObject *self, PyObject *unused) {
  (void)self;
  (void)unused;
  return PyLong_FromUnsignedLong(num_threads());
}

/* ------------------------------------------------------------------------ */
/* Program                                                                   */

typedef struct {
  PyObject_HEAD
  et_module *mod;
  PyObject *owner; /* keeps buffer-loaded bytes alive; NULL for files */
  PyThread_type_lock lock;
  unsigned long lock_owner; /* thread holding `lock` (read/written with GIL) */
  int locked;
  PyObject *names; /* tuple of method names, file order */
} ProgramObject;

typedef struct {
  PyObject_HEAD
  ProgramObject *program; /* strong reference */
  et_method *m;
  PyObject *name;
  et_etdump *etdump; /* load_method(etdump=True): records every execute */
  /* load_method(thread_events=N): what the pool's threads run, into a
   * buffer of N events (executes on more than one thread only). */
  et_threadpool_recorder *trec;
  et_threadpool_event *tev;
} MethodObject;

static PyTypeObject Program_Type;
static PyTypeObject Method_Type;

/* Take the program's lock. Waiting happens with the GIL released. */
static int program_lock(ProgramObject *p) {
  unsigned long me = PyThread_get_thread_ident();
  if (p->locked && p->lock_owner == me) {
    PyErr_SetString(PyExc_RuntimeError,
                    "edgetorch: re-entrant use of a Program from the thread "
                    "that is already running one of its methods");
    return -1;
  }
  if (!PyThread_acquire_lock(p->lock, NOWAIT_LOCK)) {
    Py_BEGIN_ALLOW_THREADS
    PyThread_acquire_lock(p->lock, WAIT_LOCK);
    Py_END_ALLOW_THREADS
  }
  p->lock_owner = me;
  p->locked = 1;
  return 0;
}

static void program_unlock(ProgramObject *p) {
  p->locked = 0;
  p->lock_owner = 0;
  PyThread_release_lock(p->lock);
}

static ProgramObject *program_new(et_module *mod, PyObject *owner) {
  ProgramObject *p = PyObject_New(ProgramObject, &Program_Type);
  if (!p) {
    et_module_free(mod);
    return NULL;
  }
  p->mod = mod;
  /* Threads come from the process-wide pool at each execute. */
  et_module_set_parallel(mod, NULL);
  p->owner = owner;
  Py_XINCREF(owner);
  p->locked = 0;
  p->lock_owner = 0;
  p->names = NULL;
  p->lock = PyThread_allocate_lock();
  if (!p->lock) {
    Py_DECREF(p);
    PyErr_NoMemory();
    return NULL;
  }
  const et_program *prog = et_module_program(mod);
  size_t n = et_program_method_count(prog);
  p->names = PyTuple_New((Py_ssize_t)n);
  if (!p->names) {
    Py_DECREF(p);
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    const char *name = et_program_method_name(prog, i);
    PyObject *s = PyUnicode_DecodeUTF8(name ? name : "", name ? (Py_ssize_t)strlen(name) : 0,
                                       "replace");
    if (!s) {
      Py_DECREF(p);
      return NULL;
    }
    PyTuple_SET_ITEM(p->names, (Py_ssize_t)i, s);
  }
  return p;
}

static void Program_dealloc(ProgramObject *p) {
  /* No Method can exist here: each holds a strong reference. */
  if (p->mod) et_module_free(p->mod);
  p->mod = NULL;
  Py_XDECREF(p->owner);
  Py_XDECREF(p->names);
  if (p->lock) PyThread_free_lock(p->lock);
  PyObject_Free(p);
}

static int is_path(PyObject *o) {
  return PyUnicode_Check(o) || PyObject_HasAttrString(o, "__fspath__");
}

/* A bytes object with the contents of a bytes-like object: `o` itself when
 * it is exactly bytes (immutable, used in place), else a copy, so that
 * verified bytes cannot change under the runtime. New reference. */
static PyObject *immutable_bytes(PyObject *o, const char *what) {
  if (PyBytes_CheckExact(o)) return Py_NewRef(o);
  if (!PyObject_CheckBuffer(o)) {
    PyErr_Format(PyExc_TypeError,
                 "load_program: expected a path (str or os.PathLike) or a "
                 "bytes-like object for %s, got %.100s", what,
                 Py_TYPE(o)->tp_name);
    return NULL;
  }
  Py_buffer view;
  if (PyObject_GetBuffer(o, &view, PyBUF_C_CONTIGUOUS) < 0) return NULL;
  PyObject *b = PyBytes_FromStringAndSize(NULL, view.len);
  if (b && PyBuffer_ToContiguous(PyBytes_AS_STRING(b), &view, view.len,
                                 'C') < 0) {
    Py_CLEAR(b);
  }
  PyBuffer_Release(&view);
  return b;
}

/* Add `files` (None, one path or bytes-like object, or a sequence of them)
 * to the module as .ptd data. Appends the bytes objects used in place to
 * `keep`. 0, or -1 with an exception set. */
static int add_data_files(et_module *mod, PyObject *files, int use_mmap,
                          PyObject *keep) {
  if (files == Py_None) return 0;
  PyObject *seq;
  if (is_path(files) || PyObject_CheckBuffer(files)) {
    seq = PyTuple_Pack(1, files);
  } else {
    seq = PySequence_Fast(files, "load_program: data_files must be a path, "
                                 "bytes, or a sequence of them");
  }
  if (!seq) return -1;
  int rc = 0;
  for (Py_ssize_t i = 0; rc == 0 && i < PySequence_Fast_GET_SIZE(seq); i++) {
    PyObject *f = PySequence_Fast_GET_ITEM(seq, i);
    et_diag diag;
    et_diag_clear(&diag);
    et_status st;
    et_file_kind_id kind = ET_KIND_UNKNOWN;
    if (is_path(f)) {
      PyObject *path = NULL;
      if (!PyUnicode_FSConverter(f, &path)) {
        rc = -1;
        break;
      }
      const char *cpath = PyBytes_AS_STRING(path);
      et_load_mode mode = use_mmap ? ET_LOAD_MMAP : ET_LOAD_FILE;
      Py_BEGIN_ALLOW_THREADS
      st = et_module_load_data_file(mod, cpath, mode, &diag);
      if (st != ET_OK) kind = et_file_kind_of_path(cpath);
      Py_END_ALLOW_THREADS
      Py_DECREF(path);
    } else {
      PyObject *b = immutable_bytes(f, "a data file");
      if (!b || PyList_Append(keep, b) < 0) {
        Py_XDECREF(b);
        rc = -1;
        break;
      }
      const char *data = PyBytes_AS_STRING(b);
      size_t size = (size_t)PyBytes_GET_SIZE(b);
      Py_DECREF(b); /* `keep` holds it */
      Py_BEGIN_ALLOW_THREADS
      st = et_module_load_data_buffer(mod, data, size, &diag);
      if (st != ET_OK) kind = et_file_kind_of(data, size);
      Py_END_ALLOW_THREADS
    }
    if (st != ET_OK) {
      if (kind != ET_KIND_PTD && kind != ET_KIND_UNKNOWN)
        raise_wrong_kind(st, "a data file", kind, ET_KIND_PTD);
      else
        raise_status_str(st, diag.message);
      rc = -1;
    }
  }
  Py_DECREF(seq);
  return rc;
}

/* The program object, owning `mod` and the bytes in `keep`. */
static PyObject *program_with_data(et_module *mod, PyObject *files,
                                   int use_mmap, PyObject *program_bytes,
                                   int share) {
  if (!g_optimized_kernels) et_module_remove_kernels(mod, &et_optimized_kernels);
  PyObject *keep = PyList_New(0);
  if (!keep || (program_bytes && PyList_Append(keep, program_bytes) < 0) ||
      add_data_files(mod, files, use_mmap, keep) < 0) {
    Py_XDECREF(keep);
    et_module_free(mod);
    return NULL;
  }
  if (share) {
    et_diag diag;
    et_diag_clear(&diag);
    et_status st = et_module_share_planned_memory(mod, &diag);
    if (st != ET_OK) {
      Py_DECREF(keep);
      et_module_free(mod);
      return raise_status_str(st, diag.message);
    }
  }
  PyObject *owner = PyList_AsTuple(keep);
  Py_DECREF(keep);
  if (!owner) {
    et_module_free(mod);
    return NULL;
  }
  PyObject *p = (PyObject *)program_new(mod, owner);
  Py_DECREF(owner);
  return p;
}

/* load_program(source, *, mmap=False, data_files=None) */
static PyObject *rt_load_program(PyObject *self, PyObject *args,
                                 PyObject *kwargs) {
  (void)self;
  static char *kwlist[] = {"source", "mmap", "data_files",
                           "share_planned_memory", NULL};
  PyObject *src, *files = Py_None;
  int use_mmap = 0, share = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|$pOp:load_program", kwlist,
                                   &src, &use_mmap, &files, &share))
    return NULL;

  et_module *mod = NULL;
  et_diag diag;
  et_diag_clear(&diag);
  et_status st;

  if (PyUnicode_Check(src) || PyObject_HasAttrString(src, "__fspath__")) {
    PyObject *path = NULL;
    if (!PyUnicode_FSConverter(src, &path)) return NULL;
    const char *cpath = PyBytes_AS_STRING(path);
    et_load_mode mode = use_mmap ? ET_LOAD_MMAP : ET_LOAD_FILE;
    Py_BEGIN_ALLOW_THREADS
    st = et_module_load_file(cpath, mode, &mod, &diag);
    Py_END_ALLOW_THREADS
    if (st != ET_OK) {
      et_file_kind_id kind = et_file_kind_of_path(cpath);
      PyObject *r = (kind != ET_KIND_PTE && kind != ET_KIND_UNKNOWN)
                        ? raise_wrong_kind(st, cpath, kind, ET_KIND_PTE)
                    : diag.message[0]
                        ? raise_status_str(st, diag.message)
                        : raise_status(st, "%s: cannot load", cpath);
      Py_DECREF(path);
      if (mod) et_module_free(mod);
      return r;
    }
    Py_DECREF(path);
    return program_with_data(mod, files, use_mmap, NULL, share);
  }

  if (use_mmap) {
    PyErr_SetString(PyExc_TypeError,
                    "load_program: mmap=True needs a path, not a buffer");
    return NULL;
  }
  PyObject *owner = immutable_bytes(src, "the program");
  if (!owner) return NULL;
  const char *data = PyBytes_AS_STRING(owner);
  size_t size = (size_t)PyBytes_GET_SIZE(owner);
  Py_BEGIN_ALLOW_THREADS
  st = et_module_load_buffer(data, size, &mod, &diag);
  Py_END_ALLOW_THREADS
  if (st != ET_OK) {
    if (mod) et_module_free(mod);
    et_file_kind_id kind = et_file_kind_of(data, size);
    PyObject *r = (kind != ET_KIND_PTE && kind != ET_KIND_UNKNOWN)
                      ? raise_wrong_kind(st, "the bytes given", kind,
                                         ET_KIND_PTE)
                      : raise_status_str(st, diag.message);
    Py_DECREF(owner);
    return r;
  }
  PyObject *p = program_with_data(mod, files, use_mmap, owner, share);
  Py_DECREF(owner);
  return p;
}

/* ------------------------------------------------------------------------ */
/* Metadata                                                                  */

static PyStructSequence_Field tensor_info_fields[] = {
    {"tag", "value kind: 'Tensor', 'Int', 'Double', 'Bool', ..."},
    {"dtype", "numpy dtype of a tensor (a name string when numpy has none); "
              "None for other values"},
    {"scalar_type", "upstream ScalarType code of a tensor (6 = Float), or None"},
    {"sizes", "tensor sizes (upper bounds for dynamic shapes)"},
    {"dim_order", "tensor dim order, outermost to innermost"},
    {"dynamism", "'STATIC', 'DYNAMIC_BOUND' or 'DYNAMIC_UNBOUND'; None for "
                 "other values"},
    {"nbytes", "bytes of the tensor at `sizes`"},
    {"planned", "True if the tensor lives in a planned buffer"},
    {"value", "traced value of a scalar input/output, else None"},
    {NULL, NULL}};

static PyStructSequence_Desc tensor_info_desc = {
    "edgetorch.runtime.TensorInfo",
    "Description of one method input or output.", tensor_info_fields, 9};

static PyStructSequence_Field method_meta_fields[] = {
    {"name", "method name"},
    {"inputs", "list of TensorInfo, one per input"},
    {"outputs", "list of TensorInfo, one per output"},
    {"num_planned_buffers", "number of planned buffers"},
    {"planned_buffer_sizes", "bytes of each planned buffer"},
    {"arena_bytes", "exact method-arena bytes the method needs"},
    {"operators", "operator names, as the kernel registry looks them up"},
    {"delegates", "backend id of each delegate"},
    {"num_instructions", "instructions over all chains"},
    {"num_values", "values in the method"},
    {NULL, NULL}};

static PyStructSequence_Desc method_meta_desc = {
    "edgetorch.runtime.MethodMeta",
    "Everything known about a method before it is loaded.",
    method_meta_fields, 10};

static const char *dynamism_name(int d) {
  switch (d) {
  case ET_STATIC: return "STATIC";
  case ET_DYNAMIC_BOUND: return "DYNAMIC_BOUND";
  case ET_DYNAMIC_UNBOUND: return "DYNAMIC_UNBOUND";
  default: return "UNKNOWN";
  }
}

static PyObject *dtype_object(int et) {
  PyObject *d = np_dtype_for(et);
  if (d) return Py_NewRef(d);
  return PyUnicode_FromString(et_dtype_name(et));
}

static PyObject *io_info_to_py(const et_io_info *io) {
  PyObject *r = PyStructSequence_New(g_TensorInfo);
  if (!r) return NULL;
  PyObject *f[9] = {0};
  f[0] = PyUnicode_FromString(et_tag_name((int)io->tag));
  if (io->tag == ET_TAG_TENSOR) {
    const et_tensor_info *t = &io->tensor;
    uint32_t rank = t->rank <= ET_MAX_RANK ? t->rank : ET_MAX_RANK;
    f[1] = dtype_object(t->dtype);
    f[2] = PyLong_FromLong(t->dtype);
    f[3] = PyTuple_New(rank);
    f[4] = PyTuple_New(rank);
    if (f[3] && f[4]) {
      for (uint32_t d = 0; d < rank; d++) {
        PyTuple_SET_ITEM(f[3], d, PyLong_FromLong(t->sizes[d]));
        PyTuple_SET_ITEM(f[4], d, PyLong_FromLong(t->dim_order[d]));
      }
    }
    f[5] = PyUnicode_FromString(dynamism_name(t->dynamism));
    f[6] = PyLong_FromSize_t(t->nbytes);
    f[7] = PyBool_FromLong(t->planned);
    f[8] = Py_NewRef(Py_None);
  } else {
    f[1] = Py_NewRef(Py_None);
    f[2] = Py_NewRef(Py_None);
    f[3] = PyTuple_New(0);
    f[4] = PyTuple_New(0);
    f[5] = Py_NewRef(Py_None);
    f[6] = PyLong_FromLong(0);
    f[7] = Py_NewRef(Py_False);
    switch (io->tag) {
    case ET_TAG_INT: f[8] = PyLong_FromLongLong(io->scalar.i); break;
    case ET_TAG_DOUBLE: f[8] = PyFloat_FromDouble(io->scalar.d); break;
    case ET_TAG_BOOL: f[8] = PyBool_FromLong(io->scalar.b); break;
    default: f[8] = Py_NewRef(Py_None); break;
    }
  }
  int bad = 0;
  for (int i = 0; i < 9; i++) {
    if (!f[i]) bad = 1;
    /* A sizes tuple with a NULL item (allocation failure) is caught here. */
  }
  for (int k = 3; k <= 4 && !bad; k++)
    for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(f[k]); j++)
      if (!PyTuple_GET_ITEM(f[k], j)) bad = 1;
  for (int i = 0; i < 9; i++) {
    if (f[i]) PyStructSequence_SET_ITEM(r, i, f[i]);
    else PyStructSequence_SET_ITEM(r, i, Py_NewRef(Py_None));
  }
  if (bad) {
    Py_DECREF(r);
    if (!PyErr_Occurred()) PyErr_NoMemory();
    return NULL;
  }
  return r;
}

static PyObject *meta_to_py(const et_method_meta *meta) {
  PyObject *inputs = NULL, *outputs = NULL, *planned = NULL, *ops = NULL,
           *dels = NULL, *name = NULL;
  inputs = PyList_New((Py_ssize_t)meta->n_inputs);
  outputs = PyList_New((Py_ssize_t)meta->n_outputs);
  planned = PyList_New((Py_ssize_t)meta->n_planned);
  ops = PyList_New((Py_ssize_t)meta->n_operators);
  dels = PyList_New((Py_ssize_t)meta->n_delegates);
  name = PyUnicode_FromString(meta->name ? meta->name : "");
  if (!inputs || !outputs || !planned || !ops || !dels || !name) goto fail;
  for (size_t i = 0; i < meta->n_inputs + meta->n_outputs; i++) {
    int is_in = i < meta->n_inputs;
    size_t k = is_in ? i : i - meta->n_inputs;
    et_io_info io;
    memset(&io, 0, sizeof io);
    et_status st = is_in ? et_method_meta_input(meta, k, &io)
                         : et_method_meta_output(meta, k, &io);
    if (st != ET_OK) {
      raise_status(st, "method '%s': cannot describe %s %zu", meta->name,
                   is_in ? "input" : "output", k);
      goto fail;
    }
    PyObject *o = io_info_to_py(&io);
    if (!o) goto fail;
    PyList_SET_ITEM(is_in ? inputs : outputs, (Py_ssize_t)k, o);
  }
  for (size_t i = 0; i < meta->n_planned; i++) {
    PyObject *o = PyLong_FromSize_t(et_method_meta_planned_size(meta, i));
    if (!o) goto fail;
    PyList_SET_ITEM(planned, (Py_ssize_t)i, o);
  }
  for (size_t i = 0; i < meta->n_operators; i++) {
    char buf[512];
    buf[0] = 0;
    et_status st = et_method_meta_operator(meta, i, buf, sizeof buf);
    if (st != ET_OK) {
      raise_status(st, "method '%s': cannot name operator %zu", meta->name, i);
      goto fail;
    }
    PyObject *o = PyUnicode_DecodeUTF8(buf, (Py_ssize_t)strlen(buf), "replace");
    if (!o) goto fail;
    PyList_SET_ITEM(ops, (Py_ssize_t)i, o);
  }
  for (size_t i = 0; i < meta->n_delegates; i++) {
    const char *id = et_method_meta_delegate(meta, i);
    PyObject *o = PyUnicode_DecodeUTF8(id ? id : "", id ? (Py_ssize_t)strlen(id) : 0,
                                       "replace");
    if (!o) goto fail;
    PyList_SET_ITEM(dels, (Py_ssize_t)i, o);
  }
  PyObject *r = PyStructSequence_New(g_MethodMeta);
  if (!r) goto fail;
  PyStructSequence_SET_ITEM(r, 0, name);
  PyStructSequence_SET_ITEM(r, 1, inputs);
  PyStructSequence_SET_ITEM(r, 2, outputs);
  PyStructSequence_SET_ITEM(r, 3, PyLong_FromSize_t(meta->n_planned));
  PyStructSequence_SET_ITEM(r, 4, planned);
  PyStructSequence_SET_ITEM(r, 5, PyLong_FromSize_t(meta->arena_bytes));
  PyStructSequence_SET_ITEM(r, 6, ops);
  PyStructSequence_SET_ITEM(r, 7, dels);
  PyStructSequence_SET_ITEM(r, 8, PyLong_FromSize_t(meta->n_instructions));
  PyStructSequence_SET_ITEM(r, 9, PyLong_FromSize_t(meta->n_values));
  for (int i = 0; i < 10; i++) {
    if (!PyStructSequence_GET_ITEM(r, i)) {
      /* Fill the hole so the dealloc is safe, then fail. */
      PyStructSequence_SET_ITEM(r, i, Py_NewRef(Py_None));
      Py_DECREF(r);
      return NULL;
    }
  }
  return r;
fail:
  Py_XDECREF(inputs);
  Py_XDECREF(outputs);
  Py_XDECREF(planned);
  Py_XDECREF(ops);
  Py_XDECREF(dels);
  Py_XDECREF(name);
  return NULL;
}

/* Program.metadata(name) */
static PyObject *Program_metadata(ProgramObject *self, PyObject *args,
                                  PyObject *kwargs) {
  static char *kwlist[] = {"name", NULL};
  const char *name = "forward";
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|s:metadata", kwlist, &name))
    return NULL;
  if (program_lock(self) < 0) return NULL;
  const et_program *prog = et_module_program(self->mod);
  et_method_meta meta;
  memset(&meta, 0, sizeof meta);
  et_diag diag;
  et_diag_clear(&diag);
  et_status st = et_program_method_meta(prog, name, et_module_registry(self->mod),
                                        &meta, &diag);
  PyObject *r;
  if (st != ET_OK) {
    const char *why = diag.message;
    r = (why && why[0]) ? raise_status_str(st, why)
                        : raise_status(st, "method '%s': no metadata", name);
  } else {
    r = meta_to_py(&meta);
  }
  program_unlock(self);
  return r;
}

/* Test hook for numeric-debugging tools: a kernel table, put in front of the
 * portable one, whose single kernel runs the portable kernel of the same
 * name and then adds `delta` to every element of its first Float output. */
#define MAX_PERTURBED 16
typedef struct perturbed {
  et_kernel kernel;
  et_kernel_table table;
  char name[128];
  double delta;
} perturbed;
static perturbed g_perturbed[MAX_PERTURBED];
static size_t g_n_perturbed;

static et_status perturbed_kernel(et_kernel_ctx *ctx, et_value **args) {
  const et_kernel *orig = et_kernel_table_find(&et_portable_kernels, ctx->op_name);
  double delta = 0;
  for (size_t i = 0; i < g_n_perturbed; i++)
    if (ctx->op_name == g_perturbed[i].kernel.name) /* this entry's name */
      delta = g_perturbed[i].delta;
  if (!orig) return ET_OPERATOR_MISSING;
  et_status st = orig->fn(ctx, args);
  if (st) return st;
  for (size_t a = 0; orig->sig[a]; a++) {
    if (orig->sig[a] != 'W') continue;
    et_tensor *t = args[a]->u.t;
    if (t->dtype == ET_FLOAT && t->data) {
      float *x = (float *)t->data;
      for (size_t k = 0; k < et_tensor_numel(t); k++) x[k] += (float)delta;
    }
    break;
  }
  return ET_OK;
}

/* Program._perturb_kernel(op_name, delta) */
static PyObject *Program_perturb_kernel(ProgramObject *self, PyObject *args) {
  const char *name;
  double delta;
  if (!PyArg_ParseTuple(args, "sd:_perturb_kernel", &name, &delta)) return NULL;
  const et_kernel *orig = et_kernel_table_find(&et_portable_kernels, name);
  if (!orig) return raise_status(ET_OPERATOR_MISSING, "no kernel '%s'", name);
  if (g_n_perturbed >= MAX_PERTURBED || strlen(name) >= sizeof g_perturbed[0].name)
    return raise_status(ET_OUT_OF_RESOURCES, "too many perturbed kernels");
  perturbed *p = &g_perturbed[g_n_perturbed];
  memcpy(p->name, name, strlen(name) + 1);
  p->delta = delta;
  p->kernel.name = p->name;
  p->kernel.sig = orig->sig;
  p->kernel.fn = perturbed_kernel;
  p->table.kernels = &p->kernel;
  p->table.count = 1;
  if (program_lock(self) < 0) return NULL;
  et_status st = et_module_add_kernels(self->mod, &p->table);
  program_unlock(self);
  if (st) return raise_status(st, "cannot add a kernel table");
  g_n_perturbed++;
  Py_RETURN_NONE;
}

/* Program.load_method(name="forward") */
static PyObject *Program_load_method(ProgramObject *self, PyObject *args,
                                     PyObject *kwargs) {
  static char *kwlist[] = {"name", "etdump", "debug_buffer", "thread_events",
                           NULL};
  PyObject *name_obj = NULL;
  int want_etdump = 0, want_debug = 0;
  Py_ssize_t n_thread_events = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|Uppn:load_method", kwlist,
                                   &name_obj, &want_etdump, &want_debug,
                                   &n_thread_events))
    return NULL;
  if (n_thread_events < 0 ||
      (size_t)n_thread_events > SIZE_MAX / sizeof(et_threadpool_event)) {
    PyErr_Format(PyExc_ValueError,
                 "load_method: thread_events must be 0 or more, got %zd",
                 n_thread_events);
    return NULL;
  }
  if (name_obj) Py_INCREF(name_obj);
  else if (!(name_obj = PyUnicode_FromString("forward"))) return NULL;
  const char *name = PyUnicode_AsUTF8(name_obj);
  if (!name) {
    Py_DECREF(name_obj);
    return NULL;
  }
  if (program_lock(self) < 0) {
    Py_DECREF(name_obj);
    return NULL;
  }
  et_method *m = NULL;
  et_diag diag;
  et_diag_clear(&diag);
  et_status st;
  Py_BEGIN_ALLOW_THREADS
  st = et_module_method(self->mod, name, &m, &diag);
  Py_END_ALLOW_THREADS
  program_unlock(self);
  if (st != ET_OK || !m) {
    Py_DECREF(name_obj);
    if (st == ET_OK) st = ET_INTERNAL;
    const char *hint = et_host_method_load_hint(st, diag.message);
    return diag.message[0]
               ? raise_status(st, "%s%s", diag.message, hint)
               : raise_status(st, "method '%s': cannot load%s", name, hint);
  }
  MethodObject *mo = PyObject_New(MethodObject, &Method_Type);
  if (!mo) {
    Py_DECREF(name_obj);
    return NULL;
  }
  mo->program = (ProgramObject *)Py_NewRef(self);
  mo->m = m;
  mo->name = name_obj;
  mo->etdump = NULL;
  mo->trec = NULL;
  mo->tev = NULL;
  if (want_etdump || want_debug) {
    if (!(mo->etdump = et_etdump_create())) {
      Py_DECREF(mo);
      return PyErr_NoMemory();
    }
    et_etdump_set_capture(mo->etdump, want_debug != 0);
  }
  if (n_thread_events > 0) {
    /* Both recorders read et_pal_time_ns: their events share a time line. */
    mo->tev = PyMem_RawCalloc((size_t)n_thread_events, sizeof *mo->tev);
    if (!mo->tev ||
        et_threadpool_recorder_create(mo->tev, (size_t)n_thread_events,
                                      &mo->trec) != ET_OK) {
      Py_DECREF(mo);
      return PyErr_NoMemory();
    }
  }
  return (PyObject *)mo;
}

static PyObject *Program_get_method_names(ProgramObject *self, void *c) {
  (void)c;
  return Py_NewRef(self->names);
}

static PyObject *Program_repr(ProgramObject *self) {
  return PyUnicode_FromFormat("<edgetorch.runtime.Program methods=%R>",
                              self->names);
}

static PyMethodDef Program_methods[] = {
    {"_perturb_kernel", (PyCFunction)Program_perturb_kernel, METH_VARARGS,
     "_perturb_kernel(op_name, delta): for testing numeric-debugging tools, "
     "run op_name's kernel then add delta to its Float output, in methods "
     "loaded afterwards."},
    {"load_method", (PyCFunction)(void (*)(void))Program_load_method,
     METH_VARARGS | METH_KEYWORDS,
     "load_method(name='forward', etdump=False, debug_buffer=False, "
     "thread_events=0) -> Method\n\nInitialize a method with heap "
     "memory sized from its metadata (done once per name). etdump: record "
     "every execute's events; debug_buffer: and intermediate outputs; "
     "thread_events: record, into a buffer of that many events, what the "
     "thread pool's threads run (Method.thread_events())."},
    {"metadata", (PyCFunction)(void (*)(void))Program_metadata,
     METH_VARARGS | METH_KEYWORDS,
     "metadata(name='forward') -> MethodMeta\n\nDescribe a method without "
     "loading it."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef Program_getset[] = {
    {"method_names", (getter)Program_get_method_names, NULL,
     "Names of the program's methods, in file order.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyTypeObject Program_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "edgetorch.runtime.Program",
    .tp_basicsize = sizeof(ProgramObject),
    .tp_dealloc = (destructor)Program_dealloc,
    .tp_repr = (reprfunc)Program_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A verified .pte program (made by load_program).",
    .tp_methods = Program_methods,
    .tp_getset = Program_getset,
};

/* ------------------------------------------------------------------------ */
/* Inputs                                                                    */

typedef enum { IN_TENSOR, IN_SCALAR, IN_SKIP } input_kind;

typedef struct staged {
  input_kind kind;
  int dtype;
  uint32_t rank;
  int64_t sizes[ET_MAX_RANK];
  const void *data;
  size_t nbytes;
  et_value scalar;
  /* What keeps `data` alive. */
  PyObject *keep;
  Py_buffer view;
  int has_view;
  dl_managed *dl;
  dl_managed_v *dl_v;
  void *heap;
} staged;

static void staged_release(staged *s) {
  if (s->has_view) PyBuffer_Release(&s->view);
  s->has_view = 0;
  if (s->dl && s->dl->deleter) s->dl->deleter(s->dl);
  s->dl = NULL;
  if (s->dl_v && s->dl_v->deleter) s->dl_v->deleter(s->dl_v);
  s->dl_v = NULL;
  free(s->heap);
  s->heap = NULL;
  Py_CLEAR(s->keep);
}

static PyObject *fail_input(size_t i, et_status st, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  PyObject *msg = PyUnicode_FromFormatV(fmt, ap);
  va_end(ap);
  if (!msg) return NULL;
  PyObject *r = raise_status(st, "input %zu: %U", i, msg);
  Py_DECREF(msg);
  return r;
}

/* Lay the input out the way the method's tensor stores it: compact, in the
 * tensor's dim order (row-major unless the program says otherwise, e.g.
 * channels-last), and aligned for the dtype. Data already laid out that way
 * is used in place; anything else is copied. `strides` (in elements) may be
 * NULL for compact row-major data; `want` (may be NULL) is the method's
 * input tensor. */
static int stage_finish(staged *s, size_t i, const int64_t *strides,
                        const et_tensor *want) {
  const uint32_t rank = s->rank;
  size_t esize = et_dtype_size(s->dtype);
  size_t numel = 1;
  for (uint32_t d = 0; d < rank; d++) {
    if (s->sizes[d] < 0) {
      fail_input(i, ET_INVALID_ARGUMENT, "negative size");
      return -1;
    }
    if (s->sizes[d] != 0 && numel > SIZE_MAX / (size_t)s->sizes[d]) {
      fail_input(i, ET_INVALID_ARGUMENT, "too many elements");
      return -1;
    }
    numel *= (size_t)s->sizes[d];
  }
  if (esize && numel > SIZE_MAX / esize) {
    fail_input(i, ET_INVALID_ARGUMENT, "too many bytes");
    return -1;
  }
  s->nbytes = numel * esize;

  int64_t src_strides[ET_MAX_RANK];
  if (strides) {
    memcpy(src_strides, strides, rank * sizeof *strides);
  } else {
    int64_t acc = 1;
    for (int32_t d = (int32_t)rank - 1; d >= 0; d--) {
      src_strides[d] = acc;
      acc *= s->sizes[d];
    }
  }
  /* Destination order: the method's dim order when it is a valid
   * permutation of the same rank (a rank mismatch is reported later). */
  uint8_t order[ET_MAX_RANK];
  for (uint32_t d = 0; d < rank; d++) order[d] = (uint8_t)d;
  if (want && want->rank == rank && want->dim_order) {
    unsigned seen = 0;
    int valid = 1;
    for (uint32_t d = 0; d < rank; d++) {
      uint8_t o = want->dim_order[d];
      if (o >= rank || (seen >> o) & 1u) valid = 0;
      else seen |= 1u << o;
    }
    if (valid) memcpy(order, want->dim_order, rank);
  }
  int64_t psizes[ET_MAX_RANK], pstrides[ET_MAX_RANK];
  for (uint32_t d = 0; d < rank; d++) {
    psizes[d] = s->sizes[order[d]];
    pstrides[d] = src_strides[order[d]];
  }
  int compact = et_host_is_compact(rank, psizes, pstrides);
  size_t align = esize ? (esize > 16 ? 16 : esize) : 1;
  int aligned = ((uintptr_t)s->data % align) == 0;
  if (compact && aligned) return 0;
  void *copy = malloc(s->nbytes ? s->nbytes : 1);
  if (!copy) {
    PyErr_NoMemory();
    return -1;
  }
  if (compact) {
    memcpy(copy, s->data, s->nbytes);
  } else {
    et_host_copy_strided(copy, NULL, s->data, pstrides, esize, rank, psizes);
  }
  free(s->heap);
  s->heap = copy;
  s->data = copy;
  return 0;
}

static int dl_to_et_dtype(dl_dtype t) {
  if (t.lanes != 1) return -1;
  switch (t.code) {
  case DL_FLOAT:
    return t.bits == 16 ? ET_HALF : t.bits == 32 ? ET_FLOAT
           : t.bits == 64 ? ET_DOUBLE : -1;
  case DL_BFLOAT: return t.bits == 16 ? ET_BFLOAT16 : -1;
  case DL_INT:
    return t.bits == 8 ? ET_CHAR : t.bits == 16 ? ET_SHORT
           : t.bits == 32 ? ET_INT : t.bits == 64 ? ET_LONG : -1;
  case DL_UINT:
    return t.bits == 8 ? ET_BYTE : t.bits == 16 ? ET_UINT16
           : t.bits == 32 ? ET_UINT32 : t.bits == 64 ? ET_UINT64 : -1;
  case DL_BOOL: return t.bits == 8 ? ET_BOOL : -1;
  case DL_COMPLEX:
    return t.bits == 32 ? ET_COMPLEX_HALF : t.bits == 64 ? ET_COMPLEX_FLOAT
           : t.bits == 128 ? ET_COMPLEX_DOUBLE : -1;
  case DL_FLOAT8_E4M3FN: return t.bits == 8 ? ET_FLOAT8E4M3FN : -1;
  case DL_FLOAT8_E4M3FNUZ: return t.bits == 8 ? ET_FLOAT8E4M3FNUZ : -1;
  case DL_FLOAT8_E5M2: return t.bits == 8 ? ET_FLOAT8E5M2 : -1;
  case DL_FLOAT8_E5M2FNUZ: return t.bits == 8 ? ET_FLOAT8E5M2FNUZ : -1;
  default: return -1;
  }
}

/* Consume a DLPack capsule (marking it used, as the protocol asks). */
static int stage_capsule(staged *s, PyObject *cap, size_t i,
                         const et_tensor *want) {
  dl_tensor *t;
  if (PyCapsule_IsValid(cap, "dltensor")) {
    dl_managed *mt = PyCapsule_GetPointer(cap, "dltensor");
    if (!mt || PyCapsule_SetName(cap, "used_dltensor") < 0) return -1;
    s->dl = mt;
    t = &mt->t;
  } else if (PyCapsule_IsValid(cap, "dltensor_versioned")) {
    dl_managed_v *mt = PyCapsule_GetPointer(cap, "dltensor_versioned");
    if (!mt || PyCapsule_SetName(cap, "used_dltensor_versioned") < 0) return -1;
    s->dl_v = mt;
    if (mt->version.major != 1) {
      fail_input(i, ET_NOT_SUPPORTED, "DLPack version %u.%u is not supported",
                 (unsigned)mt->version.major, (unsigned)mt->version.minor);
      return -1;
    }
    t = &mt->t;
  } else {
    fail_input(i, ET_INVALID_ARGUMENT,
               "capsule is not an unused DLPack tensor");
    return -1;
  }
  if (t->device.device_type != DL_CPU &&
      t->device.device_type != DL_CUDA_HOST) {
    fail_input(i, ET_NOT_SUPPORTED,
               "tensor is on DLPack device type %d; move it to the CPU",
               (int)t->device.device_type);
    return -1;
  }
  int dt = dl_to_et_dtype(t->dtype);
  if (dt < 0) {
    fail_input(i, ET_NOT_SUPPORTED,
               "DLPack dtype (code %d, bits %d, lanes %d) is not supported",
               (int)t->dtype.code, (int)t->dtype.bits, (int)t->dtype.lanes);
    return -1;
  }
  if (t->ndim < 0 || t->ndim > ET_MAX_RANK) {
    fail_input(i, ET_INVALID_ARGUMENT, "rank %d exceeds the limit of %d",
               (int)t->ndim, ET_MAX_RANK);
    return -1;
  }
  s->kind = IN_TENSOR;
  s->dtype = dt;
  s->rank = (uint32_t)t->ndim;
  for (int32_t d = 0; d < t->ndim; d++) s->sizes[d] = t->shape[d];
  s->data = (const uint8_t *)t->data + t->byte_offset;
  return stage_finish(s, i, t->strides, want);
}

/* A numpy array: dtype from the dtype table (ml_dtypes included), bytes
 * through the buffer protocol without a format string (numpy cannot spell
 * ml_dtypes' types in one). */
static int stage_ndarray(staged *s, PyObject *arr, size_t i,
                         const et_tensor *want) {
  PyObject *d = PyObject_GetAttr(arr, g_str_dtype);
  if (!d) return -1;
  int code;
  if (et_dtype_for_np(d, &code) < 0) {
    Py_DECREF(d);
    return -1;
  }
  if (code < 0) {
    /* Byte-swapped data of a known dtype: convert to native order. */
    PyObject *native = PyObject_CallMethod(d, "newbyteorder", "s", "=");
    int ncode = -1;
    if (native && et_dtype_for_np(native, &ncode) == 0 && ncode >= 0 &&
        PyObject_RichCompareBool(native, d, Py_EQ) == 0) {
      PyObject *conv = PyObject_CallMethod(arr, "astype", "O", native);
      Py_DECREF(native);
      Py_DECREF(d);
      if (!conv) return -1;
      int r = stage_ndarray(s, conv, i, want);
      Py_DECREF(conv);
      return r;
    }
    Py_XDECREF(native);
    PyErr_Clear();
    fail_input(i, ET_INVALID_ARGUMENT, "numpy dtype %R is not supported", d);
    Py_DECREF(d);
    return -1;
  }
  Py_DECREF(d);
  s->keep = Py_NewRef(arr);
  if (PyObject_GetBuffer(arr, &s->view, PyBUF_STRIDES) < 0)
    return -1;
  s->has_view = 1;
  if (s->view.ndim > ET_MAX_RANK) {
    fail_input(i, ET_INVALID_ARGUMENT, "rank %d exceeds the limit of %d",
               s->view.ndim, ET_MAX_RANK);
    return -1;
  }
  size_t esize = et_dtype_size(code);
  if (esize == 0 || (Py_ssize_t)esize != s->view.itemsize) {
    fail_input(i, ET_INVALID_ARGUMENT, "item size %zd does not match dtype %s",
               s->view.itemsize, et_dtype_name(code));
    return -1;
  }
  s->kind = IN_TENSOR;
  s->dtype = code;
  s->rank = (uint32_t)s->view.ndim;
  int64_t strides[ET_MAX_RANK];
  int byte_strides_ok = 1;
  for (int k = 0; k < s->view.ndim; k++) {
    s->sizes[k] = s->view.shape[k];
    Py_ssize_t bs = s->view.strides ? s->view.strides[k] : 0;
    if (bs % (Py_ssize_t)esize != 0) byte_strides_ok = 0;
    strides[k] = (int64_t)(bs / (Py_ssize_t)esize);
  }
  s->data = s->view.buf;
  if (!byte_strides_ok) {
    /* Strides that are not a multiple of the item size: let numpy copy. */
    PyBuffer_Release(&s->view);
    s->has_view = 0;
    PyObject *cp = PyObject_CallMethod(arr, "copy", NULL);
    if (!cp) return -1;
    Py_CLEAR(s->keep);
    int r = stage_ndarray(s, cp, i, want);
    Py_DECREF(cp);
    return r;
  }
  return stage_finish(s, i, s->view.strides ? strides : NULL, want);
}

/* struct-module format of a generic buffer -> et_dtype, or -1. */
static int format_to_et(const char *fmt, Py_ssize_t itemsize) {
  if (!fmt) return itemsize == 1 ? ET_BYTE : -1;
  if (*fmt == '<' || *fmt == '@' || *fmt == '=') fmt++;
  else if (*fmt == '>' || *fmt == '!') return -1; /* big-endian data */
  if (fmt[0] == 0 || fmt[1] != 0) return -1;
  switch (fmt[0]) {
  case 'e': return ET_HALF;
  case 'f': return ET_FLOAT;
  case 'd': return ET_DOUBLE;
  case '?': return ET_BOOL;
  case 'b': return ET_CHAR;
  case 'B': case 'c': return ET_BYTE;
  case 'h': return ET_SHORT;
  case 'H': return ET_UINT16;
  case 'i': case 'l': case 'q': case 'n':
    return itemsize == 4 ? ET_INT : itemsize == 8 ? ET_LONG : -1;
  case 'I': case 'L': case 'Q': case 'N':
    return itemsize == 4 ? ET_UINT32 : itemsize == 8 ? ET_UINT64 : -1;
  case 'Z': return -1;
  default: return -1;
  }
}

static int stage_buffer(staged *s, PyObject *obj, size_t i,
                        const et_tensor *want) {
  s->keep = Py_NewRef(obj);
  if (PyObject_GetBuffer(obj, &s->view, PyBUF_RECORDS_RO) < 0) return -1;
  s->has_view = 1;
  int code = format_to_et(s->view.format, s->view.itemsize);
  if (code < 0 || (Py_ssize_t)et_dtype_size(code) != s->view.itemsize) {
    fail_input(i, ET_INVALID_ARGUMENT,
               "buffer format '%s' (item size %zd) is not supported",
               s->view.format ? s->view.format : "B", s->view.itemsize);
    return -1;
  }
  if (s->view.ndim > ET_MAX_RANK) {
    fail_input(i, ET_INVALID_ARGUMENT, "rank %d exceeds the limit of %d",
               s->view.ndim, ET_MAX_RANK);
    return -1;
  }
  s->kind = IN_TENSOR;
  s->dtype = code;
  s->rank = (uint32_t)s->view.ndim;
  s->data = s->view.buf;
  for (int k = 0; k < s->view.ndim; k++) s->sizes[k] = s->view.shape[k];
  if (s->rank == 0 && s->view.shape == NULL && s->view.len != s->view.itemsize) {
    /* A 1-D buffer exported without shape: its length in items. */
    s->rank = 1;
    s->sizes[0] = s->view.len / s->view.itemsize;
  }
  if (!PyBuffer_IsContiguous(&s->view, 'C') ||
      ((uintptr_t)s->view.buf % (uintptr_t)s->view.itemsize) != 0) {
    void *copy = malloc(s->view.len ? (size_t)s->view.len : 1);
    if (!copy) {
      PyErr_NoMemory();
      return -1;
    }
    if (PyBuffer_ToContiguous(copy, &s->view, s->view.len, 'C') < 0) {
      free(copy);
      return -1;
    }
    s->heap = copy;
    s->data = copy;
  }
  return stage_finish(s, i, NULL, want);
}


/* Turn a Python scalar (or a one-element array/tensor) into an et_value of
 * the tag the method expects. */
static int stage_scalar(staged *s, PyObject *obj, uint32_t tag, size_t i) {
  PyObject *v = Py_NewRef(obj);
  if (!PyBool_Check(v) && !PyLong_Check(v) && !PyFloat_Check(v) &&
      PyObject_HasAttr(v, g_str_item)) {
    PyObject *it = PyObject_CallMethodNoArgs(v, g_str_item);
    Py_DECREF(v);
    if (!it) return -1;
    v = it;
  }
  s->kind = IN_SCALAR;
  int rc = 0;
  switch (tag) {
  case ET_TAG_BOOL:
    if (!PyBool_Check(v)) {
      fail_input(i, ET_INVALID_ARGUMENT, "expected a bool, got %s",
                 Py_TYPE(v)->tp_name);
      rc = -1;
      break;
    }
    s->scalar.tag = ET_TAG_BOOL;
    s->scalar.u.b = v == Py_True;
    break;
  case ET_TAG_INT: {
    if (PyBool_Check(v) || !PyLong_Check(v)) {
      fail_input(i, ET_INVALID_ARGUMENT, "expected an int, got %s",
                 Py_TYPE(v)->tp_name);
      rc = -1;
      break;
    }
    long long x = PyLong_AsLongLong(v);
    if (x == -1 && PyErr_Occurred()) {
      rc = -1;
      break;
    }
    s->scalar.tag = ET_TAG_INT;
    s->scalar.u.i = (int64_t)x;
    break;
  }
  case ET_TAG_DOUBLE: {
    if (PyBool_Check(v) || !(PyFloat_Check(v) || PyLong_Check(v))) {
      fail_input(i, ET_INVALID_ARGUMENT, "expected a float, got %s",
                 Py_TYPE(v)->tp_name);
      rc = -1;
      break;
    }
    double x = PyFloat_AsDouble(v);
    if (x == -1.0 && PyErr_Occurred()) {
      rc = -1;
      break;
    }
    s->scalar.tag = ET_TAG_DOUBLE;
    s->scalar.u.d = x;
    break;
  }
  default:
    fail_input(i, ET_NOT_SUPPORTED, "inputs of kind %s cannot be set",
               et_tag_name((int)tag));
    rc = -1;
  }
  Py_DECREF(v);
  return rc;
}

static int stage_input(staged *s, PyObject *obj, const et_value *expected,
                       size_t i) {
  uint32_t tag = expected ? expected->tag : ET_TAG_TENSOR;
  if (tag == ET_TAG_NONE) {
    if (obj != Py_None) {
      fail_input(i, ET_INVALID_ARGUMENT, "this input is None; pass None");
      return -1;
    }
    s->kind = IN_SKIP;
    return 0;
  }
  if (tag != ET_TAG_TENSOR) return stage_scalar(s, obj, tag, i);
  const et_tensor *want = expected ? expected->u.t : NULL;

  if (PyCapsule_CheckExact(obj)) return stage_capsule(s, obj, i, want);
  int is_nd = PyObject_IsInstance(obj, g_ndarray);
  if (is_nd < 0) return -1;
  if (is_nd) return stage_ndarray(s, obj, i, want);
  if (PyObject_HasAttr(obj, g_str_dlpack)) {
    /* A torch tensor (or another DLPack producer). Gradients and devices
     * would make __dlpack__ refuse, so detach and move to the CPU first. */
    PyObject *t = Py_NewRef(obj);
    if (PyObject_HasAttr(t, g_str_detach)) {
      PyObject *u = PyObject_CallMethodNoArgs(t, g_str_detach);
      Py_DECREF(t);
      if (!u) return -1;
      t = u;
    }
    if (PyObject_HasAttr(t, g_str_cpu)) {
      PyObject *u = PyObject_CallMethodNoArgs(t, g_str_cpu);
      Py_DECREF(t);
      if (!u) return -1;
      t = u;
    }
    PyObject *cap = PyObject_CallMethodNoArgs(t, g_str_dlpack);
    if (!cap) {
      Py_DECREF(t);
      return -1;
    }
    s->keep = t; /* the producer stays alive while we read its memory */
    int r = stage_capsule(s, cap, i, want);
    Py_DECREF(cap);
    return r;
  }
  if (PyObject_CheckBuffer(obj)) return stage_buffer(s, obj, i, want);

  /* Lists, Python scalars, objects with __array__: numpy converts them to
   * the dtype the method expects. */
  PyObject *np_dtype = want ? np_dtype_for(want->dtype) : NULL;
  PyObject *arr = np_dtype ? PyObject_CallFunctionObjArgs(g_np_asarray, obj,
                                                          np_dtype, NULL)
                           : PyObject_CallOneArg(g_np_asarray, obj);
  if (!arr) return -1;
  int r = stage_ndarray(s, arr, i, want);
  Py_DECREF(arr);
  return r;
}

/* ------------------------------------------------------------------------ */
/* Outputs                                                                   */

static PyObject *tensor_to_numpy(const et_tensor *t, size_t i) {
  PyObject *d = np_dtype_for(t->dtype);
  if (!d) {
    return raise_status(ET_NOT_SUPPORTED,
                        "output %zu has dtype %s, which numpy cannot hold", i,
                        et_dtype_name(t->dtype));
  }
  if (t->rank > ET_MAX_RANK) {
    return raise_status(ET_INTERNAL, "output %zu has rank %u", i,
                        (unsigned)t->rank);
  }
  PyObject *shape = PyTuple_New(t->rank);
  if (!shape) return NULL;
  int64_t sizes[ET_MAX_RANK];
  for (uint32_t k = 0; k < t->rank; k++) {
    sizes[k] = t->sizes[k];
    PyObject *n = PyLong_FromLong(t->sizes[k]);
    if (!n) {
      Py_DECREF(shape);
      return NULL;
    }
    PyTuple_SET_ITEM(shape, k, n);
  }
  PyObject *arr = PyObject_CallFunctionObjArgs(g_np_empty, shape, d, NULL);
  Py_DECREF(shape);
  if (!arr) return NULL;
  Py_buffer view;
  if (PyObject_GetBuffer(arr, &view, PyBUF_CONTIG) < 0) {
    Py_DECREF(arr);
    return NULL;
  }
  size_t nbytes = et_tensor_nbytes(t);
  if ((size_t)view.len != nbytes) {
    PyBuffer_Release(&view);
    Py_DECREF(arr);
    return raise_status(ET_INTERNAL, "output %zu: %zu bytes, numpy expects %zd",
                        i, nbytes, view.len);
  }
  if (nbytes) {
    if (!t->data) {
      PyBuffer_Release(&view);
      Py_DECREF(arr);
      return raise_status(ET_INTERNAL, "output %zu has no data", i);
    }
    if (et_tensor_is_contiguous(t) || !t->strides) {
      memcpy(view.buf, t->data, nbytes);
    } else {
      et_host_copy_strided(view.buf, NULL, t->data, t->strides,
                           et_dtype_size(t->dtype), t->rank, sizes);
    }
  }
  PyBuffer_Release(&view);
  return arr;
}

static PyObject *value_to_py(const et_value *v, size_t i) {
  if (!v) return Py_NewRef(Py_None);
  switch (v->tag) {
  case ET_TAG_NONE: return Py_NewRef(Py_None);
  case ET_TAG_TENSOR:
    if (!v->u.t) return raise_status(ET_INTERNAL, "output %zu: no tensor", i);
    return tensor_to_numpy(v->u.t, i);
  case ET_TAG_INT: return PyLong_FromLongLong(v->u.i);
  case ET_TAG_DOUBLE: return PyFloat_FromDouble(v->u.d);
  case ET_TAG_BOOL: return PyBool_FromLong(v->u.b);
  case ET_TAG_STRING:
    return PyUnicode_DecodeUTF8(v->u.str.ptr, (Py_ssize_t)v->u.str.len,
                                "replace");
  case ET_TAG_LIST_INT:
  case ET_TAG_LIST_DOUBLE:
  case ET_TAG_LIST_BOOL:
  case ET_TAG_LIST_TENSOR:
  case ET_TAG_LIST_OPTIONAL_TENSOR: {
    size_t n = v->tag == ET_TAG_LIST_INT       ? v->u.ilist.len
               : v->tag == ET_TAG_LIST_DOUBLE ? v->u.dlist.len
               : v->tag == ET_TAG_LIST_BOOL   ? v->u.blist.len
                                               : v->u.tlist.len;
    PyObject *list = PyList_New((Py_ssize_t)n);
    if (!list) return NULL;
    for (size_t k = 0; k < n; k++) {
      PyObject *o;
      switch (v->tag) {
      case ET_TAG_LIST_INT: o = PyLong_FromLongLong(et_int_list_get(v, k)); break;
      case ET_TAG_LIST_DOUBLE: o = PyFloat_FromDouble(et_double_list_get(v, k)); break;
      case ET_TAG_LIST_BOOL: o = PyBool_FromLong(v->u.blist.items[k]); break;
      default: o = value_to_py(v->u.tlist.items[k], i); break;
      }
      if (!o) {
        Py_DECREF(list);
        return NULL;
      }
      PyList_SET_ITEM(list, (Py_ssize_t)k, o);
    }
    return list;
  }
  default:
    return raise_status(ET_NOT_SUPPORTED, "output %zu has kind %s", i,
                        et_tag_name((int)v->tag));
  }
}

/* ------------------------------------------------------------------------ */
/* Method                                                                    */

static void Method_dealloc(MethodObject *self) {
  et_etdump_free(self->etdump);
  et_threadpool_recorder_destroy(self->trec);
  PyMem_RawFree(self->tev);
  Py_XDECREF(self->name);
  Py_XDECREF(self->program);
  PyObject_Free(self);
}

static PyObject *Method_execute(MethodObject *self, PyObject *args,
                                PyObject *kwargs) {
  static char *kwlist[] = {"inputs", NULL};
  PyObject *inputs = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:execute", kwlist, &inputs))
    return NULL;
  if (inputs && (PyUnicode_Check(inputs) || PyBytes_Check(inputs) ||
                 PyObject_HasAttr(inputs, g_str_dlpack) ||
                 PyObject_IsInstance(inputs, g_ndarray) == 1)) {
    PyErr_SetString(PyExc_TypeError,
                    "execute() takes a sequence of inputs (a list or tuple); "
                    "wrap a single tensor as [x]");
    return NULL;
  }
  PyObject *seq = inputs ? PySequence_Fast(inputs,
                                           "execute() expects a sequence of inputs")
                         : PyTuple_New(0);
  if (!seq) return NULL;
  ProgramObject *prog = self->program;
  et_method *m = self->m;
  Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
  size_t expected = et_method_input_count(m);
  if ((size_t)n != expected) {
    Py_DECREF(seq);
    return raise_status(ET_INVALID_ARGUMENT,
                        "method '%U' takes %zu input%s, got %zd", self->name,
                        expected, expected == 1 ? "" : "s", n);
  }
  staged *st = PyMem_Calloc((size_t)n ? (size_t)n : 1, sizeof *st);
  if (!st) {
    Py_DECREF(seq);
    return PyErr_NoMemory();
  }
  PyObject *result = NULL;
  Py_ssize_t staged_n = 0;
  for (; staged_n < n; staged_n++) {
    /* A value's tag never changes after init, so reading it needs no lock. */
    const et_value *iv = et_method_input(m, (size_t)staged_n);
    if (stage_input(&st[staged_n], PySequence_Fast_GET_ITEM(seq, staged_n), iv,
                    (size_t)staged_n) < 0) {
      staged_n++; /* release this one too */
      goto out;
    }
  }

  if (program_lock(prog) < 0) goto out;
  et_status status = ET_OK;
  size_t failed_input = SIZE_MAX;
  shared_pool *pool = pool_acquire();
  et_method_set_parallel(
      m, !pool        ? NULL
         : self->trec ? et_threadpool_recorder_hook(self->trec, pool->tp)
                      : et_threadpool_parallel(pool->tp));
  Py_BEGIN_ALLOW_THREADS
  for (Py_ssize_t k = 0; k < n && status == ET_OK; k++) {
    staged *s = &st[k];
    if (s->kind == IN_TENSOR) {
      status = et_method_set_input_tensor(m, (size_t)k, s->dtype, s->rank,
                                          s->sizes, s->data, s->nbytes);
    } else if (s->kind == IN_SCALAR) {
      status = et_method_set_input_value(m, (size_t)k, &s->scalar);
    }
    if (status != ET_OK) failed_input = (size_t)k;
  }
  if (status == ET_OK)
    status = self->etdump ? et_etdump_execute(self->etdump, m)
                          : et_method_execute(m);
  Py_END_ALLOW_THREADS
  et_method_set_parallel(m, NULL);
  pool_release(pool);
  if (status != ET_OK) {
    const char *why = et_method_message(m);
    if (!why) why = "";
    /* The runtime's messages name the input or instruction themselves. */
    if (why[0])
      raise_status(status, "method '%U': %s", self->name, why);
    else if (failed_input != SIZE_MAX)
      raise_status(status, "method '%U': input %zu rejected", self->name,
                   failed_input);
    else
      raise_status(status, "method '%U': execution failed", self->name);
    program_unlock(prog);
    goto out;
  }
  /* Outputs point into the method: copy them while the lock is held. */
  size_t n_out = et_method_output_count(m);
  result = PyList_New((Py_ssize_t)n_out);
  for (size_t k = 0; result && k < n_out; k++) {
    PyObject *o = value_to_py(et_method_output(m, k), k);
    if (!o) {
      Py_CLEAR(result);
      break;
    }
    PyList_SET_ITEM(result, (Py_ssize_t)k, o);
  }
  program_unlock(prog);
out:
  for (Py_ssize_t k = 0; k < staged_n; k++) staged_release(&st[k]);
  PyMem_Free(st);
  Py_DECREF(seq);
  return result;
}

static PyObject *Method_call(MethodObject *self, PyObject *args,
                             PyObject *kwargs) {
  if (kwargs && PyDict_GET_SIZE(kwargs)) {
    PyErr_SetString(PyExc_TypeError, "Method() takes positional inputs only");
    return NULL;
  }
  PyObject *t = PyTuple_Pack(1, args);
  if (!t) return NULL;
  PyObject *r = Method_execute(self, t, NULL);
  Py_DECREF(t);
  return r;
}

static PyObject *Method_get_metadata(MethodObject *self, void *c) {
  (void)c;
  if (program_lock(self->program) < 0) return NULL;
  PyObject *r = meta_to_py(et_method_get_meta(self->m));
  program_unlock(self->program);
  return r;
}

static PyObject *Method_get_name(MethodObject *self, void *c) {
  (void)c;
  return Py_NewRef(self->name);
}

static PyObject *Method_get_program(MethodObject *self, void *c) {
  (void)c;
  return Py_NewRef((PyObject *)self->program);
}

static PyObject *Method_get_num_inputs(MethodObject *self, void *c) {
  (void)c;
  return PyLong_FromSize_t(et_method_input_count(self->m));
}

static PyObject *Method_get_num_outputs(MethodObject *self, void *c) {
  (void)c;
  return PyLong_FromSize_t(et_method_output_count(self->m));
}

static PyObject *Method_get_executions(MethodObject *self, void *c) {
  (void)c;
  if (program_lock(self->program) < 0) return NULL;
  et_method_stats s = et_method_get_stats(self->m);
  program_unlock(self->program);
  return PyLong_FromUnsignedLongLong(s.executions);
}

/* Method.default_inputs(max_bytes=256 MiB, how_input=..., how_limit=...):
 * the inputs edgetorch-run generates (host_tensor.h), as a list of numpy
 * arrays (C order) and traced scalars. */
static PyObject *Method_default_inputs(MethodObject *self, PyObject *args,
                                       PyObject *kwargs) {
  static char *kwlist[] = {"max_bytes", "how_input", "how_limit", NULL};
  Py_ssize_t max_bytes = (Py_ssize_t)ET_HOST_MAX_GENERATED_BYTES;
  const char *how_input = "explicit inputs";
  const char *how_limit = "max_bytes";
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|$nss:default_inputs",
                                   kwlist, &max_bytes, &how_input, &how_limit))
    return NULL;
  if (max_bytes < 0) {
    PyErr_SetString(PyExc_ValueError, "default_inputs: max_bytes < 0");
    return NULL;
  }
  if (program_lock(self->program) < 0) return NULL;
  const et_method_meta meta = *et_method_get_meta(self->m);
  program_unlock(self->program);
  PyObject *list = PyList_New((Py_ssize_t)meta.n_inputs);
  if (!list) return NULL;
  uint64_t seed = ET_HOST_GEN_SEED;
  for (size_t i = 0; i < meta.n_inputs; i++) {
    et_io_info io;
    memset(&io, 0, sizeof io);
    et_status st = et_method_meta_input(&meta, i, &io);
    PyObject *o = NULL;
    if (st != ET_OK) {
      raise_status(st, "method '%U': input %zu has no metadata", self->name, i);
    } else if (io.tag == ET_TAG_TENSOR) {
      int64_t sizes[ET_MAX_RANK];
      size_t numel = 0, nbytes = 0;
      et_diag diag;
      et_diag_clear(&diag);
      st = et_host_default_input_size(&io.tensor, i, (size_t)max_bytes,
                                      how_input, how_limit, sizes, &numel,
                                      &nbytes, &diag);
      PyObject *d = np_dtype_for(io.tensor.dtype);
      if (st != ET_OK) {
        raise_status_str(st, diag.message);
      } else if (!d) {
        raise_status(ET_NOT_SUPPORTED, "input %zu has dtype %s, which numpy "
                     "cannot hold", i, et_dtype_name(io.tensor.dtype));
      } else {
        PyObject *shape = PyTuple_New(io.tensor.rank);
        for (uint32_t k = 0; shape && k < io.tensor.rank; k++) {
          PyObject *n = PyLong_FromLongLong((long long)sizes[k]);
          if (!n) Py_CLEAR(shape);
          else PyTuple_SET_ITEM(shape, k, n);
        }
        PyObject *arr = shape ? PyObject_CallFunctionObjArgs(g_np_empty, shape,
                                                             d, NULL)
                              : NULL;
        Py_XDECREF(shape);
        Py_buffer view;
        if (arr && PyObject_GetBuffer(arr, &view, PyBUF_CONTIG) == 0) {
          if ((size_t)view.len == nbytes) {
            et_host_fill_default(view.buf, io.tensor.dtype, numel, &seed);
            o = arr;
          } else {
            raise_status(ET_INTERNAL, "input %zu: %zu bytes, numpy made %zd",
                         i, nbytes, view.len);
            Py_DECREF(arr);
          }
          PyBuffer_Release(&view);
        } else {
          Py_XDECREF(arr);
        }
      }
    } else if (io.tag == ET_TAG_INT) {
      o = PyLong_FromLongLong(io.scalar.i);
    } else if (io.tag == ET_TAG_DOUBLE) {
      o = PyFloat_FromDouble(io.scalar.d);
    } else if (io.tag == ET_TAG_BOOL) {
      o = PyBool_FromLong(io.scalar.b);
    } else {
      o = Py_NewRef(Py_None);
    }
    if (!o) {
      Py_DECREF(list);
      return NULL;
    }
    PyList_SET_ITEM(list, (Py_ssize_t)i, o);
  }
  return list;
}

static PyObject *Method_repr(MethodObject *self) {
  return PyUnicode_FromFormat("<edgetorch.runtime.Method %R>", self->name);
}

static int need_etdump(MethodObject *self) {
  if (self->etdump) return 0;
  PyErr_SetString(PyExc_RuntimeError,
                  "this method records no events: load it with "
                  "load_method(name, etdump=True)");
  return -1;
}

/* Method.write_etdump(path, debug_buffer_path=None) */
static PyObject *Method_write_etdump(MethodObject *self, PyObject *args,
                                     PyObject *kwargs) {
  static char *kwlist[] = {"path", "debug_buffer_path", NULL};
  PyObject *path = NULL, *dpath = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&|O&:write_etdump", kwlist,
                                   PyUnicode_FSConverter, &path,
                                   PyUnicode_FSConverter, &dpath))
    return NULL;
  PyObject *r = NULL;
  if (need_etdump(self) == 0) {
    et_diag diag;
    et_diag_clear(&diag);
    et_status st = et_etdump_write(self->etdump, PyBytes_AS_STRING(path),
                                   dpath ? PyBytes_AS_STRING(dpath) : NULL,
                                   &diag);
    r = st ? raise_status_str(st, diag.message) : Py_NewRef(Py_None);
  }
  Py_XDECREF(path);
  Py_XDECREF(dpath);
  return r;
}

/* Method.etdump_bytes() -> (etdump bytes, debug buffer bytes) */
static PyObject *Method_etdump_bytes(MethodObject *self, PyObject *unused) {
  (void)unused;
  if (need_etdump(self) < 0) return NULL;
  uint8_t *bytes;
  size_t size, dsize;
  et_status st = et_etdump_serialize(self->etdump, &bytes, &size);
  if (st) return raise_status(st, "ETDump: out of memory");
  const uint8_t *dbg = et_etdump_debug_buffer(self->etdump, &dsize);
  PyObject *r = Py_BuildValue("(y#y#)", (const char *)bytes, (Py_ssize_t)size,
                              dbg ? (const char *)dbg : "", (Py_ssize_t)dsize);
  free(bytes);
  return r;
}

/* Method.profile_events() -> [(run, block, name, delegate, chain,
 * instruction, delegate_debug_id, start_ns, end_ns, nth)] */
static PyObject *Method_profile_events(MethodObject *self, PyObject *unused) {
  (void)unused;
  if (need_etdump(self) < 0) return NULL;
  PyObject *list = PyList_New(0);
  size_t n = et_etdump_event_count(self->etdump);
  for (size_t i = 0; list && i < n; i++) {
    et_etdump_event e;
    if (!et_etdump_event_get(self->etdump, i, &e)) continue;
    PyObject *t = Py_BuildValue("(IszziiiKKI)", e.run, e.block, e.name,
                                e.delegate_name, e.chain, e.instruction,
                                e.delegate_debug_id,
                                (unsigned long long)e.start,
                                (unsigned long long)e.end, e.nth);
    if (!t || PyList_Append(list, t) < 0) Py_CLEAR(list);
    Py_XDECREF(t);
  }
  return list;
}

/* Method.debug_values() -> [(run, chain, instruction, tag, dtype, sizes,
 * offset, scalar, delegate_debug_id, delegate_name)]: the captured values;
 * tensors as offsets into etdump_bytes()[1]; a backend node's output has
 * delegate_debug_id >= 0 or, for a node without an id, its name. */
static PyObject *Method_debug_values(MethodObject *self, PyObject *unused) {
  (void)unused;
  if (need_etdump(self) < 0) return NULL;
  PyObject *list = PyList_New(0);
  size_t n = et_etdump_event_count(self->etdump);
  for (size_t i = 0; list && i < n; i++) {
    et_etdump_debug e;
    if (!et_etdump_debug_get(self->etdump, i, &e)) continue;
    PyObject *sizes = PyTuple_New((Py_ssize_t)e.rank);
    for (uint32_t k = 0; sizes && k < e.rank; k++)
      PyTuple_SET_ITEM(sizes, k, PyLong_FromLongLong(e.sizes[k]));
    PyObject *scalar = e.tag == ET_TAG_DOUBLE ? PyFloat_FromDouble(e.d)
                       : e.tag == ET_TAG_BOOL ? PyBool_FromLong((long)e.i)
                                              : PyLong_FromLongLong(e.i);
    PyObject *t = sizes && scalar
                      ? Py_BuildValue("(IiiiiOLOiz)", e.run, e.chain,
                                      e.instruction, e.tag, e.dtype, sizes,
                                      (long long)e.offset, scalar,
                                      (int)e.delegate_debug_id,
                                      e.delegate_name)
                      : NULL;
    Py_XDECREF(sizes);
    Py_XDECREF(scalar);
    if (!t || PyList_Append(list, t) < 0) Py_CLEAR(list);
    Py_XDECREF(t);
  }
  return list;
}

static PyObject *Method_reset_etdump(MethodObject *self, PyObject *unused) {
  (void)unused;
  if (!self->trec && need_etdump(self) < 0) return NULL;
  if (program_lock(self->program) < 0) return NULL;
  if (self->etdump) et_etdump_reset(self->etdump);
  et_threadpool_recorder_reset(self->trec);
  program_unlock(self->program);
  Py_RETURN_NONE;
}

/* Method.thread_events() -> ([(kind, call, thread, start_ns, end_ns, begin,
 * end, serial)], dropped) */
static PyObject *Method_thread_events(MethodObject *self, PyObject *unused) {
  (void)unused;
  if (!self->trec) {
    PyErr_SetString(PyExc_RuntimeError,
                    "this method records no thread events: load it with "
                    "load_method(name, thread_events=N)");
    return NULL;
  }
  /* Not while an execute (on another Python thread) is adding events. */
  if (program_lock(self->program) < 0) return NULL;
  size_t n = et_threadpool_recorder_count(self->trec);
  unsigned long long dropped = et_threadpool_recorder_dropped(self->trec);
  PyObject *list = PyList_New((Py_ssize_t)n);
  for (size_t i = 0; list && i < n; i++) {
    const et_threadpool_event *e = et_threadpool_recorder_event(self->trec, i);
    PyObject *t = Py_BuildValue(
        "(sKIKKnnO)", e->kind == ET_THREADPOOL_CALL ? "call" : "chunk",
        (unsigned long long)e->call, (unsigned)e->thread,
        (unsigned long long)e->start, (unsigned long long)e->end,
        (Py_ssize_t)e->begin, (Py_ssize_t)e->end_index,
        e->serial ? Py_True : Py_False);
    if (!t) {
      Py_CLEAR(list);
      break;
    }
    PyList_SET_ITEM(list, (Py_ssize_t)i, t);
  }
  program_unlock(self->program);
  if (!list) return NULL;
  PyObject *r = Py_BuildValue("(NK)", list, dropped);
  return r;
}

static PyMethodDef Method_methods[] = {
    {"write_etdump", (PyCFunction)(void (*)(void))Method_write_etdump,
     METH_VARARGS | METH_KEYWORDS,
     "write_etdump(path, debug_buffer_path=None)\n\nWrite the events of "
     "every execute since load_method(..., etdump=True) as an ETDump file "
     "(upstream's Inspector reads it) and, if given, the debug buffer of "
     "captured intermediate outputs (load_method(..., debug_buffer=True))."},
    {"etdump_bytes", (PyCFunction)Method_etdump_bytes, METH_NOARGS,
     "etdump_bytes() -> (etdump, debug_buffer): the same as bytes."},
    {"profile_events", (PyCFunction)Method_profile_events, METH_NOARGS,
     "profile_events() -> list of (run, block, name, delegate_name, chain, "
     "instruction, delegate_debug_id, start_ns, end_ns, nth); nth: for a "
     "backend node, k in its ETDump event name '<delegate_name> #k'."},
    {"debug_values", (PyCFunction)Method_debug_values, METH_NOARGS,
     "debug_values() -> list of (run, chain, instruction, tag, dtype, sizes, "
     "offset, scalar, delegate_debug_id, delegate_name): values captured with "
     "load_method(..., "
     "debug_buffer=True); tensor bytes at offset in etdump_bytes()[1]."},
    {"reset_etdump", (PyCFunction)Method_reset_etdump, METH_NOARGS,
     "reset_etdump(): forget the recorded events (thread events too)."},
    {"thread_events", (PyCFunction)Method_thread_events, METH_NOARGS,
     "thread_events() -> (events, dropped): what the thread pool ran during "
     "the executes since load_method(..., thread_events=N) or reset_etdump(): "
     "(kind 'call' or 'chunk', call number, thread (0: the executing thread, "
     "k: worker k), start_ns, end_ns, begin, end, serial), on the clock of "
     "profile_events(); dropped: events that did not fit in N."},
    {"execute", (PyCFunction)(void (*)(void))Method_execute,
     METH_VARARGS | METH_KEYWORDS,
     "execute(inputs) -> list\n\nRun the method once. `inputs` is a sequence "
     "of numpy arrays, torch tensors, DLPack capsules, buffers or Python "
     "scalars. Returns copies of the outputs (numpy arrays, or Python scalars)."},
    {"default_inputs", (PyCFunction)(void (*)(void))Method_default_inputs,
     METH_VARARGS | METH_KEYWORDS,
     "default_inputs(*, max_bytes=256 MiB, how_input=..., how_limit=...) -> "
     "list\n\nThe inputs edgetorch-run generates when given none: numpy "
     "arrays at the upper-bound sizes filled from one documented xorshift "
     "stream (see `edgetorch-run --help`), and the traced value of each "
     "scalar input. An input above max_bytes raises EdgetorchError "
     "(OutOfResources) naming it; how_input and how_limit complete the "
     "message's advice."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef Method_getset[] = {
    {"name", (getter)Method_get_name, NULL, "method name", NULL},
    {"program", (getter)Method_get_program, NULL, "the owning Program", NULL},
    {"metadata", (getter)Method_get_metadata, NULL, "MethodMeta", NULL},
    {"num_inputs", (getter)Method_get_num_inputs, NULL, "number of inputs", NULL},
    {"num_outputs", (getter)Method_get_num_outputs, NULL, "number of outputs",
     NULL},
    {"executions", (getter)Method_get_executions, NULL,
     "how many times the method ran", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyTypeObject Method_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "edgetorch.runtime.Method",
    .tp_basicsize = sizeof(MethodObject),
    .tp_dealloc = (destructor)Method_dealloc,
    .tp_repr = (reprfunc)Method_repr,
    .tp_call = (ternaryfunc)Method_call,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "An initialized method of a Program (made by "
              "Program.load_method). Calling it runs execute(args).",
    .tp_methods = Method_methods,
    .tp_getset = Method_getset,
};

/* ------------------------------------------------------------------------ */
/* Module                                                                    */

static PyObject *rt_kernel_names(PyObject *self, PyObject *unused) {
  (void)self;
  (void)unused;
  const et_kernel_table *tables[8];
  size_t n = et_module_default_kernel_tables(tables, 8);
  if (n > 8) n = 8;
  /* Every table a loaded method searches, in order, each name once. */
  PyObject *seen = PySet_New(NULL);
  PyObject *r = PyList_New(0);
  if (!seen || !r) goto fail;
  for (size_t k = 0; k < n; k++) {
    for (size_t i = 0; i < tables[k]->count; i++) {
      PyObject *s = PyUnicode_FromString(tables[k]->kernels[i].name);
      if (!s) goto fail;
      int has = PySet_Contains(seen, s);
      if (has < 0 || (!has && (PySet_Add(seen, s) < 0 ||
                               PyList_Append(r, s) < 0))) {
        Py_DECREF(s);
        goto fail;
      }
      Py_DECREF(s);
    }
  }
  Py_DECREF(seen);
  PyObject *t = PyList_AsTuple(r);
  Py_DECREF(r);
  return t;
fail:
  Py_XDECREF(seen);
  Py_XDECREF(r);
  return NULL;
}

static PyObject *rt_backend_names(PyObject *self, PyObject *unused) {
  (void)self;
  (void)unused;
  const et_backend *b[ET_MODULE_MAX_BACKENDS];
  size_t n = et_module_default_backends(b, ET_MODULE_MAX_BACKENDS);
  if (n > ET_MODULE_MAX_BACKENDS) n = ET_MODULE_MAX_BACKENDS;
  PyObject *r = PyTuple_New((Py_ssize_t)n);
  for (size_t i = 0; r && i < n; i++) {
    PyObject *s = PyUnicode_FromString(b[i]->id ? b[i]->id : "");
    if (!s) {
      Py_CLEAR(r);
      break;
    }
    PyTuple_SET_ITEM(r, (Py_ssize_t)i, s);
  }
  return r;
}

static PyObject *rt_dtype_name(PyObject *self, PyObject *arg) {
  (void)self;
  long code = PyLong_AsLong(arg);
  if (code == -1 && PyErr_Occurred()) return NULL;
  return PyUnicode_FromString(et_dtype_name((int)code));
}

/* file_kind(head: bytes) -> "pte" | "bpte" | "ptd" | "etdump" | None */
static PyObject *rt_file_kind(PyObject *self, PyObject *arg) {
  (void)self;
  Py_buffer view;
  if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
  et_file_kind_id k = et_file_kind_of(view.buf, (size_t)view.len);
  PyBuffer_Release(&view);
  const char *ext = et_file_kind_ext(k);
  if (!ext[0]) Py_RETURN_NONE;
  return PyUnicode_FromString(ext + 1);
}

static PyObject *rt_status_name(PyObject *self, PyObject *arg) {
  (void)self;
  long code = PyLong_AsLong(arg);
  if (code == -1 && PyErr_Occurred()) return NULL;
  return PyUnicode_FromString(et_status_name((et_status)code));
}

static PyMethodDef module_methods[] = {
    {"load_program", (PyCFunction)(void (*)(void))rt_load_program,
     METH_VARARGS | METH_KEYWORDS,
     "load_program(source, *, mmap=False, data_files=None, "
     "share_planned_memory=False) -> Program\n\n"
     "`source` is a path (str or os.PathLike) or a bytes-like object holding "
     "a .pte program. With mmap=True a path is mapped read-only instead of "
     "read. `data_files` (a path or bytes, or a sequence of them) are .ptd "
     "files holding tensors the program keeps outside itself; methods look "
     "them up by name in the order given. With share_planned_memory=True "
     "all methods use one set of planned buffers, as upstream's Python "
     "runtime does: methods share mutable state placed at the same offsets "
     "(upstream's share_mutable_buffers) and overwrite each other's "
     "intermediate values."},
    {"kernel_names", rt_kernel_names, METH_NOARGS,
     "kernel_names() -> tuple of str\n\nOperators the kernel libraries "
     "built into this runtime implement, in search order."},
    {"backend_names", rt_backend_names, METH_NOARGS,
     "backend_names() -> tuple of str\n\nIds of the backends every loaded "
     "program can use (the ones built into this runtime)."},
    {"dtype_name", rt_dtype_name, METH_O,
     "dtype_name(code) -> str\n\nUpstream's name of a ScalarType code "
     "(6 -> 'Float')."},
    {"file_kind", rt_file_kind, METH_O,
     "file_kind(head) -> str or None\n\nThe kind of ExecuTorch file whose "
     "first bytes (16 suffice) are `head`: 'pte', 'bpte', 'ptd', 'etdump', or "
     "None."},
    {"status_name", rt_status_name, METH_O,
     "status_name(code) -> str\n\nUpstream's name of a status code."},
    {"set_num_threads", rt_set_num_threads, METH_O,
     "set_num_threads(n) -> None\n\nRun kernels and delegates on n threads "
     "(1: serial) from now on, for every program (the calling thread is one "
     "of them). Results are the same for every n."},
    {"set_optimized_kernels", rt_set_optimized_kernels, METH_O,
     "set_optimized_kernels(on) -> None\n\nPrograms loaded afterwards use "
     "the optimized kernels before the portable ones (True, the default: "
     "float32 convolution, matrix products, softmax and activations on "
     "vector micro kernels with threads, within float tolerance of eager) "
     "or the portable kernels alone (False: exact, the same bits on every "
     "machine). Programs already loaded keep their kernels."},
    {"get_optimized_kernels", rt_get_optimized_kernels, METH_NOARGS,
     "get_optimized_kernels() -> bool\n\nset_optimized_kernels's value "
     "(default True)."},
    {"get_num_threads", rt_get_num_threads, METH_NOARGS,
     "get_num_threads() -> int\n\nThe threads executes use: "
     "set_num_threads's value, by default the number of CPUs this process "
     "may run on (its affinity mask)."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "edgetorch.runtime._runtime",
    .m_doc = "C runtime for ExecuTorch .pte programs (edgetorch).",
    .m_size = -1,
    .m_methods = module_methods,
};

static int intern_strings(void) {
  struct {
    PyObject **slot;
    const char *s;
  } strs[] = {{&g_str_dtype, "dtype"},   {&g_str_detach, "detach"},
              {&g_str_cpu, "cpu"},       {&g_str_dlpack, "__dlpack__"},
              {&g_str_item, "item"}};
  for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
    *strs[i].slot = PyUnicode_InternFromString(strs[i].s);
    if (!*strs[i].slot) return -1;
  }
  return 0;
}

PyMODINIT_FUNC PyInit__runtime(void) {
  if (intern_strings() < 0) return NULL;
  if (init_dtype_tables() < 0) return NULL;
  if (PyType_Ready(&Program_Type) < 0 || PyType_Ready(&Method_Type) < 0)
    return NULL;
  g_TensorInfo = PyStructSequence_NewType(&tensor_info_desc);
  g_MethodMeta = PyStructSequence_NewType(&method_meta_desc);
  if (!g_TensorInfo || !g_MethodMeta) return NULL;

  PyObject *m = PyModule_Create(&module_def);
  if (!m) return NULL;
  pthread_atfork(NULL, NULL, pool_atfork_child);

  PyObject *dict = Py_BuildValue("{sOsO}", "status", Py_None, "code", Py_None);
  if (!dict) goto fail;
  g_error = PyErr_NewExceptionWithDoc(
      "edgetorch.runtime.EdgetorchError",
      "A failure reported by the edgetorch runtime.\n\n`status` is upstream's "
      "name of the error code (\"InvalidArgument\"), `code` its number, and "
      "str(error) reads \"<status>: <message>\".",
      PyExc_RuntimeError, dict);
  Py_DECREF(dict);
  if (!g_error) goto fail;

  if (PyModule_AddObjectRef(m, "EdgetorchError", g_error) < 0 ||
      PyModule_AddObjectRef(m, "Program", (PyObject *)&Program_Type) < 0 ||
      PyModule_AddObjectRef(m, "Method", (PyObject *)&Method_Type) < 0 ||
      PyModule_AddObjectRef(m, "TensorInfo", (PyObject *)g_TensorInfo) < 0 ||
      PyModule_AddObjectRef(m, "MethodMeta", (PyObject *)g_MethodMeta) < 0 ||
      PyModule_AddStringConstant(m, "__version__", EDGETORCH_VERSION) < 0 ||
      PyModule_AddStringConstant(m, "PTE_IDENTIFIER", ET_PTE_IDENTIFIER) < 0)
    goto fail;
  return m;
fail:
  Py_DECREF(m);
  return NULL;
}
