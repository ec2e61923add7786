//! Full scans of the legacy pool: every user through parallel chains of `ListUsers` pages, and
//! every group membership through `ListGroups` and `ListUsersInGroup`. Operator-only calls: the
//! trigger never makes them.
//!
//! `ListUsers` pages are sequential within one chain (each page needs the previous page's
//! token), so a large pool is split into chains over disjoint filters, `sub ^= "0"` to
//! `sub ^= "f"` (subs are lowercase hexadecimal UUIDs), fetched side by side. The split is only
//! trusted as far as it is checked: every user a chain returns must carry that chain's prefix
//! (otherwise the server ignores the filter and the scan falls back to one unfiltered chain),
//! and the union is compared with the pool's own count (see [`Verify`]).
//!
//! Every call is retried on throttling with [`Backoff`], on top of the SDK's own few attempts.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::types::UserPoolType;
use cognito_migrate_core::groups::GroupSpec;
use cognito_migrate_core::user::{LegacySignIn, LegacyUser};
use futures::{StreamExt as _, TryStreamExt as _};
use tokio::sync::mpsc;

use crate::error::AwsError;
use crate::limiter::Limiter;
use crate::retry::Backoff;
use crate::sdk_user;

/// `ListUsers`, `ListUsersInGroup` and `ListGroups` return at most 60 a page.
pub const PAGE_SIZE: i32 = 60;

/// `AdminGetUser` calls in flight for one page, when MFA settings are read.
const MFA_READS_IN_FLIGHT: usize = 8;

/// How the scan proves that its chains together saw every user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// Compare with `DescribeUserPool`'s `EstimatedNumberOfUsers`, read before and after the
    /// scan: one cheap call, but only an estimate on a pool that changes meanwhile.
    Estimate,
    /// Run one more chain without a filter alongside the others and require that it found no
    /// user the filtered chains missed (users only it found are still indexed). Exact, but it
    /// makes about N/60 more sequential `ListUsers` calls: as slow as one chain.
    Scan,
    /// No check.
    None,
}

/// What the scan should do.
#[derive(Debug, Clone, Copy)]
pub struct ScanOptions {
    /// Parallel chains: 1 means one unfiltered chain; 2 to 16 share the 16 one-digit `sub`
    /// prefixes, 17 to 256 the 256 two-digit ones.
    pub chains: usize,
    /// The completeness check.
    pub verify: Verify,
}

/// Counters shared by every chain, readable while the scan runs.
#[derive(Debug, Default)]
pub struct ScanStats {
    /// Pages fetched.
    pub pages: AtomicU64,
    /// Retries after throttling or transient failures.
    pub retries: AtomicU64,
    /// Users whose MFA settings were read with `AdminGetUser`.
    pub mfa_reads: AtomicU64,
}

/// The end of a user scan.
#[derive(Debug)]
pub struct ScanReport {
    /// Distinct users found and handed on.
    pub users: u64,
    /// The chains that ran (1 after a fallback).
    pub chains: usize,
    /// Why the scan fell back to one unfiltered chain, when it did.
    pub fallback: Option<String>,
    /// `EstimatedNumberOfUsers` before and after, with [`Verify::Estimate`].
    pub estimate: Option<(i64, i64)>,
    /// Users only the unfiltered check chain found, with [`Verify::Scan`].
    pub missed_by_filters: u64,
    /// Every username found.
    pub usernames: HashSet<String>,
}

impl ScanReport {
    /// A failed completeness check, explained; `None` when the check passed or was off.
    #[must_use]
    pub fn verification_failure(&self) -> Option<String> {
        if self.missed_by_filters > 0 {
            return Some(format!(
                "the {} filtered ListUsers chains missed {} user(s) that an unfiltered scan found \
                 (they were handed on from that scan). This pool's `sub` prefix filters do not \
                 cover every user: use --chains 1.",
                self.chains, self.missed_by_filters
            ));
        }
        let (before, after) = self.estimate?;
        let found = i64::try_from(self.users).unwrap_or(i64::MAX);
        let (low, high) = (before.min(after), before.max(after));
        (found < low || found > high).then(|| {
            format!(
                "the scan found {found} user(s) but DescribeUserPool estimates {before} before and \
                 {after} after the scan. The estimate can lag behind a pool that changes; re-run \
                 with --verify scan for an exact check, or --chains 1 to scan without filters."
            )
        })
    }
}

/// Every group and its members.
#[derive(Debug, Default)]
pub struct GroupIndex {
    /// The groups, in `ListGroups` order.
    pub groups: Vec<GroupSpec>,
    by_user: HashMap<String, Vec<String>>,
}

