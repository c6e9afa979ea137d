/* Internals shared by the tokenizer files (tokenizer.c, tok_hf.c, tok_spm.c,
 * pretok.c, normalize.c). Not a public header. */
#ifndef EDGETORCH_LLM_TOK_INTERNAL_H
#define EDGETORCH_LLM_TOK_INTERNAL_H

#include "tokenizer.h"

#include <stddef.h>
#include <stdint.h>

/* Piece types: SentencePiece's numbering, plus HOLE for an unused id. */
enum {
  TOK_HOLE = 0,
  TOK_NORMAL = 1,
  TOK_UNKNOWN = 2,
  TOK_CONTROL = 3,
  TOK_USER = 4,
  TOK_UNUSED = 5,
  TOK_BYTE = 6
};

typedef struct tok_piece {
  uint32_t off, len;         /* model-space text in strs */
  uint32_t src_off, src_len; /* the token's text as the file writes it */
  uint32_t dec_off, dec_len; /* decoded bytes in strs */
  float score;
  uint8_t type;
  uint8_t special;  /* decode with skip_special leaves it out */
  uint8_t in_map;   /* reachable through the string map */
  uint8_t is_byte;  /* a byte-fallback token (<0xNN>), decoded in runs */
  uint8_t strip_ok; /* the decoder's leading-space strip may apply */
} tok_piece;

/* Open-addressing map from a string in strs to an id. */
typedef struct tok_map {
  int32_t *slots; /* id or -1 */
  size_t mask;
} tok_map;

/* (left id, right id) -> merge rank and result id. */
typedef struct tok_pairmap {
  uint64_t *keys; /* (left << 32 | right) + 1; 0 = empty */
  uint32_t *rank;
  int32_t *result;
  size_t mask;
} tok_pairmap;

typedef struct tok_added {
  int32_t id;
  uint32_t off, len; /* content in strs */
  uint8_t special, lstrip, rstrip, single_word, normalized;
} tok_added;

/* Normalizer steps (tokenizer.json). */
enum { NORM_PREPEND = 1, NORM_REPLACE, NORM_NFC };
typedef struct tok_norm {
  int kind;
  uint32_t a_off, a_len, b_off, b_len; /* PREPEND: a; REPLACE: a -> b */
} tok_norm;

/* Pre-tokenizer steps. */
enum { PRE_SPLIT = 1, PRE_BYTELEVEL, PRE_METASPACE };
enum { PAT_GPT2 = 1, PAT_LLAMA3, PAT_QWEN2 };
enum { PREPEND_ALWAYS = 0, PREPEND_FIRST, PREPEND_NEVER };
typedef struct tok_pre {
  int kind;
  int pattern;          /* SPLIT, or BYTELEVEL with use_regex (PAT_GPT2) */
  int add_prefix_space; /* BYTELEVEL */
  int prepend_scheme;   /* METASPACE */
  int split;            /* METASPACE */
  uint32_t repl_off, repl_len; /* METASPACE replacement */
} tok_pre;

#define TOK_MAX_STEPS 8

/* Decoder steps (tokenizer.json), applied to one token's text. */
enum { DEC_BYTELEVEL = 1, DEC_REPLACE, DEC_BYTEFALLBACK, DEC_FUSE, DEC_STRIP, DEC_METASPACE };
typedef struct tok_dec {
  int kind;
  uint32_t a_off, a_len, b_off, b_len; /* REPLACE a -> b; METASPACE a */
} tok_dec;

struct et_tokenizer {
  et_tokenizer_kind kind;
  uint32_t n;
  tok_piece *pieces;
  uint8_t *strs;
  size_t strs_len, strs_cap;
  tok_map map;
  tok_pairmap merges;
  int32_t byte_ids[256]; /* <0xNN> tokens, -1 if absent */
  int32_t unk_id, bos_id, eos_id;
  uint32_t max_dec_len;  /* longest decoded token */
  uint32_t max_piece_len; /* longest model-space string */
  uint32_t strip_left;   /* decoder: leading spaces stripped from the output */
  int fffd_per_byte;     /* invalid byte-token runs: one U+FFFD per byte */
  int strip_each_piece;  /* SentencePiece: strip one space per piece until output starts */

  /* tokenizer.json */
  int byte_level, byte_fallback, fuse_unk, ignore_merges;
  tok_norm norms[TOK_MAX_STEPS];
  int n_norms;
  tok_pre pres[TOK_MAX_STEPS];
  int n_pres;
  tok_added *added;
  uint32_t n_added;
  tok_dec decs[TOK_MAX_STEPS];
  int n_decs;
  /* Hugging Face's Metaspace decoder (prepend scheme first / always) drops
   * every replacement character of the first token, not only a leading
   * one: the first token is decoded on its own (tok_hf_decode_text). */
  int dec_first_token;
  int16_t char_byte[324]; /* byte-level character -> byte, or -1 */

