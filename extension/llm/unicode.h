/*
 * Unicode helpers for the tokenizers: UTF-8 decoding that never fails (an
 * invalid byte reads as one unit of its own), and the general categories
 * the pre-tokenizer patterns need (\p{L}, \p{N}, \s).
 *
 * The category table (unicode_tables.c) is generated from Python's
 * unicodedata by tools/gen_unicode_tables.py. Pure functions, thread-safe.
 */
#ifndef EDGETORCH_LLM_UNICODE_H
#define EDGETORCH_LLM_UNICODE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { ET_UC_OTHER = 0, ET_UC_LETTER = 1, ET_UC_NUMBER = 2, ET_UC_MARK = 3 };

typedef struct et_uc_range {
  uint32_t lo, hi;
  uint8_t cls;
} et_uc_range;

typedef struct et_uc_decomp {
  uint32_t cp;
  uint16_t off, len;
} et_uc_decomp;

typedef struct et_uc_comp {
  uint32_t first, second, composite;
} et_uc_comp;

extern const char et_uc_version[];
extern const size_t et_uc_range_count;
extern const et_uc_range et_uc_ranges[];
extern const size_t et_uc_ccc_count;
extern const et_uc_range et_uc_ccc_ranges[];
extern const size_t et_uc_decomp_count;
extern const et_uc_decomp et_uc_decomps[];
extern const uint32_t et_uc_decomp_cps[];
extern const size_t et_uc_comp_count;
extern const et_uc_comp et_uc_comps[];

/* Code point value returned for a byte that does not start a valid UTF-8
 * sequence: outside Unicode, so it is in no category. */
#define ET_UC_INVALID 0x110000u

/* Decode one unit at s[0..n) (n > 0): a valid UTF-8 sequence (shortest form,
 * no surrogates) gives its code point and length; anything else gives
 * ET_UC_INVALID and length 1. */
uint32_t et_utf8_decode(const uint8_t *s, size_t n, size_t *out_len);
/* Length of the UTF-8 unit at s[0..n) as et_utf8_decode sees it. */
size_t et_utf8_unit(const uint8_t *s, size_t n);
/* Encode cp (< 0x110000, not a surrogate) into out[4]; returns the length
 * (0 for an invalid code point). */
size_t et_utf8_encode(uint32_t cp, uint8_t out[4]);
/* Whether s[0..n) is entirely valid UTF-8. */
int et_utf8_valid(const uint8_t *s, size_t n);

int et_uc_class(uint32_t cp);
/* Canonical combining class (0 for starters and non-characters). */
int et_uc_ccc(uint32_t cp);
/* Unicode White_Space (what Oniguruma's \s matches in Unicode mode). */
int et_uc_is_space(uint32_t cp);

#ifdef __cplusplus
}
#endif

#endif /* EDGETORCH_LLM_UNICODE_H */
