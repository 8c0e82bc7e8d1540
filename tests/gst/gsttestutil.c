#include "gsttestutil.h"

#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <string.h>

const gchar *const test_formats[] = {
  "RGB", "BGR", "RGBx", "BGRx", "xRGB", "xBGR", "RGBA", "BGRA", "ARGB", "ABGR",
  "I420", "YV12", "NV12", "NV21", "GRAY8",
};
const guint n_test_formats = G_N_ELEMENTS (test_formats);

gboolean
test_quick (void)
{
  return g_getenv ("MNV3_GST_QUICK") != NULL;
}

GstClockTime
test_wait (guint seconds)
{
  return (test_quick ()? 10 : 1) * (GstClockTime) seconds * GST_SECOND;
}

gchar *
test_shared_path (const gchar * relative)
{
  const gchar *root = g_getenv ("MNV3_SOURCE_ROOT");
  fail_unless (root != NULL, "MNV3_SOURCE_ROOT is not set (run through "
      "meson test)");
  return g_build_filename (root, "..", "shared", relative, NULL);
}

gchar *
test_make_temp_dir (void)
{
  GError *error = NULL;
  gchar *dir = g_dir_make_tmp ("mnv3-gst-XXXXXX", &error);
  fail_unless (dir != NULL, "cannot make a temporary folder: %s",
      error ? error->message : "?");
  return dir;
}

void
test_remove_dir (const gchar * dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;
  if (!d)
    return;
  while ((name = g_dir_read_name (d))) {
    gchar *path = g_build_filename (dir, name, NULL);
    g_unlink (path);
    g_free (path);
  }
  g_dir_close (d);
  g_rmdir (dir);
}

gchar *
test_write_file (const gchar * dir, const gchar * name, const gchar * text)
{
  gchar *path = g_build_filename (dir, name, NULL);
  fail_unless (g_file_set_contents (path, text, -1, NULL));
  return path;
}

gchar *
test_write_tfslim_config (const gchar * dir)
{
  gchar *weights = test_shared_path ("models/v3-small_224_1.0_uint8.tflite");
  gchar *text = g_strdup_printf ("model:\n"
      "  architecture: mobilenet_v3_small\n"
      "  num-classes: 1001\n"
      "  background-class: true\n"
      "  weights: %s\n"
      "input:\n"
      "  size: [224, 224]\n"
      "  mean: [0.5, 0.5, 0.5]\n"
      "  std: [0.5, 0.5, 0.5]\n" "  crop: 0.875\n", weights);
  gchar *path = test_write_file (dir, "tfslim.yaml", text);
  g_free (text);
  g_free (weights);
  return path;
}

GstBuffer *
test_load_picture (const gchar * photo, const gchar * format, gint width,
    gint height, GstCaps ** caps)
{
  gchar *rel = g_build_filename ("media", "images", photo, NULL);
  gchar *path = test_shared_path (rel);
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! decodebin ! "
      "videoconvert ! videoscale ! video/x-raw,format=RGB,width=%d,"
      "height=%d,pixel-aspect-ratio=1/1 ! videoconvert ! "
      "video/x-raw,format=%s ! appsink name=sink sync=false", path,
      width, height, format);
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch (desc, &error);
  GstElement *sink;
  GstSample *sample = NULL;
  GstBuffer *buffer;

  fail_unless (pipeline != NULL, "%s: %s", desc, error ? error->message : "");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  g_signal_emit_by_name (sink, "pull-sample", &sample);
  fail_unless (sample != NULL, "no picture from %s", desc);
  buffer = gst_buffer_copy_deep (gst_sample_get_buffer (sample));
  *caps = gst_caps_copy (gst_sample_get_caps (sample));
  gst_sample_unref (sample);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  g_free (desc);
  g_free (path);
  g_free (rel);
  /* No PTS yet: the tests stamp their own. */
  GST_BUFFER_PTS (buffer) = GST_BUFFER_DTS (buffer) = GST_CLOCK_TIME_NONE;
  return buffer;
}

static mnv3_pixel_format
engine_format (GstVideoFormat format)
{
  switch (format) {
    case GST_VIDEO_FORMAT_RGB: return MNV3_PIXEL_RGB;
    case GST_VIDEO_FORMAT_BGR: return MNV3_PIXEL_BGR;
    case GST_VIDEO_FORMAT_RGBx: return MNV3_PIXEL_RGBX;
    case GST_VIDEO_FORMAT_BGRx: return MNV3_PIXEL_BGRX;
    case GST_VIDEO_FORMAT_xRGB: return MNV3_PIXEL_XRGB;
    case GST_VIDEO_FORMAT_xBGR: return MNV3_PIXEL_XBGR;
    case GST_VIDEO_FORMAT_RGBA: return MNV3_PIXEL_RGBA;
    case GST_VIDEO_FORMAT_BGRA: return MNV3_PIXEL_BGRA;
    case GST_VIDEO_FORMAT_ARGB: return MNV3_PIXEL_ARGB;
    case GST_VIDEO_FORMAT_ABGR: return MNV3_PIXEL_ABGR;
    case GST_VIDEO_FORMAT_I420: return MNV3_PIXEL_I420;
    case GST_VIDEO_FORMAT_YV12: return MNV3_PIXEL_YV12;
    case GST_VIDEO_FORMAT_NV12: return MNV3_PIXEL_NV12;
    case GST_VIDEO_FORMAT_NV21: return MNV3_PIXEL_NV21;
    case GST_VIDEO_FORMAT_GRAY8: return MNV3_PIXEL_GRAY8;
    default:
      fail ("format %s has no engine equivalent",
          gst_video_format_to_string (format));
      return MNV3_PIXEL_FORMAT_COUNT;
  }
}

