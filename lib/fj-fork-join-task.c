/* fj-fork-join-task.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-fork-join-task.h"

#include "fj-agent.h"
#include "fj-agent-result-private.h"
#include "fj-agent-runner-private.h"
#include "fj-client-private.h"
#include "fj-enums.h"
#include "fj-error.h"
#include "fj-fork-join-result-private.h"
#include "fj-plugin-registry-private.h"
#include "fj-sync-call-private.h"

/**
 * FjForkJoinTask:
 *
 * Runs agents in parallel on one input (the fork, through its
 * [property@ForkJoinTask:runner], whose policies apply), checks the quorum
 * ([property@ForkJoinTask:min-successes]) and merges the results (the
 * join, through its [property@ForkJoinTask:synthesizer]) into an
 * [class@ForkJoinResult].
 *
 * After the fork, fewer successes than `min-successes` make the result
 * [enum@Forkjoin.ForkJoinStatus.FAILED] with %FJ_ERROR_QUORUM_NOT_MET,
 * every agent's result kept and the synthesizer not called. Otherwise the
 * synthesizer gets every agent's result, failed ones included, and the
 * result is [enum@Forkjoin.ForkJoinStatus.DEGRADED] when some agent
 * failed, timed out, was skipped or was cancelled by the caller, else
 * [enum@Forkjoin.ForkJoinStatus.COMPLETE]: agents cancelled because a
 * policy stopped the run satisfied (an early exit) do not count as failed.
 * A synthesis that fails, or a run cancelled by the caller, makes the
 * result failed with that error, the fork's results kept. Without a
 * synthesizer the status comes from the quorum and the fork alone.
 *
 * A synthesizer that calls a model has a readable and writable `client`
 * property of type [class@Client] (the `llm` plugin does): when it is
 * %NULL as the synthesis starts, the task sets it to the runner's
 * [property@AgentRunner:client], which the synthesizer then keeps.
 *
 * Cost: with [property@ForkJoinTask:prices] (or else the runner's
 * [property@AgentRunner:prices]) every agent's and the synthesis step's
 * cost is computed from its model and usage, and the result's
 * [property@ForkJoinResult:cost] is their sum, unknown when any of them
 * that used tokens has no price.
 *
 * [method@ForkJoinTask.resume_async] runs a fork-join again from an
 * earlier run's results: the agents that succeeded then are kept as they
 * were, the others run again, and the quorum and the synthesis go over
 * the union.
 *
 * Since: 1.0
 */

struct _FjForkJoinTask
{
  GObject parent_instance;

  FjAgentRunner *runner;
  FjSynthesizer *synthesizer;
  FjPrices *prices;
  guint min_successes;
  gboolean running;
};

typedef struct
{
  char *input;
  GPtrArray *results;
  FjSynthesizer *synthesizer;
  FjPrices *prices;             /* the task's, else the runner's */
  GPtrArray *kept;              /* the results the run kept, to price if unpriced */
  gboolean synthesized;
  gint64 start_us;
} RunData;

enum {
  PROP_0,
  PROP_RUNNER,
  PROP_SYNTHESIZER,
  PROP_MIN_SUCCESSES,
  PROP_PRICES,
  N_PROPS
};

enum {
  SYNTHESIS_STARTED,
  SYNTHESIS_FINISHED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (FjForkJoinTask, fj_fork_join_task, G_TYPE_OBJECT)

static void
run_data_free (RunData *data)
{
  g_free (data->input);
  g_clear_pointer (&data->results, g_ptr_array_unref);
  g_clear_object (&data->synthesizer);
  g_clear_object (&data->prices);
  g_clear_pointer (&data->kept, g_ptr_array_unref);
  g_free (data);
}

static void
fj_fork_join_task_dispose (GObject *object)
{
  FjForkJoinTask *self = (FjForkJoinTask *)object;

  g_clear_object (&self->runner);
  g_clear_object (&self->synthesizer);
  g_clear_object (&self->prices);

  G_OBJECT_CLASS (fj_fork_join_task_parent_class)->dispose (object);
}

static void
fj_fork_join_task_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  FjForkJoinTask *self = FJ_FORK_JOIN_TASK (object);

