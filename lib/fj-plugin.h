/* fj-plugin.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (FORKJOIN_INSIDE) && !defined (FORKJOIN_COMPILATION)
# error "Only <forkjoin.h> can be included directly."
#endif

#include <gmodule.h>

#include "fj-version-macros.h"

G_BEGIN_DECLS

/**
 * FJ_PLUGIN_ABI:
 *
 * The plugin ABI this library loads. A module exports `fj_plugin_abi`
 * with this value; `FJ_PLUGIN_DEFINE()` does it.
 *
 * Since: 1.0
 */
#define FJ_PLUGIN_ABI 1

/**
 * FjPluginKind:
 * @FJ_PLUGIN_KIND_SYNTHESIZER: an [iface@Synthesizer]
 * @FJ_PLUGIN_KIND_POLICY: an [iface@Policy]
 * @FJ_PLUGIN_KIND_TOOL: a [class@Tool]
 *
 * What a plugin provides; each kind has its own names.
 *
 * Since: 1.0
 */
typedef enum
{
  FJ_PLUGIN_KIND_SYNTHESIZER,
  FJ_PLUGIN_KIND_POLICY,
  FJ_PLUGIN_KIND_TOOL,
} FjPluginKind;

/**
 * FJ_PLUGIN_DEFINE:
 * @...: the body of the register function; `registry` names the
 *   [class@PluginRegistry]
 *
 * Defines the two symbols a plugin module exports: `fj_plugin_abi` and
 * `fj_plugin_register()`. Used once per module:
 *
 * |[<!-- language="C" -->
 * FJ_PLUGIN_DEFINE (fj_plugin_registry_add (registry,
 *                                           FJ_PLUGIN_KIND_SYNTHESIZER,
 *                                           "concat",
 *                                           FJ_TYPE_CONCAT_SYNTHESIZER,
 *                                           "Joins the outputs"))
 * ]|
 *
 * Since: 1.0
 */
#define FJ_PLUGIN_DEFINE(...) \
  G_MODULE_EXPORT const int fj_plugin_abi = FJ_PLUGIN_ABI; \
  G_MODULE_EXPORT void fj_plugin_register (FjPluginRegistry *registry); \
  G_MODULE_EXPORT void \
  fj_plugin_register (FjPluginRegistry *registry) \
  { \
    __VA_ARGS__; \
  }

G_END_DECLS
