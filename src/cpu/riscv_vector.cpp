// RISC-V vector detection (see riscv_vector.h and docs/RISCV.md). The decision is portable code;
// reading the real inputs and the probe exist only in riscv64 builds.
#include "cpu/riscv_vector.h"

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#if defined(__riscv) && defined(__linux__)
#include <csignal>
#include <cstring>

#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#define RATEL_CPU_RISCV_LINUX 1
#endif

namespace ratel::cpu {
namespace {

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%#llx", static_cast<unsigned long long>(v));
  return buf;
}

bool board_forbids_rvv(RiscvBoard b) { return b == RiscvBoard::kC906 || b == RiscvBoard::kC920; }
bool board_expects_rvv(RiscvBoard b) { return b == RiscvBoard::kC908 || b == RiscvBoard::kC920v2; }

RiscvVectorDecision no(std::string reason) {
  RiscvVectorDecision d;
  d.reason = std::move(reason);
  return d;
}

// A decision that says no on a board that expected RVV 1.0 says so (a misconfigured kernel, or
// a binary built for the wrong board), but still runs the scalar path rather than crash.
RiscvVectorDecision no_on_board(const RiscvVectorInputs& in, std::string reason) {
  if (board_expects_rvv(in.board)) {
    reason = "board " + std::string(riscv_board_name(in.board)) +
             " expects RVV 1.0, but " + reason + "; running the rv64gc kernels";
  }
  return no(std::move(reason));
}

}  // namespace

std::string_view riscv_board_name(RiscvBoard board) {
  switch (board) {
    case RiscvBoard::kAny: return "any";
    case RiscvBoard::kC906: return "c906";
    case RiscvBoard::kC920: return "c920";
    case RiscvBoard::kC908: return "c908";
    case RiscvBoard::kC920v2: return "c920v2";
  }
  return "any";
}

bool parse_riscv_board(std::string_view name, RiscvBoard* board) {
  for (RiscvBoard b : {RiscvBoard::kAny, RiscvBoard::kC906, RiscvBoard::kC920, RiscvBoard::kC908,
                       RiscvBoard::kC920v2}) {
    if (name == riscv_board_name(b)) {
      *board = b;
      return true;
    }
  }
  return false;
}

RiscvBoard build_riscv_board() {
#if defined(RATEL_RISCV_BOARD_C906)
  return RiscvBoard::kC906;
#elif defined(RATEL_RISCV_BOARD_C920)
  return RiscvBoard::kC920;
#elif defined(RATEL_RISCV_BOARD_C908)
  return RiscvBoard::kC908;
#elif defined(RATEL_RISCV_BOARD_C920V2)
  return RiscvBoard::kC920v2;
#else
  return RiscvBoard::kAny;
#endif
}

namespace {
std::atomic<RiscvBoard> g_board_hint{RiscvBoard::kAny};
std::atomic<bool> g_board_decided{false};  // read_riscv_vector_inputs() has read the board
}  // namespace

bool set_riscv_board_hint(RiscvBoard board) {
  if (build_riscv_board() != RiscvBoard::kAny) return true;  // the build's board decides
  if (g_board_decided.load()) return g_board_hint.load() == board;
  g_board_hint.store(board);
  return true;
}

RiscvBoard effective_riscv_board() {
  const RiscvBoard built = build_riscv_board();
  return built != RiscvBoard::kAny ? built : g_board_hint.load();
}

bool rvv_kernels_built() {
#if defined(RATEL_RVV_KERNELS) && defined(__riscv)
  return true;
#else
  return false;
#endif
}

bool isa_string_has_xtheadvector(std::string_view isa) {
  std::string lower;
  for (char c : isa) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t begin = 0;
  while (begin <= lower.size()) {
    size_t end = lower.find_first_of("_ \t", begin);
    if (end == std::string::npos) end = lower.size();
    if (std::string_view(lower).substr(begin, end - begin) == "xtheadvector") return true;
    begin = end + 1;
  }
  return false;
}

