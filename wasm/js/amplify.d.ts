import type { SignInInput, SignInOutput } from 'aws-amplify/auth';

/** The two flows `signInWithMigration` uses. */
export declare const migrationAuthFlow: Readonly<{
  /** Sends the password to Cognito: runs the user-migration trigger for users not yet moved. */
  password: 'USER_PASSWORD_AUTH';
  /** Secure Remote Password, the Amplify default: the password never leaves the browser. */
  srp: 'USER_SRP_AUTH';
}>;

export type MigrationAuthFlow = (typeof migrationAuthFlow)[keyof typeof migrationAuthFlow];

/** What `signInWithMigration` resolves to: Amplify's result and the flow that produced it. */
export type SignInWithMigrationOutput = SignInOutput & { authFlowType: MigrationAuthFlow };

/** When the migration window is open, and which flow it uses. */
export interface MigrationSettings {
  /**
   * `false` closes the migration window: sign-in is SRP only and no password is sent to Cognito
   * any more. Defaults to `true`; set `false` once the migration is finished.
   */
  allowMigrationFallback?: boolean;
  /**
   * The instant the migration window closes (a `Date`, or what `new Date()` reads): from then on,
   * SRP only, as with `allowMigrationFallback: false`. An unreadable date throws a `TypeError`.
   */
  migrationEndsAt?: Date | string | number;
  /**
   * The flow while the window is open.
   *
   * - `'password'` (the default): USER_PASSWORD_AUTH alone. One request per sign-in, and one
   *   failed attempt toward the account's lockout per wrong password, as Cognito's migration
   *   guide expects. The password is sent to Cognito (over TLS) on every sign-in of the window.
   * - `'srp-first'`: SRP, then USER_PASSWORD_AUTH when SRP fails in a way that may mean "not in
   *   the new pool yet" (`isMigrationFallbackError`). Users already moved keep the password in
   *   the browser, but with PreventUserExistenceErrors on (the default) a wrong password of a
   *   user already moved fails twice: two failed attempts per typed password, so such an account
   *   reaches Cognito's lockout twice as fast, and every sign-in of a user not yet moved costs two
   *   requests.
   */
  migrationFlow?: 'password' | 'srp-first';
}

export interface SignInWithMigrationSettings extends MigrationSettings {
  /** The Amplify `signIn` to call; defaults to the one from `aws-amplify/auth`. */
  signIn?: (input: SignInInput) => Promise<SignInOutput>;
}

/**
 * The flows `signInWithMigration` tries, in order, under `settings` at `now` (default: the
 * current time): `['USER_PASSWORD_AUTH']` while the window is open, `['USER_SRP_AUTH',
 * 'USER_PASSWORD_AUTH']` while it is open with `migrationFlow: 'srp-first'`, `['USER_SRP_AUTH']`
 * once it is closed.
 *
 * @throws TypeError for a setting it cannot read (a wrong type, an unknown flow, an invalid date).
 */
export declare function migrationSignInFlows(
  settings?: MigrationSettings,
  now?: Date,
): ['USER_PASSWORD_AUTH'] | ['USER_SRP_AUTH', 'USER_PASSWORD_AUTH'] | ['USER_SRP_AUTH'];

/**
 * Signs in with `canonicalUsernameAsync(username)` in the flows `migrationSignInFlows(settings)`
 * names: one USER_PASSWORD_AUTH request while the migration window is open, SRP only after it.
 * With `migrationFlow: 'srp-first'`, USER_PASSWORD_AUTH follows only an SRP error that
 * `isMigrationFallbackError` accepts. `options.authFlowType` is chosen by the helper: leave it
 * unset.
 *
 * @throws TypeError for an `options.authFlowType` or a setting it cannot read, before any request.
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

/**
 * Whether an error from the SRP attempt of `migrationFlow: 'srp-first'` lets the helper try
 * USER_PASSWORD_AUTH next: `UserNotFoundException`, or a `NotAuthorizedException` that does not
 * prove the account exists (not "User is disabled.", not "Password attempts exceeded").
 */
export declare function isMigrationFallbackError(error: unknown): boolean;
