/* Tokenizer: shared building blocks, format detection, decoding, streaming
 * (see tokenizer.h). The formats live in tok_hf.c and tok_spm.c. */
#include "tok_internal.h"

#include "unicode.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- growable buffers ------------------------------------------------- */

int tok_buf_reserve(tok_buf *b, size_t extra) {
  if (extra > SIZE_MAX / 2 - b->len) return 0;
  size_t need = b->len + extra;
  if (need <= b->cap) return 1;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need) cap *= 2;
  uint8_t *p = realloc(b->p, cap);
  if (!p) return 0;
  b->p = p;
  b->cap = cap;
  return 1;
}

int tok_buf_put(tok_buf *b, const void *data, size_t n) {
  if (!tok_buf_reserve(b, n)) return 0;
  if (n) memcpy(b->p + b->len, data, n);
  b->len += n;
  return 1;
}

int tok_ids_push(tok_ids *v, int32_t id) {
  if (v->len == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 64;
    if (cap > SIZE_MAX / sizeof(int32_t)) return 0;
    int32_t *p = realloc(v->p, cap * sizeof *p);
    if (!p) return 0;
    v->p = p;
    v->cap = cap;
  }
  v->p[v->len++] = id;
  return 1;
}

/* ---- heap ---------------------------------------------------------------- */

static int heap_less(const tok_heap_item *a, const tok_heap_item *b) {
  return a->key < b->key || (a->key == b->key && a->pos < b->pos);
}

int tok_heap_push(tok_heap *h, tok_heap_item it) {
  if (h->len == h->cap) {
    size_t cap = h->cap ? h->cap * 2 : 64;
    tok_heap_item *p = realloc(h->p, cap * sizeof *p);
    if (!p) return 0;
    h->p = p;
    h->cap = cap;
  }
  size_t i = h->len++;
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!heap_less(&it, &h->p[parent])) break;
    h->p[i] = h->p[parent];
    i = parent;
  }
  h->p[i] = it;
  return 1;
}

int tok_heap_pop(tok_heap *h, tok_heap_item *out) {
  if (h->len == 0) return 0;
  *out = h->p[0];
  tok_heap_item last = h->p[--h->len];
  size_t i = 0, n = h->len;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && heap_less(&h->p[c + 1], &h->p[c])) c++;
    if (!heap_less(&h->p[c], &last)) break;
    h->p[i] = h->p[c];
    i = c;
  }
  if (n) h->p[i] = last;
  return 1;
}

/* ---- building ------------------------------------------------------------ */

et_tokenizer *tok_new(et_tokenizer_kind kind) {
  et_tokenizer *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  t->kind = kind;
  t->unk_id = t->bos_id = t->eos_id = -1;
  for (int i = 0; i < 256; i++) t->byte_ids[i] = -1;
  return t;
}

uint32_t tok_str_add(et_tokenizer *t, const void *s, size_t n) {
  if (n > UINT32_MAX - 1 || t->strs_len + n + 1 > UINT32_MAX) return UINT32_MAX;
  tok_buf b = {t->strs, t->strs_len, t->strs_cap};
  if (!tok_buf_put(&b, s, n)) return UINT32_MAX;
  t->strs = b.p;
  t->strs_cap = b.cap;
  uint32_t off = (uint32_t)t->strs_len;
  t->strs_len = b.len;
  return off;
}

et_status tok_alloc_pieces(et_tokenizer *t, uint32_t n, et_diag *diag) {
  if (n > ET_TOKENIZER_MAX_VOCAB)
    return et_diag_set(diag, ET_INVALID_ARGUMENT,
                       "tokenizer: vocabulary of %u tokens is too large (limit %u)",
                       n, ET_TOKENIZER_MAX_VOCAB);
  t->pieces = calloc(n ? n : 1, sizeof *t->pieces);
  if (!t->pieces)
    return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED,
                       "tokenizer: out of memory for %u tokens", n);
  t->n = n;
  return ET_OK;
}

/* FNV-1a, byte by byte (so a prefix's hash extends to the next prefix's),
 * then mixed for the table index. */
static uint64_t hash_bytes(const uint8_t *s, size_t n) {
  uint64_t h = TOK_HASH_INIT;
  for (size_t i = 0; i < n; i++) h = tok_hash_step(h, s[i]);
  return h;
}

