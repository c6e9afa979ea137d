/* Unicode NFC for the tokenizer.json NFC normalizer (Qwen2): canonical
 * decomposition, canonical ordering, canonical composition (UAX #15), with
 * the tables of unicode_tables.c and Hangul done by arithmetic. Bytes that
 * are not valid UTF-8 are copied through and block composition. */
#include "tok_internal.h"

#include "unicode.h"

#include <stdlib.h>
#include <string.h>

enum { SBASE = 0xAC00, LBASE = 0x1100, VBASE = 0x1161, TBASE = 0x11A7,
       LCOUNT = 19, VCOUNT = 21, TCOUNT = 28, NCOUNT = VCOUNT * TCOUNT,
       SCOUNT = LCOUNT * NCOUNT };

/* A decoded unit: a code point, or a raw byte as 0x80000000 | byte. */
#define RAW_BIT 0x80000000u

typedef struct cpbuf {
  uint32_t *p;
  size_t len, cap;
} cpbuf;

static int cp_push(cpbuf *b, uint32_t c) {
  if (b->len == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 64;
    uint32_t *p = realloc(b->p, cap * sizeof *p);
    if (!p) return 0;
    b->p = p;
    b->cap = cap;
  }
  b->p[b->len++] = c;
  return 1;
}

static const et_uc_decomp *find_decomp(uint32_t cp) {
  size_t lo = 0, hi = et_uc_decomp_count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (cp < et_uc_decomps[mid].cp)
      hi = mid;
    else if (cp > et_uc_decomps[mid].cp)
      lo = mid + 1;
    else
      return &et_uc_decomps[mid];
  }
  return NULL;
}

static uint32_t compose(uint32_t a, uint32_t b) {
  if ((a | b) & RAW_BIT) return 0;
  if (a >= LBASE && a < LBASE + LCOUNT && b >= VBASE && b < VBASE + VCOUNT)
    return SBASE + ((a - LBASE) * VCOUNT + (b - VBASE)) * TCOUNT;
  if (a >= SBASE && a < SBASE + SCOUNT && (a - SBASE) % TCOUNT == 0 && b > TBASE &&
      b < TBASE + TCOUNT)
    return a + (b - TBASE);
  size_t lo = 0, hi = et_uc_comp_count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const et_uc_comp *c = &et_uc_comps[mid];
    if (a < c->first || (a == c->first && b < c->second))
      hi = mid;
    else if (a > c->first || b > c->second)
      lo = mid + 1;
    else
      return c->composite;
  }
  return 0;
}

static int ccc_of(uint32_t c) { return (c & RAW_BIT) ? 0 : et_uc_ccc(c); }

int tok_nfc(const uint8_t *s, size_t n, tok_buf *out) {
  size_t i;
  for (i = 0; i < n && s[i] < 0xCC; i++) {}
  if (i == n) return tok_buf_put(out, s, n); /* below U+0300: already NFC */
  cpbuf d = {0};
  int ok = 0;
  /* decompose */
  for (i = 0; i < n;) {
    size_t l;
    uint32_t cp = et_utf8_decode(s + i, n - i, &l);
    if (cp == ET_UC_INVALID) {
      if (!cp_push(&d, RAW_BIT | s[i])) goto done;
    } else if (cp >= SBASE && cp < SBASE + SCOUNT) {
      uint32_t si = cp - SBASE;
      if (!cp_push(&d, LBASE + si / NCOUNT) || !cp_push(&d, VBASE + (si % NCOUNT) / TCOUNT))
        goto done;
      if (si % TCOUNT && !cp_push(&d, TBASE + si % TCOUNT)) goto done;
    } else {
      const et_uc_decomp *dc = cp >= 0xC0 ? find_decomp(cp) : NULL;
      if (dc) {
        for (uint16_t k = 0; k < dc->len; k++)
          if (!cp_push(&d, et_uc_decomp_cps[dc->off + k])) goto done;
      } else if (!cp_push(&d, cp)) {
        goto done;
      }
    }
    i += l;
  }
  /* canonical order: stable insertion sort of each run of non-starters */
  for (size_t k = 1; k < d.len; k++) {
    int c = ccc_of(d.p[k]);
    if (c == 0) continue;
    size_t j = k;
    uint32_t x = d.p[k];
    while (j > 0 && ccc_of(d.p[j - 1]) > c) {
      d.p[j] = d.p[j - 1];
      j--;
    }
    d.p[j] = x;
  }
  /* compose */
  if (d.len) {
    size_t w = 1, starter = 0;
    int last = ccc_of(d.p[0]) == 0 ? 0 : 256;
    int have_starter = last == 0;
    for (size_t k = 1; k < d.len; k++) {
      uint32_t c = d.p[k];
      int cc = ccc_of(c);
      uint32_t comp = have_starter ? compose(d.p[starter], c) : 0;
      if (comp && (last < cc || last == 0)) {
        d.p[starter] = comp;
        continue;
      }
      if (cc == 0) {
        starter = w;
        have_starter = !(c & RAW_BIT);
      }
      last = cc;
      d.p[w++] = c;
    }
    d.len = w;
  }
  for (size_t k = 0; k < d.len; k++) {
    uint8_t b[4];
    size_t l;
    if (d.p[k] & RAW_BIT) {
      b[0] = (uint8_t)(d.p[k] & 0xFF);
      l = 1;
    } else {
      l = et_utf8_encode(d.p[k], b);
    }
    if (!tok_buf_put(out, b, l)) goto done;
  }
  ok = 1;
done:
  free(d.p);
  return ok;
}
