/* mnv3jsonsink: writes the results of mnv3classify/mnv3segment as JSON lines.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

/**
 * SECTION:element-mnv3jsonsink
 * @title: mnv3jsonsink
 *
 * Writes one JSON object per line (JSON Lines) for every buffer it receives,
 * in stream order, with the results mnv3classify and mnv3segment attached to
 * the frame:
 *
 * |[
 * {"frame": 0, "pts": 0, "duration": 100000000, "classification": [{"label_id": 88, "label": "macaw", "confidence": 0.990000}], "stale": false, "version": 2, "elements": [{"element": "mnv3classify0", "model": "mobilenet_v3_small_tfslim_uint8", "task": "classification", "stale": false, "inference_frame": 0, "results": [{"label_id": 88, "label": "macaw", "confidence": 0.990000}]}]}
 * ]|
 *
 * * `frame`: the frame number the first analysing element recorded in its
 *   metadata, or the number of buffers this sink received before this one
 *   when the frame has no metadata
 * * `pts`, `duration`: nanoseconds, `null` when the buffer has none
 * * `classification`: the classes the first mnv3classify reported, best
 *   first, each with `label_id`, `label` and `confidence`; present when an
 *   mnv3classify is upstream (an empty array when it reported nothing for
 *   this frame)
 * * `segmentation`: the classes present in the first mnv3segment's mask,
 *   largest first, each with `label_id`, `label` and `fraction` (share of
 *   the mask); present when an mnv3segment is upstream
 * * `stale`: whether one of those two results was computed on an earlier
 *   frame (see the analysing elements' inference-interval property)
 * * `version`: the record layout, 2 (since 0.2; 0.1 wrote the fields above
 *   only, which keep their meaning)
 * * `elements`: the result of every mnv3classify and mnv3segment upstream,
 *   upstream first, each with `element` (the element's name), `model` (the
 *   config's model.name, by default the config file's name without its
 *   extension), `task` ("classification" or "segmentation"), its own
 *   `stale` flag, `inference_frame` (the frame the result was computed on)
 *   and `results` (as `classification` or `segmentation` above). An
 *   mnv3classify that reported no class for a frame (see its threshold
 *   property) has no entry there.
 *
 * With location=mqtt://HOST[:PORT]/TOPIC each record is published to an
 * MQTT broker instead (see #GstMnv3JsonSink:location).
 *
 * Numbers are printed in a fixed, locale-independent format (six decimals),
 * so identical results give byte-identical files. The sink does not
 * synchronise to the clock by default (#GstBaseSink:sync is FALSE): it is
 * meant for batch labelling, where every frame must be written as fast as
 * it comes. Records reach a regular file at least once a second; a FIFO,
 * a socket or a terminal gets each record as soon as it is written, for the
 * program reading it live (pipelines/camera-dashboard.sh --web).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=clip.avi ! decodebin ! videoconvert ! mnv3classify config=configs/mobilenet_v3_small_tfslim_uint8.yaml ! mnv3jsonsink location=clip.jsonl
 * ]| Labels every frame of clip.avi with the ImageNet classifier and writes
 * the results to clip.jsonl.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmnv3jsonsink.h"
#include "gstmnv3classify.h"
#include "gstmnv3mqtt.h"
#include "gstmnv3segment.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <gst/video/gstvideometa.h>

/* Shared with gstmnv3mqtt.c, the sink's MQTT side. */
GST_DEBUG_CATEGORY (gst_mnv3_json_sink_debug);
#define GST_CAT_DEFAULT gst_mnv3_json_sink_debug

/* The record layout: 1 was 0.1's, without "version" and "elements". */
#define JSON_FORMAT_VERSION 2

/* Records reach the file at least this often, so a tool following the file
 * (pipelines/label-video.sh shows progress so) is never far behind, at the
 * cost of one write() per second. */
#define FLUSH_INTERVAL_US G_USEC_PER_SEC

/* How far upstream to look for the analysing elements; real pipelines are
 * much shorter, this only bounds a walk through a malformed graph. */
