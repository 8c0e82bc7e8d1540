/* mnv3classify against the engine's public API and the shared photos,
 * with Google's TF-slim MobileNetV3-Small. */
#include <math.h>
#include <string.h>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <gst/video/video-overlay-composition.h>

#include "gsttestutil.h"

#define K 5

static gchar *tmp_dir;
static gchar *config;

static void
setup (void)
{
  tmp_dir = test_make_temp_dir ();
  config = test_write_tfslim_config (tmp_dir);
}

static void
teardown (void)
{
  test_remove_dir (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
  g_clear_pointer (&config, g_free);
}

static GstHarness *
classify_harness (const gchar * extra)
{
  gchar *desc = g_strdup_printf ("mnv3classify name=classify config=\"%s\" "
      "threads=1 %s", config, extra ? extra : "");
  GstHarness *h = gst_harness_new_parse (desc);
  g_free (desc);
  return h;
}

typedef struct {
  gint n;
  gint ids[K];
  gdouble scores[K];
  gboolean stale;
  guint64 frame, inference_frame;
} Results;

/* The last param holds the same classes and frame numbers, with the
 * element's and the model's names. */
static void
check_summary (const GstStructure * s, const Results * r)
{
  const GValue *results = gst_structure_get_value (s, "results");
  gboolean stale;
  guint64 frame, inference_frame;

  fail_unless_equals_string (gst_structure_get_name (s),
      "mnv3-classification");
  fail_unless_equals_string (gst_structure_get_string (s, "element"),
      "classify");
  /* The config's file name without its extension. */
  fail_unless_equals_string (gst_structure_get_string (s, "model"),
      "tfslim");
  fail_unless (gst_structure_get_boolean (s, "stale", &stale));
  fail_unless (gst_structure_get_uint64 (s, "frame", &frame));
  fail_unless (gst_structure_get_uint64 (s, "inference_frame",
          &inference_frame));
  fail_unless (stale == r->stale && frame == r->frame
      && inference_frame == r->inference_frame);
  fail_unless (results && GST_VALUE_HOLDS_ARRAY (results));
  fail_unless_equals_int (gst_value_array_get_size (results), r->n);
  for (gint i = 0; i < r->n; i++) {
    const GstStructure *c =
        gst_value_get_structure (gst_value_array_get_value (results, i));
    gint id;
    gdouble confidence;
    fail_unless (gst_structure_get_int (c, "label_id", &id) && id == r->ids[i]);
    fail_unless (gst_structure_get_double (c, "confidence", &confidence)
        && confidence == r->scores[i]);
  }
}

/* The classification the element attached to a buffer; n = 0 without meta. */
static Results
read_results (GstBuffer * buffer)
{
  Results r = { 0 };
  GstVideoRegionOfInterestMeta *roi =
      gst_buffer_get_video_region_of_interest_meta (buffer);

  if (!roi)
    return r;
  fail_unless_equals_string (g_quark_to_string (roi->roi_type),
      "mnv3-classification");
  for (GList * l = roi->params; l->next; l = l->next) {
    const GstStructure *s = l->data;
    fail_unless (r.n < K);
    fail_unless_equals_string (gst_structure_get_name (s),
        "mnv3-classification-result");
    fail_unless (gst_structure_get_int (s, "label_id", &r.ids[r.n]));
    fail_unless (gst_structure_get_double (s, "confidence", &r.scores[r.n]));
    fail_unless (gst_structure_get_string (s, "label") != NULL);
    fail_unless (gst_structure_get_boolean (s, "stale", &r.stale));
    fail_unless (gst_structure_get_uint64 (s, "frame", &r.frame));
    fail_unless (gst_structure_get_uint64 (s, "inference_frame",
            &r.inference_frame));
    r.n++;
  }
  check_summary (g_list_last (roi->params)->data, &r);
  return r;
}

static Results
classify_once (const gchar * extra, GstBuffer * picture, GstCaps * caps)
{
  GstHarness *h = classify_harness (extra);
  GstBuffer *out;
  Results r;

  gst_harness_set_src_caps (h, gst_caps_ref (caps));
  out = gst_harness_push_and_pull (h, gst_buffer_ref (picture));
  fail_unless (out != NULL);
  r = read_results (out);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  return r;
}

/* Every accepted format at an odd size: the element gives exactly what the
 * engine gives on the same picture, the RGB-like formats (which carry the
 * same pixel values) all give the RGB result, and the photo's class is
 * found. */
GST_START_TEST (test_formats_match_engine)
{
  mnv3_error err = { {0} };
  mnv3_model *model = mnv3_model_load (config, NULL, &err);
  Results rgb = { 0 };

  fail_unless (model != NULL, "%s", err.message);
  for (guint f = 0; f < n_test_formats; f++) {
    const gchar *format = test_formats[f];
    GstCaps *caps;
    GstBuffer *picture = test_load_picture ("hotdog__coral.jpg", format,
        TEST_WIDTH, TEST_HEIGHT, &caps);
    GstHarness *h = classify_harness ("top-k=5");
    mnv3_class_score direct[K];
    mnv3_context *ctx;
    GstBuffer *out;
    Results r;

    GST_INFO ("format %s", format);
    gst_harness_set_src_caps (h, gst_caps_ref (caps));
    out = gst_harness_push_and_pull (h, gst_buffer_ref (picture));
    r = read_results (out);
    test_assert_frames_equal (out, picture, caps, format);

    ctx = test_engine_run (model, picture, caps);
    fail_unless_equals_int (mnv3_context_top_k (ctx, 0, K, direct), K);
    fail_unless_equals_int (r.n, K);
    for (gint i = 0; i < K; i++) {
      fail_unless_equals_int (r.ids[i], direct[i].class_id);
      fail_unless (fabs (r.scores[i] - direct[i].score) < 1e-6,
          "%s: score %d is %f, the engine says %f", format, i, r.scores[i],
          direct[i].score);
    }
    if (f == 0) {
      fail_unless_equals_string (format, "RGB");
      rgb = r;
    } else if (f < 10) {
      for (gint i = 0; i < K; i++) {
        fail_unless_equals_int (r.ids[i], rgb.ids[i]);
        fail_unless (fabs (r.scores[i] - rgb.scores[i]) < 1e-6,
            "%s differs from RGB: %f vs %f", format, r.scores[i],
            rgb.scores[i]);
      }
    }
    /* EXPECTED.txt: 934 hotdog at 0.933, far ahead; grey still has the
     * shape. */
    if (strcmp (format, "GRAY8") != 0)
      fail_unless_equals_int (r.ids[0], 934);

    mnv3_context_free (ctx);
    gst_buffer_unref (out);
    gst_buffer_unref (picture);
    gst_caps_unref (caps);
    gst_harness_teardown (h);
  }
  mnv3_model_unref (model);
}

GST_END_TEST;

/* Counts changed pixels of plane `plane` (bytes per pixel bpp, subsampling
 * shift sub) and checks each lies in the rectangle (scaled to the plane,
 * widened by `margin` plane pixels). */
static gint
changed_pixels_inside (GstVideoFrame * a, GstVideoFrame * b, guint plane,
    gint bpp, gint sub, gint rx, gint ry, gint rw, gint rh, gint margin)
{
  gint w = GST_VIDEO_FRAME_COMP_WIDTH (a, plane);
  gint h = GST_VIDEO_FRAME_COMP_HEIGHT (a, plane);
  gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (a, plane);
  const guint8 *pa = GST_VIDEO_FRAME_PLANE_DATA (a, plane);
  const guint8 *pb = GST_VIDEO_FRAME_PLANE_DATA (b, plane);
  gint x0 = (rx >> sub) - margin, y0 = (ry >> sub) - margin;
  gint x1 = ((rx + rw + (1 << sub) - 1) >> sub) + margin;
  gint y1 = ((ry + rh + (1 << sub) - 1) >> sub) + margin;
  gint changed = 0;

  for (gint y = 0; y < h; y++)
    for (gint x = 0; x < w; x++)
      if (memcmp (pa + y * stride + x * bpp, pb + y * stride + x * bpp,
              bpp) != 0) {
        fail_unless (x >= x0 && x < x1 && y >= y0 && y < y1,
            "plane %u pixel %d,%d changed outside the text box %d,%d %dx%d",
            plane, x, y, rx, ry, rw, rh);
        changed++;
      }
  return changed;
}

/* overlay=true: with a downstream that renders overlay compositions the
 * frame is untouched and the box comes as meta; otherwise the same box is
 * blended into the frame, and nothing outside it changes. */
GST_START_TEST (test_overlay_text_box)
{
  static const gchar *formats[] = { "RGB", "I420" };

  for (guint f = 0; f < G_N_ELEMENTS (formats); f++) {
    GstCaps *caps;
    GstBuffer *picture = test_load_picture ("hotdog__coral.jpg", formats[f],
        TEST_WIDTH, TEST_HEIGHT, &caps);
    GstHarness *h = classify_harness ("overlay=true");
    GstVideoOverlayCompositionMeta *cmeta;
    GstVideoOverlayRectangle *rect;
    GstBuffer *out;
    GstVideoInfo info;
    GstVideoFrame fin, fout;
    gint rx, ry, changed;
    guint rw, rh;

    /* As meta. */
    gst_harness_add_propose_allocation_meta (h,
        GST_VIDEO_OVERLAY_COMPOSITION_META_API_TYPE, NULL);
    gst_harness_set_src_caps (h, gst_caps_ref (caps));
    out = gst_harness_push_and_pull (h, gst_buffer_ref (picture));
    test_assert_frames_equal (out, picture, caps, formats[f]);
    cmeta = gst_buffer_get_video_overlay_composition_meta (out);
    fail_unless (cmeta != NULL, "no overlay composition meta");
    fail_unless_equals_int (gst_video_overlay_composition_n_rectangles
        (cmeta->overlay), 1);
    rect = gst_video_overlay_composition_get_rectangle (cmeta->overlay, 0);
    gst_video_overlay_rectangle_get_render_rectangle (rect, &rx, &ry, &rw,
        &rh);
    fail_unless (rx >= 0 && ry >= 0 && rw > 20 && rh > 10
        && rx + rw <= TEST_WIDTH && ry + rh <= TEST_HEIGHT / 4,
        "odd text box %d,%d %ux%u", rx, ry, rw, rh);
    gst_buffer_unref (out);
    gst_harness_teardown (h);

    /* Blended. */
    h = classify_harness ("overlay=true");
    gst_harness_set_src_caps (h, gst_caps_ref (caps));
    out = gst_harness_push_and_pull (h, gst_buffer_ref (picture));
    fail_unless (gst_buffer_get_video_overlay_composition_meta (out) == NULL);
    fail_unless (gst_video_info_from_caps (&info, caps));
    fail_unless (gst_video_frame_map (&fin, &info, picture, GST_MAP_READ));
    fail_unless (gst_video_frame_map (&fout, &info, out, GST_MAP_READ));
    if (f == 0) {
      changed = changed_pixels_inside (&fin, &fout, 0, 3, 0, rx, ry, rw, rh,
          0);
    } else {
      changed = changed_pixels_inside (&fin, &fout, 0, 1, 0, rx, ry, rw, rh,
          0);
      /* Chroma is shared by 2x2 pixels: the box edge may round outward. */
      changed_pixels_inside (&fin, &fout, 1, 1, 1, rx, ry, rw, rh, 1);
      changed_pixels_inside (&fin, &fout, 2, 1, 1, rx, ry, rw, rh, 1);
    }
    /* The translucent box darkens nearly all of its pixels. */
    fail_unless (changed > (gint) (rw * rh) / 2, "%s: only %d of %u pixels "
        "of the box changed", formats[f], changed, rw * rh);
    gst_video_frame_unmap (&fin);
    gst_video_frame_unmap (&fout);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
    gst_buffer_unref (picture);
    gst_caps_unref (caps);
  }
}

GST_END_TEST;

static GstMessage *
pop_element_message (GstBus * bus, const gchar * name)
{
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT);
  fail_unless (msg != NULL, "no element message");
  fail_unless (gst_message_has_name (msg, name));
  return msg;
}

