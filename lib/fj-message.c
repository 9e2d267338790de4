/* fj-message.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-message-private.h"

#include <string.h>

#include "fj-error-private.h"
#include "fj-json-private.h"

/**
 * FjMessage:
 *
 * One request to the Messages API and its reply.
 *
 * An `FjMessage` holds the request parameters (the JSON body of
 * `POST /v1/messages`: `model`, `max_tokens`, `system`, `messages`,
 * `tools`, `stream`...) and the reply as it accumulates, the way a
 * `SoupMessage` holds an HTTP request and its response. [class@Client]
 * fills in the reply: all at once for a plain JSON reply, or event by
 * event for a streamed one, emitting [signal@Message::text-delta] as text
 * arrives.
 *
 * While a reply streams, [method@Message.get_text] is the text so far;
 * after a failure it is the partial output. [method@Message.get_content]
 * is the assistant's content as assembled (tool inputs parsed, unknown
 * block types carried through), ready to be sent back as the assistant
 * turn of the next request.
 *
 * Since: 1.0
 */

typedef enum
{
  BLOCK_OTHER,
  BLOCK_TEXT,
  BLOCK_THINKING,
  BLOCK_TOOL_USE,
  /* server_tool_use, mcp_tool_use: input streams as JSON too, but these
   * are not tools for the caller to run. */
  BLOCK_OTHER_TOOL,
} BlockKind;

typedef struct
{
  JsonObject *object;
  /* Streamed text of a text block, or thinking of a thinking block; copied
   * into @object lazily, so a long reply is not copied once per delta. */
  GString    *acc;
  /* Concatenated input_json_delta fragments, parsed at content_block_stop. */
  GString    *partial_json;
  BlockKind   kind;
  guint       dirty : 1;
  guint       open : 1;
} Block;

typedef enum
{
  REPLY_NONE,
  REPLY_STREAMING,
  REPLY_COMPLETE,
  REPLY_FAILED,
} ReplyState;

struct _FjMessage
{
  GObject         parent_instance;

  JsonObject     *params;

  char           *id;
  char           *model;
  char           *stop_reason;
  char           *stop_sequence;
  JsonNode       *stop_details;
  char           *request_id;
  FjUsage         usage;

  GPtrArray      *blocks;
  JsonArray      *content;
  /* A plain reply's parsed body; its content array is @content. */
  JsonNode       *reply_root;

  GString        *text;
  guint           text_tail;
  gboolean        text_stale;

  JsonParser     *parser;
  GString        *scratch;      /* fast_json_parse() strings */
  GString        *delta_text;   /* _fj_json_scan_text_delta() text */

  gint64          deadline_us;
  guint           status_code;
  guint           attempts;
  FjMessagePhase  phase;
  ReplyState      state;
  gboolean        saw_body;

  /* _fj_message_set_started_func() */
  FjMessageStartedFunc started_func;
  gpointer        started_data;
  gboolean        started;
};

enum {
  PROP_0,
  PROP_PARAMS,
  PROP_ID,
  PROP_MODEL,
  PROP_STOP_REASON,
  PROP_STOP_SEQUENCE,
  PROP_REQUEST_ID,
  PROP_TEXT,
  PROP_USAGE,
  PROP_STATUS_CODE,
  PROP_ATTEMPTS,
  N_PROPS
};

enum {
  TEXT_DELTA,
  RETRYING,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (FjMessage, fj_message, G_TYPE_OBJECT)

#define NO_TEXT_TAIL G_MAXUINT

static JsonNode *
deep_copy (JsonNode *node)
{
  JsonNode *copy;

  g_assert (node != NULL);

  /* json_node_copy() shares objects and arrays; a copy must not keep
   * pointers into an event's tree once that tree is freed. */
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *dst = json_object_new ();
      JsonObjectIter iter;
      const char *name;
      JsonNode *member;

      json_object_iter_init_ordered (&iter, json_node_get_object (node));
      while (json_object_iter_next_ordered (&iter, &name, &member))
        json_object_set_member (dst, name, deep_copy (member));

      copy = json_node_init_object (json_node_alloc (), dst);
      json_object_unref (dst);
      return copy;
    }
  else if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *src = json_node_get_array (node);
      guint n = json_array_get_length (src);
      JsonArray *dst = json_array_sized_new (n);

      for (guint i = 0; i < n; i++)
        json_array_add_element (dst, deep_copy (json_array_get_element (src, i)));

      copy = json_node_init_array (json_node_alloc (), dst);
      json_array_unref (dst);
      return copy;
    }

  return json_node_copy (node);
}

static JsonObject *
deep_copy_object (JsonObject *object)
{
  g_autoptr(JsonNode) src = json_node_init_object (json_node_alloc (), object);
  g_autoptr(JsonNode) copy = deep_copy (src);

  return json_node_dup_object (copy);
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

static void
block_free (gpointer data)
{
  Block *block = data;

  json_object_unref (block->object);
  if (block->acc != NULL)
    g_string_free (block->acc, TRUE);
  if (block->partial_json != NULL)
    g_string_free (block->partial_json, TRUE);
  g_free (block);
}

static void
set_string_prop (FjMessage   *self,
                 char       **field,
                 const char  *value,
                 guint        prop)
{
  if (g_strcmp0 (*field, value) == 0)
    return;

  g_free (*field);
  *field = g_strdup (value);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static void
set_usage (FjMessage     *self,
           const FjUsage *usage)
{
  if (fj_usage_equal (&self->usage, usage))
    return;

  self->usage = *usage;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USAGE]);
}

static void
update_usage (FjMessage  *self,
              JsonObject *object)
{
  FjUsage usage = self->usage;

  fj_usage_update_from_json (&usage, object);
  set_usage (self, &usage);
}

static void
reset_reply (FjMessage *self)
{
  static const FjUsage zero;

  g_assert (FJ_IS_MESSAGE (self));

  g_object_freeze_notify (G_OBJECT (self));

  set_string_prop (self, &self->id, NULL, PROP_ID);
  set_string_prop (self, &self->model, NULL, PROP_MODEL);
  set_string_prop (self, &self->stop_reason, NULL, PROP_STOP_REASON);
  set_string_prop (self, &self->stop_sequence, NULL, PROP_STOP_SEQUENCE);
  g_clear_pointer (&self->stop_details, json_node_unref);
  set_usage (self, &zero);

  g_ptr_array_set_size (self->blocks, 0);
  g_clear_pointer (&self->content, json_array_unref);
  self->content = json_array_new ();
  g_clear_pointer (&self->reply_root, json_node_unref);

  if (self->text->len > 0)
    {
      g_string_truncate (self->text, 0);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXT]);
    }
  self->text_tail = NO_TEXT_TAIL;
  self->text_stale = FALSE;

  self->state = REPLY_NONE;

  g_object_thaw_notify (G_OBJECT (self));
}

