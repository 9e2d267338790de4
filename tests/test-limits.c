/* test-limits.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Hostile replies: a body or stream over FjClient:max-reply-size, an SSE
 * line over FjClient:max-line-length, JSON nested too deep, and a stream
 * that ends without message_stop.  Each is FJ_ERROR_PROTOCOL naming the
 * limit or the cause, is not retried, and keeps the text streamed before
 * it.  The replies come from a small HTTP server on 127.0.0.1 run in a
 * thread of its own with blocking sockets, so it can write far more than
 * the client will take. */

#include "config.h"

#include <string.h>

#include "fj-test-utils.h"

/* What the hostile server sends past the limit before it gives up; the
 * client must have hung up long before. */
#define SERVER_WRITE_LIMIT (G_GUINT64_CONSTANT (256) * 1024 * 1024)

typedef enum
{
  REPLY_BIG_JSON,         /* a JSON body with no end, no Content-Length */
  REPLY_ANNOUNCED_HUGE,   /* Content-Length: 1 GiB, then ten bytes */
  REPLY_BIG_STREAM,       /* text, then text deltas with no end */
  REPLY_LONG_LINE,        /* text, then one line with no end */
  REPLY_DEEP_JSON,        /* a JSON body of 100,000 '[' */
  REPLY_DEEP_EVENT,       /* text, then an event of 100,000 '[' */
  REPLY_CUT_STREAM,       /* text, then the connection closes */
} ReplyKind;

typedef struct
{
  ReplyKind        kind;
  GSocketListener *listener;
  GCancellable    *cancellable;
  GThread         *thread;
  guint16          port;
  int              n_requests;  /* atomic */
  /* Set by the thread; read after it is joined. */
  guint64          bytes_sent;
  gboolean         client_hung_up;
  gboolean         replied;     /* atomic: one connection was served */
  GMainContext    *context;     /* the test's, woken when it is */
} HostileServer;

#define SSE_HEADERS "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n" \
                    "Connection: close\r\n\r\n"
#define START "event: message_start\ndata: {\"type\":\"message_start\",\"message\":" \
              "{\"id\":\"msg_x\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\"," \
              "\"content\":[],\"stop_reason\":null,\"stop_sequence\":null," \
              "\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n" \
              "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0," \
              "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
#define DELTA(t) "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0," \
                 "\"delta\":{\"type\":\"text_delta\",\"text\":\"" t "\"}}\n\n"

