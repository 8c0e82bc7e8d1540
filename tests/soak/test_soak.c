/* Soak: MNV3_SOAK_FRAMES (default 100,000) small frames through
 * mnv3classify ! mnv3segment ! mnv3jsonsink in batch mode, with seeded
 * random-weight models at a 32x32 network input (make_models.py, in
 * MNV3_SOAK_MODELS).
 *
 * Asserts: no frame is lost (frames into each element = frames out of the
 * sink = element messages = JSON records, numbered 0..N-1 in order), and the
 * process's resident memory, sampled every MNV3_SOAK_SAMPLE frames, stays
 * flat after warm-up. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gst/gst.h>
#include <glib/gstdio.h>

/* Growth allowed from the first sample (after warm-up) to the last. A leak
 * of 12 bytes a frame over 90,000 frames is 1 MiB; what legitimately moves
 * RSS is the allocator's free lists and the pending bus messages, tens of
 * KiB (measured: see the report printed below). */
#define RSS_SLACK (1024 * 1024)
#define MAX_SAMPLES 1024

typedef struct {
  guint64 frames_out;
  guint64 sample_every;
  guint n_samples;
  guint64 rss[MAX_SAMPLES];     /* bytes, after sample_every * (i + 1) */
  gint64 start_us;
} Soak;

static guint64
env_u64 (const gchar * name, guint64 fallback)
{
  const gchar *text = g_getenv (name);
  return text && *text ? g_ascii_strtoull (text, NULL, 10) : fallback;
}

/* Resident set size of this process, from /proc/self/statm, after giving
 * the allocator's free pages back: a burst of allocations that were all
 * freed again (bus messages piling up while the main thread waited for a
 * core, say) leaves the heap grown and its free pages resident until then,
 * up to 2 MiB here, which is not a leak. */
static guint64
rss_bytes (void)
{
  unsigned long size = 0, resident = 0;
  FILE *f;

  malloc_trim (0);
  f = fopen ("/proc/self/statm", "r");
  if (!f || fscanf (f, "%lu %lu", &size, &resident) != 2)
    g_error ("cannot read /proc/self/statm: the soak test needs Linux");
  fclose (f);
  return (guint64) resident * (guint64) sysconf (_SC_PAGESIZE);
}

/* On the sink's pad, in the streaming thread: counts the frames that came
 * out of the elements and samples RSS every sample_every of them. */
static GstPadProbeReturn
count_frame (G_GNUC_UNUSED GstPad * pad, G_GNUC_UNUSED GstPadProbeInfo * info,
    gpointer data)
{
  Soak *soak = data;

  soak->frames_out++;
  if (soak->frames_out % soak->sample_every == 0
      && soak->n_samples < MAX_SAMPLES) {
    guint64 rss = rss_bytes ();
    gdouble seconds = (g_get_monotonic_time () - soak->start_us) / 1e6;
    soak->rss[soak->n_samples++] = rss;
    g_print ("frame %7" G_GUINT64_FORMAT ": RSS %.2f MiB, %.0f frames/s\n",
        soak->frames_out, rss / 1048576.0, soak->frames_out / seconds);
  }
  return GST_PAD_PROBE_OK;
}

static guint64
get_u64 (GstElement * pipeline, const gchar * element, const gchar * name)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (pipeline), element);
  guint64 value = 0;
  g_assert_nonnull (e);
  g_object_get (e, name, &value, NULL);
  gst_object_unref (e);
  return value;
}

/* Reads the JSON lines file: every record is the next frame's, and carries
 * both elements' results. Returns the number of records. */
static guint64
check_records (const gchar * path)
{
  FILE *f = fopen (path, "r");
  gchar line[8192];
  guint64 records = 0;

  if (!f)
    g_error ("mnv3jsonsink wrote no %s", path);
  while (fgets (line, sizeof line, f)) {
    gchar *prefix = g_strdup_printf ("{\"frame\": %" G_GUINT64_FORMAT ",",
        records);
    if (!g_str_has_prefix (line, prefix))
      g_error ("record %" G_GUINT64_FORMAT " is not frame %" G_GUINT64_FORMAT
          " (lost or reordered frames): %.200s", records, records, line);
    if (!strstr (line, "\"classification\": [{")
        || !strstr (line, "\"segmentation\": [{"))
      g_error ("record %" G_GUINT64_FORMAT " lacks a result: %.300s",
          records, line);
    g_free (prefix);
    records++;
  }
  fclose (f);
  return records;
}

