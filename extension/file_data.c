/* Whole-file loading: aligned heap read and read-only mmap. */
#if defined(__linux__) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE 1 /* madvise */
#endif
#include "file_data.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

void *et_aligned_malloc(size_t size) {
  size_t rounded = size + (ET_FILE_ALIGN - 1);
  if (rounded < size) return NULL;
  rounded &= ~(size_t)(ET_FILE_ALIGN - 1);
  if (rounded == 0) rounded = ET_FILE_ALIGN;
  void *p = NULL;
  if (posix_memalign(&p, ET_FILE_ALIGN, rounded) != 0) return NULL;
  return p;
}

static et_status fail_errno(et_diag *diag, const char *what, const char *path,
                            int err) {
  char text[128];
  if (strerror_r(err, text, sizeof text) != 0) {
    et_format(text, sizeof text, "errno %d", err);
  }
  et_status st =
      (err == ENOENT || err == ENOTDIR) ? ET_NOT_FOUND : ET_ACCESS_FAILED;
  return et_diag_set(diag, st, "%s '%s': %s", what, path, text);
}

static int open_file(const char *path, et_diag *diag, et_status *st) {
  int fd;
  do {
    fd = open(path, O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) *st = fail_errno(diag, "cannot open", path, errno);
  return fd;
}

static void close_file(int fd) {
  /* Nothing useful can be done about a failed close of a read-only file. */
  (void)close(fd);
}

/* Read until EOF or `cap` bytes; returns bytes read or -1 (errno set). */
static ptrdiff_t read_full(int fd, uint8_t *buf, size_t cap) {
  size_t got = 0;
  while (got < cap) {
    size_t chunk = cap - got;
    if (chunk > (size_t)1 << 30) chunk = (size_t)1 << 30;
    ssize_t n = read(fd, buf + got, chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) break;
    got += (size_t)n;
  }
  return (ptrdiff_t)got;
}

static et_status read_stream(int fd, const char *path, et_file_data *out,
                             et_diag *diag) {
  size_t cap = 64 * 1024, size = 0;
  uint8_t *buf = et_aligned_malloc(cap);
  if (!buf) {
    return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED,
                       "cannot allocate %zu bytes to read '%s'", cap, path);
  }
  for (;;) {
    if (size == cap) {
      if (cap > SIZE_MAX / 2) {
        free(buf);
        return et_diag_set(diag, ET_NOT_SUPPORTED, "'%s' is too large", path);
      }
      uint8_t *bigger = et_aligned_malloc(cap * 2);
      if (!bigger) {
        free(buf);
        return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED,
                           "cannot allocate %zu bytes to read '%s'", cap * 2,
                           path);
      }
      memcpy(bigger, buf, size);
      free(buf);
      buf = bigger;
      cap *= 2;
    }
    ptrdiff_t n = read_full(fd, buf + size, cap - size);
    if (n < 0) {
      int err = errno;
      free(buf);
      return fail_errno(diag, "cannot read", path, err);
    }
    size += (size_t)n;
    if (size < cap) break; /* EOF before the buffer filled */
  }
  out->data = buf;
  out->size = size;
  out->kind = ET_FILE_HEAP;
  out->map_size = 0;
  return ET_OK;
}

