/* fj-fork-join-demo.c — the seed scenario: fork three analysts, join them
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Usage: fj-fork-join-demo [--simulate] [--scenario FILE] [QUESTION]
 *
 * Three analysts answer one question in parallel; with a quorum of 2 the
 * `llm` synthesis plugin merges what succeeded and is told which
 * perspective is missing and why.  Plugins are found through
 * FORKJOIN_PLUGIN_PATH, then the installed plugin directory.
 */

#include <locale.h>
#include <stdio.h>

#include <forkjoin.h>

static gboolean simulate;
static char *scenario;

static const GOptionEntry entries[] = {
  { "simulate", 's', 0, G_OPTION_ARG_NONE, &simulate,
    "Run against the built-in simulator instead of the API", NULL },
  { "scenario", 0, 0, G_OPTION_ARG_FILENAME, &scenario,
    "A simulator scenario file", "FILE" },
  { NULL }
};

static const struct {
  const char *name;
  const char *instructions;
} team[] = {
  { "market-analyst", "You are a market analyst. Judge demand, competitors and share." },
  { "technical-analyst", "You are a technical analyst. Judge the product and its delivery." },
  { "financial-analyst", "You are a financial analyst. Judge revenue, margins and cash." },
};

static const char *
nick (GType type,
      int   value)
{
  GEnumClass *klass = g_type_class_peek (type);
  GEnumValue *v = g_enum_get_value (klass, value);

  return v ? v->value_nick : "?";
}

static void
on_finished (FjAgentRunner *runner,
             FjAgentResult *result,
             gpointer       user_data)
{
  gboolean ok = fj_agent_result_get_status (result) == FJ_AGENT_STATUS_SUCCESS;

  g_print ("  %s %-18s %-9s %5.2f s  %u attempt%s\n",
           ok ? "+" : "x",
           fj_agent_result_get_agent_name (result),
           ok ? "success" : fj_agent_result_get_error_code (result),
           fj_agent_result_get_duration (result),
           fj_agent_result_get_attempts (result),
           fj_agent_result_get_attempts (result) == 1 ? "" : "s");
}

static void
on_done (GObject      *source,
         GAsyncResult *res,
         gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (res);
}

static void
on_synthesis (FjForkJoinTask *task,
              gpointer        user_data)
{
  g_print ("\n  synthesising...\n");
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = g_option_context_new ("[QUESTION]");
  g_autoptr(FjSimulator) simulator = NULL;
  g_autoptr(FjClient) client = NULL;
  g_autoptr(FjAgentRunner) runner = NULL;
  g_autoptr(FjForkJoinTask) task = NULL;
  g_autoptr(FjForkJoinResult) result = NULL;
  g_autoptr(GObject) synthesizer = NULL;
  g_autoptr(GListStore) agents = g_list_store_new (FJ_TYPE_AGENT);
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) async_result = NULL;
  FjPluginRegistry *registry;
  const char *question = "Analyze Q3 performance for ACME Corp";
  GPtrArray *results;
  gboolean gap_header = FALSE;

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("fj-fork-join-demo: %s\n", error->message);
      return 2;
    }
  if (argc > 1)
    question = argv[1];

  if (simulate)
    {
      g_autofree char *url = NULL;
      g_autofree char *key = g_uuid_string_random ();

      simulator = fj_simulator_new ();
      fj_simulator_set_api_key (simulator, key);
      if (scenario != NULL && !fj_simulator_load_scenario_from_file (simulator, scenario, &error))
        {
          g_printerr ("fj-fork-join-demo: %s\n", error->message);
          return 2;
        }
      if (!fj_simulator_start (simulator, &error))
        {
          g_printerr ("fj-fork-join-demo: cannot start the simulator: %s\n", error->message);
          return 1;
        }
      url = fj_simulator_dup_base_url (simulator);
      client = fj_client_new_for_base_url (url);
      fj_client_set_api_key (client, key);
    }
  else
    {
      client = fj_client_new ();
      if (!fj_client_get_has_credentials (client))
        {
          g_printerr ("fj-fork-join-demo: set ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN, "
                      "or pass --simulate to use the built-in simulator\n");
          return 2;
        }
    }

  registry = fj_plugin_registry_get_default ();
  fj_plugin_registry_load_default (registry);
  synthesizer = fj_plugin_registry_create (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "llm", NULL, &error);
  if (synthesizer == NULL)
    {
      g_printerr ("fj-fork-join-demo: %s\n", error->message);
      return 2;
    }

  for (guint i = 0; i < G_N_ELEMENTS (team); i++)
    {
      g_autoptr(FjAgent) agent = fj_agent_new (team[i].name);

      fj_agent_set_instructions (agent, team[i].instructions);
      fj_agent_set_timeout (agent, 30);
      g_list_store_append (agents, agent);
    }

  runner = fj_agent_runner_new (client);
  g_signal_connect (runner, "agent-finished", G_CALLBACK (on_finished), NULL);
  task = fj_fork_join_task_new (runner, FJ_SYNTHESIZER (synthesizer));
  fj_fork_join_task_set_min_successes (task, 2);
  g_signal_connect (task, "synthesis-started", G_CALLBACK (on_synthesis), NULL);

  g_print ("> %s\n  3 analysts in parallel, quorum 2, LLM synthesis\n\n", question);
  /* Async on this thread's main context, where the in-process simulator
   * serves too. */
  fj_fork_join_task_run_async (task, G_LIST_MODEL (agents), question, NULL, on_done, &async_result);
  while (async_result == NULL)
    g_main_context_iteration (NULL, TRUE);
  result = fj_fork_join_task_run_finish (task, async_result, &error);
  if (result == NULL)
    {
      g_printerr ("fj-fork-join-demo: %s\n", error->message);
      return 1;
    }

  g_print ("\n[%s] in %.2f s, %" G_GINT64_FORMAT " input / %" G_GINT64_FORMAT " output tokens\n\n",
           nick (FJ_TYPE_FORK_JOIN_STATUS, fj_fork_join_result_get_status (result)),
           fj_fork_join_result_get_wall_time (result),
           fj_usage_get_total_input (fj_fork_join_result_get_usage (result)),
           fj_fork_join_result_get_usage (result)->output_tokens);

  if (fj_fork_join_result_get_output (result) != NULL)
    g_print ("%s\n", fj_fork_join_result_get_output (result));
  else if (fj_fork_join_result_get_error (result) != NULL)
    g_print ("%s\n", fj_fork_join_result_get_error (result)->message);

  results = fj_fork_join_result_get_results (result);
  for (guint i = 0; i < results->len; i++)
    {
      FjAgentResult *agent_result = g_ptr_array_index (results, i);

      if (fj_agent_result_get_status (agent_result) == FJ_AGENT_STATUS_SUCCESS)
        continue;
      if (!gap_header)
        g_print ("\nMissing perspectives:\n");
      gap_header = TRUE;
      /* The message names the agent already. */
      g_print ("  - %s\n", fj_agent_result_get_error_message (agent_result));
    }

  return fj_fork_join_result_get_status (result) == FJ_FORK_JOIN_STATUS_FAILED ? 1 : 0;
}
