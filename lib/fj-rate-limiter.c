/* fj-rate-limiter.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>

#include <libsoup/soup.h>

#include "fj-rate-limiter-private.h"

#define WIDTH_FLOOR 4
#define HALVE_INTERVAL_US G_USEC_PER_SEC

typedef struct
{
  double capacity;   /* one minute's worth; 0 = off */
  double level;
  gint64 updated;    /* monotonic µs */
} Bucket;

typedef struct
{
  FjRateLimiter *limiter;
  GTask         *task;
  GSource       *cancel_source;
  gint64         input;
  gint64         output;
  gboolean       queued;
} Waiter;

struct _FjRateLimiter
{
  GMutex               lock;
  FjRateLimiterNotify  notify;
  gpointer             notify_data;

  Bucket               requests;
  Bucket               input;
  Bucket               output;

  gboolean             shared_pause;
  gint64               paused_until;     /* monotonic µs */

  guint                demand;           /* 0 = unlimited */
  guint                width;
  guint                in_flight;
  gint64               last_narrowed;

  /* The last admitted request's estimates: "the next request" when the
   * headers say how much budget remains. */
  gint64               last_input;
  gint64               last_output;

  GQueue               waiters;
  GSource             *timer;
};

static void
bucket_set_capacity (Bucket *bucket,
                     double  capacity,
                     gint64  now)
{
  bucket->capacity = capacity;
  bucket->level = capacity;
  bucket->updated = now;
}

static void
bucket_refill (Bucket *bucket,
               gint64  now)
{
  if (bucket->capacity <= 0)
    return;

  bucket->level = MIN (bucket->capacity,
                       bucket->level + bucket->capacity * (now - bucket->updated) /
                                       (60.0 * G_USEC_PER_SEC));
  bucket->updated = now;
}

/* Microseconds until @bucket can give @need, 0 if it can now.  A request
 * larger than the whole bucket passes once the bucket is full, leaving it
 * in debt, as the API's own buckets do. */
static gint64
bucket_wait (const Bucket *bucket,
             double        need)
{
  double missing;

  if (bucket->capacity <= 0)
    return 0;

  need = MIN (need, bucket->capacity);
  missing = need - bucket->level;
  if (missing <= 0)
    return 0;

  return (gint64) ceil (missing * 60.0 * G_USEC_PER_SEC / bucket->capacity);
}

static void
bucket_take (Bucket *bucket,
             double  amount)
{
  if (bucket->capacity > 0)
    bucket->level -= amount;
}

static void
bucket_give (Bucket *bucket,
             double  amount)
{
  if (bucket->capacity > 0)
    bucket->level = MIN (bucket->capacity, bucket->level + amount);
}

FjRateLimiter *
_fj_rate_limiter_new (FjRateLimiterNotify notify,
                      gpointer            user_data)
{
  FjRateLimiter *self = g_new0 (FjRateLimiter, 1);

  g_mutex_init (&self->lock);
  self->notify = notify;
  self->notify_data = user_data;
  self->shared_pause = TRUE;
  g_queue_init (&self->waiters);

  return self;
}

void
_fj_rate_limiter_free (FjRateLimiter *self)
{
  if (self == NULL)
    return;

  /* Every waiter holds a reference on its client, which owns us: none can
   * be left when we are freed. */
  g_assert (g_queue_is_empty (&self->waiters));

  if (self->timer != NULL)
    {
      g_source_destroy (self->timer);
      g_source_unref (self->timer);
    }
  g_mutex_clear (&self->lock);
  g_free (self);
}

void
_fj_rate_limiter_set_shared_pause (FjRateLimiter *self,
                                   gboolean       shared_pause)
{
  g_mutex_lock (&self->lock);
  self->shared_pause = !!shared_pause;
  g_mutex_unlock (&self->lock);
}

gboolean
_fj_rate_limiter_get_shared_pause (FjRateLimiter *self)
{
  gboolean ret;

  g_mutex_lock (&self->lock);
  ret = self->shared_pause;
  g_mutex_unlock (&self->lock);

  return ret;
}

