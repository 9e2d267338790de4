/* fj-agent-runner.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-agent-runner.h"

#include <math.h>
#include <string.h>

#include "fj-agent-private.h"
#include "fj-agent-runner-private.h"
#include "fj-agent-result-private.h"
#include "fj-client-private.h"
#include "fj-error.h"
#include "fj-marshal.h"
#include "fj-run-state-private.h"
#include "fj-sync-call-private.h"

/**
 * FjAgentRunner:
 *
 * Runs many agents on one input at once and settles every one of them.
 *
 * [method@AgentRunner.run_async] starts the agents of a
 * [iface@Gio.ListModel] of [class@Agent] in order, at most
 * [property@AgentRunner:max-concurrent] at a time, and gives back one
 * [class@AgentResult] per agent, in agent order. A failing agent never
 * fails the run and never loses a sibling: its result says what happened.
 *
 * Time: an agent's own [property@Agent:timeout] (else the runner's
 * [property@AgentRunner:agent-timeout]) starts when it is admitted and
 * covers every attempt, turn and retry wait. The run's
 * [property@AgentRunner:deadline] covers everything including queue time:
 * at the deadline running agents end timed-out and queued ones are
 * skipped. Cancelling the run cancels the requests in flight at once; the
 * run still returns every result (finished ones as they were, running ones
 * cancelled, queued ones skipped).
 *
 * Live progress: [property@AgentRunner:results] holds every agent's result
 * from the start, each updated in place with property notifications; the
 * counters ([property@AgentRunner:n-pending] and the others) always add up
 * to the number of agents; and the signals
 * [signal@AgentRunner::agent-started],
 * [signal@AgentRunner::agent-first-token],
 * [signal@AgentRunner::agent-delta],
 * [signal@AgentRunner::agent-retrying] and
 * [signal@AgentRunner::agent-finished] follow each agent.
 *
 * [iface@Policy] objects in [property@AgentRunner:policies] decide which
 * agents start and when the run stops early.
 *
 * Tools run in the runner's own thread pool
 * ([property@AgentRunner:max-tool-threads] threads), unless they must run
 * on the main thread.
 *
 * ```c
 * g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
 * g_autoptr(GPtrArray) results = NULL;
 *
 * fj_agent_runner_set_max_concurrent (runner, 3);
 * results = fj_agent_runner_run_sync (runner, G_LIST_MODEL (agents),
 *                                     "How did ACME do in Q3?", NULL, &error);
 * ```
 *
 * Since: 1.0
 */

#define DEFAULT_MAX_TOOL_THREADS 4

typedef enum
{
  STOP_NONE,
  STOP_CANCELLED,
  STOP_DEADLINE,
  STOP_SATISFIED,
  STOP_FAILED,
} StopReason;

typedef struct _Run Run;

typedef struct
{
  Run *run;
  FjAgent *agent;
  FjClient *client;
  FjAgentResult *result;
  GCancellable *cancellable;
  FjMessage *message;           /* the turn in flight, for ::agent-retrying */
  FjAgentStatus status;         /* as last counted */
  guint started : 1;
  guint settled : 1;
  guint first_token : 1;
  guint kept : 1;               /* an earlier run's success, not run again */
  guint watching_status : 1;    /* result_status_cb() is the result's status func */
} Slot;

struct _Run
{
  FjAgentRunner *runner;
  GTask *task;                  /* until the run returns */
  char *input;
  Slot *slots;
  guint n_slots;
  GPtrArray *results;
  GPtrArray *policies;
  FjRunState *state;
  GThreadPool *pool;
  GHashTable *demand;           /* FjClient → what we asked of it */

  GCancellable *cancellable;    /* the caller's */
  gulong cancelled_handler;
  GSource *cancelled_source;
  GSource *deadline_source;

  gint64 deadline_us;
  double deadline;
  char *deadline_reason;        /* "the run's deadline of D s passed" */
  double agent_timeout;

  guint next;                   /* the first agent neither started nor skipped */
  guint n_active;               /* started and not settled */
  guint n_settled;
  StopReason stop;
  char *stop_policy;            /* the type name of the policy that stopped */

  guint pumping : 1;
  guint completed : 1;
};

struct _FjAgentRunner
{
  GObject parent_instance;

  FjClient *client;
  guint max_concurrent;
  double agent_timeout;
  double deadline;
  guint min_successes;
  guint max_tool_threads;
  GListStore *policies;
  GListStore *results;
  GThreadPool *pool;
  FjRunState *state;
  Run *run;
  FjPrices *prices;
  gboolean stopped_satisfied;   /* how the last run ended, for FjForkJoinTask */
};

enum {
  PROP_0,
  PROP_CLIENT,
  PROP_MAX_CONCURRENT,
  PROP_AGENT_TIMEOUT,
  PROP_DEADLINE,
  PROP_MIN_SUCCESSES,
  PROP_MAX_TOOL_THREADS,
  PROP_POLICIES,
  PROP_RESULTS,
  PROP_STATE,
  PROP_RUNNING,
  PROP_N_PENDING,
  PROP_N_RUNNING,
  PROP_N_SUCCEEDED,
  PROP_N_FAILED,
  PROP_N_CANCELLED,
  PROP_N_SKIPPED,
  PROP_USAGE,
  PROP_PRICES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  AGENT_STARTED,
  AGENT_FIRST_TOKEN,
  AGENT_DELTA,
  AGENT_RETRYING,
  AGENT_FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (FjAgentRunner, fj_agent_runner, G_TYPE_OBJECT)

/* PROP_N_PENDING .. PROP_N_SKIPPED follow FjRunCount's order. */
#define COUNT_PROP(count) (PROP_N_PENDING + (count))

static const char *
agent_name (FjAgent *agent)
{
  const char *name = fj_agent_get_name (agent);

  return name != NULL ? name : "agent";
}

static char *
format_seconds (double seconds)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  char *end;

  g_ascii_formatd (buf, sizeof buf, "%.3f", MAX (seconds, 0.0));
  end = buf + strlen (buf) - 1;
  while (end > buf && *end == '0')
    *end-- = '\0';
  if (*end == '.')
    *end = '\0';

  return g_strdup (buf);
}

static void
run_free (Run *run)
{
  g_assert (run->task == NULL);
  g_assert (run->cancelled_handler == 0);
  g_assert (run->cancelled_source == NULL);
  g_assert (run->deadline_source == NULL);

  for (guint i = 0; i < run->n_slots; i++)
    {
      Slot *slot = &run->slots[i];

      g_assert (!slot->watching_status);
      g_clear_object (&slot->agent);
      g_clear_object (&slot->client);
      g_clear_object (&slot->result);
      g_clear_object (&slot->cancellable);
      g_clear_object (&slot->message);
    }
  g_free (run->slots);

  g_clear_pointer (&run->input, g_free);
  g_clear_pointer (&run->results, g_ptr_array_unref);
  g_clear_pointer (&run->policies, g_ptr_array_unref);
  g_clear_pointer (&run->demand, g_hash_table_unref);
  g_clear_pointer (&run->stop_policy, g_free);
  g_clear_object (&run->state);
  g_clear_object (&run->cancellable);
  g_clear_object (&run->runner);
  g_free (run->deadline_reason);
  g_free (run);
}

static void
destroy_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

/* Counting */

