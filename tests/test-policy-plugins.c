/* test-policy-plugins.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-test-utils.h"

#include "fj-agent-result-private.h"

/* The vote synthesizer and the quorum and budget policies, loaded as
 * modules from the build tree. */
static FjPluginRegistry *
registry_new (void)
{
  FjPluginRegistry *registry = fj_plugin_registry_new ();
  g_autofree char *vote = g_test_build_filename (G_TEST_BUILT, "..", "plugins", "synthesis", "vote", NULL);
  g_autofree char *quorum = g_test_build_filename (G_TEST_BUILT, "..", "plugins", "policy", "quorum", NULL);
  g_autofree char *budget = g_test_build_filename (G_TEST_BUILT, "..", "plugins", "policy", "budget", NULL);
  g_autofree char *path = g_strjoin (":", vote, quorum, budget, NULL);

  g_setenv ("FORKJOIN_PLUGIN_PATH", path, TRUE);
  fj_plugin_registry_load_default (registry);
  g_unsetenv ("FORKJOIN_PLUGIN_PATH");

  g_assert_cmpuint (fj_plugin_registry_get_errors (registry)->len, ==, 0);
  g_assert_true (fj_plugin_registry_lookup (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "vote") != G_TYPE_INVALID);
  g_assert_true (fj_plugin_registry_lookup (registry, FJ_PLUGIN_KIND_POLICY, "quorum") != G_TYPE_INVALID);
  g_assert_true (fj_plugin_registry_lookup (registry, FJ_PLUGIN_KIND_POLICY, "budget") != G_TYPE_INVALID);

  return registry;
}

static GObject *
create (FjPluginRegistry *registry,
        FjPluginKind      kind,
        const char       *name,
        const char       *json)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;
  GObject *object;

  node = json_from_string (json, &error);
  g_assert_no_error (error);
  object = fj_plugin_registry_create (registry, kind, name, json_node_get_object (node), &error);
  g_assert_no_error (error);
  g_assert_nonnull (object);

  return object;
}

/* Agents named NAME whose instructions the simulator matches as
 * "NAME analyst". */
static GListStore *
agents_new (const char *first,
            ...)
{
  GListStore *store = g_list_store_new (FJ_TYPE_AGENT);
  va_list args;

  va_start (args, first);
  for (const char *name = first; name != NULL; name = va_arg (args, const char *))
    {
      g_autofree char *instructions = g_strdup_printf ("You are the %s analyst.", name);
      g_autoptr(FjAgent) agent = fj_agent_new (name);

      fj_agent_set_instructions (agent, instructions);
      g_list_store_append (store, agent);
    }
  va_end (args);

  return store;
}

static FjForkJoinResult *
run_fork_join (FjForkJoinTask *task,
               GListModel     *agents)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  FjForkJoinResult *ret;

  fj_fork_join_task_run_async (task, agents, "Classify the sentiment", NULL,
                               fj_test_async_result_cb, &result);
  fj_test_wait_result (&result, 60);
  ret = fj_fork_join_task_run_finish (task, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ret);

  return ret;
}

static FjAgentStatus
status_at (FjForkJoinResult *result,
           guint             index)
{
  return fj_agent_result_get_status (g_ptr_array_index (fj_fork_join_result_get_results (result), index));
}

