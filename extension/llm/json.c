/* JSON reader for tokenizer files (see json.h). */
#include "json.h"

#include "unicode.h"

#include <stdlib.h>
#include <string.h>

/* ---- arena ------------------------------------------------------------- */

typedef struct chunk {
  struct chunk *next;
  size_t used, cap;
  /* data follows, 16-byte aligned */
} chunk;

#define CHUNK_HDR ((sizeof(chunk) + 15) & ~(size_t)15)

struct et_json_doc {
  chunk *chunks;
  et_json root;
};

static void *arena_alloc(et_json_doc *d, size_t n) {
  n = (n + 15) & ~(size_t)15;
  chunk *c = d->chunks;
  if (!c || c->cap - c->used < n) {
    size_t cap = n > ((size_t)1 << 20) ? n : ((size_t)1 << 20);
    c = malloc(CHUNK_HDR + cap);
    if (!c) return NULL;
    c->next = d->chunks;
    c->used = 0;
    c->cap = cap;
    d->chunks = c;
  }
  void *p = (char *)c + CHUNK_HDR + c->used;
  c->used += n;
  return p;
}

void et_json_doc_free(et_json_doc *doc) {
  if (!doc) return;
  chunk *c = doc->chunks;
  while (c) {
    chunk *n = c->next;
    free(c);
    c = n;
  }
  free(doc);
}

const et_json *et_json_doc_root(const et_json_doc *doc) {
  return doc ? &doc->root : NULL;
}

/* ---- parser ------------------------------------------------------------ */

typedef struct parser {
  const uint8_t *p;
  size_t n, i;
  et_json_doc *doc;
  et_json *stack; /* children of the containers being read */
  size_t sp, scap;
  et_diag *diag;
} parser;

static et_status fail(parser *ps, const char *what) {
  return et_diag_set(ps->diag, ET_INVALID_ARGUMENT, "JSON: %s at byte %zu",
                     what, ps->i);
}

static void skip_ws(parser *ps) {
  while (ps->i < ps->n) {
    uint8_t c = ps->p[ps->i];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    ps->i++;
  }
}

static et_status push(parser *ps, const et_json *v) {
  if (ps->sp == ps->scap) {
    size_t cap = ps->scap ? ps->scap * 2 : 256;
    if (cap > ((size_t)1 << 31)) return fail(ps, "too many values");
    et_json *s = realloc(ps->stack, cap * sizeof *s);
    if (!s)
      return et_diag_set(ps->diag, ET_MEMORY_ALLOCATION_FAILED,
                         "JSON: out of memory at byte %zu", ps->i);
    ps->stack = s;
    ps->scap = cap;
  }
  ps->stack[ps->sp++] = *v;
  return ET_OK;
}

static int hex4(const uint8_t *s, uint32_t *out) {
  uint32_t v = 0;
  for (int k = 0; k < 4; k++) {
    uint8_t c = s[k];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (uint32_t)(c - '0');
    else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
      v |= (uint32_t)((c | 0x20) - 'a' + 10);
    else
      return 0;
  }
  *out = v;
  return 1;
}

/* Reads the string at ps->i (which is '"') into arena memory. */
static et_status parse_string(parser *ps, const char **out, uint32_t *out_len) {
  size_t start = ++ps->i;
  /* Bound the decoded size by the raw size up to the closing quote. */
  size_t j = start;
  while (j < ps->n && ps->p[j] != '"') j += (ps->p[j] == '\\') ? 2 : 1;
  if (j >= ps->n) return fail(ps, "unterminated string");
  if (j - start >= UINT32_MAX) return fail(ps, "string too long");
  char *dst = arena_alloc(ps->doc, j - start + 1);
  if (!dst)
    return et_diag_set(ps->diag, ET_MEMORY_ALLOCATION_FAILED,
                       "JSON: out of memory at byte %zu", ps->i);
  size_t o = 0;
  while (ps->i < j) {
    uint8_t c = ps->p[ps->i];
    if (c < 0x20) return fail(ps, "control character in string");
    if (c != '\\') {
      size_t len;
      if (et_utf8_decode(ps->p + ps->i, j - ps->i, &len) == ET_UC_INVALID)
        return fail(ps, "invalid UTF-8 in string");
      memcpy(dst + o, ps->p + ps->i, len);
      o += len;
      ps->i += len;
      continue;
    }
    if (ps->i + 1 >= j) return fail(ps, "bad escape");
    uint8_t e = ps->p[ps->i + 1];
    ps->i += 2;
    switch (e) {
    case '"': dst[o++] = '"'; break;
    case '\\': dst[o++] = '\\'; break;
    case '/': dst[o++] = '/'; break;
    case 'b': dst[o++] = '\b'; break;
    case 'f': dst[o++] = '\f'; break;
    case 'n': dst[o++] = '\n'; break;
    case 'r': dst[o++] = '\r'; break;
    case 't': dst[o++] = '\t'; break;
    case 'u': {
      uint32_t cp;
      if (ps->i + 4 > j || !hex4(ps->p + ps->i, &cp))
        return fail(ps, "bad \\u escape");
      ps->i += 4;
      if (cp >= 0xDC00 && cp <= 0xDFFF)
        return fail(ps, "lone low surrogate in \\u escape");
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        uint32_t lo;
        if (ps->i + 6 > j || ps->p[ps->i] != '\\' || ps->p[ps->i + 1] != 'u' ||
            !hex4(ps->p + ps->i + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF)
          return fail(ps, "high surrogate without low surrogate in \\u escape");
        ps->i += 6;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      }
      /* Six escaped bytes always cover the (at most 4) encoded ones. */
      o += et_utf8_encode(cp, (uint8_t *)dst + o);
      break;
    }
    default:
      return fail(ps, "bad escape");
    }
  }
  dst[o] = 0;
  ps->i = j + 1;
  *out = dst;
  *out_len = (uint32_t)o;
  return ET_OK;
}

