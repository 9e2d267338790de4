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
#include "fj-batch-private.h"
#include "fj-client-private.h"
#include "fj-enums.h"
#include "fj-error.h"
#include "fj-error-private.h"
#include "fj-json-private.h"
#include "fj-marshal.h"
#include "fj-models-private.h"
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
#define DEFAULT_BATCH_POLL_INTERVAL 5.0
#define DEFAULT_BATCH_POLL_MAX 60.0
#define DEFAULT_BATCH_MAX_REQUESTS 100000
#define DEFAULT_BATCH_MAX_BYTES (G_GUINT64_CONSTANT (256) * 1024 * 1024)

typedef enum
{
  STOP_NONE,
  STOP_CANCELLED,
  STOP_DEADLINE,
  STOP_SATISFIED,
  STOP_FAILED,
} StopReason;

typedef struct _Run Run;
typedef struct _BatchRun BatchRun;

static void batch_run_free (BatchRun *batch);

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

  BatchRun *batch;              /* a batch-mode run's own state */

  /* Cache-aware fan-out: the layout every agent's first request uses, and
   * whether the rest wait for the first admitted agent's response to
   * start (the gate opens then, through release_source). */
  FjCacheMode cache;
  guint cache_gate : 1;
  GSource *release_source;
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
  FjRunMode mode;
  FjBatch *batch;
  double batch_poll_interval;
  double batch_poll_max;
  guint batch_max_requests;
  guint64 batch_max_bytes;
  FjCacheMode cache;
  char *cache_note;             /* why the last run could not cache */
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
  PROP_MODE,
  PROP_BATCH,
  PROP_BATCH_POLL_INTERVAL,
  PROP_BATCH_POLL_MAX,
  PROP_BATCH_MAX_REQUESTS,
  PROP_BATCH_MAX_BYTES,
  PROP_CACHE,
  PROP_CACHE_NOTE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  AGENT_STARTED,
  AGENT_FIRST_TOKEN,
  AGENT_DELTA,
  AGENT_RETRYING,
  AGENT_FINISHED,
  BATCH_SUBMITTED,
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

static void destroy_source (GSource **source);

