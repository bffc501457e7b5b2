// Shared by the kernel tests: which ISA paths to run, and error bounds derived from the math.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <ostream>
#include <string>

#include "cpu/cpu_features.h"

namespace ratel::cpu {
// gtest prints parameters with this (found by ADL): test names then say "avx2", not bytes.
inline void PrintTo(Isa isa, std::ostream* os) { *os << isa_name(isa); }
}  // namespace ratel::cpu

namespace ratel::testing {

#if defined(__riscv)
// riscv64: the portable path and RVV 1.0 (skipped where the detection says no, e.g. the C920).
inline constexpr cpu::Isa kAllIsas[] = {cpu::Isa::kGeneric, cpu::Isa::kRvv};
#else
inline constexpr cpu::Isa kAllIsas[] = {cpu::Isa::kGeneric, cpu::Isa::kAvx2, cpu::Isa::kAvx512};
#endif

inline std::string isa_param_name(const ::testing::TestParamInfo<cpu::Isa>& info) {
  return std::string(cpu::isa_name(info.param));
}

// Skips the current test when `isa` cannot run here: the CPU lacks it, or RATEL_ISA asks for a
// lower level (that is how a run covers the paths of a smaller CPU).
#define RATEL_SKIP_IF_ISA_UNAVAILABLE(isa)                                                       \
  do {                                                                                           \
    if ((isa) > ::ratel::cpu::best_isa(::ratel::cpu::cpu_features())) {                          \
      GTEST_SKIP() << "this CPU lacks " << ::ratel::cpu::isa_name(isa) << " (best: "             \
                   << ::ratel::cpu::isa_name(::ratel::cpu::best_isa(::ratel::cpu::cpu_features())) \
                   << ")";                                                                       \
    }                                                                                            \
    if ((isa) > ::ratel::cpu::active_isa()) {                                                    \
      GTEST_SKIP() << "RATEL_ISA limits this run to " << ::ratel::cpu::isa_name(::ratel::cpu::active_isa()); \
    }                                                                                            \
  } while (0)

inline constexpr double kUnitRoundoff = std::numeric_limits<float>::epsilon() / 2;  // 2^-24

// gamma_n = n u / (1 - n u): the classic bound on the relative error of n rounded operations
// (Higham, Accuracy and Stability of Numerical Algorithms, 3.1).
inline double gamma(double n) { return n * kUnitRoundoff / (1 - n * kUnitRoundoff); }

// Largest |d/dx GELU(x)| (at x ~ 1.4): an error in GELU's input grows at most this much.
inline constexpr double kGeluMaxSlope = 1.13;
// Bound on |erf_approx - erf| on every path (math/erf_approx.h), asserted by math_test.
inline constexpr double kErfBound = 5e-7;

// Bound on |gelu_approx(x) - gelu(x)| in float: 0.5|x| times the erf error, plus the rounding
// of x / sqrt 2 passed through erf's slope (<= 1.13), the final multiply-add, and one
// denormal step (relative bounds do not hold below FLT_MIN).
inline double gelu_error_bound(double x, double gelu_x) {
  const double ax = std::fabs(x);
  return 0.5 * ax * (kErfBound + 1.13 * 2 * kUnitRoundoff * ax) +
         2 * kUnitRoundoff * std::fabs(gelu_x) + std::numeric_limits<float>::denorm_min();
}

}  // namespace ratel::testing
