/* Hugging Face tokenizer.json with a BPE model (see tokenizer.h). */
#include "tok_internal.h"

#include "json.h"
#include "unicode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- GPT-2's byte <-> character mapping -------------------------------- */

/* Byte b is shown as character byte_char[b]; printable Latin-1 bytes stand
 * for themselves, the rest take 256, 257, ... in byte order. */
static void byte_level_tables(uint32_t byte_char[256], int16_t char_byte[324]) {
  uint32_t next = 256;
  for (int i = 0; i < 324; i++) char_byte[i] = -1;
  for (int b = 0; b < 256; b++) {
    int printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
    byte_char[b] = printable ? (uint32_t)b : next++;
    char_byte[byte_char[b]] = (int16_t)b;
  }
}

/* Map a byte-level string to its bytes; 0 when a character is not one of
 * the 256 (the token is then kept as it is). */
static int byte_level_to_bytes(const int16_t char_byte[324], const uint8_t *s,
                               size_t n, tok_buf *out) {
  out->len = 0;
  size_t i = 0;
  while (i < n) {
    size_t l;
    uint32_t cp = et_utf8_decode(s + i, n - i, &l);
    if (cp >= 324 || char_byte[cp] < 0) return 0;
    uint8_t b = (uint8_t)char_byte[cp];
    if (!tok_buf_put(out, &b, 1)) return 0;
    i += l;
  }
  return 1;
}

/* ---- loading ------------------------------------------------------------ */

typedef struct loader {
  et_tokenizer *t;
  et_diag *diag;
  uint32_t byte_char[256];
  tok_buf tmp, tmp2;
} loader;

static et_status bad(loader *L, const char *fmt, const char *what) {
  return et_diag_set(L->diag, ET_INVALID_ARGUMENT, fmt, what);
}

static et_status oom(loader *L) {
  return et_diag_set(L->diag, ET_MEMORY_ALLOCATION_FAILED, "tokenizer.json: out of memory");
}

/* A short, printable rendering of a JSON string for messages. */
static const char *shown(const et_json *v, char *buf, size_t cap) {
  if (!v || v->type != ET_JSON_STRING) {
    snprintf(buf, cap, "%s", v ? et_json_type_name(v->type) : "missing");
    return buf;
  }
  size_t k = v->len < cap - 1 ? v->len : cap - 1;
  memcpy(buf, v->str, k);
  buf[k] = 0;
  for (size_t j = 0; j < k; j++)
    if ((uint8_t)buf[j] < 0x20) buf[j] = '?';
  return buf;
}

static int get_bool(const et_json *obj, const char *key, int dflt) {
  const et_json *v = et_json_get(obj, key);
  if (!v || v->type != ET_JSON_BOOL) return dflt;
  return v->boolean;
}

static et_status str_field(loader *L, const et_json *obj, const char *key,
                           const char *where, const et_json **out) {
  const et_json *v = et_json_get(obj, key);
  if (!v || v->type != ET_JSON_STRING) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s.%s", where, key);
    return et_diag_set(L->diag, ET_INVALID_ARGUMENT,
                       "tokenizer.json: %s must be a string (it is %s)", msg,
                       v ? et_json_type_name(v->type) : "missing");
  }
  *out = v;
  return ET_OK;
}

static et_status add_str(loader *L, const et_json *v, uint32_t *off, uint32_t *len) {
  *off = tok_str_add(L->t, v->str, v->len);
  if (*off == UINT32_MAX) return oom(L);
  *len = v->len;
  return ET_OK;
}

static et_status parse_normalizer(loader *L, const et_json *n, int depth) {
  et_tokenizer *t = L->t;
  char buf[64];
  if (!n || n->type == ET_JSON_NULL) return ET_OK;
  if (n->type != ET_JSON_OBJECT || depth > 4)
    return bad(L, "tokenizer.json: normalizer must be an object (%s)", "bad value");
  const et_json *type = et_json_get(n, "type");
  if (et_json_is_str(type, "Sequence")) {
    const et_json *list = et_json_get(n, "normalizers");
    if (!list || list->type != ET_JSON_ARRAY)
      return bad(L, "tokenizer.json: normalizer Sequence needs a %s array", "normalizers");
    for (uint32_t i = 0; i < list->len; i++) {
      et_status st = parse_normalizer(L, &list->items[i], depth + 1);
      if (st != ET_OK) return st;
    }
    return ET_OK;
  }
  if (t->n_norms >= TOK_MAX_STEPS)
    return bad(L, "tokenizer.json: %s normalizer steps", "too many");
  tok_norm *s = &t->norms[t->n_norms];
  memset(s, 0, sizeof *s);
  et_status st;
  const et_json *v = NULL;
  if (et_json_is_str(type, "Prepend")) {
    if ((st = str_field(L, n, "prepend", "normalizer Prepend", &v)) != ET_OK) return st;
    s->kind = NORM_PREPEND;
    if ((st = add_str(L, v, &s->a_off, &s->a_len)) != ET_OK) return st;
  } else if (et_json_is_str(type, "Replace")) {
    const et_json *pat = et_json_get(n, "pattern");
    const et_json *ps = et_json_get(pat, "String");
    if (!ps || ps->type != ET_JSON_STRING || ps->len == 0)
      return bad(L,
                 "tokenizer.json: normalizer Replace supports only a non-empty String "
                 "pattern (got %s)",
                 et_json_get(pat, "Regex") ? "a Regex" : "no String");
    if ((st = str_field(L, n, "content", "normalizer Replace", &v)) != ET_OK) return st;
    s->kind = NORM_REPLACE;
    if ((st = add_str(L, ps, &s->a_off, &s->a_len)) != ET_OK) return st;
    if ((st = add_str(L, v, &s->b_off, &s->b_len)) != ET_OK) return st;
  } else if (et_json_is_str(type, "NFC")) {
    s->kind = NORM_NFC;
  } else {
    return et_diag_set(L->diag, ET_NOT_SUPPORTED,
                       "tokenizer.json: normalizer '%s' is not supported (supported: "
                       "Sequence, Prepend, Replace with a String pattern, NFC)",
                       shown(type, buf, sizeof buf));
  }
  t->n_norms++;
  return ET_OK;
}

