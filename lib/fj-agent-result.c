/* fj-agent-result.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-agent-result.h"
#include "fj-agent-result-private.h"

#include <math.h>
#include <string.h>

#include "fj-enums.h"
#include "fj-error.h"
#include "fj-json-private.h"

/**
 * FjAgentResult:
 *
 * The outcome of one agent, created when a run starts and updated while it
 * runs.
 *
 * Its [property@AgentResult:status] goes from `pending` to `running` and
 * ends `success`, `failed`, `timed-out`, `cancelled` or `skipped`. While the
 * agent streams, [property@AgentResult:output] grows with the current
 * turn's text; on success it holds the final answer, and when the agent
 * fails the text it had streamed is kept in
 * [property@AgentResult:partial-output].
 *
 * Every property notifies when, and only when, it changes, so a GTK row
 * can bind to it. When the status becomes terminal every other field has
 * already been set.
 *
 * [method@AgentResult.to_json] gives the object `forkjoin-tool run --json`
 * prints for each agent, and [ctor@AgentResult.new_from_json] reads it
 * back (`forkjoin-tool resume`).
 *
 * Since: 1.0
 */

struct _FjAgentResult
{
  GObject parent_instance;

  char *agent_name;
  guint index;
  FjAgentStatus status;
  GString *output;
  char *partial_output;
  GError *error;
  double duration;
  guint attempts;
  guint turns;
  char *stop_reason;
  FjUsage usage;
  double cost;
  double cache_saved;           /* NAN when unknown */
  char *model;
  FjPrices *prices;             /* applied when the result settles */
  gboolean batch;               /* ran in a Message Batches batch: priced at its discount */
  FjAgentResultStatusFunc status_func;
  gpointer status_data;
};

enum {
  PROP_0,
  PROP_AGENT_NAME,
  PROP_INDEX,
  PROP_STATUS,
  PROP_FINISHED,
  PROP_OUTPUT,
  PROP_PARTIAL_OUTPUT,
  PROP_ERROR,
  PROP_ERROR_CODE,
  PROP_ERROR_MESSAGE,
  PROP_DURATION,
  PROP_ATTEMPTS,
  PROP_TURNS,
  PROP_STOP_REASON,
  PROP_USAGE,
  PROP_COST,
  PROP_MODEL,
  PROP_CACHE_HIT_RATIO,
  PROP_CACHE_SAVED_USD,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (FjAgentResult, fj_agent_result, G_TYPE_OBJECT)

static gboolean
status_is_terminal (FjAgentStatus status)
{
  return status != FJ_AGENT_STATUS_PENDING && status != FJ_AGENT_STATUS_RUNNING;
}

static gboolean
set_str (char       **ptr,
         const char  *value)
{
  if (g_strcmp0 (*ptr, value) == 0)
    return FALSE;

  g_free (*ptr);
  *ptr = g_strdup (value);
  return TRUE;
}

static void
notify (FjAgentResult *self,
        guint          prop_id)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

static void
fj_agent_result_finalize (GObject *object)
{
  FjAgentResult *self = FJ_AGENT_RESULT (object);

  g_clear_pointer (&self->agent_name, g_free);
  if (self->output != NULL)
    g_string_free (self->output, TRUE);
  g_clear_pointer (&self->partial_output, g_free);
  g_clear_error (&self->error);
  g_clear_pointer (&self->stop_reason, g_free);
  g_clear_pointer (&self->model, g_free);
  g_clear_object (&self->prices);

  G_OBJECT_CLASS (fj_agent_result_parent_class)->finalize (object);
}

static void
fj_agent_result_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  FjAgentResult *self = FJ_AGENT_RESULT (object);