static void
result_status_cb (FjAgentResult *result,
                  gpointer       user_data)
{
  Slot *slot = user_data;
  Run *run = slot->run;
  FjAgentRunner *self = run->runner;
  FjAgentStatus old_status = slot->status;
  FjAgentStatus status = fj_agent_result_get_status (result);
  FjRunCount from;
  FjRunCount to;

  if (status == old_status)
    return;

  slot->status = status;
  from = _fj_run_count_for_status (old_status);
  to = _fj_run_count_for_status (status);
  if (from == to)
    return;

  _fj_run_state_move (run->state, old_status, status);
  g_object_notify_by_pspec (G_OBJECT (self), properties[COUNT_PROP (from)]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[COUNT_PROP (to)]);
}

/* Client demand */

static void
run_add_demand (Run      *run,
                gboolean  add)
{
  GHashTableIter iter;
  gpointer key;
  gpointer value;

  g_hash_table_iter_init (&iter, run->demand);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      int n = GPOINTER_TO_INT (value);

      _fj_client_add_demand (FJ_CLIENT (key), add ? n : -n);
    }
}

/* Agent hooks, on the run's context */

static Slot *
slot_for_result (Run           *run,
                 FjAgentResult *result)
{
  guint index = fj_agent_result_get_index (result);

  g_assert (index < run->n_slots);
  g_assert (run->slots[index].result == result);

  return &run->slots[index];
}

static void
hook_request (FjAgentResult *result,
              FjMessage     *message,
              guint          turn,
              gpointer       user_data)
{
  Slot *slot = slot_for_result (user_data, result);

  g_set_object (&slot->message, message);
}

static void
hook_text_delta (FjAgentResult *result,
                 const char    *text,
                 gpointer       user_data)
{
  Run *run = user_data;
  Slot *slot = slot_for_result (run, result);
  g_autoptr(FjAgentRunner) self = g_object_ref (run->runner);

  if (!slot->first_token)
    {
      slot->first_token = TRUE;
      g_signal_emit (self, signals[AGENT_FIRST_TOKEN], 0, result);
    }

  g_signal_emit (self, signals[AGENT_DELTA], 0, result, text);
}

static void
hook_retrying (FjAgentResult *result,
               guint          attempt,
               double         delay_seconds,
               const GError  *reason,
               gpointer       user_data)
{
  Run *run = user_data;
  Slot *slot = slot_for_result (run, result);
  g_autoptr(FjAgentRunner) self = g_object_ref (run->runner);
  /* The client sets the status code as each attempt's headers arrive and
   * clears it when the next attempt begins, so here it is the failed
   * attempt's (0 when no response came). */
  guint status = slot->message != NULL ? fj_message_get_status_code (slot->message) : 0;

  g_signal_emit (self, signals[AGENT_RETRYING], 0, result, attempt, delay_seconds, status, reason);
}

/* Settling */

static void run_pump (Run *run);

static FjPolicyDecision
run_ask_policies (Run            *run,
                  FjAgentResult  *result,
                  FjPolicy      **deciding)
{
  FjPolicyDecision decision = FJ_POLICY_DECISION_CONTINUE;

  /* Every policy hears of every result; the first to stop decides. */
  for (guint i = 0; i < run->policies->len; i++)
    {
      FjPolicy *policy = g_ptr_array_index (run->policies, i);
      FjPolicyDecision d = fj_policy_settled (policy, run->state, result);

      if (decision == FJ_POLICY_DECISION_CONTINUE && d != FJ_POLICY_DECISION_CONTINUE)
        {
          decision = d;
          *deciding = policy;
        }
    }

  return decision;
}

static void
run_stop (Run            *run,
          StopReason      reason,
          FjPolicyLosers  losers)
{
  g_assert (reason != STOP_NONE);

  if (run->stop != STOP_NONE)
    return;

  run->stop = reason;

  if (losers == FJ_POLICY_LOSERS_CANCEL)
    {
      for (guint i = 0; i < run->n_slots; i++)
        {
          Slot *slot = &run->slots[i];

          if (slot->started && !slot->settled)
            g_cancellable_cancel (slot->cancellable);
        }
    }
}

static void
slot_settled (Run  *run,
              Slot *slot)
{
  g_autoptr(FjAgentRunner) self = g_object_ref (run->runner);
  FjPolicy *deciding = NULL;
  FjPolicyDecision decision;

  g_assert (!slot->settled);
  g_assert (fj_agent_result_get_finished (slot->result));

  slot->settled = TRUE;
  run->n_settled++;
  if (slot->started)
    {
      g_assert (run->n_active > 0);
      run->n_active--;
    }
  g_clear_object (&slot->message);

  if (_fj_run_state_add_usage (run->state, fj_agent_result_get_usage (slot->result)))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USAGE]);

  g_signal_emit (self, signals[AGENT_FINISHED], 0, slot->result);

  decision = run_ask_policies (run, slot->result, &deciding);
  if (decision == FJ_POLICY_DECISION_STOP_SATISFIED)
    {
      g_free (run->stop_policy);
      run->stop_policy = g_strdup (G_OBJECT_TYPE_NAME (deciding));
      run_stop (run, STOP_SATISFIED, fj_policy_get_losers (deciding));
    }
  else if (decision == FJ_POLICY_DECISION_STOP_FAILED)
    {
      g_free (run->stop_policy);
      run->stop_policy = g_strdup (G_OBJECT_TYPE_NAME (deciding));
      run_stop (run, STOP_FAILED, FJ_POLICY_LOSERS_CANCEL);
    }
}

static GError *
skip_error (Run        *run,
            Slot       *slot,
            StopReason  reason)
{
  const char *name = agent_name (slot->agent);

  switch (reason)
    {
    case STOP_CANCELLED:
      return g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                          "%s: skipped: the run was cancelled before it started", name);

    case STOP_DEADLINE:
      {
        g_autofree char *deadline = format_seconds (run->deadline);

        return g_error_new (FJ_ERROR, FJ_ERROR_TIMED_OUT,
                            "%s: skipped: the run's deadline of %s s passed before it started",
                            name, deadline);
      }

    case STOP_SATISFIED:
      return g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                          "%s: skipped: the run stopped early, satisfied (policy %s)",
                          name, run->stop_policy);

    case STOP_FAILED:
      return g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                          "%s: skipped: the run stopped, it could no longer succeed (policy %s)",
                          name, run->stop_policy);

    case STOP_NONE:
    default:
      g_assert_not_reached ();
    }
}

/* Settles a queued agent without starting it. Takes @error. */
static void
slot_skip (Run    *run,
           Slot   *slot,
           GError *error)
{
  g_assert (!slot->started);
  g_assert (!slot->settled);

  _fj_agent_result_take_error (slot->result, error);
  _fj_agent_result_apply_prices (slot->result, NULL);
  _fj_agent_result_set_status (slot->result, FJ_AGENT_STATUS_SKIPPED);

  slot_settled (run, slot);
}

static void
agent_done_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  Slot *slot = user_data;
  Run *run = slot->run;
  g_autoptr(FjAgentResult) agent_result = NULL;
  g_autoptr(GError) error = NULL;

  agent_result = _fj_agent_run_internal_finish (FJ_AGENT (object), result, &error);

  /* A run that started always returns its result. */
  g_assert (agent_result == slot->result);
  g_assert_no_error (error);

  slot_settled (run, slot);
  run_pump (run);
}

