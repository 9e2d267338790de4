/* fuzz-common.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

/* Shared by the libFuzzer targets: logging is silenced (a fuzzer feeds
 * millions of bad inputs, and warnings about them are expected), but a
 * critical (a failed g_return_if_fail, a misuse inside the library) or an
 * error is a finding and aborts, so libFuzzer reports it with the input. */

static GLogWriterOutput
fuzz_log_writer (GLogLevelFlags   log_level,
                 const GLogField *fields,
                 gsize            n_fields,
                 gpointer         user_data)
{
  gsize i;

  (void) user_data;

  if ((log_level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR)) == 0)
    return G_LOG_WRITER_HANDLED;

  for (i = 0; i < n_fields; i++)
    if (g_strcmp0 (fields[i].key, "MESSAGE") == 0 && fields[i].length < 0)
      fprintf (stderr, "fuzz: critical: %s\n", (const char *) fields[i].value);

  abort ();
  return G_LOG_WRITER_UNHANDLED;
}

static void
fuzz_log_init (void)
{
  static gsize once;

  if (g_once_init_enter (&once))
    {
      g_log_set_writer_func (fuzz_log_writer, NULL, NULL);
      g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);
      g_once_init_leave (&once, 1);
    }
}

/* A NUL-terminated copy, for APIs that take a C string; libFuzzer's buffer
 * is not terminated. */
static inline char *
fuzz_strndup (const guint8 *data,
              size_t        size)
{
  char *copy = g_malloc (size + 1);

  if (size > 0)
    memcpy (copy, data, size);
  copy[size] = '\0';
  return copy;
}

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);
