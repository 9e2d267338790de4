/* test-fork-join.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-test-utils.h"

/* A synthesizer that concatenates the successful outputs and lists the
 * failed agents; "fail" makes it fail, "main-thread" runs it on the
 * caller's context. */
#define TEST_TYPE_SYNTH (test_synth_get_type ())
G_DECLARE_FINAL_TYPE (TestSynth, test_synth, TEST, SYNTH, GObject)

struct _TestSynth
{
  GObject parent_instance;
  gboolean main_thread;
  gboolean fail;
  guint n_calls;
  GThread *thread;
};

enum { SYNTH_PROP_0, SYNTH_PROP_MAIN_THREAD };

static void test_synth_iface_init (FjSynthesizerInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TestSynth, test_synth, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (FJ_TYPE_SYNTHESIZER, test_synth_iface_init))

static char *
test_synth_synthesize (FjSynthesizer  *synthesizer,
                       const char     *input,
                       GPtrArray      *results,
                       GCancellable   *cancellable,
                       GError        **error)
{
  TestSynth *self = TEST_SYNTH (synthesizer);
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GString) failed = g_string_new (NULL);

  g_atomic_int_inc (&self->n_calls);
  self->thread = g_thread_self ();

  if (self->fail)
    {
      g_set_error (error, FJ_ERROR, FJ_ERROR_PLUGIN, "test synthesizer failed on purpose");
      return NULL;
    }

  g_string_append_printf (out, "# %s\n", input);
  for (guint i = 0; i < results->len; i++)
    {
      FjAgentResult *result = g_ptr_array_index (results, i);

      if (fj_agent_result_get_status (result) == FJ_AGENT_STATUS_SUCCESS)
        g_string_append_printf (out, "## %s\n%s\n", fj_agent_result_get_agent_name (result),
                                fj_agent_result_get_output (result));
      else
        g_string_append_printf (failed, "- %s (%s)\n", fj_agent_result_get_agent_name (result),
                                fj_agent_result_get_error_code (result));
    }
  if (failed->len > 0)
    g_string_append_printf (out, "Missing:\n%s", failed->str);

  return g_strdup (out->str);
}

static void
test_synth_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  g_value_set_boolean (value, TEST_SYNTH (object)->main_thread);
}

static void
test_synth_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  TEST_SYNTH (object)->main_thread = g_value_get_boolean (value);
}

