/* fj-openai.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-openai-private.h"

#include <string.h>

#include <libsoup/soup.h>

#include "fj-error-private.h"
#include "fj-json-private.h"
#include "fj-message-private.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

static char *
node_to_string (JsonNode *node,
                gsize    *length)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();

  json_generator_set_root (generator, node);
  return json_generator_to_data (generator, length);
}

/* The text of Anthropic content: a string, or the text blocks of an array
 * joined with newlines. NULL when there is no text at all. */
static char *
dup_content_text (JsonNode *content)
{
  GString *text = NULL;
  JsonArray *blocks;
  guint n;

  if (content == NULL)
    return NULL;

  if (JSON_NODE_HOLDS_VALUE (content) && json_node_get_value_type (content) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (content));

  if (!JSON_NODE_HOLDS_ARRAY (content))
    return NULL;

  blocks = json_node_get_array (content);
  n = json_array_get_length (blocks);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *element = json_array_get_element (blocks, i);
      JsonObject *block;
      const char *value;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        continue;
      block = json_node_get_object (element);
      if (g_strcmp0 (_fj_json_get_string (block, "type"), "text") != 0 ||
          (value = _fj_json_get_string (block, "text")) == NULL)
        continue;

      if (text == NULL)
        text = g_string_new (value);
      else
        {
          g_string_append_c (text, '\n');
          g_string_append (text, value);
        }
    }

  return text ? g_string_free (text, FALSE) : NULL;
}

/* ------------------------------------------------------------------ */
/* Requests                                                           */
/* ------------------------------------------------------------------ */

static void
add_text_message (JsonArray  *messages,
                  const char *role,
                  const char *text)
{
  JsonObject *message = json_object_new ();

  json_object_set_string_member (message, "role", role);
  json_object_set_string_member (message, "content", text);
  json_array_add_object_element (messages, message);
}

static void
add_assistant_message (JsonArray *messages,
                       JsonNode  *content)
{
  g_autofree char *text = dup_content_text (content);
  JsonObject *message = json_object_new ();
  JsonArray *calls = NULL;

  if (content != NULL && JSON_NODE_HOLDS_ARRAY (content))
    {
      JsonArray *blocks = json_node_get_array (content);
      guint n = json_array_get_length (blocks);

      for (guint i = 0; i < n; i++)
        {
          JsonNode *element = json_array_get_element (blocks, i);
          JsonObject *block;
          JsonObject *call;
          JsonObject *function;
          JsonNode *input;
          g_autofree char *arguments = NULL;

          if (!JSON_NODE_HOLDS_OBJECT (element))
            continue;
          block = json_node_get_object (element);
          if (g_strcmp0 (_fj_json_get_string (block, "type"), "tool_use") != 0)
            continue;

          input = json_object_get_member (block, "input");
          if (input != NULL && JSON_NODE_HOLDS_OBJECT (input))
            arguments = node_to_string (input, NULL);
          else
            arguments = g_strdup ("{}");

          function = json_object_new ();
          json_object_set_string_member (function, "name", _fj_json_get_string (block, "name") ?: "");
          json_object_set_string_member (function, "arguments", arguments);

          call = json_object_new ();
          json_object_set_string_member (call, "id", _fj_json_get_string (block, "id") ?: "");
          json_object_set_string_member (call, "type", "function");
          json_object_set_object_member (call, "function", function);

          if (calls == NULL)
            calls = json_array_new ();
          json_array_add_object_element (calls, call);
        }
    }

  json_object_set_string_member (message, "role", "assistant");
  if (text != NULL)
    json_object_set_string_member (message, "content", text);
  else if (calls != NULL)
    json_object_set_null_member (message, "content");
  else
    json_object_set_string_member (message, "content", "");
  if (calls != NULL)
    json_object_set_array_member (message, "tool_calls", calls);

  json_array_add_object_element (messages, message);
}

/* A user turn: its tool_result blocks become "tool" messages (which must
 * follow the assistant's tool_calls at once), its text a user message
 * after them. */
