/* mnv3segment against the engine's public API, with a seeded random-weight
 * LR-ASPP model (MNV3_GST_LRASPP_CONFIG, made by make_lraspp.py).
 * MNV3_GST_QUICK (the valgrind runs): the same model at a 48x64 input. */
#include <string.h>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#include "gsttestutil.h"

static gchar *config;
static gchar *quick_dir;
static mnv3_model *model;

/* text with every line matching pattern replaced (\1 refers to groups). */
static gchar *
replace_lines (const gchar * text, const gchar * pattern,
    const gchar * replacement)
{
  GRegex *regex = g_regex_new (pattern, G_REGEX_MULTILINE, 0, NULL);
  gchar *result;

  fail_unless (regex != NULL, "bad pattern %s", pattern);
  result = g_regex_replace (regex, text, -1, 0, replacement, 0, NULL);
  fail_unless (result != NULL && strcmp (result, text) != 0,
      "the config has no line matching %s", pattern);
  g_regex_unref (regex);
  return result;
}

/* The config at a quarter of its input size (3:4 kept), for the valgrind
 * runs: the same model, every format and path, a 16x cheaper network. */
static gchar *
write_quick_config (const gchar * full)
{
  gchar *text, *dir = g_path_get_dirname (full), *weights, *sized, *path;
  GError *error = NULL;

  fail_unless (g_file_get_contents (full, &text, NULL, &error), "%s",
      error ? error->message : full);
  /* make_lraspp.py's weights are relative to the config's folder. */
  weights = g_strdup_printf ("\\1%s/\\2", dir);
  sized = replace_lines (text, "^(  weights: )([^/].*)$", weights);
  g_free (text);
  text = replace_lines (sized, "^  size: \\[.*\\]$", "  size: [48, 64]");
  quick_dir = test_make_temp_dir ();
  path = test_write_file (quick_dir, "lraspp-quick.yaml", text);
  g_free (sized);
  g_free (text);
  g_free (weights);
  g_free (dir);
  return path;
}

static void
setup (void)
{
  mnv3_error err = { {0} };
  const gchar *full = g_getenv ("MNV3_GST_LRASPP_CONFIG");

  fail_unless (full != NULL, "MNV3_GST_LRASPP_CONFIG is not set (run "
      "through meson test)");
  config = test_quick ()? write_quick_config (full) : g_strdup (full);
  model = mnv3_model_load (config, NULL, &err);
  fail_unless (model != NULL, "%s", err.message);
}

static void
teardown (void)
{
  mnv3_model_unref (model);
  model = NULL;
  g_clear_pointer (&config, g_free);
  if (quick_dir)
    test_remove_dir (quick_dir);
  g_clear_pointer (&quick_dir, g_free);
}

static GstHarness *
segment_harness (const gchar * extra)
{
  gchar *desc = g_strdup_printf ("mnv3segment name=segment config=\"%s\" "
      "threads=1 %s", config, extra ? extra : "");
  GstHarness *h = gst_harness_new_parse (desc);
  g_free (desc);
  return h;
}

typedef struct {
  GstBuffer *mask;
  gint mask_width, mask_height;
  mnv3_rect placement;
  const GValue *results;
  gboolean stale;
  guint64 frame, inference_frame;
  const GstStructure *s;
} MaskMeta;

/* The region of interest meta says the same, with the element's and the
 * model's names. */
