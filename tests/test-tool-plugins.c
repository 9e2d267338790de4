/* test-tool-plugins.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "fj-test-utils.h"

/* The read_file and clock tool plugins, loaded as modules from the build
 * tree, called directly and by agents against the simulator. */

static FjPluginRegistry *
registry_new (void)
{
  FjPluginRegistry *registry = fj_plugin_registry_new ();
  g_autofree char *read_file = g_test_build_filename (G_TEST_BUILT, "..", "plugins", "tools", "read-file", NULL);
  g_autofree char *clock = g_test_build_filename (G_TEST_BUILT, "..", "plugins", "tools", "clock", NULL);
  g_autofree char *path = g_strjoin (":", read_file, clock, NULL);

  g_setenv ("FORKJOIN_PLUGIN_PATH", path, TRUE);
  fj_plugin_registry_load_default (registry);
  g_unsetenv ("FORKJOIN_PLUGIN_PATH");

  g_assert_cmpuint (fj_plugin_registry_get_errors (registry)->len, ==, 0);

  return registry;
}

static FjTool *
tool_new (FjPluginRegistry *registry,
          const char       *name,
          const char       *options_json)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;
  GObject *object;

  node = json_from_string (options_json != NULL ? options_json : "{}", &error);
  g_assert_no_error (error);
  object = fj_plugin_registry_create (registry, FJ_PLUGIN_KIND_TOOL, name,
                                      json_node_get_object (node), &error);
  g_assert_no_error (error);
  g_assert_true (FJ_IS_TOOL (object));

  return FJ_TOOL (object);
}

/* A sandbox: root/ with notes.txt, sub/deep.txt, a link inside, a link
 * out, binary.bin and big.txt; secret.txt beside root/. */
typedef struct
{
  char *dir;
  char *root;
} Sandbox;

static void
write_file (const char *dir,
            const char *name,
            const char *contents,
            gssize      length)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, contents, length, &error);
  g_assert_no_error (error);
}

static void
sandbox_init (Sandbox *box)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *sub = NULL;
  g_autofree char *link_in = NULL;
  g_autofree char *link_out = NULL;
  g_autofree char *big = NULL;

  box->dir = g_dir_make_tmp ("fj-read-file-XXXXXX", &error);
  g_assert_no_error (error);
  box->root = g_build_filename (box->dir, "root", NULL);
  sub = g_build_filename (box->root, "sub", NULL);
  g_assert_cmpint (g_mkdir_with_parents (sub, 0700), ==, 0);

  write_file (box->dir, "secret.txt", "top secret\n", -1);
  write_file (box->root, "notes.txt", "The launch code is 4217.\nSecond line.\n", -1);
  write_file (sub, "deep.txt", "deep file\n", -1);
  write_file (box->root, "binary.bin", "\x01\x02\xff\xfe\x00", 5);
  big = g_strnfill (2000, 'x');
  write_file (box->root, "big.txt", big, -1);

  link_in = g_build_filename (box->root, "link-in", NULL);
  g_assert_cmpint (symlink ("sub/deep.txt", link_in), ==, 0);
  link_out = g_build_filename (box->root, "link-out", NULL);
  g_assert_cmpint (symlink ("../secret.txt", link_out), ==, 0);
}

static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_tree (child);
          else
            g_unlink (child);
        }
      g_dir_close (dir);
    }
  g_rmdir (path);
}

static void
sandbox_clear (Sandbox *box)
{
  remove_tree (box->dir);
  g_clear_pointer (&box->dir, g_free);
  g_clear_pointer (&box->root, g_free);
}

static FjTool *
read_file_new (FjPluginRegistry *registry,
               Sandbox          *box,
               guint             max_bytes)
{
  g_autofree char *options = NULL;
  g_autofree char *escaped = g_strescape (box->root, NULL);

  if (max_bytes > 0)
    options = g_strdup_printf ("{\"root\": \"%s\", \"max_bytes\": %u}", escaped, max_bytes);
  else
    options = g_strdup_printf ("{\"root\": \"%s\"}", escaped);

  return tool_new (registry, "read_file", options);
}

