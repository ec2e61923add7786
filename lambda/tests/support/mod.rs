//! Shared test support: one moto server per test binary, a fresh legacy pool, new pool and
//! ledger table per test, trigger fixtures, an AWS call recorder and a log capture.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the support module"
)]

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_cognitoidentityprovider::operation::admin_initiate_auth::AdminInitiateAuthInput;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, ExplicitAuthFlowsType, MessageActionType, SmsMfaSettingsType,
    UsernameConfigurationType,
};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_types::config_bag::ConfigBag;
use cognito_migrate_aws::Clients;
use cognito_migrate_aws::cli::legacy_scan::{LegacyScan, ScanOptions, Verify};
use cognito_migrate_aws::clients::{LegacyAccess, trigger_retries, trigger_timeouts};
use cognito_migrate_aws::ledger::{LEGACY_POOL_SK, Ledger, LedgerRecord, META_PK, item_to_record};
use cognito_migrate_aws::legacy_pool::LegacyPool;
use cognito_migrate_aws::new_pool::NewPool;
use cognito_migrate_core::user::LegacyUser;
use cognito_migrate_lambda::Deps;
use cognito_migrate_lambda::config::Config;
use serde_json::Value;

pub type Idp = aws_sdk_cognitoidentityprovider::Client;
pub type Ddb = aws_sdk_dynamodb::Client;

/// The moto server for this test binary: `MOTO_ENDPOINT`, or one started on a free port that
/// stops when the test process ends.
pub fn moto_endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| {
        if let Ok(endpoint) = std::env::var("MOTO_ENDPOINT") {
            return endpoint;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let home = std::env::var("HOME").unwrap();
        let cache = std::env::var("COGNITO_MIGRATE_CACHE")
            .unwrap_or(format!("{home}/.cache/cognito-migrate"));
        let python = format!("{cache}/venv/bin/python");
        assert!(
            std::path::Path::new(&format!("{cache}/venv/bin/moto_server")).exists(),
            "moto is missing from {cache}/venv: run scripts/bootstrap.sh"
        );
        // One request at a time: tests here send ledger transactions concurrently, which moto's
        // own server can lose (see the script).
        let serial = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/moto_serial.py");
        // A watchdog shell stops the server once this process is gone, however the tests end.
        let script = format!(
            "{python} {serial} 127.0.0.1 {port} >/dev/null 2>&1 & m=$!; \
             while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; kill $m",
            pid = std::process::id()
        );
        #[expect(
            clippy::zombie_processes,
            reason = "the watchdog outlives this process by design"
        )]
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "moto did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        format!("http://127.0.0.1:{port}")
    })
}

/// SDK configuration for moto: dummy credentials, the trigger's timeouts and retries.
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "tests"))
        .endpoint_url(endpoint)
        .timeout_config(trigger_timeouts())
        .retry_config(trigger_retries())
        .load()
        .await
}

/// SDK configuration for setting up and inspecting moto in tests: patient timeouts, because
/// moto answers slowly when many tests create pools at once, and setup is not what is tested.
pub async fn setup_sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "tests"))
        .endpoint_url(endpoint)
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_timeout(std::time::Duration::from_secs(30))
                .build(),
        )
        .load()
        .await
}

/// Records the operation name of every AWS call made through the clients it is attached to,
/// and the `SECRET_HASH` of password checks.
#[derive(Debug, Clone, Default)]
pub struct CallLog {
    calls: Arc<Mutex<Vec<String>>>,
    secret_hashes: Arc<Mutex<Vec<Option<String>>>>,
}

impl CallLog {
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
    pub fn clear(&self) {
        self.calls.lock().unwrap().clear();
    }
    pub fn secret_hashes(&self) -> Vec<Option<String>> {
        self.secret_hashes.lock().unwrap().clone()
    }
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "CallLog"
    }

    fn read_before_serialization(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(metadata) = cfg.load::<Metadata>() {
            self.calls.lock().unwrap().push(metadata.name().to_owned());
        }
        if let Some(input) = context.input().downcast_ref::<AdminInitiateAuthInput>() {
            let hash = input
                .auth_parameters()
                .and_then(|p| p.get("SECRET_HASH"))
                .cloned();
            self.secret_hashes.lock().unwrap().push(hash);
        }
        Ok(())
    }
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A legacy pool, a new pool and a ledger table of one test, in moto.
pub struct Stack {
    pub endpoint: String,
    pub sdk: SdkConfig,
    pub idp: Idp,
    pub ddb: Ddb,
    pub legacy_pool_id: String,
    pub legacy_client_id: String,
    pub legacy_secret_client_id: String,
    pub legacy_client_secret: String,
    pub new_pool_id: String,
    pub table: String,
    pub log: CallLog,
}

