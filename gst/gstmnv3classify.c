/* mnv3classify: image classification with a MobileNetV3 model.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

/**
 * SECTION:element-mnv3classify
 * @title: mnv3classify
 *
 * Classifies video frames with a MobileNetV3 classification model described
 * by a YAML config (see the configs/ folder). The frames pass through
 * unchanged: the element crops, scales, converts and normalises a copy for
 * the network itself, so no videoconvert or videoscale is needed in front of
 * it.
 *
 * Every frame gets a #GstVideoRegionOfInterestMeta covering the whole frame,
 * roi_type "mnv3-classification", whose `id` is the number of region of
 * interest metas the buffer already had (so that Python can find each with
 * GstVideo.buffer_get_video_region_of_interest_meta_id()). Its parameters
 * are, first, one #GstStructure named "mnv3-classification-result" per
 * reported class, best first, with the fields `label` (string), `label_id`
 * (int), `confidence` (double), `stale` (boolean: the result was computed
 * on an earlier frame, see #GstMnv3Filter:inference-interval), `frame`
 * (guint64: this frame's number since the element started) and
 * `inference_frame` (guint64: the frame the result comes from); then one
 * named "mnv3-classification" (since 0.2) with every reported class as
 * `results` (an array of structures with `label_id`, `label` and
 * `confidence`, best first), `element` and `model` (strings: the element's
 * name, and the config's model.name, by default the config file's name
 * without its extension), `stale`, `frame` and `inference_frame`: what
 * Python reads with get_param(). No meta is attached when no class reaches
 * #GstMnv3Classify:threshold. Several mnv3classify elements in a pipeline
 * each attach their own meta. With GStreamer 1.24 or newer, the buffer's
 * #GstAnalyticsRelationMeta gets a #GstAnalyticsClsMtd as well: the same
 * classes in the same order, the confidences as levels, the labels as
 * quarks.
 *
 * With #GstMnv3Filter:post-messages, an element message named
 * "mnv3-classification" is posted per frame, with `model`, `frame`,
 * `inference_frame`, `pts` (guint64 nanoseconds; GST_CLOCK_TIME_NONE, i.e.
 * G_MAXUINT64, when the buffer has no timestamp), `stale`, `skipped`
 * (boolean: live mode skipped this frame's inference, see
 * #GstMnv3Filter:mode), `inference_ms` (double, only on frames the network
 * ran on), the best class as `label_id`, `label` and `confidence` (absent
 * when no class reaches the threshold), and all reported classes as
 * `results`, an array of structures with those three fields.
 *
 * With #GstMnv3Classify:overlay, the best label and its score are drawn in a
 * box at the top left corner: as a #GstVideoOverlayCompositionMeta when
 * downstream supports it, blended into the frame otherwise.
 *
 * ## Live sources
 *
 * With #GstMnv3Filter:mode auto (the default) and a live source, a frame
 * that would reach the sink late if the network ran on it skips inference
 * and carries the last result marked stale; no frame is dropped. The
 * element adds its inference time to the LATENCY query and posts a latency
 * message when it changes. Put a queue after the inference elements so that
 * the sink waiting for the clock does not hold them up. The statistics are
 * the read-only properties frames-in, frames-inferred, frames-skipped,
 * mean-inference-ms and max-inference-ms, and the "mnv3-stats" message
 * (#GstMnv3Filter:stats-interval).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=clip.avi ! decodebin ! mnv3classify config=configs/mobilenet_v3_small_tfslim_uint8.yaml overlay=true post-messages=true ! videoconvert ! autovideosink
 * ]| Shows the clip with the best ImageNet class drawn on it, and posts one
 * "mnv3-classification" message per frame (see them with gst-launch-1.0 -m).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmnv3classify.h"

#include <math.h>
#include <string.h>

#include <pango/pangocairo.h>
#include <gst/video/video-overlay-composition.h>

#ifdef HAVE_GST_ANALYTICS
#include <gst/analytics/analytics.h>
#endif

GST_DEBUG_CATEGORY_STATIC (gst_mnv3_classify_debug);
#define GST_CAT_DEFAULT gst_mnv3_classify_debug

#define ROI_TYPE "mnv3-classification"
#define RESULT_NAME "mnv3-classification-result"

enum {
  PROP_0,
  PROP_TOP_K,
  PROP_THRESHOLD,
  PROP_SMOOTHING,
  PROP_OVERLAY,
};

#define DEFAULT_TOP_K 5
#define DEFAULT_THRESHOLD 0.0
#define DEFAULT_SMOOTHING 0.0
#define DEFAULT_OVERLAY FALSE

struct _GstMnv3Classify {
  GstMnv3Filter parent;

  /* Properties, under the object lock. */
  guint top_k;
  gdouble threshold;
  gdouble smoothing;
  gboolean overlay;

  /* Streaming state, sized for the model in prepare(). */
  gint num_classes;
  mnv3_class_score *results;    /* num_classes entries, n_results used */
  gint n_results;
  gfloat *probs;                /* smoothing: this frame's probabilities */
  gfloat *average;              /* smoothing: the running average */
  gboolean have_average;
  GstVideoOverlayComposition *composition;  /* the drawn result, or NULL */
  /* Whether downstream renders GstVideoOverlayCompositionMeta; asked again
   * after caps or downstream changes. */
  gint allocation_checked;      /* atomic */
  gboolean attach_composition;
};

