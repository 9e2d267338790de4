/* fj-simulator-scenario.c — loading and checking simulator scenarios
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-simulator-scenario-private.h"

#include <math.h>
#include <string.h>

#include "fj-error.h"
#include "fj-spec-parser-private.h"

/* Errors read "NAME:LINE:COL: PATH: MESSAGE", as for specs. The loader
 * names fields by path; the place of a path is looked up in a map from
 * each path of the document to its node, made on the first error (a
 * scenario that loads never needs it). */
typedef struct
{
  const char      *name;
  FjSpecDocument  *doc;
  GHashTable      *nodes;  /* path -> JsonNode *, owned by doc; NULL until needed */
  GError         **error;
} ParseContext;

static void
add_nodes (GHashTable *nodes,
           JsonNode   *node,
           GString    *path)
{
  gsize mark = path->len;

  /* Two paths can be spelt the same ("a.b" as a member of a, or a
   * member named "a.b"); the first keeps it. */
  if (!g_hash_table_contains (nodes, path->str))
    g_hash_table_insert (nodes, g_strdup (path->str), node);

  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *object = json_node_get_object (node);
      g_autoptr(GList) members = json_object_get_members (object);

      for (const GList *l = members; l != NULL; l = l->next)
        {
          if (path->len > 0)
            g_string_append_c (path, '.');
          g_string_append (path, l->data);
          add_nodes (nodes, json_object_get_member (object, l->data), path);
          g_string_truncate (path, mark);
        }
    }
  else if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          g_string_append_printf (path, "[%u]", i);
          add_nodes (nodes, json_array_get_element (array, i), path);
          g_string_truncate (path, mark);
        }
    }
}

/* Where @path is: its value, or with @at_name the member's name. A path
 * that is not in the document (a required member that is missing) is
 * placed at the longest prefix that is: the object it belongs in. */
static FjSpecPosition
locate (ParseContext *ctx,
        const char   *path,
        gboolean      at_name)
{
  g_autofree char *prefix = g_strdup (path ? path : "");
  gboolean exact = TRUE;

  if (ctx->nodes == NULL)
    {
      g_autoptr(GString) scratch = g_string_new (NULL);

      ctx->nodes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      add_nodes (ctx->nodes, _fj_spec_document_get_root (ctx->doc), scratch);
    }

  for (;;)
    {
      JsonNode *node = g_hash_table_lookup (ctx->nodes, prefix);
      char *cut;

      if (node != NULL)
        return exact && at_name
               ? _fj_spec_document_get_name_position (ctx->doc, node)
               : _fj_spec_document_get_position (ctx->doc, node);

      g_assert (*prefix != '\0');
      cut = prefix + strlen (prefix);
      while (cut > prefix && *cut != '.' && *cut != '[')
        cut--;
      *cut = '\0';
      exact = FALSE;
    }
}

G_GNUC_PRINTF (4, 0)
static gboolean
fail_valist (ParseContext *ctx,
             const char   *path,
             gboolean      at_name,
             const char   *format,
             va_list       args)
{
  g_autofree char *message = g_strdup_vprintf (format, args);
  g_autofree char *text = NULL;
  FjSpecProblem problem;

  problem.position = locate (ctx, path, at_name);
  problem.path = (char *) (path ? path : "");
  problem.message = message;
  text = _fj_spec_problem_format (&problem, ctx->name);
  g_set_error_literal (ctx->error, FJ_ERROR, FJ_ERROR_SPEC, text);

  return FALSE;
}

static gboolean fail (ParseContext *ctx,
                      const char   *path,
                      const char   *format,
                      ...) G_GNUC_PRINTF (3, 4);

/* An error at the value at @path. */
static gboolean
fail (ParseContext *ctx,
      const char   *path,
      const char   *format,
      ...)
{
  va_list args;

  va_start (args, format);
  fail_valist (ctx, path, FALSE, format, args);
  va_end (args);

  return FALSE;
}

static gboolean fail_at_name (ParseContext *ctx,
                              const char   *path,
                              const char   *format,
                              ...) G_GNUC_PRINTF (3, 4);

/* An error at the name of the member at @path (an unknown key). */
static gboolean
fail_at_name (ParseContext *ctx,
              const char   *path,
              const char   *format,
              ...)
{
  va_list args;

  va_start (args, format);
  fail_valist (ctx, path, TRUE, format, args);
  va_end (args);

  return FALSE;
}

