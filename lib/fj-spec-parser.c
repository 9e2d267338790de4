/* fj-spec-parser.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-spec-parser-private.h"

#include <math.h>
#include <string.h>

#include "fj-json-private.h"

/* A strict JSON parser for the files people write by hand. json-glib 1.6
 * accepts comments, single quotes, trailing documents and duplicate names,
 * and its nodes carry no position, so this one builds the same JsonNode
 * tree and keeps where each value and each member name starts, for error
 * messages that point at the place. It is recursive, bounded by
 * FJ_JSON_MAX_DEPTH. */

typedef struct
{
  FjSpecPosition value;
  FjSpecPosition name;
  guint          is_member : 1;
} NodePlace;

struct _FjSpecDocument
{
  JsonNode   *root;
  /* JsonNode * -> NodePlace *; the nodes are owned by the tree */
  GHashTable *places;
};

typedef struct
{
  const char     *data;
  gsize           length;
  gsize           pos;
  FjSpecPosition  here;
  guint           depth;
  GString        *path;
  GPtrArray      *problems;
  FjSpecDocument *doc;
  gboolean        failed;
} Parser;

FjSpecProblem *
_fj_spec_problem_new (const FjSpecPosition *position,
                      const char           *path,
                      const char           *message)
{
  FjSpecProblem *problem = g_new0 (FjSpecProblem, 1);

  problem->position = *position;
  problem->path = g_strdup (path ? path : "");
  problem->message = g_strdup (message);

  return problem;
}

void
_fj_spec_problem_free (FjSpecProblem *problem)
{
  if (problem == NULL)
    return;

  g_free (problem->path);
  g_free (problem->message);
  g_free (problem);
}

static int
compare_problems (gconstpointer a,
                  gconstpointer b)
{
  const FjSpecProblem *pa = *(FjSpecProblem * const *)a;
  const FjSpecProblem *pb = *(FjSpecProblem * const *)b;

  if (pa->position.line != pb->position.line)
    return pa->position.line < pb->position.line ? -1 : 1;
  if (pa->position.column != pb->position.column)
    return pa->position.column < pb->position.column ? -1 : 1;

  return 0;
}

void
_fj_spec_problems_sort (GPtrArray *problems)
{
  /* g_ptr_array_sort() is stable (a merge sort). */
  g_ptr_array_sort (problems, compare_problems);
}

char *
_fj_spec_problem_format (const FjSpecProblem *problem,
                         const char          *filename)
{
  if (problem->path[0] == '\0')
    return g_strdup_printf ("%s:%u:%u: %s", filename,
                            problem->position.line, problem->position.column,
                            problem->message);

  return g_strdup_printf ("%s:%u:%u: %s: %s", filename,
                          problem->position.line, problem->position.column,
                          problem->path, problem->message);
}

static gboolean
is_plain_name (const char *name)
{
  if (name[0] == '\0')
    return FALSE;

  for (const char *p = name; *p; p++)
    {
      if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-' && *p != '$')
        return FALSE;
    }

  return TRUE;
}

void
_fj_spec_path_append_member (GString    *path,
                             const char *name)
{
  if (is_plain_name (name))
    {
      if (path->len > 0)
        g_string_append_c (path, '.');
      g_string_append (path, name);
    }
  else
    {
      g_autofree char *escaped = g_strescape (name, NULL);

      g_string_append_printf (path, "[\"%s\"]", escaped);
    }
}

void
_fj_spec_path_append_index (GString *path,
                            guint    index)
{
  g_string_append_printf (path, "[%u]", index);
}

void
_fj_spec_document_free (FjSpecDocument *self)
{
  if (self == NULL)
    return;

  g_clear_pointer (&self->places, g_hash_table_unref);
  g_clear_pointer (&self->root, json_node_unref);
  g_free (self);
}

JsonNode *
_fj_spec_document_get_root (FjSpecDocument *self)
{
  return self->root;
}

