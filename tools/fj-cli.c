/* fj-cli.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

/* allow_insecure_http of the spec fj_cli_load_spec() loaded last. */
static gboolean spec_allows_insecure_http;
/* Whether that spec sends anything with the run's client. */
static gboolean spec_uses_default_client = TRUE;
/* agent name -> client name ("" for the run's client), or NULL. */
static GHashTable *agent_clients;

/* The key of a simulator fj_cli_create_client() started. */
#define SIMULATOR_KEY_DATA "fj-cli-simulator-key"

void
fj_cli_printerr (const char *format,
                 ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  fflush (stdout);
  fprintf (stderr, "forkjoin-tool: %s\n", message);
  fflush (stderr);
}

FjPluginRegistry *
fj_cli_get_registry (void)
{
  static gboolean loaded;
  FjPluginRegistry *registry = fj_plugin_registry_get_default ();

  if (!loaded)
    {
      fj_plugin_registry_load_default (registry);
      loaded = TRUE;
    }

  return registry;
}

/* What every loaded spec goes through: the settings the client needs,
 * and its warnings printed. */
static FjSpec *
spec_loaded (FjSpec *spec)
{
  const char * const *warnings;

  spec_allows_insecure_http = fj_spec_get_allow_insecure_http (spec);
  spec_uses_default_client = fj_spec_get_uses_default_client (spec);

  warnings = fj_spec_get_warnings (spec);
  for (guint i = 0; warnings != NULL && warnings[i] != NULL; i++)
    fj_cli_printerr ("warning: %s", warnings[i]);

  return spec;
}

void
fj_cli_print_problems (const char *message)
{
  g_auto(GStrv) lines = g_strsplit (message, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (*lines[i] != '\0')
      fj_cli_printerr ("%s", lines[i]);
}

FjSpec *
fj_cli_load_spec (const char  *path,
                  GError     **error)
{
  g_autoptr(FjSpec) spec = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  spec = fj_spec_new (fj_cli_get_registry ());
  if (!fj_spec_load_from_file (spec, path, error))
    return NULL;

  return spec_loaded (g_steal_pointer (&spec));
}

FjSpec *
fj_cli_load_spec_from_data (const char  *text,
                            const char  *path,
                            GError     **error)
{
  g_autoptr(FjSpec) spec = NULL;

  g_return_val_if_fail (text != NULL, NULL);

  spec = fj_spec_new (fj_cli_get_registry ());
  if (!fj_spec_load_from_data (spec, text, -1, path, error))
    return NULL;

  return spec_loaded (g_steal_pointer (&spec));
}

FjPrices *
fj_cli_load_prices (const char  *path,
                    GError     **error)
{
  g_autoptr(FjPrices) prices = NULL;
  const char *env = g_getenv ("FORKJOIN_PRICES");
  const char *origin = "--prices ";

  if (path == NULL && env != NULL && *env != '\0')
    {
      path = env;
      origin = "FORKJOIN_PRICES=";
    }

  if (path == NULL)
    return g_object_ref (fj_prices_get_default ());

  prices = fj_prices_new ();
  if (!fj_prices_load_from_file (prices, path, error))
    {
      g_prefix_error (error, "cannot load the prices (%s%s): ", origin, path);
      return NULL;
    }

  return g_steal_pointer (&prices);
}

char *
fj_cli_read_file (const char  *path,
                  gsize       *length,
                  GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  char *contents = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  if (!g_file_get_contents (path, &contents, length, &local_error))
    {
      /* GLib's message already names the file ("Failed to open file “x”: ..."). */
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  return contents;
}

#define MAX_KEY_FILE_BYTES 65536

static char *
key_file_error (GError     **error,
                const char  *path,
                int          saved_errno)
{
  g_set_error (error, FJ_ERROR, FJ_ERROR_AUTHENTICATION,
               "cannot read the API key file %s: %s", path, g_strerror (saved_errno));
  return NULL;
}

/* The first line of @path, trimmed; never echoes the key in an error.
 * The mode is checked on the open file, so that what is read is what was
 * checked. */
static char *
read_api_key_file (const char  *path,
                   GError     **error)
{
  char buffer[MAX_KEY_FILE_BYTES + 1];
  gsize length = 0;
  char *newline;
  char *key;
  struct stat st;
  int fd;

  fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY, 0);
  if (fd < 0)
    return key_file_error (error, path, errno);

  /* Mode bits, not access(): CI runs as root, who may read anything. */
  if (fstat (fd, &st) != 0)
    {
      int saved_errno = errno;

      close (fd);
      return key_file_error (error, path, saved_errno);
    }
  if ((st.st_mode & 077) != 0)
    {
      close (fd);
      g_set_error (error, FJ_ERROR, FJ_ERROR_AUTHENTICATION,
                   "%s: readable by others (mode %04o); chmod 600 %s",
                   path, (guint) (st.st_mode & 07777), path);
      return NULL;
    }

  while (length < sizeof buffer)
    {
      gssize n = read (fd, buffer + length, sizeof buffer - length);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;

          close (fd);
          memset (buffer, 0, length);
          return key_file_error (error, path, saved_errno);
        }
      if (n == 0)
        break;
      length += n;
    }
  close (fd);

  if (length > MAX_KEY_FILE_BYTES)
    {
      memset (buffer, 0, length);
      g_set_error (error, FJ_ERROR, FJ_ERROR_AUTHENTICATION,
                   "the API key file %s is over %u bytes: its first line should hold the key",
                   path, MAX_KEY_FILE_BYTES);
      return NULL;
    }
  buffer[length] = '\0';

  newline = strpbrk (buffer, "\r\n");
  if (newline != NULL)
    *newline = '\0';
  key = g_strdup (g_strstrip (buffer));
  memset (buffer, 0, length);

  if (*key == '\0')
    {
      g_free (key);
      g_set_error (error, FJ_ERROR, FJ_ERROR_AUTHENTICATION,
                   "the API key file %s is empty: its first line should hold the key",
                   path);
      return NULL;
    }

  return key;
}

