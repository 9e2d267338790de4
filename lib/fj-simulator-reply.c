/* fj-simulator-reply.c — request reading and deterministic replies
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-json-private.h"
#include "fj-simulator-reply-private.h"

#include <string.h>

#define QUOTE_CHARS 80

void
_fj_sim_request_clear (FjSimRequest *request)
{
  g_clear_pointer (&request->model, g_free);
  g_clear_pointer (&request->system, g_free);
  g_clear_pointer (&request->last_user_text, g_free);
  g_clear_pointer (&request->question, g_free);
  g_clear_pointer (&request->tool_result, g_free);
  g_clear_pointer (&request->tool_result_name, g_free);
  g_clear_pointer (&request->first_tool, g_free);
  g_clear_pointer (&request->cache_key, g_free);
}

static gboolean
holds_type (JsonNode *node,
            GType     type)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type;
}

static const char *
block_type (JsonNode *block)
{
  JsonObject *object;

  if (!JSON_NODE_HOLDS_OBJECT (block))
    return NULL;
  object = json_node_get_object (block);
  if (!holds_type (json_object_get_member (object, "type"), G_TYPE_STRING))
    return NULL;
  return json_object_get_string_member (object, "type");
}

/* The text of a string or of the text blocks of an array, joined by
 * newlines. */
static char *
content_text (JsonNode *content)
{
  GString *text;
  JsonArray *array;

  if (content == NULL)
    return g_strdup ("");
  if (holds_type (content, G_TYPE_STRING))
    return g_strdup (json_node_get_string (content));
  if (!JSON_NODE_HOLDS_ARRAY (content))
    return g_strdup ("");

  text = g_string_new (NULL);
  array = json_node_get_array (content);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *block = json_array_get_element (array, i);
      const char *type = block_type (block);
      JsonNode *block_text;

      if (g_strcmp0 (type, "text") != 0)
        continue;
      block_text = json_object_get_member (json_node_get_object (block), "text");
      if (!holds_type (block_text, G_TYPE_STRING))
        continue;
      if (text->len > 0)
        g_string_append_c (text, '\n');
      g_string_append (text, json_node_get_string (block_text));
    }

  return g_string_free (text, FALSE);
}

static JsonNode *
first_tool_result (JsonNode *content)
{
  JsonArray *array;

  if (content == NULL || !JSON_NODE_HOLDS_ARRAY (content))
    return NULL;

  array = json_node_get_array (content);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *block = json_array_get_element (array, i);

      if (g_strcmp0 (block_type (block), "tool_result") == 0)
        return block;
    }

  return NULL;
}

/* The name of the tool_use block with @id in the assistant messages. */
static char *
find_tool_name (JsonArray  *messages,
                const char *id)
{
  for (guint i = json_array_get_length (messages); i > 0; i--)
    {
      JsonObject *message = json_array_get_object_element (messages, i - 1);
      JsonNode *content = json_object_get_member (message, "content");
      JsonArray *blocks;

      if (content == NULL || !JSON_NODE_HOLDS_ARRAY (content))
        continue;

      blocks = json_node_get_array (content);
      for (guint j = 0; j < json_array_get_length (blocks); j++)
        {
          JsonNode *block = json_array_get_element (blocks, j);
          JsonObject *object;

          if (g_strcmp0 (block_type (block), "tool_use") != 0)
            continue;
          object = json_node_get_object (block);
          if (holds_type (json_object_get_member (object, "id"), G_TYPE_STRING) &&
              g_strcmp0 (json_object_get_string_member (object, "id"), id) == 0 &&
              holds_type (json_object_get_member (object, "name"), G_TYPE_STRING))
            return g_strdup (json_object_get_string_member (object, "name"));
        }
    }

  return NULL;
}

