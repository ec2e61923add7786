// The tools build (`cognito-migrate/tools`): trigger events, the simulator and the audit, in
// Node. Expected decisions come from the core's rules as documented in core/src/migrate.rs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import * as tools from 'cognito-migrate/tools';
import { describeMismatches, keysWith, loadNative, loadPinned } from './support/native.mjs';

const fixture = (name) =>
  JSON.parse(readFileSync(new URL(`../../core/tests/fixtures/events/${name}.json`, import.meta.url), 'utf8'));

/** Asserts that `run` throws a CognitoMigrateError with `code` and the given properties. */
function assertCode(run, code, properties = {}) {
  assert.throws(run, (error) => {
    assert.ok(error instanceof Error, `not an Error: ${error}`);
    assert.equal(error.name, 'CognitoMigrateError');
    assert.equal(error.code, code, error.message);
    for (const [name, value] of Object.entries(properties)) assert.equal(error[name], value, name);
    assert.ok(error.message.length > 0);
    return true;
  });
}

const user = (username, { sub = `sub-${username}`, email, verified = false, enabled = true, status = 'CONFIRMED', modified, groups, phone, sms } = {}) => ({
  Username: username,
  Attributes: [
    { Name: 'sub', Value: sub },
    ...(email ? [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: String(verified) }] : []),
    ...(phone ? [{ Name: 'phone_number', Value: phone }, { Name: 'phone_number_verified', Value: 'true' }] : []),
  ],
  Enabled: enabled,
  UserStatus: status,
  ...(modified === undefined ? {} : { UserLastModifiedDate: modified }),
  ...(groups ? { Groups: groups } : {}),
  ...(sms ? { MFAOptions: [{ DeliveryMedium: 'SMS', AttributeName: 'phone_number' }] } : {}),
});

// A collision pair: two legacy users a case-insensitive pool cannot tell apart.
const owner = user('Name@Acme.com', { email: 'Name@Acme.com', verified: true, modified: 1_700_000_000 });
const other = user('name@acme.com', { modified: 1_600_000_000 });
const signIn = tools.buildEvent('UserMigration_Authentication', { userName: 'name@ACME.com', password: 'Pa55word!' });

const exportText = (users) => JSON.stringify({ Users: users }, null, 2);

// Node's CommonJS interop adds `default` next to the named exports.
const names = (module) => Object.keys(module).filter((name) => name !== 'default').sort();

test('the tools build has every export, and the sign-in build stays small', async () => {
  assert.deepEqual(names(tools), [
    'Auditor', 'auditUsers', 'buildEvent', 'canonicalUsername', 'info', 'matchKey',
    'parseEvent', 'parseJson', 'simulateTrigger', 'triggerSources',
  ]);
  const signInBuild = await import('cognito-migrate');
  assert.deepEqual(names(signInBuild), ['canonicalUsername', 'info', 'matchKey']);
  assert.equal(tools.matchKey('Straße'), signInBuild.matchKey('Straße'));
});

// The tools module carries no Unicode tables: keys of non-ASCII text come from the keys module.
test('the tools build computes the native keys, on the pinned table, edge cases and random strings', () => {
  const native = loadNative();
  for (const [name, rows] of [['pinned', loadPinned()], ['edge cases', native.examples], ['random', native.random]]) {
    assert.ok(rows.length >= 40, `${name}: only ${rows.length} rows`);
    const actual = rows.map((row) => keysWith(tools, row.input));
    const mismatches = describeMismatches(actual, rows);
    assert.equal(mismatches, '', `${name}:\n${mismatches}`);
  }
});

test('an empty identifier in the tools build throws the same coded error', () => {
  assertCode(() => tools.canonicalUsername('\u3000\u200B'), 'EMPTY_IDENTIFIER');
  assertCode(() => tools.canonicalUsername(' '), 'EMPTY_IDENTIFIER');
});

test('non-ASCII identifiers collide in the audit and the simulator as the keys say', () => {
  const street = user('Straße@Example.de', { modified: 1_700_000_000 });
  const shouting = user('STRASSE@example.de', { modified: 1_600_000_000 });
  const report = tools.auditUsers(exportText([street, shouting, user('Ｓtrasse@example.de')]));
  assert.equal(report.collisions.length, 1);
  assert.equal(report.collisions[0].key, 'strasse@example.de');
  assert.equal(report.collisions[0].members.length, 3);

  const result = tools.simulateTrigger({
    event: tools.buildEvent('UserMigration_Authentication', { userName: 'strasse@EXAMPLE.de', password: 'Pa55word!' }),
    legacyUsers: [street, shouting],
    passwordOutcomes: { 'Straße@Example.de': 'wrong', 'STRASSE@example.de': 'ok' },
  });
  assert.equal(result.matchKey, 'strasse@example.de');
  assert.deepEqual(result.candidates.sort(), ['STRASSE@example.de', 'Straße@Example.de']);
  assert.equal(result.approval.legacyUsername, 'STRASSE@example.de');
});