static et_status parse_prepend_scheme(loader *L, const et_json *n, int *out) {
  const et_json *ps = et_json_get(n, "prepend_scheme");
  char buf[64];
  if (!ps || ps->type == ET_JSON_NULL) {
    *out = get_bool(n, "add_prefix_space", 1) ? PREPEND_ALWAYS : PREPEND_NEVER;
  } else if (et_json_is_str(ps, "always")) {
    *out = PREPEND_ALWAYS;
  } else if (et_json_is_str(ps, "first")) {
    *out = PREPEND_FIRST;
  } else if (et_json_is_str(ps, "never")) {
    *out = PREPEND_NEVER;
  } else {
    return bad(L, "tokenizer.json: Metaspace prepend_scheme '%s' is unknown",
               shown(ps, buf, sizeof buf));
  }
  return ET_OK;
}

static et_status parse_pretokenizer(loader *L, const et_json *n, int depth) {
  et_tokenizer *t = L->t;
  char buf[96];
  if (!n || n->type == ET_JSON_NULL) return ET_OK;
  if (n->type != ET_JSON_OBJECT || depth > 4)
    return bad(L, "tokenizer.json: pre_tokenizer must be an object (%s)", "bad value");
  const et_json *type = et_json_get(n, "type");
  if (et_json_is_str(type, "Sequence")) {
    const et_json *list = et_json_get(n, "pretokenizers");
    if (!list || list->type != ET_JSON_ARRAY)
      return bad(L, "tokenizer.json: pre_tokenizer Sequence needs a %s array",
                 "pretokenizers");
    for (uint32_t i = 0; i < list->len; i++) {
      et_status st = parse_pretokenizer(L, &list->items[i], depth + 1);
      if (st != ET_OK) return st;
    }
    return ET_OK;
  }
  if (t->n_pres >= TOK_MAX_STEPS)
    return bad(L, "tokenizer.json: %s pre_tokenizer steps", "too many");
  tok_pre *s = &t->pres[t->n_pres];
  memset(s, 0, sizeof *s);
  if (et_json_is_str(type, "ByteLevel")) {
    s->kind = PRE_BYTELEVEL;
    s->add_prefix_space = get_bool(n, "add_prefix_space", 1);
    s->pattern = get_bool(n, "use_regex", 1) ? PAT_GPT2 : 0;
    t->byte_level = 1;
  } else if (et_json_is_str(type, "Split")) {
    const et_json *pat = et_json_get(n, "pattern");
    const et_json *re = et_json_get(pat, "Regex");
    if (!re || re->type != ET_JSON_STRING)
      return bad(L, "tokenizer.json: Split pre_tokenizer needs a Regex pattern (%s)",
                 et_json_get(pat, "String") ? "a String pattern is not supported" : "missing");
    s->kind = PRE_SPLIT;
    s->pattern = tok_pattern_from_regex(re->str, re->len);
    if (!s->pattern)
      return et_diag_set(L->diag, ET_NOT_SUPPORTED,
                         "tokenizer.json: Split pattern '%s' is not supported (only the "
                         "GPT-2, Llama 3 and Qwen2 patterns are implemented)",
                         shown(re, buf, sizeof buf));
    const et_json *beh = et_json_get(n, "behavior");
    if (beh && !et_json_is_str(beh, "Isolated"))
      return et_diag_set(L->diag, ET_NOT_SUPPORTED,
                         "tokenizer.json: Split behavior '%s' is not supported (Isolated only)",
                         shown(beh, buf, sizeof buf));
    if (get_bool(n, "invert", 0))
      return bad(L, "tokenizer.json: Split with %s is not supported", "invert: true");
  } else if (et_json_is_str(type, "Metaspace")) {
    s->kind = PRE_METASPACE;
    const et_json *r = et_json_get(n, "replacement");
    if (r && r->type == ET_JSON_STRING && r->len > 0) {
      et_status st = add_str(L, r, &s->repl_off, &s->repl_len);
      if (st != ET_OK) return st;
    } else {
      s->repl_off = tok_str_add(t, "\xE2\x96\x81", 3);
      if (s->repl_off == UINT32_MAX) return oom(L);
      s->repl_len = 3;
    }
    et_status st = parse_prepend_scheme(L, n, &s->prepend_scheme);
    if (st != ET_OK) return st;
    s->split = get_bool(n, "split", 1);
  } else {
    return et_diag_set(L->diag, ET_NOT_SUPPORTED,
                       "tokenizer.json: pre_tokenizer '%s' is not supported (supported: "
                       "ByteLevel, Split, Metaspace, Sequence)",
                       shown(type, buf, sizeof buf));
  }
  t->n_pres++;
  return ET_OK;
}

