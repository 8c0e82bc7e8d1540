/* mnv3 GStreamer plugin: publishing mnv3jsonsink's records to an MQTT
 * broker (libmosquitto), for gstmnv3jsonsink.c only.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef GST_MNV3_MQTT_H
#define GST_MNV3_MQTT_H

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_MNV3_MQTT_SCHEME "mqtt"

typedef struct _GstMnv3Mqtt GstMnv3Mqtt;

/* What happened to the records handed to gst_mnv3_mqtt_publish(). */
typedef struct {
  guint64 sent;                 /* written to the broker's connection */
  guint64 dropped;              /* not sent: no connection, or lost with it */
  gboolean connected;
} GstMnv3MqttStats;

/* Whether `location` is an mqtt:// URI. */
gboolean gst_mnv3_mqtt_is_uri (const gchar * location);

/* Starts connecting to the broker of `uri` (mqtt://HOST[:PORT]/TOPIC) in a
 * network thread of its own, which reconnects whenever the connection is
 * lost. Warnings and errors are posted as `owner`'s. NULL, with `error`
 * set, for a malformed URI or a broker address that cannot be resolved. */
GstMnv3Mqtt *gst_mnv3_mqtt_new (GstElement * owner, const gchar * uri,
    GError ** error);
/* Queues one record without waiting for the network. While there is no
 * connection (or too many records wait to be sent) it is dropped and
 * counted. */
void gst_mnv3_mqtt_publish (GstMnv3Mqtt * mqtt, const gchar * data,
    gsize size);
/* Waits at most `timeout_us` for the queued records to be sent. */
void gst_mnv3_mqtt_drain (GstMnv3Mqtt * mqtt, gint64 timeout_us);
void gst_mnv3_mqtt_get_stats (GstMnv3Mqtt * mqtt, GstMnv3MqttStats * stats);
/* Disconnects (waiting a little for queued records), stops the thread and
 * gives the final statistics in `stats` unless it is NULL. */
void gst_mnv3_mqtt_free (GstMnv3Mqtt * mqtt, GstMnv3MqttStats * stats);

G_END_DECLS

#endif
