/* fj-models.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "fj-data-resources.h"
#include "fj-models-private.h"

#define MODELS_RESOURCE "/org/gnome/Forkjoin/data/models.json"
/* When the table has no default of its own. */
#define FALLBACK_CACHE_MIN_TOKENS 1024

typedef struct
{
  guint default_min;
  GHashTable *by_prefix;        /* model name prefix → GUINT_TO_POINTER (tokens) */
} CacheTable;

static gboolean
read_tokens (JsonNode *node,
             guint    *tokens)
{
  gint64 value;

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;

  value = json_node_get_int (node);
  if (value <= 0 || value > G_MAXUINT)
    return FALSE;

  *tokens = (guint) value;
  return TRUE;
}

static CacheTable *
get_cache_table (void)
{
  static CacheTable *table = NULL;

  if (g_once_init_enter (&table))
    {
      CacheTable *t = g_new0 (CacheTable, 1);
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GError) error = NULL;

      t->default_min = FALLBACK_CACHE_MIN_TOKENS;
      t->by_prefix = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

      /* Compiled in: failing here is a build problem. */
      bytes = g_resource_lookup_data (_fj_data_get_resource (), MODELS_RESOURCE,
                                      G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
      if (bytes != NULL &&
          json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL),
                                      g_bytes_get_size (bytes), &error) &&
          JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        {
          JsonObject *root = json_node_get_object (json_parser_get_root (parser));
          JsonNode *mins = json_object_get_member (root, "cache_min_tokens");

          if (mins != NULL && JSON_NODE_HOLDS_OBJECT (mins))
            {
              JsonObjectIter iter;
              const char *name;
              JsonNode *value;

              json_object_iter_init (&iter, json_node_get_object (mins));
              while (json_object_iter_next (&iter, &name, &value))
                {
                  guint tokens;

                  if (name[0] == '$' || !read_tokens (value, &tokens))
                    continue;
                  if (strcmp (name, "default") == 0)
                    t->default_min = tokens;
                  else
                    g_hash_table_insert (t->by_prefix, g_strdup (name), GUINT_TO_POINTER (tokens));
                }
            }
        }
      else
        g_critical ("Cannot read the model table %s: %s", MODELS_RESOURCE,
                    error ? error->message : "not an object");

      g_once_init_leave (&table, t);
    }

  return table;
}

guint
_fj_model_cache_min_tokens (const char *model)
{
  CacheTable *table = get_cache_table ();
  GHashTableIter iter;
  gpointer key;
  gpointer value;
  gsize best_length = 0;
  guint best = table->default_min;

  if (model == NULL)
    return best;

  g_hash_table_iter_init (&iter, table->by_prefix);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      gsize length = strlen (key);

      if (length > best_length && g_str_has_prefix (model, key))
        {
          best_length = length;
          best = GPOINTER_TO_UINT (value);
        }
    }

  return best;
}
