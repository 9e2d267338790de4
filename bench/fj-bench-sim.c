/* fj-bench-sim.c — the simulator in a process of its own, for benchmarks
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Prints "URL KEY" on its first line once listening, serves until SIGINT
 * or SIGTERM, then prints its statistics (JSON) on stdout.
 */

#include <stdio.h>
#include <sys/resource.h>

#include <forkjoin.h>
#include <glib-unix.h>

static int port;
static double latency = 0.2;
static int output_tokens = 60;
static double tokens_per_second;
static char *scenario;
static char *log_file;

static const GOptionEntry entries[] = {
  { "port", 'p', 0, G_OPTION_ARG_INT, &port, "Port (default: any free one)", "N" },
  { "latency", 'l', 0, G_OPTION_ARG_DOUBLE, &latency, "Seconds before each reply (0.2)", "S" },
  { "output-tokens", 't', 0, G_OPTION_ARG_INT, &output_tokens, "Tokens per reply (60)", "N" },
  { "tokens-per-second", 'r', 0, G_OPTION_ARG_DOUBLE, &tokens_per_second, "Streaming pace (0: at once)", "R" },
  { "scenario", 's', 0, G_OPTION_ARG_FILENAME, &scenario, "A scenario file", "FILE" },
  { "log", 0, 0, G_OPTION_ARG_FILENAME, &log_file,
    "Write the whole statistics, with the per-request log, to FILE on exit", "FILE" },
  { NULL }
};

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
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
  g_autoptr(FjSimulator) sim = fj_simulator_new ();
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) stats = NULL;
  g_autofree char *key = g_uuid_string_random ();
  g_autofree char *url = NULL;
  g_autofree char *json = NULL;
  JsonObject *object;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("fj-bench-sim: %s\n", error->message);
      return 2;
    }

  raise_fd_limit ();
  fj_simulator_set_api_key (sim, key);
  fj_simulator_set_port (sim, port);
  fj_simulator_set_latency (sim, latency);
  fj_simulator_set_latency_max (sim, latency);
  fj_simulator_set_output_tokens (sim, output_tokens);
  fj_simulator_set_tokens_per_second (sim, tokens_per_second);
  if (scenario != NULL && !fj_simulator_load_scenario_from_file (sim, scenario, &error))
    {
      g_printerr ("fj-bench-sim: %s\n", error->message);
      return 2;
    }
  if (!fj_simulator_start (sim, &error))
    {
      g_printerr ("fj-bench-sim: %s\n", error->message);
      return 1;
    }

  url = fj_simulator_dup_base_url (sim);
  g_print ("%s %s\n", url, key);
  fflush (stdout);

  g_unix_signal_add (SIGINT, quit_cb, loop);
  g_unix_signal_add (SIGTERM, quit_cb, loop);
  g_main_loop_run (loop);

  /* The per-request log is large: print the counters only. */
  stats = fj_simulator_get_stats (sim);
  if (log_file != NULL)
    {
      g_autofree char *full = json_to_string (stats, FALSE);

      if (!g_file_set_contents (log_file, full, -1, &error))
        g_printerr ("fj-bench-sim: %s\n", error->message);
    }
  object = json_node_get_object (stats);
  json_object_remove_member (object, "log");
  json_object_remove_member (object, "agents");
  json = json_to_string (stats, FALSE);
  g_print ("%s\n", json);

  fj_simulator_stop (sim);
  return 0;
}
