/* NumPy .npy reader and writer (see npy.h). */
#include "npy.h"

#include "file_data.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

typedef struct descr_entry {
  const char *code; /* without the byte-order character */
  int dtype;
  bool neutral;     /* one byte: any byte-order character is fine */
} descr_entry;

static const descr_entry kDescrs[] = {
    {"f2", ET_HALF, false},          {"f4", ET_FLOAT, false},
    {"f8", ET_DOUBLE, false},        {"c8", ET_COMPLEX_FLOAT, false},
    {"c16", ET_COMPLEX_DOUBLE, false}, {"i2", ET_SHORT, false},
    {"i4", ET_INT, false},           {"i8", ET_LONG, false},
    {"u2", ET_UINT16, false},        {"u4", ET_UINT32, false},
    {"u8", ET_UINT64, false},        {"i1", ET_CHAR, true},
    {"u1", ET_BYTE, true},           {"b1", ET_BOOL, true},
    {"V2", ET_BFLOAT16, false},
};

const char *et_npy_descr(int dtype) {
  switch (dtype) {
  case ET_HALF: return "<f2";
  case ET_FLOAT: return "<f4";
  case ET_DOUBLE: return "<f8";
  case ET_COMPLEX_FLOAT: return "<c8";
  case ET_COMPLEX_DOUBLE: return "<c16";
  case ET_SHORT: return "<i2";
  case ET_INT: return "<i4";
  case ET_LONG: return "<i8";
  case ET_UINT16: return "<u2";
  case ET_UINT32: return "<u4";
  case ET_UINT64: return "<u8";
  case ET_CHAR: return "|i1";
  case ET_BYTE: return "|u1";
  case ET_BOOL: return "|b1";
  case ET_BFLOAT16: return "<V2";
  default: return NULL;
  }
}

/* -2: big-endian multi-byte; -1: unknown. */
static int lookup_descr(const char *s, size_t len) {
  if (len < 2) return -1;
  char order = s[0];
  if (order != '<' && order != '>' && order != '|' && order != '=') return -1;
  for (size_t i = 0; i < sizeof kDescrs / sizeof kDescrs[0]; i++) {
    const descr_entry *e = &kDescrs[i];
    size_t n = strlen(e->code);
    if (n != len - 1 || memcmp(e->code, s + 1, n) != 0) continue;
    if (e->neutral) return e->dtype;
    /* '=' is native order, and the host is little-endian. '|' on a void
     * type is how some writers spell "no byte order"; a bfloat16 element is
     * still stored little-endian by ml_dtypes. */
    if (order == '<' || order == '=' ||
        (order == '|' && e->dtype == ET_BFLOAT16)) {
      return e->dtype;
    }
    return order == '>' ? -2 : -1;
  }
  return -1;
}

int et_npy_dtype_from_descr(const char *descr, size_t len) {
  int d = lookup_descr(descr, len);
  return d < 0 ? -1 : d;
}

/* ---- header dictionary parser ------------------------------------------ */

typedef struct hparser {
  const char *s;
  size_t n;
  size_t pos;
  et_diag *diag;
} hparser;

static void skip_ws(hparser *h) {
  while (h->pos < h->n && (h->s[h->pos] == ' ' || h->s[h->pos] == '\t' ||
                           h->s[h->pos] == '\n' || h->s[h->pos] == '\r')) {
    h->pos++;
  }
}

static et_status bad(hparser *h, const char *what) {
  /* Header offsets are reported from the start of the dictionary text. */
  return et_diag_set(h->diag, ET_INVALID_ARGUMENT,
                     "malformed .npy header: %s at header byte %zu", what,
                     h->pos);
}

static bool peek(hparser *h, char c) {
  return h->pos < h->n && h->s[h->pos] == c;
}

static et_status expect(hparser *h, char c, const char *what) {
  skip_ws(h);
  if (!peek(h, c)) return bad(h, what);
  h->pos++;
  return ET_OK;
}

/* A quoted string without escapes; sets *out and *len to its contents. */
static et_status parse_string(hparser *h, const char **out, size_t *len) {
  skip_ws(h);
  if (h->pos >= h->n || (h->s[h->pos] != '\'' && h->s[h->pos] != '"')) {
    return bad(h, "expected a quoted string");
  }
  char q = h->s[h->pos++];
  size_t start = h->pos;
  while (h->pos < h->n && h->s[h->pos] != q) {
    if (h->s[h->pos] == '\\') return bad(h, "escapes are not supported");
    h->pos++;
  }
  if (h->pos >= h->n) return bad(h, "unterminated string");
  *out = h->s + start;
  *len = h->pos - start;
  h->pos++;
  return ET_OK;
}

