/* fj-bench-fanout.c — N agents through one FjAgentRunner, for benchmarks
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Runs --agents single-turn agents at --max-concurrent against --url with
 * the key in FJ_BENCH_KEY, and prints one JSON line: wall time, outcome
 * counts, and the client's sessions.
 */

#include <stdio.h>
#include <sys/resource.h>

#include <forkjoin.h>

static char *url;
static int n_agents = 1000;
static int max_concurrent = 100;
static gboolean stream;
static int connections_per_session;

static const GOptionEntry entries[] = {
  { "url", 'u', 0, G_OPTION_ARG_STRING, &url, "The simulator's base URL", "URL" },
  { "agents", 'n', 0, G_OPTION_ARG_INT, &n_agents, "Agents (1000)", "N" },
  { "max-concurrent", 'c', 0, G_OPTION_ARG_INT, &max_concurrent, "Cap (100; 0 = none)", "N" },
  { "stream", 's', 0, G_OPTION_ARG_NONE, &stream, "Stream the replies", NULL },
  { "connections-per-session", 0, 0, G_OPTION_ARG_INT, &connections_per_session,
    "The client's connections per libsoup session (0: its default)", "N" },
  { NULL }
};

static void
run_done_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  GPtrArray **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = fj_agent_runner_run_finish (FJ_AGENT_RUNNER (source), result, &error);
  if (*out == NULL)
    g_printerr ("fj-bench-fanout: %s\n", error->message);
}

static void
raise_fd_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max)
    {
      limit.rlim_cur = limit.rlim_max;
      setrlimit (RLIMIT_NOFILE, &limit);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GListStore) agents = g_list_store_new (FJ_TYPE_AGENT);
  g_autoptr(FjClient) client = NULL;
  g_autoptr(FjAgentRunner) runner = NULL;
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;
  guint n_success = 0;
  gint64 start;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || url == NULL)
    {
      g_printerr ("fj-bench-fanout: %s\n", error ? error->message : "--url is required");
      return 2;
    }

  raise_fd_limit ();
  client = fj_client_new_for_base_url (url);
  fj_client_set_api_key (client, g_getenv ("FJ_BENCH_KEY"));
  if (connections_per_session > 0)
    fj_client_set_connections_per_session (client, connections_per_session);

  for (int i = 0; i < n_agents; i++)
    {
      g_autofree char *name = g_strdup_printf ("agent-%d", i);
      g_autofree char *instructions = g_strdup_printf ("You are analyst %d.", i);
      g_autoptr(FjAgent) agent = fj_agent_new (name);

      fj_agent_set_instructions (agent, instructions);
      fj_agent_set_stream (agent, stream);
      g_list_store_append (agents, agent);
    }

  runner = fj_agent_runner_new (client);
  fj_agent_runner_set_max_concurrent (runner, max_concurrent);

  start = g_get_monotonic_time ();
  fj_agent_runner_run_async (runner, G_LIST_MODEL (agents), "Summarise the quarter", NULL,
                             run_done_cb, &results);
  while (results == NULL && fj_agent_runner_get_running (runner))
    g_main_context_iteration (NULL, TRUE);
  if (results == NULL)
    return 1;

  for (guint i = 0; i < results->len; i++)
    {
      FjAgentResult *result = g_ptr_array_index (results, i);

      if (fj_agent_result_get_status (result) == FJ_AGENT_STATUS_SUCCESS)
        n_success++;
      else if (n_agents - n_success < 5)
        g_printerr ("%s: %s\n", fj_agent_result_get_agent_name (result),
                    fj_agent_result_get_error_message (result));
    }

  {
    double wall = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
    struct rusage usage;

    getrusage (RUSAGE_SELF, &usage);
    g_print ("{\"agents\": %d, \"max_concurrent\": %d, \"succeeded\": %u, \"wall_s\": %.3f, "
             "\"cpu_s\": %.3f, \"peak_rss_mib\": %.1f, \"sessions\": %u}\n",
             n_agents, max_concurrent, n_success, wall,
             usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
             usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6,
             usage.ru_maxrss / 1024.0,
             fj_client_get_n_sessions (client));
  }

  return n_success == (guint) n_agents ? 0 : 1;
}