/* What reset_reply() would leave, but for the content array. */
static gboolean
reply_is_pristine (FjMessage *self)
{
  static const FjUsage zero;

  return self->state == REPLY_NONE && self->blocks->len == 0 &&
         self->id == NULL && self->model == NULL && self->stop_reason == NULL &&
         self->stop_sequence == NULL && self->stop_details == NULL &&
         self->reply_root == NULL && self->text->len == 0 &&
         self->text_tail == NO_TEXT_TAIL && !self->text_stale &&
         fj_usage_equal (&self->usage, &zero);
}

static Block *
append_block (FjMessage  *self,
              JsonObject *object,
              gboolean    streaming)
{
  Block *block = g_new0 (Block, 1);
  const char *type = _fj_json_get_string (object, "type");

  block->object = json_object_ref (object);
  block->open = streaming;

  if (g_strcmp0 (type, "text") == 0)
    block->kind = BLOCK_TEXT;
  else if (g_strcmp0 (type, "thinking") == 0)
    block->kind = BLOCK_THINKING;
  else if (g_strcmp0 (type, "tool_use") == 0)
    block->kind = BLOCK_TOOL_USE;
  else if (g_strcmp0 (type, "server_tool_use") == 0 ||
           g_strcmp0 (type, "mcp_tool_use") == 0)
    block->kind = BLOCK_OTHER_TOOL;
  else
    block->kind = BLOCK_OTHER;

  if (block->kind == BLOCK_TEXT)
    {
      const char *text = _fj_json_get_string (object, "text");

      if (streaming)
        block->acc = g_string_new (text);

      /* A new block is always the last one, so its text ends the
       * concatenation. */
      self->text_tail = self->blocks->len;
      if (text != NULL && !self->text_stale)
        g_string_append (self->text, text);
    }
  else if (block->kind == BLOCK_THINKING && streaming)
    {
      block->acc = g_string_new (_fj_json_get_string (object, "thinking"));
    }

  g_ptr_array_add (self->blocks, block);
  if (streaming)
    json_array_add_object_element (self->content, json_object_ref (object));

  return block;
}

static void
sync_block (Block *block)
{
  if (!block->dirty)
    return;

  block->dirty = FALSE;
  if (block->kind == BLOCK_TEXT)
    json_object_set_string_member (block->object, "text", block->acc->str);
  else if (block->kind == BLOCK_THINKING)
    json_object_set_string_member (block->object, "thinking", block->acc->str);
}

static void
rebuild_text (FjMessage *self)
{
  if (!self->text_stale)
    return;

  g_string_truncate (self->text, 0);
  for (guint i = 0; i < self->blocks->len; i++)
    {
      Block *block = g_ptr_array_index (self->blocks, i);

      if (block->kind != BLOCK_TEXT)
        continue;
      if (block->acc != NULL)
        g_string_append_len (self->text, block->acc->str, block->acc->len);
      else if (_fj_json_get_string (block->object, "text") != NULL)
        g_string_append (self->text, _fj_json_get_string (block->object, "text"));
    }
  self->text_stale = FALSE;
}

/* Errors read "is not valid JSON..." for the caller to prefix with what
 * was parsed, so that nothing is formatted unless parsing fails. */
static JsonNode *
parse_json (FjMessage   *self,
            const char  *data,
            gsize        length,
            GError     **error)
{
  g_assert (FJ_IS_MESSAGE (self));

  if (self->scratch == NULL)
    self->scratch = g_string_sized_new (256);

  return _fj_json_parse_network (data, length, self->scratch, &self->parser, error);
}

/* A stream's tool_use block is finished at its content_block_stop
 * (@strict: its input must parse) or, when the stream ends without one
 * (max_tokens), with whatever parses, else {}. */
static gboolean
finish_block (FjMessage  *self,
              Block      *block,
              guint       index,
              gboolean    strict,
              GError    **error)
{
  g_autoptr(JsonNode) input = NULL;
  g_autoptr(GError) local_error = NULL;

  if (!block->open)
    return TRUE;

  block->open = FALSE;
  sync_block (block);

  if (block->partial_json == NULL)
    return TRUE;

  if (!is_blank (block->partial_json->str, block->partial_json->len))
    {
      input = parse_json (self, block->partial_json->str, block->partial_json->len,
                          &local_error);
      if (input != NULL && !JSON_NODE_HOLDS_OBJECT (input))
        {
          g_clear_pointer (&input, json_node_unref);
          g_set_error_literal (&local_error, FJ_ERROR, FJ_ERROR_PROTOCOL,
                               "is not a JSON object");
        }
    }

  if (input == NULL)
    {
      if (local_error != NULL && strict)
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                      "the input of content block %u ", index);
          return FALSE;
        }
      json_object_set_object_member (block->object, "input", json_object_new ());
    }
  else
    {
      json_object_set_member (block->object, "input", g_steal_pointer (&input));
    }

  g_string_free (block->partial_json, TRUE);
  block->partial_json = NULL;

  return TRUE;
}

static void
finish_open_blocks (FjMessage *self)
{
  for (guint i = 0; i < self->blocks->len; i++)
    finish_block (self, g_ptr_array_index (self->blocks, i), i, FALSE, NULL);
}

static gboolean
get_index (JsonObject  *event,
           const char  *type,
           guint       *index,
           GError     **error)
{
  JsonNode *node = json_object_get_member (event, "index");
  gint64 value;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64 ||
      (value = json_node_get_int (node)) < 0 || value >= G_MAXUINT)
    {
      g_set_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL,
                   "%s event without a valid index", type);
      return FALSE;
    }

  *index = (guint) value;
  return TRUE;
}

static Block *
get_block (FjMessage   *self,
           JsonObject  *event,
           const char  *type,
           guint       *index,
           GError     **error)
{
  if (!get_index (event, type, index, error))
    return NULL;

  if (*index >= self->blocks->len)
    {
      g_set_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL,
                   "%s for content block %u, which does not exist (%u blocks)",
                   type, *index, self->blocks->len);
      return NULL;
    }

  return g_ptr_array_index (self->blocks, *index);
}

/* The API began to answer (message_start, or a whole plain reply): once
 * per message, across retries. */
