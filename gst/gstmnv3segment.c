/* mnv3segment: semantic segmentation with an LR-ASPP MobileNetV3 model.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

/**
 * SECTION:element-mnv3segment
 * @title: mnv3segment
 *
 * Segments video frames with an LR-ASPP MobileNetV3 model described by a YAML
 * config. The frames pass through unchanged unless #GstMnv3Segment:overlay
 * paints the classes on them with the config's palette; the element prepares
 * the network's input itself, so no videoconvert or videoscale is needed in
 * front of it.
 *
 * Every frame gets a custom #GstMeta named "Mnv3SegmentationMask" (read it
 * with gst_buffer_get_custom_meta(), also from Python), whose #GstStructure
 * holds:
 *
 * * `mask` (#GstBuffer): the class id of every pixel at network resolution,
 *   GRAY8, `mask_stride` bytes per row, with a #GstVideoMeta
 * * `mask_width`, `mask_height`, `mask_stride` (int)
 * * `x`, `y`, `width`, `height` (int): the rectangle of the frame the mask
 *   covers (the config's centre crop), in frame pixels
 * * `results`: array of structures with `label_id` (int), `label` (string)
 *   and `fraction` (double: share of the mask's pixels), largest first,
 *   for every class present
 * * `stale` (boolean), `frame`, `inference_frame` (guint64): as for
 *   mnv3classify, see #GstMnv3Filter:inference-interval
 *
 * The same result is attached as a #GstVideoRegionOfInterestMeta of
 * roi_type "mnv3-segmentation" over that rectangle, numbered like
 * mnv3classify's (its `id`), whose parameter named "mnv3-segmentation" has
 * `mask`, `mask_width`, `mask_height`, `mask_stride`, `results`, `stale`,
 * `frame`, `inference_frame`, and `element` and `model` (the element's
 * name and the config's model.name): with several mnv3segment elements,
 * gst_buffer_get_custom_meta() finds only the first one's mask, the region
 * metas every one's.
 *
 * With GStreamer 1.26 or newer, the buffer's #GstAnalyticsRelationMeta gets
 * a #GstAnalyticsSegmentationMtd as well: the same mask and rectangle, a
 * semantic segmentation whose region ids are the classes of `results`, in
 * that order. It is related both ways (GST_ANALYTICS_REL_TYPE_N_TO_N) to a
 * #GstAnalyticsClsMtd whose entry i names region i: the label as quark,
 * level -1 (no confidence).
 *
 * With #GstMnv3Filter:post-messages, an element message named
 * "mnv3-segmentation" is posted per frame with `model`, `frame`,
 * `inference_frame`, `pts` (guint64 nanoseconds; GST_CLOCK_TIME_NONE, i.e.
 * G_MAXUINT64, when the buffer has no timestamp), `stale`, `skipped`,
 * `inference_ms` (see mnv3classify) and `results` as above. Live mode and the statistics are
 * those of mnv3classify (#GstMnv3Filter:mode).
 *
 * From Python, read the `results` arrays with Gst.Structure.get_array()
 * (get_value() needs the gst-python overrides for arrays).
 *
 * ## Example launch line
 * No pretrained LR-ASPP weights ship with the project; a seeded random one
 * (whose classes mean nothing, but which exercises everything) is made by
 * the tests' generator:
 * |[
 * python3 tests/gst/make_lraspp.py /tmp/lraspp
 * gst-launch-1.0 filesrc location=../shared/media/video/pedestrians_768x576_10s.ogv ! decodebin ! mnv3segment config=/tmp/lraspp/lraspp.yaml overlay=true alpha=0.5 classes=person ! videoconvert ! autovideosink
 * ]| Shows the clip with the pixels of the "person" class tinted.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmnv3segment.h"

#include <stdlib.h>
#include <string.h>

#ifdef HAVE_GST_ANALYTICS_SEGMENTATION
#include <gst/analytics/analytics.h>
#endif

GST_DEBUG_CATEGORY_STATIC (gst_mnv3_segment_debug);
#define GST_CAT_DEFAULT gst_mnv3_segment_debug

#define ROI_TYPE "mnv3-segmentation"
#define RESULT_NAME "mnv3-segmentation-result"
#define MAX_CLASSES 256         /* a mask holds 8-bit class ids */

