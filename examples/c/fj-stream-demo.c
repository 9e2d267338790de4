/* fj-stream-demo.c — one agent, its reply printed as it streams
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Usage: fj-stream-demo [--simulate] [QUESTION]
 *
 * Without --simulate it talks to the Anthropic API with ANTHROPIC_API_KEY
 * (or ANTHROPIC_AUTH_TOKEN); with it, to forkjoin's built-in simulator on
 * 127.0.0.1, which needs no key and no network.
 */

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#include <forkjoin.h>

static gboolean simulate;

static const GOptionEntry entries[] = {
  { "simulate", 's', 0, G_OPTION_ARG_NONE, &simulate,
    "Run against the built-in simulator instead of the API", NULL },
  { NULL }
};

static void
on_text_delta (FjAgent       *agent,
               FjAgentResult *result,
               const char    *text,
               gpointer       user_data)
{
  fputs (text, stdout);
  fflush (stdout);
}

static void
on_finished (GObject      *source,
             GAsyncResult *res,
             gpointer      user_data)
{
  FjAgentResult **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = fj_agent_run_finish (FJ_AGENT (source), res, &error);
  if (*out == NULL)
    g_printerr ("fj-stream-demo: %s\n", error->message);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = g_option_context_new ("[QUESTION]");
  g_autoptr(FjSimulator) simulator = NULL;
  g_autoptr(FjClient) client = NULL;
  g_autoptr(FjAgent) agent = NULL;
  g_autoptr(FjAgentResult) result = NULL;
  g_autoptr(GError) error = NULL;
  const char *question = "How did ACME Corp perform in Q3?";
  FjUsage *usage;

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context, "Runs one agent and prints its reply as it streams.");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("fj-stream-demo: %s\n", error->message);
      return 2;
    }
  if (argc > 1)
    question = argv[1];

  if (simulate)
    {
      g_autofree char *url = NULL;
      g_autofree char *key = g_uuid_string_random ();

      /* A paced reply so the streaming shows. */
      simulator = fj_simulator_new ();
      fj_simulator_set_api_key (simulator, key);
      fj_simulator_set_latency (simulator, 0.3);
      fj_simulator_set_output_tokens (simulator, 80);
      fj_simulator_set_tokens_per_second (simulator, 40);
      if (!fj_simulator_start (simulator, &error))
        {
          g_printerr ("fj-stream-demo: cannot start the simulator: %s\n", error->message);
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
          g_printerr ("fj-stream-demo: set ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN, "
                      "or pass --simulate to use the built-in simulator\n");
          return 2;
        }
    }

  agent = fj_agent_new ("market-analyst");
  fj_agent_set_instructions (agent, "You are a market analyst. Answer in one short paragraph.");
  fj_agent_set_timeout (agent, 60);
  g_signal_connect (agent, "text-delta", G_CALLBACK (on_text_delta), NULL);

  g_print ("> %s\n\n", question);
  fj_agent_run_async (agent, client, question, NULL, on_finished, &result);
  while (result == NULL && error == NULL)
    g_main_context_iteration (NULL, TRUE);

  if (result == NULL)
    return 1;

  usage = fj_agent_result_get_usage (result);
  g_print ("\n\n[%s] %.2f s, %u attempt(s), %" G_GINT64_FORMAT " input / %" G_GINT64_FORMAT " output tokens\n",
           fj_agent_result_get_error_code (result) ? fj_agent_result_get_error_code (result) : "success",
           fj_agent_result_get_duration (result),
           fj_agent_result_get_attempts (result),
           usage->input_tokens, usage->output_tokens);

  if (fj_agent_result_get_status (result) != FJ_AGENT_STATUS_SUCCESS)
    {
      g_printerr ("fj-stream-demo: %s\n", fj_agent_result_get_error_message (result));
      return 1;
    }

  return 0;
}
