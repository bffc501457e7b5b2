#include "quant/quantization_loss.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

namespace ratel::quant {
namespace {

ValueLoss compare(const std::string& name, const Tensor& q, const Tensor& f) {
  ValueLoss l;
  l.value = name;
  l.count = q.numel();
  const float* a = q.data<float>();
  const float* b = f.data<float>();
  double dot = 0, qq = 0, ff = 0, sq = 0;
  for (int64_t i = 0; i < l.count; ++i) {
    const double x = a[i], y = b[i], d = x - y;
    dot += x * y;
    qq += x * x;
    ff += y * y;
    sq += d * d;
    l.max_abs = std::max(l.max_abs, std::fabs(d));
    l.ref_max_abs = std::max(l.ref_max_abs, std::fabs(y));
  }
  l.mse = l.count ? sq / static_cast<double>(l.count) : 0;
  l.cosine = (qq == 0 && ff == 0) ? 1.0 : (qq == 0 || ff == 0) ? 0.0 : dot / std::sqrt(qq * ff);
  return l;
}

bool comparable(const Tensor& a, const Tensor& b) {
  return a.defined() && b.defined() && a.dtype() == DType::kF32 && b.dtype() == DType::kF32 && a.shape() == b.shape();
}

}  // namespace

Result<std::vector<ValueLoss>> compare_activations(runtime::Session& reference, runtime::Session& quantized) {
  // The float32 model's values, by name, as its kernels read them (copies: the arena is reused).
  std::map<std::string, Tensor> ref_values;
  Status copy_error = Status::Ok();
  RATEL_RETURN_IF_ERROR(reference.set_observer(
      [&](const ir::Node& node, std::span<const Tensor* const> inputs, const runtime::ExecContext&) {
        for (size_t i = 0; i < inputs.size() && i < node.inputs.size(); ++i) {
          const ir::Value* v = node.inputs[i];
          if (!v || !inputs[i] || inputs[i]->dtype() != DType::kF32 || v->is_constant() || ref_values.count(v->name)) continue;
          auto copy = inputs[i]->clone();
          if (!copy.ok()) {
            copy_error = copy.status();
            continue;
          }
          ref_values.emplace(v->name, std::move(copy).value());
        }
      }));
  Status ran = reference.run();
  RATEL_RETURN_IF_ERROR(reference.set_observer(nullptr));
  RATEL_RETURN_IF_ERROR(ran.with_context("the float32 model"));
  RATEL_RETURN_IF_ERROR(copy_error);

  std::vector<ValueLoss> losses;
  std::set<std::string> seen;
  size_t order = 0;
  RATEL_RETURN_IF_ERROR(quantized.set_observer(
      [&](const ir::Node& node, std::span<const Tensor* const> inputs, const runtime::ExecContext&) {
        ++order;
        for (size_t i = 0; i < inputs.size() && i < node.inputs.size(); ++i) {
          const ir::Value* v = node.inputs[i];
          if (!v || !inputs[i] || v->is_constant() || seen.count(v->name)) continue;
          auto it = ref_values.find(v->name);
          if (it == ref_values.end() || !comparable(*inputs[i], it->second)) continue;
          seen.insert(v->name);
          ValueLoss l = compare(v->name, *inputs[i], it->second);
          l.reader = fmt::format("{}{} '{}'", node.domain.empty() ? "" : node.domain + ".", node.op_type, node.name);
          l.order = order;
          losses.push_back(std::move(l));
        }
      }));
  ran = quantized.run();
  RATEL_RETURN_IF_ERROR(quantized.set_observer(nullptr));
  RATEL_RETURN_IF_ERROR(ran.with_context("the quantized model"));

  const auto& q_out = quantized.outputs();
  const auto& f_out = reference.outputs();
  for (size_t i = 0; i < q_out.size() && i < f_out.size(); ++i) {
    if (!comparable(q_out[i], f_out[i])) continue;
    ValueLoss l = compare(quantized.model().outputs()[i]->name, q_out[i], f_out[i]);
    l.reader = "output";
    l.order = ++order;
    losses.push_back(std::move(l));
  }
  return losses;
}

std::string format_quantization_loss(const std::vector<ValueLoss>& losses, size_t worst) {
  auto row = [](const ValueLoss& l) {
    return fmt::format("  {:>9.6f} {:>10.3e} {:>10.3e} {:>10.3f}  {} (read by {})\n", l.cosine, l.mse, l.max_abs,
                       l.ref_max_abs, l.value, l.reader);
  };
  const std::string header = fmt::format("  {:>9} {:>10} {:>10} {:>10}  value\n", "cosine", "mse", "max|err|", "max|f32|");
  std::vector<ValueLoss> inner;
  for (const ValueLoss& l : losses) {
    if (l.reader != "output") inner.push_back(l);
  }
  std::stable_sort(inner.begin(), inner.end(), [](const ValueLoss& a, const ValueLoss& b) { return a.cosine < b.cosine; });
  std::string s = fmt::format("quantization loss: {} activations compared with the float32 model on these inputs; "
                              "the {} most damaged (errors include everything upstream):\n",
                              inner.size(), std::min(worst, inner.size()));
  s += header;
  for (size_t i = 0; i < std::min(worst, inner.size()); ++i) s += row(inner[i]);
  s += "quantization loss of the outputs:\n" + header;
  for (const ValueLoss& l : losses) {
    if (l.reader == "output") s += row(l);
  }
  return s;
}

std::string quantization_loss_csv(const std::vector<ValueLoss>& losses) {
  auto quote = [](const std::string& s) {
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  std::string s = "value,reader,order,count,cosine,mse,max_abs,ref_max_abs\n";
  for (const ValueLoss& l : losses) {
    s += fmt::format("{},{},{},{},{:.9g},{:.9g},{:.9g},{:.9g}\n", quote(l.value), quote(l.reader), l.order, l.count,
                     l.cosine, l.mse, l.max_abs, l.ref_max_abs);
  }
  return s;
}

}  // namespace ratel::quant