static void
slot_start (Run  *run,
            Slot *slot)
{
  g_autoptr(FjAgentRunner) self = g_object_ref (run->runner);
  /* The agent's own timeout wins over the runner's; fj-agent.c applies the
   * one that holds from the agent's start, and the earlier of it and the
   * run's deadline. */
  FjAgentRunHooks hooks = {
    .request = hook_request,
    .text_delta = hook_text_delta,
    .retrying = hook_retrying,
    .user_data = run,
    .default_timeout = run->agent_timeout,
    .deadline_reason = run->deadline_reason,
  };

  g_assert (!slot->started);

  slot->started = TRUE;
  run->n_active++;

  _fj_agent_run_internal_async (slot->agent, slot->client, run->input, slot->result,
                                run->pool, run->deadline_us, &hooks, slot->cancellable,
                                agent_done_cb, slot);

  g_signal_emit (self, signals[AGENT_STARTED], 0, slot->result);
}

/* Admits a queued agent if every policy agrees: TRUE when it started or
 * was skipped by a policy's error, FALSE when a policy holds it. */
static gboolean
slot_admit (Run  *run,
            Slot *slot)
{
  for (guint i = 0; i < run->policies->len; i++)
    {
      FjPolicy *policy = g_ptr_array_index (run->policies, i);
      g_autoptr(GError) error = NULL;

      if (fj_policy_admit (policy, run->state, slot->agent, &error))
        continue;

      if (error != NULL)
        {
          run->next++;
          slot_skip (run, slot, g_error_new (error->domain, error->code, "%s: %s",
                                             agent_name (slot->agent), error->message));
          return TRUE;
        }

      if (run->n_active > 0)
        return FALSE;

      /* Nothing running would settle and make it ask again. */
      run->next++;
      slot_skip (run, slot,
                 g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                              "%s: skipped: policy %s did not admit it",
                              agent_name (slot->agent), G_OBJECT_TYPE_NAME (policy)));
      return TRUE;
    }

  run->next++;
  slot_start (run, slot);

  return TRUE;
}

static void run_complete (Run *run);

/* Starts what may start, skips what never will, and completes the run when
 * every agent settled.  Handlers and policies called from here may cause
 * it to be called again; the outer call carries on instead. */
static void
run_pump (Run *run)
{
  if (run->pumping || run->completed)
    return;

  run->pumping = TRUE;

  while (run->next < run->n_slots)
    {
      Slot *slot = &run->slots[run->next];
      guint max_concurrent = run->runner->max_concurrent;

      if (slot->kept)
        {
          run->next++;
          continue;
        }

      if (run->stop == STOP_NONE && g_cancellable_is_cancelled (run->cancellable))
        run_stop (run, STOP_CANCELLED, FJ_POLICY_LOSERS_CANCEL);
      if (run->stop == STOP_NONE && run->deadline_us > 0 &&
          g_get_monotonic_time () >= run->deadline_us)
        run_stop (run, STOP_DEADLINE, FJ_POLICY_LOSERS_FINISH);

      if (run->stop != STOP_NONE)
        {
          run->next++;
          slot_skip (run, slot, skip_error (run, slot, run->stop));
          continue;
        }

      if (max_concurrent > 0 && run->n_active >= max_concurrent)
        break;

      if (!slot_admit (run, slot))
        break;
    }

  run->pumping = FALSE;

  if (run->n_settled == run->n_slots)
    run_complete (run);
}

static void
run_complete (Run *run)
{
  g_autoptr(FjAgentRunner) self = g_object_ref (run->runner);
  g_autoptr(GTask) task = NULL;
  GPtrArray *results;

  g_assert (!run->completed);
  g_assert (run->n_active == 0);

  run->completed = TRUE;
  task = g_steal_pointer (&run->task);

  destroy_source (&run->deadline_source);
  destroy_source (&run->cancelled_source);
  if (run->cancelled_handler != 0)
    {
      g_cancellable_disconnect (run->cancellable, run->cancelled_handler);
      run->cancelled_handler = 0;
    }

  for (guint i = 0; i < run->n_slots; i++)
    if (run->slots[i].watching_status)
      {
        _fj_agent_result_set_status_func (run->slots[i].result, NULL, NULL);
        run->slots[i].watching_status = FALSE;
      }

  run_add_demand (run, FALSE);
  _fj_run_state_finish (run->state);

  g_assert (self->run == run);
  self->run = NULL;
  self->stopped_satisfied = run->stop == STOP_SATISFIED;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);

  /* The caller gets an array of its own: the run state keeps this one, and
   * bindings free what they are given with g_ptr_array_free(). */
  results = g_ptr_array_new_full (run->results->len, g_object_unref);
  for (guint i = 0; i < run->results->len; i++)
    g_ptr_array_add (results, g_object_ref (g_ptr_array_index (run->results, i)));
  g_task_return_pointer (task, results, (GDestroyNotify) g_ptr_array_unref);
}

/* Cancellation and the deadline */

/* Any thread: cancel the requests in flight at once. */
static void
run_cancelled_cb (GCancellable *cancellable,
                  Run          *run)
{
  for (guint i = 0; i < run->n_slots; i++)
    g_cancellable_cancel (run->slots[i].cancellable);
}

/* The run's context: skip the queue. */
static gboolean
run_cancelled_source_cb (GCancellable *cancellable,
                         gpointer      user_data)
{
  Run *run = user_data;

  g_clear_pointer (&run->cancelled_source, g_source_unref);
  run_stop (run, STOP_CANCELLED, FJ_POLICY_LOSERS_CANCEL);
  run_pump (run);

  return G_SOURCE_REMOVE;
}

static gboolean
run_deadline_cb (gpointer user_data)
{
  Run *run = user_data;

  /* Running agents time out on their own timers, set to the same time. */
  g_clear_pointer (&run->deadline_source, g_source_unref);
  run_stop (run, STOP_DEADLINE, FJ_POLICY_LOSERS_FINISH);
  run_pump (run);

  return G_SOURCE_REMOVE;
}

/* GObject */

static void
fj_agent_runner_dispose (GObject *object)
{
  FjAgentRunner *self = FJ_AGENT_RUNNER (object);

  g_assert (self->run == NULL);

  g_clear_object (&self->client);
  g_clear_object (&self->state);
  g_clear_object (&self->prices);
  if (self->policies != NULL)
    g_list_store_remove_all (self->policies);
  if (self->results != NULL)
    g_list_store_remove_all (self->results);

  G_OBJECT_CLASS (fj_agent_runner_parent_class)->dispose (object);
}

static void
fj_agent_runner_finalize (GObject *object)
{
  FjAgentRunner *self = FJ_AGENT_RUNNER (object);

  /* Tools still running finish first; their results are dropped. */
  if (self->pool != NULL)
    g_thread_pool_free (self->pool, FALSE, TRUE);
  g_clear_object (&self->policies);
  g_clear_object (&self->results);

  G_OBJECT_CLASS (fj_agent_runner_parent_class)->finalize (object);
}

