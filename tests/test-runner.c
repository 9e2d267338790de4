/* test-runner.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "fj-test-utils.h"

/* A policy whose behaviour the tests set: stop satisfied once the run's
 * quorum of successes is met, stop failed after some failures, refuse (or
 * hold) an agent by name. It records every call. */

#define TEST_TYPE_POLICY (test_policy_get_type ())
G_DECLARE_FINAL_TYPE (TestPolicy, test_policy, TEST, POLICY, GObject)

struct _TestPolicy
{
  GObject parent_instance;

  gboolean stop_on_quorum;
  FjPolicyLosers losers;
  guint fail_after;             /* 0 = never */
  char *refuse;                 /* an agent name refused with FJ_ERROR_BUDGET */
  char *hold;                   /* an agent name held (FALSE, no error) */
  GString *log;
  guint n_admit;
  guint n_settled;
};

static void test_policy_iface_init (FjPolicyInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TestPolicy, test_policy, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (FJ_TYPE_POLICY, test_policy_iface_init))

static gboolean
test_policy_admit (FjPolicy    *policy,
                   FjRunState  *state,
                   FjAgent     *agent,
                   GError     **error)
{
  TestPolicy *self = TEST_POLICY (policy);
  const char *name = fj_agent_get_name (agent);

  g_assert_true (FJ_IS_RUN_STATE (state));
  self->n_admit++;
  g_string_append_printf (self->log, "admit %s;", name);

  if (g_strcmp0 (name, self->refuse) == 0)
    {
      g_set_error (error, FJ_ERROR, FJ_ERROR_BUDGET, "the budget is spent");
      return FALSE;
    }

  if (g_strcmp0 (name, self->hold) == 0)
    return FALSE;

  return TRUE;
}

static FjPolicyDecision
test_policy_settled (FjPolicy      *policy,
                     FjRunState    *state,
                     FjAgentResult *result)
{
  TestPolicy *self = TEST_POLICY (policy);

  self->n_settled++;
  g_string_append_printf (self->log, "settled %s;", fj_agent_result_get_agent_name (result));

  /* The state counts the result already. */
  g_assert_true (fj_agent_result_get_finished (result));
  g_assert_cmpuint (fj_run_state_get_n_pending (state) + fj_run_state_get_n_running (state) +
                    fj_run_state_get_n_succeeded (state) + fj_run_state_get_n_failed (state) +
                    fj_run_state_get_n_cancelled (state) + fj_run_state_get_n_skipped (state),
                    ==, fj_run_state_get_n_agents (state));

  if (self->stop_on_quorum &&
      fj_run_state_get_n_succeeded (state) >= fj_run_state_get_min_successes (state))
    return FJ_POLICY_DECISION_STOP_SATISFIED;

  if (self->fail_after > 0 && fj_run_state_get_n_failed (state) >= self->fail_after)
    return FJ_POLICY_DECISION_STOP_FAILED;

  return FJ_POLICY_DECISION_CONTINUE;
}

static FjPolicyLosers
test_policy_get_losers (FjPolicy *policy)
{
  return TEST_POLICY (policy)->losers;
}

static void
test_policy_iface_init (FjPolicyInterface *iface)
{
  iface->admit = test_policy_admit;
  iface->settled = test_policy_settled;
  iface->get_losers = test_policy_get_losers;
}

static void
test_policy_finalize (GObject *object)
{
  TestPolicy *self = TEST_POLICY (object);

  g_free (self->refuse);
  g_free (self->hold);
  g_string_free (self->log, TRUE);

  G_OBJECT_CLASS (test_policy_parent_class)->finalize (object);
}

static void
test_policy_class_init (TestPolicyClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_policy_finalize;
}

static void
test_policy_init (TestPolicy *self)
{
  self->log = g_string_new (NULL);
}

/* A tool that records its threads and how many invocations overlapped. */

#define TEST_TYPE_THREAD_TOOL (test_thread_tool_get_type ())
G_DECLARE_FINAL_TYPE (TestThreadTool, test_thread_tool, TEST, THREAD_TOOL, FjTool)

struct _TestThreadTool
{
  FjTool parent_instance;

  GMutex mutex;
  GPtrArray *threads;
  guint n_calls;
  guint n_now;
  guint max_now;
};

G_DEFINE_FINAL_TYPE (TestThreadTool, test_thread_tool, FJ_TYPE_TOOL)

static char *
test_thread_tool_invoke (FjTool        *tool,
                         const char    *input_json,
                         GCancellable  *cancellable,
                         GError       **error)
{
  TestThreadTool *self = TEST_THREAD_TOOL (tool);

  g_mutex_lock (&self->mutex);
  g_ptr_array_add (self->threads, g_thread_self ());
  self->n_calls++;
  self->n_now++;
  self->max_now = MAX (self->max_now, self->n_now);
  g_mutex_unlock (&self->mutex);

  g_usleep (G_USEC_PER_SEC / 4);

  g_mutex_lock (&self->mutex);
  self->n_now--;
  g_mutex_unlock (&self->mutex);

  return g_strdup ("It is 12:34:56 UTC");
}

static void
test_thread_tool_finalize (GObject *object)
{
  TestThreadTool *self = TEST_THREAD_TOOL (object);

  g_ptr_array_unref (self->threads);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (test_thread_tool_parent_class)->finalize (object);
}

static void
test_thread_tool_class_init (TestThreadToolClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_thread_tool_finalize;
  FJ_TOOL_CLASS (klass)->invoke = test_thread_tool_invoke;
}

static void
test_thread_tool_init (TestThreadTool *self)
{
  g_mutex_init (&self->mutex);
  self->threads = g_ptr_array_new ();
  fj_tool_set_name (FJ_TOOL (self), "clock");
  fj_tool_set_description (FJ_TOOL (self), "Tells the time");
}

/* Helpers */

/* An agent whose system prompt names it, so scenario overrides can match
 * "NAME analyst". */
static FjAgent *
agent_new (const char *name)
{
  FjAgent *agent = fj_agent_new (name);
  g_autofree char *instructions = g_strdup_printf ("You are the %s analyst.", name);

  fj_agent_set_instructions (agent, instructions);

  return agent;
}

static GListStore *
agents_new (const char *first,
            ...)
{
  GListStore *store = g_list_store_new (FJ_TYPE_AGENT);
  va_list args;

  va_start (args, first);
  for (const char *name = first; name != NULL; name = va_arg (args, const char *))
    {
      g_autoptr(FjAgent) agent = agent_new (name);

      g_list_store_append (store, agent);
    }
  va_end (args);

  return store;
}

static FjAgent *
agents_get (GListStore *agents,
            guint       index)
{
  FjAgent *agent = g_list_model_get_item (G_LIST_MODEL (agents), index);

  /* The store keeps it alive. */
  g_object_unref (agent);

  return agent;
}

