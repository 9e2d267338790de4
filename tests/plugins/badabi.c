/* badabi.c: built for another plugin ABI.
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <forkjoin.h>

G_MODULE_EXPORT const int fj_plugin_abi = FJ_PLUGIN_ABI + 41;
G_MODULE_EXPORT void fj_plugin_register (FjPluginRegistry *registry);

G_MODULE_EXPORT void
fj_plugin_register (FjPluginRegistry *registry)
{
  g_error ("a module with another ABI must not be registered");
}
