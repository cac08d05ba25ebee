/**
 * What every command gets from the composition root (main.ts): the environment, the working folder, where
 * output goes and how to reach the server. Tests build one with their own writers.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Everything on standard input (for `--password-stdin` and `-f -`). */
  readonly readStdin: () => Promise<string>;
  /** True when stdout is a terminal (progress lines are redrawn only then). */
  readonly interactive: boolean;
}

export interface CliContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly io: CliIo;
}

/** `KISJOBS_CONFIG_DIR`, else `$XDG_CONFIG_HOME/kisjobs`, else `~/.config/kisjobs`. */
export function configDir(ctx: CliContext): string {
  const explicit = ctx.env['KISJOBS_CONFIG_DIR'];
  if (explicit !== undefined && explicit !== '') return explicit;
  const xdg = ctx.env['XDG_CONFIG_HOME'];
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.config'), 'kisjobs');
}
