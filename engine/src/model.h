/* The loaded model (model.c), whose fields the run contexts (context.c)
 * read: the config, the compiled plan and what the public getters return. */
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
