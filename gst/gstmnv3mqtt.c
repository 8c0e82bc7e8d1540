/* mnv3 GStreamer plugin: publishing mnv3jsonsink's records to an MQTT
 * broker with libmosquitto.
 *
 * libmosquitto's own network thread (mosquitto_loop_start()) connects,
 * writes the queued records and reconnects after a loss, so that the
 * streaming thread only ever queues a record. Records are published with
 * QoS 0: a record is counted as sent once written to the broker's
 * connection (libmosquitto's on_publish), and as dropped when there was no
 * connection to queue it on, when too many were waiting already, or when
 * the connection was lost before it was written.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmnv3mqtt.h"

#include <errno.h>
#include <string.h>

#include <mosquitto.h>

GST_DEBUG_CATEGORY_EXTERN (gst_mnv3_json_sink_debug);
#define GST_CAT_DEFAULT gst_mnv3_json_sink_debug

#define DEFAULT_PORT 1883
/* Seconds between keepalive pings: how soon a silently dead broker is
 * noticed. */
#define KEEPALIVE_S 5
/* Records queued but not yet written: beyond this the broker cannot keep
 * up, and queueing more would only use memory. */
#define MAX_IN_FLIGHT 256
/* How long stop waits for queued records before closing anyway. */
#define DISCONNECT_TIMEOUT_US (2 * G_USEC_PER_SEC)

struct _GstMnv3Mqtt {
  GstElement *owner;            /* not a reference: the owner outlives us */
  struct mosquitto *mosq;
  gchar *host;
  gint port;
  gchar *topic;

  /* Under lock; changed by both threads. */
  GMutex lock;
  GCond changed;
  gboolean connected;
  gboolean disconnecting;       /* gst_mnv3_mqtt_free() asked for it */
  gboolean warned;              /* about this outage already */
  guint64 session;              /* connections lost so far */
  guint in_flight;              /* queued, not yet written */
  guint64 sent, dropped;
};

gboolean
gst_mnv3_mqtt_is_uri (const gchar * location)
{
  return location && g_str_has_prefix (location, GST_MNV3_MQTT_SCHEME "://");
}

/* ---- libmosquitto's network thread ------------------------------------- */

static void
on_connect (struct mosquitto *mosq, void *data, int rc)
{
  GstMnv3Mqtt *self = data;
  gboolean outage;

  g_mutex_lock (&self->lock);
  if (rc != 0) {
    /* The broker answered but refused us: it says why, once per outage. */
    outage = self->warned;
    self->warned = TRUE;
    g_mutex_unlock (&self->lock);
    if (!outage)
      GST_ELEMENT_WARNING (self->owner, RESOURCE, OPEN_WRITE,
          ("The MQTT broker at %s:%d refused the connection: %s.",
              self->host, self->port, mosquitto_connack_string (rc)),
          ("retrying; records are dropped and counted in records-dropped "
              "meanwhile"));
    return;
  }
  self->connected = TRUE;
  outage = self->warned;
  self->warned = FALSE;
  g_cond_broadcast (&self->changed);
  g_mutex_unlock (&self->lock);
  GST_INFO_OBJECT (self->owner, "connected to %s:%d", self->host, self->port);
  if (outage)
    GST_ELEMENT_INFO (self->owner, RESOURCE, OPEN_WRITE,
        ("Connected to the MQTT broker at %s:%d again.", self->host,
            self->port), (NULL));
}