static void
test_quorum_early_exit (void)
{
  g_autoptr(FjPluginRegistry) registry = registry_new ();
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 1, \"latency\": 0.05, \"output_tokens\": 10,"
                           " \"agents\": [{\"match\": \"slow analyst\", \"latency\": 10}]}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(GObject) policy = create (registry, FJ_PLUGIN_KIND_POLICY, "quorum", "{\"early_exit\": true}");
  g_autoptr(GObject) synth = create (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "vote", "{}");
  g_autoptr(FjForkJoinTask) task = fj_fork_join_task_new (runner, FJ_SYNTHESIZER (synth));
  g_autoptr(GListStore) agents = agents_new ("first", "slow", "second", NULL);
  g_autoptr(FjForkJoinResult) result = NULL;
  g_autoptr(GTimer) timer = g_timer_new ();
  gboolean closed = FALSE;

  fj_agent_runner_add_policy (runner, FJ_POLICY (policy));
  fj_fork_join_task_set_min_successes (task, 2);

  result = run_fork_join (task, G_LIST_MODEL (agents));
  g_assert_cmpfloat (g_timer_elapsed (timer, NULL), <, 8.0 * fj_test_time_scale ());

  g_assert_cmpint (fj_fork_join_result_get_status (result), ==, FJ_FORK_JOIN_STATUS_COMPLETE);
  g_assert_cmpint (status_at (result, 0), ==, FJ_AGENT_STATUS_SUCCESS);
  g_assert_cmpint (status_at (result, 1), ==, FJ_AGENT_STATUS_CANCELLED);
  g_assert_cmpint (status_at (result, 2), ==, FJ_AGENT_STATUS_SUCCESS);
  g_assert_nonnull (fj_fork_join_result_get_output (result));

  /* The simulator sees the straggler's connection close. */
  for (guint i = 0; i < 100 && !closed; i++)
    {
      closed = fj_simulator_get_n_disconnects (sim) >= 1 && fj_simulator_get_n_in_flight (sim) == 0;
      if (!closed)
        fj_test_run_for (0.05);
    }
  g_assert_true (closed);
}

static void
test_quorum_losers_finish (void)
{
  g_autoptr(FjPluginRegistry) registry = registry_new ();
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 2, \"latency\": 0.05, \"output_tokens\": 10,"
                           " \"agents\": [{\"match\": \"slow analyst\", \"latency\": 0.8}]}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(GObject) policy = create (registry, FJ_PLUGIN_KIND_POLICY, "quorum",
                                      "{\"early_exit\": true, \"losers\": \"finish\"}");
  g_autoptr(GObject) synth = create (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "vote", "{}");
  g_autoptr(FjForkJoinTask) task = fj_fork_join_task_new (runner, FJ_SYNTHESIZER (synth));
  g_autoptr(GListStore) agents = agents_new ("first", "slow", "second", NULL);
  g_autoptr(FjForkJoinResult) result = NULL;

  g_assert_cmpint (fj_policy_get_losers (FJ_POLICY (policy)), ==, FJ_POLICY_LOSERS_FINISH);
  fj_agent_runner_add_policy (runner, FJ_POLICY (policy));
  fj_fork_join_task_set_min_successes (task, 2);

  result = run_fork_join (task, G_LIST_MODEL (agents));

  g_assert_cmpint (fj_fork_join_result_get_status (result), ==, FJ_FORK_JOIN_STATUS_COMPLETE);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpint (status_at (result, i), ==, FJ_AGENT_STATUS_SUCCESS);
  g_assert_cmpuint (fj_simulator_get_n_disconnects (sim), ==, 0);
}