static GPtrArray *
run_agents (FjAgentRunner *runner,
            GListStore    *agents,
            GCancellable  *cancellable)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *results;

  fj_agent_runner_run_async (runner, G_LIST_MODEL (agents), "How did ACME do in Q3?",
                             cancellable, fj_test_async_result_cb, &result);
  /* Unless everything was skipped at once. */
  g_assert_true (fj_agent_runner_get_running (runner) ||
                 g_cancellable_is_cancelled (cancellable));

  fj_test_wait_result (&result, 60);
  results = fj_agent_runner_run_finish (runner, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (results);
  g_assert_false (fj_agent_runner_get_running (runner));

  g_assert_cmpuint (results->len, ==, g_list_model_get_n_items (G_LIST_MODEL (agents)));
  for (guint i = 0; i < results->len; i++)
    {
      FjAgentResult *r = g_ptr_array_index (results, i);

      g_assert_cmpuint (fj_agent_result_get_index (r), ==, i);
      g_assert_cmpstr (fj_agent_result_get_agent_name (r), ==,
                       fj_agent_get_name (agents_get (agents, i)));
      g_assert_true (fj_agent_result_get_finished (r));
    }

  return results;
}

static FjAgentResult *
result_at (GPtrArray *results,
           guint      index)
{
  return g_ptr_array_index (results, index);
}

static void
assert_counts (FjAgentRunner *runner,
               guint          n_succeeded,
               guint          n_failed,
               guint          n_cancelled,
               guint          n_skipped)
{
  g_assert_cmpuint (fj_agent_runner_get_n_pending (runner), ==, 0);
  g_assert_cmpuint (fj_agent_runner_get_n_running (runner), ==, 0);
  g_assert_cmpuint (fj_agent_runner_get_n_succeeded (runner), ==, n_succeeded);
  g_assert_cmpuint (fj_agent_runner_get_n_failed (runner), ==, n_failed);
  g_assert_cmpuint (fj_agent_runner_get_n_cancelled (runner), ==, n_cancelled);
  g_assert_cmpuint (fj_agent_runner_get_n_skipped (runner), ==, n_skipped);
}

static guint
count_sum (FjAgentRunner *runner)
{
  return fj_agent_runner_get_n_pending (runner) + fj_agent_runner_get_n_running (runner) +
         fj_agent_runner_get_n_succeeded (runner) + fj_agent_runner_get_n_failed (runner) +
         fj_agent_runner_get_n_cancelled (runner) + fj_agent_runner_get_n_skipped (runner);
}

/* Records every signal as "EVENT NAME" lines, checking the counters add up
 * to N at each. */
typedef struct
{
  FjAgentRunner *runner;
  guint n_agents;
  GPtrArray *events;
  GPtrArray *finished;          /* agent names in finish order */
  GPtrArray *started;           /* agent names in start order */
  GString *retries;             /* "NAME:ATTEMPT:STATUS;" */
  gboolean model_full_at_start;
} Recorder;

static void
recorder_event (Recorder      *rec,
                const char    *event,
                FjAgentResult *result)
{
  g_assert_true (FJ_IS_AGENT_RESULT (result));
  g_assert_cmpuint (count_sum (rec->runner), ==, rec->n_agents);
  g_ptr_array_add (rec->events, g_strdup_printf ("%s %s", event, fj_agent_result_get_agent_name (result)));
}

static void
on_started (FjAgentRunner *runner,
            FjAgentResult *result,
            Recorder      *rec)
{
  GListModel *model = fj_agent_runner_get_results (runner);

  g_assert_cmpint (fj_agent_result_get_status (result), ==, FJ_AGENT_STATUS_RUNNING);
  if (rec->started->len == 0)
    rec->model_full_at_start = g_list_model_get_n_items (model) == rec->n_agents;
  g_ptr_array_add (rec->started, g_strdup (fj_agent_result_get_agent_name (result)));
  recorder_event (rec, "started", result);
}

static void
on_first_token (FjAgentRunner *runner,
                FjAgentResult *result,
                Recorder      *rec)
{
  recorder_event (rec, "first-token", result);
}

static void
on_delta (FjAgentRunner *runner,
          FjAgentResult *result,
          const char    *text,
          Recorder      *rec)
{
  const char *output = fj_agent_result_get_output (result);

  g_assert_nonnull (text);
  g_assert_true (output != NULL && g_str_has_suffix (output, text));
  recorder_event (rec, "delta", result);
}

static void
on_retrying (FjAgentRunner *runner,
             FjAgentResult *result,
             guint          attempt,
             double         delay,
             guint          status,
             GError        *reason,
             Recorder      *rec)
{
  g_assert_nonnull (reason);
  g_assert_cmpfloat (delay, >=, 0);
  g_string_append_printf (rec->retries, "%s:%u:%u;", fj_agent_result_get_agent_name (result),
                          attempt, status);
  recorder_event (rec, "retrying", result);
}

static void
on_finished (FjAgentRunner *runner,
             FjAgentResult *result,
             Recorder      *rec)
{
  g_assert_true (fj_agent_result_get_finished (result));
  g_ptr_array_add (rec->finished, g_strdup (fj_agent_result_get_agent_name (result)));
  recorder_event (rec, "finished", result);
}

static void
recorder_init (Recorder      *rec,
               FjAgentRunner *runner,
               guint          n_agents)
{
  memset (rec, 0, sizeof *rec);
  rec->runner = runner;
  rec->n_agents = n_agents;
  rec->events = g_ptr_array_new_with_free_func (g_free);
  rec->finished = g_ptr_array_new_with_free_func (g_free);
  rec->started = g_ptr_array_new_with_free_func (g_free);
  rec->retries = g_string_new (NULL);

  g_signal_connect (runner, "agent-started", G_CALLBACK (on_started), rec);
  g_signal_connect (runner, "agent-first-token", G_CALLBACK (on_first_token), rec);
  g_signal_connect (runner, "agent-delta", G_CALLBACK (on_delta), rec);
  g_signal_connect (runner, "agent-retrying", G_CALLBACK (on_retrying), rec);
  g_signal_connect (runner, "agent-finished", G_CALLBACK (on_finished), rec);
}

static void
recorder_clear (Recorder *rec)
{
  g_signal_handlers_disconnect_by_data (rec->runner, rec);
  g_ptr_array_unref (rec->events);
  g_ptr_array_unref (rec->finished);
  g_ptr_array_unref (rec->started);
  g_string_free (rec->retries, TRUE);
}

/* The events of one agent, in order, as "started,first-token,delta*,finished"
 * with the deltas collapsed. */
