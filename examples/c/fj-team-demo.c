/* fj-team-demo.c — three analysts in parallel, every outcome settled
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Usage: fj-team-demo [--simulate] [--scenario FILE] [--timeout S] [QUESTION]
 *
 * Runs a market, a technical and a financial analyst on one question at
 * once and prints each one's settled result as it lands, then the wall time
 * against the sum of the durations.  With --simulate it runs against the
 * built-in simulator (with --scenario, e.g. data/scenarios/research-team.json,
 * where one analyst is slow and one is rate-limited once); without, against
 * the Anthropic API with ANTHROPIC_API_KEY.
 */

#include <locale.h>
#include <stdio.h>

#include <forkjoin.h>

static gboolean simulate;
static char *scenario;
static double timeout = 5.0;

static const GOptionEntry entries[] = {
  { "simulate", 's', 0, G_OPTION_ARG_NONE, &simulate,
    "Run against the built-in simulator instead of the API", NULL },
  { "scenario", 0, 0, G_OPTION_ARG_FILENAME, &scenario,
    "A simulator scenario file", "FILE" },
  { "timeout", 't', 0, G_OPTION_ARG_DOUBLE, &timeout,
    "Each analyst's time limit in seconds (5)", "S" },
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

static void
on_retrying (FjAgentRunner *runner,
             FjAgentResult *result,
             guint          attempt,
             double         delay,
             guint          status,
             const GError  *reason,
             gpointer       user_data)
{
  g_print ("  ~ %-18s HTTP %u, retrying in %.1f s (attempt %u)\n",
           fj_agent_result_get_agent_name (result), status, delay, attempt);
}

static void
on_finished (FjAgentRunner *runner,
             FjAgentResult *result,
             gpointer       user_data)
{
  const char *text = fj_agent_result_get_output (result);
  g_autofree char *excerpt = NULL;

  if (text == NULL)
    text = fj_agent_result_get_error_message (result);
  excerpt = g_utf8_substring (text ? text : "", 0, MIN (g_utf8_strlen (text ? text : "", -1), 70));

  g_print ("  %s %-18s %-9s %5.2f s  %u attempt%s  %s%s\n",
           fj_agent_result_get_status (result) == FJ_AGENT_STATUS_SUCCESS ? "+" : "x",
           fj_agent_result_get_agent_name (result),
           fj_agent_result_get_status (result) == FJ_AGENT_STATUS_SUCCESS ?
             "success" : fj_agent_result_get_error_code (result),
           fj_agent_result_get_duration (result),
           fj_agent_result_get_attempts (result),
           fj_agent_result_get_attempts (result) == 1 ? " " : "s",
           excerpt,
           g_utf8_strlen (text ? text : "", -1) > 70 ? "..." : "");
}

static void
on_done (GObject      *source,
         GAsyncResult *res,
         gpointer      user_data)
{
  GPtrArray **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = fj_agent_runner_run_finish (FJ_AGENT_RUNNER (source), res, &error);
  if (*out == NULL)
    g_printerr ("fj-team-demo: %s\n", error->message);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = g_option_context_new ("[QUESTION]");
  g_autoptr(FjSimulator) simulator = NULL;
  g_autoptr(FjClient) client = NULL;
  g_autoptr(FjAgentRunner) runner = NULL;
  g_autoptr(GListStore) agents = g_list_store_new (FJ_TYPE_AGENT);
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;
  const char *question = "Analyze Q3 performance for ACME Corp";
  double sum = 0;
  gint64 start;
  double wall;

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("fj-team-demo: %s\n", error->message);
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
          g_printerr ("fj-team-demo: %s\n", error->message);
          return 2;
        }
      if (!fj_simulator_start (simulator, &error))
        {
          g_printerr ("fj-team-demo: cannot start the simulator: %s\n", error->message);
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
          g_printerr ("fj-team-demo: set ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN, "
                      "or pass --simulate to use the built-in simulator\n");
          return 2;
        }
    }

  for (guint i = 0; i < G_N_ELEMENTS (team); i++)
    {
      g_autoptr(FjAgent) agent = fj_agent_new (team[i].name);

      fj_agent_set_instructions (agent, team[i].instructions);
      g_list_store_append (agents, agent);
    }

  runner = fj_agent_runner_new (client);
  fj_agent_runner_set_agent_timeout (runner, timeout);
  g_signal_connect (runner, "agent-retrying", G_CALLBACK (on_retrying), NULL);
  g_signal_connect (runner, "agent-finished", G_CALLBACK (on_finished), NULL);

  g_print ("> %s\n  3 analysts in parallel, %.0f s each at most\n\n", question, timeout);
  start = g_get_monotonic_time ();
  fj_agent_runner_run_async (runner, G_LIST_MODEL (agents), question, NULL, on_done, &results);
  while (fj_agent_runner_get_running (runner))
    g_main_context_iteration (NULL, TRUE);
  wall = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;

  if (results == NULL)
    return 1;

  for (guint i = 0; i < results->len; i++)
    sum += fj_agent_result_get_duration (g_ptr_array_index (results, i));

  g_print ("\n  %u succeeded, %u failed; wall %.2f s against %.2f s one after another (%.1fx)\n",
           fj_agent_runner_get_n_succeeded (runner), fj_agent_runner_get_n_failed (runner),
           wall, sum, wall > 0 ? sum / wall : 0);

  return 0;
}
