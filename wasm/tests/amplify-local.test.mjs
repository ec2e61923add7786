// signInWithMigration with the real aws-amplify package against the local stack's new pool
// (cognito-local, whose UserMigration trigger is the project's Lambda), counting the failed
// attempts Cognito sees for one wrong password in each mode of the helper.
//
// Needs, from the stack's env file: COGNITO_LOCAL_ENDPOINT, NEW_USER_POOL_ID, NEW_CLIENT_ID, and a
// legacy user the Lambda can migrate: LEGACY_USERNAME (what the user types: its e-mail address,
// which signs in whatever the shapes of the two pools), LEGACY_PASSWORD. It fails, never skips,
// when any is missing: run it through the stack's test command, which runs it once per session
// of pool shapes, on a freshly reset stack. The tests run in order: the legacy user is migrated
// halfway through.
//
// Every authentication request Amplify sends is seen by a `fetch` wrapper, which records it with
// the answer real Cognito gives to it and hands Amplify that answer. cognito-local differs in
// two answers, rewritten here and nowhere else:
// - it implements no SRP and answers USER_SRP_AUTH with HTTP 500 `CognitoLocal#Unsupported` (which
//   Amplify would even retry, as it retries any 5xx). These tests send SRP only where real Cognito
//   refuses it: a user not in the new pool, or a wrong password. With PreventUserExistenceErrors
//   enabled, as on the stack's app client, real Cognito then answers with a challenge whose
//   response it refuses with `NotAuthorizedException: Incorrect username or password.`: one
//   failed attempt, modelled as that refusal of the InitiateAuth request;
// - it answers a wrong password of a user already in the pool with `InvalidPasswordException`,
//   where real Cognito answers `NotAuthorizedException: Incorrect username or password.`.
import assert from 'node:assert/strict';
import { before, beforeEach, test } from 'node:test';

import { Amplify } from 'aws-amplify';
import { getCurrentUser, signOut } from 'aws-amplify/auth';

import { signInWithMigration } from 'cognito-migrate/amplify';

const REQUIRED = ['COGNITO_LOCAL_ENDPOINT', 'NEW_USER_POOL_ID', 'NEW_CLIENT_ID', 'LEGACY_USERNAME', 'LEGACY_PASSWORD'];
const INCORRECT = 'Incorrect username or password.';
const AUTH_OPERATIONS = ['InitiateAuth', 'RespondToAuthChallenge'];

let env;
/** The authentication requests since the last test began: `{ operation, flow, emulator, cognito }`. */
let authRequests = [];

/** Real Cognito's answer to an authentication request cognito-local answered with `emulator`. */
function asRealCognito(flow, emulator) {
  if (flow === 'USER_SRP_AUTH' && emulator === 'CognitoLocal#Unsupported') return 'NotAuthorizedException';
  if (flow === 'USER_PASSWORD_AUTH' && emulator === 'InvalidPasswordException') return 'NotAuthorizedException';
  return emulator;
}

const realFetch = globalThis.fetch;
globalThis.fetch = async (resource, init) => {
  const operation = (new Headers(init?.headers).get('x-amz-target') ?? '').split('.').pop();
  if (!AUTH_OPERATIONS.includes(operation)) return realFetch(resource, init);
  const flow = JSON.parse(String(init.body)).AuthFlow ?? null;
  const response = await realFetch(resource, init);
  const emulator = response.ok ? 'ok' : String((await response.clone().json()).__type);
  const cognito = asRealCognito(flow, emulator);
  authRequests.push({ operation, flow, emulator, cognito });
  if (cognito === emulator) return response;
  return new Response(JSON.stringify({ __type: cognito, message: INCORRECT }), {
    status: 400,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': cognito },
  });
};

/** The attempts Cognito counts toward the account's lockout: requests refused as not authorized. */
const failedAttempts = () => authRequests.filter((request) => request.cognito === 'NotAuthorizedException');
const flowsSent = () => authRequests.map((request) => request.flow);

