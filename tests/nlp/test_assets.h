// Where the shared, read-only test data lives: $RATEL_ASSETS, else ../shared beside the
// checkout. Tests call RATEL_REQUIRE_ASSET to skip with a message when a file is absent.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace ratel::nlp::testing {

inline std::string assets_root() {
  if (const char* env = std::getenv("RATEL_ASSETS"); env != nullptr && *env != '\0') return env;
  return std::string(RATEL_SOURCE_DIR) + "/../shared";
}

// `relative` is under <assets>/data/ (the layout of shared/).
inline std::string asset_path(const std::string& relative) {
  const std::string root = assets_root();
  // RATEL_ASSETS may point at shared/ or at shared/data/.
  if (std::filesystem::exists(root + "/data/" + relative)) return root + "/data/" + relative;
  return root + "/" + relative;
}

inline std::string test_data_path(const std::string& name) {
  return std::string(RATEL_NLP_TEST_DATA) + "/" + name;
}

}  // namespace ratel::nlp::testing

// Declares `var` as the path of a shared asset, or skips the test when it is missing.
#define RATEL_REQUIRE_ASSET(var, relative)                             \
  const std::string var = ::ratel::nlp::testing::asset_path(relative); \
  if (!std::filesystem::exists(var)) {                                 \
    GTEST_SKIP() << "shared asset not found: " << var                  \
                 << " (set RATEL_ASSETS to the shared/ directory)";    \
  }