#define MAX_UPSTREAM_DEPTH 64

#define STATS_MESSAGE_NAME "mnv3-jsonsink-stats"
#define DEFAULT_STATS_INTERVAL 0
/* How long EOS waits for the records queued for the broker. */
#define MQTT_DRAIN_TIMEOUT_US G_USEC_PER_SEC

enum {
  PROP_0,
  PROP_LOCATION,
  PROP_STATS_INTERVAL,
  PROP_RECORDS_SENT,
  PROP_RECORDS_DROPPED,
};

struct _GstMnv3JsonSink {
  GstBaseSink parent;

  /* Properties, under the object lock. */
  gchar *location;
  guint stats_interval;

  /* Under the object lock: the MQTT client from start() to stop() (the
   * statistics properties read it; the streaming thread, which runs only
   * in between, without the lock), and the records written to the file
   * or, after stop(), the MQTT client's last statistics. */
  GstMnv3Mqtt *mqtt;
  GstMnv3MqttStats stats;

  /* Valid from start() to stop(), used by the streaming thread. */
  gint64 last_stats_post;       /* monotonic time, microseconds */
  FILE *file;
  gchar *path;                  /* the location the file was opened with */
  guint64 buffers;              /* buffers received since start() */
  gboolean upstream_checked;
  gboolean has_classify;        /* an mnv3classify is upstream */
  gboolean has_segment;         /* an mnv3segment is upstream */
  GString *line;                /* reused for every record */
  gint64 last_flush;            /* monotonic time, microseconds */
  gboolean live_reader;         /* not a regular file: flush every record */
};

G_DEFINE_TYPE (GstMnv3JsonSink, gst_mnv3_json_sink, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE (mnv3jsonsink, "mnv3jsonsink", GST_RANK_NONE,
    GST_TYPE_MNV3_JSON_SINK);

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

/* ---- finding the analysing elements ------------------------------------ */

/* Walks upstream from `pad` (a sink pad) through elements, bins and ghost
 * pads, noting any mnv3classify or mnv3segment. Internal links cover both
 * an element's src -> sink pads and a ghost pad's way into its bin. */
static void
scan_upstream (GstMnv3JsonSink * self, GstPad * pad, guint depth)
{
  GstPad *peer;
  GstObject *parent;
  GstIterator *it;
  GValue item = G_VALUE_INIT;
  gboolean done = FALSE;

  if (depth > MAX_UPSTREAM_DEPTH)
    return;
  peer = gst_pad_get_peer (pad);
  if (!peer)
    return;

  parent = gst_object_get_parent (GST_OBJECT (peer));
  if (parent) {
    if (GST_IS_MNV3_CLASSIFY (parent))
      self->has_classify = TRUE;
    if (GST_IS_MNV3_SEGMENT (parent))
      self->has_segment = TRUE;
    gst_object_unref (parent);
  }

  it = gst_pad_iterate_internal_links (peer);
  while (it && !done) {
    switch (gst_iterator_next (it, &item)) {
      case GST_ITERATOR_OK:
        scan_upstream (self, GST_PAD (g_value_get_object (&item)), depth + 1);
        g_value_reset (&item);
        break;
      case GST_ITERATOR_RESYNC:
        gst_iterator_resync (it);
        break;
      default:
        done = TRUE;
        break;
    }
  }
  g_value_unset (&item);
  if (it)
    gst_iterator_free (it);
  gst_object_unref (peer);
}

/* Decides which keys every record has, so that a frame without a result
 * still gets an empty array rather than a missing key. */
static void
check_upstream (GstMnv3JsonSink * self)
{
  self->has_classify = FALSE;
  self->has_segment = FALSE;
  scan_upstream (self, GST_BASE_SINK_PAD (self), 0);
  self->upstream_checked = TRUE;
  GST_DEBUG_OBJECT (self, "upstream: mnv3classify %s, mnv3segment %s",
      self->has_classify ? "yes" : "no", self->has_segment ? "yes" : "no");
}

/* ---- JSON -------------------------------------------------------------- */

static void
append_json_string (GString * out, const gchar * str)
{
  gchar *valid = NULL;
  const gchar *p;

  /* Labels come from a user's file: never write invalid UTF-8. */
  if (!g_utf8_validate (str, -1, NULL))
    str = valid = g_utf8_make_valid (str, -1);

  g_string_append_c (out, '"');
  for (p = str; *p; p++) {
    guchar c = (guchar) * p;
    switch (c) {
      case '"':
        g_string_append (out, "\\\"");
        break;
      case '\\':
        g_string_append (out, "\\\\");
        break;
      case '\n':
        g_string_append (out, "\\n");
        break;
      case '\r':
        g_string_append (out, "\\r");
        break;
      case '\t':
        g_string_append (out, "\\t");
        break;
      default:
        if (c < 0x20)
          g_string_append_printf (out, "\\u%04x", c);
        else
          g_string_append_c (out, (gchar) c);
        break;
    }
  }
  g_string_append_c (out, '"');
  g_free (valid);
}

/* Fixed format and always a '.', whatever the locale. */
static void
append_json_double (GString * out, gdouble value)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  /* NaN and infinities are not JSON; a result never holds them, but a
   * broken model must not produce an unparsable file. */
  if (!isfinite (value)) {
    g_string_append (out, "null");
    return;
  }
  g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.6f", value));
}