static et_status parse_decoder(loader *L, const et_json *n, int depth) {
  char buf[64];
  if (!n || n->type == ET_JSON_NULL) return ET_OK;
  if (n->type != ET_JSON_OBJECT || depth > 4)
    return bad(L, "tokenizer.json: decoder must be an object (%s)", "bad value");
  const et_json *type = et_json_get(n, "type");
  if (et_json_is_str(type, "Sequence")) {
    const et_json *list = et_json_get(n, "decoders");
    if (!list || list->type != ET_JSON_ARRAY)
      return bad(L, "tokenizer.json: decoder Sequence needs a %s array", "decoders");
    for (uint32_t i = 0; i < list->len; i++) {
      et_status st = parse_decoder(L, &list->items[i], depth + 1);
      if (st != ET_OK) return st;
    }
    return ET_OK;
  }
  if (L->t->n_decs >= TOK_MAX_STEPS) return bad(L, "tokenizer.json: %s decoder steps", "too many");
  int k = L->t->n_decs;
  tok_dec *dk = &L->t->decs[k];
  et_status st;
  if (et_json_is_str(type, "ByteLevel")) {
    dk->kind = DEC_BYTELEVEL;
  } else if (et_json_is_str(type, "ByteFallback")) {
    dk->kind = DEC_BYTEFALLBACK;
  } else if (et_json_is_str(type, "Fuse")) {
    dk->kind = DEC_FUSE;
  } else if (et_json_is_str(type, "Replace")) {
    const et_json *ps = et_json_get(et_json_get(n, "pattern"), "String");
    const et_json *c = et_json_get(n, "content");
    if (!ps || ps->type != ET_JSON_STRING || ps->len == 0 || !c || c->type != ET_JSON_STRING)
      return bad(L, "tokenizer.json: decoder Replace needs a String pattern and %s",
                 "a content string");
    dk->kind = DEC_REPLACE;
    if ((st = add_str(L, ps, &dk->a_off, &dk->a_len)) != ET_OK) return st;
    if ((st = add_str(L, c, &dk->b_off, &dk->b_len)) != ET_OK) return st;
  } else if (et_json_is_str(type, "Strip")) {
    const et_json *c = et_json_get(n, "content");
    const et_json *start = et_json_get(n, "start");
    const et_json *stop = et_json_get(n, "stop");
    if (!et_json_is_str(c, " ") || !start || !start->is_int || start->integer < 0 ||
        start->integer > 16 || (stop && (!stop->is_int || stop->integer != 0)))
      return et_diag_set(L->diag, ET_NOT_SUPPORTED,
                         "tokenizer.json: decoder Strip is supported only for content ' ', "
                         "start 0..16 and stop 0");
    dk->kind = DEC_STRIP;
    L->t->strip_left = (uint32_t)start->integer;
  } else if (et_json_is_str(type, "Metaspace")) {
    const et_json *r = et_json_get(n, "replacement");
    dk->kind = DEC_METASPACE;
    if (r && r->type == ET_JSON_STRING && r->len > 0) {
      if ((st = add_str(L, r, &dk->a_off, &dk->a_len)) != ET_OK) return st;
    } else {
      dk->a_off = tok_str_add(L->t, "\xE2\x96\x81", 3);
      if (dk->a_off == UINT32_MAX) return oom(L);
      dk->a_len = 3;
    }
    int scheme;
    if ((st = parse_prepend_scheme(L, n, &scheme)) != ET_OK) return st;
    if (scheme != PREPEND_NEVER) L->t->dec_first_token = 1;
  } else {
    return et_diag_set(L->diag, ET_NOT_SUPPORTED,
                       "tokenizer.json: decoder '%s' is not supported (supported: ByteLevel, "
                       "Replace, ByteFallback, Fuse, Strip, Metaspace, Sequence)",
                       shown(type, buf, sizeof buf));
  }
  L->t->n_decs++;
  return ET_OK;
}

/* Replace every a by b in in[0..n) into out. */
static int replace_all(const uint8_t *in, size_t n, const uint8_t *a, size_t al,
                       const uint8_t *b, size_t bl, tok_buf *out) {
  out->len = 0;
  size_t i = 0;
  while (i < n) {
    if (al && n - i >= al && memcmp(in + i, a, al) == 0) {
      if (!tok_buf_put(out, b, bl)) return 0;
      i += al;
    } else {
      if (!tok_buf_put(out, in + i, 1)) return 0;
      i++;
    }
  }
  return 1;
}

tok_buf *tok_hf_decode_text(const et_tokenizer *t, const uint8_t *s, size_t n, int first,
                            tok_buf *a, tok_buf *b) {
  tok_buf *cur = a, *nxt = b, *x;
  cur->len = 0;
  if (!tok_buf_put(cur, s, n)) return NULL;
  for (int k = 0; k < t->n_decs; k++) {
    const tok_dec *d = &t->decs[k];
    switch (d->kind) {
    case DEC_BYTELEVEL:
      if (byte_level_to_bytes(t->char_byte, cur->p, cur->len, nxt)) x = cur, cur = nxt, nxt = x;
      break;
    case DEC_REPLACE:
    case DEC_METASPACE: {
      int drop = d->kind == DEC_METASPACE && first && t->dec_first_token;
      const uint8_t *to = d->kind == DEC_REPLACE ? t->strs + d->b_off : (const uint8_t *)" ";
      size_t tl = d->kind == DEC_REPLACE ? d->b_len : (drop ? 0 : 1);
      if (!replace_all(cur->p, cur->len, t->strs + d->a_off, d->a_len, to, tl, nxt)) return NULL;
      x = cur, cur = nxt, nxt = x;
      break;
    }
    case DEC_BYTEFALLBACK: {
      int v = tok_parse_byte_piece(cur->p, cur->len);
      if (v >= 0) {
        cur->p[0] = (uint8_t)v;
        cur->len = 1;
      }
      break;
    }
    default:
      break;
    }
  }
  return cur;
}

static et_status decode_piece(loader *L, const uint8_t *s, size_t n, uint32_t *off,
                              uint32_t *len) {
  et_tokenizer *t = L->t;
  tok_buf *r = tok_hf_decode_text(t, s, n, 0, &L->tmp, &L->tmp2);
  if (!r) return oom(L);
  *off = tok_str_add(t, r->p ? r->p : (const uint8_t *)"", r->len);
  if (*off == UINT32_MAX) return oom(L);
  *len = (uint32_t)r->len;
  return ET_OK;
}

/* The model-space form of a vocabulary string: raw bytes for byte-level
 * vocabularies. Returns 0 when the string is not reachable by the model. */
static int model_form(loader *L, const uint8_t *s, size_t n, const uint8_t **out,
                      size_t *out_len) {
  if (!L->t->byte_level) {
    *out = s;
    *out_len = n;
    return 1;
  }
  if (!byte_level_to_bytes(L->t->char_byte, s, n, &L->tmp)) return 0;
  *out = L->tmp.p ? L->tmp.p : (const uint8_t *)"";
  *out_len = L->tmp.len;
  return 1;
}

static et_status id_of(loader *L, const et_json *v, const char *where, uint32_t *out) {
  if (!v || v->type != ET_JSON_NUMBER || !v->is_int || v->integer < 0 ||
      v->integer >= (int64_t)ET_TOKENIZER_MAX_VOCAB)
    return et_diag_set(L->diag, ET_INVALID_ARGUMENT,
                       "tokenizer.json: %s must be an integer id in [0, %u)", where,
                       ET_TOKENIZER_MAX_VOCAB);
  *out = (uint32_t)v->integer;
  return ET_OK;
}

