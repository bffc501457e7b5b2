#include <gtest/gtest.h>

#include <random>

#include "runtime/memory_planner.h"

namespace ratel::runtime {
namespace {

// No two buffers alive at the same step may share a byte; offsets are 64-byte aligned; the arena
// is at least the largest total of buffers alive at one step (a lower bound any plan must meet).
void check_plan(const std::vector<BufferRequest>& req, const MemoryPlan& plan) {
  ASSERT_EQ(plan.offsets.size(), req.size());
  int max_step = 0;
  for (const auto& r : req) max_step = std::max(max_step, r.last_step);
  size_t lower_bound = 0;
  for (int s = 0; s <= max_step; ++s) {
    size_t live = 0;
    for (const auto& r : req) live += (r.first_step <= s && s <= r.last_step) ? r.bytes : 0;
    lower_bound = std::max(lower_bound, live);
  }
  EXPECT_GE(plan.arena_bytes, lower_bound);
  for (size_t i = 0; i < req.size(); ++i) {
    EXPECT_EQ(plan.offsets[i] % 64, 0u);
    EXPECT_LE(plan.offsets[i] + req[i].bytes, plan.arena_bytes);
    for (size_t j = i + 1; j < req.size(); ++j) {
      const bool overlap_time = req[i].first_step <= req[j].last_step && req[j].first_step <= req[i].last_step;
      const bool overlap_space = plan.offsets[i] < plan.offsets[j] + req[j].bytes &&
                                 plan.offsets[j] < plan.offsets[i] + req[i].bytes;
      EXPECT_FALSE(overlap_time && overlap_space && req[i].bytes && req[j].bytes)
          << "buffers " << i << " and " << j << " collide";
    }
  }
}

TEST(MemoryPlannerTest, ChainReusesTwoBuffers) {
  // a -> b -> c -> d, each read only by the next: two buffers suffice.
  std::vector<BufferRequest> req{{1000, 0, 1}, {1000, 1, 2}, {1000, 2, 3}, {1000, 3, 4}};
  const MemoryPlan plan = plan_memory(req);
  check_plan(req, plan);
  EXPECT_EQ(plan.arena_bytes, 2 * 1024u);
  EXPECT_EQ(plan.sum_of_requests, 4 * 1024u);
}

TEST(MemoryPlannerTest, RandomLifetimesNeverCollideAndAreDeterministic) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<BufferRequest> req;
    const int n = 1 + static_cast<int>(rng() % 60);
    for (int i = 0; i < n; ++i) {
      const int first = static_cast<int>(rng() % 40);
      req.push_back({rng() % 5000, first, first + static_cast<int>(rng() % 10)});
    }
    const MemoryPlan plan = plan_memory(req);
    check_plan(req, plan);
    EXPECT_EQ(plan_memory(req).offsets, plan.offsets);
  }
}

}  // namespace
}  // namespace ratel::runtime
