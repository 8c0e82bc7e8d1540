/* NULL -> PLAYING -> NULL many times leaks nothing: no GstObject or
 * GstMiniObject (GStreamer's leaks tracer, enabled here) and no heap memory
 * (models, contexts and results are engine memory the tracer cannot see).
 *
 * MNV3_GST_QUICK (the valgrind runs): 10 cycles instead of 100; there
 * memcheck's own leak check sees every lost block, however few cycles. */
#include <malloc.h>
#include <string.h>

#include <gst/check/gstcheck.h>

#include "gsttestutil.h"

static GstTracer *
leaks_tracer (void)
{
  GList *tracers = gst_tracing_get_active_tracers ();
  GstTracer *found = NULL;

  for (GList * l = tracers; l; l = l->next)
    if (!found && strcmp (G_OBJECT_TYPE_NAME (l->data), "GstLeaksTracer") == 0)
      found = gst_object_ref (l->data);
  g_list_free_full (tracers, gst_object_unref);
  return found;
}

static void
run_once (const gchar * desc)
{
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstBus *bus;
  GstMessage *msg;

  fail_unless (pipeline != NULL, "%s", desc);
  bus = gst_element_get_bus (pipeline);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_timed_pop_filtered (bus, test_wait (30),
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS,
      "the pipeline did not reach EOS");
  gst_message_unref (msg);
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
}

static size_t
heap_in_use (void)
{
  struct mallinfo2 info = mallinfo2 ();
  return info.uordblks + info.hblkhd;
}

/* Live objects per type name, from the leaks tracer. */
static GHashTable *
live_objects (GstTracer * tracer)
{
  GstStructure *live = NULL;
  const GValue *list;
  GHashTable *counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);

  /* Streaming threads drop their last task reference asynchronously. */
  gst_task_cleanup_all ();
  g_signal_emit_by_name (tracer, "get-live-objects", &live);
  fail_unless (live != NULL);
  list = gst_structure_get_value (live, "live-objects-list");
  fail_unless (list != NULL);
  for (guint i = 0; i < gst_value_list_get_size (list); i++) {
    const GstStructure *o =
        gst_value_get_structure (gst_value_list_get_value (list, i));
    const GValue *object = gst_structure_get_value (o, "object");
    const gchar *type = g_type_name (G_VALUE_TYPE (object));
    gpointer n = g_hash_table_lookup (counts, type);
    g_hash_table_replace (counts, g_strdup (type),
        GINT_TO_POINTER (GPOINTER_TO_INT (n) + 1));
  }
  gst_structure_free (live);
  return counts;
}

static void
check_cycles (const gchar * desc)
{
  const gint cycles = test_quick ()? 10 : 100;
  GstTracer *tracer = leaks_tracer ();
  GHashTable *before_objects, *after_objects;
  GHashTableIter iter;
  gpointer type, n;
  GString *grown = g_string_new (NULL);
  size_t before, after;

  fail_unless (tracer != NULL, "the leaks tracer is not active "
      "(GST_TRACERS=leaks)");
  /* Warm up: first-use caches (types, quarks, registry) are not leaks. */
  run_once (desc);
  run_once (desc);

  before_objects = live_objects (tracer);
  before = heap_in_use ();
  for (gint i = 0; i < cycles; i++)
    run_once (desc);
  after = heap_in_use ();
  after_objects = live_objects (tracer);

  g_hash_table_iter_init (&iter, after_objects);
  while (g_hash_table_iter_next (&iter, &type, &n)) {
    gint was = GPOINTER_TO_INT (g_hash_table_lookup (before_objects, type));
    if (GPOINTER_TO_INT (n) > was)
      g_string_append_printf (grown, " %s: %d -> %d", (gchar *) type, was,
          GPOINTER_TO_INT (n));
  }
  fail_unless (grown->len == 0, "live objects grew over %d cycles:%s",
      cycles, grown->str);
  /* A model or a context is megabytes; a lost result is kilobytes per
   * cycle. Allow allocator noise only. */
  fail_unless (after < before + 256 * 1024,
      "the heap grew by %zu bytes over %d cycles", after - before, cycles);
  GST_INFO ("heap %zu -> %zu bytes", before, after);

  g_string_free (grown, TRUE);
  g_hash_table_unref (before_objects);
  g_hash_table_unref (after_objects);
  gst_object_unref (tracer);
}

/* The configs run the networks at 64x64: the cycles test the plumbing, and
 * weights given through the 'weights' property. */
GST_START_TEST (test_classify_cycles)
{
  gchar *dir = test_make_temp_dir ();
  gchar *config = test_write_file (dir, "small.yaml",
      "model:\n  architecture: mobilenet_v3_small\n  num-classes: 1001\n"
      "  background-class: true\n"
      "input:\n  size: [64, 64]\n  mean: [0.5, 0.5, 0.5]\n"
      "  std: [0.5, 0.5, 0.5]\n");
  gchar *weights = test_shared_path ("models/v3-small_224_1.0_uint8.tflite");
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=3 ! "
      "video/x-raw,format=NV12,width=96,height=64 ! mnv3classify "
      "config=\"%s\" weights=\"%s\" threads=1 overlay=true "
      "post-messages=true inference-interval=2 ! fakesink", config, weights);

  check_cycles (desc);
  test_remove_dir (dir);
  g_free (desc);
  g_free (weights);
  g_free (config);
  g_free (dir);
}

GST_END_TEST;

GST_START_TEST (test_segment_cycles)
{
  const gchar *lraspp = g_getenv ("MNV3_GST_LRASPP_CONFIG");
  gchar *dir = test_make_temp_dir ();
  gchar *models, *text, *config, *desc;

  fail_unless (lraspp != NULL);
  models = g_path_get_dirname (lraspp);
  text = g_strdup_printf ("model:\n  architecture: lraspp_mobilenet_v3_large\n"
      "  num-classes: 21\ninput:\n  size: [64, 64]\n  crop: 0.9\n"
      "labels: %s/models/labels/voc.txt\npalette: voc\n",
      g_getenv ("MNV3_SOURCE_ROOT"));
  config = test_write_file (dir, "small.yaml", text);
  desc = g_strdup_printf ("videotestsrc num-buffers=3 ! "
      "video/x-raw,format=I420,width=96,height=64 ! mnv3segment "
      "config=\"%s\" weights=\"%s/lraspp.safetensors\" threads=1 "
      "overlay=true classes=person,1 post-messages=true "
      "inference-interval=2 ! fakesink",
      config, models);

  check_cycles (desc);
  test_remove_dir (dir);
  g_free (desc);
  g_free (config);
  g_free (text);
  g_free (models);
  g_free (dir);
}

GST_END_TEST;

static Suite *
mnv3leaks_suite (void)
{
  Suite *s = suite_create ("mnv3leaks");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 150);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_classify_cycles);
  tcase_add_test (tc, test_segment_cycles);
  return s;
}

int
main (int argc, char **argv)
{
  /* Before gst_init: the tracer is set up there. No stack traces, they are
   * slow and not needed to count objects. */
  g_setenv ("GST_TRACERS", "leaks", TRUE);
  g_unsetenv ("GST_LEAKS_TRACER_STACK_TRACES");
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (mnv3leaks_suite (), "mnv3leaks", __FILE__);
}
