/*
 * Event tracing: an optional hook the host attaches to a method
 * (et_method_set_tracer). The runtime calls it before and after every
 * instruction; backends call it around their own nodes or stages.
 *
 * The core keeps no clock and no buffer and builds no event records: the
 * host's callback reads its own clock, asks et_method_trace_info() what the
 * instruction is (operator name, arguments) and records what it wants
 * (extension/etdump.h writes upstream's ETDump format). With no tracer,
 * execute tests the pointer once and runs a copy of the loop without the
 * hook (the same code as a -DET_TRACING=0 build; builds for size keep one
 * loop, which tests the pointer, held in a register, per instruction).
 *
 * Method-level events (init, execute) are the host's: it makes those calls,
 * so it times them itself (extension/etdump.c does).
 *
 * Ownership: the host owns the tracer; it must outlive its attachment. At
 * ET_TRACE_INSTR_END the instruction's outputs are readable through the
 * args of et_method_trace_info (intermediate outputs).
 *
 * Backend intermediate outputs: a backend that runs a graph of its own
 * (the CPU backend) reports each node's output through backend_output,
 * after the node's END event, so the copy the host makes is not timed as
 * the node. The tensor is a view valid for the call only; its layout is
 * the backend's (the CPU backend's values are channels-last, NHWC dims,
 * where upstream's XNNPACK lowering made them so; see
 * docs/devtools.md).
 *
 * Compatibility: members are only ever appended. A host that initializes
 * its et_tracer with designated initializers or zeroes it (as it must:
 * every callback but event is optional) gets NULL for members it does not
 * know and so no calls to them. Binary compatibility with a host compiled
 * against an older header is not promised: the runtime and the host are
 * linked together.
 *
 * Thread-safety: callbacks run on the thread executing the method.
 */
#ifndef EDGETORCH_TRACER_H
#define EDGETORCH_TRACER_H

#include <edgetorch/status.h>
#include <edgetorch/value.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum et_trace_phase {
  ET_TRACE_INSTR_BEGIN = 0, /* before one instruction */
  ET_TRACE_INSTR_END = 1,   /* after it: status says how it went */
  /* From backends, inside a DelegateCall, through backend_event. */
  ET_TRACE_BACKEND_BEGIN = 2,
  ET_TRACE_BACKEND_END = 3
} et_trace_phase;

/* Instruction kinds (the program's instruction types). */
enum {
  ET_TRACE_KERNEL = 1,
  ET_TRACE_DELEGATE = 2,
  ET_TRACE_MOVE = 3,
  ET_TRACE_JUMP_FALSE = 4,
  ET_TRACE_FREE = 5
};

/* What one instruction is (et_method_trace_info fills it). */
typedef struct et_trace_event {
  uint8_t kind;         /* ET_TRACE_KERNEL ... */
  uint32_t chain;       /* chain index */
  uint32_t instruction; /* index within the chain: upstream's debug handle */
  /* Kernel: "aten::add.out"; delegate: the backend id; else NULL. */
  const char *name;
  const char *sig;             /* kernel argument kinds (kernel.h) or NULL */
  et_value *const *args;       /* kernel or delegate arguments */
  uint32_t n_args;
  int32_t delegate_debug_id;   /* backend events: node id, else -1 */
} et_trace_event;

struct et_method;
typedef struct et_tracer et_tracer;
struct et_tracer {
  /* Instruction events (ET_TRACE_INSTR_BEGIN/END). */
  void (*event)(et_tracer *self, const struct et_method *method, int phase,
                uint32_t chain, uint32_t instruction, et_status status);
  /* Optional: backend events (name or delegate_debug_id >= 0). */
  void (*backend_event)(et_tracer *self, int phase, const char *name,
                        int32_t delegate_debug_id);
  /* Optional: the output of a backend's node (name or delegate_debug_id
   * >= 0, as its events), a view readable during the call only. */
  void (*backend_output)(et_tracer *self, const char *name,
                         int32_t delegate_debug_id, const et_tensor *output);
};

/* For backends: report the start or end of one of their nodes. A no-op
 * when tracing is off (t NULL) or the tracer takes no backend events. */
static inline void et_tracer_backend_event(et_tracer *t, int phase,
                                           const char *name,
                                           int32_t delegate_debug_id) {
  if (t && t->backend_event) t->backend_event(t, phase, name, delegate_debug_id);
}

/* For backends: report the output of the node that just ended. A no-op
 * when tracing is off or the tracer takes no outputs; backends call it only
 * on their traced path (build the view only when t->backend_output is set:
 * et_tracer_wants_outputs). */
static inline int et_tracer_wants_outputs(const et_tracer *t) {
  return t && t->backend_output;
}
static inline void et_tracer_backend_output(et_tracer *t, const char *name,
                                            int32_t delegate_debug_id,
                                            const et_tensor *output) {
  if (t && t->backend_output)
    t->backend_output(t, name, delegate_debug_id, output);
}

#ifdef __cplusplus
}
#endif

#endif /* EDGETORCH_TRACER_H */