static void
add_user_message (JsonArray *messages,
                  JsonNode  *content)
{
  g_autofree char *text = dup_content_text (content);

  if (content != NULL && JSON_NODE_HOLDS_ARRAY (content))
    {
      JsonArray *blocks = json_node_get_array (content);
      guint n = json_array_get_length (blocks);

      for (guint i = 0; i < n; i++)
        {
          JsonNode *element = json_array_get_element (blocks, i);
          JsonObject *block;
          JsonObject *message;
          g_autofree char *result = NULL;
          JsonNode *node;

          if (!JSON_NODE_HOLDS_OBJECT (element))
            continue;
          block = json_node_get_object (element);
          if (g_strcmp0 (_fj_json_get_string (block, "type"), "tool_result") != 0)
            continue;

          node = json_object_get_member (block, "content");
          result = dup_content_text (node);

          /* The protocol has no error flag: say it in the text. */
          if (json_object_get_boolean_member_with_default (block, "is_error", FALSE))
            {
              char *marked = g_strconcat ("Error: ", result ? result : "the tool failed", NULL);

              g_free (result);
              result = marked;
            }

          message = json_object_new ();
          json_object_set_string_member (message, "role", "tool");
          json_object_set_string_member (message, "tool_call_id",
                                         _fj_json_get_string (block, "tool_use_id") ?: "");
          json_object_set_string_member (message, "content", result ? result : "");
          json_array_add_object_element (messages, message);
        }
    }

  if (text != NULL)
    add_text_message (messages, "user", text);
}

static JsonArray *
translate_tools (JsonArray *tools)
{
  JsonArray *out = json_array_new ();
  guint n = json_array_get_length (tools);

  for (guint i = 0; i < n; i++)
    {
      JsonNode *element = json_array_get_element (tools, i);
      JsonObject *tool;
      JsonObject *function;
      JsonObject *entry;
      JsonNode *schema;
      const char *description;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        continue;
      tool = json_node_get_object (element);
      if (_fj_json_get_string (tool, "name") == NULL)
        continue;

      function = json_object_new ();
      json_object_set_string_member (function, "name", _fj_json_get_string (tool, "name"));
      if ((description = _fj_json_get_string (tool, "description")) != NULL)
        json_object_set_string_member (function, "description", description);
      schema = json_object_get_member (tool, "input_schema");
      if (schema != NULL && JSON_NODE_HOLDS_OBJECT (schema))
        json_object_set_member (function, "parameters", json_node_copy (schema));
      else
        {
          JsonObject *empty = json_object_new ();

          json_object_set_string_member (empty, "type", "object");
          json_object_set_object_member (function, "parameters", empty);
        }

      entry = json_object_new ();
      json_object_set_string_member (entry, "type", "function");
      json_object_set_object_member (entry, "function", function);
      json_array_add_object_element (out, entry);
    }

  return out;
}

/* Anthropic's tool_choice ({"type": "auto"|"any"|"tool"|"none", "name"})
 * as OpenAI's; NULL when it has no equivalent. */
static JsonNode *
translate_tool_choice (JsonNode *choice)
{
  JsonObject *object;
  const char *type;
  JsonNode *out;

  if (choice == NULL || !JSON_NODE_HOLDS_OBJECT (choice))
    return NULL;

  object = json_node_get_object (choice);
  type = _fj_json_get_string (object, "type");

  if (g_strcmp0 (type, "tool") == 0 && _fj_json_get_string (object, "name") != NULL)
    {
      JsonObject *named = json_object_new ();
      JsonObject *function = json_object_new ();

      json_object_set_string_member (function, "name", _fj_json_get_string (object, "name"));
      json_object_set_string_member (named, "type", "function");
      json_object_set_object_member (named, "function", function);
      out = json_node_new (JSON_NODE_OBJECT);
      json_node_take_object (out, named);
      return out;
    }

  out = json_node_new (JSON_NODE_VALUE);
  if (g_strcmp0 (type, "auto") == 0)
    json_node_set_string (out, "auto");
  else if (g_strcmp0 (type, "any") == 0)
    json_node_set_string (out, "required");
  else if (g_strcmp0 (type, "none") == 0)
    json_node_set_string (out, "none");
  else
    g_clear_pointer (&out, json_node_unref);

  return out;
}

