/*
 * Bundled programs (.bpte): upstream's BundledProgram, a program plus test
 * sets per method (inputs and expected outputs), identifier "BP08"
 * (devtools/bundled_program/schema/bundled_program_schema.fbs).
 *
 * The file is untrusted: et_bundled_open verifies all of it (every table,
 * vector, string, union, each tensor's dtype, rank, sizes and byte count)
 * before anything else reads it; the other calls then trust it. Tensor data
 * is used in place, so the bytes must outlive the et_bundled and any method
 * whose inputs it set.
 *
 * For firmware self-tests: open, load the program from
 * et_bundled_program(), then for each test case et_bundled_set_inputs,
 * et_method_execute, et_bundled_verify. No malloc; no OS.
 * Thread-safety: an et_bundled is read-only after open.
 */
#ifndef EDGETORCH_BUNDLED_H
#define EDGETORCH_BUNDLED_H

#include <edgetorch/method.h>

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct et_bundled {
  const uint8_t *data;
  size_t size;
  uint32_t version;
  const uint8_t *program; /* the embedded .pte */
  size_t program_size;
  uint32_t n_suites;
} et_bundled;

/* True if the bytes carry the "BP08" identifier (no verification). */
bool et_bundled_is(const void *data, size_t size);

/* Verify and open. InvalidProgram (with the byte offset and what was being
 * read) for a damaged file, InvalidArgument for a NULL argument. */
et_status et_bundled_open(const void *data, size_t size, et_bundled *out,
                          et_diag *diag);

/* Test suite s: its method's name and number of test cases. */
const char *et_bundled_suite_method(const et_bundled *b, uint32_t s);
uint32_t et_bundled_case_count(const et_bundled *b, uint32_t s);

/* Set every input of `m` from test case `c` of suite `s`. */
et_status et_bundled_set_inputs(const et_bundled *b, uint32_t s, uint32_t c,
                                et_method *m, et_diag *diag);

/* How one output compared (|got - expected| <= atol + rtol * |expected|,
 * NaN equal to NaN). */
typedef struct et_bundled_output {
  bool ok;
  double max_abs, max_rel; /* worst element (Float outputs; 0 otherwise) */
  size_t worst_index;      /* flat index of the worst element */
  char why[96];            /* a dtype/shape/tag mismatch, else "" */
} et_bundled_output;

/* Compare m's outputs after execute with test case c's expected outputs.
 * Fills out[0..min(n_out, outputs)) and *out_ok; returns InvalidArgument if
 * the number of outputs differs (with a message), else Ok. */
et_status et_bundled_verify(const et_bundled *b, uint32_t s, uint32_t c,
                            const et_method *m, double rtol, double atol,
                            et_bundled_output *out, size_t n_out,
                            bool *out_ok, et_diag *diag);

#ifdef __cplusplus
}
#endif

#endif /* EDGETORCH_BUNDLED_H */
