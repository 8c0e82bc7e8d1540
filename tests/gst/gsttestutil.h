/* Helpers for the mnv3 plugin tests: test pictures in any format, configs,
 * the engine run directly through its public API, bus errors. */
#ifndef GST_TEST_UTIL_H
#define GST_TEST_UTIL_H

#include <gst/gst.h>
#include <gst/video/video.h>

#include "mnv3/mnv3.h"

#define TEST_WIDTH 641
#define TEST_HEIGHT 479

/* Every format the elements accept. */
extern const gchar *const test_formats[];
extern const guint n_test_formats;

/* MNV3_GST_QUICK is set (by the valgrind runs only, where everything is
 * ~50x slower): the slow cases keep their coverage (every format, every
 * path) with fewer or smaller frames, or fewer cycles. */
gboolean test_quick (void);
/* A wait of `seconds`, ten times longer under MNV3_GST_QUICK (valgrind runs
 * everything some 50x slower; the quick mode wins back part of it). */
GstClockTime test_wait (guint seconds);

/* $MNV3_SOURCE_ROOT/../shared/<relative>; aborts the test if unset. */
gchar *test_shared_path (const gchar * relative);
/* A new temporary folder, removed by test_remove_dir(). */
gchar *test_make_temp_dir (void);
void test_remove_dir (const gchar * dir);

/* Writes a config for Google's TF-slim MobileNetV3-Small from the shared
 * models into dir; returns its path. */
gchar *test_write_tfslim_config (const gchar * dir);
/* Writes text into dir/name; returns the path. */
gchar *test_write_file (const gchar * dir, const gchar * name,
    const gchar * text);

/* A shared photo decoded, scaled to width x height as RGB and then converted
 * to `format` with videoconvert, so that every format carries the same
 * picture. Caps (with colorimetry) in *caps. */
GstBuffer *test_load_picture (const gchar * photo, const gchar * format,
    gint width, gint height, GstCaps ** caps);

/* The engine's view of a mapped frame, built here independently of the
 * plugin. */
void test_engine_frame (const GstVideoFrame * frame, mnv3_frame * out);

/* Runs model on the picture with the engine directly (one context). */
mnv3_context *test_engine_run (mnv3_model * model, GstBuffer * buffer,
    GstCaps * caps);

/* Compares two frames of `caps` by their visible bytes, plane by plane and
 * row by row: row padding past the picture is never written, so it is no
 * part of the frame (and reading it is an uninitialised read to valgrind).
 * NULL when equal, else where they first differ (g_free it). */
gchar *test_frame_difference (GstBuffer * a, GstBuffer * b, GstCaps * caps);
/* Fails the test, saying `what` and where, unless the frames are equal. */
void test_assert_frames_equal (GstBuffer * a, GstBuffer * b, GstCaps * caps,
    const gchar * what);

/* Sets the element to PLAYING (waiting for PAUSED), expects the state change
 * to fail and returns the error message the element posted: its text, then
 * its debug details on the next line. */
gchar *test_expect_start_error (GstElement * pipeline, GError ** error_out);

#endif
