/* fj-batch.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-batch.h"
#include "fj-batch-private.h"

#include <string.h>

#include "fj-client-private.h"
#include "fj-error.h"
#include "fj-json-private.h"

/**
 * FjBatch:
 *
 * A fork submitted to the Message Batches API: everything needed to pick
 * it up later, in this process or another one.
 *
 * An [class@AgentRunner] in [enum@RunMode] batch mode creates one when it
 * submits the fork (one batch of the API, or several when the fork is over
 * the API's limits) and emits [signal@AgentRunner::batch-submitted]; save
 * it then with [method@Batch.save]. Load it later with
 * [ctor@Batch.new_from_file] and set it as the runner's
 * [property@AgentRunner:batch] to wait for the results instead of
 * submitting again, or cancel it with [method@Batch.cancel_async].
 *
 * Each agent's request carries a `custom_id` made of its index and name
 * (`a00042-writer`); the results, which come in any order, are mapped back
 * by it.
 *
 * The state file is JSON:
 *
 * ```json
 * {
 *   "format": "forkjoin-batch", "version": 1,
 *   "base_url": "https://api.anthropic.com",
 *   "created_at": "2026-11-30T02:19:27Z",
 *   "input": "the shared input",
 *   "agents": ["writer", "critic"],
 *   "batches": [{"id": "msgbatch_…", "custom_ids": ["a00000-writer", "a00001-critic"]}],
 *   "metadata": {"spec": "fork.json"}
 * }
 * ```
 *
 * Since: 1.0
 */

typedef struct
{
  char *id;
  GPtrArray *custom_ids;        /* utf8 */
  char *status;
  char *results_url;
  guint counts[5];              /* processing, succeeded, errored, canceled, expired */
} Entry;

struct _FjBatch
{
  GObject parent_instance;

  char *base_url;
  GDateTime *created_at;
  char *input;
  GPtrArray *agents;            /* utf8 */
  GArray *entries;              /* Entry */
  GPtrArray *ids;               /* NULL-terminated, for fj_batch_get_ids() */
  GHashTable *custom_ids;       /* custom_id → agent index + 1 */
  GHashTable *metadata;
};

G_DEFINE_FINAL_TYPE (FjBatch, fj_batch, G_TYPE_OBJECT)

static const char *const count_names[5] = { "processing", "succeeded", "errored", "canceled", "expired" };

static void
entry_clear (gpointer data)
{
  Entry *entry = data;

  g_free (entry->id);
  g_clear_pointer (&entry->custom_ids, g_ptr_array_unref);
  g_free (entry->status);
  g_free (entry->results_url);
}

static void
fj_batch_finalize (GObject *object)
{
  FjBatch *self = FJ_BATCH (object);

  g_free (self->base_url);
  g_clear_pointer (&self->created_at, g_date_time_unref);
  g_free (self->input);
  g_ptr_array_unref (self->agents);
  g_array_unref (self->entries);
  g_ptr_array_unref (self->ids);
  g_hash_table_unref (self->custom_ids);
  g_hash_table_unref (self->metadata);

  G_OBJECT_CLASS (fj_batch_parent_class)->finalize (object);
}

static void
fj_batch_class_init (FjBatchClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = fj_batch_finalize;
}

