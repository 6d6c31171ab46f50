/**
 * Unsent text per conversation in localStorage, so it survives switching
 * conversations and reloads. Keyed by user too: two people sharing a browser
 * never see each other's drafts.
 */
const PREFIX = "huddle.draft.";

export function drafts(userId: string, conversationKey: string) {
  const key = `${PREFIX}${userId}.${conversationKey}`;
  return {
    load: (): string => {
      try {
        return localStorage.getItem(key) ?? "";
      } catch {
        return "";
      }
    },
    save(text: string) {
      try {
        if (text.trim()) localStorage.setItem(key, text);
        else localStorage.removeItem(key);
      } catch {
        // Storage full or disabled: the draft lives only as long as the page.
      }
    },
    clear: () => localStorage.removeItem(key),
  };
}

/** Signing out on a shared computer leaves no unsent text behind. */
export function clearAllDrafts() {
  try {
    for (const key of Object.keys(localStorage)) if (key.startsWith(PREFIX)) localStorage.removeItem(key);
  } catch {}
}