static char *
recorder_sequence (Recorder   *rec,
                   const char *name)
{
  GString *seq = g_string_new (NULL);
  const char *last = NULL;

  for (guint i = 0; i < rec->events->len; i++)
    {
      const char *event = g_ptr_array_index (rec->events, i);
      const char *space = strchr (event, ' ');
      g_autofree char *kind = g_strndup (event, space - event);

      if (!g_str_equal (space + 1, name))
        continue;
      if (g_strcmp0 (kind, "retrying") == 0)
        continue;
      if (g_strcmp0 (kind, "delta") == 0 && g_strcmp0 (last, "delta") == 0)
        continue;
      if (seq->len > 0)
        g_string_append_c (seq, ',');
      g_string_append (seq, kind);
      last = g_intern_string (kind);
    }

  return g_string_free (seq, FALSE);
}

/* Tests */

static void
test_runner_parallel (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 1, \"latency\": 1.0, \"output_tokens\": 20,"
                           " \"agents\": [{\"name\": \"quick\", \"match\": \"quick analyst\","
                           "               \"latency\": 0.3}]}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(GListStore) agents = agents_new ("market", "technical", "quick", NULL);
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GTimer) timer = g_timer_new ();
  GListModel *model = fj_agent_runner_get_results (runner);
  FjUsage total = { 0, };
  Recorder rec;

  recorder_init (&rec, runner, 3);
  results = run_agents (runner, agents, NULL);

  /* Together, not one after the other. */
  g_assert_cmpfloat (g_timer_elapsed (timer, NULL), <, 2.0 * fj_test_time_scale ());

  for (guint i = 0; i < 3; i++)
    {
      FjAgentResult *r = result_at (results, i);
      g_autoptr(FjAgentResult) item = g_list_model_get_item (model, i);

      g_assert_cmpint (fj_agent_result_get_status (r), ==, FJ_AGENT_STATUS_SUCCESS);
      g_assert_nonnull (fj_agent_result_get_output (r));
      g_assert_null (fj_agent_result_get_error (r));
      g_assert_true (item == r);
      fj_usage_add (&total, fj_agent_result_get_usage (r));
    }
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 3);

  /* The quick one finished first, yet the results are in agent order. */
  g_assert_cmpuint (rec.finished->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (rec.finished, 0), ==, "quick");
  g_assert_cmpstr (fj_agent_result_get_agent_name (result_at (results, 2)), ==, "quick");
  g_assert_cmpfloat (fj_agent_result_get_duration (result_at (results, 2)), <,
                     fj_agent_result_get_duration (result_at (results, 0)));

  assert_counts (runner, 3, 0, 0, 0);
  g_assert_true (fj_usage_equal (fj_agent_runner_get_usage (runner), &total));
  g_assert_cmpint (total.output_tokens, >, 0);
  g_assert_true (fj_run_state_get_finished (fj_agent_runner_get_state (runner)));
  g_assert_cmpfloat (fj_run_state_get_elapsed (fj_agent_runner_get_state (runner)), <, 2.0 * fj_test_time_scale ());

  recorder_clear (&rec);
}

static void
test_runner_mixed (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 2, \"latency\": 0.05, \"output_tokens\": 20,"
                           " \"agents\": ["
                           "   {\"name\": \"failing\", \"match\": \"failing analyst\","
                           "    \"failures\": [{\"status\": 500}]},"
                           "   {\"name\": \"slow\", \"match\": \"slow analyst\", \"latency\": 10}"
                           " ]}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(GListStore) agents = agents_new ("failing", "slow", "fine", NULL);
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GTimer) timer = g_timer_new ();
  FjAgentResult *failed;
  FjAgentResult *timed_out;
  FjAgentResult *fine;

  fj_client_set_max_retries (client, 1);
  fj_agent_set_timeout (agents_get (agents, 1), 0.8);

  results = run_agents (runner, agents, NULL);
  g_assert_cmpfloat (g_timer_elapsed (timer, NULL), <, 5.0 * fj_test_time_scale ());

  failed = result_at (results, 0);
  g_assert_cmpint (fj_agent_result_get_status (failed), ==, FJ_AGENT_STATUS_FAILED);
  g_assert_error ((GError *) fj_agent_result_get_error (failed), FJ_ERROR, FJ_ERROR_SERVER);
  g_assert_cmpstr (fj_agent_result_get_error_code (failed), ==, "server");
  g_assert_true (g_str_has_prefix (fj_agent_result_get_error_message (failed), "failing: "));
  g_assert_nonnull (strstr (fj_agent_result_get_error_message (failed), "500"));
  g_assert_cmpuint (fj_agent_result_get_attempts (failed), ==, 2);
  g_assert_cmpuint (fj_simulator_get_attempts (sim, "failing"), ==, 2);
  g_assert_cmpfloat (fj_agent_result_get_duration (failed), >, 0.0);
  g_assert_cmpfloat (fj_agent_result_get_duration (failed), <, 4.0 * fj_test_time_scale ());

  timed_out = result_at (results, 1);
  g_assert_cmpint (fj_agent_result_get_status (timed_out), ==, FJ_AGENT_STATUS_TIMED_OUT);
  g_assert_error ((GError *) fj_agent_result_get_error (timed_out), FJ_ERROR, FJ_ERROR_TIMED_OUT);
  g_assert_cmpstr (fj_agent_result_get_error_code (timed_out), ==, "timed-out");
  g_assert_true (g_str_has_prefix (fj_agent_result_get_error_message (timed_out),
                                   "slow: timed out after 0.8 s"));
  g_assert_null (strstr (fj_agent_result_get_error_message (timed_out), "deadline"));
  g_assert_cmpfloat (fj_agent_result_get_duration (timed_out), >=, 0.75);
  g_assert_cmpfloat (fj_agent_result_get_duration (timed_out), <, 3.0 * fj_test_time_scale ());

  fine = result_at (results, 2);
  g_assert_cmpint (fj_agent_result_get_status (fine), ==, FJ_AGENT_STATUS_SUCCESS);
  g_assert_null (fj_agent_result_get_error (fine));
  g_assert_cmpfloat (fj_agent_result_get_duration (fine), <, 2.0 * fj_test_time_scale ());

  assert_counts (runner, 1, 2, 0, 0);
}

