/* test-simulator.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "fj-test-utils.h"
#include "fj-simulator-reply-private.h"

#define MODEL "claude-haiku-5-5"
#define MARKET_SYSTEM "You are a market analyst. Focus on demand and competitors."
#define TECH_SYSTEM "You are a technical analyst, reading charts."
#define QUESTION "Analyze Q3 performance for ACME Corp"

typedef enum
{
  AUTH_NONE,
  AUTH_KEY,
  AUTH_BEARER,
} Auth;

typedef struct
{
  SoupMessage  *msg;
  guint         status;
  GBytes       *body;
  char         *text;
  GError       *error;
  gboolean      done;
} Call;

static void
call_free (Call *call)
{
  g_clear_object (&call->msg);
  g_clear_pointer (&call->body, g_bytes_unref);
  g_free (call->text);
  g_clear_error (&call->error);
  g_free (call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Call, call_free)

static SoupSession *
session_new (void)
{
  return soup_session_new_with_options ("max-conns", 512, "max-conns-per-host", 512, NULL);
}

static char *
url_for (FjSimulator *sim,
         const char  *path)
{
  g_autofree char *base = fj_simulator_dup_base_url (sim);

  return g_strconcat (base, path, NULL);
}

static SoupMessage *
message_new (FjSimulator *sim,
             const char  *method,
             const char  *path,
             Auth         auth,
             const char  *key,
             const char  *version,
             const char  *body)
{
  g_autofree char *url = url_for (sim, path);
  SoupMessage *msg = soup_message_new (method, url);
  SoupMessageHeaders *headers = soup_message_get_request_headers (msg);

  if (auth == AUTH_KEY)
    soup_message_headers_replace (headers, "x-api-key", key);
  else if (auth == AUTH_BEARER)
    {
      g_autofree char *value = g_strconcat ("Bearer ", key, NULL);

      soup_message_headers_replace (headers, "Authorization", value);
    }
  if (version != NULL)
    soup_message_headers_replace (headers, "anthropic-version", version);
  if (body != NULL)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));

      soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
    }

  return msg;
}

static void
send_and_read_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Call *call = user_data;

  call->body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &call->error);
  call->status = soup_message_get_status (call->msg);
  if (call->body != NULL)
    call->text = g_strndup (g_bytes_get_data (call->body, NULL), g_bytes_get_size (call->body));
  call->done = TRUE;
}

/* Starts sending @msg (taking it); wait with call_wait(). */
static Call *
call_start (SoupSession  *session,
            SoupMessage  *msg,
            GCancellable *cancellable)
{
  Call *call = g_new0 (Call, 1);

  call->msg = msg;
  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, cancellable,
                                    send_and_read_cb, call);
  return call;
}

static void
call_wait (Call *call)
{
  fj_test_wait_for (&call->done, 30);
}

static Call *
call_run (SoupSession *session,
          SoupMessage *msg)
{
  Call *call = call_start (session, msg, NULL);

  call_wait (call);
  return call;
}

static char *
request_body_full (const char *system,
                   const char *user,
                   gboolean    stream,
                   gint64      max_tokens,
                   const char *tools_json,
                   const char *extra_messages_json)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "model");
  json_builder_add_string_value (builder, MODEL);
  json_builder_set_member_name (builder, "max_tokens");
  json_builder_add_int_value (builder, max_tokens);
  if (system != NULL)
    {
      json_builder_set_member_name (builder, "system");
      json_builder_add_string_value (builder, system);
    }
  json_builder_set_member_name (builder, "messages");
  if (extra_messages_json != NULL)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();

      g_assert_true (json_parser_load_from_data (parser, extra_messages_json, -1, NULL));
      json_builder_add_value (builder, json_node_copy (json_parser_get_root (parser)));
    }
  else
    {
      json_builder_begin_array (builder);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "role");
      json_builder_add_string_value (builder, "user");
      json_builder_set_member_name (builder, "content");
      json_builder_add_string_value (builder, user);
      json_builder_end_object (builder);
      json_builder_end_array (builder);
    }
  if (tools_json != NULL)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();

      g_assert_true (json_parser_load_from_data (parser, tools_json, -1, NULL));
      json_builder_set_member_name (builder, "tools");
      json_builder_add_value (builder, json_node_copy (json_parser_get_root (parser)));
    }
  if (stream)
    {
      json_builder_set_member_name (builder, "stream");
      json_builder_add_boolean_value (builder, TRUE);
    }
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

static char *
request_body (const char *system,
              const char *user,
              gboolean    stream)
{
  return request_body_full (system, user, stream, 1024, NULL, NULL);
}

/* A POST /v1/messages with the test key and the default version. */
static SoupMessage *
messages_new (FjSimulator *sim,
              const char  *body)
{
  return message_new (sim, SOUP_METHOD_POST, "/v1/messages", AUTH_KEY, FJ_TEST_API_KEY,
                      "2023-06-01", body);
}

static Call *
ask (SoupSession *session,
     FjSimulator *sim,
     const char  *system,
     const char  *user,
     gboolean     stream)
{
  g_autofree char *body = request_body (system, user, stream);

  return call_run (session, messages_new (sim, body));
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  g_assert_nonnull (json_parser_get_root (parser));
  return json_node_copy (json_parser_get_root (parser));
}

static const char *
header (Call       *call,
        const char *name)
{
  return soup_message_headers_get_one (soup_message_get_response_headers (call->msg), name);
}

static void
assert_request_id (const char *id)
{
  g_assert_nonnull (id);
  g_assert_true (g_str_has_prefix (id, "req_"));
  g_assert_cmpuint (strlen (id), ==, 4 + 24);
  for (const char *p = id + 4; *p; p++)
    g_assert_true (g_ascii_isalnum (*p));
}

/* Checks an error body is exactly {"type":"error","error":{"type","message"},"request_id"}
 * and returns error.message. */
static const char *
assert_error_body (Call       *call,
                   guint       status,
                   const char *type,
                   JsonNode  **out_root)
{
  JsonNode *root;
  JsonObject *object;
  JsonObject *error;

  g_assert_no_error (call->error);
  g_assert_cmpuint (call->status, ==, status);
  g_assert_cmpstr (header (call, "Content-Type"), ==, "application/json");
  assert_request_id (header (call, "request-id"));

  root = parse_json (call->text);
  object = json_node_get_object (root);
  g_assert_cmpuint (json_object_get_size (object), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (object, "type"), ==, "error");
  g_assert_cmpstr (json_object_get_string_member (object, "request_id"), ==, header (call, "request-id"));
  error = json_object_get_object_member (object, "error");
  g_assert_cmpuint (json_object_get_size (error), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (error, "type"), ==, type);

  *out_root = root;
  return json_object_get_string_member (error, "message");
}

static char *
reply_text (Call *call)
{
  g_autoptr(JsonNode) root = parse_json (call->text);
  JsonArray *content = json_object_get_array_member (json_node_get_object (root), "content");
  JsonObject *block = json_array_get_object_element (content, 0);

  return g_strdup (json_object_get_string_member (block, "text"));
}

typedef struct
{
  char *event;
  char *data;
} Event;

static void
event_clear (gpointer data)
{
  Event *event = data;

  g_free (event->event);
  g_free (event->data);
}

/* Splits SSE text into its events (simply: the simulator writes one event
 * line and one data line per event). */
static GArray *
parse_sse (const char *text)
{
  GArray *events = g_array_new (FALSE, TRUE, sizeof (Event));
  g_auto(GStrv) blocks = g_strsplit (text, "\n\n", -1);

  g_array_set_clear_func (events, event_clear);
  for (guint i = 0; blocks[i] != NULL; i++)
    {
      g_auto(GStrv) lines = g_strsplit (blocks[i], "\n", -1);
      Event event = { NULL, NULL };

      for (guint j = 0; lines[j] != NULL; j++)
        {
          if (g_str_has_prefix (lines[j], "event: "))
            event.event = g_strdup (lines[j] + 7);
          else if (g_str_has_prefix (lines[j], "data: "))
            event.data = g_strdup (lines[j] + 6);
        }
      if (event.event != NULL || event.data != NULL)
        g_array_append_val (events, event);
    }

  return events;
}

/* Event names, with runs of the same name folded into one. */
static char *
event_names (GArray *events)
{
  GString *names = g_string_new (NULL);
  const char *last = NULL;

  for (guint i = 0; i < events->len; i++)
    {
      const char *name = g_array_index (events, Event, i).event;

      if (g_strcmp0 (name, last) == 0)
        continue;
      if (names->len > 0)
        g_string_append_c (names, ' ');
      g_string_append (names, name);
      last = name;
    }

  return g_string_free (names, FALSE);
}

static char *
stream_text (GArray *events,
             guint  *n_deltas)
{
  GString *text = g_string_new (NULL);

  *n_deltas = 0;
  for (guint i = 0; i < events->len; i++)
    {
      Event *event = &g_array_index (events, Event, i);
      g_autoptr(JsonNode) node = NULL;
      JsonObject *delta;

      if (g_strcmp0 (event->event, "content_block_delta") != 0)
        continue;
      node = parse_json (event->data);
      delta = json_object_get_object_member (json_node_get_object (node), "delta");
      if (g_strcmp0 (json_object_get_string_member (delta, "type"), "text_delta") != 0)
        continue;
      g_string_append (text, json_object_get_string_member (delta, "text"));
      (*n_deltas)++;
    }

  return g_string_free (text, FALSE);
}

static guint
count_words (const char *text)
{
  g_auto(GStrv) words = g_strsplit (text, " ", -1);

  return g_strv_length (words);
}

/* The name the simulator gives an agent without an override. */
static char *
agent_key (const char *system)
{
  char *key = g_compute_checksum_for_string (G_CHECKSUM_SHA256, system, -1);

  key[8] = '\0';
  return key;
}

static JsonObject *
stats_log_entry (FjSimulator *sim,
                 guint        index,
                 JsonNode   **out_root)
{
  JsonNode *root = fj_simulator_get_stats (sim);
  JsonArray *log = json_object_get_array_member (json_node_get_object (root), "log");

  g_assert_cmpuint (json_array_get_length (log), >, index);
  *out_root = root;
  return json_array_get_object_element (log, index);
}

static void
assert_no_key_in_stats (FjSimulator *sim)
{
  g_autoptr(JsonNode) stats = fj_simulator_get_stats (sim);
  g_autofree char *text = json_to_string (stats, FALSE);

  fj_test_assert_no_key (text);
}

/* Replies */

static void
test_json_reply (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (NULL);
  g_autoptr(SoupSession) session = session_new ();
  g_autofree char *body = request_body (MARKET_SYSTEM, QUESTION, FALSE);
  g_autoptr(Call) call = call_run (session, messages_new (sim, body));
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) fixture_root = NULL;
  g_autofree char *fixture = NULL;
  JsonObject *object;
  JsonObject *usage;
  JsonArray *content;
  const char *text;

  g_assert_no_error (call->error);
  g_assert_cmpuint (call->status, ==, 200);
  g_assert_cmpstr (header (call, "Content-Type"), ==, "application/json");
  assert_request_id (header (call, "request-id"));

  root = parse_json (call->text);
  object = json_node_get_object (root);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (object, "id"), "msg_"));
  g_assert_cmpstr (json_object_get_string_member (object, "type"), ==, "message");
  g_assert_cmpstr (json_object_get_string_member (object, "role"), ==, "assistant");
  g_assert_cmpstr (json_object_get_string_member (object, "model"), ==, MODEL);
  g_assert_cmpstr (json_object_get_string_member (object, "stop_reason"), ==, "end_turn");
  g_assert_true (json_object_get_null_member (object, "stop_sequence"));

  content = json_object_get_array_member (object, "content");
  g_assert_cmpuint (json_array_get_length (content), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (content, 0), "type"), ==, "text");
  text = json_object_get_string_member (json_array_get_object_element (content, 0), "text");
  g_assert_true (g_str_has_prefix (text, "As a market analyst, on \"" QUESTION "\": "));
  g_assert_true (g_str_has_suffix (text, "."));
  g_assert_cmpuint (count_words (text), ==, 60);

  usage = json_object_get_object_member (object, "usage");
  g_assert_cmpint (json_object_get_int_member (usage, "input_tokens"), ==, strlen (body) / 4);
  g_assert_cmpint (json_object_get_int_member (usage, "cache_creation_input_tokens"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (usage, "cache_read_input_tokens"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (usage, "output_tokens"), ==, 60);

  /* Every member is one a recorded reply of the real API has. */
  fixture = fj_test_load_fixture ("vercel-ai_anthropic-text.nonstream.json", NULL);
  if (fixture != NULL)
    {
      JsonObject *real;
      g_autoptr(GList) members = json_object_get_members (object);
      g_autoptr(GList) usage_members = json_object_get_members (usage);

      fixture_root = parse_json (fixture);
      real = json_node_get_object (fixture_root);
      for (const GList *l = members; l; l = l->next)
        g_assert_true (json_object_has_member (real, l->data));
      for (const GList *l = usage_members; l; l = l->next)
        g_assert_true (json_object_has_member (json_object_get_object_member (real, "usage"), l->data));
    }
}

static void
test_max_tokens (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (NULL);
  g_autoptr(SoupSession) session = session_new ();
  g_autofree char *body = request_body_full (MARKET_SYSTEM, QUESTION, FALSE, 7, NULL, NULL);
  g_autoptr(Call) call = call_run (session, messages_new (sim, body));
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) stats = NULL;
  JsonObject *object;
  JsonObject *entry;

  g_assert_cmpuint (call->status, ==, 200);
  root = parse_json (call->text);
  object = json_node_get_object (root);
  g_assert_cmpstr (json_object_get_string_member (object, "stop_reason"), ==, "max_tokens");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (object, "usage"), "output_tokens"), ==, 7);

  entry = stats_log_entry (sim, 0, &stats);
  g_assert_cmpint (json_object_get_int_member (entry, "output_tokens"), ==, 7);
  g_assert_cmpstr (json_object_get_string_member (entry, "model"), ==, MODEL);
}

static void
test_stream_shape (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (NULL);
  g_autoptr(SoupSession) session = session_new ();
  g_autoptr(Call) json_call = NULL;
  g_autoptr(Call) call = NULL;
  g_autoptr(GArray) events = NULL;
  g_autoptr(JsonNode) start = NULL;
  g_autoptr(JsonNode) delta = NULL;
  g_autofree char *names = NULL;
  g_autofree char *text = NULL;
  g_autofree char *json_text = NULL;
  g_autofree char *fixture = NULL;
  JsonObject *message;
  guint n_deltas;

  json_call = ask (session, sim, MARKET_SYSTEM, QUESTION, FALSE);
  json_text = reply_text (json_call);

  /* Attempt 1 again, so the same reply. */
  fj_simulator_reset_stats (sim);
  call = ask (session, sim, MARKET_SYSTEM, QUESTION, TRUE);
  g_assert_no_error (call->error);
  g_assert_cmpuint (call->status, ==, 200);
  g_assert_cmpstr (header (call, "Content-Type"), ==, "text/event-stream; charset=utf-8");
  g_assert_cmpstr (header (call, "Cache-Control"), ==, "no-cache");
  g_assert_cmpint (soup_message_headers_get_encoding (soup_message_get_response_headers (call->msg)),
                   ==, SOUP_ENCODING_CHUNKED);
  assert_request_id (header (call, "request-id"));

  events = parse_sse (call->text);
  names = event_names (events);
  g_assert_cmpstr (names, ==,
                   "message_start content_block_start ping content_block_delta "
                   "content_block_stop message_delta message_stop");

  /* The real API's documented order, deltas folded the same way. */
  fixture = fj_test_load_fixture ("docs_basic_stream.sse", NULL);
  if (fixture != NULL)
    {
      g_autoptr(GArray) real = parse_sse (fixture);
      g_autofree char *real_names = event_names (real);

      g_assert_cmpstr (names, ==, real_names);
    }

  for (guint i = 0; i < events->len; i++)
    {
      Event *event = &g_array_index (events, Event, i);
      g_autoptr(JsonNode) node = parse_json (event->data);

      g_assert_cmpstr (json_object_get_string_member (json_node_get_object (node), "type"), ==, event->event);
    }

  start = parse_json (g_array_index (events, Event, 0).data);
  message = json_object_get_object_member (json_node_get_object (start), "message");
  g_assert_cmpstr (json_object_get_string_member (message, "model"), ==, MODEL);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (message, "content")), ==, 0);
  g_assert_true (json_object_get_null_member (message, "stop_reason"));

  text = stream_text (events, &n_deltas);
  g_assert_cmpuint (n_deltas, ==, 60);
  g_assert_cmpstr (text, ==, json_text);

  delta = parse_json (g_array_index (events, Event, events->len - 2).data);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (json_node_get_object (delta), "delta"),
                                                  "stop_reason"), ==, "end_turn");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (json_node_get_object (delta), "usage"),
                                              "output_tokens"), ==, 60);
}

/* Credentials and validation */

static void
test_credentials (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (NULL);
  g_autoptr(SoupSession) session = session_new ();
  g_autofree char *body = request_body (MARKET_SYSTEM, QUESTION, FALSE);
  g_autoptr(JsonNode) stats = NULL;
  JsonArray *log;

  {
    g_autoptr(Call) call = call_run (session, message_new (sim, "POST", "/v1/messages", AUTH_NONE, NULL,
                                                           "2023-06-01", body));
    g_autoptr(JsonNode) root = NULL;

    assert_error_body (call, 401, "authentication_error", &root);
  }

  {
    const char *wrong = "sk-wrong-key-0123456789";
    g_autoptr(Call) call = call_run (session, message_new (sim, "POST", "/v1/messages", AUTH_KEY, wrong,
                                                           "2023-06-01", body));
    g_autoptr(JsonNode) root = NULL;
    SoupMessageHeadersIter iter;
    const char *name;
    const char *value;

    g_assert_cmpstr (assert_error_body (call, 401, "authentication_error", &root), ==, "invalid x-api-key");
    g_assert_null (strstr (call->text, wrong));
    fj_test_assert_no_key (call->text);
    soup_message_headers_iter_init (&iter, soup_message_get_response_headers (call->msg));
    while (soup_message_headers_iter_next (&iter, &name, &value))
      g_assert_null (strstr (value, "wrong-key"));
  }

  {
    g_autoptr(Call) call = call_run (session, message_new (sim, "POST", "/v1/messages", AUTH_BEARER, "sk-nope",
                                                           "2023-06-01", body));
    g_autoptr(JsonNode) root = NULL;

    assert_error_body (call, 401, "authentication_error", &root);
  }

  {
    g_autoptr(Call) call = call_run (session, message_new (sim, "POST", "/v1/messages", AUTH_KEY, FJ_TEST_API_KEY,
                                                           NULL, body));
    g_autoptr(JsonNode) root = NULL;

    g_assert_cmpstr (assert_error_body (call, 400, "invalid_request_error", &root), ==,
                     "anthropic-version: header is required");
  }

  {
    g_autoptr(Call) call = call_run (session, message_new (sim, "POST", "/v1/messages", AUTH_KEY, FJ_TEST_API_KEY,
                                                           "2023-01-01", body));
    g_autoptr(JsonNode) root = NULL;

    g_assert_true (g_str_has_prefix (assert_error_body (call, 400, "invalid_request_error", &root),
                                     "anthropic-version"));
  }

  {
    g_autoptr(Call) call = call_run (session, message_new (sim, "POST", "/v1/messages", AUTH_BEARER, FJ_TEST_API_KEY,
                                                           "2026-10-21", body));

    g_assert_cmpuint (call->status, ==, 200);
  }

  {
    g_autoptr(Call) call = call_run (session, message_new (sim, "POST", "/v1/messages", AUTH_KEY, FJ_TEST_API_KEY,
                                                           "2023-06-01", body));

    g_assert_cmpuint (call->status, ==, 200);
  }

  stats = fj_simulator_get_stats (sim);
  log = json_object_get_array_member (json_node_get_object (stats), "log");
  g_assert_cmpuint (json_array_get_length (log), ==, 7);
  g_assert_true (json_object_get_null_member (json_array_get_object_element (log, 0), "auth"));
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (log, 0), "outcome"), ==, "unauthorized");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (log, 2), "auth"), ==, "bearer");
  g_assert_true (json_object_get_null_member (json_array_get_object_element (log, 3), "version"));
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (log, 5), "auth"), ==, "bearer");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (log, 5), "version"), ==, "2026-10-21");
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (log, 5), "status"), ==, 200);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (log, 6), "auth"), ==, "x-api-key");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (log, 6), "version"), ==, "2023-06-01");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (json_node_get_object (stats), "status"),
                                               "401"), ==, 3);
  assert_no_key_in_stats (sim);
}

static void
test_any_key (void)
{
  g_autoptr(FjSimulator) sim = fj_simulator_new ();
  g_autoptr(SoupSession) session = session_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *body = request_body (MARKET_SYSTEM, QUESTION, FALSE);

  fj_simulator_start (sim, &error);
  g_assert_no_error (error);

  {
    g_autoptr(Call) call = call_run (session, message_new (sim, "POST", "/v1/messages", AUTH_KEY, "anything",
                                                           "2023-06-01", body));

    g_assert_cmpuint (call->status, ==, 200);
  }
  {
    g_autoptr(Call) call = call_run (session, message_new (sim, "POST", "/v1/messages", AUTH_KEY, "",
                                                           "2023-06-01", body));

    g_assert_cmpuint (call->status, ==, 401);
  }
}