static int is_digit(uint8_t c) { return c >= '0' && c <= '9'; }

static et_status parse_number(parser *ps, et_json *v) {
  size_t s = ps->i, i = ps->i;
  const uint8_t *p = ps->p;
  int neg = 0, integral = 1;
  if (i < ps->n && p[i] == '-') neg = 1, i++;
  if (i >= ps->n || !is_digit(p[i])) return fail(ps, "bad number");
  if (p[i] == '0') {
    i++;
  } else {
    while (i < ps->n && is_digit(p[i])) i++;
  }
  if (i < ps->n && p[i] == '.') {
    integral = 0;
    i++;
    if (i >= ps->n || !is_digit(p[i])) return fail(ps, "bad number");
    while (i < ps->n && is_digit(p[i])) i++;
  }
  if (i < ps->n && (p[i] == 'e' || p[i] == 'E')) {
    integral = 0;
    i++;
    if (i < ps->n && (p[i] == '+' || p[i] == '-')) i++;
    if (i >= ps->n || !is_digit(p[i])) return fail(ps, "bad number");
    while (i < ps->n && is_digit(p[i])) i++;
  }
  char buf[128];
  size_t len = i - s;
  if (len >= sizeof buf) return fail(ps, "number too long");
  memcpy(buf, p + s, len);
  buf[len] = 0;
  v->type = ET_JSON_NUMBER;
  v->number = strtod(buf, NULL);
  v->is_int = 0;
  if (integral) {
    uint64_t acc = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    int ok = 1;
    for (size_t k = (size_t)neg; k < len; k++) {
      uint64_t d = (uint64_t)(buf[k] - '0');
      if (acc > (lim - d) / 10) {
        ok = 0;
        break;
      }
      acc = acc * 10 + d;
    }
    if (ok) {
      v->is_int = 1;
      v->integer = neg ? (acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc)
                       : (int64_t)acc;
    }
  }
  ps->i = i;
  return ET_OK;
}

static int lit(parser *ps, const char *word) {
  size_t l = strlen(word);
  if (ps->n - ps->i < l || memcmp(ps->p + ps->i, word, l) != 0) return 0;
  ps->i += l;
  return 1;
}

static et_status parse_value(parser *ps, et_json *v, int depth);

