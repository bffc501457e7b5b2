// Liveness-based memory planning: every activation gets an offset in one arena so that values
// whose lifetimes overlap never share bytes, and the arena is as small as a greedy packing
// allows. Planned once per model; each session allocates one arena of `arena_bytes`.
//
// Lifetimes are measured in execution steps: a value lives from the step that produces it to the
// last step that reads it. Graph inputs live from step 0, graph outputs to the end. A value may
// instead *alias* another (Reshape and friends: same bytes, new shape; in-place element-wise ops:
// the output overwrites an input whose last use is that op) — then they share one buffer whose
// lifetime is the union.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ratel::runtime {

struct BufferRequest {
  size_t bytes = 0;
  int first_step = 0;   // produced at (or before) this step
  int last_step = 0;    // last read at this step (inclusive)
};

struct MemoryPlan {
  std::vector<size_t> offsets;  // per request, 64-byte aligned
  size_t arena_bytes = 0;
  size_t sum_of_requests = 0;   // what allocating every value separately would take
};

// Greedy by size (largest first), each placed at the lowest offset that does not overlap a
// placed buffer with an intersecting lifetime. Deterministic.
MemoryPlan plan_memory(const std::vector<BufferRequest>& requests);

}  // namespace ratel::runtime
