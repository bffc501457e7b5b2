/* Ratel kernels for generated code: the C ABI that a deployed model.c calls.
 *
 * `ratel compile` (or `ratel -D`, HHB style) writes a model's optimized graph to a bundle
 * (model.rbm) and to model.c: the graph as a straight sequence of the calls below, every
 * activation at a fixed byte offset in one arena laid out by Ratel's liveness memory planner.
 * main.c opens the bundle with that model description, binds inputs and runs it:
 *
 *   ratel_ctx* c;
 *   if (ratel_ctx_open("model.rbm", &ratel_generated_model, threads, &c) != RATEL_OK)
 *     fprintf(stderr, "%s\n", ratel_ctx_last_error());
 *   ratel_ctx_set_input(c, 0, RATEL_DTYPE_FLOAT32, dims, 2, ids, sizeof ids);
 *   ratel_ctx_run(c);                 calls ratel_generated_model.run(c): the kernel calls of model.c
 *   ratel_ctx_output_f32(c, 0, &logits, &count);
 *   ratel_ctx_close(c);
 *
 * The context holds what the calls share: the mapped bundle (constants are read in place),
 * weights packed once for this CPU's GEMM kernel, the thread pool, the arena, the inputs and
 * the kernels' scratch memory. Every entry point returns a ratel_status; on failure
 * ratel_ctx_last_error() has a one-line message. The fast entry points (dense, attention,
 * layernorm, gelu, softmax, and ratel_fast_node after its first run) never allocate; ratel_node
 * (reference kernels) may.
 *
 * Quantized models (`--quantization-scheme float16`, `int8_asym`, ...): their dense layers are
 * ratel.QDense nodes, which model.c runs with ratel_fast_node: the runtime's own fast kernel
 * for the node (int8/int16 or half-precision GEMM), prepared once by ratel_prepare_fast_node.
 *
 * This ABI does not need ONNX or protobuf: it is what the deployed runtime links
 * (libratel_deploy.a), on the host or on a riscv64 board.
 *
 * Value and node numbers are indices into the bundle's graph section (docs/BUNDLE.md): model.c
 * is valid for one bundle only, and ratel_ctx_open refuses any other (graph checksum).
 */
#ifndef RATEL_RATEL_KERNELS_H_
#define RATEL_RATEL_KERNELS_H_

#include <stddef.h>
#include <stdint.h>

#include "ratel/ratel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped when an entry point is added or its meaning changes; model.c records the version it was
 * written for. 2: ratel_prepare_fast_node / ratel_fast_node (quantized dense layers). 3: the
 * model description names its board; ratel_kernel_isa; step profiling (ratel_step_begin/end). */
#define RATEL_KERNELS_ABI_VERSION 3

typedef struct ratel_ctx ratel_ctx;

typedef ratel_status (*ratel_model_fn)(ratel_ctx* c);

/* What model.c exports (as `const ratel_model_desc ratel_generated_model`). */
typedef struct ratel_model_desc {
  int abi_version;                /* RATEL_KERNELS_ABI_VERSION when generated */
  const char* source;             /* the source model, for messages */
  const char* board;              /* --board it was generated for ("x86_64", "c920", ...): on riscv64,
                                     c906 / c920 never run RVV 1.0 kernels (docs/RISCV.md) */
  uint64_t graph_checksum;        /* XXH64 of the bundle's graph section */
  size_t arena_bytes;             /* activations of one run, planned */
  size_t num_outputs;
  const size_t* output_offsets;   /* arena byte offset of each graph output */
  ratel_model_fn prepare;         /* once per context: pack weights, prepare kernels, size scratch memory */
  ratel_model_fn run;             /* the graph */
} ratel_model_desc;

/* Message of the last failed call on this thread ("" if none). */
const char* ratel_ctx_last_error(void);
/* The instruction set the kernels run with and why, one line ("avx2", "rvv (VLEN 128): ...",
 * "generic: board c920: ..."); valid after ratel_ctx_open (which applies the model's board). */
const char* ratel_kernel_isa(void);

/* ---- Context (main.c) ----------------------------------------------------------------------- */

/* Maps and validates the bundle (docs/BUNDLE.md), checks that `model` was generated from it,
 * starts `threads` threads (>= 1; results do not depend on the count) and runs model->prepare. */
ratel_status ratel_ctx_open(const char* bundle_path, const ratel_model_desc* model, int threads,
                            ratel_ctx** out);
void ratel_ctx_close(ratel_ctx* c);

typedef struct ratel_value_info {
  const char* name;
  ratel_dtype dtype;
  size_t rank;
  const int64_t* dims;
  size_t numel;
} ratel_value_info;

size_t ratel_ctx_num_inputs(const ratel_ctx* c);
size_t ratel_ctx_num_outputs(const ratel_ctx* c);
ratel_status ratel_ctx_input_info(const ratel_ctx* c, size_t i, ratel_value_info* info);
ratel_status ratel_ctx_output_info(const ratel_ctx* c, size_t i, ratel_value_info* info);
/* Bundle metadata value for `key` (docs/BUNDLE.md), or NULL. */
const char* ratel_ctx_metadata(const ratel_ctx* c, const char* key);

