/** How many providers a tenant may add of its own (a worker registry holds at most 256, the config file's included). */
export const MAX_TENANT_PROVIDERS = 128;