static void
fj_batch_init (FjBatch *self)
{
  self->agents = g_ptr_array_new_with_free_func (g_free);
  self->entries = g_array_new (FALSE, TRUE, sizeof (Entry));
  g_array_set_clear_func (self->entries, entry_clear);
  self->ids = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (self->ids, NULL);
  self->custom_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

/* Private API */

FjBatch *
_fj_batch_new (const char         *base_url,
               const char         *input,
               const char * const *agent_names,
               guint               n_agents)
{
  FjBatch *self = g_object_new (FJ_TYPE_BATCH, NULL);

  self->base_url = g_strdup (base_url);
  self->input = g_strdup (input);
  self->created_at = g_date_time_new_now_utc ();
  for (guint i = 0; i < n_agents; i++)
    g_ptr_array_add (self->agents, g_strdup (agent_names[i] ? agent_names[i] : ""));

  return self;
}

char *
_fj_batch_make_custom_id (guint       index,
                          const char *name)
{
  GString *id = g_string_new (NULL);

  g_string_printf (id, "a%05u", index);
  if (name != NULL && *name != '\0')
    {
      g_string_append_c (id, '-');
      for (const char *p = name; *p != '\0' && id->len < 64; p++)
        g_string_append_c (id, g_ascii_isalnum (*p) || *p == '-' || *p == '_' ? *p : '_');
    }

  return g_string_free (id, FALSE);
}

int
_fj_batch_lookup_custom_id (FjBatch    *self,
                            const char *custom_id)
{
  gpointer value = g_hash_table_lookup (self->custom_ids, custom_id);

  return value != NULL ? GPOINTER_TO_INT (value) - 1 : -1;
}

static guint
get_count (JsonObject *object,
           const char *name)
{
  JsonNode *node = object ? json_object_get_member (object, name) : NULL;

  if (node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
      (json_node_get_value_type (node) == G_TYPE_INT64 || json_node_get_value_type (node) == G_TYPE_DOUBLE))
    return (guint) CLAMP (json_node_get_int (node), 0, G_MAXUINT);

  return 0;
}

/* Updates @entry from a batch object of the API. */
static void
entry_update (Entry      *entry,
              JsonObject *object)
{
  const char *status = _fj_json_get_string (object, "processing_status");
  const char *url = _fj_json_get_string (object, "results_url");
  JsonNode *counts_node = json_object_get_member (object, "request_counts");
  JsonObject *counts = counts_node && JSON_NODE_HOLDS_OBJECT (counts_node) ?
                       json_node_get_object (counts_node) : NULL;

  if (status != NULL)
    {
      g_free (entry->status);
      entry->status = g_strdup (status);
    }
  if (url != NULL)
    {
      g_free (entry->results_url);
      entry->results_url = g_strdup (url);
    }
  if (counts != NULL)
    for (guint i = 0; i < G_N_ELEMENTS (count_names); i++)
      entry->counts[i] = get_count (counts, count_names[i]);
}

static gboolean
add_entry (FjBatch    *self,
           const char *id,
           GPtrArray  *custom_ids,
           GError    **error)
{
  Entry entry = { 0, };

  for (guint i = 0; i < custom_ids->len; i++)
    {
      const char *custom_id = g_ptr_array_index (custom_ids, i);
      guint64 index;

      index = g_ascii_strtoull (custom_id + 1, NULL, 10);
      if (custom_id[0] != 'a' || !g_ascii_isdigit (custom_id[1]) || index >= self->agents->len)
        {
          g_set_error (error, FJ_ERROR, FJ_ERROR_SPEC,
                       "custom_id \"%s\" of batch %s does not name one of the %u agents",
                       custom_id, id, self->agents->len);
          return FALSE;
        }
      if (g_hash_table_contains (self->custom_ids, custom_id))
        {
          g_set_error (error, FJ_ERROR, FJ_ERROR_SPEC,
                       "custom_id \"%s\" appears twice", custom_id);
          return FALSE;
        }
      g_hash_table_insert (self->custom_ids, g_strdup (custom_id), GINT_TO_POINTER ((int) index + 1));
    }

  entry.id = g_strdup (id);
  entry.custom_ids = g_ptr_array_ref (custom_ids);
  entry.status = g_strdup ("in_progress");
  entry.counts[0] = custom_ids->len;
  g_array_append_val (self->entries, entry);

  g_ptr_array_remove_index (self->ids, self->ids->len - 1);
  g_ptr_array_add (self->ids, g_strdup (id));
  g_ptr_array_add (self->ids, NULL);

  return TRUE;
}

void
_fj_batch_add (FjBatch    *self,
               const char *id,
               GPtrArray  *custom_ids,
               JsonObject *object)
{
  g_autoptr(GPtrArray) ids = custom_ids;
  g_autoptr(GError) error = NULL;

  if (!add_entry (self, id, ids, &error))
    g_warning ("%s", error->message);
  else if (object != NULL)
    entry_update (&g_array_index (self->entries, Entry, self->entries->len - 1), object);
}

guint
_fj_batch_get_n_batches (FjBatch *self)
{
  return self->entries->len;
}

const char *
_fj_batch_get_nth_id (FjBatch *self,
                      guint    i)
{
  g_return_val_if_fail (i < self->entries->len, NULL);

  return g_array_index (self->entries, Entry, i).id;
}

GPtrArray *
_fj_batch_get_nth_custom_ids (FjBatch *self,
                              guint    i)
{
  g_return_val_if_fail (i < self->entries->len, NULL);

  return g_array_index (self->entries, Entry, i).custom_ids;
}

const char *
_fj_batch_get_nth_status (FjBatch *self,
                          guint    i)
{
  g_return_val_if_fail (i < self->entries->len, NULL);

  return g_array_index (self->entries, Entry, i).status;
}

const char *
_fj_batch_get_nth_results_url (FjBatch *self,
                               guint    i)
{
  g_return_val_if_fail (i < self->entries->len, NULL);

  return g_array_index (self->entries, Entry, i).results_url;
}

/* Loading and saving */

static gboolean G_GNUC_PRINTF (3, 4)
field_error (GError     **error,
             const char  *path,
             const char  *format,
             ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (error, FJ_ERROR, FJ_ERROR_SPEC, "%s: %s", path, text);
  return FALSE;
}

static const char *
member_string (JsonObject  *object,
               const char  *name,
               const char  *where,
               const char  *path,
               GError     **error)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL)
    {
      field_error (error, path, "%s%s: missing", where, name);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      field_error (error, path, "%s%s: expected a string, got %s", where, name,
                   _fj_json_describe_type (node));
      return NULL;
    }

  return json_node_get_string (node);
}

