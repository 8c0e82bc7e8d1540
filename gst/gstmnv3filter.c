/* mnv3 GStreamer plugin: GstMnv3Filter, the base class of mnv3classify and
 * mnv3segment.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

/**
 * SECTION:gstmnv3filter
 * @title: GstMnv3Filter
 * @short_description: Base class for the mnv3 inference elements
 *
 * GstMnv3Filter is the abstract in-place #GstVideoFilter that mnv3classify
 * and mnv3segment derive from. It owns everything the two have in common:
 * the model properties (#GstMnv3Filter:config, #GstMnv3Filter:weights,
 * #GstMnv3Filter:threads), loading the model (elements with the same config
 * and weights share one) and creating an inference context when the element
 * starts, switching models at a frame boundary when the config changes
 * while playing, accepting every video format the engine reads, running the
 * network every #GstMnv3Filter:inference-interval frames and posting the
 * per-frame element messages (#GstMnv3Filter:post-messages). It also owns
 * live mode (#GstMnv3Filter:mode: skipping inference on frames that would
 * be late), its share of the LATENCY query and the statistics.
 *
 * A subclass sets the model task it runs and the name of its messages in
 * #GstMnv3FilterClass, and implements read_result() (turn the network's
 * output into a result) and apply_result() (attach and draw that result on
 * every frame, fill the message), with prepare() and release() for the
 * state it sizes for the model.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmnv3filter.h"
#include "gstmnv3filterlive.h"
#include "gstmnv3modelcache.h"

#include <string.h>

GST_DEBUG_CATEGORY (gst_mnv3_filter_debug);
#define GST_CAT_DEFAULT gst_mnv3_filter_debug

/* The one place that says which GStreamer formats the engine reads. The pad
 * templates are built from it and set_info() maps through it. */
static const struct {
  GstVideoFormat gst;
  mnv3_pixel_format mnv3;
} format_map[] = {
  {GST_VIDEO_FORMAT_RGB, MNV3_PIXEL_RGB},
  {GST_VIDEO_FORMAT_BGR, MNV3_PIXEL_BGR},
  {GST_VIDEO_FORMAT_RGBx, MNV3_PIXEL_RGBX},
  {GST_VIDEO_FORMAT_BGRx, MNV3_PIXEL_BGRX},
  {GST_VIDEO_FORMAT_xRGB, MNV3_PIXEL_XRGB},
  {GST_VIDEO_FORMAT_xBGR, MNV3_PIXEL_XBGR},
  {GST_VIDEO_FORMAT_RGBA, MNV3_PIXEL_RGBA},
  {GST_VIDEO_FORMAT_BGRA, MNV3_PIXEL_BGRA},
  {GST_VIDEO_FORMAT_ARGB, MNV3_PIXEL_ARGB},
  {GST_VIDEO_FORMAT_ABGR, MNV3_PIXEL_ABGR},
  {GST_VIDEO_FORMAT_I420, MNV3_PIXEL_I420},
  {GST_VIDEO_FORMAT_YV12, MNV3_PIXEL_YV12},
  {GST_VIDEO_FORMAT_NV12, MNV3_PIXEL_NV12},
  {GST_VIDEO_FORMAT_NV21, MNV3_PIXEL_NV21},
  {GST_VIDEO_FORMAT_GRAY8, MNV3_PIXEL_GRAY8},
};

enum {
  PROP_0,
  PROP_CONFIG,
  PROP_WEIGHTS,
  PROP_THREADS,
  PROP_INFERENCE_INTERVAL,
  PROP_POST_MESSAGES,
  PROP_MODE,
  PROP_STATS_INTERVAL,
  PROP_LIVE,
  PROP_FRAMES_IN,
  PROP_FRAMES_INFERRED,
  PROP_FRAMES_SKIPPED,
  PROP_MEAN_INFERENCE_MS,
  PROP_FPS,
  PROP_AVERAGE_FPS,
  PROP_MAX_INFERENCE_MS,
  PROP_PRECISION,
};

#define DEFAULT_THREADS 0
#define DEFAULT_INFERENCE_INTERVAL 1
#define DEFAULT_POST_MESSAGES FALSE
#define DEFAULT_MODE GST_MNV3_FILTER_MODE_AUTO
#define DEFAULT_STATS_INTERVAL 0

GType
gst_mnv3_filter_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_MNV3_FILTER_MODE_AUTO, "Live when the upstream source is live, "
          "batch otherwise", "auto"},
    {GST_MNV3_FILTER_MODE_LIVE, "Skip inference on frames that would be "
          "late and re-attach the last result marked stale", "live"},
    {GST_MNV3_FILTER_MODE_BATCH, "Infer every frame (by inference-interval), "
          "never skip nor drop", "batch"},
    {0, NULL, NULL},
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstMnv3FilterMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

