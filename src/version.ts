// Replaced at build time by build.mjs with the version in package.json.
declare const HOOKRELAY_VERSION: string;

export const VERSION: string = HOOKRELAY_VERSION;
export const USER_AGENT = `hookrelay/${VERSION}`;
