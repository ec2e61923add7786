// Sign-in for Amplify v6 apps during a lazy migration into a case-insensitive user pool.
//
// During the migration window every sign-in is one USER_PASSWORD_AUTH request: the one flow that
// sends the password to Cognito, so the only one that runs the user-migration trigger, and one
// failed attempt toward the account's lockout per wrong password, as Cognito's migration guide
// expects. `migrationFlow: 'srp-first'` tries SRP before it, at the cost its documentation states.
// Once the window closes (`allowMigrationFallback: false`, or `migrationEndsAt` has passed) the
// helper signs in with SRP only, and no password reaches Cognito any more.
//
// The keys module (WebAssembly) is loaded only for a username that is not ASCII: ASCII text is
// mapped by `./ascii-keys.js`, which tests hold equal to the keys module.
import { signIn as amplifySignIn } from 'aws-amplify/auth';

import { asciiCanonicalUsername } from './ascii-keys.js';

/** @type {Promise<typeof import('cognito-migrate')> | undefined} */
let keysModule;

/** The keys module, imported on first use; a failed import is tried again on the next call. */
function loadKeysModule() {
  keysModule ??= import('cognito-migrate').catch((error) => {
    keysModule = undefined;
    throw error;
  });
  return keysModule;
}

/**
 * Resolves to `canonicalUsername(input)` of `cognito-migrate`, the same string, without loading
 * WebAssembly when `input` is ASCII; other text loads the keys module once, on first use.
 *
 * @param {string} input
 * @returns {Promise<string>}
 */
export async function canonicalUsernameAsync(input) {
  const ascii = asciiCanonicalUsername(input);
  if (ascii !== undefined) return ascii;
  const { canonicalUsername } = await loadKeysModule();
  return canonicalUsername(input);
}

/** The two flows the helper uses. */
export const migrationAuthFlow = Object.freeze({
  /** Sends the password to Cognito: runs the user-migration trigger for users not yet moved. */
  password: 'USER_PASSWORD_AUTH',
  /** Secure Remote Password, the Amplify default: the password never leaves the browser. */
  srp: 'USER_SRP_AUTH',
});

/** The values of `migrationFlow`, the flow of the migration window. */
const MIGRATION_FLOWS = ['password', 'srp-first'];

// NotAuthorizedException texts that prove the account exists in the new pool: retrying with the
// password flow cannot migrate anyone, it would only send the password again.
const ACCOUNT_EXISTS_MESSAGES = [/disabled/i, /attempts exceeded/i];

/**
 * Whether an error from the SRP attempt of `migrationFlow: 'srp-first'` means "this user may not
 * be in the new pool yet", so that the password flow is tried next.
 *
 * - `UserNotFoundException`: the pool has PreventUserExistenceErrors off (`LEGACY`) and says so.
 * - `NotAuthorizedException`: with PreventUserExistenceErrors on (the console's default),
 *   Cognito answers SRP for an unknown user with a fake challenge, and Amplify v6 then surfaces
 *   `NotAuthorizedException: Incorrect username or password.`, the same error as a wrong
 *   password. The two cannot be told apart, so it falls back too; a wrong password of an
 *   already-migrated user then fails twice (and counts twice toward the account's lockout).
 *   Messages that prove the account exists ("User is disabled.", "Password attempts exceeded")
 *   do not fall back.
 *
 * Every other error (network, `UserAlreadyAuthenticatedException`, validation, throttling) is
 * not about the user's absence and is surfaced as is.
 *
 * @param {unknown} error
 * @returns {boolean}
 */
export function isMigrationFallbackError(error) {
  if (error === null || typeof error !== 'object') return false;
  const { name, message } = /** @type {{ name?: unknown, message?: unknown }} */ (error);
  if (name === 'UserNotFoundException') return true;
  if (name === 'NotAuthorizedException') {
    const text = typeof message === 'string' ? message : '';
    return !ACCOUNT_EXISTS_MESSAGES.some((pattern) => pattern.test(text));
  }
  return false;
}

