// libFuzzer target: arbitrary bytes as an .onnx model -> import, shape inference, optimization
// (Model::from_graph, as `ratel run` loads), and when every value of the loaded graph is small,
// a run of the fast executor and of the reference executor on pseudo-random inputs derived
// from the bytes. Must never crash, hang or allocate beyond the limit; errors are fine.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>

#include "frontend/onnx/onnx_importer.h"
#include "runtime/model.h"

namespace {

// Caps for the run: values (activations and constants) of at most kMaxElements elements keep
// every kernel's work to ~kMaxElements^2 operations; a few hundred nodes keep a run short.
constexpr int64_t kMaxElements = 4096;
constexpr size_t kMaxNodes = 256;

bool small_enough(const ratel::ir::Graph& g) {
  if (g.nodes().size() > kMaxNodes) return false;
  for (const auto& v : g.values()) {
    if (!v->has_shape) return false;
    auto n = ratel::checked_numel(v->shape);
    if (!n.ok() || *n > kMaxElements) return false;
  }
  return true;
}

// Small values that are plausible indices and shape entries for integer inputs; moderate
// floats (and now and then a NaN or infinity) for floating-point ones.
ratel::Tensor random_input(const ratel::ir::Value& v, std::mt19937& rng) {
  auto t = ratel::Tensor::allocate(v.dtype, v.shape);
  if (!t.ok()) return {};
  const int64_t n = t->numel();
  auto* p = static_cast<std::byte*>(t->mutable_raw());
  std::uniform_int_distribution<int> small(0, 2);
  std::uniform_real_distribution<float> real(-2.0f, 2.0f);
  for (int64_t i = 0; i < n; ++i) {
    const int k = small(rng);
    const float f = (rng() % 97 == 0) ? (rng() % 2 ? NAN : INFINITY) : real(rng);
    switch (v.dtype) {
      case ratel::DType::kF32: reinterpret_cast<float*>(p)[i] = f; break;
      case ratel::DType::kF64: reinterpret_cast<double*>(p)[i] = f; break;
      case ratel::DType::kF16: reinterpret_cast<uint16_t*>(p)[i] = ratel::float_to_half(f); break;
      case ratel::DType::kBF16: reinterpret_cast<uint16_t*>(p)[i] = ratel::float_to_bf16(f); break;
      case ratel::DType::kI8: reinterpret_cast<int8_t*>(p)[i] = static_cast<int8_t>(k); break;
      case ratel::DType::kU8: case ratel::DType::kBool: reinterpret_cast<uint8_t*>(p)[i] = static_cast<uint8_t>(k & 1); break;
      case ratel::DType::kI16: reinterpret_cast<int16_t*>(p)[i] = static_cast<int16_t>(k); break;
      case ratel::DType::kU16: reinterpret_cast<uint16_t*>(p)[i] = static_cast<uint16_t>(k); break;
      case ratel::DType::kI32: reinterpret_cast<int32_t*>(p)[i] = k; break;
      case ratel::DType::kU32: reinterpret_cast<uint32_t*>(p)[i] = static_cast<uint32_t>(k); break;
      case ratel::DType::kI64: reinterpret_cast<int64_t*>(p)[i] = k; break;
      case ratel::DType::kU64: reinterpret_cast<uint64_t*>(p)[i] = static_cast<uint64_t>(k); break;
      case ratel::DType::kUndefined: break;
    }
  }
  return std::move(t).value();
}

void run_small(const std::shared_ptr<ratel::runtime::Model>& model, uint32_t seed) {
  using ratel::runtime::ExecutorKind;
  for (ExecutorKind kind : {ExecutorKind::kFast, ExecutorKind::kReference}) {
    ratel::runtime::SessionOptions o;
    o.executor = kind;
    auto session = ratel::runtime::Session::create(model, o);
    if (!session.ok()) continue;
    std::mt19937 rng(seed);
    bool inputs_ok = true;
    for (size_t i = 0; i < model->inputs().size() && inputs_ok; ++i) {
      ratel::Tensor t = random_input(*model->inputs()[i], rng);
      inputs_ok = t.defined() && (*session)->set_input(i, t).ok();
    }
    if (!inputs_ok) continue;
    if (!(*session)->run().ok()) continue;
    // Touch every output byte so reads of unwritten or freed memory show up.
    volatile uint8_t sink = 0;
    for (const ratel::Tensor& out : (*session)->outputs()) {
      const auto* b = static_cast<const uint8_t*>(out.raw());
      for (size_t k = 0; k < out.nbytes(); ++k) sink = static_cast<uint8_t>(sink ^ b[k]);
    }
    (void)sink;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool init = [] {
    ratel::set_allocation_limit(size_t{256} << 20);  // a hostile file must not take more
    return true;
  }();
  (void)init;
  auto graph = ratel::onnx_frontend::import_onnx_bytes(
      std::span(reinterpret_cast<const std::byte*>(data), size), "fuzz.onnx");
  if (!graph.ok()) return 0;
  // Fix any dynamic input dims to small sizes so inference can proceed.
  for (ratel::ir::Value* in : (*graph)->inputs()) {
    for (int64_t& d : in->shape) d = d < 0 ? 2 : d;
    in->has_shape = true;
  }
  ratel::runtime::LoadOptions load;
  load.release_packed_weights = false;  // the reference executor runs after the fast one
  auto model = ratel::runtime::Model::from_graph(std::move(graph).value(), load);
  if (!model.ok() || !small_enough((*model)->graph())) return 0;
  uint32_t seed = 0;
  for (size_t i = 0; i < size; ++i) seed = seed * 31 + data[i];
  run_small(*model, seed);
  return 0;
}
