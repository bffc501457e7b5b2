// Data movement (placeholder: ops land here).
#include "ops/op.h"

namespace ratel::ops {

void register_data_movement_ops(OpRegistry& /*r*/) {}

}  // namespace ratel::ops
