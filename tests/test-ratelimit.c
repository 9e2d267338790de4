/* test-ratelimit.c — the client's shared rate limiting
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <libsoup/soup.h>

#include "fj-client-private.h"
#include "fj-rate-limiter-private.h"
#include "fj-test-utils.h"

/* ---------------------------------------------------------------------- */
/* The limiter on its own                                                 */
/* ---------------------------------------------------------------------- */

typedef struct
{
  guint  n_width;
  guint  n_pauses;
  char  *reason;
} Notes;

static void
notes_cb (gpointer    user_data,
          gboolean    width_changed,
          const char *pause_reason,
          gint64      pause_until_unix_us)
{
  Notes *notes = user_data;

  if (width_changed)
    notes->n_width++;
  if (pause_reason != NULL)
    {
      notes->n_pauses++;
      g_free (notes->reason);
      notes->reason = g_strdup (pause_reason);
    }
}

typedef struct
{
  guint        admitted;
  FjRateTicket tickets[256];
} Entered;

static void
entered_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  Entered *entered = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (_fj_rate_limiter_enter_finish (NULL, result,
                                                &entered->tickets[entered->admitted], &error));
  g_assert_no_error (error);
  entered->admitted++;
}

static void
enter (FjRateLimiter *limiter,
       gint64         input,
       gint64         output,
       Entered       *entered)
{
  _fj_rate_limiter_enter_async (limiter, input, output, NULL, entered_cb, entered);
}

static void
spin (double seconds)
{
  fj_test_run_for (seconds);
}

/* A bucket lets a minute's worth through at once, then its refill rate. */
static void
test_limiter_buckets (void)
{
  Notes notes = { 0 };
  FjRateLimiter *limiter = _fj_rate_limiter_new (notes_cb, &notes);
  Entered entered = { 0 };

  _fj_rate_limiter_set_limits (limiter, 120, 0, 0);
  for (guint i = 0; i < 121; i++)
    enter (limiter, 10, 10, &entered);

  spin (0.1);
  g_assert_cmpuint (entered.admitted, ==, 120);
  /* 120 per minute refills one every 0.5 s. */
  spin (0.7);
  g_assert_cmpuint (entered.admitted, ==, 121);

  for (guint i = 0; i < entered.admitted; i++)
    _fj_rate_limiter_leave (limiter, &entered.tickets[i], FJ_RATE_OUTCOME_SUCCESS, 10, 10);
  g_assert_cmpuint (_fj_rate_limiter_get_in_flight (limiter), ==, 0);

  _fj_rate_limiter_free (limiter);
  g_free (notes.reason);
}

/* Output tokens are reserved as max_tokens and given back as used. */
static void
test_limiter_reservation (void)
{
  FjRateLimiter *limiter = _fj_rate_limiter_new (NULL, NULL);
  Entered entered = { 0 };

  _fj_rate_limiter_set_limits (limiter, 0, 0, 6000);
  for (guint i = 0; i < 4; i++)
    enter (limiter, 100, 2000, &entered);
  spin (0.05);
  g_assert_cmpuint (entered.admitted, ==, 3);

  /* The first request was refused before the model ran: its whole
   * reservation comes back and the fourth fits now. */
  _fj_rate_limiter_leave (limiter, &entered.tickets[0], FJ_RATE_OUTCOME_OTHER, 0, 0);
  spin (0.05);
  g_assert_cmpuint (entered.admitted, ==, 4);

  for (guint i = 1; i < 4; i++)
    _fj_rate_limiter_leave (limiter, &entered.tickets[i], FJ_RATE_OUTCOME_OTHER, -1, -1);
  _fj_rate_limiter_free (limiter);
}