static void
response_started (FjMessage *self)
{
  if (self->started)
    return;

  self->started = TRUE;
  if (self->started_func != NULL)
    self->started_func (self, self->started_data);
}

static gboolean
handle_message_start (FjMessage   *self,
                      JsonObject  *event,
                      GError     **error)
{
  FjUsage counts = { 0, };
  JsonObject *message = _fj_json_get_object (event, "message");
  JsonObject *usage;
  JsonNode *content;

  if (message == NULL)
    {
      g_set_error_literal (error, FJ_ERROR, FJ_ERROR_PROTOCOL,
                           "message_start without a message");
      return FALSE;
    }

  content = json_object_get_member (message, "content");
  if (content != NULL && !JSON_NODE_HOLDS_NULL (content) &&
      (!JSON_NODE_HOLDS_ARRAY (content) ||
       json_array_get_length (json_node_get_array (content)) > 0))
    {
      g_set_error_literal (error, FJ_ERROR, FJ_ERROR_PROTOCOL,
                           "message_start whose content is not empty");
      return FALSE;
    }

  set_string_prop (self, &self->id, _fj_json_get_string (message, "id"), PROP_ID);
  set_string_prop (self, &self->model, _fj_json_get_string (message, "model"), PROP_MODEL);
  set_string_prop (self, &self->stop_reason, _fj_json_get_string (message, "stop_reason"),
                   PROP_STOP_REASON);
  set_string_prop (self, &self->stop_sequence, _fj_json_get_string (message, "stop_sequence"),
                   PROP_STOP_SEQUENCE);

  if ((usage = _fj_json_get_object (message, "usage")) != NULL)
    fj_usage_update_from_json (&counts, usage);
  set_usage (self, &counts);

  self->state = REPLY_STREAMING;
  response_started (self);
  return TRUE;
}

static gboolean
handle_content_block_start (FjMessage   *self,
                            JsonObject  *event,
                            GError     **error)
{
  g_autoptr(JsonObject) copy = NULL;
  JsonObject *block;
  guint index;

  if (!get_index (event, "content_block_start", &index, error))
    return FALSE;

  if (index != self->blocks->len)
    {
      g_set_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL,
                   "content_block_start for content block %u where block %u was due",
                   index, self->blocks->len);
      return FALSE;
    }

  if ((block = _fj_json_get_object (event, "content_block")) == NULL)
    {
      g_set_error_literal (error, FJ_ERROR, FJ_ERROR_PROTOCOL,
                           "content_block_start without a content_block");
      return FALSE;
    }

  copy = deep_copy_object (block);
  append_block (self, copy, TRUE);

  return TRUE;
}

static gboolean
get_delta_string (JsonObject  *delta,
                  const char  *type,
                  const char  *name,
                  const char **value,
                  GError     **error)
{
  if ((*value = _fj_json_get_string (delta, name)) == NULL)
    {
      g_set_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL,
                   "%s without %s", type, name);
      return FALSE;
    }

  return TRUE;
}

static void
append_text_delta (FjMessage  *self,
                   Block      *block,
                   guint       index,
                   const char *value)
{
  if (block->kind != BLOCK_TEXT)
    return;

  g_string_append (block->acc, value);
  block->dirty = TRUE;
  if (index == self->text_tail && !self->text_stale)
    g_string_append (self->text, value);
  else
    self->text_stale = TRUE;

  g_signal_emit (self, signals[TEXT_DELTA], 0, value);
}

/* What dispatch_event() does with a text delta, for one read by
 * _fj_json_scan_text_delta(): the same checks in the same order. */
static gboolean
handle_scanned_text_delta (FjMessage   *self,
                           guint        index,
                           const char  *value,
                           GError     **error)
{
  if (self->state == REPLY_NONE)
    {
      g_set_error_literal (error, FJ_ERROR, FJ_ERROR_PROTOCOL,
                           "content_block_delta event before message_start");
      return FALSE;
    }

  if (self->state == REPLY_COMPLETE)
    {
      g_set_error_literal (error, FJ_ERROR, FJ_ERROR_PROTOCOL,
                           "content_block_delta event after message_stop");
      return FALSE;
    }

  if (index >= self->blocks->len)
    {
      g_set_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL,
                   "content_block_delta for content block %u, which does not exist (%u blocks)",
                   index, self->blocks->len);
      return FALSE;
    }

  append_text_delta (self, g_ptr_array_index (self->blocks, index), index, value);
  return TRUE;
}

static gboolean
handle_content_block_delta (FjMessage   *self,
                            JsonObject  *event,
                            GError     **error)
{
  JsonObject *delta;
  const char *type;
  const char *value;
  Block *block;
  guint index;

  if ((block = get_block (self, event, "content_block_delta", &index, error)) == NULL)
    return FALSE;

  if ((delta = _fj_json_get_object (event, "delta")) == NULL)
    {
      g_set_error_literal (error, FJ_ERROR, FJ_ERROR_PROTOCOL,
                           "content_block_delta without a delta");
      return FALSE;
    }

  /* As the SDKs do, a delta that does not fit its block's type, and a
   * delta type this version does not know, change nothing. */
  type = _fj_json_get_string (delta, "type");
  if (type == NULL)
    return TRUE;

  if (strcmp (type, "text_delta") == 0)
    {
      if (!get_delta_string (delta, type, "text", &value, error))
        return FALSE;
      append_text_delta (self, block, index, value);
    }
  else if (strcmp (type, "input_json_delta") == 0)
    {
      if (!get_delta_string (delta, type, "partial_json", &value, error))
        return FALSE;
      if (block->kind != BLOCK_TOOL_USE && block->kind != BLOCK_OTHER_TOOL)
        return TRUE;

      if (block->partial_json == NULL)
        block->partial_json = g_string_new (NULL);
      g_string_append (block->partial_json, value);
    }
  else if (strcmp (type, "thinking_delta") == 0)
    {
      if (!get_delta_string (delta, type, "thinking", &value, error))
        return FALSE;
      if (block->kind != BLOCK_THINKING)
        return TRUE;

      g_string_append (block->acc, value);
      block->dirty = TRUE;
    }
  else if (strcmp (type, "signature_delta") == 0)
    {
      if (!get_delta_string (delta, type, "signature", &value, error))
        return FALSE;
      if (block->kind != BLOCK_THINKING)
        return TRUE;

      json_object_set_string_member (block->object, "signature", value);
    }
  else if (strcmp (type, "citations_delta") == 0)
    {
      JsonNode *citation = json_object_get_member (delta, "citation");
      JsonNode *citations;

      if (citation == NULL)
        {
          g_set_error_literal (error, FJ_ERROR, FJ_ERROR_PROTOCOL,
                               "citations_delta without citation");
          return FALSE;
        }
      if (block->kind != BLOCK_TEXT)
        return TRUE;

      citations = json_object_get_member (block->object, "citations");
      if (citations == NULL || !JSON_NODE_HOLDS_ARRAY (citations))
        {
          json_object_set_array_member (block->object, "citations", json_array_new ());
          citations = json_object_get_member (block->object, "citations");
        }
      json_array_add_element (json_node_get_array (citations), deep_copy (citation));
    }

  return TRUE;
}

