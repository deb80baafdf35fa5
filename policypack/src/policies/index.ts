/** The pack's policies: the one explicit list. Each lives in policies/<name>.ts with its test in <name>.test.ts. */
import type { Policies } from "@pulumi/policy";
import { providerConfig } from "./pulumi-oidc-provider-config.js";
import { roleProviderAudiences } from "./pulumi-oidc-role-provider-audiences.js";
import { roleProviderOutsideStack } from "./pulumi-oidc-role-provider-outside-stack.js";
import { roleTrustAdvisories } from "./pulumi-oidc-role-trust-advisories.js";
import { roleTrustPinned } from "./pulumi-oidc-role-trust-pinned.js";

export const policies: Policies = [roleTrustPinned, roleTrustAdvisories, providerConfig, roleProviderAudiences, roleProviderOutsideStack];