G_DEFINE_ABSTRACT_TYPE (GstMnv3Filter, gst_mnv3_filter, GST_TYPE_VIDEO_FILTER);

/* ---- helpers ----------------------------------------------------------- */

const gchar *
gst_mnv3_class_label (const mnv3_model * model, gint class_id, gchar * buf,
    gsize buf_size)
{
  const char *label = mnv3_model_label (model, class_id);
  if (label)
    return label;
  g_snprintf (buf, buf_size, "class %d", class_id);
  return buf;
}

GstStructure *
gst_mnv3_result_structure_new (const gchar * name, const mnv3_model * model,
    gint class_id, const gchar * value_field, gdouble value)
{
  gchar buf[32];
  return gst_structure_new (name,
      "label_id", G_TYPE_INT, class_id,
      "label", G_TYPE_STRING, gst_mnv3_class_label (model, class_id, buf,
          sizeof buf), value_field, G_TYPE_DOUBLE, value, NULL);
}

void
gst_mnv3_value_array_append_structure (GValue * array, GstStructure * s)
{
  GValue v = G_VALUE_INIT;
  g_value_init (&v, GST_TYPE_STRUCTURE);
  g_value_take_boxed (&v, s);
  gst_value_array_append_and_take_value (array, &v);
}

GstVideoRegionOfInterestMeta *
gst_mnv3_filter_add_roi (GstMnv3Filter * self, GstBuffer * buffer,
    const gchar * roi_type, const mnv3_rect * rect)
{
  /* GI cannot iterate metas: Python finds each ROI by its id with
   * GstVideo.buffer_get_video_region_of_interest_meta_id(), so the ids
   * count the buffer's ROI metas (0, 1, ... when every element numbers them
   * so). */
  guint id = gst_buffer_get_n_meta (buffer,
      GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE);
  GstVideoRegionOfInterestMeta *roi =
      gst_buffer_add_video_region_of_interest_meta (buffer, roi_type, rect->x,
      rect->y, rect->width, rect->height);

  roi->id = (gint) id;
  return roi;
}

GstStructure *
gst_mnv3_filter_result_param_new (GstMnv3Filter * self, const gchar * name,
    const GstMnv3FrameInfo * info, const GValue * results)
{
  GstStructure *param = gst_structure_new (name,
      "model", G_TYPE_STRING, mnv3_model_name (self->model),
      "stale", G_TYPE_BOOLEAN, info->stale,
      "frame", G_TYPE_UINT64, info->frame,
      "inference_frame", G_TYPE_UINT64, info->inference_frame, NULL);

  GST_OBJECT_LOCK (self);
  gst_structure_set (param, "element", G_TYPE_STRING, GST_OBJECT_NAME (self),
      NULL);
  GST_OBJECT_UNLOCK (self);
  gst_structure_set_value (param, "results", results);
  return param;
}

static gboolean
map_format (GstVideoFormat format, mnv3_pixel_format * out)
{
  for (guint i = 0; i < G_N_ELEMENTS (format_map); i++) {
    if (format_map[i].gst == format) {
      *out = format_map[i].mnv3;
      return TRUE;
    }
  }
  return FALSE;
}

void
gst_mnv3_filter_wrap_frame (GstMnv3Filter * self, const GstVideoFrame * frame,
    mnv3_frame * out, uint8_t * planes[3])
{
  const GstVideoInfo *info = &frame->info;
  gboolean planar_yuv = self->pixel_format == MNV3_PIXEL_I420
      || self->pixel_format == MNV3_PIXEL_YV12;

  memset (out, 0, sizeof *out);
  out->format = self->pixel_format;
  out->width = GST_VIDEO_INFO_WIDTH (info);
  out->height = GST_VIDEO_INFO_HEIGHT (info);
  out->full_range =
      GST_VIDEO_INFO_COLORIMETRY (info).range == GST_VIDEO_COLOR_RANGE_0_255;
  for (guint i = 0; i < 3; i++) {
    planes[i] = NULL;
    if (planar_yuv) {
      /* Components in Y, U, V order whatever the memory order (YV12). */
      planes[i] = GST_VIDEO_FRAME_COMP_DATA (frame, i);
      out->strides[i] = GST_VIDEO_FRAME_COMP_STRIDE (frame, i);
    } else if (i < GST_VIDEO_FRAME_N_PLANES (frame)) {
      planes[i] = GST_VIDEO_FRAME_PLANE_DATA (frame, i);
      out->strides[i] = GST_VIDEO_FRAME_PLANE_STRIDE (frame, i);
    }
    out->planes[i] = planes[i];
  }
}

/* Posts an error or warning: the user-facing text is the GError's message,
 * `debug` (may be NULL) the details for developers. */
