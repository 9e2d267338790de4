/* fj-fork-join-result.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-fork-join-result.h"

#include <math.h>

#include "fj-agent-result-private.h"
#include "fj-enums.h"
#include "fj-error.h"
#include "fj-fork-join-result-private.h"

/**
 * FjForkJoinResult:
 *
 * What a [class@ForkJoinTask] run gives: its [enum@ForkJoinStatus], every
 * agent's [class@AgentResult] (failed ones included), the synthesis output
 * and the synthesis step's own result, the total usage (fork plus join),
 * the cost and the wall time.
 *
 * A result is immutable. [method@ForkJoinResult.to_json] serialises it as
 * `forkjoin-tool run --json` prints it.
 *
 * Since: 1.0
 */

struct _FjForkJoinResult
{
  GObject parent_instance;

  FjForkJoinStatus status;
  GError *error;
  char *input;
  GPtrArray *results;
  GListStore *results_model;
  char *synthesizer_name;
  char *output;
  FjAgentResult *synthesis_result;
  FjUsage usage;
  double wall_time;
  double cost;
  FjCacheMode cache_mode;
  char *cache_note;
  GStrv batch_ids;              /* NULL unless the agents ran as a batch */
};

enum {
  PROP_0,
  PROP_STATUS,
  PROP_ERROR,
  PROP_INPUT,
  PROP_RESULTS,
  PROP_OUTPUT,
  PROP_SYNTHESIS_RESULT,
  PROP_USAGE,
  PROP_WALL_TIME,
  PROP_COST,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (FjForkJoinResult, fj_fork_join_result, G_TYPE_OBJECT)

static void
fj_fork_join_result_finalize (GObject *object)
{
  FjForkJoinResult *self = (FjForkJoinResult *)object;

  g_clear_error (&self->error);
  g_clear_pointer (&self->input, g_free);
  g_clear_pointer (&self->results, g_ptr_array_unref);
  g_clear_object (&self->results_model);
  g_clear_pointer (&self->synthesizer_name, g_free);
  g_clear_pointer (&self->output, g_free);
  g_clear_object (&self->synthesis_result);
  g_clear_pointer (&self->cache_note, g_free);
  g_clear_pointer (&self->batch_ids, g_strfreev);

  G_OBJECT_CLASS (fj_fork_join_result_parent_class)->finalize (object);
}

static void
fj_fork_join_result_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  FjForkJoinResult *self = FJ_FORK_JOIN_RESULT (object);