static void
test_bad_requests (void)
{
  static const struct {
    const char *body;
    const char *field;
  } cases[] = {
    { "{\"model\": \"m\", \"max_tokens\": 10, \"messages\": [", "JSON" },
    { "", "JSON" },
    { "[1, 2]", "object" },
    { "{\"max_tokens\": 10, \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", "model" },
    { "{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", "max_tokens" },
    { "{\"model\": \"m\", \"max_tokens\": \"ten\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", "max_tokens" },
    { "{\"model\": \"m\", \"max_tokens\": 10}", "messages" },
    { "{\"model\": \"m\", \"max_tokens\": 10, \"messages\": []}", "messages" },
    { "{\"model\": \"m\", \"max_tokens\": 10, \"messages\": [{\"role\": \"robot\", \"content\": \"hi\"}]}", "messages.0.role" },
    { "{\"model\": \"m\", \"max_tokens\": 10, \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stream\": 1}", "stream" },
  };
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (NULL);
  g_autoptr(SoupSession) session = session_new ();
  g_autoptr(JsonNode) stats = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(Call) call = call_run (session, messages_new (sim, cases[i].body));
      g_autoptr(JsonNode) root = NULL;
      const char *message = assert_error_body (call, 400, "invalid_request_error", &root);

      g_test_message ("%s → %s", cases[i].body, message);
      g_assert_nonnull (strstr (message, cases[i].field));
    }

  {
    g_autoptr(Call) call = call_run (session, message_new (sim, "POST", "/v1/other", AUTH_KEY, FJ_TEST_API_KEY,
                                                           "2023-06-01", "{}"));
    g_autoptr(JsonNode) root = NULL;

    assert_error_body (call, 404, "not_found_error", &root);
  }
  {
    g_autoptr(Call) call = call_run (session, message_new (sim, "GET", "/v1/messages", AUTH_KEY, FJ_TEST_API_KEY,
                                                           "2023-06-01", NULL));
    g_autoptr(JsonNode) root = NULL;

    assert_error_body (call, 405, "invalid_request_error", &root);
  }

  stats = fj_simulator_get_stats (sim);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (stats), "requests"), ==, G_N_ELEMENTS (cases) + 2);
  g_assert_cmpuint (fj_simulator_get_n_in_flight (sim), ==, 0);
}

/* Agents and determinism */

static void
test_agents (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"agents\": ["
                                                      " {\"name\": \"slow-analyst\", \"match\": \"market analyst\", \"output_tokens\": 5},"
                                                      " {\"match\": \"technical analyst\", \"output_tokens\": 9}"
                                                      "]}");
  g_autoptr(SoupSession) session = session_new ();
  g_autofree char *other_system = g_strdup ("You are an economist.");
  g_autofree char *other_key = agent_key (other_system);
  g_autoptr(JsonNode) stats = NULL;
  JsonObject *agents;

  {
    g_autoptr(Call) call = ask (session, sim, MARKET_SYSTEM, QUESTION, FALSE);
    g_autofree char *text = reply_text (call);

    g_assert_cmpstr (text, ==, "As a market analyst, on");
  }
  {
    g_autoptr(Call) call = ask (session, sim, TECH_SYSTEM, QUESTION, FALSE);
    g_autofree char *text = reply_text (call);

    g_assert_true (g_str_has_prefix (text, "As a technical analyst, on \"Analyze"));
  }
  {
    g_autoptr(Call) call = ask (session, sim, other_system, QUESTION, FALSE);
    g_autofree char *text = reply_text (call);

    g_assert_true (g_str_has_prefix (text, "As an economist, on \""));
  }
  {
    g_autoptr(Call) call = ask (session, sim, other_system, "Another question", FALSE);

    g_assert_cmpuint (call->status, ==, 200);
  }
  {
    g_autoptr(Call) call = ask (session, sim, NULL, "No system prompt at all", FALSE);
    g_autofree char *text = reply_text (call);
    g_autofree char *empty_key = agent_key ("");

    g_assert_true (g_str_has_prefix (text, "As "));
    g_assert_nonnull (strstr (text, empty_key));
    g_assert_cmpuint (fj_simulator_get_attempts (sim, empty_key), ==, 1);
  }

  g_assert_cmpuint (fj_simulator_get_attempts (sim, "slow-analyst"), ==, 1);
  g_assert_cmpuint (fj_simulator_get_attempts (sim, "technical analyst"), ==, 1);
  g_assert_cmpuint (fj_simulator_get_attempts (sim, other_key), ==, 2);
  g_assert_cmpuint (fj_simulator_get_attempts (sim, "nobody"), ==, 0);

  stats = fj_simulator_get_stats (sim);
  agents = json_object_get_object_member (json_node_get_object (stats), "agents");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (agents, "slow-analyst"), "attempts"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (agents, other_key), "attempts"), ==, 2);
}

static void
test_system_blocks (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"agents\": ["
                                                      " {\"name\": \"blocks\", \"match\": \"market analyst\"}]}");
  g_autoptr(SoupSession) session = session_new ();
  const char *body = "{\"model\": \"m\", \"max_tokens\": 50,"
                     " \"system\": [{\"type\": \"text\", \"text\": \"You are a market analyst.\","
                     "              \"cache_control\": {\"type\": \"ephemeral\"}}],"
                     " \"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"Hello there\"}]}]}";
  g_autoptr(Call) call = call_run (session, messages_new (sim, body));
  g_autofree char *text = reply_text (call);

  g_assert_true (g_str_has_prefix (text, "As a market analyst, on \"Hello there\":"));
  g_assert_cmpuint (fj_simulator_get_attempts (sim, "blocks"), ==, 1);
}

static void
test_role (void)
{
  static const struct {
    const char *system;
    const char *role;
  } cases[] = {
    { "You are a market analyst. Focus on demand.", "a market analyst" },
    { "Context first. You are an expert in bonds, and brief.", "an expert in bonds" },
    { "You are the lead editor", "the lead editor" },
    { "Be brief. you are a careful reviewer!", "a careful reviewer" },
    { "Summarize the reports.", NULL },
    { "You are a .", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *role = _fj_sim_extract_role (cases[i].system);

      g_assert_cmpstr (role, ==, cases[i].role);
    }
}

static char *
reply_of (FjSimulator *sim,
          SoupSession *session,
          const char  *user)
{
  g_autoptr(Call) call = ask (session, sim, MARKET_SYSTEM, user, FALSE);

  g_assert_cmpuint (call->status, ==, 200);
  return reply_text (call);
}

static void
test_determinism (void)
{
  g_autoptr(FjSimulator) a = fj_test_simulator_new ("{\"seed\": 11, \"latency\": 0}");
  g_autoptr(FjSimulator) b = fj_test_simulator_new ("{\"seed\": 11, \"latency\": 0}");
  g_autoptr(FjSimulator) c = fj_test_simulator_new ("{\"seed\": 12, \"latency\": 0}");
  g_autoptr(SoupSession) session = session_new ();
  g_autofree char *a1 = reply_of (a, session, QUESTION);
  g_autofree char *a2 = reply_of (a, session, QUESTION);
  g_autofree char *a_other = reply_of (a, session, "Something else");
  g_autofree char *b1 = reply_of (b, session, QUESTION);
  g_autofree char *c1 = reply_of (c, session, QUESTION);
  g_autofree char *a1_again = NULL;
  g_autoptr(JsonNode) stats = NULL;
  JsonObject *entry;

  /* Same seed and request: same reply, whichever simulator answers. */
  g_assert_cmpstr (a1, ==, b1);
  /* A second attempt of the same request differs, and so does another seed. */
  g_assert_cmpstr (a1, !=, a2);
  g_assert_cmpstr (a1, !=, c1);
  g_assert_cmpstr (a1, !=, a_other);

  entry = stats_log_entry (a, 1, &stats);
  g_assert_cmpint (json_object_get_int_member (entry, "attempt"), ==, 2);

  fj_simulator_reset_stats (a);
  a1_again = reply_of (a, session, QUESTION);
  g_assert_cmpstr (a1, ==, a1_again);
}

/* Failures */

static void
test_failures_by_attempt (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"failures\": ["
                                                      " {\"status\": 429, \"attempts\": 2, \"retry_after\": 1.5, \"should_retry\": true},"
                                                      " {\"status\": 529, \"attempts\": 3, \"retry_after_ms\": 250}"
                                                      "]}");
  g_autoptr(SoupSession) session = session_new ();

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(Call) call = ask (session, sim, MARKET_SYSTEM, QUESTION, FALSE);
      g_autoptr(JsonNode) root = NULL;

      g_assert_cmpstr (assert_error_body (call, 429, "rate_limit_error", &root), ==, "Rate limited");
      g_assert_cmpstr (header (call, "retry-after"), ==, "1.5");
      g_assert_cmpstr (header (call, "x-should-retry"), ==, "true");
      g_assert_null (header (call, "retry-after-ms"));
    }

  {
    g_autoptr(Call) call = ask (session, sim, MARKET_SYSTEM, QUESTION, TRUE);
    g_autoptr(JsonNode) root = NULL;

    assert_error_body (call, 529, "overloaded_error", &root);
    g_assert_cmpstr (header (call, "retry-after-ms"), ==, "250");
    g_assert_null (header (call, "x-should-retry"));
  }
  {
    g_autoptr(Call) call = ask (session, sim, MARKET_SYSTEM, QUESTION, FALSE);

    g_assert_cmpuint (call->status, ==, 200);
  }
  {
    /* Another conversation starts at attempt 1 again. */
    g_autoptr(Call) call = ask (session, sim, MARKET_SYSTEM, "A new question", FALSE);

    g_assert_cmpuint (call->status, ==, 429);
  }

  {
    g_autoptr(JsonNode) stats = NULL;
    JsonObject *entry = stats_log_entry (sim, 2, &stats);

    g_assert_cmpstr (json_object_get_string_member (entry, "outcome"), ==, "http-529");
    g_assert_cmpint (json_object_get_int_member (entry, "attempt"), ==, 3);
  }
}

static guint
count_failures (FjSimulator *sim,
                SoupSession *session,
                guint        n,
                GString     *pattern)
{
  guint failed = 0;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *user = g_strdup_printf ("Question number %u", i);
      g_autoptr(Call) call = ask (session, sim, MARKET_SYSTEM, user, FALSE);

      g_assert_true (call->status == 200 || call->status == 529);
      if (call->status == 529)
        failed++;
      g_string_append_c (pattern, call->status == 529 ? 'x' : '.');
    }

  return failed;
}

static void
test_failures_by_probability (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"seed\": 5, \"latency\": 0, \"output_tokens\": 3,"
                                                      " \"failures\": [{\"status\": 529, \"probability\": 0.3}]}");
  g_autoptr(SoupSession) session = session_new ();
  g_autoptr(GString) first = g_string_new (NULL);
  g_autoptr(GString) second = g_string_new (NULL);
  guint n_first;
  guint n_second;

  n_first = count_failures (sim, session, 300, first);
  fj_simulator_reset_stats (sim);
  n_second = count_failures (sim, session, 300, second);

  g_test_message ("%u of 300 failed", n_first);
  /* 0.3 × 300 = 90; σ ≈ 8. */
  g_assert_cmpuint (n_first, >=, 55);
  g_assert_cmpuint (n_first, <=, 125);
  g_assert_cmpuint (n_first, ==, n_second);
  g_assert_cmpstr (first->str, ==, second->str);
}

static void
test_rate_limit (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"rate_limits\": {"
                                                      " \"requests_per_minute\": 3, \"output_tokens_per_minute\": 100000}}");
  g_autoptr(SoupSession) session = session_new ();
  g_autoptr(GRegex) rfc3339 = g_regex_new ("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$", 0, 0, NULL);

  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(Call) call = ask (session, sim, MARKET_SYSTEM, QUESTION, FALSE);
      g_autofree char *remaining = g_strdup_printf ("%u", 2 - i);

      g_assert_cmpuint (call->status, ==, 200);
      g_assert_cmpstr (header (call, "anthropic-ratelimit-requests-limit"), ==, "3");
      g_assert_cmpstr (header (call, "anthropic-ratelimit-requests-remaining"), ==, remaining);
      g_assert_true (g_regex_match (rfc3339, header (call, "anthropic-ratelimit-requests-reset"), 0, NULL));
      g_assert_cmpstr (header (call, "anthropic-ratelimit-output-tokens-limit"), ==, "100000");
      g_assert_cmpstr (header (call, "anthropic-ratelimit-tokens-limit"), ==, "100000");
      g_assert_nonnull (header (call, "anthropic-ratelimit-tokens-remaining"));
      g_assert_null (header (call, "anthropic-ratelimit-input-tokens-limit"));
    }

  {
    g_autoptr(Call) call = ask (session, sim, MARKET_SYSTEM, QUESTION, FALSE);
    g_autoptr(JsonNode) root = NULL;
    g_autoptr(JsonNode) stats = NULL;
    JsonObject *entry;
    guint64 seconds;

    assert_error_body (call, 429, "rate_limit_error", &root);
    g_assert_cmpstr (header (call, "x-should-retry"), ==, "true");
    g_assert_true (g_ascii_string_to_unsigned (header (call, "retry-after"), 10, 1, 20, &seconds, NULL));
    g_assert_cmpstr (header (call, "anthropic-ratelimit-requests-remaining"), ==, "0");

    entry = stats_log_entry (sim, 3, &stats);
    g_assert_cmpstr (json_object_get_string_member (entry, "outcome"), ==, "rate-limited");
  }
}

static void
test_rate_limit_tokens (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"rate_limits\": {"
                                                      " \"input_tokens_per_minute\": 600}}");
  g_autoptr(SoupSession) session = session_new ();
  g_autofree char *big = g_strnfill (1600, 'a');

  {
    /* About 400 input tokens: fits once. */
    g_autoptr(Call) call = ask (session, sim, MARKET_SYSTEM, big, FALSE);

    g_assert_cmpuint (call->status, ==, 200);
    g_assert_cmpstr (header (call, "anthropic-ratelimit-input-tokens-limit"), ==, "600");
  }
  {
    g_autoptr(Call) call = ask (session, sim, MARKET_SYSTEM, big, FALSE);
    guint64 seconds;

    g_assert_cmpuint (call->status, ==, 429);
    /* 600 a minute is 10 a second; about 200 more are needed. */
    g_assert_true (g_ascii_string_to_unsigned (header (call, "retry-after"), 10, 10, 40, &seconds, NULL));
  }
}

/* Faults */

typedef struct
{
  SoupMessage   *msg;
  GInputStream  *stream;
  GString       *text;
  GError        *error;
  GCancellable  *cancellable;
  gboolean       done;
  gint64         started;
  gint64         first_delta;
  gint64         finished;
  guint          status;
} StreamRead;

static void stream_read_next (StreamRead *sr);

static void
stream_read_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  StreamRead *sr = user_data;
  g_autoptr(GBytes) bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &sr->error);

  if (bytes == NULL || g_bytes_get_size (bytes) == 0)
    {
      sr->finished = g_get_monotonic_time ();
      sr->done = TRUE;
      return;
    }

  g_string_append_len (sr->text, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  if (sr->first_delta == 0 && strstr (sr->text->str, "content_block_delta") != NULL)
    sr->first_delta = g_get_monotonic_time ();
  stream_read_next (sr);
}

static void
stream_read_next (StreamRead *sr)
{
  g_input_stream_read_bytes_async (sr->stream, 4096, G_PRIORITY_DEFAULT, sr->cancellable,
                                   stream_read_cb, sr);
}

static void
stream_send_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  StreamRead *sr = user_data;

  sr->stream = soup_session_send_finish (SOUP_SESSION (source), result, &sr->error);
  sr->status = soup_message_get_status (sr->msg);
  if (sr->stream == NULL)
    {
      sr->done = TRUE;
      return;
    }
  stream_read_next (sr);
}

static StreamRead *
stream_read_start (SoupSession *session,
                   SoupMessage *msg)
{
  StreamRead *sr = g_new0 (StreamRead, 1);

  sr->msg = msg;
  sr->text = g_string_new (NULL);
  sr->cancellable = g_cancellable_new ();
  sr->started = g_get_monotonic_time ();
  soup_session_send_async (session, msg, G_PRIORITY_DEFAULT, sr->cancellable, stream_send_cb, sr);
  return sr;
}

static void
stream_read_free (StreamRead *sr)
{
  g_clear_object (&sr->msg);
  g_clear_object (&sr->stream);
  g_string_free (sr->text, TRUE);
  g_clear_error (&sr->error);
  g_clear_object (&sr->cancellable);
  g_free (sr);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StreamRead, stream_read_free)

static void
wait_for_disconnects (FjSimulator *sim,
                      guint        n,
                      double       timeout)
{
  gint64 deadline = g_get_monotonic_time () + timeout * fj_test_time_scale () * G_USEC_PER_SEC;

  while (fj_simulator_get_n_disconnects (sim) < n)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("the simulator did not notice the client leaving within %.1f s", timeout);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static void
wait_until_idle (FjSimulator *sim)
{
  gint64 deadline = g_get_monotonic_time () + 10 * fj_test_time_scale () * G_USEC_PER_SEC;

  while (fj_simulator_get_n_in_flight (sim) > 0)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("requests still in flight");
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static void
wait_for_in_flight (FjSimulator *sim,
                    guint        n)
{
  gint64 deadline = g_get_monotonic_time () + 20 * fj_test_time_scale () * G_USEC_PER_SEC;

  while (fj_simulator_get_n_in_flight (sim) < n)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("the request did not reach the simulator");
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static void
test_fault_drop (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"failures\": ["
                                                      " {\"fault\": \"drop\", \"after_tokens\": 5}]}");
  g_autoptr(SoupSession) session = session_new ();
  g_autofree char *body = request_body (MARKET_SYSTEM, QUESTION, TRUE);
  g_autoptr(StreamRead) sr = stream_read_start (session, messages_new (sim, body));
  g_autoptr(GArray) events = NULL;
  g_autoptr(JsonNode) stats = NULL;
  g_autofree char *text = NULL;
  g_autofree char *complete = NULL;
  const char *end;
  JsonObject *entry;
  guint n_deltas;

  fj_test_wait_for (&sr->done, 30);
  g_assert_cmpuint (sr->status, ==, 200);
  g_assert_nonnull (sr->error);
  g_test_message ("stream broke with: %s", sr->error->message);

  /* It broke off inside an event: read the complete ones. */
  end = g_strrstr (sr->text->str, "\n\n");
  g_assert_nonnull (end);
  g_assert_cmpstr (end + 2, !=, "");
  complete = g_strndup (sr->text->str, end + 2 - sr->text->str);
  events = parse_sse (complete);
  text = stream_text (events, &n_deltas);
  g_assert_cmpuint (n_deltas, ==, 5);
  g_assert_true (g_str_has_prefix (text, "As a market"));
  g_assert_null (strstr (sr->text->str, "message_stop"));

  wait_until_idle (sim);
  entry = stats_log_entry (sim, 0, &stats);
  g_assert_cmpstr (json_object_get_string_member (entry, "outcome"), ==, "drop");
  g_assert_cmpstr (json_object_get_string_member (entry, "fault"), ==, "drop");
  g_assert_cmpint (json_object_get_int_member (entry, "output_tokens"), ==, 5);

  {
    /* A JSON reply breaks off halfway through its body. */
    g_autoptr(Call) call = ask (session, sim, MARKET_SYSTEM, QUESTION, FALSE);

    g_assert_nonnull (call->error);
    g_assert_cmpuint (call->status, ==, 200);
  }
  g_assert_cmpuint (fj_simulator_get_n_disconnects (sim), ==, 0);
}

static void
test_fault_error_event (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"failures\": ["
                                                      " {\"fault\": \"error_event\", \"after_tokens\": 3}]}");
  g_autoptr(SoupSession) session = session_new ();
  g_autoptr(Call) call = ask (session, sim, MARKET_SYSTEM, QUESTION, TRUE);
  g_autoptr(GArray) events = parse_sse (call->text);
  g_autoptr(JsonNode) error = NULL;
  g_autofree char *names = event_names (events);
  g_autofree char *fixture = NULL;
  guint n_deltas;
  g_autofree char *text = stream_text (events, &n_deltas);
  JsonObject *object;

  g_assert_no_error (call->error);
  g_assert_cmpuint (call->status, ==, 200);
  g_assert_cmpstr (names, ==, "message_start content_block_start ping content_block_delta error");
  g_assert_cmpuint (n_deltas, ==, 3);
  g_assert_nonnull (text);

  error = parse_json (g_array_index (events, Event, events->len - 1).data);
  object = json_node_get_object (error);
  g_assert_cmpstr (json_object_get_string_member (object, "type"), ==, "error");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (object, "error"), "type"),
                   ==, "overloaded_error");

  fixture = fj_test_load_fixture ("docs_error_event.sse", NULL);
  if (fixture != NULL)
    {
      g_autoptr(GArray) real = parse_sse (fixture);
      g_autoptr(JsonNode) real_error = parse_json (g_array_index (real, Event, 0).data);

      g_assert_cmpstr (g_array_index (real, Event, 0).event, ==, "error");
      g_assert_true (json_node_equal (real_error, error));
    }

  {
    g_autoptr(Call) json_call = ask (session, sim, MARKET_SYSTEM, QUESTION, FALSE);
    g_autoptr(JsonNode) root = NULL;

    assert_error_body (json_call, 529, "overloaded_error", &root);
  }
}

static void
test_fault_malformed (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"failures\": ["
                                                      " {\"fault\": \"malformed_json\", \"after_tokens\": 2}]}");
  g_autoptr(SoupSession) session = session_new ();
  g_autoptr(Call) call = ask (session, sim, MARKET_SYSTEM, QUESTION, FALSE);
  g_autoptr(Call) stream_call = ask (session, sim, MARKET_SYSTEM, QUESTION, TRUE);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GArray) events = NULL;
  gboolean broken = FALSE;

  g_assert_cmpuint (call->status, ==, 200);
  g_assert_cmpstr (header (call, "Content-Type"), ==, "application/json");
  g_assert_false (json_parser_load_from_data (parser, call->text, -1, NULL));

  g_assert_no_error (stream_call->error);
  g_assert_cmpuint (stream_call->status, ==, 200);
  events = parse_sse (stream_call->text);
  for (guint i = 0; i < events->len; i++)
    {
      g_autoptr(JsonParser) event_parser = json_parser_new ();

      if (!json_parser_load_from_data (event_parser, g_array_index (events, Event, i).data, -1, NULL))
        broken = TRUE;
    }
  g_assert_true (broken);
  g_assert_null (strstr (stream_call->text, "message_stop"));
}