static void
post_problem (GstMnv3Filter * self, GstMessageType type, const GError * error,
    const gchar * debug)
{
  gst_element_message_full (GST_ELEMENT (self), type, error->domain,
      error->code, g_strdup (error->message), g_strdup (debug), __FILE__,
      GST_FUNCTION, __LINE__);
}

/* ---- GstBaseTransform / GstVideoFilter --------------------------------- */

/* The model settings, copied under the lock so that loading runs without it;
 * they are now the ones in use. */
static void
copy_model_settings (GstMnv3Filter * self, gchar ** config, gchar ** weights,
    gint * threads)
{
  GST_OBJECT_LOCK (self);
  *config = g_strdup (self->config);
  *weights = g_strdup (self->weights);
  *threads = self->threads;
  self->model_changed = FALSE;
  GST_OBJECT_UNLOCK (self);
}

/* Drops this element's context and its reference on the shared model. */
static void
publish_precision (GstMnv3Filter * self)
{
  GST_OBJECT_LOCK (self);
  self->precision = self->model ? mnv3_model_precision (self->model) : NULL;
  GST_OBJECT_UNLOCK (self);
}

static void
release_model (GstMnv3Filter * self)
{
  if (self->context) {
    mnv3_context_free (self->context);
    self->context = NULL;
  }
  if (self->model) {
    gst_mnv3_model_cache_release (self->cache_key);
    g_clear_pointer (&self->cache_key, g_free);
    self->model = NULL;
  }
  GST_OBJECT_LOCK (self);
  self->precision = NULL;
  GST_OBJECT_UNLOCK (self);
}

/* Loads (through the cache) the model of `config` and `weights`, checks that
 * it has the subclass's task and creates a context for it: the one way
 * start() and reload_model() get a model. On failure, `error` has the
 * user-facing message and *debug the engine's details (or NULL). */
static gboolean
open_model (GstMnv3Filter * self, const gchar * config, const gchar * weights,
    gint threads, mnv3_model ** model, mnv3_context ** context, gchar ** key,
    GError ** error, gchar ** debug)
{
  GstMnv3FilterClass *klass = GST_MNV3_FILTER_GET_CLASS (self);
  mnv3_error err = { {0} };

  *model = NULL;
  *context = NULL;
  *key = NULL;
  *debug = NULL;
  if (!config || !*config) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "No model configuration: set the 'config' property to a model YAML "
        "file (see the configs/ folder).");
    return FALSE;
  }
  *model = gst_mnv3_model_cache_acquire (config, weights, key, &err);
  if (!*model) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Could not load the model of %s.", config);
    *debug = g_strdup (err.message);
    return FALSE;
  }
  if (mnv3_model_task (*model) != klass->task) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "%s describes a %s model (%s), which %s cannot run: use %s instead.",
        config, klass->task == MNV3_TASK_CLASSIFY ? "segmentation" :
        "classification", mnv3_model_architecture (*model),
        GST_ELEMENT_NAME (self), klass->task == MNV3_TASK_CLASSIFY ?
        "mnv3segment" : "mnv3classify");
  } else if (!(*context = mnv3_context_new (*model, threads, &err))) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NO_SPACE_LEFT,
        "Could not create an inference context.");
    *debug = g_strdup (err.message);
  } else {
    return TRUE;
  }
  gst_mnv3_model_cache_release (*key);
  g_clear_pointer (key, g_free);
  *model = NULL;
  return FALSE;
}

static gboolean
gst_mnv3_filter_start (GstBaseTransform * trans)
{
  GstMnv3Filter *self = GST_MNV3_FILTER (trans);
  GstMnv3FilterClass *klass = GST_MNV3_FILTER_GET_CLASS (self);
  gchar *config, *weights, *debug = NULL;
  gint threads;
  GError *error = NULL;

  copy_model_settings (self, &config, &weights, &threads);

  if (!open_model (self, config, weights, threads, &self->model,
          &self->context, &self->cache_key, &error, &debug)
      || (klass->prepare && !klass->prepare (self, &error))) {
    post_problem (self, GST_MESSAGE_ERROR, error, debug);
    g_clear_error (&error);
    g_free (debug);
    g_free (config);
    g_free (weights);
    /* stop() is not called when start() fails. */
    release_model (self);
    return FALSE;
  }
  publish_precision (self);

  self->frame_number = 0;
  self->have_result = FALSE;
  gst_mnv3_filter_reset_live_state (self);
  GST_INFO_OBJECT (self, "model %s ready (%s kernels)", config,
      mnv3_isa_name ());
  g_free (config);
  g_free (weights);
  return TRUE;
}