static void
copy_member (JsonObject *from,
             JsonObject *to,
             const char *name,
             const char *to_name)
{
  JsonNode *node = json_object_get_member (from, name);

  if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
    json_object_set_member (to, to_name, json_node_copy (node));
}

JsonNode *
_fj_openai_build_request (JsonObject *params)
{
  JsonObject *body = json_object_new ();
  JsonArray *messages = json_array_new ();
  g_autofree char *system = NULL;
  JsonArray *turns;
  JsonArray *tools;
  JsonNode *choice;
  JsonNode *root;

  g_return_val_if_fail (params != NULL, NULL);

  copy_member (params, body, "model", "model");

  system = dup_content_text (json_object_get_member (params, "system"));
  if (system != NULL)
    add_text_message (messages, "system", system);

  if ((turns = _fj_json_get_array (params, "messages")) != NULL)
    {
      guint n = json_array_get_length (turns);

      for (guint i = 0; i < n; i++)
        {
          JsonNode *element = json_array_get_element (turns, i);
          JsonObject *turn;
          const char *role;
          JsonNode *content;

          if (!JSON_NODE_HOLDS_OBJECT (element))
            continue;
          turn = json_node_get_object (element);
          role = _fj_json_get_string (turn, "role");
          content = json_object_get_member (turn, "content");

          if (g_strcmp0 (role, "assistant") == 0)
            add_assistant_message (messages, content);
          else
            add_user_message (messages, content);
        }
    }
  json_object_set_array_member (body, "messages", messages);

  copy_member (params, body, "max_tokens", "max_tokens");
  copy_member (params, body, "temperature", "temperature");
  copy_member (params, body, "top_p", "top_p");
  copy_member (params, body, "stop_sequences", "stop");

  if ((tools = _fj_json_get_array (params, "tools")) != NULL && json_array_get_length (tools) > 0)
    json_object_set_array_member (body, "tools", translate_tools (tools));

  if ((choice = translate_tool_choice (json_object_get_member (params, "tool_choice"))) != NULL)
    json_object_set_member (body, "tool_choice", choice);

  if (json_object_get_boolean_member_with_default (params, "stream", FALSE))
    {
      JsonObject *options = json_object_new ();

      json_object_set_boolean_member (body, "stream", TRUE);
      json_object_set_boolean_member (options, "include_usage", TRUE);
      json_object_set_object_member (body, "stream_options", options);
    }

  root = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (root, body);

  return root;
}

const char *
_fj_openai_map_finish_reason (const char *finish_reason,
                              gboolean    had_tool_calls)
{
  if (finish_reason == NULL)
    return NULL;
  if (strcmp (finish_reason, "stop") == 0)
    return had_tool_calls ? "tool_use" : "end_turn";
  if (strcmp (finish_reason, "length") == 0)
    return "max_tokens";
  if (strcmp (finish_reason, "tool_calls") == 0 || strcmp (finish_reason, "function_call") == 0)
    return "tool_use";
  if (strcmp (finish_reason, "content_filter") == 0)
    return "refusal";
  return finish_reason;
}

/* OpenAI's usage as Anthropic's: prompt_tokens counts the cached tokens
 * too, and FjUsage's input_tokens does not. NULL when @usage has no count. */
static JsonObject *
translate_usage (JsonObject *usage)
{
  JsonObject *out;
  gint64 prompt = -1;
  gint64 completion = -1;
  gint64 cached = -1;

  if (usage == NULL)
    return NULL;

  if (!_fj_json_get_int (usage, "prompt_tokens", &prompt))
    prompt = -1;
  if (!_fj_json_get_int (usage, "completion_tokens", &completion))
    completion = -1;
  if (!_fj_json_get_int (_fj_json_get_object (usage, "prompt_tokens_details"), "cached_tokens", &cached))
    cached = -1;

  if (prompt < 0 && completion < 0 && cached < 0)
    return NULL;

  out = json_object_new ();
  if (prompt >= 0)
    json_object_set_int_member (out, "input_tokens", MAX (prompt - MAX (cached, 0), 0));
  if (completion >= 0)
    json_object_set_int_member (out, "output_tokens", completion);
  if (cached >= 0)
    json_object_set_int_member (out, "cache_read_input_tokens", cached);

  return out;
}

