/*
 * Whole-file loading for the hosted layer: read into an aligned heap buffer,
 * or map read-only.
 *
 * Both modes return bytes aligned to at least ET_FILE_ALIGN (16), which is
 * what et_program_load needs; a mapping is page aligned. An empty file gives
 * a valid, aligned pointer and size 0.
 *
 * Errors: NotFound when the path does not exist (ENOENT, ENOTDIR),
 * AccessFailed for every other open/stat/read/mmap failure, NotSupported for
 * a file too large for size_t, MemoryAllocationFailed when the heap is
 * exhausted; the message names the path and gives the errno text.
 *
 * Ownership: the caller owns an et_file_data and releases it once with
 * et_file_release. Thread-safety: independent calls are safe.
 */
#ifndef EDGETORCH_EXT_FILE_DATA_H
#define EDGETORCH_EXT_FILE_DATA_H

#include <edgetorch/status.h>

#include <stddef.h>

#define ET_FILE_ALIGN 16u

typedef enum et_file_kind {
  ET_FILE_NONE = 0,
  ET_FILE_HEAP = 1, /* data came from aligned_alloc: free() it */
  ET_FILE_MAP = 2   /* data is a mapping of map_size bytes: munmap() it */
} et_file_kind;

typedef struct et_file_data {
  void *data;
  size_t size;
  et_file_kind kind;
  size_t map_size;
} et_file_data;

/* Read the whole file (regular file, pipe or device) into aligned memory. */
et_status et_file_read(const char *path, et_file_data *out, et_diag *diag);
/* Map a regular file read-only (zero copy). */
et_status et_file_map(const char *path, et_file_data *out, et_diag *diag);
void et_file_release(et_file_data *f);
/* A program's release hook (et_program_set_release) for a mapped file
 * (`file` is its et_file_data): the whole pages inside [data, data + size)
 * go back to the page cache (MADV_DONTNEED; a later read maps them again
 * from the file). Nothing happens for heap data or outside the mapping, or
 * where the system has no such call. */
void et_file_release_pages(void *file, const void *data, size_t size);

/* 16-byte-aligned heap memory of at least `size` bytes (size 0 gives a valid
 * pointer); release with free(). NULL when the heap is exhausted. */
void *et_aligned_malloc(size_t size);

#endif /* EDGETORCH_EXT_FILE_DATA_H */