static void
test_synth_class_init (TestSynthClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = test_synth_get_property;
  object_class->set_property = test_synth_set_property;
  g_object_class_install_property (object_class, SYNTH_PROP_MAIN_THREAD,
                                   g_param_spec_boolean ("main-thread", NULL, NULL, FALSE,
                                                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
}

static void
test_synth_iface_init (FjSynthesizerInterface *iface)
{
  iface->synthesize = test_synth_synthesize;
}

static void
test_synth_init (TestSynth *self)
{
}

/* A synthesizer that implements nothing. */
#define TEST_TYPE_EMPTY_SYNTH (test_empty_synth_get_type ())
G_DECLARE_FINAL_TYPE (TestEmptySynth, test_empty_synth, TEST, EMPTY_SYNTH, GObject)
struct _TestEmptySynth { GObject parent_instance; };
static void test_empty_synth_iface_init (FjSynthesizerInterface *iface) { }
G_DEFINE_FINAL_TYPE_WITH_CODE (TestEmptySynth, test_empty_synth, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (FJ_TYPE_SYNTHESIZER, test_empty_synth_iface_init))
static void test_empty_synth_class_init (TestEmptySynthClass *klass) { }
static void test_empty_synth_init (TestEmptySynth *self) { }

/* A policy that stops the run satisfied after the first success,
 * cancelling the others. */
#define TEST_TYPE_FIRST_POLICY (test_first_policy_get_type ())
G_DECLARE_FINAL_TYPE (TestFirstPolicy, test_first_policy, TEST, FIRST_POLICY, GObject)
struct _TestFirstPolicy { GObject parent_instance; };

static FjPolicyDecision
test_first_policy_settled (FjPolicy      *policy,
                           FjRunState    *state,
                           FjAgentResult *result)
{
  if (fj_run_state_get_n_succeeded (state) >= 1)
    return FJ_POLICY_DECISION_STOP_SATISFIED;
  return FJ_POLICY_DECISION_CONTINUE;
}

static FjPolicyLosers
test_first_policy_get_losers (FjPolicy *policy)
{
  return FJ_POLICY_LOSERS_CANCEL;
}

static void
test_first_policy_iface_init (FjPolicyInterface *iface)
{
  iface->settled = test_first_policy_settled;
  iface->get_losers = test_first_policy_get_losers;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestFirstPolicy, test_first_policy, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (FJ_TYPE_POLICY, test_first_policy_iface_init))
static void test_first_policy_class_init (TestFirstPolicyClass *klass) { }
static void test_first_policy_init (TestFirstPolicy *self) { }

/* Helpers */

static GListStore *
analysts_new (void)
{
  const char *names[] = { "financial", "technical", "market" };
  GListStore *store = g_list_store_new (FJ_TYPE_AGENT);

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *name = g_strdup_printf ("%s-analyst", names[i]);
      g_autofree char *instructions = g_strdup_printf ("You are the %s analyst.", names[i]);
      g_autoptr(FjAgent) agent = fj_agent_new (name);

      fj_agent_set_instructions (agent, instructions);
      g_list_store_append (store, agent);
    }

  return store;
}

typedef struct
{
  guint n_started;
  guint n_finished;
} Signals;

static void
synthesis_started_cb (FjForkJoinTask *task,
                      Signals        *signals)
{
  signals->n_started++;
}

static void
synthesis_finished_cb (FjForkJoinTask *task,
                       Signals        *signals)
{
  signals->n_finished++;
}

static FjForkJoinResult *
run_task (FjForkJoinTask *task,
          GListModel     *agents,
          Signals        *signals)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  FjForkJoinResult *ret;

  if (signals != NULL)
    {
      g_signal_connect (task, "synthesis-started", G_CALLBACK (synthesis_started_cb), signals);
      g_signal_connect (task, "synthesis-finished", G_CALLBACK (synthesis_finished_cb), signals);
    }

  fj_fork_join_task_run_async (task, agents, "Analyze Q3 performance for ACME Corp", NULL,
                               fj_test_async_result_cb, &result);
  fj_test_wait_result (&result, 60);
  ret = fj_fork_join_task_run_finish (task, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ret);

  if (signals != NULL)
    g_signal_handlers_disconnect_by_data (task, signals);

  return ret;
}

static FjAgentResult *
result_at (FjForkJoinResult *result,
           guint             index)
{
  return g_ptr_array_index (fj_fork_join_result_get_results (result), index);
}

static const char *degraded_scenario =
  "{\"seed\": 3, \"latency\": 0.02, \"output_tokens\": 10,"
  " \"agents\": [{\"match\": \"technical analyst\", \"failures\": [{\"status\": 500}]}]}";

/* Tests */

static void
test_fork_join_complete (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"seed\": 1, \"latency\": 0.02, \"output_tokens\": 10}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(TestSynth) synth = g_object_new (TEST_TYPE_SYNTH, NULL);
  g_autoptr(FjForkJoinTask) task = fj_fork_join_task_new (runner, FJ_SYNTHESIZER (synth));
  g_autoptr(GListStore) agents = analysts_new ();
  g_autoptr(FjForkJoinResult) result = NULL;
  Signals signals = { 0 };
  const char *output;
  FjUsage *usage;

  result = run_task (task, G_LIST_MODEL (agents), &signals);

  g_assert_cmpint (fj_fork_join_result_get_status (result), ==, FJ_FORK_JOIN_STATUS_COMPLETE);
  g_assert_null (fj_fork_join_result_get_error (result));
  g_assert_cmpstr (fj_fork_join_result_get_input (result), ==, "Analyze Q3 performance for ACME Corp");
  g_assert_cmpuint (fj_fork_join_result_get_results (result)->len, ==, 3);
  g_assert_cmpstr (fj_agent_result_get_agent_name (result_at (result, 1)), ==, "technical-analyst");
  g_assert_cmpuint (synth->n_calls, ==, 1);
  g_assert_cmpuint (signals.n_started, ==, 1);
  g_assert_cmpuint (signals.n_finished, ==, 1);
  g_assert_true (synth->thread != g_thread_self ());

  output = fj_fork_join_result_get_output (result);
  g_assert_nonnull (output);
  g_assert_nonnull (strstr (output, "## financial-analyst\n"));
  g_assert_nonnull (strstr (output, "## market-analyst\n"));
  g_assert_nonnull (strstr (output, fj_agent_result_get_output (result_at (result, 2))));
  g_assert_null (strstr (output, "Missing"));
  g_assert_null (fj_fork_join_result_get_synthesis_result (result));

  usage = fj_fork_join_result_get_usage (result);
  g_assert_cmpint (usage->output_tokens, ==, 30);
  g_assert_cmpint (usage->input_tokens, >, 0);
  g_assert_cmpfloat (fj_fork_join_result_get_wall_time (result), >, 0.0);
  g_assert_cmpfloat (fj_fork_join_result_get_cost (result), <, 0.0);
}