FjSpecPosition
_fj_spec_document_get_position (FjSpecDocument *self,
                                JsonNode       *node)
{
  NodePlace *place = g_hash_table_lookup (self->places, node);
  FjSpecPosition none = { 1, 1 };

  return place ? place->value : none;
}

FjSpecPosition
_fj_spec_document_get_name_position (FjSpecDocument *self,
                                     JsonNode       *node)
{
  NodePlace *place = g_hash_table_lookup (self->places, node);
  FjSpecPosition none = { 1, 1 };

  if (place == NULL)
    return none;

  return place->is_member ? place->name : place->value;
}

/* Parsing */

G_GNUC_PRINTF (3, 4)
static void
fail_at (Parser               *p,
         const FjSpecPosition *where,
         const char           *format,
         ...)
{
  g_autofree char *message = NULL;
  va_list args;

  /* Only the first syntax error: what follows it is noise. */
  if (p->failed)
    return;
  p->failed = TRUE;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_ptr_array_add (p->problems, _fj_spec_problem_new (where, p->path->str, message));
}

#define fail(p, ...) fail_at ((p), &(p)->here, __VA_ARGS__)

static inline gboolean
at_end (Parser *p)
{
  return p->pos >= p->length;
}

static inline char
peek (Parser *p)
{
  return at_end (p) ? '\0' : p->data[p->pos];
}

static void
advance (Parser *p)
{
  guchar c;

  g_assert (!at_end (p));

  c = (guchar) p->data[p->pos++];

  /* A line ends at \n, \r\n or a lone \r; a column is a character, so
   * UTF-8 continuation bytes do not count. */
  if (c == '\n' || (c == '\r' && peek (p) != '\n'))
    {
      p->here.line++;
      p->here.column = 1;
    }
  else if (c != '\r' && (c & 0xC0) != 0x80)
    p->here.column++;
}

static void
skip_whitespace (Parser *p)
{
  while (!at_end (p))
    {
      char c = peek (p);

      if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
        break;
      advance (p);
    }
}

/* The character at the current place, for messages: itself when it
 * prints, else U+XXXX. */
static char *
describe_current (Parser *p)
{
  const char *s = p->data + p->pos;
  gunichar c = g_utf8_get_char (s);

  if (g_unichar_isprint (c) && c != ' ')
    return g_strdup_printf ("'%.*s'", (int) (g_utf8_next_char (s) - s), s);

  return g_strdup_printf ("U+%04X", c);
}

static void
record (Parser               *p,
        JsonNode             *node,
        const FjSpecPosition *where)
{
  NodePlace *place = g_new0 (NodePlace, 1);

  place->value = *where;
  g_hash_table_insert (p->doc->places, node, place);
}

static void
record_name (Parser               *p,
             JsonNode             *node,
             const FjSpecPosition *where)
{
  NodePlace *place = g_hash_table_lookup (p->doc->places, node);

  g_assert (place != NULL);

  place->name = *where;
  place->is_member = TRUE;
}

static gboolean
is_word_char (char c)
{
  return g_ascii_isalnum (c) || c == '_' || c == '$';
}

/* A run of letters where a value or a name was expected: `True`, `NaN`,
 * an unquoted name. */
static char *
read_word (Parser *p)
{
  gsize start = p->pos;
  gsize end = start;

  while (end < p->length && is_word_char (p->data[end]) && end - start < 40)
    end++;

  return g_strndup (p->data + start, end - start);
}

static JsonNode *parse_value (Parser *p);

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static gboolean
read_hex4 (Parser  *p,
           guint   *out)
{
  guint value = 0;

  for (guint i = 0; i < 4; i++)
    {
      int digit = hex_value (peek (p));

      if (at_end (p) || digit < 0)
        {
          fail (p, "expected four hexadecimal digits after \\u");
          return FALSE;
        }
      value = value * 16 + (guint) digit;
      advance (p);
    }

  *out = value;

  return TRUE;
}

/* At the opening quote; returns the string's contents, or NULL after a
 * failure. */
