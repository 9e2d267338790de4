/* fj-json.c — JSON helpers shared by the client and the simulator
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "fj-json-private.h"
#include "fj-error.h"

gboolean
_fj_json_check_depth (const char *data,
                      gsize       length,
                      guint       max_depth)
{
  guint depth = 0;
  gsize i = 0;

  g_return_val_if_fail (data != NULL || length == 0, FALSE);

  /* Strings and comments as json-glib 1.6 reads them: "..." with
   * backslash escapes, '...' without, and comments, which in json-glib
   * 1.6 run from any slash to the next slash (so a C comment ends at the
   * first slash inside it: reading to star slash instead would let
   * brackets hide from this check). */
  while (i < length)
    {
      switch (data[i++])
        {
        case '[':
        case '{':
          if (++depth > max_depth)
            return FALSE;
          break;

        case ']':
        case '}':
          if (depth > 0)
            depth--;
          break;

        case '"':
          while (i < length && data[i] != '"')
            i += data[i] == '\\' ? 2 : 1;
          i++;
          break;

        case '\'':
          while (i < length && data[i] != '\'')
            i++;
          i++;
          break;

        case '/':
          while (i < length && data[i] != '/')
            i++;
          i++;
          break;

        default:
          break;
        }
    }

  return TRUE;
}

