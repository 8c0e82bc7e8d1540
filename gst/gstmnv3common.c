/* mnv3 GStreamer plugin: the shared base class and model cache.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmnv3common.h"

#include <stdlib.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_mnv3_filter_debug);
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
};

#define DEFAULT_THREADS 0
#define DEFAULT_INFERENCE_INTERVAL 1
#define DEFAULT_POST_MESSAGES FALSE

G_DEFINE_ABSTRACT_TYPE (GstMnv3Filter, gst_mnv3_filter, GST_TYPE_VIDEO_FILTER);

/* ---- model cache ------------------------------------------------------- */

typedef struct {
  mnv3_model *model;
  guint users;
} CacheEntry;

static GMutex cache_lock;
static GHashTable *cache;       /* key -> CacheEntry */

static gchar *
canonical_path (const gchar * path)
{
  /* A path that does not resolve is kept as given: loading it will fail with
   * the engine's message naming it. */
  char *real = realpath (path, NULL);
  gchar *result = g_strdup (real ? real : path);
  free (real);
  return result;
}

mnv3_model *
gst_mnv3_model_cache_acquire (const gchar * config, const gchar * weights,
    gchar ** key, GError ** error)
{
  gchar *config_real = canonical_path (config);
  gchar *weights_real = weights ? canonical_path (weights) : g_strdup ("");
  gchar *k = g_strconcat (config_real, "\n", weights_real, NULL);
  CacheEntry *entry;

  g_free (config_real);
  g_free (weights_real);

  /* Loading under the lock makes a second element with the same config wait
   * for the first load instead of loading the model twice. */
  g_mutex_lock (&cache_lock);
  if (!cache)
    cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  entry = g_hash_table_lookup (cache, k);
  if (!entry) {
    mnv3_error err = { {0} };
    mnv3_model *model = mnv3_model_load (config, weights, &err);
    if (!model) {
      g_mutex_unlock (&cache_lock);
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "Could not load the model: %s", err.message);
      g_free (k);
      return NULL;
    }
    entry = g_new0 (CacheEntry, 1);
    entry->model = model;
    g_hash_table_insert (cache, g_strdup (k), entry);
    GST_INFO ("loaded model %s (%s, %d classes)", config,
        mnv3_model_architecture (model), mnv3_model_num_classes (model));
  }
  entry->users++;
  g_mutex_unlock (&cache_lock);
  *key = k;
  return entry->model;
}

void
gst_mnv3_model_cache_release (const gchar * key)
{
  CacheEntry *entry;

  g_mutex_lock (&cache_lock);
  entry = cache ? g_hash_table_lookup (cache, key) : NULL;
  g_assert (entry != NULL);
  if (--entry->users == 0) {
    /* Nobody uses it any more: free the memory now rather than keeping every
     * model a process ever used. */
    mnv3_model_unref (entry->model);
    g_hash_table_remove (cache, key);
  }
  g_mutex_unlock (&cache_lock);
}

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

static void
post_gerror (GstMnv3Filter * self, GError * error, const gchar * debug)
{
  gst_element_message_full (GST_ELEMENT (self), GST_MESSAGE_ERROR,
      error->domain, error->code, g_strdup (error->message),
      debug ? g_strdup (debug) : NULL, __FILE__, GST_FUNCTION, __LINE__);
}

/* ---- GstBaseTransform / GstVideoFilter --------------------------------- */

static gboolean
gst_mnv3_filter_start (GstBaseTransform * trans)
{
  GstMnv3Filter *self = GST_MNV3_FILTER (trans);
  GstMnv3FilterClass *klass = GST_MNV3_FILTER_GET_CLASS (self);
  gchar *config, *weights;
  gint threads;
  GError *error = NULL;
  mnv3_error err = { {0} };

  GST_OBJECT_LOCK (self);
  config = g_strdup (self->config);
  weights = g_strdup (self->weights);
  threads = self->threads;
  GST_OBJECT_UNLOCK (self);

  if (!config || !*config) {
    g_set_error (&error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "No model configuration: set the 'config' property to a model YAML "
        "file (see the configs/ folder).");
    goto failed;
  }

  self->model = gst_mnv3_model_cache_acquire (config, weights,
      &self->cache_key, &error);
  if (!self->model)
    goto failed;

  if (mnv3_model_task (self->model) != klass->task) {
    g_set_error (&error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "%s describes a %s model (%s), which %s cannot run: use %s instead.",
        config, klass->task == MNV3_TASK_CLASSIFY ? "segmentation" :
        "classification", mnv3_model_architecture (self->model),
        GST_ELEMENT_NAME (self), klass->task == MNV3_TASK_CLASSIFY ?
        "mnv3segment" : "mnv3classify");
    goto failed;
  }

  self->context = mnv3_context_new (self->model, threads, &err);
  if (!self->context) {
    g_set_error (&error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NO_SPACE_LEFT,
        "Could not create an inference context: %s", err.message);
    goto failed;
  }

  if (klass->prepare && !klass->prepare (self, &error))
    goto failed;

  self->frame_number = 0;
  self->have_result = FALSE;
  GST_INFO_OBJECT (self, "model %s ready (%s kernels)", config,
      mnv3_isa_name ());
  g_free (config);
  g_free (weights);
  return TRUE;

failed:
  post_gerror (self, error, config ? config : NULL);
  g_clear_error (&error);
  g_free (config);
  g_free (weights);
  /* stop() is not called when start() fails. */
  if (self->context) {
    mnv3_context_free (self->context);
    self->context = NULL;
  }
  if (self->model) {
    gst_mnv3_model_cache_release (self->cache_key);
    g_clear_pointer (&self->cache_key, g_free);
    self->model = NULL;
  }
  return FALSE;
}

