/* test-client.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "fj-body-stream-private.h"
#include "fj-message-private.h"
#include "fj-test-utils.h"

static FjMessage *
new_message (gboolean    stream,
             const char *system,
             const char *user)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "model");
  json_builder_add_string_value (builder, "claude-haiku-5-5");
  json_builder_set_member_name (builder, "max_tokens");
  json_builder_add_int_value (builder, 1024);
  json_builder_set_member_name (builder, "stream");
  json_builder_add_boolean_value (builder, stream);
  json_builder_set_member_name (builder, "system");
  json_builder_add_string_value (builder, system);
  json_builder_set_member_name (builder, "messages");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "role");
  json_builder_add_string_value (builder, "user");
  json_builder_set_member_name (builder, "content");
  json_builder_add_string_value (builder, user);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  return fj_message_new (json_node_get_object (root));
}

static JsonArray *
stats_log (FjSimulator *sim)
{
  g_autoptr(JsonNode) stats = fj_simulator_get_stats (sim);
  JsonObject *object = json_node_get_object (stats);

  return json_array_ref (json_object_get_array_member (object, "log"));
}

static void
test_json_reply (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"output_tokens\": 12}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjMessage) message = new_message (FALSE, "You are a market analyst.", "How is ACME doing?");
  g_autoptr(GError) error = NULL;
  FjUsage *usage;

  error = fj_test_send_and_wait (client, message, NULL, 10);
  g_assert_no_error (error);

  g_assert_cmpuint (fj_message_get_status_code (message), ==, 200);
  g_assert_cmpuint (fj_message_get_attempts (message), ==, 1);
  g_assert_cmpstr (fj_message_get_stop_reason (message), ==, "end_turn");
  g_assert_true (g_str_has_prefix (fj_message_get_id (message), "msg_"));
  g_assert_true (g_str_has_prefix (fj_message_get_request_id (message), "req_"));
  g_assert_nonnull (strstr (fj_message_get_text (message), "market analyst"));
  usage = fj_message_get_usage (message);
  g_assert_cmpint (usage->output_tokens, ==, 12);
  g_assert_cmpint (usage->input_tokens, >, 0);
}

static void
on_delta_count (FjMessage  *message,
                const char *text,
                gpointer    user_data)
{
  GString *collected = user_data;

  g_string_append (collected, text);
}

static void
test_sse_reply (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"output_tokens\": 30}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjMessage) message = new_message (TRUE, "You are a technical analyst.", "Rate the stack");
  g_autoptr(GString) collected = g_string_new (NULL);
  g_autoptr(GError) error = NULL;

  g_signal_connect (message, "text-delta", G_CALLBACK (on_delta_count), collected);
  error = fj_test_send_and_wait (client, message, NULL, 10);
  g_assert_no_error (error);

  g_assert_cmpstr (fj_message_get_stop_reason (message), ==, "end_turn");
  g_assert_cmpint (fj_message_get_usage (message)->output_tokens, ==, 30);
  g_assert_cmpstr (collected->str, ==, fj_message_get_text (message));
  g_assert_nonnull (strstr (collected->str, "technical analyst"));
}

typedef struct
{
  gint64 first_delta;
  guint  n_deltas;
} DeltaTimes;

static void
on_delta_time (FjMessage  *message,
               const char *text,
               gpointer    user_data)
{
  DeltaTimes *times = user_data;

  if (times->n_deltas++ == 0)
    times->first_delta = g_get_monotonic_time ();
}

/* The first delta reaches the caller while the server is still sending. */
static void
test_streaming_is_real (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"latency\": 0, \"output_tokens\": 20, \"tokens_per_second\": 10}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjMessage) message = new_message (TRUE, "You are a poet.", "Write");
  g_autoptr(GError) error = NULL;
  DeltaTimes times = { 0 };
  gint64 end;

  g_signal_connect (message, "text-delta", G_CALLBACK (on_delta_time), &times);
  error = fj_test_send_and_wait (client, message, NULL, 15);
  end = g_get_monotonic_time ();
  g_assert_no_error (error);

  g_assert_cmpuint (times.n_deltas, >=, 10);
  g_assert_cmpint (end - times.first_delta, >, 1.5 * G_USEC_PER_SEC);
}

