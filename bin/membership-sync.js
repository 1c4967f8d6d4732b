#!/usr/bin/env node
// Runs the TypeScript CLI through tsx so `npx membership-sync` works without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../local/cli/main.ts');
