/* fj-spec.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-spec.h"
#include "fj-spec-private.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fj-agent.h"
#include "fj-error.h"
#include "fj-plugin-info-private.h"
#include "fj-policy.h"
#include "fj-spec-parser-private.h"
#include "fj-synthesizer.h"
#include "fj-tool.h"

/**
 * FjSpec:
 *
 * A fork-join described in JSON, loaded into configured objects.
 *
 * The format (its JSON Schema is `data/spec.schema.json`, installed with
 * the package data) is one object:
 *
 * ```json
 * {
 *   "input": "Analyze Q3 performance for ACME Corp",
 *   "defaults": { "model": "claude-haiku-5-5", "max_tokens": 1024, "timeout": 60 },
 *   "agents": [
 *     { "name": "market-analyst", "instructions": "You are a market analyst..." },
 *     { "name": "technical-analyst", "instructions": "...", "timeout": 30 }
 *   ],
 *   "min_successes": 2,
 *   "runner": { "max_concurrent": 3, "deadline": 300 },
 *   "policies": [ { "plugin": "quorum", "early_exit": false } ],
 *   "synthesis": { "plugin": "llm", "model": "claude-sonnet-5-5" }
 * }
 * ```
 *
 * - `agents` (required, not empty): each takes `name` (required, unique),
 *   `instructions`, `model`, `max_tokens`, `temperature`, `timeout`,
 *   `max_turns`, `stream`, `tools` and `client`; `defaults` takes the same keys but
 *   `name` and gives each agent what it does not set itself.
 * - `tools`: each entry names a tool plugin, as a string or as an object
 *   `{"plugin": NAME, ...options}`.
 * - `min_successes` (default 1): the quorum of the [class@ForkJoinTask].
 * - `runner`: `max_concurrent` (0, the default, is unlimited), `deadline`
 *   and `agent_timeout`, as the [class@AgentRunner] properties; `mode`
 *   (`"live"`, the default, or `"batch"`: the Message Batches API, for
 *   agents without tools), `poll_interval` (batch mode: seconds before the
 *   first poll) and `cache` (`"none"`, the default, or `"shared-input"`:
 *   the input first, marked for the prompt cache, and one agent ahead of
 *   the rest).
 * - `policies` and `synthesis`: plugin entries, `{"plugin": NAME}` plus the
 *   plugin's options, flat, made through the [class@PluginRegistry]. A
 *   synthesizer that has `model`, `max_tokens`, `temperature`, `max_turns`
 *   or `timeout` options takes them from `defaults` when its entry does not
 *   set them. No `synthesis` (or `null`) means no synthesis step.
 * - `client`: settings of the client a run sends with (`api_version`,
 *   `max_retries`, `idle_timeout`, `requests_per_minute`,
 *   `input_tokens_per_minute`, `output_tokens_per_minute`), applied by
 *   [method@Spec.configure_client].
 * - `clients`: more endpoints, by name, for one fork-join to use several
 *   (a local model for drafts, Claude for the synthesis). Each takes
 *   `provider` (`"anthropic"`, the default, or `"openai"` for an
 *   OpenAI-compatible server such as Ollama), `base_url` (required for
 *   openai, with `/v1`: `http://localhost:11434/v1`), `api_key_env` (the
 *   environment variable holding its key), `allow_insecure_http` and the
 *   settings of `client` (`api_version` for anthropic only). An agent, or
 *   `defaults`, or `synthesis`, takes `"client": NAME`; without it (or
 *   with `null`, in an agent whose `defaults` name one), the run's client.
 *   See [method@Spec.create_task].
 * - `allow_insecure_http` (default false): lets the client send to a
 *   plain-HTTP base URL that is not loopback (`127.0.0.0/8`, `::1`,
 *   `localhost`). Without it [method@Spec.configure_client] refuses such a
 *   URL, since the API key would travel unencrypted; with it the spec
 *   loads with a warning. Certificates of HTTPS URLs are always verified.
 * - `input` (the question; a program may give it instead), `description`
 *   and `$schema` are free strings.
 *
 * Times are in seconds, fractions allowed. The JSON must be strict
 * (RFC 8259): no comments, trailing commas, duplicate keys or content
 * after the document. Every problem is reported at once, as
 * %FJ_ERROR_SPEC with one line per problem, each naming the file, line,
 * column and field:
 *
 * ```
 * q3.json:14:18: agents[2].timeout: expected a number of seconds, got "fast"
 * ```
 *
 * Models at or near their end of life (from the library's model table)
 * give warnings, see [method@Spec.get_warnings].
 *
 * Since: 1.0
 */

#define MODELS_RESOURCE "/org/gnome/Forkjoin/data/models.json"
/* Warn this many days ahead of a model's end of life. */
#define EOL_WARNING_DAYS 60
/* How much of a string value an error quotes. */
#define MAX_QUOTED_CHARS 40

typedef struct
{
  char       *name;
  /* the entry's options, without "plugin" */
  JsonObject *options;
} PluginEntry;

typedef struct
{
  char     *api_version;
  gboolean  has_max_retries;
  guint     max_retries;
  gboolean  has_idle_timeout;
  double    idle_timeout;
  gboolean  has_requests_per_minute;
  guint     requests_per_minute;
  gboolean  has_input_tokens_per_minute;
  guint     input_tokens_per_minute;
  gboolean  has_output_tokens_per_minute;
  guint     output_tokens_per_minute;
} ClientSettings;

/* One entry of the "clients" map. */
typedef struct
{
  char           *name;
  FjProvider      provider;
  char           *base_url;
  char           *api_key_env;
  gboolean        allow_insecure_http;
  ClientSettings  settings;
} NamedClient;

/* What a load produces; swapped in whole when the load succeeds. */
typedef struct
{
  char           *input;
  char           *description;
  GPtrArray      *agents;        /* FjAgent */
  GArray         *own_timeout;   /* gboolean, per agent */
  gboolean        has_default_timeout;
  double          default_timeout;
  /* the defaults a synthesizer may take (model, max_tokens, ...) */
  JsonObject     *synthesis_defaults;
  guint           min_successes;
  guint           max_concurrent;
  double          deadline;
  double          agent_timeout;
  FjRunMode       mode;
  FjCacheMode     cache;
  double          poll_interval;
  /* Why the agents cannot run in batch mode, one formatted problem each
   * (empty when they can). */
  GStrv           batch_problems;
  PluginEntry    *synthesis;
  GPtrArray      *policies;      /* PluginEntry */
  ClientSettings  client;
  gboolean        allow_insecure_http;
  GPtrArray      *clients;       /* NamedClient, in spec order */
  GPtrArray      *agent_clients; /* utf8 (nullable), per agent: its client's name */
  char           *synthesis_client;
  GStrv           warnings;
} State;

struct _FjSpec
{
  GObject           parent_instance;

  FjPluginRegistry *registry;
  char             *path;
  char             *sha256;
  /* The same model across loads, so a view can follow it. */
  GListStore       *agents;
  State            *state;
  /* name -> FjClient: what fj_spec_set_client() gave, kept across loads */
  GHashTable       *given_clients;
  /* name -> FjClient: the named clients made for tasks, until a load */
  GHashTable       *made_clients;
  guint             loaded : 1;
};