/* A fresh key for an in-process simulator, so that nothing else on this
 * machine can use it by accident. */
static char *
random_key (void)
{
  g_autofree char *uuid = g_uuid_string_random ();

  return g_strconcat ("sim-", uuid, NULL);
}

static void
scrub_free (char *secret)
{
  if (secret != NULL)
    {
      memset (secret, 0, strlen (secret));
      g_free (secret);
    }
}

void
fj_cli_setup_named_clients (FjSpec      *spec,
                            FjSimulator *simulator)
{
  g_auto(GStrv) names = NULL;
  g_autofree char *url = NULL;
  const char *key;

  g_return_if_fail (FJ_IS_SPEC (spec));

  if (simulator == NULL)
    return;

  key = g_object_get_data (G_OBJECT (simulator), SIMULATOR_KEY_DATA);
  url = fj_simulator_dup_base_url (simulator);
  names = fj_spec_dup_client_names (spec);

  for (guint i = 0; names[i] != NULL; i++)
    {
      FjProvider provider = fj_spec_get_client_provider (spec, names[i]);
      g_autofree char *base_url = provider == FJ_PROVIDER_OPENAI ?
                                  g_strconcat (url, "/v1", NULL) : g_strdup (url);
      g_autoptr(FjClient) client = fj_client_new_for_base_url (base_url);

      fj_client_set_provider (client, provider);
      fj_client_set_auth_token (client, NULL);
      fj_client_set_api_key (client, key);
      fj_spec_set_client (spec, names[i], client);
    }
}

void
fj_cli_set_agent_clients (FjSpec *spec)
{
  g_auto(GStrv) names = NULL;
  GListModel *agents;

  g_return_if_fail (FJ_IS_SPEC (spec));

  g_clear_pointer (&agent_clients, g_hash_table_unref);

  names = fj_spec_dup_client_names (spec);
  if (names[0] == NULL)
    return;

  agent_clients = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  agents = fj_spec_get_agents (spec);
  for (guint i = 0; i < g_list_model_get_n_items (agents); i++)
    {
      g_autoptr(FjAgent) agent = g_list_model_get_item (agents, i);
      const char *client = fj_spec_get_agent_client_name (spec, i);

      g_hash_table_insert (agent_clients, g_strdup (fj_agent_get_name (agent)),
                           g_strdup (client != NULL ? client : ""));
    }
}

gboolean
fj_cli_has_agent_clients (void)
{
  return agent_clients != NULL;
}

const char *
fj_cli_get_agent_client (const char *agent_name)
{
  const char *client;

  if (agent_clients == NULL || agent_name == NULL)
    return NULL;

  client = g_hash_table_lookup (agent_clients, agent_name);

  return client != NULL && *client != '\0' ? client : NULL;
}

/* @base_url for a message, without any user:password@ part. */
static char *
shown_url (const char *base_url)
{
  g_autoptr(GUri) uri = g_uri_parse (base_url, G_URI_FLAGS_NONE, NULL);

  if (uri == NULL || g_uri_get_userinfo (uri) == NULL)
    return g_strdup (base_url);

  return g_uri_to_string_partial (uri, G_URI_HIDE_USERINFO);
}