static gboolean
parse_messages (FjSimRequest  *request,
                JsonArray     *messages,
                char         **error_message)
{
  guint n = json_array_get_length (messages);
  JsonNode *last_user_content = NULL;
  JsonNode *result;

  if (n == 0)
    {
      *error_message = g_strdup ("messages: at least one message is required");
      return FALSE;
    }

  request->n_messages = n;

  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (messages, i);
      JsonObject *message;
      JsonNode *role;
      JsonNode *content;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          *error_message = g_strdup_printf ("messages.%u: Input should be a valid dictionary", i);
          return FALSE;
        }

      message = json_node_get_object (node);
      role = json_object_get_member (message, "role");
      content = json_object_get_member (message, "content");
      if (role == NULL || content == NULL)
        {
          *error_message = g_strdup_printf ("messages.%u.%s: Field required", i,
                                            role == NULL ? "role" : "content");
          return FALSE;
        }
      if (!holds_type (role, G_TYPE_STRING) ||
          (!g_str_equal (json_node_get_string (role), "user") &&
           !g_str_equal (json_node_get_string (role), "assistant")))
        {
          *error_message = g_strdup_printf ("messages.%u.role: Input should be 'user' or 'assistant'", i);
          return FALSE;
        }
      if (!holds_type (content, G_TYPE_STRING) && !JSON_NODE_HOLDS_ARRAY (content))
        {
          *error_message = g_strdup_printf ("messages.%u.content: Input should be a valid string or list", i);
          return FALSE;
        }

      if (g_str_equal (json_node_get_string (role), "user"))
        {
          g_autofree char *text = content_text (content);

          last_user_content = content;
          if (first_tool_result (content) != NULL)
            request->tool_rounds++;
          if (*g_strstrip (text) != '\0')
            {
              g_free (request->question);
              request->question = g_steal_pointer (&text);
            }
        }
    }

  request->last_user_text = content_text (last_user_content);
  if (request->question == NULL)
    request->question = g_strdup ("");

  result = first_tool_result (last_user_content);
  if (result != NULL)
    {
      JsonObject *object = json_node_get_object (result);
      JsonNode *id = json_object_get_member (object, "tool_use_id");

      request->tool_result = content_text (json_object_get_member (object, "content"));
      if (holds_type (id, G_TYPE_STRING))
        request->tool_result_name = find_tool_name (messages, json_node_get_string (id));
    }

  return TRUE;
}

/* The request body as a JSON object, or %NULL with @error_message set. */
static JsonNode *
parse_root (const char  *data,
            gsize        length,
            char       **error_message)
{
  g_autoptr(JsonNode) root_node = NULL;

  root_node = length > 0 ? _fj_json_parse_fast (data, length, NULL) : NULL;
  if (root_node == NULL)
    {
      g_autoptr(JsonParser) parser = json_parser_new_immutable ();
      g_autoptr(GError) error = NULL;

      if (length == 0 || !_fj_json_check_depth (data, length, FJ_JSON_MAX_DEPTH) ||
          !_fj_json_check_for_parser (data, length, NULL) ||
          !json_parser_load_from_data (parser, data, length, &error) ||
          json_parser_get_root (parser) == NULL)
        {
          *error_message = g_strdup ("The request body is not valid JSON");
          return NULL;
        }
      root_node = json_node_ref (json_parser_get_root (parser));
    }
  if (!JSON_NODE_HOLDS_OBJECT (root_node))
    {
      *error_message = g_strdup ("The request body must be a JSON object");
      return NULL;
    }

  return g_steal_pointer (&root_node);
}

static gboolean
parse_model (FjSimRequest  *request,
             JsonObject    *root,
             char         **error_message)
{
  JsonNode *node = json_object_get_member (root, "model");

  if (node == NULL)
    {
      *error_message = g_strdup ("model: Field required");
      return FALSE;
    }
  if (!holds_type (node, G_TYPE_STRING) || *json_node_get_string (node) == '\0')
    {
      *error_message = g_strdup ("model: Input should be a non-empty string");
      return FALSE;
    }
  request->model = g_strdup (json_node_get_string (node));
  return TRUE;
}

static gboolean
parse_stream (FjSimRequest  *request,
              JsonObject    *root,
              char         **error_message)
{
  JsonNode *node = json_object_get_member (root, "stream");

  if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
    {
      if (!holds_type (node, G_TYPE_BOOLEAN))
        {
          *error_message = g_strdup ("stream: Input should be a valid boolean");
          return FALSE;
        }
      request->stream = json_node_get_boolean (node);
    }
  return TRUE;
}

/* Prompt caching */

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* A serialisation of @node that does not depend on member order; a
 * block's own cache_control is left out (it marks, it is not content). */
