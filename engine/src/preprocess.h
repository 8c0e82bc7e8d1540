/* Frame geometry helpers shared by the model (mnv3_model_frame_crop), the
 * context and the tools. mnv3_preprocess itself is declared in internal.h. */
#ifndef MNV3_PREPROCESS_H
#define MNV3_PREPROCESS_H

#include "internal.h"

/* The centre crop keeping `fraction` of each side, exactly as TF's
 * tf.image.central_crop (the TF-slim evaluation preprocessing) computes it:
 *   start = (int)((side - side * fraction) / 2),  size = side - 2 * start.
 * A fraction outside (0, 1] (or NaN) is taken as 1 (the whole frame); the
 * crop is never smaller than 1 x 1. */
mnv3_rect mnv3_centre_crop(int width, int height, double fraction);

/* Bytes per pixel of a packed RGB-family format (3 or 4), 0 for the YUV and
 * GRAY8 formats. */
int mnv3_packed_pixel_bytes(mnv3_pixel_format format);

/* Checks that a frame is usable: known format, size >= 1 x 1, the planes the
 * format needs present, strides covering a row. name is for the message. */
int mnv3_frame_validate(const mnv3_frame *frame, mnv3_error *error);

struct mnv3_workers;
/* mnv3_preprocess, with the output rows split over the pool's threads
 * (workers NULL or of one thread: the caller's thread only). The result
 * does not depend on the thread count. */
int mnv3_preprocess_pool(const mnv3_frame *frame, const mnv3_rect *crop,
                         const mnv3_normalize *norm, int out_height,
                         int out_width, float *dst, struct mnv3_workers *workers,
                         mnv3_error *error);

#endif