static void
fj_agent_runner_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  FjAgentRunner *self = FJ_AGENT_RUNNER (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      g_value_set_object (value, self->client);
      break;

    case PROP_MAX_CONCURRENT:
      g_value_set_uint (value, self->max_concurrent);
      break;

    case PROP_AGENT_TIMEOUT:
      g_value_set_double (value, self->agent_timeout);
      break;

    case PROP_DEADLINE:
      g_value_set_double (value, self->deadline);
      break;

    case PROP_MIN_SUCCESSES:
      g_value_set_uint (value, self->min_successes);
      break;

    case PROP_MAX_TOOL_THREADS:
      g_value_set_uint (value, self->max_tool_threads);
      break;

    case PROP_POLICIES:
      g_value_set_object (value, self->policies);
      break;

    case PROP_RESULTS:
      g_value_set_object (value, self->results);
      break;

    case PROP_STATE:
      g_value_set_object (value, self->state);
      break;

    case PROP_RUNNING:
      g_value_set_boolean (value, self->run != NULL);
      break;

    case PROP_N_PENDING:
    case PROP_N_RUNNING:
    case PROP_N_SUCCEEDED:
    case PROP_N_FAILED:
    case PROP_N_CANCELLED:
    case PROP_N_SKIPPED:
      g_value_set_uint (value,
                        self->state ? _fj_run_state_get_count (self->state, prop_id - PROP_N_PENDING) : 0);
      break;

    case PROP_USAGE:
      g_value_set_boxed (value, fj_agent_runner_get_usage (self));
      break;

    case PROP_PRICES:
      g_value_set_object (value, self->prices);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_agent_runner_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  FjAgentRunner *self = FJ_AGENT_RUNNER (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      fj_agent_runner_set_client (self, g_value_get_object (value));
      break;

    case PROP_MAX_CONCURRENT:
      fj_agent_runner_set_max_concurrent (self, g_value_get_uint (value));
      break;

    case PROP_AGENT_TIMEOUT:
      fj_agent_runner_set_agent_timeout (self, g_value_get_double (value));
      break;

    case PROP_DEADLINE:
      fj_agent_runner_set_deadline (self, g_value_get_double (value));
      break;

    case PROP_MIN_SUCCESSES:
      fj_agent_runner_set_min_successes (self, g_value_get_uint (value));
      break;

    case PROP_MAX_TOOL_THREADS:
      fj_agent_runner_set_max_tool_threads (self, g_value_get_uint (value));
      break;

    case PROP_PRICES:
      fj_agent_runner_set_prices (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_agent_runner_class_init (FjAgentRunnerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = fj_agent_runner_dispose;
  object_class->finalize = fj_agent_runner_finalize;
  object_class->get_property = fj_agent_runner_get_property;
  object_class->set_property = fj_agent_runner_set_property;

  /**
   * FjAgentRunner:client:
   *
   * The client agents send with, unless an agent has a
   * [property@Agent:client] of its own.
   *
   * Since: 1.0
   */
  properties[PROP_CLIENT] =
    g_param_spec_object ("client", NULL, NULL,
                         FJ_TYPE_CLIENT,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentRunner:max-concurrent:
   *
   * How many agents may run at once; 0 means no limit. An agent holds its
   * place from the moment it starts until it settles, through tool calls
   * and retry waits; agents start in order as places free up.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_CONCURRENT] =
    g_param_spec_uint ("max-concurrent", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentRunner:agent-timeout:
   *
   * How long each agent may take, in seconds from its start, for agents
   * without a [property@Agent:timeout] of their own; 0 means no limit.
   *
   * Since: 1.0
   */
  properties[PROP_AGENT_TIMEOUT] =
    g_param_spec_double ("agent-timeout", NULL, NULL,
                         0.0, G_MAXDOUBLE, 0.0,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentRunner:deadline:
   *
   * How long a whole run may take, in seconds, queue time included; 0
   * means no limit. At the deadline running agents end timed-out and
   * agents not started yet are skipped.
   *
   * Since: 1.0
   */
  properties[PROP_DEADLINE] =
    g_param_spec_double ("deadline", NULL, NULL,
                         0.0, G_MAXDOUBLE, 0.0,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentRunner:min-successes:
   *
   * How many agents must succeed for a run to meet its quorum. The runner
   * does not act on it: [iface@Policy] objects read it from
   * [property@RunState:min-successes].
   *
   * Since: 1.0
   */
  properties[PROP_MIN_SUCCESSES] =
    g_param_spec_uint ("min-successes", NULL, NULL,
                       0, G_MAXUINT, 1,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentRunner:max-tool-threads:
   *
   * How many threads the runner's pool runs tools in at once.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_TOOL_THREADS] =
    g_param_spec_uint ("max-tool-threads", NULL, NULL,
                       1, G_MAXINT, DEFAULT_MAX_TOOL_THREADS,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentRunner:policies:
   *
   * The runner's policies, a [iface@Gio.ListModel] of [iface@Policy],
   * asked in this order; change it with [method@AgentRunner.add_policy]
   * and [method@AgentRunner.remove_policy]. A run uses the policies it had
   * when it started.
   *
   * Since: 1.0
   */
  properties[PROP_POLICIES] =
    g_param_spec_object ("policies", NULL, NULL,
                         G_TYPE_LIST_MODEL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentRunner:results:
   *
   * A [iface@Gio.ListModel] of [class@AgentResult], one per agent of the
   * current (or last) run in agent order. It is filled with pending
   * results when a run starts, before any agent does, and each result is
   * then updated in place, with property notifications, so a list view
   * can show a row per agent from the first moment. The model object stays
   * the same from run to run; its items are replaced when a run starts.
   *
   * Since: 1.0
   */
  properties[PROP_RESULTS] =
    g_param_spec_object ("results", NULL, NULL,
                         G_TYPE_LIST_MODEL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentRunner:state:
   *
   * The [class@RunState] of the current (or last) run, or %NULL before the
   * first run.
   *
   * Since: 1.0
   */
  properties[PROP_STATE] =
    g_param_spec_object ("state", NULL, NULL,
                         FJ_TYPE_RUN_STATE,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentRunner:running:
   *
   * Whether a run is in progress.
   *
   * Since: 1.0
   */
  properties[PROP_RUNNING] =
    g_param_spec_boolean ("running", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentRunner:n-pending:
   *
   * How many agents of the current (or last) run have not started.
   *
   * Since: 1.0
   */
  properties[PROP_N_PENDING] =
    g_param_spec_uint ("n-pending", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentRunner:n-running:
   *
   * How many agents are running.
   *
   * Since: 1.0
   */
  properties[PROP_N_RUNNING] =
    g_param_spec_uint ("n-running", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentRunner:n-succeeded:
   *
   * How many agents of the current (or last) run succeeded.
   *
   * Since: 1.0
   */
  properties[PROP_N_SUCCEEDED] =
    g_param_spec_uint ("n-succeeded", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentRunner:n-failed:
   *
   * How many agents of the current (or last) run failed or timed out.
   *
   * Since: 1.0
   */
  properties[PROP_N_FAILED] =
    g_param_spec_uint ("n-failed", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentRunner:n-cancelled:
   *
   * How many agents of the current (or last) run were cancelled while
   * running.
   *
   * Since: 1.0
   */
  properties[PROP_N_CANCELLED] =
    g_param_spec_uint ("n-cancelled", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentRunner:n-skipped:
   *
   * How many agents of the current (or last) run never started.
   *
   * Since: 1.0
   */
  properties[PROP_N_SKIPPED] =
    g_param_spec_uint ("n-skipped", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentRunner:usage:
   *
   * The token usage of the agents of the current (or last) run that have
   * settled, added up.
   *
   * Since: 1.0
   */
  properties[PROP_USAGE] =
    g_param_spec_boxed ("usage", NULL, NULL,
                        FJ_TYPE_USAGE,
                        (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentRunner:prices:
   *
   * The price table each agent's [property@AgentResult:cost] is computed
   * with when it settles, from its [property@AgentResult:model] and
   * usage; %NULL (the default) leaves costs unknown. A model the table
   * does not know keeps an unknown (negative) cost.
   *
   * Since: 1.0
   */
  properties[PROP_PRICES] =
    g_param_spec_object ("prices", NULL, NULL,
                         FJ_TYPE_PRICES,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * FjAgentRunner::agent-started:
   * @self: the #FjAgentRunner
   * @result: the agent's result, now running
   *
   * Emitted on the run's main context when an agent starts.
   *
   * Since: 1.0
   */
  signals[AGENT_STARTED] =
    g_signal_new ("agent-started",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  g_cclosure_marshal_VOID__OBJECT,
                  G_TYPE_NONE, 1,
                  FJ_TYPE_AGENT_RESULT);
  g_signal_set_va_marshaller (signals[AGENT_STARTED], G_TYPE_FROM_CLASS (klass),
                              g_cclosure_marshal_VOID__OBJECTv);

  /**
   * FjAgentRunner::agent-first-token:
   * @self: the #FjAgentRunner
   * @result: the agent's result
   *
   * Emitted once per agent, when the first piece of its text arrives,
   * before [signal@AgentRunner::agent-delta] for it.
   *
   * Since: 1.0
   */
  signals[AGENT_FIRST_TOKEN] =
    g_signal_new ("agent-first-token",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  g_cclosure_marshal_VOID__OBJECT,
                  G_TYPE_NONE, 1,
                  FJ_TYPE_AGENT_RESULT);
  g_signal_set_va_marshaller (signals[AGENT_FIRST_TOKEN], G_TYPE_FROM_CLASS (klass),
                              g_cclosure_marshal_VOID__OBJECTv);

  /**
   * FjAgentRunner::agent-delta:
   * @self: the #FjAgentRunner
   * @result: the agent's result
   * @text: the text that arrived
   *
   * Emitted as each piece of an agent's text streams in, after it was
   * appended to the result's [property@AgentResult:output].
   *
   * Since: 1.0
   */
  signals[AGENT_DELTA] =
    g_signal_new ("agent-delta",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  _fj_marshal_VOID__OBJECT_STRING,
                  G_TYPE_NONE, 2,
                  FJ_TYPE_AGENT_RESULT,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
  g_signal_set_va_marshaller (signals[AGENT_DELTA], G_TYPE_FROM_CLASS (klass),
                              _fj_marshal_VOID__OBJECT_STRINGv);

  /**
   * FjAgentRunner::agent-retrying:
   * @self: the #FjAgentRunner
   * @result: the agent's result
   * @attempt: the number of the attempt about to be made
   * @delay: how long the client waits first, in seconds
   * @status: the HTTP status of the failed attempt (429 rate limited, 529
   *   overloaded, ...), or 0 when no response came
   * @reason: why the attempt failed
   *
   * Emitted each time an agent's request failed in a way worth retrying,
   * before the client waits @delay seconds and tries again.
   *
   * Since: 1.0
   */
  signals[AGENT_RETRYING] =
    g_signal_new ("agent-retrying",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  _fj_marshal_VOID__OBJECT_UINT_DOUBLE_UINT_BOXED,
                  G_TYPE_NONE, 5,
                  FJ_TYPE_AGENT_RESULT,
                  G_TYPE_UINT,
                  G_TYPE_DOUBLE,
                  G_TYPE_UINT,
                  G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
  g_signal_set_va_marshaller (signals[AGENT_RETRYING], G_TYPE_FROM_CLASS (klass),
                              _fj_marshal_VOID__OBJECT_UINT_DOUBLE_UINT_BOXEDv);

  /**
   * FjAgentRunner::agent-finished:
   * @self: the #FjAgentRunner
   * @result: the agent's settled result
   *
   * Emitted once per agent when its result settled: succeeded, failed,
   * timed out, cancelled, or skipped without starting. The counters count
   * it already.
   *
   * Since: 1.0
   */
  signals[AGENT_FINISHED] =
    g_signal_new ("agent-finished",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  g_cclosure_marshal_VOID__OBJECT,
                  G_TYPE_NONE, 1,
                  FJ_TYPE_AGENT_RESULT);
  g_signal_set_va_marshaller (signals[AGENT_FINISHED], G_TYPE_FROM_CLASS (klass),
                              g_cclosure_marshal_VOID__OBJECTv);
}

static void
fj_agent_runner_init (FjAgentRunner *self)
{
  self->min_successes = 1;
  self->max_tool_threads = DEFAULT_MAX_TOOL_THREADS;
  self->policies = g_list_store_new (FJ_TYPE_POLICY);
  self->results = g_list_store_new (FJ_TYPE_AGENT_RESULT);
}

/**
 * fj_agent_runner_new:
 * @client: (nullable): the client agents send with by default
 *
 * Creates a runner.
 *
 * Returns: (transfer full): a new #FjAgentRunner
 *
 * Since: 1.0
 */
FjAgentRunner *
fj_agent_runner_new (FjClient *client)
{
  g_return_val_if_fail (!client || FJ_IS_CLIENT (client), NULL);

  return g_object_new (FJ_TYPE_AGENT_RUNNER,
                       "client", client,
                       NULL);
}

/**
 * fj_agent_runner_get_client:
 * @self: a #FjAgentRunner
 *
 * Gets the client agents send with by default.
 *
 * Returns: (transfer none) (nullable): the client
 *
 * Since: 1.0
 */
FjClient *
fj_agent_runner_get_client (FjAgentRunner *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RUNNER (self), NULL);

  return self->client;
}

/**
 * fj_agent_runner_set_client:
 * @self: a #FjAgentRunner
 * @client: (nullable): the client
 *
 * Sets the client agents send with unless they have their own. A run in
 * progress keeps the client it started with.
 *
 * Since: 1.0
 */
void
fj_agent_runner_set_client (FjAgentRunner *self,
                            FjClient      *client)
{
  g_return_if_fail (FJ_IS_AGENT_RUNNER (self));
  g_return_if_fail (!client || FJ_IS_CLIENT (client));

  if (g_set_object (&self->client, client))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CLIENT]);
}

/**
 * fj_agent_runner_get_max_concurrent:
 * @self: a #FjAgentRunner
 *
 * Gets how many agents may run at once.
 *
 * Returns: the limit, 0 for none
 *
 * Since: 1.0
 */
guint
fj_agent_runner_get_max_concurrent (FjAgentRunner *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RUNNER (self), 0);

  return self->max_concurrent;
}

/**
 * fj_agent_runner_set_max_concurrent:
 * @self: a #FjAgentRunner
 * @max_concurrent: the limit, 0 for none
 *
 * Sets how many agents may run at once. A run in progress admits agents
 * by the new limit from now on.
 *
 * Since: 1.0
 */
void
fj_agent_runner_set_max_concurrent (FjAgentRunner *self,
                                    guint          max_concurrent)
{
  g_return_if_fail (FJ_IS_AGENT_RUNNER (self));

  if (self->max_concurrent == max_concurrent)
    return;

  self->max_concurrent = max_concurrent;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_CONCURRENT]);

  if (self->run != NULL)
    run_pump (self->run);
}

/**
 * fj_agent_runner_get_agent_timeout:
 * @self: a #FjAgentRunner
 *
 * Gets how long each agent without a timeout of its own may take.
 *
 * Returns: the timeout in seconds, 0 for none
 *
 * Since: 1.0
 */
double
fj_agent_runner_get_agent_timeout (FjAgentRunner *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RUNNER (self), 0.0);

  return self->agent_timeout;
}

/**
 * fj_agent_runner_set_agent_timeout:
 * @self: a #FjAgentRunner
 * @seconds: the timeout, 0 for none
 *
 * Sets how long each agent without a [property@Agent:timeout] of its own
 * may take, from its start. It applies from the next run.
 *
 * Since: 1.0
 */
void
fj_agent_runner_set_agent_timeout (FjAgentRunner *self,
                                   double         seconds)
{
  g_return_if_fail (FJ_IS_AGENT_RUNNER (self));
  g_return_if_fail (seconds >= 0);

  if (self->agent_timeout == seconds)
    return;

  self->agent_timeout = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AGENT_TIMEOUT]);
}

/**
 * fj_agent_runner_get_deadline:
 * @self: a #FjAgentRunner
 *
 * Gets how long a whole run may take.
 *
 * Returns: the deadline in seconds from the run's start, 0 for none
 *
 * Since: 1.0
 */
double
fj_agent_runner_get_deadline (FjAgentRunner *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RUNNER (self), 0.0);

  return self->deadline;
}

/**
 * fj_agent_runner_set_deadline:
 * @self: a #FjAgentRunner
 * @seconds: the deadline in seconds from a run's start, 0 for none
 *
 * Sets how long a whole run may take, queue time included. It applies
 * from the next run.
 *
 * Since: 1.0
 */
void
fj_agent_runner_set_deadline (FjAgentRunner *self,
                              double         seconds)
{
  g_return_if_fail (FJ_IS_AGENT_RUNNER (self));
  g_return_if_fail (seconds >= 0);

  if (self->deadline == seconds)
    return;

  self->deadline = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEADLINE]);
}

/**
 * fj_agent_runner_get_min_successes:
 * @self: a #FjAgentRunner
 *
 * Gets how many agents must succeed for a run to meet its quorum.
 *
 * Returns: the quorum
 *
 * Since: 1.0
 */
guint
fj_agent_runner_get_min_successes (FjAgentRunner *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RUNNER (self), 0);

  return self->min_successes;
}

/**
 * fj_agent_runner_set_min_successes:
 * @self: a #FjAgentRunner
 * @min_successes: the quorum
 *
 * Sets how many agents must succeed for a run to meet its quorum, for
 * policies to read. It applies from the next run.
 *
 * Since: 1.0
 */
void
fj_agent_runner_set_min_successes (FjAgentRunner *self,
                                   guint          min_successes)
{
  g_return_if_fail (FJ_IS_AGENT_RUNNER (self));

  if (self->min_successes == min_successes)
    return;

  self->min_successes = min_successes;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MIN_SUCCESSES]);
}

/**
 * fj_agent_runner_get_max_tool_threads:
 * @self: a #FjAgentRunner
 *
 * Gets how many threads run tools at once.
 *
 * Returns: the number of threads
 *
 * Since: 1.0
 */
guint
fj_agent_runner_get_max_tool_threads (FjAgentRunner *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RUNNER (self), 0);

  return self->max_tool_threads;
}

/**
 * fj_agent_runner_set_max_tool_threads:
 * @self: a #FjAgentRunner
 * @max_tool_threads: the number of threads, at least 1
 *
 * Sets how many threads of the runner's pool run tools at once.
 *
 * Since: 1.0
 */
void
fj_agent_runner_set_max_tool_threads (FjAgentRunner *self,
                                      guint          max_tool_threads)
{
  g_return_if_fail (FJ_IS_AGENT_RUNNER (self));
  g_return_if_fail (max_tool_threads >= 1 && max_tool_threads <= G_MAXINT);

  if (self->max_tool_threads == max_tool_threads)
    return;

  self->max_tool_threads = max_tool_threads;
  if (self->pool != NULL)
    g_thread_pool_set_max_threads (self->pool, (int) max_tool_threads, NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_TOOL_THREADS]);
}

/**
 * fj_agent_runner_get_prices:
 * @self: a #FjAgentRunner
 *
 * Gets the price table agents' costs are computed with.
 *
 * Returns: (transfer none) (nullable): the price table, or %NULL
 *
 * Since: 1.0
 */
FjPrices *
fj_agent_runner_get_prices (FjAgentRunner *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RUNNER (self), NULL);

  return self->prices;
}

/**
 * fj_agent_runner_set_prices:
 * @self: a #FjAgentRunner
 * @prices: (nullable): a price table, or %NULL for none
 *
 * Sets the price table each agent's cost is computed with when it
 * settles, such as [func@Prices.get_default]. It applies from the next
 * run.
 *
 * Since: 1.0
 */
void
fj_agent_runner_set_prices (FjAgentRunner *self,
                            FjPrices      *prices)
{
  g_return_if_fail (FJ_IS_AGENT_RUNNER (self));
  g_return_if_fail (!prices || FJ_IS_PRICES (prices));

  if (g_set_object (&self->prices, prices))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PRICES]);
}

/**
 * fj_agent_runner_get_policies:
 * @self: a #FjAgentRunner
 *
 * Gets the runner's policies.
 *
 * Returns: (transfer none): a [iface@Gio.ListModel] of [iface@Policy]
 *
 * Since: 1.0
 */
GListModel *
fj_agent_runner_get_policies (FjAgentRunner *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RUNNER (self), NULL);

  return G_LIST_MODEL (self->policies);
}

/**
 * fj_agent_runner_add_policy:
 * @self: a #FjAgentRunner
 * @policy: the policy to add
 *
 * Adds a policy, asked after those added before. It applies from the next
 * run.
 *
 * Since: 1.0
 */
void
fj_agent_runner_add_policy (FjAgentRunner *self,
                            FjPolicy      *policy)
{
  g_return_if_fail (FJ_IS_AGENT_RUNNER (self));
  g_return_if_fail (FJ_IS_POLICY (policy));

  g_list_store_append (self->policies, policy);
}

/**
 * fj_agent_runner_remove_policy:
 * @self: a #FjAgentRunner
 * @policy: a policy of the runner
 *
 * Removes a policy. It applies from the next run.
 *
 * Since: 1.0
 */
void
fj_agent_runner_remove_policy (FjAgentRunner *self,
                               FjPolicy      *policy)
{
  guint position;

  g_return_if_fail (FJ_IS_AGENT_RUNNER (self));
  g_return_if_fail (FJ_IS_POLICY (policy));

  if (g_list_store_find (self->policies, policy, &position))
    g_list_store_remove (self->policies, position);
}

/**
 * fj_agent_runner_get_results:
 * @self: a #FjAgentRunner
 *
 * Gets the results of the current (or last) run, updated live.
 *
 * Returns: (transfer none): a [iface@Gio.ListModel] of [class@AgentResult]
 *
 * Since: 1.0
 */
GListModel *
fj_agent_runner_get_results (FjAgentRunner *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RUNNER (self), NULL);

  return G_LIST_MODEL (self->results);
}

/**
 * fj_agent_runner_get_state:
 * @self: a #FjAgentRunner
 *
 * Gets the state of the current (or last) run.
 *
 * Returns: (transfer none) (nullable): the run's state, or %NULL before
 *   the first run
 *
 * Since: 1.0
 */
FjRunState *
fj_agent_runner_get_state (FjAgentRunner *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RUNNER (self), NULL);

  return self->state;
}

