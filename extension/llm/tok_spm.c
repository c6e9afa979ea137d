/* SentencePiece tokenizer.model: a ModelProto read with a minimal protobuf
 * wire-format reader, and the BPE (merge by score) and Unigram (Viterbi)
 * encoders (see tokenizer.h). */
#include "tok_internal.h"

#include "unicode.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

/* ---- protobuf wire format ---------------------------------------------- */

typedef struct pb {
  const uint8_t *p;
  size_t n, i;
} pb;

typedef struct pb_field {
  uint32_t num;
  int wire;
  uint64_t v;        /* varint, fixed32, fixed64 */
  const uint8_t *s;  /* length-delimited */
  size_t len;
} pb_field;

static int pb_varint(pb *r, uint64_t *out) {
  uint64_t v = 0;
  for (int k = 0; k < 10; k++) {
    if (r->i >= r->n) return 0;
    uint8_t b = r->p[r->i++];
    if (k == 9 && b > 1) return 0;
    v |= (uint64_t)(b & 0x7F) << (7 * k);
    if (!(b & 0x80)) {
      *out = v;
      return 1;
    }
  }
  return 0;
}

/* 1: a field; 0: end of message; -1: malformed. */
static int pb_next(pb *r, pb_field *f) {
  if (r->i >= r->n) return 0;
  uint64_t key;
  if (!pb_varint(r, &key)) return -1;
  f->num = (uint32_t)(key >> 3);
  f->wire = (int)(key & 7);
  if (key >> 32 || f->num == 0) return -1;
  switch (f->wire) {
  case 0:
    return pb_varint(r, &f->v) ? 1 : -1;
  case 1:
    if (r->n - r->i < 8) return -1;
    f->v = 0;
    for (int k = 7; k >= 0; k--) f->v = (f->v << 8) | r->p[r->i + (size_t)k];
    r->i += 8;
    return 1;
  case 5:
    if (r->n - r->i < 4) return -1;
    f->v = (uint32_t)r->p[r->i] | (uint32_t)r->p[r->i + 1] << 8 |
           (uint32_t)r->p[r->i + 2] << 16 | (uint32_t)r->p[r->i + 3] << 24;
    r->i += 4;
    return 1;
  case 2: {
    uint64_t len;
    if (!pb_varint(r, &len) || len > r->n - r->i) return -1;
    f->s = r->p + r->i;
    f->len = (size_t)len;
    r->i += (size_t)len;
    return 1;
  }
  default: /* groups (3, 4) and unknown wire types */
    return -1;
  }
}

