/* fuzz-sse.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* libFuzzer target for the SSE parser, and for FjMessage's handling of
 * the events it dispatches.
 *
 * The input is a raw stream.  It is parsed three times: whole, in chunks
 * of a size derived from the input, and byte by byte (short inputs only);
 * the events dispatched and the outcome must not depend on the chunking.
 * Inputs of odd length get a small line cap (48 bytes), so the limit's
 * path is reached too.  Then the events go to a streaming FjMessage, as
 * FjClient does, and the stream is ended. */

#include "config.h"

#include <string.h>

#include "fj-message-private.h"
#include "fj-sse-parser-private.h"

#include "fuzz-common.h"

typedef struct
{
  GString *events;
  guint    n_events;
} Record;

static gboolean
record_cb (const char  *event,
           const char  *data,
           gsize        data_len,
           gpointer     user_data,
           GError     **error)
{
  Record *record = user_data;

  (void) error;

  g_assert (event != NULL && data != NULL);
  g_assert (data[data_len] == '\0');

  /* Length-prefixed, so no two different event sequences record alike. */
  g_string_append_printf (record->events, "%zu:%s|%zu:", strlen (event), event, data_len);
  g_string_append_len (record->events, data, data_len);
  record->n_events++;
  return TRUE;
}

/* Returns whether the stream was accepted; @record gets its events and
 * @message_out the error message, if any. */
static gboolean
parse (const guint8  *data,
       size_t         size,
       size_t         chunk,
       gsize          max_line,
       Record        *record,
       char         **message_out)
{
  g_autoptr(FjSseParser) parser = _fj_sse_parser_new (record_cb, record);
  g_autoptr(GError) error = NULL;
  gboolean ok = TRUE;
  size_t off;

  if (max_line > 0)
    _fj_sse_parser_set_max_line (parser, max_line);

  for (off = 0; ok && off < size; off += chunk)
    ok = _fj_sse_parser_feed (parser, data + off, MIN (chunk, size - off), &error);
  if (ok)
    ok = _fj_sse_parser_finish (parser, &error);

  g_assert (ok == (error == NULL));
  g_assert (_fj_sse_parser_get_n_events (parser) == record->n_events);
  *message_out = ok ? NULL : g_strdup (error->message);
  return ok;
}

static gboolean
message_cb (const char  *event,
            const char  *data,
            gsize        data_len,
            gpointer     user_data,
            GError     **error)
{
  return _fj_message_handle_event (FJ_MESSAGE (user_data), event, data, data_len, error);
}

static void
feed_message (const guint8 *data,
              size_t        size)
{
  g_autoptr(FjMessage) message = NULL;
  g_autoptr(FjSseParser) parser = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  gboolean ok;

  message = fj_message_new_from_string ("{\"model\": \"fuzz-model\", \"max_tokens\": 64,"
                                        " \"stream\": true,"
                                        " \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}",
                                        &error);
  g_assert (message != NULL);
  _fj_message_begin_attempt (message, 1);
  _fj_message_set_status_code (message, 200);

  parser = _fj_sse_parser_new (message_cb, message);
  ok = _fj_sse_parser_feed (parser, data, size, &error);
  if (ok)
    ok = _fj_sse_parser_finish (parser, &error);
  if (ok)
    ok = _fj_message_end_stream (message, &error);
  g_assert (ok == (error == NULL));

  /* Whatever was kept must read back. */
  (void) fj_message_get_text (message);
  (void) fj_message_get_content (message);
  (void) fj_message_get_n_tool_uses (message);
  (void) fj_message_get_usage (message);
  (void) fj_message_get_stop_reason (message);
  node = fj_message_to_json (message);
  g_free (json_to_string (node, FALSE));
}

static void
compare (const char   *what,
         gboolean      ok_a,
         const Record *a,
         const char   *msg_a,
         gboolean      ok_b,
         const Record *b,
         const char   *msg_b)
{
  if (ok_a != ok_b
      || a->n_events != b->n_events
      || !g_string_equal (a->events, b->events)
      || g_strcmp0 (msg_a, msg_b) != 0)
    {
      fprintf (stderr, "fuzz-sse: %s parse differs from the whole one:"
               " ok %d/%d, %u/%u events, error '%s'/'%s'\n",
               what, ok_a, ok_b, a->n_events, b->n_events,
               msg_a ? msg_a : "", msg_b ? msg_b : "");
      abort ();
    }
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  Record whole = { g_string_new (NULL), 0 };
  Record chunked = { g_string_new (NULL), 0 };
  g_autofree char *msg_whole = NULL;
  g_autofree char *msg_chunked = NULL;
  gsize max_line;
  size_t chunk;
  gboolean ok_whole, ok_chunked;

  fuzz_log_init ();

  /* Derived from the input so that replays are deterministic. */
  chunk = 1 + (size * 7 + (size > 0 ? data[size / 2] : 0)) % 23;
  max_line = (size % 2 == 1) ? 48 : 0;

  ok_whole = parse (data, size, MAX (size, 1), max_line, &whole, &msg_whole);
  ok_chunked = parse (data, size, chunk, max_line, &chunked, &msg_chunked);
  compare ("chunked", ok_whole, &whole, msg_whole, ok_chunked, &chunked, msg_chunked);

  if (size <= 512)
    {
      g_autofree char *msg_bytes = NULL;
      Record bytes = { g_string_new (NULL), 0 };
      gboolean ok_bytes = parse (data, size, 1, max_line, &bytes, &msg_bytes);

      compare ("byte-by-byte", ok_whole, &whole, msg_whole, ok_bytes, &bytes, msg_bytes);
      g_string_free (bytes.events, TRUE);
    }

  g_string_free (whole.events, TRUE);
  g_string_free (chunked.events, TRUE);

  feed_message (data, size);

  return 0;
}
