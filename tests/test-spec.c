/* test-spec.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-test-utils.h"

#include <glib/gstdio.h>
#include <string.h>

#include "fj-spec-private.h"

/* FjSpec: loading the JSON spec, every error class with its exact
 * "file:line:column: field: problem" text, defaults, warnings, and the
 * tasks it makes, down to a run against the simulator. */

/* Loaded in main(), before any thread. */
static FjPluginRegistry *plugins;
/* Only the test tool, for messages that list the tools. */
static FjPluginRegistry *echo_only;
/* The shipped plugins only, as a program would have them. */
static FjPluginRegistry *shipped;

/* A tool for the specs here, registered as "echo": the tool plugins of
 * plugins/tools are not needed to test how specs name tools. */

#define TEST_TYPE_ECHO_TOOL (test_echo_tool_get_type ())
G_DECLARE_FINAL_TYPE (TestEchoTool, test_echo_tool, TEST, ECHO_TOOL, FjTool)

struct _TestEchoTool
{
  FjTool  parent_instance;
  char   *prefix;
};

G_DEFINE_FINAL_TYPE (TestEchoTool, test_echo_tool, FJ_TYPE_TOOL)

enum { ECHO_PROP_0, ECHO_PROP_PREFIX, ECHO_N_PROPS };

static char *
test_echo_tool_invoke (FjTool        *tool,
                       const char    *input_json,
                       GCancellable  *cancellable,
                       GError       **error)
{
  TestEchoTool *self = TEST_ECHO_TOOL (tool);

  return g_strconcat (self->prefix ? self->prefix : "", input_json, NULL);
}

static void
test_echo_tool_finalize (GObject *object)
{
  g_free (TEST_ECHO_TOOL (object)->prefix);
  G_OBJECT_CLASS (test_echo_tool_parent_class)->finalize (object);
}

static void
test_echo_tool_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  g_value_set_string (value, TEST_ECHO_TOOL (object)->prefix);
}

static void
test_echo_tool_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  g_free (TEST_ECHO_TOOL (object)->prefix);
  TEST_ECHO_TOOL (object)->prefix = g_value_dup_string (value);
}

static void
test_echo_tool_class_init (TestEchoToolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = test_echo_tool_finalize;
  object_class->get_property = test_echo_tool_get_property;
  object_class->set_property = test_echo_tool_set_property;
  FJ_TOOL_CLASS (klass)->invoke = test_echo_tool_invoke;

  g_object_class_install_property (object_class, ECHO_PROP_PREFIX,
                                   g_param_spec_string ("prefix", NULL, NULL, NULL,
                                                        G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
}

static void
test_echo_tool_init (TestEchoTool *self)
{
  fj_tool_set_name (FJ_TOOL (self), "echo");
  fj_tool_set_description (FJ_TOOL (self), "Repeats its input");
}

static FjPluginRegistry *
load_plugins (gboolean with_echo)
{
  static const char * const dirs[][2] = {
    { "synthesis", "concat" }, { "synthesis", "llm" }, { "synthesis", "vote" },
    { "policy", "quorum" }, { "policy", "budget" },
    { "tools", "read-file" }, { "tools", "clock" },
  };
  FjPluginRegistry *registry = fj_plugin_registry_new ();

  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *dir = g_test_build_filename (G_TEST_BUILT, "..", "plugins",
                                                    dirs[i][0], dirs[i][1], NULL);
      g_autoptr(GError) error = NULL;

      fj_plugin_registry_load_dir (registry, dir, &error);
      g_assert_no_error (error);
    }

  if (with_echo)
    fj_plugin_registry_add (registry, FJ_PLUGIN_KIND_TOOL, "echo", TEST_TYPE_ECHO_TOOL,
                            "Repeats its input (a test tool)");

  return registry;
}

/* @json with every ' turned into ", so the specs here read easily. */
static char *
dq (const char *json)
{
  return g_strdelimit (g_strdup (json), "'", '"');
}

static FjSpec *
load_ok (const char *json)
{
  g_autofree char *text = dq (json);
  g_autoptr(GError) error = NULL;
  FjSpec *spec = fj_spec_new (plugins);

  fj_spec_load_from_data (spec, text, -1, "t.json", &error);
  g_assert_no_error (error);

  return spec;
}

/* Loads @json (quotes as dq()) and checks the error's whole message. */
static void
assert_spec_error_in (FjPluginRegistry *registry,
                      const char       *text,
                      gssize            length,
                      const char       *expected)
{
  g_autoptr(FjSpec) spec = fj_spec_new (registry);
  g_autoptr(GError) error = NULL;

  g_assert_false (fj_spec_load_from_data (spec, text, length, "t.json", &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_SPEC);
  g_assert_cmpstr (error->message, ==, expected);
  g_assert_cmpuint (g_list_model_get_n_items (fj_spec_get_agents (spec)), ==, 0);
  g_assert_null (fj_spec_get_sha256 (spec));
}

static void
assert_spec_error_raw (const char *text,
                       gssize      length,
                       const char *expected)
{
  assert_spec_error_in (plugins, text, length, expected);
}

static void
assert_spec_error (const char *json,
                   const char *expected)
{
  g_autofree char *text = dq (json);

  assert_spec_error_raw (text, -1, expected);
}

static FjAgent *
agent_at (FjSpec *spec,
          guint   index)
{
  g_autoptr(FjAgent) agent = g_list_model_get_item (fj_spec_get_agents (spec), index);

  /* The spec keeps its own reference. */
  return agent;
}

/* Examples */

static void
test_spec_examples (void)
{
  const char *data_dir = g_getenv ("FJ_DATA_DIR");
  g_autofree char *examples = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GError) error = NULL;
  gboolean have_tools;
  const char *name;
  guint n = 0;

  g_assert_nonnull (data_dir);
  examples = g_build_filename (data_dir, "examples", NULL);
  dir = g_dir_open (examples, 0, &error);
  g_assert_no_error (error);

  have_tools = fj_plugin_registry_lookup (shipped, FJ_PLUGIN_KIND_TOOL, "clock") != G_TYPE_INVALID &&
               fj_plugin_registry_lookup (shipped, FJ_PLUGIN_KIND_TOOL, "read_file") != G_TYPE_INVALID;

  /* The day PROTOCOL.md's model table was taken. */
  _fj_spec_set_today ("2026-11-24");

  while ((name = g_dir_read_name (dir)))
    {
      g_autofree char *path = g_build_filename (examples, name, NULL);
      g_autoptr(FjSpec) spec = fj_spec_new (shipped);
      g_autoptr(GError) load_error = NULL;

      if (!g_str_has_suffix (name, ".json"))
        continue;

      if (strcmp (name, "tool-use.json") == 0 && !have_tools)
        {
          g_test_message ("%s not checked: the clock and read_file tool plugins are not built", name);
          continue;
        }

      g_test_message ("%s", name);
      fj_spec_load_from_file (spec, path, &load_error);
      g_assert_no_error (load_error);
      g_assert_cmpstr (fj_spec_get_path (spec), ==, path);
      g_assert_cmpuint (g_strv_length ((GStrv) fj_spec_get_warnings (spec)), ==, 0);
      g_assert_cmpuint (g_list_model_get_n_items (fj_spec_get_agents (spec)), >, 0);
      g_assert_nonnull (fj_spec_get_input (spec));
      n++;
    }

  _fj_spec_set_today (NULL);

  g_assert_cmpuint (n, >=, 3);
}

static void
test_spec_q3_example (void)
{
  g_autofree char *path = g_build_filename (g_getenv ("FJ_DATA_DIR"), "examples", "q3-analysis.json", NULL);
  g_autoptr(FjSpec) spec = fj_spec_new (plugins);
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *sha256 = NULL;
  gsize length;

  fj_spec_load_from_file (spec, path, &error);
  g_assert_no_error (error);

  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);
  sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, length);
  g_assert_cmpstr (fj_spec_get_sha256 (spec), ==, sha256);

  g_assert_cmpstr (fj_spec_get_input (spec), ==, "Analyze Q3 performance for ACME Corp");
  g_assert_cmpuint (fj_spec_get_min_successes (spec), ==, 2);
  g_assert_cmpuint (fj_spec_get_max_concurrent (spec), ==, 3);
  g_assert_cmpfloat (fj_spec_get_deadline (spec), ==, 300);
  g_assert_cmpfloat (fj_spec_get_default_timeout (spec), ==, 60);
  g_assert_cmpstr (fj_spec_get_synthesis_plugin (spec), ==, "llm");
  g_assert_cmpuint (g_list_model_get_n_items (fj_spec_get_agents (spec)), ==, 3);
  g_assert_cmpstr (fj_agent_get_name (agent_at (spec, 0)), ==, "market-analyst");
  g_assert_cmpstr (fj_agent_get_name (agent_at (spec, 1)), ==, "technical-analyst");
  g_assert_cmpstr (fj_agent_get_name (agent_at (spec, 2)), ==, "financial-analyst");
  g_assert_nonnull (strstr (fj_agent_get_instructions (agent_at (spec, 0)), "market analyst"));
  g_assert_nonnull (strstr (fj_agent_get_instructions (agent_at (spec, 1)), "technical analyst"));
  g_assert_nonnull (strstr (fj_agent_get_instructions (agent_at (spec, 2)), "financial analyst"));
  /* Only the technical analyst matches the q3-demo scenario's failure. */
  g_assert_null (strstr (fj_agent_get_instructions (agent_at (spec, 0)), "technical analyst"));
  g_assert_null (strstr (fj_agent_get_instructions (agent_at (spec, 2)), "technical analyst"));
}

/* tests/specs: one bad spec per error class, with its whole message,
 * as forkjoin-tool validate prints it. */
static void
test_spec_bad_specs (void)
{
  g_autofree char *index_path = g_test_build_filename (G_TEST_DIST, "specs", "index.json", NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonArray *specs;

  json_parser_load_from_file (parser, index_path, &error);
  g_assert_no_error (error);
  specs = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "specs");
  g_assert_cmpuint (json_array_get_length (specs), >=, 15);

  for (guint i = 0; i < json_array_get_length (specs); i++)
    {
      JsonObject *entry = json_array_get_object_element (specs, i);
      const char *file = json_object_get_string_member (entry, "file");
      g_autofree char *path = g_test_build_filename (G_TEST_DIST, "specs", file, NULL);
      g_autoptr(FjSpec) spec = fj_spec_new (shipped);
      g_autoptr(GError) load_error = NULL;
      g_autofree char *contents = NULL;
      gsize length;

      g_test_message ("%s: %s", file, json_object_get_string_member (entry, "class"));
      g_file_get_contents (path, &contents, &length, &error);
      g_assert_no_error (error);

      g_assert_false (fj_spec_load_from_data (spec, contents, length, file, &load_error));
      g_assert_error (load_error, FJ_ERROR, FJ_ERROR_SPEC);
      g_assert_cmpstr (load_error->message, ==, json_object_get_string_member (entry, "error"));
    }
}

/* Loading */