static char *
parse_string (Parser *p)
{
  g_autoptr(GString) str = g_string_new (NULL);
  FjSpecPosition start = p->here;

  g_assert (peek (p) == '"');
  advance (p);

  for (;;)
    {
      guchar c;

      if (at_end (p))
        {
          fail_at (p, &start, "the string is not closed: the file ends inside it");
          return NULL;
        }

      c = (guchar) peek (p);

      if (c == '"')
        {
          advance (p);
          break;
        }

      if (c == '\n' || c == '\r')
        {
          fail_at (p, &start, "the string is not closed on its line (write a line break as \\n)");
          return NULL;
        }

      if (c < 0x20)
        {
          fail (p, "control character U+%04X in a string (escape it as \\u%04X)", c, c);
          return NULL;
        }

      if (c == '\\')
        {
          FjSpecPosition escape = p->here;
          char e;

          advance (p);
          if (at_end (p))
            {
              fail_at (p, &start, "the string is not closed: the file ends inside it");
              return NULL;
            }

          e = peek (p);
          switch (e)
            {
            case '"': g_string_append_c (str, '"'); break;
            case '\\': g_string_append_c (str, '\\'); break;
            case '/': g_string_append_c (str, '/'); break;
            case 'b': g_string_append_c (str, '\b'); break;
            case 'f': g_string_append_c (str, '\f'); break;
            case 'n': g_string_append_c (str, '\n'); break;
            case 'r': g_string_append_c (str, '\r'); break;
            case 't': g_string_append_c (str, '\t'); break;
            case 'u':
              {
                guint unit;
                gunichar ch;

                advance (p);
                if (!read_hex4 (p, &unit))
                  return NULL;

                if (unit >= 0xDC00 && unit <= 0xDFFF)
                  {
                    fail_at (p, &escape, "invalid \\u escape: a lone low surrogate");
                    return NULL;
                  }

                if (unit >= 0xD800 && unit <= 0xDBFF)
                  {
                    guint low;

                    if (peek (p) != '\\' || p->pos + 1 >= p->length || p->data[p->pos + 1] != 'u')
                      {
                        fail_at (p, &escape, "invalid \\u escape: a high surrogate without its low half");
                        return NULL;
                      }
                    advance (p);
                    advance (p);
                    if (!read_hex4 (p, &low))
                      return NULL;
                    if (low < 0xDC00 || low > 0xDFFF)
                      {
                        fail_at (p, &escape, "invalid \\u escape: a high surrogate without its low half");
                        return NULL;
                      }
                    ch = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                  }
                else
                  ch = unit;

                if (ch == 0)
                  {
                    fail_at (p, &escape, "\\u0000 is not allowed in a string");
                    return NULL;
                  }

                g_string_append_unichar (str, ch);
                continue;
              }
            default:
              if (g_ascii_isprint (e))
                fail_at (p, &escape, "invalid escape '\\%c' in a string", e);
              else
                fail_at (p, &escape, "invalid escape in a string");
              return NULL;
            }
          advance (p);
          continue;
        }

      /* Whole UTF-8 sequences; the input was validated. */
      {
        gsize start_byte = p->pos;

        advance (p);
        while (!at_end (p) && ((guchar) peek (p) & 0xC0) == 0x80)
          advance (p);
        g_string_append_len (str, p->data + start_byte, p->pos - start_byte);
      }
    }

  return g_strdup (str->str);
}