  switch (prop_id)
    {
    case PROP_RUNNER:
      g_value_set_object (value, self->runner);
      break;

    case PROP_SYNTHESIZER:
      g_value_set_object (value, self->synthesizer);
      break;

    case PROP_MIN_SUCCESSES:
      g_value_set_uint (value, self->min_successes);
      break;

    case PROP_PRICES:
      g_value_set_object (value, self->prices);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_fork_join_task_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  FjForkJoinTask *self = FJ_FORK_JOIN_TASK (object);

  switch (prop_id)
    {
    case PROP_RUNNER:
      {
        FjAgentRunner *runner = g_value_get_object (value);

        /* NULL (the construct-time default) means a runner of our own. */
        if (runner == NULL && self->runner == NULL)
          self->runner = fj_agent_runner_new (NULL);
        else if (runner != NULL)
          fj_fork_join_task_set_runner (self, runner);
      }
      break;

    case PROP_SYNTHESIZER:
      fj_fork_join_task_set_synthesizer (self, g_value_get_object (value));
      break;

    case PROP_MIN_SUCCESSES:
      fj_fork_join_task_set_min_successes (self, g_value_get_uint (value));
      break;

    case PROP_PRICES:
      fj_fork_join_task_set_prices (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_fork_join_task_class_init (FjForkJoinTaskClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = fj_fork_join_task_dispose;
  object_class->get_property = fj_fork_join_task_get_property;
  object_class->set_property = fj_fork_join_task_set_property;

  /**
   * FjForkJoinTask:runner:
   *
   * The runner of the fork; its policies, limits and timeouts apply. By
   * default a new runner without a client: set its
   * [property@AgentRunner:client] (or give every agent its own client)
   * before running.
   *
   * Since: 1.0
   */
  properties[PROP_RUNNER] =
    g_param_spec_object ("runner", NULL, NULL,
                         FJ_TYPE_AGENT_RUNNER,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT |
                          G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjForkJoinTask:synthesizer:
   *
   * The join step, or %NULL to run the fork only, its status decided by
   * the quorum and the fork's results alone.
   *
   * Since: 1.0
   */
  properties[PROP_SYNTHESIZER] =
    g_param_spec_object ("synthesizer", NULL, NULL,
                         FJ_TYPE_SYNTHESIZER,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjForkJoinTask:min-successes:
   *
   * The quorum: how many agents must succeed for the synthesis to run. It
   * is handed to the runner (and so to its policies) for each run.
   *
   * Since: 1.0
   */
  properties[PROP_MIN_SUCCESSES] =
    g_param_spec_uint ("min-successes", NULL, NULL,
                       0, G_MAXUINT, 1,
                       (G_PARAM_READWRITE | G_PARAM_CONSTRUCT |
                        G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjForkJoinTask:prices:
   *
   * The price table the agents' and the synthesis step's costs are
   * computed with once the run has finished, so the runner need not have
   * one; %NULL (the default) uses the runner's
   * [property@AgentRunner:prices], if any.
   *
   * Since: 1.0
   */
  properties[PROP_PRICES] =
    g_param_spec_object ("prices", NULL, NULL,
                         FJ_TYPE_PRICES,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * FjForkJoinTask::synthesis-started:
   * @self: a #FjForkJoinTask
   *
   * Emitted when the quorum held and the synthesizer is called.
   *
   * Since: 1.0
   */
  signals[SYNTHESIS_STARTED] =
    g_signal_new ("synthesis-started",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 0);

  /**
   * FjForkJoinTask::synthesis-finished:
   * @self: a #FjForkJoinTask
   *
   * Emitted when the synthesizer has finished, whether it succeeded or
   * not; the [class@ForkJoinResult] says which.
   *
   * Since: 1.0
   */
  signals[SYNTHESIS_FINISHED] =
    g_signal_new ("synthesis-finished",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 0);
}

static void
fj_fork_join_task_init (FjForkJoinTask *self)
{
  self->min_successes = 1;
}

/**
 * fj_fork_join_task_new:
 * @runner: (nullable): the runner of the fork, or %NULL for a new one
 *   without a client
 * @synthesizer: (nullable): the join step, or %NULL for the fork only
 *
 * Creates a fork-join task.
 *
 * Returns: (transfer full): a new #FjForkJoinTask
 *
 * Since: 1.0
 */
FjForkJoinTask *
fj_fork_join_task_new (FjAgentRunner *runner,
                       FjSynthesizer *synthesizer)
{
  g_return_val_if_fail (!runner || FJ_IS_AGENT_RUNNER (runner), NULL);
  g_return_val_if_fail (!synthesizer || FJ_IS_SYNTHESIZER (synthesizer), NULL);

  return g_object_new (FJ_TYPE_FORK_JOIN_TASK,
                       "runner", runner,
                       "synthesizer", synthesizer,
                       NULL);
}

/**
 * fj_fork_join_task_get_runner:
 * @self: a #FjForkJoinTask
 *
 * Gets the runner of the fork.
 *
 * Returns: (transfer none): the runner
 *
 * Since: 1.0
 */
FjAgentRunner *
fj_fork_join_task_get_runner (FjForkJoinTask *self)
{
  g_return_val_if_fail (FJ_IS_FORK_JOIN_TASK (self), NULL);

  return self->runner;
}

/**
 * fj_fork_join_task_set_runner:
 * @self: a #FjForkJoinTask
 * @runner: the runner of the fork
 *
 * Sets the runner of the fork. It cannot change while the task runs.
 *
 * Since: 1.0
 */
void
fj_fork_join_task_set_runner (FjForkJoinTask *self,
                              FjAgentRunner  *runner)
{
  g_return_if_fail (FJ_IS_FORK_JOIN_TASK (self));
  g_return_if_fail (FJ_IS_AGENT_RUNNER (runner));
  g_return_if_fail (!self->running);

  if (g_set_object (&self->runner, runner))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNER]);
}

/**
 * fj_fork_join_task_get_synthesizer:
 * @self: a #FjForkJoinTask
 *
 * Gets the join step.
 *
 * Returns: (transfer none) (nullable): the synthesizer, or %NULL
 *
 * Since: 1.0
 */
FjSynthesizer *
fj_fork_join_task_get_synthesizer (FjForkJoinTask *self)
{
  g_return_val_if_fail (FJ_IS_FORK_JOIN_TASK (self), NULL);

  return self->synthesizer;
}

/**
 * fj_fork_join_task_set_synthesizer:
 * @self: a #FjForkJoinTask
 * @synthesizer: (nullable): the join step, or %NULL for the fork only
 *
 * Sets the join step. A run already under way keeps the one it started
 * with.
 *
 * Since: 1.0
 */
void
fj_fork_join_task_set_synthesizer (FjForkJoinTask *self,
                                   FjSynthesizer  *synthesizer)
{
  g_return_if_fail (FJ_IS_FORK_JOIN_TASK (self));
  g_return_if_fail (!synthesizer || FJ_IS_SYNTHESIZER (synthesizer));

  if (g_set_object (&self->synthesizer, synthesizer))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SYNTHESIZER]);
}

/**
 * fj_fork_join_task_get_min_successes:
 * @self: a #FjForkJoinTask
 *
 * Gets the quorum.
 *
 * Returns: how many agents must succeed
 *
 * Since: 1.0
 */
guint
fj_fork_join_task_get_min_successes (FjForkJoinTask *self)
{
  g_return_val_if_fail (FJ_IS_FORK_JOIN_TASK (self), 0);

  return self->min_successes;
}

/**
 * fj_fork_join_task_set_min_successes:
 * @self: a #FjForkJoinTask
 * @min_successes: how many agents must succeed
 *
 * Sets the quorum, handed to the runner for each run.
 *
 * Since: 1.0
 */
void
fj_fork_join_task_set_min_successes (FjForkJoinTask *self,
                                     guint           min_successes)
{
  g_return_if_fail (FJ_IS_FORK_JOIN_TASK (self));

  if (self->min_successes != min_successes)
    {
      self->min_successes = min_successes;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MIN_SUCCESSES]);
    }
}

/**
 * fj_fork_join_task_get_prices:
 * @self: a #FjForkJoinTask
 *
 * Gets the price table costs are computed with.
 *
 * Returns: (transfer none) (nullable): the price table, or %NULL
 *
 * Since: 1.0
 */
FjPrices *
fj_fork_join_task_get_prices (FjForkJoinTask *self)
{
  g_return_val_if_fail (FJ_IS_FORK_JOIN_TASK (self), NULL);

  return self->prices;
}

/**
 * fj_fork_join_task_set_prices:
 * @self: a #FjForkJoinTask
 * @prices: (nullable): a price table, or %NULL to use the runner's
 *
 * Sets the price table the agents' and the synthesis step's costs are
 * computed with, such as [func@Prices.get_default]. A run already under
 * way keeps the one it started with.
 *
 * Since: 1.0
 */
void
fj_fork_join_task_set_prices (FjForkJoinTask *self,
                              FjPrices       *prices)
{
  g_return_if_fail (FJ_IS_FORK_JOIN_TASK (self));
  g_return_if_fail (!prices || FJ_IS_PRICES (prices));

  if (g_set_object (&self->prices, prices))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PRICES]);
}

static double
elapsed (RunData *data)
{
  return (g_get_monotonic_time () - data->start_us) / (double) G_USEC_PER_SEC;
}

/* Takes @error. */
static void
run_return (GTask            *task,
            FjForkJoinStatus  status,
            GError           *error,
            const char       *output,
            FjAgentResult    *synthesis_result)
{
  FjForkJoinTask *self = g_task_get_source_object (task);
  RunData *data = g_task_get_task_data (task);
  const char *synthesizer_name = NULL;
  FjForkJoinResult *result;

  if (data->synthesized)
    synthesizer_name = _fj_plugin_registry_get_object_name (G_OBJECT (data->synthesizer));

  if (data->prices != NULL && synthesis_result != NULL)
    _fj_agent_result_apply_prices (synthesis_result, data->prices);

  self->running = FALSE;
  result = _fj_fork_join_result_new (status, error, data->input, data->results,
                                     synthesizer_name, output, synthesis_result,
                                     elapsed (data));
  _fj_fork_join_result_set_cache (result, fj_agent_runner_get_cache (self->runner),
                                  fj_agent_runner_get_cache_note (self->runner));
  if (fj_agent_runner_get_mode (self->runner) == FJ_RUN_MODE_BATCH &&
      fj_agent_runner_get_batch (self->runner) != NULL)
    _fj_fork_join_result_set_batch_ids (result, fj_batch_get_ids (fj_agent_runner_get_batch (self->runner)));
  g_task_return_pointer (task, result, g_object_unref);
}

/* Whether @result counts as a failed agent. */
static gboolean
agent_failed (FjAgentResult *result,
              gboolean       stopped_satisfied)
{
  const GError *error;

  switch (fj_agent_result_get_status (result))
    {
    case FJ_AGENT_STATUS_SUCCESS:
      return FALSE;

    case FJ_AGENT_STATUS_CANCELLED:
      return !stopped_satisfied;

    case FJ_AGENT_STATUS_SKIPPED:
      /* Skipped by the early exit, not by a budget or a deadline. */
      error = fj_agent_result_get_error (result);
      return !(stopped_satisfied && error != NULL &&
               g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED));

    case FJ_AGENT_STATUS_PENDING:
    case FJ_AGENT_STATUS_RUNNING:
    case FJ_AGENT_STATUS_FAILED:
    case FJ_AGENT_STATUS_TIMED_OUT:
    default:
      return TRUE;
    }
}

