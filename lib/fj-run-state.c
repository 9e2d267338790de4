/* fj-run-state.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-run-state.h"
#include "fj-run-state-private.h"

/**
 * FjRunState:
 *
 * A read-only view of one run of an [class@AgentRunner], handed to
 * [iface@Policy] hooks: how many agents are pending, running, succeeded,
 * failed, cancelled or skipped (these always add up to
 * [property@RunState:n-agents]), the quorum the run asks for
 * ([property@RunState:min-successes]), the token usage of the agents that
 * have settled, the time since the run started, and every agent's
 * [class@AgentResult].
 *
 * The runner updates it as the run goes; each counter is notified when it
 * changes. [property@AgentRunner:state] gives the state of the current (or
 * last) run.
 *
 * Since: 1.0
 */

struct _FjRunState
{
  GObject parent_instance;

  GPtrArray *results;
  guint counts[FJ_RUN_N_COUNTS];
  guint min_successes;
  FjUsage usage;
  gint64 start_us;
  gint64 end_us;
};

enum {
  PROP_0,
  PROP_N_AGENTS,
  PROP_N_PENDING,
  PROP_N_RUNNING,
  PROP_N_SUCCEEDED,
  PROP_N_FAILED,
  PROP_N_CANCELLED,
  PROP_N_SKIPPED,
  PROP_MIN_SUCCESSES,
  PROP_USAGE,
  PROP_ELAPSED,
  PROP_FINISHED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (FjRunState, fj_run_state, G_TYPE_OBJECT)

/* PROP_N_PENDING .. PROP_N_SKIPPED follow FjRunCount's order. */
#define COUNT_PROP(count) (PROP_N_PENDING + (count))

static void
fj_run_state_finalize (GObject *object)
{
  FjRunState *self = FJ_RUN_STATE (object);

  g_clear_pointer (&self->results, g_ptr_array_unref);

  G_OBJECT_CLASS (fj_run_state_parent_class)->finalize (object);
}

static void
fj_run_state_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  FjRunState *self = FJ_RUN_STATE (object);

