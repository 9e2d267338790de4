/* fuzz-scenario.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* libFuzzer target for the simulator's scenario loader
 * (fj_simulator_load_scenario_from_data()).  The simulator is never
 * started: no socket is opened. */

#include "config.h"

#include <string.h>

#include "forkjoin.h"

#include "fuzz-common.h"

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autoptr(FjSimulator) simulator = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *exact = NULL;
  gboolean ok;

  fuzz_log_init ();

  exact = g_memdup2 (data, size);
  simulator = fj_simulator_new ();
  ok = fj_simulator_load_scenario_from_data (simulator, exact ? exact : "", size, &error);
  g_assert (ok == (error == NULL));

  /* A second load over the first replaces it. */
  if (ok)
    {
      ok = fj_simulator_load_scenario_from_data (simulator, exact ? exact : "", size, &error);
      g_assert (ok && error == NULL);
    }

  return 0;
}