static JsonNode *
parse_number (Parser *p)
{
  FjSpecPosition start = p->here;
  gsize begin = p->pos;
  gboolean is_integer = TRUE;
  g_autofree char *text = NULL;
  JsonNode *node;

  if (peek (p) == '-')
    {
      advance (p);
      if (!g_ascii_isdigit (peek (p)))
        {
          fail (p, "expected a digit after '-'");
          return NULL;
        }
    }

  if (peek (p) == '0')
    {
      advance (p);
      if (g_ascii_isdigit (peek (p)))
        {
          fail_at (p, &start, "a number cannot start with 0 (no leading zeros in JSON)");
          return NULL;
        }
    }
  else
    {
      while (g_ascii_isdigit (peek (p)))
        advance (p);
    }

  if (peek (p) == '.')
    {
      is_integer = FALSE;
      advance (p);
      if (!g_ascii_isdigit (peek (p)))
        {
          fail (p, "expected a digit after the decimal point");
          return NULL;
        }
      while (g_ascii_isdigit (peek (p)))
        advance (p);
    }

  if (peek (p) == 'e' || peek (p) == 'E')
    {
      is_integer = FALSE;
      advance (p);
      if (peek (p) == '+' || peek (p) == '-')
        advance (p);
      if (!g_ascii_isdigit (peek (p)))
        {
          fail (p, "expected a digit in the exponent");
          return NULL;
        }
      while (g_ascii_isdigit (peek (p)))
        advance (p);
    }

  if (is_word_char (peek (p)) || peek (p) == '.')
    {
      g_autofree char *what = describe_current (p);

      fail (p, "unexpected %s after a number (write numbers without units)", what);
      return NULL;
    }

  text = g_strndup (p->data + begin, p->pos - begin);
  node = json_node_alloc ();

  if (is_integer)
    {
      gint64 value;

      if (g_ascii_string_to_signed (text, 10, G_MININT64, G_MAXINT64, &value, NULL))
        {
          json_node_init_int (node, value);
          record (p, node, &start);
          return node;
        }
    }

  {
    double value = g_ascii_strtod (text, NULL);

    if (!isfinite (value))
      {
        json_node_unref (node);
        fail_at (p, &start, "the number %s is out of range", text);
        return NULL;
      }

    json_node_init_double (node, value);
  }

  record (p, node, &start);

  return node;
}

static void
fail_unexpected (Parser     *p,
                 const char *expected)
{
  char c = peek (p);

  if (at_end (p))
    fail (p, "unexpected end of file; expected %s", expected);
  else if (c == '\'')
    fail (p, "single quotes are not JSON; use double quotes");
  else if (c == '/')
    fail (p, "comments are not allowed in JSON");
  else if (is_word_char (c))
    {
      g_autofree char *word = read_word (p);

      fail (p, "unexpected '%s'; expected %s", word, expected);
    }
  else
    {
      g_autofree char *what = describe_current (p);

      fail (p, "unexpected %s; expected %s", what, expected);
    }
}

static gboolean
enter (Parser *p)
{
  if (++p->depth > FJ_JSON_MAX_DEPTH)
    {
      fail (p, "nested deeper than %d levels", FJ_JSON_MAX_DEPTH);
      return FALSE;
    }

  return TRUE;
}

