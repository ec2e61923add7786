// Sign-in for Amplify v6 apps during a lazy migration into a case-insensitive user pool.
//
// SRP first: the password never leaves the browser, and a user already in the new pool signs in
// as usual. Only when the new pool answers that the user is not there does the helper retry with
// USER_PASSWORD_AUTH, the one flow that sends the password to Cognito and so the only one that
// runs the user-migration trigger. After the migration window, pass
// `allowMigrationFallback: false` (or stop using this helper) so that no plaintext password
// reaches Cognito any more.
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

/** The two flows the helper uses, in the order it tries them. */
export const migrationAuthFlow = Object.freeze({
  /** Tried first: Secure Remote Password, the Amplify default. */
  preferred: 'USER_SRP_AUTH',
  /** Tried only for users not yet in the new pool: runs the user-migration trigger. */
  fallback: 'USER_PASSWORD_AUTH',
});

// NotAuthorizedException texts that prove the account exists in the new pool: retrying with the
// password flow cannot migrate anyone, it would only send the password again.
const ACCOUNT_EXISTS_MESSAGES = [/disabled/i, /attempts exceeded/i];

/**
 * Whether an error from the SRP attempt means "this user may not be in the new pool yet".
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
 * Signs in with the canonical username, SRP first, USER_PASSWORD_AUTH only for users still to be
 * migrated. Resolves to Amplify's `SignInOutput` plus `authFlowType`, the flow that answered.
 *
 * @param {import('aws-amplify/auth').SignInInput} input
 * @param {{ allowMigrationFallback?: boolean, signIn?: (input: import('aws-amplify/auth').SignInInput) => Promise<import('aws-amplify/auth').SignInOutput> }} [settings]
 */
export async function signInWithMigration(
  { username, password, options },
  { allowMigrationFallback = true, signIn = amplifySignIn } = {},
) {
  const requested = options?.authFlowType;
  if (requested !== undefined && requested !== migrationAuthFlow.preferred) {
    throw new TypeError(
      `signInWithMigration chooses the auth flow itself; options.authFlowType "${requested}" is not supported`,
    );
  }
  // Throws a CognitoMigrateError (code EMPTY_IDENTIFIER) before anything is sent.
  const name = await canonicalUsernameAsync(username);
  const attempt = async (authFlowType) => ({
    ...(await signIn({ username: name, password, options: { ...options, authFlowType } })),
    authFlowType,
  });

  try {
    return await attempt(migrationAuthFlow.preferred);
  } catch (error) {
    if (!allowMigrationFallback || !isMigrationFallbackError(error)) throw error;
  }
  return attempt(migrationAuthFlow.fallback);
}