static float f32_of(uint64_t v) {
  uint32_t u = (uint32_t)v;
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

/* ---- loading ----------------------------------------------------------- */

typedef struct spm_spec {
  int model_type, byte_fallback, suffix;
  int64_t unk_id, bos_id, eos_id;
  const uint8_t *unk_surface;
  size_t unk_surface_len;
  const uint8_t *norm_name;
  size_t norm_name_len;
  const uint8_t *charsmap;
  size_t charsmap_len;
  int add_dummy_prefix, remove_extra_ws, escape_ws;
} spm_spec;

static et_status malformed(et_diag *diag, const char *where, size_t off) {
  return et_diag_set(diag, ET_INVALID_ARGUMENT,
                     "tokenizer.model: malformed protobuf in %s at byte %zu", where, off);
}

static et_status read_trainer(const uint8_t *s, size_t n, spm_spec *sp, et_diag *diag,
                              size_t file_off) {
  pb r = {s, n, 0};
  pb_field f;
  int k;
  while ((k = pb_next(&r, &f)) == 1) {
    if (f.wire == 0) {
      switch (f.num) {
      case 3: sp->model_type = (int)(f.v > 100 ? 100 : f.v); break;
      case 35: sp->byte_fallback = f.v != 0; break;
      case 24: sp->suffix = f.v != 0; break;
      case 40: sp->unk_id = (int32_t)(uint32_t)f.v; break;
      case 41: sp->bos_id = (int32_t)(uint32_t)f.v; break;
      case 42: sp->eos_id = (int32_t)(uint32_t)f.v; break;
      default: break;
      }
    } else if (f.wire == 2 && f.num == 44) {
      sp->unk_surface = f.s;
      sp->unk_surface_len = f.len;
    }
  }
  if (k < 0) return malformed(diag, "trainer_spec", file_off + r.i);
  return ET_OK;
}

static et_status read_normalizer(const uint8_t *s, size_t n, spm_spec *sp, et_diag *diag,
                                 size_t file_off) {
  pb r = {s, n, 0};
  pb_field f;
  int k;
  while ((k = pb_next(&r, &f)) == 1) {
    if (f.wire == 2 && f.num == 1) {
      sp->norm_name = f.s;
      sp->norm_name_len = f.len;
    } else if (f.wire == 2 && f.num == 2) {
      sp->charsmap = f.s;
      sp->charsmap_len = f.len;
    } else if (f.wire == 0 && f.num == 3) {
      sp->add_dummy_prefix = f.v != 0;
    } else if (f.wire == 0 && f.num == 4) {
      sp->remove_extra_ws = f.v != 0;
    } else if (f.wire == 0 && f.num == 5) {
      sp->escape_ws = f.v != 0;
    }
  }
  if (k < 0) return malformed(diag, "normalizer_spec", file_off + r.i);
  return ET_OK;
}

static et_status read_piece(const uint8_t *s, size_t n, const uint8_t **piece,
                            size_t *plen, float *score, int *type, et_diag *diag,
                            uint32_t index, size_t file_off) {
  pb r = {s, n, 0};
  pb_field f;
  int k;
  *piece = NULL;
  *plen = 0;
  *score = 0;
  *type = TOK_NORMAL;
  while ((k = pb_next(&r, &f)) == 1) {
    if (f.num == 1 && f.wire == 2) {
      *piece = f.s;
      *plen = f.len;
    } else if (f.num == 2 && f.wire == 5) {
      *score = f32_of(f.v);
    } else if (f.num == 3 && f.wire == 0) {
      *type = f.v > 100 ? 100 : (int)f.v;
    }
  }
  if (k < 0)
    return et_diag_set(diag, ET_INVALID_ARGUMENT,
                       "tokenizer.model: malformed protobuf in piece %u at byte %zu", index,
                       file_off + r.i);
  if (!*piece || *plen == 0)
    return et_diag_set(diag, ET_INVALID_ARGUMENT, "tokenizer.model: piece %u is empty", index);
  if (!et_utf8_valid(*piece, *plen))
    return et_diag_set(diag, ET_INVALID_ARGUMENT,
                       "tokenizer.model: piece %u is not valid UTF-8", index);
  if (*type < TOK_NORMAL || *type > TOK_BYTE)
    return et_diag_set(diag, ET_INVALID_ARGUMENT,
                       "tokenizer.model: piece %u has unknown type %d", index, *type);
  return ET_OK;
}

static et_status check_id(int64_t id, uint32_t n, const char *what, et_diag *diag) {
  if (id < -1 || id >= (int64_t)n)
    return et_diag_set(diag, ET_INVALID_ARGUMENT,
                       "tokenizer.model: %s %lld is outside the %u pieces", what,
                       (long long)id, n);
  return ET_OK;
}

static int cmp_user_len(const void *a, const void *b, const et_tokenizer *t) {
  uint32_t la = t->pieces[*(const int32_t *)a].len, lb = t->pieces[*(const int32_t *)b].len;
  return la < lb ? 1 : la > lb ? -1 : 0;
}

static et_status build(et_tokenizer *t, const uint8_t *data, size_t size, et_diag *diag) {
  spm_spec sp;
  memset(&sp, 0, sizeof sp);
  sp.model_type = 1;
  sp.unk_id = 0;
  sp.bos_id = 1;
  sp.eos_id = 2;
  sp.add_dummy_prefix = sp.remove_extra_ws = sp.escape_ws = 1;
  pb r = {data, size, 0};
  pb_field f;
  int k;
  uint32_t count = 0;
  et_status st;
  while ((k = pb_next(&r, &f)) == 1) {
    if (f.wire != 2) continue;
    if (f.num == 1) {
      if (count >= ET_TOKENIZER_MAX_VOCAB)
        return et_diag_set(diag, ET_INVALID_ARGUMENT,
                           "tokenizer.model: more than %u pieces", ET_TOKENIZER_MAX_VOCAB);
      count++;
    } else if (f.num == 2) {
      if ((st = read_trainer(f.s, f.len, &sp, diag, (size_t)(f.s - data))) != ET_OK) return st;
    } else if (f.num == 3) {
      if ((st = read_normalizer(f.s, f.len, &sp, diag, (size_t)(f.s - data))) != ET_OK)
        return st;
    }
  }
  if (k < 0) return malformed(diag, "the model", r.i);
  if (count == 0)
    return et_diag_set(diag, ET_INVALID_ARGUMENT, "tokenizer.model: no pieces");
  if (sp.model_type == 1)
    t->kind = ET_TOKENIZER_SPM_UNIGRAM;
  else if (sp.model_type == 2)
    t->kind = ET_TOKENIZER_SPM_BPE;
  else
    return et_diag_set(diag, ET_NOT_SUPPORTED,
                       "tokenizer.model: model_type %d (%s) is not supported (UNIGRAM and BPE only)",
                       sp.model_type,
                       sp.model_type == 3 ? "WORD" : sp.model_type == 4 ? "CHAR" : "unknown");
  if (sp.suffix)
    return et_diag_set(diag, ET_NOT_SUPPORTED,
                       "tokenizer.model: treat_whitespace_as_suffix is not supported");
  if (sp.charsmap_len > 0) {
    /* A precompiled character map (nmt_nfkc and the other built-in rules):
     * a little-endian u32 trie size, a darts-clone double array of that many
     * bytes, then the NUL-separated replacement strings. */
    const uint8_t *c = sp.charsmap;
    uint32_t trie_size = sp.charsmap_len >= 4 ? (uint32_t)c[0] | (uint32_t)c[1] << 8 |
                                                    (uint32_t)c[2] << 16 | (uint32_t)c[3] << 24
                                              : 0;
    if (sp.charsmap_len < 8 || trie_size < 4 || trie_size % 4 != 0 ||
        trie_size > sp.charsmap_len - 4)
      return et_diag_set(diag, ET_INVALID_ARGUMENT,
                         "tokenizer.model: the precompiled character map of %zu bytes is "
                         "malformed (trie of %u bytes)",
                         sp.charsmap_len, trie_size);
    uint32_t off = tok_str_add(t, c + 4, sp.charsmap_len - 4);
    if (off == UINT32_MAX) goto oom;
    t->cmap_off = off;
    t->cmap_units = trie_size / 4;
    t->cmap_norm_off = off + trie_size;
    t->cmap_norm_len = (uint32_t)(sp.charsmap_len - 4 - trie_size);
  }
  t->add_dummy_prefix = sp.add_dummy_prefix;
  t->remove_extra_ws = sp.remove_extra_ws;
  t->escape_ws = sp.escape_ws;
  t->spm_byte_fallback = sp.byte_fallback;
  t->strip_left = sp.add_dummy_prefix ? 1 : 0;
  t->fffd_per_byte = 1;
  t->strip_each_piece = sp.add_dummy_prefix && sp.remove_extra_ws;
  if ((st = tok_alloc_pieces(t, count, diag)) != ET_OK) return st;
  if (sp.unk_surface) {
    t->unk_surface_off = tok_str_add(t, sp.unk_surface, sp.unk_surface_len);
    t->unk_surface_len = (uint32_t)sp.unk_surface_len;
  } else {
    t->unk_surface_off = tok_str_add(t, " \xE2\x81\x87 ", 5);
    t->unk_surface_len = 5;
  }
  if (t->unk_surface_off == UINT32_MAX) goto oom;

  t->min_score = FLT_MAX;
  t->max_score = FLT_MIN;
  uint32_t id = 0;
  r.i = 0;
  tok_buf dec = {0};
  while (pb_next(&r, &f) == 1) {
    if (f.wire != 2 || f.num != 1) continue;
    const uint8_t *ps;
    size_t pl;
    float score;
    int type;
    if ((st = read_piece(f.s, f.len, &ps, &pl, &score, &type, diag, id,
                         (size_t)(f.s - data))) != ET_OK) {
      free(dec.p);
      return st;
    }
    tok_piece *p = &t->pieces[id];
    p->type = (uint8_t)type;
    p->score = score;
    p->in_map = 1;
    p->special = type == TOK_CONTROL;
    p->is_byte = type == TOK_BYTE;
    p->strip_ok = type == TOK_NORMAL || type == TOK_USER || type == TOK_UNUSED;
    p->off = tok_str_add(t, ps, pl);
    p->len = (uint32_t)pl;
    if (p->off == UINT32_MAX) break;
    if (type == TOK_NORMAL) {
      if (score < t->min_score) t->min_score = score;
      if (score > t->max_score) t->max_score = score;
    }
    dec.len = 0;
    if (type == TOK_BYTE) {
      int b = tok_parse_byte_piece(ps, pl);
      if (b < 0) {
        free(dec.p);
        return et_diag_set(diag, ET_INVALID_ARGUMENT,
                           "tokenizer.model: byte piece %u is not of the form <0xNN>", id);
      }
      uint8_t c = (uint8_t)b;
      t->byte_ids[c] = (int32_t)id;
      tok_buf_put(&dec, &c, 1);
    } else if (type == TOK_UNKNOWN) {
      tok_buf_put(&dec, t->strs + t->unk_surface_off, t->unk_surface_len);
    } else if (type != TOK_CONTROL) {
      for (size_t j = 0; j < pl; j++) {
        if (t->escape_ws && pl - j >= 3 && memcmp(ps + j, "\xE2\x96\x81", 3) == 0) {
          tok_buf_put(&dec, " ", 1);
          j += 2;
        } else {
          tok_buf_put(&dec, ps + j, 1);
        }
      }
    }
    p->dec_off = tok_str_add(t, dec.p ? dec.p : (const uint8_t *)"", dec.len);
    p->dec_len = (uint32_t)dec.len;
    if (p->dec_off == UINT32_MAX) break;
    if (type == TOK_USER) t->n_user++;
    id++;
  }
  free(dec.p);
  if (id != count) goto oom;
  if ((st = check_id(sp.unk_id, count, "unk_id", diag)) != ET_OK) return st;
  if (sp.unk_id < 0)
    return et_diag_set(diag, ET_INVALID_ARGUMENT, "tokenizer.model: unk_id must be set");
  t->unk_id = (int32_t)sp.unk_id;
  if (t->pieces[t->unk_id].type != TOK_UNKNOWN)
    return et_diag_set(diag, ET_INVALID_ARGUMENT,
                       "tokenizer.model: unk_id %d is not a piece of type UNKNOWN", (int)t->unk_id);
  if ((st = check_id(sp.bos_id, count, "bos_id", diag)) != ET_OK) return st;
  if ((st = check_id(sp.eos_id, count, "eos_id", diag)) != ET_OK) return st;
  t->bos_id = (int32_t)sp.bos_id;
  t->eos_id = (int32_t)sp.eos_id;
  if ((st = tok_build_map(t, diag)) != ET_OK) return st;
  if (t->kind == ET_TOKENIZER_SPM_UNIGRAM && (st = tok_build_prefixes(t, diag)) != ET_OK)
    return st;
  if (t->n_user) {
    t->user_ids = malloc(t->n_user * sizeof *t->user_ids);
    if (!t->user_ids) goto oom;
    uint32_t u = 0;
    for (uint32_t i = 0; i < t->n; i++)
      if (t->pieces[i].type == TOK_USER) t->user_ids[u++] = (int32_t)i;
    /* longest first (insertion sort: user symbols are few) */
    for (uint32_t i = 1; i < u; i++) {
      int32_t x = t->user_ids[i];
      uint32_t j = i;
      while (j > 0 && cmp_user_len(&t->user_ids[j - 1], &x, t) > 0) {
        t->user_ids[j] = t->user_ids[j - 1];
        j--;
      }
      t->user_ids[j] = x;
    }
  }
  tok_finish(t);
  return ET_OK;
oom:
  return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED, "tokenizer.model: out of memory");
}