static void
check_roi_meta (GstBuffer * buffer, const MaskMeta * m)
{
  GstVideoRegionOfInterestMeta *roi =
      gst_buffer_get_video_region_of_interest_meta (buffer);
  const GstStructure *p;
  gboolean stale;
  guint64 frame, inference_frame;
  gint stride;

  fail_unless (roi != NULL, "no region of interest meta");
  fail_unless_equals_string (g_quark_to_string (roi->roi_type),
      "mnv3-segmentation");
  fail_unless (roi->x == (guint) m->placement.x
      && roi->y == (guint) m->placement.y
      && roi->w == (guint) m->placement.width
      && roi->h == (guint) m->placement.height);
  p = gst_video_region_of_interest_meta_get_param (roi, "mnv3-segmentation");
  fail_unless (p != NULL);
  fail_unless (g_value_get_boxed (gst_structure_get_value (p, "mask")) ==
      m->mask);
  fail_unless (gst_structure_get (p, "stale", G_TYPE_BOOLEAN, &stale,
          "frame", G_TYPE_UINT64, &frame,
          "inference_frame", G_TYPE_UINT64, &inference_frame,
          "mask_stride", G_TYPE_INT, &stride, NULL));
  fail_unless (stale == m->stale && frame == m->frame
      && inference_frame == m->inference_frame && stride == m->mask_width);
  fail_unless (gst_value_compare (gst_structure_get_value (p, "results"),
          m->results) == GST_VALUE_EQUAL);
  fail_unless_equals_string (gst_structure_get_string (p, "element"),
      "segment");
  fail_unless (gst_structure_get_string (p, "model") != NULL);
}

static MaskMeta
read_mask_meta (GstBuffer * buffer)
{
  MaskMeta m = { 0 };
  GstCustomMeta *meta = gst_buffer_get_custom_meta (buffer,
      "Mnv3SegmentationMask");
  const GstStructure *s;

  fail_unless (meta != NULL, "no Mnv3SegmentationMask meta");
  s = m.s = gst_custom_meta_get_structure (meta);
  fail_unless (gst_structure_get (s, "mask", GST_TYPE_BUFFER, &m.mask,
          "mask_width", G_TYPE_INT, &m.mask_width,
          "mask_height", G_TYPE_INT, &m.mask_height,
          "x", G_TYPE_INT, &m.placement.x, "y", G_TYPE_INT, &m.placement.y,
          "width", G_TYPE_INT, &m.placement.width,
          "height", G_TYPE_INT, &m.placement.height,
          "stale", G_TYPE_BOOLEAN, &m.stale,
          "frame", G_TYPE_UINT64, &m.frame,
          "inference_frame", G_TYPE_UINT64, &m.inference_frame, NULL));
  m.results = gst_structure_get_value (s, "results");
  fail_unless (m.results && GST_VALUE_HOLDS_ARRAY (m.results));
  check_roi_meta (buffer, &m);
  return m;
}

/* The engine's mask of the picture. */
static guint8 *
engine_mask (GstBuffer * picture, GstCaps * caps, gint * w, gint * h)
{
  mnv3_context *ctx = test_engine_run (model, picture, caps);
  gint batch, classes;
  guint8 *mask;

  mnv3_context_output_shape (ctx, &batch, &classes, h, w);
  mask = g_malloc (*w * *h);
  mnv3_context_class_mask (ctx, 0, mask, *w);
  mnv3_context_free (ctx);
  return mask;
}

static void
check_results (const GValue * results, const guint8 * mask, gint n)
{
  guint counts[256] = { 0 };
  gint present = 0;
  gdouble previous = 2.0, total = 0.0;

  for (gint i = 0; i < n; i++)
    counts[mask[i]]++;
  for (gint c = 0; c < 256; c++)
    present += counts[c] > 0;
  fail_unless_equals_int (gst_value_array_get_size (results), present);
  for (guint i = 0; i < gst_value_array_get_size (results); i++) {
    const GstStructure *r =
        gst_value_get_structure (gst_value_array_get_value (results, i));
    gint id;
    gdouble fraction;
    fail_unless (gst_structure_get_int (r, "label_id", &id));
    fail_unless (gst_structure_get_double (r, "fraction", &fraction));
    fail_unless_equals_string (gst_structure_get_string (r, "label"),
        mnv3_model_label (model, id));
    fail_unless (fabs (fraction - (gdouble) counts[id] / n) < 1e-12);
    fail_unless (fraction <= previous, "results not sorted by fraction");
    previous = fraction;
    total += fraction;
  }
  fail_unless (fabs (total - 1.0) < 1e-9);
}

/* In every format at an odd size the attached mask is the engine's own
 * class mask of the same picture, placed on the config's centre crop, with
 * the class shares of that mask; overlay=false leaves the frame alone. */
