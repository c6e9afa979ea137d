/*
 * The tokenizers of extension/llm/ on small hand-written files, so that the C
 * suites (and their ASan and cross builds) cover encode, decode and
 * streaming without Python: a byte-level BPE tokenizer.json, a
 * Metaspace / byte-fallback one, and a SentencePiece BPE ModelProto written
 * here field by field. The oracle comparisons over thousands of strings are
 * in tests/python/test_llm_tokenizer.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tokenizer.h"

#include <stdlib.h>
#include <string.h>

/* Byte-level: "Ġ" is the space byte, "Ã" "©" the two bytes of "é". */
static const char kByteLevel[] =
    "{\"added_tokens\":[{\"id\":13,\"content\":\"<|endoftext|>\",\"special\":true}],"
    "\"normalizer\":null,"
    "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":true},"
    "\"decoder\":{\"type\":\"ByteLevel\"},"
    "\"model\":{\"type\":\"BPE\",\"vocab\":{\"h\":0,\"e\":1,\"l\":2,\"o\":3,\"\\u0120\":4,"
    "\"w\":5,\"r\":6,\"d\":7,\"he\":8,\"ll\":9,\"llo\":10,\"hello\":11,\"\\u0120w\":12,"
    "\"<|endoftext|>\":13,\"\\u00c3\":14,\"\\u00a9\":15,\"\\u00c3\\u00a9\":16},"
    "\"merges\":[\"h e\",\"l l\",\"ll o\",\"he llo\",\"\\u0120 w\",[\"\\u00c3\",\"\\u00a9\"]]}}";

/* SentencePiece-style BPE in tokenizer.json, Metaspace pre-tokenizer and
 * decoder, byte fallback for what the vocabulary lacks. */
static const char kMetaspace[] =
    "{\"added_tokens\":[{\"id\":1,\"content\":\"<s>\",\"special\":true}],"
    "\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"\\u2581\","
    "\"prepend_scheme\":\"first\",\"split\":false},"
    "\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Metaspace\","
    "\"replacement\":\"\\u2581\",\"prepend_scheme\":\"first\",\"split\":false},"
    "{\"type\":\"ByteFallback\"},{\"type\":\"Fuse\"}]},"
    "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":"
    "{\"id\":\"<s>\",\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],"
    "\"special_tokens\":{\"<s>\":{\"id\":\"<s>\",\"ids\":[1],\"tokens\":[\"<s>\"]}}},"
    "\"model\":{\"type\":\"BPE\",\"unk_token\":\"<unk>\",\"byte_fallback\":true,\"fuse_unk\":true,"
    "\"vocab\":{\"<unk>\":0,\"<s>\":1,\"<0xE2>\":2,\"<0x82>\":3,\"<0xAC>\":4,\"\\u2581\":5,"
    "\"a\":6,\"b\":7,\"\\u2581a\":8,\"\\u2581ab\":9},"
    "\"merges\":[\"\\u2581 a\",\"\\u2581a b\"]}}";

static et_tokenizer *load(const char *text) {
  et_tokenizer *t = NULL;
  et_diag d;
  et_diag_clear(&d);
  et_status st = et_tokenizer_load_buffer(text, strlen(text), &t, &d);
  if (st != ET_OK) print_message("load failed: %s\n", d.message);
  assert_int_equal(st, ET_OK);
  return t;
}

static void expect_ids(et_tokenizer *t, const char *text, int add_bos, const int32_t *want,
                       size_t n) {
  int32_t *ids = NULL;
  size_t got = 0;
  et_diag d;
  et_diag_clear(&d);
  assert_int_equal(et_tokenizer_encode(t, text, strlen(text), add_bos, &ids, &got, &d), ET_OK);
  if (got != n || memcmp(ids, want, n * sizeof *want) != 0) {
    print_message("'%s': got", text);
    for (size_t i = 0; i < got; i++) print_message(" %d", (int)ids[i]);
    print_message("\n");
  }
  assert_int_equal(got, n);
  assert_memory_equal(ids, want, n * sizeof *want);
  free(ids);
}

static void expect_text(et_tokenizer *t, const int32_t *ids, size_t n, const char *want) {
  char *text = NULL;
  size_t len = 0;
  assert_int_equal(et_tokenizer_decode(t, ids, n, 0, &text, &len, NULL), ET_OK);
  assert_int_equal(len, strlen(want));
  assert_memory_equal(text, want, len);
  free(text);
}

