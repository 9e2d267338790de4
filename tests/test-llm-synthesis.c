/* test-llm-synthesis.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-test-utils.h"

#include <string.h>

/* The llm synthesizer plugin, loaded from its build folder, against the
 * simulator. */

static const char *analyst_names[] = { "financial", "technical", "market" };

/* Loaded in main(), before any thread: it sets the environment. */
static FjPluginRegistry *shared_registry;

static FjPluginRegistry *
load_registry (void)
{
  FjPluginRegistry *registry = fj_plugin_registry_new ();
  g_autofree char *dir = g_test_build_filename (G_TEST_BUILT, "..", "plugins", "synthesis", "llm", NULL);

  g_setenv ("FORKJOIN_PLUGIN_PATH", dir, TRUE);
  fj_plugin_registry_load_default (registry);
  g_unsetenv ("FORKJOIN_PLUGIN_PATH");

  return registry;
}

static FjPluginRegistry *
registry_new (void)
{
  g_assert_true (fj_plugin_registry_lookup (shared_registry, FJ_PLUGIN_KIND_SYNTHESIZER, "llm") != G_TYPE_INVALID);

  return g_object_ref (shared_registry);
}

static FjSynthesizer *
create_llm (FjPluginRegistry *registry,
            const char       *options_json)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;
  GObject *object;

  if (options_json != NULL)
    {
      node = json_from_string (options_json, &error);
      g_assert_no_error (error);
    }

  object = fj_plugin_registry_create (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "llm",
                                      node != NULL ? json_node_get_object (node) : NULL,
                                      &error);
  g_assert_no_error (error);
  g_assert_true (FJ_IS_SYNTHESIZER (object));

  return FJ_SYNTHESIZER (object);
}

static char *
instructions_of (const char *name)
{
  return g_strdup_printf ("You are the %s analyst. Secret-%s-method: look at the data.", name, name);
}

static GListStore *
analysts_new (void)
{
  GListStore *store = g_list_store_new (FJ_TYPE_AGENT);

  for (guint i = 0; i < G_N_ELEMENTS (analyst_names); i++)
    {
      g_autofree char *name = g_strdup_printf ("%s-analyst", analyst_names[i]);
      g_autofree char *instructions = instructions_of (analyst_names[i]);
      g_autoptr(FjAgent) agent = fj_agent_new (name);

      fj_agent_set_instructions (agent, instructions);
      g_list_store_append (store, agent);
    }

  return store;
}

static FjForkJoinResult *
run_task (FjForkJoinTask *task,
          GListModel     *agents)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  FjForkJoinResult *ret;

  fj_fork_join_task_run_async (task, agents, "Analyze Q3 performance for ACME Corp", NULL,
                               fj_test_async_result_cb, &result);
  fj_test_wait_result (&result, 60);
  ret = fj_fork_join_task_run_finish (task, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ret);

  return ret;
}

/* The recorded request whose system prompt starts with @system_prefix. */
static JsonObject *
find_request (JsonNode   *stats,
              const char *system_prefix)
{
  JsonArray *requests = json_object_get_array_member (json_node_get_object (stats), "log");
  JsonObject *found = NULL;

  g_assert_nonnull (requests);
  for (guint i = 0; i < json_array_get_length (requests); i++)
    {
      JsonObject *entry = json_array_get_object_element (requests, i);
      const char *system = json_object_get_string_member_with_default (entry, "system", NULL);

      if (system != NULL && g_str_has_prefix (system, system_prefix))
        {
          g_assert_null (found);
          found = entry;
        }
    }

  g_assert_nonnull (found);
  return found;
}

static FjAgentResult *
result_at (FjForkJoinResult *result,
           guint             index)
{
  return g_ptr_array_index (fj_fork_join_result_get_results (result), index);
}

static const char *degraded_scenario =
  "{\"seed\": 5, \"latency\": 0.02, \"output_tokens\": 12,"
  " \"agents\": [{\"match\": \"technical analyst\", \"failures\": [{\"status\": 500}]}]}";