/* ------------------------------------------------------------------ */
/* Streams                                                            */
/* ------------------------------------------------------------------ */

#define NO_BLOCK G_MAXUINT

typedef struct
{
  gint64 index;     /* the tool call's index in the stream */
  guint  block;     /* its content block */
} ToolSlot;

struct _FjOpenaiStream
{
  FjMessage     *message;
  JsonGenerator *generator;
  GArray        *tools;        /* ToolSlot */
  GArray        *open_blocks;  /* guint */
  guint          n_blocks;
  guint          text_block;   /* the open text block, or NO_BLOCK */
  guint          last_block;
  guint          started : 1;
  guint          finished : 1; /* a finish_reason came */
  guint          done : 1;     /* [DONE] came */
};

FjOpenaiStream *
_fj_openai_stream_new (FjMessage *message)
{
  FjOpenaiStream *self;

  g_return_val_if_fail (FJ_IS_MESSAGE (message), NULL);

  self = g_new0 (FjOpenaiStream, 1);
  self->message = g_object_ref (message);
  self->generator = json_generator_new ();
  self->tools = g_array_new (FALSE, FALSE, sizeof (ToolSlot));
  self->open_blocks = g_array_new (FALSE, FALSE, sizeof (guint));
  self->text_block = NO_BLOCK;
  self->last_block = NO_BLOCK;

  return self;
}

void
_fj_openai_stream_free (FjOpenaiStream *self)
{
  if (self == NULL)
    return;

  g_clear_object (&self->message);
  g_clear_object (&self->generator);
  g_array_unref (self->tools);
  g_array_unref (self->open_blocks);
  g_free (self);
}

gboolean
_fj_openai_stream_get_done (FjOpenaiStream *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->done;
}

/* Hands one Anthropic event to the message; takes @event. */
static gboolean
emit (FjOpenaiStream  *self,
      const char      *name,
      JsonObject      *event,
      GError         **error)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *data = NULL;
  gsize length;

  json_object_set_string_member (event, "type", name);
  json_node_take_object (node, event);
  json_generator_set_root (self->generator, node);
  data = json_generator_to_data (self->generator, &length);
  json_generator_set_root (self->generator, NULL);

  return _fj_message_handle_event (self->message, name, data, length, error);
}

static gboolean
emit_message_start (FjOpenaiStream  *self,
                    JsonObject      *chunk,
                    GError         **error)
{
  JsonObject *event = json_object_new ();
  JsonObject *message = json_object_new ();
  JsonObject *usage = json_object_new ();

  json_object_set_int_member (usage, "input_tokens", 0);
  json_object_set_int_member (usage, "output_tokens", 0);

  json_object_set_string_member (message, "id", _fj_json_get_string (chunk, "id") ?: "");
  json_object_set_string_member (message, "type", "message");
  json_object_set_string_member (message, "role", "assistant");
  json_object_set_string_member (message, "model", _fj_json_get_string (chunk, "model") ?: "");
  json_object_set_array_member (message, "content", json_array_new ());
  json_object_set_null_member (message, "stop_reason");
  json_object_set_null_member (message, "stop_sequence");
  json_object_set_object_member (message, "usage", usage);
  json_object_set_object_member (event, "message", message);

  self->started = TRUE;
  return emit (self, "message_start", event, error);
}

static gboolean
start_block (FjOpenaiStream  *self,
             JsonObject      *block,
             guint           *index,
             GError         **error)
{
  JsonObject *event = json_object_new ();

  *index = self->n_blocks++;
  self->last_block = *index;
  g_array_append_val (self->open_blocks, *index);

  json_object_set_int_member (event, "index", *index);
  json_object_set_object_member (event, "content_block", block);

  return emit (self, "content_block_start", event, error);
}

static gboolean
emit_delta (FjOpenaiStream  *self,
            guint            index,
            const char      *type,
            const char      *member,
            const char      *value,
            GError         **error)
{
  JsonObject *event = json_object_new ();
  JsonObject *delta = json_object_new ();

  json_object_set_string_member (delta, "type", type);
  json_object_set_string_member (delta, member, value);
  json_object_set_int_member (event, "index", index);
  json_object_set_object_member (event, "delta", delta);

  return emit (self, "content_block_delta", event, error);
}

