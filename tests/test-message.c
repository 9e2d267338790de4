/* test-message.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "fj-test-utils.h"
#include "fj-message-private.h"
#include "fj-json-private.h"
#include "fj-sse-parser-private.h"

/* What a message saw while it was fed: the text deltas in order, and how
 * often each property was notified. */
typedef struct
{
  GString *deltas;
  guint    n_deltas;
  guint    n_text_notifies;
  guint    n_usage_notifies;
} Watch;

static void
text_delta_cb (FjMessage  *message,
               const char *text,
               Watch      *watch)
{
  g_assert_true (FJ_IS_MESSAGE (message));
  g_assert_nonnull (text);

  /* The text so far already holds the delta. */
  g_assert_nonnull (strstr (fj_message_get_text (message), text));
  g_string_append (watch->deltas, text);
  watch->n_deltas++;
}

static void
notify_text_cb (FjMessage  *message,
                GParamSpec *pspec,
                Watch      *watch)
{
  watch->n_text_notifies++;
}

static void
notify_usage_cb (FjMessage  *message,
                 GParamSpec *pspec,
                 Watch      *watch)
{
  watch->n_usage_notifies++;
}

static void
watch_message (FjMessage *message,
               Watch     *watch)
{
  watch->deltas = g_string_new (NULL);
  g_signal_connect (message, "text-delta", G_CALLBACK (text_delta_cb), watch);
  g_signal_connect (message, "notify::text", G_CALLBACK (notify_text_cb), watch);
  g_signal_connect (message, "notify::usage", G_CALLBACK (notify_usage_cb), watch);
}

static void
watch_clear (Watch *watch)
{
  g_string_free (watch->deltas, TRUE);
}

static FjMessage *
new_stream_message (void)
{
  g_autoptr(GError) error = NULL;
  FjMessage *message =
    fj_message_new_from_string ("{\"model\": \"claude-haiku-5-5\", \"max_tokens\": 1024,"
                                " \"stream\": true,"
                                " \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}",
                                &error);

  g_assert_no_error (error);
  _fj_message_begin_attempt (message, 1);
  _fj_message_set_status_code (message, 200);
  return message;
}

static gboolean
message_event_cb (const char  *event,
                  const char  *data,
                  gsize        data_len,
                  gpointer     user_data,
                  GError     **error)
{
  return _fj_message_handle_event (FJ_MESSAGE (user_data), event, data, data_len, error);
}

/* Feeds SSE text as the client does: through the parser, then EOF. */
static gboolean
feed_sse (FjMessage   *message,
          const char  *text,
          gsize        chunk_size,
          GError     **error)
{
  g_autoptr(FjSseParser) parser = _fj_sse_parser_new (message_event_cb, message);
  gsize length = strlen (text);

  for (gsize pos = 0; pos < length; pos += chunk_size)
    if (!_fj_sse_parser_feed (parser, (const guint8 *) text + pos,
                              MIN (chunk_size, length - pos), error))
      return FALSE;

  if (!_fj_sse_parser_finish (parser, error))
    return FALSE;

  return _fj_message_end_stream (message, error);
}

/* Feeds a .chunks.jsonl fixture: one data payload a line, named by its
 * type. */
static gboolean
feed_jsonl (FjMessage   *message,
            const char  *text,
            GError     **error)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  g_autoptr(JsonParser) parser = json_parser_new ();

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *type;

      if (lines[i][0] == '\0')
        continue;

      g_assert_true (json_parser_load_from_data (parser, lines[i], -1, NULL));
      type = json_object_get_string_member (json_node_get_object (json_parser_get_root (parser)),
                                            "type");
      if (!_fj_message_handle_event (message, type, lines[i], strlen (lines[i]), error))
        return FALSE;
    }

  return _fj_message_end_stream (message, error);
}

static JsonNode *
parse (const char *json)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);

  return json_node_ref (json_parser_get_root (parser));
}

typedef struct
{
  const char *name;
  const char *input;
} ToolCall;

static void
assert_tool_calls (FjMessage      *message,
                   const ToolCall *expected)
{
  JsonArray *content = fj_message_get_content (message);
  guint n_expected = 0;
  guint n = 0;

  while (expected != NULL && expected[n_expected].name != NULL)
    n_expected++;

  for (guint i = 0; i < json_array_get_length (content); i++)
    {
      JsonObject *block = json_array_get_object_element (content, i);
      g_autoptr(JsonNode) want = NULL;
      JsonNode *input;

      if (g_strcmp0 (json_object_get_string_member (block, "type"), "tool_use") != 0)
        continue;

      g_assert_cmpuint (n, <, n_expected);
      g_assert_cmpstr (json_object_get_string_member (block, "name"), ==, expected[n].name);
      g_assert_true (g_str_has_prefix (json_object_get_string_member (block, "id"), "toolu_"));

      input = json_object_get_member (block, "input");
      g_assert_nonnull (input);
      g_assert_true (JSON_NODE_HOLDS_OBJECT (input));
      want = parse (expected[n].input);
      if (!json_node_equal (input, want))
        {
          g_autofree char *got = json_to_string (input, FALSE);

          g_error ("tool call %u: input %s, expected %s", n, got, expected[n].input);
        }
      n++;
    }

  g_assert_cmpuint (n, ==, n_expected);
  g_assert_cmpuint (fj_message_get_n_tool_uses (message), ==, n_expected);
}

static void
assert_usage (FjMessage *message,
              gint64     input_tokens,
              gint64     output_tokens,
              gint64     cache_creation,
              gint64     cache_read)
{
  FjUsage *usage = fj_message_get_usage (message);
  g_autoptr(FjUsage) property = NULL;

  g_assert_cmpint (usage->input_tokens, ==, input_tokens);
  g_assert_cmpint (usage->output_tokens, ==, output_tokens);
  g_assert_cmpint (usage->cache_creation_input_tokens, ==, cache_creation);
  g_assert_cmpint (usage->cache_read_input_tokens, ==, cache_read);

  g_object_get (message, "usage", &property, NULL);
  g_assert_true (fj_usage_equal (usage, property));
}

/* The Message a reply serialises to loads back as the same reply: the
 * content is fit to be sent back as it is. */
static void
assert_round_trip (FjMessage *message)
{
  g_autoptr(JsonNode) json = fj_message_to_json (message);
  g_autoptr(JsonNode) content = json_node_init_array (json_node_alloc (),
                                                      fj_message_get_content (message));
  g_autoptr(JsonNode) copy_content = NULL;
  g_autofree char *text = json_to_string (json, FALSE);
  g_autoptr(FjMessage) copy = fj_message_new (fj_message_get_params (message));
  g_autoptr(GError) error = NULL;
  JsonObject *object = json_node_get_object (json);

  g_assert_cmpstr (json_object_get_string_member (object, "type"), ==, "message");
  g_assert_cmpstr (json_object_get_string_member (object, "role"), ==, "assistant");
  g_assert_true (json_node_equal (json_object_get_member (object, "content"), content));

  g_assert_true (_fj_message_load_reply (copy, text, strlen (text), &error));
  g_assert_no_error (error);
  g_assert_cmpstr (fj_message_get_text (copy), ==, fj_message_get_text (message));
  g_assert_cmpstr (fj_message_get_id (copy), ==, fj_message_get_id (message));
  g_assert_cmpstr (fj_message_get_model (copy), ==, fj_message_get_model (message));
  g_assert_cmpstr (fj_message_get_stop_reason (copy), ==, fj_message_get_stop_reason (message));
  g_assert_cmpuint (fj_message_get_n_tool_uses (copy), ==, fj_message_get_n_tool_uses (message));
  g_assert_true (fj_usage_equal (fj_message_get_usage (copy), fj_message_get_usage (message)));
  copy_content = json_node_init_array (json_node_alloc (), fj_message_get_content (copy));
  g_assert_true (json_node_equal (json_object_get_member (object, "content"), copy_content));
}

typedef struct
{
  const char *file;
  const char *id;
  const char *model;
  const char *stop_reason;
  const char *text;
  ToolCall    tools[3];
  gint64      usage[4];
} StreamCase;