static void
test_quorum_fail_fast (void)
{
  g_autoptr(FjPluginRegistry) registry = registry_new ();
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 3, \"latency\": 0.05, \"output_tokens\": 10,"
                           " \"agents\": ["
                           "   {\"match\": \"bad analyst\", \"failures\": [{\"status\": 500}]},"
                           "   {\"match\": \"worse analyst\", \"failures\": [{\"status\": 500}]},"
                           "   {\"match\": \"slow analyst\", \"latency\": 10}"
                           " ]}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(GObject) policy = create (registry, FJ_PLUGIN_KIND_POLICY, "quorum", "{}");
  g_autoptr(GObject) synth = create (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "vote", "{}");
  g_autoptr(FjForkJoinTask) task = fj_fork_join_task_new (runner, FJ_SYNTHESIZER (synth));
  g_autoptr(GListStore) agents = agents_new ("bad", "slow", "worse", NULL);
  g_autoptr(FjForkJoinResult) result = NULL;
  g_autoptr(GTimer) timer = g_timer_new ();
  const GError *error;

  fj_client_set_max_retries (client, 0);
  fj_agent_runner_add_policy (runner, FJ_POLICY (policy));
  fj_fork_join_task_set_min_successes (task, 2);

  result = run_fork_join (task, G_LIST_MODEL (agents));
  /* Well before the slow agent's 10 s. */
  g_assert_cmpfloat (g_timer_elapsed (timer, NULL), <, 8.0 * fj_test_time_scale ());

  g_assert_cmpint (fj_fork_join_result_get_status (result), ==, FJ_FORK_JOIN_STATUS_FAILED);
  error = fj_fork_join_result_get_error (result);
  g_assert_error ((GError *) error, FJ_ERROR, FJ_ERROR_QUORUM_NOT_MET);
  g_assert_cmpint (status_at (result, 0), ==, FJ_AGENT_STATUS_FAILED);
  g_assert_cmpint (status_at (result, 1), ==, FJ_AGENT_STATUS_CANCELLED);
  g_assert_cmpint (status_at (result, 2), ==, FJ_AGENT_STATUS_FAILED);
  g_assert_null (fj_fork_join_result_get_output (result));
}

static void
test_budget_skips (void)
{
  g_autoptr(FjPluginRegistry) registry = registry_new ();
  g_autoptr(FjSimulator) sim =
    fj_test_simulator_new ("{\"seed\": 4, \"latency\": 0.02, \"output_tokens\": 10}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(GObject) policy = create (registry, FJ_PLUGIN_KIND_POLICY, "budget", "{\"max_output_tokens\": 15}");
  g_autoptr(GObject) synth = create (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "vote", "{}");
  g_autoptr(FjForkJoinTask) task = fj_fork_join_task_new (runner, FJ_SYNTHESIZER (synth));
  g_autoptr(GListStore) agents = agents_new ("a", "b", "c", "d", NULL);
  g_autoptr(FjForkJoinResult) result = NULL;

  fj_agent_runner_set_max_concurrent (runner, 1);
  fj_agent_runner_add_policy (runner, FJ_POLICY (policy));

  result = run_fork_join (task, G_LIST_MODEL (agents));

  g_assert_cmpint (fj_fork_join_result_get_status (result), ==, FJ_FORK_JOIN_STATUS_DEGRADED);
  g_assert_cmpint (status_at (result, 0), ==, FJ_AGENT_STATUS_SUCCESS);
  g_assert_cmpint (status_at (result, 1), ==, FJ_AGENT_STATUS_SUCCESS);
  for (guint i = 2; i < 4; i++)
    {
      FjAgentResult *r = g_ptr_array_index (fj_fork_join_result_get_results (result), i);

      g_assert_cmpint (fj_agent_result_get_status (r), ==, FJ_AGENT_STATUS_SKIPPED);
      g_assert_error ((GError *) fj_agent_result_get_error (r), FJ_ERROR, FJ_ERROR_BUDGET);
      g_assert_cmpstr (fj_agent_result_get_error_code (r), ==, "budget");
      g_assert_nonnull (strstr (fj_agent_result_get_error_message (r),
                                "budget spent: 20 of 15 output tokens"));
    }
  g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, 2);
  g_assert_nonnull (strstr (fj_fork_join_result_get_output (result), "- c: skipped (budget)\n"));
}

/* Vote */

static GPtrArray *
results_new (const char *first,
             ...)
{
  GPtrArray *results = g_ptr_array_new_with_free_func (g_object_unref);
  va_list args;

  /* Pairs of name and output; a NULL output is a failed agent. */
  va_start (args, first);
  for (const char *name = first; name != NULL; name = va_arg (args, const char *))
    {
      const char *output = va_arg (args, const char *);
      FjAgentResult *result = fj_agent_result_new (name, results->len);

      if (output != NULL)
        {
          _fj_agent_result_set_output (result, output);
          _fj_agent_result_set_status (result, FJ_AGENT_STATUS_SUCCESS);
        }
      else
        {
          _fj_agent_result_take_error (result, g_error_new (FJ_ERROR, FJ_ERROR_SERVER, "%s: 500", name));
          _fj_agent_result_set_status (result, FJ_AGENT_STATUS_FAILED);
        }
      g_ptr_array_add (results, result);
    }
  va_end (args);

  return results;
}