et_status tok_load_spm(const void *data, size_t size, et_tokenizer **out, et_diag *diag) {
  *out = NULL;
  et_tokenizer *t = tok_new(ET_TOKENIZER_SPM_UNIGRAM);
  if (!t) return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED, "tokenizer.model: out of memory");
  et_status st = build(t, data, size, diag);
  if (st != ET_OK) {
    et_tokenizer_free(t);
    return st;
  }
  *out = t;
  return ET_OK;
}

/* ---- encoding ------------------------------------------------------------ */

static const uint8_t kSpace[3] = {0xE2, 0x96, 0x81}; /* U+2581 */

static size_t user_match(const et_tokenizer *t, const uint8_t *s, size_t n, size_t i, int32_t *id);

/* Longest rule of the precompiled character map matching s[0..n) (at most
 * the first 32 matches are considered, as SentencePiece does): its length,
 * and the replacement in *rep / *rep_len. 0 when none. Every index into the
 * map is checked (the map is untrusted). */
static size_t cmap_match(const et_tokenizer *t, const uint8_t *s, size_t n, const uint8_t **rep,
                         size_t *rep_len) {
  const uint8_t *a = t->strs + t->cmap_off;
  size_t units = t->cmap_units;
#define UNIT(k) ((uint32_t)a[4 * (k)] | (uint32_t)a[4 * (k) + 1] << 8 | \
                 (uint32_t)a[4 * (k) + 2] << 16 | (uint32_t)a[4 * (k) + 3] << 24)
