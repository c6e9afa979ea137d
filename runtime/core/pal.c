/* Default platform layer: silent and clockless. Weak, so a port replaces any
 * function by defining it (extension/pal_posix.c does for hosted builds). */
#include <edgetorch/pal.h>

#if defined(__GNUC__) || defined(__clang__)
#define ET_WEAK __attribute__((weak))
#else
#define ET_WEAK
#endif

ET_WEAK void et_pal_log(et_log_level level, const char *message) {
  (void)level;
  (void)message;
}

ET_WEAK uint64_t et_pal_time_ns(void) { return 0; }
