// Shape-only ops (placeholder: ops land here).
#include "ops/op.h"

namespace ratel::ops {

void register_shape_ops(OpRegistry& /*r*/) {}

}  // namespace ratel::ops
