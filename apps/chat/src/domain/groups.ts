/** Channel-layer group names of the chat server, in one place so every sender agrees. */
export const roomGroup = (roomId: number) => `room.${roomId}`;
export const userGroup = (userId: number) => `user.${userId}`;
/** The status sockets of one user: where the statuses of everyone sharing a room with them arrive. */
export const statusGroup = (userId: number) => `status.${userId}`;
