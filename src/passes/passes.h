// Constructors of every pass (one pass per file in src/passes/).
#pragma once

#include <memory>

#include "passes/pass.h"

namespace ratel::passes {

// Cleanups
std::unique_ptr<Pass> make_constant_folding();
std::unique_ptr<Pass> make_dead_code_elimination();
std::unique_ptr<Pass> make_identity_elimination();

}  // namespace ratel::passes
