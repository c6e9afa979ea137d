/* UTF-8 and general categories for the tokenizers (see unicode.h). */
#include "unicode.h"

uint32_t et_utf8_decode(const uint8_t *s, size_t n, size_t *out_len) {
  *out_len = 1;
  if (n == 0) return ET_UC_INVALID;
  uint8_t b = s[0];
  if (b < 0x80) return b;
  size_t len;
  uint32_t cp, min;
  if (b >= 0xC2 && b <= 0xDF) {
    len = 2, cp = b & 0x1Fu, min = 0x80;
  } else if (b >= 0xE0 && b <= 0xEF) {
    len = 3, cp = b & 0x0Fu, min = 0x800;
  } else if (b >= 0xF0 && b <= 0xF4) {
    len = 4, cp = b & 0x07u, min = 0x10000;
  } else {
    return ET_UC_INVALID;
  }
  if (n < len) return ET_UC_INVALID;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return ET_UC_INVALID;
    cp = (cp << 6) | (s[i] & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return ET_UC_INVALID;
  *out_len = len;
  return cp;
}

size_t et_utf8_unit(const uint8_t *s, size_t n) {
  size_t len;
  (void)et_utf8_decode(s, n, &len);
  return len;
}

size_t et_utf8_encode(uint32_t cp, uint8_t out[4]) {
  if (cp < 0x80) {
    out[0] = (uint8_t)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (uint8_t)(0xC0 | (cp >> 6));
    out[1] = (uint8_t)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
  if (cp < 0x10000) {
    out[0] = (uint8_t)(0xE0 | (cp >> 12));
    out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (uint8_t)(0x80 | (cp & 0x3F));
    return 3;
  }
  if (cp > 0x10FFFF) return 0;
  out[0] = (uint8_t)(0xF0 | (cp >> 18));
  out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (uint8_t)(0x80 | (cp & 0x3F));
  return 4;
}

int et_utf8_valid(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    size_t len;
    if (et_utf8_decode(s + i, n - i, &len) == ET_UC_INVALID) return 0;
    i += len;
  }
  return 1;
}

static int range_lookup(const et_uc_range *r, size_t count, uint32_t cp) {
  size_t lo = 0, hi = count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (cp < r[mid].lo)
      hi = mid;
    else if (cp > r[mid].hi)
      lo = mid + 1;
    else
      return r[mid].cls;
  }
  return 0;
}

int et_uc_ccc(uint32_t cp) {
  if (cp < 0x300) return 0;
  return range_lookup(et_uc_ccc_ranges, et_uc_ccc_count, cp);
}

int et_uc_class(uint32_t cp) {
  if (cp < 0x80) {
    if ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') return ET_UC_LETTER;
    if (cp >= '0' && cp <= '9') return ET_UC_NUMBER;
    return ET_UC_OTHER;
  }
  return range_lookup(et_uc_ranges, et_uc_range_count, cp);
}

int et_uc_is_space(uint32_t cp) {
  switch (cp) {
  case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20:
  case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
  case 0x202F: case 0x205F: case 0x3000:
    return 1;
  default:
    return cp >= 0x2000 && cp <= 0x200A;
  }
}