/**
 * fj_agent_runner_get_running:
 * @self: a #FjAgentRunner
 *
 * Gets whether a run is in progress.
 *
 * Returns: %TRUE while running
 *
 * Since: 1.0
 */
gboolean
fj_agent_runner_get_running (FjAgentRunner *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RUNNER (self), FALSE);

  return self->run != NULL;
}

static guint
get_count (FjAgentRunner *self,
           FjRunCount     count)
{
  g_return_val_if_fail (FJ_IS_AGENT_RUNNER (self), 0);

  return self->state ? _fj_run_state_get_count (self->state, count) : 0;
}

/**
 * fj_agent_runner_get_n_pending:
 * @self: a #FjAgentRunner
 *
 * Gets how many agents have not started.
 *
 * Returns: the number of pending agents
 *
 * Since: 1.0
 */
guint
fj_agent_runner_get_n_pending (FjAgentRunner *self)
{
  return get_count (self, FJ_RUN_COUNT_PENDING);
}

/**
 * fj_agent_runner_get_n_running:
 * @self: a #FjAgentRunner
 *
 * Gets how many agents are running.
 *
 * Returns: the number of running agents
 *
 * Since: 1.0
 */
guint
fj_agent_runner_get_n_running (FjAgentRunner *self)
{
  return get_count (self, FJ_RUN_COUNT_RUNNING);
}