static char *
invoke_path (FjTool      *tool,
             const char  *path,
             GError     **error)
{
  g_autofree char *escaped = g_strescape (path, NULL);
  g_autofree char *input = g_strdup_printf ("{\"path\": \"%s\"}", escaped);

  return fj_tool_invoke (tool, input, NULL, error);
}

static void
assert_refused (FjTool     *tool,
                const char *path,
                int         code,
                const char *fragment)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = invoke_path (tool, path, &error);

  g_assert_null (text);
  g_assert_error (error, G_IO_ERROR, code);
  g_assert_nonnull (strstr (error->message, fragment));
  /* Never what lies outside the root. */
  g_assert_null (strstr (error->message, "top secret"));
}

static void
test_read_file_inside (void)
{
  g_autoptr(FjPluginRegistry) registry = registry_new ();
  g_autoptr(FjTool) tool = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *deep = NULL;
  g_autofree char *via_link = NULL;
  g_autofree char *listing = NULL;
  g_autofree char *absolute = NULL;
  g_autofree char *absolute_path = NULL;
  g_autoptr(JsonNode) schema = NULL;
  Sandbox box = { 0 };

  sandbox_init (&box);
  tool = read_file_new (registry, &box, 0);

  g_assert_cmpstr (fj_tool_get_name (tool), ==, "read_file");
  schema = json_from_string (fj_tool_get_input_schema (tool), &error);
  g_assert_no_error (error);
  g_assert_true (json_object_has_member (json_node_get_object (schema), "properties"));

  text = invoke_path (tool, "notes.txt", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, "The launch code is 4217.\nSecond line.\n");

  deep = invoke_path (tool, "sub/../sub/./deep.txt", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (deep, ==, "deep file\n");

  via_link = invoke_path (tool, "link-in", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (via_link, ==, "deep file\n");

  listing = invoke_path (tool, ".", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (listing, ==, "big.txt\nbinary.bin\nlink-in\nlink-out\nnotes.txt\nsub/\n");

  /* An absolute path is fine when it lies inside the root. */
  absolute_path = g_build_filename (box.root, "notes.txt", NULL);
  absolute = invoke_path (tool, absolute_path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (absolute, ==, text);

  sandbox_clear (&box);
}

static void
test_read_file_outside (void)
{
  g_autoptr(FjPluginRegistry) registry = registry_new ();
  g_autoptr(FjTool) tool = NULL;
  g_autofree char *secret = NULL;
  Sandbox box = { 0 };

  sandbox_init (&box);
  tool = read_file_new (registry, &box, 1000);

  assert_refused (tool, "../secret.txt", G_IO_ERROR_PERMISSION_DENIED, "outside the directory");
  assert_refused (tool, "sub/../../secret.txt", G_IO_ERROR_PERMISSION_DENIED, "outside the directory");
  assert_refused (tool, "link-out", G_IO_ERROR_PERMISSION_DENIED, "outside the directory");
  assert_refused (tool, "/etc/passwd", G_IO_ERROR_PERMISSION_DENIED, "outside the directory");
  assert_refused (tool, "..", G_IO_ERROR_PERMISSION_DENIED, "outside the directory");
  /* Missing outside the root: refused, not reported missing. */
  assert_refused (tool, "../nothing-here", G_IO_ERROR_PERMISSION_DENIED, "outside the directory");
  secret = g_build_filename (box.dir, "secret.txt", NULL);
  assert_refused (tool, secret, G_IO_ERROR_PERMISSION_DENIED, "outside the directory");

  assert_refused (tool, "missing.txt", G_IO_ERROR_NOT_FOUND, "missing.txt");
  assert_refused (tool, "binary.bin", G_IO_ERROR_INVALID_DATA, "not a UTF-8 text file");
  assert_refused (tool, "big.txt", G_IO_ERROR_MESSAGE_TOO_LARGE, "over the limit of 1000 bytes");

  sandbox_clear (&box);
}

static void
test_read_file_bad_input (void)
{
  g_autoptr(FjPluginRegistry) registry = registry_new ();
  g_autoptr(FjTool) tool = tool_new (registry, "read_file", "{\"root\": \"/nonexistent-fj-root\"}");
  g_autoptr(FjTool) cwd_tool = tool_new (registry, "read_file", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) plugin_error = NULL;
  g_autoptr(JsonNode) options = NULL;
  g_autofree char *text = NULL;
  g_autofree char *root = NULL;
  GObject *object;

  text = fj_tool_invoke (tool, "{\"file\": \"x\"}", NULL, &error);
  g_assert_null (text);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "\"path\""));
  g_clear_error (&error);

  text = fj_tool_invoke (tool, "[1, 2]", NULL, &error);
  g_assert_null (text);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  text = invoke_path (tool, "x.txt", &error);
  g_assert_null (text);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "/nonexistent-fj-root does not exist"));
  g_clear_error (&error);

  /* The default root is the current directory. */
  g_object_get (cwd_tool, "root", &root, NULL);
  g_assert_cmpstr (root, ==, ".");

  /* A wrong option type is the registry's plugin error. */
  options = json_from_string ("{\"max_bytes\": \"lots\"}", &error);
  g_assert_no_error (error);
  object = fj_plugin_registry_create (registry, FJ_PLUGIN_KIND_TOOL, "read_file",
                                      json_node_get_object (options), &plugin_error);
  g_assert_null (object);
  g_assert_error (plugin_error, FJ_ERROR, FJ_ERROR_PLUGIN);
  g_assert_nonnull (strstr (plugin_error->message, "max_bytes"));
}