/* Halve on overload at most once a second, never below 4; widen by one. */
static void
test_limiter_width (void)
{
  Notes notes = { 0 };
  FjRateLimiter *limiter = _fj_rate_limiter_new (notes_cb, &notes);
  Entered entered = { 0 };

  g_assert_cmpuint (_fj_rate_limiter_get_width (limiter), ==, 0);
  _fj_rate_limiter_add_demand (limiter, 20);
  g_assert_cmpuint (_fj_rate_limiter_get_width (limiter), ==, 20);
  g_assert_cmpuint (notes.n_width, ==, 1);

  for (guint i = 0; i < 25; i++)
    enter (limiter, 1, 1, &entered);
  spin (0.05);
  g_assert_cmpuint (entered.admitted, ==, 20);

  /* Two overloads within a second halve once. */
  _fj_rate_limiter_leave (limiter, &entered.tickets[0], FJ_RATE_OUTCOME_OVERLOAD, -1, -1);
  _fj_rate_limiter_leave (limiter, &entered.tickets[1], FJ_RATE_OUTCOME_OVERLOAD, -1, -1);
  g_assert_cmpuint (_fj_rate_limiter_get_width (limiter), ==, 10);
  spin (0.05);
  /* 18 in flight, width 10: nobody new may start. */
  g_assert_cmpuint (entered.admitted, ==, 20);

  spin (1.05);
  _fj_rate_limiter_leave (limiter, &entered.tickets[2], FJ_RATE_OUTCOME_OVERLOAD, -1, -1);
  g_assert_cmpuint (_fj_rate_limiter_get_width (limiter), ==, 5);
  spin (1.05);
  _fj_rate_limiter_leave (limiter, &entered.tickets[3], FJ_RATE_OUTCOME_OVERLOAD, -1, -1);
  g_assert_cmpuint (_fj_rate_limiter_get_width (limiter), ==, 4);
  spin (1.05);
  _fj_rate_limiter_leave (limiter, &entered.tickets[4], FJ_RATE_OUTCOME_OVERLOAD, -1, -1);
  g_assert_cmpuint (_fj_rate_limiter_get_width (limiter), ==, 4);

  /* Successes widen by one each, up to the demand. */
  for (guint i = 5; i < 20; i++)
    _fj_rate_limiter_leave (limiter, &entered.tickets[i], FJ_RATE_OUTCOME_SUCCESS, 1, 1);
  g_assert_cmpuint (_fj_rate_limiter_get_width (limiter), ==, 19);
  spin (0.05);
  g_assert_cmpuint (entered.admitted, ==, 25);
  for (guint i = 20; i < 25; i++)
    _fj_rate_limiter_leave (limiter, &entered.tickets[i], FJ_RATE_OUTCOME_SUCCESS, 1, 1);
  g_assert_cmpuint (_fj_rate_limiter_get_width (limiter), ==, 20);

  /* A demand smaller than the floor is the floor. */
  _fj_rate_limiter_add_demand (limiter, -17);
  g_assert_cmpuint (_fj_rate_limiter_get_width (limiter), ==, 3);
  _fj_rate_limiter_add_demand (limiter, -3);
  g_assert_cmpuint (_fj_rate_limiter_get_width (limiter), ==, 0);

  _fj_rate_limiter_free (limiter);
  g_free (notes.reason);
}

static gint64
time_to_enter (FjRateLimiter *limiter)
{
  Entered entered = { 0 };
  gint64 start = g_get_monotonic_time ();

  enter (limiter, 1, 1, &entered);
  while (entered.admitted == 0)
    g_main_context_iteration (NULL, TRUE);
  _fj_rate_limiter_leave (limiter, &entered.tickets[0], FJ_RATE_OUTCOME_SUCCESS, 1, 1);

  return g_get_monotonic_time () - start;
}

static SoupMessageHeaders *
budget_headers (const char *budget,
                const char *limit,
                const char *remaining,
                double      reset_in)
{
  SoupMessageHeaders *headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) reset = g_date_time_add_seconds (now, reset_in);
  g_autofree char *reset_text = g_date_time_format_iso8601 (reset);
  g_autofree char *limit_name = g_strdup_printf ("anthropic-ratelimit-%s-limit", budget);
  g_autofree char *remaining_name = g_strdup_printf ("anthropic-ratelimit-%s-remaining", budget);
  g_autofree char *reset_name = g_strdup_printf ("anthropic-ratelimit-%s-reset", budget);

  if (limit != NULL)
    soup_message_headers_replace (headers, limit_name, limit);
  soup_message_headers_replace (headers, remaining_name, remaining);
  soup_message_headers_replace (headers, reset_name, reset_text);
  return headers;
}

