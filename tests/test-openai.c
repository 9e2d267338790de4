/* test-openai.c — FjClient speaking OpenAI Chat Completions
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <libsoup/soup.h>

#include "fj-message-private.h"
#include "fj-openai-private.h"
#include "fj-sse-parser-private.h"
#include "fj-test-utils.h"

#define FIXTURE "vercel-ai_openai-chat-tool-call.chunks.jsonl"

static JsonNode *
parse (const char *json)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  return json_node_ref (json_parser_get_root (parser));
}

static FjMessage *
message_new (const char *params_json)
{
  g_autoptr(JsonNode) root = parse (params_json);

  return fj_message_new (json_node_get_object (root));
}

static FjMessage *
plain_message_new (gboolean    stream,
                   const char *system,
                   const char *user)
{
  g_autofree char *json = g_strdup_printf ("{\"model\": \"llama3.2\", \"max_tokens\": 256,"
                                           " \"stream\": %s, \"system\": \"%s\","
                                           " \"messages\": [{\"role\": \"user\", \"content\": \"%s\"}]}",
                                           stream ? "true" : "false", system, user);

  return message_new (json);
}

/* The lines of a .chunks.jsonl fixture (notes already removed). */
static char **
fixture_lines (void)
{
  g_autofree char *text = fj_test_load_fixture (FIXTURE, NULL);
  g_auto(GStrv) lines = NULL;
  GPtrArray *out;

  if (text == NULL)
    return NULL;

  lines = g_strsplit (text, "\n", -1);
  out = g_ptr_array_new ();
  for (guint i = 0; lines[i] != NULL; i++)
    if (*g_strstrip (lines[i]) != '\0')
      g_ptr_array_add (out, g_strdup (lines[i]));
  g_ptr_array_add (out, NULL);

  return (char **) g_ptr_array_free (out, FALSE);
}

/* What the fixture says, read here independently of the translator. */
typedef struct
{
  GString *text;
  char    *tool_id;
  char    *tool_name;
  GString *arguments;
  gint64   prompt_tokens;
  gint64   completion_tokens;
  gint64   cached_tokens;
} Expected;

static void
expected_clear (Expected *expected)
{
  g_string_free (expected->text, TRUE);
  g_string_free (expected->arguments, TRUE);
  g_free (expected->tool_id);
  g_free (expected->tool_name);
}

static void
expected_read (Expected  *expected,
               char     **lines)
{
  memset (expected, 0, sizeof *expected);
  expected->text = g_string_new (NULL);
  expected->arguments = g_string_new (NULL);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr(JsonNode) root = parse (lines[i]);
      JsonObject *chunk = json_node_get_object (root);
      JsonArray *choices = json_object_get_array_member (chunk, "choices");
      JsonNode *usage = json_object_get_member (chunk, "usage");

      if (usage != NULL && JSON_NODE_HOLDS_OBJECT (usage))
        {
          JsonObject *counts = json_node_get_object (usage);

          expected->prompt_tokens = json_object_get_int_member (counts, "prompt_tokens");
          expected->completion_tokens = json_object_get_int_member (counts, "completion_tokens");
          expected->cached_tokens =
            json_object_get_int_member (json_object_get_object_member (counts, "prompt_tokens_details"),
                                        "cached_tokens");
        }

      if (json_array_get_length (choices) > 0)
        {
          JsonObject *delta = json_object_get_object_member (json_array_get_object_element (choices, 0),
                                                             "delta");
          const char *content = json_object_get_string_member_with_default (delta, "content", NULL);

          if (content != NULL)
            g_string_append (expected->text, content);
          if (json_object_has_member (delta, "tool_calls"))
            {
              JsonObject *call = json_array_get_object_element (json_object_get_array_member (delta, "tool_calls"), 0);
              JsonObject *function = json_object_get_object_member (call, "function");

              if (json_object_has_member (call, "id"))
                expected->tool_id = g_strdup (json_object_get_string_member (call, "id"));
              if (json_object_has_member (function, "name"))
                expected->tool_name = g_strdup (json_object_get_string_member (function, "name"));
              g_string_append (expected->arguments,
                               json_object_get_string_member_with_default (function, "arguments", ""));
            }
        }
    }

  g_assert_nonnull (expected->tool_id);
  g_assert_nonnull (expected->tool_name);
}

static void
assert_matches_fixture (FjMessage *message,
                        Expected  *expected)
{
  JsonArray *content = fj_message_get_content (message);
  JsonObject *tool = NULL;
  g_autoptr(JsonNode) args = parse (expected->arguments->str);
  FjUsage *usage = fj_message_get_usage (message);

  g_assert_cmpstr (fj_message_get_text (message), ==, expected->text->str);
  g_assert_cmpuint (fj_message_get_n_tool_uses (message), ==, 1);
  g_assert_cmpstr (fj_message_get_stop_reason (message), ==, "tool_use");

  for (guint i = 0; i < json_array_get_length (content); i++)
    {
      JsonObject *block = json_array_get_object_element (content, i);

      if (g_str_equal (json_object_get_string_member (block, "type"), "tool_use"))
        tool = block;
    }
  g_assert_nonnull (tool);
  g_assert_cmpstr (json_object_get_string_member (tool, "id"), ==, expected->tool_id);
  g_assert_cmpstr (json_object_get_string_member (tool, "name"), ==, expected->tool_name);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_object_get_member (tool, "input")));
  g_assert_true (json_node_equal (json_object_get_member (tool, "input"), args));

  g_assert_cmpint (usage->input_tokens, ==, expected->prompt_tokens - expected->cached_tokens);
  g_assert_cmpint (usage->output_tokens, ==, expected->completion_tokens);
  g_assert_cmpint (usage->cache_read_input_tokens, ==, expected->cached_tokens);
}

static void
on_delta (FjMessage  *message,
          const char *text,
          gpointer    user_data)
{
  g_string_append ((GString *) user_data, text);
}

