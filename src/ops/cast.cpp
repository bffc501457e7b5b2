// Cast and related type conversions (placeholder: ops land here).
#include "ops/op.h"

namespace ratel::ops {

void register_cast_ops(OpRegistry& /*r*/) {}

}  // namespace ratel::ops