  switch (prop_id)
    {
    case PROP_N_AGENTS:
      g_value_set_uint (value, fj_run_state_get_n_agents (self));
      break;

    case PROP_N_PENDING:
    case PROP_N_RUNNING:
    case PROP_N_SUCCEEDED:
    case PROP_N_FAILED:
    case PROP_N_CANCELLED:
    case PROP_N_SKIPPED:
      g_value_set_uint (value, self->counts[prop_id - PROP_N_PENDING]);
      break;

    case PROP_MIN_SUCCESSES:
      g_value_set_uint (value, self->min_successes);
      break;

    case PROP_USAGE:
      g_value_set_boxed (value, &self->usage);
      break;

    case PROP_ELAPSED:
      g_value_set_double (value, fj_run_state_get_elapsed (self));
      break;

    case PROP_FINISHED:
      g_value_set_boolean (value, fj_run_state_get_finished (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_run_state_class_init (FjRunStateClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = fj_run_state_finalize;
  object_class->get_property = fj_run_state_get_property;

  /**
   * FjRunState:n-agents:
   *
   * How many agents the run has.
   *
   * Since: 1.0
   */
  properties[PROP_N_AGENTS] =
    g_param_spec_uint ("n-agents", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjRunState:n-pending:
   *
   * How many agents have not started yet.
   *
   * Since: 1.0
   */
  properties[PROP_N_PENDING] =
    g_param_spec_uint ("n-pending", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjRunState:n-running:
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
   * FjRunState:n-succeeded:
   *
   * How many agents finished with an answer.
   *
   * Since: 1.0
   */
  properties[PROP_N_SUCCEEDED] =
    g_param_spec_uint ("n-succeeded", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjRunState:n-failed:
   *
   * How many agents failed or timed out.
   *
   * Since: 1.0
   */
  properties[PROP_N_FAILED] =
    g_param_spec_uint ("n-failed", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjRunState:n-cancelled:
   *
   * How many agents were cancelled while running.
   *
   * Since: 1.0
   */
  properties[PROP_N_CANCELLED] =
    g_param_spec_uint ("n-cancelled", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjRunState:n-skipped:
   *
   * How many agents never started because the run ended first (or a
   * policy refused them).
   *
   * Since: 1.0
   */
  properties[PROP_N_SKIPPED] =
    g_param_spec_uint ("n-skipped", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjRunState:min-successes:
   *
   * How many agents must succeed for the run to meet its quorum, as the
   * runner's [property@AgentRunner:min-successes] was when the run
   * started.
   *
   * Since: 1.0
   */
  properties[PROP_MIN_SUCCESSES] =
    g_param_spec_uint ("min-successes", NULL, NULL,
                       0, G_MAXUINT, 1,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjRunState:usage:
   *
   * The token usage of the agents that have settled, added up.
   *
   * Since: 1.0
   */
  properties[PROP_USAGE] =
    g_param_spec_boxed ("usage", NULL, NULL,
                        FJ_TYPE_USAGE,
                        (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjRunState:elapsed:
   *
   * Seconds since the run started, up to its end once it has finished.
   * It is not notified: read it when needed.
   *
   * Since: 1.0
   */
  properties[PROP_ELAPSED] =
    g_param_spec_double ("elapsed", NULL, NULL,
                         0.0, G_MAXDOUBLE, 0.0,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjRunState:finished:
   *
   * Whether the run has ended (every agent settled).
   *
   * Since: 1.0
   */
  properties[PROP_FINISHED] =
    g_param_spec_boolean ("finished", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
fj_run_state_init (FjRunState *self)
{
  self->results = g_ptr_array_new_with_free_func (g_object_unref);
  self->min_successes = 1;
}

FjRunCount
_fj_run_count_for_status (FjAgentStatus status)
{
  switch (status)
    {
    case FJ_AGENT_STATUS_PENDING:
      return FJ_RUN_COUNT_PENDING;
    case FJ_AGENT_STATUS_RUNNING:
      return FJ_RUN_COUNT_RUNNING;
    case FJ_AGENT_STATUS_SUCCESS:
      return FJ_RUN_COUNT_SUCCEEDED;
    case FJ_AGENT_STATUS_FAILED:
    case FJ_AGENT_STATUS_TIMED_OUT:
      return FJ_RUN_COUNT_FAILED;
    case FJ_AGENT_STATUS_CANCELLED:
      return FJ_RUN_COUNT_CANCELLED;
    case FJ_AGENT_STATUS_SKIPPED:
      return FJ_RUN_COUNT_SKIPPED;
    default:
      g_assert_not_reached ();
    }
}

FjRunState *
_fj_run_state_new (GPtrArray *results,
                   guint      min_successes)
{
  FjRunState *self;

  g_return_val_if_fail (results != NULL, NULL);

  self = g_object_new (FJ_TYPE_RUN_STATE, NULL);
  g_ptr_array_unref (self->results);
  self->results = g_ptr_array_ref (results);
  self->counts[FJ_RUN_COUNT_PENDING] = results->len;
  self->min_successes = min_successes;
  self->start_us = g_get_monotonic_time ();

  return self;
}

void
_fj_run_state_move (FjRunState    *self,
                    FjAgentStatus  from,
                    FjAgentStatus  to)
{
  FjRunCount from_count;
  FjRunCount to_count;

  g_return_if_fail (FJ_IS_RUN_STATE (self));

  from_count = _fj_run_count_for_status (from);
  to_count = _fj_run_count_for_status (to);
  if (from_count == to_count)
    return;

  g_return_if_fail (self->counts[from_count] > 0);

  /* Both counts change before either is notified, so a listener always
   * sees them add up. */
  self->counts[from_count]--;
  self->counts[to_count]++;
  g_object_notify_by_pspec (G_OBJECT (self), properties[COUNT_PROP (from_count)]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[COUNT_PROP (to_count)]);
}

guint
_fj_run_state_get_count (FjRunState *self,
                         FjRunCount  count)
{
  g_return_val_if_fail (FJ_IS_RUN_STATE (self), 0);
  g_return_val_if_fail (count < FJ_RUN_N_COUNTS, 0);

  return self->counts[count];
}

gboolean
_fj_run_state_add_usage (FjRunState    *self,
                         const FjUsage *usage)
{
  static const FjUsage zero;

  g_return_val_if_fail (FJ_IS_RUN_STATE (self), FALSE);

  if (usage == NULL || fj_usage_equal (usage, &zero))
    return FALSE;

  fj_usage_add (&self->usage, usage);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USAGE]);

  return TRUE;
}

void
_fj_run_state_finish (FjRunState *self)
{
  g_return_if_fail (FJ_IS_RUN_STATE (self));

  if (self->end_us != 0)
    return;

  self->end_us = g_get_monotonic_time ();
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FINISHED]);
}

/**
 * fj_run_state_get_n_agents:
 * @self: a #FjRunState
 *
 * Gets how many agents the run has.
 *
 * Returns: the number of agents
 *
 * Since: 1.0
 */
guint
fj_run_state_get_n_agents (FjRunState *self)
{
  g_return_val_if_fail (FJ_IS_RUN_STATE (self), 0);

  return self->results->len;
}

/**
 * fj_run_state_get_n_pending:
 * @self: a #FjRunState
 *
 * Gets how many agents have not started yet.
 *
 * Returns: the number of pending agents
 *
 * Since: 1.0
 */
guint
fj_run_state_get_n_pending (FjRunState *self)
{
  g_return_val_if_fail (FJ_IS_RUN_STATE (self), 0);

  return self->counts[FJ_RUN_COUNT_PENDING];
}

/**
 * fj_run_state_get_n_running:
 * @self: a #FjRunState
 *
 * Gets how many agents are running.
 *
 * Returns: the number of running agents
 *
 * Since: 1.0
 */
guint
fj_run_state_get_n_running (FjRunState *self)
{
  g_return_val_if_fail (FJ_IS_RUN_STATE (self), 0);

  return self->counts[FJ_RUN_COUNT_RUNNING];
}

/**
 * fj_run_state_get_n_succeeded:
 * @self: a #FjRunState
 *
 * Gets how many agents finished with an answer.
 *
 * Returns: the number of successes
 *
 * Since: 1.0
 */
guint
fj_run_state_get_n_succeeded (FjRunState *self)
{
  g_return_val_if_fail (FJ_IS_RUN_STATE (self), 0);

  return self->counts[FJ_RUN_COUNT_SUCCEEDED];
}

/**
 * fj_run_state_get_n_failed:
 * @self: a #FjRunState
 *
 * Gets how many agents failed or timed out.
 *
 * Returns: the number of failures
 *
 * Since: 1.0
 */
guint
fj_run_state_get_n_failed (FjRunState *self)
{
  g_return_val_if_fail (FJ_IS_RUN_STATE (self), 0);

  return self->counts[FJ_RUN_COUNT_FAILED];
}

/**
 * fj_run_state_get_n_cancelled:
 * @self: a #FjRunState
 *
 * Gets how many agents were cancelled while running.
 *
 * Returns: the number of cancelled agents
 *
 * Since: 1.0
 */
guint
fj_run_state_get_n_cancelled (FjRunState *self)
{
  g_return_val_if_fail (FJ_IS_RUN_STATE (self), 0);

  return self->counts[FJ_RUN_COUNT_CANCELLED];
}

/**
 * fj_run_state_get_n_skipped:
 * @self: a #FjRunState
 *
 * Gets how many agents never started.
 *
 * Returns: the number of skipped agents
 *
 * Since: 1.0
 */
guint
fj_run_state_get_n_skipped (FjRunState *self)
{
  g_return_val_if_fail (FJ_IS_RUN_STATE (self), 0);

  return self->counts[FJ_RUN_COUNT_SKIPPED];
}

/**
 * fj_run_state_get_min_successes:
 * @self: a #FjRunState
 *
 * Gets the quorum the run asks for.
 *
 * Returns: how many agents must succeed
 *
 * Since: 1.0
 */
guint
fj_run_state_get_min_successes (FjRunState *self)
{
  g_return_val_if_fail (FJ_IS_RUN_STATE (self), 0);

  return self->min_successes;
}

/**
 * fj_run_state_get_usage:
 * @self: a #FjRunState
 *
 * Gets the token usage of the agents that have settled, added up.
 *
 * Returns: (transfer none): the usage
 *
 * Since: 1.0
 */
FjUsage *
fj_run_state_get_usage (FjRunState *self)
{
  g_return_val_if_fail (FJ_IS_RUN_STATE (self), NULL);

  return &self->usage;
}

/**
 * fj_run_state_get_elapsed:
 * @self: a #FjRunState
 *
 * Gets the seconds since the run started, or the run's length once it has
 * finished.
 *
 * Returns: the elapsed time in seconds
 *
 * Since: 1.0
 */
double
fj_run_state_get_elapsed (FjRunState *self)
{
  gint64 end_us;

  g_return_val_if_fail (FJ_IS_RUN_STATE (self), 0.0);

  if (self->start_us == 0)
    return 0.0;

  end_us = self->end_us != 0 ? self->end_us : g_get_monotonic_time ();

  return (end_us - self->start_us) / (double) G_USEC_PER_SEC;
}

/**
 * fj_run_state_get_finished:
 * @self: a #FjRunState
 *
 * Gets whether the run has ended.
 *
 * Returns: %TRUE once every agent has settled
 *
 * Since: 1.0
 */
gboolean
fj_run_state_get_finished (FjRunState *self)
{
  g_return_val_if_fail (FJ_IS_RUN_STATE (self), FALSE);

  return self->end_us != 0;
}

/**
 * fj_run_state_get_result:
 * @self: a #FjRunState
 * @index: an agent's position in the run, below
 *   [property@RunState:n-agents]
 *
 * Gets the result of one agent.
 *
 * Returns: (transfer none): the agent's result
 *
 * Since: 1.0
 */
FjAgentResult *
fj_run_state_get_result (FjRunState *self,
                         guint       index)
{
  g_return_val_if_fail (FJ_IS_RUN_STATE (self), NULL);
  g_return_val_if_fail (index < self->results->len, NULL);

  return g_ptr_array_index (self->results, index);
}

/**
 * fj_run_state_get_results:
 * @self: a #FjRunState
 *
 * Gets every agent's result, in agent order, each as it is now.
 *
 * Returns: (transfer none) (element-type FjAgentResult): the results
 *
 * Since: 1.0
 */
GPtrArray *
fj_run_state_get_results (FjRunState *self)
{
  g_return_val_if_fail (FJ_IS_RUN_STATE (self), NULL);

  return self->results;
}