static gboolean
feed (FjOpenaiStream *stream,
      const char     *data,
      GError        **error)
{
  return _fj_openai_stream_feed (stream, data, strlen (data), error);
}

/* The recorded stream, chunk by chunk, then [DONE]. */
static void
test_fixture_stream (void)
{
  g_auto(GStrv) lines = fixture_lines ();
  g_autoptr(FjMessage) message = NULL;
  g_autoptr(FjOpenaiStream) stream = NULL;
  g_autoptr(GString) deltas = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  Expected expected;

  if (lines == NULL)
    return;

  expected_read (&expected, lines);
  message = plain_message_new (TRUE, "sys", "weather?");
  g_signal_connect (message, "text-delta", G_CALLBACK (on_delta), deltas);
  stream = _fj_openai_stream_new (message);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_assert_true (feed (stream, lines[i], &error));
      g_assert_no_error (error);
    }
  g_assert_false (_fj_openai_stream_get_done (stream));
  g_assert_true (feed (stream, "[DONE]", &error));
  g_assert_no_error (error);
  g_assert_true (_fj_openai_stream_get_done (stream));

  /* Nothing after [DONE] is read. */
  g_assert_true (feed (stream, "{not json", &error));
  g_assert_no_error (error);

  g_assert_true (_fj_message_end_stream (message, &error));
  g_assert_no_error (error);

  assert_matches_fixture (message, &expected);
  g_assert_cmpstr (deltas->str, ==, expected.text->str);
  expected_clear (&expected);
}

typedef struct
{
  FjOpenaiStream *stream;
} SplitData;

static gboolean
split_event_cb (const char  *event,
                const char  *data,
                gsize        data_len,
                gpointer     user_data,
                GError     **error)
{
  SplitData *split = user_data;

  return _fj_openai_stream_feed (split->stream, data, data_len, error);
}

/* The same stream as it comes on the wire, cut in two at every byte. */
static void
test_fixture_every_split (void)
{
  g_auto(GStrv) lines = fixture_lines ();
  g_autoptr(GString) wire = g_string_new (NULL);
  Expected expected;

  if (lines == NULL)
    return;

  expected_read (&expected, lines);
  for (guint i = 0; lines[i] != NULL; i++)
    g_string_append_printf (wire, "data: %s\r\n\r\n", lines[i]);
  g_string_append (wire, "data: [DONE]\r\n\r\n");

  for (gsize cut = 0; cut <= wire->len; cut++)
    {
      g_autoptr(FjMessage) message = plain_message_new (TRUE, "sys", "weather?");
      g_autoptr(FjSseParser) parser = NULL;
      g_autoptr(GError) error = NULL;
      SplitData split;

      split.stream = _fj_openai_stream_new (message);
      parser = _fj_sse_parser_new (split_event_cb, &split);

      g_assert_true (_fj_sse_parser_feed (parser, (const guint8 *) wire->str, cut, &error));
      g_assert_true (_fj_sse_parser_feed (parser, (const guint8 *) wire->str + cut,
                                          wire->len - cut, &error));
      g_assert_true (_fj_sse_parser_finish (parser, &error));
      g_assert_no_error (error);
      g_assert_true (_fj_message_end_stream (message, &error));
      g_assert_no_error (error);

      assert_matches_fixture (message, &expected);
      _fj_openai_stream_free (split.stream);
    }

  expected_clear (&expected);
}

static JsonObject *
element (JsonArray *array,
         guint      index)
{
  return json_array_get_object_element (array, index);
}

