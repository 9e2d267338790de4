/* test-plugins.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-test-utils.h"

#include "fj-agent-result-private.h"

#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

/* A synthesizer from the program itself, as Python or gjs would add. */
#define TEST_TYPE_LOCAL_SYNTH (test_local_synth_get_type ())
G_DECLARE_FINAL_TYPE (TestLocalSynth, test_local_synth, TEST, LOCAL_SYNTH, GObject)

struct _TestLocalSynth
{
  GObject  parent_instance;
  char    *prefix;
};

enum { PROP_0, PROP_PREFIX, N_PROPS };

static char *
test_local_synth_synthesize (FjSynthesizer  *synthesizer,
                             const char     *input,
                             GPtrArray      *results,
                             GCancellable   *cancellable,
                             GError        **error)
{
  return g_strdup_printf ("%s%s", TEST_LOCAL_SYNTH (synthesizer)->prefix, input);
}

static void
local_iface_init (FjSynthesizerInterface *iface)
{
  iface->synthesize = test_local_synth_synthesize;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestLocalSynth, test_local_synth, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (FJ_TYPE_SYNTHESIZER, local_iface_init))

static void
test_local_synth_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  g_assert_cmpuint (prop_id, ==, PROP_PREFIX);
  g_value_set_string (value, TEST_LOCAL_SYNTH (object)->prefix);
}

static void
test_local_synth_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  TestLocalSynth *self = TEST_LOCAL_SYNTH (object);

  g_assert_cmpuint (prop_id, ==, PROP_PREFIX);
  g_free (self->prefix);
  self->prefix = g_value_dup_string (value);
}

static void
test_local_synth_finalize (GObject *object)
{
  g_free (TEST_LOCAL_SYNTH (object)->prefix);
  G_OBJECT_CLASS (test_local_synth_parent_class)->finalize (object);
}

static void
test_local_synth_class_init (TestLocalSynthClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = test_local_synth_get_property;
  object_class->set_property = test_local_synth_set_property;
  object_class->finalize = test_local_synth_finalize;

  g_object_class_install_property (object_class, PROP_PREFIX,
    g_param_spec_string ("reply-prefix", NULL, "Put before the input", "> ",
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS));
}

static void
test_local_synth_init (TestLocalSynth *self)
{
}

static char *
modules_dir (void)
{
  return g_test_build_filename (G_TEST_BUILT, "plugins", NULL);
}

static char *
second_modules_dir (void)
{
  return g_test_build_filename (G_TEST_BUILT, "plugins", "second", NULL);
}

static JsonObject *
parse_object (const char *json)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;

  node = json_from_string (json, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));

  return json_object_ref (json_node_get_object (node));
}

/* The error whose message starts with @path, asserting there is one. */
static const GError *
find_error (FjPluginRegistry *registry,
            const char       *path)
{
  GPtrArray *errors = fj_plugin_registry_get_errors (registry);
  g_autofree char *prefix = g_strconcat (path, ": ", NULL);
  const GError *found = NULL;

  for (guint i = 0; i < errors->len; i++)
    {
      const GError *error = g_ptr_array_index (errors, i);

      g_assert_error (error, FJ_ERROR, FJ_ERROR_PLUGIN);
      if (g_str_has_prefix (error->message, prefix))
        {
          g_assert_null (found);
          found = error;
        }
    }

  g_assert_nonnull (found);

  return found;
}

static guint
count_errors_under (FjPluginRegistry *registry,
                    const char       *dir)
{
  GPtrArray *errors = fj_plugin_registry_get_errors (registry);
  guint n = 0;

  for (guint i = 0; i < errors->len; i++)
    {
      const GError *error = g_ptr_array_index (errors, i);

      if (g_str_has_prefix (error->message, dir))
        n++;
    }

  return n;
}

static FjPluginInfo *
find_info (GListModel *list,
           FjPluginKind kind,
           const char *name)
{
  for (guint i = 0; i < g_list_model_get_n_items (list); i++)
    {
      g_autoptr(FjPluginInfo) info = g_list_model_get_item (list, i);

      if (fj_plugin_info_get_kind (info) == kind &&
          g_strcmp0 (fj_plugin_info_get_name (info), name) == 0)
        return info;
    }

  return NULL;
}