G_DEFINE_FINAL_TYPE (FjSpec, fj_spec, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_REGISTRY,
  PROP_PATH,
  PROP_SHA256,
  PROP_INPUT,
  PROP_DESCRIPTION,
  PROP_AGENTS,
  PROP_DEFAULT_TIMEOUT,
  PROP_MIN_SUCCESSES,
  PROP_MAX_CONCURRENT,
  PROP_DEADLINE,
  PROP_AGENT_TIMEOUT,
  PROP_SYNTHESIS_PLUGIN,
  PROP_MODE,
  PROP_CACHE,
  PROP_POLL_INTERVAL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char * const root_keys[] = {
  "$schema", "description", "input", "defaults", "agents", "min_successes",
  "runner", "policies", "synthesis", "client", "clients", "allow_insecure_http", NULL
};
static const char * const agent_keys[] = {
  "name", "instructions", "model", "max_tokens", "temperature", "timeout",
  "max_turns", "stream", "tools", "client", NULL
};
static const char * const defaults_keys[] = {
  "instructions", "model", "max_tokens", "temperature", "timeout",
  "max_turns", "stream", "tools", "client", NULL
};
static const char * const runner_keys[] = {
  "max_concurrent", "deadline", "agent_timeout", "mode", "cache", "poll_interval", NULL
};
static const char * const mode_names[] = { "live", "batch", NULL };
static const char * const cache_names[] = { "none", "shared-input", NULL };
static const char * const client_keys[] = {
  "api_version", "max_retries", "idle_timeout", "requests_per_minute",
  "input_tokens_per_minute", "output_tokens_per_minute", NULL
};
/* An entry of "clients": client_keys plus these. */
static const char * const named_client_keys[] = {
  "provider", "base_url", "api_key_env", "allow_insecure_http",
  "api_version", "max_retries", "idle_timeout", "requests_per_minute",
  "input_tokens_per_minute", "output_tokens_per_minute", NULL
};
static const char * const provider_names[] = { "anthropic", "openai", NULL };
/* The defaults a synthesizer takes when it has an option of that name. */
static const char * const synthesis_default_keys[] = {
  "model", "max_tokens", "temperature", "max_turns", "timeout", NULL
};

/* Today's date for the end-of-life warnings; unset = the local date. */
static GDate today_override;

static void
plugin_entry_free (PluginEntry *entry)
{
  if (entry == NULL)
    return;

  g_free (entry->name);
  g_clear_pointer (&entry->options, json_object_unref);
  g_free (entry);
}

static void
named_client_free (NamedClient *c)
{
  if (c == NULL)
    return;

  g_free (c->name);
  g_free (c->base_url);
  g_free (c->api_key_env);
  g_free (c->settings.api_version);
  g_free (c);
}

static State *
state_new (void)
{
  State *state = g_new0 (State, 1);

  state->clients = g_ptr_array_new_with_free_func ((GDestroyNotify) named_client_free);
  state->agent_clients = g_ptr_array_new_with_free_func (g_free);

  state->agents = g_ptr_array_new_with_free_func (g_object_unref);
  state->own_timeout = g_array_new (FALSE, TRUE, sizeof (gboolean));
  state->synthesis_defaults = json_object_new ();
  state->min_successes = 1;
  state->policies = g_ptr_array_new_with_free_func ((GDestroyNotify) plugin_entry_free);
  state->warnings = g_new0 (char *, 1);
  state->batch_problems = g_new0 (char *, 1);

  return state;
}

static void
state_free (State *state)
{
  if (state == NULL)
    return;

  g_free (state->input);
  g_free (state->description);
  g_ptr_array_unref (state->agents);
  g_array_unref (state->own_timeout);
  json_object_unref (state->synthesis_defaults);
  plugin_entry_free (state->synthesis);
  g_ptr_array_unref (state->policies);
  g_free (state->client.api_version);
  g_ptr_array_unref (state->clients);
  g_ptr_array_unref (state->agent_clients);
  g_free (state->synthesis_client);
  g_strfreev (state->warnings);
  g_strfreev (state->batch_problems);
  g_free (state);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (State, state_free)

/* The model table */

typedef struct
{
  GPtrArray  *known;  /* utf8, newest first */
  GHashTable *end_of_life;  /* model -> GDate */
} ModelTable;

static gboolean
parse_iso_date (const char *text,
                GDate      *date)
{
  unsigned int year, month, day;
  char rest;

  g_date_clear (date, 1);

  if (text == NULL ||
      sscanf (text, "%4u-%2u-%2u%c", &year, &month, &day, &rest) != 3 ||
      !g_date_valid_dmy (day, month, year))
    return FALSE;

  g_date_set_dmy (date, day, month, year);

  return TRUE;
}

static const ModelTable *
model_table (void)
{
  static ModelTable *table;

  if (g_once_init_enter (&table))
    {
      ModelTable *t = g_new0 (ModelTable, 1);
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autoptr(GError) error = NULL;
      JsonObject *root;

      t->known = g_ptr_array_new_with_free_func (g_free);
      t->end_of_life = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

      /* Both are compiled in: failing here is a build problem. */
      bytes = g_resources_lookup_data (MODELS_RESOURCE, G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
      if (bytes != NULL &&
          json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL),
                                      g_bytes_get_size (bytes), &error) &&
          JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        {
          JsonArray *models;
          JsonArray *deprecations;

          root = json_node_get_object (json_parser_get_root (parser));
          models = json_object_get_array_member (root, "models");
          deprecations = json_object_get_array_member (root, "deprecations");

          for (guint i = 0; models && i < json_array_get_length (models); i++)
            g_ptr_array_add (t->known, g_strdup (json_array_get_string_element (models, i)));

          for (guint i = 0; deprecations && i < json_array_get_length (deprecations); i++)
            {
              JsonObject *entry = json_array_get_object_element (deprecations, i);
              const char *model = json_object_get_string_member (entry, "model");
              GDate *date = g_date_new ();

              if (model != NULL &&
                  parse_iso_date (json_object_get_string_member (entry, "end_of_life"), date))
                g_hash_table_insert (t->end_of_life, g_strdup (model), date);
              else
                g_date_free (date);
            }
        }
      else
        g_critical ("Cannot read the model table %s: %s", MODELS_RESOURCE,
                    error ? error->message : "not an object");

      g_once_init_leave (&table, t);
    }

  return table;
}

void
_fj_spec_set_today (const char *iso_date)
{
  if (iso_date == NULL)
    g_date_clear (&today_override, 1);
  else if (!parse_iso_date (iso_date, &today_override))
    g_critical ("%s: not a date: %s", G_STRFUNC, iso_date);
}

static void
get_today (GDate *date)
{
  g_autoptr(GDateTime) now = NULL;

  if (g_date_valid (&today_override))
    {
      *date = today_override;
      return;
    }

  now = g_date_time_new_now_local ();
  g_date_clear (date, 1);
  g_date_set_dmy (date,
                  g_date_time_get_day_of_month (now),
                  g_date_time_get_month (now),
                  g_date_time_get_year (now));
}

/* Optimal string alignment distance: a swap of two neighbours is one edit. */
static guint
edit_distance (const char *a,
               const char *b)
{
  gsize la = strlen (a);
  gsize lb = strlen (b);
  g_autofree guint *d = g_new0 (guint, (la + 1) * (lb + 1));
  guint result;

#define D(i, j) d[(i) * (lb + 1) + (j)]
  for (gsize i = 0; i <= la; i++)
    D (i, 0) = i;
  for (gsize j = 0; j <= lb; j++)
    D (0, j) = j;

  for (gsize i = 1; i <= la; i++)
    for (gsize j = 1; j <= lb; j++)
      {
        guint cost = g_ascii_tolower (a[i - 1]) == g_ascii_tolower (b[j - 1]) ? 0 : 1;
        guint best = MIN (MIN (D (i - 1, j) + 1, D (i, j - 1) + 1), D (i - 1, j - 1) + cost);

        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
          best = MIN (best, D (i - 2, j - 2) + 1);
        D (i, j) = best;
      }

  result = D (la, lb);
#undef D

  return result;
}

/* The candidate closest to @word, if it is close enough to be a typo. */
static const char *
closest_match (const char         *word,
               const char * const *candidates)
{
  guint len = g_utf8_strlen (word, -1);
  guint threshold = MAX (2, len / 3);
  guint best_distance = G_MAXUINT;
  const char *best = NULL;

  for (guint i = 0; candidates[i] != NULL; i++)
    {
      guint distance = edit_distance (word, candidates[i]);

      if (distance <= threshold && distance < len && distance < best_distance)
        {
          best = candidates[i];
          best_distance = distance;
        }
    }

  return best;
}

/* Loading */

typedef struct
{
  FjSpec         *self;
  FjSpecDocument *doc;
  GPtrArray      *problems;  /* FjSpecProblem */
  GPtrArray      *warnings;  /* FjSpecProblem */
  /* what would keep the agents from running in batch mode */
  GPtrArray      *batch_problems;  /* FjSpecProblem */
  GString        *path;
  State          *state;
  GDate           today;
  /* "clients" is there but not an object: names cannot be checked */
  gboolean        clients_unreadable;
} Loader;

G_GNUC_PRINTF (4, 5)
static void
add_to (Loader               *l,
        GPtrArray            *list,
        const FjSpecPosition *where,
        const char           *format,
        ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_ptr_array_add (list, _fj_spec_problem_new (where, l->path->str, message));
}

#define report_at(l, node, ...) \
  G_STMT_START { \
    FjSpecPosition _where = _fj_spec_document_get_position ((l)->doc, (node)); \
    add_to ((l), (l)->problems, &_where, __VA_ARGS__); \
  } G_STMT_END

#define report_at_name(l, node, ...) \
  G_STMT_START { \
    FjSpecPosition _where = _fj_spec_document_get_name_position ((l)->doc, (node)); \
    add_to ((l), (l)->problems, &_where, __VA_ARGS__); \
  } G_STMT_END

#define warn_at(l, node, ...) \
  G_STMT_START { \
    FjSpecPosition _where = _fj_spec_document_get_position ((l)->doc, (node)); \
    add_to ((l), (l)->warnings, &_where, __VA_ARGS__); \
  } G_STMT_END

static gsize
push_member (Loader     *l,
             const char *name)
{
  gsize mark = l->path->len;

  _fj_spec_path_append_member (l->path, name);

  return mark;
}

static gsize
push_index (Loader *l,
            guint   index)
{
  gsize mark = l->path->len;

  _fj_spec_path_append_index (l->path, index);

  return mark;
}

static void
pop (Loader *l,
     gsize   mark)
{
  g_string_truncate (l->path, mark);
}

/* A JSON value as an error quotes it: strings and numbers as written
 * (long strings cut), objects and arrays by their kind. */
static char *
describe_value (JsonNode *node)
{
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      return g_strdup ("an object");
    case JSON_NODE_ARRAY:
      return g_strdup ("an array");
    case JSON_NODE_NULL:
      return g_strdup ("null");
    case JSON_NODE_VALUE:
    default:
      break;
    }

  switch (json_node_get_value_type (node))
    {
    case G_TYPE_BOOLEAN:
      return g_strdup (json_node_get_boolean (node) ? "true" : "false");

    case G_TYPE_INT64:
      return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));

    case G_TYPE_DOUBLE:
      {
        char buf[G_ASCII_DTOSTR_BUF_SIZE];

        return g_strdup (g_ascii_formatd (buf, sizeof buf, "%.15g", json_node_get_double (node)));
      }

    case G_TYPE_STRING:
      {
        const char *s = json_node_get_string (node);
        GString *str = g_string_new ("\"");
        guint n = 0;

        for (const char *p = s; *p; p = g_utf8_next_char (p), n++)
          {
            gunichar c = g_utf8_get_char (p);

            if (n == MAX_QUOTED_CHARS)
              {
                g_string_append (str, "…");
                break;
              }

            if (c == '"' || c == '\\')
              g_string_append_printf (str, "\\%c", (char) c);
            else if (c == '\n')
              g_string_append (str, "\\n");
            else if (c == '\t')
              g_string_append (str, "\\t");
            else if (c < 0x20)
              g_string_append_printf (str, "\\u%04x", c);
            else
              g_string_append_unichar (str, c);
          }
        g_string_append_c (str, '"');

        return g_string_free (str, FALSE);
      }

    default:
      return g_strdup ("a value");
    }
}

static gboolean
is_number (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) &&
         (json_node_get_value_type (node) == G_TYPE_INT64 ||
          json_node_get_value_type (node) == G_TYPE_DOUBLE);
}

static gboolean
is_string (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING;
}

static char *
join_keys (const char * const *keys)
{
  return g_strjoinv (", ", (char **) keys);
}

static gboolean
in_list (const char         *key,
         const char * const *list)
{
  return list != NULL && g_strv_contains (list, key);
}

/* Where a key that is valid somewhere else belongs, for the commonest
 * mistake: a right key at the wrong level. */
static const char *
where_key_belongs (const char *key)
{
  if (in_list (key, runner_keys))
    return "in \"runner\"";
  if (in_list (key, client_keys))
    return "in \"client\"";
  if (in_list (key, named_client_keys))
    return "in an entry of \"clients\"";
  if (in_list (key, agent_keys))
    return strcmp (key, "name") == 0 ? "in an agent" : "in \"defaults\" or in an agent";
  if (in_list (key, root_keys))
    return "at the top level";

  return NULL;
}

/* Reports every member of @object that is not in @valid (nor in @quiet,
 * which the caller reports itself), with a did-you-mean when one of
 * @valid is close. */
static void
check_keys (Loader             *l,
            JsonObject         *object,
            const char * const *valid,
            const char * const *quiet)
{
  g_autoptr(GList) members = json_object_get_members (object);

  for (const GList *m = members; m != NULL; m = m->next)
    {
      const char *key = m->data;
      JsonNode *node = json_object_get_member (object, key);
      const char *suggestion;
      gsize mark;

      if (in_list (key, valid) || in_list (key, quiet))
        continue;

      mark = push_member (l, key);
      if ((suggestion = closest_match (key, valid)))
        report_at_name (l, node, "unknown key; did you mean \"%s\"?", suggestion);
      else if ((suggestion = where_key_belongs (key)))
        report_at_name (l, node, "unknown key here; \"%s\" belongs %s", key, suggestion);
      else
        {
          g_autofree char *list = join_keys (valid);

          report_at_name (l, node, "unknown key; valid keys here: %s", list);
        }
      pop (l, mark);
    }
}

/* Each read_*() reads the member @key of @object when it is there: it
 * returns TRUE with the value, or reports what is wrong and returns
 * FALSE; FALSE without a report when the member is absent. */

static gboolean
read_string (Loader      *l,
             JsonObject  *object,
             const char  *key,
             gboolean     non_empty,
             const char  *what,
             const char **out)
{
  JsonNode *node = json_object_get_member (object, key);
  gboolean ok = FALSE;
  gsize mark;

  if (node == NULL)
    return FALSE;

  mark = push_member (l, key);
  if (!is_string (node) || (non_empty && json_node_get_string (node)[0] == '\0'))
    {
      g_autofree char *got = describe_value (node);

      report_at (l, node, "expected %s, got %s", what, got);
    }
  else
    {
      *out = json_node_get_string (node);
      ok = TRUE;
    }
  pop (l, mark);

  return ok;
}

/* A string that must be one of @names; *out is set to its index. */
static gboolean
read_choice (Loader             *l,
             JsonObject         *object,
             const char         *key,
             const char * const *names,
             guint              *out)
{
  g_autofree char *joined = g_strjoinv (", ", (GStrv) names);
  g_autofree char *what = g_strdup_printf ("one of %s", joined);
  const char *text;
  JsonNode *node;
  gsize mark;

  if (!read_string (l, object, key, TRUE, what, &text))
    return FALSE;

  for (guint i = 0; names[i] != NULL; i++)
    if (strcmp (text, names[i]) == 0)
      {
        *out = i;
        return TRUE;
      }

  node = json_object_get_member (object, key);
  mark = push_member (l, key);
  {
    const char *suggestion = closest_match (text, names);

    if (suggestion != NULL)
      report_at (l, node, "unknown value \"%s\"; did you mean \"%s\"? (%s)", text, suggestion, what);
    else
      report_at (l, node, "unknown value \"%s\" (%s)", text, what);
  }
  pop (l, mark);

  return FALSE;
}

static gboolean
read_seconds (Loader     *l,
              JsonObject *object,
              const char *key,
              double     *out)
{
  JsonNode *node = json_object_get_member (object, key);
  g_autofree char *got = NULL;
  gboolean ok = FALSE;
  gsize mark;

  if (node == NULL)
    return FALSE;

  mark = push_member (l, key);
  got = describe_value (node);
  if (!is_number (node))
    report_at (l, node, "expected a number of seconds, got %s", got);
  else if (json_node_get_double (node) < 0)
    report_at (l, node, "a time cannot be negative, got %s", got);
  else
    {
      *out = json_node_get_double (node);
      ok = TRUE;
    }
  pop (l, mark);

  return ok;
}

static gboolean
read_uint (Loader     *l,
           JsonObject *object,
           const char *key,
           guint       min,
           guint      *out)
{
  JsonNode *node = json_object_get_member (object, key);
  g_autofree char *got = NULL;
  gboolean ok = FALSE;
  double value;
  gsize mark;

  if (node == NULL)
    return FALSE;

  mark = push_member (l, key);
  got = describe_value (node);
  value = is_number (node) ? json_node_get_double (node) : NAN;

  if (!is_number (node) || value != floor (value))
    report_at (l, node, "expected %s integer, got %s", min > 0 ? "a positive" : "a non-negative", got);
  else if (value < min)
    report_at (l, node, "must be at least %u, got %s", min, got);
  else if (value > G_MAXINT)
    report_at (l, node, "must be at most %d, got %s", G_MAXINT, got);
  else
    {
      *out = (guint) value;
      ok = TRUE;
    }
  pop (l, mark);

  return ok;
}

static gboolean
read_boolean (Loader     *l,
              JsonObject *object,
              const char *key,
              gboolean   *out)
{
  JsonNode *node = json_object_get_member (object, key);
  gboolean ok = FALSE;
  gsize mark;

  if (node == NULL)
    return FALSE;

  mark = push_member (l, key);
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    {
      g_autofree char *got = describe_value (node);

      report_at (l, node, "expected true or false, got %s", got);
    }
  else
    {
      *out = json_node_get_boolean (node);
      ok = TRUE;
    }
  pop (l, mark);

  return ok;
}

