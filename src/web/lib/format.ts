/** Dates and names for display, in the browser's locale and time zone. */
const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: "long", month: "long", day: "numeric" });
const dayYearFmt = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "long", day: "numeric" });
const shortDayFmt = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "medium" });

const startOfDay = (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();

export const clock = (iso: string) => timeFmt.format(new Date(iso));
export const fullDate = (iso: string) => fullFmt.format(new Date(iso));
export const dayKey = (iso: string) => startOfDay(new Date(iso));

/** "Today", "Yesterday", "Monday, March 3" or a date with the year. */
export function dayLabel(iso: string): string {
  const d = new Date(iso);
  const diff = Math.round((startOfDay(new Date()) - startOfDay(d)) / 86_400_000);
  if (diff === 0) return "Today";
  if (diff === 1) return "Yesterday";
  return d.getFullYear() === new Date().getFullYear() ? dayFmt.format(d) : dayYearFmt.format(d);
}

/** A compact time for lists: the clock today, otherwise the date. */
export function listTime(iso: string): string {
  const d = new Date(iso);
  return startOfDay(d) === startOfDay(new Date()) ? timeFmt.format(d) : shortDayFmt.format(d);
}

/** "online", "active 5 min ago", ... */
export function presence(online: boolean | undefined, lastActive: string | null | undefined): string {
  if (online) return "online";
  if (!lastActive) return "offline";
  const mins = Math.round((Date.now() - new Date(lastActive).getTime()) / 60_000);
  if (mins < 1) return "active just now";
  if (mins < 60) return `active ${mins} min ago`;
  const hours = Math.round(mins / 60);
  if (hours < 24) return `active ${hours} h ago`;
  return `active ${listTime(lastActive)}`;
}

export function initials(name: string): string {
  const parts = name.replace(/[^\p{L}\p{N} _.-]/gu, "").split(/[\s_.-]+/).filter(Boolean);
  const s = parts.length > 1 ? parts[0]![0]! + parts[1]![0]! : (parts[0] ?? "?").slice(0, 2);
  return s.toUpperCase();
}

/** A stable hue per id, for avatar colours; skips yellows, where white initials are hard to read. */
export function hue(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  const x = h % 300;
  return x < 35 ? x : x + 60;
}
