// Benchmarks of the attention, softmax and layer-norm kernels on MiniLM-L6 / BERT shapes (S =
// 384, 12 heads of 32, hidden 384), for every ISA path this CPU has.
//
//   ratel_attention_bench --benchmark_filter='attention/avx512'
//
// Families (filter by prefix):
//   attention/<isa>/S<s>_valid<v>_H<h>_D<d>/threads:<t>  kernels::attention, packed QKV, BERT mask
//                                                    with v real tokens (the rest padding)
//   attention_part/<isa>/{pack,qk,softmax,pv}        one head's pieces, as attention runs them
//   softmax/<isa>/rows<r>_n<n>                       softmax_kernel over r rows (one head: 384)
//   layernorm/<isa>/rows<r>_n<n>[_skip]              layernorm_kernel over r rows
// Single-threaded results are per CPU-second of the benchmark thread (other processes share the
// machine; time spent descheduled is not a property of the kernel), multi-threaded results per
// wall-clock second. Counters: GFLOPS (attention: 4 S^2 D heads flops of the unpadded problem),
// Gelem/s (elements per second) for softmax and layer norm.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cpu/cpu_features.h"
#include "cpu/thread_pool.h"
#include "kernels/attention.h"
#include "kernels/gemm.h"
#include "kernels/layernorm.h"
#include "kernels/softmax.h"

