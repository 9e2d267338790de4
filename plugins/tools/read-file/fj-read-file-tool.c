/* fj-read-file-tool.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <forkjoin.h>

/* The `read_file` tool: lets an agent read text files under one directory,
 * the `root` option (default: the current directory when the tool is
 * created).  The model gives a path relative to the root; the path is
 * resolved with every symlink and `..` followed, and anything that ends up
 * outside the root is refused with an error the model sees.  A directory
 * gives its listing.  Files over `max_bytes` or not UTF-8 are refused.
 *
 * The check resolves the path, then opens the resolved path without
 * following a final symlink and checks what it opened is a regular file,
 * so a link swapped in after the check is not followed either. */

#define FJ_TYPE_READ_FILE_TOOL (fj_read_file_tool_get_type ())

G_DECLARE_FINAL_TYPE (FjReadFileTool, fj_read_file_tool, FJ, READ_FILE_TOOL, FjTool)

#define DEFAULT_MAX_BYTES (256 * 1024)
#define MAX_LISTING 1000

struct _FjReadFileTool
{
  FjTool  parent_instance;

  char   *root;           /* as given */
  char   *resolved_root;  /* absolute, symlinks resolved; NULL when it does not exist */
  guint   max_bytes;
};

G_DEFINE_FINAL_TYPE (FjReadFileTool, fj_read_file_tool, FJ_TYPE_TOOL)

enum {
  PROP_0,
  PROP_ROOT,
  PROP_MAX_BYTES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char input_schema[] =
  "{\"type\":\"object\","
  "\"properties\":{\"path\":{\"type\":\"string\","
  "\"description\":\"A file or directory, relative to the root directory\"}},"
  "\"required\":[\"path\"]}";

static void
set_root (FjReadFileTool *self,
          const char     *root)
{
  g_autofree char *absolute = NULL;
  char resolved[PATH_MAX];

  g_clear_pointer (&self->root, g_free);
  g_clear_pointer (&self->resolved_root, g_free);

  self->root = g_strdup (root != NULL && root[0] != '\0' ? root : ".");
  absolute = g_canonicalize_filename (self->root, NULL);

  if (realpath (absolute, resolved) != NULL)
    self->resolved_root = g_strdup (resolved);
}

static gboolean
is_inside (const char *root,
           const char *path)
{
  gsize len = strlen (root);

  if (g_str_equal (root, "/"))
    return TRUE;

  return strncmp (path, root, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static char *
list_directory (const char  *resolved,
                const char  *shown,
                GError     **error)
{
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) local_error = NULL;
  GString *out;
  const char *name;
  gboolean truncated = FALSE;

  dir = g_dir_open (resolved, 0, &local_error);
  if (dir == NULL)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "cannot list %s: %s", shown, g_strerror (errno));
      return NULL;
    }

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (resolved, name, NULL);
      gboolean is_dir = g_file_test (child, G_FILE_TEST_IS_DIR);

      if (names->len == MAX_LISTING)
        {
          truncated = TRUE;
          break;
        }
      g_ptr_array_add (names, g_strconcat (name, is_dir ? "/" : "", NULL));
    }

  g_ptr_array_sort (names, compare_names);

  out = g_string_new (NULL);
  for (guint i = 0; i < names->len; i++)
    {
      g_string_append (out, g_ptr_array_index (names, i));
      g_string_append_c (out, '\n');
    }
  if (truncated)
    g_string_append_printf (out, "(listing stops after %u entries)\n", MAX_LISTING);
  if (names->len == 0)
    g_string_append (out, "(empty directory)\n");

  return g_string_free (out, FALSE);
}

static char *
read_regular_file (FjReadFileTool  *self,
                   const char      *resolved,
                   const char      *shown,
                   GError         **error)
{
  g_autofree char *data = NULL;
  struct stat st;
  gsize size = 0;
  int fd;

  fd = open (resolved, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "cannot open %s: %s", shown, g_strerror (saved));
      return NULL;
    }

  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      close (fd);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                   "%s is not a regular file", shown);
      return NULL;
    }

  if ((guint64) st.st_size > self->max_bytes)
    {
      close (fd);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                   "%s is %" G_GUINT64_FORMAT " bytes, over the limit of %u bytes",
                   shown, (guint64) st.st_size, self->max_bytes);
      return NULL;
    }

  /* One byte more than the limit, in case the file grew since fstat(). */
  data = g_malloc (self->max_bytes + 1);
  while (size <= self->max_bytes)
    {
      ssize_t n = read (fd, data + size, self->max_bytes + 1 - size);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;

          close (fd);
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       "cannot read %s: %s", shown, g_strerror (saved));
          return NULL;
        }
      if (n == 0)
        break;
      size += n;
    }
  close (fd);

  if (size > self->max_bytes)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                   "%s is over the limit of %u bytes", shown, self->max_bytes);
      return NULL;
    }

  if (!g_utf8_validate_len (data, size, NULL) || memchr (data, '\0', size) != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s is not a UTF-8 text file", shown);
      return NULL;
    }

  return g_strndup (data, size);
}

