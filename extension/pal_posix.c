/*
 * The hosted platform layer: strong definitions that replace the core's weak
 * defaults (runtime/core/pal.c). Logs go to stderr, one line each; time is
 * CLOCK_MONOTONIC. The hosted library `edgetorch` carries this file and not
 * the core's defaults, so links against it always get these.
 */
#include <edgetorch/pal.h>

#include <stdio.h>
#include <time.h>

void et_pal_log(et_log_level level, const char *message) {
  const char *prefix = "info";
  switch (level) {
  case ET_LOG_DEBUG: prefix = "debug"; break;
  case ET_LOG_INFO: prefix = "info"; break;
  case ET_LOG_ERROR: prefix = "error"; break;
  }
  /* One fprintf per line so lines from different threads do not interleave
   * (stdio locks the stream for the call). */
  fprintf(stderr, "edgetorch %s: %s\n", prefix, message ? message : "");
}

uint64_t et_pal_time_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return 0;
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
