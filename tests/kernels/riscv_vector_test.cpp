// The RVV 1.0 decision (cpu/riscv_vector.h) on the CPUs and kernels it must tell apart, fed as
// synthetic inputs: it is portable code, so this runs on the x86 host as well as under every
// qemu CPU; the inputs are what those systems report (the T-Head qemu values were read under
// xuantie-qemu -cpu c920).
#include <gtest/gtest.h>

#include "cpu/cpu_features.h"
#include "cpu/riscv_vector.h"

namespace ratel::cpu {
namespace {

RiscvVectorInputs base() {
  RiscvVectorInputs in;
  in.kernels_built = true;
  return in;
}

// What a working RVV 1.0 probe returns at this VLEN.
void probe_passes(RiscvVectorInputs* in, uint64_t vlen) {
  in->probe = VectorProbe::kPassed;
  in->probe_vtype = kProbeVtype;
  in->probe_vlenb = vlen / 8;
  in->probe_vl = vlen / 32;
}

TEST(RiscvVector, Th1520VendorKernelTrapsOnVcsr) {
  // LicheePi 4A, TH1520 5.10 vendor kernel: V in AT_HWCAP and in the isa string, no hwprobe.
  RiscvVectorInputs in = base();
  in.hwcap = kHwcapV | 0x112d;
  in.cpuinfo_isa = "rv64imafdcvsu";
  in.mvendorid = kTheadMvendorid;
  EXPECT_TRUE(riscv_vector_precheck(in).run_probe) << "hwcap alone must lead to the probe";
  in.probe = VectorProbe::kTrapped;
  const RiscvVectorDecision d = decide_riscv_vector(in);
  EXPECT_FALSE(d.rvv);
  EXPECT_NE(d.reason.find("T-Head"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("trapped"), std::string::npos) << d.reason;
}

TEST(RiscvVector, TheadQemuC920FailsTheVsetvliCheck) {
  // xuantie-qemu -cpu c920: V in AT_HWCAP, vcsr readable, but vsetvli e32,m1,ta,ma sets vill.
  RiscvVectorInputs in = base();
  in.hwcap = kHwcapV | 0x112d;
  in.probe = VectorProbe::kRejected;
  in.probe_vtype = uint64_t{1} << 63;
  in.probe_vl = 0;
  in.probe_vlenb = 16;
  const RiscvVectorDecision d = decide_riscv_vector(in);
  EXPECT_FALSE(d.rvv);
  EXPECT_NE(d.reason.find("vill"), std::string::npos) << d.reason;
}

TEST(RiscvVector, MainlineKernelReportsXTheadVectorThroughHwprobe) {
  RiscvVectorInputs in = base();
  in.hwcap = 0x112d;
  in.hwprobe_answered = true;
  in.hwprobe_ima_ext_0 = 0x3;  // FD, C; no V
  in.hwprobe_thead_answered = true;
  in.hwprobe_thead_ext_0 = kHwprobeTheadVector;
  const RiscvVectorDecision d = riscv_vector_precheck(in);
  EXPECT_FALSE(d.run_probe) << "no vector instruction may run";
  EXPECT_FALSE(decide_riscv_vector(in).rvv);
  EXPECT_NE(d.reason.find("XTheadVector"), std::string::npos) << d.reason;
}

TEST(RiscvVector, IsaStringNamingXTheadVectorVetoesHwcap) {
  RiscvVectorInputs in = base();
  in.hwcap = kHwcapV;
  in.cpuinfo_isa = "rv64imafdc_zicntr_zicsr_zifencei_zihpm_xtheadvector";
  probe_passes(&in, 128);  // even a probe that (wrongly) passed does not matter
  EXPECT_FALSE(riscv_vector_precheck(in).run_probe);
  EXPECT_FALSE(decide_riscv_vector(in).rvv);
}

TEST(RiscvVector, BoardC920AndC906NeverRunRvv10) {
  for (RiscvBoard board : {RiscvBoard::kC920, RiscvBoard::kC906}) {
    RiscvVectorInputs in = base();
    in.board = board;
    in.hwcap = kHwcapV;
    in.hwprobe_answered = true;
    in.hwprobe_ima_ext_0 = kHwprobeImaV;
    probe_passes(&in, 128);
    EXPECT_FALSE(riscv_vector_precheck(in).run_probe);
    const RiscvVectorDecision d = decide_riscv_vector(in);
    EXPECT_FALSE(d.rvv);
    EXPECT_NE(d.reason.find(std::string(riscv_board_name(board))), std::string::npos) << d.reason;
  }
}

TEST(RiscvVector, Rvv10ThroughHwprobeAndProbe) {
  for (uint64_t vlen : {128u, 256u, 512u, 1024u}) {
    RiscvVectorInputs in = base();
    in.board = RiscvBoard::kC908;
    in.hwcap = kHwcapV;
    in.hwprobe_answered = true;
    in.hwprobe_ima_ext_0 = kHwprobeImaV | 0x3;
    in.mvendorid = kTheadMvendorid;  // the C908 is T-Head's too
    probe_passes(&in, vlen);
    const RiscvVectorDecision d = decide_riscv_vector(in);
    EXPECT_TRUE(d.rvv) << d.reason;
    EXPECT_EQ(d.vlen_bits, vlen);
  }
}

TEST(RiscvVector, Rvv10ThroughHwcapAndProbeWithoutHwprobe) {
  // Upstream qemu-user -cpu rv64,v=true,vlen=256 (no hwprobe, host /proc/cpuinfo).
  RiscvVectorInputs in = base();
  in.hwcap = kHwcapV | 0x112d;
  probe_passes(&in, 256);
  const RiscvVectorDecision d = decide_riscv_vector(in);
  EXPECT_TRUE(d.rvv) << d.reason;
  EXPECT_EQ(d.vlen_bits, 256u);
}

TEST(RiscvVector, NoVectorUnit) {
  RiscvVectorInputs in = base();
  in.hwcap = 0x112d;  // rv64gc: qemu -cpu rv64,v=false
  EXPECT_FALSE(riscv_vector_precheck(in).run_probe);
  EXPECT_FALSE(decide_riscv_vector(in).rvv);
  in.hwprobe_answered = true;  // hwprobe is believed over hwcap
  in.hwcap = kHwcapV;
  in.hwprobe_ima_ext_0 = 0x3;
  EXPECT_FALSE(riscv_vector_precheck(in).run_probe);
}

TEST(RiscvVector, ProbeFailuresAndOddVectorUnitsSayNo) {
  RiscvVectorInputs in = base();
  in.hwcap = kHwcapV;
  for (VectorProbe p : {VectorProbe::kNotRun, VectorProbe::kFailed, VectorProbe::kTrapped}) {
    in.probe = p;
    EXPECT_FALSE(decide_riscv_vector(in).rvv);
  }
  probe_passes(&in, 64);  // Zve64 with VLEN 64: below what the kernels assume
  EXPECT_FALSE(decide_riscv_vector(in).rvv);
  probe_passes(&in, 128);
  in.probe_vl = 8;  // vl inconsistent with vlenb
  EXPECT_FALSE(decide_riscv_vector(in).rvv);
  probe_passes(&in, 8192);  // above the kernels' range
  EXPECT_FALSE(decide_riscv_vector(in).rvv);
  probe_passes(&in, 128);
  in.kernels_built = false;  // a c920 build of the library
  EXPECT_FALSE(decide_riscv_vector(in).rvv);
}

TEST(RiscvVector, BoardExpectingRvvSaysWhyItRunsScalar) {
  RiscvVectorInputs in = base();
  in.board = RiscvBoard::kC920v2;
  in.hwcap = kHwcapV;
  in.probe = VectorProbe::kTrapped;
  const RiscvVectorDecision d = decide_riscv_vector(in);
  EXPECT_FALSE(d.rvv);
  EXPECT_NE(d.reason.find("c920v2 expects RVV 1.0"), std::string::npos) << d.reason;
}

TEST(RiscvVector, IsaStrings) {
  EXPECT_TRUE(isa_string_has_xtheadvector("rv64imafdc_xtheadvector"));
  EXPECT_TRUE(isa_string_has_xtheadvector("RV64GC_XTheadVector_zicsr"));
  EXPECT_FALSE(isa_string_has_xtheadvector("rv64imafdcv_zicsr"));
  EXPECT_FALSE(isa_string_has_xtheadvector("rv64imafdc_xtheadvectorx"));
  EXPECT_FALSE(isa_string_has_xtheadvector(""));
}

TEST(RiscvVector, Boards) {
  RiscvBoard b = RiscvBoard::kAny;
  for (const char* name : {"c906", "c920", "c908", "c920v2", "any"}) {
    ASSERT_TRUE(parse_riscv_board(name, &b)) << name;
    EXPECT_EQ(riscv_board_name(b), name);
  }
  EXPECT_FALSE(parse_riscv_board("th1520", &b));
}

// A deployed runtime names its board (model.c, through ratel_ctx_open): a library built for "any"
// then decides as a board build would, without probing. Once the decision is read, another board
// cannot be set. (On x86 hosts nothing reads the decision before this test; a riscv64 test binary
// may have decided already, which the first call reports.)
TEST(RiscvVector, BoardHintFromTheGeneratedModel) {
  if (build_riscv_board() != RiscvBoard::kAny) GTEST_SKIP() << "a board build: the build's board decides";
  if (!set_riscv_board_hint(RiscvBoard::kC920)) {
    GTEST_SKIP() << "this process chose its riscv64 kernels before the test (the refusal is what is expected)";
  }
  EXPECT_EQ(effective_riscv_board(), RiscvBoard::kC920);
  const RiscvVectorInputs in = read_riscv_vector_inputs();
  EXPECT_EQ(in.board, RiscvBoard::kC920);
  EXPECT_EQ(in.probe, VectorProbe::kNotRun);  // c920: nothing is probed
  const RiscvVectorDecision d = decide_riscv_vector(in);
  EXPECT_FALSE(d.rvv);
  EXPECT_NE(d.reason.find("board c920"), std::string::npos) << d.reason;
  EXPECT_TRUE(set_riscv_board_hint(RiscvBoard::kC920));   // the same board again: nothing changes
  EXPECT_FALSE(set_riscv_board_hint(RiscvBoard::kC908));  // decided already
  EXPECT_EQ(effective_riscv_board(), RiscvBoard::kC920);
}

TEST(IsaOrder, FamiliesDoNotCoverEachOther) {
  EXPECT_TRUE(Isa::kGeneric <= Isa::kRvv);
  EXPECT_TRUE(Isa::kRvv <= Isa::kRvv);
  EXPECT_TRUE(Isa::kAvx2 > Isa::kRvv);    // "cannot run": the checks in the kernel tables
  EXPECT_TRUE(Isa::kRvv > Isa::kAvx512);
  EXPECT_TRUE(Isa::kRvv > Isa::kGeneric);
  EXPECT_FALSE(Isa::kGeneric > Isa::kRvv);
  EXPECT_TRUE(Isa::kAvx2 < Isa::kAvx512);  // x86: the numeric order, unchanged
  EXPECT_FALSE(Isa::kAvx512 < Isa::kAvx2);
  EXPECT_EQ(clamp_isa(Isa::kRvv, Isa::kGeneric), Isa::kGeneric);
  EXPECT_EQ(clamp_isa(Isa::kRvv, Isa::kAvx2), Isa::kGeneric);
  EXPECT_EQ(clamp_isa(Isa::kGeneric, Isa::kRvv), Isa::kGeneric);
  EXPECT_EQ(clamp_isa(Isa::kAvx512, Isa::kRvv), Isa::kGeneric);
  EXPECT_EQ(clamp_isa(Isa::kRvv, std::nullopt), Isa::kRvv);
  EXPECT_EQ(parse_isa("rvv"), Isa::kRvv);
  EXPECT_EQ(isa_name(Isa::kRvv), "rvv");
  CpuFeatures f;
  f.rvv = true;
  EXPECT_EQ(best_isa(f), Isa::kRvv);
}

}  // namespace
}  // namespace ratel::cpu
