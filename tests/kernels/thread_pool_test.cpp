// ThreadPool: static partition, every index exactly once on the thread the partition names,
// nesting, repeated and concurrent use.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "cpu/thread_pool.h"

namespace ratel::cpu {
namespace {

TEST(StaticChunk, CoversRangeContiguouslyAndBalanced) {
  for (int64_t n : {0, 1, 2, 5, 7, 100, 101}) {
    for (int threads : {1, 2, 3, 4, 7}) {
      int64_t next = 0;
      for (int t = 0; t < threads; ++t) {
        const IndexRange r = static_chunk(n, threads, t);
        EXPECT_EQ(r.begin, next);
        const int64_t size = r.end - r.begin;
        EXPECT_TRUE(size == n / threads || size == n / threads + 1) << n << " " << threads;
        next = r.end;
      }
      EXPECT_EQ(next, n);
    }
  }
}

TEST(ThreadPool, EveryIndexOnceOnItsStaticThread) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.num_threads(), threads);
    for (int64_t n : {1, 2, 3, 10, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      std::vector<int> owner(static_cast<size_t>(n), -1);
      pool.parallel_for(n, [&](int64_t begin, int64_t end, int thread) {
        for (int64_t i = begin; i < end; ++i) {
          hits[static_cast<size_t>(i)]++;
          owner[static_cast<size_t>(i)] = thread;
        }
      });
      for (int64_t i = 0; i < n; ++i) {
        ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << "index " << i;
        int expected = -1;
        for (int t = 0; t < threads; ++t) {
          const IndexRange r = static_chunk(n, threads, t);
          if (i >= r.begin && i < r.end) expected = t;
        }
        ASSERT_EQ(owner[static_cast<size_t>(i)], expected);
      }
    }
  }
}

TEST(ThreadPool, WorkersReallyRunInParallel) {
  ThreadPool pool(3);
  std::vector<std::thread::id> ids(3);
  pool.parallel_for(3, [&](int64_t begin, int64_t, int thread) {
    ids[static_cast<size_t>(begin)] = std::this_thread::get_id();
    EXPECT_EQ(begin, thread);
  });
  EXPECT_EQ(ids[0], std::this_thread::get_id()) << "the caller runs chunk 0";
  EXPECT_NE(ids[1], ids[0]);
  EXPECT_NE(ids[2], ids[1]);
}

TEST(ThreadPool, ManyBackToBackCalls) {
  ThreadPool pool(3);
  int64_t total = 0;
  for (int round = 0; round < 2000; ++round) {
    std::atomic<int64_t> sum{0};
    pool.parallel_for(7, [&](int64_t begin, int64_t end, int) {
      for (int64_t i = begin; i < end; ++i) sum += i;
    });
    total += sum.load();
  }
  EXPECT_EQ(total, 2000 * 21);
}

TEST(ThreadPool, NestedCallRunsInline) {
  ThreadPool pool(2);
  std::atomic<int> inner_calls{0};
  pool.parallel_for(2, [&](int64_t, int64_t, int outer_thread) {
    pool.parallel_for(4, [&](int64_t begin, int64_t end, int inner_thread) {
      EXPECT_EQ(begin, 0);
      EXPECT_EQ(end, 4);
      EXPECT_EQ(inner_thread, outer_thread);
      inner_calls++;
    });
  });
  EXPECT_EQ(inner_calls.load(), 2);
}

TEST(ThreadPool, ConcurrentSubmittersAreSerialized) {
  ThreadPool pool(2);
  std::atomic<int64_t> sum{0};
  auto submit = [&] {
    for (int i = 0; i < 500; ++i) {
      pool.parallel_for(4, [&](int64_t begin, int64_t end, int) { sum += end - begin; });
    }
  };
  std::thread other(submit);
  submit();
  other.join();
  EXPECT_EQ(sum.load(), 2 * 500 * 4);
}

TEST(ThreadPool, NullPoolRunsInline) {
  int calls = 0;
  parallel_for(nullptr, 5, [&](int64_t begin, int64_t end, int thread) {
    EXPECT_EQ(begin, 0);
    EXPECT_EQ(end, 5);
    EXPECT_EQ(thread, 0);
    ++calls;
  });
  parallel_for(nullptr, 0, [&](int64_t, int64_t, int) { ++calls; });
  EXPECT_EQ(calls, 1);
}

TEST(ThreadPool, IdleWorkersSleepAndWakeUp) {
  ThreadPool pool(2);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // past the spin phase
  std::atomic<int> ran{0};
  pool.parallel_for(2, [&](int64_t, int64_t, int) { ran++; });
  EXPECT_EQ(ran.load(), 2);
}

}  // namespace
}  // namespace ratel::cpu
