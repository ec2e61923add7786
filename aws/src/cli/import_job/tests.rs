//! The import job's call sequence on the real Cognito client with mocked answers (moto does not
//! model import jobs), and the upload to a local HTTP server standing in for the pre-signed URL.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cognitoidentityprovider::operation::admin_get_user::{
    AdminGetUserError, AdminGetUserOutput,
};
use aws_sdk_cognitoidentityprovider::operation::create_user_import_job::CreateUserImportJobOutput;
use aws_sdk_cognitoidentityprovider::operation::describe_user_import_job::DescribeUserImportJobOutput;
use aws_sdk_cognitoidentityprovider::operation::start_user_import_job::StartUserImportJobOutput;
use aws_sdk_cognitoidentityprovider::types::error::UserNotFoundException;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, UserImportJobStatusType, UserImportJobType,
};
use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, mock};
use cognito_migrate_core::finish::csv::{CsvHeader, MAX_BYTES_PER_FILE, split_files};

use super::*;
use crate::limiter::Limiter;

/// One request the local server received: its head and body.
type Received = Arc<Mutex<Vec<(String, String)>>>;

/// An HTTP server on 127.0.0.1 that answers 200 to every request and keeps what it got.
fn upload_server() -> (String, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/upload?X-Amz-Signature=abc",
        listener.local_addr().unwrap()
    );
    let received: Received = Arc::default();
    let keep = received.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            keep.lock()
                .unwrap()
                .push((head, String::from_utf8(body).unwrap()));
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (url, received)
}

fn client(rules: &[&Rule]) -> Client {
    let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::Sequential);
    for rule in rules {
        interceptor = interceptor.with_rule(rule);
    }
    let config = aws_sdk_cognitoidentityprovider::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .http_client(aws_smithy_mocks::create_mock_http_client())
        .interceptor(interceptor)
        .build();
    Client::from_conf(config)
}

fn create_job(url: &str) -> Rule {
    let url = url.to_owned();
    mock!(Client::create_user_import_job)
        .match_requests(|r| {
            r.user_pool_id() == Some("eu-west-1_New")
                && r.cloud_watch_logs_role_arn() == Some("arn:aws:iam::1:role/import-logs")
                && r.job_name() == Some("finish-000")
        })
        .then_output(move || {
            CreateUserImportJobOutput::builder()
                .user_import_job(
                    UserImportJobType::builder()
                        .job_id("import-1")
                        .pre_signed_url(&url)
                        .status(UserImportJobStatusType::Created)
                        .build(),
                )
                .build()
        })
}

fn start_job() -> Rule {
    mock!(Client::start_user_import_job)
        .match_requests(|r| r.job_id() == Some("import-1"))
        .then_output(|| StartUserImportJobOutput::builder().build())
}

fn describe(status: UserImportJobStatusType, imported: i64, skipped: i64, failed: i64) -> Rule {
    mock!(Client::describe_user_import_job)
        .match_requests(|r| r.job_id() == Some("import-1"))
        .then_output(move || {
            DescribeUserImportJobOutput::builder()
                .user_import_job(
                    UserImportJobType::builder()
                        .job_id("import-1")
                        .status(status.clone())
                        .imported_users(imported)
                        .skipped_users(skipped)
                        .failed_users(failed)
                        .build(),
                )
                .build()
        })
}

