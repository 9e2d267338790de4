/* fj-run-recorder.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-run-recorder.h"

#include <string.h>

#include "fj-report.h"

/* What happened when during one fork-join: the times the timeline draws
 * and, with --events, one JSON line per event as it happens.  Everything
 * but the client's `paused` signal arrives on the main context; `paused`
 * may come from any thread, so writing a line and the pauses are guarded
 * by a mutex. */

typedef struct
{
  FjRecordedAgent pub;
  gboolean        kept;   /* resume: a success kept from the earlier run */
} RecordedAgent;

struct _FjRunRecorder
{
  FjForkJoinTask *task;
  FjAgentRunner  *runner;
  FjClient       *client;
  FILE           *events;

  GPtrArray      *agents;       /* RecordedAgent, in spec order */
  GHashTable     *by_name;      /* name → RecordedAgent (borrowed) */
  GArray         *pauses;       /* FjRecordedPause */

  GMutex          mutex;
  guint64         seq;
  gint64          start_us;
  gboolean        started;
  double          synthesis_start;
  double          synthesis_end;
  double          end;

  gulong          started_id;
  gulong          first_token_id;
  gulong          delta_id;
  gulong          retrying_id;
  gulong          finished_id;
  gulong          paused_id;
  gulong          synthesis_started_id;
  gulong          synthesis_finished_id;
};

static void
recorded_agent_free (gpointer data)
{
  RecordedAgent *agent = data;

  g_free (agent->pub.name);
  g_clear_pointer (&agent->pub.retries, g_array_unref);
  g_free (agent);
}

static void
recorded_pause_clear (gpointer data)
{
  FjRecordedPause *pause = data;

  g_clear_pointer (&pause->reason, g_free);
}

static double
now (FjRunRecorder *self)
{
  if (!self->started)
    return 0.0;

  return (g_get_monotonic_time () - self->start_us) / (double) G_USEC_PER_SEC;
}

static char *
format_rfc3339 (gint64 unix_us)
{
  g_autoptr(GDateTime) date_time = NULL;
  g_autofree char *seconds = NULL;

  date_time = g_date_time_new_from_unix_utc (unix_us / G_USEC_PER_SEC);
  if (date_time == NULL)
    return g_strdup ("1970-01-01T00:00:00.000Z");
  seconds = g_date_time_format (date_time, "%Y-%m-%dT%H:%M:%S");

  return g_strdup_printf ("%s.%03dZ", seconds, (int) ((unix_us % G_USEC_PER_SEC) / 1000));
}

/* Writes one event line.  @extra (transfer full, nullable) holds the
 * event's own members, written after the common ones. */
static void
emit (FjRunRecorder         *self,
      const char            *event,
      const FjRecordedAgent *agent,
      JsonObject            *extra)
{
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(JsonGenerator) generator = NULL;
  g_autofree char *stamp = NULL;
  g_autofree char *line = NULL;

  if (self->events == NULL)
    {
      g_clear_pointer (&extra, json_object_unref);
      return;
    }

  g_mutex_lock (&self->mutex);

  stamp = format_rfc3339 (g_get_real_time ());
  object = json_object_new ();
  json_object_set_string_member (object, "event", event);
  json_object_set_int_member (object, "seq", (gint64) self->seq++);
  json_object_set_string_member (object, "time", stamp);
  if (agent != NULL)
    {
      json_object_set_string_member (object, "agent", agent->name);
      json_object_set_int_member (object, "index", agent->index);
    }

  if (extra != NULL)
    {
      g_autoptr(GList) members = json_object_get_members (extra);

      for (const GList *l = members; l != NULL; l = l->next)
        json_object_set_member (object, l->data,
                                json_node_copy (json_object_get_member (extra, l->data)));
      json_object_unref (extra);
    }

  node = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (node, object);
  generator = json_generator_new ();
  json_generator_set_root (generator, node);
  line = json_generator_to_data (generator, NULL);

  fputs (line, self->events);
  fputc ('\n', self->events);
  fflush (self->events);

  g_mutex_unlock (&self->mutex);
}

static RecordedAgent *
lookup (FjRunRecorder *self,
        FjAgentResult *result)
{
  const char *name = fj_agent_result_get_agent_name (result);
  RecordedAgent *agent = NULL;
  guint index;

  /* By name first: a resumed run may hand the runner only some agents,
   * whose indices then count from 0 among those. */
  if (name != NULL)
    agent = g_hash_table_lookup (self->by_name, name);

  if (agent == NULL)
    {
      index = fj_agent_result_get_index (result);
      if (index < self->agents->len)
        agent = g_ptr_array_index (self->agents, index);
    }

  if (agent != NULL && agent->kept)
    return NULL;

  return agent;
}