test('triggerSources lists the eleven modelled sources', () => {
  const sources = tools.triggerSources();
  assert.equal(sources.length, 11);
  assert.ok(sources.includes('UserMigration_Authentication'));
  assert.ok(sources.includes('TokenGeneration_RefreshTokens'));
});

test('buildEvent reproduces the captured event shapes, nulls included', () => {
  const cases = [
    ['user-migration-authentication', (e) => ({ password: e.request.password })],
    ['user-migration-forgot-password', () => ({})],
    ['pre-sign-up', (e) => ({ userAttributes: e.request.userAttributes })],
    ['post-authentication', (e) => ({ userAttributes: e.request.userAttributes })],
    ['token-generation-authentication', (e) => ({ userAttributes: e.request.userAttributes, groups: [] })],
  ];
  for (const [name, extra] of cases) {
    const expected = fixture(name);
    const built = tools.buildEvent(expected.triggerSource, {
      userName: expected.userName,
      userPoolId: expected.userPoolId,
      clientId: expected.callerContext.clientId,
      ...extra(expected),
    });
    // The SDK version is the caller's, not the event's shape.
    built.callerContext.awsSdkVersion = expected.callerContext.awsSdkVersion;
    // ForgotPassword's fixture carries client metadata the builder leaves null.
    if (name === 'user-migration-forgot-password') built.request.clientMetadata = expected.request.clientMetadata;
    assert.deepEqual(built, expected, name);
  }
});

test('buildEvent builds every source, reads the region from the pool id and passes groups', () => {
  for (const source of tools.triggerSources()) {
    const event = tools.buildEvent(source, { userName: 'ann', password: 'pw', userPoolId: 'eu-west-1_Abc', groups: ['staff'] });
    assert.equal(event.triggerSource, source);
    assert.equal(event.region, 'eu-west-1');
    assert.deepEqual(tools.parseEvent(JSON.stringify(event)), event);
  }
  const token = tools.buildEvent('TokenGeneration_Authentication', { userName: 'ann', groups: ['staff'] });
  assert.deepEqual(token.request.groupConfiguration.groupsToOverride, ['staff']);
  assert.equal(token.request.groupConfiguration.preferredRole, null);
});

test('buildEvent refuses unknown sources, missing passwords and unknown fields', () => {
  assertCode(() => tools.buildEvent('CustomMessage_SignUp', { userName: 'a' }), 'UNKNOWN_TRIGGER_SOURCE');
  assertCode(() => tools.buildEvent('UserMigration_Authentication', { userName: 'a' }), 'INVALID_EVENT', { field: 'request.password' });
  assertCode(() => tools.buildEvent('PreSignUp_SignUp', { userName: '' }), 'INVALID_EVENT', { field: 'userName' });
  assertCode(() => tools.buildEvent('PreSignUp_SignUp', { username: 'a' }), 'INVALID_INPUT');
  assertCode(() => tools.buildEvent('PreSignUp_SignUp', { userName: 'a', userAttributes: { n: 1 } }), 'INVALID_INPUT');
});

test('parseEvent and parseJson report the line and column of broken JSON', () => {
  assertCode(() => tools.parseEvent('{\n  "triggerSource": "PreSignUp_SignUp",\n  "userName": "a",,\n}'), 'INVALID_JSON', { line: 3, column: 19 });
  assertCode(() => tools.parseJson('[1, 2', 'the users'), 'INVALID_JSON', { line: 1, column: 5 });
  assert.throws(() => tools.parseJson('[1, 2', 'the users'), /the users is not valid JSON/);
  assertCode(() => tools.parseEvent('[]'), 'INVALID_EVENT');
  assertCode(() => tools.parseEvent('{"triggerSource": 3}'), 'INVALID_EVENT', { field: 'triggerSource' });
  assert.deepEqual(tools.parseJson('{"a": [1, null, "x"]}'), { a: [1, null, 'x'] });
});