static JsonNode *
parse_object (Parser *p)
{
  g_autoptr(JsonObject) object = json_object_new ();
  FjSpecPosition start = p->here;
  gboolean after_comma = FALSE;
  FjSpecPosition comma = { 0, 0 };
  JsonNode *node;

  g_assert (peek (p) == '{');

  if (!enter (p))
    return NULL;
  advance (p);

  for (;;)
    {
      g_autofree char *name = NULL;
      FjSpecPosition name_at;
      JsonNode *value;
      gsize path_len = p->path->len;

      skip_whitespace (p);

      if (at_end (p))
        {
          fail_at (p, &start, "the object is not closed: the file ends inside it");
          return NULL;
        }

      if (peek (p) == '}')
        {
          if (after_comma)
            {
              fail_at (p, &comma, "trailing comma before '}' (not allowed in JSON)");
              return NULL;
            }
          advance (p);
          break;
        }

      if (peek (p) != '"')
        {
          if (is_word_char (peek (p)))
            {
              g_autofree char *word = read_word (p);

              fail (p, "the member name %s needs double quotes", word);
            }
          else
            fail_unexpected (p, after_comma ? "a member name in double quotes"
                                            : "a member name in double quotes or '}'");
          return NULL;
        }

      name_at = p->here;
      if (!(name = parse_string (p)))
        return NULL;

      _fj_spec_path_append_member (p->path, name);

      skip_whitespace (p);
      if (peek (p) != ':')
        {
          fail_unexpected (p, "':' after the member name");
          return NULL;
        }
      advance (p);

      if (!(value = parse_value (p)))
        return NULL;

      if (json_object_has_member (object, name))
        {
          JsonNode *first = json_object_get_member (object, name);
          FjSpecPosition first_at = _fj_spec_document_get_name_position (p->doc, first);
          g_autofree char *message = NULL;

          message = g_strdup_printf ("duplicate key \"%s\" (first at line %u, column %u)",
                                     name, first_at.line, first_at.column);
          g_ptr_array_add (p->problems, _fj_spec_problem_new (&name_at, p->path->str, message));
          g_hash_table_remove (p->doc->places, value);
          json_node_unref (value);
        }
      else
        {
          record_name (p, value, &name_at);
          json_object_set_member (object, name, value);
        }

      g_string_truncate (p->path, path_len);

      skip_whitespace (p);
      if (peek (p) == ',')
        {
          comma = p->here;
          after_comma = TRUE;
          advance (p);
          continue;
        }
      if (peek (p) == '}')
        {
          advance (p);
          break;
        }

      if (at_end (p))
        fail_at (p, &start, "the object is not closed: the file ends inside it");
      else
        fail_unexpected (p, "',' or '}'");
      return NULL;
    }

  p->depth--;

  node = json_node_alloc ();
  json_node_init_object (node, object);
  record (p, node, &start);

  return node;
}

static JsonNode *
parse_array (Parser *p)
{
  g_autoptr(JsonArray) array = json_array_new ();
  FjSpecPosition start = p->here;
  gboolean after_comma = FALSE;
  FjSpecPosition comma = { 0, 0 };
  JsonNode *node;

  g_assert (peek (p) == '[');

  if (!enter (p))
    return NULL;
  advance (p);

  for (;;)
    {
      gsize path_len = p->path->len;
      JsonNode *value;

      skip_whitespace (p);

      if (at_end (p))
        {
          fail_at (p, &start, "the array is not closed: the file ends inside it");
          return NULL;
        }

      if (peek (p) == ']')
        {
          if (after_comma)
            {
              fail_at (p, &comma, "trailing comma before ']' (not allowed in JSON)");
              return NULL;
            }
          advance (p);
          break;
        }

      _fj_spec_path_append_index (p->path, json_array_get_length (array));
      if (!(value = parse_value (p)))
        return NULL;
      json_array_add_element (array, value);
      g_string_truncate (p->path, path_len);

      skip_whitespace (p);
      if (peek (p) == ',')
        {
          comma = p->here;
          after_comma = TRUE;
          advance (p);
          continue;
        }
      if (peek (p) == ']')
        {
          advance (p);
          break;
        }

      if (at_end (p))
        fail_at (p, &start, "the array is not closed: the file ends inside it");
      else
        fail_unexpected (p, "',' or ']'");
      return NULL;
    }

  p->depth--;

  node = json_node_alloc ();
  json_node_init_array (node, array);
  record (p, node, &start);

  return node;
}

static JsonNode *
parse_literal (Parser *p)
{
  static const char * const words[] = { "true", "false", "null" };
  FjSpecPosition start = p->here;
  g_autofree char *word = read_word (p);
  JsonNode *node;

  for (guint i = 0; i < G_N_ELEMENTS (words); i++)
    {
      if (strcmp (word, words[i]) != 0)
        continue;

      for (gsize n = strlen (word); n > 0; n--)
        advance (p);

      node = json_node_alloc ();
      if (i == 2)
        json_node_init_null (node);
      else
        json_node_init_boolean (node, i == 0);
      record (p, node, &start);

      return node;
    }

  if (g_ascii_strcasecmp (word, "true") == 0 ||
      g_ascii_strcasecmp (word, "false") == 0 ||
      g_ascii_strcasecmp (word, "null") == 0)
    {
      g_autofree char *lower = g_ascii_strdown (word, -1);

      fail (p, "'%s' is not JSON; write %s", word, lower);
    }
  else if (g_ascii_strcasecmp (word, "nan") == 0 ||
           g_ascii_strcasecmp (word, "infinity") == 0)
    fail (p, "'%s' is not a JSON number", word);
  else
    fail (p, "unexpected '%s'; expected a value (strings take double quotes)", word);

  return NULL;
}

