// riscv64 smoke for the quantized / half-precision GEMMs (qgemm.h, hgemm.h): the generic int8
// path (asymmetric weights), bf16 and fp16 paths against their references, bit for bit.
// Built and run by run_rv_qgemm_smoke.sh (not part of ctest).
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "cpu/cpu_features.h"
#include "kernels/gemm.h"
#include "kernels/hgemm.h"
#include "kernels/math/half.h"
#include "kernels/qgemm.h"

using namespace ratel;
using namespace ratel::kernels;

int main() {
  std::printf("active isa: %s\n", std::string(cpu::isa_name(cpu::active_isa())).c_str());
  std::mt19937 rng(1);
  int failures = 0;
  for (size_t m : {1, 5, 33}) for (size_t n : {1, 9, 40}) for (size_t k : {1, 7, 130, 1100}) {
    std::vector<uint8_t> a(m * k);
    std::vector<int8_t> w(k * n);
    std::vector<int32_t> zps(n);
    std::vector<float> sc(n, 0.5f);
    for (auto& x : a) x = static_cast<uint8_t>(rng());
    for (auto& x : w) x = static_cast<int8_t>(rng());
    for (auto& z : zps) z = static_cast<int8_t>(rng());
    QGemmWeights wt; wt.type = QType::kS8; wt.data = w.data(); wt.k = k; wt.n = n; wt.ldb = n;
    wt.scales = sc.data(); wt.scale_count = n; wt.zero_points = zps.data(); wt.zero_point_count = n;
    auto p = PackedQGemmB::pack(wt);
    if (!p.ok()) { std::printf("pack failed\n"); return 1; }
    QGemmA qa; qa.type = QType::kU8; qa.data = a.data(); qa.stride = k; qa.zero_point = 77;
    std::vector<int32_t> c(m * n), r(m * n);
    qgemm_packed(m, qa, p->view(), c.data(), n);
    qgemm_reference(m, qa, wt, r.data(), n, {});
    failures += c != r;
    // bf16 and fp16
    std::vector<float> af(m * k), bf(k * n), cf(m * n), rf(m * n);
    std::uniform_real_distribution<float> d(-1, 1);
    for (auto& x : af) x = d(rng);
    for (auto& x : bf) x = d(rng);
    auto pb = PackedHGemmB::pack_bf16(bf.data(), k, n, n);
    hgemm_packed(m, af.data(), k, pb->view(), cf.data(), n);
    bf16_gemm_reference(m, n, k, af.data(), k, bf.data(), n, nullptr, rf.data(), n, {});
    failures += std::memcmp(cf.data(), rf.data(), cf.size() * 4) != 0;
    auto ph = PackedHGemmB::pack_f16(bf.data(), k, n, n);
    hgemm_packed(m, af.data(), k, ph->view(), cf.data(), n);
    std::vector<float> rounded(k * n);
    for (size_t i = 0; i < rounded.size(); ++i) rounded[i] = math::f16_round(bf[i]);
    auto pf = PackedGemmB::pack(rounded.data(), k, n, n);
    gemm_packed(m, af.data(), k, pf->view(), rf.data(), n);
    failures += std::memcmp(cf.data(), rf.data(), cf.size() * 4) != 0;
  }
  std::printf("%s (%d failures)\n", failures == 0 ? "OK" : "FAILED", failures);
  return failures != 0;
}