/**
 * fj_agent_runner_get_n_succeeded:
 * @self: a #FjAgentRunner
 *
 * Gets how many agents succeeded.
 *
 * Returns: the number of successes
 *
 * Since: 1.0
 */
guint
fj_agent_runner_get_n_succeeded (FjAgentRunner *self)
{
  return get_count (self, FJ_RUN_COUNT_SUCCEEDED);
}

/**
 * fj_agent_runner_get_n_failed:
 * @self: a #FjAgentRunner
 *
 * Gets how many agents failed or timed out.
 *
 * Returns: the number of failures
 *
 * Since: 1.0
 */
guint
fj_agent_runner_get_n_failed (FjAgentRunner *self)
{
  return get_count (self, FJ_RUN_COUNT_FAILED);
}

/**
 * fj_agent_runner_get_n_cancelled:
 * @self: a #FjAgentRunner
 *
 * Gets how many agents were cancelled while running.
 *
 * Returns: the number of cancelled agents
 *
 * Since: 1.0
 */
guint
fj_agent_runner_get_n_cancelled (FjAgentRunner *self)
{
  return get_count (self, FJ_RUN_COUNT_CANCELLED);
}

/**
 * fj_agent_runner_get_n_skipped:
 * @self: a #FjAgentRunner
 *
 * Gets how many agents never started.
 *
 * Returns: the number of skipped agents
 *
 * Since: 1.0
 */
