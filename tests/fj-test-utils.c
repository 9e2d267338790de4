/* fj-test-utils.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fj-test-utils.h"

static void
log_must_not_leak_key (const char     *log_domain,
                       GLogLevelFlags  log_level,
                       const char     *message,
                       gpointer        user_data)
{
  fj_test_assert_no_key (message);
  g_log_default_handler (log_domain, log_level, message, user_data);
}

void
fj_test_init (int    *argc,
              char ***argv)
{
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  /* A developer's real credentials must never reach a test. */
  g_unsetenv ("ANTHROPIC_API_KEY");
  g_unsetenv ("ANTHROPIC_AUTH_TOKEN");
  g_unsetenv ("ANTHROPIC_BASE_URL");

  g_test_init (argc, argv, NULL);
  g_log_set_handler ("forkjoin", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION,
                     log_must_not_leak_key, NULL);
}

double
fj_test_time_scale (void)
{
  static double scale = 0;

  if (scale == 0)
    {
      const char *env = g_getenv ("FJ_TEST_TIME_SCALE");
      double value = env != NULL ? g_ascii_strtod (env, NULL) : 1;

      /* Only ever widen: a bogus or smaller value means no scaling. */
      scale = value >= 1 ? value : 1;
    }

  return scale;
}

static gboolean
timeout_cb (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

void
fj_test_wait_for (gboolean *flag,
                  double    timeout_seconds)
{
  gboolean timed_out = FALSE;
  guint id;

  timeout_seconds *= fj_test_time_scale ();
  id = g_timeout_add ((guint) (timeout_seconds * 1000), timeout_cb, &timed_out);

  while (!*flag && !timed_out)
    g_main_context_iteration (NULL, TRUE);

  if (!timed_out)
    g_source_remove (id);
  if (!*flag)
    g_error ("timed out after %.1f s waiting for an operation to complete", timeout_seconds);
}

void
fj_test_run_for (double seconds)
{
  gboolean done = FALSE;

  g_timeout_add ((guint) (seconds * 1000), timeout_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

void
fj_test_async_result_cb (GObject      *source,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  GAsyncResult **out = user_data;

  g_assert_null (*out);
  *out = g_object_ref (result);
}

static gboolean
is_set (GAsyncResult **result)
{
  return *result != NULL;
}

GAsyncResult *
fj_test_wait_result (GAsyncResult **result,
                     double         timeout_seconds)
{
  gboolean timed_out = FALSE;
  guint id;

  timeout_seconds *= fj_test_time_scale ();
  id = g_timeout_add ((guint) (timeout_seconds * 1000), timeout_cb, &timed_out);

  while (!is_set (result) && !timed_out)
    g_main_context_iteration (NULL, TRUE);

  if (!timed_out)
    g_source_remove (id);
  if (*result == NULL)
    g_error ("timed out after %.1f s waiting for an async result", timeout_seconds);

  return *result;
}

char *
fj_test_shared_fixture (const char *name)
{
  const char *dir = g_getenv ("FJ_SHARED_FIXTURES");
  g_autofree char *path = NULL;

  if (dir == NULL || !g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("../shared/fixtures is absent: the recorded fixtures cannot be read");
      return NULL;
    }

  path = g_build_filename (dir, name, NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_autofree char *msg = g_strdup_printf ("fixture %s is absent from %s", name, dir);
      g_test_skip (msg);
      return NULL;
    }

  return g_steal_pointer (&path);
}

char *
fj_test_load_fixture (const char *name,
                      gsize      *length)
{
  g_autofree char *path = fj_test_shared_fixture (name);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  GString *out;
  const char *p;
  gsize len;

  if (path == NULL)
    return NULL;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);

  /* Strip the '#' note lines the fixtures open with, keeping every other
   * byte exactly (line endings included). */
  out = g_string_sized_new (len);
  p = contents;
  while (p < contents + len)
    {
      const char *nl = memchr (p, '\n', contents + len - p);
      const char *end = nl ? nl + 1 : contents + len;

      if (*p != '#')
        g_string_append_len (out, p, end - p);
      p = end;
    }

  if (length)
    *length = out->len;
  return g_string_free (out, FALSE);
}

void
fj_test_assert_no_key (const char *text)
{
  if (text != NULL && strstr (text, FJ_TEST_API_KEY) != NULL)
    g_error ("the API key leaked into a message or output (%zu bytes)", strlen (text));
}

GError *
fj_test_send_and_wait (FjClient     *client,
                       FjMessage    *message,
                       GCancellable *cancellable,
                       double        timeout_seconds)
{
  g_autoptr(GAsyncResult) result = NULL;
  GError *error = NULL;

  fj_client_send_async (client, message, cancellable, fj_test_async_result_cb, &result);
  fj_test_wait_result (&result, timeout_seconds);
  if (!fj_client_send_finish (client, result, &error))
    {
      g_assert_nonnull (error);
      fj_test_assert_no_key (error->message);
      return error;
    }
  g_assert_no_error (error);
  return NULL;
}
