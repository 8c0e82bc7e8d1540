/* Classifying image files from the command line (mnv3-run --image). */
#ifndef MNV3_TOOLS_CLASSIFY_IMAGE_H
#define MNV3_TOOLS_CLASSIFY_IMAGE_H

/* Loads the model of `config` once (weights_override may be NULL), decodes
 * each file with GStreamer (PNG, JPEG, anything decodebin handles; the first
 * frame of a video), classifies it with the config's centre crop and prints
 * one JSON line per file on stdout:
 *   {"file": "...", "top": [{"label_id": 285, "label": "Egyptian cat",
 *    "confidence": 0.614}, ...]}
 * label_id is the user's class index (a TFLite background output already
 * dropped); label is null when the config names no labels. top_k <= 0 means
 * 5. threads <= 0 means one per CPU. A file that cannot be read or decoded
 * gets a message on stderr naming it and the others are still processed.
 * Returns 0 when every file was classified, 1 otherwise. */
int mnv3_tool_classify_files(const char *config, const char *weights_override,
                             char **files, int nfiles, int top_k, int threads);

/* mnv3-run --quantize: calibrates the float config on every .jpg/.png in
 * dir and writes the 8-bit config `output` (with copies of its weights and
 * labels beside it). Returns 0, or 1 with a message on stderr. */
int mnv3_tool_quantize(const char *config, const char *dir, const char *output);

#endif