static void
canon_append (GString  *out,
              JsonNode *node,
              gboolean  skip_cache_control)
{
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    g_string_append (out, "null");
  else if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *object = json_node_get_object (node);
      g_autoptr(GList) members = json_object_get_members (object);
      g_autoptr(GPtrArray) keys = g_ptr_array_new ();
      gboolean first = TRUE;

      for (const GList *l = members; l != NULL; l = l->next)
        g_ptr_array_add (keys, l->data);
      g_ptr_array_sort (keys, compare_strings);

      g_string_append_c (out, '{');
      for (guint i = 0; i < keys->len; i++)
        {
          const char *key = g_ptr_array_index (keys, i);
          g_autoptr(JsonNode) name = NULL;
          g_autofree char *name_json = NULL;

          if (skip_cache_control && g_str_equal (key, "cache_control"))
            continue;
          if (!first)
            g_string_append_c (out, ',');
          first = FALSE;
          name = json_node_init_string (json_node_alloc (), key);
          name_json = json_to_string (name, FALSE);
          g_string_append (out, name_json);
          g_string_append_c (out, ':');
          canon_append (out, json_object_get_member (object, key), FALSE);
        }
      g_string_append_c (out, '}');
    }
  else if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);

      g_string_append_c (out, '[');
      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          if (i > 0)
            g_string_append_c (out, ',');
          canon_append (out, json_array_get_element (array, i), FALSE);
        }
      g_string_append_c (out, ']');
    }
  else
    {
      g_autofree char *value = json_to_string (node, FALSE);

      g_string_append (out, value);
    }
}

typedef struct
{
  GString  *out;
  gsize     cut;               /* end of the prefix; 0 = no breakpoint yet */
  JsonNode *cache_control;     /* the last breakpoint's */
} CacheWalk;

/* A block's cache_control when it marks a breakpoint, else NULL. */
static JsonNode *
block_cache_control (JsonNode *block)
{
  JsonNode *cache_control;

  if (block == NULL || !JSON_NODE_HOLDS_OBJECT (block))
    return NULL;
  cache_control = json_object_get_member (json_node_get_object (block), "cache_control");
  return cache_control != NULL && !JSON_NODE_HOLDS_NULL (cache_control) ? cache_control : NULL;
}

static void
cache_walk_block (CacheWalk  *walk,
                  const char *tag,
                  JsonNode   *block)
{
  JsonNode *cache_control = block_cache_control (block);

  g_string_append (walk->out, tag);
  g_string_append_c (walk->out, '\t');
  canon_append (walk->out, block, TRUE);
  g_string_append_c (walk->out, '\n');

  if (cache_control != NULL)
    {
      walk->cut = walk->out->len;
      walk->cache_control = cache_control;
    }
}

static void
cache_walk_content (CacheWalk  *walk,
                    const char *tag,
                    JsonNode   *content)
{
  if (content == NULL || JSON_NODE_HOLDS_NULL (content))
    return;
  if (JSON_NODE_HOLDS_ARRAY (content))
    {
      JsonArray *array = json_node_get_array (content);

      for (guint i = 0; i < json_array_get_length (array); i++)
        cache_walk_block (walk, tag, json_array_get_element (array, i));
    }
  else
    cache_walk_block (walk, tag, content);
}

static gboolean
content_marks_breakpoint (JsonNode *content)
{
  if (content != NULL && JSON_NODE_HOLDS_ARRAY (content))
    {
      JsonArray *array = json_node_get_array (content);

      for (guint i = 0; i < json_array_get_length (array); i++)
        if (block_cache_control (json_array_get_element (array, i)) != NULL)
          return TRUE;
      return FALSE;
    }
  return block_cache_control (content) != NULL;
}

/* Whether the request has a cache breakpoint anywhere parse_cache_prefix()
 * looks: most have none, and need no serialisation of their prefix. */
static gboolean
has_cache_breakpoint (JsonObject *root)
{
  JsonNode *node;

  node = json_object_get_member (root, "cache_control");
  if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
    return TRUE;

  node = json_object_get_member (root, "tools");
  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node) && content_marks_breakpoint (node))
    return TRUE;

  if (content_marks_breakpoint (json_object_get_member (root, "system")))
    return TRUE;

  node = json_object_get_member (root, "messages");
  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *messages = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (messages); i++)
        {
          JsonObject *message = json_array_get_object_element (messages, i);

          if (content_marks_breakpoint (json_object_get_member (message, "content")))
            return TRUE;
        }
    }

  return FALSE;
}

