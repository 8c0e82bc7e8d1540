/* mnv3jsonsink: writes the results of mnv3classify/mnv3segment as JSON lines.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef GST_MNV3_JSON_SINK_H
#define GST_MNV3_JSON_SINK_H

#include <gst/gst.h>
#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS

#define GST_TYPE_MNV3_JSON_SINK (gst_mnv3_json_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstMnv3JsonSink, gst_mnv3_json_sink, GST,
    MNV3_JSON_SINK, GstBaseSink);

GST_ELEMENT_REGISTER_DECLARE (mnv3jsonsink);

G_END_DECLS

#endif