/* "technical-analyst timed-out, market-analyst failed (overloaded)" */
static char *
describe_failures (GPtrArray *results)
{
  g_autoptr(GEnumClass) status_class = g_type_class_ref (FJ_TYPE_AGENT_STATUS);
  GString *string = g_string_new (NULL);

  for (guint i = 0; i < results->len; i++)
    {
      FjAgentResult *result = g_ptr_array_index (results, i);
      FjAgentStatus status = fj_agent_result_get_status (result);
      const char *code = fj_agent_result_get_error_code (result);
      const char *nick;

      if (status == FJ_AGENT_STATUS_SUCCESS)
        continue;

      nick = g_enum_get_value (status_class, status)->value_nick;
      if (string->len > 0)
        g_string_append (string, ", ");
      g_string_append_printf (string, "%s %s", fj_agent_result_get_agent_name (result), nick);
      if (code != NULL && g_strcmp0 (code, nick) != 0)
        g_string_append_printf (string, " (%s)", code);
    }

  return g_string_free (string, FALSE);
}

/* Prices every agent that ran; an agent kept from an earlier run keeps its
 * cost unless it had none. */
static void
price_results (RunData *data)
{
  for (guint i = 0; i < data->results->len; i++)
    {
      FjAgentResult *result = g_ptr_array_index (data->results, i);
      gboolean kept = data->kept != NULL && i < data->kept->len &&
                      fj_agent_result_get_status (g_ptr_array_index (data->kept, i)) == FJ_AGENT_STATUS_SUCCESS;

      if (!kept || fj_agent_result_get_cost (result) < 0)
        _fj_agent_result_apply_prices (result, data->prices);
    }
}

