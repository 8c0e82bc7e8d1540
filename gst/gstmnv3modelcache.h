/* mnv3 GStreamer plugin: the process-wide model cache.
 *
 * Elements with the same config and weights share one loaded model (models
 * are immutable and thread-safe; each element keeps its own context).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef GST_MNV3_MODEL_CACHE_H
#define GST_MNV3_MODEL_CACHE_H

#include <gst/gst.h>

#include "mnv3/mnv3.h"

G_BEGIN_DECLS

/* acquire() returns a borrowed pointer valid until release(key); *key is set
 * to a string the caller frees after release. On failure, NULL with the
 * engine's message in `error`. */
mnv3_model *gst_mnv3_model_cache_acquire (const gchar * config,
    const gchar * weights, gchar ** key, mnv3_error * error);
void gst_mnv3_model_cache_release (const gchar * key);

G_END_DECLS

#endif
