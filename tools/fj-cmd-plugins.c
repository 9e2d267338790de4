/* fj-cmd-plugins.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fj-cli.h"

/* `forkjoin-tool plugins`: what the registry found, kind by kind, with
 * each plugin's options, then every module that failed to load.  A
 * failure is information here, not an error: the exit status is 0. */

static const FjPluginKind kinds[] = {
  FJ_PLUGIN_KIND_SYNTHESIZER,
  FJ_PLUGIN_KIND_POLICY,
  FJ_PLUGIN_KIND_TOOL,
};

static const char *
kind_nick (FjPluginKind kind)
{
  switch (kind)
    {
    case FJ_PLUGIN_KIND_SYNTHESIZER: return "synthesizer";
    case FJ_PLUGIN_KIND_POLICY:      return "policy";
    case FJ_PLUGIN_KIND_TOOL:        return "tool";
    default:                         return "unknown";
    }
}

static const char *
kind_heading (FjPluginKind kind)
{
  switch (kind)
    {
    case FJ_PLUGIN_KIND_SYNTHESIZER: return "Synthesizers (the spec's \"synthesis\")";
    case FJ_PLUGIN_KIND_POLICY:      return "Policies (the spec's \"policies\")";
    case FJ_PLUGIN_KIND_TOOL:        return "Tools (an agent's \"tools\")";
    default:                         return "Other";
    }
}

/* The directories searched, in order, as FjPluginRegistry does. */
static char *
dup_search_path (void)
{
  const char *env = g_getenv ("FORKJOIN_PLUGIN_PATH");

  if (env != NULL && *env != '\0')
    return g_strconcat (env, ":", FJ_PLUGINDIR, NULL);

  return g_strdup (FJ_PLUGINDIR);
}

/* The registry words its errors "PATH: reason".  Split them so --json
 * can give the path on its own; a message that does not start with an
 * existing path is kept whole. */
static void
split_error (const GError  *error,
             char         **path,
             const char   **reason)
{
  const char *message = error->message;
  const char *p = message;

  *path = NULL;
  *reason = message;

  if (*message != '/')
    return;

  while ((p = strstr (p, ": ")) != NULL)
    {
      g_autofree char *candidate = g_strndup (message, p - message);

      if (g_file_test (candidate, G_FILE_TEST_EXISTS))
        {
          *path = g_steal_pointer (&candidate);
          *reason = p + 2;
          return;
        }
      p += 2;
    }
}

/* The default as JSON, cut short: a prompt template is no table cell
 * (--json gives it whole). */
static char *
option_default_text (JsonObject *option)
{
  JsonNode *node = json_object_get_member (option, "default");
  g_autofree char *text = NULL;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return g_strdup ("none");

  text = json_to_string (node, FALSE);
  if (g_utf8_strlen (text, -1) > 60)
    {
      g_autofree char *head = g_utf8_substring (text, 0, 56);

      return g_strconcat (head, "…\"", NULL);
    }

  return g_steal_pointer (&text);
}

static void
print_options (JsonArray *options)
{
  guint n = options != NULL ? json_array_get_length (options) : 0;
  guint width = 0;

  if (n == 0)
    {
      printf ("      (no options)\n");
      return;
    }

  for (guint i = 0; i < n; i++)
    {
      JsonObject *option = json_array_get_object_element (options, i);
      const char *name = json_object_get_string_member_with_default (option, "name", "");

      width = MAX (width, (guint) strlen (name));
    }

  for (guint i = 0; i < n; i++)
    {
      JsonObject *option = json_array_get_object_element (options, i);
      const char *name = json_object_get_string_member_with_default (option, "name", "");
      const char *type = json_object_get_string_member_with_default (option, "type", "");
      const char *description =
        json_object_get_string_member_with_default (option, "description", "");
      g_autofree char *default_text = option_default_text (option);
      g_autoptr(GString) type_text = g_string_new (type);

      if (json_object_has_member (option, "choices"))
        {
          JsonArray *choices = json_object_get_array_member (option, "choices");

          g_string_append (type_text, ": ");
          for (guint j = 0; choices != NULL && j < json_array_get_length (choices); j++)
            g_string_append_printf (type_text, "%s%s", j > 0 ? "|" : "",
                                    json_array_get_string_element (choices, j));
        }

      printf ("      %-*s  %s, default %s\n", (int) width, name, type_text->str, default_text);
      if (*description != '\0')
        printf ("      %-*s  %s\n", (int) width, "", description);
    }
}

