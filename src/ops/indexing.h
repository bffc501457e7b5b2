// Indexing ops (Slice, Gather, GatherElements): the half of the data-movement family that reads
// elements at computed positions. Registered by register_data_movement_ops.
#pragma once

#include "ops/op.h"

namespace ratel::ops {

void register_indexing_ops(OpRegistry& r);

}  // namespace ratel::ops