static void
append_json_time (GString * out, GstClockTime t)
{
  if (GST_CLOCK_TIME_IS_VALID (t))
    g_string_append_printf (out, "%" G_GUINT64_FORMAT, (guint64) t);
  else
    g_string_append (out, "null");
}

/* One {"label_id": .., "label": .., "<value_field>": ..} result. */
static void
append_result (GString * out, const GstStructure * s, const gchar * value_field)
{
  gint label_id = -1;
  gdouble value = 0.0;
  const gchar *label = gst_structure_get_string (s, "label");

  gst_structure_get_int (s, "label_id", &label_id);
  gst_structure_get_double (s, value_field, &value);
  g_string_append_printf (out, "{\"label_id\": %d, \"label\": ", label_id);
  append_json_string (out, label ? label : "");
  g_string_append_printf (out, ", \"%s\": ", value_field);
  append_json_double (out, value);
  g_string_append_c (out, '}');
}

/* The results each mnv3 element attaches, as a region of interest meta
 * whose param has the roi_type's name (see the elements' documentation). */
typedef enum {
  TASK_CLASSIFY,
  TASK_SEGMENT,
  N_TASKS,
} Task;

static const struct {
  const gchar *roi_type;
  const gchar *key;             /* the record's key for the first result */
  const gchar *value_field;     /* of each class */
} tasks[N_TASKS] = {
  {"mnv3-classification", "classification", "confidence"},
  {"mnv3-segmentation", "segmentation", "fraction"},
};

/* The `results` array of an element's param as a JSON array; `[]` for a
 * NULL param. */
static void
append_results (GString * out, const GstStructure * param, Task task)
{
  const GValue *results =
      param ? gst_structure_get_value (param, "results") : NULL;
  guint n = results && GST_VALUE_HOLDS_ARRAY (results) ?
      gst_value_array_get_size (results) : 0;
  gboolean first = TRUE;

  g_string_append_c (out, '[');
  for (guint i = 0; i < n; i++) {
    const GValue *v = gst_value_array_get_value (results, i);
    if (!GST_VALUE_HOLDS_STRUCTURE (v))
      continue;
    if (!first)
      g_string_append (out, ", ");
    first = FALSE;
    append_result (out, gst_value_get_structure (v), tasks[task].value_field);
  }
  g_string_append_c (out, ']');
}

/* One entry of the record's "elements": which element and model computed
 * which result, and whether it is stale. */
