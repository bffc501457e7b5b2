#include "runtime/memory_planner.h"

#include <algorithm>
#include <numeric>

namespace ratel::runtime {

namespace {
constexpr size_t kAlignment = 64;
size_t align_up(size_t n) { return (n + kAlignment - 1) / kAlignment * kAlignment; }

// The placed buffers, indexed by lifetime so that finding those alive during a new buffer's
// lifetime does not scan every placed buffer: a plain scan made planning quadratic (a 2e5-node
// chain took 30 s, 1e6 nodes over 10 minutes). A segment tree over steps: a node covering steps
// [lo, hi] lists the buffers alive over all of it, each buffer in O(log steps) nodes. The buffers
// alive at some step of [a, b] are exactly those listed at nodes that intersect [a, b]; one may be
// listed at several of them, which the gap search tolerates (it sees the same range twice).
class LifetimeIndex {
 public:
  explicit LifetimeIndex(int steps) {
    while (leaves_ < steps) leaves_ *= 2;
    nodes_.resize(2 * static_cast<size_t>(leaves_));
  }
  void insert(int first, int last, uint32_t id) { insert(1, 0, leaves_ - 1, first, last, id); }
  // Appends the ids alive at some step of [first, last] (with repeats) to `out`.
  void collect(int first, int last, std::vector<uint32_t>& out) const {
    collect(1, 0, leaves_ - 1, first, last, out);
  }

 private:
  void insert(size_t node, int lo, int hi, int first, int last, uint32_t id) {
    if (last < lo || hi < first) return;
    if (first <= lo && hi <= last) {
      nodes_[node].push_back(id);
      return;
    }
    const int mid = lo + (hi - lo) / 2;
    insert(2 * node, lo, mid, first, last, id);
    insert(2 * node + 1, mid + 1, hi, first, last, id);
  }
  void collect(size_t node, int lo, int hi, int first, int last, std::vector<uint32_t>& out) const {
    if (last < lo || hi < first) return;
    out.insert(out.end(), nodes_[node].begin(), nodes_[node].end());
    if (lo == hi) return;
    const int mid = lo + (hi - lo) / 2;
    collect(2 * node, lo, mid, first, last, out);
    collect(2 * node + 1, mid + 1, hi, first, last, out);
  }

  int leaves_ = 1;
  std::vector<std::vector<uint32_t>> nodes_;
};
}  // namespace

MemoryPlan plan_memory(const std::vector<BufferRequest>& requests) {
  MemoryPlan plan;
  plan.offsets.assign(requests.size(), 0);
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  // Largest first; ties by earlier start, then index, so the plan is deterministic.
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (requests[a].bytes != requests[b].bytes) return requests[a].bytes > requests[b].bytes;
    if (requests[a].first_step != requests[b].first_step) return requests[a].first_step < requests[b].first_step;
    return a < b;
  });
  int steps = 1;
  for (const BufferRequest& r : requests) steps = std::max(steps, std::max(r.first_step, r.last_step) + 1);
  LifetimeIndex alive(steps);
  std::vector<std::pair<size_t, size_t>> placed;  // [offset, end) of each placed buffer
  placed.reserve(requests.size());
  std::vector<uint32_t> overlapping;
  std::vector<std::pair<size_t, size_t>> busy;
  for (size_t i : order) {
    const BufferRequest& r = requests[i];
    const int first = std::max(r.first_step, 0), last = std::max(r.last_step, first);
    const size_t size = align_up(std::max<size_t>(r.bytes, 1));
    plan.sum_of_requests += size;
    // Buffers alive at the same time as r, by offset: r goes into the first gap that fits.
    overlapping.clear();
    alive.collect(first, last, overlapping);
    busy.clear();
    for (uint32_t p : overlapping) busy.push_back(placed[p]);
    std::sort(busy.begin(), busy.end());
    size_t offset = 0;
    for (const auto& [start, end] : busy) {
      if (offset + size <= start) break;
      offset = std::max(offset, end);
    }
    plan.offsets[i] = offset;
    alive.insert(first, last, static_cast<uint32_t>(placed.size()));
    placed.emplace_back(offset, offset + size);
    plan.arena_bytes = std::max(plan.arena_bytes, offset + size);
  }
  return plan;
}

}  // namespace ratel::runtime