static JsonArray *
member_array (JsonObject  *object,
              const char  *name,
              const char  *where,
              const char  *path,
              GError     **error)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL)
    {
      field_error (error, path, "%s%s: missing", where, name);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      field_error (error, path, "%s%s: expected an array, got %s", where, name,
                   _fj_json_describe_type (node));
      return NULL;
    }

  return json_node_get_array (node);
}

static GPtrArray *
string_array (JsonArray   *array,
              const char  *where,
              const char  *path,
              GError     **error)
{
  g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);

      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
        {
          field_error (error, path, "%s[%u]: expected a string, got %s", where, i,
                       _fj_json_describe_type (node));
          return NULL;
        }
      g_ptr_array_add (strings, g_strdup (json_node_get_string (node)));
    }

  return g_steal_pointer (&strings);
}

static FjBatch *
batch_from_root (JsonNode    *root,
                 const char  *path,
                 GError     **error)
{
  static const char *const allowed[] = { "format", "version", "base_url", "created_at", "input",
                                         "agents", "batches", "metadata", NULL };
  g_autoptr(FjBatch) self = g_object_new (FJ_TYPE_BATCH, NULL);
  g_autoptr(GPtrArray) agents = NULL;
  g_autoptr(GList) members = NULL;
  JsonObject *object;
  JsonArray *array;
  JsonNode *node;
  const char *text;

  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      field_error (error, path, "expected a batch state object, got %s",
                   root ? _fj_json_describe_type (root) : "nothing");
      return NULL;
    }
  object = json_node_get_object (root);

  members = json_object_get_members (object);
  for (const GList *l = members; l != NULL; l = l->next)
    if (!g_strv_contains (allowed, l->data))
      {
        field_error (error, path, "%s: unknown member", (const char *) l->data);
        return NULL;
      }

  if ((text = member_string (object, "format", "", path, error)) == NULL)
    return NULL;
  if (strcmp (text, "forkjoin-batch") != 0)
    {
      field_error (error, path, "format: expected \"forkjoin-batch\", got \"%s\"", text);
      return NULL;
    }

  node = json_object_get_member (object, "version");
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64 || json_node_get_int (node) != 1)
    {
      field_error (error, path, "version: expected 1%s", node == NULL ? ", missing" : "");
      return NULL;
    }

  if ((text = member_string (object, "base_url", "", path, error)) == NULL)
    return NULL;
  self->base_url = g_strdup (text);

  if ((text = member_string (object, "created_at", "", path, error)) == NULL)
    return NULL;
  self->created_at = g_date_time_new_from_iso8601 (text, NULL);
  if (self->created_at == NULL)
    {
      field_error (error, path, "created_at: expected an ISO 8601 date and time, got \"%s\"", text);
      return NULL;
    }

  if ((text = member_string (object, "input", "", path, error)) == NULL)
    return NULL;
  self->input = g_strdup (text);

  if ((array = member_array (object, "agents", "", path, error)) == NULL ||
      (agents = string_array (array, "agents", path, error)) == NULL)
    return NULL;
  if (agents->len == 0)
    {
      field_error (error, path, "agents: expected at least one agent");
      return NULL;
    }
  g_ptr_array_extend_and_steal (self->agents, g_steal_pointer (&agents));

  if ((array = member_array (object, "batches", "", path, error)) == NULL)
    return NULL;
  if (json_array_get_length (array) == 0)
    {
      field_error (error, path, "batches: expected at least one batch");
      return NULL;
    }
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      g_autofree char *where = g_strdup_printf ("batches[%u].", i);
      g_autofree char *ids_where = g_strdup_printf ("batches[%u].custom_ids", i);
      g_autoptr(GPtrArray) custom_ids = NULL;
      g_autoptr(GError) local_error = NULL;
      JsonArray *ids;
      const char *id;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        {
          field_error (error, path, "batches[%u]: expected an object, got %s", i,
                       _fj_json_describe_type (element));
          return NULL;
        }
      if ((id = member_string (json_node_get_object (element), "id", where, path, error)) == NULL ||
          (ids = member_array (json_node_get_object (element), "custom_ids", where, path, error)) == NULL ||
          (custom_ids = string_array (ids, ids_where, path, error)) == NULL)
        return NULL;
      if (*id == '\0' || strchr (id, '/') != NULL || strchr (id, '?') != NULL)
        {
          field_error (error, path, "%sid: not a batch id: \"%s\"", where, id);
          return NULL;
        }
      if (!add_entry (self, id, custom_ids, &local_error))
        {
          field_error (error, path, "%s: %s", ids_where, local_error->message);
          return NULL;
        }
      /* Unknown until refreshed. */
      g_clear_pointer (&g_array_index (self->entries, Entry, i).status, g_free);
    }

  node = json_object_get_member (object, "metadata");
  if (node != NULL)
    {
      JsonObject *metadata;
      g_autoptr(GList) keys = NULL;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          field_error (error, path, "metadata: expected an object, got %s", _fj_json_describe_type (node));
          return NULL;
        }
      metadata = json_node_get_object (node);
      keys = json_object_get_members (metadata);
      for (const GList *l = keys; l != NULL; l = l->next)
        {
          g_autofree char *where = g_strdup_printf ("metadata.");

          if ((text = member_string (metadata, l->data, where, path, error)) == NULL)
            return NULL;
          g_hash_table_insert (self->metadata, g_strdup (l->data), g_strdup (text));
        }
    }

  return g_steal_pointer (&self);
}