static void test_byte_level(void **state) {
  (void)state;
  et_tokenizer *t = load(kByteLevel);
  assert_int_equal(et_tokenizer_kind_of(t), ET_TOKENIZER_HF_BPE);
  assert_int_equal(et_tokenizer_vocab_size(t), 17);
  const int32_t a[] = {11, 12, 3, 6, 2, 7};
  expect_ids(t, "hello world", 0, a, 6);
  expect_text(t, a, 6, "hello world");
  const int32_t b[] = {11, 13, 11};
  expect_ids(t, "hello<|endoftext|>hello", 0, b, 3);
  expect_text(t, b, 3, "hello<|endoftext|>hello");
  const int32_t c[] = {16, 4, 8};
  expect_ids(t, "\xc3\xa9 he", 0, c, 3);
  /* the EOS guess is <|endoftext|>; there is no BOS */
  assert_int_equal(et_tokenizer_eos_id(t), 13);
  assert_int_equal(et_tokenizer_bos_id(t), -1);
  int32_t *ids = NULL;
  size_t n = 0;
  et_diag d;
  et_diag_clear(&d);
  assert_int_equal(et_tokenizer_encode(t, "x", 1, 1, &ids, &n, &d), ET_INVALID_ARGUMENT);
  assert_non_null(strstr(d.message, "no BOS"));
  /* skip_special */
  char *text = NULL;
  size_t len;
  assert_int_equal(et_tokenizer_decode(t, b, 3, 1, &text, &len, NULL), ET_OK);
  assert_string_equal(text, "hellohello");
  free(text);
  et_tokenizer_free(t);
}

static void test_stream_split_character(void **state) {
  (void)state;
  et_tokenizer *t = load(kByteLevel);
  et_token_stream s;
  et_token_stream_init(&s, t, 0);
  size_t cap = et_token_stream_max_bytes(t);
  char *buf = malloc(cap);
  size_t len = 99;
  assert_int_equal(et_token_stream_push(&s, 11, buf, cap, &len), ET_OK);
  assert_int_equal(len, 5);
  assert_memory_equal(buf, "hello", 5);
  assert_int_equal(et_token_stream_push(&s, 14, buf, cap, &len), ET_OK); /* 0xC3: held */
  assert_int_equal(len, 0);
  assert_int_equal(et_token_stream_push(&s, 15, buf, cap, &len), ET_OK); /* 0xA9: é */
  assert_int_equal(len, 2);
  assert_memory_equal(buf, "\xc3\xa9", 2);
  assert_int_equal(et_token_stream_push(&s, 14, buf, cap, &len), ET_OK);
  assert_int_equal(len, 0);
  assert_int_equal(et_token_stream_push(&s, 4, buf, cap, &len), ET_OK); /* a space: bad */
  assert_int_equal(len, 4);
  assert_memory_equal(buf, "\xef\xbf\xbd ", 4);
  assert_int_equal(et_token_stream_push(&s, 14, buf, cap, &len), ET_OK);
  assert_int_equal(et_token_stream_flush(&s, buf, cap, &len), ET_OK);
  assert_int_equal(len, 3); /* a dangling lead byte */
  assert_int_equal(et_token_stream_push(&s, 17, buf, cap, &len), ET_INVALID_ARGUMENT);
  free(buf);
  et_tokenizer_free(t);
}

static void test_metaspace_byte_fallback(void **state) {
  (void)state;
  et_tokenizer *t = load(kMetaspace);
  assert_int_equal(et_tokenizer_bos_id(t), 1);
  /* "ab ab" -> "▁ab▁ab"; "€" (E2 82 AC) is not in the vocabulary: bytes */
  const int32_t a[] = {1, 9, 9, 2, 3, 4};
  expect_ids(t, "ab ab\xe2\x82\xac", 1, a, 6);
  /* the first token loses its "▁"; <s> first keeps the space of the next */
  expect_text(t, a + 1, 5, "ab ab\xe2\x82\xac");
  expect_text(t, a, 6, "<s> ab ab\xe2\x82\xac");
  /* a run of byte tokens that is not UTF-8 becomes U+FFFD per byte */
  const int32_t bad[] = {9, 2, 3, 9};
  expect_text(t, bad, 4, "ab\xef\xbf\xbd\xef\xbf\xbd ab");
  /* an unknown character without a byte token: <unk> (fused) */
  const int32_t u[] = {8, 0};
  expect_ids(t, "a\xc3\xa9\xc3\xa9", 0, u, 2);
  et_tokenizer_free(t);
}

/* ---- a SentencePiece ModelProto, written field by field ----------------- */

typedef struct pbw {
  uint8_t b[2048];
  size_t n;
} pbw;

static void put_varint(pbw *w, uint64_t v) {
  do {
    uint8_t c = (uint8_t)(v & 0x7f);
    v >>= 7;
    w->b[w->n++] = (uint8_t)(c | (v ? 0x80 : 0));
  } while (v);
}

static void put_bytes(pbw *w, uint32_t field, const void *p, size_t n) {
  put_varint(w, (uint64_t)field << 3 | 2);
  put_varint(w, n);
  memcpy(w->b + w->n, p, n);
  w->n += n;
}

