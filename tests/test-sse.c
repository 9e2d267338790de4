/* test-sse.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "fj-test-utils.h"
#include "fj-sse-parser-private.h"

/* Events as one log string: "name\nLEN:data\n" per event, so two parses
 * compare with one string comparison. */
typedef struct
{
  GString *log;
  guint    n_events;
  guint    fail_at;  /* 1-based event number whose callback fails, or 0 */
} Collector;

static gboolean
collect_cb (const char  *event,
            const char  *data,
            gsize        data_len,
            gpointer     user_data,
            GError     **error)
{
  Collector *c = user_data;

  g_assert_nonnull (event);
  g_assert_nonnull (data);
  /* The data buffer is NUL-terminated for parsers that want a C string. */
  g_assert_cmpint (data[data_len], ==, '\0');

  c->n_events++;
  g_string_append_printf (c->log, "%s\n%" G_GSIZE_FORMAT ":", event, data_len);
  g_string_append_len (c->log, data, data_len);
  g_string_append_c (c->log, '\n');

  if (c->n_events == c->fail_at)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "stop at %u", c->n_events);
      return FALSE;
    }

  return TRUE;
}

static void
collector_clear (Collector *c)
{
  g_string_free (c->log, TRUE);
}

/* Parses @chunks (a NULL-terminated list of strings), finishing at the end. */
static char *
parse_chunks (const char * const *chunks,
              guint              *n_events)
{
  Collector c = { g_string_new (NULL), 0, 0 };
  g_autoptr(FjSseParser) parser = _fj_sse_parser_new (collect_cb, &c);
  g_autoptr(GError) error = NULL;

  for (guint i = 0; chunks[i] != NULL; i++)
    {
      _fj_sse_parser_feed (parser, (const guint8 *) chunks[i], strlen (chunks[i]), &error);
      g_assert_no_error (error);
    }
  _fj_sse_parser_finish (parser, &error);
  g_assert_no_error (error);

  g_assert_cmpuint (_fj_sse_parser_get_n_events (parser), ==, c.n_events);
  if (n_events)
    *n_events = c.n_events;

  return g_string_free (c.log, FALSE);
}

static char *
parse_one (const char *text)
{
  const char *chunks[] = { text, NULL };

  return parse_chunks (chunks, NULL);
}

static void
assert_parses_to (const char *text,
                  const char *expected)
{
  g_autofree char *log = parse_one (text);

  g_assert_cmpstr (log, ==, expected);
}

static void
test_sse_line_endings (void)
{
  const char *expected = "message_start\n7:{\"a\":1}\nping\n0:\n";

  assert_parses_to ("event: message_start\ndata: {\"a\":1}\n\nevent: ping\n\n", expected);
  assert_parses_to ("event: message_start\r\ndata: {\"a\":1}\r\n\r\nevent: ping\r\n\r\n",
                    expected);
  assert_parses_to ("event: message_start\rdata: {\"a\":1}\r\revent: ping\r\r", expected);
  /* Mixed in one stream. */
  assert_parses_to ("event: message_start\r\ndata: {\"a\":1}\n\revent: ping\r\n\n", expected);
}

static void
test_sse_cr_lf_across_chunks (void)
{
  /* A \r ending one chunk and the \n opening the next are ONE line end:
   * two would make a blank line and split the event in two. */
  const char *chunks[] = { "data: a\r", "\ndata: b\r", "\n\r", "\n", NULL };
  const char *cr_only[] = { "data: a\r", "data: b\r", "\r", NULL };
  const char *blank[] = { "data: a\r", "\r", "\ndata: b\n\n", NULL };
  g_autofree char *log = NULL;
  g_autofree char *log_cr = NULL;
  g_autofree char *log_blank = NULL;
  guint n = 0;

  log = parse_chunks (chunks, &n);
  g_assert_cmpstr (log, ==, "message\n3:a\nb\n");
  g_assert_cmpuint (n, ==, 1);

  log_cr = parse_chunks (cr_only, &n);
  g_assert_cmpstr (log_cr, ==, "message\n3:a\nb\n");

  /* "\r" then "\r\n": the second \r is a blank line, its \n belongs to it. */
  log_blank = parse_chunks (blank, &n);
  g_assert_cmpstr (log_blank, ==, "message\n1:a\nmessage\n1:b\n");
  g_assert_cmpuint (n, ==, 2);
}