static void
test_llm_options (void)
{
  g_autoptr(FjPluginRegistry) registry = registry_new ();
  g_autoptr(FjSynthesizer) synth = create_llm (registry, NULL);
  g_autoptr(FjSynthesizer) custom = NULL;
  g_autoptr(GListModel) list = fj_plugin_registry_list (registry);
  g_autoptr(GError) error = NULL;
  g_autoptr(GObject) bad = NULL;
  g_autoptr(JsonNode) client_option = json_from_string ("{\"client\": \"x\"}", NULL);
  g_autofree char *model = NULL;
  g_autofree char *instructions = NULL;
  g_autofree char *name = NULL;
  guint max_tokens, max_turns;
  FjClient *client = NULL;

  g_object_get (synth,
                "model", &model,
                "instructions", &instructions,
                "name", &name,
                "max-tokens", &max_tokens,
                "max-turns", &max_turns,
                "client", &client,
                NULL);
  g_assert_cmpstr (model, ==, FJ_AGENT_DEFAULT_MODEL);
  g_assert_cmpstr (name, ==, "synthesizer");
  g_assert_cmpuint (max_tokens, ==, 1024);
  g_assert_cmpuint (max_turns, ==, 5);
  g_assert_null (client);
  /* from the system template */
  g_assert_true (g_str_has_prefix (instructions, "You are the synthesizer of a fork-join run"));
  g_assert_nonnull (strstr (instructions, "name the perspectives"));
  g_assert_null (fj_synthesizer_get_result (synth));

  custom = create_llm (registry,
                       "{\"model\": \"claude-opus-5\", \"instructions\": \"Merge.\","
                       " \"max_tokens\": 99, \"max_turns\": 2, \"name\": \"editor\"}");
  g_clear_pointer (&model, g_free);
  g_clear_pointer (&instructions, g_free);
  g_clear_pointer (&name, g_free);
  g_object_get (custom,
                "model", &model,
                "instructions", &instructions,
                "name", &name,
                "max-tokens", &max_tokens,
                "max-turns", &max_turns,
                NULL);
  g_assert_cmpstr (model, ==, "claude-opus-5");
  g_assert_cmpstr (instructions, ==, "Merge.");
  g_assert_cmpstr (name, ==, "editor");
  g_assert_cmpuint (max_tokens, ==, 99);
  g_assert_cmpuint (max_turns, ==, 2);

  /* The client is wiring, not an option: not listed, not accepted. */
  for (guint i = 0; i < g_list_model_get_n_items (list); i++)
    {
      g_autoptr(FjPluginInfo) info = g_list_model_get_item (list, i);
      g_autoptr(JsonNode) node = json_node_new (JSON_NODE_ARRAY);
      g_autofree char *json = NULL;

      if (fj_plugin_info_get_plugin_type (info) != G_OBJECT_TYPE (synth))
        continue;

      json_node_set_array (node, fj_plugin_info_get_options (info));
      json = json_to_string (node, FALSE);
      g_assert_nonnull (strstr (json, "\"max_tokens\""));
      g_assert_nonnull (strstr (json, "\"instructions\""));
      g_assert_null (strstr (json, "\"client\""));
    }

  bad = fj_plugin_registry_create (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "llm",
                                   json_node_get_object (client_option), &error);
  g_assert_null (bad);
  g_assert_nonnull (error);
}

