/*
 * The JSON reader of the tokenizers (extension/llm/json.c): values, escapes
 * and surrogate pairs, numbers (exact int64 where they fit), and a table of
 * malformed documents that must fail with a message naming the byte offset.
 * Also the UTF-8 helpers and NFC of extension/llm/unicode.c / normalize.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "json.h"
#include "tok_internal.h"
#include "unicode.h"

#include <stdlib.h>
#include <string.h>

static et_json_doc *parse_ok(const char *text) {
  et_json_doc *doc = NULL;
  et_diag d;
  et_diag_clear(&d);
  et_status st = et_json_parse(text, strlen(text), &doc, &d);
  if (st != ET_OK) print_message("unexpected failure: %s\n", d.message);
  assert_int_equal(st, ET_OK);
  assert_non_null(doc);
  return doc;
}

static void test_values(void **state) {
  (void)state;
  et_json_doc *doc = parse_ok(
      " {\"a\": [1, -2, 3.5, 1e3, true, false, null, \"x\"], \"b\": {}, \"c\": [], \"a\": 7} ");
  const et_json *r = et_json_doc_root(doc);
  assert_int_equal(r->type, ET_JSON_OBJECT);
  assert_int_equal(r->len, 4);
  const et_json *a = et_json_get(r, "a"); /* the first of two "a" */
  assert_int_equal(a->type, ET_JSON_ARRAY);
  assert_int_equal(a->len, 8);
  assert_true(a->items[0].is_int && a->items[0].integer == 1);
  assert_true(a->items[1].is_int && a->items[1].integer == -2);
  assert_false(a->items[2].is_int);
  assert_true(a->items[2].number == 3.5);
  assert_false(a->items[3].is_int);
  assert_true(a->items[3].number == 1000.0);
  assert_int_equal(a->items[4].type, ET_JSON_BOOL);
  assert_true(a->items[4].boolean);
  assert_false(a->items[5].boolean);
  assert_int_equal(a->items[6].type, ET_JSON_NULL);
  assert_true(et_json_is_str(&a->items[7], "x"));
  assert_int_equal(et_json_get(r, "b")->len, 0);
  assert_int_equal(et_json_get(r, "c")->type, ET_JSON_ARRAY);
  assert_null(et_json_get(r, "missing"));
  assert_null(et_json_get(a, "a")); /* not an object */
  et_json_doc_free(doc);
}

static void test_integers(void **state) {
  (void)state;
  et_json_doc *doc = parse_ok("[9223372036854775807, -9223372036854775808, 9223372036854775808, 0, -0]");
  const et_json *r = et_json_doc_root(doc);
  assert_true(r->items[0].is_int && r->items[0].integer == INT64_MAX);
  assert_true(r->items[1].is_int && r->items[1].integer == INT64_MIN);
  assert_false(r->items[2].is_int); /* does not fit: a double only */
  assert_true(r->items[2].number > 9.2e18);
  assert_true(r->items[3].is_int && r->items[3].integer == 0);
  assert_true(r->items[4].is_int && r->items[4].integer == 0);
  et_json_doc_free(doc);
}

static void test_escapes(void **state) {
  (void)state;
  et_json_doc *doc = parse_ok(
      "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\", \"\\u0041\\u00e9\\u2581\", \"\\ud83d\\ude00\", "
      "\"a\\u0000b\", \"\xe6\x97\xa5\"]");
  const et_json *r = et_json_doc_root(doc);
  assert_int_equal(r->items[0].len, 8);
  assert_memory_equal(r->items[0].str, "\"\\/\b\f\n\r\t", 8);
  assert_int_equal(r->items[1].len, 1 + 2 + 3);
  assert_memory_equal(r->items[1].str, "A\xc3\xa9\xe2\x96\x81", 6);
  assert_int_equal(r->items[2].len, 4);
  assert_memory_equal(r->items[2].str, "\xf0\x9f\x98\x80", 4);
  assert_int_equal(r->items[3].len, 3); /* an escaped NUL is kept */
  assert_memory_equal(r->items[3].str, "a\0b", 3);
  assert_int_equal(r->items[4].len, 3);
  et_json_doc_free(doc);
}

