/* io.h: the files ratel_runtime reads and writes, as HHB's runtime does: raw .bin tensors,
 * NumPy .npy tensors, a .txt list of input files, and outputs saved as text, one float per line.
 * Part of the folder `ratel -D` / `ratel compile` writes; not generated, the same for every model. */
#ifndef RATEL_RUNTIME_IO_H_
#define RATEL_RUNTIME_IO_H_

#include <stddef.h>
#include <stdint.h>

#include "ratel/ratel.h"

typedef enum file_type { FILE_BIN, FILE_NPY, FILE_TXT, FILE_OTHER } file_type;

/* By extension: .bin, .npy, .txt, anything else. */
file_type get_file_type(const char* path);

/* The whole file in a malloc'ed buffer (free it), its size in *size. NULL on failure, with the
 * reason in err. */
char* get_binary_from_file(const char* path, size_t* size, char* err, size_t err_len);

/* A .npy file (format 1.0-3.0, little-endian, C order). `data` points into `buffer` (free it). */
typedef struct npy_array {
  ratel_dtype dtype;
  size_t rank;
  int64_t dims[16];
  const void* data;
  size_t nbytes;
  char* buffer;
} npy_array;
int read_npy(const char* path, npy_array* out, char* err, size_t err_len); /* 0: ok */

/* The whitespace-separated paths in a text file (malloc'ed array of malloc'ed strings, free
 * with free_string_list). NULL on failure, with the reason in err. */
char** read_string_from_file(const char* path, int* count, char* err, size_t err_len);
void free_string_list(char** list, int count);

/* Writes n floats, one per line, with 9 significant digits (reads back as the same float).
 * 0: ok. */
int save_data_to_file(const char* path, const float* data, size_t n);

#endif /* RATEL_RUNTIME_IO_H_ */
