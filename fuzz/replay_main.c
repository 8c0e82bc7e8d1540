/* A stand-in for libFuzzer's driver: feeds every file named on the command
 * line (folders: every file inside, sorted) to LLVMFuzzerTestOneInput once.
 * This is how the committed corpus and crash regressions replay with gcc,
 * under valgrind or plain, where clang's libFuzzer is not available. A broken
 * contract aborts inside the harness, so any failure is a crash. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
    return -1;
  }
  uint8_t *data = NULL;
  size_t size = 0, cap = 0, got;
  do {
    if (size == cap) {
      cap = cap ? cap * 2 : 65536;
      uint8_t *bigger = realloc(data, cap);
      if (!bigger) {
        fprintf(stderr, "replay: out of memory reading %s\n", path);
        free(data);
        fclose(f);
        return -1;
      }
      data = bigger;
    }
    got = fread(data + size, 1, cap - size, f);
    size += got;
  } while (got > 0);
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    fprintf(stderr, "replay: cannot read %s\n", path);
    free(data);
    return -1;
  }
  /* An exact-size copy, so that a read past the end is caught (valgrind). */
  uint8_t *exact = malloc(size ? size : 1);
  if (!exact) {
    free(data);
    return -1;
  }
  memcpy(exact, data, size);
  free(data);
  LLVMFuzzerTestOneInput(exact, size);
  free(exact);
  return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b) {
  return strcmp((*a)->d_name, (*b)->d_name);
}

static int run_path(const char *path, int *count) {
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
    return -1;
  }
  if (!S_ISDIR(st.st_mode)) {
    if (run_file(path) != 0)
      return -1;
    ++*count;
    return 0;
  }
  struct dirent **names;
  int n = scandir(path, &names, NULL, by_name);
  if (n < 0) {
    fprintf(stderr, "replay: cannot list %s: %s\n", path, strerror(errno));
    return -1;
  }
  int rc = 0;
  for (int i = 0; i < n; i++) {
    const char *name = names[i]->d_name;
    if (rc == 0 && name[0] != '.') {
      char child[4096];
      snprintf(child, sizeof child, "%s/%s", path, name);
      rc = run_path(child, count);
    }
    free(names[i]);
  }
  free(names);
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE_OR_FOLDER...\n", argv[0]);
    return 2;
  }
  int count = 0;
  for (int i = 1; i < argc; i++)
    if (run_path(argv[i], &count) != 0)
      return 1;
  if (count == 0) {
    fprintf(stderr, "replay: no inputs found in the given paths\n");
    return 1;
  }
  printf("replayed %d inputs without a crash\n", count);
  return 0;
}