static et_status load_merges(loader *L, const et_json *merges) {
  et_tokenizer *t = L->t;
  et_status st = tok_pairmap_init(&t->merges, merges->len, L->diag);
  if (st != ET_OK) return st;
  tok_buf ab = {0};
  for (uint32_t r = 0; r < merges->len; r++) {
    const et_json *m = &merges->items[r];
    const uint8_t *a, *b;
    size_t al, bl;
    if (m->type == ET_JSON_STRING) {
      const char *sp = memchr(m->str, ' ', m->len);
      if (!sp || memchr(sp + 1, ' ', m->len - (size_t)(sp - m->str) - 1)) {
        free(ab.p);
        return et_diag_set(L->diag, ET_INVALID_ARGUMENT,
                           "tokenizer.json: merge %u is not two tokens separated by one space", r);
      }
      a = (const uint8_t *)m->str;
      al = (size_t)(sp - m->str);
      b = (const uint8_t *)sp + 1;
      bl = m->len - al - 1;
    } else if (m->type == ET_JSON_ARRAY && m->len == 2 &&
               m->items[0].type == ET_JSON_STRING && m->items[1].type == ET_JSON_STRING) {
      a = (const uint8_t *)m->items[0].str;
      al = m->items[0].len;
      b = (const uint8_t *)m->items[1].str;
      bl = m->items[1].len;
    } else {
      free(ab.p);
      return et_diag_set(L->diag, ET_INVALID_ARGUMENT,
                         "tokenizer.json: merge %u must be \"a b\" or [\"a\", \"b\"]", r);
    }
    ab.len = 0;
    if (!tok_buf_put(&ab, a, al) || !tok_buf_put(&ab, b, bl)) {
      free(ab.p);
      return oom(L);
    }
    int32_t ids[3];
    const uint8_t *parts[3] = {a, b, ab.p};
    size_t lens[3] = {al, bl, ab.len};
    for (int k = 0; k < 3; k++) {
      const uint8_t *ms;
      size_t ml;
      ids[k] = model_form(L, parts[k], lens[k], &ms, &ml) ? tok_map_find(t, ms, ml) : -1;
      if (ids[k] < 0) {
        char shown_tok[48];
        size_t sl = lens[k] < sizeof shown_tok - 1 ? lens[k] : sizeof shown_tok - 1;
        memcpy(shown_tok, parts[k], sl);
        shown_tok[sl] = 0;
        for (size_t j = 0; j < sl; j++)
          if ((uint8_t)shown_tok[j] < 0x20) shown_tok[j] = '?';
        free(ab.p);
        return et_diag_set(L->diag, ET_INVALID_ARGUMENT,
                           "tokenizer.json: merge %u uses a token that is not in the "
                           "vocabulary ('%s')",
                           r, shown_tok);
      }
    }
    tok_pairmap_put(&t->merges, ids[0], ids[1], r, ids[2]);
  }
  free(ab.p);
  return ET_OK;
}

static int32_t find_added_or_vocab(const et_tokenizer *t, const char *s) {
  return et_tokenizer_token_id(t, s, strlen(s));
}

/* BOS from the post-processor's template: its leading special token. */
static int32_t template_bos(const et_json *pp, int depth) {
  if (!pp || pp->type != ET_JSON_OBJECT || depth > 4) return -1;
  const et_json *type = et_json_get(pp, "type");
  if (et_json_is_str(type, "Sequence")) {
    const et_json *list = et_json_get(pp, "processors");
    for (uint32_t i = 0; list && list->type == ET_JSON_ARRAY && i < list->len; i++) {
      int32_t id = template_bos(&list->items[i], depth + 1);
      if (id >= 0) return id;
    }
    return -1;
  }
  if (!et_json_is_str(type, "TemplateProcessing")) return -1;
  const et_json *single = et_json_get(pp, "single");
  if (!single || single->type != ET_JSON_ARRAY || single->len == 0) return -1;
  const et_json *first = et_json_get(&single->items[0], "SpecialToken");
  const et_json *name = et_json_get(first, "id");
  if (!name || name->type != ET_JSON_STRING) return -1;
  const et_json *specials = et_json_get(pp, "special_tokens");
  for (uint32_t i = 0; specials && specials->type == ET_JSON_OBJECT && i < specials->len; i++) {
    const et_json *sp = &specials->items[i];
    if (sp->key_len != name->len || memcmp(sp->key, name->str, name->len) != 0) continue;
    const et_json *ids = et_json_get(sp, "ids");
    if (ids && ids->type == ET_JSON_ARRAY && ids->len == 1 && ids->items[0].is_int &&
        ids->items[0].integer >= 0 && ids->items[0].integer < (int64_t)ET_TOKENIZER_MAX_VOCAB)
      return (int32_t)ids->items[0].integer;
  }
  return -1;
}

/* bos_token / eos_token of a tokenizer_config.json: a string or {content}. */
static int32_t config_token(const et_tokenizer *t, const et_json *cfg, const char *key) {
  const et_json *v = et_json_get(cfg, key);
  if (v && v->type == ET_JSON_OBJECT) v = et_json_get(v, "content");
  if (!v || v->type != ET_JSON_STRING) return -2; /* absent: keep the guess */
  return et_tokenizer_token_id(t, v->str, v->len);
}