static void
test_request (void)
{
  g_autoptr(JsonNode) params =
    parse ("{\"model\": \"qwen2.5\", \"max_tokens\": 300, \"temperature\": 0.5, \"top_p\": 0.9,"
           " \"stop_sequences\": [\"END\"], \"stream\": true, \"top_k\": 5,"
           " \"system\": [{\"type\": \"text\", \"text\": \"You are terse.\"},"
           "              {\"type\": \"text\", \"text\": \"Use tools.\"}],"
           " \"tools\": [{\"name\": \"clock\", \"description\": \"Tells the time\","
           "             \"input_schema\": {\"type\": \"object\", \"properties\": {\"tz\": {\"type\": \"string\"}}}}],"
           " \"tool_choice\": {\"type\": \"any\"},"
           " \"messages\": ["
           "  {\"role\": \"user\", \"content\": \"What time is it?\"},"
           "  {\"role\": \"assistant\", \"content\": ["
           "     {\"type\": \"text\", \"text\": \"Checking.\"},"
           "     {\"type\": \"tool_use\", \"id\": \"call_1\", \"name\": \"clock\", \"input\": {\"tz\": \"UTC\"}},"
           "     {\"type\": \"tool_use\", \"id\": \"call_2\", \"name\": \"clock\", \"input\": {}}]},"
           "  {\"role\": \"user\", \"content\": ["
           "     {\"type\": \"tool_result\", \"tool_use_id\": \"call_1\", \"content\": \"12:00\"},"
           "     {\"type\": \"tool_result\", \"tool_use_id\": \"call_2\", \"is_error\": true,"
           "      \"content\": [{\"type\": \"text\", \"text\": \"no tz\"}]},"
           "     {\"type\": \"text\", \"text\": \"And in Paris?\"}]},"
           "  {\"role\": \"assistant\", \"content\": [{\"type\": \"tool_use\", \"id\": \"call_3\","
           "     \"name\": \"clock\", \"input\": {\"tz\": \"CET\"}}]},"
           "  {\"role\": \"user\", \"content\": [{\"type\": \"tool_result\", \"tool_use_id\": \"call_3\"}]}"
           "]}");
  g_autoptr(JsonNode) body = _fj_openai_build_request (json_node_get_object (params));
  g_autoptr(JsonNode) arguments = NULL;
  JsonObject *object = json_node_get_object (body);
  JsonArray *messages = json_object_get_array_member (object, "messages");
  JsonObject *assistant;
  JsonArray *calls;
  JsonObject *function;
  JsonObject *tool;

  g_assert_cmpstr (json_object_get_string_member (object, "model"), ==, "qwen2.5");
  g_assert_cmpint (json_object_get_int_member (object, "max_tokens"), ==, 300);
  g_assert_cmpfloat (json_object_get_double_member (object, "temperature"), ==, 0.5);
  g_assert_cmpfloat (json_object_get_double_member (object, "top_p"), ==, 0.9);
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (object, "stop"), 0), ==, "END");
  g_assert_true (json_object_get_boolean_member (object, "stream"));
  g_assert_true (json_object_get_boolean_member (json_object_get_object_member (object, "stream_options"),
                                                 "include_usage"));
  g_assert_false (json_object_has_member (object, "top_k"));
  g_assert_false (json_object_has_member (object, "system"));
  g_assert_false (json_object_has_member (object, "stop_sequences"));
  g_assert_cmpstr (json_object_get_string_member (object, "tool_choice"), ==, "required");

  /* Tools as functions. */
  tool = element (json_object_get_array_member (object, "tools"), 0);
  g_assert_cmpstr (json_object_get_string_member (tool, "type"), ==, "function");
  function = json_object_get_object_member (tool, "function");
  g_assert_cmpstr (json_object_get_string_member (function, "name"), ==, "clock");
  g_assert_cmpstr (json_object_get_string_member (function, "description"), ==, "Tells the time");
  g_assert_true (json_object_has_member (json_object_get_object_member (function, "parameters"), "properties"));

  /* system, user, assistant, tool, tool, user, assistant, tool */
  g_assert_cmpuint (json_array_get_length (messages), ==, 8);
  g_assert_cmpstr (json_object_get_string_member (element (messages, 0), "role"), ==, "system");
  g_assert_cmpstr (json_object_get_string_member (element (messages, 0), "content"), ==,
                   "You are terse.\nUse tools.");
  g_assert_cmpstr (json_object_get_string_member (element (messages, 1), "role"), ==, "user");
  g_assert_cmpstr (json_object_get_string_member (element (messages, 1), "content"), ==, "What time is it?");

  assistant = element (messages, 2);
  g_assert_cmpstr (json_object_get_string_member (assistant, "role"), ==, "assistant");
  g_assert_cmpstr (json_object_get_string_member (assistant, "content"), ==, "Checking.");
  calls = json_object_get_array_member (assistant, "tool_calls");
  g_assert_cmpuint (json_array_get_length (calls), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (element (calls, 0), "id"), ==, "call_1");
  g_assert_cmpstr (json_object_get_string_member (element (calls, 0), "type"), ==, "function");
  function = json_object_get_object_member (element (calls, 0), "function");
  g_assert_cmpstr (json_object_get_string_member (function, "name"), ==, "clock");
  arguments = parse (json_object_get_string_member (function, "arguments"));
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (arguments), "tz"), ==, "UTC");
  function = json_object_get_object_member (element (calls, 1), "function");
  g_assert_cmpstr (json_object_get_string_member (function, "arguments"), ==, "{}");

  g_assert_cmpstr (json_object_get_string_member (element (messages, 3), "role"), ==, "tool");
  g_assert_cmpstr (json_object_get_string_member (element (messages, 3), "tool_call_id"), ==, "call_1");
  g_assert_cmpstr (json_object_get_string_member (element (messages, 3), "content"), ==, "12:00");
  g_assert_cmpstr (json_object_get_string_member (element (messages, 4), "tool_call_id"), ==, "call_2");
  g_assert_cmpstr (json_object_get_string_member (element (messages, 4), "content"), ==, "Error: no tz");
  g_assert_cmpstr (json_object_get_string_member (element (messages, 5), "role"), ==, "user");
  g_assert_cmpstr (json_object_get_string_member (element (messages, 5), "content"), ==, "And in Paris?");

  /* A tool-only turn has null content; an empty result is an empty string. */
  g_assert_true (JSON_NODE_HOLDS_NULL (json_object_get_member (element (messages, 6), "content")));
  g_assert_cmpstr (json_object_get_string_member (element (messages, 7), "content"), ==, "");
}

static void
test_request_plain (void)
{
  g_autoptr(JsonNode) params =
    parse ("{\"model\": \"m\", \"max_tokens\": 10, \"stream\": false,"
           " \"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"hi\"}]}]}");
  g_autoptr(JsonNode) body = _fj_openai_build_request (json_node_get_object (params));
  JsonObject *object = json_node_get_object (body);
  JsonArray *messages = json_object_get_array_member (object, "messages");

  /* No system prompt, no stream options, text blocks as a plain string. */
  g_assert_cmpuint (json_array_get_length (messages), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (element (messages, 0), "content"), ==, "hi");
  g_assert_false (json_object_has_member (object, "stream_options"));
  g_assert_false (json_object_has_member (object, "tools"));
  g_assert_false (json_object_has_member (object, "tool_choice"));
}

static void
test_stream_without_usage (void)
{
  g_autoptr(FjMessage) message = plain_message_new (TRUE, "s", "u");
  g_autoptr(FjOpenaiStream) stream = _fj_openai_stream_new (message);
  g_autoptr(GError) error = NULL;
  FjUsage *usage;

  g_assert_true (feed (stream, "{\"id\":\"c1\",\"model\":\"m\",\"choices\":[{\"index\":0,"
                               "\"delta\":{\"role\":\"assistant\",\"reasoning_content\":\"hmm\"},"
                               "\"finish_reason\":null}]}", &error));
  g_assert_true (feed (stream, "{\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},"
                               "\"finish_reason\":null}],\"usage\":null}", &error));
  g_assert_true (feed (stream, "{\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},"
                               "\"finish_reason\":\"stop\"}]}", &error));
  g_assert_true (feed (stream, " [DONE]", &error));
  g_assert_no_error (error);
  g_assert_true (_fj_message_end_stream (message, &error));
  g_assert_no_error (error);

  g_assert_cmpstr (fj_message_get_text (message), ==, "Hello");
  g_assert_cmpstr (fj_message_get_id (message), ==, "c1");
  g_assert_cmpstr (fj_message_get_model (message), ==, "m");
  g_assert_cmpstr (fj_message_get_stop_reason (message), ==, "end_turn");
  usage = fj_message_get_usage (message);
  g_assert_cmpint (usage->input_tokens, ==, 0);
  g_assert_cmpint (usage->output_tokens, ==, 0);
}