static void
test_fork_join_degraded (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (degraded_scenario);
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(TestSynth) synth = g_object_new (TEST_TYPE_SYNTH, NULL);
  g_autoptr(FjForkJoinTask) task = fj_fork_join_task_new (NULL, FJ_SYNTHESIZER (synth));
  g_autoptr(GListStore) agents = analysts_new ();
  g_autoptr(FjForkJoinResult) result = NULL;
  const char *output;

  /* The default runner has no client: the caller sets it. */
  g_assert_null (fj_agent_runner_get_client (fj_fork_join_task_get_runner (task)));
  fj_agent_runner_set_client (fj_fork_join_task_get_runner (task), client);
  fj_client_set_max_retries (client, 0);

  result = run_task (task, G_LIST_MODEL (agents), NULL);

  g_assert_cmpint (fj_fork_join_result_get_status (result), ==, FJ_FORK_JOIN_STATUS_DEGRADED);
  g_assert_null (fj_fork_join_result_get_error (result));
  g_assert_cmpint (fj_agent_result_get_status (result_at (result, 1)), ==, FJ_AGENT_STATUS_FAILED);
  g_assert_cmpuint (synth->n_calls, ==, 1);

  output = fj_fork_join_result_get_output (result);
  g_assert_nonnull (strstr (output, "## financial-analyst\n"));
  g_assert_null (strstr (output, "## technical-analyst\n"));
  g_assert_nonnull (strstr (output, "Missing:\n- technical-analyst (server)\n"));
}

static void
test_fork_join_quorum_failed (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 4, \"latency\": 0.02, \"output_tokens\": 10,"
                           " \"agents\": ["
                           "   {\"match\": \"technical analyst\", \"failures\": [{\"status\": 500}]},"
                           "   {\"match\": \"market analyst\", \"failures\": [{\"status\": 529}]}"
                           " ]}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(TestSynth) synth = g_object_new (TEST_TYPE_SYNTH, NULL);
  g_autoptr(FjForkJoinTask) task = fj_fork_join_task_new (runner, FJ_SYNTHESIZER (synth));
  g_autoptr(GListStore) agents = analysts_new ();
  g_autoptr(FjForkJoinResult) result = NULL;
  Signals signals = { 0 };
  const GError *error;

  fj_client_set_max_retries (client, 0);
  fj_fork_join_task_set_min_successes (task, 2);

  result = run_task (task, G_LIST_MODEL (agents), &signals);

  g_assert_cmpuint (fj_agent_runner_get_min_successes (runner), ==, 2);
  g_assert_cmpint (fj_fork_join_result_get_status (result), ==, FJ_FORK_JOIN_STATUS_FAILED);
  error = fj_fork_join_result_get_error (result);
  g_assert_error ((GError *) error, FJ_ERROR, FJ_ERROR_QUORUM_NOT_MET);
  g_assert_cmpstr (error->message, ==,
                   "quorum not met: 1 of 3 agents succeeded, 2 needed: "
                   "technical-analyst failed (server), market-analyst failed (overloaded)");
  g_assert_cmpuint (synth->n_calls, ==, 0);
  g_assert_cmpuint (signals.n_started, ==, 0);
  g_assert_cmpuint (signals.n_finished, ==, 0);
  g_assert_null (fj_fork_join_result_get_output (result));
  g_assert_cmpuint (fj_fork_join_result_get_results (result)->len, ==, 3);
  g_assert_cmpint (fj_agent_result_get_status (result_at (result, 0)), ==, FJ_AGENT_STATUS_SUCCESS);
  g_assert_cmpint (fj_agent_result_get_status (result_at (result, 2)), ==, FJ_AGENT_STATUS_FAILED);
}