/* inference-interval=3: frames 0, 3, 6 are classified, the others carry the
 * last result marked stale; the picture changes at frame 4, which only
 * frame 6 sees. Metadata and bus messages agree. */
GST_START_TEST (test_inference_interval)
{
  GstCaps *caps, *caps2;
  GstBuffer *hotdog = test_load_picture ("hotdog__coral.jpg", "RGB",
      TEST_WIDTH, TEST_HEIGHT, &caps);
  GstBuffer *macaw = test_load_picture ("macaw_parrot__coral.jpg", "RGB",
      TEST_WIDTH, TEST_HEIGHT, &caps2);
  GstHarness *h = classify_harness ("inference-interval=3 post-messages=true");
  GstBus *bus = gst_bus_new ();

  gst_element_set_bus (h->element, bus);
  gst_harness_set_src_caps (h, gst_caps_ref (caps));
  for (guint64 i = 0; i < 8; i++) {
    GstBuffer *in = gst_buffer_copy (i < 4 ? hotdog : macaw);
    GstBuffer *out;
    GstMessage *msg;
    const GstStructure *s;
    const GValue *results;
    Results r;
    guint64 u64;
    gboolean stale;
    gint id;
    gdouble confidence;

    GST_BUFFER_PTS (in) = i * 100 * GST_MSECOND;
    out = gst_harness_push_and_pull (h, in);
    r = read_results (out);
    fail_unless_equals_int (r.n, K);
    fail_unless_equals_uint64 (r.frame, i);
    fail_unless_equals_uint64 (r.inference_frame, i - i % 3);
    fail_unless_equals_int (r.stale, i % 3 != 0);
    fail_unless_equals_int (r.ids[0], i - i % 3 < 4 ? 934 : 88);

    msg = pop_element_message (bus, "mnv3-classification");
    s = gst_message_get_structure (msg);
    fail_unless_equals_string (gst_structure_get_string (s, "model"),
        "tfslim");
    fail_unless (gst_structure_get_uint64 (s, "frame", &u64));
    fail_unless_equals_uint64 (u64, i);
    fail_unless (gst_structure_get_uint64 (s, "inference_frame", &u64));
    fail_unless_equals_uint64 (u64, i - i % 3);
    fail_unless (gst_structure_get_uint64 (s, "pts", &u64));
    fail_unless_equals_uint64 (u64, i * 100 * GST_MSECOND);
    fail_unless (gst_structure_get_boolean (s, "stale", &stale));
    fail_unless_equals_int (stale, i % 3 != 0);
    fail_unless (gst_structure_get_int (s, "label_id", &id));
    fail_unless_equals_int (id, r.ids[0]);
    fail_unless (gst_structure_get_double (s, "confidence", &confidence));
    fail_unless (fabs (confidence - r.scores[0]) < 1e-9);
    fail_unless (gst_structure_get_string (s, "label") != NULL);
    results = gst_structure_get_value (s, "results");
    fail_unless (results && GST_VALUE_HOLDS_ARRAY (results));
    fail_unless_equals_int (gst_value_array_get_size (results), K);
    for (guint k = 0; k < K; k++) {
      const GstStructure *e =
          gst_value_get_structure (gst_value_array_get_value (results, k));
      fail_unless (gst_structure_get_int (e, "label_id", &id));
      fail_unless_equals_int (id, r.ids[k]);
    }
    gst_message_unref (msg);
    gst_buffer_unref (out);
  }
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  gst_buffer_unref (hotdog);
  gst_buffer_unref (macaw);
  gst_caps_unref (caps);
  gst_caps_unref (caps2);
}