RiscvVectorDecision riscv_vector_precheck(const RiscvVectorInputs& in) {
  if (board_forbids_rvv(in.board)) {
    return no("board " + std::string(riscv_board_name(in.board)) +
              ": its vector unit is XTheadVector (RVV 0.7.1), which RVV 1.0 code would crash on; "
              "the RVV 1.0 kernels are never used (nor built, in a board build) and nothing is probed");
  }
  if (!in.kernels_built) return no_on_board(in, "this build has no RVV 1.0 kernels");
  const bool hwprobe_v = in.hwprobe_answered && (in.hwprobe_ima_ext_0 & kHwprobeImaV) != 0;
  if (!hwprobe_v && in.hwprobe_thead_answered && (in.hwprobe_thead_ext_0 & kHwprobeTheadVector)) {
    return no_on_board(in, "riscv_hwprobe reports XTheadVector (RVV 0.7.1) and no V");
  }
  if (!hwprobe_v && isa_string_has_xtheadvector(in.cpuinfo_isa)) {
    return no_on_board(in, "/proc/cpuinfo's isa '" + in.cpuinfo_isa +
                               "' names xtheadvector (RVV 0.7.1)");
  }
  RiscvVectorDecision d;
  if (in.hwprobe_answered) {
    if (!hwprobe_v) return no_on_board(in, "riscv_hwprobe reports no V");
    d.reason = "riscv_hwprobe reports V";
  } else {
    if ((in.hwcap & kHwcapV) == 0) return no_on_board(in, "AT_HWCAP has no V");
    d.reason = "AT_HWCAP has V (no riscv_hwprobe)";
    if (in.mvendorid == kTheadMvendorid) d.reason += " on a T-Head CPU";
  }
  d.run_probe = true;
  return d;
}

RiscvVectorDecision decide_riscv_vector(const RiscvVectorInputs& in) {
  RiscvVectorDecision d = riscv_vector_precheck(in);
  if (!d.run_probe) return d;
  switch (in.probe) {
    case VectorProbe::kNotRun: return no_on_board(in, d.reason + ", but the probe did not run");
    case VectorProbe::kFailed:
      return no_on_board(in, d.reason + ", but the probe could not run (fork/waitpid failed)");
    case VectorProbe::kTrapped:
      return no_on_board(in, d.reason + ", but reading vcsr or vsetvli trapped (not RVV 1.0)");
    case VectorProbe::kRejected:
    case VectorProbe::kPassed: break;
  }
  const uint64_t vlen = in.probe_vlenb * 8;
  const bool vlen_ok = vlen >= kMinVlenBits && vlen <= kMaxVlenBits && (vlen & (vlen - 1)) == 0;
  if (in.probe != VectorProbe::kPassed || in.probe_vtype != kProbeVtype || !vlen_ok ||
      in.probe_vl != vlen / 32) {
    return no_on_board(in, d.reason + ", but vsetvli e32,m1,ta,ma gave vtype=" +
                               hex(in.probe_vtype) + " vl=" + std::to_string(in.probe_vl) +
                               " with vlenb=" + std::to_string(in.probe_vlenb) +
                               " (RVV 1.0 gives vtype=0xd0, vl=VLEN/32; 0.7.1 sets vill)");
  }
  d.rvv = true;
  d.run_probe = true;
  d.vlen_bits = static_cast<uint32_t>(vlen);
  d.reason += "; probe: vcsr readable, vsetvli e32,m1,ta,ma -> vl=" + std::to_string(in.probe_vl) +
              ", VLEN=" + std::to_string(vlen);
  if (in.board != RiscvBoard::kAny) {
    d.reason += " (board " + std::string(riscv_board_name(in.board)) + ")";
  }
  return d;
}