static gboolean
gst_mnv3_filter_stop (GstBaseTransform * trans)
{
  GstMnv3Filter *self = GST_MNV3_FILTER (trans);
  GstMnv3FilterClass *klass = GST_MNV3_FILTER_GET_CLASS (self);

  if (klass->release)
    klass->release (self);
  self->have_result = FALSE;
  release_model (self);
  return TRUE;
}

static gboolean
gst_mnv3_filter_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstMnv3Filter *self = GST_MNV3_FILTER (filter);

  if (!map_format (GST_VIDEO_INFO_FORMAT (in_info), &self->pixel_format)) {
    /* The pad templates exclude this; it stays as a guard. */
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("Video format %s is not "
            "supported: convert to RGB, BGR, RGBx, I420, NV12 or GRAY8 first.",
            GST_VIDEO_INFO_NAME (in_info)), (NULL));
    return FALSE;
  }
  /* A result from frames of another size or format is not reused. */
  self->have_result = FALSE;
  self->frame_duration = GST_VIDEO_INFO_FPS_N (in_info) > 0 ?
      gst_util_uint64_scale_int (GST_SECOND, GST_VIDEO_INFO_FPS_D (in_info),
      GST_VIDEO_INFO_FPS_N (in_info)) : GST_CLOCK_TIME_NONE;
  /* The source is linked and has its caps now, so it can say whether it is
   * live; the pipeline's LATENCY queries keep this up to date later. */
  gst_mnv3_filter_query_upstream_live (self);
  GST_DEBUG_OBJECT (self, "negotiated %s %dx%d", GST_VIDEO_INFO_NAME (in_info),
      GST_VIDEO_INFO_WIDTH (in_info), GST_VIDEO_INFO_HEIGHT (in_info));
  return TRUE;
}

/* Loads the model of a config or weights set while running, into a new
 * model and context, and switches to them only once they are complete: a
 * frame is always inferred by one whole model, the old or the new. A config
 * that cannot be loaded (or has the wrong task) is refused with a warning
 * and the current model is kept. Runs in the streaming thread, between
 * frames. Returns FALSE (after posting an error) only when neither model
 * can be prepared. */
static gboolean
reload_model (GstMnv3Filter * self)
{
  GstMnv3FilterClass *klass = GST_MNV3_FILTER_GET_CLASS (self);
  gchar *config, *weights, *key, *debug;
  gint threads;
  mnv3_model *model;
  mnv3_context *context;
  mnv3_model *old_model = self->model;
  mnv3_context *old_context = self->context;
  gchar *old_key = self->cache_key;
  GError *error = NULL;
  gboolean ok = TRUE;

  copy_model_settings (self, &config, &weights, &threads);

  if (!open_model (self, config, weights, threads, &model, &context, &key,
          &error, &debug)) {
    g_prefix_error (&error, "Not switching models, keeping the previous "
        "one: ");
    post_problem (self, GST_MESSAGE_WARNING, error, debug);
    g_clear_error (&error);
    g_free (debug);
    g_free (config);
    g_free (weights);
    return TRUE;
  }

  /* Switch: the subclass state is sized for the model, so it is rebuilt. */
  if (klass->release)
    klass->release (self);
  self->model = model;
  self->context = context;
  self->cache_key = key;
  publish_precision (self);
  if (klass->prepare && !klass->prepare (self, &error)) {
    /* The new model does not suit the other settings: back to the old. */
    if (klass->release)
      klass->release (self);
    self->model = old_model;
    self->context = old_context;
    self->cache_key = old_key;
    publish_precision (self);
    old_model = model;
    old_context = context;
    old_key = key;
    if (klass->prepare && !klass->prepare (self, NULL)) {
      g_prefix_error (&error, "Could not switch to the model of %s, nor go "
          "back to the previous one: ", config);
      post_problem (self, GST_MESSAGE_ERROR, error, NULL);
      ok = FALSE;
    } else {
      g_prefix_error (&error, "Not switching models, keeping the previous "
          "one: ");
      post_problem (self, GST_MESSAGE_WARNING, error, NULL);
    }
  } else {
    GST_INFO_OBJECT (self, "switched to the model of %s", config);
  }
  /* The result came from the other model: the next frame is inferred. */
  self->have_result = FALSE;
  mnv3_context_free (old_context);
  gst_mnv3_model_cache_release (old_key);
  g_free (old_key);
  g_clear_error (&error);
  g_free (config);
  g_free (weights);
  return ok;
}