guint
_fj_rate_limiter_get_width (FjRateLimiter *self)
{
  guint ret;

  g_mutex_lock (&self->lock);
  ret = self->demand == 0 ? 0 : self->width;
  g_mutex_unlock (&self->lock);

  return ret;
}

guint
_fj_rate_limiter_get_in_flight (FjRateLimiter *self)
{
  guint ret;

  g_mutex_lock (&self->lock);
  ret = self->in_flight;
  g_mutex_unlock (&self->lock);

  return ret;
}

static void waiter_admit_or_cancel (Waiter *waiter, GError *error);
static void dispatch_locked (FjRateLimiter *self, GPtrArray *admitted);

static void
complete_admitted (GPtrArray *admitted)
{
  for (guint i = 0; i < admitted->len; i++)
    waiter_admit_or_cancel (g_ptr_array_index (admitted, i), NULL);
}

/* Admits what can go now.  Call without the lock. */
static void
dispatch (FjRateLimiter *self)
{
  g_autoptr(GPtrArray) admitted = g_ptr_array_new ();

  g_mutex_lock (&self->lock);
  dispatch_locked (self, admitted);
  g_mutex_unlock (&self->lock);

  complete_admitted (admitted);
}

static gboolean
timer_cb (gpointer user_data)
{
  FjRateLimiter *self = user_data;

  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->timer, g_source_unref);
  g_mutex_unlock (&self->lock);

  dispatch (self);

  return G_SOURCE_REMOVE;
}

/* Wakes the queue at @when (monotonic µs), on the head waiter's context. */
static void
arm_timer_locked (FjRateLimiter *self,
                  Waiter        *head,
                  gint64         when)
{
  GMainContext *context = g_task_get_context (head->task);

  if (self->timer != NULL)
    {
      if (g_source_get_context (self->timer) == context &&
          g_source_get_ready_time (self->timer) <= when &&
          g_source_get_ready_time (self->timer) >= 0)
        return;
      g_source_destroy (self->timer);
      g_source_unref (self->timer);
    }

  self->timer = g_timeout_source_new (0);
  g_source_set_ready_time (self->timer, when);
  g_source_set_callback (self->timer, timer_cb, self, NULL);
  g_source_set_static_name (self->timer, "[forkjoin] rate limiter");
  g_source_attach (self->timer, context);
}

static void
dispatch_locked (FjRateLimiter *self,
                 GPtrArray     *admitted)
{
  Waiter *head;

  while ((head = g_queue_peek_head (&self->waiters)) != NULL)
    {
      gint64 now = g_get_monotonic_time ();
      gint64 wait;

      if (self->paused_until > now)
        {
          arm_timer_locked (self, head, self->paused_until);
          return;
        }

      if (self->demand > 0 && self->in_flight >= self->width)
        return;  /* woken by _fj_rate_limiter_leave() */

      bucket_refill (&self->requests, now);
      bucket_refill (&self->input, now);
      bucket_refill (&self->output, now);
      wait = MAX (bucket_wait (&self->requests, 1),
                  MAX (bucket_wait (&self->input, head->input),
                       bucket_wait (&self->output, head->output)));
      if (wait > 0)
        {
          arm_timer_locked (self, head, now + wait);
          return;
        }

      bucket_take (&self->requests, 1);
      bucket_take (&self->input, head->input);
      bucket_take (&self->output, head->output);
      self->in_flight++;
      self->last_input = head->input;
      self->last_output = head->output;

      g_queue_pop_head (&self->waiters);
      head->queued = FALSE;
      g_ptr_array_add (admitted, head);
    }
}

static void
waiter_free (Waiter *waiter)
{
  if (waiter->cancel_source != NULL)
    {
      g_source_destroy (waiter->cancel_source);
      g_source_unref (waiter->cancel_source);
    }
  g_free (waiter);
}

/* Completes @waiter's task: admitted (@error NULL) or not. */
static void
waiter_admit_or_cancel (Waiter *waiter,
                        GError *error)
{
  GTask *task = waiter->task;

  if (error == NULL)
    {
      FjRateTicket *ticket = g_new0 (FjRateTicket, 1);

      ticket->input_reserved = waiter->input;
      ticket->output_reserved = waiter->output;
      g_task_return_pointer (task, ticket, g_free);
    }
  else
    g_task_return_error (task, error);

  waiter_free (waiter);
  g_object_unref (task);
}

