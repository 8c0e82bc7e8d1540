/* mnv3 GStreamer plugin: GstMnv3Filter's live mode, latency and statistics
 * (gstmnv3filterlive.c), for gstmnv3filter.c only.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef GST_MNV3_FILTER_LIVE_H
#define GST_MNV3_FILTER_LIVE_H

#include "gstmnv3filter.h"

G_BEGIN_DECLS

#define STATS_MESSAGE_NAME "mnv3-stats"

/* The effective mode from the mode property and upstream's liveness; under
 * the object lock. */
void gst_mnv3_filter_update_live (GstMnv3Filter * self);
/* Back to a fresh stream's state and statistics (start()). */
void gst_mnv3_filter_reset_live_state (GstMnv3Filter * self);
/* Asks upstream whether it is live (once the caps are known). */
void gst_mnv3_filter_query_upstream_live (GstMnv3Filter * self);
/* Live mode: whether to skip the inference this frame is due for. */
gboolean gst_mnv3_filter_should_skip (GstMnv3Filter * self,
    GstBuffer * buffer);
/* Accounts one inference that took `ns` (statistics, latency). */
void gst_mnv3_filter_record_inference (GstMnv3Filter * self,
    GstClockTime ns);
/* Posts the statistics message when it is due, or now when `force`. */
/* Counts a frame through the element, for the statistics and the frame
 * rate (object lock held). */
void gst_mnv3_filter_count_frame (GstMnv3Filter * self, gboolean skipped);
/* Frames per second since the first frame, 0 before the second. */
gdouble gst_mnv3_filter_average_fps (const GstMnv3Filter * self);
/* Frames per second over the last whole second (the average until one
 * has passed). */
gdouble gst_mnv3_filter_current_fps (const GstMnv3Filter * self);
void gst_mnv3_filter_maybe_post_stats (GstMnv3Filter * self,
    gboolean force);

G_END_DECLS

#endif