#define OFFSET(u) (((u) >> 10) << (((u) & (1u << 9)) >> 6))
  size_t best = 0, found = 0;
  uint32_t value = 0;
  size_t pos = OFFSET(UNIT(0));
  for (size_t i = 0; i < n && found < 32; i++) {
    pos ^= s[i];
    if (pos >= units) break;
    uint32_t u = UNIT(pos);
    if ((u & ((1u << 31) | 0xFFu)) != s[i]) break;
    pos ^= OFFSET(u);
    if (pos >= units) break;
    if ((u >> 8) & 1u) {
      found++;
      best = i + 1;
      value = UNIT(pos) & ((1u << 31) - 1);
    }
  }
#undef UNIT
#undef OFFSET
  if (!best || value >= t->cmap_norm_len) return 0;
  const uint8_t *str = t->strs + t->cmap_norm_off + value;
  const uint8_t *end = memchr(str, 0, t->cmap_norm_len - value);
  *rep = str;
  *rep_len = end ? (size_t)(end - str) : t->cmap_norm_len - value;
  return best;
}

/* SentencePiece's NormalizePrefix: a user-defined symbol as it is, else the
 * longest character-map rule, else one character (U+FFFD for a byte that is
 * not UTF-8). Returns the bytes consumed. */
static size_t norm_prefix(const et_tokenizer *t, const uint8_t *s, size_t n, size_t i,
                          const uint8_t **rep, size_t *rep_len) {
  int32_t uid;
  size_t l = user_match(t, s, n, i, &uid);
  if (l) {
    *rep = s + i;
    *rep_len = l;
    return l;
  }
  if (t->cmap_units && (l = cmap_match(t, s + i, n - i, rep, rep_len)) > 0) return l;
  if (et_utf8_decode(s + i, n - i, &l) == ET_UC_INVALID) {
    *rep = (const uint8_t *)"\xEF\xBF\xBD";
    *rep_len = 3;
    return 1;
  }
  *rep = s + i;
  *rep_len = l;
  return l;
}

