/* mnv3-run --image: decode image files with GStreamer and classify them
 * through the public engine API. */
#include "classify_image.h"

#include <mnv3/mnv3.h>

#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TOP_K 5
/* A still image prerolls in milliseconds; this only bounds a stuck decoder. */
#define DECODE_TIMEOUT (30 * GST_SECOND)

/* ---- JSON output -------------------------------------------------------- */

static void json_string(FILE *out, const char *s) {
  if (!s) {
    fputs("null", out);
    return;
  }
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"': fputs("\\\"", out); break;
    case '\\': fputs("\\\\", out); break;
    case '\b': fputs("\\b", out); break;
    case '\f': fputs("\\f", out); break;
    case '\n': fputs("\\n", out); break;
    case '\r': fputs("\\r", out); break;
    case '\t': fputs("\\t", out); break;
    default:
      if (*p < 0x20)
        fprintf(out, "\\u%04x", *p);
      else
        fputc(*p, out); /* UTF-8 passes through as is */
    }
  }
  fputc('"', out);
}

static void print_result(const mnv3_model *model, const char *file,
                         const mnv3_class_score *top, int n) {
  fputs("{\"file\": ", stdout);
  json_string(stdout, file);
  fputs(", \"top\": [", stdout);
  for (int i = 0; i < n; i++) {
    printf("%s{\"label_id\": %d, \"label\": ", i ? ", " : "", top[i].class_id);
    json_string(stdout, mnv3_model_label(model, top[i].class_id));
    printf(", \"confidence\": %.6g}", (double)top[i].score);
  }
  fputs("]}\n", stdout);
  fflush(stdout);
}

/* ---- decoding ----------------------------------------------------------- */

/* The first error the pipeline posted, or a generic reason. */
static void report_bus_error(GstElement *pipeline, const char *file,
                             const char *fallback) {
  GstBus *bus = gst_element_get_bus(pipeline);
  GstMessage *msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  if (msg) {
    GError *err = NULL;
    gchar *debug = NULL;
    gst_message_parse_error(msg, &err, &debug);
    fprintf(stderr, "%s: cannot decode: %s\n", file, err->message);
    g_clear_error(&err);
    g_free(debug);
    gst_message_unref(msg);
  } else {
    fprintf(stderr, "%s: cannot decode: %s\n", file, fallback);
  }
  gst_object_unref(bus);
}

/* Decodes the first frame of `file` to packed RGB. Returns the sample (the
 * caller unrefs it) or NULL after printing why. */
static GstSample *decode_first_frame(const char *file) {
  GError *gerr = NULL;
  /* The location is set as a property, not parsed, so any file name works. */
  GstElement *pipeline = gst_parse_launch(
      "filesrc name=src ! decodebin ! videoconvert ! video/x-raw,format=RGB "
      "! appsink name=sink sync=false max-buffers=1",
      &gerr);
  if (!pipeline) {
    fprintf(stderr, "%s: cannot build the GStreamer decoding pipeline: %s; "
            "install gstreamer1.0-plugins-base\n", file,
            gerr ? gerr->message : "unknown error");
    g_clear_error(&gerr);
    return NULL;
  }
  GstElement *src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  g_object_set(src, "location", file, NULL);

  GstSample *sample = NULL;
  /* PAUSED prerolls: the sink holds the first decoded frame. */
  GstStateChangeReturn ret = gst_element_set_state(pipeline, GST_STATE_PAUSED);
  if (ret != GST_STATE_CHANGE_FAILURE)
    ret = gst_element_get_state(pipeline, NULL, NULL, DECODE_TIMEOUT);
  if (ret == GST_STATE_CHANGE_FAILURE)
    report_bus_error(pipeline, file, "the pipeline failed to start");
  else if (ret != GST_STATE_CHANGE_SUCCESS &&
           ret != GST_STATE_CHANGE_NO_PREROLL)
    report_bus_error(pipeline, file, "decoding timed out");
  else if (!(sample = gst_app_sink_pull_preroll(GST_APP_SINK(sink))))
    report_bus_error(pipeline, file, "the file holds no video frame");

  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(src);
  gst_object_unref(sink);
  gst_object_unref(pipeline);
  return sample;
}

/* Decodes the first frame of `file` and hands it to `use`; 0 on success
   (messages name the file). */
typedef int (*frame_fn)(const mnv3_frame *frame, void *data, mnv3_error *err);

static int with_frame(const char *file, frame_fn use, void *data) {
  GstSample *sample = decode_first_frame(file);
  if (!sample)
    return -1;
  GstVideoInfo info;
  GstVideoFrame vframe;
  int rc = -1;
  if (!gst_video_info_from_caps(&info, gst_sample_get_caps(sample)) ||
      GST_VIDEO_INFO_FORMAT(&info) != GST_VIDEO_FORMAT_RGB) {
    fprintf(stderr, "%s: the decoder did not deliver RGB frames\n", file);
  } else if (!gst_video_frame_map(&vframe, &info, gst_sample_get_buffer(sample),
                                  GST_MAP_READ)) {
    fprintf(stderr, "%s: cannot map the decoded frame\n", file);
  } else {
    mnv3_frame frame = {
        .format = MNV3_PIXEL_RGB,
        .width = GST_VIDEO_FRAME_WIDTH(&vframe),
        .height = GST_VIDEO_FRAME_HEIGHT(&vframe),
        .planes = {GST_VIDEO_FRAME_PLANE_DATA(&vframe, 0), NULL, NULL},
        .strides = {GST_VIDEO_FRAME_PLANE_STRIDE(&vframe, 0), 0, 0},
    };
    mnv3_error err = {{0}};
    rc = use(&frame, data, &err);
    gst_video_frame_unmap(&vframe);
    if (rc != 0)
      fprintf(stderr, "%s: %s\n", file, err.message);
  }
  gst_sample_unref(sample);
  return rc;
}