static void
test_stream_ends_early (void)
{
  g_autoptr(FjMessage) message = plain_message_new (TRUE, "s", "u");
  g_autoptr(FjOpenaiStream) stream = _fj_openai_stream_new (message);
  g_autoptr(GError) error = NULL;

  g_assert_true (feed (stream, "{\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Part\"}}]}",
                       &error));
  g_assert_true (feed (stream, "{\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},"
                               "\"finish_reason\":\"stop\"}]}", &error));
  g_assert_no_error (error);
  g_assert_false (_fj_message_end_stream (message, &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL);
  g_assert_cmpstr (fj_message_get_text (message), ==, "Part");
}

static void
test_stream_error_chunk (void)
{
  g_autoptr(FjMessage) message = plain_message_new (TRUE, "s", "u");
  g_autoptr(FjOpenaiStream) stream = _fj_openai_stream_new (message);
  g_autoptr(GError) error = NULL;

  g_assert_true (feed (stream, "{\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"So far\"}}]}",
                       &error));
  g_assert_false (feed (stream, "{\"error\":{\"message\":\"the model crashed\",\"type\":null,\"code\":500}}",
                        &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_SERVER);
  g_assert_nonnull (strstr (error->message, "the model crashed"));
  g_assert_cmpstr (fj_message_get_text (message), ==, "So far");
}

static void
test_stream_malformed (void)
{
  g_autoptr(FjMessage) message = plain_message_new (TRUE, "s", "u");
  g_autoptr(FjOpenaiStream) stream = _fj_openai_stream_new (message);
  g_autoptr(GError) error = NULL;

  g_assert_false (feed (stream, "{\"choices\": [", &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL);
  g_clear_error (&error);
  g_assert_false (feed (stream, "[1, 2]", &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL);
}

/* Tool calls by index, two at once, the first cut by the token limit. */
static void
test_stream_tool_calls (void)
{
  g_autoptr(FjMessage) message = plain_message_new (TRUE, "s", "u");
  g_autoptr(FjOpenaiStream) stream = _fj_openai_stream_new (message);
  g_autoptr(GError) error = NULL;
  JsonArray *content;
  JsonObject *input;

  g_assert_true (feed (stream, "{\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":["
                               "{\"index\":0,\"id\":\"call_a\",\"type\":\"function\","
                               "\"function\":{\"name\":\"clock\",\"arguments\":\"{\\\"tz\\\":\"}},"
                               "{\"index\":1,\"function\":{\"name\":\"calc\",\"arguments\":\"\"}}]}}]}",
                       &error));
  g_assert_true (feed (stream, "{\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":["
                               "{\"index\":1,\"function\":{\"arguments\":\"{\\\"x\\\": 2}\"}},"
                               "{\"index\":0,\"function\":{\"arguments\":\"\\\"UT\"}}]}}]}", &error));
  g_assert_true (feed (stream, "{\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},"
                               "\"finish_reason\":\"length\"}],"
                               "\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":9}}", &error));
  g_assert_true (feed (stream, "[DONE]", &error));
  g_assert_no_error (error);
  g_assert_true (_fj_message_end_stream (message, &error));
  g_assert_no_error (error);

  g_assert_cmpstr (fj_message_get_stop_reason (message), ==, "max_tokens");
  g_assert_cmpint (fj_message_get_usage (message)->input_tokens, ==, 7);
  g_assert_cmpint (fj_message_get_usage (message)->output_tokens, ==, 9);
  content = fj_message_get_content (message);
  g_assert_cmpuint (json_array_get_length (content), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (element (content, 0), "id"), ==, "call_a");
  /* Half its JSON: kept as {}, as for a max_tokens cut in the Messages API. */
  g_assert_cmpuint (json_object_get_size (json_object_get_object_member (element (content, 0), "input")), ==, 0);
  /* No id from the server: one is made, for the tool_result to name. */
  g_assert_cmpstr (json_object_get_string_member (element (content, 1), "id"), ==, "call_1");
  g_assert_cmpstr (json_object_get_string_member (element (content, 1), "name"), ==, "calc");
  input = json_object_get_object_member (element (content, 1), "input");
  g_assert_cmpint (json_object_get_int_member (input, "x"), ==, 2);
}

static void
test_reply (void)
{
  g_autoptr(FjMessage) message = plain_message_new (FALSE, "s", "u");
  g_autoptr(GError) error = NULL;
  const char *body =
    "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"llama3.2\","
    "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Let me look.\","
    "\"tool_calls\":[{\"id\":\"call_9\",\"type\":\"function\",\"function\":{\"name\":\"clock\","
    "\"arguments\":\"{\\\"tz\\\":\\\"UTC\\\"}\"}}]},\"finish_reason\":\"tool_calls\"}],"
    "\"usage\":{\"prompt_tokens\":50,\"completion_tokens\":8,\"total_tokens\":58,"
    "\"prompt_tokens_details\":{\"cached_tokens\":20}}}";
  JsonArray *content;
  FjUsage *usage;

  g_assert_true (_fj_openai_load_reply (message, body, strlen (body), &error));
  g_assert_no_error (error);

  g_assert_cmpstr (fj_message_get_id (message), ==, "chatcmpl-1");
  g_assert_cmpstr (fj_message_get_model (message), ==, "llama3.2");
  g_assert_cmpstr (fj_message_get_text (message), ==, "Let me look.");
  g_assert_cmpstr (fj_message_get_stop_reason (message), ==, "tool_use");
  g_assert_cmpuint (fj_message_get_n_tool_uses (message), ==, 1);
  content = fj_message_get_content (message);
  g_assert_cmpstr (json_object_get_string_member (element (content, 1), "id"), ==, "call_9");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (element (content, 1), "input"),
                                                  "tz"), ==, "UTC");
  usage = fj_message_get_usage (message);
  g_assert_cmpint (usage->input_tokens, ==, 30);
  g_assert_cmpint (usage->cache_read_input_tokens, ==, 20);
  g_assert_cmpint (usage->output_tokens, ==, 8);
}

static void
test_reply_without_usage (void)
{
  g_autoptr(FjMessage) message = plain_message_new (FALSE, "s", "u");
  g_autoptr(GError) error = NULL;
  const char *body =
    "{\"id\":\"x\",\"object\":\"chat.completion\",\"model\":\"m\","
    "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hi\"},"
    "\"finish_reason\":\"content_filter\"}]}";

  g_assert_true (_fj_openai_load_reply (message, body, strlen (body), &error));
  g_assert_no_error (error);
  g_assert_cmpstr (fj_message_get_text (message), ==, "Hi");
  g_assert_cmpstr (fj_message_get_stop_reason (message), ==, "refusal");
  g_assert_cmpint (fj_message_get_usage (message)->input_tokens, ==, 0);
  g_assert_cmpint (fj_message_get_usage (message)->output_tokens, ==, 0);
}

static void
test_reply_malformed (void)
{
  static const char * const bodies[] = {
    "not json",
    "[]",
    "{\"choices\": []}",
    "{\"choices\": [{\"index\": 0}]}",
    /* One literal in two lines (the parentheses tell clang so). */
    ("{\"choices\":[{\"message\":{\"tool_calls\":[{\"id\":\"c\",\"function\":"
     "{\"name\":\"t\",\"arguments\":\"{broken\"}}]},\"finish_reason\":\"tool_calls\"}]}"),
  };

  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_autoptr(FjMessage) message = plain_message_new (FALSE, "s", "u");
      g_autoptr(GError) error = NULL;

      g_assert_false (_fj_openai_load_reply (message, bodies[i], strlen (bodies[i]), &error));
      g_assert_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL);
    }
}

static void
test_finish_reasons (void)
{
  g_assert_cmpstr (_fj_openai_map_finish_reason ("stop", FALSE), ==, "end_turn");
  g_assert_cmpstr (_fj_openai_map_finish_reason ("stop", TRUE), ==, "tool_use");
  g_assert_cmpstr (_fj_openai_map_finish_reason ("length", FALSE), ==, "max_tokens");
  g_assert_cmpstr (_fj_openai_map_finish_reason ("tool_calls", FALSE), ==, "tool_use");
  g_assert_cmpstr (_fj_openai_map_finish_reason ("content_filter", FALSE), ==, "refusal");
  g_assert_cmpstr (_fj_openai_map_finish_reason ("eos", FALSE), ==, "eos");
  g_assert_null (_fj_openai_map_finish_reason (NULL, FALSE));
}

static void
test_error_bodies (void)
{
  static const struct {
    guint status;
    const char *body;
    FjError code;
    const char *expect;
  } cases[] = {
    { 400, "{\"error\":{\"message\":\"bad model\",\"type\":\"invalid_request_error\",\"code\":null}}",
      FJ_ERROR_INVALID_REQUEST, "HTTP 400 invalid_request_error: bad model" },
    /* OpenAI sends a bad key as 401 invalid_request_error: the status decides. */
    { 401, "{\"error\":{\"message\":\"Incorrect API key\",\"type\":\"invalid_request_error\","
           "\"code\":\"invalid_api_key\"}}",
      FJ_ERROR_AUTHENTICATION, "Incorrect API key" },
    { 429, "{\"error\":{\"message\":\"slow down\",\"type\":null}}",
      FJ_ERROR_RATE_LIMITED, ": slow down" },
    { 429, "{\"error\":{\"message\":\"quota\",\"code\":\"insufficient_quota\"}}",
      FJ_ERROR_RATE_LIMITED, "HTTP 429 insufficient_quota: quota" },
    { 503, "{\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}",
      FJ_ERROR_OVERLOADED, "HTTP 503 server_error: overloaded" },
    { 529, "", FJ_ERROR_OVERLOADED, "HTTP 529" },
    { 500, "{\"error\":{\"message\":\"boom\"}}", FJ_ERROR_SERVER, "HTTP 500 Internal Server Error: boom" },
    { 404, "{\"error\":\"model 'x' not found\"}", FJ_ERROR_NOT_FOUND, "model 'x' not found" },
    { 502, "<html>Bad gateway</html>", FJ_ERROR_SERVER, "<html>Bad gateway" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = _fj_openai_api_error (cases[i].status, cases[i].body,
                                                      strlen (cases[i].body), "req-7");

      g_assert_error (error, FJ_ERROR, (int) cases[i].code);
      if (strstr (error->message, cases[i].expect) == NULL)
        g_error ("case %u: %s", i, error->message);
      g_assert_nonnull (strstr (error->message, "(request req-7)"));
    }
}

/* ------------------------------------------------------------------ */
/* Against the simulator's /v1/chat/completions                       */
/* ------------------------------------------------------------------ */

static FjClient *
openai_client_new (FjSimulator *sim,
                   const char  *key)
{
  g_autofree char *base = fj_simulator_dup_base_url (sim);
  g_autofree char *url = g_strconcat (base, "/v1", NULL);
  FjClient *client = fj_client_new_for_base_url (url);

  fj_client_set_provider (client, FJ_PROVIDER_OPENAI);
  fj_client_set_api_key (client, key);
  fj_client_set_auth_token (client, NULL);
  return client;
}

static JsonObject *
log_entry (FjSimulator *sim,
           guint        index,
           JsonNode   **keep)
{
  JsonObject *stats;

  g_clear_pointer (keep, json_node_unref);
  *keep = fj_simulator_get_stats (sim);
  stats = json_node_get_object (*keep);
  return json_array_get_object_element (json_object_get_array_member (stats, "log"), index);
}

static void
test_sim_json (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"output_tokens\": 12}");
  g_autoptr(FjClient) client = openai_client_new (sim, FJ_TEST_API_KEY);
  g_autoptr(FjMessage) message = plain_message_new (FALSE, "You are a market analyst.", "How is ACME?");
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) stats = NULL;

  error = fj_test_send_and_wait (client, message, NULL, 10);
  g_assert_no_error (error);
  g_assert_cmpuint (fj_message_get_status_code (message), ==, 200);
  g_assert_cmpstr (fj_message_get_stop_reason (message), ==, "end_turn");
  g_assert_nonnull (strstr (fj_message_get_text (message), "market analyst"));
  g_assert_cmpint (fj_message_get_usage (message)->output_tokens, ==, 12);
  g_assert_cmpint (fj_message_get_usage (message)->input_tokens, >, 0);
  g_assert_cmpstr (json_object_get_string_member_with_default (log_entry (sim, 0, &stats), "api", NULL),
                   ==, "openai");
}

static void
test_sim_sse (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"output_tokens\": 30}");
  g_autoptr(FjClient) client = openai_client_new (sim, FJ_TEST_API_KEY);
  g_autoptr(FjMessage) message = plain_message_new (TRUE, "You are a technical analyst.", "Rate it");
  g_autoptr(GString) deltas = g_string_new (NULL);
  g_autoptr(GError) error = NULL;

  g_signal_connect (message, "text-delta", G_CALLBACK (on_delta), deltas);
  error = fj_test_send_and_wait (client, message, NULL, 10);
  g_assert_no_error (error);
  g_assert_cmpstr (fj_message_get_stop_reason (message), ==, "end_turn");
  g_assert_cmpint (fj_message_get_usage (message)->output_tokens, ==, 30);
  g_assert_cmpstr (deltas->str, ==, fj_message_get_text (message));
  g_assert_nonnull (strstr (deltas->str, "technical analyst"));
}