static void
test_sse_comments (void)
{
  assert_parses_to (": this is a comment\n"
                    "event: x\n"
                    ":another\n"
                    "data: 1\n"
                    ":\n"
                    "\n"
                    ": a comment alone dispatches nothing\n"
                    "\n",
                    "x\n1:1\n");
}

static void
test_sse_multiline_data (void)
{
  assert_parses_to ("data: first\ndata: second\ndata:\ndata: fourth\n\n",
                    "message\n20:first\nsecond\n\nfourth\n");
  /* An event: line after data: lines still names the event. */
  assert_parses_to ("data: a\nevent: later\ndata: b\n\n", "later\n3:a\nb\n");
  /* The last event: line wins. */
  assert_parses_to ("event: a\nevent: b\ndata: x\n\n", "b\n1:x\n");
}

static void
test_sse_field_parsing (void)
{
  /* No space after the colon; only one space is removed. */
  assert_parses_to ("event:x\ndata:value\n\n", "x\n5:value\n");
  assert_parses_to ("data:  two spaces\n\n", "message\n11: two spaces\n");
  assert_parses_to ("data:\tTAB\n\n", "message\n4:\tTAB\n");
  /* A field without a colon has an empty value. */
  assert_parses_to ("data\ndata\n\n", "message\n1:\n\n");
  /* Only the first colon separates. */
  assert_parses_to ("data: a: b:c\n\n", "message\n6:a: b:c\n");
  /* Field names are case-sensitive; unknown ones are ignored. */
  assert_parses_to ("Data: no\nDATA: no\nfoo: bar\ndata: yes\n\n", "message\n3:yes\n");
  /* An empty event: line means the default name. */
  assert_parses_to ("event:\ndata: x\n\n", "message\n1:x\n");
}

static void
test_sse_dropped_events (void)
{
  guint n = 0;
  const char *chunks[] = { "id: 7\n\nretry: 1000\n\n\n\n\n: only a comment\n\nevent:\n\n", NULL };
  g_autofree char *log = parse_chunks (chunks, &n);

  /* Neither a name nor data: nothing is dispatched. */
  g_assert_cmpstr (log, ==, "");
  g_assert_cmpuint (n, ==, 0);

  /* id and retry are accepted and change nothing else. */
  assert_parses_to ("id: 42\nretry: 10\nevent: e\ndata: d\nid\n\n", "e\n1:d\n");
  /* A name alone is an event, with empty data. */
  assert_parses_to ("event: ping\n\n", "ping\n0:\n");
}

static void
test_sse_utf8 (void)
{
  /* U+2028 and U+2029 are no line ends for SSE: lines split on bytes. */
  const char *text = "data: {\"t\":\"a\xE2\x80\xA8" "b\xE2\x80\xA9" "c\xC2\x85" "d\"}\n\n";
  g_autofree char *log = parse_one (text);
  g_autofree char *expected = g_strdup_printf ("message\n%d:{\"t\":\"a\xE2\x80\xA8" "b\xE2\x80\xA9"
                                               "c\xC2\x85" "d\"}\n",
                                               (int) strlen (text) - 8);
  const char *snowman = "data: \xE2\x98\x83 \xF0\x9F\x98\x80\n\n";
  g_autofree char *whole = parse_one (snowman);

  g_assert_cmpstr (log, ==, expected);
  g_assert_true (g_utf8_validate (whole, -1, NULL));

  /* A multibyte character split across chunks at every byte. */
  for (gsize i = 1; i < strlen (snowman); i++)
    {
      g_autofree char *a = g_strndup (snowman, i);
      const char *chunks[] = { a, snowman + i, NULL };
      g_autofree char *log_split = parse_chunks (chunks, NULL);

      g_assert_cmpstr (log_split, ==, whole);
    }
}

static void
test_sse_bom (void)
{
  assert_parses_to ("\xEF\xBB\xBF" "data: x\n\n", "message\n1:x\n");
  /* Only at the start of the stream. */
  assert_parses_to ("data: x\n\n\xEF\xBB\xBF" "data: y\n\n", "message\n1:x\n");
}

