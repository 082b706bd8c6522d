// Splits the memory of each script's functions, as QuickJS compiles them, into bytecode, the
// source text QuickJS keeps for every function (Function.prototype.toString) and debug
// information (line tables). Built and run by functions.sh against the QuickJS-ng sources of
// the v8x crate in the cargo registry, so that the figures are the engine's own.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "quickjs.h"

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  *len = (size_t)ftell(f);
  rewind(f);
  char *text = malloc(*len + 1);
  if (fread(text, 1, *len, f) != *len) { fclose(f); free(text); return NULL; }
  text[*len] = 0;
  fclose(f);
  return text;
}

static size_t written(JSContext *ctx, JSValue module, int flags) {
  size_t size = 0;
  uint8_t *bytes = JS_WriteObject(ctx, &size, module, JS_WRITE_OBJ_BYTECODE | flags);
  js_free(ctx, bytes);
  return size;
}

int main(int argc, char **argv) {
  JSRuntime *rt = JS_NewRuntime();
  JSContext *ctx = JS_NewContext(rt);
  size_t total[5] = {0};
  printf("%-26s %8s %6s %10s %9s %8s %8s\n", "script (sizes in bytes)", "source", "funcs", "functions", "bytecode", "source", "debug");
  for (int i = 1; i < argc; i++) {
    size_t len;
    char *text = slurp(argv[i], &len);
    if (!text) { fprintf(stderr, "cannot read %s\n", argv[i]); return 1; }
    JSMemoryUsage before, after;
    JS_ComputeMemoryUsage(rt, &before);
    JSValue module = JS_Eval(ctx, text, len, argv[i], JS_EVAL_TYPE_MODULE | JS_EVAL_FLAG_COMPILE_ONLY);
    if (JS_IsException(module)) { fprintf(stderr, "cannot compile %s\n", argv[i]); return 1; }
    JS_ComputeMemoryUsage(rt, &after);
    // Serialised sizes: all of it, without sources, without sources and debug information.
    size_t all = written(ctx, module, 0);
    size_t no_source = written(ctx, module, JS_WRITE_OBJ_STRIP_SOURCE);
    size_t bare = written(ctx, module, JS_WRITE_OBJ_STRIP_SOURCE | JS_WRITE_OBJ_STRIP_DEBUG);
    long long funcs = after.js_func_count - before.js_func_count;
    long long memory = (after.js_func_size - before.js_func_size) + (after.js_func_code_size - before.js_func_code_size) +
                       (after.js_func_pc2line_size - before.js_func_pc2line_size);
    const char *name = strrchr(argv[i], '/');
    printf("%-26s %8zu %6lld %10lld %9zu %8zu %8zu\n", name ? name + 1 : argv[i], len, funcs, memory, bare,
           all - no_source, no_source - bare);
    size_t row[5] = {len, (size_t)memory, bare, all - no_source, no_source - bare};
    for (int k = 0; k < 5; k++) total[k] += row[k];
    JS_FreeValue(ctx, module);
    free(text);
  }
  printf("%-26s %8zu %6s %10zu %9zu %8zu %8zu\n", "total", total[0], "", total[1], total[2], total[3], total[4]);
  return 0;
}