static gboolean
stop_blocks (FjOpenaiStream  *self,
             GError         **error)
{
  for (guint i = 0; i < self->open_blocks->len; i++)
    {
      JsonObject *event = json_object_new ();

      json_object_set_int_member (event, "index", g_array_index (self->open_blocks, guint, i));
      if (!emit (self, "content_block_stop", event, error))
        return FALSE;
    }

  g_array_set_size (self->open_blocks, 0);
  self->text_block = NO_BLOCK;

  return TRUE;
}

static gboolean
handle_text (FjOpenaiStream  *self,
             const char      *text,
             GError         **error)
{
  /* Text after a tool call starts a new block, as the API would. */
  if (self->text_block == NO_BLOCK || self->last_block != self->text_block)
    {
      JsonObject *block = json_object_new ();

      json_object_set_string_member (block, "type", "text");
      json_object_set_string_member (block, "text", "");
      if (!start_block (self, block, &self->text_block, error))
        return FALSE;
    }

  return emit_delta (self, self->text_block, "text_delta", "text", text, error);
}

static gboolean
handle_tool_calls (FjOpenaiStream  *self,
                   JsonArray       *calls,
                   GError         **error)
{
  guint n = json_array_get_length (calls);

  for (guint i = 0; i < n; i++)
    {
      JsonNode *element = json_array_get_element (calls, i);
      JsonObject *call;
      JsonObject *function;
      const char *arguments;
      guint block = NO_BLOCK;
      gint64 index;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        continue;
      call = json_node_get_object (element);
      function = _fj_json_get_object (call, "function");
      if (!_fj_json_get_int (call, "index", &index))
        index = i;

      for (guint j = 0; j < self->tools->len; j++)
        if (g_array_index (self->tools, ToolSlot, j).index == index)
          block = g_array_index (self->tools, ToolSlot, j).block;

      if (block == NO_BLOCK)
        {
          JsonObject *content = json_object_new ();
          ToolSlot slot;
          const char *id = _fj_json_get_string (call, "id");
          g_autofree char *made_id = NULL;

          /* Some servers give no id: the reply needs one to answer. */
          if (id == NULL || *id == '\0')
            id = made_id = g_strdup_printf ("call_%" G_GINT64_FORMAT, index);

          json_object_set_string_member (content, "type", "tool_use");
          json_object_set_string_member (content, "id", id);
          json_object_set_string_member (content, "name", _fj_json_get_string (function, "name") ?: "");
          json_object_set_object_member (content, "input", json_object_new ());
          if (!start_block (self, content, &block, error))
            return FALSE;

          slot.index = index;
          slot.block = block;
          g_array_append_val (self->tools, slot);
        }

      arguments = _fj_json_get_string (function, "arguments");
      if (arguments == NULL && _fj_json_get_object (function, "arguments") != NULL)
        {
          /* A server that sends the arguments as an object. */
          g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
          g_autofree char *text = NULL;

          json_node_set_object (node, _fj_json_get_object (function, "arguments"));
          text = node_to_string (node, NULL);
          if (!emit_delta (self, block, "input_json_delta", "partial_json", text, error))
            return FALSE;
        }
      else if (arguments != NULL && *arguments != '\0' &&
               !emit_delta (self, block, "input_json_delta", "partial_json", arguments, error))
        return FALSE;
    }

  return TRUE;
}

static gboolean
emit_usage (FjOpenaiStream  *self,
            JsonObject      *chunk,
            const char      *stop_reason,
            GError         **error)
{
  JsonObject *usage = translate_usage (_fj_json_get_object (chunk, "usage"));
  JsonObject *event;

  if (usage == NULL && stop_reason == NULL)
    return TRUE;

  event = json_object_new ();
  if (stop_reason != NULL)
    {
      JsonObject *delta = json_object_new ();

      json_object_set_string_member (delta, "stop_reason", stop_reason);
      json_object_set_null_member (delta, "stop_sequence");
      json_object_set_object_member (event, "delta", delta);
    }
  if (usage != NULL)
    json_object_set_object_member (event, "usage", usage);

  return emit (self, "message_delta", event, error);
}