enum {
  PROP_0,
  PROP_OVERLAY,
  PROP_ALPHA,
  PROP_CLASSES,
};

#define DEFAULT_OVERLAY TRUE
#define DEFAULT_ALPHA 0.5

struct _GstMnv3Segment {
  GstMnv3Filter parent;

  /* Properties, under the object lock. */
  gboolean overlay;
  gdouble alpha;
  gchar *classes;
  gboolean classes_changed;

  /* Streaming state. */
  uint8_t colors[MAX_CLASSES][3];
  uint8_t enabled[MAX_CLASSES];
  GstBuffer *mask;              /* the last result, GRAY8 */
  gint mask_width, mask_height;
  mnv3_rect placement;
  GValue results;               /* GST_TYPE_ARRAY of result structures */
};

G_DEFINE_TYPE (GstMnv3Segment, gst_mnv3_segment, GST_TYPE_MNV3_FILTER);
GST_ELEMENT_REGISTER_DEFINE (mnv3segment, "mnv3segment", GST_RANK_NONE,
    GST_TYPE_MNV3_SEGMENT);

/* ---- classes to draw --------------------------------------------------- */

static gint
find_class (const mnv3_model * model, const gchar * name)
{
  gint n = mnv3_model_num_classes (model);
  gchar *end;
  glong id = strtol (name, &end, 10);

  if (*name && *end == '\0')
    return id >= 0 && id < n ? (gint) id : -1;
  for (gint c = 0; c < n; c++) {
    const char *label = mnv3_model_label (model, c);
    if (label && g_ascii_strcasecmp (label, name) == 0)
      return c;
  }
  return -1;
}

/* Parses "person, 15, dog" into enabled[]; empty means every class. */
static gboolean
resolve_classes (const mnv3_model * model, const gchar * spec,
    uint8_t enabled[MAX_CLASSES], GError ** error)
{
  gchar **names;
  gboolean any = FALSE, ok = TRUE;

  memset (enabled, 0, MAX_CLASSES);
  names = g_strsplit (spec ? spec : "", ",", -1);
  for (gchar ** p = names; *p && ok; p++) {
    gchar *name = g_strstrip (*p);
    gint id;
    if (!*name)
      continue;
    id = find_class (model, name);
    if (id < 0) {
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "Unknown class \"%s\" in the 'classes' property: give class ids "
          "from 0 to %d or labels from the config's labels file, separated "
          "by commas.", name, mnv3_model_num_classes (model) - 1);
      ok = FALSE;
    } else {
      enabled[id] = 1;
      any = TRUE;
    }
  }
  g_strfreev (names);
  if (ok && !any)
    memset (enabled, 1, MAX_CLASSES);
  return ok;
}

/* ---- results ----------------------------------------------------------- */

static gboolean
gst_mnv3_segment_prepare (GstMnv3Filter * filter, GError ** error)
{
  GstMnv3Segment *self = GST_MNV3_SEGMENT (filter);
  gint n = mnv3_model_num_classes (filter->model);
  mnv3_error err = { {0} };
  gchar *classes;
  gboolean ok;

  if (n > MAX_CLASSES) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "The model has %d classes; mnv3segment handles at most %d.", n,
        MAX_CLASSES);
    return FALSE;
  }
  /* Only the class mask is ever read: the engine then skips the
   * full-resolution score tensor (at 512x1024, 44 MB written and read
   * again per frame) and upsamples a few rows at a time into the argmax. */
  if (mnv3_context_set_mask_only (filter->context, 1, &err) != 0) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "%s", err.message);
    return FALSE;
  }
  memset (self->colors, 0, sizeof self->colors);
  for (gint c = 0; c < n; c++)
    mnv3_model_class_color (filter->model, c, self->colors[c]);

  GST_OBJECT_LOCK (self);
  classes = g_strdup (self->classes);
  self->classes_changed = FALSE;
  GST_OBJECT_UNLOCK (self);
  ok = resolve_classes (filter->model, classes, self->enabled, error);
  g_free (classes);
  return ok;
}