static void
run_free (Run *run)
{
  g_assert (run->task == NULL);
  g_assert (run->cancelled_handler == 0);
  g_assert (run->cancelled_source == NULL);
  g_assert (run->deadline_source == NULL);

  destroy_source (&run->release_source);

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
  g_clear_pointer (&run->batch, batch_run_free);
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

static gboolean
release_cb (gpointer user_data)
{
  Run *run = user_data;

  g_clear_pointer (&run->release_source, g_source_unref);
  run_pump (run);

  return G_SOURCE_REMOVE;
}

/* With caching, the first admitted agent runs alone until the API begins
 * to answer it: then its cache entry is readable and the rest are released
 * together (from an idle, not from inside the client's reply handling). */
static void
hook_response_started (FjAgentResult *result,
                       gpointer       user_data)
{
  Run *run = user_data;

  if (!run->cache_gate)
    return;

  run->cache_gate = FALSE;
  if (run->release_source == NULL && !run->completed)
    {
      run->release_source = g_idle_source_new ();
      g_source_set_callback (run->release_source, release_cb, run, NULL);
      g_source_set_static_name (run->release_source, "[forkjoin] cache release");
      g_source_attach (run->release_source, g_task_get_context (run->task));
    }
}

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
    .response_started = hook_response_started,
    .user_data = run,
    .cache = run->cache,
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

      /* The first agent writes the cache alone; if it ends before its
       * response started, the next one admitted becomes the first. */
      if (run->cache_gate && run->n_active > 0)
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
  destroy_source (&run->release_source);
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

static void batch_give_up (Run *run);
static void batch_deadline (Run *run);

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
  if (run->batch != NULL)
    {
      batch_give_up (run);
      return G_SOURCE_REMOVE;
    }
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
  if (run->batch != NULL)
    {
      batch_deadline (run);
      return G_SOURCE_REMOVE;
    }
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
  g_clear_object (&self->batch);
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
  g_clear_pointer (&self->cache_note, g_free);

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

    case PROP_MODE:
      g_value_set_enum (value, self->mode);
      break;

    case PROP_BATCH:
      g_value_set_object (value, self->batch);
      break;

    case PROP_BATCH_POLL_INTERVAL:
      g_value_set_double (value, self->batch_poll_interval);
      break;

    case PROP_BATCH_POLL_MAX:
      g_value_set_double (value, self->batch_poll_max);
      break;

    case PROP_BATCH_MAX_REQUESTS:
      g_value_set_uint (value, self->batch_max_requests);
      break;

    case PROP_BATCH_MAX_BYTES:
      g_value_set_uint64 (value, self->batch_max_bytes);
      break;

    case PROP_CACHE:
      g_value_set_enum (value, self->cache);
      break;

    case PROP_CACHE_NOTE:
      g_value_set_string (value, self->cache_note);
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

    case PROP_MODE:
      fj_agent_runner_set_mode (self, g_value_get_enum (value));
      break;

    case PROP_BATCH:
      fj_agent_runner_set_batch (self, g_value_get_object (value));
      break;

    case PROP_BATCH_POLL_INTERVAL:
      fj_agent_runner_set_batch_poll_interval (self, g_value_get_double (value));
      break;

    case PROP_BATCH_POLL_MAX:
      fj_agent_runner_set_batch_poll_max (self, g_value_get_double (value));
      break;

    case PROP_BATCH_MAX_REQUESTS:
      fj_agent_runner_set_batch_max_requests (self, g_value_get_uint (value));
      break;

    case PROP_BATCH_MAX_BYTES:
      fj_agent_runner_set_batch_max_bytes (self, g_value_get_uint64 (value));
      break;

    case PROP_CACHE:
      fj_agent_runner_set_cache (self, g_value_get_enum (value));
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

  /**
   * FjAgentRunner:cache:
   *
   * How requests are laid out for the prompt cache. With
   * %FJ_CACHE_MODE_SHARED_INPUT every agent's first request puts the
   * shared input first, as the first system block marked with
   * `cache_control`, and its own instructions after it; the first agent
   * admitted runs alone until its response starts, then the others are
   * released together, so that they read the cache instead of writing it.
   * When caching cannot apply (see [property@AgentRunner:cache-note]) the
   * run is a normal one. It applies from the next run.
   *
   * Since: 1.0
   */
  properties[PROP_CACHE] =
    g_param_spec_enum ("cache", NULL, NULL,
                       FJ_TYPE_CACHE_MODE,
                       FJ_CACHE_MODE_NONE,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentRunner:cache-note:
   *
   * Why the last run did not cache although [property@AgentRunner:cache]
   * asked for it: the shared input is shorter than a model's minimum
   * cacheable prefix, the agents' tools differ, or a client is
   * OpenAI-compatible. %NULL when caching applied or was not asked for.
   * Set when a run starts.
   *
   * Since: 1.0
   */
  properties[PROP_CACHE_NOTE] =
    g_param_spec_string ("cache-note", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentRunner:mode:
   *
   * How the agents run: each as live requests (the default), or the whole
   * fork submitted to the Message Batches API at the batch discount (see
   * [property@AgentRunner:batch]). In batch mode every agent is a single
   * request without tools, the client must speak the Anthropic Messages
   * API, agent timeouts do not apply (the run's
   * [property@AgentRunner:deadline] does: when it passes the batches are
   * cancelled), and cancelling the run stops waiting but leaves the
   * batches running, to be picked up later.
   *
   * Since: 1.0
   */
  properties[PROP_MODE] =
    g_param_spec_enum ("mode", NULL, NULL,
                       FJ_TYPE_RUN_MODE,
                       FJ_RUN_MODE_LIVE,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentRunner:batch:
   *
   * The submitted fork of a batch-mode run. Set it before a run in batch
   * mode to pick up a fork submitted earlier (loaded with
   * [ctor@Batch.new_from_file]) instead of submitting: the agents and the
   * input must be the same. After a batch-mode run it holds the batch
   * the run used.
   *
   * Since: 1.0
   */
  properties[PROP_BATCH] =
    g_param_spec_object ("batch", NULL, NULL,
                         FJ_TYPE_BATCH,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentRunner:batch-poll-interval:
   *
   * Seconds before a batch-mode run first asks how its batches are doing;
   * each later wait is 1.5 times the one before, up to
   * [property@AgentRunner:batch-poll-max].
   *
   * Since: 1.0
   */
  properties[PROP_BATCH_POLL_INTERVAL] =
    g_param_spec_double ("batch-poll-interval", NULL, NULL,
                         0.001, 86400.0, DEFAULT_BATCH_POLL_INTERVAL,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentRunner:batch-poll-max:
   *
   * The longest wait, in seconds, between two polls of a batch-mode run.
   *
   * Since: 1.0
   */
  properties[PROP_BATCH_POLL_MAX] =
    g_param_spec_double ("batch-poll-max", NULL, NULL,
                         0.001, 86400.0, DEFAULT_BATCH_POLL_MAX,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentRunner:batch-max-requests:
   *
   * The most requests one batch holds: a fork with more agents is
   * submitted as several batches. The API's limit is 100,000.
   *
   * Since: 1.0
   */
  properties[PROP_BATCH_MAX_REQUESTS] =
    g_param_spec_uint ("batch-max-requests", NULL, NULL,
                       1, DEFAULT_BATCH_MAX_REQUESTS, DEFAULT_BATCH_MAX_REQUESTS,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentRunner:batch-max-bytes:
   *
   * The largest body of one batch creation, in bytes: a larger fork is
   * submitted as several batches. The API's limit is 256 MiB.
   *
   * Since: 1.0
   */
  properties[PROP_BATCH_MAX_BYTES] =
    g_param_spec_uint64 ("batch-max-bytes", NULL, NULL,
                         1024, DEFAULT_BATCH_MAX_BYTES, DEFAULT_BATCH_MAX_BYTES,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * FjAgentRunner::batch-submitted:
   * @self: the #FjAgentRunner
   * @batch: the submitted fork
   *
   * Emitted in batch mode once every batch of the fork has been created,
   * before the first poll: the moment to save @batch with
   * [method@Batch.save] so that another process can pick it up. Not
   * emitted when the run picks up a batch set in
   * [property@AgentRunner:batch].
   *
   * Since: 1.0
   */
  signals[BATCH_SUBMITTED] =
    g_signal_new ("batch-submitted",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  g_cclosure_marshal_VOID__OBJECT,
                  G_TYPE_NONE, 1,
                  FJ_TYPE_BATCH);
  g_signal_set_va_marshaller (signals[BATCH_SUBMITTED], G_TYPE_FROM_CLASS (klass),
                              g_cclosure_marshal_VOID__OBJECTv);

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
  self->batch_poll_interval = DEFAULT_BATCH_POLL_INTERVAL;
  self->batch_poll_max = DEFAULT_BATCH_POLL_MAX;
  self->batch_max_requests = DEFAULT_BATCH_MAX_REQUESTS;
  self->batch_max_bytes = DEFAULT_BATCH_MAX_BYTES;
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
 * fj_agent_runner_get_cache:
 * @self: a #FjAgentRunner
 *
 * Gets how requests are laid out for the prompt cache.
 *
 * Returns: the cache mode
 *
 * Since: 1.0
 */
FjCacheMode
fj_agent_runner_get_cache (FjAgentRunner *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RUNNER (self), FJ_CACHE_MODE_NONE);

  return self->cache;
}

/**
 * fj_agent_runner_set_cache:
 * @self: a #FjAgentRunner
 * @cache: a #FjCacheMode
 *
 * Sets how requests are laid out for the prompt cache (see
 * [property@AgentRunner:cache]). It applies from the next run.
 *
 * Since: 1.0
 */
void
fj_agent_runner_set_cache (FjAgentRunner *self,
                           FjCacheMode    cache)
{
  g_return_if_fail (FJ_IS_AGENT_RUNNER (self));
  g_return_if_fail (cache == FJ_CACHE_MODE_NONE || cache == FJ_CACHE_MODE_SHARED_INPUT);

  if (self->cache == cache)
    return;

  self->cache = cache;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CACHE]);
}

/**
 * fj_agent_runner_get_cache_note:
 * @self: a #FjAgentRunner
 *
 * Gets why the last run could not use the prompt cache it was asked to
 * (see [property@AgentRunner:cache-note]).
 *
 * Returns: (transfer none) (nullable): the note, or %NULL
 *
 * Since: 1.0
 */
const char *
fj_agent_runner_get_cache_note (FjAgentRunner *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RUNNER (self), NULL);

  return self->cache_note;
}

/**
 * fj_agent_runner_get_mode:
 * @self: a #FjAgentRunner
 *
 * Gets how the agents run (see [property@AgentRunner:mode]).
 *
 * Returns: the run mode
 *
 * Since: 1.0
 */
FjRunMode
fj_agent_runner_get_mode (FjAgentRunner *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RUNNER (self), FJ_RUN_MODE_LIVE);

  return self->mode;
}

/**
 * fj_agent_runner_set_mode:
 * @self: a #FjAgentRunner
 * @mode: a #FjRunMode
 *
 * Sets how the agents run (see [property@AgentRunner:mode]). It applies
 * from the next run.
 *
 * Since: 1.0
 */
void
fj_agent_runner_set_mode (FjAgentRunner *self,
                          FjRunMode      mode)
{
  g_return_if_fail (FJ_IS_AGENT_RUNNER (self));
  g_return_if_fail (mode == FJ_RUN_MODE_LIVE || mode == FJ_RUN_MODE_BATCH);

  if (self->mode == mode)
    return;

  self->mode = mode;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODE]);
}

/**
 * fj_agent_runner_get_batch:
 * @self: a #FjAgentRunner
 *
 * Gets the batch to pick up, or the one the last batch-mode run used
 * (see [property@AgentRunner:batch]).
 *
 * Returns: (transfer none) (nullable): the batch
 *
 * Since: 1.0
 */
FjBatch *
fj_agent_runner_get_batch (FjAgentRunner *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RUNNER (self), NULL);

  return self->batch;
}

/**
 * fj_agent_runner_set_batch:
 * @self: a #FjAgentRunner
 * @batch: (nullable): a submitted fork to pick up, or %NULL to submit
 *
 * Sets the batch the next batch-mode run picks up instead of submitting
 * (see [property@AgentRunner:batch]).
 *
 * Since: 1.0
 */
void
fj_agent_runner_set_batch (FjAgentRunner *self,
                           FjBatch       *batch)
{
  g_return_if_fail (FJ_IS_AGENT_RUNNER (self));
  g_return_if_fail (!batch || FJ_IS_BATCH (batch));

  if (g_set_object (&self->batch, batch))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BATCH]);
}