static gboolean
handle_error_chunk (FjOpenaiStream  *self,
                    JsonNode        *node,
                    GError         **error)
{
  JsonObject *event = json_object_new ();
  JsonObject *details = json_object_new ();
  JsonObject *given = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  const char *type = _fj_json_get_string (given, "type");
  const char *message = _fj_json_get_string (given, "message");

  if (given == NULL && JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_STRING)
    message = json_node_get_string (node);

  json_object_set_string_member (details, "type", type ? type : "api_error");
  json_object_set_string_member (details, "message", message ? message : "no message");
  json_object_set_object_member (event, "error", details);

  return emit (self, "error", event, error);
}

static gboolean
is_done (const char *data,
         gsize       length)
{
  while (length > 0 && g_ascii_isspace (*data))
    {
      data++;
      length--;
    }

  return length >= 6 && memcmp (data, "[DONE]", 6) == 0;
}

static gboolean
is_blank (const char *data,
          gsize       length)
{
  for (gsize i = 0; i < length; i++)
    if (!g_ascii_isspace (data[i]))
      return FALSE;

  return TRUE;
}

gboolean
_fj_openai_stream_feed (FjOpenaiStream  *self,
                        const char      *data,
                        gsize            length,
                        GError         **error)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) local_error = NULL;
  JsonObject *chunk;
  JsonNode *error_node;
  JsonArray *choices;
  const char *stop_reason = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (data != NULL || length == 0, FALSE);

  /* As the SDK does, nothing after [DONE] is read. */
  if (self->done || is_blank (data, length))
    return TRUE;

  if (is_done (data, length))
    {
      self->done = TRUE;
      if (!self->started && !emit_message_start (self, NULL, error))
        return FALSE;
      /* Blocks still open (no finish_reason, or "length") are finished
       * by message_stop, leniently. */
      return emit (self, "message_stop", json_object_new (), error);
    }

  if ((root = _fj_json_parse_network (data, length, NULL, NULL, &local_error)) == NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "a stream chunk ");
      return FALSE;
    }

  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, FJ_ERROR, FJ_ERROR_PROTOCOL,
                           "a stream chunk is not a JSON object");
      return FALSE;
    }
  chunk = json_node_get_object (root);

  error_node = json_object_get_member (chunk, "error");
  if (error_node != NULL && !JSON_NODE_HOLDS_NULL (error_node))
    return handle_error_chunk (self, error_node, error);

  if (!self->started && !emit_message_start (self, chunk, error))
    return FALSE;

  if ((choices = _fj_json_get_array (chunk, "choices")) != NULL && json_array_get_length (choices) > 0)
    {
      JsonNode *first = json_array_get_element (choices, 0);
      JsonObject *choice = JSON_NODE_HOLDS_OBJECT (first) ? json_node_get_object (first) : NULL;
      JsonObject *delta = _fj_json_get_object (choice, "delta");
      const char *text = _fj_json_get_string (delta, "content");
      JsonArray *calls = _fj_json_get_array (delta, "tool_calls");
      const char *finish_reason = _fj_json_get_string (choice, "finish_reason");

      /* delta.reasoning_content is the model thinking aloud: not text. */
      if (text != NULL && *text != '\0' && !handle_text (self, text, error))
        return FALSE;

      if (calls != NULL && !handle_tool_calls (self, calls, error))
        return FALSE;

      if (finish_reason != NULL && !self->finished)
        {
          self->finished = TRUE;
          stop_reason = _fj_openai_map_finish_reason (finish_reason, self->tools->len > 0);

          /* A tool call cut by the token limit may hold half its JSON: its
           * block is left open, for message_stop to finish leniently. */
          if (strcmp (finish_reason, "length") != 0 && !stop_blocks (self, error))
            return FALSE;
        }
    }

  return emit_usage (self, chunk, stop_reason, error);
}

/* ------------------------------------------------------------------ */
/* Plain replies                                                      */
/* ------------------------------------------------------------------ */

