/* Kernel tables and the context kernels report through. */
#include <edgetorch/kernel.h>

#include <string.h>

const et_kernel *et_kernel_table_find(const et_kernel_table *table,
                                      const char *name) {
  size_t lo = 0, hi = table->count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(name, table->kernels[mid].name);
    if (c == 0) return &table->kernels[mid];
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return NULL;
}

et_status et_kernel_fail(et_kernel_ctx *ctx, et_status status, const char *fmt,
                         ...) {
  if (!ctx || !ctx->diag) return status;
  char detail[ET_DIAG_CAP];
  va_list ap;
  va_start(ap, fmt);
  et_formatv(detail, sizeof detail, fmt, ap);
  va_end(ap);
  return et_diag_set(ctx->diag, status, "%s: %s",
                     ctx->op_name ? ctx->op_name : "kernel", detail);
}

void *et_kernel_scratch(et_kernel_ctx *ctx, size_t bytes, size_t align) {
  if (align == 0 || (align & (align - 1)) != 0) return NULL;
  uintptr_t base = (uintptr_t)ctx->scratch;
  size_t start = ctx->scratch_used;
  size_t pad = (size_t)((align - ((base + start) & (align - 1))) & (align - 1));
  if (!ctx->scratch || pad > ctx->scratch_size - start ||
      bytes > ctx->scratch_size - start - pad)
    return NULL;
  ctx->scratch_used = start + pad + bytes;
  return ctx->scratch + start + pad;
}

bool et_kernel_sig_accepts(char c, uint32_t tag) {
  switch (c) {
  case 'T': case 'W': case 'P': return tag == ET_TAG_TENSOR;
  case 't': return tag == ET_TAG_TENSOR || tag == ET_TAG_NONE;
  case 'I': return tag == ET_TAG_INT;
  case 'i': return tag == ET_TAG_INT || tag == ET_TAG_NONE;
  case 'D': return tag == ET_TAG_DOUBLE;
  case 'd': return tag == ET_TAG_DOUBLE || tag == ET_TAG_NONE;
  case 'B': return tag == ET_TAG_BOOL;
  case 'b': return tag == ET_TAG_BOOL || tag == ET_TAG_NONE;
  case 'S':
    return tag == ET_TAG_INT || tag == ET_TAG_DOUBLE || tag == ET_TAG_BOOL;
  case 's':
    return tag == ET_TAG_INT || tag == ET_TAG_DOUBLE || tag == ET_TAG_BOOL ||
           tag == ET_TAG_NONE;
  case 'L': return tag == ET_TAG_LIST_INT;
  case 'l': return tag == ET_TAG_LIST_INT || tag == ET_TAG_NONE;
  case 'F': return tag == ET_TAG_LIST_DOUBLE;
  case 'f': return tag == ET_TAG_LIST_DOUBLE || tag == ET_TAG_NONE;
  case 'G': return tag == ET_TAG_LIST_BOOL;
  case 'V': return tag == ET_TAG_LIST_TENSOR;
  case 'O': return tag == ET_TAG_LIST_OPTIONAL_TENSOR || tag == ET_TAG_LIST_TENSOR;
  case 'Z': return tag == ET_TAG_STRING;
  case 'z': return tag == ET_TAG_STRING || tag == ET_TAG_NONE;
  case 'N': return tag == ET_TAG_NONE;
  case '*': return true;
  default: return false;
  }
}
