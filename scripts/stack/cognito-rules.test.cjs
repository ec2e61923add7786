// The migration rules of cognito-rules.cjs through cognito-local's own InitiateAuth target, in
// process: cognito-local's services built as its server builds them (server/defaults.js), on a
// data folder of their own, with both preloads applied and a Lambda client that answers each
// UserMigration with the response a test chooses. This is how the self-test reaches responses
// the real trigger never gives (a `username` it may not return, one in another shape).
//
//   node --test scripts/stack/cognito-rules.test.cjs
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const test = require('node:test');

const root = path.resolve(__dirname, '..', '..');
process.env.COGNITO_LOCAL_LIB = path.join(root, 'node_modules/cognito-local/lib');
require('./case-insensitive-shim.cjs');
require('./cognito-rules.cjs');
const lib = (rel) => require(path.join(process.env.COGNITO_LOCAL_LIB, rel));
const { Router } = lib('server/Router.js');
const services_ = lib('services/index.js');
const { CognitoServiceFactoryImpl } = lib('services/cognitoService.js');
const { StormDBDataStoreFactory } = lib('services/dataStore/stormDb.js');
const { UserPoolServiceFactoryImpl } = lib('services/userPoolService.js');
const { JwtTokenGenerator } = lib('services/tokenGenerator.js');

const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };
const ctx = { logger: quiet };
let answer = null;
// The events the Lambda was sent, newest last.
const sent = [];
const lambdaClient = {
  invoke: ({ Payload }) => {
    sent.push(JSON.parse(Payload));
    return { promise: async () => ({ StatusCode: 200, Payload: JSON.stringify({ response: answer }) }) };
  },
};
// The codes cognito-local would deliver, newest last.
const delivered = [];
const messages = { deliver: async (_ctx, source, _client, _pool, user, code) => delivered.push({ source, user: user.Username, code }) };

const dirs = [];
test.after(() => dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

async function services() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cognito-rules-'));
  dirs.push(dir);
  const clock = new services_.DateClock();
  const dataStores = new StormDBDataStoreFactory(dir);
  const cognito = await new CognitoServiceFactoryImpl(dir, dataStores, new UserPoolServiceFactoryImpl(clock, dataStores)).create(
    ctx,
    { UsernameAttributes: [] },
  );
  const lambda = new services_.LambdaService({ UserMigration: 'cognito-migrate-trigger' }, lambdaClient);
  const triggers = new services_.TriggersService(clock, cognito, lambda, null);
  const config = { TriggerFunctions: { UserMigration: 'cognito-migrate-trigger' }, LambdaClient: { region: 'us-east-1' } };
  const tokenGenerator = new JwtTokenGenerator(clock, triggers, { IssuerDomain: 'http://localhost' });
  return { clock, cognito, config, triggers, tokenGenerator, otp: () => '123456', messages };
}

const SCHEMA = [
  { Name: 'email', AttributeDataType: 'String', Mutable: true },
  { Name: 'preferred_username', AttributeDataType: 'String', Mutable: true },
  { Name: 'legacy_username', AttributeDataType: 'String', Mutable: true },
];
const SHAPES = {
  username: {},
  email: { UsernameAttributes: ['email'] },
  alias: { AliasAttributes: ['email', 'preferred_username'] },
};

async function pool(shape, clientSettings = {}) {
  const s = await services();
  const call = (target, req) => Router(s)(target)(ctx, req);
  const { UserPool } = await call('CreateUserPool', {
    PoolName: shape,
    UsernameConfiguration: { CaseSensitive: false },
    Schema: SCHEMA,
    ...SHAPES[shape],
  });
  const { UserPoolClient } = await call('CreateUserPoolClient', {
    UserPoolId: UserPool.Id,
    ClientName: 'app',
    ...clientSettings,
  });
  const signIn = (username) =>
    call('InitiateAuth', {
      ClientId: UserPoolClient.ClientId,
      AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: username, PASSWORD: 'Pw-1234567' },
    });
  const users = async () => (await call('ListUsers', { UserPoolId: UserPool.Id })).Users;
  const forgot = (username) => call('ForgotPassword', { ClientId: UserPoolClient.ClientId, Username: username });
  return { call, signIn, forgot, users, poolId: UserPool.Id };
}