static void
test_runner_cap_one (guint cap)
{
  /* Long enough for a whole wave of @cap requests to reach the simulator
   * before the first is answered, on a loaded machine too. */
  g_autofree char *scenario =
    g_strdup_printf ("{\"seed\": %u, \"latency\": %.1f, \"output_tokens\": 10}",
                     cap, 1.0 * fj_test_time_scale ());
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (scenario);
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(GListStore) agents = g_list_store_new (FJ_TYPE_AGENT);
  g_autoptr(GPtrArray) results = NULL;
  guint n = 2 * cap + 1;
  Recorder rec;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("agent-%03u", i);
      g_autoptr(FjAgent) agent = agent_new (name);

      g_list_store_append (agents, agent);
    }

  fj_agent_runner_set_max_concurrent (runner, cap);
  recorder_init (&rec, runner, n);
  results = run_agents (runner, agents, NULL);

  for (guint i = 0; i < n; i++)
    g_assert_cmpint (fj_agent_result_get_status (result_at (results, i)), ==, FJ_AGENT_STATUS_SUCCESS);
  assert_counts (runner, n, 0, 0, 0);

  g_assert_cmpuint (fj_simulator_get_max_in_flight (sim), ==, cap);
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, n);

  /* Admitted first in, first out. */
  g_assert_cmpuint (rec.started->len, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpstr (g_ptr_array_index (rec.started, i), ==,
                     fj_agent_get_name (agents_get (agents, i)));

  recorder_clear (&rec);
}

static void
test_runner_cap (void)
{
  static const guint caps[] = { 1, 3, 50 };

  for (guint i = 0; i < G_N_ELEMENTS (caps); i++)
    test_runner_cap_one (caps[i]);
}

static void
test_runner_deadline (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 4, \"latency\": 10, \"output_tokens\": 10}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(GListStore) agents = agents_new ("first", "second", "third", NULL);
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GTimer) timer = g_timer_new ();
  const char *message;

  fj_agent_runner_set_max_concurrent (runner, 1);
  fj_agent_runner_set_deadline (runner, 0.6);

  results = run_agents (runner, agents, NULL);
  g_assert_cmpfloat (g_timer_elapsed (timer, NULL), >=, 0.55);
  g_assert_cmpfloat (g_timer_elapsed (timer, NULL), <, 4.0 * fj_test_time_scale ());

  g_assert_cmpint (fj_agent_result_get_status (result_at (results, 0)), ==, FJ_AGENT_STATUS_TIMED_OUT);
  g_assert_error ((GError *) fj_agent_result_get_error (result_at (results, 0)),
                  FJ_ERROR, FJ_ERROR_TIMED_OUT);
  message = fj_agent_result_get_error_message (result_at (results, 0));
  g_assert_true (g_str_has_prefix (message, "first: timed out after"));
  g_assert_nonnull (strstr (message, "the run's deadline of 0.6 s passed"));

  for (guint i = 1; i < 3; i++)
    {
      FjAgentResult *r = result_at (results, i);

      g_assert_cmpint (fj_agent_result_get_status (r), ==, FJ_AGENT_STATUS_SKIPPED);
      g_assert_error ((GError *) fj_agent_result_get_error (r), FJ_ERROR, FJ_ERROR_TIMED_OUT);
      g_assert_nonnull (strstr (fj_agent_result_get_error_message (r),
                                "skipped: the run's deadline of 0.6 s passed before it started"));
      g_assert_cmpuint (fj_agent_result_get_attempts (r), ==, 0);
    }

  assert_counts (runner, 0, 1, 0, 2);
  /* Only the first was sent (if a loaded machine was quick enough). */
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), <=, 1);
}

static void
test_runner_agent_timeout (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 5, \"latency\": 10, \"output_tokens\": 10,"
                           " \"agents\": [{\"name\": \"quick\", \"match\": \"quick analyst\","
                           "               \"latency\": 0.05}]}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(GListStore) agents = agents_new ("default", "own", "quick", NULL);
  g_autoptr(GPtrArray) results = NULL;
  FjAgentResult *r;

  /* The runner's timeout applies to agents without one; an agent's own
   * wins, even when it is longer. */
  fj_agent_runner_set_agent_timeout (runner, 0.4);
  fj_agent_runner_set_deadline (runner, 20);
  fj_agent_set_timeout (agents_get (agents, 1), 1.2);

  results = run_agents (runner, agents, NULL);

  r = result_at (results, 0);
  g_assert_cmpint (fj_agent_result_get_status (r), ==, FJ_AGENT_STATUS_TIMED_OUT);
  /* The agent measures from its own start, a moment after the runner's:
   * 0.4 s, or a hair less on a loaded machine. */
  g_assert_true (g_str_has_prefix (fj_agent_result_get_error_message (r),
                                   "default: timed out after 0.4 s") ||
                 g_str_has_prefix (fj_agent_result_get_error_message (r),
                                   "default: timed out after 0.39"));
  g_assert_null (strstr (fj_agent_result_get_error_message (r), "deadline"));
  g_assert_cmpfloat (fj_agent_result_get_duration (r), >=, 0.35);
  g_assert_cmpfloat (fj_agent_result_get_duration (r), <, 1.1 * fj_test_time_scale ());

  r = result_at (results, 1);
  g_assert_cmpint (fj_agent_result_get_status (r), ==, FJ_AGENT_STATUS_TIMED_OUT);
  g_assert_true (g_str_has_prefix (fj_agent_result_get_error_message (r),
                                   "own: timed out after 1.2 s"));
  g_assert_null (strstr (fj_agent_result_get_error_message (r), "deadline"));
  g_assert_cmpfloat (fj_agent_result_get_duration (r), >=, 1.15);
  g_assert_cmpfloat (fj_agent_result_get_duration (r), <, 4.0 * fj_test_time_scale ());

  r = result_at (results, 2);
  g_assert_cmpint (fj_agent_result_get_status (r), ==, FJ_AGENT_STATUS_SUCCESS);

  assert_counts (runner, 1, 2, 0, 0);
}

