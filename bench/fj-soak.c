/* fj-soak.c — many agent runs in one process, watching resident memory
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A soak test, not part of CI. It starts an FjSimulator on 127.0.0.1 (in
 * this process on the same main context, or with --fork-simulator in a
 * child process so that only the client side is measured) with a scenario
 * that mixes faults into short streamed replies (5-20 ms, 6 tokens): 429
 * with a small retry-after, 529, 500, connections dropped mid-stream, SSE
 * error events, malformed JSON, and (--hang-every N) agents that are never
 * answered and hit their time limit. It runs --agents agents through one
 * FjClient in batches of --batch, one FjAgentRunner per batch
 * (--max-concurrent 100, --agent-timeout 2 s), and reads its own VmRSS and
 * open file descriptors after each batch.
 *
 * The first 10 % of batches (--warmup PCT) are warm-up: caches, connection
 * pools, GSlice magazines, malloc arenas. The program prints a table every
 * --report batches, the totals per agent status and per error code, and
 * then: RSS after warm-up, RSS at the end, the growth in percent, and PASS
 * when it is under --max-growth (5 %), else FAIL with exit status 1.
 * --scenario FILE replaces the built-in scenario.
 *
 * The in-process simulator's statistics (its per-request log and per-agent
 * attempt counts, which grow by design) are reset after every batch.
 *
 * Known: with libsoup 3.2 the *server* side (the simulator) keeps a
 * connection in CLOSE-WAIT for every reply the client abandons after an SSE
 * error event or malformed JSON (about one per such fault; the fds column
 * shows them), so the in-process figures include that server-side growth.
 * --fork-simulator measures the client library alone.
 *
 * Run it from a build directory (debugoptimized, the default, is fine):
 *
 *   meson setup build && ninja -C build bench/fj-soak
 *   ./build/bench/fj-soak                       # 20,000 agents, batches of 200
 *   ./build/bench/fj-soak --fork-simulator      # the client side only
 *   ./build/bench/fj-soak --agents 2000 --batch 100 --report 5
 *   G_SLICE=always-malloc ./build/bench/fj-soak --fork-simulator
 *
 * 20,000 agents take about 80 s in process and 110 s forked on a 2-core box.
 */

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <forkjoin.h>

static int n_agents = 20000;
static int batch_size = 200;
static int max_concurrent = 100;
static int report_every = 10;
static int hang_every = 0;
static double agent_timeout = 2.0;
static double max_growth = 5.0;
static double warmup_percent = 10.0;
static char *scenario_file;
static gboolean fork_simulator;

static const GOptionEntry entries[] = {
  { "agents", 'n', 0, G_OPTION_ARG_INT, &n_agents, "Agents in all (20000)", "N" },
  { "batch", 'b', 0, G_OPTION_ARG_INT, &batch_size, "Agents per runner run (200)", "N" },
  { "max-concurrent", 'c', 0, G_OPTION_ARG_INT, &max_concurrent, "Runner cap (100)", "N" },
  { "report", 'r', 0, G_OPTION_ARG_INT, &report_every, "Print a row every N batches (10)", "N" },
  { "hang-every", 0, 0, G_OPTION_ARG_INT, &hang_every,
    "Every Nth agent is never answered and times out (0 = none)", "N" },
  { "agent-timeout", 't', 0, G_OPTION_ARG_DOUBLE, &agent_timeout, "Agent time limit in s (2)", "S" },
  { "warmup", 'w', 0, G_OPTION_ARG_DOUBLE, &warmup_percent, "Warm-up share of the batches in % (10)", "PCT" },
  { "max-growth", 0, 0, G_OPTION_ARG_DOUBLE, &max_growth, "Allowed RSS growth in % (5)", "PCT" },
  { "scenario", 0, 0, G_OPTION_ARG_FILENAME, &scenario_file,
    "Use this simulator scenario instead of the built-in one", "FILE" },
  { "fork-simulator", 0, 0, G_OPTION_ARG_NONE, &fork_simulator,
    "Run the simulator in a child process, so that only the client side is measured", NULL },
  { NULL }
};

/* Short replies (5-20 ms, a few tokens), streamed, with faults mixed in. */
static const char scenario[] =
  "{\n"
  "  \"description\": \"fj-soak: short replies with faults mixed in\",\n"
  "  \"seed\": 7,\n"
  "  \"latency\": { \"min\": 0.005, \"max\": 0.02 },\n"
  "  \"output_tokens\": 6,\n"
  "  \"tokens_per_second\": 2000,\n"
  "  \"failures\": [\n"
  "    { \"status\": 429, \"probability\": 0.08, \"retry_after\": 0.02 },\n"
  "    { \"status\": 529, \"probability\": 0.04, \"retry_after_ms\": 20 },\n"
  "    { \"status\": 500, \"probability\": 0.04 },\n"
  "    { \"fault\": \"drop\", \"probability\": 0.04, \"after_tokens\": 2 },\n"
  "    { \"fault\": \"error_event\", \"probability\": 0.04, \"after_tokens\": 2 },\n"
  "    { \"fault\": \"malformed_json\", \"probability\": 0.02, \"after_tokens\": 2 }\n"
  "  ],\n"
  "  \"agents\": [\n"
  "    { \"name\": \"hanging\", \"match\": \"always hangs\", \"failures\": [ { \"fault\": \"hang\" } ] }\n"
  "  ]\n"
  "}\n";

