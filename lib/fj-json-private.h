/* fj-json-private.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* json-glib 1.6 parses recursively and overflows its stack on very deep
 * nesting, so every JSON document from the network is checked first. */
#define FJ_JSON_MAX_DEPTH 512

/* Whether @data nests arrays and objects at most @max_depth levels deep.
 * A byte scanner (no allocation, no parsing) that reads strings and
 * comments the way json-glib does, so brackets inside them do not count.
 * It does not validate: a document that passes may still fail to parse. */
gboolean _fj_json_check_depth (const char *data,
                               gsize       length,
                               guint       max_depth);

/* Whether JsonParser can be given @data without leaking: json-glib 1.6
 * parses the documents that follow the first and leaks them, and leaks a
 * string on a malformed surrogate pair.  So network input with content
 * after the first value (other than white space and comments), or with a
 * \u escape that is short or a surrogate not half of a high-low pair, is
 * refused first; @problem (nullable) then says which. */
gboolean _fj_json_check_for_parser (const char  *data,
                                    gsize        length,
                                    const char **problem);

/* The strict JSON an API sends (objects, arrays, strings with the simple
 * escapes, integers of up to 18 digits, true, false, null, no duplicate
 * names, nesting within FJ_JSON_MAX_DEPTH) parsed at a fraction of
 * JsonParser's cost into the same tree; NULL for anything else, which the
 * caller then gives to JsonParser (after _fj_json_check_depth()).
 * @scratch (nullable) is a buffer to reuse between calls. */
JsonNode *_fj_json_parse_fast (const char *data,
                               gsize       length,
                               GString    *scratch);

/* JSON from the network: the fast parser, else (after the checks above)
 * JsonParser.  @scratch (nullable) is a buffer and @parser (nullable) a
 * JsonParser kept between calls.  Errors are %FJ_ERROR_PROTOCOL phrased
 * to follow what is parsed: "is not valid JSON: …", "is nested deeper
 * than N levels", "is empty". */
JsonNode *_fj_json_parse_network (const char  *data,
                                  gsize        length,
                                  GString     *scratch,
                                  JsonParser **parser,
                                  GError     **error);

/* Whether @data is exactly a streamed text delta, {"type":
 * "content_block_delta", "index": N, "delta": {"type": "text_delta",
 * "text": "..."}} (members in any order), read without building a tree:
 * then @text holds the unescaped text and @index the block.  FALSE for
 * anything else, valid or not, which the caller parses in full. */
gboolean _fj_json_scan_text_delta (const char *data,
                                   gsize       length,
                                   GString    *text,
                                   guint      *index);

/* Members of a reply's object by type: NULL (FALSE for the integer) when
 * @object is NULL, the member is missing, or it holds another type.  An
 * integer member may be a whole or a fractional JSON number. */
static inline const char *
_fj_json_get_string (JsonObject *object,
                     const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  if (node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_STRING)
    return json_node_get_string (node);

  return NULL;
}

static inline JsonObject *
_fj_json_get_object (JsonObject *object,
                     const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static inline JsonArray *
_fj_json_get_array (JsonObject *object,
                    const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

static inline gboolean
_fj_json_get_int (JsonObject *object,
                  const char *name,
                  gint64     *value)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;

  switch (json_node_get_value_type (node))
    {
    case G_TYPE_INT64:
      *value = json_node_get_int (node);
      return TRUE;
    case G_TYPE_DOUBLE:
      *value = (gint64) json_node_get_double (node);
      return TRUE;
    default:
      return FALSE;
    }
}

/* What kind of JSON value @node is, as an error message says it: "an
 * object", "an array", "a string", "a boolean", "an integer", "a number",
 * "null" (also for a missing member, @node NULL). */
const char *_fj_json_describe_type (JsonNode *node);

G_END_DECLS