/* An object member that must be an object; NULL when absent or wrong. */
static JsonObject *
read_object (Loader     *l,
             JsonObject *object,
             const char *key,
             const char *what)
{
  JsonNode *node = json_object_get_member (object, key);
  gsize mark;

  if (node == NULL)
    return NULL;

  if (JSON_NODE_HOLDS_OBJECT (node))
    return json_node_get_object (node);

  mark = push_member (l, key);
  {
    g_autofree char *got = describe_value (node);

    report_at (l, node, "expected %s, got %s", what, got);
  }
  pop (l, mark);

  return NULL;
}

static void
check_model (Loader     *l,
             JsonNode   *node,
             const char *model)
{
  const ModelTable *table = model_table ();
  const GDate *end_of_life;

  if ((end_of_life = g_hash_table_lookup (table->end_of_life, model)))
    {
      char date[16];
      int days = g_date_days_between (&l->today, end_of_life);

      g_date_strftime (date, sizeof date, "%Y-%m-%d", end_of_life);

      if (days < 0)
        warn_at (l, node, "%s reached its end of life on %s (%d day%s ago)",
                 model, date, -days, days == -1 ? "" : "s");
      else if (days == 0)
        warn_at (l, node, "%s reaches its end of life today (%s)", model, date);
      else if (days <= EOL_WARNING_DAYS)
        warn_at (l, node, "%s reaches its end of life on %s (in %d day%s)",
                 model, date, days, days == 1 ? "" : "s");
      return;
    }

  /* A near miss of a known name is most likely a typo; anything else may
   * be a model this table does not know (a newer one, another
   * provider's). */
  if (!g_ptr_array_find_with_equal_func (table->known, model, g_str_equal, NULL))
    {
      const char *suggestion;

      g_ptr_array_add (table->known, NULL);
      suggestion = closest_match (model, (const char * const *) table->known->pdata);
      g_ptr_array_remove_index (table->known, table->known->len - 1);

      if (suggestion != NULL && edit_distance (model, suggestion) <= 2)
        warn_at (l, node, "%s is not a known model; did you mean %s?", model, suggestion);
    }
}

static gboolean
plugin_has_option (GObjectClass *klass,
                   const char   *json_name)
{
  g_autofree char *property = g_strdelimit (g_strdup (json_name), "_", '-');
  GParamSpec *pspec;

  if (strchr (json_name, '-') != NULL)
    return FALSE;

  pspec = g_object_class_find_property (klass, property);

  return pspec != NULL && _fj_plugin_option_is_option (pspec);
}

static int
compare_strv_elements (const void *a,
                       const void *b)
{
  return strcmp (*(char * const *)a, *(char * const *)b);
}

static GStrv
plugin_option_names (GObjectClass *klass)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autofree GParamSpec **pspecs = NULL;
  g_auto(GStrv) names = NULL;
  guint n_pspecs;

  pspecs = g_object_class_list_properties (klass, &n_pspecs);
  for (guint i = 0; i < n_pspecs; i++)
    {
      if (_fj_plugin_option_is_option (pspecs[i]))
        {
          g_autofree char *name = _fj_plugin_option_json_name (pspecs[i]->name);

          g_strv_builder_add (builder, name);
        }
    }

  names = g_strv_builder_end (builder);
  qsort (names, g_strv_length (names), sizeof (char *), compare_strv_elements);

  return g_steal_pointer (&names);
}

static const char *
kind_noun (FjPluginKind kind)
{
  switch (kind)
    {
    case FJ_PLUGIN_KIND_SYNTHESIZER:
      return "synthesizer";
    case FJ_PLUGIN_KIND_POLICY:
      return "policy";
    case FJ_PLUGIN_KIND_TOOL:
    default:
      return "tool";
    }
}

/* The options a plugin of @type is made with: @options plus each of
 * @defaults that @type has as an option and @options does not set. */
static JsonObject *
merge_defaults (GType       type,
                JsonObject *options,
                JsonObject *defaults)
{
  g_autoptr(GTypeClass) klass = g_type_class_ref (type);
  JsonObject *merged = json_object_new ();
  g_autoptr(GList) members = json_object_get_members (options);

  for (const GList *m = members; m != NULL; m = m->next)
    json_object_set_member (merged, m->data, json_node_copy (json_object_get_member (options, m->data)));

  if (defaults != NULL)
    {
      g_autoptr(GList) keys = json_object_get_members (defaults);

      for (const GList *m = keys; m != NULL; m = m->next)
        {
          const char *key = m->data;

          if (!json_object_has_member (merged, key) &&
              plugin_has_option (G_OBJECT_CLASS (klass), key))
            json_object_set_member (merged, key, json_node_copy (json_object_get_member (defaults, key)));
        }
    }

  return merged;
}

/* Makes an instance of @entry; with @defaults as merge_defaults(). */
static GObject *
plugin_entry_create (FjPluginRegistry  *registry,
                     FjPluginKind       kind,
                     const PluginEntry *entry,
                     JsonObject        *defaults,
                     GError           **error)
{
  GType type = fj_plugin_registry_lookup (registry, kind, entry->name);
  g_autoptr(JsonObject) options = NULL;

  if (type == G_TYPE_INVALID)
    return fj_plugin_registry_create (registry, kind, entry->name, NULL, error);

  options = merge_defaults (type, entry->options, defaults);

  return fj_plugin_registry_create (registry, kind, entry->name, options, error);
}

/* A plugin entry: `{"plugin": NAME, ...options}` (or, for a tool, just
 * NAME). Checks that the plugin exists and takes each option, and makes
 * one instance, given back in @instance when that is not NULL. */
static PluginEntry *
load_plugin_entry (Loader       *l,
                   JsonNode     *node,
                   FjPluginKind  kind,
                   JsonObject   *defaults,
                   GObject     **instance)
{
  FjPluginRegistry *registry = l->self->registry;
  g_autoptr(GTypeClass) klass = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GObject) object = NULL;
  g_autoptr(JsonObject) options = json_object_new ();
  JsonObject *entry_object = NULL;
  const char *name = NULL;
  PluginEntry *entry;
  gboolean ok = TRUE;
  GType type;

  if (kind == FJ_PLUGIN_KIND_TOOL && is_string (node))
    {
      name = json_node_get_string (node);
      if (name[0] == '\0')
        {
          report_at (l, node, "expected the name of a tool plugin, got \"\"");
          return NULL;
        }
    }
  else if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonNode *name_node;

      entry_object = json_node_get_object (node);
      if (!(name_node = json_object_get_member (entry_object, "plugin")))
        {
          report_at (l, node, "missing \"plugin\", the name of the %s plugin", kind_noun (kind));
          return NULL;
        }
      if (!read_string (l, entry_object, "plugin", TRUE, kind == FJ_PLUGIN_KIND_TOOL ?
                        "the name of a tool plugin" : kind == FJ_PLUGIN_KIND_POLICY ?
                        "the name of a policy plugin" : "the name of a synthesizer plugin",
                        &name))
        return NULL;
    }
  else
    {
      g_autofree char *got = describe_value (node);

      if (kind == FJ_PLUGIN_KIND_TOOL)
        report_at (l, node, "expected a tool name or an object with \"plugin\", got %s", got);
      else
        report_at (l, node, "expected an object with \"plugin\", got %s", got);
      return NULL;
    }

  if ((type = fj_plugin_registry_lookup (registry, kind, name)) == G_TYPE_INVALID)
    {
      g_autoptr(GObject) none = fj_plugin_registry_create (registry, kind, name, NULL, &error);
      JsonNode *name_node = entry_object ? json_object_get_member (entry_object, "plugin") : node;
      gsize mark = entry_object ? push_member (l, "plugin") : l->path->len;

      g_assert (none == NULL);
      report_at (l, name_node, "%s", error->message);
      pop (l, mark);
      return NULL;
    }

  klass = g_type_class_ref (type);

  if (entry_object != NULL)
    {
      g_autoptr(GList) members = json_object_get_members (entry_object);

      for (const GList *m = members; m != NULL; m = m->next)
        {
          const char *key = m->data;
          JsonNode *value = json_object_get_member (entry_object, key);
          gsize mark;

          /* A synthesizer's "client" is the spec's, not an option. */
          if (strcmp (key, "plugin") == 0 ||
              (kind == FJ_PLUGIN_KIND_SYNTHESIZER && strcmp (key, "client") == 0))
            continue;

          mark = push_member (l, key);

          if (!plugin_has_option (G_OBJECT_CLASS (klass), key))
            {
              g_auto(GStrv) valid = plugin_option_names (G_OBJECT_CLASS (klass));
              const char *suggestion = closest_match (key, (const char * const *) valid);

              if (suggestion != NULL)
                report_at_name (l, value, "unknown option of the %s %s plugin; did you mean \"%s\"?",
                                name, kind_noun (kind), suggestion);
              else if (valid[0] == NULL)
                report_at_name (l, value, "unknown option: the %s %s plugin takes none",
                                name, kind_noun (kind));
              else
                {
                  g_autofree char *list = join_keys ((const char * const *) valid);

                  report_at_name (l, value, "unknown option of the %s %s plugin; valid options: %s",
                                  name, kind_noun (kind), list);
                }
              ok = FALSE;
            }
          else
            {
              g_autoptr(JsonObject) single = json_object_new ();
              g_autoptr(GObject) probe = NULL;
              g_autoptr(GError) option_error = NULL;

              json_object_set_member (single, key, json_node_copy (value));
              if (!(probe = fj_plugin_registry_create (registry, kind, name, single, &option_error)))
                {
                  report_at (l, value, "%s", option_error->message);
                  ok = FALSE;
                }
              json_object_set_member (options, key, json_node_copy (value));
            }

          pop (l, mark);
        }
    }

  if (!ok)
    return NULL;

  entry = g_new0 (PluginEntry, 1);
  entry->name = g_strdup (name);
  entry->options = g_steal_pointer (&options);

  if (!(object = plugin_entry_create (registry, kind, entry, defaults, &error)))
    {
      report_at (l, node, "%s", error->message);
      plugin_entry_free (entry);
      return NULL;
    }

  if (instance != NULL)
    *instance = g_steal_pointer (&object);

  return entry;
}

static NamedClient *
find_named_client (const State *state,
                   const char  *name)
{
  for (guint i = 0; i < state->clients->len; i++)
    {
      NamedClient *c = g_ptr_array_index (state->clients, i);

      if (strcmp (c->name, name) == 0)
        return c;
    }

  return NULL;
}

/* The member "client" of @object, a name from "clients", or null for
 * the run's client (in an agent whose defaults name one). */
static gboolean
read_client_name (Loader      *l,
                  JsonObject  *object,
                  const char **out)
{
  const char *name = NULL;
  JsonNode *node;
  gboolean ok = FALSE;
  gsize mark;

  if ((node = json_object_get_member (object, "client")) && JSON_NODE_HOLDS_NULL (node))
    {
      *out = NULL;
      return TRUE;
    }

  if (!read_string (l, object, "client", TRUE, "the name of a client from \"clients\"", &name))
    return FALSE;

  node = json_object_get_member (object, "client");
  mark = push_member (l, "client");

  if (l->clients_unreadable || find_named_client (l->state, name) != NULL)
    ok = TRUE;
  else if (l->state->clients->len == 0)
    report_at (l, node, "no client named \"%s\": the spec has no \"clients\" "
               "(leave \"client\" out to use the run's client)", name);
  else
    {
      g_autoptr(GPtrArray) names = g_ptr_array_new ();
      g_autofree char *list = NULL;
      const char *suggestion;

      for (guint i = 0; i < l->state->clients->len; i++)
        g_ptr_array_add (names, ((NamedClient *) g_ptr_array_index (l->state->clients, i))->name);
      g_ptr_array_add (names, NULL);
      list = join_keys ((const char * const *) names->pdata);

      if ((suggestion = closest_match (name, (const char * const *) names->pdata)))
        report_at (l, node, "no client named \"%s\"; did you mean \"%s\"? (clients: %s)",
                   name, suggestion, list);
      else
        report_at (l, node, "no client named \"%s\" (clients: %s)", name, list);
    }

  pop (l, mark);

  if (ok)
    *out = name;

  return ok;
}

static void
load_client_settings (Loader         *l,
                      JsonObject     *object,
                      ClientSettings *c)
{
  const char *api_version;

  if (read_string (l, object, "api_version", TRUE,
                   "an API version (a string such as \"2023-06-01\")", &api_version))
    c->api_version = g_strdup (api_version);
  c->has_max_retries = read_uint (l, object, "max_retries", 0, &c->max_retries);
  c->has_idle_timeout = read_seconds (l, object, "idle_timeout", &c->idle_timeout);
  c->has_requests_per_minute =
    read_uint (l, object, "requests_per_minute", 0, &c->requests_per_minute);
  c->has_input_tokens_per_minute =
    read_uint (l, object, "input_tokens_per_minute", 0, &c->input_tokens_per_minute);
  c->has_output_tokens_per_minute =
    read_uint (l, object, "output_tokens_per_minute", 0, &c->output_tokens_per_minute);
}

