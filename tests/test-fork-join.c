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

  /* The outline is the same document with no agents in it. */
  {
    g_autoptr(JsonNode) outline = fj_fork_join_result_to_json_outline (result);
    g_autoptr(JsonNode) expected = json_node_copy (node);
    JsonObject *outline_object = json_node_get_object (outline);

    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object, "agents")), ==, 3);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (outline_object, "agents")), ==, 0);
    json_object_set_array_member (json_node_get_object (expected), "agents", json_array_new ());
    g_assert_true (json_node_equal (outline, expected));
  }
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

  g_assert_cmpfloat (g_timer_elapsed (timer, NULL), <, 25.0 * fj_test_time_scale ());
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

/* Reading results back */

static FjAgentResult *
round_trip (FjAgentResult *result)
{
  g_autoptr(JsonNode) node = fj_agent_result_to_json (result);
  g_autofree char *text = json_to_string (node, FALSE);
  g_autoptr(JsonNode) parsed = json_from_string (text, NULL);
  g_autoptr(GError) error = NULL;
  FjAgentResult *ret;

  g_assert_nonnull (parsed);
  ret = fj_agent_result_new_from_json (parsed, fj_agent_result_get_index (result), &error);
  g_assert_no_error (error);
  g_assert_nonnull (ret);

  return ret;
}

static void
assert_same_result (FjAgentResult *a,
                    FjAgentResult *b)
{
  const GError *ea = fj_agent_result_get_error (a);
  const GError *eb = fj_agent_result_get_error (b);

  g_assert_cmpstr (fj_agent_result_get_agent_name (a), ==, fj_agent_result_get_agent_name (b));
  g_assert_cmpuint (fj_agent_result_get_index (a), ==, fj_agent_result_get_index (b));
  g_assert_cmpint (fj_agent_result_get_status (a), ==, fj_agent_result_get_status (b));
  g_assert_cmpstr (fj_agent_result_get_output (a), ==, fj_agent_result_get_output (b));
  g_assert_cmpstr (fj_agent_result_get_partial_output (a), ==, fj_agent_result_get_partial_output (b));
  g_assert_cmpstr (fj_agent_result_get_stop_reason (a), ==, fj_agent_result_get_stop_reason (b));
  g_assert_cmpstr (fj_agent_result_get_model (a), ==, fj_agent_result_get_model (b));
  g_assert_cmpuint (fj_agent_result_get_attempts (a), ==, fj_agent_result_get_attempts (b));
  g_assert_cmpuint (fj_agent_result_get_turns (a), ==, fj_agent_result_get_turns (b));
  g_assert_true (fj_usage_equal (fj_agent_result_get_usage (a), fj_agent_result_get_usage (b)));
  /* JSON keeps milliseconds. */
  g_assert_cmpfloat_with_epsilon (fj_agent_result_get_duration (a), fj_agent_result_get_duration (b), 0.0006);
  if (fj_agent_result_get_cost (a) < 0)
    g_assert_cmpfloat (fj_agent_result_get_cost (b), <, 0);
  else
    g_assert_cmpfloat_with_epsilon (fj_agent_result_get_cost (a), fj_agent_result_get_cost (b), 1e-12);

  g_assert_true ((ea == NULL) == (eb == NULL));
  if (ea != NULL)
    {
      g_assert_cmpuint (ea->domain, ==, eb->domain);
      g_assert_cmpint (ea->code, ==, eb->code);
      g_assert_cmpstr (ea->message, ==, eb->message);
    }
}

static void
test_result_from_json (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (degraded_scenario);
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(FjForkJoinTask) task = fj_fork_join_task_new (runner, NULL);
  g_autoptr(GListStore) agents = analysts_new ();
  g_autoptr(FjForkJoinResult) result = NULL;
  GPtrArray *results;

  fj_client_set_max_retries (client, 0);
  fj_agent_runner_set_prices (runner, fj_prices_get_default ());
  result = run_task (task, G_LIST_MODEL (agents), NULL);
  results = fj_fork_join_result_get_results (result);

  g_assert_cmpint (fj_agent_result_get_status (result_at (result, 1)), ==, FJ_AGENT_STATUS_FAILED);
  g_assert_cmpstr (fj_agent_result_get_model (result_at (result, 0)), ==, FJ_AGENT_DEFAULT_MODEL);
  g_assert_cmpfloat (fj_agent_result_get_cost (result_at (result, 0)), >, 0);

  for (guint i = 0; i < results->len; i++)
    {
      g_autoptr(FjAgentResult) back = round_trip (g_ptr_array_index (results, i));

      g_assert_true (fj_agent_result_get_finished (back));
      assert_same_result (g_ptr_array_index (results, i), back);
    }
}

