import type { SignInInput, SignInOutput } from 'aws-amplify/auth';

/** The two flows `signInWithMigration` uses, in the order it tries them. */
export declare const migrationAuthFlow: Readonly<{
  preferred: 'USER_SRP_AUTH';
  fallback: 'USER_PASSWORD_AUTH';
}>;

export type MigrationAuthFlow = (typeof migrationAuthFlow)[keyof typeof migrationAuthFlow];

/** What `signInWithMigration` resolves to: Amplify's result and the flow that produced it. */
export type SignInWithMigrationOutput = SignInOutput & { authFlowType: MigrationAuthFlow };

export interface SignInWithMigrationSettings {
  /**
   * Retry with USER_PASSWORD_AUTH when the SRP attempt says the user is not in the new pool.
   * Defaults to `true`; set `false` once the migration window closes, so that passwords are
   * never sent to Cognito any more.
   */
  allowMigrationFallback?: boolean;
  /** The Amplify `signIn` to call; defaults to the one from `aws-amplify/auth`. */
  signIn?: (input: SignInInput) => Promise<SignInOutput>;
}

/**
 * Signs in with `canonicalUsername(username)`, SRP first, USER_PASSWORD_AUTH only when the SRP
 * attempt fails with `UserNotFoundException` or a `NotAuthorizedException` that does not prove the
 * account exists. `options.authFlowType` is chosen by the helper: leave it unset.
 *
 * @throws CognitoMigrateError with code `EMPTY_IDENTIFIER` for a blank username, before any request.
 * @throws the Amplify `AuthError` of the last attempt.
 */
export declare function signInWithMigration(
  input: SignInInput,
  settings?: SignInWithMigrationSettings,
): Promise<SignInWithMigrationOutput>;

/**
 * `canonicalUsername(input)` of `cognito-migrate`, the same string, computed without WebAssembly
 * when `input` is ASCII; other text loads the keys module once, on first use (a dynamic import).
 *
 * @throws CognitoMigrateError with code `EMPTY_IDENTIFIER` for a blank username (a rejection).
 */
export declare function canonicalUsernameAsync(input: string): Promise<string>;

/** Whether an error from the SRP attempt lets the helper fall back to USER_PASSWORD_AUTH. */
export declare function isMigrationFallbackError(error: unknown): boolean;