#if RATEL_CPU_RISCV_LINUX
namespace {

constexpr long kSysRiscvHwprobe = 258;  // __NR_riscv_hwprobe (Linux >= 6.4)
constexpr int64_t kHwprobeKeyMvendorid = 0;
constexpr int64_t kHwprobeKeyImaExt0 = 4;
constexpr int64_t kHwprobeKeyVendorExtThead0 = 11;

struct HwprobePair {
  int64_t key;
  uint64_t value;
};

void read_hwprobe(RiscvVectorInputs* in) {
  HwprobePair pairs[3] = {{kHwprobeKeyMvendorid, 0}, {kHwprobeKeyImaExt0, 0},
                          {kHwprobeKeyVendorExtThead0, 0}};
  // cpusetsize 0, cpus null: the answer holds for every online hart.
  if (syscall(kSysRiscvHwprobe, pairs, 3, 0, nullptr, 0) != 0) return;
  in->hwprobe_answered = true;
  if (pairs[0].key == kHwprobeKeyMvendorid) in->mvendorid = pairs[0].value;
  if (pairs[1].key == kHwprobeKeyImaExt0) in->hwprobe_ima_ext_0 = pairs[1].value;
  // A kernel that does not know a key sets it to -1.
  if (pairs[2].key == kHwprobeKeyVendorExtThead0) {
    in->hwprobe_thead_answered = true;
    in->hwprobe_thead_ext_0 = pairs[2].value;
  }
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// The first hart's `isa` and `mvendorid` lines (qemu-user shows the host's file: neither).
void read_cpuinfo(RiscvVectorInputs* in) {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = trim(line.substr(0, colon));
    const std::string value = trim(line.substr(colon + 1));
    if (key == "isa" && in->cpuinfo_isa.empty()) in->cpuinfo_isa = value;
    if (key == "mvendorid" && in->mvendorid == 0) {
      in->mvendorid = std::strtoull(value.c_str(), nullptr, 0);
    }
  }
}

struct ProbeResult {
  uint64_t vtype, vl, vlenb, done;
};

// Runs in the child only: a trap here kills the child, not the library's process. Only
// async-signal-safe calls (signal, _exit) after fork.
[[noreturn]] void probe_child(volatile ProbeResult* out) {
  // The parent's handlers (a crash reporter, a sanitizer) must not catch the expected trap.
  std::signal(SIGILL, SIG_DFL);
  std::signal(SIGSEGV, SIG_DFL);
  std::signal(SIGBUS, SIG_DFL);
  uint64_t vcsr = 0, vl = 0, vtype = 0, vlenb = 0;
  // vcsr (CSR 0x00f) exists in RVV 1.0, not in the 0.7.1 silicon.
  __asm__ volatile("csrr %0, 0x00f" : "=r"(vcsr));
  // vsetvli %0, zero, e32, m1, ta, ma -- encoded with .insn so that this file stays rv64gc.
  __asm__ volatile(".insn i 0x57, 7, %0, x0, 0xd0" : "=r"(vl));
  __asm__ volatile("csrr %0, 0xc21" : "=r"(vtype));  // vtype
  __asm__ volatile("csrr %0, 0xc22" : "=r"(vlenb));  // vlenb
  (void)vcsr;
  out->vtype = vtype;
  out->vl = vl;
  out->vlenb = vlenb;
  out->done = 1;
  _exit(0);
}

void run_probe(RiscvVectorInputs* in) {
  void* page = mmap(nullptr, sizeof(ProbeResult), PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) {
    in->probe = VectorProbe::kFailed;
    return;
  }
  auto* result = static_cast<volatile ProbeResult*>(page);
  result->done = 0;
  const pid_t pid = fork();
  if (pid == 0) probe_child(result);
  if (pid < 0) {
    in->probe = VectorProbe::kFailed;
    munmap(page, sizeof(ProbeResult));
    return;
  }
  int status = 0;
  pid_t waited;
  do {
    waited = waitpid(pid, &status, 0);
  } while (waited < 0 && errno == EINTR);
  if (waited != pid) {
    in->probe = VectorProbe::kFailed;  // e.g. SIGCHLD ignored by the application
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && result->done == 1) {
    in->probe_vtype = result->vtype;
    in->probe_vl = result->vl;
    in->probe_vlenb = result->vlenb;
    in->probe = (result->vtype == kProbeVtype) ? VectorProbe::kPassed : VectorProbe::kRejected;
  } else {
    in->probe = VectorProbe::kTrapped;
  }
  munmap(page, sizeof(ProbeResult));
}

}  // namespace

RiscvVectorInputs read_riscv_vector_inputs() {
  RiscvVectorInputs in;
  g_board_decided.store(true);
  in.board = effective_riscv_board();
  in.kernels_built = rvv_kernels_built();
  if (board_forbids_rvv(in.board)) return in;  // not even the OS is asked: nothing can change it
  in.hwcap = getauxval(AT_HWCAP);
  read_hwprobe(&in);
  read_cpuinfo(&in);
  if (riscv_vector_precheck(in).run_probe) run_probe(&in);
  return in;
}
#else
RiscvVectorInputs read_riscv_vector_inputs() {
  RiscvVectorInputs in;
  g_board_decided.store(true);
  in.board = effective_riscv_board();
  in.kernels_built = rvv_kernels_built();
  return in;
}
#endif

}  // namespace ratel::cpu
