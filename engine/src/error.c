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
  /* Shift the message right and put the prefix in front, truncating. */
  const size_t cap = sizeof error->message - 1;
  size_t plen = strlen(prefix), mlen = strlen(error->message);
  if (plen > cap)
    plen = cap;
  if (plen + mlen > cap)
    mlen = cap - plen;
  memmove(error->message + plen, error->message, mlen);
  memcpy(error->message, prefix, plen);
  error->message[plen + mlen] = '\0';
}
