/*
 * A fault-injecting backend for tests, fuzzing and the mutation tool (never
 * part of a hosted build). It registers under upstream's demo id
 * "BackendWithCompilerDemo", runs the demo backend's payload, and fails
 * init or execute on request, so that every failure path of the delegate
 * lifecycle is exercised. Each handle carries a magic number: destroy on a
 * handle that is not live (never initialized, already destroyed, a failed
 * init's, or arena garbage) is recorded and, when abort_on_misuse is set,
 * aborts so that a fuzzer reports it.
 *
 * Thread-safety: none (one global state, for single-threaded test drivers).
 */
#ifndef EDGETORCH_TESTS_FAULT_BACKEND_H
#define EDGETORCH_TESTS_FAULT_BACKEND_H

#include <edgetorch/backend.h>

#include <stdbool.h>

typedef struct et_fault_state {
  /* Settings. */
  long fail_init_delegate;     /* fail init of this delegate index; -1: never */
  unsigned long fail_init_every; /* fail every Nth init call; 0: never */
  unsigned long fail_exec_every; /* fail every Nth execute call; 0: never */
  bool abort_on_misuse;
  /* Counters. */
  unsigned long inits, init_failures, executes, destroys, live;
  unsigned long misuses; /* destroy or execute of a handle that is not live */
} et_fault_state;

extern et_fault_state et_fault;
extern const et_backend et_fault_backend;

/* Zero the counters and set the settings. */
void et_fault_reset(long fail_init_delegate, unsigned long fail_init_every,
                    unsigned long fail_exec_every, bool abort_on_misuse);

#endif