FjClient *
fj_cli_create_client (const char   *simulate,
                      const char   *api_key_file,
                      FjSimulator **simulator,
                      GError      **error)
{
  g_autoptr(FjClient) client = NULL;

  g_return_val_if_fail (simulator != NULL, NULL);

  *simulator = NULL;

  if (simulate != NULL)
    {
      g_autoptr(FjSimulator) sim = fj_simulator_new ();
      g_autofree char *url = NULL;
      char *key = random_key ();

      if (*simulate != '\0' && !fj_simulator_load_scenario_from_file (sim, simulate, error))
        {
          scrub_free (key);
          g_prefix_error (error, "cannot load the simulator scenario: ");
          return NULL;
        }

      fj_simulator_set_api_key (sim, key);
      if (!fj_simulator_start (sim, error))
        {
          scrub_free (key);
          g_prefix_error (error, "cannot start the simulator: ");
          return NULL;
        }

      url = fj_simulator_dup_base_url (sim);
      client = fj_client_new_for_base_url (url);
      fj_client_set_auth_token (client, NULL);
      fj_client_set_api_key (client, key);
      /* For the spec's named clients (fj_cli_setup_named_clients()). */
      g_object_set_data_full (G_OBJECT (sim), SIMULATOR_KEY_DATA, key, (GDestroyNotify) scrub_free);

      *simulator = g_steal_pointer (&sim);
      return g_steal_pointer (&client);
    }

  client = fj_client_new ();

  if (api_key_file != NULL)
    {
      char *key = read_api_key_file (api_key_file, error);

      if (key == NULL)
        return NULL;

      fj_client_set_auth_token (client, NULL);
      fj_client_set_api_key (client, key);
      scrub_free (key);
    }

  if (!fj_client_get_has_credentials (client) && spec_uses_default_client)
    {
      g_set_error_literal (error, FJ_ERROR, FJ_ERROR_AUTHENTICATION,
                           "no credentials: set ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN, "
                           "or pass --api-key-file FILE; "
                           "or use --simulate to run against the built-in simulator");
      return NULL;
    }

  /* Refused later by fj_spec_configure_client() unless allowed. */
  if (spec_allows_insecure_http && fj_client_is_insecure (client))
    {
      g_autofree char *shown = shown_url (fj_client_get_base_url (client));

      fj_cli_printerr ("warning: sending over plain HTTP to %s (allow_insecure_http): "
                       "the API key and the prompts travel unencrypted", shown);
    }

  return g_steal_pointer (&client);
}

FjClient *
fj_cli_create_batch_client (FjBatch     *batch,
                            const char  *api_key_file,
                            GError     **error)
{
  g_autoptr(FjSimulator) simulator = NULL;
  g_autoptr(FjClient) client = NULL;
  const char *base_url;

  g_return_val_if_fail (FJ_IS_BATCH (batch), NULL);

  client = fj_cli_create_client (NULL, api_key_file, &simulator, error);
  if (client == NULL)
    return NULL;

  /* The batch lives where it was submitted, whatever ANTHROPIC_BASE_URL
   * says now. */
  base_url = fj_batch_get_base_url (batch);
  if (base_url != NULL && *base_url != '\0')
    fj_client_set_base_url (client, base_url);

  return g_steal_pointer (&client);
}

/* "--option=value" in an option error, for redacting the value. */
static GRegex *
redact_regex (void)
{
  static GRegex *regex;

  if (g_once_init_enter (&regex))
    g_once_init_leave (&regex, g_regex_new ("(-[-A-Za-z0-9_]+)=\\S*", G_REGEX_OPTIMIZE, 0, NULL));

  return regex;
}

gboolean
fj_cli_parse_options (GOptionContext   *context,
                      const char       *command,
                      int              *argc,
                      char           ***argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *prgname = g_strdup_printf ("forkjoin-tool %s", command);
  gboolean ok;

  g_return_val_if_fail (context != NULL, FALSE);
  g_return_val_if_fail (command != NULL, FALSE);

  /* GOption gives an optional argument the next word when it does not
   * start with "-": "--simulate SPEC" would take the spec as a scenario.
   * The argument of --simulate is written --simulate=SCENARIO only. */
  for (int i = 1; i < *argc; i++)
    {
      if (strcmp ((*argv)[i], "--") == 0)
        break;
      if (strcmp ((*argv)[i], "--simulate") == 0)
        (*argv)[i] = (char *) "--simulate=";
    }

  /* --help prints "Usage: PRGNAME [OPTION…] ..." and exits inside. */
  g_set_prgname (prgname);
  ok = g_option_context_parse (context, argc, argv, &error);
  g_set_prgname ("forkjoin-tool");

  if (!ok)
    {
      g_autofree char *message = NULL;
      const char *hint = "";

      /* "Unknown option --api-key=SECRET": never echo what follows "=". */
      if (g_error_matches (error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION))
        {
          message = g_regex_replace (redact_regex (), error->message, -1, 0, "\\1=…", 0, NULL);
          if (strstr (error->message, "--api-key") != NULL ||
              strstr (error->message, "--key") != NULL ||
              strstr (error->message, "--token") != NULL)
            hint = "; the key is never taken from the command line: set ANTHROPIC_API_KEY "
                   "or pass --api-key-file FILE";
        }

      fj_cli_printerr ("%s: %s%s (see “forkjoin-tool %s --help”)", command,
                       message != NULL ? message : error->message, hint, command);
      return FALSE;
    }

  return TRUE;
}