static void
gst_mnv3_segment_release (GstMnv3Filter * filter)
{
  GstMnv3Segment *self = GST_MNV3_SEGMENT (filter);

  gst_clear_buffer (&self->mask);
  if (G_IS_VALUE (&self->results))
    g_value_unset (&self->results);
}

static gint
compare_counts_desc (gconstpointer a, gconstpointer b, gpointer counts)
{
  const guint *n = counts;
  gint ca = *(const gint *) a, cb = *(const gint *) b;
  return n[cb] > n[ca] ? 1 : n[cb] < n[ca] ? -1 : ca - cb;
}

/* The classes present in the mask, largest share first. */
static void
build_results (GstMnv3Segment * self, const guint counts[MAX_CLASSES])
{
  const mnv3_model *model = GST_MNV3_FILTER (self)->model;
  gdouble total = (gdouble) self->mask_width * self->mask_height;
  gint present[MAX_CLASSES], n = 0;

  for (gint c = 0; c < MAX_CLASSES; c++)
    if (counts[c])
      present[n++] = c;
  g_qsort_with_data (present, n, sizeof present[0], compare_counts_desc,
      (gpointer) counts);

  if (G_IS_VALUE (&self->results))
    g_value_unset (&self->results);
  g_value_init (&self->results, GST_TYPE_ARRAY);
  for (gint i = 0; i < n; i++)
    gst_mnv3_value_array_append_structure (&self->results,
        gst_mnv3_result_structure_new (RESULT_NAME, model, present[i],
            "fraction", counts[present[i]] / total));
}

static void
gst_mnv3_segment_read_result (GstMnv3Filter * filter, GstVideoFrame * frame)
{
  GstMnv3Segment *self = GST_MNV3_SEGMENT (filter);
  gint batch, channels, height, width;
  guint counts[MAX_CLASSES] = { 0 };
  GstMapInfo map;
  gsize offset[GST_VIDEO_MAX_PLANES] = { 0 };
  gint strides[GST_VIDEO_MAX_PLANES] = { 0 };

  mnv3_context_output_shape (filter->context, &batch, &channels, &height,
      &width);

  /* A new buffer per inference: frames already sent keep the old one. */
  gst_clear_buffer (&self->mask);
  self->mask = gst_buffer_new_allocate (NULL, (gsize) width * height, NULL);
  /* Only when memory runs out: the frames get no mask until the next
   * inference rather than a wrong one. */
  if (!self->mask || !gst_buffer_map (self->mask, &map, GST_MAP_WRITE)) {
    GST_ELEMENT_WARNING (self, RESOURCE, FAILED, ("Could not keep the class "
            "mask of this frame."), ("allocating or mapping a %dx%d mask "
            "failed", width, height));
    gst_mnv3_segment_release (filter);
    return;
  }
  mnv3_context_class_mask (filter->context, 0, map.data, width);
  for (gsize i = 0; i < map.size; i++)
    counts[map.data[i]]++;
  gst_buffer_unmap (self->mask, &map);
  strides[0] = width;
  gst_buffer_add_video_meta_full (self->mask, GST_VIDEO_FRAME_FLAG_NONE,
      GST_VIDEO_FORMAT_GRAY8, width, height, 1, offset, strides);

  self->mask_width = width;
  self->mask_height = height;
  self->placement = mnv3_model_frame_crop (filter->model,
      GST_VIDEO_FRAME_WIDTH (frame), GST_VIDEO_FRAME_HEIGHT (frame));
  build_results (self, counts);
}

/* ---- metadata, drawing and messages ------------------------------------ */