static void
test_fork_join_synthesis_failed (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"seed\": 5, \"latency\": 0.02, \"output_tokens\": 10}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(TestSynth) synth = g_object_new (TEST_TYPE_SYNTH, NULL);
  g_autoptr(FjForkJoinTask) task = fj_fork_join_task_new (runner, FJ_SYNTHESIZER (synth));
  g_autoptr(GListStore) agents = analysts_new ();
  g_autoptr(FjForkJoinResult) result = NULL;
  Signals signals = { 0 };

  synth->fail = TRUE;
  result = run_task (task, G_LIST_MODEL (agents), &signals);

  g_assert_cmpint (fj_fork_join_result_get_status (result), ==, FJ_FORK_JOIN_STATUS_FAILED);
  g_assert_error ((GError *) fj_fork_join_result_get_error (result), FJ_ERROR, FJ_ERROR_PLUGIN);
  g_assert_null (fj_fork_join_result_get_output (result));
  g_assert_cmpuint (signals.n_started, ==, 1);
  g_assert_cmpuint (signals.n_finished, ==, 1);
  g_assert_cmpuint (fj_fork_join_result_get_results (result)->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpint (fj_agent_result_get_status (result_at (result, i)), ==, FJ_AGENT_STATUS_SUCCESS);
}

static void
test_fork_join_not_supported (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"seed\": 6, \"latency\": 0.01, \"output_tokens\": 5}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(TestEmptySynth) synth = g_object_new (TEST_TYPE_EMPTY_SYNTH, NULL);
  g_autoptr(FjForkJoinTask) task = fj_fork_join_task_new (runner, FJ_SYNTHESIZER (synth));
  g_autoptr(GListStore) agents = analysts_new ();
  g_autoptr(FjForkJoinResult) result = NULL;
  const GError *error;

  result = run_task (task, G_LIST_MODEL (agents), NULL);

  g_assert_cmpint (fj_fork_join_result_get_status (result), ==, FJ_FORK_JOIN_STATUS_FAILED);
  error = fj_fork_join_result_get_error (result);
  g_assert_error ((GError *) error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "TestEmptySynth"));
}

static void
test_fork_join_main_thread (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"seed\": 7, \"latency\": 0.01, \"output_tokens\": 5}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(TestSynth) synth = g_object_new (TEST_TYPE_SYNTH, "main-thread", TRUE, NULL);
  g_autoptr(FjForkJoinTask) task = fj_fork_join_task_new (runner, FJ_SYNTHESIZER (synth));
  g_autoptr(GListStore) agents = analysts_new ();
  g_autoptr(FjForkJoinResult) result = NULL;
  g_autoptr(FjForkJoinResult) result2 = NULL;

  result = run_task (task, G_LIST_MODEL (agents), NULL);
  g_assert_cmpint (fj_fork_join_result_get_status (result), ==, FJ_FORK_JOIN_STATUS_COMPLETE);
  g_assert_true (synth->thread == g_thread_self ());

  /* The same synthesizer in a worker thread. */
  g_object_set (synth, "main-thread", FALSE, NULL);
  result2 = run_task (task, G_LIST_MODEL (agents), NULL);
  g_assert_cmpint (fj_fork_join_result_get_status (result2), ==, FJ_FORK_JOIN_STATUS_COMPLETE);
  g_assert_true (synth->thread != g_thread_self ());
  g_assert_cmpuint (synth->n_calls, ==, 2);
  g_assert_true (g_str_has_prefix (fj_fork_join_result_get_output (result2), "# Analyze Q3"));
}