static const char * const status_names[] = {
  "pending", "running", "success", "failed", "timed_out", "cancelled", "skipped",
};

static double
read_rss_mib (void)
{
  g_autofree char *contents = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &contents, NULL, NULL))
    return -1;
  line = strstr (contents, "\nVmRSS:");
  if (line == NULL)
    return -1;
  return g_ascii_strtod (line + strlen ("\nVmRSS:"), NULL) / 1024.0;
}

static FjSimulator *
start_simulator (const char  *key,
                 GError     **error)
{
  g_autoptr(FjSimulator) simulator = fj_simulator_new ();

  fj_simulator_set_api_key (simulator, key);
  if (!(scenario_file != NULL
        ? fj_simulator_load_scenario_from_file (simulator, scenario_file, error)
        : fj_simulator_load_scenario_from_data (simulator, scenario, -1, error)) ||
      !fj_simulator_start (simulator, error))
    return NULL;
  return g_steal_pointer (&simulator);
}

static gboolean
reset_stats_cb (gpointer user_data)
{
  fj_simulator_reset_stats (user_data);
  return G_SOURCE_CONTINUE;
}

/* Forks a child that serves the simulator until the parent goes away;
 * returns its pid and sets *port. Called before GLib starts any thread. */
static pid_t
fork_simulator_process (const char *key,
                        guint      *port)
{
  int fds[2];
  pid_t pid;

  if (pipe (fds) != 0)
    return -1;
  pid = fork ();
  if (pid < 0)
    return -1;
  if (pid == 0)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(FjSimulator) simulator = NULL;
      guint child_port = 0;

      close (fds[0]);
      prctl (PR_SET_PDEATHSIG, SIGTERM);
      simulator = start_simulator (key, &error);
      if (simulator == NULL)
        g_printerr ("fj-soak: simulator: %s\n", error->message);
      else
        child_port = fj_simulator_get_port (simulator);
      if (write (fds[1], &child_port, sizeof child_port) != sizeof child_port || child_port == 0)
        _exit (2);
      close (fds[1]);
      g_timeout_add_seconds (2, reset_stats_cb, simulator);
      for (;;)
        g_main_context_iteration (NULL, TRUE);
    }
  close (fds[1]);
  if (read (fds[0], port, sizeof *port) != sizeof *port)
    *port = 0;
  close (fds[0]);
  return pid;
}

static guint
count_open_fds (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  if (dir == NULL)
    return 0;
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
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

static void
run_done_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  GPtrArray **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = fj_agent_runner_run_finish (FJ_AGENT_RUNNER (source), result, &error);
  if (*out == NULL)
    {
      g_printerr ("fj-soak: run failed: %s\n", error->message);
      *out = g_ptr_array_new ();
    }
}