const MODES = {
  'window open (USER_PASSWORD_AUTH alone, the default)': {},
  'window closed by allowMigrationFallback: false (SRP only)': { allowMigrationFallback: false },
  'window closed by a past migrationEndsAt (SRP only)': { migrationEndsAt: new Date(Date.now() - 60_000) },
  "migrationFlow: 'srp-first' (SRP, then USER_PASSWORD_AUTH)": { migrationFlow: 'srp-first' },
};

// The helper calls Amplify's own signIn: no `signIn` setting.
const signInAs = (password, settings) => signInWithMigration({ username: env.LEGACY_USERNAME, password }, settings);

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
  await signOut();
  authRequests = [];
});

test('window closed: the legacy user is not migrated; one SRP request, refused', async () => {
  const closed = [{ allowMigrationFallback: false }, { migrationEndsAt: new Date(Date.now() - 60_000) }];
  for (const settings of closed) {
    authRequests = [];
    await assert.rejects(signInAs(env.LEGACY_PASSWORD, settings), { name: 'NotAuthorizedException' });
    assert.deepEqual(authRequests, [
      { operation: 'InitiateAuth', flow: 'USER_SRP_AUTH', emulator: 'CognitoLocal#Unsupported', cognito: 'NotAuthorizedException' },
    ]);
    await assert.rejects(getCurrentUser(), { name: 'UserUnAuthenticatedException' });
  }
});

test('window open: a wrong password of a legacy user is one failed attempt, and migrates nobody', async () => {
  // The trigger refuses: cognito-local reports it as NotAuthorizedException, as Cognito does.
  await assert.rejects(signInAs(`${env.LEGACY_PASSWORD}-wrong`, {}), { name: 'NotAuthorizedException' });
  assert.deepEqual(flowsSent(), ['USER_PASSWORD_AUTH']);
  assert.equal(failedAttempts().length, 1);
  await assert.rejects(getCurrentUser(), { name: 'UserUnAuthenticatedException' });
});

test('window open: one USER_PASSWORD_AUTH request, and the Lambda migrates the legacy user', async () => {
  const result = await signInAs(env.LEGACY_PASSWORD, {});
  assert.deepEqual(authRequests, [{ operation: 'InitiateAuth', flow: 'USER_PASSWORD_AUTH', emulator: 'ok', cognito: 'ok' }]);
  assert.equal(result.authFlowType, 'USER_PASSWORD_AUTH');
  assert.equal(result.isSignedIn, true);
  assert.deepEqual(result.nextStep, { signInStep: 'DONE' });
  const user = await getCurrentUser();
  assert.ok(user.userId, 'signed in without a user id');
});

test('a wrong password of the migrated user: one failed attempt in every mode but SRP-first, which costs two', async () => {
  const counted = {};
  for (const [mode, settings] of Object.entries(MODES)) {
    authRequests = [];
    await assert.rejects(signInAs(`${env.LEGACY_PASSWORD}-wrong`, settings), { name: 'NotAuthorizedException', message: INCORRECT }, mode);
    counted[mode] = { flows: flowsSent(), failedAttempts: failedAttempts().length };
    await assert.rejects(getCurrentUser(), { name: 'UserUnAuthenticatedException' });
  }
  assert.deepEqual(counted, {
    'window open (USER_PASSWORD_AUTH alone, the default)': { flows: ['USER_PASSWORD_AUTH'], failedAttempts: 1 },
    'window closed by allowMigrationFallback: false (SRP only)': { flows: ['USER_SRP_AUTH'], failedAttempts: 1 },
    'window closed by a past migrationEndsAt (SRP only)': { flows: ['USER_SRP_AUTH'], failedAttempts: 1 },
    "migrationFlow: 'srp-first' (SRP, then USER_PASSWORD_AUTH)": {
      flows: ['USER_SRP_AUTH', 'USER_PASSWORD_AUTH'],
      failedAttempts: 2,
    },
  });
});

test('the migrated user signs in again with the right password, in one request', async () => {
  const result = await signInAs(env.LEGACY_PASSWORD, {});
  assert.equal(result.isSignedIn, true);
  assert.deepEqual(authRequests, [{ operation: 'InitiateAuth', flow: 'USER_PASSWORD_AUTH', emulator: 'ok', cognito: 'ok' }]);
});
