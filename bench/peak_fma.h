// Peak FMA throughput loops, measured in the benchmark binary so that GEMM results can be given
// as a fraction of what this machine (at its current clock, under its current load) can do.
#pragma once

#include <cstdint>

namespace ratel::bench {

// Each runs `iterations` x chains independent vector FMAs (more chains than FMA latency x
// throughput on any current core, so the loop is throughput-bound, and few enough to stay in
// registers: 12 of the 16 ymm, 24 of the 32 zmm) and returns a value that depends on all of
// them so the compiler cannot drop the work. Flops per iteration: chains * 2 * lanes.
inline constexpr int kPeakChainsAvx2 = 12;
inline constexpr int kPeakChainsAvx512 = 24;
float peak_fma_avx2(uint64_t iterations);
float peak_fma_avx512(uint64_t iterations);

}  // namespace ratel::bench
