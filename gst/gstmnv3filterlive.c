/* mnv3 GStreamer plugin: GstMnv3Filter's live mode, latency and statistics.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmnv3filterlive.h"

GST_DEBUG_CATEGORY_EXTERN (gst_mnv3_filter_debug);
#define GST_CAT_DEFAULT gst_mnv3_filter_debug

/* A new latency is announced when the estimate moves this much (relative)
 * from the one last reported, and at least LATENCY_MIN_CHANGE: smaller
 * changes are noise and each announcement makes the pipeline re-query. */
#define LATENCY_CHANGE 0.2
#define LATENCY_MIN_CHANGE (GST_MSECOND / 2)
/* Weight of a new inference time in the moving average. */
#define MEAN_WEIGHT 0.25
/* Our latency is the longest of the recent inferences plus this share: a
 * frame that arrives a little late (scheduling, other elements) can still be
 * inferred in time instead of being skipped. */
#define LATENCY_HEADROOM 0.25

/* Under the object lock. */
void
gst_mnv3_filter_update_live (GstMnv3Filter * self)
{
  gboolean live = self->mode == GST_MNV3_FILTER_MODE_LIVE
      || (self->mode == GST_MNV3_FILTER_MODE_AUTO && self->upstream_live);
  if (live != self->live)
    GST_INFO_OBJECT (self, "%s mode", live ? "live" : "batch");
  self->live = live;
}

void
gst_mnv3_filter_reset_live_state (GstMnv3Filter * self)
{
  GST_OBJECT_LOCK (self);
  self->upstream_live = FALSE;
  gst_mnv3_filter_update_live (self);
  self->pipeline_latency = GST_CLOCK_TIME_NONE;
  self->qos_earliest = GST_CLOCK_TIME_NONE;
  self->reported_latency = 0;
  self->mean_inference_ns = 0.0;
  self->n_recent = 0;
  self->next_recent = 0;
  self->latency_estimate = 0;
  self->frames_in = 0;
  self->frames_inferred = 0;
  self->frames_skipped = 0;
  self->total_inference_ms = 0.0;
  self->max_inference_ms = 0.0;
  self->last_stats_post = g_get_monotonic_time ();
  self->first_frame_time = self->last_frame_time = 0;
  self->fps_window_start = 0;
  self->fps_window_frames = 0;
  self->fps = 0.0;
  GST_OBJECT_UNLOCK (self);
}

void
gst_mnv3_filter_query_upstream_live (GstMnv3Filter * self)
{
  GstQuery *query = gst_query_new_latency ();
  gboolean live;

  if (gst_pad_peer_query (GST_BASE_TRANSFORM_SINK_PAD (self), query)) {
    gst_query_parse_latency (query, &live, NULL, NULL);
    GST_OBJECT_LOCK (self);
    self->upstream_live = live;
    gst_mnv3_filter_update_live (self);
    GST_OBJECT_UNLOCK (self);
  }
  gst_query_unref (query);
}

/* Whether inferring on this buffer would make it late at the sink: it is
 * already behind what downstream's QoS says is too late, or now plus the
 * expected inference time is past the moment the sink renders it (running
 * time + the pipeline's latency). */
