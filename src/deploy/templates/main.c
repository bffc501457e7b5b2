/* main.c: ratel_runtime, the program `ratel -D` / `ratel compile` builds: runs the model of
 * model.c on input files and prints what HHB's hhb_runtime prints.
 *
 *   ratel_runtime [--loop N] [--threads N] [--bin-type f32|model] [--profile F.json] [-v] MODEL.rbm IN0 IN1 ...
 *   ratel_runtime [options] MODEL.rbm LIST.txt        (LIST: groups of inputs, one run each)
 *
 * Inputs: raw .bin files hold float32 values, as HHB writes them (token ids stored as floats;
 * they must be whole numbers to feed an integer input), or the model's own element type with
 * --bin-type model (or when only that size fits); .npy files carry their type and shape.
 * Inputs bind by position in the model's input order, except when every file name ends in
 * "<input name>.bin" or "<input name>.npy": then by name. Which one was used goes to stderr.
 * Outputs are saved as <first input's file name>_output<i>_<dims joined by _>.txt in the current
 * folder, one float per line.
 *
 * @GENERATED_NOTE@ */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io.h"
#include "process.h"
#include "ratel/ratel_kernels.h"

/* --postprocess @POSTPROCESS@ */
#define POSTPROCESS_TOP5 @TOP5@
#define POSTPROCESS_SAVE @SAVE@

#define FILE_LENGTH 1028
#define SHAPE_LENGTH 128
#define MAX_INPUTS 64

extern const ratel_model_desc ratel_generated_model; /* model.c */