static char *
join_path (const char *prefix,
           const char *key)
{
  if (prefix == NULL || *prefix == '\0')
    return g_strdup (key);
  return g_strdup_printf ("%s.%s", prefix, key);
}

static guint
edit_distance (const char *a,
               const char *b)
{
  gsize la = strlen (a);
  gsize lb = strlen (b);
  g_autofree guint *row = g_new (guint, lb + 1);

  for (gsize j = 0; j <= lb; j++)
    row[j] = j;

  for (gsize i = 1; i <= la; i++)
    {
      guint diagonal = row[0];

      row[0] = i;
      for (gsize j = 1; j <= lb; j++)
        {
          guint above = row[j];
          guint cost = g_ascii_tolower (a[i - 1]) == g_ascii_tolower (b[j - 1]) ? 0 : 1;

          row[j] = MIN (MIN (row[j] + 1, row[j - 1] + 1), diagonal + cost);
          diagonal = above;
        }
    }

  return row[lb];
}

static gboolean
check_keys (ParseContext       *ctx,
            JsonObject         *object,
            const char         *path,
            const char * const *allowed)
{
  g_autoptr(GList) members = json_object_get_members (object);

  for (const GList *l = members; l != NULL; l = l->next)
    {
      const char *key = l->data;
      g_autofree char *key_path = NULL;
      g_autofree char *valid = NULL;
      const char *best = NULL;
      guint best_distance = G_MAXUINT;

      if (g_strv_contains (allowed, key))
        continue;

      for (guint i = 0; allowed[i] != NULL; i++)
        {
          guint d = edit_distance (key, allowed[i]);

          if (d < best_distance)
            {
              best_distance = d;
              best = allowed[i];
            }
        }

      key_path = join_path (path, key);
      if (best != NULL && best_distance <= MAX (2, strlen (key) / 3))
        return fail_at_name (ctx, key_path, "unknown key (did you mean \"%s\"?)", best);

      valid = g_strjoinv (", ", (char **) allowed);
      return fail_at_name (ctx, key_path, "unknown key (expected one of %s)", valid);
    }

  return TRUE;
}