static void read_config(et_tokenizer *t, const char *dir) {
  char path[4200];
  snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
  FILE *f = fopen(path, "rb");
  if (!f) return;
  tok_buf b = {0};
  uint8_t chunk[8192];
  size_t got;
  while ((got = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len < ((size_t)64 << 20))
    if (!tok_buf_put(&b, chunk, got)) break;
  fclose(f);
  et_json_doc *doc = NULL;
  et_diag d;
  et_diag_clear(&d);
  if (et_json_parse(b.p, b.len, &doc, &d) == ET_OK) {
    const et_json *cfg = et_json_doc_root(doc);
    int32_t bos = config_token(t, cfg, "bos_token");
    int32_t eos = config_token(t, cfg, "eos_token");
    const et_json *bv = et_json_get(cfg, "bos_token");
    if (bos >= -1 && bv) t->bos_id = bos;
    if (eos >= 0) t->eos_id = eos;
    if (bv && bv->type == ET_JSON_NULL) t->bos_id = -1;
  }
  et_json_doc_free(doc);
  free(b.p);
}

static et_status load(loader *L, const et_json *root, const char *dir) {
  char buf[64];
  et_status st;
  if (root->type != ET_JSON_OBJECT)
    return bad(L, "tokenizer.json: the document must be an object (it is %s)",
               et_json_type_name(root->type));
  const et_json *model = et_json_get(root, "model");
  if (!model || model->type != ET_JSON_OBJECT)
    return bad(L, "tokenizer.json: 'model' must be an object (it is %s)",
               model ? et_json_type_name(model->type) : "missing");
  const et_json *mtype = et_json_get(model, "type");
  if (mtype && !et_json_is_str(mtype, "BPE"))
    return et_diag_set(L->diag, ET_NOT_SUPPORTED,
                       "tokenizer.json: model type '%s' is not supported (BPE only)",
                       shown(mtype, buf, sizeof buf));
  const et_json *vocab = et_json_get(model, "vocab");
  const et_json *merges = et_json_get(model, "merges");
  if (!vocab || vocab->type != ET_JSON_OBJECT)
    return bad(L, "tokenizer.json: model.vocab must be an object (it is %s)",
               vocab ? et_json_type_name(vocab->type) : "missing");
  if (!merges || merges->type != ET_JSON_ARRAY)
    return bad(L, "tokenizer.json: model.merges must be an array (it is %s)",
               merges ? et_json_type_name(merges->type) : "missing");
  const et_json *v = NULL;
  if (((v = et_json_get(model, "continuing_subword_prefix")) && v->type != ET_JSON_NULL &&
       !(v->type == ET_JSON_STRING && v->len == 0)) ||
      ((v = et_json_get(model, "end_of_word_suffix")) && v->type != ET_JSON_NULL &&
       !(v->type == ET_JSON_STRING && v->len == 0)))
    return et_diag_set(L->diag, ET_NOT_SUPPORTED,
                       "tokenizer.json: BPE continuing_subword_prefix / end_of_word_suffix "
                       "are not supported");
  if ((v = et_json_get(model, "dropout")) && v->type != ET_JSON_NULL &&
      !(v->type == ET_JSON_NUMBER && v->number == 0.0))
    return et_diag_set(L->diag, ET_NOT_SUPPORTED,
                       "tokenizer.json: BPE dropout is not supported");
  et_tokenizer *t = L->t;
  t->byte_fallback = get_bool(model, "byte_fallback", 0);
  t->fuse_unk = get_bool(model, "fuse_unk", 0);
  t->ignore_merges = get_bool(model, "ignore_merges", 0);

  if ((st = parse_normalizer(L, et_json_get(root, "normalizer"), 0)) != ET_OK) return st;
  if ((st = parse_pretokenizer(L, et_json_get(root, "pre_tokenizer"), 0)) != ET_OK) return st;
  if ((st = parse_decoder(L, et_json_get(root, "decoder"), 0)) != ET_OK) return st;

  /* Ids: the vocabulary's and the added tokens'. */
  const et_json *added = et_json_get(root, "added_tokens");
  if (added && added->type != ET_JSON_ARRAY && added->type != ET_JSON_NULL)
    return bad(L, "tokenizer.json: added_tokens must be an array (it is %s)",
               et_json_type_name(added->type));
  uint32_t n_added = added && added->type == ET_JSON_ARRAY ? added->len : 0;
  uint32_t max_id = 0;
  int any = 0;
  for (uint32_t i = 0; i < vocab->len; i++) {
    uint32_t id = 0;
    if ((st = id_of(L, &vocab->items[i], "every model.vocab value", &id)) != ET_OK) return st;
    if (id > max_id || !any) max_id = id > max_id ? id : max_id;
    any = 1;
  }
  for (uint32_t i = 0; i < n_added; i++) {
    const et_json *a = &added->items[i];
    uint32_t id = 0;
    if (a->type != ET_JSON_OBJECT)
      return bad(L, "tokenizer.json: added_tokens entries must be objects (%s)", "bad entry");
    if ((st = id_of(L, et_json_get(a, "id"), "added_tokens[].id", &id)) != ET_OK) return st;
    const et_json *c = NULL;
    if ((st = str_field(L, a, "content", "added_tokens[]", &c)) != ET_OK) return st;
    if (id > max_id) max_id = id;
    any = 1;
  }
  if (!any) return bad(L, "tokenizer.json: the vocabulary is %s", "empty");
  /* Ids are dense in real files; a tiny file must not make us allocate the
   * table of a huge id. */
  uint64_t entries = (uint64_t)vocab->len + n_added;
  if ((uint64_t)max_id >= entries * 2 + 1024)
    return et_diag_set(L->diag, ET_INVALID_ARGUMENT,
                       "tokenizer.json: ids are too sparse: id %u for %llu tokens", max_id,
                       (unsigned long long)entries);
  if ((st = tok_alloc_pieces(t, max_id + 1, L->diag)) != ET_OK) return st;

  for (uint32_t i = 0; i < vocab->len; i++) {
    const et_json *e = &vocab->items[i];
    uint32_t id = (uint32_t)e->integer;
    tok_piece *p = &t->pieces[id];
    if (p->type != TOK_HOLE)
      return et_diag_set(L->diag, ET_INVALID_ARGUMENT,
                         "tokenizer.json: id %u is used by two vocabulary entries", id);
    const uint8_t *ms;
    size_t ml;
    p->type = TOK_NORMAL;
    if (model_form(L, (const uint8_t *)e->key, e->key_len, &ms, &ml)) {
      p->in_map = 1;
    } else {
      ms = (const uint8_t *)e->key;
      ml = e->key_len;
    }
    p->off = tok_str_add(t, ms, ml);
    if (p->off == UINT32_MAX) return oom(L);
    p->len = (uint32_t)ml;
    p->src_off = tok_str_add(t, e->key, e->key_len);
    if (p->src_off == UINT32_MAX) return oom(L);
    p->src_len = e->key_len;
    if ((st = decode_piece(L, (const uint8_t *)e->key, e->key_len, &p->dec_off, &p->dec_len)) != ET_OK)
      return st;
  }
  if ((st = tok_build_map(t, L->diag)) != ET_OK) return st;

  if (n_added) {
    t->added = calloc(n_added, sizeof *t->added);
    if (!t->added) return oom(L);
  }
  for (uint32_t i = 0; i < n_added; i++) {
    const et_json *a = &added->items[i];
    const et_json *c = et_json_get(a, "content");
    uint32_t id = (uint32_t)et_json_get(a, "id")->integer;
    tok_added *ad = &t->added[t->n_added++];
    ad->id = (int32_t)id;
    if ((st = add_str(L, c, &ad->off, &ad->len)) != ET_OK) return st;
    ad->special = (uint8_t)get_bool(a, "special", 0);
    ad->lstrip = (uint8_t)get_bool(a, "lstrip", 0);
    ad->rstrip = (uint8_t)get_bool(a, "rstrip", 0);
    ad->single_word = (uint8_t)get_bool(a, "single_word", 0);
    ad->normalized = (uint8_t)get_bool(a, "normalized", !ad->special);
    tok_piece *p = &t->pieces[id];
    if (p->type == TOK_HOLE) {
      p->type = TOK_USER;
      p->off = ad->off;
      p->len = ad->len;
    }
    p->special = ad->special;
    p->src_off = ad->off;
    p->src_len = ad->len;
    if ((st = decode_piece(L, (const uint8_t *)c->str, c->len, &p->dec_off, &p->dec_len)) != ET_OK)
      return st;
  }

  if ((st = load_merges(L, merges)) != ET_OK) return st;

  const et_json *unk = et_json_get(model, "unk_token");
  if (unk && unk->type == ET_JSON_STRING) {
    const uint8_t *ms;
    size_t ml;
    t->unk_id = model_form(L, (const uint8_t *)unk->str, unk->len, &ms, &ml)
                    ? tok_map_find(t, ms, ml) : -1;
  }
  for (int b = 0; b < 256; b++) {
    char name[8];
    snprintf(name, sizeof name, "<0x%02X>", b);
    const uint8_t *ms;
    size_t ml;
    t->byte_ids[b] = model_form(L, (const uint8_t *)name, 6, &ms, &ml) ? tok_map_find(t, ms, ml) : -1;
  }

  /* BOS / EOS: the post-processor's template, known names, then
   * tokenizer_config.json beside the file. */
  t->bos_id = template_bos(et_json_get(root, "post_processor"), 0);
  static const char *const bos_names[] = {"<s>", "<|begin_of_text|>", "<bos>", "<|startoftext|>"};
  static const char *const eos_names[] = {"</s>", "<|end_of_text|>", "<|endoftext|>", "<eos>",
                                          "<|im_end|>", "<|eot_id|>"};
  for (size_t i = 0; t->bos_id < 0 && i < sizeof bos_names / sizeof *bos_names; i++)
    t->bos_id = find_added_or_vocab(t, bos_names[i]);
  for (size_t i = 0; t->eos_id < 0 && i < sizeof eos_names / sizeof *eos_names; i++)
    t->eos_id = find_added_or_vocab(t, eos_names[i]);
  if (dir) read_config(t, dir);
  int fallback_dec = 0;
  for (int k = 0; k < t->n_decs; k++) fallback_dec |= t->decs[k].kind == DEC_BYTEFALLBACK;
  t->fffd_per_byte = fallback_dec;
  for (uint32_t id = 0; id < t->n; id++) {
    tok_piece *p = &t->pieces[id];
    p->strip_ok = 1;
    p->is_byte = fallback_dec && p->type != TOK_HOLE &&
                 tok_parse_byte_piece(t->strs + p->src_off, p->src_len) >= 0;
  }
  tok_finish(t);
  return ET_OK;
}

et_status tok_load_hf_json(const void *data, size_t size, const char *dir,
                           et_tokenizer **out, et_diag *diag) {
  *out = NULL;
  et_json_doc *doc = NULL;
  et_status st = et_json_parse(data, size, &doc, diag);
  if (st != ET_OK) {
    if (diag) {
      char msg[ET_DIAG_CAP];
      memcpy(msg, diag->message, sizeof msg);
      et_diag_set(diag, st, "tokenizer.json: %s", msg);
    }
    return st;
  }
  loader L;
  memset(&L, 0, sizeof L);
  L.diag = diag;
  L.t = tok_new(ET_TOKENIZER_HF_BPE);
  if (!L.t) {
    et_json_doc_free(doc);
    return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED, "tokenizer.json: out of memory");
  }
  byte_level_tables(L.byte_char, L.t->char_byte);
  st = load(&L, et_json_doc_root(doc), dir);
  et_json_doc_free(doc);
  free(L.tmp.p);
  free(L.tmp2.p);
  if (st != ET_OK) {
    et_tokenizer_free(L.t);
    return st;
  }
  *out = L.t;
  return ET_OK;
}