static void
test_fault_hang (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"failures\": [{\"fault\": \"hang\"}]}");
  g_autoptr(SoupSession) session = session_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *body = request_body (MARKET_SYSTEM, QUESTION, TRUE);
  g_autoptr(Call) call = call_start (session, messages_new (sim, body), cancellable);
  g_autoptr(JsonNode) stats = NULL;
  JsonObject *entry;

  wait_for_in_flight (sim, 1);
  fj_test_run_for (0.2);
  g_assert_false (call->done);
  g_assert_cmpuint (fj_simulator_get_n_in_flight (sim), ==, 1);

  g_cancellable_cancel (cancellable);
  call_wait (call);
  g_assert_error (call->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  wait_for_disconnects (sim, 1, 10);
  g_assert_cmpuint (fj_simulator_get_n_in_flight (sim), ==, 0);
  entry = stats_log_entry (sim, 0, &stats);
  g_assert_cmpstr (json_object_get_string_member (entry, "outcome"), ==, "client-closed");
  g_assert_cmpstr (json_object_get_string_member (entry, "fault"), ==, "hang");
  g_assert_true (json_object_get_null_member (entry, "status"));
  g_assert_false (json_object_get_null_member (entry, "finish_ms"));
}

static void
test_fault_trickle (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"failures\": ["
                                                      " {\"fault\": \"trickle\", \"interval\": 0.05}]}");
  g_autoptr(SoupSession) session = session_new ();
  g_autofree char *body = request_body (MARKET_SYSTEM, QUESTION, TRUE);
  g_autoptr(StreamRead) sr = stream_read_start (session, messages_new (sim, body));
  g_autoptr(JsonNode) stats = NULL;
  JsonObject *entry;
  guint pings = 0;

  /* Pings keep coming, and nothing else. */
  for (guint i = 0; pings < 3; i++)
    {
      g_assert_false (sr->done);
      g_assert_cmpuint (i, <, 200);
      fj_test_run_for (0.1);
      pings = 0;
      for (const char *p = sr->text->str; (p = strstr (p, "event: ping")) != NULL; p++)
        pings++;
    }
  g_assert_cmpuint (sr->status, ==, 200);
  g_assert_null (strstr (sr->text->str, "content_block_delta"));

  g_cancellable_cancel (sr->cancellable);
  fj_test_wait_for (&sr->done, 10);
  g_clear_object (&sr->stream);

  wait_for_disconnects (sim, 1, 10);
  entry = stats_log_entry (sim, 0, &stats);
  g_assert_cmpstr (json_object_get_string_member (entry, "outcome"), ==, "client-closed");
  g_assert_cmpstr (json_object_get_string_member (entry, "fault"), ==, "trickle");
  g_assert_cmpint (json_object_get_int_member (entry, "status"), ==, 200);
}

static void
test_disconnect_during_latency (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 30}");
  g_autoptr(SoupSession) session = session_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *body = request_body (MARKET_SYSTEM, QUESTION, FALSE);
  g_autoptr(Call) call = call_start (session, messages_new (sim, body), cancellable);
  gint64 cancelled_at;

  wait_for_in_flight (sim, 1);
  cancelled_at = g_get_monotonic_time ();
  g_cancellable_cancel (cancellable);
  call_wait (call);

  /* Noticed long before the 30 s latency would have run out. */
  wait_for_disconnects (sim, 1, 10);
  g_assert_cmpint (g_get_monotonic_time () - cancelled_at, <, 5 * G_USEC_PER_SEC);
  g_assert_cmpuint (fj_simulator_get_n_in_flight (sim), ==, 0);
}

static void
test_pacing (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"output_tokens\": 20, \"tokens_per_second\": 10}");
  g_autoptr(SoupSession) session = session_new ();
  g_autofree char *body = request_body (MARKET_SYSTEM, QUESTION, TRUE);
  g_autoptr(StreamRead) sr = stream_read_start (session, messages_new (sim, body));
  g_autoptr(GArray) events = NULL;
  guint n_deltas;
  g_autofree char *text = NULL;
  double spread;

  fj_test_wait_for (&sr->done, 30);
  g_assert_no_error (sr->error);
  events = parse_sse (sr->text->str);
  text = stream_text (events, &n_deltas);
  g_assert_cmpuint (n_deltas, ==, 20);
  g_assert_nonnull (strstr (sr->text->str, "message_stop"));

  spread = (sr->finished - sr->first_delta) / (double) G_USEC_PER_SEC;
  g_test_message ("first delta to end: %.2f s", spread);
  g_assert_cmpfloat (spread, >=, 1.5);
}

static void
test_fast_pacing (void)
{
  /* 2,000 tokens a second: several tokens per tick, still all of them. */
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"output_tokens\": 400, \"tokens_per_second\": 2000}");
  g_autoptr(SoupSession) session = session_new ();
  g_autoptr(Call) call = ask (session, sim, MARKET_SYSTEM, QUESTION, TRUE);
  g_autoptr(GArray) events = parse_sse (call->text);
  guint n_deltas;
  g_autofree char *text = stream_text (events, &n_deltas);

  g_assert_no_error (call->error);
  g_assert_cmpuint (n_deltas, ==, 400);
  g_assert_cmpuint (strlen (text), >, 0);
}

static void
test_json_pacing (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"output_tokens\": 10, \"tokens_per_second\": 20}");
  g_autoptr(SoupSession) session = session_new ();
  gint64 start = g_get_monotonic_time ();
  g_autoptr(Call) call = ask (session, sim, MARKET_SYSTEM, QUESTION, FALSE);

  g_assert_cmpuint (call->status, ==, 200);
  /* 10 tokens at 20 a second. */
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 450000);
}

/* Tools and refusals */

#define CLOCK_TOOLS "[{\"name\": \"clock\", \"description\": \"Tells the time\"," \
                    " \"input_schema\": {\"type\": \"object\"}}]"

static void
test_tool_use (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"tool_use\": {\"input\": {\"tz\": \"UTC\"}}}");
  g_autoptr(SoupSession) session = session_new ();
  g_autofree char *body = request_body_full (MARKET_SYSTEM, QUESTION, FALSE, 1024, CLOCK_TOOLS, NULL);
  g_autoptr(Call) call = call_run (session, messages_new (sim, body));
  g_autoptr(JsonNode) root = parse_json (call->text);
  g_autoptr(JsonNode) expected_input = parse_json ("{\"tz\": \"UTC\"}");
  JsonObject *object = json_node_get_object (root);
  JsonArray *content = json_object_get_array_member (object, "content");
  JsonObject *tool;
  g_autofree char *messages = NULL;
  const char *tool_id;

  g_assert_cmpstr (json_object_get_string_member (object, "stop_reason"), ==, "tool_use");
  g_assert_cmpuint (json_array_get_length (content), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (content, 0), "type"), ==, "text");
  tool = json_array_get_object_element (content, 1);
  g_assert_cmpstr (json_object_get_string_member (tool, "type"), ==, "tool_use");
  g_assert_cmpstr (json_object_get_string_member (tool, "name"), ==, "clock");
  tool_id = json_object_get_string_member (tool, "id");
  g_assert_true (g_str_has_prefix (tool_id, "toolu_"));
  g_assert_true (json_node_equal (json_object_get_member (tool, "input"), expected_input));

  /* Streamed: the input arrives as input_json_delta pieces. */
  {
    g_autofree char *stream_body = request_body_full (MARKET_SYSTEM, QUESTION, TRUE, 1024, CLOCK_TOOLS, NULL);
    g_autoptr(Call) stream_call = call_run (session, messages_new (sim, stream_body));
    g_autoptr(GArray) events = parse_sse (stream_call->text);
    g_autoptr(GString) input = g_string_new (NULL);
    g_autoptr(JsonNode) input_node = NULL;
    g_autofree char *names = event_names (events);
    gboolean saw_tool_use_stop = FALSE;

    g_assert_cmpstr (names, ==,
                     "message_start content_block_start ping content_block_delta content_block_stop "
                     "content_block_start content_block_delta content_block_stop message_delta message_stop");
    for (guint i = 0; i < events->len; i++)
      {
        g_autoptr(JsonNode) node = parse_json (g_array_index (events, Event, i).data);
        JsonObject *event = json_node_get_object (node);

        if (json_object_has_member (event, "delta"))
          {
            JsonObject *delta = json_object_get_object_member (event, "delta");

            if (g_strcmp0 (json_object_get_string_member_with_default (delta, "type", ""), "input_json_delta") == 0)
              g_string_append (input, json_object_get_string_member (delta, "partial_json"));
            if (g_strcmp0 (json_object_get_string_member_with_default (delta, "stop_reason", ""), "tool_use") == 0)
              saw_tool_use_stop = TRUE;
          }
      }
    input_node = parse_json (input->str);
    g_assert_true (json_node_equal (input_node, expected_input));
    g_assert_true (saw_tool_use_stop);
  }

  /* After one round of tool results, the answer says what the tool returned. */
  messages = g_strdup_printf ("[{\"role\": \"user\", \"content\": \"%s\"},"
                              " {\"role\": \"assistant\", \"content\": [{\"type\": \"tool_use\", \"id\": \"%s\","
                              "   \"name\": \"clock\", \"input\": {\"tz\": \"UTC\"}}]},"
                              " {\"role\": \"user\", \"content\": [{\"type\": \"tool_result\", \"tool_use_id\": \"%s\","
                              "   \"content\": \"2026-11-28T10:00:00Z\"}]}]",
                              QUESTION, tool_id, tool_id);
  {
    g_autofree char *turn2 = request_body_full (MARKET_SYSTEM, NULL, FALSE, 1024, CLOCK_TOOLS, messages);
    g_autoptr(Call) final = call_run (session, messages_new (sim, turn2));
    g_autoptr(JsonNode) final_root = parse_json (final->text);
    g_autofree char *text = reply_text (final);

    g_assert_cmpstr (json_object_get_string_member (json_node_get_object (final_root), "stop_reason"), ==, "end_turn");
    g_assert_true (g_str_has_prefix (text, "As a market analyst, on \"" QUESTION "\": "
                                     "the clock tool returned \"2026-11-28T10:00:00Z\"."));
  }

  /* Without tools in the request there is no tool_use. */
  {
    g_autoptr(Call) plain = ask (session, sim, MARKET_SYSTEM, QUESTION, FALSE);
    g_autoptr(JsonNode) plain_root = parse_json (plain->text);

    g_assert_cmpstr (json_object_get_string_member (json_node_get_object (plain_root), "stop_reason"), ==, "end_turn");
  }
}

static void
test_refusal (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"agents\": ["
                                                      " {\"name\": \"refuser\", \"match\": \"market analyst\", \"refusal\": true}]}");
  g_autoptr(SoupSession) session = session_new ();
  g_autoptr(Call) call = ask (session, sim, MARKET_SYSTEM, QUESTION, FALSE);
  g_autoptr(Call) other = ask (session, sim, TECH_SYSTEM, QUESTION, FALSE);
  g_autoptr(Call) stream_call = ask (session, sim, MARKET_SYSTEM, QUESTION, TRUE);
  g_autoptr(JsonNode) root = parse_json (call->text);
  g_autoptr(JsonNode) other_root = parse_json (other->text);
  g_autoptr(JsonNode) stats = NULL;
  g_autofree char *text = reply_text (call);

  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (root), "stop_reason"), ==, "refusal");
  g_assert_cmpstr (text, ==, "I can't help with that request.");
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (other_root), "stop_reason"), ==, "end_turn");
  g_assert_nonnull (strstr (stream_call->text, "\"stop_reason\":\"refusal\""));
  g_assert_cmpstr (json_object_get_string_member (stats_log_entry (sim, 0, &stats), "outcome"), ==, "refusal");
}

/* Statistics and connections */

static void
test_stats_endpoint (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0}");
  g_autoptr(SoupSession) session = session_new ();
  g_autoptr(Call) stats_call = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *object;
  JsonArray *log;
  JsonObject *entry;

  fj_simulator_set_record_prompts (sim, TRUE);
  call_free (ask (session, sim, MARKET_SYSTEM, QUESTION, FALSE));
  call_free (ask (session, sim, MARKET_SYSTEM, QUESTION, TRUE));

  stats_call = call_run (session, message_new (sim, "GET", "/__stats", AUTH_NONE, NULL, NULL, NULL));
  g_assert_cmpuint (stats_call->status, ==, 200);
  g_assert_cmpstr (header (stats_call, "Content-Type"), ==, "application/json");
  fj_test_assert_no_key (stats_call->text);

  root = parse_json (stats_call->text);
  object = json_node_get_object (root);
  g_assert_cmpint (json_object_get_int_member (object, "requests"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (object, "in_flight"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (object, "max_in_flight"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (object, "disconnects"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (object, "status"), "200"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (object, "connections"), >=, 1);

  log = json_object_get_array_member (object, "log");
  g_assert_cmpuint (json_array_get_length (log), ==, 2);
  entry = json_array_get_object_element (log, 1);
  assert_request_id (json_object_get_string_member (entry, "id"));
  g_assert_cmpint (json_object_get_int_member (entry, "attempt"), ==, 2);
  g_assert_true (json_object_get_boolean_member (entry, "stream"));
  g_assert_cmpstr (json_object_get_string_member (entry, "outcome"), ==, "ok");
  g_assert_cmpstr (json_object_get_string_member (entry, "system"), ==, MARKET_SYSTEM);
  g_assert_cmpstr (json_object_get_string_member (entry, "user"), ==, QUESTION);
  g_assert_cmpfloat (json_object_get_double_member (entry, "arrival_ms"), <=,
                     json_object_get_double_member (entry, "first_byte_ms"));
  g_assert_cmpfloat (json_object_get_double_member (entry, "first_byte_ms"), <=,
                     json_object_get_double_member (entry, "finish_ms"));

  {
    g_autoptr(Call) bad = call_run (session, message_new (sim, "POST", "/__stats", AUTH_NONE, NULL, NULL, "{}"));

    g_assert_cmpuint (bad->status, ==, 405);
  }

  {
    g_autofree char *key = agent_key (MARKET_SYSTEM);

    g_assert_cmpuint (fj_simulator_get_attempts (sim, key), ==, 2);
    fj_simulator_reset_stats (sim);
    g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, 0);
    g_assert_cmpuint (fj_simulator_get_attempts (sim, key), ==, 0);
  }
}

static void
test_connections (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0.3}");
  g_autoptr(SoupSession) session = session_new ();
  g_autofree char *body = request_body (MARKET_SYSTEM, QUESTION, FALSE);
  Call *calls[4];

  /* Idempotent POSTs reuse their connection. */
  for (guint i = 0; i < 3; i++)
    {
      SoupMessage *msg = messages_new (sim, body);
      g_autoptr(Call) call = NULL;

      soup_message_add_flags (msg, SOUP_MESSAGE_IDEMPOTENT);
      call = call_run (session, msg);
      g_assert_cmpuint (call->status, ==, 200);
    }
  g_assert_cmpuint (fj_simulator_get_n_connections (sim), ==, 1);
  g_assert_cmpuint (fj_simulator_get_max_in_flight (sim), ==, 1);

  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    calls[i] = call_start (session, messages_new (sim, body), NULL);
  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    {
      call_wait (calls[i]);
      g_assert_cmpuint (calls[i]->status, ==, 200);
      call_free (calls[i]);
    }

  g_assert_cmpuint (fj_simulator_get_n_connections (sim), ==, 5);
  g_assert_cmpuint (fj_simulator_get_max_in_flight (sim), ==, 4);
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, 7);
}

static void
test_burst (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0.5, \"output_tokens\": 5}");
  g_autoptr(SoupSession) session = session_new ();
  g_autofree char *body = request_body (MARKET_SYSTEM, QUESTION, FALSE);
  g_autoptr(GPtrArray) calls = g_ptr_array_new_with_free_func ((GDestroyNotify) call_free);

  for (guint i = 0; i < 200; i++)
    g_ptr_array_add (calls, call_start (session, messages_new (sim, body), NULL));
  for (guint i = 0; i < calls->len; i++)
    {
      Call *call = g_ptr_array_index (calls, i);

      call_wait (call);
      g_assert_no_error (call->error);
      g_assert_cmpuint (call->status, ==, 200);
    }

  g_test_message ("max in flight: %u", fj_simulator_get_max_in_flight (sim));
  g_assert_cmpuint (fj_simulator_get_n_connections (sim), ==, 200);
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, 200);
  g_assert_cmpuint (fj_simulator_get_max_in_flight (sim), >, 1);
}

static void
test_stop (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"failures\": [{\"fault\": \"hang\"}]}");
  g_autoptr(SoupSession) session = session_new ();
  g_autofree char *body = request_body (MARKET_SYSTEM, QUESTION, FALSE);
  g_autoptr(Call) call = call_start (session, messages_new (sim, body), NULL);
  g_autoptr(JsonNode) stats = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  JsonObject *entry;

  wait_for_in_flight (sim, 1);
  g_assert_true (fj_simulator_get_running (sim));
  fj_simulator_stop (sim);
  g_assert_false (fj_simulator_get_running (sim));
  g_assert_null (fj_simulator_dup_base_url (sim));
  call_wait (call);
  g_assert_nonnull (call->error);

  entry = stats_log_entry (sim, 0, &stats);
  g_assert_cmpstr (json_object_get_string_member (entry, "outcome"), ==, "server-stopped");
  g_assert_cmpuint (fj_simulator_get_n_in_flight (sim), ==, 0);

  /* It can start again. */
  g_assert_true (fj_simulator_start (sim, &error));
  g_assert_no_error (error);
  url = fj_simulator_dup_base_url (sim);
  g_assert_true (g_str_has_prefix (url, "http://127.0.0.1:"));
}

typedef struct
{
  GMutex        lock;
  GCond         cond;
  FjSimulator  *sim;
  GMainLoop    *loop;
  gboolean      ready;
} SimThread;

static gpointer
sim_thread (gpointer data)
{
  SimThread *st = data;
  g_autoptr(GMainContext) context = g_main_context_new ();

  g_main_context_push_thread_default (context);
  st->loop = g_main_loop_new (context, FALSE);
  st->sim = fj_test_simulator_new ("{\"latency\": 0.01}");

  g_mutex_lock (&st->lock);
  st->ready = TRUE;
  g_cond_signal (&st->cond);
  g_mutex_unlock (&st->lock);

  g_main_loop_run (st->loop);

  fj_simulator_stop (st->sim);
  g_main_context_pop_thread_default (context);
  return NULL;
}

static void
test_thread (void)
{
  SimThread st = { 0 };
  g_autoptr(SoupSession) session = session_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(SoupMessage) msg = NULL;
  g_autofree char *body = request_body (MARKET_SYSTEM, QUESTION, FALSE);
  g_autofree char *key = agent_key (MARKET_SYSTEM);
  GThread *thread;

  g_mutex_init (&st.lock);
  g_cond_init (&st.cond);
  thread = g_thread_new ("simulator", sim_thread, &st);
  g_mutex_lock (&st.lock);
  while (!st.ready)
    g_cond_wait (&st.cond, &st.lock);
  g_mutex_unlock (&st.lock);

  /* The simulator answers on its thread's context while this thread
   * blocks in a synchronous request. */
  msg = messages_new (st.sim, body);
  bytes = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
  g_assert_cmpuint (fj_simulator_get_n_requests (st.sim), ==, 1);
  g_assert_cmpuint (fj_simulator_get_attempts (st.sim, key), ==, 1);

  g_main_loop_quit (st.loop);
  g_thread_join (thread);
  g_assert_false (fj_simulator_get_running (st.sim));
  g_clear_object (&st.sim);
  g_clear_pointer (&st.loop, g_main_loop_unref);
  g_mutex_clear (&st.lock);
  g_cond_clear (&st.cond);
}

/* Properties and scenarios */

static void
notify_count_cb (GObject    *object,
                 GParamSpec *pspec,
                 guint      *count)
{
  (*count)++;
}

static void
test_properties (void)
{
  g_autoptr(FjSimulator) sim = fj_simulator_new ();
  g_autoptr(GError) error = NULL;
  guint notified = 0;
  guint port = 0;

  g_assert_cmpfloat (fj_simulator_get_latency (sim), ==, 0.05);
  g_assert_cmpuint (fj_simulator_get_output_tokens (sim), ==, 60);
  g_assert_cmpfloat (fj_simulator_get_tokens_per_second (sim), ==, 0);
  g_assert_cmpuint (fj_simulator_get_seed (sim), ==, 0);
  g_assert_false (fj_simulator_get_record_prompts (sim));
  g_assert_false (fj_simulator_get_running (sim));
  g_assert_null (fj_simulator_dup_base_url (sim));
  g_assert_false (g_object_class_find_property (G_OBJECT_GET_CLASS (sim), "api-key")->flags & G_PARAM_READABLE);

  g_signal_connect (sim, "notify::seed", G_CALLBACK (notify_count_cb), &notified);
  fj_simulator_load_scenario_from_data (sim, "{\"seed\": 9, \"latency\": {\"min\": 0.1, \"max\": 0.4},"
                                        " \"output_tokens\": 12, \"tokens_per_second\": 30}", -1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fj_simulator_get_seed (sim), ==, 9);
  g_assert_cmpuint (notified, ==, 1);
  g_assert_cmpfloat (fj_simulator_get_latency (sim), ==, 0.1);
  g_assert_cmpfloat (fj_simulator_get_latency_max (sim), ==, 0.4);
  g_assert_cmpuint (fj_simulator_get_output_tokens (sim), ==, 12);
  g_assert_cmpfloat (fj_simulator_get_tokens_per_second (sim), ==, 30);

  fj_simulator_set_seed (sim, 9);
  g_assert_cmpuint (notified, ==, 1);
  g_object_set (sim, "seed", (guint64) 10, "record-prompts", TRUE, NULL);
  g_assert_cmpuint (notified, ==, 2);
  g_assert_true (fj_simulator_get_record_prompts (sim));

  fj_simulator_start (sim, &error);
  g_assert_no_error (error);
  g_object_get (sim, "port", &port, NULL);
  g_assert_cmpuint (port, >, 0);
  g_assert_cmpuint (port, ==, fj_simulator_get_port (sim));
  fj_simulator_stop (sim);
  g_assert_cmpuint (fj_simulator_get_port (sim), ==, 0);
}

