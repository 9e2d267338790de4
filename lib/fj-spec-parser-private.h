/* fj-spec-parser-private.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* A place in a document: 1-based line and column, the column counted in
 * characters (not bytes). */
typedef struct
{
  guint line;
  guint column;
} FjSpecPosition;

/* One thing wrong (or worth a warning) in a document: where, the field
 * path (`agents[2].timeout`, empty for the document itself) and what. */
typedef struct
{
  FjSpecPosition  position;
  char           *path;
  char           *message;
} FjSpecProblem;

FjSpecProblem  *_fj_spec_problem_new                 (const FjSpecPosition *position,
                                                      const char           *path,
                                                      const char           *message);
void            _fj_spec_problem_free                (FjSpecProblem        *problem);
/* Sorts @problems (of FjSpecProblem) into document order, keeping the
 * order of problems at the same place. */
void            _fj_spec_problems_sort               (GPtrArray            *problems);
/* "FILE:LINE:COL: PATH: MESSAGE" (without "PATH: " when the path is empty). */
char           *_fj_spec_problem_format              (const FjSpecProblem  *problem,
                                                      const char           *filename);

/* Appends a member name (`.name`, or `name` at the start; quoted when it
 * is not a plain word) or an element index (`[3]`) to a field path. */
void            _fj_spec_path_append_member          (GString              *path,
                                                      const char           *name);
void            _fj_spec_path_append_index           (GString              *path,
                                                      guint                 index);

typedef struct _FjSpecDocument FjSpecDocument;

/* Parses @data as strict RFC 8259 JSON: no comments, single quotes,
 * trailing commas, content after the document, empty documents, invalid
 * UTF-8, "\u0000", or nesting deeper than FJ_JSON_MAX_DEPTH. Numbers
 * without a fraction or exponent that fit are integers (G_TYPE_INT64),
 * the others doubles.
 *
 * A syntax error stops the parse: NULL is returned and the problem added
 * to @problems. A duplicate member name is added to @problems too, but
 * the parse goes on (the first value is kept), so the document is
 * returned along with it. A leading UTF-8 byte order mark is skipped. */
FjSpecDocument *_fj_spec_document_parse              (const char           *data,
                                                      gsize                 length,
                                                      GPtrArray            *problems);
void            _fj_spec_document_free               (FjSpecDocument       *self);
JsonNode       *_fj_spec_document_get_root           (FjSpecDocument       *self);
/* Where @node (any node of the tree) starts. */
FjSpecPosition  _fj_spec_document_get_position       (FjSpecDocument       *self,
                                                      JsonNode             *node);
/* Where the name of the member whose value is @node starts (the
 * position of @node itself when it is not a member's value). */
FjSpecPosition  _fj_spec_document_get_name_position  (FjSpecDocument       *self,
                                                      JsonNode             *node);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FjSpecDocument, _fj_spec_document_free)

G_END_DECLS
