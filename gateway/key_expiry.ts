/** The expiry of an API key that never expires: its own module, so the admin API's edge can read it without the admin commands (and the store they open). */
export const NEVER = new Date('9999-12-31T23:59:59.000Z');