static void
assert_scenario_error (const char *json,
                       const char *expected)
{
  g_autoptr(FjSimulator) sim = fj_simulator_new ();
  g_autoptr(GError) error = NULL;

  g_assert_false (fj_simulator_load_scenario_from_data (sim, json, -1, &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_SPEC);
  g_test_message ("%s", error->message);
  g_assert_cmpstr (error->message, ==, expected);
}

static void
test_scenario_errors (void)
{
  /* Each error is placed at the value, an unknown key at its name, a
   * missing member at the object it belongs in. */
  assert_scenario_error ("{\"latncy\": 1}",
                         "scenario:1:2: latncy: unknown key (did you mean \"latency\"?)");
  assert_scenario_error ("{\"agents\": [{\"match\": \"a\"}, {\"match\": \"b\", \"latency\": \"slow\"}]}",
                         "scenario:1:55: agents[1].latency: expected a number of seconds or {min,max}");
  assert_scenario_error ("{\"output_tokens\": -3}",
                         "scenario:1:19: output_tokens: must not be negative (expected a whole number)");
  assert_scenario_error ("{\"latency\": -0.5}",
                         "scenario:1:13: latency: must not be negative (expected a number of seconds or {min,max})");
  assert_scenario_error ("{\"output_tokens\": 2.5}",
                         "scenario:1:19: output_tokens: expected a whole number");
  assert_scenario_error ("{\"refusal\": \"yes\"}",
                         "scenario:1:13: refusal: expected true or false");
  assert_scenario_error ("{\"latency\": {\"min\": 2, \"max\": 1}}",
                         "scenario:1:31: latency.max: must not be less than min");
  assert_scenario_error ("{\"latency\": {\"min\": 2}}",
                         "scenario:1:13: latency.max: required (expected a number of seconds)");
  assert_scenario_error ("{\"failures\": [{\"status\": 429}, {\"status\": 200}]}",
                         "scenario:1:43: failures[1].status: expected an HTTP error status (400 to 599)");
  assert_scenario_error ("{\"failures\": [{\"fault\": \"dorp\"}]}",
                         "scenario:1:25: failures[0].fault: unknown fault \"dorp\" (expected drop, error_event, malformed_json, trickle or hang)");
  assert_scenario_error ("{\"failures\": [{\"probability\": 0.5}]}",
                         "scenario:1:15: failures[0]: needs \"status\" (an HTTP error) or \"fault\"");
  assert_scenario_error ("{\"failures\": [{\"fault\": \"hang\", \"after_tokens\": 3}]}",
                         "scenario:1:33: failures[0].after_tokens: unknown key (expected one of fault, attempts, probability, description)");
  assert_scenario_error ("{\"failures\": [{\"status\": 529, \"probability\": 1.5}]}",
                         "scenario:1:46: failures[0].probability: expected a probability from 0 to 1");
  assert_scenario_error ("{\"rate_limits\": {\"requests_per_minute\": -1}}",
                         "scenario:1:41: rate_limits.requests_per_minute: must not be negative (expected a number per minute (0 = no limit))");
  assert_scenario_error ("{\"agents\": [{\"name\": \"x\"}]}",
                         "scenario:1:13: agents[0].match: required (text that occurs in the agent's system prompt)");
  assert_scenario_error ("{\"agents\": [{\"match\": \"x\", \"seed\": 3}]}",
                         "scenario:1:28: agents[0].seed: unknown key (expected one of name, match, description, latency, "
                         "output_tokens, tokens_per_second, failures, tool_use, refusal, batch_outcome)");
  assert_scenario_error ("{\"tool_use\": {\"input\": [1]}}",
                         "scenario:1:24: tool_use.input: expected an object (the tool's input)");
  assert_scenario_error ("{\"cache\": {\"ttl\": -1}}",
                         "scenario:1:19: cache.ttl: must not be negative (expected seconds)");
  assert_scenario_error ("{\"cache\": {\"min_token\": 5}}",
                         "scenario:1:12: cache.min_token: unknown key (did you mean \"min_tokens\"?)");
  assert_scenario_error ("{\"cache\": 5}", "scenario:1:11: cache: expected an object");
  assert_scenario_error ("{\"batch\": {\"max_requests\": 0}}",
                         "scenario:1:28: batch.max_requests: must be at least 1");
  assert_scenario_error ("{\"batch\": {\"shuffle\": 1}}",
                         "scenario:1:23: batch.shuffle: expected true or false");
  assert_scenario_error ("{\"agents\": [{\"match\": \"x\", \"batch_outcome\": \"late\"}]}",
                         "scenario:1:45: agents[0].batch_outcome: expected \"expired\" or \"default\"");
  assert_scenario_error ("[]", "scenario:1:1: expected a JSON object at the top level");
  assert_scenario_error ("{\n  \"seed\": 1,\n  \"agents\": [\n    {\"match\": \"a\", \"refusal\": 1}\n  ]\n}",
                         "scenario:4:31: agents[0].refusal: expected true or false");

  /* Strict JSON, as for specs. */
  assert_scenario_error ("", "scenario:1:1: empty file (expected a JSON object)");
  assert_scenario_error ("{\n  // fast\n  \"latency\": 0}",
                         "scenario:2:3: comments are not allowed in JSON");
  assert_scenario_error ("{\"failures\": [{\"status\": 429},]}",
                         "scenario:1:30: failures: trailing comma before ']' (not allowed in JSON)");
  assert_scenario_error ("{\"seed\": 1} {}",
                         "scenario:1:13: unexpected content after the end of the JSON document");
  assert_scenario_error ("{\"seed\": 1,\n \"seed\": 2}",
                         "scenario:2:2: seed: duplicate key \"seed\" (first at line 1, column 2)");
  assert_scenario_error ("{'seed': 1}", "scenario:1:2: single quotes are not JSON; use double quotes");
}

static void
test_scenario_file_errors (void)
{
  g_autoptr(FjSimulator) sim = fj_simulator_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("fj-simulator-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "scenario.json", NULL);

  g_assert_true (g_file_set_contents (path, "{\n  \"seed\": 1,\n  \"failures\": {}\n}\n", -1, NULL));
  g_assert_false (fj_simulator_load_scenario_from_file (sim, path, &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_SPEC);
  g_assert_true (g_str_has_suffix (error->message, "scenario.json:3:15: failures: expected an array of failure entries"));
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (path, "{\"seed\": 1,", -1, NULL));
  g_assert_false (fj_simulator_load_scenario_from_file (sim, path, &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_SPEC);
  g_assert_true (g_str_has_suffix (error->message, "scenario.json:1:1: the object is not closed: the file ends inside it"));
  g_clear_error (&error);

  g_remove (path);
  g_assert_false (fj_simulator_load_scenario_from_file (sim, path, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_rmdir (dir);
}

static void
test_scenario_files (void)
{
  const char *data_dir = g_getenv ("FJ_DATA_DIR");
  g_autofree char *scenarios = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GError) error = NULL;
  const char *name;
  guint n = 0;

  if (data_dir == NULL)
    data_dir = FJ_SOURCE_DATADIR;
  scenarios = g_build_filename (data_dir, "scenarios", NULL);
  dir = g_dir_open (scenarios, 0, &error);
  g_assert_no_error (error);

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autoptr(FjSimulator) sim = fj_simulator_new ();
      g_autofree char *path = NULL;

      if (!g_str_has_suffix (name, ".json"))
        continue;
      path = g_build_filename (scenarios, name, NULL);
      g_test_message ("loading %s", path);
      fj_simulator_load_scenario_from_file (sim, path, &error);
      g_assert_no_error (error);
      n++;
    }

  g_assert_cmpuint (n, >=, 3);
}

static void
test_research_team_scenario (void)
{
  const char *data_dir = g_getenv ("FJ_DATA_DIR");
  g_autofree char *path = g_build_filename (data_dir ? data_dir : FJ_SOURCE_DATADIR,
                                            "scenarios", "research-team.json", NULL);
  g_autoptr(FjSimulator) sim = fj_simulator_new ();
  g_autoptr(SoupSession) session = session_new ();
  g_autoptr(GError) error = NULL;

  fj_simulator_set_api_key (sim, FJ_TEST_API_KEY);
  fj_simulator_load_scenario_from_file (sim, path, &error);
  g_assert_no_error (error);
  fj_simulator_start (sim, &error);
  g_assert_no_error (error);

  {
    g_autoptr(Call) first = ask (session, sim, TECH_SYSTEM, QUESTION, FALSE);
    g_autoptr(Call) retry = ask (session, sim, TECH_SYSTEM, QUESTION, FALSE);

    g_assert_cmpuint (first->status, ==, 429);
    g_assert_cmpuint (retry->status, ==, 200);
  }
  {
    g_autoptr(Call) call = ask (session, sim, "You are a financial analyst.", QUESTION, FALSE);
    g_autoptr(JsonNode) root = parse_json (call->text);

    g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (json_node_get_object (root), "usage"),
                                                 "output_tokens"), ==, 120);
  }
  g_assert_cmpuint (fj_simulator_get_attempts (sim, "technical-analyst"), ==, 2);
  g_assert_cmpuint (fj_simulator_get_attempts (sim, "financial-analyst"), ==, 1);
}

static const char test_cert_pem[] =
  "-----BEGIN CERTIFICATE-----\n"
  "MIIBjzCCATagAwIBAgIUbSLgMoOpK4QKirIxXi+cYZM6aHwwCgYIKoZIzj0EAwIw\n"
  "FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTEyODAyNTMxMloYDzIxMjYxMTA0\n"
  "MDI1MzEyWjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO\n"
  "PQMBBwNCAASyvK5KmFSy4l8tjZEUeYYUhaZscwrP2T2vXrx2mgaoZP/VZbBgAgju\n"
  "OTb+HwjREAe2zgSjxWCsC6/jTAzCh3t7o2QwYjAdBgNVHQ4EFgQUTEwy0rFLpyeQ\n"
  "BU0LEmwP0MnI4JgwHwYDVR0jBBgwFoAUTEwy0rFLpyeQBU0LEmwP0MnI4JgwDwYD\n"
  "VR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAABMAoGCCqGSM49BAMCA0cAMEQC\n"
  "IDxER77+dkjO4dxRkruXWIb/9eGE094fDQH4SKYZjtakAiAQRp4QI2Up2hrDpn4X\n"
  "/VFZKQ/pQWa7imIpfJTe4o/c9A==\n"
  "-----END CERTIFICATE-----\n"
  "-----BEGIN PRIVATE KEY-----\n"
  "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgJko4wamSk7EQ3YxZ\n"
  "9vy3HGrqAKaPfQghQCEN56BOCJKhRANCAASyvK5KmFSy4l8tjZEUeYYUhaZscwrP\n"
  "2T2vXrx2mgaoZP/VZbBgAgjuOTb+HwjREAe2zgSjxWCsC6/jTAzCh3t7\n"
  "-----END PRIVATE KEY-----\n";

static gboolean
accept_certificate_cb (SoupMessage          *msg,
                       GTlsCertificate      *certificate,
                       GTlsCertificateFlags  errors,
                       gpointer              user_data)
{
  return TRUE;
}

static guint
count_open_fds (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;

  return n;
}

/* A client that speaks HTTP/1.1 by hand, on its own thread (the
 * simulator runs on this one): three requests on one keep-alive
 * connection, then it closes the connection. */
typedef struct
{
  guint     port;
  gboolean  tls;
  char     *body;
  char     *failure;
  gboolean  hold;              /* after the first exchange, wait for go */
  gboolean  go;
  guint     n_done;            /* exchanges done */
  gboolean  done;
} RawClient;

static gboolean
raw_accept_certificate_cb (GTlsConnection       *connection,
                           GTlsCertificate      *certificate,
                           GTlsCertificateFlags  errors,
                           gpointer              user_data)
{
  return TRUE;
}

static void
raw_event_cb (GSocketClient      *client,
              GSocketClientEvent  event,
              GSocketConnectable *connectable,
              GIOStream          *connection,
              gpointer            user_data)
{
  if (event == G_SOCKET_CLIENT_TLS_HANDSHAKING)
    g_signal_connect (connection, "accept-certificate", G_CALLBACK (raw_accept_certificate_cb), NULL);
}

static char *
raw_exchange (GIOStream  *stream,
              const char *body)
{
  g_autofree char *request = g_strdup_printf ("POST /v1/messages HTTP/1.1\r\n"
                                              "Host: 127.0.0.1\r\n"
                                              "x-api-key: " FJ_TEST_API_KEY "\r\n"
                                              "anthropic-version: 2023-06-01\r\n"
                                              "Content-Type: application/json\r\n"
                                              "Content-Length: %" G_GSIZE_FORMAT "\r\n\r\n%s",
                                              strlen (body), body);
  g_autoptr(GDataInputStream) in = g_data_input_stream_new (g_io_stream_get_input_stream (stream));
  g_autoptr(GError) error = NULL;
  g_autofree char *status = NULL;
  g_autofree char *reply = NULL;
  gsize length = 0;
  gsize n_read = 0;

  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (in), FALSE);
  /* One byte at a time: nothing of a next response is read ahead. */
  g_buffered_input_stream_set_buffer_size (G_BUFFERED_INPUT_STREAM (in), 1);
  if (!g_output_stream_write_all (g_io_stream_get_output_stream (stream), request, strlen (request),
                                  NULL, NULL, &error))
    return g_strdup_printf ("write: %s", error->message);

  status = g_data_input_stream_read_line (in, NULL, NULL, &error);
  if (status == NULL || !g_str_has_prefix (status, "HTTP/1.1 200"))
    return g_strdup_printf ("status line: %s", status ? status : error ? error->message : "end of stream");
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line (in, NULL, NULL, &error);

      if (line == NULL)
        return g_strdup_printf ("headers: %s", error ? error->message : "end of stream");
      g_strchomp (line);
      if (*line == '\0')
        break;
      if (g_ascii_strncasecmp (line, "Content-Length:", 15) == 0)
        length = g_ascii_strtoull (line + 15, NULL, 10);
    }
  if (length == 0)
    return g_strdup ("no Content-Length");
  reply = g_malloc0 (length + 1);
  if (!g_input_stream_read_all (G_INPUT_STREAM (in), reply, length, &n_read, NULL, &error) || n_read != length)
    return g_strdup_printf ("body: %s", error ? error->message : "short");
  if (strstr (reply, "\"type\":\"message\"") == NULL)
    return g_strdup_printf ("not a message: %s", reply);

  return NULL;
}

static gpointer
raw_client_thread (gpointer data)
{
  RawClient *rc = data;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  g_socket_client_set_tls (client, rc->tls);
  g_signal_connect (client, "event", G_CALLBACK (raw_event_cb), NULL);
  connection = g_socket_client_connect_to_host (client, "127.0.0.1", rc->port, NULL, &error);
  if (connection == NULL)
    rc->failure = g_strdup_printf ("connect: %s", error->message);
  for (guint i = 0; connection != NULL && rc->failure == NULL && i < 3; i++)
    {
      rc->failure = raw_exchange (G_IO_STREAM (connection), rc->body);
      g_atomic_int_inc (&rc->n_done);
      while (rc->hold && !g_atomic_int_get (&rc->go))
        g_usleep (1000);
    }
  if (connection != NULL)
    g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  g_atomic_int_set (&rc->done, TRUE);

  return NULL;
}

/* Keeps the simulator's (this thread's) main loop going until the raw
 * client is done, then checks it succeeded. */
static void
raw_client_finish (RawClient *rc,
                   GThread   *thread)
{
  while (!g_atomic_int_get (&rc->done))
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_thread_join (thread);
  if (rc->failure != NULL)
    g_error ("raw client: %s", rc->failure);
  g_clear_pointer (&rc->body, g_free);
}

/* The simulator serves the three requests on the one connection and,
 * once the client has closed it, closes its end too (libsoup 3.2 alone
 * leaves it in CLOSE-WAIT for good), whether plain or TLS. */
static void
check_idle_connection_closed (FjSimulator *sim,
                              gboolean     tls)
{
  RawClient rc = { 0 };
  guint connections = fj_simulator_get_n_connections (sim);
  guint requests = fj_simulator_get_n_requests (sim);
  guint fds = count_open_fds ();
  GThread *thread;
  gint64 deadline;

  rc.port = fj_simulator_get_port (sim);
  rc.tls = tls;
  rc.body = request_body (MARKET_SYSTEM, QUESTION, FALSE);
  thread = g_thread_new ("raw-client", raw_client_thread, &rc);
  raw_client_finish (&rc, thread);
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, requests + 3);
  g_assert_cmpuint (fj_simulator_get_n_connections (sim), ==, connections + 1);

  deadline = g_get_monotonic_time () + 10 * fj_test_time_scale () * G_USEC_PER_SEC;
  while (count_open_fds () > fds)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("the simulator kept %u descriptors open after its client left", count_open_fds () - fds);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static void
test_idle_connection_closed (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0}");

  if (!g_file_test ("/proc/self/fd", G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("no /proc/self/fd to count descriptors in");
      return;
    }
  check_idle_connection_closed (sim, FALSE);
  /* And again on a new connection, after the first was handled. */
  check_idle_connection_closed (sim, FALSE);
}

/* The latency of a request on a kept-alive connection counts from when
 * its bytes arrived, even when the simulator's main loop gets to them
 * later (Linux: the kernel's receive time). */
static void
test_arrival_time (void)
{
#ifdef __linux__
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0}");
  g_autoptr(JsonNode) stats = NULL;
  JsonArray *log;
  guint pause_ms = 400 * fj_test_time_scale ();
  RawClient rc = { 0 };
  GThread *thread;
  double finished;
  double arrived;

  rc.port = fj_simulator_get_port (sim);
  rc.body = request_body (MARKET_SYSTEM, QUESTION, FALSE);
  rc.hold = TRUE;
  thread = g_thread_new ("raw-client", raw_client_thread, &rc);
  while (g_atomic_int_get (&rc.n_done) == 0 && !g_atomic_int_get (&rc.done))
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  /* The client sends its second request at once; the simulator does not
   * look for a while. */
  g_atomic_int_set (&rc.go, TRUE);
  g_usleep (pause_ms * 1000);
  raw_client_finish (&rc, thread);

  stats = fj_simulator_get_stats (sim);
  log = json_object_get_array_member (json_node_get_object (stats), "log");
  g_assert_cmpuint (json_array_get_length (log), ==, 3);
  finished = json_object_get_double_member (json_array_get_object_element (log, 0), "finish_ms");
  arrived = json_object_get_double_member (json_array_get_object_element (log, 1), "arrival_ms");
  /* Arrived soon after the first reply, answered only after the pause. */
  g_assert_cmpfloat (arrived - finished, <, pause_ms / 2.0);
  g_assert_cmpfloat (json_object_get_double_member (json_array_get_object_element (log, 1), "first_byte_ms") - finished,
                     >=, pause_ms - 1);
#else
  g_test_skip ("receive times come from the kernel on Linux only");
#endif
}

static void
test_tls (void)
{
  g_autoptr(FjSimulator) sim = fj_simulator_new ();
  g_autoptr(SoupSession) session = session_new ();
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  g_autofree char *body = request_body (MARKET_SYSTEM, QUESTION, TRUE);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  SoupMessage *msg;

  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    {
      g_test_skip ("no TLS backend (glib-networking is not installed)");
      return;
    }

  certificate = g_tls_certificate_new_from_pem (test_cert_pem, -1, &error);
  g_assert_no_error (error);
  fj_simulator_set_tls_certificate (sim, certificate);
  g_assert_true (fj_simulator_get_tls_certificate (sim) == certificate);
  fj_simulator_set_api_key (sim, FJ_TEST_API_KEY);
  fj_simulator_set_latency (sim, 0);
  fj_simulator_start (sim, &error);
  g_assert_no_error (error);

  url = fj_simulator_dup_base_url (sim);
  g_assert_true (g_str_has_prefix (url, "https://127.0.0.1:"));


  msg = messages_new (sim, body);
  g_signal_connect (msg, "accept-certificate", G_CALLBACK (accept_certificate_cb), NULL);
  {
    g_autoptr(Call) call = call_run (session, msg);
    g_autoptr(GArray) events = NULL;
    g_autofree char *names = NULL;

    g_assert_no_error (call->error);
    g_assert_cmpuint (call->status, ==, 200);
    events = parse_sse (call->text);
    names = event_names (events);
    g_assert_true (g_str_has_suffix (names, "message_stop"));
  }

  /* Once the TLS backend is loaded (it keeps descriptors of its own),
   * idle connections closed by their client are closed over TLS too. */
  if (g_file_test ("/proc/self/fd", G_FILE_TEST_IS_DIR))
    check_idle_connection_closed (sim, TRUE);

  /* A client leaving a hanging request over TLS is noticed too. The
   * first request must be over at the simulator first, or its count in
   * flight would be taken for the second's. */
  wait_until_idle (sim);
  fj_simulator_load_scenario_from_data (sim, "{\"failures\": [{\"fault\": \"hang\"}]}", -1, &error);
  g_assert_no_error (error);
  msg = messages_new (sim, body);
  g_signal_connect (msg, "accept-certificate", G_CALLBACK (accept_certificate_cb), NULL);
  {
    g_autoptr(Call) call = call_start (session, msg, cancellable);

    wait_for_in_flight (sim, 1);
    g_cancellable_cancel (cancellable);
    call_wait (call);
    wait_for_disconnects (sim, 1, 10);
  }
}

/* OpenAI Chat Completions */