static char *
fj_read_file_tool_invoke (FjTool        *tool,
                          const char    *input_json,
                          GCancellable  *cancellable,
                          GError       **error)
{
  FjReadFileTool *self = FJ_READ_FILE_TOOL (tool);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *joined = NULL;
  g_autofree char *canonical = NULL;
  JsonNode *root;
  JsonNode *member;
  const char *path;
  char resolved[PATH_MAX];
  struct stat st;

  if (!json_parser_load_from_data (parser, input_json != NULL ? input_json : "", -1, NULL) ||
      (root = json_parser_get_root (parser)) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "the input must be an object with a \"path\" string");
      return NULL;
    }

  member = json_object_get_member (json_node_get_object (root), "path");
  if (member == NULL || !JSON_NODE_HOLDS_VALUE (member) ||
      json_node_get_value_type (member) != G_TYPE_STRING)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "the input needs a \"path\" string");
      return NULL;
    }

  path = json_node_get_string (member);
  if (path[0] == '\0')
    path = ".";

  if (self->resolved_root == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "the root directory %s does not exist", self->root);
      return NULL;
    }

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  /* An absolute path is allowed when it names something inside the root. */
  if (g_path_is_absolute (path))
    joined = g_strdup (path);
  else
    joined = g_build_filename (self->resolved_root, path, NULL);
  canonical = g_canonicalize_filename (joined, NULL);

  if (realpath (canonical, resolved) == NULL)
    {
      int saved = errno;

      /* A missing file outside the root is refused, not reported missing,
       * so the model learns nothing about what lies outside. */
      if (!is_inside (self->resolved_root, canonical))
        goto outside;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "%s: %s", path, g_strerror (saved));
      return NULL;
    }

  if (!is_inside (self->resolved_root, resolved))
    goto outside;

  if (stat (resolved, &st) == 0 && S_ISDIR (st.st_mode))
    return list_directory (resolved, path, error);

  return read_regular_file (self, resolved, path, error);

outside:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
               "%s is outside the directory this tool may read", path);
  return NULL;
}

static void
fj_read_file_tool_finalize (GObject *object)
{
  FjReadFileTool *self = FJ_READ_FILE_TOOL (object);

  g_clear_pointer (&self->root, g_free);
  g_clear_pointer (&self->resolved_root, g_free);

  G_OBJECT_CLASS (fj_read_file_tool_parent_class)->finalize (object);
}

static void
fj_read_file_tool_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  FjReadFileTool *self = FJ_READ_FILE_TOOL (object);

  switch (prop_id)
    {
    case PROP_ROOT:
      g_value_set_string (value, self->root);
      break;

    case PROP_MAX_BYTES:
      g_value_set_uint (value, self->max_bytes);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_read_file_tool_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  FjReadFileTool *self = FJ_READ_FILE_TOOL (object);

  switch (prop_id)
    {
    case PROP_ROOT:
      set_root (self, g_value_get_string (value));
      break;

    case PROP_MAX_BYTES:
      self->max_bytes = g_value_get_uint (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_read_file_tool_class_init (FjReadFileToolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  FjToolClass *tool_class = FJ_TOOL_CLASS (klass);

  object_class->finalize = fj_read_file_tool_finalize;
  object_class->get_property = fj_read_file_tool_get_property;
  object_class->set_property = fj_read_file_tool_set_property;

  tool_class->invoke = fj_read_file_tool_invoke;

  properties[PROP_ROOT] =
    g_param_spec_string ("root", NULL,
                         "The directory whose files the tool may read; default: the current directory",
                         ".",
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);

  properties[PROP_MAX_BYTES] =
    g_param_spec_uint ("max-bytes", NULL,
                       "The largest file the tool returns, in bytes",
                       1, 64 * 1024 * 1024, DEFAULT_MAX_BYTES,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
fj_read_file_tool_init (FjReadFileTool *self)
{
  self->max_bytes = DEFAULT_MAX_BYTES;

  fj_tool_set_name (FJ_TOOL (self), "read_file");
  fj_tool_set_description (FJ_TOOL (self),
                           "Reads a UTF-8 text file, or lists a directory, under the "
                           "directory this tool is allowed to read. Paths are relative "
                           "to that directory.");
  fj_tool_set_input_schema (FJ_TOOL (self), input_schema);
}

FJ_PLUGIN_DEFINE (fj_plugin_registry_add (registry,
                                          FJ_PLUGIN_KIND_TOOL,
                                          "read_file",
                                          FJ_TYPE_READ_FILE_TOOL,
                                          "Reads text files under one directory (option root)"))