/* Finds the last cache breakpoint in the order tools, system, messages
 * and sets the key and size of the prefix up to and including it. */
static void
parse_cache_prefix (FjSimRequest *request,
                    JsonObject   *root)
{
  g_autoptr(GString) out = NULL;
  CacheWalk walk = { NULL, 0, NULL };
  JsonNode *node;
  JsonNode *top;
  gsize header;

  if (!has_cache_breakpoint (root))
    return;

  out = g_string_new (NULL);
  walk.out = out;

  g_string_append (out, request->model);
  g_string_append_c (out, '\n');
  header = out->len;

  node = json_object_get_member (root, "tools");
  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
    cache_walk_content (&walk, "tool", node);

  cache_walk_content (&walk, "system", json_object_get_member (root, "system"));

  node = json_object_get_member (root, "messages");
  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *messages = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (messages); i++)
        {
          JsonObject *message = json_array_get_object_element (messages, i);
          g_autofree char *tag = g_strdup_printf ("message %u %s", i,
                                                  json_object_get_string_member (message, "role"));

          cache_walk_content (&walk, tag, json_object_get_member (message, "content"));
        }
    }

  /* A top-level cache_control goes on the last block. */
  top = json_object_get_member (root, "cache_control");
  if (top != NULL && !JSON_NODE_HOLDS_NULL (top) && out->len > header)
    {
      walk.cut = out->len;
      walk.cache_control = top;
    }

  if (walk.cut == 0)
    return;

  request->cache_key = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) out->str, walk.cut);
  request->cache_prefix_tokens = (walk.cut - header) / 4;
  if (JSON_NODE_HOLDS_OBJECT (walk.cache_control))
    {
      JsonNode *ttl = json_object_get_member (json_node_get_object (walk.cache_control), "ttl");

      request->cache_ttl_long = holds_type (ttl, G_TYPE_STRING) && g_str_equal (json_node_get_string (ttl), "1h");
    }
}

gboolean
_fj_sim_request_parse (FjSimRequest  *request,
                       const char    *data,
                       gsize          length,
                       char         **error_message)
{
  g_autoptr(JsonNode) root_node = NULL;
  JsonObject *root;
  JsonNode *node;

  g_assert (request != NULL);
  g_assert (error_message != NULL && *error_message == NULL);

  root_node = parse_root (data, length, error_message);
  if (root_node == NULL)
    return FALSE;

  root = json_node_get_object (root_node);

  if (!parse_model (request, root, error_message))
    return FALSE;

  node = json_object_get_member (root, "max_tokens");
  if (node == NULL)
    {
      *error_message = g_strdup ("max_tokens: Field required");
      return FALSE;
    }
  if (!holds_type (node, G_TYPE_INT64) || json_node_get_int (node) < 0)
    {
      *error_message = g_strdup ("max_tokens: Input should be a valid non-negative integer");
      return FALSE;
    }
  request->max_tokens = json_node_get_int (node);

  node = json_object_get_member (root, "messages");
  if (node == NULL)
    {
      *error_message = g_strdup ("messages: Field required");
      return FALSE;
    }
  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      *error_message = g_strdup ("messages: Input should be a valid list");
      return FALSE;
    }
  if (!parse_messages (request, json_node_get_array (node), error_message))
    return FALSE;

  if (!parse_stream (request, root, error_message))
    return FALSE;

  node = json_object_get_member (root, "system");
  if (node != NULL && !JSON_NODE_HOLDS_NULL (node) &&
      !holds_type (node, G_TYPE_STRING) && !JSON_NODE_HOLDS_ARRAY (node))
    {
      *error_message = g_strdup ("system: Input should be a valid string or list");
      return FALSE;
    }
  request->system = content_text (node);

  node = json_object_get_member (root, "tools");
  if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
    {
      JsonArray *tools;

      if (!JSON_NODE_HOLDS_ARRAY (node))
        {
          *error_message = g_strdup ("tools: Input should be a valid list");
          return FALSE;
        }
      tools = json_node_get_array (node);
      if (json_array_get_length (tools) > 0)
        {
          JsonNode *tool = json_array_get_element (tools, 0);
          JsonNode *name = JSON_NODE_HOLDS_OBJECT (tool) ?
            json_object_get_member (json_node_get_object (tool), "name") : NULL;

          if (!holds_type (name, G_TYPE_STRING))
            {
              *error_message = g_strdup ("tools.0.name: Field required");
              return FALSE;
            }
          request->first_tool = g_strdup (json_node_get_string (name));
        }
    }

  parse_cache_prefix (request, root);

  return TRUE;
}