async function migrating(shape, typed, userAttributes) {
  const p = await pool(shape);
  answer = { userAttributes, finalUserStatus: 'CONFIRMED', messageAction: 'SUPPRESS' };
  let error = null;
  let result = null;
  try {
    result = await p.signIn(typed);
  } catch (e) {
    error = e;
  }
  return { ...p, error, result };
}

const attrs = (user) => Object.fromEntries(user.Attributes.map((a) => [a.Name, a.Value]));

test('username pool: the user is created under the typed name, with or without username', async () => {
  for (const returned of [undefined, 'Jane.Doe']) {
    const m = await migrating('username', 'Jane.Doe', { email: 'jane@x.com', ...(returned && { username: returned }) });
    assert.equal(m.error, null);
    assert.ok(m.result.AuthenticationResult);
    assert.deepEqual((await m.users()).map((u) => u.Username), ['Jane.Doe']);
  }
});

test('username pool: a username other than the typed one is refused, nothing is stored', async () => {
  const m = await migrating('username', 'jane@x.com', { email: 'jane@x.com', username: 'jane' });
  assert.equal(m.error?.code, 'InvalidLambdaResponseException');
  assert.deepEqual(await m.users(), []);
});

test('email pool: the migrated user gets a generated username and the typed email', async () => {
  const m = await migrating('email', 'jane@x.com', {});
  assert.equal(m.error, null);
  const [user] = await m.users();
  assert.match(user.Username, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(attrs(user).sub, user.Username);
  assert.equal(attrs(user).email, 'jane@x.com');
  // Found by email afterwards, in any case, without another migration.
  answer = null;
  assert.ok((await m.signIn('JANE@x.com')).AuthenticationResult);
});

test('email pool: `username` equal to the typed email is accepted, another is refused', async () => {
  const same = await migrating('email', 'jane@x.com', { email: 'jane@x.com', username: 'jane@x.com' });
  assert.equal(same.error, null);
  assert.notEqual((await same.users())[0].Username, 'jane@x.com');
  const other = await migrating('email', 'jane@x.com', { email: 'jane@x.com', username: 'jane' });
  assert.equal(other.error?.code, 'InvalidLambdaResponseException');
});

test('alias pool: an email-format username is refused as Cognito refuses it', async () => {
  const m = await migrating('alias', 'jane@x.com', { email: 'jane@x.com' });
  assert.equal(m.error?.code, 'InvalidParameterException');
  assert.equal(m.error.message, 'Username cannot be of email format, since user pool is configured for email alias.');
  assert.deepEqual(await m.users(), []);
});

test('alias pool: a typed email on the email attribute may get a username of its own', async () => {
  const m = await migrating('alias', 'Jane@X.com', { email: 'jane@x.com', email_verified: 'true', username: 'jane-7f3e' });
  assert.equal(m.error, null);
  const [user] = await m.users();
  assert.equal(user.Username, 'jane-7f3e');
  answer = null;
  assert.ok((await m.signIn('JANE@x.com')).AuthenticationResult, 'the verified email alias signs in');
});

test('alias pool: a typed preferred_username on that attribute may get a username of its own', async () => {
  const m = await migrating('alias', 'JaneD', { preferred_username: 'janed', username: 'jane-7f3e' });
  assert.equal(m.error, null);
  assert.equal((await m.users())[0].Username, 'jane-7f3e');
});

test('alias pool: another username is refused when the typed value is not on its alias', async () => {
  for (const userAttributes of [
    { email: 'other@x.com', username: 'jane-7f3e' },
    { email: 'other@x.com', preferred_username: 'janed', username: 'jane-7f3e' },
  ]) {
    const m = await migrating('alias', 'jane@x.com', userAttributes);
    assert.equal(m.error?.code, 'InvalidLambdaResponseException', JSON.stringify(userAttributes));
    assert.deepEqual(await m.users(), []);
  }
  const handle = await migrating('alias', 'JaneD', { email: 'jane@x.com', username: 'jane-7f3e' });
  assert.equal(handle.error?.code, 'InvalidLambdaResponseException');
});

test('a returned username that is taken is refused', async () => {
  const m = await migrating('alias', 'jane@x.com', { email: 'jane@x.com', username: 'taken' });
  assert.equal(m.error, null);
  answer = { userAttributes: { email: 'joe@x.com', username: 'TAKEN' }, finalUserStatus: 'CONFIRMED' };
  await assert.rejects(m.signIn('joe@x.com'), { code: 'UsernameExistsException' });
});

test('a refused migration answers the generic message when the client prevents user existence errors', async () => {
  for (const [settings, message] of [
    [{ PreventUserExistenceErrors: 'ENABLED' }, 'Incorrect username or password.'],
    [{}, 'User not authorized'],
  ]) {
    const p = await pool('username', settings);
    answer = { userAttributes: {}, finalUserStatus: null };
    await assert.rejects(p.signIn('nobody'), { code: 'NotAuthorizedException', message });
    assert.deepEqual(await p.users(), []);
  }
});

test('DescribeUserPool reports the triggers cognito-local invokes, as ARNs', async () => {
  const p = await pool('username');
  const { UserPool } = await p.call('DescribeUserPool', { UserPoolId: p.poolId });
  assert.deepEqual(UserPool.LambdaConfig, {
    UserMigration: 'arn:aws:lambda:us-east-1:123456789012:function:cognito-migrate-trigger',
  });
});

test('ForgotPassword of a user the pool lacks runs the forgot-password migration and sends the code', async () => {
  const p = await pool('username', { PreventUserExistenceErrors: 'ENABLED' });
  answer = { userAttributes: { email: 'Jane@X.com', email_verified: 'true' }, finalUserStatus: 'RESET_REQUIRED', messageAction: 'SUPPRESS' };
  const before = delivered.length;
  const result = await p.forgot('jane@x.com');
  const event = sent.at(-1);
  assert.equal(event.triggerSource, 'UserMigration_ForgotPassword');
  assert.equal(event.version, '1');
  assert.equal(event.userName, 'jane@x.com');
  assert.equal('password' in event.request, false, 'a forgot-password event carries no password');
  assert.deepEqual(result.CodeDeliveryDetails, { AttributeName: 'email', DeliveryMedium: 'EMAIL', Destination: 'J***@X***' });
  const [user] = await p.users();
  assert.equal(user.Username, 'jane@x.com');
  assert.equal(user.UserStatus, 'RESET_REQUIRED');
  assert.deepEqual(delivered.slice(before).map((d) => [d.source, d.user]), [['ForgotPassword', 'jane@x.com']]);
});

test('ForgotPassword refused by the migration looks like a delivery with prevented existence errors, and sends nothing', async () => {
  const p = await pool('username', { PreventUserExistenceErrors: 'ENABLED' });
  answer = { userAttributes: {}, finalUserStatus: null };
  const before = delivered.length;
  const refused = await p.forgot('jane@x.com');
  assert.deepEqual(refused.CodeDeliveryDetails, { AttributeName: 'email', DeliveryMedium: 'EMAIL', Destination: 'j***@x***' });
  assert.equal(sent.at(-1).triggerSource, 'UserMigration_ForgotPassword');
  assert.deepEqual(await p.users(), []);
  assert.equal(delivered.length, before);
  const legacy = await pool('username');
  await assert.rejects(legacy.forgot('jane@x.com'), { code: 'UserNotFoundException' });
});

test('ForgotPassword of a disabled user sends nothing', async () => {
  const p = await pool('username', { PreventUserExistenceErrors: 'ENABLED' });
  answer = { userAttributes: { email: 'jane@x.com', email_verified: 'true' }, finalUserStatus: 'CONFIRMED' };
  await p.signIn('jane@x.com');
  await p.call('AdminDisableUser', { UserPoolId: p.poolId, Username: 'jane@x.com' });
  const before = delivered.length;
  assert.deepEqual((await p.forgot('JANE@x.com')).CodeDeliveryDetails.Destination, 'J***@x***');
  assert.equal(delivered.length, before);
});

test('the trigger events carry version "1", as Cognito sends them', async () => {
  const m = await migrating('username', 'Jane.Doe', { email: 'jane@x.com' });
  assert.equal(m.error, null);
  assert.deepEqual([sent.at(-1).triggerSource, sent.at(-1).version], ['UserMigration_Authentication', '1']);
  const lambda = new (lib('services/lambda.js').LambdaService)({}, lambdaClient);
  for (const triggerSource of ['TokenGeneration_Authentication', 'PostAuthentication_Authentication', 'PreSignUp_SignUp']) {
    assert.equal(lambda.createLambdaEvent({ triggerSource, userAttributes: {} }).version, '1', triggerSource);
  }
});