/* ---- encoding ------------------------------------------------------------ */

typedef struct piece_ref {
  uint32_t off, len; /* in the work buffer */
  uint8_t first;     /* starts the input (Metaspace prepend_scheme first) */
} piece_ref;

typedef struct piece_list {
  piece_ref *p;
  size_t len, cap;
} piece_list;

static int pl_push(piece_list *l, size_t off, size_t len, int first) {
  if (len == 0) return 1;
  if (off > UINT32_MAX || len > UINT32_MAX) return 0;
  if (l->len == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    piece_ref *p = realloc(l->p, cap * sizeof *p);
    if (!p) return 0;
    l->p = p;
    l->cap = cap;
  }
  l->p[l->len].off = (uint32_t)off;
  l->p[l->len].len = (uint32_t)len;
  l->p[l->len].first = (uint8_t)first;
  l->len++;
  return 1;
}

typedef struct sym {
  int32_t id;
  int32_t prev, next;
  uint32_t len; /* 0 once merged into its left neighbour */
} sym;

typedef struct enc {
  const et_tokenizer *t;
  tok_buf work; /* pieces' bytes */
  tok_buf norm;
  piece_list a, b;
  sym *syms;
  size_t nsyms, capsyms;
  tok_heap heap;
  tok_ids *out;
} enc;

