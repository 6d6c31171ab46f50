/**
 * Latency vs send rate, drawn as a hand-written SVG (log-log axes; p99 solid,
 * p50 dashed; hollow markers for steps that were not sustained) and turned
 * into a PNG by Debian's chromium through playwright-core.
 */
import { existsSync, writeFileSync } from "node:fs";
import { OUT_DIR } from "./report";
import { chromium } from "playwright-core";
import type { Step } from "../scenarios/chat-eval";
import { latencyOf, sustained } from "../scenarios/chat-eval";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const W = 940, H = 560, L = 80, R = 240, T = 58, B = 60;
const SERIES = [
  { target: "huddle", name: "Huddle (2 instances)", color: "#1f6feb" },
  { target: "socketio", name: "Socket.IO + redis-adapter (2)", color: "#d1242f" },
  { target: "raw", name: "raw Bun.serve pub/sub (1)", color: "#2da44e" },
] as const;

const log10 = Math.log10;
const ticks = (lo: number, hi: number) => {
  const out: number[] = [];
  for (let e = Math.floor(log10(lo)); e <= Math.ceil(log10(hi)); e++) for (const m of [1, 2, 5]) out.push(m * 10 ** e);
  return out.filter((v) => v >= lo && v <= hi);
};

export function latencySvg(steps: Step[], title: string, subtitle = ""): string {
  const pts = steps.filter((s) => latencyOf(s).n > 0);
  const xs = pts.map((s) => s.rate), ys = pts.flatMap((s) => [latencyOf(s).p50, latencyOf(s).p99]).filter((v) => v > 0);
  const x0 = Math.min(...xs) / 1.3, x1 = Math.max(...xs) * 1.3;
  const y0 = Math.max(0.1, Math.min(...ys) / 1.5), y1 = Math.max(...ys) * 1.5;
  const px = (v: number) => L + ((log10(v) - log10(x0)) / (log10(x1) - log10(x0))) * (W - L - R);
  const py = (v: number) => H - B - ((log10(Math.max(v, y0)) - log10(y0)) / (log10(y1) - log10(y0))) * (H - T - B);
  const el: string[] = [];
  for (const v of ticks(x0, x1)) el.push(`<line x1="${px(v)}" x2="${px(v)}" y1="${T}" y2="${H - B}" stroke="#eee"/><text x="${px(v)}" y="${H - B + 18}" text-anchor="middle">${v >= 1000 ? `${v / 1000}k` : v}</text>`);
  for (const v of ticks(y0, y1)) el.push(`<line x1="${L}" x2="${W - R}" y1="${py(v)}" y2="${py(v)}" stroke="#eee"/><text x="${L - 8}" y="${py(v) + 4}" text-anchor="end">${v}</text>`);
  el.push(`<line x1="${L}" x2="${W - R}" y1="${py(10)}" y2="${py(10)}" stroke="#999" stroke-dasharray="2 4"/><text x="${W - R - 4}" y="${py(10) - 4}" text-anchor="end" fill="#666">10 ms</text>`);
  SERIES.forEach((s, i) => {
    const mine = pts.filter((p) => p.target === s.target).sort((a, b) => a.rate - b.rate);
    if (!mine.length) return;
    for (const [q, dash] of [["p99", ""], ["p50", "6 4"]] as const) {
      const d = mine.map((p, j) => `${j ? "L" : "M"}${px(p.rate).toFixed(1)},${py(latencyOf(p)[q]).toFixed(1)}`).join(" ");
      el.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2" stroke-dasharray="${dash}"/>`);
      for (const p of mine) el.push(`<circle cx="${px(p.rate)}" cy="${py(latencyOf(p)[q])}" r="4" fill="${sustained(p) ? s.color : "white"}" stroke="${s.color}" stroke-width="1.5"/>`);
    }
    const ly = T + 10 + i * 44;
    el.push(`<line x1="${W - R + 16}" x2="${W - R + 40}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"/><text x="${W - R + 46}" y="${ly + 4}">${s.name}</text>`);
    el.push(`<text x="${W - R + 46}" y="${ly + 20}" fill="#666">p99 solid, p50 dashed</text>`);
  });
  el.push(`<text x="${W - R + 16}" y="${T + 150}" fill="#666">hollow: not sustained</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="${L}" y="26" font-size="16" font-weight="bold">${title}</text>
<text x="${L}" y="44" fill="#666">${subtitle}</text>
<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#ccc"/>
${el.join("\n")}
<text x="${(L + W - R) / 2}" y="${H - 18}" text-anchor="middle">offered send rate (messages/s, each delivered to 9 others)</text>
<text transform="translate(22 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">latency, ms (receiver on the other instance)</text>
</svg>`;
}

export async function renderPlot(steps: Step[], png: string, subtitle = "", title = "Chat fan-out: latency vs send rate") {
  const svg = latencySvg(steps, title, subtitle);
  writeFileSync(`${OUT_DIR}/latency-vs-rate.svg`, svg);
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM} (apt-get install -y chromium); SVG written to ${OUT_DIR}`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });
  try {
    const page = await browser.newPage({ viewport: { width: W, height: H }, deviceScaleFactor: 2 });
    await page.setContent(`<html><body style="margin:0">${svg}</body></html>`);
    await page.screenshot({ path: png, clip: { x: 0, y: 0, width: W, height: H } });
  } finally {
    await browser.close();
  }
}
