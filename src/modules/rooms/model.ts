import { t } from "elysia";

export const RoomParams = t.Object({ id: t.String({ format: "uuid", description: "room id" }) });

const Member = t.Object({
  user_id: t.String(),
  username: t.String(),
  display_name: t.Union([t.String(), t.Null()]),
  avatar_url: t.Union([t.String(), t.Null()]),
  role: t.Union([t.Literal("owner"), t.Literal("admin"), t.Literal("member")]),
  joined_at: t.String(),
});

export const Room = t.Object({
  id: t.String(),
  name: t.String(),
  description: t.Union([t.String(), t.Null()]),
  is_private: t.Boolean(),
  owner_id: t.Union([t.String(), t.Null()]),
  owner: t.Union([t.Object({ id: t.String(), username: t.String(), display_name: t.Union([t.String(), t.Null()]), avatar_url: t.Union([t.String(), t.Null()]) }), t.Null()], {
    description: "names are not unique: show the owner (and member count) to tell rooms apart",
  }),
  member_count: t.Integer(),
  is_member: t.Boolean(),
  created_at: t.String(),
});

export const RoomsModel = {
  params: RoomParams,
  create: t.Object({
    name: t.String({ minLength: 1, maxLength: 80 }),
    description: t.Optional(t.String({ maxLength: 500 })),
    is_private: t.Optional(t.Boolean({ default: false })),
    members: t.Optional(t.Array(t.String({ format: "uuid" }), { maxItems: 100, uniqueItems: true })),
  }, { additionalProperties: false }),
  addMembers: t.Object({
    user_ids: t.Array(t.String({ format: "uuid" }), { minItems: 1, maxItems: 100, uniqueItems: true }),
    role: t.Optional(t.Union([t.Literal("member"), t.Literal("admin")])),
  }, { additionalProperties: false }),
  memberParams: t.Object({ id: t.String({ format: "uuid", description: "room id" }), user_id: t.String({ format: "uuid", description: "the member" }) }),
  update: t.Object({
    name: t.Optional(t.String({ minLength: 1, maxLength: 80 })),
    description: t.Optional(t.Union([t.String({ maxLength: 500 }), t.Null()])),
    is_private: t.Optional(t.Boolean()),
  }, { additionalProperties: false }),
  setRole: t.Object({
    role: t.Union([t.Literal("member"), t.Literal("admin"), t.Literal("owner")], { description: "owner hands the room over (you become admin)" }),
  }, { additionalProperties: false }),
  deleted: t.Object({ deleted: t.Literal(true) }),
  listQuery: t.Object({ search: t.Optional(t.String({ maxLength: 80 })), limit: t.Optional(t.Integer({ minimum: 1, maximum: 100, default: 50 })) }),
  room: Room,
  details: t.Composite([Room, t.Object({ members: t.Array(Member) })]),
  list: t.Object({ rooms: t.Array(Room) }),
};

export type CreateRoom = typeof RoomsModel.create.static;
export type UpdateRoom = typeof RoomsModel.update.static;
export type RoomRole = "owner" | "admin" | "member";
