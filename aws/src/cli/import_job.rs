//! The CSV import path of `cognito-migrate finish`: one Cognito user import job per file (`CreateUserImportJob`,
//! the upload to its pre-signed URL, `StartUserImportJob`, `DescribeUserImportJob` until the
//! job ends), then which of the file's users really are in the new pool.
//!
//! A job that succeeded with every user imported is taken at its word. After a failed or
//! stopped job, or one that reports failed or skipped users, each user is looked up
//! (`AdminGetUser`): only those present with this legacy user's `custom:legacy_sub` count as
//! imported; a name held by anyone else is a conflict; the rest stay waiting.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use cognito_migrate_core::attributes::LEGACY_SUB;
use cognito_migrate_core::finish::csv::CsvFile;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::cli::new_pool::ImportJobStatus;
use crate::error::AwsError;
use crate::limiter::Limiter;
use crate::new_pool::NewPool;

/// Uploads import files to their pre-signed URLs over HTTPS (or HTTP, for a local server).
#[derive(Debug, Clone)]
pub struct Uploader {
    client: HttpClient<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl Uploader {
    /// An uploader trusting the system's root certificates.
    pub fn new() -> std::io::Result<Self> {
        let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            client: HttpClient::builder(TokioExecutor::new()).build(connector),
        })
    }

    /// `PUT`s `body` to `url` with the header Cognito's pre-signed URLs are signed with.
    pub async fn put(&self, url: &str, body: String) -> Result<(), String> {
        let request = hyper::Request::put(url)
            .header("x-amz-server-side-encryption", "aws:kms")
            .header("content-type", "text/csv")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("the upload request could not be built: {e}"))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| format!("the upload failed: {e}"))?;
        let status = response.status();
        // Read the body so the connection can be reused; its text helps when S3 refuses.
        let text = response
            .into_body()
            .collect()
            .await
            .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
            .unwrap_or_default();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!(
                "the upload was refused with HTTP {status}: {}",
                text.chars().take(300).collect::<String>()
            ))
        }
    }
}

/// How to run the jobs.
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// The role Cognito writes the job's `CloudWatch` logs with.
    pub logs_role_arn: String,
    /// Job names are this plus the file's number.
    pub job_name_prefix: String,
    /// The first wait between two `DescribeUserImportJob`s; it doubles up to `poll_max`.
    pub poll_first: Duration,
    /// The longest wait between two polls.
    pub poll_max: Duration,
    /// Give up waiting for a job after this long.
    pub timeout: Duration,
}

/// Whether one user of a file is in the new pool after its job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    /// There, and it is this legacy user.
    Imported,
    /// Not there: it stays waiting.
    Missing,
    /// The name is someone else's.
    SomeoneElse,
    /// It could not be checked.
    Unknown(String),
}

/// What one file's job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileOutcome {
    /// The job's id, when it was created.
    pub job_id: Option<String>,
    /// Its last status, when it was described.
    pub status: Option<ImportJobStatus>,
    /// Why the job did not run to the end, if it did not.
    pub problem: Option<String>,
    /// Each user of the file (new username) and whether it is in the pool.
    pub users: Vec<(String, Presence)>,
}

/// Runs one file's job and finds out who was imported. `legacy_subs` maps each new username
/// in the file to its legacy `sub`.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site; a struct would only rename them"
)]
pub async fn import_file(
    pool: &NewPool,
    pool_id: &str,
    settings: &JobSettings,
    index: usize,
    file: &CsvFile,
    legacy_subs: &BTreeMap<String, String>,
    uploader: &Uploader,
    limiters: (&Limiter, &Limiter),
) -> FileOutcome {
    let (resource, read) = limiters;
    let mut outcome = FileOutcome {
        job_id: None,
        status: None,
        problem: None,
        users: Vec::new(),
    };
    let job_name = format!("{}-{index:03}", settings.job_name_prefix);
    resource.acquire().await;
    let (job_id, url) = match pool
        .create_import_job(pool_id, &job_name, &settings.logs_role_arn)
        .await
    {
        Ok(created) => created,
        Err(error) => {
            outcome.problem = Some(error.to_string());
            outcome.users = missing(file);
            return outcome;
        }
    };
    outcome.job_id = Some(job_id.clone());
    if let Err(problem) = uploader.put(&url, file.text.clone()).await {
        outcome.problem = Some(problem);
        outcome.users = missing(file);
        return outcome;
    }
    resource.acquire().await;
    if let Err(error) = pool.start_import_job(pool_id, &job_id).await {
        outcome.problem = Some(error.to_string());
        outcome.users = missing(file);
        return outcome;
    }
    let status = match poll(pool, pool_id, &job_id, settings).await {
        Ok(status) => status,
        Err(problem) => {
            // Whatever the job did so far is checked below, user by user.
            outcome.problem = Some(problem);
            ImportJobStatus {
                status: "Unknown".into(),
                imported: 0,
                skipped: 0,
                failed: 0,
            }
        }
    };
    let trusted = status.status == "Succeeded" && status.failed == 0 && status.skipped == 0;
    if status.status != "Succeeded" && outcome.problem.is_none() {
        outcome.problem = Some(format!("the import job ended {}", status.status));
    }
    outcome.status = Some(status);
    for username in &file.usernames {
        let presence = if trusted {
            Presence::Imported
        } else {
            read.acquire().await;
            check(pool, pool_id, username, legacy_subs.get(username)).await
        };
        outcome.users.push((username.clone(), presence));
    }
    outcome
}

fn missing(file: &CsvFile) -> Vec<(String, Presence)> {
    file.usernames
        .iter()
        .map(|u| (u.clone(), Presence::Missing))
        .collect()
}

async fn check(
    pool: &NewPool,
    pool_id: &str,
    username: &str,
    legacy_sub: Option<&String>,
) -> Presence {
    match pool.user_attributes(pool_id, username).await {
        Ok(None) => Presence::Missing,
        Ok(Some(found)) if legacy_sub.is_some() && found.get(LEGACY_SUB) == legacy_sub => {
            Presence::Imported
        }
        Ok(Some(_)) => Presence::SomeoneElse,
        Err(error) => Presence::Unknown(error.to_string()),
    }
}

/// Describes the job until it ends, waiting longer each time.
async fn poll(
    pool: &NewPool,
    pool_id: &str,
    job_id: &str,
    settings: &JobSettings,
) -> Result<ImportJobStatus, String> {
    let started = tokio::time::Instant::now();
    let mut wait = settings.poll_first;
    loop {
        match pool.describe_import_job(pool_id, job_id).await {
            Ok(status) if status.is_final() => return Ok(status),
            Ok(_) => {}
            Err(AwsError::Service { code, .. }) if code == "TooManyRequestsException" => {}
            Err(error) => return Err(error.to_string()),
        }
        if started.elapsed() + wait > settings.timeout {
            return Err(format!(
                "the import job did not end within {} s",
                settings.timeout.as_secs()
            ));
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(settings.poll_max);
    }
}

#[cfg(test)]
mod tests;
