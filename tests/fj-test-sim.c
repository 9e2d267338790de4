/* fj-test-sim.c — simulator and client helpers for the C test suites
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-test-utils.h"

FjSimulator *
fj_test_simulator_new (const char *scenario_json)
{
  g_autoptr(FjSimulator) sim = fj_simulator_new ();
  g_autoptr(GError) error = NULL;

  fj_simulator_set_api_key (sim, FJ_TEST_API_KEY);
  if (scenario_json != NULL)
    {
      fj_simulator_load_scenario_from_data (sim, scenario_json, -1, &error);
      g_assert_no_error (error);
    }
  fj_simulator_start (sim, &error);
  g_assert_no_error (error);

  return g_steal_pointer (&sim);
}

FjClient *
fj_test_client_new (FjSimulator *sim)
{
  g_autofree char *url = fj_simulator_dup_base_url (sim);
  FjClient *client = fj_client_new_for_base_url (url);

  fj_client_set_api_key (client, FJ_TEST_API_KEY);
  return client;
}