static char *
vote (FjPluginRegistry *registry,
      const char       *options,
      GPtrArray        *results)
{
  g_autoptr(GObject) synth = create (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "vote", options);
  g_autoptr(GError) error = NULL;
  char *output;

  output = fj_synthesizer_synthesize (FJ_SYNTHESIZER (synth), "Classify", results, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (output);

  return output;
}

static void
test_vote_majority (void)
{
  g_autoptr(FjPluginRegistry) registry = registry_new ();
  g_autoptr(GPtrArray) results =
    results_new ("a", "Positive", "b", "Answer: positive.", "c", "**Label:**  POSITIVE!\n\nIt is upbeat.",
                 "d", "negative", "e", "Classification: Negative", "f", NULL, NULL);
  g_autofree char *output = vote (registry, "{}", results);
  g_autofree char *strict = vote (registry, "{\"min_share\": 0.75}", results);

  g_assert_true (g_str_has_prefix (output, "positive: 3 of 5 (60%), majority\n"));
  g_assert_nonnull (strstr (output, "- positive (3): a, b and c\n"));
  g_assert_nonnull (strstr (output, "- negative (2): d and e\n"));
  g_assert_nonnull (strstr (output, "## Dissent\n\n- d: negative\n- e: negative\n"));
  g_assert_nonnull (strstr (output, "## Not counted\n\n- f: failed (server)\n"));

  g_assert_true (g_str_has_prefix (strict, "No consensus: positive: 3 of 5 (60%), below the required 75%\n"));
}

static void
test_vote_plurality (void)
{
  g_autoptr(FjPluginRegistry) registry = registry_new ();
  g_autoptr(GPtrArray) results =
    results_new ("a", "neutral", "b", "positive", "c", "Neutral", "d", "negative", "e", "mixed", NULL);
  g_autofree char *output = vote (registry, "{}", results);

  g_assert_true (g_str_has_prefix (output, "neutral: 2 of 5 (40%), plurality\n"));
  g_assert_nonnull (strstr (output, "- b: positive\n- d: negative\n- e: mixed\n"));
}

static void
test_vote_tie (void)
{
  g_autoptr(FjPluginRegistry) registry = registry_new ();
  g_autoptr(GPtrArray) results =
    results_new ("a", "positive", "b", "Negative.", "c", "  Answer :  negative", "d", "\"Positive\"", NULL);
  g_autofree char *output = vote (registry, "{}", results);

  g_assert_true (g_str_has_prefix (output, "No consensus: tie between positive and negative, 2 each\n"));
  g_assert_nonnull (strstr (output, "- positive (2): a and d\n"));
  g_assert_nonnull (strstr (output, "- negative (2): b and c\n"));
  g_assert_null (strstr (output, "Dissent"));
  g_assert_null (strstr (output, "Not counted"));
}

int
main (int   argc,
      char *argv[])
{
  fj_test_init (&argc, &argv);

  g_test_add_func ("/Forkjoin/PolicyPlugins/quorum-early-exit", test_quorum_early_exit);
  g_test_add_func ("/Forkjoin/PolicyPlugins/quorum-losers-finish", test_quorum_losers_finish);
  g_test_add_func ("/Forkjoin/PolicyPlugins/quorum-fail-fast", test_quorum_fail_fast);
  g_test_add_func ("/Forkjoin/PolicyPlugins/budget-skips", test_budget_skips);
  g_test_add_func ("/Forkjoin/PolicyPlugins/vote-majority", test_vote_majority);
  g_test_add_func ("/Forkjoin/PolicyPlugins/vote-plurality", test_vote_plurality);
  g_test_add_func ("/Forkjoin/PolicyPlugins/vote-tie", test_vote_tie);

  return g_test_run ();
}