#define OPENAI_CLOCK_TOOLS "[{\"type\": \"function\", \"function\": {\"name\": \"clock\"," \
  " \"description\": \"Tells the time\", \"parameters\": {\"type\": \"object\"," \
  " \"properties\": {\"tz\": {\"type\": \"string\"}}}}}]"

/* A Chat Completions body: @messages_json, or a system message (when
 * @system is set) and a user message. */
static char *
openai_body_full (const char *system,
                  const char *user,
                  gboolean    stream,
                  gboolean    include_usage,
                  gint64      max_tokens,
                  const char *tools_json,
                  const char *messages_json)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "model");
  json_builder_add_string_value (builder, MODEL);
  if (max_tokens >= 0)
    {
      json_builder_set_member_name (builder, "max_completion_tokens");
      json_builder_add_int_value (builder, max_tokens);
    }
  json_builder_set_member_name (builder, "messages");
  if (messages_json != NULL)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();

      g_assert_true (json_parser_load_from_data (parser, messages_json, -1, NULL));
      json_builder_add_value (builder, json_node_copy (json_parser_get_root (parser)));
    }
  else
    {
      json_builder_begin_array (builder);
      if (system != NULL)
        {
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "role");
          json_builder_add_string_value (builder, "system");
          json_builder_set_member_name (builder, "content");
          json_builder_add_string_value (builder, system);
          json_builder_end_object (builder);
        }
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "role");
      json_builder_add_string_value (builder, "user");
      json_builder_set_member_name (builder, "content");
      json_builder_add_string_value (builder, user);
      json_builder_end_object (builder);
      json_builder_end_array (builder);
    }
  if (tools_json != NULL)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();

      g_assert_true (json_parser_load_from_data (parser, tools_json, -1, NULL));
      json_builder_set_member_name (builder, "tools");
      json_builder_add_value (builder, json_node_copy (json_parser_get_root (parser)));
    }
  if (stream)
    {
      json_builder_set_member_name (builder, "stream");
      json_builder_add_boolean_value (builder, TRUE);
      if (include_usage)
        {
          json_builder_set_member_name (builder, "stream_options");
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "include_usage");
          json_builder_add_boolean_value (builder, TRUE);
          json_builder_end_object (builder);
        }
    }
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

static char *
openai_body (const char *system,
             const char *user,
             gboolean    stream)
{
  return openai_body_full (system, user, stream, FALSE, 1024, NULL, NULL);
}

/* A POST /v1/chat/completions with the test key as a Bearer token. */
static SoupMessage *
openai_new (FjSimulator *sim,
            const char  *body)
{
  return message_new (sim, SOUP_METHOD_POST, "/v1/chat/completions", AUTH_BEARER, FJ_TEST_API_KEY,
                      NULL, body);
}

static Call *
openai_ask (SoupSession *session,
            FjSimulator *sim,
            const char  *system,
            const char  *user,
            gboolean     stream)
{
  g_autofree char *body = openai_body (system, user, stream);

  return call_run (session, openai_new (sim, body));
}

/* Checks an OpenAI error body {"error":{"message","type","param","code"}}
 * and returns error.message. */
static const char *
assert_openai_error (Call       *call,
                     guint       status,
                     const char *type,
                     const char *code,
                     JsonNode  **out_root)
{
  JsonNode *root;
  JsonObject *object;
  JsonObject *error;

  g_assert_no_error (call->error);
  g_assert_cmpuint (call->status, ==, status);
  g_assert_cmpstr (header (call, "Content-Type"), ==, "application/json");
  assert_request_id (header (call, "request-id"));

  root = parse_json (call->text);
  object = json_node_get_object (root);
  g_assert_cmpuint (json_object_get_size (object), ==, 1);
  error = json_object_get_object_member (object, "error");
  g_assert_cmpstr (json_object_get_string_member (error, "type"), ==, type);
  g_assert_true (json_object_get_null_member (error, "param"));
  if (code != NULL)
    g_assert_cmpstr (json_object_get_string_member (error, "code"), ==, code);
  else
    g_assert_true (json_object_get_null_member (error, "code"));

  *out_root = root;
  return json_object_get_string_member (error, "message");
}

/* The data payloads of an OpenAI stream, checking there are no event
 * names; complete events only. */
static GPtrArray *
openai_payloads (const char *text)
{
  g_autoptr(GArray) events = parse_sse (text);
  GPtrArray *payloads = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < events->len; i++)
    {
      Event *event = &g_array_index (events, Event, i);

      g_assert_null (event->event);
      g_ptr_array_add (payloads, g_strdup (event->data));
    }

  return payloads;
}

static JsonObject *
chunk_choice (JsonNode *chunk)
{
  JsonObject *object = json_node_get_object (chunk);
  JsonArray *choices;

  if (!json_object_has_member (object, "choices"))
    return NULL;
  choices = json_object_get_array_member (object, "choices");
  if (json_array_get_length (choices) == 0)
    return NULL;
  return json_array_get_object_element (choices, 0);
}

/* What a chunk carries: role, content, tool-head, tool-args, finish or
 * usage. */
static const char *
chunk_kind (JsonNode *chunk)
{
  JsonObject *choice = chunk_choice (chunk);
  JsonObject *delta;

  if (choice == NULL)
    return json_object_has_member (json_node_get_object (chunk), "usage") ? "usage" : "empty";
  if (!json_object_get_null_member (choice, "finish_reason"))
    return "finish";
  delta = json_object_get_object_member (choice, "delta");
  if (json_object_has_member (delta, "role"))
    return "role";
  if (json_object_has_member (delta, "tool_calls"))
    {
      JsonObject *call = json_array_get_object_element (json_object_get_array_member (delta, "tool_calls"), 0);

      return json_object_has_member (call, "id") ? "tool-head" : "tool-args";
    }
  if (json_object_has_member (delta, "content"))
    return "content";
  return "other";
}

/* The kinds of @payloads (without [DONE]), runs folded into one. */
static char *
chunk_shape (GPtrArray *payloads)
{
  GString *shape = g_string_new (NULL);
  const char *last = NULL;

  for (guint i = 0; i < payloads->len; i++)
    {
      g_autoptr(JsonNode) chunk = NULL;
      const char *kind;

      if (g_str_equal (payloads->pdata[i], "[DONE]"))
        continue;
      chunk = parse_json (payloads->pdata[i]);
      kind = chunk_kind (chunk);
      if (g_strcmp0 (kind, last) == 0)
        continue;
      if (shape->len > 0)
        g_string_append_c (shape, ' ');
      g_string_append (shape, kind);
      last = kind;
    }

  return g_string_free (shape, FALSE);
}

/* The content deltas of @payloads joined, counting them in @n_deltas. */
static char *
openai_stream_text (GPtrArray *payloads,
                    guint     *n_deltas)
{
  GString *text = g_string_new (NULL);

  *n_deltas = 0;
  for (guint i = 0; i < payloads->len; i++)
    {
      g_autoptr(JsonNode) chunk = NULL;
      JsonObject *choice;
      JsonObject *delta;

      if (g_str_equal (payloads->pdata[i], "[DONE]"))
        continue;
      chunk = parse_json (payloads->pdata[i]);
      choice = chunk_choice (chunk);
      if (choice == NULL)
        continue;
      delta = json_object_get_object_member (choice, "delta");
      if (json_object_has_member (delta, "content") && !json_object_has_member (delta, "role"))
        {
          g_string_append (text, json_object_get_string_member (delta, "content"));
          (*n_deltas)++;
        }
    }

  return g_string_free (text, FALSE);
}

static char *
openai_reply_text (Call *call)
{
  g_autoptr(JsonNode) root = parse_json (call->text);
  JsonArray *choices = json_object_get_array_member (json_node_get_object (root), "choices");
  JsonObject *message = json_object_get_object_member (json_array_get_object_element (choices, 0), "message");

  return g_strdup (json_object_get_string_member (message, "content"));
}

static const char *
openai_finish_reason (Call *call,
                      JsonNode **out_root)
{
  JsonNode *root = parse_json (call->text);
  JsonArray *choices = json_object_get_array_member (json_node_get_object (root), "choices");

  *out_root = root;
  g_assert_cmpuint (json_array_get_length (choices), ==, 1);
  return json_object_get_string_member (json_array_get_object_element (choices, 0), "finish_reason");
}

static void
test_openai_json_reply (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (NULL);
  g_autoptr(SoupSession) session = session_new ();
  g_autofree char *body = openai_body (MARKET_SYSTEM, QUESTION, FALSE);
  g_autoptr(Call) call = call_run (session, openai_new (sim, body));
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) stats = NULL;
  g_autofree char *anthropic_text = NULL;
  JsonObject *object;
  JsonObject *choice;
  JsonObject *message;
  JsonObject *usage;
  JsonObject *entry;
  const char *text;

  g_assert_no_error (call->error);
  g_assert_cmpuint (call->status, ==, 200);
  g_assert_cmpstr (header (call, "Content-Type"), ==, "application/json");
  assert_request_id (header (call, "request-id"));

  root = parse_json (call->text);
  object = json_node_get_object (root);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (object, "id"), "chatcmpl-"));
  g_assert_cmpstr (json_object_get_string_member (object, "object"), ==, "chat.completion");
  g_assert_cmpint (json_object_get_int_member (object, "created"), >, 0);
  g_assert_cmpstr (json_object_get_string_member (object, "model"), ==, MODEL);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object, "choices")), ==, 1);
  choice = json_array_get_object_element (json_object_get_array_member (object, "choices"), 0);
  g_assert_cmpint (json_object_get_int_member (choice, "index"), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (choice, "finish_reason"), ==, "stop");
  message = json_object_get_object_member (choice, "message");
  g_assert_cmpstr (json_object_get_string_member (message, "role"), ==, "assistant");
  g_assert_false (json_object_has_member (message, "tool_calls"));
  text = json_object_get_string_member (message, "content");
  g_assert_true (g_str_has_prefix (text, "As a market analyst, on \"" QUESTION "\": "));
  g_assert_true (g_str_has_suffix (text, "."));
  g_assert_cmpuint (count_words (text), ==, 60);

  usage = json_object_get_object_member (object, "usage");
  g_assert_cmpint (json_object_get_int_member (usage, "prompt_tokens"), ==, strlen (body) / 4);
  g_assert_cmpint (json_object_get_int_member (usage, "completion_tokens"), ==, 60);
  g_assert_cmpint (json_object_get_int_member (usage, "total_tokens"), ==, strlen (body) / 4 + 60);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (usage, "prompt_tokens_details"),
                                               "cached_tokens"), ==, 0);

  entry = stats_log_entry (sim, 0, &stats);
  g_assert_cmpstr (json_object_get_string_member (entry, "api"), ==, "openai");
  g_assert_cmpstr (json_object_get_string_member (entry, "auth"), ==, "bearer");
  g_assert_true (json_object_get_null_member (entry, "version"));
  g_assert_cmpstr (json_object_get_string_member (entry, "outcome"), ==, "ok");
  g_assert_cmpint (json_object_get_int_member (entry, "output_tokens"), ==, 60);

  /* The same conversation over the Messages API gets the same words. */
  fj_simulator_reset_stats (sim);
  {
    g_autoptr(Call) anthropic = ask (session, sim, MARKET_SYSTEM, QUESTION, FALSE);

    anthropic_text = reply_text (anthropic);
    g_assert_cmpstr (anthropic_text, ==, text);
  }

  /* max_completion_tokens cuts the reply: finish_reason length. */
  {
    g_autofree char *short_body = openai_body_full (MARKET_SYSTEM, QUESTION, FALSE, FALSE, 7, NULL, NULL);
    g_autoptr(Call) short_call = call_run (session, openai_new (sim, short_body));
    g_autoptr(JsonNode) short_root = NULL;

    g_assert_cmpstr (openai_finish_reason (short_call, &short_root), ==, "length");
    g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (json_node_get_object (short_root),
                                                                                "usage"),
                                                 "completion_tokens"), ==, 7);
  }

  /* Neither max_tokens nor max_completion_tokens is needed; a plain
   * max_tokens works as well. */
  {
    g_autofree char *no_max = openai_body_full (MARKET_SYSTEM, QUESTION, FALSE, FALSE, -1, NULL, NULL);
    g_autoptr(Call) no_max_call = call_run (session, openai_new (sim, no_max));
    g_autoptr(Call) legacy = call_run (session, openai_new (sim, "{\"model\": \"m\", \"max_tokens\": 3,"
                                                            " \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}"));
    g_autoptr(JsonNode) no_max_root = NULL;
    g_autoptr(JsonNode) legacy_root = NULL;

    g_assert_cmpstr (openai_finish_reason (no_max_call, &no_max_root), ==, "stop");
    g_assert_cmpstr (openai_finish_reason (legacy, &legacy_root), ==, "length");
  }

  /* Content as a list of parts; a tool result for an unknown call; odd
   * tool_calls: all accepted. */
  {
    g_autoptr(Call) parts = call_run (session, openai_new (sim, "{\"model\": \"m\", \"messages\": ["
                                                           " {\"role\": \"developer\", \"content\": [{\"type\": \"text\","
                                                           "   \"text\": \"You are a poet.\"}]},"
                                                           " {\"role\": \"user\", \"content\": [{\"type\": \"text\","
                                                           "   \"text\": \"Why?\"}, {\"type\": \"image_url\"}]}]}"));
    g_autoptr(Call) orphan = call_run (session, openai_new (sim, "{\"model\": \"m\", \"messages\": ["
                                                            " {\"role\": \"user\", \"content\": \"Why?\"},"
                                                            " {\"role\": \"assistant\", \"tool_calls\": [1, {\"id\": 2},"
                                                            "   {\"id\": \"c\", \"function\": 3}]},"
                                                            " {\"role\": \"tool\", \"tool_call_id\": \"c\", \"content\": \"42\"}]}"));
    g_autofree char *parts_text = openai_reply_text (parts);
    g_autofree char *orphan_text = openai_reply_text (orphan);

    g_assert_true (g_str_has_prefix (parts_text, "As a poet, on \"Why?\": "));
    /* No system prompt: the agent is named by the hash of "". */
    g_assert_true (g_str_has_prefix (orphan_text, "As e3b0c442, on \"Why?\": the tool returned \"42\"."));
  }

  /* Bad requests get an OpenAI-shaped 400. */
  {
    static const char * const bad[] = {
      "not json",
      "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
      "{\"model\": \"m\"}",
      "{\"model\": \"m\", \"messages\": []}",
      "{\"model\": \"m\", \"messages\": [{\"role\": \"robot\", \"content\": \"hi\"}]}",
      "{\"model\": \"m\", \"messages\": [{\"role\": \"tool\", \"content\": \"hi\"}]}",
      "{\"model\": \"m\", \"max_tokens\": -1, \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
      "{\"model\": \"m\", \"stream_options\": 1, \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
      "{\"model\": \"m\", \"tools\": [{\"name\": \"x\"}], \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
      "{\"model\": \"m\", \"messages\": [1]}",
      "{\"model\": \"m\", \"messages\": [{\"content\": \"hi\"}]}",
      "{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": 5}]}",
      "{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": null}]}",
      "{\"model\": \"m\", \"stream\": \"yes\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
      "{\"model\": \"m\", \"tools\": {}, \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
    };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autoptr(Call) bad_call = call_run (session, openai_new (sim, bad[i]));
        g_autoptr(JsonNode) bad_root = NULL;
        const char *problem = assert_openai_error (bad_call, 400, "invalid_request_error", NULL, &bad_root);

        g_test_message ("%s: %s", bad[i], problem);
        g_assert_cmpstr (problem, !=, "");
      }
  }
}

static void
test_openai_stream (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (NULL);
  g_autoptr(SoupSession) session = session_new ();
  g_autofree char *body = openai_body_full (MARKET_SYSTEM, QUESTION, TRUE, TRUE, 1024, NULL, NULL);
  g_autoptr(Call) call = call_run (session, openai_new (sim, body));
  g_autoptr(GPtrArray) payloads = NULL;
  g_autoptr(JsonNode) first = NULL;
  g_autoptr(JsonNode) usage_chunk = NULL;
  g_autoptr(JsonNode) finish = NULL;
  g_autoptr(JsonNode) stats = NULL;
  g_autofree char *shape = NULL;
  g_autofree char *text = NULL;
  g_autofree char *fixture = NULL;
  JsonObject *usage;
  const char *id;
  guint n_deltas;

  g_assert_no_error (call->error);
  g_assert_cmpuint (call->status, ==, 200);
  g_assert_cmpstr (header (call, "Content-Type"), ==, "text/event-stream; charset=utf-8");
  g_assert_true (g_str_has_suffix (call->text, "data: [DONE]\n\n"));

  payloads = openai_payloads (call->text);
  g_assert_cmpstr (payloads->pdata[payloads->len - 1], ==, "[DONE]");
  shape = chunk_shape (payloads);
  g_assert_cmpstr (shape, ==, "role content finish usage");

  first = parse_json (payloads->pdata[0]);
  id = json_object_get_string_member (json_node_get_object (first), "id");
  g_assert_true (g_str_has_prefix (id, "chatcmpl-"));
  for (guint i = 0; i + 1 < payloads->len; i++)
    {
      g_autoptr(JsonNode) chunk = parse_json (payloads->pdata[i]);
      JsonObject *object = json_node_get_object (chunk);

      g_assert_cmpstr (json_object_get_string_member (object, "id"), ==, id);
      g_assert_cmpstr (json_object_get_string_member (object, "object"), ==, "chat.completion.chunk");
      g_assert_cmpstr (json_object_get_string_member (object, "model"), ==, MODEL);
    }

  text = openai_stream_text (payloads, &n_deltas);
  g_assert_cmpuint (n_deltas, ==, 60);
  g_assert_true (g_str_has_prefix (text, "As a market analyst, on \"" QUESTION "\": "));
  g_assert_cmpuint (count_words (text), ==, 60);

  finish = parse_json (payloads->pdata[payloads->len - 3]);
  g_assert_cmpstr (json_object_get_string_member (chunk_choice (finish), "finish_reason"), ==, "stop");
  usage_chunk = parse_json (payloads->pdata[payloads->len - 2]);
  usage = json_object_get_object_member (json_node_get_object (usage_chunk), "usage");
  g_assert_cmpint (json_object_get_int_member (usage, "prompt_tokens"), ==, strlen (body) / 4);
  g_assert_cmpint (json_object_get_int_member (usage, "completion_tokens"), ==, 60);

  g_assert_true (json_object_get_boolean_member (stats_log_entry (sim, 0, &stats), "stream"));

  /* Without stream_options.include_usage there is no usage chunk. */
  {
    g_autoptr(Call) plain = openai_ask (session, sim, MARKET_SYSTEM, QUESTION, TRUE);
    g_autoptr(GPtrArray) plain_payloads = openai_payloads (plain->text);
    g_autofree char *plain_shape = chunk_shape (plain_payloads);

    g_assert_cmpstr (plain_shape, ==, "role content finish");
    g_assert_null (strstr (plain->text, "\"usage\""));
    g_assert_cmpstr (plain_payloads->pdata[plain_payloads->len - 1], ==, "[DONE]");
  }

  /* Every member of our chunks is one the recorded stream's chunks have. */
  fixture = fj_test_load_fixture ("vercel-ai_openai-chat-tool-call.chunks.jsonl", NULL);
  if (fixture != NULL)
    {
      g_auto(GStrv) lines = g_strsplit (fixture, "\n", -1);
      g_autoptr(JsonNode) real_first = NULL;
      g_autoptr(JsonNode) real_usage = NULL;
      g_autoptr(GList) members = json_object_get_members (json_node_get_object (first));
      g_autoptr(GList) choice_members = json_object_get_members (chunk_choice (first));
      g_autoptr(GList) usage_members = json_object_get_members (usage);

      for (guint i = 0; lines[i] != NULL; i++)
        {
          if (*lines[i] != '{')
            continue;
          if (real_first == NULL)
            real_first = parse_json (lines[i]);
          if (strstr (lines[i], "\"usage\":{") != NULL)
            real_usage = parse_json (lines[i]);
        }
      g_assert_nonnull (real_first);
      g_assert_nonnull (real_usage);
      for (const GList *l = members; l; l = l->next)
        g_assert_true (json_object_has_member (json_node_get_object (real_first), l->data));
      for (const GList *l = choice_members; l; l = l->next)
        g_assert_true (json_object_has_member (chunk_choice (real_first), l->data));
      for (const GList *l = usage_members; l; l = l->next)
        g_assert_true (json_object_has_member (json_object_get_object_member (json_node_get_object (real_usage),
                                                                              "usage"),
                                               l->data));
    }
}