G_DEFINE_TYPE (GstMnv3Classify, gst_mnv3_classify, GST_TYPE_MNV3_FILTER);
GST_ELEMENT_REGISTER_DEFINE (mnv3classify, "mnv3classify", GST_RANK_NONE,
    GST_TYPE_MNV3_CLASSIFY);

/* ---- results ----------------------------------------------------------- */

static gboolean
gst_mnv3_classify_prepare (GstMnv3Filter * filter, GError ** error)
{
  GstMnv3Classify *self = GST_MNV3_CLASSIFY (filter);

  self->num_classes = mnv3_model_num_classes (filter->model);
  self->results = g_new0 (mnv3_class_score, self->num_classes);
  self->probs = g_new0 (gfloat, self->num_classes);
  self->average = g_new0 (gfloat, self->num_classes);
  self->have_average = FALSE;
  self->n_results = 0;
  return TRUE;
}

static void
gst_mnv3_classify_release (GstMnv3Filter * filter)
{
  GstMnv3Classify *self = GST_MNV3_CLASSIFY (filter);

  g_clear_pointer (&self->results, g_free);
  g_clear_pointer (&self->probs, g_free);
  g_clear_pointer (&self->average, g_free);
  g_clear_pointer (&self->composition, gst_video_overlay_composition_unref);
  self->n_results = 0;
}

/* The k best of the averaged probabilities, best first. The engine's
 * mnv3_context_top_k covers the unsmoothed case. */
static gint
select_top_k (const gfloat * probs, gint n, gint k, mnv3_class_score * out)
{
  gint count = 0;
  for (gint c = 0; c < n; c++) {
    gint pos;
    if (count == k && probs[c] <= out[k - 1].score)
      continue;
    /* A free slot, or the worst one when full; then sift up. */
    pos = count < k ? count++ : k - 1;
    while (pos > 0 && out[pos - 1].score < probs[c]) {
      out[pos] = out[pos - 1];
      pos--;
    }
    out[pos].class_id = c;
    out[pos].score = probs[c];
  }
  return count;
}