static void
test_fork_join_json (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (degraded_scenario);
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(TestSynth) synth = g_object_new (TEST_TYPE_SYNTH, NULL);
  g_autoptr(FjForkJoinTask) task = fj_fork_join_task_new (runner, FJ_SYNTHESIZER (synth));
  g_autoptr(GListStore) agents = analysts_new ();
  g_autoptr(FjForkJoinResult) result = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *text = NULL;
  JsonObject *object;
  JsonObject *synthesis;
  JsonArray *array;

  fj_client_set_max_retries (client, 0);
  result = run_task (task, G_LIST_MODEL (agents), NULL);

  text = fj_fork_join_result_to_json_string (result, TRUE);
  node = json_from_string (text, NULL);
  g_assert_nonnull (node);
  object = json_node_get_object (node);

  g_assert_cmpstr (json_object_get_string_member (object, "status"), ==, "degraded");
  g_assert_cmpstr (json_object_get_string_member (object, "input"), ==,
                   "Analyze Q3 performance for ACME Corp");
  array = json_object_get_array_member (object, "agents");
  g_assert_cmpuint (json_array_get_length (array), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (array, 1), "status"),
                   ==, "failed");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (json_array_get_object_element (array, 1), "error"), "code"),
                   ==, "server");
  synthesis = json_object_get_object_member (object, "synthesis");
  g_assert_nonnull (synthesis);
  g_assert_cmpstr (json_object_get_string_member (synthesis, "plugin"), ==, "TestSynth");
  g_assert_cmpstr (json_object_get_string_member (synthesis, "output"), ==,
                   fj_fork_join_result_get_output (result));
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (object, "usage"), "output_tokens"),
                   ==, fj_fork_join_result_get_usage (result)->output_tokens);
  g_assert_true (json_object_has_member (object, "cost_usd"));
  g_assert_true (json_object_get_null_member (object, "cost_usd"));
  g_assert_true (json_object_has_member (object, "wall_ms"));
  g_assert_cmpint (json_object_get_int_member (object, "wall_ms"), >=, 0);
  g_assert_false (json_object_has_member (object, "spec"));
}

static void
test_fork_join_json_failed (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 8, \"latency\": 0.01, \"output_tokens\": 5,"
                           " \"agents\": [{\"match\": \"analyst\", \"failures\": [{\"status\": 500}]}]}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(TestSynth) synth = g_object_new (TEST_TYPE_SYNTH, NULL);
  g_autoptr(FjForkJoinTask) task = fj_fork_join_task_new (runner, FJ_SYNTHESIZER (synth));
  g_autoptr(GListStore) agents = analysts_new ();
  g_autoptr(FjForkJoinResult) result = NULL;
  g_autoptr(JsonNode) node = NULL;
  JsonObject *object;

  fj_client_set_max_retries (client, 0);
  result = run_task (task, G_LIST_MODEL (agents), NULL);

  node = fj_fork_join_result_to_json (result);
  object = json_node_get_object (node);
  g_assert_cmpstr (json_object_get_string_member (object, "status"), ==, "failed");
  g_assert_true (json_object_get_null_member (object, "synthesis"));
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (object, "error"), "code"),
                   ==, "quorum-not-met");
  g_assert_cmpuint (synth->n_calls, ==, 0);
}

static void
test_fork_join_early_exit (void)
{
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 9, \"latency\": 0.02, \"output_tokens\": 10,"
                           " \"agents\": ["
                           "   {\"match\": \"technical analyst\", \"latency\": 30},"
                           "   {\"match\": \"market analyst\", \"latency\": 30}"
                           " ]}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(TestFirstPolicy) policy = g_object_new (TEST_TYPE_FIRST_POLICY, NULL);
  g_autoptr(TestSynth) synth = g_object_new (TEST_TYPE_SYNTH, NULL);
  g_autoptr(FjForkJoinTask) task = fj_fork_join_task_new (runner, FJ_SYNTHESIZER (synth));
  g_autoptr(GListStore) agents = analysts_new ();
  g_autoptr(FjForkJoinResult) result = NULL;
  g_autoptr(GTimer) timer = g_timer_new ();

  fj_agent_runner_add_policy (runner, FJ_POLICY (policy));
  result = run_task (task, G_LIST_MODEL (agents), NULL);

  g_assert_cmpfloat (g_timer_elapsed (timer, NULL), <, 25.0);
  g_assert_cmpint (fj_fork_join_result_get_status (result), ==, FJ_FORK_JOIN_STATUS_COMPLETE);
  g_assert_cmpint (fj_agent_result_get_status (result_at (result, 0)), ==, FJ_AGENT_STATUS_SUCCESS);
  g_assert_cmpint (fj_agent_result_get_status (result_at (result, 1)), ==, FJ_AGENT_STATUS_CANCELLED);
  g_assert_cmpint (fj_agent_result_get_status (result_at (result, 2)), ==, FJ_AGENT_STATUS_CANCELLED);
  g_assert_cmpuint (synth->n_calls, ==, 1);
}