static GstFlowReturn
gst_mnv3_filter_transform_frame_ip (GstVideoFilter * filter,
    GstVideoFrame * frame)
{
  GstMnv3Filter *self = GST_MNV3_FILTER (filter);
  GstMnv3FilterClass *klass = GST_MNV3_FILTER_GET_CLASS (self);
  GstMnv3FrameInfo info;
  GstStructure *message = NULL;
  guint interval;
  gboolean post, live, reload, infer, skipped = FALSE;
  GstClockTime took = GST_CLOCK_TIME_NONE;

  GST_OBJECT_LOCK (self);
  interval = self->inference_interval;
  post = self->post_messages;
  live = self->live;
  reload = self->model_changed;
  GST_OBJECT_UNLOCK (self);

  if (reload && !reload_model (self))
    return GST_FLOW_ERROR;

  infer = !self->have_result
      || self->frame_number - self->result_frame >= interval;
  /* Without a result there is nothing to re-attach: the first frame is
   * always inferred. */
  if (infer && live && self->have_result && gst_mnv3_filter_should_skip (self,
          frame->buffer)) {
    infer = FALSE;
    skipped = TRUE;
  }

  if (infer) {
    mnv3_error err = { {0} };
    mnv3_frame input;
    uint8_t *planes[3];
    gint64 begin = g_get_monotonic_time ();

    gst_mnv3_filter_wrap_frame (self, frame, &input, planes);
    if (mnv3_context_set_frame (self->context, 0, &input, NULL, &err) != 0
        || mnv3_context_run (self->context, 1, &err) != 0) {
      GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Inference failed."),
          ("%s", err.message));
      return GST_FLOW_ERROR;
    }
    klass->read_result (self, frame);
    self->have_result = TRUE;
    self->result_frame = self->frame_number;
    took = (g_get_monotonic_time () - begin) * GST_USECOND;
    gst_mnv3_filter_record_inference (self, took);
  }

  GST_OBJECT_LOCK (self);
  gst_mnv3_filter_count_frame (self, skipped);
  GST_OBJECT_UNLOCK (self);

  info.frame = self->frame_number;
  info.inference_frame = self->result_frame;
  info.pts = GST_BUFFER_PTS (frame->buffer);
  info.stale = info.frame != info.inference_frame;
  if (post)
    message = gst_structure_new (klass->message_name,
        "model", G_TYPE_STRING, mnv3_model_name (self->model),
        "frame", G_TYPE_UINT64, info.frame,
        "inference_frame", G_TYPE_UINT64, info.inference_frame,
        "pts", G_TYPE_UINT64, (guint64) info.pts,
        "stale", G_TYPE_BOOLEAN, info.stale,
        "skipped", G_TYPE_BOOLEAN, skipped, NULL);
  if (message && GST_CLOCK_TIME_IS_VALID (took))
    gst_structure_set (message, "inference_ms", G_TYPE_DOUBLE, took / 1e6,
        NULL);

  klass->apply_result (self, frame, &info, message);

  if (message)
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self), message));
  self->frame_number++;
  gst_mnv3_filter_maybe_post_stats (self, FALSE);
  return GST_FLOW_OK;
}

static gboolean
gst_mnv3_filter_query (GstBaseTransform * trans, GstPadDirection direction,
    GstQuery * query)
{
  GstMnv3Filter *self = GST_MNV3_FILTER (trans);
  gboolean live;
  GstClockTime min, max, ours;

  if (direction != GST_PAD_SRC || GST_QUERY_TYPE (query) != GST_QUERY_LATENCY)
    return GST_BASE_TRANSFORM_CLASS (gst_mnv3_filter_parent_class)->query
        (trans, direction, query);

  /* Upstream's answer first (the default handler forwards it), then our
   * own time on top: a frame leaves us one inference after it came in. */
  if (!GST_BASE_TRANSFORM_CLASS (gst_mnv3_filter_parent_class)->query (trans,
          direction, query))
    return FALSE;
  gst_query_parse_latency (query, &live, &min, &max);

  GST_OBJECT_LOCK (self);
  self->upstream_live = live;
  gst_mnv3_filter_update_live (self);
  ours = self->latency_estimate;
  self->reported_latency = ours;
  GST_OBJECT_UNLOCK (self);

  min += ours;
  if (GST_CLOCK_TIME_IS_VALID (max))
    max += ours;
  gst_query_set_latency (query, live, min, max);
  GST_DEBUG_OBJECT (self, "latency: upstream %s, ours %" GST_TIME_FORMAT
      ", total min %" GST_TIME_FORMAT " max %" GST_TIME_FORMAT,
      live ? "live" : "not live", GST_TIME_ARGS (ours), GST_TIME_ARGS (min),
      GST_TIME_ARGS (max));
  return TRUE;
}