static gboolean
write_str (GOutputStream *out,
           const char    *data,
           gsize          length,
           HostileServer *server)
{
  g_autoptr(GError) error = NULL;
  gsize written = 0;
  gboolean ok = g_output_stream_write_all (out, data, length, &written,
                                           server->cancellable, &error);

  server->bytes_sent += written;
  /* A write that timed out means the client stopped reading but kept the
   * connection open: that is no hang-up. */
  if (!ok && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    server->client_hung_up = TRUE;
  return ok;
}

/* Writes @chunk again and again until the client hangs up, or
 * SERVER_WRITE_LIMIT. */
static void
write_forever (GOutputStream *out,
               const char    *chunk,
               HostileServer *server)
{
  gsize length = strlen (chunk);

  while (server->bytes_sent < SERVER_WRITE_LIMIT)
    if (!write_str (out, chunk, length, server))
      return;
}

static char *
repeat (char  c,
        gsize n)
{
  char *s = g_malloc (n + 1);

  memset (s, c, n);
  s[n] = '\0';
  return s;
}

static void
read_request (GInputStream  *in,
              HostileServer *server)
{
  g_autoptr(GString) head = g_string_new (NULL);
  guint64 content_length = 0;
  const char *end;
  const char *cl;
  char buf[4096];
  gssize n;
  gsize have;

  while ((end = strstr (head->str, "\r\n\r\n")) == NULL)
    {
      n = g_input_stream_read (in, buf, sizeof buf, server->cancellable, NULL);
      if (n <= 0)
        return;
      g_string_append_len (head, buf, n);
    }

  cl = strstr (head->str, "Content-Length: ");
  if (cl == NULL)
    cl = strstr (head->str, "content-length: ");
  if (cl != NULL)
    content_length = g_ascii_strtoull (cl + 16, NULL, 10);

  have = head->len - (end + 4 - head->str);
  while (have < content_length)
    {
      n = g_input_stream_read (in, buf, MIN (sizeof buf, content_length - have),
                               server->cancellable, NULL);
      if (n <= 0)
        return;
      have += n;
    }
}

static void
send_reply (GOutputStream *out,
            HostileServer *server)
{
  switch (server->kind)
    {
    case REPLY_BIG_JSON:
      {
        const char *head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                           "Connection: close\r\n\r\n{\"type\":\"message\",\"junk\":\"";
        g_autofree char *chunk = repeat ('x', 16 * 1024);

        if (write_str (out, head, strlen (head), server))
          write_forever (out, chunk, server);
      }
      break;

    case REPLY_ANNOUNCED_HUGE:
      {
        const char *reply = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                            "Content-Length: 1073741824\r\n\r\n{\"type\":\"";

        write_str (out, reply, strlen (reply), server);
      }
      break;

    case REPLY_BIG_STREAM:
      if (write_str (out, SSE_HEADERS START DELTA ("Hello"), strlen (SSE_HEADERS START DELTA ("Hello")), server))
        write_forever (out, DELTA (" and more"), server);
      break;

    case REPLY_LONG_LINE:
      {
        const char *head = SSE_HEADERS START DELTA ("Hello") "event: content_block_delta\ndata: ";
        g_autofree char *chunk = repeat ('x', 16 * 1024);

        if (write_str (out, head, strlen (head), server))
          write_forever (out, chunk, server);
      }
      break;

    case REPLY_DEEP_JSON:
      {
        g_autofree char *body = repeat ('[', 100000);
        g_autofree char *head = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                                 "Content-Length: %u\r\n\r\n", 100000);

        if (write_str (out, head, strlen (head), server))
          write_str (out, body, 100000, server);
      }
      break;

    case REPLY_DEEP_EVENT:
      {
        g_autofree char *nest = repeat ('[', 100000);
        g_autofree char *reply = g_strconcat (SSE_HEADERS START DELTA ("Hello"),
                                              "event: content_block_delta\ndata: ", nest, "\n\n",
                                              NULL);

        write_str (out, reply, strlen (reply), server);
      }
      break;

    case REPLY_CUT_STREAM:
      write_str (out, SSE_HEADERS START DELTA ("Hello"), strlen (SSE_HEADERS START DELTA ("Hello")), server);
      break;

    default:
      g_assert_not_reached ();
    }
}

static gpointer
server_thread (gpointer data)
{
  HostileServer *server = data;

  for (;;)
    {
      g_autoptr(GSocketConnection) conn = NULL;
      GSocket *socket;

      conn = g_socket_listener_accept (server->listener, NULL, server->cancellable, NULL);
      if (conn == NULL)
        break;

      /* Blocking, but never forever. */
      socket = g_socket_connection_get_socket (conn);
      g_socket_set_blocking (socket, TRUE);
      g_socket_set_timeout (socket, 20);

      g_atomic_int_inc (&server->n_requests);
      read_request (g_io_stream_get_input_stream (G_IO_STREAM (conn)), server);
      send_reply (g_io_stream_get_output_stream (G_IO_STREAM (conn)), server);
      g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
      g_atomic_int_set (&server->replied, TRUE);
      g_main_context_wakeup (server->context);
    }

  return NULL;
}

static HostileServer *
hostile_server_new (ReplyKind kind)
{
  HostileServer *server = g_new0 (HostileServer, 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) effective = NULL;

  server->kind = kind;
  server->context = g_main_context_ref_thread_default ();
  server->cancellable = g_cancellable_new ();
  server->listener = g_socket_listener_new ();
  g_socket_listener_add_address (server->listener, address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error);
  g_assert_no_error (error);
  server->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  server->thread = g_thread_new ("hostile-server", server_thread, server);

  return server;
}