static void test_keys_decoded(void **state) {
  (void)state;
  et_json_doc *doc = parse_ok("{\"\\u0120the\": 5}");
  const et_json *r = et_json_doc_root(doc);
  assert_int_equal(r->items[0].key_len, 5);
  assert_memory_equal(r->items[0].key, "\xc4\xa0the", 5);
  assert_non_null(et_json_get(r, "\xc4\xa0the"));
  et_json_doc_free(doc);
}

static const struct {
  const char *text;
  const char *message; /* a part of the expected message */
} kBad[] = {
    {"", "unexpected end of input"},
    {"   ", "unexpected end of input"},
    {"{", "expected a member name"},
    {"{\"a\"", "expected ':'"},
    {"{\"a\":", "unexpected end of input"},
    {"{\"a\":1", "unterminated object"},
    {"{\"a\":1,}", "expected a member name"},
    {"[1,]", "unexpected character"},
    {"[1 2]", "expected ',' or ']'"},
    {"[1", "unterminated array"},
    {"{1:2}", "expected a member name"},
    {"\"abc", "unterminated string"},
    {"\"a\\", "unterminated string"},
    {"\"a\\x\"", "bad escape"},
    {"\"\\u12\"", "bad \\u escape"},
    {"\"\\u12G4\"", "bad \\u escape"},
    {"\"\\ud800\"", "high surrogate without low surrogate"},
    {"\"\\ud800\\u0041\"", "high surrogate without low surrogate"},
    {"\"\\udc00\"", "lone low surrogate"},
    {"\"\xff\"", "invalid UTF-8"},
    {"\"\xc0\xaf\"", "invalid UTF-8"},           /* overlong */
    {"\"\xed\xa0\x80\"", "invalid UTF-8"},       /* encoded surrogate */
    {"\"\xf4\x90\x80\x80\"", "invalid UTF-8"},   /* above U+10FFFF */
    {"\"\xe6\x97\"", "invalid UTF-8"},           /* cut */
    {"\"a\tb\"", "control character"},
    {"01", "trailing characters"},
    {"-", "bad number"},
    {"1.", "bad number"},
    {"1e", "bad number"},
    {".5", "unexpected character"},
    {"+1", "unexpected character"},
    {"tru", "bad literal"},
    {"nul", "bad literal"},
    {"[] []", "trailing characters"},
    {"{\"a\":1}}", "trailing characters"},
    {"11111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
     "11111111111111111111111111111111111111111111111111", "number too long"},
};

static void test_malformed(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof kBad / sizeof *kBad; i++) {
    et_json_doc *doc = (et_json_doc *)1;
    et_diag d;
    et_diag_clear(&d);
    et_status st = et_json_parse(kBad[i].text, strlen(kBad[i].text), &doc, &d);
    if (st != ET_INVALID_ARGUMENT || !strstr(d.message, kBad[i].message))
      print_message("case %zu (%s): status %d, message '%s'\n", i, kBad[i].text, (int)st, d.message);
    assert_int_equal(st, ET_INVALID_ARGUMENT);
    assert_null(doc);
    assert_non_null(strstr(d.message, kBad[i].message));
    assert_non_null(strstr(d.message, "at byte"));
  }
}

static void test_depth_limit(void **state) {
  (void)state;
  char buf[300];
  /* exactly the limit parses, one more fails */
  for (int extra = 0; extra <= 1; extra++) {
    int depth = ET_JSON_MAX_DEPTH + extra;
    size_t n = 0;
    for (int i = 0; i < depth; i++) buf[n++] = '[';
    for (int i = 0; i < depth; i++) buf[n++] = ']';
    et_json_doc *doc = NULL;
    et_diag d;
    et_diag_clear(&d);
    et_status st = et_json_parse(buf, n, &doc, &d);
    if (extra == 0) {
      assert_int_equal(st, ET_OK);
      et_json_doc_free(doc);
    } else {
      assert_int_equal(st, ET_INVALID_ARGUMENT);
      assert_non_null(strstr(d.message, "nesting too deep"));
    }
  }
  /* a very deep document does not recurse past the limit */
  size_t big = 1 << 20;
  char *deep = malloc(big);
  assert_non_null(deep);
  memset(deep, '[', big);
  et_json_doc *doc = NULL;
  et_diag d;
  et_diag_clear(&d);
  assert_int_equal(et_json_parse(deep, big, &doc, &d), ET_INVALID_ARGUMENT);
  free(deep);
}