/**
 * @typedef {object} MigrationSettings
 * @property {boolean} [allowMigrationFallback] `false` closes the migration window: SRP only.
 * @property {Date | string | number} [migrationEndsAt] the window closes at this instant.
 * @property {'password' | 'srp-first'} [migrationFlow] the flow while the window is open.
 *   `'password'` (the default): USER_PASSWORD_AUTH alone, one failed attempt toward the lockout
 *   per wrong password. `'srp-first'`: SRP, then USER_PASSWORD_AUTH on an error
 *   `isMigrationFallbackError` accepts; users already moved keep the password in the browser, but
 *   with PreventUserExistenceErrors on (the default) a wrong password of such a user fails twice,
 *   two failed attempts per typed password: the account reaches Cognito's lockout twice as fast.
 */

/**
 * The flows `signInWithMigration` tries, in order, under these settings at `now`:
 * `['USER_PASSWORD_AUTH']` while the migration window is open (the default),
 * `['USER_SRP_AUTH', 'USER_PASSWORD_AUTH']` while it is open with `migrationFlow: 'srp-first'`,
 * `['USER_SRP_AUTH']` once it is closed. Throws a `TypeError` for a setting it cannot read, so that
 * a typo never sends a password after the window.
 *
 * @param {MigrationSettings} [settings]
 * @param {Date} [now]
 * @returns {Array<'USER_PASSWORD_AUTH' | 'USER_SRP_AUTH'>}
 */
export function migrationSignInFlows(
  { allowMigrationFallback = true, migrationEndsAt, migrationFlow = 'password' } = {},
  now = new Date(),
) {
  if (typeof allowMigrationFallback !== 'boolean') {
    throw new TypeError(`allowMigrationFallback must be a boolean, not ${typeof allowMigrationFallback}`);
  }
  if (!MIGRATION_FLOWS.includes(migrationFlow)) {
    throw new TypeError(`migrationFlow must be one of ${MIGRATION_FLOWS.join(', ')}, not "${migrationFlow}"`);
  }
  let windowOpen = allowMigrationFallback;
  if (migrationEndsAt !== undefined) {
    const endsAt = migrationEndsAt instanceof Date ? migrationEndsAt.getTime() : new Date(migrationEndsAt).getTime();
    if (Number.isNaN(endsAt)) throw new TypeError(`migrationEndsAt is not a date: "${migrationEndsAt}"`);
    windowOpen &&= now.getTime() < endsAt;
  }
  if (!windowOpen) return [migrationAuthFlow.srp];
  return migrationFlow === 'srp-first'
    ? [migrationAuthFlow.srp, migrationAuthFlow.password]
    : [migrationAuthFlow.password];
}

/**
 * Signs in with the canonical username, in the flows `migrationSignInFlows(settings)` names: one
 * USER_PASSWORD_AUTH request during the migration window, SRP only after it. With
 * `migrationFlow: 'srp-first'`, the password flow follows only an SRP error that
 * `isMigrationFallbackError` accepts. Resolves to Amplify's `SignInOutput` plus `authFlowType`,
 * the flow that answered.
 *
 * @param {import('aws-amplify/auth').SignInInput} input
 * @param {MigrationSettings & { signIn?: (input: import('aws-amplify/auth').SignInInput) => Promise<import('aws-amplify/auth').SignInOutput> }} [settings]
 */
export async function signInWithMigration({ username, password, options }, settings = {}) {
  const { signIn = amplifySignIn } = settings;
  const requested = options?.authFlowType;
  if (requested !== undefined) {
    throw new TypeError(
      `signInWithMigration chooses the auth flow itself; leave options.authFlowType unset, not "${requested}"`,
    );
  }
  const [first, then] = migrationSignInFlows(settings);
  // Throws a CognitoMigrateError (code EMPTY_IDENTIFIER) before anything is sent.
  const name = await canonicalUsernameAsync(username);
  const attempt = async (authFlowType) => ({
    ...(await signIn({ username: name, password, options: { ...options, authFlowType } })),
    authFlowType,
  });

  if (then === undefined) return attempt(first);
  try {
    return await attempt(first);
  } catch (error) {
    if (!isMigrationFallbackError(error)) throw error;
  }
  return attempt(then);
}
