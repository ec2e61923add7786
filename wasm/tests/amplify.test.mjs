// The helper's decisions, with Amplify's signIn replaced by a recording fake.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { canonicalUsername } from 'cognito-migrate';
import { isMigrationFallbackError, migrationAuthFlow, signInWithMigration } from 'cognito-migrate/amplify';

const DONE = Object.freeze({ isSignedIn: true, nextStep: { signInStep: 'DONE' } });

/** An AuthError as Amplify v6 throws it: an Error whose name is Cognito's exception. */
function authError(name, message) {
  return Object.assign(new Error(message), { name });
}

/** A signIn that answers each call from a script of results (objects) or errors (thrown). */
function scriptedSignIn(...script) {
  const calls = [];
  const signIn = async (input) => {
    calls.push(structuredClone(input));
    const next = script.shift();
    if (next === undefined) throw new Error('signIn called more often than scripted');
    if (next instanceof Error) throw next;
    return next;
  };
  return { signIn, calls };
}

test('SRP success: one call, canonical username, SRP flow', async () => {
  const { signIn, calls } = scriptedSignIn(DONE);
  const result = await signInWithMigration({ username: '  Ana@Example.COM ', password: 'pw' }, { signIn });
  assert.deepEqual(result, { ...DONE, authFlowType: 'USER_SRP_AUTH' });
  assert.deepEqual(calls, [
    { username: 'ana@example.com', password: 'pw', options: { authFlowType: 'USER_SRP_AUTH' } },
  ]);
});

test('the username sent is exactly the package canonicalUsername', async () => {
  for (const typed of ['STRAẞE@Example.de', '\u200BİSTANBUL', 'Re\u0301mi']) {
    const { signIn, calls } = scriptedSignIn(DONE);
    await signInWithMigration({ username: typed, password: 'pw' }, { signIn });
    assert.equal(calls[0].username, canonicalUsername(typed));
  }
});

test('UserNotFoundException falls back to USER_PASSWORD_AUTH, keeping the other options', async () => {
  const { signIn, calls } = scriptedSignIn(authError('UserNotFoundException', 'User does not exist.'), DONE);
  const options = { clientMetadata: { app: 'web' } };
  const result = await signInWithMigration({ username: 'Bob', password: 'pw', options }, { signIn });
  assert.equal(result.authFlowType, 'USER_PASSWORD_AUTH');
  assert.equal(result.isSignedIn, true);
  assert.deepEqual(
    calls.map((call) => call.options),
    [
      { clientMetadata: { app: 'web' }, authFlowType: 'USER_SRP_AUTH' },
      { clientMetadata: { app: 'web' }, authFlowType: 'USER_PASSWORD_AUTH' },
    ],
  );
  assert.deepEqual(options, { clientMetadata: { app: 'web' } }, 'the caller\'s options were changed');
  assert.ok(calls.every((call) => call.username === 'bob' && call.password === 'pw'));
});

test('NotAuthorizedException "Incorrect username or password." falls back (PreventUserExistenceErrors)', async () => {
  const { signIn, calls } = scriptedSignIn(authError('NotAuthorizedException', 'Incorrect username or password.'), DONE);
  const result = await signInWithMigration({ username: 'carol', password: 'pw' }, { signIn });
  assert.equal(result.authFlowType, 'USER_PASSWORD_AUTH');
  assert.equal(calls.length, 2);
});

test('NotAuthorizedException that proves the account exists does not fall back', async () => {
  for (const message of ['User is disabled.', 'Password attempts exceeded']) {
    const error = authError('NotAuthorizedException', message);
    const { signIn, calls } = scriptedSignIn(error);
    await assert.rejects(signInWithMigration({ username: 'dan', password: 'pw' }, { signIn }), error);
    assert.equal(calls.length, 1, message);
  }
});

test('other errors are surfaced without a second attempt', async () => {
  for (const name of [
    'UserAlreadyAuthenticatedException',
    'TooManyRequestsException',
    'InvalidParameterException',
    'NetworkError',
    'Unknown',
  ]) {
    const error = authError(name, 'nope');
    const { signIn, calls } = scriptedSignIn(error);
    await assert.rejects(signInWithMigration({ username: 'erin', password: 'pw' }, { signIn }), error);
    assert.equal(calls.length, 1, name);
  }
});

test('allowMigrationFallback: false surfaces the SRP error and never sends the password flow', async () => {
  const error = authError('UserNotFoundException', 'User does not exist.');
  const { signIn, calls } = scriptedSignIn(error);
  await assert.rejects(
    signInWithMigration({ username: 'frank', password: 'pw' }, { allowMigrationFallback: false, signIn }),
    error,
  );
  assert.deepEqual(calls.map((call) => call.options.authFlowType), ['USER_SRP_AUTH']);
});

test('a failing fallback surfaces the fallback error (the migration\'s answer)', async () => {
  const refused = authError('NotAuthorizedException', 'Incorrect username or password.');
  const { signIn, calls } = scriptedSignIn(authError('UserNotFoundException', 'User does not exist.'), refused);
  await assert.rejects(signInWithMigration({ username: 'gina', password: 'pw' }, { signIn }), refused);
  assert.equal(calls.length, 2, 'a failed fallback must not be retried again');
});

test('a challenge from SRP (MFA, new password) is returned, not retried', async () => {
  const challenge = { isSignedIn: false, nextStep: { signInStep: 'CONFIRM_SIGN_IN_WITH_TOTP_CODE' } };
  const { signIn, calls } = scriptedSignIn(challenge);
  const result = await signInWithMigration({ username: 'hal', password: 'pw' }, { signIn });
  assert.deepEqual(result, { ...challenge, authFlowType: 'USER_SRP_AUTH' });
  assert.equal(calls.length, 1);
});

test('a blank username throws EMPTY_IDENTIFIER before anything is sent', async () => {
  const { signIn, calls } = scriptedSignIn();
  await assert.rejects(signInWithMigration({ username: ' \u200B', password: 'pw' }, { signIn }), {
    name: 'CognitoMigrateError',
    code: 'EMPTY_IDENTIFIER',
  });
  assert.equal(calls.length, 0);
});

test('a caller-chosen authFlowType other than SRP is refused', async () => {
  const { signIn, calls } = scriptedSignIn();
  await assert.rejects(
    signInWithMigration({ username: 'ivy', password: 'pw', options: { authFlowType: 'USER_PASSWORD_AUTH' } }, { signIn }),
    TypeError,
  );
  assert.equal(calls.length, 0);
});

test('isMigrationFallbackError ignores non-errors', () => {
  for (const value of [undefined, null, 'UserNotFoundException', 42, {}]) {
    assert.equal(isMigrationFallbackError(value), false);
  }
  assert.equal(isMigrationFallbackError({ name: 'UserNotFoundException' }), true);
});

test('migrationAuthFlow names the two flows and is frozen', () => {
  assert.deepEqual({ ...migrationAuthFlow }, { preferred: 'USER_SRP_AUTH', fallback: 'USER_PASSWORD_AUTH' });
  assert.ok(Object.isFrozen(migrationAuthFlow));
});
