/* fj-cmd-simulate.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <glib-unix.h>

#include "fj-cli.h"

/* `forkjoin-tool simulate`: the simulator on its own, for the tests of
 * other programs.  The first two lines of stdout are the environment a
 * client needs, in a form a shell can `eval` and a parent process can
 * read line by line; everything after them is a comment. */

typedef struct
{
  GMainLoop *loop;
  int        signum;
} SimulateState;

static gboolean
quit_cb (gpointer user_data,
         int      signum)
{
  SimulateState *state = user_data;

  state->signum = signum;
  g_main_loop_quit (state->loop);

  return G_SOURCE_CONTINUE;
}

static gboolean
sigint_cb (gpointer user_data)
{
  return quit_cb (user_data, SIGINT);
}

static gboolean
sigterm_cb (gpointer user_data)
{
  return quit_cb (user_data, SIGTERM);
}

static char *
random_key (void)
{
  g_autofree char *uuid = g_uuid_string_random ();

  return g_strconcat ("sim-", uuid, NULL);
}

int
fj_cmd_simulate (int    argc,
                 char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(FjSimulator) simulator = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autofree char *scenario = NULL;
  g_autofree char *api_key = NULL;
  g_autofree char *url = NULL;
  SimulateState state = { NULL, 0 };
  int port = 0;
  guint sigint_id, sigterm_id;
  const GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &port,
      "Listen on this loopback port (0, the default, picks a free one)", "N" },
    { "scenario", 's', 0, G_OPTION_ARG_FILENAME, &scenario,
      "How to answer: a scenario file (JSON; see simulator-scenario.schema.json)", "FILE" },
    { "api-key", 'k', 0, G_OPTION_ARG_STRING, &api_key,
      "The key clients must send (default: a random one)", "KEY" },
    { NULL }
  };

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
    "Runs the API simulator until Ctrl-C (SIGINT) or SIGTERM.\n"
    "The first two lines of standard output are\n"
    "  ANTHROPIC_BASE_URL=http://127.0.0.1:PORT\n"
    "  ANTHROPIC_API_KEY=KEY\n"
    "so a parent process can read them, or a shell can eval them.");
  g_option_context_set_description (context,
    "Exit status: 0 when stopped by SIGINT or SIGTERM, 1 when it cannot listen,\n"
    "2 bad usage or a bad scenario.");
  g_option_context_add_main_entries (context, entries, NULL);

  if (!fj_cli_parse_options (context, "simulate", &argc, &argv))
    return FJ_EXIT_USAGE;

  if (argc > 1)
    {
      fj_cli_printerr ("simulate: unexpected argument “%s”", argv[1]);
      return FJ_EXIT_USAGE;
    }

  if (port < 0 || port > 65535)
    {
      fj_cli_printerr ("simulate: --port must be between 0 and 65535, not %d", port);
      return FJ_EXIT_USAGE;
    }

  if (api_key != NULL && (*api_key == '\0' || strpbrk (api_key, " \t\r\n") != NULL))
    {
      fj_cli_printerr ("simulate: --api-key must be non-empty and without spaces");
      return FJ_EXIT_USAGE;
    }

  simulator = fj_simulator_new ();

  if (scenario != NULL && !fj_simulator_load_scenario_from_file (simulator, scenario, &error))
    {
      /* "FILE:LINE:COL: FIELD: message", as for specs. */
      if (g_error_matches (error, FJ_ERROR, FJ_ERROR_SPEC))
        fj_cli_printerr ("%s", error->message);
      else
        fj_cli_printerr ("cannot read the scenario: %s", error->message);
      return FJ_EXIT_USAGE;
    }

  if (api_key == NULL)
    api_key = random_key ();

  fj_simulator_set_api_key (simulator, api_key);
  fj_simulator_set_port (simulator, (guint) port);

  if (!fj_simulator_start (simulator, &error))
    {
      fj_cli_printerr ("cannot start the simulator: %s", error->message);
      return FJ_EXIT_FAILED;
    }

  url = fj_simulator_dup_base_url (simulator);

  printf ("ANTHROPIC_BASE_URL=%s\n"
          "ANTHROPIC_API_KEY=%s\n"
          "# The simulator is listening on loopback.  Point a client at it, for example:\n"
          "#   ANTHROPIC_BASE_URL=%s ANTHROPIC_API_KEY=%s forkjoin-tool run SPEC\n"
          "# (an Anthropic SDK posts to $ANTHROPIC_BASE_URL/v1/messages with x-api-key).\n"
          "# Stop it with Ctrl-C.\n",
          url, api_key, url, api_key);
  fflush (stdout);

  loop = g_main_loop_new (NULL, FALSE);
  state.loop = loop;
  sigint_id = g_unix_signal_add (SIGINT, sigint_cb, &state);
  sigterm_id = g_unix_signal_add (SIGTERM, sigterm_cb, &state);

  g_main_loop_run (loop);

  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);

  fj_simulator_stop (simulator);

  /* Answers still queued on the loop (timers of replies in progress)
   * refer to the stopped server; let them unwind before it goes. */
  while (g_main_context_pending (NULL))
    g_main_context_iteration (NULL, FALSE);

  fj_cli_printerr ("simulator stopped (%s) after %u request%s",
                   state.signum == SIGTERM ? "SIGTERM" : "SIGINT",
                   fj_simulator_get_n_requests (simulator),
                   fj_simulator_get_n_requests (simulator) == 1 ? "" : "s");

  return FJ_EXIT_OK;
}
