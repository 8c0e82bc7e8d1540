/* The loaded model and run contexts (model.c, context.c). */
#ifndef MNV3_MODEL_H
#define MNV3_MODEL_H

#include "plan.h"

struct mnv3_model {
  atomic_int refcount;
  mnv3_config config;
  mnv3_task task;
  mnv3_plan plan;
  float input_lo, input_hi; /* clamp of the network input */
  int class_offset; /* 1 when output 0 is a hidden background class */
  uint8_t colors[256][3];
};

#endif