  /* SentencePiece */
  int add_dummy_prefix, remove_extra_ws, escape_ws, spm_byte_fallback;
  float min_score, max_score;
  uint32_t unk_surface_off, unk_surface_len;
  int32_t *user_ids; /* USER_DEFINED pieces, longest first */
  uint64_t *prefixes; /* tok_build_prefixes; NULL: none */
  size_t prefix_mask;
  uint32_t cmap_off, cmap_units;        /* precompiled character map: trie */
  uint32_t cmap_norm_off, cmap_norm_len; /* and its replacement strings */
  uint32_t n_user;
};

/* ---- growable buffers ---- */
typedef struct tok_buf {
  uint8_t *p;
  size_t len, cap;
} tok_buf;
int tok_buf_reserve(tok_buf *b, size_t extra);
int tok_buf_put(tok_buf *b, const void *data, size_t n);

typedef struct tok_ids {
  int32_t *p;
  size_t len, cap;
} tok_ids;
int tok_ids_push(tok_ids *v, int32_t id);

/* ---- tokenizer building (tokenizer.c) ---- */
et_tokenizer *tok_new(et_tokenizer_kind kind);
/* Append bytes to strs; returns the offset or UINT32_MAX on failure. */
uint32_t tok_str_add(et_tokenizer *t, const void *s, size_t n);
et_status tok_alloc_pieces(et_tokenizer *t, uint32_t n, et_diag *diag);
/* Build the string map over the pieces with in_map set. Fails on a
 * duplicate string (the message names it). */
et_status tok_build_map(et_tokenizer *t, et_diag *diag);
int32_t tok_map_find(const et_tokenizer *t, const uint8_t *s, size_t n);
/* The string hash, one byte at a time: a prefix's hash extends to the next. */
#define TOK_HASH_INIT 1469598103934665603ull
static inline uint64_t tok_hash_step(uint64_t h, uint8_t b) {
  return (h ^ b) * 1099511628211ull;
}
/* tok_map_find with the string's hash already computed. */
int32_t tok_map_find_h(const et_tokenizer *t, const uint8_t *s, size_t n, uint64_t h);
/* The set of (hashes of) every prefix of the mapped strings, for
 * Viterbi's early stop; tok_is_prefix_h may say yes for a non-prefix (a
 * hash collision), never no for a prefix. */
et_status tok_build_prefixes(et_tokenizer *t, et_diag *diag);
int tok_is_prefix_h(const et_tokenizer *t, uint64_t h);
/* Fill max_dec_len, max_piece_len, byte_ids from <0xNN> pieces. */
void tok_finish(et_tokenizer *t);
/* Parse "<0xNN>" (exactly six bytes); -1 if it is not one. */
int tok_parse_byte_piece(const uint8_t *s, size_t n);

et_status tok_pairmap_init(tok_pairmap *m, size_t n, et_diag *diag);
/* 0: added; 1: the pair was already there (the new rank replaces it). */
int tok_pairmap_put(tok_pairmap *m, int32_t a, int32_t b, uint32_t rank, int32_t result);
int tok_pairmap_get(const tok_pairmap *m, int32_t a, int32_t b, uint32_t *rank,
                    int32_t *result);

/* ---- formats ---- */
et_status tok_load_hf_json(const void *data, size_t size, const char *dir,
                           et_tokenizer **out, et_diag *diag);
et_status tok_load_spm(const void *data, size_t size, et_tokenizer **out,
                       et_diag *diag);
et_status tok_encode_hf(const et_tokenizer *t, const uint8_t *s, size_t n,
                        tok_ids *out, et_diag *diag);
et_status tok_encode_spm(const et_tokenizer *t, const uint8_t *s, size_t n,
                         tok_ids *out, et_diag *diag);

/* The decoder's per-token steps on s[0..n) (first: as the sequence's first
 * token). The result is in one of a / b, returned; NULL when out of memory. */
tok_buf *tok_hf_decode_text(const et_tokenizer *t, const uint8_t *s, size_t n, int first,
                            tok_buf *a, tok_buf *b);

/* ---- pre-tokenizer patterns (pretok.c) ---- */
/* Name of a Split/ByteLevel regex pattern, or 0 if not one we implement. */
int tok_pattern_from_regex(const char *re, size_t len);
const char *tok_pattern_name(int pattern);
/* End of the pattern's match at s[i] (always > i for i < n). */
size_t tok_pattern_match(int pattern, const uint8_t *s, size_t n, size_t i);

/* ---- NFC (normalize.c) ---- */
/* Append the NFC form of s[0..n) to out; 0 on allocation failure. Invalid
 * UTF-8 bytes are copied through. */
int tok_nfc(const uint8_t *s, size_t n, tok_buf *out);

/* ---- BPE by merge rank (tok_hf.c) and by score (tok_spm.c) ---- */
typedef struct tok_heap_item {
  int64_t key; /* smaller first */
  uint32_t pos;
  int32_t aux;
  uint32_t size;
} tok_heap_item;
typedef struct tok_heap {
  tok_heap_item *p;
  size_t len, cap;
} tok_heap;
int tok_heap_push(tok_heap *h, tok_heap_item it);
int tok_heap_pop(tok_heap *h, tok_heap_item *out);

#endif /* EDGETORCH_LLM_TOK_INTERNAL_H */
