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
};

/* For backends: report the start or end of one of their nodes. A no-op
 * when tracing is off (t NULL) or the tracer takes no backend events. */
static inline void et_tracer_backend_event(et_tracer *t, int phase,
                                           const char *name,
                                           int32_t delegate_debug_id) {
  if (t && t->backend_event) t->backend_event(t, phase, name, delegate_debug_id);
}

#ifdef __cplusplus
}
#endif

#endif /* EDGETORCH_TRACER_H */