static gboolean
frame_is_late (GstMnv3Filter * self, GstBuffer * buffer, gdouble expected)
{
  GstBaseTransform *trans = GST_BASE_TRANSFORM (self);
  GstClockTime pts = GST_BUFFER_PTS (buffer), running_time, latency, now;
  GstClockTime qos_earliest, base_time;
  GstClock *clock;

  if (!GST_CLOCK_TIME_IS_VALID (pts) || trans->segment.format != GST_FORMAT_TIME)
    return FALSE;
  running_time = gst_segment_to_running_time (&trans->segment,
      GST_FORMAT_TIME, pts);
  if (!GST_CLOCK_TIME_IS_VALID (running_time))
    return FALSE;

  GST_OBJECT_LOCK (self);
  qos_earliest = self->qos_earliest;
  latency = GST_CLOCK_TIME_IS_VALID (self->pipeline_latency) ?
      self->pipeline_latency : self->latency_estimate;
  GST_OBJECT_UNLOCK (self);

  if (GST_CLOCK_TIME_IS_VALID (qos_earliest) && running_time <= qos_earliest) {
    GST_LOG_OBJECT (self, "skipping %" GST_TIME_FORMAT ": downstream is late "
        "up to %" GST_TIME_FORMAT, GST_TIME_ARGS (running_time),
        GST_TIME_ARGS (qos_earliest));
    return TRUE;
  }

  clock = gst_element_get_clock (GST_ELEMENT (self));
  if (!clock)
    return FALSE;
  base_time = gst_element_get_base_time (GST_ELEMENT (self));
  now = gst_clock_get_time (clock);
  gst_object_unref (clock);
  if (now < base_time)
    return FALSE;
  now -= base_time;

  if ((gdouble) now + expected > (gdouble) (running_time + latency)) {
    GST_LOG_OBJECT (self, "skipping %" GST_TIME_FORMAT ": now %"
        GST_TIME_FORMAT " + inference %.1f ms is past the deadline %"
        GST_TIME_FORMAT, GST_TIME_ARGS (running_time), GST_TIME_ARGS (now),
        expected / 1e6, GST_TIME_ARGS (running_time + latency));
    return TRUE;
  }
  return FALSE;
}

/* Live mode: whether to skip the inference this frame is due for.
 *
 * - The network cannot run more often than one inference time allows: with
 *   a 100 ms network and 30 fps, at most every 3rd frame (the budget).
 * - Past the budget, a frame is skipped when inferring it would make it
 *   late (frame_is_late()).
 * - But a result is never kept beyond twice the budget: when the element
 *   shares its streaming thread with a synchronising sink (no queue after
 *   it), every frame arrives late by construction, and inferring now and
 *   then beats never inferring. */
gboolean
gst_mnv3_filter_should_skip (GstMnv3Filter * self, GstBuffer * buffer)
{
  guint64 since = self->frame_number - self->result_frame, budget = 1;
  gdouble expected;

  GST_OBJECT_LOCK (self);
  expected = self->mean_inference_ns;
  GST_OBJECT_UNLOCK (self);

  if (GST_CLOCK_TIME_IS_VALID (self->frame_duration)
      && self->frame_duration > 0)
    budget = MAX (1, (guint64) (expected / self->frame_duration + 0.999));
  if (since < budget) {
    GST_LOG_OBJECT (self, "skipping frame %" G_GUINT64_FORMAT ": the last "
        "inference was %" G_GUINT64_FORMAT " frames ago and takes %.1f ms",
        self->frame_number, since, expected / 1e6);
    return TRUE;
  }
  return since < 2 * budget && frame_is_late (self, buffer, expected);
}

/* Accounts one inference that took `ns`, and tells the pipeline when our
 * latency changed enough for it to reconfigure. Under the object lock. */
static void
update_estimates (GstMnv3Filter * self, GstClockTime ns)
{
  GstClockTime peak = 0;

  /* The first inference of a stream also pays for allocations and cold
   * caches: it stands alone only until the second one. */
  if (self->frames_inferred == 2) {
    self->n_recent = 0;
    self->next_recent = 0;
  }
  self->mean_inference_ns = self->n_recent == 0 ? (gdouble) ns :
      (1.0 - MEAN_WEIGHT) * self->mean_inference_ns + MEAN_WEIGHT * ns;
  self->recent_ns[self->next_recent] = ns;
  self->next_recent = (self->next_recent + 1) % G_N_ELEMENTS (self->recent_ns);
  self->n_recent = MIN (self->n_recent + 1, G_N_ELEMENTS (self->recent_ns));
  for (guint i = 0; i < self->n_recent; i++)
    peak = MAX (peak, self->recent_ns[i]);
  self->latency_estimate = peak + (GstClockTime) (LATENCY_HEADROOM * peak);
}