/**
 * fj_batch_new_from_file:
 * @path: (type filename): a state file written by [method@Batch.save]
 * @error: return location for a #GError
 *
 * Loads a submitted fork from its state file.
 *
 * Errors are %FJ_ERROR_SPEC and name the file, and the place
 * (`state.json:3:7: …`) or the member (`state.json: batches[0].id:
 * missing`) that is wrong; a file that cannot be read gives its
 * %G_FILE_ERROR.
 *
 * Returns: (transfer full): the batch, or %NULL with @error set
 *
 * Since: 1.0
 */
FjBatch *
fj_batch_new_from_file (const char  *path,
                        GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *data = NULL;
  const char *problem = NULL;
  gsize length;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_file_get_contents (path, &data, &length, error))
    return NULL;

  if (!g_utf8_validate (data, (gssize) length, NULL))
    {
      field_error (error, path, "not UTF-8 text");
      return NULL;
    }

  if (!_fj_json_check_depth (data, length, FJ_JSON_MAX_DEPTH))
    {
      field_error (error, path, "nested deeper than %u levels", FJ_JSON_MAX_DEPTH);
      return NULL;
    }
  if (!_fj_json_check_for_parser (data, length, &problem))
    {
      field_error (error, path, "not valid JSON: %s", problem ? problem : "trailing content");
      return NULL;
    }

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, (gssize) length, &local_error))
    {
      const char *message = local_error->message;

      /* json-glib says "<data>:LINE:COL: Parse error: …". */
      if (g_str_has_prefix (message, "<data>:"))
        g_set_error (error, FJ_ERROR, FJ_ERROR_SPEC, "%s:%s", path, message + strlen ("<data>:"));
      else
        field_error (error, path, "%s", message);
      return NULL;
    }

  return batch_from_root (json_parser_get_root (parser), path, error);
}