static void
on_retrying (FjMessage    *message,
             guint         attempt,
             double        delay,
             const GError *reason,
             gpointer      user_data)
{
  guint *n_retrying = user_data;

  (*n_retrying)++;
  g_assert_cmpuint (attempt, ==, *n_retrying + 1);
  g_assert_cmpfloat (delay, >=, 1.0);
  g_assert_error (reason, FJ_ERROR, FJ_ERROR_RATE_LIMITED);
}

static void
test_retry_after_429 (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"latency\": 0, \"failures\": [{\"status\": 429, \"attempts\": 1, \"retry_after\": 1}]}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjMessage) message = new_message (TRUE, "You are a market analyst.", "Q3?");
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) log = NULL;
  double first, second;
  guint n_retrying = 0;

  g_signal_connect (message, "retrying", G_CALLBACK (on_retrying), &n_retrying);

  error = fj_test_send_and_wait (client, message, NULL, 15);
  g_assert_no_error (error);
  g_assert_cmpuint (fj_message_get_attempts (message), ==, 2);
  g_assert_cmpuint (n_retrying, ==, 1);

  log = stats_log (sim);
  g_assert_cmpuint (json_array_get_length (log), ==, 2);
  first = json_object_get_double_member (json_array_get_object_element (log, 0), "arrival_ms");
  second = json_object_get_double_member (json_array_get_object_element (log, 1), "arrival_ms");
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (log, 0), "status"), ==, 429);
  g_assert_cmpfloat (second - first, >=, 1000.0);
}

static void
test_400_not_retried (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"latency\": 0, \"failures\": [{\"status\": 400}]}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjMessage) message = new_message (FALSE, "You are a market analyst.", "Q3?");
  g_autoptr(GError) error = NULL;

  error = fj_test_send_and_wait (client, message, NULL, 10);
  g_assert_error (error, FJ_ERROR, FJ_ERROR_INVALID_REQUEST);
  g_assert_nonnull (strstr (error->message, "HTTP 400"));
  g_assert_nonnull (strstr (error->message, "invalid_request_error"));
  g_assert_nonnull (strstr (error->message, "req_"));
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, 1);
}

static void
test_400_should_retry (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"latency\": 0, \"failures\": [{\"status\": 400, \"attempts\": 1, \"should_retry\": true}]}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjMessage) message = new_message (FALSE, "You are a market analyst.", "Q3?");
  g_autoptr(GError) error = NULL;

  error = fj_test_send_and_wait (client, message, NULL, 10);
  g_assert_no_error (error);
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, 2);
  g_assert_cmpuint (fj_message_get_attempts (message), ==, 2);
}

static void
test_500_exhausts_retries (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"latency\": 0, \"failures\": [{\"status\": 529}]}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjMessage) message = new_message (FALSE, "You are a market analyst.", "Q3?");
  g_autoptr(GError) error = NULL;

  fj_client_set_max_retries (client, 2);
  error = fj_test_send_and_wait (client, message, NULL, 15);
  g_assert_error (error, FJ_ERROR, FJ_ERROR_OVERLOADED);
  g_assert_nonnull (strstr (error->message, "after 3 attempts"));
  g_assert_nonnull (strstr (error->message, "HTTP 529 overloaded_error"));
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, 3);
}

static void
test_retry_after_past_deadline (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"latency\": 0, \"failures\": [{\"status\": 429, \"retry_after\": 30}]}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjMessage) message = new_message (FALSE, "You are a market analyst.", "Q3?");
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  /* The agent has 5 s left; the server asks for 30: end now, saying so. */
  _fj_message_set_deadline (message, start + 5 * G_USEC_PER_SEC);
  error = fj_test_send_and_wait (client, message, NULL, 10);
  g_assert_error (error, FJ_ERROR, FJ_ERROR_RATE_LIMITED);
  g_assert_nonnull (strstr (error->message, "30"));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 4 * G_USEC_PER_SEC * fj_test_time_scale ());
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, 1);
}

