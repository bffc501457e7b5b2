#include "quant/calibration.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

namespace ratel::quant {

namespace {

constexpr size_t kHistogramBins = 4096;  // fine enough that bin width adds < 0.03% of the range
constexpr size_t kKlBins = 2048;         // |x| bins for the entropy search (TensorRT's choice)
static_assert(kHistogramBins == 2 * kKlBins, "kl_divergence folds the signed histogram in half");
constexpr size_t kKlLevels = 128;        // the levels KL compares against (int8's magnitude)

// A value being calibrated: its extent (pass 1) and histogram (pass 2).
struct Watched {
  std::string name;
  float min = std::numeric_limits<float>::infinity();
  float max = -std::numeric_limits<float>::infinity();
  std::vector<float> channel_min, channel_max;  // per element of the last dimension
  Histogram hist;
  size_t last_run = SIZE_MAX;  // a value feeding several dense layers counts once per run
};

// |x| histogram from a histogram symmetric about 0 with an even bin count.
std::vector<double> fold_magnitudes(const Histogram& h) {
  const size_t half = h.counts.size() / 2;
  std::vector<double> m(half);
  for (size_t j = 0; j < half; ++j) m[j] = static_cast<double>(h.counts[half + j] + h.counts[half - 1 - j]);
  return m;
}

// TensorRT-style entropy calibration: the threshold bin i >= kKlLevels minimising KL(P || Q),
// P the histogram cut at i with the tail folded into its last bin, Q P merged into kKlLevels
// groups and spread back evenly over each group's nonzero bins.
size_t kl_threshold_bin(const std::vector<double>& mag) {
  const size_t n = mag.size();
  if (n <= kKlLevels) return n;
  std::vector<double> suffix(n + 1, 0.0);
  for (size_t j = n; j-- > 0;) suffix[j] = suffix[j + 1] + mag[j];
  double best = std::numeric_limits<double>::infinity();
  size_t best_i = n;
  std::vector<double> p, q;
  for (size_t i = kKlLevels; i <= n; ++i) {
    p.assign(mag.begin(), mag.begin() + static_cast<std::ptrdiff_t>(i));
    p[i - 1] += suffix[i];
    const double total = std::accumulate(p.begin(), p.end(), 0.0);
    if (total <= 0) continue;
    q.assign(i, 0.0);
    for (size_t g = 0; g < kKlLevels; ++g) {
      const size_t b0 = g * i / kKlLevels, b1 = (g + 1) * i / kKlLevels;
      double sum = 0;
      size_t nonzero = 0;
      for (size_t b = b0; b < b1; ++b) {
        sum += mag[b];  // the unfolded counts: Q never sees the tail
        nonzero += mag[b] > 0;
      }
      for (size_t b = b0; b < b1; ++b) q[b] = mag[b] > 0 ? sum / static_cast<double>(nonzero) : 0.0;
    }
    const double qtotal = std::accumulate(q.begin(), q.end(), 0.0);
    double kl = 0;
    for (size_t b = 0; b < i; ++b) {
      if (p[b] <= 0) continue;
      const double pb = p[b] / total;
      // A bin Q leaves empty (only the folded tail bin can be) costs as if Q held one count.
      const double qb = (q[b] > 0 ? q[b] : 1.0) / std::max(qtotal, 1.0);
      kl += pb * std::log(pb / qb);
    }
    if (kl < best) {
      best = kl;
      best_i = i;
    }
  }
  return best_i;
}

// Expected squared error of quantizing the histogram's data to `levels` levels over [lo, hi].
double quantization_mse(const Histogram& h, float lo, float hi, int levels) {
  const double width = (static_cast<double>(h.hi) - h.lo) / static_cast<double>(h.counts.size());
  const double step = (static_cast<double>(hi) - lo) / levels;
  const double rounding = step * step / 12.0;
  double err = 0;
  for (size_t b = 0; b < h.counts.size(); ++b) {
    if (!h.counts[b]) continue;
    const double c = h.lo + (static_cast<double>(b) + 0.5) * width;
    const double clipped = std::clamp(c, static_cast<double>(lo), static_cast<double>(hi));
    err += static_cast<double>(h.counts[b]) * (c == clipped ? rounding : (c - clipped) * (c - clipped));
  }
  return err;
}

}  // namespace

Result<CalibrateMode> parse_calibrate_mode(const std::string& name) {
  if (name == "maxmin") return CalibrateMode::kMaxMin;
  if (name == "percentile") return CalibrateMode::kPercentile;
  if (name == "kl_divergence") return CalibrateMode::kKlDivergence;
  if (name == "mse") return CalibrateMode::kMse;
  return invalid_argument("unknown calibration mode '{}' (maxmin, percentile, kl_divergence or mse)", name);
}

const char* calibrate_mode_name(CalibrateMode mode) {
  switch (mode) {
    case CalibrateMode::kMaxMin: return "maxmin";
    case CalibrateMode::kPercentile: return "percentile";
    case CalibrateMode::kKlDivergence: return "kl_divergence";
    case CalibrateMode::kMse: return "mse";
  }
  return "?";
}

bool needs_histogram(CalibrateMode mode) { return mode != CalibrateMode::kMaxMin; }

void Histogram::add(const float* x, size_t n) {
  const size_t bins = counts.size();
  if (!bins) return;
  const double scale = hi > lo ? static_cast<double>(bins) / (static_cast<double>(hi) - lo) : 0.0;
  for (size_t i = 0; i < n; ++i) {
    double b = (static_cast<double>(x[i]) - lo) * scale;
    b = std::clamp(b, 0.0, static_cast<double>(bins - 1));
    ++counts[static_cast<size_t>(b)];
  }
}

passes::ValueRange choose_range(const Histogram& h, const CalibrateOptions& options) {
  const size_t bins = h.counts.size();
  const double width = bins ? (static_cast<double>(h.hi) - h.lo) / static_cast<double>(bins) : 0.0;
  const uint64_t total = std::accumulate(h.counts.begin(), h.counts.end(), uint64_t{0});
  if (!total || !(h.hi > h.lo)) return {h.lo, h.hi};
  switch (options.mode) {
    case CalibrateMode::kMaxMin:
      return {h.lo, h.hi};
    case CalibrateMode::kPercentile: {
      // The bin edges enclosing the central percentile of the counts.
      const double tail = static_cast<double>(total) * (100.0 - options.percentile) / 100.0;
      size_t low = 0, high = bins;
      for (double below = 0; low < bins && below + static_cast<double>(h.counts[low]) <= tail; ++low) {
        below += static_cast<double>(h.counts[low]);
      }
      for (double above = 0; high > low + 1 && above + static_cast<double>(h.counts[high - 1]) <= tail; --high) {
        above += static_cast<double>(h.counts[high - 1]);
      }
      return {static_cast<float>(h.lo + static_cast<double>(low) * width),
              static_cast<float>(h.lo + static_cast<double>(high) * width)};
    }
    case CalibrateMode::kKlDivergence: {
      // h is symmetric about 0 (calibrate() builds it so); the threshold clips both sides.
      const size_t i = kl_threshold_bin(fold_magnitudes(h));
      const float t = static_cast<float>(static_cast<double>(i) * width);
      return {std::max(h.lo, -t), std::min(h.hi, t)};
    }
    case CalibrateMode::kMse: {
      const float lo = std::min(h.lo, 0.0f), hi = std::max(h.hi, 0.0f);
      passes::ValueRange best{lo, hi};
      double best_err = std::numeric_limits<double>::infinity();
      for (int s = 100; s >= 1; --s) {
        const float t = static_cast<float>(s) / 100.0f;
        const double err = quantization_mse(h, lo * t, hi * t, options.levels);
        if (err < best_err) {
          best_err = err;
          best = {lo * t, hi * t};
        }
      }
      return best;
    }
  }
  return {h.lo, h.hi};
}

Result<passes::ActivationRanges> calibrate(runtime::Session& session, size_t samples,
                                           const std::function<Status(size_t)>& run_sample,
                                           const CalibrateOptions& options) {
  if (samples == 0) return invalid_argument("calibration needs at least one sample");
  if (options.mode == CalibrateMode::kPercentile && !(options.percentile > 50 && options.percentile <= 100)) {
    return invalid_argument("calibration percentile must be in (50, 100], got {}", options.percentile);
  }
  std::map<int, Watched> watched;  // by value id
  for (const auto& node : session.model().graph().nodes()) {
    if (node->domain != "ratel" || node->op_type != "Dense") continue;
    const ir::Value* x = node->inputs[0];
    if (x->dtype == DType::kF32 && !x->is_constant()) watched[x->id].name = x->name;
  }
  if (watched.empty()) return invalid_argument("the model has no dense layers to calibrate");

  const int passes = needs_histogram(options.mode) ? 2 : 1;
  int pass = 1;
  size_t sample = 0;
  Status problem = Status::Ok();
  auto observer = [&](const ir::Node& node, std::span<const Tensor* const> inputs, const runtime::ExecContext& ctx) {
    if (node.domain != "ratel" || node.op_type != "Dense" || !problem.ok()) return;
    auto it = watched.find(node.inputs[0]->id);
    if (it == watched.end() || it->second.last_run == sample) return;
    Watched& w = it->second;
    w.last_run = sample;
    const Tensor& x = *inputs[0];
    const int64_t k = x.shape().empty() ? 1 : x.shape().back();
    const size_t n = static_cast<size_t>(ctx.rows_to_compute(k ? x.numel() / k : 0) * k);
    const float* data = x.data<float>();
    if (pass == 2) {
      w.hist.add(data, n);
      return;
    }
    if (w.channel_min.empty()) {
      w.channel_min.assign(static_cast<size_t>(k), std::numeric_limits<float>::infinity());
      w.channel_max.assign(static_cast<size_t>(k), -std::numeric_limits<float>::infinity());
    }
    const size_t channels = w.channel_min.size();
    for (size_t row = 0; row < n; row += channels) {
      for (size_t c = 0; c < channels; ++c) {
        const float v = data[row + c];
        if (!std::isfinite(v)) {
          problem = invalid_argument("calibration sample {}: activation '{}' holds {} at element {} (the float "
                                     "model produces NaN/infinity on this input)", sample, w.name, v, row + c);
          return;
        }
        w.channel_min[c] = std::min(w.channel_min[c], v);
        w.channel_max[c] = std::max(w.channel_max[c], v);
      }
    }
    for (size_t c = 0; c < w.channel_min.size(); ++c) {
      w.min = std::min(w.min, w.channel_min[c]);
      w.max = std::max(w.max, w.channel_max[c]);
    }
  };
  RATEL_RETURN_IF_ERROR(session.set_observer(observer));
  auto run_pass = [&]() -> Status {
    for (sample = 0; sample < samples; ++sample) {
      Status s = run_sample(sample);
      if (!s.ok()) return s.with_context(fmt::format("calibration sample {}", sample));
      if (!problem.ok()) return problem;
      if (options.progress) options.progress(sample + 1, samples, pass, passes);
    }
    return Status::Ok();
  };
  Status status = run_pass();
  if (status.ok() && passes == 2) {
    for (auto& [id, w] : watched) {
      if (!(w.min <= w.max)) continue;  // never observed
      w.hist.lo = w.min;
      w.hist.hi = w.max;
      if (options.mode == CalibrateMode::kKlDivergence) {  // symmetric, so |x| folds exactly
        const float a = std::max(std::fabs(w.min), std::fabs(w.max));
        w.hist.lo = -a;
        w.hist.hi = a;
      }
      w.hist.counts.assign(kHistogramBins, 0);
      w.last_run = SIZE_MAX;
    }
    pass = 2;
    status = run_pass();
  }
  RATEL_RETURN_IF_ERROR(session.set_observer(nullptr));
  RATEL_RETURN_IF_ERROR(status);

  passes::ActivationRanges ranges;
  for (const auto& [id, w] : watched) {
    if (!(w.min <= w.max)) continue;  // a layer the samples never reached
    ranges[w.name] = passes == 2 ? choose_range(w.hist, options) : passes::ValueRange{w.min, w.max};
    ranges[w.name].channel_min = w.channel_min;
    ranges[w.name].channel_max = w.channel_max;
    if (options.mode == CalibrateMode::kKlDivergence) {
      passes::ValueRange& r = ranges[w.name];
      r.min = std::max(r.min, w.min);
      r.max = std::min(r.max, w.max);
    }
  }
  return ranges;
}

}  // namespace ratel::quant