static void
test_result_from_json_fields (void)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(FjAgentResult) result = NULL;
  g_autoptr(GError) error = NULL;
  FjUsage *usage;

  /* Either spelling of a status; cancelled; the minimum. */
  node = json_from_string ("{\"name\": \"slow\", \"status\": \"timed-out\","
                           " \"error\": {\"code\": \"timed_out\", \"message\": \"slow: timed out\"},"
                           " \"partial_output\": \"half\", \"duration_ms\": 1500, \"attempts\": 2,"
                           " \"usage\": {\"input_tokens\": 7, \"output_tokens\": 3, \"service_tier\": \"standard\"},"
                           " \"cost_usd\": 0.25, \"model\": \"claude-opus-5-5\", \"plugin\": \"ignored\"}", NULL);
  result = fj_agent_result_new_from_json (node, 4, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fj_agent_result_get_index (result), ==, 4);
  g_assert_cmpstr (fj_agent_result_get_agent_name (result), ==, "slow");
  g_assert_cmpint (fj_agent_result_get_status (result), ==, FJ_AGENT_STATUS_TIMED_OUT);
  g_assert_error ((GError *) fj_agent_result_get_error (result), FJ_ERROR, FJ_ERROR_TIMED_OUT);
  g_assert_cmpstr (fj_agent_result_get_error_message (result), ==, "slow: timed out");
  g_assert_cmpstr (fj_agent_result_get_partial_output (result), ==, "half");
  g_assert_null (fj_agent_result_get_output (result));
  g_assert_cmpfloat (fj_agent_result_get_duration (result), ==, 1.5);
  g_assert_cmpuint (fj_agent_result_get_attempts (result), ==, 2);
  g_assert_cmpuint (fj_agent_result_get_turns (result), ==, 0);
  usage = fj_agent_result_get_usage (result);
  g_assert_cmpint (usage->input_tokens, ==, 7);
  g_assert_cmpint (usage->output_tokens, ==, 3);
  g_assert_cmpint (usage->cache_read_input_tokens, ==, 0);
  g_assert_cmpfloat (fj_agent_result_get_cost (result), ==, 0.25);
  g_assert_cmpstr (fj_agent_result_get_model (result), ==, "claude-opus-5-5");
  g_clear_object (&result);
  g_clear_pointer (&node, json_node_unref);

  node = json_from_string ("{\"name\": \"gone\", \"status\": \"cancelled\","
                           " \"error\": {\"code\": \"cancelled\", \"message\": \"gone: cancelled\"}}", NULL);
  result = fj_agent_result_new_from_json (node, 0, &error);
  g_assert_no_error (error);
  g_assert_error ((GError *) fj_agent_result_get_error (result), G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (fj_agent_result_get_error_code (result), ==, "cancelled");
  g_assert_cmpfloat (fj_agent_result_get_cost (result), <, 0);
  g_assert_null (fj_agent_result_get_model (result));
  g_clear_object (&result);
  g_clear_pointer (&node, json_node_unref);

  /* A tool's own error reads back as "error". */
  node = json_from_string ("{\"name\": \"x\", \"status\": \"failed\","
                           " \"error\": {\"code\": \"error\", \"message\": \"x: disk full\"}}", NULL);
  result = fj_agent_result_new_from_json (node, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (fj_agent_result_get_error_code (result), ==, "error");
}

typedef struct
{
  const char *json;
  const char *message;
} BadResult;

static void
test_result_from_json_errors (void)
{
  static const BadResult bad[] = {
    { "[]", "expected an agent result object, got an array" },
    { "{\"name\": \"a\"}", "status: expected a status" },
    { "{\"status\": \"done\"}", "status: unknown status \"done\"" },
    { "{\"status\": 1}", "status: expected a status" },
    { "{\"status\": \"success\", \"name\": 3}", "name: expected a string or null, got an integer" },
    { "{\"status\": \"success\", \"output\": true}", "output: expected a string or null, got a boolean" },
    { "{\"status\": \"failed\", \"error\": \"boom\"}", "error: expected an object with code and message, or null, got a string" },
    { "{\"status\": \"failed\", \"error\": {\"message\": \"boom\"}}", "error.code: expected a string, got null" },
    { "{\"status\": \"failed\", \"error\": {\"code\": \"kaboom\", \"message\": \"boom\"}}", "error.code: unknown error code \"kaboom\"" },
    { "{\"status\": \"failed\", \"error\": {\"code\": \"server\", \"message\": 5}}", "error.message: expected a string or null, got an integer" },
    { "{\"status\": \"success\", \"duration_ms\": -1}", "duration_ms: expected a non-negative number, got -1" },
    { "{\"status\": \"success\", \"duration_ms\": \"1s\"}", "duration_ms: expected a non-negative number, got a string" },
    { "{\"status\": \"success\", \"attempts\": 1.5}", "attempts: expected a non-negative integer, got 1.5" },
    { "{\"status\": \"success\", \"turns\": -2}", "turns: expected a non-negative integer, got -2" },
    { "{\"status\": \"success\", \"attempts\": 99999999999}", "attempts: 99999999999 is too large" },
    { "{\"status\": \"success\", \"usage\": []}", "usage: expected an object of token counts, or null, got an array" },
    { "{\"status\": \"success\", \"usage\": {\"input_tokens\": \"7\"}}", "usage.input_tokens: expected a non-negative integer, got a string" },
    { "{\"status\": \"success\", \"usage\": {\"cache_read_input_tokens\": -7}}", "usage.cache_read_input_tokens: expected a non-negative integer, got -7" },
    { "{\"status\": \"success\", \"cost_usd\": -0.5}", "cost_usd: expected a non-negative number, got -0.5" },
    { "{\"status\": \"success\", \"model\": {}}", "model: expected a string or null, got an object" },
    { "{\"status\": \"success\", \"stop_reason\": []}", "stop_reason: expected a string or null, got an array" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(JsonNode) node = json_from_string (bad[i].json, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(FjAgentResult) result = NULL;

      g_assert_nonnull (node);
      result = fj_agent_result_new_from_json (node, 0, &error);
      g_assert_null (result);
      g_assert_error (error, FJ_ERROR, FJ_ERROR_SPEC);
      if (!g_str_has_prefix (error->message, bad[i].message))
        g_error ("%s: got \"%s\", expected \"%s\"", bad[i].json, error->message, bad[i].message);
    }
}

/* Resuming */

typedef struct
{
  guint n_started;
  guint n_finished;
} RunnerSignals;

static void
agent_started_cb (FjAgentRunner *runner,
                  FjAgentResult *result,
                  RunnerSignals *signals)
{
  signals->n_started++;
}

static void
agent_finished_cb (FjAgentRunner *runner,
                   FjAgentResult *result,
                   RunnerSignals *signals)
{
  signals->n_finished++;
}

/* Every agent by name, so the simulator counts each one's requests. */
static const char *resume_scenario =
  "{\"seed\": 21, \"latency\": 0.02, \"output_tokens\": 10,"
  " \"agents\": ["
  "   {\"name\": \"financial\", \"match\": \"financial analyst\"},"
  "   {\"name\": \"technical\", \"match\": \"technical analyst\","
  "    \"failures\": [{\"status\": 500, \"attempts\": 1}]},"
  "   {\"name\": \"market\", \"match\": \"market analyst\"}"
  " ]}";

static FjForkJoinResult *
resume_task (FjForkJoinTask *task,
             GListModel     *agents,
             GPtrArray      *previous,
             GError        **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  fj_fork_join_task_resume_async (task, agents, "Analyze Q3 performance for ACME Corp", previous, NULL,
                                  fj_test_async_result_cb, &result);
  fj_test_wait_result (&result, 60);
  return fj_fork_join_task_resume_finish (task, result, error);
}

static void
test_fork_join_resume (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (resume_scenario);
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(TestSynth) synth = g_object_new (TEST_TYPE_SYNTH, NULL);
  g_autoptr(FjForkJoinTask) task = fj_fork_join_task_new (runner, FJ_SYNTHESIZER (synth));
  g_autoptr(GListStore) agents = analysts_new ();
  g_autoptr(FjForkJoinResult) first = NULL;
  g_autoptr(FjForkJoinResult) second = NULL;
  g_autoptr(GPtrArray) previous = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;
  RunnerSignals signals = { 0 };
  GListModel *model;
  const char *output;
  guint n_requests;

  fj_client_set_max_retries (client, 0);
  fj_fork_join_task_set_prices (task, fj_prices_get_default ());
  fj_fork_join_task_set_min_successes (task, 3);

  first = run_task (task, G_LIST_MODEL (agents), NULL);
  g_assert_cmpint (fj_fork_join_result_get_status (first), ==, FJ_FORK_JOIN_STATUS_FAILED);
  g_assert_error ((GError *) fj_fork_join_result_get_error (first), FJ_ERROR, FJ_ERROR_QUORUM_NOT_MET);
  g_assert_cmpint (fj_agent_result_get_status (result_at (first, 1)), ==, FJ_AGENT_STATUS_FAILED);
  g_assert_cmpuint (synth->n_calls, ==, 0);
  g_assert_cmpuint (fj_simulator_get_attempts (sim, "financial"), ==, 1);
  g_assert_cmpuint (fj_simulator_get_attempts (sim, "technical"), ==, 1);
  g_assert_cmpuint (fj_simulator_get_attempts (sim, "market"), ==, 1);
  n_requests = fj_simulator_get_n_requests (sim);

  /* What `forkjoin-tool resume` does: the earlier results from JSON. */
  for (guint i = 0; i < 3; i++)
    g_ptr_array_add (previous, round_trip (result_at (first, i)));

  g_signal_connect (runner, "agent-started", G_CALLBACK (agent_started_cb), &signals);
  g_signal_connect (runner, "agent-finished", G_CALLBACK (agent_finished_cb), &signals);
  second = resume_task (task, G_LIST_MODEL (agents), previous, &error);
  g_assert_no_error (error);
  g_assert_nonnull (second);
  g_signal_handlers_disconnect_by_data (runner, &signals);

  /* Requests for the agent that failed, and only for it. */
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, n_requests + 1);
  g_assert_cmpuint (fj_simulator_get_attempts (sim, "financial"), ==, 1);
  g_assert_cmpuint (fj_simulator_get_attempts (sim, "technical"), ==, 2);
  g_assert_cmpuint (fj_simulator_get_attempts (sim, "market"), ==, 1);
  g_assert_cmpuint (signals.n_started, ==, 1);
  g_assert_cmpuint (signals.n_finished, ==, 1);

  /* A normal run's result over the union. */
  if (fj_fork_join_result_get_error (second))
    g_test_message ("resume: %s", fj_fork_join_result_get_error (second)->message);
  g_assert_cmpint (fj_fork_join_result_get_status (second), ==, FJ_FORK_JOIN_STATUS_COMPLETE);
  g_assert_null (fj_fork_join_result_get_error (second));
  g_assert_cmpuint (fj_fork_join_result_get_results (second)->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      g_assert_cmpint (fj_agent_result_get_status (result_at (second, i)), ==, FJ_AGENT_STATUS_SUCCESS);
      g_assert_cmpuint (fj_agent_result_get_index (result_at (second, i)), ==, i);
      g_assert_cmpfloat (fj_agent_result_get_cost (result_at (second, i)), >, 0);
    }
  assert_same_result (result_at (first, 0), result_at (second, 0));
  assert_same_result (result_at (first, 2), result_at (second, 2));
  g_assert_cmpuint (fj_agent_result_get_attempts (result_at (second, 1)), ==, 1);

  g_assert_cmpuint (synth->n_calls, ==, 1);
  output = fj_fork_join_result_get_output (second);
  g_assert_nonnull (strstr (output, "## financial-analyst\n"));
  g_assert_nonnull (strstr (output, "## technical-analyst\n"));
  g_assert_nonnull (strstr (output, "## market-analyst\n"));
  g_assert_null (strstr (output, "Missing"));

  /* Counters, usage and the live model count the kept agents. */
  g_assert_cmpuint (fj_agent_runner_get_n_succeeded (runner), ==, 3);
  g_assert_cmpuint (fj_agent_runner_get_n_failed (runner), ==, 0);
  g_assert_cmpuint (fj_agent_runner_get_n_pending (runner), ==, 0);
  g_assert_cmpint (fj_agent_runner_get_usage (runner)->output_tokens, ==, 30);
  g_assert_cmpint (fj_fork_join_result_get_usage (second)->output_tokens, ==, 30);
  g_assert_cmpfloat (fj_fork_join_result_get_cost (second), >, 0);
  model = fj_agent_runner_get_results (runner);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(FjAgentResult) item = g_list_model_get_item (model, i);

      g_assert_true (item == result_at (second, i));
      g_assert_true (fj_agent_result_get_finished (item));
    }

  /* The caller's results are left alone. */
  g_assert_cmpint (fj_agent_result_get_status (g_ptr_array_index (previous, 1)), ==, FJ_AGENT_STATUS_FAILED);
}

static void
test_fork_join_resume_all_kept (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"seed\": 22, \"latency\": 0.01, \"output_tokens\": 5}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(TestSynth) synth = g_object_new (TEST_TYPE_SYNTH, NULL);
  g_autoptr(FjForkJoinTask) task = fj_fork_join_task_new (runner, FJ_SYNTHESIZER (synth));
  g_autoptr(GListStore) agents = analysts_new ();
  g_autoptr(FjForkJoinResult) first = NULL;
  g_autoptr(FjForkJoinResult) second = NULL;
  g_autoptr(GError) error = NULL;
  guint n_requests;

  first = run_task (task, G_LIST_MODEL (agents), NULL);
  g_assert_cmpint (fj_fork_join_result_get_status (first), ==, FJ_FORK_JOIN_STATUS_COMPLETE);
  n_requests = fj_simulator_get_n_requests (sim);

  /* Straight from the earlier result: nothing runs but the synthesis. */
  second = resume_task (task, G_LIST_MODEL (agents), fj_fork_join_result_get_results (first), &error);
  g_assert_no_error (error);
  g_assert_cmpint (fj_fork_join_result_get_status (second), ==, FJ_FORK_JOIN_STATUS_COMPLETE);
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, n_requests);
  g_assert_cmpuint (synth->n_calls, ==, 2);
  g_assert_cmpstr (fj_fork_join_result_get_output (second), ==, fj_fork_join_result_get_output (first));
  g_assert_cmpuint (fj_agent_runner_get_n_succeeded (runner), ==, 3);
  g_assert_false (fj_agent_runner_get_running (runner));
  for (guint i = 0; i < 3; i++)
    assert_same_result (result_at (first, i), result_at (second, i));
}

