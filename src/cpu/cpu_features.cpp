#include "cpu/cpu_features.h"

#include "cpu/riscv_vector.h"

#include <cstdlib>
#include <cstring>
#include <fstream>

#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define RATEL_CPU_X86 1
#endif

namespace ratel::cpu {
namespace {

constexpr bool bit(uint64_t word, int index) { return ((word >> index) & 1u) != 0; }

// XCR0 state components (Intel SDM vol. 1, 13.1).
constexpr uint64_t kXcr0Sse = 1u << 1;
constexpr uint64_t kXcr0Avx = 1u << 2;
constexpr uint64_t kXcr0Opmask = 1u << 5;
constexpr uint64_t kXcr0ZmmHi256 = 1u << 6;
constexpr uint64_t kXcr0Hi16Zmm = 1u << 7;

std::string trim(std::string s) {
  const char* ws = " \t\n\r";
  size_t begin = s.find_first_not_of(ws);
  if (begin == std::string::npos) return {};
  size_t end = s.find_last_not_of(ws);
  return s.substr(begin, end - begin + 1);
}

#if RATEL_CPU_X86
CpuidWords read_cpuid_words() {
  CpuidWords w;
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return w;
  w.max_leaf = eax;
  __cpuid(1, eax, ebx, ecx, edx);
  w.leaf1_ecx = ecx;
  if (w.max_leaf >= 7) {
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    w.leaf7_ebx = ebx;
    w.leaf7_ecx = ecx;
    w.leaf7_edx = edx;
    const unsigned max_subleaf = eax;
    if (max_subleaf >= 1) {
      __cpuid_count(7, 1, eax, ebx, ecx, edx);
      w.leaf7_1_eax = eax;
    }
  }
  if (bit(w.leaf1_ecx, 27)) {  // OSXSAVE: xgetbv is allowed
    uint32_t lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    w.xcr0 = (uint64_t{hi} << 32) | lo;
  }
  return w;
}

std::string read_model_name() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  __cpuid(0x80000000u, eax, ebx, ecx, edx);
  if (eax < 0x80000004u) return {};
  char brand[49] = {};
  for (unsigned i = 0; i < 3; ++i) {
    unsigned regs[4];
    __cpuid(0x80000002u + i, regs[0], regs[1], regs[2], regs[3]);
    std::memcpy(brand + 16 * i, regs, sizeof(regs));
  }
  return trim(brand);
}
#else
// No cpuid: the kernels use the generic path. The model name is informational only.
CpuidWords read_cpuid_words() { return {}; }

std::string read_model_name() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    for (const char* key : {"model name", "uarch", "isa"}) {
      if (line.rfind(key, 0) == 0) {
        size_t colon = line.find(':');
        if (colon != std::string::npos) return trim(line.substr(colon + 1));
      }
    }
  }
  return {};
}
#endif

// Cache sizes from glibc's sysconf extension (which reads cpuid or sysfs); 0 where unavailable.
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE)
constexpr int kL1dCacheQuery = _SC_LEVEL1_DCACHE_SIZE;
constexpr int kL2CacheQuery = _SC_LEVEL2_CACHE_SIZE;
#else
constexpr int kL1dCacheQuery = -1;
constexpr int kL2CacheQuery = -1;
#endif

size_t cache_bytes(int query) {
  if (query < 0) return 0;
  const long bytes = sysconf(query);
  return bytes > 0 ? static_cast<size_t>(bytes) : 0;
}

struct IsaChoice {
  Isa isa = Isa::kGeneric;
  std::string error;
};

IsaChoice compute_active_isa() {
  IsaChoice choice;
  std::optional<Isa> requested;
  if (const char* env = std::getenv("RATEL_ISA"); env != nullptr && *env != '\0') {
    requested = parse_isa(env);
    if (!requested) {
      choice.error = std::string("RATEL_ISA=") + env +
                     " is not one of generic, avx2, avx512, rvv; using the CPU's best";
    }
  }
  choice.isa = clamp_isa(best_isa(cpu_features()), requested);
  return choice;
}

const IsaChoice& isa_choice() {
  static const IsaChoice choice = compute_active_isa();
  return choice;
}

}  // namespace

CpuFeatures decode_cpu_features(const CpuidWords& w) {
  CpuFeatures f;
  const bool osxsave = bit(w.leaf1_ecx, 27);
  f.os_saves_ymm = osxsave && (w.xcr0 & (kXcr0Sse | kXcr0Avx)) == (kXcr0Sse | kXcr0Avx);
  constexpr uint64_t kZmmState = kXcr0Sse | kXcr0Avx | kXcr0Opmask | kXcr0ZmmHi256 | kXcr0Hi16Zmm;
  f.os_saves_zmm = osxsave && (w.xcr0 & kZmmState) == kZmmState;

  const bool avx = bit(w.leaf1_ecx, 28) && f.os_saves_ymm;
  f.fma = avx && bit(w.leaf1_ecx, 12);
  f.f16c = avx && bit(w.leaf1_ecx, 29);
  if (w.max_leaf >= 7) {
    f.avx2 = avx && bit(w.leaf7_ebx, 5);
    f.avx_vnni = f.avx2 && bit(w.leaf7_1_eax, 4);
    const bool zmm = f.os_saves_zmm;
    f.avx512f = zmm && bit(w.leaf7_ebx, 16);
    f.avx512dq = f.avx512f && bit(w.leaf7_ebx, 17);
    f.avx512bw = f.avx512f && bit(w.leaf7_ebx, 30);
    f.avx512vl = f.avx512f && bit(w.leaf7_ebx, 31);
    f.avx512_vnni = f.avx512f && bit(w.leaf7_ecx, 11);
    f.avx512_bf16 = f.avx512f && bit(w.leaf7_1_eax, 5);
  }
  return f;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = [] {
    CpuFeatures f = decode_cpu_features(read_cpuid_words());
    f.model_name = read_model_name();
    f.l1d_cache_bytes = cache_bytes(kL1dCacheQuery);
    f.l2_cache_bytes = cache_bytes(kL2CacheQuery);
#if defined(__riscv)
    const RiscvVectorDecision rvv = decide_riscv_vector(read_riscv_vector_inputs());
    f.rvv = rvv.rvv;
    f.rvv_vlen_bits = rvv.vlen_bits;
    f.rvv_reason = rvv.reason;
#endif
    return f;
  }();
  return features;
}

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::kGeneric: return "generic";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
    case Isa::kRvv: return "rvv";
  }
  return "unknown";
}

std::optional<Isa> parse_isa(std::string_view name) {
  for (Isa isa : {Isa::kGeneric, Isa::kAvx2, Isa::kAvx512, Isa::kRvv}) {
    if (name == isa_name(isa)) return isa;
  }
  return std::nullopt;
}

Isa best_isa(const CpuFeatures& f) {
  if (f.rvv) return Isa::kRvv;  // only ever set by riscv64 builds
  // The AVX-512 kernels also use FMA and AVX2 instructions (for the 256-bit tails).
  if (f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl && f.avx2 && f.fma) return Isa::kAvx512;
  if (f.avx2 && f.fma) return Isa::kAvx2;
  return Isa::kGeneric;
}

Isa clamp_isa(Isa best, std::optional<Isa> requested) {
  if (!requested) return best;
  if (isa_covers(best, *requested)) return *requested;  // lower or equal: take it
  if (isa_covers(*requested, best)) return best;         // higher: never raised
  return Isa::kGeneric;  // the other architecture's level: the common floor
}

Isa active_isa() { return isa_choice().isa; }

const std::string& isa_override_error() { return isa_choice().error; }

}  // namespace ratel::cpu
