// riscv64 smoke test (run_rv_smoke.sh): on a non-x86 build, detection reports the generic path
// and the generic GEMM (with a thread pool and a bias epilogue) reproduces the reference
// exactly on integer data; the GELU kernel runs.
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "cpu/cpu_features.h"
#include "cpu/thread_pool.h"
#include "kernels/gemm.h"
#include "kernels/vunary.h"

using namespace ratel;

namespace {

std::vector<float> random_integers(size_t count, std::mt19937& rng) {
  std::uniform_int_distribution<int> dist(-4, 4);
  std::vector<float> v(count);
  for (float& x : v) x = static_cast<float>(dist(rng));
  return v;
}

}  // namespace

int main() {
  const cpu::Isa best = cpu::best_isa(cpu::cpu_features());
  std::printf("model: '%s', best isa: %s\n", cpu::cpu_features().model_name.c_str(),
              std::string(cpu::isa_name(best)).c_str());
  std::mt19937 rng(1);
  cpu::ThreadPool pool(2);
  int mismatches = 0;
  for (size_t m : {1, 5, 37}) {
    for (size_t n : {1, 9, 70}) {
      for (size_t k : {1, 13, 300}) {
        std::vector<float> a = random_integers(m * k, rng), b = random_integers(k * n, rng);
        std::vector<float> bias = random_integers(n, rng), c(m * n), want(m * n);
        auto packed = kernels::PackedGemmB::pack(b.data(), k, n, n);
        if (!packed.ok()) return 2;
        kernels::GemmEpilogue epi;
        epi.bias = bias.data();
        kernels::gemm_packed(m, a.data(), k, packed->view(), c.data(), n, epi, &pool);
        kernels::gemm_reference(m, n, k, a.data(), k, b.data(), n, 1, want.data(), n, epi);
        for (size_t i = 0; i < m * n; ++i) mismatches += c[i] != want[i];
      }
    }
  }
  float x[3] = {-1, 0.5f, 2}, y[3];
  kernels::vgelu_kernel(cpu::active_isa())(3, x, y);
  std::printf("gemm mismatches: %d; gelu(-1, 0.5, 2) = %.6f %.6f %.6f\n", mismatches, y[0], y[1],
              y[2]);
#if !defined(__x86_64__)
  if (best != cpu::Isa::kGeneric) return 3;
#endif
  return mismatches == 0 ? 0 : 1;
}