static gboolean
node_is_number (JsonNode *node)
{
  GType type;

  if (!JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  type = json_node_get_value_type (node);
  return type == G_TYPE_INT64 || type == G_TYPE_DOUBLE;
}

static gboolean
get_number (ParseContext *ctx,
            JsonNode     *node,
            const char   *path,
            const char   *expected,
            double       *out)
{
  double value;

  if (!node_is_number (node))
    return fail (ctx, path, "expected %s", expected);

  value = json_node_get_double (node);
  if (!isfinite (value))
    return fail (ctx, path, "expected %s", expected);
  if (value < 0)
    return fail (ctx, path, "must not be negative (expected %s)", expected);

  *out = value;
  return TRUE;
}

static gboolean
get_uint (ParseContext *ctx,
          JsonNode     *node,
          const char   *path,
          guint        *out)
{
  double value;

  if (!node_is_number (node))
    return fail (ctx, path, "expected a whole number");

  value = json_node_get_double (node);
  if (value < 0)
    return fail (ctx, path, "must not be negative (expected a whole number)");
  if (value != floor (value) || value > G_MAXUINT)
    return fail (ctx, path, "expected a whole number");

  *out = (guint) value;
  return TRUE;
}

static gboolean
get_bool (ParseContext *ctx,
          JsonNode     *node,
          const char   *path,
          gboolean     *out)
{
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return fail (ctx, path, "expected true or false");

  *out = json_node_get_boolean (node);
  return TRUE;
}

static gboolean
get_string (ParseContext  *ctx,
            JsonNode      *node,
            const char    *path,
            const char   **out)
{
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return fail (ctx, path, "expected a string");

  *out = json_node_get_string (node);
  return TRUE;
}

static void
failure_free (gpointer data)
{
  FjSimFailure *failure = data;

  g_free (failure->error_type);
  g_free (failure->message);
  g_free (failure);
}

static void
tool_use_free (FjSimToolUse *tool_use)
{
  if (tool_use == NULL)
    return;
  g_free (tool_use->name);
  g_clear_pointer (&tool_use->input, json_node_unref);
  g_free (tool_use);
}

static void
settings_clear (FjSimSettings *settings)
{
  g_clear_pointer (&settings->failures, g_ptr_array_unref);
  g_clear_pointer (&settings->tool_use, tool_use_free);
}

static void
agent_free (gpointer data)
{
  FjSimAgent *agent = data;

  g_free (agent->name);
  g_free (agent->match);
  settings_clear (&agent->settings);
  g_free (agent);
}

static gboolean
parse_latency (ParseContext  *ctx,
               JsonNode      *node,
               const char    *path,
               FjSimSettings *settings)
{
  static const char * const keys[] = { "min", "max", NULL };
  const char *expected = "a number of seconds or {min,max}";
  JsonObject *object;
  JsonNode *min_node;
  JsonNode *max_node;
  g_autofree char *min_path = NULL;
  g_autofree char *max_path = NULL;

  if (node_is_number (node))
    {
      if (!get_number (ctx, node, path, expected, &settings->latency_min))
        return FALSE;
      settings->latency_max = settings->latency_min;
      settings->has_latency = TRUE;
      return TRUE;
    }

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (ctx, path, "expected %s", expected);

  object = json_node_get_object (node);
  if (!check_keys (ctx, object, path, keys))
    return FALSE;

  min_node = json_object_get_member (object, "min");
  max_node = json_object_get_member (object, "max");
  min_path = join_path (path, "min");
  max_path = join_path (path, "max");
  if (min_node == NULL)
    return fail (ctx, min_path, "required (expected a number of seconds)");
  if (max_node == NULL)
    return fail (ctx, max_path, "required (expected a number of seconds)");
  if (!get_number (ctx, min_node, min_path, "a number of seconds", &settings->latency_min) ||
      !get_number (ctx, max_node, max_path, "a number of seconds", &settings->latency_max))
    return FALSE;
  if (settings->latency_max < settings->latency_min)
    return fail (ctx, max_path, "must not be less than min");

  settings->has_latency = TRUE;
  return TRUE;
}

static gboolean
parse_fault_name (ParseContext *ctx,
                  JsonNode     *node,
                  const char   *path,
                  FjSimFault   *out)
{
  static const struct {
    const char *name;
    FjSimFault fault;
  } faults[] = {
    { "drop", FJ_SIM_FAULT_DROP },
    { "error_event", FJ_SIM_FAULT_ERROR_EVENT },
    { "malformed_json", FJ_SIM_FAULT_MALFORMED_JSON },
    { "trickle", FJ_SIM_FAULT_TRICKLE },
    { "hang", FJ_SIM_FAULT_HANG },
  };
  const char *name = NULL;

  if (!get_string (ctx, node, path, &name))
    return FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (faults); i++)
    if (g_str_equal (name, faults[i].name))
      {
        *out = faults[i].fault;
        return TRUE;
      }

  return fail (ctx, path,
               "unknown fault \"%s\" (expected drop, error_event, malformed_json, trickle or hang)",
               name);
}