static const StreamCase stream_cases[] = {
  { "docs_basic_stream.sse", "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY",
    "claude-opus-4-1-20250805", "end_turn", "Hello!", { { NULL } }, { 25, 15, 0, 0 } },
  { "docs_tool_use_stream.sse", "msg_014p7gG3wDgGV9EUtLvnow3U",
    "claude-opus-4-1-20250805", "tool_use",
    "Okay, let's check the weather for San Francisco, CA:",
    { { "get_weather", "{\"location\": \"San Francisco, CA\", \"unit\": \"fahrenheit\"}" },
      { NULL } },
    { 472, 89, 0, 0 } },
  { "docs_extended_thinking_stream.sse", "msg_01...",
    "claude-opus-4-1-20250805", "end_turn", "27 * 453 = 12,231", { { NULL } }, { 0, 0, 0, 0 } },
  { "py-sdk_basic_response.sse", "msg_4QpJur2dWWDjF6C758FbBw5vm12BaVipnK",
    "claude-3-opus-latest", "end_turn", "Hello there!", { { NULL } }, { 11, 6, 0, 0 } },
  { "py-sdk_incomplete_partial_json_max_tokens.sse", "msg_01UdjYBBipA9omjYhicnevgq",
    "claude-3-7-sonnet-20250219", "max_tokens",
    "I'll create a comprehensive tax guide for someone with multiple W2s and save it in a "
    "file called taxes.txt. Let me do that for you now.",
    /* Cut inside the input and never stopped: it stays {}. */
    { { "make_file", "{}" }, { NULL } },
    { 450, 124, 0, 0 } },
  { "py-sdk_recorded_stream_text_json_after_two_429.sse", "msg_013nnniYDrJDocdy5nrMU7cH",
    "claude-sonnet-4-5-20250929", "end_turn", "[12345,67890]", { { NULL } }, { 135, 10, 0, 0 } },
  { "py-sdk_recorded_toolrunner_turn1_tool_use.sse", "msg_01AusY9WEbCaj3N7Tv5J4YjH",
    "claude-haiku-4-5-20251001", "tool_use", "",
    { { "get_weather", "{\"location\": \"San Francisco, CA\", \"units\": \"f\"}" }, { NULL } },
    { 656, 74, 0, 0 } },
  { "py-sdk_recorded_toolrunner_turn2_final_text.sse", "msg_016HxyUMAncysqX7dn1kWNRx",
    "claude-haiku-4-5-20251001", "end_turn",
    "The weather in San Francisco, CA is currently:\n- **Temperature:** 68\xC2\xB0" "F\n"
    "- **Condition:** Sunny\n\nIt's a nice sunny day!",
    { { NULL } }, { 770, 38, 0, 0 } },
  { "py-sdk_refusal_response.sse", "msg_01RefusalTestMessage123456789",
    "claude-opus-4-7", "refusal", "", { { NULL } }, { 20, 0, 0, 0 } },
  { "py-sdk_tool_use_response.sse", "msg_019Q1hrJbZG26Fb9BQhrkHEr",
    "claude-sonnet-4-20250514", "tool_use", "I'll check the current weather in Paris for you.",
    { { "get_weather", "{\"location\": \"Paris\"}" }, { NULL } },
    { 377, 65, 0, 0 } },
  { "vercel-ai_anthropic-text.chunks.jsonl", "msg_01QC4g3HwBThD4BaNtBckFDJ",
    "claude-sonnet-4-5-20250929", "end_turn",
    "Hello! I'm doing well, thank you for asking. How are you doing today? Is there anything "
    "I can help you with?",
    { { NULL } }, { 12, 30, 0, 0 } },
  { "vercel-ai_anthropic-json-tool.chunks.jsonl", "msg_01K2JbSUMYhez5RHoK9ZCj9U",
    "claude-haiku-4-5-20251001", "tool_use", "",
    { { "json", "{\"elements\": [{\"location\": \"San Francisco\", \"temperature\": 58,"
                " \"condition\": \"sunny\"}]}" },
      { NULL } },
    { 849, 47, 0, 0 } },
  /* message_delta's input_tokens (61) overwrites message_start's (43). */
  { "vercel-ai_anthropic-message-delta-input-tokens.chunks.jsonl",
    "msg_3196a1cc08de4d76b85b8f5777c0d42b", "claude-opus-4-5-20251101", "end_turn", "pong",
    { { NULL } }, { 61, 2, 0, 0 } },
};

static void
check_stream_case (const StreamCase *c,
                   gsize             chunk_size)
{
  g_autofree char *text = fj_test_load_fixture (c->file, NULL);
  g_autoptr(FjMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  Watch watch = { 0, };
  gboolean ok;

  if (text == NULL)
    return;

  message = new_stream_message ();
  watch_message (message, &watch);

  if (g_str_has_suffix (c->file, ".jsonl"))
    ok = feed_jsonl (message, text, &error);
  else
    ok = feed_sse (message, text, chunk_size, &error);
  g_assert_no_error (error);
  g_assert_true (ok);

  g_assert_cmpstr (fj_message_get_id (message), ==, c->id);
  g_assert_cmpstr (fj_message_get_model (message), ==, c->model);
  g_assert_cmpstr (fj_message_get_stop_reason (message), ==, c->stop_reason);
  g_assert_null (fj_message_get_stop_sequence (message));
  g_assert_cmpstr (fj_message_get_text (message), ==, c->text);
  assert_tool_calls (message, c->tools);
  assert_usage (message, c->usage[0], c->usage[1], c->usage[2], c->usage[3]);
  g_assert_true (_fj_message_get_saw_body (message));

  /* Deltas arrive in order and make up the text; "text" is notified once,
   * when the reply completes, not per delta. */
  g_assert_cmpstr (watch.deltas->str, ==, c->text);
  if (c->text[0] != '\0')
    g_assert_cmpuint (watch.n_deltas, >, 0);
  else
    g_assert_cmpuint (watch.n_deltas, ==, 0);
  g_assert_cmpuint (watch.n_text_notifies, ==, 1);
  if (c->usage[0] != 0 || c->usage[1] != 0)
    g_assert_cmpuint (watch.n_usage_notifies, >=, 1);

  assert_round_trip (message);
  watch_clear (&watch);
}

static void
test_message_stream_fixtures (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (stream_cases); i++)
    {
      g_test_message ("%s", stream_cases[i].file);
      check_stream_case (&stream_cases[i], G_MAXSIZE);
      /* Network-sized and tiny chunks change nothing. */
      check_stream_case (&stream_cases[i], 1);
      check_stream_case (&stream_cases[i], 7);
    }
}

static void
test_message_stream_details (void)
{
  g_autofree char *text = NULL;
  g_autoptr(FjMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) json = NULL;
  JsonArray *content;
  JsonObject *block;
  JsonObject *object;

  /* Thinking and its signature are kept for sending back. */
  if ((text = fj_test_load_fixture ("docs_extended_thinking_stream.sse", NULL)) == NULL)
    return;
  message = new_stream_message ();
  g_assert_true (feed_sse (message, text, 5, &error));
  g_assert_no_error (error);

  content = fj_message_get_content (message);
  g_assert_cmpuint (json_array_get_length (content), ==, 2);
  block = json_array_get_object_element (content, 0);
  g_assert_cmpstr (json_object_get_string_member (block, "type"), ==, "thinking");
  g_assert_cmpstr (json_object_get_string_member (block, "thinking"), ==,
                   "Let me solve this step by step:\n\n1. First break down 27 * 453\n"
                   "2. 453 = 400 + 50 + 3\n3. 27 * 400 = 10,800\n4. 27 * 50 = 1,350\n"
                   "5. 27 * 3 = 81\n6. 10,800 + 1,350 + 81 = 12,231");
  g_assert_cmpstr (json_object_get_string_member (block, "signature"), ==,
                   "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds...");
  block = json_array_get_object_element (content, 1);
  g_assert_cmpstr (json_object_get_string_member (block, "type"), ==, "text");
  g_assert_cmpstr (json_object_get_string_member (block, "text"), ==, "27 * 453 = 12,231");
  g_clear_object (&message);
  g_clear_pointer (&text, g_free);

  /* The refusal's stop details are kept. */
  if ((text = fj_test_load_fixture ("py-sdk_refusal_response.sse", NULL)) == NULL)
    return;
  message = new_stream_message ();
  g_assert_true (feed_sse (message, text, 64, &error));
  g_assert_no_error (error);
  json = fj_message_to_json (message);
  object = json_node_get_object (json);
  g_assert_cmpstr (json_object_get_string_member (object, "stop_reason"), ==, "refusal");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (object,
                                                                                 "stop_details"),
                                                  "category"), ==, "cyber");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (object, "usage"),
                                               "input_tokens"), ==, 20);
  g_clear_object (&message);
  g_clear_pointer (&text, g_free);

  /* Fields of a tool_use block the API added (caller) are carried
   * through; the parsed input replaces the {} of content_block_start. */
  if ((text = fj_test_load_fixture ("py-sdk_recorded_toolrunner_turn1_tool_use.sse", NULL)) == NULL)
    return;
  message = new_stream_message ();
  g_assert_true (feed_sse (message, text, 64, &error));
  g_assert_no_error (error);
  content = fj_message_get_content (message);
  g_assert_cmpuint (json_array_get_length (content), ==, 1);
  block = json_array_get_object_element (content, 0);
  g_assert_cmpstr (json_object_get_string_member (block, "id"), ==, "toolu_018acGYLtfR52q9yDbWaEdQZ");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (block, "caller"),
                                                  "type"), ==, "direct");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (block, "input"),
                                                  "units"), ==, "f");
}

