/*
 * The platform layer: the only things the core asks of the system.
 *
 * Each function has a default definition in runtime/core/pal.c that is
 * declared weak, so an embedded user replaces any of them by defining a
 * function of the same name. The defaults do nothing for logging and
 * return 0 for time: the core itself never needs a clock or a console.
 * Hosted builds (tools, the Python binding) link extension/pal_posix.c,
 * which logs to stderr and reads CLOCK_MONOTONIC.
 *
 * Thread-safety: implementations must be safe to call from any thread.
 */
#ifndef EDGETORCH_PAL_H
#define EDGETORCH_PAL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum et_log_level {
  ET_LOG_DEBUG = 0,
  ET_LOG_INFO = 1,
  ET_LOG_ERROR = 2
} et_log_level;

/* Emit one log line (no trailing newline in `message`). */
void et_pal_log(et_log_level level, const char *message);
/* Monotonic time in nanoseconds, or 0 where there is no clock. */
uint64_t et_pal_time_ns(void);

#ifdef __cplusplus
}
#endif

#endif /* EDGETORCH_PAL_H */
