/* process.c: see process.h. */
#include "process.h"

#include <stdio.h>
#include <string.h>

void print_tensor_info(const int64_t* dims, size_t rank, const void* data) {
  printf("\n=== tensor info ===\n");
  printf("shape: ");
  for (size_t i = 0; i < rank; ++i) printf("%d ", (int)dims[i]);
  printf("\n");
  printf("data pointer: %p\n", data);
}

/* SHL's statistics: float max/min, double mean, and the variance printed as "std". */
static void statistical_mean_std(const float* data, size_t n) {
  float max_value = data[0], min_value = data[0];
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    sum += data[i];
    if (data[i] > max_value) max_value = data[i];
    if (data[i] < min_value) min_value = data[i];
  }
  const double mean = sum / (double)n;
  sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += (data[i] - mean) * (data[i] - mean);
  const double variance = sum / (double)n;
  printf("The max_value of output: %lf\n", max_value);
  printf("The min_value of output: %lf\n", min_value);
  printf("The mean_value of output: %lf\n", mean);
  printf("The std_value of output: %lf\n", variance);
}

void show_top5(const float* data, size_t n) {
  if (n == 0) return;
  statistical_mean_std(data, n);
  /* SHL's selection: five passes, each taking the largest value not taken yet (strictly
   * greater, so ties go to the lowest index; NaN is never taken). */
  uint32_t cls[5];
  float prob[5];
  for (int j = 0; j < 5; ++j) {
    cls[j] = UINT32_MAX;
    memset(&prob[j], 0xfe, sizeof prob[j]); /* -1.69e38, as SHL starts */
    for (size_t i = 0; i < n; ++i) {
      int taken = 0;
      for (int k = 0; k < j; ++k) taken |= cls[k] == (uint32_t)i;
      if (!taken && data[i] > prob[j]) {
        prob[j] = data[i];
        cls[j] = (uint32_t)i;
      }
    }
  }
  printf(" ============ top5: ===========\n");
  for (size_t i = 0; i < (n > 5 ? 5 : n); ++i) printf("%3d: %8.6f\n", (int)cls[i], prob[i]);
}

void shape_to_string(const int64_t* dims, size_t rank, char* buf, size_t len) {
  size_t at = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < rank && at < len; ++i) {
    const int w = snprintf(buf + at, len - at, i ? "_%lld" : "%lld", (long long)dims[i]);
    if (w < 0) break;
    at += (size_t)w;
  }
}
