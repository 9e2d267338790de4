/* fj-cmd-resume.c — forkjoin-tool resume
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "fj-cli.h"

static const char *
get_string (JsonObject *object,
            const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

/* The spec a result names: as recorded when that path exists from here,
 * else relative to the result file's directory. */
static char *
resolve_spec_path (const char *recorded,
                   const char *result_path)
{
  g_autofree char *dir = NULL;
  g_autofree char *beside = NULL;

  if (g_path_is_absolute (recorded) || g_file_test (recorded, G_FILE_TEST_EXISTS))
    return g_strdup (recorded);

  dir = g_path_get_dirname (result_path);
  beside = g_build_filename (dir, recorded, NULL);
  if (g_file_test (beside, G_FILE_TEST_EXISTS))
    return g_steal_pointer (&beside);

  return g_strdup (recorded);
}

static int
resume (FjRunOptions  *options,
        const char    *result_path,
        const char    *spec_arg)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(FjSpec) spec = NULL;
  g_autoptr(GPtrArray) previous = NULL;
  g_autoptr(GHashTable) by_name = NULL;
  g_autofree char *spec_path = NULL;
  JsonNode *root;
  JsonObject *object;
  JsonObject *recorded_spec = NULL;
  JsonNode *spec_node;
  JsonNode *agents_node;
  JsonArray *agents_json;
  GListModel *agents;
  const char *input;
  const char *recorded_path;
  const char *recorded_sha256;
  guint n_agents;
  guint n_matched = 0;

  if (!json_parser_load_from_file (parser, result_path, &error))
    {
      fj_cli_printerr ("resume: %s: %s", result_path, error->message);
      return FJ_EXIT_USAGE;
    }

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      fj_cli_printerr ("resume: %s: not a result of “forkjoin-tool run --json”: "
                       "expected a JSON object", result_path);
      return FJ_EXIT_USAGE;
    }
  object = json_node_get_object (root);

  input = get_string (object, "input");
  agents_node = json_object_get_member (object, "agents");
  if (input == NULL || agents_node == NULL || !JSON_NODE_HOLDS_ARRAY (agents_node))
    {
      fj_cli_printerr ("resume: %s: not a result of “forkjoin-tool run --json”: "
                       "it needs “input” (a string) and “agents” (an array)", result_path);
      return FJ_EXIT_USAGE;
    }
  agents_json = json_node_get_array (agents_node);

  spec_node = json_object_get_member (object, "spec");
  if (spec_node != NULL && JSON_NODE_HOLDS_OBJECT (spec_node))
    recorded_spec = json_node_get_object (spec_node);
  recorded_path = get_string (recorded_spec, "path");
  recorded_sha256 = get_string (recorded_spec, "sha256");

  if (spec_arg != NULL)
    spec_path = g_strdup (spec_arg);
  else if (recorded_path != NULL)
    spec_path = resolve_spec_path (recorded_path, result_path);
  else
    {
      fj_cli_printerr ("resume: %s records no spec path (“spec”: {“path”}): "
                       "name the spec after it", result_path);
      return FJ_EXIT_USAGE;
    }

  spec = fj_cli_load_spec (spec_path, &error);
  if (spec == NULL)
    {
      fj_cli_print_problems (error->message);
      return FJ_EXIT_USAGE;
    }

  if (recorded_sha256 == NULL || g_ascii_strcasecmp (recorded_sha256, fj_spec_get_sha256 (spec)) != 0)
    {
      g_autofree char *why = NULL;

      if (recorded_sha256 == NULL)
        why = g_strdup_printf ("%s records no SHA-256 of its spec", result_path);
      else
        why = g_strdup_printf ("the spec %s is not the one %s was made with "
                               "(SHA-256 %.12s… recorded, %.12s… now)",
                               spec_path, result_path, recorded_sha256, fj_spec_get_sha256 (spec));

      if (!options->force)
        {
          fj_cli_printerr ("resume: %s; pass --force to resume anyway", why);
          return FJ_EXIT_USAGE;
        }
      fj_cli_printerr ("warning: %s; resuming anyway (--force)", why);
    }

  /* The earlier results by agent name, then one per agent of the spec in
   * its order: an agent the result does not have runs afresh. */
  by_name = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < json_array_get_length (agents_json); i++)
    {
      JsonNode *node = json_array_get_element (agents_json, i);
      const char *name = JSON_NODE_HOLDS_OBJECT (node) ?
                         get_string (json_node_get_object (node), "name") : NULL;

      if (name == NULL)
        {
          fj_cli_printerr ("resume: %s: agents[%u]: expected an object with a “name”",
                           result_path, i);
          return FJ_EXIT_USAGE;
        }
      if (g_hash_table_contains (by_name, name))
        {
          fj_cli_printerr ("resume: %s: agents[%u]: a second agent named “%s”",
                           result_path, i, name);
          return FJ_EXIT_USAGE;
        }
      g_hash_table_insert (by_name, (char *) name, node);
    }

  agents = fj_spec_get_agents (spec);
  n_agents = g_list_model_get_n_items (agents);
  previous = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < n_agents; i++)
    {
      g_autoptr(FjAgent) agent = g_list_model_get_item (agents, i);
      const char *name = fj_agent_get_name (agent);
      JsonNode *node = g_hash_table_lookup (by_name, name);
      FjAgentResult *result;

      if (node == NULL)
        {
          if (!options->force)
            {
              fj_cli_printerr ("resume: %s has no result for the agent “%s” of %s; "
                               "pass --force to run it afresh", result_path, name, spec_path);
              return FJ_EXIT_USAGE;
            }
          g_ptr_array_add (previous, fj_agent_result_new (name, i));
          continue;
        }

      result = fj_agent_result_new_from_json (node, i, &error);
      if (result == NULL)
        {
          fj_cli_printerr ("resume: %s: agent “%s”: %s", result_path, name, error->message);
          return FJ_EXIT_USAGE;
        }
      g_ptr_array_add (previous, result);
      n_matched++;
    }

  if (n_matched < g_hash_table_size (by_name) && !options->force)
    {
      fj_cli_printerr ("resume: %s has results for %u agents that %s does not have; "
                       "pass --force to drop them",
                       result_path, g_hash_table_size (by_name) - n_matched, spec_path);
      return FJ_EXIT_USAGE;
    }

  return fj_run_execute (options, "resume", spec, input, previous);
}