static void
on_disconnect (struct mosquitto *mosq, void *data, int rc)
{
  GstMnv3Mqtt *self = data;
  gboolean warn, was_connected;
  guint lost;

  g_mutex_lock (&self->lock);
  /* Also called when a connection attempt fails. */
  was_connected = self->connected;
  /* What was queued on the connection is gone with it. */
  lost = self->in_flight;
  self->dropped += lost;
  self->in_flight = 0;
  self->session++;
  self->connected = FALSE;
  warn = !self->disconnecting && !self->warned;
  self->warned = self->warned || warn;
  g_cond_broadcast (&self->changed);
  g_mutex_unlock (&self->lock);
  GST_INFO_OBJECT (self->owner, "disconnected from %s:%d (%s), %u records "
      "lost", self->host, self->port, mosquitto_strerror (rc), lost);
  if (warn && was_connected)
    GST_ELEMENT_WARNING (self->owner, RESOURCE, WRITE,
        ("Lost the connection to the MQTT broker at %s:%d.", self->host,
            self->port), ("%s; reconnecting, records are dropped and counted "
            "in records-dropped meanwhile", mosquitto_strerror (rc)));
  else if (warn)
    GST_ELEMENT_WARNING (self->owner, RESOURCE, OPEN_WRITE,
        ("Could not connect to the MQTT broker at %s:%d.", self->host,
            self->port), ("%s; retrying, records are dropped and counted in "
            "records-dropped until connected", mosquitto_strerror (rc)));
}

static void
on_publish (struct mosquitto *mosq, void *data, int mid)
{
  GstMnv3Mqtt *self = data;

  g_mutex_lock (&self->lock);
  /* A record queued just before a loss and written after the reconnection
   * was already counted as dropped: not twice. */
  if (self->in_flight > 0) {
    self->in_flight--;
    self->sent++;
  }
  g_cond_broadcast (&self->changed);
  g_mutex_unlock (&self->lock);
}

/* ---- the element's side ------------------------------------------------ */

static gboolean
parse_uri (const gchar * location, gchar ** host, gint * port,
    gchar ** topic, GError ** error)
{
  GError *uri_error = NULL;
  GUri *uri = g_uri_parse (location, G_URI_FLAGS_NONE, &uri_error);
  const gchar *path;

  if (!uri) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "\"%s\" is not a valid URI (%s): give mqtt://HOST[:PORT]/TOPIC.",
        location, uri_error->message);
    g_error_free (uri_error);
    return FALSE;
  }
  path = g_uri_get_path (uri);
  if (!g_uri_get_host (uri) || !*g_uri_get_host (uri) || !path
      || strlen (path) < 2 || g_uri_get_query (uri)
      || g_uri_get_fragment (uri) || g_uri_get_userinfo (uri)) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "\"%s\" does not name a broker and a topic: give "
        "mqtt://HOST[:PORT]/TOPIC.", location);
    g_uri_unref (uri);
    return FALSE;
  }
  if (mosquitto_pub_topic_check (path + 1) != MOSQ_ERR_SUCCESS) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "\"%s\" is not a topic records can be published to (no + or # "
        "wildcards).", path + 1);
    g_uri_unref (uri);
    return FALSE;
  }
  *host = g_strdup (g_uri_get_host (uri));
  *port = g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : DEFAULT_PORT;
  *topic = g_strdup (path + 1);
  g_uri_unref (uri);
  return TRUE;
}

static gpointer
init_library (gpointer unused)
{
  mosquitto_lib_init ();
  return NULL;
}

GstMnv3Mqtt *
gst_mnv3_mqtt_new (GstElement * owner, const gchar * uri, GError ** error)
{
  static GOnce library = G_ONCE_INIT;
  GstMnv3Mqtt *self;
  int rc;

  g_once (&library, init_library, NULL);
  self = g_new0 (GstMnv3Mqtt, 1);
  self->owner = owner;
  g_mutex_init (&self->lock);
  g_cond_init (&self->changed);
  if (!parse_uri (uri, &self->host, &self->port, &self->topic, error)) {
    gst_mnv3_mqtt_free (self, NULL);
    return NULL;
  }
  self->mosq = mosquitto_new (NULL, TRUE, self);
  if (!self->mosq) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NO_SPACE_LEFT,
        "Could not create an MQTT client: %s.", g_strerror (errno));
    gst_mnv3_mqtt_free (self, NULL);
    return NULL;
  }
  mosquitto_connect_callback_set (self->mosq, on_connect);
  mosquitto_disconnect_callback_set (self->mosq, on_disconnect);
  mosquitto_publish_callback_set (self->mosq, on_publish);
  /* A restarted broker is found again within two seconds. */
  mosquitto_reconnect_delay_set (self->mosq, 1, 2, false);
  /* The thread first: it retries a connection that fails now. */
  rc = mosquitto_loop_start (self->mosq);
  if (rc == MOSQ_ERR_SUCCESS)
    rc = mosquitto_connect_async (self->mosq, self->host, self->port,
        KEEPALIVE_S);
  if (rc == MOSQ_ERR_ERRNO) {
    /* Refused or unreachable now: the thread keeps trying. */
    g_mutex_lock (&self->lock);
    self->warned = TRUE;
    g_mutex_unlock (&self->lock);
    GST_ELEMENT_WARNING (owner, RESOURCE, OPEN_WRITE,
        ("Could not connect to the MQTT broker at %s:%d: %s.", self->host,
            self->port, g_strerror (errno)),
        ("retrying; records are dropped and counted in records-dropped "
            "until connected"));
  } else if (rc != MOSQ_ERR_SUCCESS) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_WRITE,
        "Could not connect to the MQTT broker at %s:%d: %s.", self->host,
        self->port, mosquitto_strerror (rc));
    gst_mnv3_mqtt_free (self, NULL);
    return NULL;
  }
  GST_DEBUG_OBJECT (owner, "publishing to topic %s of %s:%d", self->topic,
      self->host, self->port);
  return self;
}