GST_END_TEST;

/* New caps mid-stream (format and size): the next frame is classified
 * afresh, in the new format, as the engine classifies it. */
GST_START_TEST (test_caps_change)
{
  mnv3_error err = { {0} };
  mnv3_model *model = mnv3_model_load (config, NULL, &err);
  GstCaps *caps1, *caps2;
  GstBuffer *hotdog = test_load_picture ("hotdog__coral.jpg", "RGBx",
      TEST_WIDTH, TEST_HEIGHT, &caps1);
  GstBuffer *macaw = test_load_picture ("macaw_parrot__coral.jpg", "NV12",
      320, 241, &caps2);
  GstHarness *h = classify_harness ("inference-interval=100");
  mnv3_class_score direct;
  mnv3_context *ctx;
  GstBuffer *out;
  Results r;

  fail_unless (model != NULL, "%s", err.message);
  gst_harness_set_src_caps (h, gst_caps_ref (caps1));
  for (guint64 i = 0; i < 2; i++) {
    out = gst_harness_push_and_pull (h, gst_buffer_ref (hotdog));
    r = read_results (out);
    fail_unless_equals_int (r.ids[0], 934);
    fail_unless_equals_int (r.stale, i == 1);
    gst_buffer_unref (out);
  }

  gst_harness_set_src_caps (h, gst_caps_ref (caps2));
  ctx = test_engine_run (model, macaw, caps2);
  fail_unless_equals_int (mnv3_context_top_k (ctx, 0, 1, &direct), 1);
  for (guint64 i = 2; i < 4; i++) {
    out = gst_harness_push_and_pull (h, gst_buffer_ref (macaw));
    r = read_results (out);
    fail_unless_equals_uint64 (r.frame, i);
    fail_unless_equals_uint64 (r.inference_frame, 2);
    fail_unless_equals_int (r.stale, i == 3);
    fail_unless_equals_int (r.ids[0], direct.class_id);
    fail_unless (fabs (r.scores[0] - direct.score) < 1e-6);
    test_assert_frames_equal (out, macaw, caps2, "NV12 after the caps "
        "change");
    gst_buffer_unref (out);
  }
  fail_unless_equals_int (direct.class_id, 88);

  mnv3_context_free (ctx);
  mnv3_model_unref (model);
  gst_harness_teardown (h);
  gst_buffer_unref (hotdog);
  gst_buffer_unref (macaw);
  gst_caps_unref (caps1);
  gst_caps_unref (caps2);
}

