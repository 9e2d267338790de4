/* fj-cmd-validate.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdio.h>

#include "fj-cli.h"

/* `forkjoin-tool validate SPEC...`: loads each spec as `run` would (with
 * the same plugins) without sending anything, and reports every problem,
 * one per line, as "FILE:LINE:COL: FIELD: message". */

/* A URL for output, without any user:password@ part. */
static char *
shown_url (const char *url)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);

  if (uri == NULL || g_uri_get_userinfo (uri) == NULL)
    return g_strdup (url);

  return g_uri_to_string_partial (uri, G_URI_HIDE_USERINFO);
}

/* One line per client of "clients": its provider, URL, key variable
 * (never the key) and the agents that send with it. */
static void
print_clients (FjSpec *spec)
{
  g_auto(GStrv) names = fj_spec_dup_client_names (spec);
  GListModel *agents = fj_spec_get_agents (spec);

  for (guint i = 0; names[i] != NULL; i++)
    {
      const char *base_url = fj_spec_get_client_base_url (spec, names[i]);
      const char *key_env = fj_spec_get_client_api_key_env (spec, names[i]);
      g_autofree char *url = base_url != NULL ? shown_url (base_url) : NULL;
      g_autoptr(GString) users = g_string_new (NULL);

      for (guint j = 0; j < g_list_model_get_n_items (agents); j++)
        {
          g_autoptr(FjAgent) agent = g_list_model_get_item (agents, j);

          if (g_strcmp0 (fj_spec_get_agent_client_name (spec, j), names[i]) == 0)
            g_string_append_printf (users, "%s%s", users->len > 0 ? ", " : "", fj_agent_get_name (agent));
        }
      if (g_strcmp0 (fj_spec_get_synthesis_client_name (spec), names[i]) == 0)
        g_string_append_printf (users, "%ssynthesis", users->len > 0 ? ", " : "");

      printf ("  client %s: %s, %s, key %s%s; used by %s\n", names[i],
              fj_spec_get_client_provider (spec, names[i]) == FJ_PROVIDER_OPENAI ? "openai" : "anthropic",
              url != NULL ? url : "the default base URL",
              key_env != NULL ? "from " : "",
              key_env != NULL ? key_env :
              fj_spec_get_client_provider (spec, names[i]) == FJ_PROVIDER_OPENAI ? "none" :
              "from ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN",
              users->len > 0 ? users->str : "nothing");
    }
}

static gboolean
validate_one (const char *path)
{
  g_autoptr(FjSpec) spec = NULL;
  g_autoptr(GError) error = NULL;
  const char *synthesis;
  guint n_agents;

  /* fj_cli_load_spec() prints the warnings (models near or past their
   * end of life) on stderr. */
  spec = fj_cli_load_spec (path, &error);
  if (spec == NULL)
    {
      fj_cli_print_problems (error->message);
      return FALSE;
    }

  n_agents = g_list_model_get_n_items (fj_spec_get_agents (spec));
  synthesis = fj_spec_get_synthesis_plugin (spec);

  printf ("%s: ok (%u agent%s, synthesis %s)\n",
          path, n_agents, n_agents == 1 ? "" : "s",
          synthesis != NULL ? synthesis : "none");
  print_clients (spec);
  fflush (stdout);

  return TRUE;
}

int
fj_cmd_validate (int    argc,
                 char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  gboolean ok = TRUE;

  context = g_option_context_new ("SPEC…");
  g_option_context_set_summary (context,
    "Loads each SPEC (JSON) with the installed plugins, sends nothing,\n"
    "and reports every problem as FILE:LINE:COLUMN: FIELD: message.\n"
    "Warnings (a model near or past its end of life) do not fail it.");
  g_option_context_set_description (context,
    "Exit status: 0 when every SPEC is valid, 2 otherwise.");

  if (!fj_cli_parse_options (context, "validate", &argc, &argv))
    return FJ_EXIT_USAGE;

  if (argc < 2)
    {
      fj_cli_printerr ("validate: no SPEC given (try “forkjoin-tool validate --help”)");
      return FJ_EXIT_USAGE;
    }

  for (int i = 1; i < argc; i++)
    ok = validate_one (argv[i]) && ok;

  return ok ? FJ_EXIT_OK : FJ_EXIT_USAGE;
}
