/* Stream faults on mnv3classify and mnv3segment: caps renegotiation between
 * every pair of formats, flushing seeks while playing, EOS during an
 * inference, buffers without timestamps, 1x1 and 8192x8192 frames, a config
 * changed while playing and two pipelines sharing a model started and
 * stopped from two threads.
 *
 * MNV3_GST_QUICK=1 (set for the valgrind runs) shortens the loops. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#include "gsttestutil.h"

static gchar *tmp_dir;
static gchar *small_config;     /* TF-slim weights, 64x64 network input */
static gchar *small96_config;   /* the same at 96x96 */
static gchar *tfslim_config;    /* TF-slim at its own 224x224 */
static gchar *lraspp_config;    /* seeded LR-ASPP at 64x64 */

static gboolean
quick (void)
{
  return test_quick ();
}

static gchar *
write_tfslim_sized (const gchar * name, gint size)
{
  gchar *weights = test_shared_path ("models/v3-small_224_1.0_uint8.tflite");
  gchar *text = g_strdup_printf ("model:\n"
      "  architecture: mobilenet_v3_small\n  num-classes: 1001\n"
      "  background-class: true\n  weights: %s\n"
      "input:\n  size: [%d, %d]\n  mean: [0.5, 0.5, 0.5]\n"
      "  std: [0.5, 0.5, 0.5]\n  crop: 0.875\n", weights, size, size);
  gchar *path = test_write_file (tmp_dir, name, text);
  g_free (text);
  g_free (weights);
  return path;
}

static void
setup (void)
{
  const gchar *lraspp = g_getenv ("MNV3_GST_LRASPP_CONFIG");
  gchar *models, *text;

  fail_unless (lraspp != NULL, "MNV3_GST_LRASPP_CONFIG is not set (run "
      "through meson test)");
  tmp_dir = test_make_temp_dir ();
  tfslim_config = test_write_tfslim_config (tmp_dir);
  small_config = write_tfslim_sized ("small64.yaml", 64);
  small96_config = write_tfslim_sized ("small96.yaml", 96);
  models = g_path_get_dirname (lraspp);
  text = g_strdup_printf ("model:\n  architecture: lraspp_mobilenet_v3_large\n"
      "  num-classes: 21\n  weights: %s/lraspp.safetensors\n"
      "input:\n  size: [64, 64]\n  crop: 0.9\n"
      "labels: %s/models/labels/voc.txt\npalette: voc\n", models,
      g_getenv ("MNV3_SOURCE_ROOT"));
  lraspp_config = test_write_file (tmp_dir, "lraspp64.yaml", text);
  g_free (text);
  g_free (models);
}

static void
teardown (void)
{
  test_remove_dir (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
  g_clear_pointer (&small_config, g_free);
  g_clear_pointer (&small96_config, g_free);
  g_clear_pointer (&tfslim_config, g_free);
  g_clear_pointer (&lraspp_config, g_free);
}

/* ---- helpers ----------------------------------------------------------- */

static GstCaps *
make_caps (const gchar * format, gint width, gint height)
{
  GstVideoInfo info;
  fail_unless (gst_video_info_set_format (&info,
          gst_video_format_from_string (format), width, height));
  GST_VIDEO_INFO_FPS_N (&info) = 30;
  GST_VIDEO_INFO_FPS_D (&info) = 1;
  return gst_video_info_to_caps (&info);
}

/* A frame of `caps` filled with seeded noise, or with `fill` when >= 0. */
static GstBuffer *
make_frame (GstCaps * caps, guint32 seed, gint fill)
{
  GstVideoInfo info;
  GstBuffer *buffer;
  GstMapInfo map;

  fail_unless (gst_video_info_from_caps (&info, caps));
  buffer = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info), NULL);
  fail_unless (buffer != NULL);
  fail_unless (gst_buffer_map (buffer, &map, GST_MAP_WRITE));
  if (fill >= 0) {
    memset (map.data, fill, map.size);
  } else {
    GRand *rand = g_rand_new_with_seed (seed);
    for (gsize i = 0; i < map.size; i++)
      map.data[i] = (guint8) g_rand_int (rand);
    g_rand_free (rand);
  }
  gst_buffer_unmap (buffer, &map);
  gst_buffer_add_video_meta_full (buffer, GST_VIDEO_FRAME_FLAG_NONE,
      GST_VIDEO_INFO_FORMAT (&info), GST_VIDEO_INFO_WIDTH (&info),
      GST_VIDEO_INFO_HEIGHT (&info), GST_VIDEO_INFO_N_PLANES (&info),
      info.offset, info.stride);
  return buffer;
}

typedef struct {
  gboolean found;
  guint64 frame, inference_frame;
  gboolean stale;
  gint label_id;                /* classification: the best class */
  gdouble score;
  mnv3_rect placement;          /* segmentation: the mask's rectangle */
} FrameResult;