impl GroupIndex {
    /// Memberships in all.
    #[must_use]
    pub fn memberships(&self) -> u64 {
        self.by_user.values().map(|g| g.len() as u64).sum()
    }

    /// The groups of one user, sorted.
    #[must_use]
    pub fn groups_of(&self, username: &str) -> Vec<String> {
        self.by_user.get(username).cloned().unwrap_or_default()
    }

    /// Members of some group whom the user scan did not find (added or deleted meanwhile).
    #[must_use]
    pub fn members_missing_from(&self, usernames: &HashSet<String>) -> u64 {
        self.by_user
            .keys()
            .filter(|u| !usernames.contains(*u))
            .count() as u64
    }
}

/// The scans of one legacy pool.
#[derive(Debug, Clone)]
pub struct LegacyScan {
    client: Client,
    pool_id: String,
    backoff: Backoff,
    /// Paces `AdminGetUser` when each user's MFA settings are read.
    mfa_reads: Option<Arc<Limiter>>,
    /// One bucket for every `ListUsers` and `ListUsersInGroup` call of the run, whatever the
    /// number of chains (the `UserList` quota is per account).
    list_pace: Arc<Limiter>,
    /// Live counters.
    pub stats: Arc<ScanStats>,
}

/// `ListUsers` and `ListUsersInGroup` calls a second by default: under the account's `UserList`
/// quota of 30, leaving room for the account's other callers.
pub const DEFAULT_LIST_RATE: u32 = 25;

const BY_FILTER: u8 = 1;
const BY_CHECK: u8 = 2;

/// What the chains share: who was seen by which kind of chain, and whether the filters failed.
#[derive(Debug, Default)]
struct Shared {
    seen: Mutex<HashMap<String, u8>>,
    filters_failed: AtomicBool,
    violation: Mutex<Option<String>>,
}

impl Shared {
    /// Marks `username` seen by `by`; true the first time anyone sees it.
    fn mark(&self, username: &str, by: u8) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let flags = seen.entry(username.to_owned()).or_insert(0);
        let fresh = *flags == 0;
        *flags |= by;
        fresh
    }

    fn fail_filters(&self, why: String) {
        let mut violation = self
            .violation
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        violation.get_or_insert(why);
        self.filters_failed.store(true, Ordering::SeqCst);
    }
}

/// The `sub` prefixes the chains split between them.
#[must_use]
pub fn sub_prefixes(chains: usize) -> Vec<String> {
    const HEX: &str = "0123456789abcdef";
    if chains <= 16 {
        HEX.chars().map(String::from).collect()
    } else {
        HEX.chars()
            .flat_map(|a| HEX.chars().map(move |b| format!("{a}{b}")))
            .collect()
    }
}

/// Checks that a user returned for `sub ^= prefix` has such a `sub`; the reason otherwise.
#[must_use]
pub fn filter_violation(prefix: &str, user: &LegacyUser) -> Option<String> {
    match user.sub() {
        Some(sub) if sub.starts_with(prefix) => None,
        Some(_) => Some(format!(
            "ListUsers with the filter `sub ^= \"{prefix}\"` returned a user whose sub does not start with `{prefix}`"
        )),
        None => Some(format!(
            "ListUsers with the filter `sub ^= \"{prefix}\"` returned a user without a sub"
        )),
    }
}

impl LegacyScan {
    /// Scans `pool_id` through `client`.
    #[must_use]
    pub fn new(client: Client, pool_id: impl Into<String>) -> Self {
        Self {
            client,
            pool_id: pool_id.into(),
            backoff: Backoff::default(),
            mfa_reads: None,
            list_pace: Arc::new(Limiter::new(DEFAULT_LIST_RATE)),
            stats: Arc::default(),
        }
    }

    /// At most `per_second` `ListUsers` and `ListUsersInGroup` calls a second across all chains
    /// (default [`DEFAULT_LIST_RATE`]); throttling is still retried with backoff.
    #[must_use]
    pub fn with_list_rate(mut self, per_second: u32) -> Self {
        self.list_pace = Arc::new(Limiter::new(per_second));
        self
    }

    /// Also reads each user's MFA settings (`UserMFASettingList`) with one `AdminGetUser`, at
    /// most `per_second` calls a second; `None` reads only what `ListUsers` shows.
    ///
    /// `ListUsers` reports only the legacy `MFAOptions` (SMS); SMS or TOTP set through
    /// `SetUserMFAPreference`, what current pools use, is visible only per user.
    #[must_use]
    pub fn with_mfa_reads(mut self, per_second: Option<u32>) -> Self {
        self.mfa_reads = per_second.map(|rate| Arc::new(Limiter::new(rate)));
        self
    }