static void
append_element (GString * out, const GstStructure * param, Task task)
{
  const gchar *element = gst_structure_get_string (param, "element");
  const gchar *model = gst_structure_get_string (param, "model");
  gboolean stale = FALSE;
  guint64 inference_frame = 0;

  gst_structure_get_boolean (param, "stale", &stale);
  gst_structure_get_uint64 (param, "inference_frame", &inference_frame);
  g_string_append (out, "{\"element\": ");
  append_json_string (out, element ? element : "");
  g_string_append (out, ", \"model\": ");
  append_json_string (out, model ? model : "");
  g_string_append_printf (out, ", \"task\": \"%s\", \"stale\": %s, "
      "\"inference_frame\": %" G_GUINT64_FORMAT ", \"results\": ",
      tasks[task].key, stale ? "true" : "false", inference_frame);
  append_results (out, param, task);
  g_string_append_c (out, '}');
}

/* The task of an mnv3 region of interest, N_TASKS for any other. */
static Task
roi_task (const GstVideoRegionOfInterestMeta * roi)
{
  for (Task t = 0; t < N_TASKS; t++)
    if (roi->roi_type == g_quark_from_static_string (tasks[t].roi_type))
      return t;
  return N_TASKS;
}

static void
format_record (GstMnv3JsonSink * self, GstBuffer * buffer, GString * out)
{
  const GstStructure *first[N_TASKS] = { NULL };
  gboolean wanted[N_TASKS] = { self->has_classify, self->has_segment };
  gboolean have_frame = FALSE, first_stale = FALSE, stale;
  guint64 frame = self->buffers;
  GString *elements = g_string_new (NULL);
  gpointer state = NULL;
  GstMeta *meta;

  /* In the order the elements attached them: upstream first. */
  while ((meta = gst_buffer_iterate_meta_filtered (buffer, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) meta;
    Task task = roi_task (roi);
    const GstStructure *param = task < N_TASKS ?
        gst_video_region_of_interest_meta_get_param (roi,
        tasks[task].roi_type) : NULL;
    if (!param)
      continue;
    if (!first[task])
      first[task] = param;
    if (!have_frame)
      have_frame = gst_structure_get_uint64 (param, "frame", &frame);
    if (elements->len)
      g_string_append (elements, ", ");
    append_element (elements, param, task);
  }

  g_string_truncate (out, 0);
  g_string_append_printf (out, "{\"frame\": %" G_GUINT64_FORMAT, frame);
  g_string_append (out, ", \"pts\": ");
  append_json_time (out, GST_BUFFER_PTS (buffer));
  g_string_append (out, ", \"duration\": ");
  append_json_time (out, GST_BUFFER_DURATION (buffer));
  /* The first element of each task, as in format version 1; an empty array
   * rather than a missing key when it reported nothing for this frame. */
  for (Task t = 0; t < N_TASKS; t++) {
    if (first[t] && gst_structure_get_boolean (first[t], "stale", &stale)
        && stale)
      first_stale = TRUE;
    if (!wanted[t] && !first[t])
      continue;
    g_string_append_printf (out, ", \"%s\": ", tasks[t].key);
    append_results (out, first[t], t);
  }
  g_string_append_printf (out, ", \"stale\": %s, \"version\": %d, "
      "\"elements\": [%s]}\n", first_stale ? "true" : "false",
      JSON_FORMAT_VERSION, elements->str);
  g_string_free (elements, TRUE);
}

/* ---- GstBaseSink ------------------------------------------------------- */

/* The records sent and dropped so far; object lock held. */
static void
get_stats (GstMnv3JsonSink * self, GstMnv3MqttStats * stats)
{
  if (self->mqtt)
    gst_mnv3_mqtt_get_stats (self->mqtt, stats);
  else
    *stats = self->stats;
}

static void
post_stats (GstMnv3JsonSink * self, gboolean eos)
{
  GstMnv3MqttStats stats;
  GstStructure *s;

  GST_OBJECT_LOCK (self);
  get_stats (self, &stats);
  GST_OBJECT_UNLOCK (self);
  s = gst_structure_new (STATS_MESSAGE_NAME,
      "records", G_TYPE_UINT64, self->buffers,
      "records-sent", G_TYPE_UINT64, stats.sent,
      "records-dropped", G_TYPE_UINT64, stats.dropped,
      "connected", G_TYPE_BOOLEAN, stats.connected,
      "eos", G_TYPE_BOOLEAN, eos, NULL);
  self->last_stats_post = g_get_monotonic_time ();
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

static gboolean
open_file (GstMnv3JsonSink * self, const gchar * location)
{
  struct stat st;

  self->file = fopen (location, "w");
  if (!self->file) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("Could not open file \"%s\" for writing: %s.", location,
            g_strerror (errno)), GST_ERROR_SYSTEM);
    return FALSE;
  }
  self->live_reader = fstat (fileno (self->file), &st) == 0
      && !S_ISREG (st.st_mode);
  GST_DEBUG_OBJECT (self, "writing to %s", location);
  return TRUE;
}