static void
test_llm_degraded (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (degraded_scenario);
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(FjPluginRegistry) registry = registry_new ();
  g_autoptr(FjSynthesizer) synth = create_llm (registry, NULL);
  g_autoptr(FjForkJoinTask) task = fj_fork_join_task_new (runner, synth);
  g_autoptr(GListStore) agents = analysts_new ();
  g_autoptr(FjForkJoinResult) result = NULL;
  g_autoptr(JsonNode) stats = NULL;
  g_autoptr(FjClient) synth_client = NULL;
  FjAgentResult *synthesis;
  JsonObject *request;
  const char *user;
  const char *system;
  FjUsage *usage;
  FjUsage total = { 0 };

  fj_simulator_set_record_prompts (sim, TRUE);
  fj_client_set_max_retries (client, 0);
  fj_fork_join_task_set_min_successes (task, 2);

  result = run_task (task, G_LIST_MODEL (agents));

  g_assert_cmpint (fj_fork_join_result_get_status (result), ==, FJ_FORK_JOIN_STATUS_DEGRADED);
  g_assert_null (fj_fork_join_result_get_error (result));
  g_assert_cmpint (fj_agent_result_get_status (result_at (result, 1)), ==, FJ_AGENT_STATUS_FAILED);
  g_assert_nonnull (fj_fork_join_result_get_output (result));
  g_assert_cmpstr (fj_fork_join_result_get_output (result), !=, "");

  /* The task handed the runner's client over. */
  g_object_get (synth, "client", &synth_client, NULL);
  g_assert_true (synth_client == client);

  stats = fj_simulator_get_stats (sim);
  request = find_request (stats, "You are the synthesizer of a fork-join run");
  system = json_object_get_string_member (request, "system");
  user = json_object_get_string_member (request, "user");
  g_assert_nonnull (strstr (system, "name the gaps"));
  g_assert_nonnull (user);
  g_assert_nonnull (strstr (user, "Analyze Q3 performance for ACME Corp"));

  /* every successful output, in its own section */
  for (guint i = 0; i < 3; i++)
    {
      FjAgentResult *agent = result_at (result, i);
      g_autofree char *heading = g_strdup_printf ("## %s\n", fj_agent_result_get_agent_name (agent));
      g_autofree char *output = NULL;

      if (fj_agent_result_get_status (agent) != FJ_AGENT_STATUS_SUCCESS)
        {
          g_assert_null (strstr (user, heading));
          continue;
        }
      output = g_strstrip (g_strdup (fj_agent_result_get_output (agent)));
      g_assert_cmpstr (output, !=, "");
      g_assert_nonnull (strstr (user, heading));
      g_assert_nonnull (strstr (user, output));
    }

  /* the missing agent, named with why, and the asks */
  g_assert_nonnull (strstr (user, "Missing perspectives"));
  g_assert_nonnull (strstr (user, "1 of 3 agents gave no answer"));
  g_assert_nonnull (strstr (user, "- technical-analyst: failed (server"));
  g_assert_nonnull (strstr (user, "Name these gaps"));
  g_assert_nonnull (strstr (user, "naming the perspectives"));
  /* never the failed agent's instructions (nor anyone's) */
  g_assert_null (strstr (user, "Secret-technical-method"));
  g_assert_null (strstr (user, "Secret-"));
  g_assert_null (strstr (user, "technical analyst"));

  /* The synthesis step's own result, counted in the total. */
  synthesis = fj_fork_join_result_get_synthesis_result (result);
  g_assert_nonnull (synthesis);
  g_assert_true (synthesis == fj_synthesizer_get_result (synth));
  g_assert_cmpstr (fj_agent_result_get_agent_name (synthesis), ==, "synthesizer");
  g_assert_cmpint (fj_agent_result_get_status (synthesis), ==, FJ_AGENT_STATUS_SUCCESS);
  g_assert_cmpstr (fj_agent_result_get_output (synthesis), ==, fj_fork_join_result_get_output (result));
  g_assert_cmpint (fj_agent_result_get_usage (synthesis)->output_tokens, ==, 12);
  g_assert_cmpint (fj_agent_result_get_usage (synthesis)->input_tokens, >, 0);
  g_assert_cmpuint (fj_agent_result_get_attempts (synthesis), ==, 1);
  g_assert_cmpfloat (fj_agent_result_get_duration (synthesis), >, 0.0);

  for (guint i = 0; i < 3; i++)
    fj_usage_add (&total, fj_agent_result_get_usage (result_at (result, i)));
  fj_usage_add (&total, fj_agent_result_get_usage (synthesis));
  usage = fj_fork_join_result_get_usage (result);
  g_assert_cmpint (usage->output_tokens, ==, 3 * 12);
  g_assert_cmpint (usage->output_tokens, ==, total.output_tokens);
  g_assert_cmpint (usage->input_tokens, ==, total.input_tokens);
}

typedef struct
{
  FjSynthesizer *synth;
  GPtrArray *results;
  char *output;
  GError *error;
  gboolean done;
} SyncData;

static gboolean
sync_done_cb (gpointer user_data)
{
  SyncData *sync = user_data;

  sync->done = TRUE;
  return G_SOURCE_REMOVE;
}

static gpointer
synthesize_thread (gpointer user_data)
{
  SyncData *sync = user_data;

  sync->output = fj_synthesizer_synthesize (sync->synth, "Analyze it", sync->results,
                                            NULL, &sync->error);
  g_main_context_invoke (NULL, sync_done_cb, sync);
  return NULL;
}