static void
print_text (GListModel *infos,
            GPtrArray  *errors)
{
  g_autofree char *search_path = dup_search_path ();
  guint n = g_list_model_get_n_items (infos);

  printf ("Plugin directories (the first that provides a name wins):\n");
  {
    g_auto(GStrv) dirs = g_strsplit (search_path, ":", -1);

    for (guint i = 0; dirs[i] != NULL; i++)
      if (*dirs[i] != '\0')
        printf ("  %s\n", dirs[i]);
  }

  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      gboolean any = FALSE;

      printf ("\n%s:\n", kind_heading (kinds[k]));

      for (guint i = 0; i < n; i++)
        {
          g_autoptr(FjPluginInfo) info = g_list_model_get_item (infos, i);
          const char *path;

          if (fj_plugin_info_get_kind (info) != kinds[k])
            continue;

          any = TRUE;
          path = fj_plugin_info_get_path (info);
          printf ("  %s — %s\n",
                  fj_plugin_info_get_name (info), fj_plugin_info_get_description (info));
          printf ("    kind: %s\n", kind_nick (kinds[k]));
          printf ("    module: %s\n", path != NULL ? path : "(built into the program)");
          printf ("    options:\n");
          print_options (fj_plugin_info_get_options (info));
        }

      if (!any)
        printf ("  (none)\n");
    }

  printf ("\nModules that failed to load:");
  if (errors == NULL || errors->len == 0)
    {
      printf (" none\n");
      return;
    }
  printf ("\n");

  for (guint i = 0; i < errors->len; i++)
    {
      const GError *error = g_ptr_array_index (errors, i);
      g_autofree char *path = NULL;
      const char *reason;

      split_error (error, &path, &reason);
      if (path != NULL)
        printf ("  %s\n    %s\n", path, reason);
      else
        printf ("  %s\n", reason);
    }
}

static void
print_json (GListModel *infos,
            GPtrArray  *errors)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *search_path = dup_search_path ();
  g_autofree char *text = NULL;
  g_auto(GStrv) dirs = g_strsplit (search_path, ":", -1);
  guint n = g_list_model_get_n_items (infos);

  json_builder_begin_object (builder);

  json_builder_set_member_name (builder, "directories");
  json_builder_begin_array (builder);
  for (guint i = 0; dirs[i] != NULL; i++)
    if (*dirs[i] != '\0')
      json_builder_add_string_value (builder, dirs[i]);
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "plugins");
  json_builder_begin_array (builder);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(FjPluginInfo) info = g_list_model_get_item (infos, i);
      JsonArray *options = fj_plugin_info_get_options (info);
      const char *path = fj_plugin_info_get_path (info);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, fj_plugin_info_get_name (info));
      json_builder_set_member_name (builder, "kind");
      json_builder_add_string_value (builder, kind_nick (fj_plugin_info_get_kind (info)));
      json_builder_set_member_name (builder, "description");
      json_builder_add_string_value (builder, fj_plugin_info_get_description (info));
      json_builder_set_member_name (builder, "path");
      if (path != NULL)
        json_builder_add_string_value (builder, path);
      else
        json_builder_add_null_value (builder);
      json_builder_set_member_name (builder, "options");
      if (options != NULL)
        {
          JsonNode *node = json_node_new (JSON_NODE_ARRAY);

          json_node_set_array (node, options);
          json_builder_add_value (builder, node);
        }
      else
        {
          json_builder_begin_array (builder);
          json_builder_end_array (builder);
        }
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "errors");
  json_builder_begin_array (builder);
  for (guint i = 0; errors != NULL && i < errors->len; i++)
    {
      const GError *error = g_ptr_array_index (errors, i);
      g_autofree char *path = NULL;
      const char *reason;

      split_error (error, &path, &reason);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "path");
      if (path != NULL)
        json_builder_add_string_value (builder, path);
      else
        json_builder_add_null_value (builder);
      json_builder_set_member_name (builder, "reason");
      json_builder_add_string_value (builder, reason);
      json_builder_set_member_name (builder, "message");
      json_builder_add_string_value (builder, error->message);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  text = json_to_string (root, TRUE);
  printf ("%s\n", text);
}

int
fj_cmd_plugins (int    argc,
                char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GListModel) infos = NULL;
  FjPluginRegistry *registry;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
      "Print one JSON document (plugins, their options, load errors)", NULL },
    { NULL }
  };

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
    "Lists every plugin found in FORKJOIN_PLUGIN_PATH and the installed\n"
    "plugin directory: its kind, description and options, then every\n"
    "module that failed to load and why.");
  g_option_context_set_description (context,
    "Exit status: 0, also when some modules failed to load (they are listed).");
  g_option_context_add_main_entries (context, entries, NULL);

  if (!fj_cli_parse_options (context, "plugins", &argc, &argv))
    return FJ_EXIT_USAGE;

  if (argc > 1)
    {
      fj_cli_printerr ("plugins: unexpected argument “%s”", argv[1]);
      return FJ_EXIT_USAGE;
    }

  registry = fj_cli_get_registry ();
  infos = fj_plugin_registry_list (registry);

  if (json)
    print_json (infos, fj_plugin_registry_get_errors (registry));
  else
    print_text (infos, fj_plugin_registry_get_errors (registry));

  fflush (stdout);

  return FJ_EXIT_OK;
}
