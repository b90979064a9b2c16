export const patrol = async () => 0,
  heartbeat = patrol;
