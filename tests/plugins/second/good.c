/* second/good.c: the same module file name as ../good.c, in a later
 * dir; it must never be opened.
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <forkjoin.h>

G_MODULE_EXPORT const int fj_plugin_abi = FJ_PLUGIN_ABI;
G_MODULE_EXPORT void fj_plugin_register (FjPluginRegistry *registry);

G_MODULE_EXPORT void
fj_plugin_register (FjPluginRegistry *registry)
{
  g_error ("a module an earlier dir provides must not be loaded");
}
