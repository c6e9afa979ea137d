/*
 * tokenizer_check: loads tokenizer files and exercises them, for the
 * robustness tests (run under AddressSanitizer + UndefinedBehaviorSanitizer
 * by tests/python/test_llm_tokenizer.py).
 *
 *   tokenizer_check FILE...                 load each; print "ok <kind> <vocab>"
 *                                           or "error <Status>: <message>"
 *   tokenizer_check --mutate N [--seed S] FILE
 *                                           N damaged copies of FILE (cuts,
 *                                           flipped and inserted bytes, digit
 *                                           runs, copied spans), each loaded
 *                                           from memory
 *
 * Every tokenizer that loads is exercised: encode of multilingual text,
 * invalid UTF-8 and special-token-like text, decode of the ids and of
 * random ids, and the streaming decoder. A failure must carry a message;
 * decode(encode(valid text)) must stay within the tokenizer's vocabulary.
 * Exit status 0 when every invariant held, 1 otherwise.
 */
#include "sampler.h"
#include "tokenizer.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kTexts[] = {
    "Hello world! It's a test, isn't it? 12345 67",
    "  leading and trailing  \t\n\r\n",
    "日本語のテキスト 中文 한국어 😀👍🏽 café naïve",
    "e\xcc\x81 a\xcc\x80 \xe1\xba\x9b\xcc\xa3",
    "<s> </s> <|endoftext|> <|begin_of_text|> <0x41> \xe2\x96\x81\xe2\x96\x81x",
    "\xff\xfe invalid \xc3 utf8 \xe2\x82 \xf0\x9f\x98 \xed\xa0\x80 end",
    "",
};

static uint64_t g_rng = 88172645463325252ull;
static uint64_t rnd(void) {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return g_rng;
}

static int g_bad = 0;

static void bad(const char *what) {
  printf("BAD: %s\n", what);
  g_bad++;
}

static void exercise(et_tokenizer *t) {
  uint32_t vocab = et_tokenizer_vocab_size(t);
  if (vocab == 0) bad("vocab size 0");
  et_diag d;
  for (size_t k = 0; k < sizeof kTexts / sizeof *kTexts; k++) {
    int32_t *ids = NULL;
    size_t n = 0;
    et_diag_clear(&d);
    et_status st = et_tokenizer_encode(t, kTexts[k], strlen(kTexts[k]), 0, &ids, &n, &d);
    if (st != ET_OK) {
      if (!d.message[0]) bad("encode failed without a message");
      continue;
    }
    for (size_t i = 0; i < n; i++)
      if (ids[i] < 0 || (uint32_t)ids[i] >= vocab) bad("encode gave an id outside the vocabulary");
    char *text = NULL;
    size_t len = 0;
    if (et_tokenizer_decode(t, ids, n, 0, &text, &len, &d) != ET_OK) bad("decode of encoded ids failed");
    free(text);
    et_token_stream s;
    et_token_stream_init(&s, t, k & 1);
    size_t cap = et_token_stream_max_bytes(t);
    char *buf = malloc(cap);
    for (size_t i = 0; buf && i < n; i++) {
      size_t l;
      if (et_token_stream_push(&s, ids[i], buf, cap, &l) != ET_OK || l > cap) bad("stream push failed");
    }
    size_t l;
    if (buf && (et_token_stream_flush(&s, buf, cap, &l) != ET_OK || l > cap)) bad("stream flush failed");
    free(buf);
    free(ids);
  }
  /* random ids, and ids outside the vocabulary */
  int32_t ids[16];
  for (int r = 0; r < 8; r++) {
    for (int i = 0; i < 16; i++) ids[i] = (int32_t)(rnd() % vocab);
    char *text = NULL;
    size_t len = 0;
    if (et_tokenizer_decode(t, ids, 16, r & 1, &text, &len, &d) != ET_OK) bad("decode of random ids failed");
    free(text);
    const uint8_t *b;
    size_t bl;
    if (et_tokenizer_token_bytes(t, ids[0], &b, &bl) != ET_OK) bad("token_bytes failed");
  }
  int32_t outside[2] = {(int32_t)vocab, -1};
  char *text = NULL;
  size_t len = 0;
  et_diag_clear(&d);
  if (et_tokenizer_decode(t, outside, 1, 0, &text, &len, &d) != ET_INVALID_ARGUMENT || !d.message[0])
    bad("decode accepted an id outside the vocabulary");
  if (et_tokenizer_decode(t, outside + 1, 1, 0, &text, &len, &d) != ET_INVALID_ARGUMENT)
    bad("decode accepted -1");
  /* the sampler over this vocabulary */
  et_sampler sm;
  if (et_sampler_init(&sm, vocab, 0.7f, 5, 0.9f, 1, &d) == ET_OK) {
    float *logits = malloc(vocab * sizeof *logits);
    void *scratch = malloc(et_sampler_scratch_size(vocab));
    if (logits && scratch) {
      for (uint32_t i = 0; i < vocab; i++) logits[i] = (float)(rnd() % 1000) / 100.0f;
      int32_t tok;
      if (et_sampler_sample(&sm, logits, scratch, et_sampler_scratch_size(vocab), &tok, &d) != ET_OK ||
          tok < 0 || (uint32_t)tok >= vocab)
        bad("sampler");
    }
    free(logits);
    free(scratch);
  }
}