static void
test_spec_basic (void)
{
  static const char *json = "{'agents': [{'name': 'a'}, {'name': 'b', 'instructions': 'Be b.'}]}";
  g_autofree char *text = dq (json);
  g_autofree char *sha256 = g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);
  g_autoptr(FjSpec) spec = fj_spec_new (plugins);
  g_autoptr(GError) error = NULL;
  GListModel *agents;
  FjAgent *b;

  g_assert_true (fj_spec_get_registry (spec) == plugins);
  g_assert_null (fj_spec_get_sha256 (spec));
  g_assert_nonnull (fj_spec_get_warnings (spec));

  g_assert_true (fj_spec_load_from_data (spec, text, -1, NULL, &error));
  g_assert_no_error (error);

  g_assert_null (fj_spec_get_path (spec));
  g_assert_cmpstr (fj_spec_get_sha256 (spec), ==, sha256);
  g_assert_null (fj_spec_get_input (spec));
  g_assert_null (fj_spec_get_synthesis_plugin (spec));
  g_assert_cmpuint (fj_spec_get_min_successes (spec), ==, 1);
  g_assert_cmpuint (fj_spec_get_max_concurrent (spec), ==, 0);
  g_assert_cmpfloat (fj_spec_get_deadline (spec), ==, 0);
  g_assert_cmpfloat (fj_spec_get_default_timeout (spec), ==, 0);
  g_assert_nonnull (fj_spec_get_warnings (spec));
  g_assert_null (fj_spec_get_warnings (spec)[0]);

  agents = fj_spec_get_agents (spec);
  g_assert_true (agents == fj_spec_get_agents (spec));
  g_assert_cmpuint (g_list_model_get_n_items (agents), ==, 2);
  b = agent_at (spec, 1);
  g_assert_true (b == agent_at (spec, 1));
  g_assert_cmpstr (fj_agent_get_name (b), ==, "b");
  g_assert_cmpstr (fj_agent_get_instructions (b), ==, "Be b.");
  g_assert_cmpstr (fj_agent_get_model (b), ==, FJ_AGENT_DEFAULT_MODEL);
  g_assert_null (fj_agent_get_client (b));
  g_assert_cmpfloat (fj_agent_get_timeout (b), ==, 0);
  g_assert_true (fj_agent_get_stream (b));

  /* A file name is given as is; the length bounds the data. */
  g_assert_true (fj_spec_load_from_data (spec, "{\"agents\": [{\"name\": \"x\"}]} trailing", 28,
                                         "dir/x.json", &error));
  g_assert_no_error (error);
  g_assert_cmpstr (fj_spec_get_path (spec), ==, "dir/x.json");
  g_assert_true (agents == fj_spec_get_agents (spec));
  g_assert_cmpuint (g_list_model_get_n_items (agents), ==, 1);
}

