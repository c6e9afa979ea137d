/*
 * et_status: the result of every fallible edgetorch call.
 *
 * The numeric values are upstream ExecuTorch's `Error` codes, so a log line
 * reads the same in either project. A status alone is never the whole story:
 * the object that failed (program, method, kernel context) also keeps a short
 * human message saying what failed and where (see et_diag).
 *
 * Ownership: et_diag is a plain buffer inside the object that owns it.
 * Thread-safety: et_status_name is pure; an et_diag belongs to one thread.
 */
#ifndef EDGETORCH_STATUS_H
#define EDGETORCH_STATUS_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum et_status {
  ET_OK = 0x00,
  ET_INTERNAL = 0x01,
  ET_INVALID_STATE = 0x02,
  ET_END_OF_METHOD = 0x03,
  ET_ALREADY_LOADED = 0x04,
  ET_NOT_SUPPORTED = 0x10,
  ET_NOT_IMPLEMENTED = 0x11,
  ET_INVALID_ARGUMENT = 0x12,
  ET_INVALID_TYPE = 0x13,
  ET_OPERATOR_MISSING = 0x14,
  ET_REGISTRATION_EXCEEDING_MAX_KERNELS = 0x15,
  ET_REGISTRATION_ALREADY_REGISTERED = 0x16,
  ET_NOT_FOUND = 0x20,
  ET_MEMORY_ALLOCATION_FAILED = 0x21,
  ET_ACCESS_FAILED = 0x22,
  ET_INVALID_PROGRAM = 0x23,
  ET_INVALID_EXTERNAL_DATA = 0x24,
  ET_OUT_OF_RESOURCES = 0x25,
  ET_DELEGATE_INVALID_COMPATIBILITY = 0x30,
  ET_DELEGATE_MEMORY_ALLOCATION_FAILED = 0x31,
  ET_DELEGATE_INVALID_HANDLE = 0x32
} et_status;

/* Upstream's name for the code ("InvalidProgram"), or "Unknown". */
const char *et_status_name(et_status status);

/* Capacity of a diagnostic message, terminating NUL included. */
#define ET_DIAG_CAP 512

/* The last failure of one object: its status and a NUL-terminated message. */
typedef struct et_diag {
  et_status status;
  char message[ET_DIAG_CAP];
} et_diag;

/*
 * Lets gcc and clang check the arguments of a printf-style function against
 * its format string: the format is argument fmt_idx, the variadic arguments
 * start at args_idx (0 for a va_list function). Empty for other compilers.
 */
#if defined(__GNUC__) || defined(__clang__)
#define ET_PRINTF_FORMAT(fmt_idx, args_idx) \
  __attribute__((format(printf, fmt_idx, args_idx)))
#else
#define ET_PRINTF_FORMAT(fmt_idx, args_idx)
#endif

/*
 * Record a failure and return `status` so call sites can write
 * `return et_diag_set(d, ET_INVALID_PROGRAM, "...", ...)`.
 * The format understands %s %c %d %i %u %x %ld %lu %lld %llu %lx %zu %zd %p %%
 * (with an optional `ll`/`l`/`z` length); it never touches stdio. No
 * floating point (%g, %f) and no width or precision: the compiler's printf
 * check accepts them, but they print literally and leave their argument
 * unread (kernels format doubles with et_double_str, util/scalar_util.h).
 * `d` may be NULL, in which case only the status is returned. Messages that
 * do not fit are truncated.
 */
et_status et_diag_set(et_diag *d, et_status status, const char *fmt, ...)
    ET_PRINTF_FORMAT(3, 4);
et_status et_diag_setv(et_diag *d, et_status status, const char *fmt,
                       va_list ap) ET_PRINTF_FORMAT(3, 0);
void et_diag_clear(et_diag *d);

/* Format into buf (always NUL-terminated when cap > 0); returns the length
 * written, excluding the NUL. Same directives as et_diag_set. */
size_t et_format(char *buf, size_t cap, const char *fmt, ...)
    ET_PRINTF_FORMAT(3, 4);
size_t et_formatv(char *buf, size_t cap, const char *fmt, va_list ap)
    ET_PRINTF_FORMAT(3, 0);

#ifdef __cplusplus
}
#endif

#endif /* EDGETORCH_STATUS_H */
