/* Bounds-checked FlatBuffer reads; see fb.h. */
#include "fb.h"

#include <string.h>

void fb_init(fb_reader *r, const uint8_t *buf, uint32_t size) {
  r->buf = buf;
  r->size = size;
  r->bad = false;
  r->bad_at = 0;
  r->what = "";
  r->field = -1;
  r->steps = 0;
  r->max_steps = UINT64_MAX;
}

bool fb_charge(fb_reader *r, uint64_t n) {
  r->steps = n > UINT64_MAX - r->steps ? UINT64_MAX : r->steps + n;
  return r->steps <= r->max_steps || fb_fail(r, 0, "work budget");
}

/* Name the field a failure happened in: only the first failure counts. */
static void at_field(fb_reader *r, bool was_bad, unsigned id) {
  if (!was_bad && r->bad) r->field = (int)id;
}

bool fb_fail(fb_reader *r, uint32_t at, const char *what) {
  if (!r->bad) {
    r->bad = true;
    r->bad_at = at;
    r->what = what ? what : "";
  }
  return false;
}

/* True if [pos, pos+n) lies inside the buffer. */
static bool in_range(const fb_reader *r, uint64_t pos, uint64_t n) {
  return pos <= r->size && n <= r->size - pos;
}

bool fb_table_at(fb_reader *r, uint32_t pos, fb_table *out, const char *what) {
  memset(out, 0, sizeof *out);
  if (r->bad || !fb_charge(r, 1)) return false;
  if (pos == 0 || !in_range(r, pos, 4)) return fb_fail(r, pos, what);
  int64_t vt = (int64_t)pos - (int32_t)fb_rd32(r->buf + pos);
  if (vt < 0 || !in_range(r, (uint64_t)vt, 4)) return fb_fail(r, pos, what);
  uint16_t vt_size = fb_rd16(r->buf + vt);
  uint16_t t_size = fb_rd16(r->buf + vt + 2);
  if (vt_size < 4 || (vt_size & 1) || !in_range(r, (uint64_t)vt, vt_size) ||
      t_size < 4 || !in_range(r, pos, t_size))
    return fb_fail(r, pos, what);
  out->pos = pos;
  out->vt = (uint32_t)vt;
  out->vt_size = vt_size;
  out->t_size = t_size;
  return true;
}

bool fb_root_named(fb_reader *r, fb_table *out, const char *what) {
  if (!in_range(r, 0, 8)) return fb_fail(r, 0, "root offset");
  uint32_t root = fb_rd32(r->buf);
  if (root < 8 || root > r->size - 4) {
    memset(out, 0, sizeof *out);
    return fb_fail(r, 0, "root offset");
  }
  return fb_table_at(r, root, out, what);
}

bool fb_root(fb_reader *r, fb_table *out) {
  return fb_root_named(r, out, "Program table");
}

uint32_t fb_field(fb_reader *r, const fb_table *t, unsigned id, unsigned size,
                  const char *what) {
  if (r->bad || t->pos == 0) return 0;
  unsigned slot = 4u + 2u * id;
  if (slot + 2u > t->vt_size) return 0;
  uint16_t off = fb_rd16(r->buf + t->vt + slot);
  if (off == 0) return 0;
  if ((uint32_t)off + size > t->t_size) {
    fb_fail(r, t->pos + off, what);
    r->field = (int)id;
    return 0;
  }
  return t->pos + off;
}

#define FB_SCALAR(fn, type, n, conv)                                           \
  type fn(fb_reader *r, const fb_table *t, unsigned id, type dflt,            \
          const char *what) {                                                 \
    uint32_t p = fb_field(r, t, id, n, what);                                 \
    return p ? (type)(conv) : dflt;                                           \
  }

FB_SCALAR(fb_u8, uint8_t, 1, r->buf[p])
FB_SCALAR(fb_i8, int8_t, 1, (int8_t)r->buf[p])
FB_SCALAR(fb_u32, uint32_t, 4, fb_rd32(r->buf + p))
FB_SCALAR(fb_i32, int32_t, 4, (int32_t)fb_rd32(r->buf + p))
FB_SCALAR(fb_u64, uint64_t, 8, fb_rd64(r->buf + p))
FB_SCALAR(fb_i64, int64_t, 8, (int64_t)fb_rd64(r->buf + p))

double fb_f64(fb_reader *r, const fb_table *t, unsigned id, double dflt,
              const char *what) {
  uint32_t p = fb_field(r, t, id, 8, what);
  if (!p) return dflt;
  uint64_t bits = fb_rd64(r->buf + p);
  double d;
  memcpy(&d, &bits, sizeof d);
  return d;
}

/* Follow the uoffset stored at absolute position p. */
static bool follow(fb_reader *r, uint32_t p, uint32_t *out, const char *what) {
  uint64_t target = (uint64_t)p + fb_rd32(r->buf + p);
  if (target >= r->size) return fb_fail(r, p, what);
  *out = (uint32_t)target;
  return true;
}

bool fb_subtable(fb_reader *r, const fb_table *t, unsigned id, fb_table *out,
                 const char *what) {
  memset(out, 0, sizeof *out);
  bool was_bad = r->bad;
  uint32_t p = fb_field(r, t, id, 4, what);
  uint32_t target = 0;
  bool ok = p && follow(r, p, &target, what) &&
            fb_table_at(r, target, out, what);
  at_field(r, was_bad, id);
  return ok;
}

static bool vector_at(fb_reader *r, uint32_t pos, unsigned elem, fb_vec *out,
                      const char *what) {
  if (!in_range(r, pos, 4)) return fb_fail(r, pos, what);
  uint32_t len = fb_rd32(r->buf + pos);
  if (!in_range(r, (uint64_t)pos + 4, (uint64_t)len * elem))
    return fb_fail(r, pos, what);
  out->pos = pos + 4;
  out->len = len;
  out->present = true;
  return true;
}

bool fb_vector(fb_reader *r, const fb_table *t, unsigned id, unsigned elem,
               fb_vec *out, const char *what) {
  memset(out, 0, sizeof *out);
  bool was_bad = r->bad;
  uint32_t p = fb_field(r, t, id, 4, what);
  uint32_t target = 0;
  bool ok = p && follow(r, p, &target, what) &&
            vector_at(r, target, elem, out, what);
  at_field(r, was_bad, id);
  return ok;
}

const char *fb_string(fb_reader *r, const fb_table *t, unsigned id,
                      uint32_t *out_len, const char *what) {
  fb_vec v;
  if (out_len) *out_len = 0;
  if (!fb_vector(r, t, id, 1, &v, what)) return NULL;
  /* The terminating NUL must be inside the buffer and be a NUL. */
  if (!in_range(r, (uint64_t)v.pos + v.len, 1) || r->buf[v.pos + v.len] != 0) {
    fb_fail(r, v.pos, what);
    r->field = (int)id;
    return NULL;
  }
  if (out_len) *out_len = v.len;
  return (const char *)r->buf + v.pos;
}

bool fb_vec_table(fb_reader *r, const fb_vec *v, uint32_t i, fb_table *out,
                  const char *what) {
  memset(out, 0, sizeof *out);
  if (r->bad) return false;
  if (i >= v->len) return fb_fail(r, v->pos, what);
  uint32_t target = 0;
  if (!follow(r, v->pos + 4u * i, &target, what)) return false;
  return fb_table_at(r, target, out, what);
}