void
test_engine_frame (const GstVideoFrame * frame, mnv3_frame * out)
{
  GstVideoFormat format = GST_VIDEO_FRAME_FORMAT (frame);

  memset (out, 0, sizeof *out);
  out->format = engine_format (format);
  out->width = GST_VIDEO_FRAME_WIDTH (frame);
  out->height = GST_VIDEO_FRAME_HEIGHT (frame);
  out->full_range = frame->info.colorimetry.range == GST_VIDEO_COLOR_RANGE_0_255;
  if (format == GST_VIDEO_FORMAT_YV12) {
    /* Memory order Y, V, U; the engine takes Y, U, V. */
    out->planes[0] = GST_VIDEO_FRAME_PLANE_DATA (frame, 0);
    out->planes[1] = GST_VIDEO_FRAME_PLANE_DATA (frame, 2);
    out->planes[2] = GST_VIDEO_FRAME_PLANE_DATA (frame, 1);
    out->strides[0] = GST_VIDEO_FRAME_PLANE_STRIDE (frame, 0);
    out->strides[1] = GST_VIDEO_FRAME_PLANE_STRIDE (frame, 2);
    out->strides[2] = GST_VIDEO_FRAME_PLANE_STRIDE (frame, 1);
    return;
  }
  for (guint i = 0; i < GST_VIDEO_FRAME_N_PLANES (frame); i++) {
    out->planes[i] = GST_VIDEO_FRAME_PLANE_DATA (frame, i);
    out->strides[i] = GST_VIDEO_FRAME_PLANE_STRIDE (frame, i);
  }
}

mnv3_context *
test_engine_run (mnv3_model * model, GstBuffer * buffer, GstCaps * caps)
{
  GstVideoInfo info;
  GstVideoFrame frame;
  mnv3_frame input;
  mnv3_error err = { {0} };
  mnv3_context *ctx = mnv3_context_new (model, 1, &err);

  fail_unless (ctx != NULL, "%s", err.message);
  fail_unless (gst_video_info_from_caps (&info, caps));
  fail_unless (gst_video_frame_map (&frame, &info, buffer, GST_MAP_READ));
  test_engine_frame (&frame, &input);
  fail_unless (mnv3_context_set_frame (ctx, 0, &input, NULL, &err) == 0,
      "%s", err.message);
  fail_unless (mnv3_context_run (ctx, 1, &err) == 0, "%s", err.message);
  gst_video_frame_unmap (&frame);
  return ctx;
}

gchar *
test_expect_start_error (GstElement * pipeline, GError ** error_out)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;
  GError *error = NULL;
  gchar *debug = NULL, *text;

  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "the failed start posted no error message");
  gst_message_parse_error (msg, &error, &debug);
  text = g_strdup_printf ("%s\n%s", error->message, debug ? debug : "");
  g_free (debug);
  if (error_out)
    *error_out = error;
  else
    g_error_free (error);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  return text;
}

/* The bytes of one row of `plane` that carry pixels: a component's width
 * times its pixel stride spans every component sharing its plane (U and V
 * interleaved in NV12's plane 1; R, G, B and the padding byte of RGBx). */
static gsize
visible_row_bytes (const GstVideoFrame * frame, guint plane, guint * rows)
{
  const GstVideoFormatInfo *finfo = frame->info.finfo;
  gsize bytes = 0;

  *rows = 0;
  for (guint c = 0; c < GST_VIDEO_FORMAT_INFO_N_COMPONENTS (finfo); c++) {
    if (GST_VIDEO_FORMAT_INFO_PLANE (finfo, c) != plane)
      continue;
    bytes = MAX (bytes, (gsize) GST_VIDEO_FRAME_COMP_WIDTH (frame, c) *
        GST_VIDEO_FRAME_COMP_PSTRIDE (frame, c));
    *rows = MAX (*rows, (guint) GST_VIDEO_FRAME_COMP_HEIGHT (frame, c));
  }
  return bytes;
}

gchar *
test_frame_difference (GstBuffer * a, GstBuffer * b, GstCaps * caps)
{
  GstVideoInfo info;
  GstVideoFrame fa, fb;
  gchar *difference = NULL;

  fail_unless (gst_video_info_from_caps (&info, caps), "caps without video "
      "info: %" GST_PTR_FORMAT, caps);
  fail_unless (gst_video_frame_map (&fa, &info, a, GST_MAP_READ));
  fail_unless (gst_video_frame_map (&fb, &info, b, GST_MAP_READ));
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES (&fa) && !difference; p++) {
    guint rows;
    gsize bytes = visible_row_bytes (&fa, p, &rows);
    for (guint y = 0; y < rows && !difference; y++) {
      const guint8 *ra = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&fa, p)
          + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&fa, p);
      const guint8 *rb = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&fb, p)
          + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&fb, p);
      if (memcmp (ra, rb, bytes) == 0)
        continue;
      for (gsize x = 0; x < bytes; x++)
        if (ra[x] != rb[x]) {
          difference = g_strdup_printf ("%s plane %u row %u byte %"
              G_GSIZE_FORMAT ": %u vs %u", GST_VIDEO_INFO_NAME (&info), p, y,
              x, ra[x], rb[x]);
          break;
        }
    }
  }
  gst_video_frame_unmap (&fa);
  gst_video_frame_unmap (&fb);
  return difference;
}

void
test_assert_frames_equal (GstBuffer * a, GstBuffer * b, GstCaps * caps,
    const gchar * what)
{
  gchar *difference = test_frame_difference (a, b, caps);
  fail_unless (difference == NULL, "%s: the frames differ at %s", what,
      difference);
}
