/* et_ptd: the `.ptd` (FlatTensor) reader and data map (see flat_tensor.h). */
#include <edgetorch/flat_tensor.h>
#include <edgetorch/value.h>

#include "fb.h"

#include <stdarg.h>
#include <string.h>

/* Field numbers of upstream's flat_tensor.fbs. */
enum { FT_VERSION = 0, FT_SEGMENTS = 1, FT_NAMED_DATA = 2 };
enum { DS_OFFSET = 0, DS_SIZE = 1 };
enum { ND_KEY = 0, ND_SEGMENT_INDEX = 1, ND_LAYOUT = 2 };
enum { TL_SCALAR_TYPE = 0, TL_SIZES = 1, TL_DIM_ORDER = 2 };

/* The header after the root offset and file identifier. */
#define PTD_HEADER_MAGIC "FH01"
#define PTD_HEADER_MIN_LENGTH 40u

ET_PRINTF_FORMAT(2, 3)
static et_status bad(et_ptd *t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  et_status st = et_diag_setv(&t->diag, ET_INVALID_EXTERNAL_DATA, fmt, ap);
  va_end(ap);
  return st;
}

static et_status fb_bad(et_ptd *t, const fb_reader *r) {
  /* Field numbers are the order of the fields in upstream's flat_tensor.fbs. */
  if (r->field >= 0)
    return bad(t, ".ptd: malformed flatbuffer: %s field %d at byte offset %u",
               r->what, r->field, r->bad_at);
  return bad(t, ".ptd: malformed flatbuffer: %s at byte offset %u", r->what,
             r->bad_at);
}

static void reader(const et_ptd *t, fb_reader *r) {
  fb_init(r, t->data, t->fb_end);
}

/* Entry i: key, segment bytes and layout (the file is verified). */
static void entry(const et_ptd *t, fb_reader *r, uint32_t i, const char **key,
                  et_named_data *out) {
  fb_vec named = {t->named_data, t->n_named_data, true};
  fb_table nd, layout;
  fb_vec sizes, dim_order;
  fb_vec_table(r, &named, i, &nd, "NamedData");
  *key = fb_string(r, &nd, ND_KEY, NULL, "NamedData");
  if (!out) return;
  uint32_t seg = fb_u32(r, &nd, ND_SEGMENT_INDEX, 0, "NamedData");
  fb_vec segs = {t->segments, t->n_segments, true};
  fb_table s;
  fb_vec_table(r, &segs, seg, &s, "DataSegment");
  memset(out, 0, sizeof *out);
  out->data = t->data + t->segment_base +
              fb_u64(r, &s, DS_OFFSET, 0, "DataSegment");
  out->nbytes = (size_t)fb_u64(r, &s, DS_SIZE, 0, "DataSegment");
  if (fb_subtable(r, &nd, ND_LAYOUT, &layout, "NamedData")) {
    fb_vector(r, &layout, TL_SIZES, 4, &sizes, "TensorLayout");
    fb_vector(r, &layout, TL_DIM_ORDER, 1, &dim_order, "TensorLayout");
    out->dtype = fb_i8(r, &layout, TL_SCALAR_TYPE, 0, "TensorLayout");
    out->rank = sizes.len;
    out->sizes = r->buf + sizes.pos;
    out->dim_order = r->buf + dim_order.pos;
  }
}

static et_status ptd_get(const et_data_map *map, const char *key,
                         et_named_data *out) {
  const et_ptd *t = (const et_ptd *)map; /* map is the first member */
  fb_reader r;
  reader(t, &r);
  for (uint32_t i = 0; i < t->n_named_data; i++) {
    const char *k;
    entry(t, &r, i, &k, NULL);
    if (strcmp(k, key) == 0) {
      entry(t, &r, i, &k, out);
      return ET_OK;
    }
  }
  return ET_NOT_FOUND;
}

static et_status check_header(et_ptd *t) {
  const uint8_t *d = t->data;
  if (t->size < 8 + PTD_HEADER_MIN_LENGTH)
    return bad(t, ".ptd: file of %zu bytes is too short (its header alone "
                  "takes %u)", t->size, 8 + PTD_HEADER_MIN_LENGTH);
  if (memcmp(d + 4, ET_PTD_IDENTIFIER, 4) != 0 ||
      memcmp(d + 8, PTD_HEADER_MAGIC, 4) != 0)
    return bad(t, ".ptd: not a FlatTensor file (identifier or header magic "
                  "differs from %s/%s)", ET_PTD_IDENTIFIER, PTD_HEADER_MAGIC);
  uint32_t len = fb_rd32(d + 12);
  uint64_t fb_off = fb_rd64(d + 16), fb_size = fb_rd64(d + 24);
  uint64_t base = fb_rd64(d + 32), seg_size = fb_rd64(d + 40);
  if (len < PTD_HEADER_MIN_LENGTH || len > t->size - 8)
    return bad(t, ".ptd: header length %u is out of range (%u to %zu for "
                  "this file)", len, PTD_HEADER_MIN_LENGTH, t->size - 8);
  if (fb_off > t->size || fb_size > t->size - fb_off || fb_off + fb_size >
      UINT32_MAX || base < fb_off + fb_size || base > t->size ||
      seg_size > t->size - base)
    return bad(t, ".ptd: header places the flatbuffer (%llu + %llu bytes) "
                  "or the segments (%llu + %llu) outside the %zu byte file",
               (unsigned long long)fb_off, (unsigned long long)fb_size,
               (unsigned long long)base, (unsigned long long)seg_size,
               t->size);
  t->fb_end = (uint32_t)(fb_off + fb_size);
  t->segment_base = base;
  t->size = (size_t)(base + seg_size); /* segments may not read past this */
  return ET_OK;
}