static gboolean
parse_failure (ParseContext  *ctx,
               JsonNode      *node,
               const char    *path,
               FjSimFailure **out)
{
  static const char * const status_keys[] = {
    "status", "attempts", "probability", "retry_after", "retry_after_ms",
    "should_retry", "error_type", "message", "description", NULL
  };
  static const char * const drop_keys[] = {
    "fault", "attempts", "probability", "after_tokens", "description", NULL
  };
  static const char * const error_event_keys[] = {
    "fault", "attempts", "probability", "after_tokens", "error_type", "message",
    "description", NULL
  };
  static const char * const trickle_keys[] = {
    "fault", "attempts", "probability", "interval", "description", NULL
  };
  static const char * const hang_keys[] = {
    "fault", "attempts", "probability", "description", NULL
  };
  g_autoptr(GList) members = NULL;
  FjSimFailure *failure;
  JsonObject *object;
  JsonNode *status_node;
  JsonNode *fault_node;
  const char * const *keys;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (ctx, path, "expected an object with \"status\" or \"fault\"");

  object = json_node_get_object (node);
  status_node = json_object_get_member (object, "status");
  fault_node = json_object_get_member (object, "fault");
  if (status_node != NULL && fault_node != NULL)
    return fail (ctx, path, "has both \"status\" and \"fault\"; use one");
  if (status_node == NULL && fault_node == NULL)
    return fail (ctx, path, "needs \"status\" (an HTTP error) or \"fault\"");

  failure = g_new0 (FjSimFailure, 1);
  failure->retry_after = -1;
  failure->retry_after_ms = -1;
  failure->should_retry = -1;
  failure->after_tokens = -1;
  failure->interval = 1.0;
  *out = failure;

  if (status_node != NULL)
    {
      g_autofree char *status_path = join_path (path, "status");

      keys = status_keys;
      if (!get_uint (ctx, status_node, status_path, &failure->status))
        return FALSE;
      if (failure->status < 400 || failure->status > 599)
        return fail (ctx, status_path, "expected an HTTP error status (400 to 599)");
    }
  else
    {
      g_autofree char *fault_path = join_path (path, "fault");

      if (!parse_fault_name (ctx, fault_node, fault_path, &failure->fault))
        return FALSE;

      switch (failure->fault)
        {
        case FJ_SIM_FAULT_DROP:
        case FJ_SIM_FAULT_MALFORMED_JSON:
          keys = drop_keys;
          break;
        case FJ_SIM_FAULT_ERROR_EVENT:
          keys = error_event_keys;
          break;
        case FJ_SIM_FAULT_TRICKLE:
          keys = trickle_keys;
          break;
        case FJ_SIM_FAULT_HANG:
        case FJ_SIM_FAULT_NONE:
        default:
          keys = hang_keys;
          break;
        }
    }

  if (!check_keys (ctx, object, path, keys))
    return FALSE;

  members = json_object_get_members (object);
  for (const GList *l = members; l != NULL; l = l->next)
    {
      const char *key = l->data;
      JsonNode *member = json_object_get_member (object, key);
      g_autofree char *member_path = join_path (path, key);
      const char *str = NULL;

      if (g_str_equal (key, "attempts"))
        {
          if (!get_uint (ctx, member, member_path, &failure->attempts))
            return FALSE;
          if (failure->attempts == 0)
            return fail (ctx, member_path, "must be at least 1 (the first N attempts)");
        }
      else if (g_str_equal (key, "probability"))
        {
          if (!get_number (ctx, member, member_path, "a probability from 0 to 1", &failure->probability))
            return FALSE;
          if (failure->probability > 1)
            return fail (ctx, member_path, "expected a probability from 0 to 1");
          failure->has_probability = TRUE;
        }
      else if (g_str_equal (key, "retry_after"))
        {
          if (!get_number (ctx, member, member_path, "a number of seconds", &failure->retry_after))
            return FALSE;
        }
      else if (g_str_equal (key, "retry_after_ms"))
        {
          if (!get_number (ctx, member, member_path, "a number of milliseconds", &failure->retry_after_ms))
            return FALSE;
        }
      else if (g_str_equal (key, "should_retry"))
        {
          gboolean value = FALSE;

          if (!get_bool (ctx, member, member_path, &value))
            return FALSE;
          failure->should_retry = value ? 1 : 0;
        }
      else if (g_str_equal (key, "after_tokens"))
        {
          guint value = 0;

          if (!get_uint (ctx, member, member_path, &value))
            return FALSE;
          failure->after_tokens = (int) MIN (value, G_MAXINT);
        }
      else if (g_str_equal (key, "interval"))
        {
          if (!get_number (ctx, member, member_path, "a number of seconds", &failure->interval))
            return FALSE;
          if (failure->interval < 0.005)
            return fail (ctx, member_path, "must be at least 0.005 seconds");
        }
      else if (g_str_equal (key, "error_type"))
        {
          if (!get_string (ctx, member, member_path, &str))
            return FALSE;
          if (*str == '\0')
            return fail (ctx, member_path, "must not be empty");
          failure->error_type = g_strdup (str);
        }
      else if (g_str_equal (key, "message") || g_str_equal (key, "description"))
        {
          if (!get_string (ctx, member, member_path, &str))
            return FALSE;
          if (g_str_equal (key, "message"))
            failure->message = g_strdup (str);
        }
    }

  return TRUE;
}

static gboolean
parse_failures (ParseContext  *ctx,
                JsonNode      *node,
                const char    *path,
                FjSimSettings *settings)
{
  JsonArray *array;

  if (!JSON_NODE_HOLDS_ARRAY (node))
    return fail (ctx, path, "expected an array of failure entries");

  array = json_node_get_array (node);
  settings->failures = g_ptr_array_new_with_free_func (failure_free);
  settings->has_failures = TRUE;

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      g_autofree char *item_path = g_strdup_printf ("%s[%u]", path, i);
      FjSimFailure *failure = NULL;
      gboolean ok;

      ok = parse_failure (ctx, json_array_get_element (array, i), item_path, &failure);
      if (failure != NULL)
        g_ptr_array_add (settings->failures, failure);
      if (!ok)
        return FALSE;
    }

  return TRUE;
}