static FrameResult
read_classification (GstBuffer * buffer)
{
  FrameResult r = { 0 };
  GstVideoRegionOfInterestMeta *roi =
      gst_buffer_get_video_region_of_interest_meta (buffer);
  const GstStructure *s;

  if (!roi || !roi->params)
    return r;
  s = roi->params->data;        /* best first */
  r.found = gst_structure_get (s, "frame", G_TYPE_UINT64, &r.frame,
      "inference_frame", G_TYPE_UINT64, &r.inference_frame,
      "stale", G_TYPE_BOOLEAN, &r.stale, "label_id", G_TYPE_INT, &r.label_id,
      "confidence", G_TYPE_DOUBLE, &r.score, NULL);
  return r;
}

static FrameResult
read_segmentation (GstBuffer * buffer)
{
  FrameResult r = { 0 };
  GstCustomMeta *meta = gst_buffer_get_custom_meta (buffer,
      "Mnv3SegmentationMask");
  const GstStructure *s;

  if (!meta)
    return r;
  s = gst_custom_meta_get_structure (meta);
  r.found = gst_structure_get (s, "frame", G_TYPE_UINT64, &r.frame,
      "inference_frame", G_TYPE_UINT64, &r.inference_frame,
      "stale", G_TYPE_BOOLEAN, &r.stale,
      "x", G_TYPE_INT, &r.placement.x, "y", G_TYPE_INT, &r.placement.y,
      "width", G_TYPE_INT, &r.placement.width,
      "height", G_TYPE_INT, &r.placement.height, NULL);
  return r;
}

typedef FrameResult (*ReadFunc) (GstBuffer * buffer);

static GstHarness *
harness_new (const gchar * element, const gchar * config, const gchar * extra)
{
  gchar *desc = g_strdup_printf ("%s name=element config=\"%s\" threads=1 %s",
      element, config, extra ? extra : "");
  GstHarness *h = gst_harness_new_parse (desc);
  fail_unless (h != NULL, "%s", desc);
  g_free (desc);
  return h;
}

/* The element inside the harness's bin (borrowed). */
static GstElement *
harness_element (GstHarness * h)
{
  GstElement *element = gst_bin_get_by_name (GST_BIN (h->element), "element");
  fail_unless (element != NULL);
  gst_object_unref (element);
  return element;
}

static FrameResult
push_pull (GstHarness * h, GstBuffer * buffer, ReadFunc read)
{
  GstBuffer *out;
  FrameResult r;

  fail_unless_equals_int (gst_harness_push (h, buffer), GST_FLOW_OK);
  out = gst_harness_pull (h);
  fail_unless (out != NULL);
  r = read (out);
  gst_buffer_unref (out);
  return r;
}

/* The element's warnings and errors, as "WARNING: text" lines. */
static gchar *
drain_problems (GstBus * bus)
{
  GString *text = g_string_new (NULL);
  GstMessage *msg;

  while ((msg = gst_bus_pop_filtered (bus,
              GST_MESSAGE_WARNING | GST_MESSAGE_ERROR))) {
    GError *error = NULL;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING)
      gst_message_parse_warning (msg, &error, NULL);
    else
      gst_message_parse_error (msg, &error, NULL);
    g_string_append_printf (text, "%s: %s\n",
        GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING ? "WARNING" : "ERROR",
        error->message);
    g_error_free (error);
    gst_message_unref (msg);
  }
  return g_string_free (text, FALSE);
}

/* ---- 1. caps renegotiation --------------------------------------------- */

/* Odd sizes on purpose: odd chroma planes, odd strides. */
static const gint sizes[][2] = {
  {64, 48}, {33, 17}, {97, 61}, {7, 3}, {160, 90}, {2, 2},
};

/* Switches a running element from every format to every other one (each at
 * another size), two frames per caps: the first frame after a change is
 * inferred afresh (inference-interval=2 would otherwise re-attach the old
 * result), frame numbers count on across changes. */
