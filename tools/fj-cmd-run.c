/* fj-cmd-run.c — forkjoin-tool run, and what resume shares with it
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>

#include "fj-cli.h"
#include "fj-progress.h"
#include "fj-report.h"
#include "fj-run-recorder.h"
#include "fj-timeline.h"

void
fj_run_options_init (FjRunOptions *options)
{
  memset (options, 0, sizeof *options);
  options->max_concurrent = -1;
  options->timeout = -1;
  options->deadline = -1;
}

void
fj_run_options_clear (FjRunOptions *options)
{
  g_clear_pointer (&options->input, g_free);
  g_clear_pointer (&options->input_file, g_free);
  g_clear_pointer (&options->output, g_free);
  g_clear_pointer (&options->simulate, g_free);
  g_clear_pointer (&options->timeline, g_free);
  g_clear_pointer (&options->api_key_file, g_free);
  g_clear_pointer (&options->prices, g_free);
  g_clear_pointer (&options->state, g_free);
  g_clear_pointer (&options->batch_state, g_free);
  g_clear_object (&options->batch_to_resume);
}

static gboolean
simulate_cb (const char  *option_name,
             const char  *value,
             gpointer     user_data,
             GError     **error)
{
  FjRunOptions *options = user_data;

  g_free (options->simulate);
  options->simulate = g_strdup (value != NULL ? value : "");
  return TRUE;
}

static gboolean
parse_seconds (const char  *option_name,
               const char  *value,
               double      *out,
               GError     **error)
{
  char *end = NULL;
  double seconds;

  seconds = g_ascii_strtod (value, &end);
  if (end == value || *end != '\0' || !isfinite (seconds) || seconds <= 0)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "%s: expected a positive number of seconds, got “%s”", option_name, value);
      return FALSE;
    }

  *out = seconds;
  return TRUE;
}

static gboolean
timeout_cb (const char  *option_name,
            const char  *value,
            gpointer     user_data,
            GError     **error)
{
  FjRunOptions *options = user_data;

  return parse_seconds (option_name, value, &options->timeout, error);
}

static gboolean
deadline_cb (const char  *option_name,
             const char  *value,
             gpointer     user_data,
             GError     **error)
{
  FjRunOptions *options = user_data;

  return parse_seconds (option_name, value, &options->deadline, error);
}

static gboolean
max_concurrent_cb (const char  *option_name,
                   const char  *value,
                   gpointer     user_data,
                   GError     **error)
{
  FjRunOptions *options = user_data;
  guint64 number;

  if (!g_ascii_string_to_unsigned (value, 10, 0, G_MAXINT, &number, NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "%s: expected a number of agents (0 = no limit), got “%s”", option_name, value);
      return FALSE;
    }

  options->max_concurrent = (int) number;
  return TRUE;
}

void
fj_run_options_add (FjRunOptions   *options,
                    GOptionContext *context,
                    gboolean        resume)
{
  const GOptionEntry input_entries[] = {
    { "input", 'i', 0, G_OPTION_ARG_STRING, &options->input,
      "The input every agent is given (instead of the spec's “input”)", "TEXT" },
    { "input-file", 'f', 0, G_OPTION_ARG_FILENAME, &options->input_file,
      "Read the input from FILE (- for standard input)", "FILE" },
    { NULL }
  };
  const GOptionEntry runner_entries[] = {
    { "max-concurrent", 'j', 0, G_OPTION_ARG_CALLBACK, max_concurrent_cb,
      "Run at most N agents at once (0 = no limit; replaces the spec's)", "N" },
    { "sequential", 0, 0, G_OPTION_ARG_NONE, &options->sequential,
      "Run one agent at a time (--max-concurrent 1)", NULL },
    { "timeout", 't', 0, G_OPTION_ARG_CALLBACK, timeout_cb,
      "Time limit of each agent (replaces defaults.timeout; an agent's own wins)", "SECONDS" },
    { "deadline", 0, 0, G_OPTION_ARG_CALLBACK, deadline_cb,
      "Time limit of the whole run, queue time included", "SECONDS" },
    { NULL }
  };
  const GOptionEntry batch_entries[] = {
    { "batch", 'b', 0, G_OPTION_ARG_NONE, &options->batch,
      "Submit the agents as one Message Batches batch (half price, no streaming; "
      "the synthesis runs live)", NULL },
    { "state", 0, 0, G_OPTION_ARG_FILENAME, &options->state,
      "With --batch: write the batch's state to FILE (default forkjoin-batch-ID.json)", "FILE" },
    { NULL }
  };
  const GOptionEntry output_entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &options->json,
      "Write the result as one JSON document", NULL },
    { "markdown", 0, 0, G_OPTION_ARG_NONE, &options->markdown,
      "Write the result as a Markdown report", NULL },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &options->output,
      "Write the result to FILE instead of standard output", "FILE" },
    { "events", 0, 0, G_OPTION_ARG_NONE, &options->events,
      "Write one JSON line per event to standard output as it happens", NULL },
    { "timeline", 0, 0, G_OPTION_ARG_FILENAME, &options->timeline,
      "Draw the run as an SVG Gantt chart into FILE", "FILE.svg" },
    { NULL }
  };
  const GOptionEntry api_entries[] = {
    { "simulate", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, simulate_cb,
      "Run against an in-process simulator: --simulate (every agent succeeds) or "
      "--simulate=SCENARIO (a scenario file)", "[SCENARIO]" },
    { "api-key-file", 0, 0, G_OPTION_ARG_FILENAME, &options->api_key_file,
      "Read the API key from the first line of FILE", "FILE" },
    { "prices", 0, 0, G_OPTION_ARG_FILENAME, &options->prices,
      "Token prices (default: $FORKJOIN_PRICES, else the built-in table)", "FILE" },
    { NULL }
  };
  const GOptionEntry resume_entries[] = {
    { "force", 0, 0, G_OPTION_ARG_NONE, &options->force,
      "Resume even if the spec changed since the result was written", NULL },
    { "batch", 'b', 0, G_OPTION_ARG_FILENAME, &options->batch_state,
      "Pick up the batch of “run --batch” from its state file STATE and finish the run", "STATE" },
    { NULL }
  };
  GOptionGroup *group;

  group = g_option_group_new ("main", "Options", "Show the options", options, NULL);
  if (!resume)
    g_option_group_add_entries (group, input_entries);
  g_option_group_add_entries (group, runner_entries);
  if (!resume)
    g_option_group_add_entries (group, batch_entries);
  g_option_group_add_entries (group, output_entries);
  g_option_group_add_entries (group, api_entries);
  if (resume)
    g_option_group_add_entries (group, resume_entries);

  g_option_context_set_main_group (context, group);
}

static gboolean
parent_dir_exists (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);

  return g_file_test (dir, G_FILE_TEST_IS_DIR);
}

int
fj_run_options_check (FjRunOptions *options,
                      const char   *command)
{
  if (options->json && options->markdown)
    {
      fj_cli_printerr ("%s: --json and --markdown cannot be used together", command);
      return FJ_EXIT_USAGE;
    }

  if (options->input != NULL && options->input_file != NULL)
    {
      fj_cli_printerr ("%s: --input and --input-file cannot be used together", command);
      return FJ_EXIT_USAGE;
    }

  if (options->sequential && options->max_concurrent >= 0 && options->max_concurrent != 1)
    {
      fj_cli_printerr ("%s: --sequential means --max-concurrent 1, not %d",
                       command, options->max_concurrent);
      return FJ_EXIT_USAGE;
    }

  if (options->simulate != NULL && options->api_key_file != NULL)
    {
      fj_cli_printerr ("%s: --simulate needs no key: leave out --api-key-file", command);
      return FJ_EXIT_USAGE;
    }

  if (options->events && options->output == NULL && (options->json || options->markdown))
    {
      fj_cli_printerr ("%s: with --events standard output carries event lines only: "
                       "--%s needs --output FILE",
                       command, options->json ? "json" : "markdown");
      return FJ_EXIT_USAGE;
    }

  if (options->output != NULL && !parent_dir_exists (options->output))
    {
      fj_cli_printerr ("%s: --output %s: no such directory", command, options->output);
      return FJ_EXIT_USAGE;
    }

  if (options->timeline != NULL && !parent_dir_exists (options->timeline))
    {
      fj_cli_printerr ("%s: --timeline %s: no such directory", command, options->timeline);
      return FJ_EXIT_USAGE;
    }

  if (options->state != NULL && !parent_dir_exists (options->state))
    {
      fj_cli_printerr ("%s: --state %s: no such directory", command, options->state);
      return FJ_EXIT_USAGE;
    }

  if (options->output != NULL && options->timeline != NULL &&
      strcmp (options->output, options->timeline) == 0)
    {
      fj_cli_printerr ("%s: --output and --timeline name the same file %s",
                       command, options->output);
      return FJ_EXIT_USAGE;
    }

  return -1;
}

typedef struct
{
  GCancellable *cancellable;
  FjProgress   *progress;
  GAsyncResult *result;
  guint         n_interrupts;
  gboolean      batch;
} RunState;

/* What a batch run needs to write its state file. */
typedef struct
{
  FjRunOptions *options;
  const char   *command;
  FjSpec       *spec;
  gboolean      simulated;
  char         *state_path;  /* once written */
} BatchContext;