static gboolean
gst_mnv3_filter_src_event (GstBaseTransform * trans, GstEvent * event)
{
  GstMnv3Filter *self = GST_MNV3_FILTER (trans);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_LATENCY:{
      GstClockTime latency;
      gst_event_parse_latency (event, &latency);
      GST_OBJECT_LOCK (self);
      self->pipeline_latency = latency;
      GST_OBJECT_UNLOCK (self);
      GST_DEBUG_OBJECT (self, "pipeline latency %" GST_TIME_FORMAT,
          GST_TIME_ARGS (latency));
      break;
    }
    case GST_EVENT_QOS:{
      GstQOSType type;
      gdouble proportion;
      GstClockTimeDiff diff;
      GstClockTime timestamp;
      gst_event_parse_qos (event, &type, &proportion, &diff, &timestamp);
      /* Frames up to timestamp + diff (running time) would reach the sink
       * late; only the live mode uses it. */
      GST_OBJECT_LOCK (self);
      if (GST_CLOCK_TIME_IS_VALID (timestamp) && diff > 0)
        self->qos_earliest = timestamp + diff;
      else
        self->qos_earliest = GST_CLOCK_TIME_NONE;
      GST_OBJECT_UNLOCK (self);
      break;
    }
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (gst_mnv3_filter_parent_class)->src_event
      (trans, event);
}

static gboolean
gst_mnv3_filter_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstMnv3Filter *self = GST_MNV3_FILTER (trans);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_STOP:
      GST_OBJECT_LOCK (self);
      self->qos_earliest = GST_CLOCK_TIME_NONE;
      GST_OBJECT_UNLOCK (self);
      break;
    case GST_EVENT_EOS:
      /* The totals of a finished stream, whatever the period. */
      gst_mnv3_filter_maybe_post_stats (self, TRUE);
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (gst_mnv3_filter_parent_class)->sink_event
      (trans, event);
}

/* ---- GObject ----------------------------------------------------------- */