static JsonNode *
parse_value (Parser *p)
{
  char c;

  skip_whitespace (p);

  if (at_end (p))
    {
      fail (p, "unexpected end of file; expected a value");
      return NULL;
    }

  c = peek (p);

  switch (c)
    {
    case '{':
      return parse_object (p);

    case '[':
      return parse_array (p);

    case '"':
      {
        FjSpecPosition start = p->here;
        g_autofree char *str = parse_string (p);
        JsonNode *node;

        if (str == NULL)
          return NULL;

        node = json_node_alloc ();
        json_node_init_string (node, str);
        record (p, node, &start);

        return node;
      }

    case '-':
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
      return parse_number (p);

    case '+':
      fail (p, "a number cannot start with '+'");
      return NULL;

    case '.':
      fail (p, "a number needs a digit before the decimal point");
      return NULL;

    default:
      if (g_ascii_isalpha (c) || c == '_' || c == '$')
        return parse_literal (p);
      fail_unexpected (p, "a value");
      return NULL;
    }
}

static FjSpecPosition
position_of_offset (const char *data,
                    gsize       offset)
{
  FjSpecPosition where = { 1, 1 };

  for (gsize i = 0; i < offset; i++)
    {
      guchar c = (guchar) data[i];

      if (c == '\n' || (c == '\r' && data[i + 1] != '\n'))
        {
          where.line++;
          where.column = 1;
        }
      else if (c != '\r' && (c & 0xC0) != 0x80)
        where.column++;
    }

  return where;
}

FjSpecDocument *
_fj_spec_document_parse (const char *data,
                         gsize       length,
                         GPtrArray  *problems)
{
  g_autoptr(FjSpecDocument) doc = NULL;
  g_autoptr(GString) path = g_string_new (NULL);
  const char *invalid = NULL;
  Parser p = { 0 };

  g_return_val_if_fail (data != NULL || length == 0, NULL);
  g_return_val_if_fail (problems != NULL, NULL);

  if (!g_utf8_validate_len (data, length, &invalid))
    {
      FjSpecPosition where = position_of_offset (data, invalid - data);

      if (*invalid == '\0')
        g_ptr_array_add (problems, _fj_spec_problem_new (&where, NULL, "a NUL byte (this is not a text file)"));
      else
        g_ptr_array_add (problems, _fj_spec_problem_new (&where, NULL, "invalid UTF-8"));
      return NULL;
    }

  doc = g_new0 (FjSpecDocument, 1);
  doc->places = g_hash_table_new_full (NULL, NULL, NULL, g_free);

  p.data = data;
  p.length = length;
  p.here.line = 1;
  p.here.column = 1;
  p.path = path;
  p.problems = problems;
  p.doc = doc;

  /* RFC 8259 lets a parser skip a byte order mark. */
  if (length >= 3 && memcmp (data, "\xEF\xBB\xBF", 3) == 0)
    p.pos = 3;

  skip_whitespace (&p);
  if (at_end (&p))
    {
      FjSpecPosition start = { 1, 1 };

      g_ptr_array_add (problems, _fj_spec_problem_new (&start, NULL, "empty file (expected a JSON object)"));
      return NULL;
    }

  if (!(doc->root = parse_value (&p)))
    return NULL;

  skip_whitespace (&p);
  if (!at_end (&p))
    {
      fail (&p, "unexpected content after the end of the JSON document");
      return NULL;
    }

  return g_steal_pointer (&doc);
}