static void
gst_mnv3_classify_read_result (GstMnv3Filter * filter, GstVideoFrame * frame)
{
  GstMnv3Classify *self = GST_MNV3_CLASSIFY (filter);
  gint k;
  gdouble threshold, smoothing;

  GST_OBJECT_LOCK (self);
  k = MIN ((gint) self->top_k, self->num_classes);
  threshold = self->threshold;
  smoothing = self->smoothing;
  GST_OBJECT_UNLOCK (self);

  if (smoothing > 0.0) {
    mnv3_context_probabilities (filter->context, 0, self->probs);
    for (gint c = 0; c < self->num_classes; c++)
      self->average[c] = self->have_average ?
          (gfloat) (smoothing * self->average[c] + (1.0 - smoothing) *
          self->probs[c]) : self->probs[c];
    self->have_average = TRUE;
    self->n_results = select_top_k (self->average, self->num_classes, k,
        self->results);
  } else {
    self->have_average = FALSE;
    self->n_results = mnv3_context_top_k (filter->context, 0, k,
        self->results);
  }
  /* Best first, so the ones under the threshold are at the end. */
  while (self->n_results > 0
      && self->results[self->n_results - 1].score < threshold)
    self->n_results--;

  g_clear_pointer (&self->composition, gst_video_overlay_composition_unref);
  GST_LOG_OBJECT (self, "frame %" G_GUINT64_FORMAT ": %d results, best %d",
      filter->frame_number, self->n_results,
      self->n_results ? self->results[0].class_id : -1);
}

/* ---- overlay ----------------------------------------------------------- */

/* Renders "label 93%" white on a translucent black box, sized to the frame,
 * at the top left corner. */
static GstVideoOverlayComposition *
render_composition (GstMnv3Classify * self, gint frame_width,
    gint frame_height)
{
  const mnv3_class_score *best = &self->results[0];
  gchar label_buf[32];
  gchar *text = g_strdup_printf ("%s %.0f%%",
      gst_mnv3_class_label (GST_MNV3_FILTER (self)->model, best->class_id,
          label_buf, sizeof label_buf), best->score * 100.0);
  gint font_px = MAX (12, frame_height / 20);
  gint pad = MAX (2, font_px / 4);
  PangoFontDescription *font = pango_font_description_from_string ("Sans Bold");
  cairo_surface_t *surface;
  cairo_t *cr;
  PangoLayout *layout;
  gint text_w, text_h, box_w, box_h, stride;
  GstBuffer *pixels;
  GstVideoOverlayRectangle *rect;
  GstVideoOverlayComposition *comp;

  pango_font_description_set_absolute_size (font, font_px * PANGO_SCALE);

  /* Lay the text out once on a scratch surface to learn its size. */
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cr = cairo_create (surface);
  layout = pango_cairo_create_layout (cr);
  pango_layout_set_font_description (layout, font);
  pango_layout_set_text (layout, text, -1);
  pango_layout_get_pixel_size (layout, &text_w, &text_h);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);

  box_w = MIN (text_w + 2 * pad, frame_width - pad);
  box_h = MIN (text_h + 2 * pad, frame_height - pad);
  box_w = MAX (box_w, 1);
  box_h = MAX (box_h, 1);

  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, box_w, box_h);
  cr = cairo_create (surface);
  cairo_set_source_rgba (cr, 0, 0, 0, 0.6);
  cairo_paint (cr);
  cairo_move_to (cr, pad, pad);
  cairo_set_source_rgba (cr, 1, 1, 1, 1);
  pango_cairo_update_layout (cr, layout);
  pango_cairo_show_layout (cr, layout);
  cairo_destroy (cr);
  cairo_surface_flush (surface);

  /* Cairo's ARGB32 is premultiplied native-endian ARGB, which is the
   * composition's "RGB" format. */
  stride = cairo_image_surface_get_stride (surface);
  pixels = gst_buffer_new_memdup (cairo_image_surface_get_data (surface),
      (gsize) stride * box_h);
  {
    gsize offset[GST_VIDEO_MAX_PLANES] = { 0 };
    gint strides[GST_VIDEO_MAX_PLANES] = { stride };
    gst_buffer_add_video_meta_full (pixels, GST_VIDEO_FRAME_FLAG_NONE,
        GST_VIDEO_OVERLAY_COMPOSITION_FORMAT_RGB, box_w, box_h, 1, offset,
        strides);
  }
  rect = gst_video_overlay_rectangle_new_raw (pixels, pad, pad, box_w, box_h,
      GST_VIDEO_OVERLAY_FORMAT_FLAG_PREMULTIPLIED_ALPHA);
  comp = gst_video_overlay_composition_new (rect);

  gst_video_overlay_rectangle_unref (rect);
  gst_buffer_unref (pixels);
  cairo_surface_destroy (surface);
  g_object_unref (layout);
  pango_font_description_free (font);
  g_free (text);
  return comp;
}