static void
agent_started_cb (FjAgentRunner *runner,
                  FjAgentResult *result,
                  gpointer       user_data)
{
  FjRunRecorder *self = user_data;
  RecordedAgent *agent = lookup (self, result);

  if (agent == NULL)
    return;

  agent->pub.started = now (self);
  agent->pub.status = FJ_AGENT_STATUS_RUNNING;
  emit (self, "started", &agent->pub, NULL);
}

static void
agent_first_token_cb (FjAgentRunner *runner,
                      FjAgentResult *result,
                      gpointer       user_data)
{
  FjRunRecorder *self = user_data;
  RecordedAgent *agent = lookup (self, result);

  if (agent == NULL)
    return;

  if (agent->pub.first_token < 0)
    agent->pub.first_token = now (self);
  emit (self, "first_token", &agent->pub, NULL);
}

static void
agent_delta_cb (FjAgentRunner *runner,
                FjAgentResult *result,
                const char    *text,
                gpointer       user_data)
{
  FjRunRecorder *self = user_data;
  RecordedAgent *agent = lookup (self, result);
  JsonObject *extra;

  if (agent == NULL || self->events == NULL)
    return;

  extra = json_object_new ();
  json_object_set_string_member (extra, "text", text != NULL ? text : "");
  emit (self, "delta", &agent->pub, extra);
}

static void
agent_retrying_cb (FjAgentRunner *runner,
                   FjAgentResult *result,
                   guint          attempt,
                   double         delay,
                   guint          status,
                   const GError  *reason,
                   gpointer       user_data)
{
  FjRunRecorder *self = user_data;
  RecordedAgent *agent = lookup (self, result);
  FjRecordedRetry retry;
  JsonObject *extra;

  if (agent == NULL)
    return;

  retry.time = now (self);
  retry.delay = delay;
  retry.attempt = attempt;
  retry.status = status;
  g_array_append_val (agent->pub.retries, retry);

  extra = json_object_new ();
  json_object_set_int_member (extra, "attempt", attempt);
  json_object_set_double_member (extra, "delay", delay);
  json_object_set_int_member (extra, "status", status);
  if (reason != NULL)
    json_object_set_string_member (extra, "reason", reason->message);
  emit (self, "retrying", &agent->pub, extra);
}

static void
agent_finished_cb (FjAgentRunner *runner,
                   FjAgentResult *result,
                   gpointer       user_data)
{
  FjRunRecorder *self = user_data;
  RecordedAgent *agent = lookup (self, result);
  JsonObject *extra;

  if (agent == NULL)
    return;

  agent->pub.finished = now (self);
  agent->pub.status = fj_agent_result_get_status (result);

  extra = json_object_new ();
  json_object_set_string_member (extra, "status", fj_report_agent_status_nick (agent->pub.status));
  json_object_set_int_member (extra, "duration_ms",
                              (gint64) (fj_agent_result_get_duration (result) * 1000.0 + 0.5));
  json_object_set_int_member (extra, "attempts", fj_agent_result_get_attempts (result));
  json_object_set_member (extra, "error", fj_error_to_json (fj_agent_result_get_error (result)));
  /* No cost here: the task prices a result after it settled. */
  json_object_set_member (extra, "usage", fj_usage_to_json (fj_agent_result_get_usage (result)));
  emit (self, "finished", &agent->pub, extra);
}

static void
client_paused_cb (FjClient   *client,
                  const char *reason,
                  GDateTime  *until,
                  gpointer    user_data)
{
  FjRunRecorder *self = user_data;
  FjRecordedPause pause;
  gint64 until_us;
  g_autofree char *until_text = NULL;
  JsonObject *extra;

  if (until != NULL)
    until_us = g_date_time_to_unix (until) * G_USEC_PER_SEC + g_date_time_get_microsecond (until);
  else
    until_us = g_get_real_time ();

  g_mutex_lock (&self->mutex);
  pause.from = now (self);
  pause.until = pause.from + MAX (0, until_us - g_get_real_time ()) / (double) G_USEC_PER_SEC;
  pause.reason = g_strdup (reason != NULL ? reason : "");
  g_array_append_val (self->pauses, pause);
  g_mutex_unlock (&self->mutex);

  until_text = format_rfc3339 (until_us);
  extra = json_object_new ();
  json_object_set_string_member (extra, "reason", reason != NULL ? reason : "");
  json_object_set_string_member (extra, "until", until_text);
  emit (self, "paused", NULL, extra);
}