et_status et_file_read(const char *path, et_file_data *out, et_diag *diag) {
  memset(out, 0, sizeof *out);
  if (!path) return et_diag_set(diag, ET_INVALID_ARGUMENT, "no path given");
  et_status st = ET_OK;
  int fd = open_file(path, diag, &st);
  if (fd < 0) return st;
  struct stat sb;
  if (fstat(fd, &sb) != 0) {
    int err = errno;
    close_file(fd);
    return fail_errno(diag, "cannot stat", path, err);
  }
  if (S_ISDIR(sb.st_mode)) {
    close_file(fd);
    return fail_errno(diag, "cannot read", path, EISDIR);
  }
  if (!S_ISREG(sb.st_mode)) {
    st = read_stream(fd, path, out, diag);
    close_file(fd);
    return st;
  }
  if (sb.st_size < 0 || (uintmax_t)sb.st_size > (uintmax_t)(SIZE_MAX - 64)) {
    close_file(fd);
    return et_diag_set(diag, ET_NOT_SUPPORTED, "'%s' is too large", path);
  }
  size_t size = (size_t)sb.st_size;
  uint8_t *buf = et_aligned_malloc(size);
  if (!buf) {
    close_file(fd);
    return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED,
                       "cannot allocate %zu bytes to read '%s'", size, path);
  }
  ptrdiff_t n = read_full(fd, buf, size);
  int err = errno;
  close_file(fd);
  if (n < 0) {
    free(buf);
    return fail_errno(diag, "cannot read", path, err);
  }
  out->data = buf;
  out->size = (size_t)n; /* the file may have shrunk since fstat */
  out->kind = ET_FILE_HEAP;
  return ET_OK;
}

et_status et_file_map(const char *path, et_file_data *out, et_diag *diag) {
  memset(out, 0, sizeof *out);
  if (!path) return et_diag_set(diag, ET_INVALID_ARGUMENT, "no path given");
  et_status st = ET_OK;
  int fd = open_file(path, diag, &st);
  if (fd < 0) return st;
  struct stat sb;
  if (fstat(fd, &sb) != 0) {
    int err = errno;
    close_file(fd);
    return fail_errno(diag, "cannot stat", path, err);
  }
  if (S_ISDIR(sb.st_mode)) {
    close_file(fd);
    return fail_errno(diag, "cannot map", path, EISDIR);
  }
  if (!S_ISREG(sb.st_mode)) {
    close_file(fd);
    return et_diag_set(diag, ET_ACCESS_FAILED,
                       "cannot map '%s': not a regular file (use read mode)",
                       path);
  }
  if (sb.st_size < 0 || (uintmax_t)sb.st_size > (uintmax_t)SIZE_MAX) {
    close_file(fd);
    return et_diag_set(diag, ET_NOT_SUPPORTED, "'%s' is too large", path);
  }
  size_t size = (size_t)sb.st_size;
  if (size == 0) {
    /* mmap refuses length 0; an empty heap block keeps the contract. */
    close_file(fd);
    out->data = et_aligned_malloc(0);
    if (!out->data) {
      return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED,
                         "cannot allocate for '%s'", path);
    }
    out->kind = ET_FILE_HEAP;
    return ET_OK;
  }
  void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
  int err = errno;
  close_file(fd); /* the mapping keeps its own reference */
  if (p == MAP_FAILED) return fail_errno(diag, "cannot map", path, err);
  out->data = p;
  out->size = size;
  out->kind = ET_FILE_MAP;
  out->map_size = size;
  return ET_OK;
}

void et_file_release_pages(void *file, const void *data, size_t size) {
#if defined(__linux__) && defined(MADV_DONTNEED)
  const et_file_data *f = (const et_file_data *)file;
  if (!f || f->kind != ET_FILE_MAP || !data || !size) return;
  uintptr_t base = (uintptr_t)f->data, lo = (uintptr_t)data, hi = lo + size;
  if (lo < base || hi < lo || hi > base + f->map_size) return;
  long pg = sysconf(_SC_PAGESIZE);
  if (pg <= 0) return;
  uintptr_t ps = (uintptr_t)pg;
  lo = (lo + ps - 1) / ps * ps; /* whole pages inside the range only */
  hi = hi / ps * ps;
  if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
#else
  (void)file, (void)data, (void)size;
#endif
}

void et_file_release(et_file_data *f) {
  if (!f) return;
  if (f->kind == ET_FILE_HEAP) {
    free(f->data);
  } else if (f->kind == ET_FILE_MAP) {
    (void)munmap(f->data, f->map_size);
  }
  memset(f, 0, sizeof *f);
}