static gboolean
handle_content_block_stop (FjMessage   *self,
                           JsonObject  *event,
                           GError     **error)
{
  Block *block;
  guint index;

  if ((block = get_block (self, event, "content_block_stop", &index, error)) == NULL)
    return FALSE;

  return finish_block (self, block, index, TRUE, error);
}

static gboolean
handle_message_delta (FjMessage   *self,
                      JsonObject  *event,
                      GError     **error)
{
  JsonObject *delta = _fj_json_get_object (event, "delta");
  JsonObject *usage = _fj_json_get_object (event, "usage");

  if (delta != NULL)
    {
      JsonNode *details = json_object_get_member (delta, "stop_details");

      set_string_prop (self, &self->stop_reason, _fj_json_get_string (delta, "stop_reason"),
                       PROP_STOP_REASON);
      set_string_prop (self, &self->stop_sequence, _fj_json_get_string (delta, "stop_sequence"),
                       PROP_STOP_SEQUENCE);

      g_clear_pointer (&self->stop_details, json_node_unref);
      if (details != NULL && !JSON_NODE_HOLDS_NULL (details))
        self->stop_details = deep_copy (details);
    }

  /* The counts are cumulative totals: overwrite, never add. */
  if (usage != NULL)
    update_usage (self, usage);

  return TRUE;
}

static gboolean
handle_error_event (FjMessage   *self,
                    JsonObject  *event,
                    GError     **error)
{
  JsonObject *details = _fj_json_get_object (event, "error");
  const char *type = details ? _fj_json_get_string (details, "type") : NULL;
  const char *message = details ? _fj_json_get_string (details, "message") : NULL;
  gsize n_bytes = strlen (fj_message_get_text (self));
  g_autofree char *where = NULL;

  if (n_bytes > 0)
    where = g_strdup_printf ("after %" G_GSIZE_FORMAT " bytes of text", n_bytes);

  g_set_error (error, FJ_ERROR, _fj_error_code_for_api_error (type, 0),
               "%s: %s (in the stream, %s)",
               type ? type : "error",
               message ? message : "no message",
               where ? where : "before any text");
  return FALSE;
}

static gboolean
is_stream_event (const char *type)
{
  static const char * const names[] = {
    "message_start", "content_block_start", "content_block_delta",
    "content_block_stop", "message_delta", "message_stop", "error",
  };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (strcmp (type, names[i]) == 0)
      return TRUE;

  return FALSE;
}

static gboolean
dispatch_event (FjMessage   *self,
                const char  *name,
                const char  *data,
                gsize        length,
                GError     **error)
{
  g_autoptr(JsonNode) root = NULL;
  JsonObject *event;
  const char *type;
  guint index;

  /* Keep-alives may come without a payload. */
  if (is_blank (data, length) && !is_stream_event (name))
    return TRUE;

  if (self->delta_text == NULL)
    self->delta_text = g_string_sized_new (64);
  if (_fj_json_scan_text_delta (data, length, self->delta_text, &index))
    return handle_scanned_text_delta (self, index, self->delta_text->str, error);

  if ((root = parse_json (self, data, length, error)) == NULL)
    {
      g_prefix_error (error, "the data of event %s ", name);
      return FALSE;
    }

  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL,
                   "the data of event %s is not a JSON object", name);
      return FALSE;
    }

  event = json_node_get_object (root);
  type = _fj_json_get_string (event, "type");
  if (type == NULL)
    type = name;

  /* The error event may come first: the stream can fail before it has
   * started. */
  if (strcmp (type, "error") == 0)
    return handle_error_event (self, event, error);

  if (strcmp (type, "ping") == 0 || !is_stream_event (type))
    return TRUE;

  if (self->state == REPLY_NONE && strcmp (type, "message_start") != 0)
    {
      g_set_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL,
                   "%s event before message_start", type);
      return FALSE;
    }

  if (self->state == REPLY_COMPLETE)
    {
      g_set_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL,
                   "%s event after message_stop", type);
      return FALSE;
    }

  if (strcmp (type, "content_block_delta") == 0)
    return handle_content_block_delta (self, event, error);

  if (strcmp (type, "content_block_start") == 0)
    return handle_content_block_start (self, event, error);

  if (strcmp (type, "content_block_stop") == 0)
    return handle_content_block_stop (self, event, error);

  if (strcmp (type, "message_delta") == 0)
    return handle_message_delta (self, event, error);

  if (strcmp (type, "message_start") == 0)
    {
      if (self->state != REPLY_NONE)
        {
          g_set_error_literal (error, FJ_ERROR, FJ_ERROR_PROTOCOL,
                               "a second message_start");
          return FALSE;
        }
      return handle_message_start (self, event, error);
    }

  g_assert (strcmp (type, "message_stop") == 0);

  finish_open_blocks (self);
  self->state = REPLY_COMPLETE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXT]);

  return TRUE;
}

static void
fj_message_constructed (GObject *object)
{
  FjMessage *self = FJ_MESSAGE (object);

  G_OBJECT_CLASS (fj_message_parent_class)->constructed (object);

  if (self->params == NULL)
    self->params = json_object_new ();
}

static void
fj_message_finalize (GObject *object)
{
  FjMessage *self = FJ_MESSAGE (object);

  g_clear_pointer (&self->params, json_object_unref);
  g_clear_pointer (&self->id, g_free);
  g_clear_pointer (&self->model, g_free);
  g_clear_pointer (&self->stop_reason, g_free);
  g_clear_pointer (&self->stop_sequence, g_free);
  g_clear_pointer (&self->stop_details, json_node_unref);
  g_clear_pointer (&self->request_id, g_free);
  g_clear_pointer (&self->blocks, g_ptr_array_unref);
  g_clear_pointer (&self->content, json_array_unref);
  g_clear_pointer (&self->reply_root, json_node_unref);
  g_string_free (self->text, TRUE);
  g_clear_object (&self->parser);
  if (self->scratch != NULL)
    g_string_free (self->scratch, TRUE);
  if (self->delta_text != NULL)
    g_string_free (self->delta_text, TRUE);

  G_OBJECT_CLASS (fj_message_parent_class)->finalize (object);
}