    /// True when the scan reads each user's MFA settings.
    #[must_use]
    pub fn reads_mfa(&self) -> bool {
        self.mfa_reads.is_some()
    }

    /// Adds the factors of `AdminGetUser`'s `UserMFASettingList` to `user`. A user deleted since
    /// its page was listed keeps what `ListUsers` showed.
    async fn read_mfa(&self, limiter: &Limiter, user: &mut LegacyUser) -> Result<(), AwsError> {
        let answer = self
            .backoff
            .run(&self.stats.retries, || {
                let request = self
                    .client
                    .admin_get_user()
                    .user_pool_id(&self.pool_id)
                    .username(&user.username);
                async move {
                    limiter.acquire().await;
                    request
                        .send()
                        .await
                        .map_err(|e| AwsError::from_sdk("AdminGetUser", &e))
                }
            })
            .await;
        let answer = match answer {
            Ok(answer) => answer,
            Err(AwsError::Service { code, .. }) if code == "UserNotFoundException" => {
                return Ok(());
            }
            Err(error) => return Err(error),
        };
        let read = sdk_user::from_admin_get_user(&answer).mfa;
        user.mfa.sms |= read.sms;
        user.mfa.totp |= read.totp;
        self.stats.mfa_reads.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// `EstimatedNumberOfUsers`.
    pub async fn estimated_users(&self) -> Result<i64, AwsError> {
        let pool = self.describe().await?;
        Ok(pool.map_or(0, |p| i64::from(p.estimated_number_of_users())))
    }

    /// How the pool lets users sign in: its `UsernameAttributes` and `AliasAttributes`, which
    /// decide which of a user's identifiers count (see [`LegacySignIn`]).
    pub async fn sign_in(&self) -> Result<LegacySignIn, AwsError> {
        let Some(pool) = self.describe().await? else {
            return Ok(LegacySignIn::default());
        };
        Ok(LegacySignIn {
            username_attributes: pool
                .username_attributes()
                .iter()
                .map(|a| a.as_str().to_owned())
                .collect(),
            alias_attributes: pool
                .alias_attributes()
                .iter()
                .map(|a| a.as_str().to_owned())
                .collect(),
        })
    }

    async fn describe(&self) -> Result<Option<UserPoolType>, AwsError> {
        let answer = self
            .backoff
            .run(&self.stats.retries, || async {
                self.client
                    .describe_user_pool()
                    .user_pool_id(&self.pool_id)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("DescribeUserPool", &e))
            })
            .await?;
        Ok(answer.user_pool)
    }