/* OpenAI Chat Completions requests */

static const char *
openai_role (JsonObject *message)
{
  JsonNode *role = json_object_get_member (message, "role");

  return holds_type (role, G_TYPE_STRING) ? json_node_get_string (role) : NULL;
}

static gboolean
is_system_role (const char *role)
{
  return g_strcmp0 (role, "system") == 0 || g_strcmp0 (role, "developer") == 0;
}

/* The name of the function of the assistant's tool call @id. */
static char *
openai_find_tool_name (JsonArray  *messages,
                       const char *id)
{
  for (guint i = json_array_get_length (messages); i > 0; i--)
    {
      JsonObject *message = json_array_get_object_element (messages, i - 1);
      JsonNode *calls = json_object_get_member (message, "tool_calls");
      JsonArray *array;

      if (g_strcmp0 (openai_role (message), "assistant") != 0 ||
          calls == NULL || !JSON_NODE_HOLDS_ARRAY (calls))
        continue;

      array = json_node_get_array (calls);
      for (guint j = 0; j < json_array_get_length (array); j++)
        {
          JsonNode *call = json_array_get_element (array, j);
          JsonObject *object;
          JsonNode *function;
          JsonNode *name;

          if (!JSON_NODE_HOLDS_OBJECT (call))
            continue;
          object = json_node_get_object (call);
          if (!holds_type (json_object_get_member (object, "id"), G_TYPE_STRING) ||
              g_strcmp0 (json_object_get_string_member (object, "id"), id) != 0)
            continue;
          function = json_object_get_member (object, "function");
          if (function == NULL || !JSON_NODE_HOLDS_OBJECT (function))
            continue;
          name = json_object_get_member (json_node_get_object (function), "name");
          if (holds_type (name, G_TYPE_STRING))
            return g_strdup (json_node_get_string (name));
        }
    }

  return NULL;
}

static gboolean
openai_parse_messages (FjSimRequest  *request,
                       JsonArray     *messages,
                       char         **error_message)
{
  guint n = json_array_get_length (messages);
  JsonNode *last_user_content = NULL;
  JsonObject *first_result = NULL;
  gboolean in_tool_run = FALSE;

  if (n == 0)
    {
      *error_message = g_strdup ("messages: at least one message is required");
      return FALSE;
    }

  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (messages, i);
      JsonObject *message;
      const char *role;
      JsonNode *content;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          *error_message = g_strdup_printf ("messages.%u: Input should be a valid dictionary", i);
          return FALSE;
        }

      message = json_node_get_object (node);
      if (json_object_get_member (message, "role") == NULL)
        {
          *error_message = g_strdup_printf ("messages.%u.role: Field required", i);
          return FALSE;
        }
      role = openai_role (message);
      if (role == NULL ||
          (!is_system_role (role) && !g_str_equal (role, "user") &&
           !g_str_equal (role, "assistant") && !g_str_equal (role, "tool")))
        {
          *error_message = g_strdup_printf ("messages.%u.role: Input should be 'system', 'developer', "
                                            "'user', 'assistant' or 'tool'", i);
          return FALSE;
        }

      content = json_object_get_member (message, "content");
      if (content == NULL && !g_str_equal (role, "assistant"))
        {
          *error_message = g_strdup_printf ("messages.%u.content: Field required", i);
          return FALSE;
        }
      if (content != NULL && !holds_type (content, G_TYPE_STRING) && !JSON_NODE_HOLDS_ARRAY (content) &&
          !(JSON_NODE_HOLDS_NULL (content) && g_str_equal (role, "assistant")))
        {
          *error_message = g_strdup_printf ("messages.%u.content: Input should be a valid string or list", i);
          return FALSE;
        }

      if (is_system_role (role))
        {
          if (request->system == NULL)
            request->system = content_text (content);
          continue;
        }

      request->n_messages++;

      if (g_str_equal (role, "tool"))
        {
          if (!holds_type (json_object_get_member (message, "tool_call_id"), G_TYPE_STRING))
            {
              *error_message = g_strdup_printf ("messages.%u.tool_call_id: Field required", i);
              return FALSE;
            }
          if (!in_tool_run)
            {
              request->tool_rounds++;
              first_result = message;
            }
          in_tool_run = TRUE;
          continue;
        }

      in_tool_run = FALSE;
      first_result = NULL;
      if (g_str_equal (role, "user"))
        {
          g_autofree char *text = content_text (content);

          last_user_content = content;
          if (*g_strstrip (text) != '\0')
            {
              g_free (request->question);
              request->question = g_steal_pointer (&text);
            }
        }
    }

  if (request->system == NULL)
    request->system = g_strdup ("");
  request->last_user_text = content_text (last_user_content);
  if (request->question == NULL)
    request->question = g_strdup ("");

  /* The conversation ends with tool results: the first is the answer. */
  if (first_result != NULL)
    {
      request->tool_result = content_text (json_object_get_member (first_result, "content"));
      request->tool_result_name = openai_find_tool_name (messages,
                                                         json_object_get_string_member (first_result,
                                                                                        "tool_call_id"));
    }

  return TRUE;
}