static void
test_openai_tool_use (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"tool_use\": {\"input\": {\"tz\": \"UTC\"}}}");
  g_autoptr(SoupSession) session = session_new ();
  g_autofree char *body = openai_body_full (MARKET_SYSTEM, QUESTION, FALSE, FALSE, 1024, OPENAI_CLOCK_TOOLS, NULL);
  g_autoptr(Call) call = call_run (session, openai_new (sim, body));
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) expected_input = parse_json ("{\"tz\": \"UTC\"}");
  g_autoptr(JsonNode) arguments = NULL;
  g_autoptr(JsonNode) stats = NULL;
  g_autofree char *messages = NULL;
  g_autofree char *tool_id = NULL;
  JsonObject *message;
  JsonArray *calls;
  JsonObject *tool_call;
  JsonObject *function;

  g_assert_cmpuint (call->status, ==, 200);
  g_assert_cmpstr (openai_finish_reason (call, &root), ==, "tool_calls");
  message = json_object_get_object_member (chunk_choice (root), "message");
  g_assert_true (g_str_has_suffix (json_object_get_string_member (message, "content"), "I will use the clock tool."));
  calls = json_object_get_array_member (message, "tool_calls");
  g_assert_cmpuint (json_array_get_length (calls), ==, 1);
  tool_call = json_array_get_object_element (calls, 0);
  tool_id = g_strdup (json_object_get_string_member (tool_call, "id"));
  g_assert_true (g_str_has_prefix (tool_id, "call_"));
  g_assert_cmpstr (json_object_get_string_member (tool_call, "type"), ==, "function");
  function = json_object_get_object_member (tool_call, "function");
  g_assert_cmpstr (json_object_get_string_member (function, "name"), ==, "clock");
  arguments = parse_json (json_object_get_string_member (function, "arguments"));
  g_assert_true (json_node_equal (arguments, expected_input));
  g_assert_cmpstr (json_object_get_string_member (stats_log_entry (sim, 0, &stats), "outcome"), ==, "tool_use");

  /* Streamed: the call arrives in pieces by index, as in the recorded
   * stream: id, type and name first, then the arguments. */
  {
    g_autofree char *stream_body = openai_body_full (MARKET_SYSTEM, QUESTION, TRUE, TRUE, 1024,
                                                     OPENAI_CLOCK_TOOLS, NULL);
    g_autoptr(Call) stream_call = call_run (session, openai_new (sim, stream_body));
    g_autoptr(GPtrArray) payloads = openai_payloads (stream_call->text);
    g_autofree char *shape = chunk_shape (payloads);
    g_autoptr(GString) input = g_string_new (NULL);
    g_autoptr(JsonNode) input_node = NULL;
    g_autofree char *fixture = NULL;
    guint n_heads = 0;

    g_assert_cmpstr (shape, ==, "role content tool-head tool-args finish usage");
    for (guint i = 0; i + 1 < payloads->len; i++)
      {
        g_autoptr(JsonNode) chunk = parse_json (payloads->pdata[i]);
        JsonObject *choice = chunk_choice (chunk);
        JsonObject *delta;
        JsonObject *piece;
        JsonObject *piece_function;

        if (choice == NULL)
          continue;
        if (!json_object_get_null_member (choice, "finish_reason"))
          g_assert_cmpstr (json_object_get_string_member (choice, "finish_reason"), ==, "tool_calls");
        delta = json_object_get_object_member (choice, "delta");
        if (!json_object_has_member (delta, "tool_calls"))
          continue;
        piece = json_array_get_object_element (json_object_get_array_member (delta, "tool_calls"), 0);
        g_assert_cmpint (json_object_get_int_member (piece, "index"), ==, 0);
        piece_function = json_object_get_object_member (piece, "function");
        if (json_object_has_member (piece, "id"))
          {
            n_heads++;
            g_assert_cmpstr (json_object_get_string_member (piece, "type"), ==, "function");
            g_assert_cmpstr (json_object_get_string_member (piece_function, "name"), ==, "clock");
          }
        else
          g_assert_false (json_object_has_member (piece_function, "name"));
        g_string_append (input, json_object_get_string_member (piece_function, "arguments"));
      }
    g_assert_cmpuint (n_heads, ==, 1);
    input_node = parse_json (input->str);
    g_assert_true (json_node_equal (input_node, expected_input));

    fixture = fj_test_load_fixture ("vercel-ai_openai-chat-tool-call.chunks.jsonl", NULL);
    if (fixture != NULL)
      {
        g_auto(GStrv) lines = g_strsplit (fixture, "\n", -1);
        g_autoptr(GPtrArray) real = g_ptr_array_new_with_free_func (g_free);
        g_autofree char *real_shape = NULL;

        for (guint i = 0; lines[i] != NULL; i++)
          if (*lines[i] == '{')
            g_ptr_array_add (real, g_strdup (lines[i]));
        real_shape = chunk_shape (real);
        g_assert_cmpstr (real_shape, ==, shape);
      }
  }

  /* The next request carries the tool's result as a role: tool message. */
  messages = g_strdup_printf ("[{\"role\": \"system\", \"content\": \"%s\"},"
                              " {\"role\": \"user\", \"content\": \"%s\"},"
                              " {\"role\": \"assistant\", \"content\": null, \"tool_calls\": [{\"id\": \"%s\","
                              "   \"type\": \"function\", \"function\": {\"name\": \"clock\","
                              "   \"arguments\": \"{\\\"tz\\\":\\\"UTC\\\"}\"}}]},"
                              " {\"role\": \"tool\", \"tool_call_id\": \"%s\", \"content\": \"2026-11-28T10:00:00Z\"}]",
                              MARKET_SYSTEM, QUESTION, tool_id, tool_id);
  {
    g_autofree char *turn2 = openai_body_full (NULL, NULL, FALSE, FALSE, 1024, OPENAI_CLOCK_TOOLS, messages);
    g_autoptr(Call) final = call_run (session, openai_new (sim, turn2));
    g_autoptr(JsonNode) final_root = NULL;
    g_autofree char *text = NULL;

    g_assert_cmpuint (final->status, ==, 200);
    g_assert_cmpstr (openai_finish_reason (final, &final_root), ==, "stop");
    text = openai_reply_text (final);
    g_assert_true (g_str_has_prefix (text, "As a market analyst, on \"" QUESTION "\": "
                                     "the clock tool returned \"2026-11-28T10:00:00Z\"."));
  }

  /* Without tools in the request there is no tool call. */
  {
    g_autoptr(Call) plain = openai_ask (session, sim, MARKET_SYSTEM, QUESTION, FALSE);
    g_autoptr(JsonNode) plain_root = NULL;

    g_assert_cmpstr (openai_finish_reason (plain, &plain_root), ==, "stop");
  }
}

static void
test_openai_agents (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"agents\": ["
                                                      " {\"name\": \"market-analyst\", \"match\": \"market analyst\","
                                                      "  \"output_tokens\": 5},"
                                                      " {\"name\": \"refuser\", \"match\": \"technical\", \"refusal\": true}]}");
  g_autoptr(SoupSession) session = session_new ();
  g_autoptr(Call) market = openai_ask (session, sim, MARKET_SYSTEM, QUESTION, FALSE);
  g_autoptr(Call) tech = openai_ask (session, sim, TECH_SYSTEM, QUESTION, FALSE);
  g_autoptr(Call) tech_stream = openai_ask (session, sim, TECH_SYSTEM, QUESTION, TRUE);
  g_autoptr(JsonNode) market_root = NULL;
  g_autoptr(JsonNode) tech_root = NULL;
  g_autoptr(JsonNode) stats = NULL;
  g_autofree char *tech_text = NULL;
  JsonObject *entry;

  /* The override matches the first system message. */
  g_assert_cmpstr (openai_finish_reason (market, &market_root), ==, "stop");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (json_node_get_object (market_root),
                                                                              "usage"),
                                               "completion_tokens"), ==, 5);
  entry = stats_log_entry (sim, 0, &stats);
  g_assert_cmpstr (json_object_get_string_member (entry, "agent"), ==, "market-analyst");

  /* A refusal is finish_reason content_filter. */
  g_assert_cmpstr (openai_finish_reason (tech, &tech_root), ==, "content_filter");
  tech_text = openai_reply_text (tech);
  g_assert_cmpstr (tech_text, ==, "I can't help with that request.");
  g_assert_nonnull (strstr (tech_stream->text, "\"finish_reason\":\"content_filter\""));
  g_assert_true (g_str_has_suffix (tech_stream->text, "data: [DONE]\n\n"));
}

static void
test_openai_rate_limit (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"rate_limits\": {\"requests_per_minute\": 2}}");
  g_autoptr(SoupSession) session = session_new ();

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(Call) call = openai_ask (session, sim, MARKET_SYSTEM, QUESTION, FALSE);

      g_assert_cmpuint (call->status, ==, 200);
      g_assert_cmpstr (header (call, "anthropic-ratelimit-requests-limit"), ==, "2");
    }

  {
    g_autoptr(Call) call = openai_ask (session, sim, MARKET_SYSTEM, QUESTION, TRUE);
    g_autoptr(JsonNode) root = NULL;
    g_autoptr(JsonNode) stats = NULL;
    guint64 seconds;

    assert_openai_error (call, 429, "rate_limit_error", "rate_limit_exceeded", &root);
    g_assert_true (g_ascii_string_to_unsigned (header (call, "retry-after"), 10, 1, 40, &seconds, NULL));
    g_assert_cmpstr (json_object_get_string_member (stats_log_entry (sim, 2, &stats), "outcome"), ==, "rate-limited");
  }

  /* Both APIs draw on the same buckets. */
  {
    g_autoptr(Call) call = ask (session, sim, MARKET_SYSTEM, QUESTION, FALSE);
    g_autoptr(JsonNode) root = NULL;

    assert_error_body (call, 429, "rate_limit_error", &root);
  }
}

static void
test_openai_failure_status (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"failures\": ["
                                                      " {\"status\": 503, \"attempts\": 1, \"retry_after\": 2,"
                                                      "  \"retry_after_ms\": 1500}]}");
  g_autoptr(SoupSession) session = session_new ();
  g_autoptr(Call) first = openai_ask (session, sim, MARKET_SYSTEM, QUESTION, FALSE);
  g_autoptr(Call) retry = openai_ask (session, sim, MARKET_SYSTEM, QUESTION, FALSE);
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) stats = NULL;
  JsonObject *entry;

  assert_openai_error (first, 503, "api_error", NULL, &root);
  g_assert_cmpstr (header (first, "retry-after"), ==, "2");
  g_assert_cmpstr (header (first, "retry-after-ms"), ==, "1500");
  g_assert_cmpuint (retry->status, ==, 200);

  entry = stats_log_entry (sim, 0, &stats);
  g_assert_cmpstr (json_object_get_string_member (entry, "outcome"), ==, "http-503");
  g_assert_cmpint (json_object_get_int_member (entry, "attempt"), ==, 1);
}

static void
test_openai_fault_drop (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"failures\": ["
                                                      " {\"fault\": \"drop\", \"after_tokens\": 5}]}");
  g_autoptr(SoupSession) session = session_new ();
  g_autofree char *body = openai_body_full (MARKET_SYSTEM, QUESTION, TRUE, TRUE, 1024, NULL, NULL);
  g_autoptr(StreamRead) sr = stream_read_start (session, openai_new (sim, body));
  g_autoptr(GPtrArray) payloads = NULL;
  g_autoptr(JsonNode) stats = NULL;
  g_autofree char *complete = NULL;
  g_autofree char *text = NULL;
  const char *end;
  JsonObject *entry;
  guint n_deltas;

  fj_test_wait_for (&sr->done, 30);
  g_assert_cmpuint (sr->status, ==, 200);
  g_assert_nonnull (sr->error);
  g_test_message ("stream broke with: %s", sr->error->message);

  /* It broke off inside a chunk: read the complete ones. */
  end = g_strrstr (sr->text->str, "\n\n");
  g_assert_nonnull (end);
  g_assert_cmpstr (end + 2, !=, "");
  complete = g_strndup (sr->text->str, end + 2 - sr->text->str);
  payloads = openai_payloads (complete);
  text = openai_stream_text (payloads, &n_deltas);
  g_assert_cmpuint (n_deltas, ==, 5);
  g_assert_true (g_str_has_prefix (text, "As a market"));
  g_assert_null (strstr (sr->text->str, "[DONE]"));
  g_assert_null (strstr (sr->text->str, "\"usage\""));

  wait_until_idle (sim);
  entry = stats_log_entry (sim, 0, &stats);
  g_assert_cmpstr (json_object_get_string_member (entry, "outcome"), ==, "drop");
  g_assert_cmpstr (json_object_get_string_member (entry, "fault"), ==, "drop");
  g_assert_cmpstr (json_object_get_string_member (entry, "api"), ==, "openai");
  g_assert_cmpint (json_object_get_int_member (entry, "output_tokens"), ==, 5);

  {
    /* A JSON reply breaks off halfway through its body. */
    g_autoptr(Call) call = openai_ask (session, sim, MARKET_SYSTEM, QUESTION, FALSE);

    g_assert_nonnull (call->error);
    g_assert_cmpuint (call->status, ==, 200);
  }
}

static void
test_openai_fault_malformed (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"failures\": ["
                                                      " {\"fault\": \"malformed_json\", \"after_tokens\": 2}]}");
  g_autoptr(SoupSession) session = session_new ();
  g_autoptr(Call) call = openai_ask (session, sim, MARKET_SYSTEM, QUESTION, FALSE);
  g_autoptr(Call) stream_call = openai_ask (session, sim, MARKET_SYSTEM, QUESTION, TRUE);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GPtrArray) payloads = NULL;
  guint broken = 0;

  g_assert_cmpuint (call->status, ==, 200);
  g_assert_cmpstr (header (call, "Content-Type"), ==, "application/json");
  g_assert_false (json_parser_load_from_data (parser, call->text, -1, NULL));

  g_assert_no_error (stream_call->error);
  g_assert_cmpuint (stream_call->status, ==, 200);
  payloads = openai_payloads (stream_call->text);
  /* role, two content chunks, then the broken one. */
  g_assert_cmpuint (payloads->len, ==, 4);
  for (guint i = 0; i < payloads->len; i++)
    {
      g_autoptr(JsonParser) chunk_parser = json_parser_new ();

      if (!json_parser_load_from_data (chunk_parser, payloads->pdata[i], -1, NULL))
        broken++;
    }
  g_assert_cmpuint (broken, ==, 1);
  g_assert_null (strstr (stream_call->text, "[DONE]"));
}

static void
test_openai_fault_error_event (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"failures\": ["
                                                      " {\"fault\": \"error_event\", \"after_tokens\": 3}]}");
  g_autoptr(SoupSession) session = session_new ();
  g_autoptr(Call) call = openai_ask (session, sim, MARKET_SYSTEM, QUESTION, TRUE);
  g_autoptr(GPtrArray) payloads = openai_payloads (call->text);
  g_autoptr(JsonNode) last = NULL;
  g_autofree char *text = NULL;
  JsonObject *error;
  guint n_deltas;

  g_assert_no_error (call->error);
  g_assert_cmpuint (call->status, ==, 200);
  text = openai_stream_text (payloads, &n_deltas);
  g_assert_cmpuint (n_deltas, ==, 3);

  /* An {"error": …} chunk, as the openai SDK raises on, and no [DONE]. */
  last = parse_json (payloads->pdata[payloads->len - 1]);
  error = json_object_get_object_member (json_node_get_object (last), "error");
  g_assert_nonnull (error);
  g_assert_cmpstr (json_object_get_string_member (error, "type"), ==, "overloaded_error");
  g_assert_cmpstr (json_object_get_string_member (error, "message"), !=, "");
  g_assert_null (strstr (call->text, "[DONE]"));

  {
    g_autoptr(Call) json_call = openai_ask (session, sim, MARKET_SYSTEM, QUESTION, FALSE);
    g_autoptr(JsonNode) root = NULL;

    assert_openai_error (json_call, 529, "overloaded_error", NULL, &root);
  }
}

static void
test_openai_fault_trickle (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"failures\": ["
                                                      " {\"fault\": \"trickle\", \"interval\": 0.05}]}");
  g_autoptr(SoupSession) session = session_new ();
  g_autofree char *body = openai_body (MARKET_SYSTEM, QUESTION, TRUE);
  g_autoptr(StreamRead) sr = stream_read_start (session, openai_new (sim, body));
  g_autoptr(JsonNode) stats = NULL;
  JsonObject *entry;
  guint pings = 0;

  /* Keep-alive comment lines keep coming after the role chunk, and
   * nothing else. */
  for (guint i = 0; pings < 3; i++)
    {
      g_assert_false (sr->done);
      g_assert_cmpuint (i, <, 200);
      fj_test_run_for (0.1);
      pings = 0;
      for (const char *p = sr->text->str; (p = strstr (p, "\n: ping\n")) != NULL; p++)
        pings++;
    }
  g_assert_cmpuint (sr->status, ==, 200);
  g_assert_true (g_str_has_prefix (sr->text->str, "data: {"));
  g_assert_null (strstr (sr->text->str, "\"content\":\"As"));
  g_assert_null (strstr (sr->text->str, "event:"));

  g_cancellable_cancel (sr->cancellable);
  fj_test_wait_for (&sr->done, 10);
  g_clear_object (&sr->stream);

  wait_for_disconnects (sim, 1, 10);
  entry = stats_log_entry (sim, 0, &stats);
  g_assert_cmpstr (json_object_get_string_member (entry, "outcome"), ==, "client-closed");
  g_assert_cmpstr (json_object_get_string_member (entry, "fault"), ==, "trickle");
}

static void
test_openai_pacing (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0.2, \"output_tokens\": 10,"
                                                      " \"tokens_per_second\": 20}");
  g_autoptr(SoupSession) session = session_new ();
  g_autofree char *body = openai_body (MARKET_SYSTEM, QUESTION, TRUE);
  g_autoptr(StreamRead) sr = stream_read_start (session, openai_new (sim, body));
  g_autoptr(GPtrArray) payloads = NULL;
  g_autofree char *text = NULL;
  guint n_deltas;
  gint64 start;

  fj_test_wait_for (&sr->done, 30);
  g_assert_no_error (sr->error);
  payloads = openai_payloads (sr->text->str);
  text = openai_stream_text (payloads, &n_deltas);
  g_assert_cmpuint (n_deltas, ==, 10);
  /* The latency, then 10 tokens at 20 a second. */
  g_assert_cmpint (sr->finished - sr->started, >=, 650000);

  start = g_get_monotonic_time ();
  {
    g_autoptr(Call) call = openai_ask (session, sim, MARKET_SYSTEM, QUESTION, FALSE);

    g_assert_cmpuint (call->status, ==, 200);
    g_assert_cmpint (g_get_monotonic_time () - start, >=, 650000);
  }
}

static void
test_openai_credentials (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (NULL);
  g_autoptr(SoupSession) session = session_new ();
  g_autofree char *body = openai_body (MARKET_SYSTEM, QUESTION, FALSE);
  g_autoptr(JsonNode) stats = NULL;
  JsonObject *entry;

  {
    /* A wrong Bearer key. */
    g_autoptr(Call) call = call_run (session, message_new (sim, SOUP_METHOD_POST, "/v1/chat/completions",
                                                           AUTH_BEARER, "sk-wrong-key-123", NULL, body));
    g_autoptr(JsonNode) root = NULL;
    const char *problem = assert_openai_error (call, 401, "authentication_error", "invalid_api_key", &root);

    g_assert_null (strstr (problem, "sk-wrong-key-123"));
    g_assert_null (strstr (call->text, "sk-wrong-key-123"));
    fj_test_assert_no_key (call->text);
  }
  {
    /* No key at all, or one as x-api-key only: OpenAI servers take Bearer. */
    g_autoptr(Call) none = call_run (session, message_new (sim, SOUP_METHOD_POST, "/v1/chat/completions",
                                                           AUTH_NONE, NULL, NULL, body));
    g_autoptr(Call) x_api_key = call_run (session, message_new (sim, SOUP_METHOD_POST, "/v1/chat/completions",
                                                                AUTH_KEY, FJ_TEST_API_KEY, NULL, body));
    g_autoptr(JsonNode) none_root = NULL;
    g_autoptr(JsonNode) key_root = NULL;

    assert_openai_error (none, 401, "authentication_error", "invalid_api_key", &none_root);
    assert_openai_error (x_api_key, 401, "authentication_error", "invalid_api_key", &key_root);
  }
  {
    /* Only POST. */
    g_autoptr(Call) get = call_run (session, message_new (sim, SOUP_METHOD_GET, "/v1/chat/completions",
                                                          AUTH_BEARER, FJ_TEST_API_KEY, NULL, NULL));
    g_autoptr(JsonNode) root = NULL;

    assert_openai_error (get, 405, "invalid_request_error", NULL, &root);
  }

  entry = stats_log_entry (sim, 0, &stats);
  g_assert_cmpstr (json_object_get_string_member (entry, "outcome"), ==, "unauthorized");
  g_assert_cmpstr (json_object_get_string_member (entry, "auth"), ==, "bearer");
  assert_no_key_in_stats (sim);

  /* A simulator without a key takes any key or none, like a local server. */
  fj_simulator_set_api_key (sim, NULL);
  {
    g_autoptr(Call) none = call_run (session, message_new (sim, SOUP_METHOD_POST, "/v1/chat/completions",
                                                           AUTH_NONE, NULL, NULL, body));
    g_autoptr(Call) any = call_run (session, message_new (sim, SOUP_METHOD_POST, "/v1/chat/completions",
                                                          AUTH_BEARER, "ollama", NULL, body));
    g_autoptr(JsonNode) stats2 = NULL;

    g_assert_cmpuint (none->status, ==, 200);
    g_assert_cmpuint (any->status, ==, 200);
    entry = stats_log_entry (sim, 4, &stats2);
    g_assert_true (json_object_get_null_member (entry, "auth"));
    g_assert_cmpstr (json_object_get_string_member (entry, "outcome"), ==, "ok");
  }
}

static void
test_openai_stats (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (NULL);
  g_autoptr(SoupSession) session = session_new ();
  g_autoptr(Call) anthropic = ask (session, sim, MARKET_SYSTEM, QUESTION, FALSE);
  g_autoptr(Call) openai = openai_ask (session, sim, MARKET_SYSTEM, QUESTION, TRUE);
  g_autoptr(Call) missing = call_run (session, message_new (sim, SOUP_METHOD_POST, "/v1/completions",
                                                            AUTH_BEARER, FJ_TEST_API_KEY, NULL, "{}"));
  g_autoptr(Call) served = call_run (session, message_new (sim, SOUP_METHOD_GET, "/__stats",
                                                           AUTH_NONE, NULL, NULL, NULL));
  g_autoptr(JsonNode) stats = fj_simulator_get_stats (sim);
  g_autoptr(JsonNode) served_stats = NULL;
  g_autofree char *market = agent_key (MARKET_SYSTEM);
  JsonObject *object = json_node_get_object (stats);
  JsonObject *api = json_object_get_object_member (object, "api");
  JsonArray *log = json_object_get_array_member (object, "log");

  g_assert_cmpuint (anthropic->status, ==, 200);
  g_assert_cmpuint (openai->status, ==, 200);
  g_assert_cmpuint (missing->status, ==, 404);

  g_assert_cmpint (json_object_get_int_member (api, "anthropic"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (api, "openai"), ==, 1);
  g_assert_cmpuint (json_array_get_length (log), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (log, 0), "api"), ==, "anthropic");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (log, 1), "api"), ==, "openai");
  g_assert_true (json_object_get_null_member (json_array_get_object_element (log, 2), "api"));
  /* Both conversations are the same agent's: the second is attempt 2. */
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (json_object_get_object_member (object, "agents"),
                                                                              market),
                                               "attempts"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (log, 1), "attempt"), ==, 2);

  g_assert_cmpuint (served->status, ==, 200);
  served_stats = parse_json (served->text);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (json_node_get_object (served_stats),
                                                                              "api"),
                                               "openai"), ==, 1);

  fj_simulator_reset_stats (sim);
  {
    g_autoptr(JsonNode) reset = fj_simulator_get_stats (sim);

    g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (json_node_get_object (reset), "api"),
                                                 "openai"), ==, 0);
  }
}