static void
hostile_server_stop (HostileServer *server)
{
  g_cancellable_cancel (server->cancellable);
  if (server->thread != NULL)
    g_thread_join (g_steal_pointer (&server->thread));
}

static void
hostile_server_free (HostileServer *server)
{
  hostile_server_stop (server);
  g_socket_listener_close (server->listener);
  g_object_unref (server->listener);
  g_object_unref (server->cancellable);
  g_main_context_unref (server->context);
  g_free (server);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HostileServer, hostile_server_free)

static FjClient *
client_for (HostileServer *server)
{
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u", server->port);
  FjClient *client = fj_client_new_for_base_url (url);

  fj_client_set_api_key (client, FJ_TEST_API_KEY);
  /* Would a limit be retried, the server would see a second request. */
  fj_client_set_max_retries (client, 2);
  return client;
}

static FjMessage *
new_message (gboolean stream)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *json =
    g_strdup_printf ("{\"model\": \"claude-haiku-5-5\", \"max_tokens\": 64, \"stream\": %s,"
                     " \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
                     stream ? "true" : "false");

  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  return fj_message_new (json_node_get_object (json_parser_get_root (parser)));
}

/* Runs one message against a fresh server of @kind; returns the error and
 * the text the message kept.  The server is joined before returning. */
static GError *
run_hostile (ReplyKind   kind,
             gboolean    stream,
             guint64     max_reply_size,
             guint64     max_line_length,
             char      **text_out,
             guint64    *bytes_sent_out,
             gboolean   *hung_up_out)
{
  HostileServer *server = hostile_server_new (kind);
  g_autoptr(FjClient) client = client_for (server);
  g_autoptr(FjMessage) message = new_message (stream);
  GError *error;

  if (max_reply_size > 0)
    fj_client_set_max_reply_size (client, max_reply_size);
  if (max_line_length > 0)
    fj_client_set_max_line_length (client, max_line_length);

  error = fj_test_send_and_wait (client, message, NULL, 60);
  *text_out = g_strdup (fj_message_get_text (message));
  g_clear_object (&message);
  g_clear_object (&client);

  /* The server finishes when the client hangs up (or, should the client
   * keep the connection open without reading, when its write times out). */
  fj_test_wait_for (&server->replied, 60);

  /* Body bytes arrived (or the reply was final): no retry. */
  g_assert_cmpint (g_atomic_int_get (&server->n_requests), ==, 1);

  hostile_server_stop (server);
  if (bytes_sent_out != NULL)
    *bytes_sent_out = server->bytes_sent;
  if (hung_up_out != NULL)
    *hung_up_out = server->client_hung_up;
  hostile_server_free (server);

  return error;
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 guint      *count)
{
  (*count)++;
}

static void
test_properties (void)
{
  g_autoptr(FjClient) client = fj_client_new_for_base_url ("http://127.0.0.1:9");
  guint64 value = 0;
  guint n_notifies = 0;

  g_assert_cmpuint (fj_client_get_max_reply_size (client), ==, 64 * 1024 * 1024);
  g_assert_cmpuint (fj_client_get_max_line_length (client), ==, 1024 * 1024);

  g_signal_connect (client, "notify::max-reply-size",
                    G_CALLBACK (count_notify_cb), &n_notifies);
  g_object_set (client, "max-reply-size", (guint64) 4096, "max-line-length", (guint64) 0, NULL);
  g_assert_cmpuint (fj_client_get_max_reply_size (client), ==, 4096);
  g_assert_cmpuint (fj_client_get_max_line_length (client), ==, 0);
  g_object_get (client, "max-reply-size", &value, NULL);
  g_assert_cmpuint (value, ==, 4096);
  g_assert_cmpuint (n_notifies, ==, 1);

  g_signal_connect (client, "notify::max-line-length",
                    G_CALLBACK (count_notify_cb), &n_notifies);
  fj_client_set_max_line_length (client, 100);
  fj_client_set_max_line_length (client, 100);
  g_assert_cmpuint (n_notifies, ==, 2);
  fj_client_set_max_reply_size (client, 4096);
  g_assert_cmpuint (n_notifies, ==, 2);
}