static gboolean
open_mqtt (GstMnv3JsonSink * self, const gchar * location)
{
  GError *error = NULL;
  /* Connects in its own thread: no waiting here. */
  GstMnv3Mqtt *mqtt = gst_mnv3_mqtt_new (GST_ELEMENT (self), location,
      &error);

  if (!mqtt) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE, ("%s", error->message),
        (NULL));
    g_error_free (error);
    return FALSE;
  }
  GST_OBJECT_LOCK (self);
  self->mqtt = mqtt;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_mnv3_json_sink_start (GstBaseSink * sink)
{
  GstMnv3JsonSink *self = GST_MNV3_JSON_SINK (sink);
  gchar *location;

  GST_OBJECT_LOCK (self);
  location = g_strdup (self->location);
  memset (&self->stats, 0, sizeof self->stats);
  GST_OBJECT_UNLOCK (self);

  if (!location || !*location) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("No file name specified for writing."),
        ("Set the 'location' property to the JSON lines file to write, or "
            "to mqtt://HOST[:PORT]/TOPIC."));
    g_free (location);
    return FALSE;
  }
  if (!(gst_mnv3_mqtt_is_uri (location) ? open_mqtt (self, location) :
          open_file (self, location))) {
    g_free (location);
    return FALSE;
  }
  self->path = location;
  self->buffers = 0;
  self->upstream_checked = FALSE;
  self->line = g_string_sized_new (512);
  self->last_flush = self->last_stats_post = g_get_monotonic_time ();
  return TRUE;
}

/* Flushes the stdio buffer, reporting a failure (disk full...) as an
 * element error. */
static gboolean
flush_file (GstMnv3JsonSink * self)
{
  if (fflush (self->file) == 0)
    return TRUE;
  GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
      ("Could not write to file \"%s\": %s.", self->path, g_strerror (errno)),
      GST_ERROR_SYSTEM);
  return FALSE;
}

static gboolean
gst_mnv3_json_sink_stop (GstBaseSink * sink)
{
  GstMnv3JsonSink *self = GST_MNV3_JSON_SINK (sink);
  GstMnv3Mqtt *mqtt;
  gboolean ok = TRUE;

  if (self->file) {
    ok = flush_file (self);
    if (fclose (self->file) != 0 && ok) {
      GST_ELEMENT_ERROR (self, RESOURCE, CLOSE,
          ("Could not close file \"%s\": %s.", self->path,
              g_strerror (errno)), GST_ERROR_SYSTEM);
      ok = FALSE;
    }
    self->file = NULL;
  }
  GST_OBJECT_LOCK (self);
  mqtt = self->mqtt;
  self->mqtt = NULL;
  GST_OBJECT_UNLOCK (self);
  if (mqtt) {
    GstMnv3MqttStats stats;
    /* Disconnecting may wait for the network: not under the lock. */
    gst_mnv3_mqtt_free (mqtt, &stats);
    GST_OBJECT_LOCK (self);
    self->stats = stats;
    GST_OBJECT_UNLOCK (self);
  }
  GST_DEBUG_OBJECT (self, "wrote %" G_GUINT64_FORMAT " records", self->buffers);
  g_clear_pointer (&self->path, g_free);
  if (self->line) {
    g_string_free (self->line, TRUE);
    self->line = NULL;
  }
  return ok;
}

