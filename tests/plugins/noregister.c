/* noregister.c: exports the ABI symbol but no register function.
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <forkjoin.h>

G_MODULE_EXPORT const int fj_plugin_abi = FJ_PLUGIN_ABI;