static gboolean
parse_tool_use (ParseContext  *ctx,
                JsonNode      *node,
                const char    *path,
                FjSimSettings *settings)
{
  static const char * const keys[] = { "name", "input", "turns", "description", NULL };
  g_autoptr(GList) members = NULL;
  FjSimToolUse *tool_use;
  JsonObject *object;

  settings->has_tool_use = TRUE;

  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_BOOLEAN)
    {
      if (json_node_get_boolean (node))
        {
          settings->tool_use = g_new0 (FjSimToolUse, 1);
          settings->tool_use->turns = 1;
        }
      return TRUE;
    }

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (ctx, path, "expected {name, input, turns} or false");

  object = json_node_get_object (node);
  if (!check_keys (ctx, object, path, keys))
    return FALSE;

  tool_use = g_new0 (FjSimToolUse, 1);
  tool_use->turns = 1;
  settings->tool_use = tool_use;

  members = json_object_get_members (object);
  for (const GList *l = members; l != NULL; l = l->next)
    {
      const char *key = l->data;
      JsonNode *member = json_object_get_member (object, key);
      g_autofree char *member_path = join_path (path, key);
      const char *str = NULL;

      if (g_str_equal (key, "name"))
        {
          if (!get_string (ctx, member, member_path, &str))
            return FALSE;
          if (*str == '\0')
            return fail (ctx, member_path, "must not be empty");
          tool_use->name = g_strdup (str);
        }
      else if (g_str_equal (key, "input"))
        {
          if (!JSON_NODE_HOLDS_OBJECT (member))
            return fail (ctx, member_path, "expected an object (the tool's input)");
          tool_use->input = json_node_copy (member);
        }
      else if (g_str_equal (key, "turns"))
        {
          if (!get_uint (ctx, member, member_path, &tool_use->turns))
            return FALSE;
        }
      else if (g_str_equal (key, "description"))
        {
          if (!get_string (ctx, member, member_path, &str))
            return FALSE;
        }
    }

  return TRUE;
}

/* Parses the members an agent override shares with the top level; other
 * keys are left to the caller, which has already checked them. */
static gboolean
parse_settings (ParseContext  *ctx,
                JsonObject    *object,
                const char    *prefix,
                FjSimSettings *settings)
{
  g_autoptr(GList) members = json_object_get_members (object);

  for (const GList *l = members; l != NULL; l = l->next)
    {
      const char *key = l->data;
      JsonNode *member = json_object_get_member (object, key);
      g_autofree char *path = join_path (prefix, key);

      if (g_str_equal (key, "latency"))
        {
          if (!parse_latency (ctx, member, path, settings))
            return FALSE;
        }
      else if (g_str_equal (key, "output_tokens"))
        {
          if (!get_uint (ctx, member, path, &settings->output_tokens))
            return FALSE;
          settings->has_output_tokens = TRUE;
        }
      else if (g_str_equal (key, "tokens_per_second"))
        {
          if (!get_number (ctx, member, path, "a number of tokens per second (0 = all at once)",
                           &settings->tokens_per_second))
            return FALSE;
          settings->has_tokens_per_second = TRUE;
        }
      else if (g_str_equal (key, "failures"))
        {
          if (!parse_failures (ctx, member, path, settings))
            return FALSE;
        }
      else if (g_str_equal (key, "tool_use"))
        {
          if (!parse_tool_use (ctx, member, path, settings))
            return FALSE;
        }
      else if (g_str_equal (key, "refusal"))
        {
          if (!get_bool (ctx, member, path, &settings->refusal))
            return FALSE;
          settings->has_refusal = TRUE;
        }
    }

  return TRUE;
}