/* The mask's fields, the same in both metas. */
static void
set_mask_fields (GstMnv3Segment * self, GstStructure * s)
{
  gst_structure_set (s,
      "mask", GST_TYPE_BUFFER, self->mask,
      "mask_width", G_TYPE_INT, self->mask_width,
      "mask_height", G_TYPE_INT, self->mask_height,
      "mask_stride", G_TYPE_INT, self->mask_width, NULL);
}

static void
add_mask_meta (GstMnv3Segment * self, GstBuffer * buffer,
    const GstMnv3FrameInfo * info)
{
  GstCustomMeta *meta = gst_buffer_add_custom_meta (buffer,
      GST_MNV3_SEGMENTATION_MASK_META);
  GstStructure *s = gst_custom_meta_get_structure (meta);

  set_mask_fields (self, s);
  gst_structure_set (s,
      "x", G_TYPE_INT, self->placement.x,
      "y", G_TYPE_INT, self->placement.y,
      "width", G_TYPE_INT, self->placement.width,
      "height", G_TYPE_INT, self->placement.height,
      "stale", G_TYPE_BOOLEAN, info->stale,
      "frame", G_TYPE_UINT64, info->frame,
      "inference_frame", G_TYPE_UINT64, info->inference_frame, NULL);
  gst_structure_set_value (s, "results", &self->results);
}

/* The region the mask covers, as every mnv3 element reports its result. */
static void
add_roi_meta (GstMnv3Segment * self, GstBuffer * buffer,
    const GstMnv3FrameInfo * info)
{
  GstVideoRegionOfInterestMeta *roi =
      gst_mnv3_filter_add_roi (GST_MNV3_FILTER (self), buffer, ROI_TYPE,
      &self->placement);
  GstStructure *param =
      gst_mnv3_filter_result_param_new (GST_MNV3_FILTER (self), ROI_TYPE,
      info, &self->results);

  set_mask_fields (self, param);
  gst_video_region_of_interest_meta_add_param (roi, param);
}

#ifdef HAVE_GST_ANALYTICS_SEGMENTATION
/* The mask as a GstAnalyticsSegmentationMtd whose region ids are the classes
 * present, related N_TO_N (how segmentationoverlay looks for it) to a
 * GstAnalyticsClsMtd naming them: classification index i is region index i.
 * A semantic mask has no confidence per region, so the levels are -1,
 * upstream's "undefined". */
static void
add_analytics_meta (GstMnv3Segment * self, GstBuffer * buffer)
{
  const mnv3_model *model = GST_MNV3_FILTER (self)->model;
  GstAnalyticsRelationMeta *rmeta = gst_buffer_add_analytics_relation_meta
      (buffer);
  guint n = gst_value_array_get_size (&self->results);
  guint *ids = g_newa (guint, n);
  gfloat *levels = g_newa (gfloat, n);
  GQuark *quarks = g_newa (GQuark, n);
  GstAnalyticsSegmentationMtd seg_mtd;
  GstAnalyticsClsMtd cls_mtd;
  gchar buf[32];

  for (guint i = 0; i < n; i++) {
    const GstStructure *r =
        gst_value_get_structure (gst_value_array_get_value (&self->results,
            i));
    gint id = 0;
    gst_structure_get_int (r, "label_id", &id);
    ids[i] = id;
    levels[i] = -1.0f;
    quarks[i] = g_quark_from_string (gst_mnv3_class_label (model, id, buf,
            sizeof buf));
  }
  /* The mtd owns a reference to the mask only when it was added. */
  if (!gst_analytics_relation_meta_add_segmentation_mtd (rmeta,
          gst_buffer_ref (self->mask), GST_SEGMENTATION_TYPE_SEMANTIC, n, ids,
          self->placement.x, self->placement.y, self->placement.width,
          self->placement.height, &seg_mtd)) {
    gst_buffer_unref (self->mask);
    GST_WARNING_OBJECT (self, "could not add the segmentation mtd");
    return;
  }
  if (!gst_analytics_relation_meta_add_cls_mtd (rmeta, n, levels, quarks,
          &cls_mtd)
      || !gst_analytics_relation_meta_set_relation (rmeta,
          GST_ANALYTICS_REL_TYPE_N_TO_N, seg_mtd.id, cls_mtd.id)
      || !gst_analytics_relation_meta_set_relation (rmeta,
          GST_ANALYTICS_REL_TYPE_N_TO_N, cls_mtd.id, seg_mtd.id))
    GST_WARNING_OBJECT (self, "could not name the segmentation's regions");
}
#endif