static void
test_sse_final_event (void)
{
  /* No blank line after the last event, and no line end after its last
   * line: finish() still delivers it. */
  assert_parses_to ("event: a\ndata: 1\n\nevent: b\ndata: 2", "a\n1:1\nb\n1:2\n");
  assert_parses_to ("event: a\ndata: 1\n\nevent: b\ndata: 2\n", "a\n1:1\nb\n1:2\n");
  assert_parses_to ("event: a\ndata: 1\n\nevent: b\ndata: 2\r", "a\n1:1\nb\n1:2\n");
  assert_parses_to ("", "");
}

static void
test_sse_not_before_blank_line (void)
{
  Collector c = { g_string_new (NULL), 0, 0 };
  g_autoptr(FjSseParser) parser = _fj_sse_parser_new (collect_cb, &c);
  g_autoptr(GError) error = NULL;
  const char *text = "event: a\ndata: 1\n";

  /* Nothing is dispatched until the blank line arrives. */
  g_assert_true (_fj_sse_parser_feed (parser, (const guint8 *) text, strlen (text), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (c.n_events, ==, 0);

  g_assert_true (_fj_sse_parser_feed (parser, (const guint8 *) "\n", 1, &error));
  g_assert_cmpuint (c.n_events, ==, 1);

  /* Empty feeds are harmless. */
  g_assert_true (_fj_sse_parser_feed (parser, (const guint8 *) "", 0, &error));
  g_assert_true (_fj_sse_parser_finish (parser, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (c.n_events, ==, 1);
  g_assert_cmpuint (_fj_sse_parser_get_n_events (parser), ==, 1);

  collector_clear (&c);
}

static void
test_sse_line_cap (void)
{
  g_autofree char *exact = NULL;
  g_autofree char *over = NULL;

  /* A line of exactly the limit passes, in one chunk or byte by byte. */
  exact = g_strdup_printf ("data: %s\n\n", "0123456789");
  for (guint way = 0; way < 2; way++)
    {
      Collector c = { g_string_new (NULL), 0, 0 };
      g_autoptr(FjSseParser) parser = _fj_sse_parser_new (collect_cb, &c);
      g_autoptr(GError) error = NULL;

      _fj_sse_parser_set_max_line (parser, 16);
      if (way == 0)
        _fj_sse_parser_feed (parser, (const guint8 *) exact, strlen (exact), &error);
      else
        for (gsize i = 0; i < strlen (exact) && error == NULL; i++)
          _fj_sse_parser_feed (parser, (const guint8 *) exact + i, 1, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (c.n_events, ==, 1);
      collector_clear (&c);
    }

  /* One byte more fails, whether or not the line end has arrived. */
  over = g_strdup_printf ("data: %s", "01234567890");
  for (guint way = 0; way < 3; way++)
    {
      Collector c = { g_string_new (NULL), 0, 0 };
      g_autoptr(FjSseParser) parser = _fj_sse_parser_new (collect_cb, &c);
      g_autoptr(GError) error = NULL;
      gboolean ok = TRUE;

      _fj_sse_parser_set_max_line (parser, 16);
      if (way == 0)
        ok = _fj_sse_parser_feed (parser, (const guint8 *) over, strlen (over), &error);
      else if (way == 1)
        for (gsize i = 0; i < strlen (over) && ok; i++)
          ok = _fj_sse_parser_feed (parser, (const guint8 *) over + i, 1, &error);
      else
        {
          ok = _fj_sse_parser_feed (parser, (const guint8 *) over, 10, &error);
          g_assert_true (ok);
          ok = _fj_sse_parser_feed (parser, (const guint8 *) over + 10, strlen (over) - 10,
                                    &error);
        }
      g_assert_false (ok);
      g_assert_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL);
      g_assert_cmpstr (error->message, ==, "SSE line longer than 16 bytes");
      g_assert_cmpuint (c.n_events, ==, 0);

      /* The parser stays failed. */
      g_clear_error (&error);
      g_assert_false (_fj_sse_parser_feed (parser, (const guint8 *) "\n\n", 2, &error));
      g_assert_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL);
      g_clear_error (&error);
      g_assert_false (_fj_sse_parser_finish (parser, &error));
      g_assert_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL);
      collector_clear (&c);
    }

  /* Many short data lines without a blank line cannot grow an event
   * without bound either. */
  {
    Collector c = { g_string_new (NULL), 0, 0 };
    g_autoptr(FjSseParser) parser = _fj_sse_parser_new (collect_cb, &c);
    g_autoptr(GError) error = NULL;
    gboolean ok = TRUE;

    _fj_sse_parser_set_max_line (parser, 16);
    for (guint i = 0; i < 10 && ok; i++)
      ok = _fj_sse_parser_feed (parser, (const guint8 *) "data: 12345\n", 12, &error);
    g_assert_false (ok);
    g_assert_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL);
    collector_clear (&c);
  }
}

static void
test_sse_callback_stops (void)
{
  Collector c = { g_string_new (NULL), 0, 2 };
  g_autoptr(FjSseParser) parser = _fj_sse_parser_new (collect_cb, &c);
  g_autoptr(GError) error = NULL;
  const char *text = "data: 1\n\ndata: 2\n\ndata: 3\n\n";

  g_assert_false (_fj_sse_parser_feed (parser, (const guint8 *) text, strlen (text), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "stop at 2");
  /* Nothing after the failing event is dispatched. */
  g_assert_cmpuint (c.n_events, ==, 2);

  collector_clear (&c);
}

/* Streams of our own for the splitting test: every rule above in one
 * place, with each kind of line end. */
static const char *own_streams[] = {
  "event: message_start\ndata: {\"a\":1}\n\n: comment\nevent: ping\n\n",
  "event: x\r\ndata: one\r\ndata:two\r\n\r\ndata: \xE2\x80\xA8\xE2\x98\x83\r\n\r\n",
  "event: x\rdata: one\rdata:two\r\rid: 3\rretry: 5\r\r\rdata: last",
  "data: a\r\n\r\r\n\ndata: b\n\r\n\r:c\rdata\r\n",
  "\357\273\277event: bom\ndata: {\"t\":\"\xF0\x9F\x98\x80\"}\n\n",
};

static void
check_every_split (const char *name,
                   const char *text,
                   gsize       length)
{
  g_autofree char *nul_text = g_strndup (text, length);
  g_autofree char *whole = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (20260101);
  guint n_whole = 0;

  g_assert_cmpuint (strlen (nul_text), ==, length);
  {
    const char *chunks[] = { nul_text, NULL };
    whole = parse_chunks (chunks, &n_whole);
  }
  g_test_message ("%s: %u events", name, n_whole);

  /* Two chunks, split at every point. */
  for (gsize i = 0; i <= length; i++)
    {
      g_autofree char *a = g_strndup (text, i);
      const char *chunks[] = { a, nul_text + i, NULL };
      g_autofree char *log = parse_chunks (chunks, NULL);

      if (g_strcmp0 (log, whole) != 0)
        g_error ("%s: splitting at byte %" G_GSIZE_FORMAT " changes the events", name, i);
    }

  /* One byte at a time. */
  {
    g_autoptr(GPtrArray) bytes = g_ptr_array_new_with_free_func (g_free);
    g_autofree char *log = NULL;

    for (gsize i = 0; i < length; i++)
      g_ptr_array_add (bytes, g_strndup (text + i, 1));
    g_ptr_array_add (bytes, NULL);
    log = parse_chunks ((const char * const *) bytes->pdata, NULL);
    g_assert_cmpstr (log, ==, whole);
  }

  /* Random chunk sizes, with a fixed seed so a failure repeats. */
  for (guint round = 0; round < 20; round++)
    {
      g_autoptr(GPtrArray) chunks = g_ptr_array_new_with_free_func (g_free);
      g_autofree char *log = NULL;
      gsize pos = 0;

      while (pos < length)
        {
          gsize len = MIN ((gsize) g_rand_int_range (rand, 1, 64), length - pos);

          g_ptr_array_add (chunks, g_strndup (text + pos, len));
          pos += len;
        }
      g_ptr_array_add (chunks, NULL);
      log = parse_chunks ((const char * const *) chunks->pdata, NULL);
      g_assert_cmpstr (log, ==, whole);
    }
}

static char *
replace_newlines (const char *text,
                  const char *with)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  return g_strjoinv (with, lines);
}

static void
test_sse_split_any (void)
{
  g_autofree char *first = NULL;
  g_autofree char *dir_path = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *entry;
  guint n_fixtures = 0;

  for (guint i = 0; i < G_N_ELEMENTS (own_streams); i++)
    {
      g_autofree char *name = g_strdup_printf ("own stream %u", i);

      check_every_split (name, own_streams[i], strlen (own_streams[i]));
    }

  if ((first = fj_test_shared_fixture ("docs_basic_stream.sse")) == NULL)
    return;

  dir_path = g_path_get_dirname (first);
  dir = g_dir_open (dir_path, 0, NULL);
  g_assert_nonnull (dir);
  while ((entry = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (entry, ".sse"))
      g_ptr_array_add (names, g_strdup (entry));
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      g_autofree char *text = fj_test_load_fixture (name, NULL);
      g_autofree char *crlf = replace_newlines (text, "\r\n");
      g_autofree char *cr = replace_newlines (text, "\r");
      g_autofree char *crlf_name = g_strconcat (name, " (CRLF)", NULL);
      g_autofree char *cr_name = g_strconcat (name, " (CR)", NULL);
      g_autofree char *log = parse_one (text);
      g_autofree char *log_crlf = parse_one (crlf);
      g_autofree char *log_cr = parse_one (cr);
      guint n = 0;

      /* Every recorded stream has events, and the same ones whatever its
       * line ends. */
      g_free (parse_chunks ((const char *[]) { text, NULL }, &n));
      g_assert_cmpuint (n, >, 0);
      g_assert_cmpstr (log_crlf, ==, log);
      g_assert_cmpstr (log_cr, ==, log);

      check_every_split (name, text, strlen (text));
      check_every_split (crlf_name, crlf, strlen (crlf));
      check_every_split (cr_name, cr, strlen (cr));
      n_fixtures++;
    }

  g_assert_cmpuint (n_fixtures, >=, 11);
}

static void
test_sse_fixture_events (void)
{
  g_autofree char *text = fj_test_load_fixture ("docs_basic_stream.sse", NULL);
  g_autofree char *log = NULL;
  g_autofree char *expected = NULL;
  guint n = 0;

  if (text == NULL)
    return;

  log = parse_chunks ((const char *[]) { text, NULL }, &n);
  g_assert_cmpuint (n, ==, 8);
  g_assert_true (g_str_has_prefix (log, "message_start\n"));
  expected = g_strdup_printf ("message_stop\n%d:{\"type\": \"message_stop\"}\n",
                              (int) strlen ("{\"type\": \"message_stop\"}"));
  g_assert_true (g_str_has_suffix (log, expected));
  g_assert_nonnull (strstr (log, "ping\n16:{\"type\": \"ping\"}\n"));
}

int
main (int   argc,
      char *argv[])
{
  fj_test_init (&argc, &argv);

  g_test_add_func ("/Forkjoin/Sse/line-endings", test_sse_line_endings);
  g_test_add_func ("/Forkjoin/Sse/cr-lf-across-chunks", test_sse_cr_lf_across_chunks);
  g_test_add_func ("/Forkjoin/Sse/comments", test_sse_comments);
  g_test_add_func ("/Forkjoin/Sse/multiline-data", test_sse_multiline_data);
  g_test_add_func ("/Forkjoin/Sse/field-parsing", test_sse_field_parsing);
  g_test_add_func ("/Forkjoin/Sse/dropped-events", test_sse_dropped_events);
  g_test_add_func ("/Forkjoin/Sse/utf8", test_sse_utf8);
  g_test_add_func ("/Forkjoin/Sse/bom", test_sse_bom);
  g_test_add_func ("/Forkjoin/Sse/final-event", test_sse_final_event);
  g_test_add_func ("/Forkjoin/Sse/not-before-blank-line", test_sse_not_before_blank_line);
  g_test_add_func ("/Forkjoin/Sse/line-cap", test_sse_line_cap);
  g_test_add_func ("/Forkjoin/Sse/callback-stops", test_sse_callback_stops);
  g_test_add_func ("/Forkjoin/Sse/fixture-events", test_sse_fixture_events);
  g_test_add_func ("/Forkjoin/Sse/split-any", test_sse_split_any);

  return g_test_run ();
}
