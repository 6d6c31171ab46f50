/**
 * Logging in as a user who does not exist verifies the password against
 * DUMMY_HASH, so that the answer takes as long as for a real user. That holds
 * only while the constant is made with the same argon2id parameters as real
 * password hashes: this test holds the two together.
 */
import { describe, expect, test } from "bun:test";
import { DUMMY_HASH, hashPassword, PASSWORD_HASHING } from "../../../src/modules/auth/service";

/** `$argon2id$v=19$m=19456,t=2,p=1$salt$hash` -> its algorithm, version and parameters; the salt and hash lengths. */
function shape(phc: string) {
  const [, algorithm, version, params, salt, hash] = phc.split("$");
  return { algorithm, version, params, saltLength: salt?.length, hashLength: hash?.length };
}

describe("the dummy password hash", () => {
  test("has the shape and cost of a real password hash", async () => {
    const real = await hashPassword("correct horse battery");
    expect(shape(DUMMY_HASH)).toEqual(shape(real));
    expect(shape(real).params).toBe(`m=${PASSWORD_HASHING.memoryCost},t=${PASSWORD_HASHING.timeCost},p=1`);
  });

  test("is a valid hash that verifies (costing a full argon2id run) and matches no likely password", async () => {
    expect(await Bun.password.verify("not-a-real-password-0000", DUMMY_HASH)).toBe(true);
    for (const guess of ["", "password", "correct horse battery", "123456"]) expect(await Bun.password.verify(guess, DUMMY_HASH)).toBe(false);
  });
});
