// RISC-V vector detection that does not trust AT_HWCAP (docs/RISCV.md explains the design).
//
// The problem: T-Head's C906/C910/C920 have a vector unit of the 0.7.1 draft (XTheadVector), and
// their vendor kernels (TH1520's 5.10) set the AT_HWCAP 'V' bit and print `isa: rv64imafdcvsu` for
// it. RVV 1.0 code on those cores executes garbage or traps (SIGILL), so a kernel table keyed on
// the hwcap bit alone (as some libraries do) crashes on the LicheePi 4A. T-Head's qemu does the
// same (`-cpu c920` reports V in AT_HWCAP).
//
// What Ratel does, in order (each step can only say "no"; RVV 1.0 kernels run only when every
// step agrees):
//   1. the board named at build time (RATEL_RISCV_BOARD): c906 / c920 never run RVV 1.0 code (the
//      build leaves the RVV files out; nothing is probed); c908 / c920v2 expect RVV 1.0;
//   2. the kernel's answers, without executing a vector instruction: riscv_hwprobe (Linux >= 6.4:
//      IMA_EXT_0 has V only for RVV 1.0; VENDOR_EXT_THEAD_0 has XTheadVector), else AT_HWCAP's V
//      bit; `/proc/cpuinfo`'s isa line naming `xtheadvector` is a veto;
//   3. a probe in a child process (fork; a trap or a crash kills only the child): read vcsr (a
//      CSR that RVV 1.0 has and the 0.7.1 silicon lacks), execute `vsetvli t0, zero, e32, m1, ta,
//      ma` and check that vtype is exactly that setting (vill clear: 0.7.1 reads the ta/ma bits as
//      reserved, and its SEW field sits elsewhere) and vl == VLEN/32 with VLEN = 8 * vlenb a
//      power of two >= 128. T-Head's qemu -cpu c920 lets vcsr through but fails the vsetvli
//      check (vl = 0, vill set); upstream qemu with v=false traps on both.
// RATEL_ISA=generic still forces the scalar path at run time.
//
// The decision itself is a pure function of the values read (RiscvVectorInputs), so tests feed
// it every case (a TH1520 vendor kernel, a mainline kernel on a C920, a C908, a K1, no V...) on
// any host; only riscv64 builds read the real values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ratel::cpu {

// The board a riscv64 build is made for (CMake -DRATEL_RISCV_BOARD=..., HHB's --board names).
enum class RiscvBoard : uint8_t {
  kAny = 0,   // no board named: decide from the OS and the probe alone
  kC906,      // XTheadVector 0.7.1 (VLEN 128): never RVV 1.0
  kC920,      // TH1520 / LicheePi 4A, XTheadVector 0.7.1 (VLEN 128): never RVV 1.0
  kC908,      // RVV 1.0 (VLEN 128)
  kC920v2,    // RVV 1.0 (VLEN 128)
};
std::string_view riscv_board_name(RiscvBoard board);
// "any" | "c906" | "c920" | "c908" | "c920v2" -> true and *board set; false if unknown.
bool parse_riscv_board(std::string_view name, RiscvBoard* board);
// The board this library was built for (RATEL_RISCV_BOARD_* compile definition; kAny if none).
RiscvBoard build_riscv_board();
// The board a deployed program was generated for (`ratel -D --board c920`: model.c names it and
// ratel_ctx_open passes it here), for libraries built for kAny. It counts as step 1 exactly as a
// build-time board does, so a runtime generated for c906 / c920 never probes and never runs RVV
// 1.0 code, even from the one archive every riscv64 board links. Must come before the first
// cpu_features() call (the decision is made once per process): returns false, changing nothing,
// if that decision was already made with another board. A build-time board wins over the hint.
bool set_riscv_board_hint(RiscvBoard board);
// build_riscv_board() unless it is kAny, else the hint (kAny if none).
RiscvBoard effective_riscv_board();
// False when the build left the RVV 1.0 kernels out (non-riscv64 hosts, boards c906 / c920, or
// a compiler without RVV intrinsics): RATEL_RVV_KERNELS compile definition.
bool rvv_kernels_built();