static gboolean
protocol_error (GError     **error,
                const char  *why)
{
  g_set_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL,
               "the reply is not a chat completion: %s", why);
  return FALSE;
}

gboolean
_fj_openai_load_reply (FjMessage   *message,
                       const char  *data,
                       gsize        length,
                       GError     **error)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) out_root = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *out = NULL;
  JsonObject *body;
  JsonObject *reply;
  JsonArray *content;
  JsonArray *choices;
  JsonObject *choice;
  JsonObject *source;
  JsonObject *usage;
  JsonArray *calls;
  JsonNode *error_node;
  const char *finish_reason;
  const char *text;
  gsize out_length;
  guint n_calls = 0;

  g_return_val_if_fail (FJ_IS_MESSAGE (message), FALSE);
  g_return_val_if_fail (data != NULL || length == 0, FALSE);

  if ((root = _fj_json_parse_network (data, length, NULL, NULL, &local_error)) == NULL)
    return protocol_error (error, local_error->message);

  if (!JSON_NODE_HOLDS_OBJECT (root))
    return protocol_error (error, "it is not a JSON object");
  body = json_node_get_object (root);

  error_node = json_object_get_member (body, "error");
  if (error_node != NULL && !JSON_NODE_HOLDS_NULL (error_node))
    {
      JsonObject *details = JSON_NODE_HOLDS_OBJECT (error_node) ?
                            json_node_get_object (error_node) : NULL;

      g_set_error (error, FJ_ERROR, FJ_ERROR_SERVER, "%s: %s",
                   _fj_json_get_string (details, "type") ?: "error",
                   _fj_json_get_string (details, "message") ?: "no message");
      return FALSE;
    }

  choices = _fj_json_get_array (body, "choices");
  if (choices == NULL || json_array_get_length (choices) == 0 ||
      !JSON_NODE_HOLDS_OBJECT (json_array_get_element (choices, 0)))
    return protocol_error (error, "it has no choices");
  choice = json_array_get_object_element (choices, 0);
  source = _fj_json_get_object (choice, "message");
  if (source == NULL)
    return protocol_error (error, "its choice has no message");

  finish_reason = _fj_json_get_string (choice, "finish_reason");
  content = json_array_new ();

  if ((text = _fj_json_get_string (source, "content")) != NULL && *text != '\0')
    {
      JsonObject *block = json_object_new ();

      json_object_set_string_member (block, "type", "text");
      json_object_set_string_member (block, "text", text);
      json_array_add_object_element (content, block);
    }

  if ((calls = _fj_json_get_array (source, "tool_calls")) != NULL)
    {
      guint n = json_array_get_length (calls);

      for (guint i = 0; i < n; i++)
        {
          JsonNode *element = json_array_get_element (calls, i);
          JsonObject *call;
          JsonObject *function;
          JsonObject *block;
          JsonNode *input = NULL;
          const char *arguments;
          const char *id;
          g_autofree char *made_id = NULL;

          if (!JSON_NODE_HOLDS_OBJECT (element))
            continue;
          call = json_node_get_object (element);
          function = _fj_json_get_object (call, "function");

          if ((arguments = _fj_json_get_string (function, "arguments")) != NULL)
            {
              if (!is_blank (arguments, strlen (arguments)))
                {
                  g_autoptr(GError) parse_error = NULL;

                  input = _fj_json_parse_network (arguments, strlen (arguments), NULL, NULL, &parse_error);
                  if ((input == NULL || !JSON_NODE_HOLDS_OBJECT (input)) &&
                      g_strcmp0 (finish_reason, "length") != 0)
                    {
                      g_clear_pointer (&input, json_node_unref);
                      json_array_unref (content);
                      g_set_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL,
                                   "the arguments of tool call %u %s", i,
                                   parse_error ? parse_error->message : "are not a JSON object");
                      return FALSE;
                    }
                }
            }
          else if (_fj_json_get_object (function, "arguments") != NULL)
            {
              input = json_node_new (JSON_NODE_OBJECT);
              json_node_set_object (input, _fj_json_get_object (function, "arguments"));
            }

          if (input != NULL && !JSON_NODE_HOLDS_OBJECT (input))
            g_clear_pointer (&input, json_node_unref);
          if (input == NULL)
            {
              input = json_node_new (JSON_NODE_OBJECT);
              json_node_take_object (input, json_object_new ());
            }

          id = _fj_json_get_string (call, "id");
          if (id == NULL || *id == '\0')
            id = made_id = g_strdup_printf ("call_%u", i);

          block = json_object_new ();
          json_object_set_string_member (block, "type", "tool_use");
          json_object_set_string_member (block, "id", id);
          json_object_set_string_member (block, "name", _fj_json_get_string (function, "name") ?: "");
          json_object_set_member (block, "input", input);
          json_array_add_object_element (content, block);
          n_calls++;
        }
    }

  reply = json_object_new ();
  json_object_set_string_member (reply, "type", "message");
  json_object_set_string_member (reply, "id", _fj_json_get_string (body, "id") ?: "");
  json_object_set_string_member (reply, "role", "assistant");
  json_object_set_string_member (reply, "model", _fj_json_get_string (body, "model") ?: "");
  json_object_set_array_member (reply, "content", content);
  if (finish_reason != NULL)
    json_object_set_string_member (reply, "stop_reason",
                                   _fj_openai_map_finish_reason (finish_reason, n_calls > 0));
  else
    json_object_set_null_member (reply, "stop_reason");
  json_object_set_null_member (reply, "stop_sequence");
  if ((usage = translate_usage (_fj_json_get_object (body, "usage"))) != NULL)
    json_object_set_object_member (reply, "usage", usage);

  out_root = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (out_root, reply);
  out = node_to_string (out_root, &out_length);

  return _fj_message_load_reply (message, out, out_length, error);
}

