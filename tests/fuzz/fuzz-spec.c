/* fuzz-spec.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* libFuzzer target for the JSON spec loader (fj_spec_load_from_data()),
 * with a registry that has no plugins: specs naming plugins or tools get
 * their errors, everything else is loaded and read back. */

#include "config.h"

#include <string.h>

#include "forkjoin.h"

#include "fuzz-common.h"

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  static FjPluginRegistry *registry;
  g_autoptr(FjSpec) spec = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *exact = NULL;
  GListModel *agents;
  gboolean ok;
  guint n, i;

  fuzz_log_init ();

  if (registry == NULL)
    registry = fj_plugin_registry_new ();

  /* Exactly @size bytes, with no terminator, so a read past the end shows. */
  exact = g_memdup2 (data, size);
  spec = fj_spec_new (registry);
  ok = fj_spec_load_from_data (spec, exact ? exact : "", size, "fuzz.json", &error);
  g_assert (ok == (error == NULL));
  if (!ok)
    {
      g_assert (error->message != NULL && error->message[0] != '\0');
      return 0;
    }

  (void) fj_spec_get_sha256 (spec);
  (void) fj_spec_get_input (spec);
  (void) fj_spec_get_description (spec);
  (void) fj_spec_get_default_timeout (spec);
  (void) fj_spec_get_min_successes (spec);
  (void) fj_spec_get_max_concurrent (spec);

  agents = fj_spec_get_agents (spec);
  n = g_list_model_get_n_items (agents);
  for (i = 0; i < n; i++)
    {
      g_autoptr(GObject) agent = g_list_model_get_item (agents, i);

      g_assert (agent != NULL);
    }

  return 0;
}