static gboolean
openai_parse_max_tokens (FjSimRequest  *request,
                         JsonObject    *root,
                         char         **error_message)
{
  static const char * const names[] = { "max_completion_tokens", "max_tokens" };

  request->max_tokens = FJ_SIM_OPENAI_DEFAULT_MAX_TOKENS;
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      JsonNode *node = json_object_get_member (root, names[i]);

      if (node == NULL || JSON_NODE_HOLDS_NULL (node))
        continue;
      if (!holds_type (node, G_TYPE_INT64) || json_node_get_int (node) < 0)
        {
          *error_message = g_strdup_printf ("%s: Input should be a valid non-negative integer", names[i]);
          return FALSE;
        }
      request->max_tokens = json_node_get_int (node);
      break;
    }

  return TRUE;
}

/* Reads an OpenAI Chat Completions body: the system prompt is the first
 * system (or developer) message, tool results are `role: tool` messages,
 * and max_completion_tokens or max_tokens may be absent. */
gboolean
_fj_sim_request_parse_openai (FjSimRequest  *request,
                              const char    *data,
                              gsize          length,
                              char         **error_message)
{
  g_autoptr(JsonNode) root_node = NULL;
  JsonObject *root;
  JsonNode *node;

  g_assert (request != NULL);
  g_assert (error_message != NULL && *error_message == NULL);

  root_node = parse_root (data, length, error_message);
  if (root_node == NULL)
    return FALSE;

  root = json_node_get_object (root_node);

  if (!parse_model (request, root, error_message) ||
      !openai_parse_max_tokens (request, root, error_message))
    return FALSE;

  node = json_object_get_member (root, "messages");
  if (node == NULL)
    {
      *error_message = g_strdup ("messages: Field required");
      return FALSE;
    }
  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      *error_message = g_strdup ("messages: Input should be a valid list");
      return FALSE;
    }
  if (!openai_parse_messages (request, json_node_get_array (node), error_message))
    return FALSE;

  if (!parse_stream (request, root, error_message))
    return FALSE;

  node = json_object_get_member (root, "stream_options");
  if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
    {
      JsonNode *include;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          *error_message = g_strdup ("stream_options: Input should be a valid dictionary");
          return FALSE;
        }
      include = json_object_get_member (json_node_get_object (node), "include_usage");
      if (include != NULL && !JSON_NODE_HOLDS_NULL (include))
        {
          if (!holds_type (include, G_TYPE_BOOLEAN))
            {
              *error_message = g_strdup ("stream_options.include_usage: Input should be a valid boolean");
              return FALSE;
            }
          request->include_usage = json_node_get_boolean (include);
        }
    }

  node = json_object_get_member (root, "tools");
  if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
    {
      JsonArray *tools;

      if (!JSON_NODE_HOLDS_ARRAY (node))
        {
          *error_message = g_strdup ("tools: Input should be a valid list");
          return FALSE;
        }
      tools = json_node_get_array (node);
      if (json_array_get_length (tools) > 0)
        {
          JsonNode *tool = json_array_get_element (tools, 0);
          JsonNode *function = JSON_NODE_HOLDS_OBJECT (tool) ?
            json_object_get_member (json_node_get_object (tool), "function") : NULL;
          JsonNode *name = function != NULL && JSON_NODE_HOLDS_OBJECT (function) ?
            json_object_get_member (json_node_get_object (function), "name") : NULL;

          if (!holds_type (name, G_TYPE_STRING))
            {
              *error_message = g_strdup ("tools.0.function.name: Field required");
              return FALSE;
            }
          request->first_tool = g_strdup (json_node_get_string (name));
        }
    }

  return TRUE;
}

