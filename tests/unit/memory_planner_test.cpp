#include <gtest/gtest.h>

#include <algorithm>
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

// The greedy as first written: every placed buffer scanned for each new one (quadratic). The
// planner indexes placed buffers by lifetime instead and must place every buffer at the same
// offset as this.
MemoryPlan plan_by_scanning(const std::vector<BufferRequest>& requests) {
  MemoryPlan plan;
  plan.offsets.assign(requests.size(), 0);
  std::vector<size_t> order(requests.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (requests[a].bytes != requests[b].bytes) return requests[a].bytes > requests[b].bytes;
    if (requests[a].first_step != requests[b].first_step) return requests[a].first_step < requests[b].first_step;
    return a < b;
  });
  struct Placed {
    size_t offset, end;
    int first, last;
  };
  std::vector<Placed> placed;
  for (size_t i : order) {
    const BufferRequest& r = requests[i];
    const size_t size = (std::max<size_t>(r.bytes, 1) + 63) / 64 * 64;
    std::vector<std::pair<size_t, size_t>> busy;
    for (const Placed& p : placed) {
      if (p.first <= r.last_step && r.first_step <= p.last) busy.emplace_back(p.offset, p.end);
    }
    std::sort(busy.begin(), busy.end());
    size_t offset = 0;
    for (const auto& [start, end] : busy) {
      if (offset + size <= start) break;
      offset = std::max(offset, end);
    }
    plan.offsets[i] = offset;
    placed.push_back({offset, offset + size, r.first_step, r.last_step});
    plan.arena_bytes = std::max(plan.arena_bytes, offset + size);
  }
  return plan;
}

TEST(MemoryPlannerTest, SameOffsetsAsScanningEveryPlacedBuffer) {
  std::mt19937 rng(13);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<BufferRequest> req;
    const int n = 1 + static_cast<int>(rng() % 300);
    const int steps = 1 + static_cast<int>(rng() % 257);  // odd tree sizes, one step included
    for (int i = 0; i < n; ++i) {
      const int first = static_cast<int>(rng() % steps);
      // Mostly short lifetimes, some to the end (like BERT's mask), some equal sizes (ties).
      const int len = rng() % 8 == 0 ? steps - 1 - first : static_cast<int>(rng() % 4);
      const size_t bytes = rng() % 4 == 0 ? 4096 : rng() % 20000;
      req.push_back({bytes, first, std::min(steps - 1, first + len)});
    }
    const MemoryPlan got = plan_memory(req), want = plan_by_scanning(req);
    ASSERT_EQ(got.offsets, want.offsets) << "trial " << trial;
    EXPECT_EQ(got.arena_bytes, want.arena_bytes);
  }
}

TEST(MemoryPlannerTest, MillionStepChainPlansToTwoBuffers) {
  // What a 1e6-node chain asks for (the hostile-model tests load one through the CLI).
  std::vector<BufferRequest> req;
  for (int i = 0; i < 1000000; ++i) req.push_back({16, i, i + 1});
  const MemoryPlan plan = plan_memory(req);
  EXPECT_EQ(plan.arena_bytes, 2 * 64u);
}

}  // namespace
}  // namespace ratel::runtime