static void
renegotiate (const gchar * element, const gchar * config, ReadFunc read)
{
  GstHarness *h = harness_new (element, config, "inference-interval=2");
  guint64 expected_frame = 0;
  guint n_sizes = G_N_ELEMENTS (sizes), changes = 0;

  for (guint a = 0; a < n_test_formats; a++) {
    for (guint b = 0; b < n_test_formats; b++) {
      guint pair[2] = { a, b };
      if (a == b)
        continue;
      /* Quick: a cycle over the formats, every format once on each side. */
      if (quick () && b != (a + 1) % n_test_formats)
        continue;
      for (guint side = 0; side < 2; side++) {
        const gint *size = sizes[(changes++) % n_sizes];
        GstCaps *caps = make_caps (test_formats[pair[side]], size[0],
            size[1]);
        gst_harness_set_src_caps (h, gst_caps_ref (caps));
        for (guint i = 0; i < 2; i++) {
          FrameResult r = push_pull (h, make_frame (caps, changes * 2 + i,
                  -1), read);
          fail_unless (r.found, "%s: no result after switching to %s %dx%d",
              element, test_formats[pair[side]], size[0], size[1]);
          fail_unless_equals_uint64 (r.frame, expected_frame);
          /* Inferred afresh on the first frame, re-attached on the next. */
          fail_unless_equals_uint64 (r.inference_frame,
              expected_frame - i);
          fail_unless (r.stale == (i == 1));
          if (r.placement.width > 0)
            fail_unless (r.placement.x >= 0 && r.placement.y >= 0 &&
                r.placement.x + r.placement.width <= size[0] &&
                r.placement.y + r.placement.height <= size[1],
                "mask placement outside the %dx%d frame", size[0], size[1]);
          expected_frame++;
        }
        gst_caps_unref (caps);
      }
    }
  }
  GST_INFO ("%s: %u caps changes, %" G_GUINT64_FORMAT " frames", element,
      changes, expected_frame);
  gst_harness_teardown (h);
}

GST_START_TEST (test_renegotiate_classify)
{
  renegotiate ("mnv3classify", small_config, read_classification);
}

GST_END_TEST;

GST_START_TEST (test_renegotiate_segment)
{
  renegotiate ("mnv3segment", lraspp_config, read_segmentation);
}

GST_END_TEST;

/* ---- 2. flushing seeks while playing ----------------------------------- */

typedef struct {
  guint64 frame;
  GstClockTime pts;
  gint label_id;
} Classification;

/* The next mnv3-classification message; fails on an error or EOS. */
static Classification
next_classification (GstBus * bus)
{
  Classification c = { 0 };
  GstMessage *msg;

  for (;;) {
    const GstStructure *s;
    msg = gst_bus_timed_pop_filtered (bus, test_wait (60),
        GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
    fail_unless (msg != NULL, "no classification in time");
    fail_unless (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT,
        "%s before the expected classification",
        GST_MESSAGE_TYPE_NAME (msg));
    s = gst_message_get_structure (msg);
    if (gst_structure_has_name (s, "mnv3-classification"))
      break;
    gst_message_unref (msg);
  }
  fail_unless (gst_structure_get (gst_message_get_structure (msg),
          "frame", G_TYPE_UINT64, &c.frame, "pts", G_TYPE_UINT64, &c.pts,
          "label_id", G_TYPE_INT, &c.label_id, NULL));
  gst_message_unref (msg);
  return c;
}

/* Seeks to `second` and reads on until the frame at that time: it shows the
 * photo of that second (EXPECTED.txt), frame numbers count on, and no frame
 * from before the seek comes after it. */
static guint64
seek_and_check (GstElement * pipeline, GstBus * bus, gint second,
    gint expected_label, guint64 last_frame)
{
  GstClockTime target = second * GST_SECOND;
  Classification c;
  gboolean reached = FALSE;

  fail_unless (gst_element_seek_simple (pipeline, GST_FORMAT_TIME,
          GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE, target),
      "the seek to %d s failed", second);
  /* Frames decoded before the flush may still be on the bus. */
  for (guint i = 0; i < 3 || !reached; i++) {
    c = next_classification (bus);
    fail_unless_equals_uint64 (c.frame, last_frame + 1);
    last_frame = c.frame;
    if (reached) {
      fail_unless (c.pts > target, "a frame at %" GST_TIME_FORMAT " came "
          "after the seek to %d s", GST_TIME_ARGS (c.pts), second);
    } else if (c.pts == target) {
      reached = TRUE;
      fail_unless_equals_int (c.label_id, expected_label);
    }
  }
  return last_frame;
}

GST_START_TEST (test_flushing_seeks)
{
  gchar *clip = test_shared_path ("media/video/"
      "slideshow_6classes_640x480_mjpeg.avi");
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! decodebin ! "
      "mnv3classify config=\"%s\" post-messages=true ! fakesink sync=true",
      clip, tfslim_config);
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;
  Classification c;
  guint64 frame;

  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  c = next_classification (bus);
  fail_unless_equals_uint64 (c.frame, 0);
  frame = c.frame;
  /* Seconds 3, 1 and 5 of the slideshow: fox squirrel, hotdog, daisy. */
  frame = seek_and_check (pipeline, bus, 3, 335, frame);
  frame = seek_and_check (pipeline, bus, 1, 934, frame);
  frame = seek_and_check (pipeline, bus, 5, 985, frame);
  /* On to the end, still counting. */
  for (;;) {
    msg = gst_bus_timed_pop_filtered (bus, test_wait (60),
        GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
    fail_unless (msg != NULL);
    fail_unless (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ERROR);
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS)
      break;
    if (gst_structure_has_name (gst_message_get_structure (msg),
            "mnv3-classification")) {
      guint64 f;
      GstClockTime pts;
      gst_structure_get (gst_message_get_structure (msg), "frame",
          G_TYPE_UINT64, &f, "pts", G_TYPE_UINT64, &pts, NULL);
      fail_unless_equals_uint64 (f, frame + 1);
      fail_unless (pts > 5 * GST_SECOND);
      frame = f;
    }
    gst_message_unref (msg);
  }
  gst_message_unref (msg);
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_free (desc);
  g_free (clip);
}