/* A synthesizer that calls a model (the llm plugin) has a `client`
 * property; when it is unset, it gets the runner's, and keeps it. */
static void
give_client (FjSynthesizer *synthesizer,
             FjClient      *client)
{
  g_autoptr(FjClient) current = NULL;
  GParamSpec *pspec;

  g_assert (FJ_IS_SYNTHESIZER (synthesizer));

  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (synthesizer), "client");
  if (client == NULL || pspec == NULL ||
      !g_type_is_a (FJ_TYPE_CLIENT, G_PARAM_SPEC_VALUE_TYPE (pspec)) ||
      (pspec->flags & G_PARAM_READWRITE) != G_PARAM_READWRITE ||
      (pspec->flags & G_PARAM_CONSTRUCT_ONLY) != 0)
    return;

  g_object_get (synthesizer, "client", &current, NULL);
  if (current == NULL)
    g_object_set (synthesizer, "client", client, NULL);
}

static void
synthesize_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  FjSynthesizer *synthesizer = FJ_SYNTHESIZER (object);
  g_autoptr(GTask) task = user_data;
  FjForkJoinTask *self = g_task_get_source_object (task);
  RunData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autofree char *output = NULL;
  FjAgentResult *synthesis_result;
  FjForkJoinStatus status = FJ_FORK_JOIN_STATUS_COMPLETE;
  gboolean stopped_satisfied;

  output = fj_synthesizer_synthesize_finish (synthesizer, result, &error);
  if (output != NULL && g_cancellable_set_error_if_cancelled (g_task_get_cancellable (task), &error))
    g_clear_pointer (&output, g_free);

  synthesis_result = fj_synthesizer_get_result (synthesizer);

  g_signal_emit (self, signals[SYNTHESIS_FINISHED], 0);

  if (output == NULL)
    {
      if (error == NULL)
        error = g_error_new (FJ_ERROR, FJ_ERROR_PLUGIN, "%s: the synthesis gave no output",
                             _fj_plugin_registry_get_object_name (G_OBJECT (synthesizer)));
      run_return (task, FJ_FORK_JOIN_STATUS_FAILED, g_steal_pointer (&error), NULL, synthesis_result);
      return;
    }

  stopped_satisfied = _fj_agent_runner_get_stopped_satisfied (self->runner);
  for (guint i = 0; i < data->results->len; i++)
    if (agent_failed (g_ptr_array_index (data->results, i), stopped_satisfied))
      status = FJ_FORK_JOIN_STATUS_DEGRADED;

  run_return (task, status, NULL, output, synthesis_result);
}

