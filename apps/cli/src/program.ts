/** The `kisjobs` command tree (commander). Each command module registers its commands on the program. */
import { Command } from 'commander';
import { registerConfigs } from './commands/configs.js';
import { registerDatabase } from './commands/database.js';
import { registerExecutors } from './commands/executors.js';
import { registerJobActions } from './commands/job-actions.js';
import { registerJobs } from './commands/jobs.js';
import { registerLogin } from './commands/login.js';
import { registerLogs } from './commands/logs.js';
import { registerProcesses } from './commands/processes.js';
import { registerRuns } from './commands/runs.js';
import { registerScenes } from './commands/scenes.js';
import { registerTerminate } from './commands/terminate.js';
import { registerTokens } from './commands/tokens.js';
import { registerTrigger } from './commands/trigger.js';
import type { CliContext } from './context.js';
import { runDevStack } from './dev/dev-stack.js';

export const VERSION = '0.1.0';

export function buildProgram(ctx: CliContext, setExitCode: (code: number) => void): Command {
  const program = new Command('kisjobs')
    .description('KisJobs: schedule KisFlow flows as jobs, run them on executors, watch every run')
    .version(VERSION)
    .option(
      '--url <url>',
      'the KisJobs server (default: KISJOBS_URL, the stored login, http://127.0.0.1:8080)',
    )
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => ctx.io.out(s), writeErr: (s) => ctx.io.err(s) })
    .exitOverride();
  program
    .command('dev')
    .description('run the whole platform locally: scheduler, API, one executor and the example scene')
    .action(async () => setExitCode(await runDevStack(ctx)));
  registerLogin(program, ctx);
  registerTokens(program, ctx);
  registerDatabase(program, ctx);
  registerScenes(program, ctx);
  registerJobs(program, ctx);
  registerRuns(program, ctx);
  registerExecutors(program, ctx);
  registerConfigs(program, ctx);
  registerTrigger(program, ctx);
  registerTerminate(program, ctx);
  registerLogs(program, ctx);
  registerProcesses(program, ctx, setExitCode);
  const group = (name: string): Command => {
    const found = program.commands.find((c) => c.name() === name);
    if (found === undefined) throw new Error(`no command group ${name}`);
    return found;
  };
  registerJobActions(group('jobs'), group('executors'), ctx);
  for (const command of program.commands) propagateExitOverride(command, ctx);
  return program;
}

function propagateExitOverride(command: Command, ctx: CliContext): void {
  command.exitOverride().configureOutput({ writeOut: (s) => ctx.io.out(s), writeErr: (s) => ctx.io.err(s) });
  command.showHelpAfterError('(run with --help for usage)');
  for (const sub of command.commands) propagateExitOverride(sub, ctx);
}
