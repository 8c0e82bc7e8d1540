/* mnv3 GStreamer plugin: the process-wide model cache.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmnv3modelcache.h"

#include <stdlib.h>

GST_DEBUG_CATEGORY_STATIC (gst_mnv3_model_cache_debug);
#define GST_CAT_DEFAULT gst_mnv3_model_cache_debug

typedef struct {
  mnv3_model *model;
  guint users;
} CacheEntry;

static GMutex cache_lock;
static GHashTable *cache;       /* key -> CacheEntry */

static gchar *
canonical_path (const gchar * path)
{
  /* A path that does not resolve is kept as given: loading it will fail with
   * the engine's message naming it. */
  char *real = realpath (path, NULL);
  gchar *result = g_strdup (real ? real : path);
  free (real);
  return result;
}

mnv3_model *
gst_mnv3_model_cache_acquire (const gchar * config, const gchar * weights,
    gchar ** key, mnv3_error * error)
{
  gchar *config_real = canonical_path (config);
  gchar *weights_real = weights ? canonical_path (weights) : g_strdup ("");
  gchar *k = g_strconcat (config_real, "\n", weights_real, NULL);
  CacheEntry *entry;

  g_free (config_real);
  g_free (weights_real);

  /* Loading under the lock makes a second element with the same config wait
   * for the first load instead of loading the model twice. */
  g_mutex_lock (&cache_lock);
  if (!cache) {
    GST_DEBUG_CATEGORY_INIT (gst_mnv3_model_cache_debug, "mnv3modelcache", 0,
        "mnv3 models shared by the elements");
    cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  }
  entry = g_hash_table_lookup (cache, k);
  if (!entry) {
    mnv3_model *model = mnv3_model_load (config, weights, error);
    if (!model) {
      g_mutex_unlock (&cache_lock);
      g_free (k);
      return NULL;
    }
    entry = g_new0 (CacheEntry, 1);
    entry->model = model;
    g_hash_table_insert (cache, g_strdup (k), entry);
    GST_INFO ("loaded model %s (%s, %d classes)", config,
        mnv3_model_architecture (model), mnv3_model_num_classes (model));
  }
  entry->users++;
  g_mutex_unlock (&cache_lock);
  *key = k;
  return entry->model;
}

void
gst_mnv3_model_cache_release (const gchar * key)
{
  CacheEntry *entry;

  g_mutex_lock (&cache_lock);
  entry = cache ? g_hash_table_lookup (cache, key) : NULL;
  g_assert (entry != NULL);
  if (--entry->users == 0) {
    /* Nobody uses it any more: free the memory now rather than keeping every
     * model a process ever used. */
    mnv3_model_unref (entry->model);
    g_hash_table_remove (cache, key);
  }
  g_mutex_unlock (&cache_lock);
}
