/* mnv3 GStreamer plugin: GstMnv3Filter, the abstract base class of
 * mnv3classify and mnv3segment (documented in gstmnv3filter.c).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef GST_MNV3_FILTER_H
#define GST_MNV3_FILTER_H

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>

#include "mnv3/mnv3.h"

G_BEGIN_DECLS

#define GST_TYPE_MNV3_FILTER (gst_mnv3_filter_get_type ())
#define GST_MNV3_FILTER(obj) \
  (G_TYPE_CHECK_INSTANCE_CAST ((obj), GST_TYPE_MNV3_FILTER, GstMnv3Filter))
#define GST_MNV3_FILTER_CLASS(klass) \
  (G_TYPE_CHECK_CLASS_CAST ((klass), GST_TYPE_MNV3_FILTER, GstMnv3FilterClass))
#define GST_MNV3_FILTER_GET_CLASS(obj) \
  (G_TYPE_INSTANCE_GET_CLASS ((obj), GST_TYPE_MNV3_FILTER, GstMnv3FilterClass))

/* The mode property: whether late frames may skip inference. */
typedef enum {
  GST_MNV3_FILTER_MODE_AUTO,
  GST_MNV3_FILTER_MODE_LIVE,
  GST_MNV3_FILTER_MODE_BATCH,
} GstMnv3FilterMode;

#define GST_TYPE_MNV3_FILTER_MODE (gst_mnv3_filter_mode_get_type ())
GType gst_mnv3_filter_mode_get_type (void);

typedef struct _GstMnv3Filter GstMnv3Filter;
typedef struct _GstMnv3FilterClass GstMnv3FilterClass;

/* What a subclass needs to know about the frame it decorates. */
typedef struct {
  guint64 frame;           /* this frame's number, counted from 0 at start */
  guint64 inference_frame; /* the frame the result was computed on */
  GstClockTime pts;
  gboolean stale;          /* TRUE when the result comes from an earlier frame */
} GstMnv3FrameInfo;

struct _GstMnv3Filter {
  GstVideoFilter parent;

  /*< protected >*/
  /* Valid from start() to stop(); used by the streaming thread only. */
  mnv3_model *model;
  /* mnv3_model_precision() of the model, for the precision property
     (read under the object lock; the model may change while playing) */
  const gchar *precision;
  mnv3_context *context;
  mnv3_pixel_format pixel_format;

  /*< private >*/
  gchar *cache_key;
  GstClockTime frame_duration;  /* from the caps' frame rate, or NONE */
  guint64 frame_number;
  guint64 result_frame;
  gboolean have_result;

  /* Properties, under the object lock. */
  gchar *config;
  gchar *weights;
  gint threads;
  /* config or weights set since start(): the streaming thread loads the
   * new model at the next frame boundary (see reload_model()). */
  gboolean model_changed;
  guint inference_interval;
  gboolean post_messages;
  GstMnv3FilterMode mode;
  guint stats_interval;

  /* Live mode and latency, under the object lock (queries and events come
   * from other threads than the streaming one). */
  gboolean upstream_live;       /* as the last LATENCY answer from upstream */
  gboolean live;                /* the effective mode */
  GstClockTime pipeline_latency;        /* from the LATENCY event, or NONE */
  GstClockTime qos_earliest;    /* downstream is late up to this running time */
  GstClockTime reported_latency;        /* what we last added to a query */
  gdouble mean_inference_ns;    /* moving average: predicts the next one */
  GstClockTime recent_ns[8];    /* the last inference times (a ring) */
  guint n_recent;
  guint next_recent;
  GstClockTime latency_estimate;        /* what we add to LATENCY queries */

  /* Statistics, under the object lock. */
  guint64 frames_in;
  guint64 frames_inferred;
  guint64 frames_skipped;
  gdouble total_inference_ms;
  gdouble max_inference_ms;
  gint64 last_stats_post;       /* g_get_monotonic_time() */
  /* Frame rate through the element (g_get_monotonic_time()): over the
   * whole run, and over windows of at least a second. */
  gint64 first_frame_time, last_frame_time;
  gint64 fps_window_start;
  guint64 fps_window_frames;
  gdouble fps;                  /* of the last whole window */
};

struct _GstMnv3FilterClass {
  GstVideoFilterClass parent_class;

  /* The task the model must have, and the name of the element messages. */
  mnv3_task task;
  const gchar *message_name;

  /* After the model and context are ready, in start(). */
  gboolean (*prepare) (GstMnv3Filter * filter, GError ** error);
  /* Drops everything prepare() and read_result() made, in stop(). */
  void (*release) (GstMnv3Filter * filter);
  /* Reads the result of the inference just run on `frame`. */
  void (*read_result) (GstMnv3Filter * filter, GstVideoFrame * frame);
  /* Attaches the current result to `frame` (and draws it), and adds the
   * result's fields to `message` unless it is NULL (post-messages off). */
  void (*apply_result) (GstMnv3Filter * filter, GstVideoFrame * frame,
      const GstMnv3FrameInfo * info, GstStructure * message);
};

GType gst_mnv3_filter_get_type (void);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstMnv3Filter, gst_object_unref);

/* The engine's view of a mapped frame; `planes` receives writable pointers to
 * the same planes (for drawing). */
void gst_mnv3_filter_wrap_frame (GstMnv3Filter * filter,
    const GstVideoFrame * frame, mnv3_frame * out, uint8_t * planes[3]);

/* The label of a class, or "class N" (into `buf`) when the config has none. */
const gchar *gst_mnv3_class_label (const mnv3_model * model, gint class_id,
    gchar * buf, gsize buf_size);

/* A GstStructure named `name` with label_id, label and a double field
 * `value_field` (confidence, fraction), the shape shared by metadata and
 * messages. */
GstStructure *gst_mnv3_result_structure_new (const gchar * name,
    const mnv3_model * model, gint class_id, const gchar * value_field,
    gdouble value);

/* Attaches a GstVideoRegionOfInterestMeta of type `roi_type` over `rect`,
 * numbered for Python (see the function). */
GstVideoRegionOfInterestMeta *gst_mnv3_filter_add_roi (GstMnv3Filter *
    filter, GstBuffer * buffer, const gchar * roi_type,
    const mnv3_rect * rect);

/* The ROI param named `name` that every mnv3 element attaches: `results` (a
 * GST_TYPE_ARRAY of result structures), the element's and the model's
 * names, `stale`, `frame` and `inference_frame`. */
GstStructure *gst_mnv3_filter_result_param_new (GstMnv3Filter * filter,
    const gchar * name, const GstMnv3FrameInfo * info,
    const GValue * results);

/* Appends a structure (taking ownership) to a GST_TYPE_ARRAY value. */
void gst_mnv3_value_array_append_structure (GValue * array,
    GstStructure * structure);

G_END_DECLS

#endif
