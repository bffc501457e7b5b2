// GEMM benchmarks: GFLOP/s of the packed GEMM on BERT shapes, for every ISA path this CPU has,
// on 1 and 2 threads, each also given as a percentage of this machine's peak FMA throughput,
// measured by a loop in this binary right before the benchmarks run.
//
//   build-kern/bench/ratel_gemm_bench --benchmark_filter='gemm/avx512'
//
// Families (filter by prefix):
//   gemm/<isa>/K<k>_N<n>/threads:<t>       M = 384 (BERT sequence), B hot in L3
//   gemm_coldB/<isa>/...                   same, rotating over copies of B larger than L3 (as
//                                          in a real model, whose weights do not fit in cache)
//   gemm_gelu/<isa>/...                    with the bias + GELU epilogue (FFN intermediate)
//   attention/<isa>/...                    gemm_strided: Q*K^T (S x S x 64) and P*V (S x 64 x S)
//   tile/<candidate>/...                   alternative register tiles and blockings
// Counters: GFLOPS; pct_peak = GFLOPS / (threads x single-core peak of the best ISA).
// Single-threaded results are per CPU-second of the benchmark thread, multi-threaded per
// wall-clock second (see register_benchmark); multi-threaded runs also report
// cpu_GFLOPS_per_core and cpu_pct_peak: flops per CPU-second of all the process's threads.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <ctime>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "cpu/cpu_features.h"
#include "cpu/thread_pool.h"
#include "kernels/gemm.h"
#include "peak_fma.h"
#include "tile_candidates.h"