static gboolean
parse_rate_limits (ParseContext    *ctx,
                   JsonNode        *node,
                   FjSimRateLimits *limits)
{
  static const char * const keys[] = {
    "requests_per_minute", "input_tokens_per_minute", "output_tokens_per_minute",
    "tokens_per_minute", "description", NULL
  };
  const char *expected = "a number per minute (0 = no limit)";
  g_autoptr(GList) members = NULL;
  JsonObject *object;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (ctx, "rate_limits", "expected an object");

  object = json_node_get_object (node);
  if (!check_keys (ctx, object, "rate_limits", keys))
    return FALSE;

  members = json_object_get_members (object);
  for (const GList *l = members; l != NULL; l = l->next)
    {
      const char *key = l->data;
      JsonNode *member = json_object_get_member (object, key);
      g_autofree char *path = join_path ("rate_limits", key);
      double *target = NULL;
      const char *str = NULL;

      if (g_str_equal (key, "requests_per_minute"))
        target = &limits->requests_per_minute;
      else if (g_str_equal (key, "input_tokens_per_minute"))
        target = &limits->input_tokens_per_minute;
      else if (g_str_equal (key, "output_tokens_per_minute"))
        target = &limits->output_tokens_per_minute;
      else if (g_str_equal (key, "tokens_per_minute"))
        target = &limits->tokens_per_minute;
      else if (!get_string (ctx, member, path, &str))
        return FALSE;

      if (target != NULL && !get_number (ctx, member, path, expected, target))
        return FALSE;
    }

  return TRUE;
}

static gboolean
parse_cache (ParseContext       *ctx,
             JsonNode           *node,
             FjSimCacheSettings *cache)
{
  static const char * const keys[] = { "min_tokens", "ttl", "description", NULL };
  g_autoptr(GList) members = NULL;
  JsonObject *object;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (ctx, "cache", "expected an object");

  object = json_node_get_object (node);
  if (!check_keys (ctx, object, "cache", keys))
    return FALSE;

  members = json_object_get_members (object);
  for (const GList *l = members; l != NULL; l = l->next)
    {
      const char *key = l->data;
      JsonNode *member = json_object_get_member (object, key);
      g_autofree char *path = join_path ("cache", key);
      const char *str = NULL;

      if (g_str_equal (key, "min_tokens"))
        {
          if (!get_uint (ctx, member, path, &cache->min_tokens))
            return FALSE;
          cache->has_min_tokens = TRUE;
        }
      else if (g_str_equal (key, "ttl"))
        {
          if (!get_number (ctx, member, path, "seconds", &cache->ttl))
            return FALSE;
        }
      else if (!get_string (ctx, member, path, &str))
        return FALSE;
    }

  return TRUE;
}

static gboolean
parse_batch (ParseContext       *ctx,
             JsonNode           *node,
             FjSimBatchSettings *batch)
{
  static const char * const keys[] = {
    "processing_time", "max_requests", "max_bytes", "shuffle", "description", NULL
  };
  g_autoptr(GList) members = NULL;
  JsonObject *object;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (ctx, "batch", "expected an object");

  object = json_node_get_object (node);
  if (!check_keys (ctx, object, "batch", keys))
    return FALSE;

  members = json_object_get_members (object);
  for (const GList *l = members; l != NULL; l = l->next)
    {
      const char *key = l->data;
      JsonNode *member = json_object_get_member (object, key);
      g_autofree char *path = join_path ("batch", key);
      const char *str = NULL;
      double bytes;

      if (g_str_equal (key, "processing_time"))
        {
          if (!get_number (ctx, member, path, "seconds", &batch->processing_time))
            return FALSE;
        }
      else if (g_str_equal (key, "max_requests"))
        {
          if (!get_uint (ctx, member, path, &batch->max_requests))
            return FALSE;
          if (batch->max_requests == 0)
            return fail (ctx, path, "must be at least 1");
        }
      else if (g_str_equal (key, "max_bytes"))
        {
          if (!get_number (ctx, member, path, "a whole number of bytes", &bytes))
            return FALSE;
          if (bytes != floor (bytes) || bytes < 1 || bytes > 1e15)
            return fail (ctx, path, "expected a whole number of bytes (at least 1)");
          batch->max_bytes = (guint64) bytes;
        }
      else if (g_str_equal (key, "shuffle"))
        {
          if (!get_bool (ctx, member, path, &batch->shuffle))
            return FALSE;
        }
      else if (!get_string (ctx, member, path, &str))
        return FALSE;
    }

  return TRUE;
}