static void
synthesis_started_cb (FjForkJoinTask *task,
                      gpointer        user_data)
{
  FjRunRecorder *self = user_data;

  self->synthesis_start = now (self);
  emit (self, "synthesis_started", NULL, NULL);
}

static void
synthesis_finished_cb (FjForkJoinTask *task,
                       gpointer        user_data)
{
  FjRunRecorder *self = user_data;

  self->synthesis_end = now (self);
  emit (self, "synthesis_finished", NULL, NULL);
}

FjRunRecorder *
fj_run_recorder_new (FjForkJoinTask *task,
                     FjClient       *client,
                     FILE           *events)
{
  FjRunRecorder *self;

  g_return_val_if_fail (FJ_IS_FORK_JOIN_TASK (task), NULL);
  g_return_val_if_fail (client == NULL || FJ_IS_CLIENT (client), NULL);

  self = g_new0 (FjRunRecorder, 1);
  self->task = g_object_ref (task);
  self->runner = g_object_ref (fj_fork_join_task_get_runner (task));
  self->client = client != NULL ? g_object_ref (client) : NULL;
  self->events = events;
  self->agents = g_ptr_array_new_with_free_func (recorded_agent_free);
  self->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  self->pauses = g_array_new (FALSE, TRUE, sizeof (FjRecordedPause));
  g_array_set_clear_func (self->pauses, recorded_pause_clear);
  g_mutex_init (&self->mutex);
  self->synthesis_start = -1;
  self->synthesis_end = -1;
  self->end = -1;

  self->started_id = g_signal_connect (self->runner, "agent-started",
                                       G_CALLBACK (agent_started_cb), self);
  self->first_token_id = g_signal_connect (self->runner, "agent-first-token",
                                           G_CALLBACK (agent_first_token_cb), self);
  /* A delta is only written as an event: without --events, no handler
   * lets the runner skip the emission for each piece of text. */
  if (self->events != NULL)
    self->delta_id = g_signal_connect (self->runner, "agent-delta",
                                       G_CALLBACK (agent_delta_cb), self);
  self->retrying_id = g_signal_connect (self->runner, "agent-retrying",
                                        G_CALLBACK (agent_retrying_cb), self);
  self->finished_id = g_signal_connect (self->runner, "agent-finished",
                                        G_CALLBACK (agent_finished_cb), self);
  if (self->client != NULL)
    self->paused_id = g_signal_connect (self->client, "paused",
                                        G_CALLBACK (client_paused_cb), self);
  self->synthesis_started_id = g_signal_connect (self->task, "synthesis-started",
                                                 G_CALLBACK (synthesis_started_cb), self);
  self->synthesis_finished_id = g_signal_connect (self->task, "synthesis-finished",
                                                  G_CALLBACK (synthesis_finished_cb), self);

  return self;
}

void
fj_run_recorder_free (FjRunRecorder *self)
{
  if (self == NULL)
    return;

  g_clear_signal_handler (&self->started_id, self->runner);
  g_clear_signal_handler (&self->first_token_id, self->runner);
  g_clear_signal_handler (&self->delta_id, self->runner);
  g_clear_signal_handler (&self->retrying_id, self->runner);
  g_clear_signal_handler (&self->finished_id, self->runner);
  if (self->client != NULL)
    g_clear_signal_handler (&self->paused_id, self->client);
  g_clear_signal_handler (&self->synthesis_started_id, self->task);
  g_clear_signal_handler (&self->synthesis_finished_id, self->task);

  g_clear_object (&self->task);
  g_clear_object (&self->runner);
  g_clear_object (&self->client);
  g_clear_pointer (&self->by_name, g_hash_table_unref);
  g_clear_pointer (&self->agents, g_ptr_array_unref);
  g_clear_pointer (&self->pauses, g_array_unref);
  g_mutex_clear (&self->mutex);
  g_free (self);
}