static size_t hash_index(uint64_t h) { return (size_t)(h ^ (h >> 29)); }

int32_t tok_map_find(const et_tokenizer *t, const uint8_t *s, size_t n) {
  return tok_map_find_h(t, s, n, hash_bytes(s, n));
}

int32_t tok_map_find_h(const et_tokenizer *t, const uint8_t *s, size_t n, uint64_t h) {
  if (!t->map.slots) return -1;
  size_t i = hash_index(h) & t->map.mask;
  for (;;) {
    int32_t id = t->map.slots[i];
    if (id < 0) return -1;
    const tok_piece *p = &t->pieces[id];
    if (p->len == n && memcmp(t->strs + p->off, s, n) == 0) return id;
    i = (i + 1) & t->map.mask;
  }
}

et_status tok_build_map(et_tokenizer *t, et_diag *diag) {
  size_t cap = 16;
  while (cap < (size_t)t->n * 2) cap *= 2;
  free(t->map.slots);
  t->map.slots = malloc(cap * sizeof(int32_t));
  if (!t->map.slots)
    return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED, "tokenizer: out of memory");
  memset(t->map.slots, 0xff, cap * sizeof(int32_t));
  t->map.mask = cap - 1;
  for (uint32_t id = 0; id < t->n; id++) {
    tok_piece *p = &t->pieces[id];
    if (!p->in_map) continue;
    const uint8_t *s = t->strs + p->off;
    size_t i = hash_index(hash_bytes(s, p->len)) & t->map.mask;
    for (;;) {
      int32_t o = t->map.slots[i];
      if (o < 0) {
        t->map.slots[i] = (int32_t)id;
        break;
      }
      const tok_piece *q = &t->pieces[o];
      if (q->len == p->len && memcmp(t->strs + q->off, s, p->len) == 0) {
        char shown[64];
        size_t k = p->len < sizeof shown - 1 ? p->len : sizeof shown - 1;
        memcpy(shown, s, k);
        shown[k] = 0;
        for (size_t j = 0; j < k; j++)
          if ((uint8_t)shown[j] < 0x20) shown[j] = '?';
        return et_diag_set(diag, ET_INVALID_ARGUMENT,
                           "tokenizer: token '%s' appears twice (ids %d and %u)",
                           shown, (int)o, id);
      }
      i = (i + 1) & t->map.mask;
    }
  }
  return ET_OK;
}

et_status tok_build_prefixes(et_tokenizer *t, et_diag *diag) {
  size_t total = 0;
  for (uint32_t id = 0; id < t->n; id++)
    if (t->pieces[id].in_map) total += t->pieces[id].len;
  size_t cap = 16;
  while (cap < total * 2) cap *= 2;
  t->prefixes = calloc(cap, sizeof *t->prefixes);
  if (!t->prefixes)
    return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED, "tokenizer: out of memory");
  t->prefix_mask = cap - 1;
  for (uint32_t id = 0; id < t->n; id++) {
    const tok_piece *p = &t->pieces[id];
    if (!p->in_map) continue;
    uint64_t h = TOK_HASH_INIT;
    for (uint32_t k = 0; k < p->len; k++) {
      h = tok_hash_step(h, t->strs[p->off + k]);
      uint64_t key = h | 1;
      size_t i = hash_index(h) & t->prefix_mask;
      while (t->prefixes[i] && t->prefixes[i] != key) i = (i + 1) & t->prefix_mask;
      t->prefixes[i] = key;
    }
  }
  return ET_OK;
}

int tok_is_prefix_h(const et_tokenizer *t, uint64_t h) {
  if (!t->prefixes) return 1;
  uint64_t key = h | 1;
  size_t i = hash_index(h) & t->prefix_mask;
  while (t->prefixes[i]) {
    if (t->prefixes[i] == key) return 1;
    i = (i + 1) & t->prefix_mask;
  }
  return 0;
}

int tok_parse_byte_piece(const uint8_t *s, size_t n) {
  if (n != 6 || s[0] != '<' || s[1] != '0' || s[2] != 'x' || s[5] != '>') return -1;
  int v = 0;
  for (int k = 3; k < 5; k++) {
    uint8_t c = s[k];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= c - '0';
    else if (c >= 'A' && c <= 'F')
      v |= c - 'A' + 10;
    else if (c >= 'a' && c <= 'f')
      v |= c - 'a' + 10;
    else
      return -1;
  }
  return v;
}

