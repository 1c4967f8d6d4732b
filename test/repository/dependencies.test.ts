import { readFileSync } from 'node:fs';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** The packages the Lambda bundles import at run time (type-only imports are erased by esbuild). */
async function packagesImportedByHandlers(): Promise<Set<string>> {
  const result = await build({
    entryPoints: ['functions/handlers/planner.ts', 'functions/handlers/worker.ts'],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outdir: 'out',
    logLevel: 'silent',
  });
  const packages = new Set<string>();
  for (const input of Object.values(result.metafile.inputs)) {
    for (const imported of input.imports) {
      if (!imported.external || imported.path.startsWith('node:')) continue;
      const parts = imported.path.split('/');
      packages.add(imported.path.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? ''));
    }
  }
  return packages;
}

describe('package.json', () => {
  it('lists exactly what the Lambda bundles import as dependencies; everything else is a devDependency', async () => {
    const imported = [...(await packagesImportedByHandlers())].sort();
    expect(Object.keys(manifest.dependencies).sort()).toEqual(imported);
  });

  it('pins one version of the AWS SDK and of Powertools', () => {
    const all = { ...manifest.dependencies, ...manifest.devDependencies };
    for (const scope of ['@aws-sdk/', '@aws-lambda-powertools/']) {
      const versions = new Set(
        Object.entries(all)
          .filter(([name]) => name.startsWith(scope))
          .map(([, version]) => version),
      );
      expect(versions.size, scope).toBe(1);
    }
  });

  it('pins exact versions', () => {
    const all = { ...manifest.dependencies, ...manifest.devDependencies };
    const ranged = Object.entries(all).filter(
      ([, version]) => !/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(version),
    );
    expect(ranged).toEqual([]);
  });
});
