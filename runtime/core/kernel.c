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

/* Signature letters (see kernel.h): the tags each accepts, and the name of
 * its kind for messages. A lower-case letter is its upper-case kind or
 * None. */
#define TAG(x) (1u << ET_TAG_##x)
static const struct {
  char c;
  uint16_t tags;
  const char *name;
} kKinds[] = {
    {'T', TAG(TENSOR), "Tensor"}, {'W', TAG(TENSOR), "Tensor"},
    {'P', TAG(TENSOR), "Tensor"}, {'t', TAG(TENSOR), "Tensor"},
    {'I', TAG(INT), "Int"}, {'i', TAG(INT), "Int"},
    {'D', TAG(DOUBLE), "Double"}, {'d', TAG(DOUBLE), "Double"},
    {'B', TAG(BOOL), "Bool"}, {'b', TAG(BOOL), "Bool"},
    {'S', TAG(INT) | TAG(DOUBLE) | TAG(BOOL), "Scalar"},
    {'s', TAG(INT) | TAG(DOUBLE) | TAG(BOOL), "Scalar"},
    {'L', TAG(LIST_INT), "ListInt"}, {'l', TAG(LIST_INT), "ListInt"},
    {'F', TAG(LIST_DOUBLE), "ListDouble"}, {'f', TAG(LIST_DOUBLE), "ListDouble"},
    {'G', TAG(LIST_BOOL), "ListBool"}, {'V', TAG(LIST_TENSOR), "ListTensor"},
    {'O', TAG(LIST_OPTIONAL_TENSOR) | TAG(LIST_TENSOR), "ListOptionalTensor"},
    {'Z', TAG(STRING), "String"}, {'z', TAG(STRING), "String"},
    {'N', TAG(NONE), "None"}, {'*', 0xfff, "anything"}};

static int kind_of(char c) {
  for (int k = 0; k < (int)(sizeof kKinds / sizeof kKinds[0]); k++)
    if (kKinds[k].c == c) return k;
  return -1;
}

bool et_kernel_sig_accepts(char c, uint32_t tag) {
  int k = kind_of(c);
  uint32_t tags = k < 0 ? 0 : kKinds[k].tags | (c >= 'a' ? TAG(NONE) : 0);
  return tag < 16 && (tags >> tag & 1u);
}

const char *et_kernel_sig_kind(char c, const char **out_or_none) {
  int k = kind_of(c);
  *out_or_none = k >= 0 && c >= 'a' ? " or None" : "";
  return k < 0 ? "anything" : kKinds[k].name;
}