static GstFlowReturn
gst_mnv3_json_sink_render (GstBaseSink * sink, GstBuffer * buffer)
{
  GstMnv3JsonSink *self = GST_MNV3_JSON_SINK (sink);
  guint stats_interval;

  if (!self->upstream_checked)
    check_upstream (self);

  format_record (self, buffer, self->line);
  self->buffers++;
  if (self->file) {
    if (fwrite (self->line->str, 1, self->line->len, self->file)
        != self->line->len) {
      GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
          ("Could not write to file \"%s\": %s.", self->path,
              g_strerror (errno)), GST_ERROR_SYSTEM);
      return GST_FLOW_ERROR;
    }
    GST_OBJECT_LOCK (self);
    self->stats.sent++;
    GST_OBJECT_UNLOCK (self);
    if (self->live_reader
        || g_get_monotonic_time () - self->last_flush >= FLUSH_INTERVAL_US) {
      self->last_flush = g_get_monotonic_time ();
      if (!flush_file (self))
        return GST_FLOW_ERROR;
    }
  } else {
    /* One record per message, without the line's newline. */
    gst_mnv3_mqtt_publish (self->mqtt, self->line->str, self->line->len - 1);
  }

  GST_OBJECT_LOCK (self);
  stats_interval = self->stats_interval;
  GST_OBJECT_UNLOCK (self);
  if (stats_interval && g_get_monotonic_time () - self->last_stats_post >=
      (gint64) stats_interval * G_USEC_PER_SEC)
    post_stats (self, FALSE);
  return GST_FLOW_OK;
}

static gboolean
gst_mnv3_json_sink_set_caps (GstBaseSink * sink, GstCaps * caps)
{
  GstMnv3JsonSink *self = GST_MNV3_JSON_SINK (sink);

  /* New caps may come from a relinked pipeline: look upstream again. */
  self->upstream_checked = FALSE;
  return TRUE;
}

static gboolean
gst_mnv3_json_sink_event (GstBaseSink * sink, GstEvent * event)
{
  GstMnv3JsonSink *self = GST_MNV3_JSON_SINK (sink);

  /* Everything is on disk, or sent if the broker can take it, when the
   * application sees EOS, and so are the final statistics. */
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
    if (self->file && !flush_file (self)) {
      gst_event_unref (event);
      return FALSE;
    }
    if (self->mqtt)
      gst_mnv3_mqtt_drain (self->mqtt, MQTT_DRAIN_TIMEOUT_US);
    post_stats (self, TRUE);
  }
  return GST_BASE_SINK_CLASS (gst_mnv3_json_sink_parent_class)->event (sink,
      event);
}

/* ---- GObject ----------------------------------------------------------- */