/* Keeps what `resume --batch` needs to run the same spec again: its text
 * (the file may change or go), where it was, and its digest. */
static void
record_spec (FjBatch *batch,
             FjSpec  *spec)
{
  const char *path = fj_spec_get_path (spec);
  g_autofree char *text = NULL;
  g_autofree char *absolute = NULL;
  gsize length;

  if (path == NULL || (text = fj_cli_read_file (path, &length, NULL)) == NULL)
    return;

  absolute = g_canonicalize_filename (path, NULL);
  fj_batch_set_metadata (batch, "spec", text);
  fj_batch_set_metadata (batch, "spec_path", absolute);
  fj_batch_set_metadata (batch, "spec_sha256", fj_spec_get_sha256 (spec));
}

static void
batch_submitted_cb (FjAgentRunner *runner,
                    FjBatch       *batch,
                    gpointer       user_data)
{
  BatchContext *context = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *ids = g_strjoinv (", ", (GStrv) fj_batch_get_ids (batch));
  guint n = fj_batch_get_n_agents (batch);

  if (context->options->state != NULL)
    path = g_strdup (context->options->state);
  else
    path = g_strdup_printf ("forkjoin-batch-%s.json", fj_batch_get_ids (batch)[0]);

  record_spec (batch, context->spec);
  if (!fj_batch_save (batch, path, &error))
    {
      fj_cli_printerr ("%s: cannot write the batch state: %s", context->command, error->message);
      fj_cli_printerr ("%s: batch %s keeps running at the provider", context->command, ids);
      return;
    }

  g_free (context->state_path);
  context->state_path = g_steal_pointer (&path);
  fj_cli_printerr ("batch %s submitted (%u request%s); state in %s%s",
                   ids, n, n == 1 ? "" : "s", context->state_path,
                   context->simulated
                   ? " (the in-process simulator ends with this process: it cannot be resumed)"
                   : "");
}

