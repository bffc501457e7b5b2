/* io.c: see io.h. */
#include "io.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ends_with(const char* s, const char* suffix) {
  const size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

file_type get_file_type(const char* path) {
  if (ends_with(path, ".bin")) return FILE_BIN;
  if (ends_with(path, ".npy")) return FILE_NPY;
  if (ends_with(path, ".txt")) return FILE_TXT;
  return FILE_OTHER;
}

char* get_binary_from_file(const char* path, size_t* size, char* err, size_t err_len) {
  FILE* f = fopen(path, "rb");
  if (!f) {
    snprintf(err, err_len, "cannot open '%s': %s", path, strerror(errno));
    return NULL;
  }
  long n = -1;
  if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
  if (n < 0 || fseek(f, 0, SEEK_SET) != 0) {
    snprintf(err, err_len, "cannot read '%s': not a regular file", path);
    fclose(f);
    return NULL;
  }
  char* buf = (char*)malloc(n > 0 ? (size_t)n : 1);
  if (!buf) {
    snprintf(err, err_len, "'%s': out of memory for %ld bytes", path, n);
    fclose(f);
    return NULL;
  }
  if (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    snprintf(err, err_len, "reading '%s' failed", path);
    free(buf);
    fclose(f);
    return NULL;
  }
  fclose(f);
  *size = (size_t)n;
  return buf;
}

/* The value of 'key' in a .npy header dict, e.g. "'<i4'" or "(1, 384)"; NULL if absent. */
static const char* npy_field(const char* header, const char* key) {
  const char* p = strstr(header, key);
  if (!p) return NULL;
  p = strchr(p + strlen(key), ':');
  if (!p) return NULL;
  ++p;
  while (*p == ' ') ++p;
  return p;
}

static int npy_dtype(const char* descr, ratel_dtype* out) {
  /* descr: quote, byte order, kind, size, quote: '<f4' '|b1' '<i8' */
  static const struct { const char* code; ratel_dtype dtype; } kTypes[] = {
      {"f4", RATEL_DTYPE_FLOAT32}, {"f2", RATEL_DTYPE_FLOAT16}, {"f8", RATEL_DTYPE_FLOAT64},
      {"i1", RATEL_DTYPE_INT8},    {"u1", RATEL_DTYPE_UINT8},   {"i2", RATEL_DTYPE_INT16},
      {"u2", RATEL_DTYPE_UINT16},  {"i4", RATEL_DTYPE_INT32},   {"u4", RATEL_DTYPE_UINT32},
      {"i8", RATEL_DTYPE_INT64},   {"u8", RATEL_DTYPE_UINT64},  {"b1", RATEL_DTYPE_BOOL},
  };
  if (descr[0] != '\'' || (descr[1] != '<' && descr[1] != '|' && descr[1] != '=')) return -1;
  for (size_t i = 0; i < sizeof kTypes / sizeof kTypes[0]; ++i) {
    if (strncmp(descr + 2, kTypes[i].code, 2) == 0 && descr[4] == '\'') {
      *out = kTypes[i].dtype;
      return 0;
    }
  }
  return -1;
}

static size_t dtype_size(ratel_dtype t) {
  switch (t) {
    case RATEL_DTYPE_FLOAT64: case RATEL_DTYPE_INT64: case RATEL_DTYPE_UINT64: return 8;
    case RATEL_DTYPE_FLOAT32: case RATEL_DTYPE_INT32: case RATEL_DTYPE_UINT32: return 4;
    case RATEL_DTYPE_FLOAT16: case RATEL_DTYPE_BFLOAT16: case RATEL_DTYPE_INT16: case RATEL_DTYPE_UINT16: return 2;
    default: return 1;
  }
}