test('the owner of a collision pair migrates as CONFIRMED when only its password fits', () => {
  const result = tools.simulateTrigger({
    event: signIn,
    legacyUsers: [owner, other],
    passwordOutcomes: { 'Name@Acme.com': 'ok', 'name@acme.com': 'wrong' },
  });
  assert.equal(result.decision, 'approved');
  assert.equal(result.reasonCode, null);
  assert.equal(result.passwordChecks, 2);
  assert.deepEqual(result.candidates.sort(), ['Name@Acme.com', 'name@acme.com']);
  assert.equal(result.response.response.finalUserStatus, 'CONFIRMED');
  assert.equal(result.response.response.messageAction, 'SUPPRESS');
  assert.equal(result.response.response.userAttributes['custom:legacy_sub'], 'sub-Name@Acme.com');
  assert.equal(result.response.response.userAttributes.sub, undefined, 'sub is never returned');
  assert.equal(result.approval.legacyUsername, 'Name@Acme.com');
  assert.match(result.clientMessage, /Signed in/);
  assert.ok(result.trace.length >= 3);
  // Everything but `response` is echoed as sent.
  assert.deepEqual({ ...result.response, response: null }, { ...signIn, response: null });
  assert.deepEqual(JSON.parse(JSON.stringify(result)), result);
});

test('a wrong password is refused with the event unchanged and the generic client message', () => {
  const result = tools.simulateTrigger({
    event: signIn,
    legacyUsers: [owner, other],
    passwordOutcomes: { 'Name@Acme.com': 'wrong', 'name@acme.com': 'wrong' },
  });
  assert.equal(result.decision, 'refused');
  assert.equal(result.reasonCode, 'wrong_password');
  assert.match(result.explanation, /fits none/);
  assert.equal(result.clientMessage, 'NotAuthorizedException: Incorrect username or password.');
  assert.deepEqual(result.response, signIn);
});

test('a password that fits both users is ambiguous, unless the policy picks the most recent', () => {
  const input = { event: signIn, legacyUsers: [owner, other], defaultOutcome: 'ok' };
  assert.equal(tools.simulateTrigger(input).reasonCode, 'ambiguous');
  const recent = tools.simulateTrigger({ ...input, policy: { collision: 'most-recent' } });
  assert.equal(recent.decision, 'approved');
  assert.equal(recent.approval.legacyUsername, 'Name@Acme.com');
});

test('policy, schema and MFA outcomes reach the core', () => {
  const sms = user('bob', { phone: '+15550100', sms: true });
  const event = tools.buildEvent('UserMigration_Authentication', { userName: 'BOB', password: 'x' });
  const kept = tools.simulateTrigger({ event, legacyUsers: [sms], passwordOutcomes: { bob: 'sms-mfa' } });
  assert.equal(kept.response.response.enableSMSMFA, true);
  const refused = tools.simulateTrigger({ event, legacyUsers: [sms], passwordOutcomes: { bob: 'sms-mfa' }, policy: { mfa: 'refuse' } });
  assert.equal(refused.reasonCode, 'mfa_refused');
  const narrow = tools.simulateTrigger({ event, legacyUsers: [sms], schema: ['phone_number'] });
  assert.deepEqual(narrow.response.response.userAttributes, { phone_number: '+15550100' });
  const many = tools.simulateTrigger({ event: signIn, legacyUsers: [owner, other], policy: { maxCandidates: 1 } });
  assert.equal(many.reasonCode, 'too_many_candidates');
  assert.equal(many.passwordChecks, 0);
});

test('forgot-password migrates a single candidate as RESET_REQUIRED, without a check', () => {
  const event = tools.buildEvent('UserMigration_ForgotPassword', { userName: 'NAME@acme.com' });
  const result = tools.simulateTrigger({ event, legacyUsers: [owner] });
  assert.equal(result.decision, 'approved');
  assert.equal(result.passwordChecks, 0);
  assert.equal(result.response.response.finalUserStatus, 'RESET_REQUIRED');
});

test('pre sign-up refuses an e-mail of a legacy user who has not moved, and allows others', () => {
  const taken = tools.buildEvent('PreSignUp_SignUp', { userName: 'uuid-1', userAttributes: { email: 'NAME@acme.COM' } });
  const refused = tools.simulateTrigger({ event: taken, legacyUsers: [owner] });
  assert.equal(refused.decision, 'refused');
  assert.equal(refused.reasonCode, 'identifier_taken');
  assert.match(refused.explanation, /has not moved yet/);
  assert.equal(refused.response, null, 'the trigger fails the request instead of answering');
  assert.equal(
    refused.clientMessage,
    'UserLambdaValidationException: PreSignUp failed with error An account with this sign-in already exists. Sign in with your existing password, or reset it.',
  );
  const fresh = tools.buildEvent('PreSignUp_SignUp', { userName: 'uuid-2', userAttributes: { email: 'new@acme.com' } });
  const allowed = tools.simulateTrigger({ event: fresh, legacyUsers: [owner] });
  assert.equal(allowed.decision, 'allowed');
  assert.equal(allowed.reasonCode, null);
  assert.deepEqual(allowed.response, fresh);
});

