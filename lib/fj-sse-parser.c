/* fj-sse-parser.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-sse-parser-private.h"

#include <string.h>

#include "fj-error.h"

struct _FjSseParser
{
  FjSseEventFunc  func;
  gpointer        user_data;

  /* The start of a line whose end has not arrived yet. */
  GString        *line;
  GString        *event;
  GString        *data;

  gsize           max_line;
  char           *limit_name;
  guint64         n_events;

  guint           has_data : 1;
  /* The previous chunk ended in \r: a \n opening the next one belongs to it. */
  guint           skip_lf : 1;
  guint           at_start : 1;
  guint           failed : 1;
};

FjSseParser *
_fj_sse_parser_new (FjSseEventFunc func,
                    gpointer       user_data)
{
  FjSseParser *self;

  g_return_val_if_fail (func != NULL, NULL);

  self = g_new0 (FjSseParser, 1);
  self->func = func;
  self->user_data = user_data;
  self->line = g_string_new (NULL);
  self->event = g_string_new (NULL);
  self->data = g_string_new (NULL);
  self->max_line = FJ_SSE_DEFAULT_MAX_LINE;
  self->at_start = TRUE;

  return self;
}

void
_fj_sse_parser_free (FjSseParser *self)
{
  if (self == NULL)
    return;

  g_string_free (self->line, TRUE);
  g_string_free (self->event, TRUE);
  g_string_free (self->data, TRUE);
  g_free (self->limit_name);
  g_free (self);
}

void
_fj_sse_parser_set_max_line (FjSseParser *self,
                             gsize        max_line)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (max_line > 0);

  self->max_line = max_line;
}

void
_fj_sse_parser_set_limit_name (FjSseParser *self,
                               const char  *name)
{
  g_return_if_fail (self != NULL);

  g_free (self->limit_name);
  self->limit_name = g_strdup (name);
}

guint64
_fj_sse_parser_get_n_events (FjSseParser *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->n_events;
}

static gboolean
too_long (FjSseParser  *self,
          const char   *what,
          GError      **error)
{
  gsize mib = 1024 * 1024;

  self->failed = TRUE;
  if (self->limit_name == NULL)
    g_set_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL,
                 "SSE %s longer than %" G_GSIZE_FORMAT " bytes", what, self->max_line);
  else if (self->max_line >= mib && self->max_line % mib == 0)
    g_set_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL,
                 "SSE %s longer than the %" G_GSIZE_FORMAT " MiB limit (%s)",
                 what, self->max_line / mib, self->limit_name);
  else if (self->max_line >= 1024 && self->max_line % 1024 == 0)
    g_set_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL,
                 "SSE %s longer than the %" G_GSIZE_FORMAT " KiB limit (%s)",
                 what, self->max_line / 1024, self->limit_name);
  else
    g_set_error (error, FJ_ERROR, FJ_ERROR_PROTOCOL,
                 "SSE %s longer than the %" G_GSIZE_FORMAT "-byte limit (%s)",
                 what, self->max_line, self->limit_name);
  return FALSE;
}

static gboolean
dispatch (FjSseParser  *self,
          GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  gboolean ret;

  g_assert (self != NULL);

  if (!self->has_data && self->event->len == 0)
    return TRUE;

  self->n_events++;
  ret = self->func (self->event->len > 0 ? self->event->str : "message",
                    self->data->str, self->data->len,
                    self->user_data, &local_error);

  g_string_truncate (self->event, 0);
  g_string_truncate (self->data, 0);
  self->has_data = FALSE;

  if (!ret)
    {
      self->failed = TRUE;
      if (local_error == NULL)
        local_error = g_error_new_literal (FJ_ERROR, FJ_ERROR_PROTOCOL,
                                           "the SSE event handler stopped the stream");
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  return TRUE;
}

static gboolean
process_line (FjSseParser  *self,
              const char   *line,
              gsize         length,
              GError      **error)
{
  const char *colon;
  const char *value;
  gsize field_len;
  gsize value_len;

  g_assert (self != NULL);

  /* A byte order mark may open the stream and is not part of the field. */
  if (self->at_start)
    {
      self->at_start = FALSE;
      if (length >= 3 && memcmp (line, "\xEF\xBB\xBF", 3) == 0)
        {
          line += 3;
          length -= 3;
        }
    }

  if (length == 0)
    return dispatch (self, error);

  if (line[0] == ':')
    return TRUE;

  colon = memchr (line, ':', length);
  if (colon != NULL)
    {
      field_len = colon - line;
      value = colon + 1;
      value_len = length - field_len - 1;
      if (value_len > 0 && value[0] == ' ')
        {
          value++;
          value_len--;
        }
    }
  else
    {
      field_len = length;
      value = line + length;
      value_len = 0;
    }

  if (field_len == 4 && memcmp (line, "data", 4) == 0)
    {
      if (self->has_data)
        g_string_append_c (self->data, '\n');
      g_string_append_len (self->data, value, value_len);
      self->has_data = TRUE;

      /* Lines joined without a blank line between them must not grow
       * without bound either. */
      if (self->data->len > self->max_line)
        return too_long (self, "event", error);
    }
  else if (field_len == 5 && memcmp (line, "event", 5) == 0)
    {
      g_string_truncate (self->event, 0);
      g_string_append_len (self->event, value, value_len);
    }
  /* "id", "retry" and unknown fields are accepted and ignored: the
   * Messages API does not resume streams. */

  return TRUE;
}

gboolean
_fj_sse_parser_feed (FjSseParser   *self,
                     const guint8  *data,
                     gsize          length,
                     GError       **error)
{
  const char *p = (const char *) data;
  const char *end = p + length;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (data != NULL || length == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->failed)
    {
      g_set_error_literal (error, FJ_ERROR, FJ_ERROR_PROTOCOL,
                           "the SSE stream already failed");
      return FALSE;
    }

  if (length == 0)
    return TRUE;

  if (self->skip_lf)
    {
      self->skip_lf = FALSE;
      if (*p == '\n')
        p++;
    }

  while (p < end)
    {
      const char *eol = p;
      gsize seg_len;

      while (eol < end && *eol != '\n' && *eol != '\r')
        eol++;

      seg_len = eol - p;
      if (self->line->len + seg_len > self->max_line)
        return too_long (self, "line", error);

      if (eol == end)
        {
          g_string_append_len (self->line, p, seg_len);
          break;
        }

      if (self->line->len > 0)
        {
          gboolean ok;

          g_string_append_len (self->line, p, seg_len);
          ok = process_line (self, self->line->str, self->line->len, error);
          g_string_truncate (self->line, 0);
          if (!ok)
            return FALSE;
        }
      else if (!process_line (self, p, seg_len, error))
        {
          return FALSE;
        }

      p = eol + 1;
      if (*eol == '\r')
        {
          if (p == end)
            self->skip_lf = TRUE;
          else if (*p == '\n')
            p++;
        }
    }

  return TRUE;
}

gboolean
_fj_sse_parser_finish (FjSseParser  *self,
                       GError      **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->failed)
    {
      g_set_error_literal (error, FJ_ERROR, FJ_ERROR_PROTOCOL,
                           "the SSE stream already failed");
      return FALSE;
    }

  /* A stream that ends without its final line end or blank line still
   * delivers its last event. */
  if (self->line->len > 0)
    {
      gboolean ok = process_line (self, self->line->str, self->line->len, error);

      g_string_truncate (self->line, 0);
      if (!ok)
        return FALSE;
    }

  self->skip_lf = FALSE;
  return dispatch (self, error);
}