pub const PASSWORD: &str = "Correct-Horse-1";

impl Stack {
    #[expect(
        clippy::too_many_lines,
        reason = "one straight-line setup of pools, clients, groups and the table reads best whole"
    )]
    pub async fn new() -> Self {
        let endpoint = moto_endpoint().to_owned();
        let sdk = sdk_config(&endpoint).await;
        let (idp, ddb) = {
            let setup = setup_sdk_config(&endpoint).await;
            (Idp::new(&setup), Ddb::new(&setup))
        };
        let legacy = idp
            .create_user_pool()
            .pool_name(unique("legacy"))
            .username_configuration(
                UsernameConfigurationType::builder()
                    .case_sensitive(true)
                    .build()
                    .unwrap(),
            )
            .alias_attributes(aws_sdk_cognitoidentityprovider::types::AliasAttributeType::Email)
            .alias_attributes(
                aws_sdk_cognitoidentityprovider::types::AliasAttributeType::PreferredUsername,
            )
            .send()
            .await
            .unwrap();
        let legacy_pool_id = legacy.user_pool().unwrap().id().unwrap().to_owned();
        let flows = [
            ExplicitAuthFlowsType::AllowAdminUserPasswordAuth,
            ExplicitAuthFlowsType::AllowRefreshTokenAuth,
        ];
        let plain = idp
            .create_user_pool_client()
            .user_pool_id(&legacy_pool_id)
            .client_name("legacy-app")
            .set_explicit_auth_flows(Some(flows.to_vec()))
            .send()
            .await
            .unwrap();
        let secret = idp
            .create_user_pool_client()
            .user_pool_id(&legacy_pool_id)
            .client_name("legacy-app-with-secret")
            .generate_secret(true)
            .set_explicit_auth_flows(Some(flows.to_vec()))
            .send()
            .await
            .unwrap();
        let secret = secret.user_pool_client().unwrap();
        let new_pool = idp
            .create_user_pool()
            .pool_name(unique("new"))
            .username_configuration(
                UsernameConfigurationType::builder()
                    .case_sensitive(false)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        let table = unique("ledger");
        ddb.create_table()
            .table_name(&table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("pk")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("sk")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("pk")
                    .key_type(KeyType::Hash)
                    .build()
                    .unwrap(),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("sk")
                    .key_type(KeyType::Range)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        Self {
            endpoint,
            sdk,
            idp,
            ddb,
            legacy_pool_id,
            legacy_client_id: plain
                .user_pool_client()
                .unwrap()
                .client_id()
                .unwrap()
                .to_owned(),
            legacy_secret_client_id: secret.client_id().unwrap().to_owned(),
            legacy_client_secret: secret.client_secret().unwrap().to_owned(),
            new_pool_id: new_pool.user_pool().unwrap().id().unwrap().to_owned(),
            table,
            log: CallLog::default(),
        }
    }

    /// The environment a deployed trigger would have, plus `extra`.
    pub fn env(&self, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut env: BTreeMap<String, String> = [
            ("LEGACY_USER_POOL_ID", self.legacy_pool_id.as_str()),
            ("LEGACY_CLIENT_ID", self.legacy_client_id.as_str()),
            ("LEGACY_ENDPOINT_URL", self.endpoint.as_str()),
            ("LEDGER_TABLE", self.table.as_str()),
            ("NEW_USER_POOL_ID", self.new_pool_id.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (k, v) in extra {
            env.insert((*k).to_owned(), (*v).to_owned());
        }
        env
    }

    pub fn config(&self, extra: &[(&str, &str)]) -> Config {
        let env = self.env(extra);
        Config::from_lookup(|name| env.get(name).cloned()).unwrap()
    }

    /// Clients over moto, each recording its calls in `self.log`.
    pub async fn clients(&self, config: &Config) -> Clients {
        let cognito = |sdk: &SdkConfig| {
            aws_sdk_cognitoidentityprovider::config::Builder::from(sdk)
                .interceptor(self.log.clone())
        };
        let legacy_client = legacy_client(&self.sdk, config).await;
        let legacy_client = Idp::from_conf(
            legacy_client
                .config()
                .to_builder()
                .interceptor(self.log.clone())
                .build(),
        );
        Clients {
            legacy: LegacyPool::new(legacy_client, &config.legacy),
            new_pool: NewPool::new(Idp::from_conf(cognito(&self.sdk).build())),
            ledger: Ledger::new(
                Ddb::from_conf(
                    aws_sdk_dynamodb::config::Builder::from(&self.sdk)
                        .interceptor(self.log.clone())
                        .build(),
                ),
                &config.ledger_table,
            )
            .with_counters(true),
        }
    }

    pub async fn deps(&self, extra: &[(&str, &str)]) -> Deps {
        let config = self.config(extra);
        let clients = self.clients(&config).await;
        Deps::ready(config, clients)
    }

    pub fn ledger(&self) -> Ledger {
        Ledger::new(self.ddb.clone(), &self.table)
    }

    /// A confirmed legacy user with a permanent password.
    pub async fn create_user(&self, username: &str, attributes: &[(&str, &str)], password: &str) {
        self.create_user_with_temporary(username, attributes, "Temporary-Pass-9")
            .await;
        self.idp
            .admin_set_user_password()
            .user_pool_id(&self.legacy_pool_id)
            .username(username)
            .password(password)
            .permanent(true)
            .send()
            .await
            .unwrap();
    }

    /// A legacy user that still has its temporary password (`FORCE_CHANGE_PASSWORD`).
    pub async fn create_user_with_temporary(
        &self,
        username: &str,
        attributes: &[(&str, &str)],
        temporary: &str,
    ) {
        let mut request = self
            .idp
            .admin_create_user()
            .user_pool_id(&self.legacy_pool_id)
            .username(username)
            .temporary_password(temporary)
            .message_action(MessageActionType::Suppress);
        for (name, value) in attributes {
            request = request.user_attributes(
                AttributeType::builder()
                    .name(*name)
                    .value(*value)
                    .build()
                    .unwrap(),
            );
        }
        request.send().await.unwrap();
    }

    pub async fn enable_sms_mfa(&self, username: &str) {
        self.idp
            .admin_set_user_mfa_preference()
            .user_pool_id(&self.legacy_pool_id)
            .username(username)
            .sms_mfa_settings(
                SmsMfaSettingsType::builder()
                    .enabled(true)
                    .preferred_mfa(true)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }

    /// Adds a legacy user to legacy groups, creating each group the pool does not have yet.
    pub async fn add_to_groups(&self, username: &str, groups: &[&str]) {
        for group in groups {
            let exists = self
                .idp
                .get_group()
                .user_pool_id(&self.legacy_pool_id)
                .group_name(*group)
                .send()
                .await
                .is_ok();
            if !exists {
                self.idp
                    .create_group()
                    .user_pool_id(&self.legacy_pool_id)
                    .group_name(*group)
                    .send()
                    .await
                    .unwrap();
            }
            self.idp
                .admin_add_user_to_group()
                .user_pool_id(&self.legacy_pool_id)
                .username(username)
                .group_name(*group)
                .send()
                .await
                .unwrap();
        }
    }

    pub async fn disable_user(&self, username: &str) {
        self.idp
            .admin_disable_user()
            .user_pool_id(&self.legacy_pool_id)
            .username(username)
            .send()
            .await
            .unwrap();
    }

    /// Runs the operator's index over the legacy pool into the ledger, with the CLI's scan: the
    /// pool's sign-in settings, groups, then the users (one chain), each page filed as it
    /// arrives.
    pub async fn index(&self) {
        let scan = LegacyScan::new(Idp::new(&self.sdk), &self.legacy_pool_id);
        let groups = scan.groups(1).await.unwrap();
        let ledger = self.ledger();
        ledger
            .record_legacy_sign_in(&scan.sign_in().await.unwrap(), 1_700_000_000_000)
            .await
            .unwrap();
        let (sink, mut pages) = tokio::sync::mpsc::channel::<Vec<LegacyUser>>(4);
        let writer = async move {
            while let Some(users) = pages.recv().await {
                for result in ledger
                    .upsert_indexed_users(&users, 1_700_000_000_000, 16)
                    .await
                {
                    result.unwrap();
                }
            }
        };
        let options = ScanOptions {
            chains: 1,
            verify: Verify::None,
        };
        let (report, ()) = tokio::join!(scan.users(options, Some(&groups), sink), writer);
        report.unwrap();
    }

    /// Removes the legacy pool's sign-in settings from the ledger, as before any index.
    pub async fn forget_legacy_sign_in(&self) {
        self.ddb
            .delete_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(META_PK.into()))
            .key("sk", AttributeValue::S(LEGACY_POOL_SK.into()))
            .send()
            .await
            .unwrap();
    }

    /// Every user item of the ledger (not counters, not claims), sorted by key, as records.
    pub async fn ledger_items(&self) -> Vec<(String, String, LedgerRecord)> {
        let scan = self
            .ddb
            .scan()
            .table_name(&self.table)
            .send()
            .await
            .unwrap();
        let mut items: Vec<(String, String, LedgerRecord)> = scan
            .items()
            .iter()
            .filter(|item| item["pk"].as_s().is_ok_and(|pk| pk.starts_with("k#")))
            .map(|item| {
                (
                    item["pk"].as_s().unwrap().clone(),
                    item["sk"].as_s().unwrap().clone(),
                    item_to_record(item).unwrap(),
                )
            })
            .collect();
        items.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        items
    }

    /// The raw items, for comparing the ledger before and after.
    pub async fn raw_ledger(&self) -> String {
        let scan = self
            .ddb
            .scan()
            .table_name(&self.table)
            .send()
            .await
            .unwrap();
        let mut items: Vec<String> = scan
            .items()
            .iter()
            .map(|item| {
                let sorted: BTreeMap<_, _> = item
                    .iter()
                    .map(|(k, v)| (k.clone(), format!("{v:?}")))
                    .collect();
                format!("{sorted:?}")
            })
            .collect();
        items.sort();
        items.join("\n")
    }
}

/// A trigger fixture from `tests/fixtures/`.
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A sign-in migration event for `user_name` and `password`.
pub fn sign_in(user_name: &str, password: &str) -> Value {
    let mut event = fixture("user_migration_authentication");
    event["userName"] = user_name.into();
    event["request"]["password"] = password.into();
    event
}

/// A shared buffer the JSON log lines are written to.
#[derive(Debug, Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }

    pub fn lines(&self) -> Vec<Value> {
        self.text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuffer {
    type Writer = Self;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Captures the trigger's JSON logs at `rust_log` on this thread until the guard drops.
pub fn capture_logs_at(rust_log: &str) -> (LogBuffer, tracing::subscriber::DefaultGuard) {
    let buffer = LogBuffer::default();
    let guard = tracing::subscriber::set_default(cognito_migrate_lambda::logging::subscriber_with(
        buffer.clone(),
        cognito_migrate_lambda::logging::filter(Some(rust_log)),
    ));
    (buffer, guard)
}

/// Captures the trigger's JSON logs on this thread until the guard drops.
pub fn capture_logs() -> (LogBuffer, tracing::subscriber::DefaultGuard) {
    let buffer = LogBuffer::default();
    let guard = tracing::subscriber::set_default(cognito_migrate_lambda::logging::subscriber(
        buffer.clone(),
    ));
    (buffer, guard)
}

/// The trigger's legacy client for `config`, through the one legacy-client builder.
pub async fn legacy_client(sdk: &SdkConfig, config: &Config) -> Idp {
    cognito_migrate_aws::clients::legacy_client(
        sdk,
        &LegacyAccess::of_trigger(&config.legacy),
        &config.legacy.user_pool_id,
    )
    .await
}
