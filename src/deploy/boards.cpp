// Boards: HHB's --board names and what Ratel builds for each.
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "deploy/deploy.h"

namespace ratel::deploy {

bool is_riscv_board(const std::string& board) {
  return board == "c906" || board == "c908" || board == "c920" || board == "c920v2";
}

std::string canonical_board(const std::string& board) {
  if (board == "x86_ref") return "x86_64";
  if (board == "th1520") return "c920";  // its CPU cores: see board_note
  return board;
}

std::string board_note(const std::string& board) {
  if (board == "th1520") {
    return "board th1520: Ratel has no backend for the TH1520's NPU; the model runs on the TH1520's four C920 CPU "
           "cores instead (everything is built as for --board c920)";
  }
  return "";
}

Status check_board(const std::string& board) {
  if (board == "x86_64" || board == "x86_ref" || board == "th1520" || is_riscv_board(board)) return Status::Ok();
  if (board == "anole") {
    return unsupported("board 'anole' (an NPU target) is not supported by Ratel; use --board x86_64 (this host) or "
                       "a riscv64 CPU: c906, c908, c920, c920v2");
  }
  if (board == "e907") {
    return unsupported("board 'e907' (a 32-bit RISC-V microcontroller core) is not supported by Ratel; use --board "
                       "x86_64 (this host) or a riscv64 CPU: c906, c908, c920, c920v2");
  }
  if (board == "rvm") {
    return unsupported("board 'rvm' (the RISC-V matrix extension) is not supported by Ratel; use --board c908 or "
                       "c920v2 (RVV 1.0 kernels) or x86_64");
  }
  return invalid_argument("unknown board '{}': HHB's boards are anole, th1520, e907, c906, c908, c920, c920v2, rvm "
                          "and x86_ref; Ratel builds for x86_64 (x86_ref), c906, c908, c920, c920v2 and th1520 "
                          "(its C920 cores)", board);
}

Result<std::vector<std::string>> board_emulator(const std::string& board) {
  if (!is_riscv_board(board)) return std::vector<std::string>{};
  // Upstream qemu has no RVV 0.7.1: the C906/C920 are emulated as rv64gc without a vector unit,
  // which is exactly what their runtime uses (T-Head's own qemu, PyPI xuantie-qemu, is what
  // scripts/riscv-test.sh runs as -cpu c920).
  const bool rvv = board == "c908" || board == "c920v2";
  const std::string cpu = rvv ? "rv64,v=true,vlen=128" : "rv64,v=false";
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    for (const char* name : {"qemu-riscv64-static", "qemu-riscv64"}) {
      const std::string exe = (dir.empty() ? "." : dir) + "/" + name;
      if (::access(exe.c_str(), X_OK) == 0) return std::vector<std::string>{exe, "-cpu", cpu};
    }
  }
  return not_found("--simulate for board {} runs its riscv64 ratel_runtime under qemu-user, and neither "
                   "qemu-riscv64-static nor qemu-riscv64 is on PATH (apt-get install qemu-user)", board);
}

}  // namespace ratel::deploy