void tok_finish(et_tokenizer *t) {
  t->max_dec_len = t->max_piece_len = 0;
  for (uint32_t id = 0; id < t->n; id++) {
    const tok_piece *p = &t->pieces[id];
    if (p->dec_len > t->max_dec_len) t->max_dec_len = p->dec_len;
    if (p->len > t->max_piece_len) t->max_piece_len = p->len;
  }
}

/* (left << 32 | right) + 1 never collides with the empty 0 key. */
static uint64_t pair_key(int32_t a, int32_t b) {
  return (((uint64_t)(uint32_t)a << 32) | (uint32_t)b) + 1;
}

static size_t pair_hash(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  return (size_t)k;
}

et_status tok_pairmap_init(tok_pairmap *m, size_t n, et_diag *diag) {
  size_t cap = 16;
  while (cap < n * 2) cap *= 2;
  m->keys = calloc(cap, sizeof *m->keys);
  m->rank = malloc(cap * sizeof *m->rank);
  m->result = malloc(cap * sizeof *m->result);
  m->mask = cap - 1;
  if (!m->keys || !m->rank || !m->result)
    return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED,
                       "tokenizer: out of memory for %zu merges", n);
  return ET_OK;
}

int tok_pairmap_put(tok_pairmap *m, int32_t a, int32_t b, uint32_t rank, int32_t result) {
  uint64_t k = pair_key(a, b);
  size_t i = pair_hash(k) & m->mask;
  while (m->keys[i]) {
    if (m->keys[i] == k) { /* a later duplicate wins, as in tokenizers */
      m->rank[i] = rank;
      m->result[i] = result;
      return 1;
    }
    i = (i + 1) & m->mask;
  }
  m->keys[i] = k;
  m->rank[i] = rank;
  m->result[i] = result;
  return 0;
}

int tok_pairmap_get(const tok_pairmap *m, int32_t a, int32_t b, uint32_t *rank,
                    int32_t *result) {
  if (!m->keys) return 0;
  uint64_t k = pair_key(a, b);
  size_t i = pair_hash(k) & m->mask;
  while (m->keys[i]) {
    if (m->keys[i] == k) {
      *rank = m->rank[i];
      *result = m->result[i];
      return 1;
    }
    i = (i + 1) & m->mask;
  }
  return 0;
}

/* ---- loading --------------------------------------------------------------- */

void et_tokenizer_free(et_tokenizer *t) {
  if (!t) return;
  free(t->pieces);
  free(t->strs);
  free(t->map.slots);
  free(t->merges.keys);
  free(t->merges.rank);
  free(t->merges.result);
  free(t->added);
  free(t->user_ids);
  free(t->prefixes);
  free(t);
}

