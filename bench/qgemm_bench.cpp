// Quantized (int8, int16) and half-precision-weight (fp16, bf16) GEMMs against the f32 GEMM of
// the same binary, on BERT shapes: M = 384, (K, N) in {(384,384), (384,1536), (1536,384),
// (768,768), (768,3072), (3072,768)}, 1 and 2 threads.
//
//   build/bench/ratel_qgemm_bench --benchmark_filter='^qgemm/(f32|int8)/'
//   bench/run_qgemm_bench.sh build-dir [filter] [repetitions]    (JSON + ratio table)
//
// Families (names: qgemm/<family>/<kernel>/K<k>_N<n>/threads:<t>):
//   f32      gemm_packed (gemm.h), bias epilogue: the baseline of every ratio
//   int8     qgemm_packed, u8 activations (zero point 128) x s8 per-column symmetric weights,
//            dequantized fp32 output + bias (a quantized Dense feeding LayerNorm)
//   int8_asymw  the same with per-column weight zero points (row sums per call)
//   int8_u8out  requantized u8 output (chained int8 layers)
//   int16    s16 x s16, fp32 output + bias
//   f16      hgemm_packed with fp16 weights (converted in the microkernel), bias
//   f16_panels  fp16 weights converted to fp32 per (N block, K block) into a buffer, then the
//            f32 microkernel (the alternative to converting in the kernel; 1 thread)
//   bf16     hgemm_packed with bf16 weights and activations, bias
// Counters: GOPS = 2 M N K / time (multiply-adds count as 2 ops, as for f32 FLOP/s).
// Single-threaded runs are timed in this thread's CPU time, multi-threaded ones in wall time
// (shared machine; see gemm_bench.cpp). Kernels the CPU cannot run are not registered.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "cpu/cpu_features.h"
#include "cpu/thread_pool.h"
#include "kernels/gemm.h"
#include "kernels/hgemm.h"
#include "kernels/qgemm.h"
#include "qgemm_candidates.h"

