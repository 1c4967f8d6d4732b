import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The repository stands on its own: no tracked file points at a document outside it, and every
 * citation of a project document (`docs/<name>.md`, its sections, its guarantees, its headings)
 * names something that exists. Failures name the file and line.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The section sign, spelled out so this file's own text does not look like a citation. */
const SECTION = '\u00a7';

const designWord = ['DES', 'IGN'].join('');
/** Phrases that point outside the repository, built from parts so this file does not match them. */
const OUTSIDE: readonly { pattern: RegExp; what: string }[] = [
  { pattern: new RegExp(['\\.\\.', 'shared'].join('/')), what: 'a folder beside the clone' },
  { pattern: new RegExp(['shared', 'reference'].join('/')), what: 'an outside reference folder' },
  { pattern: new RegExp([designWord, 'md'].join('\\.')), what: 'an outside design document' },
  { pattern: new RegExp([designWord, 'invariant'].join(' ')), what: 'an outside design document' },
  {
    pattern: new RegExp(['reference', SECTION].join(' '), 'i'),
    what: 'sections of an outside reference',
  },
  {
    pattern: new RegExp(
      `\\b(${['bitrix24-api', 'local-emulation', 'peers-and-patterns'].join('|')})\\.md`,
    ),
    what: 'an outside reference document',
  },
];

/** `docs/<name>.md §N`, optionally followed by `, §M` or ` and §M`. */
const SECTION_CITE = new RegExp(
  `(?<![\\w-])docs/([\\w-]+)\\.md ${SECTION}(\\d+)((?:(?:, | and )${SECTION}\\d+)*)`,
  'g',
);
/** A bare section sign inside a project document cites that document itself. */
const BARE_SECTIONS = new RegExp(`${SECTION}(\\d+)`, 'g');
const DOC_PATH = /(?<![\w-])docs\/([\w-]+)\.md/g;
const GUARANTEE_CITE = /docs\/design\.md, guarantees? (\d+)((?:(?:, | and )\d+)*)/g;
const HEADING_CITE = /(?<![\w-])docs\/([\w-]+)\.md, "([^"]+)"/g;

interface TrackedFile {
  readonly path: string;
  readonly lines: readonly string[];
}

/** Every tracked text file but the lock file (binary files hold a NUL byte). */
function trackedTextFiles(): TrackedFile[] {
  const paths = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((path) => path !== '' && path !== 'package-lock.json' && existsSync(`${ROOT}${path}`));
  const files: TrackedFile[] = [];
  for (const path of paths) {
    const bytes = readFileSync(`${ROOT}${path}`);
    if (bytes.includes(0)) continue;
    files.push({ path, lines: bytes.toString('utf8').split('\n') });
  }
  return files;
}

const files = trackedTextFiles();
const byPath = new Map(files.map((file) => [file.path, file]));

function headingsOf(doc: string): string[] {
  return (byPath.get(`docs/${doc}.md`)?.lines ?? []).filter((line) => /^#{1,6} /.test(line));
}

/** Numbers of the `## N. Title` sections of a project document. */
function sectionNumbers(doc: string): Set<number> {
  const numbers = new Set<number>();
  for (const heading of headingsOf(doc)) {
    const match = /^## (\d+)\. /.exec(heading);
    if (match) numbers.add(Number(match[1]));
  }
  return numbers;
}

/** How many numbered guarantees docs/design.md lists under "## Guarantees". */
function guaranteeCount(): number {
  const lines = byPath.get('docs/design.md')?.lines ?? [];
  const start = lines.indexOf('## Guarantees');
  let count = 0;
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('## ')) break;
    if (/^\d+\. /.test(line)) count += 1;
  }
  return start < 0 ? 0 : count;
}

const numbersIn = (first: string | undefined, rest: string | undefined) =>
  [first, ...Array.from((rest ?? '').matchAll(/\d+/g), (m) => m[0])].map(Number);