static gboolean
waiter_cancelled_cb (GCancellable *cancellable,
                     gpointer      user_data)
{
  Waiter *waiter = user_data;
  FjRateLimiter *self = waiter->limiter;
  gboolean was_queued;

  g_mutex_lock (&self->lock);
  was_queued = waiter->queued;
  if (was_queued)
    {
      g_queue_remove (&self->waiters, waiter);
      waiter->queued = FALSE;
    }
  g_mutex_unlock (&self->lock);

  if (was_queued)
    {
      waiter_admit_or_cancel (waiter, g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                   "cancelled while waiting for the rate limit"));
      /* The head may have changed. */
      dispatch (self);
    }

  return G_SOURCE_REMOVE;
}

gboolean
_fj_rate_limiter_try_enter (FjRateLimiter *self,
                            gint64         input_estimate,
                            gint64         output_reserve,
                            FjRateTicket  *ticket)
{
  gint64 now = g_get_monotonic_time ();
  gboolean admitted = FALSE;

  input_estimate = MAX (input_estimate, 0);
  output_reserve = MAX (output_reserve, 0);

  g_mutex_lock (&self->lock);
  if (g_queue_is_empty (&self->waiters) &&
      self->paused_until <= now &&
      (self->demand == 0 || self->in_flight < self->width))
    {
      bucket_refill (&self->requests, now);
      bucket_refill (&self->input, now);
      bucket_refill (&self->output, now);
      if (bucket_wait (&self->requests, 1) == 0 &&
          bucket_wait (&self->input, input_estimate) == 0 &&
          bucket_wait (&self->output, output_reserve) == 0)
        {
          bucket_take (&self->requests, 1);
          bucket_take (&self->input, input_estimate);
          bucket_take (&self->output, output_reserve);
          self->in_flight++;
          self->last_input = input_estimate;
          self->last_output = output_reserve;
          ticket->input_reserved = input_estimate;
          ticket->output_reserved = output_reserve;
          admitted = TRUE;
        }
    }
  g_mutex_unlock (&self->lock);

  return admitted;
}

void
_fj_rate_limiter_enter_async (FjRateLimiter       *self,
                              gint64               input_estimate,
                              gint64               output_reserve,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GPtrArray) admitted = g_ptr_array_new ();
  Waiter *waiter;
  GTask *task;

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, _fj_rate_limiter_enter_async);

  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }

  waiter = g_new0 (Waiter, 1);
  waiter->limiter = self;
  waiter->task = task;
  waiter->input = MAX (input_estimate, 0);
  waiter->output = MAX (output_reserve, 0);
  waiter->queued = TRUE;

  g_mutex_lock (&self->lock);
  g_queue_push_tail (&self->waiters, waiter);
  dispatch_locked (self, admitted);

  /* Only a waiter left in the queue can be cancelled: one admitted at
   * once needs no source. Under the lock, so that no other thread admits
   * and frees it meanwhile. */
  if (waiter->queued && cancellable != NULL)
    {
      waiter->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (waiter->cancel_source,
                             (GSourceFunc) (void (*)(void)) waiter_cancelled_cb, waiter, NULL);
      g_source_attach (waiter->cancel_source, g_task_get_context (task));
    }
  g_mutex_unlock (&self->lock);

  complete_admitted (admitted);
}

gboolean
_fj_rate_limiter_enter_finish (FjRateLimiter  *self,
                               GAsyncResult   *result,
                               FjRateTicket   *ticket,
                               GError        **error)
{
  g_autofree FjRateTicket *got = g_task_propagate_pointer (G_TASK (result), error);

  if (got == NULL)
    return FALSE;

  *ticket = *got;
  return TRUE;
}

static gboolean
set_width_locked (FjRateLimiter *self,
                  guint          width)
{
  if (self->width == width)
    return FALSE;
  self->width = width;
  return TRUE;
}