/* SentencePiece's normalization: leading, trailing and repeated spaces
 * removed (remove_extra_whitespaces), the dummy prefix, spaces escaped as
 * U+2581, each character through the character map when there is one. */
static int spm_normalize(const et_tokenizer *t, const uint8_t *s, size_t n, tok_buf *out) {
  out->len = 0;
  size_t i = 0;
  const uint8_t *rep;
  size_t rl;
  if (t->remove_extra_ws) {
    while (i < n) {
      size_t c = norm_prefix(t, s, n, i, &rep, &rl);
      if (rl != 1 || rep[0] != ' ') break;
      i += c;
    }
  }
  if (i == n) return 1;
  const uint8_t *sp = t->escape_ws ? kSpace : (const uint8_t *)" ";
  size_t spl = t->escape_ws ? 3 : 1;
  if (t->add_dummy_prefix && !tok_buf_put(out, sp, spl)) return 0;
  int prev_space = t->remove_extra_ws;
  while (i < n) {
    size_t c = norm_prefix(t, s, n, i, &rep, &rl);
    if (prev_space)
      while (rl && rep[0] == ' ') rep++, rl--;
    if (rl) {
      for (size_t k = 0; k < rl; k++) {
        int ok = rep[k] == ' ' ? tok_buf_put(out, sp, spl) : tok_buf_put(out, rep + k, 1);
        if (!ok) return 0;
      }
      prev_space = rep[rl - 1] == ' ';
    }
    if (!t->remove_extra_ws) prev_space = 0;
    i += c;
  }
  if (t->remove_extra_ws)
    while (out->len >= spl && memcmp(out->p + out->len - spl, sp, spl) == 0) out->len -= spl;
  return 1;
}