/* A local server needs no key: none is sent, and none is refused. */
static void
test_sim_no_key (void)
{
  g_autoptr(FjSimulator) sim = fj_simulator_new ();
  g_autoptr(FjClient) client = NULL;
  g_autoptr(FjMessage) message = plain_message_new (TRUE, "You are local.", "Hi");
  g_autoptr(GError) error = NULL;

  fj_simulator_start (sim, &error);
  g_assert_no_error (error);
  client = openai_client_new (sim, NULL);
  g_assert_false (fj_client_get_has_credentials (client));

  error = fj_test_send_and_wait (client, message, NULL, 10);
  g_assert_no_error (error);
  g_assert_cmpstr (fj_message_get_stop_reason (message), ==, "end_turn");
}

static void
test_sim_wrong_key (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (NULL);
  g_autoptr(FjClient) client = openai_client_new (sim, "fj-wrong-key-0000");
  g_autoptr(FjMessage) message = plain_message_new (FALSE, "You are a market analyst.", "Q3?");
  g_autoptr(GError) error = NULL;

  error = fj_test_send_and_wait (client, message, NULL, 10);
  g_assert_error (error, FJ_ERROR, FJ_ERROR_AUTHENTICATION);
  g_assert_nonnull (strstr (error->message, "HTTP 401"));
  g_assert_null (strstr (error->message, "fj-wrong-key-0000"));
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, 1);
}