/* ------------------------------------------------------------------ */
/* Errors                                                             */
/* ------------------------------------------------------------------ */

GError *
_fj_openai_api_error (guint       status,
                      const char *data,
                      gsize       length,
                      const char *request_id)
{
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *excerpt = NULL;
  g_autofree char *code_text = NULL;
  const char *type = NULL;
  const char *text = NULL;
  const char *label;
  FjError code;

  if (length > 0 && (root = _fj_json_parse_network (data, length, NULL, NULL, NULL)) != NULL &&
      JSON_NODE_HOLDS_OBJECT (root))
    {
      JsonObject *object = json_node_get_object (root);
      JsonNode *err = json_object_get_member (object, "error");
      JsonObject *details = err && JSON_NODE_HOLDS_OBJECT (err) ? json_node_get_object (err) : NULL;

      if (details != NULL)
        {
          gint64 number;

          type = _fj_json_get_string (details, "type");
          text = _fj_json_get_string (details, "message");
          if (type == NULL && _fj_json_get_string (details, "code") != NULL)
            type = _fj_json_get_string (details, "code");
          else if (type == NULL && _fj_json_get_int (details, "code", &number))
            type = code_text = g_strdup_printf ("%" G_GINT64_FORMAT, number);
        }
      else if (err != NULL && JSON_NODE_HOLDS_VALUE (err) &&
               json_node_get_value_type (err) == G_TYPE_STRING)
        text = json_node_get_string (err);   /* llama.cpp's older form */

      if (request_id == NULL)
        request_id = _fj_json_get_string (object, "request_id");
    }

  if (text == NULL && length > 0)
    {
      excerpt = g_utf8_make_valid (data, MIN (length, 200));
      g_strstrip (excerpt);
      if (*excerpt == '\0')
        g_clear_pointer (&excerpt, g_free);
    }

  if (status == 503 || status == 529)
    code = FJ_ERROR_OVERLOADED;
  else
    code = _fj_error_code_for_api_error (NULL, status);

  label = type ? type : soup_status_get_phrase (status);

  return g_error_new (FJ_ERROR, code, "HTTP %u %s%s%s%s%s%s",
                      status,
                      label ? label : "error",
                      text || excerpt ? ": " : "",
                      text ? text : (excerpt ? excerpt : ""),
                      request_id ? " (request " : "",
                      request_id ? request_id : "",
                      request_id ? ")" : "");
}