static void
draw_mask (GstMnv3Segment * self, GstVideoFrame * frame, gdouble alpha)
{
  mnv3_frame target;
  uint8_t *planes[3];
  mnv3_blend blend;
  mnv3_error err = { {0} };
  GstMapInfo map;

  gst_mnv3_filter_wrap_frame (GST_MNV3_FILTER (self), frame, &target, planes);
  if (!gst_buffer_map (self->mask, &map, GST_MAP_READ)) {
    GST_ELEMENT_WARNING (self, RESOURCE, FAILED, ("Could not draw the mask."),
        ("mapping the mask failed"));
    return;
  }
  /* The rows are split over the context's threads: inference is over and
   * this (streaming) thread owns the context meanwhile. */
  blend.mask = map.data;
  blend.mask_width = blend.mask_stride = self->mask_width;
  blend.mask_height = self->mask_height;
  blend.colors = (const uint8_t (*)[3]) self->colors;
  blend.enabled = self->enabled;
  blend.alpha = (float) alpha;
  if (mnv3_blend_mask (GST_MNV3_FILTER (self)->context, &target, planes,
          &self->placement, &blend, &err) != 0)
    GST_ELEMENT_WARNING (self, STREAM, FAILED, ("Could not draw the mask."),
        ("%s", err.message));
  gst_buffer_unmap (self->mask, &map);
}

static void
gst_mnv3_segment_apply_result (GstMnv3Filter * filter, GstVideoFrame * frame,
    const GstMnv3FrameInfo * info, GstStructure * message)
{
  GstMnv3Segment *self = GST_MNV3_SEGMENT (filter);
  gboolean overlay;
  gdouble alpha;
  gchar *classes = NULL;

  GST_OBJECT_LOCK (self);
  overlay = self->overlay;
  alpha = self->alpha;
  if (self->classes_changed) {
    classes = g_strdup (self->classes);
    self->classes_changed = FALSE;
  }
  GST_OBJECT_UNLOCK (self);

  if (classes) {
    /* Changed while running: keep drawing the old set if the new one is
     * wrong, and say why. */
    uint8_t enabled[MAX_CLASSES];
    GError *error = NULL;
    if (resolve_classes (filter->model, classes, enabled, &error))
      memcpy (self->enabled, enabled, sizeof enabled);
    else
      GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS, ("%s", error->message),
          (NULL));
    g_clear_error (&error);
    g_free (classes);
  }

  if (!self->mask)
    return;
  add_mask_meta (self, frame->buffer, info);
  add_roi_meta (self, frame->buffer, info);
#ifdef HAVE_GST_ANALYTICS_SEGMENTATION
  add_analytics_meta (self, frame->buffer);
#endif
  if (overlay)
    draw_mask (self, frame, alpha);
  if (message)
    gst_structure_set_value (message, "results", &self->results);
}

/* ---- GObject ----------------------------------------------------------- */