fn found(username: &'static str, legacy_sub: &'static str) -> Rule {
    mock!(Client::admin_get_user)
        .match_requests(move |r| r.username() == Some(username))
        .then_output(move || {
            AdminGetUserOutput::builder()
                .username(username)
                .user_attributes(
                    AttributeType::builder()
                        .name("custom:legacy_sub")
                        .value(legacy_sub)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap()
        })
}

fn not_found(username: &'static str) -> Rule {
    mock!(Client::admin_get_user)
        .match_requests(move |r| r.username() == Some(username))
        .then_error(|| {
            AdminGetUserError::UserNotFoundException(
                UserNotFoundException::builder()
                    .message("User does not exist.")
                    .build(),
            )
        })
}

fn file() -> (CsvFile, BTreeMap<String, String>) {
    let header = CsvHeader::new([
        "cognito:username",
        "email",
        "email_verified",
        "phone_number_verified",
        "cognito:mfa_enabled",
        "custom:legacy_sub",
    ])
    .unwrap();
    let mut rows = Vec::new();
    let mut subs = BTreeMap::new();
    for name in ["ann", "bob", "cy"] {
        let attributes = BTreeMap::from([
            ("email".to_owned(), format!("{name}@example.com")),
            ("email_verified".to_owned(), "true".to_owned()),
            ("custom:legacy_sub".to_owned(), format!("sub-{name}")),
        ]);
        rows.push((
            name.to_owned(),
            header.row(name, &attributes, false).unwrap(),
        ));
        subs.insert(name.to_owned(), format!("sub-{name}"));
    }
    let mut files = split_files(&header, rows, 500_000, MAX_BYTES_PER_FILE).unwrap();
    (files.remove(0), subs)
}

fn settings() -> JobSettings {
    JobSettings {
        logs_role_arn: "arn:aws:iam::1:role/import-logs".into(),
        job_name_prefix: "finish".into(),
        poll_first: Duration::from_millis(5),
        poll_max: Duration::from_millis(20),
        timeout: Duration::from_secs(10),
    }
}

async fn run(client: &Client) -> FileOutcome {
    let (file, subs) = file();
    let fast = Limiter::new(10_000);
    import_file(
        &NewPool::new(client.clone()),
        "eu-west-1_New",
        &settings(),
        0,
        &file,
        &subs,
        &Uploader::new().unwrap(),
        (&fast, &fast),
    )
    .await
}

fn presences(outcome: &FileOutcome) -> Vec<(&str, Presence)> {
    outcome
        .users
        .iter()
        .map(|(u, p)| (u.as_str(), p.clone()))
        .collect()
}

#[tokio::test]
async fn a_job_that_imports_everyone_is_trusted() {
    let (url, received) = upload_server();
    let rules = [
        create_job(&url),
        start_job(),
        describe(UserImportJobStatusType::Pending, 0, 0, 0),
        describe(UserImportJobStatusType::InProgress, 1, 0, 0),
        describe(UserImportJobStatusType::Succeeded, 3, 0, 0),
    ];
    let client = client(&rules.iter().collect::<Vec<_>>());
    let outcome = run(&client).await;
    assert_eq!(outcome.problem, None);
    assert_eq!(outcome.job_id.as_deref(), Some("import-1"));
    assert_eq!(
        presences(&outcome),
        [
            ("ann", Presence::Imported),
            ("bob", Presence::Imported),
            ("cy", Presence::Imported)
        ]
    );
    for rule in &rules {
        assert_eq!(rule.num_calls(), 1);
    }
    let received = received.lock().unwrap();
    assert_eq!(received.len(), 1, "one upload");
    let (head, body) = &received[0];
    assert!(
        head.starts_with("PUT /upload?X-Amz-Signature=abc HTTP/1.1\r\n"),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("x-amz-server-side-encryption: aws:kms\r\n"),
        "{head}"
    );
    assert_eq!(body, &file().0.text);
}

#[tokio::test]
async fn a_partial_import_marks_only_the_users_found_in_the_pool() {
    let (url, received) = upload_server();
    let rules = [
        create_job(&url),
        start_job(),
        describe(UserImportJobStatusType::Succeeded, 1, 1, 1),
        found("ann", "sub-ann"),
        not_found("bob"),
        // A skipped row: the name exists already, and it is someone else.
        found("cy", "sub-of-another-person"),
    ];
    let client = client(&rules.iter().collect::<Vec<_>>());
    let outcome = run(&client).await;
    assert_eq!(
        presences(&outcome),
        [
            ("ann", Presence::Imported),
            ("bob", Presence::Missing),
            ("cy", Presence::SomeoneElse)
        ]
    );
    assert_eq!(outcome.problem, None, "the job itself succeeded");
    for rule in &rules {
        assert_eq!(rule.num_calls(), 1);
    }
    assert_eq!(received.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_failed_job_leaves_everyone_not_found_waiting() {
    let (url, _received) = upload_server();
    let rules = [
        create_job(&url),
        start_job(),
        describe(UserImportJobStatusType::InProgress, 0, 0, 0),
        describe(UserImportJobStatusType::Failed, 1, 0, 2),
        // A failed job may still have created some users before it stopped.
        found("ann", "sub-ann"),
        not_found("bob"),
        not_found("cy"),
    ];
    let client = client(&rules.iter().collect::<Vec<_>>());
    let outcome = run(&client).await;
    assert_eq!(
        outcome.problem.as_deref(),
        Some("the import job ended Failed")
    );
    assert_eq!(
        presences(&outcome),
        [
            ("ann", Presence::Imported),
            ("bob", Presence::Missing),
            ("cy", Presence::Missing)
        ]
    );
    assert_eq!(outcome.status.map(|s| s.failed), Some(2));
    for rule in &rules {
        assert_eq!(rule.num_calls(), 1);
    }
}

#[tokio::test]
async fn a_refused_upload_starts_no_job() {
    let rules = [create_job("http://127.0.0.1:9/closed")];
    let client = client(&rules.iter().collect::<Vec<_>>());
    let outcome = run(&client).await;
    assert!(
        outcome
            .problem
            .as_deref()
            .is_some_and(|p| p.starts_with("the upload failed")),
        "{outcome:?}"
    );
    assert!(outcome.users.iter().all(|(_, p)| *p == Presence::Missing));
}

#[tokio::test]
async fn the_uploaded_file_carries_the_second_factor_the_trigger_would_keep() {
    use cognito_migrate_core::finish::csv::{CsvUser, write_files};
    use cognito_migrate_core::finish::{self, MfaPlan};
    use cognito_migrate_core::migrate::MigrationConfig;
    use cognito_migrate_core::user::LegacyUser;

    let legacy = |name: &str, sms: bool| {
        let mut user = LegacyUser::new(
            name,
            BTreeMap::from([
                ("sub".to_owned(), format!("sub-{name}")),
                ("email".to_owned(), format!("{name}@example.com")),
                ("email_verified".to_owned(), "true".to_owned()),
                ("phone_number".to_owned(), "+15550100".to_owned()),
                ("phone_number_verified".to_owned(), "true".to_owned()),
            ]),
        );
        user.mfa.sms = sms;
        user
    };
    let config = MigrationConfig::default();
    let creations: Vec<_> = [legacy("ann", true), legacy("bob", false)]
        .iter()
        .map(|user| finish::prepare(user, &config).unwrap())
        .collect();
    assert_eq!(creations[0].mfa, MfaPlan::Sms);
    let header = CsvHeader::new([
        "cognito:username",
        "email",
        "email_verified",
        "phone_number",
        "phone_number_verified",
        "cognito:mfa_enabled",
        "custom:legacy_sub",
    ])
    .unwrap();
    let users = creations.iter().map(|c| CsvUser {
        username: c.new_username.clone(),
        attributes: c.attributes.clone(),
        sms_mfa: c.sms_mfa(),
    });
    let import = write_files(&header, users, 500_000, MAX_BYTES_PER_FILE);
    assert!(import.unwritable.is_empty());
    let subs = BTreeMap::from([
        ("ann".to_owned(), "sub-ann".to_owned()),
        ("bob".to_owned(), "sub-bob".to_owned()),
    ]);
    let (url, received) = upload_server();
    let rules = [
        create_job(&url),
        start_job(),
        describe(UserImportJobStatusType::Succeeded, 2, 0, 0),
    ];
    let client = client(&rules.iter().collect::<Vec<_>>());
    let fast = Limiter::new(10_000);
    let outcome = import_file(
        &NewPool::new(client.clone()),
        "eu-west-1_New",
        &settings(),
        0,
        &import.files[0],
        &subs,
        &Uploader::new().unwrap(),
        (&fast, &fast),
    )
    .await;
    assert_eq!(
        presences(&outcome),
        [("ann", Presence::Imported), ("bob", Presence::Imported)]
    );
    let received = received.lock().unwrap();
    let (_, body) = &received[0];
    assert_eq!(
        body,
        "cognito:username,email,email_verified,phone_number,phone_number_verified,cognito:mfa_enabled,custom:legacy_sub\r\n\
         ann,ann@example.com,true,+15550100,true,true,sub-ann\r\n\
         bob,bob@example.com,true,+15550100,true,false,sub-bob\r\n"
    );
}