et_status et_ptd_load(et_ptd *t, const void *data, size_t size) {
  if (!t) return ET_INVALID_ARGUMENT;
  memset(t, 0, sizeof *t);
  t->map.get = ptd_get;
  t->data = data;
  t->size = size;
  if (!data)
    return et_diag_set(&t->diag, ET_INVALID_ARGUMENT, ".ptd: no data");
  if ((uintptr_t)data % 16)
    return et_diag_set(&t->diag, ET_INVALID_ARGUMENT,
                       ".ptd: data is not 16-byte aligned");
  et_status st = check_header(t);
  if (st) return st;

  fb_reader r;
  fb_table root;
  fb_vec segs, named;
  reader(t, &r);
  if (!fb_root_named(&r, &root, "FlatTensor table")) return fb_bad(t, &r);
  uint32_t version = fb_u32(&r, &root, FT_VERSION, 0, "FlatTensor");
  fb_vector(&r, &root, FT_SEGMENTS, 4, &segs, "FlatTensor");
  fb_vector(&r, &root, FT_NAMED_DATA, 4, &named, "FlatTensor");
  if (!fb_ok(&r)) return fb_bad(t, &r);
  if (version != 0)
    return et_diag_set(&t->diag, ET_NOT_SUPPORTED,
                       ".ptd: FlatTensor version %u (this runtime reads 0)",
                       version);
  uint64_t seg_size = t->size - t->segment_base;
  for (uint32_t i = 0; i < segs.len; i++) {
    fb_table s;
    fb_vec_table(&r, &segs, i, &s, "DataSegment");
    uint64_t off = fb_u64(&r, &s, DS_OFFSET, 0, "DataSegment");
    uint64_t n = fb_u64(&r, &s, DS_SIZE, 0, "DataSegment");
    if (!fb_ok(&r)) return fb_bad(t, &r);
    if (off > seg_size || n > seg_size - off)
      return bad(t, ".ptd: segment %u (offset %llu, size %llu) lies outside "
                    "the %llu bytes of segment data", i,
                 (unsigned long long)off, (unsigned long long)n,
                 (unsigned long long)seg_size);
  }
  t->segments = segs.pos;
  t->n_segments = segs.len;
  t->named_data = named.pos;
  t->n_named_data = named.len;
  for (uint32_t i = 0; i < named.len; i++) {
    fb_table nd, layout;
    fb_vec sizes, dim_order;
    fb_vec_table(&r, &named, i, &nd, "NamedData");
    const char *key = fb_string(&r, &nd, ND_KEY, NULL, "NamedData");
    uint32_t seg = fb_u32(&r, &nd, ND_SEGMENT_INDEX, 0, "NamedData");
    bool has_layout = fb_subtable(&r, &nd, ND_LAYOUT, &layout, "NamedData");
    if (!fb_ok(&r)) return fb_bad(t, &r);
    if (!key || seg >= segs.len)
      return bad(t, ".ptd: entry %u has no key or a segment index %u out of "
                    "range (%u segments)", i, seg, segs.len);
    if (!has_layout) continue;
    int8_t dtype = fb_i8(&r, &layout, TL_SCALAR_TYPE, 0, "TensorLayout");
    fb_vector(&r, &layout, TL_SIZES, 4, &sizes, "TensorLayout");
    fb_vector(&r, &layout, TL_DIM_ORDER, 1, &dim_order, "TensorLayout");
    if (!fb_ok(&r)) return fb_bad(t, &r);
    if (et_dtype_size(dtype) == 0 || sizes.len > ET_MAX_RANK ||
        sizes.len != dim_order.len)
      return bad(t, ".ptd: entry '%s' has a bad layout (dtype %d, %u sizes, "
                    "%u dim_order entries; expected a known dtype and as many "
                    "dim_order entries as sizes, at most %d)", key, dtype,
                 sizes.len, dim_order.len, ET_MAX_RANK);
  }
  et_diag_clear(&t->diag);
  return ET_OK;
}

const char *et_ptd_message(const et_ptd *t) { return t->diag.message; }

size_t et_ptd_key_count(const et_ptd *t) { return t->n_named_data; }

const char *et_ptd_key(const et_ptd *t, size_t i) {
  if (i >= t->n_named_data) return NULL;
  fb_reader r;
  const char *key;
  reader(t, &r);
  entry(t, &r, (uint32_t)i, &key, NULL);
  return key;
}
