/* parallel-research.c — three researchers in parallel, one LLM synthesis
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Usage: parallel-research [--simulate] [SPEC [SCENARIO]]   (key: ANTHROPIC_API_KEY)
 */

#include <forkjoin.h>

static void
done_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (res);
}

static int
fail (int status, const char *message)
{
  g_printerr ("parallel-research: %s\n", message);
  return status;
}

int
main (int argc, char *argv[])
{
  g_autoptr(FjSpec) spec = fj_spec_new (NULL);   /* plugins from the default registry */
  g_autoptr(FjClient) client = fj_client_new (); /* ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL */
  g_autoptr(FjSimulator) simulator = NULL;
  g_autoptr(FjForkJoinTask) task = NULL;
  g_autoptr(FjForkJoinResult) result = NULL;
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GEnumClass) statuses = g_type_class_ref (FJ_TYPE_AGENT_STATUS);
  g_autofree char *url = NULL;
  gboolean simulate = argc > 1 && g_str_equal (argv[1], "--simulate");
  const char *path = argc > 1 + simulate ? argv[1 + simulate] : "data/examples/research.json";
  const char *scenario = argc > 2 + simulate ? argv[2 + simulate] : "data/scenarios/research.json";
  GPtrArray *results;

  if (simulate)   /* an Anthropic-compatible server on 127.0.0.1, in this process */
    {
      simulator = fj_simulator_new ();
      if (!fj_simulator_load_scenario_from_file (simulator, scenario, &error) ||
          !fj_simulator_start (simulator, &error))
        return fail (2, error->message);
      url = fj_simulator_dup_base_url (simulator);
      fj_client_set_base_url (client, url);
      fj_client_set_api_key (client, "simulated");   /* it takes any key */
    }
  if (!fj_client_get_has_credentials (client))
    return fail (2, "set ANTHROPIC_API_KEY, or pass --simulate");
  if (!fj_spec_load_from_file (spec, path, &error) ||
      (task = fj_spec_create_task (spec, client, &error)) == NULL)
    return fail (2, error->message);

  fj_fork_join_task_run_async (task, fj_spec_get_agents (spec), fj_spec_get_input (spec),
                               NULL, done_cb, &res);
  while (res == NULL)   /* async, as the simulator serves on this main context too */
    g_main_context_iteration (NULL, TRUE);
  if ((result = fj_fork_join_task_run_finish (task, res, &error)) == NULL)
    return fail (1, error->message);

  results = fj_fork_join_result_get_results (result);
  for (guint i = 0; i < results->len; i++)
    {
      FjAgentResult *r = g_ptr_array_index (results, i);

      g_print ("%-20s %-9s %5.2f s  %s\n", fj_agent_result_get_agent_name (r),
               g_enum_get_value (statuses, fj_agent_result_get_status (r))->value_nick,
               fj_agent_result_get_duration (r),
               fj_agent_result_get_error_message (r) ? fj_agent_result_get_error_message (r) : "");
    }
  if (fj_fork_join_result_get_output (result) == NULL)   /* quorum not met, or synthesis failed */
    return fail (1, fj_fork_join_result_get_error (result)->message);
  g_print ("\n%s\n", fj_fork_join_result_get_output (result));
  return 0;
}