/**
 * fj_agent_runner_get_batch_poll_interval:
 * @self: a #FjAgentRunner
 *
 * Gets the first wait between polls of a batch-mode run.
 *
 * Returns: the wait, in seconds
 *
 * Since: 1.0
 */
double
fj_agent_runner_get_batch_poll_interval (FjAgentRunner *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RUNNER (self), DEFAULT_BATCH_POLL_INTERVAL);

  return self->batch_poll_interval;
}

/**
 * fj_agent_runner_set_batch_poll_interval:
 * @self: a #FjAgentRunner
 * @seconds: the first wait, in seconds (more than 0)
 *
 * Sets the first wait between polls of a batch-mode run (see
 * [property@AgentRunner:batch-poll-interval]).
 *
 * Since: 1.0
 */
void
fj_agent_runner_set_batch_poll_interval (FjAgentRunner *self,
                                         double         seconds)
{
  g_return_if_fail (FJ_IS_AGENT_RUNNER (self));
  g_return_if_fail (seconds > 0 && seconds <= 86400.0);

  if (self->batch_poll_interval == seconds)
    return;

  self->batch_poll_interval = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BATCH_POLL_INTERVAL]);
}

/**
 * fj_agent_runner_get_batch_poll_max:
 * @self: a #FjAgentRunner
 *
 * Gets the longest wait between polls of a batch-mode run.
 *
 * Returns: the wait, in seconds
 *
 * Since: 1.0
 */
double
fj_agent_runner_get_batch_poll_max (FjAgentRunner *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RUNNER (self), DEFAULT_BATCH_POLL_MAX);

  return self->batch_poll_max;
}

/**
 * fj_agent_runner_set_batch_poll_max:
 * @self: a #FjAgentRunner
 * @seconds: the longest wait, in seconds (more than 0)
 *
 * Sets the longest wait between polls of a batch-mode run (see
 * [property@AgentRunner:batch-poll-max]).
 *
 * Since: 1.0
 */
void
fj_agent_runner_set_batch_poll_max (FjAgentRunner *self,
                                    double         seconds)
{
  g_return_if_fail (FJ_IS_AGENT_RUNNER (self));
  g_return_if_fail (seconds > 0 && seconds <= 86400.0);

  if (self->batch_poll_max == seconds)
    return;

  self->batch_poll_max = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BATCH_POLL_MAX]);
}

/**
 * fj_agent_runner_get_batch_max_requests:
 * @self: a #FjAgentRunner
 *
 * Gets the most requests one batch holds.
 *
 * Returns: the number of requests
 *
 * Since: 1.0
 */
guint
fj_agent_runner_get_batch_max_requests (FjAgentRunner *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RUNNER (self), DEFAULT_BATCH_MAX_REQUESTS);

  return self->batch_max_requests;
}

/**
 * fj_agent_runner_set_batch_max_requests:
 * @self: a #FjAgentRunner
 * @max_requests: the most requests per batch, from 1 to 100,000
 *
 * Sets the most requests one batch holds (see
 * [property@AgentRunner:batch-max-requests]).
 *
 * Since: 1.0
 */
void
fj_agent_runner_set_batch_max_requests (FjAgentRunner *self,
                                        guint          max_requests)
{
  g_return_if_fail (FJ_IS_AGENT_RUNNER (self));
  g_return_if_fail (max_requests >= 1 && max_requests <= DEFAULT_BATCH_MAX_REQUESTS);

  if (self->batch_max_requests == max_requests)
    return;

  self->batch_max_requests = max_requests;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BATCH_MAX_REQUESTS]);
}

/**
 * fj_agent_runner_get_batch_max_bytes:
 * @self: a #FjAgentRunner
 *
 * Gets the largest body of one batch creation.
 *
 * Returns: the size, in bytes
 *
 * Since: 1.0
 */
guint64
fj_agent_runner_get_batch_max_bytes (FjAgentRunner *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RUNNER (self), DEFAULT_BATCH_MAX_BYTES);

  return self->batch_max_bytes;
}

/**
 * fj_agent_runner_set_batch_max_bytes:
 * @self: a #FjAgentRunner
 * @max_bytes: the largest body, from 1 KiB to 256 MiB
 *
 * Sets the largest body of one batch creation (see
 * [property@AgentRunner:batch-max-bytes]).
 *
 * Since: 1.0
 */