static void
test_fork_join_no_synthesizer (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (degraded_scenario);
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(FjForkJoinTask) task = fj_fork_join_task_new (runner, NULL);
  g_autoptr(GListStore) agents = analysts_new ();
  g_autoptr(FjForkJoinResult) result = NULL;
  g_autoptr(JsonNode) node = NULL;
  Signals signals = { 0 };

  fj_client_set_max_retries (client, 0);
  result = run_task (task, G_LIST_MODEL (agents), &signals);

  g_assert_cmpint (fj_fork_join_result_get_status (result), ==, FJ_FORK_JOIN_STATUS_DEGRADED);
  g_assert_null (fj_fork_join_result_get_output (result));
  g_assert_cmpuint (signals.n_started, ==, 0);
  node = fj_fork_join_result_to_json (result);
  g_assert_true (json_object_get_null_member (json_node_get_object (node), "synthesis"));
}

static void
test_fork_join_run_twice (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"seed\": 10, \"latency\": 0.01, \"output_tokens\": 5}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(TestSynth) synth = g_object_new (TEST_TYPE_SYNTH, NULL);
  g_autoptr(FjForkJoinTask) task = fj_fork_join_task_new (runner, FJ_SYNTHESIZER (synth));
  g_autoptr(GListStore) agents = analysts_new ();
  g_autoptr(FjForkJoinResult) first = NULL;
  g_autoptr(FjForkJoinResult) second = NULL;

  first = run_task (task, G_LIST_MODEL (agents), NULL);
  second = run_task (task, G_LIST_MODEL (agents), NULL);

  g_assert_cmpint (fj_fork_join_result_get_status (first), ==, FJ_FORK_JOIN_STATUS_COMPLETE);
  g_assert_cmpint (fj_fork_join_result_get_status (second), ==, FJ_FORK_JOIN_STATUS_COMPLETE);
  g_assert_cmpuint (synth->n_calls, ==, 2);
  g_assert_nonnull (fj_fork_join_result_get_output (first));
  g_assert_cmpuint (fj_fork_join_result_get_results (second)->len, ==, 3);
}

static void
test_fork_join_misuse (void)
{
  g_autoptr(FjForkJoinTask) task = fj_fork_join_task_new (NULL, NULL);
  g_autoptr(GListStore) agents = analysts_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(FjForkJoinResult) result = NULL;

  /* No client anywhere: the runner refuses to start. */
  result = fj_fork_join_task_run_sync (task, G_LIST_MODEL (agents), "x", NULL, &error);
  g_assert_null (result);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

int
main (int   argc,
      char *argv[])
{
  fj_test_init (&argc, &argv);

  g_test_add_func ("/Forkjoin/ForkJoin/complete", test_fork_join_complete);
  g_test_add_func ("/Forkjoin/ForkJoin/degraded", test_fork_join_degraded);
  g_test_add_func ("/Forkjoin/ForkJoin/quorum-failed", test_fork_join_quorum_failed);
  g_test_add_func ("/Forkjoin/ForkJoin/synthesis-failed", test_fork_join_synthesis_failed);
  g_test_add_func ("/Forkjoin/ForkJoin/not-supported", test_fork_join_not_supported);
  g_test_add_func ("/Forkjoin/ForkJoin/main-thread", test_fork_join_main_thread);
  g_test_add_func ("/Forkjoin/ForkJoin/json", test_fork_join_json);
  g_test_add_func ("/Forkjoin/ForkJoin/json-failed", test_fork_join_json_failed);
  g_test_add_func ("/Forkjoin/ForkJoin/early-exit", test_fork_join_early_exit);
  g_test_add_func ("/Forkjoin/ForkJoin/no-synthesizer", test_fork_join_no_synthesizer);
  g_test_add_func ("/Forkjoin/ForkJoin/run-twice", test_fork_join_run_twice);
  g_test_add_func ("/Forkjoin/ForkJoin/misuse", test_fork_join_misuse);

  return g_test_run ();
}