  switch (prop_id)
    {
    case PROP_STATUS:
      g_value_set_enum (value, self->status);
      break;

    case PROP_ERROR:
      g_value_set_boxed (value, self->error);
      break;

    case PROP_INPUT:
      g_value_set_string (value, self->input);
      break;

    case PROP_RESULTS:
      g_value_set_object (value, self->results_model);
      break;

    case PROP_OUTPUT:
      g_value_set_string (value, self->output);
      break;

    case PROP_SYNTHESIS_RESULT:
      g_value_set_object (value, self->synthesis_result);
      break;

    case PROP_USAGE:
      g_value_set_boxed (value, &self->usage);
      break;

    case PROP_WALL_TIME:
      g_value_set_double (value, self->wall_time);
      break;

    case PROP_COST:
      g_value_set_double (value, self->cost);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_fork_join_result_class_init (FjForkJoinResultClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = fj_fork_join_result_finalize;
  object_class->get_property = fj_fork_join_result_get_property;

  /**
   * FjForkJoinResult:status:
   *
   * How the fork-join ended.
   *
   * Since: 1.0
   */
  properties[PROP_STATUS] =
    g_param_spec_enum ("status", NULL, NULL,
                       FJ_TYPE_FORK_JOIN_STATUS,
                       FJ_FORK_JOIN_STATUS_FAILED,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjForkJoinResult:error:
   *
   * Why the fork-join failed (the quorum was not met, the synthesis failed,
   * the run was cancelled), or %NULL.
   *
   * Since: 1.0
   */
  properties[PROP_ERROR] =
    g_param_spec_boxed ("error", NULL, NULL,
                        G_TYPE_ERROR,
                        (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjForkJoinResult:input:
   *
   * The input the agents were given.
   *
   * Since: 1.0
   */
  properties[PROP_INPUT] =
    g_param_spec_string ("input", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjForkJoinResult:results:
   *
   * Every agent's [class@AgentResult], in agent order, as a list model.
   *
   * Since: 1.0
   */
  properties[PROP_RESULTS] =
    g_param_spec_object ("results", NULL, NULL,
                         G_TYPE_LIST_MODEL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjForkJoinResult:output:
   *
   * The synthesis, or %NULL when none ran or it failed.
   *
   * Since: 1.0
   */
  properties[PROP_OUTPUT] =
    g_param_spec_string ("output", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjForkJoinResult:synthesis-result:
   *
   * The synthesis step's own result when the synthesizer ran a model, or
   * %NULL.
   *
   * Since: 1.0
   */
  properties[PROP_SYNTHESIS_RESULT] =
    g_param_spec_object ("synthesis-result", NULL, NULL,
                         FJ_TYPE_AGENT_RESULT,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjForkJoinResult:usage:
   *
   * The tokens used by every agent and by the synthesis.
   *
   * Since: 1.0
   */
  properties[PROP_USAGE] =
    g_param_spec_boxed ("usage", NULL, NULL,
                        FJ_TYPE_USAGE,
                        (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjForkJoinResult:wall-time:
   *
   * How long the fork-join took, fork and join, in seconds.
   *
   * Since: 1.0
   */
  properties[PROP_WALL_TIME] =
    g_param_spec_double ("wall-time", NULL, NULL,
                         0.0, G_MAXDOUBLE, 0.0,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjForkJoinResult:cost:
   *
   * The cost in US dollars of every agent and the synthesis, or a negative
   * value when it is unknown: some agent (or the synthesis) that used
   * tokens has no known cost, or none has one.
   *
   * Since: 1.0
   */
  properties[PROP_COST] =
    g_param_spec_double ("cost", NULL, NULL,
                         -1.0, G_MAXDOUBLE, -1.0,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
fj_fork_join_result_init (FjForkJoinResult *self)
{
  self->status = FJ_FORK_JOIN_STATUS_FAILED;
  self->cost = -1.0;
}

typedef struct
{
  double sum;
  gboolean priced;              /* some result has a known cost */
  gboolean unknown;             /* a result that used tokens has none */
} CostTotal;

static void
add_cost (CostTotal     *total,
          FjAgentResult *result)
{
  static const FjUsage zero;
  double cost = fj_agent_result_get_cost (result);

  if (cost >= 0.0)
    {
      total->sum += cost;
      total->priced = TRUE;
    }
  else if (!fj_usage_equal (fj_agent_result_get_usage (result), &zero))
    {
      total->unknown = TRUE;
    }
}

FjForkJoinResult *
_fj_fork_join_result_new (FjForkJoinStatus  status,
                          GError           *error,
                          const char       *input,
                          GPtrArray        *results,
                          const char       *synthesizer_name,
                          const char       *output,
                          FjAgentResult    *synthesis_result,
                          double            wall_time)
{
  FjForkJoinResult *self;
  CostTotal cost = { 0, };

  g_assert (input != NULL);
  g_assert (results != NULL);
  g_assert (synthesis_result == NULL || FJ_IS_AGENT_RESULT (synthesis_result));

  self = g_object_new (FJ_TYPE_FORK_JOIN_RESULT, NULL);
  self->status = status;
  self->error = error;
  self->input = g_strdup (input);
  self->results = g_ptr_array_new_with_free_func (g_object_unref);
  self->results_model = g_list_store_new (FJ_TYPE_AGENT_RESULT);
  self->synthesizer_name = g_strdup (synthesizer_name);
  self->output = g_strdup (output);
  g_set_object (&self->synthesis_result, synthesis_result);
  self->wall_time = MAX (wall_time, 0.0);

  for (guint i = 0; i < results->len; i++)
    {
      FjAgentResult *result = g_ptr_array_index (results, i);

      g_ptr_array_add (self->results, g_object_ref (result));
      g_list_store_append (self->results_model, result);
      fj_usage_add (&self->usage, fj_agent_result_get_usage (result));
      add_cost (&cost, result);
    }

  if (synthesis_result != NULL)
    {
      fj_usage_add (&self->usage, fj_agent_result_get_usage (synthesis_result));
      add_cost (&cost, synthesis_result);
    }

  /* An agent that used no tokens cost nothing, priced or not; a total
   * with nothing priced at all is unknown. */
  self->cost = cost.priced && !cost.unknown ? cost.sum : -1.0;

  return self;
}

/**
 * fj_fork_join_result_get_status:
 * @self: a #FjForkJoinResult
 *
 * Gets how the fork-join ended.
 *
 * Returns: the status
 *
 * Since: 1.0
 */
FjForkJoinStatus
fj_fork_join_result_get_status (FjForkJoinResult *self)
{
  g_return_val_if_fail (FJ_IS_FORK_JOIN_RESULT (self), FJ_FORK_JOIN_STATUS_FAILED);

  return self->status;
}

/**
 * fj_fork_join_result_get_error:
 * @self: a #FjForkJoinResult
 *
 * Gets why the fork-join failed: %FJ_ERROR_QUORUM_NOT_MET, the
 * synthesizer's error, or %G_IO_ERROR_CANCELLED.
 *
 * Returns: (transfer none) (nullable): the error, or %NULL
 *
 * Since: 1.0
 */
const GError *
fj_fork_join_result_get_error (FjForkJoinResult *self)
{
  g_return_val_if_fail (FJ_IS_FORK_JOIN_RESULT (self), NULL);

  return self->error;
}

/**
 * fj_fork_join_result_get_input:
 * @self: a #FjForkJoinResult
 *
 * Gets the input the agents were given.
 *
 * Returns: (transfer none): the input
 *
 * Since: 1.0
 */
const char *
fj_fork_join_result_get_input (FjForkJoinResult *self)
{
  g_return_val_if_fail (FJ_IS_FORK_JOIN_RESULT (self), NULL);

  return self->input;
}

/**
 * fj_fork_join_result_get_results:
 * @self: a #FjForkJoinResult
 *
 * Gets every agent's result in agent order, failed ones included. The
 * same results are available as a list model in
 * [property@ForkJoinResult:results].
 *
 * Returns: (transfer none) (element-type FjAgentResult): the results
 *
 * Since: 1.0
 */
GPtrArray *
fj_fork_join_result_get_results (FjForkJoinResult *self)
{
  g_return_val_if_fail (FJ_IS_FORK_JOIN_RESULT (self), NULL);

  return self->results;
}

/**
 * fj_fork_join_result_get_output:
 * @self: a #FjForkJoinResult
 *
 * Gets the synthesis.
 *
 * Returns: (transfer none) (nullable): the synthesis, or %NULL when none ran
 *   or it failed
 *
 * Since: 1.0
 */
const char *
fj_fork_join_result_get_output (FjForkJoinResult *self)
{
  g_return_val_if_fail (FJ_IS_FORK_JOIN_RESULT (self), NULL);

  return self->output;
}

/**
 * fj_fork_join_result_get_synthesis_result:
 * @self: a #FjForkJoinResult
 *
 * Gets the synthesis step's own result, for a synthesizer that ran a
 * model.
 *
 * Returns: (transfer none) (nullable): the synthesis step's result, or
 *   %NULL
 *
 * Since: 1.0
 */
FjAgentResult *
fj_fork_join_result_get_synthesis_result (FjForkJoinResult *self)
{
  g_return_val_if_fail (FJ_IS_FORK_JOIN_RESULT (self), NULL);

  return self->synthesis_result;
}

/**
 * fj_fork_join_result_get_usage:
 * @self: a #FjForkJoinResult
 *
 * Gets the tokens used by every agent and by the synthesis.
 *
 * Returns: (transfer none): the total usage
 *
 * Since: 1.0
 */
FjUsage *
fj_fork_join_result_get_usage (FjForkJoinResult *self)
{
  g_return_val_if_fail (FJ_IS_FORK_JOIN_RESULT (self), NULL);

  return &self->usage;
}

/**
 * fj_fork_join_result_get_wall_time:
 * @self: a #FjForkJoinResult
 *
 * Gets how long the fork-join took, fork and join.
 *
 * Returns: the wall time in seconds
 *
 * Since: 1.0
 */
double
fj_fork_join_result_get_wall_time (FjForkJoinResult *self)
{
  g_return_val_if_fail (FJ_IS_FORK_JOIN_RESULT (self), 0.0);

  return self->wall_time;
}

/**
 * fj_fork_join_result_get_cost:
 * @self: a #FjForkJoinResult
 *
 * Gets the total cost in US dollars.
 *
 * Returns: the cost, or a negative value when it is unknown
 *
 * Since: 1.0
 */
double
fj_fork_join_result_get_cost (FjForkJoinResult *self)
{
  g_return_val_if_fail (FJ_IS_FORK_JOIN_RESULT (self), -1.0);

  return self->cost;
}

static void
set_nullable_string (JsonObject *object,
                     const char *name,
                     const char *value)
{
  if (value != NULL)
    json_object_set_string_member (object, name, value);
  else
    json_object_set_null_member (object, name);
}

static JsonNode *
synthesis_to_json (FjForkJoinResult *self)
{
  JsonObject *object;
  JsonNode *node;

  if (self->synthesizer_name == NULL)
    return json_node_new (JSON_NODE_NULL);

  if (self->synthesis_result != NULL)
    {
      node = fj_agent_result_to_json (self->synthesis_result);
      object = json_node_get_object (node);
    }
  else
    {
      gboolean failed = self->output == NULL && self->error != NULL;

      object = json_object_new ();
      json_object_set_string_member (object, "status", failed ? "failed" : "success");
      json_object_set_member (object, "error", failed ? fj_error_to_json (self->error)
                                                      : json_node_new (JSON_NODE_NULL));
      node = json_node_new (JSON_NODE_OBJECT);
      json_node_take_object (node, object);
    }

  json_object_set_string_member (object, "plugin", self->synthesizer_name);
  set_nullable_string (object, "output", self->output);

  return node;
}

void
_fj_fork_join_result_set_cache (FjForkJoinResult *self,
                                FjCacheMode       mode,
                                const char       *note)
{
  g_return_if_fail (FJ_IS_FORK_JOIN_RESULT (self));

  self->cache_mode = mode;
  g_free (self->cache_note);
  self->cache_note = g_strdup (note);
}

void
_fj_fork_join_result_set_batch_ids (FjForkJoinResult   *self,
                                    const char * const *ids)
{
  g_return_if_fail (FJ_IS_FORK_JOIN_RESULT (self));

  g_clear_pointer (&self->batch_ids, g_strfreev);
  self->batch_ids = g_strdupv ((char **) ids);
}

/**
 * fj_fork_join_result_get_batch_ids:
 * @self: a #FjForkJoinResult
 *
 * Gets the ids of the Message Batches the agents ran in, when they ran in
 * batch mode (see [property@AgentRunner:mode]).
 *
 * Returns: (transfer none) (nullable) (array zero-terminated=1): the batch
 *   ids, or %NULL when the agents ran live
 *
 * Since: 1.0
 */
const char * const *
fj_fork_join_result_get_batch_ids (FjForkJoinResult *self)
{
  g_return_val_if_fail (FJ_IS_FORK_JOIN_RESULT (self), NULL);

  return (const char * const *) self->batch_ids;
}

/* The agents' prompt cache figures, summed (the synthesis excluded). */
static JsonNode *
cache_to_json (FjForkJoinResult *self)
{
  static const FjUsage zero;
  JsonObject *object = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  gint64 write_tokens = 0;
  gint64 read_tokens = 0;
  gint64 input_tokens = 0;
  double saved = 0.0;
  gboolean priced = FALSE;
  gboolean unknown = FALSE;

  for (guint i = 0; i < self->results->len; i++)
    {
      FjAgentResult *result = g_ptr_array_index (self->results, i);
      FjUsage *usage = fj_agent_result_get_usage (result);

      write_tokens += usage->cache_creation_input_tokens;
      read_tokens += usage->cache_read_input_tokens;
      input_tokens += fj_usage_get_total_input (usage);
      if (_fj_agent_result_get_cache_saved_known (result))
        {
          saved += fj_agent_result_get_cache_saved_usd (result);
          priced = TRUE;
        }
      else if (!fj_usage_equal (usage, &zero))
        unknown = TRUE;
    }

  json_object_set_string_member (object, "mode",
                                 self->cache_mode == FJ_CACHE_MODE_SHARED_INPUT ? "shared-input"
                                                                                : "none");
  set_nullable_string (object, "note", self->cache_note);
  json_object_set_int_member (object, "write_tokens", write_tokens);
  json_object_set_int_member (object, "read_tokens", read_tokens);
  json_object_set_double_member (object, "hit_ratio",
                                 input_tokens > 0 ? (double) read_tokens / (double) input_tokens : 0.0);
  if (priced && !unknown)
    json_object_set_double_member (object, "saved_usd", saved);
  else
    json_object_set_null_member (object, "saved_usd");

  json_node_take_object (node, object);
  return node;
}

static JsonNode *to_json (FjForkJoinResult *self,
                          gboolean          with_agents);

/**
 * fj_fork_join_result_to_json:
 * @self: a #FjForkJoinResult
 *
 * Serialises the result as `forkjoin-tool run --json` prints it: `status`
 * (`complete`, `degraded` or `failed`), `error` (`code` and `message`, or
 * null), `input`, `agents` (each as [method@AgentResult.to_json] gives
 * it), `synthesis` (the synthesis step's fields plus `plugin` and
 * `output`, or null when no synthesis ran), `usage`, `cost_usd` (null when
 * unknown), `wall_ms` and `cache` (the prompt cache: `mode`, `note`,
 * `write_tokens`, `read_tokens`, `hit_ratio` and `saved_usd`, the agents'
 * figures summed, without the synthesis); and, only when the agents ran
 * in batch mode, `batch_ids` (the Message Batches ids).
 *
 * Returns: (transfer full): a JSON object
 *
 * Since: 1.0
 */
JsonNode *
fj_fork_join_result_to_json (FjForkJoinResult *self)
{
  g_return_val_if_fail (FJ_IS_FORK_JOIN_RESULT (self), NULL);

  return to_json (self, TRUE);
}

/**
 * fj_fork_join_result_to_json_outline:
 * @self: a #FjForkJoinResult
 *
 * Describes the result as [method@ForkJoinResult.to_json] does, but with
 * `agents` an empty array. A writer of a run of thousands of agents fills
 * it in itself, one [method@AgentResult.to_json] at a time, so that the
 * whole document is never held as one tree (`forkjoin-tool run --json`
 * does this).
 *
 * Returns: (transfer full): a JSON object
 *
 * Since: 1.0
 */
JsonNode *
fj_fork_join_result_to_json_outline (FjForkJoinResult *self)
{
  g_return_val_if_fail (FJ_IS_FORK_JOIN_RESULT (self), NULL);

  return to_json (self, FALSE);
}

static JsonNode *
to_json (FjForkJoinResult *self,
         gboolean          with_agents)
{
  g_autoptr(GEnumClass) status_class = NULL;
  GEnumValue *value;
  JsonObject *object;
  JsonArray *agents;
  JsonNode *node;

  status_class = g_type_class_ref (FJ_TYPE_FORK_JOIN_STATUS);
  value = g_enum_get_value (status_class, self->status);
  g_assert (value != NULL);

  object = json_object_new ();
  json_object_set_string_member (object, "status", value->value_nick);
  json_object_set_member (object, "error", fj_error_to_json (self->error));
  json_object_set_string_member (object, "input", self->input);

  agents = json_array_sized_new (with_agents ? self->results->len : 0);
  for (guint i = 0; with_agents && i < self->results->len; i++)
    json_array_add_element (agents, fj_agent_result_to_json (g_ptr_array_index (self->results, i)));
  json_object_set_array_member (object, "agents", agents);

  json_object_set_member (object, "synthesis", synthesis_to_json (self));
  json_object_set_member (object, "usage", fj_usage_to_json (&self->usage));

  if (self->cost >= 0.0)
    json_object_set_double_member (object, "cost_usd", self->cost);
  else
    json_object_set_null_member (object, "cost_usd");

  json_object_set_int_member (object, "wall_ms", (gint64) llround (self->wall_time * 1000.0));
  json_object_set_member (object, "cache", cache_to_json (self));
  if (self->batch_ids != NULL)
    {
      JsonArray *ids = json_array_new ();

      for (guint i = 0; self->batch_ids[i] != NULL; i++)
        json_array_add_string_element (ids, self->batch_ids[i]);
      json_object_set_array_member (object, "batch_ids", ids);
    }

  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, object);
  return node;
}

/**
 * fj_fork_join_result_to_json_string:
 * @self: a #FjForkJoinResult
 * @pretty: whether to indent the JSON
 *
 * Serialises the result as [method@ForkJoinResult.to_json] does, to a
 * string.
 *
 * Returns: (transfer full): the JSON text
 *
 * Since: 1.0
 */
char *
fj_fork_join_result_to_json_string (FjForkJoinResult *self,
                                    gboolean          pretty)
{
  g_autoptr(JsonNode) node = NULL;

  g_return_val_if_fail (FJ_IS_FORK_JOIN_RESULT (self), NULL);

  node = fj_fork_join_result_to_json (self);
  return json_to_string (node, pretty);
}