/* SplitMix64: small, fast, and the same on every platform. */
guint64
_fj_sim_rng_next (guint64 *state)
{
  guint64 z = (*state += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

double
_fj_sim_rng_double (guint64 *state)
{
  return (_fj_sim_rng_next (state) >> 11) * (1.0 / 9007199254740992.0);
}

/* A 64-bit hash of @seed and the NUL-separated strings that follow. */
guint64
_fj_sim_hash (guint64     seed,
              const char *first,
              ...)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 digest[32];
  gsize digest_len = sizeof digest;
  guint8 seed_bytes[8];
  guint64 value = 0;
  va_list args;

  for (guint i = 0; i < 8; i++)
    seed_bytes[i] = (seed >> (8 * i)) & 0xff;
  g_checksum_update (checksum, seed_bytes, sizeof seed_bytes);

  va_start (args, first);
  for (const char *part = first; part != NULL; part = va_arg (args, const char *))
    g_checksum_update (checksum, (const guchar *) part, strlen (part) + 1);
  va_end (args);

  g_checksum_get_digest (checksum, digest, &digest_len);
  for (guint i = 0; i < 8; i++)
    value = (value << 8) | digest[i];

  return value;
}

char *
_fj_sim_make_id (const char *prefix,
                 guint64     hash)
{
  static const char alphabet[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  GString *id = g_string_new (prefix);
  guint64 state = hash;

  for (guint i = 0; i < 24; i++)
    g_string_append_c (id, alphabet[_fj_sim_rng_next (&state) % 62]);

  return g_string_free (id, FALSE);
}

char *
_fj_sim_short_hash (const char *text)
{
  g_autofree char *hex = g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);

  return g_strndup (hex, 8);
}

/* "You are a market analyst. ..." gives "a market analyst". */
char *
_fj_sim_extract_role (const char *system)
{
  static const char * const articles[] = { "an", "a", "the" };
  static const char * const uppers[] = { "You are an ", "You are a ", "You are the " };
  static const char * const lowers[] = { "you are an ", "you are a ", "you are the " };
  const char *best = NULL;
  const char *best_start = NULL;
  const char *article = NULL;
  const char *end;
  g_autofree char *role = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (articles); i++)
    {
      const char *upper = uppers[i];
      const char *found = strstr (system, upper);
      const char *found_lower = strstr (system, lowers[i]);

      if (found == NULL || (found_lower != NULL && found_lower < found))
        found = found_lower;
      if (found != NULL && (best_start == NULL || found < best_start))
        {
          best_start = found;
          best = found + strlen (upper);
          article = articles[i];
        }
    }

  if (best == NULL)
    return NULL;

  end = best;
  while (*end != '\0' && strchr (".,;:!?()\n\r\t\"", *end) == NULL)
    end++;

  role = g_strstrip (g_strndup (best, end - best));
  if (*role == '\0')
    return NULL;
  if (g_utf8_strlen (role, -1) > 60)
    {
      char *cut = g_utf8_substring (role, 0, 60);

      g_free (role);
      role = g_strstrip (cut);
    }

  return g_strdup_printf ("%s %s", article, role);
}

/* The first line of @text, at most QUOTE_CHARS characters, on one line. */
static char *
quote (const char *text)
{
  g_autofree char *line = NULL;
  const char *nl = strpbrk (text, "\r\n");
  GString *out;

  line = nl ? g_strndup (text, nl - text) : g_strdup (text);
  g_strstrip (line);
  if (!g_utf8_validate (line, -1, NULL))
    {
      char *valid = g_utf8_make_valid (line, -1);

      g_free (line);
      line = valid;
    }

  out = g_string_new (NULL);
  if (g_utf8_strlen (line, -1) > QUOTE_CHARS)
    {
      g_autofree char *cut = g_utf8_substring (line, 0, QUOTE_CHARS);

      g_string_append (out, g_strchomp (cut));
      g_string_append (out, "...");
    }
  else
    g_string_append (out, line);

  for (gsize i = 0; i < out->len; i++)
    if (out->str[i] == '\t')
      out->str[i] = ' ';

  return g_string_free (out, FALSE);
}