/* `resume --batch STATE`: the spec and input as the state file recorded
 * them at submission; the runner polls the batch instead of submitting. */
static int
resume_batch (FjRunOptions *options)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FjBatch) batch = NULL;
  g_autoptr(FjSpec) spec = NULL;
  g_autofree char *digest = NULL;
  const char *text;
  const char *recorded_path;
  const char *recorded_sha256;

  batch = fj_batch_new_from_file (options->batch_state, &error);
  if (batch == NULL)
    {
      fj_cli_printerr ("resume: %s", error->message);
      return FJ_EXIT_USAGE;
    }

  text = fj_batch_get_metadata (batch, "spec");
  recorded_path = fj_batch_get_metadata (batch, "spec_path");
  recorded_sha256 = fj_batch_get_metadata (batch, "spec_sha256");
  if (text == NULL || recorded_path == NULL || recorded_sha256 == NULL)
    {
      fj_cli_printerr ("resume: %s: the state does not record the spec it ran "
                       "(spec, spec_path and spec_sha256 in metadata): it was not written by "
                       "“forkjoin-tool run --batch”", options->batch_state);
      return FJ_EXIT_USAGE;
    }

  digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);
  if (g_ascii_strcasecmp (digest, recorded_sha256) != 0)
    {
      fj_cli_printerr ("resume: %s: the recorded spec does not match its SHA-256 %s: "
                       "the state file was changed", options->batch_state, recorded_sha256);
      return FJ_EXIT_USAGE;
    }

  spec = fj_cli_load_spec_from_data (text, recorded_path, &error);
  if (spec == NULL)
    {
      fj_cli_printerr ("resume: the spec recorded in %s: %s", options->batch_state, error->message);
      return FJ_EXIT_USAGE;
    }

  options->batch_to_resume = g_object_ref (batch);

  return fj_run_execute (options, "resume", spec, fj_batch_get_input (batch), NULL);
}

int
fj_cmd_resume (int    argc,
               char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  FjRunOptions options;
  int status;

  fj_run_options_init (&options);

  context = g_option_context_new ("RESULT.json [SPEC] | --batch STATE");
  g_option_context_set_summary (context,
                                "Rerun the agents of an earlier “forkjoin-tool run --json” result "
                                "that did not succeed,\nkeep the ones that did as they were, and "
                                "run the synthesis again over all of them.\n\n"
                                "SPEC defaults to the spec the result records; its SHA-256 must "
                                "match the recorded one\nunless --force is given. The input is "
                                "the recorded one.\n\n"
                                "With --batch STATE, pick up the batch a “run --batch” submitted "
                                "(its state file),\nwait for it to end, map its results and run "
                                "the synthesis; the spec and input\nare the ones the state "
                                "records.");
  g_option_context_set_description (context,
                                    "Exit status: 0 complete or degraded, 1 failed, 2 bad usage, "
                                    "result, spec or credentials,\n130 interrupted.");
  fj_run_options_add (&options, context, TRUE);

  if (!fj_cli_parse_options (context, "resume", &argc, &argv))
    {
      fj_run_options_clear (&options);
      return FJ_EXIT_USAGE;
    }

  if (options.batch_state != NULL)
    {
      const char *problem = NULL;

      if (argc > 1)
        problem = "--batch STATE takes no RESULT.json or SPEC";
      else if (options.simulate != NULL)
        problem = "--batch picks the batch up where it was submitted: leave out --simulate";
      else if (options.force)
        problem = "--force is for RESULT.json, not --batch";

      if (problem != NULL)
        {
          fj_cli_printerr ("resume: %s", problem);
          status = FJ_EXIT_USAGE;
        }
      else if ((status = fj_run_options_check (&options, "resume")) < 0)
        status = resume_batch (&options);
      fj_run_options_clear (&options);
      return status;
    }

  if (argc < 2 || argc > 3)
    {
      if (argc < 2)
        fj_cli_printerr ("resume: no RESULT.json given (see “forkjoin-tool resume --help”)");
      else
        fj_cli_printerr ("resume: expected RESULT.json and at most one SPEC, got %d arguments",
                         argc - 1);
      fj_run_options_clear (&options);
      return FJ_EXIT_USAGE;
    }

  if ((status = fj_run_options_check (&options, "resume")) >= 0)
    {
      fj_run_options_clear (&options);
      return status;
    }

  status = resume (&options, argv[1], argc > 2 ? argv[2] : NULL);
  fj_run_options_clear (&options);

  return status;
}
