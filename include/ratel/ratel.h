/* Ratel public C API: load a model, create sessions, run them.
 *
 * Objects are opaque handles. Every function that can fail returns a ratel_status; on failure
 * ratel_last_error() gives a one-line message for the calling thread. A model is immutable once
 * loaded and can be shared by sessions on different threads; a session is used by one thread
 * at a time.
 *
 *   ratel_model* m; ratel_session* s;
 *   if (ratel_model_load("model.onnx", "input_ids=1,384", &m) != RATEL_OK) puts(ratel_last_error());
 *   ratel_session_create(m, NULL, &s);
 *   ratel_session_set_input(s, "input_ids", RATEL_DTYPE_INT32, dims, 2, ids);
 *   ratel_session_run(s);
 *   ratel_session_get_output(s, 0, &out);
 */
#ifndef RATEL_RATEL_H_
#define RATEL_RATEL_H_

#include <stddef.h>
#include <stdint.h>

#if defined(RATEL_BUILDING_SHARED)
#define RATEL_API __attribute__((visibility("default")))
#else
#define RATEL_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ratel_status {
  RATEL_OK = 0,
  RATEL_INVALID_ARGUMENT = 1,
  RATEL_NOT_FOUND = 2,
  RATEL_UNSUPPORTED = 3,
  RATEL_CORRUPT = 4,
  RATEL_OUT_OF_RANGE = 5,
  RATEL_IO_ERROR = 6,
  RATEL_INTERNAL = 7,
} ratel_status;

typedef enum ratel_dtype {
  RATEL_DTYPE_FLOAT32 = 1,
  RATEL_DTYPE_FLOAT16 = 2,
  RATEL_DTYPE_BFLOAT16 = 3,
  RATEL_DTYPE_FLOAT64 = 4,
  RATEL_DTYPE_INT8 = 5,
  RATEL_DTYPE_UINT8 = 6,
  RATEL_DTYPE_INT16 = 7,
  RATEL_DTYPE_UINT16 = 8,
  RATEL_DTYPE_INT32 = 9,
  RATEL_DTYPE_UINT32 = 10,
  RATEL_DTYPE_INT64 = 11,
  RATEL_DTYPE_UINT64 = 12,
  RATEL_DTYPE_BOOL = 13,
} ratel_dtype;

typedef struct ratel_model ratel_model;
typedef struct ratel_session ratel_session;

/* A read-only view of a tensor owned by Ratel (valid until the next run or free). */
typedef struct ratel_tensor_view {
  const char* name;
  ratel_dtype dtype;
  size_t rank;
  const int64_t* dims;
  const void* data;
  size_t nbytes;
} ratel_tensor_view;

/* Message of the last failed call on this thread ("" if none). */
RATEL_API const char* ratel_last_error(void);
RATEL_API const char* ratel_version(void);

/* Loads an .onnx model. `input_shapes` fixes dynamic input dims: "name=1,384;name2=1,384", or
 * NULL to use the model's own shapes. */
RATEL_API ratel_status ratel_model_load(const char* path, const char* input_shapes, ratel_model** out);
RATEL_API void ratel_model_free(ratel_model* model);
RATEL_API size_t ratel_model_num_inputs(const ratel_model* model);
RATEL_API size_t ratel_model_num_outputs(const ratel_model* model);
/* Declared type and shape of input/output i (data is NULL). */
RATEL_API ratel_status ratel_model_input(const ratel_model* model, size_t i, ratel_tensor_view* out);
RATEL_API ratel_status ratel_model_output(const ratel_model* model, size_t i, ratel_tensor_view* out);

typedef struct ratel_session_options {
  int threads;   /* worker threads, >= 1 (results are bit-identical for a given count) */
  int reference; /* non-zero: portable reference kernels (slow; the correctness oracle) */
} ratel_session_options;

/* `options` may be NULL: one thread, fast kernels. */
RATEL_API ratel_status ratel_session_create(const ratel_model* model, const ratel_session_options* options,
                                  ratel_session** out);
RATEL_API void ratel_session_free(ratel_session* session);
/* Copies the data in. Integer ids in another integer type (or integer-valued floats) are
 * converted when nothing is lost; the shape must equal the model's. */
RATEL_API ratel_status ratel_session_set_input(ratel_session* session, const char* name, ratel_dtype dtype,
                                     const int64_t* dims, size_t rank, const void* data);
RATEL_API ratel_status ratel_session_run(ratel_session* session);
RATEL_API ratel_status ratel_session_get_output(const ratel_session* session, size_t i,
                                      ratel_tensor_view* out);

#ifdef __cplusplus
}
#endif

#endif /* RATEL_RATEL_H_ */