GST_END_TEST;

/* ---- EOS while an inference runs --------------------------------------- */

typedef struct {
  GMutex lock;
  GCond cond;
  guint entered;                /* buffers that reached the element */
  gint64 left_time;             /* when buffer 2 left it */
  gint64 eos_time;              /* when the EOS was sent */
  GstPad *sinkpad;
} EosRace;

static GstPadProbeReturn
count_entered (G_GNUC_UNUSED GstPad * pad,
    G_GNUC_UNUSED GstPadProbeInfo * info, gpointer data)
{
  EosRace *race = data;
  g_mutex_lock (&race->lock);
  race->entered++;
  g_cond_broadcast (&race->cond);
  g_mutex_unlock (&race->lock);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
note_left (G_GNUC_UNUSED GstPad * pad, G_GNUC_UNUSED GstPadProbeInfo * info,
    gpointer data)
{
  EosRace *race = data;
  g_mutex_lock (&race->lock);
  if (race->entered == 2 && race->left_time == 0)
    race->left_time = g_get_monotonic_time ();
  g_mutex_unlock (&race->lock);
  return GST_PAD_PROBE_OK;
}

/* Waits until the second buffer is in the element (the first one paid for
 * the cold start), lets the network get going, then sends EOS straight to
 * the element's sink pad, racing the inference. */
static gpointer
send_eos (gpointer data)
{
  EosRace *race = data;
  g_mutex_lock (&race->lock);
  while (race->entered < 2)
    g_cond_wait (&race->cond, &race->lock);
  g_mutex_unlock (&race->lock);
  g_usleep (5000);
  race->eos_time = g_get_monotonic_time ();
  gst_pad_send_event (race->sinkpad, gst_event_new_eos ());
  return NULL;
}

GST_START_TEST (test_eos_during_inference)
{
  /* A 1024x1024 network input makes one inference slow (tens of ms). */
  gchar *slow = write_tfslim_sized ("slow.yaml", quick ()? 512 : 1024);
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=50 ! "
      "video/x-raw,format=I420,width=320,height=240 ! mnv3classify name=c "
      "config=\"%s\" post-messages=true ! fakesink name=sink", slow);
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstElement *classify = gst_bin_get_by_name (GST_BIN (pipeline), "c");
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  GstPad *srcpad = gst_element_get_static_pad (classify, "src");
  GstBus *bus = gst_element_get_bus (pipeline);
  EosRace race = { 0 };
  GThread *thread;
  GstMessage *msg;
  guint messages = 0;
  guint64 frames_in, rendered;

  g_mutex_init (&race.lock);
  g_cond_init (&race.cond);
  race.sinkpad = gst_element_get_static_pad (classify, "sink");
  gst_pad_add_probe (race.sinkpad, GST_PAD_PROBE_TYPE_BUFFER, count_entered,
      &race, NULL);
  gst_pad_add_probe (srcpad, GST_PAD_PROBE_TYPE_BUFFER, note_left, &race,
      NULL);
  thread = g_thread_new ("eos", send_eos, &race);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  for (;;) {
    msg = gst_bus_timed_pop_filtered (bus, test_wait (120),
        GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
    fail_unless (msg != NULL, "no EOS after the EOS event");
    fail_unless (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ERROR,
        "an error after EOS during an inference");
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS)
      break;
    if (gst_structure_has_name (gst_message_get_structure (msg),
            "mnv3-classification"))
      messages++;
    gst_message_unref (msg);
  }
  gst_message_unref (msg);
  g_thread_join (thread);

  /* The EOS went in while buffer 2 was being inferred, and waited for it. */
  fail_unless (race.left_time != 0, "buffer 2 never left the element");
  fail_unless (race.eos_time < race.left_time, "the EOS was sent %"
      G_GINT64_FORMAT " us after the inference ended: the model is not slow "
      "enough for this test", race.eos_time - race.left_time);
  g_object_get (classify, "frames-in", &frames_in, NULL);
  {
    GstStructure *stats = NULL;
    g_object_get (sink, "stats", &stats, NULL);
    fail_unless (gst_structure_get_uint64 (stats, "rendered", &rendered));
    gst_structure_free (stats);
  }
  /* Every buffer that went in came out with its message. The EOS and the
   * source's next buffer race for the stream lock once buffer 2 is done, so
   * a third one may get in first; the 50 buffers never all do. */
  fail_unless (frames_in >= 2 && frames_in < 50, "%" G_GUINT64_FORMAT
      " frames went in", frames_in);
  fail_unless_equals_uint64 (rendered, frames_in);
  fail_unless_equals_int (messages, frames_in);

  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (race.sinkpad);
  gst_object_unref (srcpad);
  gst_object_unref (sink);
  gst_object_unref (classify);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_mutex_clear (&race.lock);
  g_cond_clear (&race.cond);
  g_free (desc);
  g_free (slow);
}