static void
test_clock (void)
{
  g_autoptr(FjPluginRegistry) registry = registry_new ();
  g_autoptr(FjTool) tool = tool_new (registry, "clock", NULL);
  g_autoptr(FjTool) paris_tool = tool_new (registry, "clock", "{\"time_zone\": \"Europe/Paris\"}");
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(JsonNode) tokyo_node = NULL;
  g_autoptr(JsonNode) paris_node = NULL;
  g_autoptr(GDateTime) parsed = NULL;
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  g_autofree char *text = NULL;
  g_autofree char *tokyo = NULL;
  g_autofree char *paris = NULL;
  g_autofree char *bad = NULL;
  JsonObject *object;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  const char *stamp;

  g_assert_cmpstr (fj_tool_get_name (tool), ==, "clock");

  text = fj_tool_invoke (tool, "{}", NULL, &error);
  g_assert_no_error (error);
  node = json_from_string (text, &error);
  g_assert_no_error (error);
  object = json_node_get_object (node);
  stamp = json_object_get_string_member (object, "utc");
  g_assert_true (g_str_has_suffix (stamp, "Z"));
  g_assert_cmpuint (strlen (stamp), ==, strlen ("2026-11-29T21:04:05.123Z"));
  parsed = g_date_time_new_from_iso8601 (stamp, utc);
  g_assert_nonnull (parsed);
  g_assert_cmpint (ABS (g_date_time_to_unix (parsed) - now), <=, 60);
  g_assert_cmpint (ABS (json_object_get_int_member (object, "unix") - now), <=, 60);
  g_assert_cmpstr (json_object_get_string_member (object, "time_zone"), ==, "UTC");
  g_assert_cmpstr (json_object_get_string_member (object, "local"), ==, stamp);

  tokyo = fj_tool_invoke (tool, "{\"tz\": \"Asia/Tokyo\"}", NULL, &error);
  g_assert_no_error (error);
  tokyo_node = json_from_string (tokyo, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (json_object_get_string_member (json_node_get_object (tokyo_node), "local"),
                                   "+09:00"));

  paris = fj_tool_invoke (paris_tool, NULL, NULL, &error);
  g_assert_no_error (error);
  paris_node = json_from_string (paris, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (paris_node), "time_zone"),
                   ==, "Europe/Paris");

  bad = fj_tool_invoke (tool, "{\"tz\": \"Mars/Olympus_Mons\"}", NULL, &error);
  g_assert_null (bad);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "Mars/Olympus_Mons"));
}

