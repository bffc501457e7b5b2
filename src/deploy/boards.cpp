// Boards: HHB's --board names and what Ratel can build for each today.
#include "deploy/deploy.h"

namespace ratel::deploy {

std::string canonical_board(const std::string& board) { return board == "x86_ref" ? "x86_64" : board; }

Status check_board(const std::string& board, Stage stage) {
  if (board == "x86_64" || board == "x86_ref") return Status::Ok();
  if (board == "c906" || board == "c908" || board == "c920" || board == "c920v2") {
    if (stage <= Stage::kQuantize) return Status::Ok();  // the bundle does not depend on the board
    return unsupported("board '{}' is a riscv64 CPU, and Ratel's riscv64 runtime is not built yet (a follow-up "
                       "task), so there is no ratel_runtime for it: -E writes its bundle now (weights are stored "
                       "raw, so the same bundle will run there); to build and run on this host, use --board x86_64",
                       board);
  }
  if (board == "th1520") {
    return unsupported("board 'th1520': Ratel has no backend for the TH1520's NPU; the TH1520's four C920 CPU cores "
                       "would run the model instead (--board c920, whose riscv64 runtime is a follow-up task); use "
                       "--board x86_64 to deploy on this host");
  }
  if (board == "anole") {
    return unsupported("board 'anole' (an NPU target) is not supported by Ratel; use --board x86_64");
  }
  if (board == "e907") {
    return unsupported(
        "board 'e907' (a 32-bit RISC-V microcontroller core) is not supported by Ratel; use --board x86_64");
  }
  if (board == "rvm") {
    return unsupported("board 'rvm' (the RISC-V matrix extension) is not supported by Ratel; use --board x86_64");
  }
  return invalid_argument("unknown board '{}': HHB's boards are anole, th1520, e907, c906, c908, c920, c920v2, rvm "
                          "and x86_ref; Ratel builds runtimes for x86_64 (x86_ref) today", board);
}

}  // namespace ratel::deploy