void
fj_agent_runner_set_batch_max_bytes (FjAgentRunner *self,
                                     guint64        max_bytes)
{
  g_return_if_fail (FJ_IS_AGENT_RUNNER (self));
  g_return_if_fail (max_bytes >= 1024 && max_bytes <= DEFAULT_BATCH_MAX_BYTES);

  if (self->batch_max_bytes == max_bytes)
    return;

  self->batch_max_bytes = max_bytes;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BATCH_MAX_BYTES]);
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

/* Batch mode */

typedef struct
{
  GPtrArray *items;             /* serialized {"custom_id", "params"} */
  GPtrArray *custom_ids;
  GArray *slots;                /* guint slot index per item */
  gsize bytes;
} Chunk;

struct _BatchRun
{
  FjBatch *batch;
  FjClient *client;
  GCancellable *cancellable;    /* the HTTP calls' */
  GSource *poll_source;
  GPtrArray *chunks;            /* Chunk, to create */
  guint next_chunk;
  guint next_results;
  double delay;
  gint64 start_us;
  guint resumed : 1;
  guint deadline_passed : 1;    /* the batches are to be, or were, cancelled */
  guint cancel_sent : 1;
  guint busy : 1;               /* a call in flight */
  guint gave_up : 1;            /* the wait was cancelled */
};

static void
chunk_free (gpointer data)
{
  Chunk *chunk = data;

  g_ptr_array_unref (chunk->items);
  g_ptr_array_unref (chunk->custom_ids);
  g_array_unref (chunk->slots);
  g_free (chunk);
}

static Chunk *
chunk_new (void)
{
  Chunk *chunk = g_new0 (Chunk, 1);

  chunk->items = g_ptr_array_new_with_free_func (g_free);
  chunk->custom_ids = g_ptr_array_new_with_free_func (g_free);
  chunk->slots = g_array_new (FALSE, FALSE, sizeof (guint));

  return chunk;
}

static void
batch_run_free (BatchRun *batch)
{
  destroy_source (&batch->poll_source);
  g_clear_object (&batch->batch);
  g_clear_object (&batch->client);
  g_clear_object (&batch->cancellable);
  g_clear_pointer (&batch->chunks, g_ptr_array_unref);
  g_free (batch);
}

/* Before the run: what keeps it from running in batch mode. */
static gboolean
batch_check (FjAgentRunner  *self,
             GPtrArray      *items,
             const char     *input,
             GError        **error)
{
  for (guint i = 0; i < items->len; i++)
    {
      FjAgent *agent = g_ptr_array_index (items, i);
      FjClient *client = fj_agent_get_client (agent) ? fj_agent_get_client (agent) : self->client;
      GListModel *tools = fj_agent_get_tools (agent);

      if (fj_client_get_provider (client) != FJ_PROVIDER_ANTHROPIC)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                       "%s: batch mode needs the Anthropic Messages API (its Message Batches "
                       "endpoints); the client is OpenAI-compatible",
                       agent_name (agent));
          return FALSE;
        }
      if (tools != NULL && g_list_model_get_n_items (tools) > 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "agent \"%s\" has tools, and batch mode runs each agent as one request "
                       "without tools", agent_name (agent));
          return FALSE;
        }
    }

  if (self->batch != NULL)
    {
      FjBatch *batch = self->batch;
      guint n = fj_batch_get_n_agents (batch);

      if (n != items->len)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "the batch to pick up has %u agents, the run %u", n, items->len);
          return FALSE;
        }
      for (guint i = 0; i < n; i++)
        {
          FjAgent *agent = g_ptr_array_index (items, i);
          const char *name = fj_agent_get_name (agent) ? fj_agent_get_name (agent) : "";

          if (g_strcmp0 (name, fj_batch_get_agent_name (batch, i)) != 0)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "agent %u of the batch to pick up is \"%s\", the run's is \"%s\"",
                           i, fj_batch_get_agent_name (batch, i), name);
              return FALSE;
            }
        }
      if (g_strcmp0 (input, fj_batch_get_input (batch)) != 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "the input differs from the one the batch to pick up was submitted with");
          return FALSE;
        }
    }

  return TRUE;
}

/* Settles a started slot with @status and @error (taken, nullable). */
static void
batch_settle (Run           *run,
              Slot          *slot,
              FjAgentStatus  status,
              GError        *error)
{
  BatchRun *batch = run->batch;

  g_assert (!slot->settled);

  _fj_agent_result_take_error (slot->result, error);
  _fj_agent_result_set_duration (slot->result,
                                 (g_get_monotonic_time () - batch->start_us) / (double) G_USEC_PER_SEC);
  if (slot->started)
    {
      _fj_agent_result_set_attempts (slot->result, 1);
      _fj_agent_result_set_turns (slot->result, 1);
    }
  _fj_agent_result_set_status (slot->result, status);
  slot_settled (run, slot);
}

static void
batch_settle_rest (Run           *run,
                   FjAgentStatus  status,
                   const GError  *error)
{
  for (guint i = 0; i < run->n_slots; i++)
    {
      Slot *slot = &run->slots[i];

      if (!slot->settled)
        batch_settle (run, slot, slot->started ? status : FJ_AGENT_STATUS_SKIPPED,
                      g_error_new (error->domain, error->code, "%s: %s",
                                   agent_name (slot->agent), error->message));
    }
}

static char *
batch_ids_text (BatchRun *batch)
{
  return g_strjoinv (", ", (char **) fj_batch_get_ids (batch->batch));
}

static void batch_poll_later (Run *run);
static void batch_poll (Run *run);
static void batch_next_results (Run *run);

static void
batch_finish (Run *run)
{
  run->next = run->n_slots;
  run_pump (run);
}

