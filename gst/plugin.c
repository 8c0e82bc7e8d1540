/* mnv3 GStreamer plugin: registers the elements.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmnv3classify.h"
#include "gstmnv3jsonsink.h"
#include "gstmnv3segment.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  ret |= GST_ELEMENT_REGISTER (mnv3classify, plugin);
  ret |= GST_ELEMENT_REGISTER (mnv3segment, plugin);
  ret |= GST_ELEMENT_REGISTER (mnv3jsonsink, plugin);
  return ret;
}

/* The project is Apache-2.0, which is not one of the licence strings
 * GStreamer accepts (LGPL, GPL, QPL, GPL/QPL, MPL, BSD, MIT/X11,
 * Proprietary, unknown): GST_LICENSE_UNKNOWN ("unknown", "some other
 * licence") is the accurate one; "BSD" would name a different licence. */
GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, mnv3,
    "MobileNetV3 image classification and semantic segmentation",
    plugin_init, VERSION, GST_LICENSE_UNKNOWN, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
