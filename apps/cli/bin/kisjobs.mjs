#!/usr/bin/env node
// The `kisjobs` command. Registers the TypeScript loader (the workspaces ship .ts sources, and functions
// modules may be .ts), then runs the real entry.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