static et_status load_any(const void *data, size_t size, const char *dir,
                          et_tokenizer **out, et_diag *diag) {
  *out = NULL;
  if (!data && size)
    return et_diag_set(diag, ET_INVALID_ARGUMENT, "tokenizer: no data");
  if (size == 0)
    return et_diag_set(diag, ET_INVALID_ARGUMENT, "tokenizer: the file is empty");
  if (size > ET_TOKENIZER_MAX_FILE_BYTES)
    return et_diag_set(diag, ET_INVALID_ARGUMENT,
                       "tokenizer: %zu bytes is larger than the %zu byte limit",
                       size, ET_TOKENIZER_MAX_FILE_BYTES);
  const uint8_t *p = data;
  size_t i = 0;
  if (size >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) i = 3;
  while (i < size && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r')) i++;
  if (i < size && p[i] == '{') return tok_load_hf_json(data, size, dir, out, diag);
  /* tiktoken: lines of "<base64> <rank>". */
  {
    size_t j = 0;
    while (j < size && j < 200 && p[j] != '\n' &&
           ((p[j] >= 'A' && p[j] <= 'Z') || (p[j] >= 'a' && p[j] <= 'z') ||
            (p[j] >= '0' && p[j] <= '9') || p[j] == '+' || p[j] == '/' || p[j] == '='))
      j++;
    if (j > 0 && j < size && p[j] == ' ' && j + 1 < size && p[j + 1] >= '0' && p[j + 1] <= '9')
      return et_diag_set(diag, ET_NOT_SUPPORTED,
                         "tokenizer: this looks like a tiktoken file (base64 token and "
                         "rank per line), which is not supported");
  }
  /* A SentencePiece ModelProto starts with field 1 (pieces), wire type 2. */
  if (p[0] == 0x0A) return tok_load_spm(data, size, out, diag);
  return et_diag_set(diag, ET_NOT_SUPPORTED,
                     "tokenizer: unknown file format (first byte 0x%x): expected a "
                     "Hugging Face tokenizer.json or a SentencePiece tokenizer.model "
                     "(llama2.c tokenizer.bin files are not supported)",
                     (unsigned)p[0]);
}

et_status et_tokenizer_load_buffer(const void *data, size_t size,
                                   et_tokenizer **out_tok, et_diag *diag) {
  if (!out_tok) return et_diag_set(diag, ET_INVALID_ARGUMENT, "tokenizer: no output");
  return load_any(data, size, NULL, out_tok, diag);
}

et_status et_tokenizer_load_file(const char *path, et_tokenizer **out_tok,
                                 et_diag *diag) {
  if (!out_tok || !path)
    return et_diag_set(diag, ET_INVALID_ARGUMENT, "tokenizer: no path");
  *out_tok = NULL;
  FILE *f = fopen(path, "rb");
  if (!f)
    return et_diag_set(diag, ET_ACCESS_FAILED, "tokenizer: cannot open '%s': %s",
                       path, strerror(errno));
  tok_buf b = {0};
  uint8_t chunk[65536];
  size_t got;
  while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (b.len + got > ET_TOKENIZER_MAX_FILE_BYTES) {
      fclose(f);
      free(b.p);
      return et_diag_set(diag, ET_INVALID_ARGUMENT,
                         "tokenizer: '%s' is larger than the %zu byte limit", path,
                         ET_TOKENIZER_MAX_FILE_BYTES);
    }
    if (!tok_buf_put(&b, chunk, got)) {
      fclose(f);
      free(b.p);
      return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED,
                         "tokenizer: out of memory reading '%s'", path);
    }
  }
  int err = ferror(f);
  fclose(f);
  if (err) {
    free(b.p);
    return et_diag_set(diag, ET_ACCESS_FAILED, "tokenizer: cannot read '%s'", path);
  }
  /* The directory, for a tokenizer_config.json beside a tokenizer.json. */
  char dir[4096];
  const char *slash = strrchr(path, '/');
  size_t dl = slash ? (size_t)(slash - path) : 1;
  if (dl >= sizeof dir) dl = 0;
  if (slash)
    memcpy(dir, path, dl);
  else
    dir[0] = '.';
  dir[dl] = 0;
  et_status st = load_any(b.p, b.len, dl ? dir : NULL, out_tok, diag);
  free(b.p);
  return st;
}

/* ---- queries ----------------------------------------------------------------- */

et_tokenizer_kind et_tokenizer_kind_of(const et_tokenizer *tok) { return tok->kind; }

const char *et_tokenizer_kind_name(et_tokenizer_kind kind) {
  switch (kind) {
  case ET_TOKENIZER_HF_BPE: return "hf_bpe";
  case ET_TOKENIZER_SPM_BPE: return "sentencepiece_bpe";
  case ET_TOKENIZER_SPM_UNIGRAM: return "sentencepiece_unigram";
  }
  return "unknown";
}

uint32_t et_tokenizer_vocab_size(const et_tokenizer *tok) { return tok->n; }
int32_t et_tokenizer_bos_id(const et_tokenizer *tok) { return tok->bos_id; }
int32_t et_tokenizer_eos_id(const et_tokenizer *tok) { return tok->eos_id; }

et_status et_tokenizer_set_bos_eos(et_tokenizer *tok, int32_t bos, int32_t eos) {
  if (bos < -1 || eos < -1 || (bos >= 0 && (uint32_t)bos >= tok->n) ||
      (eos >= 0 && (uint32_t)eos >= tok->n))
    return ET_INVALID_ARGUMENT;
  tok->bos_id = bos;
  tok->eos_id = eos;
  return ET_OK;
}