static int sym_push(enc *e, int32_t id, uint32_t len) {
  if (e->nsyms == e->capsyms) {
    size_t cap = e->capsyms ? e->capsyms * 2 : 64;
    sym *p = realloc(e->syms, cap * sizeof *p);
    if (!p) return 0;
    e->syms = p;
    e->capsyms = cap;
  }
  sym *s = &e->syms[e->nsyms];
  s->id = id;
  s->len = len;
  s->prev = (int32_t)e->nsyms - 1;
  s->next = -1;
  if (e->nsyms) e->syms[e->nsyms - 1].next = (int32_t)e->nsyms;
  e->nsyms++;
  return 1;
}

static int push_pair(enc *e, int32_t pos) {
  const et_tokenizer *t = e->t;
  int32_t nx = e->syms[pos].next;
  if (nx < 0) return 1;
  uint32_t rank;
  int32_t result;
  if (!tok_pairmap_get(&t->merges, e->syms[pos].id, e->syms[nx].id, &rank, &result)) return 1;
  tok_heap_item it = {(int64_t)rank, (uint32_t)pos, result, 0};
  return tok_heap_push(&e->heap, it);
}

/* BPE over one pre-tokenized piece: units are bytes (byte-level) or
 * characters, merged by rank (lowest first, leftmost on ties). */
static int bpe_piece(enc *e, const uint8_t *s, size_t n) {
  const et_tokenizer *t = e->t;
  if (t->ignore_merges) {
    int32_t id = tok_map_find(t, s, n);
    if (id >= 0) return tok_ids_push(e->out, id);
  }
  e->nsyms = 0;
  int32_t pend_unk = -1; /* a pending (fused) unknown */
  uint32_t pend_len = 0;
  size_t i = 0;
  while (i < n) {
    size_t ul = t->byte_level ? 1 : et_utf8_unit(s + i, n - i);
    int32_t id = tok_map_find(t, s + i, ul);
    if (id >= 0) {
      if (pend_unk >= 0) {
        if (!sym_push(e, pend_unk, pend_len)) return 0;
        pend_unk = -1;
      }
      if (!sym_push(e, id, (uint32_t)ul)) return 0;
    } else {
      int done = 0;
      if (t->byte_fallback) {
        int all = 1;
        for (size_t k = 0; k < ul; k++)
          if (t->byte_ids[s[i + k]] < 0) all = 0;
        if (all) {
          for (size_t k = 0; k < ul; k++)
            if (!sym_push(e, t->byte_ids[s[i + k]], 1)) return 0;
          done = 1;
        }
      }
      if (!done && t->unk_id >= 0) {
        if (pend_unk >= 0 && t->fuse_unk) {
          pend_len += (uint32_t)ul;
        } else {
          if (pend_unk >= 0 && !sym_push(e, pend_unk, pend_len)) return 0;
          pend_unk = t->unk_id;
          pend_len = (uint32_t)ul;
        }
      }
    }
    i += ul;
  }
  if (pend_unk >= 0 && !sym_push(e, pend_unk, pend_len)) return 0;

  e->heap.len = 0;
  for (size_t k = 0; k + 1 < e->nsyms; k++)
    if (!push_pair(e, (int32_t)k)) return 0;
  tok_heap_item top;
  while (tok_heap_pop(&e->heap, &top)) {
    sym *l = &e->syms[top.pos];
    if (l->len == 0 || l->next < 0) continue;
    sym *r = &e->syms[l->next];
    uint32_t rank;
    int32_t result;
    if (!tok_pairmap_get(&t->merges, l->id, r->id, &rank, &result) || result != top.aux)
      continue;
    l->id = result;
    l->len += r->len;
    r->len = 0;
    l->next = r->next;
    if (r->next >= 0) e->syms[r->next].prev = (int32_t)top.pos;
    if (l->prev >= 0 && !push_pair(e, l->prev)) return 0;
    if (!push_pair(e, (int32_t)top.pos)) return 0;
  }
  for (int32_t k = e->nsyms ? 0 : -1; k >= 0; k = e->syms[k].next)
    if (!tok_ids_push(e->out, e->syms[k].id)) return 0;
  return 1;
}

/* Pre-tokenize then BPE the normalized text norm[0..n). */
static int model_text(enc *e, const uint8_t *s, size_t n, int first) {
  const et_tokenizer *t = e->t;
  e->work.len = 0;
  e->a.len = 0;
  if (!tok_buf_put(&e->work, s, n) || !pl_push(&e->a, 0, n, first)) return 0;
  for (int k = 0; k < t->n_pres; k++) {
    const tok_pre *pre = &t->pres[k];
    e->b.len = 0;
    for (size_t q = 0; q < e->a.len; q++) {
      piece_ref pr = e->a.p[q];
      size_t off = pr.off, len = pr.len;
      if (pre->kind == PRE_BYTELEVEL && pre->add_prefix_space && e->work.p[off] != ' ') {
        size_t no = e->work.len;
        if (!tok_buf_reserve(&e->work, len + 1)) return 0;
        e->work.p[e->work.len++] = ' ';
        memcpy(e->work.p + e->work.len, e->work.p + off, len);
        e->work.len += len;
        off = no;
        len += 1;
      }
      if (pre->kind == PRE_METASPACE) {
        const uint8_t *rep = t->strs + pre->repl_off;
        size_t rl = pre->repl_len;
        size_t no = e->work.len;
        int starts = len >= rl && memcmp(e->work.p + off, rep, rl) == 0;
        /* (the piece's first byte is a space that becomes the replacement) */
        int starts_space = e->work.p[off] == ' ';
        int prepend = !(starts || starts_space) &&
                      (pre->prepend_scheme == PREPEND_ALWAYS ||
                       (pre->prepend_scheme == PREPEND_FIRST && pr.first));
        if (!tok_buf_reserve(&e->work, (len + 1) * (rl > 1 ? rl : 1))) return 0;
        if (prepend) tok_buf_put(&e->work, rep, rl);
        for (size_t j = 0; j < len; j++) {
          uint8_t c = e->work.p[off + j];
          if (c == ' ')
            tok_buf_put(&e->work, rep, rl);
          else
            tok_buf_put(&e->work, &c, 1);
        }
        off = no;
        len = e->work.len - no;
        if (pre->split) {
          size_t st = off;
          for (size_t j = off; j + rl <= off + len; j++) {
            if (j > st && memcmp(e->work.p + j, rep, rl) == 0) {
              if (!pl_push(&e->b, st, j - st, pr.first && st == off)) return 0;
              st = j;
            }
          }
          if (!pl_push(&e->b, st, off + len - st, pr.first && st == off)) return 0;
          continue;
        }
        if (!pl_push(&e->b, off, len, pr.first)) return 0;
        continue;
      }
      int pat = pre->pattern;
      if (pat) {
        size_t j = 0;
        while (j < len) {
          size_t end = tok_pattern_match(pat, e->work.p + off, len, j);
          if (!pl_push(&e->b, off + j, end - j, pr.first && j == 0)) return 0;
          j = end;
        }
      } else if (!pl_push(&e->b, off, len, pr.first)) {
        return 0;
      }
    }
    piece_list x = e->a;
    e->a = e->b;
    e->b = x;
  }
  for (size_t q = 0; q < e->a.len; q++)
    if (!bpe_piece(e, e->work.p + e->a.p[q].off, e->a.p[q].len)) return 0;
  return 1;
}