test('token generation gives no legacy groups to a user the legacy record was not migrated to; other sources come back unchanged', () => {
  const member = user('Ann', { groups: ['admins'] });
  const event = tools.buildEvent('TokenGeneration_Authentication', {
    userName: 'ann',
    userAttributes: { 'custom:legacy_username': 'Ann' },
    groups: ['new'],
  });
  // Ann has not migrated: a new-pool user naming her in custom:legacy_username gets nothing.
  const result = tools.simulateTrigger({ event, legacyUsers: [member] });
  assert.equal(result.decision, 'unchanged');
  assert.equal(result.reasonCode, 'not_owner');
  assert.deepEqual(result.response, event);
  const post = tools.buildEvent('PostAuthentication_Authentication', { userName: 'ann' });
  const unchanged = tools.simulateTrigger({ event: post, legacyUsers: [member] });
  assert.equal(unchanged.decision, 'unchanged');
  assert.deepEqual(unchanged.response, post);
});

test('simulateTrigger refuses malformed input with stable codes', () => {
  assertCode(() => tools.simulateTrigger({ event: signIn, legacyUsers: [owner], passwordOutcomes: { 'Name@Acme.com': 'maybe' } }), 'INVALID_OUTCOME');
  assertCode(() => tools.simulateTrigger({ event: signIn, legacyUsers: [owner], passwordOutcomes: { nobody: 'ok' } }), 'INVALID_OUTCOME');
  assertCode(() => tools.simulateTrigger({ event: signIn, legacyUsers: [owner], defaultOutcome: 'okay' }), 'INVALID_OUTCOME');
  assertCode(() => tools.simulateTrigger({ event: signIn, legacyUsers: [owner, { Attributes: [] }] }), 'INVALID_USER', { index: 1, field: 'Username' });
  assertCode(() => tools.simulateTrigger({ event: signIn, legacyUsers: [{ Username: 'a', Enabled: 'yes' }] }), 'INVALID_USER', { index: 0, field: 'Enabled' });
  assertCode(() => tools.simulateTrigger({ event: signIn, legacyUsers: [], policy: { collision: 'merge' } }), 'INVALID_INPUT');
  assertCode(() => tools.simulateTrigger({ event: signIn, users: [] }), 'INVALID_INPUT');
  assertCode(() => tools.simulateTrigger({ event: { ...signIn, request: { password: 5 } }, legacyUsers: [] }), 'INVALID_EVENT', { field: 'request.password' });
  assertCode(() => tools.simulateTrigger({ event: { triggerSource: 'UserMigration_Authentication' }, legacyUsers: [] }), 'INVALID_EVENT', { field: 'userName' });
  assertCode(() => tools.simulateTrigger({ event: signIn, legacyUsers: [], extra: 10n }), 'INVALID_INPUT');
});

