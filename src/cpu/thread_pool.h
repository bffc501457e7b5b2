// A fixed-size thread pool with a statically partitioned parallel_for.
//
// Why static: the runtime promises bit-identical results for a given thread count, so work must
// not migrate between threads depending on timing (work stealing would make a reduction's order
// depend on the schedule). Kernels built on this split independent outputs only (GEMM splits M/N
// blocks, never K), so in practice their results do not depend on the thread count at all.
//
// Usage (the runtime creates one pool per session and passes it to the kernels):
//
//   ratel::cpu::ThreadPool pool(4);            // the caller + 3 workers
//   pool.parallel_for(rows, [&](int64_t begin, int64_t end, int thread) {
//     for (int64_t r = begin; r < end; ++r) process(r, scratch[thread]);
//   });
//
// The calling thread runs chunk 0 and the workers the others; parallel_for returns when all are
// done. Idle workers spin briefly (a BERT layer issues GEMMs back to back, and waking a sleeping
// thread costs tens of microseconds) and then sleep on a futex, so an idle pool uses no CPU.
// parallel_for does not allocate. One parallel_for runs at a time per pool (concurrent callers
// are serialized); a parallel_for called from inside a body runs inline on the calling thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace ratel::cpu {

struct IndexRange {
  int64_t begin = 0;
  int64_t end = 0;
};

// Chunk `thread_index` of [0, n) split into `num_threads` contiguous chunks whose sizes differ
// by at most one (the first n % num_threads chunks get the extra element).
IndexRange static_chunk(int64_t n, int num_threads, int thread_index);

class ThreadPool {
 public:
  // num_threads >= 1 counts the calling thread: the pool starts num_threads - 1 workers.
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_; }

  // Calls body(begin, end, thread_index) once per non-empty chunk static_chunk(n, T, t).
  // `body` must not throw (the library does not use exceptions).
  template <typename Body>
  void parallel_for(int64_t n, const Body& body) {
    run(n, &call_body<Body>, &body);
  }

  // Number of hardware threads (at least 1); the default pool size.
  static int hardware_threads();

 private:
  using Trampoline = void (*)(const void* body, int64_t begin, int64_t end, int thread_index);

  template <typename Body>
  static void call_body(const void* body, int64_t begin, int64_t end, int thread_index) {
    (*static_cast<const Body*>(body))(begin, end, thread_index);
  }

  void run(int64_t n, Trampoline fn, const void* body);
  void run_chunk(int thread_index);
  void worker_loop(int thread_index);

  const int num_threads_;
  std::vector<std::thread> workers_;
  std::mutex submit_mutex_;
  // The job: written by the submitter before it bumps generation_ (release), read by workers
  // after they observe the new generation (acquire).
  Trampoline job_fn_ = nullptr;
  const void* job_body_ = nullptr;
  int64_t job_n_ = 0;
  bool stopping_ = false;
  std::atomic<uint32_t> generation_{0};
  std::atomic<uint32_t> pending_workers_{0};
};

// parallel_for on `pool`, or inline on the calling thread (thread_index 0) when pool is null.
template <typename Body>
void parallel_for(ThreadPool* pool, int64_t n, const Body& body) {
  if (pool == nullptr || pool->num_threads() == 1) {
    if (n > 0) body(int64_t{0}, n, 0);
    return;
  }
  pool->parallel_for(n, body);
}

}  // namespace ratel::cpu
