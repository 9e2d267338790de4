/* forkjoin-tool.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "fj-cli.h"

typedef struct
{
  const char *name;
  int       (*run) (int argc, char **argv);
  const char *summary;
} Command;

static const Command commands[] = {
  { "run",      fj_cmd_run,      "Run a fork-join described by a JSON spec" },
  { "resume",   fj_cmd_resume,   "Rerun the failed agents of a --json result, or finish a --batch run" },
  { "bench",    fj_cmd_bench,    "Time a spec sequentially and at several widths" },
  { "batch",    fj_cmd_batch,    "Show or cancel the batch of a “run --batch” from its state file" },
  { "simulate", fj_cmd_simulate, "Run the API simulator standalone, for other programs' tests" },
  { "plugins",  fj_cmd_plugins,  "List the plugins found and the modules that failed to load" },
  { "validate", fj_cmd_validate, "Load a spec and report every problem in it" },
};

static void
print_usage (FILE *stream)
{
  fprintf (stream,
           "Usage:\n"
           "  forkjoin-tool COMMAND [OPTION…]\n"
           "\n"
           "Run LLM agents in parallel and join their results.\n"
           "\n"
           "Commands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (stream, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (stream,
           "\n"
           "Options:\n"
           "  -h, --help     Show this help\n"
           "  --version      Show the version\n"
           "\n"
           "Run “forkjoin-tool COMMAND --help” for a command's options.\n");
}

int
main (int   argc,
      char *argv[])
{
  const char *name;

  setlocale (LC_ALL, "");
  g_set_prgname ("forkjoin-tool");
  /* G_MESSAGES_DEBUG output goes to stderr, never into a document on stdout. */
  g_log_writer_default_set_use_stderr (TRUE);

  if (argc < 2)
    {
      fj_cli_printerr ("no command given");
      print_usage (stderr);
      return FJ_EXIT_USAGE;
    }

  name = argv[1];

  if (strcmp (name, "--help") == 0 || strcmp (name, "-h") == 0 || strcmp (name, "help") == 0)
    {
      /* "help COMMAND" is "COMMAND --help". */
      if (argc > 2 && strcmp (name, "help") == 0)
        {
          for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
            if (strcmp (argv[2], commands[i].name) == 0)
              {
                char *help_argv[] = { argv[2], (char *) "--help", NULL };

                return commands[i].run (2, help_argv);
              }

          fj_cli_printerr ("unknown command “%s”", argv[2]);
          print_usage (stderr);
          return FJ_EXIT_USAGE;
        }

      print_usage (stdout);
      return FJ_EXIT_OK;
    }

  if (strcmp (name, "--version") == 0 || strcmp (name, "-V") == 0)
    {
      printf ("forkjoin-tool %s\n", PACKAGE_VERSION);
      return FJ_EXIT_OK;
    }

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (name, commands[i].name) == 0)
      return commands[i].run (argc - 1, argv + 1);

  if (name[0] == '-')
    fj_cli_printerr ("unknown option “%s”: a command comes first", name);
  else
    fj_cli_printerr ("unknown command “%s”", name);
  print_usage (stderr);

  return FJ_EXIT_USAGE;
}
