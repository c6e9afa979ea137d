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
/* Kind names, each at an offset named below (no pointers: the table stays
 * read-only data, with no relocations). */
static const char kNames[] =
    "Tensor\0Int\0Double\0Bool\0Scalar\0ListInt\0ListDouble\0ListBool\0"
    "ListTensor\0ListOptionalTensor\0String\0None\0anything";
enum {
  N_TENSOR = 0, N_INT = 7, N_DOUBLE = 11, N_BOOL = 18, N_SCALAR = 23,
  N_LIST_INT = 30, N_LIST_DOUBLE = 38, N_LIST_BOOL = 49, N_LIST_TENSOR = 58,
  N_LIST_OPT = 69, N_STRING = 88, N_NONE = 95, N_ANY = 100
};
static const struct {
  char c;
  uint8_t name;
  uint16_t tags;
} kKinds[] = {
    {'T', N_TENSOR, TAG(TENSOR)}, {'W', N_TENSOR, TAG(TENSOR)},
    {'P', N_TENSOR, TAG(TENSOR)}, {'t', N_TENSOR, TAG(TENSOR)},
    {'I', N_INT, TAG(INT)}, {'i', N_INT, TAG(INT)},
    {'D', N_DOUBLE, TAG(DOUBLE)}, {'d', N_DOUBLE, TAG(DOUBLE)},
    {'B', N_BOOL, TAG(BOOL)}, {'b', N_BOOL, TAG(BOOL)},
    {'S', N_SCALAR, TAG(INT) | TAG(DOUBLE) | TAG(BOOL)},
    {'s', N_SCALAR, TAG(INT) | TAG(DOUBLE) | TAG(BOOL)},
    {'L', N_LIST_INT, TAG(LIST_INT)}, {'l', N_LIST_INT, TAG(LIST_INT)},
    {'F', N_LIST_DOUBLE, TAG(LIST_DOUBLE)}, {'f', N_LIST_DOUBLE, TAG(LIST_DOUBLE)},
    {'G', N_LIST_BOOL, TAG(LIST_BOOL)}, {'V', N_LIST_TENSOR, TAG(LIST_TENSOR)},
    {'O', N_LIST_OPT, TAG(LIST_OPTIONAL_TENSOR) | TAG(LIST_TENSOR)},
    {'Z', N_STRING, TAG(STRING)}, {'z', N_STRING, TAG(STRING)},
    {'N', N_NONE, TAG(NONE)}, {'*', N_ANY, 0xfff}};

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
  return kNames + (k < 0 ? N_ANY : kKinds[k].name);
}