int
main (int argc, char **argv)
{
  const gchar *models = g_getenv ("MNV3_SOAK_MODELS");
  guint64 frames = env_u64 ("MNV3_SOAK_FRAMES", 100000);
  Soak soak = { 0 };
  gchar *dir, *json, *desc;
  GstElement *pipeline, *sink;
  GstPad *pad;
  GstBus *bus;
  GstStructure *stats = NULL;
  guint64 rendered = 0, messages[2] = { 0, 0 }, records;
  gdouble seconds;
  gboolean done = FALSE;
  GError *error = NULL;

  gst_init (&argc, &argv);
  if (!models)
    g_error ("MNV3_SOAK_MODELS is not set (run through meson test)");
  soak.sample_every = env_u64 ("MNV3_SOAK_SAMPLE", frames / 10);
  if (soak.sample_every == 0 || frames / soak.sample_every < 2)
    g_error ("MNV3_SOAK_SAMPLE must give at least two samples");
  dir = g_dir_make_tmp ("mnv3-soak-XXXXXX", NULL);
  g_assert_nonnull (dir);
  json = g_build_filename (dir, "soak.jsonl", NULL);

  /* A moving ball: the results change from frame to frame. Messages on:
   * their allocation and release is part of what must not leak. */
  desc = g_strdup_printf ("videotestsrc num-buffers=%" G_GUINT64_FORMAT
      " pattern=ball ! video/x-raw,format=I420,width=48,height=32,"
      "framerate=30/1 ! mnv3classify name=c config=\"%s/classify.yaml\" "
      "threads=1 mode=batch top-k=1 post-messages=true ! "
      "mnv3segment name=s config=\"%s/segment.yaml\" threads=1 mode=batch "
      "overlay=true post-messages=true ! "
      "mnv3jsonsink name=sink location=\"%s\" sync=false", frames, models,
      models, json);
  /* A missing element gives a partial pipeline and an error. */
  pipeline = gst_parse_launch (desc, &error);
  if (!pipeline || error)
    g_error ("cannot build the pipeline (is GST_PLUGIN_PATH the build's "
        "gst/?): %s: %s", error ? error->message : "?", desc);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_frame, &soak,
      NULL);
  bus = gst_element_get_bus (pipeline);

  soak.start_us = g_get_monotonic_time ();
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE)
    g_error ("the pipeline did not start: %s", desc);
  /* Drains the bus as it goes, so that messages do not pile up in RSS. */
  while (!done) {
    GstMessage *msg = gst_bus_timed_pop (bus, 60 * GST_SECOND);
    if (!msg)
      g_error ("nothing on the bus for 60 s after %" G_GUINT64_FORMAT
          " frames: stalled", soak.frames_out);
    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_EOS:
        done = TRUE;
        break;
      case GST_MESSAGE_ERROR:{
        gst_message_parse_error (msg, &error, NULL);
        g_error ("error after %" G_GUINT64_FORMAT " frames: %s",
            soak.frames_out, error->message);
        break;
      }
      case GST_MESSAGE_ELEMENT:
        if (gst_message_has_name (msg, "mnv3-classification"))
          messages[0]++;
        else if (gst_message_has_name (msg, "mnv3-segmentation"))
          messages[1]++;
        break;
      default:
        break;
    }
    gst_message_unref (msg);
  }
  seconds = (g_get_monotonic_time () - soak.start_us) / 1e6;

  g_object_get (sink, "stats", &stats, NULL);
  g_assert_true (gst_structure_get_uint64 (stats, "rendered", &rendered));
  gst_structure_free (stats);
  g_print ("%" G_GUINT64_FORMAT " frames in %.1f s: %.0f frames/s\n",
      soak.frames_out, seconds, soak.frames_out / seconds);
  g_print ("frames in: classify %" G_GUINT64_FORMAT ", segment %"
      G_GUINT64_FORMAT " (inferred %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
      "); out: %" G_GUINT64_FORMAT " (sink rendered %" G_GUINT64_FORMAT
      "); messages %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "\n",
      get_u64 (pipeline, "c", "frames-in"), get_u64 (pipeline, "s",
          "frames-in"), get_u64 (pipeline, "c", "frames-inferred"),
      get_u64 (pipeline, "s", "frames-inferred"), soak.frames_out, rendered,
      messages[0], messages[1]);
  g_assert_cmpuint (get_u64 (pipeline, "c", "frames-in"), ==, frames);
  g_assert_cmpuint (get_u64 (pipeline, "s", "frames-in"), ==, frames);
  /* Batch mode infers every frame, however slow. */
  g_assert_cmpuint (get_u64 (pipeline, "c", "frames-inferred"), ==, frames);
  g_assert_cmpuint (get_u64 (pipeline, "s", "frames-inferred"), ==, frames);
  g_assert_cmpuint (soak.frames_out, ==, frames);
  g_assert_cmpuint (rendered, ==, frames);
  g_assert_cmpuint (messages[0], ==, frames);
  g_assert_cmpuint (messages[1], ==, frames);

  if (gst_element_set_state (pipeline, GST_STATE_NULL) !=
      GST_STATE_CHANGE_SUCCESS)
    g_error ("the pipeline did not stop");
  /* Stopped: the sink has flushed and closed the file. */
  records = check_records (json);
  g_print ("JSON records: %" G_GUINT64_FORMAT "\n", records);
  g_assert_cmpuint (records, ==, frames);

  g_print ("RSS first (frame %" G_GUINT64_FORMAT "): %.2f MiB, last (frame %"
      G_GUINT64_FORMAT "): %.2f MiB, growth %+.1f KiB (allowed %d KiB)\n",
      soak.sample_every, soak.rss[0] / 1048576.0,
      soak.sample_every * soak.n_samples,
      soak.rss[soak.n_samples - 1] / 1048576.0,
      ((gdouble) soak.rss[soak.n_samples - 1] - (gdouble) soak.rss[0]) /
      1024.0, RSS_SLACK / 1024);
  g_assert_cmpuint (soak.n_samples, ==, frames / soak.sample_every);
  if (soak.rss[soak.n_samples - 1] > soak.rss[0] + RSS_SLACK)
    g_error ("resident memory grew by %" G_GUINT64_FORMAT " bytes from frame "
        "%" G_GUINT64_FORMAT " to frame %" G_GUINT64_FORMAT ": a leak "
        "(about %" G_GUINT64_FORMAT " bytes a frame)",
        soak.rss[soak.n_samples - 1] - soak.rss[0], soak.sample_every,
        soak.sample_every * soak.n_samples,
        (soak.rss[soak.n_samples - 1] - soak.rss[0]) / (frames -
            soak.sample_every));

  g_unlink (json);
  g_rmdir (dir);
  gst_object_unref (pad);
  gst_object_unref (sink);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_free (desc);
  g_free (json);
  g_free (dir);
  gst_deinit ();
  return 0;
}
