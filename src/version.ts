// Our own version, and the Consul API version we answer as (clients read it from
// /v1/agent/self and member tags to decide which features they may use).

declare const BUILD_REVISION: string | undefined;
declare const BUILD_DATE: string | undefined;

export const VERSION = "0.1.0";
export const CONSUL_COMPAT_VERSION = "1.17.0";
export const REVISION = typeof BUILD_REVISION === "string" ? BUILD_REVISION : "dev";
export const BUILD_DATE_ISO = typeof BUILD_DATE === "string" ? BUILD_DATE : "";
export const PROTOCOL = { min: 1, max: 5, default: 2 } as const;