int32_t et_tokenizer_token_id(const et_tokenizer *tok, const char *text, size_t len) {
  for (uint32_t i = 0; i < tok->n_added; i++) {
    const tok_added *a = &tok->added[i];
    if (a->len == len && memcmp(tok->strs + a->off, text, len) == 0) return a->id;
  }
  for (uint32_t id = 0; id < tok->n; id++) {
    const tok_piece *p = &tok->pieces[id];
    if (p->type == TOK_HOLE) continue;
    if (p->len == len && memcmp(tok->strs + p->off, text, len) == 0) return (int32_t)id;
  }
  return -1;
}

int et_tokenizer_is_special(const et_tokenizer *tok, int32_t id) {
  if (id < 0 || (uint32_t)id >= tok->n) return 0;
  return tok->pieces[id].special;
}

/* ---- encode ------------------------------------------------------------------- */

et_status et_tokenizer_encode(const et_tokenizer *tok, const char *text,
                              size_t len, int add_bos, int32_t **out_ids,
                              size_t *out_n, et_diag *diag) {
  if (!tok || !out_ids || !out_n || (!text && len))
    return et_diag_set(diag, ET_INVALID_ARGUMENT, "encode: bad arguments");
  *out_ids = NULL;
  *out_n = 0;
  tok_ids ids = {0};
  if (add_bos) {
    if (tok->bos_id < 0)
      return et_diag_set(diag, ET_INVALID_ARGUMENT,
                         "encode: the tokenizer has no BOS token");
    if (!tok_ids_push(&ids, tok->bos_id))
      return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED, "encode: out of memory");
  }
  et_status st = tok->kind == ET_TOKENIZER_HF_BPE
                     ? tok_encode_hf(tok, (const uint8_t *)text, len, &ids, diag)
                     : tok_encode_spm(tok, (const uint8_t *)text, len, &ids, diag);
  if (st != ET_OK) {
    free(ids.p);
    return st;
  }
  if (!ids.p) { /* an empty result is still a valid pointer to free */
    ids.p = malloc(sizeof(int32_t));
    if (!ids.p)
      return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED, "encode: out of memory");
  }
  *out_ids = ids.p;
  *out_n = ids.len;
  return ET_OK;
}

/* ---- decode ------------------------------------------------------------------- */

et_status et_tokenizer_token_bytes(const et_tokenizer *tok, int32_t id,
                                   const uint8_t **out_bytes, size_t *out_len) {
  if (!tok || id < 0 || (uint32_t)id >= tok->n) return ET_INVALID_ARGUMENT;
  const tok_piece *p = &tok->pieces[id];
  *out_bytes = tok->strs ? tok->strs + p->dec_off : (const uint8_t *)"";
  *out_len = p->dec_len;
  return ET_OK;
}

/* Decoding state: output, the leading-space strip, the run of byte tokens. */
typedef struct dec_out {
  const et_tokenizer *t;
  tok_buf b, group, fa, fb;
  uint32_t strip;
  int seen;
} dec_out;

static int put_text(dec_out *d, const uint8_t *s, size_t l, int strippable) {
  if (d->t->strip_each_piece) {
    /* SentencePiece: every piece loses one leading space while nothing has
     * been written yet. */
    if (strippable && d->b.len == 0 && l && s[0] == ' ') s++, l--;
    return tok_buf_put(&d->b, s, l);
  }
  while (strippable && d->strip && l && d->b.len == 0 && s[0] == ' ') s++, l--, d->strip--;
  if (l) d->strip = 0;
  return tok_buf_put(&d->b, s, l);
}

static const uint8_t kFFFD[3] = {0xEF, 0xBF, 0xBD};

/* A finished run of byte tokens: SentencePiece replaces each byte that does
 * not start a valid character; Hugging Face's ByteFallback replaces every
 * byte of a run that is not valid UTF-8 as a whole. */