static gboolean
gst_mnv3_filter_stop (GstBaseTransform * trans)
{
  GstMnv3Filter *self = GST_MNV3_FILTER (trans);
  GstMnv3FilterClass *klass = GST_MNV3_FILTER_GET_CLASS (self);

  if (klass->release)
    klass->release (self);
  self->have_result = FALSE;
  if (self->context) {
    mnv3_context_free (self->context);
    self->context = NULL;
  }
  if (self->model) {
    gst_mnv3_model_cache_release (self->cache_key);
    g_clear_pointer (&self->cache_key, g_free);
    self->model = NULL;
  }
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
  GST_DEBUG_OBJECT (self, "negotiated %s %dx%d", GST_VIDEO_INFO_NAME (in_info),
      GST_VIDEO_INFO_WIDTH (in_info), GST_VIDEO_INFO_HEIGHT (in_info));
  return TRUE;
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
  gboolean post;

  GST_OBJECT_LOCK (self);
  interval = self->inference_interval;
  post = self->post_messages;
  GST_OBJECT_UNLOCK (self);

  if (!self->have_result || self->frame_number - self->result_frame >= interval) {
    mnv3_error err = { {0} };
    mnv3_frame input;
    uint8_t *planes[3];

    gst_mnv3_filter_wrap_frame (self, frame, &input, planes);
    if (mnv3_context_set_frame (self->context, 0, &input, NULL, &err) != 0
        || mnv3_context_run (self->context, 1, &err) != 0) {
      GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Inference failed: %s",
              err.message), (NULL));
      return GST_FLOW_ERROR;
    }
    klass->read_result (self, frame);
    self->have_result = TRUE;
    self->result_frame = self->frame_number;
  }

  info.frame = self->frame_number;
  info.inference_frame = self->result_frame;
  info.pts = GST_BUFFER_PTS (frame->buffer);
  info.stale = info.frame != info.inference_frame;
  if (post)
    message = gst_structure_new (klass->message_name,
        "frame", G_TYPE_UINT64, info.frame,
        "inference_frame", G_TYPE_UINT64, info.inference_frame,
        "pts", G_TYPE_UINT64, (guint64) info.pts,
        "stale", G_TYPE_BOOLEAN, info.stale, NULL);

  klass->apply_result (self, frame, &info, message);

  if (message)
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self), message));
  self->frame_number++;
  return GST_FLOW_OK;
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
      break;
    case PROP_WEIGHTS:
      g_free (self->weights);
      self->weights = g_value_dup_string (value);
      if (self->weights && !*self->weights)
        g_clear_pointer (&self->weights, g_free);
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

  g_object_class_install_property (gobject_class, PROP_CONFIG,
      g_param_spec_string ("config", "Config",
          "Path of the model's YAML config (architecture, weights, labels, "
          "input size and normalisation)", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_WEIGHTS,
      g_param_spec_string ("weights", "Weights",
          "Weights file (.safetensors or .tflite) to use instead of the "
          "config's model.weights; empty = the config's", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_THREADS,
      g_param_spec_int ("threads", "Threads",
          "Worker threads for one inference (0 = one per online CPU)",
          0, 1024, DEFAULT_THREADS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_INFERENCE_INTERVAL,
      g_param_spec_uint ("inference-interval", "Inference interval",
          "Run the network on every Nth frame; frames in between carry the "
          "last result marked stale", 1, G_MAXINT, DEFAULT_INFERENCE_INTERVAL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean ("post-messages", "Post messages",
          "Post an element message with the result of every frame on the bus",
          DEFAULT_POST_MESSAGES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

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
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_mnv3_filter_set_info);
  filter_class->transform_frame_ip =
      GST_DEBUG_FUNCPTR (gst_mnv3_filter_transform_frame_ip);

  gst_type_mark_as_plugin_api (GST_TYPE_MNV3_FILTER, 0);
}

static void
gst_mnv3_filter_init (GstMnv3Filter * self)
{
  self->threads = DEFAULT_THREADS;
  self->inference_interval = DEFAULT_INFERENCE_INTERVAL;
  self->post_messages = DEFAULT_POST_MESSAGES;
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
}
