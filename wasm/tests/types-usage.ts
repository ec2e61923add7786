// Compiled with `tsc --noEmit --strict` (never run): the published types must describe every
// export precisely. Each @ts-expect-error proves a type is not `any`.
import {
  canonicalUsername,
  info,
  matchKey,
  type CognitoMigrateError,
  type ErrorCode,
  type PackageInfo,
} from 'cognito-migrate';
import {
  canonicalUsernameAsync,
  isMigrationFallbackError,
  migrationAuthFlow,
  migrationSignInFlows,
  signInWithMigration,
  type MigrationAuthFlow,
  type SignInWithMigrationOutput,
} from 'cognito-migrate/amplify';
import type { SignInInput, SignInOutput } from 'aws-amplify/auth';

const canonical: string = canonicalUsername('Name@Example.com');
const key: string = matchKey('Straße');
// @ts-expect-error keys take strings only
matchKey(42);
// @ts-expect-error canonicalUsername returns a string, not a number
const notNumber: number = canonicalUsername('x');

const loaded: PackageInfo = info();
const version: string = loaded.version;
// @ts-expect-error PackageInfo has no such field
loaded.commit;

function describe(code: ErrorCode): string {
  switch (code) {
    case 'EMPTY_IDENTIFIER':
      return 'type something';
    case 'SERIALIZATION':
      return 'internal';
    case 'INVALID_JSON':
    case 'INVALID_EVENT':
    case 'INVALID_USER':
    case 'INVALID_OUTCOME':
    case 'INVALID_INPUT':
    case 'UNKNOWN_TRIGGER_SOURCE':
      return 'fix the input';
    default: {
      const unreachable: never = code;
      return unreachable;
    }
  }
}

try {
  canonicalUsername(' ');
} catch (caught) {
  const error = caught as CognitoMigrateError;
  const message: string = describe(error.code) + error.message;
  // @ts-expect-error codes are a closed set
  const bogus: CognitoMigrateError['code'] = 'NOPE';
  void message;
  void bogus;
}

const flow: MigrationAuthFlow = migrationAuthFlow.password;
// @ts-expect-error the constants are read-only
migrationAuthFlow.srp = 'USER_PASSWORD_AUTH';
const flows: readonly MigrationAuthFlow[] = migrationSignInFlows({ migrationEndsAt: '2026-06-30T00:00:00Z' }, new Date());
const firstFlow: 'USER_PASSWORD_AUTH' | 'USER_SRP_AUTH' = migrationSignInFlows({ migrationFlow: 'srp-first' })[0];
// @ts-expect-error the window's flows are a closed set
migrationSignInFlows({ migrationFlow: 'srp' });
// @ts-expect-error an end date is a Date, a string or a number
migrationSignInFlows({ migrationEndsAt: true });

async function signInPage(username: string, password: string): Promise<boolean> {
  const fakeSignIn = async (input: SignInInput): Promise<SignInOutput> => {
    void input;
    return { isSignedIn: true, nextStep: { signInStep: 'DONE' } };
  };
  const result: SignInWithMigrationOutput = await signInWithMigration(
    { username, password, options: { clientMetadata: { app: 'web' } } },
    { allowMigrationFallback: false, signIn: fakeSignIn },
  );
  const usedFlow: 'USER_SRP_AUTH' | 'USER_PASSWORD_AUTH' = result.authFlowType;
  void usedFlow;
  // @ts-expect-error the switch is a boolean
  await signInWithMigration({ username, password }, { allowMigrationFallback: 'no' });
  await signInWithMigration({ username, password }, { migrationFlow: 'srp-first', migrationEndsAt: new Date(2026, 5, 30) });
  return result.isSignedIn && !isMigrationFallbackError(new Error('x'));
}

async function signUpPage(username: string): Promise<string> {
  const name: string = await canonicalUsernameAsync(username);
  // @ts-expect-error it resolves later: a Promise, not a string
  const notYet: string = canonicalUsernameAsync(username);
  void notYet;
  return name;
}

void [canonical, key, notNumber, version, flow, flows, firstFlow, signInPage, signUpPage];

// The tools build.
import {
  Auditor,
  auditUsers,
  buildEvent,
  parseEvent,
  parseJson,
  simulateTrigger,
  triggerSources,
  type AuditReport,
  type ReasonCode,
  type SimulationResult,
  type TriggerEventJson,
  type TriggerSourceName,
} from 'cognito-migrate/tools';

const sources: TriggerSourceName[] = triggerSources();
const built: TriggerEventJson = buildEvent('UserMigration_Authentication', { userName: 'a', password: 'p' });
// @ts-expect-error only modelled trigger sources
buildEvent('CustomMessage_SignUp', { userName: 'a' });
// @ts-expect-error userName is required
buildEvent('PreSignUp_SignUp', { password: 'p' });
const simulated: SimulationResult = simulateTrigger({
  event: built,
  legacyUsers: [{ Username: 'A' }],
  passwordOutcomes: { A: 'wrong' },
  policy: { collision: 'most-recent', maxCandidates: 2 },
});
// @ts-expect-error outcome words are a closed set
simulateTrigger({ event: built, legacyUsers: [], defaultOutcome: 'maybe' });
const decision:
  | 'approved'
  | 'approved-again'
  | 'refused'
  | 'allowed'
  | 'groups-copied'
  | 'groups-added'
  | 'unchanged'
  | 'failed-closed' = simulated.decision;
const reason: ReasonCode | null = simulated.reasonCode;
// @ts-expect-error reason codes are a closed set
const unknownReason: ReasonCode = 'no_such_code';
const report: AuditReport = auditUsers('{"Users": []}');
const auditor = new Auditor();
auditor.push('{"Users": []}');
const seen: number = auditor.usersSeen;
const finished: AuditReport = auditor.finish();
const firstKey: string | undefined = report.collisions[0]?.key;
const parsed: TriggerEventJson = parseEvent('{}');
const anything: unknown = parseJson('1');
try {
  parseJson('[');
} catch (caught) {
  const error = caught as CognitoMigrateError;
  const where: string = `${error.line ?? 0}:${error.column ?? 0} ${error.field ?? ''}`;
  void where;
}
void [sources, decision, reason, unknownReason, seen, finished, firstKey, parsed, anything];

// Pages without a bundler: one init() for the tools module and the keys module it uses.
import initToolsInPage, { initSync as initToolsInPageSync, matchKey as matchKeyInPage } from 'cognito-migrate/tools/web';
import initKeysInPage, { canonicalUsername as canonicalInPage } from 'cognito-migrate/web';
const pageReady: Promise<void> = initToolsInPage();
// @ts-expect-error the tools module needs the keys module too
initToolsInPageSync({ tools: new Uint8Array() });
const keysReady: Promise<unknown> = initKeysInPage();
void [pageReady, keysReady, matchKeyInPage('x'), canonicalInPage('x')];
