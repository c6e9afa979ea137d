/* File kinds by FlatBuffer identifier (see file_kind.h). */
#include "file_kind.h"

#include <stdio.h>
#include <string.h>

static int ident_at(const unsigned char *h, size_t n, size_t at,
                    const char *prefix) {
  if (n < at + 4) return 0;
  if (memcmp(h + at, prefix, 2) != 0) return 0;
  /* The version digits may differ from the ones we know: still that kind. */
  return h[at + 2] >= '0' && h[at + 2] <= '9' && h[at + 3] >= '0' &&
         h[at + 3] <= '9';
}

et_file_kind_id et_file_kind_of(const void *head, size_t n) {
  const unsigned char *h = head;
  if (!h) return ET_KIND_UNKNOWN;
  if (ident_at(h, n, 4, "ET")) return ET_KIND_PTE;
  if (ident_at(h, n, 4, "BP")) return ET_KIND_BPTE;
  if (ident_at(h, n, 4, "FT")) return ET_KIND_PTD;
  if (ident_at(h, n, 8, "ED") || ident_at(h, n, 4, "ED"))
    return ET_KIND_ETDUMP;
  return ET_KIND_UNKNOWN;
}

const char *et_file_kind_ext(et_file_kind_id k) {
  switch (k) {
  case ET_KIND_PTE: return ".pte";
  case ET_KIND_BPTE: return ".bpte";
  case ET_KIND_PTD: return ".ptd";
  case ET_KIND_ETDUMP: return ".etdp";
  default: return "";
  }
}

const char *et_file_kind_desc(et_file_kind_id k) {
  switch (k) {
  case ET_KIND_PTE: return "a program (.pte)";
  case ET_KIND_BPTE: return "a bundled program (.bpte: a program with test inputs)";
  case ET_KIND_PTD: return "tensor data (.ptd: a program's external constants)";
  case ET_KIND_ETDUMP: return "an ETDump (.etdp: profiling results)";
  default: return "not an ExecuTorch file";
  }
}

et_file_kind_id et_file_kind_of_path(const char *path) {
  if (!path) return ET_KIND_UNKNOWN;
  FILE *f = fopen(path, "rb");
  if (!f) return ET_KIND_UNKNOWN;
  unsigned char head[ET_FILE_KIND_HEAD];
  size_t n = fread(head, 1, sizeof head, f);
  fclose(f);
  return et_file_kind_of(head, n);
}