static void
fork_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  FjAgentRunner *runner = FJ_AGENT_RUNNER (object);
  g_autoptr(GTask) task = user_data;
  FjForkJoinTask *self = g_task_get_source_object (task);
  RunData *data = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autoptr(GError) error = NULL;
  FjForkJoinStatus status = FJ_FORK_JOIN_STATUS_COMPLETE;
  guint n_succeeded = 0;
  gboolean stopped_satisfied;

  data->results = fj_agent_runner_run_finish (runner, result, &error);
  if (data->results == NULL)
    {
      self->running = FALSE;
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (data->prices != NULL)
    price_results (data);

  stopped_satisfied = _fj_agent_runner_get_stopped_satisfied (runner);
  for (guint i = 0; i < data->results->len; i++)
    {
      FjAgentResult *agent_result = g_ptr_array_index (data->results, i);

      if (fj_agent_result_get_status (agent_result) == FJ_AGENT_STATUS_SUCCESS)
        n_succeeded++;
      else if (agent_failed (agent_result, stopped_satisfied))
        status = FJ_FORK_JOIN_STATUS_DEGRADED;
    }

  if (g_cancellable_is_cancelled (cancellable))
    {
      run_return (task, FJ_FORK_JOIN_STATUS_FAILED,
                  g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               "the fork-join was cancelled: %u of %u agents succeeded",
                               n_succeeded, data->results->len),
                  NULL, NULL);
      return;
    }

  if (n_succeeded < self->min_successes)
    {
      g_autofree char *failures = describe_failures (data->results);

      run_return (task, FJ_FORK_JOIN_STATUS_FAILED,
                  g_error_new (FJ_ERROR, FJ_ERROR_QUORUM_NOT_MET,
                               "quorum not met: %u of %u agents succeeded, %u needed%s%s",
                               n_succeeded, data->results->len, self->min_successes,
                               failures[0] != '\0' ? ": " : "", failures),
                  NULL, NULL);
      return;
    }

  if (data->synthesizer == NULL)
    {
      run_return (task, status, NULL, NULL, NULL);
      return;
    }

  data->synthesized = TRUE;
  give_client (data->synthesizer, fj_agent_runner_get_client (self->runner));
  g_signal_emit (self, signals[SYNTHESIS_STARTED], 0);
  fj_synthesizer_synthesize_async (data->synthesizer, data->input, data->results,
                                   cancellable, synthesize_cb, g_steal_pointer (&task));
}

