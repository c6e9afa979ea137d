/*
 * Method inputs, outputs and execute: the instruction loop over the
 * structures init built.
 */
#include "method_priv.h"

#include <string.h>

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
  *v = m->input_values[i]; /* undo any MoveCall into the input */
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
    t->flags = (uint8_t)((t->flags & ~ET_TENSOR_CONSTANT) | ET_TENSOR_CALLER);
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
  *v = m->input_values[i];
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

#ifndef ET_TRACING
#define ET_TRACING 1
#endif

/* ---- execute ------------------------------------------------------------- */

/* GCC and clang optimizing for speed: the loop is instantiated twice,
 * untraced and traced, each a function of its own (the traced one out of
 * the hot text), and the loop's helpers stay calls in both; so the
 * untraced loop is the same machine code, placed the same way, as in a
 * -DET_TRACING=0 build. Builds for size (-Os) keep one loop. Other
 * compilers may inline as they like. */
#if defined(__GNUC__) && !defined(__OPTIMIZE_SIZE__)
#define ET_LOOP_INLINE static inline __attribute__((always_inline))
#define ET_LOOP_COLD static __attribute__((noinline, cold))
#define ET_LOOP_CALL static __attribute__((noinline))
#else
#define ET_LOOP_INLINE static inline
#define ET_LOOP_COLD static
#define ET_LOOP_CALL static
#endif

