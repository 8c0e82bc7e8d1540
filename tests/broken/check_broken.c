/* Loads every case of files/MANIFEST through the public API
 * (mnv3_model_load(config, weights)) and checks the outcome: a broken file
 * must fail with a message containing the expected text, a control must
 * load. Run under valgrind by meson too, so that an error path that reads
 * out of bounds or leaks fails the test even when the message is right.
 *
 *   check-broken FILES_DIR SHARED_DIR
 */
#include "mnv3/mnv3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One MANIFEST row: config, weights ("-": none), expected ("OK": loads). */
static int check_row(const char *dir, const char *shared, char *line, int lineno) {
  char *config = strtok(line, "\t");
  char *weights = strtok(NULL, "\t");
  char *expected = strtok(NULL, "\n");
  if (!config || !weights || !expected) {
    fprintf(stderr, "MANIFEST:%d: expected 3 tab-separated fields\n", lineno);
    return -1;
  }
  char config_path[4096], weights_path[4096];
  snprintf(config_path, sizeof config_path, "%s/%s", dir, config);
  if (strncmp(weights, "@shared/", 8) == 0)
    snprintf(weights_path, sizeof weights_path, "%s/%s", shared, weights + 8);
  else
    snprintf(weights_path, sizeof weights_path, "%s/%s", dir, weights);
  const char *w = strcmp(weights, "-") == 0 ? NULL : weights_path;

  mnv3_error err;
  strcpy(err.message, "(no message)");
  mnv3_model *model = mnv3_model_load(config_path, w, &err);
  const int want_ok = strcmp(expected, "OK") == 0;
  int ok;
  if (want_ok) {
    ok = model != NULL;
    if (!ok)
      fprintf(stderr, "FAIL %s + %s: should load, got: %s\n", config, weights,
              err.message);
  } else {
    ok = model == NULL && strstr(err.message, expected) != NULL;
    if (model)
      fprintf(stderr, "FAIL %s + %s: loaded, but should fail with \"%s\"\n",
              config, weights, expected);
    else if (!ok)
      fprintf(stderr, "FAIL %s + %s:\n  expected: %s\n  got:      %s\n", config,
              weights, expected, err.message);
  }
  if (ok)
    printf("ok   %s + %s: %s\n", config, weights, want_ok ? "loads" : err.message);
  mnv3_model_unref(model);
  return ok ? 0 : -1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s FILES_DIR SHARED_DIR\n", argv[0]);
    return 2;
  }
  char manifest[4096];
  snprintf(manifest, sizeof manifest, "%s/MANIFEST", argv[1]);
  FILE *f = fopen(manifest, "r");
  if (!f) {
    perror(manifest);
    return 1;
  }
  char line[8192];
  int lineno = 0, cases = 0, failures = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    if (line[0] == '#' || line[0] == '\n')
      continue;
    cases++;
    failures += check_row(argv[1], argv[2], line, lineno) != 0;
  }
  fclose(f);
  printf("%d cases, %d failed\n", cases, failures);
  return failures || cases == 0 ? 1 : 0;
}