/* Prompt caching */

typedef struct
{
  gint64 input;
  gint64 creation;
  gint64 read;
} CacheUsage;

/* A request whose system prompt is one block of @system_words words,
 * marked with cache_control, with @tools_json (may be NULL). */
static char *
cache_body (const char *model,
            guint       system_words,
            const char *tools_json,
            const char *user,
            gboolean    stream)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GString) system = g_string_new ("You are a market analyst. The shared input follows.");

  for (guint i = 0; i < system_words; i++)
    g_string_append_printf (system, " word%u", i % 97);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "model");
  json_builder_add_string_value (builder, model);
  json_builder_set_member_name (builder, "max_tokens");
  json_builder_add_int_value (builder, 100);
  if (tools_json != NULL)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();

      g_assert_true (json_parser_load_from_data (parser, tools_json, -1, NULL));
      json_builder_set_member_name (builder, "tools");
      json_builder_add_value (builder, json_node_copy (json_parser_get_root (parser)));
    }
  json_builder_set_member_name (builder, "system");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "text");
  json_builder_set_member_name (builder, "text");
  json_builder_add_string_value (builder, system->str);
  json_builder_set_member_name (builder, "cache_control");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "ephemeral");
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "text");
  json_builder_set_member_name (builder, "text");
  json_builder_add_string_value (builder, "Your own instructions: be brief.");
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "messages");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "role");
  json_builder_add_string_value (builder, "user");
  json_builder_set_member_name (builder, "content");
  json_builder_add_string_value (builder, user);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  if (stream)
    {
      json_builder_set_member_name (builder, "stream");
      json_builder_add_boolean_value (builder, TRUE);
    }
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

/* The usage of a plain reply or of a stream's message_start. */
static CacheUsage
cache_usage (Call *call)
{
  g_autoptr(JsonNode) root = NULL;
  JsonObject *message;
  JsonObject *usage;
  CacheUsage result;

  g_assert_no_error (call->error);
  g_assert_cmpuint (call->status, ==, 200);
  if (g_str_has_prefix (call->text, "event: "))
    {
      g_autoptr(GArray) events = parse_sse (call->text);
      Event *first = &g_array_index (events, Event, 0);

      g_assert_cmpstr (first->event, ==, "message_start");
      root = parse_json (first->data);
      message = json_object_get_object_member (json_node_get_object (root), "message");
    }
  else
    {
      root = parse_json (call->text);
      message = json_node_get_object (root);
    }
  usage = json_object_get_object_member (message, "usage");
  result.input = json_object_get_int_member (usage, "input_tokens");
  result.creation = json_object_get_int_member (usage, "cache_creation_input_tokens");
  result.read = json_object_get_int_member (usage, "cache_read_input_tokens");
  return result;
}

static CacheUsage
cache_ask (SoupSession *session,
           FjSimulator *sim,
           const char  *body)
{
  g_autoptr(Call) call = call_run (session, messages_new (sim, body));

  return cache_usage (call);
}

static void
test_cache_read_after_start (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0}");
  g_autoptr(SoupSession) session = session_new ();
  g_autofree char *body = cache_body ("claude-sonnet-5", 1500, NULL, QUESTION, FALSE);
  g_autofree char *stream_body = cache_body ("claude-sonnet-5", 1500, NULL, QUESTION, TRUE);
  g_autofree char *other_user = cache_body ("claude-sonnet-5", 1500, NULL, "Another question", FALSE);
  g_autofree char *other_model = cache_body ("claude-opus-5", 5000, NULL, QUESTION, FALSE);
  g_autoptr(JsonNode) stats = NULL;
  JsonObject *entry;
  CacheUsage first;
  CacheUsage second;
  CacheUsage third;
  CacheUsage fourth;

  first = cache_ask (session, sim, body);
  g_assert_cmpint (first.creation, >=, 1024);
  g_assert_cmpint (first.read, ==, 0);
  g_assert_cmpint (first.input, >, 0);
  /* The prefix is most of the body: the rest is small. */
  g_assert_cmpint (first.input, <, first.creation / 10);

  second = cache_ask (session, sim, body);
  g_assert_cmpint (second.read, ==, first.creation);
  g_assert_cmpint (second.creation, ==, 0);
  g_assert_cmpint (second.input, ==, first.input);

  /* A stream says so in message_start; the user message is after the
   * breakpoint, so another question reads the same entry. */
  third = cache_ask (session, sim, stream_body);
  g_assert_cmpint (third.read, ==, first.creation);
  g_assert_cmpint (third.creation, ==, 0);
  fourth = cache_ask (session, sim, other_user);
  g_assert_cmpint (fourth.read, ==, first.creation);

  /* The model is part of the key. */
  fourth = cache_ask (session, sim, other_model);
  g_assert_cmpint (fourth.read, ==, 0);
  g_assert_cmpint (fourth.creation, >=, 4096);

  entry = stats_log_entry (sim, 1, &stats);
  g_assert_cmpint (json_object_get_int_member (entry, "cache_read_input_tokens"), ==, first.creation);
  g_assert_cmpint (json_object_get_int_member (entry, "cache_creation_input_tokens"), ==, 0);
}

static void
test_cache_parallel_writes (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 1.5}");
  g_autoptr(SoupSession) session = session_new ();
  g_autofree char *body = cache_body ("claude-sonnet-5", 1500, NULL, QUESTION, TRUE);
  g_autofree char *second_body = cache_body ("claude-sonnet-5", 1500, NULL, "Second agent", TRUE);
  g_autoptr(Call) first = NULL;
  g_autoptr(Call) second = NULL;
  CacheUsage a;
  CacheUsage b;
  CacheUsage c;

  /* The second arrives while the first is still in its latency: the
   * entry is not readable yet, so both write. */
  first = call_start (session, messages_new (sim, body), NULL);
  wait_for_in_flight (sim, 1);
  second = call_start (session, messages_new (sim, second_body), NULL);
  wait_for_in_flight (sim, 2);
  call_wait (first);
  call_wait (second);
  a = cache_usage (first);
  b = cache_usage (second);
  g_assert_cmpint (a.creation, >=, 1024);
  g_assert_cmpint (a.read, ==, 0);
  g_assert_cmpint (b.creation, ==, a.creation);
  g_assert_cmpint (b.read, ==, 0);

  /* Once they have answered, the entry is readable. */
  c = cache_ask (session, sim, body);
  g_assert_cmpint (c.read, ==, a.creation);
  g_assert_cmpint (c.creation, ==, 0);
}

static void
test_cache_minimum (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0}");
  g_autoptr(FjSimulator) low = fj_test_simulator_new ("{\"latency\": 0, \"cache\": {\"min_tokens\": 100}}");
  g_autoptr(SoupSession) session = session_new ();
  /* About 2,000 tokens: over the 1,024 of most models, under the 4,096
   * of haiku and opus. */
  g_autofree char *haiku = cache_body ("claude-haiku-5-5", 1500, NULL, QUESTION, FALSE);
  g_autofree char *small = cache_body ("claude-sonnet-5", 20, NULL, QUESTION, FALSE);
  CacheUsage usage;

  for (guint i = 0; i < 2; i++)
    {
      usage = cache_ask (session, sim, haiku);
      g_assert_cmpint (usage.creation, ==, 0);
      g_assert_cmpint (usage.read, ==, 0);
      g_assert_cmpint (usage.input, >, 1024);

      usage = cache_ask (session, sim, small);
      g_assert_cmpint (usage.creation, ==, 0);
      g_assert_cmpint (usage.read, ==, 0);
    }

  /* The scenario's minimum replaces the model's. */
  usage = cache_ask (session, low, haiku);
  g_assert_cmpint (usage.creation, >, 1024);
  usage = cache_ask (session, low, haiku);
  g_assert_cmpint (usage.read, >, 1024);
}

static void
test_cache_ttl (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"cache\": {\"ttl\": 0.2}}");
  g_autoptr(SoupSession) session = session_new ();
  g_autofree char *body = cache_body ("claude-sonnet-5", 1500, NULL, QUESTION, FALSE);
  CacheUsage first;
  CacheUsage later;

  first = cache_ask (session, sim, body);
  g_assert_cmpint (first.creation, >=, 1024);

  /* Well past the TTL: the entry is gone and is written again. */
  fj_test_run_for (0.7);
  later = cache_ask (session, sim, body);
  g_assert_cmpint (later.creation, ==, first.creation);
  g_assert_cmpint (later.read, ==, 0);
}

static void
test_cache_tools (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0}");
  g_autoptr(SoupSession) session = session_new ();
  const char *search = "[{\"name\": \"search\", \"description\": \"Search the web\","
                       " \"input_schema\": {\"type\": \"object\"}}]";
  const char *fetch = "[{\"name\": \"fetch\", \"description\": \"Fetch a page\","
                      " \"input_schema\": {\"type\": \"object\"}}]";
  g_autofree char *with_search = cache_body ("claude-sonnet-5", 1500, search, QUESTION, FALSE);
  g_autofree char *with_fetch = cache_body ("claude-sonnet-5", 1500, fetch, QUESTION, FALSE);
  CacheUsage usage;

  usage = cache_ask (session, sim, with_search);
  g_assert_cmpint (usage.creation, >=, 1024);
  usage = cache_ask (session, sim, with_fetch);
  g_assert_cmpint (usage.creation, >=, 1024);
  g_assert_cmpint (usage.read, ==, 0);
  usage = cache_ask (session, sim, with_search);
  g_assert_cmpint (usage.read, >=, 1024);
  g_assert_cmpint (usage.creation, ==, 0);
}

static void
test_cache_top_level (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"cache\": {\"min_tokens\": 10}}");
  g_autoptr(SoupSession) session = session_new ();
  g_autoptr(GString) long_text = g_string_new ("Shared input:");
  g_autofree char *body = NULL;
  g_autofree char *no_marker = NULL;
  CacheUsage usage;

  for (guint i = 0; i < 200; i++)
    g_string_append (long_text, " lorem");
  /* A string system prompt and a top-level cache_control: the breakpoint
   * is the last block (the user message). */
  body = g_strdup_printf ("{\"model\": \"m\", \"max_tokens\": 10, \"cache_control\": {\"type\": \"ephemeral\"},"
                          " \"system\": \"%s\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}",
                          long_text->str);
  no_marker = g_strdup_printf ("{\"model\": \"m\", \"max_tokens\": 10,"
                               " \"system\": \"%s\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}",
                               long_text->str);

  usage = cache_ask (session, sim, body);
  g_assert_cmpint (usage.creation, >, 100);
  usage = cache_ask (session, sim, body);
  g_assert_cmpint (usage.read, >, 100);
  usage = cache_ask (session, sim, no_marker);
  g_assert_cmpint (usage.read, ==, 0);
  g_assert_cmpint (usage.creation, ==, 0);
}

/* Message Batches */

static Call *
batch_call (SoupSession *session,
            FjSimulator *sim,
            const char  *method,
            const char  *path,
            const char  *body)
{
  return call_run (session, message_new (sim, method, path, AUTH_KEY, FJ_TEST_API_KEY, "2023-06-01", body));
}

/* A create body: item i has custom_id "item-NN" and the system prompt
 * "Analyst NN" followed by @tags[i % n_tags]; with @invalid_last the last
 * item's params lack max_tokens. */
static char *
batch_body (guint               n,
            const char * const *tags,
            guint               n_tags,
            gboolean            invalid_last)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "requests");
  json_builder_begin_array (builder);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *custom_id = g_strdup_printf ("item-%02u", i);
      g_autofree char *system = g_strdup_printf ("You are analyst %02u. %s", i, tags[i % n_tags]);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "custom_id");
      json_builder_add_string_value (builder, custom_id);
      json_builder_set_member_name (builder, "params");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "model");
      json_builder_add_string_value (builder, MODEL);
      if (!(invalid_last && i + 1 == n))
        {
          json_builder_set_member_name (builder, "max_tokens");
          json_builder_add_int_value (builder, 200);
        }
      json_builder_set_member_name (builder, "system");
      json_builder_add_string_value (builder, system);
      json_builder_set_member_name (builder, "messages");
      json_builder_begin_array (builder);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "role");
      json_builder_add_string_value (builder, "user");
      json_builder_set_member_name (builder, "content");
      json_builder_add_string_value (builder, QUESTION);
      json_builder_end_object (builder);
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

/* Checks a 200 batch object and returns it. */
static JsonNode *
batch_object (Call *call)
{
  JsonNode *root;
  JsonObject *object;

  g_assert_no_error (call->error);
  g_assert_cmpuint (call->status, ==, 200);
  g_assert_cmpstr (header (call, "Content-Type"), ==, "application/json");
  assert_request_id (header (call, "request-id"));
  root = parse_json (call->text);
  object = json_node_get_object (root);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (object, "id"), "msgbatch_"));
  g_assert_cmpstr (json_object_get_string_member (object, "type"), ==, "message_batch");
  g_assert_nonnull (json_object_get_string_member (object, "created_at"));
  g_assert_nonnull (json_object_get_string_member (object, "expires_at"));
  g_assert_true (json_object_get_null_member (object, "archived_at"));
  return root;
}

static gint64
batch_count (JsonNode   *batch,
             const char *name)
{
  JsonObject *counts = json_object_get_object_member (json_node_get_object (batch), "request_counts");

  return json_object_get_int_member (counts, name);
}

static const char *
batch_status (JsonNode *batch)
{
  return json_object_get_string_member (json_node_get_object (batch), "processing_status");
}

/* Polls the batch until it has ended; returns it and counts the polls. */
static JsonNode *
batch_poll_until_ended (SoupSession *session,
                        FjSimulator *sim,
                        const char  *id,
                        guint       *n_polls)
{
  g_autofree char *path = g_strdup_printf ("/v1/messages/batches/%s", id);
  gint64 deadline = g_get_monotonic_time () + 60 * fj_test_time_scale () * G_USEC_PER_SEC;

  for (;;)
    {
      g_autoptr(Call) call = batch_call (session, sim, SOUP_METHOD_GET, path, NULL);
      JsonNode *batch = batch_object (call);

      (*n_polls)++;
      if (g_str_equal (batch_status (batch), "ended"))
        return batch;
      json_node_unref (batch);
      if (g_get_monotonic_time () > deadline)
        g_error ("the batch did not end");
      fj_test_run_for (0.1);
    }
}

static GPtrArray *
batch_result_lines (Call *call)
{
  g_auto(GStrv) lines = NULL;
  GPtrArray *results = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);

  g_assert_no_error (call->error);
  g_assert_cmpuint (call->status, ==, 200);
  g_assert_cmpstr (header (call, "Content-Type"), ==, "application/binary");
  g_assert_true (g_str_has_suffix (call->text, "\n"));
  lines = g_strsplit (call->text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (*lines[i] != '\0')
      g_ptr_array_add (results, parse_json (lines[i]));
  return results;
}

static guint
count_log_outcomes (FjSimulator *sim,
                    const char  *outcome)
{
  g_autoptr(JsonNode) stats = fj_simulator_get_stats (sim);
  JsonArray *log = json_object_get_array_member (json_node_get_object (stats), "log");
  guint n = 0;

  for (guint i = 0; i < json_array_get_length (log); i++)
    {
      JsonObject *entry = json_array_get_object_element (log, i);

      if (g_strcmp0 (json_object_get_string_member (entry, "api"), "batches") == 0 &&
          g_strcmp0 (json_object_get_string_member (entry, "outcome"), outcome) == 0)
        n++;
    }
  return n;
}

static char *
load_scenario_text (const char *name)
{
  const char *data_dir = g_getenv ("FJ_DATA_DIR");
  g_autofree char *path = g_build_filename (data_dir ? data_dir : FJ_SOURCE_DATADIR, "scenarios", name, NULL);
  g_autoptr(GError) error = NULL;
  char *text = NULL;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}

static void
test_batch_mixed (void)
{
  static const char * const tags[] = { "", "Be brief.", "[errored]", "[invalid]", "[expired]" };
  g_autofree char *scenario = load_scenario_text ("batch-mixed.json");
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (scenario);
  g_autoptr(SoupSession) session = session_new ();
  g_autofree char *body = batch_body (50, tags, G_N_ELEMENTS (tags), TRUE);
  g_autoptr(Call) create = batch_call (session, sim, SOUP_METHOD_POST, "/v1/messages/batches", body);
  g_autoptr(JsonNode) created = batch_object (create);
  g_autoptr(JsonNode) ended = NULL;
  g_autoptr(Call) results = NULL;
  g_autoptr(Call) again = NULL;
  g_autoptr(GPtrArray) lines = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *id = g_strdup (json_object_get_string_member (json_node_get_object (created), "id"));
  g_autofree char *results_path = g_strdup_printf ("/v1/messages/batches/%s/results", id);
  g_autofree char *base = fj_simulator_dup_base_url (sim);
  g_autofree char *results_url = g_strconcat (base, results_path, NULL);
  JsonObject *object = json_node_get_object (created);
  gboolean in_order = TRUE;
  guint n_polls = 0;

  g_assert_cmpstr (batch_status (created), ==, "in_progress");
  g_assert_cmpint (batch_count (created, "processing"), ==, 50);
  g_assert_cmpint (batch_count (created, "succeeded") + batch_count (created, "errored") +
                   batch_count (created, "canceled") + batch_count (created, "expired"), ==, 0);
  g_assert_true (json_object_get_null_member (object, "ended_at"));
  g_assert_true (json_object_get_null_member (object, "cancel_initiated_at"));
  g_assert_true (json_object_get_null_member (object, "results_url"));

  ended = batch_poll_until_ended (session, sim, id, &n_polls);
  object = json_node_get_object (ended);
  g_assert_cmpint (batch_count (ended, "processing"), ==, 0);
  g_assert_cmpint (batch_count (ended, "succeeded"), ==, 20);
  g_assert_cmpint (batch_count (ended, "errored"), ==, 21);
  g_assert_cmpint (batch_count (ended, "expired"), ==, 9);
  g_assert_cmpint (batch_count (ended, "canceled"), ==, 0);
  g_assert_nonnull (json_object_get_string_member (object, "ended_at"));
  g_assert_cmpstr (json_object_get_string_member (object, "results_url"), ==, results_url);
  /* Every poll is in the log. */
  g_assert_cmpuint (count_log_outcomes (sim, "batch-retrieve"), ==, n_polls);
  g_assert_cmpuint (count_log_outcomes (sim, "batch-create"), ==, 1);

  results = batch_call (session, sim, SOUP_METHOD_GET, results_path, NULL);
  lines = batch_result_lines (results);
  g_assert_cmpuint (lines->len, ==, 50);
  for (guint i = 0; i < lines->len; i++)
    {
      JsonObject *line = json_node_get_object (g_ptr_array_index (lines, i));
      const char *custom_id = json_object_get_string_member (line, "custom_id");
      JsonObject *result = json_object_get_object_member (line, "result");
      const char *type = json_object_get_string_member (result, "type");
      g_autofree char *expected_id = g_strdup_printf ("item-%02u", i);
      guint index;

      g_assert_true (g_str_has_prefix (custom_id, "item-"));
      index = (guint) g_ascii_strtoull (custom_id + 5, NULL, 10);
      g_assert_cmpuint (index, <, 50);
      g_assert_false (g_hash_table_contains (seen, custom_id));
      g_hash_table_add (seen, (gpointer) custom_id);
      if (!g_str_equal (custom_id, expected_id))
        in_order = FALSE;

      if (index == 49)
        {
          JsonObject *error = json_object_get_object_member (json_object_get_object_member (result, "error"), "error");

          g_assert_cmpstr (type, ==, "errored");
          g_assert_cmpstr (json_object_get_string_member (error, "type"), ==, "invalid_request_error");
          g_assert_nonnull (strstr (json_object_get_string_member (error, "message"), "max_tokens"));
        }
      else if (index % 5 < 2)
        {
          JsonObject *message = json_object_get_object_member (result, "message");
          JsonObject *usage = json_object_get_object_member (message, "usage");
          const char *text = json_object_get_string_member (json_array_get_object_element (
            json_object_get_array_member (message, "content"), 0), "text");

          g_assert_cmpstr (type, ==, "succeeded");
          g_assert_cmpstr (json_object_get_string_member (message, "type"), ==, "message");
          g_assert_cmpstr (json_object_get_string_member (message, "stop_reason"), ==, "end_turn");
          g_assert_cmpint (json_object_get_int_member (usage, "output_tokens"), ==, 30);
          g_assert_cmpint (json_object_get_int_member (usage, "input_tokens"), >, 0);
          g_assert_cmpuint (count_words (text), ==, 30);
        }
      else if (index % 5 == 4)
        {
          g_assert_cmpstr (type, ==, "expired");
          g_assert_cmpuint (json_object_get_size (result), ==, 1);
        }
      else
        {
          JsonObject *error_body = json_object_get_object_member (result, "error");
          JsonObject *error = json_object_get_object_member (error_body, "error");

          g_assert_cmpstr (type, ==, "errored");
          g_assert_cmpstr (json_object_get_string_member (error_body, "type"), ==, "error");
          g_assert_cmpstr (json_object_get_string_member (error, "type"), ==,
                           index % 5 == 2 ? "api_error" : "invalid_request_error");
        }
    }
  g_assert_cmpuint (g_hash_table_size (seen), ==, 50);
  g_assert_false (in_order);

  /* The order is a function of the seed and the batch. */
  again = batch_call (session, sim, SOUP_METHOD_GET, results_path, NULL);
  g_assert_cmpuint (again->status, ==, 200);
  g_assert_cmpstr (again->text, ==, results->text);
  g_assert_cmpuint (count_log_outcomes (sim, "batch-results"), ==, 2);
  assert_no_key_in_stats (sim);
}