/** Problems on one line: outside references, and citations of project documents that do not resolve. */
function problems(path: string, line: string, guarantees: number): string[] {
  const found: string[] = [];
  for (const { pattern, what } of OUTSIDE) {
    if (pattern.test(line)) found.push(`cites ${what} (${pattern.source})`);
  }
  for (const match of line.matchAll(DOC_PATH)) {
    if (!byPath.has(`docs/${match[1]}.md`)) found.push(`docs/${match[1]}.md does not exist`);
  }
  for (const match of line.matchAll(SECTION_CITE)) {
    const sections = sectionNumbers(match[1] ?? '');
    for (const n of numbersIn(match[2], match[3])) {
      if (!sections.has(n)) found.push(`docs/${match[1]}.md has no section ${SECTION}${n}`);
    }
  }
  const rest = line.replace(SECTION_CITE, '');
  const own = /^docs\/([\w-]+)\.md$/.exec(path)?.[1];
  for (const match of rest.matchAll(BARE_SECTIONS)) {
    if (own === undefined) {
      found.push(`${SECTION}${match[1]} names no document (write "docs/<name>.md ${SECTION}N")`);
    } else if (!sectionNumbers(own).has(Number(match[1]))) {
      found.push(`${path} has no section ${SECTION}${match[1]}`);
    }
  }
  for (const match of line.matchAll(GUARANTEE_CITE)) {
    for (const n of numbersIn(match[1], match[2])) {
      if (n < 1 || n > guarantees) found.push(`docs/design.md has no guarantee ${n}`);
    }
  }
  for (const match of line.matchAll(HEADING_CITE)) {
    const title = match[2] ?? '';
    const wanted = title.toLowerCase();
    if (!headingsOf(match[1] ?? '').some((heading) => heading.toLowerCase().includes(wanted))) {
      found.push(`docs/${match[1]}.md has no heading "${title}"`);
    }
  }
  return found;
}

describe('the repository stands on its own', () => {
  it('reads a useful set of files', () => {
    expect(byPath.has('docs/bitrix24.md')).toBe(true);
    expect(sectionNumbers('bitrix24').size).toBeGreaterThanOrEqual(10);
    expect(guaranteeCount()).toBeGreaterThanOrEqual(8);
  });

  it('cites no document outside it, and every cited project document, section, guarantee and heading exists', () => {
    const guarantees = guaranteeCount();
    const failures: string[] = [];
    for (const file of files) {
      file.lines.forEach((line, i) => {
        for (const problem of problems(file.path, line, guarantees)) {
          failures.push(`${file.path}:${i + 1}: ${problem}`);
        }
      });
    }
    expect(failures).toEqual([]);
  });

  it('flags each kind of broken citation', () => {
    // Built from parts: written out, these lines would be broken citations in this very file.
    const docs = 'docs/';
    const cases = [
      ['x.ts', `see ${['..', 'shared', 'reference', 'api.md'].join('/')}`],
      ['x.ts', `(${['reference', `${SECTION}3`].join(' ')})`],
      ['x.ts', `(${SECTION}3)`],
      ['x.ts', `docs/bitrix24.md ${SECTION}99`],
      ['x.ts', `docs/bitrix24.md ${SECTION}3, ${SECTION}98`],
      ['x.ts', `${docs}no-such-page.md`],
      ['x.ts', `${docs}design.md, guarantee 42`],
      ['x.ts', `${docs}design.md, "No such heading"`],
      ['docs/bitrix24.md', `(${SECTION}97)`],
    ] as const;
    for (const [path, line] of cases) {
      expect(problems(path, line, guaranteeCount()), line).not.toEqual([]);
    }
    expect(
      problems('x.ts', `docs/bitrix24.md ${SECTION}3, ${SECTION}4 and ${SECTION}6`, 8),
    ).toEqual([]);
    expect(problems('x.ts', 'docs/design.md, guarantees 2 and 8', 8)).toEqual([]);
  });
});