static void
test_sim_retry_429 (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"latency\": 0, \"failures\": [{\"status\": 429, \"attempts\": 1, \"retry_after\": 1}]}");
  g_autoptr(FjClient) client = openai_client_new (sim, FJ_TEST_API_KEY);
  g_autoptr(FjMessage) message = plain_message_new (TRUE, "You are a market analyst.", "Q3?");
  g_autoptr(GError) error = NULL;

  error = fj_test_send_and_wait (client, message, NULL, 20);
  g_assert_no_error (error);
  g_assert_cmpuint (fj_message_get_attempts (message), ==, 2);
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, 2);
  g_assert_nonnull (strstr (fj_message_get_text (message), "market analyst"));
}

static void
test_sim_529_exhausts (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"failures\": [{\"status\": 529}]}");
  g_autoptr(FjClient) client = openai_client_new (sim, FJ_TEST_API_KEY);
  g_autoptr(FjMessage) message = plain_message_new (FALSE, "You are a market analyst.", "Q3?");
  g_autoptr(GError) error = NULL;

  fj_client_set_max_retries (client, 1);
  error = fj_test_send_and_wait (client, message, NULL, 20);
  g_assert_error (error, FJ_ERROR, FJ_ERROR_OVERLOADED);
  g_assert_nonnull (strstr (error->message, "after 2 attempts"));
  g_assert_nonnull (strstr (error->message, "HTTP 529"));
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, 2);
}

static void
test_sim_400 (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"failures\": [{\"status\": 400}]}");
  g_autoptr(FjClient) client = openai_client_new (sim, FJ_TEST_API_KEY);
  g_autoptr(FjMessage) message = plain_message_new (FALSE, "You are a market analyst.", "Q3?");
  g_autoptr(GError) error = NULL;

  error = fj_test_send_and_wait (client, message, NULL, 10);
  g_assert_error (error, FJ_ERROR, FJ_ERROR_INVALID_REQUEST);
  g_assert_nonnull (strstr (error->message, "HTTP 400"));
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, 1);
}

static gboolean
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
  return G_SOURCE_REMOVE;
}

static void
test_sim_cancel (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"latency\": 0, \"output_tokens\": 2000, \"tokens_per_second\": 20}");
  g_autoptr(FjClient) client = openai_client_new (sim, FJ_TEST_API_KEY);
  g_autoptr(FjMessage) message = plain_message_new (TRUE, "You are slow.", "Go");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;

  g_timeout_add (300, cancel_cb, cancellable);
  error = fj_test_send_and_wait (client, message, cancellable, 10);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

