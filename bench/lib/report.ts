/** Result rows, the verdict against a target, the results markdown and the PNG chart (SVG → sharp). */
import sharp from 'sharp';

export type Verdict = 'pass' | 'MISS' | 'info' | 'skipped' | 'not implemented' | 'error';

export interface Row {
  /** e.g. "1 cached delivery" */
  bench: string;
  figure: string;
  pictor: string;
  baseline: string;
  /** Shown in the ratio column, e.g. "0.72×". */
  ratio: string;
  target: string;
  verdict: Verdict;
  /** ≥ 1 means the target is met with that much room; for the chart. */
  headroom?: number;
  /** Why a row is skipped / not implemented / what went wrong. */
  note?: string;
}

/** A "higher is better" ratio against a floor: Pictor ≥ limit × baseline. */
export function atLeast(
  bench: string,
  figure: string,
  pictor: number,
  baseline: number,
  limit: number,
  fmt: (v: number) => string,
): Row {
  const ratio = pictor / baseline;
  return {
    bench,
    figure,
    pictor: fmt(pictor),
    baseline: fmt(baseline),
    ratio: `${ratio.toFixed(2)}×`,
    target: `≥ ${limit}×`,
    verdict: ratio >= limit ? 'pass' : 'MISS',
    headroom: ratio / limit,
  };
}

/** A "lower is better" ratio against a ceiling: Pictor ≤ limit × baseline. */
export function atMost(
  bench: string,
  figure: string,
  pictor: number,
  baseline: number,
  limit: number,
  fmt: (v: number) => string,
): Row {
  const ratio = pictor / baseline;
  return {
    bench,
    figure,
    pictor: fmt(pictor),
    baseline: fmt(baseline),
    ratio: `${ratio.toFixed(2)}×`,
    target: `≤ ${limit}×`,
    verdict: ratio <= limit ? 'pass' : 'MISS',
    headroom: limit / ratio,
  };
}

export function info(
  bench: string,
  figure: string,
  pictor: string,
  baseline = '—',
  ratio = '—',
  target = '—',
): Row {
  return { bench, figure, pictor, baseline, ratio, target, verdict: 'info' };
}

export interface BenchOutcome {
  rows: Row[];
  /** For missed targets: what the measurements and the profile say about why (markdown). */
  explanations?: string[];
  /** Markdown paragraphs: images and sizes used, what was varied, caveats. */
  notes: string[];
  /** Profile summaries (markdown) for missed targets. */
  profiles: string[];
}

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function tableMarkdown(rows: Row[]): string {
  const head = ['benchmark', 'figure', 'Pictor', 'baseline', 'ratio', 'target', 'verdict'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const verdict =
      r.verdict === 'MISS'
        ? '**MISS**'
        : r.note && r.verdict !== 'pass' && r.verdict !== 'info'
          ? `${r.verdict}: ${r.note}`
          : r.verdict;
    lines.push(
      `| ${[r.bench, r.figure, r.pictor, r.baseline, r.ratio, r.target, verdict].map(esc).join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

/** A plain-text table for the terminal. */
export function tableText(rows: Row[]): string {
  const head = ['benchmark', 'figure', 'Pictor', 'baseline', 'ratio', 'target', 'verdict'];
  const cells = rows.map((r) => [
    r.bench,
    r.figure,
    r.pictor,
    r.baseline,
    r.ratio,
    r.target,
    r.verdict === 'MISS'
      ? 'MISS'
      : r.note && (r.verdict === 'skipped' || r.verdict === 'not implemented' || r.verdict === 'error')
        ? `${r.verdict}: ${r.note}`
        : r.verdict,
  ]);
  const widths = head.map((h, i) => Math.min(60, Math.max(h.length, ...cells.map((c) => c[i]!.length))));
  const fmt = (c: string[]) =>
    c
      .map((v, i) => (v.length > widths[i]! ? `${v.slice(0, widths[i]! - 1)}…` : v.padEnd(widths[i]!)))
      .join('  ');
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(fmt)].join('\n');
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A horizontal bar per figure that has a target: the bar is the headroom (ratio ÷ limit for "≥"
 * targets, limit ÷ ratio for "≤" ones), so 1.0 is the target line and longer is better everywhere.
 */
export async function chartPng(rows: Row[], title: string): Promise<Buffer> {
  const plotted = rows.filter((r) => r.headroom !== undefined && Number.isFinite(r.headroom));
  const W = 1100;
  const labelW = 470;
  const barMax = W - labelW - 170;
  const rowH = 30;
  const top = 70;
  const H = top + Math.max(1, plotted.length) * rowH + 60;
  const maxHead = 3;
  const x = (h: number) => labelW + (Math.min(h, maxHead) / maxHead) * barMax;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="20" y="32" font-size="20" font-weight="bold">${xml(title)}</text>`,
    `<text x="20" y="54" font-size="13" fill="#555">Headroom against each target (1.0 = exactly on target; longer is better; clipped at ${maxHead}×)</text>`,
  ];
  plotted.forEach((r, i) => {
    const y = top + i * rowH;
    const h = r.headroom!;
    const colour = h >= 1 ? '#2e9d4f' : '#d0453a';
    parts.push(
      `<text x="${labelW - 10}" y="${y + 19}" font-size="13" text-anchor="end">${xml(`${r.bench.split(' ')[0]} · ${r.figure}`.slice(0, 64))}</text>`,
    );
    parts.push(
      `<rect x="${labelW}" y="${y + 5}" width="${Math.max(1, x(h) - labelW).toFixed(1)}" height="${rowH - 10}" fill="${colour}"/>`,
    );
    const label = r.ratio !== '—' ? r.ratio : r.pictor;
    parts.push(
      `<text x="${x(h) + 6}" y="${y + 19}" font-size="12" fill="#333">${xml(`${label} (target ${r.target})`.slice(0, 48))}</text>`,
    );
  });
  const x1 = x(1);
  parts.push(
    `<line x1="${x1}" y1="${top - 4}" x2="${x1}" y2="${top + plotted.length * rowH + 4}" stroke="#000" stroke-dasharray="4 3"/>`,
  );
  parts.push(
    `<text x="${x1}" y="${top + plotted.length * rowH + 22}" font-size="12" text-anchor="middle">target</text>`,
  );
  if (plotted.length === 0)
    parts.push(
      `<text x="${labelW}" y="${top + 20}" font-size="14">no figure with a target was measured</text>`,
    );
  parts.push('</svg>');
  return sharp(Buffer.from(parts.join('\n')))
    .png()
    .toBuffer();
}