static int fail(const char* what) {
  fprintf(stderr, "ratel_runtime: error: %s\n", what);
  return 1;
}

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static const char* base_name(const char* path) {
  const char* slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

static size_t dtype_size(ratel_dtype t) {
  switch (t) {
    case RATEL_DTYPE_FLOAT64: case RATEL_DTYPE_INT64: case RATEL_DTYPE_UINT64: return 8;
    case RATEL_DTYPE_FLOAT32: case RATEL_DTYPE_INT32: case RATEL_DTYPE_UINT32: return 4;
    case RATEL_DTYPE_FLOAT16: case RATEL_DTYPE_BFLOAT16: case RATEL_DTYPE_INT16: case RATEL_DTYPE_UINT16: return 2;
    default: return 1;
  }
}

/* The input whose name the file name ends with ("<name>.bin" / "<name>.npy"), the longest such
 * name; -1 if none. */
static int input_named_by(ratel_ctx* c, const char* path) {
  const char* base = base_name(path);
  const char* dot = strrchr(base, '.');
  const size_t stem = dot ? (size_t)(dot - base) : strlen(base);
  int best = -1;
  size_t best_len = 0;
  for (size_t i = 0; i < ratel_ctx_num_inputs(c); ++i) {
    ratel_value_info info;
    ratel_ctx_input_info(c, i, &info);
    const size_t n = strlen(info.name);
    if (n <= stem && n > best_len && strncmp(base + stem - n, info.name, n) == 0) {
      best = (int)i;
      best_len = n;
    }
  }
  return best;
}

/* Which input each file of a group feeds: by name when every file names a different input,
 * else by position. Reports the choice on stderr (once). */
static void bind_inputs(ratel_ctx* c, char** files, int n, int* target, int report) {
  int by_name = 1;
  for (int i = 0; i < n && by_name; ++i) {
    target[i] = input_named_by(c, files[i]);
    for (int j = 0; j < i && target[i] >= 0; ++j) by_name &= target[j] != target[i];
    by_name &= target[i] >= 0;
  }
  if (!by_name) {
    for (int i = 0; i < n; ++i) target[i] = i;
  }
  if (!report) return;
  fprintf(stderr, "ratel_runtime: inputs bound by %s:", by_name ? "name" : "position");
  for (int i = 0; i < n; ++i) {
    ratel_value_info info;
    ratel_ctx_input_info(c, (size_t)target[i], &info);
    fprintf(stderr, "%s %s -> %s", i ? "," : "", base_name(files[i]), info.name);
  }
  fprintf(stderr, "\n");
}

/* Reads one input file and hands it to the runtime (which converts it to the input's type). */
static int set_input(ratel_ctx* c, int index, const char* path, int bin_as_model_type) {
  char err[1024], msg[2048];
  ratel_value_info info;
  ratel_ctx_input_info(c, (size_t)index, &info);
  ratel_status status;
  const file_type type = get_file_type(path);
  if (type == FILE_NPY) {
    npy_array a;
    if (read_npy(path, &a, err, sizeof err) != 0) return fail(err);
    status = ratel_ctx_set_input(c, (size_t)index, a.dtype, a.dims, a.rank, a.data, a.nbytes);
    free(a.buffer);
  } else if (type == FILE_BIN) {
    size_t size = 0;
    char* data = get_binary_from_file(path, &size, err, sizeof err);
    if (!data) return fail(err);
    const size_t as_f32 = info.numel * 4, as_model = info.numel * dtype_size(info.dtype);
    ratel_dtype dtype = RATEL_DTYPE_FLOAT32;
    if (bin_as_model_type || (size != as_f32 && size == as_model)) dtype = info.dtype;
    if (size != info.numel * dtype_size(dtype)) {
      snprintf(msg, sizeof msg,
               "input '%s' from '%s': %zu bytes; expected %zu (float32, as HHB writes inputs) or, with "
               "--bin-type model, %zu (the model's own type)", info.name, path, size, as_f32, as_model);
      free(data);
      return fail(msg);
    }
    status = ratel_ctx_set_input(c, (size_t)index, dtype, info.dims, info.rank, data, size);
    free(data);
    if (status != RATEL_OK && dtype == RATEL_DTYPE_FLOAT32 && info.dtype != RATEL_DTYPE_FLOAT32) {
      snprintf(msg, sizeof msg, "'%s': %s (.bin inputs are read as float32, as HHB writes them; give "
               "--bin-type model for files in the model's own type, or use .npy)", path, ratel_ctx_last_error());
      return fail(msg);
    }
  } else {
    snprintf(msg, sizeof msg, "input '%s': '%s' is not a .bin or .npy file (the model was built without "
             "preprocessing: give raw tensors, or one .txt file listing them)", info.name, path);
    return fail(msg);
  }
  if (status != RATEL_OK) {
    snprintf(msg, sizeof msg, "'%s': %s", path, ratel_ctx_last_error());
    return fail(msg);
  }
  return 0;
}

/* HHB's postprocess(): tensor info for every input and output, statistics and top 5, saved outputs. */
static int postprocess(ratel_ctx* c, const char* prefix) {
  for (size_t i = 0; i < ratel_ctx_num_inputs(c); ++i) {
    ratel_value_info info;
    ratel_ctx_input_info(c, i, &info);
    print_tensor_info(info.dims, info.rank, ratel_ctx_input_data(c, i));
  }
  for (size_t i = 0; i < ratel_ctx_num_outputs(c); ++i) {
    ratel_value_info info;
    const float* data;
    size_t count;
    ratel_ctx_output_info(c, i, &info);
    if (ratel_ctx_output_f32(c, i, &data, &count) != RATEL_OK) return fail(ratel_ctx_last_error());
    print_tensor_info(info.dims, info.rank, data);
    if (POSTPROCESS_TOP5) show_top5(data, count);
    if (POSTPROCESS_SAVE) {
      char shape[SHAPE_LENGTH], filename[FILE_LENGTH];
      shape_to_string(info.dims, info.rank, shape, sizeof shape);
      snprintf(filename, sizeof filename, "%s_output%u_%s.txt", prefix, (unsigned)i, shape);
      if (save_data_to_file(filename, data, count) != 0) {
        fprintf(stderr, "ratel_runtime: error: cannot write '%s'\n", filename);
        return 1;
      }
    }
  }
  return 0;
}

static int usage(void) {
  fprintf(stderr,
          "usage: ratel_runtime [--loop N] [--threads N] [--bin-type f32|model] [--profile F.json] [-v]\n"
          "                     MODEL.rbm IN0 IN1 ...\n"
          "       ratel_runtime [options] MODEL.rbm LIST.txt   (LIST: input files, one group per run)\n"
          "  --loop N       run each group N times; the average leaves out the first (warm-up) run\n"
          "  --threads N    worker threads (default 1; results do not depend on it)\n"
          "  --bin-type T   what .bin inputs hold: f32 (default, as HHB writes them) or model (the\n"
          "                 model's own element type)\n"
          "  --profile F    time every kernel step: a Chrome trace in F (Perfetto, chrome://tracing)\n"
          "                 and the time per op, printed after the runs\n"
          "  -v, --verbose  say which kernels run (instruction set, and why) on stderr\n");
  return 2;
}

int main(int argc, char** argv) {
  int loop_time = 1, threads = 1, bin_as_model_type = 0, verbose = 0, arg = 1;
  const char* profile = NULL;
  for (; arg < argc && strncmp(argv[arg], "-", 1) == 0; ++arg) {
    if (strcmp(argv[arg], "-h") == 0 || strcmp(argv[arg], "--help") == 0) return usage();
    if (strcmp(argv[arg], "-v") == 0 || strcmp(argv[arg], "--verbose") == 0) {
      verbose = 1;
      continue;
    }
    if (arg + 1 >= argc) return usage();
    if (strcmp(argv[arg], "--loop") == 0) {
      loop_time = atoi(argv[++arg]);
    } else if (strcmp(argv[arg], "--profile") == 0) {
      profile = argv[++arg];
    } else if (strcmp(argv[arg], "--threads") == 0) {
      threads = atoi(argv[++arg]);
    } else if (strcmp(argv[arg], "--bin-type") == 0) {
      ++arg;
      if (strcmp(argv[arg], "model") != 0 && strcmp(argv[arg], "f32") != 0) return usage();
      bin_as_model_type = strcmp(argv[arg], "model") == 0;
    } else {
      fprintf(stderr, "ratel_runtime: error: unknown option '%s'\n", argv[arg]);
      return usage();
    }
  }
  if (loop_time < 1) return fail("--loop needs a count of at least 1");
  if (argc - arg < 2) return usage();
  const char* model_path = argv[arg++];
  ratel_ctx* c = NULL;
  if (ratel_ctx_open(model_path, &ratel_generated_model, threads, &c) != RATEL_OK) return fail(ratel_ctx_last_error());
  if (verbose) fprintf(stderr, "ratel_runtime: board %s, kernels %s\n", ratel_generated_model.board, ratel_kernel_isa());
  if (profile) ratel_ctx_set_profiling(c, 1);
  const int input_num = (int)ratel_ctx_num_inputs(c);
  char** data_path = argv + arg;
  int path_count = argc - arg;
  char** list = NULL;
  char msg[1024];
  if (path_count == 1 && get_file_type(data_path[0]) == FILE_TXT) {
    list = read_string_from_file(data_path[0], &path_count, msg, sizeof msg);
    if (!list) return fail(msg);
    data_path = list;
  }
  if (input_num == 0 || input_num > MAX_INPUTS) {
    snprintf(msg, sizeof msg, "the model has %d inputs; ratel_runtime handles 1 to %d", input_num, MAX_INPUTS);
    return fail(msg);
  }
  if (path_count % input_num != 0) {
    snprintf(msg, sizeof msg, "the model has %d inputs; %d input files do not make whole groups of %d",
             input_num, path_count, input_num);
    return fail(msg);
  }
  int rc = 0;
  for (int g = 0; g < path_count / input_num && rc == 0; ++g) {
    char** files = data_path + g * input_num;
    int target[MAX_INPUTS];
    bind_inputs(c, files, input_num, target, g == 0);
    for (int j = 0; j < input_num && rc == 0; ++j) rc = set_input(c, target[j], files[j], bin_as_model_type);
    float time_all = 0.0f;
    for (int loop = 0; loop < loop_time && rc == 0; ++loop) {
      const uint64_t start_time = now_ns();
      if (ratel_ctx_run(c) != RATEL_OK) {
        rc = fail(ratel_ctx_last_error());
        break;
      }
      const uint64_t end_time = now_ns();
      if (loop != 0) time_all += ((float)(end_time - start_time)) / 1000000;
      printf("Run graph execution time: %.5fms, FPS=%.5f\n", ((float)(end_time - start_time)) / 1000000,
             1000000000.0 / ((float)(end_time - start_time)));
      rc = postprocess(c, base_name(files[0]));
    }
    if (rc == 0 && loop_time > 1) {
      printf("The number of run: %d\n", loop_time);
      printf("Run graph average execution time: %.5fms, FPS=%.5f\n", time_all / (loop_time - 1),
             1000.0 * (loop_time - 1) / time_all);
    }
  }
  if (list) free_string_list(list, path_count);
  if (rc == 0 && profile) {
    const char* table = ratel_ctx_write_profile(c, profile);
    if (!table) {
      rc = fail(ratel_ctx_last_error());
    } else {
      printf("%sprofile: wrote %s (open it in https://ui.perfetto.dev or chrome://tracing)\n", table, profile);
    }
  }
  ratel_ctx_close(c);
  return rc;
}