void
_fj_rate_limiter_leave (FjRateLimiter      *self,
                        const FjRateTicket *ticket,
                        FjRateOutcome       outcome,
                        gint64              input_used,
                        gint64              output_used)
{
  gboolean width_changed = FALSE;
  gint64 now = g_get_monotonic_time ();

  g_mutex_lock (&self->lock);

  g_assert (self->in_flight > 0);
  self->in_flight--;

  bucket_refill (&self->input, now);
  bucket_refill (&self->output, now);
  if (input_used >= 0)
    bucket_give (&self->input, ticket->input_reserved - input_used);
  if (output_used >= 0)
    bucket_give (&self->output, ticket->output_reserved - output_used);

  if (self->demand > 0)
    {
      if (outcome == FJ_RATE_OUTCOME_OVERLOAD &&
          now - self->last_narrowed >= HALVE_INTERVAL_US)
        {
          guint floor = MIN (WIDTH_FLOOR, self->demand);

          self->last_narrowed = now;
          width_changed = set_width_locked (self, MAX (self->width / 2, floor));
        }
      else if (outcome == FJ_RATE_OUTCOME_SUCCESS && self->width < self->demand)
        width_changed = set_width_locked (self, self->width + 1);
    }

  g_mutex_unlock (&self->lock);

  if (width_changed && self->notify != NULL)
    self->notify (self->notify_data, TRUE, NULL, 0);

  dispatch (self);
}

void
_fj_rate_limiter_add_demand (FjRateLimiter *self,
                             int            delta)
{
  gboolean width_changed;
  guint old_width;

  g_mutex_lock (&self->lock);
  old_width = self->demand == 0 ? 0 : self->width;
  g_assert (delta >= 0 || (guint) -delta <= self->demand);
  if (self->demand == 0)
    self->width = 0;
  self->demand += delta;
  if (delta > 0)
    self->width = MIN (self->width + delta, self->demand);
  else
    self->width = MIN (self->width, self->demand);
  width_changed = old_width != (self->demand == 0 ? 0 : self->width);
  g_mutex_unlock (&self->lock);

  if (width_changed && self->notify != NULL)
    self->notify (self->notify_data, TRUE, NULL, 0);

  dispatch (self);
}

void
_fj_rate_limiter_set_limits (FjRateLimiter *self,
                             guint          requests_per_minute,
                             guint          input_tokens_per_minute,
                             guint          output_tokens_per_minute)
{
  gint64 now = g_get_monotonic_time ();

  g_mutex_lock (&self->lock);
  if (self->requests.capacity != requests_per_minute)
    bucket_set_capacity (&self->requests, requests_per_minute, now);
  if (self->input.capacity != input_tokens_per_minute)
    bucket_set_capacity (&self->input, input_tokens_per_minute, now);
  if (self->output.capacity != output_tokens_per_minute)
    bucket_set_capacity (&self->output, output_tokens_per_minute, now);
  g_mutex_unlock (&self->lock);

  dispatch (self);
}

/* Extends the pause to @until (monotonic µs).  Returns whether it grew. */
static gboolean
pause_until_locked (FjRateLimiter *self,
                    gint64         until)
{
  if (!self->shared_pause || until <= self->paused_until)
    return FALSE;

  self->paused_until = until;
  return TRUE;
}

static void
notify_pause (FjRateLimiter *self,
              const char    *reason,
              gint64         until_monotonic)
{
  if (self->notify != NULL)
    self->notify (self->notify_data, FALSE, reason,
                  g_get_real_time () + (until_monotonic - g_get_monotonic_time ()));
}

void
_fj_rate_limiter_pause (FjRateLimiter *self,
                        double         seconds,
                        const char    *reason)
{
  gint64 until = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  gboolean grew;

  g_mutex_lock (&self->lock);
  grew = pause_until_locked (self, until);
  g_mutex_unlock (&self->lock);

  if (grew)
    {
      g_debug ("pausing new requests for %.3f s: %s", seconds, reason);
      notify_pause (self, reason, until);
    }
}