static void
test_401_hides_key (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (NULL);
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjMessage) message = new_message (FALSE, "You are a market analyst.", "Q3?");
  g_autoptr(GError) error = NULL;

  fj_client_set_api_key (client, "fj-wrong-key-0000");
  error = fj_test_send_and_wait (client, message, NULL, 10);
  g_assert_error (error, FJ_ERROR, FJ_ERROR_AUTHENTICATION);
  g_assert_nonnull (strstr (error->message, "HTTP 401"));
  g_assert_null (strstr (error->message, "fj-wrong-key-0000"));
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, 1);
}

static void
test_no_credentials (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (NULL);
  g_autofree char *url = fj_simulator_dup_base_url (sim);
  g_autoptr(FjClient) client = fj_client_new_for_base_url (url);
  g_autoptr(FjMessage) message = new_message (FALSE, "You are a market analyst.", "Q3?");
  g_autoptr(GError) error = NULL;

  g_assert_false (fj_client_get_has_credentials (client));
  error = fj_test_send_and_wait (client, message, NULL, 10);
  g_assert_error (error, FJ_ERROR, FJ_ERROR_AUTHENTICATION);
  g_assert_nonnull (strstr (error->message, "ANTHROPIC_API_KEY"));
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, 0);
}

/* Plain HTTP off loopback is refused before anything is sent (the
 * address is never contacted: 192.0.2.0/24 is TEST-NET-1), unless the
 * client allows it; loopback and https are fine either way. */
static void
test_insecure_http (void)
{
  static const struct { const char *url; gboolean insecure; } cases[] = {
    { "http://127.0.0.1:8080", FALSE },
    { "http://127.1.2.3", FALSE },
    { "http://[::1]:11434/v1", FALSE },
    { "http://localhost:11434", FALSE },
    { "https://api.anthropic.com", FALSE },
    { "https://192.0.2.1", FALSE },
    { "http://192.0.2.1:8080", TRUE },
    { "http://llm.example.org", TRUE },
  };
  g_autoptr(FjMessage) message = new_message (FALSE, "You are a market analyst.", "Q3?");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(FjClient) client = fj_client_new_for_base_url (cases[i].url);
      g_autoptr(GError) error = NULL;

      g_test_message ("%s", cases[i].url);
      fj_client_set_api_key (client, FJ_TEST_API_KEY);
      g_assert_false (fj_client_get_allow_insecure_http (client));
      g_assert_cmpint (fj_client_is_insecure (client), ==, cases[i].insecure);
      g_assert_cmpint (fj_client_check_base_url (client, &error), ==, !cases[i].insecure);
      if (!cases[i].insecure)
        {
          g_assert_no_error (error);
          continue;
        }

      g_assert_error (error, FJ_ERROR, FJ_ERROR_INVALID_REQUEST);
      g_assert_nonnull (strstr (error->message, "plain-HTTP"));
      g_assert_nonnull (strstr (error->message, "allow_insecure_http"));
      g_clear_error (&error);

      /* Sending fails the same way at once, with no attempt made. */
      error = fj_test_send_and_wait (client, message, NULL, 10);
      g_assert_error (error, FJ_ERROR, FJ_ERROR_INVALID_REQUEST);
      g_clear_error (&error);

      g_object_set (client, "allow-insecure-http", TRUE, NULL);
      g_assert_true (fj_client_get_allow_insecure_http (client));
      g_assert_true (fj_client_is_insecure (client));
      g_assert_true (fj_client_check_base_url (client, &error));
      g_assert_no_error (error);
    }

  /* A user:password@ part is not repeated in the error. */
  {
    g_autoptr(FjClient) client = fj_client_new_for_base_url ("http://user:s3cret@192.0.2.1");
    g_autoptr(GError) error = NULL;

    g_assert_false (fj_client_check_base_url (client, &error));
    g_assert_null (strstr (error->message, "s3cret"));
  }
}

