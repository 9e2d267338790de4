/* fj-cmd-batch.c — forkjoin-tool batch
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fj-cli.h"

/* `forkjoin-tool batch status|cancel STATE`: what a `run --batch` left
 * running, from the state file it wrote.  `status` asks the provider how
 * far the batch is; `cancel` asks it to stop (requests already processed
 * keep their results, which `resume --batch STATE` then collects). */

typedef struct
{
  GAsyncResult *result;
} Wait;

static void
done_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Wait *wait = user_data;

  wait->result = g_object_ref (result);
}

static void
print_status (FjBatch    *batch,
              const char *state_path)
{
  g_autofree char *ids = g_strjoinv (", ", (GStrv) fj_batch_get_ids (batch));
  guint processing = 0, succeeded = 0, errored = 0, canceled = 0, expired = 0;

  fj_batch_get_request_counts (batch, &processing, &succeeded, &errored, &canceled, &expired);
  printf ("batch:       %s\n", ids);
  printf ("state file:  %s\n", state_path);
  printf ("status:      %s\n", fj_batch_get_processing_status (batch));
  printf ("requests:    %u (processing %u, succeeded %u, errored %u, canceled %u, expired %u)\n",
          fj_batch_get_n_agents (batch), processing, succeeded, errored, canceled, expired);
  fflush (stdout);
}

int
fj_cmd_batch (int    argc,
              char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(FjBatch) batch = NULL;
  g_autoptr(FjClient) client = NULL;
  g_autofree char *api_key_file = NULL;
  const char *action;
  const char *state_path;
  gboolean cancel;
  gboolean ok;
  Wait wait = { NULL };
  const GOptionEntry entries[] = {
    { "api-key-file", 0, 0, G_OPTION_ARG_FILENAME, &api_key_file,
      "Read the API key from the first line of FILE", "FILE" },
    { NULL }
  };

  context = g_option_context_new ("status|cancel STATE");
  g_option_context_set_summary (context,
                                "Show how far the batch of a “forkjoin-tool run --batch” is, or "
                                "cancel it, from the\nstate file STATE that the run wrote.\n\n"
                                "Cancelling keeps the results of the requests already processed: "
                                "“forkjoin-tool\nresume --batch STATE” then finishes the run with "
                                "them (the rest end cancelled).");
  g_option_context_set_description (context,
                                    "Credentials come from --api-key-file, ANTHROPIC_API_KEY or "
                                    "ANTHROPIC_AUTH_TOKEN;\nthe batch is asked for where it was "
                                    "submitted (the state's base_url).\n\n"
                                    "Exit status: 0 done, 1 the provider refused or failed, "
                                    "2 bad usage, state or credentials.");
  g_option_context_add_main_entries (context, entries, NULL);

  if (!fj_cli_parse_options (context, "batch", &argc, &argv))
    return FJ_EXIT_USAGE;

  if (argc != 3)
    {
      fj_cli_printerr ("batch: expected status or cancel and a STATE file "
                       "(see “forkjoin-tool batch --help”)");
      return FJ_EXIT_USAGE;
    }

  action = argv[1];
  state_path = argv[2];
  if (strcmp (action, "status") != 0 && strcmp (action, "cancel") != 0)
    {
      fj_cli_printerr ("batch: unknown action “%s”: expected status or cancel", action);
      return FJ_EXIT_USAGE;
    }
  cancel = strcmp (action, "cancel") == 0;

  batch = fj_batch_new_from_file (state_path, &error);
  if (batch == NULL)
    {
      fj_cli_printerr ("batch: %s", error->message);
      return FJ_EXIT_USAGE;
    }

  client = fj_cli_create_batch_client (batch, api_key_file, &error);
  if (client == NULL)
    {
      fj_cli_printerr ("batch: %s", error->message);
      return FJ_EXIT_USAGE;
    }

  if (cancel)
    fj_batch_cancel_async (batch, client, NULL, done_cb, &wait);
  else
    fj_batch_refresh_async (batch, client, NULL, done_cb, &wait);

  while (wait.result == NULL)
    g_main_context_iteration (NULL, TRUE);

  if (cancel)
    ok = fj_batch_cancel_finish (batch, wait.result, &error);
  else
    ok = fj_batch_refresh_finish (batch, wait.result, &error);
  g_clear_object (&wait.result);

  if (!ok)
    {
      fj_cli_printerr ("batch: %s: %s", action, error->message);
      return FJ_EXIT_FAILED;
    }

  print_status (batch, state_path);
  if (cancel)
    fj_cli_printerr ("cancel requested; finish the run with what was processed: "
                     "forkjoin-tool resume --batch %s", state_path);

  return FJ_EXIT_OK;
}
