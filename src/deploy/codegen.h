// model.c generation: a bundle's graph and its execution plan written out as C, one call into
// include/ratel/ratel_kernels.h per step, every activation at the byte offset the memory
// planner gave it.
//
// Which entry point a node gets follows the execution plan: a node the plan runs with a fast
// kernel calls the matching fast entry point (ratel_dense_f32, ratel_attention_f32,
// ratel_layernorm_f32, ratel_gelu_f32, ratel_softmax_f32) with the same parameters as the
// runtime's adapter, or, for fast kernels without an entry point of their own (ratel.QDense of
// the quantization schemes), ratel_fast_node: the runtime's kernel object itself. So
// ratel_runtime and `ratel run` compute the same bits. Anything else calls ratel_node (the
// reference kernel). View steps (Reshape and friends) cost nothing.
#pragma once

#include <string>
#include <vector>

#include "bundle/bundle.h"
#include "core/status.h"

namespace ratel::deploy {

struct GeneratedModel {
  std::string source;          // model.c
  int fast_calls = 0;          // steps calling a fast entry point (ratel_fast_node included)
  int reference_calls = 0;     // steps calling ratel_node
  size_t arena_bytes = 0;
};

// `loaded` must come from bundle::load_model (value and node numbers are the bundle's).
// `source_name` and `board` go into the file's header comment.
Result<GeneratedModel> generate_model_c(const bundle::LoadedModel& loaded, const std::string& source_name,
                                        const std::string& board);

// A float as a C literal that reads back as the same float ("1e-12f", "0.5f", "INFINITY").
std::string c_float_literal(float f);

}  // namespace ratel::deploy