GST_END_TEST;

/* ---- buffers without timestamps ---------------------------------------- */

/* Results, messages (pts = GST_CLOCK_TIME_NONE, as documented) and JSON
 * records ("pts": null) still come, in batch and in live mode. */
static void
untimed_element (const gchar * element, const gchar * config, ReadFunc read,
    const gchar * message_name)
{
  static const gchar *modes[] = { "batch", "live" };

  for (guint m = 0; m < G_N_ELEMENTS (modes); m++) {
    gchar *extra = g_strdup_printf ("post-messages=true mode=%s", modes[m]);
    GstHarness *h = harness_new (element, config, extra);
    GstBus *bus = gst_bus_new ();
    GstCaps *caps = make_caps ("NV12", 96, 64);

    gst_element_set_bus (h->element, bus);
    gst_harness_set_src_caps (h, gst_caps_ref (caps));
    for (guint i = 0; i < 3; i++) {
      GstBuffer *in = make_frame (caps, i, -1);
      FrameResult r;
      GstMessage *msg;
      guint64 pts = 0, frame = G_MAXUINT64;

      GST_BUFFER_PTS (in) = GST_BUFFER_DTS (in) = GST_CLOCK_TIME_NONE;
      GST_BUFFER_DURATION (in) = GST_CLOCK_TIME_NONE;
      r = push_pull (h, in, read);
      fail_unless (r.found, "%s mode=%s: no result on an untimed buffer",
          element, modes[m]);
      fail_unless_equals_uint64 (r.frame, i);
      msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT);
      fail_unless (msg != NULL, "%s mode=%s: no message", element, modes[m]);
      fail_unless (gst_structure_has_name (gst_message_get_structure (msg),
              message_name));
      fail_unless (gst_structure_get (gst_message_get_structure (msg),
              "pts", G_TYPE_UINT64, &pts, "frame", G_TYPE_UINT64, &frame,
              NULL));
      fail_unless_equals_uint64 (pts, GST_CLOCK_TIME_NONE);
      fail_unless_equals_uint64 (frame, i);
      gst_message_unref (msg);
    }
    gst_element_set_bus (h->element, NULL);
    gst_object_unref (bus);
    gst_caps_unref (caps);
    gst_harness_teardown (h);
    g_free (extra);
  }
}