static gboolean
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static void
test_runner_cancel (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 6, \"latency\": 10, \"output_tokens\": 10,"
                           " \"agents\": [{\"name\": \"quick\", \"match\": \"quick analyst\","
                           "               \"latency\": 0.05}]}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(GListStore) agents = agents_new ("quick", "slow", "slower", "queued", NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GTimer) timer = g_timer_new ();
  gboolean all_closed = FALSE;
  FjAgentResult *r;

  fj_agent_runner_set_max_concurrent (runner, 3);
  g_timeout_add (600, cancel_cb, cancellable);

  results = run_agents (runner, agents, cancellable);
  g_assert_cmpfloat (g_timer_elapsed (timer, NULL), <, 3.0 * fj_test_time_scale ());

  /* Finished before the cancel: kept as it was. */
  r = result_at (results, 0);
  g_assert_cmpint (fj_agent_result_get_status (r), ==, FJ_AGENT_STATUS_SUCCESS);
  g_assert_nonnull (fj_agent_result_get_output (r));

  for (guint i = 1; i < 3; i++)
    {
      r = result_at (results, i);
      g_assert_cmpint (fj_agent_result_get_status (r), ==, FJ_AGENT_STATUS_CANCELLED);
      g_assert_error ((GError *) fj_agent_result_get_error (r), G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpstr (fj_agent_result_get_error_code (r), ==, "cancelled");
    }

  /* "queued" started when "quick" freed its place. */
  r = result_at (results, 3);
  g_assert_cmpint (fj_agent_result_get_status (r), ==, FJ_AGENT_STATUS_CANCELLED);

  assert_counts (runner, 1, 0, 3, 0);

  /* The simulator sees the three connections close. */
  for (guint i = 0; i < 100 && !all_closed; i++)
    {
      all_closed = fj_simulator_get_n_disconnects (sim) >= 3 && fj_simulator_get_n_in_flight (sim) == 0;
      if (!all_closed)
        fj_test_run_for (0.05);
    }
  g_assert_true (all_closed);
}

static void
test_runner_cancel_queued (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 7, \"latency\": 10, \"output_tokens\": 10}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(GListStore) agents = agents_new ("running", "queued", "also-queued", NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GTimer) timer = g_timer_new ();

  fj_agent_runner_set_max_concurrent (runner, 1);
  g_timeout_add (300, cancel_cb, cancellable);

  results = run_agents (runner, agents, cancellable);
  g_assert_cmpfloat (g_timer_elapsed (timer, NULL), <, 3.0 * fj_test_time_scale ());

  g_assert_cmpint (fj_agent_result_get_status (result_at (results, 0)), ==, FJ_AGENT_STATUS_CANCELLED);
  for (guint i = 1; i < 3; i++)
    {
      FjAgentResult *r = result_at (results, i);

      g_assert_cmpint (fj_agent_result_get_status (r), ==, FJ_AGENT_STATUS_SKIPPED);
      g_assert_error ((GError *) fj_agent_result_get_error (r), G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_nonnull (strstr (fj_agent_result_get_error_message (r), "cancelled before it started"));
    }
  assert_counts (runner, 0, 0, 1, 2);
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), <=, 1);

  /* Cancelled before it starts: nothing is sent, everything is skipped. */
  {
    g_autoptr(GPtrArray) again = run_agents (runner, agents, cancellable);

    for (guint i = 0; i < 3; i++)
      g_assert_cmpint (fj_agent_result_get_status (result_at (again, i)), ==, FJ_AGENT_STATUS_SKIPPED);
    assert_counts (runner, 0, 0, 0, 3);
    g_assert_cmpuint (fj_simulator_get_n_requests (sim), <=, 1);
  }
}

static void
test_runner_stop_satisfied (gconstpointer data)
{
  FjPolicyLosers losers = GPOINTER_TO_INT (data);
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 8, \"latency\": 0.1, \"output_tokens\": 10,"
                           " \"agents\": ["
                           "   {\"name\": \"second\", \"match\": \"second analyst\", \"latency\": 0.3},"
                           "   {\"name\": \"loser\", \"match\": \"loser analyst\", \"latency\": 2.5},"
                           "   {\"name\": \"late\", \"match\": \"late analyst\", \"latency\": 2.5}"
                           " ]}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(GListStore) agents = agents_new ("first", "second", "loser", "late", NULL);
  g_autoptr(TestPolicy) policy = g_object_new (TEST_TYPE_POLICY, NULL);
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GTimer) timer = g_timer_new ();
  FjAgentResult *loser;
  FjAgentResult *late;

  policy->stop_on_quorum = TRUE;
  policy->losers = losers;
  fj_agent_runner_add_policy (runner, FJ_POLICY (policy));
  g_assert_cmpuint (g_list_model_get_n_items (fj_agent_runner_get_policies (runner)), ==, 1);
  fj_agent_runner_set_min_successes (runner, 2);
  fj_agent_runner_set_max_concurrent (runner, 3);

  results = run_agents (runner, agents, NULL);

  g_assert_cmpint (fj_agent_result_get_status (result_at (results, 0)), ==, FJ_AGENT_STATUS_SUCCESS);
  g_assert_cmpint (fj_agent_result_get_status (result_at (results, 1)), ==, FJ_AGENT_STATUS_SUCCESS);
  g_assert_cmpuint (fj_run_state_get_min_successes (fj_agent_runner_get_state (runner)), ==, 2);

  /* "late" took the place "first" freed, and was running when the
   * quorum was met. */
  loser = result_at (results, 2);
  late = result_at (results, 3);
  if (losers == FJ_POLICY_LOSERS_CANCEL)
    {
      g_assert_cmpfloat (g_timer_elapsed (timer, NULL), <, 2.0 * fj_test_time_scale ());
      g_assert_cmpint (fj_agent_result_get_status (loser), ==, FJ_AGENT_STATUS_CANCELLED);
      g_assert_error ((GError *) fj_agent_result_get_error (loser), G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpint (fj_agent_result_get_status (late), ==, FJ_AGENT_STATUS_CANCELLED);
      assert_counts (runner, 2, 0, 2, 0);
    }
  else
    {
      g_assert_cmpfloat (g_timer_elapsed (timer, NULL), >=, 2.4);
      g_assert_cmpint (fj_agent_result_get_status (loser), ==, FJ_AGENT_STATUS_SUCCESS);
      g_assert_cmpint (fj_agent_result_get_status (late), ==, FJ_AGENT_STATUS_SUCCESS);
      assert_counts (runner, 4, 0, 0, 0);
    }

  /* Every result was reported to the policy. */
  g_assert_cmpuint (policy->n_admit, ==, 4);
  g_assert_cmpuint (policy->n_settled, ==, 4);
}

static void
test_runner_stop_satisfied_skips (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 9, \"latency\": 0.1, \"output_tokens\": 10,"
                           " \"agents\": ["
                           "   {\"name\": \"loser\", \"match\": \"loser analyst\", \"latency\": 10}"
                           " ]}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(GListStore) agents = agents_new ("loser", "first", "queued", "also-queued", NULL);
  g_autoptr(TestPolicy) policy = g_object_new (TEST_TYPE_POLICY, NULL);
  g_autoptr(GPtrArray) results = NULL;

  /* First-1 with two places: "first" wins, "loser" is cancelled and the
   * queue is skipped. */
  policy->stop_on_quorum = TRUE;
  policy->losers = FJ_POLICY_LOSERS_CANCEL;
  fj_agent_runner_add_policy (runner, FJ_POLICY (policy));
  fj_agent_runner_set_max_concurrent (runner, 2);

  results = run_agents (runner, agents, NULL);

  g_assert_cmpint (fj_agent_result_get_status (result_at (results, 0)), ==, FJ_AGENT_STATUS_CANCELLED);
  g_assert_cmpint (fj_agent_result_get_status (result_at (results, 1)), ==, FJ_AGENT_STATUS_SUCCESS);
  for (guint i = 2; i < 4; i++)
    {
      FjAgentResult *r = result_at (results, i);

      g_assert_cmpint (fj_agent_result_get_status (r), ==, FJ_AGENT_STATUS_SKIPPED);
      g_assert_nonnull (strstr (fj_agent_result_get_error_message (r), "stopped early"));
    }
  assert_counts (runner, 1, 0, 1, 2);
  g_assert_cmpuint (policy->n_admit, ==, 2);
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, 2);
}

