import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The Hive column types the archive table uses. */
export type HiveType =
  | { readonly kind: 'string' | 'bigint' | 'boolean' | 'double' }
  | { readonly kind: 'array'; readonly items: HiveType }
  | { readonly kind: 'struct'; readonly fields: ReadonlyMap<string, HiveType> };

const ARCHIVE_DOC = fileURLToPath(new URL('../../docs/archive.md', import.meta.url));

/** The ```sql block after `<!-- sql: NAME -->` in docs/archive.md: the docs are what is tested. */
export function archiveSql(name: string): string {
  const doc = readFileSync(ARCHIVE_DOC, 'utf8');
  const marker = `<!-- sql: ${name} -->\n\`\`\`sql\n`;
  const start = doc.indexOf(marker);
  if (start === -1) throw new Error(`docs/archive.md has no sql block "${name}"`);
  const body = doc.slice(start + marker.length);
  return body.slice(0, body.indexOf('```'));
}

/** The columns of `CREATE EXTERNAL TABLE name ( … ) PARTITIONED BY`, parsed. */
export function parseTableColumns(ddl: string): Map<string, HiveType> {
  const open = ddl.indexOf('(');
  const end = ddl.indexOf('PARTITIONED BY');
  const body = ddl.slice(open + 1, ddl.lastIndexOf(')', end));
  const parser = new TypeParser(body);
  const columns = new Map<string, HiveType>();
  for (;;) {
    const name = parser.name();
    columns.set(name, parser.type());
    if (!parser.accept(',')) break;
  }
  parser.expectEnd();
  return columns;
}

class TypeParser {
  private pos = 0;
  constructor(private readonly text: string) {}

  private skip(): void {
    while (/\s/.test(this.text[this.pos] ?? '')) this.pos++;
  }

  accept(token: string): boolean {
    this.skip();
    if (this.text.startsWith(token, this.pos)) {
      this.pos += token.length;
      return true;
    }
    return false;
  }

  private expect(token: string): void {
    if (!this.accept(token)) throw new Error(`expected "${token}" at ${this.context()}`);
  }

  expectEnd(): void {
    this.skip();
    if (this.pos !== this.text.length) throw new Error(`unexpected text at ${this.context()}`);
  }

  name(): string {
    this.skip();
    const quoted = /^`([^`]+)`/.exec(this.text.slice(this.pos));
    const plain = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.pos));
    const match = quoted ?? plain;
    if (match === null) throw new Error(`expected a name at ${this.context()}`);
    this.pos += match[0].length;
    return quoted ? (quoted[1] as string) : match[0];
  }

  type(): HiveType {
    const word = this.name().toLowerCase();
    switch (word) {
      case 'string':
      case 'bigint':
      case 'boolean':
      case 'double':
        return { kind: word };
      case 'array': {
        this.expect('<');
        const items = this.type();
        this.expect('>');
        return { kind: 'array', items };
      }
      case 'struct': {
        this.expect('<');
        const fields = new Map<string, HiveType>();
        do {
          const name = this.name();
          this.expect(':');
          fields.set(name, this.type());
        } while (this.accept(','));
        this.expect('>');
        return { kind: 'struct', fields };
      }
      default:
        throw new Error(`unsupported type ${word} at ${this.context()}`);
    }
  }

  private context(): string {
    return JSON.stringify(this.text.slice(this.pos, this.pos + 40));
  }
}

/** The same type in DuckDB's notation (for `read_json(columns = …)`). */
export function duckDbType(type: HiveType): string {
  switch (type.kind) {
    case 'string':
      return 'VARCHAR';
    case 'bigint':
      return 'BIGINT';
    case 'boolean':
      return 'BOOLEAN';
    case 'double':
      return 'DOUBLE';
    case 'array':
      return `${duckDbType(type.items)}[]`;
    case 'struct':
      return `STRUCT(${[...type.fields].map(([n, t]) => `"${n}" ${duckDbType(t)}`).join(', ')})`;
  }
}