GST_END_TEST;

/* smoothing averages probabilities across inferences: after a hotdog and a
 * macaw frame the element reports the top-k of 0.8 * p(hotdog) +
 * 0.2 * p(macaw), computed here from the engine's probabilities. */
GST_START_TEST (test_smoothing)
{
  const gdouble s = 0.8;
  mnv3_error err = { {0} };
  mnv3_model *model = mnv3_model_load (config, NULL, &err);
  GstCaps *caps, *caps2;
  GstBuffer *pictures[2];
  gfloat *p[2];
  gint n;
  GstHarness *h = classify_harness ("smoothing=0.8 top-k=3");
  GstBuffer *out;
  Results r;

  fail_unless (model != NULL, "%s", err.message);
  n = mnv3_model_num_classes (model);
  pictures[0] = test_load_picture ("hotdog__coral.jpg", "RGB", TEST_WIDTH,
      TEST_HEIGHT, &caps);
  pictures[1] = test_load_picture ("macaw_parrot__coral.jpg", "RGB",
      TEST_WIDTH, TEST_HEIGHT, &caps2);
  for (gint i = 0; i < 2; i++) {
    mnv3_context *ctx = test_engine_run (model, pictures[i], caps);
    p[i] = g_new (gfloat, n);
    fail_unless_equals_int (mnv3_context_probabilities (ctx, 0, p[i]), n);
    /* Arguments are checked as for top_k: nothing written, 0 returned. */
    fail_unless_equals_int (mnv3_context_probabilities (ctx, 1, p[i]), 0);
    fail_unless_equals_int (mnv3_context_probabilities (ctx, -1, p[i]), 0);
    fail_unless_equals_int (mnv3_context_probabilities (ctx, 0, NULL), 0);
    mnv3_context_free (ctx);
  }

  gst_harness_set_src_caps (h, gst_caps_ref (caps));
  gst_buffer_unref (gst_harness_push_and_pull (h,
          gst_buffer_ref (pictures[0])));
  out = gst_harness_push_and_pull (h, gst_buffer_ref (pictures[1]));
  r = read_results (out);
  fail_unless_equals_int (r.n, 3);
  fail_unless_equals_int (r.stale, FALSE);
  for (gint k = 0; k < 3; k++) {
    gdouble expected = s * p[0][r.ids[k]] + (1 - s) * p[1][r.ids[k]];
    fail_unless (fabs (r.scores[k] - expected) < 1e-5, "rank %d: %f vs %f",
        k, r.scores[k], expected);
    /* Nothing outside the reported ones scores higher. */
    for (gint c = 0; c < n; c++) {
      gboolean reported = c == r.ids[0] || c == r.ids[1] || c == r.ids[2];
      if (!reported)
        fail_unless (s * p[0][c] + (1 - s) * p[1][c] <= r.scores[2] + 1e-6);
    }
  }
  fail_unless_equals_int (r.ids[0], 934);
  gst_buffer_unref (out);
  gst_harness_teardown (h);

  for (gint i = 0; i < 2; i++) {
    g_free (p[i]);
    gst_buffer_unref (pictures[i]);
  }
  gst_caps_unref (caps);
  gst_caps_unref (caps2);
  mnv3_model_unref (model);
}