static void
test_runner_stop_failed (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 10, \"latency\": 10, \"output_tokens\": 10,"
                           " \"agents\": ["
                           "   {\"name\": \"broken\", \"match\": \"broken analyst\", \"latency\": 0.1,"
                           "    \"failures\": [{\"status\": 400, \"should_retry\": false}]}"
                           " ]}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(GListStore) agents = agents_new ("broken", "running", "queued", NULL);
  g_autoptr(TestPolicy) policy = g_object_new (TEST_TYPE_POLICY, NULL);
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GTimer) timer = g_timer_new ();
  FjAgentResult *r;

  policy->fail_after = 1;
  /* Told to let losers finish: a failed stop cancels them anyway. */
  policy->losers = FJ_POLICY_LOSERS_FINISH;
  fj_agent_runner_add_policy (runner, FJ_POLICY (policy));
  fj_agent_runner_set_max_concurrent (runner, 2);

  results = run_agents (runner, agents, NULL);
  g_assert_cmpfloat (g_timer_elapsed (timer, NULL), <, 3.0 * fj_test_time_scale ());

  r = result_at (results, 0);
  g_assert_cmpint (fj_agent_result_get_status (r), ==, FJ_AGENT_STATUS_FAILED);
  g_assert_error ((GError *) fj_agent_result_get_error (r), FJ_ERROR, FJ_ERROR_INVALID_REQUEST);

  r = result_at (results, 1);
  g_assert_cmpint (fj_agent_result_get_status (r), ==, FJ_AGENT_STATUS_CANCELLED);

  r = result_at (results, 2);
  g_assert_cmpint (fj_agent_result_get_status (r), ==, FJ_AGENT_STATUS_SKIPPED);
  g_assert_nonnull (strstr (fj_agent_result_get_error_message (r), "could no longer succeed"));
  g_assert_nonnull (strstr (fj_agent_result_get_error_message (r), "TestPolicy"));

  assert_counts (runner, 0, 1, 1, 1);
}

static void
test_runner_admit (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 11, \"latency\": 0.1, \"output_tokens\": 10}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(GListStore) agents = agents_new ("one", "refused", "held", "four", NULL);
  g_autoptr(TestPolicy) policy = g_object_new (TEST_TYPE_POLICY, NULL);
  g_autoptr(TestPolicy) second = g_object_new (TEST_TYPE_POLICY, NULL);
  g_autoptr(GPtrArray) results = NULL;
  FjAgentResult *r;

  policy->refuse = g_strdup ("refused");
  fj_agent_runner_add_policy (runner, FJ_POLICY (policy));
  fj_agent_runner_add_policy (runner, FJ_POLICY (second));
  fj_agent_runner_remove_policy (runner, FJ_POLICY (second));
  g_assert_cmpuint (g_list_model_get_n_items (fj_agent_runner_get_policies (runner)), ==, 1);
  fj_agent_runner_add_policy (runner, FJ_POLICY (second));

  results = run_agents (runner, agents, NULL);

  g_assert_cmpint (fj_agent_result_get_status (result_at (results, 0)), ==, FJ_AGENT_STATUS_SUCCESS);
  r = result_at (results, 1);
  g_assert_cmpint (fj_agent_result_get_status (r), ==, FJ_AGENT_STATUS_SKIPPED);
  g_assert_error ((GError *) fj_agent_result_get_error (r), FJ_ERROR, FJ_ERROR_BUDGET);
  g_assert_cmpstr (fj_agent_result_get_error_message (r), ==, "refused: the budget is spent");
  g_assert_cmpstr (fj_agent_result_get_error_code (r), ==, "budget");
  g_assert_cmpint (fj_agent_result_get_status (result_at (results, 2)), ==, FJ_AGENT_STATUS_SUCCESS);
  g_assert_cmpint (fj_agent_result_get_status (result_at (results, 3)), ==, FJ_AGENT_STATUS_SUCCESS);
  assert_counts (runner, 3, 0, 0, 1);
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, 3);

  /* The second policy was not asked about the refused agent, and both
   * heard of every result. */
  g_assert_cmpuint (policy->n_admit, ==, 4);
  g_assert_cmpuint (second->n_admit, ==, 3);
  g_assert_cmpuint (policy->n_settled, ==, 4);
  g_assert_cmpuint (second->n_settled, ==, 4);
  g_assert_nonnull (strstr (policy->log->str, "admit one;admit refused;settled refused;admit held;"));
}

static void
test_runner_admit_hold (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 12, \"latency\": 0.2, \"output_tokens\": 10}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(GListStore) agents = agents_new ("one", "held", "three", NULL);
  g_autoptr(TestPolicy) policy = g_object_new (TEST_TYPE_POLICY, NULL);
  g_autoptr(GPtrArray) results = NULL;
  FjAgentResult *r;

  /* Held while "one" runs, asked again when it settles, then skipped as
   * nothing runs any more; "three" waits behind it, then runs. */
  policy->hold = g_strdup ("held");
  fj_agent_runner_add_policy (runner, FJ_POLICY (policy));

  results = run_agents (runner, agents, NULL);

  g_assert_cmpint (fj_agent_result_get_status (result_at (results, 0)), ==, FJ_AGENT_STATUS_SUCCESS);
  r = result_at (results, 1);
  g_assert_cmpint (fj_agent_result_get_status (r), ==, FJ_AGENT_STATUS_SKIPPED);
  g_assert_nonnull (strstr (fj_agent_result_get_error_message (r), "did not admit it"));
  g_assert_cmpint (fj_agent_result_get_status (result_at (results, 2)), ==, FJ_AGENT_STATUS_SUCCESS);
  g_assert_cmpstr (policy->log->str, ==,
                   "admit one;admit held;settled one;admit held;settled held;admit three;settled three;");
}

typedef struct
{
  guint n_status;
  guint n_output;
  gboolean pending_at_insert;
} ItemWatch;

static void
item_status_cb (FjAgentResult *result,
                GParamSpec    *pspec,
                ItemWatch     *watch)
{
  watch->n_status++;
}

static void
item_output_cb (FjAgentResult *result,
                GParamSpec    *pspec,
                ItemWatch     *watch)
{
  watch->n_output++;
}

static void
results_changed_cb (GListModel *model,
                    guint       position,
                    guint       removed,
                    guint       added,
                    ItemWatch  *watches)
{
  g_assert_cmpuint (position, ==, 0);

  for (guint i = 0; i < added; i++)
    {
      g_autoptr(FjAgentResult) item = g_list_model_get_item (model, i);

      watches[i].pending_at_insert = fj_agent_result_get_status (item) == FJ_AGENT_STATUS_PENDING;
      g_signal_connect (item, "notify::status", G_CALLBACK (item_status_cb), &watches[i]);
      g_signal_connect (item, "notify::output", G_CALLBACK (item_output_cb), &watches[i]);
    }
}