static gboolean
parse_agent (ParseContext  *ctx,
             JsonNode      *node,
             const char    *path,
             FjSimAgent   **out)
{
  static const char * const keys[] = {
    "name", "match", "description", "latency", "output_tokens", "tokens_per_second",
    "failures", "tool_use", "refusal", "batch_outcome", NULL
  };
  FjSimAgent *agent;
  JsonObject *object;
  JsonNode *member;
  const char *str = NULL;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (ctx, path, "expected an object with \"match\"");

  object = json_node_get_object (node);
  if (!check_keys (ctx, object, path, keys))
    return FALSE;

  agent = g_new0 (FjSimAgent, 1);
  *out = agent;

  member = json_object_get_member (object, "match");
  if (member == NULL)
    {
      g_autofree char *match_path = join_path (path, "match");
      return fail (ctx, match_path, "required (text that occurs in the agent's system prompt)");
    }
  else
    {
      g_autofree char *match_path = join_path (path, "match");

      if (!get_string (ctx, member, match_path, &str))
        return FALSE;
      if (*str == '\0')
        return fail (ctx, match_path, "must not be empty");
      agent->match = g_strdup (str);
    }

  member = json_object_get_member (object, "name");
  if (member != NULL)
    {
      g_autofree char *name_path = join_path (path, "name");

      if (!get_string (ctx, member, name_path, &str))
        return FALSE;
      if (*str == '\0')
        return fail (ctx, name_path, "must not be empty");
      agent->name = g_strdup (str);
    }
  else
    agent->name = g_strdup (agent->match);

  member = json_object_get_member (object, "description");
  if (member != NULL)
    {
      g_autofree char *description_path = join_path (path, "description");

      if (!get_string (ctx, member, description_path, &str))
        return FALSE;
    }

  member = json_object_get_member (object, "batch_outcome");
  if (member != NULL)
    {
      g_autofree char *outcome_path = join_path (path, "batch_outcome");

      if (!get_string (ctx, member, outcome_path, &str))
        return FALSE;
      if (g_str_equal (str, "expired"))
        agent->batch_expired = TRUE;
      else if (!g_str_equal (str, "default"))
        return fail (ctx, outcome_path, "expected \"expired\" or \"default\"");
    }

  return parse_settings (ctx, object, path, &agent->settings);
}

static gboolean
parse_seed (ParseContext  *ctx,
            JsonNode      *node,
            FjSimScenario *scenario)
{
  double value;

  if (!node_is_number (node))
    return fail (ctx, "seed", "expected a whole number");

  value = json_node_get_double (node);
  if (value < 0)
    return fail (ctx, "seed", "must not be negative (expected a whole number)");
  if (value != floor (value) || value >= 18446744073709551616.0)
    return fail (ctx, "seed", "expected a whole number");

  if (json_node_get_value_type (node) == G_TYPE_INT64)
    scenario->seed = (guint64) json_node_get_int (node);
  else
    scenario->seed = (guint64) value;
  scenario->has_seed = TRUE;
  return TRUE;
}

static gboolean
parse_agents (ParseContext  *ctx,
              JsonNode      *node,
              FjSimScenario *scenario)
{
  JsonArray *array;

  if (!JSON_NODE_HOLDS_ARRAY (node))
    return fail (ctx, "agents", "expected an array of per-agent overrides");

  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      g_autofree char *path = g_strdup_printf ("agents[%u]", i);
      FjSimAgent *agent = NULL;
      gboolean ok;

      ok = parse_agent (ctx, json_array_get_element (array, i), path, &agent);
      if (agent != NULL)
        g_ptr_array_add (scenario->agents, agent);
      if (!ok)
        return FALSE;
    }

  return TRUE;
}

FjSimScenario *
_fj_sim_scenario_new (void)
{
  FjSimScenario *scenario = g_atomic_rc_box_new0 (FjSimScenario);

  scenario->agents = g_ptr_array_new_with_free_func (agent_free);
  scenario->cache.ttl = 300;
  scenario->batch.processing_time = 2;
  scenario->batch.max_requests = 100000;
  scenario->batch.max_bytes = G_GUINT64_CONSTANT (256) * 1024 * 1024;
  scenario->batch.shuffle = TRUE;
  return scenario;
}

FjSimScenario *
_fj_sim_scenario_ref (FjSimScenario *scenario)
{
  return g_atomic_rc_box_acquire (scenario);
}

static void
scenario_clear (gpointer data)
{
  FjSimScenario *scenario = data;

  settings_clear (&scenario->defaults);
  g_clear_pointer (&scenario->agents, g_ptr_array_unref);
}

void
_fj_sim_scenario_unref (FjSimScenario *scenario)
{
  g_atomic_rc_box_release_full (scenario, scenario_clear);
}

