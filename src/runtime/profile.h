// Profiled runs (`ratel run --profile FILE`, `ratel_runtime --profile FILE`) as a Chrome trace
// (chrome://tracing, Perfetto) and a per-op table sorted by time.
#pragma once

#include <string>
#include <vector>

#include "runtime/execution_plan.h"

namespace ratel::runtime {

using ProfiledRun = std::vector<StepTime>;

// Trace Event Format: one complete event ("ph": "X") per kernel step, named by its node, with
// the op and the kernel's implementation in args; the runs one after another on one timeline.
std::string chrome_trace_json(const std::vector<ProfiledRun>& runs);

// Time per op type (mean over the runs), its share of the steps' total, the kernels that ran it,
// then the `top` slowest nodes. Runs after the first only, when there are several (warm-up).
std::string profile_table(const std::vector<ProfiledRun>& runs, size_t top = 10);

}  // namespace ratel::runtime