static void
task_start (FjForkJoinTask      *self,
            GListModel          *agents,
            const char          *input,
            GPtrArray           *previous,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data,
            gpointer             source_tag)
{
  g_autoptr(GTask) task = NULL;
  RunData *data;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);
  /* A cancelled run still gives its result, with the fork's results. */
  g_task_set_check_cancellable (task, FALSE);

  if (self->running)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING,
                               "The fork-join task is already running");
      return;
    }

  data = g_new0 (RunData, 1);
  data->input = g_strdup (input);
  data->synthesizer = self->synthesizer != NULL ? g_object_ref (self->synthesizer) : NULL;
  data->prices = self->prices ? self->prices : fj_agent_runner_get_prices (self->runner);
  if (data->prices != NULL)
    g_object_ref (data->prices);
  data->kept = previous != NULL ? g_ptr_array_ref (previous) : NULL;
  data->start_us = g_get_monotonic_time ();
  g_task_set_task_data (task, data, (GDestroyNotify) run_data_free);

  self->running = TRUE;
  fj_agent_runner_set_min_successes (self->runner, self->min_successes);
  if (previous != NULL)
    _fj_agent_runner_resume_async (self->runner, agents, input, previous, cancellable,
                                   fork_cb, g_steal_pointer (&task));
  else
    fj_agent_runner_run_async (self->runner, agents, input, cancellable,
                               fork_cb, g_steal_pointer (&task));
}