/* A result line's succeeded message. */
static void
batch_succeeded (Run        *run,
                 Slot       *slot,
                 JsonObject *message)
{
  FjAgentRunner *self = run->runner;
  JsonNode *content = json_object_get_member (message, "content");
  JsonNode *usage_node = json_object_get_member (message, "usage");
  g_autoptr(GString) text = g_string_new (NULL);
  FjUsage usage = { 0, };

  if (content != NULL && JSON_NODE_HOLDS_ARRAY (content))
    {
      JsonArray *blocks = json_node_get_array (content);

      for (guint i = 0; i < json_array_get_length (blocks); i++)
        {
          JsonNode *block = json_array_get_element (blocks, i);
          JsonObject *object = JSON_NODE_HOLDS_OBJECT (block) ? json_node_get_object (block) : NULL;

          if (g_strcmp0 (_fj_json_get_string (object, "type"), "text") == 0 &&
              _fj_json_get_string (object, "text") != NULL)
            g_string_append (text, _fj_json_get_string (object, "text"));
        }
    }
  if (usage_node != NULL && JSON_NODE_HOLDS_OBJECT (usage_node))
    fj_usage_update_from_json (&usage, json_node_get_object (usage_node));

  _fj_agent_result_set_usage (slot->result, &usage);
  _fj_agent_result_set_output (slot->result, text->str);
  _fj_agent_result_set_stop_reason (slot->result, _fj_json_get_string (message, "stop_reason"));
  _fj_agent_result_set_batch (slot->result, TRUE);
  _fj_agent_result_apply_prices (slot->result, self->prices);
  batch_settle (run, slot, FJ_AGENT_STATUS_SUCCESS, NULL);
}

/* Maps one line of batch @id's results; FALSE with @problem set when it
 * is not a result of this batch. */
static gboolean
batch_map_line (Run         *run,
                const char  *id,
                const char  *line,
                gsize        length,
                GString     *problem)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *object;
  JsonObject *result;
  JsonNode *result_node;
  const char *custom_id;
  const char *type;
  Slot *slot;
  int index;

  root = _fj_json_parse_network (line, length, NULL, NULL, &error);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_string_assign (problem, error ? error->message : "is not a JSON object");
      return FALSE;
    }
  object = json_node_get_object (root);
  custom_id = _fj_json_get_string (object, "custom_id");
  result_node = json_object_get_member (object, "result");
  result = result_node && JSON_NODE_HOLDS_OBJECT (result_node) ? json_node_get_object (result_node) : NULL;
  type = _fj_json_get_string (result, "type");
  if (custom_id == NULL || type == NULL)
    {
      g_string_assign (problem, "has no custom_id or no result type");
      return FALSE;
    }

  index = _fj_batch_lookup_custom_id (run->batch->batch, custom_id);
  if (index < 0 || (guint) index >= run->n_slots)
    {
      g_string_printf (problem, "has an unknown custom_id \"%s\"", custom_id);
      return FALSE;
    }
  slot = &run->slots[index];
  if (slot->settled || !slot->started)
    {
      g_string_printf (problem, "repeats custom_id \"%s\"", custom_id);
      return FALSE;
    }

  if (strcmp (type, "succeeded") == 0)
    {
      JsonNode *message = json_object_get_member (result, "message");

      if (message == NULL || !JSON_NODE_HOLDS_OBJECT (message))
        {
          batch_settle (run, slot, FJ_AGENT_STATUS_FAILED,
                        g_error_new (FJ_ERROR, FJ_ERROR_PROTOCOL,
                                     "%s: the succeeded result in batch %s has no message",
                                     agent_name (slot->agent), id));
          return TRUE;
        }
      batch_succeeded (run, slot, json_node_get_object (message));
    }
  else if (strcmp (type, "errored") == 0)
    {
      JsonNode *body = json_object_get_member (result, "error");
      JsonObject *outer = body && JSON_NODE_HOLDS_OBJECT (body) ? json_node_get_object (body) : NULL;
      JsonNode *inner_node = outer ? json_object_get_member (outer, "error") : NULL;
      JsonObject *inner = inner_node && JSON_NODE_HOLDS_OBJECT (inner_node) ?
                          json_node_get_object (inner_node) : outer;
      const char *error_type = _fj_json_get_string (inner, "type");
      const char *message = _fj_json_get_string (inner, "message");

      batch_settle (run, slot, FJ_AGENT_STATUS_FAILED,
                    g_error_new (FJ_ERROR, _fj_error_code_for_api_error (error_type, 0),
                                 "%s: errored in batch %s: %s%s%s",
                                 agent_name (slot->agent), id,
                                 error_type ? error_type : "unknown error",
                                 message ? ": " : "", message ? message : ""));
    }
  else if (strcmp (type, "canceled") == 0)
    {
      if (run->batch->deadline_passed)
        {
          g_autofree char *deadline = format_seconds (run->deadline);

          batch_settle (run, slot, FJ_AGENT_STATUS_TIMED_OUT,
                        g_error_new (FJ_ERROR, FJ_ERROR_TIMED_OUT,
                                     "%s: the run's deadline of %s s passed; the batch was cancelled",
                                     agent_name (slot->agent), deadline));
        }
      else
        batch_settle (run, slot, FJ_AGENT_STATUS_CANCELLED,
                      g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                   "%s: canceled in batch %s", agent_name (slot->agent), id));
    }
  else if (strcmp (type, "expired") == 0)
    batch_settle (run, slot, FJ_AGENT_STATUS_FAILED,
                  g_error_new (FJ_ERROR, FJ_ERROR_EXPIRED,
                               "%s: expired in batch %s: not processed within 24 hours",
                               agent_name (slot->agent), id));
  else
    batch_settle (run, slot, FJ_AGENT_STATUS_FAILED,
                  g_error_new (FJ_ERROR, FJ_ERROR_PROTOCOL,
                               "%s: unknown result type \"%s\" in batch %s",
                               agent_name (slot->agent), type, id));

  return TRUE;
}

/* Fails the started agents of batch @i that have no result yet. */
static void
batch_fail_missing (Run        *run,
                    guint       i,
                    const char *why)
{
  FjBatch *batch = run->batch->batch;
  GPtrArray *custom_ids = _fj_batch_get_nth_custom_ids (batch, i);

  for (guint j = 0; j < custom_ids->len; j++)
    {
      int index = _fj_batch_lookup_custom_id (batch, g_ptr_array_index (custom_ids, j));
      Slot *slot;

      if (index < 0 || (guint) index >= run->n_slots)
        continue;
      slot = &run->slots[index];
      if (slot->settled)
        continue;
      batch_settle (run, slot, FJ_AGENT_STATUS_FAILED,
                    g_error_new (FJ_ERROR, FJ_ERROR_PROTOCOL, "%s: %s",
                                 agent_name (slot->agent), why));
    }
}