GST_END_TEST;

/* threshold drops classes under it: hotdog (0.93, then 0.01) keeps one;
 * Grace Hopper (best 0.29) keeps none, so gets no meta, and its message has
 * an empty result list and no best class. */
GST_START_TEST (test_threshold)
{
  GstCaps *caps, *caps2;
  GstBuffer *hotdog = test_load_picture ("hotdog__coral.jpg", "I420",
      TEST_WIDTH, TEST_HEIGHT, &caps);
  GstBuffer *hopper =
      test_load_picture ("grace_hopper_military_uniform__coral.png", "I420",
      TEST_WIDTH, TEST_HEIGHT, &caps2);
  GstHarness *h = classify_harness ("threshold=0.5 post-messages=true");
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  const GstStructure *s;
  GstBuffer *out;
  Results r;

  r = classify_once ("threshold=0.5", hotdog, caps);
  fail_unless_equals_int (r.n, 1);
  fail_unless_equals_int (r.ids[0], 934);
  fail_unless (r.scores[0] >= 0.5);

  gst_element_set_bus (h->element, bus);
  gst_harness_set_src_caps (h, gst_caps_ref (caps2));
  out = gst_harness_push_and_pull (h, gst_buffer_ref (hopper));
  fail_unless (gst_buffer_get_video_region_of_interest_meta (out) == NULL);
  msg = pop_element_message (bus, "mnv3-classification");
  s = gst_message_get_structure (msg);
  fail_unless_equals_int (gst_value_array_get_size (gst_structure_get_value
          (s, "results")), 0);
  fail_if (gst_structure_has_field (s, "label_id"));
  gst_message_unref (msg);
  gst_buffer_unref (out);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  gst_buffer_unref (hotdog);
  gst_buffer_unref (hopper);
  gst_caps_unref (caps);
  gst_caps_unref (caps2);
}

