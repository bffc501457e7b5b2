// Generators (placeholder: ops land here).
#include "ops/op.h"

namespace ratel::ops {

void register_generator_ops(OpRegistry& /*r*/) {}

}  // namespace ratel::ops