int read_npy(const char* path, npy_array* out, char* err, size_t err_len) {
  size_t size = 0;
  memset(out, 0, sizeof *out);
  char* buf = get_binary_from_file(path, &size, err, err_len);
  if (!buf) return -1;
  size_t header_len = 0, data_at = 0;
  if (size >= 10 && memcmp(buf, "\x93NUMPY", 6) == 0 && buf[6] == 1) {
    header_len = (size_t)(unsigned char)buf[8] | (size_t)(unsigned char)buf[9] << 8;
    data_at = 10 + header_len;
  } else if (size >= 12 && memcmp(buf, "\x93NUMPY", 6) == 0 && (buf[6] == 2 || buf[6] == 3)) {
    header_len = (size_t)(unsigned char)buf[8] | (size_t)(unsigned char)buf[9] << 8 |
                 (size_t)(unsigned char)buf[10] << 16 | (size_t)(unsigned char)buf[11] << 24;
    data_at = 12 + header_len;
  } else {
    snprintf(err, err_len, "'%s' is not a .npy file (bad magic or version)", path);
    free(buf);
    return -1;
  }
  if (data_at > size || header_len > 65536) {
    snprintf(err, err_len, "'%s': the .npy header runs past the end of the file", path);
    free(buf);
    return -1;
  }
  char header[65537];
  memcpy(header, buf + data_at - header_len, header_len);
  header[header_len] = '\0';
  const char* descr = npy_field(header, "'descr'");
  const char* fortran = npy_field(header, "'fortran_order'");
  const char* shape = npy_field(header, "'shape'");
  if (!descr || npy_dtype(descr, &out->dtype) != 0) {
    snprintf(err, err_len, "'%s': unsupported .npy element type (little-endian numbers and bools only)", path);
    free(buf);
    return -1;
  }
  if (!fortran || strncmp(fortran, "False", 5) != 0) {
    snprintf(err, err_len, "'%s': Fortran-order .npy arrays are not supported (save it in C order)", path);
    free(buf);
    return -1;
  }
  if (!shape || *shape != '(') {
    snprintf(err, err_len, "'%s': the .npy header has no shape", path);
    free(buf);
    return -1;
  }
  size_t numel = 1;
  for (const char* p = shape + 1; *p && *p != ')';) {
    if (isdigit((unsigned char)*p)) {
      char* end;
      const long long d = strtoll(p, &end, 10);
      if (out->rank == 16 || d < 0 || d > (1LL << 40)) {
        snprintf(err, err_len, "'%s': .npy shape out of range", path);
        free(buf);
        return -1;
      }
      out->dims[out->rank++] = d;
      numel *= (size_t)d;
      p = end;
    } else {
      ++p;
    }
  }
  out->nbytes = numel * dtype_size(out->dtype);
  if (size - data_at != out->nbytes) {
    snprintf(err, err_len, "'%s': %zu bytes of data, its shape and type need %zu", path, size - data_at, out->nbytes);
    free(buf);
    return -1;
  }
  out->data = buf + data_at;
  out->buffer = buf;
  return 0;
}

char** read_string_from_file(const char* path, int* count, char* err, size_t err_len) {
  size_t size = 0;
  char* text = get_binary_from_file(path, &size, err, err_len);
  if (!text) return NULL;
  char** list = NULL;
  int n = 0;
  for (size_t i = 0; i < size;) {
    while (i < size && isspace((unsigned char)text[i])) ++i;
    const size_t start = i;
    while (i < size && !isspace((unsigned char)text[i])) ++i;
    if (i == start) break;
    char** grown = (char**)realloc(list, sizeof(char*) * (size_t)(n + 1));
    char* item = (char*)malloc(i - start + 1);
    if (!grown || !item) {
      free(item);
      free_string_list(grown ? grown : list, n);
      free(text);
      snprintf(err, err_len, "'%s': out of memory", path);
      return NULL;
    }
    list = grown;
    memcpy(item, text + start, i - start);
    item[i - start] = '\0';
    list[n++] = item;
  }
  free(text);
  if (n == 0) {
    snprintf(err, err_len, "'%s' lists no input files", path);
    return NULL;
  }
  *count = n;
  return list;
}

void free_string_list(char** list, int count) {
  for (int i = 0; i < count; ++i) free(list[i]);
  free(list);
}

int save_data_to_file(const char* path, const float* data, size_t n) {
  FILE* f = fopen(path, "w");
  if (!f) return -1;
  for (size_t i = 0; i < n; ++i) fprintf(f, "%.9g\n", data[i]);
  return fclose(f) == 0 ? 0 : -1;
}