/* The headers teach the buckets the server's limits and what remains. */
static void
test_limiter_headers (void)
{
  Notes notes = { 0 };
  FjRateLimiter *limiter = _fj_rate_limiter_new (notes_cb, &notes);
  SoupMessageHeaders *headers;

  /* Budget left: nothing waits. */
  headers = budget_headers ("requests", "50", "49", 1.0);
  _fj_rate_limiter_observe (limiter, headers);
  soup_message_headers_unref (headers);
  g_assert_cmpint (time_to_enter (limiter), <, 0.3 * G_USEC_PER_SEC * fj_test_time_scale ());

  /* Spent: the learned 50 a minute gives one request back in 1.2 s. */
  headers = budget_headers ("requests", "50", "0", 60.0);
  _fj_rate_limiter_observe (limiter, headers);
  soup_message_headers_unref (headers);
  g_assert_cmpint (time_to_enter (limiter), >=, 0.5 * G_USEC_PER_SEC);
  g_assert_cmpuint (notes.n_pauses, ==, 0);

  /* The combined token budget spent, with no limit given: a shared pause
   * until its reset, announced. */
  headers = budget_headers ("tokens", NULL, "0", 1.0);
  _fj_rate_limiter_observe (limiter, headers);
  soup_message_headers_unref (headers);
  g_assert_cmpuint (notes.n_pauses, ==, 1);
  g_assert_cmpstr (notes.reason, ==, "the token budget is spent");
  g_assert_cmpint (time_to_enter (limiter), >=, 0.5 * G_USEC_PER_SEC);
  _fj_rate_limiter_free (limiter);

  /* A switched-off shared pause ignores the headers. */
  limiter = _fj_rate_limiter_new (notes_cb, &notes);
  _fj_rate_limiter_set_shared_pause (limiter, FALSE);
  headers = budget_headers ("requests", "50", "0", 60.0);
  _fj_rate_limiter_observe (limiter, headers);
  soup_message_headers_unref (headers);
  g_assert_cmpint (time_to_enter (limiter), <, 0.3 * G_USEC_PER_SEC * fj_test_time_scale ());
  _fj_rate_limiter_free (limiter);

  g_free (notes.reason);
}