GST_END_TEST;

static gint models_loaded;

static void
count_model_loads (GstDebugCategory * category, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer user_data)
{
  if (strcmp (gst_debug_category_get_name (category), "mnv3modelcache") == 0
      && g_str_has_prefix (gst_debug_message_get (message), "loaded model"))
    g_atomic_int_inc (&models_loaded);
}

/* Two elements with the same config (spelled differently) in one pipeline
 * load the model once. */
GST_START_TEST (test_model_shared)
{
  gchar *other = g_strdup_printf ("%s/./tfslim.yaml", tmp_dir);
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=3 ! "
      "video/x-raw,width=160,height=120 ! tee name=t "
      "t. ! queue ! mnv3classify config=\"%s\" ! fakesink "
      "t. ! queue ! mnv3classify config=\"%s\" ! fakesink", config, other);
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;

  gst_debug_set_threshold_for_name ("mnv3modelcache", GST_LEVEL_INFO);
  gst_debug_add_log_function (count_model_loads, NULL, NULL);
  models_loaded = 0;
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_timed_pop_filtered (bus, test_wait (30),
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_debug_remove_log_function (count_model_loads);
  gst_debug_set_threshold_for_name ("mnv3modelcache", GST_LEVEL_NONE);
  fail_unless_equals_int (models_loaded, 1);

  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_free (desc);
  g_free (other);
}

GST_END_TEST;

static GstElement *
classify_pipeline (const gchar * config_path)
{
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *src = gst_element_factory_make ("videotestsrc", NULL);
  GstElement *filter = gst_element_factory_make ("mnv3classify", NULL);
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);

  fail_unless (src && filter && sink);
  if (config_path)
    g_object_set (filter, "config", config_path, NULL);
  gst_bin_add_many (GST_BIN (pipeline), src, filter, sink, NULL);
  fail_unless (gst_element_link_many (src, filter, sink, NULL));
  return pipeline;
}

/* Configuration mistakes fail the start with a message that names the file
 * and the problem; nothing crashes. */
