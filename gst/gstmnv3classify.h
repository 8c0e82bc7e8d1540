/* mnv3classify: image classification with a MobileNetV3 model.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef GST_MNV3_CLASSIFY_H
#define GST_MNV3_CLASSIFY_H

#include "gstmnv3filter.h"

G_BEGIN_DECLS

#define GST_TYPE_MNV3_CLASSIFY (gst_mnv3_classify_get_type ())
G_DECLARE_FINAL_TYPE (GstMnv3Classify, gst_mnv3_classify, GST, MNV3_CLASSIFY,
    GstMnv3Filter);

GST_ELEMENT_REGISTER_DECLARE (mnv3classify);

G_END_DECLS

#endif
