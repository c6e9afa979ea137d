/*
 * A small JSON reader for tokenizer files (RFC 8259).
 *
 * et_json_parse reads a whole document from untrusted bytes into a tree of
 * et_json values that the returned et_json_doc owns (one malloc'd arena;
 * et_json_doc_free releases everything). Limits: nesting depth
 * ET_JSON_MAX_DEPTH, at most 2^31 items per container, documents below 2 GiB.
 * Strings must be valid UTF-8 and are decoded (escapes, \u with surrogate
 * pairs; a lone surrogate is an error); they may contain NUL, so use `len`.
 * Object keys keep their order; duplicates are kept (et_json_get returns the
 * first). Numbers keep their double value and, when they are integers that
 * fit, their exact int64 value.
 *
 * Errors return ET_INVALID_ARGUMENT with a message naming the byte offset.
 * Thread-safety: a parsed document is immutable and may be shared.
 */
#ifndef EDGETORCH_LLM_JSON_H
#define EDGETORCH_LLM_JSON_H

#include <edgetorch/status.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ET_JSON_MAX_DEPTH 64

typedef enum et_json_type {
  ET_JSON_NULL = 0,
  ET_JSON_BOOL,
  ET_JSON_NUMBER,
  ET_JSON_STRING,
  ET_JSON_ARRAY,
  ET_JSON_OBJECT
} et_json_type;

typedef struct et_json et_json;
struct et_json {
  et_json_type type;
  uint32_t len;        /* bytes of a string; items of an array or object */
  const char *key;     /* member name inside an object, else NULL */
  uint32_t key_len;
  uint8_t boolean;     /* ET_JSON_BOOL */
  uint8_t is_int;      /* ET_JSON_NUMBER that is an integer fitting int64 */
  int64_t integer;     /* valid when is_int */
  double number;       /* ET_JSON_NUMBER (inf when out of double range) */
  const char *str;     /* ET_JSON_STRING: len bytes, NUL-terminated */
  et_json *items;      /* ET_JSON_ARRAY / ET_JSON_OBJECT: len values */
};

typedef struct et_json_doc et_json_doc;

/* Parse data[0..size). On success *out_doc owns the tree (root via
 * et_json_doc_root); on failure *out_doc is NULL and diag says why. */
et_status et_json_parse(const void *data, size_t size, et_json_doc **out_doc,
                        et_diag *diag);
const et_json *et_json_doc_root(const et_json_doc *doc);
void et_json_doc_free(et_json_doc *doc);

/* Member `key` of an object (first match), or NULL (also when v is NULL or
 * not an object). */
const et_json *et_json_get(const et_json *v, const char *key);
/* Whether v is a string equal to s. */
int et_json_is_str(const et_json *v, const char *s);
/* Name of a type ("object", ...), for messages. */
const char *et_json_type_name(et_json_type t);

#ifdef __cplusplus
}
#endif

#endif /* EDGETORCH_LLM_JSON_H */
