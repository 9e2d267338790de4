/* fj-rate-limiter-private.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/* The gate every request of one FjClient passes before it is sent: token
 * buckets (requests, input tokens, output tokens per minute; each refills
 * continuously and holds one minute's worth), a shared pause (after a 429,
 * or when the server's anthropic-ratelimit-* headers report a budget spent)
 * and the adaptive in-flight width (DESIGN.md, Transport rules).  Requests
 * pass in FIFO order.  Thread-safe: waiters may come from several main
 * contexts; each is completed on its own. */
typedef struct _FjRateLimiter FjRateLimiter;

/* What one admitted request holds: returned to _fj_rate_limiter_leave(). */
typedef struct
{
  gint64 input_reserved;
  gint64 output_reserved;
} FjRateTicket;

typedef enum
{
  FJ_RATE_OUTCOME_SUCCESS,      /* a 2xx reply */
  FJ_RATE_OUTCOME_OVERLOAD,     /* 429 or 529: narrow the width */
  FJ_RATE_OUTCOME_OTHER,        /* anything else, or no reply */
} FjRateOutcome;

/* Called (from whichever thread made the change) when the width changes or a
 * pause starts or is extended; @reason and @until_unix_us only for a pause. */
typedef void (*FjRateLimiterNotify) (gpointer    user_data,
                                     gboolean    width_changed,
                                     const char *pause_reason,
                                     gint64      pause_until_unix_us);

FjRateLimiter *_fj_rate_limiter_new           (FjRateLimiterNotify  notify,
                                               gpointer             user_data);
void           _fj_rate_limiter_free          (FjRateLimiter       *self);

/* Per-minute limits, 0 = off.  Changing one refills that bucket. */
void           _fj_rate_limiter_set_limits    (FjRateLimiter       *self,
                                               guint                requests_per_minute,
                                               guint                input_tokens_per_minute,
                                               guint                output_tokens_per_minute);
void           _fj_rate_limiter_set_shared_pause (FjRateLimiter    *self,
                                               gboolean             shared_pause);
gboolean       _fj_rate_limiter_get_shared_pause (FjRateLimiter    *self);

/* Runners add what they want in flight; the width starts at, and widens
 * back up to, the sum.  0 asked = unlimited (width reads 0). */
void           _fj_rate_limiter_add_demand    (FjRateLimiter       *self,
                                               int                  delta);
guint          _fj_rate_limiter_get_width     (FjRateLimiter       *self);
guint          _fj_rate_limiter_get_in_flight (FjRateLimiter       *self);

/* Admits the request at once when nothing is queued and every limit
 * allows it (TRUE, @ticket filled); else FALSE and the caller waits in the
 * queue with _fj_rate_limiter_enter_async(). */
gboolean       _fj_rate_limiter_try_enter     (FjRateLimiter       *self,
                                               gint64               input_estimate,
                                               gint64               output_reserve,
                                               FjRateTicket        *ticket);

/* Completes (on the caller's thread-default context) once the request may
 * be sent, or with G_IO_ERROR_CANCELLED. */
void           _fj_rate_limiter_enter_async   (FjRateLimiter       *self,
                                               gint64               input_estimate,
                                               gint64               output_reserve,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean       _fj_rate_limiter_enter_finish  (FjRateLimiter       *self,
                                               GAsyncResult        *result,
                                               FjRateTicket        *ticket,
                                               GError             **error);

/* The request ended.  @input_used / @output_used correct the buckets (-1
 * when no usage is known: the reservation stands). */
void           _fj_rate_limiter_leave         (FjRateLimiter       *self,
                                               const FjRateTicket  *ticket,
                                               FjRateOutcome        outcome,
                                               gint64               input_used,
                                               gint64               output_used);

/* Pauses every new request for @seconds (the server's retry-after after a
 * 429), unless shared pauses are off. */
void           _fj_rate_limiter_pause         (FjRateLimiter       *self,
                                               double               seconds,
                                               const char          *reason);

/* Reads anthropic-ratelimit-* headers of any reply (unless shared pauses
 * are off): a budget we have no limit for teaches its bucket the server's
 * limit, no bucket holds more than the server says remains, and a spent
 * combined token budget pauses until enough of it is back. */
void           _fj_rate_limiter_observe       (FjRateLimiter       *self,
                                               SoupMessageHeaders  *headers);

G_END_DECLS
