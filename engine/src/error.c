#include "internal.h"

#include <stdio.h>
#include <string.h>

int mnv3_fail(mnv3_error *error, const char *fmt, ...) {
  if (error) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(error->message, sizeof error->message, fmt, args);
    va_end(args);
  }
  return -1;
}

void mnv3_error_prefix(mnv3_error *error, const char *fmt, ...) {
  if (!error)
    return;
  char prefix[512];
  va_list args;
  va_start(args, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, args);
  va_end(args);
  char joined[sizeof error->message];
  snprintf(joined, sizeof joined, "%s%s", prefix, error->message);
  memcpy(error->message, joined, sizeof joined);
}
