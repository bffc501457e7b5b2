/* process.h: what ratel_runtime prints and saves after a run, in the format of HHB's runtime
 * (SHL's print_tensor_info, shl_show_top5 and output file names), so scripts written for
 * hhb_runtime read ratel_runtime's output unchanged.
 * Part of the folder `ratel -D` / `ratel compile` writes; not generated, the same for every model. */
#ifndef RATEL_RUNTIME_PROCESS_H_
#define RATEL_RUNTIME_PROCESS_H_

#include <stddef.h>
#include <stdint.h>

/* "\n=== tensor info ===\nshape: 1 384 \ndata pointer: 0x...\n" */
void print_tensor_info(const int64_t* dims, size_t rank, const void* data);

/* "The max_value of output: %f" (then min, mean and std), " ============ top5: ===========" and
 * up to five "%3d: %8.6f" lines, largest first (ties: lowest index). As in SHL, the number
 * printed as std_value is the variance (the mean squared deviation). */
void show_top5(const float* data, size_t n);

/* dims joined by '_': "1_384". */
void shape_to_string(const int64_t* dims, size_t rank, char* buf, size_t len);

#endif /* RATEL_RUNTIME_PROCESS_H_ */