/* Longest user-defined piece at s[i..n), or 0. */
static size_t user_match(const et_tokenizer *t, const uint8_t *s, size_t n, size_t i, int32_t *id) {
  for (uint32_t k = 0; k < t->n_user; k++) {
    const tok_piece *p = &t->pieces[t->user_ids[k]];
    if (p->len <= n - i && memcmp(t->strs + p->off, s + i, p->len) == 0) {
      *id = t->user_ids[k];
      return p->len;
    }
  }
  return 0;
}

static int in_pieces(const tok_piece *p) {
  return p->type == TOK_NORMAL || p->type == TOK_USER || p->type == TOK_UNUSED;
}

/* Emit one piece s[0..n) with id (unk: bytes under byte fallback, and
 * consecutive unknowns merged otherwise). */
static int emit(const et_tokenizer *t, const uint8_t *s, size_t n, int32_t id, tok_ids *out,
                int *prev_unk) {
  if (id == t->unk_id) {
    if (t->spm_byte_fallback) {
      int all = 1;
      for (size_t k = 0; k < n; k++)
        if (t->byte_ids[s[k]] < 0) all = 0;
      if (all) {
        for (size_t k = 0; k < n; k++)
          if (!tok_ids_push(out, t->byte_ids[s[k]])) return 0;
        *prev_unk = 0;
        return 1;
      }
    }
    if (*prev_unk) return 1;
    *prev_unk = 1;
    return tok_ids_push(out, id);
  }
  *prev_unk = 0;
  return tok_ids_push(out, id);
}

typedef struct bsym {
  uint32_t start, len; /* span of the normalized text; len 0 = merged away */
  int32_t prev, next;
  uint8_t freeze;
} bsym;

/* Sortable key of a float score: higher scores first. */
static int64_t score_key(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
  return -(int64_t)u;
}

typedef struct revm {
  uint32_t start, len, left_len;
} revm;