static void
test_fork_join_resume_mismatch (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"seed\": 23, \"latency\": 0.01, \"output_tokens\": 5}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(FjForkJoinTask) task = fj_fork_join_task_new (runner, NULL);
  g_autoptr(GListStore) agents = analysts_new ();
  g_autoptr(GPtrArray) previous = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(FjForkJoinResult) result = NULL;
  g_autoptr(GError) error = NULL;

  /* Too few. */
  g_ptr_array_add (previous, fj_agent_result_new ("financial-analyst", 0));
  g_ptr_array_add (previous, fj_agent_result_new ("technical-analyst", 1));
  result = resume_task (task, G_LIST_MODEL (agents), previous, &error);
  g_assert_null (result);
  g_assert_error (error, FJ_ERROR, FJ_ERROR_SPEC);
  g_assert_cmpstr (error->message, ==, "the earlier run has 2 agent results for 3 agents");
  g_clear_error (&error);

  /* Another name. */
  g_ptr_array_add (previous, fj_agent_result_new ("marketing-analyst", 2));
  result = resume_task (task, G_LIST_MODEL (agents), previous, &error);
  g_assert_null (result);
  g_assert_error (error, FJ_ERROR, FJ_ERROR_SPEC);
  g_assert_cmpstr (error->message, ==,
                   "agent 2 is \"market-analyst\" but the earlier run's agent 2 is \"marketing-analyst\"");
  g_clear_error (&error);

  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, 0);
  g_assert_false (fj_agent_runner_get_running (runner));

  /* Nothing succeeded before: everything runs. */
  g_ptr_array_remove_index (previous, 2);
  g_ptr_array_add (previous, fj_agent_result_new ("market-analyst", 2));
  result = resume_task (task, G_LIST_MODEL (agents), previous, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fj_fork_join_result_get_status (result), ==, FJ_FORK_JOIN_STATUS_COMPLETE);
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, 3);
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
  g_test_add_func ("/Forkjoin/AgentResult/from-json", test_result_from_json);
  g_test_add_func ("/Forkjoin/AgentResult/from-json-fields", test_result_from_json_fields);
  g_test_add_func ("/Forkjoin/AgentResult/from-json-errors", test_result_from_json_errors);
  g_test_add_func ("/Forkjoin/ForkJoin/resume", test_fork_join_resume);
  g_test_add_func ("/Forkjoin/ForkJoin/resume-all-kept", test_fork_join_resume_all_kept);
  g_test_add_func ("/Forkjoin/ForkJoin/resume-mismatch", test_fork_join_resume_mismatch);

  return g_test_run ();
}