test('simulateTrigger names the option at fault and refuses options it does not know', () => {
  const input = { event: signIn, legacyUsers: [owner] };
  const refuses = (extra, message) => {
    assertCode(() => tools.simulateTrigger({ ...input, ...extra }), 'INVALID_INPUT');
    assert.throws(() => tools.simulateTrigger({ ...input, ...extra }), message);
  };
  // A misspelt option would otherwise leave a safe default silently in place, or an unsafe one.
  refuses({ policy: { colision: 'most-recent' } }, /simulateTrigger input\.policy has an unknown field `colision`; the fields are: collision, mfa/);
  refuses({ mapping: { rename: {} } }, /input\.mapping has an unknown field `rename`/);
  refuses({ legacySignIn: { aliases: ['email'] } }, /input\.legacySignIn has an unknown field `aliases`/);
  refuses({ policy: { collision: 'merge' } }, /input\.policy\.collision: `merge` is not one of: refuse, most-recent/);
  refuses({ policy: { maxCandidates: -1 } }, /input\.policy\.maxCandidates must be a whole number from 0/);
  refuses({ policy: { deadlineMs: 2.5 } }, /input\.policy\.deadlineMs must be a whole number from 0/);
  refuses({ schema: 'email' }, /input\.schema must be a list of strings/);
  refuses({ newPoolAliasAttributes: ['email', 1] }, /input\.newPoolAliasAttributes must be a list of strings/);
  refuses({ mapping: { renames: { 'custom:dept': 7 } } }, /input\.mapping\.renames must be an object whose values are strings/);
  refuses({ legacyUsers: { Users: [] } }, /input\.legacyUsers must be a list/);
  refuses({ policy: 'refuse' }, /input\.policy must be an object/);
  assertCode(() => tools.simulateTrigger([]), 'INVALID_INPUT');
  assert.throws(() => tools.simulateTrigger({ legacyUsers: [] }), /simulateTrigger input\.event is missing/);
  assert.throws(() => tools.buildEvent('PreSignUp_SignUp', { userName: 'a', groups: 'staff' }), /buildEvent fields\.groups must be a list of strings/);
  assert.throws(() => tools.buildEvent('PreSignUp_SignUp', {}), /buildEvent fields\.userName is missing/);

  // Every option the types declare is read, and null stands for "not given".
  const options = {
    ...input,
    passwordOutcomes: null,
    policy: { collision: 'refuse', mfa: 'sms', temporaryPassword: 'refuse', maxCandidates: 4, deadlineMs: 3000, refusalFloorMs: 0 },
    mapping: { renames: { email: 'email' }, drops: ['custom:dept'] },
    newPoolUsernameAttributes: null,
    newPoolAliasAttributes: ['email'],
    legacySignIn: { usernameAttributes: [], aliasAttributes: ['email'] },
  };
  assert.equal(tools.simulateTrigger(options).decision, 'approved');
  const dropped = tools.simulateTrigger({ ...input, mapping: { drops: ['email'] } });
  assert.equal(dropped.approval.userAttributes.email, undefined);
  const renamed = tools.simulateTrigger({ ...input, schema: ['email', 'custom:contact'], mapping: { renames: { email: 'custom:contact' } } });
  assert.equal(renamed.approval.userAttributes['custom:contact'], owner.Attributes.find((a) => a.Name === 'email').Value);
});

test('auditUsers lists collision groups, categories with counts, and input errors by line', () => {
  const report = tools.auditUsers(exportText([owner, other, user('Carl', { enabled: false, status: 'FORCE_CHANGE_PASSWORD' })]));
  assert.equal(report.totalUsers, 3);
  assert.equal(report.usersInCollisions, 2);
  assert.equal(report.collisions.length, 1);
  assert.equal(report.collisions[0].key, 'name@acme.com');
  assert.deepEqual(report.collisions[0].members.map((m) => m.username), ['Name@Acme.com', 'name@acme.com']);
  const byName = Object.fromEntries(report.categories.map((c) => [c.category, c]));
  assert.equal(report.categories.length, 9);
  assert.deepEqual(byName.unverifiedEmailShared.usernames, []);
  assert.deepEqual(byName.disabled.usernames, ['Carl']);
  assert.equal(byName.forceChangePassword.count, 1);
  assert.match(byName.mfa.title, /MFA/);
  assert.ok(byName.disabled.decision.length > 10);
  assert.equal(report.inputErrorCount, 0);
  assert.deepEqual(JSON.parse(JSON.stringify(report)), report);

  const broken = tools.auditUsers('{"Username": "a", "UserStatus": "CONFIRMED"}\n{"Username": "b", "Enabled": tru}\n{"Username": "c"}\n');
  assert.equal(broken.totalUsers, 2);
  assert.equal(broken.inputErrorCount, 1);
  assert.equal(broken.inputErrors[0].line, 2);
  assert.match(broken.inputErrors[0].message, /invalid JSON/);
});

test('an Auditor fed in chunks gives the report of the whole text, and counts as it goes', () => {
  const users = Array.from({ length: 300 }, (_, i) => user(i % 50 === 0 ? `User${i}` : `user${i}`, { email: `u${i % 120}@x.com`, verified: i % 3 === 0 }));
  const text = exportText(users);
  const whole = tools.auditUsers(text);
  for (const size of [1, 7, 4096]) {
    const auditor = new tools.Auditor();
    let seen = 0;
    for (let at = 0; at < text.length; at += size) {
      auditor.push(text.slice(at, at + size));
      assert.ok(auditor.usersSeen >= seen);
      seen = auditor.usersSeen;
    }
    assert.ok(seen > 290, `usersSeen ${seen}`);
    assert.deepEqual(auditor.finish(), whole, `chunks of ${size}`);
    assert.throws(() => auditor.finish(), 'a finished auditor cannot be used again');
  }
});
