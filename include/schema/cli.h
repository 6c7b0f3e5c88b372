/*
 * cli.h - the command line as a function, for main() and for the fuzz
 * target over every command's argument parsing.
 */
#ifndef SCH_CLI_H
#define SCH_CLI_H

/*
 * Runs `schema argv[1] ...`: global options (--repo, --version, --help),
 * then the command of the table with its preconditions (a repository
 * opened, a transaction). Prints what the command prints and its error,
 * and returns the exit status (0 ok, 1 a check found a problem, 2 usage,
 * 3 database, 4 repository). argv is not changed; every resource the run
 * took is released, so it may be called again in the same process.
 */
int sch_cli_main(int argc, char **argv);

#endif