/**
 * fj_batch_save:
 * @self: a #FjBatch
 * @path: (type filename): where to write the state file
 * @error: return location for a #GError
 *
 * Writes the batch's state file, atomically (a new file renamed over the
 * old one) and readable by its owner only: it holds the input.
 *
 * Returns: %TRUE when written
 *
 * Since: 1.0
 */
gboolean
fj_batch_save (FjBatch     *self,
               const char  *path,
               GError     **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GList) keys = NULL;
  g_autofree char *created = NULL;
  g_autofree char *data = NULL;
  gsize length;

  g_return_val_if_fail (FJ_IS_BATCH (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  created = g_date_time_format_iso8601 (self->created_at);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "format");
  json_builder_add_string_value (builder, "forkjoin-batch");
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, 1);
  json_builder_set_member_name (builder, "base_url");
  json_builder_add_string_value (builder, self->base_url ? self->base_url : "");
  json_builder_set_member_name (builder, "created_at");
  json_builder_add_string_value (builder, created);
  json_builder_set_member_name (builder, "input");
  json_builder_add_string_value (builder, self->input ? self->input : "");
  json_builder_set_member_name (builder, "agents");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->agents->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (self->agents, i));
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "batches");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->entries->len; i++)
    {
      Entry *entry = &g_array_index (self->entries, Entry, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "id");
      json_builder_add_string_value (builder, entry->id);
      json_builder_set_member_name (builder, "custom_ids");
      json_builder_begin_array (builder);
      for (guint j = 0; j < entry->custom_ids->len; j++)
        json_builder_add_string_value (builder, g_ptr_array_index (entry->custom_ids, j));
      json_builder_end_array (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "metadata");
  json_builder_begin_object (builder);
  keys = g_list_sort (g_hash_table_get_keys (self->metadata), (GCompareFunc) strcmp);
  for (const GList *l = keys; l != NULL; l = l->next)
    {
      json_builder_set_member_name (builder, l->data);
      json_builder_add_string_value (builder, g_hash_table_lookup (self->metadata, l->data));
    }
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  data = json_generator_to_data (generator, &length);

  return g_file_set_contents_full (path, data, (gssize) length,
                                   G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

/* Getters */

/**
 * fj_batch_get_ids:
 * @self: a #FjBatch
 *
 * Gets the ids of the API's batches the fork was submitted as
 * (`msgbatch_…`), in submission order.
 *
 * Returns: (transfer none) (array zero-terminated=1): the batch ids
 *
 * Since: 1.0
 */
const char * const *
fj_batch_get_ids (FjBatch *self)
{
  g_return_val_if_fail (FJ_IS_BATCH (self), NULL);

  return (const char * const *) self->ids->pdata;
}

/**
 * fj_batch_get_input:
 * @self: a #FjBatch
 *
 * Gets the input every agent of the fork answers.
 *
 * Returns: (transfer none): the input
 *
 * Since: 1.0
 */
const char *
fj_batch_get_input (FjBatch *self)
{
  g_return_val_if_fail (FJ_IS_BATCH (self), NULL);

  return self->input;
}

/**
 * fj_batch_get_n_agents:
 * @self: a #FjBatch
 *
 * Gets the number of agents of the fork, submitted or not.
 *
 * Returns: the number of agents
 *
 * Since: 1.0
 */
guint
fj_batch_get_n_agents (FjBatch *self)
{
  g_return_val_if_fail (FJ_IS_BATCH (self), 0);

  return self->agents->len;
}

/**
 * fj_batch_get_agent_name:
 * @self: a #FjBatch
 * @i: an agent index, below [method@Batch.get_n_agents]
 *
 * Gets the name of the fork's agent @i.
 *
 * Returns: (transfer none): the name (empty for an unnamed agent)
 *
 * Since: 1.0
 */
const char *
fj_batch_get_agent_name (FjBatch *self,
                         guint    i)
{
  g_return_val_if_fail (FJ_IS_BATCH (self), NULL);
  g_return_val_if_fail (i < self->agents->len, NULL);

  return g_ptr_array_index (self->agents, i);
}

/**
 * fj_batch_get_base_url:
 * @self: a #FjBatch
 *
 * Gets the base URL of the API the batches were submitted to.
 *
 * Returns: (transfer none): the base URL
 *
 * Since: 1.0
 */
const char *
fj_batch_get_base_url (FjBatch *self)
{
  g_return_val_if_fail (FJ_IS_BATCH (self), NULL);

  return self->base_url;
}

/**
 * fj_batch_get_created_at:
 * @self: a #FjBatch
 *
 * Gets when the fork was submitted.
 *
 * Returns: (transfer none): the submission time, in UTC
 *
 * Since: 1.0
 */
GDateTime *
fj_batch_get_created_at (FjBatch *self)
{
  g_return_val_if_fail (FJ_IS_BATCH (self), NULL);

  return self->created_at;
}

/**
 * fj_batch_get_metadata:
 * @self: a #FjBatch
 * @key: a metadata key
 *
 * Gets a value the application stored with the batch.
 *
 * Returns: (transfer none) (nullable): the value, or %NULL when unset
 *
 * Since: 1.0
 */
const char *
fj_batch_get_metadata (FjBatch    *self,
                       const char *key)
{
  g_return_val_if_fail (FJ_IS_BATCH (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  return g_hash_table_lookup (self->metadata, key);
}

/**
 * fj_batch_set_metadata:
 * @self: a #FjBatch
 * @key: a metadata key
 * @value: (nullable): the value, or %NULL to remove it
 *
 * Stores a string with the batch, saved in its state file (the command
 * line tool stores the spec's path, text and digest there).
 *
 * Since: 1.0
 */
void
fj_batch_set_metadata (FjBatch    *self,
                       const char *key,
                       const char *value)
{
  g_return_if_fail (FJ_IS_BATCH (self));
  g_return_if_fail (key != NULL);

  if (value == NULL)
    g_hash_table_remove (self->metadata, key);
  else
    g_hash_table_insert (self->metadata, g_strdup (key), g_strdup (value));
}

/**
 * fj_batch_get_processing_status:
 * @self: a #FjBatch
 *
 * Gets the state of the fork's batches as last refreshed: `ended` when
 * every batch ended, `canceling` when one is being cancelled, else
 * `in_progress`. A batch loaded from a file and not refreshed yet is
 * `in_progress`.
 *
 * Returns: (transfer none): the processing status
 *
 * Since: 1.0
 */
const char *
fj_batch_get_processing_status (FjBatch *self)
{
  gboolean all_ended = TRUE;
  gboolean canceling = FALSE;

  g_return_val_if_fail (FJ_IS_BATCH (self), NULL);

  for (guint i = 0; i < self->entries->len; i++)
    {
      const char *status = g_array_index (self->entries, Entry, i).status;

      if (g_strcmp0 (status, "ended") != 0)
        all_ended = FALSE;
      if (g_strcmp0 (status, "canceling") == 0)
        canceling = TRUE;
    }

  if (all_ended && self->entries->len > 0)
    return "ended";
  return canceling ? "canceling" : "in_progress";
}

/**
 * fj_batch_get_request_counts:
 * @self: a #FjBatch
 * @processing: (out) (optional): requests not done yet
 * @succeeded: (out) (optional): requests that succeeded
 * @errored: (out) (optional): requests that failed
 * @canceled: (out) (optional): requests cancelled before they ran
 * @expired: (out) (optional): requests that expired before they ran
 *
 * Gets the numbers of requests in each state, over every batch of the
 * fork, as last refreshed.
 *
 * Since: 1.0
 */
void
fj_batch_get_request_counts (FjBatch *self,
                             guint   *processing,
                             guint   *succeeded,
                             guint   *errored,
                             guint   *canceled,
                             guint   *expired)
{
  guint totals[5] = { 0, };
  guint *outs[5] = { processing, succeeded, errored, canceled, expired };

  g_return_if_fail (FJ_IS_BATCH (self));

  for (guint i = 0; i < self->entries->len; i++)
    for (guint j = 0; j < 5; j++)
      totals[j] += g_array_index (self->entries, Entry, i).counts[j];

  for (guint j = 0; j < 5; j++)
    if (outs[j] != NULL)
      *outs[j] = totals[j];
}

/* Refreshing and cancelling */

typedef struct
{
  FjClient *client;
  guint next;
  gboolean cancel;
} Walk;

static void
walk_free (gpointer data)
{
  Walk *walk = data;

  g_clear_object (&walk->client);
  g_free (walk);
}

static void walk_next (GTask *task);

static void
walk_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FjBatch *self = g_task_get_source_object (task);
  Walk *walk = g_task_get_task_data (task);
  Entry *entry = &g_array_index (self->entries, Entry, walk->next);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  gsize length;
  const char *data;

  bytes = _fj_client_call_finish (FJ_CLIENT (object), result, &error);
  if (bytes == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_prefix_error (&error, "batch %s: ", entry->id);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  data = g_bytes_get_data (bytes, &length);
  root = _fj_json_parse_network (data, length, NULL, NULL, &error);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_task_return_new_error (task, FJ_ERROR, FJ_ERROR_PROTOCOL,
                               "batch %s: the reply %s", entry->id,
                               error ? error->message : "is not a JSON object");
      return;
    }

  entry_update (entry, json_node_get_object (root));
  walk->next++;
  walk_next (g_steal_pointer (&task));
}

static void
walk_next (GTask *task)
{
  FjBatch *self = g_task_get_source_object (task);
  Walk *walk = g_task_get_task_data (task);

  while (walk->next < self->entries->len)
    {
      Entry *entry = &g_array_index (self->entries, Entry, walk->next);
      g_autofree char *path = NULL;

      if (walk->cancel && g_strcmp0 (entry->status, "ended") == 0)
        {
          walk->next++;
          continue;
        }

      path = g_strdup_printf ("/v1/messages/batches/%s%s", entry->id, walk->cancel ? "/cancel" : "");
      _fj_client_call_async (walk->client, walk->cancel ? "POST" : "GET", path, NULL,
                             g_task_get_cancellable (task), walk_cb, task);
      return;
    }

  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
walk_start (FjBatch             *self,
            FjClient            *client,
            gboolean             cancel,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data,
            gpointer             source_tag)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Walk *walk = g_new0 (Walk, 1);

  g_task_set_source_tag (task, source_tag);
  walk->client = g_object_ref (client);
  walk->cancel = cancel;
  g_task_set_task_data (task, walk, walk_free);

  walk_next (task);
}

/**
 * fj_batch_refresh_async:
 * @self: a #FjBatch
 * @client: the #FjClient to ask with (the API of [method@Batch.get_base_url])
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when done
 * @user_data: data for @callback
 *
 * Retrieves every batch of the fork, updating
 * [method@Batch.get_processing_status] and
 * [method@Batch.get_request_counts].
 *
 * Since: 1.0
 */
void
fj_batch_refresh_async (FjBatch             *self,
                        FjClient            *client,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_return_if_fail (FJ_IS_BATCH (self));
  g_return_if_fail (FJ_IS_CLIENT (client));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  walk_start (self, client, FALSE, cancellable, callback, user_data, fj_batch_refresh_async);
}

/**
 * fj_batch_refresh_finish:
 * @self: a #FjBatch
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Batch.refresh_async]. An unknown batch id fails with
 * %FJ_ERROR_NOT_FOUND naming the batch.
 *
 * Returns: %TRUE when every batch was retrieved
 *
 * Since: 1.0
 */
gboolean
fj_batch_refresh_finish (FjBatch       *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (FJ_IS_BATCH (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * fj_batch_cancel_async:
 * @self: a #FjBatch
 * @client: the #FjClient to ask with
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when done
 * @user_data: data for @callback
 *
 * Asks the API to cancel every batch of the fork that has not ended
 * (as last refreshed). Cancelling takes a moment: the batches are
 * `canceling` until the API ends them, their requests not yet done then
 * `canceled`; refresh to see it.
 *
 * Since: 1.0
 */
void
fj_batch_cancel_async (FjBatch             *self,
                       FjClient            *client,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_return_if_fail (FJ_IS_BATCH (self));
  g_return_if_fail (FJ_IS_CLIENT (client));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  walk_start (self, client, TRUE, cancellable, callback, user_data, fj_batch_cancel_async);
}

/**
 * fj_batch_cancel_finish:
 * @self: a #FjBatch
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Batch.cancel_async].
 *
 * Returns: %TRUE when every batch not ended was asked to cancel
 *
 * Since: 1.0
 */
gboolean
fj_batch_cancel_finish (FjBatch       *self,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (FJ_IS_BATCH (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