    /// Every item of a listing paged by `NextToken`: `fetch` sends the request for one page
    /// (given the token) and returns its items and the next token. Throttling is retried.
    async fn all_pages<T, F, Fut>(&self, mut fetch: F) -> Result<Vec<T>, AwsError>
    where
        F: FnMut(Option<String>) -> Fut,
        Fut: Future<Output = Result<(Vec<T>, Option<String>), AwsError>>,
    {
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let (items, next) = self
                .backoff
                .run(&self.stats.retries, || fetch(token.clone()))
                .await?;
            self.stats.pages.fetch_add(1, Ordering::Relaxed);
            all.extend(items);
            token = next.filter(|t| !t.is_empty());
            if token.is_none() {
                return Ok(all);
            }
        }
    }

    /// Every group of the pool, with description, precedence and role: the one `ListGroups`
    /// pager of the legacy pool.
    pub async fn group_specs(&self) -> Result<Vec<GroupSpec>, AwsError> {
        self.all_pages(|token| {
            let request = self
                .client
                .list_groups()
                .user_pool_id(&self.pool_id)
                .limit(PAGE_SIZE)
                .set_next_token(token);
            async move {
                let page = request
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("ListGroups", &e))?;
                let groups = page
                    .groups()
                    .iter()
                    .filter_map(sdk_user::group_spec)
                    .collect();
                Ok((groups, page.next_token))
            }
        })
        .await
    }

    /// Every group and its members, `concurrency` groups at a time.
    pub async fn groups(&self, concurrency: usize) -> Result<GroupIndex, AwsError> {
        let groups = self.group_specs().await?;
        let names: Vec<String> = groups.iter().map(|g| g.name.clone()).collect();
        let members: Vec<(String, Vec<String>)> = futures::stream::iter(names)
            .map(|group| async move {
                let members = self.members(&group).await?;
                Ok::<_, AwsError>((group, members))
            })
            .buffer_unordered(concurrency.max(1))
            .try_collect()
            .await?;
        let mut by_user: HashMap<String, Vec<String>> = HashMap::new();
        for (group, users) in members {
            for user in users {
                by_user.entry(user).or_default().push(group.clone());
            }
        }
        for groups in by_user.values_mut() {
            groups.sort();
            groups.dedup();
        }
        Ok(GroupIndex { groups, by_user })
    }

    async fn members(&self, group: &str) -> Result<Vec<String>, AwsError> {
        self.all_pages(|token| {
            let request = self
                .client
                .list_users_in_group()
                .user_pool_id(&self.pool_id)
                .group_name(group)
                .limit(PAGE_SIZE)
                .set_next_token(token);
            let bucket = self.list_pace.clone();
            async move {
                bucket.acquire().await;
                let page = request
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("ListUsersInGroup", &e))?;
                let members = page
                    .users()
                    .iter()
                    .filter_map(|u| u.username().map(str::to_owned))
                    .collect();
                Ok((members, page.next_token))
            }
        })
        .await
    }

    async fn list_users_page(
        &self,
        filter: Option<&str>,
        token: Option<String>,
    ) -> Result<(Vec<LegacyUser>, Option<String>), AwsError> {
        let page = self
            .backoff
            .run(&self.stats.retries, || {
                let request = self
                    .client
                    .list_users()
                    .user_pool_id(&self.pool_id)
                    .limit(PAGE_SIZE)
                    .set_filter(filter.map(str::to_owned))
                    .set_pagination_token(token.clone());
                let pace = self.list_pace.clone();
                async move {
                    pace.acquire().await;
                    request
                        .send()
                        .await
                        .map_err(|e| AwsError::from_sdk("ListUsers", &e))
                }
            })
            .await?;
        self.stats.pages.fetch_add(1, Ordering::Relaxed);
        let mut users = page
            .users()
            .iter()
            .map(|u| {
                sdk_user::from_user_type(u).ok_or(AwsError::MalformedAnswer {
                    operation: "ListUsers",
                    problem: "a user record without a username",
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(limiter) = &self.mfa_reads {
            futures::stream::iter(users.iter_mut().map(Ok::<_, AwsError>))
                .try_for_each_concurrent(MFA_READS_IN_FLIGHT, |user| self.read_mfa(limiter, user))
                .await?;
        }
        Ok((users, page.pagination_token.filter(|t| !t.is_empty())))
    }

    /// Scans every user and sends them, in pages of new users, to `sink`. With `groups`, each
    /// user's `groups` is filled from it. Returns once every chain is done.
    pub async fn users(
        &self,
        options: ScanOptions,
        groups: Option<&GroupIndex>,
        sink: mpsc::Sender<Vec<LegacyUser>>,
    ) -> Result<ScanReport, AwsError> {
        let shared = Shared::default();
        let estimate_before = if options.verify == Verify::Estimate {
            Some(self.estimated_users().await?)
        } else {
            None
        };
        let mut chains = options.chains.max(1);
        let mut fallback = None;
        if chains == 1 {
            self.unfiltered_chain(&shared, BY_FILTER, groups, &sink)
                .await?;
        } else {
            let queue = Mutex::new(sub_prefixes(chains));
            let workers = chains.min(queue.lock().unwrap_or_else(PoisonError::into_inner).len());
            chains = workers;
            let filtered = futures::future::try_join_all(
                (0..workers).map(|_| self.filtered_chain(&shared, &queue, groups, &sink)),
            );
            if options.verify == Verify::Scan {
                futures::try_join!(
                    filtered,
                    self.unfiltered_chain(&shared, BY_CHECK, groups, &sink)
                )?;
            } else {
                filtered.await?;
            }
            let violation = shared
                .violation
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            if let Some(why) = violation {
                fallback = Some(format!("{why}; the scan fell back to one unfiltered chain"));
                chains = 1;
                if options.verify != Verify::Scan {
                    self.unfiltered_chain(&shared, BY_CHECK, groups, &sink)
                        .await?;
                }
            }
        }
        let estimate_after = if options.verify == Verify::Estimate {
            Some(self.estimated_users().await?)
        } else {
            None
        };
        let seen = shared
            .seen
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        let missed_by_filters =
            if options.verify == Verify::Scan && fallback.is_none() && chains > 1 {
                seen.values().filter(|&&flags| flags == BY_CHECK).count() as u64
            } else {
                0
            };
        Ok(ScanReport {
            users: seen.len() as u64,
            chains,
            fallback,
            estimate: estimate_before.zip(estimate_after),
            missed_by_filters,
            usernames: seen.into_keys().collect(),
        })
    }

    async fn filtered_chain(
        &self,
        shared: &Shared,
        queue: &Mutex<Vec<String>>,
        groups: Option<&GroupIndex>,
        sink: &mpsc::Sender<Vec<LegacyUser>>,
    ) -> Result<(), AwsError> {
        loop {
            let Some(prefix) = queue.lock().unwrap_or_else(PoisonError::into_inner).pop() else {
                return Ok(());
            };
            let filter = format!("sub ^= \"{prefix}\"");
            let mut token = None;
            loop {
                if shared.filters_failed.load(Ordering::SeqCst) {
                    return Ok(());
                }
                let (users, next) = self.list_users_page(Some(&filter), token).await?;
                let mut fresh = Vec::new();
                for user in users {
                    if let Some(why) = filter_violation(&prefix, &user) {
                        shared.fail_filters(why);
                        return Ok(());
                    }
                    if shared.mark(&user.username, BY_FILTER) {
                        fresh.push(with_groups(user, groups));
                    }
                }
                send(sink, fresh).await?;
                token = next;
                if token.is_none() {
                    break;
                }
            }
        }
    }

    async fn unfiltered_chain(
        &self,
        shared: &Shared,
        by: u8,
        groups: Option<&GroupIndex>,
        sink: &mpsc::Sender<Vec<LegacyUser>>,
    ) -> Result<(), AwsError> {
        let mut token = None;
        loop {
            let (users, next) = self.list_users_page(None, token).await?;
            let fresh: Vec<LegacyUser> = users
                .into_iter()
                .filter(|user| shared.mark(&user.username, by))
                .map(|user| with_groups(user, groups))
                .collect();
            send(sink, fresh).await?;
            token = next;
            if token.is_none() {
                return Ok(());
            }
        }
    }
}

fn with_groups(mut user: LegacyUser, groups: Option<&GroupIndex>) -> LegacyUser {
    if let Some(groups) = groups {
        user.groups = groups.groups_of(&user.username);
    }
    user
}

async fn send(sink: &mpsc::Sender<Vec<LegacyUser>>, page: Vec<LegacyUser>) -> Result<(), AwsError> {
    if page.is_empty() {
        return Ok(());
    }
    sink.send(page).await.map_err(|_| AwsError::Stopped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(sub: Option<&str>) -> LegacyUser {
        let attributes = sub
            .map(|s| ("sub".to_owned(), s.to_owned()))
            .into_iter()
            .collect();
        LegacyUser::new("u", attributes)
    }

    #[test]
    fn prefixes_cover_every_lowercase_hex_sub_once() {
        for chains in [2, 16, 17, 256] {
            let prefixes = sub_prefixes(chains);
            for sub in ["0a1b", "f00d", "9c3e", "ab12", "5555"] {
                let matching = prefixes
                    .iter()
                    .filter(|p| sub.starts_with(p.as_str()))
                    .count();
                assert_eq!(matching, 1, "{sub} with {chains} chains");
            }
        }
        assert_eq!(sub_prefixes(16).len(), 16);
        assert_eq!(sub_prefixes(200).len(), 256);
    }

    #[test]
    fn a_user_outside_the_prefix_means_the_filter_was_ignored() {
        assert_eq!(filter_violation("3", &user(Some("3fa8"))), None);
        assert!(filter_violation("3", &user(Some("4fa8"))).is_some());
        assert!(filter_violation("3", &user(None)).is_some());
    }

    #[test]
    fn the_estimate_check_allows_a_pool_that_changed_during_the_scan() {
        let report = |users, estimate, missed| ScanReport {
            users,
            chains: 16,
            fallback: None,
            estimate,
            missed_by_filters: missed,
            usernames: HashSet::new(),
        };
        assert!(
            report(100, Some((100, 100)), 0)
                .verification_failure()
                .is_none()
        );
        assert!(
            report(101, Some((100, 102)), 0)
                .verification_failure()
                .is_none()
        );
        assert!(
            report(99, Some((100, 100)), 0)
                .verification_failure()
                .is_some()
        );
        assert!(report(100, None, 0).verification_failure().is_none());
        assert!(report(100, None, 1).verification_failure().is_some());
    }
}