static void
test_bearer_token (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (NULL);
  g_autofree char *url = fj_simulator_dup_base_url (sim);
  g_autoptr(FjClient) client = fj_client_new_for_base_url (url);
  g_autoptr(FjMessage) message = new_message (FALSE, "You are a market analyst.", "Q3?");
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) log = NULL;
  JsonObject *entry;

  fj_client_set_auth_token (client, FJ_TEST_API_KEY);
  fj_client_set_api_version (client, "2026-10-21");
  error = fj_test_send_and_wait (client, message, NULL, 10);
  g_assert_no_error (error);

  log = stats_log (sim);
  entry = json_array_get_object_element (log, 0);
  g_assert_cmpstr (json_object_get_string_member (entry, "auth"), ==, "bearer");
  g_assert_cmpstr (json_object_get_string_member (entry, "version"), ==, "2026-10-21");
}

static void
test_env_defaults (void)
{
  g_autoptr(FjClient) client = NULL;

  g_setenv ("ANTHROPIC_BASE_URL", "http://127.0.0.1:9/", TRUE);
  g_setenv ("ANTHROPIC_API_KEY", FJ_TEST_API_KEY, TRUE);
  client = fj_client_new ();
  g_unsetenv ("ANTHROPIC_BASE_URL");
  g_unsetenv ("ANTHROPIC_API_KEY");

  g_assert_cmpstr (fj_client_get_base_url (client), ==, "http://127.0.0.1:9");
  g_assert_true (fj_client_get_has_credentials (client));
  g_assert_cmpstr (fj_client_get_api_version (client), ==, "2023-06-01");

  /* The key is write-only: no property hands it out. */
  g_assert_true (g_object_class_find_property (G_OBJECT_GET_CLASS (client), "api-key")->flags & G_PARAM_WRITABLE);
  g_assert_false (g_object_class_find_property (G_OBJECT_GET_CLASS (client), "api-key")->flags & G_PARAM_READABLE);
  g_assert_false (g_object_class_find_property (G_OBJECT_GET_CLASS (client), "auth-token")->flags & G_PARAM_READABLE);
}

static void
test_dropped_stream (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"latency\": 0, \"failures\": [{\"fault\": \"drop\", \"after_tokens\": 5}]}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjMessage) message = new_message (TRUE, "You are a market analyst.", "Q3?");
  g_autoptr(GError) error = NULL;

  error = fj_test_send_and_wait (client, message, NULL, 10);
  g_assert_error (error, FJ_ERROR, FJ_ERROR_CONNECTION);
  g_assert_cmpstr (fj_message_get_text (message), !=, "");
  g_assert_nonnull (strstr (fj_message_get_text (message), "market analyst"));
  /* Body bytes had arrived: no retry. */
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, 1);
}

static void
test_error_event (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"latency\": 0, \"failures\": [{\"fault\": \"error_event\", \"after_tokens\": 5, \"error_type\": \"overloaded_error\"}]}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjMessage) message = new_message (TRUE, "You are a market analyst.", "Q3?");
  g_autoptr(GError) error = NULL;

  error = fj_test_send_and_wait (client, message, NULL, 10);
  g_assert_error (error, FJ_ERROR, FJ_ERROR_OVERLOADED);
  g_assert_nonnull (strstr (fj_message_get_text (message), "market analyst"));
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, 1);
}

static void
test_malformed (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"latency\": 0, \"failures\": [{\"fault\": \"malformed_json\"}]}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);

  for (guint stream = 0; stream < 2; stream++)
    {
      g_autoptr(FjMessage) message = new_message (stream, "You are a market analyst.", "Q3?");
      g_autoptr(GError) error = fj_test_send_and_wait (client, message, NULL, 10);

      g_assert_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL);
    }
}

