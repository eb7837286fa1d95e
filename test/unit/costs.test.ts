// What a show costs (bench/costs.ts): the pure model, the prices file's shape, and docs/COSTS.md, which
// must be what the script renders from the checked-in counts and prices (`npm run costs -- --write`).
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { ASSUMPTIONS } from '../../core/sizing.ts';
import {
  COST_AUDIENCES,
  COST_SHOW,
  DOC_MARKER,
  DOC_PATH,
  historyAnswersPerViewer,
  idleCosts,
  loadCounts,
  loadPrices,
  renderDoc,
  sectionOf,
  showCosts,
  showCounts,
  tiered,
  updatedDoc,
  usd,
  videoCosts,
  viewerPattern,
  type MeasuredCounts,
  type Price,
} from '../../bench/costs.ts';

const counts = loadCounts();
const prices = loadPrices();
const total = (lines: Array<{ byAudience: number[] }>, i: number) =>
  lines.reduce((n, l) => n + (l.byAudience[i] ?? 0), 0);

describe('docs/COSTS.md', () => {
  it('holds what bench/costs.ts renders from bench/costs-counts.json and bench/aws-prices.json (stale: npm run costs -- --write)', async () => {
    const doc = readFileSync(DOC_PATH, 'utf8');
    expect(sectionOf(doc)).toBeDefined();
    expect(doc).toBe(await renderDoc(doc, counts, prices));
  });

  it('keeps the hand-written text around the generated part when it is rewritten', () => {
    const doc = `# Title\n\nProse.\n\n${DOC_MARKER}\nold\n${DOC_MARKER}\n\nAfter.\n`;
    expect(updatedDoc(doc, `${DOC_MARKER}\nnew\n${DOC_MARKER}`)).toBe(
      `# Title\n\nProse.\n\n${DOC_MARKER}\nnew\n${DOC_MARKER}\n\nAfter.\n`,
    );
    expect(updatedDoc('# Title\n', `${DOC_MARKER}\nnew\n${DOC_MARKER}`)).toBe(
      `# Title\n\n${DOC_MARKER}\nnew\n${DOC_MARKER}\n`,
    );
  });
});

describe('the prices file', () => {
  it('names its region (an IVS region), the date it was read, and for every price a source URL and how sure it is', () => {
    expect(['us-east-1', 'us-west-2']).toContain(prices.region);
    expect(prices.read).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const [key, p] of Object.entries(prices.prices)) {
      expect([key, p.source]).toEqual([key, expect.stringMatching(/^https?:\/\/\S+$/)]);
      expect(['aws', 'secondary', 'assumption']).toContain(p.status);
      expect(p.label.length).toBeGreaterThan(0);
      // No figure is invented: an unpriced one is an assumption and says so.
      if (p.usd === null) expect(p.status).toBe('assumption');
    }
  });

  it('has every price the tables use', () => {
    const used = [
      ...showCosts(counts, prices),
      ...videoCosts(counts, prices),
      ...idleCosts(counts, prices),
    ].flatMap((l) => l.prices);
    for (const key of used) expect([key, prices.prices[key]?.usd]).toEqual([key, expect.any(Number)]);
  });
});

describe('the model', () => {
  it('prices a volume tier by tier', () => {
    const price: Price = {
      usd: 1,
      unit: 'hour',
      label: '',
      status: 'aws',
      source: 'https://example.com',
      tiers: [
        { up_to: 10, usd: 1 },
        { up_to: 30, usd: 0.5 },
        { up_to: null, usd: 0.25 },
      ],
    };
    expect(tiered(5, price)).toBe(5);
    expect(tiered(20, price)).toBe(15);
    expect(tiered(50, price)).toBe(10 + 10 + 5);
    expect(tiered(7, { ...price, tiers: undefined, usd: 2 })).toBe(14);
  });

  it('counts a viewer who watches every request, a voter once more for the vote preflight, and each vote', () => {
    const fixture = {
      ...counts,
      show: { ...counts.show, answered: 4 },
      viewers: {
        silent: {
          api: { 'OPTIONS /requestor-token': 1, 'POST /requestor-token': 1, 'GET /requestor-get': 5 },
          api_bytes: {},
          cached: {},
        },
        answering: {
          api: {
            'OPTIONS /requestor-token': 1,
            'POST /requestor-token': 1,
            'GET /requestor-get': 9,
            'OPTIONS /requestor-put': 1,
            'POST /requestor-put': 4,
          },
          api_bytes: {},
          cached: {},
        },
      },
    } satisfies MeasuredCounts;
    const pattern = viewerPattern(fixture);
    expect(pattern.perViewer).toEqual({
      'OPTIONS /requestor-token': 1,
      'POST /requestor-token': 1,
      'GET /requestor-get': 5,
    });
    expect(pattern.oncePerVoter).toEqual({ 'OPTIONS /requestor-put': 1 });
    expect(pattern.perVote).toEqual({ 'GET /requestor-get': 1, 'POST /requestor-put': 1 });
  });

  it('has the share of viewers who answer from the sizing ASSUMPTIONS', () => {
    for (const audience of COST_AUDIENCES) {
      expect(showCounts(counts, audience).votes).toBeCloseTo(
        audience * COST_SHOW.polls.length * ASSUMPTIONS.answeringShare,
      );
    }
  });

  it('sums the answers a viewer’s history pages hold: none for a viewer who never answers', () => {
    expect(historyAnswersPerViewer(10, 0)).toBe(0);
    // Answering everything: after each answer q answers, at each result q again.
    expect(historyAnswersPerViewer(10, 1)).toBe(2 * 55);
    // The page holds at most 10.
    expect(historyAnswersPerViewer(12, 1)).toBe(2 * (55 + 10 + 10));
  });

  it('grows with the audience, and the video costs more than the rest of the stack', () => {
    const stack = showCosts(counts, prices);
    const video = videoCosts(counts, prices).filter((l) => !l.what.includes('SD'));
    for (let i = 1; i < COST_AUDIENCES.length; i++)
      expect(total(stack, i)).toBeGreaterThan(total(stack, i - 1));
    for (let i = 0; i < COST_AUDIENCES.length; i++) expect(total(video, i)).toBeGreaterThan(total(stack, i));
  });

  it('writes dollars whole from $100, to the cent from 10 cents, to two figures below', () => {
    expect(usd(0)).toBe('$0');
    expect(usd(1234.4)).toBe('$1,234');
    expect(usd(12.345)).toBe('$12.35');
    expect(usd(0.5)).toBe('$0.50');
    expect(usd(0.01)).toBe('$0.010');
    expect(usd(0.01234)).toBe('$0.012');
    expect(usd(0.00001)).toBe('<$0.0001');
  });
});