namespace ratel::bench {
namespace {

using cpu::Isa;

struct Shape {
  size_t k, n;
};
constexpr size_t kSeq = 384;
// BERT-base (hidden 768, FFN 3072), BERT-medium-like (512/2048).
constexpr Shape kBertShapes[] = {{512, 512}, {512, 2048}, {2048, 512},
                                 {768, 768}, {768, 3072}, {3072, 768}};

double g_peak_gflops = 0;  // single core, best ISA

double cpu_seconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
double thread_cpu_seconds() { return cpu_seconds(CLOCK_THREAD_CPUTIME_ID); }
double process_cpu_seconds() { return cpu_seconds(CLOCK_PROCESS_CPUTIME_ID); }

double measure_peak_gflops(Isa isa) {
  if (isa == Isa::kGeneric) return 0;
  const bool avx512 = isa == Isa::kAvx512;
  const double flops_per_iter = avx512 ? kPeakChainsAvx512 * 2.0 * 16 : kPeakChainsAvx2 * 2.0 * 8;
  double best = 0;
  volatile float sink = 0;
  // Best of 7, timed in this thread's CPU time: other processes share this machine, and time
  // spent descheduled is not a property of the core.
  for (int rep = 0; rep < 7; ++rep) {
    const uint64_t iters = 2'000'000;
    const double t0 = thread_cpu_seconds();
    sink = sink + (avx512 ? peak_fma_avx512(iters) : peak_fma_avx2(iters));
    const double s = thread_cpu_seconds() - t0;
    best = std::max(best, flops_per_iter * static_cast<double>(iters) / s * 1e-9);
  }
  return best;
}

std::vector<float> random_floats(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

void set_counters(benchmark::State& state, double flops, int threads) {
  state.counters["GFLOPS"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  if (g_peak_gflops > 0) {
    state.counters["pct_peak"] = benchmark::Counter(
        flops * 1e-9 * 100 / (g_peak_gflops * threads),
        benchmark::Counter::kIsIterationInvariantRate);
  }
}

// `copies` > 1 rotates over that many packed copies of B (to defeat the caches).
void run_gemm(benchmark::State& state, const kernels::GemmUkernel& uk, size_t m, Shape s,
              int threads, kernels::Activation act, size_t copies) {
  std::vector<float> a = random_floats(m * s.k, 1);
  std::vector<float> b = random_floats(s.k * s.n, 2);
  std::vector<float> bias = random_floats(s.n, 3);
  std::vector<float> c(m * s.n);
  const size_t packed_size = kernels::packed_gemm_b_size(s.k, s.n, uk);
  std::vector<std::unique_ptr<float[], decltype(&std::free)>> packed;
  std::vector<kernels::PackedBView> views;
  for (size_t i = 0; i < copies; ++i) {
    packed.emplace_back(static_cast<float*>(std::aligned_alloc(64, packed_size * 4)), &std::free);
    views.push_back(kernels::pack_gemm_b(s.k, s.n, b.data(), s.n, 1, uk, packed.back().get()));
  }
  cpu::ThreadPool pool(threads);
  kernels::GemmEpilogue epi;
  if (act != kernels::Activation::kNone) {
    epi.bias = bias.data();
    epi.activation = act;
  }
  size_t next = 0;
  const double cpu0 = process_cpu_seconds();
  for (auto _ : state) {
    kernels::gemm_packed(m, a.data(), s.k, views[next], c.data(), s.n, epi, &pool);
    next = (next + 1) % copies;
    benchmark::ClobberMemory();
  }
  const double flops = 2.0 * static_cast<double>(m) * s.n * s.k;
  set_counters(state, flops, threads);
  if (threads > 1) {
    // Wall-clock rates on a shared machine measure how much CPU the other processes left us.
    // Per CPU-second of all our threads (idle spinning included) is the per-core efficiency.
    const double per_core = flops * static_cast<double>(state.iterations()) * 1e-9 /
                            (process_cpu_seconds() - cpu0);
    state.counters["cpu_GFLOPS_per_core"] = per_core;
    if (g_peak_gflops > 0) state.counters["cpu_pct_peak"] = per_core * 100 / g_peak_gflops;
  }
}

void run_attention(benchmark::State& state, Isa isa, bool scores) {
  // One head of BERT-base: S = 384, D = 64, Q/K/V interleaved in a [S x 3*768] QKV buffer.
  constexpr size_t kD = 64, kLd = 3 * 768;
  std::vector<float> qkv = random_floats(kSeq * kLd, 4);
  std::vector<float> probs = random_floats(kSeq * kSeq, 5);
  std::vector<float> out(kSeq * kSeq);
  const size_t ws_size = std::max(kernels::gemm_workspace_size(kD, kSeq, isa),
                                  kernels::gemm_workspace_size(kSeq, kD, isa));
  std::unique_ptr<float[], decltype(&std::free)> ws(
      static_cast<float*>(std::aligned_alloc(64, ws_size * 4)), &std::free);
  for (auto _ : state) {
    if (scores) {  // S x S = Q (S x D) * K^T
      kernels::gemm_strided(kSeq, kSeq, kD, qkv.data(), kLd, qkv.data() + 768, 1, kLd,
                            out.data(), kSeq, {}, ws.get(), nullptr, isa);
    } else {  // S x D = P (S x S) * V (S x D)
      kernels::gemm_strided(kSeq, kD, kSeq, probs.data(), kSeq, qkv.data() + 1536, kLd, 1,
                            out.data(), kD, {}, ws.get(), nullptr, isa);
    }
    benchmark::ClobberMemory();
  }
  set_counters(state, 2.0 * kSeq * kSeq * kD, 1);
}

std::string shape_name(Shape s, int threads) {
  return fmt::format("K{}_N{}/threads:{}", s.k, s.n, threads);
}

// Single-threaded runs are timed in CPU time (the work is all on the main thread, and time
// spent descheduled by other processes on this shared machine is excluded); multi-threaded runs
// in wall time (the only meaningful one for them), so expect more spread there.
template <typename Fn>
benchmark::internal::Benchmark* register_benchmark(const std::string& name, int threads, Fn fn) {
  benchmark::internal::Benchmark* b = benchmark::RegisterBenchmark(name.c_str(), fn);
  if (threads > 1) b->UseRealTime();
  return b;
}

void register_all() {
  const Isa best = cpu::best_isa(cpu::cpu_features());
  for (Isa isa : {Isa::kAvx512, Isa::kAvx2, Isa::kGeneric}) {
    if (isa > best) continue;
    const kernels::GemmUkernel* uk = &kernels::gemm_ukernel(isa);
    const std::string isa_name(cpu::isa_name(isa));
    for (int threads : {1, 2}) {
      for (Shape s : kBertShapes) {
        register_benchmark(
            fmt::format("gemm/{}/{}", isa_name, shape_name(s, threads)), threads,
            [uk, s, threads](benchmark::State& st) {
              run_gemm(st, *uk, kSeq, s, threads, kernels::Activation::kNone, 1);
            })->Unit(benchmark::kMillisecond);
      }
      for (Shape s : {Shape{768, 3072}, Shape{3072, 768}}) {
        // 8 copies of a 9.4 MB weight: 75 MB, over twice the 32 MB L3.
        register_benchmark(
            fmt::format("gemm_coldB/{}/{}", isa_name, shape_name(s, threads)), threads,
            [uk, s, threads](benchmark::State& st) {
              run_gemm(st, *uk, kSeq, s, threads, kernels::Activation::kNone, 8);
            })->Unit(benchmark::kMillisecond);
      }
      register_benchmark(
          fmt::format("gemm_gelu/{}/{}", isa_name, shape_name({768, 3072}, threads)), threads,
          [uk, threads](benchmark::State& st) {
            run_gemm(st, *uk, kSeq, {768, 3072}, threads, kernels::Activation::kGelu, 1);
          })->Unit(benchmark::kMillisecond);
    }
    for (bool scores : {true, false}) {
      register_benchmark(
          fmt::format("attention/{}/{}", isa_name, scores ? "QKt_S384_D64" : "PV_S384_D64"), 1,
          [isa, scores](benchmark::State& st) { run_attention(st, isa, scores); })
          ->Unit(benchmark::kMicrosecond);
    }
  }
#if defined(__x86_64__)
  static std::vector<kernels::GemmUkernel> candidates;
  if (best >= Isa::kAvx512) candidates = avx512_tile_candidates();
  if (best >= Isa::kAvx2) {
    for (const auto& c : avx2_tile_candidates()) candidates.push_back(c);
  }
  for (const kernels::GemmUkernel& uk : candidates) {
    for (Shape s : kBertShapes) {
      register_benchmark(
          fmt::format("tile/{}_{}/{}", cpu::isa_name(uk.isa), uk.name, shape_name(s, 1)), 1,
          [&uk, s](benchmark::State& st) {
            run_gemm(st, uk, kSeq, s, 1, kernels::Activation::kNone, 1);
          })->Unit(benchmark::kMillisecond);
    }
  }
#endif
}

}  // namespace
}  // namespace ratel::bench

int main(int argc, char** argv) {
  using namespace ratel;
  benchmark::Initialize(&argc, argv);
  const cpu::CpuFeatures& f = cpu::cpu_features();
  const cpu::Isa best = cpu::best_isa(f);
  std::printf("CPU: %s; best ISA: %s\n", f.model_name.c_str(),
              std::string(cpu::isa_name(best)).c_str());
  double peak_avx2 = 0, peak_avx512 = 0;
#if defined(__x86_64__)
  if (best >= cpu::Isa::kAvx2) peak_avx2 = bench::measure_peak_gflops(cpu::Isa::kAvx2);
  if (best >= cpu::Isa::kAvx512) peak_avx512 = bench::measure_peak_gflops(cpu::Isa::kAvx512);
#endif
  bench::g_peak_gflops = std::max(peak_avx2, peak_avx512);
  std::printf("Measured single-core peak FMA throughput: AVX2 %.1f GFLOP/s, AVX-512 %.1f GFLOP/s\n",
              peak_avx2, peak_avx512);
  benchmark::AddCustomContext("cpu_model", f.model_name);
  benchmark::AddCustomContext("best_isa", std::string(cpu::isa_name(best)));
  benchmark::AddCustomContext("peak_gflops_avx2", std::to_string(peak_avx2));
  benchmark::AddCustomContext("peak_gflops_avx512", std::to_string(peak_avx512));
  bench::register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