static gboolean
is_env_name (const char *name)
{
  if (!g_ascii_isalpha (name[0]) && name[0] != '_')
    return FALSE;

  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '_')
      return FALSE;

  return TRUE;
}

/* @url without any user:password@ part, for messages. */
static char *
shown_url (const char *url)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);

  if (uri == NULL || g_uri_get_userinfo (uri) == NULL)
    return g_strdup (url);

  return g_uri_to_string_partial (uri, G_URI_HIDE_USERINFO);
}

static void
load_named_client (Loader      *l,
                   const char  *name,
                   JsonNode    *node,
                   NamedClient *c)
{
  JsonObject *object;
  JsonNode *member;
  const char *text;
  gboolean root_allows = l->state->allow_insecure_http;

  if (name[0] == '\0')
    report_at_name (l, node, "a client needs a name (a non-empty key)");

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_autofree char *got = describe_value (node);

      report_at (l, node, "expected an object (the client's provider, base_url, ...), got %s", got);
      return;
    }

  object = json_node_get_object (node);
  check_keys (l, object, named_client_keys, NULL);

  c->provider = FJ_PROVIDER_ANTHROPIC;
  if (read_string (l, object, "provider", TRUE, "\"anthropic\" or \"openai\"", &text))
    {
      gsize mark = push_member (l, "provider");

      member = json_object_get_member (object, "provider");
      if (strcmp (text, "openai") == 0)
        c->provider = FJ_PROVIDER_OPENAI;
      else if (strcmp (text, "anthropic") != 0)
        {
          g_autofree char *got = describe_value (member);
          const char *suggestion = closest_match (text, provider_names);

          if (suggestion != NULL)
            report_at (l, member, "unknown provider %s; did you mean \"%s\"? (providers: anthropic, openai)",
                       got, suggestion);
          else
            report_at (l, member, "unknown provider %s (providers: anthropic, openai)", got);
        }
      pop (l, mark);
    }

  read_boolean (l, object, "allow_insecure_http", &c->allow_insecure_http);
  if (c->allow_insecure_http)
    {
      gsize mark = push_member (l, "allow_insecure_http");

      warn_at (l, json_object_get_member (object, "allow_insecure_http"),
               "a plain-HTTP base URL that is not loopback is allowed for client \"%s\": "
               "its API key and the prompts may then travel unencrypted", name);
      pop (l, mark);
    }

  if (read_string (l, object, "base_url", TRUE, "a base URL (http:// or https://)", &text))
    {
      g_autoptr(GUri) uri = g_uri_parse (text, G_URI_FLAGS_NONE, NULL);
      const char *scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
      g_autofree char *shown = shown_url (text);
      gsize mark = push_member (l, "base_url");

      member = json_object_get_member (object, "base_url");
      if (scheme == NULL ||
          (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0) ||
          g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0')
        report_at (l, member, "expected an http:// or https:// URL with a host, got \"%s\"",
                   uri != NULL ? shown : "(not a URL)");
      else
        {
          g_autoptr(FjClient) probe = fj_client_new_for_base_url (text);

          c->base_url = g_strdup (text);
          if (!c->allow_insecure_http && !root_allows && fj_client_is_insecure (probe))
            report_at (l, member, "refusing the plain-HTTP base URL %s: it is not loopback, and "
                       "the key and the prompts would travel unencrypted; use https, or set "
                       "\"allow_insecure_http\": true in this client", shown);
        }
      pop (l, mark);
    }
  else if (c->provider == FJ_PROVIDER_OPENAI && !json_object_has_member (object, "base_url"))
    report_at_name (l, node, "an openai client needs \"base_url\", the server's URL with /v1 "
                    "(such as \"http://localhost:11434/v1\" for Ollama)");

  if (read_string (l, object, "api_key_env", TRUE, "the name of an environment variable", &text))
    {
      gsize mark = push_member (l, "api_key_env");

      /* Never quoted: a key pasted here by mistake must not reach a log. */
      if (!is_env_name (text))
        report_at (l, json_object_get_member (object, "api_key_env"),
                   "expected the name of an environment variable (letters, digits and _), "
                   "not the key itself");
      else
        c->api_key_env = g_strdup (text);
      pop (l, mark);
    }

  load_client_settings (l, object, &c->settings);

  if (c->provider == FJ_PROVIDER_OPENAI && (member = json_object_get_member (object, "api_version")))
    {
      gsize mark = push_member (l, "api_version");

      report_at_name (l, member, "\"api_version\" is the anthropic-version header: "
                      "an openai client sends none");
      pop (l, mark);
    }
}

static void
load_clients (Loader     *l,
              JsonObject *root)
{
  g_autoptr(GList) members = NULL;
  JsonObject *clients;
  gsize mark;

  if (!json_object_has_member (root, "clients"))
    return;

  if (!(clients = read_object (l, root, "clients", "an object (client names and their settings)")))
    {
      l->clients_unreadable = TRUE;
      return;
    }

  mark = push_member (l, "clients");
  members = json_object_get_members (clients);

  for (const GList *m = members; m != NULL; m = m->next)
    {
      const char *name = m->data;
      NamedClient *c = g_new0 (NamedClient, 1);
      gsize member_mark = push_member (l, name);

      c->name = g_strdup (name);
      g_ptr_array_add (l->state->clients, c);
      load_named_client (l, name, json_object_get_member (clients, name), c);
      pop (l, member_mark);
    }

  pop (l, mark);
}

typedef struct
{
  guint        has_instructions : 1;
  guint        has_model : 1;
  guint        has_max_tokens : 1;
  guint        has_temperature : 1;
  guint        has_timeout : 1;
  guint        has_max_turns : 1;
  guint        has_stream : 1;
  guint        has_tools : 1;
  guint        has_client : 1;
  const char  *client;
  const char  *instructions;
  const char  *model;
  guint        max_tokens;
  double       temperature;
  double       timeout;
  guint        max_turns;
  gboolean     stream;
  /* the valid tool entries */
  GPtrArray   *tool_entries;  /* PluginEntry */
  /* an agent's own tools, made while checking them */
  GPtrArray   *tools;         /* FjTool */
} AgentSettings;

static void
agent_settings_clear (AgentSettings *s)
{
  g_clear_pointer (&s->tool_entries, g_ptr_array_unref);
  g_clear_pointer (&s->tools, g_ptr_array_unref);
}

static void
load_tools (Loader        *l,
            JsonObject    *object,
            AgentSettings *s)
{
  JsonNode *node = json_object_get_member (object, "tools");
  JsonArray *array;
  gsize mark;

  if (node == NULL)
    return;

  mark = push_member (l, "tools");

  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      g_autofree char *got = describe_value (node);

      report_at (l, node, "expected an array of tools, got %s", got);
      pop (l, mark);
      return;
    }

  s->has_tools = TRUE;
  s->tool_entries = g_ptr_array_new_with_free_func ((GDestroyNotify) plugin_entry_free);
  s->tools = g_ptr_array_new_with_free_func (g_object_unref);
  array = json_node_get_array (node);

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      g_autoptr(GObject) tool = NULL;
      gsize element_mark = push_index (l, i);
      PluginEntry *entry;

      if ((entry = load_plugin_entry (l, element, FJ_PLUGIN_KIND_TOOL, NULL, &tool)))
        {
          const char *tool_name = fj_tool_get_name (FJ_TOOL (tool));

          for (guint j = 0; j < s->tools->len; j++)
            {
              FjTool *other = g_ptr_array_index (s->tools, j);

              if (tool_name != NULL && g_strcmp0 (fj_tool_get_name (other), tool_name) == 0)
                {
                  report_at (l, element, "a tool named \"%s\" is already in the list", tool_name);
                  break;
                }
            }

          g_ptr_array_add (s->tool_entries, entry);
          g_ptr_array_add (s->tools, g_steal_pointer (&tool));
        }

      pop (l, element_mark);
    }

  pop (l, mark);
}

/* An agent's settings, or the defaults' (@is_defaults). */
static void
load_agent_settings (Loader        *l,
                     JsonObject    *object,
                     gboolean       is_defaults,
                     AgentSettings *s)
{
  static const char * const quiet[] = { "name", NULL };
  JsonNode *node;

  check_keys (l, object, is_defaults ? defaults_keys : agent_keys, quiet);

  s->has_client = read_client_name (l, object, &s->client);

  if (is_defaults && (node = json_object_get_member (object, "name")))
    {
      gsize mark = push_member (l, "name");

      report_at_name (l, node, "names cannot have a default: each agent names itself");
      pop (l, mark);
    }

  s->has_instructions = read_string (l, object, "instructions", FALSE, "a string", &s->instructions);

  if ((s->has_model = read_string (l, object, "model", TRUE, "a model name", &s->model)))
    {
      gsize mark = push_member (l, "model");

      check_model (l, json_object_get_member (object, "model"), s->model);
      pop (l, mark);
    }

  s->has_max_tokens = read_uint (l, object, "max_tokens", 1, &s->max_tokens);

  if ((node = json_object_get_member (object, "temperature")))
    {
      gsize mark = push_member (l, "temperature");

      if (!is_number (node) || json_node_get_double (node) < 0 || json_node_get_double (node) > 2)
        {
          g_autofree char *got = describe_value (node);

          report_at (l, node, "expected a number from 0 to 2, got %s", got);
        }
      else
        {
          s->has_temperature = TRUE;
          s->temperature = json_node_get_double (node);
        }
      pop (l, mark);
    }

  s->has_timeout = read_seconds (l, object, "timeout", &s->timeout);
  s->has_max_turns = read_uint (l, object, "max_turns", 1, &s->max_turns);
  s->has_stream = read_boolean (l, object, "stream", &s->stream);

  load_tools (l, object, s);
}

typedef struct
{
  guint     index;
  JsonNode *node;
} SeenName;

static void
load_agents (Loader        *l,
             JsonObject    *root,
             AgentSettings *defaults)
{
  g_autoptr(GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  JsonNode *node = json_object_get_member (root, "agents");
  JsonArray *array;
  gsize mark;

  if (node == NULL)
    {
      FjSpecPosition where = _fj_spec_document_get_position (l->doc, _fj_spec_document_get_root (l->doc));

      mark = push_member (l, "agents");
      add_to (l, l->problems, &where, "missing: a fork-join needs a list of agents");
      pop (l, mark);
      return;
    }

  mark = push_member (l, "agents");

  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      g_autofree char *got = describe_value (node);

      report_at (l, node, "expected an array of agents, got %s", got);
      pop (l, mark);
      return;
    }

  array = json_node_get_array (node);
  if (json_array_get_length (array) == 0)
    report_at (l, node, "the list is empty: a fork-join needs at least one agent");

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      gsize element_mark = push_index (l, i);
      AgentSettings s = { 0 };
      const char *name = NULL;
      JsonObject *object;
      g_autoptr(FjAgent) agent = NULL;
      gboolean has_name;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        {
          g_autofree char *got = describe_value (element);

          report_at (l, element, "expected an object (an agent), got %s", got);
          pop (l, element_mark);
          continue;
        }

      object = json_node_get_object (element);

      if (!json_object_has_member (object, "name"))
        {
          report_at (l, element, "the agent has no \"name\"");
          has_name = FALSE;
        }
      else if ((has_name = read_string (l, object, "name", TRUE, "a name (a non-empty string)", &name)))
        {
          JsonNode *name_node = json_object_get_member (object, "name");
          SeenName *seen = g_hash_table_lookup (names, name);

          if (seen != NULL)
            {
              FjSpecPosition first = _fj_spec_document_get_position (l->doc, seen->node);
              gsize name_mark = push_member (l, "name");

              report_at (l, name_node,
                         "duplicate agent name \"%s\" (agents[%u] has it, at line %u, column %u)",
                         name, seen->index, first.line, first.column);
              pop (l, name_mark);
            }
          else
            {
              seen = g_new0 (SeenName, 1);
              seen->index = i;
              seen->node = name_node;
              g_hash_table_insert (names, (gpointer) name, seen);
            }
        }

      load_agent_settings (l, object, FALSE, &s);

      agent = fj_agent_new (has_name ? name : "");

#define PICK(field) (s.has_##field ? s.field : defaults->field)
#define HAS(field) (s.has_##field || defaults->has_##field)
      if (HAS (instructions))
        fj_agent_set_instructions (agent, PICK (instructions));
      if (HAS (model))
        fj_agent_set_model (agent, PICK (model));
      if (HAS (max_tokens))
        fj_agent_set_max_tokens (agent, PICK (max_tokens));
      if (HAS (temperature))
        fj_agent_set_temperature (agent, PICK (temperature));
      if (HAS (timeout))
        fj_agent_set_timeout (agent, PICK (timeout));
      if (HAS (max_turns))
        fj_agent_set_max_turns (agent, PICK (max_turns));
      if (HAS (stream))
        fj_agent_set_stream (agent, PICK (stream));
#undef PICK
#undef HAS

      if (s.has_tools ? (s.tools != NULL && s.tools->len > 0)
                      : (defaults->has_tools && defaults->tool_entries->len > 0))
        {
          g_autoptr(GString) agent_path = g_string_new (l->path->str);
          JsonNode *tools_node;
          FjSpecPosition where;

          /* Named where the agent gets its tools: its own list, or
           * defaults'. */
          if (s.has_tools)
            {
              tools_node = json_object_get_member (object, "tools");
              _fj_spec_path_append_member (l->path, "tools");
            }
          else
            {
              JsonObject *top = json_node_get_object (_fj_spec_document_get_root (l->doc));
              JsonObject *defaults_object = json_node_get_object (json_object_get_member (top, "defaults"));

              tools_node = json_object_get_member (defaults_object, "tools");
              g_string_truncate (l->path, 0);
              _fj_spec_path_append_member (l->path, "defaults");
              _fj_spec_path_append_member (l->path, "tools");
            }
          where = _fj_spec_document_get_position (l->doc, tools_node);
          add_to (l, l->batch_problems, &where,
                  "agent \"%s\" has tools, and batch mode runs each agent as one request without tools",
                  has_name ? name : "");
          g_string_assign (l->path, agent_path->str);
        }

      if (s.has_tools)
        {
          for (guint j = 0; j < s.tools->len; j++)
            fj_agent_add_tool (agent, g_ptr_array_index (s.tools, j));
        }
      else if (defaults->has_tools)
        {
          /* Each agent gets instances of its own. */
          for (guint j = 0; j < defaults->tool_entries->len; j++)
            {
              g_autoptr(GObject) tool = NULL;

              tool = plugin_entry_create (l->self->registry, FJ_PLUGIN_KIND_TOOL,
                                          g_ptr_array_index (defaults->tool_entries, j),
                                          NULL, NULL);
              if (tool != NULL)
                fj_agent_add_tool (agent, FJ_TOOL (tool));
            }
        }

      g_ptr_array_add (l->state->agent_clients,
                       g_strdup (s.has_client ? s.client :
                                 defaults->has_client ? defaults->client : NULL));

      {
        gboolean own = s.has_timeout;

        g_ptr_array_add (l->state->agents, g_steal_pointer (&agent));
        g_array_append_val (l->state->own_timeout, own);
      }

      agent_settings_clear (&s);
      pop (l, element_mark);
    }

  pop (l, mark);
}

