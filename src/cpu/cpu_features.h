// CPU feature detection and the instruction-set level the fast kernels run at.
//
// Detection runs once (cpuid + xgetbv on x86-64; on riscv64 the RVV 1.0 detection of
// riscv_vector.h, which does not trust AT_HWCAP; nothing elsewhere, which gets the generic path). An instruction set counts as usable only if the CPU has it AND the OS saves its
// register state on context switches (XCR0): a kernel that touches ZMM registers on an OS that
// does not save them would corrupt other processes' state or fault.
//
// The kernels pick their implementation from `active_isa()`: the best level this CPU supports,
// lowered by the environment variable RATEL_ISA=generic|avx2|avx512|rvv (read once). Tests use the
// variable, or pass an Isa explicitly, to cover every path on one machine; asking for a level
// the CPU lacks never raises it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ratel::cpu {

struct CpuFeatures {
  std::string model_name;  // cpuid brand string, e.g. "AMD EPYC 9654 96-Core Processor"; may be empty
  size_t l1d_cache_bytes = 0;  // per core, from the OS (sysconf); 0 if unknown
  size_t l2_cache_bytes = 0;   // per core; the GEMM sizes its B block from it
  bool os_saves_ymm = false;  // XCR0 has SSE + AVX state
  bool os_saves_zmm = false;  // XCR0 also has opmask + ZMM state
  // Each flag below is already ANDed with the OS state it needs.
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512dq = false;
  bool avx512vl = false;
  bool avx512_vnni = false;
  bool avx512_bf16 = false;
  bool avx_vnni = false;  // VEX-encoded VNNI (Alder Lake, Zen 5)
  // riscv64: RVV 1.0 usable (not just "V in AT_HWCAP": see riscv_vector.h), its VLEN, and the
  // one-line reason for the decision either way (empty on other architectures).
  bool rvv = false;
  uint32_t rvv_vlen_bits = 0;
  std::string rvv_reason;
};

// Raw cpuid/xgetbv words the decoder reads; separated from the instruction so that tests can feed
// synthetic CPUs (AVX-512 present but ZMM state disabled by the OS, and so on).
struct CpuidWords {
  uint32_t max_leaf = 0;
  uint32_t leaf1_ecx = 0;
  uint32_t leaf7_ebx = 0;
  uint32_t leaf7_ecx = 0;
  uint32_t leaf7_edx = 0;
  uint32_t leaf7_1_eax = 0;  // cpuid(7, 1).eax
  uint64_t xcr0 = 0;         // valid only if leaf1_ecx has OSXSAVE
};

// Pure decoding of the words above (no model name).
CpuFeatures decode_cpu_features(const CpuidWords& words);

// The features of the CPU we run on, detected on first call; thread-safe.
const CpuFeatures& cpu_features();

// Instruction-set levels with a kernel family each, ordered: a higher level implies the lower.
enum class Isa : uint8_t {
  kGeneric = 0,  // portable C++ (baseline x86-64 SSE2 by auto-vectorization, or rv64gc)
  kAvx2 = 1,     // AVX2 + FMA (Haswell, Zen 1-3)
  kAvx512 = 2,   // AVX-512 F/BW/DQ/VL (Skylake-SP, Ice Lake, Zen 4)
  kRvv = 3,      // riscv64: RVV 1.0, any VLEN >= 128 (C908, C920v2, SpacemiT K1; NOT the
                 // C906/C920's 0.7.1 unit); kernels are vector-length agnostic
};

// The order is per architecture: generic < avx2 < avx512 on x86-64, generic < rvv on riscv64,
// and an x86 level never covers a RISC-V one or the reverse. The comparison operators below say
// exactly that (`a <= b`: a CPU whose best level is b can run a's kernels), so the existing
// checks `isa > best_isa(...)` ("cannot run") and `isa <= best` ("can run") stay right on both
// architectures; on the x86 levels they are the plain numeric order. Not a total order: do not
// sort Isa values.
constexpr int isa_family(Isa isa) { return isa == Isa::kRvv ? 2 : (isa == Isa::kGeneric ? 0 : 1); }
constexpr bool isa_covers(Isa best, Isa isa) {
  return isa == Isa::kGeneric || isa == best ||
         (isa_family(isa) == isa_family(best) &&
          static_cast<uint8_t>(isa) <= static_cast<uint8_t>(best));
}
constexpr bool operator<=(Isa a, Isa b) { return isa_covers(b, a); }
constexpr bool operator>(Isa a, Isa b) { return !isa_covers(b, a); }
constexpr bool operator>=(Isa a, Isa b) { return isa_covers(a, b); }
constexpr bool operator<(Isa a, Isa b) { return !isa_covers(a, b); }

std::string_view isa_name(Isa isa);
std::optional<Isa> parse_isa(std::string_view name);

// Best level the features support.
Isa best_isa(const CpuFeatures& features);
// best_isa lowered to `requested` if that is lower (generic if `requested` is of the other
// architecture's family).
Isa clamp_isa(Isa best, std::optional<Isa> requested);
// What the kernels use by default: best_isa(cpu_features()) lowered by RATEL_ISA. Computed once.
// An unparseable RATEL_ISA is ignored (the library never exits); `isa_override_error()` says so.
Isa active_isa();
// Non-empty if RATEL_ISA was set to something unknown; the CLI prints it.
const std::string& isa_override_error();

}  // namespace ratel::cpu