static bool match_word(hparser *h, const char *w) {
  size_t n = strlen(w);
  if (h->n - h->pos < n || memcmp(h->s + h->pos, w, n) != 0) return false;
  /* The word must end there ("Truex" is not True). */
  if (h->pos + n < h->n) {
    char c = h->s[h->pos + n];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '_') {
      return false;
    }
  }
  h->pos += n;
  return true;
}

static et_status parse_bool(hparser *h, bool *out) {
  skip_ws(h);
  if (match_word(h, "True")) {
    *out = true;
  } else if (match_word(h, "False")) {
    *out = false;
  } else {
    return bad(h, "fortran_order must be True or False");
  }
  return ET_OK;
}

static et_status parse_shape(hparser *h, uint32_t *rank, int64_t *shape) {
  et_status st = expect(h, '(', "shape must be a tuple");
  if (st) return st;
  uint32_t r = 0;
  for (;;) {
    skip_ws(h);
    if (peek(h, ')')) break;
    if (h->pos >= h->n || h->s[h->pos] < '0' || h->s[h->pos] > '9') {
      return bad(h, "shape entries must be non-negative integers");
    }
    int64_t v = 0;
    while (h->pos < h->n && h->s[h->pos] >= '0' && h->s[h->pos] <= '9') {
      int digit = h->s[h->pos] - '0';
      if (v > (INT64_MAX - digit) / 10) return bad(h, "shape entry overflows");
      v = v * 10 + digit;
      h->pos++;
    }
    if (peek(h, 'L')) h->pos++; /* Python 2 long literal */
    if (r >= ET_MAX_RANK) {
      return et_diag_set(h->diag, ET_NOT_SUPPORTED,
                         ".npy array has more than %d dimensions",
                         (int)ET_MAX_RANK);
    }
    shape[r++] = v;
    skip_ws(h);
    if (peek(h, ',')) {
      h->pos++;
      continue;
    }
    if (!peek(h, ')')) return bad(h, "expected ',' or ')' in shape");
  }
  h->pos++; /* ')' */
  *rank = r;
  return ET_OK;
}

typedef struct header_fields {
  const char *descr;
  size_t descr_len;
  bool fortran;
  uint32_t rank;
  int64_t shape[ET_MAX_RANK];
} header_fields;

static et_status parse_dict(hparser *h, header_fields *f) {
  bool have_descr = false, have_fortran = false, have_shape = false;
  et_status st = expect(h, '{', "expected '{'");
  if (st) return st;
  for (;;) {
    skip_ws(h);
    if (peek(h, '}')) break;
    const char *key;
    size_t klen;
    if ((st = parse_string(h, &key, &klen))) return st;
    if ((st = expect(h, ':', "expected ':' after key"))) return st;
    if (klen == 5 && memcmp(key, "descr", 5) == 0) {
      if (have_descr) return bad(h, "duplicate key 'descr'");
      have_descr = true;
      skip_ws(h);
      if (peek(h, '[')) {
        return et_diag_set(h->diag, ET_NOT_SUPPORTED,
                           ".npy structured dtypes are not supported");
      }
      if ((st = parse_string(h, &f->descr, &f->descr_len))) return st;
    } else if (klen == 13 && memcmp(key, "fortran_order", 13) == 0) {
      if (have_fortran) return bad(h, "duplicate key 'fortran_order'");
      have_fortran = true;
      if ((st = parse_bool(h, &f->fortran))) return st;
    } else if (klen == 5 && memcmp(key, "shape", 5) == 0) {
      if (have_shape) return bad(h, "duplicate key 'shape'");
      have_shape = true;
      if ((st = parse_shape(h, &f->rank, f->shape))) return st;
    } else {
      return bad(h, "unknown key");
    }
    skip_ws(h);
    if (peek(h, ',')) {
      h->pos++;
      continue;
    }
    if (!peek(h, '}')) return bad(h, "expected ',' or '}'");
  }
  h->pos++; /* '}' */
  skip_ws(h);
  if (h->pos != h->n) return bad(h, "unexpected text after the dictionary");
  if (!have_descr || !have_fortran || !have_shape) {
    return et_diag_set(h->diag, ET_INVALID_ARGUMENT,
                       "malformed .npy header: missing key '%s'",
                       !have_descr ? "descr"
                       : !have_fortran ? "fortran_order"
                                       : "shape");
  }
  return ET_OK;
}

