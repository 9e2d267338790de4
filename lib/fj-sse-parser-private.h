/* fj-sse-parser-private.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A Server-Sent Events decoder fed raw bytes in chunks of any size, after the
 * WHATWG rules: lines end in \n, \r or \r\n (split on bytes, before any UTF-8
 * decoding, so U+2028 inside JSON is no line break and a multibyte character
 * split across chunks stays whole); a line starting with ':' is a comment;
 * "field: value" loses one leading space; data lines are joined with \n; an
 * event is dispatched at a blank line, or at EOF by _fj_sse_parser_finish();
 * an event with neither a name nor data is dropped.
 *
 * @event is "message" when the event had no event: line.  Returning FALSE
 * from the callback (with @error set) stops the parser: feed() returns FALSE
 * and passes the error on. */
typedef gboolean (*FjSseEventFunc) (const char  *event,
                                    const char  *data,
                                    gsize        data_len,
                                    gpointer     user_data,
                                    GError     **error);

typedef struct _FjSseParser FjSseParser;

#define FJ_SSE_DEFAULT_MAX_LINE (16 * 1024 * 1024)

FjSseParser *_fj_sse_parser_new             (FjSseEventFunc   func,
                                             gpointer         user_data);
void         _fj_sse_parser_free            (FjSseParser     *self);
/* A line longer than @max_line bytes is an FJ_ERROR_PROTOCOL error naming the
 * limit. */
void         _fj_sse_parser_set_max_line    (FjSseParser     *self,
                                             gsize            max_line);
/* With a name set, that error reads "SSE line longer than the 1 MiB limit
 * (NAME)": the setting a user would change. */
void         _fj_sse_parser_set_limit_name  (FjSseParser     *self,
                                             const char      *name);
gboolean     _fj_sse_parser_feed            (FjSseParser     *self,
                                             const guint8    *data,
                                             gsize            length,
                                             GError         **error);
gboolean     _fj_sse_parser_finish          (FjSseParser     *self,
                                             GError         **error);
guint64      _fj_sse_parser_get_n_events    (FjSseParser     *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FjSseParser, _fj_sse_parser_free)

G_END_DECLS