  switch (prop_id)
    {
    case PROP_AGENT_NAME:
      g_value_set_string (value, self->agent_name);
      break;

    case PROP_INDEX:
      g_value_set_uint (value, self->index);
      break;

    case PROP_STATUS:
      g_value_set_enum (value, self->status);
      break;

    case PROP_FINISHED:
      g_value_set_boolean (value, fj_agent_result_get_finished (self));
      break;

    case PROP_OUTPUT:
      g_value_set_string (value, fj_agent_result_get_output (self));
      break;

    case PROP_PARTIAL_OUTPUT:
      g_value_set_string (value, self->partial_output);
      break;

    case PROP_ERROR:
      g_value_set_boxed (value, self->error);
      break;

    case PROP_ERROR_CODE:
      g_value_set_string (value, fj_agent_result_get_error_code (self));
      break;

    case PROP_ERROR_MESSAGE:
      g_value_set_string (value, fj_agent_result_get_error_message (self));
      break;

    case PROP_DURATION:
      g_value_set_double (value, self->duration);
      break;

    case PROP_ATTEMPTS:
      g_value_set_uint (value, self->attempts);
      break;

    case PROP_TURNS:
      g_value_set_uint (value, self->turns);
      break;

    case PROP_STOP_REASON:
      g_value_set_string (value, self->stop_reason);
      break;

    case PROP_USAGE:
      g_value_set_boxed (value, &self->usage);
      break;

    case PROP_COST:
      g_value_set_double (value, self->cost);
      break;

    case PROP_MODEL:
      g_value_set_string (value, self->model);
      break;

    case PROP_CACHE_HIT_RATIO:
      g_value_set_double (value, fj_agent_result_get_cache_hit_ratio (self));
      break;

    case PROP_CACHE_SAVED_USD:
      g_value_set_double (value, fj_agent_result_get_cache_saved_usd (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_agent_result_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  FjAgentResult *self = FJ_AGENT_RESULT (object);

  switch (prop_id)
    {
    case PROP_AGENT_NAME:
      self->agent_name = g_value_dup_string (value);
      break;

    case PROP_INDEX:
      self->index = g_value_get_uint (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_agent_result_class_init (FjAgentResultClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = fj_agent_result_finalize;
  object_class->get_property = fj_agent_result_get_property;
  object_class->set_property = fj_agent_result_set_property;

  /**
   * FjAgentResult:agent-name:
   *
   * The name of the agent this is the result of.
   *
   * Since: 1.0
   */
  properties[PROP_AGENT_NAME] =
    g_param_spec_string ("agent-name", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentResult:index:
   *
   * The agent's position in its run (0 for an agent run on its own).
   *
   * Since: 1.0
   */
  properties[PROP_INDEX] =
    g_param_spec_uint ("index", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                        G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentResult:status:
   *
   * Where the agent is, or how it ended. It becomes terminal only after
   * every other property has its final value.
   *
   * Since: 1.0
   */
  properties[PROP_STATUS] =
    g_param_spec_enum ("status", NULL, NULL,
                       FJ_TYPE_AGENT_STATUS,
                       FJ_AGENT_STATUS_PENDING,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentResult:finished:
   *
   * Whether [property@AgentResult:status] is terminal: `success`,
   * `failed`, `timed-out`, `cancelled` or `skipped`.
   *
   * Since: 1.0
   */
  properties[PROP_FINISHED] =
    g_param_spec_boolean ("finished", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentResult:output:
   *
   * While the agent runs, the text of its current turn so far; on success,
   * its final answer. %NULL when the agent failed (see
   * [property@AgentResult:partial-output]).
   *
   * Since: 1.0
   */
  properties[PROP_OUTPUT] =
    g_param_spec_string ("output", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentResult:partial-output:
   *
   * The text an agent that did not succeed had streamed before it ended,
   * or %NULL.
   *
   * Since: 1.0
   */
  properties[PROP_PARTIAL_OUTPUT] =
    g_param_spec_string ("partial-output", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentResult:error:
   *
   * Why the agent did not succeed, or %NULL.
   *
   * Since: 1.0
   */
  properties[PROP_ERROR] =
    g_param_spec_boxed ("error", NULL, NULL,
                        G_TYPE_ERROR,
                        (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentResult:error-code:
   *
   * The short name of [property@AgentResult:error] as written in JSON
   * (see [func@Error.get_code_nick]), or %NULL.
   *
   * Since: 1.0
   */
  properties[PROP_ERROR_CODE] =
    g_param_spec_string ("error-code", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentResult:error-message:
   *
   * The message of [property@AgentResult:error], or %NULL.
   *
   * Since: 1.0
   */
  properties[PROP_ERROR_MESSAGE] =
    g_param_spec_string ("error-message", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentResult:duration:
   *
   * How long the agent ran, in seconds; set when it ends.
   *
   * Since: 1.0
   */
  properties[PROP_DURATION] =
    g_param_spec_double ("duration", NULL, NULL,
                         0.0, G_MAXDOUBLE, 0.0,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentResult:attempts:
   *
   * The number of HTTP requests the agent made, retries included, over
   * all its turns.
   *
   * Since: 1.0
   */
  properties[PROP_ATTEMPTS] =
    g_param_spec_uint ("attempts", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentResult:turns:
   *
   * The number of model turns (API requests, not counting retries) the
   * agent took.
   *
   * Since: 1.0
   */
  properties[PROP_TURNS] =
    g_param_spec_uint ("turns", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentResult:stop-reason:
   *
   * The API's `stop_reason` of the final turn (`end_turn`, `max_tokens`,
   * `refusal`, ...), or %NULL.
   *
   * Since: 1.0
   */
  properties[PROP_STOP_REASON] =
    g_param_spec_string ("stop-reason", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentResult:usage:
   *
   * The tokens the agent used, summed over its turns.
   *
   * Since: 1.0
   */
  properties[PROP_USAGE] =
    g_param_spec_boxed ("usage", NULL, NULL,
                        FJ_TYPE_USAGE,
                        (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentResult:cost:
   *
   * What the agent's usage cost, in US dollars, or a negative value when
   * no price is known.
   *
   * Since: 1.0
   */
  properties[PROP_COST] =
    g_param_spec_double ("cost", NULL, NULL,
                         -G_MAXDOUBLE, G_MAXDOUBLE, -1.0,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentResult:model:
   *
   * The model the agent asked, set when its run starts (before its first
   * request), or %NULL for a result that never ran.
   *
   * Since: 1.0
   */
  properties[PROP_MODEL] =
    g_param_spec_string ("model", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentResult:cache-hit-ratio:
   *
   * The share of the agent's input read from the prompt cache: cache read
   * tokens over all input tokens (uncached, written and read), or 0 when
   * there was no input.
   *
   * Since: 1.0
   */
  properties[PROP_CACHE_HIT_RATIO] =
    g_param_spec_double ("cache-hit-ratio", NULL, NULL,
                         0.0, 1.0, 0.0,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjAgentResult:cache-saved-usd:
   *
   * What the prompt cache saved, in US dollars: the cost of the same usage
   * with every input token at the base input price, minus
   * [property@AgentResult:cost]. It is negative for an agent that wrote
   * the cache (a write costs more than plain input) and nobody read, and
   * -1 when no price is known.
   *
   * Since: 1.0
   */
  properties[PROP_CACHE_SAVED_USD] =
    g_param_spec_double ("cache-saved-usd", NULL, NULL,
                         -G_MAXDOUBLE, G_MAXDOUBLE, -1.0,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
fj_agent_result_init (FjAgentResult *self)
{
  self->status = FJ_AGENT_STATUS_PENDING;
  self->cost = -1.0;
  self->cache_saved = NAN;
}

/**
 * fj_agent_result_new:
 * @agent_name: (nullable): the agent's name
 * @index: the agent's position in its run
 *
 * Creates a pending result.
 *
 * Returns: (transfer full): a new #FjAgentResult
 *
 * Since: 1.0
 */
FjAgentResult *
fj_agent_result_new (const char *agent_name,
                     guint       index)
{
  return g_object_new (FJ_TYPE_AGENT_RESULT,
                       "agent-name", agent_name,
                       "index", index,
                       NULL);
}

/**
 * fj_agent_result_get_agent_name:
 * @self: a #FjAgentResult
 *
 * Gets the agent's name.
 *
 * Returns: (transfer none) (nullable): the name
 *
 * Since: 1.0
 */
const char *
fj_agent_result_get_agent_name (FjAgentResult *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RESULT (self), NULL);

  return self->agent_name;
}

/**
 * fj_agent_result_get_index:
 * @self: a #FjAgentResult
 *
 * Gets the agent's position in its run.
 *
 * Returns: the index
 *
 * Since: 1.0
 */
guint
fj_agent_result_get_index (FjAgentResult *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RESULT (self), 0);

  return self->index;
}

/**
 * fj_agent_result_get_status:
 * @self: a #FjAgentResult
 *
 * Gets where the agent is, or how it ended.
 *
 * Returns: the status
 *
 * Since: 1.0
 */
FjAgentStatus
fj_agent_result_get_status (FjAgentResult *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RESULT (self), FJ_AGENT_STATUS_PENDING);

  return self->status;
}

/**
 * fj_agent_result_get_finished:
 * @self: a #FjAgentResult
 *
 * Gets whether the agent has ended, one way or another.
 *
 * Returns: %TRUE if the status is terminal
 *
 * Since: 1.0
 */
gboolean
fj_agent_result_get_finished (FjAgentResult *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RESULT (self), FALSE);

  return status_is_terminal (self->status);
}

/**
 * fj_agent_result_get_output:
 * @self: a #FjAgentResult
 *
 * Gets the output: the current turn's text while the agent runs, its
 * answer once it succeeded.
 *
 * Returns: (transfer none) (nullable): the output
 *
 * Since: 1.0
 */
const char *
fj_agent_result_get_output (FjAgentResult *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RESULT (self), NULL);

  return self->output ? self->output->str : NULL;
}

/**
 * fj_agent_result_get_partial_output:
 * @self: a #FjAgentResult
 *
 * Gets the text an agent that did not succeed had streamed.
 *
 * Returns: (transfer none) (nullable): the partial output
 *
 * Since: 1.0
 */
const char *
fj_agent_result_get_partial_output (FjAgentResult *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RESULT (self), NULL);

  return self->partial_output;
}

/**
 * fj_agent_result_get_error:
 * @self: a #FjAgentResult
 *
 * Gets why the agent did not succeed.
 *
 * Returns: (nullable) (transfer none): the error
 *
 * Since: 1.0
 */
const GError *
fj_agent_result_get_error (FjAgentResult *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RESULT (self), NULL);

  return self->error;
}

/**
 * fj_agent_result_get_error_code:
 * @self: a #FjAgentResult
 *
 * Gets the short name of the error as written in JSON (`timed-out`,
 * `rate-limited`, `cancelled`, ...).
 *
 * Returns: (transfer none) (nullable): the code, or %NULL without an error
 *
 * Since: 1.0
 */
const char *
fj_agent_result_get_error_code (FjAgentResult *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RESULT (self), NULL);

  return self->error ? fj_error_get_code_nick (self->error) : NULL;
}

/**
 * fj_agent_result_get_error_message:
 * @self: a #FjAgentResult
 *
 * Gets the error's message.
 *
 * Returns: (transfer none) (nullable): the message, or %NULL without an error
 *
 * Since: 1.0
 */
const char *
fj_agent_result_get_error_message (FjAgentResult *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RESULT (self), NULL);

  return self->error ? self->error->message : NULL;
}

/**
 * fj_agent_result_get_duration:
 * @self: a #FjAgentResult
 *
 * Gets how long the agent ran.
 *
 * Returns: the duration in seconds
 *
 * Since: 1.0
 */
double
fj_agent_result_get_duration (FjAgentResult *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RESULT (self), 0.0);

  return self->duration;
}

/**
 * fj_agent_result_get_attempts:
 * @self: a #FjAgentResult
 *
 * Gets the number of HTTP requests made, retries included.
 *
 * Returns: the number of attempts
 *
 * Since: 1.0
 */
guint
fj_agent_result_get_attempts (FjAgentResult *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RESULT (self), 0);

  return self->attempts;
}

/**
 * fj_agent_result_get_turns:
 * @self: a #FjAgentResult
 *
 * Gets the number of model turns taken.
 *
 * Returns: the number of turns
 *
 * Since: 1.0
 */
guint
fj_agent_result_get_turns (FjAgentResult *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RESULT (self), 0);

  return self->turns;
}

/**
 * fj_agent_result_get_stop_reason:
 * @self: a #FjAgentResult
 *
 * Gets the API's `stop_reason` of the final turn.
 *
 * Returns: (transfer none) (nullable): the stop reason
 *
 * Since: 1.0
 */
const char *
fj_agent_result_get_stop_reason (FjAgentResult *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RESULT (self), NULL);

  return self->stop_reason;
}

/**
 * fj_agent_result_get_usage:
 * @self: a #FjAgentResult
 *
 * Gets the tokens used, summed over the turns.
 *
 * Returns: (transfer none): the usage
 *
 * Since: 1.0
 */
FjUsage *
fj_agent_result_get_usage (FjAgentResult *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RESULT (self), NULL);

  return &self->usage;
}

/**
 * fj_agent_result_get_cost:
 * @self: a #FjAgentResult
 *
 * Gets what the usage cost.
 *
 * Returns: the cost in US dollars, or a negative value when unknown
 *
 * Since: 1.0
 */
double
fj_agent_result_get_cost (FjAgentResult *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RESULT (self), -1.0);

  return self->cost;
}

/**
 * fj_agent_result_get_model:
 * @self: a #FjAgentResult
 *
 * Gets the model the agent asked.
 *
 * Returns: (transfer none) (nullable): the model, or %NULL when the agent
 *   never ran
 *
 * Since: 1.0
 */
const char *
fj_agent_result_get_model (FjAgentResult *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RESULT (self), NULL);

  return self->model;
}

/**
 * fj_agent_result_get_cache_hit_ratio:
 * @self: a #FjAgentResult
 *
 * Gets the share of the agent's input read from the prompt cache (see
 * [property@AgentResult:cache-hit-ratio]).
 *
 * Returns: a ratio from 0 to 1
 *
 * Since: 1.0
 */
double
fj_agent_result_get_cache_hit_ratio (FjAgentResult *self)
{
  gint64 total;

  g_return_val_if_fail (FJ_IS_AGENT_RESULT (self), 0.0);

  total = fj_usage_get_total_input (&self->usage);
  if (total <= 0)
    return 0.0;

  return (double) self->usage.cache_read_input_tokens / (double) total;
}

/**
 * fj_agent_result_get_cache_saved_usd:
 * @self: a #FjAgentResult
 *
 * Gets what the prompt cache saved (see
 * [property@AgentResult:cache-saved-usd]).
 *
 * Returns: the saving in US dollars (negative for a cache write nobody
 *   read), or -1 when unknown
 *
 * Since: 1.0
 */
double
fj_agent_result_get_cache_saved_usd (FjAgentResult *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RESULT (self), -1.0);

  return isnan (self->cache_saved) ? -1.0 : self->cache_saved;
}

gboolean
_fj_agent_result_get_cache_saved_known (FjAgentResult *self)
{
  g_return_val_if_fail (FJ_IS_AGENT_RESULT (self), FALSE);

  return !isnan (self->cache_saved);
}

static void
set_nullable_string_member (JsonObject *object,
                            const char *name,
                            const char *value)
{
  if (value != NULL)
    json_object_set_string_member (object, name, value);
  else
    json_object_set_null_member (object, name);
}

/**
 * fj_agent_result_to_json:
 * @self: a #FjAgentResult
 *
 * Serialises the result as `forkjoin-tool run --json` writes an agent:
 * `name`, `status` (the nick with `_` for `-`, as `timed_out`), `output`,
 * `partial_output`, `error` (`{"code": ..., "message": ...}`), `duration_ms`,
 * `attempts`, `turns`, `stop_reason`, `usage`, `cost_usd`, `model`,
 * `cache_hit_ratio` and `cache_saved_usd`, with null for what is absent or
 * unknown.
 *
 * Returns: (transfer full): a JSON object node
 *
 * Since: 1.0
 */
JsonNode *
fj_agent_result_to_json (FjAgentResult *self)
{
  g_autoptr(GEnumClass) status_class = NULL;
  g_autofree char *status = NULL;
  GEnumValue *value;
  JsonObject *object;
  JsonNode *node;

  g_return_val_if_fail (FJ_IS_AGENT_RESULT (self), NULL);

  status_class = g_type_class_ref (FJ_TYPE_AGENT_STATUS);
  value = g_enum_get_value (status_class, self->status);
  g_assert (value != NULL);
  status = g_strdelimit (g_strdup (value->value_nick), "-", '_');

  object = json_object_new ();
  set_nullable_string_member (object, "name", self->agent_name);
  json_object_set_string_member (object, "status", status);
  set_nullable_string_member (object, "output", fj_agent_result_get_output (self));
  set_nullable_string_member (object, "partial_output", self->partial_output);

  json_object_set_member (object, "error", fj_error_to_json (self->error));

  json_object_set_int_member (object, "duration_ms", (gint64) llround (self->duration * 1000.0));
  json_object_set_int_member (object, "attempts", self->attempts);
  json_object_set_int_member (object, "turns", self->turns);
  set_nullable_string_member (object, "stop_reason", self->stop_reason);
  json_object_set_member (object, "usage", fj_usage_to_json (&self->usage));

  if (self->cost >= 0.0)
    json_object_set_double_member (object, "cost_usd", self->cost);
  else
    json_object_set_null_member (object, "cost_usd");

  set_nullable_string_member (object, "model", self->model);

  json_object_set_double_member (object, "cache_hit_ratio",
                                 fj_agent_result_get_cache_hit_ratio (self));
  if (!isnan (self->cache_saved))
    json_object_set_double_member (object, "cache_saved_usd", self->cache_saved);
  else
    json_object_set_null_member (object, "cache_saved_usd");

  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, object);
  return node;
}

/**
 * fj_agent_result_to_json_string:
 * @self: a #FjAgentResult
 * @pretty: whether to indent the JSON
 *
 * Serialises the result as [method@AgentResult.to_json] does, to a string.
 *
 * Returns: (transfer full): the JSON text
 *
 * Since: 1.0
 */
char *
fj_agent_result_to_json_string (FjAgentResult *self,
                                gboolean       pretty)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(JsonGenerator) generator = NULL;

  g_return_val_if_fail (FJ_IS_AGENT_RESULT (self), NULL);

  node = fj_agent_result_to_json (self);
  generator = json_generator_new ();
  json_generator_set_pretty (generator, pretty);
  json_generator_set_root (generator, node);

  return json_generator_to_data (generator, NULL);
}

/* Reading back */

static gboolean
spec_error (GError     **error,
            const char  *field,
            const char  *expected,
            JsonNode    *node)
{
  g_set_error (error, FJ_ERROR, FJ_ERROR_SPEC, "%s: expected %s, got %s",
               field, expected, _fj_json_describe_type (node));
  return FALSE;
}

static gboolean
is_null (JsonNode *node)
{
  return node == NULL || JSON_NODE_HOLDS_NULL (node);
}

static gboolean
is_number (JsonNode *node)
{
  GType type;

  if (!JSON_NODE_HOLDS_VALUE (node))
    return FALSE;

  type = json_node_get_value_type (node);
  return type == G_TYPE_INT64 || type == G_TYPE_DOUBLE;
}

/* A string member; absent or null gives NULL. */
static gboolean
read_string (JsonObject  *object,
             const char  *member,
             const char  *field,
             const char **value,
             GError     **error)
{
  JsonNode *node = json_object_get_member (object, member);

  *value = NULL;
  if (is_null (node))
    return TRUE;

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return spec_error (error, field, "a string or null", node);

  *value = json_node_get_string (node);
  return TRUE;
}

/* A non-negative number member; absent or null gives @absent. Integral
 * when @integer. */
static gboolean
read_number (JsonObject  *object,
             const char  *member,
             const char  *field,
             gboolean     integer,
             double       absent,
             double      *value,
             GError     **error)
{
  JsonNode *node = json_object_get_member (object, member);
  const char *expected = integer ? "a non-negative integer" : "a non-negative number";

  *value = absent;
  if (is_null (node))
    return TRUE;

  if (!is_number (node))
    return spec_error (error, field, expected, node);

  if (json_node_get_value_type (node) == G_TYPE_INT64)
    {
      gint64 n = json_node_get_int (node);

      if (n < 0)
        {
          g_set_error (error, FJ_ERROR, FJ_ERROR_SPEC, "%s: expected %s, got %" G_GINT64_FORMAT,
                       field, expected, n);
          return FALSE;
        }
      *value = (double) n;
      return TRUE;
    }

  *value = json_node_get_double (node);
  if (!isfinite (*value) || *value < 0 || (integer && floor (*value) != *value))
    {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];

      g_set_error (error, FJ_ERROR, FJ_ERROR_SPEC, "%s: expected %s, got %s",
                   field, expected, g_ascii_dtostr (buf, sizeof buf, *value));
      return FALSE;
    }

  return TRUE;
}

/* A finite number member, of either sign; absent or null gives @absent. */
static gboolean
read_signed (JsonObject  *object,
             const char  *member,
             const char  *field,
             double       absent,
             double      *value,
             GError     **error)
{
  JsonNode *node = json_object_get_member (object, member);

  *value = absent;
  if (is_null (node))
    return TRUE;

  if (!is_number (node))
    return spec_error (error, field, "a number", node);

  *value = json_node_get_double (node);
  if (!isfinite (*value))
    return spec_error (error, field, "a number", node);

  return TRUE;
}

static gboolean
read_count (JsonObject  *object,
            const char  *member,
            const char  *field,
            guint64      max,
            guint64     *value,
            GError     **error)
{
  double number;

  if (!read_number (object, member, field, TRUE, 0, &number, error))
    return FALSE;

  if (number > (double) max)
    {
      g_set_error (error, FJ_ERROR, FJ_ERROR_SPEC, "%s: %.0f is too large", field, number);
      return FALSE;
    }

  *value = (guint64) number;
  return TRUE;
}

static gboolean
read_status (JsonObject     *object,
             FjAgentStatus  *status,
             GError        **error)
{
  g_autoptr(GEnumClass) status_class = g_type_class_ref (FJ_TYPE_AGENT_STATUS);
  g_autofree char *nick = NULL;
  JsonNode *node = json_object_get_member (object, "status");
  GEnumValue *value;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return spec_error (error, "status", "a status (success, failed, timed_out, cancelled, skipped)",
                       node);

  nick = g_strdelimit (g_strdup (json_node_get_string (node)), "_", '-');
  value = g_enum_get_value_by_nick (status_class, nick);
  if (value == NULL)
    {
      g_set_error (error, FJ_ERROR, FJ_ERROR_SPEC,
                   "status: unknown status \"%s\" (valid: success, failed, timed_out, "
                   "cancelled, skipped, pending, running)",
                   json_node_get_string (node));
      return FALSE;
    }

  *status = value->value;
  return TRUE;
}

/* {"code": NICK, "message": TEXT} as fj_error_get_code_nick() names it. */
static gboolean
read_error (JsonObject  *object,
            GError     **result,
            GError     **error)
{
  g_autoptr(GEnumClass) error_class = NULL;
  g_autofree char *nick = NULL;
  JsonNode *node = json_object_get_member (object, "error");
  JsonObject *error_object;
  const char *code;
  const char *message;
  GEnumValue *value;

  *result = NULL;
  if (is_null (node))
    return TRUE;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return spec_error (error, "error", "an object with code and message, or null", node);

  error_object = json_node_get_object (node);
  if (!read_string (error_object, "code", "error.code", &code, error) ||
      !read_string (error_object, "message", "error.message", &message, error))
    return FALSE;

  if (code == NULL)
    return spec_error (error, "error.code", "a string", json_object_get_member (error_object, "code"));
  if (message == NULL)
    message = "";

  nick = g_strdelimit (g_strdup (code), "_", '-');

  if (g_str_equal (nick, "cancelled"))
    {
      *result = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, message);
      return TRUE;
    }

  /* What fj_error_get_code_nick() calls any error of another domain. */
  if (g_str_equal (nick, "error"))
    {
      *result = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, message);
      return TRUE;
    }

  error_class = g_type_class_ref (FJ_TYPE_ERROR);
  value = g_enum_get_value_by_nick (error_class, nick);
  if (value == NULL)
    {
      g_set_error (error, FJ_ERROR, FJ_ERROR_SPEC, "error.code: unknown error code \"%s\"", code);
      return FALSE;
    }

  *result = g_error_new_literal (FJ_ERROR, value->value, message);
  return TRUE;
}

static gboolean
read_usage (JsonObject  *object,
            FjUsage     *usage,
            GError     **error)
{
  static const char *const names[] = {
    "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
  };
  gint64 *counts[] = {
    &usage->input_tokens, &usage->output_tokens,
    &usage->cache_creation_input_tokens, &usage->cache_read_input_tokens,
  };
  JsonNode *node = json_object_get_member (object, "usage");
  JsonObject *usage_object;

  memset (usage, 0, sizeof *usage);
  if (is_null (node))
    return TRUE;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return spec_error (error, "usage", "an object of token counts, or null", node);

  usage_object = json_node_get_object (node);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *field = g_strdup_printf ("usage.%s", names[i]);
      guint64 count;

      if (!read_count (usage_object, names[i], field, G_MAXINT64, &count, error))
        return FALSE;
      *counts[i] = (gint64) count;
    }

  return TRUE;
}

/**
 * fj_agent_result_new_from_json:
 * @node: a JSON object as [method@AgentResult.to_json] writes it
 * @index: the agent's position in its run
 * @error: return location for a #GError
 *
 * Reads back a result that [method@AgentResult.to_json] wrote, as
 * `forkjoin-tool resume` does with an earlier run's output.
 *
 * `status` is required, its nick written with `_` or `-` (`timed_out`);
 * `name`, `output`, `partial_output`, `error`, `duration_ms`, `attempts`,
 * `turns`, `stop_reason`, `usage`, `cost_usd` and `model` may be absent
 * or null. `error` becomes a #GError in %FJ_ERROR with the code of its
 * nick, %G_IO_ERROR_CANCELLED for `cancelled`, or %G_IO_ERROR_FAILED for
 * `error`. Other members (a synthesis' `plugin`) are ignored.
 *
 * Returns: (transfer full): a new, settled #FjAgentResult, or %NULL with
 *   @error set to %FJ_ERROR_SPEC naming the field (`usage.input_tokens:
 *   expected a non-negative integer, got a string`); callers add where
 *   the object was
 *
 * Since: 1.0
 */
FjAgentResult *
fj_agent_result_new_from_json (JsonNode  *node,
                               guint      index,
                               GError   **error)
{
  g_autoptr(FjAgentResult) self = NULL;
  g_autoptr(GError) result_error = NULL;
  JsonObject *object;
  const char *name;
  const char *output;
  const char *partial_output;
  const char *stop_reason;
  const char *model;
  FjAgentStatus status;
  FjUsage usage;
  guint64 attempts;
  guint64 turns;
  double duration_ms;
  double cost;
  double cache_hit_ratio;
  double cache_saved;

  g_return_val_if_fail (node != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, FJ_ERROR, FJ_ERROR_SPEC, "expected an agent result object, got %s",
                   _fj_json_describe_type (node));
      return NULL;
    }

  object = json_node_get_object (node);

  if (!read_string (object, "name", "name", &name, error) ||
      !read_status (object, &status, error) ||
      !read_string (object, "output", "output", &output, error) ||
      !read_string (object, "partial_output", "partial_output", &partial_output, error) ||
      !read_error (object, &result_error, error) ||
      !read_number (object, "duration_ms", "duration_ms", FALSE, 0, &duration_ms, error) ||
      !read_count (object, "attempts", "attempts", G_MAXUINT, &attempts, error) ||
      !read_count (object, "turns", "turns", G_MAXUINT, &turns, error) ||
      !read_string (object, "stop_reason", "stop_reason", &stop_reason, error) ||
      !read_usage (object, &usage, error) ||
      !read_number (object, "cost_usd", "cost_usd", FALSE, -1.0, &cost, error) ||
      !read_string (object, "model", "model", &model, error) ||
      /* Optional: written by newer versions; the ratio follows the usage. */
      !read_number (object, "cache_hit_ratio", "cache_hit_ratio", FALSE, 0.0,
                    &cache_hit_ratio, error) ||
      !read_signed (object, "cache_saved_usd", "cache_saved_usd", NAN, &cache_saved, error))
    return NULL;

  self = fj_agent_result_new (name, index);
  _fj_agent_result_set_model (self, model);
  _fj_agent_result_set_output (self, output);
  _fj_agent_result_set_partial_output (self, partial_output);
  _fj_agent_result_take_error (self, g_steal_pointer (&result_error));
  _fj_agent_result_set_duration (self, duration_ms / 1000.0);
  _fj_agent_result_set_attempts (self, (guint) attempts);
  _fj_agent_result_set_turns (self, (guint) turns);
  _fj_agent_result_set_stop_reason (self, stop_reason);
  _fj_agent_result_set_usage (self, &usage);
  _fj_agent_result_set_cost (self, cost);
  _fj_agent_result_set_cache_saved (self, cache_saved);
  _fj_agent_result_set_status (self, status);

  return g_steal_pointer (&self);
}

void
_fj_agent_result_set_status (FjAgentResult *self,
                             FjAgentStatus  status)
{
  gboolean was_finished;

  g_return_if_fail (FJ_IS_AGENT_RESULT (self));

  if (self->status == status)
    return;

  was_finished = status_is_terminal (self->status);
  self->status = status;

  if (self->status_func != NULL)
    self->status_func (self, self->status_data);

  if (was_finished != status_is_terminal (status))
    notify (self, PROP_FINISHED);
  notify (self, PROP_STATUS);
}

void
_fj_agent_result_set_status_func (FjAgentResult           *self,
                                  FjAgentResultStatusFunc  func,
                                  gpointer                 user_data)
{
  g_return_if_fail (FJ_IS_AGENT_RESULT (self));
  g_return_if_fail (func == NULL || self->status_func == NULL);

  self->status_func = func;
  self->status_data = func != NULL ? user_data : NULL;
}

void
_fj_agent_result_append_output (FjAgentResult *self,
                                const char    *text)
{
  g_return_if_fail (FJ_IS_AGENT_RESULT (self));

  if (text == NULL || *text == '\0')
    return;

  if (self->output == NULL)
    self->output = g_string_new (text);
  else
    g_string_append (self->output, text);

  notify (self, PROP_OUTPUT);
}

void
_fj_agent_result_set_output (FjAgentResult *self,
                             const char    *output)
{
  g_return_if_fail (FJ_IS_AGENT_RESULT (self));

  if (g_strcmp0 (fj_agent_result_get_output (self), output) == 0)
    return;

  if (output == NULL)
    {
      g_string_free (self->output, TRUE);
      self->output = NULL;
    }
  else if (self->output == NULL)
    {
      self->output = g_string_new (output);
    }
  else
    {
      g_string_assign (self->output, output);
    }

  notify (self, PROP_OUTPUT);
}

void
_fj_agent_result_set_partial_output (FjAgentResult *self,
                                     const char    *partial_output)
{
  g_return_if_fail (FJ_IS_AGENT_RESULT (self));

  if (set_str (&self->partial_output, partial_output))
    notify (self, PROP_PARTIAL_OUTPUT);
}

void
_fj_agent_result_take_error (FjAgentResult *self,
                             GError        *error)
{
  g_autoptr(GError) old = NULL;
  gboolean code_changed;
  gboolean message_changed;

  g_return_if_fail (FJ_IS_AGENT_RESULT (self));

  if (self->error == NULL && error == NULL)
    return;

  if (self->error != NULL && error != NULL &&
      self->error->domain == error->domain &&
      self->error->code == error->code &&
      g_strcmp0 (self->error->message, error->message) == 0)
    {
      g_error_free (error);
      return;
    }

  old = g_steal_pointer (&self->error);
  self->error = error;

  code_changed = g_strcmp0 (old ? fj_error_get_code_nick (old) : NULL,
                            fj_agent_result_get_error_code (self)) != 0;
  message_changed = g_strcmp0 (old ? old->message : NULL,
                               fj_agent_result_get_error_message (self)) != 0;

  notify (self, PROP_ERROR);
  if (code_changed)
    notify (self, PROP_ERROR_CODE);
  if (message_changed)
    notify (self, PROP_ERROR_MESSAGE);
}

void
_fj_agent_result_set_duration (FjAgentResult *self,
                               double         seconds)
{
  g_return_if_fail (FJ_IS_AGENT_RESULT (self));

  seconds = MAX (seconds, 0.0);
  if (self->duration == seconds)
    return;

  self->duration = seconds;
  notify (self, PROP_DURATION);
}

void
_fj_agent_result_set_attempts (FjAgentResult *self,
                               guint          attempts)
{
  g_return_if_fail (FJ_IS_AGENT_RESULT (self));

  if (self->attempts == attempts)
    return;

  self->attempts = attempts;
  notify (self, PROP_ATTEMPTS);
}

void
_fj_agent_result_set_turns (FjAgentResult *self,
                            guint          turns)
{
  g_return_if_fail (FJ_IS_AGENT_RESULT (self));

  if (self->turns == turns)
    return;

  self->turns = turns;
  notify (self, PROP_TURNS);
}

void
_fj_agent_result_set_stop_reason (FjAgentResult *self,
                                  const char    *stop_reason)
{
  g_return_if_fail (FJ_IS_AGENT_RESULT (self));

  if (set_str (&self->stop_reason, stop_reason))
    notify (self, PROP_STOP_REASON);
}

void
_fj_agent_result_set_usage (FjAgentResult *self,
                            const FjUsage *usage)
{
  FjUsage zero = { 0, };
  double old_ratio;

  g_return_if_fail (FJ_IS_AGENT_RESULT (self));

  if (usage == NULL)
    usage = &zero;

  if (fj_usage_equal (&self->usage, usage))
    return;

  old_ratio = fj_agent_result_get_cache_hit_ratio (self);
  self->usage = *usage;
  notify (self, PROP_USAGE);
  if (fj_agent_result_get_cache_hit_ratio (self) != old_ratio)
    notify (self, PROP_CACHE_HIT_RATIO);
}

void
_fj_agent_result_set_cache_saved (FjAgentResult *self,
                                  double         saved_usd)
{
  g_return_if_fail (FJ_IS_AGENT_RESULT (self));

  if (isnan (saved_usd) && isnan (self->cache_saved))
    return;
  if (self->cache_saved == saved_usd)
    return;

  self->cache_saved = saved_usd;
  notify (self, PROP_CACHE_SAVED_USD);
}

void
_fj_agent_result_set_cost (FjAgentResult *self,
                           double         cost_usd)
{
  g_return_if_fail (FJ_IS_AGENT_RESULT (self));

  if (cost_usd < 0.0)
    cost_usd = -1.0;
  if (self->cost == cost_usd)
    return;

  self->cost = cost_usd;
  notify (self, PROP_COST);
}

void
_fj_agent_result_reset (FjAgentResult *self)
{
  g_return_if_fail (FJ_IS_AGENT_RESULT (self));

  /* As the agent does when it ends: every field first, the status last. */
  _fj_agent_result_set_output (self, NULL);
  _fj_agent_result_set_partial_output (self, NULL);
  _fj_agent_result_take_error (self, NULL);
  _fj_agent_result_set_duration (self, 0.0);
  _fj_agent_result_set_attempts (self, 0);
  _fj_agent_result_set_turns (self, 0);
  _fj_agent_result_set_stop_reason (self, NULL);
  _fj_agent_result_set_usage (self, NULL);
  _fj_agent_result_set_cost (self, -1.0);
  _fj_agent_result_set_cache_saved (self, NAN);
  self->batch = FALSE;
  _fj_agent_result_set_model (self, NULL);
  _fj_agent_result_set_status (self, FJ_AGENT_STATUS_PENDING);
}

void
_fj_agent_result_set_model (FjAgentResult *self,
                            const char    *model)
{
  g_return_if_fail (FJ_IS_AGENT_RESULT (self));

  if (set_str (&self->model, model))
    notify (self, PROP_MODEL);
}

void
_fj_agent_result_set_prices (FjAgentResult *self,
                             FjPrices      *prices)
{
  g_return_if_fail (FJ_IS_AGENT_RESULT (self));
  g_return_if_fail (!prices || FJ_IS_PRICES (prices));

  g_set_object (&self->prices, prices);
}

void
_fj_agent_result_set_batch (FjAgentResult *self,
                            gboolean       batch)
{
  g_return_if_fail (FJ_IS_AGENT_RESULT (self));

  self->batch = !!batch;
}

void
_fj_agent_result_apply_prices (FjAgentResult *self,
                               FjPrices      *prices)
{
  double cost;
  double without;

  g_return_if_fail (FJ_IS_AGENT_RESULT (self));
  g_return_if_fail (!prices || FJ_IS_PRICES (prices));

  if (prices == NULL)
    prices = self->prices;
  if (prices == NULL)
    return;

  cost = fj_prices_compute (prices, self->model, &self->usage);
  without = fj_prices_compute_without_cache (prices, self->model, &self->usage);
  if (self->batch)
    {
      double discount = fj_prices_get_batch_discount (prices);

      if (cost >= 0.0)
        cost *= discount;
      if (without >= 0.0)
        without *= discount;
    }
  _fj_agent_result_set_cost (self, cost);
  _fj_agent_result_set_cache_saved (self, cost >= 0.0 && without >= 0.0 ? without - cost : NAN);
}

FjAgentResult *
_fj_agent_result_copy (FjAgentResult *self,
                       guint          index)
{
  FjAgentResult *copy;

  g_return_val_if_fail (FJ_IS_AGENT_RESULT (self), NULL);

  copy = fj_agent_result_new (self->agent_name, index);
  copy->status = self->status;
  copy->output = self->output ? g_string_new_len (self->output->str, self->output->len) : NULL;
  copy->partial_output = g_strdup (self->partial_output);
  copy->error = self->error ? g_error_copy (self->error) : NULL;
  copy->duration = self->duration;
  copy->attempts = self->attempts;
  copy->turns = self->turns;
  copy->stop_reason = g_strdup (self->stop_reason);
  copy->usage = self->usage;
  copy->cost = self->cost;
  copy->cache_saved = self->cache_saved;
  copy->model = g_strdup (self->model);

  return copy;
}