static int bpe_encode(const et_tokenizer *t, const uint8_t *s, size_t n, tok_ids *out) {
  bsym *sy = NULL;
  size_t ns = 0;
  tok_heap h = {0};
  revm *rv = NULL;
  size_t nrv = 0, caprv = 0;
  int ok = 0;
  int32_t *stack = NULL;
  sy = malloc((n ? n : 1) * sizeof *sy);
  if (!sy) goto done;
  for (size_t i = 0; i < n;) {
    int32_t uid;
    size_t l = user_match(t, s, n, i, &uid);
    int freeze = l > 0;
    if (!l) l = et_utf8_unit(s + i, n - i);
    sy[ns].start = (uint32_t)i;
    sy[ns].len = (uint32_t)l;
    sy[ns].prev = (int32_t)ns - 1;
    sy[ns].next = i + l < n ? (int32_t)ns + 1 : -1;
    sy[ns].freeze = (uint8_t)freeze;
    ns++;
    i += l;
  }
#define ADD_PAIR(L)                                                                   \
  do {                                                                                \
    int32_t l_ = (L), r_ = l_ >= 0 ? sy[l_].next : -1;                                \
    if (l_ >= 0 && r_ >= 0 && !sy[l_].freeze && !sy[r_].freeze) {                     \
      uint32_t len_ = sy[l_].len + sy[r_].len;                                        \
      int32_t id_ = tok_map_find(t, s + sy[l_].start, len_);                          \
      if (id_ >= 0 && in_pieces(&t->pieces[id_])) {                                   \
        tok_heap_item it_ = {score_key(t->pieces[id_].score), (uint32_t)l_, r_, len_}; \
        if (!tok_heap_push(&h, it_)) goto done;                                       \
        if (t->pieces[id_].type == TOK_UNUSED) {                                      \
          if (nrv == caprv) {                                                         \
            size_t c_ = caprv ? caprv * 2 : 16;                                       \
            revm *p_ = realloc(rv, c_ * sizeof *p_);                                  \
            if (!p_) goto done;                                                       \
            rv = p_;                                                                  \
            caprv = c_;                                                               \
          }                                                                           \
          rv[nrv].start = sy[l_].start;                                               \
          rv[nrv].len = len_;                                                         \
          rv[nrv].left_len = sy[l_].len;                                              \
          nrv++;                                                                      \
        }                                                                             \
      }                                                                               \
    }                                                                                 \
  } while (0)
  for (size_t i = 0; i + 1 < ns; i++) ADD_PAIR((int32_t)i);
  tok_heap_item top;
  while (tok_heap_pop(&h, &top)) {
    bsym *l = &sy[top.pos], *r = &sy[top.aux];
    if (l->len == 0 || r->len == 0 || l->len + r->len != top.size || l->next != top.aux)
      continue;
    l->len += r->len;
    r->len = 0;
    l->next = r->next;
    if (r->next >= 0) sy[r->next].prev = (int32_t)top.pos;
    ADD_PAIR(l->prev);
    ADD_PAIR((int32_t)top.pos);
  }
#undef ADD_PAIR
  /* Resegment unused pieces into the halves they were merged from (the
   * last recorded split of that text wins), with an explicit stack. */
  stack = malloc(2 * (n ? n : 1) * sizeof *stack);
  if (!stack) goto done;
  int prev_unk = 0;
  for (int32_t k = ns ? 0 : -1; k >= 0; k = sy[k].next) {
    size_t sp = 0;
    stack[sp++] = (int32_t)sy[k].start;
    stack[sp++] = (int32_t)sy[k].len;
    while (sp) {
      uint32_t len = (uint32_t)stack[--sp], start = (uint32_t)stack[--sp];
      int32_t id = tok_map_find(t, s + start, len);
      if (id >= 0 && t->pieces[id].type == TOK_UNUSED) {
        const revm *m = NULL;
        for (size_t q = nrv; q-- > 0;)
          if (rv[q].len == len && memcmp(s + rv[q].start, s + start, len) == 0) {
            m = &rv[q];
            break;
          }
        if (m && m->left_len > 0 && m->left_len < len) {
          /* right half first on the stack: the left comes out first */
          stack[sp++] = (int32_t)(start + m->left_len);
          stack[sp++] = (int32_t)(len - m->left_len);
          stack[sp++] = (int32_t)start;
          stack[sp++] = (int32_t)m->left_len;
          continue;
        }
      }
      if (id < 0) id = t->unk_id;
      if (!emit(t, s + start, len, id, out, &prev_unk)) goto done;
    }
  }
  ok = 1;
done:
  free(sy);
  free(h.p);
  free(rv);
  free(stack);
  return ok;
}