static int flush_group(dec_out *d) {
  const et_tokenizer *t = d->t;
  tok_buf *g = &d->group;
  if (!g->len) return 1;
  int ok = 1;
  if (t->kind == ET_TOKENIZER_HF_BPE) {
    if (et_utf8_valid(g->p, g->len)) {
      ok = put_text(d, g->p, g->len, 1);
    } else {
      for (size_t i = 0; ok && i < g->len; i++) ok = put_text(d, kFFFD, 3, 1);
    }
  } else {
    for (size_t i = 0; ok && i < g->len;) {
      size_t l;
      if (et_utf8_decode(g->p + i, g->len - i, &l) == ET_UC_INVALID)
        ok = put_text(d, kFFFD, 3, 0);
      else
        ok = put_text(d, g->p + i, l, 0);
      i += l;
    }
  }
  g->len = 0;
  return ok;
}

et_status et_tokenizer_decode(const et_tokenizer *tok, const int32_t *ids,
                              size_t n, int skip_special, char **out_text,
                              size_t *out_len, et_diag *diag) {
  if (!tok || !out_text || !out_len || (!ids && n))
    return et_diag_set(diag, ET_INVALID_ARGUMENT, "decode: bad arguments");
  *out_text = NULL;
  *out_len = 0;
  dec_out d;
  memset(&d, 0, sizeof d);
  d.t = tok;
  d.strip = tok->strip_left;
  et_status st = ET_OK;
  for (size_t i = 0; i < n && st == ET_OK; i++) {
    if (ids[i] < 0 || (uint32_t)ids[i] >= tok->n) {
      st = et_diag_set(diag, ET_INVALID_ARGUMENT,
                       "decode: token id %d at position %zu is outside the vocabulary of %u",
                       (int)ids[i], i, tok->n);
      break;
    }
    const tok_piece *p = &tok->pieces[ids[i]];
    if (skip_special && p->special) continue;
    int first = !d.seen;
    d.seen = 1;
    if (p->is_byte) {
      if (!tok_buf_put(&d.group, tok->strs + p->dec_off, p->dec_len)) st = ET_MEMORY_ALLOCATION_FAILED;
      continue;
    }
    if (!flush_group(&d)) {
      st = ET_MEMORY_ALLOCATION_FAILED;
      break;
    }
    const uint8_t *s = tok->strs + p->dec_off;
    size_t l = p->dec_len;
    if (tok->dec_first_token && first) {
      tok_buf *r = tok_hf_decode_text(tok, tok->strs + p->src_off, p->src_len, 1, &d.fa, &d.fb);
      if (!r) {
        st = ET_MEMORY_ALLOCATION_FAILED;
        break;
      }
      s = r->p ? r->p : (const uint8_t *)"";
      l = r->len;
    }
    if (!put_text(&d, s, l, p->strip_ok)) st = ET_MEMORY_ALLOCATION_FAILED;
  }
  if (st == ET_OK && (!flush_group(&d) || !tok_buf_put(&d.b, "", 1)))
    st = ET_MEMORY_ALLOCATION_FAILED;
  free(d.group.p);
  free(d.fa.p);
  free(d.fb.p);
  if (st != ET_OK) {
    free(d.b.p);
    if (st == ET_MEMORY_ALLOCATION_FAILED)
      et_diag_set(diag, st, "decode: out of memory");
    return st;
  }
  *out_text = (char *)d.b.p;
  *out_len = d.b.len - 1;
  return ET_OK;
}

/* ---- streaming ----------------------------------------------------------------- */

void et_token_stream_init(et_token_stream *s, const et_tokenizer *tok, int skip_special) {
  memset(s, 0, sizeof *s);
  s->tok = tok;
  s->skip_special = (uint8_t)(skip_special != 0);
  s->strip_left = tok ? tok->strip_left : 0;
}

size_t et_token_stream_max_bytes(const et_tokenizer *tok) {
  /* Every byte may turn into a 3-byte U+FFFD. */
  return ((size_t)tok->max_dec_len + 4) * 3 + 1;
}

static const uint8_t kReplacement[3] = {0xEF, 0xBF, 0xBD};

/* Expected length of a sequence starting with b (0: b cannot start one). */
static size_t lead_len(uint8_t b) {
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return 2;
  if (b >= 0xE0 && b <= 0xEF) return 3;
  if (b >= 0xF0 && b <= 0xF4) return 4;
  return 0;
}

