/* test-synthesis-matrix.c — every shipped synthesizer through a whole
 * fork-join against the simulator: complete, degraded and failed.
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "fj-test-utils.h"

static FjPluginRegistry *registry;

static const char *synthesizers[] = { "llm", "concat", "vote" };

static const struct {
  const char *name;
  const char *instructions;
} team[] = {
  { "market-analyst", "You are a market analyst." },
  { "technical-analyst", "You are a technical analyst." },
  { "financial-analyst", "You are a financial analyst." },
};

typedef enum {
  CASE_COMPLETE,
  CASE_DEGRADED,
  CASE_FAILED,
} Case;

static const char *scenarios[] = {
  [CASE_COMPLETE] = "{\"latency\": 0.05, \"output_tokens\": 20}",
  [CASE_DEGRADED] = "{\"latency\": 0.05, \"output_tokens\": 20, \"agents\": ["
                    "{\"match\": \"technical analyst\", \"failures\": [{\"status\": 500}]}]}",
  [CASE_FAILED] = "{\"latency\": 0.05, \"output_tokens\": 20, \"agents\": ["
                  "{\"match\": \"technical analyst\", \"failures\": [{\"status\": 500}]},"
                  "{\"match\": \"financial analyst\", \"failures\": [{\"status\": 529}]}]}",
};

static void
done_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static void
run_case (const char *synthesizer_name,
          Case        which)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (scenarios[which]);
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(GListStore) agents = g_list_store_new (FJ_TYPE_AGENT);
  g_autoptr(GObject) synthesizer = NULL;
  g_autoptr(FjForkJoinTask) task = NULL;
  g_autoptr(FjForkJoinResult) result = NULL;
  g_autoptr(GAsyncResult) async_result = NULL;
  g_autoptr(GError) error = NULL;
  const char *output;

  synthesizer = fj_plugin_registry_create (registry, FJ_PLUGIN_KIND_SYNTHESIZER,
                                           synthesizer_name, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (FJ_IS_SYNTHESIZER (synthesizer));

  fj_client_set_max_retries (client, 0);
  for (guint i = 0; i < G_N_ELEMENTS (team); i++)
    {
      g_autoptr(FjAgent) agent = fj_agent_new (team[i].name);

      fj_agent_set_instructions (agent, team[i].instructions);
      g_list_store_append (agents, agent);
    }

  task = fj_fork_join_task_new (runner, FJ_SYNTHESIZER (synthesizer));
  fj_fork_join_task_set_min_successes (task, 2);
  fj_fork_join_task_run_async (task, G_LIST_MODEL (agents), "Analyze Q3 performance for ACME Corp",
                               NULL, done_cb, &async_result);
  fj_test_wait_result (&async_result, 30);
  result = fj_fork_join_task_run_finish (task, async_result, &error);
  g_assert_no_error (error);

  g_assert_cmpuint (fj_fork_join_result_get_results (result)->len, ==, 3);
  output = fj_fork_join_result_get_output (result);

  /* The JSON names the plugin by the short name it was created under. */
  if (which != CASE_FAILED)
    {
      g_autoptr(JsonNode) json = fj_fork_join_result_to_json (result);
      JsonObject *synthesis = json_object_get_object_member (json_node_get_object (json), "synthesis");

      g_assert_nonnull (synthesis);
      g_assert_cmpstr (json_object_get_string_member (synthesis, "plugin"), ==, synthesizer_name);
    }

  switch (which)
    {
    case CASE_COMPLETE:
      g_assert_cmpint (fj_fork_join_result_get_status (result), ==, FJ_FORK_JOIN_STATUS_COMPLETE);
      g_assert_nonnull (output);
      g_assert_cmpstr (output, !=, "");
      break;

    case CASE_DEGRADED:
      g_assert_cmpint (fj_fork_join_result_get_status (result), ==, FJ_FORK_JOIN_STATUS_DEGRADED);
      g_assert_nonnull (output);
      /* The text-only synthesizers name the gap themselves; the llm one
       * told the model (test-llm-synthesis reads its request). */
      if (g_strcmp0 (synthesizer_name, "llm") != 0)
        g_assert_nonnull (strstr (output, "technical-analyst"));
      break;

    case CASE_FAILED:
      g_assert_cmpint (fj_fork_join_result_get_status (result), ==, FJ_FORK_JOIN_STATUS_FAILED);
      g_assert_error (fj_fork_join_result_get_error (result), FJ_ERROR, FJ_ERROR_QUORUM_NOT_MET);
      g_assert_null (output);
      /* The synthesizer was not called: the simulator saw the fork only. */
      g_assert_cmpuint (fj_simulator_get_n_requests (sim), ==, 3);
      break;

    default:
      g_assert_not_reached ();
    }
}

static void
test_case (gconstpointer data)
{
  guint n = GPOINTER_TO_UINT (data);

  run_case (synthesizers[n / 3], n % 3);
}

int
main (int   argc,
      char *argv[])
{
  static const char *case_names[] = { "complete", "degraded", "failed" };
  g_autofree char *plugins = NULL;
  g_autoptr(GString) path = g_string_new (NULL);

  fj_test_init (&argc, &argv);

  plugins = g_test_build_filename (G_TEST_BUILT, "..", "plugins", "synthesis", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (synthesizers); i++)
    g_string_append_printf (path, "%s%s/%s", i ? ":" : "", plugins, synthesizers[i]);

  registry = fj_plugin_registry_new ();
  g_setenv ("FORKJOIN_PLUGIN_PATH", path->str, TRUE);
  fj_plugin_registry_load_default (registry);
  g_unsetenv ("FORKJOIN_PLUGIN_PATH");
  g_assert_cmpuint (fj_plugin_registry_get_errors (registry)->len, ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (synthesizers); i++)
    for (guint j = 0; j < G_N_ELEMENTS (case_names); j++)
      {
        g_autofree char *test_path = g_strdup_printf ("/Forkjoin/SynthesisMatrix/%s/%s",
                                                      synthesizers[i], case_names[j]);

        g_test_add_data_func (test_path, GUINT_TO_POINTER (i * 3 + j), test_case);
      }

  return g_test_run ();
}
