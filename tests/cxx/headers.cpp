// Every public header compiles as C++ (-std=c++11 -Wall -Wextra -Wpedantic
// -Werror) and its functions link with C linkage. Run as a test by ctest
// (test_cxx_headers) where a C++ compiler is found.
#include <edgetorch/arena.h>
#include <edgetorch/backend.h>
#include <edgetorch/data_map.h>
#include <edgetorch/edgetorch.h>
#include <edgetorch/flat_tensor.h>
#include <edgetorch/kernel.h>
#include <edgetorch/method.h>
#include <edgetorch/module.h>
#include <edgetorch/pal.h>
#include <edgetorch/program.h>
#include <edgetorch/status.h>
#include <edgetorch/value.h>

#include <cstdio>
#include <cstring>

int main() {
  int failed = 0;
  if (std::strcmp(et_status_name(ET_INVALID_PROGRAM), "InvalidProgram") != 0) failed++;
  alignas(16) unsigned char buf[64];
  et_arena a;
  et_arena_init(&a, buf, sizeof buf);
  if (et_arena_alloc(&a, 8, 8) == nullptr) failed++;
  et_program p;
  alignas(16) static unsigned char junk[32] = {0};
  if (et_program_load(&p, junk, sizeof junk, ET_LOAD_DEFAULT) == ET_OK) failed++;
  if (et_portable_kernels.count == 0) failed++;
  std::printf("%d passed, %d failed\n", 4 - failed, failed);
  return failed ? 1 : 0;
}
