/* mnv3segment: semantic segmentation with an LR-ASPP MobileNetV3 model.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef GST_MNV3_SEGMENT_H
#define GST_MNV3_SEGMENT_H

#include "gstmnv3filter.h"

G_BEGIN_DECLS

#define GST_TYPE_MNV3_SEGMENT (gst_mnv3_segment_get_type ())
G_DECLARE_FINAL_TYPE (GstMnv3Segment, gst_mnv3_segment, GST, MNV3_SEGMENT,
    GstMnv3Filter);

/* Name of the custom GstMeta holding the class mask (see the element docs). */
#define GST_MNV3_SEGMENTATION_MASK_META "Mnv3SegmentationMask"

GST_ELEMENT_REGISTER_DECLARE (mnv3segment);

G_END_DECLS

#endif