namespace ratel::bench {
namespace {

using cpu::Isa;

struct Shape {
  size_t k, n;
};
constexpr size_t kSeq = 384;
constexpr Shape kShapes[] = {{384, 384}, {384, 1536}, {1536, 384},
                             {768, 768}, {768, 3072}, {3072, 768}};

std::vector<float> random_floats(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

template <typename T>
std::vector<T> random_ints(size_t count, int lo, int hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  std::vector<T> v(count);
  for (T& x : v) x = static_cast<T>(dist(rng));
  return v;
}

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// GOPS: per CPU second of the benchmark thread (1 thread) or per wall second (2 threads).
// Multi-threaded runs also get cpu_GOPS_per_core: ops per CPU second of all the process's
// threads (idle spinning included), the per-core efficiency, which the other processes on a
// shared machine disturb much less than the wall-clock rate.
void set_counters(benchmark::State& state, size_t m, Shape s, int threads, double cpu0) {
  const double ops = 2.0 * static_cast<double>(m) * static_cast<double>(s.n) * static_cast<double>(s.k);
  state.counters["GOPS"] = benchmark::Counter(ops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  if (threads > 1) {
    state.counters["cpu_GOPS_per_core"] =
        ops * static_cast<double>(state.iterations()) * 1e-9 / (process_cpu_seconds() - cpu0);
  }
}

struct AlignedFree {
  void operator()(void* p) const { std::free(p); }
};
template <typename T>
std::unique_ptr<T[], AlignedFree> aligned(size_t count) {
  return std::unique_ptr<T[], AlignedFree>(
      static_cast<T*>(std::aligned_alloc(64, (count * sizeof(T) + 63) / 64 * 64)));
}

void run_f32(benchmark::State& state, Isa isa, Shape s, int threads) {
  const std::vector<float> a = random_floats(kSeq * s.k, 1), b = random_floats(s.k * s.n, 2),
                           bias = random_floats(s.n, 3);
  std::vector<float> c(kSeq * s.n);
  auto packed = kernels::PackedGemmB::pack(b.data(), s.k, s.n, s.n, isa);
  cpu::ThreadPool pool(threads);
  kernels::GemmEpilogue epi;
  epi.bias = bias.data();
  const double cpu0 = process_cpu_seconds();
  for (auto _ : state) {
    kernels::gemm_packed(kSeq, a.data(), s.k, packed->view(), c.data(), s.n, epi, &pool);
    benchmark::ClobberMemory();
  }
  set_counters(state, kSeq, s, threads, cpu0);
}

enum class QVariant { kFloatOut, kAsymWeights, kU8Out };

void run_q(benchmark::State& state, const kernels::QGemmUkernel& uk, Shape s, int threads,
           QVariant variant) {
  const bool int8 = uk.family == kernels::QFamily::kInt8;
  const kernels::QType at = int8 ? kernels::QType::kU8 : kernels::QType::kS16;
  const kernels::QType wt = int8 ? kernels::QType::kS8 : kernels::QType::kS16;
  // 7-bit activations for the kernels that need them (qs8_gemm_6x16c4__avx2).
  std::vector<uint8_t> a8 = random_ints<uint8_t>(kSeq * s.k, 0, uk.a_max_127 ? 127 : 255, 1);
  std::vector<int8_t> w8 = random_ints<int8_t>(s.k * s.n, -127, 127, 2);
  std::vector<int16_t> a16 = random_ints<int16_t>(kSeq * s.k, -1000, 1000, 1);
  std::vector<int16_t> w16 = random_ints<int16_t>(s.k * s.n, -1000, 1000, 2);
  std::vector<int32_t> zps = random_ints<int32_t>(s.n, -10, 10, 4);
  const std::vector<float> scales(s.n, 0.01f), bias = random_floats(s.n, 3);
  kernels::QGemmWeights w;
  w.type = wt;
  w.data = int8 ? static_cast<const void*>(w8.data()) : static_cast<const void*>(w16.data());
  w.k = s.k;
  w.n = s.n;
  w.ldb = s.n;
  w.scales = scales.data();
  w.scale_count = s.n;
  if (variant == QVariant::kAsymWeights) {
    w.zero_points = zps.data();
    w.zero_point_count = s.n;
  }
  auto packed = kernels::PackedQGemmB::pack(w, uk);
  if (!packed.ok()) {
    state.SkipWithError(packed.status().message().c_str());
    return;
  }
  kernels::QGemmA qa;
  qa.type = at;
  qa.data = int8 ? static_cast<const void*>(a8.data()) : static_cast<const void*>(a16.data());
  qa.stride = s.k;
  qa.scale = 0.02f;
  qa.zero_point = int8 ? 128 : 0;
  kernels::QGemmEpilogue epi;
  std::vector<float> cf(kSeq * s.n);
  std::vector<uint8_t> c8(kSeq * s.n);
  void* c = cf.data();
  if (variant == QVariant::kU8Out) {
    epi.output = kernels::QOutput::kU8;
    epi.out_scale = 0.5f;
    epi.out_zero_point = 128;
    c = c8.data();
  } else {
    epi.output = kernels::QOutput::kFloat;
    epi.bias = bias.data();
  }
  cpu::ThreadPool pool(threads);
  const double cpu0 = process_cpu_seconds();
  for (auto _ : state) {
    kernels::qgemm_packed(kSeq, qa, packed->view(), c, s.n, epi, &pool);
    benchmark::ClobberMemory();
  }
  set_counters(state, kSeq, s, threads, cpu0);
}

void run_h(benchmark::State& state, const kernels::HGemmUkernel& uk, Shape s, int threads) {
  const std::vector<float> a = random_floats(kSeq * s.k, 1), b = random_floats(s.k * s.n, 2),
                           bias = random_floats(s.n, 3);
  std::vector<float> c(kSeq * s.n);
  auto packed = kernels::PackedHGemmB::pack(s.k, s.n, b.data(), s.n, kernels::HSource::kF32,
                                            nullptr, 0, uk);
  if (!packed.ok()) {
    state.SkipWithError(packed.status().message().c_str());
    return;
  }
  cpu::ThreadPool pool(threads);
  kernels::GemmEpilogue epi;
  epi.bias = bias.data();
  const double cpu0 = process_cpu_seconds();
  for (auto _ : state) {
    kernels::hgemm_packed(kSeq, a.data(), s.k, packed->view(), c.data(), s.n, epi, &pool);
    benchmark::ClobberMemory();
  }
  set_counters(state, kSeq, s, threads, cpu0);
}

#if defined(__x86_64__)
// The "convert while packing" fp16 variant, single-threaded: per (N block, K block), the fp16
// panels are converted into a fp32 buffer once and every row tile runs the f32 microkernel on it.
void run_f16_panels(benchmark::State& state, Isa isa, Shape s) {
  const kernels::GemmUkernel& uk = kernels::gemm_ukernel(isa);
  void (*convert)(const uint16_t*, float*, size_t) =
      isa == Isa::kAvx512 ? &convert_f16_avx512 : &convert_f16_avx2;
  const std::vector<float> a = random_floats(kSeq * s.k, 1), b = random_floats(s.k * s.n, 2),
                           bias = random_floats(s.n, 3);
  std::vector<float> c(kSeq * s.n);
  // fp16 panels in the f32 kernel's panel width.
  kernels::HGemmUkernel layout = kernels::hgemm_ukernel(kernels::HFormat::kF16, isa);
  layout.nr = uk.nr;
  auto packed = aligned<uint8_t>(kernels::packed_hgemm_b_size(s.k, s.n, layout));
  const kernels::PackedHGemmBView view = kernels::pack_hgemm_b(
      s.k, s.n, b.data(), s.n, kernels::HSource::kF32, nullptr, 0, layout, packed.get());
  auto ws = aligned<float>(uk.k_block * uk.n_block);
  alignas(64) static float a_tile[kernels::kGemmMaxATileFloats];
  const double cpu0 = process_cpu_seconds();
  for (auto _ : state) {
    for (size_t nb = 0; nb < s.n; nb += uk.n_block) {
      const size_t nb_end = std::min(nb + uk.n_block, s.n);
      for (size_t k0 = 0; k0 < s.k; k0 += uk.k_block) {
        const size_t kc = std::min(uk.k_block, s.k - k0);
        for (size_t nt = nb; nt < nb_end; nt += uk.nr) {
          convert(view.data + ((nt / uk.nr) * s.k + k0) * uk.nr, ws.get() + (nt - nb) * kc, kc * uk.nr);
        }
        kernels::GemmUkernelParams p;
        p.accumulate = k0 > 0;
        p.last_k_block = k0 + kc == s.k;
        for (size_t mt = 0; mt < kSeq; mt += uk.mr) {
          const size_t mr = std::min(uk.mr, kSeq - mt);
          for (size_t r = 0; r < mr; ++r) {
            std::memcpy(a_tile + r * uk.a_stride, a.data() + (mt + r) * s.k + k0, kc * 4);
          }
          for (size_t nt = nb; nt < nb_end; nt += uk.nr) {
            p.bias = bias.data() + nt;
            uk.fn(mr, std::min(uk.nr, nb_end - nt), kc, a_tile, ws.get() + (nt - nb) * kc,
                  c.data() + mt * s.n + nt, s.n, p);
          }
        }
      }
    }
    benchmark::ClobberMemory();
  }
  set_counters(state, kSeq, s, 1, cpu0);
}
#endif

std::string shape_name(Shape s, int threads) {
  return fmt::format("K{}_N{}/threads:{}", s.k, s.n, threads);
}

template <typename Fn>
void add(const std::string& name, int threads, Fn fn) {
  benchmark::internal::Benchmark* b = benchmark::RegisterBenchmark(name.c_str(), fn);
  if (threads > 1) b->UseRealTime();
  b->Unit(benchmark::kMillisecond);
}

bool isa_runs(Isa isa) { return isa <= cpu::active_isa(); }

void register_all() {
  std::vector<const kernels::QGemmUkernel*> qkernels;
  for (const kernels::QGemmUkernel* const* p = kernels::qgemm_all_ukernels(); *p != nullptr; ++p) {
    if (kernels::qgemm_ukernel_supported(**p) && isa_runs((*p)->isa)) qkernels.push_back(*p);
  }
  std::vector<const kernels::HGemmUkernel*> hkernels;
  for (const kernels::HGemmUkernel* const* p = kernels::hgemm_all_ukernels(); *p != nullptr; ++p) {
    if (kernels::hgemm_ukernel_supported(**p) && isa_runs((*p)->isa)) hkernels.push_back(*p);
  }
  for (int threads : {1, 2}) {
    for (Shape s : kShapes) {
      const std::string sn = shape_name(s, threads);
      for (Isa isa : {Isa::kAvx512, Isa::kAvx2, Isa::kGeneric}) {
        if (!isa_runs(isa)) continue;
        add(fmt::format("qgemm/f32/{}/{}", cpu::isa_name(isa), sn), threads,
            [isa, s, threads](benchmark::State& st) { run_f32(st, isa, s, threads); });
      }
      for (const kernels::QGemmUkernel* uk : qkernels) {
        const char* fam = uk->family == kernels::QFamily::kInt8 ? "int8" : "int16";
        add(fmt::format("qgemm/{}/{}/{}", fam, uk->name, sn), threads,
            [uk, s, threads](benchmark::State& st) { run_q(st, *uk, s, threads, QVariant::kFloatOut); });
        if (uk->family == kernels::QFamily::kInt8) {
          add(fmt::format("qgemm/int8_asymw/{}/{}", uk->name, sn), threads,
              [uk, s, threads](benchmark::State& st) { run_q(st, *uk, s, threads, QVariant::kAsymWeights); });
          add(fmt::format("qgemm/int8_u8out/{}/{}", uk->name, sn), threads,
              [uk, s, threads](benchmark::State& st) { run_q(st, *uk, s, threads, QVariant::kU8Out); });
        }
      }
      for (const kernels::HGemmUkernel* uk : hkernels) {
        const char* fam = uk->format == kernels::HFormat::kF16 ? "f16" : "bf16";
        add(fmt::format("qgemm/{}/{}/{}", fam, uk->name, sn), threads,
            [uk, s, threads](benchmark::State& st) { run_h(st, *uk, s, threads); });
      }
#if defined(__x86_64__)
      if (threads == 1) {
        for (Isa isa : {Isa::kAvx512, Isa::kAvx2}) {
          if (!isa_runs(isa)) continue;
          add(fmt::format("qgemm/f16_panels/{}/{}", cpu::isa_name(isa), sn), 1,
              [isa, s](benchmark::State& st) { run_f16_panels(st, isa, s); });
        }
      }
#endif
    }
  }
}

}  // namespace
}  // namespace ratel::bench

int main(int argc, char** argv) {
  using namespace ratel;
  benchmark::Initialize(&argc, argv);
  const cpu::CpuFeatures& f = cpu::cpu_features();
  std::printf("CPU: %s; active ISA: %s; avx512_vnni %d avx512_bf16 %d avx_vnni %d\n",
              f.model_name.c_str(), std::string(cpu::isa_name(cpu::active_isa())).c_str(),
              f.avx512_vnni, f.avx512_bf16, f.avx_vnni);
  benchmark::AddCustomContext("cpu_model", f.model_name);
  benchmark::AddCustomContext("active_isa", std::string(cpu::isa_name(cpu::active_isa())));
  bench::register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
