/* The regex pre-tokenizer patterns the supported tokenizers use, written as
 * matchers (no regex engine). Each follows the pattern's alternatives in
 * order, with the backtracking the regex would do spelled out.
 *
 *  GPT-2:   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 *  Llama 3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
 *           ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 *  Qwen2:   as Llama 3 with \p{N} (one digit) instead of \p{N}{1,3}.
 *
 * Every position matches some alternative, so consecutive matches cover the
 * text (Split's Isolated behavior). An invalid UTF-8 byte is one character
 * in no class.
 */
#include "tok_internal.h"

#include "unicode.h"

#include <string.h>

static const struct {
  int pattern;
  const char *name;
  const char *re;
} kPatterns[] = {
    {PAT_GPT2, "gpt2",
     "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"},
    {PAT_LLAMA3, "llama3",
     "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
     "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
    {PAT_LLAMA3, "llama3",
     "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
     "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
    {PAT_QWEN2, "qwen2",
     "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
     "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
};

int tok_pattern_from_regex(const char *re, size_t len) {
  for (size_t i = 0; i < sizeof kPatterns / sizeof *kPatterns; i++)
    if (strlen(kPatterns[i].re) == len && memcmp(kPatterns[i].re, re, len) == 0)
      return kPatterns[i].pattern;
  return 0;
}

const char *tok_pattern_name(int pattern) {
  for (size_t i = 0; i < sizeof kPatterns / sizeof *kPatterns; i++)
    if (kPatterns[i].pattern == pattern) return kPatterns[i].name;
  return "none";
}

/* Character classes of one position. */
enum { C_L = 1, C_N = 2, C_S = 4, C_CRLF = 8, C_OTHER = 16 };

typedef struct ch {
  uint32_t cp;
  size_t len;
  int cls;
} ch;

static ch at(const uint8_t *s, size_t n, size_t i) {
  ch c;
  c.cp = et_utf8_decode(s + i, n - i, &c.len);
  int u = et_uc_class(c.cp);
  if (u == ET_UC_LETTER)
    c.cls = C_L;
  else if (u == ET_UC_NUMBER)
    c.cls = C_N;
  else if (et_uc_is_space(c.cp))
    c.cls = C_S | ((c.cp == '\r' || c.cp == '\n') ? C_CRLF : 0);
  else
    c.cls = C_OTHER;
  return c;
}

/* End of the run of characters in `mask` from i (at most `max` of them). */
static size_t run(const uint8_t *s, size_t n, size_t i, int mask, size_t max) {
  size_t k = 0;
  while (i < n && k < max) {
    ch c = at(s, n, i);
    if (!(c.cls & mask)) break;
    i += c.len;
    k++;
  }
  return i;
}

static int lower_ascii(uint32_t cp) { return cp < 0x80 ? (int)(cp | 0x20) : -1; }

/* The contractions 's 't 're 've 'm 'll 'd at i; 0 if none. */
static size_t contraction(const uint8_t *s, size_t n, size_t i, int icase) {
  if (s[i] != '\'' || i + 1 >= n) return 0;
  ch c1 = at(s, n, i + 1);
  int a = icase ? lower_ascii(c1.cp) : (c1.cp < 0x80 ? (int)c1.cp : -1);
  /* Case-insensitive 's also matches U+017F LATIN SMALL LETTER LONG S,
   * whose case folding is 's' (Oniguruma folds it). */
  if (icase && c1.cp == 0x17F) a = 's';
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 1 + c1.len;
  if (i + 1 + c1.len < n) {
    ch c2 = at(s, n, i + 1 + c1.len);
    int b = icase ? lower_ascii(c2.cp) : (c2.cp < 0x80 ? (int)c2.cp : -1);
    if (icase && c2.cp == 0x17F) b = 's';
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
      return i + 1 + c1.len + c2.len;
  }
  return 0;
}

/* \s+(?!\S) then \s+ at a whitespace character. */
static size_t space_tail(const uint8_t *s, size_t n, size_t i) {
  size_t j = run(s, n, i, C_S, SIZE_MAX);
  if (j == n) return j;
  /* Backtrack one character: the last whitespace is left for the next
   * match when it is followed by a non-space. */
  size_t last = i;
  for (size_t k = i; k < j;) {
    last = k;
    k += at(s, n, k).len;
  }
  return last > i ? last : j;
}

static size_t match_gpt2(const uint8_t *s, size_t n, size_t i) {
  size_t e = contraction(s, n, i, 0);
  if (e) return e;
  ch c = at(s, n, i);
  size_t k = i;
  ch d = c;
  if (c.cp == ' ' && i + 1 < n) {
    d = at(s, n, i + 1);
    if (d.cls & (C_L | C_N | C_OTHER))
      k = i + 1;
    else
      d = c;
  }
  if (d.cls & C_L) return run(s, n, k, C_L, SIZE_MAX);
  if (d.cls & C_N) return run(s, n, k, C_N, SIZE_MAX);
  if (d.cls & C_OTHER) return run(s, n, k, C_OTHER, SIZE_MAX);
  return space_tail(s, n, i);
}

static size_t match_llama(const uint8_t *s, size_t n, size_t i, size_t max_digits) {
  size_t e = contraction(s, n, i, 1);
  if (e) return e;
  ch c = at(s, n, i);
  /* [^\r\n\p{L}\p{N}]?\p{L}+ */
  if (c.cls & C_L) return run(s, n, i, C_L, SIZE_MAX);
  if (!(c.cls & (C_CRLF | C_N)) && i + c.len < n && (at(s, n, i + c.len).cls & C_L))
    return run(s, n, i + c.len, C_L, SIZE_MAX);
  /* \p{N}{1,3} */
  if (c.cls & C_N) return run(s, n, i, C_N, max_digits);
  /* ' ?[^\s\p{L}\p{N}]+[\r\n]*' */
  size_t k = i;
  if (c.cp == ' ' && i + 1 < n && (at(s, n, i + 1).cls & C_OTHER)) k = i + 1;
  if (at(s, n, k).cls & C_OTHER) {
    size_t j = run(s, n, k, C_OTHER, SIZE_MAX);
    return run(s, n, j, C_CRLF, SIZE_MAX);
  }
  /* c is whitespace. \s*[\r\n]+ : up to the last \r or \n of the run. */
  size_t j = run(s, n, i, C_S, SIZE_MAX);
  size_t end = 0;
  for (size_t q = i; q < j;) {
    ch x = at(s, n, q);
    q += x.len;
    if (x.cls & C_CRLF) end = q;
  }
  if (end) return end;
  return space_tail(s, n, i);
}

size_t tok_pattern_match(int pattern, const uint8_t *s, size_t n, size_t i) {
  size_t e;
  switch (pattern) {
  case PAT_GPT2: e = match_gpt2(s, n, i); break;
  case PAT_LLAMA3: e = match_llama(s, n, i, 3); break;
  case PAT_QWEN2: e = match_llama(s, n, i, 1); break;
  default: e = n; break;
  }
  return e > i ? e : i + 1; /* always progress */
}