static void
fj_message_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  FjMessage *self = FJ_MESSAGE (object);

  switch (prop_id)
    {
    case PROP_PARAMS:
      g_value_set_boxed (value, self->params);
      break;

    case PROP_ID:
      g_value_set_string (value, self->id);
      break;

    case PROP_MODEL:
      g_value_set_string (value, self->model);
      break;

    case PROP_STOP_REASON:
      g_value_set_string (value, self->stop_reason);
      break;

    case PROP_STOP_SEQUENCE:
      g_value_set_string (value, self->stop_sequence);
      break;

    case PROP_REQUEST_ID:
      g_value_set_string (value, self->request_id);
      break;

    case PROP_TEXT:
      g_value_set_string (value, fj_message_get_text (self));
      break;

    case PROP_USAGE:
      g_value_set_boxed (value, &self->usage);
      break;

    case PROP_STATUS_CODE:
      g_value_set_uint (value, self->status_code);
      break;

    case PROP_ATTEMPTS:
      g_value_set_uint (value, self->attempts);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_message_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  FjMessage *self = FJ_MESSAGE (object);

  switch (prop_id)
    {
    case PROP_PARAMS:
      g_assert (self->params == NULL);
      self->params = g_value_dup_boxed (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_message_class_init (FjMessageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = fj_message_constructed;
  object_class->finalize = fj_message_finalize;
  object_class->get_property = fj_message_get_property;
  object_class->set_property = fj_message_set_property;

  /**
   * FjMessage:params:
   *
   * The request parameters: the JSON body of `POST /v1/messages`.
   *
   * The message keeps a reference to the object it was given, not a
   * copy.
   *
   * Since: 1.0
   */
  properties[PROP_PARAMS] =
    g_param_spec_boxed ("params", NULL, NULL,
                        JSON_TYPE_OBJECT,
                        (G_PARAM_READWRITE |
                         G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_EXPLICIT_NOTIFY |
                         G_PARAM_STATIC_STRINGS));

  /**
   * FjMessage:id:
   *
   * The reply's message id (`msg_…`), or %NULL before the reply starts.
   *
   * Since: 1.0
   */
  properties[PROP_ID] =
    g_param_spec_string ("id", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * FjMessage:model:
   *
   * The model that wrote the reply, as the API names it, or %NULL before
   * the reply starts.
   *
   * Since: 1.0
   */
  properties[PROP_MODEL] =
    g_param_spec_string ("model", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * FjMessage:stop-reason:
   *
   * Why the model stopped (`end_turn`, `max_tokens`, `stop_sequence`,
   * `tool_use`, `pause_turn`, `refusal`...), or %NULL until the reply
   * says.
   *
   * Since: 1.0
   */
  properties[PROP_STOP_REASON] =
    g_param_spec_string ("stop-reason", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * FjMessage:stop-sequence:
   *
   * The stop sequence that ended the reply when
   * [property@Message:stop-reason] is `stop_sequence`, else %NULL.
   *
   * Since: 1.0
   */
  properties[PROP_STOP_SEQUENCE] =
    g_param_spec_string ("stop-sequence", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * FjMessage:request-id:
   *
   * The `request-id` the API gave the last attempt (for support
   * requests), or %NULL.
   *
   * Since: 1.0
   */
  properties[PROP_REQUEST_ID] =
    g_param_spec_string ("request-id", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * FjMessage:text:
   *
   * The text of the reply: all its text blocks joined. While a reply
   * streams it grows with each delta, but is only notified when the reply
   * completes, fails or ends; follow [signal@Message::text-delta] to see
   * each piece as it arrives.
   *
   * Since: 1.0
   */
  properties[PROP_TEXT] =
    g_param_spec_string ("text", NULL, NULL,
                         "",
                         (G_PARAM_READABLE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * FjMessage:usage:
   *
   * The token counts of the reply, as the API last reported them.
   *
   * Since: 1.0
   */
  properties[PROP_USAGE] =
    g_param_spec_boxed ("usage", NULL, NULL,
                        FJ_TYPE_USAGE,
                        (G_PARAM_READABLE |
                         G_PARAM_EXPLICIT_NOTIFY |
                         G_PARAM_STATIC_STRINGS));

  /**
   * FjMessage:status-code:
   *
   * The HTTP status of the last attempt, or 0 before its headers arrive.
   *
   * Since: 1.0
   */
  properties[PROP_STATUS_CODE] =
    g_param_spec_uint ("status-code", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  /**
   * FjMessage:attempts:
   *
   * How many times the request has been sent, counting the attempt under
   * way.
   *
   * Since: 1.0
   */
  properties[PROP_ATTEMPTS] =
    g_param_spec_uint ("attempts", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * FjMessage::text-delta:
   * @self: a #FjMessage
   * @text: the new piece of text
   *
   * Emitted for each piece of text that arrives while a reply streams, in
   * order. [property@Message:text] already holds @text when it is emitted.
   *
   * Since: 1.0
   */
  signals[TEXT_DELTA] =
    g_signal_new ("text-delta",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  g_cclosure_marshal_VOID__STRING,
                  G_TYPE_NONE, 1,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
  g_signal_set_va_marshaller (signals[TEXT_DELTA],
                              G_TYPE_FROM_CLASS (klass),
                              g_cclosure_marshal_VOID__STRINGv);

  /**
   * FjMessage::retrying:
   * @self: a #FjMessage
   * @attempt: the number of the attempt about to start (2 for the first
   *   retry)
   * @delay: how long the client waits before it, in seconds
   * @reason: why the previous attempt failed
   *
   * Emitted when an attempt failed in a way worth retrying, before the
   * client waits @delay seconds and sends the request again.
   *
   * Since: 1.0
   */
  signals[RETRYING] =
    g_signal_new ("retrying",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 3,
                  G_TYPE_UINT,
                  G_TYPE_DOUBLE,
                  G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
fj_message_init (FjMessage *self)
{
  self->blocks = g_ptr_array_new_with_free_func (block_free);
  self->content = json_array_new ();
  self->text = g_string_new (NULL);
  self->text_tail = NO_TEXT_TAIL;
  self->phase = FJ_MESSAGE_PHASE_IDLE;
}

/**
 * fj_message_new:
 * @params: (transfer none): the request body of `POST /v1/messages`
 *
 * Creates a message for the request @params (`model`, `max_tokens`,
 * `messages`, `system`, `tools`, `stream`...).
 *
 * The message keeps a reference to @params, not a copy: do not change
 * @params once the message has been sent.
 *
 * Returns: (transfer full): a new #FjMessage
 *
 * Since: 1.0
 */
FjMessage *
fj_message_new (JsonObject *params)
{
  g_return_val_if_fail (params != NULL, NULL);

  return g_object_new (FJ_TYPE_MESSAGE,
                       "params", params,
                       NULL);
}

/**
 * fj_message_new_from_string:
 * @params_json: the request body of `POST /v1/messages`, as JSON text
 * @error: return location for a #GError
 *
 * Creates a message for the request written in @params_json, which must
 * be a JSON object. Otherwise @error is set to
 * %FJ_ERROR_INVALID_REQUEST.
 *
 * Returns: (transfer full): a new #FjMessage, or %NULL with @error set
 *
 * Since: 1.0
 */
FjMessage *
fj_message_new_from_string (const char  *params_json,
                            GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;
  gsize length;

  g_return_val_if_fail (params_json != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  length = strlen (params_json);
  if (!_fj_json_check_depth (params_json, length, FJ_JSON_MAX_DEPTH))
    {
      g_set_error (error, FJ_ERROR, FJ_ERROR_INVALID_REQUEST,
                   "the request parameters are nested deeper than %u levels",
                   FJ_JSON_MAX_DEPTH);
      return NULL;
    }

  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, params_json, length, &local_error))
    {
      g_set_error (error, FJ_ERROR, FJ_ERROR_INVALID_REQUEST,
                   "the request parameters are not valid JSON: %s",
                   local_error->message);
      return NULL;
    }

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, FJ_ERROR, FJ_ERROR_INVALID_REQUEST,
                           "the request parameters are not a JSON object");
      return NULL;
    }

  return fj_message_new (json_node_get_object (root));
}

/**
 * fj_message_get_params:
 * @self: a #FjMessage
 *
 * Gets the request parameters.
 *
 * Returns: (transfer none): the JSON body of the request
 *
 * Since: 1.0
 */
JsonObject *
fj_message_get_params (FjMessage *self)
{
  g_return_val_if_fail (FJ_IS_MESSAGE (self), NULL);

  return self->params;
}

/**
 * fj_message_get_stream:
 * @self: a #FjMessage
 *
 * Whether the request asks for a streamed reply: the `stream` member of
 * the parameters, %FALSE when it is absent.
 *
 * Returns: %TRUE for a streamed (SSE) reply
 *
 * Since: 1.0
 */
gboolean
fj_message_get_stream (FjMessage *self)
{
  JsonNode *node;

  g_return_val_if_fail (FJ_IS_MESSAGE (self), FALSE);

  node = json_object_get_member (self->params, "stream");
  if (node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_BOOLEAN)
    return json_node_get_boolean (node);

  return FALSE;
}

/**
 * fj_message_get_id:
 * @self: a #FjMessage
 *
 * Gets [property@Message:id].
 *
 * Returns: (transfer none) (nullable): the reply's message id
 *
 * Since: 1.0
 */
const char *
fj_message_get_id (FjMessage *self)
{
  g_return_val_if_fail (FJ_IS_MESSAGE (self), NULL);

  return self->id;
}

/**
 * fj_message_get_model:
 * @self: a #FjMessage
 *
 * Gets [property@Message:model].
 *
 * Returns: (transfer none) (nullable): the model that wrote the reply
 *
 * Since: 1.0
 */
const char *
fj_message_get_model (FjMessage *self)
{
  g_return_val_if_fail (FJ_IS_MESSAGE (self), NULL);

  return self->model;
}

/**
 * fj_message_get_stop_reason:
 * @self: a #FjMessage
 *
 * Gets [property@Message:stop-reason].
 *
 * Returns: (transfer none) (nullable): why the model stopped
 *
 * Since: 1.0
 */
const char *
fj_message_get_stop_reason (FjMessage *self)
{
  g_return_val_if_fail (FJ_IS_MESSAGE (self), NULL);

  return self->stop_reason;
}

/**
 * fj_message_get_stop_sequence:
 * @self: a #FjMessage
 *
 * Gets [property@Message:stop-sequence].
 *
 * Returns: (transfer none) (nullable): the stop sequence that ended the reply
 *
 * Since: 1.0
 */
const char *
fj_message_get_stop_sequence (FjMessage *self)
{
  g_return_val_if_fail (FJ_IS_MESSAGE (self), NULL);

  return self->stop_sequence;
}

/**
 * fj_message_get_request_id:
 * @self: a #FjMessage
 *
 * Gets [property@Message:request-id].
 *
 * Returns: (transfer none) (nullable): the API's id for the last attempt
 *
 * Since: 1.0
 */
const char *
fj_message_get_request_id (FjMessage *self)
{
  g_return_val_if_fail (FJ_IS_MESSAGE (self), NULL);

  return self->request_id;
}

/**
 * fj_message_get_text:
 * @self: a #FjMessage
 *
 * Gets the text of the reply: every text block joined, without
 * separators. While the reply streams this is the text so far, and after
 * a failure it is the partial output.
 *
 * Returns: (transfer none): the text, empty when there is none
 *
 * Since: 1.0
 */
const char *
fj_message_get_text (FjMessage *self)
{
  g_return_val_if_fail (FJ_IS_MESSAGE (self), NULL);

  rebuild_text (self);
  return self->text->str;
}

/**
 * fj_message_get_content:
 * @self: a #FjMessage
 *
 * Gets the content blocks of the reply as assembled so far: text,
 * thinking and tool_use blocks (each tool_use with its `input` parsed into
 * an object), and block types this version does not know, as received.
 * Sent back unchanged as the content of the assistant message, it
 * continues the conversation.
 *
 * Returns: (transfer none): the content array
 *
 * Since: 1.0
 */
JsonArray *
fj_message_get_content (FjMessage *self)
{
  g_return_val_if_fail (FJ_IS_MESSAGE (self), NULL);

  for (guint i = 0; i < self->blocks->len; i++)
    sync_block (g_ptr_array_index (self->blocks, i));

  return self->content;
}

/**
 * fj_message_get_n_tool_uses:
 * @self: a #FjMessage
 *
 * Counts the `tool_use` blocks of the reply: the tool calls the caller is
 * asked to run.
 *
 * Returns: the number of tool calls
 *
 * Since: 1.0
 */
guint
fj_message_get_n_tool_uses (FjMessage *self)
{
  guint n = 0;

  g_return_val_if_fail (FJ_IS_MESSAGE (self), 0);

  for (guint i = 0; i < self->blocks->len; i++)
    {
      Block *block = g_ptr_array_index (self->blocks, i);

      if (block->kind == BLOCK_TOOL_USE)
        n++;
    }

  return n;
}

/**
 * fj_message_get_usage:
 * @self: a #FjMessage
 *
 * Gets [property@Message:usage].
 *
 * Returns: (transfer none): the token counts of the reply
 *
 * Since: 1.0
 */
FjUsage *
fj_message_get_usage (FjMessage *self)
{
  g_return_val_if_fail (FJ_IS_MESSAGE (self), NULL);

  return &self->usage;
}

/**
 * fj_message_get_status_code:
 * @self: a #FjMessage
 *
 * Gets [property@Message:status-code].
 *
 * Returns: the HTTP status of the last attempt, or 0
 *
 * Since: 1.0
 */
guint
fj_message_get_status_code (FjMessage *self)
{
  g_return_val_if_fail (FJ_IS_MESSAGE (self), 0);

  return self->status_code;
}

/**
 * fj_message_get_attempts:
 * @self: a #FjMessage
 *
 * Gets [property@Message:attempts].
 *
 * Returns: how many times the request has been sent
 *
 * Since: 1.0
 */
guint
fj_message_get_attempts (FjMessage *self)
{
  g_return_val_if_fail (FJ_IS_MESSAGE (self), 0);

  return self->attempts;
}

/**
 * fj_message_to_json:
 * @self: a #FjMessage
 *
 * Serialises the reply as the API writes a Message: `id`, `type`, `role`,
 * `model`, `content`, `stop_reason`, `stop_sequence` and `usage` (plus
 * `stop_details` when the reply gave them). The content is a copy.
 *
 * Returns: (transfer full): a JSON object node
 *
 * Since: 1.0
 */
JsonNode *
fj_message_to_json (FjMessage *self)
{
  g_autoptr(JsonNode) content = NULL;
  JsonObject *object;
  JsonNode *node;

  g_return_val_if_fail (FJ_IS_MESSAGE (self), NULL);

  content = json_node_init_array (json_node_alloc (), fj_message_get_content (self));

  object = json_object_new ();
  if (self->id != NULL)
    json_object_set_string_member (object, "id", self->id);
  else
    json_object_set_null_member (object, "id");
  json_object_set_string_member (object, "type", "message");
  json_object_set_string_member (object, "role", "assistant");
  if (self->model != NULL)
    json_object_set_string_member (object, "model", self->model);
  else
    json_object_set_null_member (object, "model");
  json_object_set_member (object, "content", deep_copy (content));
  if (self->stop_reason != NULL)
    json_object_set_string_member (object, "stop_reason", self->stop_reason);
  else
    json_object_set_null_member (object, "stop_reason");
  if (self->stop_sequence != NULL)
    json_object_set_string_member (object, "stop_sequence", self->stop_sequence);
  else
    json_object_set_null_member (object, "stop_sequence");
  if (self->stop_details != NULL)
    json_object_set_member (object, "stop_details", deep_copy (self->stop_details));
  json_object_set_member (object, "usage", fj_usage_to_json (&self->usage));

  node = json_node_init_object (json_node_alloc (), object);
  json_object_unref (object);
  return node;
}

const char *
_fj_message_phase_describe (FjMessagePhase phase)
{
  switch (phase)
    {
    case FJ_MESSAGE_PHASE_IDLE:
      return "before the request was sent";
    case FJ_MESSAGE_PHASE_RATE_LIMIT:
      return "waiting for the rate limit";
    case FJ_MESSAGE_PHASE_WAITING:
      return "waiting for the API";
    case FJ_MESSAGE_PHASE_STREAMING:
      return "streaming the reply";
    case FJ_MESSAGE_PHASE_RETRY_SLEEP:
      return "waiting to retry";
    case FJ_MESSAGE_PHASE_DONE:
      return "after the reply";
    default:
      return "in an unknown phase";
    }
}

void
_fj_message_begin_attempt (FjMessage *self,
                           guint      attempt)
{
  g_return_if_fail (FJ_IS_MESSAGE (self));

  g_object_freeze_notify (G_OBJECT (self));

  if (self->attempts != attempt)
    {
      self->attempts = attempt;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ATTEMPTS]);
    }
  _fj_message_set_status_code (self, 0);
  _fj_message_set_request_id (self, NULL);

  /* The client retries only before any of the reply arrived, so a reply
   * is never cut in two; an empty one is reset to be sure. */
  if (!self->saw_body)
    reset_reply (self);

  g_object_thaw_notify (G_OBJECT (self));
}

void
_fj_message_drop_unsent_attempt (FjMessage *self)
{
  g_return_if_fail (FJ_IS_MESSAGE (self));

  if (self->attempts == 0)
    return;

  self->attempts--;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ATTEMPTS]);
}

void
_fj_message_set_status_code (FjMessage *self,
                             guint      status_code)
{
  g_return_if_fail (FJ_IS_MESSAGE (self));

  if (self->status_code == status_code)
    return;

  self->status_code = status_code;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS_CODE]);
}

void
_fj_message_set_request_id (FjMessage  *self,
                            const char *request_id)
{
  g_return_if_fail (FJ_IS_MESSAGE (self));

  set_string_prop (self, &self->request_id, request_id, PROP_REQUEST_ID);
}

void
_fj_message_set_phase (FjMessage      *self,
                       FjMessagePhase  phase)
{
  g_return_if_fail (FJ_IS_MESSAGE (self));

  self->phase = phase;
}

FjMessagePhase
_fj_message_get_phase (FjMessage *self)
{
  g_return_val_if_fail (FJ_IS_MESSAGE (self), FJ_MESSAGE_PHASE_IDLE);

  return self->phase;
}

void
_fj_message_set_deadline (FjMessage *self,
                          gint64     deadline_us)
{
  g_return_if_fail (FJ_IS_MESSAGE (self));

  self->deadline_us = deadline_us;
}

gint64
_fj_message_get_deadline (FjMessage *self)
{
  g_return_val_if_fail (FJ_IS_MESSAGE (self), 0);

  return self->deadline_us;
}

static gboolean
load_error_body (FjMessage   *self,
                 JsonObject  *body,
                 GError     **error)
{
  JsonObject *details = _fj_json_get_object (body, "error");
  const char *type = details ? _fj_json_get_string (details, "type") : NULL;
  const char *message = details ? _fj_json_get_string (details, "message") : NULL;
  const char *request_id = _fj_json_get_string (body, "request_id");

  if (self->request_id == NULL && request_id != NULL)
    _fj_message_set_request_id (self, request_id);

  g_set_error (error, FJ_ERROR, _fj_error_code_for_api_error (type, self->status_code),
               "%s: %s", type ? type : "error", message ? message : "no message");
  return FALSE;
}

static gboolean
not_a_message (FjMessage   *self,
               GError     **error,
               const char  *why)
{
  /* An error status with a body that is no API error (a proxy's HTML
   * page, a 413 from the CDN) is still that error. */
  if (self->status_code >= 400)
    g_set_error (error, FJ_ERROR, _fj_error_code_for_api_error (NULL, self->status_code),
                 "HTTP %u, and the reply is not an API error: %s", self->status_code, why);
  else
    g_set_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL, "reply is not a Message: %s", why);
  return FALSE;
}

gboolean
_fj_message_load_reply (FjMessage   *self,
                        const char  *data,
                        gsize        length,
                        GError     **error)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) local_error = NULL;
  JsonObject *body;
  JsonNode *content;
  JsonArray *blocks;
  JsonObject *usage;
  JsonNode *details;
  const char *type;
  guint n;

  g_return_val_if_fail (FJ_IS_MESSAGE (self), FALSE);
  g_return_val_if_fail (data != NULL || length == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if ((root = parse_json (self, data, length, &local_error)) == NULL)
    {
      g_prefix_error (&local_error, "the reply ");
      return not_a_message (self, error, local_error->message);
    }

  if (!JSON_NODE_HOLDS_OBJECT (root))
    return not_a_message (self, error, "it is not a JSON object");

  body = json_node_get_object (root);
  type = _fj_json_get_string (body, "type");

  if (g_strcmp0 (type, "error") == 0)
    return load_error_body (self, body, error);

  if (type == NULL)
    return not_a_message (self, error, "it has no type");

  if (strcmp (type, "message") != 0)
    {
      g_autofree char *why = g_strdup_printf ("its type is %s", type);

      return not_a_message (self, error, why);
    }

  content = json_object_get_member (body, "content");
  if (content == NULL || !JSON_NODE_HOLDS_ARRAY (content))
    return not_a_message (self, error, "it has no content array");

  blocks = json_node_get_array (content);
  n = json_array_get_length (blocks);
  for (guint i = 0; i < n; i++)
    {
      if (!JSON_NODE_HOLDS_OBJECT (json_array_get_element (blocks, i)))
        {
          g_autofree char *why = g_strdup_printf ("content block %u is not an object", i);

          return not_a_message (self, error, why);
        }
    }

  g_object_freeze_notify (G_OBJECT (self));

  /* The attempt began with a reset, and nothing arrived since, most
   * often: then there is nothing to reset (the content is replaced). */
  if (!reply_is_pristine (self))
    reset_reply (self);

  set_string_prop (self, &self->id, _fj_json_get_string (body, "id"), PROP_ID);
  set_string_prop (self, &self->model, _fj_json_get_string (body, "model"), PROP_MODEL);
  set_string_prop (self, &self->stop_reason, _fj_json_get_string (body, "stop_reason"),
                   PROP_STOP_REASON);
  set_string_prop (self, &self->stop_sequence, _fj_json_get_string (body, "stop_sequence"),
                   PROP_STOP_SEQUENCE);
  details = json_object_get_member (body, "stop_details");
  if (details != NULL && !JSON_NODE_HOLDS_NULL (details))
    self->stop_details = json_node_ref (details);
  if ((usage = _fj_json_get_object (body, "usage")) != NULL)
    update_usage (self, usage);

  /* The body stays alive as a whole, so the blocks need no copy. */
  g_clear_pointer (&self->content, json_array_unref);
  self->content = json_array_ref (blocks);
  for (guint i = 0; i < n; i++)
    append_block (self, json_array_get_object_element (blocks, i), FALSE);
  self->reply_root = g_steal_pointer (&root);

  self->state = REPLY_COMPLETE;
  self->saw_body = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXT]);

  g_object_thaw_notify (G_OBJECT (self));

  response_started (self);
  return TRUE;
}

gboolean
_fj_message_handle_event (FjMessage   *self,
                          const char  *event,
                          const char  *data,
                          gsize        length,
                          GError     **error)
{
  g_return_val_if_fail (FJ_IS_MESSAGE (self), FALSE);
  g_return_val_if_fail (event != NULL, FALSE);
  g_return_val_if_fail (data != NULL || length == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  self->saw_body = TRUE;

  if (self->state == REPLY_FAILED)
    {
      g_set_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL,
                   "%s event after the stream failed", event);
      return FALSE;
    }

  if (!dispatch_event (self, event, data, length, error))
    {
      self->state = REPLY_FAILED;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXT]);
      return FALSE;
    }

  return TRUE;
}