static void
gst_mnv3_json_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstMnv3JsonSink *self = GST_MNV3_JSON_SINK (object);

  switch (prop_id) {
    case PROP_LOCATION:
      GST_OBJECT_LOCK (self);
      g_free (self->location);
      self->location = g_value_dup_string (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_STATS_INTERVAL:
      GST_OBJECT_LOCK (self);
      self->stats_interval = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_mnv3_json_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstMnv3JsonSink *self = GST_MNV3_JSON_SINK (object);

  switch (prop_id) {
    case PROP_LOCATION:
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, self->location);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_STATS_INTERVAL:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->stats_interval);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_RECORDS_SENT:
    case PROP_RECORDS_DROPPED:{
      GstMnv3MqttStats stats;
      GST_OBJECT_LOCK (self);
      get_stats (self, &stats);
      GST_OBJECT_UNLOCK (self);
      g_value_set_uint64 (value, prop_id == PROP_RECORDS_SENT ? stats.sent :
          stats.dropped);
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_mnv3_json_sink_finalize (GObject * object)
{
  GstMnv3JsonSink *self = GST_MNV3_JSON_SINK (object);

  g_free (self->location);
  G_OBJECT_CLASS (gst_mnv3_json_sink_parent_class)->finalize (object);
}

static void
gst_mnv3_json_sink_class_init (GstMnv3JsonSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *sink_class = GST_BASE_SINK_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_mnv3_json_sink_debug, "mnv3jsonsink", 0,
      "MobileNetV3 results as JSON lines");

  gobject_class->set_property = gst_mnv3_json_sink_set_property;
  gobject_class->get_property = gst_mnv3_json_sink_get_property;
  gobject_class->finalize = gst_mnv3_json_sink_finalize;

  /**
   * GstMnv3JsonSink:location:
   *
   * The JSON lines file to write; it is created, or truncated if it exists.
   * Or, since 0.2, mqtt://HOST[:PORT]/TOPIC (port 1883 by default): each
   * record is published to TOPIC on that MQTT broker as one message (QoS 0,
   * without the newline). The sink connects in the background and
   * reconnects whenever the connection is lost, so that the pipeline never
   * waits for the network: records that cannot be sent meanwhile are
   * dropped, counted in #GstMnv3JsonSink:records-dropped and the
   * statistics message, and a warning says that the connection was lost
   * (an info message that it is back).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location",
          "The JSON lines file to write (created, or truncated if it exists), "
          "or mqtt://HOST[:PORT]/TOPIC to publish each record to an MQTT "
          "broker", NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * GstMnv3JsonSink:stats-interval:
   *
   * Posts an element message named "mnv3-jsonsink-stats" every N seconds
   * (checked as records arrive), and at end of stream, with `records`
   * (guint64: records received), `records-sent`, `records-dropped`
   * (guint64, see the properties), `connected` (boolean: to the MQTT
   * broker; FALSE for a file) and `eos` (boolean). 0 posts only the one at
   * end of stream.
   *
   * Since: 0.2
   */
  g_object_class_install_property (gobject_class, PROP_STATS_INTERVAL,
      g_param_spec_uint ("stats-interval", "Statistics interval",
          "Post a \"" STATS_MESSAGE_NAME "\" message every N seconds "
          "(0 = only at end of stream)", 0, 3600, DEFAULT_STATS_INTERVAL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstMnv3JsonSink:records-sent:
   *
   * Records written to the file, or to the MQTT broker's connection, since
   * the sink started (kept after it stops).
   *
   * Since: 0.2
   */
  g_object_class_install_property (gobject_class, PROP_RECORDS_SENT,
      g_param_spec_uint64 ("records-sent", "Records sent",
          "Records written to the file or the MQTT broker's connection", 0,
          G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstMnv3JsonSink:records-dropped:
   *
   * Records that could not be sent to the MQTT broker since the sink
   * started: while it was not connected, when the broker could not keep up
   * (more than 256 records waiting), or lost with the connection. Always 0
   * for a file, where a failed write is an error.
   *
   * Since: 0.2
   */
  g_object_class_install_property (gobject_class, PROP_RECORDS_DROPPED,
      g_param_spec_uint64 ("records-dropped", "Records dropped",
          "Records that could not be sent to the MQTT broker", 0,
          G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class,
      "MobileNetV3 JSON lines sink", "Sink/File/Network",
      "Writes the classification and segmentation results of mnv3classify "
      "and mnv3segment as one JSON line per frame, to a file or an MQTT "
      "broker", "mnv3 developers");

  sink_class->start = GST_DEBUG_FUNCPTR (gst_mnv3_json_sink_start);
  sink_class->stop = GST_DEBUG_FUNCPTR (gst_mnv3_json_sink_stop);
  sink_class->render = GST_DEBUG_FUNCPTR (gst_mnv3_json_sink_render);
  sink_class->set_caps = GST_DEBUG_FUNCPTR (gst_mnv3_json_sink_set_caps);
  sink_class->event = GST_DEBUG_FUNCPTR (gst_mnv3_json_sink_event);
}

static void
gst_mnv3_json_sink_init (GstMnv3JsonSink * self)
{
  /* Batch labelling: every frame, as fast as it comes. */
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
  gst_base_sink_set_qos_enabled (GST_BASE_SINK (self), FALSE);
}