/* Asks downstream (like textoverlay does) whether it renders overlay
 * composition meta itself, which saves us blending into the frame. */
static gboolean
downstream_renders_composition (GstMnv3Classify * self)
{
  GstBaseTransform *trans = GST_BASE_TRANSFORM (self);
  GstCaps *caps = gst_pad_get_current_caps (trans->srcpad);
  GstQuery *query;
  gboolean supported = FALSE;

  if (!caps)
    return FALSE;
  query = gst_query_new_allocation (caps, FALSE);
  if (gst_pad_peer_query (trans->srcpad, query))
    supported = gst_query_find_allocation_meta (query,
        GST_VIDEO_OVERLAY_COMPOSITION_META_API_TYPE, NULL);
  gst_query_unref (query);
  gst_caps_unref (caps);
  GST_DEBUG_OBJECT (self, "downstream %s overlay composition meta",
      supported ? "renders" : "does not render");
  return supported;
}

static void
draw_overlay (GstMnv3Classify * self, GstVideoFrame * frame)
{
  if (!self->composition)
    self->composition = render_composition (self,
        GST_VIDEO_FRAME_WIDTH (frame), GST_VIDEO_FRAME_HEIGHT (frame));

  if (!g_atomic_int_get (&self->allocation_checked)) {
    g_atomic_int_set (&self->allocation_checked, TRUE);
    self->attach_composition = downstream_renders_composition (self);
  }
  if (self->attach_composition)
    gst_buffer_add_video_overlay_composition_meta (frame->buffer,
        self->composition);
  else
    gst_video_overlay_composition_blend (self->composition, frame);
}

/* ---- metadata and messages --------------------------------------------- */

static void
add_roi_meta (GstMnv3Classify * self, GstVideoFrame * frame,
    const GstMnv3FrameInfo * info, const GValue * results)
{
  const mnv3_model *model = GST_MNV3_FILTER (self)->model;
  mnv3_rect whole = { 0, 0, GST_VIDEO_FRAME_WIDTH (frame),
    GST_VIDEO_FRAME_HEIGHT (frame)
  };
  GstVideoRegionOfInterestMeta *roi =
      gst_mnv3_filter_add_roi (GST_MNV3_FILTER (self), frame->buffer,
      ROI_TYPE, &whole);

  /* One param per class, best first, as since 0.1 (C code reads the first
   * param as the best class), then all of them in one for Python. */
  for (gint i = 0; i < self->n_results; i++) {
    GstStructure *s = gst_mnv3_result_structure_new (RESULT_NAME, model,
        self->results[i].class_id, "confidence", self->results[i].score);
    gst_structure_set (s, "stale", G_TYPE_BOOLEAN, info->stale,
        "frame", G_TYPE_UINT64, info->frame,
        "inference_frame", G_TYPE_UINT64, info->inference_frame, NULL);
    gst_video_region_of_interest_meta_add_param (roi, s);
  }
  gst_video_region_of_interest_meta_add_param (roi,
      gst_mnv3_filter_result_param_new (GST_MNV3_FILTER (self), ROI_TYPE,
          info, results));
}

