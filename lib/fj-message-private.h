/* fj-message-private.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fj-message.h"

G_BEGIN_DECLS

/* Where an attempt is spending its time; used to say where the time went
 * when an agent times out. */
typedef enum
{
  FJ_MESSAGE_PHASE_IDLE,
  FJ_MESSAGE_PHASE_RATE_LIMIT,   /* waiting for the client's rate limiter */
  FJ_MESSAGE_PHASE_WAITING,      /* request sent, waiting for the API's headers */
  FJ_MESSAGE_PHASE_STREAMING,    /* reading the body */
  FJ_MESSAGE_PHASE_RETRY_SLEEP,  /* sleeping before a retry */
  FJ_MESSAGE_PHASE_DONE,
} FjMessagePhase;

const char    *_fj_message_phase_describe   (FjMessagePhase  phase);

/* Reply state.  Called by FjClient, on the thread that sends. */
void           _fj_message_begin_attempt    (FjMessage      *self,
                                             guint           attempt);
/* The attempt begun last ended before its request was sent (cancelled or
 * timed out while it waited for the rate limiter): it does not count. */
void           _fj_message_drop_unsent_attempt   (FjMessage      *self);
void           _fj_message_set_status_code  (FjMessage      *self,
                                             guint           status_code);
void           _fj_message_set_request_id   (FjMessage      *self,
                                             const char     *request_id);
void           _fj_message_set_phase        (FjMessage      *self,
                                             FjMessagePhase  phase);
FjMessagePhase _fj_message_get_phase        (FjMessage      *self);

/* The agent's absolute deadline in g_get_monotonic_time() units, or 0.
 * A retry never sleeps past it. */
void           _fj_message_set_deadline     (FjMessage      *self,
                                             gint64          deadline_us);
gint64         _fj_message_get_deadline     (FjMessage      *self);

/* A non-streaming reply body (`{"type":"message",...}`). A body of
 * `{"type":"error",...}` or anything that is not a Message is an error. */
gboolean       _fj_message_load_reply       (FjMessage      *self,
                                             const char     *data,
                                             gsize           length,
                                             GError        **error);

/* One SSE event of a streamed reply (event name, data payload).  Text deltas
 * are emitted as ::text-delta as they arrive.  An `error` event sets @error
 * with the code for its error type and returns FALSE, and so does a
 * protocol violation (an event before message_start, a second
 * message_start, malformed JSON, a delta for a block that does not exist). */
gboolean       _fj_message_handle_event     (FjMessage      *self,
                                             const char     *event,
                                             const char     *data,
                                             gsize           length,
                                             GError        **error);

/* The stream ended cleanly (EOF): finish blocks left open (a tool_use cut by
 * max_tokens keeps its input as {} when the partial JSON does not parse) and
 * fail with FJ_ERROR_PROTOCOL when no message_stop came. */
gboolean       _fj_message_end_stream       (FjMessage      *self,
                                             GError        **error);

gboolean       _fj_message_get_saw_body     (FjMessage      *self);

/* Called on the sending thread, once, when the API begins to answer: a
 * stream's message_start, or a plain reply that is a Message (a prompt
 * cache entry is readable from then on). @func NULL removes it. */
typedef void (*FjMessageStartedFunc) (FjMessage *message,
                                      gpointer   user_data);
void           _fj_message_set_started_func (FjMessage            *self,
                                             FjMessageStartedFunc  func,
                                             gpointer              user_data);
void           _fj_message_emit_retrying    (FjMessage      *self,
                                             guint           attempt,
                                             double          delay_seconds,
                                             const GError   *reason);

G_END_DECLS
