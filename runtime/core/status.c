/* Status names and the stdio-free message formatter behind et_diag. */
#include <edgetorch/status.h>

#include <stdint.h>

const char *et_status_name(et_status status) {
  switch (status) {
  case ET_OK: return "Ok";
  case ET_INTERNAL: return "Internal";
  case ET_INVALID_STATE: return "InvalidState";
  case ET_END_OF_METHOD: return "EndOfMethod";
  case ET_ALREADY_LOADED: return "AlreadyLoaded";
  case ET_NOT_SUPPORTED: return "NotSupported";
  case ET_NOT_IMPLEMENTED: return "NotImplemented";
  case ET_INVALID_ARGUMENT: return "InvalidArgument";
  case ET_INVALID_TYPE: return "InvalidType";
  case ET_OPERATOR_MISSING: return "OperatorMissing";
  case ET_REGISTRATION_EXCEEDING_MAX_KERNELS: return "RegistrationExceedingMaxKernels";
  case ET_REGISTRATION_ALREADY_REGISTERED: return "RegistrationAlreadyRegistered";
  case ET_NOT_FOUND: return "NotFound";
  case ET_MEMORY_ALLOCATION_FAILED: return "MemoryAllocationFailed";
  case ET_ACCESS_FAILED: return "AccessFailed";
  case ET_INVALID_PROGRAM: return "InvalidProgram";
  case ET_INVALID_EXTERNAL_DATA: return "InvalidExternalData";
  case ET_OUT_OF_RESOURCES: return "OutOfResources";
  case ET_DELEGATE_INVALID_COMPATIBILITY: return "DelegateInvalidCompatibility";
  case ET_DELEGATE_MEMORY_ALLOCATION_FAILED: return "DelegateMemoryAllocationFailed";
  case ET_DELEGATE_INVALID_HANDLE: return "DelegateInvalidHandle";
  }
  return "Unknown";
}

typedef struct out_buf {
  char *buf;
  size_t cap;
  size_t len;
} out_buf;

static void put_char(out_buf *o, char c) {
  if (o->len + 1 < o->cap) o->buf[o->len] = c;
  o->len++;
}

static void put_str(out_buf *o, const char *s) {
  if (!s) s = "(null)";
  while (*s) put_char(o, *s++);
}

static void put_unsigned(out_buf *o, uint64_t v, unsigned base) {
  char tmp[24];
  int n = 0;
  do {
    unsigned d = (unsigned)(v % base);
    tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    v /= base;
  } while (v);
  while (n) put_char(o, tmp[--n]);
}

static void put_signed(out_buf *o, int64_t v) {
  if (v < 0) {
    put_char(o, '-');
    put_unsigned(o, (uint64_t)0 - (uint64_t)v, 10);
  } else {
    put_unsigned(o, (uint64_t)v, 10);
  }
}

size_t et_formatv(char *buf, size_t cap, const char *fmt, va_list ap) {
  out_buf o = {buf, cap, 0};
  for (const char *p = fmt; *p; p++) {
    if (*p != '%') {
      put_char(&o, *p);
      continue;
    }
    p++;
    int longs = 0, size_t_arg = 0;
    while (*p == 'l') { longs++; p++; }
    if (*p == 'z') { size_t_arg = 1; p++; }
    switch (*p) {
    case 'd':
    case 'i': {
      int64_t v = size_t_arg ? (int64_t)va_arg(ap, ptrdiff_t)
                  : longs >= 2 ? (int64_t)va_arg(ap, long long)
                  : longs == 1 ? (int64_t)va_arg(ap, long)
                               : (int64_t)va_arg(ap, int);
      put_signed(&o, v);
      break;
    }
    case 'u':
    case 'x': {
      uint64_t v = size_t_arg ? (uint64_t)va_arg(ap, size_t)
                   : longs >= 2 ? (uint64_t)va_arg(ap, unsigned long long)
                   : longs == 1 ? (uint64_t)va_arg(ap, unsigned long)
                                : (uint64_t)va_arg(ap, unsigned);
      if (*p == 'x') put_str(&o, "0x");
      put_unsigned(&o, v, *p == 'x' ? 16u : 10u);
      break;
    }
    case 'p':
      put_str(&o, "0x");
      put_unsigned(&o, (uint64_t)(uintptr_t)va_arg(ap, void *), 16u);
      break;
    case 's': put_str(&o, va_arg(ap, const char *)); break;
    case 'c': put_char(&o, (char)va_arg(ap, int)); break;
    case '%': put_char(&o, '%'); break;
    case '\0': p--; break;
    default: put_char(&o, '%'); put_char(&o, *p); break;
    }
  }
  if (cap) buf[o.len < cap ? o.len : cap - 1] = '\0';
  return o.len < cap ? o.len : (cap ? cap - 1 : 0);
}

size_t et_format(char *buf, size_t cap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t n = et_formatv(buf, cap, fmt, ap);
  va_end(ap);
  return n;
}

et_status et_diag_setv(et_diag *d, et_status status, const char *fmt,
                       va_list ap) {
  if (d) {
    d->status = status;
    et_formatv(d->message, sizeof d->message, fmt, ap);
  }
  return status;
}

et_status et_diag_set(et_diag *d, et_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  et_diag_setv(d, status, fmt, ap);
  va_end(ap);
  return status;
}

void et_diag_clear(et_diag *d) {
  if (d) {
    d->status = ET_OK;
    d->message[0] = '\0';
  }
}