/* Whether s[0..n) (n < lead_len(s[0])) can still become a valid sequence. */
static int valid_prefix(const uint8_t *s, size_t n) {
  for (size_t i = 1; i < n; i++)
    if ((s[i] & 0xC0) != 0x80) return 0;
  if (n >= 2) {
    if (s[0] == 0xE0 && s[1] < 0xA0) return 0;
    if (s[0] == 0xED && s[1] > 0x9F) return 0;
    if (s[0] == 0xF0 && s[1] < 0x90) return 0;
    if (s[0] == 0xF4 && s[1] > 0x8F) return 0;
  }
  return 1;
}

static int out_put(char *out, size_t cap, size_t *len, const void *p, size_t n) {
  if (cap - *len < n) return 0;
  memcpy(out + *len, p, n);
  *len += n;
  return 1;
}

/* Feed bytes through the pending buffer, writing whole characters and
 * U+FFFD for bytes that cannot start or continue one (maximal subparts, as
 * Python's decoder). */
static et_status stream_bytes(et_token_stream *s, const uint8_t *p, size_t n,
                              char *out, size_t cap, size_t *len) {
  for (size_t i = 0; i < n; i++) {
    s->pending[s->npending++] = p[i];
    for (;;) {
      size_t need = lead_len(s->pending[0]);
      if (need == 0) { /* not a lead byte: one replacement, drop it */
        if (!out_put(out, cap, len, kReplacement, 3)) return ET_OUT_OF_RESOURCES;
        memmove(s->pending, s->pending + 1, --s->npending);
        if (!s->npending) break;
        continue;
      }
      if (!valid_prefix(s->pending, s->npending)) {
        /* The bytes before the offending one are a maximal subpart: one
         * replacement for them (one per byte where the reference decoder
         * replaces byte tokens byte by byte), then retry the offending
         * byte as a lead. */
        size_t reps = s->tok->fffd_per_byte ? (size_t)s->npending - 1 : 1;
        for (size_t r = 0; r < reps; r++)
          if (!out_put(out, cap, len, kReplacement, 3)) return ET_OUT_OF_RESOURCES;
        uint8_t last = s->pending[s->npending - 1];
        s->pending[0] = last;
        s->npending = 1;
        continue;
      }
      if (s->npending == need) {
        if (!out_put(out, cap, len, s->pending, need)) return ET_OUT_OF_RESOURCES;
        s->npending = 0;
      }
      break;
    }
  }
  return ET_OK;
}

et_status et_token_stream_push(et_token_stream *s, int32_t id, char *out,
                               size_t cap, size_t *out_len) {
  *out_len = 0;
  const et_tokenizer *tok = s->tok;
  if (!tok || id < 0 || (uint32_t)id >= tok->n) return ET_INVALID_ARGUMENT;
  const tok_piece *p = &tok->pieces[id];
  if (s->skip_special && p->special) return ET_OK;
  const uint8_t *b = tok->strs + p->dec_off;
  size_t l = p->dec_len;
  tok_buf fa = {0}, fb = {0};
  if (tok->dec_first_token && !s->seen) {
    tok_buf *r = tok_hf_decode_text(tok, tok->strs + p->src_off, p->src_len, 1, &fa, &fb);
    if (!r) {
      free(fa.p);
      free(fb.p);
      return ET_MEMORY_ALLOCATION_FAILED;
    }
    b = r->p ? r->p : (const uint8_t *)"";
    l = r->len;
  }
  s->seen = 1;
  if (tok->strip_each_piece) {
    if (p->strip_ok && l && !s->started && b[0] == ' ') b++, l--;
  } else {
    while (p->strip_ok && s->strip_left && l && !s->started && b[0] == ' ')
      b++, l--, s->strip_left--;
  }
  if (l) s->started = 1, s->strip_left = 0;
  et_status st = stream_bytes(s, b, l, out, cap, out_len);
  free(fa.p);
  free(fb.p);
  return st;
}

et_status et_token_stream_flush(et_token_stream *s, char *out, size_t cap,
                                size_t *out_len) {
  *out_len = 0;
  size_t reps = s->npending && s->tok && s->tok->fffd_per_byte ? s->npending : (s->npending ? 1 : 0);
  s->npending = 0;
  for (size_t r = 0; r < reps; r++)
    if (!out_put(out, cap, out_len, kReplacement, 3)) return ET_OUT_OF_RESOURCES;
  return ET_OK;
}