static void
test_idle_timeout (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"latency\": 0, \"failures\": [{\"fault\": \"hang\"}]}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjMessage) message = new_message (TRUE, "You are a market analyst.", "Q3?");
  g_autoptr(GError) error = NULL;

  fj_client_set_idle_timeout (client, 0.3);
  fj_client_set_max_retries (client, 1);
  error = fj_test_send_and_wait (client, message, NULL, 15);
  g_assert_error (error, FJ_ERROR, FJ_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "idle"));
  /* Nothing of the body had come: the timeout was retried once. */
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, 2);
}

static gboolean
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static void
test_cancel_in_flight (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 30}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjMessage) message = new_message (TRUE, "You are a market analyst.", "Q3?");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  g_timeout_add (300, cancel_cb, cancellable);
  error = fj_test_send_and_wait (client, message, cancellable, 10);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC * fj_test_time_scale ());

  /* The simulator notices the closed connection. */
  for (guint i = 0; i < 50 && fj_simulator_get_n_disconnects (sim) == 0; i++)
    fj_test_run_for (0.1);
  g_assert_cmpuint (fj_simulator_get_n_disconnects (sim), ==, 1);
  g_assert_cmpuint (fj_simulator_get_n_in_flight (sim), ==, 0);
}

typedef struct
{
  FjClient *client;
  guint     to_start;
  guint     done;
  guint     failed;
} Fanout;

static void start_one (Fanout *fanout);

static void
fanout_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Fanout *fanout = user_data;
  g_autoptr(GError) error = NULL;

  if (!fj_client_send_finish (FJ_CLIENT (source), result, &error))
    {
      g_printerr ("request failed: %s\n", error->message);
      fanout->failed++;
    }
  fanout->done++;
  if (fanout->to_start > 0)
    start_one (fanout);
}

static void
start_one (Fanout *fanout)
{
  g_autofree char *user = g_strdup_printf ("Question %u", fanout->to_start);
  g_autoptr(FjMessage) message = new_message (FALSE, "You are a tester.", user);

  fanout->to_start--;
  fj_client_send_async (fanout->client, message, NULL, fanout_done_cb, fanout);
}

static gboolean
fanout_finished (Fanout *fanout)
{
  return fanout->done == 1000;
}

/* 1,000 POSTs at concurrency 100 reuse about 100 connections. */
static void
test_connection_reuse (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"latency\": 0.02, \"output_tokens\": 5}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  Fanout fanout = { client, 1000, 0, 0 };
  gint64 start = g_get_monotonic_time ();

  for (guint i = 0; i < 100; i++)
    start_one (&fanout);

  while (!fanout_finished (&fanout) && g_get_monotonic_time () - start < 120 * G_USEC_PER_SEC * fj_test_time_scale ())
    g_main_context_iteration (NULL, TRUE);

  g_assert_cmpuint (fanout.done, ==, 1000);
  g_assert_cmpuint (fanout.failed, ==, 0);
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, 1000);
  g_assert_cmpuint (fj_simulator_get_max_in_flight (sim), <=, 100);
  g_test_message ("connections: %u, sessions: %u, max in flight: %u",
                  fj_simulator_get_n_connections (sim), fj_client_get_n_sessions (client),
                  fj_simulator_get_max_in_flight (sim));
  g_assert_cmpuint (fj_simulator_get_n_connections (sim), >=, 50);
  g_assert_cmpuint (fj_simulator_get_n_connections (sim), <=, 130);
  g_assert_cmpuint (fj_client_get_n_sessions (client), >=, 4);
}

typedef struct
{
  char *dir;
  char *cert;
  char *key;
} TlsFiles;

static gboolean
make_certificate (TlsFiles *files)
{
  g_autoptr(GError) error = NULL;
  int status = 0;
  const char *argv[] = {
    "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
    "-keyout", NULL, "-out", NULL, "-days", "2", "-subj", "/CN=127.0.0.1",
    "-addext", "subjectAltName=IP:127.0.0.1", NULL
  };

  files->dir = g_dir_make_tmp ("fj-tls-XXXXXX", &error);
  g_assert_no_error (error);
  files->cert = g_build_filename (files->dir, "cert.pem", NULL);
  files->key = g_build_filename (files->dir, "key.pem", NULL);
  argv[7] = files->key;
  argv[9] = files->cert;

  if (!g_spawn_sync (NULL, (char **) argv, NULL,
                     G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                     NULL, NULL, NULL, NULL, &status, &error))
    {
      g_test_message ("cannot run openssl: %s", error->message);
      return FALSE;
    }
  return g_spawn_check_wait_status (status, NULL);
}

