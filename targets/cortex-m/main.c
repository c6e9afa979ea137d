/*
 * Cortex-M firmware: one model, no heap, no OS.
 *
 * The program (.pte) is a const array in flash (model.h, written on the host
 * by model_header.py), used in place: constants are never copied to RAM. The
 * method arena and the planned buffers are static arrays whose sizes the
 * host step read from the method's metadata, so the link map shows every
 * byte of RAM the model takes. The kernel table holds only the operators
 * the model uses (a selective build: registry.c compiled with the filtered
 * ops.def). Outputs go to the host over semihosting as the hex bits of
 * each float, which the host test compares with PyTorch eager.
 *
 * Output lines (all start with "et: "):
 *   et: arena <needed> <provided>
 *   et: output <i> <numel> <hex> <hex> ...
 *   et: ok | et: error <StatusName>: <message>
 */
#include <edgetorch/edgetorch.h>

#include <stdint.h>
#include <string.h>

#include "model.h"

/* ---- semihosting (ARM DUI 0471: bkpt 0xAB, r0 = operation, r1 = arg) ---- */
static void sh_write0(const char *s) {
  register uintptr_t r0 __asm__("r0") = 0x04; /* SYS_WRITE0 */
  register const char *r1 __asm__("r1") = s;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
}

static _Noreturn void sh_exit(int code) {
  /* SYS_EXIT with ADP_Stopped_ApplicationExit (0x20026) and a subcode:
   * qemu exits with the subcode. */
  static uintptr_t block[2];
  block[0] = 0x20026;
  block[1] = (uintptr_t)code;
  register uintptr_t r0 __asm__("r0") = 0x20; /* SYS_EXIT_EXTENDED */
  register uintptr_t *r1 __asm__("r1") = block;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  for (;;) {
  }
}

static char line[256];

static void say(const char *s) {
  sh_write0(s);
  sh_write0("\n");
}

/* The core's messages go out too (replaces the silent weak default). */
void et_pal_log(et_log_level level, const char *message) {
  (void)level;
  sh_write0("et: log ");
  say(message);
}

static _Noreturn void fail(et_status st, const char *message) {
  et_format(line, sizeof line, "et: error %s: %s", et_status_name(st),
            message);
  say(line);
  sh_exit(1);
}

/* ---- memory: everything static, sized on the host ---------------------- */
static _Alignas(16) uint8_t arena[ET_FW_ARENA_BYTES];
#define ET_FW_DECLARE(i, n) static _Alignas(16) uint8_t planned_##i[n];
ET_FW_PLANNED(ET_FW_DECLARE)
#define ET_FW_POINTER(i, n) planned_##i,
static void *const planned[] = {ET_FW_PLANNED(ET_FW_POINTER)};
#define ET_FW_SIZE(i, n) n,
static const size_t planned_sizes[] = {ET_FW_PLANNED(ET_FW_SIZE)};
#if ET_FW_SCRATCH_BYTES > 0
static _Alignas(16) uint8_t scratch[ET_FW_SCRATCH_BYTES];
#define ET_FW_SCRATCH scratch
#else
#define ET_FW_SCRATCH NULL
#endif

static const et_kernel_table *const tables[] = {&et_portable_kernels};
static const et_registry registry = {tables, 1, NULL, 0};

static void put_hex32(char *p, uint32_t v) {
  static const char digits[] = "0123456789abcdef";
  for (int i = 7; i >= 0; i--, v >>= 4) p[i] = digits[v & 15];
}

int main(void) {
  et_program prog;
  et_diag diag;
  et_status st = et_program_load(&prog, et_fw_pte, sizeof et_fw_pte,
                                 ET_LOAD_DEFAULT);
  if (st) fail(st, et_program_message(&prog));
  et_method_meta meta;
  st = et_program_method_meta(&prog, ET_FW_METHOD, &registry, &meta, NULL);
  if (st) fail(st, et_program_message(&prog));
  /* The host sized the arena with its own (64-bit) metadata; the target's
   * figure is the exact one. */
  et_format(line, sizeof line, "et: arena %zu %zu", meta.arena_bytes,
            sizeof arena);
  say(line);

  et_method_memory mem = {arena,         sizeof arena,
                          planned,       planned_sizes,
                          sizeof planned / sizeof planned[0],
                          ET_FW_SCRATCH, ET_FW_SCRATCH_BYTES,
                          NULL};
  et_method *m;
  st = et_method_init(&prog, ET_FW_METHOD, &registry, &mem, &m, &diag);
  if (st) fail(st, diag.message);

  const int64_t shape[] = {ET_FW_INPUT_SHAPE};
  st = et_method_set_input_tensor(m, 0, ET_FLOAT,
                                  sizeof shape / sizeof shape[0], shape,
                                  et_fw_input, sizeof et_fw_input);
  if (st) fail(st, et_method_message(m));
  st = et_method_execute(m);
  if (st) fail(st, et_method_message(m));

  for (size_t i = 0; i < et_method_output_count(m); i++) {
    const et_value *v = et_method_output(m, i);
    if (!v || v->tag != ET_TAG_TENSOR || v->u.t->dtype != ET_FLOAT)
      fail(ET_INVALID_TYPE, "output is not a Float tensor");
    const et_tensor *t = v->u.t;
    size_t n = et_tensor_nbytes(t) / sizeof(float);
    et_format(line, sizeof line, "et: output %zu %zu", i, n);
    sh_write0(line);
    const float *f = (const float *)t->data;
    for (size_t k = 0; k < n; k++) {
      uint32_t bits;
      memcpy(&bits, &f[k], sizeof bits);
      char word[10] = " ";
      put_hex32(word + 1, bits);
      word[9] = '\0';
      sh_write0(word);
    }
    sh_write0("\n");
  }
  say("et: ok");
  sh_exit(0);
}