char *
_fj_sim_reply_opening (const char *role,
                       const char *agent,
                       const char *question,
                       const char *tool_name,
                       const char *tool_result)
{
  GString *opening = g_string_new ("As ");

  g_string_append (opening, role != NULL ? role : agent);

  if (question != NULL && *question != '\0')
    {
      g_autofree char *q = quote (question);

      g_string_append_printf (opening, ", on \"%s\":", q);
    }
  else
    g_string_append_c (opening, ':');

  if (tool_result != NULL)
    {
      g_autofree char *r = quote (tool_result);

      if (tool_name != NULL)
        g_string_append_printf (opening, " the %s tool returned \"%s\".", tool_name, r);
      else
        g_string_append_printf (opening, " the tool returned \"%s\".", r);
    }

  return g_string_free (opening, FALSE);
}

static const char * const words[] = {
  "revenue", "growth", "margins", "demand", "pricing", "costs", "the", "quarter",
  "signals", "suggest", "a", "steady", "outlook", "for", "core", "segments", "while",
  "risks", "remain", "in", "supply", "and", "competition", "cash", "flow", "improved",
  "across", "regions", "with", "strong", "customer", "retention", "operating",
  "leverage", "points", "to", "higher", "earnings", "investment", "in", "capacity",
  "supports", "momentum", "but", "currency", "headwinds", "weigh", "on", "results",
  "overall", "the", "data", "indicates", "moderate", "upside", "key", "metrics",
  "show", "resilient", "performance", "guidance", "looks", "conservative", "given",
  "recent", "trends", "market", "share", "expanded", "slightly", "as", "new",
  "products", "gained", "traction", "efficiency", "gains", "offset", "inflation",
};

/* A token: @word after a space unless it is the first, capitalised and
 * followed by a full stop as asked. */
static char *
make_token (const char *word,
            gsize       length,
            gboolean    space,
            gboolean    capital,
            gboolean    stop)
{
  char *token = g_malloc (length + 3);
  char *p = token;

  if (space)
    *p++ = ' ';
  memcpy (p, word, length);
  if (capital && length > 0)
    *p = g_ascii_toupper (*p);
  p += length;
  if (stop)
    *p++ = '.';
  *p = '\0';

  return token;
}

GPtrArray *
_fj_sim_reply_tokens (guint64     hash,
                      const char *opening,
                      guint       n_tokens)
{
  GPtrArray *tokens = g_ptr_array_new_full (MIN (n_tokens, 4096), g_free);
  const char *p = opening;
  guint64 state = hash;
  guint sentence_left = 0;
  gboolean capital = FALSE;

  /* The words of @opening, split at single spaces like g_strsplit(). */
  while (*p != '\0' && tokens->len < n_tokens)
    {
      const char *end = strchr (p, ' ');

      if (end == NULL)
        end = p + strlen (p);
      if (end > p)
        g_ptr_array_add (tokens, make_token (p, end - p, tokens->len > 0, FALSE, FALSE));
      p = *end != '\0' ? end + 1 : end;
    }

  sentence_left = 6 + _fj_sim_rng_next (&state) % 9;
  while (tokens->len < n_tokens)
    {
      const char *word = words[_fj_sim_rng_next (&state) % G_N_ELEMENTS (words)];
      gboolean last_in_reply = tokens->len + 1 == n_tokens;
      gboolean was_capital = capital;

      capital = FALSE;
      if (--sentence_left == 0 || last_in_reply)
        {
          g_ptr_array_add (tokens, make_token (word, strlen (word), tokens->len > 0, was_capital, TRUE));
          sentence_left = 6 + _fj_sim_rng_next (&state) % 9;
          capital = TRUE;
        }
      else
        g_ptr_array_add (tokens, make_token (word, strlen (word), tokens->len > 0, was_capital, FALSE));
    }

  return tokens;
}