GST_START_TEST (test_no_timestamps)
{
  gchar *json = g_build_filename (tmp_dir, "untimed.jsonl", NULL);
  gchar *desc = g_strdup_printf ("appsrc name=src format=time ! "
      "mnv3classify config=\"%s\" threads=1 ! mnv3segment config=\"%s\" "
      "threads=1 ! mnv3jsonsink location=\"%s\"", small_config,
      lraspp_config, json);
  GstElement *pipeline;
  GstElement *src;
  GstCaps *caps = make_caps ("I420", 64, 48);
  GstBus *bus;
  GstMessage *msg;
  gchar *text = NULL;
  gchar **lines;

  untimed_element ("mnv3classify", small_config, read_classification,
      "mnv3-classification");
  untimed_element ("mnv3segment", lraspp_config, read_segmentation,
      "mnv3-segmentation");

  /* And through mnv3jsonsink. */
  pipeline = gst_parse_launch (desc, NULL);
  fail_unless (pipeline != NULL);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  g_object_set (src, "caps", caps, NULL);
  bus = gst_element_get_bus (pipeline);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  for (guint i = 0; i < 3; i++) {
    GstFlowReturn ret;
    GstBuffer *buffer = make_frame (caps, i, -1);
    /* The action signal takes a reference of its own. */
    g_signal_emit_by_name (src, "push-buffer", buffer, &ret);
    gst_buffer_unref (buffer);
    fail_unless_equals_int (ret, GST_FLOW_OK);
  }
  {
    GstFlowReturn ret;
    g_signal_emit_by_name (src, "end-of-stream", &ret);
  }
  msg = gst_bus_timed_pop_filtered (bus, test_wait (60),
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  fail_unless (g_file_get_contents (json, &text, NULL, NULL));
  lines = g_strsplit (g_strstrip (text), "\n", -1);
  fail_unless_equals_int (g_strv_length (lines), 3);
  for (guint i = 0; i < 3; i++) {
    gchar *frame = g_strdup_printf ("{\"frame\": %u, \"pts\": null, "
        "\"duration\": null,", i);
    fail_unless (g_str_has_prefix (lines[i], frame), "record %u: %s", i,
        lines[i]);
    fail_unless (strstr (lines[i], "\"classification\": [{") != NULL);
    fail_unless (strstr (lines[i], "\"segmentation\": [{") != NULL);
    g_free (frame);
  }
  g_strfreev (lines);
  g_free (text);
  gst_object_unref (bus);
  gst_object_unref (src);
  gst_object_unref (pipeline);
  gst_caps_unref (caps);
  g_free (desc);
  g_free (json);
}

GST_END_TEST;

/* ---- 1x1 and 8192x8192 frames ------------------------------------------ */

/* Top class of a uniform frame (every byte `fill`) of that size. */
static FrameResult
classify_uniform (const gchar * format, gint width, gint height, gint fill)
{
  GstHarness *h = harness_new ("mnv3classify", small_config, NULL);
  GstCaps *caps = make_caps (format, width, height);
  FrameResult r;

  gst_harness_set_src_caps (h, gst_caps_ref (caps));
  r = push_pull (h, make_frame (caps, 0, fill), read_classification);
  fail_unless (r.found, "no result on a %dx%d %s frame", width, height,
      format);
  gst_caps_unref (caps);
  gst_harness_teardown (h);
  return r;
}

/* The engine crops and scales bilinearly: a uniform frame gives the network
 * the same input at any size, so a 1x1 and an 8192x8192 frame must give
 * the result of a 16x16 one. */
GST_START_TEST (test_tiny_and_huge_frames)
{
  static const gchar *formats[] = { "RGB", "BGRx", "I420", "YV12", "NV21",
    "GRAY8"
  };

  for (guint f = 0; f < G_N_ELEMENTS (formats); f++) {
    FrameResult ref = classify_uniform (formats[f], 16, 16, 150);
    FrameResult tiny = classify_uniform (formats[f], 1, 1, 150);
    GstHarness *h = harness_new ("mnv3segment", lraspp_config, NULL);
    GstCaps *caps = make_caps (formats[f], 1, 1);
    FrameResult seg;

    fail_unless_equals_int (tiny.label_id, ref.label_id);
    fail_unless (fabs (tiny.score - ref.score) < 1e-4, "%s 1x1: %f vs %f",
        formats[f], tiny.score, ref.score);

    gst_harness_set_src_caps (h, gst_caps_ref (caps));
    seg = push_pull (h, make_frame (caps, f, -1), read_segmentation);
    fail_unless (seg.found, "no mask on a 1x1 %s frame", formats[f]);
    fail_unless (seg.placement.x == 0 && seg.placement.y == 0 &&
        seg.placement.width == 1 && seg.placement.height == 1);
    gst_caps_unref (caps);
    gst_harness_teardown (h);
  }

  /* Big frames: GRAY8 is 64 MB, I420 96 MB (only GRAY8 under valgrind). */
  for (guint f = 0; f < (quick ()? 1 : 2); f++) {
    const gchar *format = f == 0 ? "GRAY8" : "I420";
    FrameResult ref = classify_uniform (format, 16, 16, 90);
    FrameResult huge = classify_uniform (format, 8192, 8192, 90);
    fail_unless_equals_int (huge.label_id, ref.label_id);
    fail_unless (fabs (huge.score - ref.score) < 1e-4, "%s 8192x8192: %f vs "
        "%f", format, huge.score, ref.score);
  }
}

GST_END_TEST;

/* ---- a config set while playing ---------------------------------------- */

/* The engine's best class for the picture with `config`. */
static FrameResult
engine_best (const gchar * config, GstBuffer * picture, GstCaps * caps)
{
  mnv3_error err = { {0} };
  mnv3_model *model = mnv3_model_load (config, NULL, &err);
  mnv3_context *ctx;
  mnv3_class_score best;
  FrameResult r = { 0 };

  fail_unless (model != NULL, "%s", err.message);
  ctx = test_engine_run (model, picture, caps);
  fail_unless_equals_int (mnv3_context_top_k (ctx, 0, 1, &best), 1);
  r.found = TRUE;
  r.label_id = best.class_id;
  r.score = best.score;
  mnv3_context_free (ctx);
  mnv3_model_unref (model);
  return r;
}

static gboolean
same_result (FrameResult a, FrameResult b)
{
  return a.label_id == b.label_id && fabs (a.score - b.score) < 1e-6;
}

/* Sets a config the element must refuse: the next frame keeps the current
 * model's result, marked stale, and a warning names the reason. */
static void
expect_config_refused (GstHarness * h, GstBus * bus, GstBuffer * picture,
    FrameResult current, const gchar * config, const gchar * reason)
{
  FrameResult r;
  gchar *problems;

  g_object_set (harness_element (h), "config", config, NULL);
  r = push_pull (h, gst_buffer_ref (picture), read_classification);
  fail_unless (same_result (r, current) && r.stale);
  problems = drain_problems (bus);
  fail_unless (g_str_has_prefix (problems, "WARNING: Not switching") &&
      strstr (problems, reason) != NULL, "%s", problems);
  g_free (problems);
}

/* The new model takes over at the next frame (inferred afresh whatever
 * inference-interval says) and gives exactly the engine's result; a config
 * that cannot be used is refused with a warning and the current model
 * carries on. */
GST_START_TEST (test_config_change_playing)
{
  GstCaps *caps;
  GstBuffer *picture = test_load_picture ("macaw_parrot__coral.jpg", "RGB",
      160, 120, &caps);
  GstHarness *h = harness_new ("mnv3classify", small_config,
      "inference-interval=1000");
  GstBus *bus = gst_bus_new ();
  FrameResult a = engine_best (small_config, picture, caps);
  FrameResult b = engine_best (small96_config, picture, caps);
  FrameResult r;
  gchar *missing = g_build_filename (tmp_dir, "missing.yaml", NULL);
  gchar *problems;

  fail_unless (!same_result (a, b), "the two configs give the same result: "
      "the test could not tell them apart");
  gst_element_set_bus (h->element, bus);
  gst_harness_set_src_caps (h, gst_caps_ref (caps));

  r = push_pull (h, gst_buffer_ref (picture), read_classification);
  fail_unless (same_result (r, a));
  r = push_pull (h, gst_buffer_ref (picture), read_classification);
  fail_unless (r.stale);

  /* Switched at the frame boundary. */
  g_object_set (harness_element (h), "config", small96_config, NULL);
  r = push_pull (h, gst_buffer_ref (picture), read_classification);
  fail_unless (!r.stale && r.inference_frame == 2);
  fail_unless (same_result (r, b), "after the switch: %d %f, the engine "
      "with the new config: %d %f", r.label_id, r.score, b.label_id, b.score);
  problems = drain_problems (bus);
  fail_unless_equals_string (problems, "");
  g_free (problems);

  /* Refused: a segmentation model, then a file that does not exist. */
  expect_config_refused (h, bus, picture, b, lraspp_config, "segmentation");
  expect_config_refused (h, bus, picture, b, missing, "missing.yaml");

  /* Toggled from another thread while frames flow: every frame is wholly
   * one model's, never a mix. */
  g_object_set (harness_element (h), "inference-interval", 1, NULL);
  for (guint i = 0; i < (quick ()? 6u : 40u); i++) {
    g_object_set (harness_element (h), "config", i % 2 ? small_config :
        small96_config, NULL);
    gst_harness_push (h, gst_buffer_ref (picture));
  }
  for (guint i = 0; i < (quick ()? 6u : 40u); i++) {
    GstBuffer *out = gst_harness_pull (h);
    r = read_classification (out);
    fail_unless (same_result (r, a) || same_result (r, b), "frame %u: %d %f "
        "is neither model's result", i, r.label_id, r.score);
    gst_buffer_unref (out);
  }
  problems = drain_problems (bus);
  fail_unless_equals_string (problems, "");
  g_free (problems);

  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  gst_buffer_unref (picture);
  gst_caps_unref (caps);
  g_free (missing);
}

GST_END_TEST;

/* A thread changing the config while another streams: no torn model. */
typedef struct {
  GstElement *element;
  gint stop;
  guint changes;
} Toggler;

static gpointer
toggle_config (gpointer data)
{
  Toggler *t = data;
  while (!g_atomic_int_get (&t->stop)) {
    g_object_set (t->element, "config", t->changes % 2 ? small_config :
        small96_config, NULL);
    t->changes++;
    g_usleep (300);
  }
  return NULL;
}

GST_START_TEST (test_config_change_concurrent)
{
  GstCaps *caps;
  GstBuffer *picture = test_load_picture ("hotdog__coral.jpg", "I420", 96, 80,
      &caps);
  GstHarness *h = harness_new ("mnv3classify", small_config, NULL);
  FrameResult a = engine_best (small_config, picture, caps);
  FrameResult b = engine_best (small96_config, picture, caps);
  Toggler t = { harness_element (h), 0, 0 };
  GThread *thread;
  guint n_a = 0, n_b = 0, frames = quick ()? 10 : 150;

  fail_unless (!same_result (a, b));
  gst_harness_set_src_caps (h, gst_caps_ref (caps));
  thread = g_thread_new ("toggle", toggle_config, &t);
  for (guint i = 0; i < frames; i++) {
    FrameResult r = push_pull (h, gst_buffer_ref (picture),
        read_classification);
    fail_unless (same_result (r, a) || same_result (r, b), "frame %u: %d %f "
        "is neither model's result", i, r.label_id, r.score);
    n_a += same_result (r, a);
    n_b += same_result (r, b);
  }
  g_atomic_int_set (&t.stop, 1);
  g_thread_join (thread);
  GST_INFO ("%u config changes; %u frames by A, %u by B", t.changes, n_a,
      n_b);
  fail_unless (n_a > 0 && n_b > 0, "the config changes were not applied");
  gst_harness_teardown (h);
  gst_buffer_unref (picture);
  gst_caps_unref (caps);
}

GST_END_TEST;

/* ---- two pipelines sharing a model, from two threads ------------------- */

typedef struct {
  guint index;
  guint iterations;
  gchar *failure;               /* the first problem, or NULL */
} Runner;

static gchar *
run_pipeline_once (guint index, guint iteration)
{
  /* Even iterations run to EOS; odd ones are stopped mid-stream. */
  gboolean to_eos = iteration % 2 == 0;
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=%d "
      "pattern=%u ! video/x-raw,format=%s,width=64,height=48 ! "
      "mnv3classify name=c config=\"%s\" threads=1 ! fakesink",
      to_eos ? 4 : 1000, index, index ? "NV12" : "RGBx", small_config);
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstElement *classify;
  GstBus *bus;
  GstMessage *msg;
  gchar *failure = NULL;
  guint64 frames_in = 0;

  if (!pipeline)
    return g_strdup_printf ("cannot make %s", desc);
  g_free (desc);
  classify = gst_bin_get_by_name (GST_BIN (pipeline), "c");
  bus = gst_element_get_bus (pipeline);
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE)
    failure = g_strdup ("could not start");
  if (!failure && to_eos) {
    msg = gst_bus_timed_pop_filtered (bus, test_wait (60),
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    if (!msg || GST_MESSAGE_TYPE (msg) != GST_MESSAGE_EOS)
      failure = g_strdup ("no EOS");
    g_object_get (classify, "frames-in", &frames_in, NULL);
    if (!failure && frames_in != 4)
      failure = g_strdup_printf ("%" G_GUINT64_FORMAT " frames instead of "
          "4", frames_in);
    if (msg)
      gst_message_unref (msg);
  } else if (!failure) {
    gst_element_get_state (pipeline, NULL, NULL, test_wait (10));
  }
  if (gst_element_set_state (pipeline, GST_STATE_NULL) !=
      GST_STATE_CHANGE_SUCCESS && !failure)
    failure = g_strdup ("could not stop");
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  if (msg && !failure)
    failure = g_strdup ("an error message");
  if (msg)
    gst_message_unref (msg);
  gst_object_unref (bus);
  gst_object_unref (classify);
  gst_object_unref (pipeline);
  return failure;
}