static void
gst_mnv3_filter_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstMnv3Filter *self = GST_MNV3_FILTER (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_CONFIG:
      g_free (self->config);
      self->config = g_value_dup_string (value);
      /* Only meaningful while started; start() clears it. */
      self->model_changed = TRUE;
      break;
    case PROP_WEIGHTS:
      g_free (self->weights);
      self->weights = g_value_dup_string (value);
      if (self->weights && !*self->weights)
        g_clear_pointer (&self->weights, g_free);
      self->model_changed = TRUE;
      break;
    case PROP_THREADS:
      self->threads = g_value_get_int (value);
      break;
    case PROP_INFERENCE_INTERVAL:
      self->inference_interval = g_value_get_uint (value);
      break;
    case PROP_POST_MESSAGES:
      self->post_messages = g_value_get_boolean (value);
      break;
    case PROP_MODE:
      self->mode = g_value_get_enum (value);
      gst_mnv3_filter_update_live (self);
      break;
    case PROP_STATS_INTERVAL:
      self->stats_interval = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_mnv3_filter_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstMnv3Filter *self = GST_MNV3_FILTER (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_CONFIG:
      g_value_set_string (value, self->config);
      break;
    case PROP_WEIGHTS:
      g_value_set_string (value, self->weights);
      break;
    case PROP_THREADS:
      g_value_set_int (value, self->threads);
      break;
    case PROP_INFERENCE_INTERVAL:
      g_value_set_uint (value, self->inference_interval);
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean (value, self->post_messages);
      break;
    case PROP_MODE:
      g_value_set_enum (value, self->mode);
      break;
    case PROP_STATS_INTERVAL:
      g_value_set_uint (value, self->stats_interval);
      break;
    case PROP_LIVE:
      g_value_set_boolean (value, self->live);
      break;
    case PROP_FRAMES_IN:
      g_value_set_uint64 (value, self->frames_in);
      break;
    case PROP_FRAMES_INFERRED:
      g_value_set_uint64 (value, self->frames_inferred);
      break;
    case PROP_FRAMES_SKIPPED:
      g_value_set_uint64 (value, self->frames_skipped);
      break;
    case PROP_MEAN_INFERENCE_MS:
      g_value_set_double (value, self->frames_inferred ?
          self->total_inference_ms / self->frames_inferred : 0.0);
      break;
    case PROP_MAX_INFERENCE_MS:
      g_value_set_double (value, self->max_inference_ms);
      break;
    case PROP_FPS:
      g_value_set_double (value, gst_mnv3_filter_current_fps (self));
      break;
    case PROP_AVERAGE_FPS:
      g_value_set_double (value, gst_mnv3_filter_average_fps (self));
      break;
    case PROP_PRECISION:
      g_value_set_string (value, self->precision);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_mnv3_filter_finalize (GObject * object)
{
  GstMnv3Filter *self = GST_MNV3_FILTER (object);

  g_free (self->config);
  g_free (self->weights);
  G_OBJECT_CLASS (gst_mnv3_filter_parent_class)->finalize (object);
}

static void
gst_mnv3_filter_class_init (GstMnv3FilterClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);
  GstVideoFormat formats[G_N_ELEMENTS (format_map)];
  GstCaps *caps;

  GST_DEBUG_CATEGORY_INIT (gst_mnv3_filter_debug, "mnv3filter", 0,
      "mnv3 elements' shared base class");

  gobject_class->set_property = gst_mnv3_filter_set_property;
  gobject_class->get_property = gst_mnv3_filter_get_property;
  gobject_class->finalize = gst_mnv3_filter_finalize;

  /**
   * GstMnv3Filter:config:
   *
   * Path of the model's YAML config: architecture, weights, labels, input
   * size and normalisation (see the configs/ folder).
   *
   * Set while playing, the new model is loaded and replaces the current one
   * at the next frame boundary, so that every frame is inferred by one whole
   * model; a config that cannot be loaded is refused with a warning message
   * and the current model is kept.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_CONFIG,
      g_param_spec_string ("config", "Config",
          "Path of the model's YAML config (see the configs/ folder)", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstMnv3Filter:weights:
   *
   * Weights file (.safetensors or .tflite) to use instead of the config's
   * model.weights; empty or NULL uses the config's. Set while playing, it is
   * switched to at the next frame boundary like #GstMnv3Filter:config.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_WEIGHTS,
      g_param_spec_string ("weights", "Weights",
          "Weights file (.safetensors or .tflite) instead of the config's; "
          "empty = the config's", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstMnv3Filter:threads:
   *
   * How many threads run one inference. 0 (automatic) splits an inference
   * over one thread per CPU only while that is measured to be faster: never
   * while another mnv3 element of the process is inferring (streams then
   * run side by side, one thread each) nor while other programs keep the
   * CPUs busy. Every element of a process shares one pool of worker threads
   * per thread count, and its workers sleep between frames. N > 0 always
   * uses N threads; elements that ask for the same N take turns on the
   * pool. Results are bitwise the same either way.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_THREADS,
      g_param_spec_int ("threads", "Threads",
          "Threads per inference: 0 = automatic (one per CPU when the CPUs "
          "are free, one while other streams or programs use them), N = "
          "always N",
          0, 1024, DEFAULT_THREADS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * GstMnv3Filter:inference-interval:
   *
   * Runs the network on every Nth frame. The frames in between carry the
   * last result, marked stale, with the number of the frame it was computed
   * on (`inference_frame`).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_INFERENCE_INTERVAL,
      g_param_spec_uint ("inference-interval", "Inference interval",
          "Run the network on every Nth frame; the others carry the last "
          "result marked stale", 1, G_MAXINT, DEFAULT_INFERENCE_INTERVAL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstMnv3Filter:post-messages:
   *
   * Posts an element message with the result of every frame on the bus
   * (named "mnv3-classification" or "mnv3-segmentation", see the elements).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean ("post-messages", "Post messages",
          "Post an element message with the result of every frame on the bus",
          DEFAULT_POST_MESSAGES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstMnv3Filter:mode:
   *
   * Whether late frames may skip inference.
   *
   * live: when inferring a frame would make it late at the sink, inference
   * is skipped and the frame carries the last result marked stale (frames
   * are never dropped). batch: every frame is inferred (by
   * #GstMnv3Filter:inference-interval), however late. auto: live when the
   * upstream source is live (as its answer to the LATENCY query says),
   * batch otherwise.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_MODE,
      g_param_spec_enum ("mode", "Mode",
          "Whether late frames skip inference (live), never do (batch), or "
          "live with a live source (auto)",
          GST_TYPE_MNV3_FILTER_MODE, DEFAULT_MODE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstMnv3Filter:stats-interval:
   *
   * Posts an element message named "mnv3-stats" every N seconds, and at end
   * of stream, with the statistics: `frames-in`, `frames-inferred`,
   * `frames-skipped` (guint64), `mean-inference-ms`, `max-inference-ms`,
   * `latency-ms`, `fps`, `average-fps` (double), `live` and `eos`
   * (boolean), and `precision` (string, as #GstMnv3Filter:precision). 0
   * posts none.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_STATS_INTERVAL,
      g_param_spec_uint ("stats-interval", "Statistics interval",
          "Post a \"" STATS_MESSAGE_NAME "\" message every N seconds and at "
          "end of stream (0 = never)", 0, 3600, DEFAULT_STATS_INTERVAL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstMnv3Filter:live:
   *
   * Whether the element runs in live mode now: #GstMnv3Filter:mode is live,
   * or auto with a live upstream.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_LIVE,
      g_param_spec_boolean ("live", "Live",
          "Whether the element runs in live mode now", FALSE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstMnv3Filter:frames-in:
   *
   * Frames received since the element started.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_FRAMES_IN,
      g_param_spec_uint64 ("frames-in", "Frames in",
          "Frames received since the element started", 0, G_MAXUINT64, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstMnv3Filter:frames-inferred:
   *
   * Frames the network ran on since the element started.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_FRAMES_INFERRED,
      g_param_spec_uint64 ("frames-inferred", "Frames inferred",
          "Frames the network ran on since the element started", 0,
          G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstMnv3Filter:frames-skipped:
   *
   * Frames that were due for inference but would have been late (live
   * mode), and got the last result marked stale instead. Frames left out by
   * #GstMnv3Filter:inference-interval are not counted.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_FRAMES_SKIPPED,
      g_param_spec_uint64 ("frames-skipped", "Frames skipped",
          "Frames whose inference live mode skipped because they were late",
          0, G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstMnv3Filter:mean-inference-ms:
   *
   * Mean time of one inference since the element started, in milliseconds:
   * input preparation, network and reading the result.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_MEAN_INFERENCE_MS,
      g_param_spec_double ("mean-inference-ms", "Mean inference time",
          "Mean time of one inference since the element started, in ms", 0.0,
          G_MAXDOUBLE, 0.0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstMnv3Filter:max-inference-ms:
   *
   * Longest inference since the element started, in milliseconds.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_MAX_INFERENCE_MS,
      g_param_spec_double ("max-inference-ms", "Max inference time",
          "Longest inference since the element started, in ms",
          0.0, G_MAXDOUBLE, 0.0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstMnv3Filter:fps:
   *
   * Frames per second through the element over the last whole second (a
   * window of at least one second; before the first one ends, since the
   * first frame), inferred or not, as gvafpscounter reports them.
   *
   * Since: 0.2
   */
  g_object_class_install_property (gobject_class, PROP_FPS,
      g_param_spec_double ("fps", "Frames per second",
          "Frames per second through the element over the last second",
          0.0, G_MAXDOUBLE, 0.0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstMnv3Filter:average-fps:
   *
   * Frames per second through the element from its first frame to its last.
   *
   * Since: 0.2
   */
  g_object_class_install_property (gobject_class, PROP_AVERAGE_FPS,
      g_param_spec_double ("average-fps", "Average frames per second",
          "Frames per second through the element since its first frame",
          0.0, G_MAXDOUBLE, 0.0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstMnv3Filter:precision:
   *
   * The arithmetic the loaded model runs in: "fp32", or "int8" for a config
   * with model.precision: int8 (8-bit activations and weights, see
   * mnv3-run --quantize); NULL before a model is loaded.
   *
   * Since: 0.2
   */
  g_object_class_install_property (gobject_class, PROP_PRECISION,
      g_param_spec_string ("precision", "Precision",
          "The arithmetic the loaded model runs in: fp32 or int8 (the config's "
          "model.precision)", NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  for (guint i = 0; i < G_N_ELEMENTS (format_map); i++)
    formats[i] = format_map[i].gst;
  caps = gst_video_make_raw_caps (formats, G_N_ELEMENTS (formats));
  gst_element_class_add_pad_template (element_class,
      gst_pad_template_new ("sink", GST_PAD_SINK, GST_PAD_ALWAYS, caps));
  gst_element_class_add_pad_template (element_class,
      gst_pad_template_new ("src", GST_PAD_SRC, GST_PAD_ALWAYS, caps));
  gst_caps_unref (caps);

  trans_class->start = GST_DEBUG_FUNCPTR (gst_mnv3_filter_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_mnv3_filter_stop);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_mnv3_filter_query);
  trans_class->src_event = GST_DEBUG_FUNCPTR (gst_mnv3_filter_src_event);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_mnv3_filter_sink_event);
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_mnv3_filter_set_info);
  filter_class->transform_frame_ip =
      GST_DEBUG_FUNCPTR (gst_mnv3_filter_transform_frame_ip);

  gst_type_mark_as_plugin_api (GST_TYPE_MNV3_FILTER, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_MNV3_FILTER_MODE, 0);
}

static void
gst_mnv3_filter_init (GstMnv3Filter * self)
{
  self->threads = DEFAULT_THREADS;
  self->inference_interval = DEFAULT_INFERENCE_INTERVAL;
  self->post_messages = DEFAULT_POST_MESSAGES;
  self->mode = DEFAULT_MODE;
  self->stats_interval = DEFAULT_STATS_INTERVAL;
  self->pipeline_latency = GST_CLOCK_TIME_NONE;
  self->qos_earliest = GST_CLOCK_TIME_NONE;
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
  /* GstVideoFilter drops late frames on QoS; we never drop a frame: live
   * mode skips inference on it instead (see gstmnv3filterlive.c). */
  gst_base_transform_set_qos_enabled (GST_BASE_TRANSFORM (self), FALSE);
}
