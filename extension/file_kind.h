/*
 * What kind of ExecuTorch file a buffer starts with, from its FlatBuffer
 * file identifier: a program (.pte, "ET12"), a bundled program (.bpte,
 * "BP08"), tensor data (.ptd, "FT01"), or an ETDump (.etdp, "ED00",
 * size-prefixed). Tools use it to say "this is a .ptd, not a .pte" instead
 * of "invalid program". Pure: thread-safe.
 */
#ifndef EDGETORCH_EXT_FILE_KIND_H
#define EDGETORCH_EXT_FILE_KIND_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum et_file_kind_id {
  ET_KIND_UNKNOWN = 0,
  ET_KIND_PTE = 1,
  ET_KIND_BPTE = 2,
  ET_KIND_PTD = 3,
  ET_KIND_ETDUMP = 4
} et_file_kind_id;

/* Bytes of a file's start that et_file_kind_of looks at. */
#define ET_FILE_KIND_HEAD 16u

/* The kind of a file whose first `n` bytes are `head`. */
et_file_kind_id et_file_kind_of(const void *head, size_t n);
/* Its usual extension with the dot (".pte"), "" for unknown. */
const char *et_file_kind_ext(et_file_kind_id k);
/* A short description ("a bundled program (.bpte)"). */
const char *et_file_kind_desc(et_file_kind_id k);
/* The kind of the file at `path` (unknown when it cannot be read). */
et_file_kind_id et_file_kind_of_path(const char *path);

#ifdef __cplusplus
}
#endif

#endif /* EDGETORCH_EXT_FILE_KIND_H */