enum class VectorProbe : uint8_t {
  kNotRun = 0,  // earlier evidence already said no (or not riscv64)
  kTrapped,     // the child died on a signal (SIGILL on vcsr or vsetvli: no RVV 1.0)
  kRejected,    // it ran, but vtype / vl were not what RVV 1.0 gives (0.7.1: vill set, vl 0)
  kPassed,      // vcsr readable, vsetvli e32,m1,ta,ma took effect with vl = VLEN / 32
  kFailed,      // the probe could not be run (fork or waitpid failed): treated as no
};

// Everything the decision reads. Fields the OS did not provide stay at their defaults.
struct RiscvVectorInputs {
  RiscvBoard board = RiscvBoard::kAny;
  bool kernels_built = false;         // rvv_kernels_built() of the build
  uint64_t hwcap = 0;                 // getauxval(AT_HWCAP); bit ('V' - 'A') = 21 is V
  bool hwprobe_answered = false;      // riscv_hwprobe(2) exists (Linux >= 6.4)
  uint64_t hwprobe_ima_ext_0 = 0;     // RISCV_HWPROBE_KEY_IMA_EXT_0 (bit 2: V, RVV 1.0 only)
  bool hwprobe_thead_answered = false;  // the kernel knows RISCV_HWPROBE_KEY_VENDOR_EXT_THEAD_0
  uint64_t hwprobe_thead_ext_0 = 0;   // bit 0: XTheadVector
  uint64_t mvendorid = 0;             // from riscv_hwprobe, else /proc/cpuinfo; 0 = unknown
  std::string cpuinfo_isa;            // first `isa` line of /proc/cpuinfo ("" if none)
  VectorProbe probe = VectorProbe::kNotRun;
  uint64_t probe_vtype = 0;           // vtype read back after the vsetvli
  uint64_t probe_vl = 0;              // vl it returned
  uint64_t probe_vlenb = 0;           // vlenb CSR
};

inline constexpr uint64_t kHwcapV = uint64_t{1} << ('V' - 'A');
inline constexpr uint64_t kHwprobeImaV = uint64_t{1} << 2;
inline constexpr uint64_t kHwprobeTheadVector = uint64_t{1} << 0;
inline constexpr uint64_t kTheadMvendorid = 0x5b7;
// vtype for e32, m1, tail agnostic, mask agnostic in RVV 1.0's encoding (vma | vta | vsew=32).
inline constexpr uint64_t kProbeVtype = 0xd0;
// The RVV kernels are written for VLEN in [128, 4096] (NR of the GEMM tile grows with it).
inline constexpr uint64_t kMinVlenBits = 128;
inline constexpr uint64_t kMaxVlenBits = 4096;

struct RiscvVectorDecision {
  bool rvv = false;          // RVV 1.0 kernels may run
  uint32_t vlen_bits = 0;    // VLEN when rvv
  bool run_probe = false;    // (step 2 outcome) the OS evidence asks for the probe
  std::string reason;        // one line: why, for logs and `ratel` diagnostics
};

// Step 1 + 2: should the probe run at all? (Never when the board or the OS already says no.)
RiscvVectorDecision riscv_vector_precheck(const RiscvVectorInputs& in);
// Steps 1-3: the final decision, from inputs whose probe fields are filled if the precheck asked.
RiscvVectorDecision decide_riscv_vector(const RiscvVectorInputs& in);

// True if an ISA string from /proc/cpuinfo names the 0.7.1 unit (`xtheadvector`, any case,
// as one of its `_`-separated extensions).
bool isa_string_has_xtheadvector(std::string_view isa);

// The real inputs of this process (riscv64 only; elsewhere all defaults), the probe included
// when the precheck asks for it. Runs a child process: call once (cpu_features() does).
RiscvVectorInputs read_riscv_vector_inputs();

}  // namespace ratel::cpu