static void
test_spec_failed_load_keeps_previous (void)
{
  g_autoptr(FjSpec) spec = load_ok ("{'input': 'first', 'agents': [{'name': 'a'}]}");
  g_autoptr(GError) error = NULL;
  g_autofree char *sha256 = g_strdup (fj_spec_get_sha256 (spec));

  g_assert_false (fj_spec_load_from_data (spec, "{\"agents\": []}", -1, "t.json", &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_SPEC);
  g_assert_cmpstr (fj_spec_get_input (spec), ==, "first");
  g_assert_cmpstr (fj_spec_get_sha256 (spec), ==, sha256);
  g_assert_cmpuint (g_list_model_get_n_items (fj_spec_get_agents (spec)), ==, 1);
}

static void
test_spec_file_errors (void)
{
  g_autoptr(FjSpec) spec = fj_spec_new (plugins);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("fj-spec-XXXXXX", &error);
  g_autofree char *path = NULL;

  g_assert_no_error (error);
  path = g_build_filename (dir, "missing.json", NULL);
  g_assert_false (fj_spec_load_from_file (spec, path, &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_SPEC);
  g_assert_nonnull (strstr (error->message, "missing.json"));
  g_clear_error (&error);

  g_free (path);
  path = g_build_filename (dir, "q.json", NULL);
  g_file_set_contents (path, "{\n  \"agents\": [ ]\n}\n", -1, &error);
  g_assert_no_error (error);
  g_assert_false (fj_spec_load_from_file (spec, path, &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_SPEC);
  {
    g_autofree char *expected = g_strdup_printf ("%s:2:13: agents: the list is empty: "
                                                 "a fork-join needs at least one agent", path);

    g_assert_cmpstr (error->message, ==, expected);
  }

  g_unlink (path);
  g_rmdir (dir);
}

/* Syntax */

static void
test_spec_syntax_errors (void)
{
  assert_spec_error ("", "t.json:1:1: empty file (expected a JSON object)");
  assert_spec_error (" \n\t \n", "t.json:1:1: empty file (expected a JSON object)");
  assert_spec_error ("{'agents': [{'name': 'a'},]}",
                     "t.json:1:26: agents: trailing comma before ']' (not allowed in JSON)");
  assert_spec_error ("{'agents': [{'name': 'a'}],\n}",
                     "t.json:1:27: trailing comma before '}' (not allowed in JSON)");
  assert_spec_error ("{'agents': [{'name': 'a'}]} {}",
                     "t.json:1:29: unexpected content after the end of the JSON document");
  assert_spec_error ("{'agents': [{'name': 'a'}]}\n,",
                     "t.json:2:1: unexpected content after the end of the JSON document");
  assert_spec_error ("{\n  // the team\n  'agents': []\n}",
                     "t.json:2:3: comments are not allowed in JSON");
  assert_spec_error_raw ("{\"agents\": [{'name': 'a'}]}", -1,
                         "t.json:1:14: agents[0]: single quotes are not JSON; use double quotes");
  assert_spec_error ("{agents: []}", "t.json:1:2: the member name agents needs double quotes");
  assert_spec_error ("{'agents': [{'name': 'a'}]\n 'input': 'x'}",
                     "t.json:2:2: unexpected '\"'; expected ',' or '}'");
  assert_spec_error ("{'agents': [{'name': 'a', 'timeout': 10s}]}",
                     "t.json:1:40: agents[0].timeout: unexpected 's' after a number (write numbers without units)");
  assert_spec_error ("{'min_successes': 02, 'agents': []}",
                     "t.json:1:19: min_successes: a number cannot start with 0 (no leading zeros in JSON)");
  assert_spec_error ("{'min_successes': True}",
                     "t.json:1:19: min_successes: 'True' is not JSON; write true");
  assert_spec_error ("{'input': 'line\nbreak'}",
                     "t.json:1:11: input: the string is not closed on its line (write a line break as \\n)");
  assert_spec_error ("{'input': 'a\\qb'}",
                     "t.json:1:13: input: invalid escape '\\q' in a string");
  assert_spec_error ("{'input': 'a\\ud800'}",
                     "t.json:1:13: input: invalid \\u escape: a high surrogate without its low half");
  assert_spec_error ("{'input': 'a\\u0000'}",
                     "t.json:1:13: input: \\u0000 is not allowed in a string");
  assert_spec_error ("{'agents': [", "t.json:1:12: agents: the array is not closed: the file ends inside it");
  assert_spec_error ("{'input': 'x", "t.json:1:11: input: the string is not closed: the file ends inside it");
  assert_spec_error ("{'input' 'x'}", "t.json:1:10: input: unexpected '\"'; expected ':' after the member name");
  /* Columns count characters, not bytes; a tab is one. */
  assert_spec_error ("{'description': 'héhé ünï', 'x': ,}",
                     "t.json:1:34: x: unexpected ','; expected a value");
  assert_spec_error ("{\r\n\t'x': ?}", "t.json:2:7: x: unexpected '?'; expected a value");
  /* A byte order mark is skipped and takes no column. */
  assert_spec_error_raw ("\xEF\xBB\xBF{\"x\": ?}", -1, "t.json:1:7: x: unexpected '?'; expected a value");
  assert_spec_error_raw ("{\"input\": \"ab\xff\"}", -1, "t.json:1:14: invalid UTF-8");
  assert_spec_error_raw ("{\"input\": \"ab\0\"}", 16, "t.json:1:14: a NUL byte (this is not a text file)");
}

static void
test_spec_duplicate_keys (void)
{
  /* Both places are named; a duplicate does not stop the checks. */
  assert_spec_error ("{\n"
                     "  'agents': [{'name': 'a', 'timeout': 1, 'timeout': 2}],\n"
                     "  'min_successes': 0,\n"
                     "  'agents': []\n"
                     "}",
                     "t.json:2:42: agents[0].timeout: duplicate key \"timeout\" (first at line 2, column 28)\n"
                     "t.json:3:20: min_successes: must be at least 1, got 0\n"
                     "t.json:4:3: agents: duplicate key \"agents\" (first at line 2, column 3)");
}

static void
test_spec_depth_limit (void)
{
  g_autoptr(GString) text = g_string_new ("{\"input\": ");
  g_autoptr(FjSpec) spec = fj_spec_new (plugins);
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 1000; i++)
    g_string_append_c (text, '[');

  g_assert_false (fj_spec_load_from_data (spec, text->str, -1, "deep.json", &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_SPEC);
  g_assert_true (g_str_has_prefix (error->message, "deep.json:1:522: input"));
  g_assert_true (g_str_has_suffix (error->message, ": nested deeper than 512 levels"));
}

/* Field errors */

static void
test_spec_type_errors (void)
{
  assert_spec_error ("{\n"
                     "  'agents': [\n"
                     "    {'name': 'a'},\n"
                     "    {'name': 'b'},\n"
                     "    {'name': 'c', 'timeout': 'fast'}\n"
                     "  ]\n"
                     "}",
                     "t.json:5:30: agents[2].timeout: expected a number of seconds, got \"fast\"");
  assert_spec_error ("[]", "t.json:1:1: expected an object (a fork-join spec), got an array");
  assert_spec_error ("{'agents': {'name': 'a'}}",
                     "t.json:1:12: agents: expected an array of agents, got an object");
  assert_spec_error ("{'agents': ['a']}",
                     "t.json:1:13: agents[0]: expected an object (an agent), got \"a\"");
  assert_spec_error ("{'agents': [{'name': 'a', 'max_tokens': 1.5, 'stream': 'yes', 'model': 7}]}",
                     "t.json:1:41: agents[0].max_tokens: expected a positive integer, got 1.5\n"
                     "t.json:1:56: agents[0].stream: expected true or false, got \"yes\"\n"
                     "t.json:1:72: agents[0].model: expected a model name, got 7");
  assert_spec_error ("{'agents': [{'name': 'a', 'temperature': 3, 'instructions': null}]}",
                     "t.json:1:42: agents[0].temperature: expected a number from 0 to 2, got 3\n"
                     "t.json:1:61: agents[0].instructions: expected a string, got null");
  assert_spec_error ("{'input': ['x'], 'runner': 3, 'client': {'max_retries': -1}, 'agents': [{'name': 'a'}]}",
                     "t.json:1:11: input: expected a string, got an array\n"
                     "t.json:1:28: runner: expected an object (the runner's settings), got 3\n"
                     "t.json:1:57: client.max_retries: must be at least 0, got -1");
  /* Long strings are cut. */
  assert_spec_error ("{'agents': [{'name': 'a', 'timeout': 'a very long time indeed, longer than anyone would wait'}]}",
                     "t.json:1:38: agents[0].timeout: expected a number of seconds, got "
                     "\"a very long time indeed, longer than any…\"");
}

static void
test_spec_negative_times (void)
{
  assert_spec_error ("{'defaults': {'timeout': -1},\n"
                     " 'agents': [{'name': 'a', 'timeout': -0.5}],\n"
                     " 'runner': {'deadline': -10, 'agent_timeout': -2.25},\n"
                     " 'client': {'idle_timeout': -3}}",
                     "t.json:1:26: defaults.timeout: a time cannot be negative, got -1\n"
                     "t.json:2:38: agents[0].timeout: a time cannot be negative, got -0.5\n"
                     "t.json:3:25: runner.deadline: a time cannot be negative, got -10\n"
                     "t.json:3:47: runner.agent_timeout: a time cannot be negative, got -2.25\n"
                     "t.json:4:29: client.idle_timeout: a time cannot be negative, got -3");
}

static void
test_spec_agent_list_errors (void)
{
  assert_spec_error ("{'agents': []}",
                     "t.json:1:12: agents: the list is empty: a fork-join needs at least one agent");
  assert_spec_error ("{'input': 'x'}",
                     "t.json:1:1: agents: missing: a fork-join needs a list of agents");
  assert_spec_error ("{'agents': [{'name': 'a'},\n {'instructions': 'x'},\n {'name': ''}]}",
                     "t.json:2:2: agents[1]: the agent has no \"name\"\n"
                     "t.json:3:11: agents[2].name: expected a name (a non-empty string), got \"\"");
  assert_spec_error ("{'agents': [\n"
                     "  {'name': 'market'},\n"
                     "  {'name': 'tech'},\n"
                     "  {'name': 'market'}\n"
                     "]}",
                     "t.json:4:12: agents[2].name: duplicate agent name \"market\" "
                     "(agents[0] has it, at line 2, column 12)");
}

static void
test_spec_min_successes (void)
{
  assert_spec_error ("{'agents': [{'name': 'a'}], 'min_successes': 0}",
                     "t.json:1:46: min_successes: must be at least 1, got 0");
  assert_spec_error ("{'agents': [{'name': 'a'}, {'name': 'b'}], 'min_successes': 3}",
                     "t.json:1:61: min_successes: 3 is more than the number of agents (2)");
  assert_spec_error ("{'agents': [{'name': 'a'}], 'min_successes': '1'}",
                     "t.json:1:46: min_successes: expected a positive integer, got \"1\"");
}

static void
test_spec_unknown_keys (void)
{
  /* A close key is suggested; otherwise the valid ones are listed. */
  assert_spec_error ("{'agents': [{'name': 'a', 'timout': 5}], 'min_sucesses': 1}",
                     "t.json:1:27: agents[0].timout: unknown key; did you mean \"timeout\"?\n"
                     "t.json:1:42: min_sucesses: unknown key; did you mean \"min_successes\"?");
  assert_spec_error ("{'agents': [{'name': 'a', 'Model': 'x', 'maxTokens': 5}]}",
                     "t.json:1:27: agents[0].Model: unknown key; did you mean \"model\"?\n"
                     "t.json:1:41: agents[0].maxTokens: unknown key; did you mean \"max_tokens\"?");
  assert_spec_error ("{'agents': [{'name': 'a'}], 'runner': {'parallelism': 4}}",
                     "t.json:1:40: runner.parallelism: unknown key; valid keys here: "
                     "max_concurrent, deadline, agent_timeout, mode, cache, poll_interval");
  assert_spec_error ("{'agents': [{'name': 'a'}], 'x y': 1}",
                     "t.json:1:29: [\"x y\"]: unknown key; valid keys here: $schema, description, input, "
                     "defaults, agents, min_successes, runner, policies, synthesis, client, clients, allow_insecure_http");
  /* A key of another level: where it belongs. */
  assert_spec_error ("{'deadline': 5, 'model': 'x',\n"
                     " 'agents': [{'name': 'a', 'min_successes': 1, 'max_retries': 1}]}",
                     "t.json:1:2: deadline: unknown key here; \"deadline\" belongs in \"runner\"\n"
                     "t.json:1:17: model: unknown key here; \"model\" belongs in \"defaults\" or in an agent\n"
                     "t.json:2:27: agents[0].min_successes: unknown key here; \"min_successes\" belongs at the top level\n"
                     "t.json:2:47: agents[0].max_retries: unknown key here; \"max_retries\" belongs in \"client\"");
  assert_spec_error ("{'defaults': {'name': 'all'}, 'agents': [{'name': 'a'}]}",
                     "t.json:1:15: defaults.name: names cannot have a default: each agent names itself");
}

static void
test_spec_named_client (void)
{
  assert_spec_error ("{'agents': [{'name': 'a', 'client': 'local'}]}",
                     "t.json:1:37: agents[0].client: no client named \"local\": the spec has no "
                     "\"clients\" (leave \"client\" out to use the run's client)");
}

#define LOCAL "'local': {'provider': 'openai', 'base_url': 'http://localhost:11434/v1'}"

/* The "clients" map: what it keeps, and who names which client. */
static void
test_spec_clients (void)
{
  g_autoptr(FjSpec) spec = load_ok ("{'clients': {" LOCAL ","
                                    "   'cloud': {'api_key_env': 'FJ_TEST_CLOUD_KEY', 'max_retries': 4,"
                                    "             'base_url': 'https://api.example.com'}},"
                                    " 'defaults': {'client': 'local'},"
                                    " 'agents': [{'name': 'a'}, {'name': 'b', 'client': 'cloud'}],"
                                    " 'synthesis': {'plugin': 'llm', 'client': 'cloud', 'max_turns': 2}}");
  g_auto(GStrv) names = fj_spec_dup_client_names (spec);
  g_autoptr(FjSpec) plain = load_ok ("{'agents': [{'name': 'a'}], 'synthesis': {'plugin': 'concat'}}");
  g_auto(GStrv) none = fj_spec_dup_client_names (plain);

  g_assert_cmpuint (g_strv_length (names), ==, 2);
  g_assert_cmpstr (names[0], ==, "local");
  g_assert_cmpstr (names[1], ==, "cloud");
  g_assert_cmpint (fj_spec_get_client_provider (spec, "local"), ==, FJ_PROVIDER_OPENAI);
  g_assert_cmpint (fj_spec_get_client_provider (spec, "cloud"), ==, FJ_PROVIDER_ANTHROPIC);
  g_assert_cmpstr (fj_spec_get_client_base_url (spec, "local"), ==, "http://localhost:11434/v1");
  g_assert_cmpstr (fj_spec_get_client_base_url (spec, "cloud"), ==, "https://api.example.com");
  g_assert_null (fj_spec_get_client_api_key_env (spec, "local"));
  g_assert_cmpstr (fj_spec_get_client_api_key_env (spec, "cloud"), ==, "FJ_TEST_CLOUD_KEY");
  g_assert_cmpstr (fj_spec_get_agent_client_name (spec, 0), ==, "local");
  g_assert_cmpstr (fj_spec_get_agent_client_name (spec, 1), ==, "cloud");
  g_assert_cmpstr (fj_spec_get_synthesis_client_name (spec), ==, "cloud");
  g_assert_false (fj_spec_get_uses_default_client (spec));
  g_assert_null (fj_spec_get_client (spec, "local"));

  /* null: the run's client, whatever defaults say. */
  {
    g_autoptr(FjSpec) back = load_ok ("{'clients': {" LOCAL "}, 'defaults': {'client': 'local'},"
                                      " 'agents': [{'name': 'a'}, {'name': 'b', 'client': null}]}");

    g_assert_cmpstr (fj_spec_get_agent_client_name (back, 0), ==, "local");
    g_assert_null (fj_spec_get_agent_client_name (back, 1));
    g_assert_true (fj_spec_get_uses_default_client (back));
  }

  g_assert_cmpuint (g_strv_length (none), ==, 0);
  g_assert_null (fj_spec_get_agent_client_name (plain, 0));
  g_assert_null (fj_spec_get_synthesis_client_name (plain));
  g_assert_true (fj_spec_get_uses_default_client (plain));

  /* An llm synthesis without a client of its own uses the run's. */
  {
    g_autoptr(FjSpec) synth = load_ok ("{'clients': {" LOCAL "}, 'agents': [{'name': 'a', 'client': 'local'}],"
                                       " 'synthesis': {'plugin': 'llm'}}");
    g_autoptr(FjSpec) concat = load_ok ("{'clients': {" LOCAL "}, 'agents': [{'name': 'a', 'client': 'local'}],"
                                        " 'synthesis': {'plugin': 'concat'}}");

    g_assert_true (fj_spec_get_uses_default_client (synth));
    g_assert_false (fj_spec_get_uses_default_client (concat));
  }
}

static void
test_spec_client_errors (void)
{
  assert_spec_error ("{'clients': {" LOCAL "}, 'agents': [{'name': 'a', 'client': 'locl'}]}",
                     "t.json:1:124: agents[0].client: no client named \"locl\"; did you mean \"local\"? "
                     "(clients: local)");
  assert_spec_error ("{'clients': {" LOCAL "}, 'agents': [{'name': 'a'}], 'defaults': {'client': 'far'}}",
                     "t.json:1:139: defaults.client: no client named \"far\" (clients: local)");
  assert_spec_error ("{'clients': {" LOCAL "}, 'agents': [{'name': 'a', 'client': 3}]}",
                     "t.json:1:124: agents[0].client: expected the name of a client from \"clients\", got 3");
  assert_spec_error ("{'clients': {" LOCAL "}, 'agents': [{'name': 'a'}], 'synthesis': {'plugin': 'llm', 'client': 'lcal'}}",
                     "t.json:1:157: synthesis.client: no client named \"lcal\"; did you mean \"local\"? "
                     "(clients: local)");
  assert_spec_error ("{'clients': {" LOCAL "}, 'agents': [{'name': 'a'}], 'synthesis': {'plugin': 'concat', 'client': 'local'}}",
                     "t.json:1:150: synthesis.client: the concat synthesizer sends no requests: "
                     "\"client\" does not apply");
  assert_spec_error ("{'clients': [], 'agents': [{'name': 'a', 'client': 'x'}]}",
                     "t.json:1:13: clients: expected an object (client names and their settings), got an array");
  assert_spec_error ("{'clients': {'x': 'openai'}, 'agents': [{'name': 'a'}]}",
                     "t.json:1:19: clients.x: expected an object (the client's provider, base_url, ...), got \"openai\"");
  assert_spec_error ("{'clients': {'': {}}, 'agents': [{'name': 'a'}]}",
                     "t.json:1:14: clients[\"\"]: a client needs a name (a non-empty key)");
  assert_spec_error ("{'clients': {'x': {'provider': 'azure'}}, 'agents': [{'name': 'a'}]}",
                     "t.json:1:32: clients.x.provider: unknown provider \"azure\" (providers: anthropic, openai)");
  assert_spec_error ("{'clients': {'x': {'provider': 'openai', 'base_url': 'http://localhost/v1', "
                     "'api_version': '2023-06-01'}}, 'agents': [{'name': 'a'}]}",
                     "t.json:1:77: clients.x.api_version: \"api_version\" is the anthropic-version header: "
                     "an openai client sends none");
  assert_spec_error ("{'clients': {'x': {'base_url': 'ftp://example.com'}}, 'agents': [{'name': 'a'}]}",
                     "t.json:1:32: clients.x.base_url: expected an http:// or https:// URL with a host, "
                     "got \"ftp://example.com\"");
  /* A key pasted instead of a variable's name is never repeated. */
  assert_spec_error ("{'clients': {'x': {'api_key_env': 'sk-ant-secret-123'}}, 'agents': [{'name': 'a'}]}",
                     "t.json:1:35: clients.x.api_key_env: expected the name of an environment variable "
                     "(letters, digits and _), not the key itself");
  assert_spec_error ("{'clients': {'x': {'modle': 'm', 'max_retries': -1}}, 'agents': [{'name': 'a'}]}",
                     "t.json:1:20: clients.x.modle: unknown key; valid keys here: provider, base_url, "
                     "api_key_env, allow_insecure_http, api_version, max_retries, idle_timeout, "
                     "requests_per_minute, input_tokens_per_minute, output_tokens_per_minute\n"
                     "t.json:1:49: clients.x.max_retries: must be at least 0, got -1");
  assert_spec_error ("{'clients': {'x': {}}, 'agents': [{'name': 'a', 'base_url': 'http://localhost'}]}",
                     "t.json:1:49: agents[0].base_url: unknown key here; \"base_url\" belongs in an entry "
                     "of \"clients\"");
  /* A duplicate client name: the JSON's duplicate key. */
  assert_spec_error ("{'clients': {'x': {}, 'x': {}}, 'agents': [{'name': 'a'}]}",
                     "t.json:1:23: clients.x: duplicate key \"x\" (first at line 1, column 14)");
}

/* Plain HTTP off loopback: refused at load unless the client or the
 * spec allows it, which is a warning. */
static void
test_spec_client_insecure_http (void)
{
  assert_spec_error ("{'clients': {'lab': {'provider': 'openai', 'base_url': 'http://10.0.0.5/v1'}},"
                     " 'agents': [{'name': 'a'}]}",
                     "t.json:1:56: clients.lab.base_url: refusing the plain-HTTP base URL "
                     "http://10.0.0.5/v1: it is not loopback, and the key and the prompts would travel "
                     "unencrypted; use https, or set \"allow_insecure_http\": true in this client");

  {
    g_autoptr(FjSpec) own = load_ok ("{'clients': {'lab': {'provider': 'openai', 'base_url': 'http://10.0.0.5/v1',"
                                     " 'allow_insecure_http': true}}, 'agents': [{'name': 'a', 'client': 'lab'}]}");
    g_autoptr(FjSpec) top = load_ok ("{'allow_insecure_http': true, 'clients': {'lab': {'provider': 'openai',"
                                     " 'base_url': 'http://10.0.0.5/v1'}}, 'agents': [{'name': 'a', 'client': 'lab'}]}");
    g_autoptr(FjForkJoinTask) task = NULL;
    g_autoptr(GError) error = NULL;
    const char * const *warnings = fj_spec_get_warnings (own);

    g_assert_nonnull (warnings[0]);
    g_assert_null (warnings[1]);
    g_assert_nonnull (strstr (warnings[0], "client \"lab\""));

    task = fj_spec_create_task (own, NULL, &error);
    g_assert_no_error (error);
    g_assert_true (fj_client_get_allow_insecure_http (fj_spec_get_client (own, "lab")));
    g_clear_object (&task);
    task = fj_spec_create_task (top, NULL, &error);
    g_assert_no_error (error);
    g_assert_true (fj_client_get_allow_insecure_http (fj_spec_get_client (top, "lab")));
  }
}

/* The clients a task is made with: made from the spec, with their own
 * settings and keys, or given by the caller. */
static void
test_spec_client_create_task (void)
{
  g_autoptr(FjSpec) spec = load_ok ("{'clients': {'local': {'provider': 'openai', 'base_url': 'http://localhost:11434/v1',"
                                    "                       'max_retries': 1, 'requests_per_minute': 30},"
                                    "   'keyed': {'provider': 'openai', 'base_url': 'http://127.0.0.1:9/v1',"
                                    "             'api_key_env': 'FJ_TEST_KEYED_KEY'},"
                                    "   'cloud': {'api_version': '2026-10-21', 'base_url': 'http://127.0.0.1:9'}},"
                                    " 'client': {'max_retries': 7},"
                                    " 'agents': [{'name': 'a', 'client': 'local'}, {'name': 'b'},"
                                    "            {'name': 'c', 'client': 'keyed'}],"
                                    " 'synthesis': {'plugin': 'llm', 'client': 'cloud'}}");
  g_autoptr(FjClient) run_client = fj_client_new_for_base_url ("http://127.0.0.1:9");
  g_autoptr(FjClient) given = fj_client_new_for_base_url ("http://127.0.0.1:9/v1");
  g_autoptr(FjForkJoinTask) task = NULL;
  g_autoptr(FjForkJoinTask) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(FjClient) synthesis_client = NULL;
  FjClient *local;
  FjClient *keyed;
  FjClient *cloud;

  /* The key's variable is missing, then empty: named, never a key. */
  g_unsetenv ("FJ_TEST_KEYED_KEY");
  g_setenv ("ANTHROPIC_API_KEY", "sk-ant-from-env", TRUE);
  g_assert_null (fj_spec_create_task (spec, run_client, &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_AUTHENTICATION);
  g_assert_cmpstr (error->message, ==, "no credentials for client \"keyed\": the environment variable "
                   "FJ_TEST_KEYED_KEY (its \"api_key_env\") is not set");
  g_clear_error (&error);
  /* A failure leaves the agents as they were. */
  g_assert_null (fj_agent_get_client (agent_at (spec, 0)));
  g_setenv ("FJ_TEST_KEYED_KEY", "", TRUE);
  g_assert_null (fj_spec_create_task (spec, run_client, &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_AUTHENTICATION);
  g_assert_nonnull (strstr (error->message, "FJ_TEST_KEYED_KEY (its \"api_key_env\") is empty"));
  g_clear_error (&error);

  g_setenv ("FJ_TEST_KEYED_KEY", "sk-keyed-secret", TRUE);
  task = fj_spec_create_task (spec, run_client, &error);
  g_assert_no_error (error);

  local = fj_spec_get_client (spec, "local");
  keyed = fj_spec_get_client (spec, "keyed");
  cloud = fj_spec_get_client (spec, "cloud");
  g_assert_nonnull (local);
  g_assert_true (fj_agent_get_client (agent_at (spec, 0)) == local);
  g_assert_null (fj_agent_get_client (agent_at (spec, 1)));
  g_assert_true (fj_agent_get_client (agent_at (spec, 2)) == keyed);
  g_object_get (fj_fork_join_task_get_synthesizer (task), "client", &synthesis_client, NULL);
  g_assert_true (synthesis_client == cloud);

  /* Each its own endpoint and settings; the run's client keeps its own. */
  g_assert_cmpint (fj_client_get_provider (local), ==, FJ_PROVIDER_OPENAI);
  g_assert_cmpstr (fj_client_get_base_url (local), ==, "http://localhost:11434/v1");
  g_assert_cmpuint (fj_client_get_max_retries (local), ==, 1);
  g_assert_cmpuint (fj_client_get_requests_per_minute (local), ==, 30);
  /* An openai client without api_key_env never gets the Anthropic key. */
  g_assert_false (fj_client_get_has_credentials (local));
  g_assert_true (fj_client_get_has_credentials (keyed));
  g_assert_cmpint (fj_client_get_provider (cloud), ==, FJ_PROVIDER_ANTHROPIC);
  g_assert_cmpstr (fj_client_get_api_version (cloud), ==, "2026-10-21");
  g_assert_true (fj_client_get_has_credentials (cloud));
  g_assert_cmpuint (fj_client_get_max_retries (run_client), ==, 7);
  g_assert_cmpuint (fj_client_get_max_retries (cloud), !=, 7);

  /* The next task sends with the same clients (one budget each). */
  again = fj_spec_create_task (spec, run_client, &error);
  g_assert_no_error (error);
  g_assert_true (fj_spec_get_client (spec, "local") == local);

  /* A given client wins, with the spec's settings applied. */
  fj_spec_set_client (spec, "local", given);
  g_clear_object (&again);
  again = fj_spec_create_task (spec, run_client, &error);
  g_assert_no_error (error);
  g_assert_true (fj_spec_get_client (spec, "local") == given);
  g_assert_true (fj_agent_get_client (agent_at (spec, 0)) == given);
  g_assert_cmpuint (fj_client_get_max_retries (given), ==, 1);
  fj_spec_set_client (spec, "local", NULL);
  g_assert_true (fj_spec_get_client (spec, "local") == local);

  /* An anthropic client without api_key_env and no key in the environment. */
  g_unsetenv ("ANTHROPIC_API_KEY");
  g_unsetenv ("ANTHROPIC_AUTH_TOKEN");
  {
    g_autoptr(FjSpec) bare = load_ok ("{'clients': {'cloud': {'base_url': 'http://127.0.0.1:9'}},"
                                      " 'agents': [{'name': 'a', 'client': 'cloud'}]}");

    g_assert_null (fj_spec_create_task (bare, NULL, &error));
    g_assert_error (error, FJ_ERROR, FJ_ERROR_AUTHENTICATION);
    g_assert_cmpstr (error->message, ==, "no credentials for client \"cloud\" (anthropic): give it "
                     "\"api_key_env\", or set ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN");
    g_assert_null (strstr (error->message, "sk-"));
    g_clear_error (&error);
  }
  g_unsetenv ("FJ_TEST_KEYED_KEY");
}

/* The mixed fork-join of the issue: two agents on an OpenAI-compatible
 * endpoint, one and the synthesis on the Anthropic one, against one
 * simulator that speaks both. */
static void
test_spec_mixed_run (void)
{
  g_autofree char *spec_path = g_build_filename (g_getenv ("FJ_DATA_DIR"), "examples", "mixed-providers.json", NULL);
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (NULL);
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjClient) openai = NULL;
  g_autoptr(FjSpec) spec = fj_spec_new (plugins);
  g_autoptr(FjForkJoinTask) task = NULL;
  g_autoptr(FjForkJoinResult) result = NULL;
  g_autoptr(GAsyncResult) async_result = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) names = NULL;
  g_autofree char *url = fj_simulator_dup_base_url (sim);
  g_autofree char *openai_url = g_strconcat (url, "/v1", NULL);
  GPtrArray *results;

  fj_spec_load_from_file (spec, spec_path, &error);
  g_assert_no_error (error);
  names = fj_spec_dup_client_names (spec);
  g_assert_cmpuint (g_strv_length (names), ==, 1);
  g_assert_cmpint (fj_spec_get_client_provider (spec, names[0]), ==, FJ_PROVIDER_OPENAI);

  openai = fj_client_new_for_base_url (openai_url);
  fj_client_set_provider (openai, FJ_PROVIDER_OPENAI);
  fj_client_set_api_key (openai, FJ_TEST_API_KEY);
  fj_spec_set_client (spec, names[0], openai);

  task = fj_spec_create_task (spec, client, &error);
  g_assert_no_error (error);
  fj_fork_join_task_run_async (task, fj_spec_get_agents (spec), fj_spec_get_input (spec), NULL,
                               fj_test_async_result_cb, &async_result);
  fj_test_wait_result (&async_result, 60);
  result = fj_fork_join_task_run_finish (task, async_result, &error);
  g_assert_no_error (error);

  g_assert_cmpint (fj_fork_join_result_get_status (result), ==, FJ_FORK_JOIN_STATUS_COMPLETE);
  results = fj_fork_join_result_get_results (result);
  g_assert_cmpuint (results->len, ==, 3);
  g_assert_nonnull (fj_fork_join_result_get_output (result));

  /* Both APIs were spoken: two agents on openai, one agent and the
   * synthesis on anthropic. */
  {
    g_autoptr(JsonNode) stats = fj_simulator_get_stats (sim);
    JsonObject *api = json_object_get_object_member (json_node_get_object (stats), "api");

    g_assert_nonnull (api);
    g_assert_cmpint (json_object_get_int_member (api, "openai"), ==, 2);
    g_assert_cmpint (json_object_get_int_member (api, "anthropic"), ==, 2);
  }
}

static void
test_spec_plugin_errors (void)
{
  assert_spec_error ("{'agents': [{'name': 'a'}], 'synthesis': {'plugin': 'lm'}}",
                     "t.json:1:53: synthesis.plugin: no synthesizer plugin named 'lm' (did you mean 'llm'?); "
                     "known synthesizer plugins: concat, llm, vote");
  assert_spec_error ("{'agents': [{'name': 'a'}], 'policies': [{'plugin': 'quorum'}, {'plugin': 'nope'}]}",
                     "t.json:1:75: policies[1].plugin: no policy plugin named 'nope'; "
                     "known policy plugins: budget, quorum");
  assert_spec_error ("{'agents': [{'name': 'a'}], 'policies': [{'early_exit': true}]}",
                     "t.json:1:42: policies[0]: missing \"plugin\", the name of the policy plugin");
  assert_spec_error ("{'agents': [{'name': 'a'}], 'synthesis': 'llm'}",
                     "t.json:1:42: synthesis: expected an object with \"plugin\" (or null for no synthesis), got \"llm\"");
  /* Options: an unknown one with a did-you-mean, a wrong value with the
   * registry's message, each at its place. */
  assert_spec_error ("{'agents': [{'name': 'a'}],\n"
                     " 'synthesis': {'plugin': 'llm', 'modle': 'x', 'max_tokens': 'many'},\n"
                     " 'policies': [{'plugin': 'quorum', 'losers': 'some', 'verbose': true}]}",
                     "t.json:2:33: synthesis.modle: unknown option of the llm synthesizer plugin; did you mean \"model\"?\n"
                     "t.json:2:61: synthesis.max_tokens: llm: option 'max_tokens' must be an unsigned integer, not a string\n"
                     "t.json:3:46: policies[0].losers: quorum: option 'losers' must be one of 'cancel', 'finish', not a string\n"
                     "t.json:3:54: policies[0].verbose: unknown option of the quorum policy plugin; "
                     "valid options: early_exit, fail_fast, losers");
  assert_spec_error ("{'agents': [{'name': 'a'}], 'synthesis': {'plugin': 'concat', 'heading_level': 99}}",
                     "t.json:1:80: synthesis.heading_level: concat: value of option 'heading_level' is out of range");
}

static void
test_spec_tool_errors (void)
{
  g_autofree char *text = dq ("{'agents': [{'name': 'a', 'tools': ['ecko', 3, {'plugin': 'echo', 'prefx': '>'}]}]}");

  assert_spec_error_in (echo_only, text, -1,
                        "t.json:1:37: agents[0].tools[0]: no tool plugin named 'ecko' (did you mean 'echo'?); "
                        "known tool plugins: echo\n"
                        "t.json:1:45: agents[0].tools[1]: expected a tool name or an object with \"plugin\", got 3\n"
                        "t.json:1:67: agents[0].tools[2].prefx: unknown option of the echo tool plugin; "
                        "did you mean \"prefix\"?");
  assert_spec_error ("{'defaults': {'tools': 'echo'}, 'agents': [{'name': 'a', 'tools': ['echo', 'echo']}]}",
                     "t.json:1:24: defaults.tools: expected an array of tools, got \"echo\"\n"
                     "t.json:1:76: agents[0].tools[1]: a tool named \"echo\" is already in the list");
}

/* Of FjTool's own properties, a spec may set the name and the
 * description (two read_file tools with different roots need two names);
 * the input schema and the thread it runs on are the plugin's. */
static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

static void
assert_tool_options (FjPluginRegistry *registry,
                     const char       *plugin,
                     const char       *expected)
{
  g_autoptr(GListModel) infos = fj_plugin_registry_list (registry);
  gboolean found = FALSE;

  for (guint i = 0; i < g_list_model_get_n_items (infos); i++)
    {
      g_autoptr(FjPluginInfo) info = g_list_model_get_item (infos, i);
      g_autoptr(GPtrArray) names = g_ptr_array_new ();
      g_autofree char *joined = NULL;
      JsonArray *options;

      if (fj_plugin_info_get_kind (info) != FJ_PLUGIN_KIND_TOOL ||
          g_strcmp0 (fj_plugin_info_get_name (info), plugin) != 0)
        continue;

      found = TRUE;
      options = fj_plugin_info_get_options (info);
      for (guint j = 0; j < json_array_get_length (options); j++)
        {
          JsonObject *option = json_array_get_object_element (options, j);
          const char *name = json_object_get_string_member (option, "name");

          g_ptr_array_add (names, (gpointer) name);
          /* FjTool's two are described in the listing. */
          if (g_str_equal (name, "name") || g_str_equal (name, "description"))
            g_assert_cmpstr (json_object_get_string_member (option, "description"), !=, "");
        }
      g_ptr_array_sort (names, compare_names);
      g_ptr_array_add (names, NULL);
      joined = g_strjoinv (",", (char **) names->pdata);
      g_assert_cmpstr (joined, ==, expected);
    }

  g_assert_true (found);
}

static void
test_spec_tool_base_properties (void)
{
  static const char * const internal[] = { "input_schema", "main_thread" };
  g_autofree char *text = dq ("{'agents': [{'name': 'a', 'tools': [{'plugin': 'echo',\n"
                              " 'name': 'x', 'description': 'd', 'input_schema': '{}', 'main_thread': true,\n"
                              " 'prefix': '>'}]}]}");
  g_autofree char *renamed = dq ("{'agents': [{'name': 'a', 'tools': [{'plugin': 'echo', 'prefix': '>'},\n"
                                 " {'plugin': 'echo', 'name': 'echo2', 'description': 'Echoes twice'}]}]}");
  g_autoptr(FjSpec) spec = fj_spec_new (echo_only);
  g_autoptr(GError) error = NULL;
  g_autoptr(FjTool) first = NULL;
  g_autoptr(FjTool) second = NULL;
  GListModel *tools;

  assert_tool_options (echo_only, "echo", "description,name,prefix");
  if (fj_plugin_registry_lookup (shipped, FJ_PLUGIN_KIND_TOOL, "clock") != G_TYPE_INVALID)
    assert_tool_options (shipped, "clock", "description,name,time_zone");
  if (fj_plugin_registry_lookup (shipped, FJ_PLUGIN_KIND_TOOL, "read_file") != G_TYPE_INVALID)
    assert_tool_options (shipped, "read_file", "description,max_bytes,name,root");

  assert_spec_error_in (echo_only, text, -1,
                        "t.json:2:35: agents[0].tools[0].input_schema: unknown option of the echo tool plugin; "
                        "valid options: description, name, prefix\n"
                        "t.json:2:57: agents[0].tools[0].main_thread: unknown option of the echo tool plugin; "
                        "valid options: description, name, prefix");

  for (guint i = 0; i < G_N_ELEMENTS (internal); i++)
    {
      g_autoptr(JsonObject) options = json_object_new ();
      g_autoptr(GObject) tool = NULL;
      g_autoptr(GError) create_error = NULL;

      json_object_set_string_member (options, internal[i], "x");
      tool = fj_plugin_registry_create (echo_only, FJ_PLUGIN_KIND_TOOL, "echo", options, &create_error);
      g_assert_null (tool);
      g_assert_error (create_error, FJ_ERROR, FJ_ERROR_PLUGIN);
      g_assert_nonnull (strstr (create_error->message, internal[i]));
    }

  /* A renamed second copy of a tool loads, under its own name. */
  fj_spec_load_from_data (spec, renamed, -1, "t.json", &error);
  g_assert_no_error (error);
  tools = fj_agent_get_tools (agent_at (spec, 0));
  g_assert_cmpuint (g_list_model_get_n_items (tools), ==, 2);
  first = g_list_model_get_item (tools, 0);
  second = g_list_model_get_item (tools, 1);
  g_assert_cmpstr (fj_tool_get_name (first), ==, "echo");
  g_assert_cmpstr (fj_tool_get_name (second), ==, "echo2");
  g_assert_cmpstr (fj_tool_get_description (second), ==, "Echoes twice");
}

static void
test_spec_every_problem_at_once (void)
{
  assert_spec_error ("{\n"
                     "  'inputt': 'x',\n"
                     "  'agents': [\n"
                     "    {'name': 'a', 'timeout': 'fast'},\n"
                     "    {'name': 'a', 'max_turns': 0}\n"
                     "  ],\n"
                     "  'min_successes': 5,\n"
                     "  'synthesis': {'plugin': 'nothing'}\n"
                     "}",
                     "t.json:2:3: inputt: unknown key; did you mean \"input\"?\n"
                     "t.json:4:30: agents[0].timeout: expected a number of seconds, got \"fast\"\n"
                     "t.json:5:14: agents[1].name: duplicate agent name \"a\" (agents[0] has it, at line 4, column 14)\n"
                     "t.json:5:32: agents[1].max_turns: must be at least 1, got 0\n"
                     "t.json:7:20: min_successes: 5 is more than the number of agents (2)\n"
                     "t.json:8:27: synthesis.plugin: no synthesizer plugin named 'nothing'; "
                     "known synthesizer plugins: concat, llm, vote");
}

/* Defaults, timeouts, synthesis */

static void
test_spec_defaults (void)
{
  g_autoptr(FjSpec) spec = load_ok ("{'defaults': {'model': 'claude-sonnet-5-5', 'instructions': 'Be brief.',"
                                    "              'max_tokens': 512, 'temperature': 0.25, 'timeout': 30,"
                                    "              'max_turns': 3, 'stream': false},"
                                    " 'agents': ["
                                    "   {'name': 'plain'},"
                                    "   {'name': 'own', 'model': 'claude-haiku-5-5', 'instructions': 'Be long.',"
                                    "    'max_tokens': 2048, 'temperature': 1, 'timeout': 7.5, 'max_turns': 1,"
                                    "    'stream': true}"
                                    " ]}");
  FjAgent *plain = agent_at (spec, 0);
  FjAgent *own = agent_at (spec, 1);

  g_assert_cmpstr (fj_agent_get_model (plain), ==, "claude-sonnet-5-5");
  g_assert_cmpstr (fj_agent_get_instructions (plain), ==, "Be brief.");
  g_assert_cmpuint (fj_agent_get_max_tokens (plain), ==, 512);
  g_assert_cmpfloat (fj_agent_get_temperature (plain), ==, 0.25);
  g_assert_cmpfloat (fj_agent_get_timeout (plain), ==, 30);
  g_assert_cmpuint (fj_agent_get_max_turns (plain), ==, 3);
  g_assert_false (fj_agent_get_stream (plain));

  g_assert_cmpstr (fj_agent_get_model (own), ==, "claude-haiku-5-5");
  g_assert_cmpstr (fj_agent_get_instructions (own), ==, "Be long.");
  g_assert_cmpuint (fj_agent_get_max_tokens (own), ==, 2048);
  g_assert_cmpfloat (fj_agent_get_temperature (own), ==, 1.0);
  g_assert_cmpfloat (fj_agent_get_timeout (own), ==, 7.5);
  g_assert_cmpuint (fj_agent_get_max_turns (own), ==, 1);
  g_assert_true (fj_agent_get_stream (own));

  g_assert_cmpfloat (fj_spec_get_default_timeout (spec), ==, 30);
}

static void
test_spec_set_default_timeout (void)
{
  g_autoptr(FjSpec) spec = load_ok ("{'defaults': {'timeout': 60},"
                                    " 'agents': [{'name': 'a'}, {'name': 'b', 'timeout': 5}, {'name': 'c'}]}");
  g_autoptr(FjSpec) bare = load_ok ("{'agents': [{'name': 'a'}, {'name': 'b', 'timeout': 0}]}");

  g_assert_cmpfloat (fj_agent_get_timeout (agent_at (spec, 0)), ==, 60);
  g_assert_cmpfloat (fj_agent_get_timeout (agent_at (spec, 1)), ==, 5);

  fj_spec_set_default_timeout (spec, 12.5);
  g_assert_cmpfloat (fj_spec_get_default_timeout (spec), ==, 12.5);
  g_assert_cmpfloat (fj_agent_get_timeout (agent_at (spec, 0)), ==, 12.5);
  g_assert_cmpfloat (fj_agent_get_timeout (agent_at (spec, 1)), ==, 5);
  g_assert_cmpfloat (fj_agent_get_timeout (agent_at (spec, 2)), ==, 12.5);

  /* Without defaults.timeout, and an agent's own 0 (none) still wins. */
  g_assert_cmpfloat (fj_spec_get_default_timeout (bare), ==, 0);
  fj_spec_set_default_timeout (bare, 3);
  g_assert_cmpfloat (fj_agent_get_timeout (agent_at (bare, 0)), ==, 3);
  g_assert_cmpfloat (fj_agent_get_timeout (agent_at (bare, 1)), ==, 0);

  /* The property is the same thing. */
  g_object_set (bare, "default-timeout", 4.0, NULL);
  g_assert_cmpfloat (fj_agent_get_timeout (agent_at (bare, 0)), ==, 4);
}

static char *
synthesizer_string (FjForkJoinTask *task,
                    const char     *property)
{
  char *value = NULL;

  g_object_get (fj_fork_join_task_get_synthesizer (task), property, &value, NULL);

  return value;
}

static guint
synthesizer_uint (FjForkJoinTask *task,
                  const char     *property)
{
  guint value = 0;

  g_object_get (fj_fork_join_task_get_synthesizer (task), property, &value, NULL);

  return value;
}

static void
test_spec_synthesis_defaults (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FjSpec) inherits = load_ok ("{'defaults': {'model': 'claude-opus-5-5', 'max_tokens': 300,"
                                        "              'max_turns': 2, 'timeout': 9, 'temperature': 0.5},"
                                        " 'agents': [{'name': 'a'}],"
                                        " 'synthesis': {'plugin': 'llm', 'max_tokens': 4000}}");
  g_autoptr(FjSpec) plain = load_ok ("{'agents': [{'name': 'a'}], 'synthesis': {'plugin': 'llm'}}");
  g_autoptr(FjSpec) vote = load_ok ("{'defaults': {'model': 'claude-opus-5-5', 'max_tokens': 300},"
                                    " 'agents': [{'name': 'a'}], 'synthesis': {'plugin': 'vote', 'min_share': 0.5}}");
  g_autoptr(FjForkJoinTask) task = NULL;
  g_autoptr(FjForkJoinTask) plain_task = NULL;
  g_autoptr(FjForkJoinTask) vote_task = NULL;
  g_autofree char *model = NULL;
  g_autofree char *plain_model = NULL;
  double min_share = 0;

  /* model and max_turns from defaults; its own max_tokens wins; llm has
   * no temperature or timeout option, so those are not passed. */
  task = fj_spec_create_task (inherits, NULL, &error);
  g_assert_no_error (error);
  model = synthesizer_string (task, "model");
  g_assert_cmpstr (model, ==, "claude-opus-5-5");
  g_assert_cmpuint (synthesizer_uint (task, "max-tokens"), ==, 4000);
  g_assert_cmpuint (synthesizer_uint (task, "max-turns"), ==, 2);

  /* Nothing in defaults: the plugin's own defaults. */
  plain_task = fj_spec_create_task (plain, NULL, &error);
  g_assert_no_error (error);
  plain_model = synthesizer_string (plain_task, "model");
  g_assert_cmpstr (plain_model, ==, FJ_AGENT_DEFAULT_MODEL);
  g_assert_cmpuint (synthesizer_uint (plain_task, "max-tokens"), ==, 1024);
  g_assert_cmpuint (synthesizer_uint (plain_task, "max-turns"), ==, 5);

  /* A synthesizer without those options takes none of them. */
  vote_task = fj_spec_create_task (vote, NULL, &error);
  g_assert_no_error (error);
  g_object_get (fj_fork_join_task_get_synthesizer (vote_task), "min-share", &min_share, NULL);
  g_assert_cmpfloat (min_share, ==, 0.5);
  g_assert_cmpstr (fj_spec_get_synthesis_plugin (vote), ==, "vote");
}

static void
test_spec_tools (void)
{
  g_autoptr(FjSpec) spec = load_ok ("{'defaults': {'tools': [{'plugin': 'echo', 'prefix': '> '}]},"
                                    " 'agents': [{'name': 'a'}, {'name': 'b'},"
                                    "            {'name': 'c', 'tools': ['echo']},"
                                    "            {'name': 'd', 'tools': []}]}");
  GListModel *a_tools = fj_agent_get_tools (agent_at (spec, 0));
  GListModel *b_tools = fj_agent_get_tools (agent_at (spec, 1));
  GListModel *c_tools = fj_agent_get_tools (agent_at (spec, 2));
  g_autoptr(FjTool) a_echo = NULL;
  g_autoptr(FjTool) b_echo = NULL;
  g_autoptr(FjTool) c_echo = NULL;

  g_assert_cmpuint (g_list_model_get_n_items (a_tools), ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (b_tools), ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (c_tools), ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (fj_agent_get_tools (agent_at (spec, 3))), ==, 0);

  a_echo = g_list_model_get_item (a_tools, 0);
  b_echo = g_list_model_get_item (b_tools, 0);
  c_echo = g_list_model_get_item (c_tools, 0);
  /* Each agent has its own instance, made with the entry's options. */
  g_assert_true (a_echo != b_echo);
  g_assert_true (TEST_IS_ECHO_TOOL (a_echo));
  g_assert_cmpstr (TEST_ECHO_TOOL (a_echo)->prefix, ==, "> ");
  g_assert_cmpstr (TEST_ECHO_TOOL (b_echo)->prefix, ==, "> ");
  g_assert_null (TEST_ECHO_TOOL (c_echo)->prefix);
  g_assert_true (fj_agent_find_tool (agent_at (spec, 2), "echo") == c_echo);
}

/* runner.mode, runner.cache, runner.poll_interval */

static void
test_spec_runner_modes (void)
{
  g_autoptr(FjSpec) plain = load_ok ("{'agents': [{'name': 'a'}]}");
  g_autoptr(FjSpec) spec = load_ok ("{'agents': [{'name': 'a'}, {'name': 'b', 'tools': []}],"
                                    " 'runner': {'mode': 'batch', 'cache': 'shared-input',"
                                    "            'poll_interval': 0.5}}");
  g_autoptr(FjSpec) tools = load_ok ("{'defaults': {'tools': ['echo']},"
                                     " 'agents': [{'name': 'a'}, {'name': 'b', 'tools': []},"
                                     "            {'name': 'c', 'tools': ['echo']}]}");
  g_autoptr(FjClient) client = fj_client_new_for_base_url ("http://127.0.0.1:9");
  g_autoptr(FjForkJoinTask) task = NULL;
  g_autoptr(GError) error = NULL;
  FjAgentRunner *runner;

  g_assert_cmpint (fj_spec_get_mode (plain), ==, FJ_RUN_MODE_LIVE);
  g_assert_cmpint (fj_spec_get_cache (plain), ==, FJ_CACHE_MODE_NONE);
  g_assert_cmpfloat (fj_spec_get_poll_interval (plain), ==, 0);

  g_assert_cmpint (fj_spec_get_mode (spec), ==, FJ_RUN_MODE_BATCH);
  g_assert_cmpint (fj_spec_get_cache (spec), ==, FJ_CACHE_MODE_SHARED_INPUT);
  g_assert_cmpfloat (fj_spec_get_poll_interval (spec), ==, 0.5);

  task = fj_spec_create_task (spec, client, &error);
  g_assert_no_error (error);
  runner = fj_fork_join_task_get_runner (task);
  g_assert_cmpint (fj_agent_runner_get_mode (runner), ==, FJ_RUN_MODE_BATCH);
  g_assert_cmpint (fj_agent_runner_get_cache (runner), ==, FJ_CACHE_MODE_SHARED_INPUT);
  g_assert_cmpfloat (fj_agent_runner_get_batch_poll_interval (runner), ==, 0.5);

  /* An empty tools list is no tools; the others are named where they get
   * their tools. */
  g_assert_true (fj_spec_set_mode (spec, FJ_RUN_MODE_LIVE, &error));
  g_assert_no_error (error);
  g_assert_cmpint (fj_spec_get_mode (spec), ==, FJ_RUN_MODE_LIVE);
  g_assert_true (fj_spec_set_mode (spec, FJ_RUN_MODE_BATCH, &error));
  g_assert_no_error (error);

  g_assert_false (fj_spec_set_mode (tools, FJ_RUN_MODE_BATCH, &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_SPEC);
  g_assert_cmpstr (error->message, ==,
                   "t.json:1:24: defaults.tools: agent \"a\" has tools, and batch mode runs each "
                   "agent as one request without tools\n"
                   "t.json:1:123: agents[2].tools: agent \"c\" has tools, and batch mode runs each "
                   "agent as one request without tools");
  g_assert_cmpint (fj_spec_get_mode (tools), ==, FJ_RUN_MODE_LIVE);
}

static void
test_spec_runner_mode_errors (void)
{
  assert_spec_error ("{'agents': [{'name': 'a'}], 'runner': {'mode': 'batched'}}",
                     "t.json:1:48: runner.mode: unknown value \"batched\"; did you mean \"batch\"? "
                     "(one of live, batch)");
  assert_spec_error ("{'agents': [{'name': 'a'}], 'runner': {'cache': 7}}",
                     "t.json:1:49: runner.cache: expected one of none, shared-input, got 7");
  assert_spec_error ("{'agents': [{'name': 'a'}], 'runner': {'mode': 'batch', 'poll_interval': 0}}",
                     "t.json:1:74: runner.poll_interval: expected a number of seconds greater "
                     "than 0, got 0");
  assert_spec_error ("{'agents': [{'name': 'a', 'tools': ['echo']}], 'runner': {'mode': 'batch'}}",
                     "t.json:1:36: agents[0].tools: agent \"a\" has tools, and batch mode runs "
                     "each agent as one request without tools");
}

/* Warnings */

static void
test_spec_model_warnings (void)
{
  static const char *json =
    "{'defaults': {'model': 'claude-sonnet-4-5'},\n"
    " 'agents': [{'name': 'a'},\n"
    "            {'name': 'b', 'model': 'claude-opus-4-5'},\n"
    "            {'name': 'c', 'model': 'claude-mythos-preview'},\n"
    "            {'name': 'd', 'model': 'claude-haiku-5.5'},\n"
    "            {'name': 'e', 'model': 'my-local-model'}],\n"
    " 'synthesis': {'plugin': 'llm', 'model': 'claude-sonnet-4-5'}}";
  g_autoptr(FjSpec) spec = NULL;
  const char * const *warnings;

  _fj_spec_set_today ("2026-11-29");
  spec = load_ok (json);
  warnings = fj_spec_get_warnings (spec);
  g_assert_cmpuint (g_strv_length ((GStrv) warnings), ==, 5);
  g_assert_cmpstr (warnings[0], ==, "t.json:1:24: defaults.model: claude-sonnet-4-5 reaches its end of life on 2026-11-30 (in 1 day)");
  g_assert_cmpstr (warnings[1], ==, "t.json:3:36: agents[1].model: claude-opus-4-5 reaches its end of life on 2027-01-22 (in 54 days)");
  g_assert_cmpstr (warnings[2], ==, "t.json:4:36: agents[2].model: claude-mythos-preview reached its end of life on 2026-06-30 (152 days ago)");
  g_assert_cmpstr (warnings[3], ==, "t.json:5:36: agents[3].model: claude-haiku-5.5 is not a known model; did you mean claude-haiku-5-5?");
  g_assert_cmpstr (warnings[4], ==, "t.json:7:42: synthesis.model: claude-sonnet-4-5 reaches its end of life on 2026-11-30 (in 1 day)");
  g_clear_object (&spec);

  /* More than 60 days ahead: nothing; 60 days: a warning; on the day:
   * today. */
  _fj_spec_set_today ("2026-09-30");
  spec = load_ok ("{'agents': [{'name': 'a', 'model': 'claude-sonnet-4-5'}, {'name': 'b', 'model': 'claude-opus-4-5'}]}");
  g_assert_null (fj_spec_get_warnings (spec)[0]);
  g_clear_object (&spec);

  _fj_spec_set_today ("2026-10-01");
  spec = load_ok ("{'agents': [{'name': 'a', 'model': 'claude-sonnet-4-5'}, {'name': 'b', 'model': 'claude-opus-4-5'}]}");
  g_assert_cmpstr (fj_spec_get_warnings (spec)[0], ==,
                   "t.json:1:36: agents[0].model: claude-sonnet-4-5 reaches its end of life on 2026-11-30 (in 60 days)");
  g_assert_null (fj_spec_get_warnings (spec)[1]);
  g_clear_object (&spec);

  _fj_spec_set_today ("2026-11-30");
  spec = load_ok ("{'agents': [{'name': 'a', 'model': 'claude-sonnet-4-5'}]}");
  g_assert_cmpstr (fj_spec_get_warnings (spec)[0], ==,
                   "t.json:1:36: agents[0].model: claude-sonnet-4-5 reaches its end of life today (2026-11-30)");
  g_assert_null (fj_spec_get_warnings (spec)[1]);

  _fj_spec_set_today (NULL);
}

/* Tasks */

static void
test_spec_create_task (void)
{
  g_autoptr(FjSpec) spec = load_ok ("{'agents': [{'name': 'a'}, {'name': 'b'}, {'name': 'c'}],"
                                    " 'min_successes': 2,"
                                    " 'runner': {'max_concurrent': 2, 'deadline': 30.5, 'agent_timeout': 10},"
                                    " 'policies': [{'plugin': 'quorum', 'early_exit': true}, {'plugin': 'budget'}],"
                                    " 'synthesis': {'plugin': 'concat', 'heading_level': 3},"
                                    " 'client': {'api_version': '2026-10-21', 'max_retries': 5,"
                                    "            'idle_timeout': 45, 'requests_per_minute': 50,"
                                    "            'input_tokens_per_minute': 1000, 'output_tokens_per_minute': 200}}");
  g_autoptr(FjClient) client = fj_client_new_for_base_url ("http://127.0.0.1:9");
  g_autoptr(FjClient) other = fj_client_new_for_base_url ("http://127.0.0.1:9");
  g_autoptr(FjForkJoinTask) first = NULL;
  g_autoptr(FjForkJoinTask) second = NULL;
  g_autoptr(GError) error = NULL;
  FjAgentRunner *runner;
  gboolean early_exit = FALSE;
  guint heading_level = 0;

  first = fj_spec_create_task (spec, client, &error);
  g_assert_no_error (error);
  second = fj_spec_create_task (spec, other, &error);
  g_assert_no_error (error);

  runner = fj_fork_join_task_get_runner (first);
  g_assert_true (fj_agent_runner_get_client (runner) == client);
  g_assert_cmpuint (fj_agent_runner_get_max_concurrent (runner), ==, 2);
  g_assert_cmpfloat (fj_agent_runner_get_deadline (runner), ==, 30.5);
  g_assert_cmpfloat (fj_agent_runner_get_agent_timeout (runner), ==, 10);
  g_assert_cmpuint (fj_fork_join_task_get_min_successes (first), ==, 2);
  g_assert_cmpuint (g_list_model_get_n_items (fj_agent_runner_get_policies (runner)), ==, 2);
  {
    g_autoptr(GObject) quorum = g_list_model_get_item (fj_agent_runner_get_policies (runner), 0);

    g_object_get (quorum, "early-exit", &early_exit, NULL);
    g_assert_true (early_exit);
  }
  g_object_get (fj_fork_join_task_get_synthesizer (first), "heading-level", &heading_level, NULL);
  g_assert_cmpuint (heading_level, ==, 3);

  /* The client got the spec's settings. */
  g_assert_cmpstr (fj_client_get_api_version (client), ==, "2026-10-21");
  g_assert_cmpuint (fj_client_get_max_retries (client), ==, 5);
  g_assert_cmpfloat (fj_client_get_idle_timeout (client), ==, 45);
  g_assert_cmpuint (fj_client_get_requests_per_minute (client), ==, 50);
  g_assert_cmpuint (fj_client_get_input_tokens_per_minute (client), ==, 1000);
  g_assert_cmpuint (fj_client_get_output_tokens_per_minute (client), ==, 200);
  g_assert_cmpstr (fj_client_get_api_version (other), ==, "2026-10-21");

  /* Nothing shared between the two tasks. */
  g_assert_true (first != second);
  g_assert_true (fj_fork_join_task_get_runner (second) != runner);
  g_assert_true (fj_agent_runner_get_client (fj_fork_join_task_get_runner (second)) == other);
  g_assert_true (fj_fork_join_task_get_synthesizer (first) != fj_fork_join_task_get_synthesizer (second));
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GObject) a = g_list_model_get_item (fj_agent_runner_get_policies (runner), i);
      g_autoptr(GObject) b = g_list_model_get_item (fj_agent_runner_get_policies (fj_fork_join_task_get_runner (second)), i);

      g_assert_true (a != b);
      g_assert_true (G_OBJECT_TYPE (a) == G_OBJECT_TYPE (b));
    }
  fj_agent_runner_set_max_concurrent (runner, 7);
  g_assert_cmpuint (fj_agent_runner_get_max_concurrent (fj_fork_join_task_get_runner (second)), ==, 2);

  /* The objects go away with the tasks. */
  g_assert_finalize_object (g_steal_pointer (&first));
  g_assert_finalize_object (g_steal_pointer (&second));
}

static void
test_spec_configure_client_partial (void)
{
  g_autoptr(FjSpec) spec = load_ok ("{'agents': [{'name': 'a'}], 'client': {'max_retries': 0}}");
  g_autoptr(FjSpec) empty = fj_spec_new (plugins);
  g_autoptr(FjClient) client = fj_client_new_for_base_url ("http://127.0.0.1:9");
  g_autoptr(GError) error = NULL;
  double idle = fj_client_get_idle_timeout (client);

  g_assert_true (fj_spec_configure_client (spec, client, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (fj_client_get_max_retries (client), ==, 0);
  g_assert_cmpstr (fj_client_get_api_version (client), ==, FJ_CLIENT_DEFAULT_API_VERSION);
  g_assert_cmpfloat (fj_client_get_idle_timeout (client), ==, idle);

  g_assert_false (fj_spec_configure_client (empty, client, &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_SPEC);
  g_clear_error (&error);
  g_assert_null (fj_spec_create_task (empty, client, &error));
  g_assert_error (error, FJ_ERROR, FJ_ERROR_SPEC);
}

/* A plain-HTTP base URL that is not loopback is refused unless the spec
 * says allow_insecure_http; no connection is made (configure only). */
static void
test_spec_insecure_http (void)
{
  static const char * const refused[] = {
    "http://10.1.2.3", "http://example.com:8080", "HTTP://192.168.0.1", "http://[2001:db8::1]:80",
    "http://0.0.0.0:9", "http://localhost.example.com",
  };
  static const char * const accepted[] = {
    "http://127.0.0.1:9", "http://127.8.9.10", "http://localhost:9", "http://LOCALHOST",
    "http://[::1]:9", "https://api.anthropic.com", "https://10.1.2.3",
  };
  g_autoptr(FjSpec) strict = load_ok ("{'agents': [{'name': 'a'}]}");
  g_autoptr(FjSpec) allowing = load_ok ("{'agents': [{'name': 'a'}], 'allow_insecure_http': true}");
  g_autoptr(FjSpec) explicit_false = load_ok ("{'agents': [{'name': 'a'}], 'allow_insecure_http': false}");
  const char * const *warnings;

  g_assert_false (fj_spec_get_allow_insecure_http (strict));
  g_assert_false (fj_spec_get_allow_insecure_http (explicit_false));
  g_assert_null (fj_spec_get_warnings (explicit_false)[0]);
  g_assert_true (fj_spec_get_allow_insecure_http (allowing));

  /* Allowing it is a warning that names the key. */
  warnings = fj_spec_get_warnings (allowing);
  g_assert_nonnull (warnings[0]);
  g_assert_null (warnings[1]);
  g_assert_nonnull (strstr (warnings[0], "allow_insecure_http"));
  g_assert_nonnull (strstr (warnings[0], "unencrypted"));

  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr(FjClient) client = fj_client_new_for_base_url (refused[i]);
      g_autoptr(FjForkJoinTask) task = NULL;
      g_autoptr(GError) error = NULL;

      g_test_message ("refused: %s", refused[i]);
      g_assert_false (fj_spec_configure_client (strict, client, &error));
      g_assert_error (error, FJ_ERROR, FJ_ERROR_INVALID_REQUEST);
      g_assert_nonnull (strstr (error->message, fj_client_get_base_url (client)));
      g_assert_nonnull (strstr (error->message, "\"allow_insecure_http\": true"));
      g_clear_error (&error);
      g_assert_false (fj_spec_configure_client (explicit_false, client, &error));
      g_assert_error (error, FJ_ERROR, FJ_ERROR_INVALID_REQUEST);
      g_clear_error (&error);
      task = fj_spec_create_task (strict, client, &error);
      g_assert_null (task);
      g_assert_error (error, FJ_ERROR, FJ_ERROR_INVALID_REQUEST);
      g_clear_error (&error);

      g_assert_true (fj_spec_configure_client (allowing, client, &error));
      g_assert_no_error (error);
    }

  for (gsize i = 0; i < G_N_ELEMENTS (accepted); i++)
    {
      g_autoptr(FjClient) client = fj_client_new_for_base_url (accepted[i]);
      g_autoptr(GError) error = NULL;

      g_test_message ("accepted: %s", accepted[i]);
      g_assert_true (fj_spec_configure_client (strict, client, &error));
      g_assert_no_error (error);
    }

  /* A password in the URL is not repeated. */
  {
    g_autoptr(FjClient) client = fj_client_new_for_base_url ("http://user:hunter2@example.com");
    g_autoptr(GError) error = NULL;

    g_assert_false (fj_spec_configure_client (strict, client, &error));
    g_assert_error (error, FJ_ERROR, FJ_ERROR_INVALID_REQUEST);
    g_assert_null (strstr (error->message, "hunter2"));
    g_assert_nonnull (strstr (error->message, "http://example.com"));
  }

  /* Only a boolean. */
  assert_spec_error ("{'agents': [{'name': 'a'}], 'allow_insecure_http': 'yes'}",
                     "t.json:1:52: allow_insecure_http: expected true or false, got \"yes\"");
}

static void
test_spec_q3_run (void)
{
  g_autofree char *spec_path = g_build_filename (g_getenv ("FJ_DATA_DIR"), "examples", "q3-analysis.json", NULL);
  g_autofree char *scenario_path = g_build_filename (g_getenv ("FJ_DATA_DIR"), "scenarios", "q3-demo.json", NULL);
  g_autofree char *scenario = NULL;
  g_autoptr(FjSimulator) sim = NULL;
  g_autoptr(FjClient) client = NULL;
  g_autoptr(FjSpec) spec = fj_spec_new (plugins);
  g_autoptr(FjForkJoinTask) task = NULL;
  g_autoptr(FjForkJoinResult) result = NULL;
  g_autoptr(GAsyncResult) async_result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *results;

  g_file_get_contents (scenario_path, &scenario, NULL, &error);
  g_assert_no_error (error);
  sim = fj_test_simulator_new (scenario);
  client = fj_test_client_new (sim);

  fj_spec_load_from_file (spec, spec_path, &error);
  g_assert_no_error (error);
  task = fj_spec_create_task (spec, client, &error);
  g_assert_no_error (error);

  fj_fork_join_task_run_async (task, fj_spec_get_agents (spec), fj_spec_get_input (spec), NULL,
                               fj_test_async_result_cb, &async_result);
  fj_test_wait_result (&async_result, 60);
  result = fj_fork_join_task_run_finish (task, async_result, &error);
  g_assert_no_error (error);

  g_assert_cmpint (fj_fork_join_result_get_status (result), ==, FJ_FORK_JOIN_STATUS_DEGRADED);
  results = fj_fork_join_result_get_results (result);
  g_assert_cmpuint (results->len, ==, 3);
  for (guint i = 0; i < results->len; i++)
    {
      FjAgentResult *r = g_ptr_array_index (results, i);
      gboolean technical = strcmp (fj_agent_result_get_agent_name (r), "technical-analyst") == 0;

      g_assert_cmpint (fj_agent_result_get_status (r), ==,
                       technical ? FJ_AGENT_STATUS_FAILED : FJ_AGENT_STATUS_SUCCESS);
    }
  g_assert_nonnull (fj_fork_join_result_get_output (result));
  g_assert_nonnull (fj_fork_join_result_get_synthesis_result (result));
}

/* The agents model is the caller's once it is taken: freeing the spec
 * leaves it whole (a script may keep only the agents). */
static void
test_spec_agents_outlive_spec (void)
{
  FjSpec *spec = load_ok ("{'agents': [{'name': 'a'}, {'name': 'b'}]}");
  g_autoptr(GListModel) agents = g_object_ref (fj_spec_get_agents (spec));
  g_autoptr(FjAgent) b = NULL;

  g_object_unref (spec);

  g_assert_cmpuint (g_list_model_get_n_items (agents), ==, 2);
  b = g_list_model_get_item (agents, 1);
  g_assert_cmpstr (fj_agent_get_name (b), ==, "b");
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(FjPluginRegistry) registry = NULL;
  g_autoptr(FjPluginRegistry) echo_registry = fj_plugin_registry_new ();
  g_autoptr(FjPluginRegistry) shipped_registry = NULL;
  int ret;

  fj_test_init (&argc, &argv);

  registry = load_plugins (TRUE);
  plugins = registry;
  shipped_registry = load_plugins (FALSE);
  shipped = shipped_registry;
  fj_plugin_registry_add (echo_registry, FJ_PLUGIN_KIND_TOOL, "echo", TEST_TYPE_ECHO_TOOL, NULL);
  echo_only = echo_registry;

  g_test_add_func ("/Forkjoin/Spec/examples", test_spec_examples);
  g_test_add_func ("/Forkjoin/Spec/q3-example", test_spec_q3_example);
  g_test_add_func ("/Forkjoin/Spec/bad-specs", test_spec_bad_specs);
  g_test_add_func ("/Forkjoin/Spec/basic", test_spec_basic);
  g_test_add_func ("/Forkjoin/Spec/agents-outlive-spec", test_spec_agents_outlive_spec);
  g_test_add_func ("/Forkjoin/Spec/failed-load-keeps-previous", test_spec_failed_load_keeps_previous);
  g_test_add_func ("/Forkjoin/Spec/file-errors", test_spec_file_errors);
  g_test_add_func ("/Forkjoin/Spec/syntax-errors", test_spec_syntax_errors);
  g_test_add_func ("/Forkjoin/Spec/duplicate-keys", test_spec_duplicate_keys);
  g_test_add_func ("/Forkjoin/Spec/depth-limit", test_spec_depth_limit);
  g_test_add_func ("/Forkjoin/Spec/type-errors", test_spec_type_errors);
  g_test_add_func ("/Forkjoin/Spec/negative-times", test_spec_negative_times);
  g_test_add_func ("/Forkjoin/Spec/agent-list-errors", test_spec_agent_list_errors);
  g_test_add_func ("/Forkjoin/Spec/min-successes", test_spec_min_successes);
  g_test_add_func ("/Forkjoin/Spec/unknown-keys", test_spec_unknown_keys);
  g_test_add_func ("/Forkjoin/Spec/named-client", test_spec_named_client);
  g_test_add_func ("/Forkjoin/Spec/clients", test_spec_clients);
  g_test_add_func ("/Forkjoin/Spec/client-errors", test_spec_client_errors);
  g_test_add_func ("/Forkjoin/Spec/client-insecure-http", test_spec_client_insecure_http);
  g_test_add_func ("/Forkjoin/Spec/client-create-task", test_spec_client_create_task);
  g_test_add_func ("/Forkjoin/Spec/mixed-run", test_spec_mixed_run);
  g_test_add_func ("/Forkjoin/Spec/runner-modes", test_spec_runner_modes);
  g_test_add_func ("/Forkjoin/Spec/runner-mode-errors", test_spec_runner_mode_errors);
  g_test_add_func ("/Forkjoin/Spec/plugin-errors", test_spec_plugin_errors);
  g_test_add_func ("/Forkjoin/Spec/tool-errors", test_spec_tool_errors);
  g_test_add_func ("/Forkjoin/Spec/tool-base-properties", test_spec_tool_base_properties);
  g_test_add_func ("/Forkjoin/Spec/every-problem-at-once", test_spec_every_problem_at_once);
  g_test_add_func ("/Forkjoin/Spec/defaults", test_spec_defaults);
  g_test_add_func ("/Forkjoin/Spec/set-default-timeout", test_spec_set_default_timeout);
  g_test_add_func ("/Forkjoin/Spec/synthesis-defaults", test_spec_synthesis_defaults);
  g_test_add_func ("/Forkjoin/Spec/tools", test_spec_tools);
  g_test_add_func ("/Forkjoin/Spec/model-warnings", test_spec_model_warnings);
  g_test_add_func ("/Forkjoin/Spec/create-task", test_spec_create_task);
  g_test_add_func ("/Forkjoin/Spec/configure-client-partial", test_spec_configure_client_partial);
  g_test_add_func ("/Forkjoin/Spec/insecure-http", test_spec_insecure_http);
  g_test_add_func ("/Forkjoin/Spec/q3-run", test_spec_q3_run);

  ret = g_test_run ();

  plugins = NULL;
  echo_only = NULL;
  shipped = NULL;

  return ret;
}
