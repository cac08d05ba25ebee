/** The `kisjobs` composition root: the real process's environment, streams and exit code. */
import type { CliContext } from './context.js';
import { runCli } from './run-cli.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const ctx: CliContext = {
  env: process.env,
  cwd: process.cwd(),
  io: {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    readStdin,
    interactive: process.stderr.isTTY === true,
  },
};

const code = await runCli(process.argv.slice(2), ctx);
// Let stdout drain (a pipe may be slower than us), then exit: open handles must not keep the CLI alive.
process.stdout.write('', () => process.exit(code));