GST_START_TEST (test_mask_matches_engine)
{
  for (guint f = 0; f < n_test_formats; f++) {
    GstCaps *caps;
    GstBuffer *picture = test_load_picture ("cat_720p__coral.jpg",
        test_formats[f], TEST_WIDTH, TEST_HEIGHT, &caps);
    GstHarness *h = segment_harness ("overlay=false");
    mnv3_rect crop = mnv3_model_frame_crop (model, TEST_WIDTH, TEST_HEIGHT);
    GstBuffer *out;
    MaskMeta m;
    GstMapInfo map;
    guint8 *expected;
    gint w, hgt;

    gst_harness_set_src_caps (h, gst_caps_ref (caps));
    out = gst_harness_push_and_pull (h, gst_buffer_ref (picture));
    test_assert_frames_equal (out, picture, caps, test_formats[f]);
    m = read_mask_meta (out);

    expected = engine_mask (picture, caps, &w, &hgt);
    fail_unless_equals_int (m.mask_width, w);
    fail_unless_equals_int (m.mask_height, hgt);
    fail_unless (gst_buffer_map (m.mask, &map, GST_MAP_READ));
    fail_unless_equals_int (map.size, w * hgt);
    fail_unless (memcmp (map.data, expected, map.size) == 0,
        "%s: the mask differs from the engine's", test_formats[f]);
    gst_buffer_unmap (m.mask, &map);
    check_results (m.results, expected, w * hgt);
    fail_unless (crop.width < TEST_WIDTH && crop.height < TEST_HEIGHT);
    fail_unless (memcmp (&m.placement, &crop, sizeof crop) == 0,
        "placement %d,%d %dx%d, expected %d,%d %dx%d", m.placement.x,
        m.placement.y, m.placement.width, m.placement.height, crop.x, crop.y,
        crop.width, crop.height);
    fail_unless_equals_int (m.stale, FALSE);

    g_free (expected);
    gst_buffer_unref (m.mask);
    gst_buffer_unref (out);
    gst_buffer_unref (picture);
    gst_caps_unref (caps);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* The most frequent class of the picture's mask, and a second one. */
static void
pick_classes (const guint8 * mask, gint n, gint * first, gint * second)
{
  guint counts[256] = { 0 };
  *first = *second = -1;
  for (gint i = 0; i < n; i++)
    counts[mask[i]]++;
  for (gint c = 0; c < 256; c++) {
    if (!counts[c])
      continue;
    if (*first < 0 || counts[c] > counts[*first]) {
      *second = *first;
      *first = c;
    } else if (*second < 0 || counts[c] > counts[*second]) {
      *second = c;
    }
  }
}

/* overlay=true with classes set: the frame is exactly what the engine's
 * mnv3_blend_mask makes of it, and changes only over the enabled class (by
 * label) within the placement rectangle; the other class present stays
 * untouched. alpha=1 paints the palette colour itself. */
GST_START_TEST (test_blend_enabled_classes)
{
  GstCaps *caps;
  GstBuffer *picture = test_load_picture ("cat_720p__coral.jpg", "RGB",
      TEST_WIDTH, TEST_HEIGHT, &caps);
  mnv3_rect crop = mnv3_model_frame_crop (model, TEST_WIDTH, TEST_HEIGHT);
  gint mw, mh, first, second;
  guint8 *mask = engine_mask (picture, caps, &mw, &mh);
  uint8_t colors[256][3] = { {0} };
  uint8_t enabled[256] = { 0 };

  pick_classes (mask, mw * mh, &first, &second);
  fail_unless (second >= 0, "the random model sees a single class: pick "
      "another seed or picture");
  enabled[first] = 1;
  for (gint c = 0; c < mnv3_model_num_classes (model); c++)
    mnv3_model_class_color (model, c, colors[c]);

  for (gint mode = 0; mode < 2; mode++) {
    const gfloat alpha = mode ? 1.0f : 0.6f;
    gchar *extra = g_strdup_printf ("overlay=true alpha=%s classes=\"%s\"",
        mode ? "1" : "0.6", mnv3_model_label (model, first));
    GstHarness *h = segment_harness (extra);
    GstBuffer *out, *expected = gst_buffer_copy_deep (picture);
    GstVideoInfo info;
    GstVideoFrame fe, fo, fi;
    mnv3_frame target;
    uint8_t *planes[3];
    mnv3_error err = { {0} };
    gint changed = 0, enabled_pixels = 0;

    gst_harness_set_src_caps (h, gst_caps_ref (caps));
    out = gst_harness_push_and_pull (h, gst_buffer_ref (picture));

    fail_unless (gst_video_info_from_caps (&info, caps));
    fail_unless (gst_video_frame_map (&fe, &info, expected, GST_MAP_READWRITE));
    test_engine_frame (&fe, &target);
    for (gint i = 0; i < 3; i++)
      planes[i] = (uint8_t *) target.planes[i];
    /* On the calling thread: the element splits the rows over its
     * context's threads, which must give the same bytes. */
    const mnv3_blend blend = { mask, mw, mh, mw,
      (const uint8_t (*)[3]) colors, enabled, alpha
    };
    fail_unless (mnv3_blend_mask (NULL, &target, planes, &crop, &blend,
            &err) == 0,
        "%s", err.message);
    gst_video_frame_unmap (&fe);
    /* The frame is exactly the engine's blend. */
    test_assert_frames_equal (out, expected, caps, extra);

    fail_unless (gst_video_frame_map (&fo, &info, out, GST_MAP_READ));
    fail_unless (gst_video_frame_map (&fi, &info, picture, GST_MAP_READ));
    for (gint y = 0; y < TEST_HEIGHT; y++) {
      for (gint x = 0; x < TEST_WIDTH; x++) {
        const guint8 *po = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&fo, 0) +
            y * GST_VIDEO_FRAME_PLANE_STRIDE (&fo, 0) + 3 * x;
        const guint8 *pi = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&fi, 0) +
            y * GST_VIDEO_FRAME_PLANE_STRIDE (&fi, 0) + 3 * x;
        gboolean inside = x >= crop.x && x < crop.x + crop.width
            && y >= crop.y && y < crop.y + crop.height;
        gboolean near_enabled = FALSE, all_enabled = TRUE;
        if (inside) {
          /* The mask pixel under this frame pixel, give or take one for the
           * nearest-neighbour rounding. */
          gint mx = (x - crop.x) * mw / crop.width;
          gint my = (y - crop.y) * mh / crop.height;
          for (gint dy = -1; dy <= 1; dy++)
            for (gint dx = -1; dx <= 1; dx++) {
              gint cx = CLAMP (mx + dx, 0, mw - 1);
              gint cy = CLAMP (my + dy, 0, mh - 1);
              gboolean e = mask[cy * mw + cx] == first;
              near_enabled |= e;
              all_enabled &= e;
            }
          enabled_pixels += all_enabled;
        }
        if (memcmp (po, pi, 3) != 0) {
          fail_unless (inside && near_enabled,
              "%s: pixel %d,%d changed away from class %d", extra, x, y,
              first);
          changed++;
        }
        if (all_enabled && inside && mode == 1)
          fail_unless (memcmp (po, colors[first], 3) == 0);
      }
    }
    fail_unless (enabled_pixels > 0);
    fail_unless (changed >= enabled_pixels / 2, "%s: %d pixels changed over "
        "%d of class %d", extra, changed, enabled_pixels, first);
    gst_video_frame_unmap (&fo);
    gst_video_frame_unmap (&fi);

    gst_buffer_unref (expected);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
    g_free (extra);
  }
  g_free (mask);
  gst_buffer_unref (picture);
  gst_caps_unref (caps);
}