static FjSimScenario *
load_scenario (ParseContext *ctx,
               JsonNode     *root)
{
  static const char * const keys[] = {
    "$schema", "description", "seed", "latency", "output_tokens", "tokens_per_second",
    "failures", "rate_limits", "tool_use", "refusal", "agents", "cache", "batch", NULL
  };
  g_autoptr(FjSimScenario) scenario = NULL;
  g_autoptr(GList) members = NULL;
  JsonObject *object;

  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      fail (ctx, NULL, "expected a JSON object at the top level");
      return NULL;
    }

  object = json_node_get_object (root);
  if (!check_keys (ctx, object, NULL, keys))
    return NULL;

  scenario = _fj_sim_scenario_new ();
  if (!parse_settings (ctx, object, NULL, &scenario->defaults))
    return NULL;

  members = json_object_get_members (object);
  for (const GList *l = members; l != NULL; l = l->next)
    {
      const char *key = l->data;
      JsonNode *member = json_object_get_member (object, key);
      const char *str = NULL;

      if (g_str_equal (key, "seed"))
        {
          if (!parse_seed (ctx, member, scenario))
            return NULL;
        }
      else if (g_str_equal (key, "rate_limits"))
        {
          if (!parse_rate_limits (ctx, member, &scenario->rate_limits))
            return NULL;
        }
      else if (g_str_equal (key, "cache"))
        {
          if (!parse_cache (ctx, member, &scenario->cache))
            return NULL;
        }
      else if (g_str_equal (key, "batch"))
        {
          if (!parse_batch (ctx, member, &scenario->batch))
            return NULL;
        }
      else if (g_str_equal (key, "agents"))
        {
          if (!parse_agents (ctx, member, scenario))
            return NULL;
        }
      else if (g_str_equal (key, "$schema") || g_str_equal (key, "description"))
        {
          if (!get_string (ctx, member, key, &str))
            return NULL;
        }
    }

  return g_steal_pointer (&scenario);
}

/* Parses a scenario as strict JSON (see _fj_spec_document_parse()).
 * Errors (FJ_ERROR_SPEC) read "NAME:LINE:COL: PATH: MESSAGE"; a syntax
 * error or duplicate keys give one such line each. */
FjSimScenario *
_fj_sim_scenario_parse (const char  *name,
                        const char  *data,
                        gssize       length,
                        GError     **error)
{
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func ((GDestroyNotify) _fj_spec_problem_free);
  g_autoptr(FjSpecDocument) doc = NULL;
  FjSimScenario *scenario;
  ParseContext ctx = { name, NULL, NULL, error };
  gsize len = length < 0 ? strlen (data) : (gsize) length;

  doc = _fj_spec_document_parse (data, len, problems);
  if (problems->len > 0)
    {
      g_autoptr(GString) message = g_string_new (NULL);

      _fj_spec_problems_sort (problems);
      for (guint i = 0; i < problems->len; i++)
        {
          g_autofree char *line = _fj_spec_problem_format (g_ptr_array_index (problems, i), name);

          if (i > 0)
            g_string_append_c (message, '\n');
          g_string_append (message, line);
        }
      g_set_error_literal (error, FJ_ERROR, FJ_ERROR_SPEC, message->str);
      return NULL;
    }

  g_assert (doc != NULL);
  ctx.doc = doc;
  scenario = load_scenario (&ctx, _fj_spec_document_get_root (doc));
  g_clear_pointer (&ctx.nodes, g_hash_table_unref);

  return scenario;
}

FjSimAgent *
_fj_sim_scenario_match (FjSimScenario *scenario,
                        const char    *system)
{
  if (scenario == NULL || system == NULL)
    return NULL;

  for (guint i = 0; i < scenario->agents->len; i++)
    {
      FjSimAgent *agent = g_ptr_array_index (scenario->agents, i);

      if (strstr (system, agent->match) != NULL)
        return agent;
    }

  return NULL;
}

gboolean
_fj_sim_scenario_has_limits (FjSimScenario *scenario)
{
  const FjSimRateLimits *limits = &scenario->rate_limits;

  return limits->requests_per_minute > 0 ||
         limits->input_tokens_per_minute > 0 ||
         limits->output_tokens_per_minute > 0 ||
         limits->tokens_per_minute > 0;
}

/* The smallest prefix, in tokens, that @model caches. */
guint
_fj_sim_scenario_cache_min_tokens (FjSimScenario *scenario,
                                   const char    *model)
{
  if (scenario->cache.has_min_tokens)
    return scenario->cache.min_tokens;
  if (model != NULL && (strstr (model, "opus") != NULL || strstr (model, "haiku") != NULL))
    return 4096;
  return 1024;
}
