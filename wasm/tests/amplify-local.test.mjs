// signInWithMigration with the real aws-amplify package against the local stack's new pool
// (cognito-local, whose UserMigration trigger is the project's Lambda).
//
// Needs, from the stack's env file: COGNITO_LOCAL_ENDPOINT, NEW_USER_POOL_ID, NEW_CLIENT_ID, and a
// legacy user the Lambda can migrate: LEGACY_USERNAME, LEGACY_PASSWORD. It fails, never skips,
// when any is missing: run it through the stack's test command.
//
// cognito-local implements no SRP: it answers USER_SRP_AUTH with HTTP 500
// `CognitoLocal#Unsupported`. Real Cognito answers SRP for a user who is not in the pool with
// `NotAuthorizedException: Incorrect username or password.` when the app client has
// PreventUserExistenceErrors enabled, as the stack's client does. The signIn handed to the helper
// translates exactly that one emulator answer and records every attempt, so the test also proves
// the SRP attempt was really made first.
import assert from 'node:assert/strict';
import { before, beforeEach, test } from 'node:test';

import { Amplify } from 'aws-amplify';
import { getCurrentUser, signIn, signOut } from 'aws-amplify/auth';

import { signInWithMigration } from 'cognito-migrate/amplify';

const REQUIRED = ['COGNITO_LOCAL_ENDPOINT', 'NEW_USER_POOL_ID', 'NEW_CLIENT_ID', 'LEGACY_USERNAME', 'LEGACY_PASSWORD'];

let env;
let attempts;

/** Amplify's signIn, with cognito-local's missing SRP reported the way real Cognito reports it. */
async function signInAgainstCognitoLocal(input) {
  const flow = input.options?.authFlowType;
  try {
    const result = await signIn(input);
    attempts.push({ flow, outcome: 'ok' });
    return result;
  } catch (error) {
    attempts.push({ flow, outcome: error?.name });
    if (flow === 'USER_SRP_AUTH' && error?.name === 'Unsupported') {
      throw Object.assign(new Error('Incorrect username or password.'), {
        name: 'NotAuthorizedException',
        cause: error,
      });
    }
    throw error;
  }
}

before(() => {
  const missing = REQUIRED.filter((name) => !process.env[name]);
  assert.deepEqual(missing, [], `set ${missing.join(', ')} (the local stack's env file provides them)`);
  env = Object.fromEntries(REQUIRED.map((name) => [name, process.env[name]]));
  Amplify.configure({
    Auth: {
      Cognito: {
        userPoolId: env.NEW_USER_POOL_ID,
        userPoolClientId: env.NEW_CLIENT_ID,
        userPoolEndpoint: env.COGNITO_LOCAL_ENDPOINT,
      },
    },
  });
});

beforeEach(async () => {
  attempts = [];
  await signOut();
});

test('with the switch off, a legacy user is not migrated and the SRP answer is surfaced', async () => {
  await assert.rejects(
    signInWithMigration(
      { username: env.LEGACY_USERNAME, password: env.LEGACY_PASSWORD },
      { allowMigrationFallback: false, signIn: signInAgainstCognitoLocal },
    ),
    { name: 'NotAuthorizedException' },
  );
  assert.deepEqual(attempts, [{ flow: 'USER_SRP_AUTH', outcome: 'Unsupported' }]);
  await assert.rejects(getCurrentUser(), { name: 'UserUnAuthenticatedException' });
});

test('SRP fails, the helper falls back to USER_PASSWORD_AUTH and the Lambda migrates the legacy user', async () => {
  const result = await signInWithMigration(
    { username: env.LEGACY_USERNAME, password: env.LEGACY_PASSWORD },
    { signIn: signInAgainstCognitoLocal },
  );
  assert.deepEqual(attempts, [
    { flow: 'USER_SRP_AUTH', outcome: 'Unsupported' },
    { flow: 'USER_PASSWORD_AUTH', outcome: 'ok' },
  ]);
  assert.equal(result.authFlowType, 'USER_PASSWORD_AUTH');
  assert.equal(result.isSignedIn, true);
  assert.deepEqual(result.nextStep, { signInStep: 'DONE' });
  const user = await getCurrentUser();
  assert.ok(user.userId, 'signed in without a user id');
});

test('a wrong password is refused after the fallback, and nobody is signed in', async () => {
  await assert.rejects(
    signInWithMigration(
      { username: env.LEGACY_USERNAME, password: `${env.LEGACY_PASSWORD}-wrong` },
      { signIn: signInAgainstCognitoLocal },
    ),
    // Real Cognito says NotAuthorizedException; cognito-local says InvalidPasswordException.
    (error) => ['NotAuthorizedException', 'InvalidPasswordException'].includes(error?.name),
  );
  assert.deepEqual(
    attempts.map((attempt) => attempt.flow),
    ['USER_SRP_AUTH', 'USER_PASSWORD_AUTH'],
  );
  await assert.rejects(getCurrentUser(), { name: 'UserUnAuthenticatedException' });
});