static void
load_runner (Loader     *l,
             JsonObject *root)
{
  JsonObject *runner;
  gsize mark;

  if (!(runner = read_object (l, root, "runner", "an object (the runner's settings)")))
    return;

  mark = push_member (l, "runner");
  check_keys (l, runner, runner_keys, NULL);
  read_uint (l, runner, "max_concurrent", 0, &l->state->max_concurrent);
  read_seconds (l, runner, "deadline", &l->state->deadline);
  read_seconds (l, runner, "agent_timeout", &l->state->agent_timeout);
  read_choice (l, runner, "mode", mode_names, (guint *) &l->state->mode);
  read_choice (l, runner, "cache", cache_names, (guint *) &l->state->cache);
  if (read_seconds (l, runner, "poll_interval", &l->state->poll_interval) &&
      l->state->poll_interval == 0)
    {
      gsize poll_mark = push_member (l, "poll_interval");

      report_at (l, json_object_get_member (runner, "poll_interval"),
                 "expected a number of seconds greater than 0, got 0");
      pop (l, poll_mark);
    }
  pop (l, mark);
}

static void
load_client (Loader     *l,
             JsonObject *root)
{
  JsonObject *client;
  gsize mark;

  if (!(client = read_object (l, root, "client", "an object (the client's settings)")))
    return;

  mark = push_member (l, "client");
  check_keys (l, client, client_keys, NULL);
  load_client_settings (l, client, &l->state->client);
  pop (l, mark);
}

static void
load_policies (Loader     *l,
               JsonObject *root)
{
  JsonNode *node = json_object_get_member (root, "policies");
  JsonArray *array;
  gsize mark;

  if (node == NULL)
    return;

  mark = push_member (l, "policies");

  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      g_autofree char *got = describe_value (node);

      report_at (l, node, "expected an array of policies, got %s", got);
      pop (l, mark);
      return;
    }

  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      gsize element_mark = push_index (l, i);
      PluginEntry *entry;

      if ((entry = load_plugin_entry (l, json_array_get_element (array, i),
                                      FJ_PLUGIN_KIND_POLICY, NULL, NULL)))
        g_ptr_array_add (l->state->policies, entry);
      pop (l, element_mark);
    }

  pop (l, mark);
}

/* The defaults a synthesizer may take, with the default timeout as it is
 * now. */
static JsonObject *
synthesis_defaults (const State *state)
{
  JsonObject *defaults = json_object_new ();
  g_autoptr(GList) members = json_object_get_members (state->synthesis_defaults);

  for (const GList *m = members; m != NULL; m = m->next)
    json_object_set_member (defaults, m->data,
                            json_node_copy (json_object_get_member (state->synthesis_defaults, m->data)));

  if (state->has_default_timeout)
    json_object_set_double_member (defaults, "timeout", state->default_timeout);

  return defaults;
}

/* Whether a synthesizer sends requests through a client of its own. */
static gboolean
synthesizer_takes_client (GType type)
{
  g_autoptr(GTypeClass) klass = g_type_class_ref (type);
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_CLASS (klass), "client");

  return pspec != NULL && g_type_is_a (pspec->value_type, FJ_TYPE_CLIENT) &&
         (pspec->flags & G_PARAM_WRITABLE) != 0;
}

static void
load_synthesis (Loader     *l,
                JsonObject *root)
{
  JsonNode *node = json_object_get_member (root, "synthesis");
  g_autoptr(JsonObject) defaults = NULL;
  const char *client = NULL;
  gsize mark;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return;

  mark = push_member (l, "synthesis");

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_autofree char *got = describe_value (node);

      report_at (l, node, "expected an object with \"plugin\" (or null for no synthesis), got %s", got);
      pop (l, mark);
      return;
    }

  if (json_object_has_member (json_node_get_object (node), "model"))
    {
      JsonNode *model = json_object_get_member (json_node_get_object (node), "model");

      if (is_string (model))
        {
          gsize model_mark = push_member (l, "model");

          check_model (l, model, json_node_get_string (model));
          pop (l, model_mark);
        }
    }

  defaults = synthesis_defaults (l->state);
  l->state->synthesis = load_plugin_entry (l, node, FJ_PLUGIN_KIND_SYNTHESIZER, defaults, NULL);

  if (read_client_name (l, json_node_get_object (node), &client))
    {
      GType type = l->state->synthesis != NULL ?
                   fj_plugin_registry_lookup (l->self->registry, FJ_PLUGIN_KIND_SYNTHESIZER,
                                              l->state->synthesis->name) : G_TYPE_INVALID;

      if (type != G_TYPE_INVALID && !synthesizer_takes_client (type))
        {
          gsize client_mark = push_member (l, "client");

          report_at_name (l, json_object_get_member (json_node_get_object (node), "client"),
                          "the %s synthesizer sends no requests: \"client\" does not apply",
                          l->state->synthesis->name);
          pop (l, client_mark);
        }
      else
        l->state->synthesis_client = g_strdup (client);
    }

  pop (l, mark);
}

static void
keep_synthesis_defaults (State         *state,
                         JsonObject    *defaults_object,
                         AgentSettings *defaults)
{
  for (guint i = 0; synthesis_default_keys[i] != NULL; i++)
    {
      const char *key = synthesis_default_keys[i];
      gboolean valid;

      if (defaults_object == NULL || !json_object_has_member (defaults_object, key))
        continue;

      /* Only what was valid; the timeout is added when a task is made. */
      if (strcmp (key, "model") == 0)
        valid = defaults->has_model;
      else if (strcmp (key, "max_tokens") == 0)
        valid = defaults->has_max_tokens;
      else if (strcmp (key, "temperature") == 0)
        valid = defaults->has_temperature;
      else if (strcmp (key, "max_turns") == 0)
        valid = defaults->has_max_turns;
      else
        valid = FALSE;

      if (valid)
        json_object_set_member (state->synthesis_defaults, key,
                                json_node_copy (json_object_get_member (defaults_object, key)));
    }
}

static void
load_root (Loader *l)
{
  JsonNode *root_node = _fj_spec_document_get_root (l->doc);
  JsonObject *root;
  JsonObject *defaults_object;
  AgentSettings defaults = { 0 };
  JsonNode *node;
  const char *text;

  if (!JSON_NODE_HOLDS_OBJECT (root_node))
    {
      g_autofree char *got = describe_value (root_node);

      report_at (l, root_node, "expected an object (a fork-join spec), got %s", got);
      return;
    }

  root = json_node_get_object (root_node);
  check_keys (l, root, root_keys, NULL);

  /* Before "clients", whose base URLs it allows. */
  if (read_boolean (l, root, "allow_insecure_http", &l->state->allow_insecure_http) &&
      l->state->allow_insecure_http)
    {
      gsize mark = push_member (l, "allow_insecure_http");

      warn_at (l, json_object_get_member (root, "allow_insecure_http"),
               "a plain-HTTP base URL that is not loopback is allowed: "
               "the API key and the prompts may then travel unencrypted");
      pop (l, mark);
    }

  /* Before the agents, which name them. */
  load_clients (l, root);

  read_string (l, root, "$schema", FALSE, "a string", &text);
  if (read_string (l, root, "description", FALSE, "a string", &text))
    l->state->description = g_strdup (text);
  if (read_string (l, root, "input", FALSE, "a string", &text))
    l->state->input = g_strdup (text);

  if ((defaults_object = read_object (l, root, "defaults", "an object (settings every agent takes)")))
    {
      gsize mark = push_member (l, "defaults");

      load_agent_settings (l, defaults_object, TRUE, &defaults);
      pop (l, mark);

      l->state->has_default_timeout = defaults.has_timeout;
      l->state->default_timeout = defaults.timeout;
      keep_synthesis_defaults (l->state, defaults_object, &defaults);
    }

  load_agents (l, root, &defaults);

  if (read_uint (l, root, "min_successes", 1, &l->state->min_successes))
    {
      JsonNode *agents = json_object_get_member (root, "agents");
      guint n_agents = agents && JSON_NODE_HOLDS_ARRAY (agents) ?
                       json_array_get_length (json_node_get_array (agents)) : 0;

      if (n_agents > 0 && l->state->min_successes > n_agents)
        {
          gsize mark = push_member (l, "min_successes");

          node = json_object_get_member (root, "min_successes");
          report_at (l, node, "%u is more than the number of agents (%u)",
                     l->state->min_successes, n_agents);
          pop (l, mark);
        }
    }

  load_runner (l, root);
  if (l->state->mode == FJ_RUN_MODE_BATCH)
    while (l->batch_problems->len > 0)
      g_ptr_array_add (l->problems, g_ptr_array_steal_index (l->batch_problems, 0));
  load_policies (l, root);
  load_synthesis (l, root);
  load_client (l, root);

  agent_settings_clear (&defaults);
}

static GStrv
format_problems (GPtrArray  *problems,
                 const char *filename)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  _fj_spec_problems_sort (problems);
  for (guint i = 0; i < problems->len; i++)
    {
      g_autofree char *line = _fj_spec_problem_format (g_ptr_array_index (problems, i), filename);

      g_strv_builder_add (builder, line);
    }

  return g_strv_builder_end (builder);
}

static void
notify_all (FjSpec *self)
{
  g_object_freeze_notify (G_OBJECT (self));
  for (guint i = PROP_PATH; i < N_PROPS; i++)
    g_object_notify_by_pspec (G_OBJECT (self), properties[i]);
  g_object_thaw_notify (G_OBJECT (self));
}

static gboolean
load (FjSpec      *self,
      const char  *data,
      gsize        length,
      const char  *path,
      GError     **error)
{
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func ((GDestroyNotify) _fj_spec_problem_free);
  g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func ((GDestroyNotify) _fj_spec_problem_free);
  g_autoptr(GPtrArray) batch_problems = g_ptr_array_new_with_free_func ((GDestroyNotify) _fj_spec_problem_free);
  g_autoptr(FjSpecDocument) doc = NULL;
  g_autoptr(GString) field_path = g_string_new (NULL);
  g_autoptr(State) state = state_new ();
  const char *filename = path ? path : "<string>";
  Loader l = { 0 };

  doc = _fj_spec_document_parse (data, length, problems);

  if (doc != NULL)
    {
      l.self = self;
      l.doc = doc;
      l.problems = problems;
      l.warnings = warnings;
      l.batch_problems = batch_problems;
      l.path = field_path;
      l.state = state;
      get_today (&l.today);

      load_root (&l);
    }

  if (problems->len > 0)
    {
      g_auto(GStrv) lines = format_problems (problems, filename);
      g_autofree char *message = g_strjoinv ("\n", lines);

      g_set_error_literal (error, FJ_ERROR, FJ_ERROR_SPEC, message);
      return FALSE;
    }

  g_strfreev (state->warnings);
  state->warnings = format_problems (warnings, filename);
  g_strfreev (state->batch_problems);
  state->batch_problems = format_problems (batch_problems, filename);

  g_clear_pointer (&self->state, state_free);
  self->state = g_steal_pointer (&state);
  g_free (self->path);
  self->path = g_strdup (path);
  g_free (self->sha256);
  self->sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) data, length);
  self->loaded = TRUE;
  g_hash_table_remove_all (self->made_clients);

  g_list_store_splice (self->agents, 0, g_list_model_get_n_items (G_LIST_MODEL (self->agents)),
                       self->state->agents->pdata, self->state->agents->len);

  notify_all (self);

  return TRUE;
}