static void test_every_prefix_fails_cleanly(void **state) {
  (void)state;
  const char *doc_text =
      "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"\\u00e9\":1},\"merges\":[\"a b\",[\"c\",\"d\"]]},"
      "\"x\":[1.5e-3,-7,true,null,\"\\ud83d\\ude00\"]}";
  size_t n = strlen(doc_text);
  for (size_t cut = 0; cut < n; cut++) {
    char *copy = malloc(cut ? cut : 1);
    memcpy(copy, doc_text, cut);
    et_json_doc *doc = NULL;
    et_diag d;
    et_diag_clear(&d);
    assert_int_equal(et_json_parse(copy, cut, &doc, &d), ET_INVALID_ARGUMENT);
    assert_true(d.message[0] != 0);
    free(copy);
  }
  et_json_doc_free(parse_ok(doc_text));
}

static void test_utf8(void **state) {
  (void)state;
  size_t l;
  assert_int_equal(et_utf8_decode((const uint8_t *)"\xe2\x96\x81", 3, &l), 0x2581);
  assert_int_equal(l, 3);
  assert_int_equal(et_utf8_decode((const uint8_t *)"\xe2\x96", 2, &l), ET_UC_INVALID);
  assert_int_equal(l, 1);
  assert_int_equal(et_utf8_decode((const uint8_t *)"\x80", 1, &l), ET_UC_INVALID);
  uint8_t b[4];
  assert_int_equal(et_utf8_encode(0x1F600, b), 4);
  assert_memory_equal(b, "\xf0\x9f\x98\x80", 4);
  assert_int_equal(et_utf8_encode(0xD800, b), 0);
  assert_int_equal(et_uc_class('a'), ET_UC_LETTER);
  assert_int_equal(et_uc_class(0x65E5), ET_UC_LETTER); /* 日 */
  assert_int_equal(et_uc_class(0x0663), ET_UC_NUMBER); /* Arabic-Indic 3 */
  assert_int_equal(et_uc_class(0x00BD), ET_UC_NUMBER); /* ½ (No) */
  assert_int_equal(et_uc_class(0x0301), ET_UC_MARK);
  assert_int_equal(et_uc_class('!'), ET_UC_OTHER);
  assert_int_equal(et_uc_class(ET_UC_INVALID), ET_UC_OTHER);
  assert_true(et_uc_is_space(0x3000));
  assert_true(et_uc_is_space(0x85));
  assert_false(et_uc_is_space(0x200B)); /* zero width space is not White_Space */
  assert_false(et_uc_is_space(0x1C));
}

static void nfc_is(const char *in, const char *want) {
  tok_buf out = {0};
  assert_true(tok_nfc((const uint8_t *)in, strlen(in), &out));
  assert_int_equal(out.len, strlen(want));
  assert_memory_equal(out.p, want, out.len);
  free(out.p);
}

static void test_nfc(void **state) {
  (void)state;
  nfc_is("plain ascii", "plain ascii");
  nfc_is("e\xcc\x81", "\xc3\xa9");                          /* e + acute -> é */
  nfc_is("\xc3\xa9", "\xc3\xa9");                           /* already composed */
  nfc_is("\xe1\x84\x80\xe1\x85\xa1", "\xea\xb0\x80");       /* Hangul L V -> 가 */
  nfc_is("\xea\xb0\x80\xe1\x86\xa8", "\xea\xb0\x81");       /* LV T -> 각 */
  nfc_is("a\xcc\xa3\xcc\x87", "\xe1\xba\xa1\xcc\x87");      /* a + dot below + dot above */
  nfc_is("a\xcc\x87\xcc\xa3", "\xe1\xba\xa1\xcc\x87");      /* reordered first */
  nfc_is("\xe2\x84\xab", "\xc3\x85");                       /* Angstrom sign -> Å */
  nfc_is("\xcc\x81x", "\xcc\x81x");                         /* leading combining mark */
  nfc_is("\xff\xcc\x81", "\xff\xcc\x81");                   /* invalid byte blocks */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_values),
      cmocka_unit_test(test_integers),
      cmocka_unit_test(test_escapes),
      cmocka_unit_test(test_keys_decoded),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_depth_limit),
      cmocka_unit_test(test_every_prefix_fails_cleanly),
      cmocka_unit_test(test_utf8),
      cmocka_unit_test(test_nfc),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
