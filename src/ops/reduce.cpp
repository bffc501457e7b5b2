// Reductions (placeholder: ops land here).
#include "ops/op.h"

namespace ratel::ops {

void register_reduce_ops(OpRegistry& /*r*/) {}

}  // namespace ratel::ops