static et_status parse_container(parser *ps, et_json *v, int depth) {
  int obj = ps->p[ps->i] == '{';
  uint8_t close = obj ? '}' : ']';
  if (depth >= ET_JSON_MAX_DEPTH) return fail(ps, "nesting too deep");
  ps->i++;
  size_t mark = ps->sp;
  skip_ws(ps);
  if (ps->i < ps->n && ps->p[ps->i] == close) {
    ps->i++;
  } else {
    for (;;) {
      et_json item;
      memset(&item, 0, sizeof item);
      skip_ws(ps);
      if (obj) {
        if (ps->i >= ps->n || ps->p[ps->i] != '"')
          return fail(ps, "expected a member name");
        et_status st = parse_string(ps, &item.key, &item.key_len);
        if (st != ET_OK) return st;
        skip_ws(ps);
        if (ps->i >= ps->n || ps->p[ps->i] != ':') return fail(ps, "expected ':'");
        ps->i++;
      }
      const char *key = item.key;
      uint32_t key_len = item.key_len;
      et_status st = parse_value(ps, &item, depth + 1);
      if (st != ET_OK) return st;
      item.key = key;
      item.key_len = key_len;
      st = push(ps, &item);
      if (st != ET_OK) return st;
      skip_ws(ps);
      if (ps->i >= ps->n) return fail(ps, obj ? "unterminated object" : "unterminated array");
      if (ps->p[ps->i] == ',') {
        ps->i++;
        continue;
      }
      if (ps->p[ps->i] == close) {
        ps->i++;
        break;
      }
      return fail(ps, obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
  }
  size_t count = ps->sp - mark;
  if (count > INT32_MAX) return fail(ps, "container too large");
  memset(v, 0, sizeof *v);
  v->type = obj ? ET_JSON_OBJECT : ET_JSON_ARRAY;
  v->len = (uint32_t)count;
  if (count) {
    v->items = arena_alloc(ps->doc, count * sizeof(et_json));
    if (!v->items)
      return et_diag_set(ps->diag, ET_MEMORY_ALLOCATION_FAILED,
                         "JSON: out of memory at byte %zu", ps->i);
    memcpy(v->items, ps->stack + mark, count * sizeof(et_json));
  }
  ps->sp = mark;
  return ET_OK;
}

static et_status parse_value(parser *ps, et_json *v, int depth) {
  memset(v, 0, sizeof *v);
  skip_ws(ps);
  if (ps->i >= ps->n) return fail(ps, "unexpected end of input");
  uint8_t c = ps->p[ps->i];
  switch (c) {
  case '{':
  case '[':
    return parse_container(ps, v, depth);
  case '"':
    v->type = ET_JSON_STRING;
    return parse_string(ps, &v->str, &v->len);
  case 't':
  case 'f':
    v->type = ET_JSON_BOOL;
    v->boolean = c == 't';
    if (!lit(ps, c == 't' ? "true" : "false")) return fail(ps, "bad literal");
    return ET_OK;
  case 'n':
    v->type = ET_JSON_NULL;
    if (!lit(ps, "null")) return fail(ps, "bad literal");
    return ET_OK;
  default:
    if (c == '-' || is_digit(c)) return parse_number(ps, v);
    return fail(ps, "unexpected character");
  }
}

et_status et_json_parse(const void *data, size_t size, et_json_doc **out_doc,
                        et_diag *diag) {
  *out_doc = NULL;
  if (!data && size) return et_diag_set(diag, ET_INVALID_ARGUMENT, "JSON: no data");
  if (size >= ((size_t)1 << 31))
    return et_diag_set(diag, ET_INVALID_ARGUMENT,
                       "JSON: document of %zu bytes is too large", size);
  parser ps;
  memset(&ps, 0, sizeof ps);
  ps.p = data;
  ps.n = size;
  ps.diag = diag;
  ps.doc = calloc(1, sizeof *ps.doc);
  if (!ps.doc) return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED, "JSON: out of memory");
  /* A UTF-8 byte order mark is tolerated. */
  if (size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) ps.i = 3;
  et_status st = parse_value(&ps, &ps.doc->root, 0);
  if (st == ET_OK) {
    skip_ws(&ps);
    if (ps.i != ps.n) st = fail(&ps, "trailing characters after the document");
  }
  free(ps.stack);
  if (st != ET_OK) {
    et_json_doc_free(ps.doc);
    return st;
  }
  *out_doc = ps.doc;
  return ET_OK;
}

const et_json *et_json_get(const et_json *v, const char *key) {
  if (!v || v->type != ET_JSON_OBJECT) return NULL;
  size_t kl = strlen(key);
  for (uint32_t i = 0; i < v->len; i++) {
    const et_json *m = &v->items[i];
    if (m->key_len == kl && memcmp(m->key, key, kl) == 0) return m;
  }
  return NULL;
}

int et_json_is_str(const et_json *v, const char *s) {
  size_t l = strlen(s);
  return v && v->type == ET_JSON_STRING && v->len == l && memcmp(v->str, s, l) == 0;
}

const char *et_json_type_name(et_json_type t) {
  switch (t) {
  case ET_JSON_NULL: return "null";
  case ET_JSON_BOOL: return "bool";
  case ET_JSON_NUMBER: return "number";
  case ET_JSON_STRING: return "string";
  case ET_JSON_ARRAY: return "array";
  case ET_JSON_OBJECT: return "object";
  }
  return "unknown";
}