static void put_piece(pbw *w, const char *piece, float score, int type) {
  pbw m = {{0}, 0};
  put_bytes(&m, 1, piece, strlen(piece));
  put_varint(&m, 2 << 3 | 5);
  memcpy(m.b + m.n, &score, 4);
  m.n += 4;
  put_varint(&m, 3 << 3 | 0);
  put_varint(&m, (uint64_t)type);
  put_bytes(w, 1, m.b, m.n);
}

static void test_sentencepiece_bpe(void **state) {
  (void)state;
  pbw w = {{0}, 0};
  put_piece(&w, "<unk>", 0, 2);
  put_piece(&w, "<s>", 0, 3);
  put_piece(&w, "</s>", 0, 3);
  put_piece(&w, "<0x41>", 0, 6); /* 3: 'A' */
  put_piece(&w, "\xe2\x96\x81", -1, 1); /* 4: ▁ */
  put_piece(&w, "a", -2, 1);
  put_piece(&w, "b", -3, 1);
  put_piece(&w, "\xe2\x96\x81" "a", -4, 1); /* 7 */
  put_piece(&w, "ab", -5, 1);
  put_piece(&w, "\xe2\x96\x81" "ab", -6, 1); /* 9 */
  pbw spec = {{0}, 0};
  put_varint(&spec, 3 << 3 | 0); /* model_type BPE */
  put_varint(&spec, 2);
  put_varint(&spec, 35 << 3 | 0); /* byte_fallback */
  put_varint(&spec, 1);
  put_bytes(&w, 2, spec.b, spec.n);
  pbw norm = {{0}, 0};
  put_bytes(&norm, 1, "identity", 8);
  put_bytes(&w, 3, norm.b, norm.n);

  et_tokenizer *t = NULL;
  et_diag d;
  et_diag_clear(&d);
  assert_int_equal(et_tokenizer_load_buffer(w.b, w.n, &t, &d), ET_OK);
  assert_int_equal(et_tokenizer_kind_of(t), ET_TOKENIZER_SPM_BPE);
  assert_int_equal(et_tokenizer_bos_id(t), 1);
  assert_int_equal(et_tokenizer_eos_id(t), 2);
  /* "▁ab": ▁+a (score -4) merges before a+b (-5); then ▁a+b = ▁ab (-6) */
  const int32_t a[] = {9, 9};
  expect_ids(t, "  ab   ab ", 0, a, 2); /* extra spaces removed */
  expect_text(t, a, 2, "ab ab");
  /* 'A' is only a byte piece; 'C' has none: <unk> */
  const int32_t b[] = {1, 7, 3, 0};
  expect_ids(t, "aAC", 1, b, 4);
  expect_text(t, b, 4, "aA \xe2\x81\x87 ");
  et_tokenizer_free(t);

  /* the same bytes cut anywhere: an error with a message, never a crash */
  for (size_t cut = 1; cut < w.n; cut++) {
    uint8_t *copy = malloc(cut);
    memcpy(copy, w.b, cut);
    t = NULL;
    et_diag_clear(&d);
    if (et_tokenizer_load_buffer(copy, cut, &t, &d) == ET_OK) {
      et_tokenizer_free(t); /* a cut between fields can still be a model */
    } else {
      assert_null(t);
      assert_true(d.message[0] != 0);
    }
    free(copy);
  }
}

static void test_load_errors(void **state) {
  (void)state;
  et_tokenizer *t = NULL;
  et_diag d;
  et_diag_clear(&d);
  assert_int_equal(et_tokenizer_load_file("/nonexistent/tokenizer.json", &t, &d), ET_ACCESS_FAILED);
  assert_non_null(strstr(d.message, "/nonexistent/tokenizer.json"));
  assert_int_equal(et_tokenizer_load_buffer("", 0, &t, &d), ET_INVALID_ARGUMENT);
  assert_int_equal(et_tokenizer_load_buffer("abc", 3, &t, &d), ET_NOT_SUPPORTED);
  assert_non_null(strstr(d.message, "unknown file format"));
  const char *tik = "IQ== 0\nIg== 1\n";
  assert_int_equal(et_tokenizer_load_buffer(tik, strlen(tik), &t, &d), ET_NOT_SUPPORTED);
  assert_non_null(strstr(d.message, "tiktoken"));
  const char *uni = "{\"model\":{\"type\":\"Unigram\",\"vocab\":[]}}";
  assert_int_equal(et_tokenizer_load_buffer(uni, strlen(uni), &t, &d), ET_NOT_SUPPORTED);
  assert_non_null(strstr(d.message, "model type 'Unigram'"));
  assert_null(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_byte_level),
      cmocka_unit_test(test_stream_split_character),
      cmocka_unit_test(test_metaspace_byte_fallback),
      cmocka_unit_test(test_sentencepiece_bpe),
      cmocka_unit_test(test_load_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