static gsize
skip_space_and_comments (const char *data,
                         gsize       length,
                         gsize       i)
{
  while (i < length)
    {
      if (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r')
        {
          i++;
        }
      else if (data[i] == '/')
        {
          i++;
          while (i < length && data[i] != '/')
            i++;
          i++;
        }
      else
        {
          break;
        }
    }

  return MIN (i, length);
}

/* The value of the \u escape whose digits start at @i, read as json-glib
 * 1.6 reads it: hex digits up to four, stopping at the first other
 * character.  @n_digits gets how many there were. */
static guint
unicode_escape (const char *data,
                gsize       length,
                gsize       i,
                guint      *n_digits)
{
  guint value = 0;
  guint k;

  for (k = 0; k < 4 && i + k < length && g_ascii_isxdigit (data[i + k]); k++)
    value += (guint) g_ascii_xdigit_value (data[i + k]) << ((3 - k) * 4);

  *n_digits = k;
  return value;
}

/* Skips the "..." string whose opening quote is before @i; returns the
 * index after its closing quote, or G_MAXSIZE when it has a \u escape
 * with fewer than four hex digits or of a surrogate that is not a whole
 * high-low pair: json-glib 1.6 leaks a GString on some of those. */
static gsize
skip_string (const char *data,
             gsize       length,
             gsize       i)
{
  while (i < length && data[i] != '"')
    {
      guint first, second, n_first, n_second;

      if (data[i] != '\\')
        {
          i++;
          continue;
        }

      if (i + 1 < length && data[i + 1] == 'u')
        {
          /* json-glib reads fewer than four digits, and then eats the
           * character after them: refused, as it is not JSON anyway. */
          first = unicode_escape (data, length, i + 2, &n_first);
          if (n_first < 4)
            return G_MAXSIZE;
          if (first >= 0xD800 && first <= 0xDFFF)
            {
              if (first > 0xDBFF ||
                  i + 7 >= length || data[i + 6] != '\\' || data[i + 7] != 'u')
                return G_MAXSIZE;
              second = unicode_escape (data, length, i + 8, &n_second);
              if (n_second < 4 || second < 0xDC00 || second > 0xDFFF)
                return G_MAXSIZE;
              i += 12;
              continue;
            }
          i += 6;
          continue;
        }
      i += 2;
    }

  return i + 1;
}

gboolean
_fj_json_check_for_parser (const char  *data,
                           gsize        length,
                           const char **problem)
{
  guint depth = 0;
  gsize i;

  g_return_val_if_fail (data != NULL || length == 0, FALSE);

  i = skip_space_and_comments (data, length, 0);
  if (i == length)
    return TRUE;

  /* The first value: a bracketed one up to its matching close, or a
   * string, or a scalar up to the next delimiter.  Strings and comments
   * are read as in _fj_json_check_depth(). */
  do
    {
      switch (data[i++])
        {
        case '[':
        case '{':
          depth++;
          break;

        case ']':
        case '}':
          if (depth > 0)
            depth--;
          break;

        case '"':
          i = skip_string (data, length, i);
          if (i == G_MAXSIZE)
            {
              if (problem != NULL)
                *problem = "a \\u escape is short, or a surrogate not half of a pair";
              return FALSE;
            }
          break;

        case '\'':
          while (i < length && data[i] != '\'')
            i++;
          i++;
          break;

        case '/':
          while (i < length && data[i] != '/')
            i++;
          i++;
          break;

        default:
          if (depth == 0)
            while (i < length && strchr (" \t\r\n/[]{}\"',:", data[i]) == NULL)
              i++;
          break;
        }
    }
  while (depth > 0 && i < length);

  if (skip_space_and_comments (data, length, MIN (i, length)) != length)
    {
      if (problem != NULL)
        *problem = "there is content after the first value";
      return FALSE;
    }

  return TRUE;
}

/* A fast path for the strict JSON that the API sends: objects, arrays,
 * strings with the simple escapes, integers, true, false and null, with
 * no duplicate names. It builds the same tree as JsonParser (parents
 * included) at a fraction of the cost, and gives up (returns NULL) on
 * anything else, which then goes to JsonParser: floats, \u escapes,
 * comments, other documents after the first, invalid text... */
typedef struct
{
  const char *p;
  const char *end;
  guint depth;
  GString *scratch;
} FastJson;

static JsonNode *fast_json_value (FastJson *j,
                                  JsonNode *parent);

static inline void
fast_json_skip_space (FastJson *j)
{
  while (j->p < j->end &&
         (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
    j->p++;
}

/* Reads the string at j->p (a '"') into j->scratch. */
static gboolean
fast_json_string (FastJson *j)
{
  const char *start = ++j->p;

  g_string_truncate (j->scratch, 0);
  while (j->p < j->end)
    {
      guchar c = *j->p;

      if (c == '"')
        {
          g_string_append_len (j->scratch, start, j->p - start);
          j->p++;
          return TRUE;
        }
      if (c < 0x20)
        return FALSE;
      if (c == '\\')
        {
          char unescaped;

          g_string_append_len (j->scratch, start, j->p - start);
          if (++j->p >= j->end)
            return FALSE;
          switch (*j->p)
            {
            case '"': unescaped = '"'; break;
            case '\\': unescaped = '\\'; break;
            case '/': unescaped = '/'; break;
            case 'b': unescaped = '\b'; break;
            case 'f': unescaped = '\f'; break;
            case 'n': unescaped = '\n'; break;
            case 'r': unescaped = '\r'; break;
            case 't': unescaped = '\t'; break;
            default: return FALSE;
            }
          g_string_append_c (j->scratch, unescaped);
          start = ++j->p;
          continue;
        }
      j->p++;
    }

  return FALSE;
}

static JsonNode *
fast_json_object (FastJson *j,
                  JsonNode *parent)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  JsonObject *object = json_object_new ();

  json_node_take_object (node, object);
  json_node_set_parent (node, parent);

  j->p++;
  fast_json_skip_space (j);
  if (j->p < j->end && *j->p == '}')
    {
      j->p++;
      return node;
    }

  while (j->p < j->end && *j->p == '"')
    {
      g_autofree char *name = NULL;
      JsonNode *member;
      guint size;

      if (!fast_json_string (j))
        break;
      name = g_strndup (j->scratch->str, j->scratch->len);
      fast_json_skip_space (j);
      if (j->p >= j->end || *j->p != ':')
        break;
      j->p++;
      if ((member = fast_json_value (j, node)) == NULL)
        break;

      size = json_object_get_size (object);
      json_object_set_member (object, name, member);
      if (json_object_get_size (object) == size)
        break;

      fast_json_skip_space (j);
      if (j->p < j->end && *j->p == '}')
        {
          j->p++;
          return node;
        }
      if (j->p >= j->end || *j->p != ',')
        break;
      j->p++;
      fast_json_skip_space (j);
    }

  json_node_unref (node);
  return NULL;
}

static JsonNode *
fast_json_array (FastJson *j,
                 JsonNode *parent)
{
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);
  JsonArray *array = json_array_new ();

  json_node_take_array (node, array);
  json_node_set_parent (node, parent);

  j->p++;
  fast_json_skip_space (j);
  if (j->p < j->end && *j->p == ']')
    {
      j->p++;
      return node;
    }

  for (;;)
    {
      JsonNode *element = fast_json_value (j, node);

      if (element == NULL)
        break;
      json_array_add_element (array, element);

      fast_json_skip_space (j);
      if (j->p < j->end && *j->p == ']')
        {
          j->p++;
          return node;
        }
      if (j->p >= j->end || *j->p != ',')
        break;
      j->p++;
    }

  json_node_unref (node);
  return NULL;
}

static gboolean
fast_json_word (FastJson   *j,
                const char *word,
                gsize       length)
{
  if ((gsize) (j->end - j->p) < length || memcmp (j->p, word, length) != 0)
    return FALSE;
  j->p += length;

  /* "nullx" is no word of ours. */
  return j->p == j->end || !g_ascii_isalnum (*j->p);
}

static JsonNode *
fast_json_value (FastJson *j,
                 JsonNode *parent)
{
  JsonNode *node = NULL;

  fast_json_skip_space (j);
  if (j->p >= j->end)
    return NULL;

  switch (*j->p)
    {
    case '{':
    case '[':
      if (++j->depth > FJ_JSON_MAX_DEPTH)
        return NULL;
      node = *j->p == '{' ? fast_json_object (j, parent) : fast_json_array (j, parent);
      j->depth--;
      return node;

    case '"':
      if (!fast_json_string (j))
        return NULL;
      node = json_node_init_string (json_node_alloc (), j->scratch->str);
      break;

    case 't':
      if (!fast_json_word (j, "true", 4))
        return NULL;
      node = json_node_init_boolean (json_node_alloc (), TRUE);
      break;

    case 'f':
      if (!fast_json_word (j, "false", 5))
        return NULL;
      node = json_node_init_boolean (json_node_alloc (), FALSE);
      break;

    case 'n':
      if (!fast_json_word (j, "null", 4))
        return NULL;
      node = json_node_init_null (json_node_alloc ());
      break;

    default:
      {
        gboolean negative = *j->p == '-';
        const char *digits;
        gint64 value = 0;

        if (negative)
          j->p++;
        digits = j->p;
        while (j->p < j->end && g_ascii_isdigit (*j->p) && j->p - digits < 18)
          value = value * 10 + (*j->p++ - '0');

        /* No digits, a leading zero, more than 18 digits, a fraction or
         * an exponent. */
        if (j->p == digits || (*digits == '0' && j->p - digits > 1) ||
            (j->p < j->end && (g_ascii_isalnum (*j->p) || *j->p == '.')))
          return NULL;
        node = json_node_init_int (json_node_alloc (), negative ? -value : value);
      }
      break;
    }

  json_node_set_parent (node, parent);
  return node;
}

JsonNode *
_fj_json_parse_fast (const char *data,
                     gsize       length,
                     GString    *scratch)
{
  g_autoptr(GString) own_scratch = scratch ? NULL : g_string_sized_new (64);
  FastJson j = { data, data + length, 0, scratch ? scratch : own_scratch };
  JsonNode *root;

  fast_json_skip_space (&j);
  if (j.p >= j.end || (*j.p != '{' && *j.p != '['))
    return NULL;
  if (!g_utf8_validate_len (data, length, NULL))
    return NULL;

  root = fast_json_value (&j, NULL);
  if (root == NULL)
    return NULL;

  fast_json_skip_space (&j);
  if (j.p != j.end)
    {
      json_node_unref (root);
      return NULL;
    }

  return root;
}

/* The streaming text delta, {"type": "content_block_delta", "index": N,
 * "delta": {"type": "text_delta", "text": "..."}}, is most of what a
 * stream carries: it is read here without building a tree. Anything
 * else (other members, duplicates, escapes in the names, \u0000, a
 * surrogate that is not half of a pair, invalid text) is left to the
 * full parse, which decides whether it is an error. */
typedef struct
{
  const char *p;
  const char *end;
} DeltaScan;

static inline void
delta_scan_space (DeltaScan *s)
{
  while (s->p < s->end &&
         (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
    s->p++;
}

static inline gboolean
delta_scan_char (DeltaScan *s,
                 char       c)
{
  delta_scan_space (s);
  if (s->p >= s->end || *s->p != c)
    return FALSE;
  s->p++;
  return TRUE;
}

/* Whether the JSON string @quoted (quotes included, no escapes) comes
 * at s->p, after white space; it is then skipped. Names and values the
 * fast path knows are matched whole, so that anything else (escapes,
 * other names) makes it give up. */
static inline gboolean
delta_scan_literal (DeltaScan  *s,
                    const char *quoted,
                    gsize       length)
{
  delta_scan_space (s);
  if ((gsize) (s->end - s->p) < length || memcmp (s->p, quoted, length) != 0)
    return FALSE;
  s->p += length;
  return TRUE;
}

#define DELTA_SCAN_LITERAL(s, quoted) delta_scan_literal ((s), (quoted), sizeof (quoted) - 1)

static gboolean
delta_scan_hex4 (DeltaScan *s,
                 guint     *value)
{
  *value = 0;
  if (s->end - s->p < 4)
    return FALSE;
  for (guint k = 0; k < 4; k++)
    {
      if (!g_ascii_isxdigit (s->p[k]))
        return FALSE;
      *value = (*value << 4) | (guint) g_ascii_xdigit_value (s->p[k]);
    }
  s->p += 4;
  return TRUE;
}

/* The string at s->p (after white space), unescaped into @out. */
static gboolean
delta_scan_string (DeltaScan *s,
                   GString   *out)
{
  const char *start;

  if (!delta_scan_char (s, '"'))
    return FALSE;

  g_string_truncate (out, 0);
  start = s->p;
  while (s->p < s->end)
    {
      guchar c = *s->p;
      gunichar u;
      guint high, low;

      if (c == '"')
        {
          g_string_append_len (out, start, s->p - start);
          s->p++;
          return TRUE;
        }
      if (c < 0x20)
        return FALSE;
      if (c != '\\')
        {
          s->p++;
          continue;
        }

      g_string_append_len (out, start, s->p - start);
      if (++s->p >= s->end)
        return FALSE;
      switch (*s->p++)
        {
        case '"': g_string_append_c (out, '"'); break;
        case '\\': g_string_append_c (out, '\\'); break;
        case '/': g_string_append_c (out, '/'); break;
        case 'b': g_string_append_c (out, '\b'); break;
        case 'f': g_string_append_c (out, '\f'); break;
        case 'n': g_string_append_c (out, '\n'); break;
        case 'r': g_string_append_c (out, '\r'); break;
        case 't': g_string_append_c (out, '\t'); break;
        case 'u':
          if (!delta_scan_hex4 (s, &high) || high == 0 || (high >= 0xDC00 && high <= 0xDFFF))
            return FALSE;
          u = high;
          if (high >= 0xD800 && high <= 0xDBFF)
            {
              if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
                return FALSE;
              s->p += 2;
              if (!delta_scan_hex4 (s, &low) || low < 0xDC00 || low > 0xDFFF)
                return FALSE;
              u = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
            }
          g_string_append_unichar (out, u);
          break;
        default:
          return FALSE;
        }
      start = s->p;
    }

  return FALSE;
}

gboolean
_fj_json_scan_text_delta (const char *data,
                          gsize       length,
                          GString    *text,
                          guint      *index)
{
  DeltaScan s = { data, data + length };
  gboolean seen_type = FALSE, seen_index = FALSE, seen_delta = FALSE;
  const char *text_start = NULL, *text_end = NULL;

  g_return_val_if_fail (data != NULL || length == 0, FALSE);
  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (index != NULL, FALSE);

  if (!delta_scan_char (&s, '{'))
    return FALSE;

  for (guint member = 0; member < 3; member++)
    {
      if (member > 0 && !delta_scan_char (&s, ','))
        return FALSE;

      if (!seen_type && DELTA_SCAN_LITERAL (&s, "\"type\""))
        {
          if (!delta_scan_char (&s, ':') || !DELTA_SCAN_LITERAL (&s, "\"content_block_delta\""))
            return FALSE;
          seen_type = TRUE;
        }
      else if (!seen_index && DELTA_SCAN_LITERAL (&s, "\"index\""))
        {
          const char *digits;
          guint value = 0;

          if (!delta_scan_char (&s, ':'))
            return FALSE;
          delta_scan_space (&s);
          for (digits = s.p; s.p < s.end && g_ascii_isdigit (*s.p) && s.p - digits < 9; s.p++)
            value = value * 10 + (guint) (*s.p - '0');
          if (s.p == digits || (*digits == '0' && s.p - digits > 1) ||
              (s.p < s.end && (g_ascii_isalnum (*s.p) || *s.p == '.')))
            return FALSE;
          *index = value;
          seen_index = TRUE;
        }
      else if (!seen_delta && DELTA_SCAN_LITERAL (&s, "\"delta\""))
        {
          gboolean seen_delta_type = FALSE, seen_text = FALSE;

          if (!delta_scan_char (&s, ':') || !delta_scan_char (&s, '{'))
            return FALSE;
          for (guint k = 0; k < 2; k++)
            {
              if (k > 0 && !delta_scan_char (&s, ','))
                return FALSE;

              if (!seen_delta_type && DELTA_SCAN_LITERAL (&s, "\"type\""))
                {
                  if (!delta_scan_char (&s, ':') || !DELTA_SCAN_LITERAL (&s, "\"text_delta\""))
                    return FALSE;
                  seen_delta_type = TRUE;
                }
              else if (!seen_text && DELTA_SCAN_LITERAL (&s, "\"text\""))
                {
                  if (!delta_scan_char (&s, ':'))
                    return FALSE;
                  delta_scan_space (&s);
                  text_start = s.p;
                  if (!delta_scan_string (&s, text))
                    return FALSE;
                  text_end = s.p;
                  seen_text = TRUE;
                }
              else
                {
                  return FALSE;
                }
            }
          if (!delta_scan_char (&s, '}'))
            return FALSE;
          seen_delta = TRUE;
        }
      else
        {
          return FALSE;
        }
    }

  if (!delta_scan_char (&s, '}'))
    return FALSE;
  delta_scan_space (&s);

  /* Everything but the text was matched as ASCII above. */
  return s.p == s.end && g_utf8_validate_len (text_start, text_end - text_start, NULL);
}

const char *
_fj_json_describe_type (JsonNode *node)
{
  if (node == NULL)
    return "null";

  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      return "an object";
    case JSON_NODE_ARRAY:
      return "an array";
    case JSON_NODE_NULL:
      return "null";
    case JSON_NODE_VALUE:
    default:
      break;
    }

  switch (json_node_get_value_type (node))
    {
    case G_TYPE_BOOLEAN:
      return "a boolean";
    case G_TYPE_INT64:
      return "an integer";
    case G_TYPE_DOUBLE:
      return "a number";
    case G_TYPE_STRING:
      return "a string";
    default:
      return "a value";
    }
}

JsonNode *
_fj_json_parse_network (const char  *data,
                        gsize        length,
                        GString     *scratch,
                        JsonParser **parser,
                        GError     **error)
{
  g_autoptr(JsonParser) own_parser = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *problem = NULL;
  JsonParser *p;
  JsonNode *root;

  if ((root = _fj_json_parse_fast (data, length, scratch)) != NULL)
    return root;

  if (!_fj_json_check_depth (data, length, FJ_JSON_MAX_DEPTH))
    {
      g_set_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL,
                   "is nested deeper than %u levels", FJ_JSON_MAX_DEPTH);
      return NULL;
    }

  if (!_fj_json_check_for_parser (data, length, &problem))
    {
      g_set_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL, "is not valid JSON: %s", problem);
      return NULL;
    }

  if (parser != NULL)
    {
      if (*parser == NULL)
        *parser = json_parser_new ();
      p = *parser;
    }
  else
    p = own_parser = json_parser_new ();

  if (!json_parser_load_from_data (p, data, length, &local_error))
    {
      g_set_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL,
                   "is not valid JSON: %s", local_error->message);
      return NULL;
    }

  if ((root = json_parser_steal_root (p)) == NULL)
    g_set_error_literal (error, FJ_ERROR, FJ_ERROR_PROTOCOL, "is empty");

  return root;
}