/* An agent with the real tools, against a simulator that makes it call
 * @tool_name with @input_json: the answer quotes what the tool returned. */
static FjAgentResult *
run_agent_with_tools (FjPluginRegistry *registry,
                      Sandbox          *box,
                      const char       *tool_name,
                      const char       *input_json)
{
  g_autofree char *scenario = g_strdup_printf ("{\"latency\": 0.01, \"output_tokens\": 80,"
                                               " \"tool_use\": {\"name\": \"%s\", \"input\": %s}}",
                                               tool_name, input_json);
  g_autoptr(FjSimulator) sim = fj_test_simulator_new (scenario);
  g_autoptr(FjClient) client = fj_test_client_new (sim);
  g_autoptr(FjAgent) agent = fj_agent_new ("librarian");
  g_autoptr(FjTool) read_file = read_file_new (registry, box, 0);
  g_autoptr(FjTool) clock = tool_new (registry, "clock", NULL);
  g_autoptr(GAsyncResult) async_result = NULL;
  g_autoptr(GError) error = NULL;
  FjAgentResult *result;

  fj_agent_set_instructions (agent, "You are a librarian.");
  fj_agent_add_tool (agent, read_file);
  fj_agent_add_tool (agent, clock);

  fj_agent_run_async (agent, client, "What do the notes say?", NULL,
                      fj_test_async_result_cb, &async_result);
  result = fj_agent_run_finish (agent, fj_test_wait_result (&async_result, 30), &error);
  g_assert_no_error (error);

  return result;
}

static void
test_agent_reads_file (void)
{
  g_autoptr(FjPluginRegistry) registry = registry_new ();
  g_autoptr(FjAgentResult) inside = NULL;
  g_autoptr(FjAgentResult) outside = NULL;
  g_autoptr(FjAgentResult) clock = NULL;
  Sandbox box = { 0 };

  sandbox_init (&box);

  inside = run_agent_with_tools (registry, &box, "read_file", "{\"path\": \"notes.txt\"}");
  g_test_message ("output: %s", fj_agent_result_get_output (inside));
  g_assert_cmpint (fj_agent_result_get_status (inside), ==, FJ_AGENT_STATUS_SUCCESS);
  g_assert_cmpuint (fj_agent_result_get_turns (inside), ==, 2);
  g_assert_nonnull (strstr (fj_agent_result_get_output (inside),
                            "the read_file tool returned \"The launch code is 4217.\""));

  /* A refusal is a tool error the model sees, not a failed agent. */
  outside = run_agent_with_tools (registry, &box, "read_file", "{\"path\": \"../secret.txt\"}");
  g_assert_cmpint (fj_agent_result_get_status (outside), ==, FJ_AGENT_STATUS_SUCCESS);
  g_assert_nonnull (strstr (fj_agent_result_get_output (outside), "outside the directory"));
  g_assert_null (strstr (fj_agent_result_get_output (outside), "top secret"));

  clock = run_agent_with_tools (registry, &box, "clock", "{\"tz\": \"UTC\"}");
  g_assert_cmpint (fj_agent_result_get_status (clock), ==, FJ_AGENT_STATUS_SUCCESS);
  g_assert_nonnull (strstr (fj_agent_result_get_output (clock), "the clock tool returned"));
  g_assert_nonnull (strstr (fj_agent_result_get_output (clock), "utc"));

  sandbox_clear (&box);
}

int
main (int   argc,
      char *argv[])
{
  fj_test_init (&argc, &argv);

  g_test_add_func ("/Forkjoin/ToolPlugins/read-file/inside", test_read_file_inside);
  g_test_add_func ("/Forkjoin/ToolPlugins/read-file/outside", test_read_file_outside);
  g_test_add_func ("/Forkjoin/ToolPlugins/read-file/bad-input", test_read_file_bad_input);
  g_test_add_func ("/Forkjoin/ToolPlugins/clock", test_clock);
  g_test_add_func ("/Forkjoin/ToolPlugins/agent", test_agent_reads_file);

  return g_test_run ();
}