#ifdef HAVE_GST_ANALYTICS
static void
add_analytics_meta (GstMnv3Classify * self, GstBuffer * buffer)
{
  const mnv3_model *model = GST_MNV3_FILTER (self)->model;
  GstAnalyticsRelationMeta *rmeta = gst_buffer_add_analytics_relation_meta
      (buffer);
  gfloat *levels = g_newa (gfloat, self->n_results);
  GQuark *quarks = g_newa (GQuark, self->n_results);
  GstAnalyticsClsMtd mtd;
  gchar buf[32];

  for (gint i = 0; i < self->n_results; i++) {
    levels[i] = self->results[i].score;
    quarks[i] = g_quark_from_string (gst_mnv3_class_label (model,
            self->results[i].class_id, buf, sizeof buf));
  }
  if (!gst_analytics_relation_meta_add_cls_mtd (rmeta, self->n_results,
          levels, quarks, &mtd))
    GST_WARNING_OBJECT (self, "could not add the classification mtd");
}
#endif

/* The reported classes as a GST_TYPE_ARRAY of result structures, best
 * first: the metadata's and the message's `results`. */
static void
build_results (GstMnv3Classify * self, GValue * results)
{
  const mnv3_model *model = GST_MNV3_FILTER (self)->model;

  g_value_init (results, GST_TYPE_ARRAY);
  for (gint i = 0; i < self->n_results; i++)
    gst_mnv3_value_array_append_structure (results,
        gst_mnv3_result_structure_new (RESULT_NAME, model,
            self->results[i].class_id, "confidence", self->results[i].score));
}

static void
fill_message (GstMnv3Classify * self, GstStructure * message,
    const GValue * results)
{
  const mnv3_model *model = GST_MNV3_FILTER (self)->model;
  gchar buf[32];

  gst_structure_set_value (message, "results", results);
  if (self->n_results > 0)
    gst_structure_set (message,
        "label_id", G_TYPE_INT, self->results[0].class_id,
        "label", G_TYPE_STRING, gst_mnv3_class_label (model,
            self->results[0].class_id, buf, sizeof buf),
        "confidence", G_TYPE_DOUBLE, (gdouble) self->results[0].score, NULL);
}

static void
gst_mnv3_classify_apply_result (GstMnv3Filter * filter, GstVideoFrame * frame,
    const GstMnv3FrameInfo * info, GstStructure * message)
{
  GstMnv3Classify *self = GST_MNV3_CLASSIFY (filter);
  GValue results = G_VALUE_INIT;
  gboolean overlay;

  GST_OBJECT_LOCK (self);
  overlay = self->overlay;
  GST_OBJECT_UNLOCK (self);

  build_results (self, &results);
  if (self->n_results > 0) {
    add_roi_meta (self, frame, info, &results);
#ifdef HAVE_GST_ANALYTICS
    add_analytics_meta (self, frame->buffer);
#endif
    if (overlay)
      draw_overlay (self, frame);
  }
  if (message)
    fill_message (self, message, &results);
  g_value_unset (&results);
}

/* ---- caps and events --------------------------------------------------- */

static gboolean
gst_mnv3_classify_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstMnv3Classify *self = GST_MNV3_CLASSIFY (filter);

  /* The overlay is sized for the frame and downstream may have changed. */
  g_clear_pointer (&self->composition, gst_video_overlay_composition_unref);
  g_atomic_int_set (&self->allocation_checked, FALSE);
  return GST_VIDEO_FILTER_CLASS (gst_mnv3_classify_parent_class)->set_info
      (filter, incaps, in_info, outcaps, out_info);
}

static gboolean
gst_mnv3_classify_src_event (GstBaseTransform * trans, GstEvent * event)
{
  GstMnv3Classify *self = GST_MNV3_CLASSIFY (trans);

  /* An in-place transform never runs decide_allocation, so a downstream
   * change is noticed here. */
  if (GST_EVENT_TYPE (event) == GST_EVENT_RECONFIGURE)
    g_atomic_int_set (&self->allocation_checked, FALSE);
  return GST_BASE_TRANSFORM_CLASS (gst_mnv3_classify_parent_class)->src_event
      (trans, event);
}