typedef struct
{
  FjAgentRunner *runner;
  guint n_notify;
  gboolean bad_sum;
} CounterWatch;

static void
counter_notify_cb (GObject      *object,
                   GParamSpec   *pspec,
                   CounterWatch *watch)
{
  watch->n_notify++;
  if (count_sum (watch->runner) != 4)
    watch->bad_sum = TRUE;
}

static void
test_runner_signals (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 13, \"latency\": 0.05, \"output_tokens\": 20,"
                           " \"tokens_per_second\": 200}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(GListStore) agents = agents_new ("alpha", "beta", "gamma", "delta", NULL);
  g_autoptr(GPtrArray) results = NULL;
  GListModel *model = fj_agent_runner_get_results (runner);
  ItemWatch watches[4] = { { 0, }, };
  CounterWatch counters = { runner, 0, FALSE };
  static const char *names[] = { "alpha", "beta", "gamma", "delta" };
  Recorder rec;

  fj_agent_runner_set_max_concurrent (runner, 2);
  recorder_init (&rec, runner, 4);
  g_signal_connect (model, "items-changed", G_CALLBACK (results_changed_cb), watches);
  g_signal_connect (runner, "notify::n-pending", G_CALLBACK (counter_notify_cb), &counters);
  g_signal_connect (runner, "notify::n-running", G_CALLBACK (counter_notify_cb), &counters);
  g_signal_connect (runner, "notify::n-succeeded", G_CALLBACK (counter_notify_cb), &counters);

  results = run_agents (runner, agents, NULL);
  assert_counts (runner, 4, 0, 0, 0);

  g_assert_true (rec.model_full_at_start);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 4);
  g_assert_cmpuint (counters.n_notify, >, 0);
  g_assert_false (counters.bad_sum);

  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *seq = recorder_sequence (&rec, names[i]);

      g_assert_cmpstr (seq, ==, "started,first-token,delta,finished");
      g_assert_true (watches[i].pending_at_insert);
      /* running, then success */
      g_assert_cmpuint (watches[i].n_status, ==, 2);
      /* The output grew as it streamed. */
      g_assert_cmpuint (watches[i].n_output, >, 1);
    }

  for (guint i = 0; i < 4; i++)
    g_signal_handlers_disconnect_by_data (g_ptr_array_index (results, i), &watches[i]);
  g_signal_handlers_disconnect_by_data (model, watches);
  g_signal_handlers_disconnect_by_data (runner, &counters);
  recorder_clear (&rec);
}

static void
test_runner_retrying (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 14, \"latency\": 0.05, \"output_tokens\": 10,"
                           " \"agents\": ["
                           "   {\"name\": \"limited\", \"match\": \"limited analyst\","
                           "    \"failures\": [{\"status\": 429, \"attempts\": 1, \"retry_after_ms\": 100}]},"
                           "   {\"name\": \"overloaded\", \"match\": \"overloaded analyst\","
                           "    \"failures\": [{\"status\": 529, \"attempts\": 1, \"retry_after_ms\": 100}]}"
                           " ]}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(GListStore) agents = agents_new ("limited", "overloaded", NULL);
  g_autoptr(GPtrArray) results = NULL;
  Recorder rec;

  /* One after the other, so the order of the retries is known. */
  fj_agent_runner_set_max_concurrent (runner, 1);
  recorder_init (&rec, runner, 2);

  results = run_agents (runner, agents, NULL);
  assert_counts (runner, 2, 0, 0, 0);
  g_assert_cmpuint (fj_agent_result_get_attempts (result_at (results, 0)), ==, 2);
  g_assert_cmpuint (fj_agent_result_get_attempts (result_at (results, 1)), ==, 2);

  g_assert_cmpstr (rec.retries->str, ==, "limited:2:429;overloaded:2:529;");
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *seq = recorder_sequence (&rec, i == 0 ? "limited" : "overloaded");

      g_assert_cmpstr (seq, ==, "started,first-token,delta,finished");
    }

  recorder_clear (&rec);
}