static void
test_big_json_body (void)
{
  g_autofree char *text = NULL;
  guint64 sent = 0;
  gboolean hung_up = FALSE;
  g_autoptr(GError) error = run_hostile (REPLY_BIG_JSON, FALSE, 64 * 1024, 0,
                                         &text, &sent, &hung_up);

  g_assert_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL);
  g_assert_cmpstr (error->message, ==, "reply larger than the 64 KiB limit (max-reply-size)");
  /* The client hung up: it did not read the rest. */
  g_assert_true (hung_up);
  g_assert_cmpuint (sent, <, SERVER_WRITE_LIMIT);
  g_test_message ("server wrote %" G_GUINT64_FORMAT " bytes before the client hung up", sent);
}

static void
test_announced_huge_body (void)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) error = run_hostile (REPLY_ANNOUNCED_HUGE, FALSE, 1024 * 1024, 0,
                                         &text, NULL, NULL);

  /* Refused on its Content-Length, before reading: had it been read, the
   * ten bytes would have ended in a dropped connection. */
  g_assert_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL);
  g_assert_cmpstr (error->message, ==, "reply larger than the 1 MiB limit (max-reply-size)");
}

static void
test_default_limit_message (void)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) error = run_hostile (REPLY_ANNOUNCED_HUGE, FALSE, 0, 0, &text, NULL, NULL);

  g_assert_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL);
  g_assert_cmpstr (error->message, ==, "reply larger than the 64 MiB limit (max-reply-size)");
}

static void
test_big_stream (void)
{
  g_autofree char *text = NULL;
  guint64 sent = 0;
  gboolean hung_up = FALSE;
  g_autoptr(GError) error = run_hostile (REPLY_BIG_STREAM, TRUE, 64 * 1024, 0,
                                         &text, &sent, &hung_up);

  g_assert_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL);
  g_assert_cmpstr (error->message, ==, "reply larger than the 64 KiB limit (max-reply-size)");
  /* The text before the limit is kept, up to the limit and no further. */
  g_assert_true (g_str_has_prefix (text, "Hello and more and more"));
  g_assert_cmpuint (strlen (text), <, 64 * 1024);
  g_assert_cmpuint (strlen (text), >, 1000);
  g_assert_true (hung_up);
  g_assert_cmpuint (sent, <, SERVER_WRITE_LIMIT);
}

static void
test_long_sse_line (void)
{
  g_autofree char *text = NULL;
  gboolean hung_up = FALSE;
  g_autoptr(GError) error = run_hostile (REPLY_LONG_LINE, TRUE, 0, 4096,
                                         &text, NULL, &hung_up);

  g_assert_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL);
  g_assert_cmpstr (error->message, ==, "SSE line longer than the 4 KiB limit (max-line-length)");
  g_assert_cmpstr (text, ==, "Hello");
  g_assert_true (hung_up);
}

static void
test_long_sse_line_default (void)
{
  g_autofree char *text = NULL;
  gboolean hung_up = FALSE;
  g_autoptr(GError) error = run_hostile (REPLY_LONG_LINE, TRUE, 0, 0, &text, NULL, &hung_up);

  g_assert_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL);
  g_assert_cmpstr (error->message, ==, "SSE line longer than the 1 MiB limit (max-line-length)");
  g_assert_cmpstr (text, ==, "Hello");
}

static void
test_deep_json_body (void)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) error = run_hostile (REPLY_DEEP_JSON, FALSE, 0, 0, &text, NULL, NULL);

  g_assert_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL);
  g_assert_cmpstr (error->message, ==,
                   "reply is not a Message: the reply is nested deeper than 512 levels");
}

