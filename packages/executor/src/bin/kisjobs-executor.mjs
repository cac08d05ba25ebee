#!/usr/bin/env node
// The `kisjobs-executor` command. Registers the TypeScript loader (workspaces ship .ts sources, and a
// functions module may be .ts), then runs the real entry.
import { register } from 'tsx/esm/api';

register();
await import('./kisjobs-executor.ts');
