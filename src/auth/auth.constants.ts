/** Pinned so a token can never choose its own verification algorithm (no "none", no RS/HS swap). */
export const JWT_ALGORITHM = 'HS256';