GST_END_TEST;

/* inference-interval=2 with messages: stale frames carry the same mask
 * buffer; messages carry the frame numbers and the class shares. */
GST_START_TEST (test_interval_and_messages)
{
  GstCaps *caps;
  GstBuffer *picture = test_load_picture ("cat_720p__coral.jpg", "NV12",
      TEST_WIDTH, TEST_HEIGHT, &caps);
  GstHarness *h = segment_harness ("overlay=true inference-interval=2 "
      "post-messages=true");
  GstBus *bus = gst_bus_new ();
  GstBuffer *last_mask = NULL;

  gst_element_set_bus (h->element, bus);
  gst_harness_set_src_caps (h, gst_caps_ref (caps));
  for (guint64 i = 0; i < 5; i++) {
    GstBuffer *in = gst_buffer_copy (picture);
    GstBuffer *out;
    GstMessage *msg;
    const GstStructure *s;
    MaskMeta m;
    guint64 u64;
    gboolean stale;

    GST_BUFFER_PTS (in) = i * GST_SECOND / 25;
    out = gst_harness_push_and_pull (h, in);
    m = read_mask_meta (out);
    fail_unless_equals_uint64 (m.frame, i);
    fail_unless_equals_uint64 (m.inference_frame, i - i % 2);
    fail_unless_equals_int (m.stale, i % 2);
    if (i % 2)
      fail_unless (m.mask == last_mask, "a stale frame got a new mask");
    else
      fail_unless (m.mask != last_mask);
    /* Held until compared: a freed mask's address can come back. */
    gst_clear_buffer (&last_mask);
    last_mask = m.mask;

    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT);
    fail_unless (msg && gst_message_has_name (msg, "mnv3-segmentation"));
    s = gst_message_get_structure (msg);
    fail_unless (gst_structure_get_uint64 (s, "frame", &u64));
    fail_unless_equals_uint64 (u64, i);
    fail_unless (gst_structure_get_uint64 (s, "inference_frame", &u64));
    fail_unless_equals_uint64 (u64, i - i % 2);
    fail_unless (gst_structure_get_uint64 (s, "pts", &u64));
    fail_unless_equals_uint64 (u64, i * GST_SECOND / 25);
    fail_unless (gst_structure_get_boolean (s, "stale", &stale));
    fail_unless_equals_int (stale, i % 2);
    fail_unless (gst_value_compare (gst_structure_get_value (s, "results"),
            m.results) == GST_VALUE_EQUAL);
    gst_message_unref (msg);
    gst_buffer_unref (out);
  }
  gst_buffer_unref (last_mask);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  gst_buffer_unref (picture);
  gst_caps_unref (caps);
}