static int load_one(const uint8_t *data, size_t size, int verbose) {
  et_tokenizer *t = NULL;
  et_diag d;
  et_diag_clear(&d);
  et_status st = et_tokenizer_load_buffer(data, size, &t, &d);
  if (st != ET_OK) {
    if (t) bad("failure left a tokenizer");
    if (!d.message[0]) bad("failure without a message");
    if (strcmp(et_status_name(st), "Unknown") == 0) bad("unknown status");
    if (verbose) printf("error %s: %s\n", et_status_name(st), d.message);
    return 0;
  }
  if (verbose)
    printf("ok %s %u\n", et_tokenizer_kind_name(et_tokenizer_kind_of(t)), et_tokenizer_vocab_size(t));
  exercise(t);
  et_tokenizer_free(t);
  return 1;
}

static uint8_t *read_file(const char *path, size_t *out) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  uint8_t *b = malloc(cap);
  size_t got;
  while (b && (got = fread(b + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      uint8_t *nb = realloc(b, cap *= 2);
      if (!nb) free(b);
      b = nb;
    }
  }
  fclose(f);
  *out = n;
  return b;
}

static size_t mutate(const uint8_t *src, size_t n, uint8_t *dst, size_t cap) {
  size_t len = n;
  memcpy(dst, src, n);
  int kinds = 1 + (int)(rnd() % 3);
  for (int k = 0; k < kinds; k++) {
    size_t pos = len ? (size_t)(rnd() % len) : 0;
    switch (rnd() % 7) {
    case 0: /* cut */
      len = pos;
      break;
    case 1: /* flip bytes */
      for (int i = 0; i < 4 && len; i++) dst[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8));
      break;
    case 2: /* random bytes */
      for (int i = 0; i < 8 && len; i++) dst[rnd() % len] = (uint8_t)rnd();
      break;
    case 3: { /* insert bytes */
      size_t ins = 1 + rnd() % 16;
      if (len + ins > cap) break;
      memmove(dst + pos + ins, dst + pos, len - pos);
      static const char kIns[] = "{}[]\",:0123456789\\u\x80\xff";
      for (size_t i = 0; i < ins; i++) dst[pos + i] = (uint8_t)kIns[rnd() % (sizeof kIns - 1)];
      len += ins;
      break;
    }
    case 4: { /* a digit run becomes huge */
      size_t i = pos;
      while (i < len && !(dst[i] >= '0' && dst[i] <= '9')) i++;
      if (i < len) {
        const char *big = rnd() & 1 ? "99999999999999999999" : "-1";
        size_t bl = strlen(big);
        if (len + bl > cap) break;
        memmove(dst + i + bl, dst + i, len - i);
        memcpy(dst + i, big, bl);
        len += bl;
      }
      break;
    }
    case 5: { /* copy a span over another */
      if (!len) break;
      size_t from = (size_t)(rnd() % len), span = 1 + rnd() % 64;
      if (from + span > len) span = len - from;
      if (pos + span > len) span = len - pos;
      memmove(dst + pos, dst + from, span);
      break;
    }
    default: /* a varint-looking run */
      for (int i = 0; i < 10 && pos + (size_t)i < len; i++) dst[pos + (size_t)i] = 0xff;
      break;
    }
  }
  return len;
}

int main(int argc, char **argv) {
  long count = 0;
  int a = 1;
  while (a < argc && argv[a][0] == '-' && argv[a][1] == '-') {
    if (!strcmp(argv[a], "--mutate") && a + 1 < argc) {
      count = atol(argv[++a]);
    } else if (!strcmp(argv[a], "--seed") && a + 1 < argc) {
      g_rng = 88172645463325252ull ^ (uint64_t)atoll(argv[++a]) * 0x9E3779B97F4A7C15ull;
    } else {
      fprintf(stderr, "unknown option %s\n", argv[a]);
      return 2;
    }
    a++;
  }
  if (a >= argc) {
    fprintf(stderr, "usage: tokenizer_check [--mutate N [--seed S]] FILE...\n");
    return 2;
  }
  for (; a < argc; a++) {
    size_t n = 0;
    uint8_t *data = read_file(argv[a], &n);
    if (!data) {
      et_tokenizer *t = NULL;
      et_diag d;
      et_diag_clear(&d);
      et_status st = et_tokenizer_load_file(argv[a], &t, &d);
      printf("error %s: %s\n", et_status_name(st), d.message);
      if (st == ET_OK || !d.message[0]) g_bad++;
      et_tokenizer_free(t);
      continue;
    }
    if (count == 0) {
      et_tokenizer *t = NULL;
      et_diag d;
      et_diag_clear(&d);
      /* from the file, so that tokenizer_config.json is read too */
      et_status st = et_tokenizer_load_file(argv[a], &t, &d);
      if (st == ET_OK) {
        printf("ok %s %u\n", et_tokenizer_kind_name(et_tokenizer_kind_of(t)), et_tokenizer_vocab_size(t));
        exercise(t);
        et_tokenizer_free(t);
      } else {
        printf("error %s: %s\n", et_status_name(st), d.message);
        if (!d.message[0]) bad("failure without a message");
      }
    } else {
      size_t cap = n + 4096;
      uint8_t *buf = malloc(cap);
      long loaded = 0;
      for (long i = 0; buf && i < count; i++) {
        size_t len = mutate(data, n, buf, cap);
        /* an exact-size copy, so a read past the end is caught */
        uint8_t *exact = malloc(len ? len : 1);
        if (!exact) break;
        memcpy(exact, buf, len);
        loaded += load_one(exact, len, getenv("TOKENIZER_CHECK_VERBOSE") != NULL);
        free(exact);
      }
      free(buf);
      printf("%s: %ld variants, %ld loaded, %ld refused, %d bad\n", argv[a], count, loaded,
             count - loaded, g_bad);
    }
    free(data);
  }
  return g_bad ? 1 : 0;
}
