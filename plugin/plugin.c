/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugin.c — registers the decent plugin's elements. */
#include <gst/gst.h>

#include "gstdecentanomaly.h"
#include "gstdecentpublish.h"
#include "gstdecenttrain.h"

#ifndef PACKAGE
#define PACKAGE "gst-decent"
#endif

static gboolean
plugin_init (GstPlugin *plugin)
{
  gboolean ret = FALSE;
  ret |= GST_ELEMENT_REGISTER (decentanomaly, plugin);
  ret |= GST_ELEMENT_REGISTER (decent_train, plugin);
  ret |= GST_ELEMENT_REGISTER (decentpublish, plugin);
  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, decent,
    "Anomaly detection with the latent feature decentralization loss", plugin_init, VERSION,
    "LGPL", PACKAGE, "Unknown package origin")