void
gst_mnv3_mqtt_publish (GstMnv3Mqtt * self, const gchar * data, gsize size)
{
  gboolean queue;
  guint64 session;
  int rc;

  g_mutex_lock (&self->lock);
  queue = self->connected && self->in_flight < MAX_IN_FLIGHT;
  if (queue)
    self->in_flight++;
  else
    self->dropped++;
  session = self->session;
  g_mutex_unlock (&self->lock);
  if (!queue)
    return;

  /* Not under our lock: libmosquitto takes its own, and calls on_publish
   * (which takes ours) from its thread. */
  rc = mosquitto_publish (self->mosq, NULL, self->topic, (int) size, data, 0,
      false);
  if (rc == MOSQ_ERR_SUCCESS)
    return;
  GST_LOG_OBJECT (self->owner, "record dropped: %s", mosquitto_strerror (rc));
  g_mutex_lock (&self->lock);
  /* Unless the loss that made it fail counted it already. */
  if (session == self->session) {
    self->in_flight--;
    self->dropped++;
  }
  g_mutex_unlock (&self->lock);
}

void
gst_mnv3_mqtt_drain (GstMnv3Mqtt * self, gint64 timeout_us)
{
  gint64 end = g_get_monotonic_time () + timeout_us;

  g_mutex_lock (&self->lock);
  while (self->in_flight > 0
      && g_cond_wait_until (&self->changed, &self->lock, end));
  g_mutex_unlock (&self->lock);
}

void
gst_mnv3_mqtt_get_stats (GstMnv3Mqtt * self, GstMnv3MqttStats * stats)
{
  g_mutex_lock (&self->lock);
  stats->sent = self->sent;
  stats->dropped = self->dropped;
  stats->connected = self->connected;
  g_mutex_unlock (&self->lock);
}

void
gst_mnv3_mqtt_free (GstMnv3Mqtt * self, GstMnv3MqttStats * stats)
{
  if (self->mosq) {
    gboolean timed_out = FALSE;
    gint64 end = g_get_monotonic_time () + DISCONNECT_TIMEOUT_US;

    g_mutex_lock (&self->lock);
    self->disconnecting = TRUE;
    g_mutex_unlock (&self->lock);
    /* The DISCONNECT goes after the queued records; a dead broker must not
     * keep the pipeline from stopping, hence the bounded wait. */
    if (mosquitto_disconnect (self->mosq) == MOSQ_ERR_SUCCESS) {
      g_mutex_lock (&self->lock);
      while (self->connected && !timed_out)
        timed_out = !g_cond_wait_until (&self->changed, &self->lock, end);
      g_mutex_unlock (&self->lock);
    }
    /* Cancelled only when stuck on a connection that does not close. */
    mosquitto_loop_stop (self->mosq, timed_out);
    mosquitto_destroy (self->mosq);
  }
  if (stats)
    gst_mnv3_mqtt_get_stats (self, stats);
  g_free (self->host);
  g_free (self->topic);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->changed);
  g_free (self);
}
