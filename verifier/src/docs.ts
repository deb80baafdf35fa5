/**
 * Where the documentation lives, for help texts: the repository's docs/ folder on the main branch (the same base as
 * every rule's `url`, docs/rules/<rule id>.md).
 */
import { REPOSITORY_URL } from "oidc-guard-policypack/analysis";

/** The URL of a page under docs/, e.g. `docsUrl("check.md")`. */
export function docsUrl(page: string): string {
    return `${REPOSITORY_URL}/blob/main/docs/${page}`;
}

/** The README: what the project is, the set-up commands and the map of the docs. */
export const README_URL = `${REPOSITORY_URL}/blob/main/README.md`;

/** The exit codes every command shares, as the top-level help prints them. */
export const EXIT_CODES_HELP = `Exit codes (every command):
  0   compliant, verified
  1   a violation, a target that cannot be decided, or a failed verification
  2   usage or configuration error, or an input that cannot be read or used
  3   verify: could not verify (network, timeout, token refused, not found, rate limited, server errors)
  70  internal error: a bug in oidc-guard (OIDC_GUARD_DEBUG=1 prints its stack trace)`;
