import type { Edge, MembershipReport } from './membership-report.js';

export interface ReportMeta {
  readonly source: string;
  readonly chatId: number;
  readonly generatedAt: Date;
}

const LABEL = 170;
const WIDTH = 1000;
const ROW = 22;
const AXIS = 28;
const COUNT_HEIGHT = 90;

/** HTML text and attribute values: `&`, `<`, `>`, `"` and `'` escaped. */
function esc(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

function describeEdge(edge: Edge): string {
  const who = edge.actorId === undefined ? '' : ` by user ${edge.actorId}`;
  if (edge.how === 'initial') return `a member when first read (${iso(edge.at)})`;
  const when = edge.exact
    ? `at ${iso(edge.at)}`
    : `between ${iso(edge.earliest)} and ${iso(edge.at)}`;
  return `${edge.how}${who} ${when}`;
}

/**
 * One self-contained HTML page (inline CSS and SVG, no script, nothing fetched): a timeline with
 * a row per user and a bar per stretch of membership, the observation windows around each change
 * drawn as uncertainty, joins and leaves marked (with actor and time where known), the member
 * count over time, and the same facts as a table. Prints on A4 landscape.
 */
export function reportHtml(report: MembershipReport, meta: ReportMeta): string {
  // A little room before the first observation, so the initial members' bars start visibly.
  const origin = report.from - (report.to - report.from) * 0.03;
  const span = Math.max(1, report.to - origin);
  const x = (ms: number) =>
    LABEL + ((Math.min(Math.max(ms, origin), report.to) - origin) / span) * (WIDTH - LABEL - 10);
  const height = AXIS + report.rows.length * ROW + 10;
  const bars: string[] = [];
  report.rows.forEach((row, i) => {
    const y = AXIS + i * ROW;
    bars.push(
      `<text class="label" x="${LABEL - 8}" y="${y + 15}" text-anchor="end">${esc(row.name ? `${row.name} (${row.userId})` : `user ${row.userId}`)}</text>`,
    );
    for (const stretch of row.stretches) {
      const startX = x(stretch.start.at);
      const endX = stretch.end ? x(stretch.end.earliest) : x(report.to);
      const title = `${describeEdge(stretch.start)}${stretch.end ? `; ${describeEdge(stretch.end)}` : '; still a member'}`;
      bars.push(
        `<rect class="stretch" data-user="${row.userId}" x="${startX.toFixed(1)}" y="${y + 4}" width="${Math.max(1, endX - startX).toFixed(1)}" height="${ROW - 8}"><title>${esc(title)}</title></rect>`,
      );
      for (const edge of [stretch.start, stretch.end]) {
        if (!edge || edge.how === 'initial') continue;
        if (!edge.exact && edge.at > edge.earliest) {
          bars.push(
            `<rect class="window" x="${x(edge.earliest).toFixed(1)}" y="${y + 2}" width="${Math.max(1, x(edge.at) - x(edge.earliest)).toFixed(1)}" height="${ROW - 4}"><title>${esc(describeEdge(edge))}</title></rect>`,
          );
        }
        const mx = edge.how === 'joined' ? x(edge.at) : x(edge.earliest);
        bars.push(
          `<path class="mark ${edge.how}" d="M${mx.toFixed(1)} ${y + 2} l4 -4 l-8 0 z"><title>${esc(describeEdge(edge))}</title></path>`,
        );
      }
    }
  });
  const ticks = Array.from(
    { length: 6 },
    (_, i) => report.from + ((report.to - report.from) * i) / 5,
  );
  const axis = ticks
    .map(
      (t, i) =>
        `<line class="grid" x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${AXIS - 6}" y2="${height}"/><text class="tick" x="${x(t).toFixed(1)}" y="${AXIS - 10}" text-anchor="${i === 0 ? 'start' : i === ticks.length - 1 ? 'end' : 'middle'}">${iso(t).slice(0, 16).replace('T', ' ')}</text>`,
    )
    .join('');
  const maxCount = Math.max(1, ...report.counts.map((c) => c.count));
  const points: string[] = [];
  let last = 0;
  for (const c of report.counts) {
    const yOf = (n: number) =>
      (COUNT_HEIGHT - 10 - (n / maxCount) * (COUNT_HEIGHT - 20)).toFixed(1);
    points.push(`${x(c.at).toFixed(1)},${yOf(last)}`, `${x(c.at).toFixed(1)},${yOf(c.count)}`);
    last = c.count;
  }
  if (report.counts.length > 0) {
    points.push(
      `${x(report.to).toFixed(1)},${(COUNT_HEIGHT - 10 - (last / maxCount) * (COUNT_HEIGHT - 20)).toFixed(1)}`,
    );
  }
  const rowsHtml = report.rows
    .flatMap((row) =>
      row.stretches.map(
        (s) =>
          `<tr><td>${esc(row.name ?? '')}</td><td class="num">${row.userId}</td><td>${esc(describeEdge(s.start))}</td><td>${s.end ? esc(describeEdge(s.end)) : 'still a member'}</td></tr>`,
      ),
    )
    .join('\n');
  const title = `Membership of chat ${meta.chatId}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${esc(title)}</title>
<style>
  body { font: 13px/1.4 system-ui, sans-serif; margin: 24px; color: #1d1d1f; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  .meta { color: #555; margin: 0 0 16px; }
  svg { display: block; max-width: 100%; height: auto; }
  .label, .tick { font-size: 11px; fill: #333; }
  .grid { stroke: #e3e3e3; }
  .stretch { fill: #2f6fde; }
  .window { fill: #2f6fde; opacity: 0.25; }
  .mark.joined { fill: #1a7f37; }
  .mark.left { fill: #c62828; }
  .count { fill: none; stroke: #6b4fbb; stroke-width: 1.5; }
  .legend span { display: inline-block; margin-right: 16px; }
  .swatch { display: inline-block; width: 12px; height: 10px; vertical-align: middle; margin-right: 4px; }
  table { border-collapse: collapse; margin-top: 16px; width: 100%; }
  th, td { border-bottom: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  @media print { @page { size: A4 landscape; margin: 12mm; } body { margin: 0; } tr { break-inside: avoid; } }
</style>
</head>
<body>
<h1>${esc(title)}</h1>
<p class="meta">${esc(meta.source)} · ${iso(report.from)} – ${iso(report.to)} · ${report.rows.length} users · generated ${iso(meta.generatedAt.getTime())}</p>
<p class="legend"><span><i class="swatch" style="background:#2f6fde"></i>member</span><span><i class="swatch" style="background:#2f6fde;opacity:.25"></i>change happened somewhere in this window</span><span><i class="swatch" style="background:#1a7f37"></i>joined</span><span><i class="swatch" style="background:#c62828"></i>left</span></p>
<svg id="timeline" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="membership timeline">${axis}${bars.join('')}</svg>
<h2 style="font-size:14px;margin:16px 0 4px">Members over time</h2>
<svg id="count" viewBox="0 0 ${WIDTH} ${COUNT_HEIGHT}" role="img" aria-label="member count"><text class="tick" x="${LABEL - 8}" y="14" text-anchor="end">${maxCount}</text><text class="tick" x="${LABEL - 8}" y="${COUNT_HEIGHT - 8}" text-anchor="end">0</text><polyline class="count" points="${points.join(' ')}"/></svg>
<table id="stretches">
<thead><tr><th>name</th><th>user</th><th>member from</th><th>until</th></tr></thead>
<tbody>
${rowsHtml}
</tbody>
</table>
</body>
</html>
`;
}