#define TEST_TYPE_CLOCK (test_clock_get_type ())
G_DECLARE_FINAL_TYPE (TestClock, test_clock, TEST, CLOCK, FjTool)

struct _TestClock
{
  FjTool parent_instance;
  guint  n_calls;
  char  *last_input;
};

G_DEFINE_FINAL_TYPE (TestClock, test_clock, FJ_TYPE_TOOL)

static char *
test_clock_invoke (FjTool        *tool,
                   const char    *input_json,
                   GCancellable  *cancellable,
                   GError       **error)
{
  TestClock *self = TEST_CLOCK (tool);

  /* Runs on a worker thread; the test reads these after the run. */
  self->n_calls++;
  g_free (self->last_input);
  self->last_input = g_strdup (input_json);
  return g_strdup ("12:34 UTC");
}

static void
test_clock_finalize (GObject *object)
{
  g_free (TEST_CLOCK (object)->last_input);
  G_OBJECT_CLASS (test_clock_parent_class)->finalize (object);
}

static void
test_clock_class_init (TestClockClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_clock_finalize;
  FJ_TOOL_CLASS (klass)->invoke = test_clock_invoke;
}

static void
test_clock_init (TestClock *self)
{
  fj_tool_set_name (FJ_TOOL (self), "clock");
  fj_tool_set_description (FJ_TOOL (self), "Tells the time");
  fj_tool_set_input_schema (FJ_TOOL (self),
                            "{\"type\": \"object\", \"properties\": {\"tz\": {\"type\": \"string\"}}}");
}

static void
run_tool_loop (gboolean stream)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"latency\": 0, \"seed\": 3, \"output_tokens\": 20,"
                           " \"tool_use\": {\"name\": \"clock\", \"input\": {\"tz\": \"UTC\"}, \"turns\": 1}}");
  g_autoptr(FjClient) client = openai_client_new (sim, FJ_TEST_API_KEY);
  g_autoptr(FjAgent) agent = fj_agent_new ("timekeeper");
  g_autoptr(TestClock) clock = g_object_new (TEST_TYPE_CLOCK, NULL);
  g_autoptr(FjAgentResult) result = NULL;
  g_autoptr(GAsyncResult) async_result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) stats = NULL;

  fj_agent_set_instructions (agent, "You are the timekeeper.");
  fj_agent_set_stream (agent, stream);
  fj_agent_add_tool (agent, FJ_TOOL (clock));

  fj_agent_run_async (agent, client, "What time is it?", NULL, fj_test_async_result_cb, &async_result);
  fj_test_wait_result (&async_result, 30);
  result = fj_agent_run_finish (agent, async_result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (result);
  if (fj_agent_result_get_status (result) != FJ_AGENT_STATUS_SUCCESS)
    g_error ("agent failed: %s", fj_agent_result_get_error_message (result));

  g_assert_cmpuint (fj_agent_result_get_turns (result), ==, 2);
  g_assert_cmpstr (fj_agent_result_get_stop_reason (result), ==, "end_turn");
  g_assert_cmpuint (clock->n_calls, ==, 1);
  g_assert_nonnull (strstr (clock->last_input, "UTC"));
  /* The answer quotes the tool's result: the tool message reached it. */
  g_assert_nonnull (strstr (fj_agent_result_get_output (result), "12:34 UTC"));
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, 2);
  g_assert_cmpstr (json_object_get_string_member_with_default (log_entry (sim, 1, &stats), "api", NULL),
                   ==, "openai");
}

/* ------------------------------------------------------------------ */
/* What goes on the wire (a plain SoupServer)                          */
/* ------------------------------------------------------------------ */

typedef struct
{
  char  *path;
  char  *authorization;
  gboolean saw_version;
  gboolean saw_x_api_key;
  char  *body;
  guint  n_requests;
} Seen;

static void
wire_handler (SoupServer        *server,
              SoupServerMessage *msg,
              const char        *path,
              GHashTable        *query,
              gpointer           user_data)
{
  Seen *seen = user_data;
  SoupMessageHeaders *request = soup_server_message_get_request_headers (msg);
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  static const char reply[] =
    "{\"id\":\"chatcmpl-w\",\"object\":\"chat.completion\",\"model\":\"m\",\"choices\":[{\"index\":0,"
    "\"message\":{\"role\":\"assistant\",\"content\":\"wired\"},\"finish_reason\":\"stop\"}]}";

  seen->n_requests++;
  g_free (seen->path);
  seen->path = g_strdup (path);
  g_free (seen->authorization);
  seen->authorization = g_strdup (soup_message_headers_get_one (request, "Authorization"));
  seen->saw_version = soup_message_headers_get_one (request, "anthropic-version") != NULL;
  seen->saw_x_api_key = soup_message_headers_get_one (request, "x-api-key") != NULL;
  g_free (seen->body);
  seen->body = g_strndup (body->data, body->length);

  /* The first request is refused with a short retry-after-ms. */
  if (seen->n_requests == 1)
    {
      static const char refusal[] = "{\"error\":{\"message\":\"busy\",\"type\":null,\"code\":null}}";

      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "retry-after-ms", "50");
      soup_server_message_set_status (msg, 503, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
                                        refusal, strlen (refusal));
      return;
    }

  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "x-request-id", "req-wire-1");
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
                                    reply, strlen (reply));
}