static gboolean
sigint_cb (gpointer user_data)
{
  RunState *state = user_data;

  state->n_interrupts++;

  if (state->n_interrupts == 1)
    {
      if (state->progress != NULL)
        fj_progress_stop (state->progress);
      if (state->batch)
        fj_cli_printerr ("interrupted: no longer waiting; the batch keeps running "
                         "(Ctrl-C again to quit at once)");
      else
        fj_cli_printerr ("interrupted: cancelling the run (Ctrl-C again to quit at once)");
      g_cancellable_cancel (state->cancellable);
      return G_SOURCE_CONTINUE;
    }

  fj_cli_printerr ("interrupted again: quitting");
  fflush (stdout);
  _exit (FJ_EXIT_INTERRUPTED);
}

static void
run_done_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  RunState *state = user_data;

  state->result = g_object_ref (result);
}

static char *
format_document (FjRunOptions          *options,
                 FjForkJoinResult      *result,
                 const FjReportContext *context)
{
  if (options->json)
    return fj_report_format_json (result, context);
  if (options->markdown)
    return fj_report_format_markdown (result, context);
  return fj_report_format_text (result, context);
}

int
fj_run_execute (FjRunOptions *options,
                const char   *command,
                FjSpec       *spec,
                const char   *input,
                GPtrArray    *previous_results)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FjPrices) prices = NULL;
  g_autoptr(FjSimulator) simulator = NULL;
  g_autoptr(FjClient) client = NULL;
  g_autoptr(FjForkJoinTask) task = NULL;
  g_autoptr(FjRunRecorder) recorder = NULL;
  g_autoptr(FjProgress) progress = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GHashTable) kept = NULL;
  g_autoptr(FjForkJoinResult) result = NULL;
  g_autofree char *document = NULL;
  g_autofree char *spec_path = NULL;
  FjReportContext context = { 0, };
  RunState state = { 0, };
  BatchContext batch_context = { 0, };
  FjAgentRunner *runner;
  GListModel *agents;
  guint sigint_id;
  int status;

  g_return_val_if_fail (options != NULL, FJ_EXIT_USAGE);
  g_return_val_if_fail (FJ_IS_SPEC (spec), FJ_EXIT_USAGE);
  g_return_val_if_fail (input != NULL, FJ_EXIT_USAGE);

  prices = fj_cli_load_prices (options->prices, &error);
  if (prices == NULL)
    {
      fj_cli_printerr ("%s", error->message);
      return FJ_EXIT_USAGE;
    }

  if (options->batch_to_resume != NULL)
    client = fj_cli_create_batch_client (options->batch_to_resume, options->api_key_file, &error);
  else
    client = fj_cli_create_client (options->simulate, options->api_key_file, &simulator, &error);
  if (client == NULL)
    {
      fj_cli_printerr ("%s", error->message);
      return FJ_EXIT_USAGE;
    }

  fj_cli_setup_named_clients (spec, simulator);
  fj_cli_set_agent_clients (spec);

  if (options->timeout > 0)
    fj_spec_set_default_timeout (spec, options->timeout);

  if ((options->batch || options->batch_to_resume != NULL) &&
      !fj_spec_set_mode (spec, FJ_RUN_MODE_BATCH, &error))
    {
      fj_cli_printerr ("%s", error->message);
      fj_cli_printerr ("%s: batch mode is for agents without tools", command);
      return FJ_EXIT_USAGE;
    }

  task = fj_spec_create_task (spec, client, &error);
  if (task == NULL)
    {
      fj_cli_printerr ("%s", error->message);
      return FJ_EXIT_USAGE;
    }

  runner = fj_fork_join_task_get_runner (task);
  if (options->sequential)
    fj_agent_runner_set_max_concurrent (runner, 1);
  else if (options->max_concurrent >= 0)
    fj_agent_runner_set_max_concurrent (runner, options->max_concurrent);
  if (options->deadline > 0)
    fj_agent_runner_set_deadline (runner, options->deadline);
  fj_fork_join_task_set_prices (task, prices);

  state.batch = fj_agent_runner_get_mode (runner) == FJ_RUN_MODE_BATCH;
  if (options->state != NULL && !state.batch)
    {
      fj_cli_printerr ("%s: --state is for batch runs (--batch, or \"mode\": \"batch\" in the "
                       "spec's runner)", command);
      return FJ_EXIT_USAGE;
    }
  if (options->batch_to_resume != NULL)
    {
      fj_agent_runner_set_batch (runner, options->batch_to_resume);
      batch_context.state_path = g_strdup (options->batch_state);
    }
  else if (state.batch)
    {
      batch_context.options = options;
      batch_context.command = command;
      batch_context.spec = spec;
      batch_context.simulated = simulator != NULL;
      g_signal_connect (runner, "batch-submitted", G_CALLBACK (batch_submitted_cb), &batch_context);
    }

  agents = fj_spec_get_agents (spec);

  if (previous_results != NULL)
    {
      kept = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      for (guint i = 0; i < previous_results->len; i++)
        {
          FjAgentResult *previous = g_ptr_array_index (previous_results, i);

          if (fj_agent_result_get_status (previous) == FJ_AGENT_STATUS_SUCCESS)
            g_hash_table_add (kept, g_strdup (fj_agent_result_get_agent_name (previous)));
        }
    }

  recorder = fj_run_recorder_new (task, client, options->events ? stdout : NULL);
  if (fj_progress_wanted (options->events))
    progress = fj_progress_new (task, agents, kept);

  state.cancellable = cancellable;
  state.progress = progress;
  sigint_id = g_unix_signal_add (SIGINT, sigint_cb, &state);

  if (previous_results != NULL)
    fj_run_recorder_start_resume (recorder, agents, previous_results);
  else
    fj_run_recorder_start (recorder, agents);
  if (progress != NULL)
    fj_progress_start (progress);

  if (previous_results != NULL)
    fj_fork_join_task_resume_async (task, agents, input, previous_results, cancellable,
                                    run_done_cb, &state);
  else
    fj_fork_join_task_run_async (task, agents, input, cancellable, run_done_cb, &state);

  while (state.result == NULL)
    g_main_context_iteration (NULL, TRUE);

  if (previous_results != NULL)
    result = fj_fork_join_task_resume_finish (task, state.result, &error);
  else
    result = fj_fork_join_task_run_finish (task, state.result, &error);
  g_clear_object (&state.result);

  fj_run_recorder_finish (recorder, result);
  if (progress != NULL)
    fj_progress_stop (progress);

  if (state.batch)
    g_signal_handlers_disconnect_by_func (runner, batch_submitted_cb, &batch_context);

  if (result == NULL)
    {
      g_source_remove (sigint_id);
      fj_cli_printerr ("%s: %s", command, error->message);
      if (batch_context.state_path != NULL)
        fj_cli_printerr ("%s: the batch's state is in %s", command, batch_context.state_path);
      g_free (batch_context.state_path);
      if (state.n_interrupts > 0)
        return FJ_EXIT_INTERRUPTED;
      /* Earlier results that do not match the spec's agents (resume). */
      if (g_error_matches (error, FJ_ERROR, FJ_ERROR_SPEC))
        return FJ_EXIT_USAGE;
      return FJ_EXIT_FAILED;
    }

  /* Absolute, so `resume RESULT.json` works from any directory. */
  if (fj_spec_get_path (spec) != NULL)
    spec_path = g_canonicalize_filename (fj_spec_get_path (spec), NULL);
  context.spec_path = spec_path;
  context.spec_sha256 = fj_spec_get_sha256 (spec);
  context.synthesis_plugin = fj_spec_get_synthesis_plugin (spec);
  context.interrupted = state.n_interrupts > 0;
  context.kept = kept;

  if (state.n_interrupts > 0)
    status = FJ_EXIT_INTERRUPTED;
  else if (fj_fork_join_result_get_status (result) == FJ_FORK_JOIN_STATUS_FAILED)
    status = FJ_EXIT_FAILED;
  else
    status = FJ_EXIT_OK;

  if (options->json && options->output == NULL && !options->events)
    {
      /* Written an agent at a time: thousands of outputs are not held
       * twice, as a tree and as text. */
      if (!fj_report_write_json (result, &context, stdout))
        {
          fj_cli_printerr ("%s: cannot write the result", command);
          if (status == FJ_EXIT_OK)
            status = FJ_EXIT_FAILED;
        }
    }
  else if (!options->events || options->output != NULL)
    {
      document = format_document (options, result, &context);

      if (options->output != NULL)
        {
          if (!g_file_set_contents (options->output, document, -1, &error))
            {
              fj_cli_printerr ("%s: cannot write the result: %s", command, error->message);
              g_clear_error (&error);
              if (status == FJ_EXIT_OK)
                status = FJ_EXIT_FAILED;
            }
        }
      else
        {
          fputs (document, stdout);
          fflush (stdout);
        }
    }

  if (options->timeline != NULL &&
      !fj_timeline_write (recorder, result, options->timeline, &error))
    {
      fj_cli_printerr ("%s: cannot write the timeline: %s", command, error->message);
      g_clear_error (&error);
      if (status == FJ_EXIT_OK)
        status = FJ_EXIT_FAILED;
    }

  if (state.batch && state.n_interrupts > 0 && batch_context.state_path != NULL)
    {
      fj_cli_printerr ("the batch keeps running at the provider; to finish this run later: "
                       "forkjoin-tool resume --batch %s", batch_context.state_path);
      fj_cli_printerr ("to cancel it: forkjoin-tool batch cancel %s", batch_context.state_path);
    }
  g_free (batch_context.state_path);

  /* Keep Ctrl-C ours until everything is written. */
  g_source_remove (sigint_id);

  /* The simulator serves on this thread: stop it after the client is done. */
  g_clear_pointer (&progress, fj_progress_free);
  g_clear_pointer (&recorder, fj_run_recorder_free);
  g_clear_object (&task);
  g_clear_object (&client);
  if (simulator != NULL)
    fj_simulator_stop (simulator);

  return status;
}