ET_LOOP_CALL et_status jump_condition(et_method *m, uint32_t pc,
                                      const et_value *v, bool *out) {
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
ET_LOOP_COLD et_status check_args(et_method *m, const et_instr *in,
                                  uint32_t pc, const et_kernel *k) {
  for (uint32_t a = 0; a < in->n_args && a < 32; a++) {
    const et_tensor *t = in->args[a]->u.t;
    if ((in->check >> a & 1u) && !t->data && et_tensor_numel(t))
      return et_diag_set(&m->diag, ET_INVALID_STATE,
                         "instruction %u (%s): argument %u (value %u) has no "
                         "data", pc, k->name, a,
                         (unsigned)(in->args[a] - m->values));
    if ((in->wcheck >> a & 1u) && (t->flags & ET_TENSOR_READ_ONLY))
      return et_diag_set(&m->diag, ET_INVALID_PROGRAM,
                         "instruction %u (%s): argument %u (value %u) writes "
                         "%s, which the program may only read", pc, k->name, a,
                         (unsigned)(in->args[a] - m->values),
                         t->flags & ET_TENSOR_CONSTANT ? "a program constant"
                                                       : "the caller's input");
  }
  return ET_OK;
}

/*
 * The instruction loop. With tr == NULL (a constant: run_untraced) it
 * compiles to the loop without the hook, what -DET_TRACING=0 gives; the
 * traced copy (run_traced) is a separate function, so having no tracer
 * attached costs one test of m->tracer per execute, none per instruction.
 */
ET_LOOP_INLINE et_status run(et_method *m, et_tracer *const tr,
                             uint64_t *out_executed) {
  uint64_t executed = 0;
  et_status st = ET_OK;
  for (uint32_t c = 0; c < m->n_chains && !st; c++) {
    const uint32_t begin = m->chain_begin[c], end = m->chain_begin[c + 1];
    uint32_t pc = begin;
    while (pc < end) {
      if (++executed > m->max_instructions) {
        st = et_diag_set(&m->diag, ET_OUT_OF_RESOURCES,
                         "method '%s' ran over %llu instructions, its limit: "
                         "it loops, or needs et_method_set_instruction_limit",
                         m->meta.name,
                         (unsigned long long)m->max_instructions);
        break;
      }
      const et_instr *in = &m->instrs[pc];
      const uint32_t at = pc - begin;
      if (tr) tr->event(tr, m, ET_TRACE_INSTR_BEGIN, c, at, ET_OK);
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
      if (tr) tr->event(tr, m, ET_TRACE_INSTR_END, c, at, st);
      if (st) break;
    }
  }
  *out_executed = executed;
  return st;
}

#ifndef __OPTIMIZE_SIZE__
ET_LOOP_CALL et_status run_untraced(et_method *m, uint64_t *out_executed) {
  return run(m, NULL, out_executed);
}

#if ET_TRACING
ET_LOOP_COLD et_status run_traced(et_method *m, uint64_t *out_executed) {
  return run(m, m->tracer, out_executed);
}
#endif
#endif

et_status et_method_execute(et_method *m) {
  if (m->destroyed)
    return et_diag_set(&m->diag, ET_INVALID_STATE, "method was destroyed");
  et_diag_clear(&m->diag);
  for (size_t i = 0; i < m->meta.n_inputs; i++) {
    m->values[m->inputs[i]] = m->input_values[i];
    if (!m->input_set[i])
      return et_diag_set(&m->diag, ET_INVALID_STATE,
                         "input %zu of method '%s' was not set", i,
                         m->meta.name);
  }
  uint64_t executed;
  et_status st;
  /* -DET_TRACING=0 compiles the hook out (upstream's
   * ET_EVENT_TRACER_ENABLED, inverted: on by default). Builds for size
   * (-Os) keep one copy of the loop, which then tests the tracer pointer
   * (in a register) twice per instruction. */
#if defined(__OPTIMIZE_SIZE__)
  st = run(m, ET_TRACING ? m->tracer : NULL, &executed);
#elif ET_TRACING
  st = m->tracer ? run_traced(m, &executed) : run_untraced(m, &executed);
#else
  st = run_untraced(m, &executed);
#endif
  for (size_t i = 0; i < m->meta.n_outputs && !st; i++) {
    const et_value *v = &m->values[m->outputs[i]];
    if (v->tag == ET_TAG_TENSOR && !v->u.t->data && et_tensor_numel(v->u.t))
      st = et_diag_set(&m->diag, ET_INVALID_STATE,
                       "output %zu (value %u) has no data", i,
                       m->outputs[i]);
  }
  m->stats.executions++;
  m->stats.instructions = executed;
  /* Planned inputs' memory may have been reused by the plan. */
  for (size_t i = 0; i < m->meta.n_inputs; i++)
    if (m->input_planned[i]) m->input_set[i] = 0;
  if (!st) et_diag_clear(&m->diag);
  return st;
}

void et_method_set_instruction_limit(et_method *m, uint64_t limit) {
  m->max_instructions = limit;
}

/* Tracing: the execute loop only tests m->tracer; a tracer asks for an
 * instruction's details here (unused code when nobody traces). */
et_status et_method_trace_info(const et_method *m, uint32_t chain,
                               uint32_t instr, et_trace_event *out) {
  memset(out, 0, sizeof *out);
  out->delegate_debug_id = -1;
  if (chain >= m->n_chains ||
      instr >= m->chain_begin[chain + 1] - m->chain_begin[chain])
    return ET_INVALID_ARGUMENT;
  const et_instr *in = &m->instrs[m->chain_begin[chain] + instr];
  out->kind = in->type;
  out->chain = chain;
  out->instruction = instr;
  if (in->type == IT_KERNEL || in->type == IT_DELEGATE) {
    out->args = in->args;
    out->n_args = in->n_args;
    if (in->type == IT_KERNEL) {
      out->name = m->kernels[in->a]->name;
      out->sig = m->kernels[in->a]->sig;
    } else {
      out->name = m->delegates[in->a].backend->id;
    }
  }
  return ET_OK;
}

void et_method_set_parallel(et_method *m, et_parallel *parallel) {
  m->kctx.parallel = parallel;
  for (size_t d = 0; d < m->meta.n_delegates; d++)
    m->delegates[d].ctx.parallel = parallel;
}

void et_method_set_tracer(et_method *m, et_tracer *tracer) {
  m->tracer = tracer;
  for (size_t d = 0; d < m->meta.n_delegates; d++)
    m->delegates[d].ctx.tracer = tracer;
}
