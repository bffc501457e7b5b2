#include "cpu/thread_pool.h"

#include <algorithm>

#include "core/status.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace ratel::cpu {
namespace {

// Polling before sleeping on the futex: 2000 pauses are ~30-100 us (a pause is 10-140 cycles
// depending on the core), enough to bridge the gap between two GEMMs of a layer. Longer spins
// hurt when the pool has more threads than free cores: a spinning thread then holds the core
// that the thread with the remaining work needs (measured: 20000 pauses made back-to-back
// calls on a busy 2-core machine 40x slower).
constexpr int kSpinIterations = 2000;

// The pool whose body this thread is running (to run nested parallel_for calls inline).
thread_local const ThreadPool* tls_running_pool = nullptr;
thread_local int tls_thread_index = 0;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

}  // namespace

IndexRange static_chunk(int64_t n, int num_threads, int thread_index) {
  RATEL_ASSERT(n >= 0 && num_threads >= 1 && thread_index >= 0 && thread_index < num_threads);
  const int64_t base = n / num_threads;
  const int64_t extra = n % num_threads;
  const int64_t t = thread_index;
  const int64_t begin = base * t + std::min(t, extra);
  return {begin, begin + base + (t < extra ? 1 : 0)};
}

int ThreadPool::hardware_threads() {
  return std::max(1u, std::thread::hardware_concurrency());
}

ThreadPool::ThreadPool(int num_threads) : num_threads_(std::max(1, num_threads)) {
  workers_.reserve(static_cast<size_t>(num_threads_ - 1));
  for (int t = 1; t < num_threads_; ++t) workers_.emplace_back([this, t] { worker_loop(t); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(submit_mutex_);
    stopping_ = true;
    generation_.fetch_add(1, std::memory_order_release);
  }
  generation_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

void ThreadPool::run_chunk(int thread_index) {
  const IndexRange r = static_chunk(job_n_, num_threads_, thread_index);
  if (r.begin == r.end) return;
  const ThreadPool* outer_pool = tls_running_pool;
  const int outer_index = tls_thread_index;
  tls_running_pool = this;
  tls_thread_index = thread_index;
  job_fn_(job_body_, r.begin, r.end, thread_index);
  tls_running_pool = outer_pool;
  tls_thread_index = outer_index;
}

void ThreadPool::run(int64_t n, Trampoline fn, const void* body) {
  RATEL_ASSERT(n >= 0);
  if (n == 0) return;
  if (tls_running_pool == this || num_threads_ == 1) {
    // Nested call from one of our own bodies (the workers are busy with the outer call), or a
    // pool of one: run everything here.
    fn(body, 0, n, tls_running_pool == this ? tls_thread_index : 0);
    return;
  }
  std::lock_guard<std::mutex> lock(submit_mutex_);
  job_fn_ = fn;
  job_body_ = body;
  job_n_ = n;
  pending_workers_.store(static_cast<uint32_t>(num_threads_ - 1), std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();

  run_chunk(0);

  for (int spin = 0; spin < kSpinIterations; ++spin) {
    if (pending_workers_.load(std::memory_order_acquire) == 0) return;
    cpu_relax();
  }
  for (uint32_t left; (left = pending_workers_.load(std::memory_order_acquire)) != 0;) {
    pending_workers_.wait(left, std::memory_order_acquire);
  }
}

void ThreadPool::worker_loop(int thread_index) {
  uint32_t seen = 0;
  for (;;) {
    uint32_t current = generation_.load(std::memory_order_acquire);
    for (int spin = 0; current == seen && spin < kSpinIterations; ++spin) {
      cpu_relax();
      current = generation_.load(std::memory_order_acquire);
    }
    while (current == seen) {
      generation_.wait(seen, std::memory_order_acquire);
      current = generation_.load(std::memory_order_acquire);
    }
    seen = current;
    if (stopping_) return;
    run_chunk(thread_index);
    if (pending_workers_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      pending_workers_.notify_one();
    }
  }
}

}  // namespace ratel::cpu