GST_END_TEST;

static GstElement *
pipeline_with (const gchar * element, const gchar * config_path,
    const gchar * extra)
{
  gchar *desc = g_strdup_printf ("videotestsrc ! %s config=\"%s\" %s ! "
      "fakesink", element, config_path, extra);
  GstElement *pipeline = gst_parse_launch (desc, NULL);

  fail_unless (pipeline != NULL, "%s", desc);
  g_free (desc);
  return pipeline;
}

/* Unknown class names, and a model of the other task, stop the start with
 * a message that says what to do. */
GST_START_TEST (test_bad_settings)
{
  gchar *dir = test_make_temp_dir ();
  gchar *tfslim = test_write_tfslim_config (dir);
  GstElement *pipeline;
  gchar *text;

  pipeline = pipeline_with ("mnv3segment", config,
      "classes=\"person, unicorn\"");
  text = test_expect_start_error (pipeline, NULL);
  fail_unless (strstr (text, "Unknown class \"unicorn\"") != NULL, "%s", text);
  fail_unless (strstr (text, "0 to 20") != NULL, "%s", text);
  g_free (text);
  gst_object_unref (pipeline);

  pipeline = pipeline_with ("mnv3segment", tfslim, "");
  text = test_expect_start_error (pipeline, NULL);
  fail_unless (strstr (text, "use mnv3classify") != NULL, "%s", text);
  g_free (text);
  gst_object_unref (pipeline);

  pipeline = pipeline_with ("mnv3classify", config, "");
  text = test_expect_start_error (pipeline, NULL);
  fail_unless (strstr (text, "use mnv3segment") != NULL, "%s", text);
  g_free (text);
  gst_object_unref (pipeline);

  test_remove_dir (dir);
  g_free (tfslim);
  g_free (dir);
}

GST_END_TEST;

static Suite *
mnv3segment_suite (void)
{
  Suite *s = suite_create ("mnv3segment");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 120);
  tcase_add_checked_fixture (tc, setup, teardown);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_mask_matches_engine);
  tcase_add_test (tc, test_blend_enabled_classes);
  tcase_add_test (tc, test_interval_and_messages);
  tcase_add_test (tc, test_bad_settings);
  return s;
}

GST_CHECK_MAIN (mnv3segment);