static void
tls_files_clear (TlsFiles *files)
{
  g_unlink (files->cert);
  g_unlink (files->key);
  g_rmdir (files->dir);
  g_free (files->cert);
  g_free (files->key);
  g_free (files->dir);
}

static void
test_https (void)
{
  g_autoptr(FjSimulator) sim = fj_simulator_new ();
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(GTlsDatabase) database = NULL;
  g_autoptr(FjClient) trusting = NULL;
  g_autoptr(FjClient) untrusting = NULL;
  g_autoptr(FjMessage) ok_message = new_message (FALSE, "You are a market analyst.", "Q3?");
  g_autoptr(FjMessage) bad_message = new_message (FALSE, "You are a market analyst.", "Q3?");
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  TlsFiles files = { 0 };

  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    {
      g_test_skip ("no TLS backend: glib-networking is not installed");
      return;
    }
  g_assert_true (make_certificate (&files));

  certificate = g_tls_certificate_new_from_files (files.cert, files.key, &error);
  g_assert_no_error (error);
  database = g_tls_file_database_new (files.cert, &error);
  g_assert_no_error (error);

  fj_simulator_set_api_key (sim, FJ_TEST_API_KEY);
  fj_simulator_set_tls_certificate (sim, certificate);
  fj_simulator_start (sim, &error);
  g_assert_no_error (error);
  url = fj_simulator_dup_base_url (sim);
  g_assert_true (g_str_has_prefix (url, "https://127.0.0.1:"));

  trusting = fj_test_client_new (sim);
  fj_client_set_tls_database (trusting, database);
  g_clear_error (&error);
  error = fj_test_send_and_wait (trusting, ok_message, NULL, 10);
  g_assert_no_error (error);
  g_assert_cmpstr (fj_message_get_stop_reason (ok_message), ==, "end_turn");

  untrusting = fj_test_client_new (sim);
  error = fj_test_send_and_wait (untrusting, bad_message, NULL, 10);
  g_assert_error (error, FJ_ERROR, FJ_ERROR_TLS);
  g_assert_cmpuint (fj_message_get_attempts (bad_message), ==, 1);

  fj_simulator_stop (sim);
  tls_files_clear (&files);
}

typedef struct
{
  FjClient  *client;
  FjMessage *message;
  gboolean   ok;
  GError    *error;
  gint       done;
} SyncData;

static gpointer
sync_thread (gpointer user_data)
{
  SyncData *data = user_data;

  data->ok = fj_client_send (data->client, data->message, NULL, &data->error);
  g_atomic_int_set (&data->done, 1);
  g_main_context_wakeup (NULL);
  return NULL;
}

/* The sync call runs its own context, on any thread. */
static void
test_send_sync (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (NULL);
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjMessage) message = new_message (TRUE, "You are a market analyst.", "Q3?");
  SyncData data = { client, message, FALSE, NULL, 0 };
  GThread *thread;

  /* The simulator lives on this thread's context: keep it running. */
  thread = g_thread_new ("sync-send", sync_thread, &data);
  while (!g_atomic_int_get (&data.done))
    g_main_context_iteration (NULL, TRUE);
  g_thread_join (thread);

  g_assert_no_error (data.error);
  g_assert_true (data.ok);
  g_assert_cmpstr (fj_message_get_stop_reason (message), ==, "end_turn");
  g_assert_cmpuint (fj_client_get_n_sessions (client), ==, 0);
}

typedef struct
{
  guint    n_calls;
  gssize   n_read;
  gboolean closed;
  GError  *error;
} BodyStreamData;

static void
body_read_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  BodyStreamData *data = user_data;

  data->n_calls++;
  data->n_read = g_input_stream_read_finish (G_INPUT_STREAM (object), result, &data->error);
}