static void
batch_results_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Run *run = g_task_get_task_data (task);
  BatchRun *batch = run->batch;
  guint i = batch->next_results;
  const char *id;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) problem = g_string_new (NULL);
  g_autofree char *first_problem = NULL;
  const char *data;
  const char *end;
  gsize length;
  guint line_number = 0;

  batch->busy = FALSE;
  bytes = _fj_client_call_finish (FJ_CLIENT (object), result, &error);
  if (run->completed || batch->gave_up)
    return;

  id = _fj_batch_get_nth_id (batch->batch, i);
  if (bytes == NULL)
    {
      g_autofree char *why = g_strdup_printf ("the results of batch %s could not be read: %s",
                                              id, error->message);

      batch_fail_missing (run, i, why);
    }
  else
    {
      data = g_bytes_get_data (bytes, &length);
      end = data + length;
      while (data < end)
        {
          const char *newline = memchr (data, '\n', end - data);
          const char *line_end = newline ? newline : end;
          gsize line_length = line_end - data;

          line_number++;
          if (line_length > 0 && line_end[-1] == '\r')
            line_length--;
          if (line_length > 0 && !batch_map_line (run, id, data, line_length, problem) &&
              first_problem == NULL)
            {
              first_problem = g_strdup_printf ("line %u of batch %s's results %s",
                                               line_number, id, problem->str);
              g_debug ("%s", first_problem);
            }
          data = line_end + (newline ? 1 : 0);
        }

      {
        g_autofree char *why = g_strdup_printf ("batch %s's results have no line for it%s%s%s", id,
                                                first_problem ? " (" : "",
                                                first_problem ? first_problem : "",
                                                first_problem ? ")" : "");

        batch_fail_missing (run, i, why);
      }
    }

  batch->next_results++;
  batch_next_results (run);
}

static void
batch_next_results (Run *run)
{
  BatchRun *batch = run->batch;
  guint n = _fj_batch_get_n_batches (batch->batch);

  if (batch->next_results < n)
    {
      guint i = batch->next_results;
      const char *url = _fj_batch_get_nth_results_url (batch->batch, i);
      g_autofree char *base = g_strconcat (fj_client_get_base_url (batch->client), "/", NULL);
      g_autofree char *path = NULL;

      /* The credentials go to the client's API only: a results_url
       * elsewhere is asked of it by path. */
      if (url == NULL || !g_str_has_prefix (url, base))
        url = path = g_strdup_printf ("/v1/messages/batches/%s/results", _fj_batch_get_nth_id (batch->batch, i));
      batch->busy = TRUE;
      _fj_client_call_async (batch->client, "GET", url, NULL, batch->cancellable,
                             batch_results_cb, g_object_ref (run->task));
      return;
    }

  /* Anything left: an agent not submitted (a failed creation). */
  for (guint j = 0; j < run->n_slots; j++)
    if (!run->slots[j].settled)
      batch_settle (run, &run->slots[j], FJ_AGENT_STATUS_FAILED,
                    g_error_new (FJ_ERROR, FJ_ERROR_PROTOCOL, "%s: no batch result for it",
                                 agent_name (run->slots[j].agent)));
  batch_finish (run);
}

static void
batch_cancel_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!fj_batch_cancel_finish (FJ_BATCH (object), result, &error))
    g_debug ("cancelling the batch at the deadline: %s", error->message);

  if (run->completed || run->batch->gave_up)
    return;
  run->batch->busy = FALSE;

  /* Cancelling ends a batch quickly: poll at the first interval again. */
  run->batch->delay = run->runner->batch_poll_interval;
  batch_poll_later (run);
}

static void
batch_refresh_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Run *run = g_task_get_task_data (task);
  BatchRun *batch = run->batch;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = fj_batch_refresh_finish (FJ_BATCH (object), result, &error);
  if (run->completed || batch->gave_up)
    return;
  batch->busy = FALSE;

  if (!ok)
    {
      batch_settle_rest (run, FJ_AGENT_STATUS_FAILED, error);
      batch_finish (run);
      return;
    }

  if (g_strcmp0 (fj_batch_get_processing_status (batch->batch), "ended") == 0)
    {
      batch->next_results = 0;
      batch_next_results (run);
      return;
    }

  batch_poll_later (run);
}

static void
batch_poll (Run *run)
{
  BatchRun *batch = run->batch;

  if (batch->deadline_passed && !batch->cancel_sent)
    {
      batch->cancel_sent = TRUE;
      batch->busy = TRUE;
      fj_batch_cancel_async (batch->batch, batch->client, batch->cancellable,
                             batch_cancel_cb, g_object_ref (run->task));
      return;
    }

  batch->busy = TRUE;
  fj_batch_refresh_async (batch->batch, batch->client, batch->cancellable,
                          batch_refresh_cb, g_object_ref (run->task));
}

static gboolean
batch_poll_cb (gpointer user_data)
{
  Run *run = user_data;

  g_clear_pointer (&run->batch->poll_source, g_source_unref);
  batch_poll (run);

  return G_SOURCE_REMOVE;
}

static void
batch_poll_later (Run *run)
{
  BatchRun *batch = run->batch;
  double delay = batch->delay;

  g_assert (batch->poll_source == NULL);

  batch->delay = MIN (batch->delay * 1.5, run->runner->batch_poll_max);
  batch->poll_source = g_timeout_source_new ((guint) MIN (ceil (delay * 1000), (double) G_MAXUINT));
  g_source_set_callback (batch->poll_source, batch_poll_cb, run, NULL);
  g_source_set_static_name (batch->poll_source, "[forkjoin] batch poll");
  g_source_attach (batch->poll_source, g_task_get_context (run->task));
}

/* Every batch is created (or failed to be): announce and start polling. */
static void
batch_submitted (Run *run)
{
  g_autoptr(FjAgentRunner) self = g_object_ref (run->runner);
  BatchRun *batch = run->batch;

  if (_fj_batch_get_n_batches (batch->batch) == 0)
    {
      batch_finish (run);
      return;
    }

  if (g_set_object (&self->batch, batch->batch))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BATCH]);
  g_signal_emit (self, signals[BATCH_SUBMITTED], 0, batch->batch);

  if (run->completed)
    return;

  if (batch->gave_up)
    return;

  batch->delay = self->batch_poll_interval;
  batch_poll_later (run);
}

static void batch_create_next (Run *run);