static void
test_runner_rerun (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 15, \"latency\": 0.1, \"output_tokens\": 10}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(GListStore) three = agents_new ("a", "b", "c", NULL);
  g_autoptr(GListStore) two = agents_new ("d", "e", NULL);
  g_autoptr(GListStore) empty = g_list_store_new (FJ_TYPE_AGENT);
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) second = NULL;
  g_autoptr(GAsyncResult) busy = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) none = NULL;
  FjRunState *first_state;
  GListModel *model = fj_agent_runner_get_results (runner);

  g_assert_null (fj_agent_runner_get_state (runner));
  g_assert_cmpuint (count_sum (runner), ==, 0);

  first = run_agents (runner, three, NULL);
  assert_counts (runner, 3, 0, 0, 0);
  first_state = fj_agent_runner_get_state (runner);
  g_object_add_weak_pointer (G_OBJECT (first_state), (gpointer *) &first_state);

  /* Running while running is an error; the first run goes on. */
  fj_agent_runner_run_async (runner, G_LIST_MODEL (two), "Again", NULL,
                             fj_test_async_result_cb, &result);
  fj_agent_runner_run_async (runner, G_LIST_MODEL (three), "Meanwhile", NULL,
                             fj_test_async_result_cb, &busy);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 2);
  g_assert_cmpuint (fj_agent_runner_get_n_pending (runner) + fj_agent_runner_get_n_running (runner), ==, 2);
  fj_test_wait_result (&busy, 10);
  none = fj_agent_runner_run_finish (runner, busy, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PENDING);
  g_assert_null (none);
  g_clear_error (&error);

  fj_test_wait_result (&result, 30);
  second = fj_agent_runner_run_finish (runner, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (second->len, ==, 2);
  assert_counts (runner, 2, 0, 0, 0);
  g_assert_cmpstr (fj_agent_result_get_agent_name (result_at (second, 1)), ==, "e");

  /* The first run's results are untouched; the model holds the second's. */
  g_assert_cmpuint (first->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpint (fj_agent_result_get_status (result_at (first, i)), ==, FJ_AGENT_STATUS_SUCCESS);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 2);
  {
    g_autoptr(FjAgentResult) item = g_list_model_get_item (model, 0);

    g_assert_true (item == result_at (second, 0));
  }
  g_assert_null (first_state);

  /* Misuse: no agents, no client. */
  g_clear_object (&result);
  fj_agent_runner_run_async (runner, G_LIST_MODEL (empty), "Nothing", NULL,
                             fj_test_async_result_cb, &result);
  fj_test_wait_result (&result, 10);
  g_assert_null (fj_agent_runner_run_finish (runner, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  fj_agent_runner_set_client (runner, NULL);
  fj_agent_set_client (agents_get (two, 0), client);
  g_clear_object (&result);
  fj_agent_runner_run_async (runner, G_LIST_MODEL (two), "No client", NULL,
                             fj_test_async_result_cb, &result);
  fj_test_wait_result (&result, 10);
  g_assert_null (fj_agent_runner_run_finish (runner, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "e: no client"));
  g_clear_error (&error);
  g_assert_false (fj_agent_runner_get_running (runner));

  /* With every agent's own client it runs. */
  fj_agent_set_client (agents_get (two, 1), client);
  {
    g_autoptr(GPtrArray) third = run_agents (runner, two, NULL);

    g_assert_cmpuint (third->len, ==, 2);
    assert_counts (runner, 2, 0, 0, 0);
  }
}

typedef struct
{
  FjAgentRunner *runner;
  GListStore *agents;
  GPtrArray *results;
  GThread *thread;
  GThread *signal_thread;
  gboolean done;
} SyncRun;

static void
sync_finished_cb (FjAgentRunner *runner,
                  FjAgentResult *result,
                  SyncRun       *run)
{
  run->signal_thread = g_thread_self ();
}

static gpointer
run_sync_thread (gpointer user_data)
{
  SyncRun *run = user_data;
  g_autoptr(GError) error = NULL;

  run->thread = g_thread_self ();
  run->results = fj_agent_runner_run_sync (run->runner, G_LIST_MODEL (run->agents), "Hello",
                                           NULL, &error);
  g_assert_no_error (error);
  g_atomic_int_set (&run->done, TRUE);
  g_main_context_wakeup (NULL);

  return NULL;
}

static void
test_runner_sync (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 16, \"latency\": 0.1, \"output_tokens\": 10}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(GListStore) agents = agents_new ("one", "two", NULL);
  SyncRun run = { runner, agents, NULL, NULL, NULL, FALSE };
  GThread *thread;

  g_signal_connect (runner, "agent-finished", G_CALLBACK (sync_finished_cb), &run);

  /* From another thread, so the simulator on the main context answers. */
  thread = g_thread_new ("run-sync", run_sync_thread, &run);
  while (!g_atomic_int_get (&run.done))
    g_main_context_iteration (NULL, TRUE);
  g_thread_join (thread);

  g_assert_cmpuint (run.results->len, ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      g_assert_no_error ((GError *) fj_agent_result_get_error (result_at (run.results, i)));
      g_assert_cmpint (fj_agent_result_get_status (result_at (run.results, i)), ==, FJ_AGENT_STATUS_SUCCESS);
    }
  assert_counts (runner, 2, 0, 0, 0);
  g_assert_true (run.signal_thread == run.thread);
  g_assert_false (fj_agent_runner_get_running (runner));

  g_signal_handlers_disconnect_by_data (runner, &run);
  g_ptr_array_unref (run.results);
}

static void
test_runner_tools_one (guint max_threads)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 17, \"latency\": 0.05, \"output_tokens\": 10,"
                           " \"tool_use\": {\"name\": \"clock\", \"input\": {}, \"turns\": 1}}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(GListStore) agents = agents_new ("a", "b", "c", "d", NULL);
  g_autoptr(TestThreadTool) tool = g_object_new (TEST_TYPE_THREAD_TOOL, NULL);
  g_autoptr(GPtrArray) results = NULL;

  for (guint i = 0; i < 4; i++)
    fj_agent_add_tool (agents_get (agents, i), FJ_TOOL (tool));

  g_assert_cmpuint (fj_agent_runner_get_max_tool_threads (runner), >=, 1);
  fj_agent_runner_set_max_tool_threads (runner, max_threads);

  results = run_agents (runner, agents, NULL);
  for (guint i = 0; i < 4; i++)
    {
      g_assert_cmpint (fj_agent_result_get_status (result_at (results, i)), ==, FJ_AGENT_STATUS_SUCCESS);
      g_assert_cmpuint (fj_agent_result_get_turns (result_at (results, i)), ==, 2);
    }

  g_assert_cmpuint (tool->n_calls, ==, 4);
  g_assert_cmpuint (tool->threads->len, ==, 4);
  for (guint i = 0; i < tool->threads->len; i++)
    g_assert_true (g_ptr_array_index (tool->threads, i) != g_thread_self ());
  g_assert_cmpuint (tool->max_now, <=, max_threads);
  g_assert_cmpuint (tool->max_now, >=, 1);
}

static void
test_runner_tools (void)
{
  test_runner_tools_one (1);
  test_runner_tools_one (2);
}

int
main (int   argc,
      char *argv[])
{
  fj_test_init (&argc, &argv);

  g_test_add_func ("/Forkjoin/Runner/parallel", test_runner_parallel);
  g_test_add_func ("/Forkjoin/Runner/mixed", test_runner_mixed);
  g_test_add_func ("/Forkjoin/Runner/cap", test_runner_cap);
  g_test_add_func ("/Forkjoin/Runner/deadline", test_runner_deadline);
  g_test_add_func ("/Forkjoin/Runner/agent-timeout", test_runner_agent_timeout);
  g_test_add_func ("/Forkjoin/Runner/cancel", test_runner_cancel);
  g_test_add_func ("/Forkjoin/Runner/cancel-queued", test_runner_cancel_queued);
  g_test_add_data_func ("/Forkjoin/Runner/stop-satisfied/cancel",
                        GINT_TO_POINTER (FJ_POLICY_LOSERS_CANCEL), test_runner_stop_satisfied);
  g_test_add_data_func ("/Forkjoin/Runner/stop-satisfied/finish",
                        GINT_TO_POINTER (FJ_POLICY_LOSERS_FINISH), test_runner_stop_satisfied);
  g_test_add_func ("/Forkjoin/Runner/stop-satisfied/skips", test_runner_stop_satisfied_skips);
  g_test_add_func ("/Forkjoin/Runner/stop-failed", test_runner_stop_failed);
  g_test_add_func ("/Forkjoin/Runner/admit", test_runner_admit);
  g_test_add_func ("/Forkjoin/Runner/admit-hold", test_runner_admit_hold);
  g_test_add_func ("/Forkjoin/Runner/signals", test_runner_signals);
  g_test_add_func ("/Forkjoin/Runner/retrying", test_runner_retrying);
  g_test_add_func ("/Forkjoin/Runner/rerun", test_runner_rerun);
  g_test_add_func ("/Forkjoin/Runner/sync", test_runner_sync);
  g_test_add_func ("/Forkjoin/Runner/tools", test_runner_tools);

  return g_test_run ();
}