/**
 * fj_fork_join_task_run_async:
 * @self: a #FjForkJoinTask
 * @agents: (transfer none): a list model of [class@Agent]
 * @input: the input every agent gets
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when the fork-join
 *   has finished
 * @user_data: data for @callback
 *
 * Runs @agents on @input through the runner, checks the quorum, and joins
 * the results through the synthesizer. One run at a time; the task can be
 * run again once a run has finished. Call
 * [method@ForkJoinTask.run_finish] from @callback.
 *
 * Since: 1.0
 */
void
fj_fork_join_task_run_async (FjForkJoinTask      *self,
                             GListModel          *agents,
                             const char          *input,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (FJ_IS_FORK_JOIN_TASK (self));
  g_return_if_fail (G_IS_LIST_MODEL (agents));
  g_return_if_fail (input != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task_start (self, agents, input, NULL, cancellable, callback, user_data,
              fj_fork_join_task_run_async);
}

/**
 * fj_fork_join_task_run_finish:
 * @self: a #FjForkJoinTask
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@ForkJoinTask.run_async].
 *
 * A run that started always gives a result, whether it succeeded or not:
 * see its [property@ForkJoinResult:status] and
 * [property@ForkJoinResult:error]. %NULL (with @error set) means the run
 * could not start: the task or its runner was already running
 * (%G_IO_ERROR_PENDING), there were no agents, or an agent had no client
 * to send with (%G_IO_ERROR_INVALID_ARGUMENT).
 *
 * Returns: (transfer full): the result, or %NULL with @error set
 *
 * Since: 1.0
 */
FjForkJoinResult *
fj_fork_join_task_run_finish (FjForkJoinTask  *self,
                              GAsyncResult    *result,
                              GError         **error)
{
  g_return_val_if_fail (FJ_IS_FORK_JOIN_TASK (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * fj_fork_join_task_run_sync:
 * @self: a #FjForkJoinTask
 * @agents: (transfer none): a list model of [class@Agent]
 * @input: the input every agent gets
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Runs the fork-join as [method@ForkJoinTask.run_async] does, blocking
 * the calling thread, on a main context of its own.
 *
 * Returns: (transfer full): the result, or %NULL with @error set when the
 *   run could not start
 *
 * Since: 1.0
 */
FjForkJoinResult *
fj_fork_join_task_run_sync (FjForkJoinTask  *self,
                            GListModel      *agents,
                            const char      *input,
                            GCancellable    *cancellable,
                            GError         **error)
{
  FjSyncCall call;
  FjForkJoinResult *ret;

  g_return_val_if_fail (FJ_IS_FORK_JOIN_TASK (self), NULL);
  g_return_val_if_fail (G_IS_LIST_MODEL (agents), NULL);
  g_return_val_if_fail (input != NULL, NULL);
  g_return_val_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  _fj_sync_call_begin (&call);
  _fj_sync_call_add_client (&call, fj_agent_runner_get_client (self->runner));
  _fj_sync_call_add_agent_clients (&call, agents);
  fj_fork_join_task_run_async (self, agents, input, cancellable, _fj_sync_call_done, &call);
  ret = fj_fork_join_task_run_finish (self, _fj_sync_call_wait (&call), error);
  _fj_sync_call_end (&call);

  return ret;
}

/**
 * fj_fork_join_task_resume_async:
 * @self: a #FjForkJoinTask
 * @agents: (transfer none): a list model of [class@Agent]
 * @input: the input every agent gets
 * @previous: (element-type FjAgentResult): an earlier run's results, one
 *   per agent of @agents in the same order and with the same names (read
 *   back with [ctor@AgentResult.new_from_json] or taken from an
 *   [class@ForkJoinResult])
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when the fork-join
 *   has finished
 * @user_data: data for @callback
 *
 * Runs the fork-join again, keeping what succeeded: an agent whose
 * earlier result is `success` is not run, its result (a copy) is in the
 * run from the start, finished, in the runner's
 * [property@AgentRunner:results], counted in
 * [property@AgentRunner:n-succeeded] and in the usage, without the
 * runner's signals; every other agent runs as in
 * [method@ForkJoinTask.run_async]. The quorum check and the synthesis go
 * over the union, and the result looks like a normal run's. A kept result
 * keeps its cost, or is priced when it had none.
 *
 * @previous not matching @agents (another length, another name at some
 * position) fails the call with %FJ_ERROR_SPEC.
 *
 * For more details, see [method@ForkJoinTask.resume_sync], the
 * synchronous version of this call. When the operation is finished,
 * @callback will be called. You should then call
 * [method@ForkJoinTask.resume_finish].
 *
 * Since: 1.0
 */
void
fj_fork_join_task_resume_async (FjForkJoinTask      *self,
                                GListModel          *agents,
                                const char          *input,
                                GPtrArray           *previous,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_return_if_fail (FJ_IS_FORK_JOIN_TASK (self));
  g_return_if_fail (G_IS_LIST_MODEL (agents));
  g_return_if_fail (input != NULL);
  g_return_if_fail (previous != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task_start (self, agents, input, previous, cancellable, callback, user_data,
              fj_fork_join_task_resume_async);
}

/**
 * fj_fork_join_task_resume_finish:
 * @self: a #FjForkJoinTask
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@ForkJoinTask.resume_async].
 *
 * Returns: (transfer full): the result, or %NULL with @error set when the
 *   run could not start (as for [method@ForkJoinTask.run_finish], or
 *   %FJ_ERROR_SPEC when the earlier results do not match the agents)
 *
 * Since: 1.0
 */
FjForkJoinResult *
fj_fork_join_task_resume_finish (FjForkJoinTask  *self,
                                 GAsyncResult    *result,
                                 GError         **error)
{
  g_return_val_if_fail (FJ_IS_FORK_JOIN_TASK (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * fj_fork_join_task_resume_sync:
 * @self: a #FjForkJoinTask
 * @agents: (transfer none): a list model of [class@Agent]
 * @input: the input every agent gets
 * @previous: (element-type FjAgentResult): an earlier run's results, one
 *   per agent in order
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Resumes the fork-join as [method@ForkJoinTask.resume_async] does,
 * blocking the calling thread, on a main context of its own.
 *
 * Returns: (transfer full): the result, or %NULL with @error set when the
 *   run could not start
 *
 * Since: 1.0
 */
FjForkJoinResult *
fj_fork_join_task_resume_sync (FjForkJoinTask  *self,
                               GListModel      *agents,
                               const char      *input,
                               GPtrArray       *previous,
                               GCancellable    *cancellable,
                               GError         **error)
{
  FjSyncCall call;
  FjForkJoinResult *ret;

  g_return_val_if_fail (FJ_IS_FORK_JOIN_TASK (self), NULL);
  g_return_val_if_fail (G_IS_LIST_MODEL (agents), NULL);
  g_return_val_if_fail (input != NULL, NULL);
  g_return_val_if_fail (previous != NULL, NULL);
  g_return_val_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  _fj_sync_call_begin (&call);
  _fj_sync_call_add_client (&call, fj_agent_runner_get_client (self->runner));
  _fj_sync_call_add_agent_clients (&call, agents);
  fj_fork_join_task_resume_async (self, agents, input, previous, cancellable,
                                  _fj_sync_call_done, &call);
  ret = fj_fork_join_task_resume_finish (self, _fj_sync_call_wait (&call), error);
  _fj_sync_call_end (&call);

  return ret;
}