guint
fj_agent_runner_get_n_skipped (FjAgentRunner *self)
{
  return get_count (self, FJ_RUN_COUNT_SKIPPED);
}

/**
 * fj_agent_runner_get_usage:
 * @self: a #FjAgentRunner
 *
 * Gets the token usage of the settled agents of the current (or last) run.
 *
 * Returns: (transfer none): the usage
 *
 * Since: 1.0
 */
FjUsage *
fj_agent_runner_get_usage (FjAgentRunner *self)
{
  static FjUsage zero;

  g_return_val_if_fail (FJ_IS_AGENT_RUNNER (self), NULL);

  if (self->state == NULL)
    return &zero;

  return fj_run_state_get_usage (self->state);
}

/* Checks @previous (nullable) against @items: one result per agent, in
 * order, for the same names. */
static gboolean
check_previous (GPtrArray  *items,
                GPtrArray  *previous,
                GError    **error)
{
  if (previous == NULL)
    return TRUE;

  if (previous->len != items->len)
    {
      g_set_error (error, FJ_ERROR, FJ_ERROR_SPEC,
                   "the earlier run has %u agent results for %u agents", previous->len, items->len);
      return FALSE;
    }

  for (guint i = 0; i < items->len; i++)
    {
      FjAgent *agent = g_ptr_array_index (items, i);
      FjAgentResult *result = g_ptr_array_index (previous, i);

      if (!FJ_IS_AGENT_RESULT (result))
        {
          g_set_error (error, FJ_ERROR, FJ_ERROR_SPEC,
                       "item %u of the earlier results is not an FjAgentResult", i);
          return FALSE;
        }

      if (g_strcmp0 (fj_agent_get_name (agent), fj_agent_result_get_agent_name (result)) != 0)
        {
          g_set_error (error, FJ_ERROR, FJ_ERROR_SPEC,
                       "agent %u is \"%s\" but the earlier run's agent %u is \"%s\"",
                       i, agent_name (agent), i,
                       fj_agent_result_get_agent_name (result) ?: "(unnamed)");
          return FALSE;
        }
    }

  return TRUE;
}

static void
runner_start (FjAgentRunner       *self,
              GListModel          *agents,
              const char          *input,
              GPtrArray           *previous,
              GCancellable        *cancellable,
              GAsyncReadyCallback  callback,
              gpointer             user_data,
              gpointer             source_tag)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) items = NULL;
  Run *run;
  guint n;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);
  /* Cancellation ends the agents; the run still returns their results. */
  g_task_set_check_cancellable (task, FALSE);

  if (self->run != NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING,
                               "The runner is already running");
      return;
    }

  n = g_list_model_get_n_items (agents);
  if (n == 0)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               "No agents to run");
      return;
    }

  items = g_ptr_array_new_full (n, g_object_unref);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GObject) item = g_list_model_get_item (agents, i);

      if (!FJ_IS_AGENT (item))
        {
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                   "Item %u of the agents is a %s, not an FjAgent",
                                   i, item ? G_OBJECT_TYPE_NAME (item) : "NULL");
          return;
        }
      if (fj_agent_get_client (FJ_AGENT (item)) == NULL && self->client == NULL)
        {
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                   "%s: no client to send with: set the runner's or the agent's client",
                                   agent_name (FJ_AGENT (item)));
          return;
        }
      g_ptr_array_add (items, g_steal_pointer (&item));
    }

  if (!check_previous (items, previous, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (self->pool == NULL)
    {
      self->pool = _fj_thread_pool_new ((int) self->max_tool_threads, &error);
      if (self->pool == NULL)
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
    }

  run = g_new0 (Run, 1);
  run->runner = g_object_ref (self);
  run->task = g_object_ref (task);
  run->input = g_strdup (input);
  run->n_slots = n;
  run->slots = g_new0 (Slot, n);
  run->results = g_ptr_array_new_full (n, g_object_unref);
  run->policies = g_ptr_array_new_with_free_func (g_object_unref);
  run->pool = self->pool;
  run->demand = g_hash_table_new (NULL, NULL);
  run->cancellable = cancellable ? g_object_ref (cancellable) : NULL;
  run->deadline = self->deadline;
  if (run->deadline > 0)
    {
      g_autofree char *seconds = format_seconds (run->deadline);

      run->deadline_reason = g_strdup_printf ("the run's deadline of %s s passed", seconds);
    }
  run->agent_timeout = self->agent_timeout;
  g_task_set_task_data (task, run, (GDestroyNotify) run_free);

  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->policies)); i++)
    g_ptr_array_add (run->policies, g_list_model_get_item (G_LIST_MODEL (self->policies), i));

  for (guint i = 0; i < n; i++)
    {
      Slot *slot = &run->slots[i];
      FjAgent *agent = g_ptr_array_index (items, i);
      FjClient *client = fj_agent_get_client (agent) ? fj_agent_get_client (agent) : self->client;
      FjAgentResult *earlier = previous ? g_ptr_array_index (previous, i) : NULL;
      int asked;

      slot->run = run;
      slot->agent = g_object_ref (agent);
      slot->client = g_object_ref (client);
      slot->cancellable = g_cancellable_new ();

      if (earlier != NULL && fj_agent_result_get_status (earlier) == FJ_AGENT_STATUS_SUCCESS)
        {
          /* Settled from the start: counted, but never started or
           * announced. */
          slot->kept = TRUE;
          slot->settled = TRUE;
          slot->status = FJ_AGENT_STATUS_SUCCESS;
          slot->result = _fj_agent_result_copy (earlier, i);
          if (self->prices != NULL && fj_agent_result_get_cost (slot->result) < 0)
            _fj_agent_result_apply_prices (slot->result, self->prices);
          run->n_settled++;
          g_ptr_array_add (run->results, g_object_ref (slot->result));
          continue;
        }

      slot->result = fj_agent_result_new (fj_agent_get_name (agent), i);
      slot->status = FJ_AGENT_STATUS_PENDING;
      _fj_agent_result_set_model (slot->result, fj_agent_get_model (agent));
      _fj_agent_result_set_prices (slot->result, self->prices);
      g_ptr_array_add (run->results, g_object_ref (slot->result));

      asked = GPOINTER_TO_INT (g_hash_table_lookup (run->demand, client));
      if (self->max_concurrent == 0 || (guint) asked < self->max_concurrent)
        g_hash_table_insert (run->demand, client, GINT_TO_POINTER (asked + 1));
    }

  run->state = _fj_run_state_new (run->results, self->min_successes);
  for (guint i = 0; i < n; i++)
    {
      Slot *slot = &run->slots[i];

      if (slot->kept)
        {
          _fj_run_state_move (run->state, FJ_AGENT_STATUS_PENDING, FJ_AGENT_STATUS_SUCCESS);
          _fj_run_state_add_usage (run->state, fj_agent_result_get_usage (slot->result));
        }

      _fj_agent_result_set_status_func (slot->result, result_status_cb, slot);
      slot->watching_status = TRUE;
    }

  self->run = run;
  g_set_object (&self->state, run->state);

  g_list_store_splice (self->results, 0, g_list_model_get_n_items (G_LIST_MODEL (self->results)),
                       run->results->pdata, run->results->len);

  g_object_freeze_notify (G_OBJECT (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  for (guint i = 0; i < FJ_RUN_N_COUNTS; i++)
    g_object_notify_by_pspec (G_OBJECT (self), properties[COUNT_PROP (i)]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USAGE]);
  g_object_thaw_notify (G_OBJECT (self));

  run_add_demand (run, TRUE);

  if (run->deadline > 0)
    {
      guint ms = (guint) MIN (ceil (run->deadline * 1000), (double) G_MAXUINT);

      run->deadline_us = g_get_monotonic_time () + (gint64) (run->deadline * G_USEC_PER_SEC);
      run->deadline_source = g_timeout_source_new (ms);
      g_source_set_callback (run->deadline_source, run_deadline_cb, run, NULL);
      g_source_set_static_name (run->deadline_source, "[forkjoin] run deadline");
      g_source_attach (run->deadline_source, g_task_get_context (task));
    }

  if (cancellable != NULL)
    {
      run->cancelled_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (run->cancelled_source,
                             (GSourceFunc) (void (*) (void)) run_cancelled_source_cb,
                             run, NULL);
      g_source_set_static_name (run->cancelled_source, "[forkjoin] run cancelled");
      g_source_attach (run->cancelled_source, g_task_get_context (task));

      run->cancelled_handler = g_cancellable_connect (cancellable,
                                                      G_CALLBACK (run_cancelled_cb),
                                                      run, NULL);
    }

  run_pump (run);
}