static void
start (FjRunRecorder *self,
       GListModel    *agents,
       GPtrArray     *previous)
{
  guint n_agents = g_list_model_get_n_items (agents);

  g_ptr_array_set_size (self->agents, 0);
  g_hash_table_remove_all (self->by_name);
  self->start_us = g_get_monotonic_time ();
  self->started = TRUE;

  for (guint i = 0; i < n_agents; i++)
    {
      g_autoptr(FjAgent) fj_agent = g_list_model_get_item (agents, i);
      RecordedAgent *agent = g_new0 (RecordedAgent, 1);

      agent->pub.name = g_strdup (fj_agent_get_name (fj_agent));
      agent->pub.index = i;
      agent->pub.queued = 0;
      agent->pub.started = -1;
      agent->pub.first_token = -1;
      agent->pub.finished = -1;
      agent->pub.status = FJ_AGENT_STATUS_PENDING;
      agent->pub.retries = g_array_new (FALSE, TRUE, sizeof (FjRecordedRetry));

      for (guint j = 0; previous != NULL && j < previous->len; j++)
        {
          FjAgentResult *old = g_ptr_array_index (previous, j);

          if (g_strcmp0 (fj_agent_result_get_agent_name (old), agent->pub.name) == 0 &&
              fj_agent_result_get_status (old) == FJ_AGENT_STATUS_SUCCESS)
            {
              agent->kept = TRUE;
              agent->pub.status = FJ_AGENT_STATUS_SUCCESS;
              break;
            }
        }

      g_ptr_array_add (self->agents, agent);
      if (agent->pub.name != NULL && !g_hash_table_contains (self->by_name, agent->pub.name))
        g_hash_table_insert (self->by_name, agent->pub.name, agent);
    }

  for (guint i = 0; i < self->agents->len; i++)
    {
      RecordedAgent *agent = g_ptr_array_index (self->agents, i);

      if (!agent->kept)
        emit (self, "queued", &agent->pub, NULL);
    }
}

void
fj_run_recorder_start (FjRunRecorder *self,
                       GListModel    *agents)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (G_IS_LIST_MODEL (agents));

  start (self, agents, NULL);
}

void
fj_run_recorder_start_resume (FjRunRecorder *self,
                              GListModel    *agents,
                              GPtrArray     *previous_results)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (G_IS_LIST_MODEL (agents));

  start (self, agents, previous_results);
}

void
fj_run_recorder_finish (FjRunRecorder    *self,
                        FjForkJoinResult *result)
{
  JsonObject *extra;

  g_return_if_fail (self != NULL);
  g_return_if_fail (result == NULL || FJ_IS_FORK_JOIN_RESULT (result));

  self->end = now (self);

  if (result != NULL)
    {
      GPtrArray *results = fj_fork_join_result_get_results (result);

      /* Whatever did not report itself (kept agents, or a run that ended
       * before an agent's signal) takes its final status from the result. */
      for (guint i = 0; results != NULL && i < results->len; i++)
        {
          FjAgentResult *agent_result = g_ptr_array_index (results, i);
          const char *name = fj_agent_result_get_agent_name (agent_result);
          RecordedAgent *agent = name != NULL ? g_hash_table_lookup (self->by_name, name) : NULL;

          if (agent != NULL && agent->pub.finished < 0 && !agent->kept)
            agent->pub.status = fj_agent_result_get_status (agent_result);
        }
    }

  extra = json_object_new ();
  if (result != NULL)
    {
      json_object_set_string_member (extra, "status",
                                     fj_report_fork_join_status_nick (fj_fork_join_result_get_status (result)));
      json_object_set_member (extra, "error", fj_error_to_json (fj_fork_join_result_get_error (result)));
      json_object_set_int_member (extra, "wall_ms",
                                  (gint64) (fj_fork_join_result_get_wall_time (result) * 1000.0 + 0.5));
    }
  else
    {
      json_object_set_string_member (extra, "status", "failed");
      json_object_set_null_member (extra, "error");
      json_object_set_int_member (extra, "wall_ms", (gint64) (self->end * 1000.0 + 0.5));
    }
  emit (self, "done", NULL, extra);
}

guint
fj_run_recorder_get_n_agents (FjRunRecorder *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->agents->len;
}

const FjRecordedAgent *
fj_run_recorder_get_agent (FjRunRecorder *self,
                           guint          index)
{
  RecordedAgent *agent;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index < self->agents->len, NULL);

  agent = g_ptr_array_index (self->agents, index);
  return &agent->pub;
}

gboolean
fj_run_recorder_get_agent_kept (FjRunRecorder *self,
                                guint          index)
{
  RecordedAgent *agent;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (index < self->agents->len, FALSE);

  agent = g_ptr_array_index (self->agents, index);
  return agent->kept;
}

GArray *
fj_run_recorder_get_pauses (FjRunRecorder *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->pauses;
}

double
fj_run_recorder_get_synthesis_start (FjRunRecorder *self)
{
  g_return_val_if_fail (self != NULL, -1);

  return self->synthesis_start;
}

double
fj_run_recorder_get_synthesis_end (FjRunRecorder *self)
{
  g_return_val_if_fail (self != NULL, -1);

  return self->synthesis_end;
}

double
fj_run_recorder_get_end (FjRunRecorder *self)
{
  g_return_val_if_fail (self != NULL, -1);

  return self->end;
}

double
fj_run_recorder_get_elapsed (FjRunRecorder *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return now (self);
}
