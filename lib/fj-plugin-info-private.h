/* fj-plugin-info-private.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fj-plugin-info.h"

G_BEGIN_DECLS

FjPluginInfo *_fj_plugin_info_new          (FjPluginKind  kind,
                                            const char   *name,
                                            GType         type,
                                            const char   *description,
                                            const char   *path);
/* The property names are GObject's (max-tokens), the JSON ones use '_'. */
char         *_fj_plugin_option_json_name  (const char   *property_name);
char         *_fj_plugin_option_type_name  (GParamSpec   *pspec);
gboolean      _fj_plugin_option_is_option  (GParamSpec   *pspec);

G_END_DECLS