/**
 * fj_agent_runner_run_async:
 * @self: a #FjAgentRunner
 * @agents: a [iface@Gio.ListModel] of [class@Agent]
 * @input: the input every agent answers
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when every agent
 *   has settled
 * @user_data: data for @callback
 *
 * Runs every agent of @agents on @input, at most
 * [property@AgentRunner:max-concurrent] at a time, starting them in
 * order. Each agent sends with its own [property@Agent:client], else the
 * runner's [property@AgentRunner:client].
 *
 * Before any agent starts, [property@AgentRunner:results] holds a pending
 * result for each agent; the signals and counters follow the run on the
 * thread-default main context of this call. A runner runs once at a time.
 *
 * Cancelling @cancellable cancels the requests in flight at once; the run
 * still completes with every result.
 *
 * For more details, see [method@AgentRunner.run_sync], the synchronous
 * version of this call. When the operation is finished, @callback will be
 * called. You should then call [method@AgentRunner.run_finish].
 *
 * Since: 1.0
 */
void
fj_agent_runner_run_async (FjAgentRunner       *self,
                           GListModel          *agents,
                           const char          *input,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_return_if_fail (FJ_IS_AGENT_RUNNER (self));
  g_return_if_fail (G_IS_LIST_MODEL (agents));
  g_return_if_fail (input != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  runner_start (self, agents, input, NULL, cancellable, callback, user_data,
                fj_agent_runner_run_async);
}

void
_fj_agent_runner_resume_async (FjAgentRunner       *self,
                               GListModel          *agents,
                               const char          *input,
                               GPtrArray           *previous,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_return_if_fail (FJ_IS_AGENT_RUNNER (self));
  g_return_if_fail (G_IS_LIST_MODEL (agents));
  g_return_if_fail (input != NULL);
  g_return_if_fail (previous != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  runner_start (self, agents, input, previous, cancellable, callback, user_data,
                _fj_agent_runner_resume_async);
}

/**
 * fj_agent_runner_run_finish:
 * @self: a #FjAgentRunner
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@AgentRunner.run_async].
 *
 * A run that started always gives every agent's result, whether the agent
 * succeeded or not: see each one's [property@AgentResult:status] and
 * [property@AgentResult:error]. %NULL (with @error set) means the run
 * could not start: the runner was already running
 * (%G_IO_ERROR_PENDING), there were no agents, or an agent had no client
 * to send with (%G_IO_ERROR_INVALID_ARGUMENT).
 *
 * Returns: (transfer container) (element-type FjAgentResult): the results,
 *   one per agent in agent order, or %NULL with @error set; the array
 *   releases them when freed with g_ptr_array_unref()
 *
 * Since: 1.0
 */
GPtrArray *
fj_agent_runner_run_finish (FjAgentRunner  *self,
                            GAsyncResult   *result,
                            GError        **error)
{
  g_return_val_if_fail (FJ_IS_AGENT_RUNNER (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * fj_agent_runner_run_sync:
 * @self: a #FjAgentRunner
 * @agents: a [iface@Gio.ListModel] of [class@Agent]
 * @input: the input every agent answers
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Runs every agent of @agents on @input and waits until all have settled,
 * as [method@AgentRunner.run_async] does. It runs its own main context,
 * on which the signals are emitted and main-thread tools run, so scripts
 * need no main loop.
 *
 * Returns: (transfer container) (element-type FjAgentResult): the results,
 *   one per agent in agent order, or %NULL with @error set; the array
 *   releases them when freed with g_ptr_array_unref()
 *
 * Since: 1.0
 */
GPtrArray *
fj_agent_runner_run_sync (FjAgentRunner  *self,
                          GListModel     *agents,
                          const char     *input,
                          GCancellable   *cancellable,
                          GError        **error)
{
  FjSyncCall call;
  GPtrArray *ret;

  g_return_val_if_fail (FJ_IS_AGENT_RUNNER (self), NULL);
  g_return_val_if_fail (G_IS_LIST_MODEL (agents), NULL);
  g_return_val_if_fail (input != NULL, NULL);
  g_return_val_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  _fj_sync_call_begin (&call);
  _fj_sync_call_add_client (&call, self->client);
  _fj_sync_call_add_agent_clients (&call, agents);
  fj_agent_runner_run_async (self, agents, input, cancellable, _fj_sync_call_done, &call);
  ret = fj_agent_runner_run_finish (self, _fj_sync_call_wait (&call), error);
  _fj_sync_call_end (&call);

  return ret;
}

gboolean
_fj_agent_runner_get_stopped_satisfied (FjAgentRunner *self)
{
  g_assert (FJ_IS_AGENT_RUNNER (self));

  return self->stopped_satisfied;
}