/* GObject */

static void
fj_spec_constructed (GObject *object)
{
  FjSpec *self = (FjSpec *)object;

  G_OBJECT_CLASS (fj_spec_parent_class)->constructed (object);

  if (self->registry == NULL)
    {
      self->registry = g_object_ref (fj_plugin_registry_get_default ());
      fj_plugin_registry_load_default (self->registry);
    }
}

static void
fj_spec_finalize (GObject *object)
{
  FjSpec *self = (FjSpec *)object;

  g_clear_object (&self->registry);
  g_clear_object (&self->agents);
  g_clear_pointer (&self->state, state_free);
  g_clear_pointer (&self->given_clients, g_hash_table_unref);
  g_clear_pointer (&self->made_clients, g_hash_table_unref);
  g_free (self->path);
  g_free (self->sha256);

  G_OBJECT_CLASS (fj_spec_parent_class)->finalize (object);
}

static void
fj_spec_get_property (GObject    *object,
                      guint       prop_id,
                      GValue     *value,
                      GParamSpec *pspec)
{
  FjSpec *self = FJ_SPEC (object);

  switch (prop_id)
    {
    case PROP_REGISTRY:
      g_value_set_object (value, self->registry);
      break;

    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;

    case PROP_SHA256:
      g_value_set_string (value, self->sha256);
      break;

    case PROP_INPUT:
      g_value_set_string (value, self->state->input);
      break;

    case PROP_DESCRIPTION:
      g_value_set_string (value, self->state->description);
      break;

    case PROP_AGENTS:
      g_value_set_object (value, self->agents);
      break;

    case PROP_DEFAULT_TIMEOUT:
      g_value_set_double (value, fj_spec_get_default_timeout (self));
      break;

    case PROP_MIN_SUCCESSES:
      g_value_set_uint (value, self->state->min_successes);
      break;

    case PROP_MAX_CONCURRENT:
      g_value_set_uint (value, self->state->max_concurrent);
      break;

    case PROP_DEADLINE:
      g_value_set_double (value, self->state->deadline);
      break;

    case PROP_AGENT_TIMEOUT:
      g_value_set_double (value, self->state->agent_timeout);
      break;

    case PROP_SYNTHESIS_PLUGIN:
      g_value_set_string (value, fj_spec_get_synthesis_plugin (self));
      break;

    case PROP_MODE:
      g_value_set_enum (value, self->state->mode);
      break;

    case PROP_CACHE:
      g_value_set_enum (value, self->state->cache);
      break;

    case PROP_POLL_INTERVAL:
      g_value_set_double (value, self->state->poll_interval);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_spec_set_property (GObject      *object,
                      guint         prop_id,
                      const GValue *value,
                      GParamSpec   *pspec)
{
  FjSpec *self = FJ_SPEC (object);

  switch (prop_id)
    {
    case PROP_REGISTRY:
      self->registry = g_value_dup_object (value);
      break;

    case PROP_DEFAULT_TIMEOUT:
      fj_spec_set_default_timeout (self, g_value_get_double (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_spec_class_init (FjSpecClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = fj_spec_constructed;
  object_class->finalize = fj_spec_finalize;
  object_class->get_property = fj_spec_get_property;
  object_class->set_property = fj_spec_set_property;

  /**
   * FjSpec:registry:
   *
   * The registry plugins are made from.
   *
   * Since: 1.0
   */
  properties[PROP_REGISTRY] =
    g_param_spec_object ("registry", NULL, NULL,
                         FJ_TYPE_PLUGIN_REGISTRY,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * FjSpec:path:
   *
   * The path the spec was loaded from, as given, or the name given to
   * [method@Spec.load_from_data].
   *
   * Since: 1.0
   */
  properties[PROP_PATH] =
    g_param_spec_string ("path", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjSpec:sha256:
   *
   * The SHA-256 of the bytes loaded, in hexadecimal.
   *
   * Since: 1.0
   */
  properties[PROP_SHA256] =
    g_param_spec_string ("sha256", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjSpec:input:
   *
   * The spec's `input`, if it has one.
   *
   * Since: 1.0
   */
  properties[PROP_INPUT] =
    g_param_spec_string ("input", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjSpec:description:
   *
   * The spec's `description`, if it has one.
   *
   * Since: 1.0
   */
  properties[PROP_DESCRIPTION] =
    g_param_spec_string ("description", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjSpec:agents:
   *
   * The agents, a [iface@Gio.ListModel] of [class@Agent].
   *
   * Since: 1.0
   */
  properties[PROP_AGENTS] =
    g_param_spec_object ("agents", NULL, NULL,
                         G_TYPE_LIST_MODEL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjSpec:default-timeout:
   *
   * The timeout, in seconds, of each agent that does not set its own
   * (`defaults.timeout`); 0 for none.
   *
   * Since: 1.0
   */
  properties[PROP_DEFAULT_TIMEOUT] =
    g_param_spec_double ("default-timeout", NULL, NULL,
                         0, G_MAXDOUBLE, 0,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjSpec:min-successes:
   *
   * How many agents must succeed (`min_successes`).
   *
   * Since: 1.0
   */
  properties[PROP_MIN_SUCCESSES] =
    g_param_spec_uint ("min-successes", NULL, NULL,
                       1, G_MAXUINT, 1,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjSpec:max-concurrent:
   *
   * How many agents may run at once (`runner.max_concurrent`); 0 for no
   * limit.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_CONCURRENT] =
    g_param_spec_uint ("max-concurrent", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjSpec:deadline:
   *
   * The run's deadline in seconds (`runner.deadline`); 0 for none.
   *
   * Since: 1.0
   */
  properties[PROP_DEADLINE] =
    g_param_spec_double ("deadline", NULL, NULL,
                         0, G_MAXDOUBLE, 0,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjSpec:agent-timeout:
   *
   * The runner's timeout for agents without one (`runner.agent_timeout`),
   * in seconds; 0 for none.
   *
   * Since: 1.0
   */
  properties[PROP_AGENT_TIMEOUT] =
    g_param_spec_double ("agent-timeout", NULL, NULL,
                         0, G_MAXDOUBLE, 0,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjSpec:synthesis-plugin:
   *
   * The name of the synthesizer plugin, or %NULL for no synthesis.
   *
   * Since: 1.0
   */
  properties[PROP_SYNTHESIS_PLUGIN] =
    g_param_spec_string ("synthesis-plugin", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjSpec:mode:
   *
   * How the agents run (`runner.mode`): live, or as a Message Batches
   * batch. fj_spec_set_mode() changes it.
   *
   * Since: 1.0
   */
  properties[PROP_MODE] =
    g_param_spec_enum ("mode", NULL, NULL,
                       FJ_TYPE_RUN_MODE, FJ_RUN_MODE_LIVE,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjSpec:cache:
   *
   * How requests are laid out for the prompt cache (`runner.cache`).
   *
   * Since: 1.0
   */
  properties[PROP_CACHE] =
    g_param_spec_enum ("cache", NULL, NULL,
                       FJ_TYPE_CACHE_MODE, FJ_CACHE_MODE_NONE,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjSpec:poll-interval:
   *
   * In batch mode, the seconds before the first poll of the batch
   * (`runner.poll_interval`); 0 for the runner's default.
   *
   * Since: 1.0
   */
  properties[PROP_POLL_INTERVAL] =
    g_param_spec_double ("poll-interval", NULL, NULL,
                         0, G_MAXDOUBLE, 0,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
fj_spec_init (FjSpec *self)
{
  self->agents = g_list_store_new (FJ_TYPE_AGENT);
  self->state = state_new ();
  self->given_clients = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->made_clients = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
}

static void
apply_client_settings (const ClientSettings *c,
                       FjClient             *client)
{
  if (c->api_version != NULL)
    fj_client_set_api_version (client, c->api_version);
  if (c->has_max_retries)
    fj_client_set_max_retries (client, c->max_retries);
  if (c->has_idle_timeout)
    fj_client_set_idle_timeout (client, c->idle_timeout);
  if (c->has_requests_per_minute)
    fj_client_set_requests_per_minute (client, c->requests_per_minute);
  if (c->has_input_tokens_per_minute)
    fj_client_set_input_tokens_per_minute (client, c->input_tokens_per_minute);
  if (c->has_output_tokens_per_minute)
    fj_client_set_output_tokens_per_minute (client, c->output_tokens_per_minute);
}

/* A new client for @c: its base URL and provider, and the key from its
 * api_key_env (an anthropic one without it keeps the environment's
 * ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN). */
static FjClient *
make_named_client (const NamedClient  *c,
                   GError            **error)
{
  g_autoptr(FjClient) client = NULL;

  if (c->base_url != NULL)
    client = fj_client_new_for_base_url (c->base_url);
  else
    client = fj_client_new ();
  fj_client_set_provider (client, c->provider);

  /* Only its own key: the Anthropic one must not go to another server. */
  if (c->api_key_env != NULL || c->provider == FJ_PROVIDER_OPENAI)
    {
      fj_client_set_api_key (client, NULL);
      fj_client_set_auth_token (client, NULL);
    }

  if (c->api_key_env != NULL)
    {
      const char *key = g_getenv (c->api_key_env);

      if (key == NULL || *key == '\0')
        {
          g_set_error (error, FJ_ERROR, FJ_ERROR_AUTHENTICATION,
                       "no credentials for client \"%s\": the environment variable %s "
                       "(its \"api_key_env\") is %s",
                       c->name, c->api_key_env, key == NULL ? "not set" : "empty");
          return NULL;
        }
      fj_client_set_api_key (client, key);
    }
  else if (c->provider == FJ_PROVIDER_ANTHROPIC && !fj_client_get_has_credentials (client))
    {
      g_set_error (error, FJ_ERROR, FJ_ERROR_AUTHENTICATION,
                   "no credentials for client \"%s\" (anthropic): give it \"api_key_env\", "
                   "or set ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN", c->name);
      return NULL;
    }

  return g_steal_pointer (&client);
}

/* The client named @name for a task: the one given to
 * fj_spec_set_client(), else the one made earlier, else a new one; with
 * the spec's settings for it applied. */
static FjClient *
ensure_named_client (FjSpec      *self,
                     const char  *name,
                     GError     **error)
{
  const NamedClient *c = find_named_client (self->state, name);
  FjClient *client;

  g_assert (c != NULL);

  if (!(client = g_hash_table_lookup (self->given_clients, name)) &&
      !(client = g_hash_table_lookup (self->made_clients, name)))
    {
      if (!(client = make_named_client (c, error)))
        return NULL;
      g_hash_table_insert (self->made_clients, g_strdup (name), client);
    }

  if (c->allow_insecure_http || self->state->allow_insecure_http)
    fj_client_set_allow_insecure_http (client, TRUE);
  if (!fj_client_check_base_url (client, error))
    {
      g_prefix_error (error, "client \"%s\": ", name);
      return NULL;
    }
  apply_client_settings (&c->settings, client);

  return client;
}

/* Public API */

/**
 * fj_spec_new:
 * @registry: (nullable): the registry plugins are made from, or %NULL for
 *   the default one (whose plugins are then loaded, see
 *   [method@PluginRegistry.load_default])
 *
 * Creates an empty spec; load one with [method@Spec.load_from_file] or
 * [method@Spec.load_from_data].
 *
 * Returns: (transfer full): a new #FjSpec
 *
 * Since: 1.0
 */
FjSpec *
fj_spec_new (FjPluginRegistry *registry)
{
  g_return_val_if_fail (!registry || FJ_IS_PLUGIN_REGISTRY (registry), NULL);

  return g_object_new (FJ_TYPE_SPEC,
                       "registry", registry,
                       NULL);
}

/**
 * fj_spec_load_from_file:
 * @self: a #FjSpec
 * @path: (type filename): the file to read
 * @error: return location for a #GError
 *
 * Loads a spec from a file; see [method@Spec.load_from_data]. Messages
 * name the file as @path is written.
 *
 * Returns: %TRUE if the spec was loaded
 *
 * Since: 1.0
 */
gboolean
fj_spec_load_from_file (FjSpec      *self,
                        const char  *path,
                        GError     **error)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) local_error = NULL;
  gsize length;

  g_return_val_if_fail (FJ_IS_SPEC (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!g_file_get_contents (path, &contents, &length, &local_error))
    {
      g_set_error_literal (error, FJ_ERROR, FJ_ERROR_SPEC, local_error->message);
      return FALSE;
    }

  return load (self, contents, length, path, error);
}

/**
 * fj_spec_load_from_data:
 * @self: a #FjSpec
 * @data: the JSON text
 * @length: the length of @data in bytes, or -1 when it is nul-terminated
 * @filename: (nullable): the name messages give the text, as if read from
 *   a file; %NULL shows `<string>`
 * @error: return location for a #GError
 *
 * Loads a spec from JSON text, replacing what was loaded before; on
 * failure nothing changes. The agents are made with the defaults applied,
 * and each plugin entry is checked by making an instance of it.
 *
 * Every problem found is reported in one %FJ_ERROR_SPEC error, one line
 * per problem in document order, each `FILE:LINE:COLUMN: FIELD: problem`
 * (`q3.json:14:18: agents[2].timeout: expected a number of seconds, got
 * "fast"`). A syntax error stops the reading at that point.
 *
 * Returns: %TRUE if the spec was loaded
 *
 * Since: 1.0
 */
gboolean
fj_spec_load_from_data (FjSpec      *self,
                        const char  *data,
                        gssize       length,
                        const char  *filename,
                        GError     **error)
{
  g_return_val_if_fail (FJ_IS_SPEC (self), FALSE);
  g_return_val_if_fail (data != NULL || length == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (length < 0)
    length = strlen (data);

  return load (self, data ? data : "", length, filename, error);
}

/**
 * fj_spec_get_registry:
 * @self: a #FjSpec
 *
 * Gets the registry plugins are made from.
 *
 * Returns: (transfer none): the registry
 *
 * Since: 1.0
 */
FjPluginRegistry *
fj_spec_get_registry (FjSpec *self)
{
  g_return_val_if_fail (FJ_IS_SPEC (self), NULL);

  return self->registry;
}

/**
 * fj_spec_get_path:
 * @self: a #FjSpec
 *
 * Gets the path the spec was loaded from, as it was given (or the
 * filename given to [method@Spec.load_from_data]).
 *
 * Returns: (transfer none) (nullable) (type filename): the path
 *
 * Since: 1.0
 */
const char *
fj_spec_get_path (FjSpec *self)
{
  g_return_val_if_fail (FJ_IS_SPEC (self), NULL);

  return self->path;
}

/**
 * fj_spec_get_sha256:
 * @self: a #FjSpec
 *
 * Gets the SHA-256 of the bytes loaded, in lowercase hexadecimal.
 *
 * Returns: (transfer none) (nullable): the checksum, or %NULL before a spec
 *   is loaded
 *
 * Since: 1.0
 */
const char *
fj_spec_get_sha256 (FjSpec *self)
{
  g_return_val_if_fail (FJ_IS_SPEC (self), NULL);

  return self->sha256;
}

/**
 * fj_spec_get_input:
 * @self: a #FjSpec
 *
 * Gets the spec's `input`, the question every agent is given.
 *
 * Returns: (transfer none) (nullable): the input, or %NULL when the spec has
 *   none
 *
 * Since: 1.0
 */
const char *
fj_spec_get_input (FjSpec *self)
{
  g_return_val_if_fail (FJ_IS_SPEC (self), NULL);

  return self->state->input;
}

/**
 * fj_spec_get_description:
 * @self: a #FjSpec
 *
 * Gets the spec's `description`.
 *
 * Returns: (transfer none) (nullable): the description, or %NULL when the
 *   spec has none
 *
 * Since: 1.0
 */
const char *
fj_spec_get_description (FjSpec *self)
{
  g_return_val_if_fail (FJ_IS_SPEC (self), NULL);

  return self->state->description;
}

/**
 * fj_spec_get_agents:
 * @self: a #FjSpec
 *
 * Gets the agents, in spec order, with the defaults applied. Those that
 * name a client of `clients` get it as their [property@Agent:client] when
 * [method@Spec.create_task] makes a task; the others have no client of
 * their own, so they send with the runner's. The model is the same object
 * across calls and loads (a load replaces its items).
 *
 * Returns: (transfer none): a [iface@Gio.ListModel] of [class@Agent]
 *
 * Since: 1.0
 */
GListModel *
fj_spec_get_agents (FjSpec *self)
{
  g_return_val_if_fail (FJ_IS_SPEC (self), NULL);

  return G_LIST_MODEL (self->agents);
}

/**
 * fj_spec_get_default_timeout:
 * @self: a #FjSpec
 *
 * Gets the timeout of the agents that do not set their own: the spec's
 * `defaults.timeout`, or what [method@Spec.set_default_timeout] set.
 *
 * Returns: the timeout in seconds, 0 for none
 *
 * Since: 1.0
 */
double
fj_spec_get_default_timeout (FjSpec *self)
{
  g_return_val_if_fail (FJ_IS_SPEC (self), 0);

  return self->state->has_default_timeout ? self->state->default_timeout : 0;
}

/**
 * fj_spec_set_default_timeout:
 * @self: a #FjSpec
 * @seconds: a timeout in seconds, 0 for none
 *
 * Replaces the spec's `defaults.timeout` (what `forkjoin-tool run
 * --timeout` does): every agent that does not set its own `timeout` takes
 * @seconds; the others keep theirs. A synthesizer with a `timeout` option
 * that its entry does not set takes it as well. Loading a spec again
 * replaces it with that spec's.
 *
 * Since: 1.0
 */
void
fj_spec_set_default_timeout (FjSpec *self,
                             double  seconds)
{
  g_return_if_fail (FJ_IS_SPEC (self));
  g_return_if_fail (seconds >= 0);

  self->state->has_default_timeout = TRUE;
  self->state->default_timeout = seconds;

  for (guint i = 0; i < self->state->agents->len; i++)
    {
      if (!g_array_index (self->state->own_timeout, gboolean, i))
        fj_agent_set_timeout (g_ptr_array_index (self->state->agents, i), seconds);
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEFAULT_TIMEOUT]);
}

/**
 * fj_spec_get_min_successes:
 * @self: a #FjSpec
 *
 * Gets `min_successes`, how many agents must succeed.
 *
 * Returns: the quorum, 1 unless the spec says otherwise
 *
 * Since: 1.0
 */
guint
fj_spec_get_min_successes (FjSpec *self)
{
  g_return_val_if_fail (FJ_IS_SPEC (self), 1);

  return self->state->min_successes;
}

/**
 * fj_spec_get_allow_insecure_http:
 * @self: a #FjSpec
 *
 * Gets `allow_insecure_http`: whether [method@Spec.configure_client]
 * accepts a client whose base URL is plain HTTP and not loopback.
 *
 * Returns: %TRUE when the spec allows it, %FALSE (the default) otherwise
 *
 * Since: 1.0
 */
gboolean
fj_spec_get_allow_insecure_http (FjSpec *self)
{
  g_return_val_if_fail (FJ_IS_SPEC (self), FALSE);

  return self->state->allow_insecure_http;
}

/**
 * fj_spec_get_max_concurrent:
 * @self: a #FjSpec
 *
 * Gets `runner.max_concurrent`.
 *
 * Returns: how many agents may run at once, 0 for no limit
 *
 * Since: 1.0
 */
guint
fj_spec_get_max_concurrent (FjSpec *self)
{
  g_return_val_if_fail (FJ_IS_SPEC (self), 0);

  return self->state->max_concurrent;
}

/**
 * fj_spec_get_deadline:
 * @self: a #FjSpec
 *
 * Gets `runner.deadline`.
 *
 * Returns: the run's deadline in seconds, 0 for none
 *
 * Since: 1.0
 */
double
fj_spec_get_deadline (FjSpec *self)
{
  g_return_val_if_fail (FJ_IS_SPEC (self), 0);

  return self->state->deadline;
}

/**
 * fj_spec_get_agent_timeout:
 * @self: a #FjSpec
 *
 * Gets `runner.agent_timeout`, the runner's timeout for agents without
 * one.
 *
 * Returns: the timeout in seconds, 0 for none
 *
 * Since: 1.0
 */
double
fj_spec_get_agent_timeout (FjSpec *self)
{
  g_return_val_if_fail (FJ_IS_SPEC (self), 0);

  return self->state->agent_timeout;
}

/**
 * fj_spec_get_mode:
 * @self: a #FjSpec
 *
 * Gets how the agents run: `runner.mode`, or what fj_spec_set_mode() set.
 *
 * Returns: the run mode
 *
 * Since: 1.0
 */
FjRunMode
fj_spec_get_mode (FjSpec *self)
{
  g_return_val_if_fail (FJ_IS_SPEC (self), FJ_RUN_MODE_LIVE);

  return self->state->mode;
}

/**
 * fj_spec_set_mode:
 * @self: a #FjSpec
 * @mode: the run mode
 * @error: return location for a #GError
 *
 * Runs the loaded spec's agents in @mode from now on, as `--batch` does
 * for forkjoin-tool. Batch mode runs each agent as one request, so it is
 * refused when an agent has tools: the error names each such agent where
 * the spec gives it its tools, as a load error would.
 *
 * Returns: %TRUE if the mode was set, %FALSE with @error set otherwise
 *
 * Since: 1.0
 */
gboolean
fj_spec_set_mode (FjSpec     *self,
                  FjRunMode   mode,
                  GError    **error)
{
  g_return_val_if_fail (FJ_IS_SPEC (self), FALSE);
  g_return_val_if_fail (mode == FJ_RUN_MODE_LIVE || mode == FJ_RUN_MODE_BATCH, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!self->loaded)
    {
      g_set_error_literal (error, FJ_ERROR, FJ_ERROR_SPEC, "no spec is loaded");
      return FALSE;
    }

  if (mode == FJ_RUN_MODE_BATCH && self->state->batch_problems[0] != NULL)
    {
      g_autofree char *message = g_strjoinv ("\n", self->state->batch_problems);

      g_set_error_literal (error, FJ_ERROR, FJ_ERROR_SPEC, message);
      return FALSE;
    }

  if (self->state->mode != mode)
    {
      self->state->mode = mode;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODE]);
    }

  return TRUE;
}

/**
 * fj_spec_get_cache:
 * @self: a #FjSpec
 *
 * Gets `runner.cache`: how requests are laid out for the prompt cache.
 *
 * Returns: the cache mode
 *
 * Since: 1.0
 */
FjCacheMode
fj_spec_get_cache (FjSpec *self)
{
  g_return_val_if_fail (FJ_IS_SPEC (self), FJ_CACHE_MODE_NONE);

  return self->state->cache;
}

/**
 * fj_spec_get_poll_interval:
 * @self: a #FjSpec
 *
 * Gets `runner.poll_interval`: in batch mode, the seconds before the first
 * poll of the batch.
 *
 * Returns: the interval in seconds, or 0 for the runner's default
 *
 * Since: 1.0
 */
double
fj_spec_get_poll_interval (FjSpec *self)
{
  g_return_val_if_fail (FJ_IS_SPEC (self), 0);

  return self->state->poll_interval;
}

/**
 * fj_spec_get_synthesis_plugin:
 * @self: a #FjSpec
 *
 * Gets the name of the synthesizer plugin of `synthesis`.
 *
 * Returns: (transfer none) (nullable): the plugin's name, or %NULL when the
 *   spec has no synthesis
 *
 * Since: 1.0
 */
const char *
fj_spec_get_synthesis_plugin (FjSpec *self)
{
  g_return_val_if_fail (FJ_IS_SPEC (self), NULL);

  return self->state->synthesis ? self->state->synthesis->name : NULL;
}

/**
 * fj_spec_get_warnings:
 * @self: a #FjSpec
 *
 * Gets what the last load found worth a warning but not wrong, in
 * document order, each formatted as the errors are: a model past or
 * within 60 days of its end of life, or a model name that looks like a
 * typo of a known one.
 *
 * Returns: (transfer none) (array zero-terminated=1): the warnings,
 *   possibly none
 *
 * Since: 1.0
 */
const char * const *
fj_spec_get_warnings (FjSpec *self)
{
  g_return_val_if_fail (FJ_IS_SPEC (self), NULL);

  return (const char * const *) self->state->warnings;
}

/**
 * fj_spec_configure_client:
 * @self: a #FjSpec
 * @client: a client
 * @error: return location for a #GError
 *
 * Applies the spec's `client` settings to @client (those it sets; the
 * others are left alone).
 *
 * `allow_insecure_http` sets the client's
 * [property@Client:allow-insecure-http]. A client whose base URL is plain
 * HTTP and not loopback (`127.0.0.0/8`, `::1`, `localhost`) is refused
 * with %FJ_ERROR_INVALID_REQUEST unless it allows that, since the API key
 * would travel unencrypted (see [method@Client.check_base_url]).
 *
 * Returns: %TRUE, or %FALSE when no spec is loaded or the base URL is
 *   refused
 *
 * Since: 1.0
 */
gboolean
fj_spec_configure_client (FjSpec    *self,
                          FjClient  *client,
                          GError   **error)
{
  const ClientSettings *c;

  g_return_val_if_fail (FJ_IS_SPEC (self), FALSE);
  g_return_val_if_fail (FJ_IS_CLIENT (client), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!self->loaded)
    {
      g_set_error_literal (error, FJ_ERROR, FJ_ERROR_SPEC, "no spec is loaded");
      return FALSE;
    }

  if (self->state->allow_insecure_http)
    fj_client_set_allow_insecure_http (client, TRUE);
  if (!fj_client_check_base_url (client, error))
    return FALSE;

  c = &self->state->client;
  apply_client_settings (c, client);

  return TRUE;
}

/**
 * fj_spec_create_task:
 * @self: a #FjSpec
 * @client: (nullable): the client the agents send with
 * @error: return location for a #GError
 *
 * Makes a new fork-join task for the spec: a new [class@AgentRunner] on
 * @client with the spec's `runner` settings and new instances of its
 * policies, a new synthesizer (or none) and `min_successes`. @client is
 * configured with [method@Spec.configure_client].
 *
 * Each agent that names a client of `clients` (itself or through
 * `defaults`) gets that client as its [property@Agent:client], and so does
 * the synthesizer when `synthesis` names one; the others send with
 * @client. A named client is the one given to [method@Spec.set_client],
 * else one the spec makes (once, then kept until the next load) from its
 * `provider` and `base_url`, with the key read from the environment
 * variable its `api_key_env` names. That variable missing or empty, or an
 * anthropic client without `api_key_env` and without `ANTHROPIC_API_KEY`
 * or `ANTHROPIC_AUTH_TOKEN`, is %FJ_ERROR_AUTHENTICATION naming the client
 * and the variable; an openai client without `api_key_env` sends no key.
 * Each named client gets its own settings (limits, retries) and so keeps
 * its own rate budget.
 *
 * Each call makes a new runner, policies and synthesizer, so tasks do not
 * share that state; the agents and named clients are the spec's. Run the
 * task on [method@Spec.get_agents] and the input.
 *
 * Returns: (transfer full): a new task, or %NULL with @error set (no spec
 *   loaded, a plugin is gone from the registry, a base URL refused or a
 *   named client without its credentials)
 *
 * Since: 1.0
 */
FjForkJoinTask *
fj_spec_create_task (FjSpec    *self,
                     FjClient  *client,
                     GError   **error)
{
  g_autoptr(FjAgentRunner) runner = NULL;
  g_autoptr(GObject) synthesizer = NULL;
  FjForkJoinTask *task;

  g_return_val_if_fail (FJ_IS_SPEC (self), NULL);
  g_return_val_if_fail (!client || FJ_IS_CLIENT (client), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!self->loaded)
    {
      g_set_error_literal (error, FJ_ERROR, FJ_ERROR_SPEC, "no spec is loaded");
      return NULL;
    }

  runner = fj_agent_runner_new (client);
  fj_agent_runner_set_max_concurrent (runner, self->state->max_concurrent);
  fj_agent_runner_set_deadline (runner, self->state->deadline);
  fj_agent_runner_set_agent_timeout (runner, self->state->agent_timeout);
  fj_agent_runner_set_mode (runner, self->state->mode);
  fj_agent_runner_set_cache (runner, self->state->cache);
  if (self->state->poll_interval > 0)
    fj_agent_runner_set_batch_poll_interval (runner, self->state->poll_interval);

  for (guint i = 0; i < self->state->policies->len; i++)
    {
      g_autoptr(GObject) policy = NULL;

      policy = plugin_entry_create (self->registry, FJ_PLUGIN_KIND_POLICY,
                                    g_ptr_array_index (self->state->policies, i),
                                    NULL, error);
      if (policy == NULL)
        return NULL;
      fj_agent_runner_add_policy (runner, FJ_POLICY (policy));
    }

  if (self->state->synthesis != NULL)
    {
      g_autoptr(JsonObject) defaults = synthesis_defaults (self->state);

      synthesizer = plugin_entry_create (self->registry, FJ_PLUGIN_KIND_SYNTHESIZER,
                                         self->state->synthesis, defaults, error);
      if (synthesizer == NULL)
        return NULL;
    }

  if (client != NULL && !fj_spec_configure_client (self, client, error))
    return NULL;

  /* Resolve every client first, so a failure changes no agent. */
  {
    g_autoptr(GPtrArray) agent_clients = g_ptr_array_new ();
    FjClient *synthesis_client = NULL;

    for (guint i = 0; i < self->state->agents->len; i++)
      {
        const char *name = g_ptr_array_index (self->state->agent_clients, i);
        FjClient *named = NULL;

        if (name != NULL && !(named = ensure_named_client (self, name, error)))
          return NULL;
        g_ptr_array_add (agent_clients, named);
      }

    if (self->state->synthesis_client != NULL &&
        !(synthesis_client = ensure_named_client (self, self->state->synthesis_client, error)))
      return NULL;

    for (guint i = 0; i < self->state->agents->len; i++)
      fj_agent_set_client (g_ptr_array_index (self->state->agents, i),
                           g_ptr_array_index (agent_clients, i));
    if (synthesis_client != NULL)
      g_object_set (synthesizer, "client", synthesis_client, NULL);
  }

  task = fj_fork_join_task_new (runner, FJ_SYNTHESIZER (synthesizer));
  fj_fork_join_task_set_min_successes (task, self->state->min_successes);

  return task;
}

static const NamedClient *
lookup_named_client (FjSpec     *self,
                     const char *name)
{
  const NamedClient *c = find_named_client (self->state, name);

  if (c == NULL)
    g_critical ("%s: the spec has no client named \"%s\"", G_STRFUNC, name);

  return c;
}

/**
 * fj_spec_dup_client_names:
 * @self: a #FjSpec
 *
 * Gets the names of the spec's `clients`, in spec order.
 *
 * Returns: (transfer full) (array zero-terminated=1): the names, possibly
 *   none
 *
 * Since: 1.0
 */
char **
fj_spec_dup_client_names (FjSpec *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  g_return_val_if_fail (FJ_IS_SPEC (self), NULL);

  for (guint i = 0; i < self->state->clients->len; i++)
    g_strv_builder_add (builder, ((NamedClient *) g_ptr_array_index (self->state->clients, i))->name);

  return g_strv_builder_end (builder);
}

/**
 * fj_spec_get_client_provider:
 * @self: a #FjSpec
 * @name: the name of one of the spec's `clients`
 *
 * Gets the `provider` of the client named @name.
 *
 * Returns: the protocol it speaks, %FJ_PROVIDER_ANTHROPIC unless the spec
 *   says `"openai"`
 *
 * Since: 1.0
 */
FjProvider
fj_spec_get_client_provider (FjSpec     *self,
                             const char *name)
{
  const NamedClient *c;

  g_return_val_if_fail (FJ_IS_SPEC (self), FJ_PROVIDER_ANTHROPIC);
  g_return_val_if_fail (name != NULL, FJ_PROVIDER_ANTHROPIC);

  c = lookup_named_client (self, name);

  return c != NULL ? c->provider : FJ_PROVIDER_ANTHROPIC;
}

/**
 * fj_spec_get_client_base_url:
 * @self: a #FjSpec
 * @name: the name of one of the spec's `clients`
 *
 * Gets the `base_url` of the client named @name.
 *
 * Returns: (transfer none) (nullable): the base URL, or %NULL when the spec
 *   gives none (an anthropic client then uses `ANTHROPIC_BASE_URL` or the
 *   public API)
 *
 * Since: 1.0
 */
const char *
fj_spec_get_client_base_url (FjSpec     *self,
                             const char *name)
{
  const NamedClient *c;

  g_return_val_if_fail (FJ_IS_SPEC (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  c = lookup_named_client (self, name);

  return c != NULL ? c->base_url : NULL;
}

/**
 * fj_spec_get_client_api_key_env:
 * @self: a #FjSpec
 * @name: the name of one of the spec's `clients`
 *
 * Gets the `api_key_env` of the client named @name: the name of the
 * environment variable holding its key (never the key).
 *
 * Returns: (transfer none) (nullable): the variable's name, or %NULL
 *
 * Since: 1.0
 */
const char *
fj_spec_get_client_api_key_env (FjSpec     *self,
                                const char *name)
{
  const NamedClient *c;

  g_return_val_if_fail (FJ_IS_SPEC (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  c = lookup_named_client (self, name);

  return c != NULL ? c->api_key_env : NULL;
}

/**
 * fj_spec_get_client:
 * @self: a #FjSpec
 * @name: the name of a client of `clients`
 *
 * Gets the client the agents naming @name send with: the one given to
 * [method@Spec.set_client], else the one [method@Spec.create_task] made.
 *
 * Returns: (transfer none) (nullable): the client, or %NULL when none was
 *   given or made yet
 *
 * Since: 1.0
 */
FjClient *
fj_spec_get_client (FjSpec     *self,
                    const char *name)
{
  FjClient *client;

  g_return_val_if_fail (FJ_IS_SPEC (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  if ((client = g_hash_table_lookup (self->given_clients, name)))
    return client;

  return g_hash_table_lookup (self->made_clients, name);
}

/**
 * fj_spec_set_client:
 * @self: a #FjSpec
 * @name: the name of a client of `clients`
 * @client: (nullable): the client to use for @name, or %NULL to let the
 *   spec make one again
 *
 * Gives the client the agents (and synthesis) naming @name send with,
 * instead of the one [method@Spec.create_task] would make from the spec:
 * to point it somewhere else (`forkjoin-tool run --simulate` points every
 * client at its simulator) or to give it credentials another way. Its
 * base URL, provider and credentials are left as they are; the spec's
 * settings for @name (limits, retries, `allow_insecure_http`) are applied
 * to it when a task is made. It stays given across loads, for any spec
 * that names @name.
 *
 * Since: 1.0
 */
void
fj_spec_set_client (FjSpec     *self,
                    const char *name,
                    FjClient   *client)
{
  g_return_if_fail (FJ_IS_SPEC (self));
  g_return_if_fail (name != NULL);
  g_return_if_fail (!client || FJ_IS_CLIENT (client));

  if (client != NULL)
    g_hash_table_insert (self->given_clients, g_strdup (name), g_object_ref (client));
  else
    g_hash_table_remove (self->given_clients, name);
}

/**
 * fj_spec_get_agent_client_name:
 * @self: a #FjSpec
 * @position: the position of an agent in [method@Spec.get_agents]
 *
 * Gets the name of the client of `clients` the agent at @position sends
 * with (its own `client`, else that of `defaults`).
 *
 * Returns: (transfer none) (nullable): the name, or %NULL when the agent
 *   sends with the run's client
 *
 * Since: 1.0
 */
const char *
fj_spec_get_agent_client_name (FjSpec *self,
                               guint   position)
{
  g_return_val_if_fail (FJ_IS_SPEC (self), NULL);
  g_return_val_if_fail (position < self->state->agent_clients->len, NULL);

  return g_ptr_array_index (self->state->agent_clients, position);
}

/**
 * fj_spec_get_synthesis_client_name:
 * @self: a #FjSpec
 *
 * Gets the name of the client of `clients` the synthesis sends with
 * (`synthesis.client`; the synthesis does not take it from `defaults`).
 *
 * Returns: (transfer none) (nullable): the name, or %NULL when the
 *   synthesis sends with the run's client or there is none
 *
 * Since: 1.0
 */
const char *
fj_spec_get_synthesis_client_name (FjSpec *self)
{
  g_return_val_if_fail (FJ_IS_SPEC (self), NULL);

  return self->state->synthesis_client;
}

/**
 * fj_spec_get_uses_default_client:
 * @self: a #FjSpec
 *
 * Tells whether anything sends with the run's client (the one given to
 * [method@Spec.create_task]): an agent without a named client, or a
 * synthesizer that sends requests without one. When nothing does, that
 * client needs no credentials.
 *
 * Returns: %TRUE when the run's client is used
 *
 * Since: 1.0
 */
gboolean
fj_spec_get_uses_default_client (FjSpec *self)
{
  GType type;

  g_return_val_if_fail (FJ_IS_SPEC (self), TRUE);

  for (guint i = 0; i < self->state->agent_clients->len; i++)
    if (g_ptr_array_index (self->state->agent_clients, i) == NULL)
      return TRUE;

  if (self->state->synthesis == NULL || self->state->synthesis_client != NULL)
    return FALSE;

  type = fj_plugin_registry_lookup (self->registry, FJ_PLUGIN_KIND_SYNTHESIZER,
                                    self->state->synthesis->name);

  return type != G_TYPE_INVALID && synthesizer_takes_client (type);
}