static void
test_llm_complete_sync (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new ("{\"seed\": 2, \"latency\": 0.01, \"output_tokens\": 8}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjPluginRegistry) registry = registry_new ();
  g_autoptr(FjSynthesizer) synth = create_llm (registry, "{\"name\": \"editor\", \"instructions\": \"Merge the answers.\"}");
  g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) stats = NULL;
  g_autofree char *output = NULL;
  JsonObject *request;
  const char *user;
  SyncData sync = { 0 };
  GThread *thread;

  fj_simulator_set_record_prompts (sim, TRUE);
  g_object_set (synth, "client", client, NULL);

  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s-analyst", analyst_names[i]);
      g_autoptr(FjAgent) agent = fj_agent_new (name);
      g_autofree char *instructions = instructions_of (analyst_names[i]);
      g_autoptr(GAsyncResult) async_result = NULL;
      FjAgentResult *result;

      fj_agent_set_instructions (agent, instructions);
      fj_agent_run_async (agent, client, "Analyze it", NULL, fj_test_async_result_cb, &async_result);
      fj_test_wait_result (&async_result, 30);
      result = fj_agent_run_finish (agent, async_result, &error);
      g_assert_no_error (error);
      g_assert_cmpint (fj_agent_result_get_status (result), ==, FJ_AGENT_STATUS_SUCCESS);
      g_ptr_array_add (results, result);
    }

  /* The blocking vfunc, on a context of its own in another thread (the
   * simulator serves on this one). */
  sync.synth = synth;
  sync.results = results;
  thread = g_thread_new ("synthesize", synthesize_thread, &sync);
  fj_test_wait_for (&sync.done, 60);
  g_thread_join (thread);
  g_assert_no_error (sync.error);
  output = g_steal_pointer (&sync.output);
  g_assert_nonnull (output);
  g_assert_cmpstr (fj_agent_result_get_agent_name (fj_synthesizer_get_result (synth)), ==, "editor");
  g_assert_cmpstr (fj_agent_result_get_output (fj_synthesizer_get_result (synth)), ==, output);

  stats = fj_simulator_get_stats (sim);
  request = find_request (stats, "Merge the answers.");
  user = json_object_get_string_member (request, "user");
  g_assert_nonnull (strstr (user, "## financial-analyst\n"));
  g_assert_nonnull (strstr (user, "## technical-analyst\n"));
  /* nobody failed: no gaps section */
  g_assert_null (strstr (user, "Missing perspectives"));
  g_assert_nonnull (strstr (user, "naming the perspectives"));
}

static void
test_llm_synthesis_failed (void)
{
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (
    "{\"seed\": 7, \"latency\": 0.02, \"output_tokens\": 10,"
    " \"agents\": [{\"match\": \"technical analyst\", \"failures\": [{\"status\": 500}]},"
    "              {\"match\": \"chief editor\", \"failures\": [{\"status\": 500}]}]}");
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(FjPluginRegistry) registry = registry_new ();
  g_autoptr(FjSynthesizer) synth = create_llm (registry, "{\"instructions\": \"You are the chief editor. Merge.\"}");
  g_autoptr(FjForkJoinTask) task = fj_fork_join_task_new (runner, synth);
  g_autoptr(GListStore) agents = analysts_new ();
  g_autoptr(FjForkJoinResult) result = NULL;
  const GError *error;
  FjAgentResult *synthesis;

  fj_client_set_max_retries (client, 0);
  fj_fork_join_task_set_min_successes (task, 2);

  result = run_task (task, G_LIST_MODEL (agents));

  g_assert_cmpint (fj_fork_join_result_get_status (result), ==, FJ_FORK_JOIN_STATUS_FAILED);
  error = fj_fork_join_result_get_error (result);
  g_assert_nonnull (error);
  g_assert_true (error->domain == FJ_ERROR);
  g_assert_true (g_str_has_prefix (error->message, "synthesizer: "));
  g_assert_null (fj_fork_join_result_get_output (result));

  /* the fork's results are kept */
  g_assert_cmpuint (fj_fork_join_result_get_results (result)->len, ==, 3);
  g_assert_cmpint (fj_agent_result_get_status (result_at (result, 0)), ==, FJ_AGENT_STATUS_SUCCESS);
  g_assert_cmpint (fj_agent_result_get_status (result_at (result, 1)), ==, FJ_AGENT_STATUS_FAILED);
  g_assert_cmpint (fj_agent_result_get_status (result_at (result, 2)), ==, FJ_AGENT_STATUS_SUCCESS);

  synthesis = fj_fork_join_result_get_synthesis_result (result);
  g_assert_nonnull (synthesis);
  g_assert_cmpint (fj_agent_result_get_status (synthesis), ==, FJ_AGENT_STATUS_FAILED);
  g_assert_cmpstr (fj_agent_result_get_error_code (synthesis), ==,
                   fj_agent_result_get_error_code (result_at (result, 1)));
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  fj_test_init (&argc, &argv);
  shared_registry = load_registry ();

  g_test_add_func ("/Forkjoin/LlmSynthesis/options", test_llm_options);
  g_test_add_func ("/Forkjoin/LlmSynthesis/degraded", test_llm_degraded);
  g_test_add_func ("/Forkjoin/LlmSynthesis/complete-sync", test_llm_complete_sync);
  g_test_add_func ("/Forkjoin/LlmSynthesis/synthesis-failed", test_llm_synthesis_failed);

  ret = g_test_run ();
  g_clear_object (&shared_registry);

  return ret;
}