static char *
options_json (FjPluginInfo *info)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_ARRAY);

  json_node_set_array (node, fj_plugin_info_get_options (info));

  return json_to_string (node, FALSE);
}

static void
test_plugins_loading (void)
{
  g_autoptr(FjPluginRegistry) registry = fj_plugin_registry_new ();
  g_autofree char *dir = modules_dir ();
  g_autofree char *second = second_modules_dir ();
  g_autofree char *missing = g_test_build_filename (G_TEST_BUILT, "plugins", "no-such-dir", NULL);
  g_autofree char *path = g_strjoin (":", dir, missing, second, NULL);
  g_autofree char *good = g_build_filename (dir, "good.so", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.so", NULL);
  g_autofree char *noregister = g_build_filename (dir, "noregister.so", NULL);
  g_autofree char *badabi = g_build_filename (dir, "badabi.so", NULL);
  g_autofree char *wrongtype = g_build_filename (dir, "wrongtype.so", NULL);
  g_autofree char *second_good = g_build_filename (second, "good.so", NULL);
  g_autofree char *second_dup = g_build_filename (second, "dup.so", NULL);
  g_autoptr(GListModel) list = NULL;
  const GError *error;
  FjPluginInfo *info;

  g_setenv ("FORKJOIN_PLUGIN_PATH", path, TRUE);
  fj_plugin_registry_load_default (registry);
  /* a second call does nothing */
  fj_plugin_registry_load_default (registry);

  error = find_error (registry, bad);
  g_assert_nonnull (strstr (error->message, "not a loadable module"));

  error = find_error (registry, noregister);
  g_assert_nonnull (strstr (error->message, "does not export fj_plugin_register()"));

  error = find_error (registry, badabi);
  g_assert_nonnull (strstr (error->message, "built for plugin ABI 42, this library loads ABI 1"));

  error = find_error (registry, wrongtype);
  g_assert_nonnull (strstr (error->message,
                            "synthesizer plugin 'test-wrong': type TestNotSynth does not implement FjSynthesizer"));

  /* The same file in a later dir is not opened (its register function
   * would abort); another file with a taken name is not added. */
  error = find_error (registry, second_good);
  g_assert_nonnull (strstr (error->message, "not loaded: good.so is already provided by"));
  g_assert_nonnull (strstr (error->message, good));

  error = find_error (registry, second_dup);
  g_assert_nonnull (strstr (error->message, "synthesizer plugin 'test-good' not added: already provided by"));
  g_assert_nonnull (strstr (error->message, good));

  /* Exactly those six, and the missing dir is skipped quietly. */
  g_assert_cmpuint (count_errors_under (registry, dir), ==, 6);
  g_assert_cmpuint (count_errors_under (registry, missing), ==, 0);

  g_assert_cmpstr (g_type_name (fj_plugin_registry_lookup (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "test-good")),
                   ==, "TestGoodSynth");
  g_assert_cmpstr (g_type_name (fj_plugin_registry_lookup (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "test-second")),
                   ==, "TestSecondSynth");
  g_assert_true (fj_plugin_registry_lookup (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "test-wrong") == G_TYPE_INVALID);
  g_assert_true (fj_plugin_registry_lookup (registry, FJ_PLUGIN_KIND_POLICY, "test-good") == G_TYPE_INVALID);

  list = fj_plugin_registry_list (registry);
  info = find_info (list, FJ_PLUGIN_KIND_SYNTHESIZER, "test-good");
  g_assert_nonnull (info);
  g_assert_cmpstr (fj_plugin_info_get_path (info), ==, good);
  g_assert_cmpstr (fj_plugin_info_get_description (info), ==, "A good test plugin");
  info = find_info (list, FJ_PLUGIN_KIND_SYNTHESIZER, "test-second");
  g_assert_nonnull (info);
  g_assert_cmpstr (fj_plugin_info_get_path (info), ==, second_dup);

  g_unsetenv ("FORKJOIN_PLUGIN_PATH");
}

static void
test_plugins_load_dir_missing (void)
{
  g_autoptr(FjPluginRegistry) registry = fj_plugin_registry_new ();
  g_autofree char *missing = g_test_build_filename (G_TEST_BUILT, "plugins", "no-such-dir", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_false (fj_plugin_registry_load_dir (registry, missing, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_cmpuint (fj_plugin_registry_get_errors (registry)->len, ==, 0);
}

static FjPluginRegistry *
registry_with_good (void)
{
  FjPluginRegistry *registry = fj_plugin_registry_new ();
  g_autofree char *dir = modules_dir ();
  g_autoptr(GError) error = NULL;

  g_assert_true (fj_plugin_registry_load_dir (registry, dir, &error));
  g_assert_no_error (error);
  /* a dir loaded twice is scanned once */
  g_assert_true (fj_plugin_registry_load_dir (registry, dir, &error));
  g_assert_cmpuint (count_errors_under (registry, dir), ==, 4);

  return registry;
}

static void
assert_create_error (FjPluginRegistry *registry,
                     FjPluginKind      kind,
                     const char       *name,
                     const char       *options_text,
                     const char       *message)
{
  g_autoptr(JsonObject) options = options_text ? parse_object (options_text) : NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GObject) object = NULL;

  object = fj_plugin_registry_create (registry, kind, name, options, &error);
  g_assert_error (error, FJ_ERROR, FJ_ERROR_PLUGIN);
  g_assert_null (object);
  g_assert_cmpstr (error->message, ==, message);
}

static char *
synthesize (GObject *object)
{
  g_autoptr(GPtrArray) results = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  char *text;

  g_assert_true (FJ_IS_SYNTHESIZER (object));
  text = fj_synthesizer_synthesize (FJ_SYNTHESIZER (object), "input", results, NULL, &error);
  g_assert_no_error (error);

  return text;
}

static void
test_plugins_create (void)
{
  g_autoptr(FjPluginRegistry) registry = registry_with_good ();
  g_autoptr(JsonObject) options = parse_object ("{\"max_tokens\": 50, \"label\": \"x\", \"verbose\": true}");
  g_autoptr(GObject) object = NULL;
  g_autoptr(GObject) plain = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *plain_text = NULL;

  object = fj_plugin_registry_create (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "test-good", options, &error);
  g_assert_no_error (error);
  text = synthesize (object);
  g_assert_cmpstr (text, ==, "x:50:1");

  plain = fj_plugin_registry_create (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "test-good", NULL, &error);
  g_assert_no_error (error);
  plain_text = synthesize (plain);
  g_assert_cmpstr (plain_text, ==, "plain:1024:0");

  assert_create_error (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "test-good", "{\"max_tokns\": 5}",
                       "test-good: unknown option 'max_tokns'; valid options: label, max_tokens, verbose");
  /* options are spelled as in JSON, not as properties */
  assert_create_error (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "test-good", "{\"max-tokens\": 5}",
                       "test-good: unknown option 'max-tokens'; valid options: label, max_tokens, verbose");
  assert_create_error (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "test-good", "{\"max_tokens\": \"many\"}",
                       "test-good: option 'max_tokens' must be an unsigned integer, not a string");
  assert_create_error (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "test-good", "{\"verbose\": 1}",
                       "test-good: option 'verbose' must be a boolean, not an integer");
  assert_create_error (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "test-good", "{\"label\": [\"a\"]}",
                       "test-good: option 'label' must be a string, not an array");
  assert_create_error (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "test-good", "{\"max_tokens\": 0}",
                       "test-good: value of option 'max_tokens' is out of range");
  assert_create_error (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "test-good", "{\"max_tokens\": -3}",
                       "test-good: value of option 'max_tokens' is out of range");

  assert_create_error (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "test-goood", NULL,
                       "no synthesizer plugin named 'test-goood' (did you mean 'test-good'?); "
                       "known synthesizer plugins: test-good");
  assert_create_error (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "vote", NULL,
                       "no synthesizer plugin named 'vote'; known synthesizer plugins: test-good");
  assert_create_error (registry, FJ_PLUGIN_KIND_POLICY, "test-good", NULL,
                       "no policy plugin named 'test-good'; no policy plugins are loaded");
}

static void
test_plugins_list (void)
{
  g_autoptr(FjPluginRegistry) registry = registry_with_good ();
  g_autoptr(GListModel) list = fj_plugin_registry_list (registry);
  g_autofree char *json = NULL;
  FjPluginInfo *info;

  g_assert_true (g_list_model_get_item_type (list) == FJ_TYPE_PLUGIN_INFO);
  g_assert_cmpuint (g_list_model_get_n_items (list), ==, 1);

  info = find_info (list, FJ_PLUGIN_KIND_SYNTHESIZER, "test-good");
  g_assert_nonnull (info);
  g_assert_cmpstr (g_type_name (fj_plugin_info_get_plugin_type (info)), ==, "TestGoodSynth");

  json = options_json (info);
  g_assert_cmpstr (json, ==,
                   "["
                   "{\"name\":\"label\",\"type\":\"string\",\"default\":\"plain\",\"description\":\"A label\"},"
                   "{\"name\":\"max_tokens\",\"type\":\"unsigned integer\",\"default\":1024,\"description\":\"Most tokens\"},"
                   "{\"name\":\"verbose\",\"type\":\"boolean\",\"default\":false,\"description\":\"\"}"
                   "]");
}

static void
test_plugins_caller_type (void)
{
  g_autoptr(FjPluginRegistry) registry = fj_plugin_registry_new ();
  g_autoptr(JsonObject) options = parse_object ("{\"reply_prefix\": \"re: \"}");
  g_autoptr(GPtrArray) results = g_ptr_array_new ();
  g_autoptr(GListModel) list = NULL;
  g_autoptr(GObject) object = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  GPtrArray *errors;
  FjPluginInfo *info;

  g_assert_true (fj_plugin_registry_add (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "local",
                                         TEST_TYPE_LOCAL_SYNTH, "From the test"));
  g_assert_true (fj_plugin_registry_lookup (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "local") == TEST_TYPE_LOCAL_SYNTH);

  object = fj_plugin_registry_create (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "local", options, &error);
  g_assert_no_error (error);
  text = fj_synthesizer_synthesize (FJ_SYNTHESIZER (object), "hello", results, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, "re: hello");

  list = fj_plugin_registry_list (registry);
  info = find_info (list, FJ_PLUGIN_KIND_SYNTHESIZER, "local");
  g_assert_nonnull (info);
  g_assert_null (fj_plugin_info_get_path (info));
  g_assert_cmpstr (fj_plugin_info_get_description (info), ==, "From the test");

  /* a taken name, and types that do not fit their kind */
  g_assert_false (fj_plugin_registry_add (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "local",
                                          TEST_TYPE_LOCAL_SYNTH, NULL));
  g_assert_false (fj_plugin_registry_add (registry, FJ_PLUGIN_KIND_POLICY, "local",
                                          TEST_TYPE_LOCAL_SYNTH, NULL));
  g_assert_false (fj_plugin_registry_add (registry, FJ_PLUGIN_KIND_TOOL, "local",
                                          G_TYPE_OBJECT, NULL));

  errors = fj_plugin_registry_get_errors (registry);
  g_assert_cmpuint (errors->len, ==, 3);
  g_assert_cmpstr (((GError *) errors->pdata[0])->message, ==,
                   "synthesizer plugin 'local' not added: already provided by the program");
  g_assert_cmpstr (((GError *) errors->pdata[1])->message, ==,
                   "policy plugin 'local': type TestLocalSynth does not implement FjPolicy");
  g_assert_cmpstr (((GError *) errors->pdata[2])->message, ==,
                   "tool plugin 'local': type GObject does not implement FjTool");
}

static FjAgentResult *
make_result (const char    *name,
             guint          index,
             FjAgentStatus  status,
             const char    *output,
             FjError        code,
             const char    *message)
{
  FjAgentResult *result = fj_agent_result_new (name, index);

  _fj_agent_result_set_status (result, status);
  if (output != NULL)
    _fj_agent_result_set_output (result, output);
  if (message != NULL)
    _fj_agent_result_take_error (result, g_error_new_literal (FJ_ERROR, code, message));

  return result;
}

static void
test_plugins_concat (void)
{
  g_autoptr(FjPluginRegistry) registry = fj_plugin_registry_new ();
  g_autofree char *dir = g_test_build_filename (G_TEST_BUILT, "..", "plugins", "synthesis", "concat", NULL);
  g_autofree char *path = g_build_filename (dir, "synthesis-concat.so", NULL);
  g_autoptr(JsonObject) options = parse_object ("{\"include_failed\": true}");
  g_autoptr(JsonObject) quiet = parse_object ("{\"heading_level\": 3, \"include_failed\": false}");
  g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GListModel) list = NULL;
  g_autoptr(GObject) object = NULL;
  g_autoptr(GObject) quiet_object = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  g_autofree char *text = NULL;
  g_autofree char *quiet_text = NULL;
  FjPluginInfo *info;

  g_setenv ("FORKJOIN_PLUGIN_PATH", dir, TRUE);
  fj_plugin_registry_load_default (registry);
  g_unsetenv ("FORKJOIN_PLUGIN_PATH");
  g_assert_cmpuint (count_errors_under (registry, dir), ==, 0);

  list = fj_plugin_registry_list (registry);
  info = find_info (list, FJ_PLUGIN_KIND_SYNTHESIZER, "concat");
  g_assert_nonnull (info);
  g_assert_cmpstr (fj_plugin_info_get_path (info), ==, path);
  g_assert_cmpstr (fj_plugin_info_get_description (info), ==,
                   "Joins the successful outputs as Markdown sections and lists the missing ones");
  json = options_json (info);
  g_assert_cmpstr (json, ==,
                   "["
                   "{\"name\":\"heading_level\",\"type\":\"unsigned integer\",\"default\":2,"
                   "\"description\":\"Markdown level of each agent's heading; the input's heading is one above\"},"
                   "{\"name\":\"include_failed\",\"type\":\"boolean\",\"default\":true,"
                   "\"description\":\"List the agents that failed, and why, in a closing Missing section\"}"
                   "]");

  assert_create_error (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "concat", "{\"heading_levle\": 3}",
                       "concat: unknown option 'heading_levle'; valid options: heading_level, include_failed");
  assert_create_error (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "concat", "{\"include_failed\": \"yes\"}",
                       "concat: option 'include_failed' must be a boolean, not a string");
  assert_create_error (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "conact", NULL,
                       "no synthesizer plugin named 'conact' (did you mean 'concat'?); "
                       "known synthesizer plugins: concat");

  g_ptr_array_add (results, make_result ("alpha", 0, FJ_AGENT_STATUS_SUCCESS, "Revenue grew 12%.\n", 0, NULL));
  g_ptr_array_add (results, make_result ("beta", 1, FJ_AGENT_STATUS_FAILED, NULL,
                                         FJ_ERROR_OVERLOADED, "The API is overloaded"));
  g_ptr_array_add (results, make_result ("gamma", 2, FJ_AGENT_STATUS_SUCCESS, "Costs fell.", 0, NULL));
  g_ptr_array_add (results, make_result ("delta", 3, FJ_AGENT_STATUS_TIMED_OUT, NULL,
                                         FJ_ERROR_TIMED_OUT, "No answer in 30 s"));

  object = fj_plugin_registry_create (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "concat", options, &error);
  g_assert_no_error (error);
  g_assert_true (FJ_IS_SYNTHESIZER (object));
  text = fj_synthesizer_synthesize (FJ_SYNTHESIZER (object), "Analyze Q3", results, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==,
                   "# Analyze Q3\n\n"
                   "## alpha\n\nRevenue grew 12%.\n\n"
                   "## gamma\n\nCosts fell.\n\n"
                   "## Missing\n\n"
                   "- beta: failed (overloaded): The API is overloaded\n"
                   "- delta: timed-out (timed-out): No answer in 30 s\n");

  quiet_object = fj_plugin_registry_create (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "concat", quiet, &error);
  g_assert_no_error (error);
  quiet_text = fj_synthesizer_synthesize (FJ_SYNTHESIZER (quiet_object), "Analyze Q3", results, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (quiet_text, ==,
                   "## Analyze Q3\n\n"
                   "### alpha\n\nRevenue grew 12%.\n\n"
                   "### gamma\n\nCosts fell.\n");

  /* a heading is one line, whatever the input */
  g_ptr_array_set_size (results, 0);
  g_clear_pointer (&text, g_free);
  text = fj_synthesizer_synthesize (FJ_SYNTHESIZER (object), "Line one\nline two\n", results, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, "# Line one line two\n");
}

/* Copies the built test module @name into @dir with @mode. */
static char *
copy_module (const char *name,
             const char *dir,
             int         mode)
{
  g_autofree char *source = g_test_build_filename (G_TEST_BUILT, "plugins", name, NULL);
  char *target = g_build_filename (dir, name, NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize length;

  g_file_get_contents (source, &contents, &length, &error);
  g_assert_no_error (error);
  g_file_set_contents (target, contents, length, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (target, mode), ==, 0);

  return target;
}

static void
remove_tree (const char *dir)
{
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;

  while (listing != NULL && (name = g_dir_read_name (listing)))
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        remove_tree (path);
      else
        g_unlink (path);
    }
  g_rmdir (dir);
}

/* A directory writable by group or others is refused (not scanned), with
 * an error naming it and its mode; through load_default too. */
static void
test_plugins_unsafe_dir (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("fj-plugins-XXXXXX", &error);
  g_autofree char *good = NULL;
  g_autofree char *expected = NULL;

  g_assert_no_error (error);
  good = copy_module ("good.so", dir, 0644);
  expected = g_strdup_printf ("%s: not loaded: the directory is writable by group or others (mode 0777); "
                              "chmod go-w %s", dir, dir);

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(FjPluginRegistry) registry = fj_plugin_registry_new ();
      g_autoptr(FjPluginRegistry) other = fj_plugin_registry_new ();
      int mode = i == 0 ? 0777 : 0775;
      GPtrArray *errors;

      g_assert_cmpint (g_chmod (dir, mode), ==, 0);
      g_assert_false (fj_plugin_registry_load_dir (registry, dir, &error));
      g_assert_error (error, FJ_ERROR, FJ_ERROR_PLUGIN);
      if (i == 0)
        g_assert_cmpstr (error->message, ==, expected);
      else
        g_assert_nonnull (strstr (error->message, "(mode 0775)"));
      g_clear_error (&error);
      g_assert_true (fj_plugin_registry_lookup (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "test-good") == G_TYPE_INVALID);

      /* load_default lists it once, without repeating the path. */
      g_setenv ("FORKJOIN_PLUGIN_PATH", dir, TRUE);
      fj_plugin_registry_load_default (other);
      g_unsetenv ("FORKJOIN_PLUGIN_PATH");
      errors = fj_plugin_registry_get_errors (other);
      g_assert_cmpuint (count_errors_under (other, dir), ==, 1);
      for (guint j = 0; j < errors->len; j++)
        {
          const GError *e = g_ptr_array_index (errors, j);

          if (g_str_has_prefix (e->message, dir))
            {
              g_assert_true (g_str_has_prefix (e->message + strlen (dir), ": not loaded: the directory"));
              if (i == 0)
                g_assert_cmpstr (e->message, ==, expected);
            }
        }
      g_assert_true (fj_plugin_registry_lookup (other, FJ_PLUGIN_KIND_SYNTHESIZER, "test-good") == G_TYPE_INVALID);
    }

  remove_tree (dir);
}

/* A module writable by group or others is refused and never opened; the
 * same file with a safe mode is opened (bad.so: not a module, so opening
 * it is an error of another kind, and no type gets registered twice). */
static void
test_plugins_unsafe_module (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("fj-plugins-XXXXXX", &error);
  g_autofree char *good = NULL;
  g_autofree char *bad = NULL;
  const GError *found;

  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (dir, 0755), ==, 0);
  good = copy_module ("good.so", dir, 0666);
  bad = copy_module ("bad.so", dir, 0646);

  {
    g_autoptr(FjPluginRegistry) registry = fj_plugin_registry_new ();
    g_autofree char *expected = g_strdup_printf ("%s: not loaded: the module is writable by group or "
                                                 "others (mode 0666); chmod go-w %s", good, good);

    g_assert_true (fj_plugin_registry_load_dir (registry, dir, &error));
    g_assert_no_error (error);
    found = find_error (registry, good);
    g_assert_cmpstr (found->message, ==, expected);
    found = find_error (registry, bad);
    g_assert_nonnull (strstr (found->message, "(mode 0646)"));
    g_assert_cmpuint (count_errors_under (registry, dir), ==, 2);
    g_assert_true (fj_plugin_registry_lookup (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "test-good") == G_TYPE_INVALID);
  }

  /* With go-w the check passes: bad.so is opened (and is not a module). */
  g_assert_cmpint (g_chmod (bad, 0644), ==, 0);
  g_assert_cmpint (g_chmod (good, 0620), ==, 0);
  {
    g_autoptr(FjPluginRegistry) registry = fj_plugin_registry_new ();

    g_assert_true (fj_plugin_registry_load_dir (registry, dir, &error));
    g_assert_no_error (error);
    found = find_error (registry, bad);
    g_assert_nonnull (strstr (found->message, "not a loadable module"));
    found = find_error (registry, good);
    g_assert_nonnull (strstr (found->message, "(mode 0620)"));
  }

  remove_tree (dir);
}

/* FORKJOIN_PLUGIN_PATH never means the current directory: empty entries
 * are skipped, relative ones refused with an error. */
static void
test_plugins_no_current_dir (void)
{
  g_autoptr(FjPluginRegistry) registry = fj_plugin_registry_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("fj-plugins-XXXXXX", &error);
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *sub = NULL;
  g_autofree char *bad = NULL;
  g_autofree char *sub_bad = NULL;
  GPtrArray *errors;
  const GError *found;

  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (dir, 0755), ==, 0);
  sub = g_build_filename (dir, "sub", NULL);
  g_assert_cmpint (g_mkdir (sub, 0755), ==, 0);
  /* A file the loader would report if it opened it. */
  bad = copy_module ("bad.so", dir, 0644);
  sub_bad = copy_module ("bad.so", sub, 0644);

  g_assert_cmpint (g_chdir (dir), ==, 0);
  g_setenv ("FORKJOIN_PLUGIN_PATH", "::.:sub:", TRUE);
  fj_plugin_registry_load_default (registry);
  g_unsetenv ("FORKJOIN_PLUGIN_PATH");
  g_assert_cmpint (g_chdir (cwd), ==, 0);

  found = find_error (registry, ".");
  g_assert_nonnull (strstr (found->message, "FORKJOIN_PLUGIN_PATH entries must be absolute"));
  found = find_error (registry, "sub");
  g_assert_nonnull (strstr (found->message, "never loaded from the current directory"));

  /* Nothing under the current directory was opened; no error for the
   * empty entries. */
  errors = fj_plugin_registry_get_errors (registry);
  for (guint i = 0; i < errors->len; i++)
    {
      const GError *e = g_ptr_array_index (errors, i);

      g_assert_null (strstr (e->message, "bad.so"));
      g_assert_false (g_str_has_prefix (e->message, ": "));
    }
  g_assert_cmpuint (count_errors_under (registry, dir), ==, 0);

  remove_tree (dir);
}

int
main (int   argc,
      char *argv[])
{
  fj_test_init (&argc, &argv);

  g_test_add_func ("/Forkjoin/Plugins/loading", test_plugins_loading);
  g_test_add_func ("/Forkjoin/Plugins/load-dir-missing", test_plugins_load_dir_missing);
  g_test_add_func ("/Forkjoin/Plugins/create", test_plugins_create);
  g_test_add_func ("/Forkjoin/Plugins/list", test_plugins_list);
  g_test_add_func ("/Forkjoin/Plugins/caller-type", test_plugins_caller_type);
  g_test_add_func ("/Forkjoin/Plugins/concat", test_plugins_concat);
  g_test_add_func ("/Forkjoin/Plugins/unsafe-dir", test_plugins_unsafe_dir);
  g_test_add_func ("/Forkjoin/Plugins/unsafe-module", test_plugins_unsafe_module);
  g_test_add_func ("/Forkjoin/Plugins/no-current-dir", test_plugins_no_current_dir);

  return g_test_run ();
}
