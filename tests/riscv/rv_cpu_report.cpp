// Prints what Ratel detected on this riscv64 CPU and which kernels it picks (scripts/riscv-test.sh
// runs it under each qemu CPU). Not a test.
//
//   ratel_rv_cpu_report                 the detection and the selection
//   ratel_rv_cpu_report --force-rvv     also calls an RVV 1.0 kernel directly, bypassing the
//                                       detection: the negative control showing that on the C920
//                                       RVV 1.0 code does die (SIGILL), so a run that selected
//                                       generic there was not lucky.
#include <cstdio>
#include <cstring>
#include <string>

#include "cpu/cpu_features.h"
#include "cpu/riscv_vector.h"
#include "kernels/gemm.h"
#if defined(RATEL_RVV_KERNELS)
#include "kernels/rvv_kernels.h"
#endif

int main(int argc, char** argv) {
  using namespace ratel;
  const cpu::RiscvVectorInputs in = cpu::read_riscv_vector_inputs();
  const cpu::CpuFeatures& f = cpu::cpu_features();
  std::printf("board (build)     : %s\n", std::string(cpu::riscv_board_name(in.board)).c_str());
  std::printf("RVV kernels built : %s\n", in.kernels_built ? "yes" : "no");
  std::printf("AT_HWCAP          : %#llx (V %s)\n", static_cast<unsigned long long>(in.hwcap),
              (in.hwcap & cpu::kHwcapV) ? "set" : "clear");
  std::printf("riscv_hwprobe     : %s\n", in.hwprobe_answered ? "answered" : "not available");
  std::printf("/proc/cpuinfo isa : %s\n", in.cpuinfo_isa.empty() ? "(none)" : in.cpuinfo_isa.c_str());
  const char* probe[] = {"not run", "trapped", "rejected", "passed", "failed"};
  std::printf("probe             : %s (vtype=%#llx vl=%llu vlenb=%llu)\n",
              probe[static_cast<int>(in.probe)], static_cast<unsigned long long>(in.probe_vtype),
              static_cast<unsigned long long>(in.probe_vl),
              static_cast<unsigned long long>(in.probe_vlenb));
  std::printf("decision          : rvv=%d VLEN=%u: %s\n", f.rvv, f.rvv_vlen_bits,
              f.rvv_reason.c_str());
  const kernels::GemmUkernel& uk = kernels::gemm_ukernel(cpu::active_isa());
  std::printf("active isa        : %s, GEMM %s (%zux%zu)\n",
              std::string(cpu::isa_name(cpu::active_isa())).c_str(), uk.name, uk.mr, uk.nr);
  if (argc > 1 && std::strcmp(argv[1], "--force-rvv") == 0) {
#if defined(RATEL_RVV_KERNELS)
    std::printf("forcing f32_vgelu__rvv (RVV 1.0 code) now...\n");
    std::fflush(stdout);
    float x[5] = {-2, -1, 0, 1, 2}, y[5];
    kernels::f32_vgelu__rvv(5, x, y);
    std::printf("RVV 1.0 code ran: gelu(1) = %.6f\n", y[3]);
#else
    std::printf("this build has no RVV 1.0 code to force\n");
    return 2;
#endif
  }
  return 0;
}