static int normalize(const et_tokenizer *t, const uint8_t *s, size_t n, tok_buf *out,
                     tok_buf *tmp) {
  out->len = 0;
  if (!tok_buf_put(out, s, n)) return 0;
  for (int k = 0; k < t->n_norms; k++) {
    const tok_norm *nm = &t->norms[k];
    tmp->len = 0;
    if (nm->kind == NORM_PREPEND) {
      if (out->len == 0) continue;
      if (!tok_buf_put(tmp, t->strs + nm->a_off, nm->a_len) || !tok_buf_put(tmp, out->p, out->len))
        return 0;
    } else if (nm->kind == NORM_REPLACE) {
      if (!replace_all(out->p, out->len, t->strs + nm->a_off, nm->a_len, t->strs + nm->b_off,
                       nm->b_len, tmp))
        return 0;
    } else if (nm->kind == NORM_NFC) {
      if (!tok_nfc(out->p, out->len, tmp)) return 0;
    }
    tok_buf x = *out;
    *out = *tmp;
    *tmp = x;
  }
  return 1;
}

static int word_char(const uint8_t *s, size_t n, size_t i, int before) {
  /* the character just before i (before) or at i */
  if (before) {
    if (i == 0) return 0;
    size_t j = i - 1;
    while (j > 0 && (s[j] & 0xC0) == 0x80 && i - j < 4) j--;
    size_t l;
    uint32_t cp = et_utf8_decode(s + j, n - j, &l);
    if (j + l != i) cp = ET_UC_INVALID;
    int c = et_uc_class(cp);
    return c == ET_UC_LETTER || c == ET_UC_NUMBER || cp == '_';
  }
  if (i >= n) return 0;
  size_t l;
  uint32_t cp = et_utf8_decode(s + i, n - i, &l);
  int c = et_uc_class(cp);
  return c == ET_UC_LETTER || c == ET_UC_NUMBER || cp == '_';
}

/* Splits s[0..n) by the added tokens whose `normalized` flag is `normalized`,
 * handing text between them to `text` and emitting the tokens' ids. */
typedef int (*text_fn)(enc *e, const uint8_t *s, size_t n, int first);

static int split_added(enc *e, const uint8_t *s, size_t n, int normalized, int first,
                       text_fn text) {
  const et_tokenizer *t = e->t;
  size_t cur = 0, i = 0;
  while (i < n) {
    int32_t best = -1;
    size_t blen = 0;
    for (uint32_t k = 0; k < t->n_added; k++) {
      const tok_added *a = &t->added[k];
      if (a->normalized != normalized || a->len == 0 || a->len > n - i || a->len <= blen ||
          t->strs[a->off] != s[i])
        continue;
      if (memcmp(s + i, t->strs + a->off, a->len) != 0) continue;
      best = (int32_t)k;
      blen = a->len;
    }
    if (best < 0) {
      i++;
      continue;
    }
    const tok_added *a = &t->added[best];
    size_t start = i, stop = i + blen;
    if (a->single_word && (word_char(s, n, start, 1) || word_char(s, n, stop, 0))) {
      i = stop;
      continue;
    }
    if (a->lstrip) {
      while (start > cur) {
        size_t j = start - 1;
        while (j > cur && (s[j] & 0xC0) == 0x80 && start - j < 4) j--;
        size_t l;
        uint32_t cp = et_utf8_decode(s + j, n - j, &l);
        if (j + l != start || !et_uc_is_space(cp)) break;
        start = j;
      }
    }
    if (a->rstrip) {
      while (stop < n) {
        size_t l;
        uint32_t cp = et_utf8_decode(s + stop, n - stop, &l);
        if (!et_uc_is_space(cp)) break;
        stop += l;
      }
    }
    if (start > cur && !text(e, s + cur, start - cur, first && cur == 0)) return 0;
    if (!tok_ids_push(e->out, a->id)) return 0;
    cur = i = stop;
  }
  if (n > cur && !text(e, s + cur, n - cur, first && cur == 0)) return 0;
  return 1;
}

static int after_norm(enc *e, const uint8_t *s, size_t n, int first) {
  return model_text(e, s, n, first);
}

static int raw_gap(enc *e, const uint8_t *s, size_t n, int first) {
  tok_buf tmp = {0};
  /* the normalized text lives in its own buffer: model_text reuses work */
  tok_buf norm = {0};
  int ok = normalize(e->t, s, n, &norm, &tmp);
  free(tmp.p);
  if (ok) ok = split_added(e, norm.p ? norm.p : (const uint8_t *)"", norm.len, 1, first, after_norm);
  free(norm.p);
  return ok;
}

et_status tok_encode_hf(const et_tokenizer *t, const uint8_t *s, size_t n, tok_ids *out,
                        et_diag *diag) {
  enc e;
  memset(&e, 0, sizeof e);
  e.t = t;
  e.out = out;
  int ok = split_added(&e, s ? s : (const uint8_t *)"", n, 0, 1, raw_gap);
  free(e.work.p);
  free(e.norm.p);
  free(e.a.p);
  free(e.b.p);
  free(e.syms);
  free(e.heap.p);
  if (!ok) return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED, "encode: out of memory");
  return ET_OK;
}