et_status et_npy_parse(const void *buf, size_t size, et_npy_array *out,
                       et_diag *diag) {
  memset(out, 0, sizeof *out);
  const uint8_t *b = buf;
  if (!b && size) return et_diag_set(diag, ET_INVALID_ARGUMENT, "no data");
  if (size < 10 || memcmp(b, kMagic, sizeof kMagic) != 0) {
    return et_diag_set(diag, ET_INVALID_ARGUMENT,
                       "not a .npy file (bad magic, %zu bytes)", size);
  }
  unsigned major = b[6], minor = b[7];
  size_t prefix, hlen;
  if (major == 1 && minor == 0) {
    prefix = 10;
    hlen = (size_t)b[8] | (size_t)b[9] << 8;
  } else if ((major == 2 || major == 3) && minor == 0) {
    if (size < 12) {
      return et_diag_set(diag, ET_INVALID_ARGUMENT,
                         ".npy file truncated in its preamble");
    }
    prefix = 12;
    uint32_t l = (uint32_t)b[8] | (uint32_t)b[9] << 8 | (uint32_t)b[10] << 16 |
                 (uint32_t)b[11] << 24;
    hlen = l;
  } else {
    return et_diag_set(diag, ET_NOT_SUPPORTED,
                       ".npy format version %u.%u is not supported "
                       "(1.0, 2.0 and 3.0 are)",
                       major, minor);
  }
  if (hlen > size - prefix) {
    return et_diag_set(diag, ET_INVALID_ARGUMENT,
                       ".npy header length %zu runs past the end of the file "
                       "(%zu bytes)",
                       hlen, size);
  }
  hparser h = {(const char *)b + prefix, hlen, 0, diag};
  header_fields f;
  memset(&f, 0, sizeof f);
  et_status st = parse_dict(&h, &f);
  if (st) return st;

  int dtype = lookup_descr(f.descr, f.descr_len);
  if (dtype < 0) {
    char d[40];
    size_t n = f.descr_len < sizeof d - 1 ? f.descr_len : sizeof d - 1;
    memcpy(d, f.descr, n);
    d[n] = '\0';
    if (dtype == -2) {
      return et_diag_set(diag, ET_NOT_SUPPORTED,
                         ".npy descr '%s' is big-endian; save little-endian "
                         "data (arr.astype(arr.dtype.newbyteorder('<')))",
                         d);
    }
    return et_diag_set(diag, ET_NOT_SUPPORTED,
                       ".npy descr '%s' has no edgetorch dtype", d);
  }
  if (f.fortran) {
    return et_diag_set(diag, ET_NOT_SUPPORTED,
                       ".npy array is in Fortran order; save a C-ordered "
                       "array (np.ascontiguousarray)");
  }
  size_t esize = et_dtype_size(dtype);
  size_t numel = 1;
  for (uint32_t d = 0; d < f.rank; d++) {
    uint64_t s = (uint64_t)f.shape[d];
    if (s > SIZE_MAX || (s != 0 && numel > SIZE_MAX / (size_t)s)) {
      return et_diag_set(diag, ET_INVALID_ARGUMENT,
                         ".npy shape is too large");
    }
    numel *= (size_t)s;
  }
  if (numel > SIZE_MAX / esize) {
    return et_diag_set(diag, ET_INVALID_ARGUMENT, ".npy shape is too large");
  }
  size_t nbytes = numel * esize;
  size_t data_off = prefix + hlen;
  size_t avail = size - data_off;
  if (avail < nbytes) {
    return et_diag_set(diag, ET_INVALID_ARGUMENT,
                       ".npy data truncated: the header promises %zu bytes, "
                       "the file has %zu",
                       nbytes, avail);
  }
  if (avail > nbytes) {
    return et_diag_set(diag, ET_INVALID_ARGUMENT,
                       ".npy file has %zu bytes after its %zu bytes of data",
                       avail - nbytes, nbytes);
  }
  out->dtype = dtype;
  out->rank = f.rank;
  for (uint32_t d = 0; d < f.rank; d++) out->shape[d] = f.shape[d];
  out->numel = numel;
  out->nbytes = nbytes;
  out->data = (void *)(uintptr_t)(b + data_off);
  out->version = major;
  return ET_OK;
}

et_status et_npy_read_file(const char *path, et_npy_array *out,
                           et_diag *diag) {
  memset(out, 0, sizeof *out);
  et_file_data file;
  et_status st = et_file_read(path, &file, diag);
  if (st) return st;
  st = et_npy_parse(file.data, file.size, out, diag);
  if (st) {
    if (diag) {
      /* Prefix the file's name to the parser's message. */
      char msg[ET_DIAG_CAP];
      memcpy(msg, diag->message, sizeof msg);
      et_diag_set(diag, st, "%s: %s", path, msg);
    }
    et_file_release(&file);
    return st;
  }
  if (((uintptr_t)out->data % ET_FILE_ALIGN) == 0) {
    out->storage = file.data; /* np.save pads headers to 64: the usual case */
    return ET_OK;
  }
  void *copy = et_aligned_malloc(out->nbytes);
  if (!copy) {
    et_file_release(&file);
    return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED,
                       "%s: cannot allocate %zu bytes", path, out->nbytes);
  }
  if (out->nbytes) memcpy(copy, out->data, out->nbytes);
  et_file_release(&file);
  out->data = copy;
  out->storage = copy;
  return ET_OK;
}