static void
test_batch_unshuffled (void)
{
  static const char * const tags[] = { "" };
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"batch\": {\"processing_time\": 0,"
                                                      " \"shuffle\": false}}");
  g_autoptr(SoupSession) session = session_new ();
  g_autofree char *body = batch_body (10, tags, 1, FALSE);
  g_autoptr(Call) create = batch_call (session, sim, SOUP_METHOD_POST, "/v1/messages/batches", body);
  g_autoptr(JsonNode) created = batch_object (create);
  const char *id = json_object_get_string_member (json_node_get_object (created), "id");
  g_autofree char *results_path = g_strdup_printf ("/v1/messages/batches/%s/results", id);
  g_autoptr(Call) results = batch_call (session, sim, SOUP_METHOD_GET, results_path, NULL);
  g_autoptr(GPtrArray) lines = batch_result_lines (results);

  g_assert_cmpstr (batch_status (created), ==, "ended");
  g_assert_cmpuint (lines->len, ==, 10);
  for (guint i = 0; i < lines->len; i++)
    {
      g_autofree char *expected = g_strdup_printf ("item-%02u", i);

      g_assert_cmpstr (json_object_get_string_member (json_node_get_object (g_ptr_array_index (lines, i)),
                                                      "custom_id"), ==, expected);
    }
}

static void
test_batch_cancel (void)
{
  static const char * const tags[] = { "" };
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"batch\": {\"processing_time\": 10}}");
  g_autoptr(SoupSession) session = session_new ();
  g_autofree char *body = batch_body (20, tags, 1, FALSE);
  g_autoptr(Call) create = batch_call (session, sim, SOUP_METHOD_POST, "/v1/messages/batches", body);
  g_autoptr(JsonNode) created = batch_object (create);
  g_autofree char *id = g_strdup (json_object_get_string_member (json_node_get_object (created), "id"));
  g_autofree char *path = g_strdup_printf ("/v1/messages/batches/%s", id);
  g_autofree char *cancel_path = g_strdup_printf ("/v1/messages/batches/%s/cancel", id);
  g_autofree char *results_path = g_strdup_printf ("/v1/messages/batches/%s/results", id);
  g_autoptr(JsonNode) canceling = NULL;
  g_autoptr(JsonNode) ended = NULL;
  g_autoptr(JsonNode) again = NULL;
  g_autoptr(Call) early = NULL;
  g_autoptr(Call) cancel = NULL;
  g_autoptr(Call) cancel_again = NULL;
  g_autoptr(Call) results = NULL;
  g_autoptr(GPtrArray) lines = NULL;
  guint n_polls = 0;
  guint n_canceled = 0;
  guint n_succeeded = 0;

  /* Wait for the first item (done after half a second of ten). */
  for (;;)
    {
      g_autoptr(Call) poll = batch_call (session, sim, SOUP_METHOD_GET, path, NULL);
      g_autoptr(JsonNode) batch = batch_object (poll);

      if (batch_count (batch, "succeeded") > 0)
        break;
      g_assert_cmpstr (batch_status (batch), ==, "in_progress");
      fj_test_run_for (0.05);
    }

  /* No results before the batch has ended. */
  early = batch_call (session, sim, SOUP_METHOD_GET, results_path, NULL);
  {
    g_autoptr(JsonNode) root = NULL;

    assert_error_body (early, 400, "invalid_request_error", &root);
  }

  cancel = batch_call (session, sim, SOUP_METHOD_POST, cancel_path, NULL);
  canceling = batch_object (cancel);
  g_assert_cmpstr (batch_status (canceling), ==, "canceling");
  g_assert_nonnull (json_object_get_string_member (json_node_get_object (canceling), "cancel_initiated_at"));

  ended = batch_poll_until_ended (session, sim, id, &n_polls);
  g_assert_cmpint (batch_count (ended, "canceled"), >, 0);
  g_assert_cmpint (batch_count (ended, "succeeded"), >, 0);
  g_assert_cmpint (batch_count (ended, "canceled") + batch_count (ended, "succeeded"), ==, 20);
  g_assert_nonnull (json_object_get_string_member (json_node_get_object (ended), "ended_at"));

  /* Cancelling an ended batch returns it as it is. */
  cancel_again = batch_call (session, sim, SOUP_METHOD_POST, cancel_path, NULL);
  again = batch_object (cancel_again);
  g_assert_cmpstr (batch_status (again), ==, "ended");
  g_assert_cmpint (batch_count (again, "canceled"), ==, batch_count (ended, "canceled"));

  results = batch_call (session, sim, SOUP_METHOD_GET, results_path, NULL);
  lines = batch_result_lines (results);
  g_assert_cmpuint (lines->len, ==, 20);
  for (guint i = 0; i < lines->len; i++)
    {
      JsonObject *result = json_object_get_object_member (json_node_get_object (g_ptr_array_index (lines, i)),
                                                          "result");
      const char *type = json_object_get_string_member (result, "type");

      if (g_str_equal (type, "canceled"))
        n_canceled++;
      else if (g_str_equal (type, "succeeded"))
        n_succeeded++;
    }
  g_assert_cmpint (n_canceled, ==, batch_count (ended, "canceled"));
  g_assert_cmpint (n_succeeded, ==, batch_count (ended, "succeeded"));
}

static void
assert_batch_error (SoupSession *session,
                    FjSimulator *sim,
                    const char  *method,
                    const char  *path,
                    const char  *body,
                    guint        status,
                    const char  *type,
                    const char  *expected_part)
{
  g_autoptr(Call) call = batch_call (session, sim, method, path, body);
  g_autoptr(JsonNode) root = NULL;
  const char *message = assert_error_body (call, status, type, &root);

  if (expected_part != NULL && strstr (message, expected_part) == NULL)
    g_error ("error message \"%s\" does not contain \"%s\"", message, expected_part);
}

static void
test_batch_errors (void)
{
  static const char * const tags[] = { "" };
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"batch\": {\"processing_time\": 60,"
                                                      " \"max_requests\": 3, \"max_bytes\": 4000}}");
  g_autoptr(FjSimulator) fast = fj_test_simulator_new ("{\"latency\": 0, \"batch\": {\"processing_time\": 0}}");
  g_autoptr(SoupSession) session = session_new ();
  g_autofree char *four = batch_body (4, tags, 1, FALSE);
  g_autofree char *two = batch_body (2, tags, 1, FALSE);
  g_autoptr(GString) big = g_string_new ("{\"requests\": [{\"custom_id\": \"a\", \"params\": {\"pad\": \"");
  const char *params = "\"params\": {\"model\": \"m\", \"max_tokens\": 5, "
                       "\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}";
  g_autofree char *duplicate = g_strdup_printf ("{\"requests\": [{\"custom_id\": \"a\", %s},"
                                                " {\"custom_id\": \"b\", %s}, {\"custom_id\": \"a\", %s}]}",
                                                params, params, params);
  g_autofree char *bad_id = g_strdup_printf ("{\"requests\": [{\"custom_id\": \"ok\", %s},"
                                             " {\"custom_id\": \"not ok!\", %s}]}", params, params);
  g_autofree char *long_id = g_strdup_printf ("{\"requests\": [{\"custom_id\": \"%0*d\", %s}]}", 65, 0, params);
  g_autoptr(Call) create = NULL;
  g_autoptr(JsonNode) created = NULL;
  g_autoptr(Call) list = NULL;
  g_autoptr(JsonNode) list_root = NULL;
  g_autoptr(Call) done_create = NULL;
  g_autoptr(JsonNode) done = NULL;
  g_autoptr(Call) deleted = NULL;
  g_autoptr(Call) no_key = NULL;
  g_autofree char *path = NULL;
  g_autofree char *done_path = NULL;
  JsonArray *data;

  for (guint i = 0; i < 5000; i++)
    g_string_append_c (big, 'x');
  g_string_append (big, "\"}}]}");

  assert_batch_error (session, sim, SOUP_METHOD_POST, "/v1/messages/batches", duplicate,
                      400, "invalid_request_error", "requests.2.custom_id: duplicate");
  assert_batch_error (session, sim, SOUP_METHOD_POST, "/v1/messages/batches", bad_id,
                      400, "invalid_request_error", "requests.1.custom_id");
  assert_batch_error (session, sim, SOUP_METHOD_POST, "/v1/messages/batches", long_id,
                      400, "invalid_request_error", "requests.0.custom_id");
  assert_batch_error (session, sim, SOUP_METHOD_POST, "/v1/messages/batches", four,
                      400, "invalid_request_error", "requests.3");
  assert_batch_error (session, sim, SOUP_METHOD_POST, "/v1/messages/batches",
                      "{\"requests\": [{\"custom_id\": \"a\", \"params\": []}]}",
                      400, "invalid_request_error", "requests.0.params");
  assert_batch_error (session, sim, SOUP_METHOD_POST, "/v1/messages/batches", "{\"requests\": []}",
                      400, "invalid_request_error", "requests");
  assert_batch_error (session, sim, SOUP_METHOD_POST, "/v1/messages/batches", "not json",
                      400, "invalid_request_error", NULL);
  assert_batch_error (session, sim, SOUP_METHOD_POST, "/v1/messages/batches", big->str,
                      413, "request_too_large", NULL);
  assert_batch_error (session, sim, SOUP_METHOD_GET, "/v1/messages/batches/msgbatch_nope", NULL,
                      404, "not_found_error", "msgbatch_nope");
  assert_batch_error (session, sim, SOUP_METHOD_GET, "/v1/messages/batches/msgbatch_nope/results", NULL,
                      404, "not_found_error", NULL);
  assert_batch_error (session, sim, SOUP_METHOD_POST, "/v1/messages/batches/msgbatch_nope/cancel", NULL,
                      404, "not_found_error", NULL);
  assert_batch_error (session, sim, SOUP_METHOD_DELETE, "/v1/messages/batches/msgbatch_nope", NULL,
                      404, "not_found_error", NULL);

  no_key = call_run (session, message_new (sim, SOUP_METHOD_GET, "/v1/messages/batches", AUTH_NONE, NULL,
                                           "2023-06-01", NULL));
  g_assert_cmpuint (no_key->status, ==, 401);

  /* A valid batch: results and delete wait for its end. */
  create = batch_call (session, sim, SOUP_METHOD_POST, "/v1/messages/batches", two);
  created = batch_object (create);
  path = g_strdup_printf ("/v1/messages/batches/%s", json_object_get_string_member (json_node_get_object (created),
                                                                                       "id"));
  {
    g_autofree char *results_path = g_strconcat (path, "/results", NULL);

    assert_batch_error (session, sim, SOUP_METHOD_GET, results_path, NULL, 400, "invalid_request_error", NULL);
    assert_batch_error (session, sim, SOUP_METHOD_DELETE, path, NULL, 400, "invalid_request_error", NULL);
  }

  list = batch_call (session, sim, SOUP_METHOD_GET, "/v1/messages/batches", NULL);
  g_assert_cmpuint (list->status, ==, 200);
  list_root = parse_json (list->text);
  data = json_object_get_array_member (json_node_get_object (list_root), "data");
  g_assert_cmpuint (json_array_get_length (data), ==, 1);
  g_assert_false (json_object_get_boolean_member (json_node_get_object (list_root), "has_more"));

  /* An ended batch can be deleted, and is then gone. */
  done_create = batch_call (session, fast, SOUP_METHOD_POST, "/v1/messages/batches", two);
  done = batch_object (done_create);
  g_assert_cmpstr (batch_status (done), ==, "ended");
  done_path = g_strdup_printf ("/v1/messages/batches/%s",
                               json_object_get_string_member (json_node_get_object (done), "id"));
  deleted = batch_call (session, fast, SOUP_METHOD_DELETE, done_path, NULL);
  g_assert_cmpuint (deleted->status, ==, 200);
  {
    g_autoptr(JsonNode) root = parse_json (deleted->text);

    g_assert_cmpstr (json_object_get_string_member (json_node_get_object (root), "type"), ==,
                     "message_batch_deleted");
  }
  assert_batch_error (session, fast, SOUP_METHOD_GET, done_path, NULL, 404, "not_found_error", NULL);
}

static void
test_batch_cache (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"batch\": {\"processing_time\": 0,"
                                                      " \"shuffle\": false}}");
  g_autoptr(SoupSession) session = session_new ();
  g_autofree char *params = cache_body ("claude-sonnet-5", 1500, NULL, QUESTION, FALSE);
  g_autofree char *body = g_strdup_printf ("{\"requests\": [{\"custom_id\": \"first\", \"params\": %s},"
                                           " {\"custom_id\": \"second\", \"params\": %s}]}", params, params);
  g_autoptr(Call) create = batch_call (session, sim, SOUP_METHOD_POST, "/v1/messages/batches", body);
  g_autoptr(JsonNode) created = batch_object (create);
  const char *id = json_object_get_string_member (json_node_get_object (created), "id");
  g_autofree char *results_path = g_strdup_printf ("/v1/messages/batches/%s/results", id);
  g_autoptr(Call) results = batch_call (session, sim, SOUP_METHOD_GET, results_path, NULL);
  g_autoptr(GPtrArray) lines = batch_result_lines (results);
  JsonObject *usage[2];

  g_assert_cmpuint (lines->len, ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      JsonObject *result = json_object_get_object_member (json_node_get_object (g_ptr_array_index (lines, i)),
                                                          "result");

      g_assert_cmpstr (json_object_get_string_member (result, "type"), ==, "succeeded");
      usage[i] = json_object_get_object_member (json_object_get_object_member (result, "message"), "usage");
    }
  /* Caching applies to batch items too. */
  g_assert_cmpint (json_object_get_int_member (usage[0], "cache_creation_input_tokens"), >=, 1024);
  g_assert_cmpint (json_object_get_int_member (usage[0], "cache_read_input_tokens"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (usage[1], "cache_read_input_tokens"), ==,
                   json_object_get_int_member (usage[0], "cache_creation_input_tokens"));
}

static void
test_batch_list_order (void)
{
  static const char * const tags[] = { "" };
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0, \"batch\": {\"processing_time\": 0}}");
  g_autoptr(SoupSession) session = session_new ();
  g_autofree char *body = batch_body (1, tags, 1, FALSE);
  g_autoptr(Call) first = batch_call (session, sim, SOUP_METHOD_POST, "/v1/messages/batches", body);
  g_autoptr(Call) second = batch_call (session, sim, SOUP_METHOD_POST, "/v1/messages/batches", body);
  g_autoptr(JsonNode) a = batch_object (first);
  g_autoptr(JsonNode) b = batch_object (second);
  g_autoptr(Call) list = batch_call (session, sim, SOUP_METHOD_GET, "/v1/messages/batches", NULL);
  g_autoptr(JsonNode) root = parse_json (list->text);
  JsonObject *object = json_node_get_object (root);
  JsonArray *data = json_object_get_array_member (object, "data");
  const char *a_id = json_object_get_string_member (json_node_get_object (a), "id");
  const char *b_id = json_object_get_string_member (json_node_get_object (b), "id");

  g_assert_cmpstr (a_id, !=, b_id);
  g_assert_cmpuint (json_array_get_length (data), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (data, 0), "id"), ==, b_id);
  g_assert_cmpstr (json_object_get_string_member (object, "first_id"), ==, b_id);
  g_assert_cmpstr (json_object_get_string_member (object, "last_id"), ==, a_id);
}

int
main (int   argc,
      char *argv[])
{
  fj_test_init (&argc, &argv);

  g_test_add_func ("/Forkjoin/Simulator/json-reply", test_json_reply);
  g_test_add_func ("/Forkjoin/Simulator/max-tokens", test_max_tokens);
  g_test_add_func ("/Forkjoin/Simulator/stream-shape", test_stream_shape);
  g_test_add_func ("/Forkjoin/Simulator/credentials", test_credentials);
  g_test_add_func ("/Forkjoin/Simulator/any-key", test_any_key);
  g_test_add_func ("/Forkjoin/Simulator/bad-requests", test_bad_requests);
  g_test_add_func ("/Forkjoin/Simulator/agents", test_agents);
  g_test_add_func ("/Forkjoin/Simulator/system-blocks", test_system_blocks);
  g_test_add_func ("/Forkjoin/Simulator/role", test_role);
  g_test_add_func ("/Forkjoin/Simulator/determinism", test_determinism);
  g_test_add_func ("/Forkjoin/Simulator/failures-by-attempt", test_failures_by_attempt);
  g_test_add_func ("/Forkjoin/Simulator/failures-by-probability", test_failures_by_probability);
  g_test_add_func ("/Forkjoin/Simulator/rate-limit", test_rate_limit);
  g_test_add_func ("/Forkjoin/Simulator/rate-limit-tokens", test_rate_limit_tokens);
  g_test_add_func ("/Forkjoin/Simulator/fault-drop", test_fault_drop);
  g_test_add_func ("/Forkjoin/Simulator/fault-error-event", test_fault_error_event);
  g_test_add_func ("/Forkjoin/Simulator/fault-malformed", test_fault_malformed);
  g_test_add_func ("/Forkjoin/Simulator/fault-hang", test_fault_hang);
  g_test_add_func ("/Forkjoin/Simulator/fault-trickle", test_fault_trickle);
  g_test_add_func ("/Forkjoin/Simulator/disconnect-during-latency", test_disconnect_during_latency);
  g_test_add_func ("/Forkjoin/Simulator/pacing", test_pacing);
  g_test_add_func ("/Forkjoin/Simulator/fast-pacing", test_fast_pacing);
  g_test_add_func ("/Forkjoin/Simulator/json-pacing", test_json_pacing);
  g_test_add_func ("/Forkjoin/Simulator/tool-use", test_tool_use);
  g_test_add_func ("/Forkjoin/Simulator/refusal", test_refusal);
  g_test_add_func ("/Forkjoin/Simulator/stats-endpoint", test_stats_endpoint);
  g_test_add_func ("/Forkjoin/Simulator/connections", test_connections);
  g_test_add_func ("/Forkjoin/Simulator/burst", test_burst);
  g_test_add_func ("/Forkjoin/Simulator/stop", test_stop);
  g_test_add_func ("/Forkjoin/Simulator/thread", test_thread);
  g_test_add_func ("/Forkjoin/Simulator/properties", test_properties);
  g_test_add_func ("/Forkjoin/Simulator/scenario-errors", test_scenario_errors);
  g_test_add_func ("/Forkjoin/Simulator/scenario-file-errors", test_scenario_file_errors);
  g_test_add_func ("/Forkjoin/Simulator/scenario-files", test_scenario_files);
  g_test_add_func ("/Forkjoin/Simulator/research-team-scenario", test_research_team_scenario);
  g_test_add_func ("/Forkjoin/Simulator/idle-connection-closed", test_idle_connection_closed);
  g_test_add_func ("/Forkjoin/Simulator/tls", test_tls);
  g_test_add_func ("/Forkjoin/Simulator/openai-json-reply", test_openai_json_reply);
  g_test_add_func ("/Forkjoin/Simulator/openai-stream", test_openai_stream);
  g_test_add_func ("/Forkjoin/Simulator/openai-tool-use", test_openai_tool_use);
  g_test_add_func ("/Forkjoin/Simulator/openai-agents", test_openai_agents);
  g_test_add_func ("/Forkjoin/Simulator/openai-rate-limit", test_openai_rate_limit);
  g_test_add_func ("/Forkjoin/Simulator/openai-failure-status", test_openai_failure_status);
  g_test_add_func ("/Forkjoin/Simulator/openai-fault-drop", test_openai_fault_drop);
  g_test_add_func ("/Forkjoin/Simulator/openai-fault-malformed", test_openai_fault_malformed);
  g_test_add_func ("/Forkjoin/Simulator/openai-fault-error-event", test_openai_fault_error_event);
  g_test_add_func ("/Forkjoin/Simulator/openai-fault-trickle", test_openai_fault_trickle);
  g_test_add_func ("/Forkjoin/Simulator/openai-pacing", test_openai_pacing);
  g_test_add_func ("/Forkjoin/Simulator/openai-credentials", test_openai_credentials);
  g_test_add_func ("/Forkjoin/Simulator/openai-stats", test_openai_stats);
  g_test_add_func ("/Forkjoin/Simulator/cache-read-after-start", test_cache_read_after_start);
  g_test_add_func ("/Forkjoin/Simulator/cache-parallel-writes", test_cache_parallel_writes);
  g_test_add_func ("/Forkjoin/Simulator/cache-minimum", test_cache_minimum);
  g_test_add_func ("/Forkjoin/Simulator/cache-ttl", test_cache_ttl);
  g_test_add_func ("/Forkjoin/Simulator/cache-tools", test_cache_tools);
  g_test_add_func ("/Forkjoin/Simulator/cache-top-level", test_cache_top_level);
  g_test_add_func ("/Forkjoin/Simulator/batch-mixed", test_batch_mixed);
  g_test_add_func ("/Forkjoin/Simulator/batch-unshuffled", test_batch_unshuffled);
  g_test_add_func ("/Forkjoin/Simulator/batch-cancel", test_batch_cancel);
  g_test_add_func ("/Forkjoin/Simulator/batch-errors", test_batch_errors);
  g_test_add_func ("/Forkjoin/Simulator/batch-list-order", test_batch_list_order);
  g_test_add_func ("/Forkjoin/Simulator/batch-cache", test_batch_cache);
  g_test_add_func ("/Forkjoin/Simulator/arrival-time", test_arrival_time);

  return g_test_run ();
}
