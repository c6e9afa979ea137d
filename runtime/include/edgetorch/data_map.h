/*
 * et_data_map: tensor data kept outside the program, looked up by name.
 *
 * An exporter may store a program's constants in a separate file (upstream's
 * `.ptd`, "FlatTensor"); the program's tensors then say "location EXTERNAL"
 * and carry their fully qualified name ("linear.weight"). At method init the
 * runtime asks the data map given in et_method_memory.external for each such
 * name: a constant tensor then uses the map's bytes in place, a memory-planned
 * one has them copied into its planned buffer.
 *
 * The runtime checks what the map returns before using it: the byte count
 * must equal the tensor's, the data must be aligned for the dtype, and when
 * the map records a layout (dtype, sizes, dim order) it must equal the
 * program's. A missing name is NotFound, a mismatch InvalidExternalData.
 *
 * extension/flat_tensor.h reads `.ptd` files into a data map; embedded users
 * can implement one over flash or a filesystem of their own.
 */
#ifndef EDGETORCH_DATA_MAP_H
#define EDGETORCH_DATA_MAP_H

#include <edgetorch/status.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct et_named_data {
  const void *data; /* lives as long as the map */
  size_t nbytes;
  /* The layout the map records, or sizes == NULL when it records none. */
  int8_t dtype;
  uint32_t rank;
  const void *sizes;        /* rank int32 values, little-endian */
  const uint8_t *dim_order; /* rank entries */
} et_named_data;

typedef struct et_data_map {
  /* Find `key` (NUL-terminated): ET_OK and *out filled, or ET_NOT_FOUND.
   * Implementations embed this struct and recover themselves from `map`. */
  et_status (*get)(const struct et_data_map *map, const char *key,
                   et_named_data *out);
} et_data_map;

#ifdef __cplusplus
}
#endif

#endif /* EDGETORCH_DATA_MAP_H */
