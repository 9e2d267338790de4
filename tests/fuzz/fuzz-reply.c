/* fuzz-reply.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* libFuzzer target for the reply JSON parsers and FjMessage's loading of a
 * non-streaming reply.
 *
 * The input is a reply body.  Oracles besides the sanitizers: whatever
 * the fast parser accepts is within the depth limit, and JsonParser reads
 * the same tree from it.  Then the body is loaded as a 200 reply and as a
 * 429 one (the error-body path), and the message is read back. */

#include "config.h"

#include <string.h>

#include "fj-json-private.h"
#include "fj-message-private.h"

#include "fuzz-common.h"

static void
check_fast_parser (const char *text,
                   size_t      size)
{
  g_autoptr(GString) scratch = g_string_new (NULL);
  g_autoptr(JsonNode) fast = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) error = NULL;
  JsonNode *slow;

  fast = _fj_json_parse_fast (text, size, scratch);
  if (fast == NULL)
    {
      (void) _fj_json_check_depth (text, size, FJ_JSON_MAX_DEPTH);
      (void) _fj_json_check_depth (text, size, 3);
      (void) _fj_json_check_for_parser (text, size, NULL);
      return;
    }

  if (!_fj_json_check_for_parser (text, size, NULL))
    {
      fprintf (stderr, "fuzz-reply: the fast parser accepted what JsonParser may not be given\n");
      abort ();
    }

  if (!_fj_json_check_depth (text, size, FJ_JSON_MAX_DEPTH))
    {
      fprintf (stderr, "fuzz-reply: the fast parser accepted what the depth check refuses\n");
      abort ();
    }

  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, text, size, &error))
    {
      fprintf (stderr, "fuzz-reply: the fast parser accepted what JsonParser refuses: %s\n",
               error->message);
      abort ();
    }

  slow = json_parser_get_root (parser);
  if (slow == NULL || !json_node_equal (fast, slow))
    {
      g_autofree char *a = json_to_string (fast, FALSE);
      g_autofree char *b = slow ? json_to_string (slow, FALSE) : g_strdup ("(none)");

      fprintf (stderr, "fuzz-reply: the parsers disagree:\n  fast: %s\n  slow: %s\n", a, b);
      abort ();
    }
}

static void
load_reply (const char *text,
            size_t      size,
            guint       status_code)
{
  g_autoptr(FjMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  gboolean ok;

  message = fj_message_new_from_string ("{\"model\": \"fuzz-model\", \"max_tokens\": 64,"
                                        " \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}",
                                        &error);
  g_assert (message != NULL);
  _fj_message_begin_attempt (message, 1);
  _fj_message_set_status_code (message, status_code);

  ok = _fj_message_load_reply (message, text, size, &error);
  g_assert (ok == (error == NULL));

  (void) fj_message_get_id (message);
  (void) fj_message_get_model (message);
  (void) fj_message_get_text (message);
  (void) fj_message_get_content (message);
  (void) fj_message_get_n_tool_uses (message);
  (void) fj_message_get_usage (message);
  (void) fj_message_get_stop_reason (message);
  (void) fj_message_get_stop_sequence (message);
  node = fj_message_to_json (message);
  g_free (json_to_string (node, FALSE));
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  /* Exactly @size bytes, with no terminator after them, so a read past
   * the end is caught; and a terminated copy for the load path. */
  g_autofree char *exact = g_memdup2 (data, size);
  g_autofree char *text = fuzz_strndup (data, size);

  fuzz_log_init ();

  check_fast_parser (exact ? exact : "", size);
  load_reply (text, size, 200);
  load_reply (text, size, 429);

  return 0;
}