/* The reset time of a budget, as monotonic µs, or 0. */
static gint64
parse_reset (SoupMessageHeaders *headers,
             const char         *name)
{
  const char *value = soup_message_headers_get_one (headers, name);
  g_autoptr(GDateTime) when = NULL;
  gint64 delta;

  if (value == NULL || (when = g_date_time_new_from_iso8601 (value, NULL)) == NULL)
    return 0;

  delta = g_date_time_to_unix (when) * G_USEC_PER_SEC + g_date_time_get_microsecond (when) -
          g_get_real_time ();
  return g_get_monotonic_time () + MAX (delta, 0);
}

static gboolean
parse_remaining (SoupMessageHeaders *headers,
                 const char         *name,
                 gint64             *remaining)
{
  const char *value = soup_message_headers_get_one (headers, name);
  char *end = NULL;
  gint64 parsed;

  if (value == NULL)
    return FALSE;

  parsed = g_ascii_strtoll (value, &end, 10);
  if (end == value || parsed < 0)
    return FALSE;

  *remaining = parsed;
  return TRUE;
}

void
_fj_rate_limiter_observe (FjRateLimiter      *self,
                          SoupMessageHeaders *headers)
{
  struct {
    const char *prefix;
    Bucket     *bucket;
  } budgets[] = {
    { "anthropic-ratelimit-requests", &self->requests },
    { "anthropic-ratelimit-input-tokens", &self->input },
    { "anthropic-ratelimit-output-tokens", &self->output },
  };
  gint64 now = g_get_monotonic_time ();
  gint64 remaining, limit;
  gint64 pause_until = 0;
  gboolean learned_tokens = FALSE;

  g_mutex_lock (&self->lock);

  if (!self->shared_pause)
    {
      g_mutex_unlock (&self->lock);
      return;
    }

  /* Each budget the server reports becomes, or corrects, our bucket for
   * it: a bucket we had no limit for learns the server's, and none holds
   * more than the server says remains.  Requests then wait in the shared
   * queue for refills and for what finishing requests give back, rather
   * than for the reset time, which is when the budget is full again. */
  for (guint i = 0; i < G_N_ELEMENTS (budgets); i++)
    {
      g_autofree char *limit_name = g_strconcat (budgets[i].prefix, "-limit", NULL);
      g_autofree char *remaining_name = g_strconcat (budgets[i].prefix, "-remaining", NULL);
      Bucket *bucket = budgets[i].bucket;

      if (!parse_remaining (headers, remaining_name, &remaining))
        continue;
      if (bucket != &self->requests)
        learned_tokens = TRUE;

      if (bucket->capacity <= 0 && parse_remaining (headers, limit_name, &limit) && limit > 0)
        {
          g_debug ("learned a limit of %" G_GINT64_FORMAT " a minute from %s",
                   limit, limit_name);
          bucket_set_capacity (bucket, limit, now);
        }

      if (bucket->capacity > 0)
        {
          bucket_refill (bucket, now);
          bucket->level = MIN (bucket->level, (double) remaining);
        }
    }

  /* The combined token budget is the most restrictive of the token
   * limits; when the input and output budgets are reported the buckets
   * already cover it.  Alone, it has no bucket: when it cannot cover a
   * request like the last one, pause until enough is back, assuming it
   * refills evenly until its reset. */
  if (!learned_tokens &&
      parse_remaining (headers, "anthropic-ratelimit-tokens-remaining", &remaining))
    {
      gint64 next = MAX (self->last_input + self->last_output, 1);

      if (remaining < next)
        {
          gint64 reset = parse_reset (headers, "anthropic-ratelimit-tokens-reset");

          if (reset > now && parse_remaining (headers, "anthropic-ratelimit-tokens-limit", &limit) &&
              limit > remaining)
            reset = now + (gint64) ((reset - now) * (double) (MIN (next, limit) - remaining) /
                                    (double) (limit - remaining));
          if (reset > now && pause_until_locked (self, reset))
            pause_until = reset;
        }
    }

  g_mutex_unlock (&self->lock);

  if (pause_until > 0)
    {
      g_debug ("pausing new requests: the token budget is spent");
      notify_pause (self, "the token budget is spent", pause_until);
    }

  dispatch (self);
}