/* Runs one batch; adds to the status and error-code tallies. */
static gboolean
run_batch (FjClient   *client,
           int         first,
           int         count,
           guint64    *status_counts,
           GHashTable *code_counts)
{
  g_autoptr(GListStore) agents = g_list_store_new (FJ_TYPE_AGENT);
  g_autoptr(FjAgentRunner) runner = fj_agent_runner_new (client);
  g_autoptr(GPtrArray) results = NULL;

  for (int i = first; i < first + count; i++)
    {
      g_autofree char *name = g_strdup_printf ("agent-%d", i);
      g_autoptr(FjAgent) agent = fj_agent_new (name);

      if (hang_every > 0 && i % hang_every == hang_every - 1)
        fj_agent_set_instructions (agent, "You always hangs.");
      else
        fj_agent_set_instructions (agent, "You are a terse analyst.");
      fj_agent_set_stream (agent, TRUE);
      g_list_store_append (agents, agent);
    }

  fj_agent_runner_set_max_concurrent (runner, max_concurrent);
  fj_agent_runner_set_agent_timeout (runner, agent_timeout);

  fj_agent_runner_run_async (runner, G_LIST_MODEL (agents), "Summarise the quarter", NULL,
                             run_done_cb, &results);
  while (results == NULL)
    g_main_context_iteration (NULL, TRUE);

  for (guint i = 0; i < results->len; i++)
    {
      FjAgentResult *result = g_ptr_array_index (results, i);
      FjAgentStatus status = fj_agent_result_get_status (result);
      const char *code = fj_agent_result_get_error_code (result);

      if ((guint) status < G_N_ELEMENTS (status_names))
        status_counts[status]++;
      if (code != NULL)
        {
          gpointer n = g_hash_table_lookup (code_counts, code);

          g_hash_table_insert (code_counts, g_strdup (code),
                               GSIZE_TO_POINTER (GPOINTER_TO_SIZE (n) + 1));
        }
    }

  return results->len == (guint) count;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = g_option_context_new ("- soak the agent runner");
  g_autoptr(GError) error = NULL;
  g_autoptr(FjSimulator) simulator = NULL;
  g_autoptr(FjClient) client = NULL;
  g_autoptr(GHashTable) code_counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *url = NULL;
  g_autofree char *key = NULL;
  guint64 status_counts[G_N_ELEMENTS (status_names)] = { 0 };
  int n_batches, warmup_batches, done = 0;
  double rss_start, rss_warm = -1, rss_end = -1, rss_peak = 0, growth, wall;
  gint64 start;
  gboolean complete = TRUE;
  pid_t child = -1;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("fj-soak: %s\n", error->message);
      return 2;
    }
  if (n_agents <= 0 || batch_size <= 0 || max_concurrent < 0 || report_every <= 0)
    {
      g_printerr ("fj-soak: --agents, --batch and --report must be positive\n");
      return 2;
    }

  raise_fd_limit ();
  n_batches = (n_agents + batch_size - 1) / batch_size;
  warmup_batches = CLAMP ((int) (n_batches * warmup_percent / 100.0), 1, n_batches);

  /* A throwaway key, shared by the simulator and the client only. */
  key = g_strdup_printf ("soak-%08x%08x", g_random_int (), g_random_int ());

  if (fork_simulator)
    {
      guint port = 0;

      child = fork_simulator_process (key, &port);
      if (child < 0 || port == 0)
        {
          g_printerr ("fj-soak: could not start the simulator process\n");
          return 2;
        }
      url = g_strdup_printf ("http://127.0.0.1:%u", port);
    }
  else
    {
      simulator = start_simulator (key, &error);
      if (simulator == NULL)
        {
          g_printerr ("fj-soak: simulator: %s\n", error->message);
          return 2;
        }
      url = fj_simulator_dup_base_url (simulator);
    }
  client = fj_client_new_for_base_url (url);
  fj_client_set_api_key (client, key);

  rss_start = read_rss_mib ();
  g_print ("fj-soak: %d agents in %d batches of %d, max-concurrent %d, agent timeout %.1f s, "
           "warm-up %d batches, simulator %s, G_SLICE=%s\n",
           n_agents, n_batches, batch_size, max_concurrent, agent_timeout, warmup_batches,
           fork_simulator ? "in a child process" : "in process",
           g_getenv ("G_SLICE") ? g_getenv ("G_SLICE") : "(unset)");
  g_print ("%8s %10s %10s %10s %8s\n", "batch", "agents", "RSS MiB", "elapsed s", "fds");
  g_print ("%8d %10d %10.2f %10.1f %8u\n", 0, 0, rss_start, 0.0, count_open_fds ());

  start = g_get_monotonic_time ();
  for (int b = 0; b < n_batches; b++)
    {
      int count = MIN (batch_size, n_agents - done);
      double rss;

      if (!run_batch (client, done, count, status_counts, code_counts))
        complete = FALSE;
      done += count;
      if (simulator != NULL)
        fj_simulator_reset_stats (simulator);

      rss = read_rss_mib ();
      rss_peak = MAX (rss_peak, rss);
      if (b + 1 == warmup_batches)
        rss_warm = rss;
      rss_end = rss;

      if ((b + 1) % report_every == 0 || b + 1 == n_batches || b + 1 == warmup_batches)
        g_print ("%8d %10d %10.2f %10.1f %8u%s\n", b + 1, done, rss,
                 (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC, count_open_fds (),
                 b + 1 == warmup_batches ? "   <- end of warm-up" : "");
    }
  wall = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;

  if (simulator != NULL)
    fj_simulator_stop (simulator);
  if (child > 0)
    {
      kill (child, SIGTERM);
      waitpid (child, NULL, 0);
    }

  g_print ("statuses:");
  for (guint i = 0; i < G_N_ELEMENTS (status_names); i++)
    if (status_counts[i] > 0)
      g_print (" %s=%" G_GUINT64_FORMAT, status_names[i], status_counts[i]);
  g_print ("\nerror codes:");
  {
    GHashTableIter iter;
    gpointer code, n;

    g_hash_table_iter_init (&iter, code_counts);
    while (g_hash_table_iter_next (&iter, &code, &n))
      g_print (" %s=%" G_GSIZE_FORMAT, (const char *) code, GPOINTER_TO_SIZE (n));
  }
  g_print ("\ntime: %.1f s for %d agents (%.2f s per 1,000), peak RSS %.2f MiB\n",
           wall, done, wall * 1000.0 / done, rss_peak);

  growth = (rss_end - rss_warm) * 100.0 / rss_warm;
  g_print ("RSS after warm-up %.2f MiB, at the end %.2f MiB, growth %+.2f %% (limit %.1f %%): %s\n",
           rss_warm, rss_end, growth, max_growth,
           growth < max_growth && complete ? "PASS" : "FAIL");
  if (!complete)
    g_print ("fj-soak: some batches did not return one result per agent\n");

  return growth < max_growth && complete ? 0 : 1;
}