static void
batch_create_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Run *run = g_task_get_task_data (task);
  BatchRun *batch = run->batch;
  Chunk *chunk;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  const char *id = NULL;
  gsize length;

  batch->busy = FALSE;
  bytes = _fj_client_call_finish (FJ_CLIENT (object), result, &error);
  if (run->completed)
    return;

  chunk = g_ptr_array_index (batch->chunks, batch->next_chunk);
  if (bytes != NULL)
    {
      const char *data = g_bytes_get_data (bytes, &length);

      root = _fj_json_parse_network (data, length, NULL, NULL, &error);
      if (root != NULL && JSON_NODE_HOLDS_OBJECT (root))
        id = _fj_json_get_string (json_node_get_object (root), "id");
      if (id == NULL && error == NULL)
        error = g_error_new (FJ_ERROR, FJ_ERROR_PROTOCOL, "the batch creation reply has no id");
    }

  if (id == NULL)
    {
      for (guint i = 0; i < chunk->slots->len; i++)
        {
          Slot *slot = &run->slots[g_array_index (chunk->slots, guint, i)];
          gboolean cancelled = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

          batch_settle (run, slot, cancelled ? FJ_AGENT_STATUS_CANCELLED : FJ_AGENT_STATUS_FAILED,
                        g_error_new (error->domain, error->code, "%s: the batch could not be created: %s",
                                     agent_name (slot->agent), error->message));
        }
    }
  else
    _fj_batch_add (batch->batch, id, g_ptr_array_ref (chunk->custom_ids), json_node_get_object (root));

  batch->next_chunk++;
  batch_create_next (run);
}

static void
batch_create_next (Run *run)
{
  BatchRun *batch = run->batch;
  g_autoptr(GString) body = NULL;
  Chunk *chunk;

  if (batch->next_chunk >= batch->chunks->len)
    {
      batch_submitted (run);
      return;
    }

  chunk = g_ptr_array_index (batch->chunks, batch->next_chunk);
  body = g_string_sized_new (chunk->bytes + 32);
  g_string_append (body, "{\"requests\":[");
  for (guint i = 0; i < chunk->items->len; i++)
    {
      if (i > 0)
        g_string_append_c (body, ',');
      g_string_append (body, g_ptr_array_index (chunk->items, i));
    }
  g_string_append (body, "]}");

  /* Built: the request keeps its own copy. */
  g_ptr_array_set_size (chunk->items, 0);

  {
    gsize len = body->len;
    g_autoptr(GBytes) bytes = g_bytes_new_take (g_string_free (g_steal_pointer (&body), FALSE), len);

    batch->busy = TRUE;
    _fj_client_call_async (batch->client, "POST", "/v1/messages/batches", bytes, batch->cancellable,
                           batch_create_cb, g_object_ref (run->task));
  }
}

/* Admits and serializes every agent, then creates the batches. */
static void
batch_submit (Run *run)
{
  FjAgentRunner *self = run->runner;
  BatchRun *batch = run->batch;
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  const gsize overhead = strlen ("{\"requests\":[]}");
  Chunk *chunk = NULL;

  for (guint i = 0; i < run->n_slots && !run->completed; i++)
    {
      Slot *slot = &run->slots[i];
      g_autoptr(JsonObject) params = NULL;
      g_autoptr(JsonObject) item = NULL;
      g_autoptr(JsonNode) node = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *custom_id = NULL;
      gboolean admitted = TRUE;
      char *json;
      gsize length;

      if (slot->settled)
        continue;

      for (guint p = 0; p < run->policies->len && admitted; p++)
        {
          FjPolicy *policy = g_ptr_array_index (run->policies, p);
          g_autoptr(GError) refusal = NULL;

          if (fj_policy_admit (policy, run->state, slot->agent, &refusal))
            continue;
          admitted = FALSE;
          slot_skip (run, slot,
                     refusal != NULL ?
                       g_error_new (refusal->domain, refusal->code, "%s: %s",
                                    agent_name (slot->agent), refusal->message) :
                       g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                    "%s: skipped: policy %s did not admit it",
                                    agent_name (slot->agent), G_OBJECT_TYPE_NAME (policy)));
        }
      if (!admitted)
        continue;

      params = _fj_agent_build_first_request (slot->agent, run->input, run->cache, TRUE, &error);
      if (params == NULL)
        {
          slot_skip (run, slot, g_error_new (error->domain, error->code, "%s: %s",
                                             agent_name (slot->agent), error->message));
          continue;
        }

      custom_id = _fj_batch_make_custom_id (i, fj_agent_get_name (slot->agent));
      item = json_object_new ();
      json_object_set_string_member (item, "custom_id", custom_id);
      json_object_set_object_member (item, "params", g_steal_pointer (&params));
      node = json_node_init_object (json_node_alloc (), item);
      json_generator_set_root (generator, node);
      json = json_generator_to_data (generator, &length);

      if (length + overhead > self->batch_max_bytes)
        {
          g_autofree char *limit = g_strdup_printf ("%" G_GUINT64_FORMAT, self->batch_max_bytes);

          g_free (json);
          slot_skip (run, slot, g_error_new (FJ_ERROR, FJ_ERROR_REQUEST_TOO_LARGE,
                                             "%s: its batch request is %" G_GSIZE_FORMAT
                                             " bytes, over the %s-byte batch limit",
                                             agent_name (slot->agent), length, limit));
          continue;
        }

      if (chunk == NULL || chunk->items->len >= self->batch_max_requests ||
          chunk->bytes + length + 1 + overhead > self->batch_max_bytes)
        {
          chunk = chunk_new ();
          g_ptr_array_add (batch->chunks, chunk);
        }
      g_ptr_array_add (chunk->items, json);
      g_ptr_array_add (chunk->custom_ids, g_steal_pointer (&custom_id));
      g_array_append_val (chunk->slots, i);
      chunk->bytes += length + 1;

      slot->started = TRUE;
      run->n_active++;
      _fj_agent_result_set_status (slot->result, FJ_AGENT_STATUS_RUNNING);
      g_signal_emit (self, signals[AGENT_STARTED], 0, slot->result);
    }

  if (run->completed)
    return;

  batch->next_chunk = 0;
  batch_create_next (run);
}

/* The run's deadline passed: cancel the batches and map what they did. */
static void
batch_deadline (Run *run)
{
  BatchRun *batch = run->batch;

  if (batch->deadline_passed || batch->gave_up)
    return;

  batch->deadline_passed = TRUE;
  if (batch->poll_source != NULL)
    {
      destroy_source (&batch->poll_source);
      batch_poll (run);
    }
  /* Else a call is in flight: the next poll cancels first. */
}