GST_START_TEST (test_bad_config)
{
  gchar *bad = test_write_file (tmp_dir, "bad.yaml",
      "model:\n  architecture: mobilenet_v3_small\n  num-classes: [oops\n");
  gchar *no_weights = test_write_file (tmp_dir, "noweights.yaml",
      "model:\n  architecture: mobilenet_v3_small\n  num-classes: 1001\n"
      "  background-class: true\n  weights: /nonexistent/weights.tflite\n"
      "input:\n  size: [224, 224]\n");
  GstElement *pipeline;
  GError *error = NULL;
  gchar *text;

  pipeline = classify_pipeline (bad);
  text = test_expect_start_error (pipeline, &error);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_SETTINGS));
  fail_unless (strstr (text, "Could not load the model") != NULL, "%s", text);
  /* The engine's message, file:line:col, is the debug detail, not the
   * user-facing text. */
  fail_unless (strstr (error->message, "bad.yaml:") == NULL, "%s",
      error->message);
  fail_unless (strstr (text, "bad.yaml:") != NULL, "%s", text);
  fail_unless (g_regex_match_simple ("bad\\.yaml:\\d+:\\d+: ", text, 0, 0),
      "%s", text);
  g_free (text);
  g_clear_error (&error);
  gst_object_unref (pipeline);

  pipeline = classify_pipeline (no_weights);
  text = test_expect_start_error (pipeline, NULL);
  fail_unless (strstr (text, "/nonexistent/weights.tflite") != NULL, "%s",
      text);
  g_free (text);
  gst_object_unref (pipeline);

  pipeline = classify_pipeline (NULL);
  text = test_expect_start_error (pipeline, NULL);
  fail_unless (strstr (text, "set the 'config' property") != NULL, "%s", text);
  g_free (text);
  gst_object_unref (pipeline);

  pipeline = classify_pipeline ("/nonexistent/config.yaml");
  text = test_expect_start_error (pipeline, NULL);
  fail_unless (strstr (text, "/nonexistent/config.yaml") != NULL, "%s", text);
  g_free (text);
  gst_object_unref (pipeline);

  g_free (bad);
  g_free (no_weights);
}

GST_END_TEST;

/* A format outside the pad templates is refused at negotiation. */
GST_START_TEST (test_unsupported_format)
{
  GstElement *pipeline = gst_parse_launch ("appsrc name=src "
      "caps=video/x-raw,format=UYVY,width=64,height=48,framerate=10/1 "
      "format=time ! mnv3classify name=c ! fakesink", NULL);
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  GstElement *c = gst_bin_get_by_name (GST_BIN (pipeline), "c");
  GstBus *bus = gst_element_get_bus (pipeline);
  GstFlowReturn flow;
  GstMessage *msg;
  GError *error = NULL;
  gchar *debug = NULL;
  GstCaps *accepted, *uyvy = gst_caps_from_string ("video/x-raw,format=UYVY");
  GstPad *sink = gst_element_get_static_pad (c, "sink");
  GstBuffer *frame = gst_buffer_new_allocate (NULL, 64 * 48 * 2, NULL);

  g_object_set (c, "config", config, NULL);
  accepted = gst_pad_query_caps (sink, NULL);
  fail_if (gst_caps_can_intersect (accepted, uyvy));
  gst_caps_unref (accepted);
  gst_caps_unref (uyvy);
  gst_object_unref (sink);

  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  /* push-buffer does not take the caller's reference. */
  g_signal_emit_by_name (src, "push-buffer", frame, &flow);
  gst_buffer_unref (frame);
  msg = gst_bus_timed_pop_filtered (bus, test_wait (10), GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &error, &debug);
  fail_unless (strstr (debug, "not-negotiated") != NULL, "%s", debug);
  g_error_free (error);
  g_free (debug);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (src);
  gst_object_unref (c);
  gst_object_unref (pipeline);
}

GST_END_TEST;

static Suite *
mnv3classify_suite (void)
{
  Suite *s = suite_create ("mnv3classify");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 120);
  tcase_add_checked_fixture (tc, setup, teardown);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_formats_match_engine);
  tcase_add_test (tc, test_overlay_text_box);
  tcase_add_test (tc, test_inference_interval);
  tcase_add_test (tc, test_caps_change);
  tcase_add_test (tc, test_smoothing);
  tcase_add_test (tc, test_threshold);
  tcase_add_test (tc, test_model_shared);
  tcase_add_test (tc, test_bad_config);
  tcase_add_test (tc, test_unsupported_format);
  return s;
}

GST_CHECK_MAIN (mnv3classify);