static int init_gstreamer(void) {
  GError *gerr = NULL;
  if (gst_init_check(NULL, NULL, &gerr))
    return 0;
  fprintf(stderr, "cannot initialise GStreamer: %s\n", gerr ? gerr->message : "unknown error");
  g_clear_error(&gerr);
  return -1;
}

/* ---- classification ----------------------------------------------------- */

typedef struct classify_job {
  mnv3_context *ctx;
  const char *file;
  int top_k;
  mnv3_class_score *top;
} classify_job;

static int classify_frame(const mnv3_frame *frame, void *data, mnv3_error *err) {
  classify_job *job = data;
  if (mnv3_context_set_frame(job->ctx, 0, frame, NULL, err) != 0 ||
      mnv3_context_run(job->ctx, 1, err) != 0)
    return -1;
  print_result(mnv3_context_model(job->ctx), job->file, job->top,
               mnv3_context_top_k(job->ctx, 0, job->top_k, job->top));
  return 0;
}

int mnv3_tool_classify_files(const char *config, const char *weights_override,
                             char **files, int nfiles, int top_k,
                             int threads) {
  if (init_gstreamer() < 0)
    return 1;
  mnv3_error err = {{0}};
  mnv3_model *model = mnv3_model_load(config, weights_override, &err);
  if (!model) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  if (mnv3_model_task(model) != MNV3_TASK_CLASSIFY) {
    fprintf(stderr, "%s: describes a segmentation model; --image needs a "
            "classification config\n", config);
    mnv3_model_unref(model);
    return 1;
  }
  mnv3_context *ctx = mnv3_context_new(model, threads, &err);
  if (!ctx) {
    fprintf(stderr, "%s\n", err.message);
    mnv3_model_unref(model);
    return 1;
  }
  int classes = mnv3_model_num_classes(model);
  if (top_k <= 0)
    top_k = DEFAULT_TOP_K;
  if (top_k > classes)
    top_k = classes;
  mnv3_class_score *top = malloc((size_t)(top_k > 0 ? top_k : 1) * sizeof *top);

  int failed = 0;
  for (int i = 0; i < nfiles; i++) {
    classify_job job = {ctx, files[i], top_k, top};
    failed += with_frame(files[i], classify_frame, &job) != 0;
  }
  free(top);
  mnv3_context_free(ctx);
  mnv3_model_unref(model);
  return failed ? 1 : 0;
}

/* ---- post-training quantization ------------------------------------------ */

static int calibrate_frame(const mnv3_frame *frame, void *data, mnv3_error *err) {
  return mnv3_calibrator_add_frame(data, frame, err);
}

static int is_image(const char *name) {
  const char *dot = strrchr(name, '.');
  return dot && (g_ascii_strcasecmp(dot, ".jpg") == 0 || g_ascii_strcasecmp(dot, ".jpeg") == 0 ||
                 g_ascii_strcasecmp(dot, ".png") == 0);
}

static int compare_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int mnv3_tool_quantize(const char *config, const char *dir, const char *output) {
  if (init_gstreamer() < 0)
    return 1;
  GError *gerr = NULL;
  GDir *d = g_dir_open(dir, 0, &gerr);
  if (!d) {
    fprintf(stderr, "--quantize: %s\n", gerr->message);
    g_clear_error(&gerr);
    return 1;
  }
  GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
  for (const char *name; (name = g_dir_read_name(d));)
    if (is_image(name))
      g_ptr_array_add(files, g_build_filename(dir, name, NULL));
  g_dir_close(d);
  /* Sorted: the same folder gives the same config. */
  qsort(files->pdata, files->len, sizeof(gpointer), compare_names);
  mnv3_error err = {{0}};
  mnv3_calibrator *cal = files->len ? mnv3_calibrator_new(config, &err) : NULL;
  gchar *folder = g_path_get_dirname(output);
  int rc = 1;
  if (g_mkdir_with_parents(folder, 0777) != 0) {
    fprintf(stderr, "--output: cannot make the folder %s: %s\n", folder, g_strerror(errno));
  } else if (!files->len) {
    fprintf(stderr, "--quantize: %s holds no .jpg or .png image to calibrate with\n", dir);
  } else if (!cal) {
    fprintf(stderr, "%s\n", err.message);
  } else {
    int failed = 0;
    for (guint i = 0; i < files->len; i++)
      failed += with_frame(g_ptr_array_index(files, i), calibrate_frame, cal) != 0;
    if (failed)
      fprintf(stderr, "--quantize: %d of %u images could not be used\n", failed, files->len);
    else if (mnv3_calibrator_write(cal, output, &err) != 0)
      fprintf(stderr, "%s\n", err.message);
    else
      rc = 0;
  }
  if (rc == 0)
    fprintf(stderr, "%s: 8-bit config calibrated on %u images\n", output, files->len);
  mnv3_calibrator_free(cal);
  g_ptr_array_unref(files);
  g_free(folder);
  return rc;
}