static void
test_wire (void)
{
  g_autoptr(SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(FjClient) client = NULL;
  g_autoptr(FjMessage) message = plain_message_new (FALSE, "You are wired.", "Hi");
  g_autoptr(JsonNode) body = NULL;
  g_autofree char *url = NULL;
  GSList *uris;
  JsonArray *messages;
  Seen seen = { 0, };

  soup_server_add_handler (server, NULL, wire_handler, &seen, NULL);
  soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  url = g_strdup_printf ("http://127.0.0.1:%d/v1/", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  client = fj_client_new_for_base_url (url);
  fj_client_set_provider (client, FJ_PROVIDER_OPENAI);
  fj_client_set_api_key (client, FJ_TEST_API_KEY);
  fj_client_set_auth_token (client, NULL);

  error = fj_test_send_and_wait (client, message, NULL, 10);
  g_assert_no_error (error);

  g_assert_cmpuint (seen.n_requests, ==, 2);
  g_assert_cmpuint (fj_message_get_attempts (message), ==, 2);
  g_assert_cmpstr (seen.path, ==, "/v1/chat/completions");
  g_assert_cmpstr (seen.authorization, ==, "Bearer " FJ_TEST_API_KEY);
  g_assert_false (seen.saw_version);
  g_assert_false (seen.saw_x_api_key);
  g_assert_cmpstr (fj_message_get_request_id (message), ==, "req-wire-1");
  g_assert_cmpstr (fj_message_get_text (message), ==, "wired");

  body = parse (seen.body);
  messages = json_object_get_array_member (json_node_get_object (body), "messages");
  g_assert_cmpstr (json_object_get_string_member (element (messages, 0), "role"), ==, "system");
  g_assert_cmpstr (json_object_get_string_member (element (messages, 0), "content"), ==, "You are wired.");
  g_assert_false (json_object_has_member (json_node_get_object (body), "system"));

  g_free (seen.path);
  g_free (seen.authorization);
  g_free (seen.body);
}

static void
test_sim_tool_loop (void)
{
  run_tool_loop (TRUE);
}

static void
test_sim_tool_loop_json (void)
{
  run_tool_loop (FALSE);
}

/* An Anthropic key from the environment is never sent to an OpenAI
 * server; one set explicitly is kept. */
static void
test_env_credentials_dropped (void)
{
  g_autofree char *saved_key = g_strdup (g_getenv ("ANTHROPIC_API_KEY"));
  g_autofree char *saved_token = g_strdup (g_getenv ("ANTHROPIC_AUTH_TOKEN"));

  g_setenv ("ANTHROPIC_API_KEY", "fj-env-key-not-for-openai", TRUE);
  g_unsetenv ("ANTHROPIC_AUTH_TOKEN");
  {
    g_autoptr(FjClient) from_env = fj_client_new_for_base_url ("http://127.0.0.1:11434/v1");
    g_autoptr(FjClient) explicit = fj_client_new_for_base_url ("http://127.0.0.1:11434/v1");

    g_assert_true (fj_client_get_has_credentials (from_env));
    fj_client_set_provider (from_env, FJ_PROVIDER_OPENAI);
    g_assert_false (fj_client_get_has_credentials (from_env));

    fj_client_set_api_key (explicit, "fj-local-server-key");
    fj_client_set_provider (explicit, FJ_PROVIDER_OPENAI);
    g_assert_true (fj_client_get_has_credentials (explicit));
  }

  if (saved_key != NULL)
    g_setenv ("ANTHROPIC_API_KEY", saved_key, TRUE);
  else
    g_unsetenv ("ANTHROPIC_API_KEY");
  if (saved_token != NULL)
    g_setenv ("ANTHROPIC_AUTH_TOKEN", saved_token, TRUE);
}

int
main (int   argc,
      char *argv[])
{
  fj_test_init (&argc, &argv);

  g_test_add_func ("/Forkjoin/OpenAI/fixture-stream", test_fixture_stream);
  g_test_add_func ("/Forkjoin/OpenAI/fixture-every-split", test_fixture_every_split);
  g_test_add_func ("/Forkjoin/OpenAI/request", test_request);
  g_test_add_func ("/Forkjoin/OpenAI/request-plain", test_request_plain);
  g_test_add_func ("/Forkjoin/OpenAI/stream-without-usage", test_stream_without_usage);
  g_test_add_func ("/Forkjoin/OpenAI/stream-ends-early", test_stream_ends_early);
  g_test_add_func ("/Forkjoin/OpenAI/stream-error-chunk", test_stream_error_chunk);
  g_test_add_func ("/Forkjoin/OpenAI/stream-malformed", test_stream_malformed);
  g_test_add_func ("/Forkjoin/OpenAI/stream-tool-calls", test_stream_tool_calls);
  g_test_add_func ("/Forkjoin/OpenAI/reply", test_reply);
  g_test_add_func ("/Forkjoin/OpenAI/reply-without-usage", test_reply_without_usage);
  g_test_add_func ("/Forkjoin/OpenAI/reply-malformed", test_reply_malformed);
  g_test_add_func ("/Forkjoin/OpenAI/finish-reasons", test_finish_reasons);
  g_test_add_func ("/Forkjoin/OpenAI/error-bodies", test_error_bodies);
  g_test_add_func ("/Forkjoin/OpenAI/wire", test_wire);
  g_test_add_func ("/Forkjoin/OpenAI/sim/json", test_sim_json);
  g_test_add_func ("/Forkjoin/OpenAI/sim/sse", test_sim_sse);
  g_test_add_func ("/Forkjoin/OpenAI/sim/no-key", test_sim_no_key);
  g_test_add_func ("/Forkjoin/OpenAI/sim/wrong-key", test_sim_wrong_key);
  g_test_add_func ("/Forkjoin/OpenAI/sim/retry-429", test_sim_retry_429);
  g_test_add_func ("/Forkjoin/OpenAI/sim/529-exhausts", test_sim_529_exhausts);
  g_test_add_func ("/Forkjoin/OpenAI/sim/400", test_sim_400);
  g_test_add_func ("/Forkjoin/OpenAI/sim/cancel", test_sim_cancel);
  g_test_add_func ("/Forkjoin/OpenAI/sim/tool-loop", test_sim_tool_loop);
  g_test_add_func ("/Forkjoin/OpenAI/sim/tool-loop-json", test_sim_tool_loop_json);
  g_test_add_func ("/Forkjoin/OpenAI/env-credentials-dropped", test_env_credentials_dropped);

  return g_test_run ();
}