static void
test_deep_json_event (void)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) error = run_hostile (REPLY_DEEP_EVENT, TRUE, 0, 0, &text, NULL, NULL);

  g_assert_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "nested deeper than 512 levels"));
  g_assert_cmpstr (text, ==, "Hello");
}

static void
test_cut_stream (void)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) error = run_hostile (REPLY_CUT_STREAM, TRUE, 0, 0, &text, NULL, NULL);

  g_assert_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL);
  g_assert_cmpstr (error->message, ==, "stream ended without message_stop");
  g_assert_cmpstr (text, ==, "Hello");
}

/* Through an agent: failed, the code is protocol, and the text streamed
 * before the limit is the partial output. */
static void
test_agent_partial_output (void)
{
  const ReplyKind kinds[] = { REPLY_BIG_STREAM, REPLY_LONG_LINE, REPLY_DEEP_EVENT, REPLY_CUT_STREAM };
  const char *messages[] = { "max-reply-size", "max-line-length", "512 levels", "message_stop" };

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      HostileServer *server = hostile_server_new (kinds[i]);
      g_autoptr(FjClient) client = client_for (server);
      g_autoptr(FjAgent) agent = fj_agent_new ("hostile");
      g_autoptr(GAsyncResult) async_result = NULL;
      g_autoptr(FjAgentResult) result = NULL;
      g_autoptr(GError) error = NULL;

      /* Small limits where they are tested (the deep event alone is
       * 100,000 bytes, within the defaults). */
      if (kinds[i] == REPLY_BIG_STREAM)
        fj_client_set_max_reply_size (client, 64 * 1024);
      if (kinds[i] == REPLY_LONG_LINE)
        fj_client_set_max_line_length (client, 4096);
      fj_agent_set_stream (agent, TRUE);
      fj_agent_run_async (agent, client, "hi", NULL, fj_test_async_result_cb, &async_result);
      fj_test_wait_result (&async_result, 60);
      result = fj_agent_run_finish (agent, async_result, &error);
      g_assert_no_error (error);

      g_assert_cmpint (fj_agent_result_get_status (result), ==, FJ_AGENT_STATUS_FAILED);
      g_assert_error (fj_agent_result_get_error (result), FJ_ERROR, FJ_ERROR_PROTOCOL);
      g_assert_cmpstr (fj_agent_result_get_error_code (result), ==, "protocol");
      g_test_message ("%s", fj_agent_result_get_error_message (result));
      g_assert_nonnull (strstr (fj_agent_result_get_error_message (result), messages[i]));
      g_assert_nonnull (fj_agent_result_get_partial_output (result));
      g_assert_true (g_str_has_prefix (fj_agent_result_get_partial_output (result), "Hello"));
      g_assert_null (fj_agent_result_get_output (result));
      g_assert_cmpint (g_atomic_int_get (&server->n_requests), ==, 1);

      g_clear_object (&client);
      hostile_server_free (server);
    }
}

int
main (int   argc,
      char *argv[])
{
  fj_test_init (&argc, &argv);

  g_test_add_func ("/Forkjoin/Limits/properties", test_properties);
  g_test_add_func ("/Forkjoin/Limits/big-json-body", test_big_json_body);
  g_test_add_func ("/Forkjoin/Limits/announced-huge-body", test_announced_huge_body);
  g_test_add_func ("/Forkjoin/Limits/default-limit-message", test_default_limit_message);
  g_test_add_func ("/Forkjoin/Limits/big-stream", test_big_stream);
  g_test_add_func ("/Forkjoin/Limits/long-sse-line", test_long_sse_line);
  g_test_add_func ("/Forkjoin/Limits/long-sse-line-default", test_long_sse_line_default);
  g_test_add_func ("/Forkjoin/Limits/deep-json-body", test_deep_json_body);
  g_test_add_func ("/Forkjoin/Limits/deep-json-event", test_deep_json_event);
  g_test_add_func ("/Forkjoin/Limits/cut-stream", test_cut_stream);
  g_test_add_func ("/Forkjoin/Limits/agent-partial-output", test_agent_partial_output);

  return g_test_run ();
}
