/* The GstAnalytics metadata of mnv3classify (GStreamer >= 1.24) and
 * mnv3segment (>= 1.26), read back through the upstream API only and
 * compared with the elements' own metadata, which test_classify.c and
 * test_segment.c check against the engine. */
#include <gst/analytics/analytics.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#include "gsttestutil.h"

static gchar *tmp_dir;
static gchar *classify_config;
static GstBuffer *picture;
static GstCaps *caps;

static void
setup (void)
{
  tmp_dir = test_make_temp_dir ();
  classify_config = test_write_tfslim_config (tmp_dir);
  picture = test_load_picture ("cat_720p__coral.jpg", "RGB", TEST_WIDTH,
      TEST_HEIGHT, &caps);
}

static void
teardown (void)
{
  test_remove_dir (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
  g_clear_pointer (&classify_config, g_free);
  gst_clear_buffer (&picture);
  gst_clear_caps (&caps);
}

/* A harness for `description`, where @CLASSIFY@ and @SEGMENT@ stand for the
 * configs of the TF-slim classifier and the random LR-ASPP model, fed the
 * picture's caps. */
static GstHarness *
harness_for (const gchar * description)
{
  const gchar *segment_config = g_getenv ("MNV3_GST_LRASPP_CONFIG");
  gchar *with_classify, *desc;
  GRegex *classify = g_regex_new ("@CLASSIFY@", 0, 0, NULL);
  GRegex *segment = g_regex_new ("@SEGMENT@", 0, 0, NULL);
  GstHarness *h;

  fail_unless (segment_config != NULL, "MNV3_GST_LRASPP_CONFIG is not set "
      "(run through meson test)");
  with_classify = g_regex_replace_literal (classify, description, -1, 0,
      classify_config, 0, NULL);
  desc = g_regex_replace_literal (segment, with_classify, -1, 0,
      segment_config, 0, NULL);
  h = gst_harness_new_parse (desc);
  gst_harness_set_src_caps (h, gst_caps_ref (caps));

  g_free (desc);
  g_free (with_classify);
  g_regex_unref (segment);
  g_regex_unref (classify);
  return h;
}

/* The buffer's one GstAnalyticsRelationMeta: the elements share it. */
static GstAnalyticsRelationMeta *
relation_meta (GstBuffer * buffer)
{
  GstAnalyticsRelationMeta *found = NULL;
  gpointer state = NULL;
  GstMeta *meta;

  while ((meta = gst_buffer_iterate_meta_filtered (buffer, &state,
              GST_ANALYTICS_RELATION_META_API_TYPE))) {
    fail_unless (found == NULL, "more than one GstAnalyticsRelationMeta");
    found = (GstAnalyticsRelationMeta *) meta;
  }
  fail_unless (found != NULL, "no GstAnalyticsRelationMeta");
  return found;
}

/* The classification mtds of rmeta, at most max of them, into out. */
static guint
cls_mtds (GstAnalyticsRelationMeta * rmeta, GstAnalyticsClsMtd * out,
    guint max)
{
  gpointer state = NULL;
  GstAnalyticsClsMtd mtd;
  guint n = 0;

  while (gst_analytics_relation_meta_iterate (rmeta, &state,
          gst_analytics_cls_mtd_get_mtd_type (), &mtd)) {
    fail_unless (n < max, "more than %u classification mtds", max);
    out[n++] = mtd;
  }
  return n;
}

/* cls holds the classes of the buffer's classification ROI meta, in its
 * order: its confidences as levels, its labels as quarks. */
static void
check_cls_matches_roi (const GstAnalyticsClsMtd * cls, GstBuffer * buffer,
    guint expected_n)
{
  GstVideoRegionOfInterestMeta *roi =
      gst_buffer_get_video_region_of_interest_meta (buffer);
  guint n = 0;

  fail_unless (roi != NULL, "no classification ROI meta");
  for (GList * l = roi->params; l; l = l->next) {
    const GstStructure *s = l->data;
    gdouble confidence;

    if (!gst_structure_has_name (s, "mnv3-classification-result"))
      continue;
    fail_unless (n < gst_analytics_cls_mtd_get_length (cls),
        "the classification mtd has fewer classes than the ROI meta");
    fail_unless (gst_structure_get_double (s, "confidence", &confidence));
    /* The ROI meta holds the engine's float score as a double. */
    fail_unless_equals_float (gst_analytics_cls_mtd_get_level (cls, n),
        (gfloat) confidence);
    fail_unless_equals_string (g_quark_to_string
        (gst_analytics_cls_mtd_get_quark (cls, n)),
        gst_structure_get_string (s, "label"));
    n++;
  }
  fail_unless_equals_int (n, expected_n);
  fail_unless_equals_int (gst_analytics_cls_mtd_get_length (cls), n);
}

typedef void (*FrameCheck) (GstBuffer * out, GstAnalyticsRelationMeta * rmeta);

/* Three frames of the picture through `description` with
 * inference-interval=2, so that the middle one carries a stale result:
 * check sees each. */
static void
check_three_frames (const gchar * description, FrameCheck check)
{
  gchar *desc = g_strconcat (description, " inference-interval=2", NULL);
  GstHarness *h = harness_for (desc);

  for (gint i = 0; i < 3; i++) {
    GstBuffer *out = gst_harness_push_and_pull (h, gst_buffer_ref (picture));
    check (out, relation_meta (out));
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
  g_free (desc);
}

static void
check_top_3 (GstBuffer * out, GstAnalyticsRelationMeta * rmeta)
{
  GstAnalyticsClsMtd cls[1];

  fail_unless_equals_int (cls_mtds (rmeta, cls, 1), 1);
  check_cls_matches_roi (&cls[0], out, 3);
}

/* top-k classes on every frame; nothing at all when no class reaches the
 * threshold. */
GST_START_TEST (test_classification_mtd)
{
  GstHarness *h;
  GstBuffer *out;

  check_three_frames ("mnv3classify config=\"@CLASSIFY@\" threads=1 top-k=3",
      check_top_3);

  h = harness_for ("mnv3classify config=\"@CLASSIFY@\" threads=1 "
      "threshold=1.0");
  out = gst_harness_push_and_pull (h, gst_buffer_ref (picture));
  fail_unless (gst_buffer_get_video_region_of_interest_meta (out) == NULL);
  fail_unless (gst_buffer_get_analytics_relation_meta (out) == NULL);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

#ifdef HAVE_GST_ANALYTICS_SEGMENTATION
/* The segmentation mtd holds the mask of the element's Mnv3SegmentationMask
 * meta, its rectangle and, as region ids, the classes of its results in
 * their order; the classification mtd related to it both ways (N_TO_N)
 * names each region. Returns the id of that classification mtd. */
static guint
check_segmentation (GstBuffer * out, GstAnalyticsRelationMeta * rmeta)
{
  GstCustomMeta *meta = gst_buffer_get_custom_meta (out,
      "Mnv3SegmentationMask");
  const GstStructure *s;
  const GValue *results;
  GstBuffer *mask, *mtd_mask;
  gint mask_width, mask_height, x, y, width, height, loc_x, loc_y;
  guint loc_w, loc_h, n;
  gsize index;
  GstAnalyticsSegmentationMtd seg, other;
  GstAnalyticsClsMtd cls;
  gpointer state = NULL;
  GstVideoMeta *vmeta;
  GstMapInfo map;
  guint counts[256] = { 0 };

  fail_unless (meta != NULL, "no Mnv3SegmentationMask meta");
  s = gst_custom_meta_get_structure (meta);
  fail_unless (gst_structure_get (s, "mask", GST_TYPE_BUFFER, &mask,
          "mask_width", G_TYPE_INT, &mask_width,
          "mask_height", G_TYPE_INT, &mask_height, "x", G_TYPE_INT, &x,
          "y", G_TYPE_INT, &y, "width", G_TYPE_INT, &width,
          "height", G_TYPE_INT, &height, NULL));
  results = gst_structure_get_value (s, "results");
  n = gst_value_array_get_size (results);

  fail_unless (gst_analytics_relation_meta_iterate (rmeta, &state,
          gst_analytics_segmentation_mtd_get_mtd_type (), &seg),
      "no segmentation mtd");
  fail_if (gst_analytics_relation_meta_iterate (rmeta, &state,
          gst_analytics_segmentation_mtd_get_mtd_type (), &other),
      "more than one segmentation mtd");

  mtd_mask = gst_analytics_segmentation_mtd_get_mask (&seg, &loc_x, &loc_y,
      &loc_w, &loc_h);
  fail_unless (mtd_mask == mask, "the mtd's mask is another buffer");
  fail_unless_equals_int (loc_x, x);
  fail_unless_equals_int (loc_y, y);
  fail_unless_equals_int (loc_w, width);
  fail_unless_equals_int (loc_h, height);
  vmeta = gst_buffer_get_video_meta (mtd_mask);
  fail_unless (vmeta != NULL, "the mask has no GstVideoMeta");
  fail_unless_equals_int (vmeta->format, GST_VIDEO_FORMAT_GRAY8);
  fail_unless_equals_int (vmeta->width, mask_width);
  fail_unless_equals_int (vmeta->height, mask_height);
  fail_unless_equals_int (vmeta->n_planes, 1);
  fail_unless_equals_int (vmeta->offset[0], 0);
  fail_unless_equals_int (vmeta->stride[0], mask_width);
  fail_unless_equals_int (gst_buffer_get_size (mtd_mask),
      mask_width * mask_height);

  fail_unless_equals_int (gst_analytics_segmentation_mtd_get_region_count
      (&seg), n);
  fail_unless (gst_analytics_relation_meta_get_direct_related (rmeta, seg.id,
          GST_ANALYTICS_REL_TYPE_N_TO_N, gst_analytics_cls_mtd_get_mtd_type (),
          NULL, &cls), "no classification mtd names the regions");
  fail_unless_equals_int (gst_analytics_relation_meta_get_relation (rmeta,
          cls.id, seg.id), GST_ANALYTICS_REL_TYPE_N_TO_N);
  fail_unless_equals_int (gst_analytics_cls_mtd_get_length (&cls), n);
  for (guint i = 0; i < n; i++) {
    const GstStructure *r =
        gst_value_get_structure (gst_value_array_get_value (results, i));
    gint id;

    fail_unless (gst_structure_get_int (r, "label_id", &id));
    fail_unless_equals_int (gst_analytics_segmentation_mtd_get_region_id
        (&seg, i), id);
    fail_unless_equals_string (g_quark_to_string
        (gst_analytics_cls_mtd_get_quark (&cls, i)),
        gst_structure_get_string (r, "label"));
    /* A semantic mask has no confidence per region. */
    fail_unless_equals_float (gst_analytics_cls_mtd_get_level (&cls, i), -1.0);
  }

  /* Every pixel's class is a region, and every region is in the mask. */
  fail_unless (gst_buffer_map (mtd_mask, &map, GST_MAP_READ));
  for (gsize i = 0; i < map.size; i++)
    counts[map.data[i]]++;
  gst_buffer_unmap (mtd_mask, &map);
  for (guint c = 0; c < 256; c++) {
    gboolean found = gst_analytics_segmentation_mtd_get_region_index (&seg,
        &index, c);
    fail_unless_equals_int (found, counts[c] > 0);
    if (found)
      fail_unless_equals_int (gst_analytics_segmentation_mtd_get_region_id
          (&seg, index), c);
  }

  gst_buffer_unref (mtd_mask);
  gst_buffer_unref (mask);
  return cls.id;
}

static void
check_segmentation_alone (GstBuffer * out, GstAnalyticsRelationMeta * rmeta)
{
  GstAnalyticsClsMtd cls[1];

  check_segmentation (out, rmeta);
  fail_unless_equals_int (cls_mtds (rmeta, cls, 1), 1);
}

/* Every frame carries the mask as segmentation mtd with its regions
 * named. */
GST_START_TEST (test_segmentation_mtd)
{
  check_three_frames ("mnv3segment config=\"@SEGMENT@\" threads=1 "
      "overlay=false", check_segmentation_alone);
}

GST_END_TEST;

/* A classifier and a segmenter in one pipeline share the relation meta: the
 * classifier's classification mtd is the one not related to the
 * segmentation. */
GST_START_TEST (test_classify_and_segment)
{
  GstHarness *h = harness_for ("mnv3classify config=\"@CLASSIFY@\" threads=1 "
      "! mnv3segment config=\"@SEGMENT@\" threads=1 overlay=false");
  GstBuffer *out = gst_harness_push_and_pull (h, gst_buffer_ref (picture));
  GstAnalyticsRelationMeta *rmeta = relation_meta (out);
  guint regions_id = check_segmentation (out, rmeta);
  GstAnalyticsClsMtd cls[2];

  fail_unless_equals_int (cls_mtds (rmeta, cls, 2), 2);
  for (guint i = 0; i < 2; i++) {
    if (cls[i].id == regions_id)
      continue;
    check_cls_matches_roi (&cls[i], out, 5);
    fail_unless_equals_int (gst_analytics_relation_meta_get_relation (rmeta,
            cls[i].id, regions_id), GST_ANALYTICS_REL_TYPE_NONE);
  }
  fail_unless (cls[0].id == regions_id || cls[1].id == regions_id);

  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;
#endif

static Suite *
analytics_suite (void)
{
  Suite *s = suite_create ("mnv3 GstAnalytics");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 120);
  tcase_add_checked_fixture (tc, setup, teardown);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_classification_mtd);
#ifdef HAVE_GST_ANALYTICS_SEGMENTATION
  tcase_add_test (tc, test_segmentation_mtd);
  tcase_add_test (tc, test_classify_and_segment);
#endif
  return s;
}

GST_CHECK_MAIN (analytics);
