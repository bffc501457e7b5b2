# The riscv64 runtime archive that `ratel -D --board c906|c908|c920|c920v2` links the generated
# runtime against: the same sources cross-built (cmake/toolchain-riscv64.cmake, runtime layers
# only, RATEL_RISCV_BOARD=any: one archive for every board, the board named by model.c at run
# time) into <build>/targets/riscv64/{lib,include}, the layout `ratel` looks for beside bin/.
#
# RATEL_RISCV_RUNTIME: AUTO (default) builds it when Debian's riscv64-linux-gnu-g++ is installed
# (scripts/install-deps.sh installs it with RATEL_WITH_CROSS=1, scripts/test.sh does); ON
# requires it; OFF leaves it out (riscv64 boards then stop at -Q with a message).
set(RATEL_RISCV_RUNTIME "AUTO" CACHE STRING "build the riscv64 runtime archive: AUTO, ON or OFF")
set_property(CACHE RATEL_RISCV_RUNTIME PROPERTY STRINGS AUTO ON OFF)

set(ratel_riscv_runtime_dir ${PROJECT_BINARY_DIR}/targets/riscv64)
if(RATEL_RISCV_RUNTIME STREQUAL "OFF" OR RATEL_SANITIZE OR RATEL_TSAN OR RATEL_FUZZ)
  # Sanitizer builds test the host; one riscv64 archive (the Release build's) is enough.
  return()
endif()
find_program(RATEL_RISCV_GXX riscv64-linux-gnu-g++)
# The RVV 1.0 kernel files need intrinsics, which gcc 12 lacks (the toolchain file picks clang).
find_program(RATEL_RISCV_RVV_CLANG NAMES clang++-16 clang++-17 clang++-18 clang++-19)
if(NOT RATEL_RISCV_GXX OR NOT RATEL_RISCV_RVV_CLANG)
  if(RATEL_RISCV_RUNTIME STREQUAL "ON")
    message(FATAL_ERROR "RATEL_RISCV_RUNTIME=ON needs riscv64-linux-gnu-g++ and clang++-16 "
                        "(apt-get install g++-riscv64-linux-gnu clang-16)")
  endif()
  message(STATUS "riscv64 runtime: not built (needs riscv64-linux-gnu-g++ and clang++-16: "
                 "RATEL_WITH_CROSS=1 scripts/install-deps.sh)")
  return()
endif()
message(STATUS "riscv64 runtime: ${ratel_riscv_runtime_dir} (${RATEL_RISCV_GXX})")

include(ExternalProject)
ExternalProject_Add(ratel_riscv64_runtime
  SOURCE_DIR ${PROJECT_SOURCE_DIR}
  BINARY_DIR ${ratel_riscv_runtime_dir}
  CMAKE_GENERATOR ${CMAKE_GENERATOR}
  CMAKE_ARGS -DCMAKE_TOOLCHAIN_FILE=${PROJECT_SOURCE_DIR}/cmake/toolchain-riscv64.cmake
             -DCMAKE_BUILD_TYPE=Release -DRATEL_BUILD_TESTS=OFF -DRATEL_RISCV_BOARD=any
  BUILD_COMMAND ${CMAKE_COMMAND} --build <BINARY_DIR> --target ratel_deploy_archive
  INSTALL_COMMAND ""
  # Ratel's sources are the external project's: let its own build decide what is out of date.
  BUILD_ALWAYS ON
  USES_TERMINAL_BUILD ON)