static char *
read_input_file (const char  *path,
                 GError     **error)
{
  g_autofree char *contents = NULL;
  gsize length = 0;

  if (strcmp (path, "-") == 0)
    {
      GString *buffer = g_string_new (NULL);
      char chunk[4096];
      size_t n;

      while ((n = fread (chunk, 1, sizeof chunk, stdin)) > 0)
        g_string_append_len (buffer, chunk, n);
      if (ferror (stdin))
        {
          g_string_free (buffer, TRUE);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       "cannot read the input from standard input: %s", g_strerror (errno));
          return NULL;
        }
      length = buffer->len;
      contents = g_string_free (buffer, FALSE);
      path = "standard input";
    }
  else
    {
      contents = fj_cli_read_file (path, &length, error);
      if (contents == NULL)
        return NULL;
    }

  if (memchr (contents, '\0', length) != NULL || !g_utf8_validate (contents, length, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "--input-file %s: the input is not UTF-8 text", path);
      return NULL;
    }

  /* A file's final newline is not part of the question. */
  g_strchomp (contents);

  return g_steal_pointer (&contents);
}

int
fj_cmd_run (int    argc,
            char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(FjSpec) spec = NULL;
  g_autofree char *input = NULL;
  FjRunOptions options;
  int status;

  fj_run_options_init (&options);

  context = g_option_context_new ("SPEC");
  g_option_context_set_summary (context,
                                "Run the fork-join described by the JSON spec SPEC: its agents in "
                                "parallel on one input,\nthen the synthesis over their results.");
  g_option_context_set_description (context,
                                    "Credentials come from --api-key-file, ANTHROPIC_API_KEY or "
                                    "ANTHROPIC_AUTH_TOKEN;\n--simulate needs none.\n\n"
                                    "Exit status: 0 complete or degraded, 1 failed, 2 bad usage, "
                                    "spec or credentials,\n130 interrupted.");
  fj_run_options_add (&options, context, FALSE);

  if (!fj_cli_parse_options (context, "run", &argc, &argv))
    {
      fj_run_options_clear (&options);
      return FJ_EXIT_USAGE;
    }

  if (argc != 2)
    {
      if (argc < 2)
        fj_cli_printerr ("run: no SPEC given (see “forkjoin-tool run --help”)");
      else
        fj_cli_printerr ("run: one SPEC expected, got %d arguments starting with “%s”",
                         argc - 1, argv[1]);
      fj_run_options_clear (&options);
      return FJ_EXIT_USAGE;
    }

  if ((status = fj_run_options_check (&options, "run")) >= 0)
    {
      fj_run_options_clear (&options);
      return status;
    }

  spec = fj_cli_load_spec (argv[1], &error);
  if (spec == NULL)
    {
      fj_cli_print_problems (error->message);
      fj_run_options_clear (&options);
      return FJ_EXIT_USAGE;
    }

  if (options.input != NULL)
    input = g_strdup (options.input);
  else if (options.input_file != NULL)
    {
      input = read_input_file (options.input_file, &error);
      if (input == NULL)
        {
          fj_cli_printerr ("run: %s", error->message);
          fj_run_options_clear (&options);
          return FJ_EXIT_USAGE;
        }
    }
  else if (fj_spec_get_input (spec) != NULL)
    input = g_strdup (fj_spec_get_input (spec));

  if (input == NULL || *input == '\0')
    {
      if (input == NULL)
        fj_cli_printerr ("run: %s has no “input”: give one with --input TEXT or --input-file FILE",
                         argv[1]);
      else
        fj_cli_printerr ("run: the input is empty");
      fj_run_options_clear (&options);
      return FJ_EXIT_USAGE;
    }

  status = fj_run_execute (&options, "run", spec, input, NULL);
  fj_run_options_clear (&options);

  return status;
}