static void
gst_mnv3_segment_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstMnv3Segment *self = GST_MNV3_SEGMENT (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_OVERLAY:
      self->overlay = g_value_get_boolean (value);
      break;
    case PROP_ALPHA:
      self->alpha = g_value_get_double (value);
      break;
    case PROP_CLASSES:
      g_free (self->classes);
      self->classes = g_value_dup_string (value);
      self->classes_changed = TRUE;
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_mnv3_segment_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstMnv3Segment *self = GST_MNV3_SEGMENT (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_OVERLAY:
      g_value_set_boolean (value, self->overlay);
      break;
    case PROP_ALPHA:
      g_value_set_double (value, self->alpha);
      break;
    case PROP_CLASSES:
      g_value_set_string (value, self->classes);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_mnv3_segment_finalize (GObject * object)
{
  GstMnv3Segment *self = GST_MNV3_SEGMENT (object);

  g_free (self->classes);
  G_OBJECT_CLASS (gst_mnv3_segment_parent_class)->finalize (object);
}

static void
gst_mnv3_segment_class_init (GstMnv3SegmentClass * klass)
{
  static const gchar *mask_tags[] = { GST_META_TAG_VIDEO_STR,
    GST_META_TAG_VIDEO_SIZE_STR, GST_META_TAG_VIDEO_ORIENTATION_STR, NULL
  };
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstMnv3FilterClass *mnv3_class = GST_MNV3_FILTER_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_mnv3_segment_debug, "mnv3segment", 0,
      "MobileNetV3 semantic segmentation");

  /* Tagged with the frame's geometry: elements that scale, crop or rotate
   * the frame drop it instead of passing on wrong coordinates. */
  gst_meta_register_custom (GST_MNV3_SEGMENTATION_MASK_META, mask_tags, NULL,
      NULL, NULL);

  gobject_class->set_property = gst_mnv3_segment_set_property;
  gobject_class->get_property = gst_mnv3_segment_get_property;
  gobject_class->finalize = gst_mnv3_segment_finalize;

  /**
   * GstMnv3Segment:overlay:
   *
   * Paints the classes of the mask (those #GstMnv3Segment:classes enables)
   * on the frame in their palette colours, mixed with the frame at
   * #GstMnv3Segment:alpha. The mask is scaled to the part of the frame the
   * network saw (the config's centre crop) with nearest neighbour. Off, the
   * frames pass through unchanged.
   *
   * Since: 0.1 (a boolean since 0.2; 0.1's overlay=blend is overlay=true,
   * overlay=mask-only is overlay=true alpha=1 and overlay=none is
   * overlay=false)
   */
  g_object_class_install_property (gobject_class, PROP_OVERLAY,
      g_param_spec_boolean ("overlay", "Overlay",
          "Paint the classes on the frame (see alpha and classes)",
          DEFAULT_OVERLAY, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstMnv3Segment:alpha:
   *
   * Opacity of the class colours #GstMnv3Segment:overlay paints: 0 leaves
   * the frame as it is, 1 paints the colours opaquely.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_ALPHA,
      g_param_spec_double ("alpha", "Alpha",
          "Opacity of the class colours overlay paints (1 = opaque)", 0.0,
          1.0, DEFAULT_ALPHA, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstMnv3Segment:classes:
   *
   * The classes #GstMnv3Segment:overlay paints, as comma-separated class ids
   * or labels from the config's labels file (e.g. "person,15"); empty paints
   * every class. A class the model does not have fails the start; set while
   * playing, it is refused with a warning and the previous set is kept. The
   * metadata always covers every class.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_CLASSES,
      g_param_spec_string ("classes", "Classes",
          "Classes to paint: comma-separated ids or labels; empty = all", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  gst_element_class_set_static_metadata (element_class,
      "MobileNetV3 segmenter", "Filter/Analyzer/Video",
      "Segments video frames with an LR-ASPP MobileNetV3 model, attaches the "
      "class mask as metadata and optionally paints it",
      "mnv3 developers");

  mnv3_class->task = MNV3_TASK_SEGMENT;
  mnv3_class->message_name = "mnv3-segmentation";
  mnv3_class->prepare = gst_mnv3_segment_prepare;
  mnv3_class->release = gst_mnv3_segment_release;
  mnv3_class->read_result = gst_mnv3_segment_read_result;
  mnv3_class->apply_result = gst_mnv3_segment_apply_result;
}

static void
gst_mnv3_segment_init (GstMnv3Segment * self)
{
  self->overlay = DEFAULT_OVERLAY;
  self->alpha = DEFAULT_ALPHA;
}