static void
cancelled_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  gboolean *cancelled = user_data;
  FjRateTicket ticket;
  g_autoptr(GError) error = NULL;

  g_assert_false (_fj_rate_limiter_enter_finish (NULL, result, &ticket, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  *cancelled = TRUE;
}

/* A waiter that is cancelled leaves the queue; the one behind moves up. */
static void
test_limiter_cancel (void)
{
  FjRateLimiter *limiter = _fj_rate_limiter_new (NULL, NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  Entered entered = { 0 };
  gboolean cancelled = FALSE;

  _fj_rate_limiter_add_demand (limiter, 1);
  enter (limiter, 1, 1, &entered);
  _fj_rate_limiter_enter_async (limiter, 1, 1, cancellable, cancelled_cb, &cancelled);
  enter (limiter, 1, 1, &entered);
  spin (0.05);
  g_assert_cmpuint (entered.admitted, ==, 1);

  g_cancellable_cancel (cancellable);
  fj_test_wait_for (&cancelled, 5);
  _fj_rate_limiter_leave (limiter, &entered.tickets[0], FJ_RATE_OUTCOME_SUCCESS, 1, 1);
  spin (0.05);
  g_assert_cmpuint (entered.admitted, ==, 2);
  _fj_rate_limiter_leave (limiter, &entered.tickets[1], FJ_RATE_OUTCOME_SUCCESS, 1, 1);

  _fj_rate_limiter_add_demand (limiter, -1);
  _fj_rate_limiter_free (limiter);
}

/* ---------------------------------------------------------------------- */
/* Through the client, against the simulator                              */
/* ---------------------------------------------------------------------- */

/* The simulator's limit: 3,000 output tokens a minute; every request
 * reserves its max_tokens (300) and uses 20. */
#define LIMITED_SCENARIO \
  "{\"latency\": 0.05, \"output_tokens\": 20," \
  " \"rate_limits\": {\"output_tokens_per_minute\": 3000}}"
#define N_AGENTS 50

/* The same with replies slow enough that the whole first burst reaches
 * the server before any reply's headers can teach a client without limits
 * the server's: on a slow machine (ASan) a 50 ms reply came back while
 * connections were still being opened, the client learned the limit from
 * it, and no 429 came. */
#define LIMITED_SLOW_SCENARIO \
  "{\"latency\": 0.4, \"output_tokens\": 20," \
  " \"rate_limits\": {\"output_tokens_per_minute\": 3000}}"

typedef struct
{
  guint n_done;
  guint n_success;
} Fleet;

static void
agent_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Fleet *fleet = user_data;
  g_autoptr(FjAgentResult) res = fj_agent_run_finish (FJ_AGENT (source), result, NULL);

  g_assert_nonnull (res);
  if (fj_agent_result_get_status (res) == FJ_AGENT_STATUS_SUCCESS)
    fleet->n_success++;
  else
    g_test_message ("%s: %s", fj_agent_result_get_agent_name (res),
                    fj_agent_result_get_error_message (res));
  fleet->n_done++;
}

static gboolean
fleet_done (Fleet *fleet)
{
  return fleet->n_done == N_AGENTS;
}

static guint
run_fleet (FjSimulator *sim,
           FjClient    *client)
{
  g_autoptr(GPtrArray) agents = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(JsonNode) stats = NULL;
  JsonObject *status;
  Fleet fleet = { 0 };
  gint64 start = g_get_monotonic_time ();

  fj_simulator_reset_stats (sim);
  for (guint i = 0; i < N_AGENTS; i++)
    {
      g_autofree char *name = g_strdup_printf ("analyst-%u", i);
      g_autofree char *instructions = g_strdup_printf ("You are analyst number %u.", i);
      FjAgent *agent = fj_agent_new (name);

      fj_agent_set_instructions (agent, instructions);
      fj_agent_set_max_tokens (agent, 300);
      fj_agent_set_stream (agent, i % 2 == 0);
      g_ptr_array_add (agents, agent);
      fj_agent_run_async (agent, client, "Summarise the quarter", NULL, agent_done_cb, &fleet);
    }

  while (!fleet_done (&fleet) && g_get_monotonic_time () - start < 120 * G_USEC_PER_SEC * fj_test_time_scale ())
    g_main_context_iteration (NULL, TRUE);

  g_assert_cmpuint (fleet.n_done, ==, N_AGENTS);
  g_assert_cmpuint (fleet.n_success, ==, N_AGENTS);

  g_test_message ("%u agents in %.1f s", N_AGENTS, (g_get_monotonic_time () - start) / 1e6);
  stats = fj_simulator_get_stats (sim);
  status = json_object_get_object_member (json_node_get_object (stats), "status");
  return json_object_has_member (status, "429") ?
         (guint) json_object_get_int_member (status, "429") : 0;
}

/* The client's limits set to the simulator's: no 429 at all.  Set 1 %
 * under them: the two buckets are debited a request's travel time apart,
 * and while the server's is full it wastes refill that the client's,
 * already debited, keeps, so at exactly the same limit a loaded machine
 * once saw the client a few tokens ahead of the server. */
static void
test_matching_limits (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (LIMITED_SCENARIO);
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  guint n_429;

  fj_client_set_output_tokens_per_minute (client, 2970);
  n_429 = run_fleet (sim, client);
  g_test_message ("client limits = simulator limits: %u agents, %u 429s", N_AGENTS, n_429);
  g_assert_cmpuint (n_429, ==, 0);
}

typedef struct
{
  guint  n_paused;
  guint  n_paused_for_429;
} Paused;

static void
paused_cb (FjClient   *client,
           const char *reason,
           GDateTime  *until,
           gpointer    user_data)
{
  Paused *paused = user_data;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  paused->n_paused++;
  if (g_strcmp0 (reason, "HTTP 429 rate_limit_error") == 0)
    paused->n_paused_for_429++;
  else
    g_assert_true (g_str_has_suffix (reason, "budget is spent"));
  g_assert_cmpint (g_date_time_compare (until, now), >=, 0);
}

/* No limits on the client: every agent still succeeds through retries;
 * the shared pause cuts the 429s the server has to send. */
static void
test_no_client_limits (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (LIMITED_SLOW_SCENARIO);
  g_autoptr(FjClient) shared = fj_test_client_new (sim);
  g_autoptr(FjClient) solo = fj_test_client_new (sim);
  Paused paused = { 0 };
  guint with_pause, without_pause;
  gint64 start = g_get_monotonic_time ();

  fj_client_set_max_retries (shared, 30);
  g_signal_connect (shared, "paused", G_CALLBACK (paused_cb), &paused);
  with_pause = run_fleet (sim, shared);
  g_assert_cmpuint (with_pause, >, 0);
  /* The pause is shared and announced: after a 429, or earlier, when the
   * headers already said the budget was spent. */
  g_assert_cmpuint (paused.n_paused, >, 0);

  /* Let the simulator's bucket fill up again for a fair second run. */
  fj_test_run_for (6.5);

  fj_client_set_max_retries (solo, 30);
  fj_client_set_shared_pause (solo, FALSE);
  g_test_message ("with the shared pause: %.1f s", (g_get_monotonic_time () - start) / 1e6);
  start = g_get_monotonic_time ();
  without_pause = run_fleet (sim, solo);
  g_test_message ("without it: %.1f s", (g_get_monotonic_time () - start) / 1e6);
  g_assert_cmpuint (without_pause, >, 0);

  g_test_message ("no client limits, %u agents: %u 429s with the shared pause, %u without",
                  N_AGENTS, with_pause, without_pause);
}

static void
on_width (FjClient   *client,
          GParamSpec *pspec,
          guint      *min_width)
{
  *min_width = MIN (*min_width, fj_client_get_width (client));
}

/* 529s narrow the client's width; successes bring it back. */
static void
test_adaptive_width (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"latency\": 0.05, \"failures\": [{\"status\": 529, \"attempts\": 1, \"retry_after_ms\": 100}]}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  guint min_width = G_MAXUINT;
  Fleet fleet = { 0 };
  g_autoptr(GPtrArray) agents = g_ptr_array_new_with_free_func (g_object_unref);

  _fj_client_add_demand (client, 16);
  g_assert_cmpuint (fj_client_get_width (client), ==, 16);
  g_signal_connect (client, "notify::width", G_CALLBACK (on_width), &min_width);

  for (guint i = 0; i < N_AGENTS; i++)
    {
      g_autofree char *instructions = g_strdup_printf ("You are analyst number %u.", i);
      FjAgent *agent = fj_agent_new ("analyst");

      fj_agent_set_instructions (agent, instructions);
      g_ptr_array_add (agents, agent);
      fj_agent_run_async (agent, client, "Go", NULL, agent_done_cb, &fleet);
    }
  while (!fleet_done (&fleet))
    g_main_context_iteration (NULL, TRUE);

  g_assert_cmpuint (fleet.n_success, ==, N_AGENTS);
  g_assert_cmpuint (min_width, <, 16);
  g_assert_cmpuint (min_width, >=, 4);
  g_assert_cmpuint (fj_simulator_get_max_in_flight (sim), <=, 16);
  g_assert_cmpuint (fj_client_get_width (client), ==, 16);

  _fj_client_add_demand (client, -16);
  g_assert_cmpuint (fj_client_get_width (client), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  fj_test_init (&argc, &argv);

  g_test_add_func ("/Forkjoin/RateLimit/limiter/buckets", test_limiter_buckets);
  g_test_add_func ("/Forkjoin/RateLimit/limiter/reservation", test_limiter_reservation);
  g_test_add_func ("/Forkjoin/RateLimit/limiter/width", test_limiter_width);
  g_test_add_func ("/Forkjoin/RateLimit/limiter/headers", test_limiter_headers);
  g_test_add_func ("/Forkjoin/RateLimit/limiter/cancel", test_limiter_cancel);
  g_test_add_func ("/Forkjoin/RateLimit/matching-limits", test_matching_limits);
  g_test_add_func ("/Forkjoin/RateLimit/no-client-limits", test_no_client_limits);
  g_test_add_func ("/Forkjoin/RateLimit/adaptive-width", test_adaptive_width);

  return g_test_run ();
}