/* Copies an input in, converting to the model's element type when nothing is lost (float32
 * ids as HHB writes them into an int32 model; int64 into int32 when every value fits).
 * `dims` must equal the model's; nbytes must be numel * size of `dtype`. */
ratel_status ratel_ctx_set_input(ratel_ctx* c, size_t i, ratel_dtype dtype, const int64_t* dims,
                                 size_t rank, const void* data, size_t nbytes);
/* Where input i lives (its data pointer, for the runtime's tensor info). */
const void* ratel_ctx_input_data(const ratel_ctx* c, size_t i);
ratel_status ratel_ctx_run(ratel_ctx* c);
/* Output i as float32 (a view of the arena for f32 outputs, a converted copy otherwise), valid
 * until the next run. */
ratel_status ratel_ctx_output_f32(ratel_ctx* c, size_t i, const float** data, size_t* count);

/* Profiling (ratel_runtime --profile): while on, every following run records each kernel step's
 * wall time. ratel_ctx_write_profile writes the runs so far as a Chrome trace (Perfetto,
 * chrome://tracing) to `trace_path` and returns the time-per-op table (valid until the next call
 * on c), or NULL with ratel_ctx_last_error() set. */
ratel_status ratel_ctx_set_profiling(ratel_ctx* c, int on);
const char* ratel_ctx_write_profile(ratel_ctx* c, const char* trace_path);

/* ---- What model.c calls --------------------------------------------------------------------- */

/* Around every kernel step: one branch each when profiling is off. `kernel` names what ran
 * (model.c's label; the fast kernel's own name for ratel_fast_node steps). */
void ratel_step_begin(ratel_ctx* c, uint32_t node);
void ratel_step_end(ratel_ctx* c, uint32_t node, const char* kernel);

char* ratel_arena(ratel_ctx* c);
void* ratel_input(ratel_ctx* c, uint32_t input);
const void* ratel_const(ratel_ctx* c, uint32_t value);  /* a constant's bytes in the bundle */

typedef enum ratel_activation {
  RATEL_ACT_NONE = 0,
  RATEL_ACT_GELU = 1, /* erf form */
} ratel_activation;

/* y[m x n] = act(x[m x k] * W + bias) + residual, W = constant `weight` ([k x n] f32), packed
 * once by ratel_prepare_dense. bias: n floats or NULL; residual: m x n or NULL. */
ratel_status ratel_prepare_dense(ratel_ctx* c, uint32_t weight);
ratel_status ratel_dense_f32(ratel_ctx* c, uint32_t weight, size_t m, const float* x, const float* bias,
                             const float* residual, ratel_activation act, float* y);

/* Multi-head attention, per head h: softmax(scale * Q_h K_h^T + mask) V_h, heads concatenated.
 * q/k/v rows are ld_qkv floats apart (3 * hidden for a packed QKV buffer); mask is additive,
 * indexed with mask_strides (batch, head, query, key; 0 broadcasts), or NULL. */
typedef struct ratel_attention_desc {
  size_t batch, seq, heads, head_size, ld_qkv;
  float scale;
  int64_t mask_strides[4];
} ratel_attention_desc;
ratel_status ratel_prepare_attention(ratel_ctx* c, const ratel_attention_desc* d);
ratel_status ratel_attention_f32(ratel_ctx* c, const ratel_attention_desc* d, const float* q, const float* k,
                                 const float* v, const float* mask, float* out);

/* Layer norm over rows of `row` floats: y = (x + skip - mean) / sqrt(var + epsilon) * gamma + beta.
 * skip and beta may be NULL; y may be x. */
ratel_status ratel_layernorm_f32(ratel_ctx* c, size_t rows, size_t row, const float* x, const float* skip,
                                 const float* gamma, const float* beta, float epsilon, float* y);
/* GELU, erf form, on n floats (y may be x). */
ratel_status ratel_gelu_f32(ratel_ctx* c, size_t n, const float* x, float* y);
/* Softmax over rows of `row` floats (y may be x). */
ratel_status ratel_softmax_f32(ratel_ctx* c, size_t rows, size_t row, const float* x, float* y);

/* Any node of the bundle with its portable reference kernel (the op registry's): inputs and
 * outputs in node order, NULL for omitted ones, laid out with the dtypes and shapes the bundle
 * records. The fallback for ops without a fast kernel. */
ratel_status ratel_node(ratel_ctx* c, uint32_t node, const void* const* inputs, void* const* outputs);

/* A node with the fast kernel Ratel's runtime (`ratel run`) gives it, for the fast kernels that
 * have no entry point above (ratel.QDense: the quantized dense layers). ratel_prepare_fast_node,
 * in prepare(), builds the kernel for this CPU (weights packed, with their scales and zero
 * points) and sizes its scratch memory for the context's threads; ratel_fast_node runs it, with
 * arguments as for ratel_node. A node with no fast kernel on this CPU runs its reference kernel. */
ratel_status ratel_prepare_fast_node(ratel_ctx* c, uint32_t node);
ratel_status ratel_fast_node(ratel_ctx* c, uint32_t node, const void* const* inputs, void* const* outputs);

#ifdef __cplusplus
}
#endif

#endif /* RATEL_RATEL_KERNELS_H_ */
