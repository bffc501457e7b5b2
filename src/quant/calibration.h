// Calibration: the ranges of the activations an integer quantization scheme turns into integers
// (the input of every fused dense layer), measured by running the float32 model on sample inputs.
//
//   RATEL_ASSIGN_OR_RETURN(auto ranges, quant::calibrate(session, n, [&](size_t i) {
//     ... session.set_input(...) for sample i ...;  return session.run();
//   }, options));
//   load_options.activation_ranges = ranges;    // then load the model with an integer scheme
//
// Modes (HHB's --calibrate-mode names where HHB has them):
//   maxmin         the smallest and largest value seen (one pass).
//   percentile     the `percentile` and 100 - `percentile` quantiles (two passes: the first finds
//                  the extent, the second fills a histogram over it).
//   kl_divergence  TensorRT's entropy calibration on |x|: the clip threshold whose 128-level
//                  quantization of the histogram loses the least information (two passes).
//   mse            the clip range [t·min, t·max] minimising the expected squared error of
//                  rounding to `levels` levels plus clipping, from the histogram (two passes).
// Only the computed rows of padding-trimmed runs count (Session::set_active_rows), so padding
// never widens a range. Same samples -> same ranges (counts are integers, extremes exact); a
// NaN or infinity in an observed activation is an error naming the value and the sample.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "passes/passes.h"
#include "runtime/model.h"

namespace ratel::quant {

enum class CalibrateMode { kMaxMin, kPercentile, kKlDivergence, kMse };

// "maxmin", "percentile", "kl_divergence" or "mse"; an error listing them otherwise.
Result<CalibrateMode> parse_calibrate_mode(const std::string& name);
const char* calibrate_mode_name(CalibrateMode mode);
bool needs_histogram(CalibrateMode mode);

struct CalibrateOptions {
  CalibrateMode mode = CalibrateMode::kMaxMin;
  double percentile = 99.99;  // percentile mode, in (50, 100]
  int levels = 255;           // mse mode: integer levels of the target scheme (255 for 8 bits)
  // Called after each sample: samples done in this pass, samples per pass, pass (1 or 2),
  // passes in all.
  std::function<void(size_t done, size_t total, int pass, int passes)> progress;
};

// A histogram of one value's elements over [lo, hi] in equal bins (the last bin closed).
struct Histogram {
  float lo = 0, hi = 0;
  std::vector<uint64_t> counts;
  void add(const float* x, size_t n);
};

// The range a mode picks from a histogram spanning exactly [min, max] of the data. Exposed for
// tests; calibrate() calls it for each value.
passes::ValueRange choose_range(const Histogram& h, const CalibrateOptions& options);

// Runs `samples` samples through `session` (a float32 model, fast executor) and returns the
// range of the first input of every ratel.Dense, by value name. `run_sample(i)` sets the inputs
// of sample i and runs the session; its errors are returned with the sample number. Modes with a
// histogram run every sample twice.
Result<passes::ActivationRanges> calibrate(runtime::Session& session, size_t samples,
                                           const std::function<Status(size_t)>& run_sample,
                                           const CalibrateOptions& options);

}  // namespace ratel::quant