static gpointer
run_pipelines (gpointer data)
{
  Runner *r = data;
  for (guint i = 0; i < r->iterations && !r->failure; i++) {
    gchar *failure = run_pipeline_once (r->index, i);
    if (failure)
      r->failure = g_strdup_printf ("pipeline %u, iteration %u: %s",
          r->index, i, failure);
    g_free (failure);
  }
  return NULL;
}

GST_START_TEST (test_concurrent_pipelines)
{
  const gchar *env = g_getenv ("MNV3_FAULTS_ITERATIONS");
  guint iterations = env ? (guint) atoi (env) : quick ()? 3 : 20;
  Runner runners[2] = { {0, iterations, NULL}, {1, iterations, NULL} };
  GThread *threads[2];

  for (guint i = 0; i < 2; i++)
    threads[i] = g_thread_new ("runner", run_pipelines, &runners[i]);
  for (guint i = 0; i < 2; i++)
    g_thread_join (threads[i]);
  for (guint i = 0; i < 2; i++) {
    fail_unless (runners[i].failure == NULL, "%s", runners[i].failure);
  }
}

GST_END_TEST;

static Suite *
mnv3faults_suite (void)
{
  Suite *s = suite_create ("mnv3faults");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 600);
  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_renegotiate_classify);
  tcase_add_test (tc, test_renegotiate_segment);
  tcase_add_test (tc, test_flushing_seeks);
  tcase_add_test (tc, test_eos_during_inference);
  tcase_add_test (tc, test_no_timestamps);
  tcase_add_test (tc, test_tiny_and_huge_frames);
  tcase_add_test (tc, test_config_change_playing);
  tcase_add_test (tc, test_config_change_concurrent);
  tcase_add_test (tc, test_concurrent_pipelines);
  return s;
}

GST_CHECK_MAIN (mnv3faults);