static void
body_close_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  BodyStreamData *data = user_data;

  data->n_calls++;
  data->closed = g_input_stream_close_finish (G_INPUT_STREAM (object), result, &data->error);
}

/* The request body answers reads at once, so that libsoup writes it with
 * the headers rather than on the next main-loop iteration. */
static void
test_body_stream (void)
{
  g_autoptr(GBytes) bytes = g_bytes_new_static ("{\"model\":\"m\"}", 13);
  g_autoptr(GInputStream) stream = _fj_body_stream_new (bytes);
  BodyStreamData data = { 0 };
  char buffer[64];

  g_input_stream_read_async (stream, buffer, sizeof buffer, G_PRIORITY_DEFAULT, NULL,
                             body_read_cb, &data);
  g_assert_cmpuint (data.n_calls, ==, 1);
  g_assert_no_error (data.error);
  g_assert_cmpint (data.n_read, ==, 13);
  g_assert_cmpmem (buffer, 13, "{\"model\":\"m\"}", 13);

  g_input_stream_read_async (stream, buffer, sizeof buffer, G_PRIORITY_DEFAULT, NULL,
                             body_read_cb, &data);
  g_assert_cmpuint (data.n_calls, ==, 2);
  g_assert_cmpint (data.n_read, ==, 0);

  /* Closing is GMemoryInputStream's, on a later iteration: GIO's splice
   * goes on using its task after it asks for the close, so the close must
   * not answer before it returns. */
  g_input_stream_close_async (stream, G_PRIORITY_DEFAULT, NULL, body_close_cb, &data);
  g_assert_cmpuint (data.n_calls, ==, 2);
  while (data.n_calls == 2)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error (data.error);
  g_assert_true (data.closed);
  g_assert_true (g_input_stream_is_closed (stream));
}

int
main (int   argc,
      char *argv[])
{
  fj_test_init (&argc, &argv);

  g_test_add_func ("/Forkjoin/Client/json-reply", test_json_reply);
  g_test_add_func ("/Forkjoin/Client/sse-reply", test_sse_reply);
  g_test_add_func ("/Forkjoin/Client/streaming-is-real", test_streaming_is_real);
  g_test_add_func ("/Forkjoin/Client/retry-after-429", test_retry_after_429);
  g_test_add_func ("/Forkjoin/Client/400-not-retried", test_400_not_retried);
  g_test_add_func ("/Forkjoin/Client/400-should-retry", test_400_should_retry);
  g_test_add_func ("/Forkjoin/Client/529-exhausts-retries", test_500_exhausts_retries);
  g_test_add_func ("/Forkjoin/Client/retry-after-past-deadline", test_retry_after_past_deadline);
  g_test_add_func ("/Forkjoin/Client/401-hides-key", test_401_hides_key);
  g_test_add_func ("/Forkjoin/Client/no-credentials", test_no_credentials);
  g_test_add_func ("/Forkjoin/Client/bearer-token", test_bearer_token);
  g_test_add_func ("/Forkjoin/Client/env-defaults", test_env_defaults);
  g_test_add_func ("/Forkjoin/Client/dropped-stream", test_dropped_stream);
  g_test_add_func ("/Forkjoin/Client/error-event", test_error_event);
  g_test_add_func ("/Forkjoin/Client/malformed", test_malformed);
  g_test_add_func ("/Forkjoin/Client/idle-timeout", test_idle_timeout);
  g_test_add_func ("/Forkjoin/Client/cancel-in-flight", test_cancel_in_flight);
  g_test_add_func ("/Forkjoin/Client/connection-reuse", test_connection_reuse);
  g_test_add_func ("/Forkjoin/Client/https", test_https);
  g_test_add_func ("/Forkjoin/Client/send-sync", test_send_sync);
  g_test_add_func ("/Forkjoin/Client/insecure-http", test_insecure_http);
  g_test_add_func ("/Forkjoin/Client/body-stream", test_body_stream);

  return g_test_run ();
}
