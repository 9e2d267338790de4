/* fj-body-stream.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "fj-body-stream-private.h"

/* A request body for libsoup that is on the wire together with its
 * headers.
 *
 * libsoup 3 writes a request's headers, then splices the body stream into
 * the connection with g_output_stream_splice_async(), which starts with
 * g_input_stream_read_async().  Over a GMemoryInputStream that read is
 * ready at once, but GTask hands it back on the next main-loop iteration,
 * so the body leaves one iteration after the headers.  In a fan-out that
 * iteration is spent on every other reply that came in meanwhile, and the
 * server, which waits for the whole body, sees the request that much
 * later.
 *
 * This stream (a GMemoryInputStream, so seekable and pollable as before)
 * answers read_async() at once, from memory: nothing can block, and the
 * splice writes the body straight after the headers.  A cancelled read
 * goes the usual GTask way.
 *
 * close_async() stays GMemoryInputStream's, answered on a later iteration:
 * GIO's splice goes on using its task after it asks for the close, so a
 * close that answered at once would let the splice's callback free that
 * task first. */

struct _FjBodyStream
{
  GMemoryInputStream parent_instance;
};

G_DEFINE_FINAL_TYPE (FjBodyStream, _fj_body_stream, G_TYPE_MEMORY_INPUT_STREAM)

/* The result of a read that completed when it was asked for. */
#define FJ_TYPE_READ_RESULT (fj_read_result_get_type ())
G_DECLARE_FINAL_TYPE (FjReadResult, fj_read_result, FJ, READ_RESULT, GObject)

struct _FjReadResult
{
  GObject   parent_instance;
  GObject  *source;
  gpointer  user_data;
  gssize    n_read;
};

static gpointer
fj_read_result_get_user_data (GAsyncResult *result)
{
  return FJ_READ_RESULT (result)->user_data;
}

static GObject *
fj_read_result_get_source_object (GAsyncResult *result)
{
  return g_object_ref (FJ_READ_RESULT (result)->source);
}

static gboolean
fj_read_result_is_tagged (GAsyncResult *result,
                          gpointer      source_tag)
{
  return source_tag == _fj_body_stream_new;
}

static void
fj_read_result_iface_init (GAsyncResultIface *iface)
{
  iface->get_user_data = fj_read_result_get_user_data;
  iface->get_source_object = fj_read_result_get_source_object;
  iface->is_tagged = fj_read_result_is_tagged;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (FjReadResult, fj_read_result, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_ASYNC_RESULT, fj_read_result_iface_init))

static void
fj_read_result_finalize (GObject *object)
{
  FjReadResult *self = FJ_READ_RESULT (object);

  g_clear_object (&self->source);

  G_OBJECT_CLASS (fj_read_result_parent_class)->finalize (object);
}

static void
fj_read_result_class_init (FjReadResultClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = fj_read_result_finalize;
}

static void
fj_read_result_init (FjReadResult *self)
{
}

static void
fj_body_stream_read_async (GInputStream        *stream,
                           void                *buffer,
                           gsize                count,
                           int                  io_priority,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(FjReadResult) result = NULL;
  g_autoptr(GError) error = NULL;

  if (g_cancellable_is_cancelled (cancellable))
    {
      G_INPUT_STREAM_CLASS (_fj_body_stream_parent_class)->read_async (stream, buffer, count, io_priority,
                                                                        cancellable, callback, user_data);
      return;
    }

  result = g_object_new (FJ_TYPE_READ_RESULT, NULL);
  result->source = g_object_ref (G_OBJECT (stream));
  result->user_data = user_data;
  /* Memory: never blocks, never fails. */
  result->n_read = G_INPUT_STREAM_GET_CLASS (stream)->read_fn (stream, buffer, count, NULL, &error);
  g_assert_no_error (error);

  callback (G_OBJECT (stream), G_ASYNC_RESULT (result), user_data);
}

static gssize
fj_body_stream_read_finish (GInputStream  *stream,
                            GAsyncResult  *result,
                            GError       **error)
{
  if (FJ_IS_READ_RESULT (result))
    return FJ_READ_RESULT (result)->n_read;

  return G_INPUT_STREAM_CLASS (_fj_body_stream_parent_class)->read_finish (stream, result, error);
}

static void
_fj_body_stream_class_init (FjBodyStreamClass *klass)
{
  GInputStreamClass *stream_class = G_INPUT_STREAM_CLASS (klass);

  stream_class->read_async = fj_body_stream_read_async;
  stream_class->read_finish = fj_body_stream_read_finish;
}

static void
_fj_body_stream_init (FjBodyStream *self)
{
}

/* A stream over @bytes (referenced). */
GInputStream *
_fj_body_stream_new (GBytes *bytes)
{
  GInputStream *stream = g_object_new (FJ_TYPE_BODY_STREAM, NULL);

  g_memory_input_stream_add_bytes (G_MEMORY_INPUT_STREAM (stream), bytes);

  return stream;
}