namespace ratel::bench {
namespace {

using cpu::Isa;

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// 64-byte aligned floats, uniform in [lo, hi).
struct Buffer {
  explicit Buffer(size_t n, float lo = -1, float hi = 1, uint32_t seed = 1)
      : data(static_cast<float*>(std::aligned_alloc(64, (n * 4 + 63) / 64 * 64))), size(n) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(lo, hi);
    for (size_t i = 0; i < n; ++i) data[i] = d(rng);
  }
  ~Buffer() { std::free(data); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  float* data;
  size_t size;
};

// Runs `body` per iteration, timed in thread CPU time (1 thread) or wall time (pool).
template <typename Body>
void timed_loop(benchmark::State& state, bool cpu_time, const Body& body) {
  for (auto _ : state) {
    if (cpu_time) {
      const double t0 = thread_cpu_seconds();
      body();
      state.SetIterationTime(thread_cpu_seconds() - t0);
    } else {
      const auto t0 = std::chrono::steady_clock::now();
      body();
      state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
  }
}

// `valid` real tokens, the rest padding (mask -10000: the kernel skips those keys).
void bm_attention(benchmark::State& state, Isa isa, size_t seq, size_t valid, size_t heads, size_t d,
                  int threads) {
  const size_t hidden = heads * d;
  Buffer qkv(seq * 3 * hidden, -2, 2, 1), out(seq * hidden), mask(seq, 0, 0, 3);
  for (size_t j = valid; j < seq; ++j) mask.data[j] = -10000.0f;
  std::unique_ptr<cpu::ThreadPool> pool;
  if (threads > 1) pool = std::make_unique<cpu::ThreadPool>(threads);
  Buffer ws(kernels::attention_workspace_size(seq, d, isa) * static_cast<size_t>(threads));
  kernels::AttentionParams p;
  p.batch = 1;
  p.seq = seq;
  p.heads = heads;
  p.head_size = d;
  p.q = qkv.data;
  p.k = qkv.data + hidden;
  p.v = qkv.data + 2 * hidden;
  p.ldq = p.ldk = p.ldv = 3 * hidden;
  p.out = out.data;
  p.ldo = hidden;
  p.mask = mask.data;
  p.mask_strides[0] = static_cast<int64_t>(seq);
  p.mask_strides[3] = 1;
  p.scale = 1.0f / std::sqrt(static_cast<float>(d));
  timed_loop(state, threads == 1, [&] { kernels::attention(p, ws.data, pool.get(), isa); });
  const double flops = 4.0 * static_cast<double>(seq * seq * d * heads);
  state.counters["GFLOPS"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// One head's pieces as attention() runs them (row blocks of attention_row_block rows).
void bm_attention_part(benchmark::State& state, Isa isa, const std::string& part) {
  const size_t seq = 384, d = 32, ld = 3 * 384;
  Buffer qkv(seq * ld, -2, 2, 1), out(seq * 384), mask(seq, 0, 0, 3);
  Buffer pk(kernels::packed_gemm_b_size(d, seq, isa)), pv(kernels::packed_gemm_b_size(seq, d, isa));
  const size_t rb = kernels::attention_row_block(seq, isa);
  Buffer scores(rb * seq, -3, 3, 4);
  const kernels::PackedBView kt = kernels::pack_gemm_b(d, seq, qkv.data + 384, 1, ld, isa, pk.data);
  const kernels::PackedBView vv = kernels::pack_gemm_b(seq, d, qkv.data + 768, ld, 1, isa, pv.data);
  const auto softmax = kernels::softmax_kernel(isa);
  const float scale = 1.0f / std::sqrt(32.0f);
  timed_loop(state, true, [&] {
    if (part == "pack") {
      kernels::pack_gemm_b(d, seq, qkv.data + 384, 1, ld, isa, pk.data);
      kernels::pack_gemm_b(seq, d, qkv.data + 768, ld, 1, isa, pv.data);
    }
    for (size_t i0 = 0; i0 < seq && part != "pack"; i0 += rb) {
      const size_t rows = std::min(rb, seq - i0);
      if (part == "qk") kernels::gemm_packed(rows, qkv.data + i0 * ld, ld, kt, scores.data, seq);
      if (part == "softmax") {
        for (size_t r = 0; r < rows; ++r) softmax(seq, scores.data + r * seq, scale, mask.data, scores.data + r * seq);
      }
      if (part == "pv") kernels::gemm_packed(rows, scores.data, seq, vv, out.data + i0 * 384, 384);
    }
    benchmark::DoNotOptimize(out.data[0]);
    benchmark::DoNotOptimize(scores.data[0]);
  });
}

void bm_softmax(benchmark::State& state, Isa isa, size_t rows, size_t n) {
  Buffer x(rows * n, -5, 5), y(rows * n);
  const auto fn = kernels::softmax_kernel(isa);
  timed_loop(state, true, [&] {
    for (size_t r = 0; r < rows; ++r) fn(n, x.data + r * n, 1.0f, nullptr, y.data + r * n);
    benchmark::DoNotOptimize(y.data[0]);
  });
  state.counters["Gelem/s"] = benchmark::Counter(static_cast<double>(rows * n) * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

void bm_layernorm(benchmark::State& state, Isa isa, size_t rows, size_t n, bool skip) {
  Buffer x(rows * n, -3, 3, 1), s(rows * n, -3, 3, 2), g(n, 0.5, 1.5, 3), b(n, -1, 1, 4), y(rows * n);
  const auto fn = kernels::layernorm_kernel(isa);
  timed_loop(state, true, [&] {
    for (size_t r = 0; r < rows; ++r) {
      fn(n, x.data + r * n, skip ? s.data + r * n : nullptr, g.data, b.data, 1e-12f, y.data + r * n);
    }
    benchmark::DoNotOptimize(y.data[0]);
  });
  state.counters["Gelem/s"] = benchmark::Counter(static_cast<double>(rows * n) * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

void register_all() {
  const Isa best = cpu::best_isa(cpu::cpu_features());
  for (Isa isa : {Isa::kGeneric, Isa::kAvx2, Isa::kAvx512}) {
    if (isa > best) continue;
    const std::string name(cpu::isa_name(isa));
    for (size_t valid : {384, 171}) {
      for (int threads : {1, 2}) {
        benchmark::RegisterBenchmark(("attention/" + name + "/S384_valid" + std::to_string(valid) +
                                      "_H12_D32/threads:" + std::to_string(threads)).c_str(),
                                     bm_attention, isa, 384, valid, 12, 32, threads)
            ->UseManualTime()->Unit(benchmark::kMillisecond);
      }
    }
    for (const char* part : {"pack", "qk", "softmax", "pv"}) {
      benchmark::RegisterBenchmark(("attention_part/" + name + "/" + part).c_str(), bm_attention_part, isa,
                                   std::string(part))
          ->UseManualTime()->Unit(benchmark::kMicrosecond);
    }
    benchmark::RegisterBenchmark(("softmax/" + name + "/rows384_n384").c_str(), bm_softmax, isa, 384, 384)
        ->UseManualTime()->Unit(benchmark::kMicrosecond);
    for (bool skip : {false, true}) {
      benchmark::RegisterBenchmark(("layernorm/" + name + "/rows384_n384" + (skip ? "_skip" : "")).c_str(),
                                   bm_layernorm, isa, 384, 384, skip)
          ->UseManualTime()->Unit(benchmark::kMicrosecond);
    }
  }
}

}  // namespace
}  // namespace ratel::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  ratel::bench::register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
