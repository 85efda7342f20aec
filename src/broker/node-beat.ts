/** A node's status is republished this often; a node unheard of for 3 periods is gone. */
export const NODE_BEAT = 1_000;