void
gst_mnv3_filter_record_inference (GstMnv3Filter * self, GstClockTime ns)
{
  gdouble ms = ns / 1e6;
  GstClockTime reported, estimate;
  gboolean announce;

  GST_OBJECT_LOCK (self);
  self->frames_inferred++;
  self->total_inference_ms += ms;
  self->max_inference_ms = MAX (self->max_inference_ms, ms);
  update_estimates (self, ns);
  reported = self->reported_latency;
  estimate = self->latency_estimate;
  /* Latency only matters to live pipelines. */
  announce = (self->live || self->upstream_live)
      && ABS (GST_CLOCK_DIFF (reported, estimate)) >
      MAX (LATENCY_CHANGE * reported, LATENCY_MIN_CHANGE);
  if (announce)
    /* Not announced again until the pipeline has asked. */
    self->reported_latency = estimate;
  GST_OBJECT_UNLOCK (self);

  if (announce) {
    GST_INFO_OBJECT (self, "inference latency now %" GST_TIME_FORMAT
        " (was %" GST_TIME_FORMAT ")", GST_TIME_ARGS (estimate),
        GST_TIME_ARGS (reported));
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_latency (GST_OBJECT (self)));
  }
}

void
gst_mnv3_filter_count_frame (GstMnv3Filter * self, gboolean skipped)
{
  gint64 now = g_get_monotonic_time ();

  self->frames_in++;
  if (skipped)
    self->frames_skipped++;
  self->last_frame_time = now;
  if (self->first_frame_time == 0) {
    self->first_frame_time = self->fps_window_start = now;
    return;
  }
  self->fps_window_frames++;
  if (now - self->fps_window_start >= G_USEC_PER_SEC) {
    self->fps = self->fps_window_frames * (gdouble) G_USEC_PER_SEC /
        (now - self->fps_window_start);
    self->fps_window_start = now;
    self->fps_window_frames = 0;
  }
}

gdouble
gst_mnv3_filter_average_fps (const GstMnv3Filter * self)
{
  gint64 span = self->last_frame_time - self->first_frame_time;

  return span > 0 ? (self->frames_in - 1) * (gdouble) G_USEC_PER_SEC / span : 0.0;
}

gdouble
gst_mnv3_filter_current_fps (const GstMnv3Filter * self)
{
  return self->fps > 0.0 ? self->fps : gst_mnv3_filter_average_fps (self);
}

/* Posts the mnv3-stats message when stats-interval seconds have passed since
 * the last one (or now, when `force`, for the totals at EOS). */
void
gst_mnv3_filter_maybe_post_stats (GstMnv3Filter * self, gboolean force)
{
  gint64 now = g_get_monotonic_time ();
  GstStructure *s;

  GST_OBJECT_LOCK (self);
  if (self->stats_interval == 0 || (!force && now - self->last_stats_post <
          (gint64) self->stats_interval * G_USEC_PER_SEC)) {
    GST_OBJECT_UNLOCK (self);
    return;
  }
  self->last_stats_post = now;
  s = gst_structure_new (STATS_MESSAGE_NAME,
      "frames-in", G_TYPE_UINT64, self->frames_in,
      "frames-inferred", G_TYPE_UINT64, self->frames_inferred,
      "frames-skipped", G_TYPE_UINT64, self->frames_skipped,
      "mean-inference-ms", G_TYPE_DOUBLE, self->frames_inferred ?
      self->total_inference_ms / self->frames_inferred : 0.0,
      "max-inference-ms", G_TYPE_DOUBLE, self->max_inference_ms,
      "latency-ms", G_TYPE_DOUBLE, self->latency_estimate / 1e6,
      "fps", G_TYPE_DOUBLE, gst_mnv3_filter_current_fps (self),
      "average-fps", G_TYPE_DOUBLE, gst_mnv3_filter_average_fps (self),
      "live", G_TYPE_BOOLEAN, self->live,
      "eos", G_TYPE_BOOLEAN, force, NULL);
  if (self->precision)
    gst_structure_set (s, "precision", G_TYPE_STRING, self->precision, NULL);
  GST_OBJECT_UNLOCK (self);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}