/* Path scores are floats, as in SentencePiece's optimized Viterbi; ties
 * between segmentations of equal score are then broken as it breaks them
 * (the first candidate for an end position wins). */
typedef struct vnode {
  int32_t id;
  int32_t starts_at;
  float score;
} vnode;

static int unigram_encode(const et_tokenizer *t, const uint8_t *s, size_t n, tok_ids *out) {
  vnode *best = malloc((n + 1) * sizeof *best);
  int32_t *path = NULL;
  int ok = 0;
  if (!best) return 0;
  for (size_t i = 0; i <= n; i++) best[i].id = -1, best[i].starts_at = -1, best[i].score = 0;
  const float unk_score = t->min_score - 10.0f;
  for (size_t st = 0; st < n; st++) {
    if (st > 0 && best[st].starts_at < 0) continue; /* unreachable */
    float till = best[st].score;
    size_t mblen = et_utf8_unit(s + st, n - st);
    int single = 0;
    size_t maxl = t->max_piece_len < n - st ? t->max_piece_len : n - st;
    uint64_t h = TOK_HASH_INIT;
    for (size_t len = 1; len <= maxl; len++) {
      h = tok_hash_step(h, s[st + len - 1]);
      if (!tok_is_prefix_h(t, h)) break; /* no piece goes on this way */
      int32_t id = tok_map_find_h(t, s + st, len, h);
      if (id < 0) continue;
      const tok_piece *p = &t->pieces[id];
      if (!in_pieces(p) || p->type == TOK_UNUSED) continue;
      vnode *tg = &best[st + len];
      if (p->type == TOK_USER) {
        /* the user-defined bonus is computed in double, then stored */
        double c = (double)len * (double)t->max_score - 0.1 + (double)till;
        if (tg->starts_at == -1 || c > (double)tg->score) {
          tg->score = (float)c;
          tg->starts_at = (int32_t)st;
          tg->id = id;
        }
      } else {
        float c = p->score + till;
        if (tg->starts_at == -1 || c > tg->score) {
          tg->score = c;
          tg->starts_at = (int32_t)st;
          tg->id = id;
        }
      }
      if (len == mblen) single = 1;
    }
    if (!single) {
      vnode *tg = &best[st + mblen];
      float cand = unk_score + till;
      if (tg->starts_at == -1 || cand > tg->score) {
        tg->score = cand;
        tg->starts_at = (int32_t)st;
        tg->id = t->unk_id;
      }
    }
  }
  /* Back from the end. */
  size_t np = 0;
  path = malloc((n + 1) * sizeof *path);
  if (!path) goto done;
  for (size_t e = n; e > 0;) {
    if (best[e].starts_at < 0) goto done; /* cannot happen: every char is covered */
    path[np++] = (int32_t)e;
    e = (size_t)best[e].starts_at;
  }
  int prev_unk = 0;
  for (size_t k = np; k-- > 0;) {
    size_t e = (size_t)path[k];
    size_t b = (size_t)best[e].starts_at;
    if (!emit(t, s + b, e - b, best[e].id, out, &prev_unk)) goto done;
  }
  ok = 1;
done:
  free(best);
  free(path);
  return ok;
}

et_status tok_encode_spm(const et_tokenizer *t, const uint8_t *s, size_t n, tok_ids *out,
                         et_diag *diag) {
  tok_buf norm = {0};
  if (!spm_normalize(t, s ? s : (const uint8_t *)"", n, &norm)) {
    free(norm.p);
    return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED, "encode: out of memory");
  }
  int ok = 1;
  if (norm.len) {
    ok = t->kind == ET_TOKENIZER_SPM_BPE ? bpe_encode(t, norm.p, norm.len, out)
                                         : unigram_encode(t, norm.p, norm.len, out);
  }
  free(norm.p);
  if (!ok) return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED, "encode: out of memory");
  return ET_OK;
}
