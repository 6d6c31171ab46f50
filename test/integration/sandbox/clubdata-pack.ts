/**
 * A test pack over the shared clubdata dump (never copied into the repo: read
 * from ../shared/datasets). The solutions are ours.
 */
import type { LoadedPack } from "../../../src/judge/pack";
import { sharedDataset } from "../../helpers/shared";

/** Null in a checkout without `../shared`: suites that use the pack skip (see helpers/shared.ts). */
export const CLUBDATA_PATH = sharedDataset("clubdata.sql");

export const CLUBDATA_COUNTS = { bookings: 4044, facilities: 9, members: 31 };

export async function clubdataPack(): Promise<LoadedPack> {
  if (!CLUBDATA_PATH) throw new Error("clubdata.sql is absent; callers must skip (describe.skipIf(!CLUBDATA_PATH))");
  return {
    dataset: await Bun.file(CLUBDATA_PATH).text(),
    pack: {
      id: "clubdata",
      title: "Country club",
      dataset: "clubdata.sql",
      schema: "cd",
      problems: [
        {
          id: "clubdata-tennis-players",
          title: "Who played tennis",
          difficulty: "easy",
          statement: "Members who booked a tennis court, with the court.",
          solution: `select distinct m.firstname || ' ' || m.surname as member, f.name as facility
                     from cd.members m join cd.bookings b on b.memid = m.memid join cd.facilities f on f.facid = b.facid
                     where f.name like 'Tennis Court%' order by member, facility`,
          ordered: true,
        },
        {
          id: "clubdata-slots-september",
          title: "Slots in September 2012",
          difficulty: "medium",
          statement: "Total slots booked per facility in September 2012.",
          solution: `select facid, sum(slots) as total from cd.bookings
                     where starttime >= '2012-09-01' and starttime < '2012-10-01' group by facid order by facid`,
          ordered: true,
        },
        {
          id: "clubdata-recommenders",
          title: "Recommenders",
          difficulty: "medium",
          statement: "Members who recommended someone, and how many.",
          solution: `select r.memid, r.surname, count(*) from cd.members m join cd.members r on r.memid = m.recommendedby group by r.memid, r.surname`,
          ordered: false,
        },
      ],
    },
  };
}