void et_npy_free(et_npy_array *a) {
  if (!a) return;
  free(a->storage);
  memset(a, 0, sizeof *a);
}

et_status et_npy_header(int dtype, uint32_t rank, const int64_t *shape,
                        char *buf, size_t cap, size_t *out_len,
                        et_diag *diag) {
  const char *descr = et_npy_descr(dtype);
  if (!descr) {
    return et_diag_set(diag, ET_NOT_SUPPORTED,
                       "dtype %s cannot be stored in a .npy file",
                       et_dtype_name(dtype));
  }
  if (rank > ET_MAX_RANK || (rank && !shape)) {
    return et_diag_set(diag, ET_INVALID_ARGUMENT, "bad rank %u", rank);
  }
  char dict[ET_NPY_HEADER_MAX];
  size_t n = et_format(dict, sizeof dict,
                       "{'descr': '%s', 'fortran_order': False, 'shape': (",
                       descr);
  for (uint32_t d = 0; d < rank; d++) {
    if (shape[d] < 0) {
      return et_diag_set(diag, ET_INVALID_ARGUMENT, "negative size %lld",
                         (long long)shape[d]);
    }
    n += et_format(dict + n, sizeof dict - n, d + 1 < rank || rank == 1
                                                  ? "%lld,"
                                                  : "%lld",
                   (long long)shape[d]);
    if (d + 1 < rank) n += et_format(dict + n, sizeof dict - n, " ");
  }
  n += et_format(dict + n, sizeof dict - n, "), }");
  /* Pad with spaces and a final newline so data starts at a multiple of 64. */
  size_t total = 10 + n + 1;
  total = (total + 63) / 64 * 64;
  if (total > ET_NPY_HEADER_MAX || total > cap || !buf) {
    return et_diag_set(diag, ET_INVALID_ARGUMENT,
                       ".npy header needs %zu bytes, buffer has %zu", total,
                       cap);
  }
  size_t hlen = total - 10;
  memcpy(buf, kMagic, sizeof kMagic);
  buf[6] = 1;
  buf[7] = 0;
  buf[8] = (char)(hlen & 0xff);
  buf[9] = (char)(hlen >> 8);
  memcpy(buf + 10, dict, n);
  memset(buf + 10 + n, ' ', hlen - n - 1);
  buf[total - 1] = '\n';
  *out_len = total;
  return ET_OK;
}

static bool write_all(int fd, const void *data, size_t n) {
  const uint8_t *p = data;
  while (n) {
    size_t chunk = n > ((size_t)1 << 30) ? ((size_t)1 << 30) : n;
    ssize_t w = write(fd, p, chunk);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= (size_t)w;
  }
  return true;
}

et_status et_npy_write_file(const char *path, int dtype, uint32_t rank,
                            const int64_t *shape, const void *data,
                            size_t nbytes, et_diag *diag) {
  char header[ET_NPY_HEADER_MAX];
  size_t hlen = 0;
  et_status st = et_npy_header(dtype, rank, shape, header, sizeof header,
                               &hlen, diag);
  if (st) return st;
  size_t numel = 1;
  for (uint32_t d = 0; d < rank; d++) {
    if ((uint64_t)shape[d] > SIZE_MAX ||
        (shape[d] && numel > SIZE_MAX / (size_t)shape[d])) {
      return et_diag_set(diag, ET_INVALID_ARGUMENT, "shape too large");
    }
    numel *= (size_t)shape[d];
  }
  size_t esize = et_dtype_size(dtype);
  if (numel > SIZE_MAX / esize || numel * esize != nbytes) {
    return et_diag_set(diag, ET_INVALID_ARGUMENT,
                       "%s: %zu bytes of data do not match the shape "
                       "(%zu elements of %zu bytes)",
                       path, nbytes, numel, esize);
  }
  if (nbytes && !data) {
    return et_diag_set(diag, ET_INVALID_ARGUMENT, "no data to write");
  }
  int fd;
  do {
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  } while (fd < 0 && errno == EINTR);
  int err = errno;
  if (fd < 0) {
    char text[128];
    if (strerror_r(err, text, sizeof text) != 0) text[0] = '\0';
    return et_diag_set(diag, err == ENOENT ? ET_NOT_FOUND : ET_ACCESS_FAILED,
                       "cannot create '%s': %s", path, text);
  }
  bool ok = write_all(fd, header, hlen) && write_all(fd, data, nbytes);
  err = errno;
  if (close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (!ok) {
    char text[128];
    if (strerror_r(err, text, sizeof text) != 0) text[0] = '\0';
    return et_diag_set(diag, ET_ACCESS_FAILED, "cannot write '%s': %s", path,
                       text);
  }
  return ET_OK;
}
