import { describe, expect, test } from "bun:test";
import { MAX_MENTIONS, mentionedNames } from "../../../src/modules/chat/mentions";

describe("mentionedNames: which @usernames a message names", () => {
  test("names at the start of a word, lower-cased, in order, once each", () => {
    expect(mentionedNames("@Bob hi @carol_1 and @BOB again")).toEqual(["bob", "carol_1"]);
    expect(mentionedNames("(@dave) [@erin], @fred: @g.h-i")).toEqual(["dave", "erin", "fred", "g.h-i"]);
  });

  test("trailing dots and dashes are punctuation", () => {
    expect(mentionedNames("thanks @bob. see you @carol-- bye @dan...")).toEqual(["bob", "carol", "dan"]);
  });

  test("not inside words or email addresses, not too short, not across other characters", () => {
    expect(mentionedNames("mail bob@example.com or x.@carol or a@@dave")).toEqual([]);
    expect(mentionedNames("@ab @ @@ @ß @日本")).toEqual([]);
    expect(mentionedNames("@abc")).toEqual(["abc"]);
  });

  test("at most MAX_MENTIONS names count", () => {
    const many = Array.from({ length: MAX_MENTIONS + 5 }, (_, i) => `@user${i}`).join(" ");
    expect(mentionedNames(many)).toHaveLength(MAX_MENTIONS);
    expect(mentionedNames(many)[0]).toBe("user0");
  });
});
