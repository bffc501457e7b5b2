# Cross build for riscv64 Linux boards (C906, C908, C920 / TH1520, C920v2): Debian's
# riscv64-linux-gnu-g++ (gcc 12) for everything at the rv64gc baseline, clang-16 for the RVV 1.0
# kernel files (*__rvv*.cpp: gcc 12 has no RVV intrinsics), static executables, qemu-user as the
# emulator for ctest. docs/RISCV.md has the whole story; scripts/riscv-test.sh uses it:
#
#   cmake -S . -B build-riscv64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-riscv64.cmake \
#         [-DRATEL_RISCV_BOARD=any|c906|c920|c908|c920v2]
#
# Cache variables: RATEL_RISCV_TRIPLE (riscv64-linux-gnu), RATEL_RVV_CXX (clang++-16; empty:
# compile the RVV files with the C++ compiler, which then needs RVV intrinsics: gcc >= 13 or
# clang >= 16), RATEL_RISCV_EMULATOR (qemu-riscv64-static with its -cpu argument list).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR riscv64)

set(RATEL_RISCV_TRIPLE "riscv64-linux-gnu" CACHE STRING "cross toolchain prefix")
set(CMAKE_C_COMPILER ${RATEL_RISCV_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${RATEL_RISCV_TRIPLE}-g++)
# rv64gc = rv64imafdc_zicsr_zifencei, lp64d: what every board here runs. Never -march=...v for
# the whole build: the C906/C920 would execute it as RVV 0.7.1 and crash.
set(CMAKE_C_FLAGS_INIT "-march=rv64gc -mabi=lp64d")
set(CMAKE_CXX_FLAGS_INIT "-march=rv64gc -mabi=lp64d")
# Static executables: a board's libstdc++ may be older than gcc 12's (as HHB's hhb_runtime).
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")

find_program(RATEL_RVV_CXX_DEFAULT NAMES clang++-16 clang++-17 clang++-18 clang++-19)
set(RATEL_RVV_CXX "${RATEL_RVV_CXX_DEFAULT}" CACHE STRING
    "compiler for *__rvv*.cpp (RVV 1.0 intrinsics); empty = the C++ compiler")

find_program(RATEL_QEMU_RISCV64 NAMES qemu-riscv64-static qemu-riscv64)
set(RATEL_RISCV_EMULATOR "${RATEL_QEMU_RISCV64};-cpu;rv64,v=true,vlen=128" CACHE STRING
    "how ctest runs a riscv64 test executable")
set(CMAKE_CROSSCOMPILING_EMULATOR ${RATEL_RISCV_EMULATOR})

set(CMAKE_FIND_ROOT_PATH /usr/${RATEL_RISCV_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