/* The run was cancelled: stop waiting, leave the batches running. */
static void
batch_give_up (Run *run)
{
  BatchRun *batch = run->batch;
  g_autoptr(GError) error = NULL;
  g_autofree char *ids = NULL;

  if (batch->gave_up || run->completed)
    return;

  batch->gave_up = TRUE;
  destroy_source (&batch->poll_source);
  g_cancellable_cancel (batch->cancellable);

  ids = batch_ids_text (batch);
  if (*ids != '\0')
    error = g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                         "the wait was cancelled; batch %s keeps running", ids);
  else
    error = g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                         "the run was cancelled before the batch was created");

  batch_settle_rest (run, FJ_AGENT_STATUS_CANCELLED, error);
  batch_finish (run);
}

static void
batch_run_start (Run *run)
{
  FjAgentRunner *self = run->runner;
  BatchRun *batch = g_new0 (BatchRun, 1);
  FjClient *client = self->client;

  if (client == NULL)
    client = run->slots[0].client;

  run->batch = batch;
  batch->client = g_object_ref (client);
  batch->cancellable = g_cancellable_new ();
  batch->chunks = g_ptr_array_new_with_free_func (chunk_free);
  batch->start_us = g_get_monotonic_time ();
  /* Nothing starts live. */
  run->next = run->n_slots;

  if (self->batch != NULL)
    {
      batch->resumed = TRUE;
      batch->batch = g_object_ref (self->batch);

      for (guint i = 0; i < run->n_slots; i++)
        {
          Slot *slot = &run->slots[i];
          g_autofree char *custom_id = NULL;

          if (slot->settled)
            continue;

          custom_id = _fj_batch_make_custom_id (i, fj_agent_get_name (slot->agent));
          if (_fj_batch_lookup_custom_id (batch->batch, custom_id) != (int) i)
            {
              slot_skip (run, slot, g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                 "%s: skipped: not submitted in the batch",
                                                 agent_name (slot->agent)));
              continue;
            }
          slot->started = TRUE;
          run->n_active++;
          _fj_agent_result_set_status (slot->result, FJ_AGENT_STATUS_RUNNING);
          g_signal_emit (self, signals[AGENT_STARTED], 0, slot->result);
        }

      if (run->completed)
        return;
      if (run->n_active == 0)
        {
          batch_finish (run);
          return;
        }
      /* Picked up: look at once, then back off. */
      batch->delay = self->batch_poll_interval;
      batch_poll (run);
      return;
    }

  {
    g_autoptr(GPtrArray) names = g_ptr_array_new ();

    for (guint i = 0; i < run->n_slots; i++)
      g_ptr_array_add (names, (gpointer) (fj_agent_get_name (run->slots[i].agent) ?: ""));
    batch->batch = _fj_batch_new (fj_client_get_base_url (batch->client), run->input,
                                  (const char * const *) names->pdata, names->len);
  }

  batch_submit (run);
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

/* Whether the shared-input cache layout can help this run: NULL when it
 * can, else a note saying why not. */
static char *
cache_check (FjAgentRunner *self,
             GPtrArray     *items,
             const char    *input)
{
  g_autoptr(JsonObject) first = NULL;
  /* DESIGN.md's input estimate: UTF-8 bytes / 4. */
  guint64 estimate = strlen (input) / 4;

  for (guint i = 0; i < items->len; i++)
    {
      FjAgent *agent = g_ptr_array_index (items, i);
      FjClient *client = fj_agent_get_client (agent) ? fj_agent_get_client (agent) : self->client;

      if (fj_client_get_provider (client) == FJ_PROVIDER_OPENAI)
        return g_strdup_printf ("caching cannot apply: %s's client is OpenAI-compatible, "
                                "which has no prompt cache to mark; running without it",
                                agent_name (agent));
    }

  for (guint i = 0; i < items->len; i++)
    {
      FjAgent *agent = g_ptr_array_index (items, i);
      g_autoptr(JsonObject) params = NULL;
      g_autoptr(GError) error = NULL;
      JsonNode *tools;
      JsonNode *first_tools;

      params = _fj_agent_build_first_request (agent, input, FJ_CACHE_MODE_SHARED_INPUT,
                                              FALSE, &error);
      if (params == NULL)
        return g_strdup_printf ("caching cannot apply: %s; running without it", error->message);

      if (first == NULL)
        {
          first = g_steal_pointer (&params);
          continue;
        }

      tools = json_object_get_member (params, "tools");
      first_tools = json_object_get_member (first, "tools");
      if ((tools == NULL) != (first_tools == NULL) ||
          (tools != NULL && !json_node_equal (tools, first_tools)))
        return g_strdup_printf ("caching cannot apply: the agents' tools differ (%s's are not %s's) "
                                "and the cached prefix must be identical; running without it",
                                agent_name (agent),
                                agent_name (g_ptr_array_index (items, 0)));
    }

  for (guint i = 0; i < items->len; i++)
    {
      FjAgent *agent = g_ptr_array_index (items, i);
      const char *model = fj_agent_get_model (agent);
      guint min_tokens = _fj_model_cache_min_tokens (model);

      if (estimate < min_tokens)
        return g_strdup_printf ("caching cannot apply: the shared input is about %" G_GUINT64_FORMAT
                                " token%s and %s caches from %u; running without it",
                                estimate, estimate == 1 ? "" : "s",
                                model ? model : "the model", min_tokens);
    }

  return NULL;
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
  g_autofree char *cache_note = NULL;
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

  if (self->mode == FJ_RUN_MODE_BATCH && !batch_check (self, items, input, &error))
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

  if (self->cache == FJ_CACHE_MODE_SHARED_INPUT)
    {
      cache_note = cache_check (self, items, input);
      if (cache_note == NULL)
        {
          run->cache = FJ_CACHE_MODE_SHARED_INPUT;
          run->cache_gate = TRUE;
        }
      else
        g_debug ("%s", cache_note);
    }
  if (g_strcmp0 (self->cache_note, cache_note) != 0)
    {
      g_free (self->cache_note);
      self->cache_note = g_steal_pointer (&cache_note);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CACHE_NOTE]);
    }

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

  if (self->mode == FJ_RUN_MODE_BATCH)
    {
      batch_run_start (run);
      return;
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
 * to send with (%G_IO_ERROR_INVALID_ARGUMENT). In batch mode also: a
 * client that is not the Anthropic Messages API
 * (%G_IO_ERROR_NOT_SUPPORTED), an agent with tools, or a
 * [property@AgentRunner:batch] to pick up whose agents or input differ
 * from the run's (%G_IO_ERROR_INVALID_ARGUMENT).
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