gboolean
_fj_message_end_stream (FjMessage  *self,
                        GError    **error)
{
  g_return_val_if_fail (FJ_IS_MESSAGE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->state == REPLY_FAILED)
    {
      g_set_error_literal (error, FJ_ERROR, FJ_ERROR_PROTOCOL,
                           "stream ended after it failed");
      return FALSE;
    }

  finish_open_blocks (self);

  if (self->state != REPLY_COMPLETE)
    {
      self->state = REPLY_FAILED;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXT]);
      g_set_error_literal (error, FJ_ERROR, FJ_ERROR_PROTOCOL,
                           "stream ended without message_stop");
      return FALSE;
    }

  return TRUE;
}

gboolean
_fj_message_get_saw_body (FjMessage *self)
{
  g_return_val_if_fail (FJ_IS_MESSAGE (self), FALSE);

  return self->saw_body;
}

void
_fj_message_emit_retrying (FjMessage    *self,
                           guint         attempt,
                           double        delay_seconds,
                           const GError *reason)
{
  g_return_if_fail (FJ_IS_MESSAGE (self));

  g_signal_emit (self, signals[RETRYING], 0, attempt, delay_seconds, reason);
}

void
_fj_message_set_started_func (FjMessage            *self,
                              FjMessageStartedFunc  func,
                              gpointer              user_data)
{
  g_return_if_fail (FJ_IS_MESSAGE (self));

  self->started_func = func;
  self->started_data = user_data;
}