static char *
cut_before (const char *text,
            const char *marker)
{
  const char *at = strstr (text, marker);

  g_assert_nonnull (at);
  return g_strndup (text, at - text);
}

static void
test_message_error_event (void)
{
  g_autofree char *error_text = fj_test_load_fixture ("docs_error_event.sse", NULL);
  g_autofree char *basic = NULL;
  g_autofree char *head = NULL;
  g_autofree char *stream = NULL;
  g_autoptr(FjMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  Watch watch = { 0, };

  if (error_text == NULL)
    return;

  /* An error as the first event: nothing streamed yet. */
  message = new_stream_message ();
  g_assert_false (feed_sse (message, error_text, 3, &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_OVERLOADED);
  g_assert_cmpstr (error->message, ==,
                   "overloaded_error: Overloaded (in the stream, before any text)");
  g_assert_cmpstr (fj_message_get_text (message), ==, "");
  g_assert_true (_fj_message_get_saw_body (message));
  g_clear_error (&error);
  g_clear_object (&message);

  /* An error after some text keeps that text. */
  if ((basic = fj_test_load_fixture ("py-sdk_basic_response.sse", NULL)) == NULL)
    return;
  head = cut_before (basic, "event: content_block_stop");
  stream = g_strconcat (head, error_text, NULL);

  message = new_stream_message ();
  watch_message (message, &watch);
  g_assert_false (feed_sse (message, stream, 16, &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_OVERLOADED);
  g_assert_cmpstr (error->message, ==,
                   "overloaded_error: Overloaded (in the stream, after 12 bytes of text)");
  g_assert_cmpstr (fj_message_get_text (message), ==, "Hello there!");
  g_assert_cmpstr (watch.deltas->str, ==, "Hello there!");
  g_assert_cmpuint (watch.n_text_notifies, ==, 1);
  g_assert_null (fj_message_get_stop_reason (message));
  g_clear_error (&error);

  /* The failed stream takes no more events. */
  g_assert_false (_fj_message_handle_event (message, "ping", "{\"type\":\"ping\"}", 15, &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL);
  g_clear_error (&error);
  g_assert_cmpstr (fj_message_get_text (message), ==, "Hello there!");

  watch_clear (&watch);
}

static void
test_message_truncated_stream (void)
{
  g_autofree char *text = fj_test_load_fixture ("py-sdk_incomplete_partial_json_max_tokens.sse",
                                                NULL);
  g_autofree char *head = NULL;
  g_autoptr(FjMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  static const ToolCall make_file[] = { { "make_file", "{}" }, { NULL } };
  Watch watch = { 0, };

  if (text == NULL)
    return;

  /* The connection drops after the last delta: no message_delta, no
   * message_stop.  The text so far and the open tool_use survive. */
  head = cut_before (text, "event: message_delta");
  message = new_stream_message ();
  watch_message (message, &watch);
  g_assert_false (feed_sse (message, head, 100, &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL);
  g_assert_cmpstr (error->message, ==, "stream ended without message_stop");
  g_assert_true (g_str_has_prefix (fj_message_get_text (message), "I'll create a comprehensive"));
  g_assert_cmpstr (watch.deltas->str, ==, fj_message_get_text (message));
  g_assert_cmpuint (watch.n_text_notifies, ==, 1);
  assert_tool_calls (message, make_file);
  g_assert_null (fj_message_get_stop_reason (message));
  watch_clear (&watch);
}

static void
check_reply (const char *body,
             guint       status,
             FjMessage **out)
{
  g_autoptr(FjMessage) message = fj_message_new_from_string ("{\"model\": \"m\"}", NULL);
  g_autoptr(GError) error = NULL;
  Watch watch = { 0, };

  watch_message (message, &watch);
  _fj_message_begin_attempt (message, 1);
  _fj_message_set_status_code (message, status);
  g_assert_true (_fj_message_load_reply (message, body, strlen (body), &error));
  g_assert_no_error (error);
  g_assert_true (_fj_message_get_saw_body (message));
  g_assert_cmpuint (watch.n_text_notifies, ==, 1);
  g_assert_cmpuint (watch.n_deltas, ==, 0);
  assert_round_trip (message);
  watch_clear (&watch);

  *out = g_steal_pointer (&message);
}

static void
test_message_nonstream_fixture (void)
{
  g_autofree char *text = fj_test_load_fixture ("vercel-ai_anthropic-text.nonstream.json", NULL);
  g_autoptr(FjMessage) message = NULL;

  if (text == NULL)
    return;

  check_reply (text, 200, &message);
  g_assert_cmpstr (fj_message_get_id (message), ==, "msg_01VdEjxAP5ahtHKrrRdNBteQ");
  g_assert_cmpstr (fj_message_get_model (message), ==, "claude-sonnet-4-5-20250929");
  g_assert_cmpstr (fj_message_get_stop_reason (message), ==, "end_turn");
  g_assert_cmpstr (fj_message_get_text (message), ==,
                   "Hello! I'm doing well, thanks for asking. How are you doing today? "
                   "Is there anything I can help you with?");
  assert_tool_calls (message, NULL);
  assert_usage (message, 12, 29, 0, 0);
}

typedef struct
{
  const char *id;
  const char *stop_reason;
  gsize       text_len;
  const char *text_prefix;
  ToolCall    tools[3];
  gint64      input_tokens;
  gint64      output_tokens;
} RecordedCase;

static const RecordedCase recorded_cases[] = {
  { "msg_012foMGXNQ1eqhaq3QvA5dY6", "tool_use", 89, "I'll use the test_tool with the value",
    { { "test_tool", "{\"value\": \"test\"}" }, { NULL } }, 415, 76 },
  { "msg_01J176zPPSGQBvQpzw2qy5x4", "end_turn", 200, "I have successfully executed the test_to",
    { { NULL } }, 505, 41 },
  { "msg_014tGTGP6AJwJvBHFgXxjp88", "tool_use", 82, "I'll use the test_tool twice as requeste",
    { { "test_tool", "{\"count\": 1}" }, { "test_tool", "{\"count\": 2}" }, { NULL } }, 418, 113 },
  { "msg_012FSxyfosSXbcSgY8XJVTTi", "end_turn", 148, "I've successfully used the test_tool twi",
    { { NULL } }, 602, 45 },
  { "msg_01NxJEcDDsnAHe22dkAgkUrB", "tool_use", 89, "I'll use the test_tool with the input",
    { { "test_tool", "{\"input\": \"test\"}" }, { NULL } }, 415, 76 },
  { "msg_01RVfMNB6BmkupnqNYej3ZXX", "end_turn", 143, "I have successfully executed the test_to",
    { { NULL } }, 505, 33 },
  { "msg_01Y2MsBpmaj4eQtsXSBak3dE", "tool_use", 3893, "I'll write a detailed 500-word essay abo",
    { { "submit_analysis", NULL }, { NULL } }, 591, 1056 },
  { "msg_015Z98DGZr5sNPpJbMWvvvL2", "end_turn", 2179, "<summary>\n## Task Overview\nThe user requ",
    { { NULL } }, 311, 497 },
  { "msg_01N9UbaoHz1GvY7recNBxbZA", "end_turn", 683, "Perfect! I've completed both parts of yo",
    { { NULL } }, 2123, 140 },
  { "msg_01Bua2j6Vmc6uNtYxhdHegLJ", "end_turn", 3022, "<summary>\n## Task Overview\nThe user requ",
    { { NULL } }, 1847, 651 },
};

static void
test_message_recorded_tool_runner (void)
{
  g_autofree char *text = fj_test_load_fixture ("ts-sdk_nock_ToolRunner_recorded.json", NULL);
  g_autoptr(JsonNode) root = NULL;
  JsonArray *pairs;

  if (text == NULL)
    return;

  root = parse (text);
  pairs = json_node_get_array (root);
  g_assert_cmpuint (json_array_get_length (pairs), ==, G_N_ELEMENTS (recorded_cases));

  for (guint i = 0; i < G_N_ELEMENTS (recorded_cases); i++)
    {
      const RecordedCase *c = &recorded_cases[i];
      JsonObject *pair = json_array_get_object_element (pairs, i);
      JsonNode *response = json_object_get_member (pair, "response");
      JsonNode *request = json_object_get_member (pair, "body");
      g_autoptr(FjMessage) message = fj_message_new (json_node_get_object (request));
      g_autoptr(GError) error = NULL;
      g_autofree char *body = NULL;
      gboolean ok;

      g_test_message ("recorded response %u: %s", i, c->id);
      g_assert_cmpint (json_object_get_int_member (pair, "status"), ==, 200);
      g_assert_false (fj_message_get_stream (message));

      _fj_message_begin_attempt (message, 1);
      _fj_message_set_status_code (message, 200);
      /* A recorded stream is SSE text; a plain reply a JSON object. */
      if (JSON_NODE_HOLDS_VALUE (response))
        ok = feed_sse (message, json_node_get_string (response), 512, &error);
      else
        {
          body = json_to_string (response, FALSE);
          ok = _fj_message_load_reply (message, body, strlen (body), &error);
        }
      g_assert_no_error (error);
      g_assert_true (ok);

      g_assert_cmpstr (fj_message_get_id (message), ==, c->id);
      g_assert_cmpstr (fj_message_get_stop_reason (message), ==, c->stop_reason);
      g_assert_cmpuint (strlen (fj_message_get_text (message)), ==, c->text_len);
      g_assert_true (g_str_has_prefix (fj_message_get_text (message), c->text_prefix));
      g_assert_cmpint (fj_message_get_usage (message)->input_tokens, ==, c->input_tokens);
      g_assert_cmpint (fj_message_get_usage (message)->output_tokens, ==, c->output_tokens);

      if (c->tools[0].name != NULL && c->tools[0].input == NULL)
        {
          JsonArray *content = fj_message_get_content (message);
          JsonObject *block = json_array_get_object_element (content, 1);
          JsonObject *input = json_object_get_object_member (block, "input");

          g_assert_cmpuint (fj_message_get_n_tool_uses (message), ==, 1);
          g_assert_cmpstr (json_object_get_string_member (block, "name"), ==, c->tools[0].name);
          g_assert_true (g_str_has_prefix (json_object_get_string_member (input, "summary"),
                                           "This 500-word essay explores"));
        }
      else
        {
          assert_tool_calls (message, c->tools);
        }
      assert_round_trip (message);
    }
}

static void
test_message_recorded_server_tool (void)
{
  g_autofree char *text = fj_test_load_fixture ("py-sdk_recorded_200_with_ratelimit_headers.json",
                                                NULL);
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *body = NULL;
  g_autoptr(FjMessage) message = NULL;
  static const ToolCall get_weather[] = {
    { "get_weather", "{\"location\": \"San Francisco, CA\", \"units\": \"c\"}" }, { NULL }
  };
  JsonArray *content;

  if (text == NULL)
    return;

  root = parse (text);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (root), "status_code"), ==,
                   200);
  body = json_to_string (json_object_get_member (json_node_get_object (root), "body"), FALSE);
  check_reply (body, 200, &message);

  g_assert_cmpstr (fj_message_get_id (message), ==, "msg_01LAwUK3MeXUxoNW5ZgnPpGy");
  g_assert_cmpstr (fj_message_get_stop_reason (message), ==, "tool_use");
  g_assert_cmpstr (fj_message_get_text (message), ==,
                   "I'll check the weather for all three cities in Celsius simultaneously.");
  /* server_tool_use is carried through but is not a call for the caller. */
  assert_tool_calls (message, get_weather);
  content = fj_message_get_content (message);
  g_assert_cmpuint (json_array_get_length (content), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (content, 1),
                                                  "type"), ==, "server_tool_use");
  assert_usage (message, 3182, 237, 0, 0);
}

static void
test_message_batch_results (void)
{
  g_autofree char *text = fj_test_load_fixture ("docs_batch_results.jsonl", NULL);
  static const struct {
    const char *custom_id;
    const char *text;
    gint64 input_tokens, output_tokens;
  } expected[] = {
    { "my-second-request", "Hello again! It's nice to see you. How can I assist you today? "
      "Is there anything specific you'd like to chat about or any questions you have?", 11, 36 },
    { "my-first-request", "Hello! How can I assist you today? Feel free to ask me any "
      "questions or let me know if there's anything you'd like to chat about.", 10, 34 },
  };
  g_auto(GStrv) lines = NULL;
  guint n = 0;

  if (text == NULL)
    return;

  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr(JsonNode) line = NULL;
      g_autoptr(FjMessage) message = NULL;
      g_autofree char *body = NULL;
      JsonObject *result;

      if (lines[i][0] == '\0')
        continue;

      g_assert_cmpuint (n, <, G_N_ELEMENTS (expected));
      line = parse (lines[i]);
      g_assert_cmpstr (json_object_get_string_member (json_node_get_object (line), "custom_id"),
                       ==, expected[n].custom_id);
      result = json_object_get_object_member (json_node_get_object (line), "result");
      body = json_to_string (json_object_get_member (result, "message"), FALSE);
      check_reply (body, 200, &message);
      g_assert_cmpstr (fj_message_get_text (message), ==, expected[n].text);
      assert_usage (message, expected[n].input_tokens, expected[n].output_tokens, 0, 0);
      n++;
    }
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (expected));
}

static void
check_error_body (const char *fixture,
                  const char *path,
                  FjError     code,
                  const char *message_prefix,
                  const char *request_id)
{
  g_autofree char *text = fj_test_load_fixture (fixture, NULL);
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) body_node = NULL;
  g_autofree char *body = NULL;
  g_autoptr(FjMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *record;
  guint status = 400;

  if (text == NULL)
    return;

  root = parse (text);
  record = json_node_get_object (root);
  if (path != NULL)
    record = json_object_get_object_member (record, path);
  if (json_object_has_member (record, "status_code"))
    {
      status = json_object_get_int_member (record, "status_code");
      record = json_object_get_object_member (record, "body");
    }
  body_node = json_node_init_object (json_node_alloc (), record);
  body = json_to_string (body_node, FALSE);

  message = fj_message_new_from_string ("{}", NULL);
  _fj_message_begin_attempt (message, 1);
  _fj_message_set_status_code (message, status);
  g_assert_false (_fj_message_load_reply (message, body, strlen (body), &error));
  g_assert_error (error, FJ_ERROR, (gint) code);
  g_assert_true (g_str_has_prefix (error->message, message_prefix));
  /* The request id of the body is kept when no header gave one. */
  g_assert_cmpstr (fj_message_get_request_id (message), ==, request_id);
  /* An error body is not reply content: the client may still retry. */
  g_assert_false (_fj_message_get_saw_body (message));
  g_assert_cmpstr (fj_message_get_text (message), ==, "");
}

static void
test_message_error_bodies (void)
{
  check_error_body ("py-sdk_recorded_429_rate_limit_error.json", NULL, FJ_ERROR_RATE_LIMITED,
                    "rate_limit_error: This request would exceed your organization's rate limit",
                    "req_011CYK5n67SytMUxm8WMZUWY");
  check_error_body ("py-sdk_recorded_400_invalid_request_error.json", "response",
                    FJ_ERROR_INVALID_REQUEST,
                    "invalid_request_error: messages.0.content.1: unexpected `tool_use_id`",
                    "req_011CYHyk9NPsBYeGbC9LuDNK");
  check_error_body ("vercel-ai_anthropic-400-unexpected-tool-use-id.error.json", NULL,
                    FJ_ERROR_INVALID_REQUEST,
                    "invalid_request_error: messages.0.content.1: unexpected `tool_use_id`",
                    "req_011CfZv936tpvzgHtZ9ffjrD");
}

static void
test_message_reply_errors (void)
{
  static const struct {
    const char *body;
    guint status;
    FjError code;
    const char *message;
  } cases[] = {
    { "{\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": "
      "\"Overloaded\"}}", 529, FJ_ERROR_OVERLOADED, "overloaded_error: Overloaded" },
    { "{\"type\": \"error\", \"error\": {\"type\": \"authentication_error\", \"message\": "
      "\"invalid x-api-key\"}}", 401, FJ_ERROR_AUTHENTICATION,
      "authentication_error: invalid x-api-key" },
    /* An error type this version does not know: the status decides. */
    { "{\"type\": \"error\", \"error\": {\"type\": \"brand_new_error\", \"message\": \"x\"}}",
      503, FJ_ERROR_SERVER, "brand_new_error: x" },
    { "{\"type\": \"completion\"}", 200, FJ_ERROR_PROTOCOL,
      "reply is not a Message: its type is completion" },
    { "{\"id\": \"msg_1\"}", 200, FJ_ERROR_PROTOCOL, "reply is not a Message: it has no type" },
    { "[1, 2]", 200, FJ_ERROR_PROTOCOL, "reply is not a Message: it is not a JSON object" },
    { "{\"type\": \"message\", \"content\": \"text\"}", 200, FJ_ERROR_PROTOCOL,
      "reply is not a Message: it has no content array" },
    { "{\"type\": \"message\", \"content\": [1]}", 200, FJ_ERROR_PROTOCOL,
      "reply is not a Message: content block 0 is not an object" },
    { "", 200, FJ_ERROR_PROTOCOL, "reply is not a Message: the reply is empty" },
    { "<html>bad gateway</html>", 200, FJ_ERROR_PROTOCOL, "reply is not a Message: the reply is "
      "not valid JSON" },
    /* A CDN's page for an error status keeps the status's meaning. */
    { "<html>413 Request Entity Too Large</html>", 413, FJ_ERROR_REQUEST_TOO_LARGE,
      "HTTP 413, and the reply is not an API error: the reply is not valid JSON" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(FjMessage) message = fj_message_new_from_string ("{}", NULL);
      g_autoptr(GError) error = NULL;

      _fj_message_set_status_code (message, cases[i].status);
      g_assert_false (_fj_message_load_reply (message, cases[i].body, strlen (cases[i].body),
                                              &error));
      g_assert_error (error, FJ_ERROR, (gint) cases[i].code);
      if (!g_str_has_prefix (error->message, cases[i].message))
        g_error ("case %u: \"%s\" does not start with \"%s\"", i, error->message,
                 cases[i].message);
      g_assert_false (_fj_message_get_saw_body (message));
    }
}

/* Our own protocol violations: each is FJ_ERROR_PROTOCOL, keeps what
 * arrived before it, and never crashes. */
#define START "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_x\",\"type\":\"message\"," \
              "\"role\":\"assistant\",\"model\":\"m\",\"content\":[],\"stop_reason\":null," \
              "\"stop_sequence\":null,\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}"
#define TEXT_START "{\"type\":\"content_block_start\",\"index\":0," \
                   "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}"
#define TEXT_DELTA(i, t) "{\"type\":\"content_block_delta\",\"index\":" #i "," \
                         "\"delta\":{\"type\":\"text_delta\",\"text\":\"" t "\"}}"
#define TOOL_START(i) "{\"type\":\"content_block_start\",\"index\":" #i ",\"content_block\":" \
                      "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"t\",\"input\":{}}}"
#define JSON_DELTA(i, j) "{\"type\":\"content_block_delta\",\"index\":" #i "," \
                         "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"" j "\"}}"
#define BLOCK_STOP(i) "{\"type\":\"content_block_stop\",\"index\":" #i "}"
#define MESSAGE_DELTA "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"," \
                      "\"stop_sequence\":null},\"usage\":{\"output_tokens\":9}}"
#define STOP "{\"type\":\"message_stop\"}"

/* Events as "name\tdata" strings; a NULL ends the list.  Returns whether
 * every event was taken, with the first error. */
static gboolean
feed_events (FjMessage          *message,
             const char * const *events,
             guint              *n_taken,
             GError            **error)
{
  guint i;

  for (i = 0; events[i] != NULL; i++)
    {
      const char *tab = strchr (events[i], '\t');
      g_autofree char *name = g_strndup (events[i], tab - events[i]);

      if (!_fj_message_handle_event (message, name, tab + 1, strlen (tab + 1), error))
        break;
    }

  if (n_taken)
    *n_taken = i;
  return events[i] == NULL;
}

static void
check_violation (const char * const *events,
                 const char         *message_text,
                 const char         *text_kept)
{
  g_autoptr(FjMessage) message = new_stream_message ();
  g_autoptr(GError) error = NULL;
  guint n_taken = 0;
  guint n_events = g_strv_length ((char **) events);
  Watch watch = { 0, };

  watch_message (message, &watch);
  g_assert_false (feed_events (message, events, &n_taken, &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL);
  if (!g_str_has_prefix (error->message, message_text))
    g_error ("\"%s\" does not start with \"%s\"", error->message, message_text);
  /* The violation is the last event. */
  g_assert_cmpuint (n_taken, ==, n_events - 1);
  g_assert_cmpstr (fj_message_get_text (message), ==, text_kept);
  g_assert_cmpuint (watch.n_text_notifies, >=, 1);
  g_clear_error (&error);

  g_assert_false (_fj_message_end_stream (message, &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL);
  watch_clear (&watch);
}

/* Feeds @data as the text delta of a stream's one text block; returns
 * whether it was taken, with the text then or the error. */
static gboolean
feed_one_delta (const char  *data,
                char       **text,
                GError     **error)
{
  g_autoptr(FjMessage) message = new_stream_message ();
  gboolean ok;

  g_assert_true (_fj_message_handle_event (message, "message_start", START, strlen (START), NULL));
  g_assert_true (_fj_message_handle_event (message, "content_block_start", TEXT_START,
                                           strlen (TEXT_START), NULL));
  ok = _fj_message_handle_event (message, "content_block_delta", data, strlen (data), error);
  *text = g_strdup (fj_message_get_text (message));

  return ok;
}

static void
test_message_text_delta_fast_path (void)
{
  static const struct {
    const char *json;
    gboolean    fast;
    const char *text;   /* what the fast path reads, when it takes it */
  } cases[] = {
    { TEXT_DELTA (0, "plain"), TRUE, "plain" },
    { TEXT_DELTA (0, ""), TRUE, "" },
    { TEXT_DELTA (0, "a\\\"b\\\\c\\/d\\n\\r\\t\\b\\f"), TRUE, "a\"b\\c/d\n\r\t\b\f" },
    { TEXT_DELTA (0, "caf\\u00e9 \\u20AC"), TRUE, "caf\xc3\xa9 \xe2\x82\xac" },
    { TEXT_DELTA (0, "raw caf\xc3\xa9"), TRUE, "raw caf\xc3\xa9" },
    { TEXT_DELTA (0, "\\ud83d\\ude00!"), TRUE, "\xf0\x9f\x98\x80!" },
    { " { \"delta\" : { \"text\" : \"x\" , \"type\" : \"text_delta\" } , \"index\" : 0 ,"
      " \"type\" : \"content_block_delta\" } \r\n", TRUE, "x" },
    /* Left to the full parse: */
    { "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
      "\"text\":\"x\",\"extra\":1}}", FALSE, NULL },
    { "{\"type\":\"content_block_delta\",\"index\":0,\"extra\":[1],\"delta\":"
      "{\"type\":\"text_delta\",\"text\":\"x\"}}", FALSE, NULL },
    { "{\"type\":\"content_block_delta\",\"index\":0,\"index\":0,\"delta\":"
      "{\"type\":\"text_delta\",\"text\":\"x\"}}", FALSE, NULL },
    { "{\"type\":\"content_block_delta\",\"index\":00,\"delta\":"
      "{\"type\":\"text_delta\",\"text\":\"x\"}}", FALSE, NULL },
    { "{\"type\":\"content_block_delta\",\"index\":0.0,\"delta\":"
      "{\"type\":\"text_delta\",\"text\":\"x\"}}", FALSE, NULL },
    { "{\"type\":\"content_block_delta\",\"index\":-1,\"delta\":"
      "{\"type\":\"text_delta\",\"text\":\"x\"}}", FALSE, NULL },
    { "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
      "{\"type\":\"thinking_delta\",\"thinking\":\"x\"}}", FALSE, NULL },
    { "{\"ty\\u0070e\":\"content_block_delta\",\"index\":0,\"delta\":"
      "{\"type\":\"text_delta\",\"text\":\"x\"}}", FALSE, NULL },
    { TEXT_DELTA (0, "nul\\u0000"), FALSE, NULL },
    { TEXT_DELTA (0, "lone \\ud83d"), FALSE, NULL },
    { TEXT_DELTA (0, "lone \\ude00"), FALSE, NULL },
    { TEXT_DELTA (0, "pair \\ud83d\\u0041"), FALSE, NULL },
    { TEXT_DELTA (0, "short \\u12"), FALSE, NULL },
    { TEXT_DELTA (0, "bad \\x"), FALSE, NULL },
    { TEXT_DELTA (0, "tab\there"), FALSE, NULL },
    { TEXT_DELTA (0, "bad \xc3\x28"), FALSE, NULL },
    { TEXT_DELTA (0, "x") " {}", FALSE, NULL },
    { TEXT_DELTA (0, "x") " // comment", FALSE, NULL },
    { "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
      "{\"type\":\"text_delta\",\"text\":\"x\"}", FALSE, NULL },
    { "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
      "{\"type\":\"text_delta\",\"text\":\"x\"},}", FALSE, NULL },
    { "{'type':'content_block_delta','index':0,'delta':{'type':'text_delta','text':'x'}}",
      FALSE, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GString) text = g_string_new ("stale");
      g_autoptr(GString) slow = g_string_new (cases[i].json);
      g_autoptr(GError) fast_error = NULL;
      g_autoptr(GError) slow_error = NULL;
      g_autofree char *fast_text = NULL;
      g_autofree char *slow_text = NULL;
      gboolean fast_ok, slow_ok;
      guint index = 7;

      g_test_message ("case %u: %s", i, cases[i].json);
      g_assert_cmpint (_fj_json_scan_text_delta (cases[i].json, strlen (cases[i].json),
                                                 text, &index), ==, cases[i].fast);
      if (cases[i].fast)
        {
          g_assert_cmpstr (text->str, ==, cases[i].text);
          g_assert_cmpuint (index, ==, 0);
        }

      /* The same event with a member the fast path does not know goes
       * through the full parse: both must agree. */
      if (g_string_replace (slow, "{\"type\"", "{\"unknown\":1,\"type\"", 1) > 0)
        g_assert_false (_fj_json_scan_text_delta (slow->str, slow->len, text, &index));

      fast_ok = feed_one_delta (cases[i].json, &fast_text, &fast_error);
      slow_ok = feed_one_delta (slow->str, &slow_text, &slow_error);
      if (g_str_has_prefix (cases[i].json, "{\"type\""))
        {
          g_assert_cmpint (fast_ok, ==, slow_ok);
          g_assert_cmpstr (fast_text, ==, slow_text);
        }
      if (cases[i].fast)
        {
          g_assert_no_error (fast_error);
          g_assert_cmpstr (fast_text, ==, cases[i].text);
        }
      else if (!fast_ok)
        {
          g_assert_error (fast_error, FJ_ERROR, FJ_ERROR_PROTOCOL);
        }
    }
}

/* The fast path keeps the full path's checks and their messages. */
static void
test_message_text_delta_fast_errors (void)
{
  {
    const char *events[] = { "content_block_delta\t" TEXT_DELTA (0, "Hi"), NULL };
    check_violation (events, "content_block_delta event before message_start", "");
  }
  {
    const char *events[] = { "message_start\t" START, "content_block_start\t" TEXT_START,
                             "content_block_delta\t" TEXT_DELTA (0, "Hi"),
                             "content_block_stop\t" BLOCK_STOP (0),
                             "message_stop\t" STOP,
                             "content_block_delta\t" TEXT_DELTA (0, "late"), NULL };
    check_violation (events, "content_block_delta event after message_stop", "Hi");
  }
  {
    const char *events[] = { "message_start\t" START, "content_block_start\t" TEXT_START,
                             "content_block_delta\t" TEXT_DELTA (0, "Hi"),
                             "content_block_delta\t" TEXT_DELTA (4294967295, "lost"), NULL };
    check_violation (events, "content_block_delta event without a valid index", "Hi");
  }
  {
    const char *events[] = { "message_start\t" START, "content_block_start\t" TEXT_START,
                             "content_block_delta\t" TEXT_DELTA (0, "Hi"),
                             "content_block_delta\t" TEXT_DELTA (0, "\\ud800"), NULL };
    check_violation (events, "the data of event content_block_delta is not valid JSON", "Hi");
  }
  {
    const char *events[] = { "message_start\t" START, "content_block_start\t" TOOL_START (0),
                             "content_block_delta\t" TEXT_DELTA (0, "ignored"),
                             "content_block_delta\t" TEXT_DELTA (1, "lost"), NULL };
    check_violation (events,
                     "content_block_delta for content block 1, which does not exist (1 blocks)",
                     "");
  }
}

static void
test_message_protocol_violations (void)
{
  g_autoptr(GString) deep = g_string_new ("{\"type\":\"content_block_delta\",\"index\":0,\"delta\":");
  g_autofree char *deep_event = NULL;

  {
    const char *events[] = { "content_block_start\t" TEXT_START, NULL };
    check_violation (events, "content_block_start event before message_start", "");
  }
  {
    const char *events[] = { "message_stop\t" STOP, NULL };
    check_violation (events, "message_stop event before message_start", "");
  }
  {
    const char *events[] = { "message_start\t" START, "content_block_start\t" TEXT_START,
                             "content_block_delta\t" TEXT_DELTA (0, "Hi"),
                             "message_start\t" START, NULL };
    check_violation (events, "a second message_start", "Hi");
  }
  {
    const char *events[] = { "message_start\t" START, "content_block_start\t" TEXT_START,
                             "content_block_delta\t" TEXT_DELTA (0, "Hi"),
                             "content_block_delta\t{\"type\":\"content_block_delta\",", NULL };
    check_violation (events, "the data of event content_block_delta is not valid JSON", "Hi");
  }
  {
    const char *events[] = { "message_start\t" START, "content_block_start\t" TEXT_START,
                             "content_block_delta\t" TEXT_DELTA (0, "Hi"),
                             "content_block_delta\t" TEXT_DELTA (1, "lost"), NULL };
    check_violation (events,
                     "content_block_delta for content block 1, which does not exist (1 blocks)",
                     "Hi");
  }
  {
    const char *events[] = { "message_start\t" START,
                             "content_block_stop\t" BLOCK_STOP (0), NULL };
    check_violation (events,
                     "content_block_stop for content block 0, which does not exist (0 blocks)", "");
  }
  {
    const char *events[] = { "message_start\t" START, "content_block_start\t" TOOL_START (1),
                             NULL };
    check_violation (events, "content_block_start for content block 1 where block 0 was due",
                     "");
  }
  {
    const char *events[] = { "message_start\t" START, "content_block_start\t" TOOL_START (0),
                             "content_block_delta\t" JSON_DELTA (0, "{\\\"a\\\": "),
                             "content_block_stop\t" BLOCK_STOP (0), NULL };
    check_violation (events, "the input of content block 0 is not valid JSON", "");
  }
  {
    const char *events[] = { "message_start\t" START, "content_block_start\t" TOOL_START (0),
                             "content_block_delta\t" JSON_DELTA (0, "[1]"),
                             "content_block_stop\t" BLOCK_STOP (0), NULL };
    check_violation (events, "the input of content block 0 is not a JSON object", "");
  }
  {
    const char *events[] = { "message_start\t" START, "message_delta\t" MESSAGE_DELTA,
                             "message_stop\t" STOP, "content_block_start\t" TEXT_START, NULL };
    check_violation (events, "content_block_start event after message_stop", "");
  }
  {
    const char *events[] = { "message_start\t[1]", NULL };
    check_violation (events, "the data of event message_start is not a JSON object", "");
  }
  {
    const char *events[] = { "message_start\t" START, "content_block_start\t" TEXT_START,
                             "content_block_delta\t{\"type\":\"content_block_delta\",\"delta\":"
                             "{\"type\":\"text_delta\",\"text\":\"x\"}}", NULL };
    check_violation (events, "content_block_delta event without a valid index", "");
  }
  {
    const char *events[] = { "message_start\t{\"type\":\"message_start\",\"message\":"
                             "{\"content\":[{\"type\":\"text\",\"text\":\"x\"}]}}", NULL };
    check_violation (events, "message_start whose content is not empty", "");
  }
  {
    const char *events[] = { "message_start\t" START, "content_block_start\t" TEXT_START,
                             "content_block_delta\t" TEXT_DELTA (0, "Hi"),
                             "message_stop\t", NULL };
    check_violation (events, "the data of event message_stop is empty", "Hi");
  }

  /* Nesting deep enough to overflow json-glib's stack is refused before
   * parsing. */
  for (guint i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  deep_event = g_strconcat ("content_block_delta\t", deep->str, NULL);
  {
    const char *events[] = { "message_start\t" START, "content_block_start\t" TEXT_START,
                             "content_block_delta\t" TEXT_DELTA (0, "Hi"), deep_event, NULL };
    check_violation (events,
                     "the data of event content_block_delta is nested deeper than 512 levels",
                     "Hi");
  }
}

static void
test_message_deep_nesting (void)
{
  g_autoptr(GString) deep = g_string_new (NULL);
  g_autoptr(GString) ok = g_string_new (NULL);
  g_autoptr(GString) in_string = g_string_new ("{\"type\":\"message\",\"content\":[{\"type\":"
                                               "\"text\",\"text\":\"");
  g_autoptr(FjMessage) message = fj_message_new_from_string ("{}", NULL);
  g_autoptr(FjMessage) from_string = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 100000; i++)
    g_string_append_c (deep, i % 2 ? '{' : '[');

  g_assert_false (_fj_message_load_reply (message, deep->str, deep->len, &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL);
  g_assert_cmpstr (error->message, ==,
                   "reply is not a Message: the reply is nested deeper than 512 levels");
  g_clear_error (&error);

  from_string = fj_message_new_from_string (deep->str, &error);
  g_assert_null (from_string);
  g_assert_error (error, FJ_ERROR, FJ_ERROR_INVALID_REQUEST);
  g_clear_error (&error);

  /* Brackets inside strings are text, not nesting. */
  for (guint i = 0; i < 100000; i++)
    g_string_append (in_string, "[{");
  g_string_append (in_string, "\\\"[\"}],\"stop_reason\":\"end_turn\",\"usage\":{}}");
  g_assert_true (_fj_message_load_reply (message, in_string->str, in_string->len, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (fj_message_get_text (message)), ==, 200002);

  /* 512 levels are fine, 513 are not. */
  for (guint i = 0; i < 512; i++)
    g_string_append_c (ok, '[');
  for (guint i = 0; i < 512; i++)
    g_string_append_c (ok, ']');
  g_assert_true (_fj_json_check_depth (ok->str, ok->len, FJ_JSON_MAX_DEPTH));
  g_string_prepend_c (ok, '[');
  g_string_append_c (ok, ']');
  g_assert_false (_fj_json_check_depth (ok->str, ok->len, FJ_JSON_MAX_DEPTH));
}

static void
test_message_check_depth (void)
{
  static const struct {
    const char *json;
    guint max;
    gboolean ok;
  } cases[] = {
    { "", 0, TRUE },
    { "1", 0, TRUE },
    { "[]", 0, FALSE },
    { "[]", 1, TRUE },
    { "[[]]", 1, FALSE },
    { "[{}]", 2, TRUE },
    { "[[], [], []]", 2, TRUE },
    { "\"[[[[\"", 1, TRUE },
    { "[\"\\\"[[[\"]", 1, TRUE },
    { "[\"\\\\\", [[]]]", 2, FALSE },
    /* json-glib 1.6 takes '...' strings and C comments. */
    { "['[[[[', 1]", 1, TRUE },
    { "['\\', [[]]]", 2, FALSE },
    { "[/* [[[ \" */ 1]", 1, TRUE },
    { "[/* \" */ [[]]]", 2, FALSE },
    { "// [[[\n", 1, FALSE },
    /* Unbalanced closers do not buy depth. */
    { "]]]][[", 1, FALSE },
    /* Unterminated strings and comments end the scan. */
    { "[\"[[[", 1, TRUE },
    { "[/*[[[", 1, TRUE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      if (_fj_json_check_depth (cases[i].json, strlen (cases[i].json), cases[i].max) !=
          cases[i].ok)
        g_error ("case %u: %s at %u levels", i, cases[i].json, cases[i].max);
    }
}

static void
test_message_stream_without_stop (void)
{
  const char *events[] = { "message_start\t" START, "content_block_start\t" TEXT_START,
                           "content_block_delta\t" TEXT_DELTA (0, "Partial"), NULL };
  const char *nothing[] = { NULL };
  g_autoptr(FjMessage) message = new_stream_message ();
  g_autoptr(FjMessage) empty = new_stream_message ();
  g_autoptr(GError) error = NULL;

  g_assert_true (feed_events (message, events, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (fj_message_get_text (message), ==, "Partial");

  g_assert_false (_fj_message_end_stream (message, &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL);
  g_assert_cmpstr (error->message, ==, "stream ended without message_stop");
  g_assert_cmpstr (fj_message_get_text (message), ==, "Partial");
  g_clear_error (&error);

  /* An empty body is no reply either. */
  g_assert_true (feed_events (empty, nothing, NULL, &error));
  g_assert_false (_fj_message_end_stream (empty, &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL);
  g_assert_false (_fj_message_get_saw_body (empty));
}

static void
test_message_lenient_events (void)
{
  /* Keep-alives, unknown events, unknown delta and block types, deltas
   * that do not fit their block, an empty tool input, whitespace padding
   * and an event name that disagrees with the type. */
  const char *events[] = {
    "ping\t",
    "message_start\t" START,
    "ping\t{\"type\": \"ping\"}",
    "brand_new_event\t{\"type\":\"brand_new_event\",\"x\":[1,2]}",
    "message\t" TEXT_START,
    "content_block_delta\t" TEXT_DELTA (0, "A"),
    "content_block_delta\t{\"type\":\"content_block_delta\",\"index\":0,"
    "\"delta\":{\"type\":\"brand_new_delta\",\"x\":1}}",
    "content_block_delta\t" JSON_DELTA (0, "ignored"),
    "content_block_delta\t{\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
    "{\"type\":\"citations_delta\",\"citation\":{\"type\":\"char_location\",\"cited_text\":\"c\"}}}",
    "content_block_stop\t" BLOCK_STOP (0) "     ",
    "content_block_start\t{\"type\":\"content_block_start\",\"index\":1,\"content_block\":"
    "{\"type\":\"brand_new_block\",\"payload\":{\"k\":[true]}}}",
    "content_block_delta\t" TEXT_DELTA (1, "not text"),
    "content_block_stop\t" BLOCK_STOP (1),
    "content_block_start\t" TOOL_START (2),
    "content_block_delta\t" JSON_DELTA (2, ""),
    "content_block_stop\t" BLOCK_STOP (2),
    "content_block_start\t{\"type\":\"content_block_start\",\"index\":3,"
    "\"content_block\":{\"type\":\"text\",\"text\":\"B\"}}",
    "content_block_delta\t" TEXT_DELTA (3, "C"),
    /* A late delta to an earlier text block still lands in order. */
    "content_block_delta\t" TEXT_DELTA (0, "a"),
    "content_block_stop\t" BLOCK_STOP (3),
    "message_delta\t" MESSAGE_DELTA,
    "message_stop\t" STOP,
    "ping\t{\"type\":\"ping\"}",
    NULL
  };
  static const ToolCall no_args[] = { { "t", "{}" }, { NULL } };
  g_autoptr(FjMessage) message = new_stream_message ();
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) expected = NULL;
  g_autoptr(JsonNode) content = NULL;
  Watch watch = { 0, };

  watch_message (message, &watch);
  g_assert_true (feed_events (message, events, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (_fj_message_end_stream (message, &error));
  g_assert_no_error (error);

  g_assert_cmpstr (fj_message_get_text (message), ==, "AaBC");
  g_assert_cmpstr (watch.deltas->str, ==, "ACa");
  g_assert_cmpuint (watch.n_deltas, ==, 3);
  assert_tool_calls (message, no_args);
  assert_usage (message, 3, 9, 0, 0);

  expected = parse ("[{\"type\":\"text\",\"text\":\"Aa\",\"citations\":[{\"type\":\"char_location\","
                    "\"cited_text\":\"c\"}]},"
                    "{\"type\":\"brand_new_block\",\"payload\":{\"k\":[true]}},"
                    "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"t\",\"input\":{}},"
                    "{\"type\":\"text\",\"text\":\"BC\"}]");
  content = json_node_init_array (json_node_alloc (), fj_message_get_content (message));
  if (!json_node_equal (content, expected))
    {
      g_autofree char *got = json_to_string (content, FALSE);

      g_error ("content is %s", got);
    }
  assert_round_trip (message);
  watch_clear (&watch);
}

static void
test_message_text_mid_stream (void)
{
  const char *events[] = { "message_start\t" START, "content_block_start\t" TEXT_START,
                           "content_block_delta\t" TEXT_DELTA (0, "One"),
                           "content_block_delta\t" TEXT_DELTA (0, " two"), NULL };
  g_autoptr(FjMessage) message = new_stream_message ();
  g_autoptr(GError) error = NULL;
  g_autofree char *prop = NULL;
  JsonArray *content;
  Watch watch = { 0, };

  watch_message (message, &watch);
  g_assert_true (feed_events (message, events, NULL, &error));
  g_assert_no_error (error);

  /* Mid-stream the text and content are readable, but "text" has not
   * been notified once per delta. */
  g_assert_cmpstr (fj_message_get_text (message), ==, "One two");
  g_object_get (message, "text", &prop, NULL);
  g_assert_cmpstr (prop, ==, "One two");
  g_assert_cmpuint (watch.n_text_notifies, ==, 0);
  g_assert_cmpuint (watch.n_deltas, ==, 2);
  content = fj_message_get_content (message);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (content, 0),
                                                  "text"), ==, "One two");
  g_assert_cmpstr (fj_message_get_id (message), ==, "msg_x");
  g_assert_cmpstr (fj_message_get_model (message), ==, "m");
  assert_usage (message, 3, 1, 0, 0);
  g_assert_null (fj_message_get_stop_reason (message));

  watch_clear (&watch);
}

static void
test_message_params (void)
{
  g_autoptr(JsonNode) params = parse ("{\"model\": \"claude-haiku-5-5\", \"max_tokens\": 10,"
                                      " \"stream\": true}");
  g_autoptr(FjMessage) message = fj_message_new (json_node_get_object (params));
  g_autoptr(FjMessage) plain = NULL;
  g_autoptr(FjMessage) not_bool = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) prop = NULL;

  /* A reference, not a copy. */
  g_assert_true (fj_message_get_params (message) == json_node_get_object (params));
  g_object_get (message, "params", &prop, NULL);
  g_assert_true (prop == json_node_get_object (params));
  g_assert_true (fj_message_get_stream (message));

  plain = fj_message_new_from_string ("{\"model\": \"m\"}", &error);
  g_assert_no_error (error);
  g_assert_false (fj_message_get_stream (plain));
  g_assert_cmpstr (json_object_get_string_member (fj_message_get_params (plain), "model"), ==,
                   "m");
  g_assert_cmpstr (fj_message_get_text (plain), ==, "");
  g_assert_null (fj_message_get_id (plain));
  g_assert_cmpuint (json_array_get_length (fj_message_get_content (plain)), ==, 0);
  g_assert_cmpuint (fj_message_get_n_tool_uses (plain), ==, 0);
  g_assert_cmpuint (fj_message_get_status_code (plain), ==, 0);
  g_assert_cmpuint (fj_message_get_attempts (plain), ==, 0);
  g_assert_false (_fj_message_get_saw_body (plain));

  not_bool = fj_message_new_from_string ("{\"stream\": \"yes\"}", &error);
  g_assert_no_error (error);
  g_assert_false (fj_message_get_stream (not_bool));

  g_assert_null (fj_message_new_from_string ("[1]", &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_INVALID_REQUEST);
  g_assert_cmpstr (error->message, ==, "the request parameters are not a JSON object");
  g_clear_error (&error);
  g_assert_null (fj_message_new_from_string ("{\"model\": ", &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_INVALID_REQUEST);
  g_assert_true (g_str_has_prefix (error->message, "the request parameters are not valid JSON"));
  g_clear_error (&error);
  g_assert_null (fj_message_new_from_string ("", &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_INVALID_REQUEST);
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 GPtrArray  *names)
{
  g_ptr_array_add (names, g_strdup (pspec->name));
}

static gboolean
has_name (GPtrArray  *names,
          const char *name)
{
  for (guint i = 0; i < names->len; i++)
    if (g_str_equal (g_ptr_array_index (names, i), name))
      return TRUE;

  return FALSE;
}

typedef struct
{
  guint   attempt;
  double  delay;
  GError *reason;
  guint   n_emissions;
} Retrying;

static void
retrying_cb (FjMessage    *message,
             guint         attempt,
             double        delay,
             const GError *reason,
             Retrying     *r)
{
  r->attempt = attempt;
  r->delay = delay;
  g_clear_error (&r->reason);
  r->reason = g_error_copy (reason);
  r->n_emissions++;
}

static void
test_message_attempts (void)
{
  g_autoptr(FjMessage) message = fj_message_new_from_string ("{}", NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) reason = g_error_new_literal (FJ_ERROR, FJ_ERROR_OVERLOADED, "HTTP 529");
  g_autoptr(GError) error = NULL;
  Retrying r = { 0, };
  guint status = 0;
  guint attempts = 0;
  g_autofree char *request_id = NULL;
  const char *events[] = { "message_start\t" START, NULL };

  g_signal_connect (message, "notify", G_CALLBACK (count_notify_cb), names);
  g_signal_connect (message, "retrying", G_CALLBACK (retrying_cb), &r);

  _fj_message_set_phase (message, FJ_MESSAGE_PHASE_RATE_LIMIT);
  g_assert_cmpint (_fj_message_get_phase (message), ==, FJ_MESSAGE_PHASE_RATE_LIMIT);
  _fj_message_set_deadline (message, 12345);
  g_assert_cmpint (_fj_message_get_deadline (message), ==, 12345);

  _fj_message_begin_attempt (message, 1);
  _fj_message_set_status_code (message, 529);
  _fj_message_set_request_id (message, "req_1");
  g_assert_true (has_name (names, "attempts"));
  g_assert_true (has_name (names, "status-code"));
  g_assert_true (has_name (names, "request-id"));
  g_object_get (message, "status-code", &status, "attempts", &attempts,
                "request-id", &request_id, NULL);
  g_assert_cmpuint (status, ==, 529);
  g_assert_cmpuint (attempts, ==, 1);
  g_assert_cmpstr (request_id, ==, "req_1");

  _fj_message_emit_retrying (message, 2, 0.5, reason);
  g_assert_cmpuint (r.n_emissions, ==, 1);
  g_assert_cmpuint (r.attempt, ==, 2);
  g_assert_cmpfloat (r.delay, ==, 0.5);
  g_assert_error (r.reason, FJ_ERROR, FJ_ERROR_OVERLOADED);

  /* A new attempt forgets the last one's status and request id. */
  g_ptr_array_set_size (names, 0);
  _fj_message_begin_attempt (message, 2);
  g_assert_cmpuint (fj_message_get_attempts (message), ==, 2);
  g_assert_cmpuint (fj_message_get_status_code (message), ==, 0);
  g_assert_null (fj_message_get_request_id (message));
  g_assert_true (has_name (names, "attempts"));
  g_assert_true (has_name (names, "status-code"));
  g_assert_true (has_name (names, "request-id"));

  /* Properties are notified only when they change. */
  g_ptr_array_set_size (names, 0);
  _fj_message_set_status_code (message, 0);
  _fj_message_set_request_id (message, NULL);
  g_assert_cmpuint (names->len, ==, 0);

  _fj_message_set_status_code (message, 200);
  g_assert_true (feed_events (message, events, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (has_name (names, "id"));
  g_assert_true (has_name (names, "model"));
  g_assert_true (has_name (names, "usage"));
  g_assert_false (has_name (names, "text"));
  g_assert_true (_fj_message_get_saw_body (message));

  g_clear_error (&r.reason);
}

static void
test_message_phase_describe (void)
{
  g_assert_cmpstr (_fj_message_phase_describe (FJ_MESSAGE_PHASE_RATE_LIMIT), ==,
                   "waiting for the rate limit");
  g_assert_cmpstr (_fj_message_phase_describe (FJ_MESSAGE_PHASE_WAITING), ==,
                   "waiting for the API");
  g_assert_cmpstr (_fj_message_phase_describe (FJ_MESSAGE_PHASE_STREAMING), ==,
                   "streaming the reply");
  g_assert_cmpstr (_fj_message_phase_describe (FJ_MESSAGE_PHASE_RETRY_SLEEP), ==,
                   "waiting to retry");
  g_assert_nonnull (_fj_message_phase_describe (FJ_MESSAGE_PHASE_IDLE));
  g_assert_nonnull (_fj_message_phase_describe (FJ_MESSAGE_PHASE_DONE));
}

static void
test_message_finalize (void)
{
  g_autofree char *text = fj_test_load_fixture ("docs_tool_use_stream.sse", NULL);
  FjMessage *message;
  g_autoptr(GError) error = NULL;

  if (text == NULL)
    return;

  message = new_stream_message ();
  g_assert_true (feed_sse (message, text, 32, &error));
  g_assert_no_error (error);
  g_assert_finalize_object (message);
}

int
main (int   argc,
      char *argv[])
{
  fj_test_init (&argc, &argv);

  g_test_add_func ("/Forkjoin/Message/params", test_message_params);
  g_test_add_func ("/Forkjoin/Message/attempts", test_message_attempts);
  g_test_add_func ("/Forkjoin/Message/phase-describe", test_message_phase_describe);
  g_test_add_func ("/Forkjoin/Message/stream-fixtures", test_message_stream_fixtures);
  g_test_add_func ("/Forkjoin/Message/stream-details", test_message_stream_details);
  g_test_add_func ("/Forkjoin/Message/text-mid-stream", test_message_text_mid_stream);
  g_test_add_func ("/Forkjoin/Message/error-event", test_message_error_event);
  g_test_add_func ("/Forkjoin/Message/truncated-stream", test_message_truncated_stream);
  g_test_add_func ("/Forkjoin/Message/stream-without-stop", test_message_stream_without_stop);
  g_test_add_func ("/Forkjoin/Message/lenient-events", test_message_lenient_events);
  g_test_add_func ("/Forkjoin/Message/protocol-violations", test_message_protocol_violations);
  g_test_add_func ("/Forkjoin/Message/text-delta-fast-path", test_message_text_delta_fast_path);
  g_test_add_func ("/Forkjoin/Message/text-delta-fast-errors", test_message_text_delta_fast_errors);
  g_test_add_func ("/Forkjoin/Message/deep-nesting", test_message_deep_nesting);
  g_test_add_func ("/Forkjoin/Message/check-depth", test_message_check_depth);
  g_test_add_func ("/Forkjoin/Message/nonstream-fixture", test_message_nonstream_fixture);
  g_test_add_func ("/Forkjoin/Message/recorded-tool-runner", test_message_recorded_tool_runner);
  g_test_add_func ("/Forkjoin/Message/recorded-server-tool", test_message_recorded_server_tool);
  g_test_add_func ("/Forkjoin/Message/batch-results", test_message_batch_results);
  g_test_add_func ("/Forkjoin/Message/error-bodies", test_message_error_bodies);
  g_test_add_func ("/Forkjoin/Message/reply-errors", test_message_reply_errors);
  g_test_add_func ("/Forkjoin/Message/finalize", test_message_finalize);

  return g_test_run ();
}