/* ---- GObject ----------------------------------------------------------- */

static void
gst_mnv3_classify_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstMnv3Classify *self = GST_MNV3_CLASSIFY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_TOP_K:
      self->top_k = g_value_get_uint (value);
      break;
    case PROP_THRESHOLD:
      self->threshold = g_value_get_double (value);
      break;
    case PROP_SMOOTHING:
      self->smoothing = g_value_get_double (value);
      break;
    case PROP_OVERLAY:
      self->overlay = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_mnv3_classify_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstMnv3Classify *self = GST_MNV3_CLASSIFY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_TOP_K:
      g_value_set_uint (value, self->top_k);
      break;
    case PROP_THRESHOLD:
      g_value_set_double (value, self->threshold);
      break;
    case PROP_SMOOTHING:
      g_value_set_double (value, self->smoothing);
      break;
    case PROP_OVERLAY:
      g_value_set_boolean (value, self->overlay);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_mnv3_classify_class_init (GstMnv3ClassifyClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);
  GstMnv3FilterClass *mnv3_class = GST_MNV3_FILTER_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_mnv3_classify_debug, "mnv3classify", 0,
      "MobileNetV3 image classification");

  gobject_class->set_property = gst_mnv3_classify_set_property;
  gobject_class->get_property = gst_mnv3_classify_get_property;

  /**
   * GstMnv3Classify:top-k:
   *
   * How many of the best classes to report, at most the model's number of
   * classes (fewer when #GstMnv3Classify:threshold removes some).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_TOP_K,
      g_param_spec_uint ("top-k", "Top K",
          "How many of the best classes to report", 1, 1000, DEFAULT_TOP_K,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstMnv3Classify:threshold:
   *
   * Minimum confidence (softmax probability) of a reported class. A frame
   * where no class reaches it gets no metadata.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_THRESHOLD,
      g_param_spec_double ("threshold", "Threshold",
          "Minimum confidence (softmax probability) of a reported class",
          0.0, 1.0, DEFAULT_THRESHOLD,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstMnv3Classify:smoothing:
   *
   * Exponential averaging of the probabilities across inferences: the
   * weight of the previous average, so that 0 turns it off and values
   * closer to 1 smooth more. The reported classes are the best of the
   * average.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_SMOOTHING,
      g_param_spec_double ("smoothing", "Smoothing",
          "Weight of the previous probabilities in a running average "
          "(0 = off)", 0.0, 0.999, DEFAULT_SMOOTHING,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstMnv3Classify:overlay:
   *
   * Draws the best label and its score in a box at the top left corner of
   * the frame: as a #GstVideoOverlayCompositionMeta when downstream renders
   * it, blended into the frame otherwise.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_OVERLAY,
      g_param_spec_boolean ("overlay", "Overlay",
          "Draw the best label and its score on the frame", DEFAULT_OVERLAY,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  gst_element_class_set_static_metadata (element_class,
      "MobileNetV3 classifier", "Filter/Analyzer/Video",
      "Classifies video frames with a MobileNetV3 model and attaches the "
      "best classes as metadata", "mnv3 developers");

  trans_class->src_event = GST_DEBUG_FUNCPTR (gst_mnv3_classify_src_event);
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_mnv3_classify_set_info);

  mnv3_class->task = MNV3_TASK_CLASSIFY;
  mnv3_class->message_name = "mnv3-classification";
  mnv3_class->prepare = gst_mnv3_classify_prepare;
  mnv3_class->release = gst_mnv3_classify_release;
  mnv3_class->read_result = gst_mnv3_classify_read_result;
  mnv3_class->apply_result = gst_mnv3_classify_apply_result;
}

static void
gst_mnv3_classify_init (GstMnv3Classify * self)
{
  self->top_k = DEFAULT_TOP_K;
  self->threshold = DEFAULT_THRESHOLD;
  self->smoothing = DEFAULT_SMOOTHING;
  self->overlay = DEFAULT_OVERLAY;
}
